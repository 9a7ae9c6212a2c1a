/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mb_log.h - measured boot: the crypto-agile TCG event log (TCG PC Client
 * Platform Firmware Profile, "Spec ID Event03" header + TCG_PCR_EVENT2
 * records) that the toolstack writes while it extends a guest's vTPM, and
 * the strict parser + replayer a verifier runs over it.
 *
 * Writing (toolstack, before the guest is unpaused):
 *
 *   struct mb_log log;
 *   mb_log_init(&log, (uint16_t[]){MB_ALG_SHA1, MB_ALG_SHA256}, 2);
 *   mb_digests_fd(kfd, log.algs, log.nalgs, &boot.kernel);  (as loaded)
 *   mb_log_boot(&log, &boot);       the hvsec layout (docs/measured-boot.md)
 *   mb_log_parse(log.buf, log.len, &p, why, sizeof(why));
 *   for each p.ev[i] with mb_event_extends(): mb_pcr_extend_cmd() -> vTPM
 *
 * Reading (verifier): mb_log_parse() then mb_log_replay() gives the PCR
 * values the log claims, mb_log_boot_view() finds the kernel, initrd and
 * command line events.  The parser is written for hostile input: every
 * length is checked against what is left before it is used, the log is at
 * most MB_LOG_MAX bytes and MB_LOG_MAX_EVENTS records, and anything the
 * strict rules (docs/measured-boot.md §3) do not allow is refused with a
 * message naming the byte offset and the field.  Nothing is extended or
 * trusted from a log that did not parse completely.
 *
 * All integers in the log are little-endian (it is a firmware structure);
 * TPM commands built here are big-endian (TPM wire format).
 */
#ifndef HVSEC_MB_LOG_H
#define HVSEC_MB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ constants */

/* TPM_ALG_ID values of the hash algorithms the log may carry. */
#define MB_ALG_SHA1   0x0004u
#define MB_ALG_SHA256 0x000bu
#define MB_ALG_SHA384 0x000cu
#define MB_ALG_SHA512 0x000du

#define MB_MAX_BANKS  4u  /* the four algorithms above, each at most once */
#define MB_DIGEST_MAX 64u /* SHA-512 */
#define MB_PCR_COUNT  24u /* PCRs 0..23, what a TPM 2.0 PC Client has */

#define MB_LOG_MAX	  (1u << 20) /* bytes; a larger log is refused */
#define MB_LOG_MAX_EVENTS 4096u	     /* records after the header */

/* Event types (TCG PC Client PFP, §10.4.1). */
#define MB_EV_PREBOOT_CERT	    0x00u
#define MB_EV_POST_CODE		    0x01u
#define MB_EV_NO_ACTION		    0x03u
#define MB_EV_SEPARATOR		    0x04u
#define MB_EV_ACTION		    0x05u
#define MB_EV_EVENT_TAG		    0x06u
#define MB_EV_S_CRTM_CONTENTS	    0x07u
#define MB_EV_S_CRTM_VERSION	    0x08u
#define MB_EV_CPU_MICROCODE	    0x09u
#define MB_EV_PLATFORM_CONFIG_FLAGS 0x0au
#define MB_EV_TABLE_OF_DEVICES	    0x0bu
#define MB_EV_COMPACT_HASH	    0x0cu
#define MB_EV_IPL		    0x0du
#define MB_EV_IPL_PARTITION_DATA    0x0eu
#define MB_EV_NONHOST_CODE	    0x0fu
#define MB_EV_NONHOST_CONFIG	    0x10u
#define MB_EV_NONHOST_INFO	    0x11u
#define MB_EV_OMIT_BOOT_DEVICE_EVENTS 0x12u
#define MB_EV_EFI_BASE		    0x80000000u /* + 1..0xC, 0x10, 0xE0 */

/* The hvsec layout (docs/measured-boot.md §2): which PCR gets what.  The
 * GRUB / Linux convention, so that tpm2_eventlog prints no warning and
 * Keylime accepts the log. */
#define MB_PCR_CRTM    0u /* EV_S_CRTM_VERSION: who measured (the toolstack) */
#define MB_PCR_CMDLINE 8u /* EV_IPL "kernel_cmdline: <cmdline>\0", H(cmdline) */
#define MB_PCR_KERNEL  9u /* EV_IPL "kernel: <name>\0", H(kernel image) */
#define MB_PCR_INITRD  9u /* EV_IPL "initrd: <name>\0", H(initrd image) */
#define MB_SEPARATOR_PCRS 8u /* EV_SEPARATOR 00000000 on PCRs 0..7 */

/* Event data prefixes of the hvsec layout (without the NUL). */
#define MB_PREFIX_KERNEL  "kernel: "
#define MB_PREFIX_INITRD  "initrd: "
#define MB_PREFIX_CMDLINE "kernel_cmdline: "
#define MB_CRTM_DEFAULT	  "hvsec toolstack 1"
#define MB_NAME_MAX	  1024u /* kernel/initrd names, CRTM text */
#define MB_CMDLINE_MAX	  4096u /* bytes, without the NUL */

/* ---------------------------------------------------------------- errors */

enum mb_err {
	MB_OK = 0,
	MB_E_INVAL,	 /* a caller's argument (writer), not the log */
	MB_E_NOMEM,
	MB_E_CRYPTO,	 /* OpenSSL failed (not the input's fault) */
	MB_E_IO,	 /* reading a file to measure */
	MB_E_TRUNCATED,	 /* a field runs past the end of the log */
	MB_E_TOO_BIG,	 /* MB_LOG_MAX / MB_LOG_MAX_EVENTS / a limit above */
	MB_E_HEADER,	 /* the Spec ID Event03 header is not what we allow */
	MB_E_ALG,	 /* unknown, duplicate or missing hash algorithm */
	MB_E_DIGESTS,	 /* an event's digest list does not match the header */
	MB_E_PCR,	 /* PCR index out of range */
	MB_E_TYPE,	 /* unknown event type, or not allowed where it is */
	MB_E_DATA,	 /* event data malformed or not matching its digest */
	MB_E_LAYOUT,	 /* not the hvsec layout (mb_log_boot_view) */
};
const char *mb_strerror(enum mb_err e);

/* ------------------------------------------------------------ algorithms */

/* Digest size of a MB_ALG_*, 0 for anything else. */
size_t mb_alg_size(uint16_t alg);
/* "sha1", "sha256", ... or NULL. */
const char *mb_alg_name(uint16_t alg);
/* The MB_ALG_* named (exactly, lower case), or 0. */
uint16_t mb_alg_from_name(const char *name);
/* "EV_IPL", "EV_EFI_ACTION", ... or NULL for a type the parser refuses. */
const char *mb_event_type_name(uint32_t type);

struct mb_digest {
	uint16_t alg;
	uint8_t d[MB_DIGEST_MAX]; /* the first mb_alg_size(alg) bytes */
};
/* One digest per bank, in a given order (the log header's, when taken
 * from a parsed event). */
struct mb_digests {
	unsigned n;
	struct mb_digest v[MB_MAX_BANKS];
};
/* The digest for `alg` in d, or NULL. */
const uint8_t *mb_digests_get(const struct mb_digests *d, uint16_t alg);

/* Hashes len bytes with every algorithm of algs (distinct MB_ALG_*). */
enum mb_err mb_digests_buf(const uint16_t *algs, unsigned nalgs,
			   const void *p, size_t len, struct mb_digests *out);
/* The same over everything readable from fd (streamed: a kernel image
 * need not fit in memory).  Reads until EOF; MB_E_IO on a read error. */
enum mb_err mb_digests_fd(int fd, const uint16_t *algs, unsigned nalgs,
			  struct mb_digests *out);

/* ---------------------------------------------------------------- writer */

/* A log being written.  buf/len is always a complete, valid log (the
 * header, then every record added so far); a failed add leaves it as it
 * was.  One owner; release with mb_log_release(). */
struct mb_log {
	uint8_t *buf; /* owned (malloc) */
	size_t len, cap;
	unsigned nalgs;
	uint16_t algs[MB_MAX_BANKS]; /* header order = digest order */
	unsigned nevents;	     /* records after the header */
};

/* Starts a log with the Spec ID Event03 header for these banks (1..4
 * distinct MB_ALG_*, in the order given): PCR 0, EV_NO_ACTION, zero
 * digest, platformClass 0, specVersion 2.0, errata 0, uintnSize 2, exact
 * digestSizes, no vendor info. */
enum mb_err mb_log_init(struct mb_log *log, const uint16_t *algs,
			unsigned nalgs);
void mb_log_release(struct mb_log *log);

/* Appends a TCG_PCR_EVENT2 with one digest per bank of the header, in
 * header order, taken from d (which must hold every bank; extra ones are
 * ignored).  pcr < MB_PCR_COUNT, type known (mb_event_type_name), data_len
 * <= what MB_LOG_MAX leaves.  The record is checked against the parser's
 * per-type rules before it is appended: the writer never emits a log its
 * own parser refuses. */
enum mb_err mb_log_add(struct mb_log *log, uint32_t pcr, uint32_t type,
		       const struct mb_digests *d, const void *data,
		       size_t data_len);
/* The same with digest = H(measured) in every bank; out (may be NULL)
 * receives the digests. */
enum mb_err mb_log_measure(struct mb_log *log, uint32_t pcr, uint32_t type,
			   const void *measured, size_t measured_len,
			   const void *data, size_t data_len,
			   struct mb_digests *out);

/* What the toolstack measures for one guest boot (docs/measured-boot.md
 * §2).  Strings are NUL-terminated, printable ASCII (0x20..0x7e), no
 * longer than MB_NAME_MAX / MB_CMDLINE_MAX. */
struct mb_boot {
	const char *crtm;	    /* NULL: MB_CRTM_DEFAULT */
	const char *kernel_name;    /* logged (e.g. the path); not measured */
	struct mb_digests kernel;   /* H(kernel image as loaded), every bank */
	const char *initrd_name;    /* NULL: no initrd */
	struct mb_digests initrd;   /* when initrd_name != NULL */
	const char *cmdline;	    /* the guest's command line ("" allowed) */
};
/* Appends the hvsec layout to a log that holds only its header:
 *   PCR 0 EV_S_CRTM_VERSION  UTF-16LE crtm + NUL        H(data)
 *   PCR 0..7 EV_SEPARATOR    00000000                   H(data)
 *   PCR 9 EV_IPL             "kernel: <name>\0"         kernel digests
 *   PCR 9 EV_IPL             "initrd: <name>\0"         initrd digests
 *   PCR 8 EV_IPL             "kernel_cmdline: <cmd>\0"  H(cmd), no NUL
 * On error the log is left with only its header. */
enum mb_err mb_log_boot(struct mb_log *log, const struct mb_boot *b);

/* ---------------------------------------------------------------- parser */

/* The Spec ID Event03 header, as read. */
struct mb_spec_id {
	uint32_t platform_class;
	uint8_t version_minor, version_major, errata, uintn_size;
	unsigned nalgs;
	uint16_t algs[MB_MAX_BANKS]; /* header order */
	uint8_t vendor_len;
	const uint8_t *vendor; /* into the parsed buffer */
	uint32_t size;	       /* bytes of the header record */
};

struct mb_event {
	uint32_t index;	 /* 1.. (0 is the header, as tpm2_eventlog counts) */
	uint32_t offset; /* of the record in the log */
	uint32_t pcr, type;
	struct mb_digests digests; /* one per bank, in header order */
	const uint8_t *data;	   /* into the parsed buffer */
	uint32_t data_len;
};

/* A parsed log.  Points into the buffer given to mb_log_parse(), which
 * must outlive it.  Release with mb_parsed_free(). */
struct mb_parsed {
	struct mb_spec_id hdr;
	size_t nevents;
	struct mb_event *ev; /* owned (malloc), nevents entries */
	int startup_locality; /* from EV_NO_ACTION "StartupLocality", or -1 */
};

/* Parses a whole log (len bytes, nothing may follow the last record).
 * Strict rules (docs/measured-boot.md §3), checked in order:
 *  - header: PCR 0, EV_NO_ACTION, zero digest, EventSize exactly the Spec
 *    ID structure, signature "Spec ID Event03\0", platformClass 0 or 1,
 *    specVersion 2.0, errata 0..2, uintnSize 1 or 2, 1..4 algorithms,
 *    known and distinct, each with its real digest size;
 *  - each record: PCR < 24, a known event type, DigestCount equal to the
 *    header's, each header algorithm exactly once, EventSize within the
 *    log;
 *  - per type: EV_NO_ACTION digests all zero ("StartupLocality\0" + one
 *    byte 0..4 on PCR 0 at most once, before anything extends PCR 0; no
 *    second Spec ID); EV_SEPARATOR data 00000000 or ffffffff and digest =
 *    H(data); EV_S_CRTM_VERSION digest = H(data); EV_IPL on PCR 8 digest =
 *    H(text after the first space), with or without its trailing NUL.
 * On error *out is empty (nothing to free) and why (may be NULL) says
 * "offset N: FIELD: problem". */
enum mb_err mb_log_parse(const uint8_t *buf, size_t len, struct mb_parsed *out,
			 char *why, size_t why_len);
void mb_parsed_free(struct mb_parsed *p);

/* Whether the event changes a PCR (everything but EV_NO_ACTION). */
bool mb_event_extends(const struct mb_event *ev);

/* ---------------------------------------------------------------- replay */

struct mb_pcr_bank {
	uint16_t alg;
	uint16_t size;	   /* digest bytes */
	uint32_t valid;	   /* bit n: pcr[n] is known */
	uint32_t extended; /* bit n: something extended PCR n (replay only) */
	uint8_t pcr[MB_PCR_COUNT][MB_DIGEST_MAX];
};
/* PCR values per bank: a replayed log's, or values read from a TPM. */
struct mb_pcrs {
	unsigned nbanks;
	struct mb_pcr_bank bank[MB_MAX_BANKS];
};
/* The bank for alg, or NULL. */
const struct mb_pcr_bank *mb_pcrs_bank(const struct mb_pcrs *p, uint16_t alg);

/* The PCR values a TPM reaching Startup(CLEAR) and then extended with
 * exactly the log's events has, for every bank of the header: every PCR
 * starts at zero except 17..22 (all ones, as the TPM resets them) and PCR
 * 0 after a StartupLocality event (its last byte = the locality); each
 * event but EV_NO_ACTION extends its PCR in every bank:
 * new = H(old || digest).  All 24 PCRs are valid. */
enum mb_err mb_log_replay(const struct mb_parsed *log, struct mb_pcrs *out);

/* ----------------------------------------------------- the hvsec layout */

/* The events of the hvsec layout in a parsed log. */
struct mb_boot_view {
	const struct mb_event *kernel; /* never NULL on success */
	const struct mb_event *initrd; /* NULL: none measured */
	const struct mb_event *cmdline; /* never NULL on success */
	const char *kernel_name;	/* after the prefix, NUL-terminated */
	uint32_t kernel_name_len;
	const char *initrd_name;
	uint32_t initrd_name_len;
	const char *cmdline_text;	/* the measured command line */
	uint32_t cmdline_len;		/* its bytes, without the NUL */
};
/* Finds the kernel, initrd and command line events.  Refused (MB_E_LAYOUT,
 * naming the event): an EV_IPL on PCR 8 or 9 that is not one of ours, a
 * second kernel, initrd or command line, an event string that is not
 * NUL-terminated printable ASCII, no kernel, no command line. */
enum mb_err mb_log_boot_view(const struct mb_parsed *log,
			     struct mb_boot_view *out, char *why,
			     size_t why_len);

/* ------------------------------------------------------ TPM commands */

/* TPM2_PCR_Extend(pcr, every digest of ev) with an empty-password
 * session: the command that makes a TPM match the event.  Returns the
 * command's length, or 0 when cap is too small or ev does not extend. */
size_t mb_pcr_extend_cmd(const struct mb_event *ev, uint8_t *buf, size_t cap);

#endif /* HVSEC_MB_LOG_H */
