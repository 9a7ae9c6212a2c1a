/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.h - what the benchmark programs share: the pairs file, the naming
 * convention that ties our policy to the equivalent SELinux policy, and a
 * small timing harness (pinning, calibrated loops, medians).
 *
 * Both decision benchmarks (bench_acm, bench_sepol) read the same pairs
 * file written by genpolicy, so they decide exactly the same questions.
 * Index i in a pair means ACM VM label "d<i>" and SELinux type "d<i>_t";
 * index 0 is dom0 in both policies.
 */
#ifndef HVSEC_BENCH_H
#define HVSEC_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_LABEL_FMT "d%u"     /* ACM VM label of index i */
#define BENCH_TYPE_FMT "d%u_t"    /* STE type and SELinux type of index i */
#define BENCH_NAME_MAX 32

/* pairs.bin: a 16-byte header, then `count` (a, b) pairs, all u32 LE. */
#define BENCH_PAIRS_MAGIC 0x52494150u /* bytes "PAIR" */
struct bench_pairs_header {
	uint32_t magic;
	uint32_t n;       /* indexes are < n */
	uint32_t count;   /* number of pairs that follow */
	uint32_t reserved;
};

struct bench_pairs {
	uint32_t n;
	uint32_t count;
	uint32_t *v; /* 2 * count: a0 b0 a1 b1 ... */
};

/* Reads and checks a pairs file; prints why on failure. */
int bench_pairs_load(const char *path, struct bench_pairs *p);
void bench_pairs_free(struct bench_pairs *p);

/* Pins the process to one CPU: $BENCH_CPU, else the last CPU we may use,
 * so that both benchmarks of one run share a CPU.  Returns the CPU, or -1
 * if pinning failed (the run goes on, unpinned). */
int bench_pin(void);

/* Wall time (CLOCK_MONOTONIC), for one-off phases such as loading. */
uint64_t bench_now_ns(void);
/* "cpu" or "wall": what bench_measure's loops are timed with. */
const char *bench_clock_name(void);

/* One timed batch: performs `ops` operations starting at position `pos`
 * of the caller's workload and returns a value that depends on every
 * result, so that no work can be optimised away. */
typedef uint64_t (*bench_batch_fn)(void *arg, uint64_t pos, uint64_t ops);

struct bench_rate {
	double median;   /* operations per second */
	double min, max; /* over the loops, to show the spread */
	uint64_t ops;    /* operations per loop */
};

/* Calibrates a batch size that lasts about $BENCH_LOOP_MS (200 ms), then
 * runs $BENCH_LOOPS (5) loops and reports the median rate.  Loops are
 * timed in thread CPU time unless BENCH_CLOCK=wall. */
void bench_measure(bench_batch_fn fn, void *arg, struct bench_rate *out);

/* Sink for bench_batch_fn results: a volatile store the compiler must
 * keep. */
void bench_consume(uint64_t v);

#endif /* HVSEC_BENCH_H */
