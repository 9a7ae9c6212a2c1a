/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plat.h - the platform interface (DESIGN.md §3) for split-driver
 * backends: event channels and grant maps, whichever hypervisor provides
 * them.  XenStore is plain libxenstore on both platforms.
 *
 *   sim  (plat_sim.c)  the hvsecd model, through libhvguest: this process
 *                      is a (stub) domain started by hvsecd
 *   xen  (plat_xen.c)  a real Xen host, through libxenevtchn and
 *                      libxengnttab (real Xen tier issue)
 *
 * Nothing above this header knows which one is linked.  Every call
 * returns 0 or a negative Xen errno (-EACCES when the policy denies).
 * Single-threaded, like the rest of a backend.
 */
#ifndef HVSEC_PLAT_H
#define HVSEC_PLAT_H

#include <stdbool.h>
#include <stdint.h>

struct plat;

/* Opens the platform.  why names what failed. */
int plat_open(struct plat **out, char *why, unsigned why_len);
void plat_close(struct plat *p); /* unmaps and unbinds what is left */
const char *plat_name(void);	 /* "sim" or "xen" */

/* This domain's id. */
uint32_t plat_self_domid(const struct plat *p);

/* ---- Event channels */
/* Binds to remote_dom's unbound port; *local gets our end. */
int plat_evtchn_bind(struct plat *p, uint32_t remote_dom, uint32_t remote_port,
		     uint32_t *local);
int plat_evtchn_unbind(struct plat *p, uint32_t local);
int plat_evtchn_notify(struct plat *p, uint32_t local);
/* An fd that becomes readable when `local` (or, on xen, any port) may be
 * pending: poll it, then call plat_evtchn_pending. */
int plat_evtchn_fd(const struct plat *p, uint32_t local);
/* Consumes a pending notification of `local` without blocking: 1 if there
 * was one, 0 if not, -ENOTCONN when the peer closed the channel. */
int plat_evtchn_pending(struct plat *p, uint32_t local);

/* ---- Grants */
struct plat_map {
	volatile void *addr; /* one page */
	uint32_t domid, gref;
	bool writable;
	uint64_t handle;     /* platform's own */
};
int plat_gnt_map(struct plat *p, uint32_t domid, uint32_t gref, bool writable,
		 struct plat_map *m);
int plat_gnt_unmap(struct plat *p, struct plat_map *m);

/* ---- Devices: a backend tells the hypervisor which resource it connects
 * to which frontend, so the policy's resource_use decision is made at
 * connect (and the resource counts as in use until disconnect).  sim:
 * HV_OP_DEVICE_CONNECT (-EACCES when denied, audited); xen: Xen has no
 * such check, so 0 (the grant map and evtchn bind are still mediated).
 * cls: PLAT_DEV_DISK, PLAT_DEV_VIF, PLAT_DEV_VTPM; resource canonical
 * ("vtpm:UUID" lowercase). */
enum { PLAT_DEV_DISK = 1, PLAT_DEV_VIF = 2, PLAT_DEV_VTPM = 3 };
#define PLAT_DEV_NAME_MAX 192u /* resource name, NUL included */
int plat_device_connect(struct plat *p, uint32_t frontend, uint32_t cls,
			const char *resource);
int plat_device_disconnect(struct plat *p, uint32_t frontend, uint32_t cls,
			   const char *resource);

/* ---- Housekeeping of the platform's own channel (sim: the daemon's
 * notices: a peer closed a channel, a grant was revoked).  An fd to poll
 * (or -1), and the call to make when it is readable. */
int plat_fd(const struct plat *p);
int plat_process(struct plat *p);

/* ---- Frontend side: this domain as the tpmif v2 *frontend* of another
 * (hvsec-vtpmd's link to the vTPM manager domain, which is a backend of
 * every instance, as Xen's vtpmmgr is of its vtpm stubdoms).  The
 * toolstack wrote /local/domain/SELF/device/vtpm/DEVID.  sim: libvtpmfront
 * over this platform's hypercall channel (what a guest of the model
 * uses); xen: -EOPNOTSUPP (dom0's vtpmd keeps the file store).
 * transmit: one request, one response, -errno as vtpmfront_transmit
 * (-ENOTCONN the backend went away, -ETIMEDOUT). */
struct plat_front;
struct xs_handle;
int plat_front_connect(struct plat *p, struct xs_handle *xs, uint32_t devid,
		       int timeout_ms, struct plat_front **out, char *why,
		       unsigned why_len);
int plat_front_transmit(struct plat_front *f, const uint8_t *req,
			unsigned req_len, uint8_t *rsp, unsigned rsp_cap,
			unsigned *rsp_len, int timeout_ms);
uint32_t plat_front_backend_id(const struct plat_front *f);
void plat_front_close(struct plat_front *f); /* Closing, Closed, freed */

#endif /* HVSEC_PLAT_H */
