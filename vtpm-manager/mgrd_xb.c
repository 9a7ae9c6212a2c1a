/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_xb.c - the manager as a multi-device tpmif v2 backend: one xenbus
 * state machine per instance ring (reference/vtpm.md §2.2; the same
 * machine as vtpm-instance/vtpmd_xenbus.c, once per device).
 *
 * The toolstack writes, for each instance stub domain STUB,
 *   /local/domain/STUB/device/vtpm/0         (the stub's, as frontend)
 *   /local/domain/SELF/backend/vtpm/STUB/0   (ours)
 * exactly as for a guest and its stub.  Per device:
 *   backend dir there, frontend-id == STUB (the directory's name) and
 *   frontend == /local/domain/STUB/device/vtpm/DEVID
 *       -> feature-protocol-v2=1, InitWait, watch the frontend dir
 *   frontend Initialised / Connected -> map ring-ref, bind the event
 *       channel of STUB, ready=1, Connected
 *   frontend Closing -> Closing; Closed / Initialising -> disconnect,
 *       InitWait
 *   channel closed by the peer -> disconnect, InitWait (connect again
 *       only on Initialised)
 *   frontend dir gone or our dir removed -> disconnect, the device is
 *       forgotten, and the key holder told the domain is gone
 * Every disconnect tells the key holder the ring closed (what the stub
 * had open is closed).
 *
 * The peer is STUB, the domain whose grant we map and whose channel we
 * bind: the key holder hears that number, never anything the stub wrote.
 * Requests are read from the page once (vtpm_ring_fetch), parsed with
 * mgr_req_parse, and the malformed ones answered here; one request per
 * ring is with the key holder at a time, and the ring is not looked at
 * again until its answer is written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include <openssl/crypto.h>

#include "vtpm-manager/mgrd.h"

#define TOKEN_BE "mgrd-be"
#define TOKEN_FE "mgrd-fe"

static void sanitize(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static int xs_get(struct xs_handle *xs, const char *path, char *buf, size_t len)
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

static int get(struct mgrd_front *f, const char *dir, const char *key,
	       char *buf, size_t len)
{
	char path[192];

	if (!key)
		return xs_get(f->xs, dir, buf, len);
	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return xs_get(f->xs, path, buf, len);
}

static int put(struct mgrd_front *f, struct mgrd_dev *d, const char *key,
	       const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", d->be_path, key);
	if (!xs_write(f->xs, XBT_NULL, path, val, (unsigned)strlen(val))) {
		int e = errno ? errno : EIO;

		mgrd_log("writing %s: %s", path, mgrd_strerror(e));
		return -e;
	}
	return 0;
}

static void set_state(struct mgrd_front *f, struct mgrd_dev *d,
		      enum mgrd_xb_state st, const char *why)
{
	char v[4];

	if (d->state == st)
		return;
	snprintf(v, sizeof(v), "%u", (unsigned)st);
	if (put(f, d, "state", v))
		return;
	mgrd_log("stub domain %u device %u: %s -> %s (%s)", d->stub, d->devid,
		 vtpm_xb_state_name(d->state), vtpm_xb_state_name(st), why);
	d->state = st;
}

static void fail(struct mgrd_front *f, struct mgrd_dev *d, int err,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(struct mgrd_front *f, struct mgrd_dev *d, int err,
		 const char *fmt, ...)
{
	char what[256], msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s", what, mgrd_strerror(err));
	mgrd_log_limited(&f->rl, "stub domain %u: error: %s", d->stub, msg);
	if (!put(f, d, "error", msg))
		d->error_set = true;
	set_state(f, d, MGRD_XB_CLOSING, "error");
}

/* ------------------------------------------------------------ the ring */

static void disconnect(struct mgrd_front *f, struct mgrd_dev *d,
		       const char *why)
{
	int rc;

	if (!d->connected)
		return;
	rc = plat_evtchn_unbind(f->plat, d->lport);
	if (rc && rc != -EINVAL)
		mgrd_log("unbinding port %u: %s", d->lport, mgrd_strerror(rc));
	rc = plat_gnt_unmap(f->plat, &d->map);
	if (rc)
		mgrd_log("unmapping ring-ref %u of domain %u: %s", d->gref,
			 d->stub, mgrd_strerror(rc));
	d->connected = false;
	d->serial = ++f->next_serial; /* an answer in flight is stale now */
	mgrd_log("stub domain %u disconnected (%s): %llu requests, %llu "
		 "refused here",
		 d->stub, why, (unsigned long long)d->requests,
		 (unsigned long long)d->refused);
	mgrd_front_peer_event(f, MGRD_ENV_CLOSED, d->stub);
}

static void drop(struct mgrd_front *f, struct mgrd_dev *d, const char *why)
{
	if (!d->connected)
		return;
	disconnect(f, d, why);
	put(f, d, "ready", "0");
}

static int fe_number(struct mgrd_front *f, struct mgrd_dev *d, const char *key,
		     uint32_t min, uint32_t max, uint32_t *out)
{
	char v[16], s[sizeof(v)];
	int rc;

	rc = get(f, d->fe_path, key, v, sizeof(v));
	if (rc == -E2BIG) {
		fail(f, d, -EINVAL,
		     "%s of domain %u: longer than %zu "
		     "characters",
		     key, d->stub, sizeof(v) - 1);
		return -EINVAL;
	}
	if (rc) {
		fail(f, d, rc, "reading %s of domain %u", key, d->stub);
		return rc;
	}
	rc = mgrd_parse_u32(v, max, out);
	if (!rc && (*out < min || (v[0] == '0' && v[1] == 'x')))
		rc = -ERANGE;
	if (rc) {
		sanitize(v, s, sizeof(s));
		fail(f, d, -EINVAL,
		     "%s of domain %u is \"%s\", not a decimal number in "
		     "%u..%u",
		     key, d->stub, s, min, max);
		return -EINVAL;
	}
	return 0;
}

static void connect_ring(struct mgrd_front *f, struct mgrd_dev *d)
{
	uint32_t gref, rport, local;
	struct plat_map m;
	char v2[8], s[sizeof(v2)];
	int rc;

	if (fe_number(f, d, "ring-ref", 0, VTPM_XB_GREF_MAX, &gref) ||
	    fe_number(f, d, "event-channel", 1, VTPM_XB_PORT_MAX, &rport))
		return;
	rc = get(f, d->fe_path, "feature-protocol-v2", v2, sizeof(v2));
	if (rc || strcmp(v2, "1")) {
		sanitize(rc ? "" : v2, s, sizeof(s));
		fail(f, d, -EOPNOTSUPP,
		     "frontend of domain %u: feature-protocol-v2 is \"%s\", "
		     "not 1",
		     d->stub, s);
		return;
	}
	rc = plat_gnt_map(f->plat, d->stub, gref, true, &m);
	if (rc) {
		fail(f, d, rc, "mapping ring-ref %u of domain %u", gref,
		     d->stub);
		return;
	}
	rc = plat_evtchn_bind(f->plat, d->stub, rport, &local);
	if (rc) {
		plat_gnt_unmap(f->plat, &m);
		fail(f, d, rc, "binding event-channel %u of domain %u", rport,
		     d->stub);
		return;
	}
	d->connected = true;
	d->map = m;
	d->gref = gref;
	d->rport = rport;
	d->lport = local;
	d->serial = ++f->next_serial;
	d->requests = d->refused = 0;
	if (put(f, d, "ready", "1"))
		goto undo;
	set_state(f, d, MGRD_XB_CONNECTED, "frontend ready");
	if (d->state != MGRD_XB_CONNECTED)
		goto undo;
	mgrd_log("stub domain %u connected: ring-ref %u, event-channel %u "
		 "(port %u here)",
		 d->stub, gref, rport, local);
	/* A frontend may have submitted before it saw us Connected. */
	mgrd_xb_kick(f, d);
	return;
undo:
	drop(f, d, "XenStore write failed");
}

static void notify(struct mgrd_front *f, struct mgrd_dev *d)
{
	int rc = plat_evtchn_notify(f->plat, d->lport);

	if (rc)
		mgrd_log_limited(&f->rl, "notifying domain %u: %s", d->stub,
				 mgrd_strerror(rc));
}

/* An answer made here (malformed request): written at once. */
static void answer_here(struct mgrd_front *f, struct mgrd_dev *d, uint32_t op,
			enum mgr_rc rc, const char *why)
{
	uint8_t rsp[MGR_HDR_LEN + 2 + MGR_MSG_MAX];
	size_t n = mgr_rsp_error(op, rc, rsp, sizeof(rsp), "%s", why);

	d->refused++;
	mgrd_log_limited(&f->rl, "stub domain %u: %s refused here: %s: %s",
			 d->stub, mgr_op_str(op), mgr_rc_str(rc), why);
	vtpm_ring_respond(d->map.addr, &d->req, rsp, n);
	notify(f, d);
}

void mgrd_xb_kick(struct mgrd_front *f, struct mgrd_dev *d)
{
	struct mgr_req q;
	char why[MGR_MSG_MAX + 1];
	uint32_t trc = 0, op;
	enum mgr_rc rc;
	int p;

	if (!d->connected || d->busy)
		return;
	p = plat_evtchn_pending(f->plat, d->lport);
	if (p < 0) {
		mgrd_xb_peer_closed(f, d, p);
		return;
	}
	why[0] = '\0';
	switch (vtpm_ring_fetch(d->map.addr, VTPM_LOCALITY_ALL_MASK, &d->req,
				&trc, why, sizeof(why))) {
	case VTPM_FETCH_REQUEST:
		break;
	case VTPM_FETCH_CANCEL:
		vtpm_ring_cancel_ack(d->map.addr);
		notify(f, d);
		return;
	case VTPM_FETCH_INVALID:
		answer_here(f, d, 0, MGR_RC_MALFORMED, why);
		return;
	default:
		return;
	}
	memset(&q, 0, sizeof(q));
	rc = mgr_req_parse(MGR_CH_INSTANCE, d->req.cmd, d->req.len, &q, why,
			   sizeof(why));
	op = q.op;
	OPENSSL_cleanse(&q, sizeof(q));
	if (rc != MGR_RC_OK) {
		answer_here(f, d, op, rc, why);
		return;
	}
	d->requests++;
	if (mgrd_front_forward(f, MGR_CH_INSTANCE, d->stub,
			       MGRD_ID(MGRD_ID_DEV, d - f->dev, d->serial),
			       d->req.cmd, d->req.len)) {
		answer_here(f, d, op, MGR_RC_INTERNAL,
			    "the key holder is unreachable");
		return;
	}
	d->busy = true;
	d->busy_serial = d->serial;
	d->inflight = d->req.len;
	f->inflight += d->req.len;
}

static void forget(struct mgrd_dev *d)
{
	if (d->busy) {
		d->gone = true; /* freed when its answer comes */
		return;
	}
	memset(d, 0, sizeof(*d));
}

void mgrd_xb_answer(struct mgrd_front *f, struct mgrd_dev *d, uint32_t serial,
		    const uint8_t *rsp, size_t len)
{
	if (!d->busy)
		return;
	d->busy = false;
	f->inflight -= d->inflight;
	d->inflight = 0;
	if (d->gone) {
		memset(d, 0, sizeof(*d));
		return;
	}
	if (!d->connected || serial != d->serial)
		return; /* the ring it came on is gone */
	vtpm_ring_respond(d->map.addr, &d->req, rsp, len);
	OPENSSL_cleanse(&d->req, sizeof(d->req));
	notify(f, d);
}

void mgrd_xb_peer_closed(struct mgrd_front *f, struct mgrd_dev *d, int err)
{
	char why[96];

	if (!d->connected)
		return;
	if (err == -ENOTCONN)
		snprintf(why, sizeof(why), "domain %u closed the channel",
			 d->stub);
	else
		snprintf(why, sizeof(why), "event channel failed: %s",
			 mgrd_strerror(err));
	d->await_initialised = true;
	drop(f, d, why);
	set_state(f, d, MGRD_XB_INITWAIT, why);
}

/* ------------------------------------------------------------ the end */

/* The stub's frontend dir or our backend dir is gone: the domain is
 * gone (or the toolstack took the device away). */
static void finish(struct mgrd_front *f, struct mgrd_dev *d, const char *why)
{
	char v[8];

	disconnect(f, d, why);
	mgrd_front_peer_event(f, MGRD_ENV_GONE, d->stub);
	if (!get(f, d->be_path, "online", v, sizeof(v)) && !strcmp(v, "0")) {
		if (d->state != MGRD_XB_CLOSED)
			set_state(f, d, MGRD_XB_CLOSED, "online=0");
	} else if (!xs_rm(f->xs, XBT_NULL, d->be_path) && errno != ENOENT) {
		mgrd_log("removing %s: %s", d->be_path, mgrd_strerror(errno));
	}
	mgrd_log("stub domain %u device %u: %s: forgotten", d->stub, d->devid,
		 why);
	if (d->fe_watched)
		xs_unwatch(f->xs, d->fe_path, TOKEN_FE);
	forget(d);
}

static void back_to_initwait(struct mgrd_front *f, struct mgrd_dev *d,
			     const char *why)
{
	d->await_initialised = false;
	if (d->state == MGRD_XB_INITWAIT)
		return;
	if (d->error_set) {
		char path[192];

		snprintf(path, sizeof(path), "%s/error", d->be_path);
		if (xs_rm(f->xs, XBT_NULL, path) || errno == ENOENT)
			d->error_set = false;
	}
	set_state(f, d, MGRD_XB_INITWAIT, why);
}

/* 1 accepted, 0 not yet, -EINVAL the toolstack's nodes are wrong. */
static int check_backend(struct mgrd_front *f, struct mgrd_dev *d)
{
	char v[128], s[64];
	uint32_t id;
	int rc;

	if (d->misconfigured)
		return -EINVAL;
	if (d->state != MGRD_XB_UNKNOWN)
		return 1;
	rc = get(f, d->be_path, "frontend-id", v, sizeof(v));
	if (rc == -ENOENT)
		return 0;
	if (rc || mgrd_parse_u32(v, MGRD_DOMID_MAX, &id) || id != d->stub ||
	    (v[0] == '0' && v[1] == 'x')) {
		sanitize(rc ? "" : v, s, sizeof(s));
		d->misconfigured = true;
		fail(f, d, -EINVAL,
		     "frontend-id is \"%s\", but the directory "
		     "is for domain %u",
		     s, d->stub);
		return -EINVAL;
	}
	rc = get(f, d->be_path, "frontend", v, sizeof(v));
	if (rc == -ENOENT)
		return 0;
	if (rc || strcmp(v, d->fe_path)) {
		sanitize(rc ? "" : v, s, sizeof(s));
		d->misconfigured = true;
		fail(f, d, -EINVAL, "frontend is \"%s\", not %s", s,
		     d->fe_path);
		return -EINVAL;
	}
	if (put(f, d, "feature-protocol-v2", "1"))
		return 0;
	set_state(f, d, MGRD_XB_INITWAIT, "backend directory ready");
	if (d->state != MGRD_XB_INITWAIT)
		return 0;
	mgrd_log("serving stub domain %u device %u", d->stub, d->devid);
	return 1;
}

static bool fe_dir_exists(struct mgrd_front *f, struct mgrd_dev *d)
{
	char v[8];
	int rc = get(f, d->fe_path, NULL, v, sizeof(v));

	return !rc || rc == -E2BIG;
}

static void fe_update(struct mgrd_front *f, struct mgrd_dev *d)
{
	char v[16], s[sizeof(v)];
	uint32_t st;
	int rc;

	rc = get(f, d->fe_path, "state", v, sizeof(v));
	if (rc == -ENOENT || rc == -EACCES) {
		if (!fe_dir_exists(f, d)) {
			if (d->fe_seen)
				finish(f, d, "frontend directory gone");
			return;
		}
		st = MGRD_XB_UNKNOWN;
	} else if (rc) {
		mgrd_log_limited(&f->rl, "frontend state of domain %u: %s",
				 d->stub, mgrd_strerror(rc));
		return;
	} else if (mgrd_parse_u32(v, MGRD_XB_RECONFIGURED, &st) ||
		   (v[0] == '0' && v[1] == 'x')) {
		sanitize(v, s, sizeof(s));
		mgrd_log_limited(&f->rl,
				 "frontend state of domain %u is \"%s\": "
				 "ignored",
				 d->stub, s);
		return;
	}
	switch (st) {
	case MGRD_XB_UNKNOWN:
		if (d->fe_seen)
			finish(f, d, "frontend state Unknown");
		break;
	case MGRD_XB_INITIALISING:
	case MGRD_XB_INITWAIT:
		d->fe_seen = true;
		drop(f, d, "frontend re-initialising");
		back_to_initwait(f, d, "frontend Initialising");
		break;
	case MGRD_XB_INITIALISED:
	case MGRD_XB_CONNECTED:
		d->fe_seen = true;
		if (d->state != MGRD_XB_INITWAIT || d->connected)
			break;
		if (d->await_initialised && st == MGRD_XB_CONNECTED)
			break;
		d->await_initialised = false;
		connect_ring(f, d);
		break;
	case MGRD_XB_CLOSING:
		d->fe_seen = true;
		set_state(f, d, MGRD_XB_CLOSING, "frontend Closing");
		break;
	case MGRD_XB_CLOSED:
		d->fe_seen = true;
		drop(f, d, "frontend closed");
		back_to_initwait(f, d, "frontend Closed");
		break;
	default:
		break;
	}
}

static void dev_update(struct mgrd_front *f, struct mgrd_dev *d)
{
	char v[8];
	int rc = check_backend(f, d);

	if (rc <= 0)
		return;
	if (!get(f, d->be_path, "online", v, sizeof(v)) && !strcmp(v, "0")) {
		if (d->state != MGRD_XB_CLOSED) {
			drop(f, d, "device taken offline by the toolstack");
			set_state(f, d, MGRD_XB_CLOSED, "online=0");
		}
		if (!fe_dir_exists(f, d))
			finish(f, d, "frontend directory gone");
		return;
	}
	if (!d->fe_watched) {
		if (!xs_watch(f->xs, d->fe_path, TOKEN_FE)) {
			mgrd_log("watching %s: %s", d->fe_path,
				 mgrd_strerror(errno));
			return;
		}
		d->fe_watched = true;
	}
	fe_update(f, d);
}

/* ------------------------------------------------------------ the tree */

static struct mgrd_dev *find_dev(struct mgrd_front *f, uint32_t stub,
				 uint32_t devid)
{
	for (uint32_t i = 0; i < MGRD_DEV_MAX; i++)
		if (f->dev[i].used && !f->dev[i].gone &&
		    f->dev[i].stub == stub && f->dev[i].devid == devid)
			return &f->dev[i];
	return NULL;
}

static void add_dev(struct mgrd_front *f, uint32_t stub, uint32_t devid)
{
	struct mgrd_dev *d = NULL;

	for (uint32_t i = 0; i < MGRD_DEV_MAX && !d; i++)
		if (!f->dev[i].used)
			d = &f->dev[i];
	if (!d) {
		mgrd_log_limited(&f->rl,
				 "stub domain %u device %u: already serving "
				 "%u rings, ignored",
				 stub, devid, MGRD_DEV_MAX);
		return;
	}
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->stub = stub;
	d->devid = devid;
	snprintf(d->fe_path, sizeof(d->fe_path),
		 "/local/domain/%u/device/vtpm/%u", stub, devid);
	snprintf(d->be_path, sizeof(d->be_path), "%s/%u/%u", f->be_root, stub,
		 devid);
}

/* Marks every device still listed; adds new ones. */
static void scan(struct mgrd_front *f, bool *listed)
{
	unsigned n = 0, m;
	char **stubs = xs_directory(f->xs, XBT_NULL, f->be_root, &n);

	for (unsigned i = 0; stubs && i < n; i++) {
		char path[128], **devs;
		uint32_t stub;

		if (mgrd_parse_u32(stubs[i], MGRD_DOMID_MAX, &stub) ||
		    stubs[i][0] == '0' || stub == f->self)
			continue;
		snprintf(path, sizeof(path), "%s/%u", f->be_root, stub);
		m = 0;
		devs = xs_directory(f->xs, XBT_NULL, path, &m);
		for (unsigned k = 0; devs && k < m; k++) {
			struct mgrd_dev *d;
			uint32_t devid;

			if (mgrd_parse_u32(devs[k], 65535, &devid) ||
			    (devs[k][0] == '0' && devs[k][1]))
				continue;
			d = find_dev(f, stub, devid);
			if (!d) {
				add_dev(f, stub, devid);
				d = find_dev(f, stub, devid);
			}
			if (d)
				listed[d - f->dev] = true;
		}
		free(devs);
	}
	free(stubs);
}

void mgrd_xb_update(struct mgrd_front *f)
{
	bool listed[MGRD_DEV_MAX] = {false};

	scan(f, listed);
	for (uint32_t i = 0; i < MGRD_DEV_MAX; i++) {
		struct mgrd_dev *d = &f->dev[i];

		if (!d->used || d->gone)
			continue;
		if (!listed[i]) {
			if (d->state != MGRD_XB_UNKNOWN || d->connected)
				finish(f, d, "backend directory removed");
			else
				forget(d);
			continue;
		}
		dev_update(f, d);
	}
}

void mgrd_xb_shutdown(struct mgrd_front *f)
{
	for (uint32_t i = 0; i < MGRD_DEV_MAX; i++) {
		struct mgrd_dev *d = &f->dev[i];
		char v[8];
		int rc;

		if (!d->used || d->gone)
			continue;
		disconnect(f, d, "powering off");
		rc = get(f, d->be_path, NULL, v, sizeof(v));
		if (d->state != MGRD_XB_UNKNOWN && (!rc || rc == -E2BIG)) {
			put(f, d, "ready", "0");
			set_state(f, d, MGRD_XB_CLOSED, "powering off");
		}
	}
}

int mgrd_xb_start(struct mgrd_front *f, char *why, size_t why_len)
{
	snprintf(f->be_root, sizeof(f->be_root),
		 "/local/domain/%u/backend/vtpm", f->self);
	/* Fires once at once, and for every change below. */
	if (!xs_watch(f->xs, f->be_root, TOKEN_BE)) {
		int e = errno ? errno : EIO;

		snprintf(why, why_len, "watching %s: %s", f->be_root,
			 mgrd_strerror(e));
		return -e;
	}
	return 0;
}
