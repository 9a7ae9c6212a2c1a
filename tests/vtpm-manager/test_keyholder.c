/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_keyholder - the manager's key holder (mgrd_kh.c) as a state
 * machine, against a real manager directory, CA and identity and a fake
 * NV counter (so a failing commit can be staged):
 *
 *   - a table of requests in sequence (attach, open, provision, commit,
 *     close, ring closed, domain gone, detach, delete, reset, list) with
 *     the answer each must get, including which error wins;
 *   - what an OPEN hands out: the same key every time, the committed
 *     refs, NEW only when no state is present;
 *   - group commit: N instances' COMMITs in one batch make ONE root
 *     commit (one counter increment) and are all durable (a fresh
 *     mgr_root_open sees them); a bad one among them is refused alone;
 *   - a failed commit: every changing request of the batch answered
 *     STORAGE, then everything but STATUS refused (fail closed);
 *   - export to another manager's identity (single owner: MIGRATED here,
 *     refused again), import there (same key and refs, EXISTS twice);
 *   - certified EKs (what DEEP_QUOTE may bind): not usable after PROVISION
 *     alone, nothing written then (a manager dying there loses nothing:
 *     the instance is NEW again); durable with the first COMMIT, in the
 *     same batch; a failing EK file fails the batch closed; carried by a
 *     bundle and usable at the destination after IMPORT, and after a
 *     restart there;
 *   - the envelope: a malformed one is -EPROTO (the caller exits).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/vtpm-manager/ekgen.h"
#include "vtpm-manager/mgr_ca.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgrd.h"

/* ------------------------------------------------------- fake counter */

struct fake_ctr {
	uint64_t value;
	bool fail_inc;
	unsigned increments;
};

static int fake_read(void *ctx, uint64_t *v, char *why, size_t why_len)
{
	(void)why;
	(void)why_len;
	*v = ((struct fake_ctr *)ctx)->value;
	return 0;
}

static int fake_inc(void *ctx, uint64_t *v, char *why, size_t why_len)
{
	struct fake_ctr *f = ctx;

	if (f->fail_inc) {
		snprintf(why, why_len, "fake: increment fails");
		return -EIO;
	}
	f->increments++;
	*v = ++f->value;
	return 0;
}

static const struct mgr_counter_ops fake_ops = {fake_read, fake_inc};

/* ------------------------------------------------------------ a manager */

struct mgr {
	char dir[64];
	struct mgr_rootdir *rd;
	struct fake_ctr f;
	struct mgr_counter ctr;
	struct mgr_root_keys keys;
	struct mgrd_kh kh;
};

static void rm_dir(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd))
		fprintf(stderr, "cleanup of %s failed\n", d);
}

static bool mgr_start(struct mgr *m, uint8_t seed, struct mgr_ident *ident)
{
	uint8_t rk[MGR_KEY_LEN];
	struct mgr_root root;
	struct mgr_uuid manager;
	struct mgr_ca *ca = NULL;
	char why[512], path[128];

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "/tmp/test_keyholder.XXXXXX");
	if (!mkdtemp(m->dir))
		return false;
	memset(rk, seed, sizeof(rk));
	memset(manager.b, seed, sizeof(manager.b));
	m->ctr = (struct mgr_counter){&fake_ops, &m->f, 0x01800a70u};
	m->f.value = 7;
	mgr_root_derive_keys(rk, &m->keys);
	if (mgr_rootdir_open(&m->rd, m->dir, why, sizeof(why)))
		return false;
	mgr_root_init(&root, &manager, m->ctr.index);
	if (mgr_root_create(m->rd, &m->keys, &m->ctr, &root, why,
			    sizeof(why)) ||
	    mgr_ca_create("test CA", &ca, why, sizeof(why)))
		return false;
	snprintf(path, sizeof(path), "%s/%s", m->dir, MGRD_EKDB_FILE);
	return mgrd_kh_init(&m->kh,
			    &(struct mgrd_kh_config){.dir = m->rd,
						     .ekdb_path = path,
						     .keys = &m->keys,
						     .counter = &m->ctr,
						     .root = &root,
						     .ca = ca,
						     .ident = ident,
						     .pcr_mask = 0x95},
			    why, sizeof(why)) == 0;
}

static void mgr_stop(struct mgr *m)
{
	mgrd_kh_fini(&m->kh);
	mgr_rootdir_close(m->rd);
	rm_dir(m->dir);
}

/* ------------------------------------------------------------- calls */

static uint8_t inbuf[64][MGRD_ENV_MAX], outbuf[64][MGRD_ENV_MAX];
static struct mgr_rsp R; /* the last answer; borrows outbuf[0] */

static size_t wrap(enum mgr_channel ch, uint32_t peer, const struct mgr_req *q,
		   uint64_t id, uint8_t *out)
{
	static uint8_t req[MGR_CTL_MSG_MAX];
	size_t n = mgr_req_encode(q, req, sizeof(req));

	if (!n)
		return 0;
	return mgrd_env_encode(&(struct mgrd_env){.kind = MGRD_ENV_REQUEST,
						  .channel = ch,
						  .peer = peer,
						  .id = id,
						  .data = req,
						  .len = (uint32_t)n},
			       out, MGRD_ENV_MAX);
}

static enum mgr_rc call(struct mgrd_kh *kh, enum mgr_channel ch, uint32_t peer,
			const struct mgr_req *q)
{
	struct mgrd_kh_msg m = {inbuf[0], 0, outbuf[0], 0};
	struct mgrd_env e;
	char why[256];

	m.in_len = wrap(ch, peer, q, 42, inbuf[0]);
	if (!TH_CHECK(m.in_len, "encode op 0x%x", q->op))
		return MGR_RC_COUNT_;
	if (!TH_CHECK(mgrd_kh_batch(kh, &m, 1, why, sizeof(why)) == 0,
		      "batch: %s", why))
		return MGR_RC_COUNT_;
	if (!TH_CHECK(mgrd_env_decode(outbuf[0], m.out_len, &e, why,
				      sizeof(why)) == 0 &&
			      e.kind == MGRD_ENV_RESPONSE && e.id == 42,
		      "answer envelope: %s", why))
		return MGR_RC_COUNT_;
	memset(&R, 0, sizeof(R));
	R.op = q->op;
	if (!TH_CHECK(mgr_rsp_parse(ch, e.data, e.len, &R, why, sizeof(why)) ==
			      MGR_RC_OK,
		      "answer to op 0x%x parses: %s", q->op, why))
		return MGR_RC_COUNT_;
	return R.rc;
}

/* ----------------------------------------------------- the sequence */

static struct mgr_uuid U[3], D[3];
static uint8_t ek_rsa[600], ek_ecc[600], ek_bad[600];
static size_t ek_rsa_len, ek_ecc_len, ek_bad_len;

enum { EV_CLOSED = 0x900, EV_GONE = 0x901 };

struct step {
	const char *name;
	uint32_t op;   /* MGR_OP_*, MGR_CTL_*, EV_* */
	uint32_t peer; /* instance channel: the ring's domain */
	int inst, dom;
	const char *label;
	bool create;
	uint32_t stub;
	enum mgr_state_name sname;
	uint64_t gen;
	bool present;
	enum mgr_rc want;
	int detail; /* OPEN: status; ATTACH: 1 created, 2 not; 0 unchecked */
	const char *msg; /* substring of the refusal */
};

#define A(n, i, d, l, c, s, w, det, m)                                         \
	{                                                                      \
		n, MGR_CTL_ATTACH, 0, i, d, l, c, s, 0, 0, false, w, det, m    \
	}
#define O(n, p, i, w, det, m)                                                  \
	{                                                                      \
		n, MGR_OP_OPEN, p, i, 0, NULL, false, 0, 0, 0, false, w, det,  \
			m                                                      \
	}
#define C(n, p, nm, g, pr, w, m)                                               \
	{                                                                      \
		n, MGR_OP_COMMIT, p, 0, 0, NULL, false, 0, nm, g, pr, w, 0, m  \
	}
#define P(n, p, bad, w, m)                                                     \
	{                                                                      \
		n, MGR_OP_PROVISION, p, bad, 0, NULL, false, 0, 0, 0, false,   \
			w, 0, m                                                \
	}
#define T(n, op, i, w, m)                                                      \
	{                                                                      \
		n, op, 0, i, 0, NULL, false, 0, 0, 0, false, w, 0, m           \
	}
#define E(n, ev, p)                                                            \
	{                                                                      \
		n, ev, p, 0, 0, NULL, false, 0, 0, 0, false, 0, 0, NULL        \
	}
#define CL(n, p, w, m)                                                         \
	{                                                                      \
		n, MGR_OP_CLOSE, p, 0, 0, NULL, false, 0, 0, 0, false, w, 0, m \
	}

static const struct step seq[] = {
	O("OPEN before any ATTACH", 5, 0, MGR_RC_DENIED, 0,
	  "domain 5 is not attached"),
	A("ATTACH create=0 of an unknown instance", 0, 0, "guest_a", false, 5,
	  MGR_RC_NOT_FOUND, 0, "create=0"),
	A("ATTACH stub 0", 0, 0, "guest_a", true, 0, MGR_RC_MALFORMED, 0,
	  "stub_domid 0"),
	A("ATTACH create=1", 0, 0, "guest_a", true, 5, MGR_RC_OK, 1, NULL),
	A("ATTACH again, same binding and stub", 0, 0, "guest_a", true, 5,
	  MGR_RC_OK, 2, NULL),
	A("ATTACH with another domain uuid", 0, 1, "guest_a", true, 5,
	  MGR_RC_BINDING, 0, "domain uuid"),
	A("ATTACH with another label", 0, 0, "guest_b", true, 5, MGR_RC_BINDING,
	  0, "label \"guest_b\""),
	/* The binding is checked before the stub: it names the record. */
	A("ATTACH other label AND other stub: binding wins", 0, 0, "x", true, 6,
	  MGR_RC_BINDING, 0, "label"),
	A("ATTACH to another stub while attached", 0, 0, "guest_a", true, 6,
	  MGR_RC_EXISTS, 0, "attached to stub domain 5"),
	A("ATTACH another instance to the same stub", 1, 1, "guest_b", true, 5,
	  MGR_RC_EXISTS, 0, "stub domain 5 serves"),
	O("OPEN from another domain", 6, 0, MGR_RC_DENIED, 0,
	  "domain 6 is not attached"),
	O("OPEN of another uuid from the stub", 5, 1, MGR_RC_DENIED, 0, NULL),
	C("COMMIT before OPEN", 5, MGR_STATE_PERMALL, 1, true, MGR_RC_DENIED,
	  "no instance open"),
	P("PROVISION before OPEN", 5, 0, MGR_RC_DENIED, "no instance open"),
	O("OPEN", 5, 0, MGR_RC_OK, MGR_OPEN_NEW, NULL),
	O("OPEN twice", 5, 0, MGR_RC_BUSY, 0, "already open"),
	P("PROVISION of a non-template EK", 5, 1, MGR_RC_DENIED,
	  "objectAttributes"),
	P("PROVISION", 5, 0, MGR_RC_OK, NULL),
	C("COMMIT generation 2 first", 5, MGR_STATE_PERMALL, 2, true,
	  MGR_RC_GENERATION, "expected 1"),
	C("COMMIT permall 1", 5, MGR_STATE_PERMALL, 1, true, MGR_RC_OK, NULL),
	P("PROVISION after a COMMIT", 5, 0, MGR_RC_STATE,
	  "before the first COMMIT"),
	C("COMMIT permall 1 replayed", 5, MGR_STATE_PERMALL, 1, true,
	  MGR_RC_GENERATION, "committed 1"),
	C("COMMIT volatilestate 1", 5, MGR_STATE_VOLATILE, 1, true, MGR_RC_OK,
	  NULL),
	C("COMMIT permall 2", 5, MGR_STATE_PERMALL, 2, true, MGR_RC_OK, NULL),
	C("COMMIT from a domain with nothing open", 6, MGR_STATE_PERMALL, 3,
	  true, MGR_RC_DENIED, NULL),
	T("DELETE while attached", MGR_CTL_DELETE, 0, MGR_RC_BUSY,
	  "attached to stub domain 5 and open"),
	T("RESET while attached", MGR_CTL_RESET, 0, MGR_RC_BUSY, NULL),
	CL("CLOSE", 5, MGR_RC_OK, NULL),
	CL("CLOSE twice", 5, MGR_RC_DENIED, NULL),
	O("OPEN after CLOSE", 5, 0, MGR_RC_OK, MGR_OPEN_EXISTING, NULL),
	E("the ring of domain 5 closes", EV_CLOSED, 5),
	O("OPEN after the ring closed", 5, 0, MGR_RC_OK, MGR_OPEN_EXISTING,
	  NULL),
	T("DETACH", MGR_CTL_DETACH, 0, MGR_RC_OK, NULL),
	T("DETACH of an unknown instance", MGR_CTL_DETACH, 2, MGR_RC_NOT_FOUND,
	  NULL),
	O("OPEN after DETACH", 5, 0, MGR_RC_DENIED, 0, NULL),
	C("COMMIT after DETACH", 5, MGR_STATE_PERMALL, 3, true, MGR_RC_DENIED,
	  NULL),
	T("RESET", MGR_CTL_RESET, 0, MGR_RC_OK, NULL),
	A("ATTACH to stub 7 (create=0)", 0, 0, "guest_a", false, 7, MGR_RC_OK,
	  2, NULL),
	O("OPEN after RESET: NEW", 7, 0, MGR_RC_OK, MGR_OPEN_NEW, NULL),
	C("generations survive RESET: 1 is old", 7, MGR_STATE_PERMALL, 1, true,
	  MGR_RC_GENERATION, "expected 3"),
	P("PROVISION after RESET", 7, 0, MGR_RC_OK, NULL),
	C("COMMIT permall 3", 7, MGR_STATE_PERMALL, 3, true, MGR_RC_OK, NULL),
	C("COMMIT removing savestate", 7, MGR_STATE_SAVESTATE, 1, false,
	  MGR_RC_OK, NULL),
	E("domain 7 is gone", EV_GONE, 7),
	O("OPEN from the gone domain's id", 7, 0, MGR_RC_DENIED, 0, NULL),
	A("ATTACH to stub 8", 0, 0, "guest_a", false, 8, MGR_RC_OK, 2, NULL),
	O("OPEN: EXISTING", 8, 0, MGR_RC_OK, MGR_OPEN_EXISTING, NULL),
	T("DETACH", MGR_CTL_DETACH, 0, MGR_RC_OK, NULL),
	T("DELETE", MGR_CTL_DELETE, 0, MGR_RC_OK, NULL),
	T("DELETE twice", MGR_CTL_DELETE, 0, MGR_RC_NOT_FOUND, NULL),
	A("ATTACH create=0 after DELETE", 0, 0, "guest_a", false, 5,
	  MGR_RC_NOT_FOUND, 0, NULL),
	A("ATTACH create=1 after DELETE: a new instance", 0, 0, "guest_a", true,
	  5, MGR_RC_OK, 1, NULL),
	O("its OPEN is NEW", 5, 0, MGR_RC_OK, MGR_OPEN_NEW, NULL),
	C("its generations start again", 5, MGR_STATE_PERMALL, 1, true,
	  MGR_RC_OK, NULL),
};

static void build(const struct step *s, struct mgr_req *q)
{
	memset(q, 0, sizeof(*q));
	q->op = s->op;
	switch (s->op) {
	case MGR_OP_OPEN:
		q->u.open.uuid = U[s->inst];
		break;
	case MGR_OP_COMMIT:
		q->u.commit.name = s->sname;
		q->u.commit.present = s->present;
		q->u.commit.generation = s->gen;
		if (s->present)
			memset(q->u.commit.tag, (int)s->gen, MGR_TAG_LEN);
		break;
	case MGR_OP_PROVISION:
		q->u.provision.count = 2;
		q->u.provision.ek[0] = (struct mgr_ek_item){
			MGR_EK_RSA2048, {ek_rsa, (uint32_t)ek_rsa_len}};
		q->u.provision.ek[1] = (struct mgr_ek_item){
			MGR_EK_ECC_P256,
			s->inst ? (struct mgr_blob_ref){ek_bad,
							(uint32_t)ek_bad_len}
				: (struct mgr_blob_ref){ek_ecc,
							(uint32_t)ek_ecc_len}};
		q->u.provision.info.manufacturer = 0x49424d00;
		q->u.provision.info.firmware_version1 = 0x20191023;
		snprintf(q->u.provision.info.family,
			 sizeof(q->u.provision.info.family), "2.0");
		q->u.provision.info.revision = 164;
		break;
	case MGR_CTL_ATTACH:
		q->u.attach.uuid = U[s->inst];
		q->u.attach.domain = D[s->dom];
		snprintf(q->u.attach.label, sizeof(q->u.attach.label), "%s",
			 s->label);
		q->u.attach.stub_domid = s->stub;
		q->u.attach.create = s->create;
		break;
	case MGR_CTL_DETACH:
	case MGR_CTL_DELETE:
	case MGR_CTL_RESET:
		q->u.target.uuid = U[s->inst];
		break;
	default:
		break;
	}
}

static void peer_event(struct mgrd_kh *kh, uint32_t kind, uint32_t peer)
{
	struct mgrd_kh_msg m = {inbuf[0], 0, outbuf[0], 0};
	char why[128];

	m.in_len =
		mgrd_env_encode(&(struct mgrd_env){.kind = kind, .peer = peer},
				inbuf[0], MGRD_ENV_MAX);
	TH_CHECK(mgrd_kh_batch(kh, &m, 1, why, sizeof(why)) == 0 &&
			 m.out_len == 0,
		 "peer event %u: no answer", kind);
}

static void test_sequence(void)
{
	struct mgr m;
	uint8_t key0[MGR_KEY_LEN];
	bool have_key = false;

	if (!TH_CHECK(mgr_start(&m, 1, NULL), "manager started"))
		return;
	for (size_t i = 0; i < TH_ARRAY_LEN(seq); i++) {
		const struct step *s = &seq[i];
		struct mgr_req q;
		enum mgr_rc rc;
		bool inst = s->op < 0x100;

		if (s->op == EV_CLOSED || s->op == EV_GONE) {
			peer_event(&m.kh,
				   s->op == EV_CLOSED ? MGRD_ENV_CLOSED
						      : MGRD_ENV_GONE,
				   s->peer);
			continue;
		}
		build(s, &q);
		rc = call(&m.kh, inst ? MGR_CH_INSTANCE : MGR_CH_CONTROL,
			  s->peer, &q);
		TH_CHECK(rc == s->want, "step %zu %s: %s (want %s): %s", i,
			 s->name, mgr_rc_str(rc), mgr_rc_str(s->want),
			 R.rc ? R.msg : "");
		if (rc != s->want)
			continue;
		if (s->msg)
			TH_CHECK(strstr(R.msg, s->msg), "step %zu %s: \"%s\"",
				 i, s->name, R.msg);
		if (s->op == MGR_OP_OPEN && s->detail) {
			TH_CHECK((int)R.u.open.status == s->detail,
				 "step %zu %s: status %d", i, s->name,
				 R.u.open.status);
			/* The same instance key at every OPEN, until the
			 * instance is deleted (step "a new instance"). */
			if (!have_key) {
				memcpy(key0, R.u.open.key, MGR_KEY_LEN);
				have_key = true;
			} else if (i < TH_ARRAY_LEN(seq) - 2) {
				TH_CHECK(!memcmp(key0, R.u.open.key,
						 MGR_KEY_LEN),
					 "step %zu: the same key", i);
			} else {
				TH_CHECK(
					memcmp(key0, R.u.open.key, MGR_KEY_LEN),
					"step %zu: a deleted instance's key "
					"is never handed out again",
					i);
			}
		}
		if (s->op == MGR_CTL_ATTACH && s->detail)
			TH_CHECK(R.u.attach.created == (s->detail == 1),
				 "step %zu %s: created %d", i, s->name,
				 R.u.attach.created);
		if (s->op == MGR_OP_PROVISION && s->want == MGR_RC_OK)
			TH_CHECK(R.u.provision.count == 2 &&
					 R.u.provision.cert[0].kind ==
						 MGR_EK_RSA2048 &&
					 R.u.provision.cert[1].data.len > 300,
				 "step %zu: two certificates", i);
	}
	mgr_stop(&m);
}

/* What OPEN EXISTING hands out, LIST and STATUS. */
static void test_refs_list_status(void)
{
	struct mgr m;
	struct mgr_req q;
	enum mgr_rc rc;

	if (!TH_CHECK(mgr_start(&m, 2, NULL), "manager started"))
		return;
	build(&seq[3], &q); /* ATTACH U0 stub 5 create */
	call(&m.kh, MGR_CH_CONTROL, 0, &q);
	build(&(struct step){.op = MGR_OP_OPEN, .inst = 0}, &q);
	call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	build(&(struct step){.op = MGR_OP_PROVISION}, &q);
	call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	build(&(struct step){.op = MGR_OP_COMMIT,
			     .sname = MGR_STATE_PERMALL,
			     .gen = 1,
			     .present = true},
	      &q);
	call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	build(&(struct step){.op = MGR_OP_CLOSE}, &q);
	call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	build(&(struct step){.op = MGR_OP_OPEN, .inst = 0}, &q);
	rc = call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	TH_CHECK(rc == MGR_RC_OK && R.u.open.status == MGR_OPEN_EXISTING &&
			 R.u.open.ref[0].generation == 1 &&
			 R.u.open.ref[0].present &&
			 R.u.open.ref[0].tag[3] == 1 &&
			 !R.u.open.ref[1].present &&
			 R.u.open.ref[1].generation == 0 &&
			 (R.u.open.flags & MGR_INST_F_PROVISIONED),
		 "OPEN EXISTING: refs as committed, PROVISIONED");

	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_LIST;
	rc = call(&m.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK && R.u.list.total == 1 &&
			 R.u.list.count == 1 && R.u.list.next == MGR_NO_DOMID &&
			 R.u.list.entry[0].stub_domid == 5 &&
			 R.u.list.entry[0].open &&
			 !strcmp(R.u.list.entry[0].label, "guest_a") &&
			 R.u.list.entry[0].generation[0] == 1,
		 "LIST: one entry, attached to 5, open, generation 1");
	q.op = MGR_CTL_STATUS;
	rc = call(&m.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK && R.u.status.instances == 1 &&
			 R.u.status.attached == 1 && R.u.status.open == 1 &&
			 R.u.status.commits == 1 &&
			 R.u.status.commit_batches == 2 &&
			 R.u.status.pcr_mask == 0x95 &&
			 R.u.status.counter == m.f.value &&
			 R.u.status.root_generation == m.f.value &&
			 R.u.status.nv_index == 0x01800a70u,
		 "STATUS: 1 instance, attached, open, 1 commit in 2 root "
		 "commits (ATTACH + COMMIT), counter %llu",
		 (unsigned long long)R.u.status.counter);
	/* Ops of the other channel are refused by the parser. */
	rc = call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	TH_CHECK(rc == MGR_RC_UNKNOWN_OP, "STATUS on a ring: %s",
		 mgr_rc_str(rc));
	/* A request from the control socket can never OPEN. */
	build(&(struct step){.op = MGR_OP_OPEN, .inst = 0}, &q);
	rc = call(&m.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_UNKNOWN_OP, "OPEN on the control socket: %s",
		 mgr_rc_str(rc));
	mgr_stop(&m);
}

/* N instances commit in one batch: one root commit. */
static void test_group_commit(void)
{
	enum { N = 8 };
	struct mgrd_kh_msg msgs[N + 1];
	struct mgr m;
	struct mgr_req q;
	struct mgr_root back;
	char why[256];
	unsigned inc0;
	size_t n = 0;

	if (!TH_CHECK(mgr_start(&m, 3, NULL), "manager started"))
		return;
	for (unsigned i = 0; i < N; i++) {
		struct mgr_uuid u = U[0];

		u.b[15] = (uint8_t)(0x40 + i);
		memset(&q, 0, sizeof(q));
		q.op = MGR_CTL_ATTACH;
		q.u.attach.uuid = u;
		q.u.attach.domain = D[0];
		snprintf(q.u.attach.label, sizeof(q.u.attach.label), "g%u", i);
		q.u.attach.stub_domid = 100 + i;
		q.u.attach.create = true;
		call(&m.kh, MGR_CH_CONTROL, 0, &q);
		memset(&q, 0, sizeof(q));
		q.op = MGR_OP_OPEN;
		q.u.open.uuid = u;
		TH_CHECK(call(&m.kh, MGR_CH_INSTANCE, 100 + i, &q) == MGR_RC_OK,
			 "open %u", i);
	}
	inc0 = m.f.increments;
	for (unsigned i = 0; i < N; i++) {
		build(&(struct step){.op = MGR_OP_COMMIT,
				     .sname = MGR_STATE_PERMALL,
				     .gen = 1,
				     .present = true},
		      &q);
		msgs[n] = (struct mgrd_kh_msg){
			inbuf[n],
			wrap(MGR_CH_INSTANCE, 100 + i, &q, 1000 + i, inbuf[n]),
			outbuf[n], 0};
		n++;
	}
	/* A bad one among them: refused alone. */
	build(&(struct step){.op = MGR_OP_COMMIT,
			     .sname = MGR_STATE_PERMALL,
			     .gen = 5,
			     .present = true},
	      &q);
	msgs[n] = (struct mgrd_kh_msg){
		inbuf[n], wrap(MGR_CH_INSTANCE, 100, &q, 2000, inbuf[n]),
		outbuf[n], 0};
	n++;
	TH_CHECK(mgrd_kh_batch(&m.kh, msgs, n, why, sizeof(why)) == 0,
		 "batch: %s", why);
	/* mgr_root_commit: one increment (pending written, incremented,
	 * promoted). */
	TH_CHECK(m.f.increments - inc0 == 1,
		 "%d COMMITs made %u counter increments", N,
		 m.f.increments - inc0);
	for (size_t i = 0; i < n; i++) {
		struct mgrd_env e;
		struct mgr_rsp r;

		memset(&r, 0, sizeof(r));
		r.op = MGR_OP_COMMIT;
		mgrd_env_decode(outbuf[i], msgs[i].out_len, &e, why,
				sizeof(why));
		mgr_rsp_parse(MGR_CH_INSTANCE, e.data, e.len, &r, why,
			      sizeof(why));
		TH_CHECK(
			e.id == (i < N ? 1000 + i : 2000) &&
				r.rc == (i < N ? MGR_RC_OK : MGR_RC_GENERATION),
			"answer %zu: id %llu rc %s", i,
			(unsigned long long)e.id, mgr_rc_str(r.rc));
	}
	TH_CHECK(m.kh.st.commits == N, "stats: %llu commits",
		 (unsigned long long)m.kh.st.commits);
	/* Durable: what a restarted manager recovers. */
	TH_CHECK(mgr_root_recover(m.rd, &m.keys, &m.ctr, &back, NULL, why,
				  sizeof(why)) == MGR_SEAL_OK &&
			 back.count == N,
		 "recovered %u instances: %s", back.count, why);
	for (uint32_t i = 0; i < back.count; i++)
		TH_CHECK(back.inst[i].state[0].generation == 1 &&
				 back.inst[i].state[0].present,
			 "instance %u committed permall 1", i);
	mgr_root_free(&back);
	mgr_stop(&m);
}

/* A failed commit: STORAGE for the batch's changes, then fail closed. */
static void test_commit_failure(void)
{
	struct mgrd_kh_msg msgs[2];
	struct mgr m;
	struct mgr_req q;
	char why[256];
	enum mgr_rc rc;

	if (!TH_CHECK(mgr_start(&m, 4, NULL), "manager started"))
		return;
	build(&seq[3], &q);
	call(&m.kh, MGR_CH_CONTROL, 0, &q);
	build(&(struct step){.op = MGR_OP_OPEN, .inst = 0}, &q);
	call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	m.f.fail_inc = true;
	build(&(struct step){.op = MGR_OP_COMMIT,
			     .sname = MGR_STATE_PERMALL,
			     .gen = 1,
			     .present = true},
	      &q);
	msgs[0] = (struct mgrd_kh_msg){
		inbuf[0], wrap(MGR_CH_INSTANCE, 5, &q, 1, inbuf[0]), outbuf[0],
		0};
	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_STATUS;
	msgs[1] = (struct mgrd_kh_msg){inbuf[1],
				       wrap(MGR_CH_CONTROL, 0, &q, 2, inbuf[1]),
				       outbuf[1], 0};
	TH_CHECK(mgrd_kh_batch(&m.kh, msgs, 2, why, sizeof(why)) == 0, "batch");
	{
		struct mgrd_env e;
		struct mgr_rsp r = {.op = MGR_OP_COMMIT};

		mgrd_env_decode(outbuf[0], msgs[0].out_len, &e, why,
				sizeof(why));
		mgr_rsp_parse(MGR_CH_INSTANCE, e.data, e.len, &r, why,
			      sizeof(why));
		TH_CHECK(r.rc == MGR_RC_STORAGE &&
				 strstr(r.msg, "fake: increment fails"),
			 "the COMMIT of a failed root commit: %s %s",
			 mgr_rc_str(r.rc), r.msg);
		memset(&r, 0, sizeof(r));
		r.op = MGR_CTL_STATUS;
		mgrd_env_decode(outbuf[1], msgs[1].out_len, &e, why,
				sizeof(why));
		mgr_rsp_parse(MGR_CH_CONTROL, e.data, e.len, &r, why,
			      sizeof(why));
		TH_CHECK(r.rc == MGR_RC_OK,
			 "STATUS beside it (changed nothing): %s",
			 mgr_rc_str(r.rc));
	}
	m.f.fail_inc = false;
	build(&(struct step){.op = MGR_OP_COMMIT,
			     .sname = MGR_STATE_PERMALL,
			     .gen = 2,
			     .present = true},
	      &q);
	rc = call(&m.kh, MGR_CH_INSTANCE, 5, &q);
	TH_CHECK(rc == MGR_RC_STORAGE && strstr(R.msg, "restarted"),
		 "later COMMIT refused: %s %s", mgr_rc_str(rc), R.msg);
	build(&seq[3], &q);
	rc = call(&m.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_STORAGE, "later ATTACH refused: %s",
		 mgr_rc_str(rc));
	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_STATUS;
	rc = call(&m.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK, "STATUS still answers: %s", mgr_rc_str(rc));
	mgr_stop(&m);
}

/* EXPORT to another manager, IMPORT there. */
static void test_migration(void)
{
	struct mgr src, dst;
	struct mgr_ident *id_src = NULL, *id_dst = NULL;
	uint8_t spki[MGR_IDENT_SPKI_MAX], fpr[MGR_FPR_LEN], key[MGR_KEY_LEN];
	uint8_t bundle[MGR_BUNDLE_MAX];
	size_t spki_len = 0, blen = 0;
	struct mgr_req q;
	enum mgr_rc rc;
	char why[256];

	if (!TH_CHECK(!mgr_ident_create(&id_src, why, sizeof(why)) &&
			      !mgr_ident_create(&id_dst, why, sizeof(why)),
		      "identities: %s", why))
		return;
	mgr_ident_public(id_dst, spki, sizeof(spki), &spki_len, fpr);
	if (!TH_CHECK(mgr_start(&src, 5, id_src) && mgr_start(&dst, 6, id_dst),
		      "managers started"))
		return;
	build(&seq[3], &q);
	call(&src.kh, MGR_CH_CONTROL, 0, &q);
	build(&(struct step){.op = MGR_OP_OPEN, .inst = 0}, &q);
	call(&src.kh, MGR_CH_INSTANCE, 5, &q);
	memcpy(key, R.u.open.key, MGR_KEY_LEN);
	build(&(struct step){.op = MGR_OP_COMMIT,
			     .sname = MGR_STATE_PERMALL,
			     .gen = 1,
			     .present = true},
	      &q);
	call(&src.kh, MGR_CH_INSTANCE, 5, &q);

	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_EXPORT;
	q.u.export_.uuid = U[0];
	q.u.export_.dest_pubkey =
		(struct mgr_blob_ref){spki, (uint32_t)spki_len};
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_BUSY, "EXPORT while attached: %s",
		 mgr_rc_str(rc));
	build(&(struct step){.op = MGR_CTL_DETACH, .inst = 0}, &q);
	call(&src.kh, MGR_CH_CONTROL, 0, &q);
	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_EXPORT;
	q.u.export_.uuid = U[0];
	q.u.export_.dest_pubkey = (struct mgr_blob_ref){spki, 10};
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_MALFORMED, "EXPORT to a bad key: %s %s",
		 mgr_rc_str(rc), R.msg);
	q.u.export_.dest_pubkey =
		(struct mgr_blob_ref){spki, (uint32_t)spki_len};
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	if (TH_CHECK(rc == MGR_RC_OK && R.u.export_.bundle.len > 0,
		     "EXPORT: %s %s", mgr_rc_str(rc), R.msg)) {
		blen = R.u.export_.bundle.len;
		memcpy(bundle, R.u.export_.bundle.data, blen);
	}
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_MIGRATED, "EXPORT twice: %s", mgr_rc_str(rc));
	build(&seq[3], &q);
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_MIGRATED, "ATTACH of a migrated instance: %s",
		 mgr_rc_str(rc));

	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_IMPORT;
	q.u.import.bundle = (struct mgr_blob_ref){bundle, (uint32_t)blen};
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_CORRUPT, "IMPORT at the source (not for it): %s",
		 mgr_rc_str(rc));
	rc = call(&dst.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK && !memcmp(&R.u.import.uuid, &U[0], 16),
		 "IMPORT: %s %s", mgr_rc_str(rc), R.msg);
	rc = call(&dst.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_EXISTS, "IMPORT twice: %s", mgr_rc_str(rc));
	bundle[blen / 2] ^= 1;
	rc = call(&dst.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_CORRUPT, "IMPORT of a modified bundle: %s",
		 mgr_rc_str(rc));
	build(&seq[3], &q);
	q.u.attach.create = false;
	q.u.attach.stub_domid = 9;
	rc = call(&dst.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK, "ATTACH at the destination: %s",
		 mgr_rc_str(rc));
	build(&(struct step){.op = MGR_OP_OPEN, .inst = 0}, &q);
	rc = call(&dst.kh, MGR_CH_INSTANCE, 9, &q);
	TH_CHECK(rc == MGR_RC_OK && R.u.open.status == MGR_OPEN_EXISTING &&
			 !memcmp(R.u.open.key, key, MGR_KEY_LEN) &&
			 R.u.open.ref[0].generation == 1,
		 "OPEN at the destination: the same key and refs");
	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_IDENTITY;
	rc = call(&dst.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK && R.u.identity.pubkey.len == spki_len &&
			 !memcmp(R.u.identity.pubkey.data, spki, spki_len) &&
			 R.u.identity.ca_cert.len > 100,
		 "IDENTITY: the identity's SPKI and the CA certificate");
	mgr_stop(&src);
	mgr_stop(&dst);
}

/* ------------------------------------------------------- certified EKs */

/* DEEP_QUOTE with no platform TPM: PLATFORM once the EK check passed,
 * DENIED when the EK is not one certified for uuid. */
static enum mgr_rc deep(struct mgrd_kh *kh, int inst, const uint8_t *ek,
			size_t len)
{
	struct mgr_req q;

	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_DEEP_QUOTE;
	q.u.deep_quote.uuid = U[inst];
	q.u.deep_quote.ek_public = (struct mgr_blob_ref){ek, (uint32_t)len};
	q.u.deep_quote.nonce_len = 8;
	q.u.deep_quote.pcr_mask = 0x1;
	return call(kh, MGR_CH_CONTROL, 0, &q);
}

static bool file_exists(const struct mgr *m)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", m->dir, MGRD_EKDB_FILE);
	return access(path, F_OK) == 0;
}

/* The EK file as a restarted key holder reads it: has it uuid's EKs? */
static int durable_eks(const struct mgr *m, int inst)
{
	struct mgrd_ekdb db;
	uint8_t h[8][32];
	char path[128], why[256];
	int n;

	snprintf(path, sizeof(path), "%s/%s", m->dir, MGRD_EKDB_FILE);
	if (mgrd_ekdb_open(&db, path, &m->keys, why, sizeof(why)))
		return -1;
	n = (int)mgrd_ekdb_list(&db, &U[inst], h, 8);
	mgrd_ekdb_close(&db);
	return n;
}

/* ATTACH U[inst] to stub, OPEN (NEW), PROVISION: certificates issued. */
static bool provisioned(struct mgr *m, int inst, uint32_t stub)
{
	struct mgr_req q;

	build(&(struct step){.op = MGR_CTL_ATTACH,
			     .inst = inst,
			     .dom = inst,
			     .label = "guest_ek",
			     .create = true,
			     .stub = stub},
	      &q);
	if (call(&m->kh, MGR_CH_CONTROL, 0, &q) != MGR_RC_OK)
		return false;
	build(&(struct step){.op = MGR_OP_OPEN, .inst = inst}, &q);
	if (call(&m->kh, MGR_CH_INSTANCE, stub, &q) != MGR_RC_OK ||
	    R.u.open.status != MGR_OPEN_NEW)
		return false;
	build(&(struct step){.op = MGR_OP_PROVISION}, &q);
	return call(&m->kh, MGR_CH_INSTANCE, stub, &q) == MGR_RC_OK;
}

static enum mgr_rc commit1(struct mgr *m, uint32_t stub, uint64_t gen)
{
	struct mgr_req q;

	build(&(struct step){.op = MGR_OP_COMMIT,
			     .sname = MGR_STATE_PERMALL,
			     .gen = gen,
			     .present = true},
	      &q);
	return call(&m->kh, MGR_CH_INSTANCE, stub, &q);
}

/* Stop the key holder (a crash: nothing more is written) and start it
 * again on the same directory. */
static bool restart(struct mgr *m, struct mgr_ident *ident)
{
	struct mgr_root root;
	struct mgr_ca *ca = NULL;
	char why[512], path[128];

	if (ident) /* mgrd_kh_fini frees the one it holds */
		m->kh.ident = NULL;
	mgrd_kh_fini(&m->kh);
	if (mgr_root_open(m->rd, &m->keys, &m->ctr, &root, why, sizeof(why)) ||
	    mgr_ca_create("test CA", &ca, why, sizeof(why)))
		return false;
	snprintf(path, sizeof(path), "%s/%s", m->dir, MGRD_EKDB_FILE);
	return mgrd_kh_init(&m->kh,
			    &(struct mgrd_kh_config){.dir = m->rd,
						     .ekdb_path = path,
						     .keys = &m->keys,
						     .counter = &m->ctr,
						     .root = &root,
						     .ca = ca,
						     .ident = ident,
						     .pcr_mask = 0x95},
			    why, sizeof(why)) == 0;
}

static void test_certified_eks(void)
{
	struct mgr m;
	enum mgr_rc rc;

	if (!TH_CHECK(mgr_start(&m, 9, NULL), "manager started"))
		return;
	if (!TH_CHECK(provisioned(&m, 0, 5), "instance 0 provisioned"))
		goto out;
	rc = deep(&m.kh, 0, ek_rsa, ek_rsa_len);
	TH_CHECK(rc == MGR_RC_DENIED && strstr(R.msg, "not an EK"),
		 "DEEP_QUOTE after PROVISION, before the first COMMIT: "
		 "DENIED (%s %s)",
		 mgr_rc_str(rc), R.msg);
	TH_CHECK(!file_exists(&m),
		 "PROVISION alone writes nothing (no durable write of its "
		 "own)");
	/* The manager dies here: the instance was never committed. */
	if (!TH_CHECK(restart(&m, NULL), "restart after PROVISION"))
		goto out;
	TH_CHECK(deep(&m.kh, 0, ek_rsa, ek_rsa_len) == MGR_RC_DENIED,
		 "after the restart: not certified as far as anyone knows");
	if (!TH_CHECK(provisioned(&m, 0, 5),
		      "after the restart: OPEN is NEW, provisioned again"))
		goto out;
	rc = commit1(&m, 5, 1);
	TH_CHECK(rc == MGR_RC_OK, "first COMMIT: %s", mgr_rc_str(rc));
	TH_CHECK(durable_eks(&m, 0) == 2,
		 "the first COMMIT made both EKs durable (%d)",
		 durable_eks(&m, 0));
	rc = deep(&m.kh, 0, ek_rsa, ek_rsa_len);
	TH_CHECK(rc == MGR_RC_PLATFORM && strstr(R.msg, "no platform TPM"),
		 "DEEP_QUOTE of the RSA EK after the COMMIT: past the EK check "
		 "(%s %s)",
		 mgr_rc_str(rc), R.msg);
	TH_CHECK(deep(&m.kh, 0, ek_ecc, ek_ecc_len) == MGR_RC_PLATFORM,
		 "... and of the ECC EK");
	TH_CHECK(deep(&m.kh, 0, ek_bad, ek_bad_len) == MGR_RC_DENIED,
		 "an EK never certified: DENIED");
	TH_CHECK(deep(&m.kh, 1, ek_rsa, ek_rsa_len) == MGR_RC_NOT_FOUND,
		 "another instance's uuid: NOT_FOUND");
	TH_CHECK(commit1(&m, 5, 2) == MGR_RC_OK && durable_eks(&m, 0) == 2,
		 "later COMMITs: the same two EKs");
	if (!TH_CHECK(restart(&m, NULL), "restart after the COMMIT"))
		goto out;
	TH_CHECK(deep(&m.kh, 0, ek_rsa, ek_rsa_len) == MGR_RC_PLATFORM,
		 "after a restart: still certified");

	/* Instance 1: the EK file cannot be written (a directory is in
	 * its way) at its first COMMIT: nothing committed, fail closed. */
	if (!TH_CHECK(provisioned(&m, 1, 6), "instance 1 provisioned"))
		goto out;
	{
		char path[160];
		unsigned inc0 = m.f.increments;

		snprintf(path, sizeof(path), "%s/%s.tmp", m.dir,
			 MGRD_EKDB_FILE);
		TH_CHECK(mkdir(path, 0700) == 0, "block %s", path);
		rc = commit1(&m, 6, 1);
		TH_CHECK(rc == MGR_RC_STORAGE &&
				 strstr(R.msg, "certified EKs not stored"),
			 "COMMIT with the EK file failing: STORAGE (%s %s)",
			 mgr_rc_str(rc), R.msg);
		TH_CHECK(m.f.increments == inc0,
			 "no root commit after the EK file failed");
		TH_CHECK(deep(&m.kh, 0, ek_rsa, ek_rsa_len) == MGR_RC_STORAGE,
			 "then everything is refused (fail closed)");
		rmdir(path);
	}
	if (!TH_CHECK(restart(&m, NULL), "restart after the failure"))
		goto out;
	TH_CHECK(durable_eks(&m, 1) == 0 &&
			 deep(&m.kh, 1, ek_rsa, ek_rsa_len) == MGR_RC_DENIED,
		 "instance 1: no EKs certified");
	TH_CHECK(provisioned(&m, 1, 6) && commit1(&m, 6, 1) == MGR_RC_OK &&
			 durable_eks(&m, 1) == 2,
		 "instance 1: NEW again, provisioned, committed");
out:
	mgr_stop(&m);
}

/* mgrd_ekdb on its own: put/flush, a failed flush drops what it did not
 * write, a failed forget is written by the next flush. */
static void test_ekdb(void)
{
	struct mgr m;
	struct mgrd_ekdb *db;
	uint8_t h[3][32];
	char tmp[160], why[256];
	int rc;

	if (!TH_CHECK(mgr_start(&m, 12, NULL), "manager started"))
		return;
	db = &m.kh.ekdb;
	memset(h, 0, sizeof(h));
	for (int i = 0; i < 3; i++)
		h[i][0] = (uint8_t)(0x10 + i);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", m.dir, MGRD_EKDB_FILE);
	TH_CHECK(mgrd_ekdb_put(db, &U[0], h[0], why, sizeof(why)) == 0 &&
			 mgrd_ekdb_put(db, &U[0], h[0], why, sizeof(why)) ==
				 0 &&
			 db->count == 1 && !file_exists(&m),
		 "put: in memory only, once");
	mkdir(tmp, 0700);
	rc = mgrd_ekdb_flush(db, false, why, sizeof(why));
	TH_CHECK(rc < 0 && strstr(why, "writing") && db->count == 0 &&
			 !mgrd_ekdb_has(db, &U[0], h[0]),
		 "a failed flush: an error naming the write, the unwritten "
		 "entry gone from memory too (%s)",
		 why);
	rmdir(tmp);
	TH_CHECK(mgrd_ekdb_put(db, &U[0], h[1], why, sizeof(why)) == 0 &&
			 mgrd_ekdb_put(db, &U[1], h[2], why, sizeof(why)) ==
				 0 &&
			 mgrd_ekdb_flush(db, true, why, sizeof(why)) == 0 &&
			 durable_eks(&m, 0) == 1 && durable_eks(&m, 1) == 1,
		 "flush: both written (%s)", why);
	{
		uint8_t out[4][32];

		TH_CHECK(mgrd_ekdb_list(db, &U[0], out, 4) == 1 &&
				 !memcmp(out[0], h[1], 32) &&
				 mgrd_ekdb_list(db, &U[1], out, 0) == 0,
			 "list: uuid's entries, at most max");
	}
	mkdir(tmp, 0700);
	rc = mgrd_ekdb_forget(db, &U[0], why, sizeof(why));
	TH_CHECK(rc < 0 && !mgrd_ekdb_has(db, &U[0], h[1]) &&
			 durable_eks(&m, 0) == 1,
		 "a failed forget: gone from memory, still in the file");
	rmdir(tmp);
	TH_CHECK(mgrd_ekdb_flush(db, true, why, sizeof(why)) == 0 &&
			 durable_eks(&m, 0) == 0 && durable_eks(&m, 1) == 1,
		 "the next flush writes the forget (%s)", why);
	mgr_stop(&m);
}

/* The certified EKs travel with the bundle. */
static void test_migrated_eks(void)
{
	struct mgr src, dst;
	struct mgr_ident *id_src = NULL, *id_dst = NULL;
	uint8_t spki[MGR_IDENT_SPKI_MAX], fpr[MGR_FPR_LEN];
	uint8_t bundle[MGR_BUNDLE_MAX];
	size_t spki_len = 0, blen = 0;
	struct mgr_req q;
	enum mgr_rc rc;
	char why[256];

	if (!TH_CHECK(!mgr_ident_create(&id_src, why, sizeof(why)) &&
			      !mgr_ident_create(&id_dst, why, sizeof(why)),
		      "identities: %s", why))
		return;
	mgr_ident_public(id_dst, spki, sizeof(spki), &spki_len, fpr);
	if (!TH_CHECK(mgr_start(&src, 10, id_src) &&
			      mgr_start(&dst, 11, id_dst),
		      "managers started"))
		return;
	if (!TH_CHECK(provisioned(&src, 0, 5) && commit1(&src, 5, 1) == 0,
		      "source: provisioned and committed"))
		goto out;
	build(&(struct step){.op = MGR_CTL_DETACH, .inst = 0}, &q);
	call(&src.kh, MGR_CH_CONTROL, 0, &q);
	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_EXPORT;
	q.u.export_.uuid = U[0];
	q.u.export_.dest_pubkey =
		(struct mgr_blob_ref){spki, (uint32_t)spki_len};
	rc = call(&src.kh, MGR_CH_CONTROL, 0, &q);
	if (!TH_CHECK(rc == MGR_RC_OK, "EXPORT: %s %s", mgr_rc_str(rc), R.msg))
		goto out;
	blen = R.u.export_.bundle.len;
	memcpy(bundle, R.u.export_.bundle.data, blen);
	TH_CHECK(deep(&src.kh, 0, ek_rsa, ek_rsa_len) == MGR_RC_DENIED,
		 "source after EXPORT: its EKs forgotten there");
	{
		struct mgr_bundle_info info;

		TH_CHECK(mgr_bundle_open(id_dst, bundle, blen, NULL, 0, &info,
					 why, sizeof(why)) == MGR_SEAL_OK &&
				 info.version == 2 && info.ek_count == 2,
			 "the bundle: version 2, two EK digests (%s)", why);
		OPENSSL_cleanse(&info, sizeof(info));
	}
	TH_CHECK(deep(&dst.kh, 0, ek_rsa, ek_rsa_len) == MGR_RC_NOT_FOUND,
		 "destination before IMPORT: NOT_FOUND");
	memset(&q, 0, sizeof(q));
	q.op = MGR_CTL_IMPORT;
	q.u.import.bundle = (struct mgr_blob_ref){bundle, (uint32_t)blen};
	rc = call(&dst.kh, MGR_CH_CONTROL, 0, &q);
	TH_CHECK(rc == MGR_RC_OK, "IMPORT: %s %s", mgr_rc_str(rc), R.msg);
	TH_CHECK(deep(&dst.kh, 0, ek_rsa, ek_rsa_len) == MGR_RC_PLATFORM &&
			 deep(&dst.kh, 0, ek_ecc, ek_ecc_len) ==
				 MGR_RC_PLATFORM,
		 "destination after IMPORT: both EKs past the EK check");
	TH_CHECK(deep(&dst.kh, 0, ek_bad, ek_bad_len) == MGR_RC_DENIED,
		 "destination: an EK the source never certified: DENIED");
	TH_CHECK(durable_eks(&dst, 0) == 2, "destination: durable with the "
					    "IMPORT's commit");
	if (TH_CHECK(restart(&dst, id_dst), "destination restarted"))
		TH_CHECK(deep(&dst.kh, 0, ek_rsa, ek_rsa_len) ==
				 MGR_RC_PLATFORM,
			 "destination after a restart: still certified");
out:
	mgr_stop(&src);
	mgr_stop(&dst);
}

static void test_envelope(void)
{
	struct mgr m;
	struct mgrd_kh_msg msg = {inbuf[0], 0, outbuf[0], 0};
	char why[128] = "";

	if (!TH_CHECK(mgr_start(&m, 8, NULL), "manager started"))
		return;
	memset(inbuf[0], 0, MGRD_ENV_HDR_LEN);
	msg.in_len = MGRD_ENV_HDR_LEN;
	TH_CHECK(mgrd_kh_batch(&m.kh, &msg, 1, why, sizeof(why)) == -EPROTO &&
			 strstr(why, "magic"),
		 "bad magic: %s", why);
	msg.in_len =
		mgrd_env_encode(&(struct mgrd_env){.kind = MGRD_ENV_RESPONSE},
				inbuf[0], MGRD_ENV_MAX);
	TH_CHECK(mgrd_kh_batch(&m.kh, &msg, 1, why, sizeof(why)) == -EPROTO,
		 "a RESPONSE sent to the key holder: %s", why);
	msg.in_len = mgrd_env_encode(
		&(struct mgrd_env){.kind = MGRD_ENV_REQUEST, .channel = 3},
		inbuf[0], MGRD_ENV_MAX);
	TH_CHECK(msg.in_len == 0, "channel 3 is not encoded");
	/* A request that is not one: answered MALFORMED, not fatal. */
	{
		static const uint8_t junk[12] = {0x48, 0x56, 0, 0, 0, 12,
						 0,    0,    0, 1, 0, 0};
		struct mgrd_env e;
		struct mgr_rsp r = {.op = MGR_OP_OPEN};

		msg.in_len = mgrd_env_encode(
			&(struct mgrd_env){.kind = MGRD_ENV_REQUEST,
					   .channel = MGR_CH_INSTANCE,
					   .peer = 5,
					   .data = junk,
					   .len = sizeof(junk)},
			inbuf[0], MGRD_ENV_MAX);
		TH_CHECK(mgrd_kh_batch(&m.kh, &msg, 1, why, sizeof(why)) == 0,
			 "junk request");
		mgrd_env_decode(outbuf[0], msg.out_len, &e, why, sizeof(why));
		mgr_rsp_parse(MGR_CH_INSTANCE, e.data, e.len, &r, why,
			      sizeof(why));
		TH_CHECK(r.rc == MGR_RC_MALFORMED, "junk OPEN: %s %s",
			 mgr_rc_str(r.rc), r.msg);
	}
	mgr_stop(&m);
}

int main(void)
{
	EVP_PKEY *rsa = ekgen_key(MGR_EK_RSA2048);
	EVP_PKEY *ecc = ekgen_key(MGR_EK_ECC_P256);

	for (unsigned i = 0; i < 3; i++) {
		memset(U[i].b, 0xa0 + i, 16);
		memset(D[i].b, 0xd0 + i, 16);
	}
	ek_rsa_len =
		ekgen_public(MGR_EK_RSA2048, rsa, NULL, ek_rsa, sizeof(ek_rsa));
	ek_ecc_len = ekgen_public(MGR_EK_ECC_P256, ecc, NULL, ek_ecc,
				  sizeof(ek_ecc));
	ek_bad_len = ek_ecc_len;
	memcpy(ek_bad, ek_ecc, ek_ecc_len);
	ek_bad[2 + 2 + 2 + 3] ^= 0x40; /* objectAttributes' low byte */
	if (!TH_CHECK(ek_rsa_len && ek_ecc_len, "EKs built"))
		return th_done();
	test_sequence();
	test_refs_list_status();
	test_group_commit();
	test_commit_failure();
	test_migration();
	test_certified_eks();
	test_ekdb();
	test_migrated_eks();
	test_envelope();
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ecc);
	return th_done();
}
