/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_nodes.c - READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART and
 * GET_PERMS on the committed tree: a table of steps, each a request and
 * the errno (and reply) it must give, then the cases a table cannot say
 * (long listings in parts, limits on path lengths, binary values).
 */
#include "tests/xenstore/xs_test.h"

enum { R, W, MK, RMV, DIR, PERMS };

struct step {
	uint32_t domid; /* connection: 0 or 5 (introduced, home n5) */
	int op;
	const char *path;
	const char *val; /* W: value; R/DIR/PERMS: expected reply, with
			  * '|' for NUL; NULL: not checked */
	int want;
};

static const struct step steps[] = {
	{0, R, "/", "", 0},
	{0, DIR, "/", "tool|local|", 0},
	{0, W, "/a/b/c", "v", 0},
	{0, R, "/a", "", 0},
	{0, R, "/a/b/c", "v", 0},
	{0, DIR, "/a/b", "c|", 0},
	{0, W, "/a/b/d", "", 0},
	{0, W, "/a/b/0", "", 0},
	{0, DIR, "/a/b", "c|d|0|", 0}, /* creation order */
	{0, W, "/a/b/c", "new", 0},
	{0, R, "/a/b/c", "new", 0},
	{0, DIR, "/a/b", "c|d|0|", 0}, /* a write keeps the order */
	{0, MK, "/a/b", NULL, 0},      /* exists: fine */
	{0, R, "/a/b/c", "new", 0},    /* ... and unchanged */
	{0, MK, "/m/n/o", NULL, 0},
	{0, R, "/m/n", "", 0},
	{0, DIR, "/m/n/o", "", 0},
	{0, RMV, "/a/b", NULL, 0},
	{0, R, "/a/b/c", NULL, ENOENT},
	{0, R, "/a/b", NULL, ENOENT},
	{0, DIR, "/a", "", 0},
	{0, RMV, "/a/b", NULL, 0},	  /* gone, parent there: fine */
	{0, RMV, "/a/b/c", NULL, ENOENT}, /* parent gone too */
	{0, RMV, "/", NULL, EINVAL},
	{0, DIR, "/nope", NULL, ENOENT},
	{0, PERMS, "/a", "n0|", 0},
	{0, W, "rel", "x", 0}, /* dom0's home */
	{0, R, "/local/domain/0/rel", "x", 0},
	{5, W, "data/x", "y", 0}, /* a guest's home */
	{5, R, "/local/domain/5/data/x", "y", 0},
	{5, R, "data/x", "y", 0},
	{5, DIR, "/local/domain/5", "data|", 0},
	{5, PERMS, "data/x", "n5|", 0}, /* inherited, owned */
	{5, W, "/local/domain/5", "home", 0},
	{5, R, "", NULL, EINVAL},
	{5, R, "@releaseDomain", NULL, EINVAL},
	{5, W, "a b", "x", EINVAL},
	{0, RMV, "/m", NULL, 0},
	{0, R, "/m/n/o", NULL, ENOENT},
};

static const char *opname[] = {"read", "write", "mkdir", "rm", "dir", "perms"};

static void run_steps(void)
{
	struct xs_server *s = xt_server();
	struct xt c[2];
	size_t i;

	TH_CHECK(xs_introduce(s, 5, XS_INTRO_MKHOME) == 0, "introduce 5");
	xt_open(&c[0], s, 0, 0);
	xt_open(&c[1], s, 5, 0);
	for (i = 0; i < TH_ARRAY_LEN(steps); i++) {
		const struct step *st = &steps[i];
		struct xt *t = &c[st->domid ? 1 : 0];
		struct xt_msg r;
		int rc = -100;

		switch (st->op) {
		case R:
			rc = xt_read(t, 0, st->path, &r);
			break;
		case W:
			rc = xt_write(t, 0, st->path, st->val);
			break;
		case MK:
			rc = xt_one(t, XS_MKDIR, 0, st->path, &r);
			break;
		case RMV:
			rc = xt_one(t, XS_RM, 0, st->path, &r);
			break;
		case DIR:
			rc = xt_one(t, XS_DIRECTORY, 0, st->path, &r);
			break;
		case PERMS:
			rc = xt_one(t, XS_GET_PERMS, 0, st->path, &r);
			break;
		}
		TH_CHECK(rc == st->want, "step %zu: %s %s: got %d, want %d", i,
			 opname[st->op], st->path, rc, st->want);
		if (!rc && st->op != W && st->val) {
			char want[256];
			size_t n = strlen(st->val), k;

			for (k = 0; k < n; k++)
				want[k] = st->val[k] == '|' ? '\0' : st->val[k];
			TH_CHECK(r.h.len == n && !memcmp(r.body, want, n),
				 "step %zu: %s %s: reply of %u bytes", i,
				 opname[st->op], st->path, r.h.len);
		}
		TH_CHECK(xt_check(s) == 0, "step %zu: store consistent", i);
	}
	xt_close(&c[0]);
	xt_close(&c[1]);
	xs_server_free(s);
}

/* The client side of DIRECTORY_PART as libxenstore does it: parts from
 * offset 0 until one ends with an empty string. */
static int dir_parts(struct xt *t, const char *path, char *out, size_t *len,
		     char *gen, int *calls)
{
	char req[128], g0[32] = "";
	size_t off = 0, pl = strlen(path) + 1, n;
	struct xt_msg r;
	int rc;

	*calls = 0;
	for (;;) {
		memcpy(req, path, pl);
		n = pl +
		    (size_t)snprintf(req + pl, sizeof(req) - pl, "%zu", off) +
		    1;
		rc = xt_call(t, XS_DIRECTORY_PART, 0, req, n, &r);
		(*calls)++;
		if (rc)
			return rc;
		if (off == 0)
			snprintf(g0, sizeof(g0), "%.31s", r.body);
		else if (strcmp(g0, r.body))
			return -10; /* changed under us */
		n = r.h.len - strlen(r.body) - 1;
		memcpy(out + off, r.body + strlen(r.body) + 1, n);
		off += n;
		if (off <= 1 || out[off - 2] == '\0')
			break;
	}
	*len = off ? off - 1 : 0; /* the final empty string */
	strcpy(gen, g0);
	return 0;
}

static void test_directory_part(void)
{
	static char want[64 * 1024], got[64 * 1024];
	struct xs_server *s = xt_server();
	char path[64], gen[32], gen2[32];
	size_t wlen = 0, glen = 0;
	struct xt t;
	struct xt_msg r;
	int i, calls;

	xt_open(&t, s, 0, 0);
	for (i = 0; i < 1500; i++) {
		snprintf(path, sizeof(path), "/big/child-%04d", i);
		xt_write(&t, 0, path, "");
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen,
					 "child-%04d", i) +
			1;
	}
	TH_CHECK(xt_one(&t, XS_DIRECTORY, 0, "/big", &r) == E2BIG,
		 "listing over 4096 bytes: E2BIG");
	TH_CHECK(dir_parts(&t, "/big", got, &glen, gen, &calls) == 0, "parts");
	TH_CHECK(glen == wlen && !memcmp(got, want, wlen),
		 "parts give the whole list (%zu of %zu bytes)", glen, wlen);
	TH_CHECK(calls >= 4 && calls <= 6, "%d parts", calls);
	/* Past the end: the generation and an empty list. */
	TH_CHECK(xt_call(&t, XS_DIRECTORY_PART, 0,
			 "/big\0"
			 "99999",
			 11, &r) == 0 &&
			 r.h.len == strlen(r.body) + 2,
		 "offset past the end");
	/* A change moves the generation. */
	xt_write(&t, 0, "/big/child-0000", "changed value");
	TH_CHECK(dir_parts(&t, "/big", got, &glen, gen2, &calls) == 0 &&
			 !strcmp(gen, gen2),
		 "a child's value is not the list: same generation");
	xt_write(&t, 0, "/big/new", "");
	TH_CHECK(dir_parts(&t, "/big", got, &glen, gen2, &calls) == 0 &&
			 strcmp(gen, gen2) && glen == wlen + 4,
		 "a new child: new generation, longer list");
	/* Small directories in one part. */
	TH_CHECK(dir_parts(&t, "/tool", got, &glen, gen, &calls) == 0 &&
			 calls == 1 && glen == 10 &&
			 !memcmp(got, "xenstored", 10),
		 "one part");
	TH_CHECK(dir_parts(&t, "/tool/xenstored", got, &glen, gen, &calls) ==
				 0 &&
			 glen == 0,
		 "empty list");
	xt_close(&t);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_path_limits(void)
{
	static char p[4000], buf[4100];
	struct xs_server *s = xt_server();
	struct xt d0, g;
	size_t home = strlen("/local/domain/5/");

	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&d0, s, 0, 0);
	xt_open(&g, s, 5, 0);
	/* Absolute paths: at most XENSTORE_ABS_PATH_MAX (3072). */
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[3072] = '\0';
	TH_CHECK(xt_one(&d0, XS_MKDIR, 0, p, NULL) == 0, "3072 bytes");
	p[3072] = 'a';
	p[3073] = '\0';
	TH_CHECK(xt_one(&d0, XS_MKDIR, 0, p, NULL) == EINVAL, "3073 bytes");
	/* A guest: at most 2048 bytes below its home (Xen 4.17's
	 * path-length quota), however the path is written. */
	/* (In components of 100 bytes: one name of 2048 would break the
	 * node-size quota of its parent first.) */
	memcpy(p, "/local/domain/5/", home);
	memset(p + home, 'b', 2049);
	for (size_t i = home + 100; i < home + 2040; i += 100)
		p[i] = '/';
	p[home + 2048] = '\0';
	TH_CHECK(xt_one(&g, XS_MKDIR, 0, p, NULL) == 0, "2048 below home");
	TH_CHECK(xt_one(&g, XS_MKDIR, 0, p + home, NULL) == 0,
		 "same, relative");
	p[home + 2048] = 'b';
	p[home + 2049] = '\0';
	TH_CHECK(xt_one(&g, XS_MKDIR, 0, p, NULL) == EINVAL, "2049 below home");
	TH_CHECK(xt_one(&g, XS_MKDIR, 0, p + home, NULL) == EINVAL,
		 "same, relative");
	TH_CHECK(xt_one(&d0, XS_MKDIR, 0, p, NULL) == 0,
		 "dom0 has no path quota");
	/* The deepest path there is: 1536 components. */
	{
		size_t i;

		for (i = 0; i < 3072; i += 2) {
			p[i] = '/';
			p[i + 1] = 'x';
		}
		p[3072] = '\0';
		TH_CHECK(xt_one(&d0, XS_MKDIR, 0, p, NULL) == 0, "deep mkdir");
		TH_CHECK(xt_one(&d0, XS_RM, 0, "/x", NULL) == 0, "deep rm");
	}
	/* Binary values with NULs, up to what fits in a message. */
	{
		size_t n = 4096 - 3;

		memcpy(buf, "/v\0", 3);
		memset(buf + 3, 0, n);
		buf[3 + 10] = 'z';
		TH_CHECK(xt_call(&d0, XS_WRITE, 0, buf, 3 + n, NULL) == 0,
			 "binary write");
		{
			struct xt_msg r;

			TH_CHECK(xt_read(&d0, 0, "/v", &r) == 0 &&
					 r.h.len == n && r.body[10] == 'z' &&
					 r.body[0] == '\0',
				 "binary read back");
		}
	}
	xt_close(&d0);
	xt_close(&g);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

int main(void)
{
	run_steps();
	test_directory_part();
	test_path_limits();
	return th_done();
}
