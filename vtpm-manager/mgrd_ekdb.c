/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_ekdb.c - the EK publics the key holder certified, per instance:
 * what DEEP_QUOTE may bind to the platform.
 *
 * File (host order, this host's only):
 *   magic "HVEK" u32 | version u32 (1) | count u32 |
 *   count x {uuid[16] sha256(TPM2B_PUBLIC)[32]} | HMAC-SHA256[32]
 * The MAC key is HKDF-SHA256(root enc key, info "hvsec mgrd ek-certified
 * v1"): only the holder of the root key makes a file it accepts.  The
 * hashes are not secret.  Replaced atomically (temporary, fsync, rename)
 * and durably: either with its own fsync of the directory, or - what the
 * key holder does for EKs it certified or imported - left to the root
 * commit that follows in the same batch, whose first step fsyncs this
 * same directory before its commit point (mgr_seal.h), so a NEW instance
 * costs one durable manager write, not two (docs/vtpm-manager.md).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "vtpm-manager/mgrd.h"

#define EKDB_MAGIC   0x4b455648u /* "HVEK" */
#define EKDB_VERSION 1u
#define EKDB_HDR     12u
#define EKDB_ENTRY   48u
#define EKDB_MAC     32u
static_assert(sizeof(struct mgrd_ekdb_entry) == EKDB_ENTRY, "entry");

static int derive(const uint8_t enc[MGR_KEY_LEN], uint8_t out[32])
{
	static const char info[] = "hvsec mgrd ek-certified v1";

	return mgr_hkdf_sha256(enc, MGR_KEY_LEN, info, sizeof(info) - 1, out)
		       ? -EIO
		       : 0;
}

static int mac(const struct mgrd_ekdb *db, const uint8_t *buf, size_t len,
	       uint8_t out[EKDB_MAC])
{
	unsigned n = 0;

	if (!HMAC(EVP_sha256(), db->mac_key, sizeof(db->mac_key), buf, len, out,
		  &n) ||
	    n != EKDB_MAC)
		return -EIO;
	return 0;
}

/* sync_dir false: the caller's next durable write to the same directory
 * makes the rename durable (see the top of the file). */
static int save(struct mgrd_ekdb *db, bool sync_dir, char *why, size_t why_len)
{
	size_t len = EKDB_HDR + (size_t)db->count * EKDB_ENTRY + EKDB_MAC;
	uint32_t hdr[3] = {EKDB_MAGIC, EKDB_VERSION, db->count};
	char tmp[sizeof(db->path) + 8], dir[sizeof(db->path)];
	uint8_t *buf = malloc(len);
	int fd = -1, ret = -EIO;

	if (!buf) {
		snprintf(why, why_len, "%s: out of memory", db->path);
		return -ENOMEM;
	}
	memcpy(buf, hdr, EKDB_HDR);
	if (db->count)
		memcpy(buf + EKDB_HDR, db->e, (size_t)db->count * EKDB_ENTRY);
	if (mac(db, buf, len - EKDB_MAC, buf + len - EKDB_MAC)) {
		snprintf(why, why_len, "%s: HMAC failed", db->path);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", db->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0) {
		ret = -errno;
		snprintf(why, why_len, "writing %s: %s", tmp,
			 mgrd_strerror(ret));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, db->path) < 0) {
		ret = -errno;
		snprintf(why, why_len, "renaming %s: %s", tmp,
			 mgrd_strerror(ret));
		goto out;
	}
	if (!sync_dir) {
		ret = 0;
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", db->path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		ret = -errno;
		snprintf(why, why_len, "fsync of the directory of %s: %s",
			 db->path, mgrd_strerror(ret));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp);
	free(buf);
	return ret;
}

int mgrd_ekdb_open(struct mgrd_ekdb *db, const char *path,
		   const struct mgr_root_keys *keys, char *why, size_t why_len)
{
	uint8_t *buf = NULL, m[EKDB_MAC];
	uint32_t hdr[3];
	struct stat st;
	size_t len;
	int fd, ret = -EBADMSG;

	memset(db, 0, sizeof(*db));
	if (snprintf(db->path, sizeof(db->path), "%s", path) >=
	    (int)sizeof(db->path)) {
		snprintf(why, why_len, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	if (derive(keys->enc, db->mac_key)) {
		snprintf(why, why_len, "HKDF failed");
		return -EIO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s: %s", path, mgrd_strerror(ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < EKDB_HDR + EKDB_MAC ||
	    st.st_size >
		    EKDB_HDR + (off_t)MGRD_EKDB_MAX * EKDB_ENTRY + EKDB_MAC) {
		snprintf(why, why_len, "%s: not a file of ours (%lld bytes)",
			 path, (long long)st.st_size);
		goto out;
	}
	len = (size_t)st.st_size;
	buf = malloc(len);
	if (!buf || read(fd, buf, len) != (ssize_t)len) {
		ret = buf ? -EIO : -ENOMEM;
		snprintf(why, why_len, "reading %s failed", path);
		goto out;
	}
	if (mac(db, buf, len - EKDB_MAC, m) ||
	    CRYPTO_memcmp(m, buf + len - EKDB_MAC, EKDB_MAC)) {
		snprintf(why, why_len,
			 "%s: not authentic (HMAC under the root key)", path);
		goto out;
	}
	memcpy(hdr, buf, EKDB_HDR);
	if (hdr[0] != EKDB_MAGIC || hdr[1] != EKDB_VERSION ||
	    hdr[2] > MGRD_EKDB_MAX ||
	    len != EKDB_HDR + (size_t)hdr[2] * EKDB_ENTRY + EKDB_MAC) {
		snprintf(why, why_len, "%s: malformed", path);
		goto out;
	}
	if (hdr[2]) {
		db->e = malloc((size_t)hdr[2] * EKDB_ENTRY);
		if (!db->e) {
			ret = -ENOMEM;
			snprintf(why, why_len, "out of memory");
			goto out;
		}
		memcpy(db->e, buf + EKDB_HDR, (size_t)hdr[2] * EKDB_ENTRY);
	}
	db->count = db->cap = db->saved = hdr[2];
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

void mgrd_ekdb_close(struct mgrd_ekdb *db)
{
	free(db->e);
	OPENSSL_cleanse(db->mac_key, sizeof(db->mac_key));
	memset(db, 0, sizeof(*db));
}

bool mgrd_ekdb_has(const struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		   const uint8_t hash[32])
{
	for (uint32_t i = 0; i < db->count; i++)
		if (!memcmp(&db->e[i].uuid, uuid, sizeof(*uuid)) &&
		    !memcmp(db->e[i].hash, hash, 32))
			return true;
	return false;
}

int mgrd_ekdb_put(struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		  const uint8_t hash[32], char *why, size_t why_len)
{
	if (mgrd_ekdb_has(db, uuid, hash))
		return 0;
	if (db->count >= MGRD_EKDB_MAX) {
		snprintf(why, why_len, "%s: full (%u EKs)", db->path,
			 MGRD_EKDB_MAX);
		return -ENOSPC;
	}
	if (db->count == db->cap) {
		uint32_t cap = db->cap ? db->cap * 2 : 16;
		void *n = realloc(db->e, (size_t)cap * EKDB_ENTRY);

		if (!n) {
			snprintf(why, why_len, "out of memory");
			return -ENOMEM;
		}
		db->e = n;
		db->cap = cap;
	}
	db->e[db->count].uuid = *uuid;
	memcpy(db->e[db->count].hash, hash, 32);
	db->count++;
	return 0;
}

int mgrd_ekdb_flush(struct mgrd_ekdb *db, bool sync_dir, char *why,
		    size_t why_len)
{
	int ret;

	if (db->saved == db->count && !db->stale)
		return 0;
	ret = save(db, sync_dir, why, why_len);
	if (ret) {
		db->count = db->saved; /* not certified as far as anyone
					* knows: put appends, so the unsaved
					* ones are the tail */
	} else {
		db->saved = db->count;
		db->stale = false;
	}
	return ret;
}

int mgrd_ekdb_add(struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		  const uint8_t hash[32], char *why, size_t why_len)
{
	int ret = mgrd_ekdb_put(db, uuid, hash, why, why_len);

	return ret ? ret : mgrd_ekdb_flush(db, true, why, why_len);
}

uint32_t mgrd_ekdb_list(const struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
			uint8_t (*out)[32], uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < db->count && n < max; i++)
		if (!memcmp(&db->e[i].uuid, uuid, sizeof(*uuid)))
			memcpy(out[n++], db->e[i].hash, 32);
	return n;
}

int mgrd_ekdb_forget(struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		     char *why, size_t why_len)
{
	uint32_t o = 0;
	int ret;

	for (uint32_t i = 0; i < db->count; i++)
		if (memcmp(&db->e[i].uuid, uuid, sizeof(*uuid)))
			db->e[o++] = db->e[i];
	if (o == db->count)
		return 0;
	db->count = o;
	ret = save(db, true, why, why_len);
	/* Failed: memory stays the truth (the entries are gone for DEEP_
	 * QUOTE) and the next flush writes it. */
	db->stale = ret != 0;
	db->saved = db->count;
	return ret;
}
