/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_mgrbundle - libFuzzer harness for the manager's migration objects
 * (vtpm-manager/mgr_migrate.h, docs/formats.md §8): bundles, sealed
 * identities and public keys from operators and peers.
 *
 * Two fixed identities, A (source) and B (destination), are unsealed at
 * start from the sealed-identity files below (made once with
 * mgr_ident_seal under the root key 32 x 0x24), so seeds sealed from A to
 * B open and the fuzzer starts from authentic bundles.
 *
 *   input := mode:u8 rest
 *   mode % 5 == 0: rest is a bundle opened by B (once with no expected
 *                  signer, once expecting A).  Invariants: the two agree
 *                  unless the signer is not A; an opened bundle names B
 *                  as destination and A as signer, its entry's flags
 *                  carry no MIGRATED bit and its label is 1..255 bytes;
 *                  A (not the destination) never opens it.
 *   mode % 5 == 1: rest := flags:u8 gen:u64le pos:u16le label: an entry
 *                  sealed from A to B, opened (must round-trip), then
 *                  the byte at pos % len flipped (must be refused).
 *   mode % 5 == 2: rest is a public key for mgr_ident_check_public; when
 *                  accepted it is exactly 91 bytes and a bundle sealed to
 *                  it from A succeeds.
 *   mode % 5 == 3: rest is a sealed identity, unsealed under the fixed
 *                  root keys; when it opens, its public key is the one
 *                  its header carries (bytes 20..110).
 *   mode % 5 == 4: rest is an export file (mgr_xfile.h); when it decodes,
 *                  it re-encodes to exactly the same bytes (canonical),
 *                  every blob passed its check and its bundle goes to
 *                  mgr_bundle_verify.
 * Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_proto.h" /* MGR_BUNDLE_MAX */
#include "vtpm-manager/mgr_xfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const uint8_t sealed_a[159] = {
	0x48, 0x56, 0x49, 0x44, 0x01, 0x00, 0x00, 0x00, 0x85, 0x2c, 0x55, 0xc5,
	0x42, 0xad, 0x45, 0x6b, 0x62, 0x84, 0xaf, 0x3f, 0x30, 0x59, 0x30, 0x13,
	0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xe5,
	0xdd, 0xa8, 0xb8, 0xaa, 0x46, 0x61, 0xfb, 0x06, 0xda, 0x2f, 0x39, 0x08,
	0x9c, 0x4c, 0x20, 0x23, 0x03, 0xd3, 0x23, 0x8f, 0xb5, 0x40, 0x35, 0xab,
	0x3b, 0x4e, 0xc6, 0x0f, 0xa4, 0xb0, 0xbc, 0xf6, 0xd1, 0xd8, 0x33, 0xf2,
	0x0c, 0xbe, 0x67, 0x27, 0x2b, 0x83, 0x56, 0x35, 0x2a, 0x6b, 0x47, 0xdc,
	0x94, 0x9f, 0xaf, 0x20, 0xd3, 0x6f, 0xb0, 0xe1, 0x6a, 0x4d, 0x5c, 0xef,
	0x0d, 0x0b, 0x8b, 0xc2, 0x69, 0xa8, 0x67, 0xbb, 0xd0, 0xd6, 0x81, 0xfa,
	0xf4, 0x1b, 0xaa, 0x1b, 0x21, 0x5f, 0x32, 0x08, 0xb4, 0xc1, 0x54, 0x4b,
	0x47, 0xc5, 0xb7, 0xbd, 0xe3, 0x15, 0x53, 0x19, 0x21, 0x86, 0x47, 0x11,
	0xef, 0x5b, 0x42, 0xdc, 0x41, 0x82, 0x9b, 0x0d, 0x1b, 0xca, 0xcc, 0x21,
	0x7a, 0x76, 0xbf,
};
static const uint8_t sealed_b[159] = {
	0x48, 0x56, 0x49, 0x44, 0x01, 0x00, 0x00, 0x00, 0xa1, 0x3a, 0x04, 0xe1,
	0x7f, 0x56, 0x12, 0xfb, 0x2f, 0x58, 0xd3, 0x32, 0x30, 0x59, 0x30, 0x13,
	0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xd4,
	0xd2, 0x07, 0x8e, 0xbd, 0x78, 0x4b, 0x76, 0x4b, 0x5e, 0x46, 0x4d, 0x9a,
	0xbf, 0x53, 0x12, 0xf9, 0xff, 0xc0, 0x81, 0x05, 0xf5, 0x22, 0xf7, 0xc3,
	0xc3, 0xa7, 0x08, 0x8e, 0x30, 0xf8, 0xcb, 0x78, 0xa8, 0xb2, 0x59, 0x7f,
	0x5a, 0xb1, 0xa7, 0xe1, 0x38, 0xa9, 0x80, 0x99, 0x63, 0x15, 0x97, 0xd0,
	0xbf, 0x56, 0x1d, 0x49, 0x8f, 0xcf, 0xed, 0x59, 0xbc, 0x9c, 0x6b, 0x20,
	0x51, 0xa0, 0xfc, 0xf9, 0x46, 0xd1, 0x58, 0xee, 0x3e, 0xe5, 0x1a, 0x00,
	0x4b, 0x04, 0x93, 0x26, 0xd6, 0x82, 0x67, 0x3c, 0xf4, 0xa2, 0xb5, 0xc8,
	0x5b, 0x6d, 0x55, 0xa5, 0xbd, 0x4f, 0xd3, 0xb4, 0xf1, 0x06, 0xdf, 0x86,
	0x57, 0x89, 0x50, 0xdc, 0xc6, 0xe5, 0x79, 0xda, 0xff, 0x6c, 0xde, 0x81,
	0xf6, 0xe8, 0x76,
};

static const struct mgr_uuid MGR_A = {{0xa0, 0xa1, 0xa2, 0xa3}};
static struct mgr_root_keys keys;
static struct mgr_ident *A, *B;
static uint8_t spki_a[MGR_IDENT_SPKI_MAX], spki_b[MGR_IDENT_SPKI_MAX];
static uint8_t fpr_a[MGR_FPR_LEN], fpr_b[MGR_FPR_LEN];
static size_t len_a, len_b;

static void init(void)
{
	uint8_t rk[32];

	if (A)
		return;
	memset(rk, 0x24, sizeof(rk));
	CHECK(mgr_root_derive_keys(rk, &keys) == MGR_SEAL_OK);
	CHECK(mgr_ident_unseal(sealed_a, sizeof(sealed_a), &keys, &A, NULL,
			       0) == MGR_SEAL_OK);
	CHECK(mgr_ident_unseal(sealed_b, sizeof(sealed_b), &keys, &B, NULL,
			       0) == MGR_SEAL_OK);
	CHECK(mgr_ident_public(A, spki_a, sizeof(spki_a), &len_a, fpr_a) ==
	      MGR_SEAL_OK);
	CHECK(mgr_ident_public(B, spki_b, sizeof(spki_b), &len_b, fpr_b) ==
	      MGR_SEAL_OK);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void fuzz_open(const uint8_t *d, size_t n)
{
	struct mgr_bundle_info i1, i2;
	enum mgr_seal_err e1, e2, e3;

	e1 = mgr_bundle_open(B, d, n, NULL, 0, &i1, NULL, 0);
	e2 = mgr_bundle_open(B, d, n, spki_a, len_a, &i2, NULL, 0);
	e3 = mgr_bundle_open(A, d, n, NULL, 0, &i2, NULL, 0);
	CHECK(e3 != MGR_SEAL_OK);
	if (e1 != MGR_SEAL_OK) {
		CHECK(e2 != MGR_SEAL_OK);
		return;
	}
	CHECK(!memcmp(i1.dest_fpr, fpr_b, MGR_FPR_LEN));
	CHECK(!(i1.inst.flags & MGR_INST_F_MIGRATED));
	CHECK(i1.inst.label[0] != '\0');
	if (!memcmp(i1.source_fpr, fpr_a, MGR_FPR_LEN))
		CHECK(e2 == MGR_SEAL_OK);
	else
		CHECK(e2 == MGR_SEAL_E_AUTH);
	OPENSSL_cleanse(&i1, sizeof(i1));
	OPENSSL_cleanse(&i2, sizeof(i2));
}

static void fuzz_roundtrip(const uint8_t *d, size_t n)
{
	struct mgr_inst in;
	struct mgr_bundle_info info;
	uint8_t *b = NULL;
	size_t blen = 0, lab, pos;
	enum mgr_seal_err e;

	if (n < 1 + 8 + 2)
		return;
	memset(&in, 0, sizeof(in));
	in.flags = d[0] & MGR_INST_F_ALL;
	in.state[0].generation = le64(d + 1);
	in.state[0].present = in.state[0].generation != 0;
	memset(in.state[0].tag, in.state[0].present ? 0x5a : 0, MGR_TAG_LEN);
	pos = (size_t)d[9] | (size_t)d[10] << 8;
	lab = n - 11 > MGR_LABEL_MAX ? MGR_LABEL_MAX : n - 11;
	memcpy(in.label, d + 11, lab);
	in.label[lab] = '\0';
	memset(in.key, 0x77, sizeof(in.key));
	e = mgr_bundle_seal(A, &MGR_A, spki_b, len_b, &in, &b, &blen, NULL, 0);
	if (e != MGR_SEAL_OK) {
		/* Only an entry a root record could not hold is refused. */
		CHECK(e == MGR_SEAL_E_INVAL && !b);
		return;
	}
	CHECK(blen <= MGR_BUNDLE_MAX);
	CHECK(mgr_bundle_open(B, b, blen, spki_a, len_a, &info, NULL, 0) ==
	      MGR_SEAL_OK);
	CHECK(!strcmp(info.inst.label, in.label));
	CHECK(info.inst.flags == (in.flags & ~MGR_INST_F_MIGRATED));
	CHECK(info.inst.state[0].generation == in.state[0].generation);
	CHECK(!memcmp(info.inst.key, in.key, MGR_KEY_LEN));
	b[pos % blen] ^= 0x20;
	CHECK(mgr_bundle_open(B, b, blen, NULL, 0, &info, NULL, 0) !=
	      MGR_SEAL_OK);
	free(b);
}

static void fuzz_pubkey(const uint8_t *d, size_t n)
{
	uint8_t fpr[MGR_FPR_LEN], *b = NULL;
	size_t blen = 0;
	struct mgr_inst in;

	if (mgr_ident_check_public(d, n, fpr, NULL, 0) != MGR_SEAL_OK)
		return;
	CHECK(n == 91);
	memset(&in, 0, sizeof(in));
	in.label[0] = 'x';
	CHECK(mgr_bundle_seal(A, &MGR_A, d, n, &in, &b, &blen, NULL, 0) ==
		      MGR_SEAL_OK ||
	      !memcmp(fpr, fpr_a, MGR_FPR_LEN));
	free(b);
}

static void fuzz_ident(const uint8_t *d, size_t n)
{
	struct mgr_ident *id = NULL;
	uint8_t spki[MGR_IDENT_SPKI_MAX];
	size_t len = 0;

	if (mgr_ident_unseal(d, n, &keys, &id, NULL, 0) != MGR_SEAL_OK) {
		CHECK(!id);
		return;
	}
	CHECK(mgr_ident_public(id, spki, sizeof(spki), &len, NULL) ==
	      MGR_SEAL_OK);
	CHECK(len == 91 && n >= 20 + len && !memcmp(spki, d + 20, len));
	mgr_ident_free(id);
}

static void fuzz_xfile(const uint8_t *d, size_t n)
{
	struct mgr_xfile x;
	struct mgr_bundle_info info;
	uint8_t *out = NULL;
	size_t len = 0;

	if (mgr_xfile_decode(d, n, &x, NULL, 0) != MGR_SEAL_OK) {
		CHECK(!x.n && !x.bundle);
		return;
	}
	CHECK(x.n <= MGR_XFILE_FILES_MAX && x.bundle_len <= MGR_BUNDLE_MAX);
	for (unsigned i = 0; i < x.n; i++)
		CHECK(mgr_xfile_blob_check(&x.uuid, &x.f[i], NULL, 0) ==
		      MGR_SEAL_OK);
	CHECK(mgr_xfile_encode(&x, &out, &len) == MGR_SEAL_OK);
	CHECK(len == n && !memcmp(out, d, n));
	free(out);
	(void)mgr_bundle_verify(x.bundle, x.bundle_len, NULL, 0, &info, NULL,
				0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_open(data + 1, size - 1);
		break;
	case 1:
		fuzz_roundtrip(data + 1, size - 1);
		break;
	case 2:
		fuzz_pubkey(data + 1, size - 1);
		break;
	case 3:
		fuzz_ident(data + 1, size - 1);
		break;
	default:
		fuzz_xfile(data + 1, size - 1);
		break;
	}
	return 0;
}
