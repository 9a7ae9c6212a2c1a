/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ekgen.h - EK public areas built by hand for the manager's tests
 * (test_ekpub, test_keyholder): the TCG template L-1 / L-2 around a key
 * OpenSSL generates, marshalled with tss2-mu, with a hook to spoil one
 * field.  Header-only: each test binary includes it once.
 */
#ifndef HVSEC_TESTS_EKGEN_H
#define HVSEC_TESTS_EKGEN_H

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "vtpm-manager/mgr_proto.h"

static const uint8_t ekgen_policy[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

/* A template EK of kind around key k (RSA-2048 or P-256); spoil (may be
 * NULL) changes the public area before it is marshalled.  Length, or 0. */
static size_t ekgen_public(enum mgr_ek_kind kind, EVP_PKEY *k,
			   void (*spoil)(TPMT_PUBLIC *p), uint8_t *out,
			   size_t cap)
{
	TPM2B_PUBLIC t;
	TPMT_PUBLIC *p = &t.publicArea;
	BIGNUM *a = NULL, *b = NULL;
	size_t off = 0;

	memset(&t, 0, sizeof(t));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN |
			      TPMA_OBJECT_ADMINWITHPOLICY |
			      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	p->authPolicy.size = 32;
	memcpy(p->authPolicy.buffer, ekgen_policy, 32);
	if (kind == MGR_EK_RSA2048) {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.rsaDetail.keyBits = 2048;
		if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &a) ||
		    BN_bn2binpad(a, p->unique.rsa.buffer, 256) != 256)
			goto fail;
		p->unique.rsa.size = 256;
	} else {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		p->parameters.eccDetail.symmetric.keyBits.aes = 128;
		p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
		    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &b) ||
		    BN_bn2binpad(a, p->unique.ecc.x.buffer, 32) != 32 ||
		    BN_bn2binpad(b, p->unique.ecc.y.buffer, 32) != 32)
			goto fail;
		p->unique.ecc.x.size = 32;
		p->unique.ecc.y.size = 32;
	}
	if (spoil)
		spoil(p);
	BN_free(a);
	BN_free(b);
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&t, out, cap, &off))
		return 0;
	return off;
fail:
	BN_free(a);
	BN_free(b);
	return 0;
}

static EVP_PKEY *ekgen_key(enum mgr_ek_kind kind)
{
	return kind == MGR_EK_RSA2048
		       ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
		       : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

#endif /* HVSEC_TESTS_EKGEN_H */
