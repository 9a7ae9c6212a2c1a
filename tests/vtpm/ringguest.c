/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ringguest - a minimal tpmif v2 frontend, written out by hand, to drive
 * hvsec-vtpmd from tests/vtpm/backend.sh and hostile.sh.  It is not
 * libvtpmfront on purpose: it must be able to do what a good frontend
 * never does (a hostile header, a closed channel, a bad ring-ref, all of
 * it at once from two threads).
 *
 * Runs the actions in its arguments, one console line each,
 * "ACTION: ok ..." or "ACTION: FAIL ...", and stops at the first failure
 * ("ringguest: stopped"); "ringguest: done" when all passed.  Exit 0
 * either way (a failure is the test's to judge, not a crash).
 *
 *   connect[:DEVID]   grant a page and offer a port to the backend named
 *                     in device/vtpm/DEVID, write ring-ref, event-channel,
 *                     feature-protocol-v2 (one transaction), Initialised,
 *                     wait for the backend's Connected, Connected
 *   random[:LOC]      TPM2_GetRandom(16) at locality LOC (default 0): rc 0
 *                     and 16 bytes
 *   random12          TPM_GetRandom(16) of TPM 1.2: rc 0 and 16 bytes
 *   startup           TPM2_Startup(CLEAR) from the guest: TPM_RC_INITIALIZE
 *   hostile:KIND      a malformed request (len zero short size locality
 *                     extra); the answer must be a 10-byte error response
 *   cancel            CANCEL while idle: the backend answers IDLE
 *   bench:N           N GetRandom round trips; prints microseconds each
 *   storm:MS          for MS milliseconds a second thread rewrites the
 *                     header (length 0, 9, 4088, 4089, 0xffffffff or
 *                     anything; nr_extra_pages 0, 1, 255; locality 0, 4,
 *                     255; pad) and the payload without pause, while this
 *                     one flaps the state (SUBMIT, CANCEL, IDLE, FINISH,
 *                     garbage), notifying after each, and submits
 *                     GetRandoms whose size field lies; then a sane page,
 *                     the backend quiet, and one GetRandom must be
 *                     answered well: "storm: ok served N, errors M"
 *   flood:N           N GetRandoms back to back, every third one followed
 *                     by the next without waiting for FINISH; then one
 *                     GetRandom must be answered well
 *   guard             the bytes just before and after a page of ours
 *                     fault (libhvguest's guard pages): a child touching
 *                     either dies of SIGSEGV
 *   close             Closing, Closed; backend back to InitWait; end grant
 *   closechan         close the event channel only; backend to InitWait
 *   badnode:KEY=VAL   offer with KEY (ring-ref, event-channel,
 *                     feature-protocol-v2) saying VAL: the backend goes
 *                     Closing with an `error` node (printed); then Closed,
 *                     and the backend InitWait without it
 *   bestate:S         the backend's state is S (waits up to 5 s)
 *   begone            the backend is Closed, or its directory is gone
 *   crash             die by SIGSEGV (a guest crash)
 *   hold              sleep until destroyed
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"

#define WAIT_MS 5000

/* The shared page (xen/io/tpmif.h). */
#define OFF_LENGTH   0
#define OFF_STATE    4
#define OFF_LOCALITY 5
#define OFF_PAD	     6
#define OFF_NR_EXTRA 7
#define OFF_PAYLOAD  8
#define PAGE_BYTES   4096u
enum { ST_IDLE = 0, ST_SUBMIT = 1, ST_FINISH = 2, ST_CANCEL = 3 };

struct rg {
	struct hvg *g;
	struct xs_handle *xs;
	uint32_t me, devid, be_id;
	char fe[96], be[128];
	struct hvg_page page;
	uint32_t gref, port;
	bool have_page, have_port;
	volatile uint8_t *p; /* page.addr */
};

static void say(const char *act, bool good, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const char *act, bool good, const char *fmt, ...)
{
	char buf[512] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hvg_console("%s: %s%s%s", act, good ? "ok" : "FAIL", buf[0] ? " " : "",
		    buf);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t be32(const volatile uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static void put32le(volatile uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static uint32_t get32le(const volatile uint8_t *b)
{
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static int xs_put(struct rg *r, const char *key, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", r->fe, key);
	return hvg_xs_write(r->xs, path, val);
}

/* Waits until the backend's state is `want` (a watch on it).  With
 * gone_ok, a state node that went away counts too (*seen = 0): the
 * backend's directory is its own and goes when it ends. */
static int wait_be(struct rg *r, unsigned want, bool gone_ok, int timeout_ms,
		   unsigned *seen)
{
	int64_t deadline = now_ms() + timeout_ms;
	char path[160], v[16];
	int rc = -ETIMEDOUT;

	snprintf(path, sizeof(path), "%s/state", r->be);
	if (!xs_watch(r->xs, path, "rg"))
		return -errno;
	for (;;) {
		struct pollfd pfd = {xs_fileno(r->xs), POLLIN, 0};
		int64_t left = deadline - now_ms();
		char **ev;

		int e = hvg_xs_read(r->xs, path, v, sizeof(v));

		if (!e) {
			*seen = (unsigned)atoi(v);
			if (*seen == want) {
				rc = 0;
				break;
			}
		} else if (gone_ok && (e == -ENOENT || e == -EACCES)) {
			*seen = 0;
			rc = 0;
			break;
		}
		if (left <= 0)
			break;
		poll(&pfd, 1, (int)left);
		while ((ev = xs_check_watch(r->xs)))
			free(ev);
	}
	xs_unwatch(r->xs, path, "rg");
	return rc;
}

static int wait_be_state(struct rg *r, unsigned want, int timeout_ms,
			 unsigned *seen)
{
	return wait_be(r, want, false, timeout_ms, seen);
}

static void release(struct rg *r)
{
	if (r->have_port)
		hvg_evtchn_close(r->g, r->port);
	if (r->have_page) {
		hvg_grant_end(r->g, r->gref);
		hvg_page_free(&r->page);
	}
	r->have_port = r->have_page = false;
	r->p = NULL;
}

/* One node of the frontend directory, in transaction t. */
static bool txn_put(struct rg *r, xs_transaction_t t, const char *key,
		    const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", r->fe, key);
	return xs_write(r->xs, t, path, val, strlen(val));
}

/* A page granted and a port offered, both published with Initialised.
 * With bad_key, that node gets bad_val instead of what it should say. */
static int offer(struct rg *r, const char *act, const char *bad_key,
		 const char *bad_val)
{
	static const char *const keys[] = {"ring-ref", "event-channel",
					   "feature-protocol-v2"};
	char vals[3][16];
	int rc;

	release(r);
	rc = hvg_page_alloc(&r->page);
	if (rc) {
		say(act, false, "page: %s", hvg_strerror(rc));
		return rc;
	}
	r->have_page = true;
	r->p = r->page.addr;
	rc = hvg_grant(r->g, &r->page, r->be_id, false, &r->gref);
	if (rc) {
		hvg_page_free(&r->page);
		r->have_page = false;
		r->p = NULL;
		say(act, false, "grant to %u: %s", r->be_id, hvg_strerror(rc));
		return rc;
	}
	rc = hvg_evtchn_alloc_unbound(r->g, r->be_id, &r->port);
	if (rc) {
		say(act, false, "port for %u: %s", r->be_id, hvg_strerror(rc));
		return rc;
	}
	r->have_port = true;
	snprintf(vals[0], sizeof(vals[0]), "%u", r->gref);
	snprintf(vals[1], sizeof(vals[1]), "%u", r->port);
	snprintf(vals[2], sizeof(vals[2]), "1");
	/* One transaction, as xen-tpmfront: a backend never sees a new
	 * ring-ref with an old event-channel. */
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(r->xs);
		bool good = t != XBT_NULL;

		for (size_t k = 0; good && k < 3; k++) {
			bool bad = bad_key && !strcmp(bad_key, keys[k]);

			good = txn_put(r, t, keys[k], bad ? bad_val : vals[k]);
		}
		if (!good) {
			rc = -errno;
			if (t != XBT_NULL)
				xs_transaction_end(r->xs, t, true);
			say(act, false, "XenStore: %s", hvg_strerror(rc));
			return rc;
		}
		if (xs_transaction_end(r->xs, t, false))
			break;
		if (errno != EAGAIN) {
			rc = -errno;
			say(act, false, "commit: %s", hvg_strerror(rc));
			return rc;
		}
	}
	rc = xs_put(r, "state", "3");
	if (rc)
		say(act, false, "state Initialised: %s", hvg_strerror(rc));
	return rc;
}

static int act_connect(struct rg *r, const char *act, const char *arg)
{
	char path[160], v[128];
	unsigned seen = 0;
	uint64_t t0;
	int rc;

	r->devid = arg ? (uint32_t)atoi(arg) : 0;
	snprintf(r->fe, sizeof(r->fe), "/local/domain/%u/device/vtpm/%u", r->me,
		 r->devid);
	snprintf(path, sizeof(path), "%s/backend-id", r->fe);
	rc = hvg_xs_wait_read(r->xs, path, v, sizeof(v), WAIT_MS);
	if (rc) {
		say(act, false, "%s: %s", path, hvg_strerror(rc));
		return rc;
	}
	r->be_id = (uint32_t)atoi(v);
	snprintf(path, sizeof(path), "%s/backend", r->fe);
	rc = hvg_xs_read(r->xs, path, r->be, sizeof(r->be));
	if (rc) {
		say(act, false, "%s: %s", path, hvg_strerror(rc));
		return rc;
	}
	t0 = (uint64_t)now_ms();
	rc = offer(r, act, NULL, NULL);
	if (rc)
		return rc;
	rc = wait_be_state(r, 4, WAIT_MS, &seen);
	if (rc) {
		snprintf(path, sizeof(path), "%s/error", r->be);
		if (hvg_xs_read(r->xs, path, v, sizeof(v)))
			v[0] = '\0';
		say(act, false, "backend state %u, not Connected: error \"%s\"",
		    seen, v);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/feature-protocol-v2", r->be);
	if (hvg_xs_read(r->xs, path, v, sizeof(v)) || strcmp(v, "1")) {
		say(act, false, "backend lacks feature-protocol-v2=1");
		return -EPROTO;
	}
	snprintf(path, sizeof(path), "%s/ready", r->be);
	if (hvg_xs_read(r->xs, path, v, sizeof(v)) || strcmp(v, "1")) {
		say(act, false, "backend Connected without ready=1");
		return -EPROTO;
	}
	rc = xs_put(r, "state", "4");
	if (rc) {
		say(act, false, "state Connected: %s", hvg_strerror(rc));
		return rc;
	}
	say(act, true, "backend %u, ring-ref %u, port %u, %llu ms", r->be_id,
	    r->gref, r->port, (unsigned long long)((uint64_t)now_ms() - t0));
	return 0;
}

/* Writes len bytes of cmd with the given header quirks, SUBMIT, notify. */
static int submit(struct rg *r, const uint8_t *cmd, uint32_t len,
		  uint32_t length_field, uint8_t locality, uint8_t nr_extra)
{
	uint32_t o = OFF_PAYLOAD + 4u * nr_extra;

	if (!r->p)
		return -ENOTCONN;
	for (uint32_t i = 0; i < len; i++)
		r->p[o + i] = cmd[i];
	put32le(r->p + OFF_LENGTH, length_field);
	r->p[OFF_LOCALITY] = locality;
	r->p[OFF_NR_EXTRA] = nr_extra;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->p[OFF_STATE] = ST_SUBMIT;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return hvg_evtchn_send(r->g, r->port);
}

/* Waits up to timeout_ms for the state to be FINISH. */
static int wait_finish(struct rg *r, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int rc;

	for (;;) {
		int64_t left;

		if (r->p[OFF_STATE] == ST_FINISH)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		rc = hvg_evtchn_wait(r->g, r->port, (int)left);
		if (rc && rc != -ETIMEDOUT)
			return rc;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return 0;
}

/* Submits len bytes of cmd with the given header quirks; waits for FINISH.
 * On success *off is where the answer starts. */
static int transact(struct rg *r, const uint8_t *cmd, uint32_t len,
		    uint32_t length_field, uint8_t locality, uint8_t nr_extra,
		    uint32_t *off)
{
	int rc = submit(r, cmd, len, length_field, locality, nr_extra);

	if (!rc)
		rc = wait_finish(r, WAIT_MS);
	if (rc)
		return rc;
	/* What a careful frontend does: the offset is ours, not the
	 * backend's word. */
	r->p[OFF_NR_EXTRA] = 0;
	*off = OFF_PAYLOAD + 4u * nr_extra;
	return 0;
}

static const uint8_t get_random[] = {0x80, 0x01, 0, 0,	  0, 12,
				     0,	   0,	 1, 0x7b, 0, 16};
static const uint8_t startup[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0};

/* The answer at off: its length, tag, size field and rc, consistent. */
static int answer(struct rg *r, uint32_t off, uint32_t *len, uint32_t *rc)
{
	uint32_t l = get32le(r->p + OFF_LENGTH);

	*len = l;
	if (l < 10 || l > 4096 - off)
		return -EPROTO;
	if (be32(r->p + off + 2) != l)
		return -EPROTO;
	*rc = be32(r->p + off + 6);
	return 0;
}

/* Is the answer at off a successful GetRandom(16)? */
static bool random_answer_ok(struct rg *r, uint32_t off, uint32_t *len,
			     uint32_t *trc)
{
	if (answer(r, off, len, trc))
		return false;
	return *trc == 0 && *len == 10 + 2 + 16 && r->p[off + 10] == 0 &&
	       r->p[off + 11] == 16;
}

/* One GetRandom(16) at loc: 0 when answered rc 0 with 16 bytes, else
 * -errno; what came back, either way, in why. */
static int random_round(struct rg *r, uint8_t loc, char *why, size_t why_len)
{
	uint32_t off = 0, len = 0, trc = 0;
	int rc = transact(r, get_random, sizeof(get_random), sizeof(get_random),
			  loc, 0, &off);

	if (!rc)
		rc = answer(r, off, &len, &trc);
	if (rc) {
		snprintf(why, why_len, "%s", hvg_strerror(rc));
		return rc;
	}
	if (!random_answer_ok(r, off, &len, &trc)) {
		snprintf(why, why_len, "rc 0x%x, %u bytes", trc, len);
		return -EPROTO;
	}
	snprintf(why, why_len, "rc 0x0, 16 random bytes %02x%02x%02x%02x...",
		 r->p[off + 12], r->p[off + 13], r->p[off + 14],
		 r->p[off + 15]);
	return 0;
}

static int act_random(struct rg *r, const char *act, const char *arg)
{
	uint8_t loc = arg ? (uint8_t)atoi(arg) : 0;
	char why[128];
	int rc = random_round(r, loc, why, sizeof(why));

	say(act, !rc, "%s", why);
	return rc;
}

static const uint8_t get_random12[] = {0x00, 0xc1, 0,	 0, 0, 14, 0,
				       0,    0,	   0x46, 0, 0, 0,  16};

static int act_random12(struct rg *r, const char *act)
{
	uint32_t off = 0, len = 0, trc = 0;
	int rc = transact(r, get_random12, sizeof(get_random12),
			  sizeof(get_random12), 0, 0, &off);

	if (!rc)
		rc = answer(r, off, &len, &trc);
	if (rc) {
		say(act, false, "%s", hvg_strerror(rc));
		return rc;
	}
	/* tag 00C4, size, rc, u32 count, bytes */
	if (trc || len != 10 + 4 + 16 || be32(r->p + off) >> 16 != 0x00c4 ||
	    be32(r->p + off + 10) != 16) {
		say(act, false, "tag 0x%x, rc 0x%x, %u bytes",
		    be32(r->p + off) >> 16, trc, len);
		return -EPROTO;
	}
	say(act, true, "TPM 1.2 rc 0x0, 16 random bytes");
	return 0;
}

static int act_startup(struct rg *r, const char *act)
{
	uint32_t off = 0, len = 0, trc = 0;
	int rc = transact(r, startup, sizeof(startup), sizeof(startup), 0, 0,
			  &off);

	if (!rc)
		rc = answer(r, off, &len, &trc);
	if (rc) {
		say(act, false, "%s", hvg_strerror(rc));
		return rc;
	}
	say(act, trc == 0x100, "rc 0x%x", trc);
	return trc == 0x100 ? 0 : -EPROTO;
}

static int act_hostile(struct rg *r, const char *act, const char *kind)
{
	uint8_t cmd[16];
	uint32_t len = sizeof(get_random), field = sizeof(get_random);
	uint32_t off = 0, rlen = 0, trc = 0;
	uint8_t loc = 0, nr = 0;
	int rc;

	memcpy(cmd, get_random, sizeof(get_random));
	if (!strcmp(kind, "len"))
		field = 5000; /* beyond the page */
	else if (!strcmp(kind, "zero"))
		field = 0;
	else if (!strcmp(kind, "short"))
		field = len = 6;
	else if (!strcmp(kind, "size"))
		cmd[5] = 100; /* the command's own size field lies */
	else if (!strcmp(kind, "locality"))
		loc = 3;
	else if (!strcmp(kind, "extra"))
		nr = 1;
	else {
		say(act, false, "unknown kind");
		return -EINVAL;
	}
	rc = transact(r, cmd, len, field, loc, nr, &off);
	if (!rc)
		rc = answer(r, off, &rlen, &trc);
	if (rc) {
		say(act, false, "%s", hvg_strerror(rc));
		return rc;
	}
	if (rlen != 10 || be32(r->p + off) >> 16 != 0x8001 || trc == 0) {
		say(act, false, "answer of %u bytes, tag 0x%x, rc 0x%x", rlen,
		    be32(r->p + off) >> 16, trc);
		return -EPROTO;
	}
	say(act, true, "error response rc 0x%x", trc);
	return 0;
}

static int act_cancel(struct rg *r, const char *act)
{
	int64_t deadline = now_ms() + WAIT_MS;
	int rc;

	if (!r->p) {
		say(act, false, "not connected");
		return -ENOTCONN;
	}
	r->p[OFF_STATE] = ST_CANCEL;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rc = hvg_evtchn_send(r->g, r->port);
	while (!rc && r->p[OFF_STATE] != ST_IDLE) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = hvg_evtchn_wait(r->g, r->port, (int)left);
		if (rc == -ETIMEDOUT)
			rc = 0;
	}
	say(act, !rc, "state %u %s", r->p[OFF_STATE],
	    rc ? hvg_strerror(rc) : "");
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* N round trips; the mean, and the median and 99th percentile, which a
 * busy host disturbs less. */
static int act_bench(struct rg *r, const char *act, const char *arg)
{
	unsigned n = arg ? (unsigned)atoi(arg) : 1000;
	uint64_t *lat, total = 0;
	uint32_t off = 0, len = 0, trc = 0;

	if (n == 0 || n > 1000000) {
		say(act, false, "N out of 1..1000000");
		return -EINVAL;
	}
	lat = calloc(n, sizeof(*lat));
	if (!lat) {
		say(act, false, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = ns_now();
		int rc = transact(r, get_random, sizeof(get_random),
				  sizeof(get_random), 0, 0, &off);

		if (!rc)
			rc = answer(r, off, &len, &trc);
		if (rc || trc) {
			say(act, false, "round %u: %s rc 0x%x", i,
			    hvg_strerror(rc), trc);
			free(lat);
			return rc ? rc : -EPROTO;
		}
		lat[i] = ns_now() - t0;
		total += lat[i];
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	say(act, true,
	    "%u GetRandom round trips, median %.1f us, p99 %.1f us, %.1f us "
	    "each",
	    n, (double)lat[n / 2] / 1e3, (double)lat[n - 1 - n / 100] / 1e3,
	    (double)total / n / 1e3);
	free(lat);
	return 0;
}

/* ------------------------------------------------------------------ */
/* storm, flood, guard: a frontend that breaks every rule, several at once.
 *
 * In a storm two threads of ours write the page at once, and the backend
 * writes it from its side: every store here is a relaxed atomic (defined
 * between our threads, one store the backend may see at any moment).
 * The mutator owns the header's length, locality, pad and nr_extra_pages
 * and the payload; the main thread owns the state byte, and writes the
 * others too when it submits a request of its own. */

#define STORM_MS_MAX 60000
#define SETTLE_MS    200  /* the backend wrote nothing for this long */
#define PACED_MS     20	  /* a lying request waits this long for its answer */
#define ST_PARKED    0x5a /* not a tpmif state: the backend leaves it */

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint64_t new_seed(void)
{
	uint64_t s = ns_now() ^ (uint64_t)getpid() << 32;

	return s ? s : 0x9e3779b97f4a7c15u;
}

static void set8(volatile uint8_t *p, uint32_t off, uint8_t v)
{
	__atomic_store_n(&p[off], v, __ATOMIC_RELAXED);
}

/* off is 4-aligned: the length field or a word of the payload. */
static void set32(volatile uint8_t *p, uint32_t off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(volatile void *)(p + off), v,
			 __ATOMIC_RELAXED);
}

static uint8_t get8(const volatile uint8_t *p, uint32_t off)
{
	return __atomic_load_n(&p[off], __ATOMIC_RELAXED);
}

/* The command's own size field (big-endian) of a payload at off. */
static void set_size_field(volatile uint8_t *p, uint32_t off, uint32_t v)
{
	set8(p, off + 2, (uint8_t)(v >> 24));
	set8(p, off + 3, (uint8_t)(v >> 16));
	set8(p, off + 4, (uint8_t)(v >> 8));
	set8(p, off + 5, (uint8_t)v);
}

static void set_cmd(volatile uint8_t *p, const uint8_t *cmd, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		set8(p, OFF_PAYLOAD + i, cmd[i]);
}

/* The lengths that sit on an edge: empty, one short of a command, the
 * whole payload, one past it, the largest. */
static const uint32_t edge_lengths[] = {0, 9, 4088, 4089, 0xffffffffu};
static const uint8_t edge_nrs[] = {0, 1, 255};
static const uint8_t edge_localities[] = {0, 4, 255};
#define N_EDGES (sizeof(edge_lengths) / sizeof(edge_lengths[0]))

static uint32_t edge_or_any(uint64_t x)
{
	unsigned k = (unsigned)(x >> 3 & 7);

	return k < N_EDGES ? edge_lengths[k] : (uint32_t)(x >> 32);
}

struct mutator {
	volatile uint8_t *p;
	uint64_t seed;
	int stop;	 /* written by the main thread (atomic) */
	uint64_t rounds; /* the mutator's; read after the join */
};

static void *mutate(void *arg)
{
	struct mutator *m = arg;
	volatile uint8_t *p = m->p;

	while (!__atomic_load_n(&m->stop, __ATOMIC_RELAXED)) {
		uint64_t x = next_rand(&m->seed);
		uint32_t hi = (uint32_t)(x >> 32);

		switch (x & 7) {
		case 0:
			set32(p, OFF_LENGTH, edge_or_any(x));
			break;
		case 1:
			set8(p, OFF_NR_EXTRA, edge_nrs[(x >> 3) % 3]);
			break;
		case 2:
			set8(p, OFF_LOCALITY, edge_localities[(x >> 3) % 3]);
			break;
		case 3:
			set8(p, OFF_PAD, (uint8_t)(x >> 3));
			break;
		case 4: /* where each nr_extra_pages puts the command */
			set_size_field(
				p, OFF_PAYLOAD + 4u * edge_nrs[(x >> 6) % 3],
				edge_or_any(x));
			break;
		case 5:
			set8(p, OFF_PAYLOAD + hi % (PAGE_BYTES - OFF_PAYLOAD),
			     (uint8_t)(x >> 3));
			break;
		case 6:
			set32(p,
			      OFF_PAYLOAD +
				      4u * (hi %
					    ((PAGE_BYTES - OFF_PAYLOAD) / 4)),
			      (uint32_t)(x >> 3));
			break;
		default: /* a good request, for the others to spoil */
			set_cmd(p, get_random, sizeof(get_random));
			set32(p, OFF_LENGTH, sizeof(get_random));
			break;
		}
		/* Two busy threads on a small host: let others run now and
		 * then (the well-behaved guest must keep its share). */
		if ((++m->rounds & 1023) == 0)
			sched_yield();
	}
	return NULL;
}

/* A GetRandom whose size field lies, or whose length agrees with the lie:
 * what a careless frontend sends, in the middle of the storm. */
static void lying_request(volatile uint8_t *p, uint64_t x)
{
	static const uint32_t lies[] = {0,    9,    11,		 13,
					4088, 4089, 0xffffffffu, 0x0c000000u};
	uint32_t size = lies[(x >> 8) & 7];

	set_cmd(p, get_random, sizeof(get_random));
	set_size_field(p, OFF_PAYLOAD, size);
	set32(p, OFF_LENGTH, (x >> 16 & 1) ? sizeof(get_random) : size);
	set8(p, OFF_LOCALITY, 0);
	set8(p, OFF_NR_EXTRA, 0);
}

static void good_request(volatile uint8_t *p)
{
	set_cmd(p, get_random, sizeof(get_random));
	set32(p, OFF_LENGTH, sizeof(get_random));
	set8(p, OFF_LOCALITY, 0);
	set8(p, OFF_NR_EXTRA, 0);
}

/* Notifications from the backend, consumed without waiting (notices of
 * the daemon too: a closed channel ends the storm).  0 or -errno. */
static int drain(struct rg *r)
{
	int rc = hvg_evtchn_wait(r->g, r->port, 0);

	return rc == -ETIMEDOUT ? 0 : rc;
}

/* After a storm or a flood: a sane page and a quiet backend.  The backend
 * owes an answer to what we left in SUBMIT or CANCEL: that comes first.
 * Then the state is parked on a value the backend leaves alone until it
 * has stayed there SETTLE_MS, so that the late answer to a request the
 * backend had fetched before cannot land on top of the next one. */
static int settle(struct rg *r, const char *act)
{
	int64_t deadline = now_ms() + WAIT_MS, quiet_since;
	uint8_t st;
	int rc;

	for (uint32_t o = OFF_PAYLOAD; o < PAGE_BYTES; o += 4)
		set32(r->p, o, 0);
	set32(r->p, OFF_LENGTH, 0);
	set8(r->p, OFF_LOCALITY, 0);
	set8(r->p, OFF_PAD, 0);
	set8(r->p, OFF_NR_EXTRA, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while ((st = get8(r->p, OFF_STATE)) == ST_SUBMIT || st == ST_CANCEL) {
		if (now_ms() >= deadline) {
			say(act, false,
			    "state %u left for %d ms: the backend stopped "
			    "answering",
			    st, WAIT_MS);
			return -ETIMEDOUT;
		}
		rc = hvg_evtchn_send(r->g, r->port);
		if (!rc)
			rc = hvg_evtchn_wait(r->g, r->port, 50);
		if (rc && rc != -ETIMEDOUT) {
			say(act, false, "settling: %s", hvg_strerror(rc));
			return rc;
		}
	}
	set8(r->p, OFF_STATE, ST_PARKED);
	quiet_since = now_ms();
	while (now_ms() - quiet_since < SETTLE_MS) {
		if (now_ms() >= deadline) {
			say(act, false, "the backend kept writing the state");
			return -ETIMEDOUT;
		}
		rc = hvg_evtchn_wait(r->g, r->port, 20);
		if (rc && rc != -ETIMEDOUT) {
			say(act, false, "settling: %s", hvg_strerror(rc));
			return rc;
		}
		if (get8(r->p, OFF_STATE) != ST_PARKED) {
			set8(r->p, OFF_STATE, ST_PARKED);
			quiet_since = now_ms();
		}
	}
	set8(r->p, OFF_STATE, ST_IDLE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

/* Waits up to ms for the state to leave `from` (a paced request). */
static int wait_leave(struct rg *r, uint8_t from, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (get8(r->p, OFF_STATE) == from) {
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = hvg_evtchn_wait(r->g, r->port, (int)left);
		if (rc && rc != -ETIMEDOUT)
			return rc;
	}
	return 0;
}

struct storm_count {
	uint64_t notified; /* notifications sent */
	uint64_t lies;	   /* requests whose size field lied */
	uint64_t served;   /* answers seen: FINISH after a SUBMIT of ours */
	uint64_t errors;   /* of those, not rc 0 at offset 8 (refusals, TPM
			    * errors, answers spoilt before we looked) */
};

/* The main thread's storm: one state after another, each notified. */
static int storm_loop(struct rg *r, int64_t end, struct storm_count *c)
{
	uint64_t seed = new_seed() * 0x9e3779b97f4a7c15u | 1;
	uint8_t wrote = get8(r->p, OFF_STATE);

	for (uint64_t i = 0;; i++) {
		uint64_t x = next_rand(&seed);
		uint8_t st = get8(r->p, OFF_STATE), next;
		bool paced = false;
		int rc;

		if (st == ST_FINISH && wrote != ST_FINISH) {
			c->served++;
			if (get8(r->p, OFF_PAYLOAD + 6) ||
			    get8(r->p, OFF_PAYLOAD + 7) ||
			    get8(r->p, OFF_PAYLOAD + 8) ||
			    get8(r->p, OFF_PAYLOAD + 9))
				c->errors++;
			wrote = ST_FINISH;
		}
		if ((i & 63) == 0) {
			rc = drain(r);
			if (rc)
				return rc;
			if (now_ms() >= end)
				return 0;
		}
		switch (x % 16) {
		case 6:
			next = ST_CANCEL;
			break;
		case 7:
			next = ST_IDLE;
			break;
		case 8:
			next = ST_FINISH;
			break;
		case 9: /* 4..255: no such state */
			next = (uint8_t)(4 + (x >> 8) % 252);
			break;
		case 10:
		case 11:
		case 12:
			lying_request(r->p, x);
			c->lies++;
			paced = true;
			next = ST_SUBMIT;
			break;
		case 13:
		case 14:
		case 15:
			good_request(r->p);
			next = ST_SUBMIT;
			break;
		default: /* whatever the mutator left in the header */
			next = ST_SUBMIT;
			break;
		}
		__atomic_thread_fence(__ATOMIC_RELEASE);
		set8(r->p, OFF_STATE, next);
		wrote = next;
		rc = hvg_evtchn_send(r->g, r->port);
		if (rc)
			return rc;
		c->notified++;
		if (paced) {
			rc = wait_leave(r, ST_SUBMIT, PACED_MS);
			if (rc)
				return rc;
		}
	}
}

static int act_storm(struct rg *r, const char *act, const char *arg)
{
	long ms = arg ? atol(arg) : 3000;
	struct mutator m;
	struct storm_count c = {0};
	pthread_t th;
	char why[128];
	int rc;

	if (ms <= 0 || ms > STORM_MS_MAX) {
		say(act, false, "MS out of 1..%d", STORM_MS_MAX);
		return -EINVAL;
	}
	if (!r->p) {
		say(act, false, "not connected");
		return -ENOTCONN;
	}
	memset(&m, 0, sizeof(m));
	m.p = r->p;
	m.seed = new_seed();
	rc = pthread_create(&th, NULL, mutate, &m);
	if (rc) {
		say(act, false, "mutator thread: %s", strerror(rc));
		return -rc;
	}
	rc = storm_loop(r, now_ms() + ms, &c);
	__atomic_store_n(&m.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	if (rc) {
		say(act, false, "after %llu notifications: %s",
		    (unsigned long long)c.notified, hvg_strerror(rc));
		return rc;
	}
	if (!c.served) {
		say(act, false,
		    "no answer in %ld ms and %llu notifications: the backend "
		    "stopped serving",
		    ms, (unsigned long long)c.notified);
		return -ETIMEDOUT;
	}
	rc = settle(r, act);
	if (rc)
		return rc;
	rc = random_round(r, 0, why, sizeof(why));
	if (rc) {
		say(act, false, "GetRandom after the storm: %s", why);
		return rc;
	}
	say(act, true,
	    "served %llu, errors %llu (%llu notifications, %llu lying size "
	    "fields, %llu header and payload rewrites; then GetRandom %s)",
	    (unsigned long long)c.served, (unsigned long long)c.errors,
	    (unsigned long long)c.notified, (unsigned long long)c.lies,
	    (unsigned long long)m.rounds, why);
	return 0;
}

static int act_flood(struct rg *r, const char *act, const char *arg)
{
	unsigned n = arg ? (unsigned)atoi(arg) : 100, good = 0, spoilt = 0,
		 unwaited = 0;
	char why[128];
	int rc = 0;

	if (n == 0 || n > 1000000) {
		say(act, false, "N out of 1..1000000");
		return -EINVAL;
	}
	if (!r->p) {
		say(act, false, "not connected");
		return -ENOTCONN;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 0, trc = 0;

		rc = submit(r, get_random, sizeof(get_random),
			    sizeof(get_random), 0, 0);
		if (rc) {
			say(act, false, "request %u: %s", i, hvg_strerror(rc));
			return rc;
		}
		/* The next one at once: its SUBMIT may land before or after
		 * the backend's FINISH of this one (then it is lost, or
		 * the answer is spoilt by the next request's bytes). */
		if (i % 3 == 1 && i + 1 < n) {
			unwaited++;
			continue;
		}
		rc = wait_finish(r, WAIT_MS);
		if (rc) {
			say(act, false, "request %u: no answer: %s", i,
			    hvg_strerror(rc));
			return rc;
		}
		if (random_answer_ok(r, OFF_PAYLOAD, &len, &trc))
			good++;
		else
			spoilt++;
	}
	rc = settle(r, act);
	if (rc)
		return rc;
	if (!good) {
		say(act, false, "no well-formed answer in %u requests", n);
		return -EPROTO;
	}
	rc = random_round(r, 0, why, sizeof(why));
	if (rc) {
		say(act, false, "GetRandom after the flood: %s", why);
		return rc;
	}
	say(act, true,
	    "%u requests, %u not waited for; %u answers well-formed, %u "
	    "spoilt by the next request; then GetRandom %s",
	    n, unwaited, good, spoilt, why);
	return 0;
}

/* A child touching p[off] dies of SIGSEGV?  0 yes, -EFAULT it did not,
 * -errno. */
static int touch_faults(volatile uint8_t *p, long off)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct sigaction sa;

		/* The default action: a sanitizer's handler would report
		 * the fault and exit instead. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGSEGV, &sa, NULL);
		(void)p[off];
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? 0 : -EFAULT;
}

static int act_guard(const char *act)
{
	static const long offs[] = {-1, PAGE_BYTES};
	struct hvg_page pg;
	int rc = hvg_page_alloc(&pg);

	if (rc) {
		say(act, false, "page: %s", hvg_strerror(rc));
		return rc;
	}
	for (size_t i = 0; i < 2 && !rc; i++) {
		rc = touch_faults(pg.addr, offs[i]);
		if (rc)
			say(act, false, "byte %ld of the page: %s", offs[i],
			    rc == -EFAULT ? "readable" : hvg_strerror(rc));
	}
	hvg_page_free(&pg);
	if (!rc)
		say(act, true, "bytes -1 and %u of a page fault", PAGE_BYTES);
	return rc;
}

static int act_close(struct rg *r, const char *act)
{
	unsigned seen = 0;
	int rc = xs_put(r, "state", "5");

	if (!rc)
		rc = wait_be_state(r, 5, WAIT_MS, &seen);
	if (!rc)
		rc = xs_put(r, "state", "6");
	if (!rc)
		rc = wait_be_state(r, 2, WAIT_MS, &seen);
	if (rc) {
		say(act, false, "backend state %u: %s", seen, hvg_strerror(rc));
		return rc;
	}
	release(r);
	say(act, true, "backend back to InitWait");
	return 0;
}

static int act_closechan(struct rg *r, const char *act)
{
	unsigned seen = 0;
	int rc;

	if (!r->have_port) {
		say(act, false, "no port");
		return -ENOTCONN;
	}
	rc = hvg_evtchn_close(r->g, r->port);
	r->have_port = false;
	if (!rc)
		rc = wait_be_state(r, 2, WAIT_MS, &seen);
	say(act, !rc, "backend state %u %s", seen, rc ? hvg_strerror(rc) : "");
	return rc;
}

static int act_badnode(struct rg *r, const char *act, const char *arg)
{
	char key[32], path[160], err[256], left[256];
	const char *eq = strchr(arg, '=');
	unsigned seen = 0;
	int rc;

	if (!eq || (size_t)(eq - arg) >= sizeof(key)) {
		say(act, false, "want KEY=VALUE");
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	rc = offer(r, act, key, eq + 1);
	if (rc)
		return rc;
	rc = wait_be_state(r, 5, WAIT_MS, &seen);
	snprintf(path, sizeof(path), "%s/error", r->be);
	if (hvg_xs_read(r->xs, path, err, sizeof(err)))
		err[0] = '\0';
	if (rc || !err[0]) {
		say(act, false, "backend state %u, error \"%s\"", seen, err);
		return rc ? rc : -EPROTO;
	}
	/* What a frontend does on the backend's Closing. */
	rc = xs_put(r, "state", "6");
	if (!rc)
		rc = wait_be_state(r, 2, WAIT_MS, &seen);
	if (!rc && !hvg_xs_read(r->xs, path, left, sizeof(left))) {
		say(act, false, "error node left after InitWait");
		return -EEXIST;
	}
	release(r);
	say(act, !rc, "error \"%s\"; after Closed: state %u", err, seen);
	return rc;
}

static int act_bestate(struct rg *r, const char *act, const char *arg)
{
	unsigned want = arg ? (unsigned)atoi(arg) : 0, seen = 0;
	int rc = wait_be_state(r, want, WAIT_MS, &seen);

	say(act, !rc, "backend state %u", seen);
	return rc;
}

static int act_begone(struct rg *r, const char *act)
{
	unsigned seen = 0;
	int rc = wait_be(r, 6, true, WAIT_MS, &seen);

	say(act, !rc, "backend %s",
	    rc	   ? hvg_strerror(rc)
	    : seen ? "Closed"
		   : "gone");
	return rc;
}

static int run(struct rg *r, const char *act)
{
	const char *colon = strchr(act, ':');
	const char *arg = colon ? colon + 1 : NULL;
	size_t n = colon ? (size_t)(colon - act) : strlen(act);

#define IS(s) (n == strlen(s) && !strncmp(act, s, n))
	if (IS("connect"))
		return act_connect(r, act, arg);
	if (IS("random"))
		return act_random(r, act, arg);
	if (IS("random12"))
		return act_random12(r, act);
	if (IS("startup"))
		return act_startup(r, act);
	if (IS("hostile") && arg)
		return act_hostile(r, act, arg);
	if (IS("cancel"))
		return act_cancel(r, act);
	if (IS("bench"))
		return act_bench(r, act, arg);
	if (IS("storm"))
		return act_storm(r, act, arg);
	if (IS("flood"))
		return act_flood(r, act, arg);
	if (IS("guard"))
		return act_guard(act);
	if (IS("close"))
		return act_close(r, act);
	if (IS("closechan"))
		return act_closechan(r, act);
	if (IS("badnode") && arg)
		return act_badnode(r, act, arg);
	if (IS("bestate"))
		return act_bestate(r, act, arg);
	if (IS("begone"))
		return act_begone(r, act);
	if (IS("crash")) {
		say(act, true, "%s", "");
		raise(SIGSEGV);
	}
	if (IS("hold")) {
		say(act, true, "%s", "");
		for (;;) {
			pause();
			hvg_process_notices(r->g);
		}
	}
#undef IS
	say(act, false, "unknown action");
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct rg r;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		puts("usage: ringguest ACTION...  (a guest of hvsecd; see "
		     "tests/vtpm/ringguest.c)");
		return 0;
	}
	memset(&r, 0, sizeof(r));
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = hvg_open(&r.g);
	if (rc) {
		printf("ringguest: hypercall channel: %s\n", hvg_strerror(rc));
		return 1;
	}
	r.me = hvg_domid(r.g);
	r.xs = hvg_xs_open();
	if (!r.xs) {
		printf("ringguest: XenStore: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (run(&r, argv[i])) {
			hvg_console("ringguest: stopped");
			goto out;
		}
	}
	hvg_console("ringguest: done");
out:
	release(&r);
	hvg_xs_close(r.xs);
	hvg_close(r.g);
	return 0;
}
