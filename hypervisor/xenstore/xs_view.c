/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_view.c - the store as one request sees it: the committed tree, or
 * the private view of the transaction the request names.  The request
 * handlers (xs_ops_*.c) are written once against this interface and never
 * ask which of the two they are talking to.
 *
 * Outside a transaction a change fires its watches at once; inside one the
 * commit fires them (xs_txn.c).
 */
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

static void fill(struct xs_rec *out, const struct xs_node *n)
{
	out->value = n->value;
	out->vlen = n->vlen;
	out->perms = n->perms;
	out->nperms = n->nperms;
	out->gen = n->gen;
	out->childlen = n->childlen;
}

int xs_view_get(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		uint32_t depth, struct xs_rec *out)
{
	struct xs_node *n;

	if (rq->tx)
		return xs_txn_get(rq, k, kr, depth, out);
	n = xs_store_get(rq->srv, k);
	if (!n)
		return ENOENT;
	fill(out, n);
	return 0;
}

int xs_view_children(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		     uint32_t depth, const char **blob, uint32_t *len)
{
	struct xs_node *n, *c;
	uint32_t off = 0, l;
	char *buf;

	if (rq->tx)
		return xs_txn_children(rq, k, kr, depth, blob, len);
	n = xs_store_get(rq->srv, k);
	if (!n)
		return ENOENT;
	buf = xs_scratch(rq->srv, n->childlen + 1);
	if (!buf)
		return ENOMEM;
	for (c = n->first; c; c = c->next) {
		l = c->plen - c->name + 1;
		memcpy(buf + off, c->path + c->name, l);
		off += l;
	}
	*blob = buf;
	*len = off;
	return 0;
}

int xs_view_create(struct xs_req *rq, const struct xs_path *p, uint32_t i,
		   const char *value, uint32_t vlen,
		   const struct xs_perm *perms, uint32_t nperms)
{
	const struct xs_hasher *h = &rq->srv->hasher;
	struct xs_key pk, k;
	struct xs_node *parent;

	if (rq->tx)
		return xs_txn_create(rq, p, i, value, vlen, perms, nperms);
	assert(i >= 1 && i <= p->depth);
	pk = xs_path_key(p, h, i - 1);
	k = xs_path_key(p, h, i);
	parent = xs_store_get(rq->srv, &pk);
	if (!parent)
		return EIO;
	if (!xs_store_create(rq->srv, parent, &k, p->kr[i],
			     i == 1 ? 1u : p->end[i - 1] + 1u, value, vlen,
			     perms, nperms))
		return ENOMEM;
	return 0;
}

static struct xs_node *node_of(struct xs_req *rq, const struct xs_path *p)
{
	struct xs_key k = xs_path_key(p, &rq->srv->hasher, p->depth);

	return xs_store_get(rq->srv, &k);
}

int xs_view_set_value(struct xs_req *rq, const struct xs_path *p,
		      const char *value, uint32_t vlen)
{
	struct xs_node *n;

	if (rq->tx)
		return xs_txn_set(rq, p, value, vlen, NULL, 0);
	n = node_of(rq, p);
	return n ? xs_store_set_value(rq->srv, n, value, vlen) : ENOENT;
}

int xs_view_set_perms(struct xs_req *rq, const struct xs_path *p,
		      const struct xs_perm *perms, uint32_t nperms)
{
	struct xs_node *n;

	if (rq->tx)
		return xs_txn_set(rq, p, NULL, 0, perms, nperms);
	n = node_of(rq, p);
	return n ? xs_store_set_perms(rq->srv, n, perms, nperms) : ENOENT;
}

int xs_view_rm(struct xs_req *rq, const struct xs_path *p)
{
	struct xs_evperm ep = {0};
	struct xs_node *n;

	if (rq->tx)
		return xs_txn_rm(rq, p);
	n = node_of(rq, p);
	if (!n || !n->parent)
		return n ? EINVAL : ENOENT;
	/* Fire while the node and its permissions are still there: the
	 * watchers of the node and its ancestors, then (exact) those of each
	 * descendant as it goes. */
	ep.node = n->perms;
	ep.nnode = n->nperms;
	ep.parent = n->parent->perms;
	ep.nparent = n->parent->nperms;
	xs_wt_fire(rq->srv, p, &ep);
	xs_store_remove(rq->srv, n, xs_wt_fire_removed, rq->srv);
	return 0;
}

uint32_t xs_view_own_nodes(struct xs_req *rq)
{
	int64_t n = xs_dom_nodes(rq->srv, rq->conn->domid);

	if (rq->tx)
		n += rq->tx->own_nodes;
	return n < 0 ? 0 : (uint32_t)n;
}

void xs_view_changed(struct xs_req *rq, const struct xs_path *p,
		     const struct xs_perm *old, uint32_t nold)
{
	struct xs_evperm ep = {0};
	struct xs_node *n;

	if (rq->tx)
		return;
	n = node_of(rq, p);
	if (!n)
		return;
	ep.node = n->perms;
	ep.nnode = n->nperms;
	if (n->parent) {
		ep.parent = n->parent->perms;
		ep.nparent = n->parent->nperms;
	}
	ep.old = old;
	ep.nold = old ? nold : 0;
	xs_wt_fire(rq->srv, p, &ep);
}
