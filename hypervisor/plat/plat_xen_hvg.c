/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plat_xen_hvg.c - TRANSITIONAL.  hvsec-vtpmd's sources (vtpm-instance/
 * vtpmd_*.c) still call six helpers of libhvguest that have nothing to do
 * with the model: a console line, XenStore open/close/read/write, and an
 * errno's name.  The Xen build of the backend must not link libhvguest
 * (its hypercall channel does not exist on Xen), so this file gives those
 * six the same behaviour on top of libc and libxenstore, and is linked
 * into hvsec-vtpmd-xen only.
 *
 * Delete it (and its line in hypervisor/plat/module.mk) once vtpmd_*.c
 * use plat_strerror() and their own XenStore helpers instead
 * (docs/vtpm-xen.md, "Sim-specific calls in hvsec-vtpmd").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"

void hvg_console(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

struct xs_handle *hvg_xs_open(void)
{
	/* xenstored's socket in dom0, else /dev/xen/xenbus. */
	return xs_open(0);
}

void hvg_xs_close(struct xs_handle *xs)
{
	xs_close(xs);
}

int hvg_xs_write(struct xs_handle *xs, const char *path, const char *val)
{
	if (!xs_write(xs, XBT_NULL, path, val, (unsigned)strlen(val)))
		return -(errno ? errno : EIO);
	return 0;
}

int hvg_xs_read(struct xs_handle *xs, const char *path, char *buf, size_t len)
{
	unsigned n = 0;
	char *v = xs_read(xs, XBT_NULL, path, &n);

	if (!v)
		return -(errno ? errno : EIO);
	if (n >= len) {
		free(v);
		return -E2BIG;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	free(v);
	return 0;
}

/* "EACCES (Permission denied)", as libhvguest's (Linux errno values are
 * Xen's for every errno a platform call returns). */
const char *hvg_strerror(int err)
{
	static char buf[96];
	int e = err < 0 ? -err : err;
	const char *name = strerrorname_np(e);

	if (name)
		snprintf(buf, sizeof(buf), "%s (%s)", name, strerror(e));
	else
		snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}
