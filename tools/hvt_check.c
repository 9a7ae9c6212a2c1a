/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_check.c - what a dry run shows beside hvsecd's checks.
 *
 * hvsecd checks every labelled disk, vif and vTPM at create (and in a dry
 * run), so the tool decides nothing itself: it only lists the vifs and
 * vTPMs that have no label, as not checked (a bridge nobody labelled is
 * not a resource the policy speaks of), so a dry run shows every
 * resource of the config.  See docs/toolstack.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

static int add(struct hvt *t, const char *what, unsigned line, const char *res,
	       struct hvt_checks *out)
{
	struct hvt_check *c, *nv;
	char label[HV_NAME_LEN];
	int rc;

	rc = hvt_reslabel_get(t, res, label, sizeof(label));
	if (rc > 0)
		return rc;
	if (rc != -ENOENT)
		return 0; /* labelled: among hvsecd's checks */
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
	c->err = 1;
	snprintf(c->why, sizeof(c->why), "not labelled: not checked");
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
		rc = add(t, "vif", c->vifs[i].line, c->vifs[i].resource, out);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < c->n_vtpms; i++) {
		if (!c->vtpms[i].resource)
			continue;
		rc = add(t, "vtpm", c->vtpms[i].line, c->vtpms[i].resource,
			 out);
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

int hvt_dchecks_take(const struct hv_ctl_resp *r, struct hvt_dchecks *out)
{
	struct hv_ctl_dry_run_rep rep;

	if (r->body_len < sizeof(rep))
		return -EPROTO;
	memcpy(&rep, r->body, sizeof(rep));
	if (rep.n_checks > HV_CTL_CHECKS_MAX ||
	    r->body_len != sizeof(rep) + rep.n_checks * sizeof(out->chk[0]))
		return -EPROTO;
	out->rep = rep;
	memcpy(out->chk, r->body + sizeof(rep),
	       rep.n_checks * sizeof(out->chk[0]));
	for (uint32_t i = 0; i < rep.n_checks; i++) {
		out->chk[i].object[sizeof(out->chk[i].object) - 1] = '\0';
		out->chk[i].text[sizeof(out->chk[i].text) - 1] = '\0';
	}
	return 0;
}
