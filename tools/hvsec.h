/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec.h - the toolstack `hvsec` (internal to tools/): what the command
 * files share.  Every symbol here carries the prefix hvt_.
 *
 *   hvsec_main.c    global options, the command table, help, dispatch
 *   hvt_opt.c       per-command options and usage messages
 *   hvt_out.c       messages, exit codes, errno names, small formatting
 *   hvt_json.c      the JSON writer (--json)
 *   hvt_jsonr.c     the JSON reader (audit records from the daemon)
 *   hvt_conn.c      the daemon: connect, call, domain lookup and list
 *   hvt_pol.c       policy blobs (from the daemon or a file) and the
 *                   engine's local decisions used to explain denials
 *   hvt_cfg.c       domain configs: parse, resources, create arguments
 *   hvt_cfgedit.c   rewriting a config's label line, atomically
 *   cmd_*.c         one group of commands each
 *
 * Exit status of every command (docs/toolstack.md):
 *   0 success, 1 denied or blocked (the answer is "no"), 2 usage or input
 *   error (the message names the file, line, field or argument), 3 the
 *   daemon is unreachable or failed.
 * Answers go to stdout; errors and warnings go to stderr, prefixed "hvsec:".
 */
#ifndef HVSEC_TOOLS_HVSEC_H
#define HVSEC_TOOLS_HVSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "acm/acm.h"
#include "hypervisor/hv_control.h"
#include "tools/xlcfg.h"

#define HVT_PROG	       "hvsec"
#define HVT_VERSION	       "0.1.0"
#define HVT_RUN_DIR_ENV	       "HVSEC_RUN_DIR"
#define HVT_RUN_DIR_DEFAULT    "/run/hvsec"
#define HVT_TIMEOUT_MS_DEFAULT 30000
/* A vTPM line without backend= is served from dom0, as libxl does: here
 * by a stub domain that hvsec starts for the guest (docs/vtpm.md). */
#define HVT_VTPM_BACKEND_DEFAULT "0"

enum hvt_exit {
	HVT_OK = 0,
	HVT_NO = 1,	/* denied, blocked */
	HVT_USAGE = 2,	/* usage or input error */
	HVT_DAEMON = 3, /* daemon unreachable or failed */
};

/* A transport failure (the daemon did not answer): reported by hvt_call
 * itself, distinct from every Xen errno the daemon can answer with. */
#define HVT_E_TRANSPORT 100000

/* The run of one command.  `resp` is one reply buffer (64 KiB, on the
 * heap), reused by every call: a reply's body is valid until the next
 * call. */
struct hvt {
	const char *run_dir;
	bool json;
	int timeout_ms;
	struct hv_ctl_client *client; /* NULL until the first call */
	uint32_t last_op;	      /* of the last call, for messages */
	struct hv_ctl_resp *resp;
	bool verbose; /* the command's --verbose, where it has one */
	/* What this run talks to (hvsec_main.c; hvt_xen.h): hvsecd (the
	 * model) or Xen's ACM module, and which rule chose it. */
	int platform; /* enum hvt_platform */
	char platform_why[128];
};

/* ------------------------------------------------------------ options */

struct hvt_opt {
	const char *name; /* long name, without the dashes */
	char short_name;  /* 0: none */
	const char *arg;  /* NULL: a flag; else the argument's name */
	const char *help;
};

#define HVT_OPTS_MAX 12
#define HVT_POS_MAX  8

struct hvt_args {
	const struct hvt_cmd *cmd;
	const char *val[HVT_OPTS_MAX]; /* by index in cmd->opts; flags "" */
	char *pos[HVT_POS_MAX];
	int n_pos;
	char **raw; /* commands with `raw`: every argument, unparsed */
	int n_raw;
};

struct hvt_cmd {
	const char *name;	    /* "policy load" */
	const char *args;	    /* "P.bin" */
	const char *summary;	    /* one line */
	const char *help;	    /* more lines, or NULL */
	const struct hvt_opt *opts; /* terminated by a NULL name, or NULL */
	bool json;		    /* takes --json */
	int min_pos, max_pos;
	int (*run)(struct hvt *t, const struct hvt_args *a);
	bool raw; /* arguments go to another program as they are */
};

/* Parses argv (after the command words) into *a.  Returns -1 to go on,
 * or an exit status (0 after --help, HVT_USAGE after an error). */
int hvt_opt_parse(struct hvt *t, const struct hvt_cmd *cmd, int argc,
		  char **argv, struct hvt_args *a);
/* An option's value: NULL when not given, "" for a given flag. */
const char *hvt_opt(const struct hvt_args *a, const char *name);
void hvt_cmd_help(const struct hvt_cmd *cmd, FILE *f);
/* Prints "hvsec: CMD: message" and the usage line; returns HVT_USAGE. */
int hvt_usage(const struct hvt_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The command table (hvsec_main.c). */
extern const struct hvt_cmd hvt_cmds[];

/* ------------------------------------------------------------ output */

void hvt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hvt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "EACCES" for -13; "E?" for unknown values. */
const char *hvt_errname(int err);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase. */
void hvt_uuid_str(const uint8_t uuid[HV_UUID_LEN], char out[37]);
/* Parses a decimal number in [0, max]; false on anything else. */
bool hvt_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* xl's state column ("r-----", "--p---", ...). */
const char *hvt_state_flags(uint32_t state);

/* The JSON writer: commas, nesting and string escapes are its job.
 * Strings that are not UTF-8 get U+FFFD for each bad byte, so output is
 * always valid JSON. */
#define HVT_JSON_DEPTH 16
struct hvt_json {
	FILE *f;
	int depth;
	bool first[HVT_JSON_DEPTH]; /* no member yet at this level */
	bool after_key;
};
void hvt_json_init(struct hvt_json *j, FILE *f);
void hvt_json_obj(struct hvt_json *j);
void hvt_json_obj_end(struct hvt_json *j);
void hvt_json_arr(struct hvt_json *j);
void hvt_json_arr_end(struct hvt_json *j);
void hvt_json_key(struct hvt_json *j, const char *k);
void hvt_json_str(struct hvt_json *j, const char *s);
void hvt_json_strn(struct hvt_json *j, const char *s, size_t n);
void hvt_json_u64(struct hvt_json *j, uint64_t v);
void hvt_json_i64(struct hvt_json *j, int64_t v);
void hvt_json_bool(struct hvt_json *j, bool v);
void hvt_json_null(struct hvt_json *j);
/* A number with `decimals` digits after the point. */
void hvt_json_fixed(struct hvt_json *j, double v, int decimals);
/* Ends the document with a newline. */
void hvt_json_end(struct hvt_json *j);
/* key + value shorthands */
void hvt_json_kstr(struct hvt_json *j, const char *k, const char *s);
void hvt_json_ku64(struct hvt_json *j, const char *k, uint64_t v);
void hvt_json_ki64(struct hvt_json *j, const char *k, int64_t v);
void hvt_json_kbool(struct hvt_json *j, const char *k, bool v);

/* The JSON reader: walks one JSON text and reports every scalar with its
 * dotted path ("subject.label", "blockers.0.kind").  Strings are decoded
 * (escapes, \u with surrogates) into NUL-free UTF-8; \u0000 is refused.
 * Bounded depth and length.  Returns 0, or -1 for malformed JSON. */
enum hvt_jtype { HVT_J_STR, HVT_J_NUM, HVT_J_BOOL, HVT_J_NULL };
typedef void (*hvt_jsonr_cb)(void *ctx, const char *path, enum hvt_jtype t,
			     const char *value);
int hvt_jsonr_walk(const char *text, size_t len, hvt_jsonr_cb cb, void *ctx);

/* ------------------------------------------------------------ daemon */

/* Sends one request and waits for its reply into t->resp.  Returns 0, the
 * daemon's negative Xen errno (its explanation in t->resp->text), or
 * -HVT_E_TRANSPORT after printing why the daemon could not be reached or
 * did not answer. */
int hvt_call(struct hvt *t, uint32_t op, const void *body, size_t len,
	     const int *fds, unsigned nfds);
/* Reports a failed call: "hvsec: WHAT: <daemon's text> (EXXX)" and
 * returns the exit status it maps to (EACCES/EBUSY 1; bad names, labels,
 * files 2; the rest 3). */
int hvt_fail(struct hvt *t, const char *what, int rc);
int hvt_exit_for(int rc);
void hvt_disconnect(struct hvt *t);

/* A domain by name or decimal id.  0, or an exit status (reported). */
int hvt_domain_lookup(struct hvt *t, const char *which,
		      struct hv_ctl_domain_info *out);
/* Every domain the daemon knows (dom0 and dead records included), in
 * domid order; *out is malloc'd.  0 or an exit status (reported). */
int hvt_domain_list(struct hvt *t, struct hv_ctl_domain_info **out, size_t *n);
/* The domain's name by id from a list ("?" when absent). */
const char *hvt_domain_name(const struct hv_ctl_domain_info *v, size_t n,
			    uint32_t domid);
/* A domain that counts as running for the Chinese Wall. */
bool hvt_domain_live(const struct hv_ctl_domain_info *d);
/* Asked quietly by id: false when it is gone, dead or unreachable. */
bool hvt_domain_alive(struct hvt *t, uint32_t domid);
/* A resource's label in the daemon's store: 0 (label copied), -ENOENT
 * (unlabelled), or an exit status > 0 (reported). */
int hvt_reslabel_get(struct hvt *t, const char *res, char *label, size_t len);

/* ------------------------------------------------------------ policy */

/* A loaded binary policy and a private engine context, for reading labels
 * and for decisions that explain what the daemon decided. */
struct hvt_policy {
	uint8_t *blob;
	size_t len;
	void *mem, *ctx_mem;
	const struct acm_policy *p; /* NULL: none (daemon fail-closed) */
	struct acm_ctx *ctx;
	struct acm_policy_info info;
	bool from_daemon;
	struct hv_ctl_policy_info dinfo; /* when from_daemon */
};
/* Loads the daemon's current policy.  0 or an exit status (reported).
 * With no policy loaded (fail-closed) returns 0 with p == NULL. */
int hvt_policy_fetch(struct hvt *t, struct hvt_policy *pol);
/* Loads a binary policy file; errors name the file and byte offset. */
int hvt_policy_file(const char *path, struct hvt_policy *pol);
/* Verifies a blob already in pol->blob/len (named `what` in errors). */
int hvt_policy_open(struct hvt_policy *pol, const char *what);
void hvt_policy_free(struct hvt_policy *pol);
/* The row of a label, "" or NULL meaning __UNLABELED__. */
acm_row_t hvt_label_row(const struct hvt_policy *pol, enum acm_label_kind kind,
			const char *name);
/* Explains a verdict in words with the policy's names. */
void hvt_explain(const struct hvt_policy *pol, const struct acm_verdict *v,
		 acm_row_t a, acm_row_t b, char *buf, size_t len);
/* Why the Chinese Wall refuses `vm` next to the running domains `doms`:
 * "type Acme conflicts with type Globex of running domain globex1 (3)
 * in conflict set AcmeVsGlobex".  Empty when it would not refuse. */
void hvt_chwall_why(struct hvt_policy *pol, acm_row_t vm,
		    const struct hv_ctl_domain_info *doms, size_t n, char *buf,
		    size_t len);
const char *hvt_kind_word(enum acm_label_kind k); /* "dom", "res" */

/* ------------------------------------------------------------ configs */

/* Parses CFG and prints its diagnostics (FILE:LINE: ...) to stderr.
 * 0, or HVT_USAGE. */
int hvt_cfg_load(const char *path, struct xlcfg *c);
/* The canonical name a resource is labelled under: resolved through
 * symlinks when it exists (so a link cannot rename a labelled disk),
 * lexical otherwise (*resolved false).  0, or -1 with the reason. */
int hvt_resource_name(const char *in, char *out, size_t len, bool *resolved,
		      char *why, size_t why_len);

/* The create/dry-run request built from a config. */
struct hvt_create {
	struct hv_ctl_create_args a;
	const char *args[HV_CTL_ARGS_MAX];
	struct hv_ctl_disk_arg disks[HV_CTL_DISKS_MAX];
	char *disk_res[HV_CTL_DISKS_MAX]; /* owned */
	struct hv_ctl_vtpm_arg vtpms[HV_CTL_VTPMS_MAX];
	const char *vifs[HV_CTL_VIFS_MAX]; /* xlcfg's canonical names */
	char *extra;			   /* owned, split in place */
	uint8_t uuid[HV_UUID_LEN];
};
/* Builds the request; `policy` is the daemon's policy name (NULL: not
 * known), checked against the config's.  0, or HVT_USAGE (reported with
 * the config's file and line). */
int hvt_create_build(const struct xlcfg *c, const char *policy, bool paused,
		     struct hvt_create *cr);
void hvt_create_free(struct hvt_create *cr);

/* What a dry run lists beside hvsecd's checks (hvt_check.c): the vifs
 * and vTPMs without a label, as not checked (err > 0).  Labelled ones are
 * hvsecd's to check, at create and in a dry run. */
struct hvt_check {
	const char *what;		 /* "vif", "vtpm" */
	unsigned line;			 /* in the config */
	char object[XLCFG_RESOURCE_MAX]; /* canonical resource */
	char label[HV_NAME_LEN];	 /* its label, "" when none */
	int err; /* 0 permit, -EACCES deny, 1 unchecked */
	char why[256];
};
struct hvt_checks {
	struct hvt_check *v;
	size_t n;
};
/* 0, or an exit status (reported). */
int hvt_checks_local(struct hvt *t, struct hvt_policy *pol,
		     const struct xlcfg *c, struct hvt_checks *out);
void hvt_checks_free(struct hvt_checks *ck);

/* The daemon's checks, as a DRY_RUN reply or a denied DOMAIN_CREATE
 * carries them (hv_ctl_dry_run_rep + checks; strings terminated here).
 * 0, or -EPROTO for a body of the wrong shape (a daemon of protocol
 * version 1 sends none with a denial). */
struct hvt_dchecks {
	struct hv_ctl_dry_run_rep rep;
	struct hv_ctl_check chk[HV_CTL_CHECKS_MAX];
};
int hvt_dchecks_take(const struct hv_ctl_resp *r, struct hvt_dchecks *out);

/* Config label editing (hvt_cfgedit.c). */
/* Sets (label != NULL) or removes (label == NULL) the label of config
 * file `path`, keeping everything else byte for byte; the result is
 * parsed again before it replaces the file (temp + fsync + rename).
 * *changed is false when there was nothing to remove.  0 or HVT_USAGE. */
int hvt_cfg_set_label(const char *path, const char *policy, const char *label,
		      bool *changed);

/* ------------------------------------------------------------ commands */

int hvt_cmd_policy_load(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_policy_show(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_policy_compile(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_policy_graph(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_labels(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_label_add(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_label_rm(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_label_get(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_resources(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_create(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_destroy(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_pause(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_relabel(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_console(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_list(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_dry_run(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_audit(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_stats(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_mode(struct hvt *t, const struct hvt_args *a);
/* The platform and what it says (hvt_xen.c, both platforms). */
int hvt_cmd_status(struct hvt *t, const struct hvt_args *a);

/* A guest's vTPMs (hvt_vtpm.c, docs/vtpm.md). */
#define HVT_VTPMS_MAX HV_CTL_VTPMS_MAX
#define HVT_PATH_MAX  4096
#define HVT_VTPM_DIR_DEFAULT "/var/lib/hvsec/vtpm" /* as root */
struct hvt_vtpm_rec {
	unsigned devid;
	uint32_t be_domid; /* the backend (stub) domain */
	bool stub;	   /* started by hvsec for this guest */
	bool ephemeral;	   /* no uuid configured: state goes with it */
	char dir[HVT_PATH_MAX - 64];
	bool managed;	      /* manager mode: DETACH after the stub */
	uint32_t manager;     /* the manager's domid then */
	char uuid[37];	      /* the instance, for DETACH */
};
struct hvt_vtpm_recs {
	uint32_t guest;
	size_t n;
	struct hvt_vtpm_rec rec[HVT_VTPMS_MAX];
};
/* For each vtpm line of a guest created paused: its stub domain and both
 * XenStore directories, connected up to the backend's InitWait.  0, or an
 * exit status (reported; what was set up for the failing one is undone,
 * the caller destroys the guest and tears down the ones before). */
int hvt_vtpm_setup(struct hvt *t, const struct xlcfg *c,
		   const struct hv_ctl_domain_info *g);
/* The toolstack's record of a guest's vTPMs (/libxl, dom0 only). */
int hvt_vtpm_records(struct hvt *t, uint32_t guest, struct hvt_vtpm_recs *out);
/* After the guest is gone: stub domains, directories, state hand-back. */
void hvt_vtpm_teardown(struct hvt *t, const struct hvt_vtpm_recs *recs);
int hvt_cmd_tcti(struct hvt *t, const struct hvt_args *a);
/* Attestation of a guest's vTPM (hvt_attest.c, docs/measured-boot.md §6). */
int hvt_cmd_vtpm_attest(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_golden(struct hvt *t, const struct hvt_args *a);

/* Before a vTPM's stub runs (hvt_manufacture.c; docs/vtpm.md). */
#define HVT_CA_DEFAULT "/var/lib/hvsec/ca.pem" /* as root; $HVSEC_CA */
#define HVT_BOOT_LOG   "boot-log" /* in the state directory */
struct mgr_ca;
/* The host's vTPM CA file: $HVSEC_CA, else (root) HVT_CA_DEFAULT, else
 * beside the run dir. */
void hvt_ca_path(const struct hvt *t, char *out, size_t len);
/* Loads the CA, making it (0600) on first use.  0 or an exit status
 * (reported). */
int hvt_ca_open(const struct hvt *t, struct mgr_ca **ca, bool *created);
struct hvt_manufactured {
	bool made;	 /* the directory had no state: a TPM was made */
	bool ca_created; /* ... and the CA with it */
	uint64_t us;	 /* how long making it took (CA load included) */
};
/* A directory with no TPM state gets a new TPM 2.0 with both EKs at
 * their persistent handles, their certificates (issued by the CA) at the
 * TCG NV indices and the platform hierarchy closed, committed as one
 * durable store.  A directory with state is left alone.  0 or an exit
 * status (reported). */
int hvt_vtpm_manufacture(const struct hvt *t, const char *dir,
			 struct hvt_manufactured *out);
/* The measured-boot event log of a guest (hvsec layout, four banks). */
struct hvt_boot_log {
	uint8_t *buf; /* malloc'd */
	size_t len;
	char sha256[65]; /* of buf, lowercase hex */
	char *b64;	 /* buf in base64 (no line breaks), malloc'd */
	size_t b64_len;
};
/* XenStore values are bounded: the log goes in chunks of this many
 * base64 characters (device/vtpm/N/event-log/0, 1, ...). */
#define HVT_EVLOG_CHUNK 2048u
/* Measures the config's kernel, ramdisk and extra.  0 or an exit status
 * (reported). */
int hvt_boot_log_build(const struct xlcfg *c, struct hvt_boot_log *out);
void hvt_boot_log_free(struct hvt_boot_log *l);
void hvt_boot_log_remove(const char *dir);
/* DIR/boot-log, root's, 0644, replacing one there.  0 or -errno. */
int hvt_boot_log_write(const char *dir, const struct hvt_boot_log *l);
/* Shared by hvt_vtpm.c and hvt_mgr.c: XenStore (libxenstore on the
 * daemon's socket; NULL reported), a helper domain (stub, manager)
 * created paused (0 or an exit status, reported), where its program is
 * ($ENV, else beside hvsec), and a state directory given to a uid
 * (nothing in it followed; -errno). */
struct xs_handle;
struct xs_handle *hvt_xs_connect(struct hvt *t);
/* The same; report=false: quietly NULL (callers for whom no daemon is a
 * normal case). */
struct xs_handle *hvt_xs_open(const struct hvt *t, bool report);
/* The running vTPM manager's CA certificate written (PEM, atomically) to
 * RUN/vtpm-manager-ca.pem, whose name goes to path: 0, 1 when no manager
 * is registered, or an exit status (reported).  cmd_vtpm.c. */
int hvt_mgr_ca_save(struct hvt *t, char *path, size_t len);
/* A node's value as a string (NUL-terminated, cut to len), or false. */
bool hvt_xs_get(struct xs_handle *xs, const char *path, char *buf, size_t len);
int hvt_helper_create(struct hvt *t, const char *name, const char *label,
		      const char *kernel, const char *const *args,
		      uint32_t n_args, struct hv_ctl_domain_info *info);
void hvt_helper_path(const char *env_name, const char *prog, char *out,
		     size_t len);
int hvt_give_dir(const char *dir, unsigned uid);

/* The vTPM manager domain (hvt_mgr.c; docs/vtpm.md "Manager mode"):
 * `hvsec vtpm manager init|start|stop|status`, and the control client
 * the rest of the toolstack uses.  Registered in XenStore (dom0 only) at
 * HVT_MGR_XS/{domid,control,dir} while it runs. */
#define HVT_MGR_XS	    "/hvsec/vtpm-manager"
#define HVT_MGR_DOMAIN	    "vtpm-manager"
#define HVT_MGR_DIR_DEFAULT "/var/lib/hvsec/vtpm-manager" /* as root */
struct hvt_mgr {
	uint32_t domid;
	char control[108]; /* sun_path */
	char dir[HVT_PATH_MAX - 64];
};
struct mgr_req;
struct mgr_rsp;
/* $HVSEC_VTPM_MGR_DIR, else (root) HVT_MGR_DIR_DEFAULT, else
 * RUN_DIR/vtpm-manager. */
void hvt_mgr_dir(const struct hvt *t, char *out, size_t len);
/* The registered manager, if its domain is alive: 0 found, 1 none (a
 * stale registration is removed), or an exit status (reported). */
int hvt_mgr_find(struct hvt *t, struct hvt_mgr *out);
/* hvt_mgr_find for commands that cannot work without a manager: 0, or an
 * exit status with "WHAT: no vTPM manager is running" reported. */
int hvt_mgr_need(struct hvt *t, struct hvt_mgr *out, const char *what);
/* One control request.  0 when the manager answered (rsp->rc may be an
 * error: the caller words it), else an exit status (reported).  buf:
 * MGR_CTL_MSG_MAX bytes that rsp borrows. */
int hvt_mgr_call(const struct hvt_mgr *m, const struct mgr_req *req,
		 struct mgr_rsp *rsp, uint8_t *buf);
/* "manager: REASON: MESSAGE" of a refused answer, reported; the exit
 * status for it (1 for refusals, 3 for the manager's failures). */
int hvt_mgr_refused(const char *what, const struct mgr_rsp *rsp);
int hvt_cmd_vtpm_manager(struct hvt *t, const struct hvt_args *a);

/* hvsec vtpm ... (cmd_vtpm.c) */
int hvt_cmd_vtpm_ca(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_list(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_show(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_reset(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_delete(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_audit(struct hvt *t, const struct hvt_args *a);
/* Migration between managers (hvt_migrate.c; docs/formats.md §8):
 * `hvsec vtpm export|import`, and what `hvsec vtpm manager pubkey
 * [-o FILE] [--der]` does: the running manager's identity key, PEM (or
 * DER) to out (NULL: stdout).  0 or an exit status (reported). */
int hvt_cmd_vtpm_export(struct hvt *t, const struct hvt_args *a);
int hvt_cmd_vtpm_import(struct hvt *t, const struct hvt_args *a);
int hvt_mgr_pubkey(struct hvt *t, const char *out, bool der);

/* Every vTPM instance of the host, as the state directories, the
 * toolstack's /libxl records and hvsecd's domains tell it
 * (hvt_vtpm_admin.c; docs/toolstack.md "vTPM administration").  Read
 * only: no TPM is powered on, no store locked. */
#define HVT_VTPM_AUDIT_LOG "audit.log" /* in the state base, JSON Lines */
struct hvt_ek_cert {
	bool present;
	char key[16]; /* "RSA-2048", "ECC P-256" */
	char subject[256], issuer[256];
	char serial[80]; /* hex */
	char not_before[24], not_after[24]; /* 2026-01-02T03:04:05Z */
	char spki_sha256[65]; /* of the DER SubjectPublicKeyInfo */
};
struct hvt_vinst {
	char uuid[37];
	bool has_dir; /* a state directory (dir) */
	char dir[HVT_PATH_MAX - 64];
	/* From the files (has_dir). */
	bool has_permall, has_volatile;
	bool state_valid; /* permall's header, length and CRC hold */
	uint64_t permall_size;
	int64_t mtime;		  /* newest state file, 0: none */
	struct hvt_ek_cert ek[2]; /* [0] RSA, [1] ECC, found in permall */
	/* From a /libxl record (recorded): the guest using it. */
	bool recorded, stub, ephemeral;
	bool guest_exists, stub_live;
	uint32_t guest, stub_id;
	unsigned devid;
	char guest_name[HV_NAME_LEN], stub_name[HV_NAME_LEN];
	uint64_t provision_us; /* 0: not recorded (not made by this boot) */
	char boot_log_sha256[65];
	/* From the vTPM manager's table (LIST): its state files are sealed
	 * blobs, the manager holds the key and the committed generations. */
	bool managed, mgr_open;
	uint32_t mgr_flags; /* MGR_INST_F_* */
	uint32_t mgr_stub;  /* attached stub domid, or UINT32_MAX */
	uint64_t generation[3]; /* permall, volatilestate, savestate */
	char mgr_label[256], mgr_domain[37];
};
struct hvt_vinsts {
	struct hvt_vinst *v; /* malloc'd */
	size_t n;
	bool daemon; /* the records were read: in-use is known */
};
/* 0, or an exit status (reported) when hvsecd or XenStore could not be
 * reached: *out then holds the directories only (daemon false). */
int hvt_vtpm_instances(struct hvt *t, struct hvt_vinsts *out);
void hvt_vinsts_free(struct hvt_vinsts *vs);
bool hvt_vinst_in_use(const struct hvt_vinst *v);
/* "running", "ephemeral-running", "stored", "empty", "missing". */
const char *hvt_vinst_state(const struct hvt_vinst *v);
/* The directory instances live in (as create puts them there). */
void hvt_vtpm_state_base(const struct hvt *t, char *out, size_t len);
bool hvt_uuid_valid(const char *s);
/* The EK certificates kept in DIR/permall (read only).  0, or -errno
 * (-ENOENT: no state). */
int hvt_ek_certs_from_state(const char *dir, struct hvt_ek_cert ek[2],
			    bool *state_valid);
/* STATE_BASE/HVT_VTPM_AUDIT_LOG. */
void hvt_vtpm_audit_path(const struct hvt *t, char *out, size_t len);
/* Appends one JSON line {time, op, uuid, guest, result, detail, uid} to
 * the vTPM audit log (0600).  uuid and guest may be NULL.  0 or -errno
 * (warned). */
int hvt_vtpm_audit(const struct hvt *t, const char *op, const char *uuid,
		   const char *guest, const char *result, const char *detail);
int hvt_cmd_devices(struct hvt *t, const struct hvt_args *a);

/* The answer to a policy load/update or a relabel (hvt_update.c). */
struct hvt_update {
	int rc; /* 0 or -EBUSY (blocked) */
	struct hv_ctl_update_rep rep;
	struct hv_ctl_blocker blk[HV_CTL_BLOCKERS_MAX];
	char text[HV_CTL_TEXT_MAX + 1];
};
/* Copies the reply of the call that returned rc (0 or -EBUSY) out of
 * t->resp.  0, or HVT_DAEMON for a malformed reply (reported). */
int hvt_update_take(struct hvt *t, int rc, struct hvt_update *u);
/* Prints it ("what" names the operation, "subject" the policy or the
 * domain) with every blocker, fetching domain names for them; returns the
 * exit status (1 when blocked). */
int hvt_update_print(struct hvt *t, const struct hvt_update *u, bool dry_run,
		     const char *what, const char *subject);

#endif /* HVSEC_TOOLS_HVSEC_H */
