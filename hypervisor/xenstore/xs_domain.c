/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_domain.c - domains as the store knows them: what they own (for
 * quotas), whether they are introduced, whom they act for (SET_TARGET),
 * and what happens when one goes away.
 *
 * A record exists for every domain that owns a node, has a connection or
 * was introduced; records live until the server is freed (at most 65536 of
 * them, a few dozen bytes each), so connections may keep pointers to them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

struct xs_dom *xs_dom_find(const struct xs_server *srv, uint32_t domid)
{
	uint64_t key = xs_int_key(&srv->hasher, domid);
	struct xs_hnode *h;

	for (h = xs_ht_find(&srv->doms, key); h; h = xs_ht_next(h, key)) {
		struct xs_dom *d = xs_container_of(h, struct xs_dom, h);

		if (d->domid == domid)
			return d;
	}
	return NULL;
}

struct xs_dom *xs_dom_get(struct xs_server *srv, uint32_t domid)
{
	struct xs_dom *d = xs_dom_find(srv, domid);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domid = domid;
	d->target = UINT32_MAX;
	xs_ht_add(&srv->doms, &d->h, xs_int_key(&srv->hasher, domid));
	return d;
}

void xs_dom_nodes_add(struct xs_server *srv, uint32_t domid, int delta)
{
	struct xs_dom *d = xs_dom_get(srv, domid);

	if (!d)
		return;
	if (delta < 0 && d->nodes < (uint32_t)-delta)
		d->nodes = 0;
	else
		d->nodes += (uint32_t)delta;
}

uint32_t xs_dom_nodes(const struct xs_server *srv, uint32_t domid)
{
	const struct xs_dom *d = xs_dom_find(srv, domid);

	return d ? d->nodes : 0;
}

void xs_dom_fini(struct xs_server *srv)
{
	size_t i;

	if (!srv->doms.b)
		return;
	for (i = 0; i <= srv->doms.mask; i++) {
		struct xs_hnode *h = srv->doms.b[i], *next;

		for (; h; h = next) {
			next = h->next;
			free(xs_container_of(h, struct xs_dom, h));
		}
		srv->doms.b[i] = NULL;
	}
	srv->doms.n = 0;
}

static bool valid_guest(uint32_t domid)
{
	return domid != 0 && domid < XS_DOMID_RESERVED;
}

/* The home directory of a new domain, owned by it: "n<domid>". */
static int make_home(struct xs_server *srv, uint32_t domid)
{
	char path[64], perm[16], buf[8];
	const char *perms[1] = {perm};
	size_t len;
	int rc;

	snprintf(path, sizeof(path), XS_HOME "/%u", domid);
	snprintf(perm, sizeof(perm), "n%u", domid);
	rc = xs_server_call(srv, XS_READ, path, strlen(path) + 1, buf,
			    sizeof(buf), &len);
	if (rc != ENOENT)
		return rc;
	rc = xs_server_mkdir(srv, path);
	if (!rc)
		rc = xs_server_chmod(srv, path, perms, 1);
	return rc;
}

int xs_dom_introduce(struct xs_server *srv, uint32_t domid, bool mkhome)
{
	struct xs_dom *d;
	int rc;

	if (!valid_guest(domid))
		return EINVAL;
	d = xs_dom_get(srv, domid);
	if (!d)
		return ENOMEM;
	if (mkhome) {
		rc = make_home(srv, domid);
		if (rc)
			return rc;
	}
	if (!d->introduced) {
		d->introduced = true;
		xs_wt_fire_special(srv, "@introduceDomain");
	}
	return 0;
}

/* Drops every entry after the first that names domid; true if any was
 * dropped.  A new domain that later gets the same id must not inherit
 * them (the problem XSA-322 fixed in Xen). */
static uint32_t strip(const struct xs_perm *in, uint32_t n, uint32_t domid,
		      struct xs_perm *out)
{
	uint32_t i, m = 1;

	out[0] = in[0];
	for (i = 1; i < n; i++)
		if (in[i].domid != domid)
			out[m++] = in[i];
	return m;
}

static int restrip_node(struct xs_server *srv, struct xs_node *n,
			uint32_t domid, bool chown)
{
	struct xs_perm *p;
	uint32_t m;
	int rc = 0;

	p = malloc(sizeof(*p) * n->nperms);
	if (!p)
		return ENOMEM;
	m = strip(n->perms, n->nperms, domid, p);
	if (chown)
		p[0].domid = 0;
	if (m != n->nperms || chown)
		rc = xs_store_set_perms(srv, n, p, m);
	free(p);
	return rc;
}

static void restrip_special(struct xs_special *s, uint32_t domid)
{
	s->nperms = strip(s->perms, s->nperms, domid, s->perms);
}

/* Removes what domid owns (Xen's domain_tree_remove): a node it owns goes
 * with its whole subtree, watches firing as for XS_RM. */
static void remove_owned(struct xs_server *srv, uint32_t domid, bool keep)
{
	struct xs_node *n = srv->root->first, *next;

	while (n) {
		bool owned = n->perms[0].domid == domid;

		if (owned && !keep) {
			struct xs_evperm ep = {
				.node = n->perms,
				.nnode = n->nperms,
				.parent = n->parent->perms,
				.nparent = n->parent->nperms,
			};

			next = xs_store_next_skip(n);
			if (!xs_path_parse(&srv->path2, &srv->hasher, n->path,
					   n->plen, 0, 0))
				xs_wt_fire(srv, &srv->path2, &ep);
			xs_store_remove(srv, n, xs_wt_fire_removed, srv);
		} else {
			/* Out of memory here leaves a stale entry behind,
			 * which only ever grants what it granted before. */
			(void)restrip_node(srv, n, domid, owned);
			next = n->first ? n->first : xs_store_next_skip(n);
		}
		n = next;
	}
}

/* Nobody acts for a domain that is gone any more. */
static void untarget(struct xs_server *srv, uint32_t domid)
{
	size_t i;

	for (i = 0; i <= srv->doms.mask; i++) {
		struct xs_hnode *h;

		for (h = srv->doms.b[i]; h; h = h->next) {
			struct xs_dom *d = xs_container_of(h, struct xs_dom, h);

			if (d->target == domid)
				d->target = UINT32_MAX;
		}
	}
}

int xs_dom_release(struct xs_server *srv, uint32_t domid)
{
	struct xs_dom *d;
	struct xs_conn *c;

	if (!valid_guest(domid))
		return EINVAL;
	d = xs_dom_find(srv, domid);
	if (d && d->nodes)
		remove_owned(srv, domid, srv->cfg.flags & XS_CFG_KEEP_ORPHANS);
	else
		remove_owned(srv, domid, true); /* ACL entries only */
	restrip_special(&srv->introduce, domid);
	restrip_special(&srv->release, domid);
	if (d) {
		d->introduced = false;
		d->target = UINT32_MAX;
	}
	untarget(srv, domid);
	for (c = srv->conns; c; c = c->next)
		if (c->domid == domid && !c->internal)
			xs_conn_close(c, XS_CLOSE_RELEASED);
	xs_wt_fire_special(srv, "@releaseDomain");
	return 0;
}
