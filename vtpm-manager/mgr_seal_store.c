/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_seal_store.c - the manager's directory and the root record's commit
 * protocol against the NV counter (mgr_seal.h; docs/formats.md §6.4).
 *
 * Files are replaced the way the instance store replaces its own: write
 * ".NAME.tmp" (O_EXCL, O_NOFOLLOW, 0600), fsync, rename over NAME, fsync
 * the directory.  A crash leaves the old or the new file and perhaps a
 * temporary, removed by the next open.
 *
 * Why the protocol is safe (the argument in full is in formats.md §6.4):
 * a record with generation g is committed when the counter reaches g.  A
 * serving process writes generation c+1 only at a counter value c that it
 * reached itself (by a commit, a create or a fence), and never writes the
 * same generation twice (a failed write stops all commits).  A fence
 * writes generation c+2 at the counter value c it found, with the table it
 * accepted at c, which is unique by the same argument.  So every
 * generation is only ever written with one table, and "the record whose
 * generation is the counter (or the counter + 1, rolled forward)" names
 * exactly one table: an attacker who keeps old or uncommitted files and
 * presents them later is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtpm-manager/mgr_seal.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-instance/vtpm_util.h"

#define TMP_NAME_MAX 32

struct mgr_rootdir {
	int dirfd;	  /* O_DIRECTORY, flock'ed; owned */
	bool known;	  /* counter below is valid (create/recover) */
	bool fenced;	  /* commits allowed (create, or fence done) */
	bool failed;	  /* a commit's outcome is unknown: no more */
	bool promote_due; /* root.pending is committed, not yet renamed */
	uint64_t counter; /* the counter's value as we left it */
};

static const char *const dir_names[] = {
	MGR_ROOTDIR_ROOT,
	MGR_ROOTDIR_PENDING,
	MGR_ROOTDIR_SEALED_KEY,
	MGR_ROOTDIR_IDENTITY, /* mgr_migrate.h */
};

static bool name_ok(const char *name)
{
	for (size_t i = 0; name && i < sizeof(dir_names) / sizeof(dir_names[0]);
	     i++)
		if (strcmp(name, dir_names[i]) == 0)
			return true;
	return false;
}

static void tmp_name(char *buf, const char *name)
{
	snprintf(buf, TMP_NAME_MAX, ".%s.tmp", name);
}

/* ---------------------------------------------------------- directory */

enum mgr_seal_err mgr_rootdir_open(struct mgr_rootdir **out, const char *dir,
				   char *why, size_t why_len)
{
	struct mgr_rootdir *d = NULL;
	enum mgr_seal_err ret = MGR_SEAL_E_IO;
	char tmp[TMP_NAME_MAX];
	struct stat sb;
	int fd;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out)
		return MGR_SEAL_E_INVAL;
	*out = NULL;
	if (!dir || !*dir) {
		vtpm_set_why(why, why_len, "no directory given");
		return MGR_SEAL_E_INVAL;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		vtpm_set_why(why, why_len, "%s: cannot open: %s", dir,
			strerror(errno));
		return MGR_SEAL_E_IO;
	}
	if (fstat(fd, &sb) < 0) {
		vtpm_set_why(why, why_len, "%s: cannot stat: %s", dir,
			strerror(errno));
		goto out;
	}
	/* Whoever else can write here can replace the manager's records
	 * (rollback is refused, but deletion is a denial of service). */
	if (sb.st_uid != geteuid()) {
		vtpm_set_why(why, why_len, "%s: owned by uid %u, not by us (%u)",
			dir, (unsigned)sb.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		vtpm_set_why(why, why_len, "%s: writable by group or others", dir);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		vtpm_set_why(why, why_len, "%s: %s", dir,
			errno == EWOULDBLOCK ? "in use by another manager"
					     : strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < sizeof(dir_names) / sizeof(dir_names[0]); i++) {
		tmp_name(tmp, dir_names[i]);
		if (unlinkat(fd, tmp, 0) < 0 && errno != ENOENT) {
			vtpm_set_why(why, why_len, "%s: cannot remove %s: %s", dir,
				tmp, strerror(errno));
			goto out;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		ret = MGR_SEAL_E_NOMEM;
		goto out;
	}
	d->dirfd = fd;
	*out = d;
	return MGR_SEAL_OK;
out:
	close(fd);
	return ret;
}

void mgr_rootdir_close(struct mgr_rootdir *dir)
{
	if (!dir)
		return;
	close(dir->dirfd); /* drops the flock */
	free(dir);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

enum mgr_seal_err mgr_rootdir_write(struct mgr_rootdir *dir, const char *name,
				    const uint8_t *data, size_t len, char *why,
				    size_t why_len)
{
	char tmp[TMP_NAME_MAX];
	bool made = false; /* tmp is ours to remove on failure */
	int fd, err = 0;

	vtpm_set_why(why, why_len, "%s", "");
	if (!dir || !name_ok(name) || (!data && len))
		return MGR_SEAL_E_INVAL;
	if (len > MGR_ROOTDIR_FILE_MAX)
		return MGR_SEAL_E_TOO_BIG;
	tmp_name(tmp, name);
	/* A temporary left by a crash (or planted: O_EXCL and O_NOFOLLOW
	 * make sure we write a fresh file of our own). */
	if (unlinkat(dir->dirfd, tmp, 0) < 0 && errno != ENOENT) {
		err = errno;
		goto out;
	}
	fd = openat(dir->dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	made = true;
	err = write_all(fd, data, len);
	if (!err && fsync(fd) < 0)
		err = errno;
	/* close() can report a delayed write error: it counts. */
	if (close(fd) < 0 && !err)
		err = errno;
	if (err)
		goto out;
	if (renameat(dir->dirfd, tmp, dir->dirfd, name) < 0) {
		err = errno;
		goto out;
	}
	made = false;
	/* The rename is durable only once the directory is. */
	if (fsync(dir->dirfd) < 0)
		err = errno;
out:
	if (made)
		unlinkat(dir->dirfd, tmp, 0);
	if (!err)
		return MGR_SEAL_OK;
	vtpm_set_why(why, why_len, "writing %s: %s", name, strerror(err));
	return MGR_SEAL_E_IO;
}

enum mgr_seal_err mgr_rootdir_read(struct mgr_rootdir *dir, const char *name,
				   uint8_t **data, size_t *len, char *why,
				   size_t why_len)
{
	enum mgr_seal_err ret = MGR_SEAL_E_IO;
	uint8_t *buf = NULL, extra;
	struct stat st;
	size_t size, got = 0;
	ssize_t n;
	int fd;

	vtpm_set_why(why, why_len, "%s", "");
	if (!data || !len)
		return MGR_SEAL_E_INVAL;
	*data = NULL;
	*len = 0;
	if (!dir || !name_ok(name))
		return MGR_SEAL_E_INVAL;
	/* O_NONBLOCK: a FIFO planted under the name must not hang us. */
	fd = openat(dir->dirfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return MGR_SEAL_E_NOT_FOUND;
		vtpm_set_why(why, why_len, "opening %s: %s", name, strerror(errno));
		return MGR_SEAL_E_IO;
	}
	if (fstat(fd, &st) < 0) {
		vtpm_set_why(why, why_len, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		vtpm_set_why(why, why_len, "%s: not a regular file", name);
		goto out;
	}
	if (st.st_size > (off_t)MGR_ROOTDIR_FILE_MAX) {
		vtpm_set_why(why, why_len, "%s: %lld bytes, larger than any record",
			name, (long long)st.st_size);
		ret = MGR_SEAL_E_TOO_BIG;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf) {
		ret = MGR_SEAL_E_NOMEM;
		goto out;
	}
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (got != size || n != 0) {
		vtpm_set_why(why, why_len, "%s: changed while being read", name);
		goto out;
	}
	*data = buf;
	*len = size;
	buf = NULL;
	ret = MGR_SEAL_OK;
out:
	free(buf);
	close(fd);
	return ret;
}

/* ----------------------------------------------------------- protocol */

static enum mgr_seal_err counter_read(const struct mgr_counter *ctr,
				      uint64_t *v, char *why, size_t why_len)
{
	char detail[160] = "";
	int rc = ctr->ops->read(ctr->ctx, v, detail, sizeof(detail));

	if (rc) {
		vtpm_set_why(why, why_len, "reading NV counter 0x%08x: %s",
			ctr->index, detail[0] ? detail : strerror(-rc));
		return MGR_SEAL_E_COUNTER;
	}
	return MGR_SEAL_OK;
}

/* Increments and insists the counter lands on `expect`: anything else
 * means someone else moves it. */
static enum mgr_seal_err counter_step(const struct mgr_counter *ctr,
				      uint64_t expect, char *why,
				      size_t why_len)
{
	char detail[160] = "";
	uint64_t v = 0;
	int rc = ctr->ops->increment(ctr->ctx, &v, detail, sizeof(detail));

	if (rc) {
		vtpm_set_why(why, why_len, "incrementing NV counter 0x%08x: %s",
			ctr->index, detail[0] ? detail : strerror(-rc));
		return MGR_SEAL_E_COUNTER;
	}
	if (v != expect) {
		vtpm_set_why(why, why_len,
			"NV counter 0x%08x moved to %" PRIu64
			", expected %" PRIu64 ": another user increments it",
			ctr->index, v, expect);
		return MGR_SEAL_E_COUNTER;
	}
	return MGR_SEAL_OK;
}

static bool counter_ok(const struct mgr_counter *ctr)
{
	return ctr && ctr->ops && ctr->ops->read && ctr->ops->increment;
}

enum mgr_seal_err mgr_root_write_pending(struct mgr_rootdir *dir,
					 const struct mgr_root_keys *keys,
					 const struct mgr_root *root,
					 uint64_t generation, char *why,
					 size_t why_len)
{
	struct mgr_root copy;
	enum mgr_seal_err ret;
	uint8_t *buf;
	size_t len;

	vtpm_set_why(why, why_len, "%s", "");
	if (!dir || !keys || !root)
		return MGR_SEAL_E_INVAL;
	copy = *root; /* shallow: only the generation differs */
	copy.generation = generation;
	ret = mgr_root_encode(&copy, keys, &buf, &len);
	if (ret) {
		vtpm_set_why(why, why_len, "encoding the root record: %s",
			mgr_seal_strerror(ret));
		return ret;
	}
	ret = mgr_rootdir_write(dir, MGR_ROOTDIR_PENDING, buf, len, why,
				why_len);
	free(buf);
	return ret;
}

enum mgr_seal_err mgr_root_promote(struct mgr_rootdir *dir, char *why,
				   size_t why_len)
{
	vtpm_set_why(why, why_len, "%s", "");
	if (!dir)
		return MGR_SEAL_E_INVAL;
	if (renameat(dir->dirfd, MGR_ROOTDIR_PENDING, dir->dirfd,
		     MGR_ROOTDIR_ROOT) < 0 ||
	    fsync(dir->dirfd) < 0) {
		vtpm_set_why(why, why_len, "renaming %s to %s: %s",
			MGR_ROOTDIR_PENDING, MGR_ROOTDIR_ROOT, strerror(errno));
		return MGR_SEAL_E_IO;
	}
	dir->promote_due = false;
	return MGR_SEAL_OK;
}

/* Writes `root` as generation counter + steps, then increments `steps`
 * times (1: a commit; 2: a fence, see the top of the file), then renames.
 * Any failure before the last increment completes leaves the outcome
 * unknown: the directory is failed. */
static enum mgr_seal_err advance(struct mgr_rootdir *dir,
				 const struct mgr_root_keys *keys,
				 const struct mgr_counter *ctr,
				 struct mgr_root *root, unsigned steps,
				 char *why, size_t why_len)
{
	uint64_t c = dir->counter, target = c + steps;
	enum mgr_seal_err ret;

	ret = mgr_root_write_pending(dir, keys, root, target, why, why_len);
	if (ret)
		goto failed;
	for (unsigned i = 1; i <= steps; i++) {
		ret = counter_step(ctr, c + i, why, why_len);
		if (ret)
			goto failed;
	}
	dir->counter = target;
	root->generation = target;
	/* Committed.  A failed rename is repaired before the next write
	 * (recover also accepts the record in root.pending). */
	dir->promote_due = true;
	/* On failure why says what is left to repair. */
	(void)mgr_root_promote(dir, why, why_len);
	return MGR_SEAL_OK;
failed:
	dir->failed = true;
	return ret;
}

static enum mgr_seal_err ready(struct mgr_rootdir *dir,
			       const struct mgr_root_keys *keys,
			       const struct mgr_counter *ctr,
			       const struct mgr_root *root)
{
	if (!dir || !keys || !counter_ok(ctr) || !root)
		return MGR_SEAL_E_INVAL;
	if (dir->failed)
		return MGR_SEAL_E_FAILED;
	return MGR_SEAL_OK;
}

enum mgr_seal_err mgr_root_create(struct mgr_rootdir *dir,
				  const struct mgr_root_keys *keys,
				  const struct mgr_counter *counter,
				  struct mgr_root *root, char *why,
				  size_t why_len)
{
	enum mgr_seal_err ret = ready(dir, keys, counter, root);
	struct stat st;
	uint64_t c;

	vtpm_set_why(why, why_len, "%s", "");
	if (ret)
		return ret;
	if (dir->known)
		return MGR_SEAL_E_INVAL;
	/* Never over an existing record, whatever state it is in: losing
	 * the table loses every instance's key. */
	for (int i = 0; i < 2; i++)
		if (fstatat(dir->dirfd, dir_names[i], &st,
			    AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT) {
			vtpm_set_why(why, why_len,
				"%s exists: refusing to create a new root "
				"record over it",
				dir_names[i]);
			return MGR_SEAL_E_EXISTS;
		}
	if (root->nv_index != counter->index)
		return MGR_SEAL_E_INVAL;
	ret = counter_read(counter, &c, why, why_len);
	if (ret)
		return ret;
	/* Take a counter value of our own first, so the generation we write
	 * (c+2) can never have been written by an earlier attempt. */
	ret = counter_step(counter, c + 1, why, why_len);
	if (ret) {
		dir->failed = true;
		return ret;
	}
	dir->counter = c + 1;
	dir->known = true;
	ret = advance(dir, keys, counter, root, 1, why, why_len);
	if (!ret)
		dir->fenced = true;
	return ret;
}

enum mgr_seal_err mgr_root_commit(struct mgr_rootdir *dir,
				  const struct mgr_root_keys *keys,
				  const struct mgr_counter *counter,
				  struct mgr_root *root, char *why,
				  size_t why_len)
{
	enum mgr_seal_err ret = ready(dir, keys, counter, root);

	vtpm_set_why(why, why_len, "%s", "");
	if (ret)
		return ret;
	if (!dir->known || !dir->fenced || root->generation != dir->counter ||
	    root->nv_index != counter->index)
		return MGR_SEAL_E_INVAL;
	/* root.pending still holds the committed record: it must be `root`
	 * before root.pending is reused. */
	if (dir->promote_due) {
		ret = mgr_root_promote(dir, why, why_len);
		if (ret)
			return ret;
	}
	return advance(dir, keys, counter, root, 1, why, why_len);
}

enum mgr_seal_err mgr_root_fence(struct mgr_rootdir *dir,
				 const struct mgr_root_keys *keys,
				 const struct mgr_counter *counter,
				 struct mgr_root *root, char *why,
				 size_t why_len)
{
	enum mgr_seal_err ret = ready(dir, keys, counter, root);

	vtpm_set_why(why, why_len, "%s", "");
	if (ret)
		return ret;
	if (!dir->known || root->generation != dir->counter)
		return MGR_SEAL_E_INVAL;
	if (dir->promote_due) {
		ret = mgr_root_promote(dir, why, why_len);
		if (ret)
			return ret;
	}
	ret = advance(dir, keys, counter, root, 2, why, why_len);
	if (!ret)
		dir->fenced = true;
	return ret;
}

/* One file's status in words, for NO_RECORD and for the log. */
static int describe(char *buf, size_t len, const char *name,
		    const struct mgr_recover_report *rep, int i, uint64_t c,
		    const char *detail)
{
	uint64_t g = rep->file[i].generation;

	if (!rep->file[i].present)
		return snprintf(buf, len, "%s: missing", name);
	if (rep->file[i].err) {
		const char *what = mgr_seal_strerror(rep->file[i].err);

		/* detail repeats the error for header errors, explains it
		 * for body, binding and I/O errors. */
		if (!detail || !*detail || !strcmp(detail, what))
			detail = NULL;
		return snprintf(buf, len, "%s: %s%s%s", name, what,
				detail ? ": " : "", detail ? detail : "");
	}
	return snprintf(buf, len, "%s: generation %" PRIu64 "%s", name, g,
			g < c	    ? " (older than the counter: a rollback)"
			: g > c + 1 ? " (ahead of the counter: the counter "
				      "was replaced or reset?)"
				    : "");
}

enum mgr_seal_err
mgr_root_recover(struct mgr_rootdir *dir, const struct mgr_root_keys *keys,
		 const struct mgr_counter *counter, struct mgr_root *out,
		 struct mgr_recover_report *report, char *why, size_t why_len)
{
	static const char *const names[2] = {MGR_ROOTDIR_ROOT,
					     MGR_ROOTDIR_PENDING};
	struct mgr_recover_report rep_local,
		*rep = report ? report : &rep_local;
	struct mgr_root cand[2];
	char detail[2][128];
	enum mgr_seal_err ret;
	int pick = -1;
	uint64_t c;

	vtpm_set_why(why, why_len, "%s", "");
	memset(rep, 0, sizeof(*rep));
	if (out)
		mgr_root_init(out, NULL, 0);
	if (!dir || !keys || !counter_ok(counter) || !out)
		return MGR_SEAL_E_INVAL;
	if (dir->failed)
		return MGR_SEAL_E_FAILED;
	ret = counter_read(counter, &c, why, why_len);
	if (ret)
		return ret;
	rep->counter = c;

	for (int i = 0; i < 2; i++) {
		uint8_t *buf;
		size_t len;

		mgr_root_init(&cand[i], NULL, 0);
		detail[i][0] = '\0';
		ret = mgr_rootdir_read(dir, names[i], &buf, &len, detail[i],
				       sizeof(detail[i]));
		if (ret == MGR_SEAL_E_NOT_FOUND)
			continue;
		rep->file[i].present = true;
		if (ret) {
			rep->file[i].err = ret;
			continue;
		}
		ret = mgr_root_decode(buf, len, keys, &cand[i], detail[i],
				      sizeof(detail[i]));
		free(buf);
		if (!ret && cand[i].nv_index != counter->index) {
			snprintf(detail[i], sizeof(detail[i]),
				 "bound to NV index 0x%08x, not 0x%08x",
				 cand[i].nv_index, counter->index);
			ret = MGR_SEAL_E_BINDING;
		}
		rep->file[i].err = ret;
		if (ret) {
			mgr_root_free(&cand[i]);
			continue;
		}
		rep->file[i].generation = cand[i].generation;
	}

	/* An interrupted commit first (roll it forward), else the record
	 * the counter names.  Files are only places to look: the
	 * generation decides, so renaming files changes nothing. */
	for (int i = 0; i < 2 && pick < 0; i++)
		if (rep->file[i].present && !rep->file[i].err &&
		    cand[i].generation == c + 1)
			pick = i;
	if (pick >= 0) {
		ret = counter_step(counter, c + 1, why, why_len);
		if (ret) {
			dir->failed = true;
			goto out;
		}
		c++;
		rep->rolled_forward = true;
	} else {
		for (int i = 0; i < 2 && pick < 0; i++)
			if (rep->file[i].present && !rep->file[i].err &&
			    cand[i].generation == c)
				pick = i;
	}
	if (pick < 0) {
		char a[200], b[200];

		describe(a, sizeof(a), names[0], rep, 0, c, detail[0]);
		describe(b, sizeof(b), names[1], rep, 1, c, detail[1]);
		vtpm_set_why(why, why_len,
			"NV counter 0x%08x is %" PRIu64 "; %s; %s",
			counter->index, c, a, b);
		ret = MGR_SEAL_E_NO_RECORD;
		goto out;
	}
	*out = cand[pick];
	mgr_root_init(&cand[pick], NULL, 0);
	dir->counter = c;
	dir->known = true;
	dir->fenced = false;
	ret = MGR_SEAL_OK;
	if (pick == 1) {
		/* Committed but not renamed yet. */
		dir->promote_due = true;
		if (mgr_root_promote(dir, why, why_len))
			goto out; /* repaired before the next write */
	}
	if (rep->rolled_forward)
		vtpm_set_why(why, why_len,
			"completed an interrupted commit: generation %" PRIu64,
			c);
	else if (rep->file[!pick].present && rep->file[!pick].err) {
		char a[200];

		describe(a, sizeof(a), names[!pick], rep, !pick, c,
			 detail[!pick]);
		vtpm_set_why(why, why_len, "ignored %s", a);
	}
out:
	mgr_root_free(&cand[0]);
	mgr_root_free(&cand[1]);
	return ret;
}

enum mgr_seal_err mgr_root_open(struct mgr_rootdir *dir,
				const struct mgr_root_keys *keys,
				const struct mgr_counter *counter,
				struct mgr_root *out, char *why, size_t why_len)
{
	enum mgr_seal_err ret;

	ret = mgr_root_recover(dir, keys, counter, out, NULL, why, why_len);
	if (ret)
		return ret;
	ret = mgr_root_fence(dir, keys, counter, out, why, why_len);
	if (ret) {
		mgr_root_free(out);
		mgr_root_init(out, NULL, 0);
	}
	return ret;
}
