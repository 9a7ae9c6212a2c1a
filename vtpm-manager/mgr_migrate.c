/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_migrate.c - the manager's identity key and migration bundles
 * (mgr_migrate.h; byte formats in docs/formats.md §8).
 *
 * Everything is OpenSSL 3 EVP: P-256 key generation, ECDH with an
 * ephemeral key, HKDF-SHA256, AES-256-GCM, ECDSA-SHA256.  Public keys
 * from outside (an operator's file, a bundle) are accepted only in the
 * one canonical encoding of a P-256 key: the 91-byte DER
 * SubjectPublicKeyInfo with the named curve and an uncompressed point, a
 * point on the curve.  So a key has exactly one fingerprint, and every
 * length in a bundle but the ciphertext's is fixed: the parser has one
 * variable to check.
 *
 * Signatures travel as r ‖ s (32 bytes each, big-endian) rather than DER,
 * for the same reason; they are converted to DER only to hand them to
 * EVP_DigestVerify.  Secrets (the private scalar, ECDH output, derived
 * keys, decrypted entries) are wiped with OPENSSL_cleanse.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_proto.h"

/* ------------------------------------------------------------- layout */

#define SPKI_LEN   91u /* P-256, named curve, uncompressed point */
#define POINT_LEN  65u /* 04 ‖ X ‖ Y */
#define SCALAR_LEN 32u
#define SIG_LEN	   64u /* r ‖ s */

/* Every P-256 SPKI starts with these 26 bytes, then the point. */
static const uint8_t spki_prefix[SPKI_LEN - POINT_LEN] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
	0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
	0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

/* Sealed identity ("HVID"), little-endian; bytes [0, ID_HDR_LEN) are the
 * AAD. */
#define ID_MAGIC     0x44495648u
#define ID_VERSION   1u
#define ID_OFF_MAGIC 0
#define ID_OFF_VER   4
#define ID_OFF_RSVD  6
#define ID_OFF_NONCE 8
#define ID_OFF_SPKI  20
#define ID_HDR_LEN   (ID_OFF_SPKI + SPKI_LEN)		     /* 111 */
#define ID_LEN	     (ID_HDR_LEN + SCALAR_LEN + MGR_TAG_LEN) /* 159 */
#define ID_HKDF_INFO "hvsec vtpm-manager identity v1"

/* Bundle ("HVMB"), little-endian.  [0, B_HDR_LEN) is the GCM AAD;
 * [0, B_HDR_LEN + ct_len + 16) is what the signature covers. */
#define B_MAGIC	      0x424d5648u
#define B_VERSION     MGR_BUNDLE_VERSION /* what we write */
#define B_OFF_MAGIC   0
#define B_OFF_VER     4
#define B_OFF_RSVD    6
#define B_OFF_MANAGER 8
#define B_OFF_DESTFPR 24
#define B_OFF_SRCSPKI 56
#define B_OFF_EPH     (B_OFF_SRCSPKI + SPKI_LEN)    /* 147 */
#define B_OFF_NONCE   (B_OFF_EPH + POINT_LEN)	    /* 212 */
#define B_OFF_CTLEN   (B_OFF_NONCE + MGR_NONCE_LEN) /* 224 */
#define B_OFF_RSVD2   (B_OFF_CTLEN + 4)		    /* 228 */
#define B_HDR_LEN     (B_OFF_RSVD2 + 4)		    /* 232 */
#define B_HKDF_INFO   "hvsec vtpm-manager bundle v1"

/* The entry inside (plaintext), as a root-record entry without padding. */
#define E_OFF_UUID    0
#define E_OFF_KEY     16
#define E_OFF_DOMAIN  48
#define E_OFF_FLAGS   64
#define E_OFF_LABLEN  68
#define E_OFF_RSVD    70
#define E_OFF_STATE   72
#define E_REF_LEN     32u
#define E_FIXED	      (E_OFF_STATE + MGR_STATE_NAMES * E_REF_LEN) /* 168 */
#define E_MAX	      (E_FIXED + MGR_LABEL_MAX)			  /* 423 */
#define REF_F_PRESENT 0x1u

/* Version 2: the entry, then u32 count and count x SHA-256 of an EK
 * public the source certified for the instance. */
#define EK_LEN 32u
#define E2_MAX (E_MAX + 4 + MGR_BUNDLE_EK_MAX * EK_LEN) /* 683 */

#define B_MAX_LEN (B_HDR_LEN + E2_MAX + MGR_TAG_LEN + SIG_LEN) /* 995 */

static_assert(B_OFF_RSVD2 + 4 == 232, "bundle header is 232 bytes");
static_assert(E_FIXED == MGR_ROOT_ENTRY_FIXED, "entry as in the root");
static_assert(B_MAX_LEN <= MGR_BUNDLE_MAX, "a bundle fits a message");
static_assert(SPKI_LEN <= MGR_IDENT_SPKI_MAX && SPKI_LEN <= MGR_PUBKEY_MAX,
	      "an SPKI fits its buffers");

struct mgr_ident {
	EVP_PKEY *pkey; /* owned: the key pair */
	uint8_t spki[SPKI_LEN];
	uint8_t fpr[MGR_FPR_LEN];
};

/* ------------------------------------------------------------ helpers */

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

static void hex8(const uint8_t *p, char out[17])
{
	static const char h[] = "0123456789abcdef";

	for (int i = 0; i < 8; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[16] = '\0';
}

static bool label_ok(const uint8_t *s, size_t n)
{
	if (n < 1 || n > MGR_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ':')
			return false;
	return true;
}

static enum mgr_seal_err sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return MGR_SEAL_E_CRYPTO;
	return MGR_SEAL_OK;
}

static enum mgr_seal_err gcm(bool enc, const uint8_t key[MGR_KEY_LEN],
			     const uint8_t nonce[MGR_NONCE_LEN],
			     const uint8_t *aad, size_t aad_len,
			     const uint8_t *in, size_t len, uint8_t *out,
			     uint8_t tag[MGR_TAG_LEN])
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	EVP_CIPHER_CTX *ctx;
	int n;

	assert(len <= 4096 && aad_len <= 4096);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return MGR_SEAL_E_NOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) !=
		    1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, MGR_NONCE_LEN,
				NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    (len && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1))
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, MGR_TAG_LEN,
					tag) != 1)
			goto out;
		ret = MGR_SEAL_OK;
	} else {
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MGR_TAG_LEN,
					tag) != 1)
			goto out;
		/* Final compares the tag in constant time. */
		ret = EVP_CipherFinal_ex(ctx, out + len, &n) == 1
			      ? MGR_SEAL_OK
			      : MGR_SEAL_E_AUTH;
	}
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* --------------------------------------------------------- public keys */

/* The one encoding we accept, decoded; *out owned by the caller. */
static enum mgr_seal_err spki_decode(const uint8_t *spki, size_t len,
				     EVP_PKEY **out, char *why, size_t why_len)
{
	enum mgr_seal_err ret = MGR_SEAL_E_MAGIC;
	const unsigned char *p = spki;
	unsigned char *re = NULL;
	EVP_PKEY_CTX *cctx = NULL;
	EVP_PKEY *k = NULL;
	char group[32];
	size_t glen = 0;
	int relen;

	*out = NULL;
	if (len != SPKI_LEN) {
		vtpm_set_why(why, why_len,
			     "public key: %zu bytes, a DER P-256 "
			     "SubjectPublicKeyInfo has %u",
			     len, SPKI_LEN);
		return len < SPKI_LEN ? MGR_SEAL_E_TRUNCATED
				      : MGR_SEAL_E_TRAILING;
	}
	if (memcmp(spki, spki_prefix, sizeof(spki_prefix)) ||
	    spki[sizeof(spki_prefix)] != 0x04) {
		vtpm_set_why(why, why_len,
			     "public key: not a DER P-256 SubjectPublicKeyInfo "
			     "with an uncompressed point");
		return MGR_SEAL_E_MAGIC;
	}
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (!k || p != spki + len || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
					   sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1")) {
		vtpm_set_why(
			why, why_len,
			"public key: does not decode as a P-256 key (a point "
			"off the curve?)");
		goto out;
	}
	relen = i2d_PUBKEY(k, &re);
	if (relen != (int)len || memcmp(re, spki, len)) {
		vtpm_set_why(why, why_len, "public key: not canonical DER");
		goto out;
	}
	cctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	if (!cctx || EVP_PKEY_public_check(cctx) != 1) {
		vtpm_set_why(
			why, why_len,
			"public key: the point is not a valid P-256 public "
			"key");
		goto out;
	}
	*out = k;
	k = NULL;
	ret = MGR_SEAL_OK;
out:
	OPENSSL_free(re);
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_free(k);
	return ret;
}

enum mgr_seal_err mgr_ident_check_public(const uint8_t *spki, size_t len,
					 uint8_t fpr[MGR_FPR_LEN], char *why,
					 size_t why_len)
{
	enum mgr_seal_err ret;
	EVP_PKEY *k = NULL;

	vtpm_set_why(why, why_len, "%s", "");
	if (!spki || !fpr)
		return MGR_SEAL_E_INVAL;
	ret = spki_decode(spki, len, &k, why, why_len);
	if (!ret)
		ret = sha256(spki, len, fpr);
	EVP_PKEY_free(k);
	return ret;
}

/* The SPKI of a key we hold, in the canonical form. */
static enum mgr_seal_err spki_encode(EVP_PKEY *k, uint8_t out[SPKI_LEN])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;

	if (n == (int)SPKI_LEN &&
	    !memcmp(der, spki_prefix, sizeof(spki_prefix))) {
		memcpy(out, der, SPKI_LEN);
		ret = MGR_SEAL_OK;
	}
	OPENSSL_free(der);
	return ret;
}

/* A P-256 public key from an uncompressed point (the bundle's ephemeral
 * key), checked to be on the curve. */
static enum mgr_seal_err point_decode(const uint8_t pt[POINT_LEN],
				      EVP_PKEY **out)
{
	uint8_t spki[SPKI_LEN];

	memcpy(spki, spki_prefix, sizeof(spki_prefix));
	memcpy(spki + sizeof(spki_prefix), pt, POINT_LEN);
	return spki_decode(spki, sizeof(spki), out, NULL, 0);
}

/* ------------------------------------------------------------ identity */

static enum mgr_seal_err ident_finish(struct mgr_ident *id)
{
	enum mgr_seal_err ret = spki_encode(id->pkey, id->spki);

	if (!ret)
		ret = sha256(id->spki, SPKI_LEN, id->fpr);
	return ret;
}

enum mgr_seal_err mgr_ident_create(struct mgr_ident **out, char *why,
				   size_t why_len)
{
	struct mgr_ident *id;
	enum mgr_seal_err ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	id = calloc(1, sizeof(*id));
	if (!id)
		return MGR_SEAL_E_NOMEM;
	id->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ret = id->pkey ? ident_finish(id) : MGR_SEAL_E_CRYPTO;
	if (ret) {
		vtpm_set_why(why, why_len, "P-256 key generation failed");
		mgr_ident_free(id);
		return ret;
	}
	*out = id;
	return MGR_SEAL_OK;
}

void mgr_ident_free(struct mgr_ident *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->pkey);
	OPENSSL_cleanse(id, sizeof(*id));
	free(id);
}

enum mgr_seal_err mgr_ident_public(const struct mgr_ident *id, uint8_t *spki,
				   size_t cap, size_t *spki_len,
				   uint8_t fpr[MGR_FPR_LEN])
{
	if (!id || (spki && cap < SPKI_LEN))
		return MGR_SEAL_E_INVAL;
	if (spki)
		memcpy(spki, id->spki, SPKI_LEN);
	if (spki_len)
		*spki_len = SPKI_LEN;
	if (fpr)
		memcpy(fpr, id->fpr, MGR_FPR_LEN);
	return MGR_SEAL_OK;
}

static enum mgr_seal_err ident_key(const struct mgr_root_keys *keys,
				   uint8_t out[MGR_KEY_LEN])
{
	return mgr_hkdf_sha256(keys->enc, MGR_KEY_LEN,
			       (const uint8_t *)ID_HKDF_INFO,
			       strlen(ID_HKDF_INFO), out);
}

enum mgr_seal_err mgr_ident_seal(const struct mgr_ident *id,
				 const struct mgr_root_keys *keys,
				 uint8_t **out, size_t *out_len, char *why,
				 size_t why_len)
{
	uint8_t key[MGR_KEY_LEN], d[SCALAR_LEN], *buf = NULL;
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	BIGNUM *bn = NULL;

	vtpm_set_why(why, why_len, "%s", "");
	if (!id || !keys || !out || !out_len)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	*out_len = 0;
	buf = malloc(ID_LEN);
	if (!buf)
		return MGR_SEAL_E_NOMEM;
	if (EVP_PKEY_get_bn_param(id->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) !=
		    1 ||
	    BN_bn2binpad(bn, d, SCALAR_LEN) != (int)SCALAR_LEN)
		goto out;
	vtpm_put_le32(buf + ID_OFF_MAGIC, ID_MAGIC);
	vtpm_put_le16(buf + ID_OFF_VER, ID_VERSION);
	vtpm_put_le16(buf + ID_OFF_RSVD, 0);
	if (RAND_bytes(buf + ID_OFF_NONCE, MGR_NONCE_LEN) != 1)
		goto out;
	memcpy(buf + ID_OFF_SPKI, id->spki, SPKI_LEN);
	ret = ident_key(keys, key);
	if (!ret)
		ret = gcm(true, key, buf + ID_OFF_NONCE, buf, ID_HDR_LEN, d,
			  SCALAR_LEN, buf + ID_HDR_LEN,
			  buf + ID_HDR_LEN + SCALAR_LEN);
	if (ret)
		goto out;
	*out = buf;
	*out_len = ID_LEN;
	buf = NULL;
out:
	if (ret)
		vtpm_set_why(why, why_len, "sealing the identity key failed");
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(d, sizeof(d));
	BN_clear_free(bn);
	free(buf);
	return ret;
}

/* The key pair from its scalar and its public key, which must match
 * (pairwise check): a scalar decrypted under the right key is still
 * checked, so an encoder bug cannot give us a key that signs for
 * another fingerprint. */
static enum mgr_seal_err keypair(const uint8_t d[SCALAR_LEN], EVP_PKEY *pub,
				 EVP_PKEY **out)
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	uint8_t pt[POINT_LEN];
	size_t ptlen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	BIGNUM *bn = NULL;

	*out = NULL;
	if (EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, pt,
					    sizeof(pt), &ptlen) != 1 ||
	    ptlen != POINT_LEN)
		goto out;
	bn = BN_secure_new();
	bld = OSSL_PARAM_BLD_new();
	if (!bn || !bld || !BN_bin2bn(d, SCALAR_LEN, bn) ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
					     ptlen) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) != 1)
		goto out;
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
	if (!chk || EVP_PKEY_pairwise_check(chk) != 1) {
		ret = MGR_SEAL_E_BODY;
		goto out;
	}
	ret = MGR_SEAL_OK;
out:
	if (ret) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bn);
	return ret;
}

enum mgr_seal_err mgr_ident_unseal(const uint8_t *buf, size_t len,
				   const struct mgr_root_keys *keys,
				   struct mgr_ident **out, char *why,
				   size_t why_len)
{
	uint8_t key[MGR_KEY_LEN], d[SCALAR_LEN], tag[MGR_TAG_LEN];
	enum mgr_seal_err ret;
	struct mgr_ident *id = NULL;
	EVP_PKEY *pub = NULL;

	vtpm_set_why(why, why_len, "%s", "");
	if (!buf || !keys || !out)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	if (len < ID_HDR_LEN) {
		vtpm_set_why(why, why_len,
			     "identity: %zu bytes, shorter than "
			     "its header",
			     len);
		return MGR_SEAL_E_TRUNCATED;
	}
	if (vtpm_get_le32(buf + ID_OFF_MAGIC) != ID_MAGIC) {
		vtpm_set_why(why, why_len, "identity: bad magic");
		return MGR_SEAL_E_MAGIC;
	}
	if (vtpm_get_le16(buf + ID_OFF_VER) != ID_VERSION) {
		vtpm_set_why(why, why_len, "identity: version %u, we read %u",
			     vtpm_get_le16(buf + ID_OFF_VER), ID_VERSION);
		return MGR_SEAL_E_VERSION;
	}
	if (vtpm_get_le16(buf + ID_OFF_RSVD)) {
		vtpm_set_why(why, why_len, "identity: reserved field not zero");
		return MGR_SEAL_E_RESERVED;
	}
	if (len != ID_LEN) {
		vtpm_set_why(why, why_len, "identity: %zu bytes, expected %u",
			     len, ID_LEN);
		return len < ID_LEN ? MGR_SEAL_E_TRUNCATED
				    : MGR_SEAL_E_TRAILING;
	}
	ret = spki_decode(buf + ID_OFF_SPKI, SPKI_LEN, &pub, why, why_len);
	if (ret)
		return ret;
	memcpy(tag, buf + ID_HDR_LEN + SCALAR_LEN, MGR_TAG_LEN);
	ret = ident_key(keys, key);
	if (!ret)
		ret = gcm(false, key, buf + ID_OFF_NONCE, buf, ID_HDR_LEN,
			  buf + ID_HDR_LEN, SCALAR_LEN, d, tag);
	if (ret) {
		if (ret == MGR_SEAL_E_AUTH)
			vtpm_set_why(why, why_len,
				     "identity: authentication failed (another "
				     "manager's root key, or modified)");
		goto out;
	}
	id = calloc(1, sizeof(*id));
	if (!id) {
		ret = MGR_SEAL_E_NOMEM;
		goto out;
	}
	ret = keypair(d, pub, &id->pkey);
	if (!ret)
		ret = ident_finish(id);
	if (ret) {
		vtpm_set_why(why, why_len,
			     "identity: the private key does not match its "
			     "public key");
		goto out;
	}
	*out = id;
	id = NULL;
out:
	mgr_ident_free(id);
	EVP_PKEY_free(pub);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(d, sizeof(d));
	return ret;
}

/* ------------------------------------------------------ ECDH + ECDSA */

static enum mgr_seal_err bundle_key(EVP_PKEY *priv, EVP_PKEY *peer,
				    const uint8_t eph[POINT_LEN],
				    const uint8_t dest_fpr[MGR_FPR_LEN],
				    uint8_t out[MGR_KEY_LEN])
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	uint8_t z[32], info[sizeof(B_HKDF_INFO) - 1 + POINT_LEN + MGR_FPR_LEN];
	size_t zlen = sizeof(z), il = sizeof(B_HKDF_INFO) - 1;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);

	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1 ||
	    EVP_PKEY_derive(ctx, z, &zlen) != 1 || zlen != sizeof(z))
		goto out;
	/* The info binds the key to this exchange and this recipient. */
	memcpy(info, B_HKDF_INFO, il);
	memcpy(info + il, eph, POINT_LEN);
	memcpy(info + il + POINT_LEN, dest_fpr, MGR_FPR_LEN);
	ret = mgr_hkdf_sha256(z, sizeof(z), info, sizeof(info), out);
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

static enum mgr_seal_err sign(EVP_PKEY *k, const uint8_t *msg, size_t len,
			      uint8_t out[SIG_LEN])
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t dlen = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *s = NULL;
	const BIGNUM *r, *sv;

	if (!md ||
	    EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, k, NULL) !=
		    1 ||
	    EVP_DigestSign(md, der, &dlen, msg, len) != 1)
		goto out;
	s = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!s)
		goto out;
	ECDSA_SIG_get0(s, &r, &sv);
	if (BN_bn2binpad(r, out, 32) != 32 ||
	    BN_bn2binpad(sv, out + 32, 32) != 32)
		goto out;
	ret = MGR_SEAL_OK;
out:
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return ret;
}

/* MGR_SEAL_OK, AUTH when the signature is wrong, CRYPTO. */
static enum mgr_seal_err verify(EVP_PKEY *k, const uint8_t *msg, size_t len,
				const uint8_t sig[SIG_LEN])
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL),
	       *sv = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	int dlen, v;

	if (!s || !r || !sv || ECDSA_SIG_set0(s, r, sv) != 1) {
		BN_free(r);
		BN_free(sv);
		goto out;
	}
	dlen = i2d_ECDSA_SIG(s, &der);
	md = EVP_MD_CTX_new();
	if (dlen <= 0 || !md ||
	    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, k, NULL) !=
		    1)
		goto out;
	v = EVP_DigestVerify(md, der, (size_t)dlen, msg, len);
	ret = v == 1 ? MGR_SEAL_OK : MGR_SEAL_E_AUTH;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return ret;
}

/* ------------------------------------------------------------- entry */

static void entry_encode(const struct mgr_inst *inst, size_t lab, uint8_t *p)
{
	memcpy(p + E_OFF_UUID, inst->uuid.b, MGR_UUID_LEN);
	memcpy(p + E_OFF_KEY, inst->key, MGR_KEY_LEN);
	memcpy(p + E_OFF_DOMAIN, inst->domain.b, MGR_UUID_LEN);
	vtpm_put_le32(p + E_OFF_FLAGS, inst->flags & ~MGR_INST_F_MIGRATED);
	vtpm_put_le16(p + E_OFF_LABLEN, (uint16_t)lab);
	vtpm_put_le16(p + E_OFF_RSVD, 0);
	for (unsigned s = 0; s < MGR_STATE_NAMES; s++) {
		uint8_t *q = p + E_OFF_STATE + s * E_REF_LEN;
		const struct mgr_state_ref *r = &inst->state[s];

		vtpm_put_le64(q, r->generation);
		memcpy(q + 8, r->tag, MGR_TAG_LEN);
		vtpm_put_le32(q + 24, r->present ? REF_F_PRESENT : 0);
		vtpm_put_le32(q + 28, 0);
	}
	memcpy(p + E_FIXED, inst->label, lab);
}

/* Version 2's tail: the EK digests (distinct). */
static enum mgr_seal_err eks_decode(const uint8_t *p, size_t len,
				    struct mgr_bundle_info *out, char *why,
				    size_t why_len)
{
	uint32_t n;

	if (len < 4) {
		vtpm_set_why(why, why_len,
			     "bundle: %zu bytes after the entry, no EK count",
			     len);
		return MGR_SEAL_E_BODY;
	}
	n = vtpm_get_le32(p);
	if (n > MGR_BUNDLE_EK_MAX) {
		vtpm_set_why(why, why_len, "bundle: %u EK digests, at most %u",
			     n, MGR_BUNDLE_EK_MAX);
		return MGR_SEAL_E_BODY;
	}
	if (len - 4 != (size_t)n * EK_LEN) {
		vtpm_set_why(why, why_len,
			     "bundle: %u EK digests, %zu bytes follow", n,
			     len - 4);
		return MGR_SEAL_E_BODY;
	}
	for (uint32_t i = 0; i < n; i++) {
		memcpy(out->ek_hash[i], p + 4 + i * EK_LEN, EK_LEN);
		for (uint32_t k = 0; k < i; k++)
			if (!memcmp(out->ek_hash[k], out->ek_hash[i], EK_LEN)) {
				vtpm_set_why(why, why_len,
					     "bundle: EK digest %u repeats %u",
					     i, k);
				return MGR_SEAL_E_BODY;
			}
	}
	out->ek_count = n;
	return MGR_SEAL_OK;
}

static enum mgr_seal_err entry_decode(const uint8_t *p, size_t len,
				      struct mgr_inst *e, char *why,
				      size_t why_len)
{
	static const char *const names[MGR_STATE_NAMES] = {
		"permall", "volatilestate", "savestate"};
	uint32_t flags;
	size_t lab;

	if (len < E_FIXED + 1) {
		vtpm_set_why(why, why_len, "bundle entry: %zu bytes, too short",
			     len);
		return MGR_SEAL_E_BODY;
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->uuid.b, p + E_OFF_UUID, MGR_UUID_LEN);
	memcpy(e->key, p + E_OFF_KEY, MGR_KEY_LEN);
	memcpy(e->domain.b, p + E_OFF_DOMAIN, MGR_UUID_LEN);
	flags = vtpm_get_le32(p + E_OFF_FLAGS);
	if (flags & ~(MGR_INST_F_ALL & ~MGR_INST_F_MIGRATED)) {
		vtpm_set_why(why, why_len,
			     "bundle entry: flags 0x%x not allowed", flags);
		return MGR_SEAL_E_BODY;
	}
	e->flags = flags;
	lab = vtpm_get_le16(p + E_OFF_LABLEN);
	if (vtpm_get_le16(p + E_OFF_RSVD)) {
		vtpm_set_why(why, why_len, "bundle entry: reserved not zero");
		return MGR_SEAL_E_BODY;
	}
	if (lab != len - E_FIXED) {
		vtpm_set_why(why, why_len,
			     "bundle entry: label length %zu, %zu bytes follow",
			     lab, len - E_FIXED);
		return MGR_SEAL_E_BODY;
	}
	for (unsigned s = 0; s < MGR_STATE_NAMES; s++) {
		const uint8_t *q = p + E_OFF_STATE + s * E_REF_LEN;
		struct mgr_state_ref *r = &e->state[s];
		uint32_t sf = vtpm_get_le32(q + 24);

		r->generation = vtpm_get_le64(q);
		memcpy(r->tag, q + 8, MGR_TAG_LEN);
		r->present = sf & REF_F_PRESENT;
		if ((sf & ~REF_F_PRESENT) || vtpm_get_le32(q + 28) ||
		    (r->present && !r->generation) ||
		    (!r->present && !all_zero(r->tag, MGR_TAG_LEN))) {
			vtpm_set_why(why, why_len,
				     "bundle entry: state %s reference invalid",
				     names[s]);
			return MGR_SEAL_E_BODY;
		}
	}
	if (!label_ok(p + E_FIXED, lab)) {
		vtpm_set_why(why, why_len, "bundle entry: label invalid");
		return MGR_SEAL_E_BODY;
	}
	memcpy(e->label, p + E_FIXED, lab);
	e->label[lab] = '\0';
	return MGR_SEAL_OK;
}

/* -------------------------------------------------------------- bundle */

enum mgr_seal_err mgr_bundle_seal(const struct mgr_ident *source,
				  const struct mgr_uuid *source_manager,
				  const uint8_t *dest_spki, size_t dest_len,
				  const struct mgr_inst *inst, uint8_t **out,
				  size_t *out_len, char *why, size_t why_len)
{
	return mgr_bundle_seal_eks(source, source_manager, dest_spki, dest_len,
				   inst, NULL, 0, out, out_len, why, why_len);
}

enum mgr_seal_err mgr_bundle_seal_eks(
	const struct mgr_ident *source, const struct mgr_uuid *source_manager,
	const uint8_t *dest_spki, size_t dest_len, const struct mgr_inst *inst,
	const uint8_t (*ek_hash)[32], uint32_t ek_count, uint8_t **out,
	size_t *out_len, char *why, size_t why_len)
{
	uint8_t key[MGR_KEY_LEN], plain[E2_MAX], *b = NULL;
	uint8_t dest_fpr[MGR_FPR_LEN], pt[POINT_LEN];
	enum mgr_seal_err ret;
	EVP_PKEY *dest = NULL, *eph = NULL;
	size_t lab, ct_len, total, ptlen = 0;

	vtpm_set_why(why, why_len, "%s", "");
	if (!source || !source_manager || !dest_spki || !inst || !out ||
	    !out_len || ek_count > MGR_BUNDLE_EK_MAX || (ek_count && !ek_hash))
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	*out_len = 0;
	lab = strnlen(inst->label, MGR_LABEL_MAX + 1);
	if (!label_ok((const uint8_t *)inst->label, lab) ||
	    (inst->flags & ~MGR_INST_F_ALL)) {
		vtpm_set_why(why, why_len, "instance entry invalid");
		return MGR_SEAL_E_INVAL;
	}
	for (unsigned s = 0; s < MGR_STATE_NAMES; s++) {
		const struct mgr_state_ref *r = &inst->state[s];

		if ((r->present && !r->generation) ||
		    (!r->present && !all_zero(r->tag, MGR_TAG_LEN))) {
			vtpm_set_why(why, why_len, "instance state %u invalid",
				     s + 1);
			return MGR_SEAL_E_INVAL;
		}
	}
	ret = spki_decode(dest_spki, dest_len, &dest, why, why_len);
	if (ret)
		return ret;
	ret = sha256(dest_spki, dest_len, dest_fpr);
	if (ret)
		goto out;
	if (!memcmp(dest_fpr, source->fpr, MGR_FPR_LEN)) {
		vtpm_set_why(why, why_len,
			     "the destination is this manager itself");
		ret = MGR_SEAL_E_INVAL;
		goto out;
	}
	ret = MGR_SEAL_E_CRYPTO;
	eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!eph ||
	    EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, pt,
					    sizeof(pt), &ptlen) != 1 ||
	    ptlen != POINT_LEN || pt[0] != 0x04)
		goto out;
	for (uint32_t i = 0; i < ek_count; i++)
		for (uint32_t k = 0; k < i; k++)
			if (!memcmp(ek_hash[i], ek_hash[k], EK_LEN)) {
				vtpm_set_why(why, why_len,
					     "EK digest %u repeats %u", i, k);
				ret = MGR_SEAL_E_INVAL;
				goto out;
			}
	ct_len = E_FIXED + lab + 4 + (size_t)ek_count * EK_LEN;
	total = B_HDR_LEN + ct_len + MGR_TAG_LEN + SIG_LEN;
	b = calloc(1, total);
	if (!b) {
		ret = MGR_SEAL_E_NOMEM;
		goto out;
	}
	vtpm_put_le32(b + B_OFF_MAGIC, B_MAGIC);
	vtpm_put_le16(b + B_OFF_VER, B_VERSION);
	memcpy(b + B_OFF_MANAGER, source_manager->b, MGR_UUID_LEN);
	memcpy(b + B_OFF_DESTFPR, dest_fpr, MGR_FPR_LEN);
	memcpy(b + B_OFF_SRCSPKI, source->spki, SPKI_LEN);
	memcpy(b + B_OFF_EPH, pt, POINT_LEN);
	if (RAND_bytes(b + B_OFF_NONCE, MGR_NONCE_LEN) != 1)
		goto out;
	vtpm_put_le32(b + B_OFF_CTLEN, (uint32_t)ct_len);
	ret = bundle_key(eph, dest, pt, dest_fpr, key);
	if (ret)
		goto out;
	entry_encode(inst, lab, plain);
	vtpm_put_le32(plain + E_FIXED + lab, ek_count);
	for (uint32_t i = 0; i < ek_count; i++)
		memcpy(plain + E_FIXED + lab + 4 + i * EK_LEN, ek_hash[i],
		       EK_LEN);
	ret = gcm(true, key, b + B_OFF_NONCE, b, B_HDR_LEN, plain, ct_len,
		  b + B_HDR_LEN, b + B_HDR_LEN + ct_len);
	if (!ret)
		ret = sign(source->pkey, b, B_HDR_LEN + ct_len + MGR_TAG_LEN,
			   b + B_HDR_LEN + ct_len + MGR_TAG_LEN);
	if (ret)
		goto out;
	*out = b;
	*out_len = total;
	b = NULL;
out:
	if (ret && why && !*why)
		vtpm_set_why(why, why_len, "sealing the bundle failed: %s",
			     mgr_seal_strerror(ret));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(plain, sizeof(plain));
	EVP_PKEY_free(dest);
	EVP_PKEY_free(eph);
	free(b);
	return ret;
}

/* The structure of a bundle, without keys: the first rule broken wins. */
static enum mgr_seal_err bundle_parse(const uint8_t *b, size_t len,
				      size_t *ct_len, char *why, size_t why_len)
{
	size_t want, max;
	unsigned ver;

	if (len < B_HDR_LEN) {
		vtpm_set_why(
			why, why_len,
			"bundle: %zu bytes, shorter than its %u-byte header",
			len, B_HDR_LEN);
		return MGR_SEAL_E_TRUNCATED;
	}
	if (vtpm_get_le32(b + B_OFF_MAGIC) != B_MAGIC) {
		vtpm_set_why(why, why_len,
			     "bundle: bad magic (not a migration "
			     "bundle)");
		return MGR_SEAL_E_MAGIC;
	}
	ver = vtpm_get_le16(b + B_OFF_VER);
	if (ver < MGR_BUNDLE_VERSION_MIN || ver > MGR_BUNDLE_VERSION) {
		vtpm_set_why(why, why_len, "bundle: version %u, we read %u..%u",
			     ver, MGR_BUNDLE_VERSION_MIN, MGR_BUNDLE_VERSION);
		return MGR_SEAL_E_VERSION;
	}
	if (vtpm_get_le16(b + B_OFF_RSVD) || vtpm_get_le32(b + B_OFF_RSVD2)) {
		vtpm_set_why(why, why_len, "bundle: reserved field not zero");
		return MGR_SEAL_E_RESERVED;
	}
	*ct_len = vtpm_get_le32(b + B_OFF_CTLEN);
	max = ver == 1 ? E_MAX : E2_MAX;
	if (*ct_len > max) {
		vtpm_set_why(why, why_len,
			     "bundle: ciphertext length %zu over %zu", *ct_len,
			     max);
		return MGR_SEAL_E_TOO_BIG;
	}
	want = B_HDR_LEN + *ct_len + MGR_TAG_LEN + SIG_LEN;
	if (len != want) {
		vtpm_set_why(why, why_len,
			     "bundle: %zu bytes, its lengths say %zu", len,
			     want);
		return len < want ? MGR_SEAL_E_TRUNCATED : MGR_SEAL_E_TRAILING;
	}
	return MGR_SEAL_OK;
}

/* The signer's key, the expected signer, the signature: everything a
 * bundle says that needs no private key.  *src owned by the caller. */
static enum mgr_seal_err bundle_signed(const uint8_t *buf, size_t ct_len,
				       const uint8_t *expect_source_spki,
				       size_t expect_len, EVP_PKEY **src,
				       char *why, size_t why_len)
{
	enum mgr_seal_err ret;
	size_t signed_len = B_HDR_LEN + ct_len + MGR_TAG_LEN;
	char a[17];

	*src = NULL;
	if (spki_decode(buf + B_OFF_SRCSPKI, SPKI_LEN, src, NULL, 0)) {
		vtpm_set_why(
			why, why_len,
			"bundle: the signer's public key is not a valid P-256 "
			"key");
		return MGR_SEAL_E_AUTH;
	}
	if (expect_source_spki &&
	    (expect_len != SPKI_LEN ||
	     memcmp(expect_source_spki, buf + B_OFF_SRCSPKI, SPKI_LEN))) {
		uint8_t f[MGR_FPR_LEN];

		ret = sha256(buf + B_OFF_SRCSPKI, SPKI_LEN, f);
		if (ret)
			return ret;
		hex8(f, a);
		vtpm_set_why(
			why, why_len,
			"bundle: signed by manager %s..., not by the expected "
			"source",
			a);
		return MGR_SEAL_E_AUTH;
	}
	ret = verify(*src, buf, signed_len, buf + signed_len);
	if (ret == MGR_SEAL_E_AUTH)
		vtpm_set_why(
			why, why_len,
			"bundle: the signature does not verify (modified)");
	return ret;
}

enum mgr_seal_err mgr_bundle_verify(const uint8_t *buf, size_t len,
				    const uint8_t *expect_source_spki,
				    size_t expect_len,
				    struct mgr_bundle_info *out, char *why,
				    size_t why_len)
{
	enum mgr_seal_err ret;
	EVP_PKEY *src = NULL;
	size_t ct_len = 0;

	vtpm_set_why(why, why_len, "%s", "");
	if (!buf || !out || (expect_source_spki && !expect_len))
		return MGR_SEAL_E_INVAL;
	memset(out, 0, sizeof(*out));
	ret = bundle_parse(buf, len, &ct_len, why, why_len);
	if (!ret)
		ret = bundle_signed(buf, ct_len, expect_source_spki, expect_len,
				    &src, why, why_len);
	if (!ret)
		ret = sha256(buf + B_OFF_SRCSPKI, SPKI_LEN, out->source_fpr);
	if (!ret) {
		out->version = vtpm_get_le16(buf + B_OFF_VER);
		memcpy(out->source_manager.b, buf + B_OFF_MANAGER,
		       MGR_UUID_LEN);
		memcpy(out->dest_fpr, buf + B_OFF_DESTFPR, MGR_FPR_LEN);
	} else {
		memset(out, 0, sizeof(*out));
	}
	EVP_PKEY_free(src);
	return ret;
}

enum mgr_seal_err
mgr_bundle_open(const struct mgr_ident *dest, const uint8_t *buf, size_t len,
		const uint8_t *expect_source_spki, size_t expect_len,
		struct mgr_bundle_info *out, char *why, size_t why_len)
{
	uint8_t key[MGR_KEY_LEN], plain[E2_MAX], tag[MGR_TAG_LEN];
	char a[17], b[17];
	enum mgr_seal_err ret;
	EVP_PKEY *src = NULL, *eph = NULL;
	size_t ct_len = 0, elen;
	uint16_t ver;

	vtpm_set_why(why, why_len, "%s", "");
	if (!dest || !buf || !out || (expect_source_spki && !expect_len))
		return MGR_SEAL_E_INVAL;
	memset(out, 0, sizeof(*out));
	ret = bundle_parse(buf, len, &ct_len, why, why_len);
	if (ret)
		return ret;
	if (memcmp(buf + B_OFF_DESTFPR, dest->fpr, MGR_FPR_LEN)) {
		hex8(buf + B_OFF_DESTFPR, a);
		hex8(dest->fpr, b);
		vtpm_set_why(why, why_len,
			     "bundle: made for manager %s..., this is %s...", a,
			     b);
		return MGR_SEAL_E_INSTANCE;
	}
	/* The signature, before anything inside is believed. */
	ret = bundle_signed(buf, ct_len, expect_source_spki, expect_len, &src,
			    why, why_len);
	if (ret)
		goto out;
	if (point_decode(buf + B_OFF_EPH, &eph)) {
		vtpm_set_why(
			why, why_len,
			"bundle: the ephemeral key is not a valid P-256 point");
		ret = MGR_SEAL_E_AUTH;
		goto out;
	}
	ret = bundle_key(dest->pkey, eph, buf + B_OFF_EPH, dest->fpr, key);
	if (ret)
		goto out;
	memcpy(tag, buf + B_HDR_LEN + ct_len, MGR_TAG_LEN);
	ret = gcm(false, key, buf + B_OFF_NONCE, buf, B_HDR_LEN,
		  buf + B_HDR_LEN, ct_len, plain, tag);
	if (ret) {
		if (ret == MGR_SEAL_E_AUTH)
			vtpm_set_why(
				why, why_len,
				"bundle: decryption failed (not encrypted to "
				"this manager's key, or modified)");
		goto out;
	}
	/* Version 1: the entry is all of it.  Version 2: the entry (its
	 * label length says where it ends), then the EK digests. */
	ver = vtpm_get_le16(buf + B_OFF_VER);
	elen = ct_len;
	if (ver >= 2) {
		if (ct_len < E_FIXED + 1) {
			vtpm_set_why(why, why_len,
				     "bundle entry: %zu bytes, too short",
				     ct_len);
			ret = MGR_SEAL_E_BODY;
			goto out;
		}
		elen = E_FIXED + vtpm_get_le16(plain + E_OFF_LABLEN);
		if (elen > ct_len)
			elen = ct_len; /* entry_decode names the mismatch */
	}
	ret = entry_decode(plain, elen, &out->inst, why, why_len);
	if (!ret && ver >= 2)
		ret = eks_decode(plain + elen, ct_len - elen, out, why,
				 why_len);
	if (ret)
		goto out;
	out->version = ver;
	memcpy(out->source_manager.b, buf + B_OFF_MANAGER, MGR_UUID_LEN);
	memcpy(out->dest_fpr, dest->fpr, MGR_FPR_LEN);
	ret = sha256(buf + B_OFF_SRCSPKI, SPKI_LEN, out->source_fpr);
out:
	if (ret)
		OPENSSL_cleanse(out, sizeof(*out));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(plain, sizeof(plain));
	EVP_PKEY_free(src);
	EVP_PKEY_free(eph);
	return ret;
}
