/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unit_vtpmd.c - hvsec-vtpmd's parsers and rate limit, as tables: the
 * strict decimal every frontend number goes through, localities, UUIDs,
 * the command line (which error wins when several are wrong), and the
 * console rate limit a flooding guest meets.
 */
#include <errno.h>
#include <string.h>

#include "tests/harness.h"
#include "vtpm-instance/vtpmd.h"

static void test_u32(void)
{
	static const struct {
		const char *s;
		uint32_t max;
		int want;
		uint32_t v;
	} c[] = {
		{"0", 10, 0, 0},
		{"8", 10, 0, 8},
		{"10", 10, 0, 10},
		{"11", 10, -ERANGE, 0},
		{"4294967295", UINT32_MAX, 0, UINT32_MAX},
		{"4294967296", UINT32_MAX, -ERANGE, 0},
		{"9999999999", UINT32_MAX, -ERANGE, 0},
		{"12345678901", UINT32_MAX, -EINVAL, 0}, /* 11 digits */
		{"", 10, -EINVAL, 0},
		{"08", 10, -EINVAL, 0}, /* one spelling per number */
		{"00", 10, -EINVAL, 0},
		{"+1", 10, -EINVAL, 0},
		{"-1", 10, -EINVAL, 0},
		{" 1", 10, -EINVAL, 0},
		{"1 ", 10, -EINVAL, 0},
		{"0x8", 10, -EINVAL, 0},
		{"1e3", 5000, -EINVAL, 0},
		{"１", 10, -EINVAL, 0}, /* not ASCII */
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		uint32_t v = 0xdead;
		int rc = vtpmd_parse_u32(c[i].s, c[i].max, &v);

		TH_CHECK(rc == c[i].want, "u32 \"%s\" max %u: %d, want %d",
			 c[i].s, c[i].max, rc, c[i].want);
		if (!c[i].want)
			TH_CHECK(v == c[i].v, "u32 \"%s\" = %u", c[i].s, v);
		else
			TH_CHECK(v == 0xdead, "u32 \"%s\": out untouched",
				 c[i].s);
	}
	TH_CHECK(vtpmd_parse_u32(NULL, 10, &(uint32_t){0}) == -EINVAL,
		 "u32 NULL");
}

static void test_localities(void)
{
	static const struct {
		const char *s;
		int want;
		uint32_t mask;
	} c[] = {
		{"0", 0, 0x01},		{"4", 0, 0x10},
		{"0,1,2,3,4", 0, 0x1f}, {"3,0", 0, 0x09},
		{"", -EINVAL, 0},	{"5", -EINVAL, 0},
		{"0,0", -EINVAL, 0},	{"0,", -EINVAL, 0},
		{",0", -EINVAL, 0},	{"0,,1", -EINVAL, 0},
		{"01", -EINVAL, 0},	{"0 ,1", -EINVAL, 0},
		{"a", -EINVAL, 0},	{"-1", -EINVAL, 0},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		uint32_t m = 0;
		int rc = vtpmd_parse_localities(c[i].s, &m);

		TH_CHECK(rc == c[i].want, "localities \"%s\": %d", c[i].s, rc);
		if (!rc)
			TH_CHECK(m == c[i].mask, "localities \"%s\" = 0x%x",
				 c[i].s, m);
	}
}

static void test_uuid(void)
{
	static const struct {
		const char *s;
		int want;
		const char *out;
	} c[] = {
		{"0123abcd-4567-89ef-0123-456789abcdef", 0,
		 "0123abcd-4567-89ef-0123-456789abcdef"},
		{"0123ABCD-4567-89EF-0123-456789ABCDEF", 0,
		 "0123abcd-4567-89ef-0123-456789abcdef"},
		{"0123abcd-4567-89ef-0123-456789abcde", -EINVAL, NULL},
		{"0123abcd-4567-89ef-0123-456789abcdef0", -EINVAL, NULL},
		{"0123abcd04567-89ef-0123-456789abcdef", -EINVAL, NULL},
		{"0123abcg-4567-89ef-0123-456789abcdef", -EINVAL, NULL},
		{"0123abcd-4567-89ef-0123-456789abcde-", -EINVAL, NULL},
		{"", -EINVAL, NULL},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		char out[VTPMD_UUID_LEN + 1] = "";
		int rc = vtpmd_parse_uuid(c[i].s, out);

		TH_CHECK(rc == c[i].want, "uuid \"%s\": %d", c[i].s, rc);
		if (!rc)
			TH_CHECK(!strcmp(out, c[i].out), "uuid \"%s\" -> %s",
				 c[i].s, out);
	}
}

#define U   "--uuid", "0123abcd-4567-89ef-0123-456789abcdef"
#define REQ "--frontend-id", "3", "--devid", "0", "--state-dir", "/s", U

static void test_args(void)
{
	static const struct {
		const char *name;
		const char *argv[16];
		int want;
		const char *why; /* substring of the message */
	} c[] = {
		{"minimal", {REQ}, 0, ""},
		{"all options",
		 {REQ, "--locality", "0,2", "--tpm12", "--spin-us", "0"},
		 0,
		 ""},
		{"--opt=value",
		 {"--frontend-id=3", "--devid=0", "--state-dir=/s",
		  "--uuid=0123abcd-4567-89ef-0123-456789abcdef"},
		 0,
		 ""},
		{"help alone", {"--help"}, 0, ""},
		{"nothing", {NULL}, -EINVAL, "--frontend-id is required"},
		{"missing devid",
		 {"--frontend-id", "3", "--state-dir", "/s", U},
		 -EINVAL,
		 "--devid is required"},
		{"missing uuid",
		 {"--frontend-id", "3", "--devid", "0", "--state-dir", "/s"},
		 -EINVAL,
		 "--uuid is required"},
		{"first missing wins",
		 {"--state-dir", "/s"},
		 -EINVAL,
		 "--frontend-id is required"},
		{"bad frontend-id",
		 {"--frontend-id", "x3"},
		 -EINVAL,
		 "--frontend-id \"x3\": not a decimal number"},
		{"frontend-id too big",
		 {"--frontend-id", "32752"},
		 -EINVAL,
		 "--frontend-id \"32752\": out of range"},
		{"devid twice",
		 {REQ, "--devid", "65536"},
		 -EINVAL,
		 "--devid given twice"},
		{"devid out of range",
		 {"--devid", "65536", "--frontend-id", "1"},
		 -EINVAL,
		 "--devid \"65536\": out of range"},
		{"bad uuid", {"--uuid", "nope"}, -EINVAL, "--uuid \"nope\""},
		{"bad locality",
		 {REQ, "--locality", "0,5"},
		 -EINVAL,
		 "--locality \"0,5\""},
		{"spin too long",
		 {REQ, "--spin-us", "10001"},
		 -EINVAL,
		 "--spin-us \"10001\": out of range"},
		{"empty state dir",
		 {"--state-dir", ""},
		 -EINVAL,
		 "--state-dir: empty"},
		{"unknown option",
		 {REQ, "--bogus"},
		 -EINVAL,
		 "--bogus: unknown option"},
		{"missing value",
		 {REQ, "--spin-us"},
		 -EINVAL,
		 "--spin-us: needs a value"},
		{"stray argument",
		 {REQ, "extra"},
		 -EINVAL,
		 "unexpected argument \"extra\""},
		{"twice",
		 {"--tpm12", "--tpm12"},
		 -EINVAL,
		 "--tpm12 given twice"},
		/* Which error wins: the first bad option in order, before any
		 * missing one. */
		{"bad before missing",
		 {"--devid", "-1"},
		 -EINVAL,
		 "--devid \"-1\": not a decimal"},
		{"control chars sanitized",
		 {"--frontend-id", "1\x1b[2J"},
		 -EINVAL,
		 "\"1?[2J\""},
		{"manager", {REQ, "--manager", "1"}, 0, ""},
		{"manager not a domid",
		 {REQ, "--manager", "32752"},
		 -EINVAL,
		 "--manager \"32752\": out of range"},
		{"manager is the guest",
		 {REQ, "--manager", "3"},
		 -EINVAL,
		 "--manager 3 is the guest"},
		{"manager twice",
		 {REQ, "--manager", "1", "--manager", "2"},
		 -EINVAL,
		 "--manager given twice"},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		char *argv[18] = {"hvsec-vtpmd"};
		struct vtpmd_cfg cfg;
		char why[256];
		int argc = 1, rc;

		for (size_t k = 0; c[i].argv[k]; k++)
			argv[argc++] = (char *)c[i].argv[k];
		rc = vtpmd_parse_args(argc, argv, &cfg, why, sizeof(why));
		TH_CHECK(rc == c[i].want, "args %s: %d (%s)", c[i].name, rc,
			 why);
		TH_CHECK(strstr(why, c[i].why) != NULL,
			 "args %s: \"%s\" lacks \"%s\"", c[i].name, why,
			 c[i].why);
	}
}

static void test_args_values(void)
{
	char *argv[] = {"hvsec-vtpmd",
			"--frontend-id",
			"7",
			"--devid",
			"2",
			"--state-dir",
			"/x",
			"--uuid",
			"0123ABCD-4567-89ef-0123-456789abcdef",
			"--locality",
			"1,4",
			"--tpm12",
			"--spin-us",
			"250",
			NULL};
	struct vtpmd_cfg cfg;
	char why[128];

	TH_CHECK(!vtpmd_parse_args(13 + 1, argv, &cfg, why, sizeof(why)),
		 "values: %s", why);
	TH_CHECK(cfg.frontend_id == 7 && cfg.devid == 2, "ids");
	TH_CHECK(!strcmp(cfg.state_dir, "/x"), "state dir");
	TH_CHECK(!strcmp(cfg.uuid, "0123abcd-4567-89ef-0123-456789abcdef"),
		 "uuid lowercased: %s", cfg.uuid);
	TH_CHECK(cfg.localities == 0x12, "localities 0x%x", cfg.localities);
	TH_CHECK(cfg.tpm12 && cfg.spin_us == 250 && cfg.spin_given, "flags");

	char *argv2[] = {"hvsec-vtpmd", REQ, NULL};

	TH_CHECK(!vtpmd_parse_args(9, argv2, &cfg, why, sizeof(why)),
		 "defaults: %s", why);
	TH_CHECK(cfg.localities == VTPM_LOCALITY_DEFAULT_MASK && !cfg.tpm12 &&
			 !cfg.spin_given,
		 "defaults");
}

static void test_sanitize(void)
{
	char out[8];

	vtpmd_sanitize("ab\ncd\x7f", out, sizeof(out));
	TH_CHECK(!strcmp(out, "ab?cd?"), "sanitize: %s", out);
	vtpmd_sanitize("0123456789", out, sizeof(out));
	TH_CHECK(!strcmp(out, "0123456"), "sanitize truncates: %s", out);
	vtpmd_sanitize(NULL, out, sizeof(out));
	TH_CHECK(!strcmp(out, ""), "sanitize NULL");
}

static void test_ratelimit(void)
{
	struct vtpm_rl rl = {0};
	unsigned dropped = 0, allowed = 0;

	for (unsigned i = 0; i < 100; i++) {
		allowed += vtpmd_rl_allow(&rl, 1000 + i, &dropped);
		TH_CHECK(dropped == 0, "no window ended yet (%u)", i);
	}
	TH_CHECK(allowed == VTPMD_RL_BURST, "burst: %u allowed", allowed);
	TH_CHECK(!vtpmd_rl_allow(&rl, 1000 + VTPMD_RL_WINDOW_MS - 1, &dropped),
		 "still the same window");
	TH_CHECK(vtpmd_rl_allow(&rl, 1000 + VTPMD_RL_WINDOW_MS, &dropped),
		 "next window allows");
	TH_CHECK(dropped == 100 - VTPMD_RL_BURST + 1,
		 "the new window reports the dropped: %u", dropped);
	TH_CHECK(vtpmd_rl_allow(&rl, 1000 + 3 * VTPMD_RL_WINDOW_MS, &dropped) &&
			 dropped == 0,
		 "a quiet window reports none");
}

int main(void)
{
	test_u32();
	test_localities();
	test_uuid();
	test_args();
	test_args_values();
	test_sanitize();
	test_ratelimit();
	return th_done();
}
