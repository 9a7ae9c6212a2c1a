/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_util.c - the timing harness shared by bench_acm and bench_sepol.
 *
 * The machine is shared and noisy, so every figure is the median of
 * several loops, each long enough (~200 ms) that timer resolution and
 * scheduler ticks do not matter, on a pinned CPU.  Loops are timed in
 * the thread's CPU time, not wall time: when another job shares our CPU,
 * wall time counts its time slices as ours and halves the rate, while CPU
 * time only suffers from the caches it pollutes.  BENCH_CLOCK=wall
 * switches back to wall time.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"

static volatile uint64_t bench_sink;

void bench_consume(uint64_t v)
{
	bench_sink += v;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The clock bench_measure times loops with (see the top of the file). */
static clockid_t loop_clock(void)
{
	const char *s = getenv("BENCH_CLOCK");

	if (s && !strcmp(s, "wall"))
		return CLOCK_MONOTONIC;
	if (s && *s && strcmp(s, "cpu"))
		fprintf(stderr, "bench: ignoring bad BENCH_CLOCK=%s\n", s);
	return CLOCK_THREAD_CPUTIME_ID;
}

const char *bench_clock_name(void)
{
	return loop_clock() == CLOCK_MONOTONIC ? "wall" : "cpu";
}

static unsigned long env_ulong(const char *name, unsigned long def,
			       unsigned long min, unsigned long max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "bench: ignoring bad %s=%s\n", name, s);
		return def;
	}
	return v;
}

int bench_pin(void)
{
	cpu_set_t allowed, one;
	int cpu = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			cpu = i;
	cpu = (int)env_ulong("BENCH_CPU", (unsigned long)cpu, 0,
			     CPU_SETSIZE - 1);
	if (cpu < 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0) {
		fprintf(stderr, "bench: cannot pin to cpu %d: %s (unpinned)\n",
			cpu, strerror(errno));
		return -1;
	}
	return cpu;
}

int bench_pairs_load(const char *path, struct bench_pairs *p)
{
	struct bench_pairs_header h;
	FILE *f = fopen(path, "rb");
	int ret = -1;

	memset(p, 0, sizeof(*p));
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fread(&h, sizeof(h), 1, f) != 1 || h.magic != BENCH_PAIRS_MAGIC ||
	    h.n == 0 || h.count == 0 || h.reserved != 0) {
		fprintf(stderr, "%s: not a pairs file\n", path);
		goto out;
	}
	p->v = calloc((size_t)h.count * 2, sizeof(*p->v));
	if (!p->v) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	if (fread(p->v, sizeof(*p->v) * 2, h.count, f) != h.count ||
	    fgetc(f) != EOF) {
		fprintf(stderr, "%s: length does not match its header\n", path);
		goto out;
	}
	for (size_t i = 0; i < (size_t)h.count * 2; i++) {
		if (p->v[i] >= h.n) {
			fprintf(stderr, "%s: index %u out of range\n", path,
				p->v[i]);
			goto out;
		}
	}
	p->n = h.n;
	p->count = h.count;
	ret = 0;
out:
	if (ret)
		bench_pairs_free(p);
	fclose(f);
	return ret;
}

void bench_pairs_free(struct bench_pairs *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define BENCH_MAX_LOOPS 31

void bench_measure(bench_batch_fn fn, void *arg, struct bench_rate *out)
{
	unsigned loops = (unsigned)env_ulong("BENCH_LOOPS", 5, 1,
					     BENCH_MAX_LOOPS);
	uint64_t loop_ns = env_ulong("BENCH_LOOP_MS", 200, 1, 60000) *
			   1000000u;
	double rates[BENCH_MAX_LOOPS];
	uint64_t ops = 1000, pos = 0, t;
	clockid_t clk = loop_clock();

	/* Grow the batch until it lasts 1/8 of a loop, then scale it up:
	 * this also warms caches and branch predictors before timing. */
	for (;;) {
		t = clock_ns(clk);
		bench_consume(fn(arg, pos, ops));
		t = clock_ns(clk) - t;
		pos += ops;
		if (t >= loop_ns / 8 || ops >= (UINT64_C(1) << 40))
			break;
		ops *= 2;
	}
	if (t == 0)
		t = 1;
	ops = (uint64_t)((double)ops * (double)loop_ns / (double)t);
	if (ops == 0)
		ops = 1;

	for (unsigned i = 0; i < loops; i++) {
		t = clock_ns(clk);
		bench_consume(fn(arg, pos, ops));
		t = clock_ns(clk) - t;
		pos += ops;
		rates[i] = (double)ops * 1e9 / (double)(t ? t : 1);
	}
	qsort(rates, loops, sizeof(rates[0]), cmp_double);
	out->median = loops % 2 ? rates[loops / 2]
				: (rates[loops / 2 - 1] + rates[loops / 2]) / 2;
	out->min = rates[0];
	out->max = rates[loops - 1];
	out->ops = ops;
}
