/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd_mboot.c - measured boot in the backend: the toolstack measured
 * the guest's kernel, initrd and command line into an event log
 * (DIR/boot-log, docs/measured-boot.md); after every power-on, before
 * the guest can connect, each of its events is extended into the TPM.
 *
 * The log is parsed strictly (mb_log_parse) and must cover every PCR
 * bank the TPM has allocated: a bank left out would be the guest's to
 * extend, with a log of its own making.  Anything wrong refuses the
 * whole log: a TPM whose PCRs do not match its log is worse than none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vtpm-instance/vtpmd.h"
#include "vtpm-manager/mb_log.h"
#include "vtpm-instance/vtpm_util.h"

#define BOOT_LOG_NAME "boot-log"

static uint8_t cmd[VTPM_RING_MAX_PAYLOAD], rsp[VTPM_RING_MAX_PAYLOAD];

/* Sends a command; 0 when the TPM answered TPM_RC_SUCCESS, with the
 * response's length in *len. */
static int run(const uint8_t *c, size_t clen, size_t *len, char *why,
	       size_t why_len, const char *what)
{
	size_t n = vtpm_tpm_process(c, clen, 0, rsp, sizeof(rsp));

	if (n < 10 || vtpm_get_be32(rsp + 2) != n) {
		snprintf(why, why_len, "%s: malformed TPM response", what);
		return -EIO;
	}
	if (vtpm_get_be32(rsp + 6)) {
		snprintf(why, why_len, "%s: TPM error 0x%x", what,
			 vtpm_get_be32(rsp + 6));
		return -EIO;
	}
	*len = n;
	return 0;
}

/* The banks the TPM has allocated (TPM2_GetCapability(TPM_CAP_PCRS)):
 * a bank with any PCR selected.  At most MB_MAX_BANKS + spare. */
static int allocated_banks(uint16_t *algs, unsigned cap, unsigned *n, char *why,
			   size_t why_len)
{
	static const uint8_t get_pcrs[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00,
		0x00, 0x01, 0x7a, 0x00, 0x00, 0x00, 0x05, /* TPM_CAP_PCRS */
		0x00, 0x00, 0x00, 0x00,			  /* property */
		0x00, 0x00, 0x00, 0x10,			  /* count */
	};
	size_t len, off;
	uint32_t count;
	int rc;

	rc = run(get_pcrs, sizeof(get_pcrs), &len, why, why_len,
		 "GetCapability(PCRS)");
	if (rc)
		return rc;
	/* header 10, moreData 1, capability 4, count 4 */
	if (len < 19 || vtpm_get_be32(rsp + 11) != 5) {
		snprintf(why, why_len, "GetCapability(PCRS): short answer");
		return -EIO;
	}
	count = vtpm_get_be32(rsp + 15);
	off = 19;
	*n = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		uint8_t size;
		bool any = false;

		if (off + 3 > len)
			goto short_rsp;
		alg = (uint16_t)(rsp[off] << 8 | rsp[off + 1]);
		size = rsp[off + 2];
		off += 3;
		if (off + size > len)
			goto short_rsp;
		for (unsigned k = 0; k < size; k++)
			any |= rsp[off + k] != 0;
		off += size;
		if (!any)
			continue;
		if (*n >= cap) {
			snprintf(why, why_len, "more than %u PCR banks", cap);
			return -E2BIG;
		}
		algs[(*n)++] = alg;
	}
	return 0;
short_rsp:
	snprintf(why, why_len, "GetCapability(PCRS): truncated answer");
	return -EIO;
}

/* The whole file, at most MB_LOG_MAX bytes.  -ENOENT when absent. */
static int read_log(const char *dir, uint8_t **buf, size_t *len, char *why,
		    size_t why_len)
{
	char path[4096];
	struct stat st;
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, BOOT_LOG_NAME);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (e != ENOENT)
			snprintf(why, why_len, "%s: %s", BOOT_LOG_NAME,
				 vtpmd_strerror(-e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)MB_LOG_MAX) {
		snprintf(why, why_len,
			 "%s: not a regular file of at most %u "
			 "bytes",
			 BOOT_LOG_NAME, MB_LOG_MAX);
		close(fd);
		return -EINVAL;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		snprintf(why, why_len, "%s: out of memory", BOOT_LOG_NAME);
		return -ENOMEM;
	}
	/* One byte more than fstat said: a file that grows is refused. */
	for (;;) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (got += (size_t)r) > (size_t)st.st_size)
			break;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(*buf);
		*buf = NULL;
		snprintf(why, why_len, "%s: changed while read", BOOT_LOG_NAME);
		return -EIO;
	}
	*len = got;
	return 0;
}

int vtpmd_measure_boot(const char *state_dir, unsigned *events, char *why,
		       size_t why_len)
{
	struct mb_parsed p;
	uint16_t banks[8];
	unsigned nbanks = 0;
	uint8_t *buf = NULL;
	size_t len = 0, rlen;
	char err[256];
	enum mb_err e;
	int rc;

	*events = 0;
	rc = read_log(state_dir, &buf, &len, why, why_len);
	if (rc == -ENOENT)
		return 1; /* nothing to measure */
	if (rc)
		return rc;
	e = mb_log_parse(buf, len, &p, err, sizeof(err));
	if (e) {
		snprintf(why, why_len, "%s: %s", BOOT_LOG_NAME, err);
		free(buf);
		return -EBADMSG;
	}
	/* The TPM starts at locality 0 here: a log claiming another start
	 * would replay to a PCR 0 it cannot have. */
	if (p.startup_locality > 0) {
		snprintf(why, why_len,
			 "%s: StartupLocality %d, the TPM starts "
			 "at 0",
			 BOOT_LOG_NAME, p.startup_locality);
		rc = -EBADMSG;
		goto out;
	}
	rc = allocated_banks(banks, sizeof(banks) / sizeof(banks[0]), &nbanks,
			     why, why_len);
	for (unsigned i = 0; !rc && i < nbanks; i++) {
		bool in_log = false;

		for (unsigned k = 0; k < p.hdr.nalgs; k++)
			in_log |= p.hdr.algs[k] == banks[i];
		if (!in_log) {
			const char *nm = mb_alg_name(banks[i]);

			snprintf(why, why_len,
				 "%s: no digests for the PCR "
				 "bank %s (0x%04x) the TPM has allocated",
				 BOOT_LOG_NAME, nm ? nm : "?", banks[i]);
			rc = -EBADMSG;
		}
	}
	for (size_t i = 0; !rc && i < p.nevents; i++) {
		size_t n;

		if (!mb_event_extends(&p.ev[i]))
			continue;
		n = mb_pcr_extend_cmd(&p.ev[i], cmd, sizeof(cmd));
		if (!n) {
			snprintf(why, why_len,
				 "%s: event %u does not fit a "
				 "command",
				 BOOT_LOG_NAME, p.ev[i].index);
			rc = -E2BIG;
			break;
		}
		snprintf(err, sizeof(err), "extending event %u into PCR %u",
			 p.ev[i].index, p.ev[i].pcr);
		rc = run(cmd, n, &rlen, why, why_len, err);
		if (!rc)
			(*events)++;
	}
out:
	mb_parsed_free(&p);
	free(buf);
	return rc;
}
