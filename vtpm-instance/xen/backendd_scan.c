/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backendd_scan.c - the table of devices, kept level-triggered: every
 * watch event re-reads /local/domain/SELF/backend/vtpm and acts on what
 * each device's nodes say now (so coalesced or reordered events change
 * nothing).
 *
 *   new G/N, judged BD_SERVE  -> state directory, hvsec-vtpmd-xen, RUNNING
 *   judged BD_WAIT            -> judged again at the next event
 *   judged BD_LEAVE           -> left alone while the directory exists
 *   judged BD_REFUSE          -> `error` + Closing in its directory
 *   RUNNING, online=0         -> the backend unmaps, unbinds and writes
 *                                Closed, which libxl waits for; if it has
 *                                not within BD_REMOVE_GRACE_MS: SIGTERM
 *                                (on which it does the same and exits)
 *   child ended, not status 0 -> logged, `error` + Closing; not restarted
 *   ended or refused, online=0 -> Closed, written by us: no backend holds
 *                                anything of it any more
 *   directory gone            -> the entry is forgotten once its child
 *                                is gone too (hvsec-vtpmd-xen exits by
 *                                itself when its directory goes)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>

#include "vtpm-instance/xen/backendd.h"

#define XB_STATE_CLOSING "5"
#define XB_STATE_CLOSED	 "6"

/* path into buf (NUL-terminated).  0 or -errno; -E2BIG when it does not
 * fit. */
static int xs_get(struct bd *b, const char *path, char *buf, size_t len)
{
	unsigned n = 0;
	char *v = xs_read(b->xs, XBT_NULL, path, &n);

	if (!v)
		return errno ? -errno : -EIO;
	if (n >= len || strlen(v) != n) {
		free(v);
		return -E2BIG; /* or an embedded NUL: not a value of ours */
	}
	memcpy(buf, v, n + 1);
	free(v);
	return 0;
}

static void dev_path(const struct bd *b, const struct bd_dev *d, char *out,
		     size_t len)
{
	snprintf(out, len, "%s/%u/%u", b->base, d->g, d->n);
}

/* A line about d, unless it is the one logged last for it. */
static void note(struct bd_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct bd_dev *d, const char *fmt, ...)
{
	char line[sizeof(d->last_why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!strcmp(line, d->last_why))
		return;
	memcpy(d->last_why, line, sizeof(line));
	bd_log("%u/%u: %s", d->g, d->n, line);
}

/* Writes `error` (when msg) and `state` into d's backend directory, in
 * one transaction and only if the directory still exists: a write would
 * make it again after the toolstack removed it. */
static void tell_toolstack(struct bd *b, struct bd_dev *d, const char *msg,
			   const char *state)
{
	char dir[96], path[128];

	dev_path(b, d, dir, sizeof(dir));
	for (int tries = 0; tries < 8; tries++) {
		xs_transaction_t t = xs_transaction_start(b->xs);
		unsigned n;
		char *v;

		if (!t) {
			bd_log("%u/%u: XenStore transaction: %s", d->g, d->n,
			       strerror(errno));
			return;
		}
		v = xs_read(b->xs, t, dir, &n);
		if (!v) {
			xs_transaction_end(b->xs, t, true);
			return; /* gone: nobody to tell */
		}
		free(v);
		snprintf(path, sizeof(path), "%s/error", dir);
		if (msg &&
		    !xs_write(b->xs, t, path, msg, (unsigned)strlen(msg)))
			goto abort;
		snprintf(path, sizeof(path), "%s/state", dir);
		if (!xs_write(b->xs, t, path, state, (unsigned)strlen(state)))
			goto abort;
		if (xs_transaction_end(b->xs, t, false))
			return;
		if (errno != EAGAIN)
			break;
		continue;
	abort:
		xs_transaction_end(b->xs, t, true);
		break;
	}
	bd_log("%u/%u: writing to %s: %s", d->g, d->n, dir, strerror(errno));
}

static void finish_once(struct bd *b, const struct bd_dev *d, int code)
{
	if (b->cfg.once && d->g == b->cfg.once_g && d->n == b->cfg.once_n) {
		b->done = true;
		b->exit_code = code;
	}
}

static void refuse(struct bd *b, struct bd_dev *d, const char *why)
{
	char msg[256];

	d->st = BD_DEV_REFUSED;
	note(d, "refused: %s", why);
	snprintf(msg, sizeof(msg), "hvsec-vtpm-backendd: %s", why);
	tell_toolstack(b, d, msg, XB_STATE_CLOSING);
	finish_once(b, d, 1);
}

/* DIR/UUID, made 0700 if missing; an existing one must be a directory of
 * ours that nobody else may use (the TPM's secrets live in it). */
static int state_dir(struct bd *b, const char *uuid, char *out, size_t len,
		     char *why, size_t why_len)
{
	struct stat st;
	int e;

	if (mkdirat(b->root_fd, uuid, 0700) < 0 && errno != EEXIST) {
		e = errno;
		snprintf(why, why_len, "making state directory %s/%s: %s",
			 b->state_root, uuid, strerror(e));
		return -e;
	}
	if (fstatat(b->root_fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		snprintf(why, why_len, "state directory %s/%s: %s",
			 b->state_root, uuid, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "state directory %s/%s: not a directory",
			 b->state_root, uuid);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, why_len,
			 "state directory %s/%s: owner %u, mode 0%o (must be "
			 "ours, 0700)",
			 b->state_root, uuid, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	snprintf(out, len, "%s/%s", b->state_root, uuid);
	return 0;
}

static const struct bd_dev *
uuid_in_use(const struct bd *b, const struct bd_dev *self, const char *uuid)
{
	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		const struct bd_dev *d = &b->devs[i];

		if (d != self && d->pid > 0 && !strcmp(d->uuid, uuid))
			return d;
	}
	return NULL;
}

static void serve(struct bd *b, struct bd_dev *d, const struct bd_judgement *j)
{
	const struct bd_dev *other = uuid_in_use(b, d, j->uuid);
	char dir[BD_PATH_MAX + VTPMD_UUID_LEN + 2], why[BD_PATH_MAX + 256];

	if (other) {
		/* One TPM, one process: a second would find the state
		 * directory locked anyway, after its guest waited. */
		snprintf(why, sizeof(why),
			 "uuid %s is in use by domain %u device %u", j->uuid,
			 other->g, other->n);
		refuse(b, d, why);
		return;
	}
	memcpy(d->uuid, j->uuid, sizeof(d->uuid));
	if (state_dir(b, j->uuid, dir, sizeof(dir), why, sizeof(why)) ||
	    bd_child_spawn(b, d, dir, why, sizeof(why))) {
		d->uuid[0] = '\0';
		refuse(b, d, why);
		return;
	}
	d->st = BD_DEV_RUNNING;
	note(d, "serving: uuid %s (from %s), state %s, pid %ld", d->uuid,
	     j->uuid_from, dir, (long)d->pid);
}

/* While a device waits, a watch on its /libxl directory too: the
 * backend directory's watch does not see the uuid arrive there. */
static void watch_libxl(struct bd *b, struct bd_dev *d, bool on)
{
	char p[64];

	if (d->lx_watched == on)
		return;
	snprintf(p, sizeof(p), "/libxl/%u/device/vtpm/%u", d->g, d->n);
	if (on && !xs_watch(b->xs, p, BD_TOKEN_LIBXL)) {
		bd_log("%u/%u: watching %s: %s", d->g, d->n, p,
		       strerror(errno));
		return;
	}
	if (!on)
		xs_unwatch(b->xs, p, BD_TOKEN_LIBXL); /* gone either way */
	d->lx_watched = on;
}

static void judge(struct bd *b, struct bd_dev *d)
{
	char dir[96], p[5][128], v[5][64];
	struct bd_judgement j;
	struct bd_nodes in = {.g = d->g, .n = d->n};
	struct bd_node *nd[5] = {&in.online, &in.state, &in.frontend_id,
				 &in.be_uuid, &in.lx_uuid};

	dev_path(b, d, dir, sizeof(dir));
	snprintf(p[0], sizeof(p[0]), "%s/online", dir);
	snprintf(p[1], sizeof(p[1]), "%s/state", dir);
	snprintf(p[2], sizeof(p[2]), "%s/frontend-id", dir);
	snprintf(p[3], sizeof(p[3]), "%s/uuid", dir);
	snprintf(p[4], sizeof(p[4]), "/libxl/%u/device/vtpm/%u/uuid", d->g,
		 d->n);
	for (unsigned i = 0; i < 5; i++) {
		nd[i]->rc = xs_get(b, p[i], v[i], sizeof(v[i]));
		nd[i]->val = v[i];
	}
	bd_judge(&in, &j);
	watch_libxl(b, d, j.v == BD_WAIT);
	switch (j.v) {
	case BD_WAIT:
		d->st = BD_DEV_WAITING;
		note(d, "waiting: %s", j.why);
		break;
	case BD_LEAVE:
		d->st = BD_DEV_LEFT;
		note(d, "left alone: %s", j.why);
		finish_once(b, d, 1);
		break;
	case BD_REFUSE:
		refuse(b, d, j.why);
		break;
	case BD_SERVE:
		serve(b, d, &j);
		break;
	}
}

/* The toolstack's removal of a device we serve or served. */
static void check_removal(struct bd *b, struct bd_dev *d)
{
	char dir[96], p[128], v[8];
	struct bd_node online;

	dev_path(b, d, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/online", dir);
	online.rc = xs_get(b, p, v, sizeof(v));
	online.val = v;
	if (!bd_removal_requested(&online))
		return;
	switch (d->st) {
	case BD_DEV_RUNNING:
		/* The backend unmaps, unbinds and writes Closed itself; only
		 * one that does not is stopped (bd_tick).  Stopping it at
		 * once would race its own teardown. */
		if (!d->remove_at) {
			d->remove_at = bd_now_ms() + BD_REMOVE_GRACE_MS;
			note(d, "removal requested (online=0)");
		}
		break;
	case BD_DEV_EXITED:
	case BD_DEV_REFUSED:
		/* Nothing is mapped or bound for it any more.  Once: our
		 * own write fires the watch again. */
		if (d->closed_written)
			break;
		note(d, "removal requested (online=0): Closed");
		tell_toolstack(b, d, NULL, XB_STATE_CLOSED);
		d->closed_written = true;
		break;
	default:
		break;
	}
}

static struct bd_dev *dev_get(struct bd *b, uint32_t g, uint32_t n)
{
	struct bd_dev *free_slot = NULL;

	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		struct bd_dev *d = &b->devs[i];

		if (d->st == BD_DEV_FREE) {
			if (!free_slot)
				free_slot = d;
		} else if (d->g == g && d->n == n) {
			return d;
		}
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->g = g;
	free_slot->n = n;
	free_slot->out_fd = -1;
	free_slot->st = BD_DEV_WAITING;
	return free_slot;
}

static void visit(struct bd *b, uint32_t g, uint32_t n)
{
	struct bd_dev *d = dev_get(b, g, n);

	if (!d) {
		static bool told;

		if (!told)
			bd_log("%u/%u: more than %u devices: not served", g, n,
			       BD_DEVS_MAX);
		told = true;
		return;
	}
	d->seen = true;
	switch (d->st) {
	case BD_DEV_WAITING:
		if (!b->stopping)
			judge(b, d);
		break;
	case BD_DEV_RUNNING:
	case BD_DEV_EXITED:
	case BD_DEV_REFUSED:
		check_removal(b, d);
		break;
	default:
		break;
	}
}

/* An entry name: a strict decimal up to max.  Anything else was not
 * written by a toolstack; logged once per scan that finds it. */
static bool entry_number(const char *dir, const char *name, uint32_t max,
			 uint32_t *out)
{
	char s[32];

	if (!vtpmd_parse_u32(name, max, out))
		return true;
	vtpmd_sanitize(name, s, sizeof(s));
	bd_log("%s/%s: not a number 0..%u: ignored", dir, s, max);
	return false;
}

/* Marks every entry of domain g seen: its directory could not be read,
 * which is not the same as gone. */
static void keep_domain(struct bd *b, uint32_t g)
{
	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		if (b->devs[i].st != BD_DEV_FREE && b->devs[i].g == g)
			b->devs[i].seen = true;
	}
}

void bd_scan(struct bd *b)
{
	char gdir[96];
	char **gs, **ns;
	unsigned ng = 0, nn = 0;

	gs = xs_directory(b->xs, XBT_NULL, b->base, &ng);
	if (!gs && errno != ENOENT) {
		bd_log("listing %s: %s", b->base, strerror(errno));
		return; /* nothing known is gone */
	}
	for (unsigned i = 0; i < BD_DEVS_MAX; i++)
		b->devs[i].seen = false;
	for (unsigned i = 0; gs && i < ng; i++) {
		uint32_t g, n;

		if (!entry_number(b->base, gs[i], VTPMD_DOMID_MAX, &g))
			continue;
		if (b->cfg.once && g != b->cfg.once_g)
			continue;
		snprintf(gdir, sizeof(gdir), "%s/%u", b->base, g);
		ns = xs_directory(b->xs, XBT_NULL, gdir, &nn);
		if (!ns) {
			if (errno != ENOENT) {
				bd_log("listing %s: %s", gdir, strerror(errno));
				keep_domain(b, g);
			}
			continue;
		}
		for (unsigned k = 0; k < nn; k++) {
			if (!entry_number(gdir, ns[k], VTPMD_DEVID_MAX, &n))
				continue;
			if (b->cfg.once && n != b->cfg.once_n)
				continue;
			visit(b, g, n);
		}
		free(ns);
	}
	free(gs);
	bd_forget_gone(b);
}

void bd_child_ended(struct bd *b, struct bd_dev *d)
{
	char how[96], msg[256];
	bool ok = WIFEXITED(d->status) && WEXITSTATUS(d->status) == 0;

	bd_describe_status(d->status, how, sizeof(how));
	d->pid = 0;
	d->st = BD_DEV_EXITED;
	if (ok) {
		note(d, "backend %s", how);
	} else {
		note(d, "backend %s; not restarted", how);
		/* A crash leaves the guest waiting on a dead ring: tell it
		 * and the toolstack.  (A backend that failed cleanly wrote
		 * its own `error` and waited for its directory to go.) */
		if (d->seen && !b->stopping) {
			snprintf(msg, sizeof(msg),
				 "hvsec-vtpm-backendd: %s %s; not restarted",
				 BD_VTPMD_NAME, how);
			tell_toolstack(b, d, msg, XB_STATE_CLOSING);
		}
	}
	finish_once(b, d, ok ? 0 : 1);
}

int bd_tick(struct bd *b)
{
	uint64_t now = bd_now_ms(), next = UINT64_MAX;
	char dir[96], p[128], v[8];

	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		struct bd_dev *d = &b->devs[i];
		int rc;

		if (d->st != BD_DEV_RUNNING || !d->remove_at)
			continue;
		if (d->remove_at > now) {
			if (d->remove_at < next)
				next = d->remove_at;
			continue;
		}
		d->remove_at = 0;
		dev_path(b, d, dir, sizeof(dir));
		snprintf(p, sizeof(p), "%s/state", dir);
		rc = xs_get(b, p, v, sizeof(v));
		if (rc == -ENOENT || (!rc && !strcmp(v, XB_STATE_CLOSED)))
			continue; /* it closed; it exits when the dir goes */
		note(d, "not Closed %u ms after online=0: stopping pid %ld",
		     BD_REMOVE_GRACE_MS, (long)d->pid);
		bd_child_signal(d, SIGTERM);
		d->st = BD_DEV_STOPPING;
	}
	if (next == UINT64_MAX)
		return -1;
	return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

void bd_forget_gone(struct bd *b)
{
	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		struct bd_dev *d = &b->devs[i];

		if (d->st == BD_DEV_FREE || d->seen || d->pid > 0 ||
		    d->out_fd >= 0)
			continue;
		if (d->st == BD_DEV_WAITING)
			finish_once(b, d, 1); /* it went before being served */
		watch_libxl(b, d, false);
		memset(d, 0, sizeof(*d));
		d->out_fd = -1;
	}
}
