/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_out.c - messages and the small formatting every command shares.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools/hvsec.h"

__attribute__((format(printf, 2, 0))) static void
vmsg(const char *kind, const char *fmt, va_list ap)
{
	/* stdout first: an answer and an error printed around the same
	 * time should come out in the order they were made. */
	fflush(stdout);
	fprintf(stderr, "%s: %s", HVT_PROG, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void hvt_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void hvt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

const char *hvt_errname(int err)
{
	static const struct {
		int v;
		const char *name;
	} names[] = {
		{HV_EPERM, "EPERM"},
		{HV_ENOENT, "ENOENT"},
		{HV_ESRCH, "ESRCH"},
		{HV_E2BIG, "E2BIG"},
		{HV_EBADF, "EBADF"},
		{HV_EAGAIN, "EAGAIN"},
		{HV_ENOMEM, "ENOMEM"},
		{HV_EACCES, "EACCES"},
		{HV_EFAULT, "EFAULT"},
		{HV_EBUSY, "EBUSY"},
		{HV_EEXIST, "EEXIST"},
		{HV_EINVAL, "EINVAL"},
		{HV_ENOSPC, "ENOSPC"},
		{HV_ENOSYS, "ENOSYS"},
		{HV_ENOTCONN, "ENOTCONN"},
		{HV_ETIMEDOUT, "ETIMEDOUT"},
		{HV_EOPNOTSUPP, "EOPNOTSUPP"},
		{27, "EFBIG"},
		{36, "ENAMETOOLONG"},
		{71, "EPROTO"},
		{32, "EPIPE"},
	};
	int v = err < 0 ? -err : err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].v == v)
			return names[i].name;
	return "E?";
}

void hvt_uuid_str(const uint8_t uuid[HV_UUID_LEN], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < HV_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 15];
	}
	out[o] = '\0';
}

bool hvt_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 10)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

const char *hvt_state_flags(uint32_t state)
{
	/* xl's six columns: running, blocked, paused, shutdown, crashed,
	 * dying.  The model cannot tell running from blocked. */
	switch (state) {
	case HV_DOMSTATE_RUNNING:
		return "r-----";
	case HV_DOMSTATE_PAUSED:
		return "--p---";
	case HV_DOMSTATE_SHUTDOWN:
		return "---s--";
	case HV_DOMSTATE_CRASHED:
		return "----c-";
	case HV_DOMSTATE_DYING:
		return "-----d";
	}
	return "------";
}
