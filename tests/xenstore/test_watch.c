/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_watch.c - watches: the initial event (after the reply), matching
 * (the node and its ancestors, never siblings), relative watches, events
 * on removal, who may see an event, tokens, UNWATCH, quotas, special
 * watches, RESET_WATCHES.
 */
#include "tests/xenstore/xs_test.h"

#define H5 "/local/domain/5"

static void test_initial_and_order(void)
{
	struct xs_server *s = xt_server();
	const unsigned char *p;
	struct xsd_sockmsg h1, h2;
	struct xt t;
	size_t n;

	xt_open(&t, s, 0, 0);
	/* Raw: the reply comes first, then the initial event. */
	{
		unsigned char buf[64];
		struct xsd_sockmsg h = {XS_WATCH, 77, 0, 8};

		memcpy(buf, &h, 16);
		memcpy(buf + 16, "/a/b\0tk\0", 8);
		xs_conn_input(t.c, buf, 24);
	}
	n = xs_conn_output(t.c, (const void **)&p);
	memcpy(&h1, p, 16);
	memcpy(&h2, p + 16 + h1.len, 16);
	TH_CHECK(h1.type == XS_WATCH && h1.req_id == 77 && h1.len == 3,
		 "reply first");
	TH_CHECK(h2.type == XS_WATCH_EVENT && h2.req_id == 0 && h2.tx_id == 0 &&
			 h2.len == 8 &&
			 !memcmp(p + 16 + h1.len + 16, "/a/b\0tk\0", 8),
		 "then the event \"path\\0token\\0\"");
	TH_CHECK(n == 16 + 3 + 16 + 8, "nothing else");
	xs_conn_output_done(t.c, n);
	xt_close(&t);
	xs_server_free(s);
}

static void test_matching(void)
{
	struct xs_server *s = xt_server();
	struct xt w, root, a;
	int i;

	xt_open(&a, s, 0, 0);
	xt_open(&w, s, 0, 0);
	xt_open(&root, s, 0, 0);
	TH_CHECK(xt_watch(&w, "/m/n", "t") == 0, "watch /m/n");
	TH_CHECK(xt_watch(&root, "/", "all") == 0, "watch /");
	TH_CHECK(xt_event(&w, "/m/n", "t") && xt_event(&root, "/", "all"),
		 "initial events, for paths that do not exist yet too");
	xt_write(&a, 0, "/m/n/o/p", "1");
	TH_CHECK(xt_event(&w, "/m/n/o/p", "t"), "descendant write");
	TH_CHECK(xt_event(&root, "/m/n/o/p", "all"), "/ sees all");
	xt_write(&a, 0, "/m/nn", "1");
	TH_CHECK(!xt_event(&w, "/m/nn", "t"), "/m/nn is not below /m/n");
	xt_write(&a, 0, "/m", "1");
	TH_CHECK(xt_nev(&w) == 0, "an ancestor's write is not an event");
	xt_one(&a, XS_MKDIR, 0, "/m/n/o", NULL);
	TH_CHECK(xt_nev(&w) == 0, "mkdir of an existing node: no event");
	/* Removal: watchers of the node and above get its path; watchers
	 * below get their own path (exactly theirs). */
	xt_clear_ev(&root);
	TH_CHECK(xt_watch(&w, "/m/n/o/p", "deep") == 0 &&
			 xt_event(&w, "/m/n/o/p", "deep"),
		 "watch deeper");
	TH_CHECK(xt_watch(&w, "/m/n/o/p/q", "deeper") == 0 &&
			 xt_event(&w, "/m/n/o/p/q", "deeper"),
		 "watch a path that does not exist");
	xt_one(&a, XS_RM, 0, "/m/n", NULL);
	TH_CHECK(xt_event(&w, "/m/n", "t"), "rm: the watched node itself");
	TH_CHECK(xt_event(&w, "/m/n/o/p", "deep"),
		 "rm of an ancestor: the descendant's own path");
	TH_CHECK(!xt_event(&w, "/m/n/o/p/q", "deeper"),
		 "nothing for a path that never existed");
	TH_CHECK(xt_event(&root, "/m/n", "all"), "rm seen by /");
	/* Two tokens on one path: two events. */
	TH_CHECK(xt_watch(&w, "/m", "x") == 0 && xt_watch(&w, "/m", "y") == 0,
		 "two tokens");
	TH_CHECK(xt_watch(&w, "/m", "x") == EEXIST, "same token: EEXIST");
	xt_clear_ev(&w);
	xt_write(&a, 0, "/m/z", "1");
	TH_CHECK(xt_event(&w, "/m/z", "x") && xt_event(&w, "/m/z", "y"),
		 "both tokens fire");
	TH_CHECK(xt_call(&w, XS_UNWATCH, 0, "/m\0x\0", 5, NULL) == 0,
		 "unwatch x");
	TH_CHECK(xt_call(&w, XS_UNWATCH, 0, "/m\0x\0", 5, NULL) == ENOENT,
		 "unwatch x again");
	TH_CHECK(xt_call(&w, XS_UNWATCH, 0, "/m\0y\0", 5, NULL) == 0,
		 "unwatch y");
	xt_clear_ev(&w);
	xt_write(&a, 0, "/m/z", "2");
	TH_CHECK(xt_nev(&w) == 0, "no watch, no event");
	/* Events are also for one's own writes. */
	xt_watch(&a, "/self", "me");
	xt_clear_ev(&a);
	xt_write(&a, 0, "/self", "1");
	TH_CHECK(xt_event(&a, "/self", "me"), "own write");
	for (i = 0; i < 3; i++)
		TH_CHECK(xs_conn_closed(i == 0	 ? w.c
					: i == 1 ? a.c
						 : root.c) == XS_CLOSE_NONE,
			 "open");
	xt_close(&a);
	xt_close(&w);
	xt_close(&root);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_relative(void)
{
	struct xs_server *s = xt_server();
	struct xt g, d0;

	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&g, s, 5, 0);
	xt_open(&d0, s, 0, 0);
	TH_CHECK(xt_watch(&g, "device", "rel") == 0, "relative watch");
	TH_CHECK(xt_event(&g, "device", "rel"), "initial, relative");
	xt_write(&d0, 0, H5 "/device/vif/0", "x");
	TH_CHECK(xt_event(&g, "device/vif/0", "rel"), "event relative");
	TH_CHECK(xt_watch(&g, H5 "/device", "abs") == 0 &&
			 xt_event(&g, H5 "/device", "abs"),
		 "absolute watch of the same node");
	xt_write(&d0, 0, H5 "/device/vbd", "x");
	TH_CHECK(xt_event(&g, "device/vbd", "rel") &&
			 xt_event(&g, H5 "/device/vbd", "abs"),
		 "each in its own form");
	{
		char b[64];
		size_t n = xt_strs(b, H5 "/device", "rel", NULL);

		TH_CHECK(xt_call(&g, XS_UNWATCH, 0, b, n, NULL) == 0,
			 "unwatch a relative watch by its absolute path");
	}
	TH_CHECK(xt_call(&g, XS_WATCH, 0, "\0home", 6, NULL) == EINVAL,
		 "empty path");
	xt_close(&g);
	xt_close(&d0);
	xs_server_free(s);
}

static void test_permissions(void)
{
	struct xs_server *s = xt_server();
	struct xt g5, g6, d0;

	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xs_introduce(s, 6, XS_INTRO_MKHOME);
	xt_open(&g5, s, 5, 0);
	xt_open(&g6, s, 6, 0);
	xt_open(&d0, s, 0, 0);
	TH_CHECK(xt_watch(&g6, H5, "spy") == 0, "6 may watch 5's home");
	TH_CHECK(xt_event(&g6, H5, "spy"), "and gets the initial event");
	xt_write(&g5, 0, "secret", "1");
	TH_CHECK(xt_nev(&g6) == 0, "but no event on what it cannot read");
	xt_write(&g5, 0, "pub/x", "1");
	xt_chmod(&g5, 0, "pub", "n5", "r6", NULL);
	xt_clear_ev(&g6);
	xt_write(&g5, 0, "pub/x", "2");
	TH_CHECK(xt_event(&g6, H5 "/pub/x", "spy"),
		 "a node whose parent it can read");
	xt_chmod(&g5, 0, "pub/x", "n5", "r6", NULL);
	xt_chmod(&g5, 0, "pub", "n5", NULL, NULL);
	xt_clear_ev(&g6);
	xt_write(&g5, 0, "pub/x", "3");
	TH_CHECK(xt_event(&g6, H5 "/pub/x", "spy"), "a node it can read");
	xt_chmod(&g5, 0, "pub/x", "n5", NULL, NULL);
	TH_CHECK(xt_event(&g6, H5 "/pub/x", "spy"),
		 "the change that takes its access away");
	xt_write(&g5, 0, "pub/x", "4");
	TH_CHECK(xt_nev(&g6) == 0, "and then nothing");
	xt_one(&g5, XS_RM, 0, "secret", NULL);
	TH_CHECK(xt_nev(&g6) == 0, "nor the removal of what it cannot see");
	xt_close(&g5);
	xt_close(&g6);
	xt_close(&d0);
	xs_server_free(s);
}

static void test_quota_and_limits(void)
{
	struct xs_config cfg;
	struct xs_server *s;
	struct xt g, g2, d0;
	static char big[4200];
	char tok[16];
	int i;

	xs_config_default(&cfg);
	cfg.quota_watches = 3;
	s = xs_server_new(&cfg);
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&g, s, 5, 0);
	xt_open(&g2, s, 5, 0);
	xt_open(&d0, s, 0, 0);
	TH_CHECK(xt_watch(&g, "a", "1") == 0 && xt_watch(&g, "b", "1") == 0,
		 "two");
	TH_CHECK(xt_watch(&g2, "c", "1") == 0, "three, on another connection");
	TH_CHECK(xt_watch(&g, "d", "1") == E2BIG, "the domain's fourth: E2BIG");
	TH_CHECK(xt_watch(&g, "a", "1") == EEXIST, "a duplicate is EEXIST");
	TH_CHECK(xt_call(&g, XS_UNWATCH, 0,
			 "a\0"
			 "1",
			 4, NULL) == 0 &&
			 xt_watch(&g, "d", "1") == 0,
		 "room again after UNWATCH");
	xt_close(&g2);
	TH_CHECK(xt_watch(&g, "e", "1") == 0,
		 "a closed connection's watches are gone");
	for (i = 0; i < 10; i++) {
		snprintf(tok, sizeof(tok), "%d", i);
		TH_CHECK(xt_watch(&d0, "/x", tok) == 0, "dom0 unlimited");
	}
	/* An event longer than a message is not sent (Xen): a token that
	 * fits with the watched path, not with a longer path below it. */
	memset(big, 'k', sizeof(big));
	memcpy(big, "/x\0", 3);
	big[3 + 4091] = '\0';
	xt_clear_ev(&d0);
	TH_CHECK(xt_call(&d0, XS_WATCH, 0, big, 3 + 4092, NULL) == 0,
		 "watch with a long token");
	TH_CHECK(xt_nev(&d0) == 1, "its initial event fits");
	xt_clear_ev(&d0);
	xt_write(&d0, 0, "/x/abc", "1");
	TH_CHECK(xt_nev(&d0) == 10, "/x/abc with it would not: not sent");
	{
		struct xs_stats st;

		xs_server_stats(s, &st);
		TH_CHECK(st.watches == 3 + 10 + 1, "stats: %u watches",
			 st.watches);
	}
	xt_clear_ev(&d0);
	TH_CHECK(xt_call(&d0, XS_RESET_WATCHES, 0, "", 1, NULL) == 0, "reset");
	xt_write(&d0, 0, "/x", "1");
	TH_CHECK(xt_nev(&d0) == 0, "no watches after RESET_WATCHES");
	xt_close(&g);
	xt_close(&d0);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_special(void)
{
	struct xs_server *s = xt_server();
	struct xt d0, g5, g6;

	xt_open(&d0, s, 0, 0);
	xt_open(&g5, s, 5, 0);
	xt_open(&g6, s, 6, 0);
	TH_CHECK(xt_watch(&d0, "@introduceDomain", "i") == 0 &&
			 xt_watch(&d0, "@releaseDomain", "r") == 0,
		 "dom0 watches both");
	TH_CHECK(xt_watch(&g5, "@releaseDomain", "r") == 0,
		 "a guest may set the watch");
	TH_CHECK(xt_event(&d0, "@introduceDomain", "i") &&
			 xt_event(&d0, "@releaseDomain", "r") &&
			 xt_event(&g5, "@releaseDomain", "r"),
		 "initial events");
	TH_CHECK(xs_introduce(s, 7, 0) == 0, "introduce 7");
	TH_CHECK(xt_event(&d0, "@introduceDomain", "i"), "@introduceDomain");
	TH_CHECK(xs_introduce(s, 7, 0) == 0 && xt_nev(&d0) == 0,
		 "introducing again: no event");
	TH_CHECK(xt_call(&d0, XS_INTRODUCE, 0,
			 "8\0"
			 "12\0"
			 "3\0",
			 7, NULL) == 0 &&
			 xt_event(&d0, "@introduceDomain", "i"),
		 "INTRODUCE on the wire");
	TH_CHECK(xt_one(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "8", NULL) == 0,
		 "IS_DOMAIN_INTRODUCED");
	TH_CHECK(xt_one(&d0, XS_RELEASE, 0, "8", NULL) == 0 &&
			 xt_event(&d0, "@releaseDomain", "r"),
		 "@releaseDomain to dom0");
	TH_CHECK(xt_nev(&g5) == 0, "not to a guest without permission");
	xt_chmod(&d0, 0, "@releaseDomain", "n0", "r5", NULL);
	xs_release(s, 7);
	TH_CHECK(xt_event(&g5, "@releaseDomain", "r") &&
			 xt_event(&d0, "@releaseDomain", "r"),
		 "to 5 once allowed");
	xs_fire_release_watch(s);
	TH_CHECK(xt_event(&g5, "@releaseDomain", "r"), "xs_fire_release_watch");
	TH_CHECK(xt_watch(&g6, "@whatever", "w") == 0 &&
			 xt_event(&g6, "@whatever", "w"),
		 "any @name may be watched (and never fires)");
	xt_close(&d0);
	xt_close(&g5);
	xt_close(&g6);
	xs_server_free(s);
}

int main(void)
{
	test_initial_and_order();
	test_matching();
	test_relative();
	test_permissions();
	test_quota_and_limits();
	test_special();
	return th_done();
}
