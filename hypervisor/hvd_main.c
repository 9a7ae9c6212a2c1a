/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_main.c - hvsecd: arguments, the run directory, the listening
 * sockets, signals and the one event loop.
 *
 *   hvsecd --run-dir DIR [--policy P.bin] [--permissive] [--daemon]
 *          [--uid-base N] [--mediate-send] [--no-isolation]
 *          [--audit-log FILE] [--guest-dir DIR]
 *
 * Everything runs on one thread: the loop takes one event, handles it to
 * the end (a hypercall is answered before the next is read), then writes
 * what XenStore and the audit followers have pending.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

void hvd_log(const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hvsecd: %s\n", buf);
}

uint64_t hvd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hvd_epoll_add(struct hvd *d, int fd, uint32_t events, struct hvd_ev *ev)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		return -errno;
	return 0;
}

void hvd_epoll_del(struct hvd *d, int fd)
{
	if (fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static char *path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* A directory we own, with exactly `mode`: refuses one that someone else
 * could have prepared (a symlink, another owner). */
static int own_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	if (chmod(path, mode) < 0)
		return -errno;
	return 0;
}

/* A listening SOCK_SEQPACKET socket at `path` with permissions `mode`. */
int hvd_listen_unix(const char *path, mode_t mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* A stale socket from an earlier run goes; anything else stays. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Created with no access at all, then opened up exactly: there is
	 * no window in which the socket has the umask's permissions. */
	mode_t old = umask(0777);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, mode) < 0 || listen(fd, 128) < 0) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvsecd --run-dir DIR [--policy P.bin] [--permissive]\n"
		"              [--daemon] [--uid-base N] [--mediate-send]\n"
		"              [--no-isolation] [--audit-log FILE]\n"
		"              [--guest-dir DIR]\n"
		"\n"
		"The hvsec hypervisor model.  DIR/control is dom0's control\n"
		"socket (root only), DIR/xenstored the XenStore socket,\n"
		"DIR/console/<domid>.log the guests' consoles.  Guests reach\n"
		"XenStore through a socket in a private directory made under\n"
		"--guest-dir (default /run/hvsec, else /tmp), which every uid\n"
		"can traverse wherever the run dir is.\n"
		"Without --policy the built-in DEFAULT policy is used; a\n"
		"policy that cannot be loaded starts no guest "
		"(fail-closed).\n");
}

struct hvd_opts {
	const char *run_dir, *policy, *audit_log, *guest_dir;
	bool permissive, daemonize, no_isolation, mediate_send;
	long uid_base;
};

static int parse_args(int argc, char **argv, struct hvd_opts *o)
{
	static const struct option longopts[] = {
		{"run-dir", required_argument, NULL, 'r'},
		{"policy", required_argument, NULL, 'p'},
		{"permissive", no_argument, NULL, 'P'},
		{"daemon", no_argument, NULL, 'd'},
		{"uid-base", required_argument, NULL, 'u'},
		{"mediate-send", no_argument, NULL, 'm'},
		{"no-isolation", no_argument, NULL, 'n'},
		{"audit-log", required_argument, NULL, 'a'},
		{"guest-dir", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->uid_base = 200000;
	while ((c = getopt_long(argc, argv, "r:p:Pdu:mna:g:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			o->run_dir = optarg;
			break;
		case 'p':
			o->policy = optarg;
			break;
		case 'P':
			o->permissive = true;
			break;
		case 'd':
			o->daemonize = true;
			break;
		case 'u': {
			char *end;

			errno = 0;
			o->uid_base = strtol(optarg, &end, 10);
			if (errno || *end || o->uid_base < 1000 ||
			    o->uid_base > 0x7fffffffL - HV_DOMID_MAX) {
				fprintf(stderr, "hvsecd: bad --uid-base\n");
				return -1;
			}
			break;
		}
		case 'm':
			o->mediate_send = true;
			break;
		case 'n':
			o->no_isolation = true;
			break;
		case 'a':
			o->audit_log = optarg;
			break;
		case 'g':
			o->guest_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !o->run_dir) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int setup_signals(struct hvd *d)
{
	sigset_t set;

	/* A guest's socket may close under a write; that is an error code,
	 * not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0)
		return -errno;
	d->ev_sig.kind = HVD_EV_SIGNAL;
	return hvd_epoll_add(d, d->sigfd, EPOLLIN, &d->ev_sig);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	/* Two eventfds per channel and one fd per page: many guests need
	 * many descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int setup_dirs(struct hvd *d)
{
	int rc;

	/* 0755: guests (other uids) must reach DIR/xenstored; nothing else
	 * in DIR is open to them. */
	rc = own_dir(d->run_dir, 0755);
	if (rc == -ENOENT) {
		char *copy = strdup(d->run_dir);

		/* Only the last component is ours to make: a missing parent
		 * is most likely a typo, not something to create as root. */
		hvd_log("run dir %s: its parent %s does not exist (hvsecd "
			"makes the run dir, not its parents)",
			d->run_dir, copy ? dirname(copy) : "?");
		free(copy);
		return rc;
	}
	if (rc) {
		hvd_log("run dir %s: %s", d->run_dir, strerror(-rc));
		return rc;
	}
	d->console_dir = path_join(d->run_dir, HV_CONSOLE_DIR);
	d->guests_dir = path_join(d->run_dir, "guests");
	d->reslabel_path = path_join(d->run_dir, "resource-labels");
	if (!d->console_dir || !d->guests_dir || !d->reslabel_path)
		return -ENOMEM;
	rc = own_dir(d->console_dir, 0700);
	if (!rc)
		rc = own_dir(d->guests_dir, 0711);
	if (rc)
		hvd_log("run dir %s: %s", d->run_dir, strerror(-rc));
	return rc;
}

/* Every directory from `path` up must let other uids through (search
 * permission), or a guest of its own uid cannot reach what is inside.
 * Returns 0, or -EACCES naming the first one that does not in `bad`. */
static int reachable_by_others(const char *path, char *bad, size_t bad_len)
{
	char p[4096];
	char *slash;

	if (!realpath(path, p))
		return -errno;
	for (;;) {
		struct stat st;

		if (stat(p, &st) < 0)
			return -errno;
		if (!(st.st_mode & S_IXOTH)) {
			snprintf(bad, bad_len, "%s", p);
			return -EACCES;
		}
		slash = strrchr(p, '/');
		if (!slash)
			return 0;
		if (slash == p) {
			if (p[1] == '\0')
				return 0;
			p[1] = '\0'; /* then / itself */
		} else {
			*slash = '\0';
		}
	}
}

/* Makes a fresh private directory under `base` for the guests' XenStore
 * socket: mode 0711, so every uid can reach the socket by its name, no
 * one else can list or write the directory.  `shared` is a base of our
 * own (/run/hvsec), made and checked like the run dir. */
static int try_guest_dir(struct hvd *d, const char *base, bool shared,
			 char *err, size_t err_len)
{
	char tmpl[4096], bad[4096];
	int rc, n;

	if (shared) {
		rc = own_dir(base, 0711);
		if (rc) {
			snprintf(err, err_len, "%.300s: %s", base,
				 strerror(-rc));
			return rc;
		}
	}
	n = snprintf(tmpl, sizeof(tmpl), "%s/hvsecd.XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(tmpl))
		return -ENAMETOOLONG;
	/* mkdtemp: a new directory, never one someone prepared (/tmp). */
	if (!mkdtemp(tmpl)) {
		rc = -errno;
		snprintf(err, err_len, "%.300s: %s", base, strerror(-rc));
		return rc;
	}
	if (chmod(tmpl, 0711) < 0) {
		rc = -errno;
		goto fail;
	}
	/* Same-uid guests reach whatever we reach. */
	rc = d->root ? reachable_by_others(tmpl, bad, sizeof(bad)) : 0;
	if (rc == -EACCES) {
		snprintf(err, err_len,
			 "%.150s: %.200s is not searchable by other uids", base,
			 bad);
		rmdir(tmpl);
		return rc;
	}
	if (rc)
		goto fail;
	d->guest_dir = strdup(tmpl);
	d->guest_xs_path = path_join(tmpl, HV_XS_SOCKET);
	if (!d->guest_dir || !d->guest_xs_path) {
		rc = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, err_len, "%.300s: %s", tmpl, strerror(-rc));
	rmdir(tmpl);
	free(d->guest_dir);
	free(d->guest_xs_path);
	d->guest_dir = d->guest_xs_path = NULL;
	return rc;
}

/* Guests run as other uids and the run dir may sit where they cannot go
 * (a checkout under a 0700 directory, /root): their XenStore socket goes
 * in a directory of its own.  Not fatal when none can be made - dom0 and
 * the tools still work - but then no guest starts: a guest cut off from
 * XenStore would look started and be useless. */
static void setup_guest_dir(struct hvd *d, const char *opt)
{
	char e1[512] = "", e2[512] = "";

	if (opt) {
		if (!try_guest_dir(d, opt, false, e1, sizeof(e1)))
			return;
	} else if (!try_guest_dir(d, "/run/hvsec", true, e1, sizeof(e1)) ||
		   !try_guest_dir(d, "/tmp", false, e2, sizeof(e2))) {
		return;
	}
	snprintf(d->guest_fail, sizeof(d->guest_fail),
		 "no directory guests can reach for their XenStore socket "
		 "(%s%s%s)",
		 e1, e2[0] ? "; " : "", e2);
}

/* Two root daemons with one uid base would run different guests under
 * the same uid: each could signal, ptrace and read the other's.  The
 * range is claimed with an abstract socket named after it, which the
 * kernel releases when we exit however we exit. */
static int claim_uid_range(struct hvd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, n;

	if (!d->root)
		return 0;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		     "hvsecd-uid-base-%u", (unsigned)d->uid_base);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			     (size_t)n)) < 0) {
		int e = errno;

		close(fd);
		if (e == EADDRINUSE)
			hvd_log("another hvsecd uses guest uids %u..%u: give "
				"this one another --uid-base",
				(unsigned)d->uid_base + 1,
				(unsigned)d->uid_base + HV_DOMID_MAX);
		return -e;
	}
	d->uid_lock = fd;
	return 0;
}

static int setup_control(struct hvd *d)
{
	char *path = path_join(d->run_dir, HV_CTL_SOCKET);
	int fd;

	if (!path)
		return -ENOMEM;
	fd = hvd_listen_unix(path, 0600);
	if (fd < 0) {
		hvd_log("control socket %s: %s", path, strerror(-fd));
		free(path);
		return fd;
	}
	free(path);
	d->ctl_listen = fd;
	d->ev_ctl.kind = HVD_EV_CTL_LISTEN;
	return hvd_epoll_add(d, fd, EPOLLIN, &d->ev_ctl);
}

/* DIR/hvsecd.pid, for scripts that must stop the daemon. */
static void write_pidfile(const struct hvd *d)
{
	char *path = path_join(d->run_dir, "hvsecd.pid");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	free(path);
}

static void handle_event(struct hvd *d, struct epoll_event *e)
{
	struct hvd_ev *ev = e->data.ptr;

	switch (ev->kind) {
	case HVD_EV_SIGNAL: {
		struct signalfd_siginfo si;

		while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
			hvd_log("signal %u: shutting down", si.ssi_signo);
			d->stopping = true;
		}
		break;
	}
	case HVD_EV_CTL_LISTEN:
		hvd_ctl_on_accept(d);
		break;
	case HVD_EV_CTL_CONN:
		hvd_ctl_on_readable(d, ev->obj);
		break;
	case HVD_EV_XS_LISTEN:
		hvd_xs_on_accept(d, ev == &d->ev_xs_guest ? d->xs_guest_listen
							  : d->xs_listen);
		break;
	case HVD_EV_XS_CONN:
		hvd_xs_on_event(d, ev->obj, e->events);
		break;
	case HVD_EV_HC:
		hvd_hc_on_readable(d, ev->obj);
		break;
	case HVD_EV_PIDFD:
		hvd_domain_on_pidfd(d, ev->obj);
		break;
	}
}

static int loop(struct hvd *d)
{
	struct epoll_event evs[64];

	while (!d->stopping) {
		/* Bounded while a create waits for its guest's first word. */
		int n = epoll_wait(d->epfd, evs, 64, hvd_ctl_start_timeout(d));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hvd_log("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n && !d->stopping; i++)
			handle_event(d, &evs[i]);
		hvd_ctl_start_expire(d);
		hvd_xs_flush(d);
		hvd_ctl_audit_push(d);
		hvd_domains_gc(d);
	}
	return 0;
}

/* --daemon: the parent returns once the child is ready (or failed), so a
 * script can use the sockets as soon as hvsecd exits 0. */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c = 1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		_exit(c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

int main(int argc, char **argv)
{
	static struct hvd hvd; /* large (the domain table): not on the stack */
	struct hvd *d = &hvd;
	struct hvd_opts o;
	int ready_fd = -1, rc = 1;

	if (parse_args(argc, argv, &o))
		return 2;
	d->run_dir = o.run_dir;
	d->epfd = d->sigfd = d->ctl_listen = d->xs_listen = d->uid_lock = -1;
	d->xs_guest_listen = -1;
	d->my_uid = geteuid();
	d->root = d->my_uid == 0 && !o.no_isolation;
	d->uid_base = (uid_t)o.uid_base;
	d->mediate_send = o.mediate_send;
	if (o.daemonize && daemonize(&ready_fd))
		return 1;

	/* Guests of the same uid (no isolation) must not ptrace us. */
	prctl(PR_SET_DUMPABLE, 0);
	raise_nofile();
	umask(077);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0 || setup_signals(d) || setup_dirs(d) ||
	    claim_uid_range(d))
		goto out;
	if (o.audit_log)
		d->audit_path = strdup(o.audit_log);
	else
		d->audit_path = path_join(d->run_dir, "audit.jsonl");
	if (!d->audit_path)
		goto out;
	if (hvd_policy_boot(d, o.policy, o.permissive))
		goto out;
	setup_guest_dir(d, o.guest_dir);
	if (hvd_reslabel_load(d) || hvd_domains_init(d) || hvd_xs_init(d) ||
	    setup_control(d))
		goto out;
	hvd_log("ready: run dir %s, %s isolation (%s), send %s", d->run_dir,
		d->root ? "uid-per-guest" : "same-uid (weak)",
		d->root ? "guest uid = base + domid"
			: "not root or --no-isolation",
		d->mediate_send ? "mediated" : "direct");
	if (d->guest_fail[0])
		hvd_log("warning: no guest can be started: %s", d->guest_fail);
	else
		hvd_log("guests reach XenStore at %s", d->guest_xs_path);
	write_pidfile(d);
	if (ready_fd >= 0) {
		/* Detached: no descriptor of the caller's stays open (a
		 * script reading our output must see EOF), messages go to
		 * DIR/hvsecd.log. */
		char c = 0;
		char *log = path_join(d->run_dir, "hvsecd.log");
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		int logfd =
			log ? open(log,
				   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				   0600)
			    : -1;

		free(log);
		if (devnull < 0 || logfd < 0)
			goto out;
		dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		close(devnull);
		close(logfd);
		hvd_log("ready (detached), pid %d", (int)getpid());
		if (write(ready_fd, &c, 1) != 1)
			goto out;
		close(ready_fd);
		ready_fd = -1;
	}
	rc = loop(d) ? 1 : 0;
out:
	hvd_domains_shutdown(d);
	hvd_ctl_close_all(d);
	hvd_xs_fini(d);
	if (d->guest_dir)
		rmdir(d->guest_dir); /* its socket went with hvd_xs_fini */
	free(d->guest_dir);
	free(d->guest_xs_path);
	if (d->ctl_listen >= 0) {
		char *path = path_join(d->run_dir, HV_CTL_SOCKET);

		close(d->ctl_listen);
		if (path)
			unlink(path);
		free(path);
	}
	hvd_policy_fini(d);
	hvd_reslabel_free(d);
	{
		char *pidf = path_join(d->run_dir, "hvsecd.pid");

		if (pidf)
			unlink(pidf);
		free(pidf);
	}
	free(d->console_dir);
	free(d->guests_dir);
	free(d->audit_path);
	free(d->reslabel_path);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->uid_lock >= 0)
		close(d->uid_lock);
	if (d->epfd >= 0)
		close(d->epfd);
	if (ready_fd >= 0) {
		char c = 1;

		if (write(ready_fd, &c, 1) < 0)
			rc = 1;
	}
	return rc;
}
