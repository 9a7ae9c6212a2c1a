/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_seal.h - the vTPM manager's sealed storage, its whole interface:
 *
 *   - the encrypted instance-state blob (one libtpms state: permall,
 *     volatilestate or savestate), AES-256-GCM under the instance's key,
 *     its header the AAD, so nothing can be moved between instances,
 *     names or generations;
 *   - the root record: the manager's instance table (uuid -> per-instance
 *     key, binding, flags, the committed generation and tag of each state)
 *     encrypted under a key derived from the root key, which only the
 *     platform TPM can unseal (mgr_ptpm.h).  Per-instance keys exist in
 *     clear only in a decoded struct mgr_root, in the manager's memory;
 *   - the commit protocol that binds the root record to a platform-TPM NV
 *     counter (the rollback anchor) through a directory of two files,
 *     `root` and `root.pending`.
 *
 * Formats and the protocol are specified byte by byte in docs/formats.md
 * §6; this header and that section change together.
 *
 *   mgr_root_derive_keys(root_key, &keys);
 *   mgr_rootdir_open(&dir, "/var/lib/hvsec/mgr", why, sizeof(why));
 *   mgr_root_open(dir, &keys, &counter, &root, why, sizeof(why));
 *       (recovers the record that matches the counter and fences; refused
 *        with MGR_SEAL_E_NO_RECORD when none does: never re-created)
 *   mgr_blob_open(inst->key, file, len, &inst->uuid, MGR_STATE_PERMALL,
 *                 &plain, &plain_len, &hdr);
 *   mgr_blob_check_committed(&inst->state[MGR_STATE_PERMALL - 1], &hdr);
 *   ... the instance writes: mgr_blob_seal(..., gen + 1, ...) to a file,
 *       update inst->state[], mgr_root_commit(dir, &keys, &counter, &root)
 *       and only then release the TPM response.
 *
 * Every decoder treats its input as hostile: it reads through one bounded
 * cursor, checks each length before using it, never reads past the end,
 * calls trailing bytes an error and says which rule failed.  Functions
 * return MGR_SEAL_OK (0) or an error; none of them aborts on bad input.
 * Nothing here is thread-safe on a shared object: one thread owns a
 * struct mgr_root or a struct mgr_rootdir at a time.
 */
#ifndef HVSEC_MGR_SEAL_H
#define HVSEC_MGR_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------- errors */

enum mgr_seal_err {
	MGR_SEAL_OK = 0,
	MGR_SEAL_E_INVAL,	/* bad argument: a bug in the caller */
	MGR_SEAL_E_NOMEM,	/* out of memory */
	MGR_SEAL_E_CRYPTO,	/* OpenSSL failed (not the input's fault) */
	MGR_SEAL_E_TRUNCATED,	/* shorter than its header or lengths say */
	MGR_SEAL_E_TRAILING,	/* bytes after the end its lengths give */
	MGR_SEAL_E_MAGIC,	/* not this kind of object */
	MGR_SEAL_E_VERSION,	/* a format version we do not read */
	MGR_SEAL_E_RESERVED,	/* a reserved field or bit is not zero */
	MGR_SEAL_E_NAME,	/* state name code unknown */
	MGR_SEAL_E_TOO_BIG,	/* a length beyond its limit */
	MGR_SEAL_E_AUTH,	/* GCM tag wrong: wrong key or modified */
	MGR_SEAL_E_INSTANCE,	/* the blob belongs to another instance */
	MGR_SEAL_E_WRONG_NAME,	/* the blob holds another state */
	MGR_SEAL_E_BODY,	/* authentic root record, malformed table */
	MGR_SEAL_E_ROLLBACK,	/* older than (or a fork of) the committed */
	MGR_SEAL_E_UNCOMMITTED, /* newer than committed: a write never
				 * committed, or a removed state */
	MGR_SEAL_E_NO_RECORD,	/* no root record matches the NV counter */
	MGR_SEAL_E_COUNTER,	/* the NV counter failed or moved */
	MGR_SEAL_E_IO,		/* file I/O failed (errno in why) */
	MGR_SEAL_E_EXISTS,	/* create: a root record already exists */
	MGR_SEAL_E_FULL,	/* instance table full */
	MGR_SEAL_E_DUPLICATE,	/* instance uuid already in the table */
	MGR_SEAL_E_NOT_FOUND,	/* instance uuid not in the table */
	MGR_SEAL_E_BINDING,	/* root record bound to another NV index */
	MGR_SEAL_E_FAILED,	/* an earlier commit failed: restart */
	MGR_SEAL_E_COUNT_	/* number of codes, not an error */
};

/* A fixed English phrase for each code ("authentication failed: wrong key
 * or modified data"); never NULL, "unknown error" for codes out of range. */
const char *mgr_seal_strerror(enum mgr_seal_err err);

/* -------------------------------------------------------- common types */

#define MGR_UUID_LEN  16u
#define MGR_KEY_LEN   32u  /* AES-256 */
#define MGR_NONCE_LEN 12u  /* GCM, 96-bit random */
#define MGR_TAG_LEN   16u  /* GCM tag */
#define MGR_LABEL_MAX 255u /* ACM_NAME_MAX: an ACM label name, no NUL */

/* Binary UUID, the 16 bytes in the order of their text form. */
struct mgr_uuid {
	uint8_t b[MGR_UUID_LEN];
};

/* libtpms' state names; the code is what the blob header carries. */
enum mgr_state_name {
	MGR_STATE_PERMALL = 1,
	MGR_STATE_VOLATILE = 2, /* "volatilestate" */
	MGR_STATE_SAVESTATE = 3,
};
#define MGR_STATE_NAMES 3u

/* "permall" -> MGR_STATE_PERMALL; 0 for anything else (a name is never a
 * path). */
enum mgr_state_name mgr_state_name_from_str(const char *name);
/* The libtpms name, or NULL for a code out of range. */
const char *mgr_state_name_str(enum mgr_state_name name);

/* ------------------------------------------------- instance-state blob */

#define MGR_BLOB_MAGIC	  0x42535648u /* the bytes "HVSB" */
#define MGR_BLOB_VERSION  1u
#define MGR_BLOB_HDR_LEN  48u /* the AAD */
#define MGR_BLOB_OVERHEAD (MGR_BLOB_HDR_LEN + MGR_TAG_LEN)
#define MGR_STATE_MAX	  (1u << 20) /* = VTPM_STATE_MAX */

/* The header of a blob, as parsed (the tag is the blob's last 16 bytes). */
struct mgr_blob_hdr {
	uint16_t version;
	enum mgr_state_name name;
	struct mgr_uuid uuid;
	uint64_t generation;
	uint32_t ct_len; /* == plaintext length (GCM) */
	uint8_t nonce[MGR_NONCE_LEN];
	uint8_t tag[MGR_TAG_LEN];
};

/* Encrypts one state: a fresh random nonce, header as AAD.  *out is
 * malloc'd (caller frees), *out_len = MGR_BLOB_OVERHEAD + len; tag_out
 * (may be NULL) receives the tag, which the root record keeps as the
 * committed blob's identity.  len <= MGR_STATE_MAX; plain may be NULL
 * when len is 0. */
enum mgr_seal_err mgr_blob_seal(const uint8_t key[MGR_KEY_LEN],
				const struct mgr_uuid *uuid,
				enum mgr_state_name name, uint64_t generation,
				const uint8_t *plain, size_t len, uint8_t **out,
				size_t *out_len, uint8_t tag_out[MGR_TAG_LEN]);

/* Checks a blob's structure without a key: magic, version, name, reserved
 * bytes, length against the buffer (exactly header + ct_len + tag).
 * Order of checks (the first failure wins): size of the fixed header
 * (TRUNCATED), magic, version, reserved, name, ct_len limit (TOO_BIG),
 * then the buffer's length (TRUNCATED / TRAILING). */
enum mgr_seal_err mgr_blob_parse(const uint8_t *buf, size_t len,
				 struct mgr_blob_hdr *hdr);

/* Parses, checks the header names instance `uuid` and state `name`
 * (INSTANCE, WRONG_NAME: a file copied from elsewhere says so before the
 * key is tried), then decrypts and authenticates (AUTH).  On success
 * *plain is malloc'd (never NULL, even for 0 bytes; caller frees) and hdr
 * (may be NULL) is filled; nothing is returned on failure.  The caller
 * then applies mgr_blob_check_committed: authenticity says nothing about
 * freshness. */
enum mgr_seal_err mgr_blob_open(const uint8_t key[MGR_KEY_LEN],
				const uint8_t *buf, size_t len,
				const struct mgr_uuid *uuid,
				enum mgr_state_name name, uint8_t **plain,
				size_t *plain_len, struct mgr_blob_hdr *hdr);

/* What the root record remembers about one state of one instance: the
 * generation of its last committed write (0 = never written) and the tag
 * of that blob (its identity: two blobs of one generation differ in their
 * tags).  present = false: the state was removed (or never written); its
 * generation still counts, so an old blob stays refused. */
struct mgr_state_ref {
	uint64_t generation;
	uint8_t tag[MGR_TAG_LEN];
	bool present;
};

/* The freshness rule for an authentic blob against the root record:
 * OK only when present and both generation and tag are the committed
 * ones; ROLLBACK for an older generation, or the committed generation
 * with another tag (a fork: a write that was never committed and was
 * replaced); UNCOMMITTED for a newer generation (a write whose root
 * commit never completed: its response was never released, so it is
 * discarded) and for any blob of a removed state at or above the removal
 * generation.  A manager that finds no OK blob refuses the instance. */
enum mgr_seal_err mgr_blob_check_committed(const struct mgr_state_ref *ref,
					   const struct mgr_blob_hdr *hdr);

/* --------------------------------------------------------- root record */

#define MGR_ROOT_MAGIC	       0x52525648u /* the bytes "HVRR" */
#define MGR_ROOT_VERSION       1u
#define MGR_ROOT_HDR_LEN       56u
#define MGR_ROOT_MAX_INSTANCES 16384u
#define MGR_ROOT_ENTRY_FIXED   168u /* entry without its label */
#define MGR_ROOT_BODY_MAX                                                      \
	(8u + MGR_ROOT_MAX_INSTANCES * (MGR_ROOT_ENTRY_FIXED + 256u))

/* Instance flags (persistent).  Unknown bits are refused by the decoder
 * (MGR_SEAL_E_BODY) and by mgr_root_add. */
#define MGR_INST_F_TPM12 0x1u /* a TPM 1.2 instance */
#define MGR_INST_F_PROVISIONED                                                 \
	0x2u			 /* EK certificate issued (first boot done) */
#define MGR_INST_F_MIGRATED 0x4u /* moved to another manager: never run */
#define MGR_INST_F_DISABLED 0x8u /* refused by the operator */
#define MGR_INST_F_ALL	    0xfu

struct mgr_inst {
	struct mgr_uuid uuid;	       /* the vTPM's identity; table key */
	uint8_t key[MGR_KEY_LEN];      /* encrypts its state blobs */
	struct mgr_uuid domain;	       /* binding: the guest's domain UUID */
	char label[MGR_LABEL_MAX + 1]; /* binding: ACM label, NUL-terminated */
	uint32_t flags;		       /* MGR_INST_F_* */
	struct mgr_state_ref state[MGR_STATE_NAMES]; /* [name - 1] */
};

/* A decoded root record.  inst is sorted by uuid (memcmp), unique.  The
 * keys in it are secret: mgr_root_free wipes them. */
struct mgr_root {
	uint64_t generation;	 /* == the NV counter once committed */
	uint32_t nv_index;	 /* the counter it is bound to */
	struct mgr_uuid manager; /* this manager's identity */
	uint32_t count;
	uint32_t cap;	       /* allocated entries */
	struct mgr_inst *inst; /* owned */
};

/* The two keys derived from the 32-byte root key (HKDF-SHA256, distinct
 * info strings): enc encrypts root records; counter_auth is the NV
 * counter's authValue, so only the holder of the real root key can read
 * or advance the counter, and a substituted sealed key fails there. */
struct mgr_root_keys {
	uint8_t enc[MGR_KEY_LEN];
	uint8_t counter_auth[MGR_KEY_LEN];
};
enum mgr_seal_err mgr_root_derive_keys(const uint8_t root_key[MGR_KEY_LEN],
				       struct mgr_root_keys *out);
/* HKDF-SHA256 (RFC 5869, no salt) of ikm with info to 32 bytes: every key
 * derived from the root key or a shared secret goes through this one
 * (distinct info strings keep them apart). */
enum mgr_seal_err mgr_hkdf_sha256(const uint8_t *ikm, size_t ikm_len,
				  const void *info, size_t info_len,
				  uint8_t out[MGR_KEY_LEN]);
/* Wipes keys (OPENSSL_cleanse). */
void mgr_root_keys_wipe(struct mgr_root_keys *keys);

/* An empty table for manager `manager` bound to counter `nv_index`. */
void mgr_root_init(struct mgr_root *root, const struct mgr_uuid *manager,
		   uint32_t nv_index);
/* Wipes every key and frees the table; root is empty afterwards. */
void mgr_root_free(struct mgr_root *root);
/* Adds an instance with a fresh random key (RAND_bytes) and no state
 * yet; *out (may be NULL) points into the table until the next add or
 * remove.  label: 1..MGR_LABEL_MAX bytes, no control characters. */
enum mgr_seal_err mgr_root_add(struct mgr_root *root,
			       const struct mgr_uuid *uuid,
			       const struct mgr_uuid *domain, const char *label,
			       uint32_t flags, struct mgr_inst **out);
/* NULL when absent. */
struct mgr_inst *mgr_root_find(const struct mgr_root *root,
			       const struct mgr_uuid *uuid);
/* Wipes and removes an instance (its key is gone for good). */
enum mgr_seal_err mgr_root_remove(struct mgr_root *root,
				  const struct mgr_uuid *uuid);

/* Encodes root (with its own generation) under keys->enc with a fresh
 * nonce.  *out malloc'd (caller frees).  The plaintext body is wiped. */
enum mgr_seal_err mgr_root_encode(const struct mgr_root *root,
				  const struct mgr_root_keys *keys,
				  uint8_t **out, size_t *out_len);
/* Decodes and authenticates a root record into *out (initialised here;
 * mgr_root_free it even on failure, which leaves it empty).  Checks in
 * order: header (TRUNCATED, MAGIC, VERSION, RESERVED, TOO_BIG, TRUNCATED /
 * TRAILING), AUTH, then the table (BODY: count, order, flags, labels,
 * state refs, padding, exact length), and says in why which rule failed.
 * why may be NULL. */
enum mgr_seal_err mgr_root_decode(const uint8_t *buf, size_t len,
				  const struct mgr_root_keys *keys,
				  struct mgr_root *out, char *why,
				  size_t why_len);
/* The generation in a record's header, without a key (structure checked
 * as above, not authenticity): for reports only, never for decisions. */
enum mgr_seal_err mgr_root_peek_generation(const uint8_t *buf, size_t len,
					   uint64_t *generation);

/* ------------------------------------------- root directory + protocol */

/* The rollback anchor: a monotonic counter (the platform TPM's NV counter,
 * mgr_ptpm_counter; a fake one in tests).  Both return 0 or a negative
 * errno-style code and set *value; increment returns the value after.  On
 * failure why (never NULL, why_len > 0) says what the counter's owner saw
 * ("NV_Increment: TPM_RC_AUTH_FAIL ..."). */
struct mgr_counter_ops {
	int (*read)(void *ctx, uint64_t *value, char *why, size_t why_len);
	int (*increment)(void *ctx, uint64_t *value, char *why, size_t why_len);
};
struct mgr_counter {
	const struct mgr_counter_ops *ops;
	void *ctx;
	uint32_t index; /* the NV index, recorded in the root record */
};

/* The manager's directory: `root` (the committed record), `root.pending`
 * (the one being committed), `sealed-key` (the platform-sealed root key,
 * mgr_ptpm.h), each replaced atomically (temporary, fsync, rename, fsync
 * the directory).  Like the instance store it must be ours and not
 * writable by group or others, and is flock'ed while open. */
struct mgr_rootdir;

#define MGR_ROOTDIR_ROOT       "root"
#define MGR_ROOTDIR_PENDING    "root.pending"
#define MGR_ROOTDIR_SEALED_KEY "sealed-key"
#define MGR_ROOTDIR_FILE_MAX                                                   \
	(MGR_ROOT_HDR_LEN + MGR_ROOT_BODY_MAX + MGR_TAG_LEN)

enum mgr_seal_err mgr_rootdir_open(struct mgr_rootdir **out, const char *dir,
				   char *why, size_t why_len);
void mgr_rootdir_close(struct mgr_rootdir *dir);
/* One of the three names above, written atomically and durably / read
 * whole (at most MGR_ROOTDIR_FILE_MAX bytes; *data malloc'd).  Reading a
 * missing file is MGR_SEAL_E_NOT_FOUND. */
enum mgr_seal_err mgr_rootdir_write(struct mgr_rootdir *dir, const char *name,
				    const uint8_t *data, size_t len, char *why,
				    size_t why_len);
enum mgr_seal_err mgr_rootdir_read(struct mgr_rootdir *dir, const char *name,
				   uint8_t **data, size_t *len, char *why,
				   size_t why_len);

/*
 * The protocol (docs/formats.md §6.4).  Invariant: the committed record is
 * the one whose generation equals the counter.
 *
 * commit (serving, counter c == root->generation):
 *   1. write the table with generation c+1 to root.pending, durably;
 *   2. increment the counter (c -> c+1): the commit point;
 *   3. rename root.pending over root.  Then responses may be released.
 *   A failure in 1 or 2 leaves the outcome unknown: the directory refuses
 *   every later commit (MGR_SEAL_E_FAILED) until the manager restarts and
 *   recovers.  A failure in 3 is repaired before the next commit.
 *
 * recover (at start, counter c): accept the authentic record with
 *   generation c+1 (the commit that was interrupted after step 1: roll it
 *   forward by incrementing) or else c; anything else is refused
 *   (NO_RECORD), never replaced.
 *
 * fence (right after recover, before anything is served): write the same
 *   table with generation c+2, increment twice.  A record written before
 *   this start but never committed (generation c+1, perhaps hidden by an
 *   attacker) is now older than the counter and refused forever, so no
 *   generation is ever committed with two different tables.
 *
 * create (an empty directory only, else EXISTS): increment once, then
 *   commit the new table (generation c+2).
 *
 * All of them return OK or an error and leave a message in why (may be
 * NULL).  On OK, why is empty unless something is worth a log line: an
 * interrupted commit rolled forward, a corrupt file ignored beside the
 * good one, a rename left for the next commit to repair.
 */
enum mgr_seal_err mgr_root_create(struct mgr_rootdir *dir,
				  const struct mgr_root_keys *keys,
				  const struct mgr_counter *counter,
				  struct mgr_root *root, char *why,
				  size_t why_len);
enum mgr_seal_err mgr_root_commit(struct mgr_rootdir *dir,
				  const struct mgr_root_keys *keys,
				  const struct mgr_counter *counter,
				  struct mgr_root *root, char *why,
				  size_t why_len);

/* What recover saw, for the operator (each file: missing, its error, or
 * its generation). */
struct mgr_recover_report {
	uint64_t counter;    /* the counter's value when read */
	bool rolled_forward; /* an interrupted commit was completed */
	struct {
		bool present;
		enum mgr_seal_err err; /* MGR_SEAL_OK: decoded */
		uint64_t generation;   /* when decoded */
	} file[2];		       /* [0] root, [1] root.pending */
};
enum mgr_seal_err
mgr_root_recover(struct mgr_rootdir *dir, const struct mgr_root_keys *keys,
		 const struct mgr_counter *counter, struct mgr_root *out,
		 struct mgr_recover_report *report, char *why, size_t why_len);
enum mgr_seal_err mgr_root_fence(struct mgr_rootdir *dir,
				 const struct mgr_root_keys *keys,
				 const struct mgr_counter *counter,
				 struct mgr_root *root, char *why,
				 size_t why_len);
/* recover, then fence: what a starting manager calls. */
enum mgr_seal_err mgr_root_open(struct mgr_rootdir *dir,
				const struct mgr_root_keys *keys,
				const struct mgr_counter *counter,
				struct mgr_root *out, char *why,
				size_t why_len);

/* The protocol's steps on their own, for tests that stop between them
 * (a crash) and for tools: write `root` with generation gen to
 * root.pending durably; rename root.pending over root. */
enum mgr_seal_err mgr_root_write_pending(struct mgr_rootdir *dir,
					 const struct mgr_root_keys *keys,
					 const struct mgr_root *root,
					 uint64_t generation, char *why,
					 size_t why_len);
enum mgr_seal_err mgr_root_promote(struct mgr_rootdir *dir, char *why,
				   size_t why_len);

#endif /* HVSEC_MGR_SEAL_H */
