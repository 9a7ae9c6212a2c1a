/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvguest.h - libhvguest, the guest side of the hvsec hypervisor model.
 *
 * A guest program started by hvsecd finds its private hypercall channel
 * in HVSEC_HC_FD and XenStore at XENSTORED_PATH.  This library wraps the
 * hypercalls (hypervisor/hv_proto.h) as calls that return 0 or a negative
 * Xen errno (-EACCES when the policy denies), keeps the guest's view of
 * its event channels and mappings, and handles the daemon's notices
 * (a peer bound or closed a channel, a page was transferred, a mapping
 * lost its grant) whenever it talks to the daemon or waits.
 *
 *   struct hvg *g;  hvg_open(&g);
 *   hvg_evtchn_alloc_unbound(g, peer, &port);   publish port in XenStore
 *   hvg_evtchn_wait(g, port, 1000);             peer bound and notified
 *   hvg_evtchn_send(g, port);                   one write(2), no daemon
 *
 * XenStore goes through the real libxenstore (link -lxenstore): hvg_xs_*
 * are small conveniences over xs_open/xs_read/xs_write.
 *
 * Single-threaded: one struct hvg per process, used from one thread.
 */
#ifndef HVSEC_HVGUEST_H
#define HVSEC_HVGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/hv_proto.h"

struct hvg;
struct xs_handle;

#define HVG_TIMEOUT_MS 10000 /* longest wait for a reply from the daemon */

/* Connects to the channel in $HVSEC_HC_FD (0 or -errno) and learns who
 * this domain is (whoami). */
int hvg_open(struct hvg **out);
/* The same on an explicit fd (taken over; closed by hvg_close). */
int hvg_open_fd(int fd, struct hvg **out);
void hvg_close(struct hvg *g);

/* Who the daemon says this domain is (cached at open). */
const struct hv_rep_whoami *hvg_self(const struct hvg *g);
uint32_t hvg_domid(const struct hvg *g);
/* The channel's fd, to poll for notices in the guest's own loop; then
 * call hvg_process_notices. */
int hvg_fd(const struct hvg *g);
/* Handles every notice already received, without blocking.  0/-errno. */
int hvg_process_notices(struct hvg *g);

/* Raw hypercall: op, body; reply body copied to rep (rep_len bytes at
 * most), fds received returned in fds (caller closes).  Returns the Xen
 * errno of the reply, or -ETIMEDOUT/-EPIPE/-EPROTO for the transport. */
int hvg_call(struct hvg *g, uint32_t op, const void *body, size_t len,
	     const int *fds, unsigned nfds, void *rep, size_t rep_len,
	     int *rfds, unsigned *nrfds);

/* ---- Event channels */
int hvg_evtchn_alloc_unbound(struct hvg *g, uint32_t remote_dom,
			     uint32_t *port);
int hvg_evtchn_bind(struct hvg *g, uint32_t remote_dom, uint32_t remote_port,
		    uint32_t *port);
/* Notifies the peer: a write on the send fd, or a hypercall when send is
 * mediated.  -ENOTCONN if the port is not bound. */
int hvg_evtchn_send(struct hvg *g, uint32_t port);
/* Waits up to timeout_ms (-1: forever) for a notification on `port` and
 * consumes it.  0 notified, -ETIMEDOUT, -ENOTCONN when the channel was
 * closed by the peer (the port is then unbound again, as in Xen). */
int hvg_evtchn_wait(struct hvg *g, uint32_t port, int timeout_ms);
int hvg_evtchn_close(struct hvg *g, uint32_t port);
int hvg_evtchn_status(struct hvg *g, uint32_t port,
		      struct hv_rep_evtchn_status *st);
/* The wait fd of a bound port (readable when notified), or -1. */
int hvg_evtchn_fd(const struct hvg *g, uint32_t port);

/* ---- Grants */
/* Every page libhvguest maps (its own or a foreign one) sits between two
 * inaccessible guard pages: an access one byte outside faults. */
struct hvg_page {
	void *addr; /* HV_PAGE_SIZE bytes, read-write */
	int fd;     /* the page's memfd */
};
/* A new zeroed page this domain owns. */
int hvg_page_alloc(struct hvg_page *pg);
void hvg_page_free(struct hvg_page *pg);
int hvg_grant(struct hvg *g, const struct hvg_page *pg, uint32_t domid,
	      bool readonly, uint32_t *gref);
int hvg_grant_end(struct hvg *g, uint32_t gref);

struct hvg_mapping {
	void *addr;     /* PROT_READ, or PROT_READ|PROT_WRITE */
	uint32_t handle;
	uint32_t domid, gref;
	bool readonly;
};
int hvg_map(struct hvg *g, uint32_t domid, uint32_t gref, bool readonly,
	    struct hvg_mapping *m);
int hvg_unmap(struct hvg *g, struct hvg_mapping *m);
/* Did the granter's entry go away while this mapping stays (orphaned)? */
bool hvg_map_orphaned(const struct hvg *g, uint32_t handle);
int hvg_copy(struct hvg *g, const struct hv_gnt_seg *src,
	     const struct hv_gnt_seg *dst, uint32_t len);
int hvg_transfer(struct hvg *g, uint32_t domid, const struct hvg_page *pg);
/* Takes a page transferred to this domain (waits up to timeout_ms). */
int hvg_take_transfer(struct hvg *g, uint32_t *from, struct hvg_page *pg,
		      int timeout_ms);

/* ---- Devices (a backend's side): tells the hypervisor that this domain
 * connects `resource` (canonical, as hv_proto.h says; class enum
 * hv_dev_class) to domain `frontend`.  resource_use decides when the
 * resource has a label (-EACCES, audited); the connection then counts as
 * a resource in use until disconnected or either domain dies.  -EINVAL
 * (a name that does not fit or is not canonical, the frontend is this
 * domain), -ESRCH (no live frontend), -EEXIST (already connected),
 * -ENOSPC (HV_DEV_PER_DOM reached on either side), -ENOENT (disconnect
 * of what this domain did not connect). */
int hvg_device_connect(struct hvg *g, uint32_t frontend, uint32_t cls,
		       const char *resource);
int hvg_device_disconnect(struct hvg *g, uint32_t frontend, uint32_t cls,
			  const char *resource);

/* ---- Life cycle and console */
/* SCHEDOP_shutdown: the daemon stops the domain after answering. */
int hvg_shutdown(struct hvg *g, uint32_t reason);
/* A line on the console (stdout, which the daemon logs), flushed. */
void hvg_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- XenStore through libxenstore */
struct xs_handle *hvg_xs_open(void);
void hvg_xs_close(struct xs_handle *xs);
/* 0 or -errno. */
int hvg_xs_write(struct xs_handle *xs, const char *path, const char *val);
/* Reads into buf (NUL-terminated).  0 or -errno. */
int hvg_xs_read(struct xs_handle *xs, const char *path, char *buf,
		size_t len);
/* Waits for `path` to exist (a watch) up to timeout_ms, then reads it. */
int hvg_xs_wait_read(struct xs_handle *xs, const char *path, char *buf,
		     size_t len, int timeout_ms);

const char *hvg_strerror(int err); /* "EACCES (permission denied)" */

#endif /* HVSEC_HVGUEST_H */
