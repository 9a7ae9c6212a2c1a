/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * provision_bench - where a new vTPM's provisioning time goes inside the
 * TPM itself (bench/provision.sh, bench/README.md "vTPM provisioning"):
 * libtpms in this process, state in memory (no I/O), N new TPMs one
 * after the other (one TPM per process at a time):
 *
 *   manufacture   vtpm_tpm_power_on on an empty store: MainInit makes new
 *                 seeds, Startup(CLEAR)
 *   ek_rsa        vtpm_ek_create(RSA-2048): CreatePrimary from the
 *                 endorsement seed (a prime search) + EvictControl
 *   ek_ecc        vtpm_ek_create(ECC P-256), the same
 *
 *   provision_bench N
 *
 * prints "<name>_ms_median V" and "<name>_ms_p90 V" lines; exit 1 when
 * the TPM fails.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtpm-instance/vtpm.h"

/* A store in memory, emptied before each power-on (so each one
 * manufactures): libtpms reads back what it stored during MainInit. */
#define MEM_NAMES 4
static struct {
	char name[32];
	uint8_t *data;
	size_t len;
} mem[MEM_NAMES];

static void mem_clear(void)
{
	for (int i = 0; i < MEM_NAMES; i++) {
		free(mem[i].data);
		memset(&mem[i], 0, sizeof(mem[i]));
	}
}

static int mem_find(const char *name, bool add)
{
	for (int i = 0; i < MEM_NAMES; i++)
		if (mem[i].name[0] && !strcmp(mem[i].name, name))
			return i;
	for (int i = 0; add && i < MEM_NAMES; i++)
		if (!mem[i].name[0]) {
			snprintf(mem[i].name, sizeof(mem[i].name), "%s", name);
			return i;
		}
	return -1;
}

static int mem_load(void *ctx, const char *name, uint8_t **data, size_t *len)
{
	int i = mem_find(name, false);

	(void)ctx;
	*data = NULL;
	*len = 0;
	if (i < 0)
		return -ENOENT;
	*data = malloc(mem[i].len ? mem[i].len : 1);
	if (!*data)
		return -ENOMEM;
	memcpy(*data, mem[i].data, mem[i].len);
	*len = mem[i].len;
	return 0;
}

static int mem_store(void *ctx, const char *name, const uint8_t *data,
		     size_t len)
{
	int i = mem_find(name, true);
	uint8_t *d = malloc(len ? len : 1);

	(void)ctx;
	if (i < 0 || !d) {
		free(d);
		return -ENOSPC;
	}
	memcpy(d, data, len);
	free(mem[i].data);
	mem[i].data = d;
	mem[i].len = len;
	return 0;
}

static int mem_remove(void *ctx, const char *name)
{
	int i = mem_find(name, false);

	(void)ctx;
	if (i >= 0) {
		free(mem[i].data);
		memset(&mem[i], 0, sizeof(mem[i]));
	}
	return 0;
}

static void mem_close(void *ctx)
{
	(void)ctx;
}

static const struct vtpm_store_ops mem_ops = {mem_load, mem_store, mem_remove,
					      mem_close};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, double *v, int n)
{
	int p = (n * 9 + 9) / 10; /* nearest rank, 1-based */

	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%s_ms_median %.3f\n", name,
	       n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
	printf("%s_ms_p90 %.3f\n", name, v[(p < 1 ? 1 : p) - 1]);
	printf("%s_ms_min %.3f\n%s_ms_max %.3f\n", name, v[0], name, v[n - 1]);
}

int main(int argc, char **argv)
{
	struct vtpm_store st = {&mem_ops, NULL};
	int n = argc > 1 ? atoi(argv[1]) : 15;
	double *m, *rsa, *ecc;
	uint8_t prev[VTPM_EK_SPKI_MAX];
	size_t prev_len = 0;
	char why[256];
	int rc = 0;

	if (n < 1 || n > 10000) {
		fprintf(stderr, "usage: provision_bench [N (1..10000)]\n");
		return 2;
	}
	m = calloc((size_t)n, sizeof(*m));
	rsa = calloc((size_t)n, sizeof(*rsa));
	ecc = calloc((size_t)n, sizeof(*ecc));
	if (!m || !rsa || !ecc)
		return 1;
	for (int i = 0; i < n && !rc; i++) {
		struct vtpm_ek_public pub;
		double t0, t1, t2;

		mem_clear();
		t0 = now_ms();
		rc = vtpm_tpm_power_on(
			&(struct vtpm_tpm_config){.store = &st,
						  .platform_open = true},
			why, sizeof(why));
		if (rc)
			break;
		t1 = now_ms();
		rc = vtpm_ek_create(VTPM_EK_RSA2048, &pub, why, sizeof(why));
		t2 = now_ms();
		if (!rc)
			rc = vtpm_ek_create(VTPM_EK_ECC_P256, &pub, why,
					    sizeof(why));
		ecc[i] = now_ms() - t2;
		rsa[i] = t2 - t1;
		/* New seeds every time, or the figures are not a new TPM's
		 * (a store that drops what libtpms stores at MainInit makes
		 * libtpms hand out the same EK every time). */
		if (!rc && i && pub.spki_len == prev_len &&
		    !memcmp(pub.spki, prev, prev_len)) {
			snprintf(why, sizeof(why),
				 "TPM %d has the EK of TPM %d: not a new TPM",
				 i + 1, i);
			rc = -EPROTO;
		}
		memcpy(prev, pub.spki, pub.spki_len);
		prev_len = pub.spki_len;
		m[i] = t1 - t0;
		vtpm_tpm_power_off();
	}
	if (rc) {
		fprintf(stderr, "provision_bench: %s\n", why);
		return 1;
	}
	mem_clear();
	printf("runs %d\n", n);
	report("manufacture", m, n);
	report("ek_rsa", rsa, n);
	report("ek_ecc", ecc, n);
	free(m);
	free(rsa);
	free(ecc);
	return 0;
}
