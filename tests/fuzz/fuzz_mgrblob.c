/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_mgrblob - libFuzzer harness for the manager's sealed-storage
 * decoders (vtpm-manager/mgr_seal.h): the instance-state blob and the
 * root record, hostile bytes straight in and authentic envelopes around
 * hostile contents.
 *
 *   input := mode:u8 rest
 *   mode % 4 == 0: rest is a state blob: mgr_blob_parse, then
 *                  mgr_blob_open under a fixed key, expecting the uuid and
 *                  name its own header claims (so the key is what stops
 *                  it).  Invariant: parse and open agree on structure;
 *                  nothing opens unless it is authentic (never, here,
 *                  except the seeds, which are sealed under the key).
 *   mode % 4 == 1: rest := name:u8 gen:u64le pos:u16le payload: sealed,
 *                  opened (must round-trip, header fields as given, the
 *                  committed-reference check OK, an older reference
 *                  UNCOMMITTED, a newer one ROLLBACK), then the byte at
 *                  pos % len flipped (must be refused).
 *   mode % 4 == 2: rest is a root record decoded under fixed keys.  If it
 *                  decodes (seeds), it must re-encode and decode to the
 *                  same table.
 *   mode % 4 == 3: rest is a root-record *body*, wrapped by this harness
 *                  in an authentic record (formats.md §6.2, fixed nonce):
 *                  the table parser's hostile input.  Only OK or BODY may
 *                  come back; on OK, re-encoding gives back exactly rest
 *                  (the encoding is canonical).
 * Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const uint8_t blob_key[32] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
static const uint8_t root_key[32] = {
	0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24,
	0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24,
	0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24, 0x24};
static const struct mgr_uuid fixed_uuid = {{0xf0, 0x0d}};
static struct mgr_root_keys keys;
static bool have_keys;

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void fuzz_blob_raw(const uint8_t *d, size_t n)
{
	struct mgr_blob_hdr h, h2;
	enum mgr_seal_err pr, or ;
	uint8_t *plain = NULL;
	size_t plen = 0;

	pr = mgr_blob_parse(d, n, &h);
	or = mgr_blob_open(blob_key, d, n, pr ? &fixed_uuid : &h.uuid,
			   pr ? MGR_STATE_PERMALL : h.name, &plain, &plen, &h2);
	if (pr) {
		CHECK(or == pr && !plain && !plen);
		return;
	}
	CHECK(h.ct_len + MGR_BLOB_OVERHEAD == n);
	CHECK(or == MGR_SEAL_OK || or == MGR_SEAL_E_AUTH);
	if (or == MGR_SEAL_OK) {
		CHECK(plain && plen == h.ct_len);
		CHECK(!memcmp(&h, &h2, sizeof(h)));
	} else {
		CHECK(!plain && !plen);
	}
	free(plain);
}

static void fuzz_blob_roundtrip(const uint8_t *d, size_t n)
{
	struct mgr_state_ref ref = {.present = true};
	enum mgr_state_name name;
	uint8_t *blob, *plain = NULL, tag[16];
	struct mgr_blob_hdr h;
	size_t blen, plen;
	uint64_t gen;
	uint16_t pos;

	if (n < 11)
		return;
	name = (enum mgr_state_name)(1 + d[0] % 3);
	gen = le64(d + 1);
	pos = (uint16_t)(d[9] | d[10] << 8);
	d += 11;
	n -= 11;
	CHECK(mgr_blob_seal(blob_key, &fixed_uuid, name, gen, n ? d : NULL, n,
			    &blob, &blen, tag) == MGR_SEAL_OK);
	CHECK(blen == n + MGR_BLOB_OVERHEAD);
	CHECK(mgr_blob_open(blob_key, blob, blen, &fixed_uuid, name, &plain,
			    &plen, &h) == MGR_SEAL_OK);
	CHECK(plen == n && (!n || !memcmp(plain, d, n)));
	CHECK(h.generation == gen && h.name == name && !memcmp(h.tag, tag, 16));
	free(plain);
	ref.generation = gen;
	memcpy(ref.tag, tag, 16);
	CHECK(mgr_blob_check_committed(&ref, &h) == MGR_SEAL_OK);
	if (gen) {
		ref.generation = gen - 1;
		CHECK(mgr_blob_check_committed(&ref, &h) ==
		      MGR_SEAL_E_UNCOMMITTED);
	}
	if (gen < UINT64_MAX) {
		ref.generation = gen + 1;
		CHECK(mgr_blob_check_committed(&ref, &h) ==
		      MGR_SEAL_E_ROLLBACK);
	}
	blob[pos % blen] ^= 0x01;
	plain = NULL;
	CHECK(mgr_blob_open(blob_key, blob, blen, &fixed_uuid, name, &plain,
			    &plen, NULL) != MGR_SEAL_OK);
	CHECK(!plain);
	free(blob);
}

static bool same_table(const struct mgr_root *a, const struct mgr_root *b)
{
	if (a->generation != b->generation || a->nv_index != b->nv_index ||
	    memcmp(&a->manager, &b->manager, sizeof(a->manager)) ||
	    a->count != b->count)
		return false;
	for (uint32_t i = 0; i < a->count; i++) {
		const struct mgr_inst *x = &a->inst[i], *y = &b->inst[i];

		if (memcmp(&x->uuid, &y->uuid, 16) ||
		    memcmp(x->key, y->key, 32) ||
		    memcmp(&x->domain, &y->domain, 16) ||
		    strcmp(x->label, y->label) || x->flags != y->flags)
			return false;
		for (unsigned s = 0; s < MGR_STATE_NAMES; s++)
			if (x->state[s].generation != y->state[s].generation ||
			    x->state[s].present != y->state[s].present ||
			    memcmp(x->state[s].tag, y->state[s].tag, 16))
				return false;
	}
	return true;
}

static void fuzz_root_raw(const uint8_t *d, size_t n)
{
	struct mgr_root r, r2;
	uint8_t *enc;
	size_t elen;
	uint64_t g;
	char why[128];
	enum mgr_seal_err rc;

	rc = mgr_root_decode(d, n, &keys, &r, why, sizeof(why));
	CHECK(mgr_root_peek_generation(d, n, &g) == MGR_SEAL_OK ||
	      rc != MGR_SEAL_OK);
	if (rc == MGR_SEAL_OK) {
		CHECK(g == r.generation);
		CHECK(mgr_root_encode(&r, &keys, &enc, &elen) == MGR_SEAL_OK);
		CHECK(elen == n);
		CHECK(mgr_root_decode(enc, elen, &keys, &r2, why,
				      sizeof(why)) == MGR_SEAL_OK);
		CHECK(same_table(&r, &r2));
		mgr_root_free(&r2);
		free(enc);
	} else {
		CHECK(r.count == 0 && r.inst == NULL);
	}
	mgr_root_free(&r);
}

static bool gcm(bool enc, const uint8_t *key, const uint8_t *nonce,
		const uint8_t *aad, size_t aad_len, const uint8_t *in,
		size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	bool ok;
	int m;

	ok = c &&
	     EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) ==
		     1 &&
	     EVP_CipherUpdate(c, NULL, &m, aad, (int)aad_len) == 1 &&
	     (!len || EVP_CipherUpdate(c, out, &m, in, (int)len) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + len, &m) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

/* An authentic record around body (formats.md §6.2). */
static void fuzz_root_body(const uint8_t *body, size_t n)
{
	uint8_t *rec = malloc(MGR_ROOT_HDR_LEN + n + 16), *enc, *plain;
	struct mgr_root r;
	size_t elen;
	char why[128];
	enum mgr_seal_err rc;

	CHECK(rec);
	memset(rec, 0, MGR_ROOT_HDR_LEN);
	memcpy(rec, "HVRR", 4);
	rec[4] = 1;
	rec[8] = 9; /* generation 9 */
	vtpm_put_le32(rec + 16, 0x01800a70u);
	vtpm_put_le32(rec + 20, (uint32_t)n);
	memset(rec + 24, 0x3c, 16); /* manager uuid */
	memset(rec + 40, 0x5e, 12); /* nonce */
	CHECK(gcm(true, keys.enc, rec + 40, rec, MGR_ROOT_HDR_LEN, body, n,
		  rec + MGR_ROOT_HDR_LEN, rec + MGR_ROOT_HDR_LEN + n));
	rc = mgr_root_decode(rec, MGR_ROOT_HDR_LEN + n + 16, &keys, &r, why,
			     sizeof(why));
	CHECK(rc == MGR_SEAL_OK || rc == MGR_SEAL_E_BODY);
	if (rc == MGR_SEAL_OK) {
		CHECK(r.generation == 9 && r.nv_index == 0x01800a70u);
		CHECK(mgr_root_encode(&r, &keys, &enc, &elen) == MGR_SEAL_OK);
		CHECK(elen == MGR_ROOT_HDR_LEN + n + 16);
		plain = malloc(n + 16);
		CHECK(plain);
		CHECK(gcm(false, keys.enc, enc + 40, enc, MGR_ROOT_HDR_LEN,
			  enc + MGR_ROOT_HDR_LEN, n, plain,
			  enc + MGR_ROOT_HDR_LEN + n));
		CHECK(!memcmp(plain, body, n)); /* canonical */
		free(plain);
		free(enc);
	} else {
		CHECK(r.count == 0 && r.inst == NULL && why[0]);
	}
	mgr_root_free(&r);
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!have_keys) {
		CHECK(mgr_root_derive_keys(root_key, &keys) == MGR_SEAL_OK);
		have_keys = true;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_blob_raw(data + 1, size - 1);
		break;
	case 1:
		fuzz_blob_roundtrip(data + 1, size - 1);
		break;
	case 2:
		fuzz_root_raw(data + 1, size - 1);
		break;
	default:
		fuzz_root_body(data + 1, size - 1);
		break;
	}
	return 0;
}
