/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tpm - the TPM engine (vtpm_tpm.c) on the real libtpms with the file
 * store in a temporary directory: power on manufactures, commands work,
 * guests cannot Startup, the locality reaches libtpms, NV survives
 * reset and power cycles while PCRs do not, a store that fails turns the
 * response into TPM_RC_NV_UNAVAILABLE and the state after reset is the
 * durable one, the TPM advertises 4088-byte buffers.  Also TPM 1.2.
 *
 * libtpms keeps one TPM per process: every case powers off before the
 * next powers on.  Commands are marshalled by hand (big-endian).  Times
 * are printed as "# ..." lines.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/vtpm/tpmcmd.h"
#include "vtpm-instance/vtpm.h"

/* ------------------------------------------------------------ commands */

#define ST_NO_SESSIONS 0x8001
#define ST_SESSIONS    0x8002
#define RH_OWNER       0x40000001u
#define NV_INDEX       0x01500000u
#define ALG_SHA256     0x000b

static void cmd_getrandom(struct tpmcmd *c, uint16_t n)
{
	tpmcmd_begin(c, ST_NO_SESSIONS, 0x17b);
	tpmcmd_put16(c, n);
	tpmcmd_done(c);
}

static void cmd_getcap_prop(struct tpmcmd *c, uint32_t prop)
{
	tpmcmd_begin(c, ST_NO_SESSIONS, 0x17a);
	tpmcmd_put32(c, 6); /* TPM_CAP_TPM_PROPERTIES */
	tpmcmd_put32(c, prop);
	tpmcmd_put32(c, 1);
	tpmcmd_done(c);
}

static void cmd_startup(struct tpmcmd *c)
{
	tpmcmd_begin(c, ST_NO_SESSIONS, 0x144);
	tpmcmd_put16(c, 0); /* SU_CLEAR */
	tpmcmd_done(c);
}

static void cmd_pcr_extend(struct tpmcmd *c, uint32_t pcr, const uint8_t d[32])
{
	tpmcmd_begin(c, ST_SESSIONS, 0x182);
	tpmcmd_put32(c, pcr);
	tpmcmd_pw_session(c);
	tpmcmd_put32(c, 1);
	tpmcmd_put16(c, ALG_SHA256);
	tpmcmd_putbytes(c, d, 32);
	tpmcmd_done(c);
}

static void cmd_pcr_read(struct tpmcmd *c, uint32_t pcr)
{
	tpmcmd_begin(c, ST_NO_SESSIONS, 0x17e);
	tpmcmd_put32(c, 1);
	tpmcmd_put16(c, ALG_SHA256);
	tpmcmd_put8(c, 3);
	tpmcmd_put8(c, pcr < 8 ? (uint8_t)(1u << pcr) : 0);
	tpmcmd_put8(c, pcr >= 8 && pcr < 16 ? (uint8_t)(1u << (pcr - 8)) : 0);
	tpmcmd_put8(c, pcr >= 16 ? (uint8_t)(1u << (pcr - 16)) : 0);
	tpmcmd_done(c);
}

static void cmd_nv_define(struct tpmcmd *c, uint16_t size)
{
	tpmcmd_begin(c, ST_SESSIONS, 0x12a);
	tpmcmd_put32(c, RH_OWNER);
	tpmcmd_pw_session(c);
	tpmcmd_put16(c, 0);  /* auth */
	tpmcmd_put16(c, 14); /* TPMS_NV_PUBLIC */
	tpmcmd_put32(c, NV_INDEX);
	tpmcmd_put16(c, ALG_SHA256);
	tpmcmd_put32(c, 1u << 1 | 1u << 17); /* OWNERWRITE | OWNERREAD */
	tpmcmd_put16(c, 0);		     /* authPolicy */
	tpmcmd_put16(c, size);
	tpmcmd_done(c);
}

static void cmd_nv_write(struct tpmcmd *c, const uint8_t *d, uint16_t len)
{
	tpmcmd_begin(c, ST_SESSIONS, 0x137);
	tpmcmd_put32(c, RH_OWNER);
	tpmcmd_put32(c, NV_INDEX);
	tpmcmd_pw_session(c);
	tpmcmd_put16(c, len);
	tpmcmd_putbytes(c, d, len);
	tpmcmd_put16(c, 0); /* offset */
	tpmcmd_done(c);
}

static void cmd_nv_read(struct tpmcmd *c, uint16_t len)
{
	tpmcmd_begin(c, ST_SESSIONS, 0x14e);
	tpmcmd_put32(c, RH_OWNER);
	tpmcmd_put32(c, NV_INDEX);
	tpmcmd_pw_session(c);
	tpmcmd_put16(c, len);
	tpmcmd_put16(c, 0);
	tpmcmd_done(c);
}

/* ------------------------------------------------------------- helpers */

static uint8_t rsp[VTPM_RING_MAX_PAYLOAD];
static size_t rsp_len;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Runs c at locality loc; returns the response code (or ~0 when the
 * response is not a well-formed one). */
static uint32_t run_at(const struct tpmcmd *c, uint8_t loc)
{
	return tpmcmd_run(c, loc, rsp, sizeof(rsp), &rsp_len);
}

static uint32_t run(const struct tpmcmd *c)
{
	return run_at(c, 0);
}

static uint32_t get_prop(uint32_t prop)
{
	struct tpmcmd c;

	cmd_getcap_prop(&c, prop);
	if (run(&c) != 0 || rsp_len < 27 || tpmcmd_be32(rsp + 19) != prop)
		return 0;
	return tpmcmd_be32(rsp + 23);
}

/* The sha256 value of a PCR, or false. */
static bool read_pcr(uint32_t pcr, uint8_t out[32])
{
	struct tpmcmd c;

	cmd_pcr_read(&c, pcr);
	if (run(&c) != 0 || rsp_len != 62 || tpmcmd_be32(rsp + 24) != 1 ||
	    tpmcmd_be16(rsp + 28) != 32)
		return false;
	memcpy(out, rsp + 30, 32);
	return true;
}

static bool read_nv(uint8_t *out, uint16_t len)
{
	struct tpmcmd c;

	cmd_nv_read(&c, len);
	if (run(&c) != 0 || rsp_len < 16u + len || tpmcmd_be16(rsp + 14) != len)
		return false;
	memcpy(out, rsp + 16, len);
	return true;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* A store that forwards to another and can be told to fail; counts. */
struct flaky {
	struct vtpm_store *inner;
	bool fail_store, fail_load;
	int stores, loads, removes;
};

static int flaky_load(void *ctx, const char *name, uint8_t **d, size_t *l)
{
	struct flaky *f = ctx;

	f->loads++;
	if (f->fail_load)
		return -EIO;
	return f->inner->ops->load(f->inner->ctx, name, d, l);
}

static int flaky_store(void *ctx, const char *name, const uint8_t *d, size_t l)
{
	struct flaky *f = ctx;

	f->stores++;
	if (f->fail_store)
		return -EIO;
	return f->inner->ops->store(f->inner->ctx, name, d, l);
}

static int flaky_remove(void *ctx, const char *name)
{
	struct flaky *f = ctx;

	f->removes++;
	return f->inner->ops->remove(f->inner->ctx, name);
}

static const struct vtpm_store_ops flaky_ops = {
	.load = flaky_load,
	.store = flaky_store,
	.remove = flaky_remove,
};

static char dir[64];
static struct vtpm_store file_st;
static struct flaky flaky;
static struct vtpm_store flaky_st = {&flaky_ops, &flaky};

static void remove_dir(void)
{
	struct dirent *e;
	DIR *d;

	if (!dir[0])
		return;
	vtpm_store_close(&file_st);
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
	dir[0] = '\0';
}

static void fresh_dir(void)
{
	remove_dir();
	snprintf(dir, sizeof(dir), "/tmp/test_tpm.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	if (vtpm_store_file_open(&file_st, dir, NULL, 0) != 0) {
		fprintf(stderr, "cannot open store in %s\n", dir);
		exit(2);
	}
	memset(&flaky, 0, sizeof(flaky));
	flaky.inner = &file_st;
}

static bool in_dir(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int power_on(bool tpm12, char *why, size_t why_len)
{
	struct vtpm_tpm_config cfg = {.store = &flaky_st, .tpm12 = tpm12};

	return vtpm_tpm_power_on(&cfg, why, why_len);
}

/* RAM-backed state, for timing libtpms without fsync. */
static struct {
	char name[16];
	uint8_t *data;
	size_t len;
} mem[3];

static int mem_slot(const char *name, bool create)
{
	for (int i = 0; i < 3; i++)
		if (mem[i].data && strcmp(mem[i].name, name) == 0)
			return i;
	for (int i = 0; create && i < 3; i++)
		if (!mem[i].data)
			return i;
	return -1;
}

static int mem_load(void *ctx, const char *name, uint8_t **d, size_t *l)
{
	int i = mem_slot(name, false);

	(void)ctx;
	if (i < 0)
		return -ENOENT;
	*d = malloc(mem[i].len);
	if (!*d)
		return -ENOMEM;
	memcpy(*d, mem[i].data, mem[i].len);
	*l = mem[i].len;
	return 0;
}

static int mem_store(void *ctx, const char *name, const uint8_t *d, size_t l)
{
	int i = mem_slot(name, true);
	uint8_t *copy = malloc(l ? l : 1);

	(void)ctx;
	if (i < 0 || !copy) {
		free(copy);
		return -ENOSPC;
	}
	memcpy(copy, d, l);
	free(mem[i].data);
	mem[i].data = copy;
	mem[i].len = l;
	snprintf(mem[i].name, sizeof(mem[i].name), "%s", name);
	return 0;
}

static int mem_remove(void *ctx, const char *name)
{
	int i = mem_slot(name, false);

	(void)ctx;
	if (i < 0)
		return -ENOENT;
	free(mem[i].data);
	mem[i].data = NULL;
	return 0;
}

static void mem_clear(void)
{
	for (int i = 0; i < 3; i++) {
		free(mem[i].data);
		mem[i].data = NULL;
	}
}

static const struct vtpm_store_ops mem_ops = {
	.load = mem_load,
	.store = mem_store,
	.remove = mem_remove,
};

/* --------------------------------------------------------------- cases */

static const uint8_t ext_data[32] = {
	0,  1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};
/* sha256(32 zero bytes || ext_data) */
static const char ext_pcr[] =
	"bb2275c49f28ad52cae6d55e34a974a58c7a3ba26f976e8ecbbe7a536918dc73";
static const uint8_t zero32[32];

static void test_manufacture_and_basics(void)
{
	struct vtpm_tpm_stats s;
	char why[256];
	struct tpmcmd c;
	double t0, t1;
	int ret;

	fresh_dir();
	t0 = now_us();
	ret = power_on(false, why, sizeof(why));
	t1 = now_us();
	TH_CHECK(ret == 0, "power on a new TPM: %d %s", ret, why);
	printf("# file store: manufacture + Startup (fsyncs): %.2f ms\n",
	       (t1 - t0) / 1e3);
	vtpm_tpm_stats(&s);
	TH_CHECK(s.manufactured, "a new TPM is manufactured");
	TH_CHECK(flaky.stores >= 1 && s.stores == (uint64_t)flaky.stores,
		 "manufacture stores permall (%d stores)", flaky.stores);
	TH_CHECK(in_dir("permall"), "permall written");

	ret = power_on(false, why, sizeof(why));
	TH_CHECK(ret == -EBUSY, "second power on refused: %d %s", ret, why);

	cmd_getrandom(&c, 32);
	TH_CHECK(run(&c) == 0 && rsp_len == 44 && tpmcmd_be16(rsp + 10) == 32,
		 "GetRandom(32): len %zu", rsp_len);
	{
		enum { N = 20000 };
		double best = 1e9;

		for (int round = 0; round < 5; round++) {
			t0 = now_us();
			for (int i = 0; i < N; i++)
				vtpm_tpm_process(c.b, c.n, 0, rsp, sizeof(rsp));
			t1 = now_us();
			if ((t1 - t0) / N < best)
				best = (t1 - t0) / N;
		}
		printf("# GetRandom(32) in process: %.2f us (best of 5 x %d)\n",
		       best, N);
	}

	TH_CHECK(get_prop(0x11e) == 4088, "TPM_PT_MAX_COMMAND_SIZE = 4088");
	TH_CHECK(get_prop(0x11f) == 4088, "TPM_PT_MAX_RESPONSE_SIZE = 4088");
	vtpm_tpm_power_off();
}

/* Requests refused before libtpms sees them, in both families. */
static void test_refused(void)
{
	static const struct {
		const char *what;
		uint16_t tag;
		uint32_t code;
		size_t len; /* 0: as marshalled */
		uint8_t loc;
		uint32_t rc;
		uint16_t rsp_tag;
	} cases[] = {
		{"2.0 Startup", 0x8001, 0x144, 0, 0, 0x100, 0x8001},
		{"2.0 Startup with sessions tag", 0x8002, 0x144, 0, 0, 0x100,
		 0x8001},
		{"2.0 Startup at locality 3", 0x8001, 0x144, 0, 3, 0x100,
		 0x8001},
		{"1.2 TPM_Startup", 0x00c1, 0x99, 0, 0, 0x26, 0x00c4},
		{"1.2 TPM_Startup auth1 tag", 0x00c2, 0x99, 0, 0, 0x26, 0x00c4},
		{"1.2 TPM_Init", 0x00c1, 0x97, 0, 0, 0x0a, 0x00c4},
		{"9 bytes", 0x8001, 0x17b, 9, 0, 0x142, 0x8001},
		{"1 byte", 0x8001, 0x17b, 1, 0, 0x142, 0x8001},
		{"9 bytes 1.2", 0x00c1, 0x46, 9, 0, 0x19, 0x00c4},
		{"4089 bytes", 0x8001, 0x17b, 4089, 0, 0x142, 0x8001},
		{"locality 5", 0x8001, 0x17b, 0, 5, 0x907, 0x8001},
		{"locality 255", 0x8001, 0x17b, 0, 255, 0x907, 0x8001},
		{"locality 255 1.2", 0x00c1, 0x46, 0, 255, 0x3d, 0x00c4},
	};
	struct vtpm_tpm_stats s0, s1;
	char why[256];
	struct tpmcmd c;
	int ret;

	fresh_dir();
	ret = power_on(false, why, sizeof(why));
	TH_CHECK(ret == 0, "power on: %s", why);
	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		tpmcmd_begin(&c, cases[i].tag, cases[i].code);
		tpmcmd_put16(&c, 0);
		memset(c.b + c.n, 0, sizeof(c.b) - c.n);
		if (cases[i].len)
			c.n = cases[i].len;
		tpmcmd_done(&c);
		vtpm_tpm_stats(&s0);
		rsp_len = vtpm_tpm_process(c.b, c.n, cases[i].loc, rsp,
					   sizeof(rsp));
		vtpm_tpm_stats(&s1);
		TH_CHECK(rsp_len == 10 &&
				 tpmcmd_be16(rsp) == cases[i].rsp_tag &&
				 tpmcmd_be32(rsp + 2) == 10 &&
				 tpmcmd_be32(rsp + 6) == cases[i].rc,
			 "%s: len %zu tag %#x rc %#x, want %#x", cases[i].what,
			 rsp_len, tpmcmd_be16(rsp), tpmcmd_be32(rsp + 6),
			 cases[i].rc);
		TH_CHECK(s1.errors == s0.errors + 1 &&
				 s1.commands == s0.commands + 1,
			 "%s: counted as an error", cases[i].what);
	}
	TH_CHECK(vtpm_tpm_process(NULL, 0, 0, rsp, sizeof(rsp)) == 10 &&
			 tpmcmd_be32(rsp + 6) == 0x142,
		 "NULL command: COMMAND_SIZE");
	cmd_getrandom(&c, 8);
	TH_CHECK(vtpm_tpm_process(c.b, c.n, 0, rsp, 9) == 0,
		 "cap 9: nothing written");
	TH_CHECK(vtpm_tpm_process(c.b, c.n, 0, NULL, 100) == 0,
		 "NULL rsp: nothing written");
	/* After all that the TPM still works and was started exactly once. */
	TH_CHECK(run(&c) == 0, "GetRandom after refusals");
	vtpm_tpm_power_off();

	cmd_getrandom(&c, 8);
	TH_CHECK(run(&c) == 0x101 && rsp_len == 10, "TPM off: TPM_RC_FAILURE");
}

/* libtpms sees the locality we pass: PCR 21 extends at locality 2 only
 * (PC Client PCR attributes as libtpms implements them). */
static void test_locality_and_pcrs(void)
{
	uint8_t v[32];
	char h[65], why[256];
	struct tpmcmd c;

	fresh_dir();
	TH_CHECK(power_on(false, why, sizeof(why)) == 0, "power on: %s", why);
	TH_CHECK(read_pcr(10, v) && memcmp(v, zero32, 32) == 0,
		 "PCR 10 starts zero");
	cmd_pcr_extend(&c, 10, ext_data);
	TH_CHECK(run(&c) == 0, "PCR_Extend 10: rc %#x", tpmcmd_be32(rsp + 6));
	TH_CHECK(read_pcr(10, v), "PCR_Read 10");
	hex(v, 32, h);
	TH_CHECK(strcmp(h, ext_pcr) == 0, "PCR 10 = %s", h);

	cmd_pcr_extend(&c, 21, ext_data);
	TH_CHECK(run_at(&c, 0) == 0x907, "PCR 21 at locality 0: rc %#x",
		 tpmcmd_be32(rsp + 6));
	TH_CHECK(run_at(&c, 2) == 0, "PCR 21 at locality 2: rc %#x",
		 tpmcmd_be32(rsp + 6));
	TH_CHECK(read_pcr(21, v) && memcmp(v, zero32, 32) != 0,
		 "PCR 21 extended");
	vtpm_tpm_power_off();
}

static void test_nv_durable(void)
{
	uint8_t data[32], back[32], v[32];
	struct vtpm_tpm_stats s;
	char why[256];
	struct tpmcmd c;
	int stores, ret;

	for (int i = 0; i < 32; i++)
		data[i] = (uint8_t)(0xa0 + i);
	fresh_dir();
	TH_CHECK(power_on(false, why, sizeof(why)) == 0, "power on: %s", why);
	cmd_nv_define(&c, 32);
	TH_CHECK(run(&c) == 0, "NV_DefineSpace: rc %#x", tpmcmd_be32(rsp + 6));
	stores = flaky.stores;
	cmd_nv_write(&c, data, 32);
	TH_CHECK(run(&c) == 0, "NV_Write: rc %#x", tpmcmd_be32(rsp + 6));
	TH_CHECK(flaky.stores == stores + 1, "NV_Write stores once (%d)",
		 flaky.stores - stores);
	TH_CHECK(read_nv(back, 32) && memcmp(back, data, 32) == 0,
		 "NV_Read gives what was written");
	stores = flaky.stores;
	cmd_nv_write(&c, data, 32);
	TH_CHECK(run(&c) == 0 && flaky.stores == stores,
		 "NV_Write of identical data stores nothing");
	cmd_pcr_extend(&c, 10, ext_data);
	TH_CHECK(run(&c) == 0, "PCR_Extend");

	/* Platform reset: PCRs clear, NV stays, the buffer size too. */
	ret = vtpm_tpm_reset(why, sizeof(why));
	TH_CHECK(ret == 0, "reset: %d %s", ret, why);
	vtpm_tpm_stats(&s);
	TH_CHECK(!s.manufactured, "reset does not manufacture");
	TH_CHECK(read_pcr(10, v) && memcmp(v, zero32, 32) == 0,
		 "reset clears PCR 10");
	TH_CHECK(read_nv(back, 32) && memcmp(back, data, 32) == 0,
		 "reset keeps NV");
	TH_CHECK(get_prop(0x11e) == 4088, "MAX_COMMAND_SIZE after reset");
	cmd_startup(&c);
	TH_CHECK(run(&c) == 0x100, "Startup still refused after reset");

	/* Power off stores nothing; power on again from the same directory
	 * (a new store object, as a new process would) keeps NV. */
	stores = flaky.stores;
	vtpm_tpm_power_off();
	TH_CHECK(flaky.stores == stores && flaky.removes == 0,
		 "power off stores nothing");
	vtpm_store_close(&file_st);
	TH_CHECK(vtpm_store_file_open(&file_st, dir, why, sizeof(why)) == 0,
		 "reopen store: %s", why);
	TH_CHECK(power_on(false, why, sizeof(why)) == 0, "power on again: %s",
		 why);
	vtpm_tpm_stats(&s);
	TH_CHECK(!s.manufactured, "existing state is not remanufactured");
	TH_CHECK(read_nv(back, 32) && memcmp(back, data, 32) == 0,
		 "NV survives power off/on");
	TH_CHECK(read_pcr(10, v) && memcmp(v, zero32, 32) == 0, "PCRs do not");
	vtpm_tpm_power_off();
}

/* A store that does not become durable: the guest gets
 * TPM_RC_NV_UNAVAILABLE, never the TPM's success; libtpms then stays in
 * failure mode until reset, which brings back the durable state. */
static void test_store_failure(void)
{
	uint8_t old[16], new[16], back[16];
	struct vtpm_tpm_stats s;
	char why[256];
	struct tpmcmd c;
	uint32_t rc;
	int ret;

	memset(old, 0x11, sizeof(old));
	memset(new, 0x22, sizeof(new));
	fresh_dir();
	TH_CHECK(power_on(false, why, sizeof(why)) == 0, "power on: %s", why);
	cmd_nv_define(&c, 16);
	TH_CHECK(run(&c) == 0, "NV_DefineSpace");
	cmd_nv_write(&c, old, 16);
	TH_CHECK(run(&c) == 0, "NV_Write old");

	flaky.fail_store = true;
	cmd_nv_write(&c, new, 16);
	rc = run(&c);
	TH_CHECK(rc == 0x923 && rsp_len == 10 && tpmcmd_be16(rsp) == 0x8001,
		 "failed store: TPM_RC_NV_UNAVAILABLE (rc %#x len %zu)", rc,
		 rsp_len);
	vtpm_tpm_stats(&s);
	TH_CHECK(s.store_failures == 1, "store failure counted (%llu)",
		 (unsigned long long)s.store_failures);
	/* Identical data: libtpms stores nothing, so nothing fails. */
	cmd_getrandom(&c, 8);
	rc = run(&c);
	printf("# after a failed store libtpms answers GetRandom with %#x\n",
	       rc);
	TH_CHECK(rc == 0x101, "libtpms in failure mode after failed commit");

	flaky.fail_store = false;
	ret = vtpm_tpm_reset(why, sizeof(why));
	TH_CHECK(ret == 0, "reset after failure: %s", why);
	TH_CHECK(read_nv(back, 16) && memcmp(back, old, 16) == 0,
		 "after reset NV holds the durable (old) data");
	cmd_nv_write(&c, new, 16);
	TH_CHECK(run(&c) == 0, "NV_Write again once the store works");
	TH_CHECK(read_nv(back, 16) && memcmp(back, new, 16) == 0,
		 "new data readable");
	vtpm_tpm_power_off();

	/* Manufacture whose permall cannot be stored: no TPM. */
	fresh_dir();
	flaky.fail_store = true;
	ret = power_on(false, why, sizeof(why));
	TH_CHECK(ret == -EIO && strstr(why, "stor"),
		 "manufacture with failing store: %d %s", ret, why);
	cmd_getrandom(&c, 8);
	TH_CHECK(run(&c) == 0x101, "TPM stays off");
	flaky.fail_store = false;

	/* A load error (not "absent") is not a reason to manufacture. */
	TH_CHECK(power_on(false, why, sizeof(why)) == 0, "power on: %s", why);
	vtpm_tpm_power_off();
	flaky.fail_load = true;
	ret = power_on(false, why, sizeof(why));
	TH_CHECK(ret == -EIO && strstr(why, "loading"),
		 "load error refuses power on: %d %s", ret, why);
	flaky.fail_load = false;
}

static void test_bad_config_and_state(void)
{
	struct vtpm_tpm_config cfg = {.store = &flaky_st};
	static const struct vtpm_store_ops no_ops;
	struct vtpm_store empty = {&no_ops, NULL};
	char why[256], path[128];
	struct tpmcmd c;
	FILE *f;
	int ret;

	fresh_dir();
	ret = vtpm_tpm_power_on(NULL, why, sizeof(why));
	TH_CHECK(ret == -EINVAL, "no config: %d %s", ret, why);
	cfg.store = &empty;
	ret = vtpm_tpm_power_on(&cfg, why, sizeof(why));
	TH_CHECK(ret == -EINVAL, "store without ops: %d %s", ret, why);
	cfg.store = &flaky_st;
	cfg.buffer_size = 4089;
	ret = vtpm_tpm_power_on(&cfg, why, sizeof(why));
	TH_CHECK(ret == -EINVAL, "buffer 4089: %d %s", ret, why);
	cfg.buffer_size = 100;
	ret = vtpm_tpm_power_on(&cfg, why, sizeof(why));
	TH_CHECK(ret == -EINVAL && strstr(why, "buffer size"),
		 "buffer 100: %d %s", ret, why);
	cfg.buffer_size = 3072;
	ret = vtpm_tpm_power_on(&cfg, why, sizeof(why));
	TH_CHECK(ret == 0, "buffer 3072: %d %s", ret, why);
	TH_CHECK(get_prop(0x11e) == 3072, "advertised 3072");
	vtpm_tpm_power_off();

	/* A permall that is not libtpms': refused, not manufactured over. */
	snprintf(path, sizeof(path), "%s/permall", dir);
	f = fopen(path, "r+b");
	if (f) {
		fseek(f, 40, SEEK_SET);
		fputc(0x5a, f);
		fclose(f);
	}
	ret = power_on(false, why, sizeof(why));
	TH_CHECK(ret == -EBADMSG, "corrupt permall: %d %s", ret, why);
	/* Well-formed file, garbage for libtpms: libtpms enters failure
	 * mode, our Startup sees it. */
	{
		uint8_t junk[300];

		memset(junk, 0x5a, sizeof(junk));
		file_st.ops->store(file_st.ctx, "permall", junk, sizeof(junk));
	}
	ret = power_on(false, why, sizeof(why));
	TH_CHECK(ret == -EIO, "garbage permall: %d %s", ret, why);
	cmd_getrandom(&c, 8);
	TH_CHECK(run(&c) == 0x101, "and the TPM is off");
	TH_CHECK(vtpm_tpm_reset(why, sizeof(why)) == -ENODEV,
		 "reset while off: %s", why);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Timings without the disk: manufacture, and power on from state. */
static void test_timing_ram(void)
{
	struct vtpm_store st = {&mem_ops, NULL};
	struct vtpm_tpm_config cfg = {.store = &st};
	enum { N = 9 };
	double fresh[N], again[N], t0;
	struct vtpm_tpm_stats s;
	char why[256];
	bool ok = true;

	for (int i = 0; i < N; i++) {
		mem_clear();
		t0 = now_us();
		ok &= vtpm_tpm_power_on(&cfg, why, sizeof(why)) == 0;
		fresh[i] = now_us() - t0;
		vtpm_tpm_stats(&s);
		ok &= s.manufactured;
		vtpm_tpm_power_off();
		t0 = now_us();
		ok &= vtpm_tpm_power_on(&cfg, why, sizeof(why)) == 0;
		again[i] = now_us() - t0;
		vtpm_tpm_stats(&s);
		ok &= !s.manufactured;
		vtpm_tpm_power_off();
	}
	TH_CHECK(ok, "RAM store power cycles: %s", why);
	TH_CHECK(mem[0].data && strcmp(mem[0].name, "permall") == 0 &&
			 mem_slot("volatilestate", false) < 0,
		 "only permall is stored");
	printf("# permall after manufacture: %zu bytes\n", mem[0].len);
	printf("# RAM store: first power on in this process (manufacture + "
	       "Startup): %.2f ms\n",
	       fresh[0] / 1e3);
	mem_clear();
	qsort(fresh, N, sizeof(double), cmp_double);
	qsort(again, N, sizeof(double), cmp_double);
	printf("# RAM store: manufacture + Startup median %.2f ms, "
	       "power on from state + Startup median %.2f ms\n",
	       fresh[N / 2] / 1e3, again[N / 2] / 1e3);
}

static void test_tpm12(void)
{
	struct vtpm_tpm_stats s;
	char why[256];
	struct tpmcmd c;
	int ret;

	fresh_dir();
	ret = power_on(true, why, sizeof(why));
	TH_CHECK(ret == 0, "TPM 1.2 power on: %d %s", ret, why);
	vtpm_tpm_stats(&s);
	TH_CHECK(s.manufactured, "1.2 manufactured");
	tpmcmd_begin(&c, 0x00c1, 0x46); /* TPM_ORD_GetRandom */
	tpmcmd_put32(&c, 16);
	tpmcmd_done(&c);
	TH_CHECK(run(&c) == 0 && tpmcmd_be16(rsp) == 0x00c4 && rsp_len == 30,
		 "1.2 GetRandom: rc %#x len %zu", tpmcmd_be32(rsp + 6),
		 rsp_len);
	tpmcmd_begin(&c, 0x00c1, 0x99);
	tpmcmd_put16(&c, 1);
	tpmcmd_done(&c);
	TH_CHECK(run(&c) == 0x26 && tpmcmd_be16(rsp) == 0x00c4,
		 "1.2 guest Startup: TPM_INVALID_POSTINIT");
	ret = vtpm_tpm_reset(why, sizeof(why));
	TH_CHECK(ret == 0, "1.2 reset: %s", why);
	tpmcmd_begin(&c, 0x00c1, 0x46);
	tpmcmd_put32(&c, 16);
	tpmcmd_done(&c);
	TH_CHECK(run(&c) == 0, "1.2 GetRandom after reset");
	vtpm_tpm_power_off();
}

int main(void)
{
	test_timing_ram(); /* first: it times the process's first power on */
	test_manufacture_and_basics();
	test_refused();
	test_locality_and_pcrs();
	test_nv_durable();
	test_store_failure();
	test_bad_config_and_state();
	test_tpm12();
	remove_dir();
	return th_done();
}
