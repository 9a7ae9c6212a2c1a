/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_vtpm.c - `hvsec vtpm ...`: the host's vTPM trust anchors and what a
 * verifier asks of a guest's vTPM (docs/vtpm.md).  One function per
 * subcommand, each named hvt_cmd_vtpm_SUB, registered in hvsec_main.c:
 *
 *   vtpm ca [--out FILE]   the CA certificate that issues every EK
 *                          certificate (PEM)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/hvsec.h"
#include "vtpm-manager/mgr_ca.h"

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
