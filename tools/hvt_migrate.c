/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_migrate.c - moving a vTPM instance between two managers
 * (docs/formats.md §8):
 *
 *   hvsec vtpm export NAME|UUID --to DEST.pub -o FILE [--yes]
 *   hvsec vtpm import FILE [--from SOURCE.pub]
 *   hvsec vtpm manager pubkey [-o FILE] [--der]   (hvt_mgr_pubkey, called
 *                                                 by `vtpm manager`)
 *
 * The manager's key holder makes and opens the bundle (mgr_migrate.h):
 * the instance's key and committed refs, encrypted to the destination
 * manager's identity and signed by the source's.  This file carries the
 * instance's state blobs beside it, as they are on disk (already
 * AES-GCM under the instance key, named by generation and tag in the
 * refs), in an export file (mgr_xfile.h, formats.md §8.3): magic, uuid, the
 * bundle, each blob file, a SHA-256 over all of it.  The digest catches
 * accidents early, before anything is imported; what catches an attacker
 * is the bundle's signature and, for the blobs, their GCM tags checked
 * against the refs the bundle carries when the instance first opens.
 *
 * Order of effects, so that no failure loses the instance:
 *   export: everything readable is read and the output file's temporary
 *           created first; then EXPORT (the source commits MIGRATED: from
 *           here the instance never runs there again and its blobs cannot
 *           change); then the blobs are read again (the authoritative
 *           copy) and the file is written durably (temporary, fsync,
 *           rename, fsync of the directory).  The source's state
 *           directory is left as it is.
 *   import: the whole file is checked (digest, structure, every blob's
 *           header names this instance, the bundle's signature, the
 *           destination is this manager) before anything is written; the
 *           blobs are written into the new state directory (as
 *           vtpm_store_file.c writes: .NAME.tmp O_EXCL|O_NOFOLLOW 0600,
 *           fsync, rename, fsync the directory); then IMPORT.  If IMPORT
 *           is refused, the files written are removed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tools/hvsec.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_proto.h"
#include "vtpm-manager/mgr_seal.h"
#include "vtpm-manager/mgr_xfile.h"

#define PUBKEY_FILE_MAX 8192u

/* The blob files read from a state directory: x.f[i].data points into
 * owned[i]. */
struct blobs {
	struct mgr_xfile x;
	uint8_t *owned[MGR_XFILE_FILES_MAX];
};

static void fpr_hex(const uint8_t fpr[MGR_FPR_LEN], char out[65])
{
	for (unsigned i = 0; i < MGR_FPR_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", fpr[i]);
}

/* ------------------------------------------------------------- files */

/* A whole regular file, at most max bytes; *out malloc'd.  0 or -errno
 * (-EFBIG: too large). */
static int read_whole(int dirfd, const char *path, size_t max, uint8_t **out,
		      size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t off = 0;
	int fd, rc;

	*out = NULL;
	*len = 0;
	fd = openat(dirfd, path,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	rc = -EINVAL;
	if (!S_ISREG(st.st_mode))
		goto out;
	rc = -EFBIG;
	if ((uint64_t)st.st_size > max)
		goto out;
	rc = -ENOMEM;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	/* One byte more than the size, to notice a file that grows. */
	for (;;) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size + 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > (size_t)st.st_size) {
			rc = -EFBIG;
			goto out;
		}
	}
	*out = buf;
	*len = off;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int fsync_dir(int dirfd)
{
	return fsync(dirfd) < 0 ? -errno : 0;
}

/* NAME in dirfd replaced atomically and durably, mode `mode`. */
static int write_atomic(int dirfd, const char *name, const uint8_t *data,
			size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	size_t off = 0;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dirfd, tmp, 0); /* a crashed run's; O_EXCL then holds */
	fd = openat(dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	return fsync_dir(dirfd);
}

/* A path's directory opened (O_DIRECTORY) and its last component. */
static int open_parent(const char *path, char *base, size_t base_len)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		slash = path - 1;
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path),
			    path) >= (int)sizeof(dir)) {
		return -ENAMETOOLONG;
	}
	if (!slash[1] ||
	    snprintf(base, base_len, "%s", slash + 1) >= (int)base_len)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int write_file_atomic(const char *path, const uint8_t *data, size_t len,
			     mode_t mode)
{
	char base[NAME_MAX + 1];
	int dfd = open_parent(path, base, sizeof(base)), rc;

	if (dfd < 0)
		return dfd;
	rc = write_atomic(dfd, base, data, len, mode);
	close(dfd);
	return rc;
}

/* A public key file: DER SubjectPublicKeyInfo or PEM "PUBLIC KEY",
 * checked to be the canonical P-256 form.  0 or an exit status
 * (reported). */
static int read_pubkey(const char *opt, const char *path, uint8_t *der,
		       size_t *der_len, uint8_t fpr[MGR_FPR_LEN])
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256];
	int rc = read_whole(AT_FDCWD, path, PUBKEY_FILE_MAX, &buf, &len);

	if (rc) {
		hvt_err("%s %s: %s", opt, path,
			rc == -EFBIG ? "too large for a public key"
				     : strerror(-rc));
		return HVT_USAGE;
	}
	if (len > 10 && !memcmp(buf, "-----BEGIN", 10)) {
		BIO *bio = BIO_new_mem_buf(buf, (int)len);
		EVP_PKEY *k =
			bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		unsigned char *d = NULL;
		int n = k ? i2d_PUBKEY(k, &d) : -1;

		if (n > 0 && (size_t)n <= MGR_PUBKEY_MAX) {
			memcpy(der, d, (size_t)n);
			*der_len = (size_t)n;
		} else {
			*der_len = 0;
		}
		OPENSSL_free(d);
		EVP_PKEY_free(k);
		BIO_free(bio);
		if (!*der_len) {
			hvt_err("%s %s: not a PEM public key", opt, path);
			free(buf);
			return HVT_USAGE;
		}
	} else if (len <= MGR_PUBKEY_MAX) {
		memcpy(der, buf, len);
		*der_len = len;
	} else {
		*der_len = 0;
	}
	free(buf);
	if (mgr_ident_check_public(der, *der_len, fpr, why, sizeof(why))) {
		hvt_err("%s %s: not a manager's public key (%s)", opt, path,
			why);
		return HVT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------ state blobs */

static void blobs_free(struct blobs *b)
{
	for (unsigned i = 0; i < MGR_XFILE_FILES_MAX; i++) {
		free(b->owned[i]);
		b->owned[i] = NULL;
	}
	b->x.n = 0;
}

/* Every state file of the instance (N and N.new for each name) that
 * exists in dir, checked to be this instance's sealed blobs (b->x.uuid
 * set by the caller).  0 or an exit status (reported). */
static int blobs_read(const char *dir, struct blobs *b)
{
	char why[256], fname[32];
	int dfd, rc = 0;

	blobs_free(b);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		hvt_err("vTPM state directory %s: %s", dir, strerror(errno));
		return HVT_USAGE;
	}
	for (unsigned name = MGR_STATE_PERMALL; name <= MGR_STATE_SAVESTATE;
	     name++) {
		for (unsigned pend = 0; pend < 2; pend++) {
			struct mgr_xfile_blob *f = &b->x.f[b->x.n];
			uint8_t **data = &b->owned[b->x.n];

			f->name = (enum mgr_state_name)name;
			f->pending = pend;
			mgr_xfile_blob_name(f, fname, sizeof(fname));
			rc = read_whole(dfd, fname, MGR_XFILE_BLOB_MAX, data,
					&f->len);
			if (rc == -ENOENT) {
				rc = 0;
				continue;
			}
			if (rc) {
				hvt_err("%s/%s: %s", dir, fname,
					rc == -EFBIG ? "larger than a state "
						       "blob can be"
						     : strerror(-rc));
				rc = HVT_USAGE;
				goto out;
			}
			f->data = *data;
			b->x.n++;
			if (mgr_xfile_blob_check(&b->x.uuid, f, why,
						 sizeof(why))) {
				hvt_err("%s: %s (is this a manager-mode "
					"instance?)",
					dir, why);
				rc = HVT_USAGE;
				goto out;
			}
		}
	}
out:
	close(dfd);
	if (rc)
		blobs_free(b);
	return rc;
}

/* ------------------------------------------------------------ helpers */

static bool uuid_parse(const char *s, struct mgr_uuid *u)
{
	unsigned n = 0;

	if (!hvt_uuid_valid(s))
		return false;
	for (const char *p = s; *p && n < 32; p++) {
		unsigned v;

		if (*p == '-')
			continue;
		v = *p <= '9' ? (unsigned)(*p - '0')
			      : (unsigned)((*p | 0x20) - 'a' + 10);
		if (n % 2 == 0)
			u->b[n / 2] = (uint8_t)(v << 4);
		else
			u->b[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32;
}

static bool confirm_export(const char *uuid)
{
	char line[16];

	fprintf(stderr,
		"Export vTPM %s? This manager marks it migrated and will never "
		"run it again; only the destination manager can.\n"
		"Type 'yes' to export: ",
		uuid);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\n")] = '\0';
	return !strcmp(line, "yes");
}

/* The vTPM a NAME|UUID argument names, for export: a UUID as it is; a
 * guest only when it is not running (its record then names the vTPM). */
static int export_target(struct hvt *t, const struct hvt_args *a, char uuid[37])
{
	const char *w = a->pos[0];
	struct hv_ctl_domain_info info;
	struct hvt_vtpm_recs recs;
	int rc;

	if (hvt_uuid_valid(w)) {
		snprintf(uuid, 37, "%s", w);
		for (int i = 0; i < 36; i++)
			uuid[i] = (char)(uuid[i] | (uuid[i] >= 'A' ? 0x20 : 0));
		return 0;
	}
	rc = hvt_domain_lookup(t, w, &info);
	if (rc) {
		hvt_err("export: give the vTPM's UUID (hvsec vtpm list) when "
			"its guest does not exist");
		return rc;
	}
	if (hvt_domain_live(&info)) {
		hvt_err("export: guest %s (domain %u) is running: destroy it "
			"first (hvsec destroy %s); a vTPM moves only while its "
			"guest is stopped",
			info.name, info.domid, info.name);
		return HVT_NO;
	}
	rc = hvt_vtpm_records(t, info.domid, &recs);
	if (rc)
		return rc;
	if (!recs.n || !hvt_uuid_valid(recs.rec[0].uuid)) {
		hvt_err("export: %s has no vTPM with a UUID", info.name);
		return HVT_USAGE;
	}
	snprintf(uuid, 37, "%s", recs.rec[0].uuid);
	return 0;
}

/* ------------------------------------------------------------- export */

int hvt_cmd_vtpm_export(struct hvt *t, const struct hvt_args *a)
{
	const char *to = hvt_opt(a, "to"), *outp = hvt_opt(a, "out");
	uint8_t dest[MGR_PUBKEY_MAX], dest_fpr[MGR_FPR_LEN], *rbuf = NULL;
	uint8_t *bundle = NULL, *file = NULL;
	size_t dest_len = 0, file_len = 0;
	char uuid[37], dir[HVT_PATH_MAX], base[HVT_PATH_MAX - 64];
	char fhex[65], detail[400];
	struct blobs bl = {0};
	struct hvt_mgr m;
	struct mgr_req req;
	struct mgr_rsp *rsp = NULL;
	struct stat st;
	int rc;

	if (!to || !*to)
		return hvt_usage(a->cmd, "--to DEST_PUBKEY_FILE is required");
	if (!outp || !*outp)
		return hvt_usage(a->cmd, "-o FILE is required");
	if (!hvt_opt(a, "yes") && !isatty(STDIN_FILENO))
		return hvt_usage(a->cmd, "--yes is required when not asked "
					 "on a terminal");
	if (lstat(outp, &st) == 0) {
		hvt_err("export: %s exists: refusing to overwrite it", outp);
		return HVT_USAGE;
	}
	rc = read_pubkey("--to", to, dest, &dest_len, dest_fpr);
	if (rc)
		return rc;
	rc = export_target(t, a, uuid);
	if (rc)
		return rc;
	uuid_parse(uuid, &bl.x.uuid);
	hvt_vtpm_state_base(t, base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/%s", base, uuid);

	rc = hvt_mgr_need(t, &m, "export");
	if (rc)
		return rc;
	/* Before the point of no return: the blobs are readable and ours,
	 * the output can be written. */
	rc = blobs_read(dir, &bl);
	if (rc)
		goto out;
	blobs_free(&bl);
	{
		char probe[PATH_MAX];
		int fd;

		snprintf(probe, sizeof(probe), "%s.probe", outp);
		fd = open(probe,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			hvt_err("export: cannot write beside %s: %s", outp,
				strerror(errno));
			rc = HVT_USAGE;
			goto out;
		}
		close(fd);
		unlink(probe);
	}
	if (!hvt_opt(a, "yes") && !confirm_export(uuid)) {
		printf("vTPM %s not exported\n", uuid);
		rc = HVT_NO;
		goto out;
	}

	rsp = calloc(1, sizeof(*rsp));
	rbuf = malloc(MGR_CTL_MSG_MAX);
	if (!rsp || !rbuf) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.op = MGR_CTL_EXPORT;
	req.u.export_.uuid = bl.x.uuid;
	req.u.export_.dest_pubkey =
		(struct mgr_blob_ref){dest, (uint32_t)dest_len};
	rc = hvt_mgr_call(&m, &req, rsp, rbuf);
	if (rc)
		goto out;
	if (rsp->rc != MGR_RC_OK) {
		snprintf(detail, sizeof(detail), "%s: %s", mgr_rc_str(rsp->rc),
			 rsp->msg);
		hvt_vtpm_audit(t, "export", uuid, NULL, "refused", detail);
		rc = hvt_mgr_refused("export", rsp);
		goto out;
	}
	if (!rsp->u.export_.bundle.len ||
	    rsp->u.export_.bundle.len > MGR_BUNDLE_MAX) {
		hvt_err("export: the manager's bundle is malformed");
		rc = HVT_DAEMON;
		goto out;
	}
	bl.x.bundle_len = rsp->u.export_.bundle.len;
	bundle = malloc(bl.x.bundle_len);
	if (!bundle) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	memcpy(bundle, rsp->u.export_.bundle.data, bl.x.bundle_len);
	bl.x.bundle = bundle;

	/* The instance is now MIGRATED here: its blobs cannot change any
	 * more, so this read is the one that travels. */
	rc = blobs_read(dir, &bl);
	if (!rc && mgr_xfile_encode(&bl.x, &file, &file_len))
		rc = HVT_DAEMON;
	if (!rc) {
		int wr = write_file_atomic(outp, file, file_len, 0600);

		if (wr) {
			hvt_err("export: writing %s: %s", outp, strerror(-wr));
			rc = HVT_DAEMON;
		}
	}
	if (rc) {
		/* The only copy of the bundle is in this process: keep it
		 * where the operator can find it. */
		char rescue[PATH_MAX];

		snprintf(rescue, sizeof(rescue), "%s/%s.bundle", base, uuid);
		if (!write_file_atomic(rescue, bundle, bl.x.bundle_len, 0600))
			hvt_err("export: vTPM %s is marked migrated; its bundle "
				"is saved in %s, the state files stay in %s",
				uuid, rescue, dir);
		else
			hvt_err("export: vTPM %s is marked migrated and its "
				"bundle could not be saved (%s): no manager can "
				"run it any more",
				uuid, rescue);
		hvt_vtpm_audit(t, "export", uuid, NULL, "failed",
			       "bundle made, export file not written");
		goto out;
	}
	fpr_hex(dest_fpr, fhex);
	printf("vTPM %s exported to %s (%zu bytes, %u state file%s) for the "
	       "manager with key sha256:%s\n"
	       "It is marked migrated on this manager and will not run here "
	       "again.\n",
	       uuid, outp, file_len, bl.x.n, bl.x.n == 1 ? "" : "s", fhex);
	snprintf(detail, sizeof(detail), "to sha256:%.16s..., %u files", fhex,
		 bl.x.n);
	hvt_vtpm_audit(t, "export", uuid, NULL, "done", detail);
out:
	blobs_free(&bl);
	free(bundle);
	free(file);
	free(rbuf);
	free(rsp);
	return rc;
}

/* ------------------------------------------------------------- import */

/* Whether this manager's table holds the instance marked MIGRATED: it
 * left here once and is coming back.  0 (answer in *migrated) or an exit
 * status (reported). */
static int left_here(const struct hvt_mgr *m, const struct mgr_uuid *u,
		     struct mgr_rsp *rsp, uint8_t *buf, bool *migrated)
{
	struct mgr_req req = {.op = MGR_CTL_LIST};
	unsigned pages = 0;
	int rc;

	*migrated = false;
	for (;;) {
		rc = hvt_mgr_call(m, &req, rsp, buf);
		if (rc)
			return rc;
		if (rsp->rc != MGR_RC_OK)
			return hvt_mgr_refused("list", rsp);
		for (unsigned i = 0; i < rsp->u.list.count; i++)
			if (!memcmp(rsp->u.list.entry[i].uuid.b, u->b,
				    MGR_UUID_LEN)) {
				*migrated = rsp->u.list.entry[i].flags &
					    MGR_INST_F_MIGRATED;
				return 0;
			}
		/* Pages move forward, and there are not more of them than
		 * a table can hold. */
		if (rsp->u.list.next == MGR_NO_DOMID ||
		    rsp->u.list.next <= req.u.list.start ||
		    ++pages > MGR_ROOT_MAX_INSTANCES / MGR_LIST_PAGE + 1)
			return 0;
		req.u.list.start = rsp->u.list.next;
	}
}

/* The state directory for an imported instance: made if missing.  When it
 * holds state already, the import is refused, unless this manager marked
 * the instance migrated (it left from here and is coming back): then the
 * stale directory it left is kept aside (aside: its new name) and a
 * fresh one made. */
static int import_dir(struct hvt *t, const struct hvt_mgr *m,
		      const struct mgr_uuid *u, struct mgr_rsp *rsp,
		      uint8_t *buf, char *dir, size_t dir_len, char *aside,
		      size_t aside_len, bool *made)
{
	static const char *const names[] = {"permall", "volatilestate",
					    "savestate"};
	char base[HVT_PATH_MAX - 64], f[HVT_PATH_MAX + 16], uuid[37];
	struct stat st;
	bool stale = false, migrated;
	int rc;

	*made = false;
	aside[0] = '\0';
	hvt_uuid_str(u->b, uuid);
	hvt_vtpm_state_base(t, base, sizeof(base));
	if (mkdir(base, 0711) < 0 && errno != EEXIST) {
		hvt_err("import: %s: %s", base, strerror(errno));
		return HVT_USAGE;
	}
	snprintf(dir, dir_len, "%s/%s", base, uuid);
	if (mkdir(dir, 0700) == 0) {
		*made = true;
		return 0;
	}
	if (errno != EEXIST) {
		hvt_err("import: %s: %s", dir, strerror(errno));
		return HVT_USAGE;
	}
	for (unsigned i = 0; i < 3 && !stale; i++)
		for (int pend = 0; pend < 2 && !stale; pend++) {
			snprintf(f, sizeof(f), "%s/%s%s", dir, names[i],
				 pend ? ".new" : "");
			stale = lstat(f, &st) == 0;
		}
	if (!stale)
		return 0;
	rc = left_here(m, u, rsp, buf, &migrated);
	if (rc)
		return rc;
	if (!migrated) {
		hvt_err("import: %s already holds vTPM state (%s): refusing "
			"to overwrite it",
			dir, f);
		return HVT_NO;
	}
	for (unsigned i = 0; i < 10; i++) {
		if (i)
			snprintf(aside, aside_len, "%s.migrated-away.%u", dir,
				 i);
		else
			snprintf(aside, aside_len, "%s.migrated-away", dir);
		if (lstat(aside, &st) < 0 && errno == ENOENT)
			break;
		aside[0] = '\0';
	}
	if (!aside[0] || rename(dir, aside) < 0 || mkdir(dir, 0700) < 0) {
		hvt_err("import: cannot set the stale %s aside: %s", dir,
			aside[0] ? strerror(errno) : "too many copies aside");
		if (aside[0] && lstat(dir, &st) < 0)
			rename(aside, dir);
		aside[0] = '\0';
		return HVT_USAGE;
	}
	*made = true;
	printf("vTPM %s comes back: the state it left here is kept in %s\n",
	       uuid, aside);
	return 0;
}

static void unwrite(const char *dir, const struct mgr_xfile *x, bool made)
{
	char f[HVT_PATH_MAX + 48], fname[32];

	for (unsigned i = 0; i < x->n; i++) {
		mgr_xfile_blob_name(&x->f[i], fname, sizeof(fname));
		snprintf(f, sizeof(f), "%s/%s", dir, fname);
		unlink(f);
	}
	if (made)
		rmdir(dir);
}

/* This manager's identity: 0 (spki, fpr set) or an exit status. */
static int mgr_identity(const struct hvt_mgr *m, struct mgr_rsp *rsp,
			uint8_t *buf, uint8_t fpr[MGR_FPR_LEN])
{
	struct mgr_req req = {.op = MGR_CTL_IDENTITY};
	char why[256];
	int rc = hvt_mgr_call(m, &req, rsp, buf);

	if (rc)
		return rc;
	if (rsp->rc != MGR_RC_OK)
		return hvt_mgr_refused("identity", rsp);
	if (mgr_ident_check_public(rsp->u.identity.pubkey.data,
				   rsp->u.identity.pubkey.len, fpr, why,
				   sizeof(why))) {
		hvt_err("the manager's identity key is malformed: %s", why);
		return HVT_DAEMON;
	}
	return 0;
}

int hvt_cmd_vtpm_import(struct hvt *t, const struct hvt_args *a)
{
	const char *path = a->pos[0], *from = hvt_opt(a, "from");
	uint8_t src[MGR_PUBKEY_MAX], src_fpr[MGR_FPR_LEN], own[MGR_FPR_LEN];
	uint8_t *buf = NULL, *rbuf = NULL;
	size_t len = 0, src_len = 0;
	char why[512], uuid[37], dir[HVT_PATH_MAX], sh[65], dh[65], oh[65];
	char aside[HVT_PATH_MAX + 32] = "";
	char detail[400];
	struct mgr_bundle_info info;
	struct mgr_xfile x;
	struct hvt_mgr m;
	struct mgr_req req;
	struct mgr_rsp *rsp = NULL;
	enum mgr_seal_err e;
	bool made = false, written = false;
	int rc;

	if (from) {
		rc = read_pubkey("--from", from, src, &src_len, src_fpr);
		if (rc)
			return rc;
	}
	rc = read_whole(AT_FDCWD, path, MGR_XFILE_MAX, &buf, &len);
	if (rc) {
		hvt_err("import: %s: %s", path,
			rc == -EFBIG ? "larger than an export file can be"
				     : strerror(-rc));
		return HVT_USAGE;
	}
	if (mgr_xfile_decode(buf, len, &x, why, sizeof(why))) {
		hvt_err("import: %s refused: %s", path, why);
		rc = HVT_NO;
		goto out;
	}
	hvt_uuid_str(x.uuid.b, uuid);
	e = mgr_bundle_verify(x.bundle, x.bundle_len, from ? src : NULL,
			      src_len, &info, why, sizeof(why));
	if (e) {
		hvt_err("import: %s refused: %s", path, why);
		rc = HVT_NO;
		goto out;
	}
	fpr_hex(info.source_fpr, sh);
	fpr_hex(info.dest_fpr, dh);

	rc = hvt_mgr_need(t, &m, "import");
	if (rc)
		goto out;
	rsp = calloc(1, sizeof(*rsp));
	rbuf = malloc(MGR_CTL_MSG_MAX);
	if (!rsp || !rbuf) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	rc = mgr_identity(&m, rsp, rbuf, own);
	if (rc)
		goto out;
	if (memcmp(own, info.dest_fpr, MGR_FPR_LEN)) {
		fpr_hex(own, oh);
		hvt_err("import: %s is for the manager with key sha256:%s; "
			"this "
			"manager's is sha256:%s",
			path, dh, oh);
		rc = HVT_NO;
		goto out;
	}
	rc = import_dir(t, &m, &x.uuid, rsp, rbuf, dir, sizeof(dir), aside,
			sizeof(aside), &made);
	if (rc)
		goto out;
	{
		int dfd = open(dir,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		char fname[32];

		if (dfd < 0) {
			hvt_err("import: %s: %s", dir, strerror(errno));
			rc = HVT_USAGE;
			goto undo;
		}
		written = true;
		for (unsigned i = 0; i < x.n && !rc; i++) {
			int wr;

			mgr_xfile_blob_name(&x.f[i], fname, sizeof(fname));
			wr = write_atomic(dfd, fname, x.f[i].data, x.f[i].len,
					  0600);
			if (wr) {
				hvt_err("import: writing %s/%s: %s", dir, fname,
					strerror(-wr));
				rc = HVT_DAEMON;
			}
		}
		close(dfd);
		if (rc)
			goto undo;
	}

	memset(&req, 0, sizeof(req));
	req.op = MGR_CTL_IMPORT;
	req.u.import.bundle =
		(struct mgr_blob_ref){x.bundle, (uint32_t)x.bundle_len};
	rc = hvt_mgr_call(&m, &req, rsp, rbuf);
	if (rc)
		goto undo;
	if (rsp->rc != MGR_RC_OK) {
		snprintf(detail, sizeof(detail), "%s: %s", mgr_rc_str(rsp->rc),
			 rsp->msg);
		hvt_vtpm_audit(t, "import", uuid, NULL, "refused", detail);
		rc = hvt_mgr_refused("import", rsp);
		goto undo;
	}
	if (memcmp(rsp->u.import.uuid.b, x.uuid.b, MGR_UUID_LEN)) {
		/* The file's header lied about what its bundle holds: the
		 * blobs are in the wrong place.  Take the import back. */
		struct mgr_req del = {.op = MGR_CTL_DELETE};
		char got[37];

		hvt_uuid_str(rsp->u.import.uuid.b, got);
		del.u.target.uuid = rsp->u.import.uuid;
		hvt_mgr_call(&m, &del, rsp, rbuf);
		hvt_err("import: %s says vTPM %s but its bundle holds %s: "
			"refused (the import was deleted again)",
			path, uuid, got);
		rc = HVT_NO;
		goto undo;
	}
	printf("vTPM %s imported from the manager with key sha256:%s%s "
	       "(%u state file%s in %s)\n",
	       uuid, sh,
	       from ? " (as --from requires)" : " (not pinned: --from)", x.n,
	       x.n == 1 ? "" : "s", dir);
	snprintf(detail, sizeof(detail), "from sha256:%.16s..., %u files", sh,
		 x.n);
	hvt_vtpm_audit(t, "import", uuid, NULL, "done", detail);
	rc = 0;
	goto out;
undo:
	if (written || made)
		unwrite(dir, &x, made);
	if (aside[0] && rename(aside, dir) < 0)
		hvt_warn("import: the stale state set aside stays in %s", aside);
out:
	free(rbuf);
	free(rsp);
	free(buf);
	return rc;
}

/* ------------------------------------------------- manager pubkey */

int hvt_mgr_pubkey(struct hvt *t, const char *outp, bool der)
{
	uint8_t fpr[MGR_FPR_LEN], *rbuf = NULL, *pem = NULL;
	const uint8_t *data;
	size_t len;
	char hex[65];
	struct hvt_mgr m;
	struct mgr_rsp *rsp = NULL;
	int rc;

	rc = hvt_mgr_need(t, &m, "manager pubkey");
	if (rc)
		return rc;
	rsp = calloc(1, sizeof(*rsp));
	rbuf = malloc(MGR_CTL_MSG_MAX);
	if (!rsp || !rbuf) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	rc = mgr_identity(&m, rsp, rbuf, fpr);
	if (rc)
		goto out;
	data = rsp->u.identity.pubkey.data;
	len = rsp->u.identity.pubkey.len;
	if (!der) {
		const unsigned char *p = data;
		EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
		BIO *bio = BIO_new(BIO_s_mem());
		char *mem = NULL;
		long n;

		if (!k || !bio || PEM_write_bio_PUBKEY(bio, k) != 1 ||
		    (n = BIO_get_mem_data(bio, &mem)) <= 0 ||
		    !(pem = malloc((size_t)n))) {
			EVP_PKEY_free(k);
			BIO_free(bio);
			hvt_err("cannot write the key as PEM");
			rc = HVT_DAEMON;
			goto out;
		}
		memcpy(pem, mem, (size_t)n);
		data = pem;
		len = (size_t)n;
		EVP_PKEY_free(k);
		BIO_free(bio);
	}
	fpr_hex(fpr, hex);
	if (outp) {
		int wr = write_file_atomic(outp, data, len, 0644);

		if (wr) {
			hvt_err("%s: %s", outp, strerror(-wr));
			rc = HVT_USAGE;
			goto out;
		}
		printf("manager identity key written to %s (sha256:%s)\n", outp,
		       hex);
	} else if (fwrite(data, 1, len, stdout) != len) {
		rc = HVT_DAEMON;
	}
out:
	free(pem);
	free(rbuf);
	free(rsp);
	return rc;
}
