/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_device.c - backends' device connections: HV_OP_DEVICE_CONNECT and
 * HV_OP_DEVICE_DISCONNECT, and what a resource in use means for a
 * relabel of its resource label.
 *
 * A backend (the caller) says which resource it connects to which
 * frontend.  The resource is checked with resource_use for the frontend,
 * by the same rule as a create's vifs and vTPMs (hvd_check_labelled_res):
 * a labelled resource is a policy object, an unlabelled one is not.  A
 * permitted connection is kept in the backend's table until the backend
 * disconnects it or either domain dies, and meanwhile counts as a
 * resource in use of the frontend: the blockers of a live update or a
 * relabel (hvd_policy.c) and of a relabel of the resource (below).
 *
 * What this does not do: stop a backend that never says it connects.
 * The data path is grants and event channels, mediated by their own hooks
 * (docs/threat-model.md).
 *
 * Bounds: a domain holds at most HV_DEV_PER_DOM connections as backend
 * and HV_DEV_PER_DOM as frontend (-ENOSPC), so a guest cannot grow the
 * daemon's memory or the update snapshot past a fixed size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hypervisor/hvd.h"

/* The dev classes are the hooks' resource classes, value for value. */
static_assert((int)HV_DEV_DISK == (int)HOOKS_RES_DISK &&
		      (int)HV_DEV_VIF == (int)HOOKS_RES_VIF &&
		      (int)HV_DEV_VTPM == (int)HOOKS_RES_VTPM,
	      "hv_dev_class and hooks_res_class differ");

static const char *class_name(uint32_t cls)
{
	switch (cls) {
	case HV_DEV_DISK:
		return "disk";
	case HV_DEV_VIF:
		return "vif";
	case HV_DEV_VTPM:
		return "vtpm";
	}
	return "?";
}

static struct hvd_dev *find(struct hvd_domain *b, uint32_t frontend,
			    uint32_t cls, const char *name)
{
	for (uint32_t k = 0; b->n_devs && k < HV_DEV_PER_DOM; k++) {
		struct hvd_dev *dv = &b->devs[k];

		if (dv->used && dv->frontend == frontend && dv->cls == cls &&
		    !strcmp(dv->name, name))
			return dv;
	}
	return NULL;
}

static void drop(struct hvd *d, struct hvd_domain *b, struct hvd_dev *dv)
{
	struct hvd_domain *f = hvd_domain_get(d, dv->frontend);

	if (f && f->n_devs_front)
		f->n_devs_front--;
	b->n_devs--;
	memset(dv, 0, sizeof(*dv));
}

int hvd_dev_connect(struct hvd *d, struct hvd_domain *dom,
		    const struct hv_req_device *req)
{
	struct hvd_domain *f;
	struct hooks_subject subj;
	struct hvd_dev *dv = NULL;
	const char *rl;
	acm_row_t row;
	int rc;

	/* The parser saw the field terminated and canonical. */
	if (req->frontend == dom->domid)
		return -EINVAL;
	f = hvd_domain_live(d, req->frontend);
	if (!f)
		return -ESRCH;
	subj = hvd_subject(f);
	rc = hvd_check_labelled_res(d, &subj, (enum hooks_res_class)req->cls,
				    req->resource, &rl, &row);
	if (rc) {
		d->st.denials++;
		return rc;
	}
	if (find(dom, f->domid, req->cls, req->resource))
		return -EEXIST;
	if (dom->n_devs >= HV_DEV_PER_DOM || f->n_devs_front >= HV_DEV_PER_DOM)
		return -ENOSPC;
	for (uint32_t k = 0; k < HV_DEV_PER_DOM && !dv; k++)
		if (!dom->devs[k].used)
			dv = &dom->devs[k];
	if (!dv)
		return -ENOSPC; /* not reached: n_devs counts used entries */
	memset(dv, 0, sizeof(*dv));
	dv->used = true;
	dv->labelled = rl != NULL;
	dv->frontend = f->domid;
	dv->cls = req->cls;
	dv->row = row;
	snprintf(dv->label, sizeof(dv->label), "%s", rl ? rl : "");
	memcpy(dv->name, req->resource, sizeof(dv->name));
	dom->n_devs++;
	f->n_devs_front++;
	return 0;
}

int hvd_dev_disconnect(struct hvd *d, struct hvd_domain *dom,
		       const struct hv_req_device *req)
{
	struct hvd_dev *dv;

	if (req->frontend == dom->domid)
		return -EINVAL;
	if (!hvd_domain_live(d, req->frontend))
		return -ESRCH;
	dv = find(dom, req->frontend, req->cls, req->resource);
	if (!dv)
		return -ENOENT;
	drop(d, dom, dv);
	return 0;
}

void hvd_dev_release_all(struct hvd *d, struct hvd_domain *dom)
{
	/* What it connected as a backend. */
	for (uint32_t k = 0; dom->n_devs && k < HV_DEV_PER_DOM; k++)
		if (dom->devs[k].used)
			drop(d, dom, &dom->devs[k]);
	/* What backends connected to it. */
	for (uint32_t i = 0; dom->n_devs_front && i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *b = d->doms[i];

		for (uint32_t k = 0; b && b->n_devs && k < HV_DEV_PER_DOM; k++)
			if (b->devs[k].used &&
			    b->devs[k].frontend == dom->domid)
				drop(d, b, &b->devs[k]);
	}
}

/* ------------------------------------------------------------------ */
/* A relabel of a resource in use                                      */

struct relabel_scan {
	const char *res;
	const char *label; /* NULL: the label is removed */
	acm_row_t row;
	uint32_t n_blk;
	size_t len; /* of why, as written so far */
};

/* One user of the resource: `user` uses it through `backend` (NULL: a
 * disk of its create).  Blocks when the label goes or the new one would
 * not let the user in. */
static void judge(struct hvd *d, struct relabel_scan *sc,
		  const struct hvd_domain *user,
		  const struct hvd_domain *backend, uint32_t cls, char *why,
		  size_t why_len)
{
	char via[32] = "";

	if (sc->label && hvd_res_allowed(d, user, (enum hooks_res_class)cls,
					 sc->res, sc->row))
		return;
	if (sc->n_blk++ >= 4 || sc->len >= why_len)
		return; /* counted; the text names the first few */
	if (backend)
		snprintf(via, sizeof(via), " via backend %u", backend->domid);
	sc->len += (size_t)snprintf(
		why + sc->len, why_len - sc->len,
		"%s%s in use by domain %u (label %s)%s",
		sc->n_blk > 1 ? "; " : "", class_name(cls), user->domid,
		user->label[0] ? user->label : ACM_UNLABELED, via);
}

int hvd_res_relabel_check(struct hvd *d, const char *res, const char *label,
			  char *why, size_t why_len)
{
	struct relabel_scan sc = {
		.res = res,
		.label = label,
		.row = label ? hooks_label_find(d->hooks, ACM_LABEL_RESOURCE,
						label)
			     : ACM_ROW_NONE,
	};
	char users[640] = "";

	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		const struct hvd_domain *x = d->doms[i];

		if (!hvd_domain_running(x))
			continue;
		for (uint32_t r = 0; r < x->n_res; r++)
			if (!strcmp(x->res[r].name, res))
				judge(d, &sc, x, NULL, HV_DEV_DISK, users,
				      sizeof(users));
		for (uint32_t k = 0; x->n_devs && k < HV_DEV_PER_DOM; k++) {
			const struct hvd_dev *dv = &x->devs[k];
			const struct hvd_domain *f;

			if (!dv->used || strcmp(dv->name, res))
				continue;
			f = hvd_domain_get(d, dv->frontend);
			if (f)
				judge(d, &sc, f, x, dv->cls, users,
				      sizeof(users));
		}
	}
	if (!sc.n_blk)
		return 0;
	if (label)
		snprintf(why, why_len,
			 "resource %.200s is in use and label %.60s would cut "
			 "off %u user%s: %s%s",
			 res, label, sc.n_blk, sc.n_blk == 1 ? "" : "s", users,
			 sc.n_blk > 4 ? "; ..." : "");
	else
		snprintf(why, why_len,
			 "resource %.200s is in use and may not lose its label "
			 "(%u user%s: %s%s)",
			 res, sc.n_blk, sc.n_blk == 1 ? "" : "s", users,
			 sc.n_blk > 4 ? "; ..." : "");
	return -EBUSY;
}

void hvd_res_relabelled(struct hvd *d, const char *res, const char *label)
{
	acm_row_t row = hooks_label_find(d->hooks, ACM_LABEL_RESOURCE, label);

	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *x = d->doms[i];

		if (!hvd_domain_running(x))
			continue;
		for (uint32_t r = 0; r < x->n_res; r++)
			if (!strcmp(x->res[r].name, res))
				x->res[r].row = row;
		for (uint32_t k = 0; x->n_devs && k < HV_DEV_PER_DOM; k++) {
			struct hvd_dev *dv = &x->devs[k];

			if (!dv->used || strcmp(dv->name, res))
				continue;
			dv->labelled = true;
			dv->row = row;
			snprintf(dv->label, sizeof(dv->label), "%s", label);
		}
	}
}
