/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sort.c - sorting (key, value) pairs in place, for the update's domain
 * index.
 *
 * Heapsort: O(n log n) worst case, no recursion and no extra memory, which
 * is what code fed by a caller's list of any length wants.
 */
#include "acm/acm_private.h"

static inline bool pair_less(const struct acm_pair *a, const struct acm_pair *b)
{
	return a->key < b->key || (a->key == b->key && a->val < b->val);
}

static void sift_down(struct acm_pair *v, size_t root, size_t n)
{
	struct acm_pair tmp;
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && pair_less(&v[child], &v[child + 1]))
			child++;
		if (!pair_less(&v[root], &v[child]))
			return;
		tmp = v[root];
		v[root] = v[child];
		v[child] = tmp;
		root = child;
	}
}

void acm_sort_pairs(struct acm_pair *v, size_t n)
{
	struct acm_pair tmp;
	size_t i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (i = n - 1; i > 0; i--) {
		tmp = v[0];
		v[0] = v[i];
		v[i] = tmp;
		sift_down(v, 0, i);
	}
}

size_t acm_pairs_lower_bound(const struct acm_pair *v, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
