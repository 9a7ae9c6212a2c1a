// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_fileio.c - bounded reads and atomic writes (policy-compiler/fileio.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-compiler/polc.h"
#include "tests/harness.h"

static char dir[] = "/tmp/hvsec-test-fileio-XXXXXX";

static char *in_dir(const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	return path;
}

static void put_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static size_t entries(void)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!dh)
		abort();
	while ((de = readdir(dh)))
		n += de->d_name[0] != '.';
	closedir(dh);
	return n;
}

struct read_case {
	const char *name;
	size_t size, max;
	int err; /* 0: success */
};

static const struct read_case reads[] = {
	{"empty", 0, 10, 0},
	{"exactly-the-bound", 100, 100, 0},
	{"one-over-the-bound", 101, 100, EFBIG},
	{"zero-bound", 1, 0, EFBIG},
	{"large", 300000, 1u << 20, 0},
};

static void bounded_reads(void)
{
	size_t i, k;

	for (i = 0; i < TH_ARRAY_LEN(reads); i++) {
		const struct read_case *c = &reads[i];
		char *path = in_dir(c->name), *data = malloc(c->size + 1);
		uint8_t *buf = (uint8_t *)1;
		size_t len = 1;
		int r;

		if (!data)
			abort();
		for (k = 0; k < c->size; k++)
			data[k] = (char)('a' + k % 26);
		put_file(path, data, c->size);
		errno = 0;
		r = polc_read_file(path, c->max, &buf, &len);
		if (c->err) {
			TH_CHECK(r == -1 && errno == c->err && !buf && len == 0,
				 "%s: refused with %s (got %s)", c->name,
				 strerror(c->err), strerror(errno));
		} else {
			TH_CHECK(r == 0 && len == c->size &&
					 memcmp(buf, data, len) == 0 &&
					 buf[len] == 0 &&
					 ((uintptr_t)buf & 7) == 0,
				 "%s: read whole, NUL-terminated, aligned",
				 c->name);
			free(buf);
		}
		unlink(path);
		free(path);
		free(data);
	}
}

static void read_errors(void)
{
	char *missing = in_dir("missing");
	uint8_t *buf;
	size_t len;
	int fds[2];

	errno = 0;
	TH_CHECK(polc_read_file(missing, 100, &buf, &len) == -1 &&
			 errno == ENOENT,
		 "missing file: ENOENT");
	errno = 0;
	TH_CHECK(polc_read_file(dir, 100, &buf, &len) == -1 && errno == EISDIR,
		 "directory: EISDIR");
	free(missing);

	/* A pipe has no size to check up front: the bound holds while
	 * reading. */
	if (pipe(fds) == 0) {
		char path[64], chunk[200];

		memset(chunk, 'x', sizeof(chunk));
		if (write(fds[1], chunk, sizeof(chunk)) != sizeof(chunk))
			abort();
		close(fds[1]);
		snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
		errno = 0;
		TH_CHECK(polc_read_file(path, 100, &buf, &len) == -1 &&
				 errno == EFBIG,
			 "pipe over the bound: EFBIG (%s)", strerror(errno));
		close(fds[0]);
	}
}

static void atomic_writes(void)
{
	char *path = in_dir("out.bin"), *bad;
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	mode_t old_mask;

	old_mask = umask(022);
	TH_CHECK(polc_write_file_atomic(path, "first", 5) == 0, "write");
	TH_CHECK(polc_read_file(path, 100, &buf, &len) == 0 && len == 5 &&
			 memcmp(buf, "first", 5) == 0,
		 "written bytes read back");
	free(buf);
	TH_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
		 "mode follows the umask (%o)", st.st_mode & 0777);
	TH_CHECK(polc_write_file_atomic(path, "second!", 7) == 0 &&
			 polc_read_file(path, 100, &buf, &len) == 0 &&
			 len == 7 && memcmp(buf, "second!", 7) == 0,
		 "overwrite replaces the whole file");
	free(buf);
	TH_CHECK(polc_write_file_atomic(path, "", 0) == 0 &&
			 stat(path, &st) == 0 && st.st_size == 0,
		 "empty write");
	TH_CHECK(entries() == 1, "no temporary file left behind");
	umask(old_mask);

	bad = in_dir("no/such/dir/out.bin");
	errno = 0;
	TH_CHECK(polc_write_file_atomic(bad, "x", 1) == -1 && errno == ENOENT,
		 "missing directory: ENOENT, nothing written");
	TH_CHECK(entries() == 1, "failed write leaves nothing behind");
	unlink(path);
	free(bad);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	bounded_reads();
	read_errors();
	atomic_writes();
	rmdir(dir);
	return th_done();
}
