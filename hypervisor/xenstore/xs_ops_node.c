/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_ops_node.c - the requests on nodes: READ, WRITE, MKDIR, RM,
 * DIRECTORY, DIRECTORY_PART, GET_PERMS, SET_PERMS.
 *
 * Which error wins when several apply (as Xen's xenstored decides):
 *   1. a malformed payload or path: EINVAL;
 *   2. permissions: EACCES, and a missing node reads as ENOENT only if
 *      the nearest existing ancestor grants the access asked for, else
 *      EACCES, so that nobody learns what exists where they cannot look
 *      (Xen's errno_from_parents());
 *   3. quotas: ENOSPC (nodes, node size, permission entries);
 *   4. the authorization callback's verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

/* Bytes a node counts against the node-size quota (Xen counts its whole
 * database record: data, child names and 8 bytes per permission). */
static uint64_t node_size(uint32_t vlen, uint32_t childlen, uint32_t nperms)
{
	return (uint64_t)vlen + childlen + 8u * (uint64_t)nperms;
}

static bool over_size(const struct xs_req *rq, uint64_t size)
{
	uint32_t q = rq->srv->cfg.quota_node_size;

	return !rq->who.priv && q && size > q;
}

static int parse_path(struct xs_req *rq, const char *s, size_t len)
{
	uint32_t quota = rq->who.priv ? 0 : rq->srv->cfg.quota_path;

	return xs_path_parse(&rq->srv->path, &rq->srv->hasher, s, len,
			     rq->conn->domid, quota);
}

/* The node (or creation below a node) is another domain's: ask the
 * embedder. */
static int auth_node(struct xs_req *rq, const char *path,
		     const struct xs_perm *perms, uint32_t want)
{
	struct xs_auth a = {0};
	uint32_t owner = perms[0].domid;

	if (!rq->srv->auth || rq->who.priv || owner == rq->who.domid ||
	    owner == rq->who.target)
		return 0;
	a.op = XS_AUTH_NODE;
	a.subject = rq->who.domid;
	a.target = owner;
	a.access = want & (XS_ACCESS_READ | XS_ACCESS_WRITE);
	a.path = path;
	return xs_req_auth(rq, &a);
}

/*
 * Finds p's node and checks that the requester has every bit of `want'.
 * 0: *rec is the node.  ENOENT: it does not exist, the nearest existing
 * ancestor is prefix *anc (its record in *arec) and grants some of `want'.
 * Anything else is the request's error.
 */
static int resolve(struct xs_req *rq, const struct xs_path *p, uint32_t want,
		   struct xs_rec *rec, uint32_t *anc, struct xs_rec *arec)
{
	const struct xs_hasher *h = &rq->srv->hasher;
	struct xs_key k = xs_path_key(p, h, p->depth);
	uint32_t i, perm;
	int rc;

	rc = xs_view_get(rq, &k, p->kr[p->depth], p->depth, rec);
	if (!rc) {
		perm = xs_perm_for(&rq->who, rec->perms, rec->nperms);
		if ((perm & want) != want)
			return EACCES;
		return auth_node(rq, p->s, rec->perms, want);
	}
	if (rc != ENOENT)
		return rc;
	for (i = p->depth; i-- > 0;) {
		k = xs_path_key(p, h, i);
		rc = xs_view_get(rq, &k, p->kr[i], i, arec);
		if (rc != ENOENT)
			break;
	}
	if (rc)
		return rc == ENOENT ? EIO : rc; /* no root: a bug */
	if (anc)
		*anc = i;
	perm = xs_perm_for(&rq->who, arec->perms, arec->nperms);
	return (perm & want) ? ENOENT : EACCES;
}

int xs_op_read(struct xs_req *rq)
{
	long len = xs_req_onearg(rq);
	struct xs_rec rec, anc;
	int rc;

	if (len < 0)
		return EINVAL;
	rc = parse_path(rq, rq->payload, (size_t)len);
	if (!rc)
		rc = resolve(rq, &rq->srv->path, XS_ACCESS_READ, &rec, NULL,
			     &anc);
	if (rc)
		return rc;
	rq->reply = rec.vlen ? rec.value : "";
	rq->reply_len = rec.vlen;
	return 0;
}

/* Creates prefixes a+1 .. depth of p below existing prefix a (record
 * arec); the last one gets value.  New nodes inherit arec's permissions;
 * an unprivileged creator owns them (Xen's construct_node()). */
static int create(struct xs_req *rq, const struct xs_path *p, uint32_t a,
		  const struct xs_rec *arec, const char *value, uint32_t vlen)
{
	struct xs_server *srv = rq->srv;
	uint32_t quota = srv->cfg.quota_nodes, n = p->depth - a, i;
	uint32_t first_name;
	struct xs_perm *perms;
	int rc = 0;

	first_name = (a + 1 == 1 ? 1u : p->end[a] + 1u);
	if (!rq->who.priv) {
		if (quota && (uint64_t)xs_view_own_nodes(rq) + n > quota)
			return ENOSPC;
		/* The new leaf, and the ancestor that gains a child. */
		if (over_size(rq, node_size(vlen, 0, arec->nperms)) ||
		    over_size(rq, node_size(arec->vlen,
					    arec->childlen + 1 + p->end[a + 1] -
						    first_name,
					    arec->nperms)))
			return ENOSPC;
	}
	perms = malloc(sizeof(*perms) * arec->nperms);
	if (!perms)
		return ENOMEM;
	memcpy(perms, arec->perms, sizeof(*perms) * arec->nperms);
	if (!rq->who.priv)
		perms[0].domid = rq->who.domid;
	rc = auth_node(rq, p->s, arec->perms, XS_ACCESS_WRITE);
	for (i = a + 1; !rc && i <= p->depth; i++)
		rc = xs_view_create(rq, p, i, i == p->depth ? value : NULL,
				    i == p->depth ? vlen : 0, perms,
				    arec->nperms);
	free(perms);
	if (rc && i > a + 2) {
		/* Created some, not all: undo, so that a failed request
		 * leaves nothing behind. */
		if (rq->tx) {
			if (!rq->tx->fail)
				rq->tx->fail = rc;
		} else {
			struct xs_key k = xs_path_key(p, &srv->hasher, a + 1);
			struct xs_node *top = xs_store_get(srv, &k);

			if (top)
				xs_store_remove(srv, top, NULL, NULL);
		}
	}
	if (!rc)
		xs_view_changed(rq, p, NULL, 0);
	return rc;
}

int xs_op_write(struct xs_req *rq)
{
	const char *nul = memchr(rq->payload, '\0', rq->len);
	struct xs_path *p = &rq->srv->path;
	struct xs_rec rec, anc;
	const char *value;
	uint32_t plen, vlen, a = 0;
	int rc;

	if (!nul)
		return EINVAL;
	plen = (uint32_t)(nul - rq->payload);
	value = nul + 1;
	vlen = rq->len - plen - 1;
	rc = parse_path(rq, rq->payload, plen);
	if (!rc)
		rc = resolve(rq, p, XS_ACCESS_WRITE, &rec, &a, &anc);
	if (rc == ENOENT)
		return create(rq, p, a, &anc, value, vlen);
	if (rc)
		return rc;
	if (over_size(rq, node_size(vlen, rec.childlen, rec.nperms)))
		return ENOSPC;
	rc = xs_view_set_value(rq, p, value, vlen);
	if (!rc)
		xs_view_changed(rq, p, NULL, 0);
	return rc;
}

int xs_op_mkdir(struct xs_req *rq)
{
	long len = xs_req_onearg(rq);
	struct xs_path *p = &rq->srv->path;
	struct xs_rec rec, anc;
	uint32_t a = 0;
	int rc;

	if (len < 0)
		return EINVAL;
	rc = parse_path(rq, rq->payload, (size_t)len);
	if (!rc)
		rc = resolve(rq, p, XS_ACCESS_WRITE, &rec, &a, &anc);
	if (rc == ENOENT)
		return create(rq, p, a, &anc, NULL, 0);
	return rc; /* exists already: fine, unchanged */
}

int xs_op_rm(struct xs_req *rq)
{
	long len = xs_req_onearg(rq);
	struct xs_path *p = &rq->srv->path;
	struct xs_rec rec, anc;
	uint32_t a = 0;
	int rc;

	if (len < 0)
		return EINVAL;
	rc = parse_path(rq, rq->payload, (size_t)len);
	if (!rc)
		rc = resolve(rq, p, XS_ACCESS_WRITE, &rec, &a, &anc);
	/* "It is not an error if <path> does not exist, but it _is_ an
	 * error if <path>'s immediate parent does not exist either." */
	if (rc == ENOENT)
		return a + 1 == p->depth ? 0 : ENOENT;
	if (rc)
		return rc;
	if (p->depth == 0)
		return EINVAL;
	return xs_view_rm(rq, p);
}

int xs_op_directory(struct xs_req *rq)
{
	long len = xs_req_onearg(rq);
	struct xs_path *p = &rq->srv->path;
	struct xs_rec rec, anc;
	const char *blob;
	uint32_t blen;
	int rc;

	if (len < 0)
		return EINVAL;
	rc = parse_path(rq, rq->payload, (size_t)len);
	if (!rc)
		rc = resolve(rq, p, XS_ACCESS_READ, &rec, NULL, &anc);
	if (rc)
		return rc;
	/* Too long for one reply: libxenstore then falls back to
	 * DIRECTORY_PART. */
	if (rec.childlen > XS_PAYLOAD_MAX)
		return E2BIG;
	{
		struct xs_key k = xs_path_key(p, &rq->srv->hasher, p->depth);

		rc = xs_view_children(rq, &k, p->kr[p->depth], p->depth, &blob,
				      &blen);
	}
	if (rc)
		return rc;
	if (blen > XS_PAYLOAD_MAX)
		return E2BIG;
	rq->reply = blen ? blob : "";
	rq->reply_len = blen;
	return 0;
}

int xs_op_directory_part(struct xs_req *rq)
{
	struct xs_path *p = &rq->srv->path;
	char *out = rq->srv->rbuf;
	struct xs_rec rec, anc;
	const char *blob, *child;
	uint32_t plen, off, blen, genlen, maxlen, len = 0, l;
	struct xs_key k;
	int rc, w;

	/* <path>|<offset>|: exactly two strings, nothing after them. */
	if (xs_count_strings(rq->payload, rq->len) != 2 ||
	    rq->payload[rq->len - 1] != '\0')
		return EINVAL;
	plen = (uint32_t)strlen(rq->payload);
	if (xs_parse_u32(rq->payload + plen + 1, rq->len - plen - 2, &off))
		return EINVAL;
	rc = parse_path(rq, rq->payload, plen);
	if (!rc)
		rc = resolve(rq, p, XS_ACCESS_READ, &rec, NULL, &anc);
	if (rc)
		return rc;
	k = xs_path_key(p, &rq->srv->hasher, p->depth);
	rc = xs_view_children(rq, &k, p->kr[p->depth], p->depth, &blob, &blen);
	if (rc)
		return rc;
	w = snprintf(out, XS_PAYLOAD_MAX, "%llu", (unsigned long long)rec.gen);
	if (w < 0)
		return EIO;
	genlen = (uint32_t)w + 1;
	/* Past the end: the generation and an empty string ends the list. */
	if (off >= blen) {
		out[genlen] = '\0';
		rq->reply = out;
		rq->reply_len = genlen + 1;
		return 0;
	}
	/* Whole names only, as many as fit; a final empty string marks the
	 * last part (the client stops at "\0\0"). */
	maxlen = XS_PAYLOAD_MAX - genlen - 1;
	child = blob + off;
	while (off + len < blen) {
		l = (uint32_t)strlen(child);
		if (len + l >= maxlen)
			break;
		len += l + 1;
		child += l + 1;
	}
	if (len)
		memcpy(out + genlen, blob + off, len);
	if (off + len == blen)
		out[genlen + len++] = '\0';
	rq->reply = out;
	rq->reply_len = genlen + len;
	return 0;
}

int xs_op_get_perms(struct xs_req *rq)
{
	long len = xs_req_onearg(rq);
	const struct xs_perm *perms;
	struct xs_rec rec, anc;
	uint32_t nperms;
	size_t n;
	int rc;

	if (len < 0)
		return EINVAL;
	if (len > 0 && rq->payload[0] == '@') {
		struct xs_special *s =
			xs_special_find(rq->srv, rq->payload, (size_t)len);

		if (!s)
			return EINVAL;
		if (!(xs_perm_for(&rq->who, s->perms, s->nperms) &
		      XS_ACCESS_READ))
			return EACCES;
		perms = s->perms;
		nperms = s->nperms;
	} else {
		rc = parse_path(rq, rq->payload, (size_t)len);
		if (!rc)
			rc = resolve(rq, &rq->srv->path, XS_ACCESS_READ, &rec,
				     NULL, &anc);
		if (rc)
			return rc;
		perms = rec.perms;
		nperms = rec.nperms;
	}
	n = xs_perms_format(perms, nperms, rq->srv->rbuf, XS_PAYLOAD_MAX);
	if (!n)
		return E2BIG;
	rq->reply = rq->srv->rbuf;
	rq->reply_len = (uint32_t)n;
	return 0;
}

static int set_special(struct xs_req *rq, struct xs_special *s,
		       const struct xs_perm *perms, uint32_t n)
{
	const uint32_t want = XS_ACCESS_WRITE | XS_ACCESS_OWNER;
	struct xs_perm *np;

	if ((xs_perm_for(&rq->who, s->perms, s->nperms) & want) != want)
		return EACCES;
	np = malloc(sizeof(*np) * n);
	if (!np)
		return ENOMEM;
	memcpy(np, perms, sizeof(*np) * n);
	free(s->perms);
	s->perms = np;
	s->nperms = n;
	return 0;
}

int xs_op_set_perms(struct xs_req *rq)
{
	const uint32_t want = XS_ACCESS_WRITE | XS_ACCESS_OWNER;
	uint32_t nstr = xs_count_strings(rq->payload, rq->len), n, plen;
	struct xs_path *p = &rq->srv->path;
	struct xs_perm *perms = NULL, *old = NULL;
	struct xs_auth a = {0};
	struct xs_rec rec, anc;
	int rc;

	/* <path>|<perm>|+ */
	if (nstr < 2)
		return EINVAL;
	n = nstr - 1;
	if (!rq->who.priv && rq->srv->cfg.quota_perms &&
	    n > rq->srv->cfg.quota_perms)
		return ENOSPC;
	plen = (uint32_t)strlen(rq->payload);
	perms = malloc(sizeof(*perms) * n);
	if (!perms)
		return ENOMEM;
	rc = xs_perms_parse(rq->payload + plen + 1, rq->len - plen - 1, perms,
			    n);
	if (rc)
		goto out;
	if (rq->payload[0] == '@') {
		struct xs_special *s =
			xs_special_find(rq->srv, rq->payload, plen);

		rc = s ? set_special(rq, s, perms, n) : EINVAL;
		goto out;
	}
	rc = parse_path(rq, rq->payload, plen);
	if (!rc)
		rc = resolve(rq, p, want, &rec, NULL, &anc);
	if (rc)
		goto out;
	/* Unprivileged domains may not give their nodes away. */
	if (!rq->who.priv && perms[0].domid != rec.perms[0].domid) {
		rc = EPERM;
		goto out;
	}
	if (over_size(rq, node_size(rec.vlen, rec.childlen, n))) {
		rc = ENOSPC;
		goto out;
	}
	a.op = XS_AUTH_SET_PERMS;
	a.subject = rq->who.domid;
	a.target = rec.perms[0].domid;
	a.path = p->s;
	a.perms = perms;
	a.nperms = n;
	rc = xs_req_auth(rq, &a);
	if (rc)
		goto out;
	/* Watchers who could read the node before must hear that they no
	 * longer can. */
	old = malloc(sizeof(*old) * rec.nperms);
	if (!old) {
		rc = ENOMEM;
		goto out;
	}
	memcpy(old, rec.perms, sizeof(*old) * rec.nperms);
	rc = xs_view_set_perms(rq, p, perms, n);
	if (!rc)
		xs_view_changed(rq, p, old, rec.nperms);
out:
	free(old);
	free(perms);
	return rc;
}
