/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * table.c - the one hook table, the call wrappers, and the decision every
 * wrapper runs: generated from hooks.def, like Xen's xsm hooks.h/dummy.h.
 *
 * What makes a hook that is not implemented fail the build rather than a
 * guest:
 *   - the table entry of a line uses KIND_<kind>, DEFAULT_<default> and
 *     ACM_HOOK_<acm_hook>: a kind, default or engine hook that does not
 *     exist is an undeclared identifier;
 *   - each wrapper's body is BODY_<kind>: a kind without an evaluator has
 *     no such macro;
 *   - the engine hook must be one the kind's evaluator really uses, create
 *     must default to deny (fail-closed) and releasing kinds to permit:
 *     static assertions, per line.
 * decide() then switches over every kind without a default case, so a new
 * kind left out of it is a -Wswitch error.
 */
#include <errno.h>
#include <string.h>

#include "hooks/hooks_impl.h"

#define KIND_create    HOOKS_KIND_CREATE
#define KIND_destroy   HOOKS_KIND_DESTROY
#define KIND_share     HOOKS_KIND_SHARE
#define KIND_resource  HOOKS_KIND_RESOURCE
#define KIND_authorize HOOKS_KIND_AUTHORIZE
#define KIND_introduce HOOKS_KIND_INTRODUCE
#define KIND_none      HOOKS_KIND_NONE

#define DEFAULT_permit HOOKS_PERMIT
#define DEFAULT_deny   HOOKS_DENY

static const struct hooks_hook_info hook_table[HOOKS_ID__COUNT] = {
#define HOOK(name, kind, acm_hook, dflt)                                       \
	[HOOKS_ID_##name] = {#name, KIND_##kind, ACM_HOOK_##acm_hook,          \
			     DEFAULT_##dflt},
#include "hooks/hooks.def"
#undef HOOK
};

/* Which engine hooks each kind's evaluator can account to. */
#define FITS_create(a)	  ((a) == ACM_HOOK_DOMAIN_CREATE)
#define FITS_destroy(a)	  ((a) == ACM_HOOK_DOMAIN_DESTROY)
#define FITS_resource(a)  ((a) == ACM_HOOK_RESOURCE_USE)
#define FITS_authorize(a) ((a) == ACM_HOOK_HOST_AUTHORIZE)
#define FITS_introduce(a) ((a) == ACM_HOOK_XS_INTRODUCE)
#define FITS_share(a)                                                          \
	((a) != ACM_HOOK_DOMAIN_CREATE && (a) != ACM_HOOK_DOMAIN_DESTROY &&    \
	 (a) != ACM_HOOK_RESOURCE_USE && (a) != ACM_HOOK_HOST_AUTHORIZE &&     \
	 (a) < ACM_HOOK__COUNT)
#define FITS_none(a) ((a) < ACM_HOOK__COUNT)

/* Without a policy: creating is refused, releasing is allowed. */
#define DEFAULT_OK_create(d)	((d) == HOOKS_DENY)
#define DEFAULT_OK_destroy(d)	((d) == HOOKS_PERMIT)
#define DEFAULT_OK_none(d)	((d) == HOOKS_PERMIT)
#define DEFAULT_OK_share(d)	1
#define DEFAULT_OK_resource(d)	1
#define DEFAULT_OK_authorize(d) 1
#define DEFAULT_OK_introduce(d) 1

#define HOOK(name, kind, acm_hook, dflt)                                       \
	_Static_assert(FITS_##kind(ACM_HOOK_##acm_hook),                       \
		       "hooks.def: " #name ": engine hook " #acm_hook          \
		       " is not one a " #kind " hook decides");                \
	_Static_assert(DEFAULT_OK_##kind(DEFAULT_##dflt),                      \
		       "hooks.def: " #name ": a " #kind " hook may not "       \
		       "default to " #dflt);
#include "hooks/hooks.def"
#undef HOOK

const struct hooks_hook_info *hooks_hook_info(enum hooks_id id)
{
	if ((unsigned)id >= HOOKS_ID__COUNT)
		return NULL;
	return &hook_table[id];
}

enum hooks_id hooks_hook_find(const char *name)
{
	unsigned i;

	if (!name)
		return HOOKS_ID__COUNT;
	for (i = 0; i < HOOKS_ID__COUNT; i++)
		if (strcmp(hook_table[i].name, name) == 0)
			return (enum hooks_id)i;
	return HOOKS_ID__COUNT;
}

const char *hooks_kind_name(enum hooks_kind kind)
{
	switch (kind) {
	case HOOKS_KIND_CREATE:
		return "create";
	case HOOKS_KIND_DESTROY:
		return "destroy";
	case HOOKS_KIND_SHARE:
		return "share";
	case HOOKS_KIND_RESOURCE:
		return "resource";
	case HOOKS_KIND_AUTHORIZE:
		return "authorize";
	case HOOKS_KIND_INTRODUCE:
		return "introduce";
	case HOOKS_KIND_NONE:
		return "none";
	}
	return "unknown";
}

/* ------------------------------------------------------------ deciding */

/* One call: its parties, and what was decided. */
struct call {
	enum hooks_id id;
	const struct hooks_hook_info *h;
	const struct hooks_subject *subj;
	const struct hooks_subject *obj; /* peer, host or xenstore */
	const struct hooks_resource *res;
	enum hooks_decision decision;
	enum hooks_reason reason;
	struct acm_verdict v; /* reason == HOOKS_R_ENGINE */
};

static void party(struct hooks_audit_party *pt, const struct acm_policy *p,
		  uint32_t domid, acm_row_t row)
{
	const char *name = p ? acm_label_name(p, row) : NULL;

	pt->domid = domid;
	pt->row = row;
	hooks_strlcpy(pt->label, name ? name : "", sizeof(pt->label));
}

/* Builds and emits the record of call `c`.  Only reached for denials and,
 * when configured, permits: the permit fast path copies no string. */
static bool record(struct hooks_state *hs, const struct call *c, bool enforced)
{
	const struct hooks_policy *pol = hs->pol;
	const struct acm_policy *p = pol ? pol->p : NULL;
	struct hooks_audit_record r;
	acm_row_t a, b;

	memset(&r, 0, sizeof(r));
	hooks_now_ns(hs, CLOCK_REALTIME, &r.time);
	r.hook = c->id;
	r.decision = c->decision;
	r.enforced = enforced;
	r.reason = c->reason;
	r.acm_reason = c->v.reason;
	r.generation = pol ? acm_ctx_generation(pol->ctx) : 0;
	hooks_strlcpy(r.policy, pol ? pol->info.name : "", sizeof(r.policy));
	if (c->subj)
		party(&r.subject, p, c->subj->domid, c->subj->label);
	else
		party(&r.subject, NULL, HOOKS_DOMID_NONE, ACM_ROW_NONE);
	if (c->obj) {
		r.has_object = true;
		party(&r.object, p, c->obj->domid, c->obj->label);
	} else if (c->res) {
		r.has_object = true;
		party(&r.object, p, HOOKS_DOMID_NONE, c->res->label);
		r.res_class = c->res->cls;
		hooks_strlcpy(r.resource, c->res->name ? c->res->name : "",
			      sizeof(r.resource));
	}

	switch (c->reason) {
	case HOOKS_R_ENGINE:
		/* The engine's operands, in its order: host first for
		 * authorize, the subject first otherwise. */
		a = c->subj->label;
		b = c->obj   ? c->obj->label
		    : c->res ? c->res->label
			     : ACM_ROW_NONE;
		if (c->h->kind == HOOKS_KIND_AUTHORIZE) {
			a = c->obj->label;
			b = c->subj->label;
		}
		hooks_explain_verdict(p, c->h->kind, &c->v, a, b, r.detail,
				      sizeof(r.detail));
		break;
	case HOOKS_R_NO_POLICY:
		hooks_appendf(r.detail, sizeof(r.detail),
			      "no valid policy loaded (fail-closed): %s",
			      hs->no_policy_why);
		break;
	case HOOKS_R_RELEASE:
		hooks_appendf(r.detail, sizeof(r.detail),
			      "releasing access is always permitted");
		break;
	case HOOKS_R_BAD_ARGUMENT:
		hooks_appendf(r.detail, sizeof(r.detail),
			      "the caller passed no %s",
			      c->subj ? "object" : "subject");
		break;
	case HOOKS_R_UNTRACKED:
		hooks_appendf(r.detail, sizeof(r.detail),
			      "permissive mode, but %u domains already run "
			      "untracked by the Chinese Wall: denied",
			      HOOKS_UNTRACKED_MAX);
		break;
	}
	return hooks_audit_emit(hs, &r);
}

static bool args_ok(const struct call *c)
{
	switch (c->h->kind) {
	case HOOKS_KIND_CREATE:
	case HOOKS_KIND_DESTROY:
		return c->subj;
	case HOOKS_KIND_RESOURCE:
		return c->subj && c->res;
	case HOOKS_KIND_SHARE:
	case HOOKS_KIND_AUTHORIZE:
	case HOOKS_KIND_INTRODUCE:
	case HOOKS_KIND_NONE:
		return c->subj && c->obj;
	}
	return false;
}

static void set_engine(struct call *c)
{
	c->reason = HOOKS_R_ENGINE;
	c->decision = c->v.decision == ACM_PERMIT ? HOOKS_PERMIT : HOOKS_DENY;
}

static void set_release(struct call *c)
{
	c->reason = HOOKS_R_RELEASE;
	c->decision = HOOKS_PERMIT;
}

/* Asks the engine (or applies the state change) for call `c` under the
 * loaded policy. */
static void evaluate(struct hooks_state *hs, struct call *c)
{
	struct acm_ctx *ctx = hs->pol->ctx;
	enum acm_hook ah = c->h->acm_hook;

	switch (c->h->kind) {
	case HOOKS_KIND_CREATE:
		acm_domain_create_prepare(ctx, c->subj->label, &c->v);
		set_engine(c);
		return;
	case HOOKS_KIND_DESTROY:
		/* A domain the engine never accounted releases nothing. */
		if (!hooks_untracked_del(hs, c->subj->domid))
			acm_domain_destroy(ctx, c->subj->label);
		set_release(c);
		return;
	case HOOKS_KIND_SHARE:
	case HOOKS_KIND_INTRODUCE:
		acm_decide_share(ctx, ah, c->subj->label, c->obj->label, &c->v);
		set_engine(c);
		return;
	case HOOKS_KIND_RESOURCE:
		acm_decide_resource(ctx, c->subj->label, c->res->label, &c->v);
		set_engine(c);
		return;
	case HOOKS_KIND_AUTHORIZE:
		acm_decide_authorize(ctx, c->obj->label, c->subj->label, &c->v);
		set_engine(c);
		return;
	case HOOKS_KIND_NONE:
		set_release(c);
		return;
	}
	/* Not reached: every kind is handled above (-Wswitch). */
	c->reason = HOOKS_R_BAD_ARGUMENT;
	c->decision = HOOKS_DENY;
}

static int decide(struct hooks_state *hs, struct call *c)
{
	/* A dry run counts into a scratch copy nobody reads. */
	struct hooks_counters scratch = {0};
	struct hooks_counters *cnt =
		hs->dry_run ? &scratch : &hs->counters[c->id];
	bool enforced;

	c->h = &hook_table[c->id];
	c->v = (struct acm_verdict){.type_a = ACM_TYPE_NONE,
				    .type_b = ACM_TYPE_NONE,
				    .set = UINT32_MAX};
	cnt->calls++;
	if (!args_ok(c)) {
		c->reason = HOOKS_R_BAD_ARGUMENT;
		c->decision = HOOKS_DENY;
	} else if (!hs->pol) {
		c->reason = HOOKS_R_NO_POLICY;
		c->decision = c->h->dflt;
		cnt->no_policy++;
	} else if (hs->dry_run) {
		struct acm_hook_stats *dry = &hs->engine_dry[c->h->acm_hook];
		struct acm_hook_stats a, b;

		acm_stats(hs->pol->ctx, c->h->acm_hook, &a);
		evaluate(hs, c);
		acm_stats(hs->pol->ctx, c->h->acm_hook, &b);
		dry->evaluated += b.evaluated - a.evaluated;
		dry->denied += b.denied - a.denied;
		dry->cache_hits += b.cache_hits - a.cache_hits;
	} else {
		evaluate(hs, c);
	}

	/* Permissive mode relaxes only the policy's own denials: without a
	 * policy, or with a broken call, there is nothing to relax to. */
	enforced = c->decision == HOOKS_DENY &&
		   (hs->mode == HOOKS_ENFORCING || c->reason != HOOKS_R_ENGINE);
	if (c->decision == HOOKS_DENY && !enforced &&
	    c->h->kind == HOOKS_KIND_CREATE &&
	    !hooks_untracked_add(hs, c->subj->domid)) {
		c->reason = HOOKS_R_UNTRACKED;
		enforced = true;
	}

	if (hs->dry_run)
		return enforced ? -EACCES : 0; /* a question leaves no record */
	if (c->decision == HOOKS_PERMIT)
		cnt->permitted++;
	else if (enforced)
		cnt->denied++;
	else
		cnt->would_deny++;
	if ((c->decision == HOOKS_DENY || hs->cfg.audit_permits) &&
	    !record(hs, c, enforced))
		cnt->suppressed++;
	return enforced ? -EACCES : 0;
}

/* ------------------------------------------------------------ wrappers */

static int run(struct hooks_state *hs, enum hooks_id id,
	       const struct hooks_subject *subj,
	       const struct hooks_subject *obj,
	       const struct hooks_resource *res)
{
	struct call c = {.id = id, .subj = subj, .obj = obj, .res = res};

	if (!hs)
		return -EACCES; /* fail closed even on a caller's bug */
	return decide(hs, &c);
}

/* Each kind's wrapper body: which arguments are subject, other domain and
 * resource.  A kind without a body here does not compile. */
#define BODY_create(name)                                                      \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, NULL, NULL);             \
	}
#define BODY_destroy(name)                                                     \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, NULL, NULL);             \
	}
#define BODY_share(name)                                                       \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, peer, NULL);             \
	}
#define BODY_resource(name)                                                    \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, NULL, res);              \
	}
#define BODY_authorize(name)                                                   \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, host, NULL);             \
	}
#define BODY_introduce(name)                                                   \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, xenstore, NULL);         \
	}
#define BODY_none(name)                                                        \
	{                                                                      \
		return run(hs, HOOKS_ID_##name, subj, peer, NULL);             \
	}

#define HOOK(name, kind, acm_hook, dflt)                                       \
	int hooks_##name(struct hooks_state *hs, HOOKS_ARGS_##kind)            \
		BODY_##kind(name)
#include "hooks/hooks.def"
#undef HOOK

int hooks_share(struct hooks_state *hs, enum hooks_id id,
		const struct hooks_subject *subj,
		const struct hooks_subject *peer)
{
	const struct hooks_hook_info *info = hooks_hook_info(id);

	/* Only hooks between two domains take this path; anything else is a
	 * caller's bug, denied all the same. */
	if (!info ||
	    (info->kind != HOOKS_KIND_SHARE && info->kind != HOOKS_KIND_NONE))
		return -EACCES;
	return run(hs, id, subj, peer, NULL);
}

void hooks_domain_create_abort(struct hooks_state *hs,
			       const struct hooks_subject *subj)
{
	if (!hs || !subj || !hs->pol)
		return;
	if (!hooks_untracked_del(hs, subj->domid))
		acm_domain_create_rollback(hs->pol->ctx, subj->label);
}
