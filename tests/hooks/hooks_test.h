/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hooks_test.h - what the hooks/ tests share: policies compiled from XML at
 * test time with libpolc (the same compiler the build uses), a hooks state
 * on a fake clock, calling any hook by id, and the multi-tenant host.
 *
 * Header-only, all static: include it in one test file.
 */
#ifndef HVSEC_TESTS_HOOKS_TEST_H
#define HVSEC_TESTS_HOOKS_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks.h"
#include "policy-compiler/polc.h"
#include "tests/harness.h"

#define HT_UNUSED __attribute__((unused))

/* ------------------------------------------------------------ policies */

struct ht_blob {
	uint8_t *data;
	size_t len;
};

/* Compiles XML text; exits the test (a failure) if it does not compile. */
static HT_UNUSED struct ht_blob ht_compile_mem(const char *xml,
					       const char *name)
{
	struct polc_diags d = {0};
	struct polc_policy p = {0};
	struct ht_blob b = {NULL, 0};
	bool ok;

	ok = polc_parse_xml_mem(xml, strlen(xml), name, NULL, &p, &d) == 0 &&
	     polc_check(&p, NULL, &d) == 0 &&
	     polc_emit(&p, &b.data, &b.len, &d) == 0;
	if (!ok) {
		polc_diags_print(&d, stderr);
		TH_CHECK(false, "policy %s compiles", name);
		exit(th_done());
	}
	polc_policy_free(&p);
	polc_diags_free(&d);
	return b;
}

/* Compiles a file of the checkout (policies/...). */
static HT_UNUSED struct ht_blob ht_compile_file(const char *rel)
{
	char path[1024];
	struct ht_blob b;
	uint8_t *xml;
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/%s", th_src_dir(), rel);
	xml = th_read_file(path, &len);
	text = malloc(len + 1);
	if (!text)
		exit(2);
	memcpy(text, xml, len);
	text[len] = '\0';
	b = ht_compile_mem(text, rel);
	free(text);
	free(xml);
	return b;
}

static HT_UNUSED void ht_blob_free(struct ht_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* ------------------------------------------------------------ fake clock */

/* Real time 2025-01-01T00:00:00Z plus ht_clock_ns; monotonic ht_clock_ns. */
static uint64_t ht_clock_ns = 1000;

static HT_UNUSED int ht_clock(clockid_t id, struct timespec *ts)
{
	uint64_t t = ht_clock_ns;

	if (id == CLOCK_REALTIME)
		t += 1735689600ull * 1000000000ull;
	ts->tv_sec = (time_t)(t / 1000000000u);
	ts->tv_nsec = (long)(t % 1000000000u);
	return 0;
}

static HT_UNUSED struct hooks_state *ht_state(const struct hooks_config *in)
{
	struct hooks_config cfg = {0};
	struct hooks_state *hs = NULL;
	int rc;

	if (in)
		cfg = *in;
	if (!cfg.clock)
		cfg.clock = ht_clock;
	rc = hooks_state_new(&hs, &cfg);
	if (!TH_CHECK(rc == 0 && hs, "hooks_state_new: %d", rc))
		exit(th_done());
	return hs;
}

static HT_UNUSED void ht_load(struct hooks_state *hs, const struct ht_blob *b)
{
	struct hooks_report rep = {0};
	int rc = hooks_policy_load(hs, b->data, b->len, &rep);

	if (!TH_CHECK(rc == 0, "load: %d %s", rc, rep.message))
		exit(th_done());
	hooks_report_release(&rep);
}

/* ------------------------------------------------------------ calling */

#define HT_CALL_create(n)    hooks_##n(hs, a)
#define HT_CALL_destroy(n)   hooks_##n(hs, a)
#define HT_CALL_share(n)     hooks_##n(hs, a, b)
#define HT_CALL_resource(n)  hooks_##n(hs, a, r)
#define HT_CALL_authorize(n) hooks_##n(hs, b, a)
#define HT_CALL_introduce(n) hooks_##n(hs, b, a)
#define HT_CALL_none(n)	     hooks_##n(hs, a, b)

/* Any hook by id: `a` the subject, `b` the other domain (peer, host,
 * xenstore), `r` the resource.  Generated from hooks.def, so a new hook
 * is callable here without a change. */
static HT_UNUSED int ht_call(struct hooks_state *hs, enum hooks_id id,
			     const struct hooks_subject *a,
			     const struct hooks_subject *b,
			     const struct hooks_resource *r)
{
	(void)a;
	(void)b;
	(void)r;
	switch (id) {
#define HOOK(name, kind, acm_hook, dflt)                                       \
	case HOOKS_ID_##name:                                                  \
		return HT_CALL_##kind(name);
#include "hooks/hooks.def"
#undef HOOK
	case HOOKS_ID__COUNT:
		break;
	}
	return -9999;
}

/* The last record of the ring; false if there is none. */
static HT_UNUSED bool ht_last(const struct hooks_state *hs,
			      struct hooks_audit_record *r)
{
	uint64_t next = hooks_audit_next_seq(hs);

	memset(r, 0, sizeof(*r));
	return next > 1 && hooks_audit_read(hs, next - 1, r, 1) == 1;
}

static HT_UNUSED struct hooks_subject ht_dom(const struct hooks_state *hs,
					     uint32_t domid, const char *label)
{
	struct hooks_subject s = {domid,
				  hooks_label_find(hs, ACM_LABEL_VM, label)};

	return s;
}

static HT_UNUSED acm_row_t ht_res(const struct hooks_state *hs,
				  const char *label)
{
	return hooks_label_find(hs, ACM_LABEL_RESOURCE, label);
}

#endif
