/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_mgrstore - the instance side of the vTPM manager (vtpm_mgr.c,
 * vtpm_store_mgr.c, vtpm_provision.c) against an in-process fake manager
 * behind the link's function pointer.  The fake speaks the real wire
 * format (mgr_req_parse / mgr_rsp_encode), keeps the refs a manager's
 * root record would, and can fail a COMMIT in the three ways that matter:
 * refused, lost before it was recorded, lost after it was recorded.
 *
 * Cases (each asserts the outcome, not just "no crash"):
 *   - NEW: manufacture + provision through PROVISION (certificates from a
 *     real mgr_ca) + one batch commit = exactly one COMMIT; the files are
 *     sealed (no libtpms plaintext), reopen is EXISTING with the EK
 *     certificates readable, nothing manufactured again;
 *   - rollback: an older permall put back is refused naming "rollback";
 *     a blob of another instance and a wrong key are refused;
 *   - commit lost after the manager recorded it: the store fails (sticky),
 *     the reopen finds the committed permall.new and keeps it;
 *   - commit lost before: the reopen discards permall.new, loads the old;
 *   - commit refused: the store fails, every later store too, the reopen
 *     loads the last committed;
 *   - remove commits "absent"; a leftover file of an absent state goes;
 *   - OPEN twice refused (BUSY -> -EBUSY) and refusals carry the text.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/harness.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-manager/mgr_ca.h"
#include "vtpm-manager/mgr_ekpub.h"

enum commit_mode { C_OK, C_REFUSE, C_LOST_BEFORE, C_LOST_AFTER };

struct fake {
	struct mgr_uuid uuid;
	uint8_t key[MGR_KEY_LEN];
	struct mgr_state_ref ref[MGR_STATE_NAMES];
	bool open;
	enum commit_mode mode;
	unsigned commits, provisions;
	struct mgr_ca *ca;
};

static char dir[64];
static char capath[96];

static int answer(const struct mgr_rsp *rsp, uint8_t *out, size_t cap,
		  size_t *out_len)
{
	*out_len = mgr_rsp_encode(rsp, out, cap);
	if (!*out_len)
		fprintf(stderr, "fake manager: %s answer not encodable\n",
			mgr_op_str(rsp->op));
	return *out_len ? 0 : -EPROTO;
}

static int refuse(uint32_t op, enum mgr_rc rc, const char *msg, uint8_t *out,
		  size_t cap, size_t *out_len)
{
	*out_len = mgr_rsp_error(op, rc, out, cap, "%s", msg);
	return *out_len ? 0 : -EPROTO;
}

static int provision(struct fake *f, const struct mgr_req *req, uint8_t *out,
		     size_t cap, size_t *out_len)
{
	struct mgr_rsp rsp = {.op = req->op, .rc = MGR_RC_OK};
	uint8_t *der[MGR_EK_MAX] = {NULL, NULL};
	char why[256];
	int rc = 0;

	f->provisions++;
	rsp.u.provision.count = req->u.provision.count;
	for (unsigned i = 0; !rc && i < req->u.provision.count; i++) {
		const struct mgr_ek_item *e = &req->u.provision.ek[i];
		uint8_t spki[MGR_EKPUB_SPKI_MAX];
		size_t spki_len = 0, len = 0;

		rc = mgr_ekpub_to_spki(e->kind, e->data.data, e->data.len, spki,
				       sizeof(spki), &spki_len, why,
				       sizeof(why));
		if (!rc)
			rc = mgr_ca_issue_ek(
				f->ca,
				&(struct mgr_ca_ek_req){
					.type = e->kind == MGR_EK_RSA2048
							? MGR_CA_EK_RSA2048
							: MGR_CA_EK_ECC_P256,
					.spki = spki,
					.spki_len = spki_len,
					.tpm_manufacturer =
						req->u.provision.info.manufacturer,
					.tpm_model = "test",
					.tpm_version = req->u.provision.info
							       .firmware_version1,
					.spec_family = req->u.provision.info.family,
					.spec_level = req->u.provision.info.level,
					.spec_revision =
						req->u.provision.info.revision,
				},
				&der[i], &len, why, sizeof(why));
		rsp.u.provision.cert[i].kind = e->kind;
		rsp.u.provision.cert[i].data.data = der[i];
		rsp.u.provision.cert[i].data.len = (uint32_t)len;
	}
	if (rc)
		rc = refuse(req->op, MGR_RC_MALFORMED, why, out, cap, out_len);
	else
		rc = answer(&rsp, out, cap, out_len);
	free(der[0]);
	free(der[1]);
	return rc;
}

static int fake_call(void *ctx, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t cap, size_t *out_len, char *why, size_t why_len)
{
	struct fake *f = ctx;
	struct mgr_req req;
	struct mgr_rsp rsp;
	struct mgr_state_ref *r;
	char pwhy[256];

	if (mgr_req_parse(MGR_CH_INSTANCE, in, in_len, &req, pwhy,
			  sizeof(pwhy)) != MGR_RC_OK)
		return refuse(req.op, MGR_RC_MALFORMED, pwhy, out, cap,
			      out_len);
	memset(&rsp, 0, sizeof(rsp));
	rsp.op = req.op;
	switch (req.op) {
	case MGR_OP_OPEN:
		if (memcmp(&req.u.open.uuid, &f->uuid, sizeof(f->uuid)))
			return refuse(req.op, MGR_RC_DENIED, "not attached",
				      out, cap, out_len);
		if (f->open)
			return refuse(req.op, MGR_RC_BUSY, "already open", out,
				      cap, out_len);
		f->open = true;
		rsp.u.open.status = MGR_OPEN_NEW;
		for (unsigned i = 0; i < MGR_STATE_NAMES; i++)
			if (f->ref[i].present)
				rsp.u.open.status = MGR_OPEN_EXISTING;
		memcpy(rsp.u.open.key, f->key, MGR_KEY_LEN);
		memcpy(rsp.u.open.ref, f->ref, sizeof(f->ref));
		return answer(&rsp, out, cap, out_len);
	case MGR_OP_COMMIT:
		r = &f->ref[req.u.commit.name - 1];
		if (req.u.commit.generation != r->generation + 1)
			return refuse(req.op, MGR_RC_GENERATION, "generation",
				      out, cap, out_len);
		if (f->mode == C_REFUSE)
			return refuse(req.op, MGR_RC_STORAGE,
				      "root commit failed", out, cap, out_len);
		if (f->mode == C_LOST_BEFORE) {
			snprintf(why, why_len, "link lost");
			return -ENOTCONN;
		}
		r->generation = req.u.commit.generation;
		r->present = req.u.commit.present;
		memcpy(r->tag, req.u.commit.tag, MGR_TAG_LEN);
		f->commits++;
		if (f->mode == C_LOST_AFTER) {
			snprintf(why, why_len, "link lost");
			return -ENOTCONN;
		}
		return answer(&rsp, out, cap, out_len);
	case MGR_OP_PROVISION:
		return provision(f, &req, out, cap, out_len);
	case MGR_OP_CLOSE:
		f->open = false;
		return answer(&rsp, out, cap, out_len);
	default:
		return refuse(req.op, MGR_RC_UNKNOWN_OP, "?", out, cap,
			      out_len);
	}
}

/* ------------------------------------------------------------ helpers */

static void rm_dir(void)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static bool exists(const char *name)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static int copy_file(const char *from, const char *to)
{
	char a[128], b[128], cmd[300];

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", a, b);
	return system(cmd);
}

/* Opens the store as the instance would after OPEN. */
static int open_store(struct fake *f, const struct vtpm_mgr_link *l,
		      struct vtpm_store *st, enum mgr_open_status *status,
		      char *why, size_t why_len)
{
	struct vtpm_mgr_session s;
	int rc;

	rc = vtpm_mgr_open(l, &f->uuid, 0, &s, why, why_len);
	if (rc)
		return rc;
	if (status)
		*status = s.status;
	rc = vtpm_store_mgr_open(st, dir, l, &s, why, why_len);
	vtpm_mgr_session_wipe(&s);
	if (rc)
		f->open = false; /* the instance would exit: DETACH */
	return rc;
}

static void close_store(struct fake *f, const struct vtpm_mgr_link *l,
			struct vtpm_store *st)
{
	char why[256];

	vtpm_store_close(st);
	vtpm_mgr_close(l, why, sizeof(why));
	f->open = false;
}

static bool has_bytes(const char *name, const char *needle, size_t n)
{
	char p[128];
	size_t len = 0;
	uint8_t *b;
	bool found = false;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	b = th_read_file(p, &len);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = !memcmp(b + i, needle, n);
	free(b);
	return found;
}

/* ------------------------------------------------------------ cases */

static void test_new_then_existing(struct fake *f,
				   const struct vtpm_mgr_link *l)
{
	struct vtpm_store st = {0}, batch = {0};
	struct vtpm_tpm_stats ts;
	enum mgr_open_status status = 0;
	uint8_t cert[VTPM_EK_CERT_MAX];
	size_t clen = 0;
	char why[512];
	int rc;

	rc = open_store(f, l, &st, &status, why, sizeof(why));
	TH_CHECK(!rc && status == MGR_OPEN_NEW, "NEW open: %d %s", rc, why);
	if (rc)
		return;
	TH_CHECK(!vtpm_ek_batch_open(&batch, &st, why, sizeof(why)),
		 "batch: %s", why);
	rc = vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &batch,
							 .platform_open = true},
			       why, sizeof(why));
	TH_CHECK(!rc, "power on: %s", why);
	rc = rc ? rc : vtpm_provision(vtpm_mgr_certify, (void *)l, why,
				      sizeof(why));
	TH_CHECK(!rc && f->provisions == 1, "provision: %s", why);
	rc = vtpm_ek_batch_commit(&batch, why, sizeof(why));
	TH_CHECK(!rc && f->commits == 1,
		 "one batch commit = one COMMIT (%u): %s", f->commits, why);
	vtpm_tpm_power_off();
	vtpm_store_close(&batch);
	close_store(f, l, &st);
	TH_CHECK(exists("permall") && !exists("permall.new"),
		 "permall committed, no permall.new left");
	/* libtpms' permall carries its own magic and the "IBM" vendor
	 * strings in clear; the sealed blob must not. */
	TH_CHECK(!has_bytes("permall", "IBM", 3) && has_bytes("permall", "HVSB", 4),
		 "permall is a sealed blob, no plaintext");

	rc = open_store(f, l, &st, &status, why, sizeof(why));
	TH_CHECK(!rc && status == MGR_OPEN_EXISTING, "EXISTING open: %d %s",
		 rc, why);
	if (rc)
		return;
	rc = vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &st}, why,
			       sizeof(why));
	TH_CHECK(!rc, "power on existing: %s", why);
	vtpm_tpm_stats(&ts);
	TH_CHECK(!ts.manufactured, "not manufactured again");
	TH_CHECK(!vtpm_ek_read_cert(VTPM_EK_RSA2048, cert, sizeof(cert), &clen,
				    why, sizeof(why)) &&
			 clen > 100,
		 "RSA EK certificate readable: %s", why);
	TH_CHECK(!vtpm_ek_read_cert(VTPM_EK_ECC_P256, cert, sizeof(cert),
				    &clen, why, sizeof(why)),
		 "ECC EK certificate readable: %s", why);
	vtpm_tpm_power_off();
	close_store(f, l, &st);
}

static const uint8_t data_a[] = "state A", data_b[] = "state B",
		     data_c[] = "state C";

static bool load_is(struct vtpm_store *st, const char *name, const uint8_t *d,
		    size_t n)
{
	uint8_t *p = NULL;
	size_t len = 0;
	bool ok = st->ops->load(st->ctx, name, &p, &len) == 0 && len == n &&
		  !memcmp(p, d, n);

	free(p);
	return ok;
}

static void test_commit_failures(struct fake *f, const struct vtpm_mgr_link *l)
{
	struct vtpm_store st = {0};
	char why[512];
	int rc;

	/* A state of our own on top of what exists. */
	TH_CHECK(!open_store(f, l, &st, NULL, why, sizeof(why)), "open: %s",
		 why);
	rc = st.ops->store(st.ctx, "savestate", data_a, sizeof(data_a));
	TH_CHECK(!rc, "store A");
	close_store(f, l, &st);
	TH_CHECK(!copy_file("savestate", "old-savestate"), "keep A aside");

	/* Lost after the manager recorded it: the committed blob is
	 * permall.new's twin, savestate.new, and must survive. */
	TH_CHECK(!open_store(f, l, &st, NULL, why, sizeof(why)), "open: %s",
		 why);
	f->mode = C_LOST_AFTER;
	rc = st.ops->store(st.ctx, "savestate", data_b, sizeof(data_b));
	TH_CHECK(rc == -ENOTCONN, "lost-after store fails: %d", rc);
	f->mode = C_OK;
	rc = st.ops->store(st.ctx, "savestate", data_c, sizeof(data_c));
	TH_CHECK(rc == -EIO, "sticky: a later store fails too: %d", rc);
	TH_CHECK(strstr(vtpm_store_mgr_error(&st), "link lost") != NULL,
		 "error kept: %s", vtpm_store_mgr_error(&st));
	close_store(f, l, &st);
	TH_CHECK(exists("savestate.new"), "savestate.new kept");
	TH_CHECK(!open_store(f, l, &st, NULL, why, sizeof(why)),
		 "reopen after lost-after: %s", why);
	TH_CHECK(load_is(&st, "savestate", data_b, sizeof(data_b)),
		 "the committed B is what loads");
	TH_CHECK(!exists("savestate.new"), "renamed into place at open");

	/* Lost before: B stays, the written C is discarded. */
	f->mode = C_LOST_BEFORE;
	rc = st.ops->store(st.ctx, "savestate", data_c, sizeof(data_c));
	TH_CHECK(rc == -ENOTCONN, "lost-before store fails: %d", rc);
	f->mode = C_OK;
	close_store(f, l, &st);
	TH_CHECK(!open_store(f, l, &st, NULL, why, sizeof(why)),
		 "reopen after lost-before: %s", why);
	TH_CHECK(load_is(&st, "savestate", data_b, sizeof(data_b)),
		 "B, not the uncommitted C");
	TH_CHECK(!exists("savestate.new"), "uncommitted .new removed");

	/* Refused: -EACCES-like failure, the store fails, state intact. */
	f->mode = C_REFUSE;
	rc = st.ops->store(st.ctx, "savestate", data_c, sizeof(data_c));
	TH_CHECK(rc == -EIO &&
			 strstr(vtpm_store_mgr_error(&st), "root commit failed"),
		 "refused commit: %d %s", rc, vtpm_store_mgr_error(&st));
	f->mode = C_OK;
	close_store(f, l, &st);

	/* Rollback: A put back over B. */
	TH_CHECK(!copy_file("old-savestate", "savestate"), "A put back");
	rc = open_store(f, l, &st, NULL, why, sizeof(why));
	TH_CHECK(rc == -ESTALE && strstr(why, "rollback") &&
			 strstr(why, "savestate"),
		 "rollback refused naming it: %d %s", rc, why);
	if (!rc)
		close_store(f, l, &st);
	/* A blob of another state under this name. */
	TH_CHECK(!copy_file("permall", "savestate"), "permall as savestate");
	rc = open_store(f, l, &st, NULL, why, sizeof(why));
	TH_CHECK(rc && strstr(why, "savestate"), "wrong-name blob refused: %s",
		 why);
	if (!rc)
		close_store(f, l, &st);
}

static void test_key_and_remove(struct fake *f, const struct vtpm_mgr_link *l)
{
	struct vtpm_store st = {0};
	uint8_t saved[MGR_KEY_LEN];
	char why[512];
	int rc;

	/* Heal savestate: remove it through the manager first (absent
	 * state: whatever file is there goes at open). */
	f->ref[MGR_STATE_SAVESTATE - 1].present = false;
	f->ref[MGR_STATE_SAVESTATE - 1].generation += 1;
	memset(f->ref[MGR_STATE_SAVESTATE - 1].tag, 0, MGR_TAG_LEN);
	rc = open_store(f, l, &st, NULL, why, sizeof(why));
	TH_CHECK(!rc && !exists("savestate"),
		 "leftover of an absent state removed: %s", why);
	if (rc)
		return;
	rc = st.ops->store(st.ctx, "volatilestate", data_a, sizeof(data_a));
	TH_CHECK(!rc, "store volatilestate");
	rc = st.ops->remove(st.ctx, "volatilestate");
	TH_CHECK(!rc && !f->ref[MGR_STATE_VOLATILE - 1].present &&
			 !exists("volatilestate"),
		 "remove commits absent and unlinks");
	TH_CHECK(st.ops->remove(st.ctx, "volatilestate") == -ENOENT,
		 "removing an absent state: -ENOENT, no commit");
	close_store(f, l, &st);

	/* Wrong key: authentication fails, nothing is loaded. */
	memcpy(saved, f->key, sizeof(saved));
	f->key[0] ^= 1;
	rc = open_store(f, l, &st, NULL, why, sizeof(why));
	TH_CHECK(rc && strstr(why, "permall") && strstr(why, "auth"),
		 "wrong key refused: %s", why);
	memcpy(f->key, saved, sizeof(saved));

	/* Another instance's blob under our name. */
	f->uuid.b[15] ^= 1;
	rc = open_store(f, l, &st, NULL, why, sizeof(why));
	TH_CHECK(rc && strstr(why, "permall"), "other instance refused: %s",
		 why);
	f->uuid.b[15] ^= 1;
}

static void test_open_twice(struct fake *f, const struct vtpm_mgr_link *l)
{
	struct vtpm_mgr_session s;
	char why[512];
	int rc;

	rc = vtpm_mgr_open(l, &f->uuid, 0, &s, why, sizeof(why));
	TH_CHECK(!rc, "first open: %s", why);
	rc = vtpm_mgr_open(l, &f->uuid, 0, &s, why, sizeof(why));
	TH_CHECK(rc == -EBUSY && strstr(why, "already open") &&
			 strstr(why, "OPEN"),
		 "second open refused: %d %s", rc, why);
	TH_CHECK(!vtpm_mgr_uuid_parse("0123ABCD-89ab-cdef-0123-456789abcdef",
				      &s.uuid) &&
			 s.uuid.b[3] == 0xcd,
		 "uuid parse");
	TH_CHECK(vtpm_mgr_uuid_parse("0123abcd+89ab-cdef-0123-456789abcdef",
				     &s.uuid) == -EINVAL,
		 "uuid parse refuses a bad separator");
	f->open = false;
}

int main(void)
{
	struct fake f;
	struct vtpm_mgr_link l = {.call = fake_call, .ctx = &f};
	char why[256];
	bool created;

	memset(&f, 0, sizeof(f));
	for (unsigned i = 0; i < MGR_UUID_LEN; i++)
		f.uuid.b[i] = (uint8_t)(0x10 + i);
	for (unsigned i = 0; i < MGR_KEY_LEN; i++)
		f.key[i] = (uint8_t)(0xa0 ^ i);
	snprintf(dir, sizeof(dir), "/tmp/test_mgrstore.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(capath, sizeof(capath), "%s.ca.pem", dir);
	if (mgr_ca_open(capath, "test CA", &f.ca, &created, why, sizeof(why))) {
		fprintf(stderr, "CA: %s\n", why);
		rm_dir();
		return 2;
	}
	test_new_then_existing(&f, &l);
	test_commit_failures(&f, &l);
	test_key_and_remove(&f, &l);
	test_open_twice(&f, &l);
	mgr_ca_free(f.ca);
	unlink(capath);
	rm_dir();
	return th_done();
}
