/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_policy_xml - libFuzzer harness for the XML policy compiler.
 *
 * Feeds arbitrary bytes through parse -> check -> emit.  Beyond "no crash,
 * no leak", it checks the compiler's promises: whatever passes the checks
 * emits a blob that the engine's loader accepts, and emitting twice gives
 * the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acm/acm.h"
#include "policy-compiler/polc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct polc_policy pol;
	struct polc_diags diags = {.path = "fuzz.xml"};
	struct polc_parse_opts popts = {.max_file_bytes = 1 << 20};
	struct polc_check_opts copts = {0};
	uint8_t *blob = NULL, *blob2 = NULL;
	size_t len = 0, len2 = 0, need = 0;
	struct acm_load_error where;
	const struct acm_policy *ap = NULL;
	void *mem = NULL;

	memset(&pol, 0, sizeof(pol));
	if (polc_parse_xml_mem((const char *)data, size, "fuzz.xml", &popts,
			       &pol, &diags) != 0)
		goto out;
	if (polc_check(&pol, &copts, &diags) != 0)
		goto out;
	if (polc_emit(&pol, &blob, &len, &diags) != 0)
		goto out;
	if (polc_emit(&pol, &blob2, &len2, &diags) != 0 || len != len2 ||
	    memcmp(blob, blob2, len) != 0)
		abort(); /* the emitter must be deterministic */
	if (acm_policy_measure(blob, len, &need, &where) != ACM_OK)
		abort(); /* a checked policy must load */
	mem = aligned_alloc(8, (need + 7) & ~(size_t)7);
	if (!mem || acm_policy_load(blob, len, mem, need, &ap, &where) !=
			    ACM_OK)
		abort();
out:
	free(mem);
	free(blob);
	free(blob2);
	polc_policy_free(&pol);
	polc_diags_free(&diags);
	return 0;
}
