/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_store_mgr.c - the NV state of an instance served by the vTPM
 * manager (vtpm.h, "vtpm_store_mgr"; reference/vtpm.md §3, Xen's
 * vtpmmgr): sealed blobs in the instance's own directory, their
 * freshness anchored in the manager's root record.
 *
 * Files, for each libtpms name N (permall, volatilestate, savestate):
 *
 *   N       the committed blob (mgr_blob_seal format, docs/formats.md §6)
 *   N.new   a blob written but perhaps not committed yet
 *
 * A store writes N.new durably, COMMITs it, and only after the manager's
 * OK renames it over N.  The committed blob is therefore always on disk:
 * as N until the commit, as N.new between the commit and the rename.  If
 * the answer to a COMMIT never arrives (the manager or the link died),
 * N.new is kept: the manager may have made it durable, and at the next
 * open the refs tell which file is the committed one.  The rename needs
 * no fsync of its own: either name is found at open, and the next
 * store's fsync of the directory makes it durable anyway.
 *
 * One failed commit fails this store for good (sticky): our refs may no
 * longer be the manager's, so every further write would be refused or,
 * worse, be taken for a fork.  The instance then answers
 * TPM_RC_NV_UNAVAILABLE until it is restarted and OPENs afresh.
 *
 * The plaintext of each state is kept in memory from open (validated
 * then) and after each store, so libtpms' loads at reset do not read
 * back and decrypt what we just wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

#define NAME_MAX_LEN 32
#define ERR_LEN	     320

struct mgr_store {
	int dirfd; /* O_DIRECTORY, flock'ed; owned */
	const struct vtpm_mgr_link *link;
	struct vtpm_mgr_session s; /* key (secret) and refs, kept current */
	uint8_t *plain[MGR_STATE_NAMES]; /* committed plaintext, or NULL */
	size_t plain_len[MGR_STATE_NAMES];
	bool failed;	   /* a commit failed: no more writes */
	char err[ERR_LEN]; /* why the last store failed */
	struct vtpm_store_mgr_stats st;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void account(struct mgr_store *ms, uint64_t t0, uint64_t commit_us)
{
	uint64_t d = now_us() - t0;

	ms->st.writes++;
	ms->st.total_us += d;
	ms->st.commit_us += commit_us;
	if (d > ms->st.max_us)
		ms->st.max_us = d;
}

/* ------------------------------------------------------------- files */

static void new_name(char *buf, const char *name)
{
	snprintf(buf, NAME_MAX_LEN, "%s.new", name);
}

/* Reads a whole blob file (bounded), or -errno (-ENOENT absent). */
static int read_file(int dirfd, const char *name, uint8_t **out, size_t *len)
{
	const size_t max = (size_t)MGR_BLOB_OVERHEAD + MGR_STATE_MAX;
	uint8_t *buf = NULL;
	struct stat st;
	size_t off = 0;
	int fd, rc;

	*out = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	rc = -errno;
	if (fstat(fd, &st) < 0)
		goto out;
	rc = -EBADMSG;
	if (!S_ISREG(st.st_mode))
		goto out;
	rc = -EFBIG;
	if (st.st_size > (off_t)max)
		goto out;
	rc = -ENOMEM;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto out;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EBADMSG;
			goto out;
		}
		off += (size_t)n;
	}
	*out = buf;
	*len = off;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Writes name afresh (never through what another left there) and makes
 * it and its directory entry durable. */
static int write_durable(int dirfd, const char *name, const uint8_t *p,
			 size_t len)
{
	int fd, rc = 0;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dirfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (len && !rc) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
		else {
			p += n;
			len -= (size_t)n;
		}
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && fsync(dirfd) < 0)
		rc = -errno;
	return rc;
}

/* ------------------------------------------------------ open: validate */

static int name_idx(const char *name)
{
	enum mgr_state_name n = mgr_state_name_from_str(name);

	return n ? (int)n - 1 : -1;
}

/* Tries one file as the committed blob of state idx.  0 with the
 * plaintext, or an error: -ENOENT absent, else a mgr_seal error (as a
 * positive code in *seal) with why. */
static int try_blob(struct mgr_store *ms, unsigned idx, const char *file,
		    uint8_t **plain, size_t *plain_len, char *why,
		    size_t why_len)
{
	const struct mgr_state_ref *ref = &ms->s.ref[idx];
	struct mgr_blob_hdr hdr;
	enum mgr_seal_err e;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = read_file(ms->dirfd, file, &buf, &len);
	if (rc) {
		if (rc != -ENOENT)
			vtpm_set_why(why, why_len, "%s: %s", file,
				     strerror(-rc));
		return rc;
	}
	e = mgr_blob_open(ms->s.key, buf, len, &ms->s.uuid, idx + 1, plain,
			  plain_len, &hdr);
	free(buf);
	if (e) {
		vtpm_set_why(why, why_len, "%s: %s", file,
			     mgr_seal_strerror(e));
		return -EBADMSG;
	}
	e = mgr_blob_check_committed(ref, &hdr);
	if (e) {
		vtpm_set_why(why, why_len,
			     "%s: generation %llu, the manager committed "
			     "%llu: %s",
			     file, (unsigned long long)hdr.generation,
			     (unsigned long long)ref->generation,
			     mgr_seal_strerror(e));
		OPENSSL_cleanse(*plain, *plain_len);
		free(*plain);
		*plain = NULL;
		return e == MGR_SEAL_E_ROLLBACK ? -ESTALE : -EBADMSG;
	}
	return 0;
}

static int resolve(struct mgr_store *ms, unsigned idx, char *why,
		   size_t why_len)
{
	const char *name = mgr_state_name_str(idx + 1);
	char nn[NAME_MAX_LEN], w1[ERR_LEN] = "", w2[ERR_LEN] = "";
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	int rc;

	new_name(nn, name);
	if (!ms->s.ref[idx].present) {
		/* Nothing committed (a NEW instance, a removed state): what
		 * lies here is stale or never acknowledged. */
		if ((unlinkat(ms->dirfd, name, 0) < 0 && errno != ENOENT) ||
		    (unlinkat(ms->dirfd, nn, 0) < 0 && errno != ENOENT)) {
			rc = -errno;
			vtpm_set_why(why, why_len, "%s: cannot remove: %s",
				     name, strerror(errno));
			return rc;
		}
		return 0;
	}
	rc = try_blob(ms, idx, name, &plain, &plain_len, w1, sizeof(w1));
	if (rc) {
		int rc2 = try_blob(ms, idx, nn, &plain, &plain_len, w2,
				   sizeof(w2));

		if (rc2) {
			/* The main file's reason is the one to tell. */
			vtpm_set_why(why, why_len,
				     "state %s refused: %s%s%s", name,
				     rc == -ENOENT ? "the committed blob is "
						     "missing"
						   : w1,
				     rc2 != -ENOENT ? "; " : "",
				     rc2 != -ENOENT ? w2 : "");
			return rc == -ENOENT ? -ENOENT : rc;
		}
		/* Committed, then a crash before the rename. */
		if (renameat(ms->dirfd, nn, ms->dirfd, name) < 0 ||
		    fsync(ms->dirfd) < 0) {
			rc = -errno;
			vtpm_set_why(why, why_len, "%s: rename: %s", nn,
				     strerror(errno));
			OPENSSL_cleanse(plain, plain_len);
			free(plain);
			return rc;
		}
	} else if (unlinkat(ms->dirfd, nn, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		vtpm_set_why(why, why_len, "%s: cannot remove: %s", nn,
			     strerror(errno));
		OPENSSL_cleanse(plain, plain_len);
		free(plain);
		return rc;
	}
	ms->plain[idx] = plain;
	ms->plain_len[idx] = plain_len;
	return 0;
}

/* ------------------------------------------------------------- ops */

static void set_cache(struct mgr_store *ms, unsigned idx, uint8_t *p,
		      size_t len)
{
	if (ms->plain[idx]) {
		OPENSSL_cleanse(ms->plain[idx], ms->plain_len[idx]);
		free(ms->plain[idx]);
	}
	ms->plain[idx] = p;
	ms->plain_len[idx] = len;
}

static int mgr_load(void *ctx, const char *name, uint8_t **data, size_t *len)
{
	struct mgr_store *ms = ctx;
	int idx = name_idx(name);
	uint8_t *copy;

	*data = NULL;
	*len = 0;
	if (idx < 0)
		return -EINVAL;
	if (!ms->s.ref[idx].present || !ms->plain[idx])
		return -ENOENT;
	copy = malloc(ms->plain_len[idx] ? ms->plain_len[idx] : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ms->plain[idx], ms->plain_len[idx]);
	*data = copy;
	*len = ms->plain_len[idx];
	return 0;
}

static int fail(struct mgr_store *ms, int rc, const char *what,
		const char *why)
{
	snprintf(ms->err, sizeof(ms->err), "%s: %s", what, why);
	ms->failed = true;
	return rc;
}

static int mgr_store(void *ctx, const char *name, const uint8_t *data,
		     size_t len)
{
	struct mgr_store *ms = ctx;
	int idx = name_idx(name);
	char nn[NAME_MAX_LEN], why[ERR_LEN - 64];
	uint8_t tag[MGR_TAG_LEN], *blob = NULL, *copy = NULL;
	size_t blen = 0;
	uint64_t gen, t0 = now_us(), tc;
	enum mgr_seal_err e;
	int rc;

	if (idx < 0 || (!data && len))
		return -EINVAL;
	if (len > MGR_STATE_MAX)
		return -EFBIG;
	if (ms->failed)
		return -EIO;
	gen = ms->s.ref[idx].generation + 1;
	new_name(nn, name);
	e = mgr_blob_seal(ms->s.key, &ms->s.uuid, idx + 1, gen, data, len,
			  &blob, &blen, tag);
	if (e) {
		/* Not the manager's fault nor ours to retry: no commit was
		 * tried, refs are still in step. */
		snprintf(ms->err, sizeof(ms->err), "%s: sealing: %s", name,
			 mgr_seal_strerror(e));
		return e == MGR_SEAL_E_NOMEM ? -ENOMEM : -EIO;
	}
	copy = malloc(len ? len : 1);
	if (!copy) {
		free(blob);
		return -ENOMEM;
	}
	if (len)
		memcpy(copy, data, len);
	rc = write_durable(ms->dirfd, nn, blob, blen);
	free(blob);
	if (rc) {
		/* Nothing was committed: N is still the committed blob, and
		 * a partial N.new is discarded at the next open. */
		snprintf(ms->err, sizeof(ms->err), "%s: writing %s: %s", name,
			 nn, strerror(-rc));
		goto out;
	}
	tc = now_us();
	rc = vtpm_mgr_commit(ms->link, idx + 1, true, gen, tag, why,
			     sizeof(why));
	tc = now_us() - tc;
	if (rc) {
		/* N.new stays: the commit may have become durable. */
		fail(ms, rc, name, why);
		goto out;
	}
	ms->s.ref[idx].generation = gen;
	ms->s.ref[idx].present = true;
	memcpy(ms->s.ref[idx].tag, tag, MGR_TAG_LEN);
	if (renameat(ms->dirfd, nn, ms->dirfd, name) < 0) {
		/* N.new is the committed blob and the next store would
		 * overwrite it: stop writing. */
		rc = fail(ms, -errno, name, "rename after the commit failed");
		goto out;
	}
	set_cache(ms, idx, copy, len);
	copy = NULL;
	account(ms, t0, tc);
out:
	if (copy) {
		OPENSSL_cleanse(copy, len);
		free(copy);
	}
	return rc;
}

static int mgr_remove(void *ctx, const char *name)
{
	struct mgr_store *ms = ctx;
	int idx = name_idx(name);
	char nn[NAME_MAX_LEN], why[ERR_LEN - 64];
	uint64_t gen, t0 = now_us();
	int rc;

	if (idx < 0)
		return -EINVAL;
	if (ms->failed)
		return -EIO;
	if (!ms->s.ref[idx].present)
		return -ENOENT;
	gen = ms->s.ref[idx].generation + 1;
	rc = vtpm_mgr_commit(ms->link, idx + 1, false, gen, NULL, why,
			     sizeof(why));
	if (rc)
		return fail(ms, rc, name, why);
	ms->s.ref[idx].generation = gen;
	ms->s.ref[idx].present = false;
	memset(ms->s.ref[idx].tag, 0, MGR_TAG_LEN);
	set_cache(ms, idx, NULL, 0);
	/* Leftovers are refused at open anyway (the state is absent). */
	new_name(nn, name);
	unlinkat(ms->dirfd, name, 0);
	unlinkat(ms->dirfd, nn, 0);
	account(ms, t0, now_us() - t0);
	return 0;
}

static void mgr_close(void *ctx)
{
	struct mgr_store *ms = ctx;

	if (!ms)
		return;
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++)
		set_cache(ms, i, NULL, 0);
	vtpm_mgr_session_wipe(&ms->s);
	close(ms->dirfd); /* drops the flock */
	free(ms);
}

static const struct vtpm_store_ops mgr_ops = {
	.load = mgr_load,
	.store = mgr_store,
	.remove = mgr_remove,
	.close = mgr_close,
};

void vtpm_store_mgr_stats(const struct vtpm_store *st,
			  struct vtpm_store_mgr_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (st && st->ops == &mgr_ops && st->ctx)
		*out = ((const struct mgr_store *)st->ctx)->st;
}

const char *vtpm_store_mgr_error(const struct vtpm_store *st)
{
	if (!st || st->ops != &mgr_ops || !st->ctx)
		return "";
	return ((const struct mgr_store *)st->ctx)->err;
}

int vtpm_store_mgr_open(struct vtpm_store *st, const char *dir,
			const struct vtpm_mgr_link *link,
			const struct vtpm_mgr_session *s, char *why,
			size_t why_len)
{
	struct mgr_store *ms = NULL;
	struct stat sb;
	int fd, rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!st || !dir || !*dir || !link || !s) {
		vtpm_set_why(why, why_len, "bad arguments");
		return -EINVAL;
	}
	st->ops = NULL;
	st->ctx = NULL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		vtpm_set_why(why, why_len, "cannot open: %s", strerror(errno));
		return rc;
	}
	rc = -errno;
	if (fstat(fd, &sb) < 0) {
		vtpm_set_why(why, why_len, "cannot stat: %s", strerror(errno));
		goto out;
	}
	/* Whoever else can write here can delete the committed blobs: no
	 * rollback, but a denial of service we can refuse to start with. */
	rc = -EPERM;
	if (sb.st_uid != geteuid()) {
		vtpm_set_why(why, why_len, "owned by uid %u, not by us (%u)",
			     (unsigned)sb.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		vtpm_set_why(why, why_len, "writable by group or others");
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		vtpm_set_why(why, why_len, "%s",
			     rc == -EBUSY ? "in use by another vTPM"
					  : "cannot lock");
		goto out;
	}
	rc = -ENOMEM;
	ms = calloc(1, sizeof(*ms));
	if (!ms) {
		vtpm_set_why(why, why_len, "out of memory");
		goto out;
	}
	ms->dirfd = fd;
	ms->link = link;
	ms->s = *s;
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++) {
		rc = resolve(ms, i, why, why_len);
		if (rc) {
			mgr_close(ms);
			return rc;
		}
	}
	st->ops = &mgr_ops;
	st->ctx = ms;
	return 0;
out:
	close(fd);
	return rc;
}
