/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_conn.c - one peer of the store: message framing on the way in, the
 * output queue on the way out, and the server's ready set.
 *
 * Input: a header is 16 bytes; a header announcing more than
 * XENSTORE_PAYLOAD_MAX bytes closes the connection at once, as Xen does
 * ("its xenstored connection will be immediately killed"), since after it
 * nothing on the stream can be trusted to be a message boundary.  Nothing
 * else a peer sends closes its connection: a malformed request gets an
 * error reply and the next message is read normally.  Complete messages
 * in the caller's buffer are processed in place; only a message split
 * across calls is copied into the connection's own 4112-byte buffer.
 *
 * Output: replies and events are appended to one contiguous buffer per
 * connection.  Replies are never dropped; instead, xs_conn_input stops
 * taking requests while out_soft bytes are queued, so a peer that does not
 * read cannot make the store queue without bound.  Events are not the
 * peer's doing and cannot be held back: one that would take the queue past
 * out_hard closes the connection (XS_CLOSE_OVERFLOW).
 */
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

/* Buffers above this are freed when they drain, so that one burst does
 * not pin memory for the connection's lifetime. */
#define OUT_KEEP (64u * 1024u)

bool xs_conn_is_priv(const struct xs_conn *conn)
{
	return conn->domid == 0 || (conn->flags & XS_CONN_PRIV);
}

void xs_conn_who(const struct xs_conn *conn, struct xs_who *who)
{
	who->domid = conn->domid;
	who->target = conn->dom->target;
	who->priv = xs_conn_is_priv(conn);
	who->readonly = conn->flags & XS_CONN_READONLY;
}

struct xs_conn *xs_conn_new(struct xs_server *srv, uint32_t domid,
			    uint32_t flags)
{
	struct xs_conn *c;

	if (domid > XS_DOMID_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = srv;
	c->domid = domid;
	c->flags = flags & (XS_CONN_PRIV | XS_CONN_READONLY);
	c->next_txid = 1;
	c->dom = xs_dom_get(srv, domid);
	if (!c->dom || xs_ht_init(&c->txns, 8)) {
		free(c);
		return NULL;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	return c;
}

static void ready_unlink(struct xs_conn *c)
{
	struct xs_server *srv = c->srv;

	if (!c->ready)
		return;
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else
		srv->rfirst = c->rnext;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	else
		srv->rlast = c->rprev;
	c->rprev = c->rnext = NULL;
	c->ready = false;
}

void xs_conn_abort_txns(struct xs_conn *c)
{
	size_t i;

	for (i = 0; i <= c->txns.mask; i++) {
		struct xs_hnode *h = c->txns.b[i], *next;

		for (; h; h = next) {
			next = h->next;
			xs_txn_free(xs_container_of(h, struct xs_txn, h));
			c->srv->ntxns--;
		}
		c->txns.b[i] = NULL;
	}
	c->txns.n = 0;
	c->ntxns = 0;
}

void xs_conn_free(struct xs_conn *c)
{
	struct xs_server *srv;

	if (!c)
		return;
	srv = c->srv;
	xs_wt_del_all(c);
	xs_conn_abort_txns(c);
	ready_unlink(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	xs_ht_fini(&c->txns);
	free(c->out);
	free(c);
}

void xs_conn_mark_ready(struct xs_conn *c)
{
	struct xs_server *srv = c->srv;

	if (c->ready || c->internal)
		return;
	c->ready = true;
	c->rnext = NULL;
	c->rprev = srv->rlast;
	if (srv->rlast)
		srv->rlast->rnext = c;
	else
		srv->rfirst = c;
	srv->rlast = c;
	if (srv->notify)
		srv->notify(srv->notify_arg, c);
}

struct xs_conn *xs_server_next_ready(struct xs_server *srv)
{
	struct xs_conn *c;

	while ((c = srv->rfirst)) {
		ready_unlink(c);
		if (c->closed || c->tail > c->head)
			return c;
	}
	return NULL;
}

void xs_conn_close(struct xs_conn *c, enum xs_close_reason why)
{
	if (c->closed)
		return;
	c->closed = why;
	if (why == XS_CLOSE_OVERFLOW || why == XS_CLOSE_NOMEM) {
		/* Nobody will read that backlog. */
		free(c->out);
		c->out = NULL;
		c->head = c->tail = c->cap = 0;
	}
	xs_conn_mark_ready(c);
}

size_t xs_conn_pending(const struct xs_conn *c)
{
	return c->tail - c->head;
}

/* Room for n more bytes at the tail: 0 or ENOMEM. */
static int reserve(struct xs_conn *c, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (c->cap - c->tail >= n)
		return 0;
	if (c->head) {
		memmove(c->out, c->out + c->head, c->tail - c->head);
		c->tail -= c->head;
		c->head = 0;
		if (c->cap - c->tail >= n)
			return 0;
	}
	cap = c->cap ? c->cap : 4096;
	while (cap - c->tail < n) {
		if (cap > SIZE_MAX / 2)
			return ENOMEM;
		cap *= 2;
	}
	p = realloc(c->out, cap);
	if (!p)
		return ENOMEM;
	c->out = p;
	c->cap = cap;
	return 0;
}

static void put_hdr(struct xs_conn *c, uint32_t type, uint32_t req_id,
		    uint32_t tx_id, uint32_t len)
{
	struct xsd_sockmsg h = {
		.type = type,
		.req_id = req_id,
		.tx_id = tx_id,
		.len = len,
	};

	memcpy(c->out + c->tail, &h, sizeof(h));
	c->tail += sizeof(h);
}

static void put(struct xs_conn *c, const void *p, size_t n)
{
	if (n)
		memcpy(c->out + c->tail, p, n);
	c->tail += n;
}

int xs_conn_queue(struct xs_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *payload, uint32_t len)
{
	if (c->closed == XS_CLOSE_OVERFLOW || c->closed == XS_CLOSE_NOMEM)
		return 0;
	assert(len <= XS_PAYLOAD_MAX);
	if (reserve(c, XS_HDR_LEN + (size_t)len))
		return ENOMEM;
	put_hdr(c, type, req_id, tx_id, len);
	put(c, payload, len);
	xs_conn_mark_ready(c);
	return 0;
}

void xs_conn_queue_event(struct xs_conn *c, const char *path, uint32_t plen,
			 const char *token, uint32_t toklen)
{
	const struct xs_config *cfg = &c->srv->cfg;
	size_t len = (size_t)plen + 1 + toklen + 1;
	size_t hard = xs_conn_is_priv(c) ? cfg->out_hard_priv : cfg->out_hard;

	if (c->closed)
		return;
	/* Xen: "Don't try to send over-long events." */
	if (len > XS_PAYLOAD_MAX)
		return;
	if (hard && xs_conn_pending(c) + XS_HDR_LEN + len > hard) {
		xs_conn_close(c, XS_CLOSE_OVERFLOW);
		return;
	}
	if (reserve(c, XS_HDR_LEN + len)) {
		xs_conn_close(c, XS_CLOSE_NOMEM);
		return;
	}
	put_hdr(c, XS_WATCH_EVENT, 0, 0, (uint32_t)len);
	put(c, path, plen);
	put(c, "", 1);
	put(c, token, toklen);
	put(c, "", 1);
	xs_conn_mark_ready(c);
}

size_t xs_conn_output(struct xs_conn *c, const void **buf)
{
	*buf = c->out ? c->out + c->head : NULL;
	return c->tail - c->head;
}

void xs_conn_output_done(struct xs_conn *c, size_t n)
{
	if (n > c->tail - c->head)
		n = c->tail - c->head;
	c->head += n;
	if (c->head == c->tail) {
		c->head = c->tail = 0;
		if (c->cap > OUT_KEEP) {
			free(c->out);
			c->out = NULL;
			c->cap = 0;
		}
	}
}

/* ------------------------------------------------------------------ */

static bool backlogged(const struct xs_conn *c)
{
	uint32_t soft = c->srv->cfg.out_soft;

	return soft && xs_conn_pending(c) >= soft;
}

size_t xs_conn_input(struct xs_conn *c, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	struct xsd_sockmsg h;
	size_t used = 0, take, want;

	while (used < len && !c->closed && !backlogged(c)) {
		if (c->in_used == 0 && len - used >= XS_HDR_LEN) {
			/* Fast path: the whole header is here. */
			memcpy(&h, b + used, sizeof(h));
			if (h.len > XS_PAYLOAD_MAX) {
				xs_conn_close(c, XS_CLOSE_PROTOCOL);
				break;
			}
			if (len - used - XS_HDR_LEN >= h.len) {
				used += XS_HDR_LEN + h.len;
				xs_dispatch(c, &h,
					    (const char *)b + used - h.len);
				continue;
			}
		}
		/* Slow path: assemble the message in c->in. */
		if (c->in_used < XS_HDR_LEN) {
			want = XS_HDR_LEN - c->in_used;
		} else {
			memcpy(&h, c->in, sizeof(h));
			want = XS_HDR_LEN + h.len - c->in_used;
		}
		take = len - used < want ? len - used : want;
		memcpy(c->in + c->in_used, b + used, take);
		c->in_used += (uint32_t)take;
		used += take;
		if (c->in_used < XS_HDR_LEN)
			continue;
		memcpy(&h, c->in, sizeof(h));
		if (h.len > XS_PAYLOAD_MAX) {
			xs_conn_close(c, XS_CLOSE_PROTOCOL);
			break;
		}
		if (c->in_used == XS_HDR_LEN + h.len) {
			c->in_used = 0;
			xs_dispatch(c, &h, (const char *)c->in + XS_HDR_LEN);
		}
	}
	return used;
}

enum xs_close_reason xs_conn_closed(const struct xs_conn *c)
{
	return c->closed;
}

const char *xs_close_reason_str(enum xs_close_reason r)
{
	switch (r) {
	case XS_CLOSE_NONE:
		return "open";
	case XS_CLOSE_PROTOCOL:
		return "message longer than XENSTORE_PAYLOAD_MAX";
	case XS_CLOSE_OVERFLOW:
		return "output queue overflow";
	case XS_CLOSE_RELEASED:
		return "domain released";
	case XS_CLOSE_NOMEM:
		return "out of memory";
	}
	return "unknown";
}

uint32_t xs_conn_domid(const struct xs_conn *c)
{
	return c->domid;
}

void xs_conn_set_user(struct xs_conn *c, void *user)
{
	c->user = user;
}

void *xs_conn_user(const struct xs_conn *c)
{
	return c->user;
}
