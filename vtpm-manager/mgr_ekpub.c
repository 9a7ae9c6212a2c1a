/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_ekpub.c - an instance's EK public area checked against the TCG
 * templates L-1 / L-2 and turned into a SubjectPublicKeyInfo (OpenSSL).
 *
 * Unmarshalled with tss2-mu, which bounds every size it reads; then every
 * field is compared with the template, in the order of TPMT_PUBLIC, so
 * the first difference is the one reported.  The key is then handed to
 * OpenSSL as numbers (never as the instance's DER), which checks an EC
 * point is on the curve; the SPKI is OpenSSL's encoding of that key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "vtpm-manager/mgr_ekpub.h"

/* PolicySecret(TPM_RH_ENDORSEMENT), SHA-256: "policy A" of the profile
 * (the same digest vtpm_ek.c creates the EKs with). */
static const uint8_t ek_policy[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

#define EK_ATTRS                                                               \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |                      \
	 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |       \
	 TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
#define RSA_BYTES 256u
#define ECC_BYTES 32u

static void set_why(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

const char *mgr_ekpub_kind_str(enum mgr_ek_kind kind)
{
	switch (kind) {
	case MGR_EK_RSA2048:
		return "RSA-2048";
	case MGR_EK_ECC_P256:
		return "ECC P-256";
	}
	return "?";
}

static bool sym_ok(const TPMT_SYM_DEF_OBJECT *s)
{
	return s->algorithm == TPM2_ALG_AES && s->keyBits.aes == 128 &&
	       s->mode.aes == TPM2_ALG_CFB;
}

/* The template check.  0 or -EINVAL with why. */
static int check_template(enum mgr_ek_kind kind, const TPMT_PUBLIC *p,
			  char *why, size_t why_len)
{
	const char *k = mgr_ekpub_kind_str(kind);
	TPMI_ALG_PUBLIC type =
		kind == MGR_EK_RSA2048 ? TPM2_ALG_RSA : TPM2_ALG_ECC;

	if (p->type != type) {
		set_why(why, why_len, "%s EK: type 0x%04x, template 0x%04x", k,
			p->type, type);
		return -EINVAL;
	}
	if (p->nameAlg != TPM2_ALG_SHA256) {
		set_why(why, why_len, "%s EK: nameAlg 0x%04x, template SHA-256",
			k, p->nameAlg);
		return -EINVAL;
	}
	if (p->objectAttributes != EK_ATTRS) {
		set_why(why, why_len,
			"%s EK: objectAttributes 0x%08x, template 0x%08x", k,
			(unsigned)p->objectAttributes, (unsigned)EK_ATTRS);
		return -EINVAL;
	}
	if (p->authPolicy.size != sizeof(ek_policy) ||
	    memcmp(p->authPolicy.buffer, ek_policy, sizeof(ek_policy))) {
		set_why(why, why_len,
			"%s EK: authPolicy is not PolicySecret(endorsement)",
			k);
		return -EINVAL;
	}
	if (kind == MGR_EK_RSA2048) {
		const TPMS_RSA_PARMS *r = &p->parameters.rsaDetail;

		if (!sym_ok(&r->symmetric)) {
			set_why(why, why_len,
				"%s EK: symmetric is not AES-128-CFB", k);
			return -EINVAL;
		}
		if (r->scheme.scheme != TPM2_ALG_NULL) {
			set_why(why, why_len, "%s EK: scheme 0x%04x, not NULL",
				k, r->scheme.scheme);
			return -EINVAL;
		}
		if (r->keyBits != 2048 || r->exponent != 0) {
			set_why(why, why_len,
				"%s EK: keyBits %u exponent %u, template 2048 "
				"and 0",
				k, r->keyBits, (unsigned)r->exponent);
			return -EINVAL;
		}
		if (p->unique.rsa.size != RSA_BYTES ||
		    !(p->unique.rsa.buffer[0] & 0x80) ||
		    !(p->unique.rsa.buffer[RSA_BYTES - 1] & 1)) {
			set_why(why, why_len,
				"%s EK: modulus of %u bytes, not a 2048-bit "
				"odd number",
				k, p->unique.rsa.size);
			return -EINVAL;
		}
		return 0;
	}
	{
		const TPMS_ECC_PARMS *e = &p->parameters.eccDetail;

		if (!sym_ok(&e->symmetric)) {
			set_why(why, why_len,
				"%s EK: symmetric is not AES-128-CFB", k);
			return -EINVAL;
		}
		if (e->scheme.scheme != TPM2_ALG_NULL) {
			set_why(why, why_len, "%s EK: scheme 0x%04x, not NULL",
				k, e->scheme.scheme);
			return -EINVAL;
		}
		if (e->curveID != TPM2_ECC_NIST_P256) {
			set_why(why, why_len, "%s EK: curve 0x%04x, not P-256",
				k, e->curveID);
			return -EINVAL;
		}
		if (e->kdf.scheme != TPM2_ALG_NULL) {
			set_why(why, why_len, "%s EK: kdf 0x%04x, not NULL", k,
				e->kdf.scheme);
			return -EINVAL;
		}
		if (p->unique.ecc.x.size < 1 ||
		    p->unique.ecc.x.size > ECC_BYTES ||
		    p->unique.ecc.y.size < 1 ||
		    p->unique.ecc.y.size > ECC_BYTES) {
			set_why(why, why_len,
				"%s EK: point coordinates of %u and %u bytes, "
				"not 1..32",
				k, p->unique.ecc.x.size, p->unique.ecc.y.size);
			return -EINVAL;
		}
	}
	return 0;
}

static EVP_PKEY *make_key(enum mgr_ek_kind kind, const TPMT_PUBLIC *p)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t pt[1 + 2 * ECC_BYTES] = {0x04};
	int ok = 0;

	if (!bld)
		goto out;
	if (kind == MGR_EK_RSA2048) {
		n = BN_bin2bn(p->unique.rsa.buffer, RSA_BYTES, NULL);
		e = BN_new();
		if (!n || !e || !BN_set_word(e, 65537) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		const TPMS_ECC_POINT *q = &p->unique.ecc;

		/* Fixed-width coordinates (SEC 1 2.3.3): a TPM may drop
		 * leading zero bytes. */
		memcpy(pt + 1 + ECC_BYTES - q->x.size, q->x.buffer, q->x.size);
		memcpy(pt + 1 + 2 * ECC_BYTES - q->y.size, q->y.buffer,
		       q->y.size);
		if (!OSSL_PARAM_BLD_push_utf8_string(
			    bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(
			    bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	EVP_PKEY_CTX_free(ctx);
	ctx = NULL;
	/* fromdata takes an EC point as given: check it is on the curve.
	 * Not for RSA, whose size, top bit and odd modulus are checked above:
	 * OpenSSL's RSA public check is a primality test of the modulus, 4 ms
	 * of PROVISION's 6, and proves nothing about who holds the key. */
	if (kind != MGR_EK_RSA2048) {
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
		if (!ctx || EVP_PKEY_public_check(ctx) != 1)
			goto out;
	}
	ok = 1;
out:
	if (!ok) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return key;
}

int mgr_ekpub_to_spki(enum mgr_ek_kind kind, const uint8_t *pub, size_t len,
		      uint8_t *spki, size_t cap, size_t *spki_len, char *why,
		      size_t why_len)
{
	const char *k = mgr_ekpub_kind_str(kind);
	TPM2B_PUBLIC tp;
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL;
	size_t off = 0;
	int n, ret;

	*spki_len = 0;
	if (kind != MGR_EK_RSA2048 && kind != MGR_EK_ECC_P256) {
		set_why(why, why_len, "EK kind %d is not RSA-2048 or ECC P-256",
			(int)kind);
		return -EINVAL;
	}
	if (!pub || len < 2 || len > MGR_EK_PUBLIC_MAX) {
		set_why(why, why_len,
			"%s EK: public area of %zu bytes, not "
			"2..%u",
			k, len, MGR_EK_PUBLIC_MAX);
		return -EINVAL;
	}
	if ((size_t)((pub[0] << 8) | pub[1]) + 2 != len) {
		set_why(why, why_len,
			"%s EK: TPM2B_PUBLIC size %u does not match its %zu "
			"bytes",
			k, (unsigned)((pub[0] << 8) | pub[1]), len);
		return -EINVAL;
	}
	memset(&tp, 0, sizeof(tp));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, len, &off, &tp) || off != len) {
		set_why(why, why_len,
			"%s EK: not one well-formed TPM2B_PUBLIC (%zu of %zu "
			"bytes read)",
			k, off, len);
		return -EINVAL;
	}
	ret = check_template(kind, &tp.publicArea, why, why_len);
	if (ret)
		return ret;
	key = make_key(kind, &tp.publicArea);
	if (!key) {
		set_why(why, why_len, "%s EK: the key is not a valid %s key", k,
			k);
		return -EINVAL;
	}
	n = i2d_PUBKEY(key, &der);
	if (n <= 0) {
		set_why(why, why_len, "%s EK: encoding the SPKI failed", k);
		ret = -ENOMEM;
		goto out;
	}
	if ((size_t)n > cap) {
		set_why(why, why_len, "%s EK: SPKI of %d bytes, room for %zu",
			k, n, cap);
		ret = -ENOSPC;
		goto out;
	}
	memcpy(spki, der, (size_t)n);
	*spki_len = (size_t)n;
	ret = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return ret;
}
