/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_ekpub.h - an instance's EK public area as the manager accepts it for
 * certification, its whole interface.
 *
 * An instance sends the TPM2B_PUBLIC of each EK it created (PROVISION);
 * the manager certifies only what is exactly the TCG EK Credential
 * Profile 2.0 low-range template L-1 (RSA-2048) or L-2 (NIST P-256):
 * type, nameAlg SHA-256, objectAttributes fixedTPM|fixedParent|
 * sensitiveDataOrigin|adminWithPolicy|restricted|decrypt (nothing else),
 * authPolicy PolicySecret(TPM_RH_ENDORSEMENT), symmetric AES-128-CFB,
 * scheme NULL, keyBits 2048 with exponent 0 / curve P-256 with kdf NULL,
 * and a key of the template's size (a 256-byte modulus with its top bit
 * set; coordinates of 1..32 bytes that make a point on the curve).  The
 * SubjectPublicKeyInfo is made here, with OpenSSL, from the key in the
 * public area: the instance's own DER is never believed.
 */
#ifndef HVSEC_MGR_EKPUB_H
#define HVSEC_MGR_EKPUB_H

#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/mgr_proto.h" /* enum mgr_ek_kind */

#define MGR_EKPUB_SPKI_MAX 300u /* 294 bytes for RSA-2048, 91 for P-256 */

/* Checks pub (one marshalled TPM2B_PUBLIC, size prefix included, nothing
 * after it) against the template of kind and writes its DER SPKI into
 * spki (cap bytes).  0, or -EINVAL with why naming the first field that
 * is not the template's ("ECC EK: objectAttributes 0x00030472, template
 * 0x000300b2"), -ENOSPC when cap is too small, -ENOMEM. */
int mgr_ekpub_to_spki(enum mgr_ek_kind kind, const uint8_t *pub, size_t len,
		      uint8_t *spki, size_t cap, size_t *spki_len, char *why,
		      size_t why_len);
/* "RSA-2048", "ECC P-256", "?" */
const char *mgr_ekpub_kind_str(enum mgr_ek_kind kind);

#endif /* HVSEC_MGR_EKPUB_H */
