/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acm.h - the whole interface of the hvsec access-control engine.
 *
 * The engine is freestanding: it includes only acm/acm_port.h (the
 * compiler's <stddef.h>, <stdint.h>, <stdbool.h>, <stdalign.h>, or Xen's
 * own types when built into Xen), never allocates, never prints, never
 * touches errno and has no mutable globals.  The embedder (the hypervisor
 * model, an XSM module inside Xen, a command-line tool) owns every byte:
 *
 *   - the binary policy blob (caller-owned, read-only, must outlive the
 *     loaded policy because bitsets, names and the id index are read from
 *     it in place);
 *   - the memory the loaded policy's indexes live in (donated);
 *   - the memory the run-time state (Chinese-Wall counters, decision cache,
 *     statistics) lives in (donated).
 *
 * Locking is the embedder's: one writer at a time on a context, decisions
 * from several threads only under the embedder's lock.  A policy update
 * builds a complete new context beside the old one and the embedder swaps
 * one pointer, so readers never see half a policy.
 *
 * The binary format itself is specified byte by byte in docs/formats.md;
 * the on-disk structs below carry static_asserts on their sizes so the
 * writer (policy-compiler/) and the reader (acm/) cannot drift.
 */
#ifndef HVSEC_ACM_H
#define HVSEC_ACM_H

#include "acm/acm_port.h" /* the only way in for outside types */

/* ------------------------------------------------------------------ */
/* Binary policy format (all integers little-endian)                   */
/* ------------------------------------------------------------------ */

#define ACM_MAGIC 0x50535648u /* bytes "HVSP" */
#define ACM_FORMAT_MAJOR 1u
#define ACM_FORMAT_MINOR 0u
/* The loader accepts any minor in [ACM_FORMAT_MINOR_MIN, ACM_FORMAT_MINOR]
 * of ACM_FORMAT_MAJOR; a different major is refused. */
#define ACM_FORMAT_MINOR_MIN 0u

#define ACM_SHA256_LEN 32u
#define ACM_NAME_MAX 255u           /* longest name, without the NUL */
#define ACM_MAX_TYPES 65536u        /* per component (STE, CHWALL) */
#define ACM_MAX_LABELS 65536u       /* VM + resource labels */
#define ACM_MAX_CONFLICT_SETS 65536u
#define ACM_MAX_POLICY_LEN (64u << 20) /* 64 MiB, as FLASK */

/* Reserved names (reference/acm.md §1.2). */
#define ACM_UNLABELED "__UNLABELED__"
#define ACM_INACCESSIBLE "__INACCESSIBLE__"

/* Header: 64 bytes at offset 0. */
struct acm_bin_header {
	uint32_t magic;           /* ACM_MAGIC */
	uint16_t format_major;    /* ACM_FORMAT_MAJOR */
	uint16_t format_minor;    /* <= ACM_FORMAT_MINOR */
	uint32_t total_len;       /* whole blob including the trailer hash */
	uint32_t flags;           /* ACM_BIN_F_*; unknown bits refused */
	uint32_t section_count;   /* == ACM_SEC_COUNT */
	uint32_t section_table;   /* == sizeof(struct acm_bin_header) */
	uint32_t reserved[2];     /* zero */
	uint8_t source_sha256[ACM_SHA256_LEN]; /* canonical policy hash */
};
#define ACM_BIN_F_STE (1u << 0)    /* policy has an STE component */
#define ACM_BIN_F_CHWALL (1u << 1) /* policy has a Chinese-Wall component */
#define ACM_BIN_F_ALL (ACM_BIN_F_STE | ACM_BIN_F_CHWALL)

/* Section table entry: 16 bytes.  Entries are in id order (1, 2, ...,
 * ACM_SEC_COUNT), each section starts 8-aligned right after the previous
 * one (the table for the first), padding is zero, and the last section
 * ends (rounded up to 8) exactly where the trailer hash starts. */
struct acm_bin_section {
	uint32_t id;     /* enum acm_section_id */
	uint32_t offset; /* from the start of the blob */
	uint32_t size;   /* bytes, == count * item size for array sections */
	uint32_t count;  /* number of items */
};

enum acm_section_id {
	ACM_SEC_STRINGS = 1,   /* string pool: NUL-terminated names */
	ACM_SEC_META = 2,      /* one struct acm_bin_meta */
	ACM_SEC_STE_TYPES = 3, /* count x u32 string offsets, names ascending */
	ACM_SEC_CW_TYPES = 4,  /* count x u32 string offsets, names ascending */
	ACM_SEC_LABELS = 5,    /* count x struct acm_bin_label */
	ACM_SEC_STE_SETS = 6,  /* labels x ste_words x u64 bitsets */
	ACM_SEC_CW_SETS = 7,   /* labels x cw_words x u64 bitsets */
	ACM_SEC_CONFLICTS = 8, /* count x struct acm_bin_conflict */
	ACM_SEC_CONFLICT_SETS = 9, /* conflicts x cw_words x u64 bitsets */
	ACM_SEC_ID_INDEX = 10, /* labels x u32 rows, ids strictly ascending */
	ACM_SEC_COUNT = 10
};

/* META: the policy header.  String fields are offsets into STRINGS; offset
 * 0 is the empty string (the pool starts with a NUL) and means "absent". */
struct acm_bin_meta {
	uint32_t name;          /* PolicyName, required, non-empty */
	uint32_t version_major; /* Version; 0.0 with !ACM_META_F_VERSION */
	uint32_t version_minor;
	uint32_t flags;         /* ACM_META_F_* */
	uint32_t from_name;     /* FromPolicy/PolicyName */
	uint32_t from_major;    /* FromPolicy/Version */
	uint32_t from_minor;
	uint32_t url;           /* PolicyUrl */
	uint32_t reference;     /* Reference */
	uint32_t date;          /* Date */
	uint32_t namespace_url; /* NameSpaceUrl */
	uint32_t bootstrap;     /* label index of the bootstrap (dom0) label */
	uint32_t reserved[4];   /* zero */
};
#define ACM_META_F_VERSION (1u << 0) /* <Version> present */
#define ACM_META_F_FROM (1u << 1)    /* <FromPolicy> present */
/* The source carried priority="PrimaryPolicyComponent" on that element
 * (informational, as in Xen: it does not change any decision). */
#define ACM_META_F_STE_PRIORITY (1u << 2)
#define ACM_META_F_CW_PRIORITY (1u << 3)
#define ACM_META_F_ALL 0xfu

/* LABELS: VM labels first, then resource labels; within each kind names
 * strictly ascending (byte order).  A label's index in this array is its
 * row; its id is stable across recompiles and unrelated edits. */
struct acm_bin_label {
	uint32_t id;        /* stable id, see docs/formats.md; unique, != 0 */
	uint32_t name;      /* string offset */
	uint32_t from_name; /* string offset of Name@from, 0 if none */
	uint16_t kind;      /* enum acm_label_kind */
	uint16_t flags;     /* zero */
};

enum acm_label_kind { ACM_LABEL_VM = 1, ACM_LABEL_RESOURCE = 2 };

struct acm_bin_conflict {
	uint32_t name;     /* string offset, non-empty, names ascending */
	uint32_t reserved; /* zero */
};

_Static_assert(sizeof(struct acm_bin_header) == 64, "header is 64 bytes");
_Static_assert(sizeof(struct acm_bin_section) == 16, "section entry");
_Static_assert(sizeof(struct acm_bin_meta) == 64, "meta is 64 bytes");
_Static_assert(sizeof(struct acm_bin_label) == 16, "label entry");
_Static_assert(sizeof(struct acm_bin_conflict) == 8, "conflict entry");
_Static_assert(offsetof(struct acm_bin_header, source_sha256) == 32, "hash");

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* Loader errors are listed in the order the loader checks them: when a
 * blob has several faults, the one listed first wins (tests rely on it). */
enum acm_err {
	ACM_OK = 0,
	ACM_E_ARG,            /* NULL or misaligned argument (a caller bug) */
	ACM_E_TRUNCATED,      /* shorter than header + trailer */
	ACM_E_MAGIC,          /* not an hvsec binary policy */
	ACM_E_VERSION,        /* format version outside the accepted range */
	ACM_E_LENGTH,         /* total_len != buffer length, or too large */
	ACM_E_HASH,           /* trailer SHA-256 mismatch: corrupted */
	ACM_E_HEADER,         /* unknown flags, nonzero reserved, bad table */
	ACM_E_SECTION,        /* section table: id, order, bounds, padding */
	ACM_E_SECTION_SIZE,   /* size/count disagree or count overflows */
	ACM_E_STRING,         /* string offset out of pool or unterminated */
	ACM_E_NAME,           /* empty, too long, ':' or control character */
	ACM_E_META,           /* bad policy header fields */
	ACM_E_TYPE_ORDER,     /* type names not strictly ascending */
	ACM_E_LABEL,          /* bad kind, flags, id, order, duplicate id,
			       * or an id index that is not one */
	ACM_E_BITSET,         /* bits set beyond the type count */
	ACM_E_CONFLICT,       /* empty/unnamed/unsorted conflict set */
	ACM_E_BOOTSTRAP,      /* bootstrap is not a VM label */
	ACM_E_TRAILING,       /* bytes between the last section and trailer */
	ACM_E_NOMEM,          /* donated memory too small */
	/* Not loader errors: */
	ACM_E_NOLABEL,        /* label row/name unknown */
	ACM_E_STATE,          /* operation inconsistent with current state */
	ACM_E_LIMIT,          /* caller array too small */
	ACM_E__COUNT
};

const char *acm_strerror(enum acm_err err);

/* Where a load failed: the error and the byte offset in the blob of the
 * field at fault (0 when the fault is the blob as a whole). */
struct acm_load_error {
	enum acm_err err;
	uint32_t offset;
};

/* ------------------------------------------------------------------ */
/* SHA-256 (freestanding; used for the trailer hash)                   */
/* ------------------------------------------------------------------ */

struct acm_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t fill;
};
void acm_sha256_init(struct acm_sha256 *s);
void acm_sha256_update(struct acm_sha256 *s, const void *data, size_t len);
void acm_sha256_final(struct acm_sha256 *s, uint8_t out[ACM_SHA256_LEN]);
void acm_sha256(const void *data, size_t len, uint8_t out[ACM_SHA256_LEN]);

/* ------------------------------------------------------------------ */
/* Loaded policy                                                       */
/* ------------------------------------------------------------------ */

typedef uint32_t acm_row_t;    /* label index in the loaded policy */
#define ACM_ROW_NONE UINT32_MAX
typedef uint32_t acm_type_t;   /* type index within one component */

struct acm_policy; /* opaque; lives in donated memory */

/* Validates the blob completely (everything acm_policy_load checks) and
 * reports how many bytes of donated memory acm_policy_load will need. */
enum acm_err acm_policy_measure(const void *blob, size_t len,
				size_t *mem_needed,
				struct acm_load_error *where);

/* Loads a verified policy.  `blob` must stay valid and unchanged for the
 * policy's lifetime; `mem` must be 8-byte aligned.  On failure nothing in
 * `mem` is meaningful and *out is NULL. */
enum acm_err acm_policy_load(const void *blob, size_t len, void *mem,
			     size_t mem_len, const struct acm_policy **out,
			     struct acm_load_error *where);

/* Read-only accessors: cheap, no allocation.  Strings point into the blob
 * and are NUL-terminated. */
struct acm_policy_info {
	const char *name;
	uint32_t version_major, version_minor;
	bool has_version;
	bool has_from;
	const char *from_name;
	uint32_t from_major, from_minor;
	const char *url, *reference, *date, *namespace_url; /* "" if absent */
	uint32_t flags;         /* ACM_BIN_F_* */
	uint32_t meta_flags;    /* ACM_META_F_*: what the source said */
	uint32_t n_ste_types, n_cw_types;
	uint32_t n_labels, n_vm_labels, n_conflict_sets;
	acm_row_t bootstrap;
	acm_row_t unlabeled;    /* VM label __UNLABELED__, or ACM_ROW_NONE */
	const uint8_t *source_sha256; /* 32 bytes, in the blob */
	const uint8_t *blob_sha256;   /* 32 bytes, in the blob */
};
void acm_policy_info(const struct acm_policy *p, struct acm_policy_info *info);

const char *acm_ste_type_name(const struct acm_policy *p, acm_type_t t);
const char *acm_cw_type_name(const struct acm_policy *p, acm_type_t t);
const char *acm_conflict_set_name(const struct acm_policy *p, uint32_t set);
bool acm_conflict_set_has(const struct acm_policy *p, uint32_t set,
			  acm_type_t cw_type);

const char *acm_label_name(const struct acm_policy *p, acm_row_t row);
const char *acm_label_from(const struct acm_policy *p, acm_row_t row); /* "" */
uint32_t acm_label_id(const struct acm_policy *p, acm_row_t row);
enum acm_label_kind acm_label_kind(const struct acm_policy *p, acm_row_t row);
bool acm_label_has_ste(const struct acm_policy *p, acm_row_t row,
		       acm_type_t t);
bool acm_label_has_cw(const struct acm_policy *p, acm_row_t row, acm_type_t t);

/* Name and id lookups: O(log n), in the blob (the id lookup through the
 * ID_INDEX section).  Return ACM_ROW_NONE when absent. */
acm_row_t acm_label_find(const struct acm_policy *p, enum acm_label_kind kind,
			 const char *name);
acm_row_t acm_label_find_id(const struct acm_policy *p, uint32_t id);

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

/* The mediation points the engine keeps statistics for.  hooks/hooks.def
 * maps every hypervisor hook onto one of these. */
enum acm_hook {
	ACM_HOOK_DOMAIN_CREATE = 0,
	ACM_HOOK_DOMAIN_DESTROY,
	ACM_HOOK_EVTCHN_UNBOUND,
	ACM_HOOK_EVTCHN_INTERDOMAIN,
	ACM_HOOK_EVTCHN_SEND,
	ACM_HOOK_GNT_SETUP,
	ACM_HOOK_GNT_MAP_READ,
	ACM_HOOK_GNT_MAP_WRITE,
	ACM_HOOK_GNT_UNMAP,
	ACM_HOOK_GNT_COPY,
	ACM_HOOK_GNT_TRANSFER,
	ACM_HOOK_RESOURCE_USE,
	ACM_HOOK_HOST_AUTHORIZE,
	ACM_HOOK_XS_INTRODUCE,
	ACM_HOOK__COUNT
};
const char *acm_hook_name(enum acm_hook hook);

enum acm_decision { ACM_PERMIT = 0, ACM_DENY = 1 };

/* Why a decision came out as it did: enough to print an audit record
 * without a second evaluation.  Type indexes refer to the component named
 * by `reason`; ACM_TYPE_NONE when not applicable. */
#define ACM_TYPE_NONE UINT32_MAX
enum acm_reason {
	ACM_R_SHARED_TYPE = 0,    /* permit: labels share STE type type_a */
	ACM_R_NO_SHARED_TYPE,     /* deny: no common STE type */
	ACM_R_SUPERSET,           /* permit: host types cover the VM's */
	ACM_R_NOT_SUPERSET,       /* deny: host lacks STE type type_a */
	ACM_R_INACCESSIBLE,       /* deny: resource label __INACCESSIBLE__ */
	ACM_R_CHWALL_OK,          /* permit: no conflicting type runs */
	ACM_R_CHWALL_CONFLICT,    /* deny: type_a conflicts with running
				   * type_b in conflict set `set` */
	ACM_R_CHWALL_HISTORY,     /* deny: type_a excluded by history */
	ACM_R_BAD_LABEL,          /* deny: row out of range / wrong kind */
	ACM_R_UNLABELED_REFUSED,  /* deny: policy has no __UNLABELED__ */
	ACM_R_NO_POLICY_COMPONENT,/* permit: component absent from policy */
	ACM_R__COUNT
};
const char *acm_reason_name(enum acm_reason r);

struct acm_verdict {
	enum acm_decision decision;
	enum acm_reason reason;
	acm_type_t type_a, type_b;
	uint32_t set;     /* conflict set index or UINT32_MAX */
	bool cached;      /* answered from the decision cache */
};

/* Run-time state: Chinese-Wall counters, the optional history, the
 * decision cache and per-hook statistics, for one loaded policy. */
struct acm_ctx; /* opaque; lives in donated memory */

struct acm_ctx_config {
	uint32_t cache_slots; /* power of two, 0 = no cache; e.g. 4096.
			       * 16 bytes each, in sets of 4 (one cache
			       * line when the memory is 64-aligned) */
	bool historical;      /* Brewer-Nash history: exclusions never lapse */
	uint64_t generation;  /* starting policy generation */
};

size_t acm_ctx_mem_size(const struct acm_policy *p,
			const struct acm_ctx_config *cfg);
enum acm_err acm_ctx_init(struct acm_ctx **out, const struct acm_policy *p,
			  const struct acm_ctx_config *cfg, void *mem,
			  size_t mem_len);
const struct acm_policy *acm_ctx_policy(const struct acm_ctx *ctx);
uint64_t acm_ctx_generation(const struct acm_ctx *ctx);
/* Drops every cached decision (bumps the generation). */
void acm_ctx_invalidate(struct acm_ctx *ctx);

/* STE sharing between two domains (event channels, grants): permit iff
 * the two VM labels share an STE type.  `hook` selects the counters. */
void acm_decide_share(struct acm_ctx *ctx, enum acm_hook hook, acm_row_t a,
		      acm_row_t b, struct acm_verdict *v);
/* A VM may use a resource iff the VM label and the resource label share an
 * STE type; __INACCESSIBLE__ always denies. */
void acm_decide_resource(struct acm_ctx *ctx, acm_row_t vm, acm_row_t res,
			 struct acm_verdict *v);
/* A host (dom0 label) authorizes a VM label iff its STE types are a
 * superset of the VM's and the two share a type. */
void acm_decide_authorize(struct acm_ctx *ctx, acm_row_t host, acm_row_t vm,
			  struct acm_verdict *v);

/* Domain creation, in two phases so that composition with other checks
 * (and a creation that fails later for unrelated reasons) can roll back:
 *   prepare: checks Chinese Wall and the label, and on permit accounts the
 *            domain's types as running;
 *   rollback: undoes a permitted prepare (failed create, later denial);
 *   destroy: releases a committed domain (non-historical mode).
 * There is no separate commit: a prepared domain is running. */
void acm_domain_create_prepare(struct acm_ctx *ctx, acm_row_t vm,
			       struct acm_verdict *v);
void acm_domain_create_rollback(struct acm_ctx *ctx, acm_row_t vm);
void acm_domain_destroy(struct acm_ctx *ctx, acm_row_t vm);

/* Chinese-Wall state, read-only views (for dumps and tests): running
 * domains holding type t; and Xen's conflict aggregate for t, the number of
 * (running domain, conflict set) pairs that exclude it (0: t may start,
 * history aside). */
uint32_t acm_cw_running(const struct acm_ctx *ctx, acm_type_t t);
uint32_t acm_cw_excluded(const struct acm_ctx *ctx, acm_type_t t);
/* Historical mode: the set of types ever excluded, as cw_words u64 words,
 * to be persisted by the embedder and restored before any create. */
size_t acm_cw_history_words(const struct acm_policy *p);
void acm_cw_history_export(const struct acm_ctx *ctx, uint64_t *words);
enum acm_err acm_cw_history_import(struct acm_ctx *ctx, const uint64_t *words,
				   size_t n_words);

struct acm_hook_stats {
	uint64_t evaluated; /* decisions computed (cache misses included) */
	uint64_t denied;
	uint64_t cache_hits;
};
void acm_stats(const struct acm_ctx *ctx, enum acm_hook hook,
	       struct acm_hook_stats *out);

/* ------------------------------------------------------------------ */
/* Live update and relabel                                             */
/* ------------------------------------------------------------------ */

/* The current state as the embedder sees it. */
struct acm_domain_ref {
	uint32_t domid;
	acm_row_t label; /* row in the policy the state refers to */
};
struct acm_share_ref {
	uint32_t dom_a, dom_b; /* domids present in the domain list */
	enum acm_hook hook;    /* evtchn or grant hook that set it up */
};
struct acm_resource_ref {
	uint32_t domid;
	acm_row_t resource; /* resource label row in use by the domain */
};

enum acm_blocker_kind {
	ACM_B_VERSION = 1,    /* FromPolicy/Version does not allow the update */
	ACM_B_BAD_RENAME,     /* from= names no label of the old policy */
	ACM_B_LABEL_IN_USE,   /* a running domain's label would be removed */
	ACM_B_RESOURCE_IN_USE,/* a resource label in use would be removed */
	ACM_B_CHWALL_CONFLICT,/* two running domains would conflict */
	ACM_B_SHARING,        /* a live evtchn/grant would lose its type */
	ACM_B_RESOURCE,       /* a domain would lose access to a resource */
	ACM_B_BOOTSTRAP,      /* dom0's label would vanish (update), or
			       * would not cover every running domain's
			       * STE types (relabel of domid 0) */
	ACM_B_DOMAIN_UNKNOWN  /* a share names a domid not in the list */
};
const char *acm_blocker_name(enum acm_blocker_kind k);

struct acm_blocker {
	enum acm_blocker_kind kind;
	uint32_t domid, peer_domid;  /* UINT32_MAX when not applicable */
	acm_row_t old_label;         /* row in the old policy or NONE */
	acm_row_t new_label;         /* row in the new policy or NONE */
	acm_type_t type_a, type_b;   /* CW types in conflict, or NONE;
				      * ACM_B_BOOTSTRAP of a relabel:
				      * type_a is the STE type missing */
	uint32_t set;                /* conflict set or UINT32_MAX */
	enum acm_hook hook;          /* for ACM_B_SHARING */
};

/* Validates replacing `old` with `new_p` while `doms` run with `shares`
 * live and `res` in use.  Fills `row_map` (old->n_labels entries: new row
 * or ACM_ROW_NONE) and up to `max_blockers` blockers; *n_blockers gets the
 * total found (may exceed max_blockers).  A Chinese-Wall conflict between
 * two running domains is one blocker, domid < peer_domid.  FromPolicy and
 * Version are not checked when either policy is the DEFAULT policy,
 * recognised by its shape as in Xen: named "DEFAULT", no conflict sets,
 * VM labels only the bootstrap label and optionally __UNLABELED__,
 * resource labels only __UNLABELED__ and __INACCESSIBLE__.  `scratch` of
 * acm_update_scratch_size() bytes (8-aligned) holds temporary counters.
 * Returns ACM_OK when the check ran (n_blockers says whether it passed). */
size_t acm_update_scratch_size(const struct acm_policy *old,
			       const struct acm_policy *new_p, size_t n_doms);
enum acm_err acm_update_validate(const struct acm_policy *old,
				 const struct acm_policy *new_p,
				 const struct acm_domain_ref *doms,
				 size_t n_doms,
				 const struct acm_share_ref *shares,
				 size_t n_shares,
				 const struct acm_resource_ref *res,
				 size_t n_res, acm_row_t *row_map,
				 struct acm_blocker *blockers,
				 size_t max_blockers, size_t *n_blockers,
				 void *scratch, size_t scratch_len);

/* Makes `ctx` (freshly initialised for the new policy) the state of the
 * running domains, given their rows in the new policy, and sets its
 * generation to old generation + 1.  Counters and history carry over by
 * type name where the old policy had them. */
enum acm_err acm_update_adopt(struct acm_ctx *ctx, const struct acm_ctx *old,
			      const struct acm_domain_ref *doms_new_rows,
			      size_t n_doms);

/* Validates giving running domain `domid` the label `new_label` under the
 * current policy, against the same kind of state; fills blockers the same
 * way, with `scratch` of acm_update_scratch_size(policy, policy, n_doms)
 * bytes.  dom0 (domid 0) manages every domain, so its new label must hold
 * every STE type of every other running domain (ACM_B_BOOTSTRAP for each
 * domain it would not cover, type_a the lowest type missing).  On success
 * the embedder calls acm_relabel_apply. */
enum acm_err acm_relabel_validate(const struct acm_ctx *ctx,
				  const struct acm_domain_ref *doms,
				  size_t n_doms,
				  const struct acm_share_ref *shares,
				  size_t n_shares,
				  const struct acm_resource_ref *res,
				  size_t n_res, uint32_t domid,
				  acm_row_t new_label,
				  struct acm_blocker *blockers,
				  size_t max_blockers, size_t *n_blockers,
				  void *scratch, size_t scratch_len);
void acm_relabel_apply(struct acm_ctx *ctx, acm_row_t old_label,
		       acm_row_t new_label);

/* Rebuilds Chinese-Wall accounting from a list of running labels without
 * checking them (tools that simulate a host).  Returns ACM_E_STATE and
 * fills *v with the first conflict if the list is itself inconsistent. */
enum acm_err acm_ctx_adopt_running(struct acm_ctx *ctx,
				   const acm_row_t *running, size_t n,
				   struct acm_verdict *v);

#endif /* HVSEC_ACM_H */
