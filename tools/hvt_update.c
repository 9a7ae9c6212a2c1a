/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_update.c - what a policy load/update or a relabel did, or why it
 * could not: every blocker the daemon listed, with the domains named
 * (the daemon's text has their ids; an operator thinks in names).
 */
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

int hvt_update_take(struct hvt *t, int rc, struct hvt_update *u)
{
	const struct hv_ctl_resp *r = t->resp;
	size_t want;

	memset(u, 0, sizeof(*u));
	u->rc = rc;
	snprintf(u->text, sizeof(u->text), "%s", r->text ? r->text : "");
	if (r->body_len < sizeof(u->rep))
		goto bad;
	memcpy(&u->rep, r->body, sizeof(u->rep));
	if (u->rep.n_listed > HV_CTL_BLOCKERS_MAX ||
	    u->rep.n_listed > u->rep.n_blockers)
		goto bad;
	want = sizeof(u->rep) + u->rep.n_listed * sizeof(u->blk[0]);
	if (r->body_len != want)
		goto bad;
	memcpy(u->blk, r->body + sizeof(u->rep),
	       u->rep.n_listed * sizeof(u->blk[0]));
	for (uint32_t i = 0; i < u->rep.n_listed; i++)
		u->blk[i].text[sizeof(u->blk[i].text) - 1] = '\0';
	return 0;
bad:
	hvt_err("hvsecd sent a malformed update reply (%zu bytes)",
		r->body_len);
	return HVT_DAEMON;
}

static bool has_dom(uint32_t d)
{
	return d != HV_DOMID_INVALID && d != UINT32_MAX;
}

static const char *kind_name(uint32_t k)
{
	const char *n = acm_blocker_name((enum acm_blocker_kind)k);

	return n ? n : "blocker";
}

/* A stable token for scripts (acm_blocker_name is words for people). */
static const char *kind_token(uint32_t k)
{
	switch (k) {
	case ACM_B_VERSION:
		return "version";
	case ACM_B_BAD_RENAME:
		return "bad_rename";
	case ACM_B_LABEL_IN_USE:
		return "label_in_use";
	case ACM_B_RESOURCE_IN_USE:
		return "resource_in_use";
	case ACM_B_CHWALL_CONFLICT:
		return "chwall_conflict";
	case ACM_B_SHARING:
		return "sharing";
	case ACM_B_RESOURCE:
		return "resource";
	case ACM_B_BOOTSTRAP:
		return "bootstrap";
	case ACM_B_DOMAIN_UNKNOWN:
		return "domain_unknown";
	}
	return "unknown";
}

static void print_json(const struct hvt_update *u, bool dry_run,
		       const struct hv_ctl_domain_info *doms, size_t n)
{
	struct hvt_json j;

	hvt_json_init(&j, stdout);
	hvt_json_obj(&j);
	hvt_json_kbool(&j, "applied", u->rep.applied);
	hvt_json_kbool(&j, "dry_run", dry_run);
	hvt_json_kbool(&j, "blocked", u->rc != 0);
	hvt_json_ku64(&j, "generation", u->rep.generation);
	hvt_json_ku64(&j, "revoked", u->rep.n_revoked);
	hvt_json_ku64(&j, "blockers_total", u->rep.n_blockers);
	hvt_json_kstr(&j, "message", u->text);
	hvt_json_key(&j, "blockers");
	hvt_json_arr(&j);
	for (uint32_t i = 0; i < u->rep.n_listed; i++) {
		const struct hv_ctl_blocker *b = &u->blk[i];

		hvt_json_obj(&j);
		hvt_json_kstr(&j, "kind", kind_token(b->kind));
		hvt_json_key(&j, "domid");
		if (has_dom(b->domid))
			hvt_json_u64(&j, b->domid);
		else
			hvt_json_null(&j);
		hvt_json_kstr(&j, "domain",
			      has_dom(b->domid)
				      ? hvt_domain_name(doms, n, b->domid)
				      : NULL);
		hvt_json_key(&j, "peer_domid");
		if (has_dom(b->peer_domid))
			hvt_json_u64(&j, b->peer_domid);
		else
			hvt_json_null(&j);
		hvt_json_kstr(&j, "peer",
			      has_dom(b->peer_domid)
				      ? hvt_domain_name(doms, n, b->peer_domid)
				      : NULL);
		hvt_json_kstr(&j, "hook",
			      b->hook < ACM_HOOK__COUNT
				      ? acm_hook_name((enum acm_hook)b->hook)
				      : NULL);
		hvt_json_kstr(&j, "text", b->text);
		hvt_json_obj_end(&j);
	}
	hvt_json_arr_end(&j);
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
}

int hvt_update_print(struct hvt *t, const struct hvt_update *u, bool dry_run,
		     const char *what, const char *subject)
{
	struct hv_ctl_domain_info *doms = NULL;
	size_t n = 0;

	/* Names for the blockers' domids; without them ids still print. */
	if (u->rep.n_listed && hvt_domain_list(t, &doms, &n))
		doms = NULL, n = 0;
	if (t->json) {
		print_json(u, dry_run, doms, n);
		goto out;
	}
	if (!u->rc && dry_run) {
		printf("Dry run: %s would be %s: nothing blocks it.\n", subject,
		       what);
		goto out;
	}
	if (!u->rc) {
		printf("%s %s (policy generation %llu)", subject, what,
		       (unsigned long long)u->rep.generation);
		if (u->rep.n_revoked)
			printf("; %u event channel%s or grant%s revoked",
			       u->rep.n_revoked,
			       u->rep.n_revoked == 1 ? "" : "s",
			       u->rep.n_revoked == 1 ? "" : "s");
		printf(".\n");
		goto out;
	}
	if (dry_run)
		printf("Dry run: %s would not be %s: %u blocker%s:\n", subject,
		       what, u->rep.n_blockers,
		       u->rep.n_blockers == 1 ? "" : "s");
	else
		printf("%s NOT %s: %u blocker%s (nothing changed):\n", subject,
		       what, u->rep.n_blockers,
		       u->rep.n_blockers == 1 ? "" : "s");
	for (uint32_t i = 0; i < u->rep.n_listed; i++) {
		const struct hv_ctl_blocker *b = &u->blk[i];

		printf("  %s", kind_name(b->kind));
		if (b->kind == ACM_B_SHARING && b->hook < ACM_HOOK__COUNT)
			printf(" (%s)", acm_hook_name((enum acm_hook)b->hook));
		if (has_dom(b->domid))
			printf(": %s (%u)", hvt_domain_name(doms, n, b->domid),
			       b->domid);
		if (has_dom(b->peer_domid))
			printf(" and %s (%u)",
			       hvt_domain_name(doms, n, b->peer_domid),
			       b->peer_domid);
		printf(": %s\n", b->text);
	}
	if (u->rep.n_blockers > u->rep.n_listed)
		printf("  ... and %u more\n",
		       u->rep.n_blockers - u->rep.n_listed);
	if (u->rep.n_listed == 0 && u->text[0])
		printf("  %s\n", u->text);
out:
	free(doms);
	return u->rc ? HVT_NO : HVT_OK;
}
