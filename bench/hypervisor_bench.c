/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hypervisor_bench - benchmarks of the hypervisor model, each measured in
 * the same run as its plain-Linux peer:
 *
 *   hypercall round trip       EVTCHN_STATUS through hvsecd, vs a plain
 *                              SOCK_SEQPACKET ping-pong between two
 *                              processes (the floor: one message each way)
 *   hooked hypercall           a mediated EVTCHN_SEND (evtchn_send hook on
 *                              every call) vs the unhooked STATUS: the
 *                              difference is the hook's cost
 *   event-channel notify       one-way latency between two guests over
 *                              their bound channel (eventfds handed out by
 *                              the daemon), vs an eventfd ping-pong
 *                              between two plain processes
 *   domain create + destroy    cycles per second through the control
 *                              socket (fork, exec, isolation, XenStore
 *                              introduce/release, hooks)
 *
 * One binary, three roles:
 *   hypervisor_bench driver RUN_DIR [N]   (dom0) runs the scenarios on a
 *                                         running hvsecd and prints
 *                                         "KEY value" lines
 *   hypervisor_bench rtt N                (a guest) hypercall timings
 *   hypervisor_bench pp-offer PEER N | pp-bind PEER N | idle   (guests)
 * Guests print "RESULT key value" on their console; the driver reads it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"
#include "hypervisor/hv_control.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of `loops` timings of `n` operations, in ns per operation. */
#define LOOPS 5
#define PAIRS 21
static double median_ns(uint64_t *t, int loops, uint32_t n)
{
	qsort(t, (size_t)loops, sizeof(*t), cmp_u64);
	return (double)t[loops / 2] / n;
}

/* ------------------------------------------------------------------ */
/* Plain-Linux peers                                                   */

static double unix_pingpong_ns(uint32_t n)
{
	int sv[2];
	uint8_t msg[48] = {1};
	uint64_t t[LOOPS];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		uint8_t b[64];
		ssize_t r;

		close(sv[0]);
		while ((r = read(sv[1], b, sizeof(b))) > 0)
			if (write(sv[1], b, (size_t)r) != r)
				break;
		_exit(0);
	}
	close(sv[1]);
	for (int l = 0; l < LOOPS; l++) {
		uint64_t t0 = now_ns();

		for (uint32_t i = 0; i < n; i++) {
			uint8_t b[64];

			if (write(sv[0], msg, sizeof(msg)) < 0 ||
			    read(sv[0], b, sizeof(b)) <= 0)
				break;
		}
		t[l] = now_ns() - t0;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return median_ns(t, LOOPS, n);
}

/* One-way latency: half an eventfd round trip between two processes,
 * each blocking in poll as a guest waiting on its channel does. */
static double eventfd_pingpong_ns(uint32_t n)
{
	int a = eventfd(0, 0), b = eventfd(0, 0);
	uint64_t t[LOOPS], v, one = 1;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		struct pollfd p = {a, POLLIN, 0};

		for (;;) {
			if (poll(&p, 1, 5000) <= 0 || read(a, &v, 8) != 8 ||
			    v == 2)
				_exit(0);
			if (write(b, &one, 8) != 8)
				_exit(1);
		}
	}
	for (int l = 0; l < LOOPS; l++) {
		uint64_t t0 = now_ns();
		struct pollfd p = {b, POLLIN, 0};

		for (uint32_t i = 0; i < n; i++) {
			if (write(a, &one, 8) != 8 || poll(&p, 1, 5000) <= 0 ||
			    read(b, &v, 8) != 8)
				break;
		}
		t[l] = now_ns() - t0;
	}
	v = 2;
	if (write(a, &v, 8) != 8)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(a);
	close(b);
	return median_ns(t, LOOPS, n) / 2;
}

/* ------------------------------------------------------------------ */
/* Guest roles                                                         */

static int guest_rtt(uint32_t n)
{
	struct hvg *g;
	struct hv_rep_evtchn_status st;
	uint32_t p, q;
	int rc;

	rc = hvg_open(&g);
	if (rc)
		return 1;
	/* A loopback channel: the hooked op (send) and the plain one
	 * (status) on the same port. */
	rc = hvg_evtchn_alloc_unbound(g, HV_DOMID_SELF, &p);
	if (!rc)
		rc = hvg_evtchn_bind(g, HV_DOMID_SELF, p, &q);
	if (rc) {
		printf("RESULT error %d\n", rc);
		return 1;
	}
	/* Status (no hook) and mediated send (the evtchn_send hook and one
	 * eventfd write in the daemon) in alternating short batches: the
	 * hook's cost is the median of the pairwise differences, so load
	 * from elsewhere on the machine hits both sides of each pair. */
	hvg_evtchn_status(g, q, &st);
	{
		struct hv_req_evtchn_port req = {q};
		bool med = st.flags & HV_EVTCHN_F_SEND_MEDIATED;
		uint32_t batch = n / PAIRS ? n / PAIRS : 1;
		uint64_t ts[PAIRS], tm[PAIRS], dd[PAIRS];
		int64_t diff[PAIRS];

		for (int l = 0; l < PAIRS; l++) {
			uint64_t t0 = now_ns();

			for (uint32_t i = 0; i < batch; i++)
				hvg_evtchn_status(g, q, &st);
			ts[l] = now_ns() - t0;
			if (!med)
				continue;
			t0 = now_ns();
			for (uint32_t i = 0; i < batch; i++)
				hvg_call(g, HV_OP_EVTCHN_SEND, &req,
					 sizeof(req), NULL, 0, NULL, 0, NULL,
					 NULL);
			tm[l] = now_ns() - t0;
			diff[l] = (int64_t)tm[l] - (int64_t)ts[l];
		}
		printf("RESULT status_ns %.1f\n", median_ns(ts, PAIRS, batch));
		if (med) {
			/* Shift to unsigned for the median, then back. */
			for (int l = 0; l < PAIRS; l++)
				dd[l] = (uint64_t)(diff[l] +
						   ((int64_t)1 << 40));
			qsort(dd, PAIRS, sizeof(dd[0]), cmp_u64);
			printf("RESULT send_mediated_ns %.1f\n",
			       median_ns(tm, PAIRS, batch));
			printf("RESULT hook_overhead_ns %.1f\n",
			       (double)((int64_t)dd[PAIRS / 2] -
					((int64_t)1 << 40)) /
				       batch);
		}
	}
	printf("RESULT unix_pingpong_ns %.1f\n", unix_pingpong_ns(n));
	printf("RESULT done 1\n");
	fflush(stdout);
	hvg_close(g);
	return 0;
}

static int xs_port(struct xs_handle *xs, uint32_t owner, uint32_t me,
		   uint32_t *port)
{
	char path[128], buf[32];
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u/data/port-for-%u", owner,
		 me);
	rc = hvg_xs_wait_read(xs, path, buf, sizeof(buf), 10000);
	if (rc)
		return rc;
	*port = (uint32_t)strtoul(buf, NULL, 10);
	return 0;
}

static int guest_pingpong(bool offer, uint32_t peer, uint32_t n)
{
	struct hvg *g;
	struct xs_handle *xs;
	uint32_t port;
	uint64_t t[LOOPS];
	int rc;

	if (hvg_open(&g) || !(xs = hvg_xs_open()))
		return 1;
	if (offer) {
		char path[128], v[32];
		struct xs_permissions perms[2] = {{hvg_domid(g), XS_PERM_NONE},
						  {peer, XS_PERM_READ}};
		xs_transaction_t tx;

		rc = hvg_evtchn_alloc_unbound(g, peer, &port);
		if (rc)
			goto fail;
		snprintf(path, sizeof(path),
			 "/local/domain/%u/data/port-for-%u", hvg_domid(g),
			 peer);
		snprintf(v, sizeof(v), "%u", port);
		tx = xs_transaction_start(xs);
		xs_write(xs, tx, path, v, strlen(v));
		xs_set_permissions(xs, tx, path, perms, 2);
		xs_transaction_end(xs, tx, false);
		/* The peer's first notification says it is bound. */
		rc = hvg_evtchn_wait(g, port, 10000);
		if (rc)
			goto fail;
		for (int l = 0; l < LOOPS; l++) {
			uint64_t t0 = now_ns();

			for (uint32_t i = 0; i < n; i++)
				if (hvg_evtchn_send(g, port) ||
				    hvg_evtchn_wait(g, port, 5000))
					break;
			t[l] = now_ns() - t0;
		}
		printf("RESULT evtchn_oneway_ns %.1f\n",
		       median_ns(t, LOOPS, n) / 2);
		printf("RESULT eventfd_oneway_ns %.1f\n",
		       eventfd_pingpong_ns(n));
		printf("RESULT done 1\n");
		fflush(stdout);
		hvg_evtchn_close(g, port);
	} else {
		uint32_t rport;

		rc = xs_port(xs, peer, hvg_domid(g), &rport);
		if (!rc)
			rc = hvg_evtchn_bind(g, peer, rport, &port);
		if (!rc)
			rc = hvg_evtchn_send(g, port);
		if (rc)
			goto fail;
		/* Echo until the channel closes. */
		while (hvg_evtchn_wait(g, port, 10000) == 0)
			hvg_evtchn_send(g, port);
	}
	hvg_xs_close(xs);
	hvg_close(g);
	return 0;
fail:
	printf("RESULT error %d\n", rc);
	fflush(stdout);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Driver (dom0)                                                       */

static struct hv_ctl_client *cl;
static struct hv_ctl_resp resp;
static char self_path[4096];

static int create(const char *name, const char *label, const char *const *args,
		  uint32_t n_args, bool paused, uint32_t *domid)
{
	static uint8_t body[HV_CTL_MSG_MAX];
	struct hv_ctl_create_args a = {
		.name = name,
		.label = label,
		.kernel = self_path,
		.args = args,
		.n_args = n_args,
		.flags = paused ? HV_CTL_CREATE_F_PAUSED : 0,
	};
	size_t len = hv_ctl_encode_create(&a, body, sizeof(body));
	struct hv_ctl_domain_info info;
	int rc;

	rc = hv_ctl_call(cl, HV_CTL_DOMAIN_CREATE, body, len, NULL, 0, &resp,
			 30000);
	if (rc) {
		fprintf(stderr, "bench: create %s: %s\n", name, resp.text);
		return rc;
	}
	memcpy(&info, resp.body, sizeof(info));
	*domid = info.domid;
	return 0;
}

static int domop(uint32_t op, uint32_t domid)
{
	struct hv_ctl_domid r = {domid};

	return hv_ctl_call(cl, op, &r, sizeof(r), NULL, 0, &resp, 30000);
}

/* Waits for "RESULT done" on a guest's console; returns the console. */
static int wait_results(uint32_t domid, char *buf, size_t len, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		struct hv_ctl_domid r = {domid};
		ssize_t n;

		if (hv_ctl_call(cl, HV_CTL_CONSOLE, &r, sizeof(r), NULL, 0,
				&resp, 30000) == 0 &&
		    resp.nfds == 1) {
			n = read(resp.fds[0], buf, len - 1);
			hv_ctl_resp_release(&resp);
			buf[n > 0 ? n : 0] = '\0';
			if (strstr(buf, "RESULT done") ||
			    strstr(buf, "RESULT error"))
				return strstr(buf, "RESULT error") ? -1 : 0;
		}
		usleep(20000);
	}
	return -1;
}

static void relay(const char *console)
{
	const char *p = console;

	while ((p = strstr(p, "RESULT "))) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p - 7) : (int)strlen(p + 7);

		if (strncmp(p + 7, "done", 4))
			printf("%.*s\n", n, p + 7);
		p += 7;
	}
}

static int set_mode(uint32_t set, uint32_t clear)
{
	struct hv_ctl_mode m = {set, clear};

	return hv_ctl_call(cl, HV_CTL_SET_MODE, &m, sizeof(m), NULL, 0, &resp,
			   30000);
}

static int driver(const char *run_dir, uint32_t n, const char *label,
		  uint32_t cycles)
{
	static char console[1 << 16];
	char ns[16];
	const char *rtt_args[] = {"rtt", ns};
	uint32_t a, b;
	int rc;

	snprintf(ns, sizeof(ns), "%u", n);
	rc = hv_ctl_connect(run_dir, &cl);
	if (rc) {
		fprintf(stderr, "bench: connect: %s\n", strerror(-rc));
		return 1;
	}
	/* 1. hypercall round trip; mediated send for the hook's cost */
	set_mode(HV_CTL_MODE_MEDIATE_SEND, 0);
	if (create("bench-rtt", label, rtt_args, 2, false, &a) ||
	    wait_results(a, console, sizeof(console), 60000)) {
		fprintf(stderr, "bench: rtt guest failed:\n%s\n", console);
		return 1;
	}
	relay(console);
	domop(HV_CTL_DOMAIN_DESTROY, a);
	set_mode(0, HV_CTL_MODE_MEDIATE_SEND);

	/* 2. event-channel notify latency between two guests */
	{
		char peer_a[16], peer_b[16];
		const char *aa[] = {"pp-offer", peer_a, ns};
		const char *ba[] = {"pp-bind", peer_b, ns};
		uint32_t next;

		/* Ids are consecutive: a is the next, b the one after. */
		if (create("bench-probe", label, NULL, 0, true, &next))
			return 1;
		domop(HV_CTL_DOMAIN_DESTROY, next);
		snprintf(peer_a, sizeof(peer_a), "%u", next + 2);
		snprintf(peer_b, sizeof(peer_b), "%u", next + 1);
		if (create("bench-ppa", label, aa, 3, true, &a) ||
		    create("bench-ppb", label, ba, 3, true, &b))
			return 1;
		domop(HV_CTL_DOMAIN_UNPAUSE, a);
		domop(HV_CTL_DOMAIN_UNPAUSE, b);
		if (wait_results(a, console, sizeof(console), 60000)) {
			fprintf(stderr, "bench: ping-pong failed:\n%s\n",
				console);
			return 1;
		}
		relay(console);
		domop(HV_CTL_DOMAIN_DESTROY, a);
		domop(HV_CTL_DOMAIN_DESTROY, b);
	}

	/* 3. domain create + destroy cycles */
	{
		const char *idle[] = {"idle"};
		uint64_t t[LOOPS];

		for (int l = 0; l < LOOPS; l++) {
			uint64_t t0 = now_ns();

			for (uint32_t i = 0; i < cycles; i++) {
				if (create("bench-cycle", label, idle, 1, false,
					   &a))
					return 1;
				domop(HV_CTL_DOMAIN_DESTROY, a);
			}
			t[l] = now_ns() - t0;
		}
		printf("create_destroy_per_s %.1f\n",
		       1e9 / median_ns(t, LOOPS, cycles));
	}
	hv_ctl_disconnect(cl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "driver")) {
		uint32_t n =
			argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 20000;
		const char *label = argc > 4 ? argv[4] : "";
		uint32_t cycles =
			argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 20;

		if (!realpath("/proc/self/exe", self_path))
			return 1;
		return driver(argv[2], n ? n : 20000, label,
			      cycles ? cycles : 20);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "rtt"))
		return guest_rtt((uint32_t)strtoul(argv[2], NULL, 10));
	if (argc >= 4 && !strcmp(argv[1], "pp-offer"))
		return guest_pingpong(true,
				      (uint32_t)strtoul(argv[2], NULL, 10),
				      (uint32_t)strtoul(argv[3], NULL, 10));
	if (argc >= 4 && !strcmp(argv[1], "pp-bind"))
		return guest_pingpong(false,
				      (uint32_t)strtoul(argv[2], NULL, 10),
				      (uint32_t)strtoul(argv[3], NULL, 10));
	if (argc >= 2 && !strcmp(argv[1], "idle")) {
		pause();
		return 0;
	}
	fprintf(stderr, "usage: hypervisor_bench driver RUN_DIR [N [LABEL "
			"[CYCLES]]]\n");
	return 2;
}
