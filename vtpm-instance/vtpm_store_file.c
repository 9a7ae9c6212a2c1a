/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_store_file.c - a TPM's NV state as files in one directory, one per
 * libtpms name, each replaced atomically and durably: write ".NAME.tmp"
 * (O_EXCL, O_NOFOLLOW, 0600), fsync it, rename it over NAME, fsync the
 * directory.  A crash leaves either the old or the new file, plus perhaps a
 * temporary that the next store or open removes.
 *
 * File format (little-endian), so that a truncated, foreign or bit-rotten
 * file is refused instead of being handed to libtpms:
 *
 *   off size field
 *     0    4 magic    0x53545648 (the bytes "HVTS")
 *     4    2 version  1 (the only one accepted)
 *     6    2 reserved 0
 *     8    4 length   payload bytes, <= VTPM_STATE_MAX
 *    12    4 crc32    CRC-32 (IEEE 802.3) of the payload
 *    16  len payload  libtpms' blob; nothing may follow it
 *
 * The directory is held with an exclusive flock for as long as the store
 * is open: two TPMs writing one state would destroy it.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

#define STORE_MAGIC    0x53545648u
#define STORE_VERSION  1u
#define STORE_HDR_SIZE 16u

struct store_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint32_t length;
	uint32_t crc32;
};
static_assert(sizeof(struct store_hdr) == STORE_HDR_SIZE, "store header");
static_assert(offsetof(struct store_hdr, length) == 8, "length offset");
static_assert(offsetof(struct store_hdr, crc32) == 12, "crc32 offset");

/* The only names libtpms uses (tpm_nvfilename.h); anything else could be
 * a path. */
static const char *const store_names[] = {
	"permall",
	"volatilestate",
	"savestate",
};

#define TMP_NAME_MAX 32

struct file_store {
	int dirfd; /* O_DIRECTORY, flock'ed; owned */
};

static bool name_ok(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(store_names) / sizeof(store_names[0]);
	     i++)
		if (strcmp(name, store_names[i]) == 0)
			return true;
	return false;
}

static void tmp_name(char *buf, const char *name)
{
	snprintf(buf, TMP_NAME_MAX, ".%s.tmp", name);
}

static uint32_t crc32_ieee(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes; -EBADMSG if the file is shorter or longer
 * than fstat said (it changed under us, which a store never does). */
static int read_exact(int fd, uint8_t *p, size_t len)
{
	uint8_t extra;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		p += n;
		len -= (size_t)n;
	}
	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? 0 : -EBADMSG;
}

static int file_load(void *ctx, const char *name, uint8_t **data, size_t *len)
{
	struct file_store *fs = ctx;
	uint8_t *buf = NULL, *out = NULL;
	uint32_t plen;
	struct stat st;
	size_t size;
	int fd, ret;

	*data = NULL;
	*len = 0;
	if (!name_ok(name))
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted under the name must not hang us; the
	 * type check below refuses it. */
	fd = openat(fs->dirfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	ret = -EBADMSG;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)STORE_HDR_SIZE)
		goto out;
	ret = -EFBIG;
	if (st.st_size > (off_t)(STORE_HDR_SIZE + VTPM_STATE_MAX))
		goto out;
	size = (size_t)st.st_size;
	ret = -ENOMEM;
	buf = malloc(size);
	if (!buf)
		goto out;
	ret = read_exact(fd, buf, size);
	if (ret)
		goto out;

	ret = -EBADMSG;
	plen = vtpm_get_le32(buf + offsetof(struct store_hdr, length));
	if (vtpm_get_le32(buf) != STORE_MAGIC ||
	    vtpm_get_le16(buf + offsetof(struct store_hdr, version)) !=
		    STORE_VERSION ||
	    vtpm_get_le16(buf + offsetof(struct store_hdr, reserved)) != 0 ||
	    plen != size - STORE_HDR_SIZE ||
	    crc32_ieee(buf + STORE_HDR_SIZE, plen) !=
		    vtpm_get_le32(buf + offsetof(struct store_hdr, crc32)))
		goto out;
	ret = -ENOMEM;
	out = malloc(plen ? plen : 1);
	if (!out)
		goto out;
	memcpy(out, buf + STORE_HDR_SIZE, plen);
	*data = out;
	*len = plen;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

static int file_store(void *ctx, const char *name, const uint8_t *data,
		      size_t len)
{
	struct file_store *fs = ctx;
	uint8_t hdr[STORE_HDR_SIZE];
	char tmp[TMP_NAME_MAX];
	int fd = -1, ret;

	if (!name_ok(name) || (!data && len))
		return -EINVAL;
	if (len > VTPM_STATE_MAX)
		return -EFBIG;
	tmp_name(tmp, name);
	/* A temporary left by a crash (or planted: O_EXCL and O_NOFOLLOW
	 * below make sure we write a fresh file of our own). */
	if (unlinkat(fs->dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(fs->dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;

	vtpm_put_le32(hdr, STORE_MAGIC);
	vtpm_put_le16(hdr + offsetof(struct store_hdr, version), STORE_VERSION);
	vtpm_put_le16(hdr + offsetof(struct store_hdr, reserved), 0);
	vtpm_put_le32(hdr + offsetof(struct store_hdr, length), (uint32_t)len);
	vtpm_put_le32(hdr + offsetof(struct store_hdr, crc32),
		      len ? crc32_ieee(data, len) : 0);
	ret = write_all(fd, hdr, sizeof(hdr));
	if (!ret && len)
		ret = write_all(fd, data, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	/* close() can report a delayed write error: it counts. */
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		goto out;
	if (renameat(fs->dirfd, tmp, fs->dirfd, name) < 0) {
		ret = -errno;
		goto out;
	}
	/* The rename itself is durable only once the directory is. */
	if (fsync(fs->dirfd) < 0)
		return -errno;
	return 0;
out:
	unlinkat(fs->dirfd, tmp, 0);
	return ret;
}

static int file_remove(void *ctx, const char *name)
{
	struct file_store *fs = ctx;

	if (!name_ok(name))
		return -EINVAL;
	if (unlinkat(fs->dirfd, name, 0) < 0)
		return -errno;
	if (fsync(fs->dirfd) < 0)
		return -errno;
	return 0;
}

static void file_close(void *ctx)
{
	struct file_store *fs = ctx;

	if (!fs)
		return;
	close(fs->dirfd); /* drops the flock */
	free(fs);
}

static const struct vtpm_store_ops file_ops = {
	.load = file_load,
	.store = file_store,
	.remove = file_remove,
	.close = file_close,
};

/* why names what is wrong, not the directory: the caller has its name
 * and prefixes it ("state directory DIR: in use by another vTPM"). */
static void set_why(char *why, size_t why_len, const char *what, int err)
{
	if (why && why_len)
		snprintf(why, why_len, "%s%s%s", what, err ? ": " : "",
			 err ? strerror(err) : "");
}

int vtpm_store_file_open(struct vtpm_store *st, const char *dir, char *why,
			 size_t why_len)
{
	struct file_store *fs = NULL;
	char tmp[TMP_NAME_MAX];
	struct stat sb;
	int fd, ret;

	if (why && why_len)
		why[0] = '\0';
	if (!st || !dir || !*dir) {
		set_why(why, why_len, "no directory given", 0);
		return -EINVAL;
	}
	st->ops = NULL;
	st->ctx = NULL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_why(why, why_len, "cannot open", errno);
		return ret;
	}
	if (fstat(fd, &sb) < 0) {
		ret = -errno;
		set_why(why, why_len, "cannot stat", errno);
		goto out;
	}
	/* Whoever else can write here can replace the TPM's state. */
	ret = -EPERM;
	if (sb.st_uid != geteuid()) {
		if (why && why_len)
			snprintf(why, why_len,
				 "owned by uid %u, not by us (%u)",
				 (unsigned)sb.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		set_why(why, why_len, "writable by group or others", 0);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		ret = err == EWOULDBLOCK ? -EBUSY : -err;
		if (err == EWOULDBLOCK)
			set_why(why, why_len, "in use by another vTPM", 0);
		else
			set_why(why, why_len, "cannot lock", err);
		goto out;
	}
	/* Leftovers of a store interrupted by a crash are garbage. */
	for (size_t i = 0; i < sizeof(store_names) / sizeof(store_names[0]);
	     i++) {
		tmp_name(tmp, store_names[i]);
		if (unlinkat(fd, tmp, 0) < 0 && errno != ENOENT) {
			ret = -errno;
			set_why(why, why_len, "cannot remove a temporary",
				errno);
			goto out;
		}
	}
	ret = -ENOMEM;
	fs = malloc(sizeof(*fs));
	if (!fs) {
		set_why(why, why_len, "out of memory", 0);
		goto out;
	}
	fs->dirfd = fd;
	st->ops = &file_ops;
	st->ctx = fs;
	return 0;
out:
	close(fd);
	return ret;
}

void vtpm_store_close(struct vtpm_store *st)
{
	if (!st)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st->ctx);
	st->ops = NULL;
	st->ctx = NULL;
}
