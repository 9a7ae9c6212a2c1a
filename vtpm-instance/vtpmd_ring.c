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
 * The spin gives the CPU away (sched_yield) every few rounds: when the
 * frontend shares our CPU it cannot write its next SUBMIT while we spin,
 * and a pure spin would only burn the budget; on a CPU of our own the
 * yield returns at once.
 *
 * Notifications are consumed only on the way to sleep, never per request:
 * whatever the spin finds is served straight away, and the notifications
 * that came with it stay counted in the channel until we are about to
 * block.  Then, in this order: consume every pending notification, look
 * at the state byte once more, and only if it still holds nothing for us
 * go back to poll.  No wakeup is lost: a frontend has one request in
 * flight and writes SUBMIT before it notifies, so a SUBMIT that the last
 * look missed was written after it, and its notification arrives after
 * the consume and wakes the poll.  (A frontend that breaks the protocol
 * can only lose its own wakeups.)  The cost is the occasional wakeup for
 * a request already served (counted as an empty wakeup; the page then
 * says FINISH, so nothing is answered twice).
 *
 * The budget adapts, as KVM's halt polling does: a spin that finds a
 * request restores the full --spin-us, and every VTPMD_SPIN_MISSES spins
 * in a row that find nothing halve it, down to nothing.  Spins keep
 * missing when the guest pauses between commands (the spin is then
 * wasted CPU), and when it shares our CPU with other work: the
 * scheduler (EEVDF) runs a task that has used more than its share only
 * after the others, so a yield may not reach a frontend that itself just
 * spun, and both sides then burn their whole budgets on every command
 * (measured: round trips of ~90 us instead of ~5 us).  Blocking always
 * lets the peer run.  Growth cannot be judged from how long we slept: a
 * wakeup from another CPU costs more than the budget in a VM whose idle
 * vCPU halts, so a request that came just after we gave up looks like a
 * late one.  Instead one spin in VTPMD_SPIN_PROBE gets the full budget,
 * and if it finds a request the full budget is back.
 */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include "vtpm-instance/vtpmd.h"

#define VTPMD_RUN_BUDGET 64u /* requests served per wakeup at most */
/* Spin rounds per sched_yield (with more than one CPU online). */
#define VTPMD_YIELD_ROUNDS 8u
/* The budget halves after this many spins in a row found nothing... */
#define VTPMD_SPIN_MISSES 2u
/* ...down to nothing... */
#define VTPMD_SPIN_SHIFT_MAX 16u
/* ...but one spin in this many still gets the full budget. */
#define VTPMD_SPIN_PROBE 16u
static_assert((VTPMD_SPIN_US_MAX >> VTPMD_SPIN_SHIFT_MAX) == 0,
	      "the budget can shrink to nothing");

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
				  vtpmd_strerror(rc));
}

/* Serves what the page holds now.  1 if it answered something (the
 * frontend will submit the next only after that), 0 if the page held
 * nothing for us. */
/* A state write that did not become durable: the guest got
 * TPM_RC_NV_UNAVAILABLE and libtpms is in failure mode until restarted.
 * Said once (the first), with why when the store knows (manager mode:
 * the COMMIT refused or unanswered). */
static void store_check(struct vtpmd *d)
{
	struct vtpm_tpm_stats st;

	vtpm_tpm_stats(&st);
	if (st.store_failures == d->store_failures_seen)
		return;
	if (!d->store_failures_seen)
		vtpmd_log("the TPM state did not become durable%s%s: the guest "
			  "gets TPM_RC_NV_UNAVAILABLE until this vTPM is "
			  "restarted",
			  d->store && vtpm_store_mgr_error(d->store)[0] ? ": "
									: "",
			  d->store ? vtpm_store_mgr_error(d->store) : "");
	d->store_failures_seen = st.store_failures;
}

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
		store_check(d);
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

/* This spin's budget in microseconds (see top). */
static uint32_t spin_budget(struct vtpmd *d)
{
	struct vtpmd_ring *r = &d->ring;

	if (!r->spin_shift)
		return d->cfg.spin_us;
	if (++r->spin_probe >= VTPMD_SPIN_PROBE) {
		r->spin_probe = 0;
		return d->cfg.spin_us;
	}
	return d->cfg.spin_us >> r->spin_shift;
}

/* Spins up to the budget for the next SUBMIT or CANCEL, without
 * consuming its notification (see top).  True if one came. */
static bool spin_for_next(struct vtpmd *d)
{
	struct vtpmd_ring *r = &d->ring;
	unsigned every = d->yield_spin ? 1 : VTPMD_YIELD_ROUNDS;
	uint32_t budget = spin_budget(d);
	uint64_t deadline;
	unsigned i = 0;

	if (!budget)
		return false;
	deadline = vtpmd_now_us() + budget;
	for (;;) {
		uint8_t s = vtpm_ring_state(r->map.addr);

		if (s == VTPM_RING_SUBMIT || s == VTPM_RING_CANCEL) {
			r->st.spin_hits++;
			r->spin_shift = 0;
			r->spin_streak = 0;
			return true;
		}
		/* The clock every 16 rounds: a vDSO call is not free. */
		if ((++i & 15) == 0 && vtpmd_now_us() >= deadline)
			break;
		if (i % every == 0)
			sched_yield();
		else
			cpu_relax();
	}
	r->st.spin_misses++;
	if (++r->spin_streak >= VTPMD_SPIN_MISSES &&
	    r->spin_shift < VTPMD_SPIN_SHIFT_MAX) {
		r->spin_shift++;
		r->spin_streak = 0;
	}
	return false;
}

/* Serves until the page holds nothing for us and the notifications are
 * consumed, or the budget is spent.  `drained`: the caller has just
 * consumed them (a wakeup), so the first empty look may end it. */
static int run(struct vtpmd *d, bool drained)
{
	unsigned served = 0;
	int rc;

	for (;;) {
		if (!serve_one(d)) {
			if (drained) {
				if (!served)
					d->ring.st.empty_wakeups++;
				return 0;
			}
			/* Going to sleep: consume, then look once more
			 * before the poll (see top). */
			rc = plat_evtchn_pending(d->plat, d->ring.local_port);
			if (rc < 0)
				return rc;
			atomic_thread_fence(memory_order_seq_cst);
			drained = true;
			continue;
		}
		/* The next request's notification comes after this answer,
		 * so after any consume so far: before sleeping, consume
		 * again. */
		drained = false;
		/* A guest that submits back to back must not keep us from
		 * XenStore and signals.  Stop before spinning: the next
		 * request's notification is then unconsumed, and the poll
		 * returns at once. */
		if (++served == VTPMD_RUN_BUDGET)
			return 0;
		/* Found or not, the look at the top of the loop decides. */
		spin_for_next(d);
	}
}

int vtpmd_ring_run(struct vtpmd *d)
{
	return run(d, false);
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
	atomic_thread_fence(memory_order_seq_cst);
	return run(d, true);
}
