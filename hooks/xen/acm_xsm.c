/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acm_xsm.c - the hvsec ACM as an XSM module of Xen 4.17 (`xsm=acm`).
 *
 * Built only by Xen's build (scripts/xen-acm/build.sh, hooks/xen/
 * Makefile.xen), together with the acm/ sources: the same engine the hypervisor
 * model uses, not a copy.  Nothing in hvsec's own Makefile compiles this
 * file, which needs Xen's headers.
 *
 * This first step wires the engine in without enforcing anything yet:
 *   - at boot, acm_xsm_init() loads the built-in policy (policies/
 *     default.xml compiled by hvsec-polc, acm_xsm_blob.h) through acm's
 *     loader, sets up a decision context and asks the engine for dom0's
 *     creation; the answer is logged.  A policy that fails to load stops
 *     the boot: falling back to the dummy module would be fail-open.
 *   - the domain and event-channel/grant hooks are registered and chain
 *     straight to Xen's default (dummy) checks.  They are where the STE and
 *     Chinese-Wall decisions go next.
 *
 * State: acm_xsm_policy and acm_xsm_ctx are written once, in acm_xsm_init,
 * before any other CPU runs or any hook can be called, and only read
 * afterwards.  Their memory is never freed (the module lives as long as
 * Xen).  The blob they point into is const data of this object.
 */
#define XSM_NO_WRAPPERS
#include <xsm/dummy.h>

#include <xen/init.h>
#include <xen/lib.h>
#include <xen/xmalloc.h>

#include "acm/acm.h"
#include "acm_xsm_blob.h" /* generated: acm_xsm_blob[], ACM_XSM_BLOB_LEN */

#define ACM_XSM_CACHE_SLOTS 1024u

static const struct acm_policy *acm_xsm_policy __read_mostly;
static struct acm_ctx *acm_xsm_ctx __read_mostly;

/* ---------------------------------------------------------------- hooks */
/* Each hook decides the MAC question (not yet) and then returns the
 * default check, so the dummy module's privilege rules always apply. */

static int cf_check acm_xsm_domain_create(struct domain *d, uint32_t ssidref)
{
	return xsm_domain_create(d, ssidref);
}

static void cf_check acm_xsm_free_security_domain(struct domain *d)
{
	xsm_free_security_domain(d);
}

static int cf_check acm_xsm_evtchn_unbound(struct domain *d,
					   struct evtchn *chn, domid_t id2)
{
	return xsm_evtchn_unbound(d, chn, id2);
}

static int cf_check acm_xsm_evtchn_interdomain(struct domain *ld,
					       struct evtchn *lchn,
					       struct domain *rd,
					       struct evtchn *rchn)
{
	return xsm_evtchn_interdomain(ld, lchn, rd, rchn);
}

static int cf_check acm_xsm_grant_mapref(struct domain *ld, struct domain *rd,
					 uint32_t flags)
{
	return xsm_grant_mapref(ld, rd, flags);
}

static int cf_check acm_xsm_grant_copy(struct domain *src, struct domain *dst)
{
	return xsm_grant_copy(src, dst);
}

/* The one hook table.  Slots left out are filled with the dummy hooks by
 * xsm_fixup_ops().  __initconst_cf_clobber: with CET-IBT, boot patching
 * turns every call into a direct one and then seals these functions'
 * ENDBR64, so nothing may call them through another pointer. */
static const struct xsm_ops __initconst_cf_clobber acm_xsm_ops = {
	.domain_create = acm_xsm_domain_create,
	.free_security_domain = acm_xsm_free_security_domain,
	.evtchn_unbound = acm_xsm_evtchn_unbound,
	.evtchn_interdomain = acm_xsm_evtchn_interdomain,
	.grant_mapref = acm_xsm_grant_mapref,
	.grant_copy = acm_xsm_grant_copy,
};

/* ---------------------------------------------------------------- init */

/* Loads the built-in policy and builds its context; on any failure says
 * why and returns false, having freed what it allocated. */
static bool __init acm_xsm_load_builtin(void)
{
	struct acm_load_error where = { ACM_OK, 0 };
	struct acm_ctx_config cfg = { ACM_XSM_CACHE_SLOTS, false, 1 };
	struct acm_policy_info info;
	struct acm_verdict v;
	const struct acm_policy *pol = NULL;
	struct acm_ctx *ctx = NULL;
	void *pmem = NULL, *cmem = NULL;
	size_t pneed = 0, cneed;
	enum acm_err err;

	err = acm_policy_measure(acm_xsm_blob, ACM_XSM_BLOB_LEN, &pneed, &where);
	if (err != ACM_OK)
		goto bad_blob;
	pmem = _xzalloc(pneed, 64);
	if (pmem == NULL) {
		err = ACM_E_NOMEM;
		goto bad_blob;
	}
	err = acm_policy_load(acm_xsm_blob, ACM_XSM_BLOB_LEN, pmem, pneed, &pol,
			      &where);
	if (err != ACM_OK)
		goto bad_blob;

	cneed = acm_ctx_mem_size(pol, &cfg);
	cmem = _xzalloc(cneed, 64);
	if (cmem == NULL) {
		err = ACM_E_NOMEM;
		goto bad_ctx;
	}
	err = acm_ctx_init(&ctx, pol, &cfg, cmem, cneed);
	if (err != ACM_OK)
		goto bad_ctx;

	acm_policy_info(pol, &info);
	printk(XENLOG_INFO
	       "hvsec-acm: built-in policy '%s' loaded: %u bytes, %u labels, "
	       "%u STE types, %u CW types (%lu + %lu bytes of state)\n",
	       info.name, ACM_XSM_BLOB_LEN, info.n_labels, info.n_ste_types,
	       info.n_cw_types, (unsigned long)pneed, (unsigned long)cneed);

	/* One real decision, to show the engine answers inside Xen: dom0's
	 * creation under its bootstrap label. */
	acm_domain_create_prepare(ctx, info.bootstrap, &v);
	printk(XENLOG_INFO "hvsec-acm: self-test: %s dom0 label '%s': %s\n",
	       acm_hook_name(ACM_HOOK_DOMAIN_CREATE),
	       acm_label_name(pol, info.bootstrap),
	       v.decision == ACM_PERMIT ? "PERMIT" : "DENY");
	printk(XENLOG_INFO "hvsec-acm:   reason %s\n", acm_reason_name(v.reason));
	if (v.decision == ACM_PERMIT)
		acm_domain_create_rollback(ctx, info.bootstrap);

	acm_xsm_policy = pol;
	acm_xsm_ctx = ctx;
	return true;

bad_blob:
	printk(XENLOG_ERR "hvsec-acm: built-in policy refused: %s at byte %u\n",
	       acm_strerror(err), where.offset);
	xfree(pmem);
	return false;
bad_ctx:
	printk(XENLOG_ERR "hvsec-acm: decision context: %s\n",
	       acm_strerror(err));
	xfree(cmem);
	xfree(pmem);
	return false;
}

const struct xsm_ops *__init acm_xsm_init(const void *policy_buffer,
					  size_t policy_size)
{
	printk(XENLOG_INFO "hvsec-acm: initialising (hooks chain to dummy)\n");
	if (policy_size != 0)
		printk(XENLOG_WARNING
		       "hvsec-acm: boot policy module (%lu bytes) ignored: "
		       "not supported yet\n", (unsigned long)policy_size);
	(void)policy_buffer;

	/* Fail closed: without a policy there is nothing to enforce with,
	 * and returning NULL would leave Xen running the dummy module. */
	if (!acm_xsm_load_builtin())
		panic("hvsec-acm: no usable policy; refusing to boot\n");

	return &acm_xsm_ops;
}
