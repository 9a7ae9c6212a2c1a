/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * att_quote.h - attestation: verify a TPM2_Quote (TPMS_ATTEST + TPMT_SIGNATURE
 * by an attestation key given as TPM2B_PUBLIC) against a fresh nonce and
 * known PCR values (a replayed event log's, or values read from the TPM),
 * and compare a measured boot with a "golden values" file.
 *
 *   struct att_ak ak;            att_ak_load(&ak, tpm2b_public, len, ...)
 *   cmd = att_quote_cmd(...)     -> vTPM -> att_quote_response(rsp, ...)
 *   mb_log_parse + mb_log_replay -> struct mb_pcrs
 *   att_quote_verify(&ak, attest, sig, nonce, &pcrs, &q, why)  == ATT_OK
 *   att_golden_load("golden.txt", &g, why);
 *   att_golden_compare(&g, &parsed_log, &pcrs, &report)        == 0
 *
 * Every input here is untrusted (it comes from a guest's vTPM or a file):
 * TPM structures are unmarshalled with libtss2-mu, which bounds every
 * TPM2B against its buffer; we add that nothing may follow a structure and
 * the semantic checks.  The signature is checked before anything inside
 * the signed message is believed.  Signatures: RSASSA, RSAPSS and ECDSA
 * with SHA-256/384/512 (OpenSSL EVP).
 */
#ifndef HVSEC_ATT_QUOTE_H
#define HVSEC_ATT_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "vtpm-manager/mb_log.h"

enum att_err {
	ATT_OK = 0,
	ATT_E_INVAL,	    /* a caller's argument */
	ATT_E_NOMEM,
	ATT_E_CRYPTO,	    /* OpenSSL failed (not the input's fault) */
	ATT_E_IO,	    /* reading a file */
	ATT_E_TPM,	    /* the TPM answered an error */
	ATT_E_AK,	    /* the AK public area is malformed or unusable */
	ATT_E_AK_ATTRS,	    /* the AK is not a restricted, fixedTPM signing key */
	ATT_E_ATTEST_FORMAT, /* TPMS_ATTEST does not unmarshal (or trails) */
	ATT_E_SIG_FORMAT,   /* TPMT_SIGNATURE does not unmarshal (or trails) */
	ATT_E_SIG_ALG,	    /* signature scheme/hash unsupported or not the key's */
	ATT_E_SIGNATURE,    /* the signature does not verify */
	ATT_E_MAGIC,	    /* magic is not TPM_GENERATED_VALUE */
	ATT_E_TYPE,	    /* not TPM_ST_ATTEST_QUOTE */
	ATT_E_NONCE,	    /* extraData is not our nonce */
	ATT_E_PCR_SELECT,   /* the quote selects PCRs we have no values for */
	ATT_E_PCR_DIGEST,   /* pcrDigest does not match the PCR values */
	ATT_E_GOLDEN,	    /* the golden values file is malformed */
};
const char *att_strerror(enum att_err e);

/* ---------------------------------------------------------------- AK */

#define ATT_ALG_RSA	0x0001u
#define ATT_ALG_ECC	0x0023u
#define ATT_ALG_RSASSA	0x0014u
#define ATT_ALG_RSAPSS	0x0016u
#define ATT_ALG_ECDSA	0x0018u
#define ATT_ALG_NULL	0x0010u
#define ATT_NAME_MAX	68u /* TPM2B_NAME: sizeof(TPMU_NAME), >= 2 + 64 */

/* An attestation key's public half. */
struct att_ak {
	EVP_PKEY *pkey;	     /* owned; for signature checks */
	uint16_t type;	     /* ATT_ALG_RSA or ATT_ALG_ECC */
	uint16_t name_alg;
	uint32_t attributes; /* TPMA_OBJECT */
	uint16_t scheme;     /* the key's signing scheme, ATT_ALG_NULL if none */
	uint16_t scheme_hash;
	uint8_t name[ATT_NAME_MAX]; /* TPM Name: nameAlg || H(TPMT_PUBLIC) */
	size_t name_len;
};

/* Loads a marshalled TPM2B_PUBLIC (what tpm2_createak -u writes; nothing
 * may follow it): RSA (2048..4096 bits) or ECC (NIST P-256/384/521).
 * The key must be a restricted signing key that is fixedTPM and
 * fixedParent and was generated in the TPM (sensitiveDataOrigin): only
 * such a key refuses to sign outside data that starts with
 * TPM_GENERATED_VALUE, so only its quotes cannot be forged
 * (ATT_E_AK_ATTRS otherwise). */
enum att_err att_ak_load(struct att_ak *ak, const uint8_t *tpm2b_public,
			 size_t len, char *why, size_t why_len);
void att_ak_free(struct att_ak *ak);

/* ------------------------------------------------------------- quote */

#define ATT_MAX_SEL   16u /* TPM2_NUM_PCR_BANKS */
#define ATT_NONCE_MAX 64u /* TPM2B_DATA */

struct att_pcr_sel {
	uint16_t hash; /* MB_ALG_* */
	uint32_t mask; /* bit n: PCR n (0..23) */
};

/* A TPMS_ATTEST of type quote, as read. */
struct att_quote {
	uint32_t magic;
	uint16_t type;
	uint8_t signer[ATT_NAME_MAX]; /* qualifiedSigner */
	uint16_t signer_len;
	uint8_t nonce[ATT_NONCE_MAX]; /* extraData */
	uint16_t nonce_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	uint8_t safe;
	uint64_t firmware_version;
	unsigned nsel;
	struct att_pcr_sel sel[ATT_MAX_SEL];
	uint8_t pcr_digest[MB_DIGEST_MAX];
	uint16_t pcr_digest_len;
};

/* A TPMT_SIGNATURE, also in the "plain" form tpm2_checkquote and openssl
 * accept: the raw RSA signature, or the DER ECDSA-Sig-Value. */
struct att_sig {
	uint16_t alg;  /* ATT_ALG_RSASSA / RSAPSS / ECDSA */
	uint16_t hash; /* MB_ALG_* */
	size_t plain_len;
	uint8_t plain[512 + 16];
};

/* Unmarshals a TPMS_ATTEST (the bytes the TPM signed; nothing may follow)
 * of type TPM_ST_ATTEST_QUOTE.  Checks framing only (magic and type are
 * reported by att_quote_verify after the signature); PCR selections may
 * name only PCRs 0..23 of sha1/sha256/sha384/sha512. */
enum att_err att_attest_parse(const uint8_t *attest, size_t len,
			      struct att_quote *q, char *why, size_t why_len);
/* Unmarshals a TPMT_SIGNATURE (nothing may follow). */
enum att_err att_sig_parse(const uint8_t *sig, size_t len, struct att_sig *s,
			   char *why, size_t why_len);

/* Verifies a quote.  Checks, and reports the first that fails, in this
 * order: attest and signature framing; the signature's scheme is one the
 * key can make (the key's own scheme when it has one); the signature over
 * the attest bytes with the AK; magic TPM_GENERATED_VALUE; type
 * TPM_ST_ATTEST_QUOTE; extraData == nonce (exactly, length included);
 * every selected PCR has a valid value in pcrs; H_sig(selected PCR values
 * in selection order, PCRs ascending) == pcrDigest.  q (may be NULL)
 * receives the parsed quote when framing succeeded. */
enum att_err att_quote_verify(const struct att_ak *ak, const uint8_t *attest,
			      size_t attest_len, const uint8_t *sig,
			      size_t sig_len, const uint8_t *nonce,
			      size_t nonce_len, const struct mb_pcrs *pcrs,
			      struct att_quote *q, char *why, size_t why_len);

/* The digest a quote over `sel` would carry for these PCR values, hashed
 * with hash_alg.  ATT_E_PCR_SELECT (naming the PCR) when a value is
 * missing. */
enum att_err att_pcr_digest(const struct att_pcr_sel *sel, unsigned nsel,
			    const struct mb_pcrs *pcrs, uint16_t hash_alg,
			    uint8_t *out, size_t *out_len, char *why,
			    size_t why_len);

/* ------------------------------------------------------- TPM commands */

/* TPM2_Quote(key, qualifyingData = nonce, inScheme NULL (the key's),
 * PCRselect = sel) with an empty-password session.  Returns the length or
 * 0 (cap too small, bad argument). */
size_t att_quote_cmd(uint32_t key_handle, const uint8_t *nonce,
		     size_t nonce_len, const struct att_pcr_sel *sel,
		     unsigned nsel, uint8_t *buf, size_t cap);
/* Finds TPM2B_ATTEST's bytes and the TPMT_SIGNATURE in a TPM2_Quote
 * response (pointers into rsp).  ATT_E_TPM with *rc when the TPM refused. */
enum att_err att_quote_response(const uint8_t *rsp, size_t len, uint32_t *rc,
				const uint8_t **attest, size_t *attest_len,
				const uint8_t **sig, size_t *sig_len,
				char *why, size_t why_len);
/* TPM2_PCR_Read of one bank (mask: PCRs 0..23). */
size_t att_pcr_read_cmd(uint16_t hash, uint32_t mask, uint8_t *buf,
			size_t cap);
/* Adds the values of a TPM2_PCR_Read response to pcrs (creating the bank;
 * setting `valid` for each PCR read).  A TPM returns at most 8 digests per
 * read: call again for the PCRs still missing.  *read_mask (may be NULL)
 * gets the PCRs this response carried. */
enum att_err att_pcr_read_response(const uint8_t *rsp, size_t len,
				   struct mb_pcrs *pcrs, uint32_t *read_mask,
				   uint32_t *rc, char *why, size_t why_len);

/* tpm2-tools' "serialized" PCR file (tpm2_quote -o, tpm2_checkquote -f,
 * Keylime's quote blob): the in-memory TPML_PCR_SELECTION and tpm2_pcrs
 * structures, little-endian, 132 + 4 + 532 * ceil(PCRs / 8) bytes.
 * Writes it to buf (malloc'd, caller frees). */
enum att_err att_pcrs_serialize(const struct att_pcr_sel *sel, unsigned nsel,
				const struct mb_pcrs *pcrs, uint8_t **buf,
				size_t *len, char *why, size_t why_len);

/* ----------------------------------------------------- golden values */

#define ATT_GOLDEN_MAX	  (64u * 1024) /* bytes in a golden file */
#define ATT_GOLDEN_LINE_MAX 8192u	     /* bytes in one line */

/* A golden values file (format: docs/measured-boot.md §5):
 *   hvsec-golden 1
 *   kernel sha256 HEX        (any of sha1/sha256/sha384/sha512, each once)
 *   initrd sha256 HEX        or   initrd none
 *   cmdline "TEXT"           (\\ \" \xHH escapes)
 *   pcr 9 sha256 HEX
 * What is not named is not compared; at least one value is required. */
struct att_golden {
	struct mb_digests kernel; /* n == 0: not checked */
	struct mb_digests initrd;
	bool initrd_none; /* "initrd none": no initrd may be measured */
	char *cmdline;	  /* owned; NULL: not checked */
	size_t cmdline_len;
	struct mb_pcrs pcrs; /* per bank, valid = the PCRs named */
	unsigned nvalues;    /* lines that name a value */
};
/* Parses text (len bytes) named `name` in messages ("NAME:LINE: ...").
 * On error *g is empty. */
enum att_err att_golden_parse(const char *name, const char *text, size_t len,
			      struct att_golden *g, char *why, size_t why_len);
/* Reads and parses a file (at most ATT_GOLDEN_MAX bytes). */
enum att_err att_golden_load(const char *path, struct att_golden *g,
			     char *why, size_t why_len);
void att_golden_free(struct att_golden *g);
/* The golden values of a known-good boot, as text att_golden_parse reads
 * back: the kernel, initrd (or "initrd none") and command line of the
 * log's hvsec layout in every bank of the log, then "pcr N ALG HEX" for
 * each PCR of pcr_mask in every bank of pcrs.  *text is malloc'd
 * (caller frees).  ATT_E_INVAL when the log is not the hvsec layout
 * (why says why) or a PCR of pcr_mask has no value. */
enum att_err att_golden_format(const struct mb_parsed *log,
			       const struct mb_pcrs *pcrs, uint32_t pcr_mask,
			       char **text, char *why, size_t why_len);

/* The result of a comparison: one line per difference, e.g.
 *   "kernel: sha256 3f2a9c0b1d4e5f60... expected 9d0c1b2a3e4f5061..."
 *   "cmdline changed: \"quiet single\" expected \"quiet\""
 *   "pcr 9 sha256: 4db4c5d7... expected ..." */
struct att_report {
	size_t n;
	char **lines; /* owned; n strings */
	unsigned checked; /* values compared */
};
void att_report_free(struct att_report *r);

/* Compares a verified boot with golden values: kernel/initrd digests and
 * the command line from the log's hvsec layout (mb_log_boot_view), PCR
 * values from pcrs (the replayed log, verified against a quote).  Returns
 * the number of differences (0: everything named in g holds), or -1 on an
 * internal error (no memory).  A log that is not the hvsec layout counts
 * as one difference (the layout error). */
int att_golden_compare(const struct att_golden *g, const struct mb_parsed *log,
		       const struct mb_pcrs *pcrs, struct att_report *r);

#endif /* HVSEC_ATT_QUOTE_H */
