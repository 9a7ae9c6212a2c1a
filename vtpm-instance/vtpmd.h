/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd.h - private to hvsec-vtpmd (vtpm-instance/vtpmd_*.c), the backend
 * of one guest's vTPM (docs/vtpm.md):
 *
 *   vtpmd_args.c    the command line and the strict number parser that
 *                   also judges what the frontend writes in XenStore
 *   vtpmd_log.c     console lines, rate-limited for what guests provoke
 *   vtpmd_xenbus.c  the xenbus backend state machine (reference/vtpm.md
 *                   §2.2): InitWait, connect, Closing, reconnect, exit
 *   vtpmd_ring.c    the request loop on the shared page: fetch, TPM,
 *                   respond, notify, then spin a little for the next one
 *   vtpmd_mboot.c   measured boot: the toolstack's event log extended
 *                   into the TPM after power-on, before InitWait
 *   vtpmd_mgr.c     manager mode (--manager): the link to the vTPM
 *                   manager, OPEN, manufacture + PROVISION of a NEW
 *                   instance, the sealed store, CLOSE
 *   vtpmd_main.c    set-up, the poll loop, signals, power-off
 *
 * Single-threaded (libxenstore's reader thread aside, which touches none
 * of this).  Identity comes from the command line only; XenStore nodes
 * are checked against it, never believed.
 */
#ifndef HVSEC_VTPMD_H
#define HVSEC_VTPMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/plat/plat.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h" /* struct vtpm_rl */

struct xs_handle;

/* -------------------------------------------------------- command line */

#define VTPMD_DOMID_MAX	      0x7fefu /* Xen's DOMID_FIRST_RESERVED - 1 */
#define VTPMD_DEVID_MAX	      65535u
#define VTPMD_SPIN_US_MAX     10000u /* a spin longer than this is a busy loop */
#define VTPMD_SPIN_US_DEFAULT 30u    /* with more than one CPU online */
#define VTPMD_UUID_LEN	      36u
/* "vtpm:" + uuid + NUL: the resource name the policy knows it by. */
#define VTPMD_RESOURCE_LEN (5u + VTPMD_UUID_LEN + 1u)

struct vtpmd_cfg {
	uint32_t frontend_id;
	uint32_t devid;
	const char *state_dir;	       /* argv's */
	char uuid[VTPMD_UUID_LEN + 1]; /* lowercase 8-4-4-4-12 */
	uint32_t localities;	       /* VTPM_LOCALITY_* mask */
	bool tpm12;
	uint32_t spin_us;
	bool spin_given; /* --spin-us given: no CPU-count default */
	/* --manager DOMID: the state is sealed and committed to the vTPM
	 * manager in that domain, reached as a tpmif frontend through
	 * /local/domain/SELF/device/vtpm/0 (vtpmd_mgr.c). */
	bool manager;
	uint32_t manager_id;
	bool help;
};

/* Parses argv into cfg.  0, or -EINVAL with why naming the option at
 * fault.  Does not print. */
int vtpmd_parse_args(int argc, char **argv, struct vtpmd_cfg *cfg, char *why,
		     size_t why_len);
/* Strict decimal: digits only, no sign, no leading zero (except "0"), at
 * most 10 digits, <= max.  0, -EINVAL (not such a number) or -ERANGE
 * (a number above max).  Used for arguments and for every number a
 * frontend writes. */
int vtpmd_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* "0", "0,1,3": localities 0..4, each once.  0 or -EINVAL. */
int vtpmd_parse_localities(const char *s, uint32_t *mask);
/* 8-4-4-4-12 hex digits; out gets the lowercase form.  0 or -EINVAL. */
int vtpmd_parse_uuid(const char *s, char out[VTPMD_UUID_LEN + 1]);
/* Copies an untrusted string for a log line or an error node: printable
 * ASCII only (others become '?'), truncated to out_len - 1. */
void vtpmd_sanitize(const char *in, char *out, size_t out_len);

/* ---------------------------------------------------------------- log */

/* One console line, "vtpmd: ..." (stdout is the domain's console). */
void vtpmd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "EACCES (Permission denied)" for -EACCES (a static buffer). */
const char *vtpmd_strerror(int err);

/* What a guest can provoke is logged at most VTPMD_RL_BURST times per
 * VTPMD_RL_WINDOW_MS; the next window starts with how many were
 * dropped, so a flood is visible without filling the console. */
#define VTPMD_RL_BURST	   10u
#define VTPMD_RL_WINDOW_MS 10000u
/* Whether a line may be printed at now_ms; *dropped gets the count of
 * lines dropped in the window that just ended (to report first). */
bool vtpmd_rl_allow(struct vtpm_rl *rl, uint64_t now_ms, unsigned *dropped);
void vtpmd_log_limited(struct vtpm_rl *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

uint64_t vtpmd_now_us(void); /* CLOCK_MONOTONIC */

/* ------------------------------------------------------------- daemon */

/* xenbus states (xen/include/public/io/xenbus.h). */
enum vtpmd_xb_state {
	XB_UNKNOWN = 0,
	XB_INITIALISING = 1,
	XB_INITWAIT = 2,
	XB_INITIALISED = 3,
	XB_CONNECTED = 4,
	XB_CLOSING = 5,
	XB_CLOSED = 6,
	XB_RECONFIGURING = 7,
	XB_RECONFIGURED = 8,
};

struct vtpmd_ring_stats {
	uint64_t wakeups;     /* notifications consumed */
	uint64_t requests;    /* commands answered by the TPM */
	uint64_t refused;     /* malformed requests answered with an error */
	uint64_t cancels;     /* CANCEL acknowledged while idle */
	uint64_t spin_hits;   /* requests found by spinning, not by a wakeup */
	uint64_t spin_misses; /* spins that ended with nothing found */
	uint64_t empty_wakeups; /* a wakeup that found nothing to do */
};

/* One connection to the frontend's page and channel. */
struct vtpmd_ring {
	bool connected;
	/* plat_device_connect of "vtpm:UUID" succeeded for this connection:
	 * disconnect must say plat_device_disconnect. */
	bool dev_connected;
	struct plat_map map; /* the page, read-write */
	uint32_t gref, remote_port;
	uint32_t local_port;
	/* The spin budget (vtpmd_ring.c) is --spin-us >> spin_shift: 0 after
	 * a spin that found a request, one more after every
	 * VTPMD_SPIN_MISSES spins in a row that found nothing.  Zero at
	 * connect: the full budget. */
	unsigned spin_shift;
	unsigned spin_streak; /* spins in a row that found nothing */
	unsigned spin_probe;  /* spins since the last at the full budget */
	struct vtpmd_ring_stats st;
};

struct vtpmd {
	struct vtpmd_cfg cfg;
	struct plat *plat;
	struct xs_handle *xs;
	uint32_t self;	  /* our domid, from the platform */
	char be_path[96]; /* /local/domain/B/backend/vtpm/G/N */
	char fe_path[96]; /* /local/domain/G/device/vtpm/N */
	bool yield_spin;  /* one CPU: spinning would starve the guest */

	/* xenbus (vtpmd_xenbus.c) */
	enum vtpmd_xb_state state; /* as we last wrote it; UNKNOWN before */
	bool be_seen;		   /* the backend directory existed once */
	bool fe_seen;		   /* the frontend showed a valid state once */
	bool misconfigured;	   /* toolstack's nodes disagree with argv */
	bool fe_watched;
	bool error_set; /* an `error` node of ours exists */
	/* After the peer closed the channel, the frontend's nodes still say
	 * Connected and name the dead connection, or already a new one with
	 * the same numbers (grefs and ports are reused lowest first): they
	 * cannot tell.  So reconnect only when the frontend says Initialised
	 * again, which it writes after offering a new pair (or goes through
	 * Closed). */
	bool await_initialised;
	bool await_logged;
	unsigned connections;

	struct vtpmd_ring ring;
	struct vtpm_rl rl; /* hostile-input lines */
	/* The TPM's store (main's), for the log line of a write that did not
	 * become durable (vtpm_store_mgr_error says why in manager mode). */
	const struct vtpm_store *store;
	uint64_t store_failures_seen;

	bool done; /* leave the loop; exit_code says how */
	int exit_code;
	bool fatal; /* start-up failed: linger, then exit 1 */

	/* Large buffers last; one request at a time. */
	struct vtpm_ring_req req;
	uint8_t rsp[VTPM_RING_MAX_PAYLOAD];
};

/* vtpmd_xenbus.c */
int vtpmd_xb_start(struct vtpmd *d, char *why, size_t why_len);
/* Re-reads the directories and acts on what changed (watch fired). */
void vtpmd_xb_update(struct vtpmd *d);
/* The channel failed (err; -ENOTCONN: the peer closed it, a guest
 * crash): unmap, unbind, InitWait. */
void vtpmd_xb_peer_closed(struct vtpmd *d, int err);
/* SIGTERM: disconnect, Closed, leave the loop. */
void vtpmd_xb_poweroff(struct vtpmd *d);
/* A fatal start-up failure, told to the toolstack: `error` and Closing
 * in the backend directory.  True if told: the caller then keeps running
 * the loop until the toolstack removes the directory (or SIGTERM), since
 * the directory is ours and goes with us - an exit would take the error
 * with it before the toolstack could read it. */
bool vtpmd_xb_report_fatal(struct vtpmd *d, const char *msg);

/* vtpmd_ring.c */
/* The channel's fd was readable: consume the notification and serve
 * what the page holds.  0, or -errno when the channel failed (-ENOTCONN:
 * the peer closed it). */
int vtpmd_ring_kick(struct vtpmd *d);
/* Serves what the page holds, without consuming a notification (right
 * after connecting).  0 or -errno as above. */
int vtpmd_ring_run(struct vtpmd *d);

/* vtpmd_mboot.c */
/* Extends every event of STATE_DIR/boot-log (the toolstack's measured-
 * boot log, docs/measured-boot.md) into the TPM just powered on: read
 * bounded, parsed strictly, required to cover every allocated PCR bank,
 * each TPM2_PCR_Extend checked.  1: no log (nothing measured); 0: done,
 * *events extends made; -errno with why: the log is refused or the TPM
 * failed (the guest must not be served). */
int vtpmd_measure_boot(const char *state_dir, unsigned *events, char *why,
		       size_t why_len);

/* vtpmd_mgr.c */
/* The manager mode's pieces, owned by main for the process's life. */
struct vtpmd_mgr {
	struct plat_front *front; /* the ring to the manager */
	struct xs_handle *xs;	  /* the link's own (see vtpmd_mgr.c) */
	struct vtpm_mgr_link link;
	struct vtpm_store store; /* vtpm_store_mgr */
	bool store_open;
	/* NEW: the batch store provisioning ran on, in passthrough to
	 * `store` since its commit; the TPM stays on behind it (tpm_on) and
	 * main does not power it on again. */
	struct vtpm_store batch;
	bool batch_open, tpm_on;
	bool opened;	   /* OPEN answered: CLOSE at a clean power-off */
	bool manufactured; /* NEW: made and provisioned now */
	uint64_t provision_us;
	char phases[128]; /* where provision_us went, for the log */
	char uuid[VTPMD_UUID_LEN + 1];
};
/* Connects to the manager (cfg.manager_id), OPENs the instance and opens
 * its sealed store; a NEW instance is manufactured, its EKs certified by
 * the manager (PROVISION) and committed in one step, and left powered on
 * (m->tpm_on; its store is m->batch).  Otherwise main powers on from
 * m->store as usual.  0, or
 * -errno with why (a refusal names the manager's reason: rollback,
 * binding, migrated...): fatal, the instance is never re-manufactured. */
int vtpmd_mgr_start(struct vtpmd *d, struct vtpmd_mgr *m, char *why,
		    size_t why_len);
/* CLOSE (clean power-off only: after a failure the manager releases
 * the instance at DETACH), then the store and the ring. */
void vtpmd_mgr_stop(struct vtpmd_mgr *m, bool clean);

#endif /* HVSEC_VTPMD_H */
