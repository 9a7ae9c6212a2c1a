/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs.h - the whole interface of the hvsec XenStore server library.
 *
 * The library speaks the real XenStore wire protocol (xen/io/xs_wire.h)
 * and owns the store: nodes, permissions, watches, transactions, domains
 * and quotas.  It does no I/O.  The embedder (hvsecd, or the standalone
 * hvsec-xenstored) owns the sockets and moves bytes:
 *
 *   srv = xs_server_new(NULL);                 defaults, see xs_config
 *   c = xs_conn_new(srv, domid, flags);        one per guest connection;
 *                                              the identity is fixed here
 *   n = xs_conn_input(c, buf, len);            feed received bytes; it
 *                                              returns how many it took
 *                                              (fewer when the peer does
 *                                              not read its replies: keep
 *                                              the rest, stop reading)
 *   while ((c = xs_server_next_ready(srv)))    connections with something
 *           flush or close c;                  to send, or to be closed
 *   len = xs_conn_output(c, &p); send p[0..len); xs_conn_output_done(c, n);
 *   if (xs_conn_closed(c)) xs_conn_free(c);    protocol violation, output
 *                                              overflow, domain released
 *
 * A request on one connection may queue watch events on any other, which
 * is why readiness is reported server-wide (xs_server_next_ready and the
 * optional notify callback) rather than as a result of xs_conn_input.
 *
 * Threading: none.  Every call on a server and its connections must be
 * serialised by the embedder (hvsecd calls it from its one loop thread).
 * The callbacks below run in the middle of a request: they must not call
 * back into the library.
 *
 * Errors are positive errno values (EINVAL, EACCES, ...), the same ones
 * the wire protocol carries as strings.
 */
#ifndef HVSEC_XS_H
#define HVSEC_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xs_server;
struct xs_conn;

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

/*
 * Quotas apply to unprivileged connections only (as in Xen's xenstored);
 * 0 means "no limit".  Defaults are Xen's (xenstored 4.17).
 */
struct xs_config {
	uint32_t quota_nodes;	     /* nodes a domain may own (1000): ENOSPC */
	uint32_t quota_watches;	     /* watches per domain (128): E2BIG */
	uint32_t quota_transactions; /* open per connection (10): ENOSPC */
	uint32_t quota_node_size;    /* value + child names + 8 per permission
				      * entry, per node (2048): ENOSPC */
	uint32_t quota_perms;	  /* entries in a permission list (5): ENOSPC */
	uint32_t quota_txn_nodes; /* nodes one transaction touches (1024):
				   * ENOSPC */
	uint32_t quota_path;	  /* path length below /local/domain/<id>/
				   * (2048, XENSTORE_REL_PATH_MAX): EINVAL */
	/* Output a connection may have queued before its requests are no
	 * longer read (backpressure; replies are never dropped). */
	uint32_t out_soft; /* 64 KiB */
	/* Output beyond which a watch event closes the connection instead of
	 * growing its queue (oxenstored does the same to a domain that does
	 * not drain its ring). */
	uint32_t out_hard;	/* 1 MiB, unprivileged connections */
	uint32_t out_hard_priv; /* 64 MiB, privileged connections */
	uint64_t hash_seed;	/* 0: random (getrandom) */
	uint32_t flags;		/* XS_CFG_* */
};

/* On release, give a domain's nodes to dom0 instead of deleting them
 * (xenstored -K, "keep orphans"). */
#define XS_CFG_KEEP_ORPHANS 0x1u

void xs_config_default(struct xs_config *cfg);

/* ------------------------------------------------------------------ */
/* Server                                                              */

/*
 * Creates a store holding "/", "/tool", "/tool/xenstored", "/local" and
 * "/local/domain", each owned by dom0 with permissions "n0".  cfg may be
 * NULL (defaults).  Returns NULL when out of memory.
 */
struct xs_server *xs_server_new(const struct xs_config *cfg);
/* Frees the server, every node, and every connection still open. */
void xs_server_free(struct xs_server *srv);

/*
 * Optional authorization callback: the mediation points of the store
 * (hooks/ installs one through hvsecd).  It is called only for requests
 * arriving on connections, never for the embedder's own xs_introduce /
 * xs_release / xs_server_call, and only after the store's own checks have
 * allowed the operation.  It returns 0 to allow or a positive errno
 * (EACCES) which becomes the request's error.
 */
enum xs_auth_op {
	XS_AUTH_INTRODUCE = 1, /* target: the domain being introduced */
	XS_AUTH_RELEASE,       /* target: the domain being released */
	XS_AUTH_NODE,	       /* an unprivileged subject reaches a node (or
				* creates under one) owned by another domain,
				* target; access: XS_ACCESS_* wanted */
	XS_AUTH_SET_PERMS,     /* subject sets perms (owner: target) */
};

#define XS_ACCESS_READ	0x1u
#define XS_ACCESS_WRITE 0x2u

/* One permission entry.  The first entry of a list names the owner and
 * gives the access of every domain not listed after it. */
struct xs_perm {
	uint32_t domid;
	uint32_t access; /* XS_ACCESS_* bits: "n" 0, "r" 1, "w" 2, "b" 3 */
};

struct xs_auth {
	enum xs_auth_op op;
	uint32_t subject;	     /* domid of the requesting connection */
	uint32_t target;	     /* see enum xs_auth_op */
	uint32_t access;	     /* XS_AUTH_NODE */
	const char *path;	     /* NODE, SET_PERMS: canonical path */
	const struct xs_perm *perms; /* SET_PERMS: the new list */
	uint32_t nperms;
};

typedef int (*xs_auth_fn)(void *arg, const struct xs_auth *req);
void xs_server_set_auth(struct xs_server *srv, xs_auth_fn fn, void *arg);

/* Optional: called when a connection enters the ready set (it has output
 * queued, or must be closed).  xs_server_next_ready works without it. */
typedef void (*xs_notify_fn)(void *arg, struct xs_conn *conn);
void xs_server_set_notify(struct xs_server *srv, xs_notify_fn fn, void *arg);

/* Next connection with output queued or that must be closed, in the order
 * they became ready.  Each is reported once, and again only when more
 * output is queued (or it is closed) after that: a connection whose output
 * the embedder could not send completely stays the embedder's to flush
 * (poll for POLLOUT).  NULL when none. */
struct xs_conn *xs_server_next_ready(struct xs_server *srv);

/*
 * Runs one request as dom0, privileged, outside any connection and
 * transaction: the daemon's way to prepare nodes without a socket.  type
 * is an XS_* value of xs_wire.h, payload exactly as on the wire.  The reply
 * payload is copied to out (at most outsz bytes; *outlen gets its full
 * length).  Returns 0 or the errno the request failed with.  Watch
 * requests are refused (EINVAL): there is nobody to deliver events to.
 */
int xs_server_call(struct xs_server *srv, uint32_t type, const void *payload,
		   size_t len, void *out, size_t outsz, size_t *outlen);
/* Shorthands over xs_server_call for NUL-terminated paths and values. */
int xs_server_write(struct xs_server *srv, const char *path, const char *val);
int xs_server_mkdir(struct xs_server *srv, const char *path);
int xs_server_rm(struct xs_server *srv, const char *path);
/* perms: "n0", "r5", ... as xenstore-chmod takes them. */
int xs_server_chmod(struct xs_server *srv, const char *path,
		    const char *const *perms, unsigned int nperms);

/* Internal consistency of the whole store (tree links, counts, hash
 * tables, accounting): 0 if sound, else EIO.  O(store size); for tests,
 * the fuzzer and XS_CONTROL "check". */
int xs_server_check(const struct xs_server *srv);

struct xs_stats {
	uint64_t requests;  /* messages processed */
	uint64_t errors;    /* of which answered with XS_ERROR */
	uint64_t events;    /* watch events queued */
	uint64_t commits;   /* transactions committed */
	uint64_t conflicts; /* transactions ended with EAGAIN */
	uint32_t nodes;	    /* in the store now */
	uint32_t watches;
	uint32_t connections;
	uint32_t transactions;
};
void xs_server_stats(const struct xs_server *srv, struct xs_stats *st);

/* ------------------------------------------------------------------ */
/* Domains (the daemon's hooks)                                        */

/*
 * Marks a domain introduced and fires @introduceDomain (once; introducing
 * an introduced domain does nothing).  With XS_INTRO_MKHOME it also
 * creates /local/domain/<domid> owned by the domain ("n<domid>"), so that
 * the guest's relative paths work.  domid must be 1..0x7fef (EINVAL).
 */
#define XS_INTRO_MKHOME 0x1u
int xs_introduce(struct xs_server *srv, uint32_t domid, uint32_t flags);

/*
 * The domain is gone: removes every node it owns (or, with
 * XS_CFG_KEEP_ORPHANS, gives them to dom0), removes its entries from every
 * other node's permission list, marks it not introduced, closes its
 * connections (xs_conn_closed) and fires @releaseDomain.  EINVAL for
 * dom0 or a reserved domid.  O(store size), as in Xen.
 */
int xs_release(struct xs_server *srv, uint32_t domid);
bool xs_is_introduced(const struct xs_server *srv, uint32_t domid);
/* Fires @releaseDomain alone, e.g. when a domain shut down or crashed
 * but is not destroyed yet (Xen fires it then too). */
void xs_fire_release_watch(struct xs_server *srv);

/* ------------------------------------------------------------------ */
/* Connections                                                         */

/* Domain 0 is always privileged (no permission checks, no quotas, may
 * introduce and release domains); XS_CONN_PRIV makes another domid so. */
#define XS_CONN_PRIV 0x1u
/* Writes refused with EACCES (the old xenstored read-only socket). */
#define XS_CONN_READONLY 0x2u

/* NULL on ENOMEM or a domid above 65535. */
struct xs_conn *xs_conn_new(struct xs_server *srv, uint32_t domid,
			    uint32_t flags);
/* Drops the connection's watches and transactions (uncommitted) too. */
void xs_conn_free(struct xs_conn *conn);

/* Feeds bytes received from the peer; processes every complete message.
 * Returns how many bytes were taken: all of them, unless the connection
 * closed or its queued output reached out_soft.  Never fails otherwise. */
size_t xs_conn_input(struct xs_conn *conn, const void *buf, size_t len);

/* The queued output: *buf points at the first `return value' bytes. */
size_t xs_conn_output(struct xs_conn *conn, const void **buf);
/* n of them were sent. */
void xs_conn_output_done(struct xs_conn *conn, size_t n);
/* Total bytes queued. */
size_t xs_conn_pending(const struct xs_conn *conn);

/* Why a connection must be closed; 0 while it is usable. */
enum xs_close_reason {
	XS_CLOSE_NONE = 0,
	XS_CLOSE_PROTOCOL, /* a header announced more than 4096 bytes */
	XS_CLOSE_OVERFLOW, /* events would queue beyond out_hard */
	XS_CLOSE_RELEASED, /* its domain was released */
	XS_CLOSE_NOMEM,	   /* the library could not queue a reply */
};
enum xs_close_reason xs_conn_closed(const struct xs_conn *conn);
const char *xs_close_reason_str(enum xs_close_reason r);

uint32_t xs_conn_domid(const struct xs_conn *conn);
void xs_conn_set_user(struct xs_conn *conn, void *user);
void *xs_conn_user(const struct xs_conn *conn);

/* ------------------------------------------------------------------ */
/* Misc                                                                */

/* "EINVAL", "EACCES", ... as sent in XS_ERROR replies ("EINVAL" for an
 * errno the protocol has no name for, as Xen does). */
const char *xs_errno_name(int err);
/* The errno an XS_ERROR payload names (EINVAL if unknown). */
int xs_errno_parse(const char *name, size_t len);

#endif /* HVSEC_XS_H */
