/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xsm_probe.c - hvsec-xsm-probe: asks the running Xen one mediated
 * question from dom0, for the xsm=acm stage of `make test-xen`
 * (scripts/xen/dom0-acm.sh).  Built on the host against libxen-dev
 * (scripts/xen/run.sh) and run in dom0, which has no compiler.
 *
 *   unbound DOM REMOTE   EVTCHNOP_alloc_unbound: a port in DOM for
 *                        REMOTE (the evtchn_unbound hook decides DOM vs
 *                        REMOTE); dom0 may ask it for any domain, a domU
 *                        for itself ("self" is DOMID_SELF).
 *   bind DOM PORT        EVTCHNOP_bind_interdomain: the caller binds to
 *                        DOM's unbound PORT (evtchn_interdomain hook).
 *   map DOM              GNTTABOP_map_grant_ref of DOM's grant ref
 *                        PROBE_GREF, read-only: the grant_mapref hook
 *                        decides caller vs DOM before the ref is looked
 *                        at, so a denial is GNTST_permission_denied and a
 *                        permit GNTST_bad_gntref.  Run in a domU through
 *                        its /dev/xen/privcmd (the guest-side probe).
 *   copy SRC DST         GNTTABOP_copy of one byte from grant ref
 *                        PROBE_GREF of SRC to the same ref of DST: the
 *                        grant_copy hook decides SRC vs DST before Xen
 *                        looks at the (deliberately invalid) refs, so a
 *                        denial is GNTST_permission_denied and a permit
 *                        is GNTST_bad_gntref.  Nothing is ever copied.
 *   c2s CONTEXT          FLASK_CONTEXT_TO_SID (label -> ssidref)
 *   s2c SSIDREF          FLASK_SID_TO_CONTEXT
 *
 * Prints one line "OK ..." or "ERR <errno> <name>" / "GNTST <n> <name>";
 * exit status 0 for OK (for copy and map: the hook permitted), 1 for a
 * refusal, 2 for a usage or setup error.  Built dynamically for dom0 and
 * statically for the guests (scripts/xen/run.sh).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/xen.h>
#include <xen/xsm/flask_op.h>
#include <xencall.h>

/* Far beyond any domain's grant table: Xen answers GNTST_bad_gntref. */
#define PROBE_GREF 0x7ffffff0u

static int usage(void)
{
	fprintf(stderr, "usage: hvsec-xsm-probe unbound DOM|self REMOTE | "
			"bind DOM PORT | map DOM | copy SRC DST | "
			"c2s CONTEXT | s2c SSIDREF\n");
	return 2;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "self")) {
		*out = DOMID_SELF;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int report_errno(int e)
{
	printf("ERR %d %s\n", e, strerror(e));
	return 1;
}

static const char *gntst_name(int16_t st)
{
	switch (st) {
	case GNTST_okay:
		return "okay";
	case GNTST_general_error:
		return "general_error";
	case GNTST_bad_domain:
		return "bad_domain";
	case GNTST_bad_gntref:
		return "bad_gntref";
	case GNTST_bad_handle:
		return "bad_handle";
	case GNTST_bad_virt_addr:
		return "bad_virt_addr";
	case GNTST_bad_dev_addr:
		return "bad_dev_addr";
	case GNTST_no_device_space:
		return "no_device_space";
	case GNTST_permission_denied:
		return "permission_denied";
	default:
		return "other";
	}
}

static int do_unbound(xencall_handle *h, uint32_t dom, uint32_t remote)
{
	evtchn_alloc_unbound_t *op = xencall_alloc_buffer(h, sizeof(*op));
	int rc;

	if (!op)
		return 2;
	memset(op, 0, sizeof(*op));
	op->dom = (domid_t)dom;
	op->remote_dom = (domid_t)remote;
	rc = xencall2(h, __HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
		      (uintptr_t)op);
	if (rc < 0)
		rc = report_errno(errno);
	else
		printf("OK port %u in d%u for d%u\n", op->port, dom, remote);
	xencall_free_buffer(h, op);
	return rc < 0 ? 1 : rc;
}

static int do_bind(xencall_handle *h, uint32_t dom, uint32_t port)
{
	evtchn_bind_interdomain_t *op = xencall_alloc_buffer(h, sizeof(*op));
	int rc;

	if (!op)
		return 2;
	memset(op, 0, sizeof(*op));
	op->remote_dom = (domid_t)dom;
	op->remote_port = port;
	rc = xencall2(h, __HYPERVISOR_event_channel_op,
		      EVTCHNOP_bind_interdomain, (uintptr_t)op);
	if (rc < 0)
		rc = report_errno(errno);
	else
		printf("OK local port %u bound to d%u port %u\n",
		       op->local_port, dom, port);
	xencall_free_buffer(h, op);
	return rc < 0 ? 1 : rc;
}

static int do_map(xencall_handle *h, uint32_t dom)
{
	gnttab_map_grant_ref_t *op = xencall_alloc_buffer(h, sizeof(*op));
	int rc;

	if (!op)
		return 2;
	memset(op, 0, sizeof(*op));
	op->ref = PROBE_GREF;
	op->dom = (domid_t)dom;
	op->flags = GNTMAP_host_map | GNTMAP_readonly;
	rc = xencall3(h, __HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref,
		      (uintptr_t)op, 1);
	if (rc < 0) {
		rc = report_errno(errno);
	} else {
		printf("GNTST %d %s\n", op->status, gntst_name(op->status));
		rc = op->status == GNTST_permission_denied ? 1 : 0;
	}
	xencall_free_buffer(h, op);
	return rc;
}

static int do_copy(xencall_handle *h, uint32_t src, uint32_t dst)
{
	gnttab_copy_t *op = xencall_alloc_buffer(h, sizeof(*op));
	int rc;

	if (!op)
		return 2;
	memset(op, 0, sizeof(*op));
	op->source.u.ref = PROBE_GREF;
	op->source.domid = (domid_t)src;
	op->dest.u.ref = PROBE_GREF;
	op->dest.domid = (domid_t)dst;
	op->len = 1;
	op->flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	rc = xencall3(h, __HYPERVISOR_grant_table_op, GNTTABOP_copy,
		      (uintptr_t)op, 1);
	if (rc < 0) {
		rc = report_errno(errno);
	} else {
		printf("GNTST %d %s\n", op->status, gntst_name(op->status));
		rc = op->status == GNTST_permission_denied ? 1 : 0;
	}
	xencall_free_buffer(h, op);
	return rc;
}

/* One FLASK sub-op on the sid_context member; the string travels in the
 * same hypercall buffer, after the op. */
static int do_sid_context(xencall_handle *h, uint32_t cmd, const char *ctx,
			  uint32_t sid)
{
	size_t room = 4096;
	xen_flask_op_t *op = xencall_alloc_buffer(h, sizeof(*op) + room);
	char *str;
	int rc;

	if (!op)
		return 2;
	memset(op, 0, sizeof(*op) + room);
	str = (char *)(op + 1);
	op->cmd = cmd;
	op->interface_version = XEN_FLASK_INTERFACE_VERSION;
	if (ctx) {
		if (strlen(ctx) >= room) {
			xencall_free_buffer(h, op);
			return usage();
		}
		memcpy(str, ctx, strlen(ctx));
		op->u.sid_context.size = (uint32_t)strlen(ctx);
	} else {
		op->u.sid_context.sid = sid;
		op->u.sid_context.size = (uint32_t)room - 1;
	}
	set_xen_guest_handle(op->u.sid_context.context, str);
	rc = xencall1(h, __HYPERVISOR_xsm_op, (uintptr_t)op);
	if (rc < 0)
		rc = report_errno(errno);
	else if (ctx)
		printf("OK ssidref %#" PRIx32 "\n", op->u.sid_context.sid);
	else
		printf("OK context %s\n", str);
	xencall_free_buffer(h, op);
	return rc < 0 ? 1 : rc;
}

int main(int argc, char **argv)
{
	xencall_handle *h;
	uint32_t a, b = 0;
	int rc;

	if (argc < 3)
		return usage();
	if ((!strcmp(argv[1], "unbound") || !strcmp(argv[1], "copy")) &&
	    (argc != 4 || parse_u32(argv[2], &a) || parse_u32(argv[3], &b) ||
	     a > 0xffff || b > 0xffff))
		return usage();
	if (!strcmp(argv[1], "bind") && (argc != 4 || parse_u32(argv[2], &a) ||
					 parse_u32(argv[3], &b) || a > 0xffff))
		return usage();
	if (!strcmp(argv[1], "map") &&
	    (argc != 3 || parse_u32(argv[2], &a) || a > 0xffff))
		return usage();
	if (!strcmp(argv[1], "s2c") && (argc != 3 || parse_u32(argv[2], &a)))
		return usage();
	if (!strcmp(argv[1], "c2s") && argc != 3)
		return usage();

	h = xencall_open(NULL, 0);
	if (!h) {
		perror("xencall_open");
		return 2;
	}
	if (!strcmp(argv[1], "unbound"))
		rc = do_unbound(h, a, b);
	else if (!strcmp(argv[1], "bind"))
		rc = do_bind(h, a, b);
	else if (!strcmp(argv[1], "map"))
		rc = do_map(h, a);
	else if (!strcmp(argv[1], "copy"))
		rc = do_copy(h, a, b);
	else if (!strcmp(argv[1], "c2s"))
		rc = do_sid_context(h, FLASK_CONTEXT_TO_SID, argv[2], 0);
	else if (!strcmp(argv[1], "s2c"))
		rc = do_sid_context(h, FLASK_SID_TO_CONTEXT, NULL, a);
	else
		rc = usage();
	xencall_close(h);
	return rc;
}
