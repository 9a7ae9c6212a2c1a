/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_priv.h - what the files of the XenStore server share (private to
 * hypervisor/xenstore/; nothing outside includes it).
 *
 *   xs_hash.c      keyed path hashing and the intrusive hash table
 *   xs_path.c      path syntax, relative paths, prefix keys
 *   xs_perms.c     permission lists: parse, format, evaluate
 *   xs_store.c     the committed tree of nodes
 *   xs_txn.c       transactions: private view, validation, commit
 *   xs_view.c      one interface over "the tree" and "a transaction"
 *   xs_watch.c     watches and watch events
 *   xs_domain.c    domains: accounting, introduce, release
 *   xs_conn.c      connections: framing, output queue, ready set
 *   xs_ops_node.c  READ WRITE MKDIR RM DIRECTORY(_PART) GET/SET_PERMS
 *   xs_ops_misc.c  WATCH UNWATCH TRANSACTION_* domains CONTROL RESET
 *   xs_dispatch.c  the request table and the checks every request passes
 *   xs_server.c    server lifecycle, embedder calls, statistics
 *   xs_check.c     whole-store consistency check
 *
 * Single-threaded: the embedder serialises every call, so nothing here
 * locks.  Ownership: the server owns nodes, domains, watch paths and
 * connections; a connection owns its watches and transactions; a
 * transaction owns its records.
 */
#ifndef HVSEC_XS_PRIV_H
#define HVSEC_XS_PRIV_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "hypervisor/xenstore/xs.h"

/* The wire header, read and written with memcpy (native endian, as the
 * protocol is between processes of one host). */
static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg size");
static_assert(offsetof(struct xsd_sockmsg, type) == 0, "type offset");
static_assert(offsetof(struct xsd_sockmsg, req_id) == 4, "req_id offset");
static_assert(offsetof(struct xsd_sockmsg, tx_id) == 8, "tx_id offset");
static_assert(offsetof(struct xsd_sockmsg, len) == 12, "len offset");

#define XS_HDR_LEN     16u
#define XS_PAYLOAD_MAX ((uint32_t)XENSTORE_PAYLOAD_MAX)
#define XS_ABS_MAX     ((uint32_t)XENSTORE_ABS_PATH_MAX)
#define XS_REL_MAX     ((uint32_t)XENSTORE_REL_PATH_MAX)
/* Every component takes at least two bytes ("/a"). */
#define XS_DEPTH_MAX (XS_ABS_MAX / 2)
#define XS_DOMID_MAX 65535u
/* DOMID_FIRST_RESERVED: 0x7ff0 and above are special ids (xen.h). */
#define XS_DOMID_RESERVED 0x7ff0u
#define XS_HOME		  "/local/domain"
/* Generations: 0 means "no node" (absent when a transaction looked). */
#define XS_GEN_NONE 0u

/* ------------------------------------------------------------------ */
/* xs_hash.c                                                           */

/*
 * Path keys are Karp-Rabin hashes modulo 2^61-1 with a secret random
 * base: a guest cannot aim collisions at one bucket without knowing the
 * base, and the hash of every prefix of a path comes out of one pass,
 * which keeps ancestor walks and watch matching O(path length).
 */
struct xs_hasher {
	uint64_t base; /* in [2^20, 2^61-2], secret */
	uint64_t mix;  /* xor-ed in before the final avalanche */
};

void xs_hasher_init(struct xs_hasher *h, uint64_t seed);
/* Raw running hash: start with XS_KR_INIT, extend byte by byte. */
#define XS_KR_INIT 1u
uint64_t xs_kr_extend(const struct xs_hasher *h, uint64_t kr, const char *s,
		      size_t len);
/* The table key of a raw hash. */
uint64_t xs_kr_key(const struct xs_hasher *h, uint64_t kr);
/* Key of an integer (domain ids, transaction ids). */
uint64_t xs_int_key(const struct xs_hasher *h, uint64_t v);

/* A string, its length and its table key. */
struct xs_key {
	const char *s;
	uint32_t len;
	uint64_t hash;
};
struct xs_key xs_key_of(const struct xs_hasher *h, const char *s, size_t len);

/* Intrusive chained hash table; grows, never shrinks. */
struct xs_hnode {
	struct xs_hnode *next;
	uint64_t hash;
};
struct xs_htab {
	struct xs_hnode **b;
	size_t mask; /* buckets - 1 */
	size_t n;
};
int xs_ht_init(struct xs_htab *t, size_t buckets);
void xs_ht_fini(struct xs_htab *t);
void xs_ht_add(struct xs_htab *t, struct xs_hnode *n, uint64_t hash);
void xs_ht_del(struct xs_htab *t, struct xs_hnode *n);
/* First / next entry whose hash equals `hash'. */
struct xs_hnode *xs_ht_find(const struct xs_htab *t, uint64_t hash);
struct xs_hnode *xs_ht_next(const struct xs_hnode *n, uint64_t hash);

#define xs_container_of(p, type, member)                                       \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

/* ------------------------------------------------------------------ */
/* xs_path.c                                                           */

/* A canonical absolute path and the key of each of its prefixes. */
struct xs_path {
	uint32_t len;			/* strlen(s) */
	uint32_t depth;			/* components; 0 for "/" */
	uint32_t rel_base;		/* input was relative: length of
					 * "/local/domain/<id>", else 0 */
	uint16_t end[XS_DEPTH_MAX + 1]; /* end[i]: length of the prefix of
					 * i components (end[0] = 1: "/") */
	uint64_t kr[XS_DEPTH_MAX + 1];	/* raw hash of prefix i */
	char s[XS_ABS_MAX + 1];
};

/*
 * Parses a request's path argument (len bytes, no NUL) into p: relative
 * paths are taken below /local/domain/<domid>; the result must be a valid
 * node name (Xen's rules: [A-Za-z0-9_@/-], starts with "/", no "//", no
 * trailing "/" except the root, at most XENSTORE_ABS_PATH_MAX bytes, and,
 * when path_quota is non-zero, at most that many bytes below
 * "/local/domain/<id>/").  Returns 0 or EINVAL.
 */
int xs_path_parse(struct xs_path *p, const struct xs_hasher *h, const char *in,
		  size_t len, uint32_t domid, uint32_t path_quota);
/* The key of prefix i (0 <= i <= depth). */
struct xs_key xs_path_key(const struct xs_path *p, const struct xs_hasher *h,
			  uint32_t i);
/* Parses a well-formed domid ("0".."65535", decimal, no sign or spaces):
 * 0 or EINVAL. */
int xs_parse_domid(const char *s, size_t len, uint32_t *domid);
/* Parses an unsigned decimal that fits in 32 bits: 0 or EINVAL. */
int xs_parse_u32(const char *s, size_t len, uint32_t *v);

/* ------------------------------------------------------------------ */
/* xs_perms.c                                                          */

/* Access bits as in Xen's enum xs_perm_type (XS_ACCESS_READ/WRITE), plus
 * the internal "owner" bit perm_for() hands to owners and privileged
 * connections: SET_PERMS needs it. */
#define XS_ACCESS_OWNER 0x8u

/* Who is asking: everything a permission decision needs. */
struct xs_who {
	uint32_t domid;
	uint32_t target; /* SET_TARGET: acts for this domain too, or
			  * UINT32_MAX */
	bool priv;
	bool readonly;
};

/* Xen's perm_for_conn(): privileged and owners get everything; otherwise
 * the first entry naming the domain (or its target), else the default. */
uint32_t xs_perm_for(const struct xs_who *who, const struct xs_perm *p,
		     uint32_t n);
/* Parses n perm strings ("r5", NUL-separated, exactly len bytes): 0 or
 * EINVAL. */
int xs_perms_parse(const char *s, size_t len, struct xs_perm *out, uint32_t n);
/* Writes "r5\0b0\0..." into buf; returns the length, or 0 if it does not
 * fit. */
size_t xs_perms_format(const struct xs_perm *p, uint32_t n, char *buf,
		       size_t size);
/* Counts the NUL-terminated strings in buf[0..len); bytes after the last
 * NUL are not a string. */
uint32_t xs_count_strings(const char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* xs_store.c - the committed tree                                     */

struct xs_node {
	struct xs_hnode h;	      /* srv->nodes, key of path */
	struct xs_node *parent;	      /* NULL only for "/" */
	struct xs_node *first, *last; /* children, in creation order */
	struct xs_node *prev, *next;  /* siblings */
	uint32_t nchildren;
	uint32_t childlen; /* sum of strlen(name) + 1: the size
			    * of a DIRECTORY reply */
	uint64_t gen;	   /* last change to this node, its
			    * permissions or its child list */
	uint64_t kr;	   /* raw hash of path */
	char *value;	   /* malloc'd, NULL if vlen == 0 */
	uint32_t vlen;
	uint32_t nperms;       /* >= 1 */
	struct xs_perm *perms; /* malloc'd */
	uint32_t plen;
	uint32_t name; /* offset of the last component */
	char path[];   /* NUL-terminated */
};

struct xs_server;
int xs_store_init(struct xs_server *srv);
void xs_store_fini(struct xs_server *srv);
struct xs_node *xs_store_get(const struct xs_server *srv,
			     const struct xs_key *k);
/* Creates path (key k, raw hash kr, last component at offset name) under
 * parent, owning copies of value and perms; accounts the node to its
 * owner.  NULL on ENOMEM. */
struct xs_node *xs_store_create(struct xs_server *srv, struct xs_node *parent,
				const struct xs_key *k, uint64_t kr,
				uint32_t name, const char *value, uint32_t vlen,
				const struct xs_perm *perms, uint32_t nperms);
int xs_store_set_value(struct xs_server *srv, struct xs_node *n,
		       const char *value, uint32_t vlen);
int xs_store_set_perms(struct xs_server *srv, struct xs_node *n,
		       const struct xs_perm *perms, uint32_t nperms);
/* Removes n and everything below it (never the root); before each node of
 * the subtree other than n is freed, fire(arg, node) runs (watch events
 * for the descendants). */
typedef void (*xs_store_visit_fn)(void *arg, struct xs_node *n);
void xs_store_remove(struct xs_server *srv, struct xs_node *n,
		     xs_store_visit_fn fire, void *arg);
/* The next node after n in pre-order, skipping n's children. */
struct xs_node *xs_store_next_skip(const struct xs_node *n);

/* ------------------------------------------------------------------ */
/* xs_domain.c                                                         */

struct xs_dom {
	struct xs_hnode h; /* srv->doms */
	uint32_t domid;
	uint32_t target;  /* UINT32_MAX: none */
	uint32_t nodes;	  /* nodes it owns in the committed tree */
	uint32_t watches; /* over all its connections */
	bool introduced;
	/* Recounts, xs_check.c's scratch. */
	uint32_t chk_nodes, chk_watches;
};

struct xs_dom *xs_dom_find(const struct xs_server *srv, uint32_t domid);
/* Finds or creates; NULL on ENOMEM. */
struct xs_dom *xs_dom_get(struct xs_server *srv, uint32_t domid);
/* Node accounting; never fails (the record of the owner is created on
 * demand, and when that fails the count is simply not kept: quotas only
 * ever refuse, they never corrupt). */
void xs_dom_nodes_add(struct xs_server *srv, uint32_t domid, int delta);
uint32_t xs_dom_nodes(const struct xs_server *srv, uint32_t domid);
void xs_dom_fini(struct xs_server *srv);
/* Release, shared by the API and the XS_RELEASE request. */
int xs_dom_release(struct xs_server *srv, uint32_t domid);
int xs_dom_introduce(struct xs_server *srv, uint32_t domid, bool mkhome);

/* ------------------------------------------------------------------ */
/* xs_txn.c                                                            */

/* A node as a transaction sees it.  Records are created on first touch:
 * a copy of the committed node (or "absent") and the generation seen. */
struct xs_trec {
	struct xs_hnode h;    /* txn->recs */
	struct xs_trec *next; /* in touch order */
	uint64_t seen_gen;    /* committed generation at first
			       * touch; XS_GEN_NONE if absent */
	uint64_t vgen;	      /* generation as this transaction
			       * sees it (DIRECTORY_PART) */
	uint64_t kr;
	uint32_t seq; /* touch order, for commit */
	bool exists;
	bool modified;	    /* created, written or deleted here */
	bool have_children; /* children blob is valid */
	char *value;
	uint32_t vlen;
	uint32_t nperms;
	struct xs_perm *perms;
	char *children;	   /* NUL-separated names, when
			    * have_children */
	uint32_t childlen; /* valid even without the blob */
	uint32_t childcap;
	uint32_t depth;
	uint32_t plen;
	char path[];
};

struct xs_txn {
	struct xs_hnode h; /* conn->txns, key of id */
	uint32_t id;
	struct xs_conn *conn;
	uint64_t start_gen; /* srv->gen when it started */
	uint64_t mods;	    /* local generation of modifications */
	struct xs_htab recs;
	struct xs_trec *first, *last;
	uint32_t nrecs;
	int fail;	   /* 0, or the errno commit returns */
	int32_t own_nodes; /* net nodes created that the
			    * connection's domain owns */
};

struct xs_txn *xs_txn_new(struct xs_conn *conn, uint32_t id);
void xs_txn_free(struct xs_txn *tx);
/* Validates and applies; returns 0, EAGAIN or another errno.  Does not
 * free tx. */
int xs_txn_commit(struct xs_txn *tx);

/* ------------------------------------------------------------------ */
/* xs_view.c - one interface over the tree and a transaction           */

/* What a request may learn of a node.  Pointers stay valid until the next
 * change of the store or of the transaction. */
struct xs_rec {
	const char *value;
	uint32_t vlen;
	uint32_t nperms;
	const struct xs_perm *perms;
	uint64_t gen;
	uint32_t childlen;
};

struct xs_req; /* below */
int xs_view_get(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		uint32_t depth, struct xs_rec *out);
/* NUL-separated child names, in order: valid until the next call. */
int xs_view_children(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		     uint32_t depth, const char **blob, uint32_t *len);
/* Creates prefix `i' of p under prefix i-1, which must exist. */
int xs_view_create(struct xs_req *rq, const struct xs_path *p, uint32_t i,
		   const char *value, uint32_t vlen,
		   const struct xs_perm *perms, uint32_t nperms);
int xs_view_set_value(struct xs_req *rq, const struct xs_path *p,
		      const char *value, uint32_t vlen);
int xs_view_set_perms(struct xs_req *rq, const struct xs_path *p,
		      const struct xs_perm *perms, uint32_t nperms);
/* Removes p (which exists) and its subtree; fires the watches when
 * outside a transaction. */
int xs_view_rm(struct xs_req *rq, const struct xs_path *p);
/* Nodes the requesting domain owns, counting its open transaction. */
uint32_t xs_view_own_nodes(struct xs_req *rq);
/* p changed (written, created, permissions set): fires the watches now
 * outside a transaction; a transaction fires them when it commits.  old:
 * the permissions before a change of permissions, else NULL. */
void xs_view_changed(struct xs_req *rq, const struct xs_path *p,
		     const struct xs_perm *old, uint32_t nold);

/* Transaction side of the above (xs_txn.c). */
int xs_txn_get(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
	       uint32_t depth, struct xs_rec *out);
int xs_txn_children(struct xs_req *rq, const struct xs_key *k, uint64_t kr,
		    uint32_t depth, const char **blob, uint32_t *len);
int xs_txn_create(struct xs_req *rq, const struct xs_path *p, uint32_t i,
		  const char *value, uint32_t vlen, const struct xs_perm *perms,
		  uint32_t nperms);
int xs_txn_set(struct xs_req *rq, const struct xs_path *p, const char *value,
	       uint32_t vlen, const struct xs_perm *perms, uint32_t nperms);
int xs_txn_rm(struct xs_req *rq, const struct xs_path *p);

/* ------------------------------------------------------------------ */
/* xs_watch.c                                                          */

struct xs_wpath;
struct xs_watch {
	struct xs_watch *wprev, *wnext; /* on the same path */
	struct xs_watch *cprev, *cnext; /* of the same connection */
	struct xs_wpath *wp;
	struct xs_conn *conn;
	uint32_t rel_base; /* relative watch: strip this much */
	uint32_t toklen;
	char token[]; /* NUL-terminated */
};

/* All watches on one path (or special name such as "@releaseDomain"). */
struct xs_wpath {
	struct xs_hnode h; /* srv->wpaths */
	struct xs_watch *first;
	uint32_t plen;
	char path[];
};

/* Adds a watch (path canonical or "@..."): 0, EEXIST, E2BIG (the
 * domain already has `quota' watches; 0: no limit) or ENOMEM. */
int xs_wt_add(struct xs_conn *conn, const char *path, uint32_t plen,
	      uint32_t rel_base, const char *token, uint32_t toklen,
	      uint32_t quota, struct xs_watch **out);
/* Queues the event every new watch fires once, after the WATCH reply. */
void xs_wt_initial_event(struct xs_watch *w);
int xs_wt_del(struct xs_conn *conn, const char *path, uint32_t plen,
	      const char *token, uint32_t toklen);
void xs_wt_del_all(struct xs_conn *conn);

/* What decides whether a watcher may see an event: it must be able to read
 * the node, its parent, or the node as it was before (Xen's
 * watch_permitted()).  Any pointer may be NULL / count 0. */
struct xs_evperm {
	const struct xs_perm *node;
	uint32_t nnode;
	const struct xs_perm *parent;
	uint32_t nparent;
	const struct xs_perm *old;
	uint32_t nold;
};
/* An event on p: every watch on p or one of its ancestors. */
void xs_wt_fire(struct xs_server *srv, const struct xs_path *p,
		const struct xs_evperm *ep);
/* An event for exactly this node (removal of an ancestor of a watch). */
void xs_wt_fire_exact(struct xs_server *srv, const struct xs_key *k,
		      const struct xs_evperm *ep);
/* "@introduceDomain" / "@releaseDomain". */
void xs_wt_fire_special(struct xs_server *srv, const char *name);
/* xs_store_visit_fn for xs_store_remove (arg: the server): the exact
 * event of a node removed with an ancestor. */
void xs_wt_fire_removed(void *srv, struct xs_node *n);
void xs_wt_fini(struct xs_server *srv);

/* ------------------------------------------------------------------ */
/* xs_conn.c                                                           */

struct xs_conn {
	struct xs_server *srv;
	struct xs_conn *prev, *next;   /* srv->conns */
	struct xs_conn *rprev, *rnext; /* srv ready set */
	bool ready;		       /* in the ready set */
	bool internal;		       /* xs_server_call's connection */
	enum xs_close_reason closed;
	struct xs_dom *dom; /* never freed before the server */
	uint32_t domid;
	uint32_t flags;
	void *user;
	/* Input: the message being assembled when bytes arrive split. */
	uint32_t in_used;
	uint8_t in[XS_HDR_LEN + XENSTORE_PAYLOAD_MAX];
	/* Output: out[head..tail) is queued. */
	uint8_t *out;
	size_t head, tail, cap;
	/* Watches and transactions. */
	struct xs_watch *watches;
	uint32_t nwatches;
	struct xs_htab txns;
	uint32_t ntxns;
	uint32_t next_txid;
};

/* Queues one message; 0 or ENOMEM. */
int xs_conn_queue(struct xs_conn *conn, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *payload, uint32_t len);
/* Queues a watch event, or closes the connection if it would overflow. */
void xs_conn_queue_event(struct xs_conn *conn, const char *path, uint32_t plen,
			 const char *token, uint32_t toklen);
void xs_conn_close(struct xs_conn *conn, enum xs_close_reason why);
void xs_conn_mark_ready(struct xs_conn *conn);
bool xs_conn_is_priv(const struct xs_conn *conn);
void xs_conn_who(const struct xs_conn *conn, struct xs_who *who);
void xs_conn_abort_txns(struct xs_conn *conn);

/* ------------------------------------------------------------------ */
/* Requests: xs_dispatch.c, xs_ops_*.c                                 */

struct xs_req {
	struct xs_server *srv;
	struct xs_conn *conn;
	struct xs_txn *tx; /* NULL outside a transaction */
	struct xs_who who;
	uint32_t type, req_id, tx_id;
	const char *payload; /* not NUL-terminated as a whole */
	uint32_t len;
	/* The reply: set by handlers that answer with a payload; the others
	 * are answered "OK". */
	const void *reply;
	uint32_t reply_len;
	/* A watch just added: its first event follows the reply. */
	struct xs_watch *initial;
};

/* Processes one complete message from conn. */
void xs_dispatch(struct xs_conn *conn, const struct xsd_sockmsg *hdr,
		 const char *payload);

/* Handlers: 0 (reply set or "OK") or an errno. */
int xs_op_read(struct xs_req *rq);
int xs_op_write(struct xs_req *rq);
int xs_op_mkdir(struct xs_req *rq);
int xs_op_rm(struct xs_req *rq);
int xs_op_directory(struct xs_req *rq);
int xs_op_directory_part(struct xs_req *rq);
int xs_op_get_perms(struct xs_req *rq);
int xs_op_set_perms(struct xs_req *rq);
int xs_op_watch(struct xs_req *rq);
int xs_op_unwatch(struct xs_req *rq);
int xs_op_txn_start(struct xs_req *rq);
int xs_op_txn_end(struct xs_req *rq);
int xs_op_introduce(struct xs_req *rq);
int xs_op_release(struct xs_req *rq);
int xs_op_get_domain_path(struct xs_req *rq);
int xs_op_is_introduced(struct xs_req *rq);
int xs_op_resume(struct xs_req *rq);
int xs_op_set_target(struct xs_req *rq);
int xs_op_reset_watches(struct xs_req *rq);
int xs_op_control(struct xs_req *rq);

/* The single argument of a request: the payload must be one string, its
 * only NUL at the end.  Returns its length without the NUL, or -1. */
long xs_req_onearg(const struct xs_req *rq);
/* The connection's open transaction `id', or NULL. */
struct xs_txn *xs_req_txn(const struct xs_conn *c, uint32_t id);
/* Calls the authorization callback if there is one: 0 or its errno. */
int xs_req_auth(struct xs_req *rq, const struct xs_auth *a);
/* Special-node permissions (@introduceDomain, @releaseDomain). */
struct xs_special {
	uint32_t nperms;
	struct xs_perm *perms;
};
struct xs_special *xs_special_find(struct xs_server *srv, const char *name,
				   size_t len);

/* ------------------------------------------------------------------ */
/* xs_server.c                                                         */

struct xs_server {
	struct xs_config cfg;
	struct xs_hasher hasher;
	/* Committed tree. */
	struct xs_htab nodes;
	struct xs_node *root;
	uint32_t nnodes;
	uint64_t gen; /* last generation handed out */
	/* Watches, by path. */
	struct xs_htab wpaths;
	uint32_t nwatches;
	/* Domains. */
	struct xs_htab doms;
	struct xs_special introduce, release;
	/* Connections and the ready set (FIFO). */
	struct xs_conn *conns;
	struct xs_conn *rfirst, *rlast;
	uint32_t nconns;
	uint32_t ntxns;
	struct xs_conn *internal;
	/* Embedder callbacks. */
	xs_auth_fn auth;
	void *auth_arg;
	xs_notify_fn notify;
	void *notify_arg;
	struct xs_stats st;
	/* Scratch, one request at a time: the request's path, a second path
	 * for commits and release, and a growable buffer for replies that are
	 * built (directory listings, permission strings). */
	struct xs_path path;
	struct xs_path path2;
	char *scratch;
	size_t scratch_cap;
	char rbuf[XENSTORE_PAYLOAD_MAX + 64];
};

/* Makes the scratch buffer at least n bytes: pointer or NULL. */
char *xs_scratch(struct xs_server *srv, size_t n);
/* The next generation number. */
static inline uint64_t xs_next_gen(struct xs_server *srv)
{
	return ++srv->gen;
}

#endif /* HVSEC_XS_PRIV_H */
