/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_vtpm_admin.c - what the toolstack knows about every vTPM instance on
 * the host, for `hvsec vtpm list|show|reset|delete|audit` (cmd_vtpm.c),
 * read from what exists until the vTPM manager daemon does:
 *
 *   - the state directories under the state base (hvt_vtpm.c's, named by
 *     the instance's UUID): permall and its siblings (docs/formats.md §5);
 *   - the toolstack's records /libxl/G/device/vtpm/N (dom0 only: identity
 *     is never taken from a node a guest or backend can write);
 *   - hvsecd's domain list (which guests and stub domains exist).
 *
 * Nothing here powers a TPM on, takes a store's lock or writes into a
 * state directory: list and show read files that are replaced atomically
 * (a reader sees the old or the new permall, never half of one).  The EK
 * certificates are found in permall itself (libtpms keeps NV index data
 * unencrypted in it, as DER); only those carrying the TCG EK certificate
 * purpose count.
 *
 * The vTPM audit log (JSON Lines, 0600) is STATE_BASE/audit.log: it lives
 * with the instances it talks about and outlives the daemon's run dir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tools/hvsec.h"
#include "vtpm-manager/mgr_proto.h"

#define STATE_HDR_LEN	16u
#define STATE_MAX	(1u << 20) /* VTPM_STATE_MAX */
#define EK_CERT_MIN	64u
#define EK_CERT_MAX	2048u /* VTPM_EK_CERT_MAX: an NV index's limit */
#define OID_EK_CERT	"2.23.133.8.1" /* tcg-kp-EKCertificate */
#define AUDIT_DETAIL_MAX 512u

/* ------------------------------------------------------------ places */

/* Where instance directories live (create, destroy and the admin
 * commands all ask here): $HVSEC_VTPM_DIR, else (root) a place that
 * persists across daemon runs, else (one uid) beside the run dir. */
void hvt_vtpm_state_base(const struct hvt *t, char *out, size_t len)
{
	const char *env = getenv("HVSEC_VTPM_DIR");

	if (env && env[0] == '/')
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "%s", HVT_VTPM_DIR_DEFAULT);
	else
		snprintf(out, len, "%s/vtpm", t->run_dir);
}

void hvt_vtpm_audit_path(const struct hvt *t, char *out, size_t len)
{
	char base[PATH_MAX];

	hvt_vtpm_state_base(t, base, sizeof(base));
	snprintf(out, len, "%.*s/%s", (int)(PATH_MAX - 32), base,
		 HVT_VTPM_AUDIT_LOG);
}

bool hvt_uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-'
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ XenStore */

static bool xs_get(struct xs_handle *xs, const char *dir, const char *key,
		   char *buf, size_t len)
{
	char path[256];

	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >=
	    (int)sizeof(path))
		return false;
	return hvt_xs_get(xs, path, buf, len);
}

/* ------------------------------------------------------------ state files */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* DIR/permall, whole (a regular file, not through a link, bounded).
 * 0, -ENOENT, or -errno / -EBADMSG. */
static int read_permall(const char *dir, uint8_t **buf, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *b = NULL;
	size_t off = 0;
	int fd, rc = 0;

	*buf = NULL;
	*len = 0;
	if (snprintf(path, sizeof(path), "%s/permall", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)(STATE_MAX + STATE_HDR_LEN)) {
		rc = -EBADMSG;
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, b + off, (size_t)st.st_size - off);

		if (n <= 0) {
			rc = n < 0 ? -errno : -EBADMSG;
			goto out;
		}
		off += (size_t)n;
	}
	*buf = b;
	*len = off;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}

/* The header of docs/formats.md §5: magic, version 1, length, CRC. */
static bool state_ok(const uint8_t *b, size_t len)
{
	uint32_t plen, crc;

	if (len < STATE_HDR_LEN || memcmp(b, "HVTS", 4) || b[4] != 1 ||
	    b[5] != 0)
		return false;
	plen = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
	       (uint32_t)b[11] << 24;
	crc = (uint32_t)b[12] | (uint32_t)b[13] << 8 | (uint32_t)b[14] << 16 |
	      (uint32_t)b[15] << 24;
	return plen == len - STATE_HDR_LEN &&
	       crc32_ieee(b + STATE_HDR_LEN, plen) == crc;
}

static void fmt_time(const ASN1_TIME *a, char *out, size_t len)
{
	struct tm tm;

	if (!a || ASN1_TIME_to_tm(a, &tm) != 1 ||
	    !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, len, "?");
}

static void fmt_name(const X509_NAME *n, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long k;

	out[0] = '\0';
	if (!b)
		return;
	/* RFC 2253 order and escapes, no multi-line output. */
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		k = BIO_get_mem_data(b, &p);
		if (k > 0 && p)
			snprintf(out, len, "%.*s", (int)k, p);
	}
	BIO_free(b);
}

/* One EK certificate's particulars, if it is one (the EK purpose, an
 * RSA-2048 or P-256 key).  *kind: 0 RSA, 1 ECC. */
static bool ek_describe(X509 *x, struct hvt_ek_cert *c, int *kind)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *want = OBJ_txt2obj(OID_EK_CERT, 1);
	const ASN1_INTEGER *sn;
	EVP_PKEY *pk;
	BIGNUM *bn = NULL;
	uint8_t *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool ek = false;
	int der_len;
	char *hex;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (int i = 0; want && eku && i < sk_ASN1_OBJECT_num(eku); i++)
		if (!OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want))
			ek = true;
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ASN1_OBJECT_free(want);
	pk = X509_get0_pubkey(x);
	if (!ek || !pk)
		return false;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		*kind = 0;
		snprintf(c->key, sizeof(c->key), "RSA-%d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		*kind = 1;
		snprintf(c->key, sizeof(c->key), "ECC P-%d",
			 EVP_PKEY_get_bits(pk));
	} else {
		return false;
	}
	memset(c->subject, 0, sizeof(c->subject));
	fmt_name(X509_get_subject_name(x), c->subject, sizeof(c->subject));
	fmt_name(X509_get_issuer_name(x), c->issuer, sizeof(c->issuer));
	fmt_time(X509_get0_notBefore(x), c->not_before, sizeof(c->not_before));
	fmt_time(X509_get0_notAfter(x), c->not_after, sizeof(c->not_after));
	sn = X509_get0_serialNumber(x);
	bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	hex = bn ? BN_bn2hex(bn) : NULL;
	snprintf(c->serial, sizeof(c->serial), "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
	/* The key's fingerprint: SHA-256 of its DER SubjectPublicKeyInfo,
	 * as `openssl pkey -pubin -outform DER | sha256sum` computes it. */
	der_len = i2d_PUBKEY(pk, &der);
	c->spki_sha256[0] = '\0';
	if (der_len > 0 &&
	    EVP_Digest(der, (size_t)der_len, md, &mdlen, EVP_sha256(), NULL) &&
	    mdlen == 32)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(c->spki_sha256 + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
	c->present = true;
	return true;
}

/* Every DER certificate in the blob (SEQUENCE with a two-byte length, a
 * TBSCertificate SEQUENCE inside) that is an EK certificate.  The last
 * one of each kind wins (NV data precedes nothing else of that shape). */
static void scan_ek_certs(const uint8_t *b, size_t len,
			  struct hvt_ek_cert ek[2])
{
	for (size_t i = 0; i + 8 < len; i++) {
		const unsigned char *p = b + i;
		size_t body;
		X509 *x;
		int kind;

		if (b[i] != 0x30 || b[i + 1] != 0x82 || b[i + 4] != 0x30 ||
		    b[i + 5] != 0x82)
			continue;
		body = (size_t)b[i + 2] << 8 | b[i + 3];
		if (body + 4 < EK_CERT_MIN || body + 4 > EK_CERT_MAX ||
		    body + 4 > len - i)
			continue;
		x = d2i_X509(NULL, &p, (long)(body + 4));
		if (!x)
			continue;
		{
			struct hvt_ek_cert c;

			memset(&c, 0, sizeof(c));
			if (ek_describe(x, &c, &kind)) {
				ek[kind] = c;
				i += body + 3;
			}
		}
		X509_free(x);
	}
}

int hvt_ek_certs_from_state(const char *dir, struct hvt_ek_cert ek[2],
			    bool *state_valid)
{
	uint8_t *b;
	size_t len;
	int rc;

	memset(ek, 0, 2 * sizeof(*ek));
	*state_valid = false;
	rc = read_permall(dir, &b, &len);
	if (rc)
		return rc;
	*state_valid = state_ok(b, len);
	if (*state_valid)
		scan_ek_certs(b + STATE_HDR_LEN, len - STATE_HDR_LEN, ek);
	free(b);
	return 0;
}

/* ------------------------------------------------------------ instances */

static struct hvt_vinst *vi_add(struct hvt_vinsts *vs)
{
	struct hvt_vinst *nv;

	nv = realloc(vs->v, (vs->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	vs->v = nv;
	memset(&nv[vs->n], 0, sizeof(nv[0]));
	return &nv[vs->n++];
}

static struct hvt_vinst *vi_find(struct hvt_vinsts *vs, const char *uuid)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcasecmp(vs->v[i].uuid, uuid))
			return &vs->v[i];
	return NULL;
}

/* What the files say: size and time of permall (the newest of the state
 * files), the other files, the certificates. */
static void vi_files(struct hvt_vinst *v)
{
	static const char *const names[] = {"permall", "volatilestate",
					    "savestate"};
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", v->dir, names[i]) >=
			    (int)sizeof(path) ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (i == 0) {
			v->has_permall = true;
			v->permall_size = (uint64_t)st.st_size;
		} else if (i == 1) {
			v->has_volatile = true;
		}
		if (st.st_mtime > v->mtime)
			v->mtime = st.st_mtime;
	}
	/* A managed instance's files are sealed: nothing to read here. */
	if (v->has_permall && !v->managed)
		hvt_ek_certs_from_state(v->dir, v->ek, &v->state_valid);
}

static void scan_dirs(const struct hvt *t, struct hvt_vinsts *vs)
{
	char base[PATH_MAX - 128];
	struct dirent *e;
	struct stat st;
	DIR *d;

	hvt_vtpm_state_base(t, base, sizeof(base));
	d = opendir(base);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct hvt_vinst *v;

		if (!hvt_uuid_valid(e->d_name))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		v = vi_add(vs);
		if (!v)
			break;
		snprintf(v->uuid, sizeof(v->uuid), "%.36s", e->d_name);
		snprintf(v->dir, sizeof(v->dir), "%s/%.36s", base, e->d_name);
		v->has_dir = true;
	}
	closedir(d);
}

static const struct hv_ctl_domain_info *
dom_by_id(const struct hv_ctl_domain_info *doms, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (doms[i].domid == id)
			return &doms[i];
	return NULL;
}

/* /libxl/G/device/vtpm/N for every G: who uses which instance. */
static void scan_records(struct xs_handle *xs, struct hvt_vinsts *vs,
			 const struct hv_ctl_domain_info *doms, size_t nd)
{
	unsigned int ng = 0;
	char **gs = xs_directory(xs, XBT_NULL, "/libxl", &ng);

	for (unsigned i = 0; gs && i < ng; i++) {
		char dir[64], rec[128], val[PATH_MAX], uuid[64];
		unsigned int nv = 0;
		uint32_t g;
		char **devs;

		if (!hvt_parse_u32(gs[i], HV_DOMID_MAX, &g))
			continue;
		snprintf(dir, sizeof(dir), "/libxl/%u/device/vtpm", g);
		devs = xs_directory(xs, XBT_NULL, dir, &nv);
		for (unsigned k = 0; devs && k < nv; k++) {
			const struct hv_ctl_domain_info *gd, *sd;
			struct hvt_vinst *v;
			uint32_t devid, be;

			if (!hvt_parse_u32(devs[k], 1024, &devid))
				continue;
			snprintf(rec, sizeof(rec), "%s/%u", dir, devid);
			if (!xs_get(xs, rec, "uuid", uuid, sizeof(uuid)) ||
			    !hvt_uuid_valid(uuid) ||
			    !xs_get(xs, rec, "backend-id", val, sizeof(val)) ||
			    !hvt_parse_u32(val, UINT32_MAX - 1, &be))
				continue;
			v = vi_find(vs, uuid);
			if (!v) {
				v = vi_add(vs);
				if (!v)
					break;
				snprintf(v->uuid, sizeof(v->uuid), "%.36s", uuid);
			}
			v->recorded = true;
			v->guest = g;
			v->devid = devid;
			v->stub_id = be;
			v->stub = xs_get(xs, rec, "stub", val, sizeof(val)) &&
				  !strcmp(val, "1");
			v->ephemeral =
				xs_get(xs, rec, "ephemeral", val, sizeof(val)) &&
				!strcmp(val, "1");
			if (xs_get(xs, rec, "state-dir", val, sizeof(val)) &&
			    val[0] == '/' && strlen(val) < sizeof(v->dir)) {
				snprintf(v->dir, sizeof(v->dir), "%s", val);
				v->has_dir = true;
			}
			if (xs_get(xs, rec, "provision-us", val, sizeof(val)))
				v->provision_us = strtoull(val, NULL, 10);
			if (xs_get(xs, rec, "boot-log-sha256", val, sizeof(val)))
				snprintf(v->boot_log_sha256,
					 sizeof(v->boot_log_sha256), "%s", val);
			gd = dom_by_id(doms, nd, g);
			sd = dom_by_id(doms, nd, be);
			/* The guest exists until it is destroyed, whatever
			 * its state (shut down, crashed): it still owns its
			 * vTPM, whose stub destroy takes down with it. */
			v->guest_exists = gd != NULL;
			v->stub_live = sd && hvt_domain_live(sd);
			snprintf(v->guest_name, sizeof(v->guest_name), "%s",
				 gd ? gd->name : "?");
			snprintf(v->stub_name, sizeof(v->stub_name), "%s",
				 sd ? sd->name : "?");
		}
		free(devs);
	}
	free(gs);
}

/* The manager's table, page by page: which instances it seals. */
static void scan_manager(struct hvt *t, struct hvt_vinsts *vs)
{
	static uint8_t buf[MGR_CTL_MSG_MAX];
	struct mgr_req req = {.op = MGR_CTL_LIST};
	struct mgr_rsp rsp;
	struct hvt_mgr m;

	if (hvt_mgr_find(t, &m) != 0)
		return;
	for (unsigned pages = 0; pages < 1024; pages++) {
		if (hvt_mgr_call(&m, &req, &rsp, buf) || rsp.rc != MGR_RC_OK)
			return;
		for (unsigned i = 0; i < rsp.u.list.count; i++) {
			const struct mgr_list_entry *e = &rsp.u.list.entry[i];
			struct hvt_vinst *v;
			char uuid[37];

			hvt_uuid_str(e->uuid.b, uuid);
			v = vi_find(vs, uuid);
			if (!v && (v = vi_add(vs)))
				snprintf(v->uuid, sizeof(v->uuid), "%s", uuid);
			if (!v)
				return;
			v->managed = true;
			v->mgr_open = e->open;
			v->mgr_flags = e->flags;
			v->mgr_stub = e->stub_domid;
			memcpy(v->generation, e->generation,
			       sizeof(v->generation));
			snprintf(v->mgr_label, sizeof(v->mgr_label), "%s",
				 e->label);
			hvt_uuid_str(e->domain.b, v->mgr_domain);
		}
		if (rsp.u.list.next == MGR_NO_DOMID)
			return;
		req.u.list.start = rsp.u.list.next;
	}
}

const char *hvt_vinst_state(const struct hvt_vinst *v)
{
	if (hvt_vinst_in_use(v))
		return v->ephemeral ? "ephemeral-running" : "running";
	if (v->managed && (v->mgr_flags & MGR_INST_F_MIGRATED))
		return "migrated";
	if (v->managed && (v->mgr_flags & MGR_INST_F_DISABLED))
		return "disabled";
	/* PROVISIONED: a TPM was made and committed (RESET clears it; the
	 * generations stay, so old blobs stay refused). */
	if (v->managed)
		return v->mgr_flags & MGR_INST_F_PROVISIONED ? "stored"
							     : "empty";
	if (!v->has_dir)
		return "missing";
	return v->has_permall ? "stored" : "empty";
}

bool hvt_vinst_in_use(const struct hvt_vinst *v)
{
	return v->recorded && (v->guest_exists || v->stub_live);
}

int hvt_vtpm_instances(struct hvt *t, struct hvt_vinsts *out)
{
	struct hv_ctl_domain_info *doms = NULL;
	struct xs_handle *xs;
	size_t nd = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	scan_dirs(t, out);
	/* Without hvsecd nobody can say which instance is in use. */
	rc = hvt_domain_list(t, &doms, &nd);
	if (rc)
		goto files;
	xs = hvt_xs_open(t, false);
	if (!xs) {
		rc = HVT_DAEMON;
		goto files;
	}
	scan_records(xs, out, doms, nd);
	xs_close(xs);
	out->daemon = true;
	scan_manager(t, out);
files:
	free(doms);
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].has_dir)
			vi_files(&out->v[i]);
	return rc;
}

void hvt_vinsts_free(struct hvt_vinsts *vs)
{
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

/* ------------------------------------------------------------ audit */

int hvt_vtpm_audit(const struct hvt *t, const char *op, const char *uuid,
		   const char *guest, const char *result, const char *detail)
{
	char path[PATH_MAX], base[PATH_MAX - 64], when[32];
	struct hvt_json j;
	struct timespec ts;
	struct tm tm;
	char *line = NULL;
	size_t len = 0;
	FILE *m;
	int fd, rc = 0;

	hvt_vtpm_state_base(t, base, sizeof(base));
	hvt_vtpm_audit_path(t, path, sizeof(path));
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "?");
	m = open_memstream(&line, &len);
	if (!m)
		return -ENOMEM;
	hvt_json_init(&j, m);
	hvt_json_obj(&j);
	hvt_json_kstr(&j, "time", when);
	hvt_json_kstr(&j, "op", op);
	hvt_json_key(&j, "uuid");
	if (uuid)
		hvt_json_str(&j, uuid);
	else
		hvt_json_null(&j);
	hvt_json_key(&j, "guest");
	if (guest)
		hvt_json_str(&j, guest);
	else
		hvt_json_null(&j);
	hvt_json_kstr(&j, "result", result);
	if (detail) {
		hvt_json_key(&j, "detail");
		hvt_json_strn(&j, detail, strnlen(detail, AUDIT_DETAIL_MAX));
	}
	hvt_json_ku64(&j, "uid", (uint64_t)getuid());
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
	if (fclose(m) || !line)
		return -ENOMEM;
	/* One write with O_APPEND: concurrent writers do not interleave
	 * inside a line (every field is bounded). */
	if (mkdir(base, 0711) < 0 && errno != EEXIST)
		hvt_warn("vTPM state directory %s: %s", base, strerror(errno));
	fd = open(path,
		  O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len)
		rc = -errno;
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		hvt_warn("vTPM audit log %s: %s", path, strerror(-rc));
	free(line);
	return rc;
}
