/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_acm - our engine on the same pairs as bench_sepol.
 *
 * usage: bench_acm POLICY.bin PAIRS.bin
 *
 * Measures, on one pinned CPU:
 *   - acm_decide_share with no decision cache (cache_slots = 0) over every
 *     pair: the cost of the bitset check itself, comparable with
 *     sepol_compute_av, which has no cache either;
 *   - the same with a warm cache over a hot set of pairs that fits in it
 *     (BENCH_HOT pairs, BENCH_CACHE_SLOTS slots): the steady state of a
 *     host whose domains keep talking to the same peers;
 *   - Chinese-Wall domain create (prepare) + destroy cycles on random
 *     labels, with one domain of every conflict set already running so
 *     that some creations are denied.
 * Prints "key value" lines for bench/run.sh.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acm/acm.h"
#include "bench/bench.h"

struct acm_run {
	struct acm_ctx *ctx;
	const uint32_t *v;     /* pairs, 2 * count */
	uint64_t count;
	const acm_row_t *rows; /* index -> row */
	uint64_t done;         /* operations performed, all batches */
	uint64_t denied;       /* create/destroy: creations refused */
};

static uint64_t batch_share(void *arg, uint64_t pos, uint64_t ops)
{
	struct acm_run *r = arg;
	uint64_t i = pos % r->count, allowed = 0;
	struct acm_verdict vd;

	r->done += ops;
	while (ops--) {
		acm_decide_share(r->ctx, ACM_HOOK_EVTCHN_SEND,
				 r->rows[r->v[2 * i]], r->rows[r->v[2 * i + 1]],
				 &vd);
		allowed += vd.decision == ACM_PERMIT;
		if (++i == r->count)
			i = 0;
	}
	return allowed;
}

static uint64_t batch_create_destroy(void *arg, uint64_t pos, uint64_t ops)
{
	struct acm_run *r = arg;
	uint64_t i = pos % r->count, created = 0;
	struct acm_verdict vd;

	r->done += ops;
	while (ops--) {
		acm_row_t row = r->rows[r->v[2 * i]];

		acm_domain_create_prepare(r->ctx, row, &vd);
		if (vd.decision == ACM_PERMIT) {
			acm_domain_destroy(r->ctx, row);
			created++;
		} else {
			r->denied++;
		}
		if (++i == r->count)
			i = 0;
	}
	return created;
}

static void *alloc_aligned(size_t len)
{
	/* 64: a cache line, and more than the 8 the engine requires. */
	size_t rounded = (len + 63) & ~(size_t)63;

	return aligned_alloc(64, rounded ? rounded : 64);
}

static int read_blob(const char *path, void **blob, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long size;
	int ret = -1;

	*blob = NULL;
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "%s: cannot size it\n", path);
		goto out;
	}
	*len = (size_t)size;
	*blob = alloc_aligned(*len);
	if (!*blob || fread(*blob, 1, *len, f) != *len) {
		fprintf(stderr, "%s: cannot read it\n", path);
		goto out;
	}
	ret = 0;
out:
	fclose(f);
	return ret;
}

static uint32_t env_u32(const char *name, uint32_t def, uint32_t min)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < min || v > UINT32_MAX) {
		fprintf(stderr, "bench_acm: ignoring bad %s=%s\n", name, s);
		return def;
	}
	return (uint32_t)v;
}

/* A context on its own donated memory; freed with free(). */
static struct acm_ctx *new_ctx(const struct acm_policy *p, uint32_t slots,
			       void **mem)
{
	struct acm_ctx_config cfg = { .cache_slots = slots };
	size_t len = acm_ctx_mem_size(p, &cfg);
	struct acm_ctx *ctx = NULL;
	enum acm_err err;

	printf("ctx_bytes_%u_slots %zu\n", slots, len);
	*mem = alloc_aligned(len);
	if (!*mem) {
		fprintf(stderr, "bench_acm: out of memory\n");
		return NULL;
	}
	err = acm_ctx_init(&ctx, p, &cfg, *mem, len);
	if (err != ACM_OK) {
		fprintf(stderr, "bench_acm: acm_ctx_init(%u slots): %s\n",
			slots, acm_strerror(err));
		return NULL;
	}
	return ctx;
}

/* Starts dom0 and, for every conflict set, one domain running its first
 * member type, so that create/destroy meets real Chinese-Wall conflicts. */
static int start_background(struct acm_ctx *ctx, const struct acm_policy *p)
{
	struct acm_policy_info info;
	struct acm_verdict vd;
	unsigned started = 1;

	acm_policy_info(p, &info);
	acm_domain_create_prepare(ctx, info.bootstrap, &vd);
	if (vd.decision != ACM_PERMIT) {
		fprintf(stderr, "bench_acm: dom0 cannot start: %s\n",
			acm_reason_name(vd.reason));
		return -1;
	}
	for (uint32_t s = 0; s < info.n_conflict_sets; s++) {
		acm_type_t t = 0;

		while (t < info.n_cw_types && !acm_conflict_set_has(p, s, t))
			t++;
		for (acm_row_t row = 0; row < info.n_vm_labels; row++) {
			if (row == info.bootstrap || !acm_label_has_cw(p, row, t))
				continue;
			acm_domain_create_prepare(ctx, row, &vd);
			started += vd.decision == ACM_PERMIT;
			break;
		}
	}
	printf("background_domains %u\n", started);
	return 0;
}

static void print_rate(const char *key, const struct bench_rate *rate)
{
	printf("%s_per_s %.4e\n", key, rate->median);
	printf("%s_spread %.4e %.4e\n", key, rate->min, rate->max);
}

int main(int argc, char **argv)
{
	const struct acm_policy *p = NULL;
	struct acm_policy_info info;
	struct acm_load_error where = { 0 };
	struct acm_ctx *plain, *cached, *cw;
	void *blob = NULL, *pmem = NULL, *m1 = NULL, *m2 = NULL, *m3 = NULL;
	acm_row_t *rows = NULL;
	struct bench_pairs pairs;
	struct bench_rate rate;
	struct acm_run run;
	uint32_t slots, hot;
	size_t len, need;
	enum acm_err err;
	uint64_t t, allowed, mismatches = 0;
	int cpu, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_acm POLICY.bin PAIRS.bin\n");
		return 2;
	}
	/* 256 hot pairs: a host's working set (say 16 domains, each with
	 * 16 peers).  The engine's 4-way cache of 4096 slots holds them all;
	 * BENCH_HOT=1024 still hits about 99%. */
	slots = env_u32("BENCH_CACHE_SLOTS", 4096, 0);
	hot = env_u32("BENCH_HOT", 256, 1);
	cpu = bench_pin();
	if (bench_pairs_load(argv[2], &pairs))
		return 1;
	if (read_blob(argv[1], &blob, &len))
		goto out;

	t = bench_now_ns();
	err = acm_policy_measure(blob, len, &need, &where);
	if (err == ACM_OK) {
		pmem = alloc_aligned(need);
		err = pmem ? acm_policy_load(blob, len, pmem, need, &p, &where)
			   : ACM_E_NOMEM;
	}
	if (err != ACM_OK) {
		fprintf(stderr, "%s: %s at byte %u\n", argv[1],
			acm_strerror(err), where.offset);
		goto out;
	}
	printf("load_ms %.3f\n", (double)(bench_now_ns() - t) / 1e6);
	printf("blob_bytes %zu\n", len);
	printf("policy_mem_bytes %zu\n", need);
	acm_policy_info(p, &info);
	printf("labels %u\n", info.n_labels);
	printf("ste_types %u\n", info.n_ste_types);

	rows = calloc(pairs.n, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "bench_acm: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < pairs.n; i++) {
		char name[BENCH_NAME_MAX];

		snprintf(name, sizeof(name), BENCH_LABEL_FMT, i);
		rows[i] = acm_label_find(p, ACM_LABEL_VM, name);
		if (rows[i] == ACM_ROW_NONE) {
			fprintf(stderr, "%s: no VM label %s\n", argv[1], name);
			goto out;
		}
	}

	plain = new_ctx(p, 0, &m1);
	cached = new_ctx(p, slots, &m2);
	cw = new_ctx(p, 0, &m3);
	if (!plain || !cached || !cw)
		goto out;

	/* Untimed pass over every pair, uncached and cached: the granted
	 * fraction is the cross-check against genpolicy and bench_sepol,
	 * and the cache must never change a decision. */
	run = (struct acm_run){ .v = pairs.v, .count = pairs.count,
				.rows = rows };
	allowed = 0;
	for (uint64_t i = 0; i < pairs.count; i++) {
		struct acm_verdict v1, v2;
		acm_row_t a = rows[pairs.v[2 * i]], b = rows[pairs.v[2 * i + 1]];

		acm_decide_share(plain, ACM_HOOK_EVTCHN_SEND, a, b, &v1);
		acm_decide_share(cached, ACM_HOOK_EVTCHN_SEND, a, b, &v2);
		allowed += v1.decision == ACM_PERMIT;
		mismatches += v1.decision != v2.decision;
	}
	printf("cpu %d\n", cpu);
	printf("clock %s\n", bench_clock_name());
	printf("pairs %u\n", pairs.count);
	printf("granted_fraction %.6f\n", (double)allowed / pairs.count);
	printf("cache_mismatches %llu\n", (unsigned long long)mismatches);

	run.ctx = plain;
	bench_measure(batch_share, &run, &rate);
	print_rate("uncached", &rate);

	if (slots) {
		struct acm_hook_stats s0, s1;
		uint64_t done0;

		run.ctx = cached;
		run.count = hot < pairs.count ? hot : pairs.count;
		bench_consume(batch_share(&run, 0, run.count)); /* warm */
		acm_stats(cached, ACM_HOOK_EVTCHN_SEND, &s0);
		done0 = run.done;
		bench_measure(batch_share, &run, &rate);
		acm_stats(cached, ACM_HOOK_EVTCHN_SEND, &s1);
		print_rate("cached", &rate);
		printf("cache_slots %u\n", slots);
		printf("cache_hot_pairs %llu\n", (unsigned long long)run.count);
		printf("cache_hit_rate %.4f\n",
		       (double)(s1.cache_hits - s0.cache_hits) /
			       (double)(run.done - done0));
	}

	if (start_background(cw, p))
		goto out;
	run = (struct acm_run){ .ctx = cw, .v = pairs.v,
				.count = pairs.count, .rows = rows };
	bench_measure(batch_create_destroy, &run, &rate);
	print_rate("create_destroy", &rate);
	printf("create_denied_fraction %.4f\n",
	       (double)run.denied / (double)run.done);
	ret = 0;
out:
	free(rows);
	free(m1);
	free(m2);
	free(m3);
	free(pmem);
	free(blob);
	bench_pairs_free(&pairs);
	return ret;
}
