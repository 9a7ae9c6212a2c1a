/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_dryrun.c - dry-run CFG: what create would decide, check by check,
 * without creating anything (xm's dry-run):
 *
 *   Dry run of acme1 (acme1.cfg) as ACM:multi-tenant:Acme
 *     PERMIT  host_authorize  Acme: host authorizes label Acme
 *     PERMIT  resource_use    AcmeDisk: may use resource file:/img/acme1.img
 *     DENY    domain_create   Acme: Chinese Wall or label refuses Acme
 *             Chinese Wall: type Acme conflicts with type Globex of running
 *             domain globex1 (id 3) in conflict set AcmeVsGlobex
 *   Decision: DENIED (1 of 4 checks)
 *
 * hvsecd runs every check it would run at create (all of them, not just
 * up to the first denial; labelled disks, vifs and vTPMs included); the
 * tool lists the unlabelled vifs and vTPMs as not checked (hvt_check.c)
 * and, for a Chinese-Wall denial, names the running domain that holds
 * the conflicting type.  Exit 0 PERMITTED, 1 DENIED.
 */
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks.h"
#include "tools/hvsec.h"

struct dry {
	struct hvt_dchecks dc;
	char chwall[512]; /* why the wall refuses, "" if it does not */
	char said[HV_CTL_TEXT_MAX + 1]; /* hvsecd's summary (e.g. that the
					 * name is in use), kept before the
					 * next call reuses the reply */
};

/* The daemon numbers a check's hook as hooks.def does. */
static const char *hook_name(uint32_t id)
{
	const struct hooks_hook_info *h = hooks_hook_info((enum hooks_id)id);

	return h ? h->name : "check";
}

static int take(struct hvt *t, struct dry *d)
{
	const struct hv_ctl_resp *r = t->resp;

	if (hvt_dchecks_take(r, &d->dc)) {
		hvt_err("hvsecd sent a malformed dry-run reply");
		return HVT_DAEMON;
	}
	snprintf(d->said, sizeof(d->said), "%s", r->text ? r->text : "");
	return 0;
}

static const char *verdict(int err)
{
	return err < 0 ? "DENY" : err > 0 ? "-" : "PERMIT";
}

static void print_json(const struct xlcfg *c, const char *policy,
		       const struct dry *d, const struct hvt_checks *ck,
		       bool denied)
{
	struct hvt_json j;

	hvt_json_init(&j, stdout);
	hvt_json_obj(&j);
	hvt_json_kstr(&j, "domain", c->name);
	hvt_json_kstr(&j, "config", c->path);
	hvt_json_kstr(&j, "policy", policy);
	hvt_json_kstr(&j, "label", c->has_label ? c->label : ACM_UNLABELED);
	hvt_json_kstr(&j, "decision", denied ? "DENIED" : "PERMITTED");
	hvt_json_ki64(&j, "errno", d->dc.rep.verdict);
	hvt_json_kstr(&j, "hvsecd", d->said);
	hvt_json_key(&j, "checks");
	hvt_json_arr(&j);
	for (uint32_t i = 0; i < d->dc.rep.n_checks; i++) {
		const struct hv_ctl_check *k = &d->dc.chk[i];

		hvt_json_obj(&j);
		hvt_json_kstr(&j, "hook", hook_name(k->hook));
		hvt_json_kstr(&j, "decision", k->err ? "deny" : "permit");
		hvt_json_kstr(&j, "object", k->object);
		hvt_json_kstr(&j, "text", k->text);
		if (k->err && d->chwall[0] &&
		    !strcmp(hook_name(k->hook), "domain_create"))
			hvt_json_kstr(&j, "chinese_wall", d->chwall);
		hvt_json_kstr(&j, "by", "hvsecd");
		hvt_json_obj_end(&j);
	}
	for (size_t i = 0; i < ck->n; i++) {
		const struct hvt_check *k = &ck->v[i];

		hvt_json_obj(&j);
		hvt_json_kstr(&j, "hook", "resource_use");
		hvt_json_kstr(&j, "class", k->what);
		hvt_json_kstr(&j, "decision",
			      k->err < 0   ? "deny"
			      : k->err > 0 ? "unchecked"
					   : "permit");
		hvt_json_kstr(&j, "resource", k->object);
		hvt_json_kstr(&j, "object", k->label[0] ? k->label : NULL);
		hvt_json_kstr(&j, "text", k->why);
		hvt_json_ku64(&j, "line", k->line);
		hvt_json_kstr(&j, "by", "toolstack");
		hvt_json_obj_end(&j);
	}
	hvt_json_arr_end(&j);
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
}

static void print_text(const struct xlcfg *c, const char *policy,
		       const struct dry *d, const struct hvt_checks *ck,
		       bool denied)
{
	unsigned n = 0, bad = 0;

	printf("Dry run of %s (%s) as ", c->name, c->path);
	if (policy)
		printf("ACM:%s:%s\n", policy,
		       c->has_label ? c->label : ACM_UNLABELED);
	else
		printf("%s (hvsecd has no policy)\n",
		       c->has_label ? c->label : ACM_UNLABELED);
	for (uint32_t i = 0; i < d->dc.rep.n_checks; i++) {
		const struct hv_ctl_check *k = &d->dc.chk[i];
		const char *name = hook_name(k->hook);

		n++;
		bad += k->err != 0;
		printf("  %-6s  %-15s %s: %s\n", verdict(k->err ? -1 : 0), name,
		       k->object, k->text);
		if (k->err && d->chwall[0] && !strcmp(name, "domain_create"))
			printf("  %-6s  %-15s Chinese Wall: %s\n", "", "",
			       d->chwall);
	}
	for (size_t i = 0; i < ck->n; i++) {
		const struct hvt_check *k = &ck->v[i];

		n += k->err <= 0;
		bad += k->err < 0;
		if (k->label[0])
			printf("  %-6s  %-15s %s: %s: %s\n", verdict(k->err),
			       k->what, k->label, k->object, k->why);
		else
			printf("  %-6s  %-15s %s: %s\n", verdict(k->err),
			       k->what, k->object, k->why);
	}
	if (d->said[0])
		printf("hvsecd: %s\n", d->said);
	if (denied && bad == 0)
		printf("Decision: DENIED (hvsecd: %s)\n",
		       hvt_errname(d->dc.rep.verdict));
	else if (denied)
		printf("Decision: DENIED (%u of %u checks)\n", bad, n);
	else
		printf("Decision: PERMITTED\n");
}

int hvt_cmd_dry_run(struct hvt *t, const struct hvt_args *a)
{
	static uint8_t body[HV_CTL_MSG_MAX];
	struct xlcfg c = {0};
	struct hvt_create cr;
	struct hvt_policy pol = {0};
	struct hvt_checks ck = {0};
	struct hv_ctl_domain_info *doms = NULL;
	struct dry *d = NULL;
	size_t len, n_doms = 0;
	bool denied;
	int rc;

	rc = hvt_cfg_load(a->pos[0], &c);
	if (rc)
		return rc;
	rc = hvt_policy_fetch(t, &pol);
	if (rc)
		goto out_cfg;
	rc = hvt_create_build(&c, pol.p ? pol.info.name : NULL, false, &cr);
	if (rc)
		goto out_pol;
	if (pol.p &&
	    hvt_label_row(&pol, ACM_LABEL_VM, cr.a.label) == ACM_ROW_NONE) {
		if (c.has_label)
			hvt_err("%s:%u: access_control: %s is not a VM label "
				"of "
				"policy %s (see 'hvsec labels')",
				c.path, c.label_line, c.label, pol.info.name);
		else
			hvt_err("%s: no label, and policy %s has no %s label: "
				"unlabelled domains may not run",
				c.path, pol.info.name, ACM_UNLABELED);
		rc = c.has_label ? HVT_USAGE : HVT_NO;
		goto out_cr;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out_cr;
	}
	len = hv_ctl_encode_create(&cr.a, body, sizeof(body));
	if (!len) {
		hvt_err("%s: the domain does not fit a create request", c.path);
		rc = HVT_USAGE;
		goto out_cr;
	}
	rc = hvt_call(t, HV_CTL_DRY_RUN, body, len, NULL, 0);
	if (rc) {
		rc = hvt_fail(t, "dry-run", rc);
		goto out_cr;
	}
	rc = take(t, d);
	if (rc)
		goto out_cr;
	rc = hvt_checks_local(t, &pol, &c, &ck);
	if (rc)
		goto out_cr;
	denied = d->dc.rep.verdict != 0;
	for (size_t i = 0; i < ck.n; i++)
		denied |= ck.v[i].err < 0;
	if (d->dc.rep.verdict && pol.p && !hvt_domain_list(t, &doms, &n_doms))
		hvt_chwall_why(&pol,
			       hvt_label_row(&pol, ACM_LABEL_VM, cr.a.label),
			       doms, n_doms, d->chwall, sizeof(d->chwall));
	if (t->json)
		print_json(&c, pol.p ? pol.info.name : NULL, d, &ck, denied);
	else
		print_text(&c, pol.p ? pol.info.name : NULL, d, &ck, denied);
	rc = denied ? HVT_NO : HVT_OK;
out_cr:
	free(d);
	free(doms);
	hvt_checks_free(&ck);
	hvt_create_free(&cr);
out_pol:
	hvt_policy_free(&pol);
out_cfg:
	xlcfg_free(&c);
	return rc;
}
