/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_store - the file store (vtpm_store_file.c): only libtpms' three
 * names are accepted; a store replaces the file atomically (a new inode,
 * no temporary left, the old content intact when the write fails); the
 * temporaries a crash leaves are ignored by load and removed by store and
 * open; every corrupt, foreign, oversized or non-regular file is refused
 * with its error; the directory must be ours, private, and not in use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness.h"
#include "vtpm-instance/vtpm.h"

static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void remove_dir(void)
{
	struct dirent *e;
	DIR *d;

	if (!dir[0])
		return;
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			if (unlinkat(dirfd(d), e->d_name, 0) < 0)
				unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	dir[0] = '\0';
}

static void fresh_dir(void)
{
	remove_dir();
	snprintf(dir, sizeof(dir), "/tmp/test_store.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

/* Names in the directory, sorted, space-separated. */
static void listing(char *out, size_t len)
{
	char names[16][64];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	out[0] = '\0';
	while (d && (e = readdir(d)) && n < 16)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(names[n++], sizeof(names[0]), "%.63s",
				 e->d_name);
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char t[64];

				memcpy(t, names[i], sizeof(t));
				memcpy(names[i], names[j], sizeof(t));
				memcpy(names[j], t, sizeof(t));
			}
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
			 i ? " " : "", names[i]);
}

static void write_raw(const char *name, const void *p, size_t len)
{
	char path[128];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static uint8_t *read_raw(const char *name, size_t *len)
{
	char path[128];

	path_of(path, sizeof(path), name);
	return th_read_file(path, len);
}

static ino_t inode_of(const char *name)
{
	char path[128];
	struct stat sb;

	path_of(path, sizeof(path), name);
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Loads name and compares with want/want_len. */
static bool loads_as(struct vtpm_store *st, const char *name,
		     const uint8_t *want, size_t want_len)
{
	uint8_t *d = NULL;
	size_t len = 12345;
	bool ok;

	if (st->ops->load(st->ctx, name, &d, &len) != 0)
		return false;
	ok = d && len == want_len && (!len || memcmp(d, want, len) == 0);
	free(d);
	return ok;
}

static int load_err(struct vtpm_store *st, const char *name)
{
	uint8_t *d = (uint8_t *)1;
	size_t len = 1;
	int ret = st->ops->load(st->ctx, name, &d, &len);

	if (ret == 0)
		free(d);
	else if (d != NULL || len != 0)
		return 1000; /* outputs must be cleared on error */
	return ret;
}

static void test_open(void)
{
	struct vtpm_store st, st2;
	char why[256], path[128];
	int ret;

	fresh_dir();
	ret = vtpm_store_file_open(&st, NULL, why, sizeof(why));
	TH_CHECK(ret == -EINVAL, "NULL dir: %d %s", ret, why);
	ret = vtpm_store_file_open(&st, "", why, sizeof(why));
	TH_CHECK(ret == -EINVAL, "empty dir: %d %s", ret, why);
	path_of(path, sizeof(path), "nonexistent");
	ret = vtpm_store_file_open(&st, path, why, sizeof(why));
	TH_CHECK(ret == -ENOENT && strstr(why, "cannot open"),
		 "missing dir: %d %s", ret, why);
	write_raw("afile", "x", 1);
	path_of(path, sizeof(path), "afile");
	ret = vtpm_store_file_open(&st, path, why, sizeof(why));
	TH_CHECK(ret == -ENOTDIR, "a file: %d %s", ret, why);

	chmod(dir, 0770);
	ret = vtpm_store_file_open(&st, dir, why, sizeof(why));
	TH_CHECK(ret == -EPERM && strstr(why, "writable"),
		 "group-writable dir: %d %s", ret, why);
	chmod(dir, 0702);
	ret = vtpm_store_file_open(&st, dir, why, sizeof(why));
	TH_CHECK(ret == -EPERM, "world-writable dir: %d %s", ret, why);
	chmod(dir, 0755);
	if (geteuid() == 0) {
		if (chown(dir, 4242, 4242) == 0) {
			ret = vtpm_store_file_open(&st, dir, why, sizeof(why));
			TH_CHECK(ret == -EPERM &&
					 strstr(why, "owned by uid 4242"),
				 "someone else's dir: %d %s", ret, why);
			TH_CHECK(chown(dir, 0, 0) == 0, "chown back");
		}
	}

	ret = vtpm_store_file_open(&st, dir, why, sizeof(why));
	TH_CHECK(ret == 0 && st.ops && st.ctx, "open: %d %s", ret, why);
	ret = vtpm_store_file_open(&st2, dir, why, sizeof(why));
	TH_CHECK(ret == -EBUSY && strstr(why, "in use"),
		 "second open of one dir: %d %s", ret, why);
	vtpm_store_close(&st);
	TH_CHECK(!st.ops && !st.ctx, "close clears the handle");
	vtpm_store_close(&st); /* twice: harmless */
	vtpm_store_close(NULL);
	ret = vtpm_store_file_open(&st2, dir, why, sizeof(why));
	TH_CHECK(ret == 0, "open after close: %d %s", ret, why);
	vtpm_store_close(&st2);
}

static void test_names(void)
{
	static const char *const bad[] = {
		"",
		"../permall",
		"permall/",
		"PERMALL",
		"permall.tmp",
		".permall.tmp",
		"/etc/passwd",
		"volatile",
		"permallx",
		"savestate ",
		".",
		"..",
		"afile",
	};
	static const char *const good[] = {"permall", "volatilestate",
					   "savestate"};
	struct vtpm_store st;
	uint8_t buf[64];
	char why[256], ls[512];

	fresh_dir();
	write_raw("afile", "x", 1);
	vtpm_store_file_open(&st, dir, why, sizeof(why));
	for (size_t i = 0; i < TH_ARRAY_LEN(bad); i++) {
		TH_CHECK(load_err(&st, bad[i]) == -EINVAL, "load '%s'", bad[i]);
		TH_CHECK(st.ops->store(st.ctx, bad[i], buf, 8) == -EINVAL,
			 "store '%s'", bad[i]);
		TH_CHECK(st.ops->remove(st.ctx, bad[i]) == -EINVAL,
			 "remove '%s'", bad[i]);
	}
	TH_CHECK(load_err(&st, NULL) == -EINVAL, "load NULL name");
	TH_CHECK(st.ops->store(st.ctx, NULL, buf, 8) == -EINVAL,
		 "store NULL name");
	listing(ls, sizeof(ls));
	TH_CHECK(strcmp(ls, "afile") == 0, "nothing created: %s", ls);

	for (size_t i = 0; i < TH_ARRAY_LEN(good); i++) {
		TH_CHECK(load_err(&st, good[i]) == -ENOENT,
			 "%s absent: -ENOENT", good[i]);
		TH_CHECK(st.ops->remove(st.ctx, good[i]) == -ENOENT,
			 "remove absent %s: -ENOENT", good[i]);
		fill(buf, sizeof(buf), (uint8_t)i);
		TH_CHECK(st.ops->store(st.ctx, good[i], buf, sizeof(buf)) == 0,
			 "store %s", good[i]);
		TH_CHECK(loads_as(&st, good[i], buf, sizeof(buf)), "load %s",
			 good[i]);
	}
	listing(ls, sizeof(ls));
	TH_CHECK(strcmp(ls, "afile permall savestate volatilestate") == 0,
		 "three files, no temporaries: %s", ls);
	TH_CHECK(st.ops->remove(st.ctx, "savestate") == 0 &&
			 load_err(&st, "savestate") == -ENOENT,
		 "remove");
	vtpm_store_close(&st);
}

static void test_replace(void)
{
	static uint8_t a[5000], b[1299];
	static const size_t sizes[] = {0, 1, 16, 1299, 9000, VTPM_STATE_MAX};
	struct vtpm_store st;
	uint8_t *big;
	char why[256], ls[256], path[128];
	struct rlimit rl, old_rl;
	struct stat sb;
	ino_t ino;
	int ret;

	fresh_dir();
	vtpm_store_file_open(&st, dir, why, sizeof(why));
	big = malloc(VTPM_STATE_MAX + 1);
	fill(big, VTPM_STATE_MAX + 1, 3);
	for (size_t i = 0; i < TH_ARRAY_LEN(sizes); i++) {
		ret = st.ops->store(st.ctx, "permall", big, sizes[i]);
		TH_CHECK(ret == 0 && loads_as(&st, "permall", big, sizes[i]),
			 "round trip of %zu bytes: %d", sizes[i], ret);
	}
	ret = st.ops->store(st.ctx, "permall", big, VTPM_STATE_MAX + 1);
	TH_CHECK(ret == -EFBIG, "VTPM_STATE_MAX + 1 refused: %d", ret);
	TH_CHECK(loads_as(&st, "permall", big, VTPM_STATE_MAX),
		 "and the old state is intact");
	TH_CHECK(st.ops->store(st.ctx, "permall", NULL, 5) == -EINVAL,
		 "NULL data with a length");

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	st.ops->store(st.ctx, "permall", a, sizeof(a));
	ino = inode_of("permall");
	TH_CHECK(st.ops->store(st.ctx, "permall", b, sizeof(b)) == 0 &&
			 loads_as(&st, "permall", b, sizeof(b)),
		 "replace");
	TH_CHECK(inode_of("permall") != ino,
		 "replaced by rename (a new inode), not rewritten in place");
	path_of(path, sizeof(path), "permall");
	TH_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
		 "mode 0600: %o", sb.st_mode & 0777);
	listing(ls, sizeof(ls));
	TH_CHECK(strcmp(ls, "permall") == 0, "no temporary left: %s", ls);

	/* A write that fails half way (file size limit): the old file is
	 * untouched and the temporary is gone. */
	getrlimit(RLIMIT_FSIZE, &old_rl);
	signal(SIGXFSZ, SIG_IGN);
	rl = old_rl;
	rl.rlim_cur = 2000;
	setrlimit(RLIMIT_FSIZE, &rl);
	ret = st.ops->store(st.ctx, "permall", a, sizeof(a));
	setrlimit(RLIMIT_FSIZE, &old_rl);
	TH_CHECK(ret == -EFBIG, "failing write reported: %d", ret);
	TH_CHECK(loads_as(&st, "permall", b, sizeof(b)),
		 "old content survives a failed store");
	listing(ls, sizeof(ls));
	TH_CHECK(strcmp(ls, "permall") == 0, "failed store cleans up: %s", ls);
	free(big);
	vtpm_store_close(&st);
}

/* What a crash (or someone) leaves in place of the temporary. */
static void test_leftovers(void)
{
	uint8_t a[100], b[100];
	struct vtpm_store st;
	char why[256], ls[256], victim[128], tmp[128];
	size_t vlen;
	uint8_t *v;

	fresh_dir();
	fill(a, sizeof(a), 5);
	fill(b, sizeof(b), 6);
	vtpm_store_file_open(&st, dir, why, sizeof(why));
	st.ops->store(st.ctx, "permall", a, sizeof(a));
	/* A half-written temporary is invisible to load... */
	write_raw(".permall.tmp", "garbage", 7);
	TH_CHECK(loads_as(&st, "permall", a, sizeof(a)),
		 "load ignores a leftover temporary");
	/* ... and replaced by the next store. */
	TH_CHECK(st.ops->store(st.ctx, "permall", b, sizeof(b)) == 0 &&
			 loads_as(&st, "permall", b, sizeof(b)),
		 "store over a leftover temporary");
	listing(ls, sizeof(ls));
	TH_CHECK(strcmp(ls, "permall") == 0, "leftover gone: %s", ls);

	/* A temporary that is a symlink elsewhere is not followed. */
	path_of(victim, sizeof(victim), "victim");
	write_raw("victim", "keep", 4);
	path_of(tmp, sizeof(tmp), ".permall.tmp");
	TH_CHECK(symlink(victim, tmp) == 0, "plant symlink");
	TH_CHECK(st.ops->store(st.ctx, "permall", a, sizeof(a)) == 0 &&
			 loads_as(&st, "permall", a, sizeof(a)),
		 "store with a symlinked temporary");
	v = read_raw("victim", &vlen);
	TH_CHECK(vlen == 4 && memcmp(v, "keep", 4) == 0,
		 "symlink target untouched");
	free(v);
	vtpm_store_close(&st);

	/* Open sweeps every temporary. */
	write_raw(".volatilestate.tmp", "x", 1);
	write_raw(".savestate.tmp", "x", 1);
	vtpm_store_file_open(&st, dir, why, sizeof(why));
	listing(ls, sizeof(ls));
	TH_CHECK(strcmp(ls, "permall victim") == 0, "open sweeps: %s", ls);
	vtpm_store_close(&st);
}

/* Byte-level damage to a stored file, each refused with its error. */
static void test_corrupt(void)
{
	enum op { TRUNC, APPEND, SET8, XOR8 };
	static const struct {
		const char *what;
		enum op op;
		size_t at; /* TRUNC: new length; SET8/XOR8: offset */
		uint8_t v;
		int want;
	} cases[] = {
		{"empty file", TRUNC, 0, 0, -EBADMSG},
		{"header only, 15 bytes", TRUNC, 15, 0, -EBADMSG},
		{"header without payload", TRUNC, 16, 0, -EBADMSG},
		{"one payload byte short", TRUNC, 16 + 99, 0, -EBADMSG},
		{"one byte appended", APPEND, 0, 0, -EBADMSG},
		{"bad magic", XOR8, 0, 0x01, -EBADMSG},
		{"bad magic (last byte)", XOR8, 3, 0x80, -EBADMSG},
		{"version 2", SET8, 4, 2, -EBADMSG},
		{"version 0", SET8, 4, 0, -EBADMSG},
		{"version high byte", SET8, 5, 1, -EBADMSG},
		{"reserved nonzero", SET8, 6, 1, -EBADMSG},
		{"length + 1", SET8, 8, 101, -EBADMSG},
		{"length - 1", SET8, 8, 99, -EBADMSG},
		{"length huge", SET8, 11, 0xff, -EBADMSG},
		{"crc flipped", XOR8, 12, 0x01, -EBADMSG},
		{"payload bit flipped", XOR8, 16 + 50, 0x10, -EBADMSG},
		{"last payload byte", XOR8, 16 + 99, 0xff, -EBADMSG},
	};
	struct vtpm_store st;
	uint8_t a[100], *raw;
	size_t raw_len;
	char why[256], path[128];
	int ret, fd;

	fresh_dir();
	fill(a, sizeof(a), 9);
	vtpm_store_file_open(&st, dir, why, sizeof(why));
	st.ops->store(st.ctx, "permall", a, sizeof(a));
	raw = read_raw("permall", &raw_len);
	TH_CHECK(raw_len == 116, "file is header + payload: %zu", raw_len);
	TH_CHECK(memcmp(raw, "HVTS\1\0\0\0\x64\0\0\0", 12) == 0,
		 "header layout as documented");

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		uint8_t buf[200];
		size_t len = raw_len;

		memcpy(buf, raw, raw_len);
		switch (cases[i].op) {
		case TRUNC:
			len = cases[i].at;
			break;
		case APPEND:
			buf[len++] = 0;
			break;
		case SET8:
			buf[cases[i].at] = cases[i].v;
			break;
		case XOR8:
			buf[cases[i].at] ^= cases[i].v;
			break;
		}
		write_raw("permall", buf, len);
		ret = load_err(&st, "permall");
		TH_CHECK(ret == cases[i].want, "%s: %d, want %d", cases[i].what,
			 ret, cases[i].want);
	}

	/* Larger than any state may be: refused before reading it. */
	path_of(path, sizeof(path), "permall");
	fd = open(path, O_WRONLY | O_TRUNC);
	TH_CHECK(fd >= 0 && ftruncate(fd, 16 + VTPM_STATE_MAX + 1) == 0,
		 "sparse oversized file");
	close(fd);
	TH_CHECK(load_err(&st, "permall") == -EFBIG, "oversized: -EFBIG");

	/* Not a regular file. */
	unlink(path);
	TH_CHECK(mkdir(path, 0700) == 0, "permall as a directory");
	TH_CHECK(load_err(&st, "permall") == -EBADMSG, "directory: -EBADMSG");
	rmdir(path);
	TH_CHECK(mkfifo(path, 0600) == 0, "permall as a FIFO");
	TH_CHECK(load_err(&st, "permall") == -EBADMSG,
		 "FIFO: -EBADMSG, without blocking");
	unlink(path);
	write_raw("real", raw, raw_len);
	TH_CHECK(symlink("real", path) == 0, "permall as a symlink");
	TH_CHECK(load_err(&st, "permall") == -ELOOP,
		 "symlink not followed: -ELOOP");
	/* A store replaces the symlink itself, not its target. */
	TH_CHECK(st.ops->store(st.ctx, "permall", a, 10) == 0 &&
			 loads_as(&st, "permall", a, 10),
		 "store over a symlink");
	free(raw);
	raw = read_raw("real", &raw_len);
	TH_CHECK(raw_len == 116, "symlink target untouched");
	free(raw);
	vtpm_store_close(&st);
}

int main(void)
{
	test_open();
	test_names();
	test_replace();
	test_leftovers();
	test_corrupt();
	remove_dir();
	return th_done();
}
