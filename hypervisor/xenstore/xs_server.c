/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_server.c - the server's lifecycle and the calls the embedder makes on
 * it directly (configuration, callbacks, xs_server_call and its
 * shorthands, domains, statistics, errno names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/xenstore/xs_priv.h"

void xs_config_default(struct xs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->quota_nodes = 1000;
	cfg->quota_watches = 128;
	cfg->quota_transactions = 10;
	cfg->quota_node_size = 2048;
	cfg->quota_perms = 5;
	cfg->quota_txn_nodes = 1024;
	cfg->quota_path = XS_REL_MAX;
	cfg->out_soft = 64u * 1024u;
	cfg->out_hard = 1024u * 1024u;
	cfg->out_hard_priv = 64u * 1024u * 1024u;
}

static uint64_t random_seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	/* No entropy yet (early boot): weaker, still not guessable from a
	 * guest without timing the daemon's start. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
	       ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&s;
}

static int special_init(struct xs_special *s)
{
	s->perms = calloc(1, sizeof(*s->perms)); /* "n0" */
	if (!s->perms)
		return ENOMEM;
	s->nperms = 1;
	return 0;
}

struct xs_special *xs_special_find(struct xs_server *srv, const char *name,
				   size_t len)
{
	if (len == 16 && !memcmp(name, "@introduceDomain", 16))
		return &srv->introduce;
	if (len == 14 && !memcmp(name, "@releaseDomain", 14))
		return &srv->release;
	return NULL;
}

struct xs_server *xs_server_new(const struct xs_config *cfg)
{
	struct xs_server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return NULL;
	if (cfg)
		srv->cfg = *cfg;
	else
		xs_config_default(&srv->cfg);
	xs_hasher_init(&srv->hasher,
		       srv->cfg.hash_seed ? srv->cfg.hash_seed : random_seed());
	if (xs_ht_init(&srv->nodes, 1024) || xs_ht_init(&srv->wpaths, 64) ||
	    xs_ht_init(&srv->doms, 64) || special_init(&srv->introduce) ||
	    special_init(&srv->release) || xs_store_init(srv))
		goto fail;
	srv->internal = xs_conn_new(srv, 0, XS_CONN_PRIV);
	if (!srv->internal)
		goto fail;
	srv->internal->internal = true;
	return srv;
fail:
	xs_server_free(srv);
	return NULL;
}

void xs_server_free(struct xs_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		xs_conn_free(srv->conns);
	xs_wt_fini(srv);
	xs_store_fini(srv);
	xs_dom_fini(srv);
	xs_ht_fini(&srv->nodes);
	xs_ht_fini(&srv->wpaths);
	xs_ht_fini(&srv->doms);
	free(srv->introduce.perms);
	free(srv->release.perms);
	free(srv->scratch);
	free(srv);
}

char *xs_scratch(struct xs_server *srv, size_t n)
{
	char *p;

	if (n <= srv->scratch_cap)
		return srv->scratch;
	p = realloc(srv->scratch, n);
	if (!p)
		return NULL;
	srv->scratch = p;
	srv->scratch_cap = n;
	return p;
}

void xs_server_set_auth(struct xs_server *srv, xs_auth_fn fn, void *arg)
{
	srv->auth = fn;
	srv->auth_arg = arg;
}

void xs_server_set_notify(struct xs_server *srv, xs_notify_fn fn, void *arg)
{
	srv->notify = fn;
	srv->notify_arg = arg;
}

int xs_server_call(struct xs_server *srv, uint32_t type, const void *payload,
		   size_t len, void *out, size_t outsz, size_t *outlen)
{
	struct xs_conn *c = srv->internal;
	struct xsd_sockmsg h = {.type = type, .req_id = 0, .tx_id = 0};
	const uint8_t *reply;
	size_t n;
	int rc = 0;

	if (len > XS_PAYLOAD_MAX)
		return E2BIG;
	h.len = (uint32_t)len;
	xs_dispatch(c, &h, payload);
	n = xs_conn_output(c, (const void **)&reply);
	if (n < XS_HDR_LEN) {
		rc = ENOMEM;
		goto out;
	}
	memcpy(&h, reply, sizeof(h));
	reply += XS_HDR_LEN;
	if (h.type == XS_ERROR) {
		rc = xs_errno_parse((const char *)reply, h.len);
		goto out;
	}
	if (outlen)
		*outlen = h.len;
	if (out && outsz)
		memcpy(out, reply, h.len < outsz ? h.len : outsz);
out:
	/* Nothing else can be queued here: the internal connection has no
	 * watches, so the only output is this reply. */
	xs_conn_output_done(c, n);
	c->closed = XS_CLOSE_NONE;
	return rc;
}

int xs_server_write(struct xs_server *srv, const char *path, const char *val)
{
	size_t pl = strlen(path) + 1, vl = strlen(val);
	char buf[XENSTORE_PAYLOAD_MAX];

	if (pl + vl > sizeof(buf))
		return E2BIG;
	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	return xs_server_call(srv, XS_WRITE, buf, pl + vl, NULL, 0, NULL);
}

int xs_server_mkdir(struct xs_server *srv, const char *path)
{
	return xs_server_call(srv, XS_MKDIR, path, strlen(path) + 1, NULL, 0,
			      NULL);
}

int xs_server_rm(struct xs_server *srv, const char *path)
{
	return xs_server_call(srv, XS_RM, path, strlen(path) + 1, NULL, 0,
			      NULL);
}

int xs_server_chmod(struct xs_server *srv, const char *path,
		    const char *const *perms, unsigned int nperms)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t off = 0, l;
	unsigned int i;

	for (i = 0; i <= nperms; i++) {
		const char *s = i ? perms[i - 1] : path;

		l = strlen(s) + 1;
		if (l > sizeof(buf) - off)
			return E2BIG;
		memcpy(buf + off, s, l);
		off += l;
	}
	return xs_server_call(srv, XS_SET_PERMS, buf, off, NULL, 0, NULL);
}

int xs_introduce(struct xs_server *srv, uint32_t domid, uint32_t flags)
{
	return xs_dom_introduce(srv, domid, flags & XS_INTRO_MKHOME);
}

int xs_release(struct xs_server *srv, uint32_t domid)
{
	return xs_dom_release(srv, domid);
}

bool xs_is_introduced(const struct xs_server *srv, uint32_t domid)
{
	const struct xs_dom *d;

	if (domid == 0)
		return true; /* dom0 is there from the start */
	d = xs_dom_find(srv, domid);
	return d && d->introduced;
}

void xs_fire_release_watch(struct xs_server *srv)
{
	xs_wt_fire_special(srv, "@releaseDomain");
}

void xs_server_stats(const struct xs_server *srv, struct xs_stats *st)
{
	*st = srv->st;
	st->nodes = srv->nnodes;
	st->watches = srv->nwatches;
	st->connections = srv->nconns - (srv->internal ? 1 : 0);
	st->transactions = srv->ntxns;
}

const char *xs_errno_name(int err)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

int xs_errno_parse(const char *name, size_t len)
{
	size_t i, l;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
		l = strlen(xsd_errors[i].errstring);
		/* The name is sent with its NUL; accept it either way. */
		if ((len == l || (len == l + 1 && name[l] == '\0')) &&
		    !memcmp(name, xsd_errors[i].errstring, l))
			return xsd_errors[i].errnum;
	}
	return EINVAL;
}
