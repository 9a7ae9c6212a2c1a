/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - loading a policy, updating it live and relabelling a domain.
 *
 * A new policy is built completely beside the running one: a private copy
 * of the blob, verified by the engine's loader (acm_policy_measure checks
 * everything before anything is used), its indexes and its run-time
 * context in memory owned here.  Only when the update validated against
 * the host's state and the context adopted the running domains is the one
 * pointer hs->pol swapped; the old policy is freed after the swap, so a
 * decision sees either policy whole.  On any failure the running policy
 * is untouched.
 *
 * Cached decisions cannot survive a change: a new context starts with an
 * empty cache and a greater generation (acm_update_adopt), a relabel bumps
 * the generation (acm_relabel_apply), and entries of another generation
 * never match.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks_impl.h"

/* Context memory on a cache line, so each 4-way cache set is one line. */
#define CTX_ALIGN 64u

static void *alloc_aligned(size_t align, size_t size)
{
	size_t rounded;

	if (!size)
		size = align;
	if (size > SIZE_MAX - align)
		return NULL;
	rounded = (size + align - 1u) & ~(align - 1u);
	return aligned_alloc(align, rounded);
}

void hooks_policy_free(struct hooks_policy *pol)
{
	if (!pol)
		return;
	free(pol->ctx_mem);
	free(pol->pol_mem);
	free(pol->blob);
	free(pol);
}

/* Not a release: a report the caller did not initialise must not be
 * freed from, so an unreleased row map leaks rather than crashes. */
static void report_reset(struct hooks_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void hooks_report_release(struct hooks_report *rep)
{
	if (!rep)
		return;
	free(rep->row_map);
	rep->row_map = NULL;
	rep->n_row_map = 0;
}

static void say(struct hooks_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct hooks_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
}

/* Copies and verifies the blob and sets up a fresh context for it. */
static int policy_build(const struct hooks_state *hs, const void *blob,
			size_t len, struct hooks_policy **out,
			struct hooks_report *rep)
{
	struct acm_ctx_config cc = {
		.cache_slots = hs->cfg.cache_slots,
		.historical = hs->cfg.historical,
		.generation = 1,
	};
	struct hooks_policy *pol;
	enum acm_err e;
	size_t need;
	int err = -ENOMEM;

	*out = NULL;
	if (!blob || !len || len > ACM_MAX_POLICY_LEN) {
		rep->load_err = !blob || !len ? ACM_E_TRUNCATED : ACM_E_LENGTH;
		say(rep, "policy refused: %s (%zu bytes)",
		    acm_strerror(rep->load_err), len);
		return -EINVAL;
	}
	pol = calloc(1, sizeof(*pol));
	if (!pol)
		goto fail;
	/* The engine reads the blob in place for the policy's lifetime: a
	 * private, 8-aligned copy nobody else can change. */
	pol->blob = alloc_aligned(8u, len);
	if (!pol->blob)
		goto fail;
	memcpy(pol->blob, blob, len);
	pol->blob_len = len;

	e = acm_policy_measure(pol->blob, len, &need, &rep->where);
	if (e == ACM_OK) {
		pol->pol_mem = alloc_aligned(8u, need);
		if (!pol->pol_mem)
			goto fail;
		e = acm_policy_load(pol->blob, len, pol->pol_mem, need, &pol->p,
				    &rep->where);
	}
	if (e != ACM_OK) {
		rep->load_err = e;
		say(rep, "policy refused: %s (at byte %" PRIu32 ")",
		    acm_strerror(e), rep->where.offset);
		err = -EINVAL;
		goto fail;
	}
	acm_policy_info(pol->p, &pol->info);

	need = acm_ctx_mem_size(pol->p, &cc);
	pol->ctx_mem = need ? alloc_aligned(CTX_ALIGN, need) : NULL;
	if (!pol->ctx_mem)
		goto fail;
	e = acm_ctx_init(&pol->ctx, pol->p, &cc, pol->ctx_mem, need);
	if (e != ACM_OK) {
		say(rep, "cannot set up the policy's context: %s",
		    acm_strerror(e));
		err = -EINVAL;
		goto fail;
	}
	*out = pol;
	return 0;
fail:
	if (err == -ENOMEM)
		say(rep, "out of memory loading the policy");
	hooks_policy_free(pol);
	return err;
}

static void describe(char *buf, size_t len, const struct hooks_policy *pol)
{
	const struct acm_policy_info *i = &pol->info;

	buf[0] = '\0';
	if (i->has_version)
		hooks_appendf(buf, len, "'%s' %" PRIu32 ".%" PRIu32, i->name,
			      i->version_major, i->version_minor);
	else
		hooks_appendf(buf, len, "'%s'", i->name);
}

static int first_load(struct hooks_state *hs, const void *blob, size_t len,
		      unsigned flags, struct hooks_report *rep)
{
	struct hooks_policy *pol;
	char what[HOOKS_NAME_MAX + 32];
	int err;

	err = policy_build(hs, blob, len, &pol, rep);
	if (err) {
		/* Fail-closed, and every denial says why. */
		if (!(flags & HOOKS_DRY_RUN))
			hooks_strlcpy(hs->no_policy_why, rep->message,
				      sizeof(hs->no_policy_why));
		return err;
	}
	describe(what, sizeof(what), pol);
	if (flags & HOOKS_DRY_RUN) {
		say(rep, "policy %s is valid (not loaded: dry run)", what);
		hooks_policy_free(pol);
		return 0;
	}
	hs->pol = pol;
	hs->no_policy_why[0] = '\0';
	rep->generation = acm_ctx_generation(pol->ctx);
	say(rep, "policy %s loaded, generation %" PRIu64, what,
	    rep->generation);
	return 0;
}

int hooks_policy_load(struct hooks_state *hs, const void *blob, size_t len,
		      struct hooks_report *rep)
{
	if (!hs || !rep)
		return -EINVAL;
	report_reset(rep);
	if (hs->pol) {
		say(rep, "a policy is loaded already: update it instead");
		return -EEXIST;
	}
	return first_load(hs, blob, len, 0, rep);
}

int hooks_policy_load_default(struct hooks_state *hs, struct hooks_report *rep)
{
	return hooks_policy_load(hs, hooks_default_blob,
				 (size_t)hooks_default_blob_len, rep);
}

void hooks_policy_refused(struct hooks_state *hs, const char *why)
{
	if (!hs || hs->pol)
		return;
	hooks_strlcpy(hs->no_policy_why, why && *why ? why : "refused",
		      sizeof(hs->no_policy_why));
}

/* ------------------------------------------------------------ blockers */

static void copy_blockers(struct hooks_report *rep,
			  const struct acm_policy *old_p,
			  const struct acm_policy *new_p,
			  const struct acm_blocker *b, size_t n, bool relabel)
{
	size_t i;

	rep->n_blockers = n;
	for (i = 0; i < n && i < HOOKS_MAX_BLOCKERS; i++) {
		rep->blockers[i].b = b[i];
		hooks_explain_blocker(old_p, new_p, &b[i], relabel,
				      rep->blockers[i].text,
				      sizeof(rep->blockers[i].text));
	}
}

static const char *host_err(enum acm_err e)
{
	switch (e) {
	case ACM_E_NOLABEL:
		return "a domain or resource row is not a label of the "
		       "running policy";
	case ACM_E_STATE:
		return "a domid appears twice among the running domains";
	default:
		return acm_strerror(e);
	}
}

static bool host_ok(const struct hooks_host *h)
{
	return h && (h->doms || !h->n_doms) && (h->shares || !h->n_shares) &&
	       (h->res || !h->n_res);
}

/* Fold the statistics of the policy being replaced into the totals. */
static void carry_stats(struct hooks_state *hs, const struct acm_ctx *old)
{
	struct acm_hook_stats s;
	unsigned h;

	for (h = 0; h < ACM_HOOK__COUNT; h++) {
		acm_stats(old, (enum acm_hook)h, &s);
		hs->engine_past[h].evaluated += s.evaluated;
		hs->engine_past[h].denied += s.denied;
		hs->engine_past[h].cache_hits += s.cache_hits;
	}
}

/* ------------------------------------------------------------ update */

int hooks_policy_update(struct hooks_state *hs, const void *blob, size_t len,
			const struct hooks_host *host, unsigned flags,
			struct hooks_report *rep)
{
	struct acm_blocker bl[HOOKS_MAX_BLOCKERS];
	struct acm_domain_ref *moved = NULL;
	struct hooks_policy *old, *pol = NULL;
	acm_row_t *row_map = NULL;
	void *scratch = NULL;
	char what[HOOKS_NAME_MAX + 32];
	size_t scratch_len, n_bl = 0, i;
	enum acm_err e;
	int err;

	if (!hs || !rep)
		return -EINVAL;
	report_reset(rep);
	if (!hs->pol)
		return first_load(hs, blob, len, flags, rep);
	if (!host_ok(host)) {
		say(rep, "update: the running domains, shares and resources "
			 "must be given");
		return -EINVAL;
	}
	old = hs->pol;
	err = policy_build(hs, blob, len, &pol, rep);
	if (err)
		return err;
	describe(what, sizeof(what), pol);

	err = -ENOMEM;
	scratch_len = acm_update_scratch_size(old->p, pol->p, host->n_doms);
	scratch = scratch_len ? alloc_aligned(8u, scratch_len) : NULL;
	row_map = calloc(old->info.n_labels ? old->info.n_labels : 1,
			 sizeof(*row_map));
	if (!scratch || !row_map) {
		say(rep, "out of memory validating the update");
		goto out;
	}
	e = acm_update_validate(old->p, pol->p, host->doms, host->n_doms,
				host->shares, host->n_shares, host->res,
				host->n_res, row_map, bl, HOOKS_MAX_BLOCKERS,
				&n_bl, scratch, scratch_len);
	if (e != ACM_OK) {
		say(rep, "update: bad host state: %s", host_err(e));
		err = -EINVAL;
		goto out;
	}
	if (n_bl) {
		copy_blockers(rep, old->p, pol->p, bl, n_bl, false);
		say(rep, "update to %s blocked: %zu problem%s", what, n_bl,
		    n_bl == 1 ? "" : "s");
		err = -EBUSY;
		goto out;
	}
	if (flags & HOOKS_DRY_RUN) {
		say(rep, "update to %s would succeed (dry run)", what);
		err = 0;
		goto out;
	}

	/* The running domains in their new rows, which the validation just
	 * proved all exist and may run together. */
	moved = calloc(host->n_doms ? host->n_doms : 1, sizeof(*moved));
	if (!moved) {
		say(rep, "out of memory applying the update");
		goto out;
	}
	for (i = 0; i < host->n_doms; i++) {
		moved[i].domid = host->doms[i].domid;
		moved[i].label = row_map[host->doms[i].label];
	}
	e = acm_update_adopt(pol->ctx, old->ctx, moved, host->n_doms);
	if (e != ACM_OK) {
		say(rep, "update: cannot adopt the running domains: %s",
		    acm_strerror(e));
		err = -EINVAL;
		goto out;
	}

	carry_stats(hs, old->ctx);
	rep->row_map = row_map;
	rep->n_row_map = old->info.n_labels;
	row_map = NULL;
	hs->pol = pol; /* the swap: one pointer */
	pol = NULL;
	hooks_policy_free(old);
	/* Every running domain is now accounted under the new policy. */
	hs->n_untracked = 0;
	rep->generation = acm_ctx_generation(hs->pol->ctx);
	say(rep, "updated to %s, generation %" PRIu64, what, rep->generation);
	err = 0;
out:
	free(moved);
	free(row_map);
	free(scratch);
	hooks_policy_free(pol);
	return err;
}

/* ------------------------------------------------------------ relabel */

int hooks_relabel(struct hooks_state *hs, const struct hooks_host *host,
		  uint32_t domid, acm_row_t new_label, unsigned flags,
		  struct hooks_report *rep)
{
	struct acm_blocker bl[HOOKS_MAX_BLOCKERS];
	const struct acm_policy *p;
	char t1[32], t2[32];
	void *scratch = NULL;
	size_t scratch_len, n_bl = 0, i;
	acm_row_t old_label = ACM_ROW_NONE;
	enum acm_err e;
	int err = -ENOMEM;

	if (!hs || !rep)
		return -EINVAL;
	report_reset(rep);
	if (!hs->pol) {
		say(rep, "relabel: no policy is loaded");
		return -ENOENT;
	}
	if (!host_ok(host)) {
		say(rep, "relabel: the running domains, shares and resources "
			 "must be given");
		return -EINVAL;
	}
	p = hs->pol->p;
	scratch_len = acm_update_scratch_size(p, p, host->n_doms);
	scratch = scratch_len ? alloc_aligned(8u, scratch_len) : NULL;
	if (!scratch) {
		say(rep, "out of memory validating the relabel");
		goto out;
	}
	e = acm_relabel_validate(
		hs->pol->ctx, host->doms, host->n_doms, host->shares,
		host->n_shares, host->res, host->n_res, domid, new_label, bl,
		HOOKS_MAX_BLOCKERS, &n_bl, scratch, scratch_len);
	if (e != ACM_OK) {
		say(rep, "relabel of domain %" PRIu32 ": %s", domid,
		    e == ACM_E_NOLABEL &&
				    acm_label_kind(p, new_label) != ACM_LABEL_VM
			    ? "the new label is not a VM label of the policy"
			    : host_err(e));
		err = -EINVAL;
		goto out;
	}
	for (i = 0; i < host->n_doms; i++)
		if (host->doms[i].domid == domid)
			old_label = host->doms[i].label;
	if (n_bl) {
		copy_blockers(rep, p, p, bl, n_bl, true);
		say(rep,
		    "relabel of domain %" PRIu32 " to '%s' blocked: %zu "
		    "problem%s",
		    domid, hooks_row_name(p, new_label, t1, sizeof(t1)), n_bl,
		    n_bl == 1 ? "" : "s");
		err = -EBUSY;
		goto out;
	}
	if (flags & HOOKS_DRY_RUN) {
		say(rep,
		    "relabel of domain %" PRIu32 " from '%s' to '%s' "
		    "would succeed (dry run)",
		    domid, hooks_row_name(p, old_label, t1, sizeof(t1)),
		    hooks_row_name(p, new_label, t2, sizeof(t2)));
		err = 0;
		goto out;
	}
	/* A domain the Chinese Wall never accounted moves no counters; the
	 * cache is dropped either way. */
	if (hooks_untracked_has(hs, domid))
		acm_ctx_invalidate(hs->pol->ctx);
	else
		acm_relabel_apply(hs->pol->ctx, old_label, new_label);
	rep->generation = acm_ctx_generation(hs->pol->ctx);
	say(rep,
	    "domain %" PRIu32 " relabelled from '%s' to '%s', "
	    "generation %" PRIu64,
	    domid, hooks_row_name(p, old_label, t1, sizeof(t1)),
	    hooks_row_name(p, new_label, t2, sizeof(t2)), rep->generation);
	err = 0;
out:
	free(scratch);
	return err;
}
