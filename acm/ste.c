/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ste.c - Simple Type Enforcement: the uncached evaluations behind the
 * sharing, resource and authorization decisions (reference/acm.md §3.4),
 * shared by the decision hooks and the update/relabel checks.
 *
 * Cost: a label's STE set is kept as the list of its nonzero bitset words,
 * so a test walks the shorter of the two lists and probes the other
 * label's dense words in the blob: O(min nonzero words), one iteration for
 * the usual label of one or a few types, whatever the number of types.
 */
#include "acm/acm_private.h"

bool acm_vm_row_ok(const struct acm_policy *p, acm_row_t row,
		   struct acm_verdict *v)
{
	if (row == ACM_ROW_NONE) { /* unlabeled, and no __UNLABELED__ */
		acm_verdict_set(v, ACM_DENY, ACM_R_UNLABELED_REFUSED);
		return false;
	}
	if (!acm_is_vm(p, row)) {
		acm_verdict_set(v, ACM_DENY, ACM_R_BAD_LABEL);
		return false;
	}
	return true;
}

static bool resource_row_ok(const struct acm_policy *p, acm_row_t row,
			    struct acm_verdict *v)
{
	if (row == ACM_ROW_NONE) {
		acm_verdict_set(v, ACM_DENY, ACM_R_UNLABELED_REFUSED);
		return false;
	}
	if (!acm_is_resource(p, row)) {
		acm_verdict_set(v, ACM_DENY, ACM_R_BAD_LABEL);
		return false;
	}
	return true;
}

/* Lowest STE type rows a and b share; false if none. */
static bool first_shared_type(const struct acm_policy *p, acm_row_t a,
			      acm_row_t b, acm_type_t *t)
{
	const struct acm_label_rt *ra = &p->rt[a], *rb = &p->rt[b];
	const struct acm_sparse_word *w, *end;
	const uint8_t *dense;
	uint64_t hit;

	if (ra->ste_n > rb->ste_n) {
		const struct acm_label_rt *tmp = ra;

		ra = rb;
		rb = tmp;
		b = a;
	}
	dense = acm_ste_dense(p, b);
	w = p->ste_sparse + ra->ste_first;
	/* Ascending words: the first hit holds the lowest shared type. */
	for (end = w + ra->ste_n; w < end; w++) {
		hit = w->bits & acm_le64(dense + (size_t)w->index * 8u);
		if (hit) {
			*t = w->index * 64u + acm_ctz64(hit);
			return true;
		}
	}
	return false;
}

static void decide_shared(const struct acm_policy *p, acm_row_t a,
			  acm_row_t b, struct acm_verdict *v)
{
	acm_type_t t;

	if (first_shared_type(p, a, b, &t)) {
		acm_verdict_set(v, ACM_PERMIT, ACM_R_SHARED_TYPE);
		v->type_a = t;
	} else {
		acm_verdict_set(v, ACM_DENY, ACM_R_NO_SHARED_TYPE);
	}
}

void acm_ste_share(const struct acm_policy *p, acm_row_t a, acm_row_t b,
		   struct acm_verdict *v)
{
	if (!acm_vm_row_ok(p, a, v) || !acm_vm_row_ok(p, b, v))
		return;
	/*
	 * No STE component: permit.  Xen's Chinese-Wall-only policies did
	 * not mediate event channels or grants at all, and such a policy
	 * has no types to share; refusing would make every CHWALL-only
	 * policy (e.g. Xen's example_chwall_client_v1) unusable.  The
	 * reason says plainly that nothing was checked.
	 */
	if (!(p->flags & ACM_BIN_F_STE)) {
		acm_verdict_set(v, ACM_PERMIT, ACM_R_NO_POLICY_COMPONENT);
		return;
	}
	decide_shared(p, a, b, v);
}

void acm_ste_resource(const struct acm_policy *p, acm_row_t vm,
		      acm_row_t res, struct acm_verdict *v)
{
	if (!acm_vm_row_ok(p, vm, v) || !resource_row_ok(p, res, v))
		return;
	/* Whatever the components, this label means "nobody". */
	if (res == p->inaccessible) {
		acm_verdict_set(v, ACM_DENY, ACM_R_INACCESSIBLE);
		return;
	}
	if (!(p->flags & ACM_BIN_F_STE)) { /* as for sharing, above */
		acm_verdict_set(v, ACM_PERMIT, ACM_R_NO_POLICY_COMPONENT);
		return;
	}
	decide_shared(p, vm, res, v);
}

void acm_ste_authorize(const struct acm_policy *p, acm_row_t host,
		       acm_row_t vm, struct acm_verdict *v)
{
	const struct acm_label_rt *rv;
	const struct acm_sparse_word *w, *end;
	const uint8_t *dense;
	uint64_t missing;

	if (!acm_vm_row_ok(p, host, v) || !acm_vm_row_ok(p, vm, v))
		return;
	if (!(p->flags & ACM_BIN_F_STE)) { /* as for sharing, above */
		acm_verdict_set(v, ACM_PERMIT, ACM_R_NO_POLICY_COMPONENT);
		return;
	}
	rv = &p->rt[vm];
	dense = acm_ste_dense(p, host);
	w = p->ste_sparse + rv->ste_first;
	for (end = w + rv->ste_n; w < end; w++) {
		missing = w->bits & ~acm_le64(dense + (size_t)w->index * 8u);
		if (missing) {
			acm_verdict_set(v, ACM_DENY, ACM_R_NOT_SUPERSET);
			v->type_a = w->index * 64u + acm_ctz64(missing);
			return;
		}
	}
	/* A superset of an empty set shares nothing with it (Xen 2007-11:
	 * authorization also requires sharing). */
	if (!rv->ste_n) {
		acm_verdict_set(v, ACM_DENY, ACM_R_NO_SHARED_TYPE);
		return;
	}
	acm_verdict_set(v, ACM_PERMIT, ACM_R_SUPERSET);
	w = p->ste_sparse + rv->ste_first;
	v->type_a = w->index * 64u + acm_ctz64(w->bits);
}
