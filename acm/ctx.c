/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctx.c - the run-time context: its memory layout, initialisation,
 * generation and statistics.
 *
 * Layout of the donated memory, all 8-aligned:
 *   struct acm_ctx | cache entries | history words | running[n_cw] |
 *   set_active[n_cs]
 * The cache starts at a multiple of 64 bytes, so that in memory aligned to
 * a cache line (the embedder's choice) each set of four entries is a line.
 */
#include "acm/acm_private.h"

static const struct acm_ctx_config default_config = { 0, false, 0 };

static bool config_ok(const struct acm_ctx_config *cfg)
{
	uint32_t n = cfg->cache_slots;

	return (n & (n - 1u)) == 0 && n <= ACM_CACHE_SLOTS_MAX;
}

static size_t align8(size_t v)
{
	return (v + 7u) & ~(size_t)7u;
}

static size_t align64(size_t v)
{
	return (v + 63u) & ~(size_t)63u;
}

struct ctx_layout {
	size_t cache, history, running, set_active, total;
};

static void ctx_layout(const struct acm_policy *p,
		       const struct acm_ctx_config *cfg, struct ctx_layout *l)
{
	/* Bounded: 2^24 slots and 2^16 types and sets at most. */
	l->cache = align64(sizeof(struct acm_ctx));
	l->history = l->cache +
		     (size_t)cfg->cache_slots * sizeof(struct acm_cache_entry);
	l->running = l->history + (size_t)p->cw_words * 8u;
	l->set_active = l->running + align8((size_t)p->n_cw * 4u);
	l->total = l->set_active + align8((size_t)p->n_cs * 4u);
}

size_t acm_ctx_mem_size(const struct acm_policy *p,
			const struct acm_ctx_config *cfg)
{
	struct ctx_layout l;

	if (!cfg)
		cfg = &default_config;
	if (!p || !config_ok(cfg))
		return 0;
	ctx_layout(p, cfg, &l);
	return l.total;
}

enum acm_err acm_ctx_init(struct acm_ctx **out, const struct acm_policy *p,
			  const struct acm_ctx_config *cfg, void *mem,
			  size_t mem_len)
{
	struct ctx_layout l;
	struct acm_ctx *ctx;
	uint8_t *base = mem;
	size_t i;

	if (out)
		*out = NULL;
	if (!cfg)
		cfg = &default_config;
	if (!out || !p || !mem || ((uintptr_t)mem & 7u) || !config_ok(cfg))
		return ACM_E_ARG;
	ctx_layout(p, cfg, &l);
	if (mem_len < l.total)
		return ACM_E_NOMEM;

	ctx = mem;
	*ctx = (struct acm_ctx){ 0 };
	ctx->p = p;
	ctx->generation = cfg->generation;
	ctx->historical = cfg->historical;
	if (cfg->cache_slots) {
		/* Fewer than four slots: one set of all of them. */
		ctx->cache = (struct acm_cache_entry *)(base + l.cache);
		ctx->cache_ways = cfg->cache_slots < ACM_CACHE_WAYS
					  ? cfg->cache_slots
					  : ACM_CACHE_WAYS;
		ctx->cache_set_mask = cfg->cache_slots / ctx->cache_ways - 1u;
		acm_cache_clear(ctx);
	}
	ctx->history = (uint64_t *)(base + l.history);
	for (i = 0; i < p->cw_words; i++)
		ctx->history[i] = 0;
	ctx->cw.running = (uint32_t *)(base + l.running);
	for (i = 0; i < p->n_cw; i++)
		ctx->cw.running[i] = 0;
	ctx->cw.set_active = (uint32_t *)(base + l.set_active);
	for (i = 0; i < p->n_cs; i++)
		ctx->cw.set_active[i] = 0;
	*out = ctx;
	return ACM_OK;
}

const struct acm_policy *acm_ctx_policy(const struct acm_ctx *ctx)
{
	return ctx ? ctx->p : NULL;
}

uint64_t acm_ctx_generation(const struct acm_ctx *ctx)
{
	return ctx ? ctx->generation : 0;
}

/* Entries keep only the generation's low bits: when those wrap, what the
 * cache holds could match again, so it is emptied (every 2^42 calls). */
void acm_ctx_invalidate(struct acm_ctx *ctx)
{
	if (!ctx)
		return;
	ctx->generation++;
	if (!(ctx->generation & ((1ull << ACM_CACHE_GEN_BITS) - 1u)))
		acm_cache_clear(ctx);
}

void acm_stats(const struct acm_ctx *ctx, enum acm_hook hook,
	       struct acm_hook_stats *out)
{
	if (!out)
		return;
	if (!ctx || (unsigned)hook >= ACM_HOOK__COUNT) {
		*out = (struct acm_hook_stats){ 0 };
		return;
	}
	*out = ctx->stats[hook];
}
