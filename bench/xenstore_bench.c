/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore_bench - XenStore operations per second through Debian's real
 * libxenstore, against whatever server XENSTORED_PATH names (bench/
 * xenstore.sh runs it against hvsec-xenstored, and against a peer server
 * when one is available).
 *
 *   xenstore_bench OP [SECONDS] [CLIENTS]
 *
 * OP is one of:
 *   read       xs_read of a 16-byte value
 *   write      xs_write of a 16-byte value (each client its own node)
 *   directory  xs_directory of a node with 16 children
 *   txn        start, read, write, commit (each client its own node)
 *   watch      events per second: each client watches its own node and
 *              writes it, then waits for the event (write + delivery)
 * Each of CLIENTS (1) threads has its own connection.  Prints
 * "OP CLIENTS OPS_PER_SEC", the median of 3 timed rounds of SECONDS (1)
 * each, after a warm-up round.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#define MAX_CLIENTS 64

enum op { OP_READ, OP_WRITE, OP_DIR, OP_TXN, OP_WATCH };

struct worker {
	pthread_t th;
	int id;
	enum op op;
	struct xs_handle *h;
	double seconds;
	uint64_t ops;
	bool failed;
	char path[64];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool one(struct worker *w)
{
	static const char value[] = "0123456789abcdef";
	unsigned int len, n;
	xs_transaction_t t;
	char **d, *v;

	switch (w->op) {
	case OP_READ:
		v = xs_read(w->h, XBT_NULL, "/bench/key", &len);
		free(v);
		return v != NULL;
	case OP_WRITE:
		return xs_write(w->h, XBT_NULL, w->path, value, 16);
	case OP_DIR:
		d = xs_directory(w->h, XBT_NULL, "/bench/dir", &n);
		free(d);
		return d != NULL && n == 16;
	case OP_TXN:
		for (;;) {
			t = xs_transaction_start(w->h);
			if (t == XBT_NULL)
				return false;
			v = xs_read(w->h, t, w->path, &len);
			free(v);
			if (!xs_write(w->h, t, w->path, value, 16))
				return false;
			if (xs_transaction_end(w->h, t, false))
				return true;
			if (errno != EAGAIN)
				return false;
		}
	case OP_WATCH: {
		struct pollfd pfd = {.fd = xs_fileno(w->h), .events = POLLIN};
		char **ev;

		if (!xs_write(w->h, XBT_NULL, w->path, value, 16))
			return false;
		if (poll(&pfd, 1, 5000) != 1)
			return false;
		ev = xs_read_watch(w->h, &n);
		free(ev);
		return ev != NULL;
	}
	}
	return false;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	double end = now() + w->seconds;

	w->ops = 0;
	while (!w->failed) {
		int i;

		for (i = 0; i < 16; i++) {
			if (!one(w)) {
				w->failed = true;
				break;
			}
			w->ops++;
		}
		if (now() >= end)
			break;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void setup(struct xs_handle *h)
{
	char path[64];
	int i;

	xs_write(h, XBT_NULL, "/bench/key", "0123456789abcdef", 16);
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/bench/dir/child-%02d", i);
		xs_write(h, XBT_NULL, path, "", 0);
	}
}

int main(int argc, char **argv)
{
	static const char *names[] = {"read", "write", "directory", "txn",
				      "watch"};
	static struct worker w[MAX_CLIENTS];
	double secs = argc > 2 ? atof(argv[2]) : 1.0, rate[4];
	int clients = argc > 3 ? atoi(argv[3]) : 1, op = -1, i, r;
	struct xs_handle *h;
	char token[16];

	for (i = 0; argc > 1 && i < 5; i++)
		if (!strcmp(argv[1], names[i]))
			op = i;
	if (op < 0 || clients < 1 || clients > MAX_CLIENTS || secs <= 0) {
		fprintf(stderr, "usage: xenstore_bench read|write|directory|"
				"txn|watch [SECONDS] [CLIENTS]\n");
		return 2;
	}
	h = xs_open(0);
	if (!h) {
		fprintf(stderr, "xenstore_bench: xs_open: %s\n",
			strerror(errno));
		return 1;
	}
	setup(h);
	for (i = 0; i < clients; i++) {
		w[i].id = i;
		w[i].op = (enum op)op;
		w[i].h = xs_open(0);
		snprintf(w[i].path, sizeof(w[i].path), "/bench/c%d", i);
		if (!w[i].h) {
			fprintf(stderr, "xenstore_bench: xs_open: %s\n",
				strerror(errno));
			return 1;
		}
		xs_write(h, XBT_NULL, w[i].path, "", 0);
		if (op == OP_WATCH) {
			unsigned int n;
			char **ev;

			snprintf(token, sizeof(token), "t%d", i);
			xs_watch(w[i].h, w[i].path, token);
			ev = xs_read_watch(w[i].h, &n); /* the initial one */
			free(ev);
		}
	}
	/* A warm-up round, then three timed ones. */
	for (r = 0; r < 4; r++) {
		uint64_t total = 0;
		double t0 = now();

		for (i = 0; i < clients; i++) {
			w[i].seconds = r == 0 ? secs / 2 : secs;
			pthread_create(&w[i].th, NULL, run, &w[i]);
		}
		for (i = 0; i < clients; i++) {
			pthread_join(w[i].th, NULL);
			if (w[i].failed) {
				fprintf(stderr, "xenstore_bench: %s failed\n",
					names[op]);
				return 1;
			}
			total += w[i].ops;
		}
		if (r > 0)
			rate[r - 1] = (double)total / (now() - t0);
	}
	qsort(rate, 3, sizeof(rate[0]), cmp_double);
	printf("%s %d %.0f\n", names[op], clients, rate[1]);
	for (i = 0; i < clients; i++)
		xs_close(w[i].h);
	xs_rm(h, XBT_NULL, "/bench");
	xs_close(h);
	return 0;
}
