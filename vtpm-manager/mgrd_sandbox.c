/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_sandbox.c - each process of hvsec-vtpm-managerd confines itself
 * once its set-up is done (OpenBSD pledge/unveil style), so that what a
 * compromised front can do is what its serving loop does, and nothing
 * more (docs/vtpm-manager.md, "Sandbox").
 *
 * Two mechanisms, each carrying what it can express:
 *
 *   seccomp (libseccomp)  WHICH system calls, and their integer
 *       arguments: no execve, no ptrace, no process_vm_*, no fork, no
 *       open/socket/connect at all in the front; accept4 only on the
 *       control socket, getsockopt only SO_PEERCRED, mmap/mprotect never
 *       PROT_EXEC, clone only for threads, tgkill only inside ourselves;
 *       socket() in the key holder only for the TCP TCTIs.  It applies to
 *       every thread (TSYNC).  It cannot see what a pointer points to:
 *       not a path, not a socket address.
 *   Landlock (raw syscalls, ABI probed)  WHERE: files and TCP ports.  The
 *       front may open no file at all and use no TCP port; the key holder
 *       may touch files beneath the manager directory only (and remove the
 *       control socket, see below) and connect to the platform TPM's TCP
 *       port only: the swtpm TCTI connects anew for every command, so
 *       seccomp has to let connect() through and Landlock (ABI >= 4) says
 *       where to.  Landlock restricts the calling thread and what it
 *       creates later only (no TSYNC in ABI 7): so the front is sandboxed
 *       before the XenStore watch starts libxenstore's reader thread, and
 *       both calls refuse to run with a second thread already there.
 *
 * A denied system call fails with EPERM (seccomp) or EACCES (Landlock):
 * nothing is killed, the caller sees an error it already handles.  On
 * x86_64 a seccomp denial also says on the console which call was denied
 * (SIGSYS handler, async-signal-safe, the first MGRD_SB_LOG_MAX of them).
 *
 * Kernels without Landlock (or with it disabled) get seccomp alone, said
 * loudly; a seccomp failure fails the start (fail closed).
 *
 * Sanitizer builds (SAN=1): LeakSanitizer stops the world at exit with a
 * ptrace'ing clone and reads /proc/self/maps; those calls are allowed
 * there, and only there (detected at compile time), and denials are a
 * plain EPERM there (no SIGSYS report: see seccomp_install).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "vtpm-manager/mgrd.h"

#if defined(__SANITIZE_ADDRESS__)
#define MGRD_SB_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MGRD_SB_SAN 1
#endif
#endif
#ifndef MGRD_SB_SAN
#define MGRD_SB_SAN 0
#endif

/* --------------------------------------------------------- Landlock ABI */

/* The kernel's stable UAPI (include/uapi/linux/landlock.h), spelled out
 * here because the build host's headers may predate ABI 4-6. */
#define LL_CREATE_RULESET_VERSION 1u
#define LL_RULE_PATH_BENEATH	  1
#define LL_RULE_NET_PORT	  2

#define LL_FS_EXECUTE	       (1ull << 0)
#define LL_FS_WRITE_FILE       (1ull << 1)
#define LL_FS_READ_FILE	       (1ull << 2)
#define LL_FS_READ_DIR	       (1ull << 3)
#define LL_FS_REMOVE_DIR       (1ull << 4)
#define LL_FS_REMOVE_FILE      (1ull << 5)
#define LL_FS_MAKE_CHAR	       (1ull << 6)
#define LL_FS_MAKE_DIR	       (1ull << 7)
#define LL_FS_MAKE_REG	       (1ull << 8)
#define LL_FS_MAKE_SOCK	       (1ull << 9)
#define LL_FS_MAKE_FIFO	       (1ull << 10)
#define LL_FS_MAKE_BLOCK       (1ull << 11)
#define LL_FS_MAKE_SYM	       (1ull << 12)
#define LL_FS_REFER	       (1ull << 13) /* ABI 2 */
#define LL_FS_TRUNCATE	       (1ull << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV	       (1ull << 15) /* ABI 5 */
#define LL_NET_BIND_TCP	       (1ull << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP     (1ull << 1)  /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0)  /* ABI 6 */
#define LL_SCOPE_SIGNAL	       (1ull << 1)  /* ABI 6 */

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

/* What the kernel handles, by ABI: everything it knows is denied unless a
 * rule allows it. */
static uint64_t ll_fs_handled(int abi)
{
	uint64_t m = LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE |
		     LL_FS_READ_DIR | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE |
		     LL_FS_MAKE_CHAR | LL_FS_MAKE_DIR | LL_FS_MAKE_REG |
		     LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK |
		     LL_FS_MAKE_SYM;

	if (abi >= 2)
		m |= LL_FS_REFER;
	if (abi >= 3)
		m |= LL_FS_TRUNCATE;
	if (abi >= 5)
		m |= LL_FS_IOCTL_DEV;
	return m;
}

/* The Landlock ABI version, or 0 when the kernel has none (or it is
 * disabled at boot). */
static int ll_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
			 LL_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

/* A rule letting `access` (masked to what the ruleset handles) beneath
 * path.  0 or -errno. */
static int ll_allow_path(int rfd, const char *path, uint64_t access,
			 uint64_t handled)
{
	struct ll_path_beneath_attr pb = {.allowed_access = access & handled};
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &pb, 0))
		rc = -errno;
	close(fd);
	return rc;
}

static int ll_allow_port(int rfd, uint32_t port)
{
	struct ll_net_port_attr np = {.allowed_access = LL_NET_CONNECT_TCP,
				      .port = port};

	return syscall(SYS_landlock_add_rule, rfd, LL_RULE_NET_PORT, &np, 0)
		       ? -errno
		       : 0;
}

/* ----------------------------------------------------------- what TCTI */

/* The platform TPM connection the key holder keeps using, from --tcti
 * ("device:/dev/tpmrm0", "swtpm:host=H,port=P", "mssim:port=P", "swtpm"). */
struct tcti_net {
	enum { TCTI_DEVICE, TCTI_TCP, TCTI_UNKNOWN } kind;
	bool unix_path;	  /* swtpm:path=...: an AF_UNIX socket */
	uint32_t port[2]; /* TCTI_TCP: command and control ports */
};

static void tcti_parse(const char *tcti, struct tcti_net *t)
{
	const char *conf = strchr(tcti, ':'), *p;
	size_t nlen = conf ? (size_t)(conf - tcti) : strlen(tcti);
	unsigned long port = 2321; /* the TCTIs' default */

	memset(t, 0, sizeof(*t));
	if ((nlen >= 6 && !memcmp(tcti, "device", 6)) ||
	    (nlen > 0 && tcti[0] == '/')) {
		t->kind = TCTI_DEVICE;
		return;
	}
	if (!memmem(tcti, nlen, "swtpm", 5) &&
	    !memmem(tcti, nlen, "mssim", 5)) {
		t->kind = TCTI_UNKNOWN;
		return;
	}
	t->kind = TCTI_TCP;
	conf = conf ? conf + 1 : "";
	for (p = conf; p && *p;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, "port=", 5)) {
			char *end;

			errno = 0;
			port = strtoul(p + 5, &end, 10);
			if (errno || port == 0 || port > 65534 ||
			    (*end && *end != ','))
				port = 2321;
		} else if (!strncmp(p, "path=", 5)) {
			t->unix_path = true;
		}
	}
	/* Both simulators listen on P (commands) and P + 1 (control). */
	t->port[0] = (uint32_t)port;
	t->port[1] = (uint32_t)port + 1;
}

/* ------------------------------------------------------- SIGSYS report */

#define MGRD_SB_LOG_MAX 32u

static volatile sig_atomic_t sb_denied;

static const struct {
	int nr;
	const char *name;
} sb_names[] = {
	{SCMP_SYS(open), "open"},
	{SCMP_SYS(openat), "openat"},
	{SCMP_SYS(openat2), "openat2"},
	{SCMP_SYS(socket), "socket"},
	{SCMP_SYS(connect), "connect"},
	{SCMP_SYS(bind), "bind"},
	{SCMP_SYS(execve), "execve"},
	{SCMP_SYS(execveat), "execveat"},
	{SCMP_SYS(ptrace), "ptrace"},
	{SCMP_SYS(process_vm_readv), "process_vm_readv"},
	{SCMP_SYS(process_vm_writev), "process_vm_writev"},
	{SCMP_SYS(kill), "kill"},
	{SCMP_SYS(unlink), "unlink"},
	{SCMP_SYS(unlinkat), "unlinkat"},
	{SCMP_SYS(rename), "rename"},
	{SCMP_SYS(renameat), "renameat"},
	{SCMP_SYS(newfstatat), "newfstatat"},
	{SCMP_SYS(statx), "statx"},
	{SCMP_SYS(ioctl), "ioctl"},
	{SCMP_SYS(prctl), "prctl"},
	{SCMP_SYS(clone), "clone"},
	{SCMP_SYS(mmap), "mmap"},
	{SCMP_SYS(mprotect), "mprotect"},
	{SCMP_SYS(setsockopt), "setsockopt"},
	{SCMP_SYS(getsockopt), "getsockopt"},
	{SCMP_SYS(accept4), "accept4"},
	{SCMP_SYS(fcntl), "fcntl"},
};

static char *put_str(char *p, const char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_uint(char *p, const char *end, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(tmp));
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

/* A seccomp denial: EPERM to the caller, one console line (async-signal-
 * safe: no stdio, no malloc). */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[160], *p = line, *end = line + sizeof(line) - 1;
	const char *name = NULL;
	int e = errno;

	(void)sig;
#if defined(__x86_64__)
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -EPERM;
#else
	(void)ctx;
#endif
	if (sb_denied >= (sig_atomic_t)MGRD_SB_LOG_MAX) {
		errno = e;
		return;
	}
	sb_denied++;
	for (size_t i = 0; i < sizeof(sb_names) / sizeof(sb_names[0]); i++)
		if (sb_names[i].nr == si->si_syscall)
			name = sb_names[i].name;
	p = put_str(p, end, "mgrd: SANDBOX: denied system call ");
	p = put_str(p, end, name ? name : "#");
	if (!name)
		p = put_uint(p, end, (unsigned long)si->si_syscall);
	p = put_str(p, end, " (EPERM) in pid ");
	p = put_uint(p, end, (unsigned long)getpid());
	if (sb_denied == (sig_atomic_t)MGRD_SB_LOG_MAX)
		p = put_str(p, end, "; further denials are not logged");
	*p++ = '\n';
	if (write(STDOUT_FILENO, line, (size_t)(p - line)) < 0) {
		/* The console is gone: nothing to say it on. */
	}
	errno = e;
}

/* ------------------------------------------------------------- seccomp */

/* The calls both processes make while serving: I/O on descriptors they
 * hold, memory, time, signals, their own exit.  Nothing here names a
 * file or makes a new connection. */
static const int common_allow[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(close),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	SCMP_SYS(brk),
	SCMP_SYS(futex),
	SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(sched_yield),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(wait4),
};

/* The front's extras: its children's exit (wait4 above), the pipe
 * libxenstore makes for xs_fileno, libxenstore's reader thread. */
static const int front_allow[] = {
	SCMP_SYS(pipe2),
};

/* The key holder's extras: files (Landlock says which), durable writes. */
static const int kh_allow[] = {
	SCMP_SYS(openat),     SCMP_SYS(open),	   SCMP_SYS(newfstatat),
	SCMP_SYS(fstat),      SCMP_SYS(statx),	   SCMP_SYS(lseek),
	SCMP_SYS(pread64),    SCMP_SYS(pwrite64),  SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),  SCMP_SYS(ftruncate), SCMP_SYS(fchmod),
	SCMP_SYS(flock),      SCMP_SYS(rename),	   SCMP_SYS(renameat),
	SCMP_SYS(renameat2),  SCMP_SYS(unlink),	   SCMP_SYS(unlinkat),
	SCMP_SYS(getdents64), SCMP_SYS(umask),
};

/* What LeakSanitizer needs at exit (SAN=1 builds only): a clone that
 * ptraces our threads and lists /proc/PID/task (getdents, the old one),
 * /proc/self/maps.  (And isatty for the report's colours: below.) */
static const int san_allow[] = {
	SCMP_SYS(openat),     SCMP_SYS(open),
	SCMP_SYS(getdents),   SCMP_SYS(getdents64),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(lseek),      SCMP_SYS(ptrace),
	SCMP_SYS(prctl),      SCMP_SYS(clone),
	SCMP_SYS(waitid),     SCMP_SYS(sigaltstack),
	SCMP_SYS(readlink),   SCMP_SYS(readlinkat),
	SCMP_SYS(getppid),    SCMP_SYS(tgkill),
	SCMP_SYS(kill),	      SCMP_SYS(pread64),
	SCMP_SYS(uname),      SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit),  SCMP_SYS(sched_getaffinity),
};

enum sb_role { SB_FRONT, SB_KH };

static int allow_list(scmp_filter_ctx c, const int *nr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(c, SCMP_ACT_ALLOW, nr[i], 0);

		if (rc)
			return rc;
	}
	return 0;
}

#define ALLOW_LIST(c, a) allow_list((c), (a), sizeof(a) / sizeof((a)[0]))

/* Installs the filter of role.  lfd: the front's control socket (accept4
 * is allowed on it only).  0 or -errno with why. */
static int seccomp_install(enum sb_role role, int lfd, const struct tcti_net *t,
			   char *why, size_t why_len)
{
	uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx c;
	int rc = 0;

#if defined(__x86_64__)
	/* on_sigsys: EPERM, and said.  Not in sanitizer builds: LSan's
	 * tracer blocks SIGSYS, and a trap there would kill it (and hang
	 * the exit waiting for it) where EPERM makes LSan say what failed. */
	if (!MGRD_SB_SAN)
		deny = SCMP_ACT_TRAP;
#endif
	c = seccomp_init(deny);
	if (!c) {
		snprintf(why, why_len, "seccomp_init failed");
		return -ENOMEM;
	}
	/* One filter for every thread; no set-uid escape from it. */
	if ((rc = seccomp_attr_set(c, SCMP_FLTATR_CTL_TSYNC, 1)) ||
	    (rc = seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 1)))
		goto out;
	if ((rc = ALLOW_LIST(c, common_allow)))
		goto out;
	/* No executable memory: mmap and mprotect without PROT_EXEC. */
	if ((rc = seccomp_rule_add(
		     c, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) ||
	    (rc = seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))))
		goto out;
	/* Descriptor flags only (O_NONBLOCK on event channels, CLOEXEC). */
	{
		static const int cmds[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};

		for (size_t i = 0; i < 4 && !rc; i++)
			rc = seccomp_rule_add(c, SCMP_ACT_ALLOW,
					      SCMP_SYS(fcntl), 1,
					      SCMP_A1(SCMP_CMP_EQ, cmds[i]));
		if (rc)
			goto out;
	}
	/* Signals to our own threads only (pthread_cancel in xs_close). */
	if ((rc = seccomp_rule_add(
		     c, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))))
		goto out;
	/* glibc falls back to clone when clone3 is missing; clone3's flags
	 * are in memory, where seccomp cannot check them. */
	if ((rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
				   0)))
		goto out;

	if (role == SB_FRONT) {
		if ((rc = ALLOW_LIST(c, front_allow)))
			goto out;
		/* Threads, never processes (libxenstore's reader thread). */
		if ((rc = seccomp_rule_add(
			     c, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
				     CLONE_THREAD))))
			goto out;
		/* New control connections on the control socket only, and
		 * who is calling. */
		if ((rc = seccomp_rule_add(
			     c, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)lfd))) ||
		    (rc = seccomp_rule_add(c, SCMP_ACT_ALLOW,
					   SCMP_SYS(getsockopt), 2,
					   SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
					   SCMP_A2(SCMP_CMP_EQ, SO_PEERCRED))))
			goto out;
	} else {
		if ((rc = ALLOW_LIST(c, kh_allow)))
			goto out;
		/* The TCP TCTIs connect anew for each command: stream
		 * sockets of the inet families (Landlock: the TPM's ports
		 * only); AF_UNIX only for swtpm:path=. */
		if (t->kind != TCTI_DEVICE) {
			static const int fam[] = {AF_INET, AF_INET6, AF_UNIX};
			size_t nfam =
				t->kind == TCTI_UNKNOWN || t->unix_path ? 3 : 2;

			for (size_t i = 0; i < nfam && !rc; i++)
				rc = seccomp_rule_add(
					c, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
					SCMP_A0(SCMP_CMP_EQ, fam[i]),
					SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
						SOCK_STREAM));
			if (!rc)
				rc = ALLOW_LIST(c,
						((const int[]){
							SCMP_SYS(connect),
							SCMP_SYS(setsockopt),
							SCMP_SYS(getsockopt),
							SCMP_SYS(shutdown),
							SCMP_SYS(getsockname),
							SCMP_SYS(getpeername),
						}));
			if (rc)
				goto out;
		}
	}
	if (MGRD_SB_SAN &&
	    ((rc = ALLOW_LIST(c, san_allow)) ||
	     (rc = seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				    SCMP_A1(SCMP_CMP_EQ, TCGETS)))))
		goto out;
	rc = seccomp_load(c);
out:
	if (rc)
		snprintf(why, why_len, "seccomp filter: %s", mgrd_strerror(rc));
	seccomp_release(c);
	return rc;
}

/* ------------------------------------------------------------ Landlock */

/* Installs the Landlock domain of role.  0 (with *abi_out 0 when the
 * kernel has no Landlock), or -errno with why. */
static int landlock_install(enum sb_role role, const struct mgrd_opts *o,
			    const struct tcti_net *t, int *abi_out, char *why,
			    size_t why_len)
{
	int abi = ll_abi(), rfd, rc = 0;
	struct ll_ruleset_attr ra = {0};
	size_t ra_len = sizeof(ra);
	char ctl_dir[4096];

	*abi_out = abi;
	if (!abi)
		return 0;
	ra.handled_access_fs = ll_fs_handled(abi);
	if (abi >= 4 && !(role == SB_KH && t->kind == TCTI_UNKNOWN))
		ra.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 6)
		ra.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	else if (abi >= 4)
		ra_len = offsetof(struct ll_ruleset_attr, scoped);
	else
		ra_len = offsetof(struct ll_ruleset_attr, handled_access_net);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, ra_len, 0);
	if (rfd < 0) {
		rc = -errno;
		snprintf(why, why_len, "Landlock ruleset (ABI %d): %s", abi,
			 mgrd_strerror(rc));
		return rc;
	}
	if (role == SB_KH) {
		/* The manager directory: its files read, written, made,
		 * renamed and removed - no directories, links, devices. */
		rc = ll_allow_path(rfd, o->dir,
				   LL_FS_READ_FILE | LL_FS_WRITE_FILE |
					   LL_FS_READ_DIR | LL_FS_REMOVE_FILE |
					   LL_FS_MAKE_REG | LL_FS_TRUNCATE,
				   ra.handled_access_fs);
		if (rc) {
			snprintf(why, why_len, "Landlock rule for %s: %s",
				 o->dir, mgrd_strerror(rc));
			goto out;
		}
		/* The control socket's directory: removing the socket at
		 * the end, which the front may no longer do. */
		if (o->control) {
			char *slash;

			snprintf(ctl_dir, sizeof(ctl_dir), "%s", o->control);
			slash = strrchr(ctl_dir, '/');
			if (slash == ctl_dir)
				slash[1] = '\0';
			else if (slash)
				*slash = '\0';
			else
				snprintf(ctl_dir, sizeof(ctl_dir), ".");
			rc = ll_allow_path(rfd, ctl_dir, LL_FS_REMOVE_FILE,
					   ra.handled_access_fs);
			if (rc) {
				snprintf(why, why_len,
					 "Landlock rule for %s: %s", ctl_dir,
					 mgrd_strerror(rc));
				goto out;
			}
		}
		for (int i = 0;
		     i < 2 && ra.handled_access_net && t->kind == TCTI_TCP;
		     i++) {
			rc = ll_allow_port(rfd, t->port[i]);
			if (rc) {
				snprintf(why, why_len,
					 "Landlock rule for TCP port %u: %s",
					 t->port[i], mgrd_strerror(rc));
				goto out;
			}
		}
	}
	if (MGRD_SB_SAN) {
		/* LeakSanitizer reads /proc/self/maps and /proc/self/task. */
		rc = ll_allow_path(rfd, "/proc",
				   LL_FS_READ_FILE | LL_FS_READ_DIR,
				   ra.handled_access_fs);
		if (rc) {
			snprintf(why, why_len, "Landlock rule for /proc: %s",
				 mgrd_strerror(rc));
			goto out;
		}
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0)) {
		rc = -errno;
		snprintf(why, why_len, "Landlock restrict_self: %s",
			 mgrd_strerror(rc));
	}
out:
	close(rfd);
	return rc;
}

/* ------------------------------------------------------------- entries */

/* Threads of this process, from /proc/self/status (-1 when unknown). */
static int thread_count(void)
{
	char buf[4096];
	const char *p;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nThreads:");
	return p ? atoi(p + 9) : -1;
}

static bool sb_kh_served; /* mgrd_sandbox_kh succeeded in this process */

int mgrd_sandbox_prepare(const struct mgrd_opts *o)
{
	struct sigaction sa;

	if (o->no_sandbox) {
		mgrd_log("WARNING: --no-sandbox: the front and the key holder "
			 "run WITHOUT seccomp or Landlock - a compromised "
			 "front could open the manager directory and the "
			 "platform TPM.  Debugging only.");
		return 0;
	}
	/* glibc loads libgcc_s at the first pthread_cancel (xs_close ends
	 * libxenstore's reader thread so): now, while files can be opened.
	 * A failure shows later as the same error it always would. */
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
		mgrd_log("sandbox: libgcc_s.so.1 not preloaded: %s", dlerror());
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
		mgrd_log("sandbox: SIGSYS handler: %s", mgrd_strerror(errno));
		return -errno;
	}
	return 0;
}

/* Both processes: Landlock first (it needs open() for its rules), then
 * seccomp.  0, or -errno with why. */
static int enter(enum sb_role role, const struct mgrd_opts *o, int lfd,
		 char *why, size_t why_len)
{
	struct tcti_net t;
	char net[96] = "", ll[32];
	int abi = 0, rc, threads;

	tcti_parse(o->tcti ? o->tcti : "", &t);
	threads = thread_count();
	if (threads != 1) {
		snprintf(why, why_len,
			 "sandbox: %d threads here (Landlock would confine "
			 "only this one): entered too late",
			 threads);
		return -EBUSY;
	}
	rc = mgrd_sandbox_prepare(o);
	if (rc) {
		snprintf(why, why_len, "sandbox: SIGSYS handler: %s",
			 mgrd_strerror(rc));
		return rc;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		rc = -errno;
		snprintf(why, why_len, "sandbox: no_new_privs: %s",
			 mgrd_strerror(rc));
		return rc;
	}
	rc = landlock_install(role, o, &t, &abi, why, why_len);
	if (rc)
		return rc;
	/* Said before the filter: the first line allocates stdout's buffer
	 * (an fstat the filter would refuse). */
	if (role == SB_KH && t.kind == TCTI_TCP)
		snprintf(net, sizeof(net), ", TCP connect to ports %u/%u only",
			 t.port[0], t.port[1]);
	if (!abi)
		mgrd_log("SANDBOX WEAKER: no Landlock in this kernel: files "
			 "and TCP ports %s",
			 role == SB_FRONT ? "rest on seccomp alone"
					  : "are NOT confined");
	else if (abi < 4 && role == SB_KH && t.kind != TCTI_DEVICE)
		mgrd_log("SANDBOX WEAKER: Landlock ABI %d < 4: TCP connect "
			 "not confined to the platform TPM's port",
			 abi);
	else if (role == SB_KH && t.kind == TCTI_UNKNOWN)
		mgrd_log("SANDBOX WEAKER: TCTI %s unknown here: sockets are "
			 "not confined",
			 o->tcti);
	snprintf(ll, sizeof(ll), " + Landlock ABI %d", abi);
	mgrd_log("sandbox: seccomp%s: %s%s%s", abi ? ll : "",
		 role == SB_FRONT
			 ? "no files, no new sockets, no exec; accept on the "
			   "control socket only"
			 : "files beneath the manager directory only, no exec",
		 net,
		 MGRD_SB_SAN ? " (sanitizer build: LSan's calls allowed)" : "");
	return seccomp_install(role, lfd, &t, why, why_len);
}

int mgrd_sandbox_front(const struct mgrd_opts *o, int lfd, char *why,
		       size_t why_len)
{
	if (o->no_sandbox)
		return 1;
	return enter(SB_FRONT, o, lfd, why, why_len);
}

int mgrd_sandbox_kh(const struct mgrd_opts *o, char *why, size_t why_len)
{
	int rc;

	if (o->no_sandbox)
		return 1;
	rc = enter(SB_KH, o, -1, why, why_len);
	sb_kh_served = rc == 0;
	return rc;
}

void mgrd_sandbox_kh_exit(const struct mgrd_opts *o)
{
	struct timespec now;
	struct stat st;
	uint64_t ctime_ns, since_ns;

	if (!sb_kh_served || !o->control)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	since_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	/* The front closed the socketpair after closing its listener.  A
	 * socket made after we saw that is a successor's: left alone. */
	if (lstat(o->control, &st) || !S_ISSOCK(st.st_mode))
		return;
	ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000u +
		   (uint64_t)st.st_ctim.tv_nsec;
	if (ctime_ns > since_ns)
		return;
	if (unlink(o->control) && errno != ENOENT)
		mgrd_log("removing the control socket %s: %s", o->control,
			 mgrd_strerror(errno));
}
