/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd_ring.c - the request loop on the shared page.
 *
 * Each notification: consume it, then look at the page (vtpm_ring_fetch
 * reads it once and validates), run the command, respond, notify.  After
 * answering, spin up to --spin-us on the state byte: a guest that sends
 * commands back to back (tpm2-tools, a boot measuring several things)
 * has its next SUBMIT seen without a sleep and a wakeup in between.
 *
 * No notification is lost: a notification is only ever consumed just
 * before the page is read, so whatever SUBMIT it announced is seen by
 * that read or by a later one.  A frontend has one request in flight at
 * a time and submits the next only after our FINISH, which we write after
 * that consume: so a consume never swallows the notice of a request we
 * have not yet read (a frontend that breaks the protocol can only lose
 * its own wakeups).  A request found by spinning may still have its
 * notification on the way; it then wakes us once more for nothing
 * (counted as an empty wakeup, and the page says FINISH, so nothing is
 * answered twice).
 */
#include <errno.h>
#include <sched.h>

#include "hypervisor/guest/hvguest.h"
#include "vtpm-instance/vtpmd.h"

#define VTPMD_RUN_BUDGET 64u /* requests served per wakeup at most */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static void notify(struct vtpmd *d)
{
	int rc = plat_evtchn_notify(d->plat, d->ring.local_port);

	if (rc)
		vtpmd_log_limited(&d->rl, "notifying domain %u on port %u: %s",
				  d->cfg.frontend_id, d->ring.local_port,
				  hvg_strerror(rc));
}

/* Serves what the page holds now.  1 if it answered something (the
 * frontend will submit the next only after that), 0 if the page held
 * nothing for us. */
static int serve_one(struct vtpmd *d)
{
	volatile void *page = d->ring.map.addr;
	struct vtpm_ring_req *req = &d->req;
	uint32_t rc = 0;
	char why[160];
	size_t len;

	why[0] = '\0';
	switch (vtpm_ring_fetch(page, d->cfg.localities, req, &rc, why,
				sizeof(why))) {
	case VTPM_FETCH_REQUEST:
		len = vtpm_tpm_process(req->cmd, req->len, req->locality,
				       d->rsp, sizeof(d->rsp));
		vtpm_ring_respond(page, req, d->rsp, len);
		d->ring.st.requests++;
		break;
	case VTPM_FETCH_CANCEL:
		/* Single-threaded: a CANCEL is only ever seen between
		 * commands, so it is always the "idle" case. */
		vtpm_ring_cancel_ack(page);
		d->ring.st.cancels++;
		break;
	case VTPM_FETCH_INVALID:
		vtpm_ring_respond_error(page, req, rc);
		d->ring.st.refused++;
		vtpmd_log_limited(&d->rl,
				  "refused a request of domain %u: %s "
				  "(answered TPM rc 0x%x)",
				  d->cfg.frontend_id, why, rc);
		break;
	case VTPM_FETCH_NONE:
	default:
		return 0;
	}
	notify(d);
	return 1;
}

/* Spins for the next SUBMIT or CANCEL.  1 found (its notification
 * consumed if it came), 0 none within the budget, -ENOTCONN. */
static int spin_for_next(struct vtpmd *d)
{
	uint64_t deadline;
	unsigned i = 0;

	if (!d->cfg.spin_us)
		return 0;
	deadline = vtpmd_now_us() + d->cfg.spin_us;
	for (;;) {
		uint8_t s = vtpm_ring_state(d->ring.map.addr);

		if (s == VTPM_RING_SUBMIT || s == VTPM_RING_CANCEL) {
			/* Consume before reading the request (see top). */
			int rc = plat_evtchn_pending(d->plat,
						     d->ring.local_port);

			if (rc < 0)
				return rc;
			d->ring.st.spin_hits++;
			return 1;
		}
		/* The clock every 16 rounds: a vDSO call is not free. */
		if ((++i & 15) == 0 && vtpmd_now_us() >= deadline)
			return 0;
		if (d->yield_spin)
			sched_yield();
		else
			cpu_relax();
	}
}

int vtpmd_ring_run(struct vtpmd *d)
{
	unsigned served = 0;
	int rc;

	for (;;) {
		if (!serve_one(d)) {
			if (!served)
				d->ring.st.empty_wakeups++;
			return 0;
		}
		/* A guest that submits back to back must not keep us from
		 * XenStore and signals.  Stop before spinning: the next
		 * request's notification is then still unconsumed, and the
		 * poll returns at once. */
		if (++served == VTPMD_RUN_BUDGET)
			return 0;
		rc = spin_for_next(d);
		if (rc <= 0)
			return rc;
	}
}

int vtpmd_ring_kick(struct vtpmd *d)
{
	int rc;

	if (!d->ring.connected)
		return 0;
	rc = plat_evtchn_pending(d->plat, d->ring.local_port);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return 0; /* woken for nothing: the fd was drained already */
	d->ring.st.wakeups++;
	return vtpmd_ring_run(d);
}
