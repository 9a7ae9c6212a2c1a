/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_eventlog - libFuzzer harness for the measured-boot and attestation
 * parsers (vtpm-manager/mb_log.c, att_quote.c): everything a guest's vTPM,
 * a stored log or a golden file can hand the verifier.
 *
 *   input := target:u8 rest
 *   target % 7:
 *     0  event log        rest = the log
 *     1  quote            rest = attest_len:u16le attest sig
 *     2  TPMT_SIGNATURE   rest
 *     3  TPM2B_PUBLIC     rest (att_ak_load)
 *     4  golden file      rest (then compared with a fixed boot)
 *     5  Quote response   rest (att_quote_response, then verify)
 *     6  PCR_Read response rest (att_pcr_read_response)
 *
 * Invariants (any failure aborts):
 *   - a parsed log's records are contiguous: each starts where the
 *     previous one ended, the first right after the header, the last ends
 *     at the end of the input; data lies inside the input; PCR < 24;
 *     replay succeeds; an extend command is built for each extending
 *     event and for nothing else;
 *   - a quote never verifies: the AK is fixed and its private key was
 *     thrown away, so ATT_OK would be a forgery;
 *   - parsed signatures have a plain form within bounds; a loaded AK has
 *     a key and a name of nameAlg size;
 *   - golden values: nvalues > 0 on success; a comparison returns as many
 *     report lines as it counts, none NULL;
 *   - a PCR_Read response only sets PCRs 0..23 in at most four banks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm-manager/att_quote.h"
#include "vtpm-manager/mb_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                            \
	do {                                                                \
		if (!(c))                                                   \
			abort();                                            \
	} while (0)

/* An ECC P-256 restricted signing key made once in a throwaway libtpms;
 * nobody holds its private half. */
static const uint8_t ak_pub[] = {
	0x00, 0x58, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00,
	0x00, 0x10, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10, 0x00, 0x20,
	0x38, 0x4f, 0x23, 0x4f, 0x84, 0xc9, 0x9d, 0x52, 0xfa, 0x81, 0x66, 0xb3,
	0xee, 0xe6, 0xff, 0x15, 0x31, 0x54, 0xb9, 0xe1, 0xe9, 0x56, 0x96, 0x7f,
	0x7a, 0x74, 0xed, 0x40, 0xe8, 0x3b, 0x73, 0x06, 0x00, 0x20, 0xef, 0x31,
	0x5e, 0x1d, 0xa4, 0x56, 0xb3, 0x15, 0x95, 0xb5, 0x37, 0x49, 0xa8, 0x66,
	0x14, 0xe8, 0x71, 0x43, 0xc3, 0xd8, 0xa1, 0xd6, 0xed, 0xe7, 0xc7, 0x21,
	0xfc, 0x6a, 0x6b, 0x3d, 0xc8, 0x38,
};

static struct att_ak ak;
static struct mb_log boot_log;
static struct mb_parsed boot;
static struct mb_pcrs boot_pcrs;
static const uint8_t nonce[20] = "hvsec fuzz nonce 20";

static void init(void)
{
	static const uint16_t algs[] = {MB_ALG_SHA1, MB_ALG_SHA256};
	struct mb_boot b = {.kernel_name = "vmlinuz",
			    .initrd_name = "initrd",
			    .cmdline = "ro quiet"};

	/* tss2-mu logs every refused structure on stderr: quiet. */
	setenv("TSS2_LOG", "all+none", 1);
	CHECK(att_ak_load(&ak, ak_pub, sizeof(ak_pub), NULL, 0) == ATT_OK);
	CHECK(mb_log_init(&boot_log, algs, 2) == MB_OK);
	CHECK(mb_digests_buf(algs, 2, "k", 1, &b.kernel) == MB_OK);
	CHECK(mb_digests_buf(algs, 2, "i", 1, &b.initrd) == MB_OK);
	CHECK(mb_log_boot(&boot_log, &b) == MB_OK);
	CHECK(mb_log_parse(boot_log.buf, boot_log.len, &boot, NULL, 0) ==
	      MB_OK);
	CHECK(mb_log_replay(&boot, &boot_pcrs) == MB_OK);
}

static void fuzz_log(const uint8_t *d, size_t n)
{
	struct mb_parsed p;
	struct mb_pcrs pcrs;
	struct mb_boot_view v;
	char why[256];
	size_t at;

	if (mb_log_parse(d, n, &p, why, sizeof(why)) != MB_OK) {
		CHECK(p.ev == NULL && p.nevents == 0);
		CHECK(strncmp(why, "offset ", 7) == 0 || why[0] == 0);
		return;
	}
	CHECK(p.hdr.nalgs >= 1 && p.hdr.nalgs <= MB_MAX_BANKS);
	at = p.hdr.size;
	for (size_t i = 0; i < p.nevents; i++) {
		const struct mb_event *ev = &p.ev[i];
		size_t rec = 12 + 4 + ev->data_len;
		uint8_t cmd[512];
		size_t cl;

		CHECK(ev->offset == at && ev->pcr < MB_PCR_COUNT);
		CHECK(ev->digests.n == p.hdr.nalgs);
		for (unsigned k = 0; k < ev->digests.n; k++)
			rec += 2 + mb_alg_size(ev->digests.v[k].alg);
		CHECK(ev->data >= d && ev->data + ev->data_len <= d + n);
		at += rec;
		cl = mb_pcr_extend_cmd(ev, cmd, sizeof(cmd));
		CHECK(mb_event_extends(ev) ? cl > 0 : cl == 0);
	}
	CHECK(at == n);
	CHECK(mb_log_replay(&p, &pcrs) == MB_OK);
	CHECK(pcrs.nbanks == p.hdr.nalgs);
	if (mb_log_boot_view(&p, &v, why, sizeof(why)) == MB_OK) {
		CHECK(v.kernel && v.cmdline);
		CHECK(v.cmdline_len <= v.cmdline->data_len);
	}
	mb_parsed_free(&p);
}

static void fuzz_quote(const uint8_t *d, size_t n)
{
	size_t alen;
	struct att_quote q;
	char why[512];

	if (n < 2)
		return;
	alen = (size_t)(d[0] | d[1] << 8);
	d += 2, n -= 2;
	if (alen > n)
		alen = n;
	CHECK(att_quote_verify(&ak, d, alen, d + alen, n - alen, nonce,
			       sizeof(nonce), &boot_pcrs, &q, why,
			       sizeof(why)) != ATT_OK);
	if (att_attest_parse(d, alen, &q, why, sizeof(why)) == ATT_OK) {
		CHECK(q.nsel <= ATT_MAX_SEL && q.nonce_len <= ATT_NONCE_MAX);
		CHECK(q.signer_len <= ATT_NAME_MAX &&
		      q.pcr_digest_len <= MB_DIGEST_MAX);
	}
}

static void fuzz_sig(const uint8_t *d, size_t n)
{
	struct att_sig s;

	if (att_sig_parse(d, n, &s, NULL, 0) == ATT_OK)
		CHECK(s.plain_len > 0 && s.plain_len <= sizeof(s.plain) &&
		      mb_alg_size(s.hash));
}

static void fuzz_ak(const uint8_t *d, size_t n)
{
	struct att_ak k;

	if (att_ak_load(&k, d, n, NULL, 0) == ATT_OK) {
		CHECK(k.pkey && k.name_len == 2 + mb_alg_size(k.name_alg));
		att_ak_free(&k);
	}
}

static void fuzz_golden(const uint8_t *d, size_t n)
{
	struct att_golden g;
	struct att_report r;
	char why[256];
	int k;

	if (att_golden_parse("fuzz", (const char *)d, n, &g, why,
			     sizeof(why)) != ATT_OK) {
		CHECK(strncmp(why, "fuzz:", 5) == 0 || why[0] == 0);
		return;
	}
	CHECK(g.nvalues > 0);
	k = att_golden_compare(&g, &boot, &boot_pcrs, &r);
	CHECK(k >= 0 && (size_t)k == r.n && r.checked > 0);
	for (size_t i = 0; i < r.n; i++)
		CHECK(r.lines[i] != NULL);
	att_report_free(&r);
	att_golden_free(&g);
}

static void fuzz_quote_rsp(const uint8_t *d, size_t n)
{
	const uint8_t *a, *s;
	size_t al, sl;
	uint32_t rc;

	if (att_quote_response(d, n, &rc, &a, &al, &s, &sl, NULL, 0) !=
	    ATT_OK)
		return;
	CHECK(a >= d && a + al <= d + n && s >= a + al && s + sl <= d + n);
	CHECK(att_quote_verify(&ak, a, al, s, sl, nonce, sizeof(nonce),
			       &boot_pcrs, NULL, NULL, 0) != ATT_OK);
}

static void fuzz_pcr_read(const uint8_t *d, size_t n)
{
	struct mb_pcrs p = {0};
	uint32_t got = 0, rc;

	if (att_pcr_read_response(d, n, &p, &got, &rc, NULL, 0) != ATT_OK)
		return;
	CHECK(p.nbanks <= MB_MAX_BANKS && (got >> MB_PCR_COUNT) == 0);
	for (unsigned b = 0; b < p.nbanks; b++)
		CHECK((p.bank[b].valid >> MB_PCR_COUNT) == 0 &&
		      mb_alg_size(p.bank[b].alg) == p.bank[b].size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		init();
		ready = true;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 7) {
	case 0:
		fuzz_log(data + 1, size - 1);
		break;
	case 1:
		fuzz_quote(data + 1, size - 1);
		break;
	case 2:
		fuzz_sig(data + 1, size - 1);
		break;
	case 3:
		fuzz_ak(data + 1, size - 1);
		break;
	case 4:
		fuzz_golden(data + 1, size - 1);
		break;
	case 5:
		fuzz_quote_rsp(data + 1, size - 1);
		break;
	case 6:
		fuzz_pcr_read(data + 1, size - 1);
		break;
	}
	return 0;
}
