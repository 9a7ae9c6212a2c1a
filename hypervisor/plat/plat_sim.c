/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plat_sim.c - plat.h on the hvsecd model: this process is a (stub)
 * domain started by hvsecd, and every call is one of libhvguest's.
 *
 * Thin on purpose: the model already gives Xen's semantics and errnos.
 * What this file adds is the bookkeeping plat.h promises and libhvguest
 * does not keep (what to undo at plat_close), and the one difference in
 * shape: plat_evtchn_pending consumes a notification without blocking,
 * where hvg_evtchn_wait would block.
 *
 * Never cache a port's wait fd: libhvguest closes it when a notice says
 * the peer closed the channel, and that can happen inside any hypercall.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/guest/hvguest.h"
#include "hypervisor/plat/plat.h"
#include "vtpm-instance/front/vtpmfront.h"

struct plat {
	struct hvg *g;
	/* Ports we bound and have not unbound (peer-closed ones included:
	 * they still need an unbind to free our end). */
	bool bound[HV_EVTCHN_PORTS];
	/* Address of each live mapping by handle, NULL when free: an unmap
	 * must name a mapping we made, at the address we returned. */
	void *maps[HV_MAPS_PER_DOM];
	struct hvg_mapping info[HV_MAPS_PER_DOM];
};

const char *plat_name(void)
{
	return "sim";
}

int plat_open(struct plat **out, char *why, unsigned why_len)
{
	struct plat *p;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	rc = hvg_open(&p->g);
	if (rc) {
		snprintf(why, why_len,
			 "hypercall channel ($%s, given by hvsecd to its "
			 "domains): %s",
			 HV_ENV_HC_FD, hvg_strerror(rc));
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void plat_close(struct plat *p)
{
	if (!p)
		return;
	for (uint32_t h = 0; h < HV_MAPS_PER_DOM; h++) {
		if (p->maps[h])
			hvg_unmap(p->g, &p->info[h]);
	}
	for (uint32_t port = 1; port < HV_EVTCHN_PORTS; port++) {
		if (p->bound[port])
			hvg_evtchn_close(p->g, port);
	}
	hvg_close(p->g);
	free(p);
}

uint32_t plat_self_domid(const struct plat *p)
{
	return hvg_domid(p->g);
}

/* ------------------------------------------------------ event channels */

static bool port_ok(uint32_t port)
{
	return port > 0 && port < HV_EVTCHN_PORTS;
}

int plat_evtchn_bind(struct plat *p, uint32_t remote_dom, uint32_t remote_port,
		     uint32_t *local)
{
	int rc, fd, fl;

	rc = hvg_evtchn_bind(p->g, remote_dom, remote_port, local);
	if (rc)
		return rc;
	p->bound[*local] = true;
	/* plat_evtchn_pending reads without polling first: a blocking
	 * eventfd would hang there.  hvsecd makes them non-blocking; make
	 * sure rather than trust it. */
	fd = hvg_evtchn_fd(p->g, *local);
	if (fd >= 0) {
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK))
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
	return 0;
}

int plat_evtchn_unbind(struct plat *p, uint32_t local)
{
	int rc;

	if (!port_ok(local) || !p->bound[local])
		return -EINVAL;
	rc = hvg_evtchn_close(p->g, local);
	/* Either way the port is no longer ours to use. */
	p->bound[local] = false;
	return rc;
}

int plat_evtchn_notify(struct plat *p, uint32_t local)
{
	if (!port_ok(local) || !p->bound[local])
		return -EINVAL;
	return hvg_evtchn_send(p->g, local);
}

int plat_evtchn_fd(const struct plat *p, uint32_t local)
{
	if (!port_ok(local) || !p->bound[local])
		return -1;
	return hvg_evtchn_fd(p->g, local);
}

int plat_evtchn_pending(struct plat *p, uint32_t local)
{
	uint64_t v;
	ssize_t n;
	int fd;

	if (!port_ok(local) || !p->bound[local])
		return -EINVAL;
	/* libhvguest drops the wait fd when the peer's close is noticed. */
	fd = hvg_evtchn_fd(p->g, local);
	if (fd < 0)
		return -ENOTCONN;
	/* One read takes every notification since the last: Xen's pending
	 * bit, which also coalesces. */
	n = read(fd, &v, sizeof(v));
	if (n == (ssize_t)sizeof(v))
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* -------------------------------------------------------------- grants */

int plat_gnt_map(struct plat *p, uint32_t domid, uint32_t gref, bool writable,
		 struct plat_map *m)
{
	struct hvg_mapping hm;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = hvg_map(p->g, domid, gref, !writable, &hm);
	if (rc)
		return rc;
	/* hvg_map bounds the handle by HV_MAPS_PER_DOM. */
	p->maps[hm.handle] = hm.addr;
	p->info[hm.handle] = hm;
	m->addr = hm.addr;
	m->domid = domid;
	m->gref = gref;
	m->writable = writable;
	m->handle = hm.handle;
	return 0;
}

int plat_gnt_unmap(struct plat *p, struct plat_map *m)
{
	uint64_t h = m->handle;
	int rc;

	if (!m->addr || h >= HV_MAPS_PER_DOM || p->maps[h] != m->addr)
		return -EINVAL;
	rc = hvg_unmap(p->g, &p->info[h]);
	p->maps[h] = NULL;
	memset(&p->info[h], 0, sizeof(p->info[h]));
	m->addr = NULL;
	return rc;
}

/* ----------------------------------------------------------- the channel */

int plat_fd(const struct plat *p)
{
	return hvg_fd(p->g);
}

int plat_process(struct plat *p)
{
	return hvg_process_notices(p->g);
}

/* ----------------------------------------------------------- devices */

static_assert(PLAT_DEV_NAME_MAX == HV_DEV_NAME_LEN, "device name bound");

int plat_device_connect(struct plat *p, uint32_t frontend, uint32_t cls,
			const char *resource)
{
	return hvg_device_connect(p->g, frontend, cls, resource);
}

int plat_device_disconnect(struct plat *p, uint32_t frontend, uint32_t cls,
			   const char *resource)
{
	return hvg_device_disconnect(p->g, frontend, cls, resource);
}

/* ----------------------------------------------------- frontend side */

/* libvtpmfront is what the model's guests use; a stub domain is a guest
 * of the model like any other, so the same code serves it. */
struct plat_front {
	struct vtpmfront *f;
};

int plat_front_connect(struct plat *p, struct xs_handle *xs, uint32_t devid,
		       int timeout_ms, struct plat_front **out, char *why,
		       unsigned why_len)
{
	struct plat_front *pf = calloc(1, sizeof(*pf));
	int rc;

	*out = NULL;
	if (!pf) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	rc = vtpmfront_connect(p->g, xs, devid, timeout_ms, &pf->f, why,
			       why_len);
	if (rc) {
		free(pf);
		return rc;
	}
	*out = pf;
	return 0;
}

int plat_front_transmit(struct plat_front *f, const uint8_t *req,
			unsigned req_len, uint8_t *rsp, unsigned rsp_cap,
			unsigned *rsp_len, int timeout_ms)
{
	size_t n = 0;
	int rc;

	rc = vtpmfront_transmit(f->f, req, req_len, 0, rsp, rsp_cap, &n,
				timeout_ms);
	*rsp_len = (unsigned)n;
	return rc;
}

uint32_t plat_front_backend_id(const struct plat_front *f)
{
	return vtpmfront_backend_id(f->f);
}

void plat_front_close(struct plat_front *f)
{
	if (!f)
		return;
	vtpmfront_close(f->f);
	free(f);
}
