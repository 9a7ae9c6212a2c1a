/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backendd_args.c - hvsec-vtpm-backendd's command line, as strict as
 * hvsec-vtpmd's: every option at most once, nothing left over, numbers
 * in one spelling.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vtpm-instance/xen/backendd.h"

int bd_parse_devspec(const char *s, uint32_t *g, uint32_t *n)
{
	char gs[12];
	const char *slash;
	size_t glen;
	uint32_t gv, nv;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	glen = (size_t)(slash - s);
	if (glen == 0 || glen >= sizeof(gs))
		return -EINVAL;
	memcpy(gs, s, glen);
	gs[glen] = '\0';
	if (vtpmd_parse_u32(gs, VTPMD_DOMID_MAX, &gv) ||
	    vtpmd_parse_u32(slash + 1, VTPMD_DEVID_MAX, &nv))
		return -EINVAL;
	*g = gv;
	*n = nv;
	return 0;
}

enum {
	OPT_HELP = 1,
	OPT_FOREGROUND,
	OPT_LOG,
	OPT_STATE_ROOT,
	OPT_ONCE_FOR,
	OPT_N,
};

static const struct option options[] = {
	{"help", no_argument, NULL, OPT_HELP},
	{"foreground", no_argument, NULL, OPT_FOREGROUND},
	{"log", required_argument, NULL, OPT_LOG},
	{"state-root", required_argument, NULL, OPT_STATE_ROOT},
	{"once-for", required_argument, NULL, OPT_ONCE_FOR},
	{NULL, 0, NULL, 0},
};

static const char *opt_name(int id)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

int bd_parse_args(int argc, char **argv, struct bd_cfg *cfg, char *why,
		  size_t why_len)
{
	bool seen[OPT_N] = {false};
	char v[64];
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->state_root = BD_STATE_ROOT_DEFAULT;
	why[0] = '\0';
	opterr = 0; /* our messages name the option; getopt's do not */
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			vtpmd_sanitize(argv[optind - 1], v, sizeof(v));
			snprintf(why, why_len, "%s: %s", v,
				 c == ':' ? "needs a value" : "unknown option");
			return -EINVAL;
		}
		if (seen[c]) {
			snprintf(why, why_len, "--%s given twice", opt_name(c));
			return -EINVAL;
		}
		seen[c] = true;
		switch (c) {
		case OPT_HELP:
			cfg->help = true;
			return 0;
		case OPT_FOREGROUND:
			break; /* the only mode: a supervisor daemonizes */
		case OPT_LOG:
		case OPT_STATE_ROOT:
			if (!optarg[0]) {
				snprintf(why, why_len, "--%s: empty path",
					 opt_name(c));
				return -EINVAL;
			}
			if (c == OPT_LOG)
				cfg->log_path = optarg;
			else
				cfg->state_root = optarg;
			break;
		case OPT_ONCE_FOR:
			if (bd_parse_devspec(optarg, &cfg->once_g,
					     &cfg->once_n)) {
				vtpmd_sanitize(optarg, v, sizeof(v));
				snprintf(why, why_len,
					 "--once-for \"%s\": not G/N (a domid "
					 "0..%u, a device number 0..%u)",
					 v, VTPMD_DOMID_MAX, VTPMD_DEVID_MAX);
				return -EINVAL;
			}
			cfg->once = true;
			break;
		}
	}
	if (optind < argc) {
		vtpmd_sanitize(argv[optind], v, sizeof(v));
		snprintf(why, why_len, "unexpected argument \"%s\"", v);
		return -EINVAL;
	}
	return 0;
}
