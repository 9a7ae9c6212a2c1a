/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_bench - the peers of the vTPM ring benchmark (bench/vtpm.sh), each
 * run with the same commands, checks and loops as the ring path
 * (vtpm_guest.c), and the bare notification floors that explain it:
 *
 *   vtpm_bench inprocess [LOOPS MS]
 *       libtpms called through TPMLIB_* in this process, NV state kept in
 *       RAM: the TPM's own cost, no transport at all
 *   vtpm_bench swtpm SOCKET [LOOPS MS]
 *       raw TPM commands over one persistent connection to the server
 *       socket of a running `swtpm socket --tpm2` (the caller starts it
 *       with not-need-init,startup-clear and pins it)
 *   vtpm_bench floor CPU_A CPU_B [LOOPS MS]
 *       an empty round trip between two processes on CPU_A and CPU_B:
 *       eventfd + poll (what a blocking event channel costs), a spin on
 *       shared memory (only across CPUs), a spin that yields the CPU
 *       (sched_yield) between checks, and a spin that yields every 8
 *       rounds (works on one CPU and on two)
 *   vtpm_bench ideal CPU_A CPU_B [LOOPS MS]
 *       the ceiling of any ring design here: the tpmif page's shape,
 *       libtpms in a second process on CPU_B, both sides polling (spin
 *       across CPUs, sched_yield on one) and never notifying or sleeping
 *
 * Prints "KEY value" lines; LOOPS (5) loops of MS (200) milliseconds.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>

#include "bench/vtpm_bench.h"

/* ------------------------------------------------------------------ */
/* libtpms in-process, NV state in RAM                                 */

/* libtpms stores at most three blobs: permall, volatilestate, savestate. */
#define NV_SLOTS 4
static struct nv_blob {
	char name[32];
	unsigned char *data;
	uint32_t len;
} nv[NV_SLOTS];

static struct nv_blob *nv_find(const char *name, bool create)
{
	for (int i = 0; i < NV_SLOTS; i++)
		if (nv[i].name[0] && !strcmp(nv[i].name, name))
			return &nv[i];
	if (!create || strlen(name) >= sizeof(nv[0].name))
		return NULL;
	for (int i = 0; i < NV_SLOTS; i++)
		if (!nv[i].name[0]) {
			snprintf(nv[i].name, sizeof(nv[i].name), "%s", name);
			return &nv[i];
		}
	return NULL;
}

static TPM_RESULT nv_init(void)
{
	return TPM_SUCCESS;
}

/* No blob: TPM_RETRY makes libtpms manufacture a fresh TPM. */
static TPM_RESULT nv_load(unsigned char **data, uint32_t *length,
			  uint32_t tpm_number, const char *name)
{
	struct nv_blob *b = nv_find(name, false);

	(void)tpm_number;
	if (!b || !b->data)
		return TPM_RETRY;
	*data = malloc(b->len ? b->len : 1); /* libtpms frees it */
	if (!*data)
		return TPM_FAIL;
	memcpy(*data, b->data, b->len);
	*length = b->len;
	return TPM_SUCCESS;
}

static TPM_RESULT nv_store(const unsigned char *data, uint32_t length,
			   uint32_t tpm_number, const char *name)
{
	struct nv_blob *b = nv_find(name, true);
	unsigned char *copy;

	(void)tpm_number;
	if (!b)
		return TPM_FAIL;
	copy = malloc(length ? length : 1);
	if (!copy)
		return TPM_FAIL;
	memcpy(copy, data, length);
	free(b->data);
	b->data = copy;
	b->len = length;
	return TPM_SUCCESS;
}

static TPM_RESULT nv_delete(uint32_t tpm_number, const char *name,
			    TPM_BOOL must_exist)
{
	struct nv_blob *b = nv_find(name, false);

	(void)tpm_number;
	if (!b)
		return must_exist ? TPM_FAIL : TPM_SUCCESS;
	free(b->data);
	memset(b, 0, sizeof(*b));
	return TPM_SUCCESS;
}

static TPM_RESULT io_init(void)
{
	return TPM_SUCCESS;
}

static TPM_RESULT io_locality(TPM_MODIFIER_INDICATOR *loc, uint32_t tpm_number)
{
	(void)tpm_number;
	*loc = 0;
	return TPM_SUCCESS;
}

static TPM_RESULT io_pp(TPM_BOOL *pp, uint32_t tpm_number)
{
	(void)tpm_number;
	*pp = FALSE;
	return TPM_SUCCESS;
}

struct inproc {
	unsigned char cmd[VB_RSP_MAX];
	unsigned char *rbuf; /* libtpms' response buffer, reused */
	uint32_t rbuf_size;
};

/* What a caller of libtpms does per command: hand it a command buffer,
 * take the response out of its buffer. */
static int inproc_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct inproc *ip = ctx;
	uint32_t n = 0;

	if (cmd_len > sizeof(ip->cmd))
		return -EMSGSIZE;
	memcpy(ip->cmd, cmd, cmd_len);
	if (TPMLIB_Process(&ip->rbuf, &n, &ip->rbuf_size, ip->cmd,
			   (uint32_t)cmd_len) != TPM_SUCCESS)
		return -EIO;
	if (n > rsp_cap)
		return -EMSGSIZE;
	memcpy(rsp, ip->rbuf, n);
	*rsp_len = n;
	return 0;
}

/* Chooses TPM 2.0, registers the RAM NV callbacks, manufactures and
 * starts the TPM as hvsec-vtpmd does (same buffer size, Startup(CLEAR)).
 * 0 or -1 with a message. */
static int tpm_init(struct inproc *ip)
{
	/* TPM2_Startup(TPM_SU_CLEAR), as hvsec-vtpmd sends it itself. */
	static const uint8_t startup[] = {0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
					  0x00, 0x00, 0x01, 0x44, 0x00, 0x00};
	static struct libtpms_callbacks cb = {
		.sizeOfStruct = sizeof(cb),
		.tpm_nvram_init = nv_init,
		.tpm_nvram_loaddata = nv_load,
		.tpm_nvram_storedata = nv_store,
		.tpm_nvram_deletename = nv_delete,
		.tpm_io_init = io_init,
		.tpm_io_getlocality = io_locality,
		.tpm_io_getphysicalpresence = io_pp,
	};
	uint8_t rsp[VB_RSP_MAX];
	size_t n = 0;
	TPM_RESULT rc;

	if ((rc = TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2)) ||
	    (rc = TPMLIB_RegisterCallbacks(&cb))) {
		fprintf(stderr, "vtpm_bench: libtpms setup: 0x%x\n", rc);
		return -1;
	}
	/* The buffer size the ring carries, as the backend configures it. */
	TPMLIB_SetBufferSize(4088, NULL, NULL);
	rc = TPMLIB_MainInit();
	if (rc ||
	    inproc_xfer(ip, startup, sizeof(startup), rsp, sizeof(rsp), &n) ||
	    n < 10 || rsp[6] | rsp[7] | rsp[8] | rsp[9]) {
		fprintf(stderr,
			"vtpm_bench: libtpms MainInit/Startup failed "
			"(0x%x)\n",
			rc);
		return -1;
	}
	return 0;
}

static int run_inprocess(int loops, int ms)
{
	static struct inproc ip;
	struct vb_result r;
	uint64_t t0;

	t0 = vb_now_ns();
	if (tpm_init(&ip))
		return 1;
	printf("inprocess_manufacture_startup_ms %.3f\n",
	       (double)(vb_now_ns() - t0) / 1e6);
	for (int c = 0; c < VB_NCMDS; c++) {
		if (vb_measure(inproc_xfer, &ip, (enum vb_cmd)c, loops, ms, &r))
			return 1;
		vb_print("", (enum vb_cmd)c, &r);
	}
	TPMLIB_Terminate();
	free(ip.rbuf);
	return 0;
}

/* ------------------------------------------------------------------ */
/* swtpm over one persistent Unix socket                               */

static int sock_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	int fd = *(int *)ctx;
	size_t got = 0, want = 10;
	ssize_t r;

	for (size_t off = 0; off < cmd_len; off += (size_t)r) {
		r = write(fd, cmd + off, cmd_len - off);
		if (r < 0 && errno == EINTR)
			r = 0;
		else if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
	}
	/* One read normally brings the whole response; the size field says
	 * when it did not. */
	while (got < want) {
		r = read(fd, rsp + got, rsp_cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		got += (size_t)r;
		if (got >= 6) {
			want = (size_t)rsp[2] << 24 | (size_t)rsp[3] << 16 |
			       (size_t)rsp[4] << 8 | rsp[5];
			if (want < 10 || want > rsp_cap)
				return -EPROTO;
		}
	}
	*rsp_len = got;
	return got == want ? 0 : -EPROTO;
}

static int run_swtpm(const char *path, int loops, int ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vb_result r;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vtpm_bench: socket path too long\n");
		return 1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vtpm_bench: connect %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	for (int c = 0; c < VB_NCMDS; c++) {
		if (vb_measure(sock_xfer, &fd, (enum vb_cmd)c, loops, ms, &r)) {
			close(fd);
			return 1;
		}
		vb_print("", (enum vb_cmd)c, &r);
	}
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Notification floors                                                 */

/* How a side waits for the other's store to a shared flag. */
enum wait_mode {
	WAIT_EVENTFD, /* block in poll on an eventfd, the peer writes it */
	WAIT_SPIN,    /* pause and look again (across CPUs only) */
	WAIT_YIELD,   /* sched_yield and look again */
	WAIT_HYBRID,  /* pause, with a sched_yield every HYBRID_ROUNDS */
};
/* A PAUSE costs about 40 ns on this VM's CPUs (more when the host's
 * pause-loop exiting steps in): a few rounds, then let a peer on our CPU
 * run. */
#define HYBRID_ROUNDS 8u

static inline void relax(enum wait_mode m, unsigned *round)
{
	if (m == WAIT_YIELD ||
	    (m == WAIT_HYBRID && ++*round % HYBRID_ROUNDS == 0)) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return sched_setaffinity(0, sizeof(s), &s);
}

struct flag {
	_Alignas(64) atomic_uint_fast64_t ping;
	_Alignas(64) atomic_uint_fast64_t pong;
};

static void floor_child(enum wait_mode m, struct flag *f, int a, int b)
{
	uint64_t last = 0, v;
	struct pollfd p = {a, POLLIN, 0};
	unsigned round = 0;

	for (;;) {
		if (m == WAIT_EVENTFD) {
			if (poll(&p, 1, -1) <= 0 || read(a, &v, 8) != 8 ||
			    write(b, &v, 8) != 8)
				_exit(1);
			continue;
		}
		while ((v = atomic_load_explicit(&f->ping,
						 memory_order_acquire)) == last)
			relax(m, &round);
		last = v;
		atomic_store_explicit(&f->pong, v, memory_order_release);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Round trips per second, median of `loops` loops of `ms` ms. */
static double floor_run(enum wait_mode m, int cpu_b, int loops, int ms)
{
	struct flag *f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
	double rate[16], res = -1;
	uint64_t seq = 0, one = 1, v;
	struct pollfd p = {b, POLLIN, 0};
	unsigned round = 0;
	pid_t pid;

	if (f == MAP_FAILED || a < 0 || b < 0)
		goto out;
	atomic_init(&f->ping, 0);
	atomic_init(&f->pong, 0);
	if (loops > 16)
		loops = 16;
	if (loops < 1)
		loops = 1;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		pin(cpu_b);
		floor_child(m, f, a, b);
	}
	for (int l = -1; l < loops; l++) { /* loop -1 warms up */
		uint64_t t0 = vb_now_ns(), t = t0, n = 0;
		uint64_t end = t0 + (uint64_t)ms * 1000000u / (l < 0 ? 4 : 1);

		while (t < end) {
			for (int i = 0; i < 8; i++) {
				if (m == WAIT_EVENTFD) {
					if (write(a, &one, 8) != 8 ||
					    poll(&p, 1, 5000) <= 0 ||
					    read(b, &v, 8) != 8)
						goto kill;
					continue;
				}
				atomic_store_explicit(&f->ping, ++seq,
						      memory_order_release);
				while (atomic_load_explicit(
					       &f->pong,
					       memory_order_acquire) != seq)
					relax(m, &round);
			}
			n += 8;
			t = vb_now_ns();
		}
		if (l >= 0)
			rate[l] = (double)n * 1e9 / (double)(t - t0);
	}
	qsort(rate, (size_t)loops, sizeof(rate[0]), cmp_double);
	res = rate[loops / 2];
kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	if (f != MAP_FAILED)
		munmap(f, sizeof(*f));
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return res;
}

static int run_floor(int cpu_a, int cpu_b, int loops, int ms)
{
	static const struct {
		enum wait_mode m;
		const char *key;
	} modes[] = {
		{WAIT_EVENTFD, "floor_eventfd_rtt_ns"},
		{WAIT_SPIN, "floor_spin_rtt_ns"},
		{WAIT_YIELD, "floor_yield_rtt_ns"},
		{WAIT_HYBRID, "floor_hybrid_rtt_ns"},
	};

	if (pin(cpu_a) < 0) {
		fprintf(stderr, "vtpm_bench: cannot pin to cpu %d: %s\n", cpu_a,
			strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		double r;

		/* Two pure spinners on one CPU only take turns at the
		 * scheduler tick: not a strategy, not measured. */
		if (modes[i].m == WAIT_SPIN && cpu_a == cpu_b)
			continue;
		r = floor_run(modes[i].m, cpu_b, loops, ms);
		if (r <= 0) {
			fprintf(stderr, "vtpm_bench: floor %s failed\n",
				modes[i].key);
			return 1;
		}
		printf("%s %.0f\n", modes[i].key, 1e9 / r);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The ceiling: a ring with no notifications at all                    */

/* The tpmif page's shape (state, length, payload), both sides polling it
 * and never sleeping or notifying: what any two-process design can reach
 * on this machine at best, with the backend's single-fetch copy and
 * libtpms in the other process.  Each side waits the best way for the
 * placement, known here: a pure spin across CPUs, sched_yield on one. */
static enum wait_mode ideal_wait;
enum { IDEAL_IDLE, IDEAL_SUBMIT, IDEAL_FINISH };
struct ideal_page {
	_Alignas(64) atomic_uint state;
	uint32_t len;
	uint8_t data[4088];
};

static _Noreturn void ideal_server(struct ideal_page *pg)
{
	static struct inproc ip;
	static uint8_t cmd[4088], rsp[VB_RSP_MAX];
	unsigned round = 0;

	if (tpm_init(&ip))
		_exit(1);
	atomic_store_explicit(&pg->state, IDEAL_FINISH, memory_order_release);
	for (;;) {
		uint32_t len;
		size_t n = 0;

		while (atomic_load_explicit(&pg->state, memory_order_acquire) !=
		       IDEAL_SUBMIT)
			relax(ideal_wait, &round);
		len = pg->len; /* read once, checked, copied out */
		if (len > sizeof(cmd) ||
		    inproc_xfer(&ip, memcpy(cmd, pg->data, len), len, rsp,
				sizeof(pg->data), &n))
			_exit(1);
		memcpy(pg->data, rsp, n);
		pg->len = (uint32_t)n;
		atomic_store_explicit(&pg->state, IDEAL_FINISH,
				      memory_order_release);
	}
}

static int ideal_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len,
		      uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	struct ideal_page *pg = ctx;
	unsigned round = 0;
	uint32_t n;

	memcpy(pg->data, cmd, cmd_len);
	pg->len = (uint32_t)cmd_len;
	atomic_store_explicit(&pg->state, IDEAL_SUBMIT, memory_order_release);
	while (atomic_load_explicit(&pg->state, memory_order_acquire) !=
	       IDEAL_FINISH)
		relax(ideal_wait, &round);
	n = pg->len;
	if (n > rsp_cap || n > sizeof(pg->data))
		return -EPROTO;
	memcpy(rsp, pg->data, n);
	*rsp_len = n;
	return 0;
}

static int run_ideal(int cpu_a, int cpu_b, int loops, int ms)
{
	struct ideal_page *pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct vb_result r;
	unsigned round = 0;
	int rc = 1;
	pid_t pid;

	if (pg == MAP_FAILED || pin(cpu_a) < 0)
		return 1;
	ideal_wait = cpu_a == cpu_b ? WAIT_YIELD : WAIT_SPIN;
	atomic_init(&pg->state, IDEAL_IDLE);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		pin(cpu_b);
		ideal_server(pg);
	}
	while (atomic_load_explicit(&pg->state, memory_order_acquire) !=
	       IDEAL_FINISH) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, "vtpm_bench: ideal server died\n");
			return 1;
		}
		relax(WAIT_YIELD, &round);
	}
	for (int c = 0; c < VB_NCMDS; c++) {
		if (vb_measure(ideal_xfer, pg, (enum vb_cmd)c, loops, ms, &r))
			goto out;
		vb_print("ideal_", (enum vb_cmd)c, &r);
	}
	rc = 0;
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	munmap(pg, sizeof(*pg));
	return rc;
}

/* ------------------------------------------------------------------ */

static int num(const char *s, int def)
{
	char *end;
	long v;

	if (!s)
		return def;
	v = strtol(s, &end, 10);
	return *end || v < 0 || v > 1000000 ? def : (int)v;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "inprocess"))
		return run_inprocess(num(argc > 2 ? argv[2] : NULL, 5),
				     num(argc > 3 ? argv[3] : NULL, 200));
	if (argc >= 3 && !strcmp(argv[1], "swtpm"))
		return run_swtpm(argv[2], num(argc > 3 ? argv[3] : NULL, 5),
				 num(argc > 4 ? argv[4] : NULL, 200));
	if (argc >= 4 && !strcmp(argv[1], "floor"))
		return run_floor(num(argv[2], 0), num(argv[3], 0),
				 num(argc > 4 ? argv[4] : NULL, 5),
				 num(argc > 5 ? argv[5] : NULL, 200));
	if (argc >= 4 && !strcmp(argv[1], "ideal"))
		return run_ideal(num(argv[2], 0), num(argv[3], 0),
				 num(argc > 4 ? argv[4] : NULL, 5),
				 num(argc > 5 ? argv[5] : NULL, 200));
	fprintf(stderr, "usage: vtpm_bench inprocess [LOOPS MS]\n"
			"       vtpm_bench swtpm SOCKET [LOOPS MS]\n"
			"       vtpm_bench floor CPU_A CPU_B [LOOPS MS]\n"
			"       vtpm_bench ideal CPU_A CPU_B [LOOPS MS]\n");
	return 2;
}
