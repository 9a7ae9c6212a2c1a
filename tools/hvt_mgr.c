/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_mgr.c - the vTPM manager domain from the toolstack's side
 * (docs/vtpm.md "Manager mode", docs/toolstack.md):
 *
 *   hvsec vtpm manager init    hvsec-vtpm-managerd --init, run here in dom0
 *                              (root key sealed to the platform PCRs, NV
 *                              counter, empty root record, CA, identity)
 *   hvsec vtpm manager start   the domain `vtpm-manager` running the daemon
 *                              with --control DIR/control, label = the
 *                              policy's bootstrap label unless --label;
 *                              ready once STATUS answers; registered in
 *                              XenStore HVT_MGR_XS (dom0 only)
 *   hvsec vtpm manager stop    the domain destroyed, the registration gone
 *   hvsec vtpm manager status  STATUS, human or --json
 *   hvsec vtpm manager pubkey  the identity key (tools/hvt_migrate.c)
 *
 * and the control client the rest of the toolstack uses (hvt_mgr_find,
 * hvt_mgr_call): create's ATTACH, destroy's DETACH, the admin commands.
 * The registration is believed only while its domain is alive and the
 * socket path is the one we wrote (the node is dom0's alone).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "tools/hvsec.h"
#include "vtpm-manager/mgr_proto.h"

#define MGR_START_MS  15000 /* unseal (platform TPM) + first STATUS */
#define MGR_CALL_MS   30000 /* ATTACH of a NEW instance: one commit */
#define MGR_MEMORY_MB 32u
#define MGR_CONTROL   "control" /* the socket, in the manager's dir */

/* ------------------------------------------------------------ helpers */

void hvt_mgr_dir(const struct hvt *t, char *out, size_t len)
{
	const char *env = getenv("HVSEC_VTPM_MGR_DIR");

	if (env && env[0] == '/')
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "%s", HVT_MGR_DIR_DEFAULT);
	else
		snprintf(out, len, "%s/vtpm-manager", t->run_dir);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int hvt_mgr_find(struct hvt *t, struct hvt_mgr *out)
{
	struct xs_handle *xs = hvt_xs_connect(t);
	char val[PATH_MAX];
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!xs)
		return HVT_DAEMON;
	ok = hvt_xs_get(xs, HVT_MGR_XS "/domid", val, sizeof(val)) &&
	     hvt_parse_u32(val, HV_DOMID_MAX, &out->domid);
	ok = ok && hvt_xs_get(xs, HVT_MGR_XS "/control", out->control,
			  sizeof(out->control)) &&
	     out->control[0] == '/';
	ok = ok && hvt_xs_get(xs, HVT_MGR_XS "/dir", out->dir, sizeof(out->dir));
	if (ok && !hvt_domain_alive(t, out->domid)) {
		/* It died (or was destroyed without `manager stop`). */
		xs_rm(xs, XBT_NULL, HVT_MGR_XS);
		ok = false;
	}
	xs_close(xs);
	return ok ? 0 : 1;
}

int hvt_mgr_call(const struct hvt_mgr *m, const struct mgr_req *req,
		 struct mgr_rsp *rsp, uint8_t *buf)
{
	char why[512];
	int fd, rc;

	fd = mgr_ctl_connect(m->control, why, sizeof(why));
	if (fd < 0) {
		hvt_err("vTPM manager (domain %u): %s", m->domid, why);
		return HVT_DAEMON;
	}
	rc = mgr_ctl_call(fd, req, rsp, buf, MGR_CALL_MS, why, sizeof(why));
	close(fd);
	if (rc) {
		hvt_err("vTPM manager (domain %u): %s: %s", m->domid,
			mgr_op_str(req->op), why);
		return HVT_DAEMON;
	}
	return 0;
}

int hvt_mgr_refused(const char *what, const struct mgr_rsp *rsp)
{
	hvt_err("%s: the vTPM manager refused: %s%s%s", what,
		mgr_rc_str(rsp->rc), rsp->msg[0] ? ": " : "", rsp->msg);
	switch (rsp->rc) {
	case MGR_RC_STORAGE:
	case MGR_RC_PLATFORM:
	case MGR_RC_INTERNAL:
		return HVT_DAEMON;
	case MGR_RC_MALFORMED:
	case MGR_RC_UNKNOWN_OP:
	case MGR_RC_TOO_BIG:
		return HVT_USAGE;
	default:
		return HVT_NO;
	}
}

static void managerd_path(char *out, size_t len)
{
	hvt_helper_path("HVSEC_VTPM_MANAGERD", "hvsec-vtpm-managerd", out,
			len);
}

/* ------------------------------------------------------------ init */

/* Runs the daemon's --init in this process's place (dom0): it talks to
 * the platform TPM and writes the directory itself.  Its output is the
 * user's; its exit status says what failed (docs/vtpm-manager.md). */
static int cmd_init(struct hvt *t, const struct hvt_args *a)
{
	const char *tcti = hvt_opt(a, "tcti") ? hvt_opt(a, "tcti")
					      : getenv("HVSEC_VTPM_MGR_TCTI");
	const char *pcrs = hvt_opt(a, "pcrs");
	char prog[PATH_MAX], dir[PATH_MAX];
	const char *argv[12];
	int n = 0, st;
	pid_t pid;

	managerd_path(prog, sizeof(prog));
	if (hvt_opt(a, "dir"))
		snprintf(dir, sizeof(dir), "%s", hvt_opt(a, "dir"));
	else
		hvt_mgr_dir(t, dir, sizeof(dir));
	if (geteuid() == 0 && !hvt_opt(a, "dir") &&
	    !getenv("HVSEC_VTPM_MGR_DIR"))
		mkdir("/var/lib/hvsec", 0755);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		hvt_err("vTPM manager directory %s: %s", dir, strerror(errno));
		return HVT_USAGE;
	}
	argv[n++] = prog;
	argv[n++] = "--init";
	argv[n++] = "--dir";
	argv[n++] = dir;
	if (tcti) {
		argv[n++] = "--tcti";
		argv[n++] = tcti;
	}
	if (pcrs) {
		argv[n++] = "--pcrs";
		argv[n++] = pcrs;
	}
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		hvt_err("fork: %s", strerror(errno));
		return HVT_DAEMON;
	}
	if (pid == 0) {
		execv(prog, (char *const *)argv);
		fprintf(stderr, "hvsec: %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return HVT_DAEMON;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("vTPM manager initialised in %s\n", dir);
		return 0;
	}
	hvt_err("hvsec-vtpm-managerd --init %s (directory %s)",
		WIFEXITED(st) ? "failed" : "was killed", dir);
	return WIFEXITED(st) && WEXITSTATUS(st) == 2 ? HVT_USAGE : HVT_DAEMON;
}

/* ------------------------------------------------------------ start */

static int bootstrap_label(struct hvt *t, char *out, size_t len)
{
	struct hvt_policy pol;
	int rc = hvt_policy_fetch(t, &pol);

	if (rc)
		return rc;
	if (!pol.p) {
		hvt_policy_free(&pol);
		hvt_err("no policy is loaded: the manager domain cannot start "
			"(hvsec policy load)");
		return HVT_NO;
	}
	snprintf(out, len, "%s", acm_label_name(pol.p, pol.info.bootstrap));
	hvt_policy_free(&pol);
	return 0;
}

static int status_call(const struct hvt_mgr *m, struct mgr_rsp *rsp,
		       uint8_t *buf, char *why, size_t why_len)
{
	struct mgr_req req = {.op = MGR_CTL_STATUS};
	int fd, rc;

	fd = mgr_ctl_connect(m->control, why, why_len);
	if (fd < 0)
		return fd;
	rc = mgr_ctl_call(fd, &req, rsp, buf, 2000, why, why_len);
	close(fd);
	return rc;
}

static int domid_call(struct hvt *t, uint32_t op, uint32_t domid)
{
	struct hv_ctl_domid req = {.domid = domid};

	return hvt_call(t, op, &req, sizeof(req), NULL, 0);
}

static bool register_mgr(struct hvt *t, const struct hvt_mgr *m)
{
	struct xs_permissions p = {.id = 0, .perms = XS_PERM_NONE};
	struct xs_handle *xs = hvt_xs_connect(t);
	char v[16];
	bool ok = false;

	if (!xs)
		return false;
	for (int tries = 0; tries < 16 && !ok; tries++) {
		xs_transaction_t tx = xs_transaction_start(xs);

		snprintf(v, sizeof(v), "%u", m->domid);
		ok = tx != XBT_NULL &&
		     xs_write(xs, tx, HVT_MGR_XS "/domid", v, strlen(v)) &&
		     xs_write(xs, tx, HVT_MGR_XS "/control", m->control,
			      strlen(m->control)) &&
		     xs_write(xs, tx, HVT_MGR_XS "/dir", m->dir,
			      strlen(m->dir)) &&
		     xs_set_permissions(xs, tx, HVT_MGR_XS, &p, 1) &&
		     xs_set_permissions(xs, tx, HVT_MGR_XS "/domid", &p, 1) &&
		     xs_set_permissions(xs, tx, HVT_MGR_XS "/control", &p, 1) &&
		     xs_set_permissions(xs, tx, HVT_MGR_XS "/dir", &p, 1);
		if (tx == XBT_NULL)
			break;
		if (!ok) {
			xs_transaction_end(xs, tx, true);
			break;
		}
		ok = xs_transaction_end(xs, tx, false);
		if (!ok && errno != EAGAIN)
			break;
	}
	xs_close(xs);
	return ok;
}

static void unregister_mgr(struct hvt *t)
{
	struct xs_handle *xs = hvt_xs_connect(t);

	if (xs) {
		xs_rm(xs, XBT_NULL, HVT_MGR_XS);
		xs_close(xs);
	}
}

static int cmd_start(struct hvt *t, const struct hvt_args *a)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	const char *tcti = hvt_opt(a, "tcti") ? hvt_opt(a, "tcti")
					      : getenv("HVSEC_VTPM_MGR_TCTI");
	struct hv_ctl_domain_info info;
	struct hvt_mgr m;
	struct mgr_rsp rsp;
	char prog[PATH_MAX], label[HV_NAME_LEN], uidarg[16], why[512],
		sealed[PATH_MAX + 16];
	const char *args[12];
	uint32_t n = 0;
	int rc;

	rc = hvt_mgr_find(t, &m);
	if (rc == 0) {
		hvt_err("a vTPM manager is already running (domain %u, "
			"directory %s)",
			m.domid, m.dir);
		return HVT_NO;
	}
	if (rc != 1)
		return rc;
	memset(&m, 0, sizeof(m));
	if (hvt_opt(a, "dir"))
		snprintf(m.dir, sizeof(m.dir), "%s", hvt_opt(a, "dir"));
	else
		hvt_mgr_dir(t, m.dir, sizeof(m.dir));
	snprintf(sealed, sizeof(sealed), "%s/sealed-key", m.dir);
	if (access(sealed, F_OK) < 0) {
		hvt_err("%s: no manager there (%s): hvsec vtpm manager init "
			"first",
			m.dir, strerror(errno));
		return HVT_USAGE;
	}
	if (snprintf(m.control, sizeof(m.control), "%s/%s", m.dir,
		     MGR_CONTROL) >= (int)sizeof(m.control)) {
		hvt_err("%s: path too long for a socket", m.dir);
		return HVT_USAGE;
	}
	if (hvt_opt(a, "label"))
		snprintf(label, sizeof(label), "%s", hvt_opt(a, "label"));
	else {
		rc = bootstrap_label(t, label, sizeof(label));
		if (rc)
			return rc;
	}
	managerd_path(prog, sizeof(prog));
	snprintf(uidarg, sizeof(uidarg), "%u", (unsigned)geteuid());
	args[n++] = "--dir";
	args[n++] = m.dir;
	args[n++] = "--control";
	args[n++] = m.control;
	if (geteuid() != 0) {
		args[n++] = "--toolstack-uid";
		args[n++] = uidarg;
	}
	if (tcti) {
		args[n++] = "--tcti";
		args[n++] = tcti;
	}
	unlink(m.control); /* a dead manager's socket */
	rc = hvt_helper_create(t, HVT_MGR_DOMAIN, label, prog, args, n, &info);
	if (rc)
		return rc;
	m.domid = info.domid;
	if (info.uid && geteuid() == 0) {
		rc = hvt_give_dir(m.dir, info.uid);
		if (rc) {
			hvt_err("giving %s to uid %u: %s", m.dir, info.uid,
				strerror(-rc));
			rc = HVT_DAEMON;
			goto fail;
		}
	}
	rc = domid_call(t, HV_CTL_DOMAIN_UNPAUSE, m.domid);
	if (rc) {
		rc = hvt_fail(t, "unpause the vTPM manager", rc);
		goto fail;
	}
	for (int w = 0;; w += 50) {
		memset(&rsp, 0, sizeof(rsp));
		if (status_call(&m, &rsp, buf, why, sizeof(why)) == 0 &&
		    rsp.rc == MGR_RC_OK)
			break;
		if (!hvt_domain_alive(t, m.domid)) {
			hvt_err("the vTPM manager (domain %u) exited: see "
				"hvsec console %s",
				m.domid, HVT_MGR_DOMAIN);
			rc = HVT_DAEMON;
			goto fail;
		}
		if (w >= MGR_START_MS) {
			hvt_err("the vTPM manager (domain %u) did not answer "
				"STATUS within %d ms (%s): see hvsec console %s",
				m.domid, MGR_START_MS, why, HVT_MGR_DOMAIN);
			rc = HVT_DAEMON;
			goto fail;
		}
		sleep_ms(50);
	}
	if (!register_mgr(t, &m)) {
		hvt_err("XenStore %s: %s", HVT_MGR_XS, strerror(errno));
		rc = HVT_DAEMON;
		goto fail;
	}
	printf("vTPM manager running: domain %u (%s), label %s, "
		       "directory %s\n",
		       m.domid, HVT_MGR_DOMAIN, label, m.dir);
	return 0;
fail:
	/* The record stays (its console says why) until stop or the next
	 * start destroys it. */
	return rc;
}

/* ------------------------------------------------------------ stop */

int hvt_mgr_need(struct hvt *t, struct hvt_mgr *out, const char *what)
{
	int rc = hvt_mgr_find(t, out);

	if (rc == 1) {
		hvt_err("%s: no vTPM manager is running (hvsec vtpm manager "
			"start)",
			what);
		return HVT_DAEMON;
	}
	return rc;
}

static int cmd_stop(struct hvt *t)
{
	struct hv_ctl_domain_info info;
	struct hvt_mgr m;
	int rc = hvt_mgr_find(t, &m);

	if (rc > 1)
		return rc;
	if (rc == 1) {
		/* A manager that failed to start still has a record. */
		if (hvt_domain_lookup(t, HVT_MGR_DOMAIN, &info) == 0) {
			domid_call(t, HV_CTL_DOMAIN_DESTROY, info.domid);
			return 0;
		}
		hvt_err("no vTPM manager is running");
		return HVT_NO;
	}
	/* Its instances fail closed (their commits fail) until it is back. */
	rc = domid_call(t, HV_CTL_DOMAIN_DESTROY, m.domid);
	unregister_mgr(t);
	if (rc)
		return hvt_fail(t, "destroy the vTPM manager", rc);
	printf("vTPM manager (domain %u) stopped\n", m.domid);
	return 0;
}

/* ------------------------------------------------------------ status */

static void uuid_str(const struct mgr_uuid *u, char out[37])
{
	hvt_uuid_str(u->b, out);
}

static int cmd_status(struct hvt *t)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	struct mgr_req req = {.op = MGR_CTL_STATUS};
	struct mgr_rsp rsp;
	struct hvt_mgr m;
	char uuid[37];
	int rc = hvt_mgr_find(t, &m);

	if (rc == 1) {
		if (t->json)
			printf("{\"running\":false}\n");
		else
			printf("vTPM manager: not running\n");
		return HVT_NO;
	}
	if (rc)
		return rc;
	rc = hvt_mgr_call(&m, &req, &rsp, buf);
	if (rc)
		return rc;
	if (rsp.rc != MGR_RC_OK)
		return hvt_mgr_refused("STATUS", &rsp);
	uuid_str(&rsp.u.status.manager, uuid);
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kbool(&j, "running", true);
		hvt_json_ku64(&j, "domid", m.domid);
		hvt_json_kstr(&j, "dir", m.dir);
		hvt_json_kstr(&j, "control", m.control);
		hvt_json_kstr(&j, "uuid", uuid);
		hvt_json_ku64(&j, "root_generation",
			      rsp.u.status.root_generation);
		hvt_json_ku64(&j, "counter", rsp.u.status.counter);
		hvt_json_ku64(&j, "nv_index", rsp.u.status.nv_index);
		hvt_json_ku64(&j, "pcr_mask", rsp.u.status.pcr_mask);
		hvt_json_ku64(&j, "instances", rsp.u.status.instances);
		hvt_json_ku64(&j, "attached", rsp.u.status.attached);
		hvt_json_ku64(&j, "open", rsp.u.status.open);
		hvt_json_ku64(&j, "commits", rsp.u.status.commits);
		hvt_json_ku64(&j, "commit_batches",
			      rsp.u.status.commit_batches);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
		return 0;
	}
	printf("vTPM manager   domain %u (%s), %s\n", m.domid, HVT_MGR_DOMAIN,
	       m.dir);
	printf("Identity       %s\n", uuid);
	printf("Root record    generation %llu, NV counter 0x%08x = %llu\n",
	       (unsigned long long)rsp.u.status.root_generation,
	       rsp.u.status.nv_index,
	       (unsigned long long)rsp.u.status.counter);
	printf("Sealed to      PCR mask 0x%06x\n", rsp.u.status.pcr_mask);
	printf("Instances      %u (%u attached, %u open)\n",
	       rsp.u.status.instances, rsp.u.status.attached,
	       rsp.u.status.open);
	/* Root commits also come from ATTACH, DELETE, RESET, EXPORT and
	 * IMPORT; several instance COMMITs can share one. */
	printf("Commits        %llu instance state writes; %llu root record "
	       "commits (NV increments) in all\n",
	       (unsigned long long)rsp.u.status.commits,
	       (unsigned long long)rsp.u.status.commit_batches);
	return 0;
}

int hvt_cmd_vtpm_manager(struct hvt *t, const struct hvt_args *a)
{
	const char *sub = a->pos[0];

	if (!strcmp(sub, "init"))
		return cmd_init(t, a);
	if (!strcmp(sub, "start"))
		return cmd_start(t, a);
	if (!strcmp(sub, "stop"))
		return cmd_stop(t);
	if (!strcmp(sub, "status"))
		return cmd_status(t);
	/* Migration's (tools/hvt_migrate.c). */
	if (!strcmp(sub, "pubkey"))
		return hvt_mgr_pubkey(t, hvt_opt(a, "out"),
				      hvt_opt(a, "der") != NULL);
	hvt_err("vtpm manager: unknown subcommand '%s' (init, start, stop, "
		"status, pubkey)",
		sub);
	return HVT_USAGE;
}
