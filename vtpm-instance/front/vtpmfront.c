/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmfront.c - the guest side of the tpmif v2 shared page (vtpmfront.h):
 * connect and close through XenStore as xen-tpmfront does, then one
 * command at a time over the page.
 *
 * The backend may write any byte of the page at any moment.  So the
 * header is touched only through volatile accesses, the state byte is the
 * only field polled, the response length is read once after FINISH and
 * clamped before anything is copied, and nr_extra_pages is never read
 * back: we write 0 before each request and the payload is always at 8.
 *
 * Ordering mirrors the backend (vtpm_ring.c): payload, locality and
 * length, a release fence, then state = SUBMIT and the notification;
 * state read first, an acquire fence, then length and payload.
 *
 * Everything read from XenStore (the backend's path and id, its state,
 * its error text) is bounded, parsed strictly and, for text we print,
 * made printable first.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include <xen/io/tpmif.h>
#include <xen/io/xenbus.h>

#include "hypervisor/guest/hvguest.h"
#include "vtpm-instance/front/vtpmfront.h"
#include "vtpm-instance/vtpm_util.h"

/* The header of struct tpmif_shared_page, by offset (xen/io/tpmif.h). */
enum {
	RING_LENGTH = 0, /* u32, native endian */
	RING_STATE = 4,	 /* enum tpmif_state */
	RING_LOCALITY = 5,
	RING_PAD = 6,
	RING_NR_EXTRA = 7,
	RING_PAYLOAD = 8, /* 8 + 4 * nr_extra_pages, and we use none */
};
static_assert(offsetof(struct tpmif_shared_page, length) == RING_LENGTH,
	      "length offset");
static_assert(offsetof(struct tpmif_shared_page, state) == RING_STATE,
	      "state offset");
static_assert(offsetof(struct tpmif_shared_page, locality) == RING_LOCALITY,
	      "locality offset");
static_assert(offsetof(struct tpmif_shared_page, pad) == RING_PAD,
	      "pad offset");
static_assert(offsetof(struct tpmif_shared_page, nr_extra_pages) ==
		      RING_NR_EXTRA,
	      "nr_extra_pages offset");
static_assert(sizeof(struct tpmif_shared_page) == RING_PAYLOAD, "header size");
static_assert(HV_PAGE_SIZE - RING_PAYLOAD == VTPMFRONT_MAX_PAYLOAD,
	      "one page of payload");

#define PATH_LEN       160
#define TXN_RETRIES    16    /* XenStore transaction retried on EAGAIN */
#define SPIN_NS	       50000 /* spin on the state byte this long first */
#define YIELD_ROUNDS   8     /* spin rounds per sched_yield */
#define CLOSE_WAIT_MS  2000  /* close: backend's Closing, then its unmap */
#define ERROR_TEXT_MAX 256   /* the backend's `error` node, as we keep it */
#define WATCH_TOKEN    "vtpmfront"

struct vtpmfront {
	struct hvg *g;	      /* borrowed from the caller */
	struct xs_handle *xs; /* borrowed from the caller */
	uint32_t devid;
	uint32_t backend_id;  /* from device/vtpm/N/backend-id */
	char fe[PATH_LEN];    /* /local/domain/G/device/vtpm/N */
	char be[PATH_LEN];    /* device/vtpm/N/backend, checked */
	struct hvg_page page; /* ours, granted read-write to backend_id */
	uint32_t gref, port;
	bool granted, have_port;
	bool published; /* we wrote a state: close must say Closed */
	bool gone;	/* the backend closed the channel */
	bool spin;	/* more than one CPU online */
};

/* ------------------------------------------------------------ helpers */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* -1 (no deadline) or an absolute CLOCK_MONOTONIC time in ms. */
static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int left_ms(int64_t deadline)
{
	int64_t l;

	if (deadline < 0)
		return -1;
	l = deadline - now_ms();
	if (l > INT32_MAX)
		return INT32_MAX;
	return l > 0 ? (int)l : 0;
}

static volatile uint8_t *ring(const struct vtpmfront *f)
{
	return (volatile uint8_t *)f->page.addr;
}

static uint8_t ring_state(const struct vtpmfront *f)
{
	return ring(f)[RING_STATE];
}

static void ring_set_state(struct vtpmfront *f, enum tpmif_state st)
{
	ring(f)[RING_STATE] = (uint8_t)st;
}

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

/* Whether st is one of mask (bits of enum tpmif_state). */
static bool state_in(uint8_t st, unsigned mask)
{
	return st < 8 && (mask & (1u << st));
}

/* The page is page-aligned, so the length word is aligned. */
static volatile uint32_t *ring_length(const struct vtpmfront *f)
{
	return (volatile uint32_t *)(void *)f->page.addr;
}

/* A bounded node read.  0, -errno (-E2BIG for an over-long value). */
static int xs_get(struct vtpmfront *f, const char *dir, const char *key,
		  char *buf, size_t len)
{
	char path[PATH_LEN + 32];

	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return hvg_xs_read(f->xs, path, buf, len);
}

/* Strict decimal: digits only, no sign, no blanks, at most max. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The backend's XenbusState, or -1 when unreadable or not a state. */
static int backend_state(struct vtpmfront *f)
{
	char buf[16];
	uint32_t st;

	if (xs_get(f, f->be, "state", buf, sizeof(buf)) ||
	    !parse_u32(buf, XenbusStateReconfigured, &st))
		return -1;
	return (int)st;
}

static int write_state(struct vtpmfront *f, enum xenbus_state st)
{
	char path[PATH_LEN + 8], val[4];

	snprintf(path, sizeof(path), "%s/state", f->fe);
	snprintf(val, sizeof(val), "%u", (unsigned)st);
	f->published = true;
	return hvg_xs_write(f->xs, path, val);
}

/* The backend's `error` node, made printable, and what it means for us:
 * -EACCES when the backend says the hypervisor refused it, else -EIO. */
static int backend_error(struct vtpmfront *f, char *text, size_t len)
{
	unsigned int n = 0;
	char path[PATH_LEN + 8];
	char *v;
	size_t i;

	snprintf(path, sizeof(path), "%s/error", f->be);
	v = xs_read(f->xs, XBT_NULL, path, &n);
	if (!v) {
		snprintf(text, len, "no error given");
		return -EIO;
	}
	if (n >= len)
		n = (unsigned int)(len - 1);
	for (i = 0; i < n; i++)
		text[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	text[i] = '\0';
	free(v);
	return strstr(text, "EACCES") ? -EACCES : -EIO;
}

/* ------------------------------------------------------------ waiting */

enum be_wait {
	BE_WAIT_CONNECTED, /* Connected, or failing (Closing/Closed) */
	BE_WAIT_IDLE,	 /* no longer using a ring: not Initialised..Closing */
	BE_WAIT_CLOSING, /* answered our Closing, or gone */
};

static bool be_wait_done(enum be_wait w, int st)
{
	switch (w) {
	case BE_WAIT_CONNECTED:
		return st == XenbusStateConnected || st == XenbusStateClosing ||
		       st == XenbusStateClosed;
	case BE_WAIT_IDLE:
		return st < XenbusStateInitialised || st > XenbusStateClosing;
	case BE_WAIT_CLOSING:
		return st < 0 || st == XenbusStateClosing ||
		       st == XenbusStateClosed || st == XenbusStateInitWait;
	}
	return true;
}

/* Waits for the backend's state to satisfy w, through a watch on it,
 * handling the hypervisor's notices meanwhile (the backend's bind arrives
 * as one).  Returns 0 with *st, or -ETIMEDOUT with the last *st. */
static int wait_backend(struct vtpmfront *f, enum be_wait w, int64_t deadline,
			int *st)
{
	char path[PATH_LEN + 8];
	int rc;

	snprintf(path, sizeof(path), "%s/state", f->be);
	if (!xs_watch(f->xs, path, WATCH_TOKEN))
		return -(errno ? errno : EIO);
	for (;;) {
		struct pollfd pfd[2] = {
			{xs_fileno(f->xs), POLLIN, 0},
			{hvg_fd(f->g), POLLIN, 0},
		};
		char **ev;

		*st = backend_state(f);
		if (be_wait_done(w, *st)) {
			rc = 0;
			break;
		}
		rc = poll(pfd, 2, left_ms(deadline));
		if (rc < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (rc == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		while ((ev = xs_check_watch(f->xs)))
			free(ev);
		if (pfd[1].revents) {
			rc = hvg_process_notices(f->g);
			if (rc)
				break;
		}
	}
	xs_unwatch(f->xs, path, WATCH_TOKEN);
	return rc;
}

/* Waits for the state byte to be one of `mask` (bits of enum
 * tpmif_state): spinning first if asked and it can pay, then blocking on
 * the event channel.  0, -ETIMEDOUT, -ENOTCONN (the backend closed the
 * channel and left no answer), or the hypervisor's error.
 *
 * Notifications are consumed only here, on the way to sleep: the
 * backend's notices of answers we found by spinning pile up in the
 * channel (it counts them as one) until then.  Before blocking: consume
 * them all, look at the state once more, and only then wait.  No wakeup
 * is lost: the backend writes the state before it notifies, so a state
 * change the last look missed comes with a notification after the
 * consume.  A wakeup may still be for an answer already taken; the loop
 * then looks, finds nothing new and waits again. */
static int wait_ring(struct vtpmfront *f, unsigned mask, bool spin,
		     int64_t deadline, uint8_t *st)
{
	int rc;

	/* A response often comes within microseconds: spinning saves the
	 * sleep and the wakeup.  Every few rounds give the CPU away: a
	 * backend that shares ours cannot answer while we spin, and on a
	 * CPU of our own the yield returns at once. */
	*st = ring_state(f);
	if (state_in(*st, mask))
		return 0;
	if (spin && f->spin) {
		int64_t end = now_ns() + SPIN_NS;
		unsigned i = 0;

		for (;;) {
			if (++i % YIELD_ROUNDS) {
				cpu_relax();
			} else {
				sched_yield();
				if (now_ns() >= end)
					break;
			}
			*st = ring_state(f);
			if (state_in(*st, mask))
				return 0;
		}
	}
	/* Going to sleep: consume what is pending, then look again. */
	rc = hvg_evtchn_wait(f->g, f->port, 0);
	if (rc == -ENOTCONN)
		f->gone = true;
	else if (rc && rc != -ETIMEDOUT)
		return rc;
	atomic_thread_fence(memory_order_seq_cst);
	for (;;) {
		*st = ring_state(f);
		if (state_in(*st, mask))
			return 0;
		if (f->gone)
			return -ENOTCONN;
		if (left_ms(deadline) == 0)
			return -ETIMEDOUT;
		rc = hvg_evtchn_wait(f->g, f->port, left_ms(deadline));
		if (rc == -ENOTCONN)
			f->gone = true; /* look at the state once more */
		else if (rc && rc != -ETIMEDOUT)
			return rc;
	}
}

/* ------------------------------------------------------------ connect */

/* device/vtpm/N/{backend-id,backend}: written by the toolstack before we
 * run, but our own directory is ours to write too, so nothing in it is
 * taken on trust: the id must be a domid and the path must lie in that
 * domain's home, in plain characters. */
static int read_backend(struct vtpmfront *f, int64_t deadline, char *why,
			size_t why_len)
{
	char buf[16], path[PATH_LEN + 16], prefix[40];
	int rc;

	snprintf(path, sizeof(path), "%s/backend-id", f->fe);
	rc = hvg_xs_wait_read(f->xs, path, buf, sizeof(buf), left_ms(deadline));
	if (rc) {
		vtpm_set_why(why, why_len, "reading %s: %s", path, hvg_strerror(rc));
		return rc;
	}
	if (!parse_u32(buf, HV_DOMID_MAX, &f->backend_id)) {
		vtpm_set_why(why, why_len, "%s is not a domain id", path);
		return -EPROTO;
	}
	rc = xs_get(f, f->fe, "backend", f->be, sizeof(f->be) - 24);
	if (rc) {
		vtpm_set_why(why, why_len, "reading %s/backend: %s", f->fe,
			hvg_strerror(rc));
		return rc;
	}
	snprintf(prefix, sizeof(prefix), "/local/domain/%u/",
		 (unsigned)f->backend_id);
	if (strncmp(f->be, prefix, strlen(prefix)) ||
	    strspn(f->be, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-") !=
		    strlen(f->be) ||
	    strstr(f->be, "//") || strstr(f->be, "/..") ||
	    f->be[strlen(f->be) - 1] == '/') {
		vtpm_set_why(why, why_len,
			"%s/backend is not a directory of domain %u", f->fe,
			(unsigned)f->backend_id);
		return -EPROTO;
	}
	return 0;
}

/* A previous frontend in this domain that died without closing left the
 * device Initialised or Connected: say Closed and let the backend let go
 * of the old page first (it goes back to InitWait). */
static void reset_stale(struct vtpmfront *f, int64_t deadline)
{
	char buf[16];
	uint32_t st;
	int be_st;

	if (xs_get(f, f->fe, "state", buf, sizeof(buf)) ||
	    !parse_u32(buf, XenbusStateReconfigured, &st))
		return;
	if (st < XenbusStateInitialised || st > XenbusStateClosing)
		return;
	write_state(f, XenbusStateClosed);
	if (left_ms(deadline) != 0)
		wait_backend(f, BE_WAIT_IDLE, deadline, &be_st);
}

static int setup_ring(struct vtpmfront *f, char *why, size_t why_len)
{
	int rc;

	rc = hvg_page_alloc(&f->page);
	if (rc) {
		vtpm_set_why(why, why_len, "allocating the ring page: %s",
			hvg_strerror(rc));
		return rc;
	}
	rc = hvg_grant(f->g, &f->page, f->backend_id, false, &f->gref);
	if (rc) {
		vtpm_set_why(why, why_len,
			"granting the ring page to domain %u: %s%s",
			(unsigned)f->backend_id, hvg_strerror(rc),
			rc == -EACCES ? ", the policy refused it" : "");
		return rc;
	}
	f->granted = true;
	rc = hvg_evtchn_alloc_unbound(f->g, f->backend_id, &f->port);
	if (rc) {
		vtpm_set_why(why, why_len,
			"offering an event channel to domain %u: %s%s",
			(unsigned)f->backend_id, hvg_strerror(rc),
			rc == -EACCES ? ", the policy refused it" : "");
		return rc;
	}
	f->have_port = true;
	return 0;
}

static bool txn_put(struct vtpmfront *f, xs_transaction_t t, const char *key,
		    uint32_t v)
{
	char path[PATH_LEN + 32], val[16];

	snprintf(path, sizeof(path), "%s/%s", f->fe, key);
	snprintf(val, sizeof(val), "%u", (unsigned)v);
	return xs_write(f->xs, t, path, val, strlen(val));
}

/* ring-ref, event-channel and feature-protocol-v2 appear together: the
 * backend never sees one without the others. */
static int publish(struct vtpmfront *f, char *why, size_t why_len)
{
	int rc;

	for (unsigned tries = 0;; tries++) {
		xs_transaction_t t = xs_transaction_start(f->xs);

		if (t == XBT_NULL) {
			rc = -(errno ? errno : EIO);
			vtpm_set_why(why, why_len,
				"starting a XenStore transaction: %s",
				hvg_strerror(rc));
			return rc;
		}
		if (!txn_put(f, t, "ring-ref", f->gref) ||
		    !txn_put(f, t, "event-channel", f->port) ||
		    !txn_put(f, t, "feature-protocol-v2", 1)) {
			rc = -(errno ? errno : EIO);
			xs_transaction_end(f->xs, t, true);
			vtpm_set_why(why, why_len, "writing %s/ring-ref: %s", f->fe,
				hvg_strerror(rc));
			return rc;
		}
		if (xs_transaction_end(f->xs, t, false))
			break;
		rc = -(errno ? errno : EIO);
		if (rc != -EAGAIN || tries >= TXN_RETRIES) {
			vtpm_set_why(why, why_len, "committing %s/ring-ref: %s",
				f->fe, hvg_strerror(rc));
			return rc;
		}
	}
	rc = write_state(f, XenbusStateInitialised);
	if (rc)
		vtpm_set_why(why, why_len, "writing %s/state: %s", f->fe,
			hvg_strerror(rc));
	return rc;
}

/* The backend's Connected, with its feature-protocol-v2; or its reason
 * for giving up (Closing/Closed with an `error` node). */
static int wait_connected(struct vtpmfront *f, int64_t deadline, char *why,
			  size_t why_len)
{
	char buf[ERROR_TEXT_MAX];
	int st, rc;

	rc = wait_backend(f, BE_WAIT_CONNECTED, deadline, &st);
	if (rc == -ETIMEDOUT) {
		vtpm_set_why(why, why_len,
			"backend %s did not connect in time (state %d)", f->be,
			st);
		return rc;
	}
	if (rc) {
		vtpm_set_why(why, why_len, "watching %s/state: %s", f->be,
			hvg_strerror(rc));
		return rc;
	}
	if (st != XenbusStateConnected) {
		rc = backend_error(f, buf, sizeof(buf));
		vtpm_set_why(why, why_len, "backend domain %u closed: %s",
			(unsigned)f->backend_id, buf);
		return rc;
	}
	if (xs_get(f, f->be, "feature-protocol-v2", buf, sizeof(buf)) ||
	    strcmp(buf, "1")) {
		vtpm_set_why(why, why_len,
			"backend %s lacks feature-protocol-v2: vTPM protocol 2 "
			"required",
			f->be);
		return -EPROTO;
	}
	return 0;
}

/* The backend binds our port before it says Connected; its BOUND notice
 * carries the channel's fds and may still be queued. */
static int wait_bound(struct vtpmfront *f, int64_t deadline, char *why,
		      size_t why_len)
{
	for (;;) {
		struct pollfd pfd = {hvg_fd(f->g), POLLIN, 0};
		int rc = hvg_process_notices(f->g);

		if (rc) {
			vtpm_set_why(why, why_len, "hypervisor channel: %s",
				hvg_strerror(rc));
			return rc;
		}
		if (hvg_evtchn_fd(f->g, f->port) >= 0)
			return 0;
		rc = poll(&pfd, 1, left_ms(deadline));
		if (rc == 0) {
			vtpm_set_why(why, why_len,
				"backend is Connected but did not bind event "
				"channel %u",
				(unsigned)f->port);
			return -EPROTO;
		}
		if (rc < 0 && errno != EINTR) {
			rc = -errno;
			vtpm_set_why(why, why_len, "poll: %s", hvg_strerror(rc));
			return rc;
		}
	}
}

/* Ends what connect or a session set up.  Bounded: a backend that does
 * not answer costs CLOSE_WAIT_MS at most, and a grant it keeps mapped is
 * left to the hypervisor (it goes when this domain does). */
static void teardown(struct vtpmfront *f)
{
	int64_t deadline = now_ms() + CLOSE_WAIT_MS;
	int st, rc;

	if (f->published) {
		write_state(f, XenbusStateClosing);
		if (!f->gone)
			wait_backend(f, BE_WAIT_CLOSING, deadline, &st);
		write_state(f, XenbusStateClosed);
	}
	/* On our Closed the backend unmaps the page; until then ending the
	 * grant is -EBUSY. */
	while (f->granted) {
		rc = hvg_grant_end(f->g, f->gref);
		if (rc != -EBUSY || left_ms(deadline) == 0)
			break;
		poll(NULL, 0, 10);
		hvg_process_notices(f->g);
	}
	f->granted = false;
	if (f->have_port)
		hvg_evtchn_close(f->g, f->port);
	f->have_port = false;
	hvg_page_free(&f->page);
}

int vtpmfront_connect(struct hvg *g, struct xs_handle *xs, uint32_t devid,
		      int timeout_ms, struct vtpmfront **out, char *why,
		      size_t why_len)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct vtpmfront *f;
	long cpus;
	int rc;

	*out = NULL;
	vtpm_set_why(why, why_len, "ok");
	f = calloc(1, sizeof(*f));
	if (!f) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	f->g = g;
	f->xs = xs;
	f->devid = devid;
	f->page.fd = -1;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	f->spin = cpus > 1;
	snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vtpm/%u",
		 (unsigned)hvg_domid(g), (unsigned)devid);

	rc = read_backend(f, deadline, why, why_len);
	if (rc)
		goto fail;
	reset_stale(f, deadline);
	rc = setup_ring(f, why, why_len);
	if (rc)
		goto fail;
	rc = publish(f, why, why_len);
	if (rc)
		goto fail;
	rc = wait_connected(f, deadline, why, why_len);
	if (rc)
		goto fail;
	rc = wait_bound(f, deadline, why, why_len);
	if (rc)
		goto fail;
	rc = write_state(f, XenbusStateConnected);
	if (rc) {
		vtpm_set_why(why, why_len, "writing %s/state: %s", f->fe,
			hvg_strerror(rc));
		goto fail;
	}
	*out = f;
	return 0;
fail:
	teardown(f);
	free(f);
	return rc;
}

/* ------------------------------------------------------------ transmit */

static void cancel(struct vtpmfront *f)
{
	ring_set_state(f, TPMIF_STATE_CANCEL);
	atomic_thread_fence(memory_order_seq_cst);
	hvg_evtchn_send(f->g, f->port);
}

int vtpmfront_transmit(struct vtpmfront *f, const uint8_t *cmd, size_t cmd_len,
		       uint8_t locality, uint8_t *rsp, size_t rsp_cap,
		       size_t *rsp_len, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	const unsigned idle = 1u << TPMIF_STATE_IDLE | 1u << TPMIF_STATE_FINISH;
	uint8_t st;
	uint32_t len;
	int rc;

	*rsp_len = 0;
	if (cmd_len > VTPMFRONT_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (!cmd_len)
		return -EINVAL;
	if (f->gone)
		return -ENOTCONN;

	/* A command we cancelled may still be running. */
	rc = wait_ring(f, idle, false, deadline, &st);
	if (rc == -ETIMEDOUT)
		cancel(f);
	if (rc)
		return rc;
	/* Notifications left from earlier answers (we saw them by
	 * spinning) are consumed by wait_ring before it blocks, never here:
	 * a request found by spinning costs no system call of ours. */

	memcpy((uint8_t *)f->page.addr + RING_PAYLOAD, cmd, cmd_len);
	ring(f)[RING_LOCALITY] = locality;
	ring(f)[RING_PAD] = 0;
	ring(f)[RING_NR_EXTRA] = 0;
	*ring_length(f) = (uint32_t)cmd_len;
	atomic_thread_fence(memory_order_release);
	ring_set_state(f, TPMIF_STATE_SUBMIT);
	atomic_thread_fence(memory_order_seq_cst);
	rc = hvg_evtchn_send(f->g, f->port);
	if (rc) {
		if (rc == -ENOTCONN)
			f->gone = true;
		return rc;
	}

	rc = wait_ring(f, idle, true, deadline, &st);
	if (rc == -ETIMEDOUT)
		cancel(f);
	if (rc)
		return rc;
	if (st == TPMIF_STATE_IDLE)
		return -ECANCELED;
	atomic_thread_fence(memory_order_acquire);
	len = *ring_length(f);
	if (len > VTPMFRONT_MAX_PAYLOAD)
		len = VTPMFRONT_MAX_PAYLOAD;
	if (len > rsp_cap)
		len = (uint32_t)rsp_cap;
	memcpy(rsp, (const uint8_t *)f->page.addr + RING_PAYLOAD, len);
	*rsp_len = len;
	return 0;
}

void vtpmfront_close(struct vtpmfront *f)
{
	if (!f)
		return;
	teardown(f);
	free(f);
}

uint32_t vtpmfront_backend_id(const struct vtpmfront *f)
{
	return f->backend_id;
}
