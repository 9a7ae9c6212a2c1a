/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_test.h - what the XenStore unit tests share: a test connection that
 * sends hand-built wire messages into the library (xs_conn_input) and
 * parses what comes back (xs_conn_output), keeping watch events apart
 * from replies, as a client would.
 *
 * Header-only (static functions) so that each test is one file.
 */
#ifndef HVSEC_TESTS_XS_TEST_H
#define HVSEC_TESTS_XS_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "hypervisor/xenstore/xs.h"
#include "tests/harness.h"

#define XT_MAX_EV 256

struct xt_msg {
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX + 1]; /* NUL-terminated for tests */
};

struct xt {
	struct xs_server *srv;
	struct xs_conn *c;
	uint32_t domid;
	uint32_t req;
	struct xt_msg ev[XT_MAX_EV]; /* watch events received, in order */
	int nev;
	int dropped; /* events beyond XT_MAX_EV */
};

static inline struct xs_server *xt_server(void)
{
	struct xs_config cfg;
	struct xs_server *s;

	xs_config_default(&cfg);
	cfg.hash_seed = 12345; /* reproducible */
	s = xs_server_new(&cfg);
	if (!s) {
		fprintf(stderr, "FAIL: xs_server_new\n");
		exit(1);
	}
	return s;
}

static inline void xt_open(struct xt *t, struct xs_server *s, uint32_t domid,
			   uint32_t flags)
{
	memset(t, 0, sizeof(*t));
	t->srv = s;
	t->domid = domid;
	t->c = xs_conn_new(s, domid, flags);
	if (!t->c) {
		fprintf(stderr, "FAIL: xs_conn_new\n");
		exit(1);
	}
}

static inline void xt_close(struct xt *t)
{
	xs_conn_free(t->c);
	t->c = NULL;
}

/* Moves every complete message queued on t's connection: events to
 * t->ev, the reply (if one is there and reply != NULL) to *reply.
 * Returns 1 if a reply was taken. */
static inline int xt_pump(struct xt *t, struct xt_msg *reply)
{
	const unsigned char *p;
	size_t n, off = 0;
	int got = 0;

	n = xs_conn_output(t->c, (const void **)&p);
	while (n - off >= sizeof(struct xsd_sockmsg)) {
		struct xt_msg m;

		memcpy(&m.h, p + off, sizeof(m.h));
		if (m.h.len > XENSTORE_PAYLOAD_MAX ||
		    n - off - sizeof(m.h) < m.h.len)
			break;
		memcpy(m.body, p + off + sizeof(m.h), m.h.len);
		m.body[m.h.len] = '\0';
		off += sizeof(m.h) + m.h.len;
		if (m.h.type == XS_WATCH_EVENT) {
			if (t->nev < XT_MAX_EV)
				t->ev[t->nev++] = m;
			else
				t->dropped++;
		} else if (reply) {
			*reply = m;
			got = 1;
		}
	}
	xs_conn_output_done(t->c, off);
	return got;
}

/* Sends one request and returns its reply in *r.  0 if the reply is not
 * an error, else the errno it names. */
static inline int xt_call(struct xt *t, uint32_t type, uint32_t tx,
			  const void *payload, size_t len, struct xt_msg *r)
{
	unsigned char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {
		.type = type,
		.req_id = ++t->req,
		.tx_id = tx,
		.len = (uint32_t)len,
	};
	struct xt_msg tmp;

	if (!r)
		r = &tmp;
	xt_pump(t, NULL);
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	if (xs_conn_input(t->c, buf, sizeof(h) + len) != sizeof(h) + len)
		return -1;
	if (!xt_pump(t, r))
		return -2;
	if (r->h.req_id != h.req_id || r->h.tx_id != tx)
		return -3;
	if (r->h.type == XS_ERROR)
		return xs_errno_parse(r->body, r->h.len);
	return r->h.type == type ? 0 : -4;
}

/* Payload of NUL-separated strings: xt_strs(buf, &len, "a", "b", NULL)
 * makes "a\0b\0". */
static inline size_t xt_strs(char *buf, const char *first, ...)
{
	size_t off = 0, l;
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		l = strlen(s) + 1;
		memcpy(buf + off, s, l);
		off += l;
	}
	va_end(ap);
	return off;
}

static inline int xt_one(struct xt *t, uint32_t type, uint32_t tx,
			 const char *arg, struct xt_msg *r)
{
	return xt_call(t, type, tx, arg, strlen(arg) + 1, r);
}

static inline int xt_write(struct xt *t, uint32_t tx, const char *path,
			   const char *val)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(val);

	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	return xt_call(t, XS_WRITE, tx, buf, pl + vl, NULL);
}

/* Reads path; the value (NUL-terminated) in r->body. */
static inline int xt_read(struct xt *t, uint32_t tx, const char *path,
			  struct xt_msg *r)
{
	return xt_one(t, XS_READ, tx, path, r);
}

static inline int xt_chmod(struct xt *t, uint32_t tx, const char *path,
			   const char *p1, const char *p2, const char *p3)
{
	char buf[512];
	size_t n = xt_strs(buf, path, p1, p2, p3, NULL);

	return xt_call(t, XS_SET_PERMS, tx, buf, n, NULL);
}

static inline int xt_watch(struct xt *t, const char *path, const char *tok)
{
	char buf[512];
	size_t n = xt_strs(buf, path, tok, NULL);

	return xt_call(t, XS_WATCH, 0, buf, n, NULL);
}

/* Starts a transaction: its id, or 0 on error. */
static inline uint32_t xt_tx_start(struct xt *t)
{
	struct xt_msg r;

	if (xt_call(t, XS_TRANSACTION_START, 0, "", 1, &r))
		return 0;
	return (uint32_t)strtoul(r.body, NULL, 10);
}

static inline int xt_tx_end(struct xt *t, uint32_t tx, int commit)
{
	return xt_one(t, XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL);
}

/* Collects events and says whether one with this path and token arrived
 * (removing it). */
static inline int xt_event(struct xt *t, const char *path, const char *tok)
{
	int i;

	xt_pump(t, NULL);
	for (i = 0; i < t->nev; i++) {
		const char *p = t->ev[i].body;
		const char *k = p + strlen(p) + 1;

		if (!strcmp(p, path) && !strcmp(k, tok)) {
			memmove(&t->ev[i], &t->ev[i + 1],
				sizeof(t->ev[0]) * (size_t)(t->nev - i - 1));
			t->nev--;
			return 1;
		}
	}
	return 0;
}

static inline int xt_nev(struct xt *t)
{
	xt_pump(t, NULL);
	return t->nev;
}

static inline void xt_clear_ev(struct xt *t)
{
	xt_pump(t, NULL);
	t->nev = 0;
}

static inline int xt_check(struct xs_server *s)
{
	return xs_server_check(s);
}

#endif
