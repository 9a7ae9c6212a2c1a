/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mb_log.c - the crypto-agile TCG event log: writer, strict parser,
 * replayer, the hvsec boot layout and the PCR_Extend command for an event.
 * Byte layout and rules: docs/measured-boot.md; interface: mb_log.h.
 *
 * Untrusted bytes are read through one cursor (struct cur) that carries
 * its bounds, checks what is left before every read (no pointer or size
 * arithmetic that could overflow: only "len - off >= n"), and never
 * advances on failure.  Errors name the byte offset of the field.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mb_log.h"

/* Fixed parts of the header record (TCG_PCR_EVENT, SHA-1 layout). */
#define HDR_FIXED	32u /* PCRIndex, EventType, Digest[20], EventSize */
#define SPEC_ID_FIXED	29u /* signature..numberOfAlgorithms + vendorInfoSize */
#define SPEC_ID_SIG	"Spec ID Event03" /* + NUL: 16 bytes */
#define SPEC_ID_SIG_LEN 16u
#define STARTUP_LOC_SIG "StartupLocality" /* + NUL + u8 locality */
#define STARTUP_LOC_LEN 17u
#define SEPARATOR_LEN	4u
#define EV2_FIXED	12u /* PCRIndex, EventType, DigestCount */

static_assert(sizeof(SPEC_ID_SIG) == SPEC_ID_SIG_LEN, "signature with NUL");
static_assert(sizeof(STARTUP_LOC_SIG) + 1 == STARTUP_LOC_LEN, "locality");
static_assert(MB_LOG_MAX <= UINT32_MAX, "offsets fit in u32");

const char *mb_strerror(enum mb_err e)
{
	switch (e) {
	case MB_OK:
		return "ok";
	case MB_E_INVAL:
		return "invalid argument";
	case MB_E_NOMEM:
		return "out of memory";
	case MB_E_CRYPTO:
		return "hash computation failed";
	case MB_E_IO:
		return "read error";
	case MB_E_TRUNCATED:
		return "log truncated";
	case MB_E_TOO_BIG:
		return "log too big";
	case MB_E_HEADER:
		return "bad Spec ID header";
	case MB_E_ALG:
		return "bad hash algorithm";
	case MB_E_DIGESTS:
		return "bad digest list";
	case MB_E_PCR:
		return "bad PCR index";
	case MB_E_TYPE:
		return "bad event type";
	case MB_E_DATA:
		return "bad event data";
	case MB_E_LAYOUT:
		return "not the hvsec boot layout";
	}
	return "unknown error";
}

/* ------------------------------------------------------------ algorithms */

static const struct alg_info {
	uint16_t alg;
	uint16_t size;
	const char *name;
} alg_table[MB_MAX_BANKS] = {
	{MB_ALG_SHA1, 20, "sha1"},
	{MB_ALG_SHA256, 32, "sha256"},
	{MB_ALG_SHA384, 48, "sha384"},
	{MB_ALG_SHA512, 64, "sha512"},
};

static const struct alg_info *alg_find(uint16_t alg)
{
	for (size_t i = 0; i < MB_MAX_BANKS; i++)
		if (alg_table[i].alg == alg)
			return &alg_table[i];
	return NULL;
}

size_t mb_alg_size(uint16_t alg)
{
	const struct alg_info *a = alg_find(alg);

	return a ? a->size : 0;
}

const char *mb_alg_name(uint16_t alg)
{
	const struct alg_info *a = alg_find(alg);

	return a ? a->name : NULL;
}

uint16_t mb_alg_from_name(const char *name)
{
	for (size_t i = 0; name && i < MB_MAX_BANKS; i++)
		if (strcmp(alg_table[i].name, name) == 0)
			return alg_table[i].alg;
	return 0;
}

static const EVP_MD *alg_md(uint16_t alg)
{
	switch (alg) {
	case MB_ALG_SHA1:
		return EVP_sha1();
	case MB_ALG_SHA256:
		return EVP_sha256();
	case MB_ALG_SHA384:
		return EVP_sha384();
	case MB_ALG_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

const char *mb_event_type_name(uint32_t type)
{
	static const char *const pc[] = {
		"EV_PREBOOT_CERT",
		"EV_POST_CODE",
		"EV_UNUSED",
		"EV_NO_ACTION",
		"EV_SEPARATOR",
		"EV_ACTION",
		"EV_EVENT_TAG",
		"EV_S_CRTM_CONTENTS",
		"EV_S_CRTM_VERSION",
		"EV_CPU_MICROCODE",
		"EV_PLATFORM_CONFIG_FLAGS",
		"EV_TABLE_OF_DEVICES",
		"EV_COMPACT_HASH",
		"EV_IPL",
		"EV_IPL_PARTITION_DATA",
		"EV_NONHOST_CODE",
		"EV_NONHOST_CONFIG",
		"EV_NONHOST_INFO",
		"EV_OMIT_BOOT_DEVICE_EVENTS",
	};
	static const char *const efi[] = {
		NULL,
		"EV_EFI_VARIABLE_DRIVER_CONFIG",
		"EV_EFI_VARIABLE_BOOT",
		"EV_EFI_BOOT_SERVICES_APPLICATION",
		"EV_EFI_BOOT_SERVICES_DRIVER",
		"EV_EFI_RUNTIME_SERVICES_DRIVER",
		"EV_EFI_GPT_EVENT",
		"EV_EFI_ACTION",
		"EV_EFI_PLATFORM_FIRMWARE_BLOB",
		"EV_EFI_HANDOFF_TABLES",
		"EV_EFI_PLATFORM_FIRMWARE_BLOB2",
		"EV_EFI_HANDOFF_TABLES2",
		"EV_EFI_VARIABLE_BOOT2",
	};

	/* EV_UNUSED (2) is reserved: never valid in a log. */
	if (type == 2)
		return NULL;
	if (type < sizeof(pc) / sizeof(pc[0]))
		return pc[type];
	if (type >= MB_EV_EFI_BASE &&
	    type - MB_EV_EFI_BASE < sizeof(efi) / sizeof(efi[0]))
		return efi[type - MB_EV_EFI_BASE];
	if (type == MB_EV_EFI_BASE + 0x10)
		return "EV_EFI_HCRTM_EVENT";
	if (type == MB_EV_EFI_BASE + 0xe0)
		return "EV_EFI_VARIABLE_AUTHORITY";
	return NULL;
}

const uint8_t *mb_digests_get(const struct mb_digests *d, uint16_t alg)
{
	for (unsigned i = 0; d && i < d->n && i < MB_MAX_BANKS; i++)
		if (d->v[i].alg == alg)
			return d->v[i].d;
	return NULL;
}

/* algs: 1..MB_MAX_BANKS distinct known algorithms. */
static bool algs_ok(const uint16_t *algs, unsigned nalgs)
{
	if (!algs || nalgs == 0 || nalgs > MB_MAX_BANKS)
		return false;
	for (unsigned i = 0; i < nalgs; i++) {
		if (!alg_find(algs[i]))
			return false;
		for (unsigned j = 0; j < i; j++)
			if (algs[j] == algs[i])
				return false;
	}
	return true;
}

enum mb_err mb_digests_buf(const uint16_t *algs, unsigned nalgs, const void *p,
			   size_t len, struct mb_digests *out)
{
	if (!out || !algs_ok(algs, nalgs) || (!p && len))
		return MB_E_INVAL;
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < nalgs; i++) {
		out->v[i].alg = algs[i];
		if (!EVP_Digest(p ? p : "", len, out->v[i].d, NULL,
				alg_md(algs[i]), NULL))
			return MB_E_CRYPTO;
	}
	out->n = nalgs;
	return MB_OK;
}

enum mb_err mb_digests_fd(int fd, const uint16_t *algs, unsigned nalgs,
			  struct mb_digests *out)
{
	EVP_MD_CTX *ctx[MB_MAX_BANKS] = {0};
	uint8_t buf[16384];
	enum mb_err err = MB_OK;

	if (!out || fd < 0 || !algs_ok(algs, nalgs))
		return MB_E_INVAL;
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < nalgs; i++) {
		ctx[i] = EVP_MD_CTX_new();
		if (!ctx[i] ||
		    !EVP_DigestInit_ex(ctx[i], alg_md(algs[i]), NULL)) {
			err = MB_E_CRYPTO;
			goto out;
		}
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = MB_E_IO;
			goto out;
		}
		if (n == 0)
			break;
		for (unsigned i = 0; i < nalgs; i++)
			if (!EVP_DigestUpdate(ctx[i], buf, (size_t)n)) {
				err = MB_E_CRYPTO;
				goto out;
			}
	}
	for (unsigned i = 0; i < nalgs; i++) {
		out->v[i].alg = algs[i];
		if (!EVP_DigestFinal_ex(ctx[i], out->v[i].d, NULL)) {
			err = MB_E_CRYPTO;
			goto out;
		}
	}
	out->n = nalgs;
out:
	for (unsigned i = 0; i < nalgs; i++)
		EVP_MD_CTX_free(ctx[i]);
	return err;
}

/* ---------------------------------------------------------------- errors */

static enum mb_err fail(char *why, size_t why_len, enum mb_err e, size_t off,
			const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum mb_err fail(char *why, size_t why_len, enum mb_err e, size_t off,
			const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!why || why_len == 0)
		return e;
	n = snprintf(why, why_len, "offset %zu: ", off);
	if (n < 0 || (size_t)n >= why_len)
		return e;
	va_start(ap, fmt);
	vsnprintf(why + n, why_len - (size_t)n, fmt, ap);
	va_end(ap);
	return e;
}

/* ---------------------------------------------------------------- cursor */

struct cur {
	const uint8_t *p;
	size_t len;  /* bytes at p */
	size_t off;  /* next byte; off <= len always */
	size_t base; /* offset of p[0] in the log, for messages */
};

static size_t cur_left(const struct cur *c)
{
	return c->len - c->off;
}

static size_t cur_pos(const struct cur *c)
{
	return c->base + c->off;
}

static bool cur_bytes(struct cur *c, size_t n, const uint8_t **out)
{
	if (cur_left(c) < n)
		return false;
	*out = c->p + c->off;
	c->off += n;
	return true;
}

static bool cur_u8(struct cur *c, uint8_t *v)
{
	const uint8_t *b;

	if (!cur_bytes(c, 1, &b))
		return false;
	*v = b[0];
	return true;
}

static bool cur_u16(struct cur *c, uint16_t *v)
{
	const uint8_t *b;

	if (!cur_bytes(c, 2, &b))
		return false;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return true;
}

static bool cur_u32(struct cur *c, uint32_t *v)
{
	const uint8_t *b;

	if (!cur_bytes(c, 4, &b))
		return false;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	     (uint32_t)b[3] << 24;
	return true;
}

static enum mb_err short_read(char *why, size_t why_len, const struct cur *c,
			      size_t need, const char *field)
{
	return fail(why, why_len, MB_E_TRUNCATED, cur_pos(c),
		    "%s: needs %zu bytes, %zu left", field, need, cur_left(c));
}

/* --------------------------------------------------------- per-type rules */

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Index of the first bank whose digest is not H(p, n), -1 when all match,
 * -2 when hashing failed. */
static int digests_mismatch(const struct mb_digests *d, const void *p, size_t n)
{
	for (unsigned i = 0; i < d->n; i++) {
		uint8_t h[MB_DIGEST_MAX];

		if (!EVP_Digest(n ? p : "", n, h, NULL, alg_md(d->v[i].alg),
				NULL))
			return -2;
		if (memcmp(h, d->v[i].d, mb_alg_size(d->v[i].alg)) != 0)
			return (int)i;
	}
	return -1;
}

struct parse_state {
	bool pcr0_extended;
	bool locality_seen;
	int startup_locality;
};

/* The rules each record must satisfy beyond its framing.  dig_off[i] is
 * the log offset of digest i, data_off of the event data. */
static enum mb_err check_event(const struct mb_event *ev, const size_t *dig_off,
			       size_t data_off, struct parse_state *st,
			       char *why, size_t why_len)
{
	const char *tn = mb_event_type_name(ev->type);
	int bad = -1;

	switch (ev->type) {
	case MB_EV_NO_ACTION:
		for (unsigned i = 0; i < ev->digests.n; i++)
			if (!all_zero(ev->digests.v[i].d,
				      mb_alg_size(ev->digests.v[i].alg)))
				return fail(why, why_len, MB_E_DIGESTS,
					    dig_off[i],
					    "event %u EV_NO_ACTION %s digest: "
					    "not zero",
					    ev->index,
					    mb_alg_name(ev->digests.v[i].alg));
		if (ev->data_len >= 13 &&
		    memcmp(ev->data, "Spec ID Event", 13) == 0)
			return fail(why, why_len, MB_E_HEADER, data_off,
				    "event %u EV_NO_ACTION data: a second "
				    "Spec ID header",
				    ev->index);
		if (ev->data_len >= sizeof(STARTUP_LOC_SIG) &&
		    memcmp(ev->data, STARTUP_LOC_SIG,
			   sizeof(STARTUP_LOC_SIG)) == 0) {
			if (ev->data_len != STARTUP_LOC_LEN)
				return fail(why, why_len, MB_E_DATA, data_off,
					    "event %u StartupLocality: %u "
					    "bytes, must be %u",
					    ev->index, ev->data_len,
					    STARTUP_LOC_LEN);
			if (ev->pcr != 0 || st->locality_seen ||
			    st->pcr0_extended)
				return fail(why, why_len, MB_E_DATA, data_off,
					    "event %u StartupLocality: only "
					    "once, on PCR 0, before PCR 0 is "
					    "extended",
					    ev->index);
			if (ev->data[STARTUP_LOC_LEN - 1] > 4)
				return fail(why, why_len, MB_E_DATA,
					    data_off + STARTUP_LOC_LEN - 1,
					    "event %u StartupLocality: "
					    "locality %u, must be 0..4",
					    ev->index,
					    ev->data[STARTUP_LOC_LEN - 1]);
			st->locality_seen = true;
			st->startup_locality = ev->data[STARTUP_LOC_LEN - 1];
		}
		return MB_OK;
	case MB_EV_SEPARATOR:
		if (ev->data_len != SEPARATOR_LEN ||
		    (!all_zero(ev->data, SEPARATOR_LEN) &&
		     memcmp(ev->data, "\xff\xff\xff\xff", 4) != 0))
			return fail(why, why_len, MB_E_DATA, data_off,
				    "event %u EV_SEPARATOR data: must be "
				    "00000000 or ffffffff",
				    ev->index);
		bad = digests_mismatch(&ev->digests, ev->data, ev->data_len);
		break;
	case MB_EV_S_CRTM_VERSION:
		bad = digests_mismatch(&ev->digests, ev->data, ev->data_len);
		break;
	case MB_EV_IPL:
		if (ev->pcr == 8) {
			/* GRUB's convention: "<tag>: <text>", the digest is
			 * over the text (with or without its NUL). */
			const uint8_t *sp = memchr(ev->data, ' ', ev->data_len);
			size_t n;

			if (!sp)
				return fail(why, why_len, MB_E_DATA, data_off,
					    "event %u EV_IPL on PCR 8 data: no "
					    "\"<tag>: \" prefix",
					    ev->index);
			n = ev->data_len - (size_t)(sp + 1 - ev->data);
			bad = digests_mismatch(&ev->digests, sp + 1, n);
			if (bad >= 0 && n > 0 && sp[n] == 0)
				bad = digests_mismatch(&ev->digests, sp + 1,
						       n - 1);
		}
		break;
	default:
		break;
	}
	if (bad == -2)
		return fail(why, why_len, MB_E_CRYPTO, data_off,
			    "event %u: hashing failed", ev->index);
	if (bad >= 0)
		return fail(why, why_len, MB_E_DATA, dig_off[bad],
			    "event %u %s on PCR %u %s digest: not the hash "
			    "of its event data",
			    ev->index, tn, ev->pcr,
			    mb_alg_name(ev->digests.v[bad].alg));
	if (ev->pcr == 0)
		st->pcr0_extended = true;
	return MB_OK;
}

/* ---------------------------------------------------------------- parser */

static enum mb_err parse_header(struct cur *c, struct mb_spec_id *h, char *why,
				size_t why_len)
{
	uint32_t pcr, type, size, nalgs;
	const uint8_t *digest, *sig, *body;
	struct cur s;
	size_t at;

	at = cur_pos(c);
	if (!cur_u32(c, &pcr))
		return short_read(why, why_len, c, 4, "header PCRIndex");
	if (pcr != 0)
		return fail(why, why_len, MB_E_HEADER, at,
			    "header PCRIndex: %u, must be 0", pcr);
	at = cur_pos(c);
	if (!cur_u32(c, &type))
		return short_read(why, why_len, c, 4, "header EventType");
	if (type != MB_EV_NO_ACTION)
		return fail(why, why_len, MB_E_HEADER, at,
			    "header EventType: %u, must be 3 (EV_NO_ACTION)",
			    type);
	at = cur_pos(c);
	if (!cur_bytes(c, 20, &digest))
		return short_read(why, why_len, c, 20, "header Digest");
	if (!all_zero(digest, 20))
		return fail(why, why_len, MB_E_HEADER, at,
			    "header Digest: not zero");
	at = cur_pos(c);
	if (!cur_u32(c, &size))
		return short_read(why, why_len, c, 4, "header EventSize");
	if (size > cur_left(c))
		return fail(why, why_len, MB_E_TRUNCATED, at,
			    "header EventSize: %u, only %zu bytes left", size,
			    cur_left(c));
	if (!cur_bytes(c, size, &body))
		return short_read(why, why_len, c, size, "header event");
	h->size = HDR_FIXED + size;

	/* The Spec ID structure, read within EventSize. */
	s = (struct cur){.p = body, .len = size, .base = cur_pos(c) - size};
	at = cur_pos(&s);
	if (!cur_bytes(&s, SPEC_ID_SIG_LEN, &sig))
		return short_read(why, why_len, &s, SPEC_ID_SIG_LEN,
				  "Spec ID signature (within EventSize)");
	if (memcmp(sig, SPEC_ID_SIG, SPEC_ID_SIG_LEN) != 0)
		return fail(
			why, why_len, MB_E_HEADER, at,
			"Spec ID signature: must be \"Spec ID Event03\\0\"");
	at = cur_pos(&s);
	if (!cur_u32(&s, &h->platform_class))
		return short_read(why, why_len, &s, 4, "platformClass");
	if (h->platform_class > 1)
		return fail(why, why_len, MB_E_HEADER, at,
			    "platformClass: %u, must be 0 (client) or 1 "
			    "(server)",
			    h->platform_class);
	at = cur_pos(&s);
	if (!cur_u8(&s, &h->version_minor) || !cur_u8(&s, &h->version_major))
		return short_read(why, why_len, &s, 2, "specVersion");
	if (h->version_major != 2 || h->version_minor != 0)
		return fail(why, why_len, MB_E_HEADER, at,
			    "specVersion: %u.%u, must be 2.0", h->version_major,
			    h->version_minor);
	at = cur_pos(&s);
	if (!cur_u8(&s, &h->errata))
		return short_read(why, why_len, &s, 1, "specErrata");
	if (h->errata > 2)
		return fail(why, why_len, MB_E_HEADER, at,
			    "specErrata: %u, must be 0..2", h->errata);
	at = cur_pos(&s);
	if (!cur_u8(&s, &h->uintn_size))
		return short_read(why, why_len, &s, 1, "uintnSize");
	if (h->uintn_size != 1 && h->uintn_size != 2)
		return fail(why, why_len, MB_E_HEADER, at,
			    "uintnSize: %u, must be 1 (UINT32) or 2 (UINT64)",
			    h->uintn_size);
	at = cur_pos(&s);
	if (!cur_u32(&s, &nalgs))
		return short_read(why, why_len, &s, 4, "numberOfAlgorithms");
	if (nalgs == 0 || nalgs > MB_MAX_BANKS)
		return fail(why, why_len, MB_E_ALG, at,
			    "numberOfAlgorithms: %u, must be 1..%u", nalgs,
			    MB_MAX_BANKS);
	h->nalgs = nalgs;
	for (unsigned i = 0; i < nalgs; i++) {
		uint16_t alg, dsize;

		at = cur_pos(&s);
		if (!cur_u16(&s, &alg) || !cur_u16(&s, &dsize))
			return short_read(why, why_len, &s, 4,
					  "digestSizes entry");
		if (!alg_find(alg))
			return fail(why, why_len, MB_E_ALG, at,
				    "digestSizes[%u] algorithmId: 0x%04x is "
				    "not sha1/sha256/sha384/sha512",
				    i, alg);
		for (unsigned j = 0; j < i; j++)
			if (h->algs[j] == alg)
				return fail(why, why_len, MB_E_ALG, at,
					    "digestSizes[%u] algorithmId: %s "
					    "listed twice",
					    i, mb_alg_name(alg));
		if (dsize != mb_alg_size(alg))
			return fail(why, why_len, MB_E_ALG, at + 2,
				    "digestSizes[%u] digestSize: %u, %s "
				    "digests are %zu bytes",
				    i, dsize, mb_alg_name(alg),
				    mb_alg_size(alg));
		h->algs[i] = alg;
	}
	if (!cur_u8(&s, &h->vendor_len))
		return short_read(why, why_len, &s, 1, "vendorInfoSize");
	if (!cur_bytes(&s, h->vendor_len, &h->vendor))
		return short_read(why, why_len, &s, h->vendor_len,
				  "vendorInfo");
	if (cur_left(&s) != 0)
		return fail(why, why_len, MB_E_HEADER, HDR_FIXED - 4,
			    "header EventSize: %u, but the Spec ID structure "
			    "ends after %zu bytes",
			    size, s.off);
	return MB_OK;
}

static enum mb_err parse_event(struct cur *c, const struct mb_spec_id *h,
			       struct mb_event *ev, struct parse_state *st,
			       char *why, size_t why_len)
{
	size_t dig_off[MB_MAX_BANKS] = {0};
	const uint8_t *data;
	uint32_t count, size;
	size_t at, data_off;
	bool seen[MB_MAX_BANKS] = {false};

	ev->offset = (uint32_t)cur_pos(c);
	at = cur_pos(c);
	if (!cur_u32(c, &ev->pcr))
		return short_read(why, why_len, c, 4, "PCRIndex");
	if (ev->pcr >= MB_PCR_COUNT)
		return fail(why, why_len, MB_E_PCR, at,
			    "event %u PCRIndex: %u, must be 0..%u", ev->index,
			    ev->pcr, MB_PCR_COUNT - 1);
	at = cur_pos(c);
	if (!cur_u32(c, &ev->type))
		return short_read(why, why_len, c, 4, "EventType");
	if (!mb_event_type_name(ev->type))
		return fail(why, why_len, MB_E_TYPE, at,
			    "event %u EventType: 0x%08x is not a known type",
			    ev->index, ev->type);
	at = cur_pos(c);
	if (!cur_u32(c, &count))
		return short_read(why, why_len, c, 4, "DigestCount");
	if (count != h->nalgs)
		return fail(why, why_len, MB_E_DIGESTS, at,
			    "event %u DigestCount: %u, the header lists %u "
			    "algorithms",
			    ev->index, count, h->nalgs);
	ev->digests.n = count;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *d;
		uint16_t alg;
		unsigned k;

		at = cur_pos(c);
		if (!cur_u16(c, &alg))
			return short_read(why, why_len, c, 2, "AlgorithmId");
		for (k = 0; k < h->nalgs && h->algs[k] != alg; k++)
			;
		if (k == h->nalgs)
			return fail(why, why_len, MB_E_ALG, at,
				    "event %u digest %u AlgorithmId: 0x%04x "
				    "is not in the header",
				    ev->index, i, alg);
		if (seen[k])
			return fail(why, why_len, MB_E_ALG, at,
				    "event %u digest %u AlgorithmId: %s "
				    "twice",
				    ev->index, i, mb_alg_name(alg));
		seen[k] = true;
		dig_off[k] = cur_pos(c);
		if (!cur_bytes(c, mb_alg_size(alg), &d))
			return short_read(why, why_len, c, mb_alg_size(alg),
					  "digest");
		/* Stored in header order, whatever order the log uses. */
		ev->digests.v[k].alg = alg;
		memcpy(ev->digests.v[k].d, d, mb_alg_size(alg));
	}
	at = cur_pos(c);
	if (!cur_u32(c, &size))
		return short_read(why, why_len, c, 4, "EventSize");
	if (size > cur_left(c))
		return fail(why, why_len, MB_E_TRUNCATED, at,
			    "event %u EventSize: %u, only %zu bytes left",
			    ev->index, size, cur_left(c));
	data_off = cur_pos(c);
	if (!cur_bytes(c, size, &data))
		return short_read(why, why_len, c, size, "event data");
	ev->data = data;
	ev->data_len = size;
	return check_event(ev, dig_off, data_off, st, why, why_len);
}

enum mb_err mb_log_parse(const uint8_t *buf, size_t len, struct mb_parsed *out,
			 char *why, size_t why_len)
{
	struct parse_state st = {.startup_locality = -1};
	struct cur c = {.p = buf, .len = len};
	struct mb_parsed p = {.startup_locality = -1};
	size_t cap = 0;
	enum mb_err err;

	if (why && why_len)
		why[0] = 0;
	if (!out || (!buf && len))
		return MB_E_INVAL;
	memset(out, 0, sizeof(*out));
	out->startup_locality = -1;
	if (len > MB_LOG_MAX)
		return fail(why, why_len, MB_E_TOO_BIG, 0,
			    "log: %zu bytes, at most %u", len, MB_LOG_MAX);
	if (!buf)
		c.p = (const uint8_t *)"";
	err = parse_header(&c, &p.hdr, why, why_len);
	if (err)
		return err;
	while (cur_left(&c) > 0) {
		struct mb_event ev = {.index = (uint32_t)p.nevents + 1};

		if (p.nevents == MB_LOG_MAX_EVENTS) {
			err = fail(why, why_len, MB_E_TOO_BIG, cur_pos(&c),
				   "event %u: more than %u events", ev.index,
				   MB_LOG_MAX_EVENTS);
			goto out;
		}
		err = parse_event(&c, &p.hdr, &ev, &st, why, why_len);
		if (err)
			goto out;
		if (p.nevents == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct mb_event *n;

			if (ncap > MB_LOG_MAX_EVENTS)
				ncap = MB_LOG_MAX_EVENTS;
			n = realloc(p.ev, ncap * sizeof(*n));
			if (!n) {
				err = MB_E_NOMEM;
				goto out;
			}
			p.ev = n;
			cap = ncap;
		}
		p.ev[p.nevents++] = ev;
	}
	p.startup_locality = st.startup_locality;
	*out = p;
	return MB_OK;
out:
	free(p.ev);
	return err;
}

void mb_parsed_free(struct mb_parsed *p)
{
	if (!p)
		return;
	free(p->ev);
	memset(p, 0, sizeof(*p));
	p->startup_locality = -1;
}

bool mb_event_extends(const struct mb_event *ev)
{
	return ev && ev->type != MB_EV_NO_ACTION;
}

/* ---------------------------------------------------------------- replay */

const struct mb_pcr_bank *mb_pcrs_bank(const struct mb_pcrs *p, uint16_t alg)
{
	for (unsigned i = 0; p && i < p->nbanks && i < MB_MAX_BANKS; i++)
		if (p->bank[i].alg == alg)
			return &p->bank[i];
	return NULL;
}

enum mb_err mb_log_replay(const struct mb_parsed *log, struct mb_pcrs *out)
{
	EVP_MD_CTX *ctx;
	enum mb_err err = MB_OK;

	if (!log || !out || log->hdr.nalgs == 0 ||
	    log->hdr.nalgs > MB_MAX_BANKS)
		return MB_E_INVAL;
	memset(out, 0, sizeof(*out));
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return MB_E_NOMEM;
	out->nbanks = log->hdr.nalgs;
	for (unsigned b = 0; b < out->nbanks; b++) {
		struct mb_pcr_bank *bk = &out->bank[b];

		bk->alg = log->hdr.algs[b];
		bk->size = (uint16_t)mb_alg_size(bk->alg);
		bk->valid = (1u << MB_PCR_COUNT) - 1;
		/* The DRTM PCRs reset to all ones (TPM 2.0 Part 1, PC
		 * Client PTP: PCRs 17..22 are -1 until a D-RTM event). */
		for (unsigned i = 17; i <= 22; i++)
			memset(bk->pcr[i], 0xff, bk->size);
		if (log->startup_locality >= 0)
			bk->pcr[0][bk->size - 1] =
				(uint8_t)log->startup_locality;
	}
	for (size_t i = 0; i < log->nevents; i++) {
		const struct mb_event *ev = &log->ev[i];

		if (!mb_event_extends(ev))
			continue;
		if (ev->pcr >= MB_PCR_COUNT || ev->digests.n != out->nbanks) {
			err = MB_E_INVAL;
			goto out;
		}
		for (unsigned b = 0; b < out->nbanks; b++) {
			struct mb_pcr_bank *bk = &out->bank[b];
			const uint8_t *d =
				mb_digests_get(&ev->digests, bk->alg);

			if (!d) {
				err = MB_E_INVAL;
				goto out;
			}
			if (!EVP_DigestInit_ex(ctx, alg_md(bk->alg), NULL) ||
			    !EVP_DigestUpdate(ctx, bk->pcr[ev->pcr],
					      bk->size) ||
			    !EVP_DigestUpdate(ctx, d, bk->size) ||
			    !EVP_DigestFinal_ex(ctx, bk->pcr[ev->pcr], NULL)) {
				err = MB_E_CRYPTO;
				goto out;
			}
			bk->extended |= 1u << ev->pcr;
		}
	}
out:
	EVP_MD_CTX_free(ctx);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

/* ---------------------------------------------------------------- writer */

/* Room for n more bytes (total stays <= MB_LOG_MAX). */
static enum mb_err log_reserve(struct mb_log *log, size_t n)
{
	size_t ncap;
	uint8_t *nb;

	if (n > MB_LOG_MAX - log->len)
		return MB_E_TOO_BIG;
	if (log->cap - log->len >= n)
		return MB_OK;
	ncap = log->cap ? log->cap : 512;
	while (ncap - log->len < n)
		ncap *= 2;
	if (ncap > MB_LOG_MAX)
		ncap = MB_LOG_MAX;
	nb = realloc(log->buf, ncap);
	if (!nb)
		return MB_E_NOMEM;
	log->buf = nb;
	log->cap = ncap;
	return MB_OK;
}

enum mb_err mb_log_init(struct mb_log *log, const uint16_t *algs,
			unsigned nalgs)
{
	size_t spec, total;
	uint8_t *p;
	enum mb_err err;

	if (!log)
		return MB_E_INVAL;
	memset(log, 0, sizeof(*log));
	if (!algs_ok(algs, nalgs))
		return MB_E_INVAL;
	spec = SPEC_ID_FIXED + 4u * nalgs;
	total = HDR_FIXED + spec;
	err = log_reserve(log, total);
	if (err)
		return err;
	p = log->buf;
	memset(p, 0, total);
	vtpm_put_le32(p + 0, 0);	       /* PCRIndex */
	vtpm_put_le32(p + 4, MB_EV_NO_ACTION); /* EventType */
	vtpm_put_le32(p + 28, (uint32_t)spec); /* EventSize; Digest stays 0 */
	memcpy(p + 32, SPEC_ID_SIG, SPEC_ID_SIG_LEN);
	vtpm_put_le32(p + 48, 0); /* platformClass: client */
	p[52] = 0;		  /* specVersionMinor */
	p[53] = 2;		  /* specVersionMajor */
	p[54] = 0;		  /* specErrata */
	p[55] = 2;		  /* uintnSize: UINT64 */
	vtpm_put_le32(p + 56, nalgs);
	for (unsigned i = 0; i < nalgs; i++) {
		vtpm_put_le16(p + 60 + 4 * i, algs[i]);
		vtpm_put_le16(p + 62 + 4 * i, (uint16_t)mb_alg_size(algs[i]));
		log->algs[i] = algs[i];
	}
	p[60 + 4 * nalgs] = 0; /* vendorInfoSize */
	log->len = total;
	log->nalgs = nalgs;
	return MB_OK;
}

void mb_log_release(struct mb_log *log)
{
	if (!log)
		return;
	free(log->buf);
	memset(log, 0, sizeof(*log));
}

enum mb_err mb_log_add(struct mb_log *log, uint32_t pcr, uint32_t type,
		       const struct mb_digests *d, const void *data,
		       size_t data_len)
{
	struct mb_parsed check;
	size_t rec = EV2_FIXED + 4, old = log ? log->len : 0;
	uint8_t *p;
	enum mb_err err;

	if (!log || !log->buf || !d || (!data && data_len) ||
	    pcr >= MB_PCR_COUNT || !mb_event_type_name(type) ||
	    log->nevents >= MB_LOG_MAX_EVENTS || data_len > MB_LOG_MAX)
		return MB_E_INVAL;
	for (unsigned i = 0; i < log->nalgs; i++) {
		if (!mb_digests_get(d, log->algs[i]))
			return MB_E_INVAL;
		rec += 2 + mb_alg_size(log->algs[i]);
	}
	rec += data_len;
	err = log_reserve(log, rec);
	if (err)
		return err;
	p = log->buf + log->len;
	vtpm_put_le32(p, pcr);
	vtpm_put_le32(p + 4, type);
	vtpm_put_le32(p + 8, log->nalgs);
	p += EV2_FIXED;
	for (unsigned i = 0; i < log->nalgs; i++) {
		size_t n = mb_alg_size(log->algs[i]);

		vtpm_put_le16(p, log->algs[i]);
		memcpy(p + 2, mb_digests_get(d, log->algs[i]), n);
		p += 2 + n;
	}
	vtpm_put_le32(p, (uint32_t)data_len);
	if (data_len)
		memcpy(p + 4, data, data_len);
	log->len += rec;
	/* Never emit what our own parser refuses (a separator that is not
	 * H(data), a second StartupLocality, ...): parse the whole log. */
	err = mb_log_parse(log->buf, log->len, &check, NULL, 0);
	mb_parsed_free(&check);
	if (err) {
		log->len = old;
		return err == MB_E_NOMEM ? err : MB_E_INVAL;
	}
	log->nevents++;
	return MB_OK;
}

enum mb_err mb_log_measure(struct mb_log *log, uint32_t pcr, uint32_t type,
			   const void *measured, size_t measured_len,
			   const void *data, size_t data_len,
			   struct mb_digests *out)
{
	struct mb_digests d;
	enum mb_err err;

	if (!log)
		return MB_E_INVAL;
	err = mb_digests_buf(log->algs, log->nalgs, measured, measured_len, &d);
	if (err)
		return err;
	err = mb_log_add(log, pcr, type, &d, data, data_len);
	if (!err && out)
		*out = d;
	return err;
}

/* Printable ASCII, 0 < strlen <= max (or empty when allowed). */
static bool text_ok(const char *s, size_t max, bool empty_ok)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, max + 1);
	if (n > max || (n == 0 && !empty_ok))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* "<prefix><text>\0" into a fresh buffer. */
static uint8_t *tagged(const char *prefix, const char *text, size_t *len)
{
	size_t a = strlen(prefix), b = strlen(text);
	uint8_t *p = malloc(a + b + 1);

	if (!p)
		return NULL;
	memcpy(p, prefix, a);
	memcpy(p + a, text, b);
	p[a + b] = 0;
	*len = a + b + 1;
	return p;
}

enum mb_err mb_log_boot(struct mb_log *log, const struct mb_boot *b)
{
	static const uint8_t sep[SEPARATOR_LEN] = {0};
	const char *crtm;
	uint8_t *data = NULL;
	size_t len = 0, header_len;
	unsigned header_events;
	enum mb_err err;

	if (!log || !log->buf || !b || log->nevents != 0)
		return MB_E_INVAL;
	crtm = b->crtm ? b->crtm : MB_CRTM_DEFAULT;
	if (!text_ok(crtm, MB_NAME_MAX, false) ||
	    !text_ok(b->kernel_name, MB_NAME_MAX, false) ||
	    (b->initrd_name && !text_ok(b->initrd_name, MB_NAME_MAX, false)) ||
	    !text_ok(b->cmdline, MB_CMDLINE_MAX, true))
		return MB_E_INVAL;
	header_len = log->len;
	header_events = log->nevents;

	/* PCR 0: who measured, as UTF-16LE with its NUL (what firmware
	 * writes in EV_S_CRTM_VERSION). */
	len = 2 * (strlen(crtm) + 1);
	data = calloc(1, len);
	if (!data) {
		err = MB_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; crtm[i]; i++)
		data[2 * i] = (uint8_t)crtm[i];
	err = mb_log_measure(log, MB_PCR_CRTM, MB_EV_S_CRTM_VERSION, data, len,
			     data, len, NULL);
	free(data);
	data = NULL;
	if (err)
		goto out;
	for (uint32_t pcr = 0; pcr < MB_SEPARATOR_PCRS; pcr++) {
		err = mb_log_measure(log, pcr, MB_EV_SEPARATOR, sep,
				     sizeof(sep), sep, sizeof(sep), NULL);
		if (err)
			goto out;
	}
	data = tagged(MB_PREFIX_KERNEL, b->kernel_name, &len);
	if (!data) {
		err = MB_E_NOMEM;
		goto out;
	}
	err = mb_log_add(log, MB_PCR_KERNEL, MB_EV_IPL, &b->kernel, data, len);
	free(data);
	data = NULL;
	if (err)
		goto out;
	if (b->initrd_name) {
		data = tagged(MB_PREFIX_INITRD, b->initrd_name, &len);
		if (!data) {
			err = MB_E_NOMEM;
			goto out;
		}
		err = mb_log_add(log, MB_PCR_INITRD, MB_EV_IPL, &b->initrd,
				 data, len);
		free(data);
		data = NULL;
		if (err)
			goto out;
	}
	data = tagged(MB_PREFIX_CMDLINE, b->cmdline, &len);
	if (!data) {
		err = MB_E_NOMEM;
		goto out;
	}
	err = mb_log_measure(log, MB_PCR_CMDLINE, MB_EV_IPL, b->cmdline,
			     strlen(b->cmdline), data, len, NULL);
	free(data);
	data = NULL;
out:
	if (err) {
		log->len = header_len;
		log->nevents = header_events;
	}
	return err;
}

/* ------------------------------------------------------- the hvsec layout */

/* NUL-terminated printable ASCII after `prefix`; the text's length. */
static bool tagged_text(const struct mb_event *ev, const char *prefix,
			const char **text, uint32_t *text_len)
{
	size_t pl = strlen(prefix);

	if (ev->data_len < pl + 1 || memcmp(ev->data, prefix, pl) != 0 ||
	    ev->data[ev->data_len - 1] != 0)
		return false;
	for (size_t i = pl; i + 1 < ev->data_len; i++)
		if (ev->data[i] < 0x20 || ev->data[i] > 0x7e)
			return false;
	*text = (const char *)ev->data + pl;
	*text_len = ev->data_len - (uint32_t)pl - 1;
	return true;
}

static bool has_prefix(const struct mb_event *ev, const char *prefix)
{
	size_t pl = strlen(prefix);

	return ev->data_len >= pl && memcmp(ev->data, prefix, pl) == 0;
}

enum mb_err mb_log_boot_view(const struct mb_parsed *log,
			     struct mb_boot_view *out, char *why,
			     size_t why_len)
{
	struct mb_boot_view v = {0};

	if (why && why_len)
		why[0] = 0;
	if (!log || !out)
		return MB_E_INVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < log->nevents; i++) {
		const struct mb_event *ev = &log->ev[i];
		const struct mb_event **slot;
		const char *what, **text;
		uint32_t *text_len;

		if (!mb_event_extends(ev) ||
		    (ev->pcr != MB_PCR_CMDLINE && ev->pcr != MB_PCR_KERNEL &&
		     ev->pcr != MB_PCR_INITRD))
			continue;
		if (ev->type == MB_EV_IPL && ev->pcr == MB_PCR_KERNEL &&
		    has_prefix(ev, MB_PREFIX_KERNEL)) {
			slot = &v.kernel, what = "kernel";
			text = &v.kernel_name, text_len = &v.kernel_name_len;
			if (!tagged_text(ev, MB_PREFIX_KERNEL, text, text_len))
				goto bad_text;
		} else if (ev->type == MB_EV_IPL && ev->pcr == MB_PCR_INITRD &&
			   has_prefix(ev, MB_PREFIX_INITRD)) {
			slot = &v.initrd, what = "initrd";
			text = &v.initrd_name, text_len = &v.initrd_name_len;
			if (!tagged_text(ev, MB_PREFIX_INITRD, text, text_len))
				goto bad_text;
		} else if (ev->type == MB_EV_IPL && ev->pcr == MB_PCR_CMDLINE &&
			   has_prefix(ev, MB_PREFIX_CMDLINE)) {
			slot = &v.cmdline, what = "command line";
			text = &v.cmdline_text, text_len = &v.cmdline_len;
			if (!tagged_text(ev, MB_PREFIX_CMDLINE, text, text_len))
				goto bad_text;
		} else {
			return fail(why, why_len, MB_E_LAYOUT, ev->offset,
				    "event %u: %s on PCR %u is not a kernel, "
				    "initrd or command line event",
				    ev->index, mb_event_type_name(ev->type),
				    ev->pcr);
		}
		if (*slot)
			return fail(why, why_len, MB_E_LAYOUT, ev->offset,
				    "event %u: a second %s (the first is "
				    "event %u)",
				    ev->index, what, (*slot)->index);
		*slot = ev;
		continue;
	bad_text:
		return fail(why, why_len, MB_E_LAYOUT, ev->offset,
			    "event %u: event data is not a NUL-terminated "
			    "printable string",
			    ev->index);
	}
	if (!v.kernel)
		return fail(why, why_len, MB_E_LAYOUT, 0,
			    "log: no kernel event (EV_IPL \"%s...\" on PCR %u)",
			    MB_PREFIX_KERNEL, MB_PCR_KERNEL);
	if (!v.cmdline)
		return fail(why, why_len, MB_E_LAYOUT, 0,
			    "log: no command line event (EV_IPL \"%s...\" on "
			    "PCR %u)",
			    MB_PREFIX_CMDLINE, MB_PCR_CMDLINE);
	*out = v;
	return MB_OK;
}

/* ------------------------------------------------------- TPM commands */

size_t mb_pcr_extend_cmd(const struct mb_event *ev, uint8_t *buf, size_t cap)
{
	size_t n = 10 + 4 + 4 + 9 + 4;
	uint8_t *p;

	if (!ev || !buf || !mb_event_extends(ev) || ev->pcr >= MB_PCR_COUNT ||
	    ev->digests.n == 0 || ev->digests.n > MB_MAX_BANKS)
		return 0;
	for (unsigned i = 0; i < ev->digests.n; i++) {
		if (!mb_alg_size(ev->digests.v[i].alg))
			return 0;
		n += 2 + mb_alg_size(ev->digests.v[i].alg);
	}
	if (n > cap)
		return 0;
	p = buf;
	vtpm_put_be16(p, 0x8002); /* TPM_ST_SESSIONS */
	vtpm_put_be32(p + 2, (uint32_t)n);
	vtpm_put_be32(p + 6, 0x182); /* TPM_CC_PCR_Extend */
	vtpm_put_be32(p + 10, ev->pcr);
	vtpm_put_be32(p + 14, 9);	    /* authorizationSize */
	vtpm_put_be32(p + 18, 0x40000009u); /* TPM_RS_PW */
	vtpm_put_be16(p + 22, 0);	    /* nonceCaller */
	p[24] = 0;			    /* sessionAttributes */
	vtpm_put_be16(p + 25, 0);	    /* hmac: empty password */
	vtpm_put_be32(p + 27, ev->digests.n);
	p += 31;
	for (unsigned i = 0; i < ev->digests.n; i++) {
		size_t ds = mb_alg_size(ev->digests.v[i].alg);

		vtpm_put_be16(p, ev->digests.v[i].alg);
		memcpy(p + 2, ev->digests.v[i].d, ds);
		p += 2 + ds;
	}
	return n;
}
