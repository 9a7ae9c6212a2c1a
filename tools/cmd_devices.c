/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_devices.c - devices [NAME|ID] [--json]: the devices backends have
 * connected to frontends (HV_CTL_DEVICE_LIST), as hvsecd records them
 * when a backend announces a connect (resource_use checked then):
 *
 *   Backend         Frontend   Class  Resource                     Label
 *   web-vtpm0 (5)   web (4)    vtpm   vtpm:5f0c6a4e-...            -
 *
 * With a domain, only the connections it serves or uses.  A labelled one
 * is a policy object: it blocks updates and relabels that would forbid it.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

static const char *cls_name(uint32_t cls)
{
	switch (cls) {
	case HV_DEV_DISK:
		return "disk";
	case HV_DEV_VIF:
		return "vif";
	case HV_DEV_VTPM:
		return "vtpm";
	default:
		return "?";
	}
}

int hvt_cmd_devices(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_domid req = {.domid = HV_DOMID_INVALID};
	struct hv_ctl_domain_info info, *doms = NULL;
	struct hv_ctl_device_rep rep;
	struct hv_ctl_device_entry *v = NULL;
	size_t n_doms = 0;
	int rc;

	if (a->n_pos == 1) {
		rc = hvt_domain_lookup(t, a->pos[0], &info);
		if (rc)
			return rc;
		req.domid = info.domid;
	}
	rc = hvt_call(t, HV_CTL_DEVICE_LIST, &req, sizeof(req), NULL, 0);
	if (rc)
		return hvt_fail(t, "devices", rc);
	if (t->resp->body_len < sizeof(rep)) {
		hvt_err("hvsecd sent a malformed device list");
		return HVT_DAEMON;
	}
	memcpy(&rep, t->resp->body, sizeof(rep));
	if (t->resp->body_len != sizeof(rep) + (size_t)rep.count * sizeof(*v)) {
		hvt_err("hvsecd sent a device list of the wrong size");
		return HVT_DAEMON;
	}
	if (rep.count) {
		v = calloc(rep.count, sizeof(*v));
		if (!v) {
			hvt_err("out of memory");
			return HVT_DAEMON;
		}
		memcpy(v, t->resp->body + sizeof(rep), rep.count * sizeof(*v));
	}
	for (uint32_t i = 0; i < rep.count; i++) {
		v[i].label[sizeof(v[i].label) - 1] = '\0';
		v[i].resource[sizeof(v[i].resource) - 1] = '\0';
	}
	rc = hvt_domain_list(t, &doms, &n_doms);
	if (rc)
		goto out;
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_arr(&j);
		for (uint32_t i = 0; i < rep.count; i++) {
			hvt_json_obj(&j);
			hvt_json_ku64(&j, "backend", v[i].backend);
			hvt_json_kstr(&j, "backend_name",
				      hvt_domain_name(doms, n_doms, v[i].backend));
			hvt_json_ku64(&j, "frontend", v[i].frontend);
			hvt_json_kstr(&j, "frontend_name",
				      hvt_domain_name(doms, n_doms, v[i].frontend));
			hvt_json_kstr(&j, "class", cls_name(v[i].cls));
			hvt_json_kstr(&j, "resource", v[i].resource);
			hvt_json_key(&j, "label");
			if (v[i].flags & HV_CTL_DEV_F_LABELLED)
				hvt_json_str(&j, v[i].label);
			else
				hvt_json_null(&j);
			hvt_json_obj_end(&j);
		}
		hvt_json_arr_end(&j);
		hvt_json_end(&j);
		goto out;
	}
	printf("%-22s %-22s %-6s %-44s %s\n", "Backend", "Frontend", "Class",
	       "Resource", "Label");
	for (uint32_t i = 0; i < rep.count; i++) {
		char be[HV_NAME_LEN + 16], fe[HV_NAME_LEN + 16];

		snprintf(be, sizeof(be), "%s (%u)",
			 hvt_domain_name(doms, n_doms, v[i].backend),
			 v[i].backend);
		snprintf(fe, sizeof(fe), "%s (%u)",
			 hvt_domain_name(doms, n_doms, v[i].frontend),
			 v[i].frontend);
		printf("%-22s %-22s %-6s %-44s %s\n", be, fe, cls_name(v[i].cls),
		       v[i].resource,
		       (v[i].flags & HV_CTL_DEV_F_LABELLED) ? v[i].label : "-");
	}
	if (rep.total > rep.count)
		printf("(%u of %u shown)\n", rep.count, rep.total);
out:
	free(doms);
	free(v);
	return rc;
}
