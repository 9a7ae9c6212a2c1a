/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvguest.c - libhvguest: hypercalls, the guest's port and mapping
 * tables, and the daemon's notices.
 *
 * Replies and notices share the channel: while waiting for a reply the
 * library handles every notice that comes first (so a BOUND notice's fds
 * are never lost), and a wait on an event channel also watches the
 * channel, so a peer's close ends the wait with -ENOTCONN.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"
#include "hypervisor/hv_sock.h"

struct hvg_port {
	uint8_t status; /* as the library knows it */
	bool mediated;
	bool closed_by_peer;
	int wait_fd, send_fd;
	uint32_t remote_dom, remote_port;
};

#define HVG_TRANSFERS_MAX 16

struct hvg {
	int fd;
	uint32_t seq;
	struct hv_rep_whoami self;
	struct hvg_port ports[HV_EVTCHN_PORTS];
	bool orphaned[HV_MAPS_PER_DOM];
	struct {
		uint32_t from;
		int fd;
	} transfers[HVG_TRANSFERS_MAX];
	unsigned n_transfers;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t l;

	if (deadline < 0)
		return -1;
	l = deadline - now_ms();
	return l > 0 ? (int)l : 0;
}

static void port_reset(struct hvg_port *p)
{
	if (p->wait_fd >= 0)
		close(p->wait_fd);
	if (p->send_fd >= 0)
		close(p->send_fd);
	memset(p, 0, sizeof(*p));
	p->wait_fd = p->send_fd = -1;
}

static void port_bound(struct hvg_port *p, const struct hv_rep_evtchn_bind *b,
		       const int *fds, unsigned nfds)
{
	port_reset(p);
	p->status = HV_EVTCHNSTAT_INTERDOMAIN;
	p->remote_dom = b->remote_dom;
	p->remote_port = b->remote_port;
	p->mediated = b->flags & HV_EVTCHN_F_SEND_MEDIATED;
	p->wait_fd = nfds > 0 ? fds[0] : -1;
	p->send_fd = nfds > 1 ? fds[1] : -1;
}

static void handle_notice(struct hvg *g, const struct hv_reply *r, int *fds,
			  unsigned nfds)
{
	switch (r->r.h.op) {
	case HV_NTF_EVTCHN_BOUND:
		if (r->u.bind.port && r->u.bind.port < HV_EVTCHN_PORTS) {
			port_bound(&g->ports[r->u.bind.port], &r->u.bind, fds,
				   nfds);
			return; /* fds taken */
		}
		break;
	case HV_NTF_EVTCHN_CLOSED:
		if (r->u.closed.port && r->u.closed.port < HV_EVTCHN_PORTS) {
			struct hvg_port *p = &g->ports[r->u.closed.port];
			uint32_t closer = p->remote_dom;

			/* Xen: our port is unbound again, offered to the
			 * domain that closed. */
			port_reset(p);
			p->status = HV_EVTCHNSTAT_UNBOUND;
			p->remote_dom = closer;
			p->closed_by_peer = true;
		}
		break;
	case HV_NTF_GNT_TRANSFER:
		if (nfds == 1 && g->n_transfers < HVG_TRANSFERS_MAX) {
			g->transfers[g->n_transfers].from = r->u.transfer.from;
			g->transfers[g->n_transfers].fd = fds[0];
			g->n_transfers++;
			return;
		}
		break;
	case HV_NTF_GNT_ORPHANED:
		if (r->u.orphaned.handle < HV_MAPS_PER_DOM)
			g->orphaned[r->u.orphaned.handle] = true;
		break;
	}
	hv_close_fds(fds, nfds);
}

/* Receives one message; notices are handled here.  Returns 1 for a reply
 * (in *r, fds in fds/nfds), 0 for a notice handled, -errno. */
static int recv_one(struct hvg *g, struct hv_reply *r, int *fds, unsigned *nfds,
		    int flags)
{
	uint8_t buf[HV_HC_MSG_MAX + 1];
	ssize_t n;

	n = hv_sock_recv(g->fd, buf, sizeof(buf), fds, HV_SOCK_FDS_MAX, nfds,
			 flags);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	if (hv_reply_parse(buf, (size_t)n, *nfds, r)) {
		hv_close_fds(fds, *nfds);
		return -EPROTO;
	}
	if (r->r.h.op & HV_NOTICE) {
		handle_notice(g, r, fds, *nfds);
		return 0;
	}
	return 1;
}

int hvg_process_notices(struct hvg *g)
{
	for (;;) {
		struct hv_reply r;
		int fds[HV_SOCK_FDS_MAX];
		unsigned nfds = 0;
		int rc = recv_one(g, &r, fds, &nfds, MSG_DONTWAIT);

		if (rc == -EAGAIN)
			return 0;
		if (rc < 0)
			return rc;
		if (rc == 1) {
			/* A reply nobody waits for: a bug or a stale one. */
			hv_close_fds(fds, nfds);
		}
	}
}

int hvg_call(struct hvg *g, uint32_t op, const void *body, size_t len,
	     const int *fds, unsigned nfds, void *rep, size_t rep_len,
	     int *rfds, unsigned *nrfds)
{
	uint8_t buf[HV_HC_MSG_MAX];
	int64_t deadline = now_ms() + HVG_TIMEOUT_MS;
	uint32_t seq = ++g->seq;
	size_t n;
	int rc;

	if (nrfds)
		*nrfds = 0;
	n = hv_request_build(buf, op, seq, body, len);
	if (!n)
		return -EINVAL;
	rc = hv_sock_send(g->fd, buf, n, fds, nfds, 0);
	if (rc)
		return rc;
	for (;;) {
		struct hv_reply r;
		int in[HV_SOCK_FDS_MAX];
		unsigned nin = 0;

		/* A blocking receive bounded by SO_RCVTIMEO (set at open):
		 * one syscall for the reply, no poll before it. */
		if (left_ms(deadline) == 0)
			return -ETIMEDOUT;
		rc = recv_one(g, &r, in, &nin, 0);
		if (rc == 0 || rc == -EINTR)
			continue;
		if (rc == -EAGAIN)
			return -ETIMEDOUT;
		if (rc < 0)
			return rc;
		if (r.r.h.seq != seq || r.r.h.op != (op | HV_REPLY)) {
			hv_close_fds(in, nin);
			continue; /* a late reply to an earlier timeout */
		}
		if (!r.r.err && rep && rep_len) {
			size_t want = hv_op_desc(op)->rep_len;

			memcpy(rep, &r.u, want < rep_len ? want : rep_len);
		}
		if (rfds && nrfds) {
			memcpy(rfds, in, nin * sizeof(int));
			*nrfds = nin;
		} else {
			hv_close_fds(in, nin);
		}
		return r.r.err;
	}
}

int hvg_open_fd(int fd, struct hvg **out)
{
	struct hvg *g = calloc(1, sizeof(*g));
	int rc;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->fd = fd;
	for (uint32_t p = 0; p < HV_EVTCHN_PORTS; p++)
		g->ports[p].wait_fd = g->ports[p].send_fd = -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	{
		struct timeval tv = {HVG_TIMEOUT_MS / 1000,
				     (HVG_TIMEOUT_MS % 1000) * 1000};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	rc = hvg_call(g, HV_OP_WHOAMI, NULL, 0, NULL, 0, &g->self,
		      sizeof(g->self), NULL, NULL);
	if (rc) {
		free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int hvg_open(struct hvg **out)
{
	const char *s = getenv(HV_ENV_HC_FD);
	char *end;
	long fd;

	*out = NULL;
	if (!s)
		return -ENOENT;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || *end || fd < 0 || fd > 65535)
		return -EINVAL;
	return hvg_open_fd((int)fd, out);
}

void hvg_close(struct hvg *g)
{
	if (!g)
		return;
	for (uint32_t p = 0; p < HV_EVTCHN_PORTS; p++)
		port_reset(&g->ports[p]);
	for (unsigned i = 0; i < g->n_transfers; i++)
		close(g->transfers[i].fd);
	close(g->fd);
	free(g);
}

const struct hv_rep_whoami *hvg_self(const struct hvg *g)
{
	return &g->self;
}

uint32_t hvg_domid(const struct hvg *g)
{
	return g->self.domid;
}

int hvg_fd(const struct hvg *g)
{
	return g->fd;
}

/* ------------------------------------------------------------------ */

static struct hvg_port *port_of(struct hvg *g, uint32_t port)
{
	if (port == 0 || port >= HV_EVTCHN_PORTS)
		return NULL;
	return &g->ports[port];
}

int hvg_evtchn_alloc_unbound(struct hvg *g, uint32_t remote_dom, uint32_t *port)
{
	struct hv_req_evtchn_alloc_unbound req = {remote_dom};
	struct hv_rep_evtchn_alloc_unbound rep;
	int rc;

	rc = hvg_call(g, HV_OP_EVTCHN_ALLOC_UNBOUND, &req, sizeof(req), NULL, 0,
		      &rep, sizeof(rep), NULL, NULL);
	if (rc)
		return rc;
	port_reset(&g->ports[rep.port]);
	g->ports[rep.port].status = HV_EVTCHNSTAT_UNBOUND;
	g->ports[rep.port].remote_dom = remote_dom;
	*port = rep.port;
	return 0;
}

int hvg_evtchn_bind(struct hvg *g, uint32_t remote_dom, uint32_t remote_port,
		    uint32_t *port)
{
	struct hv_req_evtchn_bind req = {remote_dom, remote_port};
	struct hv_rep_evtchn_bind rep;
	int fds[HV_SOCK_FDS_MAX];
	unsigned nfds = 0;
	int rc;

	rc = hvg_call(g, HV_OP_EVTCHN_BIND_INTERDOMAIN, &req, sizeof(req), NULL,
		      0, &rep, sizeof(rep), fds, &nfds);
	if (rc)
		return rc;
	if (rep.port == 0 || rep.port >= HV_EVTCHN_PORTS) {
		hv_close_fds(fds, nfds);
		return -EPROTO;
	}
	port_bound(&g->ports[rep.port], &rep, fds, nfds);
	*port = rep.port;
	return 0;
}

int hvg_evtchn_send(struct hvg *g, uint32_t port)
{
	struct hvg_port *p = port_of(g, port);
	struct hv_req_evtchn_port req = {port};
	uint64_t one = 1;

	if (!p)
		return -EINVAL;
	/* The fast path is one write(2): notices (a close by the peer) are
	 * picked up by the next wait or call, and a write to a closed
	 * peer's eventfd reaches nobody. */
	if (p->status == HV_EVTCHNSTAT_INTERDOMAIN && p->send_fd >= 0 &&
	    !p->mediated) {
		if (write(p->send_fd, &one, sizeof(one)) == sizeof(one) ||
		    errno == EAGAIN)
			return 0;
		return -errno;
	}
	if (p->status != HV_EVTCHNSTAT_INTERDOMAIN && !p->mediated &&
	    p->status != HV_EVTCHNSTAT_UNBOUND)
		return -ENOTCONN;
	/* Mediated (or not bound yet): the daemon decides. */
	return hvg_call(g, HV_OP_EVTCHN_SEND, &req, sizeof(req), NULL, 0, NULL,
			0, NULL, NULL);
}

int hvg_evtchn_wait(struct hvg *g, uint32_t port, int timeout_ms)
{
	struct hvg_port *p = port_of(g, port);
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	if (!p)
		return -EINVAL;
	for (;;) {
		struct pollfd pfd[2] = {{g->fd, POLLIN, 0}, {-1, POLLIN, 0}};
		int rc;

		if (p->closed_by_peer) {
			p->closed_by_peer = false;
			return -ENOTCONN;
		}
		if (p->status == HV_EVTCHNSTAT_CLOSED)
			return -ENOTCONN;
		pfd[1].fd = p->wait_fd; /* -1 until bound: poll ignores it */
		rc = poll(pfd, 2, left_ms(deadline));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(p->wait_fd, &v, sizeof(v)) == sizeof(v))
				return 0;
			continue; /* raced with another reader */
		}
		if (pfd[0].revents) {
			rc = hvg_process_notices(g);
			if (rc)
				return rc;
		}
	}
}

int hvg_evtchn_close(struct hvg *g, uint32_t port)
{
	struct hv_req_evtchn_port req = {port};
	int rc;

	if (!port_of(g, port))
		return -EINVAL;
	rc = hvg_call(g, HV_OP_EVTCHN_CLOSE, &req, sizeof(req), NULL, 0, NULL,
		      0, NULL, NULL);
	if (!rc)
		port_reset(&g->ports[port]);
	return rc;
}

int hvg_evtchn_status(struct hvg *g, uint32_t port,
		      struct hv_rep_evtchn_status *st)
{
	struct hv_req_evtchn_port req = {port};

	return hvg_call(g, HV_OP_EVTCHN_STATUS, &req, sizeof(req), NULL, 0, st,
			sizeof(*st), NULL, NULL);
}

int hvg_evtchn_fd(const struct hvg *g, uint32_t port)
{
	if (port == 0 || port >= HV_EVTCHN_PORTS)
		return -1;
	return g->ports[port].wait_fd;
}

/* ------------------------------------------------------------------ */

/* Every page this library maps (one of ours, one transferred to us, a
 * foreign one) sits between two inaccessible guard pages: code that runs
 * off either end of a shared page (a backend believing a length it read
 * from it) faults at once, instead of reading or corrupting whatever else
 * the process keeps next to the page.  Three pages are reserved
 * PROT_NONE, the page is mapped over the middle one, and all three go
 * together.  The guard is one host page, and the page takes whole host
 * pages, should a host page be larger than HV_PAGE_SIZE. */
static size_t host_page(void)
{
	long n = sysconf(_SC_PAGESIZE);

	return n > 0 ? (size_t)n : HV_PAGE_SIZE;
}

static size_t guarded_span(size_t guard)
{
	return (HV_PAGE_SIZE + guard - 1) / guard * guard;
}

/* Maps HV_PAGE_SIZE bytes of fd with prot between two guards.  The
 * address of the page, or NULL with errno set. */
static void *map_guarded(int fd, int prot)
{
	size_t guard = host_page(), span = guarded_span(guard);
	uint8_t *base;
	void *page;

	base = mmap(NULL, guard + span + guard, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	page = mmap(base + guard, HV_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
		    fd, 0);
	if (page == MAP_FAILED) {
		int e = errno;

		munmap(base, guard + span + guard);
		errno = e;
		return NULL;
	}
	return page;
}

/* Unmaps a page of map_guarded and both its guards. */
static void unmap_guarded(void *page)
{
	size_t guard = host_page(), span = guarded_span(guard);

	munmap((uint8_t *)page - guard, guard + span + guard);
}

int hvg_page_alloc(struct hvg_page *pg)
{
	int e;

	pg->addr = NULL;
	pg->fd = memfd_create("hvsec-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (pg->fd < 0)
		return -errno;
	if (ftruncate(pg->fd, HV_PAGE_SIZE) < 0)
		goto fail;
	pg->addr = map_guarded(pg->fd, PROT_READ | PROT_WRITE);
	if (!pg->addr)
		goto fail;
	return 0;
fail:
	e = -errno;
	close(pg->fd);
	pg->fd = -1;
	return e;
}

void hvg_page_free(struct hvg_page *pg)
{
	if (pg->addr)
		unmap_guarded(pg->addr);
	if (pg->fd >= 0)
		close(pg->fd);
	pg->addr = NULL;
	pg->fd = -1;
}

int hvg_grant(struct hvg *g, const struct hvg_page *pg, uint32_t domid,
	      bool readonly, uint32_t *gref)
{
	struct hv_req_gnt_grant req = {domid, readonly ? HV_GNT_READONLY : 0};
	struct hv_rep_gnt_grant rep;
	int rc;

	rc = hvg_call(g, HV_OP_GNT_GRANT_ACCESS, &req, sizeof(req), &pg->fd, 1,
		      &rep, sizeof(rep), NULL, NULL);
	if (!rc)
		*gref = rep.gref;
	return rc;
}

int hvg_grant_end(struct hvg *g, uint32_t gref)
{
	struct hv_req_gnt_end req = {gref};

	return hvg_call(g, HV_OP_GNT_END_ACCESS, &req, sizeof(req), NULL, 0,
			NULL, 0, NULL, NULL);
}

int hvg_map(struct hvg *g, uint32_t domid, uint32_t gref, bool readonly,
	    struct hvg_mapping *m)
{
	struct hv_req_gnt_map req = {domid, gref,
				     readonly ? HV_GNTMAP_READONLY : 0};
	struct hv_rep_gnt_map rep;
	int fds[HV_SOCK_FDS_MAX];
	unsigned nfds = 0;
	int rc, prot;

	memset(m, 0, sizeof(*m));
	rc = hvg_call(g, HV_OP_GNT_MAP, &req, sizeof(req), NULL, 0, &rep,
		      sizeof(rep), fds, &nfds);
	if (rc)
		return rc;
	if (nfds != 1 || rep.handle >= HV_MAPS_PER_DOM) {
		hv_close_fds(fds, nfds);
		return -EPROTO;
	}
	prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;
	m->addr = map_guarded(fds[0], prot);
	rc = m->addr ? 0 : -errno;
	close(fds[0]);
	if (!m->addr) {
		struct hv_req_gnt_unmap u = {rep.handle};

		hvg_call(g, HV_OP_GNT_UNMAP, &u, sizeof(u), NULL, 0, NULL, 0,
			 NULL, NULL);
		return rc;
	}
	m->handle = rep.handle;
	m->domid = domid;
	m->gref = gref;
	m->readonly = readonly;
	g->orphaned[rep.handle] = false;
	return 0;
}

int hvg_unmap(struct hvg *g, struct hvg_mapping *m)
{
	struct hv_req_gnt_unmap req = {m->handle};
	int rc;

	if (m->addr)
		unmap_guarded(m->addr);
	m->addr = NULL;
	rc = hvg_call(g, HV_OP_GNT_UNMAP, &req, sizeof(req), NULL, 0, NULL, 0,
		      NULL, NULL);
	if (m->handle < HV_MAPS_PER_DOM)
		g->orphaned[m->handle] = false;
	return rc;
}

bool hvg_map_orphaned(const struct hvg *g, uint32_t handle)
{
	return handle < HV_MAPS_PER_DOM && g->orphaned[handle];
}

int hvg_copy(struct hvg *g, const struct hv_gnt_seg *src,
	     const struct hv_gnt_seg *dst, uint32_t len)
{
	struct hv_req_gnt_copy req = {*src, *dst, len, 0};

	return hvg_call(g, HV_OP_GNT_COPY, &req, sizeof(req), NULL, 0, NULL, 0,
			NULL, NULL);
}

int hvg_transfer(struct hvg *g, uint32_t domid, const struct hvg_page *pg)
{
	struct hv_req_gnt_transfer req = {domid, 0};

	return hvg_call(g, HV_OP_GNT_TRANSFER, &req, sizeof(req), &pg->fd, 1,
			NULL, 0, NULL, NULL);
}

int hvg_take_transfer(struct hvg *g, uint32_t *from, struct hvg_page *pg,
		      int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = {g->fd, POLLIN, 0};
		int rc = hvg_process_notices(g);

		if (rc)
			return rc;
		if (g->n_transfers) {
			*from = g->transfers[0].from;
			pg->fd = g->transfers[0].fd;
			memmove(&g->transfers[0], &g->transfers[1],
				--g->n_transfers * sizeof(g->transfers[0]));
			/* Freed by hvg_page_free: guarded like our own. */
			pg->addr = map_guarded(pg->fd, PROT_READ | PROT_WRITE);
			if (!pg->addr) {
				rc = -errno;
				close(pg->fd);
				pg->fd = -1;
				pg->addr = NULL;
				return rc;
			}
			return 0;
		}
		rc = poll(&pfd, 1, left_ms(deadline));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
	}
}

static int device_call(struct hvg *g, uint32_t op, uint32_t frontend,
		       uint32_t cls, const char *resource)
{
	struct hv_req_device req;
	size_t n;

	if (!resource)
		return -EINVAL;
	n = strlen(resource);
	if (n == 0 || n >= sizeof(req.resource))
		return -EINVAL;
	/* The daemon refuses bytes after the NUL: pad with zeros. */
	memset(&req, 0, sizeof(req));
	req.frontend = frontend;
	req.cls = cls;
	memcpy(req.resource, resource, n);
	return hvg_call(g, op, &req, sizeof(req), NULL, 0, NULL, 0, NULL, NULL);
}

int hvg_device_connect(struct hvg *g, uint32_t frontend, uint32_t cls,
		       const char *resource)
{
	return device_call(g, HV_OP_DEVICE_CONNECT, frontend, cls, resource);
}

int hvg_device_disconnect(struct hvg *g, uint32_t frontend, uint32_t cls,
			  const char *resource)
{
	return device_call(g, HV_OP_DEVICE_DISCONNECT, frontend, cls, resource);
}

int hvg_shutdown(struct hvg *g, uint32_t reason)
{
	struct hv_req_shutdown req = {reason};

	return hvg_call(g, HV_OP_SCHED_SHUTDOWN, &req, sizeof(req), NULL, 0,
			NULL, 0, NULL, NULL);
}

void hvg_console(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */

struct xs_handle *hvg_xs_open(void)
{
	/* The socket only: there is no /dev/xen/xenbus in the model. */
	return xs_open(XS_OPEN_SOCKETONLY);
}

void hvg_xs_close(struct xs_handle *xs)
{
	xs_close(xs);
}

int hvg_xs_write(struct xs_handle *xs, const char *path, const char *val)
{
	if (!xs_write(xs, XBT_NULL, path, val, strlen(val)))
		return -(errno ? errno : EIO);
	return 0;
}

int hvg_xs_read(struct xs_handle *xs, const char *path, char *buf, size_t len)
{
	unsigned int n = 0;
	char *v = xs_read(xs, XBT_NULL, path, &n);

	if (!v)
		return -(errno ? errno : EIO);
	if (n >= len) {
		free(v);
		return -E2BIG;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	free(v);
	return 0;
}

int hvg_xs_wait_read(struct xs_handle *xs, const char *path, char *buf,
		     size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc;

	if (!xs_watch(xs, path, "hvg-wait"))
		return -(errno ? errno : EIO);
	for (;;) {
		struct pollfd pfd = {xs_fileno(xs), POLLIN, 0};
		char **ev;

		rc = hvg_xs_read(xs, path, buf, len);
		/* A node that does not exist yet under a parent we may not
		 * read answers EACCES (xenstored hides what exists): the
		 * writer may still grant us access, so keep waiting. */
		if (rc != -ENOENT && rc != -EACCES)
			break;
		rc = poll(&pfd, 1, left_ms(deadline));
		if (rc == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		while ((ev = xs_check_watch(xs)))
			free(ev);
	}
	xs_unwatch(xs, path, "hvg-wait");
	return rc;
}

const char *hvg_strerror(int err)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s (%s)", hv_errno_name(err),
		 strerror(err < 0 ? -err : err));
	return buf;
}
