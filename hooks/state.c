/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.c - the hooks_state: creation with its configuration, the mode,
 * queries on the loaded policy, statistics and names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks_impl.h"

static int config_fill(struct hooks_config *c, const struct hooks_config *in)
{
	if (in)
		*c = *in;
	else
		*c = (struct hooks_config){0};
	if (c->mode != HOOKS_ENFORCING && c->mode != HOOKS_PERMISSIVE)
		return -EINVAL;
	if (c->no_cache)
		c->cache_slots = 0;
	else if (!c->cache_slots)
		c->cache_slots = HOOKS_CACHE_DEFAULT;
	else if (c->cache_slots & (c->cache_slots - 1u))
		return -EINVAL; /* the engine wants a power of two */
	if (!c->audit_ring)
		c->audit_ring = HOOKS_RING_DEFAULT;
	if (c->audit_ring > HOOKS_RING_MAX)
		return -EINVAL;
	if (!c->rate_burst)
		c->rate_burst = HOOKS_BURST_DEFAULT;
	if (!c->rate_interval_ms)
		c->rate_interval_ms = HOOKS_INTERVAL_DEFAULT;
	return 0;
}

int hooks_state_new(struct hooks_state **out, const struct hooks_config *cfg)
{
	struct hooks_state *hs;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	err = config_fill(&hs->cfg, cfg);
	if (err)
		goto fail;
	if (hs->cfg.audit_log) {
		hs->audit_log_path = strdup(hs->cfg.audit_log);
		if (!hs->audit_log_path) {
			err = -ENOMEM;
			goto fail;
		}
		hs->cfg.audit_log = hs->audit_log_path;
	}
	err = hooks_audit_init(&hs->audit, &hs->cfg, hs->audit_log_path);
	if (err)
		goto fail;
	hs->mode = hs->cfg.mode;
	hooks_strlcpy(hs->no_policy_why, "no policy was loaded",
		      sizeof(hs->no_policy_why));
	*out = hs;
	return 0;
fail:
	free(hs->audit_log_path);
	free(hs);
	return err;
}

void hooks_state_free(struct hooks_state *hs)
{
	if (!hs)
		return;
	hooks_policy_free(hs->pol);
	hooks_audit_fini(&hs->audit);
	free(hs->audit_log_path);
	free(hs);
}

void hooks_set_mode(struct hooks_state *hs, enum hooks_mode mode)
{
	if (hs && (mode == HOOKS_ENFORCING || mode == HOOKS_PERMISSIVE))
		hs->mode = mode;
}

void hooks_set_dry_run(struct hooks_state *hs, bool on)
{
	if (hs)
		hs->dry_run = on;
}

enum hooks_mode hooks_get_mode(const struct hooks_state *hs)
{
	return hs ? hs->mode : HOOKS_ENFORCING;
}

const char *hooks_mode_name(enum hooks_mode mode)
{
	switch (mode) {
	case HOOKS_ENFORCING:
		return "enforcing";
	case HOOKS_PERMISSIVE:
		return "permissive";
	}
	return "unknown";
}

const char *hooks_reason_name(enum hooks_reason r)
{
	switch (r) {
	case HOOKS_R_ENGINE:
		return "engine";
	case HOOKS_R_NO_POLICY:
		return "no policy";
	case HOOKS_R_RELEASE:
		return "release";
	case HOOKS_R_BAD_ARGUMENT:
		return "bad argument";
	case HOOKS_R_UNTRACKED:
		return "untracked";
	}
	return "unknown";
}

/* ------------------------------------------------------------ queries */

bool hooks_has_policy(const struct hooks_state *hs)
{
	return hs && hs->pol;
}

const struct acm_policy *hooks_policy(const struct hooks_state *hs)
{
	return hs && hs->pol ? hs->pol->p : NULL;
}

uint64_t hooks_generation(const struct hooks_state *hs)
{
	return hs && hs->pol ? acm_ctx_generation(hs->pol->ctx) : 0;
}

const char *hooks_no_policy_reason(const struct hooks_state *hs)
{
	if (!hs)
		return "no hooks state";
	return hs->pol ? "" : hs->no_policy_why;
}

acm_row_t hooks_label_find(const struct hooks_state *hs,
			   enum acm_label_kind kind, const char *name)
{
	const struct acm_policy *p = hooks_policy(hs);

	if (!p)
		return ACM_ROW_NONE;
	if (!name || !*name)
		name = ACM_UNLABELED;
	return acm_label_find(p, kind, name);
}

const char *hooks_label_name(const struct hooks_state *hs, acm_row_t row)
{
	const struct acm_policy *p = hooks_policy(hs);

	return p ? acm_label_name(p, row) : NULL;
}

acm_row_t hooks_bootstrap_label(const struct hooks_state *hs)
{
	return hs && hs->pol ? hs->pol->info.bootstrap : ACM_ROW_NONE;
}

/* ------------------------------------------------------------ stats */

void hooks_stats(const struct hooks_state *hs, enum hooks_id id,
		 struct hooks_stats *out)
{
	const struct hooks_hook_info *h = hooks_hook_info(id);
	const struct hooks_counters *c;
	const struct acm_hook_stats *past, *dry;
	struct acm_hook_stats now = {0, 0, 0};

	if (!out)
		return;
	*out = (struct hooks_stats){0};
	if (!hs || !h)
		return;
	c = &hs->counters[id];
	out->calls = c->calls;
	out->permitted = c->permitted;
	out->denied = c->denied;
	out->would_deny = c->would_deny;
	out->no_policy = c->no_policy;
	out->suppressed = c->suppressed;
	past = &hs->engine_past[h->acm_hook];
	if (hs->pol)
		acm_stats(hs->pol->ctx, h->acm_hook, &now);
	dry = &hs->engine_dry[h->acm_hook];
	out->engine.evaluated =
		past->evaluated + now.evaluated - dry->evaluated;
	out->engine.denied = past->denied + now.denied - dry->denied;
	out->engine.cache_hits =
		past->cache_hits + now.cache_hits - dry->cache_hits;
}
