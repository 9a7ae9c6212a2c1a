/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sandbox - what each process of hvsec-vtpm-managerd may still do
 * once it has called mgrd_sandbox_front / mgrd_sandbox_kh
 * (vtpm-manager/mgrd_sandbox.c), as a table of system calls: each case
 * runs in a forked child that prepares what it needs (unconfined), enters
 * the sandbox of its role, makes one call and reports the result through
 * a pipe.  Allowed calls must succeed; forbidden ones must fail with
 * EPERM (seccomp) or EACCES (Landlock), the child must not be killed,
 * and a seccomp denial must be named on the console (x86_64).
 *
 * The "platform TPM" is a TCP listener of this test (the key holder may
 * connect to its port only); a second listener is any other port.  Cases
 * that need Landlock are skipped when the kernel has none (said).  In
 * sanitizer builds the calls LeakSanitizer needs are allowed on purpose:
 * the cases about them are skipped there (an open is still refused there,
 * by Landlock).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "vtpm-manager/mgrd.h"

#if defined(__SANITIZE_ADDRESS__)
#define SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAN 1
#endif
#endif
#ifndef SAN
#define SAN 0
#endif

/* What the parent made for every case. */
static struct {
	char dir[64];	   /* the manager directory (a file "root" in it) */
	char ctl_dir[64];  /* the control socket's directory */
	char ctl[128];	   /* the control socket */
	char outside[128]; /* a file outside both */
	char tcti[64];
	uint16_t tpm_port, other_port;
	int ll_abi;
	pid_t parent;
} env;

/* One child's context: what setup made before the sandbox. */
struct ctx {
	int lfd;    /* a listening control socket (the front's) */
	int fd;	    /* setup's descriptor for op */
	int fd2;    /* a second one */
	void *addr; /* setup's mapping */
};

enum role { FRONT, KH };
enum expect {
	OK,	    /* succeeds */
	DENIED,	    /* EPERM or EACCES */
	DENIED_LL,  /* EACCES by Landlock (skipped without it) */
	DENIED_NET, /* EACCES by Landlock ABI >= 4 (skipped below) */
};

struct tcase {
	const char *name;
	enum role role;
	int (*setup)(struct ctx *c); /* 0 or -errno, unconfined */
	int (*op)(struct ctx *c);    /* 0 or -errno, sandboxed */
	enum expect expect;
	const char *logged; /* seccomp denial named on the console */
	bool san_allowed;   /* allowed for LeakSanitizer in SAN builds */
};

/* Our paths are short (/tmp/hvsec-sbx-run.XXXXXX/...): cut, not wrapped. */
static void sun_set(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);

	if (n >= sizeof(sa->sun_path))
		n = sizeof(sa->sun_path) - 1;
	memcpy(sa->sun_path, path, n);
	sa->sun_path[n] = '\0';
}

static int ret(long rc)
{
	return rc < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ setups */

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	sun_set(&sa, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The control socket with one connection waiting on it. */
static int su_pending(struct ctx *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	sun_set(&sa, env.ctl);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	return c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sa,
				     sizeof(sa)) == 0
		       ? 0
		       : -errno;
}

/* The control socket, as the front left it. */
static int su_ctl_socket(struct ctx *c)
{
	c->fd = listen_unix(env.ctl);
	return c->fd >= 0 ? 0 : -errno;
}

/* Another listening socket with a connection waiting. */
static int su_other_listener(struct ctx *c)
{
	char path[160];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(path, sizeof(path), "%s/other.sock", env.ctl_dir);
	c->fd2 = listen_unix(path);
	sun_set(&sa, path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd2 < 0 || c->fd < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

/* A socketpair carrying a memfd, as the hypercall channel carries a
 * granted page. */
static int su_fd_passing(struct ctx *c)
{
	int sp[2], mfd = memfd_create("page", MFD_CLOEXEC);
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = "g", .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	if (mfd < 0 || ftruncate(mfd, 4096) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return -errno;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
	if (sendmsg(sp[0], &m, 0) != 1)
		return -errno;
	close(mfd);
	c->fd = sp[1];
	return 0;
}

static int su_memfd(struct ctx *c)
{
	c->fd = memfd_create("page", MFD_CLOEXEC);
	return c->fd >= 0 && ftruncate(c->fd, 4096) == 0 ? 0 : -errno;
}

static int su_anon_page(struct ctx *c)
{
	c->addr = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return c->addr == MAP_FAILED ? -errno : 0;
}

/* An inet socket made before the sandbox (a leftover descriptor). */
static int su_tcp_socket(struct ctx *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return c->fd >= 0 ? 0 : -errno;
}

static int su_file_in_ctl_dir(struct ctx *c)
{
	char path[160];
	int fd;

	(void)c;
	snprintf(path, sizeof(path), "%s/victim", env.ctl_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- ops */

static int op_write_pipe(struct ctx *c)
{
	int p[2];

	(void)c;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	return ret(write(p[1], "x", 1));
}

static int op_time_random(struct ctx *c)
{
	struct timespec ts;
	uint8_t b[16];

	(void)c;
	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return -errno;
	return getrandom(b, sizeof(b), 0) == (ssize_t)sizeof(b) ? 0 : -errno;
}

static int op_malloc(struct ctx *c)
{
	void *p = malloc(4u << 20); /* mmap'ed by glibc */

	(void)c;
	if (!p)
		return -ENOMEM;
	memset(p, 1, 4u << 20);
	free(p);
	return 0;
}

static int op_accept_ctl(struct ctx *c)
{
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (fd < 0)
		return -errno;
	return ret(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len));
}

static int op_accept_other(struct ctx *c)
{
	return ret(accept4(c->fd2, NULL, NULL, SOCK_CLOEXEC));
}

static int op_getsockopt_other(struct ctx *c)
{
	int v;
	socklen_t len = sizeof(v);

	return ret(getsockopt(c->lfd, SOL_SOCKET, SO_RCVBUF, &v, &len));
}

static int op_recv_fd_and_map(struct ctx *c)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	int fd;
	void *a;

	if (recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED)
		return -errno;
	((volatile uint8_t *)a)[0] = 1;
	return ret(munmap(a, 4096));
}

static int op_map_exec(struct ctx *c)
{
	void *a = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, c->fd, 0);

	return a == MAP_FAILED ? -errno : 0;
}

static int op_mprotect_exec(struct ctx *c)
{
	return ret(mprotect(c->addr, 4096, PROT_READ | PROT_EXEC));
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int op_thread(struct ctx *c)
{
	pthread_t t;
	void *r = NULL;
	int rc;

	(void)c;
	rc = pthread_create(&t, NULL, thread_fn, &env);
	if (rc)
		return -rc;
	rc = pthread_join(t, &r);
	return rc ? -rc : r == &env ? 0 : -EIO;
}

static int op_fork(struct ctx *c)
{
	pid_t p;

	(void)c;
	p = fork();
	if (p == 0)
		_exit(0);
	if (p < 0)
		return -errno;
	waitpid(p, NULL, 0);
	return 0;
}

static int op_open_mgr_file(struct ctx *c)
{
	char path[160];

	(void)c;
	snprintf(path, sizeof(path), "%s/root", env.dir);
	return ret(open(path, O_RDONLY | O_CLOEXEC));
}

static int op_open_mgr_dir_at(struct ctx *c)
{
	(void)c;
	return ret(openat(AT_FDCWD, env.dir, O_RDONLY | O_DIRECTORY));
}

static int op_open_outside(struct ctx *c)
{
	(void)c;
	return ret(open(env.outside, O_RDONLY | O_CLOEXEC));
}

static int op_create_outside(struct ctx *c)
{
	char path[160];

	(void)c;
	snprintf(path, sizeof(path), "%s.new", env.outside);
	return ret(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
}

static int op_write_mgr_durably(struct ctx *c)
{
	char tmp[160], dst[160];
	int fd;

	(void)c;
	snprintf(tmp, sizeof(tmp), "%s/x.tmp", env.dir);
	snprintf(dst, sizeof(dst), "%s/x", env.dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, "s", 1) != 1 || fsync(fd) || close(fd) ||
	    rename(tmp, dst))
		return -errno;
	return ret(unlink(dst));
}

static int op_mkdir_mgr(struct ctx *c)
{
	char path[160];

	(void)c;
	snprintf(path, sizeof(path), "%s/sub", env.dir);
	return ret(mkdir(path, 0700));
}

static int op_symlink_mgr(struct ctx *c)
{
	char path[160];

	(void)c;
	snprintf(path, sizeof(path), "%s/link", env.dir);
	return ret(symlink("/etc/passwd", path));
}

static int op_unlink_in_ctl_dir(struct ctx *c)
{
	char path[160];

	(void)c;
	snprintf(path, sizeof(path), "%s/victim", env.ctl_dir);
	return ret(unlink(path));
}

static int op_read_in_ctl_dir(struct ctx *c)
{
	char path[160];

	(void)c;
	snprintf(path, sizeof(path), "%s/victim", env.ctl_dir);
	return ret(open(path, O_RDONLY | O_CLOEXEC));
}

static int op_unlink_ctl(struct ctx *c)
{
	(void)c;
	return ret(unlink(env.ctl));
}

static int op_stat(struct ctx *c)
{
	struct stat st;

	(void)c;
	return ret(stat(env.dir, &st));
}

static int op_socket_inet(struct ctx *c)
{
	(void)c;
	return ret(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int op_socket_udp(struct ctx *c)
{
	(void)c;
	return ret(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

static int op_socket_unix(struct ctx *c)
{
	(void)c;
	return ret(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int op_socket_netlink(struct ctx *c)
{
	(void)c;
	return ret(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
}

static int connect_port(int fd, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	return ret(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
}

static int op_connect_tpm_leftover(struct ctx *c)
{
	return connect_port(c->fd, env.tpm_port);
}

static int op_connect_tpm_new(struct ctx *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)c;
	return fd < 0 ? -errno : connect_port(fd, env.tpm_port);
}

static int op_connect_other_new(struct ctx *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)c;
	return fd < 0 ? -errno : connect_port(fd, env.other_port);
}

static int op_connect_unix_ctl(struct ctx *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	sun_set(&sa, env.ctl);
	return ret(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)));
}

static int su_unix_socket(struct ctx *c)
{
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	return c->fd >= 0 ? 0 : -errno;
}

static int op_execve(struct ctx *c)
{
	char *const argv[] = {"true", NULL}, *const envp[] = {NULL};

	(void)c;
	execve("/bin/true", argv, envp);
	return -errno;
}

static int op_ptrace(struct ctx *c)
{
	(void)c;
	return ret(ptrace(PTRACE_ATTACH, env.parent, NULL, NULL));
}

static int op_process_vm_readv(struct ctx *c)
{
	char buf[8];
	struct iovec l = {buf, sizeof(buf)}, r = {&env, sizeof(buf)};

	(void)c;
	return ret(process_vm_readv(env.parent, &l, 1, &r, 1, 0));
}

static int op_kill(struct ctx *c)
{
	(void)c;
	return ret(kill(env.parent, 0));
}

static int op_prctl(struct ctx *c)
{
	(void)c;
	return ret(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

static int op_ioctl(struct ctx *c)
{
	int n;

	(void)c;
	return ret(ioctl(0, FIONREAD, &n));
}

/* The key holder's end: the control socket (older than now) removed. */
static int op_kh_exit_removes_ctl(struct ctx *c)
{
	struct stat st;
	struct mgrd_opts o = {
		.dir = env.dir, .tcti = env.tcti, .control = env.ctl};

	(void)c;
	mgrd_sandbox_kh_exit(&o);
	return lstat(env.ctl, &st) == 0 ? -EEXIST
	       : errno == ENOENT	? 0
					: -errno;
}

/* ------------------------------------------------------------- table */

static const struct tcase cases[] = {
	/* The front: what its loop does. */
	{"front: write to a pipe it makes", FRONT, NULL, op_write_pipe, OK},
	{"front: clock and getrandom", FRONT, NULL, op_time_random, OK},
	{"front: malloc of 4 MiB", FRONT, NULL, op_malloc, OK},
	{"front: accept4 + SO_PEERCRED on the control socket", FRONT,
	 su_pending, op_accept_ctl, OK},
	{"front: recvmsg of a page fd, mmap it shared (a grant map)", FRONT,
	 su_fd_passing, op_recv_fd_and_map, OK},
	{"front: a thread (libxenstore's reader)", FRONT, NULL, op_thread, OK},
	/* ... and nothing else. */
	{"front: accept4 on another socket", FRONT, su_other_listener,
	 op_accept_other, DENIED, "accept4"},
	{"front: getsockopt other than SO_PEERCRED", FRONT, NULL,
	 op_getsockopt_other, DENIED, "getsockopt"},
	{"front: open of the manager's root file", FRONT, NULL,
	 op_open_mgr_file, DENIED, "openat"},
	{"front: openat of the manager directory", FRONT, NULL,
	 op_open_mgr_dir_at, DENIED, "openat"},
	{"front: open of a file elsewhere", FRONT, NULL, op_open_outside,
	 DENIED, "openat"},
	{"front: stat of a path", FRONT, NULL, op_stat, DENIED, "newfstatat",
	 true},
	{"front: unlink of the control socket", FRONT, NULL, op_unlink_ctl,
	 DENIED, "unlink"},
	{"front: socket(AF_INET)", FRONT, NULL, op_socket_inet, DENIED,
	 "socket"},
	{"front: socket(AF_UNIX)", FRONT, NULL, op_socket_unix, DENIED,
	 "socket"},
	{"front: connect of a held socket to the platform TPM port", FRONT,
	 su_tcp_socket, op_connect_tpm_leftover, DENIED, "connect"},
	{"front: connect of a held socket to a unix path", FRONT,
	 su_unix_socket, op_connect_unix_ctl, DENIED, "connect"},
	{"front: execve", FRONT, NULL, op_execve, DENIED, "execve"},
	{"front: fork", FRONT, NULL, op_fork, DENIED, "clone", true},
	{"front: ptrace of the parent", FRONT, NULL, op_ptrace, DENIED,
	 "ptrace", true},
	{"front: process_vm_readv of the parent", FRONT, NULL,
	 op_process_vm_readv, DENIED, "process_vm_readv"},
	{"front: kill", FRONT, NULL, op_kill, DENIED, "kill", true},
	{"front: prctl", FRONT, NULL, op_prctl, DENIED, "prctl", true},
	{"front: ioctl", FRONT, NULL, op_ioctl, DENIED, "ioctl"},
	{"front: mmap PROT_EXEC", FRONT, su_memfd, op_map_exec, DENIED, "mmap"},
	{"front: mprotect to PROT_EXEC", FRONT, su_anon_page, op_mprotect_exec,
	 DENIED, "mprotect"},

	/* The key holder: its directory, durably, and the TPM's port. */
	{"kh: open of the root file", KH, NULL, op_open_mgr_file, OK},
	{"kh: write, fsync, rename, unlink in the directory", KH, NULL,
	 op_write_mgr_durably, OK},
	{"kh: malloc, clock, getrandom", KH, NULL, op_time_random, OK},
	{"kh: a new connection to the platform TPM's port", KH, NULL,
	 op_connect_tpm_new, OK},
	{"kh: unlink of a file in the control socket's directory", KH,
	 su_file_in_ctl_dir, op_unlink_in_ctl_dir, OK},
	{"kh: at its end, the control socket is removed", KH, su_ctl_socket,
	 op_kh_exit_removes_ctl, OK},
	/* ... and nothing else. */
	{"kh: open of a file elsewhere", KH, NULL, op_open_outside, DENIED_LL},
	{"kh: create of a file elsewhere", KH, NULL, op_create_outside,
	 DENIED_LL},
	{"kh: read of a file in the control socket's directory", KH,
	 su_file_in_ctl_dir, op_read_in_ctl_dir, DENIED_LL},
	{"kh: mkdir in the directory", KH, NULL, op_mkdir_mgr, DENIED},
	{"kh: symlink in the directory", KH, NULL, op_symlink_mgr, DENIED},
	{"kh: connect to another TCP port", KH, NULL, op_connect_other_new,
	 DENIED_NET},
	{"kh: socket(AF_INET, SOCK_DGRAM)", KH, NULL, op_socket_udp, DENIED,
	 "socket"},
	{"kh: socket(AF_UNIX)", KH, NULL, op_socket_unix, DENIED, "socket"},
	{"kh: socket(AF_NETLINK)", KH, NULL, op_socket_netlink, DENIED,
	 "socket"},
	{"kh: execve", KH, NULL, op_execve, DENIED, "execve"},
	{"kh: fork", KH, NULL, op_fork, DENIED, "clone", true},
	{"kh: ptrace of the parent", KH, NULL, op_ptrace, DENIED, "ptrace",
	 true},
	{"kh: process_vm_readv of the parent", KH, NULL, op_process_vm_readv,
	 DENIED, "process_vm_readv"},
	{"kh: kill", KH, NULL, op_kill, DENIED, "kill", true},
	{"kh: mmap PROT_EXEC", KH, su_memfd, op_map_exec, DENIED, "mmap"},
};

/* ------------------------------------------------------------ runner */

struct result {
	int setup, sandbox, op;
};

static int tcp_listener(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 64) || getsockname(fd, (struct sockaddr *)&sa, &len))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void child(const struct tcase *t, int rfd, int logfd)
{
	struct mgrd_opts o = {
		.dir = env.dir, .tcti = env.tcti, .control = env.ctl};
	struct result r = {0};
	struct ctx c = {.lfd = -1, .fd = -1, .fd2 = -1};
	char why[256] = "";

	dup2(logfd, STDOUT_FILENO);
	if (t->role == FRONT) {
		c.lfd = listen_unix(env.ctl);
		if (c.lfd < 0)
			r.setup = -errno;
	}
	if (!r.setup && t->setup)
		r.setup = t->setup(&c);
	if (!r.setup) {
		r.sandbox = t->role == FRONT
				    ? mgrd_sandbox_front(&o, c.lfd, why,
							 sizeof(why))
				    : mgrd_sandbox_kh(&o, why, sizeof(why));
		if (r.sandbox)
			printf("sandbox refused: %s\n", why);
	}
	if (!r.setup && !r.sandbox)
		r.op = t->op(&c);
	fflush(stdout);
	if (write(rfd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
	_exit(0);
}

#if defined(__x86_64__) && !SAN
static bool log_has(const char *path, const char *name)
{
	char needle[96], buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(needle, sizeof(needle), "SANDBOX: denied system call %s ",
		 name);
	return strstr(buf, needle) != NULL;
}
#endif

static void run(const struct tcase *t)
{
	char logpath[128];
	struct result r = {-1, -1, -1};
	int p[2], st = 0, logfd;
	pid_t pid;
	bool denied;

	if ((t->expect == DENIED_LL && env.ll_abi < 1) ||
	    (t->expect == DENIED_NET && env.ll_abi < 4)) {
		printf("skip: %s (Landlock ABI %d here)\n", t->name,
		       env.ll_abi);
		return;
	}
	if (SAN && t->san_allowed) {
		printf("skip: %s (allowed for LeakSanitizer in this build)\n",
		       t->name);
		return;
	}
	snprintf(logpath, sizeof(logpath), "%s/console", env.ctl_dir);
	logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!TH_CHECK(logfd >= 0 && pipe(p) == 0, "%s: set-up", t->name))
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		child(t, p[1], logfd);
	close(p[1]);
	close(logfd);
	if (read(p[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		r.setup = -EPIPE;
	close(p[0]);
	waitpid(pid, &st, 0);
	TH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "%s: the child lives on (status 0x%x)", t->name, st);
	if (!TH_CHECK(r.setup == 0 && r.sandbox == 0,
		      "%s: set-up %d, sandbox %d", t->name, r.setup, r.sandbox))
		return;
	if (t->expect == OK) {
		TH_CHECK(r.op == 0, "%s: allowed (got %s)", t->name,
			 r.op ? strerror(-r.op) : "0");
		return;
	}
	denied = r.op == -EPERM || r.op == -EACCES;
	if (t->expect != DENIED)
		denied = r.op == -EACCES;
	TH_CHECK(denied, "%s: denied (got %s)", t->name,
		 r.op ? strerror(-r.op) : "success");
#if defined(__x86_64__) && !SAN /* SAN builds deny without the trap */
	if (t->logged && r.op == -EPERM)
		TH_CHECK(log_has(logpath, t->logged),
			 "%s: the console names %s", t->name, t->logged);
#endif
}

int main(void)
{
	int tpm, other, fd;
	long abi;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	env.parent = getpid();
	snprintf(env.dir, sizeof(env.dir), "/tmp/hvsec-sbx-dir.XXXXXX");
	snprintf(env.ctl_dir, sizeof(env.ctl_dir), "/tmp/hvsec-sbx-run.XXXXXX");
	if (!mkdtemp(env.dir) || !mkdtemp(env.ctl_dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(env.ctl, sizeof(env.ctl), "%s/control", env.ctl_dir);
	snprintf(env.outside, sizeof(env.outside), "%s.outside", env.dir);
	for (int i = 0; i < 2; i++) {
		char path[160];

		snprintf(path, sizeof(path), "%s/root",
			 i ? env.ctl_dir : env.dir);
		fd = open(i ? env.outside : path,
			  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		TH_CHECK(fd >= 0 && write(fd, "r", 1) == 1, "set-up: files");
		if (fd >= 0)
			close(fd);
	}
	tpm = tcp_listener(&env.tpm_port);
	/* Not the TPM's control port (P + 1, also allowed). */
	do
		other = tcp_listener(&env.other_port);
	while (other >= 0 && env.other_port == env.tpm_port + 1);
	if (!TH_CHECK(tpm >= 0 && other >= 0, "set-up: TCP listeners"))
		return th_done();
	snprintf(env.tcti, sizeof(env.tcti), "swtpm:host=127.0.0.1,port=%u",
		 env.tpm_port);
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1u);
	env.ll_abi = abi > 0 ? (int)abi : 0;
	printf("Landlock ABI %d; the platform TPM at port %u, another at %u\n",
	       env.ll_abi, env.tpm_port, env.other_port);

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++)
		run(&cases[i]);

	/* --no-sandbox: a serving option only. */
	{
		char *serve[] = {"m", "--dir",	   "/d", "--tcti",
				 "x", "--control", "/s", "--no-sandbox",
				 NULL},
		     *init[] = {"m",	  "--init", "--dir",	    "/d",
				"--tcti", "x",	    "--no-sandbox", NULL};
		struct mgrd_opts o;
		char why[128] = "";

		TH_CHECK(mgrd_parse_args(8, serve, &o, why, sizeof(why)) == 0 &&
				 o.no_sandbox,
			 "--no-sandbox parsed (%s)", why);
		TH_CHECK(mgrd_parse_args(7, init, &o, why, sizeof(why)) ==
					 -EINVAL &&
				 strstr(why, "--no-sandbox is not an --init"),
			 "--no-sandbox refused with --init (%s)", why);
		TH_CHECK(mgrd_parse_args(7, serve, &o, why, sizeof(why)) == 0 &&
				 !o.no_sandbox,
			 "sandboxed by default");
	}
	/* --no-sandbox: nothing is confined (and the call says so). */
	{
		struct mgrd_opts o = {.dir = env.dir, .no_sandbox = true};
		char why[64];

		TH_CHECK(mgrd_sandbox_kh(&o, why, sizeof(why)) == 1 &&
				 mgrd_sandbox_front(&o, -1, why, sizeof(why)) ==
					 1,
			 "--no-sandbox: both calls answer 1, nothing entered");
	}

	close(tpm);
	close(other);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", env.dir,
			 env.ctl_dir, env.outside);
		if (system(cmd) != 0)
			printf("cleanup: %s failed\n", cmd);
	}
	return th_done();
}
