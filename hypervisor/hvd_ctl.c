/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_ctl.c - the control socket: dom0's toolstack talks to hvsecd here.
 *
 * Only root or the daemon's own uid may connect (the socket is 0600 and
 * SO_PEERCRED is checked again on accept).  Each request is parsed by the
 * one control parser (hv_control.c), answered with one reply carrying a
 * Xen errno and a line of explanation.  A connection that follows the
 * audit log also gets every new record as a notice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/hv_sock.h"
#include "hypervisor/hvd.h"

#define CTL_CONNS_MAX 64u
#define WHY_LEN	      512u
/* How long a create waits for its guest's first hypercall before saying
 * "created" anyway (a guest may legitimately run without hypercalls). */
#define START_WAIT_NS (3000ull * 1000 * 1000)

struct hvd_ctl_conn {
	int fd;
	struct hvd_ev ev;
	bool follow;	     /* audit notices wanted */
	uint64_t audit_next; /* next record to push */
	/* A create answered only when its guest has spoken or died; the
	 * connection is not read meanwhile (answers stay in order). */
	uint32_t wait_domid; /* 0: none */
	uint32_t wait_seq;
	uint64_t wait_until; /* hvd_now_ns() deadline */
	struct hvd_ctl_conn *next, *prev;
};

static uint8_t out_buf[HV_CTL_MSG_MAX]; /* one reply at a time */
static uint8_t body_buf[HV_CTL_MSG_MAX];
static struct hv_ctl_create_req create_req; /* 64 KiB: not on the stack */

static void conn_close(struct hvd *d, struct hvd_ctl_conn *c)
{
	hvd_epoll_del(d, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->ctl_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	d->n_ctl_conns--;
}

void hvd_ctl_close_all(struct hvd *d)
{
	while (d->ctl_conns)
		conn_close(d, d->ctl_conns);
}

void hvd_ctl_on_accept(struct hvd *d)
{
	for (;;) {
		struct hvd_ctl_conn *c;
		struct ucred cr;
		socklen_t sl = sizeof(cr);
		int fd = accept4(d->ctl_listen, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		/* The file mode already keeps others out; this is the second
		 * lock on the same door. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0 ||
		    (cr.uid != 0 && cr.uid != d->my_uid) ||
		    d->n_ctl_conns >= CTL_CONNS_MAX) {
			close(fd);
			continue;
		}
		int sz = (int)HV_CTL_MSG_MAX * 4;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->ev = (struct hvd_ev){HVD_EV_CTL_CONN, c};
		if (hvd_epoll_add(d, fd, EPOLLIN, &c->ev)) {
			free(c);
			close(fd);
			continue;
		}
		c->next = d->ctl_conns;
		if (d->ctl_conns)
			d->ctl_conns->prev = c;
		d->ctl_conns = c;
		d->n_ctl_conns++;
	}
}

/* The errors whose reply still carries the op's body, because there the
 * body is the answer: the blockers of a refused update or relabel, the
 * checks of a denied create (so no client has to parse the text). */
static bool err_has_body(uint32_t op, int32_t err)
{
	op &= ~HV_CTL_REPLY;
	if (err == -EBUSY)
		return op == HV_CTL_POLICY_LOAD || op == HV_CTL_RELABEL;
	if (err == -EACCES)
		return op == HV_CTL_DOMAIN_CREATE;
	return false;
}

/* Sends header + body + text (+ padding) with fds.  Returns 0 or -errno
 * (the connection is then closed by the caller). */
static int reply(struct hvd_ctl_conn *c, uint32_t op, uint32_t seq, int32_t err,
		 const void *body, size_t body_len, const char *text,
		 const int *fds, unsigned nfds)
{
	struct hv_ctl_reply_hdr r;
	size_t tl = text ? strnlen(text, HV_CTL_TEXT_MAX) : 0;
	size_t pad = (4 - tl % 4) % 4;
	size_t len;

	if (err && !err_has_body(op, err))
		body_len = 0;
	if (err)
		nfds = 0;
	if (sizeof(r) + body_len + tl + pad > HV_CTL_MSG_MAX)
		return -E2BIG; /* a bug: callers bound their bodies */
	len = sizeof(r) + body_len + tl + pad;
	r = (struct hv_ctl_reply_hdr){
		.h = {HV_CTL_MAGIC(HV_CTL_VERSION), op, (uint32_t)len, seq},
		.err = err,
		.nfds = nfds,
		.body_len = (uint32_t)body_len,
		.text_len = (uint32_t)tl,
	};
	memcpy(out_buf, &r, sizeof(r));
	if (body_len)
		memmove(out_buf + sizeof(r), body, body_len);
	if (tl)
		memcpy(out_buf + sizeof(r) + body_len, text, tl);
	memset(out_buf + sizeof(r) + body_len + tl, 0, pad);
	return hv_sock_send(c->fd, out_buf, len, fds, nfds, MSG_DONTWAIT);
}


static size_t put_update(void *body, const struct hv_ctl_update_rep *rep,
			 const struct hv_ctl_blocker *blk)
{
	memcpy(body, rep, sizeof(*rep));
	memcpy((uint8_t *)body + sizeof(*rep), blk,
	       rep->n_listed * sizeof(*blk));
	return sizeof(*rep) + rep->n_listed * sizeof(*blk);
}

static int op_policy_load(struct hvd *d, const uint8_t *b, size_t bl, int *fds,
			  unsigned nfds, size_t *out_len, char *why)
{
	static struct hv_ctl_blocker blk[HV_CTL_BLOCKERS_MAX];
	struct hv_ctl_policy_load req;
	struct hv_ctl_update_rep rep;
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc;

	if (bl != sizeof(req) || nfds != 1)
		return -EINVAL;
	memcpy(&req, b, sizeof(req));
	if ((req.flags & ~HV_CTL_POLICY_F_ALL) || req.reserved)
		return -EINVAL;
	/* The sender may have read the file already: start at its head. */
	lseek(fds[0], 0, SEEK_SET);
	rc = hv_read_fd_all(fds[0], ACM_MAX_POLICY_LEN, &blob, &len);
	if (rc) {
		snprintf(why, WHY_LEN, "cannot read the policy: %s",
			 strerror(-rc));
		return rc;
	}
	rc = hvd_policy_update(d, blob, len, req.flags, &rep, blk, why,
			       WHY_LEN);
	free(blob);
	*out_len = put_update(body_buf, &rep, blk);
	return rc;
}

static int op_policy_get(struct hvd *d, size_t *out_len, int *fd_out,
			 unsigned *nfds, char *why)
{
	struct hv_ctl_policy_info info;
	const struct acm_policy *p = hooks_policy(d->hooks);

	memset(&info, 0, sizeof(info));
	info.generation = hooks_generation(d->hooks);
	if (hooks_get_mode(d->hooks) == HOOKS_PERMISSIVE)
		info.flags |= HV_CTL_PINFO_F_PERMISSIVE;
	if (!p) {
		info.flags |= HV_CTL_PINFO_F_FAIL_CLOSED;
		snprintf(info.failure, sizeof(info.failure), "%s",
			 hooks_no_policy_reason(d->hooks));
		snprintf(why, WHY_LEN, "no policy: fail-closed (%s)",
			 info.failure);
	} else {
		struct acm_policy_info pi;

		acm_policy_info(p, &pi);
		snprintf(info.name, sizeof(info.name), "%s", pi.name);
		info.version_major = pi.version_major;
		info.version_minor = pi.version_minor;
		info.n_labels = pi.n_labels;
		memcpy(info.sha256, pi.blob_sha256, sizeof(info.sha256));
		if (d->builtin_policy)
			info.flags |= HV_CTL_PINFO_F_BUILTIN;
	}
	memcpy(body_buf, &info, sizeof(info));
	*out_len = sizeof(info);
	*nfds = 0;
	if (d->blob) {
		/* The blob as a sealed memfd: the tool reads what is loaded,
		 * and nothing it does to the fd changes our copy. */
		int fd = memfd_create("hvsec-policy",
				      MFD_CLOEXEC | MFD_ALLOW_SEALING);

		if (fd < 0 ||
		    write(fd, d->blob, d->blob_len) != (ssize_t)d->blob_len ||
		    fcntl(fd, F_ADD_SEALS,
			  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
				  F_SEAL_SEAL) < 0) {
			if (fd >= 0)
				close(fd);
			return -ENOMEM;
		}
		lseek(fd, 0, SEEK_SET);
		*fd_out = fd;
		*nfds = 1;
	}
	return 0;
}

static int op_create(struct hvd *d, const uint8_t *b, size_t bl, bool dry_run,
		     size_t *out_len, char *why)
{
	static struct hv_ctl_check checks[HV_CTL_CHECKS_MAX];
	struct hv_ctl_domain_info info;
	uint32_t n_checks = 0;
	int rc;

	if (hv_ctl_decode_create(b, bl, &create_req)) {
		snprintf(why, WHY_LEN, "malformed create request");
		return -EINVAL;
	}
	rc = hvd_domain_create(d, &create_req, dry_run, &info, checks,
			       &n_checks, why, WHY_LEN);
	if (!dry_run && rc != -EACCES) {
		memcpy(body_buf, &info, sizeof(info));
		*out_len = sizeof(info);
		return rc;
	}
	/* A dry run answers the question even when the answer is no. */
	if (rc && !n_checks)
		return rc; /* not a policy answer: bad label, kernel... */
	/* A denied create carries the checks it ran, the denial last, as a
	 * dry run's reply does (with -EACCES as the reply's err). */
	struct hv_ctl_dry_run_rep dr = {rc, n_checks};
	memcpy(body_buf, &dr, sizeof(dr));
	memcpy(body_buf + sizeof(dr), checks, n_checks * sizeof(checks[0]));
	*out_len = sizeof(dr) + n_checks * sizeof(checks[0]);
	return dry_run ? 0 : rc;
}

static int get_domid(const uint8_t *b, size_t bl, uint32_t *domid)
{
	struct hv_ctl_domid r;

	if (bl != sizeof(r))
		return -EINVAL;
	memcpy(&r, b, sizeof(r));
	*domid = r.domid;
	return 0;
}

static int op_list(struct hvd *d, const uint8_t *b, size_t bl, size_t *out_len)
{
	const uint32_t cap = 256;
	struct hv_ctl_list req;
	struct hv_ctl_list_rep rep = {0, HV_DOMID_INVALID};
	uint8_t *p = body_buf + sizeof(rep);

	if (bl != sizeof(req))
		return -EINVAL;
	memcpy(&req, b, sizeof(req));
	if (req.max == 0 || req.max > cap)
		req.max = cap;
	for (uint32_t i = req.start; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];
		struct hv_ctl_domain_info info;

		if (!dom)
			continue;
		if (rep.count == req.max) {
			rep.next = i;
			break;
		}
		hvd_domain_cpu(dom);
		hvd_domain_info(d, dom, &info);
		memcpy(p, &info, sizeof(info));
		p += sizeof(info);
		rep.count++;
	}
	memcpy(body_buf, &rep, sizeof(rep));
	*out_len = (size_t)(p - body_buf);
	return 0;
}

static int op_info(struct hvd *d, const uint8_t *b, size_t bl, size_t *out_len)
{
	struct hv_ctl_lookup req;
	struct hvd_domain *dom;
	struct hv_ctl_domain_info info;

	if (bl != sizeof(req))
		return -EINVAL;
	memcpy(&req, b, sizeof(req));
	if (req.domid == HV_DOMID_INVALID) {
		if (!hv_name_field_ok(req.name, sizeof(req.name), false, false))
			return -EINVAL;
		dom = hvd_domain_by_name(d, req.name);
	} else {
		dom = hvd_domain_get(d, req.domid);
	}
	if (!dom)
		return -ESRCH;
	hvd_domain_cpu(dom);
	hvd_domain_info(d, dom, &info);
	memcpy(body_buf, &info, sizeof(info));
	*out_len = sizeof(info);
	return 0;
}

static int op_relabel(struct hvd *d, const uint8_t *b, size_t bl,
		      size_t *out_len, char *why)
{
	static struct hv_ctl_blocker blk[HV_CTL_BLOCKERS_MAX];
	struct hv_ctl_relabel req;
	struct hv_ctl_update_rep rep;
	int rc;

	if (bl != sizeof(req))
		return -EINVAL;
	memcpy(&req, b, sizeof(req));
	if (!hv_name_field_ok(req.label, sizeof(req.label), true, false))
		return -EINVAL;
	rc = hvd_policy_relabel(d, req.domid, req.label, req.flags, &rep, blk,
				why, WHY_LEN);
	*out_len = put_update(body_buf, &rep, blk);
	return rc;
}

static int op_reslabel(struct hvd *d, uint32_t op, const uint8_t *b, size_t bl,
		       size_t *out_len, char *why)
{
	static char res[HV_CTL_STR_MAX + 1], label[HV_CTL_STR_MAX + 1];
	struct hv_cur cur;
	int rc;

	hv_cur_init(&cur, b, bl);
	if (op == HV_CTL_RES_LABEL_LIST) {
		struct hv_ctl_list req;
		struct hv_ctl_list_rep rep = {0, HV_DOMID_INVALID};
		struct hv_wbuf w;

		if (hv_cur_get(&cur, &req, sizeof(req)) || hv_cur_left(&cur))
			return -EINVAL;
		hv_wbuf_init(&w, body_buf, HV_CTL_MSG_MAX - 1024);
		hv_wbuf_put(&w, &rep, sizeof(rep));
		for (size_t i = req.start; i < d->n_reslabels; i++) {
			size_t before = w.len;

			if (req.max && rep.count == req.max) {
				rep.next = (uint32_t)i;
				break;
			}
			hv_wbuf_put_str(&w, d->reslabels[i].resource);
			hv_wbuf_put_str(&w, d->reslabels[i].label);
			if (hv_wbuf_error(&w)) {
				w.len = before;
				rep.next = (uint32_t)i;
				break;
			}
			rep.count++;
		}
		memcpy(body_buf, &rep, sizeof(rep));
		*out_len = w.len;
		return 0;
	}
	if (hv_cur_get_str(&cur, res, sizeof(res), HV_CTL_STR_MAX) ||
	    res[0] == '\0')
		return -EINVAL;
	if (op == HV_CTL_RES_LABEL_SET) {
		if (hv_cur_get_str(&cur, label, sizeof(label),
				   HV_NAME_LEN - 1) ||
		    hv_cur_left(&cur))
			return -EINVAL;
		/* Privileges only narrow: a resource in use keeps a label
		 * its users may use (hvd_device.c). */
		rc = hvd_res_relabel_check(d, res, label, why, WHY_LEN);
		if (rc)
			return rc;
		rc = hvd_reslabel_set(d, res, label);
		if (!rc) {
			hvd_res_relabelled(d, res, label);
			snprintf(why, WHY_LEN, "resource %.400s labelled %.60s",
				 res, label);
		}
		return rc;
	}
	if (hv_cur_left(&cur))
		return -EINVAL;
	if (op == HV_CTL_RES_LABEL_RM) {
		if (!hvd_reslabel_get(d, res))
			return -ENOENT;
		rc = hvd_res_relabel_check(d, res, NULL, why, WHY_LEN);
		return rc ? rc : hvd_reslabel_rm(d, res);
	}
	/* GET */
	const char *l = hvd_reslabel_get(d, res);
	struct hv_wbuf w;

	if (!l)
		return -ENOENT;
	hv_wbuf_init(&w, body_buf, sizeof(body_buf));
	hv_wbuf_put_str(&w, l);
	*out_len = w.len;
	return 0;
}

/* Up to `budget` bytes of JSON lines from `from`; returns records put. */
static uint32_t audit_fill(struct hvd *d, uint64_t from, size_t budget,
			   uint8_t *out, size_t *n_bytes, uint64_t *next,
			   uint64_t *first)
{
	static struct hooks_audit_record recs[16];
	static char json[HOOKS_JSON_MAX];
	uint32_t n_rec = 0;
	size_t used = 0;

	*next = from;
	*first = 0;
	for (;;) {
		size_t got = hooks_audit_read(d->hooks, *next, recs, 16);

		if (!got)
			break;
		for (size_t i = 0; i < got; i++) {
			int l = hooks_audit_json(&recs[i], json, sizeof(json));

			if (l < 0 || (size_t)l >= sizeof(json))
				l = (int)strlen(json);
			if (used + (size_t)l + 1 > budget)
				goto done;
			if (!*first)
				*first = recs[i].seq;
			memcpy(out + used, json, (size_t)l);
			out[used + (size_t)l] = '\n';
			used += (size_t)l + 1;
			n_rec++;
			*next = recs[i].seq + 1;
		}
	}
done:
	*n_bytes = used;
	return n_rec;
}

static int op_audit(struct hvd *d, struct hvd_ctl_conn *c, const uint8_t *b,
		    size_t bl, size_t *out_len)
{
	struct hv_ctl_audit_req req;
	struct hv_ctl_audit_rep rep = {0};
	size_t budget, n_bytes, pad;
	uint64_t first, from;

	if (bl != sizeof(req))
		return -EINVAL;
	memcpy(&req, b, sizeof(req));
	if (req.flags & ~HV_CTL_AUDIT_F_FOLLOW)
		return -EINVAL;
	budget = HV_CTL_MSG_MAX - 1024;
	if (req.max_bytes && req.max_bytes < budget)
		budget = req.max_bytes;
	from = req.from_seq ? req.from_seq : 1;
	rep.n_records = audit_fill(d, from, budget, body_buf + sizeof(rep),
				   &n_bytes, &rep.next_seq, &first);
	/* Asked for records the ring no longer has: say how many. */
	if (req.from_seq && first > from)
		rep.dropped = first - from;
	/* Asked beyond the newest: the next record made is the next one
	 * (how a follower starts "from now"). */
	if (rep.next_seq > hooks_audit_next_seq(d->hooks))
		rep.next_seq = hooks_audit_next_seq(d->hooks);
	rep.n_bytes = (uint32_t)n_bytes;
	pad = (4 - n_bytes % 4) % 4;
	memset(body_buf + sizeof(rep) + n_bytes, 0, pad);
	memcpy(body_buf, &rep, sizeof(rep));
	*out_len = sizeof(rep) + n_bytes + pad;
	if (req.flags & HV_CTL_AUDIT_F_FOLLOW) {
		c->follow = true;
		c->audit_next = rep.next_seq;
	}
	return 0;
}

static int op_stats(struct hvd *d, size_t *out_len)
{
	struct hv_ctl_stats_rep s = {
		.hypercalls = d->st.hypercalls,
		.hypercall_errors = d->st.hypercall_errors,
		.denials = d->st.denials,
		.domains_created = d->st.created,
		.domains_destroyed = d->st.destroyed,
		.domains_crashed = d->st.crashed,
		.evtchn_mediated_sends = d->st.mediated_sends,
		.policy_generation = hooks_generation(d->hooks),
		.n_domains = d->n_live,
		.n_hooks = HOOKS_ID__COUNT,
		.pages_live = d->st.pages_live,
		.channels_live = d->st.channels_live,
	};
	uint8_t *p = body_buf + sizeof(s);

	memcpy(body_buf, &s, sizeof(s));
	for (int i = 0; i < HOOKS_ID__COUNT; i++) {
		struct hooks_stats hs;
		struct hv_ctl_hook_stats e;

		memset(&e, 0, sizeof(e));
		hooks_stats(d->hooks, (enum hooks_id)i, &hs);
		snprintf(e.name, sizeof(e.name), "%s",
			 hooks_hook_info((enum hooks_id)i)->name);
		e.evaluated = hs.engine.evaluated;
		e.denied = hs.denied;
		e.cache_hits = hs.engine.cache_hits;
		e.calls = hs.calls;
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	*out_len = (size_t)(p - body_buf);
	return 0;
}

static int op_console(struct hvd *d, const uint8_t *b, size_t bl, int *fd,
		      unsigned *nfds)
{
	char path[4200];
	uint32_t domid;

	if (get_domid(b, bl, &domid) || domid == 0 || domid > HV_DOMID_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%u.log", d->console_dir, domid);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	*nfds = 1;
	return 0;
}

static int op_evtchn_list(struct hvd *d, const uint8_t *b, size_t bl,
			  size_t *out_len)
{
	struct hv_ctl_evtchn_rep rep = {0};
	const size_t room = (HV_CTL_MSG_MAX - 1024 - sizeof(rep)) /
			    sizeof(struct hv_ctl_evtchn_entry);
	uint8_t *p = body_buf + sizeof(rep);
	uint32_t domid;

	if (get_domid(b, bl, &domid))
		return -EINVAL;
	for (uint32_t i = 0; i <= HV_DOMID_MAX && rep.count < room; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (!dom || (domid != HV_DOMID_INVALID && i != domid))
			continue;
		for (uint32_t pt = 1; pt < HV_EVTCHN_PORTS && rep.count < room;
		     pt++) {
			const struct hvd_port *po = &dom->ports[pt];
			struct hv_ctl_evtchn_entry e = {
				i,
				pt,
				po->status,
				po->remote_dom,
				po->remote_port,
				po->mediated ? HV_EVTCHN_F_SEND_MEDIATED : 0,
			};

			if (po->status == HV_EVTCHNSTAT_CLOSED)
				continue;
			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
			rep.count++;
		}
	}
	if (domid != HV_DOMID_INVALID && !hvd_domain_get(d, domid))
		return -ESRCH;
	memcpy(body_buf, &rep, sizeof(rep));
	*out_len = (size_t)(p - body_buf);
	return 0;
}

static int op_device_list(struct hvd *d, const uint8_t *b, size_t bl,
			  size_t *out_len)
{
	struct hv_ctl_device_rep rep = {0, 0};
	const size_t room = (HV_CTL_MSG_MAX - 1024 - sizeof(rep)) /
			    sizeof(struct hv_ctl_device_entry);
	uint8_t *p = body_buf + sizeof(rep);
	uint32_t f;

	if (get_domid(b, bl, &f))
		return -EINVAL;
	if (f != HV_DOMID_INVALID && !hvd_domain_get(d, f))
		return -ESRCH;
	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		const struct hvd_domain *dom = d->doms[i];

		for (uint32_t k = 0; dom && dom->n_devs && k < HV_DEV_PER_DOM;
		     k++) {
			const struct hvd_dev *dv = &dom->devs[k];
			struct hv_ctl_device_entry e;
			const char *ln;

			if (!dv->used || (f != HV_DOMID_INVALID && f != i &&
					  f != dv->frontend))
				continue;
			if (rep.total++ >= room)
				continue;
			memset(&e, 0, sizeof(e));
			e.backend = i;
			e.frontend = dv->frontend;
			e.cls = dv->cls;
			e.flags = dv->labelled ? HV_CTL_DEV_F_LABELLED : 0;
			ln = hvd_label_name(d, dv->row);
			snprintf(e.label, sizeof(e.label), "%s",
				 ln ? ln : dv->label);
			memcpy(e.resource, dv->name, sizeof(e.resource));
			e.resource[sizeof(e.resource) - 1] = '\0';
			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
			rep.count++;
		}
	}
	memcpy(body_buf, &rep, sizeof(rep));
	*out_len = (size_t)(p - body_buf);
	return 0;
}

static int op_gnt_list(struct hvd *d, const uint8_t *b, size_t bl,
		       size_t *out_len)
{
	struct hv_ctl_gnt_rep rep = {0};
	const size_t room = (HV_CTL_MSG_MAX - 1024 - sizeof(rep)) /
			    sizeof(struct hv_ctl_gnt_entry);
	uint8_t *p = body_buf + sizeof(rep);
	uint32_t f;

	if (get_domid(b, bl, &f))
		return -EINVAL;
	if (f != HV_DOMID_INVALID && !hvd_domain_get(d, f))
		return -ESRCH;
	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (!dom)
			continue;
		for (uint32_t g = 0; g < HV_GNT_PER_DOM && rep.count < room;
		     g++) {
			const struct hvd_grant *ge = &dom->grants[g];
			struct hv_ctl_gnt_entry e = {
				HV_CTL_GNT_KIND_GRANT,
				i,
				g,
				ge->grantee,
				HV_DOMID_INVALID,
				0,
				ge->flags,
				ge->n_maps,
			};

			if (!ge->used || (f != HV_DOMID_INVALID && f != i &&
					  f != ge->grantee))
				continue;
			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
			rep.count++;
		}
		for (uint32_t h = 0; h < HV_MAPS_PER_DOM && rep.count < room;
		     h++) {
			const struct hvd_map *mp = &dom->maps[h];
			struct hv_ctl_gnt_entry e = {
				HV_CTL_GNT_KIND_MAP,
				mp->granter,
				mp->gref,
				i,
				i,
				h,
				(mp->flags & HV_GNTMAP_READONLY
					 ? HV_GNT_READONLY
					 : 0) |
					(mp->orphaned ? HV_CTL_GNT_F_ORPHANED
						      : 0),
				0,
			};

			if (!mp->used || (f != HV_DOMID_INVALID && f != i &&
					  f != mp->granter))
				continue;
			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
			rep.count++;
		}
	}
	memcpy(body_buf, &rep, sizeof(rep));
	*out_len = (size_t)(p - body_buf);
	return 0;
}

static int op_mode(struct hvd *d, const uint8_t *b, size_t bl, size_t *out_len,
		   char *why)
{
	struct hv_ctl_mode m;

	if (bl != sizeof(m))
		return -EINVAL;
	memcpy(&m, b, sizeof(m));
	if ((m.set | m.clear) & ~HV_CTL_MODE_ALL || (m.set & m.clear))
		return -EINVAL;
	if (m.set & HV_CTL_MODE_PERMISSIVE)
		hooks_set_mode(d->hooks, HOOKS_PERMISSIVE);
	if (m.clear & HV_CTL_MODE_PERMISSIVE)
		hooks_set_mode(d->hooks, HOOKS_ENFORCING);
	if (m.set & HV_CTL_MODE_MEDIATE_SEND)
		d->mediate_send = true;
	if (m.clear & HV_CTL_MODE_MEDIATE_SEND)
		d->mediate_send = false;
	m.set = (hooks_get_mode(d->hooks) == HOOKS_PERMISSIVE
			 ? HV_CTL_MODE_PERMISSIVE
			 : 0) |
		(d->mediate_send ? HV_CTL_MODE_MEDIATE_SEND : 0);
	m.clear = 0;
	snprintf(why, WHY_LEN, "%s, evtchn send %s",
		 hooks_mode_name(hooks_get_mode(d->hooks)),
		 d->mediate_send ? "mediated" : "direct");
	memcpy(body_buf, &m, sizeof(m));
	*out_len = sizeof(m);
	return 0;
}

/* The domain just created (its info is in body_buf) has not made a
 * hypercall yet: hold the answer until it does, dies, or START_WAIT_NS
 * pass.  Returns whether the answer is held. */
static bool start_wait(struct hvd *d, struct hvd_ctl_conn *c, uint32_t seq)
{
	struct hv_ctl_domain_info info;
	struct hvd_domain *dom;
	struct epoll_event e = {.events = 0, .data.ptr = &c->ev};

	memcpy(&info, body_buf, sizeof(info));
	dom = hvd_domain_get(d, info.domid);
	if (!dom || !dom->starting)
		return false;
	/* No EPOLLIN until answered; a hangup is still reported. */
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
		return false;
	c->wait_domid = dom->domid;
	c->wait_seq = seq;
	c->wait_until = hvd_now_ns() + START_WAIT_NS;
	return true;
}

/* The last non-empty line of a console log, printable, into buf. */
static void console_last_line(const struct hvd *d, uint32_t domid, char *buf,
			      size_t len)
{
	char path[4200], tail[512];
	ssize_t n = -1;
	off_t size;
	char *end, *line;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%u.log", d->console_dir, domid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > 0) {
		off_t from = size > (off_t)sizeof(tail) - 1
				     ? size - (off_t)sizeof(tail) + 1
				     : 0;

		n = pread(fd, tail, sizeof(tail) - 1, from);
	}
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	end = tail + n;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	/* Written by the guest: nothing that could steer a terminal. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	snprintf(buf, len, "%.200s", line);
}

static void start_answer(struct hvd *d, struct hvd_ctl_conn *c,
			 struct hvd_domain *dom, bool timed_out)
{
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = &c->ev};
	struct hv_ctl_domain_info info;
	char why[WHY_LEN], last[256];
	int32_t err = 0;

	c->wait_domid = 0;
	hvd_domain_info(d, dom, &info);
	if (hvd_domain_running(dom) ||
	    (dom->state == HV_DOMSTATE_SHUTDOWN && dom->exit_status == 0)) {
		/* Running (or ran to a clean end without hypercalls). */
		snprintf(why, sizeof(why), "created domain %u%s", dom->domid,
			 timed_out ? " (no hypercall from it yet)" : "");
	} else if (dom->state == HV_DOMSTATE_SHUTDOWN) {
		/* Killed by a destroy (or the daemon's exit), not by itself. */
		snprintf(why, sizeof(why),
			 "domain %u (%s) was destroyed during start-up",
			 dom->domid, dom->name);
		err = -ESRCH;
	} else {
		console_last_line(d, dom->domid, last, sizeof(last));
		snprintf(why, sizeof(why),
			 "domain %u (%s) died during start-up, %s %d%s%s",
			 dom->domid, dom->name,
			 dom->exit_status < 0 ? "signal" : "exit status",
			 dom->exit_status < 0 ? -dom->exit_status
					      : dom->exit_status,
			 last[0] ? ": console: " : " (console empty)", last);
		err = -ESRCH;
	}
	if (reply(c, HV_CTL_DOMAIN_CREATE | HV_CTL_REPLY, c->wait_seq, err,
		  &info, sizeof(info), why, NULL, 0) ||
	    epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
		conn_close(d, c);
}

void hvd_ctl_start_done(struct hvd *d, struct hvd_domain *dom)
{
	for (struct hvd_ctl_conn *c = d->ctl_conns; c; c = c->next) {
		if (c->wait_domid == dom->domid) {
			start_answer(d, c, dom, false);
			return;
		}
	}
}

int hvd_ctl_start_timeout(const struct hvd *d)
{
	uint64_t now = hvd_now_ns(), first = UINT64_MAX;

	for (const struct hvd_ctl_conn *c = d->ctl_conns; c; c = c->next)
		if (c->wait_domid && c->wait_until < first)
			first = c->wait_until;
	if (first == UINT64_MAX)
		return -1;
	/* Rounded up: waking a little late beats spinning. */
	return first <= now ? 0 : (int)((first - now + 999999) / 1000000);
}

void hvd_ctl_start_expire(struct hvd *d)
{
	uint64_t now = hvd_now_ns();

	for (struct hvd_ctl_conn *c = d->ctl_conns, *next; c; c = next) {
		struct hvd_domain *dom;

		next = c->next;
		if (!c->wait_domid || c->wait_until > now)
			continue;
		dom = hvd_domain_get(d, c->wait_domid);
		if (!dom) { /* destroyed and retired meanwhile */
			struct epoll_event e = {.events = EPOLLIN,
						.data.ptr = &c->ev};

			c->wait_domid = 0;
			if (reply(c, HV_CTL_DOMAIN_CREATE | HV_CTL_REPLY,
				  c->wait_seq, -ESRCH, NULL, 0,
				  "the domain was destroyed during start-up",
				  NULL, 0) ||
			    epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
				conn_close(d, c);
			continue;
		}
		dom->starting = false;
		start_answer(d, c, dom, true);
	}
}

static void handle(struct hvd *d, struct hvd_ctl_conn *c, const uint8_t *msg,
		   size_t len, int *fds, unsigned nfds)
{
	struct hv_ctl_hdr h;
	const uint8_t *b = NULL;
	size_t bl = 0, out_len = 0;
	char why[WHY_LEN] = "";
	int out_fd = -1;
	unsigned out_nfds = 0;
	uint32_t domid;
	int rc;

	rc = hv_ctl_parse_hdr(msg, len, &h, &b, &bl);
	/* Only policy load takes an fd; any other fd is refused. */
	if (!rc && nfds && h.op != HV_CTL_POLICY_LOAD)
		rc = -EINVAL;
	if (rc)
		goto send;
	switch (h.op) {
	case HV_CTL_POLICY_LOAD:
		rc = op_policy_load(d, b, bl, fds, nfds, &out_len, why);
		break;
	case HV_CTL_POLICY_GET:
		rc = bl ? -EINVAL
			: op_policy_get(d, &out_len, &out_fd, &out_nfds, why);
		break;
	case HV_CTL_DOMAIN_CREATE:
	case HV_CTL_DRY_RUN:
		rc = op_create(d, b, bl, h.op == HV_CTL_DRY_RUN, &out_len, why);
		if (!rc && h.op == HV_CTL_DOMAIN_CREATE &&
		    start_wait(d, c, h.seq))
			return; /* answered by hvd_ctl_start_done */
		break;
	case HV_CTL_DOMAIN_DESTROY:
		rc = get_domid(b, bl, &domid);
		if (!rc)
			rc = hvd_domain_destroy(d, domid);
		break;
	case HV_CTL_DOMAIN_PAUSE:
	case HV_CTL_DOMAIN_UNPAUSE:
		rc = get_domid(b, bl, &domid);
		if (!rc)
			rc = hvd_domain_pause(d, domid,
					      h.op == HV_CTL_DOMAIN_PAUSE);
		break;
	case HV_CTL_DOMAIN_LIST:
		rc = op_list(d, b, bl, &out_len);
		break;
	case HV_CTL_DOMAIN_INFO:
		rc = op_info(d, b, bl, &out_len);
		break;
	case HV_CTL_RELABEL:
		rc = op_relabel(d, b, bl, &out_len, why);
		break;
	case HV_CTL_RES_LABEL_SET:
	case HV_CTL_RES_LABEL_RM:
	case HV_CTL_RES_LABEL_GET:
	case HV_CTL_RES_LABEL_LIST:
		rc = op_reslabel(d, h.op, b, bl, &out_len, why);
		break;
	case HV_CTL_AUDIT_READ:
		rc = op_audit(d, c, b, bl, &out_len);
		break;
	case HV_CTL_STATS:
		rc = bl ? -EINVAL : op_stats(d, &out_len);
		break;
	case HV_CTL_CONSOLE:
		rc = op_console(d, b, bl, &out_fd, &out_nfds);
		break;
	case HV_CTL_EVTCHN_LIST:
		rc = op_evtchn_list(d, b, bl, &out_len);
		break;
	case HV_CTL_GNT_LIST:
		rc = op_gnt_list(d, b, bl, &out_len);
		break;
	case HV_CTL_DEVICE_LIST:
		rc = op_device_list(d, b, bl, &out_len);
		break;
	case HV_CTL_SET_MODE:
		rc = op_mode(d, b, bl, &out_len, why);
		break;
	case HV_CTL_GET_MODE:
		/* The same answer with nothing to change. */
		rc = bl ? -EINVAL
			: op_mode(d,
				  (const uint8_t *)&(struct hv_ctl_mode){0, 0},
				  sizeof(struct hv_ctl_mode), &out_len, why);
		break;
	default:
		rc = -ENOSYS;
		break;
	}
send:
	if (rc && !why[0])
		snprintf(why, WHY_LEN, "%s: %s", hv_ctl_op_name(h.op),
			 strerror(-rc));
	if (reply(c, h.op | HV_CTL_REPLY, h.seq, rc, body_buf, out_len, why,
		  &out_fd, out_nfds))
		conn_close(d, c);
	if (out_fd >= 0)
		close(out_fd);
}

void hvd_ctl_on_readable(struct hvd *d, struct hvd_ctl_conn *c)
{
	static uint8_t in[HV_CTL_MSG_MAX + 1];
	int fds[HV_SOCK_FDS_MAX];
	unsigned nfds = 0;
	ssize_t n;

	/* Waiting for a guest, the connection is not read: this can only be
	 * its hangup, and no one is left to answer. */
	if (c->wait_domid) {
		conn_close(d, c);
		return;
	}
	n = hv_sock_recv(c->fd, in, sizeof(in), fds, HV_SOCK_FDS_MAX, &nfds,
			 MSG_DONTWAIT);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		conn_close(d, c);
		return;
	}
	handle(d, c, in, (size_t)n, fds, nfds);
	hv_close_fds(fds, nfds);
}

void hvd_ctl_audit_push(struct hvd *d)
{
	uint64_t head = hooks_audit_next_seq(d->hooks);

	for (struct hvd_ctl_conn *c = d->ctl_conns, *next; c; c = next) {
		next = c->next;
		while (c->follow && c->audit_next < head) {
			struct hv_ctl_audit_rep rep = {0};
			size_t n_bytes, pad;
			uint64_t first;

			rep.n_records = audit_fill(
				d, c->audit_next, HV_CTL_MSG_MAX - 1024,
				body_buf + sizeof(rep), &n_bytes, &rep.next_seq,
				&first);
			if (!rep.n_records) {
				c->audit_next = head; /* overwritten: gone */
				break;
			}
			if (first > c->audit_next)
				rep.dropped = first - c->audit_next;
			rep.n_bytes = (uint32_t)n_bytes;
			pad = (4 - n_bytes % 4) % 4;
			memset(body_buf + sizeof(rep) + n_bytes, 0, pad);
			memcpy(body_buf, &rep, sizeof(rep));
			c->audit_next = rep.next_seq;
			if (reply(c, HV_CTL_NTF_AUDIT, 0, 0, body_buf,
				  sizeof(rep) + n_bytes + pad, NULL, NULL, 0)) {
				conn_close(d, c);
				break;
			}
		}
	}
}
