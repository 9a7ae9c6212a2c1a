/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_check.c - checks that the whole store is consistent: what the tests
 * and the fuzzer assert after every step, and XS_CONTROL "check".
 *
 * Recounts everything the store keeps incrementally (children, directory
 * sizes, node and watch counts per domain, transactions) and compares.
 * The per-domain recounts go into scratch fields of the domain records,
 * the only thing it writes; the store is otherwise left as it was.
 */
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

/* The child's path is its parent's plus "/" plus its name. */
static bool child_path_ok(const struct xs_node *p, const struct xs_node *c)
{
	uint32_t base = p->parent ? p->plen + 1 : 1;

	if (c->plen <= base || c->name != base)
		return false;
	if (memcmp(c->path, p->path, p->plen) != 0)
		return false;
	if (p->parent && c->path[p->plen] != '/')
		return false;
	return memchr(c->path + base, '/', c->plen - base) == NULL;
}

/* The record of a domain the store counts something for: one must exist
 * (accounting creates it). */
static struct xs_dom *dom_of(const struct xs_server *srv, uint32_t domid)
{
	return xs_dom_find(srv, domid);
}

static bool node_ok(const struct xs_server *srv, const struct xs_node *n)
{
	struct xs_dom *owner;
	struct xs_key k = {n->path, n->plen, xs_kr_key(&srv->hasher, n->kr)};
	const struct xs_node *c, *prev = NULL;
	uint32_t count = 0, len = 0;

	if (xs_store_get(srv, &k) != n || n->nperms < 1 || n->gen > srv->gen)
		return false;
	if (xs_kr_extend(&srv->hasher, XS_KR_INIT, n->path, n->plen) != n->kr)
		return false;
	if (n->path[n->plen] != '\0' || (n->vlen && !n->value))
		return false;
	for (c = n->first; c; prev = c, c = c->next) {
		if (c->parent != n || c->prev != prev || !child_path_ok(n, c))
			return false;
		count++;
		len += c->plen - c->name + 1;
	}
	if (n->last != prev || count != n->nchildren || len != n->childlen)
		return false;
	owner = dom_of(srv, n->perms[0].domid);
	if (!owner)
		return false;
	owner->chk_nodes++;
	return true;
}

static void for_each_dom(const struct xs_server *srv,
			 void (*fn)(struct xs_dom *d, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i <= srv->doms.mask; i++) {
		struct xs_hnode *h;

		for (h = srv->doms.b[i]; h; h = h->next)
			fn(xs_container_of(h, struct xs_dom, h), arg);
	}
}

static void zero(struct xs_dom *d, void *arg)
{
	(void)arg;
	d->chk_nodes = d->chk_watches = 0;
}

static void compare(struct xs_dom *d, void *arg)
{
	bool *bad = arg;

	if (d->nodes != d->chk_nodes || d->watches != d->chk_watches)
		*bad = true;
}

int xs_server_check(const struct xs_server *srv)
{
	uint32_t nnodes = 0, nwatches = 0, ntxns = 0;
	const struct xs_node *n;
	const struct xs_conn *c;
	const struct xs_watch *w;
	bool bad = false;

	if (!srv->root || srv->root->parent)
		return EIO;
	for_each_dom(srv, zero, NULL);
	for (n = srv->root; n;
	     n = n->first ? n->first : xs_store_next_skip(n)) {
		if (!node_ok(srv, n))
			return EIO;
		nnodes++;
	}
	if (nnodes != srv->nnodes || nnodes != srv->nodes.n)
		return EIO;
	for (c = srv->conns; c; c = c->next) {
		uint32_t cw = 0;

		for (w = c->watches; w; w = w->cnext) {
			if (w->conn != c || w->token[w->toklen] != '\0')
				return EIO;
			cw++;
		}
		if (cw != c->nwatches || c->txns.n != c->ntxns ||
		    c->dom != dom_of(srv, c->domid))
			return EIO;
		c->dom->chk_watches += cw;
		nwatches += cw;
		ntxns += c->ntxns;
	}
	if (nwatches != srv->nwatches || ntxns != srv->ntxns)
		return EIO;
	for_each_dom(srv, compare, &bad);
	return bad ? EIO : 0;
}
