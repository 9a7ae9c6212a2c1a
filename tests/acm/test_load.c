/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_load - the binary policy loader: a valid blob loads and reads back;
 * every corruption is refused with the exact error and byte offset of
 * docs/formats.md §1.7; when several things are wrong, the right one wins;
 * every single-byte change and every truncation is refused, never a crash.
 *
 * The toy policy (reference/acm.md §1.3) as the builder lays it out:
 *   STRINGS 224 (40 bytes: "" Admin BR Blue BlueDisk Red RedDisk toy at
 *   0 1 7 10 15 24 28 36), META 264, STE_TYPES 328 (12, padding to 344),
 *   CW_TYPES 344, LABELS 360 (rows Admin Blue Red BlueDisk RedDisk, ids
 *   0x725536e4 0x5e1bcb7a 0x4561cb95 0x1a59a461 0x4c23d25a), STE_SETS 440,
 *   CW_SETS 480, CONFLICTS 520, CONFLICT_SETS 528, ID_INDEX 536 (rows
 *   3 2 4 1 0, padding to 560), trailer 560, total 592.  Offsets below are
 *   written relative to sections so that they read as "which field".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/acm/blob_builder.h"
#include "tests/harness.h"

#define TRAILER 11u /* pseudo section: the trailer hash */
#define ENT(id, field) (64u + 16u * ((id) - 1u) + (field))
#define ROW(r, field) (16u * (r) + (field))

static uint8_t *toy_blob;
static size_t toy_len;

static uint32_t sec_base(const uint8_t *b, size_t len, uint32_t sec)
{
	if (sec == 0)
		return 0;
	if (sec == TRAILER)
		return (uint32_t)len - 32;
	return bb_sec_off(b, sec);
}

static uint8_t *dup_blob(const uint8_t *b, size_t len)
{
	uint8_t *c = bb_xmalloc(len);

	memcpy(c, b, len);
	return c;
}

/* Measure and load must refuse alike (load with ample memory). */
static void expect(const uint8_t *b, size_t len, enum acm_err want,
		   uint32_t want_off, const char *what)
{
	struct acm_load_error where = { ACM_OK, 0xdead };
	const struct acm_policy *p = (const void *)1;
	size_t need = 12345, mem_len = 64 * len + 4096;
	void *mem = bb_xmalloc(mem_len);
	enum acm_err err;

	err = acm_policy_measure(b, len, &need, &where);
	TH_CHECK(err == want && where.err == want && where.offset == want_off,
		 "%s: measure gives %s at %u, want %s at %u", what,
		 acm_strerror(err), where.offset, acm_strerror(want),
		 want_off);
	where = (struct acm_load_error){ ACM_OK, 0xdead };
	err = acm_policy_load(b, len, mem, mem_len, &p, &where);
	TH_CHECK(err == want && where.err == want && where.offset == want_off,
		 "%s: load gives %s at %u, want %s at %u", what,
		 acm_strerror(err), where.offset, acm_strerror(want),
		 want_off);
	TH_CHECK(want != ACM_OK || p != NULL, "%s: policy out", what);
	TH_CHECK(want == ACM_OK || p == NULL, "%s: *out NULL on failure",
		 what);
	free(mem);
}

/* ---------------------------------------------------------- valid blob */

static void test_valid_toy(void)
{
	static const uint32_t ids[] = { 0x725536e4, 0x5e1bcb7a, 0x4561cb95,
					0x1a59a461, 0x4c23d25a };
	static const char *const names[] = { "Admin", "Blue", "Red",
					     "BlueDisk", "RedDisk" };
	struct acm_load_error where;
	struct acm_policy_info info;
	const struct acm_policy *p;
	size_t need = 0;
	void *mem;

	TH_CHECK(toy_len == 592, "toy blob is 592 bytes (%zu)", toy_len);
	TH_CHECK(acm_policy_measure(toy_blob, toy_len, &need, &where) ==
		 ACM_OK && where.err == ACM_OK && where.offset == 0,
		 "toy measures");
	TH_CHECK(need > 0 && need % 8 == 0, "mem_needed %zu", need);
	mem = bb_xmalloc(need);
	TH_CHECK(acm_policy_load(toy_blob, toy_len, mem, need - 1, &p,
				 &where) == ACM_E_NOMEM &&
		 where.offset == 0 && p == NULL, "one byte short: NOMEM");
	TH_CHECK(acm_policy_load(toy_blob, toy_len, mem, need, &p, &where) ==
		 ACM_OK && p, "toy loads in exactly mem_needed");

	acm_policy_info(p, &info);
	TH_CHECK(strcmp(info.name, "toy") == 0, "name %s", info.name);
	TH_CHECK(info.has_version && info.version_major == 1 &&
		 info.version_minor == 0 && !info.has_from, "version 1.0");
	TH_CHECK(*info.from_name == 0 && *info.url == 0 && *info.date == 0 &&
		 *info.reference == 0 && *info.namespace_url == 0,
		 "absent strings are empty");
	TH_CHECK(info.flags == ACM_BIN_F_ALL, "both components");
	TH_CHECK(info.n_ste_types == 3 && info.n_cw_types == 3 &&
		 info.n_labels == 5 && info.n_vm_labels == 3 &&
		 info.n_conflict_sets == 1, "counts");
	TH_CHECK(info.bootstrap == 0 && info.unlabeled == ACM_ROW_NONE,
		 "bootstrap Admin, no __UNLABELED__");
	TH_CHECK(info.blob_sha256 == toy_blob + toy_len - 32 &&
		 info.source_sha256 == toy_blob + 32, "hash pointers");

	TH_CHECK(strcmp(acm_ste_type_name(p, 1), "Blue") == 0 &&
		 strcmp(acm_cw_type_name(p, 2), "Red") == 0 &&
		 acm_ste_type_name(p, 3) == NULL &&
		 acm_cw_type_name(p, ACM_TYPE_NONE) == NULL, "type names");
	TH_CHECK(strcmp(acm_conflict_set_name(p, 0), "BR") == 0 &&
		 acm_conflict_set_name(p, 1) == NULL, "conflict set name");
	TH_CHECK(acm_conflict_set_has(p, 0, 1) && acm_conflict_set_has(p, 0, 2)
		 && !acm_conflict_set_has(p, 0, 0) &&
		 !acm_conflict_set_has(p, 0, 3) &&
		 !acm_conflict_set_has(p, 1, 1), "conflict set members");
	for (acm_row_t r = 0; r < 5; r++) {
		enum acm_label_kind kind = r < 3 ? ACM_LABEL_VM
						 : ACM_LABEL_RESOURCE;

		TH_CHECK(strcmp(acm_label_name(p, r), names[r]) == 0,
			 "row %u is %s", r, names[r]);
		TH_CHECK(acm_label_kind(p, r) == kind, "row %u kind", r);
		TH_CHECK(acm_label_id(p, r) == ids[r] &&
			 bb_label_seed((uint16_t)kind, names[r]) == ids[r],
			 "row %u id %#x (§1.6)", r, acm_label_id(p, r));
		TH_CHECK(acm_label_find(p, kind, names[r]) == r,
			 "find %s", names[r]);
		TH_CHECK(acm_label_find_id(p, ids[r]) == r, "find id %#x",
			 ids[r]);
		TH_CHECK(*acm_label_from(p, r) == 0, "row %u no from", r);
	}
	TH_CHECK(acm_label_find(p, ACM_LABEL_RESOURCE, "Blue") == ACM_ROW_NONE
		 && acm_label_find(p, ACM_LABEL_VM, "BlueDisk") == ACM_ROW_NONE
		 && acm_label_find(p, ACM_LABEL_VM, "Zed") == ACM_ROW_NONE &&
		 acm_label_find(p, ACM_LABEL_VM, "") == ACM_ROW_NONE &&
		 acm_label_find(p, (enum acm_label_kind)3, "Blue") ==
		 ACM_ROW_NONE && acm_label_find(p, ACM_LABEL_VM, NULL) ==
		 ACM_ROW_NONE, "find misses");
	TH_CHECK(acm_label_find_id(p, 0) == ACM_ROW_NONE &&
		 acm_label_find_id(p, 12345) == ACM_ROW_NONE, "find id misses");
	TH_CHECK(acm_label_name(p, 5) == NULL && acm_label_id(p, 5) == 0 &&
		 acm_label_kind(p, 5) == 0 && acm_label_from(p, 9) == NULL,
		 "rows out of range");
	TH_CHECK(acm_label_has_ste(p, 0, 0) && acm_label_has_ste(p, 0, 2) &&
		 !acm_label_has_ste(p, 1, 2) && acm_label_has_ste(p, 3, 1) &&
		 !acm_label_has_ste(p, 3, 3) && !acm_label_has_ste(p, 7, 0),
		 "STE membership");
	TH_CHECK(acm_label_has_cw(p, 0, 0) && !acm_label_has_cw(p, 0, 1) &&
		 acm_label_has_cw(p, 2, 2) && !acm_label_has_cw(p, 3, 1),
		 "CW membership");
	free(mem);
}

/* The caller's blob may sit at any alignment. */
static void test_unaligned(void)
{
	for (size_t shift = 1; shift < 8; shift++) {
		uint8_t *buf = bb_xmalloc(toy_len + 8);
		const struct acm_policy *p = NULL;
		size_t need = 0;
		void *mem;

		memcpy(buf + shift, toy_blob, toy_len);
		TH_CHECK(acm_policy_measure(buf + shift, toy_len, &need, NULL)
			 == ACM_OK, "measure at +%zu", shift);
		mem = bb_xmalloc(need);
		TH_CHECK(acm_policy_load(buf + shift, toy_len, mem, need, &p,
					 NULL) == ACM_OK &&
			 acm_label_has_ste(p, 0, 2) &&
			 acm_label_find(p, ACM_LABEL_RESOURCE, "RedDisk") == 4,
			 "load at +%zu", shift);
		free(mem);
		free(buf);
	}
}

static void test_args(void)
{
	struct acm_load_error where;
	const struct acm_policy *p = (const void *)1;
	uint64_t mem[512];
	size_t need;

	TH_CHECK(acm_policy_measure(NULL, toy_len, &need, &where) ==
		 ACM_E_ARG && where.err == ACM_E_ARG && where.offset == 0,
		 "measure NULL blob");
	TH_CHECK(acm_policy_measure(toy_blob, toy_len, NULL, &where) ==
		 ACM_E_ARG, "measure NULL mem_needed");
	TH_CHECK(acm_policy_load(toy_blob, toy_len, (uint8_t *)mem + 4,
				 sizeof(mem) - 8, &p, &where) == ACM_E_ARG &&
		 p == NULL, "load into misaligned memory");
	TH_CHECK(acm_policy_load(toy_blob, toy_len, NULL, sizeof(mem), &p,
				 &where) == ACM_E_ARG, "load NULL mem");
	TH_CHECK(acm_policy_load(toy_blob, toy_len, mem, sizeof(mem), NULL,
				 &where) == ACM_E_ARG, "load NULL out");
	TH_CHECK(acm_policy_load(toy_blob, toy_len, mem, sizeof(mem), &p,
				 NULL) == ACM_OK, "NULL where is fine");
	/* ACM_E_ARG wins over anything wrong with the blob. */
	TH_CHECK(acm_policy_load(toy_blob, 10, (uint8_t *)mem + 1,
				 sizeof(mem) - 8, &p, &where) == ACM_E_ARG,
		 "ARG beats TRUNCATED");
}

/* ------------------------------------------------------- corruptions */

struct patch {
	uint32_t sec;   /* 0: absolute, 1..10: section, TRAILER */
	uint32_t delta;
	uint32_t width; /* 1, 2, 4, 8, or 9: xor a byte; 0 ends the list */
	uint64_t value;
};

struct corrupt_case {
	const char *what;
	struct patch p[3];
	bool reseal;
	enum acm_err err;
	uint32_t err_sec, err_delta;
};

#define P(s, d, w, v) { s, d, w, v }

static const struct corrupt_case corrupt_cases[] = {
	/* header, before the hash: no reseal needed */
	{ "magic", { P(0, 0, 4, 0x50535649) }, false, ACM_E_MAGIC, 0, 0 },
	{ "format major 2", { P(0, 4, 2, 2) }, false, ACM_E_VERSION, 0, 4 },
	{ "format major 0", { P(0, 4, 2, 0) }, false, ACM_E_VERSION, 0, 4 },
	{ "format minor 1", { P(0, 6, 2, 1) }, false, ACM_E_VERSION, 0, 6 },
	{ "total_len short", { P(0, 8, 4, 584) }, false, ACM_E_LENGTH, 0, 8 },
	{ "total_len odd", { P(0, 8, 4, 591) }, false, ACM_E_LENGTH, 0, 8 },
	{ "total_len huge", { P(0, 8, 4, 0x80000000u) }, false, ACM_E_LENGTH,
	  0, 8 },
	{ "label byte, not resealed", { P(5, 4, 1, 0x77) }, false, ACM_E_HASH,
	  TRAILER, 0 },
	{ "trailer byte", { P(TRAILER, 31, 9, 0xff) }, false, ACM_E_HASH,
	  TRAILER, 0 },
	{ "source hash byte", { P(0, 40, 9, 0x01) }, false, ACM_E_HASH,
	  TRAILER, 0 },
	/* header, resealed */
	{ "unknown header flag", { P(0, 12, 4, 7) }, true, ACM_E_HEADER, 0,
	  12 },
	{ "header reserved[0]", { P(0, 24, 4, 1) }, true, ACM_E_HEADER, 0,
	  24 },
	{ "header reserved[1]", { P(0, 28, 4, 1) }, true, ACM_E_HEADER, 0,
	  28 },
	{ "section_count 9 (no id index)", { P(0, 16, 4, 9) }, true,
	  ACM_E_HEADER, 0, 16 },
	{ "section_table 72", { P(0, 20, 4, 72) }, true, ACM_E_HEADER, 0,
	  20 },
	/* section table */
	{ "entry 1 id 2", { P(0, ENT(1, 0), 4, 2) }, true, ACM_E_SECTION, 0,
	  ENT(1, 0) },
	{ "entry 5 id 4", { P(0, ENT(5, 0), 4, 4) }, true, ACM_E_SECTION, 0,
	  ENT(5, 0) },
	{ "meta offset moved", { P(0, ENT(2, 4), 4, 256) }, true,
	  ACM_E_SECTION, 0, ENT(2, 4) },
	{ "strings offset unaligned", { P(0, ENT(1, 4), 4, 209) }, true,
	  ACM_E_SECTION, 0, ENT(1, 4) },
	{ "section past trailer", { P(0, ENT(9, 8), 4, 0x1000) }, true,
	  ACM_E_SECTION, 0, ENT(9, 8) },
	{ "size wraps", { P(0, ENT(9, 8), 4, 0xfffffffcu) }, true,
	  ACM_E_SECTION, 0, ENT(9, 8) },
	{ "last section past trailer", { P(0, ENT(10, 8), 4, 28) }, true,
	  ACM_E_SECTION, 0, ENT(10, 8) },
	{ "id index moved", { P(0, ENT(10, 4), 4, 544) }, true,
	  ACM_E_SECTION, 0, ENT(10, 4) },
	{ "id index padding byte", { P(10, 21, 1, 1) }, true, ACM_E_SECTION,
	  10, 21 },
	{ "strings longer, next not moved", { P(0, ENT(1, 8), 4, 41) }, true,
	  ACM_E_SECTION, 0, ENT(2, 4) },
	{ "padding byte", { P(3, 12, 1, 1) }, true, ACM_E_SECTION, 3, 12 },
	/* section sizes */
	{ "strings count", { P(0, ENT(1, 12), 4, 7) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(1, 12) },
	{ "meta count 2", { P(0, ENT(2, 12), 4, 2) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(2, 12) },
	{ "ste types size 16", { P(0, ENT(3, 8), 4, 16) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(3, 8) },
	{ "ste types count 2", { P(0, ENT(3, 12), 4, 2) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(3, 8) },
	{ "ste types over the limit", { P(0, ENT(3, 12), 4, 70000) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(3, 12) },
	{ "labels count 4", { P(0, ENT(5, 12), 4, 4) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(5, 8) },
	{ "ste sets count 6", { P(0, ENT(6, 12), 4, 6) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(6, 12) },
	{ "cw sets count 4", { P(0, ENT(7, 12), 4, 4) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(7, 8) },
	{ "conflict sets count 2", { P(0, ENT(9, 12), 4, 2) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(9, 12) },
	{ "conflict sets count 0", { P(0, ENT(9, 12), 4, 0) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(9, 8) },
	{ "id index count 4", { P(0, ENT(10, 12), 4, 4) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(10, 8) },
	{ "id index count 6", { P(0, ENT(10, 12), 4, 6) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(10, 12) },
	{ "id index size 16, count 4",
	  { P(0, ENT(10, 8), 4, 16), P(0, ENT(10, 12), 4, 4),
	    P(10, 16, 4, 0) }, true, ACM_E_SECTION_SIZE, 0, ENT(10, 12) },
	{ "id index size 24, count 5", { P(0, ENT(10, 8), 4, 24) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(10, 8) },
	{ "chwall types without the component", { P(0, 12, 4, 1) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(4, 12) },
	{ "ste types without the component", { P(0, 12, 4, 2) }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(3, 12) },
	/* strings */
	{ "pool does not start with NUL",
	  { P(1, 0, 1, 'x'), P(0, ENT(1, 12), 4, 7) }, true, ACM_E_STRING, 1,
	  0 },
	{ "pool does not end with NUL",
	  { P(1, 39, 1, 'x'), P(0, ENT(1, 12), 4, 7) }, true, ACM_E_STRING, 1,
	  39 },
	{ "second empty string",
	  { P(1, 10, 1, 0), P(0, ENT(1, 12), 4, 9) }, true, ACM_E_STRING, 1,
	  10 },
	{ "pool not ascending", { P(1, 7, 1, 'A') }, true, ACM_E_STRING, 1,
	  7 },
	/* meta */
	{ "policy name absent", { P(2, 0, 4, 0) }, true, ACM_E_NAME, 2, 0 },
	{ "policy name mid-string", { P(2, 0, 4, 2) }, true, ACM_E_STRING, 2,
	  0 },
	{ "policy name past pool", { P(2, 0, 4, 40) }, true, ACM_E_STRING, 2,
	  0 },
	{ "unknown meta flag", { P(2, 12, 4, 0x11) }, true, ACM_E_META, 2,
	  12 },
	{ "version without flag", { P(2, 12, 4, 0) }, true, ACM_E_META, 2,
	  4 },
	{ "from version without flag", { P(2, 20, 4, 1) }, true, ACM_E_META,
	  2, 20 },
	{ "from flag without name", { P(2, 12, 4, 3) }, true, ACM_E_NAME, 2,
	  16 },
	{ "meta reserved", { P(2, 48, 4, 1) }, true, ACM_E_META, 2, 48 },
	{ "url mid-string", { P(2, 28, 4, 2) }, true, ACM_E_STRING, 2, 28 },
	{ "bootstrap is a resource", { P(2, 44, 4, 3) }, true,
	  ACM_E_BOOTSTRAP, 2, 44 },
	{ "bootstrap out of range", { P(2, 44, 4, 1000) }, true,
	  ACM_E_BOOTSTRAP, 2, 44 },
	/* types */
	{ "duplicate ste type", { P(3, 4, 4, 1) }, true, ACM_E_TYPE_ORDER, 3,
	  4 },
	{ "ste types swapped", { P(3, 0, 4, 10), P(3, 4, 4, 1) }, true,
	  ACM_E_TYPE_ORDER, 3, 4 },
	{ "cw type unnamed", { P(4, 0, 4, 0) }, true, ACM_E_NAME, 4, 0 },
	{ "cw type mid-string", { P(4, 8, 4, 25) }, true, ACM_E_STRING, 4,
	  8 },
	/* labels */
	{ "label kind 3", { P(5, ROW(0, 12), 2, 3) }, true, ACM_E_LABEL, 5,
	  ROW(0, 12) },
	{ "vm label after resource", { P(5, ROW(4, 12), 2, 1) }, true,
	  ACM_E_LABEL, 5, ROW(4, 12) },
	{ "label flags", { P(5, ROW(2, 14), 2, 1) }, true, ACM_E_LABEL, 5,
	  ROW(2, 14) },
	{ "label id 0", { P(5, ROW(1, 0), 4, 0) }, true, ACM_E_LABEL, 5,
	  ROW(1, 0) },
	{ "label id too big", { P(5, ROW(1, 0), 4, 0x80000000u) }, true,
	  ACM_E_LABEL, 5, ROW(1, 0) },
	{ "vm names not ascending",
	  { P(5, ROW(1, 4), 4, 24), P(5, ROW(2, 4), 4, 10) }, true,
	  ACM_E_LABEL, 5, ROW(2, 4) },
	{ "first vm name sorts last", { P(5, ROW(0, 4), 4, 36) }, true,
	  ACM_E_LABEL, 5, ROW(1, 4) },
	{ "label from mid-string", { P(5, ROW(0, 8), 4, 3) }, true,
	  ACM_E_STRING, 5, ROW(0, 8) },
	{ "label name absent", { P(5, ROW(3, 4), 4, 0) }, true, ACM_E_NAME,
	  5, ROW(3, 4) },
	/* bitsets */
	{ "ste bit beyond the types", { P(6, 0, 8, 0xf) }, true,
	  ACM_E_BITSET, 6, 0 },
	{ "ste bit 63", { P(6, 16, 8, 1ull << 63 | 4) }, true, ACM_E_BITSET,
	  6, 16 },
	{ "resource label with cw type", { P(7, 24, 8, 1) }, true,
	  ACM_E_BITSET, 7, 24 },
	{ "cw bit beyond the types", { P(7, 8, 8, 1 << 5) }, true,
	  ACM_E_BITSET, 7, 8 },
	/* conflicts */
	{ "conflict unnamed", { P(8, 0, 4, 0) }, true, ACM_E_CONFLICT, 8, 0 },
	{ "conflict reserved", { P(8, 4, 4, 1) }, true, ACM_E_CONFLICT, 8,
	  4 },
	{ "conflict name mid-string", { P(8, 0, 4, 3) }, true, ACM_E_STRING,
	  8, 0 },
	{ "conflict set empty", { P(9, 0, 8, 0) }, true, ACM_E_CONFLICT, 9,
	  0 },
	{ "conflict set bit beyond", { P(9, 0, 8, 0x16) }, true, ACM_E_BITSET,
	  9, 0 },
	/* id index: rows 3 2 4 1 0 (ids 0x1a.. 0x45.. 0x4c.. 0x5e.. 0x72..) */
	{ "id index not increasing", { P(10, 4, 4, 4), P(10, 8, 4, 2) },
	  true, ACM_E_LABEL, 10, 8 },
	{ "id index starts high", { P(10, 0, 4, 0), P(10, 16, 4, 3) }, true,
	  ACM_E_LABEL, 10, 4 },
	{ "id index row out of range", { P(10, 12, 4, 5) }, true, ACM_E_LABEL,
	  10, 12 },
	{ "id index row huge", { P(10, 0, 4, 0xffffffffu) }, true,
	  ACM_E_LABEL, 10, 0 },
	{ "id index names a row twice", { P(10, 12, 4, 4) }, true,
	  ACM_E_LABEL, 10, 12 },
	{ "id changed, index stale", { P(5, ROW(2, 0), 4, 0x7fffffffu) },
	  true, ACM_E_LABEL, 10, 8 },
};

/* When several things are wrong, the first check in §1.7 reports. */
static const struct corrupt_case winner_cases[] = {
	{ "magic beats hash", { P(0, 0, 1, 'X'), P(6, 0, 1, 0xff) }, false,
	  ACM_E_MAGIC, 0, 0 },
	{ "version beats length", { P(0, 4, 2, 2), P(0, 8, 4, 7) }, false,
	  ACM_E_VERSION, 0, 4 },
	{ "length beats hash", { P(0, 8, 4, 7), P(6, 0, 1, 0xff) }, false,
	  ACM_E_LENGTH, 0, 8 },
	{ "hash beats header", { P(0, 12, 4, 0xff) }, false, ACM_E_HASH,
	  TRAILER, 0 },
	{ "header beats section", { P(0, 12, 4, 0xff), P(0, ENT(1, 0), 4, 9) },
	  true, ACM_E_HEADER, 0, 12 },
	{ "section beats section size",
	  { P(0, ENT(4, 0), 4, 9), P(0, ENT(1, 12), 4, 1) }, true,
	  ACM_E_SECTION, 0, ENT(4, 0) },
	{ "section size beats strings",
	  { P(0, ENT(6, 12), 4, 9), P(1, 7, 1, 'A') }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(6, 12) },
	{ "strings beat names", { P(1, 7, 1, 'A'), P(2, 0, 4, 0) }, true,
	  ACM_E_STRING, 1, 7 },
	{ "meta section before type names (META beats NAME)",
	  { P(2, 12, 4, 0x41), P(3, 0, 4, 0) }, true, ACM_E_META, 2, 12 },
	{ "type order beats labels",
	  { P(4, 4, 4, 1), P(5, ROW(0, 12), 2, 9) }, true, ACM_E_TYPE_ORDER,
	  4, 4 },
	{ "label beats bitset", { P(5, ROW(4, 14), 2, 1), P(6, 0, 8, 0xff) },
	  true, ACM_E_LABEL, 5, ROW(4, 14) },
	{ "earlier row beats later row",
	  { P(5, ROW(3, 14), 2, 1), P(5, ROW(1, 12), 2, 7) }, true,
	  ACM_E_LABEL, 5, ROW(1, 12) },
	{ "label name (NAME) beats later row",
	  { P(5, ROW(1, 4), 4, 0), P(5, ROW(3, 0), 4, 0) }, true,
	  ACM_E_NAME, 5, ROW(1, 4) },
	{ "bitset beats conflict", { P(7, 0, 8, 0x10), P(8, 0, 4, 0) }, true,
	  ACM_E_BITSET, 7, 0 },
	{ "ste sets before cw sets", { P(7, 0, 8, 0x10), P(6, 32, 8, 0x10) },
	  true, ACM_E_BITSET, 6, 32 },
	{ "conflict beats bootstrap", { P(9, 0, 8, 0), P(2, 44, 4, 4) }, true,
	  ACM_E_CONFLICT, 9, 0 },
	{ "conflict beats id index", { P(8, 4, 4, 1), P(10, 0, 4, 9) }, true,
	  ACM_E_CONFLICT, 8, 4 },
	{ "label row beats id index (section order)",
	  { P(5, ROW(4, 14), 2, 1), P(10, 0, 4, 9) }, true, ACM_E_LABEL, 5,
	  ROW(4, 14) },
	{ "id index beats bootstrap", { P(10, 0, 4, 9), P(2, 44, 4, 4) }, true,
	  ACM_E_LABEL, 10, 0 },
	{ "id index size beats strings",
	  { P(0, ENT(10, 12), 4, 4), P(1, 7, 1, 'A') }, true,
	  ACM_E_SECTION_SIZE, 0, ENT(10, 8) },
};

static void apply(uint8_t *b, size_t len, const struct patch *ps)
{
	for (int i = 0; i < 3 && ps[i].width; i++) {
		uint32_t at = sec_base(b, len, ps[i].sec) + ps[i].delta;

		switch (ps[i].width) {
		case 1: bb_put8(b, at, (uint8_t)ps[i].value); break;
		case 2: bb_put16(b, at, (uint16_t)ps[i].value); break;
		case 4: bb_put32(b, at, (uint32_t)ps[i].value); break;
		case 9: b[at] ^= (uint8_t)ps[i].value; break;
		default: bb_put64(b, at, ps[i].value); break;
		}
	}
}

static void run_cases(const struct corrupt_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct corrupt_case *c = &cases[i];
		uint8_t *b = dup_blob(toy_blob, toy_len);
		uint32_t want_off;

		/* Offsets are taken from the intact layout. */
		want_off = sec_base(toy_blob, toy_len, c->err_sec) +
			   c->err_delta;
		apply(b, toy_len, c->p);
		if (c->reseal)
			bb_reseal(b, toy_len);
		expect(b, toy_len, c->err, want_off, c->what);
		free(b);
	}
}

/*
 * Duplicate ids, with the index rebuilt to match (a blob whose index is
 * consistent with its labels, as a careless writer would make it): the two
 * rows of equal id meet in the index, and the later row's id field reports.
 * Being found through the index, checked after every other section, a
 * duplicate loses to any fault in the sections before it.
 */
static void test_duplicate_ids(void)
{
	uint32_t labels = bb_sec_off(toy_blob, ACM_SEC_LABELS);
	uint32_t id0 = bb_get32(toy_blob, labels);
	uint8_t *b;

	b = dup_blob(toy_blob, toy_len);
	bb_put32(b, labels + ROW(2, 0), id0);
	bb_reindex(b);
	bb_reseal(b, toy_len);
	expect(b, toy_len, ACM_E_LABEL, labels + ROW(2, 0), "duplicate id");
	/* ... wherever the two rows sit in the index */
	bb_put32(b, bb_sec_off(b, ACM_SEC_ID_INDEX) + 16, 2);
	bb_put32(b, bb_sec_off(b, ACM_SEC_ID_INDEX) + 12, 0);
	bb_reseal(b, toy_len);
	expect(b, toy_len, ACM_E_LABEL, labels + ROW(2, 0),
	       "duplicate id, the later row first in the index");
	/* ... and it loses to any label row's fault, even a later row's */
	bb_put16(b, labels + ROW(4, 14), 1);
	bb_reseal(b, toy_len);
	expect(b, toy_len, ACM_E_LABEL, labels + ROW(4, 14),
	       "a later row's fault beats a duplicate id");
	free(b);

	/* A resource label's id equal to a VM label's. */
	b = dup_blob(toy_blob, toy_len);
	bb_put32(b, labels + ROW(4, 0), bb_get32(toy_blob, labels + 16));
	bb_reindex(b);
	bb_reseal(b, toy_len);
	expect(b, toy_len, ACM_E_LABEL, labels + ROW(4, 0),
	       "resource id equals a vm id");
	free(b);

	/* Three rows of one id: the first pair met reports. */
	b = dup_blob(toy_blob, toy_len);
	bb_put32(b, labels + ROW(1, 0), id0);
	bb_put32(b, labels + ROW(3, 0), id0);
	bb_reindex(b);
	bb_reseal(b, toy_len);
	expect(b, toy_len, ACM_E_LABEL, labels + ROW(1, 0),
	       "three rows of one id");
	free(b);
}

/* Many labels: every duplicate is found wherever its rows are; of two
 * duplicates, the one of the lower id reports. */
static void test_duplicate_ids_large(void)
{
	enum { N = 700 };
	static const struct { uint32_t a, b; } pairs[] = {
		{ 3, 250 }, { 130, 131 }, { 0, 699 }, { 600, 650 }, { 5, 128 },
		{ 127, 128 }, { 255, 256 }, { 699, 1 },
	};
	struct bb_label *labels = bb_xmalloc(N * sizeof(*labels));
	char (*names)[16] = bb_xmalloc(N * sizeof(*names));
	struct bb_policy pol = bb_toy;
	uint32_t base, id, id2, later, later2;
	uint8_t *blob, *b;
	size_t len;

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "L%04d", i);
		labels[i] = (struct bb_label){ names[i], ACM_LABEL_VM, "Blue",
					       "Blue", NULL };
	}
	pol.labels = labels;
	pol.n_labels = N;
	pol.bootstrap = "L0000";
	blob = bb_build(&pol, &len);
	expect(blob, len, ACM_OK, 0, "700 labels load");
	base = bb_sec_off(blob, ACM_SEC_LABELS);
	for (size_t i = 0; i < TH_ARRAY_LEN(pairs); i++) {
		char what[64];

		b = dup_blob(blob, len);
		id = bb_get32(blob, base + ROW(pairs[i].a, 0));
		bb_put32(b, base + ROW(pairs[i].b, 0), id);
		bb_reindex(b);
		bb_reseal(b, len);
		later = pairs[i].a > pairs[i].b ? pairs[i].a : pairs[i].b;
		snprintf(what, sizeof(what), "row %u repeats row %u's id",
			 pairs[i].b, pairs[i].a);
		expect(b, len, ACM_E_LABEL, base + ROW(later, 0), what);
		/* A second duplicate: the lower id of the two reports. */
		if (pairs[i].a >= N - 3 || pairs[i].b >= N - 3) {
			free(b);
			continue;
		}
		id2 = bb_get32(blob, base + ROW(N - 3, 0));
		bb_put32(b, base + ROW(N - 2, 0), id2);
		bb_reindex(b);
		bb_reseal(b, len);
		later2 = id < id2 ? later : N - 2;
		expect(b, len, ACM_E_LABEL, base + ROW(later2, 0), what);
		free(b);
	}
	free(blob);
	free(names);
	free(labels);
}

/* Bytes between the last section and the trailer, and their interplay
 * with the bootstrap check and with donated memory. */
static void test_trailing(void)
{
	size_t len = toy_len + 8;
	uint8_t *b = bb_xmalloc(len);
	uint32_t trailer = (uint32_t)toy_len - 32;
	const struct acm_policy *p;
	uint64_t mem[4];

	memcpy(b, toy_blob, trailer); /* the 8 new bytes are zero */
	bb_put32(b, 8, (uint32_t)len);
	bb_reseal(b, len);
	expect(b, len, ACM_E_TRAILING, trailer, "8 bytes before the trailer");
	TH_CHECK(acm_policy_load(b, len, mem, sizeof(mem), &p, NULL) ==
		 ACM_E_TRAILING, "trailing beats NOMEM");
	bb_put32(b, bb_sec_off(b, ACM_SEC_META) + 44, 4);
	bb_reseal(b, len);
	expect(b, len, ACM_E_BOOTSTRAP, bb_sec_off(b, ACM_SEC_META) + 44,
	       "bootstrap beats trailing");
	free(b);

	/* A buffer longer than total_len. */
	b = bb_xmalloc(toy_len + 8);
	memcpy(b, toy_blob, toy_len);
	expect(b, toy_len + 8, ACM_E_LENGTH, 8, "buffer longer than blob");
	free(b);
}

/* ---------------------------------------------------- spec-level faults */

static void expect_spec(const struct bb_policy *pol, enum acm_err want,
			uint32_t sec, uint32_t delta, const char *what)
{
	size_t len;
	uint8_t *b = bb_build(pol, &len);

	expect(b, len, want, want ? sec_base(b, len, sec) + delta : 0, what);
	free(b);
}

static void test_spec_faults(void)
{
	static char long_name[300], long_url[1100];
	struct bb_label labels[5];
	struct bb_conflict cs[2];
	struct bb_policy pol;

	memset(long_name, 'B', 256);
	memset(long_url, 'u', 1025);

	/* names */
	memcpy(labels, bb_toy_labels, sizeof(labels));
	pol = bb_toy;
	pol.labels = labels;
	labels[1].name = "Bl:ue";
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_LABELS, ROW(1, 4),
		    "label name with ':'");
	labels[1].name = "Bl\x7fue";
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_LABELS, ROW(1, 4),
		    "label name with DEL");
	labels[1].name = "Bl\tue";
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_LABELS, ROW(1, 4),
		    "label name with a tab");
	labels[1].name = long_name; /* 256 'B': between Admin and Red */
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_LABELS, ROW(1, 4),
		    "label name of 256 bytes");
	long_name[255] = 0;
	expect_spec(&pol, ACM_OK, 0, 0, "label name of 255 bytes");
	labels[1].name = "Bl\xc3\xbc";
	expect_spec(&pol, ACM_OK, 0, 0, "UTF-8 label name");
	labels[1].name = "Blue";
	labels[1].from = "Old:Blue";
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_LABELS, ROW(1, 8),
		    "label from with ':'");
	labels[1].from = NULL;
	labels[3].cw = "Blue";
	expect_spec(&pol, ACM_E_BITSET, ACM_SEC_CW_SETS, 24,
		    "resource label with a chwall type");
	labels[3].cw = NULL;

	pol = bb_toy;
	pol.name = "toy:1";
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_META, 0, "policy name with ':'");
	pol = bb_toy;
	pol.url = "http://example.org/a\tb";
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_META, 28, "url with a tab");
	pol.url = long_url;
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_META, 28, "url of 1025 bytes");
	long_url[1024] = 0;
	expect_spec(&pol, ACM_OK, 0, 0, "url of 1024 bytes");
	pol.url = "http://www.ibm.com";
	pol.date = "Fri Sep 29 14:44:38 2006";
	expect_spec(&pol, ACM_OK, 0, 0, "url and date with ':' and spaces");

	/* conflicts */
	pol = bb_toy;
	pol.conflicts = cs;
	pol.n_conflicts = 1;
	cs[0] = (struct bb_conflict){ "BR", "" };
	expect_spec(&pol, ACM_E_CONFLICT, ACM_SEC_CONFLICT_SETS, 0,
		    "empty conflict set");
	cs[0] = (struct bb_conflict){ "", "Blue Red" };
	expect_spec(&pol, ACM_E_CONFLICT, ACM_SEC_CONFLICTS, 0,
		    "unnamed conflict set");
	cs[0] = (struct bb_conflict){ "B:R", "Blue Red" };
	expect_spec(&pol, ACM_E_NAME, ACM_SEC_CONFLICTS, 0,
		    "conflict name with ':'");
	cs[0] = (struct bb_conflict){ "BR", "Blue Red" };
	cs[1] = (struct bb_conflict){ "BR", "Admin Red" };
	pol.n_conflicts = 2;
	expect_spec(&pol, ACM_E_CONFLICT, ACM_SEC_CONFLICTS, 8,
		    "two conflict sets of one name");
	cs[1] = (struct bb_conflict){ "AR", "Admin" };
	expect_spec(&pol, ACM_OK, 0, 0, "a one-type conflict set is fine");

	/* components */
	pol = bb_toy;
	pol.ste_types = "";
	pol.has_ste = true;
	memcpy(labels, bb_toy_labels, sizeof(labels));
	for (int i = 0; i < 5; i++)
		labels[i].ste = NULL;
	pol.labels = labels;
	expect_spec(&pol, ACM_E_SECTION_SIZE, 0, ENT(3, 12),
		    "STE present with no types");
	pol.has_ste = false;
	expect_spec(&pol, ACM_OK, 0, 0, "CHWALL-only policy");
	pol.meta_flags = ACM_META_F_STE_PRIORITY;
	expect_spec(&pol, ACM_E_META, ACM_SEC_META, 12,
		    "STE priority without STE");
	pol.meta_flags = ACM_META_F_CW_PRIORITY;
	expect_spec(&pol, ACM_OK, 0, 0, "CHWALL priority with CHWALL");

	pol = bb_toy;
	pol.has_cw = false;
	pol.n_conflicts = 0;
	memcpy(labels, bb_toy_labels, sizeof(labels));
	for (int i = 0; i < 5; i++)
		labels[i].cw = NULL;
	pol.labels = labels;
	expect_spec(&pol, ACM_OK, 0, 0, "STE-only policy");
	pol.has_cw = true;
	pol.cw_types = "";
	expect_spec(&pol, ACM_E_SECTION_SIZE, 0, ENT(4, 12),
		    "CHWALL present with no types");
}

/* ------------------------------------------------- every byte, every len */

/* A policy that loads after a change is exercised: nothing may crash. */
static void exercise(const struct acm_policy *p)
{
	struct acm_policy_info info;
	struct acm_ctx *ctx;
	struct acm_verdict v;

	acm_policy_info(p, &info);
	ctx = bb_ctx(p, 8, true);
	for (acm_row_t a = 0; a <= info.n_labels; a++) {
		(void)acm_label_find(p, acm_label_kind(p, a),
				     acm_label_name(p, a) ?
				     acm_label_name(p, a) : "");
		for (acm_row_t b = 0; b <= info.n_labels; b++) {
			acm_decide_share(ctx, ACM_HOOK_GNT_MAP_READ, a, b, &v);
			acm_decide_resource(ctx, a, b, &v);
			acm_decide_authorize(ctx, a, b, &v);
		}
		acm_domain_create_prepare(ctx, a, &v);
		if (v.decision == ACM_PERMIT)
			acm_domain_destroy(ctx, a);
	}
	free(ctx);
}

static void test_every_byte(const uint8_t *blob, size_t len, const char *name)
{
	uint8_t *b = bb_xmalloc(len);
	size_t refused = 0, resealed_loaded = 0, need, bit;
	void *mem = bb_xmalloc(64 * len + 4096);
	const struct acm_policy *p;

	for (size_t i = 0; i < len; i++) {
		memcpy(b, blob, len);
		b[i] ^= 0xff;
		refused += acm_policy_measure(b, len, &need, NULL) != ACM_OK &&
			   acm_policy_load(b, len, mem, 64 * len + 4096, &p,
					   NULL) != ACM_OK;
		/* The same, resealed, one bit at a time: reaches the
		 * structural checks; whatever loads must be usable. */
		for (bit = 0; bit < 8; bit++) {
			memcpy(b, blob, len);
			b[i] ^= (uint8_t)(1u << bit);
			if (i < len - 32)
				bb_reseal(b, len);
			if (acm_policy_load(b, len, mem, 64 * len + 4096, &p,
					    NULL) == ACM_OK) {
				resealed_loaded++;
				exercise(p);
			}
		}
	}
	TH_CHECK(refused == len, "%s: all %zu single-byte changes refused "
		 "(%zu were)", name, len, refused);
	fprintf(stderr, "%s: %zu of %zu resealed one-bit changes still "
		"load (metadata, names, ids)\n", name, resealed_loaded,
		8 * len);
	free(mem);
	free(b);
}

static void test_every_length(const uint8_t *blob, size_t len,
			      const char *name)
{
	size_t wrong = 0, need;
	uint64_t mem[64];
	const struct acm_policy *p;

	for (size_t l = 0; l < len; l++) {
		uint8_t *b = bb_xmalloc(l);
		struct acm_load_error where;
		enum acm_err want = l < 256 ? ACM_E_TRUNCATED : ACM_E_LENGTH;

		memcpy(b, blob, l);
		wrong += acm_policy_measure(b, l, &need, &where) != want ||
			 where.offset != (want == ACM_E_LENGTH ? 8u : 0u) ||
			 acm_policy_load(b, l, mem, sizeof(mem), &p, NULL) !=
			 want;
		free(b);
	}
	TH_CHECK(wrong == 0, "%s: every truncation refused as TRUNCATED or "
		 "LENGTH (%zu wrong)", name, wrong);
}

int main(void)
{
	uint8_t *xm;
	size_t xm_len;

	toy_blob = bb_build(&bb_toy, &toy_len);
	test_valid_toy();
	test_unaligned();
	test_args();
	run_cases(corrupt_cases, TH_ARRAY_LEN(corrupt_cases));
	run_cases(winner_cases, TH_ARRAY_LEN(winner_cases));
	test_duplicate_ids();
	test_duplicate_ids_large();
	test_trailing();
	test_spec_faults();
	test_every_byte(toy_blob, toy_len, "toy");
	test_every_length(toy_blob, toy_len, "toy");
	xm = bb_build(&bb_xmupdate, &xm_len);
	expect(xm, xm_len, ACM_OK, 0, "xm-test-update loads");
	test_every_byte(xm, xm_len, "xm-test-update");
	test_every_length(xm, xm_len, "xm-test-update");
	free(xm);
	free(toy_blob);
	return th_done();
}
