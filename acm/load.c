/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load.c - acm_policy_measure and acm_policy_load: validate a blob, size
 * its indexes, build them in donated memory.
 *
 * The indexes make every decision independent of the number of types:
 *   - per label, a 16-byte STE summary (a signature of its types, their
 *     number, and where its ascending type list starts), and the lists
 *     themselves (struct acm_ste_summary says which labels keep one);
 *   - per VM label, its Chinese-Wall types;
 *   - per CW type, the conflict sets holding it, and per set its types.
 * Their sizes are sums the validator computes on its single pass, so
 * measure needs no memory and load uses exactly what measure reported.
 * Lookups by id need nothing built: the blob's ID_INDEX is the index.
 */
#include "acm/acm_private.h"

/* Carves donated memory; with base == NULL it only counts. */
struct carve {
	uint8_t *base;
	size_t len;
	size_t used;
};

static void *take(struct carve *cv, uint64_t n, size_t align)
{
	size_t at = (cv->used + align - 1) & ~(align - 1);

	/* Sizes come from a validated blob of at most 64 MiB: they are far
	 * from overflowing, but stay careful on 32-bit hosts. */
	if (n > SIZE_MAX - at) {
		cv->used = SIZE_MAX;
		return NULL;
	}
	cv->used = at + (size_t)n;
	if (!cv->base || cv->used > cv->len)
		return NULL;
	return cv->base + at;
}

struct parts {
	struct acm_policy *pol;
	struct acm_ste_summary *ste;
	uint32_t *ste_list;
	struct acm_label_rt *rt;
	uint32_t *cw_own;
	uint32_t *type_sets_first;
	uint32_t *type_sets;
	uint32_t *set_first;
	uint32_t *set_members;
};

/* The one place that decides the memory layout, for counting and for
 * carving alike. */
static void carve_parts(struct carve *cv, const struct acm_layout *lay,
			struct parts *pt)
{
	pt->pol = take(cv, sizeof(struct acm_policy), 8);
	/* Summaries then lists: what a decision reads, side by side. */
	pt->ste = take(cv, (uint64_t)lay->n_labels * sizeof(*pt->ste), 8);
	pt->ste_list = take(cv, lay->n_ste_listed * 4u, 4);
	pt->rt = take(cv, (uint64_t)lay->n_labels * sizeof(*pt->rt), 8);
	pt->cw_own = take(cv, lay->n_own * 4u, 4);
	pt->type_sets_first = take(cv, ((uint64_t)lay->n_cw + 1) * 4u, 4);
	pt->type_sets = take(cv, lay->n_members * 4u, 4);
	pt->set_first = take(cv, ((uint64_t)lay->n_cs + 1) * 4u, 4);
	pt->set_members = take(cv, lay->n_members * 4u, 4);
	/* Round up so callers may allocate in 8-byte units. */
	(void)take(cv, 0, 8);
}

enum acm_err acm_policy_measure(const void *blob, size_t len,
				size_t *mem_needed,
				struct acm_load_error *where)
{
	struct acm_load_error dummy;
	struct acm_layout lay;
	struct carve cv = { NULL, 0, 0 };
	struct parts pt;
	enum acm_err err;

	if (!where)
		where = &dummy;
	if (!blob || !mem_needed) {
		where->err = ACM_E_ARG;
		where->offset = 0;
		return ACM_E_ARG;
	}
	*mem_needed = 0;
	err = acm_validate(blob, len, &lay, where);
	if (err)
		return err;
	carve_parts(&cv, &lay, &pt);
	*mem_needed = cv.used;
	return ACM_OK;
}

/* One pass over a row counts its types and builds its signature; a
 * second fills its list if it keeps one (the count decides). */
static void build_ste(const struct acm_layout *lay, const uint8_t *ste_sets,
		      struct parts *pt)
{
	uint32_t row, w, t, n, used = 0;
	const uint8_t *dense;
	uint64_t v, sig;

	for (row = 0; row < lay->n_labels; row++) {
		dense = ste_sets + (size_t)row * lay->ste_words * 8u;
		n = 0;
		sig = 0;
		for (w = 0; w < lay->ste_words; w++)
			for (v = acm_le64(dense + (size_t)w * 8u); v;
			     v &= v - 1) {
				sig |= acm_ste_sig_bit(w * 64u +
						       acm_ctz64(v));
				n++;
			}
		pt->ste[row].first = used;
		pt->ste[row].n = n;
		pt->ste[row].sig = sig;
		if (!acm_ste_listed(n, lay->ste_words))
			continue;
		for (w = 0; w < lay->ste_words; w++)
			for (v = acm_le64(dense + (size_t)w * 8u); v;
			     v &= v - 1) {
				t = w * 64u + acm_ctz64(v);
				pt->ste_list[used++] = t;
			}
	}
}

static void build_cw_own(const struct acm_layout *lay, const uint8_t *cw_sets,
			 struct parts *pt)
{
	uint32_t row, w, n = 0;
	uint64_t v;

	for (row = 0; row < lay->n_labels; row++) {
		pt->rt[row].own_first = n;
		/* Resource labels' sets are zero (validated). */
		for (w = 0; w < lay->cw_words; w++) {
			v = acm_le64(cw_sets +
				     ((size_t)row * lay->cw_words + w) * 8u);
			for (; v; v &= v - 1)
				pt->cw_own[n++] = w * 64u + acm_ctz64(v);
		}
		pt->rt[row].own_n = n - pt->rt[row].own_first;
	}
}

/* Members per set, and the inverse (sets per type) by counting sort, so
 * that both lists come out ascending. */
static void build_conflict_index(const struct acm_layout *lay,
				 const uint8_t *sets, struct parts *pt)
{
	uint32_t c, w, t, n = 0;
	uint64_t v;

	for (t = 0; t <= lay->n_cw; t++)
		pt->type_sets_first[t] = 0;
	for (c = 0; c < lay->n_cs; c++) {
		pt->set_first[c] = n;
		for (w = 0; w < lay->cw_words; w++) {
			v = acm_le64(sets +
				     ((size_t)c * lay->cw_words + w) * 8u);
			for (; v; v &= v - 1) {
				t = w * 64u + acm_ctz64(v);
				pt->set_members[n++] = t;
				pt->type_sets_first[t + 1]++;
			}
		}
	}
	pt->set_first[lay->n_cs] = n;
	for (t = 0; t < lay->n_cw; t++)
		pt->type_sets_first[t + 1] += pt->type_sets_first[t];
	/* Fill using type_sets_first[t] as a cursor, then shift back. */
	for (c = 0; c < lay->n_cs; c++)
		for (n = pt->set_first[c]; n < pt->set_first[c + 1]; n++) {
			t = pt->set_members[n];
			pt->type_sets[pt->type_sets_first[t]++] = c;
		}
	for (t = lay->n_cw; t > 0; t--)
		pt->type_sets_first[t] = pt->type_sets_first[t - 1];
	pt->type_sets_first[0] = 0;
}

enum acm_err acm_policy_load(const void *blob, size_t len, void *mem,
			     size_t mem_len, const struct acm_policy **out,
			     struct acm_load_error *where)
{
	struct acm_load_error dummy;
	struct acm_layout lay;
	struct carve cv = { mem, mem_len, 0 };
	const uint8_t *b = blob;
	struct acm_policy *p;
	struct parts pt;
	enum acm_err err;

	if (!where)
		where = &dummy;
	if (out)
		*out = NULL;
	if (!blob || !mem || !out || ((uintptr_t)mem & 7u)) {
		where->err = ACM_E_ARG;
		where->offset = 0;
		return ACM_E_ARG;
	}
	err = acm_validate(blob, len, &lay, where);
	if (err)
		return err;
	carve_parts(&cv, &lay, &pt);
	if (cv.used > mem_len) {
		where->err = ACM_E_NOMEM;
		where->offset = 0;
		return ACM_E_NOMEM;
	}

	p = pt.pol;
	*p = (struct acm_policy){ 0 };
	p->blob = b;
	p->len = lay.len;
	p->flags = lay.flags;
	p->n_ste = lay.n_ste;
	p->n_cw = lay.n_cw;
	p->n_labels = lay.n_labels;
	p->n_vm = lay.n_vm;
	p->n_cs = lay.n_cs;
	p->ste_words = lay.ste_words;
	p->cw_words = lay.cw_words;
	p->strings = (const char *)b + lay.off[ACM_SEC_STRINGS];
	p->meta = b + lay.off[ACM_SEC_META];
	p->ste_types = b + lay.off[ACM_SEC_STE_TYPES];
	p->cw_types = b + lay.off[ACM_SEC_CW_TYPES];
	p->labels = b + lay.off[ACM_SEC_LABELS];
	p->ste_sets = b + lay.off[ACM_SEC_STE_SETS];
	p->cw_sets = b + lay.off[ACM_SEC_CW_SETS];
	p->conflicts = b + lay.off[ACM_SEC_CONFLICTS];
	p->conflict_sets = b + lay.off[ACM_SEC_CONFLICT_SETS];
	p->id_index = b + lay.off[ACM_SEC_ID_INDEX];
	p->bootstrap = acm_le32(p->meta +
				offsetof(struct acm_bin_meta, bootstrap));

	build_ste(&lay, p->ste_sets, &pt);
	build_cw_own(&lay, p->cw_sets, &pt);
	build_conflict_index(&lay, p->conflict_sets, &pt);
	p->ste = pt.ste;
	p->ste_list = pt.ste_list;
	p->rt = pt.rt;
	p->cw_own = pt.cw_own;
	p->type_sets_first = pt.type_sets_first;
	p->type_sets = pt.type_sets;
	p->set_first = pt.set_first;
	p->set_members = pt.set_members;
	p->unlabeled = acm_label_find(p, ACM_LABEL_VM, ACM_UNLABELED);
	p->inaccessible = acm_label_find(p, ACM_LABEL_RESOURCE,
					 ACM_INACCESSIBLE);
	*out = p;
	return ACM_OK;
}
