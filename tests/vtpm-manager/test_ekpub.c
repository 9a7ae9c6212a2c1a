/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ekpub - an instance's EK public area as the manager accepts it
 * (mgr_ekpub.c): the TCG templates L-1 and L-2 around fresh keys give the
 * SPKI OpenSSL makes of the same key; every field that differs from the
 * template is refused, naming the field; framing lies (size prefix,
 * trailing or missing bytes) and a point off the curve are refused; a
 * small output buffer is -ENOSPC.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "tests/harness.h"
#include "tests/vtpm-manager/ekgen.h"
#include "vtpm-manager/mgr_ekpub.h"

static EVP_PKEY *rsa, *ecc;

static void sp_name(TPMT_PUBLIC *p)
{
	p->nameAlg = TPM2_ALG_SHA1;
}
static void sp_uwa(TPMT_PUBLIC *p)
{
	p->objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
}
static void sp_unrestricted(TPMT_PUBLIC *p)
{
	p->objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
}
static void sp_nopolicy(TPMT_PUBLIC *p)
{
	p->authPolicy.size = 0;
}
static void sp_policy(TPMT_PUBLIC *p)
{
	p->authPolicy.buffer[5] ^= 1;
}
static void sp_aes256(TPMT_PUBLIC *p)
{
	p->parameters.rsaDetail.symmetric.keyBits.aes = 256;
}
static void sp_cbc(TPMT_PUBLIC *p)
{
	p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CBC;
}
static void sp_oaep(TPMT_PUBLIC *p)
{
	p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_OAEP;
	p->parameters.rsaDetail.scheme.details.oaep.hashAlg = TPM2_ALG_SHA256;
}
static void sp_exp(TPMT_PUBLIC *p)
{
	p->parameters.rsaDetail.exponent = 65537;
}
static void sp_bits(TPMT_PUBLIC *p)
{
	p->parameters.rsaDetail.keyBits = 1024;
}
static void sp_short_n(TPMT_PUBLIC *p)
{
	p->unique.rsa.size = 255;
}
static void sp_even_n(TPMT_PUBLIC *p)
{
	p->unique.rsa.buffer[255] &= 0xfe;
}
static void sp_curve(TPMT_PUBLIC *p)
{
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
}
static void sp_kdf(TPMT_PUBLIC *p)
{
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_KDF1_SP800_56A;
	p->parameters.eccDetail.kdf.details.kdf1_sp800_56a.hashAlg =
		TPM2_ALG_SHA256;
}
static void sp_nox(TPMT_PUBLIC *p)
{
	p->unique.ecc.x.size = 0;
}
static void sp_offcurve(TPMT_PUBLIC *p)
{
	p->unique.ecc.y.buffer[31] ^= 1;
}
static void sp_fixedtpm(TPMT_PUBLIC *p)
{
	p->objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
}

struct tcase {
	const char *name;
	enum mgr_ek_kind key;  /* which key is built */
	enum mgr_ek_kind kind; /* what the caller says it is */
	void (*spoil)(TPMT_PUBLIC *p);
	int want;
	const char *why; /* substring of why */
};

static const struct tcase cases[] = {
	{"RSA template", MGR_EK_RSA2048, MGR_EK_RSA2048, NULL, 0, ""},
	{"ECC template", MGR_EK_ECC_P256, MGR_EK_ECC_P256, NULL, 0, ""},
	{"RSA key said ECC", MGR_EK_RSA2048, MGR_EK_ECC_P256, NULL, -EINVAL,
	 "type 0x0001"},
	{"ECC key said RSA", MGR_EK_ECC_P256, MGR_EK_RSA2048, NULL, -EINVAL,
	 "type 0x0023"},
	{"nameAlg SHA-1", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_name, -EINVAL,
	 "nameAlg 0x0004"},
	{"userWithAuth", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_uwa, -EINVAL,
	 "objectAttributes"},
	{"not restricted", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_unrestricted,
	 -EINVAL, "objectAttributes"},
	{"not fixedTPM", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_fixedtpm, -EINVAL,
	 "objectAttributes"},
	{"no authPolicy", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_nopolicy, -EINVAL,
	 "authPolicy"},
	{"other authPolicy", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_policy,
	 -EINVAL, "authPolicy"},
	{"AES-256", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_aes256, -EINVAL,
	 "symmetric"},
	{"AES-CBC", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_cbc, -EINVAL,
	 "symmetric"},
	{"OAEP scheme", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_oaep, -EINVAL,
	 "scheme 0x0017"},
	{"exponent 65537 spelled out", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_exp,
	 -EINVAL, "exponent 65537"},
	{"keyBits 1024", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_bits, -EINVAL,
	 "keyBits 1024"},
	{"modulus 255 bytes", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_short_n,
	 -EINVAL, "modulus of 255 bytes"},
	{"even modulus", MGR_EK_RSA2048, MGR_EK_RSA2048, sp_even_n, -EINVAL,
	 "odd"},
	{"curve P-384", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_curve, -EINVAL,
	 "curve 0x0004"},
	{"kdf set", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_kdf, -EINVAL, "kdf"},
	{"no x", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_nox, -EINVAL,
	 "coordinates of 0 and 32"},
	{"point off the curve", MGR_EK_ECC_P256, MGR_EK_ECC_P256, sp_offcurve,
	 -EINVAL, "not a valid ECC P-256 key"},
};

static void test_table(void)
{
	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		const struct tcase *c = &cases[i];
		EVP_PKEY *k = c->key == MGR_EK_RSA2048 ? rsa : ecc;
		uint8_t pub[600], spki[MGR_EKPUB_SPKI_MAX], *want = NULL;
		size_t n = ekgen_public(c->key, k, c->spoil, pub, sizeof(pub));
		size_t sl = 99;
		char why[256] = "";
		int rc, wl;

		if (!TH_CHECK(n > 0, "%s: built", c->name))
			continue;
		rc = mgr_ekpub_to_spki(c->kind, pub, n, spki, sizeof(spki), &sl,
				       why, sizeof(why));
		TH_CHECK(rc == c->want && strstr(why, c->why),
			 "%s: rc %d (want %d), why \"%s\" (want \"%s\")",
			 c->name, rc, c->want, why, c->why);
		if (c->want) {
			TH_CHECK(sl == 0, "%s: no SPKI on failure", c->name);
			continue;
		}
		wl = i2d_PUBKEY(k, &want);
		TH_CHECK(wl > 0 && (size_t)wl == sl && !memcmp(want, spki, sl),
			 "%s: SPKI is OpenSSL's of the same key (%zu bytes)",
			 c->name, sl);
		OPENSSL_free(want);
	}
}

static void test_framing(void)
{
	uint8_t pub[600], spki[MGR_EKPUB_SPKI_MAX];
	size_t n = ekgen_public(MGR_EK_ECC_P256, ecc, NULL, pub, sizeof(pub));
	size_t sl;
	char why[256];
	int rc;

	pub[n] = 0;
	rc = mgr_ekpub_to_spki(MGR_EK_ECC_P256, pub, n + 1, spki, sizeof(spki),
			       &sl, why, sizeof(why));
	TH_CHECK(rc == -EINVAL && strstr(why, "does not match"),
		 "trailing byte: %d %s", rc, why);
	rc = mgr_ekpub_to_spki(MGR_EK_ECC_P256, pub, n - 1, spki, sizeof(spki),
			       &sl, why, sizeof(why));
	TH_CHECK(rc == -EINVAL && strstr(why, "does not match"),
		 "missing byte: %d %s", rc, why);
	/* The size prefix and the length agree, the content is short. */
	pub[1] -= 2;
	rc = mgr_ekpub_to_spki(MGR_EK_ECC_P256, pub, n - 2, spki, sizeof(spki),
			       &sl, why, sizeof(why));
	TH_CHECK(rc == -EINVAL && strstr(why, "well-formed"),
		 "short content: %d %s", rc, why);
	pub[1] += 2;
	rc = mgr_ekpub_to_spki(MGR_EK_ECC_P256, pub, 1, spki, sizeof(spki), &sl,
			       why, sizeof(why));
	TH_CHECK(rc == -EINVAL && strstr(why, "not 2..512"), "1 byte: %s", why);
	rc = mgr_ekpub_to_spki(MGR_EK_ECC_P256, pub, 513, spki, sizeof(spki),
			       &sl, why, sizeof(why));
	TH_CHECK(rc == -EINVAL && strstr(why, "not 2..512"), "513 bytes: %s",
		 why);
	rc = mgr_ekpub_to_spki((enum mgr_ek_kind)3, pub, n, spki, sizeof(spki),
			       &sl, why, sizeof(why));
	TH_CHECK(rc == -EINVAL && strstr(why, "kind 3"), "kind 3: %s", why);
	rc = mgr_ekpub_to_spki(MGR_EK_ECC_P256, pub, n, spki, 90, &sl, why,
			       sizeof(why));
	TH_CHECK(rc == -ENOSPC, "90-byte buffer: %d %s", rc, why);
	/* An RSA public area cut down to the ECC's length. */
	n = ekgen_public(MGR_EK_RSA2048, rsa, NULL, pub, sizeof(pub));
	rc = mgr_ekpub_to_spki(MGR_EK_RSA2048, pub, n, spki, sizeof(spki), &sl,
			       why, sizeof(why));
	TH_CHECK(rc == 0 && sl == 294, "RSA SPKI is 294 bytes: %zu", sl);
}

int main(void)
{
	rsa = ekgen_key(MGR_EK_RSA2048);
	ecc = ekgen_key(MGR_EK_ECC_P256);
	if (!TH_CHECK(rsa && ecc, "keys generated"))
		return th_done();
	test_table();
	test_framing();
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ecc);
	return th_done();
}
