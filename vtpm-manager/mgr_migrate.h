/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_migrate.h - moving a vTPM instance from one manager to another, its
 * whole interface (formats in docs/formats.md §8).
 *
 * Each manager has an identity: a P-256 key pair, made at `init`, whose
 * private half is kept in the manager's directory encrypted under a key
 * derived from the root key (so it is only usable where the root key
 * unseals).  Its public half (DER SubjectPublicKeyInfo) is what an operator
 * passes to `hvsec vtpm export NAME --to DEST.pub` on the source.
 *
 * A bundle carries one instance's table entry (uuid, per-instance key,
 * binding, flags, committed refs) and, from version 2 on, the SHA-256 of
 * each EK public the source certified for it (so the destination serves
 * a deep quote for those EKs, and only those) from the source's key
 * holder to the destination's:
 *   - encrypted to the destination: ephemeral-static ECDH on P-256, HKDF-
 *     SHA256 to an AES-256-GCM key, the bundle's header as AAD;
 *   - signed by the source identity (ECDSA-SHA256 over header and
 *     ciphertext), so the destination can say where it came from and
 *     refuse bundles from managers it was not told to trust.
 * The state blobs themselves travel beside the bundle as they are (already
 * AES-GCM under the instance key and named by generation and tag in the
 * refs): the bundle is small and fits one control message.
 *
 * Single owner: the source marks the instance MGR_INST_F_MIGRATED and
 * commits that before it hands out the bundle; a migrated instance is
 * never opened again there.
 *
 * All functions return MGR_SEAL_OK or an error code of mgr_seal.h with a
 * message in why (may be NULL); decoders treat input as hostile.
 */
#ifndef HVSEC_MGR_MIGRATE_H
#define HVSEC_MGR_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/mgr_seal.h"

#define MGR_IDENT_SPKI_MAX 128u /* P-256 SPKI is 91 bytes */
#define MGR_FPR_LEN	   32u	/* SHA-256 of the SPKI */
#define MGR_ROOTDIR_IDENTITY "identity" /* mgr_rootdir file name */

struct mgr_ident; /* opaque: holds the private key */

/* A fresh identity (EC P-256). */
enum mgr_seal_err mgr_ident_create(struct mgr_ident **out, char *why,
				   size_t why_len);
/* The private key encrypted under keys (AES-256-GCM, a subkey derived from
 * keys->enc with its own HKDF info): *out malloc'd, caller frees. */
enum mgr_seal_err mgr_ident_seal(const struct mgr_ident *id,
				 const struct mgr_root_keys *keys,
				 uint8_t **out, size_t *out_len, char *why,
				 size_t why_len);
enum mgr_seal_err mgr_ident_unseal(const uint8_t *buf, size_t len,
				   const struct mgr_root_keys *keys,
				   struct mgr_ident **out, char *why,
				   size_t why_len);
void mgr_ident_free(struct mgr_ident *id);
/* The public key (DER SPKI) and its fingerprint (SHA-256 of the DER). */
enum mgr_seal_err mgr_ident_public(const struct mgr_ident *id, uint8_t *spki,
				   size_t cap, size_t *spki_len,
				   uint8_t fpr[MGR_FPR_LEN]);
/* Checks that spki is a canonical DER P-256 public key on the curve, and
 * gives its fingerprint.  For keys received from operators and peers. */
enum mgr_seal_err mgr_ident_check_public(const uint8_t *spki, size_t len,
					 uint8_t fpr[MGR_FPR_LEN], char *why,
					 size_t why_len);

/* Bundle format versions (docs/formats.md §8): 1 = the entry alone; 2 =
 * the entry and the certified EK digests.  Sealing writes the newest;
 * opening reads both (a version-1 bundle has ek_count 0: its instance
 * runs at the destination, a deep quote of it is refused there). */
#define MGR_BUNDLE_VERSION_MIN 1u
#define MGR_BUNDLE_VERSION     2u
#define MGR_BUNDLE_EK_MAX      8u /* EK digests per bundle */

/* What a bundle says once opened.  inst.key is secret: wipe it
 * (OPENSSL_cleanse) when done. */
struct mgr_bundle_info {
	uint16_t version; /* of the bundle */
	struct mgr_uuid source_manager;
	uint8_t source_fpr[MGR_FPR_LEN]; /* the signer's identity */
	uint8_t dest_fpr[MGR_FPR_LEN];	 /* whom it was made for */
	struct mgr_inst inst;		 /* flags without MIGRATED */
	uint32_t ek_count;		 /* 0..MGR_BUNDLE_EK_MAX, distinct */
	uint8_t ek_hash[MGR_BUNDLE_EK_MAX][32]; /* SHA-256(TPM2B_PUBLIC) */
};

/* Seals inst (its flags' MIGRATED bit cleared in the bundle) and the
 * ek_count (<= MGR_BUNDLE_EK_MAX, distinct) EK digests for the
 * destination identity dest_spki, signed by source.  *out malloc'd, at
 * most MGR_BUNDLE_MAX (mgr_proto.h) bytes. */
enum mgr_seal_err mgr_bundle_seal_eks(const struct mgr_ident *source,
				      const struct mgr_uuid *source_manager,
				      const uint8_t *dest_spki, size_t dest_len,
				      const struct mgr_inst *inst,
				      const uint8_t (*ek_hash)[32],
				      uint32_t ek_count, uint8_t **out,
				      size_t *out_len, char *why,
				      size_t why_len);
/* mgr_bundle_seal_eks with no EK digests. */
enum mgr_seal_err mgr_bundle_seal(const struct mgr_ident *source,
				  const struct mgr_uuid *source_manager,
				  const uint8_t *dest_spki, size_t dest_len,
				  const struct mgr_inst *inst, uint8_t **out,
				  size_t *out_len, char *why, size_t why_len);
/* Opens a bundle with the destination identity: structure, destination
 * fingerprint (a bundle for another manager: MGR_SEAL_E_INSTANCE), the
 * signature (against expect_source_spki when not NULL: another signer is
 * MGR_SEAL_E_AUTH), decryption (AUTH), then the entry and (version 2) the
 * EK digests (BODY).  Nothing is returned on failure. */
enum mgr_seal_err mgr_bundle_open(const struct mgr_ident *dest,
				  const uint8_t *buf, size_t len,
				  const uint8_t *expect_source_spki,
				  size_t expect_len,
				  struct mgr_bundle_info *out, char *why,
				  size_t why_len);

/* What can be checked without the destination's private key: structure,
 * the signer's key and the signature (against expect_source_spki when not
 * NULL: another signer is MGR_SEAL_E_AUTH).  For the toolstack, before it
 * hands a bundle to a manager (`hvsec vtpm import --from`): out gets
 * version, source_manager, source_fpr and dest_fpr; out->inst and the EK
 * digests stay zero. */
enum mgr_seal_err mgr_bundle_verify(const uint8_t *buf, size_t len,
				    const uint8_t *expect_source_spki,
				    size_t expect_len,
				    struct mgr_bundle_info *out, char *why,
				    size_t why_len);

#endif /* HVSEC_MGR_MIGRATE_H */
