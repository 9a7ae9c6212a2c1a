/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plat_xen.c - plat.h on a real Xen host: libxenevtchn (/dev/xen/evtchn)
 * and libxengnttab (/dev/xen/gntdev), from Debian's libxen-dev.  The
 * process is a backend in dom0 (or a driver domain); XenStore is plain
 * libxenstore, as on the sim.
 *
 * What differs from the sim, and what callers must know:
 *
 *  - One event-channel handle, one fd, for every port.  Reading it yields
 *    the number of a port that fired, which the kernel then keeps masked
 *    until we unmask it.  So plat_evtchn_pending(p, A) drains the fd,
 *    records each port read (plat_xen_ports.h), unmasks it, and answers
 *    for A alone; a fire of B read meanwhile waits in the table for
 *    plat_evtchn_pending(p, B).  A caller with several ports must, once
 *    the fd was readable, ask about every port before polling again: the
 *    fd no longer shows a fire that is already in the table.
 *    Unmasking right after recording loses nothing: a later notification
 *    queues the port again, and the table coalesces as Xen's pending bit
 *    does.
 *  - A peer closing its end is invisible to us (Xen turns our end into
 *    an unbound port and sends nothing), so plat_evtchn_pending never says
 *    -ENOTCONN here: a backend learns that the frontend went away from
 *    XenStore (its state, or its directory removed by the toolstack).
 *  - Binding an interdomain channel leaves our end pending (Xen does it so
 *    that no notification sent before the bind is lost): expect one
 *    wakeup that finds nothing.
 *  - No device-connect check exists in Xen, so plat_device_connect and
 *    plat_device_disconnect return 0.  The grant map and the event channel
 *    bind are still mediated, by XSM (FLASK, or our ACM module) in the
 *    hypervisor; a denial comes back as -EACCES or -EPERM from them.
 *  - No platform channel of our own: plat_fd is -1, plat_process 0.
 *
 * Single-threaded, like every user of plat.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "hypervisor/plat/plat.h"
#include "hypervisor/plat/plat_xen_ports.h"

/* Grant mappings alive at once: one ring page per frontend served. */
#define PLAT_XEN_MAPS_MAX 64u
/* Xen's DOMID_FIRST_RESERVED is 0x7ff0. */
#define PLAT_XEN_DOMID_MAX 0x7fefu

struct plat {
	xenevtchn_handle *xce; /* owned; one for every port */
	xengnttab_handle *xgt; /* owned */
	int evfd;	       /* xce's fd, O_NONBLOCK; not ours to close */
	uint32_t self;
	struct plat_xen_ports ports;
	/* Our live mappings by handle, NULL when free: an unmap must name
	 * a mapping we made, at the address we returned. */
	void *maps[PLAT_XEN_MAPS_MAX];
};

const char *plat_name(void)
{
	return "xen";
}

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* -------------------------------------------------------- our domid */

/* Strict decimal, as every number from XenStore is read: digits only,
 * no leading zero, no sign, <= PLAT_XEN_DOMID_MAX. */
static int parse_domid(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > PLAT_XEN_DOMID_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Whether this is the initial domain (dom0): the kernel says so. */
static bool initial_domain(void)
{
	char buf[128];
	ssize_t n;
	int fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "control_d") != NULL;
}

/* Our domid from XenStore's relative `domid` (the toolstack writes it for
 * every domain, xen-init-dom0 for dom0).  A dom0 whose init did not write
 * it is still dom0: the kernel's capabilities say so. */
static int read_self(uint32_t *out, char *why, unsigned why_len)
{
	struct xs_handle *xs;
	unsigned len = 0;
	char *v;
	int rc;

	xs = xs_open(0);
	if (!xs) {
		rc = neg_errno();
		snprintf(why, why_len,
			 "XenStore (xenstored's socket or "
			 "/dev/xen/xenbus): %s",
			 strerror(-rc));
		return rc;
	}
	v = xs_read(xs, XBT_NULL, "domid", &len);
	if (!v) {
		rc = neg_errno();
		if (rc == -ENOENT && initial_domain()) {
			*out = 0;
			rc = 0;
		} else {
			snprintf(why, why_len, "reading XenStore's domid: %s",
				 strerror(-rc));
		}
		goto out;
	}
	rc = strlen(v) == len ? parse_domid(v, out) : -EINVAL;
	if (rc)
		snprintf(why, why_len,
			 "XenStore's domid is not a domain id (0..%u)",
			 PLAT_XEN_DOMID_MAX);
	free(v);
out:
	xs_close(xs);
	return rc;
}

/* ------------------------------------------------------- open, close */

int plat_open(struct plat **out, char *why, unsigned why_len)
{
	struct plat *p;
	int rc, fl;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	p->evfd = -1;
	plat_xen_ports_init(&p->ports);

	p->xce = xenevtchn_open(NULL, 0);
	if (!p->xce) {
		rc = neg_errno();
		snprintf(why, why_len,
			 "event channels (/dev/xen/evtchn; not a Xen domain, "
			 "or module xen-evtchn not loaded): %s",
			 strerror(-rc));
		goto fail;
	}
	p->evfd = xenevtchn_fd(p->xce);
	/* plat_evtchn_pending drains without polling first. */
	fl = p->evfd < 0 ? -1 : fcntl(p->evfd, F_GETFL);
	if (fl < 0 || fcntl(p->evfd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = neg_errno();
		snprintf(why, why_len, "event channel fd: %s", strerror(-rc));
		goto fail;
	}
	p->xgt = xengnttab_open(NULL, 0);
	if (!p->xgt) {
		rc = neg_errno();
		snprintf(why, why_len,
			 "grant maps (/dev/xen/gntdev; module xen-gntdev "
			 "not loaded?): %s",
			 strerror(-rc));
		goto fail;
	}
	rc = read_self(&p->self, why, why_len);
	if (rc)
		goto fail;
	*out = p;
	return 0;
fail:
	plat_close(p);
	return rc;
}

void plat_close(struct plat *p)
{
	if (!p)
		return;
	for (uint32_t h = 0; h < PLAT_XEN_MAPS_MAX; h++) {
		if (p->maps[h])
			xengnttab_unmap(p->xgt, p->maps[h], 1);
	}
	while (p->ports.n) {
		uint32_t port = p->ports.e[0].port;

		xenevtchn_unbind(p->xce, port);
		plat_xen_ports_remove(&p->ports, port);
	}
	if (p->xgt)
		xengnttab_close(p->xgt);
	if (p->xce)
		xenevtchn_close(p->xce);
	free(p);
}

uint32_t plat_self_domid(const struct plat *p)
{
	return p->self;
}

/* ------------------------------------------------------ event channels */

/* Reads every port the kernel has queued, records it and unmasks it.
 * 0 when the fd is empty, or -errno. */
static int drain(struct plat *p)
{
	for (;;) {
		xenevtchn_port_or_error_t port = xenevtchn_pending(p->xce);

		if (port < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			/* EFBIG: the kernel's ring overflowed.  It holds a
			 * port per bound channel and each is queued once
			 * until unmasked, so this is a bug somewhere. */
			return neg_errno();
		}
		/* A stale port (unbound since) stays as it is: it is no
		 * longer ours to unmask. */
		if (plat_xen_ports_note(&p->ports, (uint32_t)port) &&
		    xenevtchn_unmask(p->xce, (evtchn_port_t)port) < 0)
			return neg_errno();
	}
}

int plat_evtchn_bind(struct plat *p, uint32_t remote_dom, uint32_t remote_port,
		     uint32_t *local)
{
	xenevtchn_port_or_error_t port;
	int rc;

	if (p->ports.n >= PLAT_XEN_PORTS_MAX)
		return -ENOSPC;
	port = xenevtchn_bind_interdomain(p->xce, remote_dom,
					  (evtchn_port_t)remote_port);
	if (port < 0)
		return neg_errno();
	rc = plat_xen_ports_add(&p->ports, (uint32_t)port);
	if (rc) {
		/* The kernel gave us a port we think is bound: a bug in the
		 * bookkeeping.  Do not keep what we cannot account for. */
		xenevtchn_unbind(p->xce, (evtchn_port_t)port);
		return rc == -EEXIST ? -EIO : rc;
	}
	*local = (uint32_t)port;
	return 0;
}

int plat_evtchn_unbind(struct plat *p, uint32_t local)
{
	int rc = 0;

	if (!plat_xen_ports_has(&p->ports, local))
		return -EINVAL;
	if (xenevtchn_unbind(p->xce, (evtchn_port_t)local) < 0)
		rc = neg_errno();
	/* Either way the port is no longer ours to use. */
	plat_xen_ports_remove(&p->ports, local);
	/* Whatever the kernel queued for it is stale now: read it out, so
	 * a later bind that gets the same number starts clean. */
	drain(p);
	return rc;
}

int plat_evtchn_notify(struct plat *p, uint32_t local)
{
	if (!plat_xen_ports_has(&p->ports, local))
		return -EINVAL;
	if (xenevtchn_notify(p->xce, (evtchn_port_t)local) < 0)
		return neg_errno();
	return 0;
}

int plat_evtchn_fd(const struct plat *p, uint32_t local)
{
	if (!plat_xen_ports_has(&p->ports, local))
		return -1;
	return p->evfd;
}

int plat_evtchn_pending(struct plat *p, uint32_t local)
{
	int rc;

	if (!plat_xen_ports_has(&p->ports, local))
		return -EINVAL;
	rc = drain(p);
	if (rc)
		return rc;
	return plat_xen_ports_take(&p->ports, local);
}

/* -------------------------------------------------------------- grants */

int plat_gnt_map(struct plat *p, uint32_t domid, uint32_t gref, bool writable,
		 struct plat_map *m)
{
	uint32_t h;
	void *addr;

	memset(m, 0, sizeof(*m));
	for (h = 0; h < PLAT_XEN_MAPS_MAX && p->maps[h]; h++)
		;
	if (h == PLAT_XEN_MAPS_MAX)
		return -ENOSPC;
	addr = xengnttab_map_grant_ref(p->xgt, domid, gref,
				       writable ? PROT_READ | PROT_WRITE
						: PROT_READ);
	if (!addr)
		return neg_errno();
	p->maps[h] = addr;
	m->addr = addr;
	m->domid = domid;
	m->gref = gref;
	m->writable = writable;
	m->handle = h;
	return 0;
}

int plat_gnt_unmap(struct plat *p, struct plat_map *m)
{
	uint64_t h = m->handle;

	if (!m->addr || h >= PLAT_XEN_MAPS_MAX || p->maps[h] != m->addr)
		return -EINVAL;
	/* On failure the mapping stays ours: plat_close tries again. */
	if (xengnttab_unmap(p->xgt, p->maps[h], 1) < 0)
		return neg_errno();
	p->maps[h] = NULL;
	m->addr = NULL;
	return 0;
}

/* ----------------------------------------------------------- devices */

int plat_device_connect(struct plat *p, uint32_t frontend, uint32_t cls,
			const char *resource)
{
	(void)p;
	(void)frontend;
	(void)cls;
	(void)resource;
	return 0;
}

int plat_device_disconnect(struct plat *p, uint32_t frontend, uint32_t cls,
			   const char *resource)
{
	(void)p;
	(void)frontend;
	(void)cls;
	(void)resource;
	return 0;
}

/* ----------------------------------------------------------- the channel */

int plat_fd(const struct plat *p)
{
	(void)p;
	return -1;
}

int plat_process(struct plat *p)
{
	(void)p;
	return 0;
}

/* ----------------------------------------------------- frontend side */

/* On Xen the vTPM manager link would be a grant and a channel made with
 * libxengnttab's gntshr and an unbound port; until that is written,
 * instances on Xen keep the file store (hvsec-vtpmd refuses --manager). */
struct plat_front {
	int unused;
};

int plat_front_connect(struct plat *p, struct xs_handle *xs, uint32_t devid,
		       int timeout_ms, struct plat_front **out, char *why,
		       unsigned why_len)
{
	(void)p;
	(void)xs;
	(void)devid;
	(void)timeout_ms;
	*out = NULL;
	snprintf(why, why_len,
		 "a vTPM manager link is not implemented on platform xen");
	return -EOPNOTSUPP;
}

int plat_front_transmit(struct plat_front *f, const uint8_t *req,
			unsigned req_len, uint8_t *rsp, unsigned rsp_cap,
			unsigned *rsp_len, int timeout_ms)
{
	(void)f;
	(void)req;
	(void)req_len;
	(void)rsp;
	(void)rsp_cap;
	(void)timeout_ms;
	*rsp_len = 0;
	return -EOPNOTSUPP;
}

uint32_t plat_front_backend_id(const struct plat_front *f)
{
	(void)f;
	return UINT32_MAX;
}

void plat_front_close(struct plat_front *f)
{
	(void)f;
}
