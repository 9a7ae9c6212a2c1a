/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_update - live policy update and relabel validation against the state
 * of a host, after Xen's xm-test security-acm suite: an update with renames
 * that passes; deleting a label or a resource label in use; an update that
 * makes running domains conflict (each pair once); a live share or resource
 * losing its type; FromPolicy/version rules, and the DEFAULT policy's
 * exemption from them, which goes by its shape and not its name; bad
 * renames; dom0's label vanishing; unknown domains; more blockers than
 * room; bad arguments; adopting the update; relabels that break nothing,
 * ones that would, and dom0's relabel, which must cover every domain.
 *
 * xm-test rows:        VM SystemManagement 0, blue 1, green 2, red 3;
 *                      resources SystemManagement 4, blue 5, green 6, red 7.
 * xm-test-update rows: VM GREEN 0, SystemManagement 1, __UNLABELED__ 2,
 *                      red 3; resources GREEN 4, RED 5, SystemManagement 6,
 *                      __UNLABELED__ 7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/acm/blob_builder.h"
#include "tests/harness.h"

#define MAXB 16

static struct bb_loaded xm, up;

static acm_row_t vm(const struct acm_policy *p, const char *name)
{
	return acm_label_find(p, ACM_LABEL_VM, name);
}

static acm_row_t res(const struct acm_policy *p, const char *name)
{
	return acm_label_find(p, ACM_LABEL_RESOURCE, name);
}

static acm_type_t cw_type(const struct acm_policy *p, const char *name)
{
	for (acm_type_t t = 0; acm_cw_type_name(p, t); t++)
		if (strcmp(acm_cw_type_name(p, t), name) == 0)
			return t;
	return ACM_TYPE_NONE;
}

/* The state of a host, in the old policy's rows. */
struct host {
	struct acm_domain_ref doms[8];
	size_t n_doms;
	struct acm_share_ref shares[8];
	size_t n_shares;
	struct acm_resource_ref res[8];
	size_t n_res;
};

struct result {
	enum acm_err err;
	size_t n;
	struct acm_blocker b[MAXB];
	acm_row_t row_map[64];
};

static void validate(const struct acm_policy *old,
		     const struct acm_policy *new_p, const struct host *h,
		     struct result *r)
{
	size_t len = acm_update_scratch_size(old, new_p, h->n_doms);
	void *scratch = bb_xmalloc(len);

	memset(r, 0, sizeof(*r));
	r->err = acm_update_validate(old, new_p, h->doms, h->n_doms,
				     h->shares, h->n_shares, h->res, h->n_res,
				     r->row_map, r->b, MAXB, &r->n, scratch,
				     len);
	free(scratch);
}

static size_t count_kind(const struct result *r, enum acm_blocker_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n && i < MAXB; i++)
		n += r->b[i].kind == k;
	return n;
}

static const struct acm_blocker *find_kind(const struct result *r,
					   enum acm_blocker_kind k)
{
	for (size_t i = 0; i < r->n && i < MAXB; i++)
		if (r->b[i].kind == k)
			return &r->b[i];
	return NULL;
}

/* A host of xm-test: dom0, a green domain talking to it and using the
 * green disk. */
static void base_host(struct host *h)
{
	memset(h, 0, sizeof(*h));
	h->doms[h->n_doms++] = (struct acm_domain_ref){ 0,
		vm(xm.p, "SystemManagement") };
	h->doms[h->n_doms++] = (struct acm_domain_ref){ 1, vm(xm.p, "green") };
	h->shares[h->n_shares++] = (struct acm_share_ref){
		0, 1, ACM_HOOK_EVTCHN_INTERDOMAIN };
	h->res[h->n_res++] = (struct acm_resource_ref){ 1, res(xm.p, "green") };
}

/* ------------------------------------------------------------ update */

static void test_renames_ok(void)
{
	struct result r;
	struct host h;

	base_host(&h);
	validate(xm.p, up.p, &h, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 0,
		 "xm-test -> xm-test-update with dom0 and green: %zu "
		 "blockers (%s)", r.n,
		 r.n ? acm_blocker_name(r.b[0].kind) : "-");
	TH_CHECK(r.row_map[vm(xm.p, "SystemManagement")] ==
		 vm(up.p, "SystemManagement"), "SystemManagement kept");
	TH_CHECK(r.row_map[vm(xm.p, "green")] == vm(up.p, "GREEN"),
		 "green renamed GREEN");
	TH_CHECK(r.row_map[vm(xm.p, "red")] == vm(up.p, "red"), "red kept");
	TH_CHECK(r.row_map[vm(xm.p, "blue")] == ACM_ROW_NONE, "blue deleted");
	TH_CHECK(r.row_map[res(xm.p, "green")] == res(up.p, "GREEN") &&
		 r.row_map[res(xm.p, "red")] == res(up.p, "RED") &&
		 r.row_map[res(xm.p, "blue")] == ACM_ROW_NONE &&
		 r.row_map[res(xm.p, "SystemManagement")] ==
		 res(up.p, "SystemManagement"), "resource labels mapped");
}

static void test_state_blockers(void)
{
	const struct acm_blocker *b;
	struct result r;
	struct host h;

	/* Red runs beside green: the new set RER = {GREEN, red}. */
	base_host(&h);
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 2, vm(xm.p, "red") };
	validate(xm.p, up.p, &h, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 1 &&
		 count_kind(&r, ACM_B_CHWALL_CONFLICT) == 1,
		 "green and red would conflict: 1 blocker for the pair (%zu)",
		 r.n);
	b = find_kind(&r, ACM_B_CHWALL_CONFLICT);
	TH_CHECK(b && b->domid == 1 && b->peer_domid == 2 &&
		 strcmp(acm_cw_type_name(up.p, b->type_a), "GREEN") == 0 &&
		 strcmp(acm_cw_type_name(up.p, b->type_b), "red") == 0 &&
		 strcmp(acm_conflict_set_name(up.p, b->set), "RER") == 0 &&
		 b->old_label == vm(xm.p, "green") &&
		 b->new_label == vm(up.p, "GREEN"),
		 "conflict blocker names both domains, types and the set");

	/* The same pair listed the other way round: still once, lower
	 * domid first, each side with its own type and labels. */
	memset(&h, 0, sizeof(h));
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 9, vm(xm.p, "red") };
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 0,
		vm(xm.p, "SystemManagement") };
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 4, vm(xm.p, "green") };
	validate(xm.p, up.p, &h, &r);
	b = find_kind(&r, ACM_B_CHWALL_CONFLICT);
	TH_CHECK(r.err == ACM_OK && r.n == 1 && b && b->domid == 4 &&
		 b->peer_domid == 9 &&
		 strcmp(acm_cw_type_name(up.p, b->type_a), "GREEN") == 0 &&
		 strcmp(acm_cw_type_name(up.p, b->type_b), "red") == 0 &&
		 b->old_label == vm(xm.p, "green") &&
		 b->new_label == vm(up.p, "GREEN"),
		 "red@9 listed before green@4: one blocker, 4 then 9");

	/* Two reds and a green: two pairs, each once. */
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 2, vm(xm.p, "red") };
	validate(xm.p, up.p, &h, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 2 &&
		 count_kind(&r, ACM_B_CHWALL_CONFLICT) == 2 &&
		 r.b[0].domid == 4 && r.b[0].peer_domid == 9 &&
		 r.b[1].domid == 2 && r.b[1].peer_domid == 4,
		 "red@9, green@4, red@2: pairs (4, 9) and (2, 4) (%zu)", r.n);

	/* A running blue domain, a blue disk in use, and green using the red
	 * disk (allowed before? no matter: checked now). */
	base_host(&h);
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 3, vm(xm.p, "blue") };
	h.res[h.n_res++] = (struct acm_resource_ref){ 3, res(xm.p, "blue") };
	h.res[h.n_res++] = (struct acm_resource_ref){ 1, res(xm.p, "red") };
	validate(xm.p, up.p, &h, &r);
	b = find_kind(&r, ACM_B_LABEL_IN_USE);
	TH_CHECK(b && b->domid == 3 && b->old_label == vm(xm.p, "blue") &&
		 b->new_label == ACM_ROW_NONE, "blue label in use");
	b = find_kind(&r, ACM_B_RESOURCE_IN_USE);
	TH_CHECK(b && b->domid == 3 && b->old_label == res(xm.p, "blue"),
		 "blue disk in use");
	b = find_kind(&r, ACM_B_RESOURCE);
	TH_CHECK(b && b->domid == 1 && b->new_label == res(up.p, "RED"),
		 "GREEN may not use RED");
	TH_CHECK(r.n == 3, "exactly those three (%zu)", r.n);

	/* Unknown domains in the state. */
	base_host(&h);
	h.shares[h.n_shares++] = (struct acm_share_ref){
		0, 9, ACM_HOOK_GNT_MAP_READ };
	h.res[h.n_res++] = (struct acm_resource_ref){ 8, res(xm.p, "green") };
	validate(xm.p, up.p, &h, &r);
	TH_CHECK(r.n == 2 && count_kind(&r, ACM_B_DOMAIN_UNKNOWN) == 2 &&
		 r.b[0].domid == 9 && r.b[0].peer_domid == 0 &&
		 r.b[0].hook == ACM_HOOK_GNT_MAP_READ && r.b[1].domid == 8,
		 "shares and resources of unknown domains");
}

/* A variant of xm-test-update whose SystemManagement label lost GREEN. */
static void test_share_loses_type(void)
{
	struct bb_label labels[8];
	struct bb_policy pol = bb_xmupdate;
	const struct acm_blocker *b;
	struct bb_loaded l;
	struct result r;
	struct host h;

	memcpy(labels, bb_xmupdate_labels, sizeof(labels));
	labels[0].ste = "SystemManagement red __UNLABELED__";
	pol.labels = labels;
	TH_CHECK(bb_load(&pol, &l), "variant loads");
	base_host(&h);
	validate(xm.p, l.p, &h, &r);
	b = find_kind(&r, ACM_B_SHARING);
	TH_CHECK(r.n == 1 && b && b->domid == 0 && b->peer_domid == 1 &&
		 b->hook == ACM_HOOK_EVTCHN_INTERDOMAIN,
		 "dom0 <-> green event channel would lose its type");
	bb_unload(&l);
}

struct version_case {
	const char *what;
	const char *old_name;
	bool has_version;
	uint32_t major, minor;
	bool has_from;
	const char *from_name;
	uint32_t from_major, from_minor;
	bool refused;
};

static const struct version_case version_cases[] = {
	{ "1.0 -> 1.1", "xm-test", true, 1, 1, true, "xm-test", 1, 0, false },
	{ "1.0 -> 2.0", "xm-test", true, 2, 0, true, "xm-test", 1, 0, false },
	{ "1.0 -> 1.0", "xm-test", true, 1, 0, true, "xm-test", 1, 0, true },
	{ "1.0 -> 0.9", "xm-test", true, 0, 9, true, "xm-test", 1, 0, true },
	{ "from 0.9", "xm-test", true, 1, 1, true, "xm-test", 0, 9, true },
	{ "from 1.1", "xm-test", true, 1, 1, true, "xm-test", 1, 1, true },
	{ "from another policy", "xm-test", true, 1, 1, true, "other", 1, 0,
	  true },
	{ "no FromPolicy", "xm-test", true, 1, 1, false, NULL, 0, 0, true },
	{ "no Version", "xm-test", false, 0, 0, true, "xm-test", 1, 0, true },
	/* Named DEFAULT, shaped like xm-test: no exemption. */
	{ "old is named DEFAULT", "DEFAULT", true, 1, 1, true, "xm-test", 1, 0,
	  true },
	{ "old is named DEFAULT, new names it", "DEFAULT", true, 1, 1, true,
	  "DEFAULT", 1, 0, false },
	{ "old is named DEFAULT, no FromPolicy", "DEFAULT", true, 0, 1, false,
	  NULL, 0, 0, true },
};

static void test_versions(void)
{
	for (size_t i = 0; i < TH_ARRAY_LEN(version_cases); i++) {
		const struct version_case *c = &version_cases[i];
		struct bb_policy old = bb_xmtest, new_p = bb_xmupdate;
		struct bb_loaded lo, ln;
		struct result r;
		struct host h;

		old.name = c->old_name;
		new_p.has_version = c->has_version;
		new_p.major = c->major;
		new_p.minor = c->minor;
		new_p.has_from = c->has_from;
		new_p.from_name = c->from_name;
		new_p.from_major = c->from_major;
		new_p.from_minor = c->from_minor;
		if (!bb_load(&old, &lo) || !bb_load(&new_p, &ln)) {
			TH_CHECK(false, "%s: policies load", c->what);
			continue;
		}
		base_host(&h);
		validate(lo.p, ln.p, &h, &r);
		TH_CHECK(r.err == ACM_OK &&
			 (count_kind(&r, ACM_B_VERSION) == 1) == c->refused &&
			 r.n == (c->refused ? 1u : 0u), "version: %s (%s)",
			 c->what, c->refused ? "refused" : "allowed");
		bb_unload(&lo);
		bb_unload(&ln);
	}
}

struct default_case {
	const char *what;
	const struct bb_label *labels; /* NULL: bb_default's */
	size_t n_labels;
	bool conflict_set;
	bool exempt;
};

static const struct bb_label default_plus_inaccessible[] = {
	{ "SystemManagement", ACM_LABEL_VM, "SystemManagement __UNLABELED__",
	  "SystemManagement", NULL },
	{ "__UNLABELED__", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__",
	  NULL },
	{ "__UNLABELED__", ACM_LABEL_RESOURCE, "__UNLABELED__", NULL, NULL },
	{ "__INACCESSIBLE__", ACM_LABEL_RESOURCE, NULL, NULL, NULL },
};
static const struct bb_label default_dom0_only[] = {
	{ "SystemManagement", ACM_LABEL_VM, "SystemManagement __UNLABELED__",
	  "SystemManagement", NULL },
};
static const struct bb_label default_plus_vm[] = {
	{ "SystemManagement", ACM_LABEL_VM, "SystemManagement __UNLABELED__",
	  "SystemManagement", NULL },
	{ "__UNLABELED__", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__",
	  NULL },
	{ "guest", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__", NULL },
};
static const struct bb_label default_two_vms[] = {
	{ "SystemManagement", ACM_LABEL_VM, "SystemManagement __UNLABELED__",
	  "SystemManagement", NULL },
	{ "guest", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__", NULL },
};
static const struct bb_label default_plus_disk[] = {
	{ "SystemManagement", ACM_LABEL_VM, "SystemManagement __UNLABELED__",
	  "SystemManagement", NULL },
	{ "__UNLABELED__", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__",
	  NULL },
	{ "disk", ACM_LABEL_RESOURCE, "SystemManagement", NULL, NULL },
};
static const struct bb_conflict default_conflict[] = {
	{ "S", "SystemManagement __UNLABELED__" },
};

static const struct default_case default_cases[] = {
	{ "the DEFAULT policy", NULL, 0, false, true },
	{ "with __INACCESSIBLE__", default_plus_inaccessible, 4, false, true },
	{ "dom0's label only", default_dom0_only, 1, false, true },
	{ "a third VM label", default_plus_vm, 3, false, false },
	{ "a VM label other than __UNLABELED__", default_two_vms, 2, false,
	  false },
	{ "a resource label of its own", default_plus_disk, 3, false, false },
	{ "a conflict set", NULL, 0, true, false },
};

/* The exemption from FromPolicy/Version, both ways, on a host where only
 * dom0 runs (so nothing else can block). */
static void test_default_shape(void)
{
	for (size_t i = 0; i < TH_ARRAY_LEN(default_cases); i++) {
		const struct default_case *c = &default_cases[i];
		struct bb_policy def = bb_default;
		struct bb_loaded ld, lx;
		struct result r1, r2;
		struct host h;

		if (c->labels) {
			def.labels = c->labels;
			def.n_labels = c->n_labels;
		}
		if (c->conflict_set) {
			def.conflicts = default_conflict;
			def.n_conflicts = 1;
		}
		/* xm-test has no FromPolicy: refused but for the exemption */
		if (!bb_load(&def, &ld) || !bb_load(&bb_xmtest, &lx)) {
			TH_CHECK(false, "%s: policies load", c->what);
			continue;
		}
		memset(&h, 0, sizeof(h));
		h.doms[h.n_doms++] = (struct acm_domain_ref){ 0,
			vm(ld.p, "SystemManagement") };
		validate(ld.p, lx.p, &h, &r1);
		h.doms[0].label = vm(lx.p, "SystemManagement");
		validate(lx.p, ld.p, &h, &r2);
		TH_CHECK(r1.err == ACM_OK && r2.err == ACM_OK &&
			 r1.n == (c->exempt ? 0u : 1u) &&
			 r2.n == (c->exempt ? 0u : 1u) &&
			 (c->exempt || (r1.b[0].kind == ACM_B_VERSION &&
					r2.b[0].kind == ACM_B_VERSION)),
			 "DEFAULT, %s: %s (%zu, %zu blockers)", c->what,
			 c->exempt ? "exempt" : "not exempt", r1.n, r2.n);
		bb_unload(&ld);
		bb_unload(&lx);
	}
}

static void test_renames(void)
{
	struct bb_label labels[8];
	struct bb_policy pol = bb_xmupdate;
	const struct acm_blocker *b;
	struct bb_loaded l;
	struct result r;
	struct host h;

	/* from= naming no old label */
	memcpy(labels, bb_xmupdate_labels, sizeof(labels));
	labels[1].from = "greenish";
	pol.labels = labels;
	TH_CHECK(bb_load(&pol, &l), "bad-rename policy loads");
	base_host(&h);
	validate(xm.p, l.p, &h, &r);
	b = find_kind(&r, ACM_B_BAD_RENAME);
	TH_CHECK(b && b->new_label == vm(l.p, "GREEN") &&
		 b->old_label == ACM_ROW_NONE, "from=greenish: bad rename");
	TH_CHECK(count_kind(&r, ACM_B_LABEL_IN_USE) == 1,
		 "and green, no longer mapped, is in use");
	bb_unload(&l);

	/* Two labels renamed from one. */
	memcpy(labels, bb_xmupdate_labels, sizeof(labels));
	labels[2].from = "green"; /* red from=green too */
	TH_CHECK(bb_load(&pol, &l), "double-rename policy loads");
	validate(xm.p, l.p, &h, &r);
	b = find_kind(&r, ACM_B_BAD_RENAME);
	TH_CHECK(b && b->old_label == vm(xm.p, "green"),
		 "two labels from one: bad rename");
	bb_unload(&l);

	/* A rename to a name that also existed: the old label of that name
	 * is deleted, not merged.  Old {.. blue, green, red}; new "red"
	 * from="blue": blue -> red, red -> nothing. */
	memcpy(labels, bb_xmupdate_labels, sizeof(labels));
	labels[2].from = "blue";
	TH_CHECK(bb_load(&pol, &l), "rename-onto policy loads");
	validate(xm.p, l.p, &h, &r);
	TH_CHECK(r.row_map[vm(xm.p, "blue")] == vm(l.p, "red") &&
		 r.row_map[vm(xm.p, "red")] == ACM_ROW_NONE,
		 "blue -> red, old red deleted");
	bb_unload(&l);
}

static void test_bootstrap(void)
{
	struct bb_label labels[8];
	struct bb_policy pol = bb_xmupdate;
	struct bb_loaded l;
	struct result r;
	struct host h;

	memcpy(labels, bb_xmupdate_labels, sizeof(labels));
	labels[0].name = "Admin"; /* SystemManagement gone, no from= */
	pol.labels = labels;
	pol.bootstrap = "Admin";
	TH_CHECK(bb_load(&pol, &l), "policy without SystemManagement loads");
	base_host(&h);
	h.doms[h.n_doms++] = (struct acm_domain_ref){
		5, vm(xm.p, "SystemManagement") };
	validate(xm.p, l.p, &h, &r);
	TH_CHECK(r.n == 2 && r.b[0].kind == ACM_B_BOOTSTRAP &&
		 r.b[0].domid == 0 && r.b[1].kind == ACM_B_LABEL_IN_USE &&
		 r.b[1].domid == 5, "dom0's label vanishes: BOOTSTRAP; "
		 "another domain of it: LABEL_IN_USE");
	bb_unload(&l);

	/* Renamed with from=: dom0 keeps a label. */
	labels[0].from = "SystemManagement";
	TH_CHECK(bb_load(&pol, &l), "renamed dom0 label loads");
	validate(xm.p, l.p, &h, &r);
	TH_CHECK(r.n == 0, "dom0's label renamed: fine (%zu)", r.n);
	bb_unload(&l);
}

static void test_limits_and_args(void)
{
	struct acm_blocker b[2];
	acm_row_t row_map[8];
	uint64_t scratch[256];
	size_t n, len;
	struct host h;

	/* Two blockers (blue's label removed, green and red in conflict),
	 * room for one. */
	base_host(&h);
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 2, vm(xm.p, "red") };
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 3, vm(xm.p, "blue") };
	len = acm_update_scratch_size(xm.p, up.p, h.n_doms);
	TH_CHECK(len > 0 && len <= sizeof(scratch), "scratch %zu", len);
	memset(b, 0x5a, sizeof(b));
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, b,
				     1, &n, scratch, len) == ACM_OK &&
		 n == 2 && b[0].kind == ACM_B_LABEL_IN_USE &&
		 b[1].domid == 0x5a5a5a5a, "both counted, 1 written");
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, NULL,
				     0, &n, scratch, len) == ACM_OK && n == 2,
		 "count only");

	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, b,
				     2, &n, scratch, len - 1) == ACM_E_NOMEM,
		 "scratch one byte short");
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, b,
				     2, &n, (uint8_t *)scratch + 4,
				     len) == ACM_E_ARG, "misaligned scratch");
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, NULL, b, 2,
				     &n, scratch, len) == ACM_E_ARG,
		 "no row map");
	TH_CHECK(acm_update_validate(xm.p, up.p, NULL, 1, NULL, 0, NULL, 0,
				     row_map, b, 2, &n, scratch, len) ==
		 ACM_E_ARG, "NULL domain list");
	h.doms[1].domid = 0;
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, b,
				     2, &n, scratch, len) == ACM_E_STATE,
		 "two domains with one domid");
	h.doms[1].domid = 1;
	h.doms[1].label = res(xm.p, "green");
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, b,
				     2, &n, scratch, len) == ACM_E_NOLABEL,
		 "a domain with a resource label");
	h.doms[1].label = vm(xm.p, "green");
	h.res[0].resource = vm(xm.p, "green");
	TH_CHECK(acm_update_validate(xm.p, up.p, h.doms, h.n_doms, h.shares,
				     h.n_shares, h.res, h.n_res, row_map, b,
				     2, &n, scratch, len) == ACM_E_NOLABEL,
		 "a resource with a VM label");
}

/* Adopting the update: counters rebuilt, history carried by type name. */
static void test_adopt(void)
{
	struct acm_domain_ref doms[2];
	struct acm_ctx *old_ctx, *new_ctx;
	struct acm_verdict v;
	struct result r;
	struct host h;

	old_ctx = bb_ctx(xm.p, 16, true);
	acm_domain_create_prepare(old_ctx, vm(xm.p, "SystemManagement"), &v);
	acm_domain_create_prepare(old_ctx, vm(xm.p, "blue"), &v);
	acm_domain_destroy(old_ctx, vm(xm.p, "blue")); /* history: red */
	acm_domain_create_prepare(old_ctx, vm(xm.p, "green"), &v);
	TH_CHECK(v.decision == ACM_PERMIT, "green runs on the old policy");
	acm_ctx_invalidate(old_ctx);

	base_host(&h);
	validate(xm.p, up.p, &h, &r);
	TH_CHECK(r.n == 0, "update valid");
	for (size_t i = 0; i < 2; i++)
		doms[i] = (struct acm_domain_ref){
			h.doms[i].domid, r.row_map[h.doms[i].label] };
	new_ctx = bb_ctx(up.p, 16, true);
	TH_CHECK(acm_update_adopt(new_ctx, old_ctx, doms, 2) == ACM_OK,
		 "adopt");
	TH_CHECK(acm_ctx_generation(new_ctx) ==
		 acm_ctx_generation(old_ctx) + 1, "generation old + 1");
	TH_CHECK(acm_cw_running(new_ctx, cw_type(up.p, "GREEN")) == 1 &&
		 acm_cw_running(new_ctx, cw_type(up.p, "SystemManagement")) ==
		 1 && acm_cw_running(new_ctx, cw_type(up.p, "red")) == 0,
		 "GREEN and SystemManagement running once");
	acm_domain_create_prepare(new_ctx, vm(up.p, "red"), &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_CHWALL_CONFLICT,
		 "red conflicts with running GREEN");
	acm_domain_create_prepare(new_ctx, vm(up.p, "GREEN"), &v);
	TH_CHECK(v.decision == ACM_PERMIT, "GREEN co-runs");
	acm_domain_create_rollback(new_ctx, vm(up.p, "GREEN"));

	/* History: red was excluded by blue under the old policy; GREEN's
	 * running excludes red now too.  Stop GREEN: red stays excluded. */
	acm_domain_destroy(new_ctx, vm(up.p, "GREEN"));
	acm_domain_create_prepare(new_ctx, vm(up.p, "red"), &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_CHWALL_HISTORY,
		 "red refused by the carried history");

	doms[1].label = 77;
	TH_CHECK(acm_update_adopt(new_ctx, old_ctx, doms, 2) == ACM_E_NOLABEL,
		 "adopt with a bad row");
	TH_CHECK(acm_update_adopt(new_ctx, NULL, doms, 2) == ACM_E_ARG,
		 "adopt without old");
	free(new_ctx);
	free(old_ctx);
}

/* ------------------------------------------------------------ relabel */

static void relabel(const struct acm_ctx *ctx, const struct host *h,
		    uint32_t domid, acm_row_t label, struct result *r)
{
	const struct acm_policy *p = acm_ctx_policy(ctx);
	size_t len = acm_update_scratch_size(p, p, h->n_doms);
	void *scratch = bb_xmalloc(len);

	memset(r, 0, sizeof(*r));
	r->err = acm_relabel_validate(ctx, h->doms, h->n_doms, h->shares,
				      h->n_shares, h->res, h->n_res, domid,
				      label, r->b, MAXB, &r->n, scratch, len);
	free(scratch);
}

static void relabel_host(struct host *h, struct acm_ctx *ctx)
{
	struct acm_verdict v;

	base_host(h);
	h->doms[h->n_doms++] = (struct acm_domain_ref){ 2, vm(xm.p, "blue") };
	h->doms[h->n_doms++] = (struct acm_domain_ref){ 3, vm(xm.p, "green") };
	h->shares[h->n_shares++] = (struct acm_share_ref){
		1, 3, ACM_HOOK_GNT_MAP_WRITE };
	h->shares[h->n_shares++] = (struct acm_share_ref){
		0, 2, ACM_HOOK_EVTCHN_UNBOUND };
	for (size_t i = 0; i < h->n_doms; i++) {
		acm_domain_create_prepare(ctx, h->doms[i].label, &v);
		TH_CHECK(v.decision == ACM_PERMIT, "relabel host: dom %u runs",
			 h->doms[i].domid);
	}
}

static void test_relabel(void)
{
	struct acm_ctx *ctx = bb_ctx(xm.p, 16, false), *hist;
	acm_row_t green = vm(xm.p, "green"), red = vm(xm.p, "red");
	acm_row_t sm = vm(xm.p, "SystemManagement"), blue = vm(xm.p, "blue");
	const struct acm_blocker *b;
	struct acm_verdict v;
	struct result r;
	struct host h;
	uint64_t gen;

	relabel_host(&h, ctx);
	/* green -> red while blue runs, green talks to green and uses the
	 * green disk: everything breaks. */
	relabel(ctx, &h, 1, red, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 3 &&
		 count_kind(&r, ACM_B_CHWALL_CONFLICT) == 1 &&
		 count_kind(&r, ACM_B_SHARING) == 1 &&
		 count_kind(&r, ACM_B_RESOURCE) == 1,
		 "dom1 green -> red: a conflict, a share, a resource (%zu)",
		 r.n);
	b = find_kind(&r, ACM_B_SHARING);
	TH_CHECK(b && b->domid == 1 && b->peer_domid == 3 &&
		 b->hook == ACM_HOOK_GNT_MAP_WRITE, "the grant to dom3");
	b = find_kind(&r, ACM_B_CHWALL_CONFLICT);
	TH_CHECK(b && b->domid == 1 && b->peer_domid == 2 &&
		 b->type_a == cw_type(xm.p, "red") &&
		 b->type_b == cw_type(xm.p, "blue") && b->old_label == green &&
		 b->new_label == red, "red vs running blue");

	/* green -> SystemManagement: wider, breaks nothing. */
	relabel(ctx, &h, 1, sm, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 0,
		 "dom1 green -> SystemManagement: fine (%zu)", r.n);
	gen = acm_ctx_generation(ctx);
	acm_relabel_apply(ctx, green, sm);
	TH_CHECK(acm_ctx_generation(ctx) == gen + 1 &&
		 acm_cw_running(ctx, cw_type(xm.p, "SystemManagement")) == 2 &&
		 acm_cw_running(ctx, cw_type(xm.p, "green")) == 1,
		 "applied: SystemManagement 2, green 1");

	relabel(ctx, &h, 7, sm, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 1 &&
		 r.b[0].kind == ACM_B_DOMAIN_UNKNOWN && r.b[0].domid == 7,
		 "unknown domid");
	relabel(ctx, &h, 1, res(xm.p, "green"), &r);
	TH_CHECK(r.err == ACM_E_NOLABEL, "a resource label for a domain");
	free(ctx);

	/* Historical: blue has run in dom2, so dom2 may never hold red,
	 * even with nobody else running blue. */
	hist = bb_ctx(xm.p, 0, true);
	memset(&h, 0, sizeof(h));
	h.doms[h.n_doms++] = (struct acm_domain_ref){ 2, blue };
	acm_domain_create_prepare(hist, blue, &v);
	relabel(hist, &h, 2, red, &r);
	TH_CHECK(r.n == 1 && r.b[0].kind == ACM_B_CHWALL_CONFLICT &&
		 r.b[0].type_a == cw_type(xm.p, "red") &&
		 r.b[0].peer_domid == UINT32_MAX,
		 "historical: blue -> red refused");
	acm_relabel_apply(hist, blue, green);
	acm_domain_create_prepare(hist, red, &v);
	TH_CHECK(v.decision == ACM_DENY && v.reason == ACM_R_CHWALL_HISTORY,
		 "after blue -> green, red stays excluded");
	acm_domain_create_prepare(hist, blue, &v);
	TH_CHECK(v.decision == ACM_PERMIT, "blue may run again");
	free(hist);
}

/* dom0's new label must hold every STE type of every running domain. */
static void test_relabel_dom0(void)
{
	struct acm_ctx *ctx = bb_ctx(xm.p, 16, false);
	acm_row_t sm = vm(xm.p, "SystemManagement");
	struct result r;
	struct host h;

	relabel_host(&h, ctx); /* dom0 SM, green@1, blue@2, green@3 */
	relabel(ctx, &h, 0, vm(xm.p, "green"), &r);
	TH_CHECK(r.err == ACM_OK && count_kind(&r, ACM_B_BOOTSTRAP) == 1 &&
		 r.b[0].kind == ACM_B_BOOTSTRAP && r.b[0].domid == 0 &&
		 r.b[0].peer_domid == 2 && r.b[0].old_label == sm &&
		 r.b[0].new_label == vm(xm.p, "green") &&
		 strcmp(acm_ste_type_name(xm.p, r.b[0].type_a), "blue") == 0,
		 "dom0 SystemManagement -> green: blue@2 not covered");
	/* The same label for another domain is no such matter. */
	relabel(ctx, &h, 3, vm(xm.p, "green"), &r);
	TH_CHECK(r.err == ACM_OK && count_kind(&r, ACM_B_BOOTSTRAP) == 0,
		 "dom3 green -> green: no bootstrap blocker");
	/* Covering everything (its own label) is fine. */
	relabel(ctx, &h, 0, sm, &r);
	TH_CHECK(r.err == ACM_OK && r.n == 0, "dom0 keeps its label (%zu)",
		 r.n);
	/* Two domains it would not cover: one blocker each. */
	h.doms[2].label = vm(xm.p, "red");
	relabel(ctx, &h, 0, vm(xm.p, "blue"), &r);
	TH_CHECK(r.err == ACM_OK && count_kind(&r, ACM_B_BOOTSTRAP) == 3,
		 "dom0 -> blue with green@1, red@2, green@3: 3 (%zu)",
		 count_kind(&r, ACM_B_BOOTSTRAP));
	free(ctx);
}

int main(void)
{
	if (!bb_load(&bb_xmtest, &xm) || !bb_load(&bb_xmupdate, &up)) {
		TH_CHECK(false, "xm-test policies load");
		return th_done();
	}
	test_renames_ok();
	test_state_blockers();
	test_share_loses_type();
	test_versions();
	test_default_shape();
	test_renames();
	test_bootstrap();
	test_limits_and_args();
	test_adopt();
	test_relabel();
	test_relabel_dom0();
	bb_unload(&xm);
	bb_unload(&up);
	return th_done();
}
