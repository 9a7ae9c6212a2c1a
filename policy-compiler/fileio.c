// SPDX-License-Identifier: BSD-2-Clause
/*
 * fileio.c - bounded whole-file reads and crash-safe whole-file writes.
 *
 * Reads are bounded before anything is allocated for regular files and
 * while reading for everything else (pipes, /dev/stdin), so an attacker
 * cannot make the compiler swallow an unbounded stream.  Writes go to a
 * temporary file beside the target, are fsynced, renamed over the target
 * and the directory is fsynced, so after a crash the target is either the
 * old file or the complete new one, never a prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-compiler/polc.h"

int polc_read_file(const char *path, size_t max_bytes, uint8_t **buf,
		   size_t *len)
{
	struct stat st;
	uint8_t *data = NULL, *grown;
	size_t cap, used = 0;
	int fd, saved, ret = -1;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) {
		errno = EFBIG;
		goto out;
	}
	/* One extra byte: a NUL after the data, and a read that fills the
	 * buffer exactly can still see EOF without growing it. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	data = malloc(cap);
	if (!data)
		goto out;
	for (;;) {
		ssize_t n;

		if (used == cap) {
			if (cap > max_bytes) {
				errno = EFBIG;
				goto out;
			}
			if (cap > max_bytes / 2)
				cap = max_bytes < SIZE_MAX ? max_bytes + 1
							   : SIZE_MAX;
			else
				cap *= 2;
			grown = realloc(data, cap);
			if (!grown)
				goto out;
			data = grown;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max_bytes) {
			errno = EFBIG;
			goto out;
		}
	}
	if (used == cap) {
		grown = realloc(data, cap + 1);
		if (!grown)
			goto out;
		data = grown;
	}
	data[used] = 0;
	*buf = data;
	*len = used;
	data = NULL;
	ret = 0;
out:
	saved = errno;
	free(data);
	close(fd);
	errno = saved;
	return ret;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory holding `path`, as a new string ("." for a bare name). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int polc_write_file_atomic(const char *path, const void *buf, size_t len)
{
	char *tmp = NULL, *dir = NULL;
	size_t tmp_size;
	int fd = -1, dfd = -1, saved, ret = -1;
	unsigned attempt;

	dir = dir_of(path);
	tmp_size = strlen(path) + 64;
	tmp = malloc(tmp_size);
	if (!dir || !tmp)
		goto out;
	/* Our own unique name rather than mkstemp: open(..., 0666) keeps the
	 * caller's umask, where mkstemp would force 0600 on the result. */
	for (attempt = 0; attempt < 100; attempt++) {
		snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(),
			 attempt);
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		goto out;
	if (write_all(fd, buf, len) != 0 || fsync(fd) != 0)
		goto out_unlink;
	if (close(fd) != 0) {
		fd = -1;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out_unlink;
	/* The rename is durable only once the directory entry is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		goto out;
	ret = 0;
	goto out;
out_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	errno = saved;
	return ret;
}
