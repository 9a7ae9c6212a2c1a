/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_ca.h - the vTPM manager's certificate authority: one ECDSA P-256 key
 * and its self-signed CA certificate, which certify the endorsement keys
 * of the vTPM instances (TCG EK Credential Profile for TPM Family 2.0,
 * section 3).  A verifier that trusts the CA certificate (`hvsec vtpm ca`
 * prints it) trusts that an EK belongs to a vTPM of this manager:
 *
 *   struct mgr_ca *ca;
 *   mgr_ca_open("/var/lib/hvsec/vtpm/ca.pem", "hvsec vTPM CA", &ca, ...);
 *   mgr_ca_issue_ek(ca, &(struct mgr_ca_ek_req){
 *           .type = MGR_CA_EK_RSA2048, .spki = pub.spki, ...}, &der, ...);
 *   vtpm_ek_write_cert(...der...) in the instance;  free(der);
 *   mgr_ca_free(ca);
 *
 * The key and the certificate live in one PEM file (mode 0600, owned by
 * us, replaced atomically), so no crash leaves a key without its
 * certificate or the reverse.  The key is not encrypted in the file: the
 * file is as secret as the manager's state directory.
 *
 * A struct mgr_ca is immutable once made: issuing from several threads
 * at once is safe.  All functions return 0 or -errno, and say why in
 * why[why_len] (which may be NULL).
 */
#ifndef HVSEC_MGR_CA_H
#define HVSEC_MGR_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mgr_ca;

#define MGR_CA_FILE_MAX (64u * 1024u) /* a larger CA file is not ours */
#define MGR_CA_NAME_MAX 64u	      /* ub-common-name, RFC 5280 */
#define MGR_CA_STR_MAX	255u /* STRMAX of the TCG profile's UTF8Strings */
#define MGR_CA_DAYS_MAX 36500u

/* A new CA: a fresh P-256 key and a self-signed certificate, subject
 * O=hvsec, CN=name (1..MGR_CA_NAME_MAX printable ASCII), serial 16
 * random bytes, valid from now with no expiry (99991231235959Z, RFC 5280
 * 4.1.2.5, like the EK certificates it signs), basicConstraints critical
 * CA:TRUE pathlen 0, keyUsage critical keyCertSign|cRLSign, subject and
 * authority key identifiers.  Not saved: see mgr_ca_save. */
int mgr_ca_create(const char *name, struct mgr_ca **out, char *why,
		  size_t why_len);
/* Writes key and certificate as PEM to path (mode 0600): a temporary in
 * the same directory, fsync, rename, fsync of the directory. */
int mgr_ca_save(const struct mgr_ca *ca, const char *path, char *why,
		size_t why_len);
/* Reads what mgr_ca_save wrote.  -ENOENT: no such file.  -EPERM: not a
 * regular file of ours, or readable/writable by group or others (the key
 * may have leaked: refuse it rather than certify with it).  -EBADMSG: no
 * unencrypted private key or no certificate in it, or they do not belong
 * together, or the certificate is not a self-signed P-256 CA certificate
 * allowed to sign certificates. */
int mgr_ca_load(const char *path, struct mgr_ca **out, char *why,
		size_t why_len);
/* mgr_ca_load, or, when path does not exist, mgr_ca_create + mgr_ca_save;
 * *created (may be NULL) says which. */
int mgr_ca_open(const char *path, const char *name, struct mgr_ca **out,
		bool *created, char *why, size_t why_len);
void mgr_ca_free(struct mgr_ca *ca);

/* The CA certificate, PEM (NUL-terminated; len excludes the NUL) or DER,
 * malloc'd: the caller frees. */
int mgr_ca_cert_pem(const struct mgr_ca *ca, char **pem, size_t *len, char *why,
		    size_t why_len);
int mgr_ca_cert_der(const struct mgr_ca *ca, uint8_t **der, size_t *len,
		    char *why, size_t why_len);

/* The EKs the CA certifies: those vtpm_ek.c makes (templates L-1, L-2). */
enum mgr_ca_ek_type {
	MGR_CA_EK_RSA2048 = 1,	/* keyUsage keyEncipherment */
	MGR_CA_EK_ECC_P256 = 2, /* keyUsage keyAgreement */
};

/* What goes into an EK certificate.  Pointers are borrowed for the call. */
struct mgr_ca_ek_req {
	enum mgr_ca_ek_type type;
	const uint8_t *spki; /* DER SubjectPublicKeyInfo of the EK: the key */
	size_t spki_len;     /* must be `type`, with nothing after it */
	/* subjectAltName (critical) directoryName, one RDN each, UTF8String:
	 * tcg-at-tpmManufacturer "id:%08X" of TPM_PT_MANUFACTURER,
	 * tcg-at-tpmModel tpm_model (1..MGR_CA_STR_MAX printable ASCII),
	 * tcg-at-tpmVersion "id:%08X" of TPM_PT_FIRMWARE_VERSION_1. */
	uint32_t tpm_manufacturer;
	const char *tpm_model;
	uint32_t tpm_version;
	/* subjectDirectoryAttributes with tcg-at-tpmSpecification
	 * {family, level, revision}, e.g. "2.0", 0, 164; omitted when
	 * spec_family is NULL. */
	const char *spec_family; /* 1..MGR_CA_STR_MAX printable ASCII */
	uint32_t spec_level, spec_revision;
	/* NULL: an empty subject, as the profile allows (the SAN names the
	 * TPM); else CN=subject_cn (1..MGR_CA_NAME_MAX printable ASCII). */
	const char *subject_cn;
	time_t not_before; /* 0: now */
	uint32_t days; /* 0: no expiry (99991231235959Z); else 1..DAYS_MAX */
};

/* Issues the EK certificate, DER in a malloc'd *der (caller frees):
 * version 3, serial 16 random bytes, signed ecdsa-with-SHA256, issuer the
 * CA's subject; extensions subjectAltName (critical, above),
 * basicConstraints critical CA:FALSE, keyUsage critical (by type),
 * extKeyUsage tcg-kp-EKCertificate (2.23.133.8.1), authorityKeyIdentifier,
 * and subjectDirectoryAttributes when asked for.  The key is checked
 * before anything else (canonical DER, re-encoding to the same bytes,
 * with nothing after it; exactly what `type`
 * says: RSA-2048 with an odd modulus and exponent 65537, or a P-256 named
 * curve with an uncompressed point on the curve), then the strings, then
 * the validity; the first problem found is the one reported, always
 * -EINVAL for a bad request. */
int mgr_ca_issue_ek(const struct mgr_ca *ca, const struct mgr_ca_ek_req *req,
		    uint8_t **der, size_t *der_len, char *why, size_t why_len);

#endif /* HVSEC_MGR_CA_H */
