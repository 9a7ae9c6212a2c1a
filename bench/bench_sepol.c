/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_sepol - the FLASK peer: access decisions through libsepol's
 * security server, without an AVC, on the same pairs as bench_acm.
 *
 * usage: bench_sepol POLICY.bin PAIRS.bin
 *
 * Type names are turned into SIDs once, before timing (sepol_context_to_sid
 * is slow: a linear search at 10k SIDs); each timed operation is one
 * sepol_compute_av(ssid, tsid, event, send), as the peer baseline measured.
 * Prints "key value" lines for bench/run.sh.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sepol/policydb/services.h>
#include <sepol/sepol.h>

#include "bench/bench.h"

struct sepol_run {
	const struct bench_pairs *pairs;
	const sepol_security_id_t *sids; /* by index */
	sepol_security_class_t tclass;
	sepol_access_vector_t perm;
};

static bool decide(const struct sepol_run *r, uint32_t a, uint32_t b)
{
	struct sepol_av_decision avd;

	if (sepol_compute_av(r->sids[a], r->sids[b], r->tclass, r->perm,
			     &avd) != 0)
		return false; /* an error denies, as the kernel would */
	return (avd.allowed & r->perm) == r->perm;
}

static uint64_t batch(void *arg, uint64_t pos, uint64_t ops)
{
	const struct sepol_run *r = arg;
	const uint32_t *v = r->pairs->v;
	uint64_t count = r->pairs->count, allowed = 0;
	uint64_t i = pos % count;

	while (ops--) {
		allowed += decide(r, v[2 * i], v[2 * i + 1]);
		if (++i == count)
			i = 0;
	}
	return allowed;
}

static int load_policy(const char *path)
{
	FILE *f = fopen(path, "rb");
	int ret;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = sepol_set_policydb_from_file(f);
	fclose(f);
	if (ret)
		fprintf(stderr, "%s: libsepol cannot load it\n", path);
	return ret ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct bench_pairs pairs;
	struct sepol_run r = { .pairs = &pairs };
	sepol_security_id_t *sids = NULL;
	struct bench_rate rate;
	uint64_t t, allowed;
	int cpu, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_sepol POLICY.bin PAIRS.bin\n");
		return 2;
	}
	cpu = bench_pin();
	if (bench_pairs_load(argv[2], &pairs))
		return 1;

	t = bench_now_ns();
	if (load_policy(argv[1]))
		goto out;
	printf("load_ms %.3f\n", (double)(bench_now_ns() - t) / 1e6);
	if (sepol_string_to_security_class("event", &r.tclass) ||
	    sepol_string_to_av_perm(r.tclass, "send", &r.perm)) {
		fprintf(stderr, "%s: no class event / permission send\n",
			argv[1]);
		goto out;
	}

	sids = calloc(pairs.n, sizeof(*sids));
	if (!sids) {
		fprintf(stderr, "bench_sepol: out of memory\n");
		goto out;
	}
	t = bench_now_ns();
	for (uint32_t i = 0; i < pairs.n; i++) {
		char ctx[64];
		int len = snprintf(ctx, sizeof(ctx),
				   "system_u:system_r:" BENCH_TYPE_FMT, i);

		if (sepol_context_to_sid(ctx, (size_t)len + 1, &sids[i])) {
			fprintf(stderr, "%s: no SID for %s\n", argv[1], ctx);
			goto out;
		}
	}
	printf("context_to_sid_us %.3f\n",
	       (double)(bench_now_ns() - t) / 1e3 / pairs.n);
	r.sids = sids;

	/* One untimed pass over every pair: the granted fraction is the
	 * correctness cross-check against bench_acm and genpolicy. */
	allowed = batch(&r, 0, pairs.count);
	printf("cpu %d\n", cpu);
	printf("clock %s\n", bench_clock_name());
	printf("pairs %u\n", pairs.count);
	printf("granted_fraction %.6f\n", (double)allowed / pairs.count);

	bench_measure(batch, &r, &rate);
	printf("compute_av_per_s %.4e\n", rate.median);
	printf("compute_av_spread %.4e %.4e\n", rate.min, rate.max);
	ret = 0;
out:
	free(sids);
	bench_pairs_free(&pairs);
	return ret;
}
