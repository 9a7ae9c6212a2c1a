/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_kh.c - the key holder's decisions.  Everything the front forwards
 * is parsed again here (mgr_req_parse) and judged against the root record
 * and what this process remembers: which stub domain the toolstack
 * attached to which instance, and which of them has it open.  Who the
 * peer is comes from the envelope, i.e. from the ring the request came
 * on, never from the request.
 *
 * A batch (mgrd_kh_batch) is decided in order, each request against the
 * table as the earlier ones left it; the requests that change the table
 * (COMMIT, ATTACH that creates, DELETE, RESET, EXPORT, IMPORT) share ONE
 * root-record commit, and no answer leaves before it is durable.  When it
 * fails the outcome is unknown (mgr_seal.h): every changing request is
 * answered MGR_RC_STORAGE and everything but STATUS is refused from then
 * on; a restart recovers.
 *
 * Per-instance keys leave this process only in OPEN answers, to the stub
 * the toolstack attached; every buffer that held one is wiped.
 *
 * Certified EKs (mgrd_ekdb, what DEEP_QUOTE may bind): PROVISION keeps
 * the digests of the EKs it certified with the attachment; the first
 * COMMIT after it carries them into its batch, which writes the EK file
 * just before its root commit (one durable point for both: see mgrd.h).
 * A manager that dies between PROVISION and that COMMIT never committed
 * the instance: its next OPEN is NEW and it is provisioned again.  IMPORT
 * does the same with the digests the bundle carries.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "vtpm-manager/mgr_ca.h"
#include "vtpm-manager/mgr_ekpub.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_ptpm.h"
#include "vtpm-manager/mgrd.h"

#define EK_TPM_MODEL "hvsec-vtpm" /* as hvt_manufacture.c certifies */
#define SLOT_OWNED   4u

/* One message of the batch while it is decided. */
struct slot {
	struct mgrd_env env;
	bool answer;  /* a REQUEST: encode rsp */
	bool mutated; /* changed the table: answer depends on the commit */
	bool commit;  /* a COMMIT among those */
	bool forget;  /* after the commit: forget the instance's EKs */
	struct mgr_uuid forget_uuid;
	uint32_t ek_count; /* EK digests made durable with the commit */
	struct mgr_uuid ek_uuid;
	uint8_t ek_hash[MGR_BUNDLE_EK_MAX][32];
	char who[24]; /* "domain 7" / "control", for logs */
	struct mgr_rsp rsp;
	void *owned[SLOT_OWNED];
	struct mgr_quote quote;
};

/* ------------------------------------------------------------ helpers */

static void refuse(struct slot *s, enum mgr_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(struct slot *s, enum mgr_rc rc, const char *fmt, ...)
{
	va_list ap;

	s->rsp.rc = rc;
	va_start(ap, fmt);
	vsnprintf(s->rsp.msg, sizeof(s->rsp.msg), fmt, ap);
	va_end(ap);
}

static bool own(struct slot *s, void *p)
{
	for (unsigned i = 0; i < SLOT_OWNED; i++)
		if (!s->owned[i]) {
			s->owned[i] = p;
			return true;
		}
	free(p);
	return false;
}

static bool uuid_eq(const struct mgr_uuid *a, const struct mgr_uuid *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static struct mgrd_att *att_by_uuid(struct mgrd_kh *kh,
				    const struct mgr_uuid *u)
{
	for (uint32_t i = 0; i < kh->natt; i++)
		if (uuid_eq(&kh->att[i].uuid, u))
			return &kh->att[i];
	return NULL;
}

static struct mgrd_att *att_by_stub(struct mgrd_kh *kh, uint32_t domid)
{
	for (uint32_t i = 0; i < kh->natt; i++)
		if (kh->att[i].stub_domid == domid)
			return &kh->att[i];
	return NULL;
}

static void att_remove(struct mgrd_kh *kh, struct mgrd_att *a)
{
	*a = kh->att[--kh->natt];
	memset(&kh->att[kh->natt], 0, sizeof(kh->att[0]));
}

static bool any_present(const struct mgr_inst *inst)
{
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++)
		if (inst->state[i].present)
			return true;
	return false;
}

static const char *ustr(const struct mgr_uuid *u, char buf[37])
{
	mgrd_uuid_str(u, buf);
	return buf;
}

/* MIGRATED and DISABLED refuse everything that would run the instance. */
static bool runnable(struct slot *s, const struct mgr_inst *inst)
{
	char u[37];

	if (inst->flags & MGR_INST_F_MIGRATED) {
		refuse(s, MGR_RC_MIGRATED,
		       "instance %s was exported to another manager",
		       ustr(&inst->uuid, u));
		return false;
	}
	if (inst->flags & MGR_INST_F_DISABLED) {
		refuse(s, MGR_RC_DISABLED,
		       "instance %s is disabled by the operator",
		       ustr(&inst->uuid, u));
		return false;
	}
	return true;
}

/* The instance that `peer` has open, or a refusal. */
static struct mgrd_att *open_att(struct mgrd_kh *kh, struct slot *s,
				 uint32_t peer, struct mgr_inst **inst)
{
	struct mgrd_att *a = att_by_stub(kh, peer);

	if (!a || !a->open) {
		refuse(s, MGR_RC_DENIED, "domain %u has no instance open",
		       peer);
		return NULL;
	}
	*inst = mgr_root_find(&kh->root, &a->uuid);
	if (!*inst) { /* deleted while open cannot happen: BUSY */
		refuse(s, MGR_RC_INTERNAL, "open instance not in the table");
		return NULL;
	}
	return a;
}

/* --------------------------------------------------- instance channel */

static void op_open(struct mgrd_kh *kh, struct slot *s, const struct mgr_req *q)
{
	uint32_t peer = s->env.peer;
	struct mgrd_att *a = att_by_uuid(kh, &q->u.open.uuid);
	struct mgr_inst *inst;
	uint32_t tpm12 = q->u.open.flags & MGR_OPEN_F_TPM12;
	char u[37];

	ustr(&q->u.open.uuid, u);
	/* Not attached to this peer: the same answer whether the instance
	 * exists or not. */
	if (!a || a->stub_domid != peer) {
		refuse(s, MGR_RC_DENIED,
		       "domain %u is not attached to instance %s", peer, u);
		return;
	}
	inst = mgr_root_find(&kh->root, &a->uuid);
	if (!inst) {
		refuse(s, MGR_RC_NOT_FOUND, "instance %s is not in the table",
		       u);
		return;
	}
	if (!runnable(s, inst))
		return;
	if (a->open) {
		refuse(s, MGR_RC_BUSY, "instance %s is already open", u);
		return;
	}
	if (tpm12 != (inst->flags & MGR_INST_F_TPM12)) {
		refuse(s, MGR_RC_BINDING,
		       "instance %s is a TPM %s, the claim says %s", u,
		       inst->flags & MGR_INST_F_TPM12 ? "1.2" : "2.0",
		       tpm12 ? "1.2" : "2.0");
		return;
	}
	s->rsp.u.open.status =
		any_present(inst) ? MGR_OPEN_EXISTING : MGR_OPEN_NEW;
	s->rsp.u.open.flags = inst->flags;
	memcpy(s->rsp.u.open.key, inst->key, MGR_KEY_LEN);
	memcpy(s->rsp.u.open.ref, inst->state, sizeof(inst->state));
	a->open = true;
	a->opened_new = s->rsp.u.open.status == MGR_OPEN_NEW;
	a->committed = false;
	a->provisioned = false;
	a->ek_pending = 0;
	mgrd_log("%s OPEN %s: %s", s->who, u,
		 a->opened_new ? "NEW (to manufacture)" : "EXISTING");
}

static void op_commit(struct mgrd_kh *kh, struct slot *s,
		      const struct mgr_req *q)
{
	struct mgr_inst *inst;
	struct mgrd_att *a = open_att(kh, s, s->env.peer, &inst);
	struct mgr_state_ref *ref;
	unsigned name = q->u.commit.name;

	if (!a)
		return;
	if (name < 1 || name > MGR_STATE_NAMES) {
		refuse(s, MGR_RC_MALFORMED, "COMMIT: name %u", name);
		return;
	}
	ref = &inst->state[name - 1];
	if (ref->generation == UINT64_MAX ||
	    q->u.commit.generation != ref->generation + 1) {
		refuse(s, MGR_RC_GENERATION,
		       "COMMIT %s: generation %llu, committed %llu: expected "
		       "%llu",
		       mgr_state_name_str(name),
		       (unsigned long long)q->u.commit.generation,
		       (unsigned long long)ref->generation,
		       (unsigned long long)ref->generation + 1);
		return;
	}
	ref->generation = q->u.commit.generation;
	ref->present = q->u.commit.present;
	memcpy(ref->tag, q->u.commit.tag, MGR_TAG_LEN);
	if (a->provisioned)
		inst->flags |= MGR_INST_F_PROVISIONED;
	/* The EKs of this instance's first state: durable with it. */
	if (a->ek_pending) {
		s->ek_uuid = inst->uuid;
		s->ek_count = a->ek_pending;
		memcpy(s->ek_hash, a->ek_hash,
		       (size_t)a->ek_pending * sizeof(a->ek_hash[0]));
		a->ek_pending = 0;
	}
	a->committed = true;
	s->mutated = true;
	s->commit = true;
}

static enum mgr_ca_ek_type ca_type(enum mgr_ek_kind k)
{
	return k == MGR_EK_RSA2048 ? MGR_CA_EK_RSA2048 : MGR_CA_EK_ECC_P256;
}

static void op_provision(struct mgrd_kh *kh, struct slot *s,
			 const struct mgr_req *q)
{
	const struct mgr_tpm_info *info = &q->u.provision.info;
	struct mgr_inst *inst;
	struct mgrd_att *a = open_att(kh, s, s->env.peer, &inst);
	uint8_t hash[MGR_EK_MAX][32];
	char why[256], u[37];
	uint64_t t0 = mgrd_now_us();
	int rc;

	static_assert(MGR_EK_MAX <= MGR_BUNDLE_EK_MAX, "EKs fit a slot");
	if (!a)
		return;
	ustr(&inst->uuid, u);
	if (!a->opened_new || a->committed) {
		refuse(s, MGR_RC_STATE,
		       "PROVISION of %s: only after OPEN answered NEW and "
		       "before the first COMMIT",
		       u);
		return;
	}
	if (q->u.provision.count < 1 || q->u.provision.count > MGR_EK_MAX) {
		refuse(s, MGR_RC_MALFORMED, "PROVISION: %u EKs",
		       q->u.provision.count);
		return;
	}
	for (unsigned i = 0; i < q->u.provision.count; i++) {
		const struct mgr_ek_item *ek = &q->u.provision.ek[i];
		uint8_t spki[MGR_EKPUB_SPKI_MAX], *der = NULL;
		size_t spki_len = 0, der_len = 0;

		rc = mgr_ekpub_to_spki(ek->kind, ek->data.data, ek->data.len,
				       spki, sizeof(spki), &spki_len, why,
				       sizeof(why));
		if (rc) {
			refuse(s,
			       rc == -EINVAL ? MGR_RC_DENIED : MGR_RC_INTERNAL,
			       "PROVISION of %s: %s", u, why);
			return;
		}
		rc = mgr_ca_issue_ek(
			kh->ca,
			&(struct mgr_ca_ek_req){
				.type = ca_type(ek->kind),
				.spki = spki,
				.spki_len = spki_len,
				.tpm_manufacturer = info->manufacturer,
				.tpm_model = EK_TPM_MODEL,
				.tpm_version = info->firmware_version1,
				.spec_family =
					info->family[0] ? info->family : NULL,
				.spec_level = info->level,
				.spec_revision = info->revision,
			},
			&der, &der_len, why, sizeof(why));
		if (rc) {
			refuse(s,
			       rc == -EINVAL ? MGR_RC_DENIED : MGR_RC_INTERNAL,
			       "PROVISION of %s: certificate: %s", u, why);
			return;
		}
		if (!own(s, der)) {
			refuse(s, MGR_RC_INTERNAL, "PROVISION: too many parts");
			return;
		}
		s->rsp.u.provision.cert[i].kind = ek->kind;
		s->rsp.u.provision.cert[i].data.data = der;
		s->rsp.u.provision.cert[i].data.len = (uint32_t)der_len;
		SHA256(ek->data.data, ek->data.len, hash[i]);
	}
	/* A DEEP_QUOTE for these EKs must work whenever the instance can
	 * show the certificate, i.e. once its first state is committed: the
	 * COMMIT that commits it makes them durable in the same batch. */
	memcpy(a->ek_hash, hash, (size_t)q->u.provision.count * 32);
	a->ek_pending = q->u.provision.count;
	s->rsp.u.provision.count = q->u.provision.count;
	a->provisioned = true;
	mgrd_log("%s PROVISION %s: %u EK certificates issued in %.1f ms",
		 s->who, u, q->u.provision.count,
		 (double)(mgrd_now_us() - t0) / 1000.0);
}

static void op_close(struct mgrd_kh *kh, struct slot *s)
{
	struct mgr_inst *inst;
	struct mgrd_att *a = open_att(kh, s, s->env.peer, &inst);
	char u[37];

	if (!a)
		return;
	a->open = false;
	mgrd_log("%s CLOSE %s", s->who, ustr(&a->uuid, u));
}

/* ---------------------------------------------------- control channel */

static void op_status(struct mgrd_kh *kh, struct slot *s)
{
	uint64_t c = kh->root.generation;
	uint32_t nopen = 0;
	char why[256];

	if (kh->counter->ops->read(kh->counter->ctx, &c, why, sizeof(why)))
		c = kh->root.generation;
	for (uint32_t i = 0; i < kh->natt; i++)
		nopen += kh->att[i].open;
	s->rsp.u.status.manager = kh->root.manager;
	s->rsp.u.status.root_generation = kh->root.generation;
	s->rsp.u.status.counter = c;
	s->rsp.u.status.nv_index = kh->root.nv_index;
	s->rsp.u.status.pcr_mask = kh->pcr_mask;
	s->rsp.u.status.instances = kh->root.count;
	s->rsp.u.status.attached = kh->natt;
	s->rsp.u.status.open = nopen;
	s->rsp.u.status.commits = kh->st.commits;
	s->rsp.u.status.commit_batches = kh->st.commit_batches;
}

static void op_attach(struct mgrd_kh *kh, struct slot *s,
		      const struct mgr_req *q)
{
	const __typeof__(q->u.attach) *r = &q->u.attach;
	struct mgr_inst *inst = mgr_root_find(&kh->root, &r->uuid);
	struct mgrd_att *a = att_by_uuid(kh, &r->uuid);
	struct mgrd_att *b = att_by_stub(kh, r->stub_domid);
	uint32_t tpm12 = r->flags & MGR_OPEN_F_TPM12 ? MGR_INST_F_TPM12 : 0;
	char u[37], d1[37], d2[37];
	enum mgr_seal_err e;

	ustr(&r->uuid, u);
	if (r->stub_domid == 0 || r->stub_domid > MGRD_DOMID_MAX) {
		refuse(s, MGR_RC_MALFORMED,
		       "ATTACH: stub_domid %u is not a "
		       "domain 1..%u",
		       r->stub_domid, MGRD_DOMID_MAX);
		return;
	}
	if (!inst && !r->create) {
		refuse(s, MGR_RC_NOT_FOUND,
		       "instance %s is not in the table (create=0)", u);
		return;
	}
	if (inst) {
		if (!runnable(s, inst))
			return;
		if (!uuid_eq(&inst->domain, &r->domain)) {
			refuse(s, MGR_RC_BINDING,
			       "instance %s: domain uuid %s, the record's is "
			       "%s",
			       u, ustr(&r->domain, d1),
			       ustr(&inst->domain, d2));
			return;
		}
		if (strcmp(inst->label, r->label)) {
			refuse(s, MGR_RC_BINDING,
			       "instance %s: label \"%.64s\", the record's is "
			       "\"%.64s\"",
			       u, r->label, inst->label);
			return;
		}
		if ((inst->flags & MGR_INST_F_TPM12) != tpm12) {
			refuse(s, MGR_RC_BINDING,
			       "instance %s: flags say TPM %s, the record's "
			       "is TPM %s",
			       u, tpm12 ? "1.2" : "2.0",
			       inst->flags & MGR_INST_F_TPM12 ? "1.2" : "2.0");
			return;
		}
	}
	if (a && a->stub_domid != r->stub_domid) {
		refuse(s, MGR_RC_EXISTS,
		       "instance %s is attached to stub domain %u: DETACH it "
		       "first",
		       u, a->stub_domid);
		return;
	}
	if (!a && b) {
		refuse(s, MGR_RC_EXISTS,
		       "stub domain %u serves instance %s already",
		       r->stub_domid, ustr(&b->uuid, d1));
		return;
	}
	if (!a && kh->natt >= MGRD_ATT_MAX) {
		refuse(s, MGR_RC_INTERNAL, "%u instances attached already",
		       MGRD_ATT_MAX);
		return;
	}
	if (!inst) {
		e = mgr_root_add(&kh->root, &r->uuid, &r->domain, r->label,
				 tpm12, NULL);
		if (e) {
			refuse(s,
			       e == MGR_SEAL_E_FULL    ? MGR_RC_STORAGE
			       : e == MGR_SEAL_E_INVAL ? MGR_RC_MALFORMED
						       : MGR_RC_INTERNAL,
			       "ATTACH %s: %s", u, mgr_seal_strerror(e));
			return;
		}
		s->mutated = true;
		s->rsp.u.attach.created = true;
	}
	if (!a) {
		a = &kh->att[kh->natt++];
		memset(a, 0, sizeof(*a));
		a->uuid = r->uuid;
		a->stub_domid = r->stub_domid;
	}
	mgrd_log("control ATTACH %s to stub domain %u%s", u, r->stub_domid,
		 s->rsp.u.attach.created ? " (created)" : "");
}

static void op_detach(struct mgrd_kh *kh, struct slot *s,
		      const struct mgr_req *q)
{
	struct mgrd_att *a = att_by_uuid(kh, &q->u.target.uuid);
	char u[37];

	ustr(&q->u.target.uuid, u);
	if (!a && !mgr_root_find(&kh->root, &q->u.target.uuid)) {
		refuse(s, MGR_RC_NOT_FOUND, "instance %s is not in the table",
		       u);
		return;
	}
	if (a) {
		mgrd_log("control DETACH %s from stub domain %u%s", u,
			 a->stub_domid, a->open ? " (was open)" : "");
		att_remove(kh, a);
	}
}

/* DELETE, RESET, EXPORT: the instance exists and is not attached. */
static struct mgr_inst *stopped_inst(struct mgrd_kh *kh, struct slot *s,
				     const struct mgr_uuid *uuid)
{
	struct mgr_inst *inst = mgr_root_find(&kh->root, uuid);
	struct mgrd_att *a = att_by_uuid(kh, uuid);
	char u[37];

	ustr(uuid, u);
	if (!inst) {
		refuse(s, MGR_RC_NOT_FOUND, "instance %s is not in the table",
		       u);
		return NULL;
	}
	if (a) {
		refuse(s, MGR_RC_BUSY,
		       "instance %s is attached to stub domain %u%s", u,
		       a->stub_domid, a->open ? " and open" : "");
		return NULL;
	}
	return inst;
}

static void op_delete(struct mgrd_kh *kh, struct slot *s,
		      const struct mgr_req *q)
{
	struct mgr_inst *inst = stopped_inst(kh, s, &q->u.target.uuid);
	char u[37];

	if (!inst)
		return;
	if (mgr_root_remove(&kh->root, &q->u.target.uuid)) {
		refuse(s, MGR_RC_INTERNAL, "remove failed");
		return;
	}
	s->mutated = true;
	s->forget = true;
	s->forget_uuid = q->u.target.uuid;
	mgrd_log("control DELETE %s", ustr(&q->u.target.uuid, u));
}

static void op_reset(struct mgrd_kh *kh, struct slot *s,
		     const struct mgr_req *q)
{
	struct mgr_inst *inst = stopped_inst(kh, s, &q->u.target.uuid);
	char u[37];

	if (!inst || !runnable(s, inst))
		return;
	/* Generations stay: every blob written before stays refused. */
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++) {
		inst->state[i].present = false;
		memset(inst->state[i].tag, 0, MGR_TAG_LEN);
	}
	inst->flags &= ~(uint32_t)MGR_INST_F_PROVISIONED;
	s->mutated = true;
	s->forget = true;
	s->forget_uuid = inst->uuid;
	mgrd_log("control RESET %s: next OPEN manufactures",
		 ustr(&inst->uuid, u));
}

static void op_export(struct mgrd_kh *kh, struct slot *s,
		      const struct mgr_req *q)
{
	struct mgr_inst *inst = stopped_inst(kh, s, &q->u.export_.uuid);
	uint8_t fpr[MGR_FPR_LEN], *bundle = NULL;
	uint8_t ek[MGR_BUNDLE_EK_MAX][32];
	uint32_t nek;
	size_t len = 0;
	char why[256], u[37];
	enum mgr_seal_err e;

	if (!inst)
		return;
	ustr(&inst->uuid, u);
	if (inst->flags & MGR_INST_F_MIGRATED) {
		refuse(s, MGR_RC_MIGRATED, "instance %s was exported already",
		       u);
		return;
	}
	if (!kh->ident) {
		refuse(s, MGR_RC_INTERNAL, "this manager has no identity key");
		return;
	}
	e = mgr_ident_check_public(q->u.export_.dest_pubkey.data,
				   q->u.export_.dest_pubkey.len, fpr, why,
				   sizeof(why));
	if (e) {
		refuse(s, MGR_RC_MALFORMED, "EXPORT: destination key: %s", why);
		return;
	}
	/* Sealed first, marked after: a failure leaves the entry as it
	 * was.  The answer leaves only once MIGRATED is durable. */
	/* The EKs we certified for it go along: the destination serves a
	 * deep quote for them. */
	nek = mgrd_ekdb_list(&kh->ekdb, &inst->uuid, ek, MGR_BUNDLE_EK_MAX);
	e = mgr_bundle_seal_eks(
		kh->ident, &kh->root.manager, q->u.export_.dest_pubkey.data,
		q->u.export_.dest_pubkey.len, inst, (const uint8_t(*)[32])ek,
		nek, &bundle, &len, why, sizeof(why));
	if (e) {
		refuse(s,
		       e == MGR_SEAL_E_INVAL ? MGR_RC_MALFORMED
					     : MGR_RC_INTERNAL,
		       "EXPORT %s: %s", u, why);
		return;
	}
	if (len > MGR_BUNDLE_MAX || !own(s, bundle)) {
		refuse(s, MGR_RC_TOO_BIG, "EXPORT %s: bundle of %zu bytes", u,
		       len);
		return;
	}
	inst->flags |= MGR_INST_F_MIGRATED;
	s->rsp.u.export_.bundle.data = bundle;
	s->rsp.u.export_.bundle.len = (uint32_t)len;
	s->mutated = true;
	s->forget = true;
	s->forget_uuid = inst->uuid;
	mgrd_log("control EXPORT %s: marked migrated (%u certified EKs "
		 "go along)",
		 u, nek);
}

static void op_import(struct mgrd_kh *kh, struct slot *s,
		      const struct mgr_req *q)
{
	struct mgr_bundle_info info;
	struct mgr_inst *inst, *old;
	char why[256], u[37];
	enum mgr_seal_err e;

	if (!kh->ident) {
		refuse(s, MGR_RC_INTERNAL, "this manager has no identity key");
		return;
	}
	memset(&info, 0, sizeof(info));
	e = mgr_bundle_open(kh->ident, q->u.import.bundle.data,
			    q->u.import.bundle.len, NULL, 0, &info, why,
			    sizeof(why));
	if (e) {
		refuse(s,
		       e == MGR_SEAL_E_NOMEM ? MGR_RC_INTERNAL : MGR_RC_CORRUPT,
		       "IMPORT: %s", why);
		goto out;
	}
	ustr(&info.inst.uuid, u);
	old = mgr_root_find(&kh->root, &info.inst.uuid);
	if (old && !(old->flags & MGR_INST_F_MIGRATED)) {
		refuse(s, MGR_RC_EXISTS, "IMPORT: instance %s is here already",
		       u);
		goto out;
	}
	if (old && att_by_uuid(kh, &info.inst.uuid)) {
		refuse(s, MGR_RC_BUSY, "IMPORT: instance %s is attached", u);
		goto out;
	}
	/* Coming back: the entry it left behind (MIGRATED) is replaced. */
	if (old && mgr_root_remove(&kh->root, &info.inst.uuid)) {
		refuse(s, MGR_RC_INTERNAL, "IMPORT: remove failed");
		goto out;
	}
	e = mgr_root_add(
		&kh->root, &info.inst.uuid, &info.inst.domain, info.inst.label,
		info.inst.flags & ~(uint32_t)MGR_INST_F_MIGRATED, &inst);
	if (e) {
		refuse(s,
		       e == MGR_SEAL_E_FULL ? MGR_RC_STORAGE : MGR_RC_CORRUPT,
		       "IMPORT %s: %s", u, mgr_seal_strerror(e));
		if (old) /* the table lost the old entry: commit that */
			s->mutated = true;
		goto out;
	}
	/* mgr_root_add made a fresh key: the bundle's replaces it. */
	memcpy(inst->key, info.inst.key, MGR_KEY_LEN);
	memcpy(inst->state, info.inst.state, sizeof(inst->state));
	/* The EKs the source certified for it: durable with the commit. */
	s->ek_uuid = info.inst.uuid;
	s->ek_count = info.ek_count;
	memcpy(s->ek_hash, info.ek_hash, sizeof(s->ek_hash));
	s->rsp.u.import.uuid = info.inst.uuid;
	s->mutated = true;
	mgrd_log("control IMPORT %s (bundle version %u, %u certified EKs)", u,
		 info.version, info.ek_count);
out:
	OPENSSL_cleanse(&info, sizeof(info));
}

static void op_identity(struct mgrd_kh *kh, struct slot *s)
{
	uint8_t fpr[MGR_FPR_LEN], *spki = NULL, *der = NULL;
	size_t spki_len = 0, der_len = 0;
	char why[256];

	if (!kh->ident) {
		refuse(s, MGR_RC_INTERNAL, "this manager has no identity key");
		return;
	}
	spki = malloc(MGR_IDENT_SPKI_MAX);
	if (!spki || !own(s, spki) ||
	    mgr_ident_public(kh->ident, spki, MGR_IDENT_SPKI_MAX, &spki_len,
			     fpr)) {
		refuse(s, MGR_RC_INTERNAL, "identity public key failed");
		return;
	}
	if (mgr_ca_cert_der(kh->ca, &der, &der_len, why, sizeof(why)) ||
	    !own(s, der)) {
		refuse(s, MGR_RC_INTERNAL, "CA certificate: %s", why);
		return;
	}
	s->rsp.u.identity.manager = kh->root.manager;
	s->rsp.u.identity.pubkey.data = spki;
	s->rsp.u.identity.pubkey.len = (uint32_t)spki_len;
	s->rsp.u.identity.ca_cert.data = der;
	s->rsp.u.identity.ca_cert.len = (uint32_t)der_len;
}

static void op_deep_quote(struct mgrd_kh *kh, struct slot *s,
			  const struct mgr_req *q)
{
	const __typeof__(q->u.deep_quote) *r = &q->u.deep_quote;
	uint8_t hash[32];
	char why[256], u[37];
	enum mgr_ptpm_err e;

	ustr(&r->uuid, u);
	if (!mgr_root_find(&kh->root, &r->uuid)) {
		refuse(s, MGR_RC_NOT_FOUND, "instance %s is not in the table",
		       u);
		return;
	}
	SHA256(r->ek_public.data, r->ek_public.len, hash);
	if (!mgrd_ekdb_has(&kh->ekdb, &r->uuid, hash)) {
		refuse(s, MGR_RC_DENIED,
		       "DEEP_QUOTE: not an EK this manager certified for "
		       "instance %s",
		       u);
		return;
	}
	if (!kh->tpm) {
		refuse(s, MGR_RC_PLATFORM, "no platform TPM");
		return;
	}
	e = mgr_ptpm_deep_quote(kh->tpm, r->pcr_mask, r->ek_public.data,
				r->ek_public.len, &r->uuid, r->nonce,
				r->nonce_len, &s->quote, why, sizeof(why));
	if (e) {
		refuse(s, MGR_RC_PLATFORM, "DEEP_QUOTE: %s", why);
		return;
	}
	if (!s->quote.attest_len || s->quote.attest_len > MGR_QUOTE_PART_MAX ||
	    !s->quote.sig_len || s->quote.sig_len > MGR_QUOTE_PART_MAX ||
	    !s->quote.ak_pub_len || s->quote.ak_pub_len > MGR_QUOTE_PART_MAX) {
		refuse(s, MGR_RC_TOO_BIG, "DEEP_QUOTE: a part is too large");
		return;
	}
	s->rsp.u.deep_quote.attest.data = s->quote.attest;
	s->rsp.u.deep_quote.attest.len = (uint32_t)s->quote.attest_len;
	s->rsp.u.deep_quote.sig.data = s->quote.sig;
	s->rsp.u.deep_quote.sig.len = (uint32_t)s->quote.sig_len;
	s->rsp.u.deep_quote.ak_public.data = s->quote.ak_pub;
	s->rsp.u.deep_quote.ak_public.len = (uint32_t)s->quote.ak_pub_len;
	mgrd_log("control DEEP_QUOTE %s", u);
}

static void op_list(struct mgrd_kh *kh, struct slot *s, const struct mgr_req *q)
{
	uint32_t start = q->u.list.start, i;
	__typeof__(s->rsp.u.list) *l = &s->rsp.u.list;

	l->total = kh->root.count;
	l->count = 0;
	for (i = start; i < kh->root.count && l->count < MGR_LIST_PAGE; i++) {
		const struct mgr_inst *inst = &kh->root.inst[i];
		struct mgr_list_entry *e = &l->entry[l->count++];
		struct mgrd_att *a = att_by_uuid(kh, &inst->uuid);

		e->uuid = inst->uuid;
		e->domain = inst->domain;
		snprintf(e->label, sizeof(e->label), "%s", inst->label);
		e->flags = inst->flags;
		e->stub_domid = a ? a->stub_domid : MGR_NO_DOMID;
		e->open = a && a->open;
		for (unsigned k = 0; k < MGR_STATE_NAMES; k++)
			e->generation[k] = inst->state[k].generation;
	}
	l->next = i < kh->root.count ? i : MGR_NO_DOMID;
}

/* ------------------------------------------------------------ dispatch */

static void request(struct mgrd_kh *kh, struct slot *s)
{
	struct mgr_req q;
	char why[MGR_MSG_MAX + 1] = "";
	enum mgr_rc rc;

	memset(&q, 0, sizeof(q));
	rc = mgr_req_parse(s->env.channel, s->env.data, s->env.len, &q, why,
			   sizeof(why));
	s->rsp.op = q.op;
	if (rc != MGR_RC_OK) {
		refuse(s, rc, "%s", why[0] ? why : mgr_rc_str(rc));
		goto out;
	}
	if (kh->failed && q.op != MGR_CTL_STATUS) {
		refuse(s, MGR_RC_STORAGE,
		       "a root-record commit failed: the manager refuses "
		       "everything until it is restarted");
		goto out;
	}
	switch (q.op) {
	case MGR_OP_OPEN:
		op_open(kh, s, &q);
		break;
	case MGR_OP_COMMIT:
		op_commit(kh, s, &q);
		break;
	case MGR_OP_PROVISION:
		op_provision(kh, s, &q);
		break;
	case MGR_OP_CLOSE:
		op_close(kh, s);
		break;
	case MGR_CTL_STATUS:
		op_status(kh, s);
		break;
	case MGR_CTL_ATTACH:
		op_attach(kh, s, &q);
		break;
	case MGR_CTL_DETACH:
		op_detach(kh, s, &q);
		break;
	case MGR_CTL_DELETE:
		op_delete(kh, s, &q);
		break;
	case MGR_CTL_RESET:
		op_reset(kh, s, &q);
		break;
	case MGR_CTL_LIST:
		op_list(kh, s, &q);
		break;
	case MGR_CTL_EXPORT:
		op_export(kh, s, &q);
		break;
	case MGR_CTL_IMPORT:
		op_import(kh, s, &q);
		break;
	case MGR_CTL_IDENTITY:
		op_identity(kh, s);
		break;
	case MGR_CTL_DEEP_QUOTE:
		op_deep_quote(kh, s, &q);
		break;
	default:
		refuse(s, MGR_RC_UNKNOWN_OP, "op 0x%x", q.op);
		break;
	}
out:
	OPENSSL_cleanse(&q, sizeof(q));
}

/* CLOSED and GONE: what the front saw happen to a peer. */
static void peer_event(struct mgrd_kh *kh, const struct mgrd_env *e)
{
	char u[37];

	for (uint32_t i = 0; i < kh->natt;) {
		struct mgrd_att *a = &kh->att[i];

		if (a->stub_domid != e->peer) {
			i++;
			continue;
		}
		if (e->kind == MGRD_ENV_CLOSED) {
			if (a->open)
				mgrd_log("domain %u: ring closed, instance %s "
					 "closed",
					 e->peer, ustr(&a->uuid, u));
			a->open = false;
			i++;
		} else {
			mgrd_log("domain %u is gone: instance %s detached",
				 e->peer, ustr(&a->uuid, u));
			att_remove(kh, a);
		}
	}
}

static void encode(struct mgrd_kh *kh, struct slot *s, struct mgrd_kh_msg *m)
{
	uint8_t *body = m->out + MGRD_ENV_HDR_LEN;
	size_t cap = s->env.channel == MGR_CH_INSTANCE ? MGR_RING_MSG_MAX
						       : MGR_CTL_MSG_MAX;
	size_t n = 0;

	if (s->rsp.rc == MGR_RC_OK) {
		n = mgr_rsp_encode(&s->rsp, body, cap);
		if (!n)
			n = mgr_rsp_error(s->rsp.op, MGR_RC_TOO_BIG, body, cap,
					  "%s: the answer does not fit",
					  mgr_op_str(s->rsp.op));
	} else {
		n = mgr_rsp_error(s->rsp.op, s->rsp.rc, body, cap, "%s",
				  s->rsp.msg);
		kh->st.refused++;
		if (s->env.channel == MGR_CH_INSTANCE)
			mgrd_log_limited(&kh->rl, "%s %s: %s: %s", s->who,
					 mgr_op_str(s->rsp.op),
					 mgr_rc_str(s->rsp.rc), s->rsp.msg);
		else
			mgrd_log("%s %s: %s: %s", s->who, mgr_op_str(s->rsp.op),
				 mgr_rc_str(s->rsp.rc), s->rsp.msg);
	}
	m->out_len =
		mgrd_env_encode(&(struct mgrd_env){.kind = MGRD_ENV_RESPONSE,
						   .id = s->env.id,
						   .data = body,
						   .len = (uint32_t)n},
				m->out, MGRD_ENV_MAX);
}

/* The EK digests of the batch's first commits and imports into the EK
 * file, which the root commit's fsync of the directory makes durable
 * before its commit point.  0 or -errno with why. */
static int stage_eks(struct mgrd_kh *kh, struct slot *slots, size_t n,
		     char *why, size_t why_len)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; slots[i].mutated && k < slots[i].ek_count;
		     k++) {
			rc = mgrd_ekdb_put(&kh->ekdb, &slots[i].ek_uuid,
					   slots[i].ek_hash[k], why, why_len);
			if (rc) /* the key holder fails closed: what
				 * was put stays unwritten and unused */
				return rc;
		}
	return mgrd_ekdb_flush(&kh->ekdb, false, why, why_len);
}

int mgrd_kh_batch(struct mgrd_kh *kh, struct mgrd_kh_msg *msgs, size_t n,
		  char *why, size_t why_len)
{
	struct slot *slots = calloc(n ? n : 1, sizeof(*slots));
	bool mutated = false;
	uint64_t commits = 0;
	char cwhy[512] = "";
	int ret = 0;

	if (!slots) {
		snprintf(why, why_len, "out of memory for %zu requests", n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		msgs[i].out_len = 0;
		if (mgrd_env_decode(msgs[i].in, msgs[i].in_len, &s->env, why,
				    why_len)) {
			ret = -EPROTO;
			goto out;
		}
		switch (s->env.kind) {
		case MGRD_ENV_REQUEST:
			if (s->env.channel == MGR_CH_INSTANCE)
				snprintf(s->who, sizeof(s->who), "domain %u",
					 s->env.peer);
			else
				snprintf(s->who, sizeof(s->who), "control");
			s->answer = true;
			kh->st.requests++;
			request(kh, s);
			mutated |= s->mutated;
			break;
		case MGRD_ENV_CLOSED:
		case MGRD_ENV_GONE:
			peer_event(kh, &s->env);
			break;
		default:
			snprintf(why, why_len,
				 "envelope kind %u from the front",
				 s->env.kind);
			ret = -EPROTO;
			goto out;
		}
	}
	if (mutated && stage_eks(kh, slots, n, cwhy, sizeof(cwhy))) {
		/* Nothing committed; the table in memory is ahead of the
		 * root record: fail closed as for a failed commit. */
		kh->failed = true;
		mgrd_log("EK file FAILED before the root commit: %s; refusing "
			 "everything until restarted",
			 cwhy);
		for (size_t i = 0; i < n; i++)
			if (slots[i].mutated)
				refuse(&slots[i], MGR_RC_STORAGE,
				       "certified EKs not stored: %.160s",
				       cwhy);
	} else if (mutated) {
		enum mgr_seal_err e =
			mgr_root_commit(kh->dir, &kh->keys, kh->counter,
					&kh->root, cwhy, sizeof(cwhy));

		if (e) {
			kh->failed = true;
			mgrd_log("root commit FAILED (%s): %s; refusing "
				 "everything until restarted",
				 mgr_seal_strerror(e), cwhy);
			for (size_t i = 0; i < n; i++)
				if (slots[i].mutated)
					refuse(&slots[i], MGR_RC_STORAGE,
					       "root commit failed: %.160s",
					       cwhy[0] ? cwhy
						       : mgr_seal_strerror(e));
		} else {
			if (cwhy[0])
				mgrd_log("root commit: %s", cwhy);
			for (size_t i = 0; i < n; i++) {
				char w[256];

				commits += slots[i].commit;
				if (slots[i].forget &&
				    mgrd_ekdb_forget(&kh->ekdb,
						     &slots[i].forget_uuid, w,
						     sizeof(w)))
					mgrd_log("%s", w);
			}
			kh->st.commits += commits;
			kh->st.commit_batches++;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (slots[i].answer)
			encode(kh, &slots[i], &msgs[i]);
out:
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < SLOT_OWNED; k++)
			free(slots[i].owned[k]);
		mgr_quote_free(&slots[i].quote);
	}
	OPENSSL_cleanse(slots, n * sizeof(*slots));
	free(slots);
	return ret;
}

int mgrd_kh_init(struct mgrd_kh *kh, const struct mgrd_kh_config *cfg,
		 char *why, size_t why_len)
{
	int rc;

	memset(kh, 0, sizeof(*kh));
	kh->dir = cfg->dir;
	kh->keys = *cfg->keys;
	kh->counter = cfg->counter;
	kh->root = *cfg->root;
	memset(cfg->root, 0, sizeof(*cfg->root));
	kh->ca = cfg->ca;
	kh->ident = cfg->ident;
	kh->tpm = cfg->tpm;
	kh->pcr_mask = cfg->pcr_mask;
	rc = mgrd_ekdb_open(&kh->ekdb, cfg->ekdb_path, cfg->keys, why, why_len);
	if (rc)
		mgrd_kh_fini(kh);
	return rc;
}

void mgrd_kh_fini(struct mgrd_kh *kh)
{
	mgr_root_free(&kh->root);
	mgr_root_keys_wipe(&kh->keys);
	mgr_ca_free(kh->ca);
	mgr_ident_free(kh->ident);
	if (kh->tpm)
		mgr_ptpm_close(kh->tpm);
	mgrd_ekdb_close(&kh->ekdb);
	kh->ca = NULL;
	kh->ident = NULL;
	kh->tpm = NULL;
}
