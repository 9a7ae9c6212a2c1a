/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_domain.c - domains: introduce (home directory, @introduceDomain,
 * ids), the privileged-only requests, per-domain quotas (nodes, node
 * size, permission entries) and release (owned nodes removed or kept,
 * stale permission entries dropped, connections closed, watches fired).
 */
#include "tests/xenstore/xs_test.h"

#define H5 "/local/domain/5"

static void test_introduce(void)
{
	struct xs_server *s = xt_server();
	struct xt d0, g;
	struct xt_msg r;

	TH_CHECK(xs_introduce(s, 0, 0) == EINVAL, "dom0: EINVAL");
	TH_CHECK(xs_introduce(s, 0x7ff0, 0) == EINVAL, "DOMID_SELF: EINVAL");
	TH_CHECK(xs_introduce(s, 70000, 0) == EINVAL, "too big: EINVAL");
	TH_CHECK(xs_release(s, 0) == EINVAL, "release dom0: EINVAL");
	TH_CHECK(!xs_is_introduced(s, 5) && xs_is_introduced(s, 0),
		 "dom0 always introduced");
	TH_CHECK(xs_introduce(s, 5, XS_INTRO_MKHOME) == 0, "introduce 5");
	TH_CHECK(xs_is_introduced(s, 5), "introduced");
	xt_open(&d0, s, 0, 0);
	xt_open(&g, s, 5, 0);
	TH_CHECK(xt_one(&d0, XS_GET_PERMS, 0, H5, &r) == 0 &&
			 !strcmp(r.body, "n5"),
		 "home owned by the guest");
	/* An existing home is left alone. */
	xt_chmod(&d0, 0, H5, "n0", "r5", NULL);
	TH_CHECK(xs_introduce(s, 5, XS_INTRO_MKHOME) == 0 &&
			 xt_one(&d0, XS_GET_PERMS, 0, H5, &r) == 0 &&
			 r.h.len == 6,
		 "re-introduce keeps the home's permissions");
	TH_CHECK(xt_one(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "5", &r) == 0 &&
			 !strcmp(r.body, "T"),
		 "IS_DOMAIN_INTRODUCED T");
	TH_CHECK(xt_one(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "6", &r) == 0 &&
			 !strcmp(r.body, "F"),
		 "IS_DOMAIN_INTRODUCED F");
	TH_CHECK(xt_one(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "0", &r) == 0 &&
			 !strcmp(r.body, "T"),
		 "dom0 T");
	TH_CHECK(xt_one(&g, XS_GET_DOMAIN_PATH, 0, "7", &r) == 0 &&
			 !strcmp(r.body, "/local/domain/7"),
		 "anyone may ask for a domain path");
	TH_CHECK(xt_one(&d0, XS_GET_DOMAIN_PATH, 0, "00012", &r) == 0 &&
			 !strcmp(r.body, "/local/domain/12"),
		 "normalised");
	TH_CHECK(xt_one(&g, XS_IS_DOMAIN_INTRODUCED, 0, "5", NULL) == EACCES,
		 "guest: IS_DOMAIN_INTRODUCED EACCES");
	TH_CHECK(xt_call(&g, XS_INTRODUCE, 0,
			 "6\0"
			 "1\0"
			 "1\0",
			 6, NULL) == EACCES,
		 "guest: INTRODUCE EACCES");
	TH_CHECK(xt_one(&g, XS_RELEASE, 0, "5", NULL) == EACCES,
		 "guest: RELEASE EACCES");
	TH_CHECK(xt_one(&g, XS_RESUME, 0, "5", NULL) == EACCES,
		 "guest: RESUME EACCES");
	TH_CHECK(xt_one(&g, XS_CONTROL, 0, "check", NULL) == EACCES,
		 "guest: CONTROL EACCES");
	TH_CHECK(xt_one(&d0, XS_RESUME, 0, "5", NULL) == 0, "RESUME");
	{
		/* A privileged guest (a driver domain given XS_CONN_PRIV). */
		struct xt p;

		xt_open(&p, s, 9, XS_CONN_PRIV);
		TH_CHECK(xt_one(&p, XS_IS_DOMAIN_INTRODUCED, 0, "5", NULL) == 0,
			 "XS_CONN_PRIV: privileged");
		TH_CHECK(xt_write(&p, 0, "/tool/p", "1") == 0 &&
				 xt_one(&p, XS_GET_PERMS, 0, "/tool/p", &r) ==
					 0 &&
				 !strcmp(r.body, "n0"),
			 "and creates like dom0 (inherits the owner)");
		xt_close(&p);
	}
	xt_close(&d0);
	xt_close(&g);
	xs_server_free(s);
}

static void test_quotas(void)
{
	static char v[2100];
	struct xs_config cfg;
	struct xs_server *s;
	struct xt d0, g;
	char path[32];
	int i, rc = 0;

	xs_config_default(&cfg);
	cfg.quota_nodes = 10;
	s = xs_server_new(&cfg);
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&d0, s, 0, 0);
	xt_open(&g, s, 5, 0);
	/* The home is the first of 10. */
	for (i = 0; i < 9 && !rc; i++) {
		snprintf(path, sizeof(path), "n%d", i);
		rc = xt_write(&g, 0, path, "x");
	}
	TH_CHECK(rc == 0, "nine more");
	TH_CHECK(xt_write(&g, 0, "n9", "x") == ENOSPC, "the eleventh: ENOSPC");
	TH_CHECK(xt_write(&g, 0, "n0", "rewrite") == 0,
		 "rewriting costs nothing");
	TH_CHECK(xt_write(&g, 0, "a/b", "x") == ENOSPC,
		 "two new nodes at quota: ENOSPC, none created");
	TH_CHECK(xt_read(&g, 0, "a", NULL) == ENOENT, "nothing left behind");
	TH_CHECK(xt_write(&d0, 0, H5 "/byd0", "x") == 0,
		 "dom0 is not limited...");
	TH_CHECK(xt_one(&g, XS_RM, 0, "n0", NULL) == 0, "free one (5 owns 10)");
	TH_CHECK(xt_write(&g, 0, "n9", "x") == ENOSPC,
		 "... but what it creates for 5 counts against 5");
	TH_CHECK(xt_one(&g, XS_RM, 0, "n1", NULL) == 0 &&
			 xt_write(&g, 0, "n9", "x") == 0,
		 "room again");
	/* Node size: value + child names + 8 per permission entry. */
	memset(v, 'v', sizeof(v));
	memcpy(v, "n2\0", 3);
	TH_CHECK(xt_call(&g, XS_WRITE, 0, v, 3 + 2040, NULL) == 0,
		 "2040 + 8 = 2048: fits");
	TH_CHECK(xt_call(&g, XS_WRITE, 0, v, 3 + 2041, NULL) == ENOSPC,
		 "2041 + 8: ENOSPC");
	memcpy(v, "/local/domain/5/n2\0", 19);
	TH_CHECK(xt_call(&d0, XS_WRITE, 0, v, 19 + 2041, NULL) == 0,
		 "dom0 is not limited");
	TH_CHECK(xt_chmod(&g, 0, "n3", "n5", "r1", "r2") == 0, "three entries");
	{
		char b[128];
		size_t n = xt_strs(b, "n3", "n5", "r1", "r2", "r3", "r4", "r6",
				   NULL);

		TH_CHECK(xt_call(&g, XS_SET_PERMS, 0, b, n, NULL) == ENOSPC,
			 "six entries: ENOSPC");
		memcpy(b, "/local/domain/5/n3", 19);
		n = 19 +
		    xt_strs(b + 19, "n5", "r1", "r2", "r3", "r4", "r6", NULL);
		TH_CHECK(xt_call(&d0, XS_SET_PERMS, 0, b, n, NULL) == 0,
			 "dom0: no limit");
	}
	xt_close(&d0);
	xt_close(&g);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_release(int keep)
{
	struct xs_config cfg;
	struct xs_server *s;
	struct xt d0, g5, g5b, g6;
	struct xt_msg r;

	xs_config_default(&cfg);
	if (keep)
		cfg.flags |= XS_CFG_KEEP_ORPHANS;
	cfg.hash_seed = 1;
	s = xs_server_new(&cfg);
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xs_introduce(s, 6, XS_INTRO_MKHOME);
	xt_open(&d0, s, 0, 0);
	xt_open(&g5, s, 5, 0);
	xt_open(&g5b, s, 5, 0);
	xt_open(&g6, s, 6, 0);
	xt_write(&g5, 0, "data/x", "1");
	xt_write(&d0, 0, "/shared/of5/y", "2"); /* owned by 5 below */
	xt_chmod(&d0, 0, "/shared/of5", "n5", NULL, NULL);
	xt_write(&d0, 0, "/shared/pub", "3");
	xt_chmod(&d0, 0, "/shared/pub", "n0", "r5", "r6");
	xt_write(&g6, 0, "in6", "4");
	xt_chmod(&g6, 0, "in6", "n6", "b5", NULL);
	xt_watch(&d0, "/local/domain", "ld");
	xt_watch(&d0, "@releaseDomain", "rel");
	xt_watch(&g6, "in6", "six");
	xt_clear_ev(&d0);
	xt_clear_ev(&g6);
	TH_CHECK(xt_one(&d0, XS_RELEASE, 0, "5", NULL) == 0, "RELEASE 5");
	TH_CHECK(!xs_is_introduced(s, 5), "no longer introduced");
	TH_CHECK(xs_conn_closed(g5.c) == XS_CLOSE_RELEASED &&
			 xs_conn_closed(g5b.c) == XS_CLOSE_RELEASED,
		 "its connections are to be closed");
	TH_CHECK(xs_conn_closed(g6.c) == XS_CLOSE_NONE &&
			 xs_conn_closed(d0.c) == XS_CLOSE_NONE,
		 "nobody else's");
	TH_CHECK(xt_event(&d0, "@releaseDomain", "rel"), "@releaseDomain");
	if (!keep) {
		TH_CHECK(xt_read(&d0, 0, H5, NULL) == ENOENT &&
				 xt_read(&d0, 0, "/shared/of5", NULL) == ENOENT,
			 "owned nodes removed, with their subtrees");
		TH_CHECK(xt_event(&d0, H5, "ld"), "watch fired for the home");
	} else {
		TH_CHECK(xt_one(&d0, XS_GET_PERMS, 0, H5 "/data/x", &r) == 0 &&
				 !strcmp(r.body, "n0"),
			 "kept, given to dom0");
		TH_CHECK(xt_one(&d0, XS_GET_PERMS, 0, "/shared/of5/y", &r) ==
					 0 &&
				 !strcmp(r.body, "n0"),
			 "y was created by dom0 under 5's node: 5 owned it");
	}
	TH_CHECK(xt_one(&d0, XS_GET_PERMS, 0, "/shared/pub", &r) == 0 &&
			 r.h.len == 6 && !memcmp(r.body, "n0\0r6", 6),
		 "5's entry dropped from others' lists");
	TH_CHECK(xt_one(&g6, XS_GET_PERMS, 0, "in6", &r) == 0 && r.h.len == 3 &&
			 !strcmp(r.body, "n6"),
		 "also from a guest's node");
	TH_CHECK(xt_nev(&g6) == 0,
		 "dropping a gone domain's entry is not an event");
	xt_close(&g5);
	xt_close(&g5b);
	/* A new domain 5 inherits nothing. */
	TH_CHECK(xt_one(&d0, XS_RELEASE, 0, "5", NULL) == ENOENT,
		 "RELEASE again: ENOENT");
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&g5, s, 5, 0);
	TH_CHECK(xt_read(&g5, 0, "/shared/pub", NULL) == EACCES,
		 "new 5: no access to what old 5 was given");
	TH_CHECK(xt_read(&g5, 0, "/local/domain/6/in6", NULL) == EACCES,
		 "nor to 6's node");
	xt_close(&g5);
	xt_close(&g6);
	xt_close(&d0);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

int main(void)
{
	test_introduce();
	test_quotas();
	test_release(0);
	test_release(1);
	return th_done();
}
