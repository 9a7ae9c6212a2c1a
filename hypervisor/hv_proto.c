/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv_proto.c - the one parser of the hypercall protocol (both directions).
 *
 * The daemon parses requests from guests it does not trust; the guest
 * library parses replies from the daemon it does trust but still checks,
 * so that a version skew is an error message and not memory corruption.
 * A datagram is copied into locals once and never looked at again.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hypervisor/hv_proto.h"

/* Xen's errno numbers are Linux's on x86: the daemon may pass host errnos
 * through only because of this. */
static_assert(HV_EACCES == EACCES && HV_EINVAL == EINVAL && HV_ESRCH == ESRCH &&
		      HV_ENOSYS == ENOSYS && HV_EBUSY == EBUSY &&
		      HV_ENOMEM == ENOMEM && HV_ENOSPC == ENOSPC &&
		      HV_EPERM == EPERM && HV_ENOENT == ENOENT &&
		      HV_ETIMEDOUT == ETIMEDOUT,
	      "Xen errno values differ from the host's");

#define BODY(op, req, fds, rep) [op] = {&(#op)[6], (req), (fds), (rep)}

static const struct hv_op_desc op_table[HV_OP__COUNT] = {
	BODY(HV_OP_WHOAMI, 0, 0, sizeof(struct hv_rep_whoami)),
	BODY(HV_OP_EVTCHN_ALLOC_UNBOUND,
	     sizeof(struct hv_req_evtchn_alloc_unbound), 0,
	     sizeof(struct hv_rep_evtchn_alloc_unbound)),
	BODY(HV_OP_EVTCHN_BIND_INTERDOMAIN, sizeof(struct hv_req_evtchn_bind),
	     0, sizeof(struct hv_rep_evtchn_bind)),
	BODY(HV_OP_EVTCHN_SEND, sizeof(struct hv_req_evtchn_port), 0, 0),
	BODY(HV_OP_EVTCHN_CLOSE, sizeof(struct hv_req_evtchn_port), 0, 0),
	BODY(HV_OP_EVTCHN_STATUS, sizeof(struct hv_req_evtchn_port), 0,
	     sizeof(struct hv_rep_evtchn_status)),
	BODY(HV_OP_GNT_GRANT_ACCESS, sizeof(struct hv_req_gnt_grant), 1,
	     sizeof(struct hv_rep_gnt_grant)),
	BODY(HV_OP_GNT_END_ACCESS, sizeof(struct hv_req_gnt_end), 0, 0),
	BODY(HV_OP_GNT_MAP, sizeof(struct hv_req_gnt_map), 0,
	     sizeof(struct hv_rep_gnt_map)),
	BODY(HV_OP_GNT_UNMAP, sizeof(struct hv_req_gnt_unmap), 0, 0),
	BODY(HV_OP_GNT_COPY, sizeof(struct hv_req_gnt_copy), 0, 0),
	BODY(HV_OP_GNT_TRANSFER, sizeof(struct hv_req_gnt_transfer), 1, 0),
	BODY(HV_OP_SCHED_SHUTDOWN, sizeof(struct hv_req_shutdown), 0, 0),
	BODY(HV_OP_DEVICE_CONNECT, sizeof(struct hv_req_device), 0, 0),
	BODY(HV_OP_DEVICE_DISCONNECT, sizeof(struct hv_req_device), 0, 0),
};

const struct hv_op_desc *hv_op_desc(uint32_t op)
{
	if (op == 0 || op >= HV_OP__COUNT)
		return NULL;
	return &op_table[op];
}

const char *hv_op_name(uint32_t op)
{
	const struct hv_op_desc *d = hv_op_desc(op & ~HV_REPLY);

	switch (op) {
	case HV_NTF_EVTCHN_BOUND:
		return "NTF_EVTCHN_BOUND";
	case HV_NTF_EVTCHN_CLOSED:
		return "NTF_EVTCHN_CLOSED";
	case HV_NTF_GNT_TRANSFER:
		return "NTF_GNT_TRANSFER";
	case HV_NTF_GNT_ORPHANED:
		return "NTF_GNT_ORPHANED";
	}
	return d ? d->name : "unknown";
}

const char *hv_errno_name(int32_t err)
{
	switch (-err) {
	case 0:
		return "OK";
	case HV_EPERM:
		return "EPERM";
	case HV_ENOENT:
		return "ENOENT";
	case HV_ESRCH:
		return "ESRCH";
	case HV_E2BIG:
		return "E2BIG";
	case HV_EBADF:
		return "EBADF";
	case HV_EAGAIN:
		return "EAGAIN";
	case HV_ENOMEM:
		return "ENOMEM";
	case HV_EACCES:
		return "EACCES";
	case HV_EFAULT:
		return "EFAULT";
	case HV_EBUSY:
		return "EBUSY";
	case HV_EEXIST:
		return "EEXIST";
	case HV_EINVAL:
		return "EINVAL";
	case HV_ENOSPC:
		return "ENOSPC";
	case HV_ENOSYS:
		return "ENOSYS";
	case HV_ENOTCONN:
		return "ENOTCONN";
	case HV_ETIMEDOUT:
		return "ETIMEDOUT";
	case HV_EOPNOTSUPP:
		return "EOPNOTSUPP";
	}
	return "E?";
}

static bool magic_ok(uint32_t magic)
{
	uint32_t v = HV_HC_MAGIC_VERSION(magic);

	return (magic & 0x00ffffffu) == HV_HC_MAGIC_BASE &&
	       v >= HV_HC_VERSION_MIN && v <= HV_HC_VERSION;
}

/* An absolute path as tools/xlcfg.c folds it: '/' then components
 * separated by single '/', none empty, "." or "..", no trailing '/'. */
static bool folded_path(const char *p)
{
	if (*p != '/' || !p[1])
		return false;
	while (*p) {
		const char *c = ++p; /* past the '/' */
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + n;
	}
	return true;
}

static bool all_of(const char *s, const char *set, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, set) == n;
}

/* vtpm:UUID as the daemon and xlcfg spell it: lowercase 8-4-4-4-12. */
static bool uuid_canonical(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	}
	return true;
}

/* The resource field of a device request: a C string within its field,
 * NUL-padded, no control characters, in the canonical form of its class
 * (hv_proto.h). */
static bool device_resource_ok(uint32_t cls, const char *f)
{
	const char *nul = memchr(f, '\0', HV_DEV_NAME_LEN);
	const char *v;

	if (!nul || nul == f)
		return false;
	for (const char *q = nul; q < f + HV_DEV_NAME_LEN; q++)
		if (*q)
			return false;
	for (const char *q = f; q < nul; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return false;
	switch (cls) {
	case HV_DEV_DISK:
		if (!strncmp(f, "phy:", 4))
			return folded_path(f + 4);
		return !strncmp(f, "file:", 5) && folded_path(f + 5);
	case HV_DEV_VIF:
		if (!strncmp(f, "vlan:", 5)) {
			v = f + 5;
			/* 1..4095: at most four digits, no leading zero */
			return all_of(v, "0123456789", 1, 4) && v[0] != '0' &&
			       (strlen(v) < 4 || strcmp(v, "4095") <= 0);
		}
		return !strncmp(f, "bridge:", 7) &&
		       all_of(f + 7,
			      "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.",
			      1, 15);
	case HV_DEV_VTPM:
		return !strncmp(f, "vtpm:", 5) && uuid_canonical(f + 5);
	}
	return false;
}

/* The op's own fields, after the sizes were checked. */
static int check_request_fields(const struct hv_request *req)
{
	switch (req->h.op) {
	case HV_OP_EVTCHN_ALLOC_UNBOUND:
		if (req->u.unbound.remote_dom > HV_DOMID_MAX &&
		    req->u.unbound.remote_dom != HV_DOMID_SELF)
			return -HV_EINVAL;
		return 0;
	case HV_OP_EVTCHN_BIND_INTERDOMAIN:
		if ((req->u.bind.remote_dom > HV_DOMID_MAX &&
		     req->u.bind.remote_dom != HV_DOMID_SELF) ||
		    req->u.bind.remote_port == 0 ||
		    req->u.bind.remote_port >= HV_EVTCHN_PORTS)
			return -HV_EINVAL;
		return 0;
	case HV_OP_EVTCHN_SEND:
	case HV_OP_EVTCHN_CLOSE:
	case HV_OP_EVTCHN_STATUS:
		if (req->u.port.port == 0 ||
		    req->u.port.port >= HV_EVTCHN_PORTS)
			return -HV_EINVAL;
		return 0;
	case HV_OP_GNT_GRANT_ACCESS:
		if (req->u.grant.domid > HV_DOMID_MAX ||
		    (req->u.grant.flags & ~HV_GNT_READONLY))
			return -HV_EINVAL;
		return 0;
	case HV_OP_GNT_END_ACCESS:
		if (req->u.end.gref >= HV_GNT_PER_DOM)
			return -HV_EINVAL;
		return 0;
	case HV_OP_GNT_MAP:
		if (req->u.map.domid > HV_DOMID_MAX ||
		    req->u.map.gref >= HV_GNT_PER_DOM ||
		    (req->u.map.flags & ~HV_GNTMAP_READONLY))
			return -HV_EINVAL;
		return 0;
	case HV_OP_GNT_UNMAP:
		if (req->u.unmap.handle >= HV_MAPS_PER_DOM)
			return -HV_EINVAL;
		return 0;
	case HV_OP_GNT_COPY: {
		const struct hv_req_gnt_copy *c = &req->u.copy;
		const struct hv_gnt_seg *s[2] = {&c->src, &c->dst};

		if (c->flags || c->len == 0 || c->len > HV_PAGE_SIZE)
			return -HV_EINVAL;
		for (int i = 0; i < 2; i++) {
			if ((s[i]->domid > HV_DOMID_MAX &&
			     s[i]->domid != HV_DOMID_SELF) ||
			    s[i]->gref >= HV_GNT_PER_DOM ||
			    s[i]->offset > HV_PAGE_SIZE - c->len)
				return -HV_EINVAL;
		}
		return 0;
	}
	case HV_OP_GNT_TRANSFER:
		if (req->u.transfer.domid > HV_DOMID_MAX ||
		    req->u.transfer.flags)
			return -HV_EINVAL;
		return 0;
	case HV_OP_SCHED_SHUTDOWN:
		if (req->u.shutdown.reason > HV_SHUTDOWN_CRASH)
			return -HV_EINVAL;
		return 0;
	case HV_OP_DEVICE_CONNECT:
	case HV_OP_DEVICE_DISCONNECT: {
		const struct hv_req_device *dv = &req->u.device;

		/* No DOMID_SELF: a backend connects to another domain. */
		if (dv->frontend > HV_DOMID_MAX || dv->cls < HV_DEV_DISK ||
		    dv->cls > HV_DEV_VTPM || dv->flags || dv->reserved ||
		    !device_resource_ok(dv->cls, dv->resource))
			return -HV_EINVAL;
		return 0;
	}
	}
	return 0;
}

int hv_request_parse(const void *buf, size_t len, unsigned nfds,
		     struct hv_request *req)
{
	const struct hv_op_desc *d;
	size_t body;

	memset(req, 0, sizeof(*req));
	if (len < sizeof(req->h) || len > HV_HC_MSG_MAX)
		return -HV_EINVAL;
	memcpy(&req->h, buf, sizeof(req->h));
	if (!magic_ok(req->h.magic) || req->h.len != len)
		return -HV_EINVAL;
	d = hv_op_desc(req->h.op);
	if (!d)
		return -HV_ENOSYS;
	body = len - sizeof(req->h);
	if (body != d->req_len || nfds != d->req_fds)
		return -HV_EINVAL;
	static_assert(sizeof(req->u) >= sizeof(struct hv_req_gnt_copy) &&
			      sizeof(req->u) >= sizeof(struct hv_req_device),
		      "request union holds every body");
	memcpy(&req->u, (const uint8_t *)buf + sizeof(req->h), body);
	return check_request_fields(req);
}

/* Fixed names in a reply are C strings inside their field. */
static bool field_terminated(const char *f, size_t size)
{
	return memchr(f, '\0', size) != NULL;
}

/* Reply bodies and fds, by op; notices are listed separately. */
static int reply_shape(uint32_t op, int32_t err, size_t *body, unsigned *fds)
{
	const struct hv_op_desc *d;

	switch (op) {
	case HV_NTF_EVTCHN_BOUND:
		*body = sizeof(struct hv_rep_evtchn_bind);
		*fds = 0; /* 1 or 2, checked against the body's flags */
		return 0;
	case HV_NTF_EVTCHN_CLOSED:
		*body = sizeof(struct hv_ntf_evtchn_closed);
		*fds = 0;
		return 0;
	case HV_NTF_GNT_TRANSFER:
		*body = sizeof(struct hv_ntf_gnt_transfer);
		*fds = 1;
		return 0;
	case HV_NTF_GNT_ORPHANED:
		*body = sizeof(struct hv_ntf_gnt_orphaned);
		*fds = 0;
		return 0;
	}
	if (!(op & HV_REPLY))
		return -HV_EINVAL;
	d = hv_op_desc(op & ~HV_REPLY);
	if (!d)
		return -HV_EINVAL;
	*body = err ? 0 : d->rep_len;
	*fds = 0;
	if (!err && (op & ~HV_REPLY) == HV_OP_GNT_MAP)
		*fds = 1;
	return 0;
}

int hv_reply_parse(const void *buf, size_t len, unsigned nfds,
		   struct hv_reply *rep)
{
	size_t want_body;
	unsigned want_fds;
	uint32_t op;

	memset(rep, 0, sizeof(*rep));
	if (len < sizeof(rep->r) || len > HV_HC_MSG_MAX)
		return -HV_EINVAL;
	memcpy(&rep->r, buf, sizeof(rep->r));
	op = rep->r.h.op;
	if (!magic_ok(rep->r.h.magic) || rep->r.h.len != len)
		return -HV_EINVAL;
	if (rep->r.err > 0 || rep->r.err < -4095 || rep->r.nfds != nfds ||
	    nfds > HV_HC_FDS_MAX)
		return -HV_EINVAL;
	if ((op & HV_NOTICE) && (rep->r.err || rep->r.h.seq))
		return -HV_EINVAL;
	if (reply_shape(op, rep->r.err, &want_body, &want_fds))
		return -HV_EINVAL;
	if (len - sizeof(rep->r) != want_body)
		return -HV_EINVAL;
	memcpy(&rep->u, (const uint8_t *)buf + sizeof(rep->r), want_body);
	if (op == HV_NTF_EVTCHN_BOUND ||
	    (op == (HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN) && !rep->r.err)) {
		if (rep->u.bind.flags & ~HV_EVTCHN_F_SEND_MEDIATED)
			return -HV_EINVAL;
		want_fds =
			(rep->u.bind.flags & HV_EVTCHN_F_SEND_MEDIATED) ? 1 : 2;
	}
	if (nfds != want_fds)
		return -HV_EINVAL;
	if (op == (HV_REPLY | HV_OP_WHOAMI) && !rep->r.err &&
	    (!field_terminated(rep->u.whoami.name, HV_NAME_LEN) ||
	     !field_terminated(rep->u.whoami.label, HV_NAME_LEN)))
		return -HV_EINVAL;
	return 0;
}

size_t hv_request_build(void *buf, uint32_t op, uint32_t seq, const void *body,
			size_t body_len)
{
	struct hv_msg_hdr h = {
		.magic = HV_HC_MAGIC(HV_HC_VERSION),
		.op = op,
		.len = (uint32_t)(sizeof(h) + body_len),
		.seq = seq,
	};

	if (sizeof(h) + body_len > HV_HC_MSG_MAX)
		return 0;
	memcpy(buf, &h, sizeof(h));
	if (body_len)
		memcpy((uint8_t *)buf + sizeof(h), body, body_len);
	return sizeof(h) + body_len;
}

size_t hv_reply_build(void *buf, uint32_t op, uint32_t seq, int32_t err,
		      uint32_t nfds, const void *body, size_t body_len)
{
	struct hv_reply_hdr r = {
		.h.magic = HV_HC_MAGIC(HV_HC_VERSION),
		.h.op = op,
		.h.len = (uint32_t)(sizeof(r) + body_len),
		.h.seq = seq,
		.err = err,
		.nfds = nfds,
	};

	if (sizeof(r) + body_len > HV_HC_MSG_MAX)
		return 0;
	memcpy(buf, &r, sizeof(r));
	if (body_len)
		memcpy((uint8_t *)buf + sizeof(r), body, body_len);
	return sizeof(r) + body_len;
}
