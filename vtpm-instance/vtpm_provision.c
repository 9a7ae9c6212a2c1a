/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_provision.c - a new TPM's EKs and certificates, as a TPM vendor
 * provisions them (vtpm.h "provisioning"): one sequence for both places
 * that manufacture, dom0's file-store path and the manager-mode stub, so
 * a vTPM looks the same whoever made it.  Who certifies is the caller's
 * hook: the host CA in dom0, the manager's PROVISION in a stub.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

int vtpm_provision(vtpm_certify_fn certify, void *ctx, char *why,
		   size_t why_len)
{
	static const enum vtpm_ek_kind kinds[2] = {VTPM_EK_RSA2048,
						   VTPM_EK_ECC_P256};
	struct vtpm_ek_public pub[2];
	struct vtpm_ek_tpm_info info;
	uint8_t *der[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	int rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!certify) {
		vtpm_set_why(why, why_len, "no certifier");
		return -EINVAL;
	}
	memset(pub, 0, sizeof(pub));
	rc = vtpm_ek_tpm_info(&info, why, why_len);
	for (size_t i = 0; !rc && i < 2; i++)
		rc = vtpm_ek_create(kinds[i], &pub[i], why, why_len);
	if (rc)
		goto out;
	/* Both at once: the manager certifies in one round trip. */
	rc = certify(ctx, pub, &info, der, len, why, why_len);
	if (rc)
		goto out;
	for (size_t i = 0; !rc && i < 2; i++) {
		if (!der[i] || !len[i]) {
			vtpm_set_why(why, why_len,
				     "the certifier gave no %s certificate",
				     i ? "ECC" : "RSA");
			rc = -EPROTO;
			break;
		}
		rc = vtpm_ek_write_cert(kinds[i], der[i], len[i], why,
					why_len);
	}
	if (!rc)
		rc = vtpm_ek_lock_platform(why, why_len);
out:
	free(der[0]);
	free(der[1]);
	return rc;
}
