/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_label.c - labels, label add|rm|get (dom CFG, res RESOURCE),
 * resources.
 *
 * A domain's label lives in its config (access_control, xm's form), so
 * labelling a config is a file edit; a resource's label lives in hvsecd's
 * store, where the backend checks look it up (xm kept a file in dom0 that
 * anything running as root could rewrite behind the checks' back).
 * Before labelling, the tool makes sure the label is one the policy has,
 * of the right kind: a typo would otherwise surface only as a denial at
 * create time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

enum target { T_DOM, T_RES, T_BAD };

static enum target target_of(const char *w)
{
	if (!strcmp(w, "dom"))
		return T_DOM;
	if (!strcmp(w, "res"))
		return T_RES;
	return T_BAD;
}

/* The policy labels are checked against: --policy FILE, else hvsecd's. */
static int get_policy(struct hvt *t, const struct hvt_args *a,
		      struct hvt_policy *pol)
{
	const char *file = hvt_opt(a, "policy");
	int rc;

	if (file)
		return hvt_policy_file(file, pol);
	rc = hvt_policy_fetch(t, pol);
	if (rc == HVT_DAEMON)
		hvt_err("(to work without hvsecd, name the policy with "
			"--policy P.bin)");
	if (!rc && !pol->p) {
		hvt_err("hvsecd has no policy loaded (fail-closed); load one "
			"or name it with --policy P.bin");
		rc = HVT_USAGE;
	}
	return rc;
}

/* ------------------------------------------------------------ labels */

static void type_json(const struct hvt_policy *pol, acm_row_t row, bool cw,
		      struct hvt_json *j)
{
	uint32_t n = cw ? pol->info.n_cw_types : pol->info.n_ste_types;

	for (acm_type_t ty = 0; ty < n; ty++)
		if (cw ? acm_label_has_cw(pol->p, row, ty)
		       : acm_label_has_ste(pol->p, row, ty))
			hvt_json_str(j, cw ? acm_cw_type_name(pol->p, ty)
					   : acm_ste_type_name(pol->p, ty));
}

/* "A,B,C" into buf; a set too long for it ends in "...". */
static void type_text(const struct hvt_policy *pol, acm_row_t row, bool cw,
		      char *buf, size_t len)
{
	uint32_t n = cw ? pol->info.n_cw_types : pol->info.n_ste_types;
	size_t o = 0;

	buf[0] = '\0';
	for (acm_type_t ty = 0; ty < n; ty++) {
		const char *name = cw ? acm_cw_type_name(pol->p, ty)
				      : acm_ste_type_name(pol->p, ty);
		size_t l = strlen(name);

		if (!(cw ? acm_label_has_cw(pol->p, row, ty)
			 : acm_label_has_ste(pol->p, row, ty)))
			continue;
		if (o + l + 5 >= len) {
			snprintf(buf + o, len - o, "%s...", o ? "," : "");
			return;
		}
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "",
				      name);
	}
	if (!o)
		snprintf(buf, len, "-");
}

static void labels_json(const struct hvt_policy *pol, int want)
{
	struct hvt_json j;

	hvt_json_init(&j, stdout);
	hvt_json_obj(&j);
	hvt_json_kstr(&j, "policy", pol->info.name);
	hvt_json_key(&j, "labels");
	hvt_json_arr(&j);
	for (acm_row_t r = 0; r < pol->info.n_labels; r++) {
		enum acm_label_kind k = acm_label_kind(pol->p, r);

		if (want && (int)k != want)
			continue;
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "name", acm_label_name(pol->p, r));
		hvt_json_kstr(&j, "type", hvt_kind_word(k));
		hvt_json_ku64(&j, "id", acm_label_id(pol->p, r));
		hvt_json_kbool(&j, "bootstrap", r == pol->info.bootstrap);
		hvt_json_key(&j, "ste_types");
		hvt_json_arr(&j);
		type_json(pol, r, false, &j);
		hvt_json_arr_end(&j);
		if (k == ACM_LABEL_VM) {
			hvt_json_key(&j, "chwall_types");
			hvt_json_arr(&j);
			type_json(pol, r, true, &j);
			hvt_json_arr_end(&j);
		}
		hvt_json_obj_end(&j);
	}
	hvt_json_arr_end(&j);
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
}

int hvt_cmd_labels(struct hvt *t, const struct hvt_args *a)
{
	const char *type = hvt_opt(a, "type");
	bool lng = hvt_opt(a, "long") != NULL;
	struct hvt_policy pol;
	char ste[160], cw[160];
	int want, width = 5, ste_width = 9, rc;

	if (!type || !strcmp(type, "dom"))
		want = ACM_LABEL_VM;
	else if (!strcmp(type, "res"))
		want = ACM_LABEL_RESOURCE;
	else if (!strcmp(type, "any"))
		want = 0;
	else
		return hvt_usage(a->cmd, "--type: '%s' is not dom, res or any",
				 type);
	rc = get_policy(t, a, &pol);
	if (rc)
		return rc;
	if (t->json) {
		labels_json(&pol, want);
		goto out;
	}
	for (acm_row_t r = 0; r < pol.info.n_labels; r++) {
		int l = (int)strlen(acm_label_name(pol.p, r));

		width = l > width ? l : width;
		if (lng) {
			type_text(&pol, r, false, ste, sizeof(ste));
			l = (int)strlen(ste);
			ste_width = l > ste_width ? l : ste_width;
		}
	}
	if (lng)
		printf("%-*s  Type  %-*s  %s\n", width, "Label", ste_width,
		       "STE types", "Chinese Wall types");
	for (acm_row_t r = 0; r < pol.info.n_labels; r++) {
		enum acm_label_kind k = acm_label_kind(pol.p, r);
		const char *name = acm_label_name(pol.p, r);

		if (want && (int)k != want)
			continue;
		if (!lng && want) {
			printf("%s\n", name);
			continue;
		}
		if (!lng) {
			printf("%-*s  %s\n", width, name, hvt_kind_word(k));
			continue;
		}
		type_text(&pol, r, false, ste, sizeof(ste));
		if (k == ACM_LABEL_VM)
			type_text(&pol, r, true, cw, sizeof(cw));
		else
			snprintf(cw, sizeof(cw), "-");
		printf("%-*s  %-4s  %-*s  %s%s\n", width, name,
		       hvt_kind_word(k), ste_width, ste, cw,
		       r == pol.info.bootstrap ? "  [dom0]" : "");
	}
out:
	hvt_policy_free(&pol);
	return 0;
}

/* ------------------------------------------------------------ resources */

/* RESOURCE as the store keys it; warns when it names nothing on disk. */
static int canon(const char *in, char *out, size_t len, bool quiet)
{
	char why[256];
	bool resolved;

	if (hvt_resource_name(in, out, len, &resolved, why, sizeof(why))) {
		hvt_err("resource %s", why);
		return HVT_USAGE;
	}
	if (!resolved && !quiet &&
	    (!strncmp(out, "file:", 5) || !strncmp(out, "phy:", 4)))
		hvt_warn("%s does not exist: labelled by its name", out);
	return 0;
}

static int put_res(struct hvt *t, uint32_t op, const char *res,
		   const char *label)
{
	uint8_t body[2 * (HV_CTL_STR_MAX + 8)];
	struct hv_wbuf w;

	hv_wbuf_init(&w, body, sizeof(body));
	hv_wbuf_put_str(&w, res);
	if (label)
		hv_wbuf_put_str(&w, label);
	if (hv_wbuf_error(&w)) {
		hvt_err("resource name too long");
		return -HV_E2BIG;
	}
	return hvt_call(t, op, body, w.len, NULL, 0);
}

static int add_res(struct hvt *t, const struct hvt_args *a, const char *label,
		   const char *res_in)
{
	char res[XLCFG_RESOURCE_MAX];
	struct hvt_policy pol = {0};
	int rc;

	rc = canon(res_in, res, sizeof(res), false);
	if (rc)
		return rc;
	if (strlen(label) >= HV_NAME_LEN) {
		hvt_err("label '%s' is longer than %u", label, HV_NAME_LEN - 1);
		return HVT_USAGE;
	}
	if (!hvt_opt(a, "force")) {
		rc = get_policy(t, a, &pol);
		if (rc)
			return rc;
		if (hvt_label_row(&pol, ACM_LABEL_RESOURCE, label) ==
		    ACM_ROW_NONE) {
			hvt_err("'%s' is not a resource label of policy %s "
				"(see 'hvsec labels --type res')",
				label, pol.info.name);
			hvt_policy_free(&pol);
			return HVT_USAGE;
		}
		hvt_policy_free(&pol);
	}
	rc = put_res(t, HV_CTL_RES_LABEL_SET, res, label);
	if (rc)
		return hvt_fail(t, "label add", rc);
	printf("Resource %s labelled %s.\n", res, label);
	return 0;
}

static int add_dom(struct hvt *t, const struct hvt_args *a, const char *label,
		   const char *cfg)
{
	struct hvt_policy pol = {0};
	char policy[ACM_NAME_MAX + 1];
	bool changed;
	int rc;

	rc = get_policy(t, a, &pol);
	if (rc)
		return rc;
	snprintf(policy, sizeof(policy), "%s", pol.info.name);
	if (!hvt_opt(a, "force") &&
	    hvt_label_row(&pol, ACM_LABEL_VM, label) == ACM_ROW_NONE) {
		hvt_err("'%s' is not a VM label of policy %s (see 'hvsec "
			"labels')",
			label, policy);
		hvt_policy_free(&pol);
		return HVT_USAGE;
	}
	hvt_policy_free(&pol);
	rc = hvt_cfg_set_label(cfg, policy, label, &changed);
	if (!rc)
		printf("%s: label ACM:%s:%s\n", cfg, policy, label);
	return rc;
}

int hvt_cmd_label_add(struct hvt *t, const struct hvt_args *a)
{
	switch (target_of(a->pos[1])) {
	case T_DOM:
		return add_dom(t, a, a->pos[0], a->pos[2]);
	case T_RES:
		return add_res(t, a, a->pos[0], a->pos[2]);
	case T_BAD:
		break;
	}
	return hvt_usage(a->cmd, "'%s': say dom (a config) or res (a resource)",
			 a->pos[1]);
}

int hvt_cmd_label_rm(struct hvt *t, const struct hvt_args *a)
{
	char res[XLCFG_RESOURCE_MAX];
	bool changed;
	int rc;

	switch (target_of(a->pos[0])) {
	case T_DOM:
		rc = hvt_cfg_set_label(a->pos[1], NULL, NULL, &changed);
		if (!rc)
			printf("%s: %s\n", a->pos[1],
			       changed ? "label removed"
				       : "has no label (nothing to do)");
		return rc;
	case T_RES:
		rc = canon(a->pos[1], res, sizeof(res), true);
		if (rc)
			return rc;
		rc = put_res(t, HV_CTL_RES_LABEL_RM, res, NULL);
		if (rc == -HV_ENOENT) {
			printf("%s: has no label (nothing to do)\n", res);
			return 0;
		}
		if (rc)
			return hvt_fail(t, "label rm", rc);
		printf("%s: label removed\n", res);
		return 0;
	case T_BAD:
		break;
	}
	return hvt_usage(a->cmd, "'%s': say dom (a config) or res (a resource)",
			 a->pos[0]);
}

static int get_dom(struct hvt *t, const char *path)
{
	struct xlcfg c = {0};
	struct hvt_json j;
	int rc = hvt_cfg_load(path, &c);

	if (rc)
		return rc;
	if (t->json) {
		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "config", path);
		hvt_json_kstr(&j, "policy", c.has_label ? c.policy : NULL);
		hvt_json_kstr(&j, "label", c.has_label ? c.label : NULL);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
	} else if (c.has_label) {
		printf("ACM:%s:%s\n", c.policy, c.label);
	} else {
		printf("no label (%s applies)\n", ACM_UNLABELED);
	}
	xlcfg_free(&c);
	return 0;
}

static int get_res(struct hvt *t, const char *in)
{
	char res[XLCFG_RESOURCE_MAX], label[HV_CTL_STR_MAX + 1];
	struct hvt_json j;
	int rc;

	rc = canon(in, res, sizeof(res), true);
	if (rc)
		return rc;
	rc = hvt_reslabel_get(t, res, label, sizeof(label));
	if (rc > 0)
		return rc;
	if (t->json) {
		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "resource", res);
		hvt_json_kstr(&j, "label", rc ? NULL : label);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
	} else if (rc == 0) {
		printf("%s\n", label);
	} else {
		printf("no label (%s applies)\n", ACM_UNLABELED);
	}
	return 0;
}

int hvt_cmd_label_get(struct hvt *t, const struct hvt_args *a)
{
	switch (target_of(a->pos[0])) {
	case T_DOM:
		return get_dom(t, a->pos[1]);
	case T_RES:
		return get_res(t, a->pos[1]);
	case T_BAD:
		break;
	}
	return hvt_usage(a->cmd, "'%s': say dom (a config) or res (a resource)",
			 a->pos[0]);
}

/* ------------------------------------------------------------ resources */

struct res_row {
	char *res, *label;
};

static void rows_free(struct res_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].res);
		free(v[i].label);
	}
	free(v);
}

int hvt_cmd_resources(struct hvt *t, const struct hvt_args *a)
{
	static char res[HV_CTL_STR_MAX + 1], label[HV_CTL_STR_MAX + 1];
	struct hv_ctl_list req = {0, 0};
	struct res_row *v = NULL;
	size_t n = 0;
	int width = 8, rc = 0;

	(void)a;
	for (unsigned round = 0; round < 100000; round++) {
		struct hv_ctl_list_rep rep;
		struct hv_cur c;

		rc = hvt_call(t, HV_CTL_RES_LABEL_LIST, &req, sizeof(req), NULL,
			      0);
		if (rc) {
			rc = hvt_fail(t, "resources", rc);
			goto out;
		}
		hv_cur_init(&c, t->resp->body, t->resp->body_len);
		if (hv_cur_get(&c, &rep, sizeof(rep)))
			goto bad;
		for (uint32_t i = 0; i < rep.count; i++) {
			struct res_row *nv;

			if (hv_cur_get_str(&c, res, sizeof(res),
					   HV_CTL_STR_MAX) ||
			    hv_cur_get_str(&c, label, sizeof(label),
					   HV_CTL_STR_MAX))
				goto bad;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
			v[n].res = strdup(res);
			v[n].label = strdup(label);
			n++;
			if (!v[n - 1].res || !v[n - 1].label)
				goto oom;
			if ((int)strlen(res) > width)
				width = (int)strlen(res);
		}
		if (hv_cur_left(&c))
			goto bad;
		if (rep.next == HV_DOMID_INVALID)
			break;
		if (rep.next <= req.start || rep.count == 0)
			goto bad;
		req.start = rep.next;
	}
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			hvt_json_obj(&j);
			hvt_json_kstr(&j, "resource", v[i].res);
			hvt_json_kstr(&j, "label", v[i].label);
			hvt_json_obj_end(&j);
		}
		hvt_json_arr_end(&j);
		hvt_json_end(&j);
	} else if (n == 0) {
		printf("No labelled resources (hvsec label add LABEL res "
		       "RESOURCE).\n");
	} else {
		printf("%-*s  Label\n", width, "Resource");
		for (size_t i = 0; i < n; i++)
			printf("%-*s  %s\n", width, v[i].res, v[i].label);
	}
	goto out;
oom:
	hvt_err("out of memory");
	rc = HVT_DAEMON;
	goto out;
bad:
	hvt_err("hvsecd sent a malformed resource list");
	rc = HVT_DAEMON;
out:
	rows_free(v, n);
	return rc;
}
