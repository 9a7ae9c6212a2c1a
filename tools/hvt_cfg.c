/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_cfg.c - domain configs: parsing (the xl-style parser, tools/xlcfg.h,
 * reports FILE:LINE: messages), resource names, and the create/dry-run
 * request built from a config.
 *
 * Resource names: the label store is keyed by the canonical name.  A
 * resource that exists is named by its real path, so that a symlink
 * cannot give a labelled disk a second, unlabelled name; one that does
 * not exist (in the model, disks are often just names) keeps its lexical
 * canonical form.  `label add ... res` and `create` use the same rule, so
 * what was labelled is what is checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

int hvt_cfg_load(const char *path, struct xlcfg *c)
{
	struct xlcfg_diags d = {0};
	int rc;

	rc = xlcfg_parse_file(path, c, &d);
	fflush(stdout);
	xlcfg_diags_print(&d, stderr);
	if (d.oom)
		hvt_err("%s: out of memory while parsing", path);
	xlcfg_diags_free(&d);
	return rc ? HVT_USAGE : 0;
}

int hvt_resource_name(const char *in, char *out, size_t len, bool *resolved,
		      char *why, size_t why_len)
{
	if (!xlcfg_canonical_resource(in, XLCFG_CANON_RESOLVE, out, len, why,
				      why_len)) {
		*resolved = true;
		return 0;
	}
	*resolved = false;
	return xlcfg_canonical_resource(in, 0, out, len, why, why_len);
}

static bool uuid_parse(const char *s, uint8_t out[HV_UUID_LEN])
{
	size_t o = 0;

	for (size_t i = 0; s[i] && o < 2 * HV_UUID_LEN; i++) {
		char c = s[i];
		int v;

		if (c == '-')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (o % 2 == 0)
			out[o / 2] = (uint8_t)(v << 4);
		else
			out[o / 2] |= (uint8_t)v;
		o++;
	}
	return o == 2 * HV_UUID_LEN;
}

/* The guest's arguments: `extra`, split at blanks (a guest program's
 * argv, not a kernel command line, so there is no quoting). */
static int split_extra(const struct xlcfg *c, struct hvt_create *cr)
{
	char *p, *save = NULL;

	if (!c->extra)
		return 0;
	cr->extra = strdup(c->extra);
	if (!cr->extra) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	for (p = strtok_r(cr->extra, " \t\n", &save); p;
	     p = strtok_r(NULL, " \t\n", &save)) {
		if (cr->a.n_args >= HV_CTL_ARGS_MAX) {
			hvt_err("%s: extra: more than %u arguments", c->path,
				HV_CTL_ARGS_MAX);
			return HVT_USAGE;
		}
		cr->args[cr->a.n_args++] = p;
	}
	return 0;
}

static int disks(const struct xlcfg *c, struct hvt_create *cr)
{
	char name[XLCFG_RESOURCE_MAX], why[256];
	bool resolved;

	for (size_t i = 0; i < c->n_disks; i++) {
		const struct xlcfg_disk *d = &c->disks[i];

		if (!d->resource)
			continue; /* an empty cdrom drive: nothing to check */
		if (cr->a.n_disks >= HV_CTL_DISKS_MAX) {
			hvt_err("%s:%u: disk: more than %u disks", c->path,
				d->line, HV_CTL_DISKS_MAX);
			return HVT_USAGE;
		}
		if (hvt_resource_name(d->resource, name, sizeof(name),
				      &resolved, why, sizeof(why))) {
			hvt_err("%s:%u: disk: %s", c->path, d->line, why);
			return HVT_USAGE;
		}
		cr->disk_res[cr->a.n_disks] = strdup(name);
		if (!cr->disk_res[cr->a.n_disks]) {
			hvt_err("out of memory");
			return HVT_DAEMON;
		}
		cr->disks[cr->a.n_disks] = (struct hv_ctl_disk_arg){
			.resource = cr->disk_res[cr->a.n_disks],
			.vdev = d->vdev,
			.mode = d->readonly ? HV_CTL_DISK_R : HV_CTL_DISK_W,
		};
		cr->a.n_disks++;
	}
	return 0;
}

/* Each vif by its canonical network resource: hvsecd checks the labelled
 * ones at create (the tool no longer does it for it). */
static int vifs(const struct xlcfg *c, struct hvt_create *cr)
{
	if (c->n_vifs > HV_CTL_VIFS_MAX) {
		hvt_err("%s:%u: vif: more than %u vifs", c->path,
			c->vifs[HV_CTL_VIFS_MAX].line, HV_CTL_VIFS_MAX);
		return HVT_USAGE;
	}
	for (size_t i = 0; i < c->n_vifs; i++) {
		if (!c->vifs[i].resource || !c->vifs[i].resource[0] ||
		    strlen(c->vifs[i].resource) > HV_CTL_STR_MAX) {
			hvt_err("%s:%u: vif: no usable network name", c->path,
				c->vifs[i].line);
			return HVT_USAGE;
		}
		cr->vifs[i] = c->vifs[i].resource;
	}
	cr->a.vifs = cr->vifs;
	cr->a.n_vifs = (uint32_t)c->n_vifs;
	return 0;
}

static int vtpms(const struct xlcfg *c, struct hvt_create *cr)
{
	if (c->n_vtpms > HV_CTL_VTPMS_MAX) {
		hvt_err("%s:%u: vtpm: more than %u vTPMs", c->path,
			c->vtpms[HV_CTL_VTPMS_MAX].line, HV_CTL_VTPMS_MAX);
		return HVT_USAGE;
	}
	for (size_t i = 0; i < c->n_vtpms; i++) {
		const struct xlcfg_vtpm *v = &c->vtpms[i];
		struct hv_ctl_vtpm_arg *a = &cr->vtpms[i];

		memset(a, 0, sizeof(*a));
		a->backend = v->backend ? v->backend : HVT_VTPM_BACKEND_DEFAULT;
		if (strlen(a->backend) >= HV_NAME_LEN) {
			hvt_err("%s:%u: vtpm: backend name longer than %u",
				c->path, v->line, HV_NAME_LEN - 1);
			return HVT_USAGE;
		}
		if (v->uuid && !uuid_parse(v->uuid, a->uuid)) {
			hvt_err("%s:%u: vtpm: bad uuid '%s'", c->path, v->line,
				v->uuid);
			return HVT_USAGE;
		}
	}
	cr->a.n_vtpms = (uint32_t)c->n_vtpms;
	return 0;
}

static bool ident_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= HV_NAME_LEN)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") == n;
}

int hvt_create_build(const struct xlcfg *c, const char *policy, bool paused,
		     struct hvt_create *cr)
{
	int rc;

	memset(cr, 0, sizeof(*cr));
	if (!c->name || !ident_ok(c->name)) {
		hvt_err("%s:%u: name: %s", c->path, c->name_line,
			c->name ? "a domain name is 1-63 of [A-Za-z0-9_.-]"
				: "no name given");
		return HVT_USAGE;
	}
	if (!c->kernel || c->kernel[0] != '/') {
		hvt_err("%s: kernel: %s", c->path,
			c->kernel ? "must be an absolute path"
				  : "no kernel (the guest program) given");
		return HVT_USAGE;
	}
	if (c->has_label) {
		if (strlen(c->label) >= HV_NAME_LEN) {
			hvt_err("%s:%u: access_control: label longer than %u",
				c->path, c->label_line, HV_NAME_LEN - 1);
			return HVT_USAGE;
		}
		/* A label names a label of one policy; under another policy
		 * the same name may mean something else entirely. */
		if (policy && strcmp(policy, c->policy)) {
			hvt_err("%s:%u: access_control: the label is for "
				"policy %s, but hvsecd enforces %s (relabel: "
				"hvsec label add LABEL dom %s)",
				c->path, c->label_line, c->policy, policy,
				c->path);
			return HVT_USAGE;
		}
	}
	if (c->memory > HV_CTL_MEMORY_MB_MAX) {
		hvt_err("%s: memory: at most %u MiB", c->path,
			HV_CTL_MEMORY_MB_MAX);
		return HVT_USAGE;
	}
	cr->a.name = c->name;
	cr->a.label = c->has_label ? c->label : "";
	cr->a.kernel = c->kernel;
	cr->a.args = cr->args;
	cr->a.memory_mb = (uint32_t)c->memory;
	cr->a.flags = paused ? HV_CTL_CREATE_F_PAUSED : 0;
	cr->a.disks = cr->disks;
	cr->a.vtpms = cr->vtpms;
	if (c->has_uuid) {
		memcpy(cr->uuid, c->uuid, HV_UUID_LEN);
		cr->a.uuid = cr->uuid;
	}
	rc = split_extra(c, cr);
	if (!rc)
		rc = disks(c, cr);
	if (!rc)
		rc = vtpms(c, cr);
	if (!rc)
		rc = vifs(c, cr);
	if (rc)
		hvt_create_free(cr);
	return rc;
}

void hvt_create_free(struct hvt_create *cr)
{
	for (size_t i = 0; i < HV_CTL_DISKS_MAX; i++)
		free(cr->disk_res[i]);
	free(cr->extra);
	memset(cr, 0, sizeof(*cr));
}
