/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_ptpm.h - the platform TPM 2.0 as the vTPM manager uses it, its whole
 * interface, through tpm2-tss ESAPI and a TCTI string: a real host uses
 * "device:/dev/tpmrm0", tests a swtpm they start ("swtpm:host=127.0.0.1,
 * port=P").
 *
 *   mgr_ptpm_open(&tpm, &(struct mgr_ptpm_config){.tcti = "device:..."},
 *                 why, sizeof(why));
 *   mgr_ptpm_seal(tpm, MGR_PCRS_DEFAULT, root_key, &blob, &len, ...);
 *   mgr_ptpm_unseal(tpm, blob, len, root_key, why, sizeof(why));
 *       -> MGR_PTPM_E_POLICY when the platform's PCRs are not the sealed
 *          ones ("... PCRs that changed since sealing: 4"): the manager
 *          refuses to serve
 *   mgr_ptpm_counter_define(tpm, index, keys.counter_auth, ...);
 *   mgr_ptpm_counter(tpm, index, keys.counter_auth, &counter);
 *       -> the rollback anchor of mgr_seal.h's root-record protocol
 *   mgr_ptpm_deep_quote(tpm, pcrs, ek_pub, ek_len, &uuid, nonce, n, &q, ...);
 *
 * Secrets cross the TPM interface only inside sessions salted with the
 * storage primary key: the sealed key's sensitive data is parameter-
 * encrypted on the way in (Create) and out (Unseal), and the counter is
 * authorised by HMAC, never by a password in clear.  One thread uses a
 * struct mgr_ptpm at a time; it holds the TCTI connection (swtpm serves
 * one connection at a time).
 */
#ifndef HVSEC_MGR_PTPM_H
#define HVSEC_MGR_PTPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/mgr_seal.h"

enum mgr_ptpm_err {
	MGR_PTPM_OK = 0,
	MGR_PTPM_E_INVAL, /* bad argument: a bug in the caller */
	MGR_PTPM_E_NOMEM,
	MGR_PTPM_E_TCTI,       /* cannot reach the TPM through the TCTI */
	MGR_PTPM_E_TPM,	       /* the TPM refused a command (rc in why) */
	MGR_PTPM_E_POLICY,     /* TPM_RC_POLICY_FAIL: platform PCRs are
				* not the sealed ones */
	MGR_PTPM_E_AUTH,       /* TPM_RC_AUTH_FAIL / BAD_AUTH: wrong
				* authValue (a substituted root key) */
	MGR_PTPM_E_FORMAT,     /* a sealed-key file we do not accept */
	MGR_PTPM_E_PRIMARY,    /* the persistent handle is no storage key */
	MGR_PTPM_E_NV_EXISTS,  /* the NV index is already defined */
	MGR_PTPM_E_NV_MISSING, /* the NV index is not defined */
	MGR_PTPM_E_NV_KIND,    /* the NV index is not our kind of counter */
	MGR_PTPM_E_CRYPTO,     /* OpenSSL failed */
	MGR_PTPM_E_COUNT_
};
const char *mgr_ptpm_strerror(enum mgr_ptpm_err err);

/* PCR selection on the SHA-256 bank: bit n = PCR n (0..23). */
#define MGR_PCR_MAX    24u
#define MGR_PCR_BIT(n) (1u << (n))
/* The platform PCRs the manager's root key is sealed to by default:
 * firmware code (0), option ROM code (2), boot loader / kernel (4),
 * Secure Boot policy (7). */
#define MGR_PCRS_DEFAULT                                                       \
	(MGR_PCR_BIT(0) | MGR_PCR_BIT(2) | MGR_PCR_BIT(4) | MGR_PCR_BIT(7))
/* An NV index in the owner range of the TCG handle registry
 * (0x01800000-0x01BFFFFF), configurable. */
#define MGR_NV_COUNTER_DEFAULT 0x01800a70u
#define MGR_SRK_HANDLE_DEFAULT 0x81000001u /* where an SRK usually lives */

struct mgr_ptpm_config {
	const char *tcti; /* "device:/dev/tpmrm0", "swtpm:...", ... */
	/* 0: create the storage primary key from the TCG SRK template
	 * (ECC NIST P-256, AES-128-CFB, restricted decrypt) in the owner
	 * hierarchy, transient, the same key every time; else a
	 * persistent handle holding a storage key (checked). */
	uint32_t srk_handle;
	const uint8_t *owner_auth;	 /* NULL: empty */
	size_t owner_auth_len;		 /* <= 64 */
	const uint8_t *endorsement_auth; /* NULL: empty */
	size_t endorsement_auth_len;
	/* Flush every transient object and loaded session the TPM holds
	 * before anything else.  For the one process that owns a TPM without
	 * a resource manager (swtpm, /dev/tpm0): a predecessor killed with
	 * kill -9 leaves its objects loaded, and after a few of them the TPM
	 * has no room (TPM_RC_OBJECT_MEMORY).  Harmless under /dev/tpmrm0,
	 * which shows a process only its own handles; never set it where
	 * other programs share a TPM without a resource manager. */
	bool flush_stale;
};

struct mgr_ptpm;

/* Connects through the TCTI and loads (or creates) the storage primary
 * key.  why says what failed ("TCTI swtpm:...: connection refused"). */
enum mgr_ptpm_err mgr_ptpm_open(struct mgr_ptpm **out,
				const struct mgr_ptpm_config *cfg, char *why,
				size_t why_len);
/* Flushes what this module loaded and closes the connection. */
void mgr_ptpm_close(struct mgr_ptpm *tpm);

/* The SHA-256 PCR values of `mask`, in ascending PCR order, 32 bytes
 * each, into out (room for popcount(mask) * 32 bytes). */
enum mgr_ptpm_err mgr_ptpm_pcr_read(struct mgr_ptpm *tpm, uint32_t mask,
				    uint8_t *out, size_t out_len, char *why,
				    size_t why_len);

/* --------------------------------------------------- sealed root key */

#define MGR_SEALED_MAGIC   0x4b505648u /* the bytes "HVPK" */
#define MGR_SEALED_VERSION 1u
#define MGR_SEALED_MAX	   4096u

/* Seals a 32-byte secret to PolicyPCR over the SHA-256 PCRs of mask at
 * their current values: a keyed-hash object under the storage primary
 * key, fixedTPM | fixedParent, no userWithAuth (the policy is the only
 * way in).  *blob (malloc'd) is the sealed-key file (docs/formats.md
 * §6.3): it also records the PCR values at sealing, to name the PCR that
 * changed when unsealing fails. */
enum mgr_ptpm_err mgr_ptpm_seal(struct mgr_ptpm *tpm, uint32_t mask,
				const uint8_t secret[MGR_KEY_LEN],
				uint8_t **blob, size_t *blob_len, char *why,
				size_t why_len);
/* Loads the sealed object, satisfies PolicyPCR with the current PCRs and
 * unseals.  MGR_PTPM_E_POLICY (TPM_RC_POLICY_FAIL) when the platform is
 * not in the sealed state: why names the PCRs whose values differ from
 * those at sealing.  MGR_PTPM_E_FORMAT for a file that is malformed, was
 * sealed for another parent, or whose policy does not match its PCRs. */
enum mgr_ptpm_err mgr_ptpm_unseal(struct mgr_ptpm *tpm, const uint8_t *blob,
				  size_t blob_len, uint8_t secret[MGR_KEY_LEN],
				  char *why, size_t why_len);
/* The PCR mask a sealed-key file claims (structure checked, not trust). */
enum mgr_ptpm_err mgr_ptpm_sealed_pcrs(const uint8_t *blob, size_t blob_len,
				       uint32_t *mask);

/* -------------------------------------------------------- NV counter */

/* Defines a TPMA_NV_COUNTER index in the owner hierarchy whose authValue
 * is `auth` (mgr_root_keys.counter_auth): AUTHREAD | AUTHWRITE |
 * OWNERREAD | NO_DA.  Then increments it once (a TPM 2.0 counter cannot
 * be read before its first increment; it starts at the largest value any
 * counter on this TPM ever held, so deleting and re-defining it never
 * brings an old value back).  E_NV_EXISTS when the index exists. */
enum mgr_ptpm_err mgr_ptpm_counter_define(struct mgr_ptpm *tpm, uint32_t index,
					  const uint8_t *auth, size_t auth_len,
					  char *why, size_t why_len);
/* Owner-authorised: removes the index (tests, decommissioning). */
enum mgr_ptpm_err mgr_ptpm_counter_undefine(struct mgr_ptpm *tpm,
					    uint32_t index, char *why,
					    size_t why_len);
/* NV_Read / NV_Increment (then read back) with HMAC sessions on `auth`.
 * E_NV_KIND when the index is not a counter with our attributes. */
enum mgr_ptpm_err mgr_ptpm_counter_read(struct mgr_ptpm *tpm, uint32_t index,
					const uint8_t *auth, size_t auth_len,
					uint64_t *value, char *why,
					size_t why_len);
enum mgr_ptpm_err mgr_ptpm_counter_increment(struct mgr_ptpm *tpm,
					     uint32_t index,
					     const uint8_t *auth,
					     size_t auth_len, uint64_t *value,
					     char *why, size_t why_len);

/* The counter as mgr_seal.h's rollback anchor.  The struct keeps a
 * pointer to tpm and a copy of auth (auth_len <= 32); it is valid while
 * tpm is open and must stay at one address (ops receive &ctr->priv).
 * Its ops return -EIO on a TPM failure, -EACCES on an authorisation
 * failure, -ENOENT for a missing index, with why from this module. */
struct mgr_ptpm_counter {
	struct mgr_counter counter; /* hand &c.counter to mgr_root_* */
	struct {
		struct mgr_ptpm *tpm;
		uint32_t index;
		uint8_t auth[MGR_KEY_LEN];
		size_t auth_len;
	} priv;
};
enum mgr_ptpm_err mgr_ptpm_counter(struct mgr_ptpm *tpm, uint32_t index,
				   const uint8_t *auth, size_t auth_len,
				   struct mgr_ptpm_counter *out);
/* Wipes the copy of auth. */
void mgr_ptpm_counter_wipe(struct mgr_ptpm_counter *c);

/* -------------------------------------------------------- deep quote */

#define MGR_DEEPQ_NONCE_MAX 64u

/* The qualifyingData of a deep quote: SHA-256(ek_pub ‖ uuid ‖ nonce),
 * where ek_pub is the vTPM EK's TPM2B_PUBLIC as marshalled (its own
 * 2-byte size first, so the concatenation is unambiguous: the function
 * refuses bytes that are not exactly one TPM2B_PUBLIC), uuid the
 * instance's 16 bytes and nonce the verifier's (0..64 bytes). */
enum mgr_ptpm_err mgr_deep_quote_data(const uint8_t *ek_pub, size_t ek_len,
				      const struct mgr_uuid *uuid,
				      const uint8_t *nonce, size_t nonce_len,
				      uint8_t out[32]);

/* A platform quote: attest is the marshalled TPMS_ATTEST the TPM signed
 * (TPM2B_ATTEST's buffer), sig the marshalled TPMT_SIGNATURE (ECDSA
 * P-256, SHA-256), ak_pub the AK's marshalled TPM2B_PUBLIC.  All
 * malloc'd; mgr_quote_free releases them. */
struct mgr_quote {
	uint8_t *attest;
	size_t attest_len;
	uint8_t *sig;
	size_t sig_len;
	uint8_t *ak_pub;
	size_t ak_pub_len;
};
void mgr_quote_free(struct mgr_quote *q);

/* TPM2_Quote over the SHA-256 PCRs of mask with an attestation key
 * created as a primary in the endorsement hierarchy (ECC P-256,
 * restricted signing, ECDSA-SHA256: the same key every time on one TPM,
 * so a verifier can pin it), qualifyingData = mgr_deep_quote_data(...).
 * The platform-side primitive of a deep quote; the binding of the AK to
 * the platform's EK (credential activation) is not done here. */
enum mgr_ptpm_err mgr_ptpm_deep_quote(struct mgr_ptpm *tpm, uint32_t mask,
				      const uint8_t *ek_pub, size_t ek_len,
				      const struct mgr_uuid *uuid,
				      const uint8_t *nonce, size_t nonce_len,
				      struct mgr_quote *out, char *why,
				      size_t why_len);

#endif /* HVSEC_MGR_PTPM_H */
