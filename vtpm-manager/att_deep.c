/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * att_deep.c - deep-quote verification and the platform pin (att_deep.h).
 *
 * The quote itself goes through att_quote_verify, with no PCR values: it
 * checks framing, the signature, magic, type and extraData in that order
 * and only then looks for PCR values, so ATT_E_PCR_SELECT from it means
 * everything before held.  The selection and digest are then checked
 * here against the mask asked for and, by the caller, against the pin.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/att_deep.h"
#include "vtpm-manager/mgr_ptpm.h"

#define PIN_MAGIC "hvsec-platform-pin 1"

static void hexs(char *out, const uint8_t *p, size_t n)
{
	static const char h[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void mask_str(uint32_t mask, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < MGR_PCR_MAX; i++)
		if (mask & (1u << i) && off < len)
			off += (size_t)snprintf(out + off, len - off, "%s%u",
						off ? "," : "", i);
}

enum att_err att_deep_verify(const uint8_t *ak_pub, size_t ak_len,
			     const uint8_t *attest, size_t attest_len,
			     const uint8_t *sig, size_t sig_len,
			     const uint8_t *ek_pub, size_t ek_len,
			     const struct mgr_uuid *uuid, const uint8_t *nonce,
			     size_t nonce_len, uint32_t pcr_mask,
			     struct att_deep_result *out, char *why,
			     size_t why_len)
{
	static const struct mb_pcrs none; /* no values: see the top */
	struct att_ak ak = {0};
	enum att_err e;
	char a[64], b[64];

	vtpm_set_why(why, why_len, "%s", "");
	if (!out || !uuid || !pcr_mask || pcr_mask >> MGR_PCR_MAX)
		return ATT_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (mgr_deep_quote_data(ek_pub, ek_len, uuid, nonce, nonce_len,
				out->qualifying) != MGR_PTPM_OK) {
		vtpm_set_why(
			why, why_len,
			"the vTPM's EK public area is not one TPM2B_PUBLIC "
			"(or the nonce is over %u bytes)",
			MGR_DEEPQ_NONCE_MAX);
		return ATT_E_INVAL;
	}
	e = att_ak_load(&ak, ak_pub, ak_len, why, why_len);
	if (e)
		return e;
	memcpy(out->ak_name, ak.name, ak.name_len);
	out->ak_name_len = ak.name_len;
	e = att_quote_verify(&ak, attest, attest_len, sig, sig_len,
			     out->qualifying, sizeof(out->qualifying), &none,
			     &out->q, why, why_len);
	att_ak_free(&ak);
	if (e == ATT_E_NONCE) {
		vtpm_set_why(
			why, why_len,
			"the platform quote's qualifyingData is not "
			"H(EK public ‖ uuid ‖ nonce): it vouches for another "
			"vTPM, instance or request");
		return e;
	}
	if (e != ATT_E_PCR_SELECT && e != ATT_OK)
		return e;
	if (out->q.nsel != 1 || out->q.sel[0].hash != MB_ALG_SHA256 ||
	    out->q.sel[0].mask != pcr_mask) {
		mask_str(out->q.nsel ? out->q.sel[0].mask : 0, a, sizeof(a));
		mask_str(pcr_mask, b, sizeof(b));
		vtpm_set_why(
			why, why_len,
			"the platform quote selects %u bank%s (PCRs %s), not "
			"sha256 PCRs %s",
			out->q.nsel, out->q.nsel == 1 ? "" : "s", a, b);
		return ATT_E_PCR_SELECT;
	}
	if (out->q.pcr_digest_len != 32) {
		vtpm_set_why(why, why_len, "the PCR digest is %u bytes, not 32",
			     out->q.pcr_digest_len);
		return ATT_E_PCR_DIGEST;
	}
	vtpm_set_why(why, why_len, "%s", "");
	return ATT_OK;
}

void att_deep_pin_from(const struct att_deep_result *r, uint32_t pcr_mask,
		       struct att_deep_pin *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->ak_name, r->ak_name, r->ak_name_len);
	out->ak_name_len = r->ak_name_len;
	out->pcr_mask = pcr_mask;
	memcpy(out->pcr_digest, r->q.pcr_digest, sizeof(out->pcr_digest));
}

size_t att_deep_pin_format(const struct att_deep_pin *pin, char *out,
			   size_t cap)
{
	char name[2 * ATT_NAME_MAX + 1], dig[65], mask[64];
	int n;

	hexs(name, pin->ak_name, pin->ak_name_len);
	hexs(dig, pin->pcr_digest, sizeof(pin->pcr_digest));
	mask_str(pin->pcr_mask, mask, sizeof(mask));
	n = snprintf(out, cap, "%s\nak-name %s\npcrs %s\npcr-digest %s\n",
		     PIN_MAGIC, name, mask, dig);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* Lowercase hex of exactly max bytes or, with exact false, 2..max. */
static bool unhex(const char *s, size_t slen, uint8_t *out, size_t max,
		  bool exact, size_t *n)
{
	if (slen % 2 || slen / 2 > max || (exact && slen / 2 != max) ||
	    slen < 2)
		return false;
	for (size_t i = 0; i < slen; i++) {
		char c = s[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	*n = slen / 2;
	return true;
}

static bool parse_mask(const char *s, size_t len, uint32_t *mask)
{
	int last = -1;
	size_t i = 0;

	*mask = 0;
	while (i < len) {
		unsigned v = 0, digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (!digits || v >= MGR_PCR_MAX || (int)v <= last ||
		    (digits > 1 && s[i - digits] == '0'))
			return false;
		last = (int)v;
		*mask |= 1u << v;
		if (i < len && s[i++] != ',')
			return false;
		if (i == len && s[len - 1] == ',')
			return false;
	}
	return *mask != 0;
}

enum att_err att_deep_pin_parse(const char *text, size_t len,
				struct att_deep_pin *out, char *why,
				size_t why_len)
{
	static const char *const keys[] = {NULL, "ak-name ", "pcrs ",
					   "pcr-digest "};
	size_t off = 0, n;

	vtpm_set_why(why, why_len, "%s", "");
	memset(out, 0, sizeof(*out));
	if (len > ATT_PIN_MAX) {
		vtpm_set_why(why, why_len, "pin file: over %u bytes",
			     ATT_PIN_MAX);
		return ATT_E_GOLDEN;
	}
	for (unsigned line = 0; line < 4; line++) {
		const char *p = text + off, *nl = memchr(p, '\n', len - off);
		size_t l, kl;
		bool ok;

		if (!nl) {
			vtpm_set_why(
				why, why_len,
				"pin file: line %u missing (or no newline)",
				line + 1);
			return ATT_E_GOLDEN;
		}
		l = (size_t)(nl - p);
		off += l + 1;
		if (line == 0) {
			ok = l == strlen(PIN_MAGIC) && !memcmp(p, PIN_MAGIC, l);
		} else {
			kl = strlen(keys[line]);
			ok = l > kl && !memcmp(p, keys[line], kl);
			if (ok && line == 1)
				ok = unhex(p + kl, l - kl, out->ak_name,
					   ATT_NAME_MAX, false, &n) &&
				     n >= 2;
			if (ok && line == 1)
				out->ak_name_len = n;
			if (ok && line == 2)
				ok = parse_mask(p + kl, l - kl, &out->pcr_mask);
			if (ok && line == 3)
				ok = unhex(p + kl, l - kl, out->pcr_digest, 32,
					   true, &n);
		}
		if (!ok) {
			vtpm_set_why(why, why_len,
				     "pin file: line %u: expected "
				     "'%s...'",
				     line + 1, line ? keys[line] : PIN_MAGIC);
			memset(out, 0, sizeof(*out));
			return ATT_E_GOLDEN;
		}
	}
	if (off != len) {
		vtpm_set_why(why, why_len, "pin file: text after line 4");
		memset(out, 0, sizeof(*out));
		return ATT_E_GOLDEN;
	}
	return ATT_OK;
}

enum att_err att_deep_pin_check(const struct att_deep_pin *pin,
				const struct att_deep_result *r, uint32_t mask,
				char *why, size_t why_len)
{
	char a[2 * ATT_NAME_MAX + 1], b[2 * ATT_NAME_MAX + 1];

	vtpm_set_why(why, why_len, "%s", "");
	if (pin->ak_name_len != r->ak_name_len ||
	    CRYPTO_memcmp(pin->ak_name, r->ak_name, r->ak_name_len)) {
		hexs(a, r->ak_name, r->ak_name_len);
		hexs(b, pin->ak_name, pin->ak_name_len);
		vtpm_set_why(
			why, why_len,
			"the platform AK %.24s... is not the pinned %.24s...: "
			"another platform, or its TPM was cleared",
			a, b);
		return ATT_E_AK;
	}
	if (pin->pcr_mask != mask) {
		mask_str(mask, a, sizeof(a));
		mask_str(pin->pcr_mask, b, sizeof(b));
		vtpm_set_why(why, why_len,
			     "the quote covers PCRs %s, the pin PCRs %s", a, b);
		return ATT_E_PCR_SELECT;
	}
	if (CRYPTO_memcmp(pin->pcr_digest, r->q.pcr_digest, 32)) {
		hexs(a, r->q.pcr_digest, 32);
		hexs(b, pin->pcr_digest, 32);
		vtpm_set_why(
			why, why_len,
			"platform PCR digest %.16s... differs from the pinned "
			"%.16s...: the platform booted something else",
			a, b);
		return ATT_E_PCR_DIGEST;
	}
	return ATT_OK;
}
