/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_plat_xen.c - the xen platform without Xen:
 *
 *  1. the per-port bookkeeping (plat_xen_ports.c) as a table of steps;
 *  2. plat_xen.c itself, linked against a fake libxenevtchn, libxengnttab
 *     and libxenstore defined below (the real ones are not linked).  The
 *     fake event channel behaves as Linux's /dev/xen/evtchn does: reading
 *     the fd yields port numbers, a port is queued once and then stays
 *     masked until unmasked, a bind leaves the new port pending (as Xen
 *     does), an unbind leaves what was queued in the fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "hypervisor/plat/plat.h"
#include "hypervisor/plat/plat_xen_ports.h"
#include "tests/harness.h"

/* ------------------------------------------------------- 1. the table */

enum op { ADD, REMOVE, NOTE, TAKE, HAS };

struct step {
	enum op op;
	uint32_t port;
	int want; /* rc, or bool for NOTE/HAS */
};

static const char *op_name(enum op o)
{
	static const char *const n[] = {"add", "remove", "note", "take", "has"};

	return n[o];
}

static void run_steps(const char *name, const struct step *s, size_t n)
{
	struct plat_xen_ports t;

	plat_xen_ports_init(&t);
	for (size_t i = 0; i < n; i++) {
		int got = 0;

		switch (s[i].op) {
		case ADD:
			got = plat_xen_ports_add(&t, s[i].port);
			break;
		case REMOVE:
			got = plat_xen_ports_remove(&t, s[i].port);
			break;
		case NOTE:
			got = plat_xen_ports_note(&t, s[i].port);
			break;
		case TAKE:
			got = plat_xen_ports_take(&t, s[i].port);
			break;
		case HAS:
			got = plat_xen_ports_has(&t, s[i].port);
			break;
		}
		TH_CHECK(got == s[i].want, "%s: step %zu, %s %u: %d, want %d",
			 name, i, op_name(s[i].op), s[i].port, got, s[i].want);
	}
}

static void test_ports_table(void)
{
	static const struct step basic[] = {
		{ADD, 0, -EINVAL}, /* never a port */
		{HAS, 0, 0},
		{ADD, 5, 0},
		{ADD, 5, -EEXIST},
		{TAKE, 5, 0}, /* a new entry has not fired */
		{NOTE, 5, 1},
		{NOTE, 5, 1},
		{TAKE, 5, 1}, /* two fires, one take: coalesced */
		{TAKE, 5, 0},
		{NOTE, 7, 0}, /* not ours: stale, not to unmask */
		{TAKE, 7, -EINVAL},
		{TAKE, 0, -EINVAL},
		{NOTE, 0, 0},
	};
	static const struct step several[] = {
		{ADD, 3, 0},	{ADD, 9, 0},
		{ADD, 4, 0},	{NOTE, 9, 1}, /* read while asking about 3 */
		{TAKE, 3, 0},	{TAKE, 4, 0},
		{TAKE, 9, 1}, /* kept for its owner */
		{NOTE, 3, 1},	{NOTE, 4, 1},
		{REMOVE, 3, 0}, /* 4 moves into 3's slot */
		{TAKE, 4, 1},	/* with its flag */
		{HAS, 3, 0},	{HAS, 4, 1},
		{HAS, 9, 1},
	};
	static const struct step reuse[] = {
		{ADD, 6, 0},	      {NOTE, 6, 1}, {REMOVE, 6, 0},
		{REMOVE, 6, -ENOENT}, {NOTE, 6, 0}, /* queued before the unbind:
						       stale */
		{ADD, 6, 0},	      {TAKE, 6, 0}, /* the number again, not the
						       old fire */
		{REMOVE, 0, -ENOENT},
	};

	run_steps("basic", basic, TH_ARRAY_LEN(basic));
	run_steps("several ports", several, TH_ARRAY_LEN(several));
	run_steps("unbind and reuse", reuse, TH_ARRAY_LEN(reuse));

	/* Full table. */
	struct plat_xen_ports t;
	int rc = 0;

	plat_xen_ports_init(&t);
	for (uint32_t p = 1; p <= PLAT_XEN_PORTS_MAX && !rc; p++)
		rc = plat_xen_ports_add(&t, p);
	TH_CHECK(rc == 0, "table takes %u ports", PLAT_XEN_PORTS_MAX);
	TH_CHECK(plat_xen_ports_add(&t, 1000) == -ENOSPC, "then -ENOSPC");
	TH_CHECK(plat_xen_ports_remove(&t, 1) == 0 &&
			 plat_xen_ports_add(&t, 1000) == 0,
		 "a removal makes room");
}

/* ------------------------------------------------------ 2. the fakes */

#define FAKE_PORTS 128u
#define FAKE_PAGES 80u

static struct {
	/* event channels */
	int open_errno;
	int pipe[2];
	bool bound[FAKE_PORTS];
	bool masked[FAKE_PORTS];
	unsigned unmasks[FAKE_PORTS];
	unsigned notified[FAKE_PORTS];
	int bind_errno;
	int pending_errno; /* the next read fails so */
	uint32_t last_remote_dom, last_remote_port;
	/* grants */
	int gnt_open_errno;
	int map_errno;
	bool mapped[FAKE_PAGES];
	int prot[FAKE_PAGES];
	uint32_t map_dom[FAKE_PAGES], map_ref[FAKE_PAGES];
	/* XenStore */
	bool xs_fail;
	const char *domid; /* NULL: ENOENT */
} fk;

static _Alignas(4096) char fake_pages[FAKE_PAGES][4096];

struct xenevtchn_handle {
	int unused;
};
struct xengntdev_handle {
	int unused;
};
struct xs_handle {
	int unused;
};
static struct xenevtchn_handle the_xce;
static struct xengntdev_handle the_xgt;
static struct xs_handle the_xs;

static void fake_reset(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.pipe[0] = fk.pipe[1] = -1;
	fk.domid = "0";
}

/* The remote end notifies `port`: queued unless masked (as Linux). */
static void fire(uint32_t port)
{
	if (port >= FAKE_PORTS || !fk.bound[port] || fk.masked[port])
		return;
	fk.masked[port] = true;
	if (write(fk.pipe[1], &port, sizeof(port)) != sizeof(port))
		abort();
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int flags)
{
	(void)logger;
	(void)flags;
	if (fk.open_errno) {
		errno = fk.open_errno;
		return NULL;
	}
	if (pipe(fk.pipe) < 0)
		abort();
	return &the_xce;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	TH_CHECK(xce == &the_xce, "close: our handle");
	close(fk.pipe[0]);
	close(fk.pipe[1]);
	fk.pipe[0] = fk.pipe[1] = -1;
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	(void)xce;
	return fk.pipe[0];
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	if (port >= FAKE_PORTS || !fk.bound[port]) {
		errno = EINVAL;
		return -1;
	}
	fk.notified[port]++;
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
						     uint32_t domid,
						     evtchn_port_t remote_port)
{
	(void)xce;
	if (fk.bind_errno) {
		errno = fk.bind_errno;
		return -1;
	}
	fk.last_remote_dom = domid;
	fk.last_remote_port = remote_port;
	/* Lowest free first, as Xen. */
	for (uint32_t p = 1; p < FAKE_PORTS; p++) {
		if (fk.bound[p])
			continue;
		fk.bound[p] = true;
		fk.masked[p] = false;
		fire(p); /* Xen leaves a new local end pending */
		return (xenevtchn_port_or_error_t)p;
	}
	errno = ENOSPC;
	return -1;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	if (port >= FAKE_PORTS || !fk.bound[port]) {
		errno = EINVAL;
		return -1;
	}
	fk.bound[port] = false; /* what is queued stays queued */
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	uint32_t port;
	ssize_t n;

	(void)xce;
	if (fk.pending_errno) {
		errno = fk.pending_errno;
		fk.pending_errno = 0;
		return -1;
	}
	n = read(fk.pipe[0], &port, sizeof(port));
	if (n != (ssize_t)sizeof(port)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	if (port >= FAKE_PORTS || !fk.bound[port]) {
		errno = EINVAL;
		return -1;
	}
	fk.masked[port] = false;
	fk.unmasks[port]++;
	return 0;
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned open_flags)
{
	(void)logger;
	(void)open_flags;
	if (fk.gnt_open_errno) {
		errno = fk.gnt_open_errno;
		return NULL;
	}
	return &the_xgt;
}

int xengnttab_close(xengnttab_handle *xgt)
{
	TH_CHECK(xgt == &the_xgt, "gnttab close: our handle");
	return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
			      uint32_t ref, int prot)
{
	(void)xgt;
	if (fk.map_errno) {
		errno = fk.map_errno;
		return NULL;
	}
	for (unsigned i = 0; i < FAKE_PAGES; i++) {
		if (fk.mapped[i])
			continue;
		fk.mapped[i] = true;
		fk.prot[i] = prot;
		fk.map_dom[i] = domid;
		fk.map_ref[i] = ref;
		return fake_pages[i];
	}
	errno = ENOMEM;
	return NULL;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	(void)xgt;
	for (unsigned i = 0; i < FAKE_PAGES; i++) {
		if (fake_pages[i] == start_address && fk.mapped[i] &&
		    count == 1) {
			fk.mapped[i] = false;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	if (fk.xs_fail) {
		errno = ECONNREFUSED;
		return NULL;
	}
	return &the_xs;
}

void xs_close(struct xs_handle *xsh)
{
	TH_CHECK(xsh == &the_xs, "xs close: our handle");
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	char *v;

	(void)h;
	(void)t;
	if (strcmp(path, "domid") || !fk.domid) {
		errno = ENOENT;
		return NULL;
	}
	v = strdup(fk.domid);
	if (v && len)
		*len = (unsigned)strlen(v);
	return v;
}

static unsigned fake_live_maps(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_PAGES; i++)
		n += fk.mapped[i];
	return n;
}

static unsigned fake_bound_ports(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_PORTS; i++)
		n += fk.bound[i];
	return n;
}

/* ------------------------------------------------ 2. plat_xen.c itself */

static void test_open(void)
{
	static const struct {
		const char *name;
		int evtchn_errno, gnt_errno;
		bool xs_fail;
		const char *domid;
		int want;
		uint32_t self;
		const char *why; /* a part of it */
	} c[] = {
		{"dom0", 0, 0, false, "0", 0, 0, ""},
		{"driver domain", 0, 0, false, "7", 0, 7, ""},
		{"largest domid", 0, 0, false, "32751", 0, 32751, ""},
		{"no evtchn device", ENOENT, 0, false, "0", -ENOENT, 0,
		 "/dev/xen/evtchn"},
		/* evtchn first: it names the likelier problem */
		{"neither device", ENOENT, ENOENT, false, "0", -ENOENT, 0,
		 "/dev/xen/evtchn"},
		{"no gntdev", 0, ENOENT, false, "0", -ENOENT, 0,
		 "/dev/xen/gntdev"},
		{"no XenStore", 0, 0, true, "0", -ECONNREFUSED, 0, "XenStore"},
		/* no /proc/xen here: not dom0 either */
		{"no domid", 0, 0, false, NULL, -ENOENT, 0, "domid"},
		{"domid 07", 0, 0, false, "07", -EINVAL, 0, "domid"},
		{"domid -1", 0, 0, false, "-1", -EINVAL, 0, "domid"},
		{"reserved domid", 0, 0, false, "32752", -ERANGE, 0, "domid"},
		{"domid empty", 0, 0, false, "", -EINVAL, 0, "domid"},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		static char dummy;
		struct plat *p = (struct plat *)(void *)&dummy; /* cleared? */
		char why[256] = "";
		int rc;

		fake_reset();
		fk.open_errno = c[i].evtchn_errno;
		fk.gnt_open_errno = c[i].gnt_errno;
		fk.xs_fail = c[i].xs_fail;
		fk.domid = c[i].domid;
		rc = plat_open(&p, why, sizeof(why));
		TH_CHECK(rc == c[i].want, "open %s: %d, want %d (%s)",
			 c[i].name, rc, c[i].want, why);
		if (rc) {
			TH_CHECK(p == NULL, "open %s: *out cleared", c[i].name);
			TH_CHECK(strstr(why, c[i].why) != NULL,
				 "open %s: why \"%s\" names %s", c[i].name, why,
				 c[i].why);
			TH_CHECK(fk.pipe[0] < 0, "open %s: evtchn closed again",
				 c[i].name);
			continue;
		}
		TH_CHECK(plat_self_domid(p) == c[i].self, "open %s: domid %u",
			 c[i].name, plat_self_domid(p));
		TH_CHECK(fcntl(fk.pipe[0], F_GETFL) & O_NONBLOCK,
			 "open %s: the evtchn fd is non-blocking", c[i].name);
		plat_close(p);
	}
	TH_CHECK(!strcmp(plat_name(), "xen"), "plat_name");
}

static struct plat *open_ok(void)
{
	struct plat *p = NULL;
	char why[256];

	fake_reset();
	if (plat_open(&p, why, sizeof(why))) {
		TH_CHECK(0, "plat_open: %s", why);
		exit(th_done() | 1);
	}
	return p;
}

static void test_pending(void)
{
	struct plat *p = open_ok();
	uint32_t a = 0, b = 0, c = 0;

	TH_CHECK(plat_evtchn_bind(p, 3, 11, &a) == 0 && a == 1, "bind A: %u",
		 a);
	TH_CHECK(fk.last_remote_dom == 3 && fk.last_remote_port == 11,
		 "bind A: domain 3 port 11");
	TH_CHECK(plat_evtchn_bind(p, 4, 12, &b) == 0 && b == 2, "bind B: %u",
		 b);
	TH_CHECK(plat_evtchn_fd(p, a) == fk.pipe[0] &&
			 plat_evtchn_fd(p, b) == fk.pipe[0],
		 "one fd for both ports");
	TH_CHECK(plat_evtchn_fd(p, 9) == -1, "fd of an unbound port: -1");

	/* Both are pending after the bind.  Asking about A reads B's too,
	 * and keeps it for B. */
	TH_CHECK(plat_evtchn_pending(p, a) == 1, "A: the bind's event");
	TH_CHECK(fk.unmasks[a] == 1 && fk.unmasks[b] == 1,
		 "both read ports unmasked at once (A %u, B %u)", fk.unmasks[a],
		 fk.unmasks[b]);
	TH_CHECK(plat_evtchn_pending(p, b) == 1,
		 "B: its event, read while asking about A");
	TH_CHECK(plat_evtchn_pending(p, a) == 0, "A: nothing more");
	TH_CHECK(plat_evtchn_pending(p, b) == 0, "B: nothing more");

	/* Only B fires: A says no, B says yes. */
	fire(b);
	TH_CHECK(plat_evtchn_pending(p, a) == 0, "B fired: A says 0");
	TH_CHECK(plat_evtchn_pending(p, b) == 1, "B fired: B says 1");

	/* A fires twice before anyone asks: the kernel queued it once
	 * (masked), we say 1 once. */
	fire(a);
	fire(a);
	TH_CHECK(plat_evtchn_pending(p, a) == 1, "A twice: 1");
	TH_CHECK(plat_evtchn_pending(p, a) == 0, "A twice: then 0");

	/* A fires, is read (and unmasked) while asking about B, fires
	 * again: queued again, and the two are still one take. */
	fire(a);
	TH_CHECK(plat_evtchn_pending(p, b) == 0, "A again: B says 0");
	TH_CHECK(!fk.masked[a], "A unmasked after it was read");
	fire(a);
	TH_CHECK(plat_evtchn_pending(p, a) == 1, "A, read, A: 1");
	TH_CHECK(plat_evtchn_pending(p, a) == 0, "A, read, A: then 0");

	/* Three ports, all fire, asked in reverse order. */
	TH_CHECK(plat_evtchn_bind(p, 5, 13, &c) == 0 && c == 3, "bind C");
	TH_CHECK(plat_evtchn_pending(p, c) == 1, "C: the bind's event");
	fire(a);
	fire(b);
	fire(c);
	TH_CHECK(plat_evtchn_pending(p, c) == 1 &&
			 plat_evtchn_pending(p, b) == 1 &&
			 plat_evtchn_pending(p, a) == 1,
		 "A, B, C fired: each says 1");
	TH_CHECK(plat_evtchn_pending(p, a) == 0 &&
			 plat_evtchn_pending(p, b) == 0 &&
			 plat_evtchn_pending(p, c) == 0,
		 "then each says 0");

	/* Notify. */
	TH_CHECK(plat_evtchn_notify(p, b) == 0 && fk.notified[b] == 1,
		 "notify B");
	TH_CHECK(plat_evtchn_notify(p, 50) == -EINVAL, "notify unbound");
	TH_CHECK(plat_evtchn_pending(p, 50) == -EINVAL, "pending unbound");
	TH_CHECK(plat_evtchn_unbind(p, 50) == -EINVAL, "unbind unbound");
	TH_CHECK(plat_evtchn_pending(p, 0) == -EINVAL, "pending port 0");

	/* Unbind B with a fire of it still queued: it is read out and
	 * dropped, not unmasked (not ours), not given to the next B. */
	fire(b);
	unsigned before = fk.unmasks[b];
	TH_CHECK(plat_evtchn_unbind(p, b) == 0, "unbind B");
	TH_CHECK(fk.unmasks[b] == before, "B's stale event not unmasked");
	TH_CHECK(plat_evtchn_fd(p, b) == -1, "B's fd gone");
	TH_CHECK(plat_evtchn_notify(p, b) == -EINVAL, "notify B: unbound");
	TH_CHECK(plat_evtchn_bind(p, 6, 14, &b) == 0 && b == 2,
		 "rebind gets B's number");
	TH_CHECK(plat_evtchn_pending(p, b) == 1, "new B: its bind's event");
	TH_CHECK(plat_evtchn_pending(p, b) == 0, "new B: only that one");

	/* Failures come back as -errno. */
	fk.bind_errno = EACCES; /* XSM said no */
	TH_CHECK(plat_evtchn_bind(p, 7, 15, &c) == -EACCES, "bind denied");
	fk.bind_errno = 0;
	fk.pending_errno = EFBIG;
	TH_CHECK(plat_evtchn_pending(p, a) == -EFBIG, "ring overflow");
	fire(a);
	fk.pending_errno = EINTR; /* interrupted: tried again */
	TH_CHECK(plat_evtchn_pending(p, a) == 1, "EINTR retried");

	/* Close unbinds what is left. */
	plat_close(p);
	TH_CHECK(fake_bound_ports() == 0, "close unbinds every port");
}

static void test_bind_limit(void)
{
	struct plat *p = open_ok();
	uint32_t port;
	int rc = 0;
	unsigned n = 0;

	while (!rc && n < PLAT_XEN_PORTS_MAX + 1) {
		rc = plat_evtchn_bind(p, 1, 1, &port);
		n += !rc;
	}
	TH_CHECK(rc == -ENOSPC && n == PLAT_XEN_PORTS_MAX,
		 "bind limit: %u ports, then %d", n, rc);
	TH_CHECK(fake_bound_ports() == PLAT_XEN_PORTS_MAX,
		 "nothing bound beyond the table");
	plat_close(p);
	TH_CHECK(fake_bound_ports() == 0, "close unbinds them all");
}

static void test_grants(void)
{
	struct plat *p = open_ok();
	struct plat_map m, r, forged;

	TH_CHECK(plat_gnt_map(p, 3, 8, true, &m) == 0 && m.addr, "map RW");
	TH_CHECK(fk.prot[0] == (PROT_READ | PROT_WRITE), "RW: prot %d",
		 fk.prot[0]);
	TH_CHECK(fk.map_dom[0] == 3 && fk.map_ref[0] == 8 && m.domid == 3 &&
			 m.gref == 8 && m.writable,
		 "map RW: domain 3 ref 8");
	TH_CHECK(plat_gnt_map(p, 3, 9, false, &r) == 0 && r.addr &&
			 r.addr != m.addr,
		 "map RO");
	TH_CHECK(fk.prot[1] == PROT_READ && !r.writable, "RO: prot %d",
		 fk.prot[1]);

	forged = m;
	forged.addr = (volatile char *)m.addr + 4096;
	TH_CHECK(plat_gnt_unmap(p, &forged) == -EINVAL, "unmap forged addr");
	forged = m;
	forged.handle = 63;
	TH_CHECK(plat_gnt_unmap(p, &forged) == -EINVAL, "unmap wrong handle");
	forged.handle = 1u << 20;
	TH_CHECK(plat_gnt_unmap(p, &forged) == -EINVAL, "unmap huge handle");
	TH_CHECK(plat_gnt_unmap(p, &m) == 0 && !m.addr, "unmap RW");
	TH_CHECK(plat_gnt_unmap(p, &m) == -EINVAL, "unmap twice");
	TH_CHECK(fake_live_maps() == 1, "one mapping left");

	fk.map_errno = EACCES; /* XSM said no, or a bad gref */
	TH_CHECK(plat_gnt_map(p, 3, 10, true, &m) == -EACCES && !m.addr,
		 "map denied");
	fk.map_errno = 0;

	/* The table bounds live mappings. */
	int rc = 0;
	unsigned n = 1;

	while (!rc && n < 70) {
		struct plat_map x;

		rc = plat_gnt_map(p, 3, 100 + n, true, &x);
		n += !rc;
	}
	TH_CHECK(rc == -ENOSPC && n == 64, "64 mappings, then -ENOSPC (%u)", n);
	plat_close(p);
	TH_CHECK(fake_live_maps() == 0, "close unmaps every page");
}

static void test_rest(void)
{
	struct plat *p = open_ok();

	TH_CHECK(plat_fd(p) == -1 && plat_process(p) == 0,
		 "no platform channel on xen");
	TH_CHECK(plat_device_connect(p, 3, PLAT_DEV_VTPM, "vtpm:x") == 0 &&
			 plat_device_disconnect(p, 3, PLAT_DEV_VTPM,
						"vtpm:x") == 0,
		 "device connect/disconnect: 0 (no such check in Xen)");
	plat_close(p);
	plat_close(NULL);
}

int main(void)
{
	test_ports_table();
	test_open();
	test_pending();
	test_bind_limit();
	test_grants();
	test_rest();
	return th_done();
}
