/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - hvsec-polc, the policy compiler's command line.
 *
 * Every command is a thin driver over libpolc (XML in, DOT/XML out) and
 * libacm (the very engine the hypervisor runs), so "decide" and
 * "update-check" answer exactly what a host would answer for the same
 * blob and state.
 *
 * Exit status, for every command: 0 success (or permit), 1 a negative
 * answer (deny, update blocked), 2 an error.  Errors go to stderr and name
 * the file and the line, field, byte offset or argument at fault; answers
 * go to stdout with the verdict on the first line so scripts can read it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-compiler/polc.h"

#define PROG		  "hvsec-polc"
#define POLC_TOOL_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_NO = 1, EXIT_ERR = 2 };

/* How many names of a type set to print before "...": sets of thousands
 * of types would otherwise bury the one line that matters. */
#define SET_PRINT_MAX 12

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void err(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

/* ------------------------------------------------------------------ */
/* Command-line parsing                                                */
/* ------------------------------------------------------------------ */

enum opt_id {
	OPT_HELP = 1,
	OPT_OUTPUT,
	OPT_SELF_CONFLICT,
	OPT_QUIET,
	OPT_SHARE,
	OPT_CREATE,
	OPT_RESOURCE,
	OPT_AUTHORIZE,
	OPT_RUNNING,
	OPT_HISTORICAL,
	OPT_EXPLAIN,
	OPT__COUNT
};

struct opt_spec {
	const char *name; /* long form, with the dashes */
	char short_name;  /* 0: none */
	bool takes_arg;
	enum opt_id id;
};

struct args {
	const char *cmd;
	const char **pos; /* positional arguments, argv order */
	size_t n_pos;
	bool set[OPT__COUNT];
	const char *val[OPT__COUNT];
	unsigned modes; /* how many decide modes were given */
	enum opt_id mode;
};

struct command {
	const char *name;
	int (*run)(struct args *a);
	const struct opt_spec *opts;
	size_t min_pos, max_pos;
	const char *usage;
	const char *help;
};

static const struct opt_spec compile_opts[] = {
	{"--help", 'h', false, OPT_HELP},
	{"--output", 'o', true, OPT_OUTPUT},
	{"--self-conflict-warning", 0, false, OPT_SELF_CONFLICT},
	{"--quiet", 'q', false, OPT_QUIET},
	{NULL, 0, false, 0},
};

static const struct opt_spec out_opts[] = {
	{"--help", 'h', false, OPT_HELP},
	{"--output", 'o', true, OPT_OUTPUT},
	{"--self-conflict-warning", 0, false, OPT_SELF_CONFLICT},
	{NULL, 0, false, 0},
};

static const struct opt_spec plain_opts[] = {
	{"--help", 'h', false, OPT_HELP},
	{"--self-conflict-warning", 0, false, OPT_SELF_CONFLICT},
	{NULL, 0, false, 0},
};

static const struct opt_spec decide_opts[] = {
	{"--help", 'h', false, OPT_HELP},
	{"--share", 0, false, OPT_SHARE},
	{"--create", 0, false, OPT_CREATE},
	{"--resource", 0, false, OPT_RESOURCE},
	{"--authorize", 0, false, OPT_AUTHORIZE},
	{"--running", 0, true, OPT_RUNNING},
	{"--historical", 0, false, OPT_HISTORICAL},
	{"--explain", 'v', false, OPT_EXPLAIN},
	{NULL, 0, false, 0},
};

static const struct opt_spec update_opts[] = {
	{"--help", 'h', false, OPT_HELP},
	{"--running", 0, true, OPT_RUNNING},
	{"--share", 0, true, OPT_SHARE},
	{"--resource", 0, true, OPT_RESOURCE},
	{"--explain", 'v', false, OPT_EXPLAIN},
	{NULL, 0, false, 0},
};

static const struct command *find_command(const char *name);
static void usage(FILE *f);

static void cmd_usage(FILE *f, const struct command *c)
{
	fprintf(f, "usage: " PROG " %s %s\n", c->name, c->usage);
}

static bool is_decide_mode(enum opt_id id)
{
	return id == OPT_SHARE || id == OPT_CREATE || id == OPT_RESOURCE ||
	       id == OPT_AUTHORIZE;
}

/* Matches argv[*i] against the command's options; consumes its value. */
static int parse_opt(const struct command *c, struct args *a, int argc,
		     char **argv, int *i)
{
	const char *arg = argv[*i], *value = NULL;
	const struct opt_spec *o;
	size_t name_len;
	bool is_long = arg[1] == '-';

	if (is_long) {
		const char *eq = strchr(arg, '=');

		name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		value = eq ? eq + 1 : NULL;
	} else {
		name_len = 2;
		value = arg[2] ? arg + 2 : NULL;
	}
	for (o = c->opts; o->name; o++) {
		if (is_long ? strlen(o->name) == name_len &&
				      !strncmp(o->name, arg, name_len)
			    : o->short_name && o->short_name == arg[1])
			break;
	}
	if (!o->name) {
		err("%s: unknown option '%s'", c->name, arg);
		return -1;
	}
	if (!o->takes_arg && value) {
		err("%s: option '%s' takes no value", c->name, o->name);
		return -1;
	}
	if (o->takes_arg && !value) {
		if (*i + 1 >= argc) {
			err("%s: option '%s' needs a value", c->name, o->name);
			return -1;
		}
		value = argv[++*i];
	}
	if (c->opts == decide_opts && is_decide_mode(o->id) && !a->set[o->id]) {
		a->modes++;
		a->mode = o->id;
	}
	a->set[o->id] = true;
	a->val[o->id] = value;
	return 0;
}

static int parse_args(const struct command *c, struct args *a, int argc,
		      char **argv)
{
	bool opts_done = false;
	int i;

	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	if (!a->pos) {
		err("out of memory");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!opts_done && !strcmp(arg, "--")) {
			opts_done = true;
			continue;
		}
		if (!opts_done && arg[0] == '-' && arg[1]) {
			if (parse_opt(c, a, argc, argv, &i))
				return -1;
			continue;
		}
		a->pos[a->n_pos++] = arg;
	}
	if (a->set[OPT_HELP])
		return 0;
	if (a->n_pos < c->min_pos || a->n_pos > c->max_pos) {
		if (c->min_pos == c->max_pos)
			err("%s: expected %zu argument%s, got %zu", c->name,
			    c->min_pos, c->min_pos == 1 ? "" : "s", a->n_pos);
		else
			err("%s: expected %zu to %zu arguments, got %zu",
			    c->name, c->min_pos, c->max_pos, a->n_pos);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loading and writing                                                 */
/* ------------------------------------------------------------------ */

/* A binary policy read from a file and loaded by the engine. */
struct blob {
	const char *path;
	uint8_t *buf;
	size_t len;
	void *mem;
	const struct acm_policy *p;
	struct acm_policy_info info;
};

static bool looks_binary(const uint8_t *buf, size_t len)
{
	static const uint8_t magic[4] = {'H', 'V', 'S', 'P'};

	return len >= sizeof(magic) && !memcmp(buf, magic, sizeof(magic));
}

static void blob_free(struct blob *b)
{
	free(b->mem);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* Takes ownership of buf.  Every refusal names the byte at fault. */
static int blob_load_buf(struct blob *b, const char *path, uint8_t *buf,
			 size_t len)
{
	struct acm_load_error where = {ACM_OK, 0};
	size_t need = 0;
	enum acm_err e;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->buf = buf;
	b->len = len;
	e = acm_policy_measure(buf, len, &need, &where);
	if (e != ACM_OK)
		goto bad;
	/* malloc's alignment covers the engine's 8-byte requirement. */
	b->mem = malloc(need ? need : 8);
	if (!b->mem) {
		err("%s: out of memory (%zu bytes)", path, need);
		goto fail;
	}
	e = acm_policy_load(buf, len, b->mem, need, &b->p, &where);
	if (e != ACM_OK)
		goto bad;
	acm_policy_info(b->p, &b->info);
	return 0;
bad:
	err("%s: byte offset %" PRIu32 ": %s%s", path, where.offset,
	    acm_strerror(e),
	    e == ACM_E_MAGIC && len && buf[0] == '<'
		    ? " (an XML policy? compile it first)"
		    : "");
fail:
	blob_free(b);
	return -1;
}

static int read_input(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	if (polc_read_file(path, max, buf, len) == 0)
		return 0;
	err("%s: %s", path, strerror(errno));
	return -1;
}

static int blob_load(struct blob *b, const char *path)
{
	uint8_t *buf;
	size_t len;

	memset(b, 0, sizeof(*b));
	if (read_input(path, ACM_MAX_POLICY_LEN, &buf, &len))
		return -1;
	return blob_load_buf(b, path, buf, len);
}

/* Parses and checks an XML policy, printing every diagnostic.  On
 * failure *pol is freed. */
static int load_xml(const char *path, const uint8_t *buf, size_t len,
		    bool self_conflict_warning, struct polc_policy *pol)
{
	struct polc_check_opts copts = {self_conflict_warning};
	struct polc_diags d;
	int ret = -1;

	memset(&d, 0, sizeof(d));
	memset(pol, 0, sizeof(*pol));
	d.path = path;
	if (buf ? polc_parse_xml_mem((const char *)buf, len, path, NULL, pol,
				     &d)
		: polc_parse_xml(path, NULL, pol, &d)) {
		polc_diags_print(&d, stderr);
		if (d.n_errors == 0)
			err("%s: cannot parse the policy", path);
		goto out;
	}
	polc_check(pol, &copts, &d);
	polc_diags_print(&d, stderr);
	if (d.n_errors)
		goto out;
	ret = 0;
out:
	if (ret)
		polc_policy_free(pol);
	polc_diags_free(&d);
	return ret;
}

/* Writes a generated document to OUT (atomically) or to stdout ("-" or
 * no -o).  gen() writes into a memory stream so a failure halfway never
 * leaves a partial file behind. */
static int write_output(const char *out_path,
			int (*gen)(const struct polc_policy *, FILE *),
			const struct polc_policy *pol)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret = -1;

	f = open_memstream(&text, &len);
	if (!f) {
		err("out of memory");
		return -1;
	}
	if (gen(pol, f)) {
		/* XML is UTF-8 only; the binary format allows any byte
		 * >= 0x80 in a name, so a hand-made blob can hold one. */
		err("%s: cannot write: %s", out_path ? out_path : "<stdout>",
		    errno == EILSEQ ? "a name in the policy is not valid "
				      "UTF-8, which XML cannot carry"
				    : strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f)) {
		err("out of memory");
		goto out;
	}
	if (!out_path || !strcmp(out_path, "-")) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
			err("<stdout>: %s", strerror(errno));
			goto out;
		}
	} else if (polc_write_file_atomic(out_path, text, len)) {
		err("%s: %s", out_path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(text);
	return ret;
}

/* ------------------------------------------------------------------ */
/* compile, hash                                                       */
/* ------------------------------------------------------------------ */

static char *default_output(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 5);

	if (!out)
		return NULL;
	memcpy(out, in, n + 1);
	if (n > 4 && !strcmp(in + n - 4, ".xml"))
		out[n - 4] = 0;
	strcat(out, ".bin");
	return out;
}

static void print_summary(FILE *f, const char *out_path, const struct blob *b)
{
	const struct acm_policy_info *in = &b->info;

	fprintf(f, "%s: policy '%s' ", out_path, in->name);
	if (in->has_version)
		fprintf(f, "version %" PRIu32 ".%" PRIu32, in->version_major,
			in->version_minor);
	else
		fprintf(f, "(no version)");
	fprintf(f,
		": %" PRIu32 " STE + %" PRIu32 " CHWALL types, %" PRIu32
		" label%s (%" PRIu32 " VM, %" PRIu32 " resource), %" PRIu32
		" conflict set%s, %zu bytes, sha256 ",
		in->n_ste_types, in->n_cw_types, in->n_labels,
		in->n_labels == 1 ? "" : "s", in->n_vm_labels,
		in->n_labels - in->n_vm_labels, in->n_conflict_sets,
		in->n_conflict_sets == 1 ? "" : "s", b->len);
	put_hex(f, in->source_sha256, 8);
	fprintf(f, "\n");
}

static int run_compile(struct args *a)
{
	const char *in = a->pos[0];
	char *out_alloc = NULL;
	const char *out;
	struct polc_policy pol;
	struct polc_diags d;
	struct blob b;
	uint8_t *bin = NULL;
	size_t len = 0;
	int ret = EXIT_ERR;

	memset(&d, 0, sizeof(d));
	memset(&b, 0, sizeof(b));
	d.path = in;
	out = a->val[OPT_OUTPUT];
	if (!out) {
		out = out_alloc = default_output(in);
		if (!out) {
			err("out of memory");
			return EXIT_ERR;
		}
	}
	if (load_xml(in, NULL, 0, a->set[OPT_SELF_CONFLICT], &pol))
		goto out;
	if (polc_emit(&pol, &bin, &len, &d)) {
		polc_diags_print(&d, stderr);
		if (d.n_errors == 0)
			err("%s: cannot emit the binary policy", in);
		goto out_pol;
	}
	/* Never write a blob the engine would refuse at boot: that would be
	 * a compiler bug, and it must not reach a host. */
	if (blob_load_buf(&b, out, bin, len)) {
		err("%s: internal error: the emitted policy does not load; "
		    "nothing written",
		    in);
		bin = NULL;
		goto out_pol;
	}
	bin = NULL; /* owned by b now */
	if (!strcmp(out, "-")) {
		if (fwrite(b.buf, 1, b.len, stdout) != b.len ||
		    fflush(stdout)) {
			err("<stdout>: %s", strerror(errno));
			goto out_blob;
		}
	} else if (polc_write_file_atomic(out, b.buf, b.len)) {
		err("%s: %s", out, strerror(errno));
		goto out_blob;
	}
	/* With the blob on stdout the summary must not corrupt it. */
	if (!a->set[OPT_QUIET])
		print_summary(strcmp(out, "-") ? stdout : stderr, out, &b);
	ret = EXIT_OK;
out_blob:
	blob_free(&b);
out_pol:
	polc_policy_free(&pol);
out:
	free(bin);
	polc_diags_free(&d);
	free(out_alloc);
	return ret;
}

static int run_hash(struct args *a)
{
	const char *in = a->pos[0];
	uint8_t *buf = NULL, digest[ACM_SHA256_LEN];
	struct polc_policy pol;
	char *text = NULL;
	size_t len = 0, tlen = 0;
	int ret = EXIT_ERR;

	if (read_input(in, ACM_MAX_POLICY_LEN, &buf, &len))
		return EXIT_ERR;
	if (looks_binary(buf, len)) {
		struct blob b;

		/* A binary already carries the hash of its source. */
		if (blob_load_buf(&b, in, buf, len))
			return EXIT_ERR;
		put_hex(stdout, b.info.source_sha256, ACM_SHA256_LEN);
		printf("\n");
		blob_free(&b);
		return EXIT_OK;
	}
	if (load_xml(in, buf, len, a->set[OPT_SELF_CONFLICT], &pol))
		goto out;
	if (polc_canonical(&pol, &text, &tlen)) {
		err("%s: out of memory", in);
		goto out_pol;
	}
	acm_sha256(text, tlen, digest);
	put_hex(stdout, digest, sizeof(digest));
	printf("\n");
	ret = EXIT_OK;
	free(text);
out_pol:
	polc_policy_free(&pol);
out:
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* dump                                                                */
/* ------------------------------------------------------------------ */

/* "{a, b, c}" for a label's STE (cw=false) or CHWALL type set. */
static void put_set(FILE *f, const struct acm_policy *p, acm_row_t row, bool cw)
{
	struct acm_policy_info in;
	uint32_t t, n_types, shown = 0, more = 0;

	acm_policy_info(p, &in);
	n_types = cw ? in.n_cw_types : in.n_ste_types;
	fputc('{', f);
	for (t = 0; t < n_types; t++) {
		bool has = cw ? acm_label_has_cw(p, row, t)
			      : acm_label_has_ste(p, row, t);

		if (!has)
			continue;
		if (shown == SET_PRINT_MAX) {
			more++;
			continue;
		}
		fprintf(f, "%s%s", shown ? ", " : "",
			cw ? acm_cw_type_name(p, t) : acm_ste_type_name(p, t));
		shown++;
	}
	if (more)
		fprintf(f, ", ... +%" PRIu32 " more", more);
	fputc('}', f);
}

static const char *kind_name(enum acm_label_kind k)
{
	return k == ACM_LABEL_VM ? "vm" : "resource";
}

static const char *kind_title(enum acm_label_kind k)
{
	return k == ACM_LABEL_VM ? "VM" : "resource";
}

static void dump_header(const struct blob *b)
{
	const struct acm_policy_info *in = &b->info;

	printf("file: %s (%zu bytes)\n", b->path, b->len);
	printf("policy: %s\n", in->name);
	if (in->has_version)
		printf("version: %" PRIu32 ".%" PRIu32 "\n", in->version_major,
		       in->version_minor);
	else
		printf("version: (none)\n");
	if (in->has_from)
		printf("FromPolicy: %s %" PRIu32 ".%" PRIu32 "\n",
		       in->from_name, in->from_major, in->from_minor);
	else
		printf("FromPolicy: (none)\n");
	if (*in->url)
		printf("url: %s\n", in->url);
	if (*in->reference)
		printf("reference: %s\n", in->reference);
	if (*in->date)
		printf("date: %s\n", in->date);
	if (*in->namespace_url)
		printf("namespace-url: %s\n", in->namespace_url);
	printf("source sha256: ");
	put_hex(stdout, in->source_sha256, ACM_SHA256_LEN);
	printf("\nblob sha256: ");
	put_hex(stdout, in->blob_sha256, ACM_SHA256_LEN);
	printf("\nflags: 0x%" PRIx32 " (%s%s%s)\n", in->flags,
	       in->flags & ACM_BIN_F_STE ? "STE" : "",
	       (in->flags & ACM_BIN_F_ALL) == ACM_BIN_F_ALL ? ", " : "",
	       in->flags & ACM_BIN_F_CHWALL ? "CHWALL" : "");
	/* The priority attribute is informational (META flags). */
	if (in->meta_flags &
	    (ACM_META_F_STE_PRIORITY | ACM_META_F_CW_PRIORITY))
		printf("primary component: %s\n",
		       in->meta_flags & ACM_META_F_STE_PRIORITY ? "STE"
								: "CHWALL");
}

static int run_dump(struct args *a)
{
	const struct acm_policy_info *in;
	struct blob b;
	uint32_t t, c;
	acm_row_t r;

	if (blob_load(&b, a->pos[0]))
		return EXIT_ERR;
	in = &b.info;
	dump_header(&b);
	printf("STE types (%" PRIu32 "):\n", in->n_ste_types);
	for (t = 0; t < in->n_ste_types; t++)
		printf("  %" PRIu32 " %s\n", t, acm_ste_type_name(b.p, t));
	printf("CHWALL types (%" PRIu32 "):\n", in->n_cw_types);
	for (t = 0; t < in->n_cw_types; t++)
		printf("  %" PRIu32 " %s\n", t, acm_cw_type_name(b.p, t));
	printf("conflict sets (%" PRIu32 "):\n", in->n_conflict_sets);
	for (c = 0; c < in->n_conflict_sets; c++) {
		bool first = true;

		printf("  %s: {", acm_conflict_set_name(b.p, c));
		for (t = 0; t < in->n_cw_types; t++) {
			if (!acm_conflict_set_has(b.p, c, t))
				continue;
			printf("%s%s", first ? "" : ", ",
			       acm_cw_type_name(b.p, t));
			first = false;
		}
		printf("}\n");
	}
	printf("labels (%" PRIu32 ": %" PRIu32 " VM, %" PRIu32 " resource):\n",
	       in->n_labels, in->n_vm_labels, in->n_labels - in->n_vm_labels);
	for (r = 0; r < in->n_labels; r++) {
		enum acm_label_kind k = acm_label_kind(b.p, r);
		const char *from = acm_label_from(b.p, r);

		printf("  row %" PRIu32 " id 0x%08" PRIx32 " %-8s %s", r,
		       acm_label_id(b.p, r), kind_name(k),
		       acm_label_name(b.p, r));
		if (from && *from)
			printf(" from=%s", from);
		printf(" ste=");
		put_set(stdout, b.p, r, false);
		if (k == ACM_LABEL_VM) {
			printf(" chwall=");
			put_set(stdout, b.p, r, true);
		}
		if (r == in->bootstrap)
			printf(" [bootstrap]");
		printf("\n");
	}
	printf("bootstrap: %s (row %" PRIu32 ")\n",
	       acm_label_name(b.p, in->bootstrap), in->bootstrap);
	if (in->unlabeled != ACM_ROW_NONE)
		printf("unlabeled: %s (row %" PRIu32 ")\n", ACM_UNLABELED,
		       in->unlabeled);
	else
		printf("unlabeled: (none: unlabeled domains are refused)\n");
	blob_free(&b);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* decompile, graph                                                    */
/* ------------------------------------------------------------------ */

/* Compiles the decompiled text again and compares bytes: the promise of
 * decompile is that this holds, so say so loudly when it does not. */
static void verify_roundtrip(const struct blob *b,
			     const struct polc_policy *model)
{
	/* The blob exists: whether it was compiled with
	 * --self-conflict-warning is not ours to judge again. */
	struct polc_check_opts lenient = {true};
	struct polc_policy again;
	struct polc_diags d;
	char *text = NULL;
	size_t len = 0, blen = 0, at;
	uint8_t *bin = NULL;
	FILE *f;

	memset(&d, 0, sizeof(d));
	memset(&again, 0, sizeof(again));
	d.path = "<decompiled>";
	f = open_memstream(&text, &len);
	if (!f)
		return;
	/* A model XML cannot carry is refused by the real write, which
	 * says why; no second message here. */
	if (polc_write_xml(model, f)) {
		fclose(f);
		goto out;
	}
	if (fclose(f))
		goto out;
	if (polc_parse_xml_mem(text, len, d.path, NULL, &again, &d) ||
	    polc_check(&again, &lenient, &d) ||
	    polc_emit(&again, &bin, &blen, &d)) {
		err("warning: %s: the decompiled XML does not compile:",
		    b->path);
		polc_diags_print(&d, stderr);
		goto out_pol;
	}
	if (blen != b->len) {
		err("warning: %s: the decompiled XML compiles to %zu bytes, "
		    "not %zu (a blob from another writer?)",
		    b->path, blen, b->len);
		goto out_pol;
	}
	for (at = 0; at < blen && bin[at] == b->buf[at]; at++)
		;
	if (at < blen)
		err("warning: %s: the decompiled XML does not compile back to "
		    "identical bytes: first difference at byte offset %zu%s",
		    b->path, at,
		    at >= offsetof(struct acm_bin_header, source_sha256) &&
				    at < sizeof(struct acm_bin_header)
			    ? " (source hash: the blob was not made from this "
			      "policy text)"
			    : "");
out_pol:
	polc_policy_free(&again);
out:
	free(bin);
	free(text);
	polc_diags_free(&d);
}

static int run_decompile(struct args *a)
{
	struct polc_policy model;
	struct blob b;
	int ret = EXIT_ERR;

	if (blob_load(&b, a->pos[0]))
		return EXIT_ERR;
	if (polc_from_acm(b.p, &model)) {
		err("%s: cannot rebuild the policy: %s", b.path,
		    strerror(errno));
		goto out;
	}
	verify_roundtrip(&b, &model);
	if (write_output(a->val[OPT_OUTPUT], polc_write_xml, &model) == 0)
		ret = EXIT_OK;
	polc_policy_free(&model);
out:
	blob_free(&b);
	return ret;
}

static int run_graph(struct args *a)
{
	const char *in = a->pos[0];
	struct polc_policy model;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = EXIT_ERR;

	if (read_input(in, ACM_MAX_POLICY_LEN, &buf, &len))
		return EXIT_ERR;
	if (looks_binary(buf, len)) {
		struct blob b;

		if (blob_load_buf(&b, in, buf, len))
			return EXIT_ERR;
		if (polc_from_acm(b.p, &model)) {
			err("%s: cannot rebuild the policy: %s", in,
			    strerror(errno));
			blob_free(&b);
			return EXIT_ERR;
		}
		blob_free(&b);
	} else {
		int rc = load_xml(in, buf, len, a->set[OPT_SELF_CONFLICT],
				  &model);

		free(buf);
		if (rc)
			return EXIT_ERR;
	}
	if (write_output(a->val[OPT_OUTPUT], polc_write_dot, &model) == 0)
		ret = EXIT_OK;
	polc_policy_free(&model);
	return ret;
}

/* ------------------------------------------------------------------ */
/* decide                                                              */
/* ------------------------------------------------------------------ */

enum resolve {
	RESOLVED,
	RESOLVE_NO_UNLABELED, /* "__UNLABELED__" asked, policy has none */
	RESOLVE_ERROR,	      /* reported */
};

/*
 * Finds a label by name.  "__UNLABELED__" always means the policy's
 * unlabeled VM label; for resources it falls back to that VM label's
 * types when the policy has no unlabeled resource label, as an unlabeled
 * disk on a Xen host carried the unlabeled types.
 */
static enum resolve resolve(const struct blob *b, enum acm_label_kind kind,
			    const char *name, const char *what, acm_row_t *row)
{
	enum acm_label_kind other =
		kind == ACM_LABEL_VM ? ACM_LABEL_RESOURCE : ACM_LABEL_VM;

	*row = acm_label_find(b->p, kind, name);
	if (*row != ACM_ROW_NONE)
		return RESOLVED;
	if (!strcmp(name, ACM_UNLABELED)) {
		*row = b->info.unlabeled;
		return *row == ACM_ROW_NONE ? RESOLVE_NO_UNLABELED : RESOLVED;
	}
	if (acm_label_find(b->p, other, name) != ACM_ROW_NONE)
		err("%s: %s: '%s' is a %s label, not a %s label", b->path, what,
		    name, kind_title(other), kind_title(kind));
	else
		err("%s: %s: unknown %s label '%s'", b->path, what,
		    kind_title(kind), name);
	return RESOLVE_ERROR;
}

static void put_label_q(FILE *f, const struct acm_policy *p, acm_row_t row)
{
	fprintf(f, "'%s' ", acm_label_name(p, row));
}

static const char *set_name(const struct acm_policy *p, uint32_t set)
{
	return set == UINT32_MAX ? "?" : acm_conflict_set_name(p, set);
}

/* The STE sharing family (share, resource, authorize): first line. */
static void say_ste(const struct blob *b, const struct acm_verdict *v,
		    acm_row_t x, acm_row_t y)
{
	const struct acm_policy *p = b->p;

	if (v->decision == ACM_PERMIT) {
		printf("permit\n");
		return;
	}
	switch (v->reason) {
	case ACM_R_NOT_SUPERSET:
		printf("deny: host '%s' lacks STE type '%s' of '%s'\n",
		       acm_label_name(p, x),
		       v->type_a == ACM_TYPE_NONE
			       ? "?"
			       : acm_ste_type_name(p, v->type_a),
		       acm_label_name(p, y));
		break;
	case ACM_R_INACCESSIBLE:
		printf("deny: resource label " ACM_INACCESSIBLE
		       " is never accessible\n");
		break;
	case ACM_R_UNLABELED_REFUSED:
		printf("deny: policy defines no " ACM_UNLABELED " label\n");
		break;
	case ACM_R_BAD_LABEL:
		printf("deny: label row out of range or of the wrong kind\n");
		break;
	case ACM_R_NO_SHARED_TYPE:
	default:
		printf("deny: no common STE type between ");
		put_label_q(stdout, p, x);
		put_set(stdout, p, x, false);
		printf(" and ");
		put_label_q(stdout, p, y);
		put_set(stdout, p, y, false);
		printf("\n");
		break;
	}
}

static void explain_ste(const struct blob *b, const struct acm_verdict *v,
			const char *check, acm_row_t x, acm_row_t y)
{
	const struct acm_policy *p = b->p;

	printf("  check: %s (engine reason: %s)\n", check,
	       acm_reason_name(v->reason));
	printf("  %s '%s' STE types ", kind_title(acm_label_kind(p, x)),
	       acm_label_name(p, x));
	put_set(stdout, p, x, false);
	printf("\n  %s '%s' STE types ", kind_title(acm_label_kind(p, y)),
	       acm_label_name(p, y));
	put_set(stdout, p, y, false);
	printf("\n");
	switch (v->reason) {
	case ACM_R_SHARED_TYPE:
		if (v->type_a != ACM_TYPE_NONE)
			printf("  both hold STE type '%s'\n",
			       acm_ste_type_name(p, v->type_a));
		break;
	case ACM_R_SUPERSET:
		printf("  every STE type of '%s' is held by '%s'\n",
		       acm_label_name(p, y), acm_label_name(p, x));
		break;
	case ACM_R_NO_POLICY_COMPONENT:
		printf("  the policy has no STE component: nothing is "
		       "restricted\n");
		break;
	case ACM_R_NO_SHARED_TYPE:
		printf("  no STE type is held by both labels\n");
		break;
	default:
		break;
	}
}

/* Splits "a,b,c" into VM rows; a label may repeat. */
static int parse_running(const struct blob *b, const char *list,
			 acm_row_t **rows, size_t *n)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t cap = 1;
	const char *s;
	int ret = -1;

	*rows = NULL;
	*n = 0;
	if (!copy) {
		err("out of memory");
		return -1;
	}
	for (s = list; *s; s++)
		cap += *s == ',';
	*rows = calloc(cap, sizeof(**rows));
	if (!*rows) {
		err("out of memory");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		enum resolve r = resolve(b, ACM_LABEL_VM, tok, "--running",
					 &(*rows)[*n]);

		if (r == RESOLVE_NO_UNLABELED)
			err("%s: --running: policy defines no " ACM_UNLABELED
			    " label",
			    b->path);
		if (r != RESOLVED)
			goto out;
		(*n)++;
	}
	ret = 0;
out:
	if (ret) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	free(copy);
	return ret;
}

/* First label in `rows` holding CHWALL type t, other than index skip. */
static size_t holder(const struct acm_policy *p, const acm_row_t *rows,
		     size_t n, acm_type_t t, size_t skip)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (i != skip && t != ACM_TYPE_NONE &&
		    acm_label_has_cw(p, rows[i], t))
			return i;
	return n;
}

static void report_inconsistent(const struct blob *b, const acm_row_t *rows,
				size_t n, const struct acm_verdict *v)
{
	const struct acm_policy *p = b->p;
	acm_type_t ti = v->type_b, tj = v->type_a, tt;
	size_t i = holder(p, rows, n, ti, n);
	size_t j = holder(p, rows, n, tj, i), k;

	/* Name the pair in the order the user listed them. */
	if (j < i) {
		k = i, i = j, j = k;
		tt = ti, ti = tj, tj = tt;
	}
	if (i < n && j < n)
		err("%s: --running: labels '%s' and '%s' cannot run together: "
		    "types '%s' and '%s' conflict in set '%s'",
		    b->path, acm_label_name(p, rows[i]),
		    acm_label_name(p, rows[j]), acm_cw_type_name(p, ti),
		    acm_cw_type_name(p, tj), set_name(p, v->set));
	else
		err("%s: --running: the running labels conflict with each other"
		    " (%s)",
		    b->path, acm_reason_name(v->reason));
}

static void say_create(const struct blob *b, const struct acm_verdict *v,
		       acm_row_t vm)
{
	const struct acm_policy *p = b->p;

	if (v->decision == ACM_PERMIT) {
		printf("permit\n");
		return;
	}
	switch (v->reason) {
	case ACM_R_CHWALL_CONFLICT:
		printf("deny: Chinese Wall: type '%s' of '%s' conflicts with "
		       "running type '%s' in conflict set '%s'\n",
		       acm_cw_type_name(p, v->type_a), acm_label_name(p, vm),
		       acm_cw_type_name(p, v->type_b), set_name(p, v->set));
		break;
	case ACM_R_CHWALL_HISTORY:
		printf("deny: Chinese Wall (historical): type '%s' of '%s' is "
		       "excluded by a type that has run",
		       acm_cw_type_name(p, v->type_a), acm_label_name(p, vm));
		if (v->type_b != ACM_TYPE_NONE)
			printf(" ('%s' in conflict set '%s')",
			       acm_cw_type_name(p, v->type_b),
			       set_name(p, v->set));
		printf("\n");
		break;
	case ACM_R_UNLABELED_REFUSED:
		printf("deny: policy defines no " ACM_UNLABELED " label\n");
		break;
	default:
		printf("deny: %s\n", acm_reason_name(v->reason));
		break;
	}
}

static void explain_create(const struct blob *b, const struct acm_ctx *ctx,
			   const struct acm_verdict *v, acm_row_t vm,
			   const acm_row_t *running, size_t n, bool historical)
{
	const struct acm_policy *p = b->p;
	uint32_t t, shown = 0;
	size_t i;

	printf("  check: Chinese Wall at domain creation (%s; engine "
	       "reason: %s)\n",
	       historical ? "historical" : "run-time exclusion",
	       acm_reason_name(v->reason));
	printf("  '%s' CHWALL types ", acm_label_name(p, vm));
	put_set(stdout, p, vm, true);
	printf("\n  running (%zu):", n);
	for (i = 0; i < n && i < SET_PRINT_MAX; i++)
		printf(" %s", acm_label_name(p, running[i]));
	if (n > SET_PRINT_MAX)
		printf(" ... +%zu more", n - SET_PRINT_MAX);
	printf("\n  types excluded by the running domains:");
	for (t = 0; t < b->info.n_cw_types; t++) {
		if (!acm_cw_excluded(ctx, t))
			continue;
		if (shown++ < SET_PRINT_MAX)
			printf(" %s", acm_cw_type_name(p, t));
	}
	if (shown > SET_PRINT_MAX)
		printf(" ... +%" PRIu32 " more", shown - SET_PRINT_MAX);
	if (!shown)
		printf(" (none)");
	printf("\n");
	if (v->reason == ACM_R_NO_POLICY_COMPONENT)
		printf("  the policy has no Chinese Wall component\n");
}

struct decide_state {
	struct blob b;
	void *ctx_mem;
	struct acm_ctx *ctx;
	acm_row_t *running;
	size_t n_running;
};

static int decide_setup(struct decide_state *s, struct args *a)
{
	struct acm_ctx_config cfg = {0, a->set[OPT_HISTORICAL], 0};
	size_t size;
	enum acm_err e;

	size = acm_ctx_mem_size(s->b.p, &cfg);
	s->ctx_mem = malloc(size ? size : 8);
	if (!s->ctx_mem) {
		err("out of memory");
		return -1;
	}
	e = acm_ctx_init(&s->ctx, s->b.p, &cfg, s->ctx_mem, size);
	if (e != ACM_OK) {
		err("%s: cannot set up decision state: %s", s->b.path,
		    acm_strerror(e));
		return -1;
	}
	return 0;
}

static int decide_create(struct decide_state *s, struct args *a)
{
	struct acm_verdict v;
	acm_row_t vm;
	enum resolve r;
	enum acm_err e;

	r = resolve(&s->b, ACM_LABEL_VM, a->pos[1], "--create", &vm);
	if (r == RESOLVE_ERROR)
		return EXIT_ERR;
	if (a->val[OPT_RUNNING] && parse_running(&s->b, a->val[OPT_RUNNING],
						 &s->running, &s->n_running))
		return EXIT_ERR;
	if (s->n_running) {
		memset(&v, 0, sizeof(v));
		e = acm_ctx_adopt_running(s->ctx, s->running, s->n_running, &v);
		if (e == ACM_E_STATE) {
			report_inconsistent(&s->b, s->running, s->n_running,
					    &v);
			return EXIT_ERR;
		}
		if (e != ACM_OK) {
			err("%s: --running: %s", s->b.path, acm_strerror(e));
			return EXIT_ERR;
		}
	}
	if (r == RESOLVE_NO_UNLABELED) {
		printf("deny: policy defines no " ACM_UNLABELED " label\n");
		return EXIT_NO;
	}
	memset(&v, 0, sizeof(v));
	acm_domain_create_prepare(s->ctx, vm, &v);
	/* Only the verdict matters offline: undo the accounting so the
	 * explanation shows the state the question was asked against. */
	if (v.decision == ACM_PERMIT)
		acm_domain_create_rollback(s->ctx, vm);
	say_create(&s->b, &v, vm);
	if (a->set[OPT_EXPLAIN])
		explain_create(&s->b, s->ctx, &v, vm, s->running, s->n_running,
			       a->set[OPT_HISTORICAL]);
	return v.decision == ACM_PERMIT ? EXIT_OK : EXIT_NO;
}

static int decide_pair(struct decide_state *s, struct args *a)
{
	enum acm_label_kind k1 = ACM_LABEL_VM, k2 = ACM_LABEL_VM;
	const char *opt = "--share", *check;
	struct acm_verdict v;
	acm_row_t x, y;
	enum resolve r1, r2;

	if (a->mode == OPT_RESOURCE) {
		k2 = ACM_LABEL_RESOURCE;
		opt = "--resource";
	} else if (a->mode == OPT_AUTHORIZE) {
		opt = "--authorize";
	}
	r1 = resolve(&s->b, k1, a->pos[1], opt, &x);
	if (r1 == RESOLVE_ERROR)
		return EXIT_ERR;
	/* __INACCESSIBLE__ need not be defined to be refused. */
	if (a->mode == OPT_RESOURCE && !strcmp(a->pos[2], ACM_INACCESSIBLE) &&
	    acm_label_find(s->b.p, k2, a->pos[2]) == ACM_ROW_NONE) {
		printf("deny: resource label " ACM_INACCESSIBLE
		       " is never accessible\n");
		if (a->set[OPT_EXPLAIN])
			printf("  the policy does not define it; it denies "
			       "all the same\n");
		return EXIT_NO;
	}
	r2 = resolve(&s->b, k2, a->pos[2], opt, &y);
	if (r2 == RESOLVE_ERROR)
		return EXIT_ERR;
	if (r1 == RESOLVE_NO_UNLABELED || r2 == RESOLVE_NO_UNLABELED) {
		printf("deny: policy defines no " ACM_UNLABELED " label\n");
		return EXIT_NO;
	}
	memset(&v, 0, sizeof(v));
	switch (a->mode) {
	case OPT_RESOURCE:
		check = "STE resource use";
		if (acm_label_kind(s->b.p, y) == ACM_LABEL_VM)
			/* Unlabeled resource under the VM label's types. */
			acm_decide_share(s->ctx, ACM_HOOK_RESOURCE_USE, x, y,
					 &v);
		else
			acm_decide_resource(s->ctx, x, y, &v);
		break;
	case OPT_AUTHORIZE:
		check = "host authorization (STE superset)";
		acm_decide_authorize(s->ctx, x, y, &v);
		break;
	default:
		check = "STE sharing (event channels, grants)";
		acm_decide_share(s->ctx, ACM_HOOK_EVTCHN_INTERDOMAIN, x, y, &v);
		break;
	}
	say_ste(&s->b, &v, x, y);
	if (a->set[OPT_EXPLAIN])
		explain_ste(&s->b, &v, check, x, y);
	return v.decision == ACM_PERMIT ? EXIT_OK : EXIT_NO;
}

static int run_decide(struct args *a)
{
	struct decide_state s;
	size_t want;
	int ret = EXIT_ERR;

	memset(&s, 0, sizeof(s));
	if (a->modes != 1) {
		err("decide: give exactly one of --share, --create, "
		    "--resource, --authorize");
		cmd_usage(stderr, find_command("decide"));
		return EXIT_ERR;
	}
	want = a->mode == OPT_CREATE ? 2 : 3;
	if (a->n_pos != want) {
		err("decide: %s needs %s",
		    a->mode == OPT_CREATE     ? "--create"
		    : a->mode == OPT_SHARE    ? "--share"
		    : a->mode == OPT_RESOURCE ? "--resource"
					      : "--authorize",
		    a->mode == OPT_CREATE ? "POLICY.bin and one VM label"
		    : a->mode == OPT_RESOURCE
			    ? "POLICY.bin, a VM label and a resource label"
		    : a->mode == OPT_AUTHORIZE
			    ? "POLICY.bin, a host label and a VM label"
			    : "POLICY.bin and two VM labels");
		cmd_usage(stderr, find_command("decide"));
		return EXIT_ERR;
	}
	if (a->mode != OPT_CREATE &&
	    (a->set[OPT_RUNNING] || a->set[OPT_HISTORICAL])) {
		err("decide: --running and --historical go with --create");
		return EXIT_ERR;
	}
	if (blob_load(&s.b, a->pos[0]))
		return EXIT_ERR;
	if (decide_setup(&s, a))
		goto out;
	ret = a->mode == OPT_CREATE ? decide_create(&s, a) : decide_pair(&s, a);
	if (fflush(stdout)) {
		err("<stdout>: %s", strerror(errno));
		ret = EXIT_ERR;
	}
out:
	free(s.running);
	free(s.ctx_mem);
	blob_free(&s.b);
	return ret;
}

/* ------------------------------------------------------------------ */
/* update-check                                                        */
/* ------------------------------------------------------------------ */

struct update_state {
	struct blob old, new_b;
	struct acm_domain_ref *doms;
	size_t n_doms;
	struct acm_share_ref *shares;
	size_t n_shares;
	struct acm_resource_ref *res;
	size_t n_res;
};

static size_t count_items(const char *list)
{
	size_t n = 1;

	for (; *list; list++)
		n += *list == ',';
	return n;
}

/* Strict decimal domid: digits only, below UINT32_MAX (the engine's
 * "not applicable"). */
static bool parse_domid(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static const struct acm_domain_ref *find_dom(const struct update_state *u,
					     uint32_t domid)
{
	size_t i;

	for (i = 0; i < u->n_doms; i++)
		if (u->doms[i].domid == domid)
			return &u->doms[i];
	return NULL;
}

/* LABEL[@DOMID],...: domids default to the 1-based list position; dom0
 * with the bootstrap label is added unless listed. */
static int parse_update_running(struct update_state *u, const char *list)
{
	char *copy, *save = NULL, *tok;
	size_t pos = 0;
	int ret = -1;

	u->doms = calloc(count_items(list) + 1, sizeof(*u->doms));
	copy = strdup(list);
	if (!u->doms || !copy) {
		err("out of memory");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *at = strrchr(tok, '@');
		uint32_t domid = (uint32_t)(pos + 1);
		acm_row_t row;
		enum resolve r;

		pos++;
		/* Only an all-digit suffix is a domid: '@' may appear in a
		 * label name. */
		if (at && at[1] &&
		    strspn(at + 1, "0123456789") == strlen(at + 1)) {
			if (!parse_domid(at + 1, strlen(at + 1), &domid)) {
				err("--running: '%s': domid out of range", tok);
				goto out;
			}
			*at = 0;
		}
		if (find_dom(u, domid)) {
			err("--running: domid %" PRIu32 " is listed twice",
			    domid);
			goto out;
		}
		r = resolve(&u->old, ACM_LABEL_VM, tok, "--running", &row);
		if (r == RESOLVE_NO_UNLABELED)
			err("%s: --running: policy defines no " ACM_UNLABELED
			    " label",
			    u->old.path);
		if (r != RESOLVED)
			goto out;
		u->doms[u->n_doms].domid = domid;
		u->doms[u->n_doms].label = row;
		u->n_doms++;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int parse_update_shares(struct update_state *u, const char *list)
{
	char *copy, *save = NULL, *tok;
	int ret = -1;

	u->shares = calloc(count_items(list), sizeof(*u->shares));
	copy = strdup(list);
	if (!u->shares || !copy) {
		err("out of memory");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct acm_share_ref *s = &u->shares[u->n_shares];
		char *c1 = strchr(tok, ':'),
		     *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t l2 = c2	 ? (size_t)(c2 - c1 - 1)
			    : c1 ? strlen(c1 + 1)
				 : 0;

		s->hook = ACM_HOOK_EVTCHN_INTERDOMAIN;
		if (!c1 || !parse_domid(tok, (size_t)(c1 - tok), &s->dom_a) ||
		    !parse_domid(c1 + 1, l2, &s->dom_b)) {
			err("--share: '%s': expected DOMID:DOMID[:evtchn|"
			    ":grant]",
			    tok);
			goto out;
		}
		if (c2 && !strcmp(c2 + 1, "grant")) {
			s->hook = ACM_HOOK_GNT_MAP_WRITE;
		} else if (c2 && strcmp(c2 + 1, "evtchn")) {
			err("--share: '%s': kind must be evtchn or grant", tok);
			goto out;
		}
		if (!find_dom(u, s->dom_a) || !find_dom(u, s->dom_b)) {
			err("--share: '%s': domain %" PRIu32
			    " is not in the running list",
			    tok, find_dom(u, s->dom_a) ? s->dom_b : s->dom_a);
			goto out;
		}
		u->n_shares++;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int parse_update_resources(struct update_state *u, const char *list)
{
	char *copy, *save = NULL, *tok;
	int ret = -1;

	u->res = calloc(count_items(list), sizeof(*u->res));
	copy = strdup(list);
	if (!u->res || !copy) {
		err("out of memory");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct acm_resource_ref *r = &u->res[u->n_res];
		char *colon = strchr(tok, ':');

		if (!colon ||
		    !parse_domid(tok, (size_t)(colon - tok), &r->domid) ||
		    !colon[1]) {
			err("--resource: '%s': expected DOMID:RESOURCE_LABEL",
			    tok);
			goto out;
		}
		if (!find_dom(u, r->domid)) {
			err("--resource: '%s': domain %" PRIu32
			    " is not in the running list",
			    tok, r->domid);
			goto out;
		}
		r->resource =
			acm_label_find(u->old.p, ACM_LABEL_RESOURCE, colon + 1);
		if (r->resource == ACM_ROW_NONE) {
			err("%s: --resource: unknown resource label '%s'",
			    u->old.path, colon + 1);
			goto out;
		}
		u->n_res++;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static const char *old_name(const struct update_state *u, acm_row_t row)
{
	return row == ACM_ROW_NONE || row >= u->old.info.n_labels
		       ? "?"
		       : acm_label_name(u->old.p, row);
}

static const char *new_name(const struct update_state *u, acm_row_t row)
{
	return row == ACM_ROW_NONE || row >= u->new_b.info.n_labels
		       ? "?"
		       : acm_label_name(u->new_b.p, row);
}

static const char *cw_set_name(const struct update_state *u, uint32_t set)
{
	return set >= u->new_b.info.n_conflict_sets
		       ? "?"
		       : acm_conflict_set_name(u->new_b.p, set);
}

static const char *dom_label(const struct update_state *u, uint32_t domid)
{
	const struct acm_domain_ref *d = find_dom(u, domid);

	return d ? old_name(u, d->label) : "?";
}

static void say_version_blocker(const struct update_state *u)
{
	const struct acm_policy_info *o = &u->old.info, *n = &u->new_b.info;

	printf("blocked: ");
	if (!n->has_from)
		printf("'%s' has no FromPolicy naming the running policy "
		       "'%s'\n",
		       n->name, o->name);
	else if (strcmp(n->from_name, o->name))
		printf("FromPolicy names '%s', but the running policy is "
		       "'%s'\n",
		       n->from_name, o->name);
	else if (n->from_major != o->version_major ||
		 n->from_minor != o->version_minor)
		printf("FromPolicy version %" PRIu32 ".%" PRIu32
		       " does not match the running version %" PRIu32
		       ".%" PRIu32 "\n",
		       n->from_major, n->from_minor, o->version_major,
		       o->version_minor);
	else
		printf("version %" PRIu32 ".%" PRIu32
		       " is not greater than the running version %" PRIu32
		       ".%" PRIu32 "\n",
		       n->version_major, n->version_minor, o->version_major,
		       o->version_minor);
}

static void say_blocker(const struct update_state *u,
			const struct acm_blocker *k)
{
	switch (k->kind) {
	case ACM_B_VERSION:
		say_version_blocker(u);
		break;
	case ACM_B_BAD_RENAME:
		printf("blocked: label '%s' is renamed from '%s', which %s\n",
		       new_name(u, k->new_label),
		       k->new_label == ACM_ROW_NONE
			       ? "?"
			       : acm_label_from(u->new_b.p, k->new_label),
		       k->old_label == ACM_ROW_NONE
			       ? "the running policy does not define"
			       : "another label already renames");
		break;
	case ACM_B_LABEL_IN_USE:
		printf("blocked: label '%s' (domain %" PRIu32
		       ") is removed by the update\n",
		       old_name(u, k->old_label), k->domid);
		break;
	case ACM_B_RESOURCE_IN_USE:
		printf("blocked: resource label '%s' (in use by domain %" PRIu32
		       ") is removed by the update\n",
		       old_name(u, k->old_label), k->domid);
		break;
	case ACM_B_CHWALL_CONFLICT:
		if (k->peer_domid == UINT32_MAX) {
			printf("blocked: domain %" PRIu32 " (%s) would "
			       "conflict in set '%s'\n",
			       k->domid, dom_label(u, k->domid),
			       cw_set_name(u, k->set));
			break;
		}
		printf("blocked: domains %" PRIu32 " (%s) and %" PRIu32
		       " (%s) would conflict in set '%s'\n",
		       k->domid, dom_label(u, k->domid), k->peer_domid,
		       dom_label(u, k->peer_domid), cw_set_name(u, k->set));
		break;
	case ACM_B_SHARING:
		printf("blocked: domains %" PRIu32 " (%s) and %" PRIu32
		       " (%s) share through %s but would have no common STE "
		       "type\n",
		       k->domid, dom_label(u, k->domid), k->peer_domid,
		       dom_label(u, k->peer_domid),
		       k->hook >= ACM_HOOK_GNT_SETUP &&
				       k->hook <= ACM_HOOK_GNT_TRANSFER
			       ? "a grant"
			       : "an event channel");
		break;
	case ACM_B_RESOURCE:
		printf("blocked: domain %" PRIu32
		       " (%s) would lose access to resource '%s'",
		       k->domid, dom_label(u, k->domid),
		       old_name(u, k->old_label));
		if (k->new_label != ACM_ROW_NONE &&
		    strcmp(old_name(u, k->old_label),
			   new_name(u, k->new_label)))
			printf(" (now '%s')", new_name(u, k->new_label));
		printf("\n");
		break;
	case ACM_B_BOOTSTRAP:
		printf("blocked: dom0's label '%s' would change or vanish "
		       "(domain %" PRIu32 " runs it; the update removes it)\n",
		       old_name(u, k->old_label), k->domid);
		break;
	case ACM_B_DOMAIN_UNKNOWN:
		printf("blocked: a share names domain %" PRIu32
		       ", which is not running\n",
		       k->domid == UINT32_MAX ? k->peer_domid : k->domid);
		break;
	default:
		printf("blocked: %s\n", acm_blocker_name(k->kind));
		break;
	}
}

static void say_label_map(const struct update_state *u, const acm_row_t *map)
{
	acm_row_t r;

	printf("label map (old -> new):\n");
	for (r = 0; r < u->old.info.n_labels; r++) {
		const char *on = acm_label_name(u->old.p, r);

		printf("  %-8s %s -> ", kind_name(acm_label_kind(u->old.p, r)),
		       on);
		if (map[r] == ACM_ROW_NONE) {
			printf("(removed)\n");
			continue;
		}
		printf("%s", new_name(u, map[r]));
		if (strcmp(on, new_name(u, map[r])))
			printf(" (renamed)");
		printf("\n");
	}
}

static int update_validate(struct update_state *u, bool explain)
{
	struct acm_blocker *blk = NULL;
	size_t max_blk = 64, n_blk = 0, scratch_len, i;
	acm_row_t *map = NULL;
	void *scratch = NULL;
	enum acm_err e;
	int ret = EXIT_ERR;

	map = calloc(u->old.info.n_labels ? u->old.info.n_labels : 1,
		     sizeof(*map));
	scratch_len = acm_update_scratch_size(u->old.p, u->new_b.p, u->n_doms);
	scratch = malloc(scratch_len ? scratch_len : 8);
	if (!map || !scratch) {
		err("out of memory");
		goto out;
	}
	/* The engine reports the total; rerun with room for all of them so
	 * the user sees every blocker at once. */
	for (;;) {
		free(blk);
		blk = calloc(max_blk, sizeof(*blk));
		if (!blk) {
			err("out of memory");
			goto out;
		}
		e = acm_update_validate(u->old.p, u->new_b.p, u->doms,
					u->n_doms, u->shares, u->n_shares,
					u->res, u->n_res, map, blk, max_blk,
					&n_blk, scratch, scratch_len);
		if (e != ACM_OK) {
			err("%s -> %s: cannot validate the update: %s",
			    u->old.path, u->new_b.path, acm_strerror(e));
			goto out;
		}
		if (n_blk <= max_blk)
			break;
		max_blk = n_blk;
	}
	if (n_blk == 0) {
		printf("ok\n");
		say_label_map(u, map);
		if (explain)
			for (i = 0; i < u->n_doms; i++)
				printf("  domain %" PRIu32 ": %s -> %s\n",
				       u->doms[i].domid,
				       old_name(u, u->doms[i].label),
				       new_name(u, map[u->doms[i].label]));
		ret = EXIT_OK;
		goto out;
	}
	for (i = 0; i < n_blk; i++)
		say_blocker(u, &blk[i]);
	ret = EXIT_NO;
out:
	free(blk);
	free(scratch);
	free(map);
	return ret;
}

static int run_update_check(struct args *a)
{
	struct update_state u;
	int ret = EXIT_ERR;

	memset(&u, 0, sizeof(u));
	if (blob_load(&u.old, a->pos[0]) || blob_load(&u.new_b, a->pos[1]))
		goto out;
	if (parse_update_running(&u, a->val[OPT_RUNNING] ? a->val[OPT_RUNNING]
							 : ""))
		goto out;
	if (!find_dom(&u, 0)) {
		/* dom0 always runs, with the label it booted with. */
		memmove(u.doms + 1, u.doms, u.n_doms * sizeof(*u.doms));
		u.doms[0].domid = 0;
		u.doms[0].label = u.old.info.bootstrap;
		u.n_doms++;
	}
	if (a->val[OPT_SHARE] && parse_update_shares(&u, a->val[OPT_SHARE]))
		goto out;
	if (a->val[OPT_RESOURCE] &&
	    parse_update_resources(&u, a->val[OPT_RESOURCE]))
		goto out;
	ret = update_validate(&u, a->set[OPT_EXPLAIN]);
	if (fflush(stdout)) {
		err("<stdout>: %s", strerror(errno));
		ret = EXIT_ERR;
	}
out:
	free(u.doms);
	free(u.shares);
	free(u.res);
	blob_free(&u.old);
	blob_free(&u.new_b);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static const struct command commands[] = {
	{"compile", run_compile, compile_opts, 1, 1,
	 "IN.xml [-o OUT.bin] [--self-conflict-warning] [--quiet]",
	 "Validates IN.xml against the schema, checks it and writes the "
	 "binary policy\n"
	 "atomically (default OUT: IN without .xml, plus .bin).  "
	 "Diagnostics are\n"
	 "printed as FILE:LINE: error|warning: ...; on any error nothing is "
	 "written.\n"
	 "  -o, --output FILE          where to write the binary policy "
	 "(- for stdout)\n"
	 "  --self-conflict-warning    a label holding two types of one "
	 "conflict set\n"
	 "                             is a warning instead of an error\n"
	 "  -q, --quiet                no summary line\n"},
	{"dump", run_dump, plain_opts, 1, 1, "POLICY.bin",
	 "Prints a binary policy: header, hashes, types, conflict sets, "
	 "labels with\n"
	 "their rows, stable ids and type sets.  A malformed blob is "
	 "refused with the\n"
	 "byte offset at fault.\n"},
	{"decompile", run_decompile, out_opts, 1, 1, "POLICY.bin [-o OUT.xml]",
	 "Writes XML that validates against the schema and compiles back to "
	 "the same\n"
	 "bytes.\n"
	 "  -o, --output FILE          write there (atomically) instead of "
	 "stdout\n"},
	{"graph", run_graph, out_opts, 1, 1, "IN.xml|POLICY.bin [-o OUT.dot]",
	 "Writes a Graphviz DOT graph: label nodes (VM boxes, resource "
	 "cylinders,\n"
	 "bootstrap in gold), type nodes, label->type edges (STE solid, "
	 "Chinese Wall\n"
	 "dashed) and conflict sets in red.  Render with: dot -Tsvg.\n"
	 "  -o, --output FILE          write there (atomically) instead of "
	 "stdout\n"},
	{"decide", run_decide, decide_opts, 2, 3,
	 "POLICY.bin --share VM_A VM_B | --create VM [--running L1,L2,...] "
	 "[--historical]\n"
	 "       | --resource VM RESOURCE | --authorize HOST VM  "
	 "[--explain]",
	 "Answers one access-control question offline, with the engine a "
	 "host runs.\n"
	 "The first line is 'permit' or 'deny: REASON'; exit 0 permit, 1 "
	 "deny, 2 error.\n"
	 "  --share A B        may domains labelled A and B share event "
	 "channels/grants\n"
	 "  --create L         may a domain labelled L start (Chinese Wall) "
	 "while the\n"
	 "                     --running labels run (a label may repeat); "
	 "--historical\n"
	 "                     treats them as having run since boot\n"
	 "  --resource VM RES  may a VM labelled VM use a resource labelled "
	 "RES\n"
	 "  --authorize H VM   does a host whose dom0 is labelled H "
	 "authorize VM\n"
	 "  -v, --explain      add lines describing the evaluation\n"
	 "The name __UNLABELED__ means the policy's unlabeled label.\n"},
	{"update-check", run_update_check, update_opts, 2, 2,
	 "OLD.bin NEW.bin [--running LABEL[@DOMID],...] "
	 "[--share DOMID:DOMID[:grant],...]\n"
	 "       [--resource DOMID:RESLABEL,...]",
	 "Checks whether NEW may replace OLD while the listed domains run "
	 "(labels of\n"
	 "OLD; domids default to 1, 2, ... in list order; dom0 runs the "
	 "bootstrap label\n"
	 "unless listed), share (event channels by default) and use "
	 "resources.\n"
	 "Prints 'ok' and the label map (exit 0) or one 'blocked: ...' line "
	 "per\n"
	 "blocker (exit 1).\n"
	 "  -v, --explain      also show each domain's new label\n"},
	{"hash", run_hash, plain_opts, 1, 1, "IN.xml|POLICY.bin",
	 "Prints the SHA-256 of the policy's canonical text (docs/formats.md "
	 "section 2),\n"
	 "the same as the source hash a compiled binary carries.\n"},
};

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s %s\n", commands[i].name, commands[i].usage);
	fprintf(f, "\n" PROG " COMMAND --help describes one command.\n"
		   "Exit status: 0 success or permit, 1 deny or blocked, 2 "
		   "error.\n");
}

int main(int argc, char **argv)
{
	const struct command *c;
	struct args a;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return EXIT_ERR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf(PROG " " POLC_TOOL_VERSION
			    " (binary policy format %u.%u)\n",
		       ACM_FORMAT_MAJOR, ACM_FORMAT_MINOR);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		c = argc > 2 ? find_command(argv[2]) : NULL;
		if (argc > 2 && !c) {
			err("unknown command '%s'", argv[2]);
			usage(stderr);
			return EXIT_ERR;
		}
		if (c) {
			cmd_usage(stdout, c);
			printf("\n%s", c->help);
		} else {
			usage(stdout);
		}
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c) {
		err("unknown command '%s'", argv[1]);
		usage(stderr);
		return EXIT_ERR;
	}
	memset(&a, 0, sizeof(a));
	a.cmd = c->name;
	if (parse_args(c, &a, argc - 2, argv + 2)) {
		cmd_usage(stderr, c);
		free(a.pos);
		return EXIT_ERR;
	}
	if (a.set[OPT_HELP]) {
		cmd_usage(stdout, c);
		printf("\n%s", c->help);
		free(a.pos);
		return EXIT_OK;
	}
	ret = c->run(&a);
	free(a.pos);
	return ret;
}
