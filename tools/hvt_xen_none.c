/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_xen_none.c - the xen platform's backend (hvt_xen.h) in an hvsec
 * built without libxenctrl's headers: the platform can be named, and
 * every call says that this build cannot reach Xen.
 */
#include <errno.h>

#include "tools/hvt_xen.h"

int hvt_xc_open(struct hvt_xc **out, char *why, size_t why_len)
{
	*out = NULL;
	snprintf(why, why_len,
		 "this hvsec was built without libxenctrl (install libxen-dev "
		 "and rebuild)");
	return -ENOSYS;
}

void hvt_xc_close(struct hvt_xc *x)
{
	(void)x;
}

int hvt_xc_domains(struct hvt_xc *x, struct hvt_xdom **out, size_t *n)
{
	(void)x;
	*out = NULL;
	*n = 0;
	return -ENOSYS;
}

int hvt_xc_getenforce(struct hvt_xc *x)
{
	(void)x;
	return -ENOSYS;
}

int hvt_xc_setenforce(struct hvt_xc *x, int mode)
{
	(void)x;
	(void)mode;
	return -ENOSYS;
}

int hvt_xc_load(struct hvt_xc *x, const void *blob, size_t len)
{
	(void)x;
	(void)blob;
	(void)len;
	return -ENOSYS;
}

int hvt_xc_ctx2sid(struct hvt_xc *x, const char *ctx, uint32_t *sid)
{
	(void)x;
	(void)ctx;
	(void)sid;
	return -ENOSYS;
}

int hvt_xc_sid2ctx(struct hvt_xc *x, uint32_t sid, char *buf, size_t len)
{
	(void)x;
	(void)sid;
	if (len)
		buf[0] = '\0';
	return -ENOSYS;
}

int hvt_xc_identity(struct hvt_xc *x, char *buf, size_t len)
{
	(void)x;
	if (len)
		buf[0] = '\0';
	return -ENOSYS;
}

int hvt_xc_relabel(struct hvt_xc *x, uint32_t domid, uint32_t sid)
{
	(void)x;
	(void)domid;
	(void)sid;
	return -ENOSYS;
}

int hvt_xc_shares(struct hvt_xc *x, const struct hvt_xdom *doms, size_t n,
		  struct hvt_xshare **out, size_t *n_out)
{
	(void)x;
	(void)doms;
	(void)n;
	*out = NULL;
	*n_out = 0;
	return -ENOSYS;
}

void hvt_xc_version(struct hvt_xc *x, char *buf, size_t len)
{
	(void)x;
	if (len)
		buf[0] = '\0';
}
