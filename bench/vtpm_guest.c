/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_guest - the ring side of the vTPM benchmark (bench/vtpm.sh): a
 * guest of hvsecd whose config has vtpm = ['backend=0'].  It connects
 * device DEVID with libvtpmfront (grant, event channel, XenStore
 * handshake with hvsec-vtpmd), then runs the same GetRandom(32) and
 * PCR_Extend commands as the peers in vtpm_bench, through
 * vtpmfront_transmit: copy into the shared page, SUBMIT, notify, wait for
 * FINISH, copy out.  Every response is checked.
 *
 *   vtpm_guest [DEVID [LOOPS [MS]]]
 *
 * Prints on its console (stdout):
 *   RESULT connect_ms X
 *   RESULT getrandom_per_s X      ... _min_per_s, _max_per_s, _p50_ns, _p99_ns
 *   RESULT pcrextend_per_s X      ...
 *   RESULT done 1                 (or RESULT error <text>)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "bench/vtpm_bench.h"
#include "hypervisor/guest/hvguest.h"
#include "vtpm-instance/front/vtpmfront.h"

/* Long enough for a noisy machine, short enough that a hung backend ends
 * the run rather than the benchmark's own time limit. */
#define XFER_TIMEOUT_MS 10000

static int ring_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	return vtpmfront_transmit(ctx, cmd, cmd_len, 0, rsp, rsp_cap, rsp_len,
				  XFER_TIMEOUT_MS);
}

static int num(const char *s, int def)
{
	char *end;
	long v;

	if (!s)
		return def;
	v = strtol(s, &end, 10);
	return *end || v <= 0 || v > 1000000 ? def : (int)v;
}

int main(int argc, char **argv)
{
	uint32_t devid = (uint32_t)num(argc > 1 ? argv[1] : NULL, 0);
	int loops = num(argc > 2 ? argv[2] : NULL, 5);
	int ms = num(argc > 3 ? argv[3] : NULL, 200);
	struct vtpmfront *f = NULL;
	struct xs_handle *xs = NULL;
	struct hvg *g = NULL;
	struct vb_result r;
	char why[256] = "";
	uint64_t t0;
	int rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (hvg_open(&g)) {
		printf("RESULT error hvg_open failed (not a guest of "
		       "hvsecd?)\n");
		return 1;
	}
	xs = hvg_xs_open();
	if (!xs) {
		printf("RESULT error cannot open XenStore\n");
		goto out;
	}
	t0 = vb_now_ns();
	rc = vtpmfront_connect(g, xs, devid, 10000, &f, why, sizeof(why));
	if (rc) {
		printf("RESULT error vtpmfront_connect: %s: %s\n", why,
		       hvg_strerror(rc));
		rc = 1;
		goto out;
	}
	printf("RESULT connect_ms %.3f\n", (double)(vb_now_ns() - t0) / 1e6);
	printf("RESULT backend_id %u\n", vtpmfront_backend_id(f));
	for (int c = 0; c < VB_NCMDS; c++) {
		if (vb_measure(ring_xfer, f, (enum vb_cmd)c, loops, ms, &r)) {
			printf("RESULT error %s failed on the ring (see "
			       "stderr)\n",
			       vb_cmds[c].name);
			rc = 1;
			goto out;
		}
		vb_print("RESULT ", (enum vb_cmd)c, &r);
	}
	printf("RESULT done 1\n");
	rc = 0;
out:
	fflush(stdout);
	if (f)
		vtpmfront_close(f);
	if (xs)
		hvg_xs_close(xs);
	hvg_close(g);
	return rc;
}
