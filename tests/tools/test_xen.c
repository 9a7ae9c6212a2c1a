/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_xen.c - `hvsec` on the xen platform (tools/hvt_xen.c) on the host,
 * against a fake Xen: this file defines the backend (hvt_xc_*) that
 * hvt_xen_ctrl.c implements over libxenctrl, answering FLASK's sub-ops
 * from a policy with the acm/ engine as Xen's module does.
 *
 *   platform     the choice (--platform, $HVSEC_PLATFORM, auto) as a table
 *   contexts     ACM:POLICY:LABEL parsing as a table
 *   record       the recorded policy: written, replaced, read back
 *   state        the record against Xen: none, agrees, stale (other
 *                labels, a domain the record lacks, no policy in Xen)
 *   identity     the policy identity Xen reports (GETBOOL 0) parsed as a
 *                table; a record with the same name and label ids but
 *                another version/hash is stale and answers nothing;
 *                status and policy show print Xen's identity
 *   checks       update and relabel checked here as Xen would, blockers
 *                worded with the domains' names; the Chinese-Wall reason
 *   commands     policy load (real and dry run, blocked: Xen not called),
 *                --record, relabel, dry-run CFG, list, mode
 *
 * The policies are tests/xen/acm-tenants*.xml, compiled with hvsec-polc
 * from $HVSEC_BUILD/bin (default build/bin).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tools/hvt_xen.h"

/* ------------------------------------------------------- the fake Xen */

static struct hvt_policy fx_pol; /* what "Xen" runs; p NULL: none */
static struct hvt_xdom fx_doms[8];
static size_t fx_n;
static struct hvt_xshare fx_sh[8];
static size_t fx_nsh;
static int fx_loads, fx_relabels, fx_load_rc;
static uint32_t fx_relabel_dom, fx_relabel_sid;

struct hvt_xc {
	int unused;
};
static struct hvt_xc fx_handle;

int hvt_xc_open(struct hvt_xc **out, char *why, size_t why_len)
{
	(void)why;
	(void)why_len;
	*out = &fx_handle;
	return 0;
}

void hvt_xc_close(struct hvt_xc *x)
{
	(void)x;
}

int hvt_xc_domains(struct hvt_xc *x, struct hvt_xdom **out, size_t *n)
{
	(void)x;
	*out = calloc(fx_n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, fx_doms, fx_n * sizeof(**out));
	*n = fx_n;
	return 0;
}

int hvt_xc_getenforce(struct hvt_xc *x)
{
	(void)x;
	return 1;
}

int hvt_xc_setenforce(struct hvt_xc *x, int mode)
{
	(void)x;
	return mode ? 0 : -EOPNOTSUPP;
}

int hvt_xc_load(struct hvt_xc *x, const void *blob, size_t len)
{
	(void)x;
	(void)blob;
	(void)len;
	fx_loads++;
	return fx_load_rc;
}

int hvt_xc_ctx2sid(struct hvt_xc *x, const char *ctx, uint32_t *sid)
{
	char pol[300], lab[300];
	acm_row_t r;

	(void)x;
	if (!fx_pol.p)
		return -ENOENT;
	if (!hvt_xen_ctx_parse(ctx, pol, sizeof(pol), lab, sizeof(lab)) ||
	    (pol[0] && strcmp(pol, fx_pol.info.name)))
		return -EINVAL;
	r = acm_label_find(fx_pol.p, ACM_LABEL_VM, lab);
	if (r == ACM_ROW_NONE)
		return -EINVAL;
	*sid = acm_label_id(fx_pol.p, r);
	return 0;
}

int hvt_xc_sid2ctx(struct hvt_xc *x, uint32_t sid, char *buf, size_t len)
{
	acm_row_t r;

	(void)x;
	if (!fx_pol.p)
		return -ENOENT;
	r = acm_label_find_id(fx_pol.p, sid);
	if (r == ACM_ROW_NONE)
		return -EINVAL;
	snprintf(buf, len, "ACM:%s:%s", fx_pol.info.name,
		 acm_label_name(fx_pol.p, r));
	return 0;
}

/* As acm_xsm.c get_identity: FLASK_GETBOOL of boolean 0.  fx_ident_rc
 * set: a module that does not answer it (or garbles it, -EPROTO...). */
static int fx_ident_rc;
static const char *fx_ident_line; /* non-NULL: answered verbatim */

int hvt_xc_identity(struct hvt_xc *x, char *buf, size_t len)
{
	char src[65], sum[65];

	(void)x;
	if (!fx_pol.p)
		return -ENOENT;
	if (fx_ident_rc)
		return fx_ident_rc;
	if (fx_ident_line) {
		snprintf(buf, len, "%s", fx_ident_line);
		return 0;
	}
	for (unsigned i = 0; i < ACM_SHA256_LEN; i++) {
		sprintf(src + 2 * i, "%02x", fx_pol.info.source_sha256[i]);
		sprintf(sum + 2 * i, "%02x", fx_pol.info.blob_sha256[i]);
	}
	snprintf(buf, len, "hvsec-acm-policy 1 %u.%u %s %s %s",
		 fx_pol.info.version_major, fx_pol.info.version_minor, src, sum,
		 fx_pol.info.name);
	return 0;
}

int hvt_xc_relabel(struct hvt_xc *x, uint32_t domid, uint32_t sid)
{
	(void)x;
	fx_relabels++;
	fx_relabel_dom = domid;
	fx_relabel_sid = sid;
	return 0;
}

int hvt_xc_shares(struct hvt_xc *x, const struct hvt_xdom *doms, size_t n,
		  struct hvt_xshare **out, size_t *n_out)
{
	(void)x;
	(void)doms;
	(void)n;
	*out = calloc(fx_nsh + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, fx_sh, fx_nsh * sizeof(**out));
	*n_out = fx_nsh;
	return 0;
}

void hvt_xc_version(struct hvt_xc *x, char *buf, size_t len)
{
	(void)x;
	snprintf(buf, len, "4.17-fake");
}

/* ------------------------------------------------------- helpers */

static char tmp[256], polc[512];
static bool run_json; /* the next run() with --json */

static void compile(const char *name)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "'%s' compile '%s/tests/xen/%s.xml' -o '%s/%s.bin' --quiet",
		 polc, th_src_dir(), name, tmp, name);
	if (system(cmd) != 0) {
		TH_CHECK(false, "cannot compile %s (%s)", name, cmd);
		exit(th_done() ? th_done() : 1);
	}
}

static const char *bin(const char *name)
{
	static char path[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s.bin", tmp, name);
	return path[k];
}

static void fx_run(const char *name)
{
	hvt_policy_free(&fx_pol);
	if (name && hvt_policy_file(bin(name), &fx_pol))
		TH_CHECK(false, "fake Xen cannot load %s", name);
}

static uint32_t id_of(const char *label)
{
	acm_row_t r = acm_label_find(fx_pol.p, ACM_LABEL_VM, label);

	return r == ACM_ROW_NONE ? 0 : acm_label_id(fx_pol.p, r);
}

static void fx_dom(uint32_t domid, const char *name, const char *label)
{
	struct hvt_xdom *d = &fx_doms[fx_n++];

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->ssidref = label ? id_of(label) : 0;
	d->flags = HVT_XD_RUNNING;
	d->vcpus = 1;
	d->tot_pages = 32768;
	snprintf(d->name, sizeof(d->name), "%s", name);
}

/* dom0 System, acme1 (1) Acme, initech (2) Initech; dom0 <-> acme1. */
static void fx_tenants(void)
{
	fx_n = 0;
	fx_dom(0, "Domain-0", "System");
	fx_dom(1, "acme1", "Acme");
	fx_dom(2, "initech", "Initech");
	fx_nsh = 1;
	fx_sh[0] = (struct hvt_xshare){0, 1, true};
}

static void set_record(const char *name)
{
	char dir[300], path[400];

	snprintf(dir, sizeof(dir), "%s/state", tmp);
	snprintf(path, sizeof(path), "%s/%s", dir, HVT_XEN_POLICY_FILE);
	unlink(path);
	if (name) {
		size_t len;
		uint8_t *b = th_read_file(bin(name), &len);

		TH_CHECK(hvt_xen_record(dir, b, len) == 0, "record %s", name);
		free(b);
	}
}

/* Runs a command with stdout captured into out. */
static int run(struct hvt_args *a, char *out, size_t len)
{
	struct hvt t = {0};
	char path[300];
	int saved, fd, rc;
	ssize_t n;

	t.platform = HVT_PLAT_XEN;
	t.json = run_json;
	snprintf(t.platform_why, sizeof(t.platform_why), "test");
	t.run_dir = "/nonexistent";
	snprintf(path, sizeof(path), "%s/stdout", tmp);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	rc = hvt_xen_run(&t, a);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

static const struct hvt_opt o_load[] = {
	{"dry-run", 'n', NULL, ""},
	{"revoke", 0, NULL, ""},
	{"record", 0, NULL, ""},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_relabel[] = {
	{"dry-run", 'n', NULL, ""},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_list[] = {
	{"label", 'l', NULL, ""},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_cmd c_load = {"policy load", "P.bin", "", NULL, o_load,
				      true,	     1,	      1,  NULL, false};
static const struct hvt_cmd c_update = {
	"policy update", "P.bin", "", NULL, o_load, true, 1, 1, NULL, false};
static const struct hvt_cmd c_relabel = {"relabel", "", "", NULL, o_relabel,
					 true,	    2,	2,  NULL, false};
static const struct hvt_cmd c_dry = {"dry-run", "CFG", "", NULL, NULL,
				     true,	1,     1,  NULL, false};
static const struct hvt_cmd c_list = {"list", "", "", NULL, o_list,
				      true,   0,  8,  NULL, false};
static const struct hvt_cmd c_mode = {"mode", "", "", NULL, NULL,
				      true,   0,  2,  NULL, false};
static const struct hvt_cmd c_create = {"create", "", "", NULL, NULL,
					false,	  1,  1,  NULL, false};
static const struct hvt_cmd c_status = {
	"status", "", "", NULL, NULL, true, 0, 0, hvt_cmd_status, false};
static const struct hvt_opt o_show[] = {
	{"save", 0, "FILE", ""},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_cmd c_show = {"policy show", "", "", NULL, o_show,
				      true,	     0,	 0,  NULL, false};

static struct hvt_args args(const struct hvt_cmd *c, const char *opt, char *p0,
			    char *p1)
{
	struct hvt_args a;

	memset(&a, 0, sizeof(a));
	a.cmd = c;
	for (int i = 0; opt && c->opts && c->opts[i].name; i++)
		if (!strcmp(c->opts[i].name, opt))
			a.val[i] = "";
	a.pos[0] = p0;
	a.pos[1] = p1;
	a.n_pos = p1 ? 2 : p0 ? 1 : 0;
	return a;
}

/* ------------------------------------------------------- tests */

static void test_platform(void)
{
	static const struct {
		const char *opt, *env;
		bool run_dir, sock, privcmd;
		int want; /* 0 model, 1 xen, -1 error */
		const char *why;
	} c[] = {
		{NULL, NULL, false, false, false, 0, "no Xen privcmd"},
		{NULL, NULL, false, false, true, 1, "no hvsecd socket"},
		{NULL, NULL, true, false, true, 0, "run directory was named"},
		{NULL, NULL, false, true, true, 0, "so does hvsecd's socket"},
		{"xen", NULL, true, true, false, 1, "--platform"},
		{"model", "xen", false, false, true, 0, "--platform"},
		{NULL, "xen", false, false, false, 1, "$HVSEC_PLATFORM"},
		{NULL, "model", false, false, true, 0, "$HVSEC_PLATFORM"},
		{"auto", "model", false, false, true, 1, "auto"},
		{NULL, "auto", false, false, true, 1, "auto"},
		{"Xen", NULL, false, false, false, -1, "'Xen' is not model"},
		{NULL, "bogus", false, false, false, -1, "'bogus' is not"},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		struct hvt_plat_in in = {c[i].opt, c[i].env, c[i].run_dir,
					 c[i].sock, c[i].privcmd};
		enum hvt_platform p = HVT_PLAT_MODEL;
		char why[128];
		int rc = hvt_platform_pick(&in, &p, why, sizeof(why));

		if (c[i].want < 0)
			TH_CHECK(rc == -1, "platform case %zu refused", i);
		else
			TH_CHECK(rc == 0 && (int)p == c[i].want,
				 "platform case %zu: %s", i, why);
		TH_CHECK(strstr(why, c[i].why) != NULL,
			 "platform case %zu says why: '%s' has '%s'", i, why,
			 c[i].why);
	}
}

static void test_contexts(void)
{
	static const struct {
		const char *in;
		bool ok;
		const char *pol, *lab;
	} c[] = {
		{"ACM:hvsec-xen-test:Acme", true, "hvsec-xen-test", "Acme"},
		{"acm:p:L", true, "p", "L"},
		{"Acme", true, "", "Acme"},
		{"ACM:p:", false, NULL, NULL},
		{"ACM::L", false, NULL, NULL},
		{"ACM:p:L:x", false, NULL, NULL},
		{"ACM:p", false, NULL, NULL},
		{"", false, NULL, NULL},
		{"a:b", false, NULL, NULL},
		{"tab\there", false, NULL, NULL},
		{"system_u:system_r:domU_t", false, NULL, NULL},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		char pol[64] = "?", lab[64] = "?";
		bool ok = hvt_xen_ctx_parse(c[i].in, pol, sizeof(pol), lab,
					    sizeof(lab));

		TH_CHECK(ok == c[i].ok, "context '%s' %s", c[i].in,
			 c[i].ok ? "parses" : "is refused");
		if (ok && c[i].ok)
			TH_CHECK(!strcmp(pol, c[i].pol) &&
					 !strcmp(lab, c[i].lab),
				 "context '%s' -> '%s' '%s'", c[i].in, pol,
				 lab);
	}
	{
		char pol[4], lab[64];

		TH_CHECK(!hvt_xen_ctx_parse("ACM:toolong:L", pol, sizeof(pol),
					    lab, sizeof(lab)),
			 "a policy name longer than the buffer is refused");
	}
}

static void test_record(void)
{
	char dir[300], path[400];
	struct stat st;
	uint8_t *b;
	size_t len;

	snprintf(dir, sizeof(dir), "%s/deep/er/state", tmp);
	snprintf(path, sizeof(path), "%s/%s", dir, HVT_XEN_POLICY_FILE);
	TH_CHECK(hvt_xen_record(dir, "abc", 3) == 0,
		 "record makes the directories");
	b = th_read_file(path, &len);
	TH_CHECK(len == 3 && !memcmp(b, "abc", 3), "record holds the blob");
	free(b);
	TH_CHECK(hvt_xen_record(dir, "defgh", 5) == 0, "record replaces");
	b = th_read_file(path, &len);
	TH_CHECK(len == 5 && !memcmp(b, "defgh", 5), "record replaced");
	free(b);
	TH_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
		 "record is 0644");
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, HVT_XEN_POLICY_FILE);
	TH_CHECK(access(path, F_OK) != 0, "no temporary file is left");
	TH_CHECK(hvt_xen_record("/proc/nope", "a", 1) < 0,
		 "record into an impossible place fails");
}

static void test_state(void)
{
	struct hvt_xstate s;
	struct hvt_xc *x = &fx_handle;

	fx_run("acm-tenants");
	fx_tenants();
	set_record(NULL);
	TH_CHECK(hvt_xstate_read(x, &s) == 0, "state without a record");
	TH_CHECK(s.has_policy && !strcmp(s.policy, "hvsec-xen-test"),
		 "the running policy's name comes from dom0's context ('%s')",
		 s.policy);
	TH_CHECK(s.n_doms == 3 && !strcmp(s.ctx[1], "ACM:hvsec-xen-test:Acme"),
		 "each domain's context ('%s')", s.ctx[1]);
	TH_CHECK(s.rec == HVT_REC_NONE, "no record");
	TH_CHECK(s.enforce == 1, "enforcing");
	hvt_xstate_free(&s);

	set_record("acm-tenants");
	hvt_xstate_read(x, &s);
	TH_CHECK(s.rec == HVT_REC_MATCH, "the record agrees (%s)", s.rec_why);
	hvt_xstate_free(&s);

	set_record("acm-tenants-update");
	hvt_xstate_read(x, &s);
	TH_CHECK(s.rec == HVT_REC_STALE && strstr(s.rec_why, "Hooli"),
		 "a record with a label Xen lacks is stale: %s", s.rec_why);
	hvt_xstate_free(&s);

	/* Xen runs 1.1 with a Hooli domain; the record is 1.0. */
	fx_run("acm-tenants-update");
	fx_tenants();
	fx_dom(3, "hooli", "Hooli");
	set_record("acm-tenants");
	hvt_xstate_read(x, &s);
	TH_CHECK(s.rec == HVT_REC_STALE && strstr(s.rec_why, "domain 3"),
		 "a domain whose label the record lacks: stale: %s", s.rec_why);
	hvt_xstate_free(&s);

	/* Fail-closed: no policy, dom0 unlabelled. */
	fx_run(NULL);
	fx_n = 0;
	fx_dom(0, "Domain-0", NULL);
	hvt_xstate_read(x, &s);
	TH_CHECK(!s.has_policy && s.rec == HVT_REC_STALE &&
			 strstr(s.rec_why, "no policy"),
		 "no policy in Xen: %s", s.rec_why);
	hvt_xstate_free(&s);

	/* A record that is no policy. */
	fx_run("acm-tenants");
	fx_tenants();
	{
		char dir[300];

		snprintf(dir, sizeof(dir), "%s/state", tmp);
		hvt_xen_record(dir, "HVSPgarbage", 11);
	}
	hvt_xstate_read(x, &s);
	TH_CHECK(s.rec == HVT_REC_BAD, "a broken record is reported");
	hvt_xstate_free(&s);
}

static bool has_kind(const struct acm_blocker *bl, size_t n,
		     enum acm_blocker_kind k)
{
	for (size_t i = 0; i < n; i++)
		if (bl[i].kind == k)
			return true;
	return false;
}

static void test_checks(void)
{
	struct acm_blocker bl[16];
	struct hvt_policy np = {0};
	struct hvt_xstate s;
	struct hv_ctl_domain_info *infos = NULL;
	size_t n = 0, n_infos = 0;
	char text[512];
	acm_row_t r;

	fx_run("acm-tenants");
	fx_tenants();
	set_record("acm-tenants");
	hvt_xstate_read(&fx_handle, &s);

	hvt_policy_file(bin("acm-tenants-update"), &np);
	TH_CHECK(hvt_xen_check_update(&s, np.p, fx_sh, fx_nsh, bl, 16, &n) ==
				 0 &&
			 n == 0,
		 "1.0 -> 1.1 passes (%zu blockers)", n);
	hvt_policy_free(&np);

	hvt_policy_file(bin("acm-tenants-break"), &np);
	hvt_xen_check_update(&s, np.p, fx_sh, fx_nsh, bl, 16, &n);
	TH_CHECK(n >= 1 && has_kind(bl, n, ACM_B_SHARING),
		 "1.0 -> break is blocked by the dom0 <-> acme1 channel (%zu)",
		 n);
	for (size_t i = 0; i < n; i++)
		if (bl[i].kind == ACM_B_SHARING) {
			hvt_xen_blocker_text(&s, s.pol.p, np.p, &bl[i], text,
					     sizeof(text));
			TH_CHECK(strstr(text, "Domain-0 (0) and acme1 (1)") &&
					 strstr(text, "evtchn interdomain"),
				 "the blocker names both domains and the "
				 "hook: %s",
				 text);
		}
	/* Without the channel nothing is shared: the same update passes. */
	hvt_xen_check_update(&s, np.p, NULL, 0, bl, 16, &n);
	TH_CHECK(n == 0, "break passes with no live channel (%zu)", n);
	hvt_policy_free(&np);

	hvt_policy_file(bin("acm-tenants"), &np);
	hvt_xen_check_update(&s, np.p, fx_sh, fx_nsh, bl, 16, &n);
	TH_CHECK(n >= 1 && has_kind(bl, n, ACM_B_VERSION),
		 "1.0 -> 1.0 is refused by version");
	hvt_policy_free(&np);

	r = acm_label_find(s.pol.p, ACM_LABEL_VM, "Globex");
	hvt_xen_check_relabel(&s, 2, r, fx_sh, fx_nsh, bl, 16, &n);
	TH_CHECK(n >= 1 && has_kind(bl, n, ACM_B_CHWALL_CONFLICT),
		 "initech -> Globex next to acme1 is blocked (%zu)", n);
	if (n) {
		hvt_xen_blocker_text(&s, s.pol.p, s.pol.p, &bl[0], text,
				     sizeof(text));
		TH_CHECK(strstr(text, "AcmeVsGlobex") && strstr(text, "acme1"),
			 "the CW blocker names the set and the domain: %s",
			 text);
	}
	r = acm_label_find(s.pol.p, ACM_LABEL_VM, "Acme");
	hvt_xen_check_relabel(&s, 2, r, fx_sh, fx_nsh, bl, 16, &n);
	TH_CHECK(n == 0, "initech -> Acme passes (%zu)", n);

	TH_CHECK(hvt_xstate_infos(&s, &infos, &n_infos) == 0 && n_infos == 3,
		 "infos");
	r = acm_label_find(s.pol.p, ACM_LABEL_VM, "Globex");
	hvt_chwall_why(&s.pol, r, infos, n_infos, text, sizeof(text));
	TH_CHECK(strstr(text, "running domain acme1 (id 1)") &&
			 strstr(text, "AcmeVsGlobex"),
		 "a Globex create is explained: %s", text);
	r = acm_label_find(s.pol.p, ACM_LABEL_VM, "Initech");
	hvt_chwall_why(&s.pol, r, infos, n_infos, text, sizeof(text));
	TH_CHECK(text[0] == '\0', "an Initech create would pass: '%s'", text);
	free(infos);
	hvt_xstate_free(&s);
}

static void json_cb(void *ctx, const char *path, enum hvt_jtype t,
		    const char *value)
{
	(void)ctx;
	(void)path;
	(void)t;
	(void)value;
}

static void write_cfg(const char *name, const char *label, char *path,
		      size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s.cfg", tmp, name);
	f = fopen(path, "w");
	fprintf(f, "name = \"%s\"\nkernel = \"/bin/true\"\nmemory = 128\n",
		name);
	if (label)
		fprintf(f, "seclabel = \"%s\"\n", label);
	fclose(f);
}

static void test_commands(void)
{
	static char out[16384];
	struct hvt_args a;
	char cfg[300], path[400];
	int rc;

	fx_run("acm-tenants");
	fx_tenants();
	set_record("acm-tenants");

	/* policy update --dry-run break: blocked, Xen not called. */
	fx_loads = 0;
	a = args(&c_update, "dry-run", (char *)bin("acm-tenants-break"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && strstr(out, "NOT updated") &&
			 strstr(out, "Domain-0 (0) and acme1 (1)") &&
			 fx_loads == 0,
		 "update --dry-run of break: exit %d, %s", rc, out);
	a = args(&c_update, NULL, (char *)bin("acm-tenants-break"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && fx_loads == 0,
		 "update of break: blocked here, Xen not asked (exit %d)", rc);

	/* --json: one valid document, blockers with their kind. */
	run_json = true;
	a = args(&c_update, "dry-run", (char *)bin("acm-tenants-break"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && strstr(out, "\"blocked\":true") &&
			 strstr(out, "\"kind\":\"sharing would break\"") &&
			 hvt_jsonr_walk(out, strlen(out), json_cb, NULL) == 0,
		 "update --dry-run --json of break: exit %d, %s", rc, out);
	a = args(&c_list, NULL, NULL, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 &&
			 strstr(out,
				"\"context\":\"ACM:hvsec-xen-test:Acme\"") &&
			 hvt_jsonr_walk(out, strlen(out), json_cb, NULL) == 0,
		 "list --json: %s", out);
	run_json = false;

	/* A real update: Xen called, the record replaced. */
	a = args(&c_update, NULL, (char *)bin("acm-tenants-update"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && fx_loads == 1 && strstr(out, "updated on Xen"),
		 "update 1.1: exit %d, %s", rc, out);
	{
		size_t l1, l2;
		uint8_t *b1, *b2;

		snprintf(path, sizeof(path), "%s/state/%s", tmp,
			 HVT_XEN_POLICY_FILE);
		b1 = th_read_file(path, &l1);
		b2 = th_read_file(bin("acm-tenants-update"), &l2);
		TH_CHECK(l1 == l2 && !memcmp(b1, b2, l1),
			 "the loaded policy is recorded");
		free(b1);
		free(b2);
	}
	/* Xen refusing (the host changed meanwhile): exit 1, no record. */
	fx_run("acm-tenants");
	set_record("acm-tenants");
	fx_load_rc = -EBUSY;
	a = args(&c_load, NULL, (char *)bin("acm-tenants-update"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO, "Xen's EBUSY is exit 1 (%d)", rc);
	fx_load_rc = -EINVAL;
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_USAGE, "Xen's EINVAL is exit 2 (%d)", rc);
	fx_load_rc = 0;
	a = args(&c_load, "revoke", (char *)bin("acm-tenants-update"), NULL);
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "--revoke is refused on Xen");
	a = args(&c_load, NULL, "/nonexistent.bin", NULL);
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "a missing policy file is exit 2");

	/* --record: what Xen runs, or not. */
	set_record(NULL);
	a = args(&c_load, "record", (char *)bin("acm-tenants-update"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && strstr(out, "Hooli"),
		 "--record of a policy Xen does not run: exit %d, %s", rc, out);
	a = args(&c_load, "record", (char *)bin("acm-tenants"), NULL);
	fx_loads = 0;
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && fx_loads == 0 && strstr(out, "recorded"),
		 "--record of the running policy: exit %d, %s", rc, out);

	/* relabel */
	a = args(&c_relabel, NULL, "initech", "Globex");
	fx_relabels = 0;
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && fx_relabels == 0 &&
			 strstr(out, "AcmeVsGlobex"),
		 "relabel initech Globex: exit %d, %s", rc, out);
	a = args(&c_relabel, NULL, "2", "ACM:hvsec-xen-test:Acme");
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && fx_relabels == 1 && fx_relabel_dom == 2 &&
			 fx_relabel_sid == id_of("Acme"),
		 "relabel 2 Acme: exit %d, %s", rc, out);
	a = args(&c_relabel, NULL, "nobody", "Acme");
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "relabel of an unknown domain is exit 2");
	a = args(&c_relabel, NULL, "initech", "Nobody");
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "relabel to an unknown label is exit 2");

	/* dry-run CFG */
	write_cfg("globexf", "ACM:hvsec-xen-test:Globex", cfg, sizeof(cfg));
	a = args(&c_dry, NULL, cfg, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO &&
			 strstr(out, "type Globex conflicts with type Acme of "
				     "running domain acme1 (id 1)") &&
			 strstr(out, "DENIED"),
		 "dry-run of a Globex config: exit %d, %s", rc, out);
	write_cfg("ini2", "ACM:hvsec-xen-test:Initech", cfg, sizeof(cfg));
	a = args(&c_dry, NULL, cfg, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && strstr(out, "PERMITTED"),
		 "dry-run of an Initech config: exit %d, %s", rc, out);
	write_cfg("unl", NULL, cfg, sizeof(cfg));
	a = args(&c_dry, NULL, cfg, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && strstr(out, "__UNLABELED__"),
		 "dry-run of an unlabelled config: exit %d, %s", rc, out);
	write_cfg("other", "ACM:other-policy:Acme", cfg, sizeof(cfg));
	a = args(&c_dry, NULL, cfg, NULL);
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "a config for another policy is exit 2");

	/* list */
	a = args(&c_list, "label", NULL, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && strstr(out, "ACM:hvsec-xen-test:System") &&
			 strstr(out, "initech") && strstr(out, "r-----"),
		 "list --label: %s", out);
	a = args(&c_list, NULL, "acme1", NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && strstr(out, "acme1") && !strstr(out, "initech"),
		 "list NAME: %s", out);
	a = args(&c_list, NULL, "ghost", NULL);
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "list of an unknown domain is exit 2");

	/* mode, and what is not here */
	a = args(&c_mode, NULL, NULL, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && !strcmp(out, "enforcing\n"), "mode: %s", out);
	a = args(&c_mode, NULL, "permissive", NULL);
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_NO,
		 "mode permissive: Xen has none (exit 1)");
	a = args(&c_create, NULL, cfg, NULL);
	TH_CHECK(run(&a, out, sizeof(out)) == HVT_USAGE,
		 "create is refused on the xen platform");
}

static void test_identity(void)
{
	static const char h0[] = "0000000000000000000000000000000000000000"
				 "000000000000000000000000";
	static const char hf[] = "ffffffffffffffffffffffffffffffffffffffff"
				 "ffffffffffffffffffffffff";
	/* line = head ' ' source-hash ' ' blob-hash tail; mangle 1 drops
	 * the source hash's last digit, 2 appends 'F' to the blob hash. */
	static const struct {
		const char *head, *tail;
		int mangle;
		bool ok;
		uint32_t major, minor;
		const char *name;
	} c[] = {
		{"hvsec-acm-policy 1 1.3", " hvsec-xen-test", 0, true, 1, 3,
		 "hvsec-xen-test"},
		{"hvsec-acm-policy 1 0.0", " a b", 0, true, 0, 0, "a b"},
		{"hvsec-acm-policy 1 4294967295.10", " p", 0, true, 4294967295u,
		 10, "p"},
		{"hvsec-acm-policy 1 4294967296.0", " p", 0, false, 0, 0, NULL},
		{"hvsec-acm-policy 2 1.3", " p", 0, false, 0, 0, NULL},
		{"hvsec-acm-policy 1 01.3", " p", 0, false, 0, 0, NULL},
		{"hvsec-acm-policy 1 1", " p", 0, false, 0, 0, NULL},
		{"hvsec-acm-policy 1 1.3", " ", 0, false, 0, 0, NULL},
		{"hvsec-acm-policy 1 1.3", "", 0, false, 0, 0, NULL},
		{"hvsec-acm-policy 1 1.3", " p", 1, false, 0, 0, NULL},
		{"hvsec-acm-policy 1 1.3", " p", 2, false, 0, 0, NULL},
		{"HVSEC-acm-policy 1 1.3", " p", 0, false, 0, 0, NULL},
	};
	static char out[16384];
	struct hvt_xc *x = &fx_handle;
	struct hvt_xident id;
	struct hvt_xstate s;
	struct hvt_args a;
	char line[600], cfg[300];
	int rc;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bool ok;

		snprintf(line, sizeof(line), "%s %.*s %s%s%s", c[i].head,
			 c[i].mangle == 1 ? 63 : 64, h0, hf,
			 c[i].mangle == 2 ? "F" : "", c[i].tail);
		ok = hvt_xen_ident_parse(line, &id);
		TH_CHECK(ok == c[i].ok &&
				 (!ok || (id.major == c[i].major &&
					  id.minor == c[i].minor &&
					  !strcmp(id.name, c[i].name) &&
					  id.source_sha256[31] == 0 &&
					  id.blob_sha256[0] == 0xff)),
			 "identity '%s': %s", line, ok ? "parsed" : "refused");
	}
	{
		char big[700];

		snprintf(big, sizeof(big), "hvsec-acm-policy 1 1.0 %s %s ", h0,
			 hf);
		memset(big + strlen(big), 'n', 256);
		big[sizeof(big) - 1] = '\0';
		big[strlen(big)] = '\0';
		TH_CHECK(!hvt_xen_ident_parse(big, &id),
			 "an identity with a name over 255 bytes is refused");
	}

	/* Xen runs 1.3 (every label id of 1.2 kept); the record is 1.2. */
	fx_run("acm-tenants-update3");
	fx_tenants();
	set_record("acm-tenants-update2");
	hvt_xstate_read(x, &s);
	TH_CHECK(s.has_ident && s.ident.major == 1 && s.ident.minor == 3 &&
			 !strcmp(s.ident.name, "hvsec-xen-test") &&
			 !memcmp(s.ident.blob_sha256, fx_pol.info.blob_sha256,
				 ACM_SHA256_LEN),
		 "Xen's identity is read (%d)", s.ident_rc);
	TH_CHECK(s.rec == HVT_REC_STALE &&
			 strstr(s.rec_why, "Xen runs 'hvsec-xen-test' 1.3") &&
			 strstr(s.rec_why, "this is 'hvsec-xen-test' 1.2") &&
			 strstr(s.rec_why, "same name and label ids"),
		 "same name and label ids, other version: stale: %s",
		 s.rec_why);
	hvt_xstate_free(&s);

	/* Stale: no offline answer from it. */
	write_cfg("ini3", "ACM:hvsec-xen-test:Initech", cfg, sizeof(cfg));
	a = args(&c_dry, NULL, cfg, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_USAGE && !strstr(out, "would"),
		 "dry-run refuses to answer from the stale record (exit %d)",
		 rc);
	/* Recording the 1.2 Xen does not run is refused; the 1.3 is not. */
	a = args(&c_load, "record", (char *)bin("acm-tenants-update2"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == HVT_NO && strstr(out, "another policy"),
		 "--record of the 1.2: refused: exit %d, %s", rc, out);
	a = args(&c_status, NULL, NULL, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 &&
			 strstr(out, "Policy      hvsec-xen-test 1.3, "
				     "trailer sha256 ") &&
			 strstr(out, ": stale: Xen runs"),
		 "status names Xen's identity and the stale record: %s", out);
	a = args(&c_load, "record", (char *)bin("acm-tenants-update3"), NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && strstr(out, "version, hash"),
		 "--record of the 1.3: exit %d, %s", rc, out);
	hvt_xstate_read(x, &s);
	TH_CHECK(s.rec == HVT_REC_MATCH, "the 1.3 record agrees (%s)",
		 s.rec_why);
	hvt_xstate_free(&s);
	a = args(&c_show, NULL, NULL, NULL);
	rc = run(&a, out, sizeof(out));
	{
		char want[128] = "  Trailer   sha256 ";

		for (unsigned i = 0; i < ACM_SHA256_LEN; i++)
			sprintf(want + 19 + 2 * i, "%02x",
				fx_pol.info.blob_sha256[i]);
		TH_CHECK(rc == 0 &&
				 strstr(out, "Policy      hvsec-xen-test 1.3 "
					     "(as Xen reports it)") &&
				 strstr(out, want) && strstr(out, "agrees"),
			 "policy show prints Xen's identity: %s", out);
	}
	run_json = true;
	a = args(&c_status, NULL, NULL, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && strstr(out, "\"xen_policy_version\":\"1.3\"") &&
			 hvt_jsonr_walk(out, strlen(out), json_cb, NULL) == 0,
		 "status --json: %s", out);
	run_json = false;

	/* A module that does not answer (or garbles) the identity: the
	 * name and label checks alone, as before; status says so. */
	set_record("acm-tenants-update2");
	fx_ident_rc = -EOPNOTSUPP;
	hvt_xstate_read(x, &s);
	TH_CHECK(!s.has_ident && s.rec == HVT_REC_MATCH,
		 "no identity from Xen: the label ids decide (%s)", s.rec_why);
	hvt_xstate_free(&s);
	a = args(&c_status, NULL, NULL, NULL);
	rc = run(&a, out, sizeof(out));
	TH_CHECK(rc == 0 && strstr(out, "no version or hash from Xen: "
					"EOPNOTSUPP"),
		 "status without an identity: %s", out);
	fx_ident_rc = 0;
	fx_ident_line = "hvsec-acm-policy 1 1.3 garbage";
	hvt_xstate_read(x, &s);
	TH_CHECK(!s.has_ident && s.ident_rc == -EPROTO,
		 "a garbled identity is not used (%d)", s.ident_rc);
	hvt_xstate_free(&s);
	fx_ident_line = NULL;

	/* No policy in Xen: no identity asked for. */
	fx_run(NULL);
	fx_n = 0;
	fx_dom(0, "Domain-0", NULL);
	hvt_xstate_read(x, &s);
	TH_CHECK(!s.has_ident && s.ident_rc == -ENOENT, "fail-closed: none");
	hvt_xstate_free(&s);
	set_record(NULL);
}

int main(void)
{
	const char *b = getenv("HVSEC_BUILD");
	char tmpl[] = "/tmp/hvsec-test-xen.XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s", tmpl);
	snprintf(polc, sizeof(polc), "%s/bin/hvsec-polc",
		 b && *b ? b : "build");
	{
		char st[300];

		snprintf(st, sizeof(st), "%s/state", tmp);
		setenv(HVT_XEN_STATE_ENV, st, 1);
	}
	compile("acm-tenants");
	compile("acm-tenants-update");
	compile("acm-tenants-break");
	compile("acm-tenants-update2");
	compile("acm-tenants-update3");

	test_platform();
	test_contexts();
	test_record();
	test_state();
	test_checks();
	test_commands();
	test_identity();

	hvt_policy_free(&fx_pol);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmp);
	}
	return th_done();
}
