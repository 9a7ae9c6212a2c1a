/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * update.c - validating a live policy update or a relabel against the state
 * of the host (reference/acm.md §1.4, §4.3, §4.4).
 *
 * As in Xen, a change never revokes anything: it is refused unless every
 * running domain keeps a label, all of them may still run together (the
 * Chinese Wall recomputed from scratch, as if all were restarted), and
 * every live event channel, grant and resource stays allowed.  Unlike Xen,
 * the check does not stop at the first problem: it lists every blocker, so
 * a dry run tells the operator everything to fix at once.
 *
 * Only the caller's scratch memory is used (acm_update_scratch_size):
 *   (domid, index) pairs sorted by domid | rows of the domains in the
 *   policy checked | Chinese-Wall counters | history words.
 * Adopting a validated update or relabel (acm_update_adopt,
 * acm_relabel_apply) is Chinese-Wall bookkeeping: chwall.c.
 */
#include "acm/acm_private.h"

struct blockers {
	struct acm_blocker *v;
	size_t max;
	size_t n;
};

/* The state being checked, under policy p. */
struct state {
	const struct acm_policy *p;
	const struct acm_domain_ref *doms;
	size_t n_doms;
	struct acm_pair *index; /* (domid, i), sorted */
	acm_row_t *rows;        /* domain i's row in p, NONE when it has none */
	struct acm_cw_counts cw;
	uint64_t *words;        /* cw_words of p */
	struct blockers *bl;
};

static struct acm_blocker blocker(enum acm_blocker_kind kind)
{
	struct acm_blocker b = {
		.kind = kind,
		.domid = UINT32_MAX,
		.peer_domid = UINT32_MAX,
		.old_label = ACM_ROW_NONE,
		.new_label = ACM_ROW_NONE,
		.type_a = ACM_TYPE_NONE,
		.type_b = ACM_TYPE_NONE,
		.set = UINT32_MAX,
		.hook = ACM_HOOK__COUNT,
	};

	return b;
}

static void report(struct blockers *bl, const struct acm_blocker *b)
{
	if (bl->n < bl->max)
		bl->v[bl->n] = *b;
	bl->n++;
}

/* ------------------------------------------------------------- scratch */

static size_t align8(size_t v)
{
	return (v + 7u) & ~(size_t)7u;
}

struct scratch_layout {
	size_t index, rows, running, set_active, words, total;
};

static bool scratch_layout(const struct acm_policy *p, size_t n_doms,
			   struct scratch_layout *l)
{
	/* 12 bytes per domain, indexed in 32 bits (domids are 32 bits: more
	 * domains than that would repeat one anyway). */
	if (n_doms > UINT32_MAX || n_doms > SIZE_MAX / 32u)
		return false;
	l->index = 0;
	l->rows = align8(n_doms * sizeof(struct acm_pair));
	l->running = l->rows + align8(n_doms * sizeof(acm_row_t));
	l->set_active = l->running + align8((size_t)p->n_cw * 4u);
	l->words = l->set_active + align8((size_t)p->n_cs * 4u);
	l->total = l->words + (size_t)p->cw_words * 8u;
	return true;
}

/* For a relabel, call with old == new_p == the current policy. */
size_t acm_update_scratch_size(const struct acm_policy *old,
			       const struct acm_policy *new_p, size_t n_doms)
{
	struct scratch_layout l;

	if (!old || !new_p || !scratch_layout(new_p, n_doms, &l))
		return 0;
	return l.total ? l.total : 8u;
}

static enum acm_err state_init(struct state *st, const struct acm_policy *p,
			       const struct acm_domain_ref *doms,
			       size_t n_doms, void *scratch,
			       size_t scratch_len, struct blockers *bl)
{
	struct scratch_layout l;
	uint8_t *base = scratch;
	size_t i;

	if (!scratch || ((uintptr_t)scratch & 7u))
		return ACM_E_ARG;
	if (!scratch_layout(p, n_doms, &l))
		return ACM_E_LIMIT;
	if (scratch_len < l.total)
		return ACM_E_NOMEM;
	st->p = p;
	st->doms = doms;
	st->n_doms = n_doms;
	st->index = (struct acm_pair *)(base + l.index);
	st->rows = (acm_row_t *)(base + l.rows);
	st->cw.running = (uint32_t *)(base + l.running);
	st->cw.set_active = (uint32_t *)(base + l.set_active);
	st->words = (uint64_t *)(base + l.words);
	st->bl = bl;
	for (i = 0; i < n_doms; i++) {
		st->index[i].key = doms[i].domid;
		st->index[i].val = (uint32_t)i;
	}
	acm_sort_pairs(st->index, n_doms);
	for (i = 1; i < n_doms; i++)
		if (st->index[i].key == st->index[i - 1].key)
			return ACM_E_STATE; /* one domid, two domains */
	return ACM_OK;
}

/* Domain index of `domid`, or SIZE_MAX. */
static size_t find_domain(const struct state *st, uint32_t domid)
{
	size_t pos = acm_pairs_lower_bound(st->index, st->n_doms, domid);

	if (pos < st->n_doms && st->index[pos].key == domid)
		return st->index[pos].val;
	return SIZE_MAX;
}

/* ------------------------------------------------------------- checks */

/* Some own CW type of `row` in set c (first one), or NONE. */
static acm_type_t own_type_in_set(const struct acm_policy *p, acm_row_t row,
				  uint32_t c)
{
	const struct acm_label_rt *rt = &p->rt[row];
	const uint8_t *set = acm_cs_dense(p, c);
	uint32_t i;

	for (i = 0; i < rt->own_n; i++)
		if (acm_bit(set, p->cw_own[rt->own_first + i]))
			return p->cw_own[rt->own_first + i];
	return ACM_TYPE_NONE;
}

/*
 * Domain i's Chinese-Wall conflict with the others (false if none), and
 * its peer: the first domain that meets the set without i's type, with
 * its type in the set (*peer SIZE_MAX if the counters name nobody, which
 * a consistent state does not allow).
 */
static bool domain_conflict(const struct state *st, size_t i,
			    struct acm_cw_conflict *c, size_t *peer,
			    acm_type_t *peer_type)
{
	const struct acm_policy *p = st->p;
	acm_type_t u;
	size_t j;

	*peer = SIZE_MAX;
	*peer_type = ACM_TYPE_NONE;
	if (st->rows[i] == ACM_ROW_NONE ||
	    !acm_cw_find_conflict(p, &st->cw, st->rows[i], true, c))
		return false;
	for (j = 0; j < st->n_doms; j++) {
		if (j == i || st->rows[j] == ACM_ROW_NONE ||
		    acm_bit(acm_cw_dense(p, st->rows[j]), c->own))
			continue;
		u = own_type_in_set(p, st->rows[j], c->set);
		if (u != ACM_TYPE_NONE) {
			*peer = j;
			*peer_type = u;
			break;
		}
	}
	return true;
}

/* Domain i's side of a blocker: it and its labels, then the peer. */
static void conflict_sides(const struct state *st, struct acm_blocker *b,
			   size_t i, acm_type_t t, size_t j, acm_type_t u)
{
	b->domid = st->doms[i].domid;
	b->old_label = st->doms[i].label;
	b->new_label = st->rows[i];
	b->type_a = t;
	b->type_b = u;
	b->peer_domid = j == SIZE_MAX ? UINT32_MAX : st->doms[j].domid;
}

/*
 * Chinese Wall from scratch: count every domain that keeps a row, then
 * check each against all the others.  Both domains of a conflicting pair
 * find it; it is reported once, by whichever comes first in the list, as
 * (lower domid, higher domid) with each side's type.
 */
static void check_chwall(struct state *st)
{
	const struct acm_policy *p = st->p;
	struct acm_cw_conflict c, cj;
	struct acm_blocker b;
	acm_type_t u, uj;
	size_t i, j, k;

	if (!(p->flags & ACM_BIN_F_CHWALL))
		return;
	for (i = 0; i < p->n_cw; i++)
		st->cw.running[i] = 0;
	for (i = 0; i < p->n_cs; i++)
		st->cw.set_active[i] = 0;
	for (i = 0; i < st->n_doms; i++)
		if (st->rows[i] != ACM_ROW_NONE)
			acm_cw_account(p, &st->cw, st->rows[i], true);
	for (i = 0; i < st->n_doms; i++) {
		if (!domain_conflict(st, i, &c, &j, &u))
			continue;
		/* Reported already from the peer's side? */
		if (j != SIZE_MAX && j < i &&
		    domain_conflict(st, j, &cj, &k, &uj) && k == i &&
		    cj.set == c.set)
			continue;
		b = blocker(ACM_B_CHWALL_CONFLICT);
		b.set = c.set;
		b.hook = ACM_HOOK_DOMAIN_CREATE;
		if (j == SIZE_MAX)
			conflict_sides(st, &b, i, c.own, j, c.other);
		else if (st->doms[i].domid < st->doms[j].domid)
			conflict_sides(st, &b, i, c.own, j, u);
		else
			conflict_sides(st, &b, j, u, i, c.own);
		report(st->bl, &b);
	}
}

static void check_shares(struct state *st, const struct acm_share_ref *shares,
			 size_t n_shares)
{
	struct acm_verdict v;
	struct acm_blocker b;
	size_t k, a, z;

	for (k = 0; k < n_shares; k++) {
		a = find_domain(st, shares[k].dom_a);
		z = find_domain(st, shares[k].dom_b);
		if (a == SIZE_MAX || z == SIZE_MAX) {
			b = blocker(ACM_B_DOMAIN_UNKNOWN);
			b.domid = a == SIZE_MAX ? shares[k].dom_a
						: shares[k].dom_b;
			b.peer_domid = a == SIZE_MAX ? shares[k].dom_b
						     : shares[k].dom_a;
			b.hook = shares[k].hook;
			report(st->bl, &b);
			continue;
		}
		/* A domain losing its label is reported once, above. */
		if (st->rows[a] == ACM_ROW_NONE || st->rows[z] == ACM_ROW_NONE)
			continue;
		acm_ste_share(st->p, st->rows[a], st->rows[z], &v);
		if (v.decision == ACM_PERMIT)
			continue;
		b = blocker(ACM_B_SHARING);
		b.domid = shares[k].dom_a;
		b.peer_domid = shares[k].dom_b;
		b.old_label = st->doms[a].label;
		b.new_label = st->rows[a];
		b.hook = shares[k].hook;
		report(st->bl, &b);
	}
}

/* `res_map` turns a resource row of the state into a row of st->p (NULL:
 * the same policy). */
static void check_resources(struct state *st,
			    const struct acm_resource_ref *res, size_t n_res,
			    const acm_row_t *res_map)
{
	struct acm_verdict v;
	struct acm_blocker b;
	acm_row_t row;
	size_t k, d;

	for (k = 0; k < n_res; k++) {
		d = find_domain(st, res[k].domid);
		row = res_map ? res_map[res[k].resource] : res[k].resource;
		if (d == SIZE_MAX) {
			b = blocker(ACM_B_DOMAIN_UNKNOWN);
			b.domid = res[k].domid;
			b.old_label = res[k].resource;
			b.hook = ACM_HOOK_RESOURCE_USE;
			report(st->bl, &b);
			continue;
		}
		if (row == ACM_ROW_NONE) {
			b = blocker(ACM_B_RESOURCE_IN_USE);
			b.domid = res[k].domid;
			b.old_label = res[k].resource;
			b.hook = ACM_HOOK_RESOURCE_USE;
			report(st->bl, &b);
			continue;
		}
		if (st->rows[d] == ACM_ROW_NONE)
			continue;
		acm_ste_resource(st->p, st->rows[d], row, &v);
		if (v.decision == ACM_PERMIT)
			continue;
		b = blocker(ACM_B_RESOURCE);
		b.domid = res[k].domid;
		b.old_label = res[k].resource;
		b.new_label = row;
		b.hook = ACM_HOOK_RESOURCE_USE;
		report(st->bl, &b);
	}
}

/* The rows the caller hands in must be what it claims: VM labels for
 * domains, resource labels for resources, of the policy they refer to. */
static enum acm_err check_input(const struct acm_policy *p,
				const struct acm_domain_ref *doms,
				size_t n_doms,
				const struct acm_resource_ref *res,
				size_t n_res)
{
	size_t i;

	for (i = 0; i < n_doms; i++)
		if (!acm_is_vm(p, doms[i].label))
			return ACM_E_NOLABEL;
	for (i = 0; i < n_res; i++)
		if (!acm_is_resource(p, res[i].resource))
			return ACM_E_NOLABEL;
	return ACM_OK;
}

/* -------------------------------------------------------------- update */

/*
 * The DEFAULT policy, recognised by its shape as Xen's is_default_policy
 * did (reference/acm.md §3.5), not by its name alone: a name is all a
 * policy needs to skip the replay and rollback checks below, and any policy
 * may be called DEFAULT.  The shape is what makes the exemption harmless:
 * no conflict sets, no VM label but the bootstrap label and __UNLABELED__,
 * no resource label but __UNLABELED__ and __INACCESSIBLE__ - nothing that
 * an old or replayed version could grant that a fresh host does not.
 */
static bool is_default(const struct acm_policy *p)
{
	struct acm_policy_info info;
	const char *name;
	acm_row_t r;

	acm_policy_info(p, &info);
	if (acm_strcmp(info.name, "DEFAULT") != 0 || p->n_cs != 0)
		return false;
	for (r = 0; r < p->n_vm; r++)
		if (r != p->bootstrap && r != p->unlabeled)
			return false;
	for (r = p->n_vm; r < p->n_labels; r++) {
		name = acm_label_name(p, r);
		if (acm_strcmp(name, ACM_UNLABELED) != 0 &&
		    acm_strcmp(name, ACM_INACCESSIBLE) != 0)
			return false;
	}
	return true;
}

/* FromPolicy names the running policy and its exact version, and the new
 * version is strictly greater; not checked to or from DEFAULT. */
static void check_version(const struct acm_policy *old,
			  const struct acm_policy *new_p,
			  struct blockers *bl)
{
	struct acm_policy_info o, n;
	struct acm_blocker b;
	bool ok;

	if (is_default(old) || is_default(new_p))
		return;
	acm_policy_info(old, &o);
	acm_policy_info(new_p, &n);
	ok = n.has_from && acm_strcmp(n.from_name, o.name) == 0 &&
	     n.from_major == o.version_major &&
	     n.from_minor == o.version_minor &&
	     (n.version_major > o.version_major ||
	      (n.version_major == o.version_major &&
	       n.version_minor > o.version_minor));
	if (ok)
		return;
	b = blocker(ACM_B_VERSION);
	report(bl, &b);
}

/*
 * old row -> new row.  A new label with from="X" takes the old label X of
 * its kind; the others keep their name, unless the new label of that name
 * is itself a rename of another old label (then the old one is deleted,
 * not merged into it).  A from= naming no old label, or an old label
 * already taken by another from=, is a bad rename.
 */
static void map_rows(const struct acm_policy *old,
		     const struct acm_policy *new_p, acm_row_t *row_map,
		     struct blockers *bl)
{
	struct acm_blocker b;
	const char *from, *name;
	acm_row_t o, n;

	for (o = 0; o < old->n_labels; o++)
		row_map[o] = ACM_ROW_NONE;
	for (n = 0; n < new_p->n_labels; n++) {
		from = acm_label_from(new_p, n);
		if (!*from)
			continue;
		o = acm_label_find(old, acm_label_kind(new_p, n), from);
		if (o == ACM_ROW_NONE || row_map[o] != ACM_ROW_NONE) {
			b = blocker(ACM_B_BAD_RENAME);
			b.old_label = o;
			b.new_label = n;
			report(bl, &b);
			continue;
		}
		row_map[o] = n;
	}
	for (o = 0; o < old->n_labels; o++) {
		if (row_map[o] != ACM_ROW_NONE)
			continue;
		name = acm_label_name(old, o);
		n = acm_label_find(new_p, acm_label_kind(old, o), name);
		if (n == ACM_ROW_NONE)
			continue;
		from = acm_label_from(new_p, n);
		if (*from && acm_strcmp(from, name) != 0)
			continue;
		row_map[o] = n;
	}
}

enum acm_err acm_update_validate(const struct acm_policy *old,
				 const struct acm_policy *new_p,
				 const struct acm_domain_ref *doms,
				 size_t n_doms,
				 const struct acm_share_ref *shares,
				 size_t n_shares,
				 const struct acm_resource_ref *res,
				 size_t n_res, acm_row_t *row_map,
				 struct acm_blocker *blockers,
				 size_t max_blockers, size_t *n_blockers,
				 void *scratch, size_t scratch_len)
{
	struct blockers bl = { blockers, max_blockers, 0 };
	struct acm_blocker b;
	struct state st;
	enum acm_err err;
	size_t i;

	if (!old || !new_p || !row_map || !n_blockers ||
	    (!doms && n_doms) || (!shares && n_shares) || (!res && n_res) ||
	    (!blockers && max_blockers))
		return ACM_E_ARG;
	*n_blockers = 0;
	err = check_input(old, doms, n_doms, res, n_res);
	if (!err)
		err = state_init(&st, new_p, doms, n_doms, scratch,
				 scratch_len, &bl);
	if (err)
		return err;

	check_version(old, new_p, &bl);
	map_rows(old, new_p, row_map, &bl);
	for (i = 0; i < n_doms; i++) {
		st.rows[i] = row_map[doms[i].label];
		if (st.rows[i] != ACM_ROW_NONE)
			continue;
		/* dom0 losing its label is worse than any domain doing so:
		 * nothing could manage the host any more. */
		b = blocker(doms[i].domid == 0 ? ACM_B_BOOTSTRAP
					       : ACM_B_LABEL_IN_USE);
		b.domid = doms[i].domid;
		b.old_label = doms[i].label;
		report(&bl, &b);
	}
	check_chwall(&st);
	check_shares(&st, shares, n_shares);
	check_resources(&st, res, n_res, row_map);
	*n_blockers = bl.n;
	return ACM_OK;
}

/* ------------------------------------------------------------- relabel */

/*
 * dom0 runs the backends and the toolstack of every domain, and its label
 * is what "may this label run on this host" is asked against (host
 * authorization): a relabel of dom0 to a label that lacks some running
 * domain's STE type would partition the host under that domain.  Xen's
 * tools enforced it (reference/acm.md §4.4); here it is the engine's rule.
 * A domain whose label has no STE type needs nothing covered.
 */
static void check_dom0_covers(struct state *st, size_t dom0)
{
	const struct acm_policy *p = st->p;
	struct acm_verdict v;
	struct acm_blocker b;
	size_t i;

	if (!(p->flags & ACM_BIN_F_STE))
		return;
	for (i = 0; i < st->n_doms; i++) {
		if (i == dom0)
			continue;
		acm_ste_authorize(p, st->rows[dom0], st->rows[i], &v);
		if (v.reason != ACM_R_NOT_SUPERSET)
			continue;
		b = blocker(ACM_B_BOOTSTRAP);
		b.domid = st->doms[dom0].domid;
		b.peer_domid = st->doms[i].domid;
		b.old_label = st->doms[dom0].label;
		b.new_label = st->rows[dom0];
		b.type_a = v.type_a;
		b.hook = ACM_HOOK_HOST_AUTHORIZE;
		report(st->bl, &b);
	}
}

/*
 * The same checks under the current policy, with one domain's row
 * replaced.  In historical mode the domain also carries what it has seen:
 * its new label may not hold a type that history, or its own old label,
 * excludes.
 */
enum acm_err acm_relabel_validate(const struct acm_ctx *ctx,
				  const struct acm_domain_ref *doms,
				  size_t n_doms,
				  const struct acm_share_ref *shares,
				  size_t n_shares,
				  const struct acm_resource_ref *res,
				  size_t n_res, uint32_t domid,
				  acm_row_t new_label,
				  struct acm_blocker *blockers,
				  size_t max_blockers, size_t *n_blockers,
				  void *scratch, size_t scratch_len)
{
	struct blockers bl = { blockers, max_blockers, 0 };
	const struct acm_policy *p;
	struct acm_blocker b;
	struct state st;
	enum acm_err err;
	size_t i, target;
	acm_type_t t;

	if (!ctx || !n_blockers || (!doms && n_doms) ||
	    (!shares && n_shares) || (!res && n_res) ||
	    (!blockers && max_blockers))
		return ACM_E_ARG;
	*n_blockers = 0;
	p = ctx->p;
	if (!acm_is_vm(p, new_label))
		return ACM_E_NOLABEL;
	err = check_input(p, doms, n_doms, res, n_res);
	if (!err)
		err = state_init(&st, p, doms, n_doms, scratch, scratch_len,
				 &bl);
	if (err)
		return err;

	target = find_domain(&st, domid);
	if (target == SIZE_MAX) {
		b = blocker(ACM_B_DOMAIN_UNKNOWN);
		b.domid = domid;
		b.new_label = new_label;
		report(&bl, &b);
		*n_blockers = bl.n;
		return ACM_OK;
	}
	for (i = 0; i < n_doms; i++)
		st.rows[i] = i == target ? new_label : doms[i].label;

	if (domid == 0)
		check_dom0_covers(&st, target);
	if ((p->flags & ACM_BIN_F_CHWALL) && ctx->historical) {
		for (i = 0; i < p->cw_words; i++)
			st.words[i] = ctx->history[i];
		acm_cw_excluded_by(p, doms[target].label, st.words);
		if (acm_cw_hits_words(p, new_label, st.words, &t)) {
			b = blocker(ACM_B_CHWALL_CONFLICT);
			b.domid = domid;
			b.old_label = doms[target].label;
			b.new_label = new_label;
			b.type_a = t;
			b.hook = ACM_HOOK_DOMAIN_CREATE;
			report(&bl, &b);
		}
	}
	check_chwall(&st);
	check_shares(&st, shares, n_shares);
	check_resources(&st, res, n_res, NULL);
	*n_blockers = bl.n;
	return ACM_OK;
}
