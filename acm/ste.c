/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ste.c - Simple Type Enforcement: the uncached evaluations behind the
 * sharing, resource and authorization decisions (reference/acm.md §3.4),
 * shared by the decision hooks and the update/relabel checks.
 *
 * Cost: flat in the number of types and labels.  Every test starts from the
 * two labels' 16-byte summaries (struct acm_ste_summary), which together
 * with the type lists stay cache-resident for policies of many thousand
 * labels; the dense rows in the blob are read only where a row is the
 * cheaper form:
 *   - signatures that do not meet: nothing shared, decided at once - most
 *     denials between labels of a few types each;
 *   - two short lists (labels of a few types): the types of one on a bit
 *     both signatures have, looked for in the other, without a branch per
 *     element (first_common_small);
 *   - two longer lists of similar length: a merge, stopping at the first
 *     common type, which is the lowest;
 *   - one list much shorter than the other label's types (a domain against
 *     dom0's label, which holds them all): the short list's types probed in
 *     the other label's row, one byte each, in ascending order;
 *   - two labels without lists (many types each): their rows ANDed word by
 *     word, which for such labels is cheaper than a merge would be.
 * Every path finds the lowest shared (or missing) type, so verdicts and
 * their reasons do not depend on which path ran.
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

/* A list more than this many times longer than the other is not merged:
 * the short one's types are probed in the long one's row instead. */
#define MERGE_RATIO 8u
/* Lists this short are not merged either: see first_common_small. */
#define SMALL_LIST 16u
_Static_assert(SMALL_LIST <= 32u, "candidates are a u32 mask");
_Static_assert(SMALL_LIST <= ACM_STE_LIST_MIN, "short lists always exist");

static bool listed(const struct acm_policy *p, const struct acm_ste_summary *s)
{
	return acm_ste_listed(s->n, p->ste_words);
}

static const uint32_t *list_of(const struct acm_policy *p,
			       const struct acm_ste_summary *s)
{
	return p->ste_list + s->first;
}

/* Is t one of row's types?  The signature answers "no" for most types
 * without touching the row. */
static bool has_type(const struct acm_policy *p, acm_row_t row,
		     const struct acm_ste_summary *s, acm_type_t t)
{
	return (s->sig & acm_ste_sig_bit(t)) &&
	       acm_bit(acm_ste_dense(p, row), t);
}

/* Lowest type of two ascending lists, false if they are disjoint. */
static bool merge_first(const uint32_t *x, const uint32_t *xe,
			const uint32_t *y, const uint32_t *ye, acm_type_t *t)
{
	uint32_t u, v;

	while (x < xe && y < ye) {
		u = *x;
		v = *y;
		if (u == v) {
			*t = u;
			return true;
		}
		x += u < v;
		y += v < u;
	}
	return false;
}

/*
 * Lowest type of the short lists x and y (at most SMALL_LIST each), whose
 * signatures share the bits `common`.  When they share no type, which is
 * the usual case here, the signatures met by a coincidence of a bit or
 * two: only x's types on a common bit are candidates, and each is looked
 * for in all of y.  The candidates are found without a branch per element,
 * and there is usually exactly one, so the usual outcome costs none of the
 * mispredicted branches a merge of two short lists would.
 */
static bool first_common_small(const uint32_t *x, uint32_t nx,
			       const uint32_t *y, uint32_t ny, uint64_t common,
			       acm_type_t *t)
{
	uint32_t cand = 0, i, j, u;
	bool found;

	for (i = 0; i < nx; i++)
		cand |= (uint32_t)((common & acm_ste_sig_bit(x[i])) != 0) << i;
	/* Ascending: the first candidate y has is the lowest shared type. */
	for (; cand; cand &= cand - 1u) {
		u = x[acm_ctz64(cand)];
		found = false;
		for (j = 0; j < ny; j++)
			found |= y[j] == u;
		if (found) {
			*t = u;
			return true;
		}
	}
	return false;
}

/* Lowest STE type rows a and b share; false if none. */
static bool first_shared_type(const struct acm_policy *p, acm_row_t a,
			      acm_row_t b, acm_type_t *t)
{
	const struct acm_ste_summary *sa = &p->ste[a], *sb = &p->ste[b];
	const uint32_t *x, *xe;
	const uint8_t *da, *db;
	uint64_t hit;
	uint32_t w;

	/* A third of the pairs get past the signatures, and then read their
	 * lists: ask for them now, while the signatures are compared, so a
	 * list in L2 costs no second wait.  A hint only: it cannot fault,
	 * and a label without a list just warms a neighbour's. */
	__builtin_prefetch(p->ste_list + sa->first);
	__builtin_prefetch(p->ste_list + sb->first);
	if (!(sa->sig & sb->sig))
		return false;
	/* From here on, a is the label with fewer types. */
	if (sa->n > sb->n) {
		const struct acm_ste_summary *ts = sa;
		acm_row_t tr = a;

		sa = sb, sb = ts;
		a = b, b = tr;
	}
	if (!listed(p, sa)) { /* then neither keeps a list */
		da = acm_ste_dense(p, a);
		db = acm_ste_dense(p, b);
		for (w = 0; w < p->ste_words; w++) {
			hit = acm_le64(da + (size_t)w * 8u) &
			      acm_le64(db + (size_t)w * 8u);
			if (hit) {
				*t = w * 64u + acm_ctz64(hit);
				return true;
			}
		}
		return false;
	}
	x = list_of(p, sa);
	xe = x + sa->n;
	if (sb->n <= SMALL_LIST)
		return first_common_small(x, sa->n, list_of(p, sb), sb->n,
					  sa->sig & sb->sig, t);
	if (listed(p, sb) && sb->n / MERGE_RATIO <= sa->n)
		return merge_first(x, xe, list_of(p, sb),
				   list_of(p, sb) + sb->n, t);
	/* Ascending: the first of a's types that b has is the lowest. */
	for (; x < xe; x++)
		if (has_type(p, b, sb, *x)) {
			*t = *x;
			return true;
		}
	return false;
}

/* Lowest STE type of `vm` that `host` lacks; false if host has them all. */
static bool first_missing_type(const struct acm_policy *p, acm_row_t host,
			       acm_row_t vm, acm_type_t *t)
{
	const struct acm_ste_summary *sh = &p->ste[host], *sv = &p->ste[vm];
	const uint32_t *x, *xe, *y, *ye;
	const uint8_t *dh, *dv;
	uint64_t missing;
	uint32_t w;

	if (!listed(p, sv)) {
		dh = acm_ste_dense(p, host);
		dv = acm_ste_dense(p, vm);
		for (w = 0; w < p->ste_words; w++) {
			missing = acm_le64(dv + (size_t)w * 8u) &
				  ~acm_le64(dh + (size_t)w * 8u);
			if (missing) {
				*t = w * 64u + acm_ctz64(missing);
				return true;
			}
		}
		return false;
	}
	x = list_of(p, sv);
	xe = x + sv->n;
	if (listed(p, sh) && sh->n / MERGE_RATIO <= sv->n) {
		/* Both ascending: walk the host's list alongside. */
		y = list_of(p, sh);
		ye = y + sh->n;
		for (; x < xe; x++) {
			while (y < ye && *y < *x)
				y++;
			if (y == ye || *y != *x) {
				*t = *x;
				return true;
			}
		}
		return false;
	}
	for (; x < xe; x++)
		if (!has_type(p, host, sh, *x)) {
			*t = *x;
			return true;
		}
	return false;
}

/* Lowest STE type of a label that has one. */
static acm_type_t lowest_type(const struct acm_policy *p, acm_row_t row)
{
	const struct acm_ste_summary *s = &p->ste[row];
	const uint8_t *d;
	uint64_t v;
	uint32_t w;

	if (listed(p, s))
		return list_of(p, s)[0];
	d = acm_ste_dense(p, row);
	for (w = 0; w < p->ste_words; w++) {
		v = acm_le64(d + (size_t)w * 8u);
		if (v)
			return w * 64u + acm_ctz64(v);
	}
	return ACM_TYPE_NONE; /* not reached: s->n > 0 */
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
	acm_type_t t;

	if (!acm_vm_row_ok(p, host, v) || !acm_vm_row_ok(p, vm, v))
		return;
	if (!(p->flags & ACM_BIN_F_STE)) { /* as for sharing, above */
		acm_verdict_set(v, ACM_PERMIT, ACM_R_NO_POLICY_COMPONENT);
		return;
	}
	if (first_missing_type(p, host, vm, &t)) {
		acm_verdict_set(v, ACM_DENY, ACM_R_NOT_SUPERSET);
		v->type_a = t;
		return;
	}
	/* A superset of an empty set shares nothing with it (Xen 2007-11:
	 * authorization also requires sharing). */
	if (!p->ste[vm].n) {
		acm_verdict_set(v, ACM_DENY, ACM_R_NO_SHARED_TYPE);
		return;
	}
	acm_verdict_set(v, ACM_PERMIT, ACM_R_SUPERSET);
	v->type_a = lowest_type(p, vm);
}
