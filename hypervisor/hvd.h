/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd.h - what the files of hvsecd share (internal to hypervisor/).
 *
 * hvsecd is one thread around one epoll loop: every field below is touched
 * only from that thread, so there is no lock anywhere.  Each struct says
 * who owns what; "owns fd" means the struct closes it.
 *
 *   hvd_main.c     arguments, directories, sockets, signals, the loop
 *   hvd_domain.c   the domain table: create, destroy, pause, death
 *   hvd_spawn.c    starting a guest process, isolated
 *   hvd_hcall.c    the hypercall channel: receive, dispatch, reply, notify
 *   hvd_evtchn.c   event channels
 *   hvd_grant.c    grant tables and pages
 *   hvd_device.c   backends' device connections (resources in use)
 *   hvd_policy.c   the hooks layer: subjects, updates, relabel, audit
 *   hvd_ctl.c      the control socket (dom0)
 *   hvd_reslabel.c the resource-label store
 *   hvd_xs.c       the embedded XenStore server
 */
#ifndef HVSEC_HVD_H
#define HVSEC_HVD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "acm/acm.h"
#include "hooks/hooks.h"
#include "hypervisor/hv_control.h"
#include "hypervisor/hv_proto.h"

/* What an epoll event belongs to (epoll_data.ptr points at one). */
enum hvd_ev_kind {
	HVD_EV_SIGNAL = 1,
	HVD_EV_CTL_LISTEN,
	HVD_EV_CTL_CONN,
	HVD_EV_XS_LISTEN,
	HVD_EV_XS_CONN,
	HVD_EV_HC,     /* a guest's hypercall channel */
	HVD_EV_PIDFD,  /* a guest process exited */
};
struct hvd_ev {
	enum hvd_ev_kind kind;
	void *obj;
};

/* ------------------------------------------------------------------ */
/* Event channels                                                      */

/* A bound interdomain channel: two eventfds, one per direction.  efd[s]
 * is written by side s and waited on by side 1 - s.  Owned by the daemon,
 * shared by the two ports that point at it; freed when it disconnects. */
struct hvd_link {
	int efd[2];        /* owns both */
	uint32_t dom[2];
	uint32_t port[2];
};

struct hvd_port {
	uint8_t status;       /* enum hv_evtchn_status */
	uint8_t side;         /* our side of `link` */
	uint8_t mediated;     /* guest got no send fd */
	uint32_t remote_dom;
	uint32_t remote_port; /* interdomain only */
	struct hvd_link *link;/* interdomain only */
};

/* ------------------------------------------------------------------ */
/* Grants                                                              */

/* One shared page: a sealed memfd of HV_PAGE_SIZE bytes.  Referenced by
 * the grant entry that offers it and by every mapping of it; the last
 * reference closes it, so a mapping outlives its granter (as in Xen). */
struct hvd_page {
	int fd;              /* owns: the read-write page */
	uint32_t refs;
	uint32_t owner;      /* granting domain */
	dev_t dev;
	ino_t ino;           /* to refuse re-granting a foreign page */
	struct hvd_page *next; /* registry list */
};

struct hvd_grant {
	bool used;
	uint32_t grantee;
	uint32_t flags;       /* HV_GNT_READONLY */
	uint32_t n_maps;
	struct hvd_page *page; /* one reference */
};

struct hvd_map {
	bool used;
	bool orphaned;        /* the grant is gone; the page lives on */
	uint32_t granter, gref;
	uint32_t flags;       /* HV_GNTMAP_READONLY */
	struct hvd_page *page; /* one reference */
};

/* ------------------------------------------------------------------ */
/* Device connections                                                  */

/* HV_OP_DEVICE_CONNECT: the backend that owns this entry (in its `devs`)
 * connected resource `name` of class `cls` to `frontend`.  Kept until the
 * backend disconnects it or either domain dies; while kept, (frontend,
 * row) is a resource in use for updates and relabels. */
struct hvd_dev {
	bool used;
	bool labelled;          /* the store had a label for `name` at connect
				 * (or got one since, RES_LABEL_SET) */
	uint32_t frontend;
	uint32_t cls;           /* enum hv_dev_class */
	acm_row_t row;          /* the label's row in the current policy;
				 * ACM_ROW_NONE when unlabelled, or labelled
				 * with a name the policy lacks (only let
				 * through in permissive mode) */
	char label[HV_NAME_LEN]; /* the label's name ("" unlabelled) */
	char name[HV_DEV_NAME_LEN];
};

/* ------------------------------------------------------------------ */
/* Domains                                                             */

#define HVD_RES_MAX HV_CTL_DISKS_MAX

struct hvd_domain {
	uint32_t domid;
	char name[HV_NAME_LEN];
	char label[HV_NAME_LEN];  /* as given ("" = unlabeled) */
	uint8_t uuid[HV_UUID_LEN];
	acm_row_t row;            /* label row in the current policy */
	bool accounted;           /* hooks_domain_create permitted it */
	uint32_t state;           /* enum hv_domain_state */
	uint32_t shutdown_reason;
	uint32_t shutdown_req;    /* SCHEDOP_shutdown reason + 1, 0: none */
	int32_t exit_status;
	bool dom0;

	pid_t pid;
	int pidfd;                /* owns; -1 when not running */
	int hc_fd;                /* owns; -1 when closed */
	uid_t uid;
	gid_t gid;
	struct hvd_ev ev_hc, ev_pid;
	bool starting;            /* started, no hypercall yet (create
				   * may be waiting for one) */
	uint32_t violations;      /* malformed hypercalls */
	uint32_t xs_conns;        /* open XenStore connections */
	struct hvd_domain *grave_next; /* retired, freed after the batch */
	uint64_t created_ns;
	uint64_t created_unix_ns; /* CLOCK_REALTIME, for the toolstack */
	uint64_t cpu_ns;          /* last read from /proc (hvd_domain_cpu) */

	uint32_t max_pages;
	uint32_t granted_pages;   /* live grant entries */
	uint32_t n_ports;         /* ports not closed */
	uint32_t n_maps;
	struct hvd_port *ports;   /* owns; HV_EVTCHN_PORTS */
	struct hvd_grant *grants; /* owns; HV_GNT_PER_DOM */
	struct hvd_map *maps;     /* owns; HV_MAPS_PER_DOM */

	uint32_t n_res;           /* resources in use (disks) */
	struct {
		acm_row_t row;
		char name[HV_NAME_LEN * 2];
	} res[HVD_RES_MAX];
	uint32_t n_vtpms;
	struct {
		uint8_t uuid[HV_UUID_LEN];
		char backend[HV_NAME_LEN];
	} vtpms[HV_CTL_VTPMS_MAX];

	uint32_t n_devs;          /* used entries of devs (as backend) */
	uint32_t n_devs_front;    /* entries in other domains' devs that
				   * name this domain as frontend */
	struct hvd_dev *devs;     /* owns; HV_DEV_PER_DOM */
};

#define HVD_DEAD_KEEP 256u /* dead records kept before the oldest goes */

/* ------------------------------------------------------------------ */
/* The daemon                                                          */

struct hvd_stats {
	uint64_t hypercalls, hypercall_errors, denials;
	uint64_t created, destroyed, crashed, mediated_sends;
	uint32_t pages_live, channels_live;
};

struct hvd {
	const char *run_dir;
	char *console_dir, *guests_dir, *audit_path, *reslabel_path;
	int epfd;
	int sigfd;
	int ctl_listen, xs_listen;
	/* Guests may not be able to reach anything under run_dir (another
	 * uid, a 0700 parent): their XenStore socket lives in a directory
	 * of its own that every uid can traverse (see setup_guest_dir). */
	char *guest_dir;        /* NULL when none could be made */
	char *guest_xs_path;    /* guest_dir/xenstored */
	int xs_guest_listen;
	char guest_fail[256];   /* why guests cannot start, "" if they can */
	int uid_lock;           /* abstract socket: our uid range is ours */
	struct hvd_ev ev_sig, ev_ctl, ev_xs, ev_xs_guest;
	bool root;              /* uid-per-guest isolation */
	uid_t uid_base;
	uid_t my_uid;
	bool mediate_send;      /* evtchn send through the daemon */
	bool stopping;

	struct hooks_state *hooks;
	uint8_t *blob;          /* the loaded policy, NULL for built-in */
	size_t blob_len;
	bool builtin_policy;
	char policy_failure[128];

	struct hvd_domain *doms[HV_DOMID_MAX + 1];
	uint32_t next_domid;
	uint32_t n_live;        /* running or paused, dom0 included */
	uint32_t n_dead;
	struct hvd_page *pages; /* registry */
	/* Records removed from the table while epoll events for them may
	 * still be pending in the current batch: freed after it. */
	struct hvd_domain *graveyard;
	struct hvd_stats st;
	struct xs_server *xs;   /* the embedded XenStore */
	struct hvd_xs_conn *xs_conn_list; /* owns every connection */
	uint32_t xs_dom0_conns;
	struct hvd_ctl_conn *ctl_conns;
	uint32_t n_ctl_conns;
	struct hvd_reslabel *reslabels;
	size_t n_reslabels, cap_reslabels;
};

struct hvd_reslabel {
	char *resource;
	char *label;
};

/* hvd_main.c */
int hvd_listen_unix(const char *path, mode_t mode);
int hvd_epoll_add(struct hvd *d, int fd, uint32_t events, struct hvd_ev *ev);
void hvd_epoll_del(struct hvd *d, int fd);
void hvd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t hvd_now_ns(void);

/* hvd_domain.c */
int hvd_domains_init(struct hvd *d);
struct hvd_domain *hvd_domain_get(struct hvd *d, uint32_t domid);
/* Running or paused (can share), not dom0 unless allow_dom0. */
struct hvd_domain *hvd_domain_live(struct hvd *d, uint32_t domid);
struct hvd_domain *hvd_domain_by_name(struct hvd *d, const char *name);
int hvd_domain_create(struct hvd *d, const struct hv_ctl_create_req *req,
		      bool dry_run, struct hv_ctl_domain_info *info,
		      struct hv_ctl_check *checks, uint32_t *n_checks,
		      char *why, size_t why_len);
int hvd_domain_destroy(struct hvd *d, uint32_t domid);
int hvd_domain_pause(struct hvd *d, uint32_t domid, bool pause);
/* The process is gone (or must go): release everything it held. */
void hvd_domain_died(struct hvd *d, struct hvd_domain *dom, uint32_t state,
		     int32_t exit_status, uint32_t reason);
void hvd_domain_on_pidfd(struct hvd *d, struct hvd_domain *dom);
/* Refreshes dom->cpu_ns from /proc/PID/stat of the guest (the daemon's
 * own for dom0) while its process is there, zombie included. */
void hvd_domain_cpu(struct hvd_domain *dom);
void hvd_domain_info(const struct hvd *d, const struct hvd_domain *dom,
		     struct hv_ctl_domain_info *info);
void hvd_domains_shutdown(struct hvd *d);
void hvd_domains_gc(struct hvd *d);
bool hvd_domain_running(const struct hvd_domain *dom);

/* hvd_spawn.c */
struct hvd_spawn_req {
	const char *kernel; /* for argv[0] and messages */
	int kernel_fd;      /* hvd_open_kernel's; the caller closes it */
	bool kernel_script; /* #!: the fd must survive the exec */
	char *const *argv;
	uint32_t domid;
	uid_t uid;
	gid_t gid;
	bool isolate;   /* setuid to uid/gid */
	bool paused;
	int console_fd;
	int hc_fd;      /* the guest's end */
	const char *cwd;
	const char *xs_path;
	pid_t daemon_pid; /* the guest checks it is still its parent */
};
/* Opens a guest program as the daemon (before any uid change), checks it
 * is a regular file the guest's uid may execute (other_uid: by the
 * others' bit).  Returns an O_PATH fd or -errno with `why`. */
int hvd_open_kernel(const char *path, bool other_uid, bool *script,
		    char *why, size_t why_len);
/* Starts the guest; *pid and *pidfd on success.  -errno with `why`. */
int hvd_spawn(const struct hvd_spawn_req *r, pid_t *pid, int *pidfd,
	      char *why, size_t why_len);
/* Kills every process of the guest (its process group, and in root mode
 * every process of its uid). */
void hvd_kill_guest(const struct hvd *d, const struct hvd_domain *dom,
		    int sig);

/* hvd_hcall.c */
void hvd_hc_on_readable(struct hvd *d, struct hvd_domain *dom);
/* Sends a notice; a guest that does not read them loses them. */
int hvd_hc_notify(struct hvd *d, struct hvd_domain *dom, uint32_t op,
		  const void *body, size_t len, const int *fds, unsigned nfds);

/* hvd_evtchn.c */
int hvd_evtchn_alloc_unbound(struct hvd *d, struct hvd_domain *dom,
			     uint32_t remote, uint32_t *port);
int hvd_evtchn_bind(struct hvd *d, struct hvd_domain *dom, uint32_t remote,
		    uint32_t rport, struct hv_rep_evtchn_bind *rep,
		    int *fds, unsigned *nfds);
int hvd_evtchn_send(struct hvd *d, struct hvd_domain *dom, uint32_t port);
int hvd_evtchn_close(struct hvd *d, struct hvd_domain *dom, uint32_t port,
		     uint32_t reason);
int hvd_evtchn_status(struct hvd *d, struct hvd_domain *dom, uint32_t port,
		      struct hv_rep_evtchn_status *rep);
/* Closes every port of a dying domain; peers are told. */
void hvd_evtchn_release_all(struct hvd *d, struct hvd_domain *dom,
			    uint32_t reason);
/* Closes every bound channel between dom and peer (both told, reason
 * REVOKED).  Returns how many. */
uint32_t hvd_evtchn_revoke_pair(struct hvd *d, struct hvd_domain *dom,
				uint32_t peer);

/* hvd_grant.c */
int hvd_gnt_grant(struct hvd *d, struct hvd_domain *dom,
		  const struct hv_req_gnt_grant *req, int fd, uint32_t *gref);
int hvd_gnt_end(struct hvd *d, struct hvd_domain *dom, uint32_t gref);
int hvd_gnt_map(struct hvd *d, struct hvd_domain *dom,
		const struct hv_req_gnt_map *req, struct hv_rep_gnt_map *rep,
		int *fd);
int hvd_gnt_unmap(struct hvd *d, struct hvd_domain *dom, uint32_t handle);
int hvd_gnt_copy(struct hvd *d, struct hvd_domain *dom,
		 const struct hv_req_gnt_copy *req);
int hvd_gnt_transfer(struct hvd *d, struct hvd_domain *dom, uint32_t dest,
		     int fd);
void hvd_gnt_release_all(struct hvd *d, struct hvd_domain *dom);
/* Ends every grant from `granter` to `grantee` (mappings are orphaned).
 * Returns how many. */
uint32_t hvd_gnt_revoke_pair(struct hvd *d, struct hvd_domain *granter,
			     uint32_t grantee);

/* hvd_device.c */
int hvd_dev_connect(struct hvd *d, struct hvd_domain *dom,
		    const struct hv_req_device *req);
int hvd_dev_disconnect(struct hvd *d, struct hvd_domain *dom,
		       const struct hv_req_device *req);
/* Drops every connection the dying domain made or was given. */
void hvd_dev_release_all(struct hvd *d, struct hvd_domain *dom);
/* RES_LABEL_SET (label) or RES_LABEL_RM (label NULL) of `res`: -EBUSY,
 * with every user it would cut off in `why`, when the resource is in use
 * (a disk of a running domain, a device connection) by a domain that
 * could not use it with the new label; a resource in use cannot lose its
 * label.  0 when nothing is in the way. */
int hvd_res_relabel_check(struct hvd *d, const char *res, const char *label,
			  char *why, size_t why_len);
/* After the store took the new label: resources in use carry its row. */
void hvd_res_relabelled(struct hvd *d, const char *res, const char *label);

/* hvd_policy.c */
int hvd_policy_boot(struct hvd *d, const char *policy_path, bool permissive);
void hvd_policy_fini(struct hvd *d);
/* The subject for a domain. */
struct hooks_subject hvd_subject(const struct hvd_domain *dom);
/* A share hook between two domains: 0 or -EACCES (audited). */
int hvd_check_share(struct hvd *d, enum hooks_id id,
		    const struct hvd_domain *subj,
		    const struct hvd_domain *peer);
/* resource_use for a resource that is a policy object only when labelled
 * (vifs and vTPMs at create, every device connection): with a label in
 * the resource-label store it is checked (0 or -EACCES, audited); without
 * one it is not, and 0.  *label is the stored label (NULL: none), *row its
 * row (ACM_ROW_NONE when none, or a name the policy lacks - denied). */
int hvd_check_labelled_res(struct hvd *d, const struct hooks_subject *subj,
			   enum hooks_res_class cls, const char *name,
			   const char **label, acm_row_t *row);
/* Whether `dom` may use a resource labelled `row`: the hook asked as a
 * question (nothing recorded or counted) and in enforcing mode, as the
 * blockers of an update or relabel are found whatever the mode. */
bool hvd_res_allowed(struct hvd *d, const struct hvd_domain *dom,
		     enum hooks_res_class cls, const char *name, acm_row_t row);
int hvd_policy_update(struct hvd *d, const uint8_t *blob, size_t len,
		      uint32_t flags, struct hv_ctl_update_rep *rep,
		      struct hv_ctl_blocker *blk, char *why, size_t why_len);
int hvd_policy_relabel(struct hvd *d, uint32_t domid, const char *label,
		       uint32_t flags, struct hv_ctl_update_rep *rep,
		       struct hv_ctl_blocker *blk, char *why, size_t why_len);
uint32_t hvd_label_ssidref(const struct hvd *d, acm_row_t row);
const char *hvd_label_name(const struct hvd *d, acm_row_t row);

/* hvd_ctl.c */
void hvd_ctl_on_accept(struct hvd *d);
void hvd_ctl_on_readable(struct hvd *d, struct hvd_ctl_conn *c);
/* Pushes new audit records to connections that follow the log. */
void hvd_ctl_audit_push(struct hvd *d);
void hvd_ctl_close_all(struct hvd *d);
/* A started domain made its first hypercall or died: answers the create
 * that waits for it, if any. */
void hvd_ctl_start_done(struct hvd *d, struct hvd_domain *dom);
/* Milliseconds until the next waiting create times out, -1 if none. */
int hvd_ctl_start_timeout(const struct hvd *d);
/* Answers the creates whose guests are slow to speak: they run. */
void hvd_ctl_start_expire(struct hvd *d);

/* hvd_reslabel.c */
int hvd_reslabel_load(struct hvd *d);
int hvd_reslabel_set(struct hvd *d, const char *res, const char *label);
int hvd_reslabel_rm(struct hvd *d, const char *res);
const char *hvd_reslabel_get(const struct hvd *d, const char *res);
void hvd_reslabel_free(struct hvd *d);

/* hvd_xs.c */
int hvd_xs_init(struct hvd *d);
void hvd_xs_fini(struct hvd *d);
/* A connection on one of the two listening sockets (same rules). */
void hvd_xs_on_accept(struct hvd *d, int listen_fd);
void hvd_xs_on_event(struct hvd *d, void *conn, uint32_t events);
int hvd_xs_introduce(struct hvd *d, struct hvd_domain *dom);
void hvd_xs_release(struct hvd *d, struct hvd_domain *dom);
/* Writes pending output of every connection. */
void hvd_xs_flush(struct hvd *d);

#endif /* HVSEC_HVD_H */
