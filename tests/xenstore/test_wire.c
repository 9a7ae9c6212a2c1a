/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wire.c - framing and the checks every request passes: split and
 * batched input, replies echoing req_id/tx_id, malformed payloads,
 * unknown types, oversize headers (that connection closes, no other),
 * backpressure, event overflow, the ready set and xs_server_call.
 */
#include "tests/xenstore/xs_test.h"

static void put_hdr(unsigned char *b, uint32_t type, uint32_t req, uint32_t tx,
		    uint32_t len)
{
	struct xsd_sockmsg h = {type, req, tx, len};

	memcpy(b, &h, sizeof(h));
}

static void test_split_and_batch(void)
{
	struct xs_server *s = xt_server();
	unsigned char buf[256];
	struct xt t;
	struct xt_msg r;
	size_t n = 0, i;
	int got = 0;

	xt_open(&t, s, 0, 0);
	/* Three messages in one buffer, fed one byte at a time. */
	put_hdr(buf + n, XS_WRITE, 7, 0, 6);
	memcpy(buf + n + 16, "/a\0val", 6);
	n += 22;
	put_hdr(buf + n, XS_READ, 8, 0, 3);
	memcpy(buf + n + 16, "/a\0", 3);
	n += 19;
	put_hdr(buf + n, XS_GET_DOMAIN_PATH, 9, 0, 2);
	memcpy(buf + n + 16, "5\0", 2);
	n += 18;
	for (i = 0; i < n; i++)
		TH_CHECK(xs_conn_input(t.c, buf + i, 1) == 1, "byte %zu", i);
	/* Replies in order, each echoing its req_id. */
	{
		const unsigned char *p;
		size_t len = xs_conn_output(t.c, (const void **)&p), off = 0;
		uint32_t want[3] = {7, 8, 9};
		const char *body[3] = {"OK", "val", "/local/domain/5"};

		while (off + 16 <= len && got < 3) {
			memcpy(&r.h, p + off, 16);
			memcpy(r.body, p + off + 16, r.h.len);
			r.body[r.h.len] = '\0';
			TH_CHECK(r.h.req_id == want[got], "req_id %u",
				 r.h.req_id);
			TH_CHECK(!strcmp(r.body, body[got]), "body %s", r.body);
			off += 16 + r.h.len;
			got++;
		}
		TH_CHECK(got == 3 && off == len, "three replies, nothing else");
		xs_conn_output_done(t.c, off);
	}
	/* The same three in one call. */
	TH_CHECK(xs_conn_input(t.c, buf, n) == n, "batch taken");
	TH_CHECK(xs_conn_pending(t.c) == (16 + 3) + (16 + 3) + (16 + 16),
		 "batch replied");
	xt_close(&t);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

struct bad {
	const char *name;
	uint32_t type;
	const char *payload;
	size_t len;
	int want;
};

static void test_malformed(void)
{
	static const struct bad cases[] = {
		{"read: no NUL", XS_READ, "/a", 2, EINVAL},
		{"read: empty", XS_READ, "", 0, EINVAL},
		{"read: two strings", XS_READ, "/a\0/b", 6, EINVAL},
		{"read: empty path", XS_READ, "", 1, EINVAL},
		{"read: bad char", XS_READ, "/a b", 5, EINVAL},
		{"read: double slash", XS_READ, "/a//b", 6, EINVAL},
		{"read: trailing slash", XS_READ, "/a/", 4, EINVAL},
		{"read: special", XS_READ, "@releaseDomain", 15, EINVAL},
		{"read: missing", XS_READ, "/nope", 6, ENOENT},
		{"write: no NUL", XS_WRITE, "/a", 2, EINVAL},
		{"write: bad path", XS_WRITE, "/a/\0x", 5, EINVAL},
		{"mkdir: no NUL", XS_MKDIR, "/a", 2, EINVAL},
		{"rm: root", XS_RM, "/", 2, EINVAL},
		{"rm: parent missing", XS_RM, "/x/y/z", 7, ENOENT},
		{"directory: bad", XS_DIRECTORY, "//", 3, EINVAL},
		{"dirpart: one string", XS_DIRECTORY_PART, "/", 2, EINVAL},
		{"dirpart: bad offset", XS_DIRECTORY_PART, "/\0x1", 5, EINVAL},
		{"dirpart: unterminated", XS_DIRECTORY_PART,
		 "/\0"
		 "0\0x",
		 5, EINVAL},
		{"get_perms: unknown special", XS_GET_PERMS, "@foo", 5, EINVAL},
		{"set_perms: no perms", XS_SET_PERMS, "/tool", 6, EINVAL},
		{"set_perms: bad letter", XS_SET_PERMS, "/tool\0x0", 9, EINVAL},
		{"set_perms: no domid", XS_SET_PERMS, "/tool\0r", 8, EINVAL},
		{"set_perms: domid too big", XS_SET_PERMS, "/tool\0r70000", 13,
		 EINVAL},
		{"set_perms: trailing bytes", XS_SET_PERMS, "/tool\0r0\0zz", 12,
		 EINVAL},
		{"watch: one string", XS_WATCH, "/a", 3, EINVAL},
		{"watch: three strings", XS_WATCH, "/a\0t\0x", 7, EINVAL},
		{"watch: bad path", XS_WATCH, "/a//\0t", 6, EINVAL},
		{"unwatch: not watched", XS_UNWATCH, "/a\0t", 5, ENOENT},
		{"unwatch: one string", XS_UNWATCH, "/a", 3, EINVAL},
		{"tx_end: bad arg", XS_TRANSACTION_END, "X", 2, EINVAL},
		{"tx_end: no tx", XS_TRANSACTION_END, "T", 2, ENOENT},
		{"tx_end: TT", XS_TRANSACTION_END, "TT", 3, EINVAL},
		{"domain path: garbage", XS_GET_DOMAIN_PATH, "5x", 3, EINVAL},
		{"domain path: too big", XS_GET_DOMAIN_PATH, "65536", 6,
		 EINVAL},
		{"domain path: signed", XS_GET_DOMAIN_PATH, "-1", 3, EINVAL},
		{"introduce: too few", XS_INTRODUCE,
		 "5\0"
		 "1",
		 4, EINVAL},
		{"introduce: dom0", XS_INTRODUCE,
		 "0\0"
		 "1\0"
		 "1",
		 6, EINVAL},
		{"introduce: reserved", XS_INTRODUCE,
		 "32752\0"
		 "1\0"
		 "1",
		 10, EINVAL},
		{"release: not introduced", XS_RELEASE, "9", 2, ENOENT},
		{"release: dom0", XS_RELEASE, "0", 2, EINVAL},
		{"set_target: unknown", XS_SET_TARGET,
		 "9\0"
		 "1",
		 4, ENOENT},
		{"resume: unknown", XS_RESUME, "9", 2, ENOENT},
		{"control: unknown", XS_CONTROL, "frob", 5, EINVAL},
		{"control: no NUL", XS_CONTROL, "help", 4, EINVAL},
		{"type: WATCH_EVENT", XS_WATCH_EVENT, "", 0, ENOSYS},
		{"type: ERROR", XS_ERROR, "", 0, ENOSYS},
		{"type: removed RESTRICT", 20, "", 0, ENOSYS},
		{"type: count", XS_TYPE_COUNT, "", 0, ENOSYS},
		{"type: invalid", XS_INVALID, "", 0, ENOSYS},
		{"type: huge", 0xffffffffu, "", 0, ENOSYS},
	};
	struct xs_server *s = xt_server();
	struct xt t;
	size_t i;

	xt_open(&t, s, 0, 0);
	for (i = 0; i < TH_ARRAY_LEN(cases); i++) {
		int rc = xt_call(&t, cases[i].type, 0, cases[i].payload,
				 cases[i].len, NULL);

		TH_CHECK(rc == cases[i].want, "%s: got %d (%s), want %s",
			 cases[i].name, rc, rc > 0 ? xs_errno_name(rc) : "?",
			 xs_errno_name(cases[i].want));
	}
	TH_CHECK(xs_conn_closed(t.c) == XS_CLOSE_NONE,
		 "bad requests do not close the connection");
	TH_CHECK(xt_write(&t, 0, "/still", "works") == 0, "still usable");
	xt_close(&t);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_bad_txid(void)
{
	struct xs_server *s = xt_server();
	struct xt t;

	xt_open(&t, s, 0, 0);
	/* Which check wins: an unknown type is ENOSYS before the tx_id is
	 * looked at; a privileged type from a guest is EACCES before it. */
	TH_CHECK(xt_call(&t, XS_READ, 42, "/\0", 2, NULL) == ENOENT,
		 "unknown tx_id: ENOENT");
	TH_CHECK(xt_call(&t, 99, 42, "", 0, NULL) == ENOSYS,
		 "unknown type beats bad tx_id");
	/* WATCH ignores the tx_id altogether. */
	TH_CHECK(xt_call(&t, XS_WATCH, 42, "/\0t\0", 4, NULL) == 0,
		 "watch ignores tx_id");
	xt_close(&t);
	xt_open(&t, s, 3, 0);
	TH_CHECK(xt_call(&t, XS_INTRODUCE, 42,
			 "5\0"
			 "1\0"
			 "1\0",
			 6, NULL) == EACCES,
		 "privileged-only beats bad tx_id");
	xt_close(&t);
	xs_server_free(s);
}

static void test_oversize_closes_only_that(void)
{
	struct xs_server *s = xt_server();
	unsigned char buf[32];
	struct xt bad, good;

	xt_open(&bad, s, 3, 0);
	xt_open(&good, s, 4, 0);
	put_hdr(buf, XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1);
	/* Split header: the check happens when the header is complete. */
	TH_CHECK(xs_conn_input(bad.c, buf, 10) == 10, "partial header taken");
	xs_conn_input(bad.c, buf + 10, 6);
	TH_CHECK(xs_conn_closed(bad.c) == XS_CLOSE_PROTOCOL,
		 "oversize header closes the connection");
	TH_CHECK(xs_conn_input(bad.c, buf, 16) == 0,
		 "a closed connection takes nothing");
	TH_CHECK(xs_server_next_ready(s) == bad.c, "closed is ready");
	TH_CHECK(xs_conn_closed(good.c) == XS_CLOSE_NONE, "other unaffected");
	TH_CHECK(xt_call(&good, XS_GET_DOMAIN_PATH, 0, "4", 2, NULL) == 0,
		 "other still works");
	/* Exactly the maximum is fine. */
	{
		static unsigned char big[16 + XENSTORE_PAYLOAD_MAX];

		memset(big, 'a', sizeof(big));
		put_hdr(big, XS_WRITE, 5, 0, XENSTORE_PAYLOAD_MAX);
		big[16] = '/';
		big[18] = '\0';
		TH_CHECK(xs_conn_input(good.c, big, sizeof(big)) == sizeof(big),
			 "max payload taken");
		TH_CHECK(xs_conn_closed(good.c) == XS_CLOSE_NONE,
			 "max payload accepted");
	}
	xt_close(&bad);
	xt_close(&good);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_backpressure(void)
{
	struct xs_config cfg;
	struct xs_server *s;
	unsigned char buf[19 * 100];
	struct xt t;
	size_t n, i;

	xs_config_default(&cfg);
	cfg.out_soft = 100; /* a few replies */
	s = xs_server_new(&cfg);
	xt_open(&t, s, 0, 0);
	for (i = 0; i < 100; i++) {
		put_hdr(buf + i * 19, XS_READ, (uint32_t)i, 0, 3);
		memcpy(buf + i * 19 + 16, "/a\0", 3);
	}
	xt_write(&t, 0, "/a", "0123456789");
	n = xs_conn_input(t.c, buf, sizeof(buf));
	TH_CHECK(n < sizeof(buf) && n % 19 == 0, "stops taking input (%zu)", n);
	TH_CHECK(xs_conn_pending(t.c) >= 100, "backlog reached");
	/* Once the peer reads, the rest goes in. */
	while (n < sizeof(buf)) {
		const void *p;

		xs_conn_output_done(t.c, xs_conn_output(t.c, &p));
		n += xs_conn_input(t.c, buf + n, sizeof(buf) - n);
	}
	TH_CHECK(n == sizeof(buf), "all taken eventually");
	xt_close(&t);
	xs_server_free(s);
}

static void test_event_overflow(void)
{
	struct xs_config cfg;
	struct xs_server *s;
	struct xt w, other, d0;
	char val[8];
	int i;

	xs_config_default(&cfg);
	cfg.out_hard = 2000;
	s = xs_server_new(&cfg);
	xt_open(&d0, s, 0, 0);
	xt_open(&w, s, 5, 0);
	xt_open(&other, s, 6, 0);
	xt_write(&d0, 0, "/pub/x", "0");
	xt_chmod(&d0, 0, "/pub", "r0", NULL, NULL);
	xt_chmod(&d0, 0, "/pub/x", "r0", NULL, NULL);
	TH_CHECK(xt_watch(&w, "/pub", "t") == 0, "guest watch");
	TH_CHECK(xt_watch(&other, "/pub", "t") == 0, "other watch");
	xt_pump(&other, NULL);
	/* w never reads; other does. */
	for (i = 0; i < 200; i++) {
		snprintf(val, sizeof(val), "%d", i);
		xt_write(&d0, 0, "/pub/x", val);
		xt_pump(&other, NULL);
		other.nev = 0;
	}
	TH_CHECK(xs_conn_closed(w.c) == XS_CLOSE_OVERFLOW,
		 "non-reading watcher closed (%d)", xs_conn_closed(w.c));
	TH_CHECK(xs_conn_pending(w.c) == 0, "its backlog freed");
	TH_CHECK(xs_conn_closed(other.c) == XS_CLOSE_NONE,
		 "reading watcher unaffected");
	TH_CHECK(xs_conn_closed(d0.c) == XS_CLOSE_NONE, "writer unaffected");
	xt_close(&w);
	xt_close(&other);
	xt_close(&d0);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static struct xs_conn *notified[8];
static int nnotified;

static void on_ready(void *arg, struct xs_conn *c)
{
	(void)arg;
	if (nnotified < 8)
		notified[nnotified++] = c;
}

static void test_ready_set(void)
{
	struct xs_server *s = xt_server();
	struct xt a, b;

	xs_server_set_notify(s, on_ready, NULL);
	xt_open(&a, s, 0, 0);
	xt_open(&b, s, 0, 0);
	xt_watch(&b, "/r", "t");
	while (xs_server_next_ready(s))
		;
	xt_pump(&b, NULL);
	nnotified = 0;
	/* a's write gives a a reply and b an event. */
	xt_write(&a, 0, "/r/x", "1");
	TH_CHECK(nnotified == 2, "two notifications (%d)", nnotified);
	{
		struct xs_conn *r1 = xs_server_next_ready(s);
		struct xs_conn *r2 = xs_server_next_ready(s);

		/* xt_write pumped a's reply already, so only b is left
		 * with output. */
		TH_CHECK(r1 == b.c && r2 == NULL, "b ready, a drained");
	}
	TH_CHECK(xt_event(&b, "/r/x", "t"), "b's event");
	xs_conn_set_user(a.c, &a);
	TH_CHECK(xs_conn_user(a.c) == &a && xs_conn_domid(b.c) == 0, "user");
	xt_close(&a);
	xt_close(&b);
	xs_server_free(s);
}

static void test_server_call(void)
{
	struct xs_server *s = xt_server();
	const char *perms[2] = {"n5", "r6"};
	char out[64];
	size_t len = 0;
	struct xs_stats st;

	TH_CHECK(xs_server_write(s, "/d/x", "hello") == 0, "write");
	TH_CHECK(xs_server_call(s, XS_READ, "/d/x", 5, out, sizeof(out),
				&len) == 0 &&
			 len == 5 && !memcmp(out, "hello", 5),
		 "read back");
	TH_CHECK(xs_server_call(s, XS_READ, "/d/y", 5, out, sizeof(out),
				&len) == ENOENT,
		 "missing: ENOENT");
	TH_CHECK(xs_server_chmod(s, "/d/x", perms, 2) == 0, "chmod");
	TH_CHECK(xs_server_call(s, XS_GET_PERMS, "/d/x", 5, out, sizeof(out),
				&len) == 0 &&
			 len == 6 && !memcmp(out, "n5\0r6\0", 6),
		 "perms");
	TH_CHECK(xs_server_call(s, XS_WATCH, "/d\0t", 5, NULL, 0, NULL) ==
			 EINVAL,
		 "no watches without a connection");
	TH_CHECK(xs_server_call(s, XS_TRANSACTION_START, "", 1, NULL, 0,
				NULL) == EINVAL,
		 "no transactions without a connection");
	TH_CHECK(xs_server_mkdir(s, "/d/e/f") == 0, "mkdir");
	TH_CHECK(xs_server_rm(s, "/d") == 0, "rm");
	TH_CHECK(xs_server_call(s, XS_CONTROL, "check", 6, NULL, 0, NULL) == 0,
		 "control check");
	TH_CHECK(xs_server_call(s, XS_CONTROL, "help", 5, out, sizeof(out),
				&len) == 0 &&
			 len > 5,
		 "control help");
	TH_CHECK(xs_server_call(s, XS_READ, out, XENSTORE_PAYLOAD_MAX + 1, NULL,
				0, NULL) == E2BIG,
		 "oversize call");
	xs_server_stats(s, &st);
	/* "/", "/tool", "/tool/xenstored", "/local", "/local/domain". */
	TH_CHECK(st.connections == 0 && st.nodes == 5,
		 "stats: %u conns, %u nodes", st.connections, st.nodes);
	TH_CHECK(xs_server_next_ready(s) == NULL,
		 "the internal connection is never ready");
	xs_server_free(s);
}

static void test_errno_names(void)
{
	TH_CHECK(!strcmp(xs_errno_name(EACCES), "EACCES"), "EACCES");
	TH_CHECK(!strcmp(xs_errno_name(E2BIG), "E2BIG"), "E2BIG");
	TH_CHECK(!strcmp(xs_errno_name(EOVERFLOW), "EINVAL"),
		 "unnamed errno: EINVAL, as Xen");
	TH_CHECK(xs_errno_parse("EAGAIN", 7) == EAGAIN, "parse with NUL");
	TH_CHECK(xs_errno_parse("ENOSPC", 6) == ENOSPC, "parse without NUL");
	TH_CHECK(xs_errno_parse("EQUOTA", 7) == EINVAL, "unknown: EINVAL");
	TH_CHECK(strlen(xs_close_reason_str(XS_CLOSE_OVERFLOW)) > 0, "reason");
}

int main(void)
{
	test_split_and_batch();
	test_malformed();
	test_bad_txid();
	test_oversize_closes_only_that();
	test_backpressure();
	test_event_overflow();
	test_ready_set();
	test_server_call();
	test_errno_names();
	return th_done();
}
