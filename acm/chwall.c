/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chwall.c - Chinese Wall: domain create (prepare/rollback), destroy, the
 * optional history, and rebuilding the accounting from a list of labels.
 *
 * Semantics are Xen's run-time exclusion (reference/acm.md §3.3): while a
 * domain runs, every type of every conflict set its label meets, other than
 * its own, is excluded.  Several domains of one type co-run; a label with
 * two types of one set does not conflict with itself.  The state is kept
 * as two counter arrays (see struct acm_cw_counts): create and destroy cost
 * O(sum over own types of the sets holding them), typically one or two
 * counter updates, whatever the number of types or the size of the sets.
 *
 * Historical mode (Brewer-Nash): when a domain goes away, the types it
 * excluded join the history and stay excluded.  A rolled-back create never
 * ran, so it adds nothing: that is why history is written at destroy and
 * not at prepare.
 */
#include "acm/acm_private.h"

/* Is own[i] the first of the label's own types in set c?  Each set a label
 * meets is then counted once, through its lowest own member. */
static bool first_own_in_set(const struct acm_policy *p, const uint32_t *own,
			     uint32_t i, uint32_t c)
{
	const uint8_t *set = acm_cs_dense(p, c);
	uint32_t j;

	for (j = 0; j < i; j++)
		if (acm_bit(set, own[j]))
			return false;
	return true;
}

void acm_cw_account(const struct acm_policy *p, struct acm_cw_counts *cw,
		    acm_row_t vm, bool add)
{
	const struct acm_label_rt *rt = &p->rt[vm];
	const uint32_t *own = p->cw_own + rt->own_first;
	uint32_t i, k, t, c;

	for (i = 0; i < rt->own_n; i++) {
		t = own[i];
		if (add)
			cw->running[t]++;
		else
			cw->running[t]--;
		for (k = p->type_sets_first[t]; k < p->type_sets_first[t + 1];
		     k++) {
			c = p->type_sets[k];
			if (!first_own_in_set(p, own, i, c))
				continue;
			if (add)
				cw->set_active[c]++;
			else
				cw->set_active[c]--;
		}
	}
}

/* A running type of set c other than t, for the explanation of a denial:
 * preferably one that a domain other than `vm` runs. */
static acm_type_t running_other(const struct acm_policy *p,
				const struct acm_cw_counts *cw, acm_row_t vm,
				bool counted, uint32_t c, acm_type_t t)
{
	const uint8_t *mine = acm_cw_dense(p, vm);
	acm_type_t fallback = ACM_TYPE_NONE, u;
	uint32_t k, self;

	for (k = p->set_first[c]; k < p->set_first[c + 1]; k++) {
		u = p->set_members[k];
		if (u == t || !cw->running[u])
			continue;
		self = counted && acm_bit(mine, u);
		if (cw->running[u] > self)
			return u;
		if (fallback == ACM_TYPE_NONE)
			fallback = u;
	}
	return fallback;
}

bool acm_cw_find_conflict(const struct acm_policy *p,
			  const struct acm_cw_counts *cw, acm_row_t vm,
			  bool counted, struct acm_cw_conflict *out)
{
	const struct acm_label_rt *rt = &p->rt[vm];
	const uint32_t *own = p->cw_own + rt->own_first;
	uint32_t i, k, t, c;

	for (i = 0; i < rt->own_n; i++) {
		t = own[i];
		for (k = p->type_sets_first[t]; k < p->type_sets_first[t + 1];
		     k++) {
			c = p->type_sets[k];
			/* Someone meets c without running t. */
			if (cw->set_active[c] > cw->running[t]) {
				out->own = t;
				out->set = c;
				out->other = running_other(p, cw, vm, counted,
							   c, t);
				return true;
			}
		}
	}
	return false;
}

void acm_cw_excluded_by(const struct acm_policy *p, acm_row_t vm,
			uint64_t *words)
{
	const struct acm_label_rt *rt = &p->rt[vm];
	const uint32_t *own = p->cw_own + rt->own_first;
	const uint8_t *mine = acm_cw_dense(p, vm);
	uint32_t i, k, m, c, u;

	for (i = 0; i < rt->own_n; i++)
		for (k = p->type_sets_first[own[i]];
		     k < p->type_sets_first[own[i] + 1]; k++) {
			c = p->type_sets[k];
			if (!first_own_in_set(p, own, i, c))
				continue;
			for (m = p->set_first[c]; m < p->set_first[c + 1];
			     m++) {
				u = p->set_members[m];
				if (!acm_bit(mine, u))
					words[u / 64u] |= 1ull << (u % 64u);
			}
		}
}

bool acm_cw_hits_words(const struct acm_policy *p, acm_row_t vm,
		       const uint64_t *words, acm_type_t *t)
{
	const struct acm_label_rt *rt = &p->rt[vm];
	const uint32_t *own = p->cw_own + rt->own_first;
	uint32_t i;

	for (i = 0; i < rt->own_n; i++)
		if ((words[own[i] / 64u] >> (own[i] % 64u)) & 1u) {
			*t = own[i];
			return true;
		}
	return false;
}

/* Is u excluded by the domains running now? */
static bool excluded_now(const struct acm_policy *p,
			 const struct acm_cw_counts *cw, acm_type_t u)
{
	uint32_t k;

	for (k = p->type_sets_first[u]; k < p->type_sets_first[u + 1]; k++)
		if (cw->set_active[p->type_sets[k]] > cw->running[u])
			return true;
	return false;
}

/* Every own type must be running for a release to make sense; anything
 * else is an embedder bug, and then the state is left as it is (more
 * exclusion, never less). */
static bool releasable(const struct acm_ctx *ctx, acm_row_t vm)
{
	const struct acm_policy *p = ctx->p;
	const struct acm_label_rt *rt;
	uint32_t i;

	if (!acm_is_vm(p, vm) || !(p->flags & ACM_BIN_F_CHWALL))
		return false;
	rt = &p->rt[vm];
	for (i = 0; i < rt->own_n; i++)
		if (!ctx->cw.running[p->cw_own[rt->own_first + i]])
			return false;
	return true;
}

/* The Chinese-Wall part of a create: check, then account. */
static void chwall_prepare(struct acm_ctx *ctx, acm_row_t vm,
			   struct acm_verdict *v)
{
	const struct acm_policy *p = ctx->p;
	struct acm_cw_conflict c;
	acm_type_t t;

	if (!(p->flags & ACM_BIN_F_CHWALL)) {
		acm_verdict_set(v, ACM_PERMIT, ACM_R_NO_POLICY_COMPONENT);
		return;
	}
	if (acm_cw_find_conflict(p, &ctx->cw, vm, false, &c)) {
		acm_verdict_set(v, ACM_DENY, ACM_R_CHWALL_CONFLICT);
		v->type_a = c.own;
		v->type_b = c.other;
		v->set = c.set;
		return;
	}
	if (ctx->historical && acm_cw_hits_words(p, vm, ctx->history, &t)) {
		acm_verdict_set(v, ACM_DENY, ACM_R_CHWALL_HISTORY);
		v->type_a = t;
		return;
	}
	acm_cw_account(p, &ctx->cw, vm, true);
	acm_verdict_set(v, ACM_PERMIT, ACM_R_CHWALL_OK);
}

/*
 * Composition, deny overrides: the label check (Xen's STE domain_create,
 * which only checks the row, and a precondition of everything else), then
 * Chinese Wall, which accounts on permit.  Nothing in STE denies a create
 * once the label is valid (authorization to run is acm_decide_authorize,
 * asked by the embedder); checks outside the engine that deny later undo
 * the accounting with acm_domain_create_rollback.
 */
void acm_domain_create_prepare(struct acm_ctx *ctx, acm_row_t vm,
			       struct acm_verdict *v)
{
	struct acm_hook_stats *st;

	if (!v)
		return;
	if (!ctx) {
		acm_verdict_set(v, ACM_DENY, ACM_R_BAD_LABEL);
		return;
	}
	st = &ctx->stats[ACM_HOOK_DOMAIN_CREATE];
	st->evaluated++;
	if (acm_vm_row_ok(ctx->p, vm, v))
		chwall_prepare(ctx, vm, v);
	st->denied += v->decision == ACM_DENY;
}

void acm_domain_create_rollback(struct acm_ctx *ctx, acm_row_t vm)
{
	if (ctx && releasable(ctx, vm))
		acm_cw_account(ctx->p, &ctx->cw, vm, false);
}

void acm_domain_destroy(struct acm_ctx *ctx, acm_row_t vm)
{
	if (!ctx)
		return;
	ctx->stats[ACM_HOOK_DOMAIN_DESTROY].evaluated++;
	if (!releasable(ctx, vm))
		return;
	if (ctx->historical)
		acm_cw_excluded_by(ctx->p, vm, ctx->history);
	acm_cw_account(ctx->p, &ctx->cw, vm, false);
}

uint32_t acm_cw_running(const struct acm_ctx *ctx, acm_type_t t)
{
	if (!ctx || t >= ctx->p->n_cw)
		return 0;
	return ctx->cw.running[t];
}

/* Xen's conflict_aggregate_set[t]: the number of (running domain, conflict
 * set) pairs that forbid t.  History is not included (see export). */
uint32_t acm_cw_excluded(const struct acm_ctx *ctx, acm_type_t t)
{
	const struct acm_policy *p;
	uint32_t k, sum = 0;

	if (!ctx || t >= ctx->p->n_cw)
		return 0;
	p = ctx->p;
	for (k = p->type_sets_first[t]; k < p->type_sets_first[t + 1]; k++)
		sum += ctx->cw.set_active[p->type_sets[k]] -
		       ctx->cw.running[t];
	return sum;
}

size_t acm_cw_history_words(const struct acm_policy *p)
{
	return p ? p->cw_words : 0;
}

/* What a reboot must remember: the recorded history and what the domains
 * running now exclude (they will have run when the host goes down). */
void acm_cw_history_export(const struct acm_ctx *ctx, uint64_t *words)
{
	const struct acm_policy *p;
	uint32_t w, u;

	if (!ctx || !words)
		return;
	p = ctx->p;
	for (w = 0; w < p->cw_words; w++)
		words[w] = ctx->history[w];
	for (u = 0; u < p->n_cw; u++)
		if (excluded_now(p, &ctx->cw, u))
			words[u / 64u] |= 1ull << (u % 64u);
}

enum acm_err acm_cw_history_import(struct acm_ctx *ctx, const uint64_t *words,
				   size_t n_words)
{
	const struct acm_policy *p;
	uint32_t w;

	if (!ctx || (!words && n_words))
		return ACM_E_ARG;
	p = ctx->p;
	if (n_words != p->cw_words)
		return ACM_E_ARG;
	if (n_words && (words[n_words - 1] &
			~acm_word_mask(p->n_cw, (uint32_t)n_words - 1)))
		return ACM_E_ARG;
	if (!ctx->historical)
		return ACM_E_STATE;
	/* Merge: history only grows. */
	for (w = 0; w < n_words; w++)
		ctx->history[w] |= words[w];
	return ACM_OK;
}

/* Rebuilds the counters from running labels, given either as rows or as
 * domain references; then checks every domain against all the others. */
static enum acm_err rebuild(struct acm_ctx *ctx, const acm_row_t *rows,
			    const struct acm_domain_ref *doms, size_t n,
			    struct acm_verdict *v)
{
	const struct acm_policy *p = ctx->p;
	struct acm_verdict scratch;
	struct acm_cw_conflict c;
	acm_row_t row;
	acm_type_t t;
	size_t i;

	if (!v)
		v = &scratch;
	for (i = 0; i < n; i++) {
		row = rows ? rows[i] : doms[i].label;
		if (!acm_vm_row_ok(p, row, v))
			return ACM_E_NOLABEL;
	}
	for (i = 0; i < p->n_cw; i++)
		ctx->cw.running[i] = 0;
	for (i = 0; i < p->n_cs; i++)
		ctx->cw.set_active[i] = 0;
	if (!(p->flags & ACM_BIN_F_CHWALL)) {
		acm_verdict_set(v, ACM_PERMIT, ACM_R_NO_POLICY_COMPONENT);
		return ACM_OK;
	}
	for (i = 0; i < n; i++)
		acm_cw_account(p, &ctx->cw, rows ? rows[i] : doms[i].label,
			       true);
	for (i = 0; i < n; i++) {
		row = rows ? rows[i] : doms[i].label;
		if (acm_cw_find_conflict(p, &ctx->cw, row, true, &c)) {
			acm_verdict_set(v, ACM_DENY, ACM_R_CHWALL_CONFLICT);
			v->type_a = c.own;
			v->type_b = c.other;
			v->set = c.set;
			return ACM_E_STATE;
		}
		if (ctx->historical &&
		    acm_cw_hits_words(p, row, ctx->history, &t)) {
			acm_verdict_set(v, ACM_DENY, ACM_R_CHWALL_HISTORY);
			v->type_a = t;
			return ACM_E_STATE;
		}
	}
	acm_verdict_set(v, ACM_PERMIT, ACM_R_CHWALL_OK);
	return ACM_OK;
}

enum acm_err acm_ctx_adopt_running(struct acm_ctx *ctx,
				   const acm_row_t *running, size_t n,
				   struct acm_verdict *v)
{
	if (!ctx || (!running && n))
		return ACM_E_ARG;
	return rebuild(ctx, running, NULL, n, v);
}

/* Carries the old context's history (recorded and current exclusions) to
 * the new policy's types of the same name, then rebuilds the counters. */
enum acm_err acm_update_adopt(struct acm_ctx *ctx, const struct acm_ctx *old,
			      const struct acm_domain_ref *doms_new_rows,
			      size_t n_doms)
{
	const struct acm_policy *op, *np;
	acm_type_t u, t;
	enum acm_err err;

	if (!ctx || !old || (!doms_new_rows && n_doms))
		return ACM_E_ARG;
	op = old->p;
	np = ctx->p;
	if (ctx->historical && old->historical)
		for (u = 0; u < op->n_cw; u++) {
			if (!((old->history[u / 64u] >> (u % 64u)) & 1u) &&
			    !excluded_now(op, &old->cw, u))
				continue;
			t = acm_cw_type_find(np, acm_cw_type_name(op, u));
			if (t != ACM_TYPE_NONE)
				ctx->history[t / 64u] |= 1ull << (t % 64u);
		}
	err = rebuild(ctx, NULL, doms_new_rows, n_doms, NULL);
	ctx->generation = old->generation + 1u;
	acm_cache_clear(ctx);
	return err;
}

/* Moves one running domain's accounting from old_label to new_label, as a
 * destroy (history included) and an unchecked create, and drops cached
 * decisions: the relabel was validated by acm_relabel_validate. */
void acm_relabel_apply(struct acm_ctx *ctx, acm_row_t old_label,
		       acm_row_t new_label)
{
	if (!ctx || !acm_is_vm(ctx->p, new_label))
		return;
	if (releasable(ctx, old_label)) {
		if (ctx->historical)
			acm_cw_excluded_by(ctx->p, old_label, ctx->history);
		acm_cw_account(ctx->p, &ctx->cw, old_label, false);
		acm_cw_account(ctx->p, &ctx->cw, new_label, true);
	}
	acm_ctx_invalidate(ctx);
}
