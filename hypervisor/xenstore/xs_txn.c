/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_txn.c - transactions.
 *
 * A transaction never copies the store.  The first time it touches a path
 * it records the committed node's generation (or that there was none) and
 * takes a private copy of the node's value and permissions; every later
 * read of that path in the transaction is served from the copy, every
 * write goes to it.  The child list is copied only when the transaction
 * lists or changes it.
 *
 * Isolation is snapshot isolation checked optimistically:
 *   - touching a node whose generation is newer than the transaction's
 *     start means the transaction can no longer see the store as it was
 *     when it began: it is marked failed (EAGAIN at commit);
 *   - at commit, every path the transaction touched (read or written) must
 *     still have the generation it saw, else EAGAIN.  Any change to a node,
 *     its permissions or its child list bumps its generation, so this
 *     catches writes, creations, deletions and new siblings (as Xen's
 *     xenstored does).
 * A transaction that commits therefore saw exactly the store as it was at
 * its start and still is at its commit; the commit is atomic because the
 * server handles one request at a time.
 *
 * Commit applies removals deepest first, then creations and updates
 * shallowest first, through xs_store.c, firing each changed path's
 * watches.  Creations made by a transaction count against its domain's
 * node quota, checked again at commit against what committed meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

struct xs_txn *xs_txn_new(struct xs_conn *conn, uint32_t id)
{
	struct xs_txn *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	if (xs_ht_init(&tx->recs, 16)) {
		free(tx);
		return NULL;
	}
	tx->id = id;
	tx->conn = conn;
	tx->start_gen = conn->srv->gen;
	return tx;
}

static void drop_content(struct xs_trec *r)
{
	free(r->value);
	free(r->perms);
	free(r->children);
	r->value = NULL;
	r->perms = NULL;
	r->children = NULL;
	r->vlen = r->nperms = r->childlen = r->childcap = 0;
}

void xs_txn_free(struct xs_txn *tx)
{
	struct xs_trec *r, *next;

	if (!tx)
		return;
	for (r = tx->first; r; r = next) {
		next = r->next;
		drop_content(r);
		free(r);
	}
	xs_ht_fini(&tx->recs);
	free(tx);
}

static void fail(struct xs_txn *tx, int err)
{
	if (!tx->fail)
		tx->fail = err;
}

static void bump(struct xs_txn *tx, struct xs_trec *r)
{
	/* Local generations live in the upper half so that they never equal
	 * a committed one. */
	r->vgen = (UINT64_C(1) << 63) | ++tx->mods;
}

static struct xs_trec *rec_find(const struct xs_txn *tx, const struct xs_key *k)
{
	struct xs_hnode *h;

	for (h = xs_ht_find(&tx->recs, k->hash); h;
	     h = xs_ht_next(h, k->hash)) {
		struct xs_trec *r = xs_container_of(h, struct xs_trec, h);

		if (r->plen == k->len && memcmp(r->path, k->s, k->len) == 0)
			return r;
	}
	return NULL;
}

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

/* The transaction's record of k, created (and the committed node copied)
 * on first touch. */
static int touch(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		 uint32_t depth, struct xs_trec **out)
{
	struct xs_txn *tx = rq->tx;
	struct xs_server *srv = rq->srv;
	uint32_t quota = srv->cfg.quota_txn_nodes;
	struct xs_trec *r = rec_find(tx, k);
	struct xs_node *n;

	if (r) {
		*out = r;
		return 0;
	}
	if (!rq->who.priv && quota && tx->nrecs >= quota)
		return ENOSPC;
	r = calloc(1, sizeof(*r) + k->len + 1);
	if (!r)
		return ENOMEM;
	memcpy(r->path, k->s, k->len);
	r->plen = k->len;
	r->kr = kr;
	r->depth = depth;
	n = xs_store_get(srv, k);
	if (n) {
		r->perms = dup_bytes(n->perms, sizeof(*n->perms) * n->nperms);
		r->value = dup_bytes(n->value, n->vlen);
		if (!r->perms || (n->vlen && !r->value)) {
			drop_content(r);
			free(r);
			return ENOMEM;
		}
		r->nperms = n->nperms;
		r->vlen = n->vlen;
		r->childlen = n->childlen;
		r->exists = true;
		r->seen_gen = n->gen;
		/* Changed since the snapshot: the transaction cannot see the
		 * store as it was when it started. */
		if (n->gen > tx->start_gen)
			fail(tx, EAGAIN);
	} else {
		r->seen_gen = XS_GEN_NONE;
	}
	r->vgen = r->seen_gen;
	r->seq = tx->nrecs++;
	xs_ht_add(&tx->recs, &r->h, k->hash);
	if (tx->last)
		tx->last->next = r;
	else
		tx->first = r;
	tx->last = r;
	*out = r;
	return 0;
}

static struct xs_key rec_key(const struct xs_server *srv,
			     const struct xs_trec *r)
{
	struct xs_key k = {r->path, r->plen, xs_kr_key(&srv->hasher, r->kr)};

	return k;
}

/* Makes r's child list private. */
static int ensure_children(struct xs_req *rq, struct xs_trec *r)
{
	struct xs_key k;
	struct xs_node *n, *c;
	uint32_t off = 0, len;

	if (r->have_children)
		return 0;
	k = rec_key(rq->srv, r);
	n = xs_store_get(rq->srv, &k);
	if (!n || n->gen != r->seen_gen) {
		/* The list changed after the first touch: whatever we return
		 * now, this transaction is not going to commit. */
		fail(rq->tx, EAGAIN);
		r->childlen = 0;
		r->have_children = true;
		return 0;
	}
	if (n->childlen) {
		r->children = malloc(n->childlen);
		if (!r->children)
			return ENOMEM;
		for (c = n->first; c; c = c->next) {
			len = c->plen - c->name + 1;
			memcpy(r->children + off, c->path + c->name, len);
			off += len;
		}
	}
	assert(off == n->childlen);
	r->childlen = r->childcap = n->childlen;
	r->have_children = true;
	return 0;
}

int xs_txn_get(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
	       uint32_t depth, struct xs_rec *out)
{
	struct xs_trec *r;
	int rc = touch(rq, k, kr, depth, &r);

	if (rc)
		return rc;
	if (!r->exists)
		return ENOENT;
	out->value = r->value;
	out->vlen = r->vlen;
	out->perms = r->perms;
	out->nperms = r->nperms;
	out->gen = r->vgen;
	out->childlen = r->childlen;
	return 0;
}

int xs_txn_children(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		    uint32_t depth, const char **blob, uint32_t *len)
{
	struct xs_trec *r;
	int rc = touch(rq, k, kr, depth, &r);

	if (rc)
		return rc;
	if (!r->exists)
		return ENOENT;
	rc = ensure_children(rq, r);
	if (rc)
		return rc;
	*blob = r->children;
	*len = r->childlen;
	return 0;
}

static int child_append(struct xs_trec *pr, const char *name, uint32_t len)
{
	uint32_t need = pr->childlen + len + 1, cap;
	char *p;

	if (need > pr->childcap) {
		cap = pr->childcap ? pr->childcap * 2 : 64;
		while (cap < need)
			cap *= 2;
		p = realloc(pr->children, cap);
		if (!p)
			return ENOMEM;
		pr->children = p;
		pr->childcap = cap;
	}
	memcpy(pr->children + pr->childlen, name, len);
	pr->children[pr->childlen + len] = '\0';
	pr->childlen = need;
	return 0;
}

static void child_remove(struct xs_trec *pr, const char *name, uint32_t len)
{
	uint32_t off = 0, l;

	while (off < pr->childlen) {
		l = (uint32_t)strlen(pr->children + off);
		if (l == len && memcmp(pr->children + off, name, len) == 0) {
			memmove(pr->children + off, pr->children + off + l + 1,
				pr->childlen - off - l - 1);
			pr->childlen -= l + 1;
			return;
		}
		off += l + 1;
	}
}

/* Offset and length of the last component of prefix i of p. */
static void component(const struct xs_path *p, uint32_t i, uint32_t *off,
		      uint32_t *len)
{
	*off = i == 1 ? 1u : p->end[i - 1] + 1u;
	*len = p->end[i] - *off;
}

static int set_perms(struct xs_req *rq, struct xs_trec *r,
		     const struct xs_perm *perms, uint32_t nperms)
{
	struct xs_perm *np = dup_bytes(perms, sizeof(*perms) * nperms);
	uint32_t self = rq->conn->domid;

	if (!np)
		return ENOMEM;
	if (r->exists && r->nperms && r->perms[0].domid == self)
		rq->tx->own_nodes--;
	if (perms[0].domid == self)
		rq->tx->own_nodes++;
	free(r->perms);
	r->perms = np;
	r->nperms = nperms;
	return 0;
}

int xs_txn_create(struct xs_req *rq, const struct xs_path *p, uint32_t i,
		  const char *value, uint32_t vlen, const struct xs_perm *perms,
		  uint32_t nperms)
{
	const struct xs_hasher *h = &rq->srv->hasher;
	struct xs_key pk = xs_path_key(p, h, i - 1), k = xs_path_key(p, h, i);
	struct xs_trec *pr, *r;
	uint32_t off, len;
	char *v = NULL;
	int rc;

	assert(i >= 1);
	rc = touch(rq, &pk, p->kr[i - 1], i - 1, &pr);
	if (!rc)
		rc = touch(rq, &k, p->kr[i], i, &r);
	if (rc)
		return rc;
	if (!pr->exists || r->exists)
		return EIO; /* the caller looked: a bug, not bad input */
	rc = ensure_children(rq, pr);
	if (rc)
		return rc;
	if (vlen) {
		v = dup_bytes(value, vlen);
		if (!v)
			return ENOMEM;
	}
	component(p, i, &off, &len);
	rc = child_append(pr, p->s + off, len);
	if (!rc) {
		r->exists = true; /* set_perms counts ownership once */
		r->nperms = 0;
		rc = set_perms(rq, r, perms, nperms);
		if (rc) {
			r->exists = false;
			child_remove(pr, p->s + off, len);
		}
	}
	if (rc) {
		free(v);
		return rc;
	}
	free(r->value);
	r->value = v;
	r->vlen = vlen;
	free(r->children);
	r->children = NULL;
	r->childlen = r->childcap = 0;
	r->have_children = true;
	r->modified = true;
	bump(rq->tx, r);
	bump(rq->tx, pr);
	return 0;
}

int xs_txn_set(struct xs_req *rq, const struct xs_path *p, const char *value,
	       uint32_t vlen, const struct xs_perm *perms, uint32_t nperms)
{
	struct xs_key k = xs_path_key(p, &rq->srv->hasher, p->depth);
	struct xs_trec *r;
	char *v;
	int rc = touch(rq, &k, p->kr[p->depth], p->depth, &r);

	if (rc)
		return rc;
	if (!r->exists)
		return ENOENT;
	if (perms) {
		rc = set_perms(rq, r, perms, nperms);
		if (rc)
			return rc;
	} else {
		v = dup_bytes(value, vlen);
		if (vlen && !v)
			return ENOMEM;
		free(r->value);
		r->value = v;
		r->vlen = vlen;
	}
	r->modified = true;
	bump(rq->tx, r);
	return 0;
}

/* Deletes the node at buf[0..len) and its subtree in the transaction.
 * buf has room for XS_ABS_MAX + 1 bytes; child paths are built in it. */
static int rm_sub(struct xs_req *rq, char *buf, uint32_t len, uint64_t kr,
		  uint32_t depth)
{
	const struct xs_hasher *h = &rq->srv->hasher;
	struct xs_key k = {buf, len, xs_kr_key(h, kr)};
	struct xs_trec *r;
	uint32_t off, l, base;
	int rc;

	rc = touch(rq, &k, kr, depth, &r);
	if (rc)
		return rc;
	if (!r->exists)
		return 0;
	rc = ensure_children(rq, r);
	if (rc)
		return rc;
	/* r's child list is not changed below: only r's children are. */
	base = len == 1 ? 1 : len + 1;
	for (off = 0; off < r->childlen; off += l + 1) {
		const char *name = r->children + off;
		uint64_t ckr = kr;

		l = (uint32_t)strlen(name);
		if (base + l > XS_ABS_MAX)
			return EIO;
		if (len > 1) {
			buf[len] = '/';
			ckr = xs_kr_extend(h, ckr, "/", 1);
		}
		memcpy(buf + base, name, l);
		buf[base + l] = '\0';
		ckr = xs_kr_extend(h, ckr, name, l);
		rc = rm_sub(rq, buf, base + l, ckr, depth + 1);
		buf[len] = '\0';
		if (rc)
			return rc;
	}
	if (r->nperms && r->perms[0].domid == rq->conn->domid)
		rq->tx->own_nodes--;
	drop_content(r);
	r->exists = false;
	r->have_children = true;
	r->modified = true;
	bump(rq->tx, r);
	return 0;
}

int xs_txn_rm(struct xs_req *rq, const struct xs_path *p)
{
	const struct xs_hasher *h = &rq->srv->hasher;
	struct xs_key pk = xs_path_key(p, h, p->depth - 1);
	char *buf = rq->srv->path2.s;
	struct xs_trec *pr;
	uint32_t off, len;
	int rc;

	assert(p->depth >= 1);
	rc = touch(rq, &pk, p->kr[p->depth - 1], p->depth - 1, &pr);
	if (!rc)
		rc = ensure_children(rq, pr);
	if (rc)
		return rc;
	memcpy(buf, p->s, p->len + 1);
	rc = rm_sub(rq, buf, p->len, p->kr[p->depth], p->depth);
	if (rc) {
		/* Half a subtree is gone from the transaction's view. */
		fail(rq->tx, rc);
		return rc;
	}
	component(p, p->depth, &off, &len);
	child_remove(pr, p->s + off, len);
	bump(rq->tx, pr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Commit                                                              */

static int cmp_depth(const void *a, const void *b)
{
	const struct xs_trec *x = *(const struct xs_trec *const *)a;
	const struct xs_trec *y = *(const struct xs_trec *const *)b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int validate(struct xs_txn *tx)
{
	struct xs_server *srv = tx->conn->srv;
	const struct xs_trec *r;

	for (r = tx->first; r; r = r->next) {
		struct xs_key k = rec_key(srv, r);
		struct xs_node *n = xs_store_get(srv, &k);

		if ((n ? n->gen : XS_GEN_NONE) != r->seen_gen)
			return EAGAIN;
	}
	return 0;
}

static void apply_delete(struct xs_server *srv, struct xs_trec *r)
{
	struct xs_key k = rec_key(srv, r);
	struct xs_node *n = xs_store_get(srv, &k);
	struct xs_evperm ep = {0};

	if (!n || !n->parent)
		return;
	ep.node = n->perms;
	ep.nnode = n->nperms;
	ep.parent = n->parent->perms;
	ep.nparent = n->parent->nperms;
	if (!xs_path_parse(&srv->path2, &srv->hasher, r->path, r->plen, 0, 0))
		xs_wt_fire(srv, &srv->path2, &ep);
	xs_store_remove(srv, n, xs_wt_fire_removed, srv);
}

static int apply_write(struct xs_server *srv, struct xs_trec *r)
{
	struct xs_path *p = &srv->path2;
	struct xs_evperm ep = {0};
	struct xs_perm *old = NULL;
	struct xs_node *n, *parent;
	struct xs_key k;
	int rc = 0;

	if (xs_path_parse(p, &srv->hasher, r->path, r->plen, 0, 0) ||
	    p->depth == 0)
		return EIO;
	k = xs_path_key(p, &srv->hasher, p->depth);
	n = xs_store_get(srv, &k);
	if (n) {
		if (n->nperms != r->nperms ||
		    memcmp(n->perms, r->perms, sizeof(*r->perms) * r->nperms)) {
			old = dup_bytes(n->perms,
					sizeof(*n->perms) * n->nperms);
			ep.old = old;
			ep.nold = old ? n->nperms : 0;
			rc = xs_store_set_perms(srv, n, r->perms, r->nperms);
		}
		if (!rc)
			rc = xs_store_set_value(srv, n, r->value, r->vlen);
	} else {
		struct xs_key pk = xs_path_key(p, &srv->hasher, p->depth - 1);
		uint32_t off, len;

		parent = xs_store_get(srv, &pk);
		if (!parent)
			return EIO;
		component(p, p->depth, &off, &len);
		n = xs_store_create(srv, parent, &k, p->kr[p->depth], off,
				    r->value, r->vlen, r->perms, r->nperms);
		if (!n)
			rc = ENOMEM;
	}
	if (!rc) {
		ep.node = n->perms;
		ep.nnode = n->nperms;
		ep.parent = n->parent->perms;
		ep.nparent = n->parent->nperms;
		xs_wt_fire(srv, p, &ep);
	}
	free(old);
	return rc;
}

int xs_txn_commit(struct xs_txn *tx)
{
	struct xs_conn *conn = tx->conn;
	struct xs_server *srv = conn->srv;
	uint32_t quota = srv->cfg.quota_nodes, m = 0, i;
	struct xs_trec **mods, *r;
	int rc, err = 0;

	if (tx->fail)
		return tx->fail;
	/* Quota first, then conflicts: Xen's order. */
	if (!xs_conn_is_priv(conn) && quota && tx->own_nodes > 0 &&
	    (uint64_t)xs_dom_nodes(srv, conn->domid) + (uint64_t)tx->own_nodes >
		    quota)
		return ENOSPC;
	rc = validate(tx);
	if (rc)
		return rc;
	for (r = tx->first; r; r = r->next)
		m += r->modified;
	if (!m)
		return 0;
	mods = malloc(sizeof(*mods) * m);
	if (!mods)
		return ENOMEM;
	m = 0;
	for (r = tx->first; r; r = r->next)
		if (r->modified)
			mods[m++] = r;
	qsort(mods, m, sizeof(*mods), cmp_depth);
	/* Removals deepest first: a node's children are gone before it. */
	for (i = m; i-- > 0;)
		if (!mods[i]->exists)
			apply_delete(srv, mods[i]);
	/* Creations and updates shallowest first: parents before children. */
	for (i = 0; i < m; i++) {
		if (!mods[i]->exists)
			continue;
		rc = apply_write(srv, mods[i]);
		if (rc && !err)
			err = rc;
	}
	free(mods);
	/* Only out of memory gets here: the store is consistent but holds
	 * part of the transaction (Xen's "corrupt" case). */
	return err ? EIO : 0;
}
