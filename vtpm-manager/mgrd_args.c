/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_args.c - the command line of hvsec-vtpm-managerd, strict: every
 * option once, numbers without signs or junk, options of the other mode
 * refused rather than ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm-manager/mgr_ptpm.h"
#include "vtpm-manager/mgrd.h"

int mgrd_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s), i = 0;
	unsigned base = 10;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (n - i > 8)
			return -ERANGE;
	} else if (n == 0 || n > 10 || (s[0] == '0' && n > 1)) {
		return n > 10 ? -ERANGE : -EINVAL;
	}
	for (; i < n; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v * base + d;
	}
	if (v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int mgrd_parse_pcrs(const char *s, uint32_t *mask)
{
	uint32_t m = 0;
	char buf[128], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf) || !*s)
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint32_t p;

		if (mgrd_parse_u32(tok, MGR_PCR_MAX - 1, &p) || p > 23 ||
		    (tok[0] == '0' && tok[1] == 'x'))
			return -EINVAL;
		if (m & MGR_PCR_BIT(p))
			return -EINVAL;
		m |= MGR_PCR_BIT(p);
	}
	/* "1,,2" or a trailing comma: strtok would hide it. */
	if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return -EINVAL;
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}

void mgrd_format_pcrs(uint32_t mask, char *out, size_t len)
{
	size_t used = 0;

	if (len)
		out[0] = '\0';
	for (unsigned i = 0; i < MGR_PCR_MAX; i++) {
		int n;

		if (!(mask & MGR_PCR_BIT(i)))
			continue;
		n = snprintf(out + used, len - used, "%s%u", used ? "," : "",
			     i);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

void mgrd_uuid_str(const struct mgr_uuid *u, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (unsigned i = 0; i < MGR_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u->b[i] >> 4];
		out[o++] = hex[u->b[i] & 15];
	}
	out[o] = '\0';
}

enum opt_mode { BOTH, INIT_ONLY, SERVE_ONLY };

int mgrd_parse_args(int argc, char **argv, struct mgrd_opts *o, char *why,
		    size_t why_len)
{
	static const struct {
		const char *name;
		bool arg;
		enum opt_mode mode;
	} opts[] = {
		{"--init", false, BOTH},
		{"--dir", true, BOTH},
		{"--tcti", true, BOTH},
		{"--pcrs", true, INIT_ONLY},
		{"--nv-index", true, INIT_ONLY},
		{"--force-new-counter", false, INIT_ONLY},
		{"--control", true, SERVE_ONLY},
		{"--commit-window-us", true, SERVE_ONLY},
		{"--toolstack-uid", true, SERVE_ONLY},
		{"--help", false, BOTH},
		{"--no-sandbox", false, SERVE_ONLY},
	};
	bool seen[sizeof(opts) / sizeof(opts[0])] = {false};
	int rc;

	memset(o, 0, sizeof(*o));
	o->pcrs = MGR_PCRS_DEFAULT;
	o->nv_index = MGR_NV_COUNTER_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k;

		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (!strcmp(a, opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0])) {
			snprintf(why, why_len, "%s: unknown option", a);
			return -EINVAL;
		}
		if (seen[k]) {
			snprintf(why, why_len, "%s given twice", a);
			return -EINVAL;
		}
		seen[k] = true;
		if (opts[k].arg) {
			if (i + 1 >= argc) {
				snprintf(why, why_len, "%s needs a value", a);
				return -EINVAL;
			}
			v = argv[++i];
		}
		switch (k) {
		case 0:
			o->init = true;
			break;
		case 1:
			o->dir = v;
			break;
		case 2:
			o->tcti = v;
			break;
		case 3:
			if (mgrd_parse_pcrs(v, &o->pcrs)) {
				snprintf(why, why_len,
					 "--pcrs \"%.40s\": not a list of "
					 "PCRs 0..23, each once (\"0,2,4,7\")",
					 v);
				return -EINVAL;
			}
			break;
		case 4:
			rc = mgrd_parse_u32(v, UINT32_MAX, &o->nv_index);
			if (rc || o->nv_index < 0x01800000u ||
			    o->nv_index > 0x01bfffffu) {
				snprintf(why, why_len,
					 "--nv-index \"%.40s\": not an index "
					 "of the owner range "
					 "0x01800000..0x01bfffff",
					 v);
				return -EINVAL;
			}
			break;
		case 5:
			o->force_new_counter = true;
			break;
		case 6:
			o->control = v;
			break;
		case 7:
			rc = mgrd_parse_u32(v, MGRD_WINDOW_US_MAX,
					    &o->commit_window_us);
			if (rc || (v[0] == '0' && v[1] == 'x')) {
				snprintf(why, why_len,
					 "--commit-window-us \"%.40s\": %s "
					 "(0..%u)",
					 v,
					 rc == -ERANGE ? "out of range"
						       : "not a decimal number",
					 MGRD_WINDOW_US_MAX);
				return -EINVAL;
			}
			break;
		case 8:
			rc = mgrd_parse_u32(v, UINT32_MAX - 1,
					    &o->toolstack_uid);
			if (rc || (v[0] == '0' && v[1] == 'x')) {
				snprintf(why, why_len,
					 "--toolstack-uid \"%.40s\": not a "
					 "decimal uid",
					 v);
				return -EINVAL;
			}
			o->toolstack_uid_set = true;
			break;
		case 9:
			o->help = true;
			break;
		case 10:
			o->no_sandbox = true;
			break;
		}
	}
	if (o->help)
		return 0;
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		if (!seen[k])
			continue;
		if (opts[k].mode == INIT_ONLY && !o->init) {
			snprintf(why, why_len, "%s is an --init option",
				 opts[k].name);
			return -EINVAL;
		}
		if (opts[k].mode == SERVE_ONLY && o->init) {
			snprintf(why, why_len, "%s is not an --init option",
				 opts[k].name);
			return -EINVAL;
		}
	}
	if (!o->dir || !o->dir[0]) {
		snprintf(why, why_len, "--dir is required");
		return -EINVAL;
	}
	if (!o->tcti || !o->tcti[0]) {
		snprintf(why, why_len, "--tcti is required");
		return -EINVAL;
	}
	if (!o->init && (!o->control || !o->control[0])) {
		snprintf(why, why_len, "--control is required to serve");
		return -EINVAL;
	}
	if (o->control && strlen(o->control) >= 108) {
		snprintf(why, why_len,
			 "--control: a socket path of at most 107 bytes");
		return -EINVAL;
	}
	return 0;
}
