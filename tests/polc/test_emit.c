// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_emit.c - the emitted bytes, field by field, against docs/formats.md.
 *
 * The expected values are worked out by hand here (they are the worked
 * example in docs/formats.md section 3), label ids are recomputed with
 * OpenSSL's SHA256() from the rule in the document, not with the
 * compiler's code, and the canonical text is compared as a literal.  Then
 * the engine's loader must accept what the compiler wrote, for this
 * policy and for every Xen policy, and the format's limits are enforced
 * with a diagnostic instead of a blob the loader would refuse.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "acm/acm.h"
#include "policy-compiler/polc.h"
#include "tests/harness.h"

static const char policy_xml[] =
	"<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">\n"
	"<PolicyHeader><PolicyName>toy</PolicyName>"
	"<PolicyUrl>http://x</PolicyUrl><Date>2024</Date>"
	"<Version>2.3</Version><FromPolicy><PolicyName>toy</PolicyName>"
	"<Version>2.1</Version></FromPolicy></PolicyHeader>\n"
	"<SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>Red</Type>"
	"<Type>Admin</Type><Type>Blue</Type></SimpleTypeEnforcementTypes>"
	"</SimpleTypeEnforcement>\n"
	"<ChineseWall priority=\"PrimaryPolicyComponent\"><ChineseWallTypes>"
	"<Type>Blue</Type><Type>Red</Type><Type>Admin</Type>"
	"</ChineseWallTypes><ConflictSets><Conflict name=\"BR\"><Type>Red"
	"</Type><Type>Blue</Type></Conflict></ConflictSets></ChineseWall>\n"
	"<SecurityLabelTemplate><SubjectLabels bootstrap=\"Admin\">\n"
	"<VirtualMachineLabel><Name from=\"Crimson\">Red</Name>"
	"<SimpleTypeEnforcementTypes><Type>Red</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Red</Type>"
	"</ChineseWallTypes></VirtualMachineLabel>\n"
	"<VirtualMachineLabel><Name>Admin</Name><SimpleTypeEnforcementTypes>"
	"<Type>Admin</Type><Type>Blue</Type><Type>Red</Type>"
	"</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Admin</Type>"
	"</ChineseWallTypes></VirtualMachineLabel>\n"
	"<VirtualMachineLabel><Name>Blue</Name><SimpleTypeEnforcementTypes>"
	"<Type>Blue</Type></SimpleTypeEnforcementTypes><ChineseWallTypes>"
	"<Type>Blue</Type></ChineseWallTypes></VirtualMachineLabel>\n"
	"</SubjectLabels><ObjectLabels>\n"
	"<ResourceLabel><Name>RedDisk</Name><SimpleTypeEnforcementTypes>"
	"<Type>Red</Type></SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"<ResourceLabel><Name>BlueDisk</Name><SimpleTypeEnforcementTypes>"
	"<Type>Blue</Type></SimpleTypeEnforcementTypes></ResourceLabel>\n"
	"</ObjectLabels></SecurityLabelTemplate></SecurityPolicyDefinition>\n";

static const char canonical[] = "hvsec-policy-canonical-v1\n"
				"policy-name toy\n"
				"version 2.3\n"
				"from-policy toy\n"
				"from-version 2.1\n"
				"url http://x\n"
				"date 2024\n"
				"ste-component\n"
				"ste-type Admin\n"
				"ste-type Blue\n"
				"ste-type Red\n"
				"chwall-component primary\n"
				"chwall-type Admin\n"
				"chwall-type Blue\n"
				"chwall-type Red\n"
				"conflict-set BR\n"
				"conflict-type Blue\n"
				"conflict-type Red\n"
				"bootstrap Admin\n"
				"vm-label Admin\n"
				"label-ste Admin\n"
				"label-ste Blue\n"
				"label-ste Red\n"
				"label-chwall Admin\n"
				"vm-label Blue\n"
				"label-ste Blue\n"
				"label-chwall Blue\n"
				"vm-label Red\n"
				"label-from Crimson\n"
				"label-ste Red\n"
				"label-chwall Red\n"
				"resource-label BlueDisk\n"
				"label-ste Blue\n"
				"resource-label RedDisk\n"
				"label-ste Red\n"
				"end\n";

/* STRINGS: every distinct string, sorted, after the empty one. */
static const char pool[] = "\0"
			   "2024\0"
			   "Admin\0"
			   "BR\0"
			   "Blue\0"
			   "BlueDisk\0"
			   "Crimson\0"
			   "Red\0"
			   "RedDisk\0"
			   "http://x\0"
			   "toy"; /* + the literal's own NUL */
enum {
	S_2024 = 1,
	S_ADMIN = 6,
	S_BR = 12,
	S_BLUE = 15,
	S_BLUEDISK = 20,
	S_CRIMSON = 29,
	S_RED = 37,
	S_REDDISK = 41,
	S_URL = 49,
	S_TOY = 58,
};

/* Section table: id, offset, size, count. */
static const uint32_t sections[10][4] = {
	{1, 224, 62, 11}, /* STRINGS, padded to 288 */
	{2, 288, 64, 1},  /* META */
	{3, 352, 12, 3},  /* STE_TYPES */
	{4, 368, 12, 3},  /* CW_TYPES (364 rounded up to 8) */
	{5, 384, 80, 5},  /* LABELS (380 rounded up) */
	{6, 464, 40, 5},  /* STE_SETS: 1 word per row */
	{7, 504, 40, 5},  /* CW_SETS */
	{8, 544, 8, 1},	  /* CONFLICTS */
	{9, 552, 8, 1},	  /* CONFLICT_SETS */
	{10, 560, 20, 5}, /* ID_INDEX, padded to 584 */
};
#define TRAILER_AT 584u
#define TOTAL_LEN  616u

struct row {
	const char *name;
	uint16_t kind;
	uint32_t name_off, from_off;
	uint64_t ste, cw;
};
/* ID_INDEX: rows in increasing id order. */
static const uint32_t id_order[] = {3, 2, 4, 1, 0};

static const struct row rows[] = {
	{"Admin", ACM_LABEL_VM, S_ADMIN, 0, 0x7, 0x1},
	{"Blue", ACM_LABEL_VM, S_BLUE, 0, 0x2, 0x2},
	{"Red", ACM_LABEL_VM, S_RED, S_CRIMSON, 0x4, 0x4},
	{"BlueDisk", ACM_LABEL_RESOURCE, S_BLUEDISK, 0, 0x2, 0},
	{"RedDisk", ACM_LABEL_RESOURCE, S_REDDISK, 0, 0x4, 0},
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* docs/formats.md "Stable label ids", written out again on purpose. */
static uint32_t seed(unsigned kind, const char *name)
{
	uint8_t msg[12 + 1 + 256], md[SHA256_DIGEST_LENGTH];
	size_t n = strlen(name);
	uint32_t s;

	memcpy(msg, "hvsec-label", 12); /* with its NUL */
	msg[12] = (uint8_t)kind;
	memcpy(msg + 13, name, n);
	SHA256(msg, 13 + n, md);
	s = le32(md) & 0x7fffffffu;
	return s ? s : 1;
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

static int compile_mem(const char *xml, struct polc_policy *p, uint8_t **blob,
		       size_t *len)
{
	struct polc_diags d = {.path = "emit.xml"};
	char *text;
	int r;

	*blob = NULL;
	*len = 0;
	r = polc_parse_xml_mem(xml, strlen(xml), "emit.xml", NULL, p, &d);
	if (r == 0 && polc_check(p, NULL, &d) == 0)
		r = polc_emit(p, blob, len, &d);
	else
		r = -1;
	text = diag_text(&d);
	TH_CHECK(r == 0, "compiles\n%s", text);
	free(text);
	polc_diags_free(&d);
	return r;
}

static void header_and_sections(const uint8_t *b, size_t len,
				const struct polc_policy *p)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char *text = NULL;
	size_t tlen = 0, i, k;

	TH_CHECK(len == TOTAL_LEN, "total length %zu", len);
	if (len != TOTAL_LEN)
		return;
	TH_CHECK(memcmp(b, "HVSP", 4) == 0 && le32(b) == ACM_MAGIC, "magic");
	TH_CHECK(le16(b + 4) == 1 && le16(b + 6) == 0, "format 1.0");
	TH_CHECK(le32(b + 8) == TOTAL_LEN, "total_len field");
	TH_CHECK(le32(b + 12) == (ACM_BIN_F_STE | ACM_BIN_F_CHWALL), "flags");
	TH_CHECK(le32(b + 16) == 10 && le32(b + 20) == 64, "section table");
	TH_CHECK(le32(b + 24) == 0 && le32(b + 28) == 0, "reserved");

	TH_CHECK(polc_canonical(p, &text, &tlen) == 0 &&
			 tlen == strlen(canonical) &&
			 memcmp(text, canonical, tlen) == 0,
		 "canonical text:\n%s", text ? text : "(none)");
	SHA256((const uint8_t *)canonical, strlen(canonical), md);
	TH_CHECK(memcmp(b + 32, md, 32) == 0,
		 "source_sha256 = SHA-256(canonical text)");
	free(text);

	for (i = 0; i < 10; i++)
		for (k = 0; k < 4; k++)
			TH_CHECK(le32(b + 64 + 16 * i + 4 * k) ==
					 sections[i][k],
				 "section %zu field %zu: %u, wanted %u", i + 1,
				 k, le32(b + 64 + 16 * i + 4 * k),
				 sections[i][k]);
	SHA256(b, TRAILER_AT, md);
	TH_CHECK(memcmp(b + TRAILER_AT, md, 32) == 0, "trailer hash");
}

/* Every byte no field claims is zero: the padding between sections. */
static void padding(const uint8_t *b)
{
	static const uint32_t pad[][2] = {
		{286, 288},
		{364, 368},
		{380, 384},
		{580, 584},
	};
	size_t i, k;

	for (k = 0; k < TH_ARRAY_LEN(pad); k++)
		for (i = pad[k][0]; i < pad[k][1]; i++)
			TH_CHECK(b[i] == 0, "padding byte %zu is zero", i);
}

static void strings_and_meta(const uint8_t *b)
{
	const uint8_t *m = b + 288;

	TH_CHECK(memcmp(b + 224, pool, sizeof(pool)) == 0,
		 "string pool: sorted, deduplicated, empty string first");
	TH_CHECK(le32(m + 0) == S_TOY, "META name");
	TH_CHECK(le32(m + 4) == 2 && le32(m + 8) == 3, "META version 2.3");
	TH_CHECK(le32(m + 12) == (ACM_META_F_VERSION | ACM_META_F_FROM |
				  ACM_META_F_CW_PRIORITY),
		 "META flags %#x", le32(m + 12));
	TH_CHECK(le32(m + 16) == S_TOY, "META from_name (shared string)");
	TH_CHECK(le32(m + 20) == 2 && le32(m + 24) == 1, "META from 2.1");
	TH_CHECK(le32(m + 28) == S_URL, "META url");
	TH_CHECK(le32(m + 32) == 0, "META reference absent");
	TH_CHECK(le32(m + 36) == S_2024, "META date");
	TH_CHECK(le32(m + 40) == 0, "META namespace_url absent");
	TH_CHECK(le32(m + 44) == 0, "META bootstrap = row of Admin");
	TH_CHECK(le32(m + 48) == 0 && le32(m + 52) == 0 && le32(m + 56) == 0 &&
			 le32(m + 60) == 0,
		 "META reserved");
}

static void types_labels_sets(const uint8_t *b)
{
	const uint32_t types[3] = {S_ADMIN, S_BLUE, S_RED};
	size_t i;

	for (i = 0; i < 3; i++) {
		TH_CHECK(le32(b + 352 + 4 * i) == types[i], "STE type %zu", i);
		TH_CHECK(le32(b + 368 + 4 * i) == types[i], "CW type %zu", i);
	}
	for (i = 0; i < TH_ARRAY_LEN(rows); i++) {
		const uint8_t *l = b + 384 + 16 * i;
		uint32_t want_id = seed(rows[i].kind, rows[i].name);

		TH_CHECK(le32(l) == want_id, "row %zu (%s): id %#x, wanted %#x",
			 i, rows[i].name, le32(l), want_id);
		TH_CHECK(le32(l + 4) == rows[i].name_off, "row %zu name", i);
		TH_CHECK(le32(l + 8) == rows[i].from_off, "row %zu from", i);
		TH_CHECK(le16(l + 12) == rows[i].kind && le16(l + 14) == 0,
			 "row %zu kind and flags", i);
		TH_CHECK(le64(b + 464 + 8 * i) == rows[i].ste,
			 "row %zu STE bits %#llx", i,
			 (unsigned long long)le64(b + 464 + 8 * i));
		TH_CHECK(le64(b + 504 + 8 * i) == rows[i].cw, "row %zu CW bits",
			 i);
		TH_CHECK(polc_label_id_seed(rows[i].kind, rows[i].name) ==
				 want_id,
			 "polc_label_id_seed(%s)", rows[i].name);
	}
	TH_CHECK(le32(b + 544) == S_BR && le32(b + 548) == 0, "conflict BR");
	TH_CHECK(le64(b + 552) == 0x6, "conflict set BR = {Blue, Red}");
	/* Ids: Admin 0x725536e4, Blue 0x5e1bcb7a, Red 0x4561cb95, BlueDisk
	 * 0x1a59a461, RedDisk 0x4c23d25a; the index lists rows by id. */
	for (i = 0; i < TH_ARRAY_LEN(id_order); i++)
		TH_CHECK(le32(b + 560 + 4 * i) == id_order[i],
			 "id index entry %zu: row %u, wanted %u", i,
			 le32(b + 560 + 4 * i), id_order[i]);
	for (i = 1; i < TH_ARRAY_LEN(id_order); i++)
		TH_CHECK(seed(rows[id_order[i - 1]].kind,
			      rows[id_order[i - 1]].name) <
				 seed(rows[id_order[i]].kind,
				      rows[id_order[i]].name),
			 "id index: ids increase at %zu", i);
}

/* The engine's loader accepts what the compiler wrote, and reads it back
 * as the same policy. */
static const struct acm_policy *load(const char *what, const uint8_t *blob,
				     size_t len, void **mem)
{
	struct acm_load_error where = {ACM_OK, 0};
	const struct acm_policy *ap = NULL;
	size_t need = 0;
	enum acm_err e;

	*mem = NULL;
	e = acm_policy_measure(blob, len, &need, &where);
	if (!TH_CHECK(e == ACM_OK, "%s: loader measures it: %s at %u", what,
		      acm_strerror(e), where.offset))
		return NULL;
	*mem = aligned_alloc(8, (need + 7) & ~(size_t)7);
	if (!*mem)
		abort();
	e = acm_policy_load(blob, len, *mem, need, &ap, &where);
	TH_CHECK(e == ACM_OK && ap, "%s: loader loads it: %s at %u", what,
		 acm_strerror(e), where.offset);
	return e == ACM_OK ? ap : NULL;
}

static void loader_accepts(const uint8_t *blob, size_t len)
{
	struct acm_policy_info info;
	const struct acm_policy *ap;
	void *mem;
	size_t i;

	ap = load("toy", blob, len, &mem);
	if (ap) {
		acm_policy_info(ap, &info);
		TH_CHECK(strcmp(info.name, "toy") == 0 && info.has_version &&
				 info.version_major == 2 &&
				 info.version_minor == 3 && info.has_from &&
				 strcmp(info.from_name, "toy") == 0 &&
				 strcmp(info.url, "http://x") == 0 &&
				 strcmp(info.reference, "") == 0,
			 "loaded header");
		TH_CHECK(info.n_labels == 5 && info.n_vm_labels == 3 &&
				 info.n_ste_types == 3 &&
				 info.n_cw_types == 3 &&
				 info.n_conflict_sets == 1 &&
				 info.bootstrap == 0,
			 "loaded counts");
		for (i = 0; i < TH_ARRAY_LEN(rows); i++) {
			acm_row_t r =
				acm_label_find(ap, rows[i].kind, rows[i].name);

			TH_CHECK(r == i && acm_label_id(ap, r) ==
						   seed(rows[i].kind,
							rows[i].name),
				 "loaded row %zu (%s)", i, rows[i].name);
		}
		TH_CHECK(strcmp(acm_label_from(ap, 2), "Crimson") == 0,
			 "loaded rename");
	}
	free(mem);
}

static void xen_policies_load(void)
{
	const char *env = getenv("HVSEC_SHARED");
	char *dir, *path;
	struct dirent *de;
	unsigned n = 0;
	DIR *dh;

	if (env && *env)
		dir = strdup(env);
	else if (asprintf(&dir, "%s/../shared", th_src_dir()) < 0)
		dir = NULL;
	if (!dir || asprintf(&path, "%s/xen-acm-policies", dir) < 0)
		abort();
	dh = opendir(path);
	if (!TH_CHECK(dh, "open %s", path))
		goto out;
	while ((de = readdir(dh))) {
		struct polc_diags d = {.path = NULL};
		size_t l = strlen(de->d_name), len = 0;
		struct polc_policy p;
		uint8_t *blob = NULL;
		char *file;
		void *mem;

		if (l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
			continue;
		if (asprintf(&file, "%s/%s", path, de->d_name) < 0)
			abort();
		if (polc_parse_xml(file, NULL, &p, &d) == 0) {
			if (polc_check(&p, NULL, &d) == 0)
				polc_emit(&p, &blob, &len, &d);
			polc_policy_free(&p);
		}
		if (TH_CHECK(blob, "%s compiles", de->d_name)) {
			load(de->d_name, blob, len, &mem);
			free(mem);
			n++;
		}
		free(blob);
		free(file);
		polc_diags_free(&d);
	}
	closedir(dh);
	TH_CHECK(n >= 9, "%u Xen policies loaded", n);
out:
	free(path);
	free(dir);
}

/* ------------------------------------------------------------ ids */

/*
 * Two labels whose seeds collide: found by a birthday search over names
 * (about 2^16 tries for a 31-bit seed), then the later row must take the
 * next id, as the document says.
 */
static void id_collision(void)
{
	enum { BITS = 20, TRIES = 2000000 };
	uint32_t *seen_seed = calloc(1u << BITS, sizeof(uint32_t));
	uint32_t *seen_name = calloc(1u << BITS, sizeof(uint32_t));
	char a[32] = "", b[32] = "", xml[2048];
	struct polc_policy p;
	uint8_t *blob = NULL;
	uint32_t i, s = 0;
	size_t len = 0;

	if (!seen_seed || !seen_name)
		abort();
	for (i = 1; i < TRIES && !*a; i++) {
		char name[32];
		uint32_t h;

		snprintf(name, sizeof(name), "c%u", i);
		s = seed(ACM_LABEL_VM, name);
		for (h = s & ((1u << BITS) - 1); seen_seed[h];
		     h = (h + 1) & ((1u << BITS) - 1))
			if (seen_seed[h] == s) {
				snprintf(a, sizeof(a), "c%u", seen_name[h]);
				snprintf(b, sizeof(b), "%s", name);
				break;
			}
		seen_seed[h] = s;
		seen_name[h] = i;
	}
	free(seen_seed);
	free(seen_name);
	if (!TH_CHECK(*a, "found two names with the same seed"))
		return;
	TH_CHECK(seed(ACM_LABEL_RESOURCE, a) != seed(ACM_LABEL_RESOURCE, b),
		 "the kind is part of the hash");
	/* Row order is name order: the smaller name keeps the seed. */
	if (strcmp(a, b) > 0) {
		char t[32];

		memcpy(t, a, sizeof(t));
		memcpy(a, b, sizeof(t));
		memcpy(b, t, sizeof(t));
	}
	snprintf(xml, sizeof(xml),
		 "<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">"
		 "<PolicyHeader><PolicyName>ids</PolicyName></PolicyHeader>"
		 "<SimpleTypeEnforcement><SimpleTypeEnforcementTypes>"
		 "<Type>T</Type></SimpleTypeEnforcementTypes>"
		 "</SimpleTypeEnforcement><SecurityLabelTemplate>"
		 "<SubjectLabels bootstrap=\"%s\">"
		 "<VirtualMachineLabel><Name>%s</Name>"
		 "<SimpleTypeEnforcementTypes><Type>T</Type>"
		 "</SimpleTypeEnforcementTypes></VirtualMachineLabel>"
		 "<VirtualMachineLabel><Name>%s</Name>"
		 "<SimpleTypeEnforcementTypes><Type>T</Type>"
		 "</SimpleTypeEnforcementTypes></VirtualMachineLabel>"
		 "</SubjectLabels></SecurityLabelTemplate>"
		 "</SecurityPolicyDefinition>",
		 b, b, a);
	if (compile_mem(xml, &p, &blob, &len) == 0) {
		/* Pool "", a, b, ids, T -> LABELS follows STRINGS and META. */
		uint32_t labels = le32(blob + 64 + 16 * 4 + 4);
		uint32_t id0 = le32(blob + labels),
			 id1 = le32(blob + labels + 16);
		uint32_t want = seed(ACM_LABEL_VM, a);
		void *mem;

		TH_CHECK(id0 == want && id1 == want % 0x7fffffffu + 1,
			 "%s and %s share seed %#x: ids %#x and %#x", a, b,
			 want, id0, id1);
		load("collision", blob, len, &mem);
		free(mem);
		polc_policy_free(&p);
	}
	free(blob);
}

/* ------------------------------------------------------------ limits */

/* Appends type name "t<i>". */
static void add_type(struct polc_names *v, unsigned i)
{
	char name[32];

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = realloc(v->v, v->cap * sizeof(*v->v));
		if (!v->v)
			abort();
	}
	snprintf(name, sizeof(name), "t%u", i);
	v->v[v->n].name = strdup(name);
	v->v[v->n].line = 0;
	if (!v->v[v->n++].name)
		abort();
}

/* A model built directly (no XML): `types` STE types, `labels` VM labels
 * each holding type 0. */
static void build(struct polc_policy *p, unsigned types, unsigned labels)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->path = strdup("limits");
	p->name.name = strdup("limits");
	p->bootstrap.name = strdup("l0");
	p->has_ste = true;
	for (i = 0; i < types; i++)
		add_type(&p->ste_types, i);
	p->labels = calloc(labels, sizeof(*p->labels));
	if (!p->labels)
		abort();
	p->n_labels = p->cap_labels = labels;
	for (i = 0; i < labels; i++) {
		struct polc_label *l = &p->labels[i];
		char name[32];

		snprintf(name, sizeof(name), "l%u", i);
		l->name.name = strdup(name);
		l->kind = ACM_LABEL_VM;
		add_type(&l->ste, 0);
	}
}

static void expect_refused(const char *what, const struct polc_policy *p,
			   const char *want)
{
	struct polc_diags d = {.path = "limits"};
	uint8_t *blob = (uint8_t *)1;
	size_t len = 1;
	char *text;
	int r;

	r = polc_emit(p, &blob, &len, &d);
	text = diag_text(&d);
	TH_CHECK(r == -1 && !blob && len == 0 && d.n_errors >= 1 &&
			 strstr(text, want),
		 "%s: refused with \"%s\"\n%s", what, want, text);
	free(text);
	polc_diags_free(&d);
}

static void limits(void)
{
	struct polc_policy p;

	build(&p, ACM_MAX_TYPES + 1, 1);
	expect_refused("too many types", &p,
		       "limits: error: the policy has 65537 STE types, more "
		       "than the binary format's limit of 65536");
	polc_policy_free(&p);

	build(&p, 1, ACM_MAX_LABELS + 1);
	expect_refused("too many labels", &p,
		       "the policy has 65537 labels, more than the binary "
		       "format's limit of 65536");
	polc_policy_free(&p);

	/* 65536 types = 1024 words = 8 KiB per row: 8200 rows is 64 MiB+. */
	build(&p, ACM_MAX_TYPES, 8200);
	expect_refused("too large", &p,
		       "more than the format's limit of 67108864");
	polc_policy_free(&p);

	/* Not checked: the emitter refuses instead of writing nonsense. */
	build(&p, 2, 1);
	free(p.ste_types.v[1].name);
	p.ste_types.v[1].name = strdup("t0");
	expect_refused("duplicate types", &p,
		       "duplicate STE type 't0' (the policy did not pass "
		       "polc_check)");
	polc_policy_free(&p);

	build(&p, 1, 1);
	free(p.bootstrap.name);
	p.bootstrap.name = strdup("nobody");
	expect_refused("no bootstrap", &p, "bootstrap label 'nobody'");
	polc_policy_free(&p);

	build(&p, 1, 1);
	free(p.labels[0].ste.v[0].name);
	p.labels[0].ste.v[0].name = strdup("ghost");
	expect_refused("undeclared type", &p, "undeclared type 'ghost'");
	polc_policy_free(&p);
}

/* The emitter reads the model and never changes it; same bytes again. */
static void deterministic(const char *xml, const uint8_t *first,
			  size_t first_len)
{
	struct polc_policy p;
	uint8_t *blob = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	struct polc_diags d = {.path = NULL};

	if (compile_mem(xml, &p, &blob, &len) != 0)
		return;
	TH_CHECK(len == first_len && memcmp(blob, first, len) == 0,
		 "second compile: same bytes");
	TH_CHECK(polc_emit(&p, &again, &len2, &d) == 0 && len2 == len &&
			 memcmp(again, blob, len) == 0,
		 "second emit of one model: same bytes");
	free(again);
	free(blob);
	polc_policy_free(&p);
	polc_diags_free(&d);
}

int main(void)
{
	struct polc_policy p;
	uint8_t *blob = NULL;
	size_t len = 0;

	if (compile_mem(policy_xml, &p, &blob, &len) == 0) {
		header_and_sections(blob, len, &p);
		if (len == TOTAL_LEN) {
			padding(blob);
			strings_and_meta(blob);
			types_labels_sets(blob);
		}
		loader_accepts(blob, len);
		deterministic(policy_xml, blob, len);
		polc_policy_free(&p);
	}
	free(blob);
	xen_policies_load();
	id_collision();
	limits();
	return th_done();
}
