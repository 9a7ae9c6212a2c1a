/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * untracked.c - domains running without Chinese-Wall accounting.
 *
 * Permissive mode lets a create through that the Chinese Wall denied; the
 * engine did not account it (acm_domain_create_prepare accounts only on
 * permit), so its destroy or abort must not release counters that other
 * domains hold.  The set is a small array searched linearly: it stays
 * empty in enforcing mode, and a decision never allocates.
 */
#include "hooks/hooks_impl.h"

static size_t find(const struct hooks_state *hs, uint32_t domid)
{
	size_t i;

	for (i = 0; i < hs->n_untracked; i++)
		if (hs->untracked[i] == domid)
			return i;
	return SIZE_MAX;
}

bool hooks_untracked_has(const struct hooks_state *hs, uint32_t domid)
{
	return find(hs, domid) != SIZE_MAX;
}

/* False when the set is full: the caller then enforces the denial. */
bool hooks_untracked_add(struct hooks_state *hs, uint32_t domid)
{
	if (hooks_untracked_has(hs, domid))
		return true;
	if (hs->n_untracked >= HOOKS_UNTRACKED_MAX)
		return false;
	hs->untracked[hs->n_untracked++] = domid;
	return true;
}

/* True when domid was untracked (and now is no longer listed). */
bool hooks_untracked_del(struct hooks_state *hs, uint32_t domid)
{
	size_t i = find(hs, domid);

	if (i == SIZE_MAX)
		return false;
	hs->untracked[i] = hs->untracked[--hs->n_untracked];
	return true;
}
