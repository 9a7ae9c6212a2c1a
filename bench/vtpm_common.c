/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_common.c - the commands, response checks and timing loops shared
 * by vtpm_bench (the peers) and vtpm_guest (the ring path); see
 * vtpm_bench.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/vtpm_bench.h"

/* TPM2_GetRandom(bytesRequested = 32): TPM_ST_NO_SESSIONS, size 12,
 * TPM_CC_GetRandom (0x17b). */
/* clang-format off */
static const uint8_t cmd_getrandom[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b,
	0x00, 0x20,
};

/* TPM2_PCR_Extend(PCR16, {sha256: 32 bytes}): TPM_ST_SESSIONS, size 65,
 * TPM_CC_PCR_Extend (0x182); the authorization area is one password
 * session (TPM_RS_PW, empty nonce, continueSession, empty password), as
 * tpm2_pcrextend sends it. */
static const uint8_t cmd_pcrextend[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
	/* pcrHandle */
	0x00, 0x00, 0x00, VB_PCR,
	/* authorizationSize 9: handle, nonce, attributes, hmac */
	0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01,
	0x00, 0x00,
	/* TPML_DIGEST_VALUES: count 1, TPM_ALG_SHA256, digest */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
	0x76, 0x74, 0x70, 0x6d, 0x2d, 0x62, 0x65, 0x6e, 0x63, 0x68, 0x2d,
	0x70, 0x63, 0x72, 0x2d, 0x65, 0x78, 0x74, 0x65, 0x6e, 0x64, 0x2d,
	0x64, 0x69, 0x67, 0x65, 0x73, 0x74, 0x2d, 0x33, 0x32, 0x21,
};
/* clang-format on */

_Static_assert(sizeof(cmd_getrandom) == 12, "GetRandom size field");
_Static_assert(sizeof(cmd_pcrextend) == 0x41, "PCR_Extend size field");

const struct vb_cmd_desc vb_cmds[VB_NCMDS] = {
	[VB_GETRANDOM] = {"getrandom", cmd_getrandom, sizeof(cmd_getrandom)},
	[VB_PCREXTEND] = {"pcrextend", cmd_pcrextend, sizeof(cmd_pcrextend)},
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int vb_check_response(enum vb_cmd c, const uint8_t *rsp, size_t len, char *why,
		      size_t why_len)
{
	/* The expected tag is the command's: a session in, a session out. */
	uint16_t tag =
		(uint16_t)(vb_cmds[c].bytes[0] << 8 | vb_cmds[c].bytes[1]);
	uint32_t rc;

	if (len < 10) {
		snprintf(why, why_len, "%s: response of %zu bytes",
			 vb_cmds[c].name, len);
		return -1;
	}
	rc = be32(rsp + 6);
	if (rc != 0) {
		snprintf(why, why_len, "%s: TPM response code 0x%x",
			 vb_cmds[c].name, rc);
		return -1;
	}
	if ((uint16_t)(rsp[0] << 8 | rsp[1]) != tag || be32(rsp + 2) != len) {
		snprintf(why, why_len,
			 "%s: malformed response (tag 0x%02x%02x, size %u, "
			 "received %zu)",
			 vb_cmds[c].name, rsp[0], rsp[1], be32(rsp + 2), len);
		return -1;
	}
	if (c == VB_GETRANDOM &&
	    (len != 10 + 2 + 32 || rsp[10] != 0 || rsp[11] != 32)) {
		snprintf(why, why_len, "getrandom: %zu bytes, not 32 random",
			 len);
		return -1;
	}
	return 0;
}

uint64_t vb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int one(vb_xfer_fn fn, void *ctx, enum vb_cmd c, uint8_t *rsp)
{
	char why[160];
	size_t n = 0;
	int rc;

	rc = fn(ctx, vb_cmds[c].bytes, vb_cmds[c].len, rsp, VB_RSP_MAX, &n);
	if (rc) {
		fprintf(stderr, "vtpm bench: %s: transport error %d (%s)\n",
			vb_cmds[c].name, rc, strerror(-rc));
		return -1;
	}
	if (vb_check_response(c, rsp, n, why, sizeof(why))) {
		fprintf(stderr, "vtpm bench: %s\n", why);
		return -1;
	}
	return 0;
}

/* Runs operations for about ms milliseconds; the clock is read every
 * `batch` operations.  Returns operations done and the time they took. */
static int timed(vb_xfer_fn fn, void *ctx, enum vb_cmd c, int ms, uint64_t *ops,
		 uint64_t *ns)
{
	static uint8_t rsp[VB_RSP_MAX];
	const uint32_t batch = 8;
	uint64_t t0 = vb_now_ns(), end = t0 + (uint64_t)ms * 1000000u, t = t0;
	uint64_t n = 0;

	while (t < end) {
		for (uint32_t i = 0; i < batch; i++)
			if (one(fn, ctx, c, rsp))
				return -1;
		n += batch;
		t = vb_now_ns();
	}
	*ops = n;
	*ns = t - t0;
	return 0;
}

#define VB_MAX_LOOPS   64
#define VB_MAX_SAMPLES (1u << 20)

int vb_measure(vb_xfer_fn fn, void *ctx, enum vb_cmd c, int loops, int loop_ms,
	       struct vb_result *out)
{
	static uint8_t rsp[VB_RSP_MAX];
	double rate[VB_MAX_LOOPS];
	uint32_t *lat;
	uint64_t ops, ns, end;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (loops < 1)
		loops = 1;
	if (loops > VB_MAX_LOOPS)
		loops = VB_MAX_LOOPS;
	if (timed(fn, ctx, c, loop_ms / 4 + 1, &ops, &ns))
		return -1;
	for (int l = 0; l < loops; l++) {
		if (timed(fn, ctx, c, loop_ms, &ops, &ns))
			return -1;
		rate[l] = ns ? (double)ops * 1e9 / (double)ns : 0;
		out->ops += ops;
	}
	qsort(rate, (size_t)loops, sizeof(rate[0]), cmp_double);
	out->per_s = loops % 2 ? rate[loops / 2]
			       : (rate[loops / 2 - 1] + rate[loops / 2]) / 2;
	out->min_s = rate[0];
	out->max_s = rate[loops - 1];

	/* Latency: each operation timed on its own (two clock reads, tens
	 * of ns, not counted in the rates above). */
	lat = malloc(VB_MAX_SAMPLES * sizeof(*lat));
	if (!lat)
		return -1;
	end = vb_now_ns() + (uint64_t)loop_ms * 1000000u;
	while (n < VB_MAX_SAMPLES) {
		uint64_t t0 = vb_now_ns(), t1;

		if (one(fn, ctx, c, rsp)) {
			free(lat);
			return -1;
		}
		t1 = vb_now_ns();
		lat[n++] =
			t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0);
		if (t1 >= end)
			break;
	}
	qsort(lat, n, sizeof(*lat), cmp_u32);
	out->p50_ns = lat[n / 2];
	out->p99_ns = lat[(n * 99) / 100];
	free(lat);
	return 0;
}

void vb_print(const char *prefix, enum vb_cmd c, const struct vb_result *r)
{
	const char *nm = vb_cmds[c].name;

	printf("%s%s_per_s %.1f\n", prefix, nm, r->per_s);
	printf("%s%s_min_per_s %.1f\n", prefix, nm, r->min_s);
	printf("%s%s_max_per_s %.1f\n", prefix, nm, r->max_s);
	printf("%s%s_p50_ns %.0f\n", prefix, nm, r->p50_ns);
	printf("%s%s_p99_ns %.0f\n", prefix, nm, r->p99_ns);
	fflush(stdout);
}
