/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd_xenbus.c - the xenbus backend state machine (reference/vtpm.md
 * §2.2, docs/vtpm.md "hvsec-vtpmd").
 *
 *   backend dir appears, frontend-id/frontend/uuid agree with argv
 *       -> feature-protocol-v2=1, InitWait (2), watch the frontend dir
 *   frontend Initialised (3) / Connected (4)
 *       -> map ring-ref RW, bind event-channel, tell the hypervisor the
 *          resource vtpm:UUID is connected (resource_use), ready=1,
 *          Connected (4); a failure -> `error` (with the errno), Closing (5)
 *   frontend Closing (5)          -> Closing (5)
 *   frontend Closed (6) or Initialising (1)
 *       -> disconnect, InitWait (2): a new connection may follow
 *   the peer closed the channel   -> disconnect, InitWait (2); then
 *       connect only on the frontend's next Initialised (its nodes still
 *       describe the closed connection until it re-offers)
 *   frontend dir gone (or Unknown), or our backend dir removed
 *       -> disconnect, remove the backend dir, power off, exit 0
 *   SIGTERM                       -> disconnect, Closed (6), exit 0
 *
 * "disconnect" undoes connect in reverse: the resource (so it no longer
 * counts as in use), the channel, the page.
 *
 * Level-triggered: every watch event re-reads the nodes and acts on what
 * they say now, so coalesced or reordered events change nothing.  Every
 * value from the frontend's directory is the guest's and is parsed
 * strictly; identity comes from argv (XSA-175/178).
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "vtpm-instance/vtpmd.h"

#define TOKEN_BE "vtpmd-be"
#define TOKEN_FE "vtpmd-fe"

/* One node read into buf (NUL-terminated).  0 or -errno; -E2BIG when the
 * value does not fit. */
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

static int xs_put(struct xs_handle *xs, const char *path, const char *val)
{
	if (!xs_write(xs, XBT_NULL, path, val, (unsigned int)strlen(val)))
		return -(errno ? errno : EIO);
	return 0;
}

/* dir/key (or dir itself when key is NULL) into buf.  0 or -errno; -E2BIG
 * when the value does not fit buf. */
static int get(struct vtpmd *d, const char *dir, const char *key, char *buf,
	       size_t len)
{
	char path[192];

	if (!key)
		return xs_get(d->xs, dir, buf, len);
	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return xs_get(d->xs, path, buf, len);
}

/* A node of our backend directory. */
static int put(struct vtpmd *d, const char *key, const char *val)
{
	char path[192];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", d->be_path, key);
	rc = xs_put(d->xs, path, val);
	if (rc)
		vtpmd_log("writing %s: %s", path, vtpmd_strerror(rc));
	return rc;
}

static void set_state(struct vtpmd *d, enum vtpmd_xb_state st, const char *why)
{
	char v[4];

	if (d->state == st)
		return;
	snprintf(v, sizeof(v), "%u", (unsigned)st);
	if (put(d, "state", v))
		return;
	vtpmd_log("state %s -> %s (%s)", vtpm_xb_state_name(d->state),
		  vtpm_xb_state_name(st), why);
	d->state = st;
}

/* A failure the toolstack and the frontend must see: `error` names what
 * failed and its errno, then Closing (xenbus_dev_fatal). */
static void fail(struct vtpmd *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct vtpmd *d, int err, const char *fmt, ...)
{
	char what[256], msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s", what, vtpmd_strerror(err));
	vtpmd_log("error: %s", msg);
	if (!put(d, "error", msg))
		d->error_set = true;
	set_state(d, XB_CLOSING, "error");
}

bool vtpmd_xb_report_fatal(struct vtpmd *d, const char *msg)
{
	char v[8];
	int rc;

	d->fatal = true;
	d->exit_code = 1;
	if (!d->xs)
		return false;
	/* Only into a directory the toolstack made: a write would create
	 * it otherwise. */
	rc = get(d, d->be_path, NULL, v, sizeof(v));
	if (rc && rc != -E2BIG)
		return false;
	if (put(d, "error", msg))
		return false;
	d->error_set = true;
	d->be_seen = true;
	d->misconfigured = true; /* from now on, only wait to be removed */
	set_state(d, XB_CLOSING, "fatal");
	return true;
}

/* ------------------------------------------------------------ the ring */

static_assert(VTPMD_RESOURCE_LEN <= PLAT_DEV_NAME_MAX,
	      "vtpm:UUID fits a device request");

/* The resource this vTPM is to the policy: "vtpm:" and the uuid from
 * argv, lowercase (vtpmd_parse_uuid made it so). */
static void resource_name(const struct vtpmd *d, char *out, size_t len)
{
	snprintf(out, len, "vtpm:%s", d->cfg.uuid);
}

/* Tells the hypervisor the resource is no longer in use by the
 * frontend.  A frontend that died took its connections with it (-ESRCH,
 * -ENOENT): nothing to say then. */
static void device_disconnect(struct vtpmd *d)
{
	char res[VTPMD_RESOURCE_LEN];
	int rc;

	if (!d->ring.dev_connected)
		return;
	resource_name(d, res, sizeof(res));
	rc = plat_device_disconnect(d->plat, d->cfg.frontend_id, PLAT_DEV_VTPM,
				    res);
	if (rc && rc != -ESRCH && rc != -ENOENT)
		vtpmd_log("disconnecting resource %s from domain %u: %s", res,
			  d->cfg.frontend_id, vtpmd_strerror(rc));
	d->ring.dev_connected = false;
}

static void disconnect(struct vtpmd *d, const char *why)
{
	struct vtpmd_ring *r = &d->ring;
	const struct vtpmd_ring_stats *s = &r->st;
	int rc;

	if (!r->connected)
		return;
	/* The reverse of connect: the resource, the channel, the page. */
	device_disconnect(d);
	rc = plat_evtchn_unbind(d->plat, r->local_port);
	/* A port the peer closed is unbound already. */
	if (rc && rc != -EINVAL)
		vtpmd_log("unbinding port %u: %s", r->local_port,
			  vtpmd_strerror(rc));
	rc = plat_gnt_unmap(d->plat, &r->map);
	if (rc)
		vtpmd_log("unmapping ring-ref %u of domain %u: %s", r->gref,
			  d->cfg.frontend_id, vtpmd_strerror(rc));
	r->connected = false;
	vtpmd_log("disconnected from domain %u (%s): %llu commands, %llu "
		  "refused, %llu cancelled, %llu found spinning (%llu spins "
		  "found nothing), %llu wakeups (%llu empty)",
		  d->cfg.frontend_id, why, (unsigned long long)s->requests,
		  (unsigned long long)s->refused,
		  (unsigned long long)s->cancels,
		  (unsigned long long)s->spin_hits,
		  (unsigned long long)s->spin_misses,
		  (unsigned long long)s->wakeups,
		  (unsigned long long)s->empty_wakeups);
}

/* Disconnects a ring that we go on serving after: ready=0 says so.  (At
 * the end nothing is written: the directory may be gone, and a write
 * would make it again.) */
static void drop(struct vtpmd *d, const char *why)
{
	if (!d->ring.connected)
		return;
	disconnect(d, why);
	put(d, "ready", "0");
}

/* A number the frontend wrote.  0, or -errno after fail() said why. */
static int fe_number(struct vtpmd *d, const char *key, uint32_t min,
		     uint32_t max, uint32_t *out)
{
	char v[16], s[sizeof(v)];
	int rc;

	rc = get(d, d->fe_path, key, v, sizeof(v));
	if (rc == -E2BIG) {
		fail(d, -EINVAL, "%s of domain %u: longer than %zu characters",
		     key, d->cfg.frontend_id, sizeof(v) - 1);
		return -EINVAL;
	}
	if (rc) {
		fail(d, rc, "reading %s of domain %u", key, d->cfg.frontend_id);
		return rc;
	}
	rc = vtpmd_parse_u32(v, max, out);
	if (!rc && *out < min)
		rc = -ERANGE;
	if (rc) {
		vtpmd_sanitize(v, s, sizeof(s));
		fail(d, -EINVAL,
		     "%s of domain %u is \"%s\", not a decimal "
		     "number in %u..%u",
		     key, d->cfg.frontend_id, s, min, max);
		return -EINVAL;
	}
	return 0;
}

static void connect(struct vtpmd *d)
{
	uint32_t g = d->cfg.frontend_id, gref, rport, local;
	uint64_t t0 = vtpmd_now_us();
	struct plat_map m;
	char v2[8], s[sizeof(v2)], res[VTPMD_RESOURCE_LEN];
	uint8_t st;
	int rc;

	if (fe_number(d, "ring-ref", 0, VTPM_XB_GREF_MAX, &gref) ||
	    fe_number(d, "event-channel", 1, VTPM_XB_PORT_MAX, &rport))
		return;
	rc = get(d, d->fe_path, "feature-protocol-v2", v2, sizeof(v2));
	if (rc || strcmp(v2, "1")) {
		vtpmd_sanitize(rc ? "" : v2, s, sizeof(s));
		fail(d, -EOPNOTSUPP,
		     "frontend of domain %u: feature-protocol-v2 is \"%s\", "
		     "not 1",
		     g, s);
		return;
	}
	rc = plat_gnt_map(d->plat, g, gref, true, &m);
	if (rc) {
		fail(d, rc, "mapping ring-ref %u of domain %u", gref, g);
		return;
	}
	rc = plat_evtchn_bind(d->plat, g, rport, &local);
	if (rc) {
		plat_gnt_unmap(d->plat, &m);
		fail(d, rc, "binding event-channel %u of domain %u", rport, g);
		return;
	}
	/* The policy's resource_use: may this frontend use this vTPM (a
	 * label given to vtpm:UUID after the guest was created is decided
	 * here).  Denied like a refused map: undo, `error`, Closing. */
	resource_name(d, res, sizeof(res));
	rc = plat_device_connect(d->plat, g, PLAT_DEV_VTPM, res);
	if (rc) {
		plat_evtchn_unbind(d->plat, local);
		plat_gnt_unmap(d->plat, &m);
		fail(d, rc, "resource %s", res);
		return;
	}
	memset(&d->ring, 0, sizeof(d->ring));
	d->ring.connected = true;
	d->ring.dev_connected = true;
	d->ring.map = m;
	d->ring.gref = gref;
	d->ring.remote_port = rport;
	d->ring.local_port = local;
	if (put(d, "ready", "1"))
		goto undo;
	set_state(d, XB_CONNECTED, "frontend ready");
	if (d->state != XB_CONNECTED)
		goto undo;
	d->connections++;
	vtpmd_log("connected to domain %u: ring-ref %u, event-channel %u "
		  "(port %u here), in %llu us",
		  g, gref, rport, local,
		  (unsigned long long)(vtpmd_now_us() - t0));
	/* A frontend may have submitted before it saw us Connected. */
	st = vtpm_ring_state(d->ring.map.addr);
	if (st == VTPM_RING_SUBMIT || st == VTPM_RING_CANCEL) {
		rc = vtpmd_ring_run(d);
		if (rc < 0)
			vtpmd_xb_peer_closed(d, rc);
	}
	return;
undo:
	drop(d, "XenStore write failed");
}

/* ------------------------------------------------------------ the end */

static void finish(struct vtpmd *d, const char *why)
{
	char v[8];

	disconnect(d, why);
	/* Taken offline by a toolstack that removes our directory itself
	 * once it sees Closed (libxl): say Closed, leave the directory. */
	if (!get(d, d->be_path, "online", v, sizeof(v)) && !strcmp(v, "0")) {
		if (d->state != XB_CLOSED)
			set_state(d, XB_CLOSED, "online=0");
		vtpmd_log("%s: device offline, powering off", why);
		d->done = true;
		if (!d->fatal)
			d->exit_code = 0;
		return;
	}
	if (!xs_rm(d->xs, XBT_NULL, d->be_path) && errno != ENOENT)
		vtpmd_log("removing %s: %s", d->be_path,
			  vtpmd_strerror(-errno));
	vtpmd_log("%s: backend directory removed, powering off", why);
	d->done = true;
	if (!d->fatal)
		d->exit_code = 0;
}

void vtpmd_xb_peer_closed(struct vtpmd *d, int err)
{
	char why[96];

	if (!d->ring.connected)
		return;
	if (err == -ENOTCONN)
		snprintf(why, sizeof(why), "domain %u closed the channel",
			 d->cfg.frontend_id);
	else
		snprintf(why, sizeof(why), "event channel failed: %s",
			 vtpmd_strerror(err));
	d->await_initialised = true;
	d->await_logged = false;
	drop(d, why);
	set_state(d, XB_INITWAIT, why);
}

void vtpmd_xb_poweroff(struct vtpmd *d)
{
	char v[8];
	int rc;

	disconnect(d, "powering off");
	/* Closed tells a frontend we are gone; but never recreate a
	 * directory the toolstack removed. */
	rc = get(d, d->be_path, NULL, v, sizeof(v));
	if (d->state != XB_UNKNOWN && (!rc || rc == -E2BIG)) {
		put(d, "ready", "0");
		set_state(d, XB_CLOSED, "powering off");
	}
	d->done = true;
	if (!d->fatal)
		d->exit_code = 0;
}

/* ---------------------------------------------------------- the states */

/* The frontend reset (Closed, Initialising): forget the last failure. */
static void back_to_initwait(struct vtpmd *d, const char *why)
{
	d->await_initialised = false;
	if (d->state == XB_INITWAIT)
		return;
	if (d->error_set) {
		char path[192];

		snprintf(path, sizeof(path), "%s/error", d->be_path);
		if (xs_rm(d->xs, XBT_NULL, path) || errno == ENOENT)
			d->error_set = false;
	}
	set_state(d, XB_INITWAIT, why);
}

/* The toolstack's nodes disagree with argv: nothing of it is used, we
 * only wait to be removed, and that ends in exit 1. */
static void refuse(struct vtpmd *d)
{
	d->misconfigured = true;
	d->fatal = true;
	d->exit_code = 1;
}

/* 1 accepted, 0 not (yet) there, -ENOENT gone after being there,
 * -EINVAL the toolstack's nodes disagree with argv (reported). */
static int check_backend(struct vtpmd *d)
{
	char v[128], s[64], uuid[VTPMD_UUID_LEN + 1];
	uint32_t id;
	int rc;

	rc = get(d, d->be_path, NULL, v, sizeof(v));
	if (rc == -ENOENT || rc == -EACCES)
		return d->be_seen ? -ENOENT : 0;
	if (rc && rc != -E2BIG) {
		vtpmd_log("reading %s: %s", d->be_path, vtpmd_strerror(rc));
		return 0;
	}
	d->be_seen = true;
	if (d->misconfigured)
		return -EINVAL;
	if (d->state != XB_UNKNOWN)
		return 1;

	/* The toolstack writes the directory in one transaction; until
	 * both keys are there, it is not done. */
	rc = get(d, d->be_path, "frontend-id", v, sizeof(v));
	if (rc == -ENOENT)
		return 0;
	if (rc || vtpmd_parse_u32(v, VTPMD_DOMID_MAX, &id) ||
	    id != d->cfg.frontend_id) {
		vtpmd_sanitize(rc ? "" : v, s, sizeof(s));
		refuse(d);
		fail(d, -EINVAL,
		     "frontend-id is \"%s\", but --frontend-id is %u", s,
		     d->cfg.frontend_id);
		return -EINVAL;
	}
	rc = get(d, d->be_path, "frontend", v, sizeof(v));
	if (rc == -ENOENT)
		return 0;
	if (rc || strcmp(v, d->fe_path)) {
		vtpmd_sanitize(rc ? "" : v, s, sizeof(s));
		refuse(d);
		fail(d, -EINVAL,
		     "frontend is \"%s\", but --frontend-id and "
		     "--devid make %s",
		     s, d->fe_path);
		return -EINVAL;
	}
	/* The toolstack's uuid is checked too: a state directory handed to
	 * the wrong instance would give a guest another guest's TPM. */
	rc = get(d, d->be_path, "uuid", v, sizeof(v));
	if (rc != -ENOENT &&
	    (rc || vtpmd_parse_uuid(v, uuid) || strcmp(uuid, d->cfg.uuid))) {
		vtpmd_sanitize(rc ? "" : v, s, sizeof(s));
		refuse(d);
		fail(d, -EINVAL, "uuid is \"%s\", but --uuid is %s", s,
		     d->cfg.uuid);
		return -EINVAL;
	}
	if (put(d, "feature-protocol-v2", "1"))
		return 0;
	set_state(d, XB_INITWAIT, "backend directory ready");
	if (d->state != XB_INITWAIT)
		return 0;
	vtpmd_log("serving domain %u device %u (uuid %s, TPM %s, "
		  "localities 0x%x, spin %u us)",
		  d->cfg.frontend_id, d->cfg.devid, d->cfg.uuid,
		  d->cfg.tpm12 ? "1.2" : "2.0", d->cfg.localities,
		  d->cfg.spin_us);
	return 1;
}

static bool fe_dir_exists(struct vtpmd *d)
{
	char v[8];
	int rc = get(d, d->fe_path, NULL, v, sizeof(v));

	return !rc || rc == -E2BIG;
}

static void fe_update(struct vtpmd *d)
{
	char v[16], s[sizeof(v)];
	uint32_t st;
	int rc;

	rc = get(d, d->fe_path, "state", v, sizeof(v));
	if (rc == -ENOENT || rc == -EACCES) {
		/* As xenstored hides what we may not read, a gone directory
		 * may answer either. */
		if (!fe_dir_exists(d)) {
			if (d->fe_seen)
				finish(d, "frontend directory gone");
			return;
		}
		st = XB_UNKNOWN;
	} else if (rc) {
		vtpmd_log_limited(&d->rl, "frontend state of domain %u: %s",
				  d->cfg.frontend_id, vtpmd_strerror(rc));
		return;
	} else if (vtpmd_parse_u32(v, XB_RECONFIGURED, &st)) {
		vtpmd_sanitize(v, s, sizeof(s));
		vtpmd_log_limited(&d->rl,
				  "frontend state of domain %u is \"%s\", "
				  "not a xenbus state: ignored",
				  d->cfg.frontend_id, s);
		return;
	}

	switch (st) {
	case XB_UNKNOWN:
		if (d->fe_seen)
			finish(d, "frontend state Unknown");
		break;
	case XB_INITIALISING:
	case XB_INITWAIT:
		d->fe_seen = true;
		drop(d, "frontend re-initialising");
		back_to_initwait(d, "frontend Initialising");
		break;
	case XB_INITIALISED:
	case XB_CONNECTED:
		d->fe_seen = true;
		if (d->state != XB_INITWAIT || d->ring.connected)
			break;
		if (d->await_initialised && st == XB_CONNECTED) {
			if (!d->await_logged)
				vtpmd_log("waiting for domain %u to offer a "
					  "new ring (Initialised)",
					  d->cfg.frontend_id);
			d->await_logged = true;
			break;
		}
		d->await_initialised = false;
		connect(d);
		break;
	case XB_CLOSING:
		d->fe_seen = true;
		set_state(d, XB_CLOSING, "frontend Closing");
		break;
	case XB_CLOSED:
		d->fe_seen = true;
		drop(d, "frontend closed");
		back_to_initwait(d, "frontend Closed");
		break;
	default:
		break; /* Reconfiguring: nothing a vTPM does */
	}
}

void vtpmd_xb_update(struct vtpmd *d)
{
	char v[8];
	int rc = check_backend(d);

	if (rc == -ENOENT) {
		finish(d, "backend directory removed");
		return;
	}
	if (rc <= 0)
		return;
	/* The toolstack takes the device away (libxl's destroy and detach
	 * write online=0 with the frontend's removal, then wait for Closed
	 * before removing our directory; "unable to remove device" is what
	 * they log when our state node vanishes instead).  Our own toolstack
	 * never writes online=0. */
	if (!get(d, d->be_path, "online", v, sizeof(v)) && !strcmp(v, "0")) {
		if (d->state != XB_CLOSED) {
			drop(d, "device taken offline by the toolstack");
			set_state(d, XB_CLOSED, "online=0");
		}
		if (!fe_dir_exists(d))
			finish(d, "frontend directory gone");
		return;
	}
	if (!d->fe_watched) {
		if (!xs_watch(d->xs, d->fe_path, TOKEN_FE)) {
			vtpmd_log("watching %s: %s", d->fe_path,
				  vtpmd_strerror(-errno));
			return;
		}
		d->fe_watched = true;
	}
	fe_update(d);
}

int vtpmd_xb_start(struct vtpmd *d, char *why, size_t why_len)
{
	snprintf(d->fe_path, sizeof(d->fe_path),
		 "/local/domain/%u/device/vtpm/%u", d->cfg.frontend_id,
		 d->cfg.devid);
	snprintf(d->be_path, sizeof(d->be_path),
		 "/local/domain/%u/backend/vtpm/%u/%u", d->self,
		 d->cfg.frontend_id, d->cfg.devid);
	/* Fires once at once: the first update runs from the loop. */
	if (!xs_watch(d->xs, d->be_path, TOKEN_BE)) {
		int e = errno ? errno : EIO;

		snprintf(why, why_len, "watching %s: %s", d->be_path,
			 vtpmd_strerror(-e));
		return -e;
	}
	return 0;
}
