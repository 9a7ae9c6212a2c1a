/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_xen.h - the toolstack on the xen platform (internal to tools/):
 * `hvsec` in a dom0 booted with xsm=acm talks to Xen's ACM module through
 * libxenctrl instead of to hvsecd (docs/toolstack.md "On Xen",
 * docs/xsm-acm.md "The hvsec toolstack on Xen").
 *
 *   hvt_xen.c       platform choice, the recorded policy, the commands
 *                   (no libxenctrl: built everywhere, unit-tested on the
 *                   host against a fake backend, tests/tools/test_xen.c)
 *   hvt_xen_ctrl.c  the backend over libxenctrl (built when xenctrl.h is
 *                   there: Debian's libxen-dev)
 *   hvt_xen_none.c  the backend of an hvsec built without it: every call
 *                   fails with -ENOSYS
 *
 * Xen keeps no copy of the policy that dom0 could read back (the module
 * answers only FLASK's load/getenforce/context<->sid/relabel sub-ops, and
 * names the running policy through GETBOOL of boolean 0), so
 * `hvsec` records the last policy it loaded (or the one Xen booted with,
 * `policy load --record`) under HVT_XEN_STATE_DIR and answers label
 * questions, explains denials and dry-runs updates from that copy with
 * the same acm/ engine that Xen runs.  Before it trusts the copy it asks
 * Xen: the running policy's name and every VM label's id must agree, and
 * so must its version and blob hash where Xen reports them (identity).
 */
#ifndef HVSEC_TOOLS_HVT_XEN_H
#define HVSEC_TOOLS_HVT_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/hvsec.h"

#define HVT_PLATFORM_ENV     "HVSEC_PLATFORM"
#define HVT_XEN_STATE_ENV    "HVSEC_XEN_STATE_DIR"
#define HVT_XEN_STATE_DIR    "/var/lib/hvsec/xen"
#define HVT_XEN_POLICY_FILE  "policy.bin" /* in the state directory */
#define HVT_XEN_PRIVCMD	     "/dev/xen/privcmd"
#define HVT_XEN_PROC_PRIVCMD "/proc/xen/privcmd"
/* The longest context FLASK_SID_TO_CONTEXT answers: "ACM:" + two names
 * + ':' + NUL (the module's ACM_XSM_CONTEXT_MAX is smaller). */
#define HVT_XEN_CTX_MAX (4 + 2 * 255 + 2)

/* ------------------------------------------------------- platform choice */

enum hvt_platform { HVT_PLAT_MODEL = 0, HVT_PLAT_XEN = 1 };

/* What the choice is made from (hvsec_main.c fills it). */
struct hvt_plat_in {
	const char *option;  /* --platform VALUE, or NULL */
	const char *env;     /* $HVSEC_PLATFORM, or NULL */
	bool run_dir_given;  /* --run-dir or $HVSEC_RUN_DIR */
	bool socket_exists;  /* RUN_DIR/control exists */
	bool privcmd_exists; /* /dev/xen/privcmd or /proc/xen/privcmd */
};
/* --platform wins, then $HVSEC_PLATFORM ("model", "xen" or "auto");
 * auto is xen when Xen's privcmd exists and no hvsecd socket is
 * configured (no --run-dir, no $HVSEC_RUN_DIR, no RUN_DIR/control), else
 * the model.  *why says which rule chose.  0, or -1 for a value that is
 * not model/xen/auto (why names it). */
int hvt_platform_pick(const struct hvt_plat_in *in, enum hvt_platform *out,
		      char *why, size_t why_len);
const char *hvt_platform_name(enum hvt_platform p);

/* ------------------------------------------------------- the backend */

/* A domain as getdomaininfo reports it, with its name from XenStore. */
#define HVT_XD_DYING	(1u << 0)
#define HVT_XD_SHUTDOWN (1u << 1)
#define HVT_XD_PAUSED	(1u << 2)
#define HVT_XD_BLOCKED	(1u << 3)
#define HVT_XD_RUNNING	(1u << 4)
#define HVT_XD_CRASHED	(1u << 5) /* shutdown with reason crash */
struct hvt_xdom {
	uint32_t domid;
	uint32_t ssidref; /* the ACM label's id; 0 unlabelled */
	uint32_t flags;	  /* HVT_XD_* */
	uint32_t vcpus;
	uint64_t tot_pages, max_pages;
	uint64_t cpu_ns;
	uint8_t uuid[16];
	char name[HV_NAME_LEN]; /* "" when XenStore has none */
};
/* A live event channel between two domains, as dom0 reads them with
 * EVTCHNOP_status: the same shares the module checks an update against. */
struct hvt_xshare {
	uint32_t dom_a, dom_b;
	bool interdomain; /* else an unbound port reserved for dom_b */
};

struct hvt_xc;
/* 0, or -errno with *why saying what could not be opened. */
int hvt_xc_open(struct hvt_xc **out, char *why, size_t why_len);
void hvt_xc_close(struct hvt_xc *x);
/* Every domain, in domid order; *out malloc'd.  0 or -errno. */
int hvt_xc_domains(struct hvt_xc *x, struct hvt_xdom **out, size_t *n);
/* FLASK_GETENFORCE: 1 enforcing, 0 permissive, or -errno. */
int hvt_xc_getenforce(struct hvt_xc *x);
/* FLASK_SETENFORCE. 0 or -errno. */
int hvt_xc_setenforce(struct hvt_xc *x, int mode);
/* FLASK_LOAD.  0 or -errno (Xen logs why). */
int hvt_xc_load(struct hvt_xc *x, const void *blob, size_t len);
/* FLASK_CONTEXT_TO_SID, FLASK_SID_TO_CONTEXT (NUL-terminated).  0 or
 * -errno (-ENOENT: no policy; -EINVAL: unknown). */
int hvt_xc_ctx2sid(struct hvt_xc *x, const char *ctx, uint32_t *sid);
int hvt_xc_sid2ctx(struct hvt_xc *x, uint32_t sid, char *buf, size_t len);
/* FLASK_GETBOOL of boolean 0: the running policy's identity line
 * (HVT_XEN_IDENT_TAG ..., hvt_xen_ident_parse), NUL-terminated.  0 or
 * -errno (-ENOENT: no policy; -EOPNOTSUPP: a module without it). */
int hvt_xc_identity(struct hvt_xc *x, char *buf, size_t len);
/* FLASK_RELABEL_DOMAIN.  0 or -errno (-EBUSY: blocked). */
int hvt_xc_relabel(struct hvt_xc *x, uint32_t domid, uint32_t sid);
/* The inter-domain event channels of every domain in `doms`, one per
 * ordered pair (as the module folds them); *out malloc'd.  0 or -errno. */
int hvt_xc_shares(struct hvt_xc *x, const struct hvt_xdom *doms, size_t n,
		  struct hvt_xshare **out, size_t *n_out);
/* "4.17.5" or the like; "" when unknown. */
void hvt_xc_version(struct hvt_xc *x, char *buf, size_t len);

/* ------------------------------------------------------- pure parts */

/* "ACM:POLICY:LABEL" (prefix in any case) into its parts; a bare "LABEL"
 * gives policy "".  false for anything else (empty parts, a ':' in a
 * name, longer than ACM_NAME_MAX). */
bool hvt_xen_ctx_parse(const char *ctx, char *policy, size_t plen, char *label,
		       size_t llen);
/* The running policy's identity as the module reports it (acm_xsm.c
 * get_identity, docs/xsm-acm.md):
 *   "hvsec-acm-policy 1 MAJOR.MINOR SOURCE-SHA256 BLOB-SHA256 NAME"
 * (hashes: 64 lowercase hex digits; the blob hash is its trailer). */
#define HVT_XEN_IDENT_TAG "hvsec-acm-policy 1"
#define HVT_XEN_IDENT_MAX                                                      \
	(sizeof(HVT_XEN_IDENT_TAG) + 24 + 130 + ACM_NAME_MAX + 1)
struct hvt_xident {
	uint32_t major, minor;
	uint8_t source_sha256[ACM_SHA256_LEN];
	uint8_t blob_sha256[ACM_SHA256_LEN];
	char name[ACM_NAME_MAX + 1];
};
/* Parses an identity line; false for anything that is not exactly one. */
bool hvt_xen_ident_parse(const char *line, struct hvt_xident *out);
/* "'NAME' MAJOR.MINOR (trailer sha256 FIRST-16-HEX...)". */
void hvt_xen_ident_text(const struct hvt_xident *id, char *buf, size_t len);
/* The state directory: $HVSEC_XEN_STATE_DIR, else HVT_XEN_STATE_DIR. */
void hvt_xen_state_dir(char *out, size_t len);
/* Writes blob as DIR/policy.bin (made 0755 if missing; the file 0644,
 * temp + fsync + rename).  0 or -errno. */
int hvt_xen_record(const char *dir, const void *blob, size_t len);

/* What the tool knows of the running system: the domains, their labels
 * and (for update/relabel checks) the shares, plus the recorded policy
 * and whether Xen agrees with it. */
enum hvt_rec_state {
	HVT_REC_NONE,  /* no recorded policy */
	HVT_REC_MATCH, /* name, every VM label id and (when Xen reports
			* it) the identity agree with Xen */
	HVT_REC_STALE, /* recorded, but Xen runs something else */
	HVT_REC_BAD,   /* the file is not a valid policy */
};
struct hvt_xstate {
	struct hvt_xdom *doms;
	size_t n_doms;
	bool has_policy; /* Xen runs a policy (dom0 is labelled) */
	char policy[ACM_NAME_MAX + 1]; /* its name, from SID_TO_CONTEXT */
	char (*ctx)[HVT_XEN_CTX_MAX];  /* each domain's context, "" none */
	int enforce;		       /* FLASK_GETENFORCE, or -errno */
	bool has_ident;		       /* Xen reported its identity */
	struct hvt_xident ident;       /* valid with has_ident */
	int ident_rc; /* hvt_xc_identity, or -EPROTO: unreadable answer */
	char rec_path[HVT_PATH_MAX];
	enum hvt_rec_state rec;
	char rec_why[320];     /* STALE/BAD: why */
	struct hvt_policy pol; /* the record (rec MATCH or STALE) */
};
/* Reads the domains, their contexts, the mode and the record (checked
 * against Xen).  0 or an exit status (reported). */
int hvt_xstate_read(struct hvt_xc *x, struct hvt_xstate *s);
void hvt_xstate_free(struct hvt_xstate *s);
/* The domains as acm_domain_ref rows of the recorded policy (labelled
 * ones only); *out malloc'd.  0, or -1 (out of memory). */
int hvt_xstate_refs(const struct hvt_xstate *s, struct acm_domain_ref **out,
		    size_t *n);
/* The domains in the toolstack's list form (names, labels from the
 * record), for hvt_chwall_why.  *out malloc'd.  0 or -1. */
int hvt_xstate_infos(const struct hvt_xstate *s,
		     struct hv_ctl_domain_info **out, size_t *n);

/* One blocker in words ("chinese wall conflict: acme1 (1) and globex (3):
 * type 'Acme' vs 'Globex' (conflict set AcmeVsGlobex)"). */
void hvt_xen_blocker_text(const struct hvt_xstate *s,
			  const struct acm_policy *oldp,
			  const struct acm_policy *newp,
			  const struct acm_blocker *b, char *buf, size_t len);
/* The checks Xen makes, run here: an update of the recorded policy to
 * `newp`, or a relabel of `domid` to `row`, against the domains and
 * `shares`.  *n_bl gets the total; up to max written.  0, or -1 when the
 * engine refused to run the check (reported). */
int hvt_xen_check_update(const struct hvt_xstate *s,
			 const struct acm_policy *newp,
			 const struct hvt_xshare *sh, size_t n_sh,
			 struct acm_blocker *bl, size_t max, size_t *n_bl);
int hvt_xen_check_relabel(struct hvt_xstate *s, uint32_t domid, acm_row_t row,
			  const struct hvt_xshare *sh, size_t n_sh,
			  struct acm_blocker *bl, size_t max, size_t *n_bl);

/* ------------------------------------------------------- commands */

/* Runs `cmd` on the xen platform: the policy, label, list, relabel,
 * dry-run, mode and status commands; the rest are refused (exit 2). */
int hvt_xen_run(struct hvt *t, const struct hvt_args *a);

#endif /* HVSEC_TOOLS_HVT_XEN_H */
