/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_policy_blob - libFuzzer harness for the engine's binary loader.
 *
 * The trailer hash would stop almost every mutation at ACM_E_HASH, so the
 * harness re-seals each input (recomputes the trailer) before loading it:
 * that sends the fuzzer's bytes into the structural checks, which is where
 * an out-of-bounds read would hide.  A second pass loads the bytes as they
 * are, to keep the hash check itself covered.  Anything that loads is then
 * exercised: every accessor, lookups and decisions over its labels.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acm/acm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct acm_policy *p)
{
	struct acm_policy_info info;
	struct acm_ctx_config cfg = {.cache_slots = 64};
	struct acm_ctx *ctx = NULL;
	struct acm_verdict v;
	void *mem;
	size_t need;
	uint32_t r, s, n;

	acm_policy_info(p, &info);
	for (r = 0; r < info.n_ste_types && r < 64; r++)
		(void)acm_ste_type_name(p, r);
	for (r = 0; r < info.n_cw_types && r < 64; r++)
		(void)acm_cw_type_name(p, r);
	for (r = 0; r < info.n_conflict_sets && r < 64; r++)
		(void)acm_conflict_set_name(p, r);
	need = acm_ctx_mem_size(p, &cfg);
	mem = aligned_alloc(8, (need + 7) & ~(size_t)7);
	if (!mem || acm_ctx_init(&ctx, p, &cfg, mem, need) != ACM_OK)
		goto out;
	n = info.n_labels < 16 ? info.n_labels : 16;
	for (r = 0; r < n; r++) {
		const char *name = acm_label_name(p, r);
		if (acm_label_find(p, acm_label_kind(p, r), name) != r)
			abort();
		if (acm_label_find_id(p, acm_label_id(p, r)) != r)
			abort();
		for (s = 0; s < n; s++) {
			acm_decide_share(ctx, ACM_HOOK_EVTCHN_INTERDOMAIN, r, s,
					 &v);
			acm_decide_resource(ctx, r, s, &v);
			acm_decide_authorize(ctx, r, s, &v);
		}
		acm_domain_create_prepare(ctx, r, &v);
		if (v.decision == ACM_PERMIT)
			acm_domain_destroy(ctx, r);
	}
	/* Out-of-range rows must be refused, not read. */
	acm_decide_share(ctx, ACM_HOOK_GNT_MAP_READ, info.n_labels, 0, &v);
	if (v.decision != ACM_DENY)
		abort();
out:
	free(mem);
}

static void try_load(const uint8_t *buf, size_t size)
{
	struct acm_load_error where;
	const struct acm_policy *p = NULL;
	size_t need = 0;
	void *mem = NULL;

	if (acm_policy_measure(buf, size, &need, &where) != ACM_OK)
		return;
	mem = aligned_alloc(8, (need + 7) & ~(size_t)7);
	if (!mem)
		return;
	if (acm_policy_load(buf, size, mem, need, &p, &where) != ACM_OK)
		abort(); /* measure and load must agree */
	exercise(p);
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	try_load(data, size);
	if (size < 64 + 144 + ACM_SHA256_LEN || size > (1u << 20))
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	/* Re-seal: the length field and the trailer, as a writer would. */
	copy[8] = (uint8_t)size;
	copy[9] = (uint8_t)(size >> 8);
	copy[10] = (uint8_t)(size >> 16);
	copy[11] = (uint8_t)(size >> 24);
	acm_sha256(copy, size - ACM_SHA256_LEN, copy + size - ACM_SHA256_LEN);
	try_load(copy, size);
	free(copy);
	return 0;
}
