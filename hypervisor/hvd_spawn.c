/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_spawn.c - starting a guest program, and killing it.
 *
 * The child, before exec: a new session (its own process group, no
 * terminal), the console log on stdout and stderr, /dev/null on stdin,
 * the hypercall socket on fd 3, every other fd closed, signals unblocked
 * and default, a private empty directory as cwd, a clean environment,
 * rlimits (console size, processes), and - when the daemon is root - its
 * own uid and gid with no supplementary groups.  no_new_privs always, and
 * a parent-death signal so no guest outlives the daemon.
 *
 * The program is opened by the daemon, before any uid change, and the
 * child execs that descriptor: the guest's uid needs execute permission on
 * the file itself, never search permission on the directories above it
 * (a checkout under a 0700 directory, or under /root, must still run).
 * The path is resolved once, so it cannot be swapped between the check
 * and the exec either.
 *
 * Exec failures come back over a close-on-exec pipe: EOF means the exec
 * happened, eight bytes are the errno and the step that failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

#define HVD_GUEST_HC_FD	    3
#define HVD_GUEST_KERNEL_FD 4	       /* the program, until exec */
#define HVD_GUEST_ERR_FD    5	       /* the error pipe, until exec */
#define HVD_CONSOLE_MAX	    (4u << 20) /* bytes of console log per guest */
#define HVD_GUEST_NPROC	    256	       /* processes per guest uid */

extern char **environ;

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* In the child: report the failed step's errno and die. */
static void __attribute__((noreturn)) child_fail(int pipefd, int step)
{
	int e[2] = {errno, step};

	if (write(pipefd, e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

enum {
	STEP_SETUP = 1,
	STEP_FDS,
	STEP_RLIMIT,
	STEP_CWD,
	STEP_IDS,
	STEP_PRIVS,
	STEP_EXEC,
};
static const char *const step_names[] = {
	"?",
	"setup",
	"file descriptors",
	"limits",
	"working directory",
	"uid/gid",
	"no_new_privs",
	"exec",
};

/* Environment variables passed through from the daemon, for the
 * sanitizer builds of the guests; everything else is rebuilt. */
static const char *const pass_env[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS",
	"LSAN_OPTIONS", "LD_LIBRARY_PATH",
	"TZ",		NULL,
};

static void __attribute__((noreturn))
child(const struct hvd_spawn_req *r, int errpipe)
{
	char *env[16];
	char hc[32], domid[32], xs[4200], home[4200];
	size_t ne = 0;
	sigset_t none;
	struct rlimit rl;
	int devnull;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* Writing past the console cap fails with EFBIG, not a signal. */
	signal(SIGXFSZ, SIG_IGN);
	if (setsid() < 0)
		child_fail(errpipe, STEP_SETUP);

	/* fds: 0 /dev/null, 1-2 console, 3 hypercall, 4 the program and 5
	 * the error pipe (both close-on-exec), everything else closed.
	 * Every fd we keep moves out of the way of 0-5 first. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || (devnull = fcntl(devnull, F_DUPFD_CLOEXEC, 10)) < 0)
		child_fail(errpipe, STEP_FDS);
	int hc_fd = fcntl(r->hc_fd, F_DUPFD_CLOEXEC, 10);
	int con_fd = fcntl(r->console_fd, F_DUPFD_CLOEXEC, 10);
	int k_fd = fcntl(r->kernel_fd, F_DUPFD_CLOEXEC, 10);
	int err_fd = fcntl(errpipe, F_DUPFD_CLOEXEC, 10);
	if (hc_fd < 0 || con_fd < 0 || k_fd < 0 || err_fd < 0)
		child_fail(errpipe, STEP_FDS);
	if (dup3(err_fd, HVD_GUEST_ERR_FD, O_CLOEXEC) < 0)
		child_fail(err_fd, STEP_FDS);
	errpipe = HVD_GUEST_ERR_FD;
	if (dup2(devnull, 0) < 0 || dup2(con_fd, 1) < 0 ||
	    dup2(con_fd, 2) < 0 || dup2(hc_fd, HVD_GUEST_HC_FD) < 0 ||
	    dup3(k_fd, HVD_GUEST_KERNEL_FD, O_CLOEXEC) < 0)
		child_fail(errpipe, STEP_FDS);
	if (syscall(SYS_close_range, HVD_GUEST_ERR_FD + 1, ~0u, 0) < 0)
		child_fail(errpipe, STEP_FDS);
	/* A #! script is run by its interpreter, which opens it again as
	 * /dev/fd/4: that one descriptor must survive the exec (it is an
	 * O_PATH handle on the script itself: it grants nothing). */
	if (r->kernel_script && fcntl(HVD_GUEST_KERNEL_FD, F_SETFD, 0) < 0)
		child_fail(errpipe, STEP_FDS);

	rl.rlim_cur = rl.rlim_max = HVD_CONSOLE_MAX;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		child_fail(errpipe, STEP_RLIMIT);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		child_fail(errpipe, STEP_RLIMIT);
	if (r->isolate) {
		/* Per uid: a fork bomb in one guest stops at its own uid. */
		rl.rlim_cur = rl.rlim_max = HVD_GUEST_NPROC;
		if (setrlimit(RLIMIT_NPROC, &rl) < 0)
			child_fail(errpipe, STEP_RLIMIT);
	}

	if (chdir(r->cwd) < 0)
		child_fail(errpipe, STEP_CWD);
	if (r->isolate) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(r->gid, r->gid, r->gid) ||
		    setresuid(r->uid, r->uid, r->uid))
			child_fail(errpipe, STEP_IDS);
		if (setuid(0) == 0) { /* must be impossible now */
			errno = EPERM;
			child_fail(errpipe, STEP_IDS);
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(errpipe, STEP_PRIVS);
	/* After the uid change, which clears it: no guest outlives the
	 * daemon. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(errpipe, STEP_PRIVS);
	if (getppid() != r->daemon_pid)
		_exit(127); /* the daemon died already */

	snprintf(hc, sizeof(hc), "%s=%d", HV_ENV_HC_FD, HVD_GUEST_HC_FD);
	snprintf(domid, sizeof(domid), "%s=%u", HV_ENV_DOMID, r->domid);
	snprintf(xs, sizeof(xs), "%s=%s", HV_ENV_XS_PATH, r->xs_path);
	snprintf(home, sizeof(home), "HOME=%s", r->cwd);
	env[ne++] = hc;
	env[ne++] = domid;
	env[ne++] = xs;
	env[ne++] = home;
	env[ne++] = "PATH=/usr/bin:/bin";
	for (int i = 0; pass_env[i]; i++) {
		for (char **e = environ; *e && ne < 15; e++) {
			size_t n = strlen(pass_env[i]);

			if (!strncmp(*e, pass_env[i], n) && (*e)[n] == '=')
				env[ne++] = *e;
		}
	}
	env[ne] = NULL;

	/* Paused at birth: stop before the guest's first instruction; the
	 * toolstack's unpause (SIGCONT) lets it exec. */
	if (r->paused)
		raise(SIGSTOP);
	syscall(SYS_execveat, HVD_GUEST_KERNEL_FD, "", r->argv, env,
		AT_EMPTY_PATH);
	child_fail(errpipe, STEP_EXEC);
}

int hvd_open_kernel(const char *path, bool other_uid, bool *script, char *why,
		    size_t why_len)
{
	char proc[64], magic[2];
	struct stat st;
	int fd, rfd, rc;

	*script = false;
	/* O_PATH: no open of the file itself - a FIFO cannot block us, a
	 * device has no open side effect - yet exec works on it. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "kernel %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, why_len, "kernel %s: %s", path, strerror(-rc));
		goto fail;
	}
	/* A guest of its own uid is "other" to the file: only the others'
	 * execute bit lets it run the program. */
	if (!S_ISREG(st.st_mode) ||
	    !(st.st_mode &
	      (other_uid ? S_IXOTH : S_IXUSR | S_IXGRP | S_IXOTH))) {
		rc = -EACCES;
		snprintf(why, why_len,
			 "kernel %s is not a regular file every uid may "
			 "execute (mode %04o)",
			 path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	/* Whether it is a script decides whether the descriptor must stay
	 * open across the exec.  Reopened through /proc: the same file,
	 * known to be regular, so reading two bytes is harmless. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rfd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (rfd >= 0) {
		if (pread(rfd, magic, 2, 0) == 2 && magic[0] == '#' &&
		    magic[1] == '!')
			*script = true;
		close(rfd);
	}
	return fd;
fail:
	close(fd);
	return rc;
}

int hvd_spawn(const struct hvd_spawn_req *r, pid_t *pid, int *pidfd, char *why,
	      size_t why_len)
{
	int errp[2] = {-1, -1};
	int e[2] = {0, 0};
	ssize_t n;
	pid_t p;
	int pfd, rc;

	*pid = -1;
	*pidfd = -1;
	if (pipe2(errp, O_CLOEXEC) < 0)
		return -errno;
	p = fork();
	if (p < 0) {
		rc = -errno;
		snprintf(why, why_len, "fork: %s", strerror(errno));
		goto out;
	}
	if (p == 0) {
		close(errp[0]);
		child(r, errp[1]);
	}
	close(errp[1]);
	errp[1] = -1;
	/* The child is not reaped until we wait on it, so this cannot race
	 * with its exit. */
	pfd = sys_pidfd_open(p);
	if (pfd < 0) {
		rc = -errno;
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		snprintf(why, why_len, "pidfd_open: %s", strerror(-rc));
		goto out;
	}
	if (r->paused) {
		/* The child stops itself just before exec; reading the pipe
		 * would wait for the exec.  A failed exec shows later as a
		 * crash with status 127. */
		siginfo_t si = {0};

		if (waitid(P_PIDFD, (id_t)pfd, &si, WSTOPPED | WEXITED) < 0 ||
		    si.si_code != CLD_STOPPED) {
			n = read(errp[0], e, sizeof(e));
		} else {
			n = 0;
		}
	} else {
		do {
			n = read(errp[0], e, sizeof(e));
		} while (n < 0 && errno == EINTR);
	}
	if (n == (ssize_t)sizeof(e)) {
		/* The child failed before exec and has exited. */
		siginfo_t si;

		waitid(P_PIDFD, (id_t)pfd, &si, WEXITED);
		close(pfd);
		rc = -e[0];
		snprintf(why, why_len, "cannot start %s: %s: %s%s", r->kernel,
			 step_names[e[1] > 0 && e[1] <= STEP_EXEC ? e[1] : 0],
			 strerror(e[0]),
			 e[1] == STEP_EXEC && e[0] == ENOENT
				 ? " (its ELF interpreter or #! interpreter "
				   "is missing)"
				 : "");
		goto out;
	}
	*pid = p;
	*pidfd = pfd;
	rc = 0;
out:
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	return rc;
}

void hvd_kill_guest(const struct hvd *d, const struct hvd_domain *dom, int sig)
{
	pid_t p;

	if (dom->pid <= 0)
		return;
	/* The guest's process group (it is a session leader), then the
	 * guest itself in case it left its group. */
	kill(-dom->pid, sig);
	kill(dom->pid, sig);
	if (!d->root || sig != SIGKILL)
		return;
	/* Whatever the guest forked into another session: every process of
	 * its uid.  kill(-1) as that uid reaches exactly those. */
	p = fork();
	if (p == 0) {
		if (setresgid(dom->gid, dom->gid, dom->gid) == 0 &&
		    setresuid(dom->uid, dom->uid, dom->uid) == 0)
			kill(-1, SIGKILL);
		_exit(0);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}
