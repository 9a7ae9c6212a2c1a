/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_seal - the manager's sealed storage (mgr_seal.h):
 *   - state blobs round-trip for every name and size; every byte flip,
 *     every truncation and a trailing byte are refused, each with the error
 *     its field should give; header fields swapped between blobs, a wrong
 *     key and a spliced body are refused; the freshness rule against the
 *     root record's reference (older, fork, uncommitted, removed);
 *   - root records round-trip; every byte flip refused; wrong key; tables
 *     forged under the right key but breaking one body rule each are
 *     refused (and a forged valid one accepted: the doc's layout is the
 *     code's); table operations;
 *   - the commit protocol against a fake counter: crashes after each step
 *     of create, commit and fence recover to the old or the new table;
 *     replayed old records, a hidden uncommitted record presented after
 *     the fence, a counter that fails or moves, a record bound to another
 *     index and a wrong key are refused with a message naming the cause.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tests/harness.h"
#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_seal.h"

static const struct mgr_uuid UA = {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47,
				    0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
				    0xee, 0x01}};
static const struct mgr_uuid UB = {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47,
				    0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
				    0xee, 0x02}};
static const struct mgr_uuid UC = {{0x01, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47,
				    0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
				    0xee, 0x03}};
static const struct mgr_uuid MGR = {{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0x4a,
				     0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
				     0xae, 0xaf}};
static uint8_t KEY1[32], KEY2[32];

#define NV_INDEX 0x01800a70u

/* ------------------------------------------------------------ helpers */

static const char *E(enum mgr_seal_err e)
{
	return mgr_seal_strerror(e);
}

static char dir[64];

static void remove_dir(void)
{
	struct dirent *e;
	DIR *d;

	if (!dir[0])
		return;
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
	dir[0] = '\0';
}

static void fresh_dir(void)
{
	remove_dir();
	snprintf(dir, sizeof(dir), "/tmp/test_seal.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static uint8_t *file_get(const char *name, size_t *len)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) < 0)
		return NULL;
	return th_read_file(path, len);
}

static void file_put(const char *name, const uint8_t *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static void file_del(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static bool file_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* ------------------------------------------------------- fake counter */

struct fake_ctr {
	uint64_t v;
	bool fail_read, fail_inc;
	bool inc_then_fail; /* increments, then reports failure */
	unsigned extra;	    /* someone else's increments, once */
	unsigned reads, incs;
};

static int fake_read(void *ctx, uint64_t *value, char *why, size_t why_len)
{
	struct fake_ctr *f = ctx;

	f->reads++;
	if (f->fail_read) {
		snprintf(why, why_len, "fake: read fails");
		return -EIO;
	}
	*value = f->v;
	return 0;
}

static int fake_inc(void *ctx, uint64_t *value, char *why, size_t why_len)
{
	struct fake_ctr *f = ctx;

	f->incs++;
	if (f->fail_inc) {
		snprintf(why, why_len, "fake: increment fails");
		return -EIO;
	}
	f->v += 1 + f->extra;
	f->extra = 0;
	if (f->inc_then_fail) {
		snprintf(why, why_len, "fake: lost the answer");
		return -EIO;
	}
	*value = f->v;
	return 0;
}

static const struct mgr_counter_ops fake_ops = {fake_read, fake_inc};

/* ------------------------------------------------------- state blobs */

static void test_names(void)
{
	static const struct {
		const char *s;
		enum mgr_state_name n;
	} t[] = {
		{"permall", MGR_STATE_PERMALL},
		{"volatilestate", MGR_STATE_VOLATILE},
		{"savestate", MGR_STATE_SAVESTATE},
		{"../permall", 0},
		{"permall.tmp", 0},
		{"", 0},
		{"PERMALL", 0},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
		TH_CHECK(mgr_state_name_from_str(t[i].s) == t[i].n,
			 "state name '%s'", t[i].s);
		if (t[i].n)
			TH_CHECK(strcmp(mgr_state_name_str(t[i].n), t[i].s) ==
					 0,
				 "name string %s", t[i].s);
	}
	TH_CHECK(mgr_state_name_str(0) == NULL && mgr_state_name_str(4) == NULL,
		 "codes out of range have no name");
	TH_CHECK(mgr_state_name_from_str(NULL) == 0, "NULL name");
	for (int e = 0; e < MGR_SEAL_E_COUNT_; e++)
		TH_CHECK(strcmp(E(e), "unknown error") != 0,
			 "strerror(%d) defined", e);
	TH_CHECK(strcmp(E(MGR_SEAL_E_COUNT_), "unknown error") == 0 &&
			 strcmp(E((enum mgr_seal_err) - 1), "unknown error") ==
				 0,
		 "strerror out of range");
}

static void test_blob_roundtrip(void)
{
	static const size_t sizes[] = {0, 1, 100, 4096, 65537};
	uint8_t *plain = malloc(65537);

	RAND_bytes(plain, 65537);
	for (unsigned n = 1; n <= MGR_STATE_NAMES; n++)
		for (size_t i = 0; i < TH_ARRAY_LEN(sizes); i++) {
			uint8_t *blob, *out, tag[16];
			struct mgr_blob_hdr h;
			size_t blen, olen;
			enum mgr_seal_err r;

			r = mgr_blob_seal(KEY1, &UA, n, 7 + i, plain, sizes[i],
					  &blob, &blen, tag);
			if (!TH_CHECK(r == MGR_SEAL_OK, "seal %u/%zu: %s", n,
				      sizes[i], E(r)))
				continue;
			TH_CHECK(blen == sizes[i] + MGR_BLOB_OVERHEAD,
				 "blob length %zu", blen);
			TH_CHECK(memcmp(blob, "HVSB", 4) == 0, "magic bytes");
			r = mgr_blob_open(KEY1, blob, blen, &UA, n, &out, &olen,
					  &h);
			TH_CHECK(r == MGR_SEAL_OK && olen == sizes[i] &&
					 (!olen || !memcmp(out, plain, olen)),
				 "open %u/%zu: %s", n, sizes[i], E(r));
			TH_CHECK(h.name == (enum mgr_state_name)n &&
					 h.generation == 7 + i &&
					 !memcmp(h.uuid.b, UA.b, 16) &&
					 h.ct_len == sizes[i] &&
					 !memcmp(h.tag, tag, 16) &&
					 !memcmp(h.tag, blob + blen - 16, 16),
				 "header fields %u/%zu", n, sizes[i]);
			free(out);
			free(blob);
		}
	{
		uint8_t *b1, *b2;
		size_t l1, l2;

		mgr_blob_seal(KEY1, &UA, 1, 1, plain, 32, &b1, &l1, NULL);
		mgr_blob_seal(KEY1, &UA, 1, 1, plain, 32, &b2, &l2, NULL);
		TH_CHECK(memcmp(b1 + 36, b2 + 36, 12) != 0,
			 "every seal draws a fresh nonce");
		TH_CHECK(memcmp(b1 + 48, plain, 32) != 0,
			 "payload is not in clear");
		free(b1);
		free(b2);
	}
	{
		uint8_t *b;
		size_t l;

		TH_CHECK(mgr_blob_seal(KEY1, &UA, 1, 1, plain,
				       MGR_STATE_MAX + 1, &b, &l,
				       NULL) == MGR_SEAL_E_TOO_BIG &&
				 !b,
			 "state over 1 MiB refused");
		TH_CHECK(mgr_blob_seal(KEY1, &UA, 4, 1, plain, 1, &b, &l,
				       NULL) == MGR_SEAL_E_INVAL,
			 "unknown name refused by seal");
		TH_CHECK(mgr_blob_seal(KEY1, &UA, 1, 1, NULL, 1, &b, &l,
				       NULL) == MGR_SEAL_E_INVAL,
			 "NULL data refused");
	}
	free(plain);
}

/* Which error a flip of one byte gives, by field (the expected-instance
 * and -name checks come before authentication). */
static enum mgr_seal_err flip_expect(size_t off, size_t len, uint8_t *b)
{
	if (off < 4)
		return MGR_SEAL_E_MAGIC;
	if (off < 6)
		return MGR_SEAL_E_VERSION;
	if (off == 6) /* name: 1 -> 0 or 129 unknown, 1 -> 3? */
		return (b[6] >= 1 && b[6] <= 3) ? MGR_SEAL_E_WRONG_NAME
						: MGR_SEAL_E_NAME;
	if (off == 7)
		return MGR_SEAL_E_RESERVED;
	if (off < 24)
		return MGR_SEAL_E_INSTANCE;
	if (off < 32)
		return MGR_SEAL_E_AUTH;
	if (off < 36) { /* ct_len */
		uint32_t ct = (uint32_t)b[32] | (uint32_t)b[33] << 8 |
			      (uint32_t)b[34] << 16 | (uint32_t)b[35] << 24;

		if (ct > MGR_STATE_MAX)
			return MGR_SEAL_E_TOO_BIG;
		return ct + MGR_BLOB_OVERHEAD > len ? MGR_SEAL_E_TRUNCATED
						    : MGR_SEAL_E_TRAILING;
	}
	return MGR_SEAL_E_AUTH; /* nonce, ciphertext, tag */
}

static void test_blob_flips(void)
{
	uint8_t plain[64], *blob, *out;
	unsigned bad = 0, wrong_err = 0;
	size_t blen, olen;

	RAND_bytes(plain, sizeof(plain));
	mgr_blob_seal(KEY1, &UA, MGR_STATE_PERMALL, 42, plain, sizeof(plain),
		      &blob, &blen, NULL);
	for (size_t i = 0; i < blen; i++)
		for (int bit = 0; bit < 8; bit++) {
			enum mgr_seal_err r, want;

			blob[i] ^= (uint8_t)(1u << bit);
			want = flip_expect(i, blen, blob);
			r = mgr_blob_open(KEY1, blob, blen, &UA,
					  MGR_STATE_PERMALL, &out, &olen, NULL);
			if (r == MGR_SEAL_OK) {
				bad++;
				free(out);
			} else if (r != want) {
				wrong_err++;
				fprintf(stderr,
					"byte %zu bit %d: %s, want %s\n", i,
					bit, E(r), E(want));
			}
			blob[i] ^= (uint8_t)(1u << bit);
		}
	TH_CHECK(bad == 0, "every one of %zu bit flips refused (%u accepted)",
		 blen * 8, bad);
	TH_CHECK(wrong_err == 0, "each flip refused with its field's error");
	TH_CHECK(mgr_blob_open(KEY1, blob, blen, &UA, MGR_STATE_PERMALL, &out,
			       &olen, NULL) == MGR_SEAL_OK,
		 "original still opens");
	free(out);

	/* Truncations, one trailing byte. */
	bad = 0;
	for (size_t n = 0; n < blen; n++) {
		enum mgr_seal_err r =
			mgr_blob_open(KEY1, blob, n, &UA, MGR_STATE_PERMALL,
				      &out, &olen, NULL);
		if (r != MGR_SEAL_E_TRUNCATED)
			bad++;
	}
	TH_CHECK(bad == 0, "every truncation refused as TRUNCATED");
	{
		uint8_t *longer = malloc(blen + 1);

		memcpy(longer, blob, blen);
		longer[blen] = 0;
		TH_CHECK(mgr_blob_open(KEY1, longer, blen + 1, &UA,
				       MGR_STATE_PERMALL, &out, &olen,
				       NULL) == MGR_SEAL_E_TRAILING,
			 "a trailing byte refused");
		free(longer);
	}
	TH_CHECK(mgr_blob_open(KEY2, blob, blen, &UA, MGR_STATE_PERMALL, &out,
			       &olen, NULL) == MGR_SEAL_E_AUTH &&
			 !out && !olen,
		 "wrong key: AUTH, nothing returned");
	TH_CHECK(mgr_blob_open(KEY1, NULL, 0, &UA, MGR_STATE_PERMALL, &out,
			       &olen, NULL) == MGR_SEAL_E_TRUNCATED,
		 "NULL buffer is empty");
	free(blob);
}

static void test_blob_swaps(void)
{
	uint8_t pa[48], pb[48], *a, *b, *out, *x;
	size_t la, lb, olen;
	enum mgr_seal_err r;

	RAND_bytes(pa, sizeof(pa));
	RAND_bytes(pb, sizeof(pb));
	mgr_blob_seal(KEY1, &UA, MGR_STATE_PERMALL, 5, pa, sizeof(pa), &a, &la,
		      NULL);
	/* Same key on purpose: separation must come from the AAD. */
	mgr_blob_seal(KEY1, &UB, MGR_STATE_VOLATILE, 6, pb, sizeof(pb), &b, &lb,
		      NULL);
	x = malloc(la);

	static const struct {
		const char *what;
		size_t off, len;
	} fields[] = {
		{"uuid", 8, 16},	{"name", 6, 1},
		{"generation", 24, 8},	{"nonce", 36, 12},
		{"ciphertext", 48, 48}, {"tag", 96, 16},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(fields); i++) {
		memcpy(x, a, la);
		memcpy(x + fields[i].off, b + fields[i].off, fields[i].len);
		/* Whatever the header now claims, the key does not open it. */
		struct mgr_blob_hdr h;

		mgr_blob_parse(x, la, &h);
		r = mgr_blob_open(KEY1, x, la, &h.uuid, h.name, &out, &olen,
				  NULL);
		TH_CHECK(r == MGR_SEAL_E_AUTH, "%s of B in A, as claimed: %s",
			 fields[i].what, E(r));
		if (!r)
			free(out);
	}
	memcpy(x, a, la);
	memcpy(x + 8, b + 8, 16);
	TH_CHECK(mgr_blob_open(KEY1, x, la, &UA, MGR_STATE_PERMALL, &out, &olen,
			       NULL) == MGR_SEAL_E_INSTANCE,
		 "A's blob claiming B, opened as A: INSTANCE");
	TH_CHECK(mgr_blob_open(KEY1, a, la, &UB, MGR_STATE_PERMALL, &out, &olen,
			       NULL) == MGR_SEAL_E_INSTANCE,
		 "A's blob opened as B's: INSTANCE");
	TH_CHECK(mgr_blob_open(KEY1, a, la, &UA, MGR_STATE_SAVESTATE, &out,
			       &olen, NULL) == MGR_SEAL_E_WRONG_NAME,
		 "permall opened as savestate: WRONG_NAME");
	free(x);
	free(a);
	free(b);
}

static void test_blob_parse_order(void)
{
	uint8_t b[MGR_BLOB_OVERHEAD + 4];
	struct mgr_blob_hdr h;

	/* Several things wrong: the first in the documented order wins. */
	static const struct {
		const char *what;
		uint32_t magic;
		uint16_t version;
		uint8_t name, rsvd;
		uint32_t ct;
		enum mgr_seal_err want;
	} t[] = {
		{"all good", 0x42535648, 1, 1, 0, 4, MGR_SEAL_OK},
		{"magic+version", 0x42535649, 2, 1, 0, 4, MGR_SEAL_E_MAGIC},
		{"version+rsvd", 0x42535648, 0, 9, 1, 4, MGR_SEAL_E_VERSION},
		{"rsvd+name", 0x42535648, 1, 9, 1, 4, MGR_SEAL_E_RESERVED},
		{"name+len", 0x42535648, 1, 0, 0, 99, MGR_SEAL_E_NAME},
		{"huge len", 0x42535648, 1, 2, 0, 0xffffffff,
		 MGR_SEAL_E_TOO_BIG},
		{"len 1 MiB+1", 0x42535648, 1, 2, 0, (1u << 20) + 1,
		 MGR_SEAL_E_TOO_BIG},
		{"len short", 0x42535648, 1, 3, 0, 5, MGR_SEAL_E_TRUNCATED},
		{"len long", 0x42535648, 1, 3, 0, 3, MGR_SEAL_E_TRAILING},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
		memset(b, 0, sizeof(b));
		vtpm_put_le32(b, t[i].magic);
		b[4] = (uint8_t)t[i].version;
		b[5] = (uint8_t)(t[i].version >> 8);
		b[6] = t[i].name;
		b[7] = t[i].rsvd;
		vtpm_put_le32(b + 32, t[i].ct);
		TH_CHECK(mgr_blob_parse(b, sizeof(b), &h) == t[i].want,
			 "parse order: %s -> %s", t[i].what, E(t[i].want));
	}
}

static void test_freshness(void)
{
	uint8_t t1[16], t2[16];
	struct mgr_blob_hdr h;

	memset(t1, 0xa1, 16);
	memset(t2, 0xb2, 16);
	static const struct {
		const char *what;
		uint64_t ref_gen;
		bool present;
		uint64_t gen;
		int tag; /* 1: t1 (the committed), 2: t2 */
		enum mgr_seal_err want;
	} t[] = {
		{"the committed blob", 5, true, 5, 1, MGR_SEAL_OK},
		{"older generation", 5, true, 4, 1, MGR_SEAL_E_ROLLBACK},
		{"much older", 5, true, 1, 2, MGR_SEAL_E_ROLLBACK},
		{"same gen, other tag (fork)", 5, true, 5, 2,
		 MGR_SEAL_E_ROLLBACK},
		{"next gen, never committed", 5, true, 6, 2,
		 MGR_SEAL_E_UNCOMMITTED},
		{"far future", 5, true, 99, 1, MGR_SEAL_E_UNCOMMITTED},
		{"removed: older blob", 6, false, 5, 1, MGR_SEAL_E_ROLLBACK},
		{"removed: at removal gen", 6, false, 6, 1,
		 MGR_SEAL_E_UNCOMMITTED},
		{"never written: any blob", 0, false, 1, 1,
		 MGR_SEAL_E_UNCOMMITTED},
		{"never written: gen 0", 0, false, 0, 1,
		 MGR_SEAL_E_UNCOMMITTED},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
		struct mgr_state_ref ref = {.generation = t[i].ref_gen,
					    .present = t[i].present};

		if (t[i].present)
			memcpy(ref.tag, t1, 16);
		memset(&h, 0, sizeof(h));
		h.generation = t[i].gen;
		memcpy(h.tag, t[i].tag == 1 ? t1 : t2, 16);
		TH_CHECK(mgr_blob_check_committed(&ref, &h) == t[i].want,
			 "freshness: %s -> %s", t[i].what, E(t[i].want));
	}

	/* The real sequence: commit gen 1, write gen 2 and commit it, then
	 * an attacker puts the gen-1 file back. */
	{
		uint8_t s1[8] = "state-1", s2[8] = "state-2", *b1, *b2, *out;
		struct mgr_state_ref ref = {0};
		size_t l1, l2, ol;

		mgr_blob_seal(KEY1, &UA, 1, 1, s1, 8, &b1, &l1, ref.tag);
		ref.generation = 1;
		ref.present = true;
		mgr_blob_seal(KEY1, &UA, 1, 2, s2, 8, &b2, &l2, ref.tag);
		ref.generation = 2;
		TH_CHECK(mgr_blob_open(KEY1, b1, l1, &UA, 1, &out, &ol, &h) ==
				 MGR_SEAL_OK,
			 "old blob is authentic");
		free(out);
		TH_CHECK(mgr_blob_check_committed(&ref, &h) ==
				 MGR_SEAL_E_ROLLBACK,
			 "replayed older state detected: %s",
			 E(mgr_blob_check_committed(&ref, &h)));
		mgr_blob_open(KEY1, b2, l2, &UA, 1, &out, &ol, &h);
		free(out);
		TH_CHECK(mgr_blob_check_committed(&ref, &h) == MGR_SEAL_OK,
			 "current state accepted");
		free(b1);
		free(b2);
	}
}

/* -------------------------------------------------------- root record */

static void sample_root(struct mgr_root *r)
{
	struct mgr_inst *e;

	mgr_root_init(r, &MGR, NV_INDEX);
	mgr_root_add(r, &UB, &UC, "tenant_b_vm", MGR_INST_F_PROVISIONED, NULL);
	mgr_root_add(r, &UA, &UB, "A", 0, &e);
	e->state[0] = (struct mgr_state_ref){.generation = 3, .present = true};
	memset(e->state[0].tag, 0x5a, 16);
	e->state[2].generation = 9; /* savestate removed at 9 */
	mgr_root_add(r, &UC, &UA,
		     "a-label-of-exactly-twenty-three-and-more-bytes",
		     MGR_INST_F_TPM12 | MGR_INST_F_DISABLED, NULL);
	r->generation = 77;
}

static bool same_root(const struct mgr_root *a, const struct mgr_root *b)
{
	if (a->generation != b->generation || a->nv_index != b->nv_index ||
	    memcmp(&a->manager, &b->manager, 16) || a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++) {
		const struct mgr_inst *x = &a->inst[i], *y = &b->inst[i];

		if (memcmp(&x->uuid, &y->uuid, 16) ||
		    memcmp(x->key, y->key, 32) ||
		    memcmp(&x->domain, &y->domain, 16) ||
		    strcmp(x->label, y->label) || x->flags != y->flags)
			return false;
		for (int s = 0; s < 3; s++)
			if (x->state[s].generation != y->state[s].generation ||
			    x->state[s].present != y->state[s].present ||
			    memcmp(x->state[s].tag, y->state[s].tag, 16))
				return false;
	}
	return true;
}

static void test_root_table(void)
{
	struct mgr_root r;
	char long_label[300];
	struct mgr_inst *e;

	sample_root(&r);
	TH_CHECK(r.count == 3 && !memcmp(&r.inst[0].uuid, &UC, 16) &&
			 !memcmp(&r.inst[1].uuid, &UA, 16) &&
			 !memcmp(&r.inst[2].uuid, &UB, 16),
		 "table sorted by uuid");
	TH_CHECK(memcmp(r.inst[0].key, r.inst[1].key, 32) != 0,
		 "fresh key per instance");
	TH_CHECK(mgr_root_add(&r, &UA, &UB, "x", 0, NULL) ==
			 MGR_SEAL_E_DUPLICATE,
		 "duplicate uuid refused");
	memset(long_label, 'l', sizeof(long_label));
	long_label[256] = 0;
	static const struct {
		const char *label;
		uint32_t flags;
	} bad[] = {
		{"", 0},	{"a:b", 0},   {"tab\there", 0},
		{"del\x7f", 0}, {"ok", 0x10}, {NULL, 0},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(bad); i++) {
		struct mgr_uuid u = {{0xee, (uint8_t)i}};

		TH_CHECK(mgr_root_add(&r, &u, &UA,
				      bad[i].label ? bad[i].label : long_label,
				      bad[i].flags, NULL) == MGR_SEAL_E_INVAL,
			 "bad label/flags %zu refused", i);
	}
	long_label[255] = 0;
	{
		struct mgr_uuid u = {{0xef}};

		TH_CHECK(mgr_root_add(&r, &u, &UA, long_label, 0, &e) ==
					 MGR_SEAL_OK &&
				 strlen(e->label) == 255,
			 "255-byte label accepted");
	}
	TH_CHECK(mgr_root_find(&r, &UB) && !mgr_root_find(&r, &MGR), "find");
	TH_CHECK(mgr_root_remove(&r, &UA) == MGR_SEAL_OK && r.count == 3 &&
			 !mgr_root_find(&r, &UA) && mgr_root_find(&r, &UB) &&
			 mgr_root_find(&r, &UC),
		 "remove");
	TH_CHECK(mgr_root_remove(&r, &UA) == MGR_SEAL_E_NOT_FOUND,
		 "remove missing");
	mgr_root_free(&r);
	TH_CHECK(r.count == 0 && !r.inst, "free empties");

	/* Growing past the first allocations keeps order and keys. */
	mgr_root_init(&r, &MGR, NV_INDEX);
	for (unsigned i = 0; i < 100; i++) {
		struct mgr_uuid u = {{(uint8_t)(i * 37), (uint8_t)i}};

		mgr_root_add(&r, &u, &UA, "g", 0, NULL);
	}
	bool sorted = r.count == 100;
	for (unsigned i = 1; i < r.count; i++)
		sorted &= memcmp(&r.inst[i - 1].uuid, &r.inst[i].uuid, 16) < 0;
	TH_CHECK(sorted, "100 adds: sorted, all present");
	mgr_root_free(&r);
}

static void test_root_roundtrip(const struct mgr_root_keys *k1,
				const struct mgr_root_keys *k2)
{
	struct mgr_root r, d;
	uint8_t *buf;
	size_t len, olen_bad = 0, bad = 0;
	uint64_t g;
	char why[160];
	enum mgr_seal_err rc;

	sample_root(&r);
	rc = mgr_root_encode(&r, k1, &buf, &len);
	TH_CHECK(rc == MGR_SEAL_OK, "encode: %s", E(rc));
	TH_CHECK(!memcmp(buf, "HVRR", 4), "root magic bytes");
	rc = mgr_root_decode(buf, len, k1, &d, why, sizeof(why));
	TH_CHECK(rc == MGR_SEAL_OK && same_root(&r, &d), "decode: %s %s", E(rc),
		 why);
	mgr_root_free(&d);
	TH_CHECK(mgr_root_peek_generation(buf, len, &g) == MGR_SEAL_OK &&
			 g == 77,
		 "peek generation");
	rc = mgr_root_decode(buf, len, k2, &d, why, sizeof(why));
	TH_CHECK(rc == MGR_SEAL_E_AUTH && d.count == 0,
		 "wrong root key: AUTH (%s)", why);
	mgr_root_free(&d);

	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			rc = mgr_root_decode(buf, len, k1, &d, NULL, 0);
			if (rc == MGR_SEAL_OK)
				bad++;
			mgr_root_free(&d);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	TH_CHECK(bad == 0, "every flip of a %zu-byte root record refused", len);
	for (size_t n = 0; n < len; n++) {
		rc = mgr_root_decode(buf, n, k1, &d, NULL, 0);
		if (rc != MGR_SEAL_E_TRUNCATED)
			olen_bad++;
		mgr_root_free(&d);
	}
	TH_CHECK(olen_bad == 0, "every truncation refused as TRUNCATED");
	free(buf);

	/* The empty table. */
	mgr_root_free(&r);
	mgr_root_init(&r, &MGR, NV_INDEX);
	r.generation = 1;
	mgr_root_encode(&r, k1, &buf, &len);
	TH_CHECK(len == MGR_ROOT_HDR_LEN + 8 + 16, "empty record: %zu bytes",
		 len);
	TH_CHECK(mgr_root_decode(buf, len, k1, &d, why, sizeof(why)) ==
				 MGR_SEAL_OK &&
			 same_root(&r, &d),
		 "empty round trip");
	mgr_root_free(&d);
	free(buf);

	/* An encoder never writes what the decoder refuses. */
	{
		struct mgr_inst *e;

		mgr_root_add(&r, &UA, &UB, "x", 0, &e);
		e->state[1].present = true; /* generation 0 */
		TH_CHECK(mgr_root_encode(&r, k1, &buf, &len) ==
				 MGR_SEAL_E_INVAL,
			 "present state with generation 0 not encoded");
		e->state[1].generation = 1;
		e->flags = 0x100;
		TH_CHECK(mgr_root_encode(&r, k1, &buf, &len) ==
				 MGR_SEAL_E_INVAL,
			 "unknown flags not encoded");
	}
	mgr_root_free(&r);
}

/* A root record with a hand-made body, under the right key: the layout
 * of formats.md §6.2, written independently of the encoder. */
static uint8_t *forge_root(const struct mgr_root_keys *k, const uint8_t *body,
			   size_t blen, size_t *len)
{
	uint8_t *b = calloc(1, MGR_ROOT_HDR_LEN + blen + 16);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	memcpy(b, "HVRR", 4);
	b[4] = 1;
	vtpm_put_le64(b + 8, 5);
	vtpm_put_le32(b + 16, NV_INDEX);
	vtpm_put_le32(b + 20, (uint32_t)blen);
	memcpy(b + 24, MGR.b, 16);
	RAND_bytes(b + 40, 12);
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->enc, b + 40);
	EVP_EncryptUpdate(c, NULL, &n, b, MGR_ROOT_HDR_LEN);
	EVP_EncryptUpdate(c, b + MGR_ROOT_HDR_LEN, &n, body, (int)blen);
	EVP_EncryptFinal_ex(c, b + MGR_ROOT_HDR_LEN + blen, &n);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
			    b + MGR_ROOT_HDR_LEN + blen);
	EVP_CIPHER_CTX_free(c);
	*len = MGR_ROOT_HDR_LEN + blen + 16;
	return b;
}

/* One entry at p (label "lab", padded to 8): returns its length. */
static size_t forge_entry(uint8_t *p, uint8_t uuid0, const char *lab)
{
	size_t n = strlen(lab);

	memset(p, 0, 168 + 264);
	p[0] = uuid0;
	memset(p + 16, 0x33, 32);
	p[68] = (uint8_t)n;
	memcpy(p + 168, lab, n);
	return 168 + n + ((8 - (n & 7)) & 7);
}

static void test_root_body_rules(const struct mgr_root_keys *k)
{
	uint8_t body[2048];
	size_t len, l1, l2;
	struct mgr_root d;
	char why[160];
	uint8_t *rec;

	static const struct {
		const char *what;
		int mutate;
		enum mgr_seal_err want;
	} t[] = {
		{"two valid entries", 0, MGR_SEAL_OK},
		{"count larger than the entries", 1, MGR_SEAL_E_BODY},
		{"count 2^31", 2, MGR_SEAL_E_BODY},
		{"header reserved word", 3, MGR_SEAL_E_BODY},
		{"uuids descending", 4, MGR_SEAL_E_BODY},
		{"uuids equal", 5, MGR_SEAL_E_BODY},
		{"unknown instance flag", 6, MGR_SEAL_E_BODY},
		{"entry reserved", 7, MGR_SEAL_E_BODY},
		{"label length 0", 8, MGR_SEAL_E_BODY},
		{"label with ':'", 9, MGR_SEAL_E_BODY},
		{"padding not zero", 10, MGR_SEAL_E_BODY},
		{"trailing bytes", 11, MGR_SEAL_E_BODY},
		{"state present with gen 0", 12, MGR_SEAL_E_BODY},
		{"state absent with a tag", 13, MGR_SEAL_E_BODY},
		{"state unknown flag", 14, MGR_SEAL_E_BODY},
		{"state reserved", 15, MGR_SEAL_E_BODY},
		{"label runs past the end", 16, MGR_SEAL_E_BODY},
		{"empty body", 17, MGR_SEAL_E_BODY},
		{"state present, gen 1, tag", 18, MGR_SEAL_OK},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
		memset(body, 0, sizeof(body));
		vtpm_put_le32(body, 2);
		l1 = forge_entry(body + 8, 0x10, "abc");
		l2 = forge_entry(body + 8 + l1, 0x20, "vm_a");
		len = 8 + l1 + l2;
		uint8_t *e1 = body + 8, *e2 = body + 8 + l1;

		switch (t[i].mutate) {
		case 1:
			vtpm_put_le32(body, 3);
			break;
		case 2:
			vtpm_put_le32(body, 1u << 31);
			break;
		case 3:
			body[5] = 1;
			break;
		case 4:
			e2[0] = 0x01;
			break;
		case 5:
			e2[0] = 0x10;
			break;
		case 6:
			e1[64] = 0x10;
			break;
		case 7:
			e1[71] = 1;
			break;
		case 8:
			e1[68] = 0;
			break;
		case 9:
			e2[168 + 1] = ':';
			break;
		case 10:
			e1[168 + 3] = 1;
			break;
		case 11:
			len += 8;
			break;
		case 12:
			e1[72 + 24] = 1;
			break;
		case 13:
			e1[72 + 8] = 1;
			break;
		case 14:
			e1[72 + 24] = 2;
			vtpm_put_le64(e1 + 72, 1);
			break;
		case 15:
			e1[72 + 28] = 1;
			break;
		case 16:
			e2[68] = 200;
			break;
		case 17:
			len = 0;
			break;
		case 18:
			vtpm_put_le64(e2 + 72 + 32, 1);
			e2[72 + 32 + 8] = 0x77;
			e2[72 + 32 + 24] = 1;
			break;
		}
		rec = forge_root(k, body, len, &len);
		enum mgr_seal_err rc =
			mgr_root_decode(rec, len, k, &d, why, sizeof(why));
		TH_CHECK(rc == t[i].want, "body: %s -> %s (got %s: %s)",
			 t[i].what, E(t[i].want), E(rc), why);
		if (t[i].mutate == 0)
			TH_CHECK(d.count == 2 && d.generation == 5 &&
					 d.nv_index == NV_INDEX &&
					 !strcmp(d.inst[1].label, "vm_a") &&
					 d.inst[0].key[0] == 0x33,
				 "forged record decodes to its fields");
		if (t[i].mutate == 18)
			TH_CHECK(d.count == 2 && d.inst[1].state[1].present &&
					 d.inst[1].state[1].generation == 1 &&
					 d.inst[1].state[1].tag[0] == 0x77,
				 "state reference decoded");
		mgr_root_free(&d);
		free(rec);
	}
	/* A count the body cannot hold is refused before any allocation
	 * (checked under ASan: no 16384-entry calloc for 8 bytes). */
	memset(body, 0, 8);
	vtpm_put_le32(body, MGR_ROOT_MAX_INSTANCES);
	rec = forge_root(k, body, 8, &len);
	TH_CHECK(mgr_root_decode(rec, len, k, &d, why, sizeof(why)) ==
			 MGR_SEAL_E_BODY,
		 "count with no entries refused");
	mgr_root_free(&d);
	free(rec);
}

/* ---------------------------------------------------- commit protocol */

struct env {
	struct fake_ctr f;
	struct mgr_counter ctr;
	struct mgr_root_keys keys;
	struct mgr_rootdir *d;
	char why[512];
};

static void env_open(struct env *e)
{
	enum mgr_seal_err rc =
		mgr_rootdir_open(&e->d, dir, e->why, sizeof(e->why));

	if (rc) {
		fprintf(stderr, "rootdir_open: %s\n", e->why);
		exit(2);
	}
}

/* A crash: the process is gone; only the files and the counter stay. */
static void env_crash(struct env *e)
{
	mgr_rootdir_close(e->d);
	e->d = NULL;
	env_open(e);
}

static void env_init(struct env *e, const struct mgr_root_keys *keys,
		     uint64_t start)
{
	memset(e, 0, sizeof(*e));
	e->f.v = start;
	e->ctr = (struct mgr_counter){&fake_ops, &e->f, NV_INDEX};
	e->keys = *keys;
	fresh_dir();
	chmod(dir, 0700);
	env_open(e);
}

/* Recovers into *r (freed first); returns the error. */
static enum mgr_seal_err recover(struct env *e, struct mgr_root *r,
				 struct mgr_recover_report *rep)
{
	mgr_root_free(r);
	return mgr_root_recover(e->d, &e->keys, &e->ctr, r, rep, e->why,
				sizeof(e->why));
}

static void set_marker(struct mgr_root *r, const char *label)
{
	struct mgr_inst *x = mgr_root_find(r, &UA);

	if (!x)
		mgr_root_add(r, &UA, &UB, label, 0, &x);
	else
		snprintf(x->label, sizeof(x->label), "%s", label);
}

static const char *marker(const struct mgr_root *r)
{
	struct mgr_inst *x = mgr_root_find(r, &UA);

	return x ? x->label : "(none)";
}

static void test_protocol_basic(const struct mgr_root_keys *keys)
{
	struct mgr_root r, s = {0};
	struct mgr_recover_report rep;
	struct env e;
	enum mgr_seal_err rc;

	env_init(&e, keys, 41);
	mgr_root_init(&r, &MGR, NV_INDEX);
	set_marker(&r, "v0");
	rc = mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
	TH_CHECK(
		rc == MGR_SEAL_OK && e.f.v == 43 && r.generation == 43,
		"create takes a value of its own, then commits: %s %s (v=%llu)",
		E(rc), e.why, (unsigned long long)e.f.v);
	TH_CHECK(file_exists("root") && !file_exists("root.pending"),
		 "create leaves root only");
	for (int i = 1; i <= 3; i++) {
		char m[8];

		snprintf(m, sizeof(m), "v%d", i);
		set_marker(&r, m);
		rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &r, e.why,
				     sizeof(e.why));
		TH_CHECK(rc == MGR_SEAL_OK && r.generation == 43u + i &&
				 e.f.v == 43u + i,
			 "commit %d: %s", i, E(rc));
	}
	env_crash(&e);
	rc = mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_E_EXISTS && e.f.v == 46,
		 "create over an existing record refused: %s", e.why);
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_OK && s.generation == 46 &&
			 !strcmp(marker(&s), "v3") && same_root(&r, &s) &&
			 !rep.rolled_forward,
		 "recover after clean commits: %s %s", E(rc), e.why);
	rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_E_INVAL, "no commit between recover and fence");
	rc = mgr_root_fence(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_OK && s.generation == 48 && e.f.v == 48,
		 "fence moves the counter by two: %s", E(rc));
	set_marker(&s, "v4");
	rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_OK && s.generation == 49, "commit after fence");

	/* A record from the past: every one is refused. */
	{
		size_t len;
		uint8_t *cur = file_get("root", &len);

		env_crash(&e);
		e.f.v = 60; /* as if many commits happened since */
		rc = recover(&e, &s, &rep);
		TH_CHECK(rc == MGR_SEAL_E_NO_RECORD &&
				 strstr(e.why, "older than the counter"),
			 "replayed old record refused: %s", e.why);
		TH_CHECK(rep.counter == 60 && rep.file[0].present &&
				 rep.file[0].generation == 49 &&
				 !rep.file[1].present,
			 "report names what was found");
		free(cur);
	}
	mgr_root_free(&r);
	mgr_root_free(&s);
	mgr_rootdir_close(e.d);
}

/* Commit interrupted after each step; then the replay of what was seen. */
static void test_protocol_crashes(const struct mgr_root_keys *keys)
{
	static const struct {
		const char *what;
		int stop; /* 1 after write, 2 after increment, 3 after rename */
		const char *want;
		bool rolled;
	} t[] = {
		{"crash after writing root.pending", 1, "new", true},
		{"crash after the increment", 2, "new", false},
		{"crash after the rename", 3, "new", false},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
		struct mgr_root r, s = {0};
		struct mgr_recover_report rep;
		uint64_t v;
		struct env e;
		enum mgr_seal_err rc;

		env_init(&e, keys, 0);
		mgr_root_init(&r, &MGR, NV_INDEX);
		set_marker(&r, "old");
		mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
		set_marker(&r, "new");
		v = e.f.v;
		mgr_root_write_pending(e.d, &e.keys, &r, v + 1, e.why,
				       sizeof(e.why));
		if (t[i].stop >= 2)
			e.f.v++;
		if (t[i].stop >= 3)
			mgr_root_promote(e.d, e.why, sizeof(e.why));
		env_crash(&e);
		rc = recover(&e, &s, &rep);
		TH_CHECK(rc == MGR_SEAL_OK && !strcmp(marker(&s), t[i].want) &&
				 rep.rolled_forward == t[i].rolled &&
				 s.generation == v + 1 && e.f.v == v + 1,
			 "%s: recovers '%s' gen %llu (%s; %s)", t[i].what,
			 marker(&s), (unsigned long long)s.generation, E(rc),
			 e.why);
		TH_CHECK(file_exists("root") && !file_exists("root.pending"),
			 "%s: record promoted to root", t[i].what);
		rc = mgr_root_fence(e.d, &e.keys, &e.ctr, &s, e.why,
				    sizeof(e.why));
		TH_CHECK(rc == MGR_SEAL_OK && e.f.v == v + 3, "%s: fence",
			 t[i].what);
		mgr_root_free(&r);
		mgr_root_free(&s);
		mgr_rootdir_close(e.d);
	}

	/* The same crash (after the write), but the attacker hides
	 * root.pending: the old table is recovered and fenced; the hidden
	 * record, presented later in either file, is refused for good. */
	{
		struct mgr_root r, s = {0};
		struct mgr_recover_report rep;
		uint8_t *hidden;
		size_t hlen;
		struct env e;
		enum mgr_seal_err rc;

		env_init(&e, keys, 10);
		mgr_root_init(&r, &MGR, NV_INDEX);
		set_marker(&r, "old");
		mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
		set_marker(&r, "X");
		mgr_root_write_pending(e.d, &e.keys, &r, r.generation + 1,
				       e.why, sizeof(e.why));
		hidden = file_get("root.pending", &hlen);
		file_del("root.pending");
		env_crash(&e);
		rc = recover(&e, &s, &rep);
		TH_CHECK(rc == MGR_SEAL_OK && !strcmp(marker(&s), "old"),
			 "hidden pending: old table recovered");
		rc = mgr_root_fence(e.d, &e.keys, &e.ctr, &s, e.why,
				    sizeof(e.why));
		TH_CHECK(rc == MGR_SEAL_OK, "hidden pending: fenced");
		set_marker(&s, "Y");
		rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &s, e.why,
				     sizeof(e.why));
		TH_CHECK(rc == MGR_SEAL_OK, "serving commit after the fence");
		size_t glen;
		uint8_t *good = file_get("root", &glen);

		for (int where = 0; where < 2; where++) {
			env_crash(&e);
			file_put("root", good, glen);
			file_del("root.pending");
			file_put(where ? "root.pending" : "root", hidden, hlen);
			rc = recover(&e, &s, &rep);
			TH_CHECK(rc != MGR_SEAL_OK ||
					 strcmp(marker(&s), "X") != 0,
				 "uncommitted record X presented as %s is "
				 "never accepted (%s, got '%s')",
				 where ? "root.pending" : "root", E(rc),
				 marker(&s));
			if (where == 1)
				TH_CHECK(rc == MGR_SEAL_OK &&
						 !strcmp(marker(&s), "Y"),
					 "beside the real root, Y wins");
		}
		free(hidden);
		free(good);
		mgr_root_free(&r);
		mgr_root_free(&s);
		mgr_rootdir_close(e.d);
	}

	/* Why the fence matters: without it, the next commit would write
	 * generation c+1 again, and the hidden X would match the counter. */
	{
		struct mgr_root r, s = {0};
		uint8_t *hidden;
		size_t hlen;
		struct env e;

		env_init(&e, keys, 10);
		mgr_root_init(&r, &MGR, NV_INDEX);
		set_marker(&r, "old");
		mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
		set_marker(&r, "X");
		mgr_root_write_pending(e.d, &e.keys, &r, r.generation + 1,
				       e.why, sizeof(e.why));
		hidden = file_get("root.pending", &hlen);
		file_del("root.pending");
		env_crash(&e);
		recover(&e, &s, NULL);
		/* (unfenced, by hand: write c+1, increment, rename) */
		set_marker(&s, "Y");
		mgr_root_write_pending(e.d, &e.keys, &s, e.f.v + 1, e.why,
				       sizeof(e.why));
		e.f.v++;
		mgr_root_promote(e.d, e.why, sizeof(e.why));
		env_crash(&e);
		file_put("root", hidden, hlen);
		recover(&e, &s, NULL);
		TH_CHECK(!strcmp(marker(&s), "X"),
			 "(control) an unfenced restart lets X replace the "
			 "committed Y");
		free(hidden);
		mgr_root_free(&r);
		mgr_root_free(&s);
		mgr_rootdir_close(e.d);
	}

	/* Fence interrupted after each step. */
	for (int stop = 1; stop <= 3; stop++) {
		struct mgr_root r, s = {0};
		struct mgr_recover_report rep;
		struct env e;
		uint64_t c;
		enum mgr_seal_err rc;

		env_init(&e, keys, 100);
		mgr_root_init(&r, &MGR, NV_INDEX);
		set_marker(&r, "T");
		mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
		env_crash(&e);
		recover(&e, &s, NULL);
		c = e.f.v;
		mgr_root_write_pending(e.d, &e.keys, &s, c + 2, e.why,
				       sizeof(e.why));
		if (stop >= 2)
			e.f.v++;
		if (stop >= 3)
			e.f.v++;
		env_crash(&e);
		rc = recover(&e, &s, &rep);
		TH_CHECK(rc == MGR_SEAL_OK && !strcmp(marker(&s), "T") &&
				 s.generation == (stop == 1 ? c : c + 2) &&
				 e.f.v == (stop == 1 ? c : c + 2),
			 "fence stopped after step %d: recovers T at %llu "
			 "(%s %s)",
			 stop, (unsigned long long)s.generation, E(rc), e.why);
		rc = mgr_root_fence(e.d, &e.keys, &e.ctr, &s, e.why,
				    sizeof(e.why));
		TH_CHECK(rc == MGR_SEAL_OK, "fence again after step %d", stop);
		mgr_root_free(&r);
		mgr_root_free(&s);
		mgr_rootdir_close(e.d);
	}

	/* Create interrupted after its first increment: no record at all;
	 * the operator runs create again. */
	{
		struct mgr_root r, s = {0};
		struct env e;
		enum mgr_seal_err rc;

		env_init(&e, keys, 5);
		e.f.v++; /* create's own increment, then the crash */
		rc = recover(&e, &s, NULL);
		TH_CHECK(rc == MGR_SEAL_E_NO_RECORD &&
				 strstr(e.why, "root: missing"),
			 "no record at all: NO_RECORD (%s)", e.why);
		mgr_root_init(&r, &MGR, NV_INDEX);
		env_crash(&e);
		rc = mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why,
				     sizeof(e.why));
		TH_CHECK(rc == MGR_SEAL_OK && e.f.v == 8, "create again: %s",
			 E(rc));
		mgr_root_free(&r);
		mgr_rootdir_close(e.d);
	}
}

static void test_protocol_failures(const struct mgr_root_keys *keys,
				   const struct mgr_root_keys *other)
{
	struct mgr_root r, s = {0};
	struct mgr_recover_report rep;
	struct env e;
	enum mgr_seal_err rc;

	env_init(&e, keys, 0);
	mgr_root_init(&r, &MGR, NV_INDEX);
	set_marker(&r, "a");
	mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));

	/* The counter fails: this commit's outcome is unknown, and every
	 * later one is refused until a restart recovers. */
	e.f.fail_inc = true;
	rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_E_COUNTER && strstr(e.why, "fake: increment"),
		 "increment fails: COUNTER (%s)", e.why);
	e.f.fail_inc = false;
	rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_E_FAILED, "then FAILED until restart");
	env_crash(&e);
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_OK && rep.rolled_forward &&
			 s.generation == r.generation + 1,
		 "restart: the interrupted commit (written durably) is rolled "
		 "forward: %s",
		 e.why);

	/* The increment happened but its answer was lost. */
	mgr_root_fence(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	set_marker(&s, "b");
	e.f.inc_then_fail = true;
	rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	e.f.inc_then_fail = false;
	TH_CHECK(rc == MGR_SEAL_E_COUNTER, "lost answer: COUNTER");
	env_crash(&e);
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_OK && !strcmp(marker(&s), "b") &&
			 !rep.rolled_forward,
		 "restart: the commit that did count is kept (%s)", e.why);

	/* Someone else increments the counter. */
	mgr_root_fence(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	e.f.extra = 1;
	rc = mgr_root_commit(e.d, &e.keys, &e.ctr, &s, e.why, sizeof(e.why));
	TH_CHECK(rc == MGR_SEAL_E_COUNTER && strstr(e.why, "another user"),
		 "counter moved by another: %s", e.why);
	env_crash(&e);
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_E_NO_RECORD,
		 "and the manager then refuses to serve: %s", e.why);

	/* Reading the counter fails. */
	e.f.fail_read = true;
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_E_COUNTER && strstr(e.why, "fake: read"),
		 "counter unreadable: %s", e.why);
	e.f.fail_read = false;
	mgr_root_free(&r);
	mgr_root_free(&s);
	mgr_rootdir_close(e.d);

	/* The wrong root key (another sealed key, or none of ours). */
	env_init(&e, keys, 0);
	mgr_root_init(&r, &MGR, NV_INDEX);
	mgr_root_create(e.d, &e.keys, &e.ctr, &r, e.why, sizeof(e.why));
	e.keys = *other;
	env_crash(&e);
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_E_NO_RECORD && strstr(e.why, "authentication"),
		 "wrong root key: refused, naming authentication: %s", e.why);
	TH_CHECK(rep.file[0].err == MGR_SEAL_E_AUTH, "report: AUTH");

	/* Bound to another NV index. */
	e.keys = *keys;
	e.ctr.index = NV_INDEX + 1;
	rc = recover(&e, &s, &rep);
	TH_CHECK(rc == MGR_SEAL_E_NO_RECORD && strstr(e.why, "bound to NV"),
		 "another counter's record refused: %s", e.why);
	e.ctr.index = NV_INDEX;

	/* Corruption of the old file beside a good current one is reported,
	 * not fatal. */
	{
		uint8_t junk[100] = {0};

		file_put("root.pending", junk, sizeof(junk));
		rc = recover(&e, &s, &rep);
		TH_CHECK(rc == MGR_SEAL_OK && strstr(e.why, "ignored") &&
				 rep.file[1].err == MGR_SEAL_E_MAGIC,
			 "corrupt root.pending beside the current root: %s",
			 e.why);
	}
	/* Corruption of the only record is fatal, with the reason. */
	{
		size_t len;
		uint8_t *b = file_get("root", &len);

		b[len - 1] ^= 1;
		file_put("root", b, len);
		file_del("root.pending");
		rc = recover(&e, &s, &rep);
		TH_CHECK(rc == MGR_SEAL_E_NO_RECORD &&
				 strstr(e.why, "authentication failed"),
			 "corrupt root: refused, never re-created: %s", e.why);
		free(b);
	}
	mgr_root_free(&r);
	mgr_root_free(&s);
	mgr_rootdir_close(e.d);
}

static void test_rootdir(void)
{
	struct mgr_rootdir *d, *d2;
	uint8_t *data;
	size_t len;
	char why[200];

	fresh_dir();
	chmod(dir, 0770);
	TH_CHECK(mgr_rootdir_open(&d, dir, why, sizeof(why)) == MGR_SEAL_E_IO &&
			 strstr(why, "writable by group"),
		 "group-writable directory refused: %s", why);
	chmod(dir, 0700);
	TH_CHECK(mgr_rootdir_open(&d, dir, why, sizeof(why)) == MGR_SEAL_OK,
		 "open");
	TH_CHECK(mgr_rootdir_open(&d2, dir, why, sizeof(why)) ==
				 MGR_SEAL_E_IO &&
			 strstr(why, "in use"),
		 "second open refused: %s", why);
	TH_CHECK(mgr_rootdir_write(d, "../x", (const uint8_t *)"a", 1, why,
				   sizeof(why)) == MGR_SEAL_E_INVAL,
		 "names are not paths");
	TH_CHECK(mgr_rootdir_read(d, "sealed-key", &data, &len, why,
				  sizeof(why)) == MGR_SEAL_E_NOT_FOUND,
		 "missing file: NOT_FOUND");
	TH_CHECK(mgr_rootdir_write(d, "sealed-key", (const uint8_t *)"abc", 3,
				   why, sizeof(why)) == MGR_SEAL_OK &&
			 mgr_rootdir_read(d, "sealed-key", &data, &len, why,
					  sizeof(why)) == MGR_SEAL_OK &&
			 len == 3 && !memcmp(data, "abc", 3),
		 "write/read");
	free(data);
	{
		char path[128];
		struct stat st;

		snprintf(path, sizeof(path), "%s/sealed-key", dir);
		TH_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
			 "files are 0600");
		snprintf(path, sizeof(path), "%s/.root.tmp", dir);
		close(open(path, O_CREAT | O_WRONLY, 0600));
		mgr_rootdir_close(d);
		mgr_rootdir_open(&d, dir, why, sizeof(why));
		TH_CHECK(access(path, F_OK) != 0,
			 "open removes temporaries a crash left");
		snprintf(path, sizeof(path), "%s/root", dir);
		mkfifo(path, 0600);
		TH_CHECK(mgr_rootdir_read(d, "root", &data, &len, why,
					  sizeof(why)) == MGR_SEAL_E_IO &&
				 strstr(why, "not a regular file"),
			 "a FIFO is refused without hanging: %s", why);
		unlink(path);
	}
	mgr_rootdir_close(d);
	remove_dir();
}

int main(void)
{
	struct mgr_root_keys k1, k2;
	uint8_t rk1[32], rk2[32];

	RAND_bytes(KEY1, 32);
	RAND_bytes(KEY2, 32);
	RAND_bytes(rk1, 32);
	RAND_bytes(rk2, 32);
	TH_CHECK(mgr_root_derive_keys(rk1, &k1) == MGR_SEAL_OK &&
			 mgr_root_derive_keys(rk2, &k2) == MGR_SEAL_OK,
		 "derive keys");
	TH_CHECK(memcmp(k1.enc, k1.counter_auth, 32) != 0 &&
			 memcmp(k1.enc, rk1, 32) != 0 &&
			 memcmp(k1.enc, k2.enc, 32) != 0,
		 "derived keys are distinct");
	{
		struct mgr_root_keys again;

		mgr_root_derive_keys(rk1, &again);
		TH_CHECK(!memcmp(&again, &k1, sizeof(again)),
			 "derivation is deterministic");
	}

	test_names();
	test_blob_roundtrip();
	test_blob_flips();
	test_blob_swaps();
	test_blob_parse_order();
	test_freshness();
	test_root_table();
	test_root_roundtrip(&k1, &k2);
	test_root_body_rules(&k1);
	test_rootdir();
	test_protocol_basic(&k1);
	test_protocol_crashes(&k1);
	test_protocol_failures(&k1, &k2);
	remove_dir();
	mgr_root_keys_wipe(&k1);
	mgr_root_keys_wipe(&k2);
	return th_done();
}
