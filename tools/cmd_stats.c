/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_stats.c - stats (hvsecd's counters and each hook's decisions) and
 * mode (enforcing/permissive, mediated event-channel sends).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

static void stats_json(const struct hv_ctl_stats_rep *s,
		       const struct hv_ctl_hook_stats *h)
{
	struct hvt_json j;

	hvt_json_init(&j, stdout);
	hvt_json_obj(&j);
	hvt_json_ku64(&j, "domains", s->n_domains);
	hvt_json_ku64(&j, "hypercalls", s->hypercalls);
	hvt_json_ku64(&j, "hypercall_errors", s->hypercall_errors);
	hvt_json_ku64(&j, "denials", s->denials);
	hvt_json_ku64(&j, "domains_created", s->domains_created);
	hvt_json_ku64(&j, "domains_destroyed", s->domains_destroyed);
	hvt_json_ku64(&j, "domains_crashed", s->domains_crashed);
	hvt_json_ku64(&j, "evtchn_mediated_sends", s->evtchn_mediated_sends);
	hvt_json_ku64(&j, "policy_generation", s->policy_generation);
	hvt_json_ku64(&j, "grant_pages_live", s->pages_live);
	hvt_json_ku64(&j, "channels_live", s->channels_live);
	hvt_json_key(&j, "hooks");
	hvt_json_arr(&j);
	for (uint32_t i = 0; i < s->n_hooks; i++) {
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "name", h[i].name);
		hvt_json_ku64(&j, "calls", h[i].calls);
		hvt_json_ku64(&j, "evaluated", h[i].evaluated);
		hvt_json_ku64(&j, "cache_hits", h[i].cache_hits);
		hvt_json_ku64(&j, "denied", h[i].denied);
		hvt_json_obj_end(&j);
	}
	hvt_json_arr_end(&j);
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
}

int hvt_cmd_stats(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_stats_rep s;
	struct hv_ctl_hook_stats *h = NULL;
	bool all = hvt_opt(a, "all") != NULL;
	unsigned hidden = 0;
	int rc;

	rc = hvt_call(t, HV_CTL_STATS, NULL, 0, NULL, 0);
	if (rc)
		return hvt_fail(t, "stats", rc);
	if (t->resp->body_len < sizeof(s))
		goto bad;
	memcpy(&s, t->resp->body, sizeof(s));
	if (s.n_hooks > 1024 ||
	    t->resp->body_len != sizeof(s) + s.n_hooks * sizeof(*h))
		goto bad;
	h = calloc(s.n_hooks + 1, sizeof(*h));
	if (!h) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	memcpy(h, t->resp->body + sizeof(s), s.n_hooks * sizeof(*h));
	for (uint32_t i = 0; i < s.n_hooks; i++)
		h[i].name[sizeof(h[i].name) - 1] = '\0';
	if (t->json) {
		stats_json(&s, h);
		goto out;
	}
	printf("Domains     %u live (dom0 included); %" PRIu64 " created, "
	       "%" PRIu64 " destroyed, %" PRIu64 " crashed\n",
	       s.n_domains, s.domains_created, s.domains_destroyed,
	       s.domains_crashed);
	printf("Hypercalls  %" PRIu64 " served, %" PRIu64 " errors, %" PRIu64
	       " denied by the policy\n",
	       s.hypercalls, s.hypercall_errors, s.denials);
	printf("Sharing     %u grant pages, %u bound channels, %" PRIu64
	       " mediated sends\n",
	       s.pages_live, s.channels_live, s.evtchn_mediated_sends);
	printf("Policy      generation %" PRIu64 "\n", s.policy_generation);
	printf("\n%-26s %10s %10s %10s %8s\n", "Hook", "Calls", "Evaluated",
	       "Cache hits", "Denied");
	for (uint32_t i = 0; i < s.n_hooks; i++) {
		/* By calls, not evaluations: hooks that map onto one engine
		 * hook (domain_create, domain_restore) share its counters. */
		if (!all && !h[i].calls && !h[i].denied) {
			hidden++;
			continue;
		}
		printf("%-26s %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		       " %8" PRIu64 "\n",
		       h[i].name, h[i].calls, h[i].evaluated, h[i].cache_hits,
		       h[i].denied);
	}
	if (hidden)
		printf("(%u hook%s never called; --all lists them)\n", hidden,
		       hidden == 1 ? "" : "s");
out:
	free(h);
	return 0;
bad:
	hvt_err("hvsecd sent malformed statistics (%zu bytes)",
		t->resp->body_len);
	return HVT_DAEMON;
}

int hvt_cmd_mode(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_mode m = {0, 0};
	int rc;

	for (int i = 0; i < a->n_pos; i++) {
		const char *w = a->pos[i];

		if (!strcmp(w, "enforcing"))
			m.clear |= HV_CTL_MODE_PERMISSIVE;
		else if (!strcmp(w, "permissive"))
			m.set |= HV_CTL_MODE_PERMISSIVE;
		else if (!strcmp(w, "mediate-send"))
			m.set |= HV_CTL_MODE_MEDIATE_SEND;
		else if (!strcmp(w, "direct-send"))
			m.clear |= HV_CTL_MODE_MEDIATE_SEND;
		else
			return hvt_usage(a->cmd, "'%s' is not a mode", w);
	}
	if (m.set & m.clear)
		return hvt_usage(a->cmd, "contradictory modes");
	/* No words: a question, asked as one (GET_MODE changes nothing). */
	if (a->n_pos)
		rc = hvt_call(t, HV_CTL_SET_MODE, &m, sizeof(m), NULL, 0);
	else
		rc = hvt_call(t, HV_CTL_GET_MODE, NULL, 0, NULL, 0);
	if (rc)
		return hvt_fail(t, "mode", rc);
	if (t->resp->body_len != sizeof(m)) {
		hvt_err("hvsecd sent a malformed mode reply");
		return HVT_DAEMON;
	}
	memcpy(&m, t->resp->body, sizeof(m));
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "mode",
			      m.set & HV_CTL_MODE_PERMISSIVE ? "permissive"
							     : "enforcing");
		hvt_json_kbool(&j, "mediate_send",
			       m.set & HV_CTL_MODE_MEDIATE_SEND);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
		return 0;
	}
	printf("Mode: %s, event-channel sends %s\n",
	       m.set & HV_CTL_MODE_PERMISSIVE
		       ? "PERMISSIVE (denials logged, not enforced)"
		       : "enforcing",
	       m.set & HV_CTL_MODE_MEDIATE_SEND ? "mediated" : "direct");
	return 0;
}
