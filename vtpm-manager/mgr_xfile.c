/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_xfile.c - the export file of a migrated instance (mgr_xfile.h,
 * docs/formats.md §8.3): little-endian, like the other manager formats.
 *
 *   0  magic u32 | 4 version u16 | 6 reserved u16 | 8 uuid[16] |
 *   24 bundle length u32 | 28 count u8 | 29 reserved[3] | 32 bundle |
 *   count x {name u8, variant u8, reserved u16, length u32, blob} |
 *   SHA-256 of everything before it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_xfile.h"

static bool sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
	       len == 32;
}

void mgr_xfile_blob_name(const struct mgr_xfile_blob *b, char *out, size_t len)
{
	const char *s = mgr_state_name_str(b->name);

	snprintf(out, len, "%s%s", s ? s : "?", b->pending ? ".new" : "");
}

enum mgr_seal_err mgr_xfile_blob_check(const struct mgr_uuid *uuid,
				       const struct mgr_xfile_blob *b,
				       char *why, size_t why_len)
{
	struct mgr_blob_hdr h;
	enum mgr_seal_err e;
	char fname[32];

	mgr_xfile_blob_name(b, fname, sizeof(fname));
	e = mgr_blob_parse(b->data, b->len, &h);
	if (e) {
		vtpm_set_why(why, why_len, "%s: not a sealed state blob: %s",
			     fname, mgr_seal_strerror(e));
		return e;
	}
	if (memcmp(h.uuid.b, uuid->b, MGR_UUID_LEN)) {
		vtpm_set_why(why, why_len,
			     "%s: the blob belongs to another "
			     "instance",
			     fname);
		return MGR_SEAL_E_INSTANCE;
	}
	if (h.name != b->name) {
		vtpm_set_why(why, why_len, "%s: the blob holds another state",
			     fname);
		return MGR_SEAL_E_WRONG_NAME;
	}
	return MGR_SEAL_OK;
}

/* The files' order: (name, pending) strictly ascending. */
static unsigned order_key(const struct mgr_xfile_blob *b)
{
	return (unsigned)b->name * 2u + (b->pending ? 1u : 0u);
}

enum mgr_seal_err mgr_xfile_encode(const struct mgr_xfile *x, uint8_t **out,
				   size_t *out_len)
{
	size_t total, off;
	unsigned prev = 0;
	uint8_t *b;

	if (!x || !out || !out_len || !x->bundle || !x->bundle_len ||
	    x->bundle_len > MGR_BUNDLE_MAX || x->n > MGR_XFILE_FILES_MAX)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	*out_len = 0;
	total = MGR_XFILE_HDR_LEN + x->bundle_len + MGR_XFILE_DIGEST;
	for (unsigned i = 0; i < x->n; i++) {
		const struct mgr_xfile_blob *f = &x->f[i];

		if (order_key(f) <= prev || f->len > MGR_XFILE_BLOB_MAX ||
		    mgr_xfile_blob_check(&x->uuid, f, NULL, 0))
			return MGR_SEAL_E_INVAL;
		prev = order_key(f);
		total += MGR_XFILE_ENT_HDR + f->len;
	}
	b = calloc(1, total);
	if (!b)
		return MGR_SEAL_E_NOMEM;
	vtpm_put_le32(b, MGR_XFILE_MAGIC);
	vtpm_put_le16(b + 4, MGR_XFILE_VERSION);
	memcpy(b + 8, x->uuid.b, MGR_UUID_LEN);
	vtpm_put_le32(b + 24, (uint32_t)x->bundle_len);
	b[28] = (uint8_t)x->n;
	memcpy(b + MGR_XFILE_HDR_LEN, x->bundle, x->bundle_len);
	off = MGR_XFILE_HDR_LEN + x->bundle_len;
	for (unsigned i = 0; i < x->n; i++) {
		b[off] = (uint8_t)x->f[i].name;
		b[off + 1] = x->f[i].pending;
		vtpm_put_le32(b + off + 4, (uint32_t)x->f[i].len);
		memcpy(b + off + MGR_XFILE_ENT_HDR, x->f[i].data, x->f[i].len);
		off += MGR_XFILE_ENT_HDR + x->f[i].len;
	}
	if (!sha256(b, off, b + off)) {
		free(b);
		return MGR_SEAL_E_CRYPTO;
	}
	*out = b;
	*out_len = total;
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_xfile_decode(const uint8_t *buf, size_t len,
				   struct mgr_xfile *x, char *why,
				   size_t why_len)
{
	uint8_t digest[32];
	size_t off, end;
	unsigned prev = 0;
	enum mgr_seal_err e;

	vtpm_set_why(why, why_len, "%s", "");
	if (!buf || !x)
		return MGR_SEAL_E_INVAL;
	memset(x, 0, sizeof(*x));
	if (len < MGR_XFILE_HDR_LEN + MGR_XFILE_DIGEST) {
		vtpm_set_why(why, why_len,
			     "%zu bytes: shorter than an export file", len);
		return MGR_SEAL_E_TRUNCATED;
	}
	if (vtpm_get_le32(buf) != MGR_XFILE_MAGIC) {
		vtpm_set_why(why, why_len, "not a vTPM export file (magic)");
		return MGR_SEAL_E_MAGIC;
	}
	if (vtpm_get_le16(buf + 4) != MGR_XFILE_VERSION) {
		vtpm_set_why(why, why_len, "format version %u, this reads %u",
			     vtpm_get_le16(buf + 4), MGR_XFILE_VERSION);
		return MGR_SEAL_E_VERSION;
	}
	if (len > MGR_XFILE_MAX) {
		vtpm_set_why(why, why_len,
			     "%zu bytes: longer than an export file can be",
			     len);
		return MGR_SEAL_E_TOO_BIG;
	}
	end = len - MGR_XFILE_DIGEST;
	if (!sha256(buf, end, digest))
		return MGR_SEAL_E_CRYPTO;
	if (CRYPTO_memcmp(digest, buf + end, MGR_XFILE_DIGEST)) {
		vtpm_set_why(why, why_len,
			     "SHA-256 does not match: the file is "
			     "damaged or modified");
		return MGR_SEAL_E_AUTH;
	}
	if (vtpm_get_le16(buf + 6) || buf[29] || buf[30] || buf[31]) {
		vtpm_set_why(why, why_len, "reserved header bytes not zero");
		return MGR_SEAL_E_RESERVED;
	}
	memcpy(x->uuid.b, buf + 8, MGR_UUID_LEN);
	x->bundle_len = vtpm_get_le32(buf + 24);
	x->n = buf[28];
	if (!x->bundle_len || x->bundle_len > MGR_BUNDLE_MAX ||
	    x->bundle_len > end - MGR_XFILE_HDR_LEN) {
		vtpm_set_why(why, why_len, "bundle length %zu out of range",
			     x->bundle_len);
		e = x->bundle_len > MGR_BUNDLE_MAX ? MGR_SEAL_E_TOO_BIG
						   : MGR_SEAL_E_TRUNCATED;
		goto fail;
	}
	if (x->n > MGR_XFILE_FILES_MAX) {
		vtpm_set_why(why, why_len, "%u state files, at most %u", x->n,
			     MGR_XFILE_FILES_MAX);
		e = MGR_SEAL_E_TOO_BIG;
		goto fail;
	}
	x->bundle = buf + MGR_XFILE_HDR_LEN;
	off = MGR_XFILE_HDR_LEN + x->bundle_len;
	for (unsigned i = 0; i < x->n; i++) {
		struct mgr_xfile_blob *f = &x->f[i];
		const uint8_t *h = buf + off;

		if (end - off < MGR_XFILE_ENT_HDR) {
			vtpm_set_why(why, why_len, "state file %u: truncated",
				     i);
			e = MGR_SEAL_E_TRUNCATED;
			goto fail;
		}
		if (h[0] < MGR_STATE_PERMALL || h[0] > MGR_STATE_SAVESTATE ||
		    h[1] > 1 || vtpm_get_le16(h + 2)) {
			vtpm_set_why(why, why_len,
				     "state file %u: name %u, variant %u or "
				     "reserved invalid",
				     i, h[0], h[1]);
			e = MGR_SEAL_E_BODY;
			goto fail;
		}
		f->name = (enum mgr_state_name)h[0];
		f->pending = h[1];
		f->len = vtpm_get_le32(h + 4);
		if (order_key(f) <= prev) {
			vtpm_set_why(why, why_len,
				     "state file %u: out of order or repeated",
				     i);
			e = MGR_SEAL_E_BODY;
			goto fail;
		}
		prev = order_key(f);
		if (f->len > MGR_XFILE_BLOB_MAX ||
		    f->len > end - off - MGR_XFILE_ENT_HDR) {
			vtpm_set_why(why, why_len,
				     "state file %u: length %zu out of range",
				     i, f->len);
			e = f->len > MGR_XFILE_BLOB_MAX ? MGR_SEAL_E_TOO_BIG
							: MGR_SEAL_E_TRUNCATED;
			goto fail;
		}
		f->data = h + MGR_XFILE_ENT_HDR;
		e = mgr_xfile_blob_check(&x->uuid, f, why, why_len);
		if (e)
			goto fail;
		off += MGR_XFILE_ENT_HDR + f->len;
	}
	if (off != end) {
		vtpm_set_why(why, why_len,
			     "%zu unexplained bytes before the digest",
			     end - off);
		e = MGR_SEAL_E_TRAILING;
		goto fail;
	}
	return MGR_SEAL_OK;
fail:
	memset(x, 0, sizeof(*x));
	return e;
}
