/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_decide - every hook of hooks.def, allowed and denied, on the example
 * multi-tenant policy (policies/multi-tenant.xml compiled at test time),
 * through the generated wrappers; the engine's reason for each; and a
 * check that no hook of a deciding kind is left without an allowed and a
 * denied case.
 *
 * The host: dom0 SystemManagement, 1 and 2 Acme, 3 Initech, 4 StorageNet,
 * 5 unlabeled (__UNLABELED__), 9 a XenStore stub domain labelled Initech;
 * 6 and 7 Globex try to start while Acme runs.  Subjects may name labels
 * nobody runs with (HostPoolAcme as a host label), as a toolstack asks
 * "may this label run here?" before creating.
 */
#include "tests/hooks/hooks_test.h"

#define PERMIT 0
#define DENY   (-EACCES)

enum party_kind { P_DOM, P_RES, P_NONE };

struct dcase {
	const char *hook;
	uint32_t a_dom;
	const char *a_label;
	enum party_kind bk;
	uint32_t b_dom;	     /* P_DOM */
	const char *b_label; /* P_DOM: VM label; P_RES: resource label */
	int want;
	enum hooks_reason reason;
	enum acm_reason acm; /* when reason == HOOKS_R_ENGINE */
};

#define DOM(h, ad, al, bd, bl, w, ar)                                          \
	{                                                                      \
		h, ad, al, P_DOM, bd, bl, w, HOOKS_R_ENGINE, ar                \
	}
#define RES(h, ad, al, rl, w, ar)                                              \
	{                                                                      \
		h, ad, al, P_RES, 0, rl, w, HOOKS_R_ENGINE, ar                 \
	}
#define ONE(h, ad, al, w, ar)                                                  \
	{                                                                      \
		h, ad, al, P_NONE, 0, NULL, w, HOOKS_R_ENGINE, ar              \
	}

#define SM "SystemManagement"

/* Run in order: creates first (the Chinese-Wall state the rest runs in). */
static const struct dcase cases[] = {
	ONE("domain_create", 0, SM, PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 1, "Acme", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 2, "Acme", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 3, "Initech", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 4, "StorageNet", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 5, "__UNLABELED__", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 9, "Initech", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 6, "Globex", DENY, ACM_R_CHWALL_CONFLICT),
	ONE("domain_restore", 7, "Globex", DENY, ACM_R_CHWALL_CONFLICT),
	ONE("domain_restore", 8, "Initech", PERMIT, ACM_R_CHWALL_OK),

/* Event channels and grants: STE sharing, one table per hook. */
#define SHARE(h)                                                               \
	DOM(h, 1, "Acme", 2, "Acme", PERMIT, ACM_R_SHARED_TYPE),               \
		DOM(h, 1, "Acme", 0, SM, PERMIT, ACM_R_SHARED_TYPE),           \
		DOM(h, 1, "Acme", 4, "StorageNet", PERMIT, ACM_R_SHARED_TYPE), \
		DOM(h, 5, "__UNLABELED__", 0, SM, PERMIT, ACM_R_SHARED_TYPE),  \
		DOM(h, 1, "Acme", 3, "Initech", DENY, ACM_R_NO_SHARED_TYPE),   \
		DOM(h, 5, "__UNLABELED__", 1, "Acme", DENY,                    \
		    ACM_R_NO_SHARED_TYPE),                                     \
		DOM(h, 4, "StorageNet", 5, "__UNLABELED__", DENY,              \
		    ACM_R_NO_SHARED_TYPE)
	SHARE("evtchn_alloc_unbound"),
	SHARE("evtchn_bind_interdomain"),
	SHARE("evtchn_send"),
	SHARE("grant_setup"),
	SHARE("grant_map_read"),
	SHARE("grant_map_write"),
	SHARE("grant_copy"),
	SHARE("grant_transfer"),
#undef SHARE

	/* Unmapping releases access: never denied, not even across tenants. */
	{"grant_unmap", 1, "Acme", P_DOM, 3, "Initech", PERMIT, HOOKS_R_RELEASE,
	 0},
	{"grant_unmap", 1, "Acme", P_DOM, 2, "Acme", PERMIT, HOOKS_R_RELEASE,
	 0},

	/* Backends: the tenant's own disks only; quarantine for everyone. */
	RES("resource_use", 1, "Acme", "AcmeDisk", PERMIT, ACM_R_SHARED_TYPE),
	RES("resource_use", 4, "StorageNet", "AcmeDisk", PERMIT,
	    ACM_R_SHARED_TYPE),
	RES("resource_use", 0, SM, "Dom0Disk", PERMIT, ACM_R_SHARED_TYPE),
	RES("resource_use", 5, "__UNLABELED__", "__UNLABELED__", PERMIT,
	    ACM_R_SHARED_TYPE),
	RES("resource_use", 1, "Acme", "GlobexDisk", DENY,
	    ACM_R_NO_SHARED_TYPE),
	RES("resource_use", 3, "Initech", "AcmeDisk", DENY,
	    ACM_R_NO_SHARED_TYPE),
	RES("resource_use", 5, "__UNLABELED__", "AcmeDisk", DENY,
	    ACM_R_NO_SHARED_TYPE),
	RES("resource_use", 1, "Acme", "__INACCESSIBLE__", DENY,
	    ACM_R_INACCESSIBLE),
	RES("resource_use", 0, SM, "__INACCESSIBLE__", DENY,
	    ACM_R_INACCESSIBLE),

	/* Host authorization: subject = the label asking to run, other =
	 * the host (dom0's label). */
	DOM("host_authorize", 6, "Globex", 0, SM, PERMIT, ACM_R_SUPERSET),
	DOM("host_authorize", 1, "Acme", 0, "HostPoolAcme", PERMIT,
	    ACM_R_SUPERSET),
	DOM("host_authorize", 6, "Globex", 0, "HostPoolAcme", DENY,
	    ACM_R_NOT_SUPERSET),
	DOM("host_authorize", 4, "StorageNet", 0, "HostPoolAcme", DENY,
	    ACM_R_NOT_SUPERSET),

	/* XenStore: dom0 serves everyone; an Initech stub only Initech. */
	DOM("xs_introduce", 1, "Acme", 0, SM, PERMIT, ACM_R_SHARED_TYPE),
	DOM("xs_introduce", 3, "Initech", 9, "Initech", PERMIT,
	    ACM_R_SHARED_TYPE),
	DOM("xs_introduce", 1, "Acme", 9, "Initech", DENY,
	    ACM_R_NO_SHARED_TYPE),

	/* Destroy releases; then the competitor may start (run-time
	 * exclusion, no history). */
	ONE("domain_destroy", 1, "Acme", PERMIT, 0),
	ONE("domain_create", 6, "Globex", DENY, ACM_R_CHWALL_CONFLICT),
	ONE("domain_destroy", 2, "Acme", PERMIT, 0),
	ONE("domain_create", 6, "Globex", PERMIT, ACM_R_CHWALL_OK),
	ONE("domain_create", 1, "Acme", DENY, ACM_R_CHWALL_CONFLICT),
};

static void run_case(struct hooks_state *hs, const struct dcase *c,
		     unsigned *allowed, unsigned *denied)
{
	enum hooks_id id = hooks_hook_find(c->hook);
	struct hooks_subject a = ht_dom(hs, c->a_dom, c->a_label), b = {0, 0};
	struct hooks_resource r = {HOOKS_RES_DISK, "phy:/dev/vg/x", 0};
	const struct hooks_hook_info *h = hooks_hook_info(id);
	struct hooks_audit_record rec;
	uint64_t before = hooks_audit_next_seq(hs);
	int rc;

	if (!TH_CHECK(h, "hook %s exists", c->hook))
		return;
	if (c->bk == P_DOM)
		b = ht_dom(hs, c->b_dom, c->b_label);
	if (c->bk == P_RES)
		r.label = ht_res(hs, c->b_label);
	TH_CHECK(a.label != ACM_ROW_NONE, "%s: label %s", c->hook, c->a_label);
	rc = ht_call(hs, id, &a, c->bk == P_DOM ? &b : NULL,
		     c->bk == P_RES ? &r : NULL);
	TH_CHECK(rc == c->want, "%s %s(%u) %s: rc %d, want %d", c->hook,
		 c->a_label, c->a_dom, c->b_label ? c->b_label : "", rc,
		 c->want);
	if (rc == PERMIT)
		allowed[id]++;
	else
		denied[id]++;

	/* A denial leaves exactly one record saying why; a permit none. */
	if (c->want == DENY) {
		TH_CHECK(hooks_audit_next_seq(hs) == before + 1 &&
				 ht_last(hs, &rec),
			 "%s: one record", c->hook);
		TH_CHECK(rec.hook == id && rec.decision == HOOKS_DENY &&
				 rec.enforced && rec.reason == c->reason &&
				 rec.acm_reason == c->acm &&
				 rec.subject.domid == c->a_dom &&
				 strcmp(rec.subject.label, c->a_label) == 0,
			 "%s %s: record hook %d decision %d reason %d/%s",
			 c->hook, c->a_label, rec.hook, rec.decision,
			 rec.reason, acm_reason_name(rec.acm_reason));
		if (c->bk != P_NONE)
			TH_CHECK(rec.has_object && strcmp(rec.object.label,
							  c->b_label) == 0,
				 "%s: object label %s", c->hook,
				 rec.object.label);
	} else {
		TH_CHECK(hooks_audit_next_seq(hs) == before,
			 "%s %s: a permit leaves no record", c->hook,
			 c->a_label);
	}
}

static void test_cases(void)
{
	struct hooks_config cfg = {.audit_ring = 1024};
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_state *hs = ht_state(&cfg);
	unsigned allowed[HOOKS_ID__COUNT] = {0}, denied[HOOKS_ID__COUNT] = {0};
	size_t i;

	ht_load(hs, &mt);
	for (i = 0; i < TH_ARRAY_LEN(cases); i++)
		run_case(hs, &cases[i], allowed, denied);

	/* Coverage: every hook of hooks.def has a case that allows it, and
	 * every hook that decides has one that denies it. */
	for (i = 0; i < HOOKS_ID__COUNT; i++) {
		const struct hooks_hook_info *h = hooks_hook_info(i);
		bool releases = h->kind == HOOKS_KIND_DESTROY ||
				h->kind == HOOKS_KIND_NONE;

		TH_CHECK(allowed[i] > 0, "hook %s has an allowed case",
			 h->name);
		TH_CHECK(releases || denied[i] > 0, "hook %s has a denied case",
			 h->name);
	}
	hooks_state_free(hs);
	ht_blob_free(&mt);
}

/* The record of a Chinese-Wall denial names both types and the set. */
static void test_explained(void)
{
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_state *hs = ht_state(NULL);
	struct hooks_subject acme, globex, initech, unl;
	struct hooks_resource disk = {HOOKS_RES_VIF, "vlan:12", 0};
	struct hooks_audit_record r;

	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	globex = ht_dom(hs, 2, "Globex");
	initech = ht_dom(hs, 3, "Initech");
	TH_CHECK(hooks_domain_create(hs, &acme) == 0, "Acme starts");
	TH_CHECK(hooks_domain_create(hs, &globex) == -EACCES, "Globex refused");
	ht_last(hs, &r);
	TH_CHECK(strcmp(r.detail,
			"Chinese Wall: type 'Globex' of 'Globex' conflicts "
			"with running type 'Acme' (conflict set "
			"'AcmeVsGlobex')") == 0,
		 "CW detail: %s", r.detail);
	TH_CHECK(!r.has_object, "a create has no object");

	TH_CHECK(hooks_evtchn_send(hs, &acme, &initech) == -EACCES, "send");
	ht_last(hs, &r);
	TH_CHECK(strcmp(r.detail, "'Acme' and 'Initech' have no STE type in "
				  "common") == 0,
		 "STE detail: %s", r.detail);

	disk.label = ht_res(hs, "__INACCESSIBLE__");
	TH_CHECK(hooks_resource_use(hs, &acme, &disk) == -EACCES, "quarantine");
	ht_last(hs, &r);
	TH_CHECK(r.res_class == HOOKS_RES_VIF &&
			 strcmp(r.resource, "vlan:12") == 0 &&
			 strcmp(r.object.label, "__INACCESSIBLE__") == 0 &&
			 r.object.domid == HOOKS_DOMID_NONE,
		 "resource record: %d %s %s", r.res_class, r.resource,
		 r.object.label);
	TH_CHECK(strcmp(r.detail, "resource label '__INACCESSIBLE__' may be "
				  "used by no domain") == 0,
		 "inaccessible detail: %s", r.detail);

	{
		struct hooks_subject host = ht_dom(hs, 0, "HostPoolAcme");

		TH_CHECK(hooks_host_authorize(hs, &host, &globex) == -EACCES,
			 "pool host refuses Globex");
		ht_last(hs, &r);
		TH_CHECK(strcmp(r.detail, "host label 'HostPoolAcme' lacks STE "
					  "type 'Globex' of 'Globex'") == 0,
			 "authorize detail: %s", r.detail);
		TH_CHECK(strcmp(r.subject.label, "Globex") == 0 &&
				 strcmp(r.object.label, "HostPoolAcme") == 0,
			 "authorize parties %s %s", r.subject.label,
			 r.object.label);
	}

	/* A row the policy does not have, and no label at all. */
	unl = (struct hooks_subject){5, ACM_ROW_NONE};
	TH_CHECK(hooks_grant_map_write(hs, &unl, &acme) == -EACCES, "no label");
	ht_last(hs, &r);
	TH_CHECK(r.acm_reason == ACM_R_UNLABELED_REFUSED &&
			 r.subject.label[0] == '\0' &&
			 r.subject.row == ACM_ROW_NONE,
		 "unlabeled: %s", acm_reason_name(r.acm_reason));
	unl.label = 9999;
	TH_CHECK(hooks_domain_create(hs, &unl) == -EACCES, "bad row");
	ht_last(hs, &r);
	TH_CHECK(r.acm_reason == ACM_R_BAD_LABEL, "bad row: %s",
		 acm_reason_name(r.acm_reason));
	/* A resource label is not a VM label. */
	unl.label = ht_res(hs, "AcmeDisk");
	TH_CHECK(hooks_domain_create(hs, &unl) == -EACCES,
		 "resource row as a domain");

	hooks_state_free(hs);
	ht_blob_free(&mt);
}

/* NULL arguments are a caller's bug: denied, recorded, even permissive. */
static void test_bad_arguments(void)
{
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_config cfg = {.mode = HOOKS_PERMISSIVE};
	struct hooks_state *hs = ht_state(&cfg);
	struct hooks_subject acme;
	struct hooks_audit_record r;

	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	TH_CHECK(hooks_domain_create(hs, NULL) == -EACCES, "create NULL");
	ht_last(hs, &r);
	TH_CHECK(r.reason == HOOKS_R_BAD_ARGUMENT && r.enforced &&
			 strcmp(r.detail, "the caller passed no subject") == 0,
		 "bad argument record: %s", r.detail);
	TH_CHECK(hooks_evtchn_send(hs, &acme, NULL) == -EACCES, "send NULL");
	TH_CHECK(hooks_resource_use(hs, &acme, NULL) == -EACCES,
		 "resource NULL");
	TH_CHECK(hooks_host_authorize(hs, NULL, &acme) == -EACCES,
		 "authorize NULL host");
	TH_CHECK(hooks_evtchn_send(NULL, &acme, &acme) == -EACCES,
		 "NULL state");
	TH_CHECK(hooks_domain_destroy(hs, NULL) == -EACCES, "destroy NULL");
	hooks_state_free(hs);
	ht_blob_free(&mt);
}

/* A dry run decides as for real but leaves no trace: no audit record,
 * no counter (the engine's included), and its create is undone. */
static void test_dry_run(void)
{
	struct ht_blob mt = ht_compile_file("policies/multi-tenant.xml");
	struct hooks_state *hs = ht_state(NULL);
	struct hooks_subject acme, globex;
	struct hooks_stats before, after;
	uint64_t next;

	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	globex = ht_dom(hs, 2, "Globex");
	TH_CHECK(hooks_domain_create(hs, &acme) == 0, "acme runs");
	hooks_stats(hs, HOOKS_ID_domain_create, &before);
	next = hooks_audit_next_seq(hs);
	hooks_set_dry_run(hs, true);
	TH_CHECK(hooks_domain_create(hs, &globex) == -EACCES,
		 "dry run still decides");
	TH_CHECK(hooks_domain_create(hs, &acme) == 0, "dry permit");
	hooks_domain_create_abort(hs, &acme);
	hooks_set_dry_run(hs, false);
	hooks_stats(hs, HOOKS_ID_domain_create, &after);
	TH_CHECK(hooks_audit_next_seq(hs) == next, "dry run audited");
	TH_CHECK(after.calls == before.calls && after.denied == before.denied &&
			 after.permitted == before.permitted,
		 "dry run counted: calls %llu -> %llu",
		 (unsigned long long)before.calls,
		 (unsigned long long)after.calls);
	TH_CHECK(after.engine.evaluated == before.engine.evaluated &&
			 after.engine.denied == before.engine.denied,
		 "dry run counted by the engine");
	/* The real denial afterwards is recorded and counted as ever. */
	TH_CHECK(hooks_domain_create(hs, &globex) == -EACCES, "real deny");
	TH_CHECK(hooks_audit_next_seq(hs) == next + 1, "real deny audited");
	hooks_stats(hs, HOOKS_ID_domain_create, &after);
	TH_CHECK(after.denied == before.denied + 1, "real deny counted");
	hooks_state_free(hs);
	ht_blob_free(&mt);
}

int main(void)
{
	test_cases();
	test_explained();
	test_bad_arguments();
	test_dry_run();
	return th_done();
}
