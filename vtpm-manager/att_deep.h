/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * att_deep.h - verifying a deep quote (docs/formats.md §8.4), its whole
 * interface: a quote by the *platform* TPM whose
 * qualifyingData commits to one vTPM (mgr_deep_quote_data: SHA-256 of the
 * vTPM EK's TPM2B_PUBLIC, the instance's uuid and the verifier's nonce),
 * and a pin of the platform's attestation key and PCR digest.
 *
 * The platform's PCR *values* are not sent with a deep quote (the
 * manager holds the only connection to the platform TPM), so what a
 * verifier compares is the quoted PCR digest with a known one.  Both the
 * AK and that digest are pinned in a small text file, recorded on first
 * use: trust on first use, as an SSH host key.  A verifier that knows
 * better (the platform AK certified by its EK, golden platform PCRs)
 * writes the pin file itself.
 *
 *   hvsec-platform-pin 1
 *   ak-name HEX          the AK's TPM Name (nameAlg ‖ H(TPMT_PUBLIC))
 *   pcrs 0,2,4,7         the sha256 PCRs quoted (ascending, each once)
 *   pcr-digest HEX       SHA-256 of their values, as the quote carries it
 *
 * Nothing else: every line once, in this order, no blank lines.
 */
#ifndef HVSEC_ATT_DEEP_H
#define HVSEC_ATT_DEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/att_quote.h"
#include "vtpm-manager/mgr_seal.h" /* struct mgr_uuid */

#define ATT_PIN_MAX 1024u /* bytes in a pin file */

struct att_deep_result {
	struct att_quote q; /* as signed */
	uint8_t ak_name[ATT_NAME_MAX];
	size_t ak_name_len;
	uint8_t qualifying[32]; /* what the quote had to carry */
};

/* Verifies a deep quote: the AK (att_ak_load: a restricted, fixedTPM
 * signing key), the signature over attest, magic and type, extraData ==
 * mgr_deep_quote_data(ek_pub, uuid, nonce) (ATT_E_NONCE: the quote is
 * for another vTPM, instance or nonce), and that exactly the sha256 PCRs
 * of pcr_mask are selected (ATT_E_PCR_SELECT).  The PCR digest is only
 * reported (out->q.pcr_digest): compare it with att_deep_pin_check.
 * ATT_E_INVAL when ek_pub is not exactly one TPM2B_PUBLIC. */
enum att_err att_deep_verify(const uint8_t *ak_pub, size_t ak_len,
			     const uint8_t *attest, size_t attest_len,
			     const uint8_t *sig, size_t sig_len,
			     const uint8_t *ek_pub, size_t ek_len,
			     const struct mgr_uuid *uuid, const uint8_t *nonce,
			     size_t nonce_len, uint32_t pcr_mask,
			     struct att_deep_result *out, char *why,
			     size_t why_len);

struct att_deep_pin {
	uint8_t ak_name[ATT_NAME_MAX];
	size_t ak_name_len;
	uint32_t pcr_mask;
	uint8_t pcr_digest[32];
};

/* The pin of a verified result. */
void att_deep_pin_from(const struct att_deep_result *r, uint32_t pcr_mask,
		       struct att_deep_pin *out);
/* Parses a pin file's text (ATT_E_GOLDEN with "LINE: rule" in why). */
enum att_err att_deep_pin_parse(const char *text, size_t len,
				struct att_deep_pin *out, char *why,
				size_t why_len);
/* Its text (NUL-terminated) into out; the length, 0 if cap is short. */
size_t att_deep_pin_format(const struct att_deep_pin *pin, char *out,
			   size_t cap);
/* A verified result against a pin: ATT_OK, or ATT_E_AK (another AK: not
 * this platform, or its TPM was cleared), ATT_E_PCR_SELECT (other PCRs),
 * ATT_E_PCR_DIGEST (the platform booted something else), why saying
 * which. */
enum att_err att_deep_pin_check(const struct att_deep_pin *pin,
				const struct att_deep_result *r, uint32_t mask,
				char *why, size_t why_len);

#endif /* HVSEC_ATT_DEEP_H */
