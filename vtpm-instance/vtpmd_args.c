/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd_args.c - hvsec-vtpmd's command line, and the strict parsers it
 * shares with the XenStore side.
 *
 * The command line is the backend's only source of identity (written by
 * the toolstack), so it is read as strictly as anything a guest writes:
 * one spelling per number, every option at most once, nothing left over.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vtpm-instance/vtpmd.h"

int vtpmd_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	/* 10 digits hold any u32; more is not a spelling we accept. */
	if (n == 0 || n > 10 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int vtpmd_parse_localities(const char *s, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		unsigned l;

		/* One digit, then ',' or the end: "1,,2", "01", "1," fail. */
		if (*p < '0' || *p > '4')
			return -EINVAL;
		l = (unsigned)(*p - '0');
		if (m & (1u << l))
			return -EINVAL;
		m |= 1u << l;
		p++;
		if (!*p)
			break;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
	*mask = m;
	return 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int vtpmd_parse_uuid(const char *s, char out[VTPMD_UUID_LEN + 1])
{
	if (!s || strlen(s) != VTPMD_UUID_LEN)
		return -EINVAL;
	for (size_t i = 0; i < VTPMD_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return -EINVAL;
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a')
						      : s[i];
	}
	out[VTPMD_UUID_LEN] = '\0';
	return 0;
}

void vtpmd_sanitize(const char *in, char *out, size_t out_len)
{
	size_t i;

	if (!out_len)
		return;
	for (i = 0; in && in[i] && i + 1 < out_len; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}

enum {
	OPT_FRONTEND_ID = 1,
	OPT_DEVID,
	OPT_STATE_DIR,
	OPT_UUID,
	OPT_LOCALITY,
	OPT_TPM12,
	OPT_SPIN_US,
	OPT_MANAGER,
	OPT_HELP,
	OPT_N,
};

static const struct option options[] = {
	{"frontend-id", required_argument, NULL, OPT_FRONTEND_ID},
	{"devid", required_argument, NULL, OPT_DEVID},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"uuid", required_argument, NULL, OPT_UUID},
	{"locality", required_argument, NULL, OPT_LOCALITY},
	{"tpm12", no_argument, NULL, OPT_TPM12},
	{"spin-us", required_argument, NULL, OPT_SPIN_US},
	{"manager", required_argument, NULL, OPT_MANAGER},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static const char *opt_name(int id)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/* A number option; why names it and says what is wrong. */
static int num_opt(int id, const char *arg, uint32_t max, uint32_t *out,
		   char *why, size_t why_len)
{
	char v[24];
	int rc = vtpmd_parse_u32(arg, max, out);

	if (!rc)
		return 0;
	vtpmd_sanitize(arg, v, sizeof(v));
	snprintf(why, why_len, "--%s \"%s\": %s (a decimal number 0..%u)",
		 opt_name(id), v,
		 rc == -ERANGE ? "out of range" : "not a decimal number", max);
	return -EINVAL;
}

int vtpmd_parse_args(int argc, char **argv, struct vtpmd_cfg *cfg, char *why,
		     size_t why_len)
{
	bool seen[OPT_N] = {false};
	int c, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->localities = VTPM_LOCALITY_DEFAULT_MASK;
	why[0] = '\0';
	opterr = 0; /* our messages name the option; getopt's do not */
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		char v[64];

		if (c == '?' || c == ':') {
			vtpmd_sanitize(argv[optind - 1], v, sizeof(v));
			snprintf(why, why_len, "%s: %s", v,
				 c == ':' ? "needs a value" : "unknown option");
			return -EINVAL;
		}
		if (seen[c]) {
			snprintf(why, why_len, "--%s given twice", opt_name(c));
			return -EINVAL;
		}
		seen[c] = true;
		switch (c) {
		case OPT_FRONTEND_ID:
			rc = num_opt(c, optarg, VTPMD_DOMID_MAX,
				     &cfg->frontend_id, why, why_len);
			break;
		case OPT_DEVID:
			rc = num_opt(c, optarg, VTPMD_DEVID_MAX, &cfg->devid,
				     why, why_len);
			break;
		case OPT_STATE_DIR:
			if (!optarg[0]) {
				snprintf(why, why_len,
					 "--state-dir: empty directory name");
				return -EINVAL;
			}
			cfg->state_dir = optarg;
			break;
		case OPT_UUID:
			if (vtpmd_parse_uuid(optarg, cfg->uuid)) {
				vtpmd_sanitize(optarg, v, sizeof(v));
				snprintf(why, why_len,
					 "--uuid \"%s\": not a UUID "
					 "(8-4-4-4-12 hex digits)",
					 v);
				return -EINVAL;
			}
			break;
		case OPT_LOCALITY:
			if (vtpmd_parse_localities(optarg, &cfg->localities)) {
				vtpmd_sanitize(optarg, v, sizeof(v));
				snprintf(why, why_len,
					 "--locality \"%s\": not a list of "
					 "distinct localities 0..4 (\"0,1\")",
					 v);
				return -EINVAL;
			}
			break;
		case OPT_TPM12:
			cfg->tpm12 = true;
			break;
		case OPT_SPIN_US:
			rc = num_opt(c, optarg, VTPMD_SPIN_US_MAX,
				     &cfg->spin_us, why, why_len);
			cfg->spin_given = true;
			break;
		case OPT_MANAGER:
			rc = num_opt(c, optarg, VTPMD_DOMID_MAX,
				     &cfg->manager_id, why, why_len);
			cfg->manager = true;
			break;
		case OPT_HELP:
			cfg->help = true;
			return 0;
		}
		if (rc)
			return rc;
	}
	if (optind < argc) {
		char v[64];

		vtpmd_sanitize(argv[optind], v, sizeof(v));
		snprintf(why, why_len, "unexpected argument \"%s\"", v);
		return -EINVAL;
	}
	if (cfg->manager && cfg->manager_id == cfg->frontend_id) {
		snprintf(why, why_len,
			 "--manager %u is the guest (--frontend-id) itself",
			 cfg->manager_id);
		return -EINVAL;
	}
	/* Missing options are reported in the order of the usage line. */
	for (int id = OPT_FRONTEND_ID; id <= OPT_UUID; id++) {
		if (!seen[id]) {
			snprintf(why, why_len, "--%s is required",
				 opt_name(id));
			return -EINVAL;
		}
	}
	return 0;
}
