/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_watch.c - watches and the events they produce.
 *
 * Watches are indexed by the path they watch: an event on a path is
 * matched by looking up each of its prefixes (the path itself, its parent,
 * ..., "/"), each one hash lookup on a key xs_path already computed, so an
 * event costs O(depth + matching watches) however many watches exist.
 *
 * Who may see an event (Xen's watch_permitted()): a watcher that can read
 * the node, or its parent, or the node as it was before a permission
 * change.  Special events (@introduceDomain, @releaseDomain) go to
 * privileged connections and to those the special node's permissions let
 * read.  Events are queued on the watcher's connection; a connection that
 * would overflow is closed (xs_conn_queue_event).
 */
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

static struct xs_wpath *wp_find(const struct xs_server *srv,
				const struct xs_key *k)
{
	struct xs_hnode *h;

	for (h = xs_ht_find(&srv->wpaths, k->hash); h;
	     h = xs_ht_next(h, k->hash)) {
		struct xs_wpath *wp = xs_container_of(h, struct xs_wpath, h);

		if (wp->plen == k->len && memcmp(wp->path, k->s, k->len) == 0)
			return wp;
	}
	return NULL;
}

static struct xs_watch *wt_find(const struct xs_wpath *wp,
				const struct xs_conn *conn, const char *token,
				uint32_t toklen)
{
	struct xs_watch *w;

	for (w = wp ? wp->first : NULL; w; w = w->wnext)
		if (w->conn == conn && w->toklen == toklen &&
		    memcmp(w->token, token, toklen) == 0)
			return w;
	return NULL;
}

/* The path a watcher is told: relative to its home if it watched a
 * relative path ("" for the home itself, as Xen does). */
static void event_path(const struct xs_watch *w, const char *path,
		       uint32_t plen, const char **out, uint32_t *olen)
{
	uint32_t skip = w->rel_base;

	if (skip && skip <= plen) {
		if (skip < plen && path[skip] == '/')
			skip++;
		*out = path + skip;
		*olen = plen - skip;
		return;
	}
	*out = path;
	*olen = plen;
}

int xs_wt_add(struct xs_conn *conn, const char *path, uint32_t plen,
	      uint32_t rel_base, const char *token, uint32_t toklen,
	      uint32_t quota, struct xs_watch **out)
{
	struct xs_server *srv = conn->srv;
	struct xs_key k = xs_key_of(&srv->hasher, path, plen);
	struct xs_wpath *wp = wp_find(srv, &k);
	struct xs_watch *w;

	/* Xen's order: a duplicate is EEXIST even for a domain at quota. */
	if (wt_find(wp, conn, token, toklen))
		return EEXIST;
	if (quota && conn->dom->watches >= quota)
		return E2BIG;
	w = calloc(1, sizeof(*w) + toklen + 1);
	if (!w)
		return ENOMEM;
	if (!wp) {
		wp = calloc(1, sizeof(*wp) + plen + 1);
		if (!wp) {
			free(w);
			return ENOMEM;
		}
		memcpy(wp->path, path, plen);
		wp->plen = plen;
		xs_ht_add(&srv->wpaths, &wp->h, k.hash);
	}
	memcpy(w->token, token, toklen);
	w->toklen = toklen;
	w->rel_base = rel_base;
	w->conn = conn;
	w->wp = wp;
	w->wnext = wp->first;
	if (wp->first)
		wp->first->wprev = w;
	wp->first = w;
	w->cnext = conn->watches;
	if (conn->watches)
		conn->watches->cprev = w;
	conn->watches = w;
	conn->nwatches++;
	conn->dom->watches++;
	srv->nwatches++;
	*out = w;
	return 0;
}

void xs_wt_initial_event(struct xs_watch *w)
{
	const char *ep;
	uint32_t elen;

	/* "When a watch is first set up it is triggered once straight
	 * away, with <path> equal to <wpath>." */
	event_path(w, w->wp->path, w->wp->plen, &ep, &elen);
	xs_conn_queue_event(w->conn, ep, elen, w->token, w->toklen);
	w->conn->srv->st.events++;
}

static void wt_free(struct xs_server *srv, struct xs_watch *w)
{
	struct xs_wpath *wp = w->wp;
	struct xs_conn *conn = w->conn;

	if (w->wprev)
		w->wprev->wnext = w->wnext;
	else
		wp->first = w->wnext;
	if (w->wnext)
		w->wnext->wprev = w->wprev;
	if (!wp->first) {
		xs_ht_del(&srv->wpaths, &wp->h);
		free(wp);
	}
	if (w->cprev)
		w->cprev->cnext = w->cnext;
	else
		conn->watches = w->cnext;
	if (w->cnext)
		w->cnext->cprev = w->cprev;
	conn->nwatches--;
	if (conn->dom->watches)
		conn->dom->watches--;
	srv->nwatches--;
	free(w);
}

int xs_wt_del(struct xs_conn *conn, const char *path, uint32_t plen,
	      const char *token, uint32_t toklen)
{
	struct xs_server *srv = conn->srv;
	struct xs_key k = xs_key_of(&srv->hasher, path, plen);
	struct xs_watch *w = wt_find(wp_find(srv, &k), conn, token, toklen);

	if (!w)
		return ENOENT;
	wt_free(srv, w);
	return 0;
}

void xs_wt_del_all(struct xs_conn *conn)
{
	while (conn->watches)
		wt_free(conn->srv, conn->watches);
}

static bool readable(const struct xs_who *who, const struct xs_perm *p,
		     uint32_t n)
{
	return n && (xs_perm_for(who, p, n) & XS_ACCESS_READ);
}

static bool permitted(const struct xs_conn *c, const struct xs_evperm *ep)
{
	struct xs_who who;

	xs_conn_who(c, &who);
	return who.priv || readable(&who, ep->old, ep->nold) ||
	       readable(&who, ep->node, ep->nnode) ||
	       readable(&who, ep->parent, ep->nparent);
}

static void deliver(struct xs_server *srv, const struct xs_wpath *wp,
		    const char *path, uint32_t plen, const struct xs_evperm *ep)
{
	const struct xs_watch *w;
	const char *e;
	uint32_t elen;

	for (w = wp->first; w; w = w->wnext) {
		if (w->conn->closed || w->conn->internal ||
		    !permitted(w->conn, ep))
			continue;
		event_path(w, path, plen, &e, &elen);
		xs_conn_queue_event(w->conn, e, elen, w->token, w->toklen);
		srv->st.events++;
	}
}

void xs_wt_fire(struct xs_server *srv, const struct xs_path *p,
		const struct xs_evperm *ep)
{
	uint32_t i;

	if (!srv->nwatches)
		return;
	for (i = 0; i <= p->depth; i++) {
		struct xs_key k = xs_path_key(p, &srv->hasher, i);
		struct xs_wpath *wp = wp_find(srv, &k);

		if (wp)
			deliver(srv, wp, p->s, p->len, ep);
	}
}

void xs_wt_fire_exact(struct xs_server *srv, const struct xs_key *k,
		      const struct xs_evperm *ep)
{
	struct xs_wpath *wp;

	if (!srv->nwatches)
		return;
	wp = wp_find(srv, k);
	if (wp)
		deliver(srv, wp, k->s, k->len, ep);
}

void xs_wt_fire_removed(void *arg, struct xs_node *n)
{
	struct xs_server *srv = arg;
	struct xs_key k = {n->path, n->plen, xs_kr_key(&srv->hasher, n->kr)};
	struct xs_evperm ep = {
		.node = n->perms,
		.nnode = n->nperms,
		.parent = n->parent->perms,
		.nparent = n->parent->nperms,
	};

	xs_wt_fire_exact(srv, &k, &ep);
}

void xs_wt_fire_special(struct xs_server *srv, const char *name)
{
	size_t len = strlen(name);
	struct xs_key k = xs_key_of(&srv->hasher, name, len);
	struct xs_special *s = xs_special_find(srv, name, len);
	struct xs_evperm ep = {0};
	struct xs_wpath *wp;

	if (!srv->nwatches || !s)
		return;
	ep.node = s->perms;
	ep.nnode = s->nperms;
	wp = wp_find(srv, &k);
	if (wp)
		deliver(srv, wp, name, (uint32_t)len, &ep);
}

void xs_wt_fini(struct xs_server *srv)
{
	size_t i;

	if (!srv->wpaths.b)
		return;
	/* Connections (and with them every watch) are gone by now; free any
	 * path record left over all the same. */
	for (i = 0; i <= srv->wpaths.mask; i++) {
		struct xs_hnode *h = srv->wpaths.b[i], *next;

		for (; h; h = next) {
			next = h->next;
			free(xs_container_of(h, struct xs_wpath, h));
		}
		srv->wpaths.b[i] = NULL;
	}
	srv->wpaths.n = 0;
}
