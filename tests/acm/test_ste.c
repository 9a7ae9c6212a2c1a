/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ste - the STE evaluations against a reference, and the decision
 * cache's sets.
 *
 *   - random policies whose labels hold from none to all of 1..1000 types,
 *     so that every path of ste.c runs (signatures that miss, merged lists,
 *     lists probed in a row, two rows ANDed, lists of very different
 *     lengths): share, resource and authorize must give exactly the
 *     verdict a naive scan of acm_label_has_ste gives, lowest type and all;
 *   - a small cache asked far more pairs than it holds never answers
 *     differently from no cache;
 *   - a set keeps four entries, and a full set drops its oldest;
 *   - a context whose generation jumps (update adopt) drops its entries,
 *     even when the new generation's low bits equal an old one's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/acm/blob_builder.h"
#include "tests/harness.h"

static uint32_t rnd_state = 2024;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/* ---------------------------------------------------------- reference */

static acm_type_t ref_first_shared(const struct acm_policy *p, acm_row_t a,
				   acm_row_t b, uint32_t n_types)
{
	for (acm_type_t t = 0; t < n_types; t++)
		if (acm_label_has_ste(p, a, t) && acm_label_has_ste(p, b, t))
			return t;
	return ACM_TYPE_NONE;
}

static void ref_share(const struct acm_policy *p, acm_row_t a, acm_row_t b,
		      uint32_t n_types, struct acm_verdict *v)
{
	acm_type_t t = ref_first_shared(p, a, b, n_types);

	v->decision = t == ACM_TYPE_NONE ? ACM_DENY : ACM_PERMIT;
	v->reason = t == ACM_TYPE_NONE ? ACM_R_NO_SHARED_TYPE
				       : ACM_R_SHARED_TYPE;
	v->type_a = t;
}

static void ref_authorize(const struct acm_policy *p, acm_row_t host,
			  acm_row_t vm, uint32_t n_types,
			  struct acm_verdict *v)
{
	acm_type_t first = ACM_TYPE_NONE;

	for (acm_type_t t = 0; t < n_types; t++) {
		if (!acm_label_has_ste(p, vm, t))
			continue;
		if (!acm_label_has_ste(p, host, t)) {
			v->decision = ACM_DENY;
			v->reason = ACM_R_NOT_SUPERSET;
			v->type_a = t;
			return;
		}
		if (first == ACM_TYPE_NONE)
			first = t;
	}
	v->decision = first == ACM_TYPE_NONE ? ACM_DENY : ACM_PERMIT;
	v->reason = first == ACM_TYPE_NONE ? ACM_R_NO_SHARED_TYPE
					   : ACM_R_SUPERSET;
	v->type_a = first;
}

static bool same(const struct acm_verdict *x, const struct acm_verdict *y)
{
	return x->decision == y->decision && x->reason == y->reason &&
	       x->type_a == y->type_a;
}

/* ------------------------------------------------------ random policy */

#define N_VM 40
#define N_RES 12

struct rpol {
	struct bb_loaded l;
	uint32_t n_types;
	acm_row_t vm[N_VM], res[N_RES];
};

/* A label's type count: none, a few, around the list/row boundary
 * (2 per 64), half, all. */
static uint32_t pick_count(uint32_t n_types)
{
	uint32_t words = (n_types + 63) / 64, c;

	switch (rnd(9)) {
	case 0: c = 0; break;
	case 1: c = 1; break;
	case 2: c = 2 + rnd(4); break;
	case 3: c = 2 * words; break;
	case 4: c = 2 * words + 1; break;
	case 5: c = 2 * words - 1; break;
	case 6: c = n_types / 2; break;
	case 7: c = n_types; break;
	default: c = 1 + rnd(n_types); break;
	}
	return c > n_types ? n_types : c;
}

/* `count` distinct type names of t0..t<n-1>, space-separated. */
static char *pick_types(uint32_t n_types, uint32_t count)
{
	char *s = bb_xmalloc((size_t)count * 8 + 1), *p = s;
	uint8_t *taken = bb_xmalloc(n_types);
	uint32_t t;

	while (count--) {
		do
			t = rnd(n_types);
		while (taken[t]);
		taken[t] = 1;
		p += sprintf(p, "t%u ", t);
	}
	free(taken);
	return s;
}

static bool build_random(struct rpol *r, uint32_t n_types)
{
	struct bb_label labels[N_VM + N_RES];
	char names[N_VM + N_RES][16], *sets[N_VM + N_RES];
	char *all = bb_xmalloc((size_t)n_types * 8 + 1), *p = all;
	struct bb_policy pol = { 0 };
	bool ok;

	for (uint32_t t = 0; t < n_types; t++)
		p += sprintf(p, "t%u ", t);
	for (int i = 0; i < N_VM + N_RES; i++) {
		bool is_vm = i < N_VM;

		snprintf(names[i], sizeof(names[i]), "%s%02d",
			 is_vm ? "v" : "r", i);
		sets[i] = pick_types(n_types, pick_count(n_types));
		labels[i] = (struct bb_label){ names[i],
			is_vm ? ACM_LABEL_VM : ACM_LABEL_RESOURCE, sets[i],
			NULL, NULL };
	}
	pol.name = "random";
	pol.has_ste = true;
	pol.ste_types = all;
	pol.labels = labels;
	pol.n_labels = N_VM + N_RES;
	pol.bootstrap = "v00";
	ok = bb_load(&pol, &r->l);
	r->n_types = n_types;
	for (int i = 0; ok && i < N_VM + N_RES; i++) {
		if (i < N_VM)
			r->vm[i] = acm_label_find(r->l.p, ACM_LABEL_VM,
						  names[i]);
		else
			r->res[i - N_VM] = acm_label_find(
				r->l.p, ACM_LABEL_RESOURCE, names[i]);
	}
	for (int i = 0; i < N_VM + N_RES; i++)
		free(sets[i]);
	free(all);
	return ok;
}

static void test_against_reference(void)
{
	static const uint32_t sizes[] = { 1, 2, 3, 31, 63, 64, 65, 130, 257,
					  1000 };

	for (size_t k = 0; k < TH_ARRAY_LEN(sizes); k++) {
		for (int round = 0; round < 3; round++) {
			struct acm_ctx *plain;
			struct rpol r;
			int wrong = 0, checked = 0;

			if (!TH_CHECK(build_random(&r, sizes[k]),
				      "%u types: loads", sizes[k]))
				continue;
			plain = bb_ctx(r.l.p, 0, false);
			for (int i = 0; i < N_VM; i++) {
				for (int j = 0; j < N_VM; j++) {
					struct acm_verdict v, w;

					acm_decide_share(plain,
							 ACM_HOOK_GNT_MAP_READ,
							 r.vm[i], r.vm[j], &v);
					ref_share(r.l.p, r.vm[i], r.vm[j],
						  r.n_types, &w);
					wrong += !same(&v, &w);
					acm_decide_authorize(plain, r.vm[i],
							     r.vm[j], &v);
					ref_authorize(r.l.p, r.vm[i], r.vm[j],
						      r.n_types, &w);
					wrong += !same(&v, &w);
					checked += 2;
				}
				for (int j = 0; j < N_RES; j++) {
					struct acm_verdict v, w;

					acm_decide_resource(plain, r.vm[i],
							    r.res[j], &v);
					ref_share(r.l.p, r.vm[i], r.res[j],
						  r.n_types, &w);
					wrong += !same(&v, &w);
					checked++;
				}
			}
			TH_CHECK(wrong == 0,
				 "%u types, round %d: %d of %d verdicts "
				 "differ from the reference",
				 sizes[k], round, wrong, checked);
			free(plain);
			bb_unload(&r.l);
		}
	}
}

/* ------------------------------------------------------------- cache */

/* Far more pairs than slots, in random order, under several hooks:
 * every answer, hit or miss, is the uncached one. */
static void test_small_cache(void)
{
	struct acm_ctx *plain, *small;
	struct acm_hook_stats st;
	struct rpol r;
	int wrong = 0;

	if (!TH_CHECK(build_random(&r, 200), "200 types: loads"))
		return;
	plain = bb_ctx(r.l.p, 0, false);
	small = bb_ctx(r.l.p, 16, false);
	for (int i = 0; i < 20000; i++) {
		acm_row_t a = r.vm[rnd(8)], b = r.vm[rnd(8)];
		enum acm_hook h = (enum acm_hook)rnd(3);
		struct acm_verdict v, w;

		if (rnd(50) == 0)
			b = rnd(2) ? ACM_ROW_NONE : 5000 + rnd(3);
		acm_decide_share(small, h, a, b, &v);
		acm_decide_share(plain, h, a, b, &w);
		wrong += !same(&v, &w);
		if (rnd(500) == 0)
			acm_ctx_invalidate(small);
	}
	acm_stats(small, 0, &st);
	TH_CHECK(wrong == 0, "16-slot cache, 20000 asks: %d wrong", wrong);
	TH_CHECK(st.cache_hits > 0 && st.evaluated > 0,
		 "both hits and misses (%lu, %lu)",
		 (unsigned long)st.cache_hits, (unsigned long)st.evaluated);
	free(small);
	free(plain);
	bb_unload(&r.l);
}

static bool cached(struct acm_ctx *ctx, const acm_row_t *rows, int i)
{
	struct acm_verdict v;

	acm_decide_share(ctx, ACM_HOOK_EVTCHN_SEND, rows[i], rows[i], &v);
	return v.cached;
}

/* Four slots are one set of four ways: four pairs fit, a fifth drops the
 * oldest; a hit moves nothing. */
static void test_ways(void)
{
	struct acm_ctx *ctx;
	acm_row_t rows[5];
	struct rpol r;
	bool all;

	if (!TH_CHECK(build_random(&r, 64), "64 types: loads"))
		return;
	ctx = bb_ctx(r.l.p, 4, false);
	for (int i = 0; i < 5; i++)
		rows[i] = r.vm[i];
	for (int i = 0; i < 4; i++)
		TH_CHECK(!cached(ctx, rows, i), "pair %d: a miss", i);
	all = true;
	for (int k = 0; k < 3; k++)
		for (int i = 3; i >= 0; i--)
			all = all && cached(ctx, rows, i);
	TH_CHECK(all, "four pairs in a 4-slot cache all hit");
	TH_CHECK(!cached(ctx, rows, 4), "a fifth pair: a miss");
	TH_CHECK(cached(ctx, rows, 1) && cached(ctx, rows, 2) &&
		 cached(ctx, rows, 3) && cached(ctx, rows, 4),
		 "the three newest and the fifth still hit");
	TH_CHECK(!cached(ctx, rows, 0), "the oldest was dropped");
	TH_CHECK(!cached(ctx, rows, 1), "and now the next oldest");
	free(ctx);

	/* Two slots: one set of two. */
	ctx = bb_ctx(r.l.p, 2, false);
	(void)cached(ctx, rows, 0);
	(void)cached(ctx, rows, 1);
	TH_CHECK(cached(ctx, rows, 0) && cached(ctx, rows, 1),
		 "two pairs in a 2-slot cache");
	TH_CHECK(!cached(ctx, rows, 2) && !cached(ctx, rows, 0),
		 "a third drops the oldest");
	free(ctx);
	bb_unload(&r.l);
}

/* Entries keep the low 42 bits of the generation: a context whose
 * generation jumps to one with the same low bits must not answer from
 * before the jump. */
static void test_generation_jump(void)
{
	struct acm_ctx_config cfg = { .cache_slots = 64 };
	struct acm_ctx *old_ctx, *ctx;
	void *mem_old, *mem;
	acm_row_t rows[1];
	struct rpol r;
	size_t need;

	if (!TH_CHECK(build_random(&r, 64), "64 types: loads"))
		return;
	rows[0] = r.vm[3];
	need = acm_ctx_mem_size(r.l.p, &cfg);
	mem = bb_xmalloc(need);
	mem_old = bb_xmalloc(need);
	cfg.generation = 7;
	TH_CHECK(acm_ctx_init(&ctx, r.l.p, &cfg, mem, need) == ACM_OK,
		 "ctx at generation 7");
	cfg.generation = (1ull << 42) + 6;
	TH_CHECK(acm_ctx_init(&old_ctx, r.l.p, &cfg, mem_old, need) == ACM_OK,
		 "old ctx at generation 2^42 + 6");
	(void)cached(ctx, rows, 0);
	TH_CHECK(cached(ctx, rows, 0), "cached at generation 7");
	TH_CHECK(acm_update_adopt(ctx, old_ctx, NULL, 0) == ACM_OK &&
		 acm_ctx_generation(ctx) == (1ull << 42) + 7,
		 "adopted: generation 2^42 + 7");
	TH_CHECK(!cached(ctx, rows, 0), "entries of generation 7 are gone");
	TH_CHECK(cached(ctx, rows, 0), "and the cache works on");

	/* Invalidating across a multiple of 2^42 empties the cache. */
	cfg.generation = (1ull << 42) - 1;
	TH_CHECK(acm_ctx_init(&ctx, r.l.p, &cfg, mem, need) == ACM_OK,
		 "ctx at generation 2^42 - 1");
	(void)cached(ctx, rows, 0);
	acm_ctx_invalidate(ctx);
	TH_CHECK(acm_ctx_generation(ctx) == 1ull << 42 &&
		 !cached(ctx, rows, 0) && cached(ctx, rows, 0),
		 "invalidated across the wrap: a miss, then a hit");
	free(mem_old);
	free(mem);
	bb_unload(&r.l);
}

int main(void)
{
	test_against_reference();
	test_small_cache();
	test_ways();
	test_generation_jump();
	return th_done();
}
