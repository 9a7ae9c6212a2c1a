// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_parse.c - real policies compile, and compile deterministically.
 *
 *   - every Xen ACM policy in $HVSEC_SHARED/xen-acm-policies (default
 *     <checkout>/../shared) parses, passes the checks, emits; the model
 *     holds what the file says (table of facts per file); emitting twice
 *     gives the same bytes, and the header carries SHA-256 of the
 *     canonical text;
 *   - the same policy written in another element order (and other
 *     whitespace, comments, empty <Type/>s) gives identical bytes and an
 *     identical canonical hash, while a change of meaning changes both;
 *   - a policy with 10,000 types and 10,000 labels compiles quickly.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "policy-compiler/polc.h"
#include "tests/harness.h"

struct xen_policy {
	const char *file;
	const char *name;
	bool has_version;
	uint32_t major, minor;
	bool has_from;
	bool has_ste, has_cw;
	size_t n_ste, n_cw, n_sets, n_vm, n_res;
	const char *bootstrap;
};

/* What each file says, counted independently of the compiler. */
static const struct xen_policy xen[] = {
	{"default-security_policy.xml", "DEFAULT", true, 1, 0, false, true,
	 true, 1, 1, 0, 1, 0, "SystemManagement"},
	{"default-ul-security_policy.xml", "DEFAULT-UL", true, 1, 0, false,
	 true, true, 2, 1, 0, 2, 0, "SystemManagement"},
	{"example_chwall_client_v1-security_policy.xml",
	 "example.chwall.client_v1", false, 0, 0, false, false, true, 0, 4, 1,
	 6, 0, "dom_SystemManagement"},
	{"example_chwall_ste_client_v1-security_policy.xml",
	 "example.chwall_ste.client_v1", false, 0, 0, false, true, true, 6, 4,
	 1, 6, 7, "dom_SystemManagement"},
	{"example_ste_client_v1-security_policy.xml", "example.ste.client_v1",
	 false, 0, 0, false, true, false, 6, 0, 0, 6, 7,
	 "dom_SystemManagement"},
	{"example_test-security_policy.xml", "example.test", true, 1, 0, false,
	 true, true, 3, 4, 0, 4, 3, "SystemManagement"},
	{"xm-test-new-security_policy.xml", "xm-test", true, 1, 1, true, true,
	 true, 3, 3, 1, 3, 3, "SystemManagement"},
	{"xm-test-security_policy.xml", "xm-test", true, 1, 0, false, true,
	 true, 4, 4, 1, 4, 4, "SystemManagement"},
	{"xm-test-update-security_policy.xml", "xm-test-update", true, 1, 1,
	 true, true, true, 4, 4, 1, 4, 4, "SystemManagement"},
};

static char *shared_dir(void)
{
	const char *env = getenv("HVSEC_SHARED");
	char *dir;

	if (env && *env)
		return strdup(env);
	if (asprintf(&dir, "%s/../shared", th_src_dir()) < 0)
		abort();
	return dir;
}

static char *diag_text(const struct polc_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	polc_diags_print(d, f);
	fclose(f);
	return text;
}

struct compiled {
	uint8_t *blob;
	size_t len;
	uint8_t canon_sha[SHA256_DIGEST_LENGTH];
	bool ok;
};

/* parse + check + emit, with every step's diagnostics in the failure
 * message; `p` keeps the model for the caller when non-NULL. */
static struct compiled compile(const char *what, const char *path,
			       const char *buf, size_t len,
			       struct polc_policy *keep)
{
	struct compiled c = {.ok = false};
	struct polc_diags d = {.path = NULL};
	struct polc_policy p;
	char *canon = NULL, *text;
	size_t canon_len, errors;
	int r;

	r = buf ? polc_parse_xml_mem(buf, len, what, NULL, &p, &d)
		: polc_parse_xml(path, NULL, &p, &d);
	text = diag_text(&d);
	if (!TH_CHECK(r == 0, "%s: parses\n%s", what, text))
		goto out;
	errors = polc_check(&p, NULL, &d);
	free(text);
	text = diag_text(&d);
	TH_CHECK(errors == 0 && d.n_errors == 0, "%s: no errors\n%s", what,
		 text);
	r = polc_emit(&p, &c.blob, &c.len, &d);
	TH_CHECK(r == 0 && c.blob && c.len > 0, "%s: emits", what);
	r |= polc_canonical(&p, &canon, &canon_len);
	TH_CHECK(r == 0, "%s: canonical text", what);
	if (r == 0) {
		SHA256((const uint8_t *)canon, canon_len, c.canon_sha);
		c.ok = true;
	}
	free(canon);
	if (keep)
		*keep = p;
	else
		polc_policy_free(&p);
out:
	free(text);
	polc_diags_free(&d);
	return c;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The hashes a reader relies on: header source hash and trailer. */
static void check_hashes(const char *what, const struct compiled *c)
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (!c->ok || c->len < 64 + 32)
		return;
	TH_CHECK(le32(c->blob + 8) == c->len, "%s: total_len", what);
	TH_CHECK(memcmp(c->blob + 32, c->canon_sha, 32) == 0,
		 "%s: source_sha256 is SHA-256 of the canonical text", what);
	SHA256(c->blob, c->len - 32, md);
	TH_CHECK(memcmp(c->blob + c->len - 32, md, 32) == 0,
		 "%s: trailer is SHA-256 of the rest", what);
}

static void check_facts(const struct xen_policy *x, const struct polc_policy *p)
{
	size_t i, vm = 0, res = 0;

	for (i = 0; i < p->n_labels; i++) {
		vm += p->labels[i].kind == ACM_LABEL_VM;
		res += p->labels[i].kind == ACM_LABEL_RESOURCE;
	}
	TH_CHECK(strcmp(p->name.name, x->name) == 0, "%s: name %s", x->file,
		 p->name.name);
	TH_CHECK(p->has_version == x->has_version &&
			 p->version_major == x->major &&
			 p->version_minor == x->minor,
		 "%s: version", x->file);
	TH_CHECK(p->has_from == x->has_from, "%s: FromPolicy", x->file);
	TH_CHECK(p->has_ste == x->has_ste && p->has_cw == x->has_cw,
		 "%s: components", x->file);
	TH_CHECK(p->ste_types.n == x->n_ste && p->cw_types.n == x->n_cw &&
			 p->n_conflicts == x->n_sets,
		 "%s: %zu STE, %zu CW types, %zu sets", x->file, p->ste_types.n,
		 p->cw_types.n, p->n_conflicts);
	TH_CHECK(vm == x->n_vm && res == x->n_res, "%s: %zu VM, %zu res",
		 x->file, vm, res);
	TH_CHECK(strcmp(p->bootstrap.name, x->bootstrap) == 0, "%s: bootstrap",
		 x->file);
	TH_CHECK(p->name.line > 0 && p->bootstrap.line > 0 &&
			 (!p->n_labels || p->labels[0].name.line > 0),
		 "%s: names carry lines", x->file);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void xen_policies(void)
{
	char *dir = shared_dir(), *sub, **files = NULL;
	size_t n = 0, i, k;
	struct dirent *de;
	DIR *dh;

	if (asprintf(&sub, "%s/xen-acm-policies", dir) < 0)
		abort();
	dh = opendir(sub);
	if (!TH_CHECK(dh, "open %s (set HVSEC_SHARED)", sub))
		goto out;
	while ((de = readdir(dh))) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
			continue;
		files = realloc(files, (n + 1) * sizeof(*files));
		if (!files || !(files[n++] = strdup(de->d_name)))
			abort();
	}
	closedir(dh);
	qsort(files, n, sizeof(*files), name_cmp);
	TH_CHECK(n >= TH_ARRAY_LEN(xen), "%zu Xen policies found", n);
	for (k = 0; k < TH_ARRAY_LEN(xen); k++) {
		bool found = false;

		for (i = 0; i < n; i++)
			found |= strcmp(files[i], xen[k].file) == 0;
		TH_CHECK(found, "%s is in %s", xen[k].file, sub);
	}
	for (i = 0; i < n; i++) {
		struct compiled a, b;
		struct polc_policy p;
		char *path;

		if (asprintf(&path, "%s/%s", sub, files[i]) < 0)
			abort();
		memset(&p, 0, sizeof(p));
		a = compile(files[i], path, NULL, 0, &p);
		b = compile(files[i], path, NULL, 0, NULL);
		TH_CHECK(a.ok && b.ok && a.len == b.len &&
				 memcmp(a.blob, b.blob, a.len) == 0,
			 "%s: emitting twice gives the same bytes", files[i]);
		check_hashes(files[i], &a);
		for (k = 0; k < TH_ARRAY_LEN(xen); k++)
			if (a.ok && strcmp(files[i], xen[k].file) == 0)
				check_facts(&xen[k], &p);
		polc_policy_free(&p);
		free(a.blob);
		free(b.blob);
		free(path);
	}
out:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(sub);
	free(dir);
}

/* ------------------------------------------------------------ order */

/* reference/acm.md section 1.3, as written there. */
static const char toy[] =
	"<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">\n"
	"  <PolicyHeader><PolicyName>toy</PolicyName><Version>1.0</Version>"
	"</PolicyHeader>\n"
	"  <SimpleTypeEnforcement><SimpleTypeEnforcementTypes>\n"
	"      <Type>Admin</Type><Type>Blue</Type><Type>Red</Type>\n"
	"  </SimpleTypeEnforcementTypes></SimpleTypeEnforcement>\n"
	"  <ChineseWall><ChineseWallTypes><Type>Admin</Type><Type>Blue</Type>"
	"<Type>Red</Type></ChineseWallTypes>\n"
	"    <ConflictSets><Conflict name=\"BR\"><Type>Blue</Type><Type>Red"
	"</Type></Conflict></ConflictSets>\n"
	"  </ChineseWall>\n"
	"  <SecurityLabelTemplate>\n"
	"    <SubjectLabels bootstrap=\"Admin\">\n"
	"      <VirtualMachineLabel><Name>Admin</Name>\n"
	"        <SimpleTypeEnforcementTypes><Type>Admin</Type><Type>Blue"
	"</Type><Type>Red</Type></SimpleTypeEnforcementTypes>\n"
	"        <ChineseWallTypes><Type>Admin</Type></ChineseWallTypes>"
	"</VirtualMachineLabel>\n"
	"      <VirtualMachineLabel><Name>Blue</Name>\n"
	"        <SimpleTypeEnforcementTypes><Type>Blue</Type>"
	"</SimpleTypeEnforcementTypes>\n"
	"        <ChineseWallTypes><Type>Blue</Type></ChineseWallTypes>"
	"</VirtualMachineLabel>\n"
	"      <VirtualMachineLabel><Name>Red</Name>\n"
	"        <SimpleTypeEnforcementTypes><Type>Red</Type>"
	"</SimpleTypeEnforcementTypes>\n"
	"        <ChineseWallTypes><Type>Red</Type></ChineseWallTypes>"
	"</VirtualMachineLabel>\n"
	"    </SubjectLabels>\n"
	"    <ObjectLabels>\n"
	"      <ResourceLabel><Name>BlueDisk</Name><SimpleTypeEnforcementTypes>"
	"<Type>Blue</Type></SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"      <ResourceLabel><Name>RedDisk</Name><SimpleTypeEnforcementTypes>"
	"<Type>Red</Type></SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"    </ObjectLabels>\n"
	"  </SecurityLabelTemplate>\n"
	"</SecurityPolicyDefinition>\n";

/* The same policy: every list in another order, other whitespace, a
 * comment, an XML declaration, single quotes, an empty <Type/> in a
 * label and a CDATA section. */
static const char toy_shuffled[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<!-- the toy policy, shuffled -->\n"
	"<SecurityPolicyDefinition xmlns='http://www.ibm.com'><PolicyHeader>"
	"<PolicyName>\n  toy\n</PolicyName><Version> 1.0 </Version>"
	"</PolicyHeader><SimpleTypeEnforcement><SimpleTypeEnforcementTypes>"
	"<Type>Red</Type><Type>Admin</Type><Type><![CDATA[Blue]]></Type>"
	"</SimpleTypeEnforcementTypes></SimpleTypeEnforcement><ChineseWall>"
	"<ChineseWallTypes><Type>Red</Type><Type>Blue</Type><Type>Admin</Type>"
	"</ChineseWallTypes><ConflictSets><Conflict name='BR'><Type>Red</Type>"
	"<Type>Blue</Type></Conflict></ConflictSets></ChineseWall>"
	"<SecurityLabelTemplate><SubjectLabels bootstrap='Admin'>"
	"<VirtualMachineLabel><Name>Red</Name><SimpleTypeEnforcementTypes>"
	"<Type>Red</Type><Type/></SimpleTypeEnforcementTypes><ChineseWallTypes>"
	"<Type>Red</Type></ChineseWallTypes></VirtualMachineLabel>"
	"<VirtualMachineLabel><Name>Admin</Name><SimpleTypeEnforcementTypes>"
	"<Type>Red</Type><Type>Blue</Type><Type>Admin</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Admin</Type>"
	"</ChineseWallTypes></VirtualMachineLabel><VirtualMachineLabel>"
	"<Name>Blue</Name><SimpleTypeEnforcementTypes><Type>Blue</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Blue</Type>"
	"</ChineseWallTypes></VirtualMachineLabel></SubjectLabels>"
	"<ObjectLabels><ResourceLabel><Name>RedDisk</Name>"
	"<SimpleTypeEnforcementTypes><Type>Red</Type>"
	"</SimpleTypeEnforcementTypes></ResourceLabel><ResourceLabel>"
	"<Name>BlueDisk</Name><SimpleTypeEnforcementTypes><Type>Blue</Type>"
	"</SimpleTypeEnforcementTypes></ResourceLabel></ObjectLabels>"
	"</SecurityLabelTemplate></SecurityPolicyDefinition>";

/* xm-test-update-security_policy.xml (Xen), every list reordered. */
static const char update_shuffled[] =
	"<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">\n"
	"<PolicyHeader><PolicyName>xm-test-update</PolicyName>\n"
	"<Date>Fri Sep 29 14:44:38 2006</Date><Version>1.1</Version>\n"
	"<FromPolicy><PolicyName>xm-test</PolicyName><Version>1.0</Version>"
	"</FromPolicy></PolicyHeader>\n"
	"<SimpleTypeEnforcement><SimpleTypeEnforcementTypes>\n"
	"<Type>__UNLABELED__</Type><Type>red</Type><Type>GREEN</Type>"
	"<Type>SystemManagement</Type>\n"
	"</SimpleTypeEnforcementTypes></SimpleTypeEnforcement>\n"
	"<ChineseWall priority=\"PrimaryPolicyComponent\"><ChineseWallTypes>\n"
	"<Type>red</Type><Type>__UNLABELED__</Type><Type>SystemManagement"
	"</Type><Type>GREEN</Type>\n"
	"</ChineseWallTypes><ConflictSets><Conflict name=\"RER\"><Type>red"
	"</Type><Type>GREEN</Type></Conflict></ConflictSets></ChineseWall>\n"
	"<SecurityLabelTemplate><SubjectLabels bootstrap=\"SystemManagement\">"
	"\n"
	"<VirtualMachineLabel><Name>__UNLABELED__</Name>"
	"<SimpleTypeEnforcementTypes><Type>__UNLABELED__</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>__UNLABELED__"
	"</Type></ChineseWallTypes></VirtualMachineLabel>\n"
	"<VirtualMachineLabel><Name>red</Name><SimpleTypeEnforcementTypes>"
	"<Type>red</Type></SimpleTypeEnforcementTypes><ChineseWallTypes>"
	"<Type>red</Type></ChineseWallTypes></VirtualMachineLabel>\n"
	"<VirtualMachineLabel><Name>SystemManagement</Name>"
	"<SimpleTypeEnforcementTypes><Type>red</Type><Type>__UNLABELED__"
	"</Type><Type>GREEN</Type><Type>SystemManagement</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>SystemManagement"
	"</Type></ChineseWallTypes></VirtualMachineLabel>\n"
	"<VirtualMachineLabel><Name from=\"green\">GREEN</Name>"
	"<SimpleTypeEnforcementTypes><Type>GREEN</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>GREEN</Type>"
	"</ChineseWallTypes></VirtualMachineLabel>\n"
	"</SubjectLabels><ObjectLabels>\n"
	"<ResourceLabel><Name>__UNLABELED__</Name><SimpleTypeEnforcementTypes>"
	"<Type>__UNLABELED__</Type></SimpleTypeEnforcementTypes>"
	"</ResourceLabel>\n"
	"<ResourceLabel><Name from=\"red\">RED</Name>"
	"<SimpleTypeEnforcementTypes><Type>red</Type>"
	"</SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"<ResourceLabel><Name from=\"green\">GREEN</Name>"
	"<SimpleTypeEnforcementTypes><Type>GREEN</Type>"
	"</SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"<ResourceLabel><Name>SystemManagement</Name>"
	"<SimpleTypeEnforcementTypes><Type>SystemManagement</Type>"
	"</SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"</ObjectLabels></SecurityLabelTemplate></SecurityPolicyDefinition>\n";

static bool same(const struct compiled *a, const struct compiled *b)
{
	return a->ok && b->ok && a->len == b->len &&
	       memcmp(a->blob, b->blob, a->len) == 0 &&
	       memcmp(a->canon_sha, b->canon_sha, sizeof(a->canon_sha)) == 0;
}

/* Replaces the first `from` in `s` (a copy is returned). */
static char *edit(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	if (!at || asprintf(&out, "%.*s%s%s", (int)(at - s), s, to,
			    at + strlen(from)) < 0)
		abort();
	return out;
}

static void element_order(void)
{
	struct compiled a, b, c;
	char *dir = shared_dir(), *path, *changed;
	size_t i;
	const struct {
		const char *from, *to, *what;
	} meaning[] = {
		{"<Name>Blue</Name>", "<Name>Cyan</Name>", "a label name"},
		{"<Version>1.0</Version>", "<Version>1.1</Version>",
		 "the version"},
		{"<ChineseWall>",
		 "<ChineseWall priority="
		 "\"PrimaryPolicyComponent\">",
		 "a priority attribute"},
		{"<Name>Red</Name>", "<Name from=\"Pink\">Red</Name>",
		 "a rename"},
		{"bootstrap=\"Admin\"", "bootstrap=\"Blue\"",
		 "the bootstrap label"},
		{"<Type>Red</Type></Conflict>",
		 "<Type>Red</Type><Type>Admin"
		 "</Type></Conflict>",
		 "a conflict set member"},
	};

	a = compile("toy", NULL, toy, strlen(toy), NULL);
	b = compile("toy-shuffled", NULL, toy_shuffled, strlen(toy_shuffled),
		    NULL);
	TH_CHECK(same(&a, &b), "toy: shuffled element order gives identical "
			       "bytes and canonical hash");
	check_hashes("toy", &a);
	for (i = 0; i < TH_ARRAY_LEN(meaning); i++) {
		changed = edit(toy, meaning[i].from, meaning[i].to);
		c = compile(meaning[i].what, NULL, changed, strlen(changed),
			    NULL);
		TH_CHECK(c.ok && c.len && a.ok &&
				 (c.len != a.len ||
				  memcmp(c.blob, a.blob, a.len) != 0) &&
				 memcmp(c.canon_sha, a.canon_sha, 32) != 0,
			 "toy: changing %s changes bytes and hash",
			 meaning[i].what);
		free(c.blob);
		free(changed);
	}
	free(a.blob);
	free(b.blob);

	if (asprintf(&path,
		     "%s/xen-acm-policies/xm-test-update-security_"
		     "policy.xml",
		     dir) < 0)
		abort();
	a = compile("xm-test-update", path, NULL, 0, NULL);
	b = compile("xm-test-update-shuffled", NULL, update_shuffled,
		    strlen(update_shuffled), NULL);
	TH_CHECK(same(&a, &b), "xm-test-update: shuffled element order gives "
			       "identical bytes and canonical hash");
	free(a.blob);
	free(b.blob);
	free(path);
	free(dir);
}

/* ------------------------------------------------------------ scale */

/* 10,000 STE types and 10,000 labels (9,000 VM, each with two types, and
 * 1,000 resource labels), one element per line: proves the compiler copes
 * with a large policy and that line numbers past 65535 are right.  How fast
 * it does so is measured by bench/ (make bench), never asserted here. */
static void scale(void)
{
	const unsigned n_types = 10000, n_vm = 9000, n_res = 1000;
	struct polc_diags d = {.path = NULL};
	struct polc_policy p;
	char *doc = NULL, *text;
	uint8_t *blob = NULL;
	size_t len = 0, blen = 0;
	unsigned i;
	int r;
	FILE *f = open_memstream(&doc, &len);

	if (!f)
		abort();
	fprintf(f, "<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">\n"
		   "<PolicyHeader><PolicyName>big</PolicyName></PolicyHeader>\n"
		   "<SimpleTypeEnforcement><SimpleTypeEnforcementTypes>\n");
	for (i = 0; i < n_types; i++)
		fprintf(f, "<Type>type%05u</Type>\n", i);
	fprintf(f,
		"</SimpleTypeEnforcementTypes></SimpleTypeEnforcement>\n"
		"<SecurityLabelTemplate><SubjectLabels bootstrap=\"vm00000\">"
		"\n");
	for (i = 0; i < n_vm; i++)
		fprintf(f,
			"<VirtualMachineLabel>\n<Name>vm%05u</Name>\n"
			"<SimpleTypeEnforcementTypes>\n"
			"<Type>type%05u</Type>\n<Type>type%05u</Type>\n"
			"</SimpleTypeEnforcementTypes>\n"
			"</VirtualMachineLabel>\n",
			i, i % n_types, (i * 7 + 1) % n_types);
	fprintf(f, "</SubjectLabels><ObjectLabels>\n");
	for (i = 0; i < n_res; i++)
		fprintf(f,
			"<ResourceLabel><Name>res%05u</Name>"
			"<SimpleTypeEnforcementTypes><Type>type%05u</Type>"
			"</SimpleTypeEnforcementTypes></ResourceLabel>\n",
			i, i);
	/* One fault at the very end, found at its line: the last line. */
	fprintf(f,
		"<ResourceLabel><Name>res%05u</Name>"
		"<SimpleTypeEnforcementTypes><Type>nosuch</Type>"
		"</SimpleTypeEnforcementTypes></ResourceLabel>\n"
		"</ObjectLabels></SecurityLabelTemplate>"
		"</SecurityPolicyDefinition>\n",
		0u);
	fclose(f);

	r = polc_parse_xml_mem(doc, len, "big.xml", NULL, &p, &d);
	if (TH_CHECK(r == 0, "big policy parses")) {
		polc_check(&p, NULL, &d);
		text = diag_text(&d);
		/* 3 + 10000 + 2 + 9000 * 7 + 1 + 1000 + 1 = 74007 */
		TH_CHECK(d.n_errors == 2 &&
				 strstr(text, "big.xml:74007: error: resource "
					      "label 'res00000' uses STE type "
					      "'nosuch'") &&
				 strstr(text, "big.xml:74007: error: duplicate "
					      "resource label 'res00000' "
					      "(first at line 73007)"),
			 "big policy: faults found at lines past 65535\n%s",
			 text);
		free(text);
		/* Drop the faulty label and compile for real. */
		p.n_labels--;
		free(p.labels[p.n_labels].name.name);
		free(p.labels[p.n_labels].ste.v[0].name);
		free(p.labels[p.n_labels].ste.v);
		polc_diags_free(&d);
		TH_CHECK(polc_check(&p, NULL, &d) == 0, "big policy checks");
		TH_CHECK(polc_emit(&p, &blob, &blen, &d) == 0 && blen > 0,
			 "big policy emits");
		polc_policy_free(&p);
	}
	free(blob);
	free(doc);
	polc_diags_free(&d);
}

int main(void)
{
	xen_policies();
	element_order();
	scale();
	return th_done();
}
