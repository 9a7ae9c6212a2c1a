/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd.h - private to hvsec-vtpm-managerd (vtpm-manager/mgrd_*.c), the
 * vTPM manager daemon (docs/vtpm-manager.md), its whole internal
 * interface:
 *
 *   mgrd_args.c    the command line
 *   mgrd_log.c     console lines, rate-limited for what peers provoke
 *   mgrd_env.c     the envelope between the two processes
 *   mgrd_kh.c      the key holder's decisions: one batch of requests in,
 *                  one root-record commit, the answers out (unit-tested
 *                  with a fake counter: tests/vtpm-manager/test_keyholder)
 *   mgrd_ekdb.c    which EK publics the manager certified, per instance
 *                  (the file `ek-certified`, MACed under the root key)
 *   mgrd_khproc.c  the key-holder process: unseal, open, serve batches
 *   mgrd_init.c    --init: a new manager directory
 *   mgrd_front.c   the front process: control socket, forwarding, loop
 *   mgrd_xb.c      the front's xenbus backend, one state machine per
 *                  instance ring (tpmif v2, the manager's protocol inside)
 *   mgrd_main.c    fork of the key holder, then the front
 *
 * Privilege separation (OpenBSD style).  The key holder is forked first,
 * before the platform or XenStore is opened; it holds the root key, the
 * root record, the platform TPM connection, the CA key and the identity
 * key, and talks only to its socketpair.  The front holds none of them:
 * it parses what rings and the control socket bring (mgr_req_parse),
 * answers malformed requests itself, and forwards the rest in an
 * envelope naming the channel and the peer it *saw* (ring remote domain,
 * or the control socket) - never anything the peer said about itself.
 * The key holder parses again and re-checks identity and state.
 *
 * Both processes are single-threaded.
 */
#ifndef HVSEC_MGRD_H
#define HVSEC_MGRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/plat/plat.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h" /* struct vtpm_rl */
#include "vtpm-manager/mgr_proto.h"
#include "vtpm-manager/mgr_seal.h"

struct mgr_ca;
struct mgr_ident;
struct mgr_ptpm;

/* ------------------------------------------------------- exit codes */

enum mgrd_exit {
	MGRD_EXIT_OK = 0,
	MGRD_EXIT_FAIL = 1,	/* runtime failure (said on stdout) */
	MGRD_EXIT_USAGE = 2,	/* bad command line */
	MGRD_EXIT_PLATFORM = 3, /* root key does not unseal: platform PCRs
				 * are not the sealed ones (named), or the
				 * sealed key is not for this TPM */
	MGRD_EXIT_RECORD = 4,	/* root record refused: none matches the NV
				 * counter (rollback, deleted), counter auth
				 * failed (substituted key), not authentic */
	MGRD_EXIT_EXISTS = 5,	/* --init: the directory is initialised */
};

/* -------------------------------------------------------- command line */

#define MGRD_DOMID_MAX	   0x7fefu
#define MGRD_WINDOW_US_MAX 100000u /* a 100 ms commit window at most */
#define MGRD_CA_FILE	   "ca.pem"
#define MGRD_EKDB_FILE	   "ek-certified"
#define MGRD_CA_NAME	   "hvsec vTPM manager CA"

struct mgrd_opts {
	bool init, help;
	const char *dir;     /* argv's */
	const char *tcti;    /* argv's */
	const char *control; /* argv's; serving only */
	uint32_t pcrs;	     /* --init: MGR_PCRS_DEFAULT */
	uint32_t nv_index;   /* --init: MGR_NV_COUNTER_DEFAULT */
	bool force_new_counter;
	uint32_t commit_window_us;
	bool toolstack_uid_set;
	uint32_t toolstack_uid;
	bool no_sandbox; /* --no-sandbox: debugging only, said loudly */
};

/* 0, or -EINVAL with why naming the option at fault.  Does not print. */
int mgrd_parse_args(int argc, char **argv, struct mgrd_opts *o, char *why,
		    size_t why_len);
/* "0,2,4,7" -> mask of PCRs 0..23, each once.  0 or -EINVAL. */
int mgrd_parse_pcrs(const char *s, uint32_t *mask);
/* "0,2,4,7" from a mask, into out. */
void mgrd_format_pcrs(uint32_t mask, char *out, size_t len);
/* Strict decimal (no sign, no leading zero, <= max) or 0x hex (for NV
 * indices).  0, -EINVAL or -ERANGE. */
int mgrd_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* 8-4-4-4-12 lowercase. */
void mgrd_uuid_str(const struct mgr_uuid *u, char out[37]);

/* ---------------------------------------------------------------- log */

/* One console line, "mgrd: ..." or "mgrd[kh]: ..." (mgrd_log_role). */
void mgrd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mgrd_log_role(const char *role); /* "front" / "kh": line prefix */
const char *mgrd_strerror(int err);   /* "EACCES (Permission denied)" */
uint64_t mgrd_now_us(void);	      /* CLOCK_MONOTONIC */

/* What peers can provoke: MGRD_RL_BURST lines per MGRD_RL_WINDOW_MS, then
 * one line saying how many were dropped. */
#define MGRD_RL_BURST	  20u
#define MGRD_RL_WINDOW_MS 10000u
bool mgrd_rl_allow(struct vtpm_rl *rl, uint64_t now_ms, unsigned *dropped);
void mgrd_log_limited(struct vtpm_rl *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ----------------------------------------------------------- envelope */

/*
 * One SOCK_SEQPACKET datagram between front and key holder: a fixed
 * header in host order (both ends are this binary on this host) and the
 * payload.  id is the front's, echoed back: the key holder never
 * interprets it.
 *
 *   magic u32 | kind u32 | channel u32 | peer u32 | id u64 | payload
 */
#define MGRD_ENV_MAGIC	 0x4e45474du /* "MGEN" */
#define MGRD_ENV_HDR_LEN 24u
#define MGRD_ENV_MAX	 (MGRD_ENV_HDR_LEN + MGR_CTL_MSG_MAX)

enum mgrd_env_kind {
	MGRD_ENV_REQUEST = 1,  /* -> kh: channel, peer, id, request bytes */
	MGRD_ENV_CLOSED = 2,   /* -> kh: the ring of domain `peer` closed:
				* what it had open is closed */
	MGRD_ENV_GONE = 3,     /* -> kh: domain `peer` is gone: detached */
	MGRD_ENV_RESPONSE = 4, /* -> front: id, response bytes */
	MGRD_ENV_READY = 5,    /* -> front: started; payload: a line */
	MGRD_ENV_FATAL = 6,    /* -> front: start refused; peer = exit
				* code; payload: the reason */
	MGRD_ENV_KIND_MAX_ = 6,
};

struct mgrd_env {
	uint32_t kind;	  /* enum mgrd_env_kind */
	uint32_t channel; /* REQUEST: enum mgr_channel */
	uint32_t peer;	  /* REQUEST on the instance channel, CLOSED,
			   * GONE: a domid; FATAL: exit code; else 0 */
	uint64_t id;
	const uint8_t *data; /* borrowed */
	uint32_t len;
};

/* Length, or 0 when it does not fit cap or e is invalid. */
size_t mgrd_env_encode(const struct mgrd_env *e, uint8_t *buf, size_t cap);
/* 0 or -EPROTO with why: magic, kind, channel, payload limits. */
int mgrd_env_decode(const uint8_t *buf, size_t len, struct mgrd_env *out,
		    char *why, size_t why_len);

/* ------------------------------------------------ certified EK publics */

/*
 * Which EK TPM2B_PUBLICs the key holder certified (or imported with a
 * migrated instance) for which instance: SHA-256 of each, so DEEP_QUOTE
 * serves only those.  Kept in memory and in DIR/ek-certified (magic,
 * count, entries, HMAC-SHA256 under a key derived from the root key's enc
 * key), replaced atomically.  The EKs of a NEW instance are put in memory
 * and flushed (file fsynced and renamed, no directory fsync) just before
 * the root commit that commits that instance's first state, whose write
 * of root.pending fsyncs the same directory before its commit point: the
 * instance is only ever committed (and its certificate only ever seen)
 * with its EKs durable here, at the price of one durable write.  Not
 * bound to the NV counter: an old copy can only bring back EKs that the
 * manager did certify for that instance once (docs/vtpm-manager.md).
 */
#define MGRD_EKDB_MAX 32768u /* entries */
struct mgrd_ekdb_entry {
	struct mgr_uuid uuid;
	uint8_t hash[32];
};
struct mgrd_ekdb {
	char path[4096];
	uint8_t mac_key[32];
	uint32_t count, cap;
	uint32_t saved; /* entries [0, saved) are in the file... */
	bool stale;	/* ...unless a forget could not be written */
	struct mgrd_ekdb_entry *e;
};
/* Loads path (a missing file is an empty table).  0 or -errno with why
 * (-EBADMSG: not authentic or malformed). */
int mgrd_ekdb_open(struct mgrd_ekdb *db, const char *path,
		   const struct mgr_root_keys *keys, char *why, size_t why_len);
void mgrd_ekdb_close(struct mgrd_ekdb *db);
bool mgrd_ekdb_has(const struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		   const uint8_t hash[32]);
/* Adds (if absent) in memory only: mgrd_ekdb_flush writes it.  0 or
 * -errno with why (full, out of memory). */
int mgrd_ekdb_put(struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		  const uint8_t hash[32], char *why, size_t why_len);
/* Writes the file when something was put since the last write: fsync of
 * the file, rename, and (sync_dir) fsync of the directory; without it the
 * caller's next durable write to the directory must follow before anyone
 * relies on the entries.  On failure the unwritten entries are dropped
 * from memory too.  0 or -errno with why. */
int mgrd_ekdb_flush(struct mgrd_ekdb *db, bool sync_dir, char *why,
		    size_t why_len);
/* put + flush with the directory fsync.  0 or -errno with why. */
int mgrd_ekdb_add(struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		  const uint8_t hash[32], char *why, size_t why_len);
/* The hashes of uuid's entries, at most max, into out; their number. */
uint32_t mgrd_ekdb_list(const struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
			uint8_t (*out)[32], uint32_t max);
/* Forgets every entry of uuid and saves (when any was there). */
int mgrd_ekdb_forget(struct mgrd_ekdb *db, const struct mgr_uuid *uuid,
		     char *why, size_t why_len);

/* --------------------------------------------------------- key holder */

/* What the key holder remembers about an attached instance, beyond the
 * root record (memory only: a restart detaches everything, and the
 * toolstack attaches again). */
struct mgrd_att {
	struct mgr_uuid uuid;
	uint32_t stub_domid; /* the only peer allowed to OPEN */
	bool open;
	bool opened_new;  /* the OPEN answered NEW... */
	bool committed;	  /* ...and a COMMIT came since (no PROVISION) */
	bool provisioned; /* certificates issued since that OPEN */
	/* The SHA-256 of the EK publics certified by that PROVISION, until
	 * the first COMMIT takes them into the batch that makes them
	 * durable (with the instance's first state). */
	uint32_t ek_pending;
	uint8_t ek_hash[MGR_EK_MAX][32];
};
#define MGRD_ATT_MAX 4096u

struct mgrd_kh_stats {
	uint64_t commits;	 /* COMMITs applied and durable */
	uint64_t commit_batches; /* root-record commits made */
	uint64_t requests, refused;
};

/* The key holder's state.  Everything here is owned by it; the caller of
 * mgrd_kh_init hands over root, ca, ident and tpm (freed by
 * mgrd_kh_fini), and keeps dir and counter alive. */
struct mgrd_kh {
	struct mgr_rootdir *dir;
	struct mgr_root_keys keys;
	const struct mgr_counter *counter;
	struct mgr_root root;
	struct mgr_ca *ca;
	struct mgr_ident *ident; /* NULL: IDENTITY/EXPORT/IMPORT refused */
	struct mgr_ptpm *tpm;	 /* NULL: DEEP_QUOTE refused (tests) */
	struct mgrd_ekdb ekdb;
	uint32_t pcr_mask; /* of the sealed key, for STATUS */
	bool failed;	   /* a commit failed: fail closed */
	uint32_t natt;
	struct mgrd_att att[MGRD_ATT_MAX];
	struct mgrd_kh_stats st;
	struct vtpm_rl rl; /* lines instances can provoke */
};

struct mgrd_kh_config {
	struct mgr_rootdir *dir;
	const char *ekdb_path;
	const struct mgr_root_keys *keys; /* copied */
	const struct mgr_counter *counter;
	struct mgr_root *root; /* moved in (left empty) */
	struct mgr_ca *ca;
	struct mgr_ident *ident;
	struct mgr_ptpm *tpm;
	uint32_t pcr_mask;
};
/* 0 or -errno with why (the EK file). */
int mgrd_kh_init(struct mgrd_kh *kh, const struct mgrd_kh_config *cfg,
		 char *why, size_t why_len);
/* Wipes the keys, frees what it owns (not dir or counter). */
void mgrd_kh_fini(struct mgrd_kh *kh);

/* One message of a batch: an envelope in, the answering envelope out
 * (out_len 0 for CLOSED/GONE, which are not answered). */
struct mgrd_kh_msg {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out; /* MGRD_ENV_MAX bytes, the caller's */
	size_t out_len;
};
/* Handles a batch in order: every request is decided against the table
 * as the earlier ones left it; then, if any changed the table, ONE
 * mgr_root_commit; then the answers are encoded (a failed commit turns
 * every answer of a request that changed the table into MGR_RC_STORAGE,
 * and the key holder refuses everything but STATUS from then on).
 * 0, or -EPROTO when an envelope is malformed (an internal message: the
 * caller exits). */
int mgrd_kh_batch(struct mgrd_kh *kh, struct mgrd_kh_msg *msgs, size_t n,
		  char *why, size_t why_len);

/* The key-holder process: unseal, open, then serve batches on fd until
 * it closes.  Returns the exit status (enum mgrd_exit).  window_us: how
 * long to wait for more requests once a batch holds a COMMIT. */
int mgrd_kh_main(int fd, const struct mgrd_opts *o);

/* --init. */
int mgrd_init(const struct mgrd_opts *o);

/* -------------------------------------------------------------- front */

#define MGRD_DEV_MAX 256u /* instance rings served at once */
#define MGRD_CTL_MAX 32u  /* control connections at once */
/* Request bytes with the key holder at most: beyond it, no ring or
 * control socket is read (the socketpair's buffers stay far from full,
 * so neither process ever blocks on the other). */
#define MGRD_INFLIGHT_MAX (96u * 1024u)

/* xenbus states (xen/include/public/io/xenbus.h). */
enum mgrd_xb_state {
	MGRD_XB_UNKNOWN = 0,
	MGRD_XB_INITIALISING = 1,
	MGRD_XB_INITWAIT = 2,
	MGRD_XB_INITIALISED = 3,
	MGRD_XB_CONNECTED = 4,
	MGRD_XB_CLOSING = 5,
	MGRD_XB_CLOSED = 6,
	MGRD_XB_RECONFIGURED = 8,
};

/* One instance ring: /local/domain/SELF/backend/vtpm/STUB/DEVID. */
struct mgrd_dev {
	bool used;
	bool gone; /* directory gone while busy: freed at the answer */
	uint32_t stub, devid;
	char be_path[96], fe_path[96];
	enum mgrd_xb_state state; /* as we last wrote it */
	bool be_seen, fe_seen, misconfigured, error_set, fe_watched;
	bool await_initialised; /* see vtpmd.h: reconnect on Initialised */
	bool connected;
	struct plat_map map;
	uint32_t gref, rport, lport;
	uint32_t serial;      /* of the connection: stale answers dropped */
	bool busy;	      /* a request is with the key holder */
	uint32_t busy_serial; /* the connection it came on */
	uint32_t inflight;    /* its bytes */
	uint64_t requests, refused;
	struct vtpm_ring_req req; /* the request in flight (copied out) */
};

struct mgrd_ctl {
	int fd; /* -1: closed (the slot may still be busy) */
	bool busy;
	uint32_t uid;
	uint32_t serial;
	uint32_t inflight;
};

struct xs_handle;
struct mgrd_front {
	const struct mgrd_opts *o;
	struct plat *plat;
	struct xs_handle *xs;
	uint32_t self;
	char be_root[64]; /* /local/domain/SELF/backend/vtpm */
	int kh_fd, kh_pid, lfd, sfd;
	uint32_t inflight;
	uint32_t next_serial;
	bool done;
	int exit_code;
	struct vtpm_rl rl; /* lines peers can provoke */
	struct mgrd_ctl ctl[MGRD_CTL_MAX];
	struct mgrd_dev dev[MGRD_DEV_MAX];
	uint8_t buf[MGRD_ENV_MAX];
};

/* Request ids: which source, which slot, which connection. */
#define MGRD_ID(kind, slot, serial)                                            \
	(((uint64_t)(kind) << 56) | ((uint64_t)(slot) << 32) |                 \
	 (uint32_t)(serial))
#define MGRD_ID_DEV 1u
#define MGRD_ID_CTL 2u

/* mgrd_front.c */
/* The front process: platform, XenStore, control socket; kh_fd is the
 * key holder's socketpair end, kh_pid its pid.  Returns the exit status. */
int mgrd_front_main(int kh_fd, int kh_pid, const struct mgrd_opts *o);
/* Forwards a parsed-valid request to the key holder.  0 or -errno. */
int mgrd_front_forward(struct mgrd_front *f, uint32_t channel, uint32_t peer,
		       uint64_t id, const uint8_t *req, size_t len);
/* Tells the key holder about a peer (MGRD_ENV_CLOSED / GONE). */
void mgrd_front_peer_event(struct mgrd_front *f, uint32_t kind, uint32_t domid);

/* mgrd_xb.c */
int mgrd_xb_start(struct mgrd_front *f, char *why, size_t why_len);
/* Re-reads the backend tree and every device's nodes (a watch fired). */
void mgrd_xb_update(struct mgrd_front *f);
/* The ring's channel was readable: consume, fetch, forward. */
void mgrd_xb_kick(struct mgrd_front *f, struct mgrd_dev *d);
/* The key holder's answer for the request in flight on d. */
void mgrd_xb_answer(struct mgrd_front *f, struct mgrd_dev *d, uint32_t serial,
		    const uint8_t *rsp, size_t len);
/* The channel failed (-ENOTCONN: the peer closed it). */
void mgrd_xb_peer_closed(struct mgrd_front *f, struct mgrd_dev *d, int err);
/* SIGTERM: every ring disconnected, Closed. */
void mgrd_xb_shutdown(struct mgrd_front *f);

/* ------------------------------------------------------------ sandbox */

/*
 * mgrd_sandbox.c: each process confines itself once set up - seccomp
 * (which calls, every thread) and Landlock (which files and TCP ports,
 * this thread and its later ones: so called while single-threaded).
 * docs/vtpm-manager.md "Sandbox" lists what each may still do.  Denials
 * are EPERM/EACCES, and said on the console.
 */
/* main(), before the fork: --no-sandbox said loudly; what glibc would
 * load lazily once sandboxed (libgcc_s), the SIGSYS reporter.  0 or
 * -errno. */
int mgrd_sandbox_prepare(const struct mgrd_opts *o);
/* The front, once its control socket lfd listens and before libxenstore
 * starts a thread: no file, no new socket or connection, no exec; accept4
 * on lfd only.  0, 1 (--no-sandbox), or -errno with why (do not serve). */
int mgrd_sandbox_front(const struct mgrd_opts *o, int lfd, char *why,
		       size_t why_len);
/* The key holder, once the platform TPM is open and the directory read:
 * files beneath o->dir only, TCP connect to the TCTI's ports only, no
 * exec.  0, 1 (--no-sandbox), or -errno with why (do not serve). */
int mgrd_sandbox_kh(const struct mgrd_opts *o, char *why, size_t why_len);
/* The key holder's end, after mgrd_kh_main: removes the control socket,
 * which the sandboxed front cannot (only when mgrd_sandbox_kh succeeded,
 * and not a socket made after now: a successor's). */
void mgrd_sandbox_kh_exit(const struct mgrd_opts *o);

#endif /* HVSEC_MGRD_H */
