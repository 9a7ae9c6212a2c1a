/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_ops_misc.c - the requests that are not about one node: watches,
 * transactions, domains (INTRODUCE, RELEASE, GET_DOMAIN_PATH,
 * IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET), RESET_WATCHES and CONTROL.
 *
 * In this model a domain's "ring" is the connection the daemon made for
 * it, so INTRODUCE's <mfn> and <evtchn> carry nothing: they are accepted
 * as sent, and the request marks the domain introduced and fires
 * @introduceDomain, which is what its other users observe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

/* Splits a payload of exactly `n' strings (Xen's get_strings() == n):
 * s[i], l[i] without the NUL. */
static int strings(const struct xs_req *rq, uint32_t n, const char **s,
		   uint32_t *l)
{
	uint32_t i, off = 0;

	if (xs_count_strings(rq->payload, rq->len) != n)
		return EINVAL;
	for (i = 0; i < n; i++) {
		s[i] = rq->payload + off;
		l[i] = (uint32_t)strlen(s[i]);
		off += l[i] + 1;
	}
	return 0;
}

/* The watch path of a WATCH / UNWATCH: "@..." as is, a node path made
 * absolute (relative ones remember their base, to strip it again from
 * the events). */
static int watch_path(struct xs_req *rq, const char *s, uint32_t len,
		      const char **path, uint32_t *plen, uint32_t *rel_base)
{
	struct xs_path *p = &rq->srv->path;
	int rc;

	if (len && s[0] == '@') {
		if (len > XS_REL_MAX)
			return EINVAL;
		*path = s;
		*plen = len;
		*rel_base = 0;
		return 0;
	}
	rc = xs_path_parse(p, &rq->srv->hasher, s, len, rq->conn->domid,
			   rq->who.priv ? 0 : rq->srv->cfg.quota_path);
	if (rc)
		return rc;
	*path = p->s;
	*plen = p->len;
	*rel_base = p->rel_base;
	return 0;
}

int xs_op_watch(struct xs_req *rq)
{
	uint32_t quota = rq->who.priv ? 0 : rq->srv->cfg.quota_watches;
	const char *s[2], *path;
	uint32_t l[2], plen, rel;
	int rc;

	if (rq->conn->internal)
		return EINVAL; /* nobody would receive the events */
	rc = strings(rq, 2, s, l);
	if (!rc)
		rc = watch_path(rq, s[0], l[0], &path, &plen, &rel);
	if (!rc)
		rc = xs_wt_add(rq->conn, path, plen, rel, s[1], l[1], quota,
			       &rq->initial);
	return rc;
}

int xs_op_unwatch(struct xs_req *rq)
{
	const char *s[2], *path;
	uint32_t l[2], plen, rel;
	int rc;

	rc = strings(rq, 2, s, l);
	if (rc)
		return rc;
	/* A path that cannot be watched is not watched. */
	if (watch_path(rq, s[0], l[0], &path, &plen, &rel))
		return ENOENT;
	return xs_wt_del(rq->conn, path, plen, s[1], l[1]);
}

static struct xs_txn *txn_find(const struct xs_conn *c, uint32_t id)
{
	uint64_t key = xs_int_key(&c->srv->hasher, id);
	struct xs_hnode *h;

	for (h = xs_ht_find(&c->txns, key); h; h = xs_ht_next(h, key)) {
		struct xs_txn *tx = xs_container_of(h, struct xs_txn, h);

		if (tx->id == id)
			return tx;
	}
	return NULL;
}

struct xs_txn *xs_req_txn(const struct xs_conn *c, uint32_t id)
{
	return txn_find(c, id);
}

int xs_op_txn_start(struct xs_req *rq)
{
	struct xs_conn *c = rq->conn;
	uint32_t quota = rq->srv->cfg.quota_transactions, id;
	struct xs_txn *tx;
	int w;

	/* No nesting: the request itself names a transaction. */
	if (rq->tx)
		return EBUSY;
	if (c->internal)
		return EINVAL;
	if (!rq->who.priv && quota && c->ntxns >= quota)
		return ENOSPC;
	/* Ids are per connection, never 0, not one in use. */
	do {
		id = c->next_txid++;
	} while (id == 0 || txn_find(c, id));
	tx = xs_txn_new(c, id);
	if (!tx)
		return ENOMEM;
	xs_ht_add(&c->txns, &tx->h, xs_int_key(&rq->srv->hasher, id));
	c->ntxns++;
	rq->srv->ntxns++;
	w = snprintf(rq->srv->rbuf, XS_PAYLOAD_MAX, "%u", id);
	rq->reply = rq->srv->rbuf;
	rq->reply_len = (uint32_t)w + 1;
	return 0;
}

int xs_op_txn_end(struct xs_req *rq)
{
	long len = xs_req_onearg(rq);
	struct xs_txn *tx = rq->tx;
	bool commit;
	int rc = 0;

	if (len != 1 || (rq->payload[0] != 'T' && rq->payload[0] != 'F'))
		return EINVAL;
	if (!tx)
		return ENOENT;
	commit = rq->payload[0] == 'T';
	/* Whatever happens, the id is no longer valid afterwards. */
	xs_ht_del(&rq->conn->txns, &tx->h);
	rq->conn->ntxns--;
	rq->srv->ntxns--;
	rq->tx = NULL;
	if (commit) {
		rc = xs_txn_commit(tx);
		if (!rc)
			rq->srv->st.commits++;
		else if (rc == EAGAIN)
			rq->srv->st.conflicts++;
	}
	xs_txn_free(tx);
	return rc;
}

static int one_domid(const struct xs_req *rq, uint32_t *domid)
{
	long len = xs_req_onearg(rq);

	if (len < 0)
		return EINVAL;
	return xs_parse_domid(rq->payload, (size_t)len, domid);
}

static bool guest_id(uint32_t domid)
{
	return domid != 0 && domid < XS_DOMID_RESERVED;
}

int xs_op_introduce(struct xs_req *rq)
{
	struct xs_auth a = {0};
	uint32_t l, domid;
	int rc;

	/* <domid>|<mfn>|<evtchn>|?  (Xen: at least three strings) */
	if (xs_count_strings(rq->payload, rq->len) < 3)
		return EINVAL;
	l = (uint32_t)strlen(rq->payload);
	if (xs_parse_domid(rq->payload, l, &domid) || !guest_id(domid))
		return EINVAL;
	a.op = XS_AUTH_INTRODUCE;
	a.subject = rq->who.domid;
	a.target = domid;
	rc = xs_req_auth(rq, &a);
	if (!rc)
		rc = xs_dom_introduce(rq->srv, domid, false);
	return rc;
}

int xs_op_release(struct xs_req *rq)
{
	struct xs_auth a = {0};
	struct xs_dom *d;
	uint32_t domid;
	int rc;

	if (one_domid(rq, &domid) || !guest_id(domid))
		return EINVAL;
	d = xs_dom_find(rq->srv, domid);
	if (!d || !d->introduced)
		return ENOENT;
	a.op = XS_AUTH_RELEASE;
	a.subject = rq->who.domid;
	a.target = domid;
	rc = xs_req_auth(rq, &a);
	if (!rc)
		rc = xs_dom_release(rq->srv, domid);
	return rc;
}

int xs_op_get_domain_path(struct xs_req *rq)
{
	uint32_t domid;
	int w;

	if (one_domid(rq, &domid))
		return EINVAL;
	w = snprintf(rq->srv->rbuf, XS_PAYLOAD_MAX, XS_HOME "/%u", domid);
	rq->reply = rq->srv->rbuf;
	rq->reply_len = (uint32_t)w + 1;
	return 0;
}

int xs_op_is_introduced(struct xs_req *rq)
{
	uint32_t domid;

	if (one_domid(rq, &domid))
		return EINVAL;
	rq->reply = xs_is_introduced(rq->srv, domid) ? "T" : "F";
	rq->reply_len = 2;
	return 0;
}

int xs_op_resume(struct xs_req *rq)
{
	uint32_t domid;

	if (one_domid(rq, &domid))
		return EINVAL;
	/* @releaseDomain is fired on every release here, so there is no
	 * "already reported" state for RESUME to clear. */
	return xs_is_introduced(rq->srv, domid) ? 0 : ENOENT;
}

int xs_op_set_target(struct xs_req *rq)
{
	const char *s[2];
	uint32_t l[2], domid, target;
	struct xs_dom *d;
	int rc;

	rc = strings(rq, 2, s, l);
	if (rc)
		return rc;
	if (xs_parse_domid(s[0], l[0], &domid) ||
	    xs_parse_domid(s[1], l[1], &target) || !guest_id(domid))
		return EINVAL;
	d = xs_dom_find(rq->srv, domid);
	if (!d || !d->introduced)
		return ENOENT;
	d->target = target;
	return 0;
}

int xs_op_reset_watches(struct xs_req *rq)
{
	/* "Reset all watches and transactions of the caller." */
	xs_wt_del_all(rq->conn);
	xs_conn_abort_txns(rq->conn);
	return 0;
}

int xs_op_control(struct xs_req *rq)
{
	static const char help[] = "check\nhelp\nprint\nquota\n";
	const struct xs_config *c = &rq->srv->cfg;
	const char *nul = memchr(rq->payload, '\0', rq->len);
	size_t clen;
	int w;

	if (!nul)
		return EINVAL;
	clen = (size_t)(nul - rq->payload);
	if (clen == 5 && !memcmp(rq->payload, "check", 5))
		return xs_server_check(rq->srv);
	if (clen == 5 && !memcmp(rq->payload, "print", 5))
		return 0;
	if (clen == 4 && !memcmp(rq->payload, "help", 4)) {
		rq->reply = help;
		rq->reply_len = sizeof(help);
		return 0;
	}
	if (clen == 5 && !memcmp(rq->payload, "quota", 5)) {
		w = snprintf(rq->srv->rbuf, XS_PAYLOAD_MAX,
			     "nodes %u\nwatches %u\ntransactions %u\n"
			     "node-size %u\nperms %u\ntransaction-nodes %u\n"
			     "path %u\n",
			     c->quota_nodes, c->quota_watches,
			     c->quota_transactions, c->quota_node_size,
			     c->quota_perms, c->quota_txn_nodes, c->quota_path);
		rq->reply = rq->srv->rbuf;
		rq->reply_len = (uint32_t)w + 1;
		return 0;
	}
	return EINVAL;
}
