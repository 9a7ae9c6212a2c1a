/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_migrate - manager identities and migration bundles (mgr_migrate.h,
 * docs/formats.md §8):
 *   - identity: public key and fingerprint; sealed under root keys and
 *     unsealed to the same key pair; the wrong root keys, every byte flip
 *     and every truncation of the sealed file refused;
 *   - public keys from outside: a table of well-formed and malformed
 *     SPKIs (short, long, compressed, another curve, a point off the
 *     curve, RSA, a changed DER header), each with its error;
 *   - bundles: round trip (every field of the entry, MIGRATED cleared,
 *     who signed and for whom); opened by another manager (INSTANCE);
 *     expecting another signer (AUTH); every byte of a bundle flipped,
 *     each offset with the error its field gives; truncation at every
 *     length and a trailing byte; arguments a caller must not pass;
 *   - export files (mgr_xfile.h): round trip; every byte flipped and every
 *     truncation refused; files forged with a recomputed digest breaking
 *     one rule each, each with its error; the encoder refuses what the
 *     decoder would;
 *   - timing of seal and open (printed, not asserted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tests/harness.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_xfile.h"

static const struct mgr_uuid MGR_A = {{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0x4a,
				       0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
				       0xae, 0xaf}};
static struct mgr_ident *A, *B, *C;
static uint8_t spki_a[128], spki_b[128], spki_c[128];
static size_t len_a, len_b, len_c;

/* Offsets of the bundle format (formats.md §8.2), restated on purpose: the
 * doc and the code must agree. */
#define OFF_DESTFPR 24
#define OFF_SRCSPKI 56
#define OFF_CTLEN   224
#define OFF_RSVD2   228
#define HDR_LEN	    232

static const char *E(enum mgr_seal_err e)
{
	return mgr_seal_strerror(e);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sample_inst(struct mgr_inst *in, const char *label)
{
	memset(in, 0, sizeof(*in));
	RAND_bytes(in->uuid.b, MGR_UUID_LEN);
	RAND_bytes(in->key, MGR_KEY_LEN);
	RAND_bytes(in->domain.b, MGR_UUID_LEN);
	snprintf(in->label, sizeof(in->label), "%s", label);
	in->flags = MGR_INST_F_PROVISIONED | MGR_INST_F_MIGRATED;
	in->state[0] = (struct mgr_state_ref){.generation = 7, .present = true};
	RAND_bytes(in->state[0].tag, MGR_TAG_LEN);
	in->state[1] =
		(struct mgr_state_ref){.generation = 3, .present = false};
	in->state[2] =
		(struct mgr_state_ref){.generation = 0, .present = false};
}

/* ------------------------------------------------------------ identity */

static void test_identity(void)
{
	struct mgr_root_keys k1, k2;
	uint8_t rk[32], *sealed = NULL, fpr[32], fpr2[32], spki[128], md[32];
	size_t slen = 0, n = 0;
	struct mgr_ident *back = NULL;
	unsigned int mdlen = 0;
	char why[256];
	unsigned bad = 0;

	TH_CHECK(len_a == 91, "P-256 SPKI is 91 bytes (got %zu)", len_a);
	mgr_ident_public(A, NULL, 0, NULL, fpr);
	EVP_Digest(spki_a, len_a, md, &mdlen, EVP_sha256(), NULL);
	TH_CHECK(!memcmp(md, fpr, 32), "fingerprint is SHA-256 of the SPKI");
	TH_CHECK(mgr_ident_check_public(spki_a, len_a, fpr2, why,
					sizeof(why)) == MGR_SEAL_OK &&
			 !memcmp(fpr, fpr2, 32),
		 "own public key passes the check: %s", why);
	TH_CHECK(mgr_ident_public(A, spki, 90, &n, NULL) == MGR_SEAL_E_INVAL,
		 "public: a buffer too small is refused");

	RAND_bytes(rk, 32);
	mgr_root_derive_keys(rk, &k1);
	RAND_bytes(rk, 32);
	mgr_root_derive_keys(rk, &k2);
	TH_CHECK(mgr_ident_seal(A, &k1, &sealed, &slen, why, sizeof(why)) ==
			 MGR_SEAL_OK,
		 "ident seal: %s", why);
	TH_CHECK(slen == 159, "sealed identity is 159 bytes (got %zu)", slen);
	TH_CHECK(mgr_ident_unseal(sealed, slen, &k1, &back, why, sizeof(why)) ==
			 MGR_SEAL_OK,
		 "ident unseal: %s", why);
	if (back) {
		mgr_ident_public(back, spki, sizeof(spki), &n, fpr2);
		TH_CHECK(n == len_a && !memcmp(spki, spki_a, n) &&
				 !memcmp(fpr, fpr2, 32),
			 "unsealed identity has the same public key");
		mgr_ident_free(back);
		back = NULL;
	}
	{
		enum mgr_seal_err e = mgr_ident_unseal(sealed, slen, &k2, &back,
						       why, sizeof(why));

		TH_CHECK(
			e == MGR_SEAL_E_AUTH && !back,
			"ident unseal with another root key: AUTH (got %s: %s)",
			E(e), why);
	}
	for (size_t i = 0; i < slen; i++) {
		enum mgr_seal_err e;

		sealed[i] ^= 0x01;
		e = mgr_ident_unseal(sealed, slen, &k1, &back, NULL, 0);
		if (e == MGR_SEAL_OK || back) {
			bad++;
			TH_CHECK(0, "ident: flip at %zu accepted", i);
			mgr_ident_free(back);
			back = NULL;
		}
		sealed[i] ^= 0x01;
	}
	TH_CHECK(bad == 0, "ident: every byte flip refused (%zu offsets)",
		 slen);
	bad = 0;
	for (size_t l = 0; l < slen; l++) {
		enum mgr_seal_err e =
			mgr_ident_unseal(sealed, l, &k1, &back, NULL, 0);

		if (e != MGR_SEAL_E_TRUNCATED || back) {
			bad++;
			TH_CHECK(0, "ident: truncated to %zu: %s", l, E(e));
		}
	}
	TH_CHECK(bad == 0, "ident: every truncation TRUNCATED");
	{
		uint8_t *longer = malloc(slen + 1);

		memcpy(longer, sealed, slen);
		longer[slen] = 0;
		TH_CHECK(mgr_ident_unseal(longer, slen + 1, &k1, &back, NULL,
					  0) == MGR_SEAL_E_TRAILING,
			 "ident: trailing byte TRAILING");
		free(longer);
	}
	free(sealed);
	mgr_root_keys_wipe(&k1);
	mgr_root_keys_wipe(&k2);
}

/* ---------------------------------------------------------- public keys */

static size_t der_of(EVP_PKEY *k, uint8_t *out)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	if (n > 0)
		memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	return n > 0 ? (size_t)n : 0;
}

static void test_public_keys(void)
{
	uint8_t buf[1024], fpr[32];
	char why[256];
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct {
		const char *name;
		enum {
			K_OK,
			K_SHORT,
			K_LONG,
			K_P384,
			K_RSA,
			K_OFFCURVE,
			K_COMPRESSED,
			K_DERHDR,
			K_HYBRID,
			K_EMPTY
		} kind;
		enum mgr_seal_err want;
	} cases[] = {
		{"valid", K_OK, MGR_SEAL_OK},
		{"one byte short", K_SHORT, MGR_SEAL_E_TRUNCATED},
		{"one byte more", K_LONG, MGR_SEAL_E_TRAILING},
		{"P-384 key", K_P384, MGR_SEAL_E_TRAILING},
		{"RSA key", K_RSA, MGR_SEAL_E_TRAILING},
		{"point off the curve", K_OFFCURVE, MGR_SEAL_E_MAGIC},
		{"compressed point (59 bytes)", K_COMPRESSED,
		 MGR_SEAL_E_TRUNCATED},
		{"DER header changed", K_DERHDR, MGR_SEAL_E_MAGIC},
		{"hybrid point form 06", K_HYBRID, MGR_SEAL_E_MAGIC},
		{"empty", K_EMPTY, MGR_SEAL_E_TRUNCATED},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		size_t n = len_b;
		enum mgr_seal_err e;

		memcpy(buf, spki_b, len_b);
		switch (cases[i].kind) {
		case K_OK:
			break;
		case K_SHORT:
			n--;
			break;
		case K_LONG:
			buf[n++] = 0;
			break;
		case K_P384:
			n = der_of(p384, buf);
			break;
		case K_RSA:
			n = der_of(rsa, buf);
			break;
		case K_OFFCURVE:
			buf[n - 1] ^= 0x01; /* y changed: not on the curve */
			break;
		case K_COMPRESSED:
			buf[26] = (uint8_t)(0x02 | (buf[n - 1] & 1));
			n = 59;
			break;
		case K_DERHDR:
			buf[1] = 0x81; /* a long-form length: not canonical */
			break;
		case K_HYBRID:
			buf[26] = 0x06;
			break;
		case K_EMPTY:
			n = 0;
			break;
		}
		e = mgr_ident_check_public(buf, n, fpr, why, sizeof(why));
		TH_CHECK(e == cases[i].want,
			 "public key %s: want %s, got %s (%s)", cases[i].name,
			 E(cases[i].want), E(e), why);
		TH_CHECK(e == MGR_SEAL_OK || why[0],
			 "public key %s: the refusal says why", cases[i].name);
	}
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
}

/* -------------------------------------------------------------- bundles */

static void test_roundtrip(void)
{
	static const char *const labels[] = {"a", "dom_HVM",
					     "a label with spaces and ~!@#"};
	char why[256];

	for (size_t i = 0; i < TH_ARRAY_LEN(labels) + 1; i++) {
		struct mgr_inst in;
		struct mgr_bundle_info info;
		uint8_t *b = NULL, fa[32], fb[32];
		size_t n = 0;
		enum mgr_seal_err e;
		char lab[256];

		if (i < TH_ARRAY_LEN(labels)) {
			snprintf(lab, sizeof(lab), "%s", labels[i]);
		} else { /* the longest label */
			memset(lab, 'L', 255);
			lab[255] = '\0';
		}
		sample_inst(&in, lab);
		e = mgr_bundle_seal(A, &MGR_A, spki_b, len_b, &in, &b, &n, why,
				    sizeof(why));
		if (!TH_CHECK(e == MGR_SEAL_OK && b,
			      "seal (label %zu bytes): %s", strlen(lab), why))
			continue;
		/* Version 2: the entry, then a count of 0 EK digests. */
		TH_CHECK(n == 232 + 168 + strlen(lab) + 4 + 16 + 64 &&
				 n <= 8192,
			 "bundle length %zu", n);
		for (int expect = 0; expect < 2; expect++) {
			e = mgr_bundle_open(B, b, n, expect ? spki_a : NULL,
					    expect ? len_a : 0, &info, why,
					    sizeof(why));
			mgr_ident_public(A, NULL, 0, NULL, fa);
			mgr_ident_public(B, NULL, 0, NULL, fb);
			TH_CHECK(e == MGR_SEAL_OK, "open (expect=%d): %s",
				 expect, why);
			TH_CHECK(!memcmp(info.inst.uuid.b, in.uuid.b, 16) &&
					 !memcmp(info.inst.key, in.key, 32) &&
					 !memcmp(info.inst.domain.b,
						 in.domain.b, 16) &&
					 !strcmp(info.inst.label, in.label),
				 "entry identity, key, binding survive");
			TH_CHECK(info.inst.flags == MGR_INST_F_PROVISIONED,
				 "MIGRATED cleared, other flags kept (0x%x)",
				 info.inst.flags);
			TH_CHECK(!memcmp(info.inst.state, in.state,
					 sizeof(in.state)),
				 "state references survive");
			TH_CHECK(!memcmp(info.source_manager.b, MGR_A.b, 16) &&
					 !memcmp(info.source_fpr, fa, 32) &&
					 !memcmp(info.dest_fpr, fb, 32),
				 "source manager, signer and destination");
			TH_CHECK(info.version == MGR_BUNDLE_VERSION &&
					 info.ek_count == 0,
				 "version %u, %u EK digests", info.version,
				 info.ek_count);
		}
		OPENSSL_cleanse(&info, sizeof(info));
		free(b);
	}
}

/* The error a flip at offset i of a bundle with ct_len must give. */
static bool flip_ok(size_t i, enum mgr_seal_err e)
{
	if (i < 4)
		return e == MGR_SEAL_E_MAGIC;
	if (i < 6)
		return e == MGR_SEAL_E_VERSION;
	if (i < 8)
		return e == MGR_SEAL_E_RESERVED;
	if (i >= OFF_DESTFPR && i < OFF_SRCSPKI)
		return e == MGR_SEAL_E_INSTANCE; /* made for someone else */
	if (i >= OFF_CTLEN && i < OFF_RSVD2)
		return e == MGR_SEAL_E_TOO_BIG || e == MGR_SEAL_E_TRUNCATED ||
		       e == MGR_SEAL_E_TRAILING;
	if (i >= OFF_RSVD2 && i < HDR_LEN)
		return e == MGR_SEAL_E_RESERVED;
	return e == MGR_SEAL_E_AUTH; /* signed or encrypted bytes */
}

static void test_tamper(void)
{
	struct mgr_inst in;
	struct mgr_bundle_info info;
	uint8_t *b = NULL, *longer;
	size_t n = 0;
	unsigned bad = 0;
	char why[256];
	enum mgr_seal_err e;

	sample_inst(&in, "dom_HVM");
	if (!TH_CHECK(mgr_bundle_seal(A, &MGR_A, spki_b, len_b, &in, &b, &n,
				      why, sizeof(why)) == MGR_SEAL_OK,
		      "seal: %s", why))
		return;

	{
		uint8_t fa[32], fb[32];

		mgr_ident_public(A, NULL, 0, NULL, fa);
		mgr_ident_public(B, NULL, 0, NULL, fb);
		e = mgr_bundle_verify(b, n, spki_a, len_a, &info, why,
				      sizeof(why));
		TH_CHECK(e == MGR_SEAL_OK && !memcmp(info.source_fpr, fa, 32) &&
				 !memcmp(info.dest_fpr, fb, 32) &&
				 !memcmp(info.source_manager.b, MGR_A.b, 16) &&
				 info.inst.label[0] == 0,
			 "verify without a key: signer, destination (%s)", why);
		e = mgr_bundle_verify(b, n, spki_c, len_c, &info, why,
				      sizeof(why));
		TH_CHECK(e == MGR_SEAL_E_AUTH,
			 "verify expecting another signer: AUTH (got %s)",
			 E(e));
	}
	e = mgr_bundle_open(C, b, n, NULL, 0, &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_INSTANCE,
		 "opened by another manager: INSTANCE (got %s: %s)", E(e), why);
	e = mgr_bundle_open(A, b, n, NULL, 0, &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_INSTANCE, "opened by its source: INSTANCE");
	e = mgr_bundle_open(B, b, n, spki_c, len_c, &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_AUTH && strstr(why, "signed by"),
		 "expecting another signer: AUTH (got %s: %s)", E(e), why);
	TH_CHECK(info.inst.flags == 0 && info.inst.key[0] == 0 &&
			 info.inst.label[0] == 0,
		 "nothing returned on failure");
	e = mgr_bundle_open(B, b, n, spki_b, len_b - 1, &info, why,
			    sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_AUTH, "expecting a malformed signer: AUTH");

	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			b[i] ^= (uint8_t)(1u << bit);
			e = mgr_bundle_open(B, b, n, NULL, 0, &info, why,
					    sizeof(why));
			if (!flip_ok(i, e)) {
				bad++;
				TH_CHECK(0, "flip bit %d at %zu: got %s (%s)",
					 bit, i, E(e), why);
			}
			/* Without a key, only the encrypted-and-signed
			 * bytes differ: all of them are signed. */
			e = mgr_bundle_verify(b, n, NULL, 0, &info, NULL, 0);
			if (e == MGR_SEAL_OK) {
				bad++;
				TH_CHECK(0,
					 "verify: flip bit %d at %zu accepted",
					 bit, i);
			}
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	TH_CHECK(bad == 0,
		 "every byte flipped (%zu offsets, 2 bits each): the "
		 "field's error",
		 n);

	bad = 0;
	for (size_t l = 0; l < n; l++) {
		e = mgr_bundle_open(B, b, l, NULL, 0, &info, NULL, 0);
		if (e != MGR_SEAL_E_TRUNCATED) {
			bad++;
			TH_CHECK(0, "truncated to %zu: %s", l, E(e));
		}
	}
	TH_CHECK(bad == 0, "truncation at every offset: TRUNCATED");
	longer = malloc(n + 1);
	memcpy(longer, b, n);
	longer[n] = 0;
	e = mgr_bundle_open(B, longer, n + 1, NULL, 0, &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_TRAILING, "trailing byte: TRAILING (got %s)",
		 E(e));
	free(longer);

	/* A bundle's signer swapped for another valid key: the signature
	 * no longer verifies. */
	memcpy(b + OFF_SRCSPKI, spki_c, len_c);
	e = mgr_bundle_open(B, b, n, NULL, 0, &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_AUTH, "signer replaced: AUTH (got %s)", E(e));
	e = mgr_bundle_open(B, b, n, spki_c, len_c, &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_AUTH,
		 "signer replaced and expected: AUTH (got %s)", E(e));
	free(b);
}

static void test_seal_args(void)
{
	struct mgr_inst in;
	uint8_t *b = NULL, bad_spki[128];
	size_t n = 0;
	char why[256];
	struct {
		const char *name;
		int what;
		enum mgr_seal_err want;
	} cases[] = {
		{"empty label", 0, MGR_SEAL_E_INVAL},
		{"label with ':'", 1, MGR_SEAL_E_INVAL},
		{"unknown flag", 2, MGR_SEAL_E_INVAL},
		{"present state of generation 0", 3, MGR_SEAL_E_INVAL},
		{"destination is the source", 4, MGR_SEAL_E_INVAL},
		{"destination key off the curve", 5, MGR_SEAL_E_MAGIC},
		{"destination key truncated", 6, MGR_SEAL_E_TRUNCATED},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		const uint8_t *dest = spki_b;
		size_t dl = len_b;
		enum mgr_seal_err e;

		sample_inst(&in, "ok");
		memcpy(bad_spki, spki_b, len_b);
		switch (cases[i].what) {
		case 0:
			in.label[0] = '\0';
			break;
		case 1:
			snprintf(in.label, sizeof(in.label), "a:b");
			break;
		case 2:
			in.flags |= 0x100;
			break;
		case 3:
			in.state[0].generation = 0;
			break;
		case 4:
			dest = spki_a;
			dl = len_a;
			break;
		case 5:
			bad_spki[len_b - 1] ^= 1;
			dest = bad_spki;
			break;
		case 6:
			dl = 90;
			break;
		}
		e = mgr_bundle_seal(A, &MGR_A, dest, dl, &in, &b, &n, why,
				    sizeof(why));
		TH_CHECK(e == cases[i].want && !b,
			 "seal with %s: want %s, got %s (%s)", cases[i].name,
			 E(cases[i].want), E(e), why);
		free(b);
		b = NULL;
	}
}

/* ------------------------------------------- EK digests (version 2) */

static void test_eks(void)
{
	static const uint32_t counts[] = {0, 1, 2, MGR_BUNDLE_EK_MAX};
	uint8_t ek[MGR_BUNDLE_EK_MAX + 1][32];
	struct mgr_inst in;
	struct mgr_bundle_info info;
	char why[256], lab[256];
	enum mgr_seal_err e;
	uint8_t *b = NULL;
	size_t n = 0;

	RAND_bytes(&ek[0][0], sizeof(ek));
	memset(lab, 'L', 255);
	lab[255] = '\0';
	sample_inst(&in, lab); /* the largest entry */
	for (size_t i = 0; i < TH_ARRAY_LEN(counts); i++) {
		uint32_t k = counts[i];

		e = mgr_bundle_seal_eks(A, &MGR_A, spki_b, len_b, &in,
					(const uint8_t(*)[32])ek, k, &b, &n,
					why, sizeof(why));
		if (!TH_CHECK(e == MGR_SEAL_OK, "seal with %u EKs: %s", k, why))
			continue;
		TH_CHECK(n == 232 + 168 + 255 + 4 + 32 * k + 16 + 64 &&
				 n <= MGR_BUNDLE_MAX,
			 "%u EKs: bundle length %zu", k, n);
		e = mgr_bundle_open(B, b, n, spki_a, len_a, &info, why,
				    sizeof(why));
		TH_CHECK(e == MGR_SEAL_OK && info.version == 2 &&
				 info.ek_count == k &&
				 !memcmp(info.ek_hash, ek, 32 * (size_t)k) &&
				 !strcmp(info.inst.label, lab) &&
				 info.inst.state[0].generation == 7,
			 "%u EKs: open gives the entry and the digests (%s)", k,
			 why);
		OPENSSL_cleanse(&info, sizeof(info));
		e = mgr_bundle_verify(b, n, spki_a, len_a, &info, why,
				      sizeof(why));
		TH_CHECK(e == MGR_SEAL_OK && info.version == 2 &&
				 info.ek_count == 0,
			 "%u EKs: verify (no key) sees the version, no "
			 "digests",
			 k);
		if (k == 2) { /* the digests are encrypted and signed too */
			unsigned bad = 0;

			for (size_t j = HDR_LEN; j < n; j++) {
				b[j] ^= 0x20;
				if (mgr_bundle_open(B, b, n, NULL, 0, &info,
						    NULL, 0) != MGR_SEAL_E_AUTH)
					bad++;
				b[j] ^= 0x20;
			}
			TH_CHECK(bad == 0,
				 "2 EKs: every byte after the header flipped: "
				 "AUTH (%u not)",
				 bad);
		}
		free(b);
		b = NULL;
	}
	/* What seal refuses. */
	e = mgr_bundle_seal_eks(A, &MGR_A, spki_b, len_b, &in,
				(const uint8_t(*)[32])ek, MGR_BUNDLE_EK_MAX + 1,
				&b, &n, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_INVAL && !b, "%u EKs: INVAL",
		 MGR_BUNDLE_EK_MAX + 1);
	e = mgr_bundle_seal_eks(A, &MGR_A, spki_b, len_b, &in, NULL, 1, &b, &n,
				why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_INVAL && !b, "1 EK and no digests: INVAL");
	memcpy(ek[2], ek[0], 32);
	e = mgr_bundle_seal_eks(A, &MGR_A, spki_b, len_b, &in,
				(const uint8_t(*)[32])ek, 3, &b, &n, why,
				sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_INVAL && !b && strstr(why, "repeats"),
		 "a repeated digest: INVAL (%s)", why);
}

/* A version-1 bundle (no EK digests) made by the code of commit 0c16e25,
 * for identity B below (sealed under the root key 0x42 x 32), signed by
 * A (v1_spki_a): the instance 11..11, key 22..22, domain 33..33, label
 * "dom_v1", PROVISIONED, permall generation 7 tag 44..44, volatilestate
 * generation 3 (removed).  Made by a throwaway program against that
 * commit's mgr_migrate.c; kept here so the reader of version 1 stays
 * tested. */
static const uint8_t v1_spki_a[91] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00, 0x04, 0x12, 0x7f, 0xee, 0x7b, 0xd5, 0xcd, 0xdd, 0x70, 0xa5,
	0xdc, 0x86, 0x25, 0xcb, 0xfe, 0x8d, 0xb4, 0xf1, 0x8c, 0xde, 0x39, 0x72,
	0x86, 0xb8, 0xb9, 0x17, 0x18, 0xb7, 0xa7, 0xa1, 0x38, 0xc4, 0xa9, 0x8d,
	0x0b, 0x80, 0x45, 0x5c, 0x44, 0xc3, 0x5b, 0xcb, 0xb7, 0xef, 0x9d, 0xf3,
	0xc2, 0x0f, 0x4d, 0x06, 0xd8, 0xf4, 0xa2, 0x0c, 0xdb, 0xcd, 0x4b, 0x88,
	0x6e, 0x1b, 0x8e, 0xea, 0x89, 0x58, 0x93,
};
static const uint8_t v1_sealed_b[159] = {
	0x48, 0x56, 0x49, 0x44, 0x01, 0x00, 0x00, 0x00, 0x3f, 0x91, 0x3d, 0x58,
	0xc9, 0xa1, 0xd2, 0x1b, 0x3e, 0xb7, 0x7d, 0xb4, 0x30, 0x59, 0x30, 0x13,
	0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xb1,
	0x7c, 0x47, 0x1d, 0x78, 0x52, 0x36, 0xc5, 0x7e, 0xa6, 0xcd, 0x4a, 0xfa,
	0x83, 0xe6, 0x16, 0xa1, 0x4f, 0xde, 0xe0, 0xb1, 0x7c, 0xa1, 0x1e, 0x1a,
	0x31, 0x28, 0x32, 0x91, 0x03, 0x5d, 0xf6, 0x0b, 0xf7, 0x35, 0x20, 0xf2,
	0x48, 0x44, 0x17, 0xd9, 0x2f, 0x8f, 0x5e, 0x15, 0x7c, 0x39, 0x8c, 0x5f,
	0xd4, 0x80, 0x42, 0x67, 0x25, 0x20, 0xa7, 0x00, 0x0d, 0x96, 0x8a, 0x51,
	0xad, 0x0e, 0x1f, 0x9f, 0x0c, 0xa8, 0x9d, 0x31, 0x67, 0xf8, 0x23, 0x88,
	0xea, 0xef, 0x7b, 0x13, 0xe0, 0xcc, 0x2f, 0xb2, 0x6b, 0xd9, 0xf2, 0xe8,
	0x67, 0x76, 0x48, 0xf2, 0xd8, 0xa4, 0xcd, 0xaa, 0x8b, 0xb1, 0x53, 0xfe,
	0xd1, 0xe0, 0xfd, 0x44, 0xbc, 0x03, 0x44, 0xbc, 0x1e, 0x00, 0xb0, 0x48,
	0x42, 0x9f, 0xc5,
};
static const uint8_t v1_bundle[486] = {
	0x48, 0x56, 0x4d, 0x42, 0x01, 0x00, 0x00, 0x00, 0xa5, 0xa5, 0xa5, 0xa5,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	0xcc, 0x54, 0xad, 0xa4, 0xa9, 0x46, 0x58, 0xad, 0x8d, 0x0b, 0x0d, 0x2d,
	0xe1, 0xc7, 0x4c, 0x19, 0x40, 0xf5, 0xa4, 0xed, 0xe9, 0xc3, 0x78, 0x64,
	0x06, 0xe2, 0x80, 0xac, 0xfb, 0x8b, 0x52, 0x29, 0x30, 0x59, 0x30, 0x13,
	0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x12,
	0x7f, 0xee, 0x7b, 0xd5, 0xcd, 0xdd, 0x70, 0xa5, 0xdc, 0x86, 0x25, 0xcb,
	0xfe, 0x8d, 0xb4, 0xf1, 0x8c, 0xde, 0x39, 0x72, 0x86, 0xb8, 0xb9, 0x17,
	0x18, 0xb7, 0xa7, 0xa1, 0x38, 0xc4, 0xa9, 0x8d, 0x0b, 0x80, 0x45, 0x5c,
	0x44, 0xc3, 0x5b, 0xcb, 0xb7, 0xef, 0x9d, 0xf3, 0xc2, 0x0f, 0x4d, 0x06,
	0xd8, 0xf4, 0xa2, 0x0c, 0xdb, 0xcd, 0x4b, 0x88, 0x6e, 0x1b, 0x8e, 0xea,
	0x89, 0x58, 0x93, 0x04, 0x30, 0x36, 0xb7, 0x15, 0xf1, 0xf4, 0xc2, 0x0e,
	0x03, 0x09, 0x52, 0xe1, 0xc5, 0xaa, 0x7a, 0x61, 0x8b, 0x17, 0xd4, 0x73,
	0x85, 0x4a, 0x9c, 0x34, 0xaa, 0x2e, 0xd6, 0x50, 0x31, 0xa4, 0x41, 0x1d,
	0x98, 0xb5, 0x81, 0x40, 0xd6, 0xe3, 0xd8, 0xc4, 0x26, 0x61, 0xed, 0xd7,
	0x86, 0xb6, 0x53, 0xe5, 0x20, 0x8b, 0x55, 0x0a, 0x8a, 0x68, 0x8c, 0xa2,
	0x8b, 0x8d, 0xbc, 0x2f, 0xf3, 0xbc, 0x48, 0xce, 0xee, 0x2d, 0x3b, 0x0b,
	0xad, 0x5d, 0x0f, 0xdf, 0x2e, 0x60, 0x54, 0xca, 0xae, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x9f, 0xa1, 0x60, 0x55, 0x4d, 0xd2, 0x8f, 0x0b,
	0xe3, 0x6a, 0xdd, 0xfa, 0x45, 0x01, 0x21, 0x0f, 0x20, 0x2b, 0x82, 0x36,
	0xd4, 0xd9, 0x60, 0x0a, 0x2e, 0xf4, 0xd4, 0xbd, 0xb1, 0xf9, 0x10, 0x77,
	0x10, 0x59, 0xe1, 0x29, 0x0f, 0xb1, 0xf3, 0x8c, 0x0b, 0x53, 0x10, 0x0d,
	0xbf, 0xaf, 0x4c, 0x82, 0x6c, 0xc3, 0xe2, 0x6c, 0x7e, 0xef, 0xf3, 0x44,
	0xa6, 0x62, 0x0a, 0x20, 0xeb, 0xdf, 0x33, 0x56, 0xea, 0xd5, 0x82, 0x5a,
	0x8e, 0xb2, 0xf3, 0xe8, 0xdb, 0x8a, 0xc3, 0xf9, 0xfc, 0xb8, 0xbb, 0x81,
	0x7a, 0x8a, 0xe3, 0x99, 0x79, 0x17, 0xc8, 0x5f, 0x5a, 0x9f, 0x91, 0x4e,
	0xda, 0x0f, 0x1b, 0x35, 0x47, 0xe5, 0xff, 0x8a, 0x7d, 0x63, 0xd4, 0x6c,
	0xc2, 0x81, 0x81, 0xb4, 0xb8, 0x40, 0xd1, 0x8d, 0xc8, 0xe0, 0x12, 0x45,
	0x95, 0x4e, 0x33, 0x68, 0x9a, 0x4f, 0x5f, 0x3c, 0x10, 0x1a, 0x44, 0x4b,
	0xff, 0x28, 0xcc, 0xc0, 0xb4, 0x7a, 0xac, 0x10, 0xb0, 0xa0, 0x58, 0x75,
	0xed, 0x60, 0x36, 0xc6, 0xae, 0xd4, 0xcf, 0x7f, 0x5e, 0x1f, 0xf0, 0xeb,
	0x0f, 0xd6, 0xbc, 0xfc, 0xb3, 0xe6, 0x39, 0x34, 0xff, 0x0a, 0x5e, 0x76,
	0x3f, 0x33, 0xd0, 0x8b, 0x18, 0x6f, 0x25, 0xcd, 0xf2, 0xe7, 0xdf, 0x9d,
	0xac, 0xd5, 0x4a, 0x2f, 0xd3, 0x60, 0xf6, 0x1c, 0xb8, 0x51, 0xd5, 0xc1,
	0x28, 0x65, 0x81, 0xe3, 0x66, 0xbb, 0x84, 0x27, 0xb8, 0xe8, 0xad, 0x88,
	0x68, 0xcd, 0xd1, 0xcf, 0x4f, 0x2a, 0xc2, 0x67, 0xe7, 0x08, 0x2a, 0x29,
	0x71, 0x3b, 0x26, 0x61, 0x82, 0x17, 0x98, 0x43, 0xf0, 0x11, 0xa6, 0xc0,
	0x55, 0xa7, 0x3f, 0xeb, 0x64, 0x01, 0xdc, 0x59, 0x72, 0x83, 0x7a, 0x48,
	0x38, 0xd2, 0x8c, 0x02, 0xbb, 0x3b, 0x1b, 0x0a, 0xd3, 0x88, 0x65, 0xb1,
	0x4d, 0x74, 0xd3, 0xf4, 0xa7, 0xee,
};

static void test_version1(void)
{
	struct mgr_ident *b1 = NULL;
	struct mgr_root_keys keys;
	struct mgr_bundle_info info;
	uint8_t rk[32], copy[sizeof(v1_bundle)], tag[16];
	char why[256];
	enum mgr_seal_err e;

	memset(rk, 0x42, sizeof(rk));
	mgr_root_derive_keys(rk, &keys);
	e = mgr_ident_unseal(v1_sealed_b, sizeof(v1_sealed_b), &keys, &b1, why,
			     sizeof(why));
	mgr_root_keys_wipe(&keys);
	if (!TH_CHECK(e == MGR_SEAL_OK, "v1 fixture: identity: %s", why))
		return;
	memset(tag, 0x44, sizeof(tag));
	e = mgr_bundle_open(b1, v1_bundle, sizeof(v1_bundle), v1_spki_a,
			    sizeof(v1_spki_a), &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_OK && info.version == 1 && info.ek_count == 0 &&
			 info.inst.uuid.b[0] == 0x11 &&
			 info.inst.key[31] == 0x22 &&
			 info.inst.domain.b[15] == 0x33 &&
			 !strcmp(info.inst.label, "dom_v1") &&
			 info.inst.flags == MGR_INST_F_PROVISIONED &&
			 info.inst.state[0].generation == 7 &&
			 info.inst.state[0].present &&
			 !memcmp(info.inst.state[0].tag, tag, 16) &&
			 info.inst.state[1].generation == 3 &&
			 !info.inst.state[1].present,
		 "a version-1 bundle opens: version 1, no EK digests, the "
		 "entry (%s)",
		 why);
	OPENSSL_cleanse(&info, sizeof(info));
	e = mgr_bundle_verify(v1_bundle, sizeof(v1_bundle), v1_spki_a,
			      sizeof(v1_spki_a), &info, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_OK && info.version == 1,
		 "a version-1 bundle verifies (%s)", why);
	/* The version is signed: a v1 bundle relabelled v2 does not pass
	 * for one; versions we do not read are named. */
	memcpy(copy, v1_bundle, sizeof(copy));
	copy[4] = 2;
	e = mgr_bundle_open(b1, copy, sizeof(copy), NULL, 0, &info, why,
			    sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_AUTH, "v1 relabelled v2: AUTH (got %s: %s)",
		 E(e), why);
	copy[4] = 3;
	e = mgr_bundle_open(b1, copy, sizeof(copy), NULL, 0, &info, why,
			    sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_VERSION && strstr(why, "version 3") &&
			 strstr(why, "1..2"),
		 "version 3: VERSION, naming what we read (%s)", why);
	copy[4] = 0;
	e = mgr_bundle_open(b1, copy, sizeof(copy), NULL, 0, &info, why,
			    sizeof(why));
	TH_CHECK(e == MGR_SEAL_E_VERSION, "version 0: VERSION (%s)", why);
	mgr_ident_free(b1);
}

/* ---------------------------------------------------------- export file */

static void refix(uint8_t *b, size_t n)
{
	unsigned int l = 0;

	EVP_Digest(b, n - 32, b + n - 32, &l, EVP_sha256(), NULL);
}

static void test_xfile(void)
{
	struct mgr_inst in;
	struct mgr_xfile x, back;
	uint8_t key[32], *bundle = NULL, *blob[3] = {NULL}, *file = NULL;
	size_t blen = 0, bl[3] = {0}, flen = 0;
	char why[256];
	enum mgr_seal_err e;
	unsigned bad = 0;
	static const struct {
		enum mgr_state_name name;
		bool pending;
		size_t size;
	} files[] = {
		{MGR_STATE_PERMALL, false, 300},
		{MGR_STATE_PERMALL, true, 310},
		{MGR_STATE_VOLATILE, false, 0},
	};

	sample_inst(&in, "dom_HVM");
	RAND_bytes(key, sizeof(key));
	if (!TH_CHECK(mgr_bundle_seal(A, &MGR_A, spki_b, len_b, &in, &bundle,
				      &blen, why, sizeof(why)) == MGR_SEAL_OK,
		      "xfile: bundle: %s", why))
		return;
	memset(&x, 0, sizeof(x));
	x.uuid = in.uuid;
	x.bundle = bundle;
	x.bundle_len = blen;
	for (unsigned i = 0; i < 3; i++) {
		uint8_t plain[512];

		RAND_bytes(plain, sizeof(plain));
		mgr_blob_seal(key, &in.uuid, files[i].name, 5 + i, plain,
			      files[i].size, &blob[i], &bl[i], NULL);
		x.f[i] = (struct mgr_xfile_blob){
			files[i].name, files[i].pending, blob[i], bl[i]};
	}
	x.n = 3;
	e = mgr_xfile_encode(&x, &file, &flen);
	if (!TH_CHECK(e == MGR_SEAL_OK, "xfile encode: %s", E(e)))
		goto out;
	e = mgr_xfile_decode(file, flen, &back, why, sizeof(why));
	TH_CHECK(e == MGR_SEAL_OK && back.n == 3 && back.bundle_len == blen &&
			 !memcmp(back.bundle, bundle, blen) &&
			 !memcmp(back.uuid.b, in.uuid.b, 16) &&
			 back.f[1].pending && back.f[1].len == bl[1] &&
			 !memcmp(back.f[1].data, blob[1], bl[1]) &&
			 back.f[2].name == MGR_STATE_VOLATILE,
		 "xfile round trip: %s", why);
	{
		char nm[32];

		mgr_xfile_blob_name(&back.f[1], nm, sizeof(nm));
		TH_CHECK(!strcmp(nm, "permall.new"), "blob file name %s", nm);
	}

	for (size_t i = 0; i < flen; i++) {
		file[i] ^= 0x04;
		e = mgr_xfile_decode(file, flen, &back, NULL, 0);
		if (e == MGR_SEAL_OK || back.n || back.bundle) {
			bad++;
			TH_CHECK(0, "xfile: flip at %zu accepted", i);
		}
		file[i] ^= 0x04;
	}
	TH_CHECK(bad == 0, "xfile: every byte flipped refused (%zu)", flen);
	bad = 0;
	for (size_t l = 0; l < flen; l++)
		if (mgr_xfile_decode(file, l, &back, NULL, 0) == MGR_SEAL_OK)
			bad++;
	TH_CHECK(bad == 0, "xfile: every truncation refused");

	{
		size_t e0 = 32 + blen; /* first file entry */
		struct {
			const char *name;
			size_t off;
			uint8_t val;
			enum mgr_seal_err want;
		} cases[] = {
			{"reserved header byte", 6, 1, MGR_SEAL_E_RESERVED},
			{"reserved byte 29", 29, 1, MGR_SEAL_E_RESERVED},
			{"bundle length 0", 24, 0, MGR_SEAL_E_TRUNCATED},
			{"bundle length over 8192", 26, 1, MGR_SEAL_E_TOO_BIG},
			{"7 files", 28, 7, MGR_SEAL_E_TOO_BIG},
			{"2 files: bytes left", 28, 2, MGR_SEAL_E_TRAILING},
			{"state name 4", e0, 4, MGR_SEAL_E_BODY},
			{"state name 0", e0, 0, MGR_SEAL_E_BODY},
			{"variant 2", e0 + 1, 2, MGR_SEAL_E_BODY},
			{"entry reserved", e0 + 2, 1, MGR_SEAL_E_BODY},
			{"second file repeats the first", e0 + 8 + 300 + 64 + 1,
			 0, MGR_SEAL_E_BODY},
			{"blob named for another state", e0, 3,
			 MGR_SEAL_E_WRONG_NAME},
			{"header names another instance", 8, 0xee,
			 MGR_SEAL_E_INSTANCE},
			{"blob length past the end", e0 + 6, 0x10,
			 MGR_SEAL_E_TOO_BIG},
			{"blob length 1 byte short", e0 + 4, 0, 0},
		};

		for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
			uint8_t *f2 = malloc(flen);
			enum mgr_seal_err want = cases[i].want;

			memcpy(f2, file, flen);
			if (cases[i].val == 0 && cases[i].off == e0 + 4) {
				f2[e0 + 4]--; /* blob 1 byte shorter */
				want = MGR_SEAL_E_TRUNCATED;
			} else if (cases[i].off == 8) {
				/* another uuid, whatever the random one is */
				f2[8] ^= cases[i].val;
			} else {
				f2[cases[i].off] = cases[i].val;
			}
			if (cases[i].off == 24) /* the whole length */
				f2[25] = f2[26] = f2[27] = 0;
			refix(f2, flen);
			e = mgr_xfile_decode(f2, flen, &back, why, sizeof(why));
			TH_CHECK(e == want && !back.n && why[0],
				 "xfile forged, %s: want %s, got %s (%s)",
				 cases[i].name, E(want), E(e), why);
			free(f2);
		}
	}
	{
		struct mgr_xfile y = x;
		uint8_t *o = NULL;
		size_t ol = 0;

		y.f[0] = x.f[1];
		y.f[1] = x.f[0];
		TH_CHECK(mgr_xfile_encode(&y, &o, &ol) == MGR_SEAL_E_INVAL &&
				 !o,
			 "xfile encode: files out of order refused");
		y = x;
		y.uuid.b[0] ^= 1;
		TH_CHECK(mgr_xfile_encode(&y, &o, &ol) == MGR_SEAL_E_INVAL &&
				 !o,
			 "xfile encode: blobs of another instance refused");
		y = x;
		y.bundle_len = 0;
		TH_CHECK(mgr_xfile_encode(&y, &o, &ol) == MGR_SEAL_E_INVAL &&
				 !o,
			 "xfile encode: no bundle refused");
	}
out:
	for (unsigned i = 0; i < 3; i++)
		free(blob[i]);
	free(bundle);
	free(file);
}

static void test_timing(void)
{
	struct mgr_inst in;
	struct mgr_bundle_info info;
	uint8_t *b = NULL;
	size_t n = 0;
	const int rounds = 200;
	double t0, t1, t2;
	bool ok = true;

	sample_inst(&in, "dom_HVM");
	t0 = now();
	for (int i = 0; i < rounds && ok; i++) {
		free(b);
		b = NULL;
		ok = mgr_bundle_seal(A, &MGR_A, spki_b, len_b, &in, &b, &n,
				     NULL, 0) == MGR_SEAL_OK;
	}
	t1 = now();
	for (int i = 0; i < rounds && ok; i++)
		ok = mgr_bundle_open(B, b, n, spki_a, len_a, &info, NULL, 0) ==
		     MGR_SEAL_OK;
	t2 = now();
	TH_CHECK(ok, "timing loop");
	printf("timing: bundle seal %.0f us, open %.0f us (%d rounds, %zu "
	       "bytes)\n",
	       (t1 - t0) / rounds * 1e6, (t2 - t1) / rounds * 1e6, rounds, n);
	free(b);
}

int main(void)
{
	char why[256];

	TH_CHECK(mgr_ident_create(&A, why, sizeof(why)) == MGR_SEAL_OK &&
			 mgr_ident_create(&B, why, sizeof(why)) ==
				 MGR_SEAL_OK &&
			 mgr_ident_create(&C, why, sizeof(why)) == MGR_SEAL_OK,
		 "create identities: %s", why);
	if (!A || !B || !C)
		return th_done();
	mgr_ident_public(A, spki_a, sizeof(spki_a), &len_a, NULL);
	mgr_ident_public(B, spki_b, sizeof(spki_b), &len_b, NULL);
	mgr_ident_public(C, spki_c, sizeof(spki_c), &len_c, NULL);

	test_identity();
	test_public_keys();
	test_roundtrip();
	test_tamper();
	test_seal_args();
	test_eks();
	test_version1();
	test_xfile();
	test_timing();

	mgr_ident_free(A);
	mgr_ident_free(B);
	mgr_ident_free(C);
	return th_done();
}
