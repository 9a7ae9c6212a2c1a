/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * text.c - bounded string building for records and reports: every result
 * is NUL-terminated and truncated rather than overrun, because names come
 * from policies and resource strings from the toolstack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hooks/hooks_impl.h"

void hooks_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n;

	if (!len)
		return;
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void hooks_appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}
