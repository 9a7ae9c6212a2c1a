/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv_control.h - the control protocol: dom0's toolstack and hvsecd.
 *
 * The toolstack connects to RUN_DIR/control, a SOCK_SEQPACKET unix socket
 * that only root (or the daemon's own uid) may open: the socket file is
 * 0600 and the daemon re-checks SO_PEERCRED on accept.  Whoever passes
 * that check acts as dom0.  One datagram is one message; files (a policy
 * blob, a console log) travel as SCM_RIGHTS fds so no message is large.
 *
 * A request is struct hv_ctl_hdr + the op's body.  Every request gets one
 * reply: struct hv_ctl_reply_hdr (seq echoed, op | HV_CTL_REPLY, a Xen
 * errno), then the op's reply body (when err == 0, and for the errors
 * whose body is the answer: -EBUSY from POLICY_LOAD/RELABEL with the
 * blockers, -EACCES from DOMAIN_CREATE with the checks), then `text_len`
 * bytes of human-readable explanation (why a create was denied, what a
 * dry run found), zero-padded to 4.  A connection that asked to follow the
 * audit log also receives notices (op HV_CTL_NTF_AUDIT, seq 0).
 *
 * Variable parts are strings (struct hv_ctl_str: u32 length, the bytes,
 * no NUL, zero padding to a multiple of 4) and arrays of fixed structs
 * whose count is in the fixed part.  Everything is little-endian, every
 * struct has static_asserts, every length is bounded below.  The parser
 * (hv_control.c) reads through one bounded cursor and refuses trailing
 * bytes.  docs/hypervisor.md §3 has the byte-by-byte description.
 *
 * A client library (libhvctl: connect, call, encoders/decoders) is part
 * of this interface so the toolstack and the tests share one encoder.
 */
#ifndef HVSEC_HV_CONTROL_H
#define HVSEC_HV_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypervisor/hv_proto.h"

#define HV_CTL_SOCKET "control"     /* RUN_DIR/control */
#define HV_XS_SOCKET "xenstored"    /* RUN_DIR/xenstored */
#define HV_CONSOLE_DIR "console"    /* RUN_DIR/console/<domid>.log */

/* magic: 'H' 'V' 'K' then the protocol version.
 *   1  first version
 *   2  a denied DOMAIN_CREATE (-EACCES) carries hv_ctl_dry_run_rep and
 *      its checks as body; the create body carries vifs (n_vifs takes
 *      the first reserved word); hv_ctl_domain_info grows cpu_ns and
 *      created_unix_ns (192 -> 208 bytes); GET_MODE.  A version 1 client
 *      would misread every domain record, so version 1 is refused. */
#define HV_CTL_MAGIC_BASE 0x004b5648u
#define HV_CTL_VERSION 2u
#define HV_CTL_VERSION_MIN 2u
#define HV_CTL_MAGIC(v) (HV_CTL_MAGIC_BASE | ((uint32_t)(v) << 24))

#define HV_CTL_MSG_MAX 65536u  /* largest datagram either way */
#define HV_CTL_STR_MAX 4095u   /* longest string */
#define HV_CTL_ARGS_MAX 64u    /* guest argv entries after the kernel */
#define HV_CTL_DISKS_MAX 16u
#define HV_CTL_VTPMS_MAX 4u
#define HV_CTL_VIFS_MAX 16u
#define HV_CTL_BLOCKERS_MAX 128u /* listed; the total is also reported */
#define HV_CTL_CHECKS_MAX 32u
#define HV_CTL_TEXT_MAX 4096u

struct hv_ctl_hdr {
	uint32_t magic; /* HV_CTL_MAGIC(version) */
	uint32_t op;    /* enum hv_ctl_op (| HV_CTL_REPLY in replies) */
	uint32_t len;   /* whole datagram */
	uint32_t seq;
};
#define HV_CTL_REPLY 0x80000000u
#define HV_CTL_NOTICE 0x40000000u

struct hv_ctl_reply_hdr {
	struct hv_ctl_hdr h;
	int32_t err;       /* 0 or a negative Xen errno */
	uint32_t nfds;     /* fds attached */
	uint32_t body_len; /* op reply body bytes (0 when err != 0, but for
			    * the errors above that carry one) */
	uint32_t text_len; /* explanation bytes after the body, unpadded */
};

/* A string: `len` bytes follow (1..HV_CTL_STR_MAX unless the field says
 * it may be empty), no NUL inside, then zero bytes up to a multiple of 4. */
struct hv_ctl_str {
	uint32_t len;
};

enum hv_ctl_op {
	HV_CTL_POLICY_LOAD = 1,    /* hv_ctl_policy_load + 1 fd (the blob) */
	HV_CTL_POLICY_GET = 2,     /* -> hv_ctl_policy_info [+ 1 fd: the
				    * blob; none for the built-in one] */
	HV_CTL_DOMAIN_CREATE = 3,  /* hv_ctl_create... -> hv_ctl_domain_info */
	HV_CTL_DOMAIN_DESTROY = 4, /* hv_ctl_domid */
	HV_CTL_DOMAIN_PAUSE = 5,   /* hv_ctl_domid */
	HV_CTL_DOMAIN_UNPAUSE = 6, /* hv_ctl_domid */
	HV_CTL_DOMAIN_LIST = 7,    /* hv_ctl_list -> hv_ctl_list_rep + infos */
	HV_CTL_DOMAIN_INFO = 8,    /* hv_ctl_lookup -> hv_ctl_domain_info */
	HV_CTL_RELABEL = 9,        /* hv_ctl_relabel -> hv_ctl_update_rep */
	HV_CTL_RES_LABEL_SET = 10, /* str resource, str label */
	HV_CTL_RES_LABEL_RM = 11,  /* str resource */
	HV_CTL_RES_LABEL_GET = 12, /* str resource -> str label */
	HV_CTL_RES_LABEL_LIST = 13,/* hv_ctl_list -> hv_ctl_res_list_rep */
	HV_CTL_DRY_RUN = 14,       /* as CREATE -> hv_ctl_dry_run_rep */
	HV_CTL_AUDIT_READ = 15,    /* hv_ctl_audit_req -> hv_ctl_audit_rep */
	HV_CTL_STATS = 16,         /* -> hv_ctl_stats_rep + hook entries */
	HV_CTL_CONSOLE = 17,       /* hv_ctl_domid -> 1 fd, read-only log */
	HV_CTL_EVTCHN_LIST = 18,   /* hv_ctl_domid (INVALID: all) ->
				    * hv_ctl_evtchn_rep + entries */
	HV_CTL_GNT_LIST = 19,      /* hv_ctl_domid (INVALID: all) ->
				    * hv_ctl_gnt_rep + entries */
	HV_CTL_SET_MODE = 20,      /* hv_ctl_mode -> hv_ctl_mode */
	HV_CTL_GET_MODE = 21,      /* (empty) -> hv_ctl_mode, changes nothing */
	HV_CTL_DEVICE_LIST = 22,   /* hv_ctl_domid (INVALID: all) ->
				    * hv_ctl_device_rep + entries */
	HV_CTL_OP__COUNT
};
enum hv_ctl_notice {
	HV_CTL_NTF_AUDIT = HV_CTL_NOTICE | 1, /* body: hv_ctl_audit_rep */
};

/* ---- Policy */
struct hv_ctl_policy_load {
	uint32_t flags; /* HV_CTL_POLICY_F_* */
	uint32_t reserved;
};
/* No flag: a live update (validated against every running domain, live
 * evtchn and grant; refused with the blockers listed).  With no guest
 * running the same path installs any valid policy. */
#define HV_CTL_POLICY_F_DRY_RUN (1u << 0) /* validate only */
#define HV_CTL_POLICY_F_REVOKE (1u << 1)  /* close sharing the new policy
					   * forbids instead of refusing */
#define HV_CTL_POLICY_F_ALL 0x3u

/* Reply to POLICY_LOAD and RELABEL: the update result and its blockers
 * (hv_ctl_blocker x n_listed follows). */
struct hv_ctl_update_rep {
	uint32_t applied;     /* 1 when the change took effect */
	uint32_t n_blockers;  /* total found */
	uint32_t n_listed;    /* <= HV_CTL_BLOCKERS_MAX */
	uint32_t n_revoked;   /* channels/grants closed by F_REVOKE */
	uint64_t generation;  /* policy generation after the call */
};
struct hv_ctl_blocker {
	uint32_t kind;        /* acm_blocker_kind (acm/acm.h) */
	uint32_t domid;       /* HV_DOMID_INVALID when n/a */
	uint32_t peer_domid;  /* HV_DOMID_INVALID when n/a */
	uint32_t hook;        /* acm_hook for sharing blockers, else ~0 */
	char text[112];       /* explanation, NUL-terminated */
};

struct hv_ctl_policy_info {
	char name[HV_NAME_LEN];
	uint32_t version_major, version_minor;
	uint32_t flags;       /* HV_CTL_PINFO_F_* */
	uint32_t n_labels;
	uint64_t generation;
	uint8_t sha256[32];   /* of the blob */
	char failure[128];    /* why the boot policy was refused, or "" */
};
#define HV_CTL_PINFO_F_BUILTIN (1u << 0)    /* built-in DEFAULT policy */
#define HV_CTL_PINFO_F_PERMISSIVE (1u << 1)
#define HV_CTL_PINFO_F_FAIL_CLOSED (1u << 2) /* no valid policy: no guest
					      * may start */

/* ---- Domains */
struct hv_ctl_domid {
	uint32_t domid;
};
/* DOMAIN_INFO: by id, or by name when domid == HV_DOMID_INVALID. */
struct hv_ctl_lookup {
	uint32_t domid;
	char name[HV_NAME_LEN];
};

/* DOMAIN_CREATE and DRY_RUN: this fixed part, then
 *   str kernel                  (absolute path of the guest program)
 *   str arg x n_args            (argv[1..]; argv[0] is the kernel)
 *   n_disks x { hv_ctl_disk, str resource, str vdev }
 *   n_vtpms x { hv_ctl_vtpm, str backend }
 *   n_vifs x { str resource }   (version 2)
 * `name` and `label` are NUL-terminated in their fields; name is
 * [A-Za-z0-9_.-]{1,63}; label "" means unlabeled (__UNLABELED__).
 * The resource label of a disk, vif or vTPM is the daemon's
 * (RES_LABEL_*), not the config's: a disk names its resource
 * ("file:/img", "phy:/dev/sdb"), a vif its network in xlcfg's canonical
 * form ("vlan:N" for a bridge "BR.N", else "bridge:BR"), a vTPM is
 * "vtpm:UUID" (lowercase, from its uuid).  The daemon checks every one
 * that has a label with resource_use at create; one without a label is
 * not a resource the policy speaks of and is not checked. */
struct hv_ctl_create {
	char name[HV_NAME_LEN];
	char label[HV_NAME_LEN];
	uint8_t uuid[HV_UUID_LEN]; /* all zero: the daemon makes one */
	uint32_t memory_mb;        /* grant cap; 0 = 16 MiB */
	uint32_t flags;            /* HV_CTL_CREATE_F_* */
	uint32_t n_args;
	uint32_t n_disks;
	uint32_t n_vtpms;
	uint32_t n_vifs;           /* version 2; version 1 sends 0 */
	uint32_t reserved[2];
};
#define HV_CTL_CREATE_F_PAUSED (1u << 0) /* start paused */
#define HV_CTL_CREATE_F_ALL 0x1u
#define HV_CTL_MEMORY_MB_DEFAULT 16u
#define HV_CTL_MEMORY_MB_MAX 65536u

struct hv_ctl_disk {
	uint32_t mode;     /* HV_CTL_DISK_R or HV_CTL_DISK_W */
	uint32_t reserved;
};
#define HV_CTL_DISK_R 1u
#define HV_CTL_DISK_W 2u
struct hv_ctl_vtpm {
	uint8_t uuid[HV_UUID_LEN]; /* all zero = none given */
};

enum hv_domain_state {
	HV_DOMSTATE_RUNNING = 1,
	HV_DOMSTATE_PAUSED = 2,
	HV_DOMSTATE_SHUTDOWN = 3, /* exited 0 or SCHEDOP_shutdown */
	HV_DOMSTATE_CRASHED = 4,  /* died by a signal, nonzero exit, or
				   * protocol violations */
	HV_DOMSTATE_DYING = 5,    /* being destroyed */
};
struct hv_ctl_domain_info {
	uint32_t domid;
	uint32_t state;          /* enum hv_domain_state */
	uint32_t ssidref;        /* label's stable id; 0 for dom0 builtin */
	uint32_t flags;          /* HV_CTL_DINFO_F_* */
	int32_t exit_status;     /* exit code, or -signal; 0 while running */
	uint32_t shutdown_reason;/* enum hv_shutdown_reason when SHUTDOWN */
	uint32_t pid;            /* guest process (0 when not running) */
	uint32_t max_pages;      /* grant cap */
	uint32_t granted_pages;  /* live grant entries */
	uint32_t n_evtchn;       /* ports in use */
	uint32_t n_maps;         /* foreign pages this domain maps */
	uint32_t uid;            /* the guest's uid (root daemon) */
	uint8_t uuid[HV_UUID_LEN];
	char name[HV_NAME_LEN];
	char label[HV_NAME_LEN];
	/* Version 2.  CPU time of the guest process (user + system, its
	 * reaped children included), read by the daemon from /proc/PID/stat
	 * of its own child: the toolstack need not see the guest's /proc.
	 * dom0's is the daemon's own.  After death: the last value. */
	uint64_t cpu_ns;
	uint64_t created_unix_ns; /* CLOCK_REALTIME at creation */
};
#define HV_CTL_DINFO_F_DOM0 (1u << 0)

struct hv_ctl_list {
	uint32_t start; /* first domid (or entry index) to report */
	uint32_t max;   /* most entries wanted (capped by the daemon) */
};
struct hv_ctl_list_rep {
	uint32_t count; /* hv_ctl_domain_info x count follows */
	uint32_t next;  /* start for the next page, or HV_DOMID_INVALID */
};

struct hv_ctl_relabel {
	uint32_t domid;
	uint32_t flags; /* HV_CTL_POLICY_F_DRY_RUN */
	char label[HV_NAME_LEN];
};

/* ---- Resource labels.  RES_LABEL_LIST reply: hv_ctl_list_rep, then
 * count x { str resource, str label }. */

/* ---- Dry run: what create would decide, without creating.  Also the
 * body of a DOMAIN_CREATE denied by the policy (err -EACCES): there the
 * checks are those the create ran, in order, the denial last (a create
 * stops at its first denial); verdict is -EACCES. */
struct hv_ctl_dry_run_rep {
	int32_t verdict;  /* what DOMAIN_CREATE would return (0/-EACCES..) */
	uint32_t n_checks;/* hv_ctl_check x n_checks follows */
};
struct hv_ctl_check {
	uint32_t hook;         /* enum hooks_id: the line of hooks/hooks.def
				* (hooks_hook_info() names it), not the
				* engine's acm_hook, which several hooks
				* share */
	int32_t err;           /* 0 permitted, -EACCES denied */
	char object[HV_NAME_LEN]; /* label or resource checked against */
	char text[120];        /* the reason, NUL-terminated */
};

/* ---- Audit.  Records are JSON lines (the hooks layer's format), one
 * record per line, each ending in '\n'. */
struct hv_ctl_audit_req {
	uint64_t from_seq; /* first record wanted; 0 = oldest kept; past
			    * the newest = only records made from now */
	uint32_t max_bytes;/* text budget (capped at HV_CTL_MSG_MAX - 256) */
	uint32_t flags;    /* HV_CTL_AUDIT_F_FOLLOW */
};
#define HV_CTL_AUDIT_F_FOLLOW (1u << 0)
struct hv_ctl_audit_rep {
	uint64_t next_seq; /* first record not included */
	uint64_t dropped;  /* records lost to ring overwrite before from */
	uint32_t n_records;
	uint32_t n_bytes;  /* JSON text follows, n_bytes, padded to 4 */
};

/* ---- Statistics */
struct hv_ctl_stats_rep {
	uint64_t hypercalls;        /* served */
	uint64_t hypercall_errors;  /* answered with err != 0 */
	uint64_t denials;           /* -EACCES from the hooks */
	uint64_t domains_created;
	uint64_t domains_destroyed;
	uint64_t domains_crashed;
	uint64_t evtchn_mediated_sends;
	uint64_t policy_generation;
	uint32_t n_domains;         /* live, dom0 included */
	uint32_t n_hooks;           /* hv_ctl_hook_stats x n_hooks follows */
	uint32_t pages_live;        /* grant pages the daemon holds */
	uint32_t channels_live;     /* bound interdomain channels */
};
struct hv_ctl_hook_stats {
	char name[32];
	uint64_t evaluated;
	uint64_t denied;
	uint64_t cache_hits;
	uint64_t calls;   /* hook invocations (evaluated + cached) */
};

/* ---- Event channels and grants as the daemon sees them */
struct hv_ctl_evtchn_rep {
	uint32_t count; /* hv_ctl_evtchn_entry x count */
	uint32_t reserved;
};
struct hv_ctl_evtchn_entry {
	uint32_t domid, port;
	uint32_t status;      /* enum hv_evtchn_status */
	uint32_t remote_dom;
	uint32_t remote_port;
	uint32_t flags;       /* HV_EVTCHN_F_* */
};
struct hv_ctl_gnt_rep {
	uint32_t count; /* hv_ctl_gnt_entry x count */
	uint32_t reserved;
};
/* One row per grant entry and one per mapping of it, so "who maps what"
 * is a join the tool can print.  kind GRANT: mapper/handle unused.
 * kind MAP: the grant (granter, gref) mapped by `mapper` as `handle`;
 * HV_CTL_GNT_F_ORPHANED when the granter is gone but the page lives on
 * until this mapping is unmapped (Xen keeps mapped pages alive). */
struct hv_ctl_gnt_entry {
	uint32_t kind;    /* HV_CTL_GNT_KIND_* */
	uint32_t granter, gref, grantee;
	uint32_t mapper, handle;
	uint32_t flags;   /* HV_GNT_READONLY | HV_CTL_GNT_F_* */
	uint32_t n_maps;  /* GRANT: live mappings */
};
#define HV_CTL_GNT_KIND_GRANT 1u
#define HV_CTL_GNT_KIND_MAP 2u
#define HV_CTL_GNT_F_ORPHANED (1u << 8)

/* ---- Device connections (HV_OP_DEVICE_CONNECT) as the daemon keeps
 * them: the resources backends said they connected, each a resource in
 * use of its frontend.  A domid selects the connections it is backend or
 * frontend of.  `total` is how many matched; `count` how many fit. */
struct hv_ctl_device_rep {
	uint32_t count; /* hv_ctl_device_entry x count */
	uint32_t total;
};
struct hv_ctl_device_entry {
	uint32_t backend, frontend;
	uint32_t cls;             /* enum hv_dev_class */
	uint32_t flags;           /* HV_CTL_DEV_F_* */
	char label[HV_NAME_LEN];  /* the resource label, "" unlabelled */
	char resource[HV_DEV_NAME_LEN];
};
#define HV_CTL_DEV_F_LABELLED (1u << 0) /* a policy object: checked at
					 * connect, a blocker of updates */

/* ---- Mode.  SET_MODE changes it; GET_MODE (no body) only asks. */
struct hv_ctl_mode {
	uint32_t set;   /* bits to set */
	uint32_t clear; /* bits to clear; reply: current mode in `set`, 0 */
};
#define HV_CTL_MODE_PERMISSIVE (1u << 0)   /* hooks log, never deny */
#define HV_CTL_MODE_MEDIATE_SEND (1u << 1) /* channels bound from now on
					    * send through the daemon (the
					    * evtchn_send hook on every send) */
#define HV_CTL_MODE_ALL 0x3u

static_assert(sizeof(struct hv_ctl_hdr) == 16, "ctl hdr");
static_assert(sizeof(struct hv_ctl_reply_hdr) == 32, "ctl reply hdr");
static_assert(sizeof(struct hv_ctl_str) == 4, "ctl str");
static_assert(sizeof(struct hv_ctl_policy_load) == 8, "policy load");
static_assert(sizeof(struct hv_ctl_update_rep) == 24, "update rep");
static_assert(offsetof(struct hv_ctl_update_rep, generation) == 16, "gen");
static_assert(sizeof(struct hv_ctl_blocker) == 128, "blocker");
static_assert(sizeof(struct hv_ctl_policy_info) == 64 + 24 + 32 + 128,
	      "policy info");
static_assert(offsetof(struct hv_ctl_policy_info, generation) == 80, "pi");
static_assert(sizeof(struct hv_ctl_lookup) == 68, "lookup");
static_assert(sizeof(struct hv_ctl_create) == 64 + 64 + 16 + 32, "create");
static_assert(offsetof(struct hv_ctl_create, memory_mb) == 144, "create.mem");
static_assert(offsetof(struct hv_ctl_create, n_vifs) == 164, "create.vifs");
static_assert(sizeof(struct hv_ctl_disk) == 8, "disk");
static_assert(sizeof(struct hv_ctl_vtpm) == 16, "vtpm");
static_assert(sizeof(struct hv_ctl_domain_info) == 48 + 16 + 128 + 16,
	      "dinfo");
static_assert(offsetof(struct hv_ctl_domain_info, cpu_ns) == 192, "dinfo.cpu");
static_assert(offsetof(struct hv_ctl_domain_info, uuid) == 48, "dinfo.uuid");
static_assert(sizeof(struct hv_ctl_list) == 8, "list");
static_assert(sizeof(struct hv_ctl_list_rep) == 8, "list rep");
static_assert(sizeof(struct hv_ctl_relabel) == 72, "relabel");
static_assert(sizeof(struct hv_ctl_dry_run_rep) == 8, "dry run");
static_assert(sizeof(struct hv_ctl_check) == 192, "check");
static_assert(sizeof(struct hv_ctl_audit_req) == 16, "audit req");
static_assert(sizeof(struct hv_ctl_audit_rep) == 24, "audit rep");
static_assert(sizeof(struct hv_ctl_stats_rep) == 80, "stats");
static_assert(sizeof(struct hv_ctl_hook_stats) == 64, "hook stats");
static_assert(sizeof(struct hv_ctl_evtchn_entry) == 24, "evtchn entry");
static_assert(sizeof(struct hv_ctl_gnt_entry) == 32, "gnt entry");
static_assert(sizeof(struct hv_ctl_mode) == 8, "mode");
static_assert(sizeof(struct hv_ctl_device_rep) == 8, "device rep");
static_assert(sizeof(struct hv_ctl_device_entry) == 16 + 64 + 192,
	      "device entry");
static_assert(offsetof(struct hv_ctl_device_entry, resource) == 80,
	      "device entry.resource");

/* ------------------------------------------------------------------ */
/* Encoding and decoding (hypervisor/hv_control.c, libhvctl)           */
/* ------------------------------------------------------------------ */

const char *hv_ctl_op_name(uint32_t op);
const char *hv_domstate_name(uint32_t state); /* "running" ... */

/* A bounded writer: every put checks space; after an overflow every
 * later put is a no-op and hv_wbuf_error() is true. */
struct hv_wbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};
void hv_wbuf_init(struct hv_wbuf *w, void *buf, size_t cap);
void hv_wbuf_put(struct hv_wbuf *w, const void *data, size_t len);
void hv_wbuf_put_u32(struct hv_wbuf *w, uint32_t v);
/* A string as struct hv_ctl_str + bytes + padding. */
void hv_wbuf_put_str(struct hv_wbuf *w, const char *s);
void hv_wbuf_put_strn(struct hv_wbuf *w, const char *s, size_t n);
bool hv_wbuf_error(const struct hv_wbuf *w);

/* The bounded reader every parser uses: a read that does not fit fails
 * and leaves the cursor where it was. */
struct hv_cur {
	const uint8_t *p;
	size_t len, off;
};
void hv_cur_init(struct hv_cur *c, const void *buf, size_t len);
int hv_cur_get(struct hv_cur *c, void *out, size_t len);       /* 0/-EINVAL */
int hv_cur_get_u32(struct hv_cur *c, uint32_t *v);
/* A string of 0..max bytes without NUL, copied NUL-terminated into out
 * (out_cap > max), padding checked to be zero. */
int hv_cur_get_str(struct hv_cur *c, char *out, size_t out_cap, size_t max);
size_t hv_cur_left(const struct hv_cur *c);

/* A fixed NUL-padded name field: NUL-terminated inside the field and
 * zero after the NUL.  `ident` additionally requires [A-Za-z0-9_.-]{1,}. */
bool hv_name_field_ok(const char *field, size_t size, bool allow_empty,
		      bool ident);

/* Domain creation arguments, as the toolstack holds them. */
struct hv_ctl_disk_arg {
	const char *resource; /* "file:/img" */
	const char *vdev;     /* "xvda" */
	uint32_t mode;        /* HV_CTL_DISK_R / _W */
};
struct hv_ctl_vtpm_arg {
	const char *backend;  /* backend domain name */
	uint8_t uuid[HV_UUID_LEN];
};
struct hv_ctl_create_args {
	const char *name;
	const char *label;          /* NULL or "" = unlabeled */
	const uint8_t *uuid;        /* NULL = daemon generates */
	const char *kernel;         /* absolute path */
	const char *const *args;    /* argv[1..] */
	uint32_t n_args;
	uint32_t memory_mb;
	uint32_t flags;             /* HV_CTL_CREATE_F_* */
	const struct hv_ctl_disk_arg *disks;
	uint32_t n_disks;
	const struct hv_ctl_vtpm_arg *vtpms;
	uint32_t n_vtpms;
	const char *const *vifs;    /* canonical: "vlan:20", "bridge:br0" */
	uint32_t n_vifs;
};
/* Encodes the body of DOMAIN_CREATE / DRY_RUN.  Returns the length, or 0
 * when an argument breaks a bound (too long, too many, bad name). */
size_t hv_ctl_encode_create(const struct hv_ctl_create_args *a, void *buf,
			    size_t cap);

/* The decoded create request; every string is NUL-terminated and lives
 * in the struct itself (no pointer into the datagram survives). */
struct hv_ctl_create_req {
	struct hv_ctl_create fixed;
	char kernel[HV_CTL_STR_MAX + 1];
	uint32_t n_args;
	char *args[HV_CTL_ARGS_MAX];     /* into `arena` */
	uint32_t n_disks;
	struct {
		uint32_t mode;
		char *resource, *vdev;   /* into `arena` */
	} disks[HV_CTL_DISKS_MAX];
	uint32_t n_vtpms;
	struct {
		uint8_t uuid[HV_UUID_LEN];
		char *backend;           /* into `arena` */
	} vtpms[HV_CTL_VTPMS_MAX];
	uint32_t n_vifs;
	char *vifs[HV_CTL_VIFS_MAX];     /* into `arena` */
	size_t arena_used;
	char arena[HV_CTL_MSG_MAX];
};
/* Decodes and validates a create body (exact length, names, counts,
 * flags, reserved zero, kernel absolute).  0 or -EINVAL. */
int hv_ctl_decode_create(const void *body, size_t len,
			 struct hv_ctl_create_req *out);

/* Parses a request datagram's header: magic/version, len == datagram,
 * op known.  On success *body and *body_len are the bytes after the header. */
int hv_ctl_parse_hdr(const void *buf, size_t len, struct hv_ctl_hdr *h,
		     const uint8_t **body, size_t *body_len);

/* ---- Client */
struct hv_ctl_client;
/* Connects to RUN_DIR/control.  0 or -errno. */
int hv_ctl_connect(const char *run_dir, struct hv_ctl_client **out);
void hv_ctl_disconnect(struct hv_ctl_client *c);
int hv_ctl_fd(const struct hv_ctl_client *c);

/* A received reply.  body/text point into `buf`; fds are owned by the
 * caller after hv_ctl_call (close them, or use hv_ctl_resp_release). */
struct hv_ctl_resp {
	struct hv_ctl_reply_hdr r;
	const uint8_t *body;
	size_t body_len;
	const char *text;       /* NUL-terminated (a copy in `buf`) */
	int fds[4];
	unsigned nfds;
	uint8_t buf[HV_CTL_MSG_MAX + 8];
};
/* Sends one request and waits (up to timeout_ms, -1 = forever) for its
 * reply, skipping notices.  Returns the reply's err (0 or a negative Xen
 * errno), or a negative errno for a transport failure (-EPIPE,
 * -ETIMEDOUT, -EPROTO for a malformed reply) with resp->r.err unset. */
int hv_ctl_call(struct hv_ctl_client *c, uint32_t op, const void *body,
		size_t body_len, const int *fds, unsigned nfds,
		struct hv_ctl_resp *resp, int timeout_ms);
/* Waits for the next notice (audit follow).  0, or a negative errno. */
int hv_ctl_next_notice(struct hv_ctl_client *c, struct hv_ctl_resp *resp,
		       int timeout_ms);
void hv_ctl_resp_release(struct hv_ctl_resp *resp);

#endif /* HVSEC_HV_CONTROL_H */
