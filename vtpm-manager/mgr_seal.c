/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_seal.c - the instance-state blob and the root record (mgr_seal.h):
 * encoding, strict decoding, AES-256-GCM through OpenSSL EVP, HKDF for
 * the root key's two uses, and the instance table.
 *
 * Every decoder reads through one cursor (struct cur) that carries its
 * bounds, checks sizes without overflow and never advances on failure.
 * Secrets (keys, decrypted tables) are wiped with OPENSSL_cleanse before
 * their memory is released.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "acm/acm.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_seal.h"

static_assert(MGR_LABEL_MAX == ACM_NAME_MAX, "labels are ACM names");
static_assert(MGR_STATE_MAX == VTPM_STATE_MAX, "same state limit");
static_assert(MGR_ROOT_BODY_MAX < (1u << 30), "body length fits u32");

/* ------------------------------------------------------------- layout */

/* State blob header (the AAD), little-endian. */
#define BLOB_OFF_MAGIC	 0
#define BLOB_OFF_VERSION 4
#define BLOB_OFF_NAME	 6
#define BLOB_OFF_RSVD	 7
#define BLOB_OFF_UUID	 8
#define BLOB_OFF_GEN	 24
#define BLOB_OFF_CTLEN	 32
#define BLOB_OFF_NONCE	 36
static_assert(BLOB_OFF_NONCE + MGR_NONCE_LEN == MGR_BLOB_HDR_LEN,
	      "blob header is 48 bytes");

/* Root record header (the AAD). */
#define ROOT_OFF_MAGIC	 0
#define ROOT_OFF_VERSION 4
#define ROOT_OFF_RSVD	 6
#define ROOT_OFF_GEN	 8
#define ROOT_OFF_NV	 16
#define ROOT_OFF_CTLEN	 20
#define ROOT_OFF_MGR	 24
#define ROOT_OFF_NONCE	 40
#define ROOT_OFF_RSVD2	 52
static_assert(ROOT_OFF_RSVD2 + 4 == MGR_ROOT_HDR_LEN,
	      "root header is 56 bytes");

/* Root body: count u32, reserved u32, then entries. */
#define BODY_HDR_LEN	8u
#define ENT_OFF_UUID	0
#define ENT_OFF_KEY	16
#define ENT_OFF_DOMAIN	48
#define ENT_OFF_FLAGS	64
#define ENT_OFF_LABLEN	68
#define ENT_OFF_RSVD	70
#define ENT_OFF_STATE	72
#define STATE_REF_LEN	32u /* gen u64, tag[16], flags u32, reserved u32 */
#define STATE_F_PRESENT 0x1u
static_assert(ENT_OFF_STATE + MGR_STATE_NAMES * STATE_REF_LEN ==
		      MGR_ROOT_ENTRY_FIXED,
	      "entry fixed part is 168 bytes");

/* ------------------------------------------------------------- errors */

static const char *const err_text[MGR_SEAL_E_COUNT_] = {
	[MGR_SEAL_OK] = "success",
	[MGR_SEAL_E_INVAL] = "invalid argument",
	[MGR_SEAL_E_NOMEM] = "out of memory",
	[MGR_SEAL_E_CRYPTO] = "cryptographic library failure",
	[MGR_SEAL_E_TRUNCATED] = "truncated",
	[MGR_SEAL_E_TRAILING] = "unexpected bytes after the end",
	[MGR_SEAL_E_MAGIC] = "bad magic (not this kind of file)",
	[MGR_SEAL_E_VERSION] = "unsupported format version",
	[MGR_SEAL_E_RESERVED] = "reserved field not zero",
	[MGR_SEAL_E_NAME] = "unknown state name",
	[MGR_SEAL_E_TOO_BIG] = "length beyond the limit",
	[MGR_SEAL_E_AUTH] = "authentication failed: wrong key or modified data",
	[MGR_SEAL_E_INSTANCE] = "belongs to another instance",
	[MGR_SEAL_E_WRONG_NAME] = "holds another state",
	[MGR_SEAL_E_BODY] = "malformed instance table",
	[MGR_SEAL_E_ROLLBACK] =
		"rollback: older than the committed state (or a fork of it)",
	[MGR_SEAL_E_UNCOMMITTED] =
		"newer than the committed state: a write that never committed",
	[MGR_SEAL_E_NO_RECORD] = "no root record matches the NV counter",
	[MGR_SEAL_E_COUNTER] = "NV counter failed or moved unexpectedly",
	[MGR_SEAL_E_IO] = "I/O error",
	[MGR_SEAL_E_EXISTS] = "a root record already exists",
	[MGR_SEAL_E_FULL] = "instance table full",
	[MGR_SEAL_E_DUPLICATE] = "instance already exists",
	[MGR_SEAL_E_NOT_FOUND] = "not found",
	[MGR_SEAL_E_BINDING] = "root record is bound to another NV counter",
	[MGR_SEAL_E_FAILED] =
		"an earlier commit failed; restart the manager to recover",
};

const char *mgr_seal_strerror(enum mgr_seal_err err)
{
	if ((unsigned)err >= MGR_SEAL_E_COUNT_ || !err_text[err])
		return "unknown error";
	return err_text[err];
}

/* --------------------------------------------------------- state names */

static const char *const state_names[MGR_STATE_NAMES] = {
	"permall",
	"volatilestate",
	"savestate",
};

enum mgr_state_name mgr_state_name_from_str(const char *name)
{
	for (unsigned i = 0; name && i < MGR_STATE_NAMES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (enum mgr_state_name)(i + 1);
	return 0;
}

const char *mgr_state_name_str(enum mgr_state_name name)
{
	if (name < MGR_STATE_PERMALL || name > MGR_STATE_SAVESTATE)
		return NULL;
	return state_names[name - 1];
}

/* ----------------------------------------------------- little-endian */

/* ------------------------------------------------------------- cursor */

/* Bounded reader: take() hands out the next n bytes or fails without
 * moving. */
struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static const uint8_t *take(struct cur *c, size_t n)
{
	const uint8_t *r;

	if (n > c->len - c->off)
		return NULL;
	r = c->p + c->off;
	c->off += n;
	return r;
}

static size_t left(const struct cur *c)
{
	return c->len - c->off;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

/* ------------------------------------------------------------ AES-GCM */

static enum mgr_seal_err gcm_encrypt(const uint8_t key[MGR_KEY_LEN],
				     const uint8_t nonce[MGR_NONCE_LEN],
				     const uint8_t *aad, size_t aad_len,
				     const uint8_t *in, size_t len,
				     uint8_t *out, uint8_t tag[MGR_TAG_LEN])
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	EVP_CIPHER_CTX *ctx;
	int n;

	assert(len <= INT32_MAX && aad_len <= INT32_MAX);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return MGR_SEAL_E_NOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, MGR_NONCE_LEN,
				NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, MGR_TAG_LEN, tag) !=
		    1)
		goto out;
	ret = MGR_SEAL_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* AUTH when the tag does not match; out then holds garbage the caller
 * wipes. */
static enum mgr_seal_err
gcm_decrypt(const uint8_t key[MGR_KEY_LEN], const uint8_t nonce[MGR_NONCE_LEN],
	    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
	    const uint8_t tag[MGR_TAG_LEN], uint8_t *out)
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	uint8_t tagbuf[MGR_TAG_LEN];
	EVP_CIPHER_CTX *ctx;
	int n;

	assert(len <= INT32_MAX && aad_len <= INT32_MAX);
	memcpy(tagbuf, tag, sizeof(tagbuf)); /* ctrl takes a non-const */
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return MGR_SEAL_E_NOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, MGR_NONCE_LEN,
				NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_DecryptUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MGR_TAG_LEN,
				tagbuf) != 1)
		goto out;
	/* Final is where GCM compares the tag (in constant time). */
	ret = EVP_DecryptFinal_ex(ctx, out + len, &n) == 1 ? MGR_SEAL_OK
							   : MGR_SEAL_E_AUTH;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* ------------------------------------------------- instance-state blob */

static void blob_header(uint8_t h[MGR_BLOB_HDR_LEN], enum mgr_state_name name,
			const struct mgr_uuid *uuid, uint64_t gen,
			uint32_t ct_len, const uint8_t nonce[MGR_NONCE_LEN])
{
	vtpm_put_le32(h + BLOB_OFF_MAGIC, MGR_BLOB_MAGIC);
	vtpm_put_le16(h + BLOB_OFF_VERSION, MGR_BLOB_VERSION);
	h[BLOB_OFF_NAME] = (uint8_t)name;
	h[BLOB_OFF_RSVD] = 0;
	memcpy(h + BLOB_OFF_UUID, uuid->b, MGR_UUID_LEN);
	vtpm_put_le64(h + BLOB_OFF_GEN, gen);
	vtpm_put_le32(h + BLOB_OFF_CTLEN, ct_len);
	memcpy(h + BLOB_OFF_NONCE, nonce, MGR_NONCE_LEN);
}

enum mgr_seal_err mgr_blob_seal(const uint8_t key[MGR_KEY_LEN],
				const struct mgr_uuid *uuid,
				enum mgr_state_name name, uint64_t generation,
				const uint8_t *plain, size_t len, uint8_t **out,
				size_t *out_len, uint8_t tag_out[MGR_TAG_LEN])
{
	uint8_t nonce[MGR_NONCE_LEN], *buf;
	enum mgr_seal_err ret;

	if (!out || !out_len)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	*out_len = 0;
	if (!key || !uuid || !mgr_state_name_str(name) || (!plain && len))
		return MGR_SEAL_E_INVAL;
	if (len > MGR_STATE_MAX)
		return MGR_SEAL_E_TOO_BIG;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return MGR_SEAL_E_CRYPTO;
	buf = malloc(MGR_BLOB_OVERHEAD + len);
	if (!buf)
		return MGR_SEAL_E_NOMEM;
	blob_header(buf, name, uuid, generation, (uint32_t)len, nonce);
	ret = gcm_encrypt(key, nonce, buf, MGR_BLOB_HDR_LEN, plain, len,
			  buf + MGR_BLOB_HDR_LEN, buf + MGR_BLOB_HDR_LEN + len);
	if (ret) {
		free(buf);
		return ret;
	}
	if (tag_out)
		memcpy(tag_out, buf + MGR_BLOB_HDR_LEN + len, MGR_TAG_LEN);
	*out = buf;
	*out_len = MGR_BLOB_OVERHEAD + len;
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_blob_parse(const uint8_t *buf, size_t len,
				 struct mgr_blob_hdr *hdr)
{
	struct cur c = {.p = buf, .len = buf ? len : 0};
	const uint8_t *h, *ct, *tag;
	struct mgr_blob_hdr tmp;
	uint32_t ct_len;

	if (!hdr)
		hdr = &tmp;
	memset(hdr, 0, sizeof(*hdr));
	h = take(&c, MGR_BLOB_HDR_LEN);
	if (!h)
		return MGR_SEAL_E_TRUNCATED;
	if (vtpm_get_le32(h + BLOB_OFF_MAGIC) != MGR_BLOB_MAGIC)
		return MGR_SEAL_E_MAGIC;
	if (vtpm_get_le16(h + BLOB_OFF_VERSION) != MGR_BLOB_VERSION)
		return MGR_SEAL_E_VERSION;
	if (h[BLOB_OFF_RSVD] != 0)
		return MGR_SEAL_E_RESERVED;
	if (!mgr_state_name_str((enum mgr_state_name)h[BLOB_OFF_NAME]))
		return MGR_SEAL_E_NAME;
	ct_len = vtpm_get_le32(h + BLOB_OFF_CTLEN);
	if (ct_len > MGR_STATE_MAX)
		return MGR_SEAL_E_TOO_BIG;
	ct = take(&c, ct_len);
	tag = ct ? take(&c, MGR_TAG_LEN) : NULL;
	if (!tag)
		return MGR_SEAL_E_TRUNCATED;
	if (left(&c))
		return MGR_SEAL_E_TRAILING;
	hdr->version = MGR_BLOB_VERSION;
	hdr->name = (enum mgr_state_name)h[BLOB_OFF_NAME];
	memcpy(hdr->uuid.b, h + BLOB_OFF_UUID, MGR_UUID_LEN);
	hdr->generation = vtpm_get_le64(h + BLOB_OFF_GEN);
	hdr->ct_len = ct_len;
	memcpy(hdr->nonce, h + BLOB_OFF_NONCE, MGR_NONCE_LEN);
	memcpy(hdr->tag, tag, MGR_TAG_LEN);
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_blob_open(const uint8_t key[MGR_KEY_LEN],
				const uint8_t *buf, size_t len,
				const struct mgr_uuid *uuid,
				enum mgr_state_name name, uint8_t **plain,
				size_t *plain_len, struct mgr_blob_hdr *hdr)
{
	struct mgr_blob_hdr h;
	enum mgr_seal_err ret;
	uint8_t *out;

	if (!plain || !plain_len)
		return MGR_SEAL_E_INVAL;
	*plain = NULL;
	*plain_len = 0;
	if (hdr)
		memset(hdr, 0, sizeof(*hdr));
	if (!key || !uuid || !mgr_state_name_str(name))
		return MGR_SEAL_E_INVAL;
	ret = mgr_blob_parse(buf, len, &h);
	if (ret)
		return ret;
	if (memcmp(h.uuid.b, uuid->b, MGR_UUID_LEN) != 0)
		return MGR_SEAL_E_INSTANCE;
	if (h.name != name)
		return MGR_SEAL_E_WRONG_NAME;
	out = malloc(h.ct_len ? h.ct_len : 1);
	if (!out)
		return MGR_SEAL_E_NOMEM;
	ret = gcm_decrypt(key, h.nonce, buf, MGR_BLOB_HDR_LEN,
			  buf + MGR_BLOB_HDR_LEN, h.ct_len, h.tag, out);
	if (ret) {
		OPENSSL_cleanse(out, h.ct_len);
		free(out);
		return ret;
	}
	*plain = out;
	*plain_len = h.ct_len;
	if (hdr)
		*hdr = h;
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_blob_check_committed(const struct mgr_state_ref *ref,
					   const struct mgr_blob_hdr *hdr)
{
	if (!ref || !hdr)
		return MGR_SEAL_E_INVAL;
	if (hdr->generation < ref->generation)
		return MGR_SEAL_E_ROLLBACK;
	if (!ref->present)
		/* Removed (or never written): whatever is left is refused;
		 * older blobs above, anything else was never committed. */
		return MGR_SEAL_E_UNCOMMITTED;
	if (hdr->generation > ref->generation)
		return MGR_SEAL_E_UNCOMMITTED;
	if (CRYPTO_memcmp(hdr->tag, ref->tag, MGR_TAG_LEN) != 0)
		return MGR_SEAL_E_ROLLBACK;
	return MGR_SEAL_OK;
}

/* ---------------------------------------------------------------- HKDF */

enum mgr_seal_err mgr_hkdf_sha256(const uint8_t *ikm, size_t ikm_len,
				  const void *info, size_t info_len,
				  uint8_t out[MGR_KEY_LEN])
{
	enum mgr_seal_err ret = MGR_SEAL_E_CRYPTO;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	EVP_KDF *kdf;

	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	if (!kdf)
		return MGR_SEAL_E_CRYPTO;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						      (void *)ikm, ikm_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						      (void *)info, info_len);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, MGR_KEY_LEN, params) == 1)
		ret = MGR_SEAL_OK;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ret;
}

static enum mgr_seal_err hkdf(const uint8_t key[MGR_KEY_LEN], const char *info,
			      uint8_t out[MGR_KEY_LEN])
{
	return mgr_hkdf_sha256(key, MGR_KEY_LEN, info, strlen(info), out);
}

enum mgr_seal_err mgr_root_derive_keys(const uint8_t root_key[MGR_KEY_LEN],
				       struct mgr_root_keys *out)
{
	enum mgr_seal_err ret;

	if (!root_key || !out)
		return MGR_SEAL_E_INVAL;
	ret = hkdf(root_key, "hvsec vtpm-manager root record v1", out->enc);
	if (!ret)
		ret = hkdf(root_key, "hvsec vtpm-manager nv counter auth v1",
			   out->counter_auth);
	if (ret)
		mgr_root_keys_wipe(out);
	return ret;
}

void mgr_root_keys_wipe(struct mgr_root_keys *keys)
{
	if (keys)
		OPENSSL_cleanse(keys, sizeof(*keys));
}

/* -------------------------------------------------------------- table */

void mgr_root_init(struct mgr_root *root, const struct mgr_uuid *manager,
		   uint32_t nv_index)
{
	if (!root)
		return;
	memset(root, 0, sizeof(*root));
	if (manager)
		root->manager = *manager;
	root->nv_index = nv_index;
}

void mgr_root_free(struct mgr_root *root)
{
	if (!root)
		return;
	if (root->inst) {
		OPENSSL_cleanse(root->inst,
				(size_t)root->cap * sizeof(root->inst[0]));
		free(root->inst);
	}
	root->inst = NULL;
	root->count = root->cap = 0;
}

/* Index of uuid, or of where it would go (*found false). */
static uint32_t lookup(const struct mgr_root *root, const struct mgr_uuid *u,
		       bool *found)
{
	uint32_t lo = 0, hi = root->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(root->inst[mid].uuid.b, u->b, MGR_UUID_LEN);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Grows to hold n entries; the old array is wiped before it is freed
 * (realloc could leave keys behind in freed memory). */
static enum mgr_seal_err reserve(struct mgr_root *root, uint32_t n)
{
	struct mgr_inst *a;
	uint32_t cap;

	if (n <= root->cap)
		return MGR_SEAL_OK;
	cap = root->cap ? root->cap : 8;
	while (cap < n)
		cap = cap > MGR_ROOT_MAX_INSTANCES / 2 ? MGR_ROOT_MAX_INSTANCES
						       : cap * 2;
	a = calloc(cap, sizeof(*a));
	if (!a)
		return MGR_SEAL_E_NOMEM;
	if (root->inst) {
		memcpy(a, root->inst, (size_t)root->count * sizeof(*a));
		OPENSSL_cleanse(root->inst,
				(size_t)root->cap * sizeof(root->inst[0]));
		free(root->inst);
	}
	root->inst = a;
	root->cap = cap;
	return MGR_SEAL_OK;
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

enum mgr_seal_err mgr_root_add(struct mgr_root *root,
			       const struct mgr_uuid *uuid,
			       const struct mgr_uuid *domain, const char *label,
			       uint32_t flags, struct mgr_inst **out)
{
	struct mgr_inst *e;
	enum mgr_seal_err ret;
	uint32_t at;
	bool found;
	size_t n;

	if (out)
		*out = NULL;
	if (!root || !uuid || !domain || !label)
		return MGR_SEAL_E_INVAL;
	n = strnlen(label, MGR_LABEL_MAX + 1);
	if (!label_ok((const uint8_t *)label, n) || (flags & ~MGR_INST_F_ALL))
		return MGR_SEAL_E_INVAL;
	at = lookup(root, uuid, &found);
	if (found)
		return MGR_SEAL_E_DUPLICATE;
	if (root->count >= MGR_ROOT_MAX_INSTANCES)
		return MGR_SEAL_E_FULL;
	ret = reserve(root, root->count + 1);
	if (ret)
		return ret;
	memmove(&root->inst[at + 1], &root->inst[at],
		(size_t)(root->count - at) * sizeof(root->inst[0]));
	e = &root->inst[at];
	memset(e, 0, sizeof(*e));
	if (RAND_bytes(e->key, MGR_KEY_LEN) != 1) {
		memmove(&root->inst[at], &root->inst[at + 1],
			(size_t)(root->count - at) * sizeof(root->inst[0]));
		OPENSSL_cleanse(&root->inst[root->count], sizeof(*e));
		return MGR_SEAL_E_CRYPTO;
	}
	e->uuid = *uuid;
	e->domain = *domain;
	memcpy(e->label, label, n);
	e->flags = flags;
	root->count++;
	if (out)
		*out = e;
	return MGR_SEAL_OK;
}

struct mgr_inst *mgr_root_find(const struct mgr_root *root,
			       const struct mgr_uuid *uuid)
{
	uint32_t at;
	bool found;

	if (!root || !uuid || !root->count)
		return NULL;
	at = lookup(root, uuid, &found);
	return found ? &root->inst[at] : NULL;
}

enum mgr_seal_err mgr_root_remove(struct mgr_root *root,
				  const struct mgr_uuid *uuid)
{
	uint32_t at;
	bool found;

	if (!root || !uuid)
		return MGR_SEAL_E_INVAL;
	if (!root->count)
		return MGR_SEAL_E_NOT_FOUND;
	at = lookup(root, uuid, &found);
	if (!found)
		return MGR_SEAL_E_NOT_FOUND;
	OPENSSL_cleanse(&root->inst[at], sizeof(root->inst[0]));
	memmove(&root->inst[at], &root->inst[at + 1],
		(size_t)(root->count - at - 1) * sizeof(root->inst[0]));
	root->count--;
	OPENSSL_cleanse(&root->inst[root->count], sizeof(root->inst[0]));
	return MGR_SEAL_OK;
}

/* --------------------------------------------------------- root record */

static size_t pad8(size_t n)
{
	return (8 - (n & 7)) & 7;
}

static size_t entry_len(const struct mgr_inst *e)
{
	size_t n = strnlen(e->label, MGR_LABEL_MAX + 1);

	return MGR_ROOT_ENTRY_FIXED + n + pad8(n);
}

static void root_header(uint8_t h[MGR_ROOT_HDR_LEN], const struct mgr_root *r,
			uint32_t ct_len, const uint8_t nonce[MGR_NONCE_LEN])
{
	vtpm_put_le32(h + ROOT_OFF_MAGIC, MGR_ROOT_MAGIC);
	vtpm_put_le16(h + ROOT_OFF_VERSION, MGR_ROOT_VERSION);
	vtpm_put_le16(h + ROOT_OFF_RSVD, 0);
	vtpm_put_le64(h + ROOT_OFF_GEN, r->generation);
	vtpm_put_le32(h + ROOT_OFF_NV, r->nv_index);
	vtpm_put_le32(h + ROOT_OFF_CTLEN, ct_len);
	memcpy(h + ROOT_OFF_MGR, r->manager.b, MGR_UUID_LEN);
	memcpy(h + ROOT_OFF_NONCE, nonce, MGR_NONCE_LEN);
	vtpm_put_le32(h + ROOT_OFF_RSVD2, 0);
}

enum mgr_seal_err mgr_root_encode(const struct mgr_root *root,
				  const struct mgr_root_keys *keys,
				  uint8_t **out, size_t *out_len)
{
	uint8_t nonce[MGR_NONCE_LEN], *body = NULL, *buf = NULL, *p;
	enum mgr_seal_err ret;
	size_t blen = BODY_HDR_LEN;

	if (!out || !out_len)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	*out_len = 0;
	if (!root || !keys || (root->count && !root->inst) ||
	    root->count > MGR_ROOT_MAX_INSTANCES)
		return MGR_SEAL_E_INVAL;
	/* The table must be what the decoder accepts: an encoder that wrote
	 * anything else would lock the manager out of its own record. */
	for (uint32_t i = 0; i < root->count; i++) {
		const struct mgr_inst *e = &root->inst[i];
		size_t n = strnlen(e->label, MGR_LABEL_MAX + 1);

		if (!label_ok((const uint8_t *)e->label, n) ||
		    (e->flags & ~MGR_INST_F_ALL) ||
		    (i && memcmp(root->inst[i - 1].uuid.b, e->uuid.b,
				 MGR_UUID_LEN) >= 0))
			return MGR_SEAL_E_INVAL;
		for (unsigned s = 0; s < MGR_STATE_NAMES; s++)
			if (e->state[s].present && !e->state[s].generation)
				return MGR_SEAL_E_INVAL;
		blen += entry_len(e);
	}
	assert(blen <= MGR_ROOT_BODY_MAX);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return MGR_SEAL_E_CRYPTO;
	body = calloc(1, blen);
	buf = malloc(MGR_ROOT_HDR_LEN + blen + MGR_TAG_LEN);
	ret = MGR_SEAL_E_NOMEM;
	if (!body || !buf)
		goto out;

	vtpm_put_le32(body, root->count);
	p = body + BODY_HDR_LEN;
	for (uint32_t i = 0; i < root->count; i++) {
		const struct mgr_inst *e = &root->inst[i];
		size_t n = strnlen(e->label, MGR_LABEL_MAX + 1);

		memcpy(p + ENT_OFF_UUID, e->uuid.b, MGR_UUID_LEN);
		memcpy(p + ENT_OFF_KEY, e->key, MGR_KEY_LEN);
		memcpy(p + ENT_OFF_DOMAIN, e->domain.b, MGR_UUID_LEN);
		vtpm_put_le32(p + ENT_OFF_FLAGS, e->flags);
		vtpm_put_le16(p + ENT_OFF_LABLEN, (uint16_t)n);
		for (unsigned s = 0; s < MGR_STATE_NAMES; s++) {
			uint8_t *q = p + ENT_OFF_STATE + s * STATE_REF_LEN;
			const struct mgr_state_ref *r = &e->state[s];

			vtpm_put_le64(q, r->generation);
			/* An absent state keeps its generation, never a
			 * tag: the encoding stays canonical. */
			if (r->present)
				memcpy(q + 8, r->tag, MGR_TAG_LEN);
			vtpm_put_le32(q + 24, r->present ? STATE_F_PRESENT : 0);
		}
		memcpy(p + MGR_ROOT_ENTRY_FIXED, e->label, n);
		p += entry_len(e);
	}
	assert((size_t)(p - body) == blen);

	root_header(buf, root, (uint32_t)blen, nonce);
	ret = gcm_encrypt(keys->enc, nonce, buf, MGR_ROOT_HDR_LEN, body, blen,
			  buf + MGR_ROOT_HDR_LEN,
			  buf + MGR_ROOT_HDR_LEN + blen);
	if (ret)
		goto out;
	*out = buf;
	*out_len = MGR_ROOT_HDR_LEN + blen + MGR_TAG_LEN;
	buf = NULL;
out:
	if (body)
		OPENSSL_cleanse(body, blen);
	free(body);
	free(buf);
	return ret;
}

/* The header's structure: everything that can be checked without a key. */
struct root_hdr {
	uint64_t generation;
	uint32_t nv_index;
	uint32_t ct_len;
	struct mgr_uuid manager;
	uint8_t nonce[MGR_NONCE_LEN];
	const uint8_t *ct, *tag;
};

static enum mgr_seal_err root_parse(const uint8_t *buf, size_t len,
				    struct root_hdr *rh)
{
	struct cur c = {.p = buf, .len = buf ? len : 0};
	const uint8_t *h;

	memset(rh, 0, sizeof(*rh));
	h = take(&c, MGR_ROOT_HDR_LEN);
	if (!h)
		return MGR_SEAL_E_TRUNCATED;
	if (vtpm_get_le32(h + ROOT_OFF_MAGIC) != MGR_ROOT_MAGIC)
		return MGR_SEAL_E_MAGIC;
	if (vtpm_get_le16(h + ROOT_OFF_VERSION) != MGR_ROOT_VERSION)
		return MGR_SEAL_E_VERSION;
	if (vtpm_get_le16(h + ROOT_OFF_RSVD) != 0 ||
	    vtpm_get_le32(h + ROOT_OFF_RSVD2) != 0)
		return MGR_SEAL_E_RESERVED;
	rh->ct_len = vtpm_get_le32(h + ROOT_OFF_CTLEN);
	if (rh->ct_len > MGR_ROOT_BODY_MAX)
		return MGR_SEAL_E_TOO_BIG;
	rh->ct = take(&c, rh->ct_len);
	rh->tag = rh->ct ? take(&c, MGR_TAG_LEN) : NULL;
	if (!rh->tag)
		return MGR_SEAL_E_TRUNCATED;
	if (left(&c))
		return MGR_SEAL_E_TRAILING;
	rh->generation = vtpm_get_le64(h + ROOT_OFF_GEN);
	rh->nv_index = vtpm_get_le32(h + ROOT_OFF_NV);
	memcpy(rh->manager.b, h + ROOT_OFF_MGR, MGR_UUID_LEN);
	memcpy(rh->nonce, h + ROOT_OFF_NONCE, MGR_NONCE_LEN);
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_root_peek_generation(const uint8_t *buf, size_t len,
					   uint64_t *generation)
{
	struct root_hdr rh;
	enum mgr_seal_err ret = root_parse(buf, len, &rh);

	if (generation)
		*generation = ret ? 0 : rh.generation;
	return ret;
}

/* The decrypted table, authentic but still checked: a key compromise or
 * an encoder bug must not become memory corruption here. */
static enum mgr_seal_err body_parse(const uint8_t *body, size_t len,
				    struct mgr_root *out, char *why,
				    size_t why_len)
{
	struct cur c = {.p = body, .len = len};
	const uint8_t *h;
	enum mgr_seal_err ret;
	uint32_t count;

	h = take(&c, BODY_HDR_LEN);
	if (!h) {
		vtpm_set_why(why, why_len,
			     "table shorter than its 8-byte header");
		return MGR_SEAL_E_BODY;
	}
	count = vtpm_get_le32(h);
	if (vtpm_get_le32(h + 4) != 0) {
		vtpm_set_why(why, why_len,
			     "table header reserved word not zero");
		return MGR_SEAL_E_BODY;
	}
	/* Each entry takes at least MGR_ROOT_ENTRY_FIXED + 8 bytes, so a
	 * count the body cannot hold is refused before any allocation. */
	if (count > MGR_ROOT_MAX_INSTANCES ||
	    count > left(&c) / (MGR_ROOT_ENTRY_FIXED + 8)) {
		vtpm_set_why(why, why_len, "count %u does not fit the table",
			     count);
		return MGR_SEAL_E_BODY;
	}
	ret = reserve(out, count);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < count; i++) {
		struct mgr_inst *e = &out->inst[i];
		const uint8_t *f, *lab, *pad;
		uint32_t flags;
		uint16_t n;

		f = take(&c, MGR_ROOT_ENTRY_FIXED);
		if (!f) {
			vtpm_set_why(why, why_len, "entry %u truncated", i);
			return MGR_SEAL_E_BODY;
		}
		memcpy(e->uuid.b, f + ENT_OFF_UUID, MGR_UUID_LEN);
		if (i && memcmp(out->inst[i - 1].uuid.b, e->uuid.b,
				MGR_UUID_LEN) >= 0) {
			vtpm_set_why(why, why_len,
				     "entry %u: uuids not strictly ascending",
				     i);
			return MGR_SEAL_E_BODY;
		}
		memcpy(e->key, f + ENT_OFF_KEY, MGR_KEY_LEN);
		memcpy(e->domain.b, f + ENT_OFF_DOMAIN, MGR_UUID_LEN);
		flags = vtpm_get_le32(f + ENT_OFF_FLAGS);
		if (flags & ~MGR_INST_F_ALL) {
			vtpm_set_why(why, why_len,
				     "entry %u: unknown flags 0x%x", i,
				     flags & ~MGR_INST_F_ALL);
			return MGR_SEAL_E_BODY;
		}
		e->flags = flags;
		n = vtpm_get_le16(f + ENT_OFF_LABLEN);
		if (vtpm_get_le16(f + ENT_OFF_RSVD) != 0) {
			vtpm_set_why(why, why_len,
				     "entry %u: reserved not zero", i);
			return MGR_SEAL_E_BODY;
		}
		for (unsigned s = 0; s < MGR_STATE_NAMES; s++) {
			const uint8_t *q =
				f + ENT_OFF_STATE + s * STATE_REF_LEN;
			struct mgr_state_ref *r = &e->state[s];
			uint32_t sf = vtpm_get_le32(q + 24);

			r->generation = vtpm_get_le64(q);
			memcpy(r->tag, q + 8, MGR_TAG_LEN);
			r->present = sf & STATE_F_PRESENT;
			if ((sf & ~STATE_F_PRESENT) || vtpm_get_le32(q + 28) ||
			    (r->present && !r->generation) ||
			    (!r->present && !all_zero(r->tag, MGR_TAG_LEN))) {
				vtpm_set_why(
					why, why_len,
					"entry %u: state %s reference invalid",
					i, state_names[s]);
				return MGR_SEAL_E_BODY;
			}
		}
		lab = take(&c, n);
		if (!lab || !label_ok(lab, n)) {
			vtpm_set_why(why, why_len, "entry %u: label invalid",
				     i);
			return MGR_SEAL_E_BODY;
		}
		memcpy(e->label, lab, n);
		e->label[n] = '\0';
		pad = take(&c, pad8(n));
		if (!pad || !all_zero(pad, pad8(n))) {
			vtpm_set_why(why, why_len, "entry %u: padding invalid",
				     i);
			return MGR_SEAL_E_BODY;
		}
		out->count = i + 1;
	}
	if (left(&c)) {
		vtpm_set_why(why, why_len, "%zu bytes after the last entry",
			     left(&c));
		return MGR_SEAL_E_BODY;
	}
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_root_decode(const uint8_t *buf, size_t len,
				  const struct mgr_root_keys *keys,
				  struct mgr_root *out, char *why,
				  size_t why_len)
{
	enum mgr_seal_err ret;
	uint8_t *body = NULL;
	struct root_hdr rh;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out)
		return MGR_SEAL_E_INVAL;
	mgr_root_init(out, NULL, 0);
	if (!keys)
		return MGR_SEAL_E_INVAL;
	ret = root_parse(buf, len, &rh);
	if (ret) {
		vtpm_set_why(why, why_len, "%s", mgr_seal_strerror(ret));
		return ret;
	}
	body = malloc(rh.ct_len ? rh.ct_len : 1);
	if (!body)
		return MGR_SEAL_E_NOMEM;
	ret = gcm_decrypt(keys->enc, rh.nonce, buf, MGR_ROOT_HDR_LEN, rh.ct,
			  rh.ct_len, rh.tag, body);
	if (ret) {
		vtpm_set_why(why, why_len, "%s", mgr_seal_strerror(ret));
		goto out;
	}
	out->generation = rh.generation;
	out->nv_index = rh.nv_index;
	out->manager = rh.manager;
	ret = body_parse(body, rh.ct_len, out, why, why_len);
out:
	OPENSSL_cleanse(body, rh.ct_len ? rh.ct_len : 1);
	free(body);
	if (ret) {
		mgr_root_free(out);
		mgr_root_init(out, NULL, 0);
	}
	return ret;
}
