/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hooks_impl.h - what the files of hooks/ share; nothing outside hooks/
 * includes it.
 *
 * Lock: every field below is protected by the embedder's one lock around
 * calls on a hooks_state (hooks.h).
 */
#ifndef HVSEC_HOOKS_IMPL_H
#define HVSEC_HOOKS_IMPL_H

#include "hooks/hooks.h"

/* A loaded policy and its run-time context.  Every byte is owned here:
 * the engine reads bitsets from the blob in place, so the blob is a
 * private copy that lives exactly as long as the policy. */
struct hooks_policy {
	uint8_t *blob;
	size_t blob_len;
	void *pol_mem; /* donated to acm_policy_load */
	const struct acm_policy *p;
	void *ctx_mem; /* donated to acm_ctx_init */
	struct acm_ctx *ctx;
	struct acm_policy_info info; /* strings point into blob */
};

struct hooks_counters {
	uint64_t calls, permitted, denied, would_deny, no_policy, suppressed;
};

/* Rate limiting of identical denials: a small table indexed by the
 * denial's hash.  Two keys sharing a slot only restart each other's
 * window, so a collision can let a few more records through, never fewer
 * denials be enforced. */
#define HOOKS_RATE_SLOTS 64u
struct hooks_rate_slot {
	uint64_t key;	       /* 0: empty */
	uint64_t window_start; /* CLOCK_MONOTONIC ns */
	uint32_t in_window;    /* recorded in this window */
	uint32_t suppressed;   /* not recorded since the last record */
};

struct hooks_audit {
	struct hooks_audit_record *ring; /* cap entries, seq - 1 mod cap */
	uint32_t cap;
	uint64_t next_seq; /* starts at 1 */
	int log_fd;	   /* -1: no log file */
	struct hooks_rate_slot rate[HOOKS_RATE_SLOTS];
	struct hooks_audit_stats stats;
};

/* Domains a permissive mode let in although the Chinese Wall denied them:
 * the engine did not account them, so their destroy must not release
 * anything.  Bounded so that a decision never allocates; when it is full
 * the create is denied after all (fail closed). */
#define HOOKS_UNTRACKED_MAX 1024u

struct hooks_state {
	struct hooks_config cfg; /* defaults filled in */
	char *audit_log_path;	 /* owned copy of cfg.audit_log */
	enum hooks_mode mode;
	/* A what-if question is being asked (hooks_set_dry_run): decisions
	 * are made but neither counted nor audited. */
	bool dry_run;
	struct hooks_policy *pol; /* NULL: fail-closed */
	char no_policy_why[HOOKS_TEXT_MAX];
	struct hooks_counters counters[HOOKS_ID__COUNT];
	/* Engine statistics of the policies replaced so far. */
	struct acm_hook_stats engine_past[ACM_HOOK__COUNT];
	/* What dry runs added to the engine's counters, taken back out in
	 * hooks_stats: the engine counts every decision it computes. */
	struct acm_hook_stats engine_dry[ACM_HOOK__COUNT];
	uint32_t untracked[HOOKS_UNTRACKED_MAX];
	size_t n_untracked;
	struct hooks_audit audit;
};

/* The DEFAULT policy blob, generated at build time (hooks/module.mk). */
extern const char hooks_default_blob[];
extern const unsigned long hooks_default_blob_len;

/* policy.c */
void hooks_policy_free(struct hooks_policy *pol);

/* untracked.c */
bool hooks_untracked_has(const struct hooks_state *hs, uint32_t domid);
bool hooks_untracked_add(struct hooks_state *hs, uint32_t domid);
bool hooks_untracked_del(struct hooks_state *hs, uint32_t domid);

/* audit.c */
int hooks_audit_init(struct hooks_audit *a, const struct hooks_config *cfg,
		     const char *log_path);
void hooks_audit_fini(struct hooks_audit *a);
/* Rate-limits (denials only), stamps seq, keeps the record in the ring and
 * appends it to the log.  Returns false when it was suppressed. */
bool hooks_audit_emit(struct hooks_state *hs, struct hooks_audit_record *r);
uint64_t hooks_now_ns(const struct hooks_state *hs, clockid_t id,
		      struct timespec *ts);

/* explain.c: reasons and blockers in words, with the policy's names. */
void hooks_explain_verdict(const struct acm_policy *p, enum hooks_kind kind,
			   const struct acm_verdict *v, acm_row_t a,
			   acm_row_t b, char *buf, size_t len);
void hooks_explain_blocker(const struct acm_policy *old_p,
			   const struct acm_policy *new_p,
			   const struct acm_blocker *b, bool relabel, char *buf,
			   size_t len);
/* The name of `row`, or a placeholder that says what is wrong with it. */
const char *hooks_row_name(const struct acm_policy *p, acm_row_t row, char *tmp,
			   size_t len);

/* text.c: bounded string helpers (always NUL-terminate, never overrun). */
void hooks_strlcpy(char *dst, const char *src, size_t len);
void hooks_appendf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* HVSEC_HOOKS_IMPL_H */
