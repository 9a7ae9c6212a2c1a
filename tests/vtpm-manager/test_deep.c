/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_deep - deep-quote verification and the platform pin (att_deep.h):
 *   - quotes made here by a software "AK" that claims the attributes of a
 *     restricted TPM key (att_quote verifies the AK's signature; binding
 *     it to a platform is the pin's job), marshalled with tss2-mu as a
 *     TPM would: the genuine one verifies; a table of wrong EK, uuid,
 *     nonce, PCR mask, bank, extra bank, signer and key attributes, each
 *     refused with its own error;
 *   - the pin: made from a verified quote, written, read back and checked;
 *     another AK, other PCRs, another digest each refused naming it; a
 *     table of malformed pin files.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <tss2/tss2_mu.h>

#include "tests/harness.h"
#include "vtpm-manager/att_deep.h"
#include "vtpm-manager/mgr_ptpm.h"

#define AK_ATTRS                                                               \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |                      \
	 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |          \
	 TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)
#define MASK MGR_PCRS_DEFAULT

static const struct mgr_uuid UUID1 = {
	{1, 2, 3, 4, 5, 6, 0x47, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
static const struct mgr_uuid UUID2 = {
	{1, 2, 3, 4, 5, 6, 0x47, 8, 9, 10, 11, 12, 13, 14, 15, 17}};

static const char *E(enum att_err e)
{
	return att_strerror(e);
}

static void ec_xy(EVP_PKEY *pk, TPMS_ECC_POINT *pt)
{
	BIGNUM *x = NULL, *y = NULL;

	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x);
	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
	pt->x.size = 32;
	pt->y.size = 32;
	BN_bn2binpad(x, pt->x.buffer, 32);
	BN_bn2binpad(y, pt->y.buffer, 32);
	BN_free(x);
	BN_free(y);
}

/* A TPM2B_PUBLIC of an ECC key: an AK (attrs) or an EK-like key. */
static size_t ecc_public(EVP_PKEY *pk, uint32_t attrs, uint8_t *out, size_t cap)
{
	TPM2B_PUBLIC p = {0};
	size_t off = 0;

	p.publicArea.type = TPM2_ALG_ECC;
	p.publicArea.nameAlg = TPM2_ALG_SHA256;
	p.publicArea.objectAttributes = attrs;
	p.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	p.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
		TPM2_ALG_SHA256;
	p.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	ec_xy(pk, &p.publicArea.unique.ecc);
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&p, out, cap, &off))
		return 0;
	return off;
}

struct qspec {
	const uint8_t *qd; /* qualifyingData */
	uint16_t bank;
	uint32_t mask;
	bool second_bank;
	uint8_t digest[32];
};

static size_t attest_make(const struct qspec *s, uint8_t *out, size_t cap)
{
	TPMS_ATTEST a = {0};
	TPMS_PCR_SELECTION *sel = a.attested.quote.pcrSelect.pcrSelections;
	size_t off = 0;

	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_QUOTE;
	a.qualifiedSigner.size = 34;
	a.qualifiedSigner.name[1] = 0x0b;
	a.extraData.size = 32;
	memcpy(a.extraData.buffer, s->qd, 32);
	a.clockInfo.clock = 12345;
	a.clockInfo.safe = 1;
	a.firmwareVersion = 0x20240101;
	a.attested.quote.pcrSelect.count = s->second_bank ? 2 : 1;
	for (unsigned i = 0; i < a.attested.quote.pcrSelect.count; i++) {
		sel[i].hash = i ? TPM2_ALG_SHA1 : s->bank;
		sel[i].sizeofSelect = 3;
		sel[i].pcrSelect[0] = (uint8_t)s->mask;
		sel[i].pcrSelect[1] = (uint8_t)(s->mask >> 8);
		sel[i].pcrSelect[2] = (uint8_t)(s->mask >> 16);
	}
	a.attested.quote.pcrDigest.size = 32;
	memcpy(a.attested.quote.pcrDigest.buffer, s->digest, 32);
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, out, cap, &off))
		return 0;
	return off;
}

static size_t sign(EVP_PKEY *pk, const uint8_t *msg, size_t len, uint8_t *out,
		   size_t cap)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint8_t der[128];
	size_t dl = sizeof(der), off = 0;
	const uint8_t *p = der;
	TPMT_SIGNATURE t = {0};
	ECDSA_SIG *s;
	const BIGNUM *r, *sv;

	EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, pk);
	EVP_DigestSign(m, der, &dl, msg, len);
	EVP_MD_CTX_free(m);
	s = d2i_ECDSA_SIG(NULL, &p, (long)dl);
	ECDSA_SIG_get0(s, &r, &sv);
	t.sigAlg = TPM2_ALG_ECDSA;
	t.signature.ecdsa.hash = TPM2_ALG_SHA256;
	t.signature.ecdsa.signatureR.size = 32;
	t.signature.ecdsa.signatureS.size = 32;
	BN_bn2binpad(r, t.signature.ecdsa.signatureR.buffer, 32);
	BN_bn2binpad(sv, t.signature.ecdsa.signatureS.buffer, 32);
	ECDSA_SIG_free(s);
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(&t, out, cap, &off))
		return 0;
	return off;
}

static EVP_PKEY *ak_key, *other_key, *ek_key;
static uint8_t ak_pub[512], ak_loose[512], ek_pub[512], ek2_pub[512];
static size_t ak_len, loose_len, ek_len, ek2_len;
static uint8_t nonce[32], digest[32];

static void test_verify(void)
{
	enum {
		C_OK,
		C_UUID,
		C_NONCE,
		C_EK,
		C_EK_TRAILING,
		C_MASK,
		C_BANK,
		C_TWO_BANKS,
		C_SIGNER,
		C_LOOSE_AK,
		C_FLIP,
	};
	static const struct {
		const char *name;
		int what;
		enum att_err want;
		const char *why;
	} cases[] = {
		{"genuine", C_OK, ATT_OK, NULL},
		{"another instance uuid", C_UUID, ATT_E_NONCE, "another vTPM"},
		{"another nonce", C_NONCE, ATT_E_NONCE, "another vTPM"},
		{"another EK", C_EK, ATT_E_NONCE, "another vTPM"},
		{"EK public with a trailing byte", C_EK_TRAILING, ATT_E_INVAL,
		 "not one TPM2B_PUBLIC"},
		{"other PCRs quoted", C_MASK, ATT_E_PCR_SELECT,
		 "not sha256 PCRs"},
		{"sha1 bank quoted", C_BANK, ATT_E_PCR_SELECT, "not sha256"},
		{"a second bank quoted", C_TWO_BANKS, ATT_E_PCR_SELECT,
		 "2 banks"},
		{"signed by another key", C_SIGNER, ATT_E_SIGNATURE, NULL},
		{"an AK that is not restricted", C_LOOSE_AK, ATT_E_AK_ATTRS,
		 NULL},
		{"a flipped attest byte", C_FLIP, ATT_E_SIGNATURE, NULL},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		struct qspec s = {.bank = TPM2_ALG_SHA256, .mask = MASK};
		uint8_t qd[32], att[1024], sig[256], ekb[520];
		size_t alen, slen, el = ek_len;
		const uint8_t *ak = ak_pub;
		size_t akl = ak_len;
		const struct mgr_uuid *u = &UUID1;
		uint8_t n2[32];
		const uint8_t *nn = nonce;
		struct att_deep_result res;
		char why[512] = "";
		enum att_err e;
		int w = cases[i].what;

		memcpy(ekb, ek_pub, ek_len);
		mgr_deep_quote_data(ek_pub, ek_len, &UUID1, nonce,
				    sizeof(nonce), qd);
		s.qd = qd;
		memcpy(s.digest, digest, 32);
		if (w == C_MASK)
			s.mask = MASK | MGR_PCR_BIT(1);
		if (w == C_BANK)
			s.bank = TPM2_ALG_SHA1;
		if (w == C_TWO_BANKS)
			s.second_bank = true;
		alen = attest_make(&s, att, sizeof(att));
		slen = sign(w == C_SIGNER ? other_key : ak_key, att, alen, sig,
			    sizeof(sig));
		if (w == C_FLIP) /* after signing: the message changed */
			att[alen - 40] ^= 1;
		if (w == C_UUID)
			u = &UUID2;
		if (w == C_NONCE) {
			memcpy(n2, nonce, 32);
			n2[0] ^= 1;
			nn = n2;
		}
		if (w == C_EK) {
			memcpy(ekb, ek2_pub, ek2_len);
			el = ek2_len;
		}
		if (w == C_EK_TRAILING)
			ekb[el++] = 0;
		if (w == C_LOOSE_AK) {
			ak = ak_loose;
			akl = loose_len;
		}
		e = att_deep_verify(ak, akl, att, alen, sig, slen, ekb, el, u,
				    nn, 32, MASK, &res, why, sizeof(why));
		TH_CHECK(e == cases[i].want &&
				 (!cases[i].why || strstr(why, cases[i].why)),
			 "deep quote, %s: want %s, got %s (%s)", cases[i].name,
			 E(cases[i].want), E(e), why);
		if (w == C_OK)
			TH_CHECK(!memcmp(res.q.pcr_digest, digest, 32) &&
					 res.ak_name_len == 34 &&
					 !memcmp(res.qualifying, qd, 32),
				 "genuine: digest, AK name and qualifyingData "
				 "reported");
	}
}

static void test_pin(void)
{
	struct qspec s = {.bank = TPM2_ALG_SHA256, .mask = MASK};
	uint8_t qd[32], att[1024], sig[256];
	size_t alen, slen;
	struct att_deep_result res, other;
	struct att_deep_pin pin, back;
	char text[ATT_PIN_MAX], why[512];
	size_t n;

	mgr_deep_quote_data(ek_pub, ek_len, &UUID1, nonce, 32, qd);
	s.qd = qd;
	memcpy(s.digest, digest, 32);
	alen = attest_make(&s, att, sizeof(att));
	slen = sign(ak_key, att, alen, sig, sizeof(sig));
	if (!TH_CHECK(att_deep_verify(ak_pub, ak_len, att, alen, sig, slen,
				      ek_pub, ek_len, &UUID1, nonce, 32, MASK,
				      &res, why, sizeof(why)) == ATT_OK,
		      "pin: a verified quote: %s", why))
		return;
	att_deep_pin_from(&res, MASK, &pin);
	n = att_deep_pin_format(&pin, text, sizeof(text));
	TH_CHECK(n > 0 &&
			 !strncmp(text, "hvsec-platform-pin 1\nak-name 000b",
				  33) &&
			 strstr(text, "\npcrs 0,2,4,7\n"),
		 "pin text: %s", text);
	TH_CHECK(att_deep_pin_parse(text, n, &back, why, sizeof(why)) ==
				 ATT_OK &&
			 !memcmp(&back, &pin, sizeof(pin)),
		 "pin round trip: %s", why);
	TH_CHECK(att_deep_pin_check(&back, &res, MASK, why, sizeof(why)) ==
			 ATT_OK,
		 "pin check of the same quote: %s", why);
	TH_CHECK(att_deep_pin_format(&pin, text, 40) == 0,
		 "pin format: short buffer refused");

	other = res;
	other.ak_name[5] ^= 1;
	TH_CHECK(att_deep_pin_check(&pin, &other, MASK, why, sizeof(why)) ==
				 ATT_E_AK &&
			 strstr(why, "not the pinned"),
		 "another AK: %s", why);
	TH_CHECK(att_deep_pin_check(&pin, &res, MASK | 2, why, sizeof(why)) ==
				 ATT_E_PCR_SELECT &&
			 strstr(why, "the pin PCRs 0,2,4,7"),
		 "other PCRs: %s", why);
	other = res;
	other.q.pcr_digest[0] ^= 1;
	TH_CHECK(att_deep_pin_check(&pin, &other, MASK, why, sizeof(why)) ==
				 ATT_E_PCR_DIGEST &&
			 strstr(why, "booted something else"),
		 "another PCR digest: %s", why);

	{
		char good[ATT_PIN_MAX];
		const char *d64 = "00112233445566778899aabbccddeeff"
				  "00112233445566778899aabbccddeeff";
		struct {
			const char *name, *text;
			bool ok;
		} cases[] = {
			{"well-formed", NULL, true},
			{"empty", "", false},
			{"no final newline",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "0\npcr-digest D64",
			 false},
			{"version 2",
			 "hvsec-platform-pin 2\nak-name 000b11\npcrs "
			 "0\npcr-digest D64\n",
			 false},
			{"uppercase hex",
			 "hvsec-platform-pin 1\nak-name 000B11\npcrs "
			 "0\npcr-digest D64\n",
			 false},
			{"odd hex",
			 "hvsec-platform-pin 1\nak-name 000b1\npcrs "
			 "0\npcr-digest D64\n",
			 false},
			{"short digest",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "0\npcr-digest 0011\n",
			 false},
			{"PCR 24",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "24\npcr-digest D64\n",
			 false},
			{"PCR twice",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "1,1\npcr-digest D64\n",
			 false},
			{"descending PCRs",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "4,2\npcr-digest D64\n",
			 false},
			{"leading zero",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "07\npcr-digest D64\n",
			 false},
			{"trailing comma",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "7,\npcr-digest D64\n",
			 false},
			{"lines swapped",
			 "hvsec-platform-pin 1\npcrs 0\nak-name "
			 "000b11\npcr-digest D64\n",
			 false},
			{"text after",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "0\npcr-digest D64\nx\n",
			 false},
			{"minimal",
			 "hvsec-platform-pin 1\nak-name 000b11\npcrs "
			 "0,23\npcr-digest D64\n",
			 true},
		};

		n = att_deep_pin_format(&pin, good, sizeof(good));
		for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
			char t[ATT_PIN_MAX], *p;
			enum att_err e;

			snprintf(t, sizeof(t), "%s",
				 cases[i].text ? cases[i].text : good);
			p = strstr(t, "D64");
			if (p) { /* the 64 hex digits, in place */
				memmove(p + 64, p + 3, strlen(p + 3) + 1);
				memcpy(p, d64, 64);
			}
			e = att_deep_pin_parse(t, strlen(t), &back, why,
					       sizeof(why));
			TH_CHECK((e == ATT_OK) == cases[i].ok &&
					 (e == ATT_OK || why[0]),
				 "pin file %s: %s (%s)", cases[i].name, E(e),
				 why);
		}
	}
}

int main(void)
{
	ak_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ek_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!TH_CHECK(ak_key && other_key && ek_key, "keys"))
		return th_done();
	ak_len = ecc_public(ak_key, AK_ATTRS, ak_pub, sizeof(ak_pub));
	loose_len = ecc_public(ak_key, AK_ATTRS & ~TPMA_OBJECT_RESTRICTED,
			       ak_loose, sizeof(ak_loose));
	ek_len =
		ecc_public(ek_key,
			   TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				   TPMA_OBJECT_SENSITIVEDATAORIGIN |
				   TPMA_OBJECT_ADMINWITHPOLICY |
				   TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
			   ek_pub, sizeof(ek_pub));
	ek2_len = ecc_public(other_key, TPMA_OBJECT_FIXEDTPM, ek2_pub,
			     sizeof(ek2_pub));
	TH_CHECK(ak_len && loose_len && ek_len && ek2_len, "publics marshal");
	RAND_bytes(nonce, sizeof(nonce));
	RAND_bytes(digest, sizeof(digest));

	test_verify();
	test_pin();

	EVP_PKEY_free(ak_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(ek_key);
	return th_done();
}
