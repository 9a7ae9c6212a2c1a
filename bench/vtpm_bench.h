/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_bench.h - what the vTPM benchmark programs share (bench/vtpm.sh):
 * the two TPM 2.0 commands every path runs, the check of their responses,
 * and a wall-clock harness of time-bounded loops.
 *
 *   vtpm_guest   (a guest of hvsecd) the full ring path through
 *                libvtpmfront, the event channel and hvsec-vtpmd
 *   vtpm_bench   the peers: libtpms called in-process, swtpm over one
 *                persistent socket, and the bare notification floors
 *
 * Every path sends byte-identical commands and checks every response, so
 * the figures compare the same TPM work over different transports.  Loops
 * are timed in wall time: a round trip between two processes is the
 * sum of both sides' work and the wake-ups between them, which no single
 * thread's CPU clock sees.
 */
#ifndef HVSEC_VTPM_BENCH_H
#define HVSEC_VTPM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define VB_RSP_MAX 4096u
#define VB_PCR	   16u /* resettable, debug PCR: extending it is harmless */

/* The commands, by index into vb_cmds. */
enum vb_cmd {
	VB_GETRANDOM = 0, /* TPM2_GetRandom(32), no sessions */
	VB_PCREXTEND = 1, /* TPM2_PCR_Extend(PCR16, sha256), password session */
	VB_NCMDS
};

struct vb_cmd_desc {
	const char *name;     /* "getrandom", used in output keys */
	const uint8_t *bytes; /* the marshalled command */
	size_t len;
};
extern const struct vb_cmd_desc vb_cmds[VB_NCMDS];

/* 0 when rsp is the successful answer to command `c` (tag, size field
 * equal to len, TPM_RC_SUCCESS, and for GetRandom 32 random bytes); else
 * -1, with why filled in. */
int vb_check_response(enum vb_cmd c, const uint8_t *rsp, size_t len, char *why,
		      size_t why_len);

/* One round trip: sends cmd, receives the response into rsp.  0 or a
 * negative errno. */
typedef int (*vb_xfer_fn)(void *ctx, const uint8_t *cmd, size_t cmd_len,
			  uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

struct vb_result {
	double per_s;	       /* median over the loops, operations/s */
	double min_s, max_s;   /* the spread over the loops */
	double p50_ns, p99_ns; /* per-operation latency, from a separate pass */
	uint64_t ops;	       /* operations timed in all loops together */
};

/* Warms up for loop_ms / 4, then runs `loops` loops of about loop_ms
 * milliseconds each (the clock is read every few operations) and a
 * latency pass of the same length that times each operation.  Every
 * response is checked: 0, or -1 after printing why to stderr (figures from
 * a failing TPM mean nothing). */
int vb_measure(vb_xfer_fn fn, void *ctx, enum vb_cmd c, int loops, int loop_ms,
	       struct vb_result *out);

/* Prints "<prefix><name>_per_s", "_min_per_s", "_max_per_s", "_p50_ns" and
 * "_p99_ns" lines for one command's result. */
void vb_print(const char *prefix, enum vb_cmd c, const struct vb_result *r);

uint64_t vb_now_ns(void);

#endif /* HVSEC_VTPM_BENCH_H */
