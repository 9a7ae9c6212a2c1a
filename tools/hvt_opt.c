/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_opt.c - per-command options: --long, --long=value, --long value,
 * -s, -s value, "--" ending options; --help and (where the command has
 * it) --json everywhere.  Options and positional arguments may be mixed,
 * as in xl ("hvsec list --label web1").
 */
#include <stdarg.h>
#include <string.h>

#include "tools/hvsec.h"

static int n_opts(const struct hvt_cmd *cmd)
{
	int n = 0;

	while (cmd->opts && cmd->opts[n].name)
		n++;
	return n;
}

const char *hvt_opt(const struct hvt_args *a, const char *name)
{
	const struct hvt_opt *o = a->cmd->opts;

	for (int i = 0; o && o[i].name; i++)
		if (!strcmp(o[i].name, name))
			return a->val[i];
	return NULL;
}

void hvt_cmd_help(const struct hvt_cmd *cmd, FILE *f)
{
	int n = n_opts(cmd);

	fprintf(f, "usage: %s %s%s%s%s\n", HVT_PROG, cmd->name,
		n || cmd->json ? " [options]" : "", cmd->args ? " " : "",
		cmd->args ? cmd->args : "");
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->help)
		fprintf(f, "\n%s", cmd->help);
	fprintf(f, "\noptions:\n");
	for (int i = 0; i < n; i++) {
		const struct hvt_opt *o = &cmd->opts[i];
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 o->short_name, o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
	if (cmd->json)
		fprintf(f, "  %-26s %s\n", "    --json",
			"machine-readable output (JSON)");
	fprintf(f, "  %-26s %s\n", "-h, --help", "this help");
	fprintf(f, "\nexit status: 0 ok, 1 denied or blocked, 2 usage or "
		   "input error, 3 hvsecd unreachable or failed\n");
}

int hvt_usage(const struct hvt_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: %s: ", HVT_PROG, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s %s%s%s%s\n", HVT_PROG, cmd->name,
		n_opts(cmd) || cmd->json ? " [options]" : "",
		cmd->args ? " " : "", cmd->args ? cmd->args : "");
	fprintf(stderr, "Try '%s %s --help'.\n", HVT_PROG, cmd->name);
	return HVT_USAGE;
}

static int find_long(const struct hvt_cmd *cmd, const char *name, size_t len)
{
	int n = n_opts(cmd);

	for (int i = 0; i < n; i++)
		if (strlen(cmd->opts[i].name) == len &&
		    !strncmp(cmd->opts[i].name, name, len))
			return i;
	return -1;
}

static int find_short(const struct hvt_cmd *cmd, char c)
{
	int n = n_opts(cmd);

	for (int i = 0; i < n; i++)
		if (cmd->opts[i].short_name == c)
			return i;
	return -1;
}

int hvt_opt_parse(struct hvt *t, const struct hvt_cmd *cmd, int argc,
		  char **argv, struct hvt_args *a)
{
	bool only_pos = false;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	if (cmd->raw) {
		if (argc >= 1 &&
		    (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
			hvt_cmd_help(cmd, stdout);
			return HVT_OK;
		}
		if (argc < cmd->min_pos)
			return hvt_usage(cmd, "missing %s", cmd->args);
		a->raw = argv;
		a->n_raw = argc;
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		char *s = argv[i];
		const char *eq, *val;
		int k;

		if (only_pos || s[0] != '-' || s[1] == '\0') {
			if (a->n_pos >= HVT_POS_MAX || a->n_pos >= cmd->max_pos)
				return hvt_usage(cmd,
						 "unexpected argument '%s'", s);
			a->pos[a->n_pos++] = s;
			continue;
		}
		if (!strcmp(s, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			hvt_cmd_help(cmd, stdout);
			return HVT_OK;
		}
		if (!strcmp(s, "--json")) {
			if (!cmd->json)
				return hvt_usage(cmd, "--json is not "
						      "available here");
			t->json = true;
			continue;
		}
		if (s[1] == '-') {
			eq = strchr(s + 2, '=');
			k = find_long(cmd, s + 2,
				      eq ? (size_t)(eq - s - 2)
					 : strlen(s + 2));
			val = eq ? eq + 1 : NULL;
		} else {
			if (s[2] != '\0')
				return hvt_usage(cmd,
						 "unknown option '%s' "
						 "(one letter per dash)",
						 s);
			k = find_short(cmd, s[1]);
			val = NULL;
		}
		if (k < 0)
			return hvt_usage(cmd, "unknown option '%s'", s);
		if (!cmd->opts[k].arg) {
			if (val)
				return hvt_usage(cmd, "--%s takes no value",
						 cmd->opts[k].name);
			a->val[k] = "";
			continue;
		}
		if (!val) {
			if (i + 1 >= argc)
				return hvt_usage(cmd, "%s needs %s", s,
						 cmd->opts[k].arg);
			val = argv[++i];
		}
		a->val[k] = val;
	}
	if (a->n_pos < cmd->min_pos)
		return hvt_usage(cmd, "missing %s",
				 cmd->args ? cmd->args : "arguments");
	return -1;
}
