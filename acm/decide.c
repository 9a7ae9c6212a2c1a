/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - the STE decision hooks: the decision cache in front of the
 * evaluations of ste.c, and the per-hook statistics.
 *
 * The cache is 4-way set-associative: the set is a hash of (subject row,
 * object row, hook, which decision), and the verdict may sit in any of its
 * four entries, so pairs that hash alike no longer evict each other (a
 * direct-mapped cache of 4,096 slots kept only 78% of 1,024 hot pairs).
 * A set is 64 bytes, one cache line, so a lookup reads one line.  Current
 * entries are kept newest first: a miss puts its verdict in front, in place
 * of an empty or outdated entry (moving those before it down one), else of
 * the oldest, last one.  A hit writes nothing.
 *
 * An entry is valid only under the generation it was computed in, so
 * acm_ctx_invalidate drops every entry by bumping one counter.  It is
 * keyed on label rows, not domids, so a domain's destroy cannot make an
 * entry stale (Xen's cache was keyed on domids and had to be purged);
 * policy changes and relabels bump the generation.
 *
 * An entry is two u64s:
 *   key  bit 63 set (0 is an empty entry) | what << 34 | subject << 17 |
 *        object, where what = hook * 4 + kind of decision and a row is its
 *        number (< 65,536) or one of two tags: every row at or beyond the
 *        label count decides alike (a bad label), except ACM_ROW_NONE
 *        (unlabeled), so those two stand for all the others;
 *   val  generation (low GEN_BITS bits) << 22 | decision << 21 |
 *        reason << 17 | type_a (a type < 65,536, or TYPE_TAG_NONE).
 * The generation is truncated to ACM_CACHE_GEN_BITS, so when those bits
 * come round to zero the cache is emptied (acm_ctx_invalidate), once every
 * 2^42 invalidations, and every other change of generation empties it
 * too: an entry can never match a generation other than its own.  type_b and set are
 * not stored: an STE verdict never has them (a verdict that did would
 * simply not be cached).
 *
 * Statistics: a cache hit counts in cache_hits only; evaluated and denied
 * count the decisions actually computed.
 */
#include "acm/acm_private.h"

enum decision_kind { DECIDE_SHARE, DECIDE_RESOURCE, DECIDE_AUTHORIZE };

#define KEY_VALID (1ull << 63)
#define ROW_TAG_BAD 0x10000u  /* any row >= n_labels but NONE */
#define ROW_TAG_NONE 0x10001u /* ACM_ROW_NONE */
#define TYPE_TAG_NONE 0x1ffffu
#define GEN_SHIFT (64u - ACM_CACHE_GEN_BITS)
#define GEN_MASK ((1ull << ACM_CACHE_GEN_BITS) - 1u)
#define GEN_OF(val) ((val) & ~((1ull << GEN_SHIFT) - 1u))

_Static_assert(ACM_MAX_LABELS <= ROW_TAG_BAD, "rows fit in 16 bits");
_Static_assert(ACM_MAX_TYPES < TYPE_TAG_NONE, "types fit below the tag");
_Static_assert(ACM_HOOK__COUNT * 4u < 64u, "what fits in 6 bits");
_Static_assert(ACM_R__COUNT <= 16u, "reason fits in 4 bits");
_Static_assert(GEN_SHIFT == 22u, "the verdict takes the low 22 bits");

static inline uint64_t row_tag(const struct acm_policy *p, acm_row_t r)
{
	if (r < p->n_labels)
		return r;
	return r == ACM_ROW_NONE ? ROW_TAG_NONE : ROW_TAG_BAD;
}

/* One multiply: the product's high half mixes every bit of the key. */
static inline uint32_t set_of(const struct acm_ctx *ctx, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) &
	       ctx->cache_set_mask;
}

static inline uint64_t gen_bits(const struct acm_ctx *ctx)
{
	return (ctx->generation & GEN_MASK) << GEN_SHIFT;
}

void acm_cache_clear(struct acm_ctx *ctx)
{
	uint32_t i, n;

	if (!ctx->cache)
		return;
	n = (ctx->cache_set_mask + 1u) * ctx->cache_ways;
	for (i = 0; i < n; i++)
		ctx->cache[i] = (struct acm_cache_entry){ 0, 0 };
}

/* The verdict as an entry's val, false if it cannot be stored. */
static bool pack(const struct acm_ctx *ctx, const struct acm_verdict *v,
		 uint64_t *val)
{
	uint64_t t;

	if (v->type_b != ACM_TYPE_NONE || v->set != UINT32_MAX ||
	    (unsigned)v->reason >= 16u || (unsigned)v->decision > 1u)
		return false;
	if (v->type_a == ACM_TYPE_NONE)
		t = TYPE_TAG_NONE;
	else if (v->type_a < TYPE_TAG_NONE)
		t = v->type_a;
	else
		return false;
	*val = gen_bits(ctx) | (uint64_t)v->decision << 21 |
	       (uint64_t)v->reason << 17 | t;
	return true;
}

static void unpack(uint64_t val, struct acm_verdict *v)
{
	uint32_t t = (uint32_t)(val & TYPE_TAG_NONE);

	v->decision = (enum acm_decision)((val >> 21) & 1u);
	v->reason = (enum acm_reason)((val >> 17) & 15u);
	v->type_a = t == TYPE_TAG_NONE ? ACM_TYPE_NONE : t;
	v->type_b = ACM_TYPE_NONE;
	v->set = UINT32_MAX;
	v->cached = true;
}

/* Stores a verdict computed on a miss. */
static void insert(struct acm_ctx *ctx, struct acm_cache_entry *set,
		   uint64_t key, uint64_t val)
{
	uint64_t gen = gen_bits(ctx);
	uint32_t w, ways = ctx->cache_ways, victim = ways;

	/* The key's own outdated entry, else an empty or outdated one: a
	 * key is never in a set twice. */
	for (w = 0; w < ways; w++) {
		if (set[w].key == key) {
			victim = w;
			break;
		}
		if (victim == ways &&
		    (!set[w].key || GEN_OF(set[w].val) != gen))
			victim = w;
	}
	if (victim == ways) /* all current: the oldest goes */
		victim = ways - 1u;
	/* Newest first: the entries before the victim move down one. */
	for (w = victim; w > 0; w--)
		set[w] = set[w - 1u];
	set[0].key = key;
	set[0].val = val;
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
	struct acm_cache_entry *set = NULL;
	struct acm_hook_stats *st;
	uint64_t key = 0, gen, val;
	uint32_t w;

	if (!v)
		return;
	if (!ctx || (unsigned)hook >= ACM_HOOK__COUNT) {
		acm_verdict_set(v, ACM_DENY, ACM_R_BAD_LABEL);
		return;
	}
	st = &ctx->stats[hook];
	if (ctx->cache) {
		key = KEY_VALID | (uint64_t)(hook * 4u + kind) << 34 |
		      row_tag(ctx->p, a) << 17 | row_tag(ctx->p, b);
		set = &ctx->cache[(size_t)set_of(ctx, key) * ctx->cache_ways];
		gen = gen_bits(ctx);
		for (w = 0; w < ctx->cache_ways; w++)
			if (set[w].key == key && GEN_OF(set[w].val) == gen) {
				unpack(set[w].val, v);
				st->cache_hits++;
				return;
			}
	}
	evaluate(ctx->p, kind, a, b, v);
	st->evaluated++;
	st->denied += v->decision == ACM_DENY;
	if (set && pack(ctx, v, &val))
		insert(ctx, set, key, val);
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
