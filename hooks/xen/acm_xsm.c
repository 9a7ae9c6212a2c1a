/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acm_xsm.c - the hvsec ACM as an XSM module of Xen 4.17 (`xsm=acm`).
 *
 * Built only by Xen's build (scripts/xen-acm/build.sh, hooks/xen/
 * Makefile.xen), together with the acm/ sources: the same engine the
 * hypervisor model uses, not a copy.  Nothing in hvsec's own Makefile
 * compiles this file, which needs Xen's headers.  docs/xsm-acm.md is the
 * user's side of what follows.
 *
 * What it decides (each hook first runs the default (dummy) module's
 * privilege check and returns its error, so ACM only ever narrows):
 *   domain_create        Chinese Wall + label check; the domain's types
 *                        are accounted as running until free_security_
 *                        domain, which is also reached by a create that
 *                        fails after the hook.  dom0 (a privileged domain
 *                        built at boot) gets the policy's bootstrap label.
 *   evtchn_unbound,      STE: the two domains' labels must share a type.
 *   evtchn_interdomain,
 *   grant_mapref,
 *   grant_copy,
 *   grant_transfer
 *   security_domaininfo  reports the label's stable id as the ssidref.
 *   do_xsm_op            FLASK's sub-op layout, so unmodified xl works:
 *                        LOAD, GETENFORCE, SETENFORCE, CONTEXT_TO_SID,
 *                        SID_TO_CONTEXT, RELABEL_DOMAIN; GETBOOL of
 *                        boolean 0 names the running policy (identity
 *                        below); all other sub-ops answer -EOPNOTSUPP.
 * evtchn_send is not mediated: a policy update or relabel that would take
 * a live channel's common type away is refused, so a channel that was
 * allowed when bound stays allowed, and the hot path costs nothing.
 *
 * Policy: the boot policy is the multiboot module whose first word is the
 * hvsec magic "HVSP" (the patch lets Xen's module scan find it), copied
 * into Xen memory during init.  With no boot module, or one the loader
 * refuses, the module is up but holds no policy: dom0 starts unlabelled
 * and every other domain creation and every sharing hook is refused
 * (fail-closed) until `xl loadpolicy` installs a valid policy.  A later
 * load is an update: validated against the running domains and the live
 * event channels by acm_update_validate, then swapped in one step; a
 * refused load keeps the running policy and logs why.
 *
 * State and locking.  acm_xsm_lock (a spinlock, never taken with IRQs
 * off) protects everything below marked [L]: the policy, its context
 * (decisions write the context's cache and statistics, so even decisions
 * need the lock), the list of labelled domains and share_gen.
 * Lock order: domctl_lock -> d->event_lock -> acm_xsm_lock.  The evtchn
 * hooks are called with event_lock held, so the update path, which must
 * read every domain's event channels, reads them with acm_xsm_lock NOT
 * held and detects a concurrent change through share_gen.  Loads and
 * relabels ("changes") run one at a time (acm_xsm_changing), are the only
 * writers of acm_xsm_cur, and allocate everything before taking the lock.
 * No hook blocks or allocates under it: the lock is held only for an
 * engine decision (O(labels' type words)) or, on the rare change paths,
 * for one validation and the swap.  free_security_domain may run as an
 * RCU callback (softirq); softirqs only run at Xen's explicit preemption
 * points, never inside a section holding this lock.
 */
#define XSM_NO_WRAPPERS
#include <xsm/dummy.h>

#include <public/grant_table.h>
#include <public/xsm/flask_op.h>
#include <xen/err.h>
#include <xen/event.h>
#include <xen/guest_access.h>
#include <xen/init.h>
#include <xen/kernel.h>
#include <xen/lib.h>
#include <xen/list.h>
#include <xen/rcupdate.h>
#include <xen/sched.h>
#include <xen/spinlock.h>
#include <xen/vmap.h>
#include <xen/xmalloc.h>

#include "acm/acm.h"

#define ACM_XSM_CACHE_SLOTS 1024u
/* Longest label string CONTEXT_TO_SID accepts: "ACM:" policy ":" label. */
#define ACM_XSM_CONTEXT_MAX (4u + ACM_NAME_MAX + 1u + ACM_NAME_MAX)
/* libxl's defaults for an unlabelled domain (SECINITSID_DOMU) and a
 * stub-domain device model (SECINITSID_DOMDM); 0 never reaches us from
 * libxl but may from other toolstacks. */
#define ACM_XSM_SSID_DOMU  12u
#define ACM_XSM_SSID_DOMDM 13u
/* Blockers of a refused update or relabel printed to the log. */
#define ACM_XSM_MAX_BLOCKERS 8u
/* Most live shares an update or relabel is checked against (-E2BIG). */
#define ACM_XSM_MAX_SHARES 65536u
/* Retries of an update whose snapshot of the live shares went stale. */
#define ACM_XSM_SNAPSHOT_TRIES 4
/*
 * FLASK_GETBOOL of this boolean id answers the running policy's identity
 * as the boolean's "name" (FLASK's layout: no NUL, size = its length):
 *   "hvsec-acm-policy 1 <major>.<minor> <source-sha> <trailer-sha> <name>"
 * the hashes (SHA-256: the blob's header and trailer hashes) in lowercase
 * hex, the name last because it is the only free-form field.
 * docs/xsm-acm.md "The policy's identity".
 */
#define ACM_XSM_IDENTITY_BOOL 0u
#define ACM_XSM_IDENTITY_TAG  "hvsec-acm-policy 1"
#define ACM_XSM_IDENTITY_MAX                                                   \
	(sizeof(ACM_XSM_IDENTITY_TAG) + 2 * 11 + 2 + 4 * ACM_SHA256_LEN +      \
	 ACM_NAME_MAX)

/* One loaded policy: the private copy of the blob and the memory the
 * engine's indexes and run-time context live in; one owner (the module),
 * freed only once no pointer to it is left under the lock. */
struct acm_xsm_policy {
	void *blob;
	size_t blob_len;
	void *pol_mem, *ctx_mem;
	const struct acm_policy *p;
	struct acm_ctx *ctx;
	struct acm_policy_info info;
};

/* Per-domain state, in d->ssid from alloc_security_domain to
 * free_security_domain. */
struct acm_xsm_dom {
	struct list_head link; /* [L] on acm_xsm_doms while labelled */
	domid_t domid;	       /* copied: free may run after d is half gone */
	bool listed;	       /* [L] on acm_xsm_doms */
	acm_row_t row;	       /* [L] label row in the current policy, or
				* ACM_ROW_NONE (unlabelled: no policy) */
};

static DEFINE_SPINLOCK(acm_xsm_lock);
/* [L]; NULL: fail-closed.  Written only by a change (see above). */
static struct acm_xsm_policy *acm_xsm_cur;
static LIST_HEAD(acm_xsm_doms);		/* [L] domains that passed
					 * domain_create */
static unsigned int acm_xsm_n_doms;	/* [L] length of that list */
static unsigned long acm_xsm_share_gen; /* [L] bumped on every new
					 * share and list change */
static char acm_xsm_no_policy_why[96] = "no boot policy module"; /* [L] */

/* ------------------------------------------------------------ helpers */

static struct acm_xsm_dom *dom_of(const struct domain *d)
{
	return d->ssid;
}

/* Domains Xen makes for itself (DOMID_XEN, DOMID_IO, idle...) carry no
 * label; ACM leaves them to the default module. */
static bool is_system(const struct domain *d)
{
	return d->domain_id >= DOMID_FIRST_RESERVED;
}

static const char *row_name(const struct acm_xsm_policy *pol, acm_row_t row)
{
	if (pol == NULL || row == ACM_ROW_NONE)
		return "(unlabelled)";
	if (row >= pol->info.n_labels)
		return "(no such label)";
	return acm_label_name(pol->p, row);
}

static const char *cw_name(const struct acm_xsm_policy *pol, acm_type_t t)
{
	return t == ACM_TYPE_NONE ? "-" : acm_cw_type_name(pol->p, t);
}

static void policy_free(struct acm_xsm_policy *pol)
{
	if (pol == NULL)
		return;
	vfree(pol->ctx_mem);
	vfree(pol->pol_mem);
	vfree(pol->blob);
	xfree(pol);
}

/* Memory for a private copy of a `len`-byte policy; NULL with `why` set
 * when the length alone rules it out or memory is short. */
static void *blob_alloc(size_t len, char *why, size_t why_len)
{
	void *blob;

	if (len == 0 || len > ACM_MAX_POLICY_LEN) {
		snprintf(why, why_len, "%s (%lu bytes)",
			 acm_strerror(len ? ACM_E_LENGTH : ACM_E_TRUNCATED),
			 (unsigned long)len);
		return NULL;
	}
	blob = vzalloc(len); /* page-aligned: the engine wants 8 */
	if (blob == NULL)
		snprintf(why, why_len, "out of memory (%lu-byte policy)",
			 (unsigned long)len);
	return blob;
}

/*
 * Builds a policy on `blob`, a private vzalloc'd copy of `len` bytes,
 * which it owns from here on (the engine reads it in place for the
 * policy's lifetime): on success it belongs to *out, on failure it is
 * freed and `why` says what was wrong.
 */
static int build_policy(void *blob, size_t len, struct acm_xsm_policy **out,
			char *why, size_t why_len)
{
	struct acm_ctx_config cfg = {ACM_XSM_CACHE_SLOTS, false, 1};
	struct acm_load_error where = {ACM_OK, 0};
	struct acm_xsm_policy *pol;
	enum acm_err err;
	size_t need;
	int rc = -ENOMEM;

	*out = NULL;
	pol = xzalloc(struct acm_xsm_policy);
	if (pol == NULL) {
		vfree(blob);
		goto nomem;
	}
	pol->blob = blob;
	pol->blob_len = len;

	err = acm_policy_measure(pol->blob, len, &need, &where);
	if (err == ACM_OK) {
		pol->pol_mem = vzalloc(need ? need : 8);
		if (pol->pol_mem == NULL)
			goto nomem;
		err = acm_policy_load(pol->blob, len, pol->pol_mem, need,
				      &pol->p, &where);
	}
	if (err != ACM_OK) {
		snprintf(why, why_len, "%s at byte %u", acm_strerror(err),
			 where.offset);
		rc = -EINVAL;
		goto out;
	}
	acm_policy_info(pol->p, &pol->info);

	need = acm_ctx_mem_size(pol->p, &cfg);
	pol->ctx_mem = vzalloc(need ? need : 64);
	if (pol->ctx_mem == NULL)
		goto nomem;
	err = acm_ctx_init(&pol->ctx, pol->p, &cfg, pol->ctx_mem, need);
	if (err != ACM_OK) {
		snprintf(why, why_len, "decision context: %s",
			 acm_strerror(err));
		rc = -EINVAL;
		goto out;
	}
	*out = pol;
	return 0;

nomem:
	snprintf(why, why_len, "out of memory (%lu-byte policy)",
		 (unsigned long)len);
	rc = -ENOMEM;
out:
	policy_free(pol);
	return rc;
}

static void say_policy(const char *what, const struct acm_xsm_policy *pol)
{
	const struct acm_policy_info *i = &pol->info;

	printk(XENLOG_WARNING
	       "hvsec-acm: %s policy '%s' %u.%u: %lu bytes, %u VM labels, "
	       "%u STE types, %u CW types, %u conflict sets; dom0 label '%s'\n",
	       what, i->name, i->version_major, i->version_minor,
	       (unsigned long)pol->blob_len, i->n_vm_labels, i->n_ste_types,
	       i->n_cw_types, i->n_conflict_sets, row_name(pol, i->bootstrap));
}

/* -------------------------------------------------------- denial log */

/* Rate-limited (XENLOG_G_*): a guest can trigger these at will. */
static void log_share_denial(const char *hook, const struct domain *a,
			     acm_row_t ra, const struct domain *b, acm_row_t rb,
			     const struct acm_verdict *v)
{
	const struct acm_xsm_policy *pol = acm_xsm_cur;

	printk(XENLOG_G_WARNING
	       "hvsec-acm: DENY %s %pd '%s' <-> %pd '%s': %s\n",
	       hook, a, row_name(pol, ra), b, row_name(pol, rb),
	       pol ? acm_reason_name(v->reason) : acm_xsm_no_policy_why);
}

/* ------------------------------------------------------------ hooks */

static int cf_check acm_xsm_alloc_security_domain(struct domain *d)
{
	struct acm_xsm_dom *ad;
	int rc = xsm_alloc_security_domain(d);

	if (rc)
		return rc;
	ad = xzalloc(struct acm_xsm_dom);
	if (ad == NULL)
		return -ENOMEM;
	INIT_LIST_HEAD(&ad->link);
	ad->domid = d->domain_id;
	ad->row = ACM_ROW_NONE;
	d->ssid = ad;
	return 0;
}

static void cf_check acm_xsm_free_security_domain(struct domain *d)
{
	struct acm_xsm_dom *ad = dom_of(d);

	if (ad != NULL) {
		spin_lock(&acm_xsm_lock);
		if (ad->listed) {
			/* Also the rollback of a create that failed after
			 * the domain_create hook permitted it. */
			if (acm_xsm_cur != NULL && ad->row != ACM_ROW_NONE)
				acm_domain_destroy(acm_xsm_cur->ctx, ad->row);
			list_del(&ad->link);
			ad->listed = false;
			acm_xsm_n_doms--;
			acm_xsm_share_gen++;
		}
		spin_unlock(&acm_xsm_lock);
		d->ssid = NULL;
		xfree(ad);
	}
	xsm_free_security_domain(d);
}

/* The row an ssidref from XEN_DOMCTL_createdomain names; n_labels (no
 * row at all) when it names none, so the engine refuses it as a bad
 * label. */
static acm_row_t ssidref_row(const struct acm_xsm_policy *pol, uint32_t ssidref)
{
	acm_row_t row = acm_label_find_id(pol->p, ssidref);

	if (row != ACM_ROW_NONE && acm_label_kind(pol->p, row) == ACM_LABEL_VM)
		return row;
	if (ssidref == 0 || ssidref == ACM_XSM_SSID_DOMU ||
	    ssidref == ACM_XSM_SSID_DOMDM)
		return pol->info.unlabeled; /* NONE: the engine refuses */
	return pol->info.n_labels;
}

static int cf_check acm_xsm_domain_create(struct domain *d, uint32_t ssidref)
{
	struct acm_xsm_dom *ad = dom_of(d);
	struct acm_xsm_policy *pol;
	struct acm_verdict v = {ACM_DENY, ACM_R_BAD_LABEL};
	bool boot_dom0;
	acm_row_t row;
	int rc = xsm_domain_create(d, ssidref);

	if (rc)
		return rc;
	if (ad == NULL || ad->listed)
		return -EACCES; /* cannot happen: fail closed */
	/* dom0 is built at boot with ssidref 0; its label is the policy's. */
	boot_dom0 = system_state < SYS_STATE_active && is_control_domain(d);

	/* Logging stays under the lock: it reads the policy, which a
	 * concurrent xl loadpolicy (not serialised by domctl_lock) could
	 * otherwise free. */
	spin_lock(&acm_xsm_lock);
	pol = acm_xsm_cur;
	if (pol == NULL) {
		if (!boot_dom0) {
			printk(XENLOG_G_WARNING
			       "hvsec-acm: DENY domain_create %pd ssidref %#x: "
			       "no policy (%s); xl loadpolicy one\n",
			       d, ssidref, acm_xsm_no_policy_why);
			rc = -EACCES;
			goto out;
		}
		row = ACM_ROW_NONE; /* labelled by the first xl loadpolicy */
		printk(XENLOG_WARNING "hvsec-acm: %pd starts unlabelled (no "
				      "policy)\n",
		       d);
	} else {
		row = boot_dom0 ? pol->info.bootstrap
				: ssidref_row(pol, ssidref);
		acm_domain_create_prepare(pol->ctx, row, &v);
		if (v.decision != ACM_PERMIT) {
			printk(XENLOG_G_WARNING
			       "hvsec-acm: DENY domain_create %pd ssidref %#x "
			       "'%s': %s (type '%s' vs running '%s'%s%s)\n",
			       d, ssidref, row_name(pol, row),
			       acm_reason_name(v.reason),
			       cw_name(pol, v.type_a), cw_name(pol, v.type_b),
			       v.set == UINT32_MAX ? "" : ", conflict set ",
			       v.set == UINT32_MAX
				       ? ""
				       : acm_conflict_set_name(pol->p, v.set));
			rc = -EACCES;
			goto out;
		}
		if (boot_dom0)
			printk(XENLOG_WARNING "hvsec-acm: %pd label '%s'\n", d,
			       row_name(pol, row));
	}
	ad->row = row;
	ad->listed = true;
	list_add_tail(&ad->link, &acm_xsm_doms);
	acm_xsm_n_doms++;
	acm_xsm_share_gen++;
out:
	spin_unlock(&acm_xsm_lock);
	return rc;
}

/* STE between two domains; `counts` says whether a permit sets up a
 * share an update must see (bumps share_gen). */
static int share(enum acm_hook hook, const char *name, struct domain *a,
		 struct domain *b, bool counts)
{
	struct acm_xsm_dom *aa = dom_of(a), *ab = dom_of(b);
	acm_row_t ra = ACM_ROW_NONE, rb = ACM_ROW_NONE;
	struct acm_verdict v = {ACM_DENY, ACM_R_BAD_LABEL};
	int rc = 0;

	if (a == b || is_system(a) || is_system(b))
		return 0;

	spin_lock(&acm_xsm_lock);
	if (aa != NULL)
		ra = aa->row;
	if (ab != NULL)
		rb = ab->row;
	if (acm_xsm_cur != NULL)
		acm_decide_share(acm_xsm_cur->ctx, hook, ra, rb, &v);
	if (v.decision == ACM_PERMIT) {
		if (counts)
			acm_xsm_share_gen++;
	} else {
		log_share_denial(name, a, ra, b, rb, &v);
		rc = -EACCES;
	}
	spin_unlock(&acm_xsm_lock);
	return rc;
}

static int cf_check acm_xsm_evtchn_unbound(struct domain *d, struct evtchn *chn,
					   domid_t id2)
{
	struct domain *r;
	int rc = xsm_evtchn_unbound(d, chn, id2);

	if (rc)
		return rc;
	r = rcu_lock_domain_by_any_id(id2);
	if (r == NULL) {
		/* No domain, no label: nothing may be shared with it. */
		printk(XENLOG_G_WARNING
		       "hvsec-acm: DENY evtchn_unbound %pd -> d%u: no such "
		       "domain\n",
		       d, id2);
		return -EACCES;
	}
	rc = share(ACM_HOOK_EVTCHN_UNBOUND, "evtchn_unbound", d, r, true);
	rcu_unlock_domain(r);
	return rc;
}

static int cf_check acm_xsm_evtchn_interdomain(struct domain *ld,
					       struct evtchn *lchn,
					       struct domain *rd,
					       struct evtchn *rchn)
{
	int rc = xsm_evtchn_interdomain(ld, lchn, rd, rchn);

	if (rc)
		return rc;
	return share(ACM_HOOK_EVTCHN_INTERDOMAIN, "evtchn_interdomain", ld, rd,
		     true);
}

static int cf_check acm_xsm_grant_mapref(struct domain *ld, struct domain *rd,
					 uint32_t flags)
{
	bool ro = flags & GNTMAP_readonly;
	int rc = xsm_grant_mapref(ld, rd, flags);

	if (rc)
		return rc;
	return share(ro ? ACM_HOOK_GNT_MAP_READ : ACM_HOOK_GNT_MAP_WRITE,
		     ro ? "grant_map_read" : "grant_map_write", ld, rd, false);
}

static int cf_check acm_xsm_grant_transfer(struct domain *d, struct domain *e)
{
	int rc = xsm_grant_transfer(d, e);

	if (rc)
		return rc;
	return share(ACM_HOOK_GNT_TRANSFER, "grant_transfer", d, e, false);
}

/* Xen treats only a negative return of this hook as a denial. */
static int cf_check acm_xsm_grant_copy(struct domain *src, struct domain *dst)
{
	int rc = xsm_grant_copy(src, dst);

	if (rc)
		return rc;
	return share(ACM_HOOK_GNT_COPY, "grant_copy", src, dst, false);
}

static void cf_check acm_xsm_security_domaininfo(
	struct domain *d, struct xen_domctl_getdomaininfo *info)
{
	struct acm_xsm_dom *ad = dom_of(d);

	info->ssidref = 0;
	spin_lock(&acm_xsm_lock);
	if (ad != NULL && acm_xsm_cur != NULL && ad->row != ACM_ROW_NONE)
		info->ssidref = acm_label_id(acm_xsm_cur->p, ad->row);
	spin_unlock(&acm_xsm_lock);
}

/* ------------------------------------------------- host state snapshot */

/*
 * A policy load or relabel ("a change") is checked against the labelled
 * domains ([L], copied under the lock) and the live shares, read from
 * every domain's event channels WITHOUT the lock (the evtchn hooks hold
 * event_lock when they take ours).  Interdomain channels and unbound
 * ports reserved for another domain both count.  Grant mappings are not
 * enumerated: every split driver pairs its grants with an event channel,
 * which stands for them.
 *
 * Changes are serialised by acm_xsm_changing, so while one runs nobody
 * else writes acm_xsm_cur and the change may read it unlocked.  All its
 * memory is allocated before acm_xsm_lock is taken; share_gen and the
 * domain count then prove the unlocked reads still hold, or the change
 * starts over.
 */
static bool acm_xsm_changing; /* test_and_set_bool: one change at a time */

/* Ends a change: what it wrote is visible before the next one starts. */
static void change_done(void)
{
	smp_mb();
	write_atomic(&acm_xsm_changing, false);
}

struct change {
	struct acm_share_ref *shares;
	size_t n_shares, max_shares;
	struct acm_domain_ref *doms;
	size_t n_doms;	   /* the labelled domains, in list order */
	unsigned long gen; /* share_gen the shares were read at */
	void *scratch;	   /* for acm_update/relabel_validate */
	size_t scratch_len;
	acm_row_t *row_map;	      /* update: old row -> new row */
	struct acm_domain_ref *moved; /* update: the domains' new rows */
};

static void change_free(struct change *c)
{
	vfree(c->shares);
	xfree(c->doms);
	vfree(c->scratch);
	xfree(c->row_map);
	xfree(c->moved);
	memset(c, 0, sizeof(*c));
}

static bool add_share(struct change *c, size_t first, domid_t a, domid_t b,
		      enum acm_hook hook)
{
	size_t i;

	if (a == b || b >= DOMID_FIRST_RESERVED)
		return true;
	for (i = first; i < c->n_shares; i++)
		if (c->shares[i].dom_b == b)
			return true; /* one per pair is enough */
	if (c->n_shares == c->max_shares)
		return false;
	c->shares[c->n_shares].dom_a = a;
	c->shares[c->n_shares].dom_b = b;
	c->shares[c->n_shares].hook = hook;
	c->n_shares++;
	return true;
}

/* Reads the shares; called without acm_xsm_lock. */
static int collect_shares(struct change *c)
{
	struct domain *d;
	unsigned int port, n;
	size_t first;
	int rc = 0;

	rcu_read_lock(&domlist_read_lock);
	for_each_domain (d) {
		read_lock(&d->event_lock);
		first = c->n_shares;
		n = read_atomic(&d->valid_evtchns);
		for (port = 1; port < n && rc == 0; port++) {
			const struct evtchn *chn = evtchn_from_port(d, port);

			if (chn->state == ECS_INTERDOMAIN &&
			    !add_share(c, first, d->domain_id,
				       chn->u.interdomain.remote_dom->domain_id,
				       ACM_HOOK_EVTCHN_INTERDOMAIN))
				rc = -E2BIG;
			else if (chn->state == ECS_UNBOUND &&
				 !add_share(c, first, d->domain_id,
					    chn->u.unbound.remote_domid,
					    ACM_HOOK_EVTCHN_UNBOUND))
				rc = -E2BIG;
		}
		read_unlock(&d->event_lock);
		if (rc)
			break;
	}
	rcu_read_unlock(&domlist_read_lock);
	return rc;
}

/*
 * Prepares a change to `newp` (NULL: a relabel under the current policy):
 * reads the host's state and allocates everything the check needs, then
 * returns 0 with acm_xsm_lock HELD and c->doms filled, the state read
 * being still the state.  Called with acm_xsm_changing set.
 */
static int change_begin(struct change *c, const struct acm_xsm_policy *newp)
{
	const struct acm_xsm_policy *cur = acm_xsm_cur; /* stable: see above */
	struct acm_xsm_dom *ad;
	unsigned int n;
	int tries, rc;

	memset(c, 0, sizeof(*c));
	for (tries = 0; tries < ACM_XSM_SNAPSHOT_TRIES; tries++) {
		change_free(c);
		spin_lock(&acm_xsm_lock);
		c->gen = acm_xsm_share_gen;
		n = acm_xsm_n_doms;
		spin_unlock(&acm_xsm_lock);

		/* A domain has at most one share per peer (add_share
		 * folds the rest): room for every pair, within a cap. */
		c->max_shares = (size_t)(n + 1) * (n + 1);
		if (c->max_shares > ACM_XSM_MAX_SHARES)
			c->max_shares = ACM_XSM_MAX_SHARES;
		c->shares = vzalloc(c->max_shares * sizeof(*c->shares));
		c->doms = xmalloc_array(struct acm_domain_ref, n + 1);
		if (cur != NULL) {
			c->scratch_len = acm_update_scratch_size(
				cur->p, newp ? newp->p : cur->p, n);
			c->scratch =
				vzalloc(c->scratch_len ? c->scratch_len : 8);
		}
		if (cur != NULL && newp != NULL) {
			c->row_map = xmalloc_array(acm_row_t,
						   cur->info.n_labels + 1);
			c->moved = xmalloc_array(struct acm_domain_ref, n + 1);
		}
		rc = -ENOMEM;
		if (c->shares == NULL || c->doms == NULL ||
		    (cur != NULL && c->scratch == NULL) ||
		    (cur != NULL && newp != NULL &&
		     (c->row_map == NULL || c->moved == NULL)))
			break;
		rc = collect_shares(c);
		if (rc)
			break;

		spin_lock(&acm_xsm_lock);
		if (acm_xsm_share_gen == c->gen && acm_xsm_n_doms == n) {
			c->n_doms = 0;
			list_for_each_entry (ad, &acm_xsm_doms, link) {
				c->doms[c->n_doms].domid = ad->domid;
				c->doms[c->n_doms].label = ad->row;
				c->n_doms++;
			}
			return 0;
		}
		spin_unlock(&acm_xsm_lock);
		rc = -EAGAIN;
	}
	change_free(c);
	return rc;
}

static void log_blockers(const char *what, const struct acm_xsm_policy *oldp,
			 const struct acm_xsm_policy *newp,
			 const struct acm_blocker *bl, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < ACM_XSM_MAX_BLOCKERS; i++) {
		const struct acm_blocker *b = &bl[i];
		char peer[16] = "";

		if (b->peer_domid != UINT32_MAX)
			snprintf(peer, sizeof(peer), " <-> d%u", b->peer_domid);
		printk(XENLOG_WARNING
		       "hvsec-acm:   %s blocked: %s: d%d%s, label '%s' -> '%s'"
		       "%s%s%s%s\n",
		       what, acm_blocker_name(b->kind),
		       b->domid == UINT32_MAX ? -1 : (int)b->domid, peer,
		       b->old_label == ACM_ROW_NONE
			       ? "-"
			       : row_name(oldp, b->old_label),
		       b->new_label == ACM_ROW_NONE
			       ? "-"
			       : row_name(newp, b->new_label),
		       b->kind == ACM_B_SHARING ? " via " : "",
		       b->kind == ACM_B_SHARING ? acm_hook_name(b->hook) : "",
		       b->kind == ACM_B_CHWALL_CONFLICT ? ", type " : "",
		       b->kind == ACM_B_CHWALL_CONFLICT
			       ? cw_name(newp, b->type_a)
			       : "");
	}
	if (n > ACM_XSM_MAX_BLOCKERS)
		printk(XENLOG_WARNING "hvsec-acm:   ... and %lu more\n",
		       (unsigned long)(n - ACM_XSM_MAX_BLOCKERS));
}

/* ------------------------------------------------------------ loading */

/* The first policy (boot had none or a bad one): only dom0 can be
 * running, unlabelled; it takes the bootstrap label.  Lock held. */
static int install_first(struct acm_xsm_policy *pol)
{
	struct acm_xsm_dom *ad;
	struct acm_verdict v;
	acm_row_t rows[1];
	size_t n = 0;

	list_for_each_entry (ad, &acm_xsm_doms, link) {
		if (ad->row != ACM_ROW_NONE || n == 1)
			return -EBUSY; /* cannot happen: fail closed */
		rows[n++] = pol->info.bootstrap;
	}
	if (acm_ctx_adopt_running(pol->ctx, rows, n, &v) != ACM_OK)
		return -EINVAL;
	list_for_each_entry (ad, &acm_xsm_doms, link) {
		ad->row = pol->info.bootstrap;
	}
	acm_xsm_cur = pol;
	acm_xsm_share_gen++;
	return 0;
}

/* Validates `pol` against the running state and swaps it in; on success
 * *old gets the policy to free.  Lock held (change_begin). */
static int install_update(struct acm_xsm_policy *pol, struct change *c,
			  struct acm_xsm_policy **old)
{
	struct acm_xsm_policy *cur = acm_xsm_cur;
	struct acm_blocker bl[ACM_XSM_MAX_BLOCKERS];
	struct acm_xsm_dom *ad;
	size_t n_bl = 0, i;
	enum acm_err err;

	err = acm_update_validate(cur->p, pol->p, c->doms, c->n_doms, c->shares,
				  c->n_shares, NULL, 0, c->row_map, bl,
				  ACM_XSM_MAX_BLOCKERS, &n_bl, c->scratch,
				  c->scratch_len);
	if (err != ACM_OK) {
		printk(XENLOG_WARNING "hvsec-acm: update check failed: %s\n",
		       acm_strerror(err));
		return -EINVAL;
	}
	if (n_bl) {
		printk(XENLOG_WARNING
		       "hvsec-acm: policy '%s' %u.%u refused, '%s' %u.%u kept: "
		       "%lu problem(s) with %lu running domain(s), %lu "
		       "share(s)\n",
		       pol->info.name, pol->info.version_major,
		       pol->info.version_minor, cur->info.name,
		       cur->info.version_major, cur->info.version_minor,
		       (unsigned long)n_bl, (unsigned long)c->n_doms,
		       (unsigned long)c->n_shares);
		log_blockers("update", cur, pol, bl, n_bl);
		return -EBUSY;
	}
	for (i = 0; i < c->n_doms; i++) {
		c->moved[i].domid = c->doms[i].domid;
		c->moved[i].label = c->row_map[c->doms[i].label];
	}
	err = acm_update_adopt(pol->ctx, cur->ctx, c->moved, c->n_doms);
	if (err != ACM_OK) {
		printk(XENLOG_WARNING "hvsec-acm: update adopt failed: %s\n",
		       acm_strerror(err));
		return -EINVAL;
	}
	/* The swap.  The list is still in the order c->doms was read. */
	i = 0;
	list_for_each_entry (ad, &acm_xsm_doms, link) {
		ad->row = c->moved[i++].label;
	}
	acm_xsm_cur = pol;
	acm_xsm_share_gen++;
	*old = cur;
	return 0;
}

/* FLASK_LOAD: `len` bytes at guest address `buf`.  Changing set. */
static int load_policy(XEN_GUEST_HANDLE(char) buf, uint32_t len)
{
	struct acm_xsm_policy *pol = NULL, *old = NULL;
	struct change c;
	char why[96];
	void *blob;
	int rc = -EINVAL;

	blob = blob_alloc(len, why, sizeof(why));
	if (blob != NULL && copy_from_guest((char *)blob, buf, len)) {
		vfree(blob);
		blob = NULL;
		snprintf(why, sizeof(why), "cannot read it from the caller");
		rc = -EFAULT;
	}
	if (blob != NULL)
		rc = build_policy(blob, len, &pol, why, sizeof(why));
	if (rc) {
		printk(XENLOG_WARNING
		       "hvsec-acm: xl loadpolicy refused (%s); %s\n",
		       why,
		       acm_xsm_cur ? "the running policy is kept"
				   : "still no policy: fail-closed");
		return rc;
	}
	rc = change_begin(&c, pol);
	if (rc) {
		printk(XENLOG_WARNING
		       "hvsec-acm: xl loadpolicy: cannot read the host's "
		       "state (%d); nothing changed\n",
		       rc);
		policy_free(pol);
		return rc;
	}
	if (acm_xsm_cur == NULL)
		rc = install_first(pol);
	else
		rc = install_update(pol, &c, &old);
	spin_unlock(&acm_xsm_lock);
	change_free(&c);
	if (rc) {
		policy_free(pol);
		return rc;
	}
	say_policy(old ? "updated to" : "loaded", pol);
	policy_free(old);
	return 0;
}

/* FLASK_RELABEL_DOMAIN: gives a running domain another label of the
 * current policy, if its shares and the Chinese Wall allow it.  Changing
 * set. */
static int relabel_domain(uint32_t domid, uint32_t ssidref)
{
	const struct acm_xsm_policy *pol = acm_xsm_cur; /* stable */
	struct acm_blocker bl[ACM_XSM_MAX_BLOCKERS];
	struct acm_xsm_dom *ad, *target = NULL;
	struct change c;
	acm_row_t row;
	size_t n_bl = 0;
	enum acm_err err;
	int rc;

	if (pol == NULL)
		return -ENOENT;
	row = acm_label_find_id(pol->p, ssidref);
	if (row == ACM_ROW_NONE || acm_label_kind(pol->p, row) != ACM_LABEL_VM)
		return -EINVAL;
	rc = change_begin(&c, NULL);
	if (rc)
		return rc;
	list_for_each_entry (ad, &acm_xsm_doms, link) {
		if (ad->domid == domid)
			target = ad;
	}
	rc = -ESRCH;
	if (target == NULL)
		goto out;
	err = acm_relabel_validate(pol->ctx, c.doms, c.n_doms, c.shares,
				   c.n_shares, NULL, 0, domid, row, bl,
				   ACM_XSM_MAX_BLOCKERS, &n_bl, c.scratch,
				   c.scratch_len);
	rc = -EINVAL;
	if (err != ACM_OK)
		goto out;
	rc = -EBUSY;
	if (n_bl) {
		printk(XENLOG_WARNING
		       "hvsec-acm: relabel of d%u to '%s' refused\n",
		       domid, row_name(pol, row));
		log_blockers("relabel", pol, pol, bl, n_bl);
		goto out;
	}
	printk(XENLOG_WARNING "hvsec-acm: d%u relabelled '%s' -> '%s'\n", domid,
	       row_name(pol, target->row), row_name(pol, row));
	acm_relabel_apply(pol->ctx, target->row, row);
	target->row = row;
	acm_xsm_share_gen++;
	rc = 0;
out:
	spin_unlock(&acm_xsm_lock);
	change_free(&c);
	return rc;
}

/* ------------------------------------------------------------ labels */

/*
 * CONTEXT_TO_SID: "ACM:<policy>:<label>" (the "ACM" prefix in any case,
 * <policy> the running policy's name) or a bare "<label>": a VM label of
 * the running policy.  The ssidref is the label's stable id.
 */
static int context_to_sid(const char *ctx, uint32_t *sid)
{
	const char *label = ctx;
	acm_row_t row;
	size_t pn;
	int rc = -EINVAL;

	spin_lock(&acm_xsm_lock);
	if (acm_xsm_cur == NULL) {
		rc = -ENOENT;
		goto out;
	}
	if (strncasecmp(ctx, "acm:", 4) == 0) {
		pn = strlen(acm_xsm_cur->info.name);
		if (strncmp(ctx + 4, acm_xsm_cur->info.name, pn) != 0 ||
		    ctx[4 + pn] != ':')
			goto out;
		label = ctx + 4 + pn + 1;
	}
	row = acm_label_find(acm_xsm_cur->p, ACM_LABEL_VM, label);
	if (row == ACM_ROW_NONE)
		goto out;
	*sid = acm_label_id(acm_xsm_cur->p, row);
	rc = 0;
out:
	spin_unlock(&acm_xsm_lock);
	return rc;
}

static int sid_to_context(struct xen_flask_sid_context *sc)
{
	char buf[ACM_XSM_CONTEXT_MAX + 1];
	acm_row_t row;
	uint32_t len;
	int rc = -EINVAL;

	spin_lock(&acm_xsm_lock);
	if (acm_xsm_cur == NULL) {
		rc = -ENOENT;
		goto unlock;
	}
	row = acm_label_find_id(acm_xsm_cur->p, sc->sid);
	if (row == ACM_ROW_NONE)
		goto unlock;
	/* With its NUL, as FLASK: libxl takes strlen() of the result. */
	len = snprintf(buf, sizeof(buf), "ACM:%s:%s", acm_xsm_cur->info.name,
		       acm_label_name(acm_xsm_cur->p, row)) +
	      1;
	rc = 0;
unlock:
	spin_unlock(&acm_xsm_lock);
	if (rc)
		return rc;
	if (len > sizeof(buf))
		len = sizeof(buf);
	rc = len > sc->size ? -ERANGE : 0;
	sc->size = len;
	if (rc == 0 && copy_to_guest(sc->context, buf, len))
		rc = -EFAULT;
	return rc;
}

static void hex32(char *out, const uint8_t *b)
{
	static const char digits[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < ACM_SHA256_LEN; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * ACM_SHA256_LEN] = '\0';
}

/*
 * FLASK_GETBOOL: ACM has no booleans; boolean ACM_XSM_IDENTITY_BOOL
 * (read-only, always "on") carries the running policy's identity so that
 * a toolstack can tell one policy from another with the same name and
 * label ids.  -ENOENT with no policy or for any other boolean; -ERANGE
 * when the caller's buffer is short, as FLASK (a size of 0 asks only for
 * the length, returned in size).
 */
static int get_identity(struct xen_flask_boolean *b)
{
	char buf[ACM_XSM_IDENTITY_MAX + 1];
	char src[2 * ACM_SHA256_LEN + 1], sum[2 * ACM_SHA256_LEN + 1];
	uint32_t len;
	int rc = -ENOENT;

	if (b->bool_id != ACM_XSM_IDENTITY_BOOL)
		return -ENOENT; /* also -1: look-up by name */
	spin_lock(&acm_xsm_lock);
	if (acm_xsm_cur != NULL) {
		const struct acm_policy_info *i = &acm_xsm_cur->info;

		hex32(src, i->source_sha256);
		hex32(sum, i->blob_sha256);
		len = snprintf(buf, sizeof(buf), "%s %u.%u %s %s %s",
			       ACM_XSM_IDENTITY_TAG, i->version_major,
			       i->version_minor, src, sum, i->name);
		rc = 0;
	}
	spin_unlock(&acm_xsm_lock);
	if (rc)
		return rc;
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1; /* cannot happen: sized above */
	b->enforcing = 1;
	b->pending = 1;
	if (b->size == 0) {
		b->size = len; /* a zero size asks for the length only */
		return 0;
	}
	rc = len > b->size ? -ERANGE : 0;
	b->size = len;
	if (rc == 0 && copy_to_guest(b->name, buf, len))
		rc = -EFAULT;
	return rc;
}

/* ------------------------------------------------------------ xsm_op */

static long cf_check acm_xsm_do_xsm_op(XEN_GUEST_HANDLE_PARAM(void) u_op)
{
	xen_flask_op_t op;
	char *str;
	bool copy_out = false;
	long rc;

	if (copy_from_guest(&op, u_op, 1))
		return -EFAULT;
	if (op.interface_version != XEN_FLASK_INTERFACE_VERSION)
		return -ENOSYS;

	switch (op.cmd) {
	case FLASK_LOAD:
		if (!is_control_domain(current->domain))
			return -EPERM;
		if (test_and_set_bool(acm_xsm_changing))
			return -EBUSY; /* another load or relabel runs */
		rc = load_policy(op.u.load.buffer, op.u.load.size);
		change_done();
		break;
	case FLASK_GETENFORCE:
		rc = 1; /* ACM has no permissive mode */
		break;
	case FLASK_SETENFORCE:
		if (!is_control_domain(current->domain))
			return -EPERM;
		rc = op.u.enforce.enforcing ? 0 : -EOPNOTSUPP;
		break;
	case FLASK_CONTEXT_TO_SID:
		str = safe_copy_string_from_guest(op.u.sid_context.context,
						  op.u.sid_context.size,
						  ACM_XSM_CONTEXT_MAX);
		if (IS_ERR(str))
			return PTR_ERR(str);
		rc = context_to_sid(str, &op.u.sid_context.sid);
		xfree(str);
		copy_out = true;
		break;
	case FLASK_SID_TO_CONTEXT:
		rc = sid_to_context(&op.u.sid_context);
		copy_out = true;
		break;
	case FLASK_RELABEL_DOMAIN:
		if (!is_control_domain(current->domain))
			return -EPERM;
		if (test_and_set_bool(acm_xsm_changing))
			return -EBUSY;
		rc = relabel_domain(op.u.relabel.domid, op.u.relabel.sid);
		change_done();
		break;
	case FLASK_GETBOOL:
		rc = get_identity(&op.u.boolean);
		copy_out = true;
		break;
	default:
		/* FLASK's access vectors, other boolean ops, AVC and
		 * ocontexts have no ACM meaning. */
		rc = -EOPNOTSUPP;
		break;
	}
	if (rc >= 0 && copy_out && copy_to_guest(u_op, &op, 1))
		rc = -EFAULT;
	return rc;
}

/* The one hook table.  Slots left out are filled with the dummy hooks by
 * xsm_fixup_ops().  __initconst_cf_clobber: with CET-IBT, boot patching
 * turns every call into a direct one and then seals these functions'
 * ENDBR64, so nothing may call them through another pointer. */
static const struct xsm_ops __initconst_cf_clobber acm_xsm_ops = {
	.alloc_security_domain = acm_xsm_alloc_security_domain,
	.free_security_domain = acm_xsm_free_security_domain,
	.domain_create = acm_xsm_domain_create,
	.security_domaininfo = acm_xsm_security_domaininfo,
	.evtchn_unbound = acm_xsm_evtchn_unbound,
	.evtchn_interdomain = acm_xsm_evtchn_interdomain,
	.grant_mapref = acm_xsm_grant_mapref,
	.grant_transfer = acm_xsm_grant_transfer,
	.grant_copy = acm_xsm_grant_copy,
	.do_xsm_op = acm_xsm_do_xsm_op,
};

/* ---------------------------------------------------------------- init */

/* `policy_buffer` is a temporary boot mapping of the multiboot module
 * (build_policy copies it); NULL/0 when there is none. */
const struct xsm_ops *__init acm_xsm_init(const void *policy_buffer,
					  size_t policy_size)
{
	struct acm_xsm_policy *pol = NULL;
	char why[96];
	void *blob;
	int rc = -EINVAL;

	printk(XENLOG_WARNING "hvsec-acm: initialising (xsm=acm)\n");
	if (policy_size == 0) {
		snprintf(acm_xsm_no_policy_why, sizeof(acm_xsm_no_policy_why),
			 "no boot policy module");
	} else {
		blob = blob_alloc(policy_size, why, sizeof(why));
		if (blob != NULL) {
			memcpy(blob, policy_buffer, policy_size);
			rc = build_policy(blob, policy_size, &pol, why,
					  sizeof(why));
		}
		if (rc == 0) {
			acm_xsm_cur = pol;
			say_policy("boot", pol);
		} else {
			snprintf(acm_xsm_no_policy_why,
				 sizeof(acm_xsm_no_policy_why),
				 "boot policy refused: %s", why);
		}
	}
	/* Fail closed, but stay up: returning NULL would leave Xen on the
	 * dummy module (fail-open), and a panic would leave no way to load
	 * a good policy. */
	if (acm_xsm_cur == NULL)
		printk(XENLOG_ERR
		       "hvsec-acm: NO POLICY (%s): only dom0 will start, "
		       "unlabelled; every other domain and every sharing "
		       "hook is refused until xl loadpolicy\n",
		       acm_xsm_no_policy_why);
	return &acm_xsm_ops;
}
