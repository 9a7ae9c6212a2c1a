/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_vtpm.c - `hvsec vtpm ...`: the host's vTPM trust anchors and what a
 * verifier asks of a guest's vTPM (docs/vtpm.md).  One function per
 * subcommand, each named hvt_cmd_vtpm_SUB, registered in hvsec_main.c:
 *
 *   vtpm ca [--out FILE]   the CA certificate that issues every EK
 *                          certificate (PEM)
 *   vtpm list              every instance: state, guest, files, EKs
 *   vtpm show UUID|GUEST   one instance (or a guest's), EK certificates
 *   vtpm reset UUID|GUEST  a stored instance's volatile state cleared
 *   vtpm delete UUID       an unused instance's state removed for good
 *   vtpm audit             the log of what these did (and refused)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tools/hvsec.h"
#include "vtpm-manager/mgr_ca.h"
#include "vtpm-instance/vtpm.h" /* vtpm_mgr_uuid_parse */
#include "vtpm-manager/mgr_proto.h"

/* ------------------------------------------------------------ helpers */

/* Writes len bytes to path (mode 0644, replaced atomically: a temporary
 * beside it, then rename), or to stdout when path is NULL.  0 or an exit
 * status (reported). */
static int write_out(const char *path, const void *buf, size_t len)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (!path)
		return fwrite(buf, 1, len, stdout) == len ? 0 : HVT_DAEMON;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		hvt_err("%s: path too long", path);
		return HVT_USAGE;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		hvt_err("%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return HVT_USAGE;
	}
	if (fwrite(buf, 1, len, f) != len || fflush(f) || fsync(fileno(f))) {
		hvt_err("%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return HVT_USAGE;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		hvt_err("%s: %s", path, strerror(errno));
		unlink(tmp);
		return HVT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ vtpm ca */

/* The running manager's CA (IDENTITY) as PEM: 0, 1 when no manager is
 * registered, or an exit status (reported). */
static int manager_ca(struct hvt *t, const char *out)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	struct mgr_req req = {.op = MGR_CTL_IDENTITY};
	struct mgr_rsp rsp;
	struct hvt_mgr m;
	const unsigned char *p;
	X509 *x = NULL;
	BIO *bio = NULL;
	char *pem = NULL;
	long len;
	int rc = hvt_mgr_find(t, &m);

	if (rc)
		return rc;
	rc = hvt_mgr_call(&m, &req, &rsp, buf);
	if (rc)
		return rc;
	if (rsp.rc != MGR_RC_OK)
		return hvt_mgr_refused("IDENTITY", &rsp);
	p = rsp.u.identity.ca_cert.data;
	x = d2i_X509(NULL, &p, (long)rsp.u.identity.ca_cert.len);
	bio = BIO_new(BIO_s_mem());
	if (!x || !bio || !PEM_write_bio_X509(bio, x) ||
	    (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		hvt_err("the vTPM manager's CA certificate is not a certificate");
		rc = HVT_DAEMON;
	} else
		rc = write_out(out, pem, (size_t)len);
	BIO_free(bio);
	X509_free(x);
	return rc;
}

int hvt_mgr_ca_save(struct hvt *t, char *path, size_t len)
{
	if (snprintf(path, len, "%s/vtpm-manager-ca.pem", t->run_dir) >=
	    (int)len) {
		hvt_err("run dir path too long");
		return HVT_USAGE;
	}
	return manager_ca(t, path);
}

int hvt_cmd_vtpm_ca(struct hvt *t, const struct hvt_args *a)
{
	const char *out = hvt_opt(a, "out");
	struct mgr_ca *ca = NULL;
	char why[512], path[4096];
	bool created = false;
	size_t len = 0;
	char *pem = NULL;
	int rc;

	if (out && !*out)
		return hvt_usage(a->cmd, "--out: empty file name");
	/* With a manager running, its CA certifies new EKs. */
	rc = manager_ca(t, out);
	if (rc != 1)
		return rc;
	rc = hvt_ca_open(t, &ca, &created);
	if (rc)
		return rc;
	if (created) {
		hvt_ca_path(t, path, sizeof(path));
		hvt_warn("created the vTPM CA %s", path);
	}
	rc = mgr_ca_cert_pem(ca, &pem, &len, why, sizeof(why));
	mgr_ca_free(ca);
	if (rc) {
		hvt_err("vTPM CA certificate: %s", why);
		return HVT_DAEMON;
	}
	rc = write_out(out, pem, len);
	free(pem);
	return rc;
}

/* ------------------------------------------------------------ admin */
/*
 * vtpm list|show|reset|delete|audit: over what exists until the vTPM
 * manager does (hvt_vtpm_admin.c).  Every action that changes something,
 * and every refusal of one, goes to the vTPM audit log.
 */

static void fmt_unix(int64_t s, char *out, size_t len)
{
	time_t tt = (time_t)s;
	struct tm tm;

	if (!s || !gmtime_r(&tt, &tm) ||
	    !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, len, "-");
}

static const char *ek_word(const struct hvt_vinst *v)
{
	if (v->managed)
		return v->mgr_flags & MGR_INST_F_PROVISIONED ? "sealed" : "-";
	if (!v->has_permall)
		return "-";
	if (v->ek[0].present && v->ek[1].present)
		return "rsa,ecc";
	if (v->ek[0].present)
		return "rsa";
	return v->ek[1].present ? "ecc" : "none";
}

/* When the TPM was manufactured: its EK certificates were issued then. */
static const char *provisioned(const struct hvt_vinst *v)
{
	if (v->ek[0].present)
		return v->ek[0].not_before;
	return v->ek[1].present ? v->ek[1].not_before : NULL;
}

static void json_guest(struct hvt_json *j, const struct hvt_vinst *v)
{
	hvt_json_key(j, "guest");
	if (!v->recorded) {
		hvt_json_null(j);
	} else {
		hvt_json_obj(j);
		hvt_json_kstr(j, "name", v->guest_name);
		hvt_json_ku64(j, "domid", v->guest);
		hvt_json_ku64(j, "devid", v->devid);
		hvt_json_kbool(j, "exists", v->guest_exists);
		hvt_json_obj_end(j);
	}
	hvt_json_key(j, "stub");
	if (!v->recorded) {
		hvt_json_null(j);
	} else {
		hvt_json_obj(j);
		hvt_json_kstr(j, "name", v->stub_name);
		hvt_json_ku64(j, "domid", v->stub_id);
		hvt_json_kbool(j, "started_by_hvsec", v->stub);
		hvt_json_kbool(j, "live", v->stub_live);
		hvt_json_obj_end(j);
	}
}

/* known: the records were read (else the state is "unknown"). */
static void json_inst_common(struct hvt_json *j, const struct hvt_vinst *v,
			     bool known)
{
	char when[32];
	const char *p = provisioned(v);

	hvt_json_kstr(j, "uuid", v->uuid);
	hvt_json_kstr(j, "state", known ? hvt_vinst_state(v) : "unknown");
	hvt_json_kbool(j, "ephemeral", v->ephemeral);
	hvt_json_key(j, "dir");
	if (v->has_dir)
		hvt_json_str(j, v->dir);
	else
		hvt_json_null(j);
	json_guest(j, v);
	hvt_json_kbool(j, "permall", v->has_permall);
	hvt_json_ku64(j, "permall_bytes", v->permall_size);
	hvt_json_kbool(j, "state_valid", v->state_valid);
	fmt_unix(v->mtime, when, sizeof(when));
	hvt_json_key(j, "modified");
	if (v->mtime)
		hvt_json_str(j, when);
	else
		hvt_json_null(j);
	hvt_json_kbool(j, "ek_rsa", v->ek[0].present);
	hvt_json_kbool(j, "ek_ecc", v->ek[1].present);
	hvt_json_key(j, "provisioned");
	if (p)
		hvt_json_str(j, p);
	else
		hvt_json_null(j);
	hvt_json_key(j, "provision_us");
	if (v->provision_us)
		hvt_json_u64(j, v->provision_us);
	else
		hvt_json_null(j);
	hvt_json_key(j, "manager");
	if (!v->managed) {
		hvt_json_null(j);
		return;
	}
	hvt_json_obj(j);
	hvt_json_ku64(j, "flags", v->mgr_flags);
	hvt_json_kbool(j, "open", v->mgr_open);
	hvt_json_kstr(j, "domain", v->mgr_domain);
	hvt_json_kstr(j, "label", v->mgr_label);
	hvt_json_key(j, "generation");
	hvt_json_arr(j);
	for (unsigned i = 0; i < 3; i++)
		hvt_json_u64(j, v->generation[i]);
	hvt_json_arr_end(j);
	hvt_json_obj_end(j);
}

static int instances(struct hvt *t, struct hvt_vinsts *vs, bool need_daemon)
{
	int rc = hvt_vtpm_instances(t, vs);

	if (rc && need_daemon)
		hvt_err("cannot tell which guests use their vTPMs without "
			"hvsecd and its XenStore");
	return rc;
}

int hvt_cmd_vtpm_list(struct hvt *t, const struct hvt_args *a)
{
	struct hvt_vinsts vs;
	struct hvt_json j;
	int rc;

	(void)a;
	rc = instances(t, &vs, false);
	if (rc)
		hvt_warn("showing the state directories only (state unknown)");
	if (t->json) {
		hvt_json_init(&j, stdout);
		hvt_json_arr(&j);
		for (size_t i = 0; i < vs.n; i++) {
			hvt_json_obj(&j);
			json_inst_common(&j, &vs.v[i], vs.daemon);
			hvt_json_obj_end(&j);
		}
		hvt_json_arr_end(&j);
		hvt_json_end(&j);
		hvt_vinsts_free(&vs);
		return rc;
	}
	printf("%-36s  %-17s  %-22s  %-22s  %8s  %-20s  %-7s  %-20s  %s\n",
	       "UUID", "State", "Guest", "Stub", "Permall", "Modified", "EK",
	       "Provisioned", "Dir");
	for (size_t i = 0; i < vs.n; i++) {
		const struct hvt_vinst *v = &vs.v[i];
		char g[HV_NAME_LEN + 16] = "-", s[HV_NAME_LEN + 16] = "-";
		char when[32], size[24] = "-";
		const char *p = provisioned(v);

		if (hvt_vinst_in_use(v)) {
			snprintf(g, sizeof(g), "%s (%u)", v->guest_name,
				 v->guest);
			snprintf(s, sizeof(s), "%s (%u)", v->stub_name,
				 v->stub_id);
		}
		if (v->has_permall)
			snprintf(size, sizeof(size), "%llu",
				 (unsigned long long)v->permall_size);
		fmt_unix(v->mtime, when, sizeof(when));
		printf("%-36s  %-17s  %-22s  %-22s  %8s  %-20s  %-7s  %-20s  "
		       "%s\n",
		       v->uuid, rc ? "?" : hvt_vinst_state(v), g, s, size,
		       when, ek_word(v), p ? p : "-",
		       v->has_dir ? v->dir : "-");
	}
	hvt_vinsts_free(&vs);
	return rc;
}

/* ------------------------------------------------------------ show */

/* The instances ARG names: a UUID, or a guest (its vTPMs, or device
 * --devid).  Indices into vs; 0, or an exit status (reported). */
static int select_insts(struct hvt *t, const struct hvt_vinsts *vs,
			const char *arg, const char *devid_s, size_t *idx,
			size_t *n)
{
	struct hv_ctl_domain_info g;
	uint32_t devid = 0;
	int rc;

	*n = 0;
	if (hvt_uuid_valid(arg)) {
		for (size_t i = 0; i < vs->n; i++)
			if (!strcasecmp(vs->v[i].uuid, arg))
				idx[(*n)++] = i;
		if (!*n) {
			hvt_err("no vTPM %s (hvsec vtpm list)", arg);
			return HVT_USAGE;
		}
		return 0;
	}
	if (devid_s && !hvt_parse_u32(devid_s, 1024, &devid)) {
		hvt_err("--devid: '%s' is not a device number", devid_s);
		return HVT_USAGE;
	}
	rc = hvt_domain_lookup(t, arg, &g);
	if (rc)
		return rc;
	for (size_t i = 0; i < vs->n && *n < HVT_VTPMS_MAX; i++)
		if (vs->v[i].recorded && vs->v[i].guest == g.domid &&
		    (!devid_s || vs->v[i].devid == devid))
			idx[(*n)++] = i;
	if (!*n) {
		hvt_err("%s (%u) has no vTPM%s%s", g.name, g.domid,
			devid_s ? " " : "", devid_s ? devid_s : "");
		return HVT_NO;
	}
	return 0;
}

static void show_ek(const char *what, const struct hvt_ek_cert *c)
{
	if (!c->present) {
		printf("  %-13s none found in the state\n", what);
		return;
	}
	printf("  %-13s %s, certificate NV %s\n", what, c->key,
	       c->key[0] == 'R' ? "0x01c00002" : "0x01c0000a");
	printf("    %-11s %s\n", "subject", c->subject[0] ? c->subject : "(empty)");
	printf("    %-11s %s\n", "issuer", c->issuer);
	printf("    %-11s %s\n", "serial", c->serial);
	printf("    %-11s %s to %s\n", "valid", c->not_before, c->not_after);
	printf("    %-11s %s\n", "key sha256", c->spki_sha256);
}

static void json_ek(struct hvt_json *j, const char *k,
		    const struct hvt_ek_cert *c)
{
	hvt_json_key(j, k);
	if (!c->present) {
		hvt_json_null(j);
		return;
	}
	hvt_json_obj(j);
	hvt_json_kstr(j, "key", c->key);
	hvt_json_kstr(j, "subject", c->subject);
	hvt_json_kstr(j, "issuer", c->issuer);
	hvt_json_kstr(j, "serial", c->serial);
	hvt_json_kstr(j, "not_before", c->not_before);
	hvt_json_kstr(j, "not_after", c->not_after);
	hvt_json_kstr(j, "key_sha256", c->spki_sha256);
	hvt_json_obj_end(j);
}

static void show_text(const struct hvt_vinst *v, bool known)
{
	char when[32];

	fmt_unix(v->mtime, when, sizeof(when));
	printf("vTPM %s\n", v->uuid);
	if (hvt_vinst_in_use(v))
		printf("  %-13s %s for guest %s (%u), device %u, via %s %s "
		       "(%u)%s\n",
		       "state", hvt_vinst_state(v), v->guest_name, v->guest,
		       v->devid, v->stub ? "stub domain" : "backend domain",
		       v->stub_name, v->stub_id,
		       v->stub_live ? "" : " (not running)");
	else
		printf("  %-13s %s\n", "state",
		       known ? hvt_vinst_state(v) : "unknown (no hvsecd)");
	printf("  %-13s %s\n", "state dir", v->has_dir ? v->dir : "-");
	if (v->managed) {
		printf("  %-13s sealed by the vTPM manager; bound to domain %s, "
		       "label %s%s%s\n",
		       "manager", v->mgr_domain, v->mgr_label,
		       v->mgr_open ? "; open" : "",
		       v->mgr_flags & MGR_INST_F_MIGRATED ? "; migrated" : "");
		printf("  %-13s permall %llu, volatilestate %llu, savestate "
		       "%llu\n",
		       "generations", (unsigned long long)v->generation[0],
		       (unsigned long long)v->generation[1],
		       (unsigned long long)v->generation[2]);
		printf("  %-13s in the sealed state (tpm2_nvread 0x01c00002 "
		       "in the guest)\n",
		       "EK certs");
		return;
	}
	if (v->has_permall)
		printf("  %-13s %llu bytes, modified %s, %s\n", "permall",
		       (unsigned long long)v->permall_size, when,
		       v->state_valid ? "header and CRC valid"
				      : "NOT valid (the instance cannot start)");
	else
		printf("  %-13s none (no TPM made yet)\n", "permall");
	if (provisioned(v))
		printf("  %-13s %s\n", "provisioned", provisioned(v));
	if (v->provision_us)
		printf("  %-13s %.1f ms (by this guest's create)\n",
		       "manufacture", (double)v->provision_us / 1000.0);
	if (v->boot_log_sha256[0])
		printf("  %-13s sha256 %s\n", "boot log", v->boot_log_sha256);
	show_ek("EK RSA", &v->ek[0]);
	show_ek("EK ECC", &v->ek[1]);
}

int hvt_cmd_vtpm_show(struct hvt *t, const struct hvt_args *a)
{
	size_t idx[HVT_VTPMS_MAX], n = 0;
	struct hvt_vinsts vs;
	struct hvt_json j;
	int rc, drc;

	drc = instances(t, &vs, false);
	if (drc && !hvt_uuid_valid(a->pos[0])) {
		hvt_vinsts_free(&vs);
		return drc;
	}
	rc = select_insts(t, &vs, a->pos[0], hvt_opt(a, "devid"), idx, &n);
	if (rc) {
		hvt_vinsts_free(&vs);
		return rc;
	}
	if (drc)
		hvt_warn("without hvsecd, whether a guest uses it is unknown");
	if (t->json) {
		hvt_json_init(&j, stdout);
		hvt_json_arr(&j);
	}
	for (size_t k = 0; k < n; k++) {
		const struct hvt_vinst *v = &vs.v[idx[k]];

		if (!t->json) {
			if (k)
				printf("\n");
			show_text(v, vs.daemon);
			continue;
		}
		hvt_json_obj(&j);
		json_inst_common(&j, v, vs.daemon);
		hvt_json_kbool(&j, "volatile_state", v->has_volatile);
		hvt_json_key(&j, "boot_log_sha256");
		if (v->boot_log_sha256[0])
			hvt_json_str(&j, v->boot_log_sha256);
		else
			hvt_json_null(&j);
		json_ek(&j, "ek_rsa_cert", &v->ek[0]);
		json_ek(&j, "ek_ecc_cert", &v->ek[1]);
		hvt_json_obj_end(&j);
	}
	if (t->json) {
		hvt_json_arr_end(&j);
		hvt_json_end(&j);
	}
	hvt_vinsts_free(&vs);
	return drc;
}

/* ------------------------------------------------------------ reset, delete */

/* The directory, held with the store's own lock (an exclusive flock on
 * the directory, docs/formats.md §5): while we hold it no vTPM can run on
 * this state, whatever the records say.  fd, or -errno (-EBUSY: a TPM
 * runs on it). */
static int lock_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	return fd;
}

/* What a state directory may hold: the store's files, their temporaries
 * (.NAME.tmp...) and the toolstack's boot log. */
static bool known_file(const char *name)
{
	static const char *const names[] = {
		"permall",     "volatilestate",	    "savestate",     HVT_BOOT_LOG,
		"permall.new", "volatilestate.new", "savestate.new"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return name[0] == '.' && strstr(name, ".tmp");
}

/* The first entry that is not a known regular file, or "" . */
static int odd_entry(int dfd, char *out, size_t len)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	struct stat st;

	out[0] = '\0';
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d)) && !out[0]) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || !known_file(e->d_name))
			snprintf(out, len, "%s", e->d_name);
	}
	rewinddir(d);
	closedir(d);
	return 0;
}

static int empty_dir(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	struct stat st;
	int rc = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* Nothing is followed: a link is removed, not its target. */
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    unlinkat(dfd, e->d_name,
			     S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
			if (!rc)
				rc = -errno;
	}
	closedir(d);
	return rc;
}

static const struct hvt_vinst *find_uuid(const struct hvt_vinsts *vs,
					 const char *uuid)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcasecmp(vs->v[i].uuid, uuid))
			return &vs->v[i];
	return NULL;
}

static int refuse_in_use(const struct hvt *t, const char *op,
			 const struct hvt_vinst *v, const char *what)
{
	char why[512];

	snprintf(why, sizeof(why),
		 "in use by guest %s (%u), device %u, via %s (%u)",
		 v->guest_name, v->guest, v->devid, v->stub_name, v->stub_id);
	hvt_err("vTPM %s is %s: %s", v->uuid, why, what);
	hvt_vtpm_audit(t, op, v->uuid, v->guest_name, "refused", why);
	return HVT_NO;
}

/* Asks on the terminal; false unless the answer is "yes". */
static bool confirm(const char *uuid)
{
	char line[16];

	fprintf(stderr,
		"Delete vTPM %s for good? Its TPM state and its endorsement "
		"identity (EKs and their certificates) cannot be recovered.\n"
		"Type 'yes' to delete: ",
		uuid);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\n")] = '\0';
	return !strcmp(line, "yes");
}

/* DELETE or RESET at the manager (the files are the caller's). */
static int manager_forget(struct hvt *t, uint32_t op,
			  const struct hvt_vinst *v)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	const char *what = op == MGR_CTL_DELETE ? "delete" : "reset";
	struct mgr_req req = {.op = op};
	struct mgr_rsp rsp;
	struct hvt_mgr m;
	char why[MGR_MSG_MAX + 64];
	int rc = hvt_mgr_find(t, &m);

	if (rc == 1)
		hvt_err("vTPM %s is sealed by the vTPM manager, which is not "
			"running (hvsec vtpm manager start)",
			v->uuid);
	if (rc) {
		hvt_vtpm_audit(t, what, v->uuid, NULL, "failed",
			       "vTPM manager not running");
		return rc == 1 ? HVT_NO : rc;
	}
	if (vtpm_mgr_uuid_parse(v->uuid, &req.u.target.uuid))
		return HVT_USAGE;
	rc = hvt_mgr_call(&m, &req, &rsp, buf);
	if (rc) {
		hvt_vtpm_audit(t, what, v->uuid, NULL, "failed",
			       "vTPM manager did not answer");
		return rc;
	}
	if (rsp.rc != MGR_RC_OK) {
		snprintf(why, sizeof(why), "manager: %s: %s",
			 mgr_rc_str(rsp.rc), rsp.msg);
		hvt_vtpm_audit(t, what, v->uuid, NULL, "refused", why);
		return hvt_mgr_refused(what, &rsp);
	}
	return 0;
}

/* The sealed blobs of a reset instance: a NEW instance deletes them at
 * its next start anyway; remove them now so nothing stale lies there. */
static void remove_blobs(const char *dir)
{
	static const char *const names[] = {
		"permall",     "volatilestate",	    "savestate",
		"permall.new", "volatilestate.new", "savestate.new"};
	int fd = lock_dir(dir);

	if (fd < 0)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlinkat(fd, names[i], 0);
	close(fd);
}

int hvt_cmd_vtpm_delete(struct hvt *t, const struct hvt_args *a)
{
	const char *uuid = a->pos[0];
	bool force = hvt_opt(a, "force") != NULL;
	char odd[256], gone[HVT_PATH_MAX], why[HVT_PATH_MAX + 400];
	const struct hvt_vinst *v;
	struct hvt_vinsts vs;
	char *slash;
	int rc, fd = -1;

	if (!hvt_uuid_valid(uuid))
		return hvt_usage(a->cmd, "'%s' is not a vTPM UUID", uuid);
	if (!hvt_opt(a, "yes") && !isatty(STDIN_FILENO))
		return hvt_usage(a->cmd, "--yes is required when not asked "
					 "on a terminal");
	rc = instances(t, &vs, true);
	if (rc) {
		hvt_vtpm_audit(t, "delete", uuid, NULL, "failed",
			       "hvsecd unreachable: use unknown");
		goto out;
	}
	v = find_uuid(&vs, uuid);
	if (v && hvt_vinst_in_use(v)) {
		rc = refuse_in_use(t, "delete", v,
				   "destroy the guest first (hvsec destroy)");
		goto out;
	}
	if (v && v->managed) {
		rc = manager_forget(t, MGR_CTL_DELETE, v);
		if (rc || !v->has_dir)
			goto out;
	}
	if (!v || !v->has_dir) {
		hvt_err("no vTPM state directory for %s (hvsec vtpm list)",
			uuid);
		hvt_vtpm_audit(t, "delete", uuid, NULL, "failed", "no such vTPM");
		rc = HVT_USAGE;
		goto out;
	}
	if (!hvt_opt(a, "yes") && !confirm(uuid)) {
		printf("vTPM %s not deleted\n", uuid);
		rc = HVT_NO;
		goto out;
	}
	fd = lock_dir(v->dir);
	if (fd < 0) {
		snprintf(why, sizeof(why), "%s: %s", v->dir,
			 fd == -EBUSY ? "a vTPM is running on this state"
				      : strerror(-fd));
		hvt_err("vTPM %s not deleted: %s", uuid, why);
		hvt_vtpm_audit(t, "delete", uuid, NULL,
			       fd == -EBUSY ? "refused" : "failed", why);
		rc = fd == -EBUSY ? HVT_NO : HVT_DAEMON;
		goto out;
	}
	if (odd_entry(fd, odd, sizeof(odd)) == 0 && odd[0] && !force) {
		snprintf(why, sizeof(why),
			 "%s holds '%s', which is not vTPM state", v->dir, odd);
		hvt_err("vTPM %s not deleted: %s (--force deletes it anyway)",
			uuid, why);
		hvt_vtpm_audit(t, "delete", uuid, NULL, "refused", why);
		rc = HVT_NO;
		goto out;
	}
	/* Out of the instances' namespace first (one rename, under the
	 * lock): a create racing us makes a new directory, never reuses
	 * half of this one. */
	snprintf(gone, sizeof(gone), "%s", v->dir);
	slash = strrchr(gone, '/');
	if (!slash || snprintf(slash + 1, sizeof(gone) - (size_t)(slash + 1 - gone),
			       ".deleting-%s", uuid) >=
			      (int)(sizeof(gone) - (size_t)(slash + 1 - gone))) {
		rc = HVT_USAGE;
		goto out;
	}
	if (rename(v->dir, gone) < 0) {
		snprintf(why, sizeof(why), "%s: %s", v->dir, strerror(errno));
		hvt_err("vTPM %s not deleted: %s", uuid, why);
		hvt_vtpm_audit(t, "delete", uuid, NULL, "failed", why);
		rc = HVT_DAEMON;
		goto out;
	}
	rc = empty_dir(fd);
	if (!rc && rmdir(gone) < 0)
		rc = -errno;
	if (rc) {
		snprintf(why, sizeof(why), "%s: %s (moved there, not removed)",
			 gone, strerror(-rc));
		hvt_err("vTPM %s: %s", uuid, why);
		hvt_vtpm_audit(t, "delete", uuid, NULL, "failed", why);
		rc = HVT_DAEMON;
		goto out;
	}
	printf("vTPM %s deleted: its state and its endorsement identity (EKs "
	       "and their certificates) are gone for good; a guest with "
	       "uuid=%s gets a new TPM at its next create\n",
	       uuid, uuid);
	hvt_vtpm_audit(t, "delete", uuid, NULL, "ok", v->dir);
out:
	if (fd >= 0)
		close(fd);
	hvt_vinsts_free(&vs);
	return rc;
}

/* A stored instance: its volatile state goes, so its next power-on
 * starts from permall alone (a running one resets with its guest). */
static int reset_one(const struct hvt *t, const struct hvt_vinst *v)
{
	static const char *const names[] = {"volatilestate", "savestate"};
	char why[HVT_PATH_MAX + 128], removed[64] = "";
	int fd, rc = 0;

	if (!v->has_dir || !v->has_permall) {
		hvt_err("vTPM %s has no TPM state to reset", v->uuid);
		hvt_vtpm_audit(t, "reset", v->uuid, NULL, "failed", "no state");
		return HVT_USAGE;
	}
	fd = lock_dir(v->dir);
	if (fd < 0) {
		snprintf(why, sizeof(why), "%s: %s", v->dir,
			 fd == -EBUSY ? "a vTPM is running on this state"
				      : strerror(-fd));
		hvt_err("vTPM %s not reset: %s", v->uuid, why);
		hvt_vtpm_audit(t, "reset", v->uuid, NULL,
			       fd == -EBUSY ? "refused" : "failed", why);
		return fd == -EBUSY ? HVT_NO : HVT_DAEMON;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (unlinkat(fd, names[i], 0) == 0)
			snprintf(removed + strlen(removed),
				 sizeof(removed) - strlen(removed), "%s%s",
				 removed[0] ? " " : "", names[i]);
		else if (errno != ENOENT && !rc)
			rc = -errno;
	}
	close(fd);
	if (rc) {
		snprintf(why, sizeof(why), "%s: %s", v->dir, strerror(-rc));
		hvt_err("vTPM %s not reset: %s", v->uuid, why);
		hvt_vtpm_audit(t, "reset", v->uuid, NULL, "failed", why);
		return HVT_DAEMON;
	}
	printf("vTPM %s reset: %s; its next start is a power-on from its "
	       "permanent state (PCRs zero, NV and EKs kept)\n",
	       v->uuid, removed[0] ? "volatile state removed" :
				     "no volatile state was kept");
	hvt_vtpm_audit(t, "reset", v->uuid, NULL, "ok",
		       removed[0] ? removed : "nothing to remove");
	return 0;
}

int hvt_cmd_vtpm_reset(struct hvt *t, const struct hvt_args *a)
{
	size_t idx[HVT_VTPMS_MAX], n = 0;
	struct hvt_vinsts vs;
	int rc;

	rc = instances(t, &vs, true);
	if (rc) {
		hvt_vtpm_audit(t, "reset",
			       hvt_uuid_valid(a->pos[0]) ? a->pos[0] : NULL,
			       hvt_uuid_valid(a->pos[0]) ? NULL : a->pos[0],
			       "failed", "hvsecd unreachable: use unknown");
		goto out;
	}
	rc = select_insts(t, &vs, a->pos[0], hvt_opt(a, "devid"), idx, &n);
	for (size_t k = 0; !rc && k < n; k++) {
		const struct hvt_vinst *v = &vs.v[idx[k]];

		if (hvt_vinst_in_use(v))
			rc = refuse_in_use(
				t, "reset", v,
				"a running guest's vTPM resets with the guest "
				"(hvsec destroy, then hvsec create: PCRs start "
				"from zero, NV and EKs are kept)");
		else if (v->managed) {
			/* The manager's RESET forgets the committed states:
			 * the next start manufactures a new TPM. */
			rc = manager_forget(t, MGR_CTL_RESET, v);
			if (!rc && v->has_dir)
				remove_blobs(v->dir);
			if (!rc) {
				printf("vTPM %s reset by the vTPM manager: its "
				       "states are gone; its next start makes "
				       "a new TPM (new EKs and certificates)\n",
				       v->uuid);
				hvt_vtpm_audit(t, "reset", v->uuid, NULL, "ok",
					       "manager RESET");
			}
		} else
			rc = reset_one(t, v);
	}
out:
	hvt_vinsts_free(&vs);
	return rc;
}

/* ------------------------------------------------------------ audit */

struct audit_rec {
	char time[32], op[16], uuid[40], guest[HV_NAME_LEN], result[16];
	char detail[520];
};

static void audit_cb(void *ctx, const char *path, enum hvt_jtype ty,
		     const char *value)
{
	struct audit_rec *r = ctx;
	const char *v = ty == HVT_J_NULL ? "-" : value;

	if (!strcmp(path, "time"))
		snprintf(r->time, sizeof(r->time), "%s", v);
	else if (!strcmp(path, "op"))
		snprintf(r->op, sizeof(r->op), "%s", v);
	else if (!strcmp(path, "uuid"))
		snprintf(r->uuid, sizeof(r->uuid), "%s", v);
	else if (!strcmp(path, "guest"))
		snprintf(r->guest, sizeof(r->guest), "%s", v);
	else if (!strcmp(path, "result"))
		snprintf(r->result, sizeof(r->result), "%s", v);
	else if (!strcmp(path, "detail"))
		snprintf(r->detail, sizeof(r->detail), "%s", v);
}

int hvt_cmd_vtpm_audit(struct hvt *t, const struct hvt_args *a)
{
	const char *lines_s = hvt_opt(a, "lines");
	char path[HVT_PATH_MAX], *line = NULL;
	size_t cap = 0, total = 0, skip = 0, no = 0;
	uint32_t last = 0;
	ssize_t len;
	FILE *f;

	if (lines_s && !hvt_parse_u32(lines_s, UINT32_MAX - 1, &last))
		return hvt_usage(a->cmd, "--lines: '%s' is not a number",
				 lines_s);
	hvt_vtpm_audit_path(t, path, sizeof(path));
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* nothing was ever done */
		hvt_err("%s: %s", path, strerror(errno));
		return HVT_DAEMON;
	}
	while ((len = getline(&line, &cap, f)) > 0)
		total++;
	if (lines_s && total > last)
		skip = total - last;
	rewind(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		struct audit_rec r;

		no++;
		if (no <= skip)
			continue;
		memset(&r, 0, sizeof(r));
		if (hvt_jsonr_walk(line, (size_t)len, audit_cb, &r) < 0) {
			hvt_warn("%s:%zu: not a JSON record, skipped", path, no);
			continue;
		}
		if (t->json)
			fputs(line, stdout);
		else
			printf("%s  %-6s  %-36s  %-12s  %-7s  %s\n", r.time,
			       r.op, r.uuid[0] ? r.uuid : "-",
			       r.guest[0] ? r.guest : "-", r.result, r.detail);
	}
	free(line);
	fclose(f);
	return 0;
}
