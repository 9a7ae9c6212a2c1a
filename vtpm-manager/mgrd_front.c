/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_front.c - the front process: it holds no key and no platform-TPM
 * connection.  It waits for the key holder's READY (or FATAL: then it
 * says why on the console and exits with the key holder's code), opens
 * the platform and XenStore, listens on the control socket, and runs one
 * poll loop over: signals, XenStore watches, the hypercall channel's
 * notices, the key holder's socketpair, the control socket and its
 * connections, and every connected ring's event channel.
 *
 * Flow control: one request per ring and per control connection is with
 * the key holder at a time, and no source is read while MGRD_INFLIGHT_MAX
 * request bytes are; so the socketpair never fills and neither process
 * blocks on the other.  Answers are routed by the id the front gave the
 * request (source, slot, connection serial): an answer for a ring or a
 * connection that closed meanwhile is dropped (and wiped).
 *
 * Control connections: SOCK_SEQPACKET, the peer's uid (SO_PEERCRED) must
 * be 0 or --toolstack-uid; one message per datagram.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include <openssl/crypto.h>

#include "vtpm-manager/mgrd.h"

#define POLL_MAX (5 + MGRD_CTL_MAX + MGRD_DEV_MAX)

static struct mgrd_front front; /* large: not on the stack */

int mgrd_front_forward(struct mgrd_front *f, uint32_t channel, uint32_t peer,
		       uint64_t id, const uint8_t *req, size_t len)
{
	uint8_t buf[MGRD_ENV_HDR_LEN + MGR_CTL_MSG_MAX];
	size_t n = mgrd_env_encode(&(struct mgrd_env){.kind = MGRD_ENV_REQUEST,
						      .channel = channel,
						      .peer = peer,
						      .id = id,
						      .data = req,
						      .len = (uint32_t)len},
				   buf, sizeof(buf));
	ssize_t w;

	if (!n)
		return -EINVAL;
	w = send(f->kh_fd, buf, n, MSG_NOSIGNAL);
	OPENSSL_cleanse(buf, n);
	return w == (ssize_t)n ? 0 : -errno;
}

void mgrd_front_peer_event(struct mgrd_front *f, uint32_t kind, uint32_t domid)
{
	uint8_t buf[MGRD_ENV_HDR_LEN];
	size_t n =
		mgrd_env_encode(&(struct mgrd_env){.kind = kind, .peer = domid},
				buf, sizeof(buf));

	if (!n || send(f->kh_fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
		mgrd_log("telling the key holder about domain %u: %s", domid,
			 mgrd_strerror(errno));
}

/* ------------------------------------------------------------ control */

static int listen_control(struct mgrd_front *f, char *why, size_t why_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->o->control);
	/* A stale socket of an earlier run; anything else is not ours. */
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, why_len, "%s exists and is no socket",
				 sa.sun_path);
			return -EEXIST;
		}
		unlink(sa.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, f->o->toolstack_uid_set ? 0666 : 0600) < 0 ||
	    listen(fd, 16) < 0) {
		int e = errno;

		snprintf(why, why_len, "control socket %s: %s", sa.sun_path,
			 mgrd_strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	f->lfd = fd;
	return 0;
}

static void ctl_close(struct mgrd_front *f, struct mgrd_ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->serial = ++f->next_serial;
}

static void on_accept(struct mgrd_front *f)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct mgrd_ctl *c = NULL;
	int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(fd);
		return;
	}
	if (cr.uid != 0 &&
	    !(f->o->toolstack_uid_set && cr.uid == f->o->toolstack_uid)) {
		mgrd_log_limited(&f->rl,
				 "control connection of uid %u (pid %d) "
				 "refused: only uid 0%s",
				 (unsigned)cr.uid, (int)cr.pid,
				 f->o->toolstack_uid_set ? " and the toolstack"
							 : "");
		close(fd);
		return;
	}
	for (uint32_t i = 0; i < MGRD_CTL_MAX && !c; i++)
		if (f->ctl[i].fd < 0 && !f->ctl[i].busy)
			c = &f->ctl[i];
	if (!c) {
		mgrd_log_limited(&f->rl, "control connection refused: %u open",
				 MGRD_CTL_MAX);
		close(fd);
		return;
	}
	c->fd = fd;
	c->uid = (uint32_t)cr.uid;
	c->serial = ++f->next_serial;
}

static void ctl_reply(struct mgrd_front *f, struct mgrd_ctl *c,
		      const uint8_t *rsp, size_t len)
{
	if (send(c->fd, rsp, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len) {
		mgrd_log_limited(&f->rl, "control reply: %s",
				 mgrd_strerror(errno));
		ctl_close(f, c);
	}
}

static void on_ctl(struct mgrd_front *f, struct mgrd_ctl *c)
{
	uint8_t rsp[MGR_HDR_LEN + 2 + MGR_MSG_MAX];
	char why[MGR_MSG_MAX + 1] = "";
	struct mgr_req q;
	enum mgr_rc rc;
	uint32_t op;
	ssize_t r =
		recv(c->fd, f->buf, MGR_CTL_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
	size_t n;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		ctl_close(f, c);
		return;
	}
	if ((size_t)r > MGR_CTL_MSG_MAX) {
		n = mgr_rsp_error(0, MGR_RC_TOO_BIG, rsp, sizeof(rsp),
				  "a control message of %zd bytes, at most %u",
				  r, MGR_CTL_MSG_MAX);
		ctl_reply(f, c, rsp, n);
		return;
	}
	memset(&q, 0, sizeof(q));
	rc = mgr_req_parse(MGR_CH_CONTROL, f->buf, (size_t)r, &q, why,
			   sizeof(why));
	op = q.op;
	OPENSSL_cleanse(&q, sizeof(q));
	if (rc != MGR_RC_OK) {
		mgrd_log_limited(&f->rl,
				 "control (uid %u) %s refused here: "
				 "%s: %s",
				 c->uid, mgr_op_str(op), mgr_rc_str(rc), why);
		n = mgr_rsp_error(op, rc, rsp, sizeof(rsp), "%s", why);
		ctl_reply(f, c, rsp, n);
		return;
	}
	if (mgrd_front_forward(f, MGR_CH_CONTROL, 0,
			       MGRD_ID(MGRD_ID_CTL, c - f->ctl, c->serial),
			       f->buf, (size_t)r)) {
		n = mgr_rsp_error(op, MGR_RC_INTERNAL, rsp, sizeof(rsp),
				  "the key holder is unreachable");
		ctl_reply(f, c, rsp, n);
		return;
	}
	c->busy = true;
	c->inflight = (uint32_t)r;
	f->inflight += (uint32_t)r;
}

/* ----------------------------------------------------- the key holder */

static void route(struct mgrd_front *f, const struct mgrd_env *e)
{
	uint32_t kind = (uint32_t)(e->id >> 56);
	uint32_t slot = (uint32_t)(e->id >> 32) & 0xffffffu;
	uint32_t serial = (uint32_t)e->id;

	if (kind == MGRD_ID_DEV && slot < MGRD_DEV_MAX) {
		mgrd_xb_answer(f, &f->dev[slot], serial, e->data, e->len);
	} else if (kind == MGRD_ID_CTL && slot < MGRD_CTL_MAX) {
		struct mgrd_ctl *c = &f->ctl[slot];

		if (!c->busy)
			return;
		c->busy = false;
		f->inflight -= c->inflight;
		c->inflight = 0;
		if (c->fd >= 0 && c->serial == serial)
			ctl_reply(f, c, e->data, e->len);
	}
}

/* 0, or the exit status when the key holder is gone or broke the
 * protocol. */
static int on_kh(struct mgrd_front *f)
{
	for (;;) {
		struct mgrd_env e;
		char why[128];
		ssize_t r = recv(f->kh_fd, f->buf, sizeof(f->buf),
				 MSG_DONTWAIT | MSG_TRUNC);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0) {
			mgrd_log("the key holder is gone: stopping");
			return MGRD_EXIT_FAIL;
		}
		if ((size_t)r > sizeof(f->buf) ||
		    mgrd_env_decode(f->buf, (size_t)r, &e, why, sizeof(why)) ||
		    e.kind != MGRD_ENV_RESPONSE) {
			mgrd_log("malformed message from the key holder");
			return MGRD_EXIT_FAIL;
		}
		route(f, &e);
		OPENSSL_cleanse(f->buf, (size_t)r);
	}
}

/* Blocks for READY or FATAL.  0, or the exit status. */
static int wait_ready(struct mgrd_front *f)
{
	struct mgrd_env e;
	char why[128];
	ssize_t r;

	do
		r = recv(f->kh_fd, f->buf, sizeof(f->buf), 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0 ||
	    mgrd_env_decode(f->buf, (size_t)r, &e, why, sizeof(why)) ||
	    (e.kind != MGRD_ENV_READY && e.kind != MGRD_ENV_FATAL)) {
		mgrd_log("the key holder died while starting");
		return MGRD_EXIT_FAIL;
	}
	if (e.kind == MGRD_ENV_FATAL) {
		int code = e.peer >= 1 && e.peer <= MGRD_EXIT_EXISTS
				   ? (int)e.peer
				   : MGRD_EXIT_FAIL;

		mgrd_log("NOT SERVING (exit %d): %.*s", code, (int)e.len,
			 (const char *)e.data);
		return code;
	}
	return 0;
}

/* ------------------------------------------------------------- loop */

static void on_xenstore(struct mgrd_front *f)
{
	bool any = false;
	char **ev;

	while ((ev = xs_check_watch(f->xs))) {
		free(ev);
		any = true;
	}
	if (any)
		mgrd_xb_update(f);
}

static int loop(struct mgrd_front *f)
{
	struct pollfd pfd[POLL_MAX];
	/* What each pollfd is: -1..-5 fixed, else ctl slot or dev slot. */
	int who[POLL_MAX];

	while (!f->done) {
		bool room = f->inflight + MGR_CTL_MSG_MAX <= MGRD_INFLIGHT_MAX;
		bool ring_room =
			f->inflight + MGR_RING_MSG_MAX <= MGRD_INFLIGHT_MAX;
		nfds_t n = 0;
		int rc;

		pfd[n] = (struct pollfd){f->sfd, POLLIN, 0};
		who[n++] = -1;
		pfd[n] = (struct pollfd){xs_fileno(f->xs), POLLIN, 0};
		who[n++] = -2;
		pfd[n] = (struct pollfd){plat_fd(f->plat), POLLIN, 0};
		who[n++] = -3;
		pfd[n] = (struct pollfd){f->kh_fd, POLLIN, 0};
		who[n++] = -4;
		pfd[n] = (struct pollfd){f->lfd, POLLIN, 0};
		who[n++] = -5;
		for (uint32_t i = 0; room && i < MGRD_CTL_MAX; i++) {
			if (f->ctl[i].fd < 0 || f->ctl[i].busy)
				continue;
			pfd[n] = (struct pollfd){f->ctl[i].fd, POLLIN, 0};
			who[n++] = (int)i;
		}
		for (uint32_t i = 0; ring_room && i < MGRD_DEV_MAX; i++) {
			struct mgrd_dev *d = &f->dev[i];
			int fd;

			if (!d->used || d->gone || !d->connected || d->busy)
				continue;
			fd = plat_evtchn_fd(f->plat, d->lport);
			if (fd < 0) {
				mgrd_xb_peer_closed(f, d, -ENOTCONN);
				continue;
			}
			pfd[n] = (struct pollfd){fd, POLLIN, 0};
			who[n++] = (int)(MGRD_CTL_MAX + i);
		}
		rc = poll(pfd, n, -1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			mgrd_log("poll: %s", mgrd_strerror(errno));
			return MGRD_EXIT_FAIL;
		}
		/* Notices first: one may have closed a ring's channel. */
		if (pfd[2].revents) {
			rc = plat_process(f->plat);
			if (rc) {
				mgrd_log("hypercall channel: %s",
					 mgrd_strerror(rc));
				return MGRD_EXIT_FAIL;
			}
		}
		if (pfd[3].revents) {
			rc = on_kh(f);
			if (rc)
				return rc;
		}
		for (nfds_t k = 5; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (who[k] < (int)MGRD_CTL_MAX) {
				struct mgrd_ctl *c = &f->ctl[who[k]];

				if (c->fd == pfd[k].fd && !c->busy)
					on_ctl(f, c);
			} else {
				mgrd_xb_kick(
					f, &f->dev[who[k] - (int)MGRD_CTL_MAX]);
			}
		}
		if (pfd[4].revents)
			on_accept(f);
		if (pfd[1].revents)
			on_xenstore(f);
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(f->sfd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGHUP) {
				mgrd_log("signal %u: stopping", si.ssi_signo);
				mgrd_xb_shutdown(f);
				f->done = true;
			}
		}
	}
	return MGRD_EXIT_OK;
}

static int kh_status(int pid)
{
	int st = 0;

	if (pid <= 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int mgrd_front_main(int kh_fd, int kh_pid, const struct mgrd_opts *o)
{
	struct mgrd_front *f = &front;
	char why[512];
	sigset_t sigs;
	int status, rc, khs;
	bool sandboxed = false;

	mgrd_log_role("mgrd");
	f->o = o;
	f->kh_fd = kh_fd;
	f->kh_pid = kh_pid;
	f->lfd = f->sfd = -1;
	for (uint32_t i = 0; i < MGRD_CTL_MAX; i++)
		f->ctl[i].fd = -1;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	f->sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	status = wait_ready(f);
	if (status)
		goto out;
	status = MGRD_EXIT_FAIL;
	rc = plat_open(&f->plat, why, sizeof(why));
	if (rc) {
		mgrd_log("platform %s: %s", plat_name(), why);
		goto out;
	}
	f->self = plat_self_domid(f->plat);
	f->xs = xs_open(0);
	if (!f->xs) {
		mgrd_log("XenStore ($XENSTORED_PATH): %s",
			 mgrd_strerror(errno));
		goto out;
	}
	if (listen_control(f, why, sizeof(why))) {
		mgrd_log("%s", why);
		goto out;
	}
	/* Set up: from here on no file, no new socket, no exec.  Before
	 * mgrd_xb_start, whose first watch starts libxenstore's reader
	 * thread, so that the thread is born inside the sandbox. */
	rc = mgrd_sandbox_front(o, f->lfd, why, sizeof(why));
	if (rc < 0) {
		mgrd_log("NOT SERVING: %s", why);
		goto out;
	}
	sandboxed = rc == 0;
	if (mgrd_xb_start(f, why, sizeof(why))) {
		mgrd_log("%s", why);
		goto out;
	}
	snprintf(why, sizeof(why), " and %u", o->toolstack_uid);
	mgrd_log("serving: domain %u (platform %s), instance rings under "
		 "%s, control socket %s (uid 0%s)",
		 f->self, plat_name(), f->be_root, o->control,
		 o->toolstack_uid_set ? why : "");
	status = loop(f);
out:
	if (f->lfd >= 0) {
		close(f->lfd);
		/* Sandboxed, the key holder removes it (mgrd_main.c). */
		if (!sandboxed)
			unlink(o->control);
	}
	for (uint32_t i = 0; i < MGRD_CTL_MAX; i++)
		if (f->ctl[i].fd >= 0)
			close(f->ctl[i].fd);
	/* EOF ends the key holder after its batch. */
	close(kh_fd);
	khs = kh_status(kh_pid);
	if (khs > 0 && khs != MGRD_EXIT_OK && status == MGRD_EXIT_OK)
		status = MGRD_EXIT_FAIL;
	if (f->xs)
		xs_close(f->xs);
	plat_close(f->plat);
	if (f->sfd >= 0)
		close(f->sfd);
	mgrd_log("stopped (exit %d)", status);
	return status;
}
