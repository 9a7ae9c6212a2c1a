/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_manufacture.c - what the toolstack does to a vTPM's state directory
 * before its stub domain runs (docs/vtpm.md, docs/measured-boot.md):
 *
 *   - manufacture: a directory with no state yet gets a new TPM with its
 *     endorsement keys and their certificates, issued by the host's CA,
 *     as a TPM vendor (or swtpm_setup) does.  In this process, as root,
 *     before the directory is handed to the stub's uid.  Interim: the
 *     vTPM manager daemon takes this over when it exists.
 *   - the CA: one file (key + self-signed certificate, 0600), made on
 *     first use; `hvsec vtpm ca` prints its certificate.
 *   - measured boot: the guest's kernel, initrd and command line, as a
 *     crypto-agile TCG event log in the hvsec layout, every bank libtpms
 *     allocates.  The stub extends its TPM from this very log (parsed
 *     strictly) before the guest can connect, so PCRs and log agree by
 *     construction; the toolstack publishes the log in XenStore.
 *
 * libtpms is one TPM per process: instances are manufactured one after
 * the other, each powered off before the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tools/hvsec.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-manager/mb_log.h"
#include "vtpm-manager/mgr_ca.h"

#define CA_NAME	      "hvsec vTPM CA"
#define EK_TPM_MODEL  "hvsec-vtpm"
#define BOOT_LOG_MODE 0644

/* ------------------------------------------------------------ the CA */

void hvt_ca_path(const struct hvt *t, char *out, size_t len)
{
	const char *env = getenv("HVSEC_CA");

	if (env && env[0] == '/')
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "%s", HVT_CA_DEFAULT);
	else
		snprintf(out, len, "%s/ca.pem", t->run_dir);
}

int hvt_ca_open(const struct hvt *t, struct mgr_ca **ca, bool *created)
{
	char path[PATH_MAX], why[512];
	int rc;

	hvt_ca_path(t, path, sizeof(path));
	/* The default's parent, as a package would make it. */
	if (!getenv("HVSEC_CA") && geteuid() == 0)
		mkdir("/var/lib/hvsec", 0755);
	rc = mgr_ca_open(path, CA_NAME, ca, created, why, sizeof(why));
	if (rc) {
		hvt_err("vTPM CA %s: %s", path, why);
		return rc == -EPERM || rc == -EBADMSG ? HVT_USAGE : HVT_DAEMON;
	}
	return 0;
}

/* ------------------------------------------------------------ manufacture */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The certify hook of vtpm_provision (vtpm.h): the host CA issues both
 * EK certificates here, in dom0. */
static int ca_certify(void *ctx, const struct vtpm_ek_public pub[2],
		      const struct vtpm_ek_tpm_info *info, uint8_t *der[2],
		      size_t len[2], char *why, size_t why_len)
{
	const struct mgr_ca *ca = ctx;
	int rc = 0;

	for (size_t i = 0; !rc && i < 2; i++)
		rc = mgr_ca_issue_ek(
			ca,
			&(struct mgr_ca_ek_req){
				.type = pub[i].kind == VTPM_EK_RSA2048
						? MGR_CA_EK_RSA2048
						: MGR_CA_EK_ECC_P256,
				.spki = pub[i].spki,
				.spki_len = pub[i].spki_len,
				.tpm_manufacturer = info->manufacturer,
				.tpm_model = EK_TPM_MODEL,
				.tpm_version = info->firmware_version1,
				.spec_family = info->family,
				.spec_level = info->level,
				.spec_revision = info->revision,
			},
			&der[i], &len[i], why, why_len);
	return rc;
}

int hvt_vtpm_manufacture(const struct hvt *t, const char *dir,
			 struct hvt_manufactured *out)
{
	struct vtpm_store file = {0}, batch = {0};
	struct vtpm_tpm_stats st;
	struct mgr_ca *ca = NULL;
	char path[PATH_MAX], why[512] = "";
	uint64_t t0 = now_us();
	struct stat sb;
	bool on = false;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Any state at all (libtpms writes permall at manufacture): a TPM
	 * that exists is never made again, whatever the guest did to it. */
	if (snprintf(path, sizeof(path), "%s/permall", dir) >=
	    (int)sizeof(path))
		return HVT_USAGE;
	if (lstat(path, &sb) == 0)
		return 0;
	if (errno != ENOENT) {
		hvt_err("vTPM state %s: %s", path, strerror(errno));
		return HVT_DAEMON;
	}

	rc = hvt_ca_open(t, &ca, &out->ca_created);
	if (rc)
		return rc;
	rc = vtpm_store_file_open(&file, dir, why, sizeof(why));
	if (rc)
		goto fail;
	rc = vtpm_ek_batch_open(&batch, &file, why, sizeof(why));
	if (rc) {
		vtpm_store_close(&file);
		goto fail;
	}
	rc = vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &batch,
							 .platform_open = true},
			       why, sizeof(why));
	on = !rc;
	if (!rc) {
		vtpm_tpm_stats(&st);
		/* Not ours to provision if it exists after all (a racing
		 * create): nothing is committed, it is left as it was. */
		if (st.manufactured) {
			rc = vtpm_provision(ca_certify, ca, why,
					    sizeof(why));
			if (!rc)
				rc = vtpm_ek_batch_commit(&batch, why,
							  sizeof(why));
			out->made = !rc;
		}
	}
	if (on)
		vtpm_tpm_power_off();
	vtpm_store_close(&batch);
	vtpm_store_close(&file);
	mgr_ca_free(ca);
	if (rc) {
		hvt_err("manufacturing the vTPM in %s: %s", dir, why);
		return HVT_DAEMON;
	}
	out->us = now_us() - t0;
	return 0;
fail:
	mgr_ca_free(ca);
	hvt_err("manufacturing the vTPM in %s: %s", dir, why);
	return HVT_DAEMON;
}

/* ------------------------------------------------------------ measured boot */

/* Every bank a libtpms TPM 2.0 allocates at manufacture; the platform
 * hierarchy, which alone could change that (PCR_Allocate), is disabled
 * before any guest runs.  The stub refuses a log that lacks a bank its
 * TPM has (vtpmd_mboot.c). */
static const uint16_t boot_banks[] = {MB_ALG_SHA1, MB_ALG_SHA256, MB_ALG_SHA384,
				      MB_ALG_SHA512};

static int measure_file(const char *what, const char *path,
			struct mb_digests *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum mb_err e;

	if (fd < 0) {
		hvt_err("measured boot: %s %s: %s", what, path,
			strerror(errno));
		return HVT_USAGE;
	}
	e = mb_digests_fd(fd, boot_banks, MB_MAX_BANKS, out);
	close(fd);
	if (e) {
		hvt_err("measured boot: %s %s: %s", what, path, mb_strerror(e));
		return e == MB_E_IO ? HVT_USAGE : HVT_DAEMON;
	}
	return 0;
}

/* Its SHA-256 and base64, for XenStore. */
static bool publishable(struct hvt_boot_log *l)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n;

	/* MB_LOG_MAX bounds len: no overflow here or in the int below. */
	l->b64 = malloc(4 * ((l->len + 2) / 3) + 1);
	if (!l->b64 ||
	    !EVP_Digest(l->buf, l->len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32) {
		hvt_err("measured boot: %s",
			l->b64 ? "SHA-256 failed" : "out of memory");
		return false;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(l->sha256 + 2 * i, 3, "%02x", md[i]);
	n = EVP_EncodeBlock((unsigned char *)l->b64, l->buf, (int)l->len);
	l->b64_len = n < 0 ? 0 : (size_t)n;
	return n > 0;
}

int hvt_boot_log_build(const struct xlcfg *c, struct hvt_boot_log *out)
{
	struct mb_log log;
	struct mb_boot b;
	enum mb_err e;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.kernel_name = c->kernel;
	b.initrd_name = c->ramdisk;
	b.cmdline = c->extra ? c->extra : "";
	rc = measure_file("kernel", c->kernel, &b.kernel);
	if (!rc && c->ramdisk)
		rc = measure_file("ramdisk", c->ramdisk, &b.initrd);
	if (rc)
		return rc;
	e = mb_log_init(&log, boot_banks, MB_MAX_BANKS);
	if (e) {
		hvt_err("measured boot: %s", mb_strerror(e));
		return HVT_DAEMON;
	}
	e = mb_log_boot(&log, &b);
	if (e) {
		mb_log_release(&log);
		/* The strings are the config's: printable ASCII, bounded. */
		hvt_err("%s: measured boot: kernel, ramdisk or extra: %s "
			"(printable ASCII; names up to %u bytes, extra up to "
			"%u)",
			c->path, mb_strerror(e), MB_NAME_MAX, MB_CMDLINE_MAX);
		return e == MB_E_INVAL ? HVT_USAGE : HVT_DAEMON;
	}
	out->buf = log.buf; /* ownership moves */
	out->len = log.len;
	return publishable(out) ? 0 : HVT_DAEMON;
}

void hvt_boot_log_free(struct hvt_boot_log *l)
{
	free(l->buf);
	free(l->b64);
	memset(l, 0, sizeof(*l));
}

/* A previous boot's log goes before the directory is handed to the stub
 * (which would own it otherwise). */
void hvt_boot_log_remove(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, HVT_BOOT_LOG) <
	    (int)sizeof(path))
		unlink(path);
}

/* Written by root after the hand-over: the stub reads it, and it is the
 * toolstack's (root-owned, 0644).  Never through a link the previous
 * owner of the directory left. */
int hvt_boot_log_write(const char *dir, const struct hvt_boot_log *l)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = -1, rc = 0;
	size_t off = 0;

	if (dfd < 0)
		return -errno;
	if (unlinkat(dfd, HVT_BOOT_LOG, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fd = openat(dfd, HVT_BOOT_LOG,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    BOOT_LOG_MODE);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (off < l->len) {
		ssize_t n = write(fd, l->buf + off, l->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, BOOT_LOG_MODE) < 0)
		rc = -errno;
out:
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		unlinkat(dfd, HVT_BOOT_LOG, 0);
	close(dfd);
	return rc;
}
