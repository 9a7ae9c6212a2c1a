/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * explain.c - decisions and update blockers in words, with the names the
 * policy gives to rows, types and conflict sets, so an audit record or a
 * dry run is readable without the policy at hand (records outlive it).
 */
#include <inttypes.h>
#include <stdio.h>

#include "hooks/hooks_impl.h"

const char *hooks_row_name(const struct acm_policy *p, acm_row_t row, char *tmp,
			   size_t len)
{
	const char *name = p ? acm_label_name(p, row) : NULL;

	if (name)
		return name;
	if (row == ACM_ROW_NONE)
		snprintf(tmp, len, "(no label)");
	else
		snprintf(tmp, len, "(row %" PRIu32 ")", row);
	return tmp;
}

static const char *ste_name(const struct acm_policy *p, acm_type_t t)
{
	const char *s = p ? acm_ste_type_name(p, t) : NULL;

	return s ? s : "?";
}

static const char *cw_name(const struct acm_policy *p, acm_type_t t)
{
	const char *s = p ? acm_cw_type_name(p, t) : NULL;

	return s ? s : "?";
}

static const char *set_name(const struct acm_policy *p, uint32_t set)
{
	const char *s = p ? acm_conflict_set_name(p, set) : NULL;

	return s ? s : "?";
}

void hooks_explain_verdict(const struct acm_policy *p, enum hooks_kind kind,
			   const struct acm_verdict *v, acm_row_t a,
			   acm_row_t b, char *buf, size_t len)
{
	char ta[32], tb[32];
	const char *na = hooks_row_name(p, a, ta, sizeof(ta));
	const char *nb = hooks_row_name(p, b, tb, sizeof(tb));

	buf[0] = '\0';
	switch (v->reason) {
	case ACM_R_SHARED_TYPE:
		hooks_appendf(buf, len, "'%s' and '%s' share STE type '%s'", na,
			      nb, ste_name(p, v->type_a));
		return;
	case ACM_R_NO_SHARED_TYPE:
		hooks_appendf(buf, len,
			      "'%s' and '%s' have no STE type in common", na,
			      nb);
		return;
	case ACM_R_SUPERSET:
		hooks_appendf(buf, len,
			      "host label '%s' holds every STE type of '%s'",
			      na, nb);
		return;
	case ACM_R_NOT_SUPERSET:
		hooks_appendf(buf, len,
			      "host label '%s' lacks STE type '%s' of '%s'", na,
			      ste_name(p, v->type_a), nb);
		return;
	case ACM_R_INACCESSIBLE:
		hooks_appendf(buf, len,
			      "resource label '%s' may be used by no domain",
			      nb);
		return;
	case ACM_R_CHWALL_OK:
		hooks_appendf(buf, len, "'%s' conflicts with no running domain",
			      na);
		return;
	case ACM_R_CHWALL_CONFLICT:
		hooks_appendf(buf, len,
			      "Chinese Wall: type '%s' of '%s' conflicts with "
			      "running type '%s' (conflict set '%s')",
			      cw_name(p, v->type_a), na, cw_name(p, v->type_b),
			      set_name(p, v->set));
		return;
	case ACM_R_CHWALL_HISTORY:
		hooks_appendf(buf, len,
			      "Chinese Wall history: type '%s' of '%s' was "
			      "excluded by a domain that ran before",
			      cw_name(p, v->type_a), na);
		return;
	case ACM_R_BAD_LABEL:
		hooks_appendf(buf, len,
			      "label '%s' or '%s' is not a label of the right "
			      "kind in the policy",
			      na, nb);
		return;
	case ACM_R_UNLABELED_REFUSED:
		hooks_appendf(buf, len,
			      "a party has no label and the policy has no "
			      "__UNLABELED__ label for it");
		return;
	case ACM_R_NO_POLICY_COMPONENT:
		hooks_appendf(buf, len,
			      "the policy has no %s component: nothing is "
			      "restricted",
			      kind == HOOKS_KIND_CREATE ? "Chinese Wall"
							: "STE");
		return;
	case ACM_R__COUNT:
		break;
	}
	hooks_appendf(buf, len, "%s", acm_reason_name(v->reason));
}

static const char *hook_words(enum acm_hook h)
{
	return acm_hook_name(h);
}

void hooks_explain_blocker(const struct acm_policy *old_p,
			   const struct acm_policy *new_p,
			   const struct acm_blocker *b, bool relabel, char *buf,
			   size_t len)
{
	struct acm_policy_info o = {0}, n = {0};
	char t1[32], t2[32];
	const char *from;
	const char *old_name =
		hooks_row_name(old_p, b->old_label, t1, sizeof(t1));
	const char *new_name =
		hooks_row_name(new_p, b->new_label, t2, sizeof(t2));

	buf[0] = '\0';
	switch (b->kind) {
	case ACM_B_VERSION:
		acm_policy_info(old_p, &o);
		acm_policy_info(new_p, &n);
		hooks_appendf(buf, len,
			      "policy '%s' %" PRIu32 ".%" PRIu32
			      " may not replace '%s' %" PRIu32 ".%" PRIu32
			      ": its FromPolicy must name the running policy "
			      "and version, and its version must be greater",
			      n.name, n.version_major, n.version_minor, o.name,
			      o.version_major, o.version_minor);
		return;
	case ACM_B_BAD_RENAME:
		from = new_p ? acm_label_from(new_p, b->new_label) : NULL;
		hooks_appendf(buf, len,
			      "label '%s' renames '%s', which the running "
			      "policy does not have or another label renames",
			      new_name, from ? from : "?");
		return;
	case ACM_B_LABEL_IN_USE:
		hooks_appendf(buf, len,
			      "domain %" PRIu32 " runs with label '%s', which "
			      "the new policy removes",
			      b->domid, old_name);
		return;
	case ACM_B_RESOURCE_IN_USE:
		hooks_appendf(buf, len,
			      "domain %" PRIu32 " uses a resource labelled "
			      "'%s', which the new policy removes",
			      b->domid, old_name);
		return;
	case ACM_B_CHWALL_CONFLICT:
		if (b->peer_domid != UINT32_MAX)
			hooks_appendf(buf, len,
				      "domains %" PRIu32 " and %" PRIu32
				      " would conflict: type '%s' and type "
				      "'%s' (conflict set '%s')",
				      b->domid, b->peer_domid,
				      cw_name(new_p, b->type_a),
				      cw_name(new_p, b->type_b),
				      set_name(new_p, b->set));
		else
			hooks_appendf(buf, len,
				      "domain %" PRIu32 " would hold type "
				      "'%s', which the Chinese Wall excludes",
				      b->domid, cw_name(new_p, b->type_a));
		return;
	case ACM_B_SHARING:
		hooks_appendf(buf, len,
			      "the live %s between domains %" PRIu32
			      " and %" PRIu32 " would lose its common STE type",
			      hook_words(b->hook), b->domid, b->peer_domid);
		return;
	case ACM_B_RESOURCE:
		hooks_appendf(buf, len,
			      "domain %" PRIu32 " would lose access to its "
			      "resource labelled '%s'",
			      b->domid, new_name);
		return;
	case ACM_B_BOOTSTRAP:
		if (relabel)
			hooks_appendf(buf, len,
				      "dom0's new label would not cover domain "
				      "%" PRIu32 " (it lacks STE type '%s')",
				      b->peer_domid != UINT32_MAX
					      ? b->peer_domid
					      : b->domid,
				      ste_name(new_p, b->type_a));
		else
			hooks_appendf(buf, len,
				      "dom0's label '%s' would vanish",
				      old_name);
		return;
	case ACM_B_DOMAIN_UNKNOWN:
		hooks_appendf(buf, len,
			      "domain %" PRIu32 " is not among the running "
			      "domains given",
			      b->domid);
		return;
	}
	hooks_appendf(buf, len, "%s", acm_blocker_name(b->kind));
}
