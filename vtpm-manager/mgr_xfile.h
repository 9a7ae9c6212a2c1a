/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_xfile.h - the export file that carries one vTPM instance from one
 * manager to another (`hvsec vtpm export|import`; byte layout in
 * docs/formats.md §8.3), its whole interface: magic, version, the
 * instance's uuid, the migration bundle (mgr_migrate.h), the instance's
 * sealed state blob files (mgr_seal.h §6.1) as they were on disk, and a
 * SHA-256 over all of it.
 *
 * The digest catches accidents before anything is imported; an attacker
 * who rewrites the file and its digest is stopped by the bundle's
 * signature and, for the blobs, by their GCM tags checked against the
 * committed refs the bundle carries.  The decoder treats the file as
 * hostile (it crossed hosts); the encoder refuses what the decoder would
 * refuse, so the encoding is canonical.  Pointers in a decoded or
 * to-be-encoded struct mgr_xfile are borrowed.
 */
#ifndef HVSEC_MGR_XFILE_H
#define HVSEC_MGR_XFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/mgr_proto.h" /* MGR_BUNDLE_MAX */
#include "vtpm-manager/mgr_seal.h"

#define MGR_XFILE_MAGIC	    0x584d5648u /* the bytes "HVMX" */
#define MGR_XFILE_VERSION   1u
#define MGR_XFILE_HDR_LEN   32u
#define MGR_XFILE_ENT_HDR   8u
#define MGR_XFILE_DIGEST    32u
#define MGR_XFILE_FILES_MAX (2u * MGR_STATE_NAMES) /* NAME and NAME.new */
#define MGR_XFILE_BLOB_MAX  ((size_t)MGR_BLOB_OVERHEAD + MGR_STATE_MAX)
#define MGR_XFILE_MAX                                                          \
	(MGR_XFILE_HDR_LEN + MGR_BUNDLE_MAX +                                  \
	 MGR_XFILE_FILES_MAX * (MGR_XFILE_ENT_HDR + MGR_XFILE_BLOB_MAX) +      \
	 MGR_XFILE_DIGEST)

/* One state blob file of the instance's directory. */
struct mgr_xfile_blob {
	enum mgr_state_name name;
	bool pending;	     /* the file NAME.new (written, maybe committed) */
	const uint8_t *data; /* borrowed */
	size_t len;
};

struct mgr_xfile {
	struct mgr_uuid uuid;  /* the instance */
	const uint8_t *bundle; /* borrowed, 1..MGR_BUNDLE_MAX bytes */
	size_t bundle_len;
	unsigned n;
	struct mgr_xfile_blob f[MGR_XFILE_FILES_MAX]; /* ascending by
						       * (name, pending) */
};

/* "permall", "permall.new", ... (a name is never a path). */
void mgr_xfile_blob_name(const struct mgr_xfile_blob *b, char *out, size_t len);
/* A blob file is a well-formed sealed blob (mgr_blob_parse's errors)
 * whose header names this instance (INSTANCE) and the state its file
 * name says (WRONG_NAME). */
enum mgr_seal_err mgr_xfile_blob_check(const struct mgr_uuid *uuid,
				       const struct mgr_xfile_blob *b,
				       char *why, size_t why_len);

/* *out malloc'd (caller frees).  MGR_SEAL_E_INVAL when x breaks a rule
 * the decoder checks (counts, order, lengths, a blob's check). */
enum mgr_seal_err mgr_xfile_encode(const struct mgr_xfile *x, uint8_t **out,
				   size_t *out_len);
/* Decodes, checking in order (the first failure wins, named in why):
 * size of the header and digest (TRUNCATED), magic, version, the whole
 * size (TOO_BIG), the digest (AUTH: damaged or modified), reserved bytes
 * (RESERVED), bundle length and file count (TOO_BIG), then each file
 * entry: its header (TRUNCATED, BODY: name, variant, reserved, order),
 * its length (TOO_BIG / TRUNCATED), mgr_xfile_blob_check; then nothing
 * but the digest may follow (TRAILING).  The bundle itself is not
 * checked here (mgr_bundle_verify / mgr_bundle_open). */
enum mgr_seal_err mgr_xfile_decode(const uint8_t *buf, size_t len,
				   struct mgr_xfile *x, char *why,
				   size_t why_len);

#endif /* HVSEC_MGR_XFILE_H */
