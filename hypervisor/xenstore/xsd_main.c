/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec-xenstored - the XenStore server library on unix sockets, without
 * the rest of hvsecd: for tests, labs and benchmarks, and for anyone who
 * wants a XenStore the real libxenstore and xenstore-* tools can talk to:
 *
 *   hvsec-xenstored --socket DIR/xenstored &
 *   XENSTORED_PATH=DIR/xenstored xenstore-write /a hello
 *
 * Connections on --socket are dom0's (privileged).  Each
 * --domain-socket DOMID:PATH adds a socket whose connections are that
 * guest, unprivileged, introduced at start with its home directory, so the
 * permission model can be tried with the same tools.
 *
 * One thread, one epoll loop.  A client that does not read its replies is
 * not read either (the library's backpressure); its unread bytes wait in
 * its struct client.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hypervisor/xenstore/xs.h"

#define MAX_LISTEN 16
#define INBUF	   (64 * 1024)

enum kind { K_SIGNAL = 1, K_LISTEN, K_CLIENT };

struct listener {
	enum kind kind; /* first: epoll data points at it */
	int fd;
	uint32_t domid;
	const char *path;
};

struct client {
	enum kind kind;
	int fd;
	struct xs_conn *conn;
	uint32_t events; /* registered with epoll */
	bool dead;
	struct client *prev, *next; /* live clients */
	struct client *next_dead;
	size_t in_off, in_len; /* unread bytes the library refused */
	unsigned char in[INBUF];
};

static struct {
	struct xs_server *srv;
	int ep;
	struct listener ls[MAX_LISTEN];
	unsigned int nls;
	struct client *live;
	struct client *dead;
	bool verbose;
	const char *pidfile;
} g;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	if (!g.verbose)
		return;
	va_start(ap, fmt);
	fputs("hvsec-xenstored: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hvsec-xenstored: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(FILE *f)
{
	fputs("usage: hvsec-xenstored --socket PATH [options]\n"
	      "  --socket PATH             dom0's socket (XENSTORED_PATH)\n"
	      "  --domain-socket ID:PATH   a socket for guest ID (repeatable)\n"
	      "  --foreground              do not daemonize\n"
	      "  --pid-file FILE           write the server's pid there\n"
	      "  --quota NAME=N            nodes watches transactions "
	      "node-size\n"
	      "                            perms transaction-nodes path "
	      "(0: none)\n"
	      "  --keep-orphans            give a released domain's nodes to "
	      "dom0\n"
	      "  --verbose                 log connections to stderr\n"
	      "  --help\n",
	      f);
}

static void set_quota(struct xs_config *cfg, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
	} q[] = {
		{"nodes", offsetof(struct xs_config, quota_nodes)},
		{"watches", offsetof(struct xs_config, quota_watches)},
		{"transactions",
		 offsetof(struct xs_config, quota_transactions)},
		{"node-size", offsetof(struct xs_config, quota_node_size)},
		{"perms", offsetof(struct xs_config, quota_perms)},
		{"transaction-nodes",
		 offsetof(struct xs_config, quota_txn_nodes)},
		{"path", offsetof(struct xs_config, quota_path)},
	};
	const char *eq = strchr(arg, '=');
	unsigned long v;
	char *end;
	size_t i;

	if (!eq)
		die("--quota %s: expected NAME=N", arg);
	errno = 0;
	v = strtoul(eq + 1, &end, 10);
	if (errno || *end || end == eq + 1 || v > UINT32_MAX)
		die("--quota %s: bad number", arg);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if (strlen(q[i].name) == (size_t)(eq - arg) &&
		    !strncmp(arg, q[i].name, (size_t)(eq - arg))) {
			uint32_t v32 = (uint32_t)v;

			memcpy((char *)cfg + q[i].off, &v32, sizeof(v32));
			return;
		}
	}
	die("--quota %s: unknown quota", arg);
}

static void add_listener(const char *path, uint32_t domid)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct listener *l;
	int fd;

	if (g.nls == MAX_LISTEN)
		die("too many sockets");
	if (strlen(path) >= sizeof(a.sun_path))
		die("%s: path too long for a unix socket", path);
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* Refuse to steal the socket of a server that is still running. */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		die("%s: a server is already listening there", path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("bind %s: %s", path, strerror(errno));
	if (chmod(path, 0600) != 0 || listen(fd, 128) != 0)
		die("listen %s: %s", path, strerror(errno));
	l = &g.ls[g.nls++];
	l->kind = K_LISTEN;
	l->fd = fd;
	l->domid = domid;
	l->path = path;
}

static void ep_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};

	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void client_kill(struct client *c, const char *why)
{
	if (c->dead)
		return;
	logmsg("domain %u connection closed (%s)", xs_conn_domid(c->conn), why);
	epoll_ctl(g.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	xs_conn_free(c->conn);
	c->conn = NULL;
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		g.live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* Freed after this round of events: a later event of the same
	 * round may still point at it. */
	c->next_dead = g.dead;
	g.dead = c;
}

/* Writes what the library queued; false if the peer is gone. */
static bool flush(struct client *c)
{
	const void *p;
	size_t n;
	ssize_t w;

	while ((n = xs_conn_output(c->conn, &p)) > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		xs_conn_output_done(c->conn, (size_t)w);
	}
	return true;
}

/* Offers the bytes waiting in c->in to the library. */
static void feed(struct client *c)
{
	size_t n;

	if (c->in_off == c->in_len)
		return;
	n = xs_conn_input(c->conn, c->in + c->in_off, c->in_len - c->in_off);
	c->in_off += n;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
}

/* Epoll interest: read only when nothing is waiting, write only when
 * something is queued. */
static void update(struct client *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->dead)
		return;
	if (c->in_off == c->in_len)
		want |= EPOLLIN;
	if (xs_conn_pending(c->conn))
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static void on_accept(struct listener *l)
{
	struct client *c;
	uint32_t flags = 0;
	int fd;

	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (c)
			c->conn = xs_conn_new(g.srv, l->domid, flags);
		if (!c || !c->conn) {
			free(c);
			close(fd);
			continue;
		}
		c->kind = K_CLIENT;
		c->fd = fd;
		c->events = EPOLLIN;
		xs_conn_set_user(c->conn, c);
		ep_add(fd, EPOLLIN, c);
		c->next = g.live;
		if (g.live)
			g.live->prev = c;
		g.live = c;
		logmsg("domain %u connected on %s", l->domid, l->path);
	}
}

static void on_client(struct client *c, uint32_t events)
{
	ssize_t n;

	if (c->dead)
		return;
	if ((events & (EPOLLHUP | EPOLLERR)) && c->in_off != c->in_len) {
		/* Gone while we were holding its requests back. */
		client_kill(c, "peer closed");
		return;
	}
	if (events & EPOLLOUT) {
		if (!flush(c)) {
			client_kill(c, "write failed");
			return;
		}
		if (!xs_conn_pending(c->conn))
			feed(c);
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    c->in_off == c->in_len) {
		n = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_kill(c, n == 0 ? "peer closed" : "read failed");
			return;
		}
		if (n > 0) {
			c->in_off = 0;
			c->in_len = (size_t)n;
			feed(c);
		}
	}
}

/* Every connection the last requests gave output to (a request on one
 * connection can queue watch events on any other). */
static void drain_ready(void)
{
	struct xs_conn *conn;
	struct client *c;
	enum xs_close_reason why;

	while ((conn = xs_server_next_ready(g.srv))) {
		c = xs_conn_user(conn);
		if (!c || c->dead)
			continue;
		why = xs_conn_closed(conn);
		if (!flush(c)) {
			client_kill(c, "write failed");
			continue;
		}
		if (why != XS_CLOSE_NONE) {
			client_kill(c, xs_close_reason_str(why));
			continue;
		}
		if (!xs_conn_pending(conn))
			feed(c);
		update(c);
	}
}

static void reap(void)
{
	struct client *c;

	while ((c = g.dead)) {
		g.dead = c->next_dead;
		free(c);
	}
}

static void cleanup(void)
{
	unsigned int i;

	for (i = 0; i < g.nls; i++)
		unlink(g.ls[i].path);
	if (g.pidfile)
		unlink(g.pidfile);
}

static void write_pidfile(pid_t pid)
{
	FILE *f;

	if (!g.pidfile)
		return;
	f = fopen(g.pidfile, "w");
	if (!f || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f) != 0)
		die("%s: %s", g.pidfile, strerror(errno));
}

static void daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0) {
		/* The sockets are bound and listening already: the caller
		 * may connect as soon as we return. */
		write_pidfile(pid);
		_exit(0);
	}
	setsid();
	if (chdir("/") != 0)
		_exit(1);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (!g.verbose)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"domain-socket", required_argument, NULL, 'd'},
		{"foreground", no_argument, NULL, 'f'},
		{"pid-file", required_argument, NULL, 'p'},
		{"quota", required_argument, NULL, 'q'},
		{"keep-orphans", no_argument, NULL, 'k'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct {
		uint32_t domid;
		const char *path;
	} doms[MAX_LISTEN];
	unsigned int ndoms = 0, i;
	struct listener sigl = {.kind = K_SIGNAL};
	struct epoll_event evs[64];
	const char *sock = NULL;
	bool foreground = false;
	struct xs_config cfg;
	sigset_t mask;
	int opt, n;

	xs_config_default(&cfg);
	while ((opt = getopt_long(argc, argv, "s:d:fp:q:kvh", opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'd': {
			char *colon = strchr(optarg, ':'), *end;
			unsigned long id;

			if (!colon || ndoms == MAX_LISTEN - 1)
				die("--domain-socket %s: expected ID:PATH",
				    optarg);
			id = strtoul(optarg, &end, 10);
			if (end != colon || id == 0 || id >= 0x7ff0)
				die("--domain-socket %s: bad domain id",
				    optarg);
			doms[ndoms].domid = (uint32_t)id;
			doms[ndoms++].path = colon + 1;
			break;
		}
		case 'f':
			foreground = true;
			break;
		case 'p':
			g.pidfile = optarg;
			break;
		case 'q':
			set_quota(&cfg, optarg);
			break;
		case 'k':
			cfg.flags |= XS_CFG_KEEP_ORPHANS;
			break;
		case 'v':
			g.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!sock || optind != argc) {
		usage(stderr);
		return 2;
	}

	g.srv = xs_server_new(&cfg);
	if (!g.srv)
		die("out of memory");
	add_listener(sock, 0);
	for (i = 0; i < ndoms; i++) {
		add_listener(doms[i].path, doms[i].domid);
		n = xs_introduce(g.srv, doms[i].domid, XS_INTRO_MKHOME);
		if (n)
			die("introduce %u: %s", doms[i].domid,
			    xs_errno_name(n));
	}
	atexit(cleanup);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground)
		daemonize();
	else
		write_pidfile(getpid());
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		die("sigprocmask: %s", strerror(errno));
	sigl.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (sigl.fd < 0 || g.ep < 0)
		die("signalfd/epoll: %s", strerror(errno));
	ep_add(sigl.fd, EPOLLIN, &sigl);
	for (i = 0; i < g.nls; i++)
		ep_add(g.ls[i].fd, EPOLLIN, &g.ls[i]);
	logmsg("serving %s", sock);

	for (;;) {
		n = epoll_wait(g.ep, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < (unsigned int)n; i++) {
			enum kind *k = evs[i].data.ptr;

			if (*k == K_SIGNAL)
				goto out;
			if (*k == K_LISTEN)
				on_accept((struct listener *)(void *)k);
			else
				on_client((struct client *)(void *)k,
					  evs[i].events);
		}
		drain_ready();
		/* Interest follows state: whose input is held back, whose
		 * output is waiting. */
		for (i = 0; i < (unsigned int)n; i++) {
			enum kind *k = evs[i].data.ptr;

			if (*k == K_CLIENT)
				update((struct client *)(void *)k);
		}
		reap();
	}
out:
	logmsg("exiting");
	while (g.live)
		client_kill(g.live, "server exiting");
	reap();
	xs_server_free(g.srv);
	return 0;
}
