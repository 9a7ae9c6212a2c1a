/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_perms.c - permission lists, as XenStore defines them: a list of
 * "<letter><domid>" entries, n (none), r (read), w (write) or b (both).
 * The first entry names the owner and gives the access of every domain the
 * list does not name; each later entry gives one domain its access.
 */
#include <stdio.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

static bool names(const struct xs_who *who, uint32_t domid)
{
	return domid == who->domid ||
	       (who->target != UINT32_MAX && domid == who->target);
}

uint32_t xs_perm_for(const struct xs_who *who, const struct xs_perm *p,
		     uint32_t n)
{
	uint32_t mask = XS_ACCESS_READ | XS_ACCESS_WRITE | XS_ACCESS_OWNER;
	uint32_t i;

	if (who->readonly)
		mask &= ~XS_ACCESS_WRITE;
	if (n == 0)
		return who->priv ? mask : 0;
	/* Privileged domains and owners get it all (a domain acting for
	 * its target owns what the target owns). */
	if (who->priv || names(who, p[0].domid))
		return mask;
	for (i = 1; i < n; i++)
		if (names(who, p[i].domid))
			return p[i].access & mask;
	return p[0].access & mask;
}

int xs_perms_parse(const char *s, size_t len, struct xs_perm *out, uint32_t n)
{
	size_t off = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const char *nul;
		size_t l;

		if (off >= len)
			return EINVAL;
		nul = memchr(s + off, '\0', len - off);
		if (!nul)
			return EINVAL;
		l = (size_t)(nul - (s + off));
		if (l < 2)
			return EINVAL;
		switch (s[off]) {
		case 'n':
			out[i].access = 0;
			break;
		case 'r':
			out[i].access = XS_ACCESS_READ;
			break;
		case 'w':
			out[i].access = XS_ACCESS_WRITE;
			break;
		case 'b':
			out[i].access = XS_ACCESS_READ | XS_ACCESS_WRITE;
			break;
		default:
			return EINVAL;
		}
		if (xs_parse_domid(s + off + 1, l - 1, &out[i].domid))
			return EINVAL;
		off += l + 1;
	}
	return off == len ? 0 : EINVAL;
}

size_t xs_perms_format(const struct xs_perm *p, uint32_t n, char *buf,
		       size_t size)
{
	static const char letter[4] = {'n', 'r', 'w', 'b'};
	size_t off = 0;
	uint32_t i;
	int w;

	for (i = 0; i < n; i++) {
		if (off >= size)
			return 0;
		w = snprintf(buf + off, size - off, "%c%u",
			     letter[p[i].access & 3u], p[i].domid);
		/* The NUL snprintf wrote is the separator. */
		if (w < 0 || (size_t)w + 1 > size - off)
			return 0;
		off += (size_t)w + 1;
	}
	return off;
}

uint32_t xs_count_strings(const char *buf, size_t len)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			n++;
	return n;
}
