/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_policy.c - policy load | update [--dry-run] | show | compile | graph.
 *
 * load and update are one operation on the daemon's side (a first load,
 * or a live update validated against the running system); the tool
 * checks the file with the engine's loader first so a broken blob is
 * reported with its file name and byte offset, before hvsecd sees it.
 * compile and graph are the compiler's job: we run hvsec-polc (next to
 * this binary, else on PATH) rather than link libxml2 into the toolstack.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/hvsec.h"

static int cmd_policy_load(struct hvt *t, const struct hvt_args *a, bool update)
{
	const char *path = a->pos[0];
	bool dry = hvt_opt(a, "dry-run") != NULL;
	struct hv_ctl_policy_load req = {0, 0};
	struct hvt_policy file = {0};
	struct hvt_update *u = NULL;
	char what[HV_NAME_LEN + 64];
	int fd = -1, rc;

	rc = hvt_policy_file(path, &file);
	if (rc)
		goto out;
	snprintf(what, sizeof(what), "Policy %s %u.%u", file.info.name,
		 file.info.version_major, file.info.version_minor);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hvt_err("%s: %s", path, strerror(errno));
		rc = HVT_USAGE;
		goto out;
	}
	req.flags = (dry ? HV_CTL_POLICY_F_DRY_RUN : 0) |
		    (hvt_opt(a, "revoke") ? HV_CTL_POLICY_F_REVOKE : 0);
	rc = hvt_call(t, HV_CTL_POLICY_LOAD, &req, sizeof(req), &fd, 1);
	u = calloc(1, sizeof(*u));
	if (!u) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	if (rc && rc != -HV_EBUSY) {
		rc = hvt_fail(t, update ? "policy update" : "policy load", rc);
		goto out;
	}
	rc = hvt_update_take(t, rc, u);
	if (rc)
		goto out;
	rc = hvt_update_print(t, u, dry, update ? "updated" : "loaded", what);
out:
	if (fd >= 0)
		close(fd);
	free(u);
	hvt_policy_free(&file);
	return rc;
}

int hvt_cmd_policy_load(struct hvt *t, const struct hvt_args *a)
{
	return cmd_policy_load(t, a, !strcmp(a->cmd->name, "policy update"));
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The mode bits, asked without changing anything. */
static int get_mode(struct hvt *t, uint32_t *mode)
{
	struct hv_ctl_mode m;
	int rc = hvt_call(t, HV_CTL_GET_MODE, NULL, 0, NULL, 0);

	if (rc)
		return rc;
	if (t->resp->body_len != sizeof(m))
		return -HV_EINVAL;
	memcpy(&m, t->resp->body, sizeof(m));
	*mode = m.set;
	return 0;
}

static int save_blob(const struct hvt_policy *pol, const char *path)
{
	FILE *f;

	if (!pol->p) {
		hvt_err("--save: hvsecd has no policy loaded");
		return HVT_USAGE;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(pol->blob, 1, pol->len, f) != pol->len) {
		hvt_err("%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return HVT_USAGE;
	}
	if (fclose(f)) {
		hvt_err("%s: %s", path, strerror(errno));
		return HVT_USAGE;
	}
	return 0;
}

static void show_json(struct hvt *t, const struct hvt_policy *pol,
		      uint32_t mode, const char *sha)
{
	const struct acm_policy_info *i = &pol->info;
	const struct hv_ctl_policy_info *d = &pol->dinfo;
	struct hvt_json j;
	char src[65];

	(void)t;
	hvt_json_init(&j, stdout);
	hvt_json_obj(&j);
	hvt_json_key(&j, "name");
	if (pol->p)
		hvt_json_str(&j, i->name);
	else
		hvt_json_null(&j);
	hvt_json_key(&j, "version");
	if (pol->p && i->has_version) {
		char v[32];

		snprintf(v, sizeof(v), "%u.%u", i->version_major,
			 i->version_minor);
		hvt_json_str(&j, v);
	} else {
		hvt_json_null(&j);
	}
	hvt_json_ku64(&j, "generation", d->generation);
	hvt_json_kbool(&j, "builtin", d->flags & HV_CTL_PINFO_F_BUILTIN);
	hvt_json_kbool(&j, "fail_closed",
		       d->flags & HV_CTL_PINFO_F_FAIL_CLOSED);
	hvt_json_kstr(&j, "failure", d->failure[0] ? d->failure : NULL);
	hvt_json_kstr(&j, "mode",
		      mode & HV_CTL_MODE_PERMISSIVE ? "permissive"
						    : "enforcing");
	hvt_json_kbool(&j, "mediate_send", mode & HV_CTL_MODE_MEDIATE_SEND);
	hvt_json_kstr(&j, "sha256", pol->p ? sha : NULL);
	if (pol->p) {
		hex(src, i->source_sha256, ACM_SHA256_LEN);
		hvt_json_kstr(&j, "source_sha256", src);
		hvt_json_kbool(&j, "ste", i->flags & ACM_BIN_F_STE);
		hvt_json_kbool(&j, "chwall", i->flags & ACM_BIN_F_CHWALL);
		hvt_json_ku64(&j, "ste_types", i->n_ste_types);
		hvt_json_ku64(&j, "chwall_types", i->n_cw_types);
		hvt_json_ku64(&j, "conflict_sets", i->n_conflict_sets);
		hvt_json_ku64(&j, "vm_labels", i->n_vm_labels);
		hvt_json_ku64(&j, "resource_labels",
			      i->n_labels - i->n_vm_labels);
		hvt_json_kstr(&j, "bootstrap",
			      acm_label_name(pol->p, i->bootstrap));
		if (i->has_from) {
			char v[300];

			snprintf(v, sizeof(v), "%s %u.%u", i->from_name,
				 i->from_major, i->from_minor);
			hvt_json_kstr(&j, "from", v);
		}
		hvt_json_kstr(&j, "url", i->url[0] ? i->url : NULL);
		hvt_json_kstr(&j, "date", i->date[0] ? i->date : NULL);
	}
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
}

int hvt_cmd_policy_show(struct hvt *t, const struct hvt_args *a)
{
	struct hvt_policy pol;
	const struct acm_policy_info *i = &pol.info;
	uint32_t mode = 0;
	char sha[65] = "";
	int rc;

	rc = hvt_policy_fetch(t, &pol);
	if (rc)
		return rc;
	if (get_mode(t, &mode) == -HVT_E_TRANSPORT) {
		rc = HVT_DAEMON;
		goto out;
	}
	if (pol.dinfo.flags & HV_CTL_PINFO_F_PERMISSIVE)
		mode |= HV_CTL_MODE_PERMISSIVE;
	if (pol.p)
		hex(sha, pol.dinfo.sha256, sizeof(pol.dinfo.sha256));
	if (hvt_opt(a, "save")) {
		rc = save_blob(&pol, hvt_opt(a, "save"));
		if (rc)
			goto out;
	}
	if (t->json) {
		show_json(t, &pol, mode, sha);
		goto out;
	}
	if (!pol.p) {
		printf("Policy      none: hvsecd is fail-closed, no domain "
		       "may start\n");
		if (pol.dinfo.failure[0])
			printf("Reason      %s\n", pol.dinfo.failure);
		printf("Generation  %llu\n",
		       (unsigned long long)pol.dinfo.generation);
		goto out;
	}
	printf("Policy      %s", i->name);
	if (i->has_version)
		printf(" %u.%u", i->version_major, i->version_minor);
	printf("%s\n", pol.dinfo.flags & HV_CTL_PINFO_F_BUILTIN
			       ? " (built in: no policy was loaded)"
			       : "");
	printf("Generation  %llu\n", (unsigned long long)pol.dinfo.generation);
	printf("Mode        %s, event-channel sends %s\n",
	       mode & HV_CTL_MODE_PERMISSIVE
		       ? "PERMISSIVE (denials logged, not enforced)"
		       : "enforcing",
	       mode & HV_CTL_MODE_MEDIATE_SEND ? "mediated" : "direct");
	printf("Components  ");
	if (i->flags & ACM_BIN_F_STE)
		printf("STE (%u types)", i->n_ste_types);
	if (i->flags & ACM_BIN_F_CHWALL)
		printf("%sChinese Wall (%u types, %u conflict set%s)",
		       i->flags & ACM_BIN_F_STE ? ", " : "", i->n_cw_types,
		       i->n_conflict_sets, i->n_conflict_sets == 1 ? "" : "s");
	if (!(i->flags & ACM_BIN_F_ALL))
		printf("none");
	printf("\n");
	printf("Labels      %u VM, %u resource; dom0 boots as %s\n",
	       i->n_vm_labels, i->n_labels - i->n_vm_labels,
	       acm_label_name(pol.p, i->bootstrap));
	if (i->has_from)
		printf("Replaces    %s %u.%u\n", i->from_name, i->from_major,
		       i->from_minor);
	if (i->date[0])
		printf("Date        %s\n", i->date);
	if (i->url[0])
		printf("URL         %s\n", i->url);
	printf("SHA-256     %s\n", sha);
	if (hvt_opt(a, "save"))
		printf("Saved to    %s\n", hvt_opt(a, "save"));
out:
	hvt_policy_free(&pol);
	return rc;
}

/* hvsec-polc beside this binary (a build tree, an install), else PATH. */
static int run_polc(const char *sub, const struct hvt_args *a)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	char **argv;
	ssize_t n;

	argv = calloc((size_t)a->n_raw + 3, sizeof(*argv));
	if (!argv) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	argv[0] = "hvsec-polc";
	argv[1] = (char *)sub;
	for (int i = 0; i < a->n_raw; i++)
		argv[i + 2] = a->raw[i];
	fflush(stdout);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/hvsec-polc", self);
			if (access(path, X_OK) == 0)
				execv(path, argv);
		}
	}
	execvp("hvsec-polc", argv);
	hvt_err("cannot run hvsec-polc: %s (install it next to hvsec or on "
		"PATH)",
		strerror(errno));
	free(argv);
	return HVT_USAGE;
}

int hvt_cmd_policy_compile(struct hvt *t, const struct hvt_args *a)
{
	(void)t;
	return run_polc("compile", a);
}

int hvt_cmd_policy_graph(struct hvt *t, const struct hvt_args *a)
{
	(void)t;
	return run_polc("graph", a);
}
