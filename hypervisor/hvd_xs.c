/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_xs.c - the embedded XenStore server (hypervisor/xenstore/xs.h) on
 * RUN_DIR/xenstored, the socket the real libxenstore and xenstore-* tools
 * use (XENSTORED_PATH), and on GUEST_DIR/xenstored, the same server where
 * guests of other uids can reach it wherever RUN_DIR is (their
 * XENSTORED_PATH).  Both sockets follow the same rules below: which one a
 * peer used says nothing about who it is.
 *
 * Identity: a connection's domid is fixed at accept from SO_PEERCRED and
 * never from anything the peer says.
 *   - root daemon: uid 0 is dom0; uid base + N is domain N if N is a live
 *     guest; any other uid is refused.
 *   - same-uid daemon: the peer's pid (or its session, or an ancestor) is
 *     a live guest's: that guest; otherwise our uid (or 0) is dom0.  A
 *     guest process that leaves its session and is reparented away would
 *     pass as dom0 here: same-uid mode does not isolate hostile guests
 *     (docs/threat-model.md).
 * The library's own checks (node permissions, quotas) do the rest; the
 * daemon introduces every domain at create (with its home directory) and
 * releases it at death, which closes the domain's connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hypervisor/hvd.h"
#include "hypervisor/xenstore/xs.h"

#define XS_CONNS_PER_GUEST 16u
#define XS_CONNS_DOM0	   512u
#define XS_READ_CHUNK	   16384u

struct hvd_xs_conn {
	int fd;
	uint32_t domid;
	struct xs_conn *xc;
	struct hvd_ev ev;
	bool want_out;	 /* EPOLLOUT armed: output did not drain */
	bool in_blocked; /* input not taken: reading paused */
	uint8_t *pend;	 /* input the library did not take yet */
	size_t pend_len;
	struct hvd_xs_conn *next, *prev;
};

static int xs_auth(void *arg, const struct xs_auth *req)
{
	(void)arg;
	switch (req->op) {
	case XS_AUTH_INTRODUCE:
	case XS_AUTH_RELEASE:
		/* hvsecd introduces and releases domains itself, after the
		 * hooks; a connection may not do it behind its back. */
		return EACCES;
	default:
		return 0;
	}
}

/* A listening byte-stream socket at `path`, open to every uid: identity
 * comes from SO_PEERCRED, never from the file mode, so being able to
 * connect grants nothing. */
static int xs_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	/* libxenstore speaks a byte stream. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0777);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (!rc && (chmod(path, 0666) < 0 || listen(fd, 128) < 0))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int hvd_xs_init(struct hvd *d)
{
	char path[4200];
	int fd, rc;

	d->xs = xs_server_new(NULL);
	if (!d->xs)
		return -ENOMEM;
	xs_server_set_auth(d->xs, xs_auth, d);
	/* RUN_DIR/xenstored: dom0 and the tools. */
	snprintf(path, sizeof(path), "%s/%s", d->run_dir, HV_XS_SOCKET);
	fd = xs_listen(path);
	if (fd < 0) {
		hvd_log("XenStore socket %s: %s", path, strerror(-fd));
		return fd;
	}
	d->xs_listen = fd;
	d->ev_xs.kind = HVD_EV_XS_LISTEN;
	rc = hvd_epoll_add(d, fd, EPOLLIN, &d->ev_xs);
	if (rc || !d->guest_xs_path)
		return rc;
	/* The guests' door to the same store, where they can reach it. */
	fd = xs_listen(d->guest_xs_path);
	if (fd < 0) {
		snprintf(d->guest_fail, sizeof(d->guest_fail),
			 "guest XenStore socket %s: %s", d->guest_xs_path,
			 strerror(-fd));
		return 0;
	}
	d->xs_guest_listen = fd;
	d->ev_xs_guest.kind = HVD_EV_XS_LISTEN;
	return hvd_epoll_add(d, fd, EPOLLIN, &d->ev_xs_guest);
}

static void conn_close(struct hvd *d, struct hvd_xs_conn *c)
{
	struct hvd_domain *dom;

	hvd_epoll_del(d, c->fd);
	close(c->fd);
	if (c->xc)
		xs_conn_free(c->xc);
	if (c->domid == 0) {
		d->xs_dom0_conns--;
	} else if ((dom = hvd_domain_get(d, c->domid)) && dom->xs_conns) {
		dom->xs_conns--;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		d->xs_conn_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->pend);
	free(c);
}

void hvd_xs_fini(struct hvd *d)
{
	while (d->xs_conn_list)
		conn_close(d, d->xs_conn_list);
	if (d->xs_listen >= 0) {
		char path[4200];

		close(d->xs_listen);
		d->xs_listen = -1;
		snprintf(path, sizeof(path), "%s/%s", d->run_dir, HV_XS_SOCKET);
		unlink(path);
	}
	if (d->xs_guest_listen >= 0) {
		close(d->xs_guest_listen);
		d->xs_guest_listen = -1;
		unlink(d->guest_xs_path);
	}
	if (d->xs)
		xs_server_free(d->xs);
	d->xs = NULL;
}

/* ppid and session of a process, from /proc/PID/stat. */
static int proc_stat(pid_t pid, pid_t *ppid, pid_t *sid)
{
	char path[64], buf[1024], *p;
	int ppid_i, pgrp, sid_i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may contain anything: skip to its last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %d %d", &ppid_i, &pgrp, &sid_i) != 3)
		return -1;
	*ppid = ppid_i;
	*sid = sid_i;
	return 0;
}

static struct hvd_domain *guest_by_pid(struct hvd *d, pid_t pid)
{
	if (pid <= 0)
		return NULL;
	for (uint32_t i = 1; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (dom && hvd_domain_running(dom) && dom->pid == pid)
			return dom;
	}
	return NULL;
}

/* The domid a peer is, or -1 to refuse it. */
static long peer_domid(struct hvd *d, const struct ucred *cr)
{
	struct hvd_domain *dom;

	if (d->root) {
		if (cr->uid == 0)
			return 0;
		if (cr->uid > d->uid_base &&
		    cr->uid - d->uid_base <= HV_DOMID_MAX) {
			dom = hvd_domain_live(d, cr->uid - d->uid_base);
			if (dom && !dom->dom0 && dom->uid == cr->uid)
				return dom->domid;
		}
		return -1;
	}
	/* Same uid: the process tree decides. */
	pid_t pid = cr->pid, ppid, sid;
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		dom = guest_by_pid(d, pid);
		if (dom)
			return dom->domid;
		if (proc_stat(pid, &ppid, &sid) < 0)
			return -1;
		dom = guest_by_pid(d, sid);
		if (dom)
			return dom->domid;
		pid = ppid;
	}
	if (cr->uid == d->my_uid || cr->uid == 0)
		return 0;
	return -1;
}

void hvd_xs_on_accept(struct hvd *d, int listen_fd)
{
	for (;;) {
		struct hvd_xs_conn *c;
		struct hvd_domain *dom = NULL;
		struct ucred cr;
		socklen_t sl = sizeof(cr);
		long domid;
		int fd;

		fd = accept4(listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0 ||
		    (domid = peer_domid(d, &cr)) < 0) {
			close(fd);
			continue;
		}
		if (domid == 0 && d->xs_dom0_conns >= XS_CONNS_DOM0) {
			close(fd);
			continue;
		}
		if (domid) {
			dom = hvd_domain_get(d, (uint32_t)domid);
			if (dom->xs_conns >= XS_CONNS_PER_GUEST) {
				close(fd);
				continue;
			}
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->domid = (uint32_t)domid;
		c->xc = xs_conn_new(d->xs, c->domid, 0);
		c->ev = (struct hvd_ev){HVD_EV_XS_CONN, c};
		if (!c->xc || hvd_epoll_add(d, fd, EPOLLIN, &c->ev)) {
			if (c->xc)
				xs_conn_free(c->xc);
			free(c);
			close(fd);
			continue;
		}
		xs_conn_set_user(c->xc, c);
		if (dom)
			dom->xs_conns++;
		else
			d->xs_dom0_conns++;
		c->next = d->xs_conn_list;
		if (d->xs_conn_list)
			d->xs_conn_list->prev = c;
		d->xs_conn_list = c;
	}
}

static void rearm(struct hvd *d, struct hvd_xs_conn *c)
{
	struct epoll_event e = {
		.events = (c->in_blocked ? 0 : EPOLLIN) |
			  (c->want_out ? EPOLLOUT : 0),
		.data.ptr = &c->ev,
	};

	epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

/* Feeds input; whatever the library does not take waits in c->pend and
 * reading stops until output drains (the library's backpressure). */
static void feed(struct hvd *d, struct hvd_xs_conn *c, const uint8_t *buf,
		 size_t len)
{
	size_t took = xs_conn_input(c->xc, buf, len);

	if (took < len) {
		uint8_t *p = malloc(len - took);

		if (!p)
			return; /* dropped: the peer resends or times out */
		memcpy(p, buf + took, len - took);
		free(c->pend);
		c->pend = p;
		c->pend_len = len - took;
		c->in_blocked = true;
		rearm(d, c);
	}
}

static int write_out(struct hvd *d, struct hvd_xs_conn *c)
{
	for (;;) {
		const void *p;
		size_t n = xs_conn_output(c->xc, &p);
		ssize_t w;

		if (n == 0)
			break;
		w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!c->want_out) {
				c->want_out = true;
				rearm(d, c);
			}
			return 0;
		}
		if (w < 0)
			return -1;
		xs_conn_output_done(c->xc, (size_t)w);
	}
	if (c->want_out) {
		c->want_out = false;
		rearm(d, c);
	}
	/* Output drained: input the library refused may go in now. */
	if (c->in_blocked) {
		uint8_t *p = c->pend;
		size_t n = c->pend_len;

		c->pend = NULL;
		c->pend_len = 0;
		c->in_blocked = false;
		rearm(d, c);
		feed(d, c, p, n);
		free(p);
	}
	return 0;
}

void hvd_xs_on_event(struct hvd *d, void *obj, uint32_t events)
{
	struct hvd_xs_conn *c = obj;

	if (events & EPOLLOUT) {
		if (write_out(d, c)) {
			conn_close(d, c);
			return;
		}
	}
	if ((events & EPOLLIN) && !c->in_blocked) {
		uint8_t buf[XS_READ_CHUNK];
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(d, c);
			return;
		}
		if (n > 0)
			feed(d, c, buf, (size_t)n);
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		conn_close(d, c);
		return;
	}
}

void hvd_xs_flush(struct hvd *d)
{
	struct xs_conn *xc;

	if (!d->xs)
		return;
	while ((xc = xs_server_next_ready(d->xs))) {
		struct hvd_xs_conn *c = xs_conn_user(xc);

		if (!c)
			continue;
		if (xs_conn_closed(xc) != XS_CLOSE_NONE) {
			/* Let a last reply out if it can go at once. */
			write_out(d, c);
			conn_close(d, c);
			continue;
		}
		if (write_out(d, c))
			conn_close(d, c);
	}
}

int hvd_xs_introduce(struct hvd *d, struct hvd_domain *dom)
{
	char path[128], val[128], perm_r[16];
	const char *perms[2] = {"n0", perm_r};
	int rc;

	rc = xs_introduce(d->xs, dom->domid, XS_INTRO_MKHOME);
	if (rc)
		return -rc;
	/* Toolstack-owned facts the guest may read but not change, and a
	 * data/ directory the guest owns (as xl makes them). */
	snprintf(perm_r, sizeof(perm_r), "r%u", dom->domid);
	snprintf(path, sizeof(path), "/local/domain/%u/name", dom->domid);
	rc = xs_server_write(d->xs, path, dom->name);
	if (!rc)
		rc = xs_server_chmod(d->xs, path, perms, 2);
	snprintf(path, sizeof(path), "/local/domain/%u/domid", dom->domid);
	snprintf(val, sizeof(val), "%u", dom->domid);
	if (!rc)
		rc = xs_server_write(d->xs, path, val);
	if (!rc)
		rc = xs_server_chmod(d->xs, path, perms, 2);
	snprintf(path, sizeof(path), "/local/domain/%u/data", dom->domid);
	if (!rc)
		rc = xs_server_mkdir(d->xs, path);
	if (!rc) {
		char owner[16];
		const char *own[1] = {owner};

		snprintf(owner, sizeof(owner), "n%u", dom->domid);
		rc = xs_server_chmod(d->xs, path, own, 1);
	}
	return -rc;
}

void hvd_xs_release(struct hvd *d, struct hvd_domain *dom)
{
	char path[64];

	if (!d->xs || !xs_is_introduced(d->xs, dom->domid))
		return;
	xs_release(d->xs, dom->domid);
	snprintf(path, sizeof(path), "/local/domain/%u", dom->domid);
	xs_server_rm(d->xs, path);
}
