/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_list.c - list [NAME|ID...] [--label] [--json], as xl/xm print it:
 *
 *   Name         ID   Mem VCPUs  State   Time(s)  Label
 *   Domain-0      0     0     1  r-----      0.4
 * ACM:multi-tenant:SystemManagement
 *
 * Mem is the domain's grant cap in MiB; Time is the CPU time of the
 * guest's process as hvsecd reads it for its own child (dom0: the
 * daemon's); --json adds the creation time.  Neither needs the tool to
 * see the guest's /proc.  Every domain is one vCPU in the
 * model.  Dead records (shutdown, crashed) stay listed until a domain of
 * the same name is created or they are destroyed, as in xl.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/hvsec.h"

/* CPU seconds as hvsecd measured them (from its own child's /proc
 * entry): the tool need not see the guest's /proc, nor may it. */
static double cpu_seconds(const struct hv_ctl_domain_info *d)
{
	return (double)d->cpu_ns / 1e9;
}

/* "2026-11-21T02:44:37Z"; NULL (JSON null) for an unknown time. */
static const char *iso_time(uint64_t unix_ns, char *buf, size_t len)
{
	time_t s = (time_t)(unix_ns / 1000000000u);
	struct tm tm;

	if (!unix_ns || !gmtime_r(&s, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return buf;
}

static uint64_t mem_mb(const struct hv_ctl_domain_info *d)
{
	return (uint64_t)d->max_pages * HV_PAGE_SIZE / (1024u * 1024u);
}

/* The policy's name for the Label column; "" when there is none. */
static int policy_name(struct hvt *t, char *out, size_t len)
{
	struct hv_ctl_policy_info pi;
	int rc = hvt_call(t, HV_CTL_POLICY_GET, NULL, 0, NULL, 0);

	out[0] = '\0';
	if (rc)
		return hvt_fail(t, "policy", rc);
	hv_ctl_resp_release(t->resp); /* the blob's fd: not needed */
	if (t->resp->body_len != sizeof(pi)) {
		hvt_err("hvsecd sent malformed policy information");
		return HVT_DAEMON;
	}
	memcpy(&pi, t->resp->body, sizeof(pi));
	pi.name[sizeof(pi.name) - 1] = '\0';
	if (!(pi.flags & HV_CTL_PINFO_F_FAIL_CLOSED))
		snprintf(out, len, "%s", pi.name);
	return 0;
}

static void label_str(const char *policy, const struct hv_ctl_domain_info *d,
		      char *out, size_t len)
{
	if (!policy[0])
		snprintf(out, len, "-");
	else
		snprintf(out, len, "ACM:%s:%s", policy,
			 d->label[0] ? d->label : ACM_UNLABELED);
}

static bool wanted(const struct hvt_args *a, const struct hv_ctl_domain_info *d,
		   bool *seen)
{
	uint32_t id;

	if (a->n_pos == 0)
		return true;
	for (int i = 0; i < a->n_pos; i++) {
		if (!strcmp(a->pos[i], d->name) ||
		    (hvt_parse_u32(a->pos[i], HV_DOMID_MAX, &id) &&
		     id == d->domid)) {
			seen[i] = true;
			return true;
		}
	}
	return false;
}

static void print_json(const struct hvt_args *a,
		       const struct hv_ctl_domain_info *v, size_t n,
		       const char *policy, bool *seen)
{
	struct hvt_json j;
	char uuid[37], ts[32];

	hvt_json_init(&j, stdout);
	hvt_json_arr(&j);
	for (size_t i = 0; i < n; i++) {
		const struct hv_ctl_domain_info *d = &v[i];

		if (!wanted(a, d, seen))
			continue;
		hvt_uuid_str(d->uuid, uuid);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "name", d->name);
		hvt_json_ku64(&j, "domid", d->domid);
		hvt_json_kstr(&j, "uuid", uuid);
		hvt_json_ku64(&j, "memory_mb", mem_mb(d));
		hvt_json_ku64(&j, "vcpus", 1);
		hvt_json_kstr(&j, "state", hv_domstate_name(d->state));
		hvt_json_key(&j, "cpu_time");
		hvt_json_fixed(&j, cpu_seconds(d), 3);
		hvt_json_kstr(&j, "created",
			      iso_time(d->created_unix_ns, ts, sizeof(ts)));
		hvt_json_kbool(&j, "dom0", d->flags & HV_CTL_DINFO_F_DOM0);
		hvt_json_kstr(&j, "policy", policy[0] ? policy : NULL);
		hvt_json_kstr(&j, "label",
			      d->label[0] ? d->label
			      : policy[0] ? ACM_UNLABELED
					  : NULL);
		hvt_json_ku64(&j, "ssidref", d->ssidref);
		hvt_json_ku64(&j, "pid", d->pid);
		hvt_json_ki64(&j, "exit_status", d->exit_status);
		hvt_json_ku64(&j, "grant_pages", d->granted_pages);
		hvt_json_ku64(&j, "evtchn_ports", d->n_evtchn);
		hvt_json_ku64(&j, "foreign_maps", d->n_maps);
		hvt_json_obj_end(&j);
	}
	hvt_json_arr_end(&j);
	hvt_json_end(&j);
}

int hvt_cmd_list(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_domain_info *v = NULL;
	bool with_label = hvt_opt(a, "label") != NULL;
	bool seen[HVT_POS_MAX] = {false};
	char policy[HV_NAME_LEN] = "", lab[2 * HV_NAME_LEN + 8];
	size_t n = 0;
	int width = 4, rc;

	rc = hvt_domain_list(t, &v, &n);
	if (rc)
		return rc;
	if (with_label || t->json) {
		rc = policy_name(t, policy, sizeof(policy));
		if (rc)
			goto out;
	}
	if (t->json) {
		print_json(a, v, n, policy, seen);
	} else {
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(v[i].name) > width)
				width = (int)strlen(v[i].name);
		printf("%-*s %5s %5s %5s  %-6s %8s%s\n", width, "Name", "ID",
		       "Mem", "VCPUs", "State", "Time(s)",
		       with_label ? "  Label" : "");
		for (size_t i = 0; i < n; i++) {
			const struct hv_ctl_domain_info *d = &v[i];

			if (!wanted(a, d, seen))
				continue;
			printf("%-*s %5u %5llu %5u  %-6s %8.1f", width, d->name,
			       d->domid, (unsigned long long)mem_mb(d), 1u,
			       hvt_state_flags(d->state), cpu_seconds(d));
			if (with_label) {
				label_str(policy, d, lab, sizeof(lab));
				printf("  %s", lab);
			}
			printf("\n");
		}
	}
	for (int i = 0; i < a->n_pos; i++) {
		if (!seen[i]) {
			hvt_err("no domain '%s'", a->pos[i]);
			rc = HVT_USAGE;
		}
	}
out:
	free(v);
	return rc;
}
