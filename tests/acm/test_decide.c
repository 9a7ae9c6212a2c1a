/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_decide - golden decision matrices and Chinese-Wall sequences.
 *
 *   - STE share / resource / authorize matrices for the toy policy
 *     (reference/acm.md §1.3) and Xen's xm-test policy, each cell with its
 *     decision, reason and the type that explains it;
 *   - the decision cache: hits counted apart, cached verdict == uncached,
 *     invalidation, no confusion between kinds of decision or hooks;
 *   - Chinese Wall: create/destroy/rollback sequences with running counts,
 *     same-type co-running, self-conflicting labels, historical mode and its
 *     export/import, unlabeled domains, missing policy components;
 *   - adopting a list of running labels;
 *   - policies of 100, 1,000 and 10,000 types decide alike (and, with
 *     ACM_TIMING=1 in the environment, how fast).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/acm/blob_builder.h"
#include "tests/harness.h"

/* "v:Name" VM label, "r:Name" resource label, "none" ACM_ROW_NONE,
 * "#N" the raw row N. */
static acm_row_t row_of(const struct acm_policy *p, const char *spec)
{
	acm_row_t r;

	if (strcmp(spec, "none") == 0)
		return ACM_ROW_NONE;
	if (spec[0] == '#')
		return (acm_row_t)strtoul(spec + 1, NULL, 10);
	r = acm_label_find(p, spec[0] == 'r' ? ACM_LABEL_RESOURCE
					     : ACM_LABEL_VM, spec + 2);
	if (r == ACM_ROW_NONE) {
		fprintf(stderr, "test_decide: no label %s\n", spec);
		exit(2);
	}
	return r;
}

static bool cw_reason(enum acm_reason r)
{
	return r == ACM_R_CHWALL_CONFLICT || r == ACM_R_CHWALL_HISTORY;
}

/* The name of a verdict's type, in the component its reason names. */
static const char *type_name(const struct acm_policy *p, enum acm_reason r,
			     acm_type_t t)
{
	if (t == ACM_TYPE_NONE)
		return NULL;
	return cw_reason(r) ? acm_cw_type_name(p, t) : acm_ste_type_name(p, t);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ------------------------------------------------------------- matrices */

enum kind { SHARE, RESOURCE, AUTHORIZE };

struct cell {
	enum kind kind;
	const char *a, *b;
	enum acm_decision d;
	enum acm_reason r;
	const char *type; /* type_a, NULL for none */
};

#define PERMIT ACM_PERMIT
#define DENY ACM_DENY

static const struct cell toy_cells[] = {
	{ SHARE, "v:Admin", "v:Admin", PERMIT, ACM_R_SHARED_TYPE, "Admin" },
	{ SHARE, "v:Admin", "v:Blue", PERMIT, ACM_R_SHARED_TYPE, "Blue" },
	{ SHARE, "v:Admin", "v:Red", PERMIT, ACM_R_SHARED_TYPE, "Red" },
	{ SHARE, "v:Blue", "v:Admin", PERMIT, ACM_R_SHARED_TYPE, "Blue" },
	{ SHARE, "v:Blue", "v:Blue", PERMIT, ACM_R_SHARED_TYPE, "Blue" },
	{ SHARE, "v:Blue", "v:Red", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ SHARE, "v:Red", "v:Blue", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ SHARE, "v:Red", "v:Red", PERMIT, ACM_R_SHARED_TYPE, "Red" },
	{ SHARE, "v:Red", "v:Admin", PERMIT, ACM_R_SHARED_TYPE, "Red" },
	{ SHARE, "v:Blue", "r:BlueDisk", DENY, ACM_R_BAD_LABEL, NULL },
	{ SHARE, "r:BlueDisk", "v:Blue", DENY, ACM_R_BAD_LABEL, NULL },
	{ SHARE, "none", "v:Blue", DENY, ACM_R_UNLABELED_REFUSED, NULL },
	{ SHARE, "v:Blue", "none", DENY, ACM_R_UNLABELED_REFUSED, NULL },
	{ SHARE, "#99", "v:Blue", DENY, ACM_R_BAD_LABEL, NULL },
	{ SHARE, "#5", "#5", DENY, ACM_R_BAD_LABEL, NULL },
	{ RESOURCE, "v:Blue", "r:BlueDisk", PERMIT, ACM_R_SHARED_TYPE,
	  "Blue" },
	{ RESOURCE, "v:Blue", "r:RedDisk", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ RESOURCE, "v:Red", "r:RedDisk", PERMIT, ACM_R_SHARED_TYPE, "Red" },
	{ RESOURCE, "v:Red", "r:BlueDisk", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ RESOURCE, "v:Admin", "r:BlueDisk", PERMIT, ACM_R_SHARED_TYPE,
	  "Blue" },
	{ RESOURCE, "v:Admin", "r:RedDisk", PERMIT, ACM_R_SHARED_TYPE,
	  "Red" },
	{ RESOURCE, "v:Blue", "v:Blue", DENY, ACM_R_BAD_LABEL, NULL },
	{ RESOURCE, "r:BlueDisk", "r:BlueDisk", DENY, ACM_R_BAD_LABEL, NULL },
	{ RESOURCE, "v:Blue", "none", DENY, ACM_R_UNLABELED_REFUSED, NULL },
	{ RESOURCE, "v:Blue", "#5", DENY, ACM_R_BAD_LABEL, NULL },
	{ AUTHORIZE, "v:Admin", "v:Admin", PERMIT, ACM_R_SUPERSET, "Admin" },
	{ AUTHORIZE, "v:Admin", "v:Blue", PERMIT, ACM_R_SUPERSET, "Blue" },
	{ AUTHORIZE, "v:Admin", "v:Red", PERMIT, ACM_R_SUPERSET, "Red" },
	{ AUTHORIZE, "v:Blue", "v:Blue", PERMIT, ACM_R_SUPERSET, "Blue" },
	{ AUTHORIZE, "v:Blue", "v:Admin", DENY, ACM_R_NOT_SUPERSET, "Admin" },
	{ AUTHORIZE, "v:Blue", "v:Red", DENY, ACM_R_NOT_SUPERSET, "Red" },
	{ AUTHORIZE, "v:Red", "v:Admin", DENY, ACM_R_NOT_SUPERSET, "Admin" },
	{ AUTHORIZE, "r:BlueDisk", "v:Blue", DENY, ACM_R_BAD_LABEL, NULL },
	{ AUTHORIZE, "v:Admin", "none", DENY, ACM_R_UNLABELED_REFUSED, NULL },
};

static const struct cell xmtest_cells[] = {
	{ SHARE, "v:SystemManagement", "v:green", PERMIT, ACM_R_SHARED_TYPE,
	  "green" },
	{ SHARE, "v:SystemManagement", "v:blue", PERMIT, ACM_R_SHARED_TYPE,
	  "blue" },
	{ SHARE, "v:green", "v:red", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ SHARE, "v:green", "v:blue", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ SHARE, "v:blue", "v:red", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ SHARE, "v:red", "v:red", PERMIT, ACM_R_SHARED_TYPE, "red" },
	{ RESOURCE, "v:green", "r:green", PERMIT, ACM_R_SHARED_TYPE,
	  "green" },
	{ RESOURCE, "v:green", "r:red", DENY, ACM_R_NO_SHARED_TYPE, NULL },
	{ RESOURCE, "v:SystemManagement", "r:SystemManagement", PERMIT,
	  ACM_R_SHARED_TYPE, "SystemManagement" },
	{ RESOURCE, "v:green", "r:SystemManagement", DENY,
	  ACM_R_NO_SHARED_TYPE, NULL },
	{ RESOURCE, "v:SystemManagement", "r:blue", PERMIT,
	  ACM_R_SHARED_TYPE, "blue" },
	{ AUTHORIZE, "v:SystemManagement", "v:red", PERMIT, ACM_R_SUPERSET,
	  "red" },
	{ AUTHORIZE, "v:green", "v:SystemManagement", DENY,
	  ACM_R_NOT_SUPERSET, "SystemManagement" },
	{ AUTHORIZE, "v:red", "v:green", DENY, ACM_R_NOT_SUPERSET, "green" },
};

static void decide(struct acm_ctx *ctx, enum kind kind, acm_row_t a,
		   acm_row_t b, struct acm_verdict *v)
{
	switch (kind) {
	case SHARE:
		acm_decide_share(ctx, ACM_HOOK_EVTCHN_INTERDOMAIN, a, b, v);
		break;
	case RESOURCE:
		acm_decide_resource(ctx, a, b, v);
		break;
	case AUTHORIZE:
		acm_decide_authorize(ctx, a, b, v);
		break;
	}
}

static void check_cells(const struct acm_policy *p, const char *pname,
			const struct cell *cells, size_t n)
{
	static const char *const kinds[] = { "share", "resource",
					     "authorize" };
	struct acm_ctx *cached = bb_ctx(p, 64, false);
	struct acm_ctx *plain = bb_ctx(p, 0, false);

	for (size_t i = 0; i < n; i++) {
		const struct cell *c = &cells[i];
		acm_row_t a = row_of(p, c->a), b = row_of(p, c->b);
		struct acm_verdict v, w;

		memset(&v, 0xa5, sizeof(v));
		decide(plain, c->kind, a, b, &v);
		TH_CHECK(v.decision == c->d && v.reason == c->r &&
			 same_str(type_name(p, v.reason, v.type_a), c->type) &&
			 v.type_b == ACM_TYPE_NONE && v.set == UINT32_MAX &&
			 !v.cached,
			 "%s %s(%s, %s): %s %s %s", pname, kinds[c->kind], c->a,
			 c->b, v.decision ? "deny" : "permit",
			 acm_reason_name(v.reason),
			 type_name(p, v.reason, v.type_a) ?
			 type_name(p, v.reason, v.type_a) : "-");
		/* Twice through the cache: a miss, then a hit that says the
		 * same thing. */
		decide(cached, c->kind, a, b, &w);
		TH_CHECK(!w.cached && w.decision == v.decision &&
			 w.reason == v.reason && w.type_a == v.type_a,
			 "%s %s(%s, %s) first through the cache", pname,
			 kinds[c->kind], c->a, c->b);
		decide(cached, c->kind, a, b, &w);
		TH_CHECK(w.cached && w.decision == v.decision &&
			 w.reason == v.reason && w.type_a == v.type_a &&
			 w.type_b == v.type_b && w.set == v.set,
			 "%s %s(%s, %s) cached == uncached", pname,
			 kinds[c->kind], c->a, c->b);
	}
	free(cached);
	free(plain);
}

static void test_matrices(void)
{
	struct bb_loaded toy, xm;

	TH_CHECK(bb_load(&bb_toy, &toy), "toy loads");
	check_cells(toy.p, "toy", toy_cells, TH_ARRAY_LEN(toy_cells));
	TH_CHECK(bb_load(&bb_xmtest, &xm), "xm-test loads");
	check_cells(xm.p, "xm-test", xmtest_cells, TH_ARRAY_LEN(xmtest_cells));
	bb_unload(&toy);
	bb_unload(&xm);
}

/* ---------------------------------------------------------------- cache */

static void test_cache(void)
{
	struct acm_hook_stats st;
	struct bb_loaded toy;
	struct acm_ctx *ctx, *tiny, *plain;
	struct acm_verdict v, w;
	acm_row_t blue, red, admin;
	uint64_t gen;
	int wrong = 0;

	TH_CHECK(bb_load(&bb_toy, &toy), "toy loads");
	ctx = bb_ctx(toy.p, 64, false);
	blue = row_of(toy.p, "v:Blue");
	red = row_of(toy.p, "v:Red");
	admin = row_of(toy.p, "v:Admin");

	for (int i = 0; i < 3; i++)
		acm_decide_share(ctx, ACM_HOOK_GNT_MAP_READ, blue, red, &v);
	acm_stats(ctx, ACM_HOOK_GNT_MAP_READ, &st);
	TH_CHECK(st.evaluated == 1 && st.denied == 1 && st.cache_hits == 2,
		 "stats: 1 evaluated, 1 denied, 2 hits (%lu %lu %lu)",
		 (unsigned long)st.evaluated, (unsigned long)st.denied,
		 (unsigned long)st.cache_hits);
	acm_stats(ctx, ACM_HOOK_GNT_MAP_WRITE, &st);
	TH_CHECK(st.evaluated == 0 && st.cache_hits == 0,
		 "other hooks untouched");

	/* The hook is part of the key. */
	acm_decide_share(ctx, ACM_HOOK_GNT_MAP_WRITE, blue, red, &v);
	TH_CHECK(!v.cached, "same pair, other hook: a miss");

	/* So is the kind of decision: a share asked under the resource
	 * hook must not answer a resource decision. */
	acm_decide_share(ctx, ACM_HOOK_RESOURCE_USE, blue, blue, &v);
	acm_decide_resource(ctx, blue, blue, &w);
	TH_CHECK(v.decision == ACM_PERMIT && !w.cached &&
		 w.decision == ACM_DENY && w.reason == ACM_R_BAD_LABEL,
		 "share and resource do not share cache entries");

	gen = acm_ctx_generation(ctx);
	acm_ctx_invalidate(ctx);
	TH_CHECK(acm_ctx_generation(ctx) == gen + 1, "invalidate bumps");
	acm_decide_share(ctx, ACM_HOOK_GNT_MAP_READ, blue, red, &v);
	TH_CHECK(!v.cached && v.decision == ACM_DENY, "invalidated: a miss");
	acm_decide_share(ctx, ACM_HOOK_GNT_MAP_READ, blue, red, &v);
	TH_CHECK(v.cached, "then a hit again");
	acm_stats(ctx, ACM_HOOK_GNT_MAP_READ, &st);
	TH_CHECK(st.evaluated == 2 && st.denied == 2 && st.cache_hits == 3,
		 "stats after invalidate");

	/* Create/destroy do not touch the STE cache (it is keyed on labels,
	 * not domains). */
	acm_domain_create_prepare(ctx, blue, &v);
	acm_domain_destroy(ctx, blue);
	acm_decide_share(ctx, ACM_HOOK_GNT_MAP_READ, blue, red, &v);
	TH_CHECK(v.cached, "destroy keeps the cache");

	/* One slot: every other call evicts, nothing is ever wrong. */
	tiny = bb_ctx(toy.p, 1, false);
	plain = bb_ctx(toy.p, 0, false);
	for (int i = 0; i < 200; i++) {
		acm_row_t a = (acm_row_t)(i % 3), b = (acm_row_t)(i / 3 % 5);
		/* Any hook but HOST_AUTHORIZE, counted below. */
		enum acm_hook h = (enum acm_hook)(i % ACM_HOOK_HOST_AUTHORIZE);

		acm_decide_share(tiny, h, a, b, &v);
		acm_decide_share(plain, h, a, b, &w);
		wrong += v.decision != w.decision || v.reason != w.reason ||
			 v.type_a != w.type_a;
		acm_decide_authorize(tiny, b, a, &v);
		acm_decide_authorize(plain, b, a, &w);
		wrong += v.decision != w.decision || v.reason != w.reason ||
			 v.type_a != w.type_a;
	}
	TH_CHECK(wrong == 0, "a one-slot cache never answers wrong (%d)",
		 wrong);
	acm_stats(plain, ACM_HOOK_HOST_AUTHORIZE, &st);
	TH_CHECK(st.evaluated == 200 && st.cache_hits == 0,
		 "no cache: every decision evaluated (%lu, %lu hits)",
		 (unsigned long)st.evaluated, (unsigned long)st.cache_hits);
	acm_decide_authorize(tiny, admin, admin, &v);
	acm_decide_authorize(tiny, admin, admin, &v);
	TH_CHECK(v.cached, "one slot still caches");

	/* Bad arguments fail closed. */
	acm_decide_share(ctx, ACM_HOOK__COUNT, blue, blue, &v);
	TH_CHECK(v.decision == ACM_DENY, "unknown hook denies");
	acm_decide_share(NULL, ACM_HOOK_EVTCHN_SEND, blue, blue, &v);
	TH_CHECK(v.decision == ACM_DENY, "no context denies");
	acm_stats(ctx, ACM_HOOK__COUNT, &st);
	TH_CHECK(st.evaluated == 0, "stats of an unknown hook are zero");

	free(tiny);
	free(plain);
	free(ctx);
	bb_unload(&toy);
}

static void test_ctx_args(void)
{
	struct acm_ctx_config cfg = { .cache_slots = 3 };
	struct bb_loaded toy;
	struct acm_ctx *ctx = (void *)1;
	uint64_t mem[4096];
	size_t need;

	TH_CHECK(bb_load(&bb_toy, &toy), "toy loads");
	TH_CHECK(acm_ctx_mem_size(toy.p, &cfg) == 0 &&
		 acm_ctx_init(&ctx, toy.p, &cfg, mem, sizeof(mem)) ==
		 ACM_E_ARG && ctx == NULL, "cache_slots not a power of two");
	cfg.cache_slots = 16;
	need = acm_ctx_mem_size(toy.p, &cfg);
	TH_CHECK(need > 0 && need <= sizeof(mem), "ctx size %zu", need);
	TH_CHECK(acm_ctx_init(&ctx, toy.p, &cfg, (uint8_t *)mem + 4,
			      sizeof(mem) - 8) == ACM_E_ARG,
		 "misaligned ctx memory");
	TH_CHECK(acm_ctx_init(&ctx, toy.p, &cfg, mem, need - 1) ==
		 ACM_E_NOMEM, "ctx memory one byte short");
	cfg.generation = 41;
	TH_CHECK(acm_ctx_init(&ctx, toy.p, &cfg, mem, need) == ACM_OK &&
		 acm_ctx_policy(ctx) == toy.p &&
		 acm_ctx_generation(ctx) == 41, "ctx init");
	TH_CHECK(acm_ctx_mem_size(toy.p, NULL) > 0 &&
		 acm_ctx_init(&ctx, toy.p, NULL, mem, sizeof(mem)) == ACM_OK,
		 "NULL config: defaults");
	TH_CHECK(acm_ctx_init(NULL, toy.p, &cfg, mem, need) == ACM_E_ARG &&
		 acm_ctx_init(&ctx, NULL, &cfg, mem, need) == ACM_E_ARG,
		 "NULL out or policy");
	bb_unload(&toy);
}

/* ---------------------------------------------------------- Chinese Wall */

enum op { CREATE, DESTROY, ROLLBACK };

struct step {
	enum op op;
	const char *label;
	enum acm_decision d;       /* CREATE only */
	enum acm_reason r;
	const char *own, *other, *set; /* CREATE denials */
};

/* Creates, destroys and rollbacks in order; `counts` then names the
 * expected running count of each CW type ("Admin=1 Blue=1 Red=0"). */
static void run_steps(const struct acm_policy *p, struct acm_ctx *ctx,
		      const char *name, const struct step *steps, size_t n,
		      const char *counts)
{
	char buf[256], *tok, *save = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		acm_row_t row = row_of(p, s->label);
		struct acm_verdict v;

		if (s->op == DESTROY) {
			acm_domain_destroy(ctx, row);
			continue;
		}
		if (s->op == ROLLBACK) {
			acm_domain_create_rollback(ctx, row);
			continue;
		}
		acm_domain_create_prepare(ctx, row, &v);
		TH_CHECK(v.decision == s->d && v.reason == s->r &&
			 same_str(s->own, type_name(p, v.reason, v.type_a)) &&
			 same_str(s->other,
				  type_name(p, v.reason, v.type_b)) &&
			 same_str(s->set, acm_conflict_set_name(p, v.set)),
			 "%s step %zu create %s: %s %s (%s vs %s in %s)", name,
			 i, s->label, v.decision ? "deny" : "permit",
			 acm_reason_name(v.reason),
			 type_name(p, v.reason, v.type_a),
			 type_name(p, v.reason, v.type_b),
			 acm_conflict_set_name(p, v.set));
	}
	snprintf(buf, sizeof(buf), "%s", counts);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		acm_type_t t;

		*eq = 0;
		for (t = 0; acm_cw_type_name(p, t); t++)
			if (strcmp(acm_cw_type_name(p, t), tok) == 0)
				break;
		TH_CHECK(acm_cw_running(ctx, t) == strtoul(eq + 1, NULL, 10),
			 "%s: running[%s] = %u, want %s", name, tok,
			 acm_cw_running(ctx, t), eq + 1);
	}
}

#define OK_CREATE(l) { CREATE, l, PERMIT, ACM_R_CHWALL_OK, NULL, NULL, NULL }
#define NO_CREATE(l, own, other, set) \
	{ CREATE, l, DENY, ACM_R_CHWALL_CONFLICT, own, other, set }

static const struct step toy_steps[] = {
	OK_CREATE("v:Admin"),
	OK_CREATE("v:Blue"),
	NO_CREATE("v:Red", "Red", "Blue", "BR"),
	OK_CREATE("v:Blue"), /* the same type co-runs */
	{ DESTROY, "v:Blue" },
	NO_CREATE("v:Red", "Red", "Blue", "BR"),
	{ DESTROY, "v:Blue" },
	OK_CREATE("v:Red"), /* no history */
	NO_CREATE("v:Blue", "Blue", "Red", "BR"),
	{ ROLLBACK, "v:Red" },
	OK_CREATE("v:Blue"),
	{ CREATE, "r:BlueDisk", DENY, ACM_R_BAD_LABEL },
	{ CREATE, "none", DENY, ACM_R_UNLABELED_REFUSED },
	{ CREATE, "#99", DENY, ACM_R_BAD_LABEL },
	{ DESTROY, "v:Red" },  /* not running: ignored */
	{ DESTROY, "#99" },    /* not a label: ignored */
};

static const struct step xmtest_steps[] = {
	OK_CREATE("v:SystemManagement"),
	OK_CREATE("v:green"),
	OK_CREATE("v:red"),
	OK_CREATE("v:green"),
	NO_CREATE("v:blue", "blue", "red", "RER"),
	{ DESTROY, "v:red" },
	OK_CREATE("v:blue"),
	NO_CREATE("v:red", "red", "blue", "RER"),
};

/* A label with both types of one set: Xen accepts it, and it does not
 * conflict with itself; it excludes nothing, but others exclude it. */
static const struct bb_label both_labels[] = {
	{ "Admin", ACM_LABEL_VM, "Admin Blue Red", "Admin", NULL },
	{ "Blue", ACM_LABEL_VM, "Blue", "Blue", NULL },
	{ "Red", ACM_LABEL_VM, "Red", "Red", NULL },
	{ "Both", ACM_LABEL_VM, "Blue Red", "Blue Red", NULL },
	{ "Green", ACM_LABEL_VM, "Green", "Green", NULL },
};
static const struct bb_conflict both_conflicts[] = {
	{ "BR", "Blue Red" },
	{ "BG", "Blue Green" },
};

static const struct step both_steps[] = {
	OK_CREATE("v:Both"),
	OK_CREATE("v:Both"),
	OK_CREATE("v:Blue"),  /* Both excludes nothing of BR ... */
	NO_CREATE("v:Red", "Red", "Blue", "BR"), /* ... Blue excludes Red */
	NO_CREATE("v:Green", "Green", "Blue", "BG"), /* two sets */
	{ DESTROY, "v:Blue" },
	NO_CREATE("v:Green", "Green", "Blue", "BG"), /* Both has Blue */
	OK_CREATE("v:Red"),
	NO_CREATE("v:Blue", "Blue", "Red", "BR"),
	{ DESTROY, "v:Both" },
	{ DESTROY, "v:Both" },
	NO_CREATE("v:Both", "Blue", "Red", "BR"),
	{ DESTROY, "v:Red" },
	OK_CREATE("v:Green"),
	NO_CREATE("v:Both", "Blue", "Green", "BG"),
};

static void test_chwall(void)
{
	struct bb_policy pol = bb_toy;
	struct acm_hook_stats st;
	struct bb_loaded toy, xm, both;
	struct acm_ctx *ctx;
	acm_type_t blue, red;

	TH_CHECK(bb_load(&bb_toy, &toy), "toy loads");
	ctx = bb_ctx(toy.p, 16, false);
	run_steps(toy.p, ctx, "toy", toy_steps, TH_ARRAY_LEN(toy_steps),
		  "Admin=1 Blue=1 Red=0");
	blue = 1, red = 2;
	TH_CHECK(acm_cw_excluded(ctx, red) == 1 &&
		 acm_cw_excluded(ctx, blue) == 0 &&
		 acm_cw_excluded(ctx, 0) == 0 && acm_cw_excluded(ctx, 7) == 0,
		 "Blue running excludes Red once");
	acm_stats(ctx, ACM_HOOK_DOMAIN_CREATE, &st);
	TH_CHECK(st.evaluated == 11 && st.denied == 6 && st.cache_hits == 0,
		 "create stats %lu/%lu", (unsigned long)st.evaluated,
		 (unsigned long)st.denied);
	acm_stats(ctx, ACM_HOOK_DOMAIN_DESTROY, &st);
	TH_CHECK(st.evaluated == 4 && st.denied == 0, "destroy stats");
	free(ctx);

	TH_CHECK(bb_load(&bb_xmtest, &xm), "xm-test loads");
	ctx = bb_ctx(xm.p, 0, false);
	run_steps(xm.p, ctx, "xm-test", xmtest_steps,
		  TH_ARRAY_LEN(xmtest_steps),
		  "SystemManagement=1 green=2 red=0 blue=1");
	free(ctx);

	pol.labels = both_labels;
	pol.n_labels = TH_ARRAY_LEN(both_labels);
	pol.conflicts = both_conflicts;
	pol.n_conflicts = TH_ARRAY_LEN(both_conflicts);
	pol.ste_types = "Admin Blue Red Green";
	pol.cw_types = "Admin Blue Red Green";
	TH_CHECK(bb_load(&pol, &both), "self-conflicting label loads");
	ctx = bb_ctx(both.p, 0, false);
	run_steps(both.p, ctx, "both", both_steps, TH_ARRAY_LEN(both_steps),
		  "Admin=0 Blue=0 Red=0 Green=1");
	free(ctx);

	bb_unload(&toy);
	bb_unload(&xm);
	bb_unload(&both);
}

static const struct step history_steps[] = {
	OK_CREATE("v:Blue"),
	OK_CREATE("v:Blue"),
	NO_CREATE("v:Red", "Red", "Blue", "BR"),
	{ DESTROY, "v:Blue" },
	{ DESTROY, "v:Blue" },
	{ CREATE, "v:Red", DENY, ACM_R_CHWALL_HISTORY, "Red" },
	OK_CREATE("v:Blue"), /* what ran may run again */
	OK_CREATE("v:Admin"),
};

static const struct step rollback_steps[] = {
	OK_CREATE("v:Blue"),
	{ ROLLBACK, "v:Blue" }, /* never ran: leaves no history */
	OK_CREATE("v:Red"),
};

static void test_history(void)
{
	struct bb_loaded toy;
	struct acm_ctx *ctx, *fresh, *plain;
	uint64_t words[4] = { 0 }, bad[2] = { 1u << 3, 0 };
	struct acm_verdict v;

	TH_CHECK(bb_load(&bb_toy, &toy), "toy loads");
	TH_CHECK(acm_cw_history_words(toy.p) == 1, "one history word");
	ctx = bb_ctx(toy.p, 0, true);
	run_steps(toy.p, ctx, "history", history_steps,
		  TH_ARRAY_LEN(history_steps), "Admin=1 Blue=1 Red=0");
	acm_cw_history_export(ctx, words);
	TH_CHECK(words[0] == 1u << 2, "history holds Red (%#lx)",
		 (unsigned long)words[0]);

	/* A reboot: the history comes back before any create. */
	fresh = bb_ctx(toy.p, 0, true);
	TH_CHECK(acm_cw_history_import(fresh, words, 1) == ACM_OK,
		 "import");
	acm_domain_create_prepare(fresh, row_of(toy.p, "v:Red"), &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_CHWALL_HISTORY &&
		 v.type_a == 2, "Red refused after the reboot");
	TH_CHECK(acm_cw_history_import(fresh, words, 2) == ACM_E_ARG,
		 "wrong word count");
	TH_CHECK(acm_cw_history_import(fresh, bad, 1) == ACM_E_ARG,
		 "bit beyond the types");
	plain = bb_ctx(toy.p, 0, false);
	TH_CHECK(acm_cw_history_import(plain, words, 1) == ACM_E_STATE,
		 "no import without historical mode");
	run_steps(toy.p, plain, "no history", toy_steps, 8,
		  "Admin=1 Blue=0 Red=1");
	free(plain);
	free(fresh);
	free(ctx);

	ctx = bb_ctx(toy.p, 0, true);
	run_steps(toy.p, ctx, "history rollback", rollback_steps,
		  TH_ARRAY_LEN(rollback_steps), "Blue=0 Red=1");
	acm_cw_history_export(ctx, words);
	TH_CHECK(words[0] == 1u << 1, "running Red excludes Blue in export");
	free(ctx);
	bb_unload(&toy);
}

/* ------------------------------------------- unlabeled, components */

static void test_unlabeled(void)
{
	struct acm_policy_info info;
	struct bb_loaded up;
	struct acm_ctx *ctx;
	struct acm_verdict v;
	acm_row_t sm, green;

	TH_CHECK(bb_load(&bb_xmupdate, &up), "xm-test-update loads");
	acm_policy_info(up.p, &info);
	TH_CHECK(info.unlabeled == row_of(up.p, "v:__UNLABELED__"),
		 "unlabeled row is the VM label __UNLABELED__");
	sm = row_of(up.p, "v:SystemManagement");
	green = row_of(up.p, "v:GREEN");
	ctx = bb_ctx(up.p, 0, false);
	acm_domain_create_prepare(ctx, info.unlabeled, &v);
	TH_CHECK(v.decision == ACM_PERMIT, "unlabeled domain runs");
	acm_decide_share(ctx, ACM_HOOK_EVTCHN_UNBOUND, info.unlabeled, sm, &v);
	TH_CHECK(v.decision == ACM_PERMIT &&
		 strcmp(acm_ste_type_name(up.p, v.type_a), "__UNLABELED__") ==
		 0, "unlabeled talks to dom0");
	acm_decide_share(ctx, ACM_HOOK_EVTCHN_UNBOUND, info.unlabeled, green,
			 &v);
	TH_CHECK(v.decision == ACM_DENY, "unlabeled confined to its type");
	acm_decide_resource(ctx, info.unlabeled,
			    row_of(up.p, "r:__UNLABELED__"), &v);
	TH_CHECK(v.decision == ACM_PERMIT, "unlabeled resource");
	free(ctx);
	bb_unload(&up);
}

static void test_components(void)
{
	struct bb_label labels[7];
	struct bb_policy pol;
	struct bb_loaded l;
	struct acm_ctx *ctx;
	struct acm_verdict v;
	acm_row_t blue, red, empty, admin, inacc, bdisk;

	memcpy(labels, bb_toy_labels, 5 * sizeof(labels[0]));
	labels[5] = (struct bb_label){ "__INACCESSIBLE__", ACM_LABEL_RESOURCE,
				       "Blue", NULL, NULL };
	labels[6] = (struct bb_label){ "Empty", ACM_LABEL_VM, NULL, NULL,
				       NULL };

	/* Both components, plus __INACCESSIBLE__ and an empty label. */
	pol = bb_toy;
	pol.labels = labels;
	pol.n_labels = 7;
	TH_CHECK(bb_load(&pol, &l), "toy + extras loads");
	ctx = bb_ctx(l.p, 0, false);
	blue = row_of(l.p, "v:Blue");
	empty = row_of(l.p, "v:Empty");
	admin = row_of(l.p, "v:Admin");
	inacc = row_of(l.p, "r:__INACCESSIBLE__");
	acm_decide_resource(ctx, blue, inacc, &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_INACCESSIBLE,
		 "__INACCESSIBLE__ denies though it shares Blue");
	acm_decide_authorize(ctx, admin, empty, &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_NO_SHARED_TYPE,
		 "authorizing an empty label: nothing shared, denied");
	acm_decide_share(ctx, ACM_HOOK_GNT_COPY, empty, empty, &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_NO_SHARED_TYPE,
		 "empty labels share nothing");
	acm_domain_create_prepare(ctx, empty, &v);
	TH_CHECK(v.decision == ACM_PERMIT && v.reason == ACM_R_CHWALL_OK,
		 "an empty label runs");
	free(ctx);
	bb_unload(&l);

	/* No STE: sharing, resources and authorization are not mediated,
	 * except __INACCESSIBLE__. */
	for (int i = 0; i < 7; i++)
		labels[i].ste = NULL;
	pol.has_ste = false;
	TH_CHECK(bb_load(&pol, &l), "CHWALL-only loads");
	ctx = bb_ctx(l.p, 16, false);
	blue = row_of(l.p, "v:Blue");
	red = row_of(l.p, "v:Red");
	bdisk = row_of(l.p, "r:RedDisk");
	inacc = row_of(l.p, "r:__INACCESSIBLE__");
	acm_decide_share(ctx, ACM_HOOK_EVTCHN_INTERDOMAIN, blue, red, &v);
	TH_CHECK(v.decision == ACM_PERMIT &&
		 v.reason == ACM_R_NO_POLICY_COMPONENT, "no STE: share");
	acm_decide_resource(ctx, blue, bdisk, &v);
	TH_CHECK(v.decision == ACM_PERMIT &&
		 v.reason == ACM_R_NO_POLICY_COMPONENT, "no STE: resource");
	acm_decide_resource(ctx, blue, inacc, &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_INACCESSIBLE,
		 "no STE: __INACCESSIBLE__ still denies");
	acm_decide_authorize(ctx, blue, red, &v);
	TH_CHECK(v.decision == ACM_PERMIT &&
		 v.reason == ACM_R_NO_POLICY_COMPONENT, "no STE: authorize");
	acm_decide_share(ctx, ACM_HOOK_EVTCHN_INTERDOMAIN, blue,
			 row_of(l.p, "r:BlueDisk"), &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_BAD_LABEL,
		 "no STE: labels are still checked");
	acm_domain_create_prepare(ctx, blue, &v);
	acm_domain_create_prepare(ctx, red, &v);
	TH_CHECK(v.decision == ACM_DENY &&
		 v.reason == ACM_R_CHWALL_CONFLICT, "no STE: CW still works");
	free(ctx);
	bb_unload(&l);

	/* No Chinese Wall: every valid VM label runs. */
	memcpy(labels, bb_toy_labels, 5 * sizeof(labels[0]));
	for (int i = 0; i < 5; i++)
		labels[i].cw = NULL;
	pol = bb_toy;
	pol.labels = labels;
	pol.has_cw = false;
	pol.n_conflicts = 0;
	TH_CHECK(bb_load(&pol, &l), "STE-only loads");
	ctx = bb_ctx(l.p, 0, false);
	blue = row_of(l.p, "v:Blue");
	red = row_of(l.p, "v:Red");
	acm_domain_create_prepare(ctx, blue, &v);
	acm_domain_create_prepare(ctx, red, &v);
	TH_CHECK(v.decision == ACM_PERMIT &&
		 v.reason == ACM_R_NO_POLICY_COMPONENT,
		 "no CHWALL: Blue and Red co-run");
	acm_domain_create_prepare(ctx, row_of(l.p, "r:BlueDisk"), &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_BAD_LABEL,
		 "no CHWALL: still only VM labels");
	acm_domain_destroy(ctx, red);
	acm_domain_create_rollback(ctx, blue);
	TH_CHECK(acm_cw_history_words(l.p) == 0 &&
		 acm_cw_history_import(ctx, NULL, 0) == ACM_E_STATE,
		 "no CHWALL: no history words");
	acm_decide_share(ctx, ACM_HOOK_EVTCHN_SEND, blue, red, &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_NO_SHARED_TYPE,
		 "no CHWALL: STE still works");
	free(ctx);
	bb_unload(&l);
}

/* ------------------------------------------------------- adopt running */

static void test_adopt_running(void)
{
	struct bb_policy pol = bb_toy;
	struct bb_loaded l;
	struct acm_ctx *ctx;
	struct acm_verdict v;
	acm_row_t admin, blue, red, both, rows[4];

	pol.labels = both_labels;
	pol.n_labels = TH_ARRAY_LEN(both_labels);
	pol.conflicts = both_conflicts;
	pol.n_conflicts = TH_ARRAY_LEN(both_conflicts);
	pol.ste_types = "Admin Blue Red Green";
	pol.cw_types = "Admin Blue Red Green";
	TH_CHECK(bb_load(&pol, &l), "loads");
	ctx = bb_ctx(l.p, 0, false);
	admin = row_of(l.p, "v:Admin");
	blue = row_of(l.p, "v:Blue");
	red = row_of(l.p, "v:Red");
	both = row_of(l.p, "v:Both");

	rows[0] = admin, rows[1] = blue, rows[2] = blue;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 3, &v) == ACM_OK &&
		 v.decision == ACM_PERMIT && acm_cw_running(ctx, 1) == 2,
		 "admin, blue, blue adopted");
	acm_domain_create_prepare(ctx, red, &v);
	TH_CHECK(v.decision == ACM_DENY, "then red is refused");

	rows[0] = blue, rows[1] = red;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 2, &v) == ACM_E_STATE &&
		 v.decision == ACM_DENY && v.reason == ACM_R_CHWALL_CONFLICT,
		 "blue + red is inconsistent");
	/* Order does not matter: Blue excludes Both's Red either way. */
	rows[0] = both, rows[1] = blue;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 2, &v) == ACM_E_STATE,
		 "both then blue is inconsistent");
	rows[0] = blue, rows[1] = both;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 2, &v) == ACM_E_STATE,
		 "blue then both is inconsistent");
	rows[0] = both, rows[1] = both;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 2, &v) == ACM_OK,
		 "both twice is fine");
	rows[0] = admin, rows[1] = 99;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 2, &v) == ACM_E_NOLABEL &&
		 v.reason == ACM_R_BAD_LABEL, "row 99 cannot run");
	rows[1] = ACM_ROW_NONE;
	TH_CHECK(acm_ctx_adopt_running(ctx, rows, 2, &v) == ACM_E_NOLABEL &&
		 v.reason == ACM_R_UNLABELED_REFUSED, "nor an unlabeled one");
	TH_CHECK(acm_cw_running(ctx, 3) == 2, "state kept on NOLABEL");
	TH_CHECK(acm_ctx_adopt_running(ctx, NULL, 0, NULL) == ACM_OK &&
		 acm_cw_running(ctx, 3) == 0, "empty list resets");
	TH_CHECK(acm_ctx_adopt_running(ctx, NULL, 1, NULL) == ACM_E_ARG,
		 "NULL rows");
	free(ctx);
	bb_unload(&l);
}

/* ------------------------------------------------------------ scaling */

struct big {
	struct bb_loaded l;
	uint32_t n;
	acm_row_t *rows; /* type i's label */
	acm_row_t dom0;
};

/* n (at most 99,999) types t00000...; one VM label per type; "dom0" with
 * every STE type;
 * conflict sets {t2k, t2k+1}; a resource label per 16 types. */
static void build_big(struct big *big, uint32_t n)
{
	size_t n_res = n / 16, n_labels = n + 1 + n_res;
	struct bb_label *labels = bb_xmalloc(n_labels * sizeof(*labels));
	struct bb_conflict *cs = bb_xmalloc(n / 2 * sizeof(*cs));
	char *types = bb_xmalloc(n * 8 + 1), *p = types;
	char (*names)[16] = bb_xmalloc(n * sizeof(*names));
	char (*res)[16] = bb_xmalloc((n_res + 1) * sizeof(*res));
	char (*pairs)[40] = bb_xmalloc(n / 2 * sizeof(*pairs));
	char (*csn)[16] = bb_xmalloc(n / 2 * sizeof(*csn));
	struct bb_policy pol = { 0 };

	for (uint32_t i = 0; i < n; i++) {
		snprintf(names[i], 16, "t%05u", i);
		p += sprintf(p, "%s ", names[i]);
		labels[i] = (struct bb_label){ names[i], ACM_LABEL_VM,
					       names[i], names[i], NULL };
	}
	labels[n] = (struct bb_label){ "dom0", ACM_LABEL_VM, types, NULL,
				       NULL };
	for (size_t i = 0; i < n_res; i++) {
		snprintf(res[i], 16, "d%05zu", i);
		labels[n + 1 + i] = (struct bb_label){
			res[i], ACM_LABEL_RESOURCE, names[16 * i], NULL, NULL };
	}
	for (uint32_t i = 0; i < n / 2; i++) {
		snprintf(csn[i], 16, "c%05u", i);
		snprintf(pairs[i], 40, "%s %s", names[2 * i],
			 names[2 * i + 1]);
		cs[i] = (struct bb_conflict){ csn[i], pairs[i] };
	}
	pol.name = "big";
	pol.has_ste = pol.has_cw = true;
	pol.ste_types = pol.cw_types = types;
	pol.labels = labels;
	pol.n_labels = n_labels;
	pol.conflicts = cs;
	pol.n_conflicts = n / 2;
	pol.bootstrap = "dom0";
	TH_CHECK(bb_load(&pol, &big->l), "%u types load", n);
	big->n = n;
	big->rows = bb_xmalloc(n * sizeof(*big->rows));
	for (uint32_t i = 0; i < n; i++)
		big->rows[i] = acm_label_find(big->l.p, ACM_LABEL_VM,
					      names[i]);
	big->dom0 = acm_label_find(big->l.p, ACM_LABEL_VM, "dom0");
	free(csn);
	free(pairs);
	free(res);
	free(names);
	free(types);
	free(cs);
	free(labels);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void time_big(const struct big *big)
{
	enum { PAIRS = 1 << 16, HOT = 1024, ROUNDS = 4000000 };
	struct acm_ctx *plain = bb_ctx(big->l.p, 0, false);
	struct acm_ctx *cached = bb_ctx(big->l.p, 4096, false);
	acm_row_t *pairs = bb_xmalloc(2 * PAIRS * sizeof(*pairs));
	struct acm_verdict v;
	unsigned long permits = 0;
	uint32_t seed = 12345;
	double t0, uncached_rate, cached_rate, cw_rate;

	for (int i = 0; i < 2 * PAIRS; i++) {
		seed = seed * 1103515245u + 12345u;
		pairs[i] = big->rows[(seed >> 8) % big->n];
		if (i % 7 == 0)
			pairs[i] = big->dom0;
	}
	t0 = now();
	for (int i = 0; i < ROUNDS; i++) {
		int k = i & (PAIRS - 1);

		acm_decide_share(plain, ACM_HOOK_EVTCHN_SEND, pairs[2 * k],
				 pairs[2 * k + 1], &v);
		permits += v.decision == ACM_PERMIT;
	}
	uncached_rate = ROUNDS / (now() - t0);
	t0 = now();
	for (int i = 0; i < ROUNDS; i++) {
		int k = i & (HOT - 1);

		acm_decide_share(cached, ACM_HOOK_EVTCHN_SEND, pairs[2 * k],
				 pairs[2 * k + 1], &v);
		permits += v.decision == ACM_PERMIT;
	}
	cached_rate = ROUNDS / (now() - t0);
	acm_domain_create_prepare(plain, big->dom0, &v);
	t0 = now();
	for (int i = 0; i < ROUNDS / 4; i++) {
		acm_row_t r = pairs[i & (PAIRS - 1)];

		acm_domain_create_prepare(plain, r, &v);
		if (v.decision == ACM_PERMIT)
			acm_domain_destroy(plain, r);
	}
	cw_rate = ROUNDS / 4 / (now() - t0);
	printf("%5u types: share uncached %.1f M/s, cached %.1f M/s, "
	       "create+destroy %.1f M/s (%lu permits)\n", big->n,
	       uncached_rate / 1e6, cached_rate / 1e6, cw_rate / 1e6,
	       permits);
	free(pairs);
	free(cached);
	free(plain);
}

static void test_scaling(void)
{
	static const uint32_t sizes[] = { 100, 1000, 10000 };
	bool timing = getenv("ACM_TIMING") != NULL;

	for (size_t s = 0; s < TH_ARRAY_LEN(sizes); s++) {
		struct big big;
		struct acm_ctx *ctx;
		struct acm_verdict v;
		uint32_t n = sizes[s], last = n - 1;

		build_big(&big, n);
		ctx = bb_ctx(big.l.p, 256, false);
		acm_decide_share(ctx, ACM_HOOK_EVTCHN_SEND, big.rows[last],
				 big.rows[last], &v);
		TH_CHECK(v.decision == ACM_PERMIT && v.type_a == last,
			 "%u: last type shares with itself", n);
		acm_decide_share(ctx, ACM_HOOK_EVTCHN_SEND, big.rows[0],
				 big.rows[last], &v);
		TH_CHECK(v.decision == ACM_DENY, "%u: t0 and t%u do not", n,
			 last);
		acm_decide_share(ctx, ACM_HOOK_EVTCHN_SEND, big.dom0,
				 big.rows[last], &v);
		TH_CHECK(v.decision == ACM_PERMIT && v.type_a == last,
			 "%u: dom0 shares with t%u", n, last);
		acm_decide_authorize(ctx, big.dom0, big.rows[n / 2], &v);
		TH_CHECK(v.decision == ACM_PERMIT, "%u: dom0 authorizes", n);
		acm_decide_authorize(ctx, big.rows[1], big.dom0, &v);
		TH_CHECK(v.decision == ACM_DENY && v.type_a == 0,
			 "%u: t1 lacks t0", n);
		acm_domain_create_prepare(ctx, big.rows[last - 1], &v);
		TH_CHECK(v.decision == ACM_PERMIT, "%u: create t%u", n,
			 last - 1);
		acm_domain_create_prepare(ctx, big.rows[last], &v);
		TH_CHECK(v.decision == ACM_DENY && v.type_a == last &&
			 v.type_b == last - 1 && v.set == n / 2 - 1,
			 "%u: t%u conflicts with t%u", n, last, last - 1);
		acm_domain_create_prepare(ctx, big.rows[0], &v);
		TH_CHECK(v.decision == ACM_PERMIT, "%u: t0 runs", n);
		acm_decide_resource(ctx, big.rows[16],
				    acm_label_find(big.l.p, ACM_LABEL_RESOURCE,
						   "d00001"), &v);
		TH_CHECK(v.decision == ACM_PERMIT && v.type_a == 16,
			 "%u: t16 uses d00001", n);
		if (timing)
			time_big(&big);
		free(ctx);
		free(big.rows);
		bb_unload(&big.l);
	}
}

int main(void)
{
	test_matrices();
	test_cache();
	test_ctx_args();
	test_chwall();
	test_history();
	test_unlabeled();
	test_components();
	test_adopt_running();
	test_scaling();
	return th_done();
}
