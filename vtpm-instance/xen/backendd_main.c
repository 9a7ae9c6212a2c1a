/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec-vtpm-backendd - the dom0 dispatcher of vTPM backends on a real
 * Xen host (docs/vtpm-xen.md): for every vTPM the toolstack creates in
 * /local/domain/SELF/backend/vtpm, one hvsec-vtpmd-xen process, with the
 * vTPM's state in STATE_ROOT/UUID.
 *
 * One thread (libxenstore's reader aside), one poll loop over a signalfd
 * (SIGTERM, SIGINT, SIGHUP, SIGCHLD), the XenStore watch, and each
 * child's output pipe.  Signals are blocked before anything can start a
 * thread, so none is delivered anywhere but the signalfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "vtpm-instance/xen/backendd.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvsec-vtpm-backendd [--foreground] [--log FILE] "
		"[--state-root DIR]\n"
		"                           [--once-for G/N]\n"
		"\n"
		"The vTPM backend dispatcher of a Xen host, run in dom0 "
		"before guests with\n"
		"vtpm=[\"backend=0,uuid=UUID\"] are created.  It watches "
		"/local/domain/SELF/backend/vtpm;\n"
		"for each new device G/N that the toolstack brought online it "
		"takes the vTPM's\n"
		"UUID from /libxl/G/device/vtpm/N (refusing a backend "
		"directory that disagrees),\n"
		"makes DIR/UUID (0700) and runs\n"
		"  %s --frontend-id G --devid N --state-dir DIR/UUID "
		"--uuid UUID\n"
		"from its own directory, one process per device.  The same "
		"UUID on the next\n"
		"boot finds the same TPM state.  A backend that fails is "
		"logged and reported\n"
		"in the device's `error` node, never restarted.  On online=0 "
		"(xl destroy,\n"
		"vtpm-detach) a backend that has not written Closed within "
		"%u ms is stopped.\n"
		"\n"
		"  --foreground      stay in the foreground (the default and "
		"only mode)\n"
		"  --log FILE        append our lines and the backends' to "
		"FILE, not stdout\n"
		"  --state-root DIR  where vTPM state lives (default %s)\n"
		"  --once-for G/N    serve device N of domain G only; exit "
		"when its backend does\n"
		"  --help            this text\n"
		"\n"
		"Exit status: 0 stopped by SIGTERM/SIGINT (backends stopped "
		"first), or with\n"
		"--once-for the backend exited 0; 1 a failure (XenStore, "
		"state root, another\n"
		"dispatcher on it, %s missing; with --once-for: the device was "
		"refused\n"
		"or its backend failed); 2 bad usage.\n",
		BD_VTPMD_NAME, BD_REMOVE_GRACE_MS, BD_STATE_ROOT_DEFAULT,
		BD_VTPMD_NAME);
}

void bd_log(const char *fmt, ...)
{
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("backendd: %s\n", line);
}

uint64_t bd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ set-up */

static int open_log(const char *path, char *why, size_t why_len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	int e;

	if (fd < 0) {
		e = errno;
		snprintf(why, why_len, "--log %s: %s", path, strerror(e));
		return -e;
	}
	fflush(stdout);
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
		e = errno;
		close(fd);
		snprintf(why, why_len, "--log %s: %s", path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

static int find_vtpmd(struct bd *b, char *why, size_t why_len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int e;

	if (n <= 0) {
		e = n < 0 ? errno : ENOENT;
		snprintf(why, why_len, "/proc/self/exe: %s", strerror(e));
		return -e;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (strlen(self) + sizeof(BD_VTPMD_NAME) + 1 > sizeof(b->vtpmd_path)) {
		snprintf(why, why_len, "path of %s: longer than %u",
			 BD_VTPMD_NAME, BD_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	snprintf(b->vtpmd_path, sizeof(b->vtpmd_path), "%s/%s", self,
		 BD_VTPMD_NAME);
	if (access(b->vtpmd_path, X_OK) < 0) {
		e = errno;
		snprintf(why, why_len, "%s: %s", b->vtpmd_path, strerror(e));
		return -e;
	}
	return 0;
}

/* mkdir -p, new components 0700. */
static int make_dirs(const char *path)
{
	char p[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		p[i] = i == n ? '\0' : '/';
	}
	return 0;
}

/* The state root: made if missing, ours, not writable by others, and
 * flock'ed for as long as we run (two dispatchers would start two
 * backends for each device). */
static int open_state_root(struct bd *b, char *why, size_t why_len)
{
	const char *dir = b->cfg.state_root;
	char real[PATH_MAX];
	struct stat st;
	int rc;

	rc = make_dirs(dir);
	if (rc) {
		snprintf(why, why_len, "--state-root %s: %s", dir,
			 strerror(-rc));
		return rc;
	}
	if (!realpath(dir, real)) {
		rc = -errno;
		snprintf(why, why_len, "--state-root %s: %s", dir,
			 strerror(-rc));
		return rc;
	}
	if (strlen(real) >= sizeof(b->state_root)) {
		snprintf(why, why_len, "--state-root %s: longer than %u", dir,
			 BD_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	memcpy(b->state_root, real, strlen(real) + 1);
	b->root_fd = open(b->state_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->root_fd < 0 || fstat(b->root_fd, &st) < 0) {
		rc = -errno;
		snprintf(why, why_len, "--state-root %s: %s", b->state_root,
			 strerror(-rc));
		return rc;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, why_len,
			 "--state-root %s: owner %u, mode 0%o (must be ours, "
			 "not writable by others)",
			 b->state_root, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (flock(b->root_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		snprintf(why, why_len, "--state-root %s: %s", b->state_root,
			 rc == -EWOULDBLOCK ? "another hvsec-vtpm-backendd "
					      "serves it"
					    : strerror(-rc));
		return rc;
	}
	return 0;
}

static bool initial_domain(void)
{
	char buf[128];
	ssize_t n;
	int fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "control_d") != NULL;
}

/* Our domid: XenStore's relative `domid` (xen-init-dom0 writes it for
 * dom0, libxl for a driver domain); a dom0 without it is still dom0. */
static int self_domid(struct bd *b, char *why, size_t why_len)
{
	unsigned len = 0;
	char *v = xs_read(b->xs, XBT_NULL, "domid", &len);
	int rc;

	if (!v) {
		rc = errno ? -errno : -EIO;
		if (rc == -ENOENT && initial_domain()) {
			b->self = 0;
			return 0;
		}
		snprintf(why, why_len, "reading XenStore's domid: %s",
			 strerror(-rc));
		return rc;
	}
	rc = strlen(v) == len ? vtpmd_parse_u32(v, VTPMD_DOMID_MAX, &b->self)
			      : -EINVAL;
	free(v);
	if (rc)
		snprintf(why, why_len,
			 "XenStore's domid is not a domain id (0..%u)",
			 VTPMD_DOMID_MAX);
	return rc ? -EINVAL : 0;
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* a XenStore write to a closed socket */
	return 0;
}

/* -------------------------------------------------------------- loop */

static bool any_child(const struct bd *b)
{
	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		if (b->devs[i].st != BD_DEV_FREE && b->devs[i].pid > 0)
			return true;
	}
	return false;
}

static void signal_children(struct bd *b, int sig)
{
	for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
		struct bd_dev *d = &b->devs[i];

		if (d->st == BD_DEV_FREE || d->pid <= 0)
			continue;
		bd_child_signal(d, sig);
		d->st = BD_DEV_STOPPING;
	}
}

static void on_signals(struct bd *b, int sfd, uint64_t *deadline)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			bd_child_reap(b);
			break;
		case SIGTERM:
		case SIGINT:
			if (b->stopping)
				break;
			bd_log("signal %u: stopping every backend",
			       si.ssi_signo);
			b->stopping = true;
			*deadline = bd_now_ms() + BD_STOP_GRACE_MS;
			signal_children(b, SIGTERM);
			break;
		default:
			break; /* SIGHUP: nothing to reload */
		}
	}
}

static void on_xenstore(struct bd *b)
{
	bool any = false;
	char **ev;

	while ((ev = xs_check_watch(b->xs))) {
		free(ev);
		any = true;
	}
	if (any)
		bd_scan(b);
}

static int loop(struct bd *b, int sfd)
{
	uint64_t deadline = 0;
	bool killed = false;

	for (;;) {
		struct pollfd pfd[2 + BD_DEVS_MAX];
		struct bd_dev *who[2 + BD_DEVS_MAX];
		nfds_t n = 2;
		int timeout = -1, rc;

		/* --once-for sets done (and exit_code) when its device is
		 * finished; SIGTERM ends the loop with 0 otherwise. */
		if ((b->stopping || b->done) && !any_child(b))
			return b->done ? b->exit_code : EXIT_OK;
		pfd[0] = (struct pollfd){sfd, POLLIN, 0};
		pfd[1] = (struct pollfd){xs_fileno(b->xs), POLLIN, 0};
		for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
			if (b->devs[i].st == BD_DEV_FREE ||
			    b->devs[i].out_fd < 0)
				continue;
			who[n] = &b->devs[i];
			pfd[n++] =
				(struct pollfd){b->devs[i].out_fd, POLLIN, 0};
		}
		if (b->stopping && !killed) {
			uint64_t now = bd_now_ms();

			timeout = deadline > now ? (int)(deadline - now) : 0;
		} else if (!b->stopping) {
			timeout = bd_tick(b);
		}
		rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR) {
			bd_log("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (rc < 0)
			continue;
		if (b->stopping && !killed && bd_now_ms() >= deadline) {
			bd_log("backends still running after %u ms: SIGKILL",
			       BD_STOP_GRACE_MS);
			signal_children(b, SIGKILL);
			killed = true;
		}
		for (nfds_t i = 2; i < n; i++) {
			if (pfd[i].revents)
				bd_child_output(who[i]);
		}
		if (pfd[0].revents)
			on_signals(b, sfd, &deadline);
		if (pfd[1].revents && !b->stopping)
			on_xenstore(b);
	}
}

static struct bd bd; /* large (the device table): not on the stack */

int main(int argc, char **argv)
{
	struct bd *b = &bd;
	char why[BD_PATH_MAX + 512];
	sigset_t sigs;
	int sfd = -1, status = EXIT_FAIL;

	b->root_fd = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (bd_parse_args(argc, argv, &b->cfg, why, sizeof(why))) {
		fprintf(stderr, "hvsec-vtpm-backendd: %s\n", why);
		fprintf(stderr, "Try 'hvsec-vtpm-backendd --help'.\n");
		return EXIT_USAGE;
	}
	if (b->cfg.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (b->cfg.log_path && open_log(b->cfg.log_path, why, sizeof(why))) {
		fprintf(stderr, "hvsec-vtpm-backendd: %s\n", why);
		return EXIT_FAIL;
	}
	if (block_signals(&sigs) ||
	    (sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		bd_log("signals: %s", strerror(errno));
		goto out;
	}
	if (find_vtpmd(b, why, sizeof(why)) ||
	    open_state_root(b, why, sizeof(why))) {
		bd_log("%s", why);
		goto out;
	}
	b->xs = xs_open(0);
	if (!b->xs) {
		bd_log("XenStore (xenstored's socket or /dev/xen/xenbus): %s",
		       strerror(errno));
		goto out;
	}
	if (self_domid(b, why, sizeof(why))) {
		bd_log("%s", why);
		goto out;
	}
	snprintf(b->base, sizeof(b->base), "/local/domain/%u/backend/vtpm",
		 b->self);
	/* Fires once at once: the first scan runs from the loop. */
	if (!xs_watch(b->xs, b->base, BD_TOKEN)) {
		bd_log("watching %s: %s", b->base, strerror(errno));
		goto out;
	}
	if (b->cfg.once)
		bd_log("serving %s/%u/%u only, with %s; state in %s", b->base,
		       b->cfg.once_g, b->cfg.once_n, b->vtpmd_path,
		       b->state_root);
	else
		bd_log("watching %s: backends %s, state in %s", b->base,
		       b->vtpmd_path, b->state_root);
	status = loop(b, sfd);
	bd_log("exiting (status %d)", status);
out:
	if (b->xs)
		xs_close(b->xs);
	if (b->root_fd >= 0)
		close(b->root_fd);
	if (sfd >= 0)
		close(sfd);
	return status;
}
