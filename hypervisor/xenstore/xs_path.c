/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_path.c - path syntax (docs/misc/xenstore.txt, "Paths are
 * /-separated..."), relative paths, and the keys of a path's prefixes.
 *
 * Everything a guest sends as a path passes through xs_path_parse() before
 * any lookup: the bytes are copied into a bounded buffer, checked
 * character by character, and hashed in the same pass.
 */
#include <stdio.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

/* Xen's valid_chars(): alphanumerics and "-/_@". */
static bool valid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
	       c == '@';
}

/* Length of a leading "/local/domain/<up to 5 digits>/", else 0: what Xen
 * 4.17 leaves out when it checks a path against the path-length quota. */
static uint32_t home_prefix_len(const char *s, uint32_t len)
{
	static const char home[] = XS_HOME "/";
	uint32_t i = sizeof(home) - 1, digits = 0;

	if (len < i || memcmp(s, home, i) != 0)
		return 0;
	while (i < len && digits < 5 && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (!digits || i >= len || s[i] != '/')
		return 0;
	return i + 1;
}

int xs_path_parse(struct xs_path *p, const struct xs_hasher *h, const char *in,
		  size_t len, uint32_t domid, uint32_t path_quota)
{
	uint32_t i, n = 0;
	uint64_t kr;
	int w;

	p->rel_base = 0;
	if (len == 0 || len > XS_ABS_MAX)
		return EINVAL;
	if (in[0] != '/') {
		/* Relative: below the domain's home.  "@..." names are not
		 * paths; the requests that take them check for them first. */
		if (in[0] == '@')
			return EINVAL;
		w = snprintf(p->s, sizeof(p->s), XS_HOME "/%u/", domid);
		if (w < 0 || (size_t)w >= sizeof(p->s))
			return EINVAL;
		n = (uint32_t)w;
		p->rel_base = n - 1;
	}
	if (len > XS_ABS_MAX - n)
		return EINVAL;
	memcpy(p->s + n, in, len);
	n += (uint32_t)len;
	p->s[n] = '\0';
	p->len = n;

	/* Root "/" is prefix 0; every later '/' ends a prefix. */
	kr = xs_kr_extend(h, XS_KR_INIT, p->s, 1);
	p->depth = 0;
	p->end[0] = 1;
	p->kr[0] = kr;
	for (i = 1; i < n; i++) {
		char c = p->s[i];

		if (!valid_char(c))
			return EINVAL;
		if (c == '/') {
			/* No "//", no trailing "/" (the root is n == 1). */
			if (p->s[i - 1] == '/' || i == n - 1)
				return EINVAL;
			p->depth++;
			p->end[p->depth] = (uint16_t)i;
			p->kr[p->depth] = kr;
		}
		kr = xs_kr_extend(h, kr, &c, 1);
	}
	if (n > 1) {
		p->depth++;
		p->end[p->depth] = (uint16_t)n;
		p->kr[p->depth] = kr;
	}
	if (path_quota && n - home_prefix_len(p->s, n) > path_quota)
		return EINVAL;
	return 0;
}

struct xs_key xs_path_key(const struct xs_path *p, const struct xs_hasher *h,
			  uint32_t i)
{
	struct xs_key k;

	assert(i <= p->depth);
	k.s = p->s;
	k.len = p->end[i];
	k.hash = xs_kr_key(h, p->kr[i]);
	return k;
}

int xs_parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0 || len > 10)
		return EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return EINVAL;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > UINT32_MAX)
		return EINVAL;
	*v = (uint32_t)x;
	return 0;
}

int xs_parse_domid(const char *s, size_t len, uint32_t *domid)
{
	uint32_t v;

	if (xs_parse_u32(s, len, &v) || v > XS_DOMID_MAX)
		return EINVAL;
	*domid = v;
	return 0;
}
