/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_evtchn.c - event channels, with Xen's semantics (EVTCHNOP_*):
 *
 *   alloc_unbound(remote)      a free port becomes unbound, offered to
 *                              `remote` (hook evtchn_alloc_unbound);
 *   bind_interdomain(r, rport) r's port must be unbound and offered to the
 *                              caller (hook evtchn_bind_interdomain); the
 *                              two ports become interdomain;
 *   close(port)                an interdomain peer port goes back to
 *                              unbound, offered to the closer, exactly as
 *                              Xen's evtchn_close does.
 *
 * A bound channel is two eventfds, one per direction.  Each end gets the
 * one it waits on and, unless send is mediated, the one it writes to: a
 * notification is then one write(2) between the guests and the daemon is
 * off the data path.  With send mediation the guest has no send fd and
 * every send is a hypercall that passes the evtchn_send hook.
 *
 * fds once handed out cannot be taken back from a process; closing a
 * channel closes the daemon's copies and tells the peer, whose library
 * drops its fds.  A guest that keeps them can only signal an eventfd
 * nobody waits on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

static struct hvd_port *port_get(struct hvd_domain *dom, uint32_t port)
{
	if (port == 0 || port >= HV_EVTCHN_PORTS)
		return NULL;
	return &dom->ports[port];
}

static int port_alloc(struct hvd_domain *dom, uint32_t *out)
{
	for (uint32_t p = 1; p < HV_EVTCHN_PORTS; p++) {
		if (dom->ports[p].status == HV_EVTCHNSTAT_CLOSED) {
			*out = p;
			return 0;
		}
	}
	return -ENOSPC;
}

static void port_free(struct hvd_domain *dom, struct hvd_port *pt)
{
	memset(pt, 0, sizeof(*pt));
	pt->status = HV_EVTCHNSTAT_CLOSED;
	dom->n_ports--;
}

/* The peer named by a hypercall: running (or paused), never dom0 for
 * binding (dom0 has no ports in this model), any live one to offer to. */
static struct hvd_domain *peer_of(struct hvd *d, struct hvd_domain *self,
				  uint32_t remote)
{
	if (remote == HV_DOMID_SELF)
		return self;
	return hvd_domain_live(d, remote);
}

int hvd_evtchn_alloc_unbound(struct hvd *d, struct hvd_domain *dom,
			     uint32_t remote, uint32_t *port)
{
	struct hvd_domain *peer = peer_of(d, dom, remote);
	int rc;

	if (!peer)
		return -ESRCH;
	rc = hvd_check_share(d, HOOKS_ID_evtchn_alloc_unbound, dom, peer);
	if (rc)
		return rc;
	rc = port_alloc(dom, port);
	if (rc)
		return rc;
	dom->ports[*port] = (struct hvd_port){
		.status = HV_EVTCHNSTAT_UNBOUND,
		.remote_dom = peer->domid,
	};
	dom->n_ports++;
	return 0;
}

static void link_free(struct hvd *d, struct hvd_link *l)
{
	close(l->efd[0]);
	close(l->efd[1]);
	free(l);
	d->st.channels_live--;
}

int hvd_evtchn_bind(struct hvd *d, struct hvd_domain *dom, uint32_t remote,
		    uint32_t rport, struct hv_rep_evtchn_bind *rep, int *fds,
		    unsigned *nfds)
{
	struct hvd_domain *peer = peer_of(d, dom, remote);
	struct hvd_port *rp, *lp;
	struct hvd_link *l;
	struct hv_rep_evtchn_bind ntf;
	uint32_t lport;
	int rc, nfd[2];
	uint32_t flags = d->mediate_send ? HV_EVTCHN_F_SEND_MEDIATED : 0;

	*nfds = 0;
	if (!peer || peer->dom0)
		return -ESRCH;
	rp = port_get(peer, rport);
	if (!rp || rp->status != HV_EVTCHNSTAT_UNBOUND ||
	    rp->remote_dom != dom->domid)
		return -EINVAL;
	rc = hvd_check_share(d, HOOKS_ID_evtchn_bind_interdomain, dom, peer);
	if (rc)
		return rc;
	rc = port_alloc(dom, &lport);
	if (rc)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->efd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->efd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->efd[0] < 0 || l->efd[1] < 0) {
		rc = -errno;
		if (l->efd[0] >= 0)
			close(l->efd[0]);
		if (l->efd[1] >= 0)
			close(l->efd[1]);
		free(l);
		return rc;
	}
	d->st.channels_live++;
	/* Side 0 is the port that was offered, side 1 the binder. */
	l->dom[0] = peer->domid;
	l->port[0] = rport;
	l->dom[1] = dom->domid;
	l->port[1] = lport;
	rp->status = HV_EVTCHNSTAT_INTERDOMAIN;
	rp->side = 0;
	rp->remote_port = lport;
	rp->link = l;
	rp->mediated = d->mediate_send;
	lp = &dom->ports[lport];
	*lp = (struct hvd_port){
		.status = HV_EVTCHNSTAT_INTERDOMAIN,
		.side = 1,
		.mediated = d->mediate_send,
		.remote_dom = peer->domid,
		.remote_port = rport,
		.link = l,
	};
	dom->n_ports++;

	*rep = (struct hv_rep_evtchn_bind){lport, peer->domid, rport, flags};
	fds[0] = l->efd[0]; /* side 0 writes, we wait */
	fds[1] = l->efd[1];
	*nfds = d->mediate_send ? 1 : 2;

	/* The offering side learns its port is bound, with its fds. */
	ntf = (struct hv_rep_evtchn_bind){rport, dom->domid, lport, flags};
	nfd[0] = l->efd[1];
	nfd[1] = l->efd[0];
	hvd_hc_notify(d, peer, HV_NTF_EVTCHN_BOUND, &ntf, sizeof(ntf), nfd,
		      d->mediate_send ? 1 : 2);
	return 0;
}

int hvd_evtchn_send(struct hvd *d, struct hvd_domain *dom, uint32_t port)
{
	struct hvd_port *pt = port_get(dom, port);
	struct hvd_domain *peer;
	uint64_t one = 1;
	int rc;

	if (!pt || pt->status == HV_EVTCHNSTAT_CLOSED)
		return -EINVAL;
	if (pt->status == HV_EVTCHNSTAT_UNBOUND)
		return 0; /* Xen drops a send on an unbound port silently */
	peer = hvd_domain_live(d, pt->remote_dom);
	if (!peer)
		return -EINVAL; /* cannot happen: death unbinds */
	rc = hvd_check_share(d, HOOKS_ID_evtchn_send, dom, peer);
	if (rc)
		return rc;
	if (write(pt->link->efd[pt->side], &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		return -EIO;
	if (pt->mediated)
		d->st.mediated_sends++;
	return 0;
}

int hvd_evtchn_close(struct hvd *d, struct hvd_domain *dom, uint32_t port,
		     uint32_t reason)
{
	struct hvd_port *pt = port_get(dom, port);

	if (!pt || pt->status == HV_EVTCHNSTAT_CLOSED)
		return -EINVAL;
	if (pt->status == HV_EVTCHNSTAT_INTERDOMAIN) {
		struct hvd_link *l = pt->link;
		uint32_t peer_side = 1u - pt->side;
		struct hvd_domain *peer = hvd_domain_get(d, l->dom[peer_side]);
		struct hvd_port *pp =
			peer ? port_get(peer, l->port[peer_side]) : NULL;

		if (pp && pp->link == l) {
			/* Xen: the peer's port reverts to unbound, offered
			 * to the closer. */
			pp->status = HV_EVTCHNSTAT_UNBOUND;
			pp->remote_dom = dom->domid;
			pp->remote_port = 0;
			pp->link = NULL;
			pp->mediated = 0;
			if (peer != dom) {
				struct hv_ntf_evtchn_closed n = {
					l->port[peer_side], reason};

				hvd_hc_notify(d, peer, HV_NTF_EVTCHN_CLOSED, &n,
					      sizeof(n), NULL, 0);
			}
		}
		link_free(d, l);
	}
	port_free(dom, pt);
	return 0;
}

int hvd_evtchn_status(struct hvd *d, struct hvd_domain *dom, uint32_t port,
		      struct hv_rep_evtchn_status *rep)
{
	struct hvd_port *pt = port_get(dom, port);

	(void)d;
	memset(rep, 0, sizeof(*rep));
	if (!pt)
		return -EINVAL;
	rep->status = pt->status;
	if (pt->status != HV_EVTCHNSTAT_CLOSED)
		rep->remote_dom = pt->remote_dom;
	if (pt->status == HV_EVTCHNSTAT_INTERDOMAIN) {
		rep->remote_port = pt->remote_port;
		rep->flags = pt->mediated ? HV_EVTCHN_F_SEND_MEDIATED : 0;
	}
	return 0;
}

void hvd_evtchn_release_all(struct hvd *d, struct hvd_domain *dom,
			    uint32_t reason)
{
	for (uint32_t p = 1; p < HV_EVTCHN_PORTS && dom->n_ports; p++)
		if (dom->ports[p].status != HV_EVTCHNSTAT_CLOSED)
			hvd_evtchn_close(d, dom, p, reason);
}

uint32_t hvd_evtchn_revoke_pair(struct hvd *d, struct hvd_domain *dom,
				uint32_t peer)
{
	struct hvd_domain *other = hvd_domain_get(d, peer);
	uint32_t n = 0;

	for (uint32_t p = 1; p < HV_EVTCHN_PORTS; p++) {
		struct hvd_port *pt = &dom->ports[p];

		if (pt->status != HV_EVTCHNSTAT_INTERDOMAIN ||
		    pt->remote_dom != peer)
			continue;
		/* Our end is told too: a revocation is nobody's close. */
		if (other && other != dom) {
			struct hv_ntf_evtchn_closed c = {p, HV_CLOSE_REVOKED};

			hvd_hc_notify(d, dom, HV_NTF_EVTCHN_CLOSED, &c,
				      sizeof(c), NULL, 0);
		}
		hvd_evtchn_close(d, dom, p, HV_CLOSE_REVOKED);
		/* Neither end keeps an offer the policy now forbids. */
		if (other && pt->status == HV_EVTCHNSTAT_CLOSED)
			for (uint32_t q = 1; q < HV_EVTCHN_PORTS; q++)
				if (other->ports[q].status ==
					    HV_EVTCHNSTAT_UNBOUND &&
				    other->ports[q].remote_dom == dom->domid) {
					memset(&other->ports[q], 0,
					       sizeof(other->ports[q]));
					other->n_ports--;
				}
		n++;
	}
	return n;
}
