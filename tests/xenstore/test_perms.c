/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_perms.c - the permission model between guests, as a table of
 * (who, request, path) -> errno steps run in order against one store:
 * owners, ACL entries, defaults, inheritance and ownership of new nodes,
 * EPERM on giving a node away, what a missing node reads as (ENOENT only
 * where the asker may look), read-only connections, SET_TARGET, special
 * nodes, which error wins, and the authorization callback.
 */
#include "tests/xenstore/xs_test.h"

enum { D0, G5, G6, G7, RO, NCONN };
enum { R, W, MK, RMV, CH, GP };

struct step {
	int who;
	int op;
	const char *path;
	const char *arg; /* W: value; CH: perms "n5 r6" (space-separated);
			  * GP: expected reply with ' ' for NUL */
	int want;
};

#define H5 "/local/domain/5"

static const struct step steps[] = {
	/* A guest in its home. */
	{G5, W, H5 "/data/x", "1", 0},
	{G5, R, H5 "/data/x", NULL, 0},
	{G5, GP, H5 "/data/x", "n5 ", 0},
	{G5, R, H5 "/nope", NULL, ENOENT},
	/* Another guest sees nothing there, not even what is missing. */
	{G6, R, H5 "/data/x", NULL, EACCES},
	{G6, R, H5 "/nope", NULL, EACCES},
	{G6, R, H5 "/nope/deeper", NULL, EACCES},
	{G6, GP, H5 "/data/x", NULL, EACCES},
	{G6, W, H5 "/data/y", "1", EACCES},
	{G6, MK, H5 "/data/z", NULL, EACCES},
	{G6, RMV, H5 "/data/x", NULL, EACCES},
	/* dom0's tree is closed to guests ("n0"). */
	{G5, R, "/tool", NULL, EACCES},
	{G5, R, "/tool/nope", NULL, EACCES},
	{G5, W, "/newtop", "1", EACCES},
	{G5, W, "/tool/x", "1", EACCES},
	{D0, R, H5 "/data/x", NULL, 0},
	/* Sharing: read for 6, then both. */
	{G5, CH, H5 "/data/x", "n5 r6", 0},
	{G6, R, H5 "/data/x", NULL, 0},
	{G6, W, H5 "/data/x", "2", EACCES},
	{G7, R, H5 "/data/x", NULL, EACCES},
	{G5, CH, H5 "/data", "n5 b6", 0},
	{G6, R, H5 "/data", NULL, 0},
	{G6, W, H5 "/data/x", "2", EACCES},   /* x's own list rules */
	{G6, W, H5 "/data/sub/deep", "3", 0}, /* creates below /data */
	/* The unprivileged creator owns what it creates; the rest of the
	 * list is inherited, so 5 cannot read 6's node. */
	{G6, GP, H5 "/data/sub", "n6 b6 ", 0},
	{G6, GP, H5 "/data/sub/deep", "n6 b6 ", 0},
	{G5, R, H5 "/data/sub", NULL, EACCES},
	{G5, RMV, H5 "/data/sub", NULL, EACCES},
	{D0, R, H5 "/data/sub/deep", NULL, 0},
	/* Only owners change lists, and may not give a node away. */
	{G6, CH, H5 "/data", "n6 b6", EACCES},
	{G5, CH, H5 "/data/x", "n6", EPERM},
	{G5, CH, H5 "/data/x", "n5 r1 r2 r3 r4 r6", ENOSPC},
	{G5, CH, H5 "/data/x", "n5 r1 r2 r3 r6", 0},
	{G6, R, H5 "/data/x", NULL, 0},
	{G6, RMV, H5 "/data/sub", NULL, 0},
	{G6, R, H5 "/data/sub", NULL, ENOENT}, /* /data readable to 6 */
	/* dom0 creating below a guest keeps the guest the owner. */
	{D0, W, H5 "/backend/vif", "", 0},
	{G5, GP, H5 "/backend/vif", "n5 ", 0},
	{D0, CH, H5 "/backend", "n0 r5", 0},
	{G5, W, H5 "/backend/new", "1", EACCES},
	{G5, R, H5 "/backend", NULL, 0},
	/* dom0 may give anything to anyone. */
	{D0, CH, "/tool/xenstored", "n6", 0},
	{G6, W, "/tool/xenstored", "mine", 0},
	{G6, R, "/tool/xenstored", NULL, 0},
	{G5, R, "/tool/xenstored", NULL, EACCES},
	/* Which error wins: a bad path before permissions; permissions
	 * before quotas (5 may not write there at all). */
	{G6, W, H5 "//x", "1", EINVAL},
	{G6, W, H5 "/data/x/", "1", EINVAL},
	{G5, CH, "/tool", "n5 r1 r2 r3 r4 r6", ENOSPC},
	{G5, CH, "/tool", "n5", EACCES},
	/* A read-only connection reads, never writes, even as dom0. */
	{RO, R, H5 "/data/x", NULL, 0},
	{RO, W, "/ro", "1", EACCES},
	{RO, CH, "/tool", "n0", EACCES},
	/* Specials are readable by dom0 only, until dom0 says otherwise. */
	{G5, GP, "@releaseDomain", NULL, EACCES},
	{D0, GP, "@releaseDomain", "n0 ", 0},
	{D0, CH, "@releaseDomain", "n0 r5", 0},
	{G5, GP, "@releaseDomain", "n0 r5 ", 0},
	{G5, CH, "@releaseDomain", "n5", EACCES},
	{D0, CH, "@nosuch", "n0", EINVAL},
};

static const char *opname[] = {"read", "write", "mkdir",
			       "rm",   "chmod", "getperms"};

static int do_chmod(struct xt *t, const char *path, const char *perms)
{
	char buf[512], list[128], *tok, *save = NULL;
	size_t off = strlen(path) + 1;

	memcpy(buf, path, off);
	snprintf(list, sizeof(list), "%s", perms);
	for (tok = strtok_r(list, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		memcpy(buf + off, tok, strlen(tok) + 1);
		off += strlen(tok) + 1;
	}
	return xt_call(t, XS_SET_PERMS, 0, buf, off, NULL);
}

static void run_steps(void)
{
	static const uint32_t domid[NCONN] = {0, 5, 6, 7, 0};
	struct xs_server *s = xt_server();
	struct xt c[NCONN];
	size_t i;
	int k;

	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xs_introduce(s, 6, XS_INTRO_MKHOME);
	xs_introduce(s, 7, XS_INTRO_MKHOME);
	for (k = 0; k < NCONN; k++)
		xt_open(&c[k], s, domid[k], k == RO ? XS_CONN_READONLY : 0);
	for (i = 0; i < TH_ARRAY_LEN(steps); i++) {
		const struct step *st = &steps[i];
		struct xt *t = &c[st->who];
		struct xt_msg r;
		int rc = -100;

		switch (st->op) {
		case R:
			rc = xt_read(t, 0, st->path, &r);
			break;
		case W:
			rc = xt_write(t, 0, st->path, st->arg);
			break;
		case MK:
			rc = xt_one(t, XS_MKDIR, 0, st->path, &r);
			break;
		case RMV:
			rc = xt_one(t, XS_RM, 0, st->path, &r);
			break;
		case CH:
			rc = do_chmod(t, st->path, st->arg);
			break;
		case GP:
			rc = xt_one(t, XS_GET_PERMS, 0, st->path, &r);
			break;
		}
		TH_CHECK(rc == st->want,
			 "step %zu: dom%u %s %s: got %s, want %s", i,
			 domid[st->who], opname[st->op], st->path,
			 rc > 0 ? xs_errno_name(rc) : "OK",
			 st->want ? xs_errno_name(st->want) : "OK");
		if (!rc && st->op == GP && st->arg) {
			char want[128];
			size_t n = strlen(st->arg), j;

			for (j = 0; j < n; j++)
				want[j] = st->arg[j] == ' ' ? '\0' : st->arg[j];
			TH_CHECK(r.h.len == n && !memcmp(r.body, want, n),
				 "step %zu: perms of %s", i, st->path);
		}
	}
	for (k = 0; k < NCONN; k++)
		xt_close(&c[k]);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_target(void)
{
	struct xs_server *s = xt_server();
	struct xt d0, g7, g8;

	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xs_introduce(s, 7, 0);
	xt_open(&d0, s, 0, 0);
	xt_open(&g7, s, 7, 0);
	xt_open(&g8, s, 8, 0);
	xt_write(&d0, 0, H5 "/secret", "s");
	TH_CHECK(xt_read(&g7, 0, H5 "/secret", NULL) == EACCES,
		 "7 cannot read 5's node");
	TH_CHECK(xt_call(&g7, XS_SET_TARGET, 0,
			 "7\0"
			 "5\0",
			 4, NULL) == EACCES,
		 "guests may not SET_TARGET");
	TH_CHECK(xt_call(&d0, XS_SET_TARGET, 0,
			 "8\0"
			 "5\0",
			 4, NULL) == ENOENT,
		 "SET_TARGET of a domain not introduced");
	TH_CHECK(xt_call(&d0, XS_SET_TARGET, 0,
			 "7\0"
			 "5\0",
			 4, NULL) == 0,
		 "SET_TARGET 7 -> 5");
	TH_CHECK(xt_read(&g7, 0, H5 "/secret", NULL) == 0,
		 "7 acts as 5's owner");
	TH_CHECK(xt_write(&g7, 0, H5 "/by7", "x") == 0, "and writes");
	TH_CHECK(xt_read(&g8, 0, H5 "/secret", NULL) == EACCES,
		 "8 still cannot");
	xs_release(s, 5);
	xt_write(&d0, 0, "/of5", "x");
	do_chmod(&d0, "/of5", "n5");
	TH_CHECK(xt_read(&g7, 0, "/of5", NULL) == EACCES,
		 "releasing 5 ends 7's acting for it");
	xt_close(&d0);
	xt_close(&g7);
	xt_close(&g8);
	xs_server_free(s);
}

struct seen {
	int n;
	struct xs_auth last[16];
	char paths[16][128];
	struct xs_perm perms[8]; /* of the last SET_PERMS */
	uint32_t deny_subject, deny_target;
};

static int auth_cb(void *arg, const struct xs_auth *a)
{
	struct seen *sn = arg;

	if (sn->n < 16) {
		sn->last[sn->n] = *a;
		snprintf(sn->paths[sn->n], sizeof(sn->paths[0]), "%s",
			 a->path ? a->path : "");
		sn->n++;
	}
	if (a->op == XS_AUTH_SET_PERMS && a->nperms <= 8) {
		/* Valid during the call only. */
		memcpy(sn->perms, a->perms, sizeof(*a->perms) * a->nperms);
	}
	if (a->op == XS_AUTH_NODE && a->subject == sn->deny_subject &&
	    a->target == sn->deny_target)
		return EACCES;
	if (a->op == XS_AUTH_INTRODUCE && a->target == 9)
		return -1; /* negative: still a denial, as EACCES */
	return 0;
}

static void test_auth_callback(void)
{
	struct xs_server *s = xt_server();
	struct seen sn = {.deny_subject = 6, .deny_target = 5};
	struct xt d0, g5, g6, g7;

	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xs_server_set_auth(s, auth_cb, &sn);
	TH_CHECK(sn.n == 0, "embedder's own calls are not mediated");
	xt_open(&d0, s, 0, 0);
	xt_open(&g5, s, 5, 0);
	xt_open(&g6, s, 6, 0);
	xt_open(&g7, s, 7, 0);
	xt_write(&g5, 0, "shared", "x");
	TH_CHECK(sn.n == 0, "own nodes: no call");
	TH_CHECK(do_chmod(&g5, H5 "/shared", "n5 b6 b7") == 0, "share");
	TH_CHECK(sn.n == 1 && sn.last[0].op == XS_AUTH_SET_PERMS &&
			 sn.last[0].nperms == 3 && sn.perms[1].domid == 6 &&
			 sn.perms[1].access == 3 &&
			 !strcmp(sn.paths[0], H5 "/shared"),
		 "SET_PERMS mediated with the new list");
	sn.n = 0;
	TH_CHECK(xt_read(&g6, 0, H5 "/shared", NULL) == EACCES,
		 "callback denies 6 -> 5");
	TH_CHECK(sn.n == 1 && sn.last[0].op == XS_AUTH_NODE &&
			 sn.last[0].subject == 6 && sn.last[0].target == 5 &&
			 sn.last[0].access == XS_ACCESS_READ,
		 "NODE call for the read");
	TH_CHECK(xt_read(&g7, 0, H5 "/shared", NULL) == 0,
		 "callback allows 7 -> 5");
	TH_CHECK(xt_write(&g7, 0, H5 "/shared/new", "1") == 0,
		 "7 creates below 5's node");
	TH_CHECK(sn.last[sn.n - 1].access == XS_ACCESS_WRITE &&
			 sn.last[sn.n - 1].target == 5,
		 "creation mediated against the owner of the parent");
	TH_CHECK(xt_write(&g6, 0, H5 "/shared/new6", "1") == EACCES,
		 "callback denies 6 creating there");
	sn.n = 0;
	TH_CHECK(xt_read(&d0, 0, H5 "/shared", NULL) == 0 && sn.n == 0,
		 "privileged reads are not mediated");
	TH_CHECK(xt_call(&d0, XS_INTRODUCE, 0,
			 "8\0"
			 "1\0"
			 "1\0",
			 6, NULL) == 0 &&
			 sn.n == 1 && sn.last[0].op == XS_AUTH_INTRODUCE &&
			 sn.last[0].target == 8,
		 "INTRODUCE mediated");
	TH_CHECK(xt_call(&d0, XS_INTRODUCE, 0,
			 "9\0"
			 "1\0"
			 "1\0",
			 6, NULL) == EACCES &&
			 !xs_is_introduced(s, 9),
		 "a denied INTRODUCE changes nothing");
	TH_CHECK(xt_one(&d0, XS_RELEASE, 0, "8", NULL) == 0 &&
			 sn.last[sn.n - 1].op == XS_AUTH_RELEASE,
		 "RELEASE mediated");
	xt_close(&d0);
	xt_close(&g5);
	xt_close(&g6);
	xt_close(&g7);
	xs_server_free(s);
}

int main(void)
{
	run_steps();
	test_target();
	test_auth_callback();
	return th_done();
}
