/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_xen_ctrl.c - the xen platform's backend (hvt_xen.h) over
 * libxenctrl: getdomaininfo for the domains and their ssidrefs, FLASK's
 * xsm_op sub-ops (which Xen's ACM module answers) for the policy and the
 * labels, EVTCHNOP_status for the live event channels, and XenStore for
 * the domains' names.  Built only when Debian's libxen-dev is there.
 *
 * libxenctrl reports a failed hypercall as -1 with errno set; every
 * function here turns that into -errno.
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xenstore.h>

#include "tools/hvt_xen.h"

/* Domain ids are below DOMID_FIRST_RESERVED; the module folds a
 * domain's channels to one share per peer (acm_xsm.c add_share). */
#define BATCH 256
/* EVTCHNOP_status past a domain's last valid port answers -EINVAL; the
 * FIFO ABI's ceiling bounds the walk all the same. */
#define PORTS_MAX (1u << 17)

struct hvt_xc {
	xc_interface *xch;
	xentoollog_logger_stdiostream *log; /* quiet: errors are ours to say */
	struct xs_handle *xs; /* names; NULL when XenStore is not up */
};

static int err(int rc)
{
	if (rc >= 0)
		return rc;
	return errno ? -errno : -EIO;
}

int hvt_xc_open(struct hvt_xc **out, char *why, size_t why_len)
{
	struct hvt_xc *x = calloc(1, sizeof(*x));

	*out = NULL;
	if (!x) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	x->log = xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
	x->xch = xc_interface_open((xentoollog_logger *)x->log,
				   (xentoollog_logger *)x->log, 0);
	if (!x->xch) {
		int e = errno ? errno : EIO;

		snprintf(why, why_len, "xc_interface_open: %s", strerror(e));
		if (x->log)
			xtl_logger_destroy((xentoollog_logger *)x->log);
		free(x);
		return -e;
	}
	x->xs = xs_open(XS_OPEN_READONLY);
	*out = x;
	return 0;
}

void hvt_xc_close(struct hvt_xc *x)
{
	if (!x)
		return;
	if (x->xs)
		xs_close(x->xs);
	xc_interface_close(x->xch);
	if (x->log)
		xtl_logger_destroy((xentoollog_logger *)x->log);
	free(x);
}

static void dom_name(struct hvt_xc *x, uint32_t domid, char *buf, size_t len)
{
	char path[64];
	unsigned int n = 0;
	char *v;

	buf[0] = '\0';
	if (!x->xs)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	v = xs_read(x->xs, XBT_NULL, path, &n);
	if (v && n < len) {
		memcpy(buf, v, n);
		buf[n] = '\0';
		/* A name is shown, never trusted: keep it printable. */
		for (char *c = buf; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	free(v);
}

int hvt_xc_domains(struct hvt_xc *x, struct hvt_xdom **out, size_t *n)
{
	xc_domaininfo_t info[BATCH];
	struct hvt_xdom *v = NULL, *nv;
	uint32_t next = 0;
	int got;

	*out = NULL;
	*n = 0;
	for (;;) {
		got = xc_domain_getinfolist(x->xch, next, BATCH, info);
		if (got < 0) {
			got = err(got);
			free(v);
			*n = 0;
			return got;
		}
		if (got == 0)
			break;
		nv = realloc(v, (*n + (size_t)got) * sizeof(*v));
		if (!nv) {
			free(v);
			*n = 0;
			return -ENOMEM;
		}
		v = nv;
		for (int i = 0; i < got; i++) {
			const xc_domaininfo_t *d = &info[i];
			struct hvt_xdom *o = &v[*n];
			uint32_t f = d->flags, reason;

			memset(o, 0, sizeof(*o));
			o->domid = d->domain;
			o->ssidref = d->ssidref;
			o->vcpus = d->nr_online_vcpus;
			o->tot_pages = d->tot_pages;
			o->max_pages = d->max_pages;
			o->cpu_ns = d->cpu_time;
			memcpy(o->uuid, d->handle, sizeof(o->uuid));
			reason = (f >> XEN_DOMINF_shutdownshift) &
				 XEN_DOMINF_shutdownmask;
			o->flags =
				(f & XEN_DOMINF_dying ? HVT_XD_DYING : 0) |
				(f & XEN_DOMINF_paused ? HVT_XD_PAUSED : 0) |
				(f & XEN_DOMINF_blocked ? HVT_XD_BLOCKED : 0) |
				(f & XEN_DOMINF_running ? HVT_XD_RUNNING : 0);
			if (f & XEN_DOMINF_shutdown)
				o->flags |= reason == SHUTDOWN_crash
						    ? HVT_XD_CRASHED
						    : HVT_XD_SHUTDOWN;
			dom_name(x, o->domid, o->name, sizeof(o->name));
			(*n)++;
		}
		next = info[got - 1].domain + 1;
		if (got < BATCH || next >= DOMID_FIRST_RESERVED)
			break;
	}
	*out = v;
	return 0;
}

int hvt_xc_getenforce(struct hvt_xc *x)
{
	errno = 0;
	return err(xc_flask_getenforce(x->xch));
}

int hvt_xc_setenforce(struct hvt_xc *x, int mode)
{
	errno = 0;
	return err(xc_flask_setenforce(x->xch, mode));
}

int hvt_xc_load(struct hvt_xc *x, const void *blob, size_t len)
{
	if (len > UINT32_MAX)
		return -E2BIG;
	errno = 0;
	/* libxenctrl takes a mutable buffer; it only reads it. */
	return xc_flask_load(x->xch, (char *)blob, (uint32_t)len) < 0 ? err(-1)
								      : 0;
}

int hvt_xc_ctx2sid(struct hvt_xc *x, const char *ctx, uint32_t *sid)
{
	char buf[HVT_XEN_CTX_MAX];
	size_t n = strlen(ctx);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, ctx, n + 1);
	errno = 0;
	return xc_flask_context_to_sid(x->xch, buf, (uint32_t)n, sid) < 0
		       ? err(-1)
		       : 0;
}

int hvt_xc_sid2ctx(struct hvt_xc *x, uint32_t sid, char *buf, size_t len)
{
	int rc;

	if (len < 2 || len > UINT32_MAX)
		return -EINVAL;
	memset(buf, 0, len);
	errno = 0;
	/* One byte kept back: the result is always terminated here. */
	rc = xc_flask_sid_to_context(x->xch, (int)sid, buf,
				     (uint32_t)(len - 1));
	if (rc < 0)
		return -(errno ? errno : EIO);
	buf[len - 1] = '\0';
	return 0;
}

int hvt_xc_identity(struct hvt_xc *x, char *buf, size_t len)
{
	int rc;

	if (len < 2 || len > UINT32_MAX)
		return -EINVAL;
	memset(buf, 0, len);
	errno = 0;
	/* Boolean 0's "name" is the identity (acm_xsm.c get_identity); one
	 * byte kept back for the NUL, which FLASK does not send. */
	rc = xc_flask_getbool_byid(x->xch, 0, buf, (uint32_t)(len - 1), NULL,
				   NULL);
	if (rc < 0)
		return -(errno ? errno : EIO);
	buf[len - 1] = '\0';
	return 0;
}

int hvt_xc_relabel(struct hvt_xc *x, uint32_t domid, uint32_t sid)
{
	errno = 0;
	return xc_flask_relabel_domain(x->xch, domid, sid) < 0 ? err(-1) : 0;
}

static int add(struct hvt_xshare **v, size_t *n, size_t *cap, size_t first,
	       uint32_t a, uint32_t b, bool inter)
{
	struct hvt_xshare *nv;

	if (a == b || b >= DOMID_FIRST_RESERVED)
		return 0;
	for (size_t i = first; i < *n; i++)
		if ((*v)[i].dom_b == b)
			return 0;
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		nv = realloc(*v, *cap * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	(*v)[*n].dom_a = a;
	(*v)[*n].dom_b = b;
	(*v)[*n].interdomain = inter;
	(*n)++;
	return 0;
}

int hvt_xc_shares(struct hvt_xc *x, const struct hvt_xdom *doms, size_t n,
		  struct hvt_xshare **out, size_t *n_out)
{
	struct hvt_xshare *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		size_t first = cnt;

		if (doms[i].flags & HVT_XD_DYING)
			continue; /* its channels are being closed */
		for (uint32_t port = 1; port < PORTS_MAX && !rc; port++) {
			xc_evtchn_status_t st;

			memset(&st, 0, sizeof(st));
			st.dom = (domid_t)doms[i].domid;
			st.port = port;
			errno = 0;
			if (xc_evtchn_status(x->xch, &st) < 0) {
				/* Past the last valid port (or the domain
				 * went away meanwhile). */
				if (errno == EINVAL || errno == ESRCH)
					break;
				rc = -(errno ? errno : EIO);
				break;
			}
			if (st.status == EVTCHNSTAT_interdomain)
				rc = add(&v, &cnt, &cap, first, doms[i].domid,
					 st.u.interdomain.dom, true);
			else if (st.status == EVTCHNSTAT_unbound)
				rc = add(&v, &cnt, &cap, first, doms[i].domid,
					 st.u.unbound.dom, false);
		}
	}
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = cnt;
	return 0;
}

void hvt_xc_version(struct hvt_xc *x, char *buf, size_t len)
{
	xen_extraversion_t extra;
	int v;

	buf[0] = '\0';
	v = xc_version(x->xch, XENVER_version, NULL);
	if (v < 0)
		return;
	memset(extra, 0, sizeof(extra));
	if (xc_version(x->xch, XENVER_extraversion, &extra) < 0)
		extra[0] = '\0';
	extra[sizeof(extra) - 1] = '\0';
	snprintf(buf, len, "%d.%d%s", v >> 16, v & 0xffff, extra);
}
