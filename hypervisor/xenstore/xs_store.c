/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_store.c - the committed tree.
 *
 * A node is found by its full path in one hash table (O(path length)), and
 * also linked into its parent's list of children, in creation order, which
 * is the order DIRECTORY lists them in (as Xen does).  Linking a child in
 * or out is O(1), so neither creation nor removal scans a sibling list.
 *
 * Every change to a node's value, permissions or child list gives it a new
 * generation (srv->gen counts up; 0 means "no node"): transactions compare
 * generations to detect conflicts, DIRECTORY_PART to detect a listing that
 * changed between two parts.
 *
 * No watch is fired and no permission is checked here: this file only
 * keeps the tree and the per-domain node counts consistent.
 */
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

static void *dup_bytes(const void *p, size_t n)
{
	void *q;

	if (n == 0)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

struct xs_node *xs_store_get(const struct xs_server *srv,
			     const struct xs_key *k)
{
	struct xs_hnode *h;

	for (h = xs_ht_find(&srv->nodes, k->hash); h;
	     h = xs_ht_next(h, k->hash)) {
		struct xs_node *n = xs_container_of(h, struct xs_node, h);

		if (n->plen == k->len && memcmp(n->path, k->s, k->len) == 0)
			return n;
	}
	return NULL;
}

static struct xs_node *node_alloc(const struct xs_key *k, uint64_t kr,
				  uint32_t name, const char *value,
				  uint32_t vlen, const struct xs_perm *perms,
				  uint32_t nperms)
{
	struct xs_node *n;

	assert(nperms >= 1);
	n = calloc(1, sizeof(*n) + k->len + 1);
	if (!n)
		return NULL;
	n->perms = dup_bytes(perms, sizeof(*perms) * nperms);
	n->value = dup_bytes(value, vlen);
	if (!n->perms || (vlen && !n->value)) {
		free(n->perms);
		free(n->value);
		free(n);
		return NULL;
	}
	n->nperms = nperms;
	n->vlen = vlen;
	n->kr = kr;
	n->plen = k->len;
	n->name = name;
	memcpy(n->path, k->s, k->len);
	n->path[k->len] = '\0';
	return n;
}

/* Size of a child's entry in its parent's DIRECTORY reply. */
static uint32_t entry_len(const struct xs_node *n)
{
	return n->plen - n->name + 1;
}

struct xs_node *xs_store_create(struct xs_server *srv, struct xs_node *parent,
				const struct xs_key *k, uint64_t kr,
				uint32_t name, const char *value, uint32_t vlen,
				const struct xs_perm *perms, uint32_t nperms)
{
	struct xs_node *n;

	n = node_alloc(k, kr, name, value, vlen, perms, nperms);
	if (!n)
		return NULL;
	n->parent = parent;
	n->prev = parent->last;
	if (parent->last)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	parent->nchildren++;
	parent->childlen += entry_len(n);
	parent->gen = xs_next_gen(srv);
	n->gen = xs_next_gen(srv);
	xs_ht_add(&srv->nodes, &n->h, k->hash);
	srv->nnodes++;
	xs_dom_nodes_add(srv, perms[0].domid, 1);
	return n;
}

int xs_store_set_value(struct xs_server *srv, struct xs_node *n,
		       const char *value, uint32_t vlen)
{
	char *v = dup_bytes(value, vlen);

	if (vlen && !v)
		return ENOMEM;
	free(n->value);
	n->value = v;
	n->vlen = vlen;
	n->gen = xs_next_gen(srv);
	return 0;
}

int xs_store_set_perms(struct xs_server *srv, struct xs_node *n,
		       const struct xs_perm *perms, uint32_t nperms)
{
	struct xs_perm *p = dup_bytes(perms, sizeof(*perms) * nperms);

	assert(nperms >= 1);
	if (!p)
		return ENOMEM;
	if (perms[0].domid != n->perms[0].domid) {
		xs_dom_nodes_add(srv, n->perms[0].domid, -1);
		xs_dom_nodes_add(srv, perms[0].domid, 1);
	}
	free(n->perms);
	n->perms = p;
	n->nperms = nperms;
	n->gen = xs_next_gen(srv);
	return 0;
}

/* Takes a leaf out of the tree and frees it. */
static void unlink_free(struct xs_server *srv, struct xs_node *n, bool count)
{
	struct xs_node *p = n->parent;

	assert(!n->first && p);
	if (n->prev)
		n->prev->next = n->next;
	else
		p->first = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		p->last = n->prev;
	p->nchildren--;
	p->childlen -= entry_len(n);
	xs_ht_del(&srv->nodes, &n->h);
	srv->nnodes--;
	if (count)
		xs_dom_nodes_add(srv, n->perms[0].domid, -1);
	free(n->value);
	free(n->perms);
	free(n);
}

void xs_store_remove(struct xs_server *srv, struct xs_node *top,
		     xs_store_visit_fn fire, void *arg)
{
	struct xs_node *parent = top->parent, *cur = top, *up;

	assert(parent);
	/* Post-order without recursion: descend to a leaf, free it, go back
	 * up to its parent and descend again; a guest-built tree may be
	 * 1536 levels deep. */
	for (;;) {
		while (cur->first)
			cur = cur->first;
		up = cur->parent;
		if (cur != top && fire)
			fire(arg, cur);
		unlink_free(srv, cur, true);
		if (cur == top)
			break;
		cur = up;
	}
	parent->gen = xs_next_gen(srv);
}

struct xs_node *xs_store_next_skip(const struct xs_node *n)
{
	while (n) {
		if (n->next)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */

static const struct xs_perm dom0_none = {.domid = 0, .access = 0};

static int mk(struct xs_server *srv, struct xs_node *parent, const char *path)
{
	struct xs_key k = xs_key_of(&srv->hasher, path, strlen(path));
	uint64_t kr = xs_kr_extend(&srv->hasher, XS_KR_INIT, path, k.len);
	const char *slash = strrchr(path, '/');

	if (!xs_store_create(srv, parent, &k, kr, (uint32_t)(slash - path) + 1,
			     NULL, 0, &dom0_none, 1))
		return ENOMEM;
	return 0;
}

int xs_store_init(struct xs_server *srv)
{
	static const char *const initial[][2] = {
		{"/", "/tool"},
		{"/tool", "/tool/xenstored"},
		{"/", "/local"},
		{"/local", "/local/domain"},
	};
	struct xs_key rk = xs_key_of(&srv->hasher, "/", 1);
	size_t i;
	int rc;

	srv->root =
		node_alloc(&rk, xs_kr_extend(&srv->hasher, XS_KR_INIT, "/", 1),
			   1, NULL, 0, &dom0_none, 1);
	if (!srv->root)
		return ENOMEM;
	srv->root->gen = xs_next_gen(srv);
	xs_ht_add(&srv->nodes, &srv->root->h, rk.hash);
	srv->nnodes = 1;
	xs_dom_nodes_add(srv, 0, 1);
	for (i = 0; i < sizeof(initial) / sizeof(initial[0]); i++) {
		struct xs_key pk = xs_key_of(&srv->hasher, initial[i][0],
					     strlen(initial[i][0]));

		rc = mk(srv, xs_store_get(srv, &pk), initial[i][1]);
		if (rc)
			return rc;
	}
	return 0;
}

void xs_store_fini(struct xs_server *srv)
{
	struct xs_node *cur = srv->root, *up;

	if (!cur)
		return;
	while (cur->first || cur != srv->root) {
		while (cur->first)
			cur = cur->first;
		if (cur == srv->root)
			break;
		up = cur->parent;
		unlink_free(srv, cur, false);
		cur = up;
	}
	xs_ht_del(&srv->nodes, &srv->root->h);
	free(srv->root->value);
	free(srv->root->perms);
	free(srv->root);
	srv->root = NULL;
	srv->nnodes = 0;
}
