/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policy - the policy's life cycle through hooks/: fail-closed until a
 * valid policy loads (in every mode, with the reason in each denial); the
 * built-in DEFAULT policy is policies/default.xml as the compiler makes it;
 * live update (lab 4: v1 -> v2) refused while it would break something,
 * dry run, applied with rows remapped; relabel refused and applied; and in
 * both cases a decision cached as permit comes out deny afterwards.
 */
#include "tests/hooks/hooks_test.h"

static size_t count_kind(const struct hooks_report *rep,
			 enum acm_blocker_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < rep->n_blockers && i < HOOKS_MAX_BLOCKERS; i++)
		n += rep->blockers[i].b.kind == k;
	return n;
}

/* Is `text` the text of some blocker of kind k? */
static bool has_text(const struct hooks_report *rep, enum acm_blocker_kind k,
		     const char *text)
{
	size_t i;

	for (i = 0; i < rep->n_blockers && i < HOOKS_MAX_BLOCKERS; i++)
		if (rep->blockers[i].b.kind == k &&
		    strcmp(rep->blockers[i].text, text) == 0)
			return true;
	return false;
}

static const char *find_text(const struct hooks_report *rep,
			     enum acm_blocker_kind k)
{
	size_t i;

	for (i = 0; i < rep->n_blockers && i < HOOKS_MAX_BLOCKERS; i++)
		if (rep->blockers[i].b.kind == k)
			return rep->blockers[i].text;
	return "";
}

/* ------------------------------------------------------------ fail-closed */

static void test_fail_closed(void)
{
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_config cfg = {.mode = HOOKS_PERMISSIVE};
	struct hooks_state *hs = ht_state(&cfg);
	struct hooks_subject g = {1, 0}, d0 = {0, 0};
	struct hooks_resource res = {HOOKS_RES_DISK, "file:/x", 0};
	struct hooks_report rep = {0};
	struct hooks_audit_record r;
	char want[128];
	uint8_t *bad;
	int rc;

	/* No policy at all: every create denied, even in permissive mode;
	 * what releases is allowed. */
	TH_CHECK(hooks_domain_create(hs, &g) == -EACCES, "create, no policy");
	ht_last(hs, &r);
	TH_CHECK(r.reason == HOOKS_R_NO_POLICY && r.enforced &&
			 strcmp(r.detail, "no valid policy loaded "
					  "(fail-closed): no policy was "
					  "loaded") == 0 &&
			 r.policy[0] == '\0' && r.generation == 0,
		 "no-policy record: %s", r.detail);
	TH_CHECK(hooks_domain_restore(hs, &g) == -EACCES, "restore");
	TH_CHECK(hooks_evtchn_bind_interdomain(hs, &g, &d0) == -EACCES,
		 "evtchn");
	TH_CHECK(hooks_resource_use(hs, &g, &res) == -EACCES, "resource");
	TH_CHECK(hooks_host_authorize(hs, &d0, &g) == -EACCES, "authorize");
	TH_CHECK(hooks_xs_introduce(hs, &d0, &g) == -EACCES, "introduce");
	TH_CHECK(hooks_domain_destroy(hs, &g) == 0, "destroy allowed");
	TH_CHECK(hooks_grant_unmap(hs, &g, &d0) == 0, "unmap allowed");
	TH_CHECK(strcmp(hooks_no_policy_reason(hs), "no policy was loaded") ==
			 0,
		 "reason: %s", hooks_no_policy_reason(hs));

	/* The daemon could not read its policy file. */
	hooks_policy_refused(hs, "cannot read /etc/hvsec/policy.bin: No such "
				 "file or directory");
	hooks_domain_create(hs, &g);
	ht_last(hs, &r);
	TH_CHECK(strstr(r.detail, "cannot read /etc/hvsec/policy.bin") != NULL,
		 "refused reason in the record: %s", r.detail);

	/* A corrupted policy: refused with the loader's reason and offset,
	 * still fail-closed. */
	bad = malloc(mt.len);
	memcpy(bad, mt.data, mt.len);
	bad[mt.len / 2] ^= 0x40;
	rc = hooks_policy_load(hs, bad, mt.len, &rep);
	TH_CHECK(rc == -EINVAL && rep.load_err == ACM_E_HASH &&
			 !hooks_has_policy(hs),
		 "corrupted: %d %s", rc, rep.message);
	/* The offset of a hash mismatch is the trailer's. */
	snprintf(want, sizeof(want),
		 "policy refused: hash mismatch (corrupted) (at byte %zu)",
		 mt.len - 32);
	TH_CHECK(strcmp(rep.message, want) == 0, "message: %s", rep.message);
	hooks_domain_create(hs, &g);
	ht_last(hs, &r);
	TH_CHECK(strncmp(r.detail,
			 "no valid policy loaded (fail-closed): ", 38) == 0 &&
			 strcmp(r.detail + 38, want) == 0,
		 "record names the refusal: %s", r.detail);
	rc = hooks_policy_load(hs, "HVSP", 4, &rep);
	TH_CHECK(rc == -EINVAL && rep.load_err == ACM_E_TRUNCATED,
		 "4 bytes: %d %s", rc, rep.message);
	rc = hooks_policy_load(hs, NULL, 0, &rep);
	TH_CHECK(rc == -EINVAL, "NULL blob: %d", rc);
	/* A dry run of a broken first policy does not change the reason. */
	rc = hooks_policy_update(hs, bad, mt.len, NULL, HOOKS_DRY_RUN, &rep);
	TH_CHECK(rc == -EINVAL, "dry run of a bad blob: %d", rc);
	rc = hooks_policy_update(hs, mt.data, mt.len, NULL, HOOKS_DRY_RUN,
				 &rep);
	TH_CHECK(rc == 0 && !hooks_has_policy(hs) &&
			 strstr(rep.message, "dry run") != NULL,
		 "dry run of a good first policy loads nothing: %d %s", rc,
		 rep.message);
	free(bad);

	/* A valid policy ends fail-closed; the blob may go away at once
	 * (the state holds its own copy). */
	{
		uint8_t *copy = malloc(mt.len);

		memcpy(copy, mt.data, mt.len);
		rc = hooks_policy_load(hs, copy, mt.len, &rep);
		memset(copy, 0, mt.len);
		free(copy);
	}
	TH_CHECK(rc == 0 && hooks_has_policy(hs) && hooks_generation(hs) == 1 &&
			 rep.generation == 1 &&
			 hooks_no_policy_reason(hs)[0] == '\0',
		 "load: %d %s", rc, rep.message);
	TH_CHECK(strcmp(rep.message, "policy 'multi-tenant' 1.0 loaded, "
				     "generation 1") == 0,
		 "load message: %s", rep.message);
	hooks_set_mode(hs, HOOKS_ENFORCING);
	g = ht_dom(hs, 1, "Globex");
	TH_CHECK(hooks_domain_create(hs, &g) == 0, "create now allowed");
	TH_CHECK(strcmp(hooks_label_name(hs, g.label), "Globex") == 0,
		 "label name");
	TH_CHECK(strcmp(hooks_label_name(hs, hooks_bootstrap_label(hs)),
			"SystemManagement") == 0,
		 "bootstrap label");
	TH_CHECK(hooks_label_find(hs, ACM_LABEL_VM, NULL) ==
				 hooks_label_find(hs, ACM_LABEL_VM,
						  "__UNLABELED__") &&
			 hooks_label_find(hs, ACM_LABEL_RESOURCE, "") ==
				 ht_res(hs, "__UNLABELED__") &&
			 hooks_label_find(hs, ACM_LABEL_VM, "Nope") ==
				 ACM_ROW_NONE,
		 "label lookups");
	rc = hooks_policy_load(hs, mt.data, mt.len, &rep);
	TH_CHECK(rc == -EEXIST && hooks_generation(hs) == 1,
		 "second first-load: %d", rc);
	hooks_report_release(&rep);
	hooks_state_free(hs);
	ht_blob_free(&mt);
}

/* ------------------------------------------------------------ DEFAULT */

static void test_default(void)
{
	struct ht_blob def = ht_compile_file("policies/default.xml");
	struct hooks_state *hs = ht_state(NULL);
	struct hooks_report rep = {0};
	struct acm_policy_info info;
	struct hooks_subject d0, u1, u2;
	struct hooks_resource disk = {HOOKS_RES_DISK, "file:/img", 0};
	int rc;

	rc = hooks_policy_load_default(hs, &rep);
	TH_CHECK(rc == 0, "default loads: %d %s", rc, rep.message);
	if (rc)
		goto out;
	acm_policy_info(hooks_policy(hs), &info);
	TH_CHECK(strcmp(info.name, "DEFAULT") == 0, "name %s", info.name);
	/* Built from policies/default.xml by the same compiler: the very
	 * same bytes, so the same trailer hash. */
	TH_CHECK(memcmp(info.blob_sha256, def.data + def.len - 32, 32) == 0,
		 "embedded default is policies/default.xml compiled");
	d0 = ht_dom(hs, 0, "SystemManagement");
	u1 = ht_dom(hs, 1, NULL);
	u2 = ht_dom(hs, 2, "");
	disk.label = ht_res(hs, NULL);
	TH_CHECK(d0.label == hooks_bootstrap_label(hs) &&
			 u1.label != ACM_ROW_NONE,
		 "dom0 and unlabeled rows");
	TH_CHECK(hooks_domain_create(hs, &d0) == 0 &&
			 hooks_domain_create(hs, &u1) == 0 &&
			 hooks_domain_create(hs, &u2) == 0,
		 "dom0 and unlabeled guests start");
	TH_CHECK(hooks_evtchn_bind_interdomain(hs, &u1, &d0) == 0 &&
			 hooks_grant_map_write(hs, &u1, &u2) == 0 &&
			 hooks_resource_use(hs, &u1, &disk) == 0 &&
			 hooks_host_authorize(hs, &d0, &u1) == 0,
		 "unlabeled guests work as without access control");
	rc = hooks_policy_load_default(hs, &rep);
	TH_CHECK(rc == -EEXIST, "default twice: %d", rc);
out:
	hooks_report_release(&rep);
	hooks_state_free(hs);
	ht_blob_free(&def);
}

/* DEFAULT -> a real policy is an ordinary update (no version rules). */
static void test_default_to_real(void)
{
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_state *hs = ht_state(NULL);
	struct hooks_report rep = {0};
	struct acm_domain_ref doms[2];
	struct hooks_host host = {doms, 2, NULL, 0, NULL, 0};
	struct hooks_subject d0, u1;
	int rc;

	hooks_policy_load_default(hs, &rep);
	d0 = ht_dom(hs, 0, "SystemManagement");
	u1 = ht_dom(hs, 1, NULL);
	hooks_domain_create(hs, &d0);
	hooks_domain_create(hs, &u1);
	doms[0] = (struct acm_domain_ref){0, d0.label};
	doms[1] = (struct acm_domain_ref){1, u1.label};
	rc = hooks_policy_update(hs, mt.data, mt.len, &host, 0, &rep);
	TH_CHECK(rc == 0 && hooks_generation(hs) == 2 && rep.row_map &&
			 rep.n_row_map == 3,
		 "DEFAULT -> multi-tenant: %d %s (%zu rows)", rc, rep.message,
		 rep.n_row_map);
	if (rc == 0) {
		d0.label = rep.row_map[d0.label];
		u1.label = rep.row_map[u1.label];
		TH_CHECK(strcmp(hooks_label_name(hs, d0.label),
				"SystemManagement") == 0 &&
				 strcmp(hooks_label_name(hs, u1.label),
					"__UNLABELED__") == 0,
			 "rows remapped by name");
		TH_CHECK(hooks_evtchn_send(hs, &u1, &d0) == 0, "still talking");
	}
	hooks_report_release(&rep);
	hooks_state_free(hs);
	ht_blob_free(&mt);
}

/* ------------------------------------------------------------ update */

static void test_update(void)
{
	struct ht_blob v1 =
		ht_compile_file("policies/labs/lab4-policy-update-v1.xml");
	struct ht_blob v2 =
		ht_compile_file("policies/labs/lab4-policy-update-v2.xml");
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_state *hs = ht_state(NULL);
	struct hooks_report rep = {0};
	struct hooks_subject d0, dev, test, ci, legacy, prod;
	struct hooks_resource disk = {HOOKS_RES_DISK, "file:/dev.img", 0};
	struct acm_domain_ref doms[6];
	struct acm_share_ref share;
	struct acm_resource_ref used;
	struct hooks_host host = {doms, 4, NULL, 0, NULL, 0};
	struct hooks_audit_record r;
	struct hooks_stats s;
	int rc;

	ht_load(hs, &v1);
	d0 = ht_dom(hs, 0, "SystemManagement");
	dev = ht_dom(hs, 1, "Dev");
	test = ht_dom(hs, 2, "Test");
	ci = ht_dom(hs, 3, "CI");
	legacy = ht_dom(hs, 4, "Legacy");
	prod = ht_dom(hs, 5, "Prod");
	disk.label = ht_res(hs, "DevDisk");
	TH_CHECK(hooks_domain_create(hs, &d0) == 0 &&
			 hooks_domain_create(hs, &dev) == 0 &&
			 hooks_domain_create(hs, &test) == 0 &&
			 hooks_domain_create(hs, &ci) == 0,
		 "v1 host starts");
	doms[0] = (struct acm_domain_ref){0, d0.label};
	doms[1] = (struct acm_domain_ref){1, dev.label};
	doms[2] = (struct acm_domain_ref){2, test.label};
	doms[3] = (struct acm_domain_ref){3, ci.label};
	doms[4] = (struct acm_domain_ref){4, legacy.label};
	doms[5] = (struct acm_domain_ref){5, prod.label};

	/* CI talks to Test under v1; the permit is cached. */
	TH_CHECK(hooks_evtchn_bind_interdomain(hs, &ci, &test) == 0 &&
			 hooks_evtchn_bind_interdomain(hs, &ci, &test) == 0,
		 "CI-Test under v1");
	hooks_stats(hs, HOOKS_ID_evtchn_bind_interdomain, &s);
	TH_CHECK(s.engine.cache_hits == 1, "cached: %llu hits",
		 (unsigned long long)s.engine.cache_hits);

	/* With that channel live, v2 (CI loses Test) is refused. */
	share = (struct acm_share_ref){3, 2, ACM_HOOK_EVTCHN_INTERDOMAIN};
	host.shares = &share;
	host.n_shares = 1;
	rc = hooks_policy_update(hs, v2.data, v2.len, &host, 0, &rep);
	TH_CHECK(rc == -EBUSY && rep.n_blockers == 1 &&
			 count_kind(&rep, ACM_B_SHARING) == 1 &&
			 hooks_generation(hs) == 1 && !rep.row_map,
		 "live share blocks: %d %s", rc, rep.message);
	TH_CHECK(strcmp(find_text(&rep, ACM_B_SHARING),
			"the live evtchn interdomain between domains 3 and 2 "
			"would lose its common STE type") == 0,
		 "blocker text: %s", find_text(&rep, ACM_B_SHARING));
	TH_CHECK(strcmp(rep.message, "update to 'lab4-policy-update' 1.1 "
				     "blocked: 1 problem") == 0,
		 "message: %s", rep.message);
	TH_CHECK(hooks_evtchn_bind_interdomain(hs, &ci, &test) == 0,
		 "nothing changed: still permitted");

	/* More problems: a Legacy domain (label removed), Prod next to Test
	 * (the new ReleaseGate), a resource label in use that goes away. */
	host.n_doms = 6;
	used = (struct acm_resource_ref){4, ht_res(hs, "LegacyDisk")};
	host.res = &used;
	host.n_res = 1;
	rc = hooks_policy_update(hs, v2.data, v2.len, &host, HOOKS_DRY_RUN,
				 &rep);
	TH_CHECK(rc == -EBUSY && count_kind(&rep, ACM_B_SHARING) == 1 &&
			 count_kind(&rep, ACM_B_LABEL_IN_USE) == 1 &&
			 count_kind(&rep, ACM_B_RESOURCE_IN_USE) == 1 &&
			 count_kind(&rep, ACM_B_CHWALL_CONFLICT) >= 1,
		 "every blocker listed: %d, %zu blockers", rc, rep.n_blockers);
	TH_CHECK(strcmp(find_text(&rep, ACM_B_LABEL_IN_USE),
			"domain 4 runs with label 'Legacy', which the new "
			"policy removes") == 0,
		 "label text: %s", find_text(&rep, ACM_B_LABEL_IN_USE));
	TH_CHECK(has_text(&rep, ACM_B_CHWALL_CONFLICT,
			  "domains 2 and 5 would conflict: type 'Test' and "
			  "type 'Prod' (conflict set 'ReleaseGate')") &&
			 has_text(&rep, ACM_B_CHWALL_CONFLICT,
				  "domains 1 and 5 would conflict: type "
				  "'Development' and type 'Prod' (conflict "
				  "set 'DevNotWithProd')"),
		 "conflict text: %s", find_text(&rep, ACM_B_CHWALL_CONFLICT));

	/* Bad host state: a row that is no label, a domid twice. */
	doms[5].label = 999;
	rc = hooks_policy_update(hs, v2.data, v2.len, &host, 0, &rep);
	TH_CHECK(rc == -EINVAL && strstr(rep.message, "bad host state"),
		 "bad row: %d %s", rc, rep.message);
	doms[5] = (struct acm_domain_ref){5, prod.label};
	rc = hooks_policy_update(hs, v2.data, v2.len, NULL, 0, &rep);
	TH_CHECK(rc == -EINVAL, "no host: %d", rc);

	/* A policy of another name, without FromPolicy: version blocker. */
	host.n_doms = 4;
	host.n_shares = 0;
	host.n_res = 0;
	rc = hooks_policy_update(hs, mt.data, mt.len, &host, 0, &rep);
	TH_CHECK(rc == -EBUSY && count_kind(&rep, ACM_B_VERSION) == 1,
		 "unrelated policy: %d %s", rc, rep.message);
	TH_CHECK(strcmp(find_text(&rep, ACM_B_VERSION),
			"policy 'multi-tenant' 1.0 may not replace "
			"'lab4-policy-update' 1.0: its FromPolicy must name "
			"the running policy and version, and its version must "
			"be greater") == 0,
		 "version text: %s", find_text(&rep, ACM_B_VERSION));

	/* Garbage: refused, the running policy stays. */
	{
		char garbage[100];

		memset(garbage, 'g', sizeof(garbage));
		rc = hooks_policy_update(hs, garbage, sizeof(garbage), &host, 0,
					 &rep);
	}
	TH_CHECK(rc == -EINVAL && rep.load_err != ACM_OK &&
			 hooks_generation(hs) == 1,
		 "garbage update: %d %s", rc, rep.message);

	/* Dry run of the good update: nothing changes. */
	rc = hooks_policy_update(hs, v2.data, v2.len, &host, HOOKS_DRY_RUN,
				 &rep);
	TH_CHECK(rc == 0 && hooks_generation(hs) == 1 && !rep.row_map &&
			 strcmp(rep.message,
				"update to 'lab4-policy-update' "
				"1.1 would succeed (dry run)") == 0,
		 "dry run: %d %s", rc, rep.message);

	/* The channel closed: the update goes through. */
	used = (struct acm_resource_ref){1, disk.label};
	host.res = &used;
	host.n_res = 1;
	rc = hooks_policy_update(hs, v2.data, v2.len, &host, 0, &rep);
	TH_CHECK(rc == 0 && hooks_generation(hs) == 2 && rep.generation == 2 &&
			 rep.row_map && rep.n_row_map == 10,
		 "update: %d %s (%zu)", rc, rep.message, rep.n_row_map);
	if (rc)
		goto out;
	TH_CHECK(strcmp(rep.message, "updated to 'lab4-policy-update' 1.1, "
				     "generation 2") == 0,
		 "message: %s", rep.message);
	/* The caller remaps its rows. */
	d0.label = rep.row_map[d0.label];
	dev.label = rep.row_map[dev.label];
	test.label = rep.row_map[test.label];
	ci.label = rep.row_map[ci.label];
	disk.label = rep.row_map[disk.label];
	TH_CHECK(strcmp(hooks_label_name(hs, dev.label), "Development") == 0 &&
			 strcmp(hooks_label_name(hs, disk.label),
				"DevelopmentDisk") == 0 &&
			 rep.row_map[legacy.label] == ACM_ROW_NONE,
		 "renames followed, Legacy gone");

	/* The cached permit is gone: CI-Test is now denied. */
	TH_CHECK(hooks_evtchn_bind_interdomain(hs, &ci, &test) == -EACCES,
		 "CI-Test denied after the update");
	ht_last(hs, &r);
	TH_CHECK(r.generation == 2 &&
			 strcmp(r.policy, "lab4-policy-update") == 0 &&
			 r.acm_reason == ACM_R_NO_SHARED_TYPE,
		 "record of the new policy: gen %llu",
		 (unsigned long long)r.generation);
	TH_CHECK(hooks_evtchn_send(hs, &dev, &d0) == 0 &&
			 hooks_resource_use(hs, &dev, &disk) == 0,
		 "Development keeps what it had");
	/* The Chinese Wall carried over: Prod may not start next to Test
	 * (ReleaseGate) nor Development (DevNotWithProd). */
	prod.label = rep.row_map[prod.label];
	TH_CHECK(hooks_domain_create(hs, &prod) == -EACCES,
		 "Prod refused under v2");
out:
	hooks_report_release(&rep);
	hooks_state_free(hs);
	ht_blob_free(&v1);
	ht_blob_free(&v2);
	ht_blob_free(&mt);
}

/* ------------------------------------------------------------ relabel */

static void test_relabel(void)
{
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_config cfg = {.cache_slots = 64};
	struct hooks_state *hs = ht_state(&cfg);
	struct hooks_report rep = {0};
	struct hooks_subject d0, a1, a2;
	struct acm_domain_ref doms[3];
	struct acm_share_ref share = {1, 2, ACM_HOOK_GNT_MAP_WRITE};
	struct hooks_host host = {doms, 3, &share, 1, NULL, 0};
	struct hooks_stats s0, s1;
	acm_row_t initech, globex;
	int rc;

	ht_load(hs, &mt);
	d0 = ht_dom(hs, 0, "SystemManagement");
	a1 = ht_dom(hs, 1, "Acme");
	a2 = ht_dom(hs, 2, "Acme");
	initech = hooks_label_find(hs, ACM_LABEL_VM, "Initech");
	globex = hooks_label_find(hs, ACM_LABEL_VM, "Globex");
	hooks_domain_create(hs, &d0);
	hooks_domain_create(hs, &a1);
	hooks_domain_create(hs, &a2);
	doms[0] = (struct acm_domain_ref){0, d0.label};
	doms[1] = (struct acm_domain_ref){1, a1.label};
	doms[2] = (struct acm_domain_ref){2, a2.label};

	TH_CHECK(hooks_grant_map_write(hs, &a1, &a2) == 0 &&
			 hooks_grant_map_write(hs, &a1, &a2) == 0 &&
			 hooks_grant_map_write(hs, &a1, &d0) == 0,
		 "Acme pair shares (cached)");

	/* Refused: the live grant would break; Globex next to Acme. */
	rc = hooks_relabel(hs, &host, 2, initech, 0, &rep);
	TH_CHECK(rc == -EBUSY && count_kind(&rep, ACM_B_SHARING) == 1,
		 "live grant blocks: %d %s", rc, rep.message);
	host.n_shares = 0;
	rc = hooks_relabel(hs, &host, 2, globex, 0, &rep);
	TH_CHECK(rc == -EBUSY && count_kind(&rep, ACM_B_CHWALL_CONFLICT) >= 1,
		 "Globex next to Acme: %d %s", rc, rep.message);
	rc = hooks_relabel(hs, &host, 7, initech, 0, &rep);
	TH_CHECK(rc == -EBUSY && count_kind(&rep, ACM_B_DOMAIN_UNKNOWN) == 1,
		 "unknown domain: %d", rc);
	rc = hooks_relabel(hs, &host, 2, ht_res(hs, "AcmeDisk"), 0, &rep);
	TH_CHECK(rc == -EINVAL &&
			 strcmp(rep.message, "relabel of domain 2: the new "
					     "label is not a VM label of the "
					     "policy") == 0,
		 "resource label: %d %s", rc, rep.message);
	/* dom0 to the Acme pool's label while Globex... is not running;
	 * while StorageNet runs it would not cover it. */
	{
		struct acm_domain_ref d2[2] = {
			{0, d0.label},
			{4, hooks_label_find(hs, ACM_LABEL_VM, "StorageNet")},
		};
		struct hooks_host h2 = {d2, 2, NULL, 0, NULL, 0};

		rc = hooks_relabel(
			hs, &h2, 0,
			hooks_label_find(hs, ACM_LABEL_VM, "HostPoolAcme"),
			HOOKS_DRY_RUN, &rep);
		TH_CHECK(rc == -EBUSY && count_kind(&rep, ACM_B_BOOTSTRAP) == 1,
			 "dom0 must cover StorageNet: %d %s", rc, rep.message);
		TH_CHECK(strcmp(find_text(&rep, ACM_B_BOOTSTRAP),
				"dom0's new label would not cover domain 4 "
				"(it lacks STE type 'Globex')") == 0,
			 "bootstrap text: %s",
			 find_text(&rep, ACM_B_BOOTSTRAP));
	}
	TH_CHECK(hooks_generation(hs) == 1, "nothing applied");

	rc = hooks_relabel(hs, &host, 2, initech, HOOKS_DRY_RUN, &rep);
	TH_CHECK(rc == 0 && hooks_generation(hs) == 1 &&
			 strcmp(rep.message, "relabel of domain 2 from 'Acme' "
					     "to 'Initech' would succeed (dry "
					     "run)") == 0,
		 "dry run: %d %s", rc, rep.message);

	hooks_stats(hs, HOOKS_ID_grant_map_write, &s0);
	rc = hooks_relabel(hs, &host, 2, initech, 0, &rep);
	TH_CHECK(rc == 0 && hooks_generation(hs) == 2 && rep.generation == 2,
		 "relabel: %d %s", rc, rep.message);
	a2.label = initech;
	TH_CHECK(hooks_grant_map_write(hs, &a1, &a2) == -EACCES,
		 "Acme-Initech denied after the relabel");
	/* Every cached decision was dropped, also ones the relabel did not
	 * touch: dom0-Acme is evaluated again. */
	TH_CHECK(hooks_grant_map_write(hs, &a1, &d0) == 0, "dom0 still");
	hooks_stats(hs, HOOKS_ID_grant_map_write, &s1);
	TH_CHECK(s1.engine.cache_hits == s0.engine.cache_hits &&
			 s1.engine.evaluated == s0.engine.evaluated + 2,
		 "no stale hit: hits %llu->%llu evaluated %llu->%llu",
		 (unsigned long long)s0.engine.cache_hits,
		 (unsigned long long)s1.engine.cache_hits,
		 (unsigned long long)s0.engine.evaluated,
		 (unsigned long long)s1.engine.evaluated);
	/* The Chinese Wall moved with the label: one Acme domain left. */
	hooks_domain_destroy(hs, &a1);
	{
		struct hooks_subject g = {6, globex};

		TH_CHECK(hooks_domain_create(hs, &g) == 0,
			 "Globex starts once no Acme runs");
	}
	hooks_report_release(&rep);
	hooks_state_free(hs);
	ht_blob_free(&mt);
}

int main(void)
{
	test_fail_closed();
	test_default();
	test_default_to_real();
	test_update();
	test_relabel();
	return th_done();
}
