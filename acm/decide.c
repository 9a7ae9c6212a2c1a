/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - the STE decision hooks: the decision cache in front of the
 * evaluations of ste.c, and the per-hook statistics.
 *
 * The cache is direct-mapped: slot = hash(subject row, object row, hook,
 * which decision).  An entry is valid only under the generation it was
 * computed in, so acm_ctx_invalidate drops every entry by bumping one
 * counter, and a colliding entry simply replaces the old one.  It is keyed
 * on label rows, not domids, so a domain's destroy cannot make an entry
 * stale (Xen's cache was keyed on domids and had to be purged); policy
 * changes and relabels bump the generation.
 *
 * Statistics: a cache hit counts in cache_hits only; evaluated and denied
 * count the decisions actually computed.
 */
#include "acm/acm_private.h"

enum decision_kind { DECIDE_SHARE, DECIDE_RESOURCE, DECIDE_AUTHORIZE };

/* One multiply: the product's high half mixes every bit of the key. */
static inline uint32_t slot_of(const struct acm_ctx *ctx, uint64_t rows,
			       uint8_t what)
{
	uint64_t x = (rows ^ (uint64_t)what << 58) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(x >> 32) & ctx->cache_mask;
}

void acm_cache_clear(struct acm_ctx *ctx)
{
	uint32_t i;

	if (!ctx->cache)
		return;
	/* A generation no decision can carry until 2^64 bumps from now. */
	for (i = 0; i <= ctx->cache_mask; i++)
		ctx->cache[i].generation = ctx->generation - 1u;
}

static void evaluate(const struct acm_policy *p, enum decision_kind kind,
		     acm_row_t a, acm_row_t b, struct acm_verdict *v)
{
	switch (kind) {
	case DECIDE_SHARE:
		acm_ste_share(p, a, b, v);
		return;
	case DECIDE_RESOURCE:
		acm_ste_resource(p, a, b, v);
		return;
	case DECIDE_AUTHORIZE:
		acm_ste_authorize(p, a, b, v);
		return;
	}
	acm_verdict_set(v, ACM_DENY, ACM_R_BAD_LABEL); /* fail closed */
}

static void decide(struct acm_ctx *ctx, enum decision_kind kind,
		   enum acm_hook hook, acm_row_t a, acm_row_t b,
		   struct acm_verdict *v)
{
	uint64_t rows = (uint64_t)a << 32 | b;
	struct acm_cache_slot *s = NULL;
	struct acm_hook_stats *st;
	uint8_t what;

	if (!v)
		return;
	if (!ctx || (unsigned)hook >= ACM_HOOK__COUNT) {
		acm_verdict_set(v, ACM_DENY, ACM_R_BAD_LABEL);
		return;
	}
	st = &ctx->stats[hook];
	what = (uint8_t)(hook * 4u + kind);
	if (ctx->cache) {
		s = &ctx->cache[slot_of(ctx, rows, what)];
		if (s->generation == ctx->generation && s->rows == rows &&
		    s->what == what) {
			v->decision = (enum acm_decision)s->decision;
			v->reason = (enum acm_reason)s->reason;
			v->type_a = s->type_a;
			v->type_b = s->type_b;
			v->set = UINT32_MAX;
			v->cached = true;
			st->cache_hits++;
			return;
		}
	}
	evaluate(ctx->p, kind, a, b, v);
	st->evaluated++;
	st->denied += v->decision == ACM_DENY;
	if (s) {
		s->generation = ctx->generation;
		s->rows = rows;
		s->what = what;
		s->decision = (uint8_t)v->decision;
		s->reason = (uint8_t)v->reason;
		s->type_a = v->type_a;
		s->type_b = v->type_b;
	}
}

void acm_decide_share(struct acm_ctx *ctx, enum acm_hook hook, acm_row_t a,
		      acm_row_t b, struct acm_verdict *v)
{
	decide(ctx, DECIDE_SHARE, hook, a, b, v);
}

void acm_decide_resource(struct acm_ctx *ctx, acm_row_t vm, acm_row_t res,
			 struct acm_verdict *v)
{
	decide(ctx, DECIDE_RESOURCE, ACM_HOOK_RESOURCE_USE, vm, res, v);
}

void acm_decide_authorize(struct acm_ctx *ctx, acm_row_t host, acm_row_t vm,
			  struct acm_verdict *v)
{
	decide(ctx, DECIDE_AUTHORIZE, ACM_HOOK_HOST_AUTHORIZE, host, vm, v);
}
