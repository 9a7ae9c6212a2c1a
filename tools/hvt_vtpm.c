/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_vtpm.c - a guest's vTPMs: the stub domain that serves each one,
 * both XenStore directories, and taking them down again (docs/vtpm.md).
 *
 * At create, for each `vtpm = [...]` line of a guest created paused:
 *   - backend=0 (or none, libxl's default): a state directory with no
 *     TPM yet is manufactured (EKs, certificates: hvt_manufacture.c); a
 *     stub domain NAME-vtpmN runs hvsec-vtpmd with the guest's label (or
 *     backend_label=), created paused; its state directory is handed to
 *     its uid; the guest's measured-boot log goes in as boot-log (root's);
 *     both XenStore directories, the log for the guest and verifiers
 *     (device/vtpm/N/event-log/) and the toolstack's own record under
 *     /libxl are written in one transaction; the stub is unpaused, extends
 *     the log into its TPM and must reach InitWait.
 *   - manager mode (manager=yes, or a vTPM manager registered and no
 *     manager=no): nothing is manufactured here; the stub runs with
 *     --manager M, is ATTACHed at the manager (vTPM uuid bound to the
 *     guest's domain uuid and label) while paused, and the stub<->manager
 *     directories go into the same transaction; the stub manufactures
 *     when the manager says NEW (docs/vtpm.md "Manager mode").  Destroy
 *     DETACHes after the stub is gone.
 *   - backend=NAME: an existing domain serves it (Xen's vTPM stub domain
 *     started by the operator); only the directories are written.
 * At destroy the guest goes first (its XenStore home with it, so the
 * backend sees its frontend gone and exits), then the stub domain.
 *
 * Identity of a guest's vTPMs comes from /libxl/G (dom0 only), never from
 * a directory the guest or the backend can write (XSA-175/178).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include <stdarg.h>

#include "tools/hvsec.h"
#include "vtpm-instance/vtpm.h" /* vtpm_mgr_uuid_parse */
#include "vtpm-manager/mgr_proto.h"

#define VTPM_CONNECT_MS	 5000 /* stub domain start to InitWait */
#define VTPM_STOP_MS	 3000 /* frontend gone to the stub's exit */
#define VTPM_STUB_MEM_MB 16u

enum { XB_INIT_WAIT = 2, XB_CLOSED = 6 };

struct xs_handle *hvt_xs_open(const struct hvt *t, bool report)
{
	char path[PATH_MAX];
	struct xs_handle *xs;

	if (snprintf(path, sizeof(path), "%s/xenstored", t->run_dir) >=
	    (int)sizeof(path)) {
		if (report)
			hvt_err("run dir path too long");
		return NULL;
	}
	/* libxenstore finds its socket here; the daemon serves dom0 on it. */
	setenv("XENSTORED_PATH", path, 1);
	xs = xs_open(0);
	if (!xs && report)
		hvt_err("XenStore at %s: %s", path, strerror(errno));
	return xs;
}

struct xs_handle *hvt_xs_connect(struct hvt *t)
{
	return hvt_xs_open(t, true);
}

static bool xs_put(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
		   const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static bool xs_put(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
		   const char *key, const char *fmt, ...)
{
	char path[256], val[256];
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return xs_write(xs, tx, path, val, strlen(val));
}

bool hvt_xs_get(struct xs_handle *xs, const char *path, char *buf, size_t len)
{
	unsigned int n = 0;
	char *v = xs_read(xs, XBT_NULL, path, &n);

	if (!v)
		return false;
	snprintf(buf, len, "%.*s", (int)n, v);
	free(v);
	return true;
}

/* Sets owner `owner` (others: nothing) and read access for `reader` on a
 * node and, since new nodes only inherit at creation, on each child. */
static bool xs_own(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
		   unsigned owner, unsigned reader)
{
	struct xs_permissions p[2] = {
		{.id = owner, .perms = XS_PERM_NONE},
		{.id = reader, .perms = XS_PERM_READ},
	};
	unsigned int n = 0;
	char **kids, path[256];
	bool ok = xs_set_permissions(xs, tx, dir, p, reader == owner ? 1 : 2);

	kids = ok ? xs_directory(xs, tx, dir, &n) : NULL;
	for (unsigned i = 0; ok && kids && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kids[i]);
		ok = xs_set_permissions(xs, tx, path, p,
					reader == owner ? 1 : 2);
	}
	free(kids);
	return ok;
}

/* ------------------------------------------------------------ state dirs */

/* A stub domain runs under a uid of its own: it must be able to walk to
 * its directory.  Names the first ancestor it could not pass. */
static int check_reachable(const char *base, char *bad, size_t bad_len)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s", base);
	for (char *slash = path + strlen(path); slash > path;) {
		*slash = '\0';
		if (stat(path[0] ? path : "/", &st) < 0)
			return -errno;
		if (!(st.st_mode & S_IXOTH)) {
			snprintf(bad, bad_len, "%s (mode %04o)",
				 path[0] ? path : "/", st.st_mode & 07777);
			return -EACCES;
		}
		slash = strrchr(path, '/');
		if (!slash)
			break;
	}
	return 0;
}

/* Gives the instance directory and its regular files to uid.  Nothing in
 * it is followed: a previous instance (another uid) may have left a
 * symlink to anywhere, which root must not chown; anything that is not a
 * regular file is removed. */
int hvt_give_dir(const char *dir, unsigned uid_)
{
	uid_t uid = (uid_t)uid_;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	struct stat st;
	int rc = 0;

	if (dfd < 0)
		return -errno;
	if (fchown(dfd, uid, (gid_t)uid) < 0 || fchmod(dfd, 0700) < 0) {
		rc = -errno;
		close(dfd);
		return rc;
	}
	d = fdopendir(dfd);
	if (!d) {
		rc = -errno;
		close(dfd);
		return rc;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			unlinkat(dfd, e->d_name,
				 S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
			continue;
		}
		if (fchownat(dfd, e->d_name, uid, (gid_t)uid,
			     AT_SYMLINK_NOFOLLOW) < 0 && !rc)
			rc = -errno;
	}
	closedir(d);
	return rc;
}

static void remove_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dfd, e->d_name, 0);
	closedir(d);
	rmdir(dir);
}

static int state_dir(struct hvt *t, const char *uuid, char *out, size_t len)
{
	char base[PATH_MAX - 64], bad[PATH_MAX + 16];
	int rc;

	hvt_vtpm_state_base(t, base, sizeof(base));
	/* The parents of the default, as a package would make them. */
	if (!getenv("HVSEC_VTPM_DIR") && geteuid() == 0)
		mkdir("/var/lib/hvsec", 0755);
	/* Traversable, not listable: an instance finds its own directory
	 * (named on its command line) and no other. */
	if (mkdir(base, 0711) < 0 && errno != EEXIST)
		return -errno;
	if (geteuid() == 0) {
		rc = check_reachable(base, bad, sizeof(bad));
		if (rc == -EACCES) {
			hvt_err("vTPM state directory %s: the stub domain's uid "
				"cannot reach it: %s is not searchable by others "
				"(set HVSEC_VTPM_DIR)",
				base, bad);
			return -EACCES;
		}
	}
	if (snprintf(out, len, "%s/%s", base, uuid) >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------ setup */

void hvt_helper_path(const char *env_name, const char *prog, char *out,
		     size_t len)
{
	const char *env = getenv(env_name);
	char self[PATH_MAX];
	ssize_t n;

	if (env && env[0] == '/') {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(out, len, "/usr/local/bin/%s", prog);
		return;
	}
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (snprintf(out, len, "%s/%s", self, prog) >= (int)len)
		snprintf(out, len, "/usr/local/bin/%s", prog);
}

static void random_uuid(char out[37])
{
	uint8_t u[HV_UUID_LEN];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(u); i++)
			u[i] = (uint8_t)((uint64_t)ts.tv_nsec >> (i % 8) ^
					 (uint64_t)getpid() >> i);
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	hvt_uuid_str(u, out);
}

int hvt_helper_create(struct hvt *t, const char *name, const char *label,
		      const char *kernel, const char *const *args,
		      uint32_t n_args, struct hv_ctl_domain_info *info)
{
	static uint8_t body[HV_CTL_MSG_MAX];
	struct hv_ctl_create_args a;
	size_t len;
	int rc;

	memset(&a, 0, sizeof(a));
	a.name = name;
	a.label = label;
	a.kernel = kernel;
	a.args = args;
	a.n_args = n_args;
	a.memory_mb = VTPM_STUB_MEM_MB;
	a.flags = HV_CTL_CREATE_F_PAUSED;
	len = hv_ctl_encode_create(&a, body, sizeof(body));
	if (!len) {
		hvt_err("domain %s: request too large", name);
		return HVT_USAGE;
	}
	rc = hvt_call(t, HV_CTL_DOMAIN_CREATE, body, len, NULL, 0);
	if (rc) {
		char what[HV_NAME_LEN + 40];

		snprintf(what, sizeof(what), "domain %s", name);
		return hvt_fail(t, what, rc);
	}
	if (t->resp->body_len != sizeof(*info)) {
		hvt_err("hvsecd sent a domain record of %zu bytes",
			t->resp->body_len);
		return HVT_DAEMON;
	}
	memcpy(info, t->resp->body, sizeof(*info));
	return 0;
}

static int domid_call(struct hvt *t, uint32_t op, uint32_t domid)
{
	struct hv_ctl_domid req = {.domid = domid};

	return hvt_call(t, op, &req, sizeof(req), NULL, 0);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits for the backend's state to reach `want` (or an `error` node). */
static int wait_backend(struct xs_handle *xs, const char *be, int want,
			int timeout_ms, char *err, size_t err_len)
{
	char path[256], val[64];

	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		snprintf(path, sizeof(path), "%s/error", be);
		if (hvt_xs_get(xs, path, err, err_len))
			return -EIO;
		snprintf(path, sizeof(path), "%s/state", be);
		if (hvt_xs_get(xs, path, val, sizeof(val)) && atoi(val) == want)
			return 0;
		sleep_ms(20);
	}
	snprintf(err, err_len, "no %s within %d ms",
		 want == XB_INIT_WAIT ? "InitWait" : "answer", timeout_ms);
	return -ETIMEDOUT;
}

struct vtpm_plan {
	unsigned devid;
	uint32_t be_domid;
	bool stub, ephemeral;
	char uuid[37];
	char stub_name[HV_NAME_LEN];
	char dir[PATH_MAX - 64];
	const char *guest; /* the guest's name, for /libxl and the audit log */
	struct hvt_manufactured mf;
	const struct hvt_boot_log *log; /* NULL: none published */
	/* Manager mode: the stub is also a frontend of the manager domain,
	 * which holds the instance's key and committed generations. */
	bool managed, attached;
	struct hvt_mgr mgr;
};

/* The measured-boot log for the guest and verifiers (docs/vtpm.md):
 * event-log/{size,sha256,0,1,...}, base64 in chunks since XenStore values
 * are bounded.  dom0's, readable by the guest and its backend, so the
 * guest (which owns the directory above) cannot rewrite it. */
static bool put_event_log(struct xs_handle *xs, xs_transaction_t tx,
			  const char *fe, uint32_t g, uint32_t b,
			  const struct hvt_boot_log *l)
{
	struct xs_permissions p[3] = {
		{.id = 0, .perms = XS_PERM_NONE},
		{.id = g, .perms = XS_PERM_READ},
		{.id = b, .perms = XS_PERM_READ},
	};
	unsigned np = b == g || b == 0 ? 2 : 3;
	char dir[160], path[192];
	bool ok;

	snprintf(dir, sizeof(dir), "%s/event-log", fe);
	ok = xs_put(xs, tx, dir, "size", "%zu", l->len) &&
	     xs_put(xs, tx, dir, "sha256", "%s", l->sha256) &&
	     xs_set_permissions(xs, tx, dir, p, np);
	ok = ok && xs_set_permissions(xs, tx, strcat(strcpy(path, dir), "/size"),
				      p, np);
	ok = ok && xs_set_permissions(xs, tx,
				      strcat(strcpy(path, dir), "/sha256"), p,
				      np);
	for (size_t off = 0, i = 0; ok && off < l->b64_len;
	     off += HVT_EVLOG_CHUNK, i++) {
		size_t n = l->b64_len - off < HVT_EVLOG_CHUNK
				   ? l->b64_len - off
				   : HVT_EVLOG_CHUNK;

		snprintf(path, sizeof(path), "%s/%zu", dir, i);
		ok = xs_write(xs, tx, path, l->b64 + off, (unsigned)n) &&
		     xs_set_permissions(xs, tx, path, p, np);
	}
	return ok;
}

/* Manager mode: the stub's own device/vtpm/0 (it is the frontend there)
 * and the manager's backend directory for it, as for guest and stub. */
static bool put_mgr_dirs(struct xs_handle *xs, xs_transaction_t tx,
			 const struct vtpm_plan *p)
{
	char fe[128], be[128];
	uint32_t s = p->be_domid, m = p->mgr.domid;

	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vtpm/0", s);
	snprintf(be, sizeof(be), "/local/domain/%u/backend/vtpm/%u/0", m, s);
	return xs_put(xs, tx, fe, "backend", "%s", be) &&
	       xs_put(xs, tx, fe, "backend-id", "%u", m) &&
	       xs_put(xs, tx, fe, "handle", "0") &&
	       xs_put(xs, tx, fe, "state", "1") && xs_own(xs, tx, fe, s, m) &&
	       xs_put(xs, tx, be, "frontend", "%s", fe) &&
	       xs_put(xs, tx, be, "frontend-id", "%u", s) &&
	       xs_put(xs, tx, be, "handle", "0") &&
	       xs_put(xs, tx, be, "online", "1") &&
	       xs_put(xs, tx, be, "state", "1") &&
	       xs_put(xs, tx, be, "uuid", "%s", p->uuid) &&
	       xs_put(xs, tx, be, "resume", "False") &&
	       xs_own(xs, tx, be, m, s);
}

/* ATTACH (create) / DETACH of the instance at the manager.  0 or an exit
 * status (reported, why set). */
static int mgr_attach(const struct hv_ctl_domain_info *g, struct vtpm_plan *p,
		      char *why, size_t why_len)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	struct mgr_req req = {.op = MGR_CTL_ATTACH};
	struct mgr_rsp rsp;
	int rc;

	if (vtpm_mgr_uuid_parse(p->uuid, &req.u.attach.uuid)) {
		snprintf(why, why_len, "uuid %s", p->uuid);
		return HVT_USAGE;
	}
	memcpy(req.u.attach.domain.b, g->uuid, MGR_UUID_LEN);
	snprintf(req.u.attach.label, sizeof(req.u.attach.label), "%s",
		 g->label[0] ? g->label : "__UNLABELED__");
	req.u.attach.stub_domid = p->be_domid;
	req.u.attach.create = true;
	rc = hvt_mgr_call(&p->mgr, &req, &rsp, buf);
	if (rc) {
		snprintf(why, why_len, "the vTPM manager did not answer ATTACH");
		return rc;
	}
	if (rsp.rc != MGR_RC_OK) {
		snprintf(why, why_len, "the vTPM manager refused ATTACH: %s: %s",
			 mgr_rc_str(rsp.rc), rsp.msg);
		return hvt_mgr_refused("ATTACH", &rsp);
	}
	p->attached = true;
	return 0;
}

static void mgr_detach(const struct hvt_mgr *m, const char *uuid, bool del)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	struct mgr_req req = {.op = MGR_CTL_DETACH};
	struct mgr_rsp rsp;

	if (vtpm_mgr_uuid_parse(uuid, &req.u.target.uuid))
		return;
	if (hvt_mgr_call(m, &req, &rsp, buf) == 0 && rsp.rc != MGR_RC_OK &&
	    rsp.rc != MGR_RC_NOT_FOUND)
		hvt_mgr_refused("DETACH", &rsp);
	if (!del)
		return;
	/* An ephemeral instance: its key goes with it. */
	req.op = MGR_CTL_DELETE;
	if (hvt_mgr_call(m, &req, &rsp, buf) == 0 && rsp.rc != MGR_RC_OK &&
	    rsp.rc != MGR_RC_NOT_FOUND)
		hvt_mgr_refused("DELETE", &rsp);
}

/* Manager mode or not: manager=yes needs a running manager, manager=no
 * never uses one, and without the key a registered manager decides. */
static int pick_manager(struct hvt *t, const struct xlcfg *c,
			const struct xlcfg_vtpm *v, struct vtpm_plan *p,
			char *why, size_t why_len)
{
	int rc;

	if (v->manager < 0)
		return 0;
	if (!p->stub) {
		if (v->manager > 0) {
			hvt_err("%s:%u: vtpm: manager=yes needs a stub served "
				"by hvsec (backend=0), not backend=%s",
				c->path, v->line, v->backend);
			snprintf(why, why_len, "manager=yes with backend=%s",
				 v->backend);
			return HVT_USAGE;
		}
		return 0;
	}
	rc = hvt_mgr_find(t, &p->mgr);
	if (rc == 1 && v->manager > 0) {
		hvt_err("%s:%u: vtpm: manager=yes but no vTPM manager is "
			"running (hvsec vtpm manager start)",
			c->path, v->line);
		snprintf(why, why_len, "manager=yes: no vTPM manager running");
		return HVT_NO;
	}
	if (rc > 1) {
		snprintf(why, why_len, "vTPM manager unreachable");
		return rc;
	}
	p->managed = rc == 0;
	return 0;
}

/* Writes both directories and the toolstack's record, in one transaction
 * (retried when another writer raced us). */
static int write_dirs(struct xs_handle *xs, uint32_t g, const struct vtpm_plan *p)
{
	char fe[128], be[128], lx[128];

	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vtpm/%u", g, p->devid);
	snprintf(be, sizeof(be), "/local/domain/%u/backend/vtpm/%u/%u",
		 p->be_domid, g, p->devid);
	snprintf(lx, sizeof(lx), "/libxl/%u/device/vtpm/%u", g, p->devid);
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t tx = xs_transaction_start(xs);
		bool ok = tx != XBT_NULL;

		ok = ok && xs_put(xs, tx, fe, "backend", "%s", be) &&
		     xs_put(xs, tx, fe, "backend-id", "%u", p->be_domid) &&
		     xs_put(xs, tx, fe, "handle", "%u", p->devid) &&
		     xs_put(xs, tx, fe, "state", "1") &&
		     xs_own(xs, tx, fe, g, p->be_domid) &&
		     (!p->log ||
		      put_event_log(xs, tx, fe, g, p->be_domid, p->log));
		ok = ok && xs_put(xs, tx, be, "frontend", "%s", fe) &&
		     xs_put(xs, tx, be, "frontend-id", "%u", g) &&
		     xs_put(xs, tx, be, "handle", "%u", p->devid) &&
		     xs_put(xs, tx, be, "online", "1") &&
		     xs_put(xs, tx, be, "state", "1") &&
		     xs_put(xs, tx, be, "uuid", "%s", p->uuid) &&
		     xs_put(xs, tx, be, "resume", "False") &&
		     xs_own(xs, tx, be, p->be_domid, g);
		ok = ok && xs_put(xs, tx, lx, "backend", "%s", be) &&
		     xs_put(xs, tx, lx, "backend-id", "%u", p->be_domid) &&
		     xs_put(xs, tx, lx, "frontend", "%s", fe) &&
		     xs_put(xs, tx, lx, "uuid", "%s", p->uuid) &&
		     xs_put(xs, tx, lx, "guest-name", "%s", p->guest) &&
		     xs_put(xs, tx, lx, "stub", "%u", p->stub ? 1u : 0u) &&
		     xs_put(xs, tx, lx, "ephemeral", "%u",
			    p->ephemeral ? 1u : 0u) &&
		     xs_put(xs, tx, lx, "state-dir", "%s",
			    p->stub ? p->dir : "") &&
		     (!p->mf.made || xs_put(xs, tx, lx, "provision-us", "%llu",
					    (unsigned long long)p->mf.us)) &&
		     (!p->log || xs_put(xs, tx, lx, "boot-log-sha256", "%s",
					p->log->sha256)) &&
		     (!p->managed ||
		      xs_put(xs, tx, lx, "manager", "%u", p->mgr.domid)) &&
		     xs_own(xs, tx, lx, 0, 0) &&
		     (!p->managed || put_mgr_dirs(xs, tx, p));
		if (!ok) {
			int e = errno;

			if (tx != XBT_NULL)
				xs_transaction_end(xs, tx, true);
			return -(e ? e : EIO);
		}
		if (xs_transaction_end(xs, tx, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* The audit record of a vTPM set up (result "ok") or not ("failed", why
 * naming the step).  The detail says which domain serves it and whether
 * its TPM was manufactured now or is a kept one. */
static void audit_create(struct hvt *t, const struct vtpm_plan *p,
			 const char *result, const char *why)
{
	char detail[256];

	if (why)
		snprintf(detail, sizeof(detail), "vTPM %u: %s", p->devid, why);
	else if (!p->stub)
		snprintf(detail, sizeof(detail), "vTPM %u: backend domain %u",
			 p->devid, p->be_domid);
	else
		snprintf(detail, sizeof(detail), "vTPM %u: stub %s (%u), %s%s",
			 p->devid, p->stub_name, p->be_domid,
			 p->managed     ? "state sealed by the vTPM manager"
			 : p->mf.made ? "manufactured now"
				      : "existing state",
			 p->ephemeral ? ", ephemeral" : "");
	hvt_vtpm_audit(t, "create", p->uuid, p->guest, result, detail);
}

static int setup_one(struct hvt *t, struct xs_handle *xs, const struct xlcfg *c,
		     size_t i, const struct hv_ctl_domain_info *g,
		     const struct hvt_boot_log *log)
{
	const struct xlcfg_vtpm *v = &c->vtpms[i];
	struct vtpm_plan p;
	struct hv_ctl_domain_info stub;
	char fid[16], dev[16], mid[16], be[128], err[512], why[640],
		prog[PATH_MAX];
	const char *label;
	int rc;

	memset(&p, 0, sizeof(p));
	p.devid = (unsigned)i;
	p.guest = g->name;
	why[0] = '\0';
	p.stub = !v->backend || !strcmp(v->backend, "0");
	p.ephemeral = !v->uuid;
	if (v->uuid)
		snprintf(p.uuid, sizeof(p.uuid), "%s", v->uuid);
	else
		random_uuid(p.uuid);

	rc = pick_manager(t, c, v, &p, why, sizeof(why));
	if (rc) {
		audit_create(t, &p, "failed", why);
		return rc;
	}
	if (!p.stub) {
		struct hv_ctl_domain_info bi;

		rc = hvt_domain_lookup(t, v->backend, &bi);
		if (rc) {
			hvt_err("%s:%u: vtpm: backend domain %s is not running",
				c->path, v->line, v->backend);
			snprintf(why, sizeof(why),
				 "backend domain %s is not running",
				 v->backend);
			audit_create(t, &p, "failed", why);
			return rc;
		}
		p.be_domid = bi.domid;
		rc = write_dirs(xs, g->domid, &p);
		if (rc) {
			hvt_err("vTPM %u: XenStore: %s", p.devid, strerror(-rc));
			snprintf(why, sizeof(why), "XenStore: %s",
				 strerror(-rc));
			audit_create(t, &p, "failed", why);
			return HVT_DAEMON;
		}
		audit_create(t, &p, "ok", NULL);
		return 0;
	}

	rc = state_dir(t, p.uuid, p.dir, sizeof(p.dir));
	if (rc) {
		hvt_err("vTPM %u: state directory for %s: %s", p.devid, p.uuid,
			strerror(-rc));
		snprintf(why, sizeof(why), "state directory: %s",
			 strerror(-rc));
		audit_create(t, &p, "failed", why);
		return HVT_DAEMON;
	}
	/* A new instance gets its TPM, EKs and certificates now, as root,
	 * before its uid may touch the directory.  In manager mode the stub
	 * manufactures when the manager says NEW. */
	rc = p.managed ? 0 : hvt_vtpm_manufacture(t, p.dir, &p.mf);
	if (rc) {
		snprintf(why, sizeof(why), "manufacturing its TPM failed");
		goto fail_dir;
	}
	if (t->verbose && p.mf.made)
		fprintf(stderr,
			"hvsec: vTPM %u (%s): manufactured with EKs and "
			"certificates in %.1f ms\n",
			p.devid, p.uuid, (double)p.mf.us / 1000.0);
	hvt_boot_log_remove(p.dir);
	snprintf(p.stub_name, sizeof(p.stub_name), "%.50s-vtpm%u", g->name,
		 p.devid);
	snprintf(fid, sizeof(fid), "%u", g->domid);
	snprintf(dev, sizeof(dev), "%u", p.devid);
	snprintf(mid, sizeof(mid), "%u", p.mgr.domid);
	const char *args[] = {"--frontend-id", fid,   "--devid", dev,
			      "--state-dir",   p.dir, "--uuid",	 p.uuid,
			      "--manager",     mid};
	label = v->backend_label ? v->backend_label : g->label;
	if (strlen(label) >= HV_NAME_LEN) {
		hvt_err("%s:%u: vtpm: backend_label longer than %u", c->path,
			v->line, HV_NAME_LEN - 1);
		snprintf(why, sizeof(why), "backend_label longer than %u",
			 HV_NAME_LEN - 1);
		rc = HVT_USAGE;
		goto fail_dir;
	}
	hvt_helper_path("HVSEC_VTPMD", "hvsec-vtpmd", prog, sizeof(prog));
	rc = hvt_helper_create(t, p.stub_name, label, prog, args,
			       (uint32_t)(sizeof(args) / sizeof(args[0])) -
				       (p.managed ? 0 : 2),
			       &stub);
	if (rc) {
		snprintf(why, sizeof(why), "creating stub domain %s failed",
			 p.stub_name);
		goto fail_dir;
	}
	p.be_domid = stub.domid;
	/* The directory belongs to the instance's uid while it runs. */
	if (stub.uid && geteuid() == 0) {
		rc = hvt_give_dir(p.dir, (uid_t)stub.uid);
		if (rc) {
			hvt_err("vTPM %u: giving %s to uid %u: %s", p.devid,
				p.dir, stub.uid, strerror(-rc));
			snprintf(why, sizeof(why),
				 "giving its state to uid %u: %s", stub.uid,
				 strerror(-rc));
			rc = HVT_DAEMON;
			goto fail_stub;
		}
	}
	/* What the stub extends into its TPM before the guest can
	 * connect; root's, read by the stub. */
	rc = hvt_boot_log_write(p.dir, log);
	if (rc) {
		hvt_err("vTPM %u: writing %s/%s: %s", p.devid, p.dir,
			HVT_BOOT_LOG, strerror(-rc));
		snprintf(why, sizeof(why), "writing %s: %s", HVT_BOOT_LOG,
			 strerror(-rc));
		rc = HVT_DAEMON;
		goto fail_stub;
	}
	p.log = log;
	/* Before the stub runs: the manager accepts its OPEN only once the
	 * toolstack said which guest it serves. */
	if (p.managed) {
		rc = mgr_attach(g, &p, why, sizeof(why));
		if (rc)
			goto fail_stub;
	}
	rc = write_dirs(xs, g->domid, &p);
	if (rc) {
		hvt_err("vTPM %u: XenStore: %s", p.devid, strerror(-rc));
		snprintf(why, sizeof(why), "XenStore: %s", strerror(-rc));
		rc = HVT_DAEMON;
		goto fail_stub;
	}
	rc = domid_call(t, HV_CTL_DOMAIN_UNPAUSE, stub.domid);
	if (rc) {
		rc = hvt_fail(t, "unpause vTPM stub domain", rc);
		snprintf(why, sizeof(why), "unpausing stub domain %s failed",
			 p.stub_name);
		goto fail_stub;
	}
	snprintf(be, sizeof(be), "/local/domain/%u/backend/vtpm/%u/%u",
		 stub.domid, g->domid, p.devid);
	/* In manager mode a NEW instance is manufactured and certified by
	 * then (RSA key generation: slow on a loaded host). */
	rc = wait_backend(xs, be, XB_INIT_WAIT,
			  p.managed ? 2 * VTPM_CONNECT_MS : VTPM_CONNECT_MS,
			  err, sizeof(err));
	if (rc) {
		hvt_err("vTPM %u (%s, id=%u) did not start: %s (its console: "
			"hvsec console %s)",
			p.devid, p.stub_name, stub.domid, err, p.stub_name);
		snprintf(why, sizeof(why), "stub %s did not start: %s",
			 p.stub_name, err);
		rc = HVT_DAEMON;
		goto fail_stub;
	}
	audit_create(t, &p, "ok", NULL);
	return 0;
fail_stub:
	domid_call(t, HV_CTL_DOMAIN_DESTROY, stub.domid);
	if (p.attached)
		mgr_detach(&p.mgr, p.uuid, p.ephemeral);
fail_dir:
	if (p.ephemeral)
		remove_dir(p.dir);
	audit_create(t, &p, "failed", why);
	return rc;
}

/* A failure before any vTPM was started: one record for each (the uuid
 * configured, or none for an ephemeral one). */
static void audit_all_failed(struct hvt *t, const struct xlcfg *c,
			     const struct hv_ctl_domain_info *g,
			     const char *why)
{
	char detail[128];

	for (size_t i = 0; i < c->n_vtpms; i++) {
		snprintf(detail, sizeof(detail), "vTPM %zu: %s", i, why);
		hvt_vtpm_audit(t, "create", c->vtpms[i].uuid, g->name, "failed",
			       detail);
	}
}

int hvt_vtpm_setup(struct hvt *t, const struct xlcfg *c,
		   const struct hv_ctl_domain_info *g)
{
	struct hvt_boot_log log;
	struct xs_handle *xs;
	int rc = 0;

	if (!c->n_vtpms)
		return 0;
	/* Measured once, as the guest is loaded: the same log for each of
	 * its vTPMs (docs/measured-boot.md). */
	rc = hvt_boot_log_build(c, &log);
	if (rc) {
		hvt_boot_log_free(&log);
		audit_all_failed(t, c, g, "measuring the boot failed");
		return rc;
	}
	xs = hvt_xs_connect(t);
	if (!xs) {
		hvt_boot_log_free(&log);
		audit_all_failed(t, c, g, "XenStore unreachable");
		return HVT_DAEMON;
	}
	for (size_t i = 0; i < c->n_vtpms && !rc; i++)
		rc = setup_one(t, xs, c, i, g, &log);
	xs_close(xs);
	hvt_boot_log_free(&log);
	return rc;
}

/* ------------------------------------------------------------ teardown */

static size_t read_recs(struct xs_handle *xs, uint32_t g, struct hvt_vtpm_rec *r,
			size_t max)
{
	char dir[64], path[256], val[PATH_MAX];
	unsigned int n = 0;
	char **kids;
	size_t k = 0;

	snprintf(dir, sizeof(dir), "/libxl/%u/device/vtpm", g);
	kids = xs_directory(xs, XBT_NULL, dir, &n);
	for (unsigned i = 0; kids && i < n && k < max; i++) {
		struct hvt_vtpm_rec *x = &r[k];
		uint32_t v;

		memset(x, 0, sizeof(*x));
		if (!hvt_parse_u32(kids[i], 1024, &v))
			continue;
		x->devid = v;
		snprintf(path, sizeof(path), "%s/%s/backend-id", dir, kids[i]);
		if (!hvt_xs_get(xs, path, val, sizeof(val)) ||
		    !hvt_parse_u32(val, UINT32_MAX - 1, &x->be_domid))
			continue;
		snprintf(path, sizeof(path), "%s/%s/stub", dir, kids[i]);
		x->stub = hvt_xs_get(xs, path, val, sizeof(val)) && !strcmp(val, "1");
		snprintf(path, sizeof(path), "%s/%s/ephemeral", dir, kids[i]);
		x->ephemeral =
			hvt_xs_get(xs, path, val, sizeof(val)) && !strcmp(val, "1");
		snprintf(path, sizeof(path), "%s/%s/manager", dir, kids[i]);
		x->managed = hvt_xs_get(xs, path, val, sizeof(val)) &&
			     hvt_parse_u32(val, HV_DOMID_MAX, &x->manager);
		snprintf(path, sizeof(path), "%s/%s/uuid", dir, kids[i]);
		if (!hvt_xs_get(xs, path, x->uuid, sizeof(x->uuid)))
			x->uuid[0] = '\0';
		snprintf(path, sizeof(path), "%s/%s/state-dir", dir, kids[i]);
		if (hvt_xs_get(xs, path, val, sizeof(val)) &&
		    strlen(val) < sizeof(x->dir))
			memcpy(x->dir, val, strlen(val) + 1);
		k++;
	}
	free(kids);
	return k;
}


/* Reads the guest's vTPM records (before it is destroyed). */
int hvt_vtpm_records(struct hvt *t, uint32_t g, struct hvt_vtpm_recs *out)
{
	struct xs_handle *xs;

	memset(out, 0, sizeof(*out));
	out->guest = g;
	xs = hvt_xs_connect(t);
	if (!xs)
		return HVT_DAEMON;
	out->n = read_recs(xs, g, out->rec, HVT_VTPMS_MAX);
	xs_close(xs);
	return 0;
}

/* Manager mode, the stub gone: the manager's backend directory for it
 * and the attachment (an ephemeral instance's key with it).  A manager
 * that is not running any more has nothing to release. */
static void mgr_release(struct hvt *t, const struct hvt_vtpm_rec *r)
{
	struct xs_handle *xs = hvt_xs_connect(t);
	struct hvt_mgr m;
	char path[128];

	if (xs) {
		snprintf(path, sizeof(path),
			 "/local/domain/%u/backend/vtpm/%u", r->manager,
			 r->be_domid);
		xs_rm(xs, XBT_NULL, path);
		xs_close(xs);
	}
	if (!r->uuid[0] || hvt_mgr_find(t, &m) != 0 || m.domid != r->manager)
		return;
	mgr_detach(&m, r->uuid, r->ephemeral);
}

/* Destroys the stub serving r once it stopped by itself (or the time is
 * up), then removes ephemeral state or hands kept state back to root;
 * says which in detail. */
static void stop_stub(struct hvt *t, uint32_t guest,
		      const struct hvt_vtpm_rec *r, char *detail, size_t len)
{
	bool state = r->dir[0] == '/';

	/* The backend sees its frontend gone and powers off. */
	for (int w = 0; w < VTPM_STOP_MS && hvt_domain_alive(t, r->be_domid);
	     w += 20)
		sleep_ms(20);
	domid_call(t, HV_CTL_DOMAIN_DESTROY, r->be_domid);
	if (r->managed)
		mgr_release(t, r);
	if (state && r->ephemeral)
		remove_dir(r->dir);
	else if (state && geteuid() == 0)
		hvt_give_dir(r->dir, 0);
	snprintf(detail, len, "vTPM %u of domain %u: stub %u destroyed, %s%s",
		 r->devid, guest, r->be_domid,
		 !state		? "no state"
		 : r->ephemeral ? "ephemeral state deleted"
				: "state kept in ",
		 state && !r->ephemeral ? r->dir : "");
}

/* After the guest is gone: the stub domains, both directories, the
 * record; ephemeral state removed, kept state handed back to root. */
void hvt_vtpm_teardown(struct hvt *t, const struct hvt_vtpm_recs *recs)
{
	const struct hvt_vtpm_rec *r = recs->rec;
	struct xs_handle *xs = recs->n ? hvt_xs_connect(t) : NULL;
	char path[128], uuid[37], guest[HV_NAME_LEN], detail[PATH_MAX + 64];

	if (!recs->n)
		return;
	for (size_t i = 0; i < recs->n; i++) {
		/* Who it was, for the audit log, before /libxl goes. */
		uuid[0] = guest[0] = '\0';
		if (xs) {
			snprintf(path, sizeof(path),
				 "/libxl/%u/device/vtpm/%u/uuid", recs->guest,
				 r[i].devid);
			if (!hvt_xs_get(xs, path, uuid, sizeof(uuid)))
				uuid[0] = '\0';
			snprintf(path, sizeof(path),
				 "/libxl/%u/device/vtpm/%u/guest-name",
				 recs->guest, r[i].devid);
			if (!hvt_xs_get(xs, path, guest, sizeof(guest)))
				guest[0] = '\0';
			snprintf(path, sizeof(path),
				 "/local/domain/%u/device/vtpm/%u", recs->guest,
				 r[i].devid);
			xs_rm(xs, XBT_NULL, path);
		}
		if (r[i].stub)
			stop_stub(t, recs->guest, &r[i], detail,
				  sizeof(detail));
		else
			snprintf(detail, sizeof(detail),
				 "vTPM %u of domain %u: backend domain %u "
				 "(not ours) left running",
				 r[i].devid, recs->guest, r[i].be_domid);
		hvt_vtpm_audit(t, "destroy", uuid[0] ? uuid : NULL,
			       guest[0] ? guest : NULL, "ok", detail);
	}
	if (xs) {
		snprintf(path, sizeof(path), "/libxl/%u", recs->guest);
		xs_rm(xs, XBT_NULL, path);
		xs_close(xs);
	}
}

/* ------------------------------------------------------------ tcti */

int hvt_cmd_tcti(struct hvt *t, const struct hvt_args *a)
{
	bool swtpm = hvt_opt(a, "swtpm") != NULL;
	struct hv_ctl_domain_info info;
	struct xs_handle *xs;
	char path[128], val[32];
	uint32_t port;
	int rc;

	rc = hvt_domain_lookup(t, a->pos[0], &info);
	if (rc)
		return rc;
	xs = hvt_xs_connect(t);
	if (!xs)
		return HVT_DAEMON;
	snprintf(path, sizeof(path), "/local/domain/%u/data/tpmfront/%s",
		 info.domid, swtpm ? "swtpm-port" : "mssim-port");
	/* Written by the guest: a port number and nothing else. */
	if (!hvt_xs_get(xs, path, val, sizeof(val)) ||
	    !hvt_parse_u32(val, 65535, &port) || !port) {
		hvt_err("%s is not serving its vTPM (no valid %s): is "
			"hvsec-tpmfront running in it?",
			info.name, path);
		xs_close(xs);
		return HVT_NO;
	}
	xs_close(xs);
	printf("%s:host=127.0.0.1,port=%u\n", swtpm ? "swtpm" : "mssim", port);
	return 0;
}
