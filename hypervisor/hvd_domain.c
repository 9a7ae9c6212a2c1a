/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_domain.c - the domain table: create, destroy, pause, death.
 *
 * A domain is a record indexed by domid.  dom0 is the toolstack: a record
 * with no process.  A guest's record stays after its process is gone
 * (state shutdown or crashed, every resource released) until the
 * toolstack destroys it, as `xl` with on_poweroff=preserve would show it;
 * at most HVD_DEAD_KEEP such records are kept, the oldest go first.
 *
 * Domids are handed out in increasing order and wrap at HV_DOMID_MAX, so
 * a domid is not reused soon after its domain went (peers may still hold
 * unbound ports naming it, as in Xen).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

static struct hvd_domain *domain_alloc(uint32_t domid)
{
	struct hvd_domain *dom = calloc(1, sizeof(*dom));

	if (!dom)
		return NULL;
	dom->domid = domid;
	dom->pidfd = dom->hc_fd = -1;
	dom->row = ACM_ROW_NONE;
	dom->ports = calloc(HV_EVTCHN_PORTS, sizeof(*dom->ports));
	dom->grants = calloc(HV_GNT_PER_DOM, sizeof(*dom->grants));
	dom->maps = calloc(HV_MAPS_PER_DOM, sizeof(*dom->maps));
	dom->devs = calloc(HV_DEV_PER_DOM, sizeof(*dom->devs));
	if (!dom->ports || !dom->grants || !dom->maps || !dom->devs) {
		free(dom->ports);
		free(dom->grants);
		free(dom->maps);
		free(dom->devs);
		free(dom);
		return NULL;
	}
	return dom;
}

static void domain_free(struct hvd_domain *dom)
{
	if (!dom)
		return;
	free(dom->ports);
	free(dom->grants);
	free(dom->maps);
	free(dom->devs);
	free(dom);
}

/* Out of the table now, freed when the current batch of events is done
 * (an event for it may still be pending in that batch). */
static void domain_retire(struct hvd *d, struct hvd_domain *dom)
{
	d->doms[dom->domid] = NULL;
	dom->grave_next = d->graveyard;
	d->graveyard = dom;
}

void hvd_domains_gc(struct hvd *d)
{
	while (d->graveyard) {
		struct hvd_domain *dom = d->graveyard;

		d->graveyard = dom->grave_next;
		domain_free(dom);
	}
}

bool hvd_domain_running(const struct hvd_domain *dom)
{
	return dom && (dom->state == HV_DOMSTATE_RUNNING ||
		       dom->state == HV_DOMSTATE_PAUSED);
}

struct hvd_domain *hvd_domain_get(struct hvd *d, uint32_t domid)
{
	if (domid > HV_DOMID_MAX)
		return NULL;
	return d->doms[domid];
}

struct hvd_domain *hvd_domain_live(struct hvd *d, uint32_t domid)
{
	struct hvd_domain *dom = hvd_domain_get(d, domid);

	return hvd_domain_running(dom) ? dom : NULL;
}

struct hvd_domain *hvd_domain_by_name(struct hvd *d, const char *name)
{
	/* Live domains first: a dead record may share its name. */
	struct hvd_domain *dead = NULL;

	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (!dom || strcmp(dom->name, name))
			continue;
		if (hvd_domain_running(dom))
			return dom;
		if (!dead)
			dead = dom;
	}
	return dead;
}

static uint64_t unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hvd_domains_init(struct hvd *d)
{
	struct hvd_domain *dom0 = domain_alloc(HV_DOMID_DOM0);
	struct hooks_subject s;

	if (!dom0)
		return -ENOMEM;
	dom0->dom0 = true;
	dom0->state = HV_DOMSTATE_RUNNING;
	snprintf(dom0->name, sizeof(dom0->name), "Domain-0");
	dom0->row = hooks_bootstrap_label(d->hooks);
	const char *l = hvd_label_name(d, dom0->row);
	snprintf(dom0->label, sizeof(dom0->label), "%s", l ? l : "");
	dom0->created_ns = hvd_now_ns();
	dom0->created_unix_ns = unix_now_ns();
	dom0->uid = d->my_uid;
	d->doms[0] = dom0;
	d->n_live = 1;
	d->next_domid = HV_DOMID_FIRST_GUEST;
	/* dom0 is a running domain for the Chinese Wall, as in Xen.  Without
	 * a valid policy the create is denied and dom0 is simply not
	 * accounted (no guest can start anyway). */
	if (hooks_has_policy(d->hooks)) {
		s = hvd_subject(dom0);
		dom0->accounted = hooks_domain_create(d->hooks, &s) == 0;
	}
	return 0;
}

static void uuid_make(uint8_t *u)
{
	if (getrandom(u, HV_UUID_LEN, 0) != (ssize_t)HV_UUID_LEN) {
		/* Unique enough for a record: time and a counter. */
		static uint64_t ctr;
		uint64_t a = hvd_now_ns(), b = ++ctr;

		memcpy(u, &a, 8);
		memcpy(u + 8, &b, 8);
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* variant 1 */
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes a guest's private directory.  Its processes are all dead, so
 * nothing can swap a symlink in; FTW_PHYS never follows one anyway. */
static void guest_dir_remove(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void dead_reap(struct hvd *d)
{
	while (d->n_dead > HVD_DEAD_KEEP) {
		struct hvd_domain *oldest = NULL;

		for (uint32_t i = 1; i <= HV_DOMID_MAX; i++) {
			struct hvd_domain *dom = d->doms[i];

			if (dom && !hvd_domain_running(dom) &&
			    (!oldest || dom->created_ns < oldest->created_ns))
				oldest = dom;
		}
		if (!oldest)
			break;
		domain_retire(d, oldest);
		d->n_dead--;
	}
}

static int alloc_domid(struct hvd *d, uint32_t *out)
{
	for (uint32_t n = 0; n < HV_DOMID_MAX; n++) {
		uint32_t id = d->next_domid;

		d->next_domid =
			id >= HV_DOMID_MAX ? HV_DOMID_FIRST_GUEST : id + 1;
		if (!d->doms[id]) {
			*out = id;
			return 0;
		}
	}
	return -ENOSPC;
}

static void add_check(struct hv_ctl_check *checks, uint32_t *n,
		      enum hooks_id id, int err, const char *object,
		      const char *what, const char *arg)
{
	struct hv_ctl_check *c;

	if (!checks || *n >= HV_CTL_CHECKS_MAX)
		return;
	c = &checks[(*n)++];
	memset(c, 0, sizeof(*c));
	c->hook = (uint32_t)id;
	c->err = err;
	snprintf(c->object, sizeof(c->object), "%s", object ? object : "");
	snprintf(c->text, sizeof(c->text), "%s %.80s", what, arg ? arg : "");
}

/* "vtpm:UUID" as xlcfg names a vTPM resource (lowercase, 8-4-4-4-12),
 * so the label stored under that name is the one found. */
static void vtpm_resource(const uint8_t *u, char *out, size_t len)
{
	size_t o = (size_t)snprintf(out, len, "vtpm:");

	for (unsigned i = 0; i < HV_UUID_LEN && o + 3 < len; i++) {
		o += (size_t)snprintf(out + o, len - o, "%02x", u[i]);
		if ((i == 3 || i == 5 || i == 7 || i == 9) && o + 1 < len)
			out[o++] = '-', out[o] = '\0';
	}
}

/* A vif or vTPM resource: checked with resource_use when it has a label,
 * as xend checked every labelled resource.  One without a label is no
 * object of the policy (an unlabelled bridge) and is not checked.  The
 * same rule (hvd_check_labelled_res) decides a backend's device connect
 * (hvd_device.c), where a backend that says so is checked again. */
static int labelled_res_check(struct hvd *d, const struct hooks_subject *subj,
			      enum hooks_res_class cls, const char *name,
			      const char *lname, struct hv_ctl_check *checks,
			      uint32_t *n_checks, char *why, size_t why_len)
{
	const char *rl;
	acm_row_t row;
	int rc;

	rc = hvd_check_labelled_res(d, subj, cls, name, &rl, &row);
	if (!rl)
		return 0;
	add_check(checks, n_checks, HOOKS_ID_resource_use, rc, rl,
		  rc ? "may not use resource" : "may use resource", name);
	if (rc)
		snprintf(why, why_len,
			 "denied: label %s may not use resource %s (label %s)",
			 lname, name, rl);
	return rc;
}

/* The policy checks of a create, in Xen's order (xend checked the host
 * authorization and the resources before the domctl that ran the Chinese
 * Wall).  A real create stops at the first denial; a dry run runs them
 * all and undoes the accounting. */
static int create_checks(struct hvd *d, struct hvd_domain *dom,
			 const struct hv_ctl_create_req *req, bool dry_run,
			 struct hv_ctl_check *checks, uint32_t *n_checks,
			 char *why, size_t why_len)
{
	struct hooks_subject subj = hvd_subject(dom);
	struct hooks_subject host = hvd_subject(d->doms[0]);
	const char *lname = dom->label[0] ? dom->label : ACM_UNLABELED;
	int rc, first = 0;

	rc = hooks_host_authorize(d->hooks, &host, &subj);
	add_check(checks, n_checks, HOOKS_ID_host_authorize, rc, lname,
		  rc ? "host (dom0's label) does not authorize label"
		     : "host authorizes label",
		  lname);
	if (rc) {
		snprintf(why, why_len,
			 "denied: this host (dom0's label) does not "
			 "authorize label %s",
			 lname);
		if (!dry_run)
			return rc;
		first = first ? first : rc;
	}
	for (uint32_t i = 0; i < dom->n_res; i++) {
		struct hooks_resource res = {
			.cls = HOOKS_RES_DISK,
			.name = req->disks[i].resource,
			.label = dom->res[i].row,
		};
		const char *rl = hvd_reslabel_get(d, req->disks[i].resource);

		rc = hooks_resource_use(d->hooks, &subj, &res);
		add_check(checks, n_checks, HOOKS_ID_resource_use, rc,
			  rl ? rl : ACM_UNLABELED,
			  rc ? "may not use resource" : "may use resource",
			  req->disks[i].resource);
		if (rc) {
			snprintf(why, why_len,
				 "denied: label %s may not use resource %s "
				 "(label %s)",
				 lname, req->disks[i].resource,
				 rl ? rl : ACM_UNLABELED);
			if (!dry_run)
				return rc;
			first = first ? first : rc;
		}
	}
	for (uint32_t i = 0; i < req->n_vifs + req->n_vtpms; i++) {
		static const uint8_t zero[HV_UUID_LEN];
		bool vif = i < req->n_vifs;
		uint32_t k = vif ? i : i - req->n_vifs;
		char vt[64];

		if (!vif && !memcmp(req->vtpms[k].uuid, zero, HV_UUID_LEN))
			continue; /* no uuid: no resource name to label */
		if (!vif)
			vtpm_resource(req->vtpms[k].uuid, vt, sizeof(vt));
		rc = labelled_res_check(d, &subj,
					vif ? HOOKS_RES_VIF : HOOKS_RES_VTPM,
					vif ? req->vifs[k] : vt, lname, checks,
					n_checks, why, why_len);
		if (rc) {
			if (!dry_run)
				return rc;
			first = first ? first : rc;
		}
	}
	rc = hooks_xs_introduce(d->hooks, &host, &subj);
	add_check(checks, n_checks, HOOKS_ID_xs_introduce, rc, lname,
		  rc ? "XenStore may not introduce label"
		     : "XenStore may introduce label",
		  lname);
	if (rc) {
		snprintf(why, why_len,
			 "denied: XenStore (dom0) may not introduce label %s",
			 lname);
		if (!dry_run)
			return rc;
		first = first ? first : rc;
	}
	rc = hooks_domain_create(d->hooks, &subj);
	add_check(checks, n_checks, HOOKS_ID_domain_create, rc, lname,
		  rc ? "Chinese Wall or label refuses" : "Chinese Wall admits",
		  lname);
	if (rc) {
		snprintf(why, why_len,
			 "denied: domain_create refuses label %s (%s)", lname,
			 hooks_has_policy(d->hooks)
				 ? "Chinese Wall conflict or bad label, see "
				   "audit"
				 : hooks_no_policy_reason(d->hooks));
		first = first ? first : rc;
	} else if (dry_run) {
		hooks_domain_create_abort(d->hooks, &subj);
	} else {
		dom->accounted = true;
	}
	return first;
}

static int open_console(struct hvd *d, uint32_t domid, char *why,
			size_t why_len)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%u.log", d->console_dir, domid);
	fd = open(path,
		  O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC |
			  O_NOFOLLOW,
		  0600);
	if (fd < 0)
		snprintf(why, why_len, "console %s: %s", path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

static int make_guest_dir(struct hvd *d, struct hvd_domain *dom, char *path,
			  size_t len)
{
	snprintf(path, len, "%s/%u", d->guests_dir, dom->domid);
	guest_dir_remove(path);
	if (mkdir(path, 0700) < 0)
		return -errno;
	if (d->root && chown(path, dom->uid, dom->gid) < 0)
		return -errno;
	return 0;
}

static void fill_from_req(struct hvd *d, struct hvd_domain *dom,
			  const struct hv_ctl_create_req *req)
{
	const struct hv_ctl_create *f = &req->fixed;
	uint32_t mb = f->memory_mb ? f->memory_mb : HV_CTL_MEMORY_MB_DEFAULT;
	static const uint8_t zero[HV_UUID_LEN];

	memcpy(dom->name, f->name, sizeof(dom->name));
	memcpy(dom->label, f->label, sizeof(dom->label));
	if (memcmp(f->uuid, zero, HV_UUID_LEN))
		memcpy(dom->uuid, f->uuid, HV_UUID_LEN);
	else
		uuid_make(dom->uuid);
	dom->max_pages = mb * (1024u * 1024u / HV_PAGE_SIZE);
	dom->row = hooks_label_find(d->hooks, ACM_LABEL_VM, dom->label);
	dom->n_res = req->n_disks;
	for (uint32_t i = 0; i < req->n_disks; i++) {
		const char *rl = hvd_reslabel_get(d, req->disks[i].resource);

		dom->res[i].row =
			hooks_label_find(d->hooks, ACM_LABEL_RESOURCE, rl);
		snprintf(dom->res[i].name, sizeof(dom->res[i].name), "%s",
			 req->disks[i].resource);
	}
	dom->n_vtpms = req->n_vtpms;
	for (uint32_t i = 0; i < req->n_vtpms; i++) {
		memcpy(dom->vtpms[i].uuid, req->vtpms[i].uuid, HV_UUID_LEN);
		snprintf(dom->vtpms[i].backend, sizeof(dom->vtpms[i].backend),
			 "%s", req->vtpms[i].backend);
	}
	if (d->root) {
		dom->uid = d->uid_base + dom->domid;
		dom->gid = (gid_t)dom->uid;
	} else {
		dom->uid = d->my_uid;
		dom->gid = getegid();
	}
}

int hvd_domain_create(struct hvd *d, const struct hv_ctl_create_req *req,
		      bool dry_run, struct hv_ctl_domain_info *info,
		      struct hv_ctl_check *checks, uint32_t *n_checks,
		      char *why, size_t why_len)
{
	struct hvd_domain *dom = NULL, *other;
	int sv[2] = {-1, -1};
	int console = -1, kfd = -1, rc;
	bool script;
	char gdir[4200];
	char *argv[HV_CTL_ARGS_MAX + 2];
	struct hvd_spawn_req sr;
	uint32_t domid, next_domid = d->next_domid;
	bool in_use;

	if (n_checks)
		*n_checks = 0;
	/* A dead record with this name yields to the new domain.  A dry run
	 * asks the policy question anyway: the name is the toolstack's to
	 * change, the labels are what the answer is about. */
	other = hvd_domain_by_name(d, req->fixed.name);
	in_use = other && hvd_domain_running(other);
	if (in_use && !dry_run) {
		snprintf(why, why_len, "a domain named %s exists (domid %u)",
			 req->fixed.name, other->domid);
		return -EEXIST;
	}
	if (!dry_run && d->guest_fail[0]) {
		snprintf(why, why_len, "hvsecd cannot start guests: %s",
			 d->guest_fail);
		return -ENOTCONN;
	}
	/* Opened now, as the daemon: the guest execs this very file, and
	 * where it lives (a 0700 checkout) does not matter. */
	kfd = hvd_open_kernel(req->kernel, d->root, &script, why, why_len);
	if (kfd < 0)
		return kfd;
	rc = alloc_domid(d, &domid);
	if (rc) {
		snprintf(why, why_len, "no free domain id");
		goto fail;
	}
	dom = domain_alloc(domid);
	if (!dom) {
		rc = -ENOMEM;
		goto fail;
	}
	fill_from_req(d, dom, req);
	if (hooks_has_policy(d->hooks) && dom->label[0] &&
	    dom->row == ACM_ROW_NONE) {
		snprintf(why, why_len,
			 "label %s is not a VM label of the policy",
			 dom->label);
		rc = -EINVAL;
		goto fail;
	}
	/* A dry run is a question: the hooks neither count nor audit it. */
	hooks_set_dry_run(d->hooks, dry_run);
	rc = create_checks(d, dom, req, dry_run, checks, n_checks, why,
			   why_len);
	hooks_set_dry_run(d->hooks, false);
	if (dry_run) {
		if (!rc)
			snprintf(why, why_len, "create would be permitted");
		if (in_use) {
			size_t l = strnlen(why, why_len);

			snprintf(why + l, why_len - l,
				 "; but the name %s is in use (domid %u)",
				 req->fixed.name, other->domid);
		}
		if (!rc)
			hvd_domain_info(d, dom, info);
		goto fail; /* undoes everything, the domid included */
	}
	if (rc) {
		d->st.denials++;
		goto fail;
	}

	if (other) { /* the dead record of the same name */
		domain_retire(d, other);
		d->n_dead--;
	}
	console = open_console(d, domid, why, why_len);
	if (console < 0) {
		rc = console;
		goto fail;
	}
	rc = make_guest_dir(d, dom, gdir, sizeof(gdir));
	if (rc) {
		snprintf(why, why_len, "guest directory: %s", strerror(-rc));
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		goto fail;
	}
	/* The daemon's end never blocks: a guest that does not read its
	 * replies loses them, it cannot stall the daemon. */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	argv[0] = (char *)req->kernel;
	for (uint32_t i = 0; i < req->n_args; i++)
		argv[i + 1] = req->args[i];
	argv[req->n_args + 1] = NULL;
	sr = (struct hvd_spawn_req){
		.kernel = req->kernel,
		.kernel_fd = kfd,
		.kernel_script = script,
		.argv = argv,
		.domid = domid,
		.uid = dom->uid,
		.gid = dom->gid,
		.isolate = d->root,
		.paused = req->fixed.flags & HV_CTL_CREATE_F_PAUSED,
		.console_fd = console,
		.hc_fd = sv[1],
		.cwd = gdir,
		.xs_path = d->guest_xs_path,
		.daemon_pid = getpid(),
	};
	rc = hvd_spawn(&sr, &dom->pid, &dom->pidfd, why, why_len);
	if (rc)
		goto fail;
	close(kfd);
	kfd = -1;
	close(sv[1]);
	sv[1] = -1;
	close(console);
	console = -1;
	dom->hc_fd = sv[0];
	sv[0] = -1;
	dom->state = sr.paused ? HV_DOMSTATE_PAUSED : HV_DOMSTATE_RUNNING;
	dom->created_ns = hvd_now_ns();
	dom->created_unix_ns = unix_now_ns();
	d->doms[domid] = dom;
	d->n_live++;
	d->st.created++;
	dom->ev_hc = (struct hvd_ev){HVD_EV_HC, dom};
	dom->ev_pid = (struct hvd_ev){HVD_EV_PIDFD, dom};
	if (hvd_epoll_add(d, dom->hc_fd, EPOLLIN, &dom->ev_hc) ||
	    hvd_epoll_add(d, dom->pidfd, EPOLLIN, &dom->ev_pid)) {
		snprintf(why, why_len, "epoll: %s", strerror(errno));
		hvd_kill_guest(d, dom, SIGKILL);
		hvd_domain_died(d, dom, HV_DOMSTATE_CRASHED, -SIGKILL, 0);
		return -ENOMEM;
	}
	rc = hvd_xs_introduce(d, dom);
	if (rc)
		hvd_log("domain %u: XenStore introduce failed: %s", domid,
			strerror(-rc));
	/* Until its first hypercall, a death is a failed start: the create
	 * is answered then (hvd_ctl.c).  A paused guest has not run. */
	dom->starting = !sr.paused;
	hvd_log("domain %u (%s) created, label %s, pid %d", domid, dom->name,
		dom->label[0] ? dom->label : ACM_UNLABELED, (int)dom->pid);
	snprintf(why, why_len, "created domain %u", domid);
	hvd_domain_info(d, dom, info);
	return 0;
fail:
	/* A dry run leaves the domid counter as it found it; a refused
	 * create does not use up its domid. */
	if (dry_run)
		d->next_domid = next_domid;
	else if (dom &&
		 d->next_domid == (domid >= HV_DOMID_MAX ? HV_DOMID_FIRST_GUEST
							 : domid + 1))
		d->next_domid = domid;
	if (dom && dom->accounted) {
		struct hooks_subject s = hvd_subject(dom);

		hooks_domain_create_abort(d->hooks, &s);
	}
	if (kfd >= 0)
		close(kfd);
	if (console >= 0)
		close(console);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (dom && !dry_run && dom->pid <= 0) {
		snprintf(gdir, sizeof(gdir), "%s/%u", d->guests_dir, domid);
		guest_dir_remove(gdir);
	}
	domain_free(dom);
	return rc;
}

void hvd_domain_died(struct hvd *d, struct hvd_domain *dom, uint32_t state,
		     int32_t exit_status, uint32_t reason)
{
	char gdir[4200];

	if (!hvd_domain_running(dom) && dom->state != HV_DOMSTATE_DYING)
		return;
	if (dom->starting && dom->hc_fd >= 0) {
		char b;

		/* Its first hypercall may wait unread behind this death (one
		 * epoll batch): it did start, whatever happened next. */
		if (recv(dom->hc_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
			dom->starting = false;
			hvd_ctl_start_done(d, dom);
		}
	}
	if (dom->hc_fd >= 0) {
		hvd_epoll_del(d, dom->hc_fd);
		close(dom->hc_fd);
		dom->hc_fd = -1;
	}
	/* Leftover processes of the guest (children) go with it.  The
	 * leader is still an unreaped zombie here, so its pid and process
	 * group cannot have been reused by anyone else. */
	hvd_kill_guest(d, dom, SIGKILL);
	/* Its last CPU time, while the zombie's /proc entry still exists. */
	hvd_domain_cpu(dom);
	if (dom->pidfd >= 0) {
		siginfo_t si;

		hvd_epoll_del(d, dom->pidfd);
		waitid(P_PIDFD, (id_t)dom->pidfd, &si, WEXITED | WNOHANG);
		close(dom->pidfd);
		dom->pidfd = -1;
	}
	dom->state = state;
	dom->exit_status = exit_status;
	dom->shutdown_reason = reason;
	hvd_evtchn_release_all(d, dom, HV_CLOSE_DIED);
	hvd_gnt_release_all(d, dom);
	hvd_dev_release_all(d, dom);
	hvd_xs_release(d, dom);
	if (dom->accounted) {
		struct hooks_subject s = hvd_subject(dom);

		hooks_domain_destroy(d->hooks, &s);
		dom->accounted = false;
	}
	snprintf(gdir, sizeof(gdir), "%s/%u", d->guests_dir, dom->domid);
	guest_dir_remove(gdir);
	dom->pid = 0;
	d->n_live--;
	d->n_dead++;
	if (state == HV_DOMSTATE_CRASHED)
		d->st.crashed++;
	hvd_log("domain %u (%s) %s, status %d", dom->domid, dom->name,
		hv_domstate_name(state), (int)exit_status);
	if (dom->starting) {
		/* Died before its first hypercall: the create that is
		 * waiting for it fails with the console's last word. */
		dom->starting = false;
		hvd_ctl_start_done(d, dom);
	}
	dead_reap(d);
}

/* How the process ended decides the state: exit 0 is a shutdown, any
 * other end a crash - unless the guest made a shutdown hypercall first,
 * whose reason then stands. */
void hvd_domain_on_pidfd(struct hvd *d, struct hvd_domain *dom)
{
	siginfo_t si;
	uint32_t state, reason;
	int32_t status;

	memset(&si, 0, sizeof(si));
	/* WNOWAIT: the zombie keeps its pid until hvd_domain_died reaps. */
	if (waitid(P_PIDFD, (id_t)dom->pidfd, &si,
		   WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0)
		return;
	if (si.si_code == CLD_EXITED) {
		status = si.si_status;
		state = status == 0 ? HV_DOMSTATE_SHUTDOWN
				    : HV_DOMSTATE_CRASHED;
	} else {
		status = -si.si_status;
		state = HV_DOMSTATE_CRASHED;
	}
	reason = state == HV_DOMSTATE_CRASHED ? HV_SHUTDOWN_CRASH
					      : HV_SHUTDOWN_POWEROFF;
	if (dom->shutdown_req) {
		reason = dom->shutdown_req - 1;
		state = reason == HV_SHUTDOWN_CRASH ? HV_DOMSTATE_CRASHED
						    : HV_DOMSTATE_SHUTDOWN;
	}
	hvd_domain_died(d, dom, state, status, reason);
}

/* Kills a live guest, waits for it, then releases it. */
static void kill_and_reap(struct hvd *d, struct hvd_domain *dom, uint32_t state)
{
	siginfo_t si;

	if (dom->pid > 0) {
		kill(-dom->pid, SIGKILL);
		kill(dom->pid, SIGKILL);
	}
	if (dom->pidfd >= 0)
		waitid(P_PIDFD, (id_t)dom->pidfd, &si, WEXITED | WNOWAIT);
	dom->state = HV_DOMSTATE_DYING;
	hvd_domain_died(d, dom, state, -SIGKILL, HV_SHUTDOWN_POWEROFF);
}

int hvd_domain_destroy(struct hvd *d, uint32_t domid)
{
	struct hvd_domain *dom = hvd_domain_get(d, domid);

	if (!dom)
		return -ESRCH;
	if (dom->dom0)
		return -EPERM;
	if (hvd_domain_running(dom)) {
		kill_and_reap(d, dom, HV_DOMSTATE_SHUTDOWN);
		d->st.destroyed++;
	}
	domain_retire(d, dom);
	d->n_dead--;
	return 0;
}

int hvd_domain_pause(struct hvd *d, uint32_t domid, bool pause)
{
	struct hvd_domain *dom = hvd_domain_get(d, domid);

	if (!dom)
		return -ESRCH;
	if (dom->dom0)
		return -EPERM;
	if (!hvd_domain_running(dom))
		return -EINVAL;
	if (pause && dom->state == HV_DOMSTATE_RUNNING) {
		hvd_kill_guest(d, dom, SIGSTOP);
		dom->state = HV_DOMSTATE_PAUSED;
	} else if (!pause && dom->state == HV_DOMSTATE_PAUSED) {
		hvd_kill_guest(d, dom, SIGCONT);
		dom->state = HV_DOMSTATE_RUNNING;
	}
	return 0;
}

void hvd_domain_cpu(struct hvd_domain *dom)
{
	char path[64], buf[1024], *p;
	unsigned long long v[4] = {0, 0, 0, 0};
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	if (dom->dom0)
		snprintf(path, sizeof(path), "/proc/self/stat");
	else if (dom->pid > 0 && dom->pidfd >= 0)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)dom->pid);
	else
		return; /* reaped: the pid may be anyone's now; keep the last
			 * value */
	if (hz <= 0)
		return;
	/* Our own child, not reaped while we hold its pidfd: the pid cannot
	 * name anyone else. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* The command name is in parentheses and may hold anything: count
	 * fields from the last ')'.  utime, stime, cutime, cstime are the
	 * 12th to 15th after it. */
	p = strrchr(buf, ')');
	if (!p)
		return;
	for (int f = 0; f < 15 && p; f++) {
		p = strchr(p + 1, ' ');
		if (p && f >= 11)
			v[f - 11] = strtoull(p + 1, NULL, 10);
	}
	if (!p)
		return;
	/* dom0 is the daemon: its children are the guests, not its time. */
	dom->cpu_ns = (v[0] + v[1] + (dom->dom0 ? 0 : v[2] + v[3])) *
		      (1000000000ull / (unsigned long long)hz);
}

void hvd_domain_info(const struct hvd *d, const struct hvd_domain *dom,
		     struct hv_ctl_domain_info *info)
{
	memset(info, 0, sizeof(*info));
	info->domid = dom->domid;
	info->state = dom->state;
	info->ssidref = hvd_label_ssidref(d, dom->row);
	info->flags = dom->dom0 ? HV_CTL_DINFO_F_DOM0 : 0;
	info->exit_status = dom->exit_status;
	info->shutdown_reason = dom->shutdown_reason;
	info->pid = dom->pid > 0 ? (uint32_t)dom->pid : 0;
	info->max_pages = dom->max_pages;
	info->granted_pages = dom->granted_pages;
	info->n_evtchn = dom->n_ports;
	info->n_maps = dom->n_maps;
	info->uid = dom->uid;
	memcpy(info->uuid, dom->uuid, HV_UUID_LEN);
	info->cpu_ns = dom->cpu_ns;
	info->created_unix_ns = dom->created_unix_ns;
	memcpy(info->name, dom->name, HV_NAME_LEN);
	info->name[HV_NAME_LEN - 1] = '\0';
	if (dom->label[0]) {
		memcpy(info->label, dom->label, HV_NAME_LEN);
	} else {
		snprintf(info->label, sizeof(info->label), "%s", ACM_UNLABELED);
	}
	info->label[HV_NAME_LEN - 1] = '\0';
}

void hvd_domains_shutdown(struct hvd *d)
{
	for (uint32_t i = 1; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (!dom)
			continue;
		if (hvd_domain_running(dom))
			kill_and_reap(d, dom, HV_DOMSTATE_SHUTDOWN);
		d->doms[i] = NULL;
		domain_free(dom);
	}
	if (d->doms[0]) {
		domain_free(d->doms[0]);
		d->doms[0] = NULL;
	}
	d->n_dead = 0;
	hvd_domains_gc(d);
}
