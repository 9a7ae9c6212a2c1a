/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_check.c - the resource checks the toolstack makes itself.
 *
 * hvsecd checks a domain's disks at create time; vifs are not part of the
 * create request, and a vTPM is mediated when its backend binds the ring.
 * For those, as xend did, the tool asks the engine (the policy hvsecd
 * enforces, loaded here) whether the domain's label may use each
 * *labelled* vif or vTPM resource.  Unlabelled ones are reported as not
 * checked: a bridge nobody labelled is not a resource the policy speaks
 * of.  This is a pre-check in dom0, the weaker place; see
 * docs/toolstack.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

static int add(struct hvt *t, struct hvt_policy *pol, acm_row_t vm,
	       const char *what, unsigned line, const char *res,
	       struct hvt_checks *out)
{
	struct hvt_check *c, *nv;
	struct acm_verdict v;
	acm_row_t row;
	int rc;

	nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
	if (!nv) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	out->v = nv;
	c = &out->v[out->n++];
	memset(c, 0, sizeof(*c));
	c->what = what;
	c->line = line;
	snprintf(c->object, sizeof(c->object), "%s", res);
	rc = hvt_reslabel_get(t, res, c->label, sizeof(c->label));
	if (rc > 0)
		return rc;
	if (rc == -ENOENT) {
		c->label[0] = '\0';
		c->err = 1;
		snprintf(c->why, sizeof(c->why), "not labelled: not checked");
		return 0;
	}
	row = hvt_label_row(pol, ACM_LABEL_RESOURCE, c->label);
	acm_decide_resource(pol->ctx, vm, row, &v);
	c->err = v.decision == ACM_PERMIT ? 0 : -EACCES;
	if (row == ACM_ROW_NONE)
		snprintf(c->why, sizeof(c->why),
			 "its label %s is not a resource label of the policy",
			 c->label);
	else
		hvt_explain(pol, &v, vm, row, c->why, sizeof(c->why));
	return 0;
}

int hvt_checks_local(struct hvt *t, struct hvt_policy *pol,
		     const struct xlcfg *c, struct hvt_checks *out)
{
	acm_row_t vm;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!pol->p)
		return 0; /* fail-closed: the daemon refuses everything */
	vm = hvt_label_row(pol, ACM_LABEL_VM, c->has_label ? c->label : "");
	if (vm == ACM_ROW_NONE)
		return 0; /* the daemon will say the label is unknown */
	for (size_t i = 0; i < c->n_vifs; i++) {
		if (!c->vifs[i].resource)
			continue;
		rc = add(t, pol, vm, "vif", c->vifs[i].line,
			 c->vifs[i].resource, out);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < c->n_vtpms; i++) {
		if (!c->vtpms[i].resource)
			continue;
		rc = add(t, pol, vm, "vtpm", c->vtpms[i].line,
			 c->vtpms[i].resource, out);
		if (rc)
			return rc;
	}
	return 0;
}

void hvt_checks_free(struct hvt_checks *ck)
{
	free(ck->v);
	ck->v = NULL;
	ck->n = 0;
}
