/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hooks.h - the whole interface of the mediation layer between the
 * hypervisor (hvsecd, or Xen's XSM glue) and the ACM engine (acm/acm.h).
 *
 * What it owns, in one struct hooks_state:
 *   - the loaded policy: a private copy of the binary blob, the engine's
 *     donated memory and its run-time context (Chinese-Wall counters,
 *     decision cache, statistics);
 *   - the mode: enforcing, or permissive (denials recorded, not enforced);
 *   - the fail-closed state: until a valid policy is loaded every hook
 *     takes its default from hooks.def (every create denied, with the
 *     reason the policy was refused), whatever the mode;
 *   - the audit sink: a bounded ring of structured records and an optional
 *     append-only JSON Lines file, with identical denials rate-limited;
 *   - per-hook statistics.
 *
 * What it does not own: domains.  A subject is {domid, label row} as the
 * caller knows it; the caller keeps its domains' rows and hands the
 * current state (domains, live shares, resources in use) to updates and
 * relabels.  hooks/ knows nothing of processes, sockets or files other than
 * the audit log.
 *
 * Calls:   every hook is one line of hooks/hooks.def, and has a wrapper
 *          hooks_<name>() declared below, returning 0 (go ahead) or
 *          -EACCES (refuse the operation with that errno).  Hooks never
 *          block and never allocate.
 * Locking: the embedder's, as for the engine: one lock around every call
 *          on a hooks_state (decisions update the cache and counters).
 *          An update or relabel builds the new policy and context beside
 *          the old ones and swaps one pointer, so no call ever sees half a
 *          policy; the old one is freed before the update returns.
 * Errors:  negative errno values: -EINVAL bad argument or policy, -ENOMEM,
 *          -EBUSY update/relabel blocked (see the report), -EEXIST a first
 *          load over a loaded policy, -ENOENT no policy loaded.
 */
#ifndef HVSEC_HOOKS_H
#define HVSEC_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acm/acm.h"

/* ------------------------------------------------------------------ */
/* The hooks                                                           */
/* ------------------------------------------------------------------ */

enum hooks_id {
#define HOOK(name, kind, acm_hook, dflt) HOOKS_ID_##name,
#include "hooks/hooks.def"
#undef HOOK
	HOOKS_ID__COUNT
};

/* What a hook decides (the `kind` column of hooks.def). */
enum hooks_kind {
	HOOKS_KIND_CREATE = 1,
	HOOKS_KIND_DESTROY,
	HOOKS_KIND_SHARE,
	HOOKS_KIND_RESOURCE,
	HOOKS_KIND_AUTHORIZE,
	HOOKS_KIND_INTRODUCE,
	HOOKS_KIND_NONE,
};

enum hooks_decision { HOOKS_PERMIT = 0, HOOKS_DENY = 1 };

/* One line of hooks.def, from the one hook table. */
struct hooks_hook_info {
	const char *name; /* "evtchn_send" */
	enum hooks_kind kind;
	enum acm_hook acm_hook;
	enum hooks_decision dflt; /* without a valid policy */
};

/* NULL for an id out of range. */
const struct hooks_hook_info *hooks_hook_info(enum hooks_id id);
/* HOOKS_ID__COUNT when no hook has that name. */
enum hooks_id hooks_hook_find(const char *name);
const char *hooks_kind_name(enum hooks_kind kind);

#define HOOKS_DOMID_NONE UINT32_MAX

/* A domain as the caller knows it.  `label` is a VM label row of the
 * current policy (hooks_label_find), or ACM_ROW_NONE for a domain with no
 * label under a policy without __UNLABELED__ (always denied).  Rows change
 * meaning with the policy: after an update, map them through the report's
 * row_map. */
struct hooks_subject {
	uint32_t domid;
	acm_row_t label;
};

enum hooks_res_class { HOOKS_RES_DISK = 1, HOOKS_RES_VIF, HOOKS_RES_VTPM };

/* A resource a backend connects: its label row (a resource label of the
 * current policy, from the toolstack's resource-label store) and, for the
 * audit record only, its class and canonical name ("phy:/dev/vg/acme"). */
struct hooks_resource {
	enum hooks_res_class cls;
	const char *name; /* may be NULL; copied (truncated) into records */
	acm_row_t label;
};

/* The arguments of each kind's wrapper.  A kind without a line here does
 * not compile. */
#define HOOKS_ARGS_create  const struct hooks_subject *subj
#define HOOKS_ARGS_destroy const struct hooks_subject *subj
#define HOOKS_ARGS_share                                                       \
	const struct hooks_subject *subj, const struct hooks_subject *peer
#define HOOKS_ARGS_resource                                                    \
	const struct hooks_subject *subj, const struct hooks_resource *res
#define HOOKS_ARGS_authorize                                                   \
	const struct hooks_subject *host, const struct hooks_subject *subj
#define HOOKS_ARGS_introduce                                                   \
	const struct hooks_subject *xenstore, const struct hooks_subject *subj
#define HOOKS_ARGS_none                                                        \
	const struct hooks_subject *subj, const struct hooks_subject *peer

/*
 * The call wrappers, one per line of hooks.def, e.g.
 *   int hooks_domain_create(struct hooks_state *hs,
 *                           const struct hooks_subject *subj);
 *   int hooks_evtchn_bind_interdomain(struct hooks_state *hs,
 *                                     const struct hooks_subject *subj,
 *                                     const struct hooks_subject *peer);
 *   int hooks_resource_use(struct hooks_state *hs,
 *                          const struct hooks_subject *subj,
 *                          const struct hooks_resource *res);
 *   int hooks_host_authorize(struct hooks_state *hs,
 *                            const struct hooks_subject *host,
 *                            const struct hooks_subject *subj);
 * Each returns 0 or -EACCES.  A NULL argument is denied (-EACCES), in
 * every mode.  A create that is permitted accounts the domain as running
 * (Chinese Wall): call hooks_domain_destroy when it goes, or
 * hooks_domain_create_abort if the create fails later.  destroy and
 * grant_unmap never deny.
 */
struct hooks_state;
#define HOOK(name, kind, acm_hook, dflt)                                       \
	int hooks_##name(struct hooks_state *hs, HOOKS_ARGS_##kind);
#include "hooks/hooks.def"
#undef HOOK

/* The same, by id, for a hook between two domains (kind share or none):
 * for callers that pick the hook at run time (the hypervisor's event
 * channel and grant paths).  Any other id is denied with -EACCES. */
int hooks_share(struct hooks_state *hs, enum hooks_id id,
		const struct hooks_subject *subj,
		const struct hooks_subject *peer);

/* Undoes a permitted domain_create/domain_restore whose domain never ran
 * (a later step failed).  Unlike destroy, it leaves no history. */
void hooks_domain_create_abort(struct hooks_state *hs,
			       const struct hooks_subject *subj);

/* ------------------------------------------------------------------ */
/* State, mode, configuration                                          */
/* ------------------------------------------------------------------ */

enum hooks_mode { HOOKS_ENFORCING = 0, HOOKS_PERMISSIVE = 1 };

#define HOOKS_CACHE_DEFAULT    4096u /* engine decision cache slots */
#define HOOKS_RING_DEFAULT     256u  /* audit records kept in memory */
#define HOOKS_RING_MAX	       65536u
#define HOOKS_BURST_DEFAULT    5u     /* identical denials per interval */
#define HOOKS_INTERVAL_DEFAULT 10000u /* ms */

struct hooks_config {
	enum hooks_mode mode;
	uint32_t cache_slots;  /* power of two; 0: HOOKS_CACHE_DEFAULT */
	bool no_cache;	       /* no decision cache at all */
	bool historical;       /* Brewer-Nash Chinese Wall (acm.h) */
	uint32_t audit_ring;   /* 0: HOOKS_RING_DEFAULT, at most _MAX */
	const char *audit_log; /* JSON Lines file appended to; NULL: none.
				* Opened (created 0600) by hooks_state_new */
	bool audit_permits;    /* also record permitted decisions */
	/* Rate limit: of identical denials (same hook, parties, labels and
	 * reason) at most rate_burst are recorded per rate_interval_ms; the
	 * next one recorded says how many were suppressed.  0: defaults. */
	uint32_t rate_burst;
	uint32_t rate_interval_ms;
	/* Clock for record times (CLOCK_REALTIME) and rate limiting
	 * (CLOCK_MONOTONIC); NULL: clock_gettime.  For tests. */
	int (*clock)(clockid_t id, struct timespec *ts);
};

/* Creates the state without a policy: fail-closed until a policy loads.
 * cfg may be NULL (defaults).  Returns 0, -ENOMEM, -EINVAL (bad config)
 * or the -errno of opening the audit log. */
int hooks_state_new(struct hooks_state **out, const struct hooks_config *cfg);
void hooks_state_free(struct hooks_state *hs);

void hooks_set_mode(struct hooks_state *hs, enum hooks_mode mode);
enum hooks_mode hooks_get_mode(const struct hooks_state *hs);
/* While on, hooks still decide (and a permitted create still accounts
 * the domain: undo it with hooks_domain_create_abort) but nothing is
 * counted in hooks_stats (the engine's counters included) and nothing is
 * audited: a dry run of a create is a question, and a record or a denial
 * count for a domain that never existed would read exactly like an
 * enforced refusal.  The engine's decision cache does keep what it
 * computed (a cache, not a record). */
void hooks_set_dry_run(struct hooks_state *hs, bool on);
const char *hooks_mode_name(enum hooks_mode mode);

/* ------------------------------------------------------------------ */
/* Policy: load, live update, relabel                                  */
/* ------------------------------------------------------------------ */

/* The embedder's current state, in rows of the current policy: running
 * domains (dom0 included), live event channels and grant mappings, and
 * resources in use.  As acm_update_validate takes it. */
struct hooks_host {
	const struct acm_domain_ref *doms;
	size_t n_doms;
	const struct acm_share_ref *shares;
	size_t n_shares;
	const struct acm_resource_ref *res;
	size_t n_res;
};

#define HOOKS_TEXT_MAX	   256u
#define HOOKS_MAX_BLOCKERS 32u

struct hooks_blocker {
	struct acm_blocker b;	   /* rows: old policy (old_label), new
				    * policy (new_label, types, set) */
	char text[HOOKS_TEXT_MAX]; /* the same, in words, with names */
};

/* What a load, update or relabel did or would do.  Every call below
 * overwrites it; after an applied update it owns the row map: release it
 * with hooks_report_release before the report is reused or dropped. */
struct hooks_report {
	enum acm_err load_err;	      /* ACM_OK, or why the blob was refused */
	struct acm_load_error where;  /* ... and at which byte */
	char message[HOOKS_TEXT_MAX]; /* one line: the outcome */
	size_t n_blockers;	      /* found; only the first
				       * HOOKS_MAX_BLOCKERS are listed */
	struct hooks_blocker blockers[HOOKS_MAX_BLOCKERS];
	/* After an applied update: old row -> new row (ACM_ROW_NONE for a
	 * label that went away), n_row_map = the old policy's label count.
	 * The caller remaps its domains' and resources' rows with it, under
	 * the same lock as the update. */
	acm_row_t *row_map;
	size_t n_row_map;
	uint64_t generation; /* policy generation afterwards */
};
void hooks_report_release(struct hooks_report *rep);

#define HOOKS_DRY_RUN 1u /* validate and report, change nothing */

/* The first policy (boot, or leaving the fail-closed state).  The blob is
 * copied and verified completely by the engine's loader.  -EINVAL when it
 * is refused: the state stays fail-closed and creates are denied naming
 * this reason.  -EEXIST when a policy is already loaded (use update). */
int hooks_policy_load(struct hooks_state *hs, const void *blob, size_t len,
		      struct hooks_report *rep);
/* The built-in DEFAULT policy (policies/default.xml, compiled at build
 * time and verified here by the same loader), for a daemon started
 * without a policy. */
int hooks_policy_load_default(struct hooks_state *hs, struct hooks_report *rep);
/* Boot could not even read a policy: stay fail-closed and say why in every
 * denial.  No effect once a policy is loaded. */
void hooks_policy_refused(struct hooks_state *hs, const char *why);

/* Live update.  Validates the new policy against `host` (every blocker
 * listed, -EBUSY if any); with HOOKS_DRY_RUN stops there; else builds the
 * new context, carries the Chinese-Wall state over and swaps it in:
 * cached decisions of the old policy are gone, the generation grows and
 * rep->row_map says where every old row went.  Without a loaded policy it
 * is a first load (host is then ignored: nothing could run). */
int hooks_policy_update(struct hooks_state *hs, const void *blob, size_t len,
			const struct hooks_host *host, unsigned flags,
			struct hooks_report *rep);

/* Gives running domain `domid` the VM label row `new_label`, after the
 * same kind of validation (-EBUSY with blockers).  Cached decisions are
 * dropped; the caller then uses the new row in its subjects. */
int hooks_relabel(struct hooks_state *hs, const struct hooks_host *host,
		  uint32_t domid, acm_row_t new_label, unsigned flags,
		  struct hooks_report *rep);

/* ------------------------------------------------------------------ */
/* Policy queries                                                      */
/* ------------------------------------------------------------------ */

bool hooks_has_policy(const struct hooks_state *hs);
/* The loaded policy (NULL when none); valid until the next update. */
const struct acm_policy *hooks_policy(const struct hooks_state *hs);
/* 0 when no policy was ever loaded. */
uint64_t hooks_generation(const struct hooks_state *hs);
/* Why there is no policy ("" when there is one). */
const char *hooks_no_policy_reason(const struct hooks_state *hs);
/* A label's row by name; NULL or "" means "no label given": the policy's
 * __UNLABELED__ label of that kind, if it has one.  ACM_ROW_NONE when
 * there is no such label (or no policy). */
acm_row_t hooks_label_find(const struct hooks_state *hs,
			   enum acm_label_kind kind, const char *name);
/* NULL for a row the policy does not have. */
const char *hooks_label_name(const struct hooks_state *hs, acm_row_t row);
/* dom0's label, ACM_ROW_NONE without a policy. */
acm_row_t hooks_bootstrap_label(const struct hooks_state *hs);

/* ------------------------------------------------------------------ */
/* Audit                                                               */
/* ------------------------------------------------------------------ */

enum hooks_reason {
	HOOKS_R_ENGINE = 0,   /* the engine decided; acm_reason says why */
	HOOKS_R_NO_POLICY,    /* no valid policy: the hook's default */
	HOOKS_R_RELEASE,      /* destroy/unmap: releasing is always allowed */
	HOOKS_R_BAD_ARGUMENT, /* a NULL subject or object (a caller bug) */
	HOOKS_R_UNTRACKED,    /* permissive create that could not be tracked:
			       * denied after all */
};
const char *hooks_reason_name(enum hooks_reason r);

#define HOOKS_NAME_MAX	   (ACM_NAME_MAX + 1u)
#define HOOKS_RESOURCE_MAX 256u
#define HOOKS_DETAIL_MAX   256u

struct hooks_audit_party {
	uint32_t domid;		    /* HOOKS_DOMID_NONE: not a domain */
	acm_row_t row;		    /* ACM_ROW_NONE: no label */
	char label[HOOKS_NAME_MAX]; /* "" when row names no label */
};

/* One decision.  Strings are copies, so records outlive the policy. */
struct hooks_audit_record {
	uint64_t seq;	      /* 1, 2, ... per hooks_state */
	struct timespec time; /* CLOCK_REALTIME at the decision */
	enum hooks_id hook;
	struct hooks_audit_party subject;
	bool has_object;		 /* object or resource present */
	struct hooks_audit_party object; /* peer, host or xenstore domain,
					  * or the resource's label */
	enum hooks_res_class res_class;	 /* 0 unless the object is one */
	char resource[HOOKS_RESOURCE_MAX];
	enum hooks_decision decision; /* what the policy decided */
	bool enforced;		      /* false: permissive let it through */
	enum hooks_reason reason;
	enum acm_reason acm_reason;    /* when reason == HOOKS_R_ENGINE */
	char detail[HOOKS_DETAIL_MAX]; /* the reason in words, with names */
	char policy[HOOKS_NAME_MAX];   /* policy name, "" without one */
	uint64_t generation;
	uint32_t suppressed; /* identical denials not recorded
			      * since the previous one recorded */
};

/* Copies up to `max` records with seq >= from_seq, oldest first, from the
 * ring; returns how many.  Records overwritten in the ring are gone (the
 * log file, if any, has them). */
size_t hooks_audit_read(const struct hooks_state *hs, uint64_t from_seq,
			struct hooks_audit_record *out, size_t max);
/* The seq the next record will get. */
uint64_t hooks_audit_next_seq(const struct hooks_state *hs);

struct hooks_audit_stats {
	uint64_t recorded;    /* records made */
	uint64_t overwritten; /* dropped from the ring when it was full */
	uint64_t suppressed;  /* identical denials not recorded */
	uint64_t log_errors;  /* records the log file did not take */
};
void hooks_audit_stats(const struct hooks_state *hs,
		       struct hooks_audit_stats *out);

/* One record as a JSON object on one line (no newline), or as one line of
 * text for people.  Return the length the full text needs, as snprintf:
 * it was truncated when that is >= len.  HOOKS_JSON_MAX always fits. */
#define HOOKS_JSON_MAX 8192u
int hooks_audit_json(const struct hooks_audit_record *r, char *buf, size_t len);
int hooks_audit_text(const struct hooks_audit_record *r, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

struct hooks_stats {
	uint64_t calls;	     /* times the wrapper ran */
	uint64_t permitted;  /* answered 0 on a permit */
	uint64_t denied;     /* answered -EACCES */
	uint64_t would_deny; /* permissive: denied by the policy, let through */
	uint64_t no_policy;  /* decided by the default (no valid policy) */
	uint64_t suppressed; /* denials not recorded (rate limit) */
	/* The engine's counters for this hook's acm_hook, summed over every
	 * policy loaded so far; hooks sharing an acm_hook (domain_create and
	 * domain_restore) share these. */
	struct acm_hook_stats engine;
};
void hooks_stats(const struct hooks_state *hs, enum hooks_id id,
		 struct hooks_stats *out);

#endif /* HVSEC_HOOKS_H */
