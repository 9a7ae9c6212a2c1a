/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_hcall.c - a guest's hypercall channel: read one datagram, parse it
 * (hv_proto.c, the one parser), dispatch, answer with a Xen errno.
 *
 * The channel is the guest's identity: the domain is the one this socket
 * was created for, whatever the message says.  Malformed messages are
 * answered -EINVAL (or -ENOSYS) and counted; HV_HC_MAX_VIOLATIONS of them
 * make the domain crashed.  Nothing a guest sends can stop the daemon: the
 * socket is non-blocking both ways and fds that come with a bad message
 * are closed.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/hv_sock.h"
#include "hypervisor/hvd.h"

int hvd_hc_notify(struct hvd *d, struct hvd_domain *dom, uint32_t op,
		  const void *body, size_t len, const int *fds, unsigned nfds)
{
	uint8_t buf[HV_HC_MSG_MAX];
	size_t n;

	(void)d;
	if (dom->hc_fd < 0 || !hvd_domain_running(dom))
		return -ENOTCONN;
	n = hv_reply_build(buf, op, 0, 0, nfds, body, len);
	if (!n)
		return -EINVAL;
	return hv_sock_send(dom->hc_fd, buf, n, fds, nfds, MSG_DONTWAIT);
}

static void violation(struct hvd *d, struct hvd_domain *dom, const char *what)
{
	if (++dom->violations == HV_HC_MAX_VIOLATIONS) {
		hvd_log("domain %u: %u protocol violations (last: %s): "
			"treated as crashed",
			dom->domid, dom->violations, what);
		dom->shutdown_req = HV_SHUTDOWN_CRASH + 1;
		hvd_kill_guest(d, dom, SIGKILL);
	}
}

static void whoami(struct hvd *d, struct hvd_domain *dom,
		   struct hv_rep_whoami *w)
{
	memset(w, 0, sizeof(*w));
	w->domid = dom->domid;
	w->ssidref = hvd_label_ssidref(d, dom->row);
	w->max_pages = dom->max_pages;
	w->flags = (d->mediate_send ? HV_WHOAMI_F_SEND_MEDIATED : 0) |
		   (hooks_get_mode(d->hooks) == HOOKS_PERMISSIVE
			    ? HV_WHOAMI_F_PERMISSIVE
			    : 0);
	memcpy(w->uuid, dom->uuid, HV_UUID_LEN);
	memcpy(w->name, dom->name, HV_NAME_LEN - 1);
	if (dom->label[0])
		memcpy(w->label, dom->label, HV_NAME_LEN - 1);
	else
		memcpy(w->label, ACM_UNLABELED, sizeof(ACM_UNLABELED));
}

/* Runs one parsed request.  `in_fd` is consumed.  Reply body and fds to
 * send go into the out parameters; fds in out_fds marked in `close_mask`
 * are the daemon's temporaries, closed after sending. */
static int dispatch(struct hvd *d, struct hvd_domain *dom,
		    const struct hv_request *req, int in_fd, void *body,
		    size_t *body_len, int *out_fds, unsigned *nout,
		    unsigned *close_mask)
{
	int rc = 0;

	*body_len = 0;
	*nout = 0;
	*close_mask = 0;
	switch (req->h.op) {
	case HV_OP_WHOAMI:
		whoami(d, dom, body);
		*body_len = sizeof(struct hv_rep_whoami);
		break;
	case HV_OP_EVTCHN_ALLOC_UNBOUND: {
		struct hv_rep_evtchn_alloc_unbound *r = body;

		rc = hvd_evtchn_alloc_unbound(d, dom, req->u.unbound.remote_dom,
					      &r->port);
		*body_len = sizeof(*r);
		break;
	}
	case HV_OP_EVTCHN_BIND_INTERDOMAIN:
		rc = hvd_evtchn_bind(d, dom, req->u.bind.remote_dom,
				     req->u.bind.remote_port, body, out_fds,
				     nout);
		*body_len = sizeof(struct hv_rep_evtchn_bind);
		break;
	case HV_OP_EVTCHN_SEND:
		rc = hvd_evtchn_send(d, dom, req->u.port.port);
		break;
	case HV_OP_EVTCHN_CLOSE:
		rc = hvd_evtchn_close(d, dom, req->u.port.port, HV_CLOSE_PEER);
		break;
	case HV_OP_EVTCHN_STATUS:
		rc = hvd_evtchn_status(d, dom, req->u.port.port, body);
		*body_len = sizeof(struct hv_rep_evtchn_status);
		break;
	case HV_OP_GNT_GRANT_ACCESS: {
		struct hv_rep_gnt_grant *r = body;

		rc = hvd_gnt_grant(d, dom, &req->u.grant, in_fd, &r->gref);
		in_fd = -1;
		*body_len = sizeof(*r);
		break;
	}
	case HV_OP_GNT_END_ACCESS:
		rc = hvd_gnt_end(d, dom, req->u.end.gref);
		break;
	case HV_OP_GNT_MAP: {
		int fd;

		rc = hvd_gnt_map(d, dom, &req->u.map, body, &fd);
		*body_len = sizeof(struct hv_rep_gnt_map);
		if (!rc) {
			out_fds[0] = fd;
			*nout = 1;
			*close_mask = 1;
		}
		break;
	}
	case HV_OP_GNT_UNMAP:
		rc = hvd_gnt_unmap(d, dom, req->u.unmap.handle);
		break;
	case HV_OP_GNT_COPY:
		rc = hvd_gnt_copy(d, dom, &req->u.copy);
		break;
	case HV_OP_GNT_TRANSFER:
		rc = hvd_gnt_transfer(d, dom, req->u.transfer.domid, in_fd);
		in_fd = -1;
		break;
	case HV_OP_SCHED_SHUTDOWN:
		/* The domain stops after this reply; its state is decided
		 * by the reason, not by how the process ends. */
		dom->shutdown_req = req->u.shutdown.reason + 1;
		break;
	case HV_OP_DEVICE_CONNECT:
		rc = hvd_dev_connect(d, dom, &req->u.device);
		break;
	case HV_OP_DEVICE_DISCONNECT:
		rc = hvd_dev_disconnect(d, dom, &req->u.device);
		break;
	default:
		rc = -ENOSYS;
		break;
	}
	if (in_fd >= 0)
		close(in_fd);
	if (rc) {
		*body_len = 0;
		*nout = 0;
	}
	return rc;
}

static void handle_one(struct hvd *d, struct hvd_domain *dom)
{
	uint8_t in[HV_HC_MSG_MAX + 1], out[HV_HC_MSG_MAX];
	uint8_t body[HV_HC_MSG_MAX];
	int in_fds[HV_SOCK_FDS_MAX], out_fds[HV_HC_FDS_MAX];
	unsigned n_in = 0, n_out = 0, close_mask = 0;
	struct hv_request req;
	size_t body_len = 0, n;
	ssize_t len;
	int rc;

	len = hv_sock_recv(dom->hc_fd, in, sizeof(in), in_fds, HV_SOCK_FDS_MAX,
			   &n_in, MSG_DONTWAIT);
	if (len == -EAGAIN)
		return;
	if (len == 0 || (len < 0 && len != -EMSGSIZE)) {
		/* The guest closed its channel: no more hypercalls, the
		 * process may still run.  Its death is the pidfd's job. */
		hvd_epoll_del(d, dom->hc_fd);
		close(dom->hc_fd);
		dom->hc_fd = -1;
		return;
	}
	d->st.hypercalls++;
	if (dom->starting) {
		/* It runs and speaks: the create waiting for this is done. */
		dom->starting = false;
		hvd_ctl_start_done(d, dom);
	}
	if (len < 0) {
		memset(&req, 0, sizeof(req));
		rc = -EINVAL;
	} else {
		rc = hv_request_parse(in, (size_t)len, n_in, &req);
	}
	if (rc) {
		hv_close_fds(in_fds, n_in);
		violation(d, dom, rc == -ENOSYS ? "unknown op" : "malformed");
	} else {
		rc = dispatch(d, dom, &req, n_in ? in_fds[0] : -1, body,
			      &body_len, out_fds, &n_out, &close_mask);
	}
	if (rc)
		d->st.hypercall_errors++;
	/* A reply echoes what could be read of the request's header. */
	n = hv_reply_build(out, (req.h.op & ~HV_REPLY) | HV_REPLY, req.h.seq,
			   rc, n_out, body, body_len);
	if (n && dom->hc_fd >= 0)
		hv_sock_send(dom->hc_fd, out, n, out_fds, n_out, MSG_DONTWAIT);
	for (unsigned i = 0; i < n_out; i++)
		if (close_mask & (1u << i))
			close(out_fds[i]);
	if (!rc && req.h.op == HV_OP_SCHED_SHUTDOWN)
		hvd_kill_guest(d, dom, SIGKILL);
}

void hvd_hc_on_readable(struct hvd *d, struct hvd_domain *dom)
{
	/* One message per wakeup: epoll is level-triggered, so a guest with
	 * more queued is reported again after the others had their turn,
	 * and the common case costs no extra recvmsg that finds nothing. */
	if (dom->hc_fd >= 0 && hvd_domain_running(dom))
		handle_one(d, dom);
}
