/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proto - the vTPM manager's wire protocol (mgr_proto.h,
 * docs/formats.md §7):
 *   - a table of valid requests (every op, both channels, at their
 *     limits) and responses (every op, errors, a full LIST page): each
 *     encodes, parses back to the same struct on its channel, is refused
 *     on the other, re-encodes to the same bytes; every truncation and a
 *     trailing byte are refused;
 *   - golden bytes for a few messages, so the doc's tables are the code's;
 *   - a table of malformed requests and responses, each a valid message
 *     with one rule broken, with the rc and the words of why it must give
 *     (and which rule wins when several are broken);
 *   - encoders refusing invalid structs (each rule, and values too wide
 *     for their field that would otherwise be truncated silently);
 *   - the control client against a server thread: an answer, an error
 *     answer, silence (timeout, also while signals interrupt the wait), an
 *     oversized datagram, garbage, a closed peer; connect errors.
 *
 *   test_proto --seeds DIR   writes the valid messages as fuzz seeds
 *                            (tests/fuzz/corpus/mgrproto/) and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "vtpm-manager/mgr_proto.h"

#define UUID_A                                                                 \
	{                                                                      \
		{                                                              \
			0x6b, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x42, 0x63, 0x84,  \
				0x95, 0xa6, 0xb7, 0xc8, 0xd9, 0xea, 0xfb       \
		}                                                              \
	}
#define UUID_B                                                                 \
	{                                                                      \
		{                                                              \
			0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x47, 0x08, 0x89,  \
				0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10       \
		}                                                              \
	}
#define TAG_X                                                                  \
	{                                                                      \
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,    \
			0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb                     \
	}

/* Borrowed bytes the messages point into (filled by fill_data()). */
static uint8_t D1[2 * MGR_BUNDLE_MAX], D2[2 * MGR_BUNDLE_MAX];
#define REF(d, n)                                                              \
	{                                                                      \
		.data = (d), .len = (n)                                        \
	}

static void fill_data(void)
{
	for (size_t i = 0; i < sizeof(D1); i++) {
		D1[i] = (uint8_t)(i * 7 + 3);
		D2[i] = (uint8_t)(i * 13 + 5);
	}
}

/* ------------------------------------------------------ valid requests */

enum {
	R_OPEN,
	R_OPEN12,
	R_COMMIT,
	R_COMMIT_ABSENT,
	R_PROV1,
	R_PROV2,
	R_PROV_MAX,
	R_CLOSE,
	R_STATUS,
	R_ATTACH,
	R_ATTACH_MAX,
	R_DETACH,
	R_DELETE,
	R_RESET,
	R_LIST,
	R_EXPORT,
	R_EXPORT_MAX,
	R_IMPORT,
	R_IMPORT_MAX,
	R_IDENTITY,
	R_QUOTE,
	R_QUOTE_MAX,
	R_COUNT
};

#define INFO                                                                   \
	{                                                                      \
		.manufacturer = 0x49424d00, .firmware_version1 = 0x20191023,   \
		.firmware_version2 = 0x00163636, .family = "2.0", .level = 0,  \
		.revision = 164, .vendor = "SW   TPM"                          \
	}

static struct mgr_req reqs[R_COUNT];
static const char *const req_names[R_COUNT] = {
	"open",	      "open-tpm12", "commit", "commit-absent", "prov1",
	"prov2",      "prov-max",   "close",  "status",	       "attach",
	"attach-max", "detach",	    "delete", "reset",	       "list",
	"export",     "export-max", "import", "import-max",    "identity",
	"quote",      "quote-max",
};

static void build_reqs(void)
{
	static const struct mgr_req r[R_COUNT] = {
		[R_OPEN] = {.op = MGR_OP_OPEN, .u.open = {UUID_A, 0}},
		[R_OPEN12] = {.op = MGR_OP_OPEN,
			      .u.open = {UUID_B, MGR_OPEN_F_TPM12}},
		[R_COMMIT] = {.op = MGR_OP_COMMIT,
			      .u.commit = {MGR_STATE_VOLATILE, true,
					   0x0102030405060708ull, TAG_X}},
		[R_COMMIT_ABSENT] = {.op = MGR_OP_COMMIT,
				     .u.commit = {MGR_STATE_SAVESTATE,
						  false,
						  UINT64_MAX,
						  {0}}},
		[R_PROV1] = {.op = MGR_OP_PROVISION,
			     .u.provision = {1,
					     {{MGR_EK_RSA2048, REF(D1, 4)}},
					     INFO}},
		[R_PROV2] = {.op = MGR_OP_PROVISION,
			     .u.provision = {2,
					     {{MGR_EK_ECC_P256, REF(D1, 4)},
					      {MGR_EK_RSA2048, REF(D2, 6)}},
					     INFO}},
		[R_PROV_MAX] = {.op = MGR_OP_PROVISION,
				.u.provision = {2,
						{{MGR_EK_RSA2048,
						  REF(D1, MGR_EK_PUBLIC_MAX)},
						 {MGR_EK_ECC_P256,
						  REF(D2, MGR_EK_PUBLIC_MAX)}},
						{.family = "abcd",
						 .vendor =
							 "0123456789abcdef"}}},
		[R_CLOSE] = {.op = MGR_OP_CLOSE},
		[R_STATUS] = {.op = MGR_CTL_STATUS},
		[R_ATTACH] = {.op = MGR_CTL_ATTACH,
			      .u.attach = {UUID_A, UUID_B, "dom_U", 0, 7,
					   true}},
		[R_ATTACH_MAX] = {.op = MGR_CTL_ATTACH,
				  .u.attach = {UUID_B, UUID_A, "", 1,
					       0xfffffffe, false}},
		[R_DETACH] = {.op = MGR_CTL_DETACH, .u.target = {UUID_A}},
		[R_DELETE] = {.op = MGR_CTL_DELETE, .u.target = {UUID_B}},
		[R_RESET] = {.op = MGR_CTL_RESET, .u.target = {UUID_A}},
		[R_LIST] = {.op = MGR_CTL_LIST, .u.list = {0xffffffffu}},
		[R_EXPORT] = {.op = MGR_CTL_EXPORT,
			      .u.export_ = {UUID_A, REF(D1, 4)}},
		[R_EXPORT_MAX] = {.op = MGR_CTL_EXPORT,
				  .u.export_ = {UUID_A,
						REF(D2, MGR_PUBKEY_MAX)}},
		[R_IMPORT] = {.op = MGR_CTL_IMPORT, .u.import = {REF(D2, 1)}},
		[R_IMPORT_MAX] = {.op = MGR_CTL_IMPORT,
				  .u.import = {REF(D1, MGR_BUNDLE_MAX)}},
		[R_IDENTITY] = {.op = MGR_CTL_IDENTITY},
		[R_QUOTE] = {.op = MGR_CTL_DEEP_QUOTE,
			     .u.deep_quote = {UUID_A,
					      REF(D1, 4),
					      {1, 2, 3, 4, 5, 6, 7, 8},
					      8,
					      0x80}},
		[R_QUOTE_MAX] = {.op = MGR_CTL_DEEP_QUOTE,
				 .u.deep_quote = {UUID_B,
						  REF(D2, MGR_EK_PUBLIC_MAX),
						  {0},
						  MGR_NONCE_MAX,
						  0xffffff}},
	};

	memcpy(reqs, r, sizeof(r));
	/* A 255-byte label of every byte the rule allows. */
	for (unsigned i = 0; i < MGR_LABEL_MAX; i++) {
		uint8_t b = (uint8_t)(0x20 + i % 0xe0);

		reqs[R_ATTACH_MAX].u.attach.label[i] =
			(char)(b == ':' || b == 0x7f ? 'x' : b);
	}
	memset(reqs[R_QUOTE_MAX].u.deep_quote.nonce, 0xa5, MGR_NONCE_MAX);
}

static enum mgr_channel op_channel(uint32_t op)
{
	return op < 0x100 ? MGR_CH_INSTANCE : MGR_CH_CONTROL;
}

static enum mgr_channel other(enum mgr_channel ch)
{
	return ch == MGR_CH_INSTANCE ? MGR_CH_CONTROL : MGR_CH_INSTANCE;
}

static bool same_ref(const struct mgr_blob_ref *a, const struct mgr_blob_ref *b)
{
	return a->len == b->len &&
	       (!a->len || !memcmp(a->data, b->data, a->len));
}

static bool same_ek(uint8_t n, const struct mgr_ek_item *a,
		    const struct mgr_ek_item *b)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].kind != b[i].kind || !same_ref(&a[i].data, &b[i].data))
			return false;
	return true;
}

static bool same_info(const struct mgr_tpm_info *a,
		      const struct mgr_tpm_info *b)
{
	return a->manufacturer == b->manufacturer &&
	       a->firmware_version1 == b->firmware_version1 &&
	       a->firmware_version2 == b->firmware_version2 &&
	       !strcmp(a->family, b->family) && a->level == b->level &&
	       a->revision == b->revision && !strcmp(a->vendor, b->vendor);
}

#define SAME_UUID(x, y) (!memcmp((x).b, (y).b, MGR_UUID_LEN))

static bool req_same(const struct mgr_req *a, const struct mgr_req *b)
{
	if (a->op != b->op)
		return false;
	switch (a->op) {
	case MGR_OP_OPEN:
		return SAME_UUID(a->u.open.uuid, b->u.open.uuid) &&
		       a->u.open.flags == b->u.open.flags;
	case MGR_OP_COMMIT:
		return a->u.commit.name == b->u.commit.name &&
		       a->u.commit.present == b->u.commit.present &&
		       a->u.commit.generation == b->u.commit.generation &&
		       !memcmp(a->u.commit.tag, b->u.commit.tag, MGR_TAG_LEN);
	case MGR_OP_PROVISION:
		return a->u.provision.count == b->u.provision.count &&
		       same_ek(a->u.provision.count, a->u.provision.ek,
			       b->u.provision.ek) &&
		       same_info(&a->u.provision.info, &b->u.provision.info);
	case MGR_CTL_ATTACH:
		return SAME_UUID(a->u.attach.uuid, b->u.attach.uuid) &&
		       SAME_UUID(a->u.attach.domain, b->u.attach.domain) &&
		       !strcmp(a->u.attach.label, b->u.attach.label) &&
		       a->u.attach.flags == b->u.attach.flags &&
		       a->u.attach.stub_domid == b->u.attach.stub_domid &&
		       a->u.attach.create == b->u.attach.create;
	case MGR_CTL_DETACH:
	case MGR_CTL_DELETE:
	case MGR_CTL_RESET:
		return SAME_UUID(a->u.target.uuid, b->u.target.uuid);
	case MGR_CTL_LIST:
		return a->u.list.start == b->u.list.start;
	case MGR_CTL_EXPORT:
		return SAME_UUID(a->u.export_.uuid, b->u.export_.uuid) &&
		       same_ref(&a->u.export_.dest_pubkey,
				&b->u.export_.dest_pubkey);
	case MGR_CTL_IMPORT:
		return same_ref(&a->u.import.bundle, &b->u.import.bundle);
	case MGR_CTL_DEEP_QUOTE:
		return SAME_UUID(a->u.deep_quote.uuid, b->u.deep_quote.uuid) &&
		       same_ref(&a->u.deep_quote.ek_public,
				&b->u.deep_quote.ek_public) &&
		       a->u.deep_quote.nonce_len == b->u.deep_quote.nonce_len &&
		       !memcmp(a->u.deep_quote.nonce, b->u.deep_quote.nonce,
			       a->u.deep_quote.nonce_len) &&
		       a->u.deep_quote.pcr_mask == b->u.deep_quote.pcr_mask;
	default:
		return true;
	}
}

/* ----------------------------------------------------- valid responses */

enum {
	S_OPEN_NEW,
	S_OPEN_EXISTING,
	S_COMMIT,
	S_PROV1,
	S_PROV2,
	S_CLOSE,
	S_STATUS,
	S_ATTACH,
	S_DETACH,
	S_DELETE,
	S_RESET,
	S_LIST_EMPTY,
	S_LIST_ONE,
	S_LIST_FULL,
	S_EXPORT,
	S_EXPORT_MAX,
	S_IMPORT,
	S_IDENTITY,
	S_QUOTE,
	S_QUOTE_MAX,
	S_ERR_OPEN,
	S_ERR_EMPTY,
	S_ERR_UNKNOWN_OP,
	S_ERR_MAX,
	S_COUNT
};

static struct mgr_rsp rsps[S_COUNT];
static const char *const rsp_names[S_COUNT] = {
	"open-new", "open-existing", "commit",	       "prov1",
	"prov2",    "close",	     "status",	       "attach",
	"detach",   "delete",	     "reset",	       "list-empty",
	"list-one", "list-full",     "export",	       "export-max",
	"import",   "identity",	     "quote",	       "quote-max",
	"err-open", "err-empty",     "err-unknown-op", "err-max",
};

static void list_entry(struct mgr_list_entry *e, unsigned i)
{
	static const struct mgr_uuid a = UUID_A, b = UUID_B;

	e->uuid = a;
	e->uuid.b[15] = (uint8_t)i;
	e->domain = b;
	snprintf(e->label, sizeof(e->label), "vm_%u", i);
	e->flags = i % 16;
	e->stub_domid = i % 3 ? 100 + i : MGR_NO_DOMID;
	e->open = i % 3 == 1;
	for (unsigned s = 0; s < MGR_STATE_NAMES; s++)
		e->generation[s] = (uint64_t)i << (8 * s);
}

static void build_rsps(void)
{
	static const struct mgr_uuid a = UUID_A, b = UUID_B;
	struct mgr_rsp *r;

	memset(rsps, 0, sizeof(rsps));
	rsps[S_OPEN_NEW].op = MGR_OP_OPEN;
	rsps[S_OPEN_NEW].u.open.status = MGR_OPEN_NEW;
	memset(rsps[S_OPEN_NEW].u.open.key, 0x5a, MGR_KEY_LEN);
	r = &rsps[S_OPEN_EXISTING];
	r->op = MGR_OP_OPEN;
	r->u.open.status = MGR_OPEN_EXISTING;
	r->u.open.flags = MGR_INST_F_TPM12 | MGR_INST_F_PROVISIONED;
	memcpy(r->u.open.key, D1, MGR_KEY_LEN);
	r->u.open.ref[0] = (struct mgr_state_ref){12, TAG_X, true};
	r->u.open.ref[1] = (struct mgr_state_ref){7, {0}, false};
	r->u.open.ref[2] = (struct mgr_state_ref){UINT64_MAX, TAG_X, true};
	rsps[S_COMMIT].op = MGR_OP_COMMIT;
	r = &rsps[S_PROV1];
	r->op = MGR_OP_PROVISION;
	r->u.provision.count = 1;
	r->u.provision.cert[0] =
		(struct mgr_ek_item){MGR_EK_ECC_P256, REF(D2, 500)};
	r = &rsps[S_PROV2];
	r->op = MGR_OP_PROVISION;
	r->u.provision.count = 2;
	r->u.provision.cert[0] =
		(struct mgr_ek_item){MGR_EK_RSA2048, REF(D1, 1200)};
	r->u.provision.cert[1] =
		(struct mgr_ek_item){MGR_EK_ECC_P256, REF(D2, 900)};
	rsps[S_CLOSE].op = MGR_OP_CLOSE;
	r = &rsps[S_STATUS];
	r->op = MGR_CTL_STATUS;
	r->u.status.manager = a;
	r->u.status.root_generation = 41;
	r->u.status.counter = 41;
	r->u.status.nv_index = 0x01800a70u;
	r->u.status.pcr_mask = 0x95;
	r->u.status.instances = 3;
	r->u.status.attached = 2;
	r->u.status.open = 1;
	r->u.status.commits = 1000;
	r->u.status.commit_batches = 250;
	rsps[S_ATTACH].op = MGR_CTL_ATTACH;
	rsps[S_ATTACH].u.attach.created = true;
	rsps[S_DETACH].op = MGR_CTL_DETACH;
	rsps[S_DELETE].op = MGR_CTL_DELETE;
	rsps[S_RESET].op = MGR_CTL_RESET;
	r = &rsps[S_LIST_EMPTY];
	r->op = MGR_CTL_LIST;
	r->u.list.next = MGR_NO_DOMID;
	r = &rsps[S_LIST_ONE];
	r->op = MGR_CTL_LIST;
	r->u.list.total = 9;
	r->u.list.next = 5;
	r->u.list.count = 1;
	list_entry(&r->u.list.entry[0], 1);
	r = &rsps[S_LIST_FULL];
	r->op = MGR_CTL_LIST;
	r->u.list.total = 200;
	r->u.list.next = 64;
	r->u.list.count = MGR_LIST_PAGE;
	for (unsigned i = 0; i < MGR_LIST_PAGE; i++) {
		list_entry(&r->u.list.entry[i], i);
		/* Longest labels: a full page is the largest message. */
		memset(r->u.list.entry[i].label, 'L', MGR_LABEL_MAX);
		r->u.list.entry[i].label[MGR_LABEL_MAX] = '\0';
	}
	rsps[S_EXPORT].op = MGR_CTL_EXPORT;
	rsps[S_EXPORT].u.export_.bundle = (struct mgr_blob_ref)REF(D1, 333);
	rsps[S_EXPORT_MAX].op = MGR_CTL_EXPORT;
	rsps[S_EXPORT_MAX].u.export_.bundle =
		(struct mgr_blob_ref)REF(D2, MGR_BUNDLE_MAX);
	rsps[S_IMPORT].op = MGR_CTL_IMPORT;
	rsps[S_IMPORT].u.import.uuid = b;
	r = &rsps[S_IDENTITY];
	r->op = MGR_CTL_IDENTITY;
	r->u.identity.manager = b;
	r->u.identity.pubkey = (struct mgr_blob_ref)REF(D1, 91);
	r->u.identity.ca_cert = (struct mgr_blob_ref)REF(D2, 700);
	r = &rsps[S_QUOTE];
	r->op = MGR_CTL_DEEP_QUOTE;
	r->u.deep_quote.attest = (struct mgr_blob_ref)REF(D1, 150);
	r->u.deep_quote.sig = (struct mgr_blob_ref)REF(D2, 72);
	r->u.deep_quote.ak_public = (struct mgr_blob_ref)REF(D1 + 5, 90);
	r = &rsps[S_QUOTE_MAX];
	r->op = MGR_CTL_DEEP_QUOTE;
	r->u.deep_quote.attest = (struct mgr_blob_ref)REF(D1, 1024);
	r->u.deep_quote.sig = (struct mgr_blob_ref)REF(D2, 1024);
	r->u.deep_quote.ak_public = (struct mgr_blob_ref)REF(D1, 1024);
	r = &rsps[S_ERR_OPEN];
	r->op = MGR_OP_OPEN;
	r->rc = MGR_RC_DENIED;
	snprintf(r->msg, sizeof(r->msg), "domain 7 is not attached");
	rsps[S_ERR_EMPTY].op = MGR_CTL_DEEP_QUOTE;
	rsps[S_ERR_EMPTY].rc = MGR_RC_PLATFORM;
	rsps[S_ERR_UNKNOWN_OP].op = 0x7777;
	rsps[S_ERR_UNKNOWN_OP].rc = MGR_RC_UNKNOWN_OP;
	snprintf(rsps[S_ERR_UNKNOWN_OP].msg, MGR_MSG_MAX, "op 0x7777");
	r = &rsps[S_ERR_MAX];
	r->op = MGR_OP_COMMIT;
	r->rc = MGR_RC_CORRUPT;
	for (unsigned i = 0; i < MGR_MSG_MAX; i++)
		r->msg[i] = (char)(0x20 + i % 95);
}

static bool rsp_same(const struct mgr_rsp *a, const struct mgr_rsp *b)
{
	if (a->op != b->op || a->rc != b->rc)
		return false;
	if (a->rc != MGR_RC_OK)
		return !strcmp(a->msg, b->msg);
	switch (a->op) {
	case MGR_OP_OPEN:
		if (a->u.open.status != b->u.open.status ||
		    a->u.open.flags != b->u.open.flags ||
		    memcmp(a->u.open.key, b->u.open.key, MGR_KEY_LEN))
			return false;
		for (unsigned i = 0; i < MGR_STATE_NAMES; i++)
			if (a->u.open.ref[i].generation !=
				    b->u.open.ref[i].generation ||
			    a->u.open.ref[i].present !=
				    b->u.open.ref[i].present ||
			    memcmp(a->u.open.ref[i].tag, b->u.open.ref[i].tag,
				   MGR_TAG_LEN))
				return false;
		return true;
	case MGR_OP_PROVISION:
		return a->u.provision.count == b->u.provision.count &&
		       same_ek(a->u.provision.count, a->u.provision.cert,
			       b->u.provision.cert);
	case MGR_CTL_ATTACH:
		return a->u.attach.created == b->u.attach.created;
	case MGR_CTL_STATUS:
		return !memcmp(&a->u.status, &b->u.status, sizeof(a->u.status));
	case MGR_CTL_LIST:
		if (a->u.list.total != b->u.list.total ||
		    a->u.list.next != b->u.list.next ||
		    a->u.list.count != b->u.list.count)
			return false;
		for (unsigned i = 0; i < a->u.list.count; i++) {
			const struct mgr_list_entry *x = &a->u.list.entry[i],
						    *y = &b->u.list.entry[i];

			if (!SAME_UUID(x->uuid, y->uuid) ||
			    !SAME_UUID(x->domain, y->domain) ||
			    strcmp(x->label, y->label) ||
			    x->flags != y->flags ||
			    x->stub_domid != y->stub_domid ||
			    x->open != y->open ||
			    memcmp(x->generation, y->generation,
				   sizeof(x->generation)))
				return false;
		}
		return true;
	case MGR_CTL_EXPORT:
		return same_ref(&a->u.export_.bundle, &b->u.export_.bundle);
	case MGR_CTL_IMPORT:
		return SAME_UUID(a->u.import.uuid, b->u.import.uuid);
	case MGR_CTL_IDENTITY:
		return SAME_UUID(a->u.identity.manager,
				 b->u.identity.manager) &&
		       same_ref(&a->u.identity.pubkey, &b->u.identity.pubkey) &&
		       same_ref(&a->u.identity.ca_cert, &b->u.identity.ca_cert);
	case MGR_CTL_DEEP_QUOTE:
		return same_ref(&a->u.deep_quote.attest,
				&b->u.deep_quote.attest) &&
		       same_ref(&a->u.deep_quote.sig, &b->u.deep_quote.sig) &&
		       same_ref(&a->u.deep_quote.ak_public,
				&b->u.deep_quote.ak_public);
	default:
		return true;
	}
}

/* ---------------------------------------------------------- round trips */

static uint8_t buf[MGR_CTL_MSG_MAX + 64], buf2[MGR_CTL_MSG_MAX + 64];
static struct mgr_rsp rsp_out, rsp_tmp;

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Every proper prefix is refused: as sent (size field now wrong, or no
 * header) and with the size field made to match (a field is cut). */
static void check_truncations(const char *name, bool is_req,
			      enum mgr_channel ch, uint32_t op,
			      const uint8_t *msg, size_t n)
{
	static uint8_t cut[MGR_CTL_MSG_MAX];
	struct mgr_req q;
	char why[256];
	unsigned bad = 0, bad_why = 0;
	enum mgr_rc rc;

	memcpy(cut, msg, n);
	for (size_t k = 0; k < n; k++) {
		for (int fix = 0; fix < 2; fix++) {
			if (fix && k < MGR_HDR_LEN)
				continue;
			if (k >= MGR_HDR_LEN)
				put_be32(cut + 2,
					 fix ? (uint32_t)k : (uint32_t)n);
			if (is_req) {
				rc = mgr_req_parse(ch, cut, k, &q, why,
						   sizeof(why));
			} else {
				rsp_tmp.op = op;
				rc = mgr_rsp_parse(ch, cut, k, &rsp_tmp, why,
						   sizeof(why));
			}
			bad += rc != MGR_RC_MALFORMED;
			bad_why += fix && !strstr(why, "truncated in");
		}
	}
	TH_CHECK(bad == 0, "%s: %u truncations not refused as MALFORMED", name,
		 bad);
	TH_CHECK(bad_why == 0, "%s: %u cut fields not named 'truncated in'",
		 name, bad_why);
}

/* One more byte (size field matching) is refused as trailing. */
static void check_trailing(const char *name, bool is_req, enum mgr_channel ch,
			   uint32_t op, const uint8_t *msg, size_t n)
{
	struct mgr_req q;
	char why[256];
	enum mgr_rc rc;

	memcpy(buf2, msg, n);
	buf2[n] = 0;
	put_be32(buf2 + 2, (uint32_t)n + 1);
	rsp_tmp.op = op;
	rc = is_req ? mgr_req_parse(ch, buf2, n + 1, &q, why, sizeof(why))
		    : mgr_rsp_parse(ch, buf2, n + 1, &rsp_tmp, why,
				    sizeof(why));
	TH_CHECK(rc == MGR_RC_MALFORMED && strstr(why, "1 trailing byte"),
		 "%s: trailing byte: rc %d why '%s'", name, rc, why);
}

static void test_req_roundtrips(void)
{
	for (unsigned i = 0; i < R_COUNT; i++) {
		const struct mgr_req *r = &reqs[i];
		enum mgr_channel ch = op_channel(r->op);
		struct mgr_req p;
		char why[256];
		size_t n, n2;
		enum mgr_rc rc;

		n = mgr_req_encode(r, buf, sizeof(buf));
		if (!TH_CHECK(n >= MGR_HDR_LEN, "req %s encodes", req_names[i]))
			continue;
		rc = mgr_req_parse(ch, buf, n, &p, why, sizeof(why));
		TH_CHECK(rc == MGR_RC_OK && !why[0], "req %s parses: %s",
			 req_names[i], why);
		TH_CHECK(req_same(r, &p), "req %s: parsed == encoded",
			 req_names[i]);
		n2 = mgr_req_encode(&p, buf2, sizeof(buf2));
		TH_CHECK(n2 == n && !memcmp(buf, buf2, n),
			 "req %s: encode(parse(x)) == x", req_names[i]);
		rc = mgr_req_parse(other(ch), buf, n, &p, why, sizeof(why));
		TH_CHECK(rc == (n > MGR_RING_MSG_MAX ? MGR_RC_TOO_BIG
						     : MGR_RC_UNKNOWN_OP) &&
				 p.op == r->op,
			 "req %s refused on the other channel: %d %s",
			 req_names[i], rc, why);
		TH_CHECK(mgr_req_encode(r, buf2, n - 1) == 0 &&
				 mgr_req_encode(r, buf2, n) == n,
			 "req %s: needs exactly %zu bytes", req_names[i], n);
		check_truncations(req_names[i], true, ch, r->op, buf, n);
		check_trailing(req_names[i], true, ch, r->op, buf, n);
	}
}

static void test_rsp_roundtrips(void)
{
	for (unsigned i = 0; i < S_COUNT; i++) {
		const struct mgr_rsp *r = &rsps[i];
		enum mgr_channel ch = op_channel(r->op);
		char why[256];
		size_t n, n2;
		enum mgr_rc rc;

		n = mgr_rsp_encode(r, buf, sizeof(buf));
		if (!TH_CHECK(n >= MGR_HDR_LEN, "rsp %s encodes", rsp_names[i]))
			continue;
		rsp_out.op = r->op;
		rc = mgr_rsp_parse(ch, buf, n, &rsp_out, why, sizeof(why));
		TH_CHECK(rc == MGR_RC_OK && !why[0], "rsp %s parses: %s",
			 rsp_names[i], why);
		TH_CHECK(rsp_same(r, &rsp_out), "rsp %s: parsed == encoded",
			 rsp_names[i]);
		n2 = mgr_rsp_encode(&rsp_out, buf2, sizeof(buf2));
		TH_CHECK(n2 == n && !memcmp(buf, buf2, n),
			 "rsp %s: encode(parse(x)) == x", rsp_names[i]);
		/* An error answers any op on any channel; params do not. */
		rsp_out.op = r->op;
		rc = mgr_rsp_parse(other(ch), buf, n, &rsp_out, why,
				   sizeof(why));
		if (r->rc != MGR_RC_OK)
			TH_CHECK(rc == MGR_RC_OK && rsp_out.rc == r->rc,
				 "rsp %s: an error parses on both channels",
				 rsp_names[i]);
		else
			TH_CHECK(rc == (n > MGR_RING_MSG_MAX
						? MGR_RC_TOO_BIG
						: MGR_RC_MALFORMED),
				 "rsp %s refused on the other channel: %s",
				 rsp_names[i], why);
		TH_CHECK(mgr_rsp_encode(r, buf2, n - 1) == 0,
			 "rsp %s: refused in %zu bytes", rsp_names[i], n - 1);
		check_truncations(rsp_names[i], false, ch, r->op, buf, n);
		check_trailing(rsp_names[i], false, ch, r->op, buf, n);
	}
}

/* ---------------------------------------------------------------- golden */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*hex) {
		unsigned v;

		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (n == cap || sscanf(hex, "%2x", &v) != 1)
			abort(); /* a typo in this file */
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void test_golden(void)
{
	static const struct {
		int req, rsp;
		const char *hex;
	} g[] = {
		{R_COMMIT, -1,
		 "4856 00000024 00000002 02 01 0102030405060708 "
		 "deadbeef00112233445566778899aabb"},
		{R_OPEN12, -1,
		 "4856 0000001e 00000001 0102030405064708890a0b0c0d0e0f10 "
		 "00000001"},
		{R_LIST, -1, "4856 0000000e 00000106 ffffffff"},
		{R_STATUS, -1, "4856 0000000a 00000101"},
		{R_PROV1, -1,
		 "4856 00000033 00000003 01 01 0004 030a1118 "
		 "49424d00 20191023 00163636 322e3000 00000000 000000a4 "
		 "08 535720202054504d"},
		{R_QUOTE, -1,
		 "4856 0000002d 0000010a 6b1d2e3f40514263 8495a6b7c8d9eafb "
		 "0004 030a1118 08 0102030405060708 00000080"},
		{-1, S_ATTACH, "4856 0000000b 00000000 01"},
		{-1, S_ERR_OPEN,
		 "4856 00000024 00000003 0018 "
		 "646f6d61696e2037206973206e6f74206174746163686564"},
	};
	static uint8_t want[256];

	for (unsigned i = 0; i < TH_ARRAY_LEN(g); i++) {
		size_t wn = unhex(g[i].hex, want, sizeof(want)), n;

		n = g[i].req >= 0 ? mgr_req_encode(&reqs[g[i].req], buf, 256)
				  : mgr_rsp_encode(&rsps[g[i].rsp], buf, 256);
		TH_CHECK(n == wn && !memcmp(buf, want, n),
			 "golden %s: encoding is formats.md §7's",
			 g[i].req >= 0 ? req_names[g[i].req]
				       : rsp_names[g[i].rsp]);
	}
}

/* ------------------------------------------------------------- malformed */

/* A valid message (base) with one change: bytes written at off (the size
 * field then set to the new length unless raw_size), cut to `cut` bytes,
 * or bytes appended.  base < 0: hex is the whole message. */
struct bad {
	const char *name;
	enum mgr_channel ch;
	int base;
	unsigned off;
	const char *patch;
	unsigned cut;
	const char *append;
	bool raw_size;
	enum mgr_rc rc;
	const char *why;
};

#define I   MGR_CH_INSTANCE
#define C   MGR_CH_CONTROL
#define MAL MGR_RC_MALFORMED
#define UNK MGR_RC_UNKNOWN_OP
#define BIG MGR_RC_TOO_BIG

/* Offsets: header 10; PROV1: count 10, kind 11, len 12, ek 14..17,
 * manufacturer 18, fw 22/26, family 30, level 34, revision 38, vendor
 * 42 + 43..50; ATTACH: uuid 10, domain 26, label 42 + 43..47, flags 48,
 * stub 52, create 56; QUOTE: uuid 10, ek 26 + 28..31, nonce 32 + 33..40,
 * pcr_mask 41. */
static const struct bad bad_reqs[] = {
	{"empty", I, -1, .patch = "", .rc = MAL, .why = "0 bytes is shorter"},
	{"9 bytes", C, -1, .patch = "4856 0000000a 000001", .rc = MAL,
	 .why = "shorter than the 10-byte header"},
	{"magic", I, R_OPEN, 0, "4855", .rc = MAL,
	 .why = "magic 0x4855 is not 0x4856"},
	{"TPM tag", I, -1, .patch = "8001 0000000a 00000144", .rc = MAL,
	 .why = "magic 0x8001"},
	{"size 0", I, R_OPEN, 2, "00000000", .raw_size = true, .rc = MAL,
	 .why = "size field 0 differs from its length 30"},
	{"size +1", C, R_STATUS, 2, "0000000b", .raw_size = true, .rc = MAL,
	 .why = "size field 11 differs from its length 10"},
	{"op 0", I, R_CLOSE, 6, "00000000", .rc = UNK,
	 .why = "op 0x0000 (?) is not an op of the instance channel"},
	{"op 0x99", C, R_STATUS, 6, "00000099", .rc = UNK, .why = "op 0x0099"},
	{"ctl op on ring", I, R_STATUS, .rc = UNK,
	 .why = "op 0x0101 (CTL_STATUS) is not an op of the instance"},
	{"ring op on ctl", C, R_OPEN, .rc = UNK,
	 .why = "op 0x0001 (OPEN) is not an op of the control channel"},
	{"too big for ring", I, R_IMPORT_MAX, .rc = BIG,
	 .why = "request of 8204 bytes exceeds the instance channel's 4088"},
	/* which rule wins: size before magic, magic before size, size
	 * before op, op before params */
	{"too big + magic", I, R_IMPORT_MAX, 0, "0000", .rc = BIG,
	 .why = "exceeds"},
	{"magic + size", I, R_OPEN, 0, "0000 00000000", .raw_size = true,
	 .rc = MAL, .why = "magic"},
	{"size + op", I, R_OPEN, 2, "00000000 00000099", .raw_size = true,
	 .rc = MAL, .why = "size field"},
	{"op + params", I, R_COMMIT, 6, "00000009 09", .rc = UNK,
	 .why = "op 0x0009"},
	{"first field wins", I, R_COMMIT, 10, "09 09", .rc = MAL,
	 .why = "COMMIT: name 9 is not 1..3"},

	{"OPEN flags", I, R_OPEN, 26, "00000003", .rc = MAL,
	 .why = "OPEN: flags 0x3 has unknown bits 0x2"},
	{"OPEN cut", I, R_OPEN, .cut = 28, .rc = MAL,
	 .why = "OPEN: truncated in flags (4 bytes needed, 2 left)"},
	{"OPEN trailing", I, R_OPEN, .append = "00", .rc = MAL,
	 .why = "OPEN: 1 trailing bytes after the last field"},
	{"COMMIT name 0", I, R_COMMIT, 10, "00", .rc = MAL,
	 .why = "COMMIT: name 0 is not 1..3"},
	{"COMMIT name 7", I, R_COMMIT, 10, "07", .rc = MAL,
	 .why = "COMMIT: name 7 is not 1..3"},
	{"COMMIT present 2", I, R_COMMIT, 11, "02", .rc = MAL,
	 .why = "COMMIT: present 2 is not 0 or 1"},
	{"COMMIT absent tag", I, R_COMMIT_ABSENT, 35, "01", .rc = MAL,
	 .why = "COMMIT: tag is not all zero with present 0"},
	{"COMMIT cut tag", I, R_COMMIT, .cut = 30, .rc = MAL,
	 .why = "COMMIT: truncated in tag"},
	{"PROVISION count 0", I, R_PROV1, 10, "00", .rc = MAL,
	 .why = "PROVISION: count 0 is not 1..2"},
	{"PROVISION count 3", I, R_PROV1, 10, "03", .rc = MAL,
	 .why = "PROVISION: count 3 is not 1..2"},
	{"PROVISION kind 0", I, R_PROV1, 11, "00", .rc = MAL,
	 .why = "PROVISION: ek[0] kind 0 is not 1 (RSA-2048) or 2"},
	{"PROVISION kind 3", I, R_PROV2, 18, "03", .rc = MAL,
	 .why = "PROVISION: ek[1] kind 3"},
	{"PROVISION kind twice", I, R_PROV2, 18, "02", .rc = MAL,
	 .why = "PROVISION: ek[1] kind 2 appears twice"},
	{"PROVISION ek len 0", I, R_PROV1, 12, "0000", .rc = MAL,
	 .why = "PROVISION: ek[0] data length 0 is not 1..512"},
	{"PROVISION ek len 513", I, R_PROV1, 12, "0201", .rc = MAL,
	 .why = "PROVISION: ek[0] data length 513 is not 1..512"},
	{"PROVISION ek beyond end", I, R_PROV1, 12, "0200", .rc = MAL,
	 .why = "PROVISION: ek[0] truncated in data (512 bytes needed, 37 "
		"left)"},
	{"PROVISION family ctl", I, R_PROV1, 30, "01", .rc = MAL,
	 .why = "PROVISION: family byte 0 (0x01) is not printable"},
	{"PROVISION family 0x80", I, R_PROV1, 32, "80", .rc = MAL,
	 .why = "family byte 2 (0x80)"},
	{"PROVISION family after NUL", I, R_PROV1, 30, "32002e30", .rc = MAL,
	 .why = "PROVISION: family has a byte after its NUL padding"},
	{"PROVISION vendor 17", I, R_PROV1, 42, "11", .rc = MAL,
	 .why = "PROVISION: vendor length 17 is over 16"},
	{"PROVISION vendor ctl", I, R_PROV1, 45, "7f", .rc = MAL,
	 .why = "PROVISION: vendor is not printable ASCII"},
	{"PROVISION vendor cut", I, R_PROV1, .cut = 50, .rc = MAL,
	 .why = "PROVISION: truncated in vendor (8 bytes needed, 7 left)"},
	{"CLOSE trailing", I, R_CLOSE, .append = "0000", .rc = MAL,
	 .why = "CLOSE: 2 trailing bytes"},
	{"STATUS trailing", C, R_STATUS, .append = "00", .rc = MAL,
	 .why = "CTL_STATUS: 1 trailing"},
	{"IDENTITY trailing", C, R_IDENTITY, .append = "01", .rc = MAL,
	 .why = "CTL_IDENTITY: 1 trailing"},
	{"ATTACH label empty", C, R_ATTACH, 42, "00", .rc = MAL,
	 .why = "CTL_ATTACH: label is empty"},
	{"ATTACH label colon", C, R_ATTACH, 45, "3a", .rc = MAL,
	 .why = "CTL_ATTACH: label byte 2 (0x3a) is a control character or "
		"':'"},
	{"ATTACH label ctl", C, R_ATTACH, 43, "1f", .rc = MAL,
	 .why = "label byte 0 (0x1f)"},
	{"ATTACH label DEL", C, R_ATTACH, 47, "7f", .rc = MAL,
	 .why = "label byte 4 (0x7f)"},
	{"ATTACH label past end", C, R_ATTACH, 42, "ff", .rc = MAL,
	 .why = "CTL_ATTACH: truncated in label (255 bytes needed, 14 left)"},
	{"ATTACH flags", C, R_ATTACH, 48, "00000010", .rc = MAL,
	 .why = "CTL_ATTACH: flags 0x10 has unknown bits 0x10"},
	{"ATTACH no domid", C, R_ATTACH, 52, "ffffffff", .rc = MAL,
	 .why = "CTL_ATTACH: stub_domid 0xffffffff is the 'no domain' value"},
	{"ATTACH create 2", C, R_ATTACH, 56, "02", .rc = MAL,
	 .why = "CTL_ATTACH: create 2 is not 0 or 1"},
	{"ATTACH cut create", C, R_ATTACH, .cut = 56, .rc = MAL,
	 .why = "CTL_ATTACH: truncated in create"},
	{"DETACH cut", C, R_DETACH, .cut = 25, .rc = MAL,
	 .why = "CTL_DETACH: truncated in uuid (16 bytes needed, 15 left)"},
	{"DELETE trailing", C, R_DELETE, .append = "00", .rc = MAL,
	 .why = "CTL_DELETE: 1 trailing"},
	{"RESET empty", C, R_RESET, .cut = 10, .rc = MAL,
	 .why = "CTL_RESET: truncated in uuid"},
	{"LIST trailing", C, R_LIST, .append = "00", .rc = MAL,
	 .why = "CTL_LIST: 1 trailing"},
	{"EXPORT key len 0", C, R_EXPORT, 26, "0000", .rc = MAL,
	 .why = "CTL_EXPORT: dest_pubkey length 0 is not 1..256"},
	{"EXPORT key len 257", C, R_EXPORT, 26, "0101", .rc = MAL,
	 .why = "CTL_EXPORT: dest_pubkey length 257 is not 1..256"},
	{"IMPORT len 0", C, R_IMPORT, 10, "0000", .rc = MAL,
	 .why = "CTL_IMPORT: bundle length 0 is not 1..8192"},
	{"IMPORT len 8193", C, R_IMPORT, 10, "2001", .rc = MAL,
	 .why = "CTL_IMPORT: bundle length 8193 is not 1..8192"},
	{"IMPORT past end", C, R_IMPORT, 10, "0064", .rc = MAL,
	 .why = "CTL_IMPORT: truncated in bundle (100 bytes needed, 1 left)"},
	{"QUOTE ek len 513", C, R_QUOTE, 26, "0201", .rc = MAL,
	 .why = "CTL_DEEP_QUOTE: ek_public length 513 is not 1..512"},
	{"QUOTE nonce 65", C, R_QUOTE, 32, "41", .rc = MAL,
	 .why = "CTL_DEEP_QUOTE: nonce length 65 is over 64"},
	{"QUOTE nonce past end", C, R_QUOTE, 32, "40", .rc = MAL,
	 .why = "CTL_DEEP_QUOTE: truncated in nonce (64 bytes needed, 12 "
		"left)"},
	{"QUOTE mask 0", C, R_QUOTE, 41, "00000000", .rc = MAL,
	 .why = "CTL_DEEP_QUOTE: pcr_mask is zero"},
	{"QUOTE mask PCR 24", C, R_QUOTE, 41, "01000080", .rc = MAL,
	 .why = "CTL_DEEP_QUOTE: pcr_mask 0x1000080 names PCRs above 23"},
};

/* Offsets: OPEN rsp: status 10, flags 14, key 18..49, ref[i] at 50 + 25 i
 * (generation, tag +8, present +24); PROV1 rsp: count 10, kind 11, len
 * 12; LIST-ONE: total 10, next 14, count 18, entry 19: uuid, domain 35,
 * label 51 + 52..55, flags 56, stub 60, open 64, generations 65;
 * ERR-OPEN: len 10, text 12. */
static const struct bad bad_rsps[] = {
	{"rc 17", I, S_COMMIT, 6, "00000011", .rc = MAL,
	 .why = "COMMIT response: rc 17 is not a known code"},
	{"rc huge", C, S_STATUS, 6, "ffffffff", .rc = MAL,
	 .why = "rc 4294967295 is not a known code"},
	{"magic", C, S_STATUS, 0, "4800", .rc = MAL,
	 .why = "response magic 0x4800"},
	{"size", I, S_COMMIT, 2, "0000000c", .raw_size = true, .rc = MAL,
	 .why = "response size field 12 differs from its length 10"},
	{"short", I, -1, .patch = "4856 00000009 000000", .rc = MAL,
	 .why = "response of 9 bytes is shorter"},
	{"too big for ring", I, S_EXPORT_MAX, .rc = BIG,
	 .why = "response of 8204 bytes exceeds the instance channel's "
		"4088"},
	{"ring op on ctl", C, S_OPEN_NEW, .rc = MAL,
	 .why = "OPEN response: op 0x0001 is not an op of the control "
		"channel"},
	{"error msg 257", I, S_ERR_OPEN, 10, "0101", .rc = MAL,
	 .why = "OPEN response: message length 257 is over 256"},
	{"error msg past end", I, S_ERR_OPEN, 10, "0019", .rc = MAL,
	 .why = "OPEN response: truncated in message (25 bytes needed, 24 "
		"left)"},
	{"error msg newline", I, S_ERR_OPEN, 18, "0a", .rc = MAL,
	 .why = "OPEN response: message byte 6 (0x0a) is not printable"},
	{"error msg NUL", I, S_ERR_OPEN, 12, "00", .rc = MAL,
	 .why = "message byte 0 (0x00) is not printable"},
	{"error trailing", I, S_ERR_OPEN, .append = "20", .rc = MAL,
	 .why = "OPEN response: 1 trailing"},
	{"OPEN status 0", I, S_OPEN_NEW, 10, "00000000", .rc = MAL,
	 .why = "OPEN response: status 0 is not 1 (NEW) or 2 (EXISTING)"},
	{"OPEN status 3", I, S_OPEN_NEW, 10, "00000003", .rc = MAL,
	 .why = "status 3 is not"},
	{"OPEN flags", I, S_OPEN_NEW, 14, "00000010", .rc = MAL,
	 .why = "OPEN response: flags 0x10 has unknown bits 0x10"},
	{"OPEN ref present 2", I, S_OPEN_EXISTING, 50 + 25 + 24, "02",
	 .rc = MAL, .why = "OPEN response: ref[1] present 2 is not 0 or 1"},
	{"OPEN ref gen 0", I, S_OPEN_EXISTING, 50, "0000000000000000",
	 .rc = MAL, .why = "OPEN response: ref[0] present with generation 0"},
	{"OPEN ref absent tag", I, S_OPEN_EXISTING, 50 + 25 + 8, "01",
	 .rc = MAL,
	 .why = "OPEN response: ref[1] tag is not all zero with present 0"},
	{"OPEN cut key", I, S_OPEN_NEW, .cut = 40, .rc = MAL,
	 .why = "OPEN response: truncated in key"},
	{"OPEN cut ref", I, S_OPEN_NEW, .cut = 110, .rc = MAL,
	 .why = "OPEN response: ref[2] truncated in tag"},
	{"PROVISION count 0", I, S_PROV1, 10, "00", .rc = MAL,
	 .why = "PROVISION response: count 0 is not 1..2"},
	{"PROVISION cert len 2049", I, S_PROV1, 12, "0801", .rc = MAL,
	 .why = "PROVISION response: ek[0] data length 2049 is not 1..2048"},
	{"PROVISION kind twice", I, S_PROV2, 11 + 3 + 1200, "01", .rc = MAL,
	 .why = "ek[1] kind 1 appears twice"},
	{"ATTACH created 2", C, S_ATTACH, 10, "02", .rc = MAL,
	 .why = "CTL_ATTACH response: created 2 is not 0 or 1"},
	{"COMMIT trailing", I, S_COMMIT, .append = "00", .rc = MAL,
	 .why = "COMMIT response: 1 trailing"},
	{"STATUS pcr 24", C, S_STATUS, 46, "01000000", .rc = MAL,
	 .why = "CTL_STATUS response: pcr_mask 0x1000000 names PCRs above"},
	{"LIST count 65", C, S_LIST_EMPTY, 18, "41", .rc = MAL,
	 .why = "CTL_LIST response: count 65 is over 64"},
	{"LIST count 2 of 1", C, S_LIST_ONE, 18, "02", .rc = MAL,
	 .why = "CTL_LIST response: entry[1] truncated in uuid"},
	{"LIST label empty", C, S_LIST_ONE, 51, "00", .rc = MAL,
	 .why = "CTL_LIST response: entry[0] label is empty"},
	{"LIST label colon", C, S_LIST_ONE, 53, "3a", .rc = MAL,
	 .why = "entry[0] label byte 1 (0x3a)"},
	{"LIST flags", C, S_LIST_ONE, 56, "00000020", .rc = MAL,
	 .why = "CTL_LIST response: entry[0] flags 0x20 has unknown bits "
		"0x20"},
	{"LIST open 2", C, S_LIST_ONE, 64, "02", .rc = MAL,
	 .why = "CTL_LIST response: entry[0] open 2 is not 0 or 1"},
	{"EXPORT bundle 0", C, S_EXPORT, 10, "0000", .rc = MAL,
	 .why = "CTL_EXPORT response: bundle length 0 is not 1..8192"},
	{"IMPORT cut", C, S_IMPORT, .cut = 20, .rc = MAL,
	 .why = "CTL_IMPORT response: truncated in uuid"},
	{"IDENTITY pubkey 257", C, S_IDENTITY, 26, "0101", .rc = MAL,
	 .why = "CTL_IDENTITY response: pubkey length 257 is not 1..256"},
	{"IDENTITY cert 0", C, S_IDENTITY, 26 + 2 + 91, "0000", .rc = MAL,
	 .why = "CTL_IDENTITY response: ca_cert length 0"},
	{"QUOTE sig 1025", C, S_QUOTE, 10 + 2 + 150, "0401", .rc = MAL,
	 .why = "CTL_DEEP_QUOTE response: sig length 1025 is not 1..1024"},
	{"QUOTE ak 0", C, S_QUOTE, 10 + 2 + 150 + 2 + 72, "0000", .rc = MAL,
	 .why = "ak_public length 0 is not 1..1024"},
};

static size_t build_bad(const struct bad *b, bool is_req, uint8_t *out,
			uint32_t *op)
{
	size_t n;

	if (b->base < 0) {
		*op = 0;
		return unhex(b->patch, out, 64);
	}
	if (is_req) {
		*op = reqs[b->base].op;
		n = mgr_req_encode(&reqs[b->base], out, MGR_CTL_MSG_MAX);
	} else {
		*op = rsps[b->base].op;
		n = mgr_rsp_encode(&rsps[b->base], out, MGR_CTL_MSG_MAX);
	}
	if (!n)
		abort(); /* the valid table is tested first */
	if (b->patch)
		unhex(b->patch, out + b->off, n - b->off);
	if (b->cut)
		n = b->cut;
	if (b->append)
		n += unhex(b->append, out + n, 16);
	if (!b->raw_size)
		put_be32(out + 2, (uint32_t)n);
	return n;
}

static void test_bad(void)
{
	struct mgr_req q;
	char why[256];
	uint32_t op;
	size_t n;
	enum mgr_rc rc;

	for (unsigned i = 0; i < TH_ARRAY_LEN(bad_reqs); i++) {
		const struct bad *b = &bad_reqs[i];

		n = build_bad(b, true, buf, &op);
		rc = mgr_req_parse(b->ch, buf, n, &q, why, sizeof(why));
		TH_CHECK(rc == b->rc && strstr(why, b->why),
			 "bad request '%s': rc %d (want %d), why '%s' (want "
			 "'%s')",
			 b->name, rc, b->rc, why, b->why);
		if (n >= MGR_HDR_LEN)
			TH_CHECK(q.op == ((uint32_t)buf[6] << 24 |
					  (uint32_t)buf[7] << 16 |
					  (uint32_t)buf[8] << 8 | buf[9]),
				 "bad request '%s': op set", b->name);
	}
	for (unsigned i = 0; i < TH_ARRAY_LEN(bad_rsps); i++) {
		const struct bad *b = &bad_rsps[i];

		n = build_bad(b, false, buf, &op);
		rsp_out.op = op;
		rc = mgr_rsp_parse(b->ch, buf, n, &rsp_out, why, sizeof(why));
		TH_CHECK(rc == b->rc && strstr(why, b->why) && rsp_out.op == op,
			 "bad response '%s': rc %d (want %d), why '%s' (want "
			 "'%s')",
			 b->name, rc, b->rc, why, b->why);
	}
	/* Over the control channel's maximum: the op is still named. */
	memset(buf, 0, sizeof(buf));
	n = mgr_req_encode(&reqs[R_IMPORT], buf, sizeof(buf));
	put_be32(buf + 2, MGR_CTL_MSG_MAX + 1);
	rc = mgr_req_parse(C, buf, MGR_CTL_MSG_MAX + 1, &q, why, sizeof(why));
	TH_CHECK(rc == BIG && q.op == MGR_CTL_IMPORT &&
			 strstr(why, "65537 bytes exceeds the control "
				     "channel's 65536"),
		 "control request over 64 KiB: %d %s", rc, why);
	rc = mgr_req_parse((enum mgr_channel)3, buf, n, &q, why, sizeof(why));
	TH_CHECK(rc == MGR_RC_INTERNAL && strstr(why, "channel"),
		 "unknown channel refused: %s", why);
	TH_CHECK(mgr_req_parse(C, buf, n, NULL, why, sizeof(why)) ==
			 MGR_RC_INTERNAL,
		 "NULL output refused");
	TH_CHECK(mgr_req_parse(C, NULL, 0, &q, NULL, 0) == MAL,
		 "NULL empty buffer, NULL why: MALFORMED");
}

/* ---------------------------------------------------- encoder refusals */

static void test_encode_refusals(void)
{
	static struct mgr_req q;
	static struct mgr_rsp s;
	size_t n;

#define REQ_REFUSED(basei, stmt, what)                                         \
	do {                                                                   \
		q = reqs[basei];                                               \
		stmt;                                                          \
		n = mgr_req_encode(&q, buf, sizeof(buf));                      \
		TH_CHECK(n == 0, "encoder refuses %s", what);                  \
	} while (0)
	REQ_REFUSED(R_OPEN, q.op = 0x0005, "unknown op 5");
	REQ_REFUSED(R_OPEN, q.op = 0, "op 0");
	REQ_REFUSED(R_OPEN, q.u.open.flags = 2, "OPEN flags 2");
	REQ_REFUSED(R_COMMIT, q.u.commit.name = 0, "COMMIT name 0");
	REQ_REFUSED(R_COMMIT, q.u.commit.name = (enum mgr_state_name)257,
		    "COMMIT name 257 (would be 1 in a u8)");
	REQ_REFUSED(R_COMMIT, q.u.commit.present = false,
		    "COMMIT absent with a tag");
	REQ_REFUSED(R_PROV2, q.u.provision.count = 3,
		    "PROVISION count 3 (beyond the array)");
	REQ_REFUSED(R_PROV2, q.u.provision.count = 0, "PROVISION count 0");
	REQ_REFUSED(R_PROV2, q.u.provision.ek[1].kind = MGR_EK_ECC_P256,
		    "PROVISION kind twice");
	REQ_REFUSED(R_PROV2, q.u.provision.ek[0].kind = (enum mgr_ek_kind)257,
		    "PROVISION kind 257");
	REQ_REFUSED(R_PROV1, q.u.provision.ek[0].data.len = 0,
		    "PROVISION empty EK");
	REQ_REFUSED(R_PROV1, q.u.provision.ek[0].data.data = NULL,
		    "PROVISION EK without bytes");
	REQ_REFUSED(R_PROV1, q.u.provision.ek[0].data.len = 513,
		    "PROVISION EK of 513 bytes");
	REQ_REFUSED(R_PROV1, q.u.provision.ek[0].data.len = 65536 + 4,
		    "PROVISION EK length wider than u16");
	REQ_REFUSED(R_PROV1, memcpy(q.u.provision.info.family, "2.0xx", 5),
		    "family of 5 bytes, not terminated");
	REQ_REFUSED(R_PROV1, q.u.provision.info.family[1] = '\t',
		    "family with a tab");
	REQ_REFUSED(R_PROV1, memset(q.u.provision.info.vendor, 'v', 17),
		    "vendor of 17 bytes, not terminated");
	REQ_REFUSED(R_PROV1, q.u.provision.info.vendor[0] = '\n',
		    "vendor with a newline");
	REQ_REFUSED(R_ATTACH, q.u.attach.label[0] = '\0', "empty label");
	REQ_REFUSED(R_ATTACH, q.u.attach.label[1] = ':', "label with ':'");
	REQ_REFUSED(R_ATTACH_MAX, q.u.attach.label[MGR_LABEL_MAX] = 'x',
		    "label of 256 bytes, not terminated");
	REQ_REFUSED(R_ATTACH, q.u.attach.stub_domid = MGR_NO_DOMID,
		    "stub_domid MGR_NO_DOMID");
	REQ_REFUSED(R_ATTACH, q.u.attach.flags = 0x80, "ATTACH flags 0x80");
	REQ_REFUSED(R_EXPORT, q.u.export_.dest_pubkey.len = 0,
		    "EXPORT empty key");
	REQ_REFUSED(R_EXPORT, q.u.export_.dest_pubkey.len = 257,
		    "EXPORT key of 257 bytes");
	REQ_REFUSED(R_IMPORT, q.u.import.bundle.len = MGR_BUNDLE_MAX + 1,
		    "IMPORT bundle over the maximum");
	REQ_REFUSED(R_QUOTE, q.u.deep_quote.nonce_len = 65,
		    "DEEP_QUOTE nonce 65 (beyond the array)");
	REQ_REFUSED(R_QUOTE, q.u.deep_quote.pcr_mask = 0, "pcr_mask 0");
	REQ_REFUSED(R_QUOTE, q.u.deep_quote.pcr_mask = 1u << 24,
		    "pcr_mask PCR 24");
	TH_CHECK(mgr_req_encode(NULL, buf, sizeof(buf)) == 0 &&
			 mgr_req_encode(&reqs[R_OPEN], NULL, 100) == 0 &&
			 mgr_req_encode(&reqs[R_OPEN], buf, 0) == 0,
		 "encoder refuses NULL and no room");

#define RSP_REFUSED(basei, stmt, what)                                         \
	do {                                                                   \
		s = rsps[basei];                                               \
		stmt;                                                          \
		n = mgr_rsp_encode(&s, buf, sizeof(buf));                      \
		TH_CHECK(n == 0, "encoder refuses %s", what);                  \
	} while (0)
	RSP_REFUSED(S_COMMIT, s.op = 0x0200, "a response to op 0x200");
	RSP_REFUSED(S_COMMIT, s.rc = MGR_RC_COUNT_, "rc out of range");
	RSP_REFUSED(S_OPEN_NEW, s.u.open.status = 0, "OPEN status 0");
	RSP_REFUSED(S_OPEN_NEW, s.u.open.flags = 0x10, "OPEN flags 0x10");
	RSP_REFUSED(S_OPEN_NEW, s.u.open.ref[2].present = true,
		    "OPEN present with generation 0");
	RSP_REFUSED(S_OPEN_EXISTING, s.u.open.ref[0].present = false,
		    "OPEN absent with a tag");
	RSP_REFUSED(S_PROV1, s.u.provision.cert[0].data.len = 2049,
		    "certificate of 2049 bytes");
	RSP_REFUSED(S_PROV1, s.u.provision.count = 200,
		    "PROVISION count 200 (beyond the array)");
	RSP_REFUSED(S_STATUS, s.u.status.pcr_mask = 0x80000000u,
		    "STATUS pcr_mask bit 31");
	RSP_REFUSED(S_LIST_FULL, s.u.list.count = MGR_LIST_PAGE + 1,
		    "LIST of 65 (beyond the array)");
	RSP_REFUSED(S_LIST_ONE, s.u.list.entry[0].label[0] = 0,
		    "LIST entry without a label");
	RSP_REFUSED(S_LIST_ONE, s.u.list.entry[0].flags = 0x100,
		    "LIST entry flags 0x100");
	RSP_REFUSED(S_EXPORT, s.u.export_.bundle.len = 0, "empty bundle");
	RSP_REFUSED(S_QUOTE, s.u.deep_quote.attest.len = 1025,
		    "attest of 1025 bytes");
	RSP_REFUSED(S_IDENTITY, s.u.identity.ca_cert.data = NULL,
		    "IDENTITY certificate without bytes");
	/* A response too big for the ring is refused whatever the cap. */
	s = rsps[S_PROV2];
	s.u.provision.cert[0].data.len = MGR_EK_CERT_MAX;
	s.u.provision.cert[1].data.len = MGR_EK_CERT_MAX;
	TH_CHECK(mgr_rsp_encode(&s, buf, sizeof(buf)) == 0,
		 "two 2 KiB certificates do not fit the ring: refused");
	s.u.provision.cert[1].data.len = MGR_EK_CERT_MAX - 24; /* 4089 */
	TH_CHECK(mgr_rsp_encode(&s, buf, sizeof(buf)) == 0,
		 "a PROVISION answer of 4089 bytes is refused");
	s.u.provision.cert[1].data.len = MGR_EK_CERT_MAX - 25;
	n = mgr_rsp_encode(&s, buf, sizeof(buf));
	TH_CHECK(n == MGR_RING_MSG_MAX,
		 "a PROVISION answer of exactly 4088 "
		 "bytes fits (%zu)",
		 n);
}

/* ----------------------------------------------------- error responses */

static void test_errors(void)
{
	static struct mgr_rsp s;
	char why[256], longmsg[600];
	size_t n;
	enum mgr_rc rc;

	n = mgr_rsp_error(MGR_OP_COMMIT, MGR_RC_GENERATION, buf, sizeof(buf),
			  "COMMIT %s: generation %u is not %u", "permall", 5,
			  4);
	s.op = MGR_OP_COMMIT;
	rc = mgr_rsp_parse(I, buf, n, &s, why, sizeof(why));
	TH_CHECK(rc == MGR_RC_OK && s.rc == MGR_RC_GENERATION &&
			 !strcmp(s.msg, "COMMIT permall: generation 5 is not "
					"4"),
		 "mgr_rsp_error: formatted message '%s'", s.msg);
	n = mgr_rsp_error(0x4242, MGR_RC_UNKNOWN_OP, buf, sizeof(buf),
			  "tab\there,\nnewline \x01 and \xc3\xa9");
	s.op = 0x4242;
	rc = mgr_rsp_parse(C, buf, n, &s, why, sizeof(why));
	TH_CHECK(rc == MGR_RC_OK && s.rc == MGR_RC_UNKNOWN_OP &&
			 !strcmp(s.msg, "tab?here,?newline ? and ??"),
		 "non-printable bytes become '?': '%s'", s.msg);
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	n = mgr_rsp_error(MGR_OP_OPEN, MGR_RC_INTERNAL, buf,
			  MGR_HDR_LEN + 2 + MGR_MSG_MAX, "%s", longmsg);
	TH_CHECK(n == MGR_HDR_LEN + 2 + MGR_MSG_MAX,
		 "a long message is cut to 256 bytes and fits 268 (%zu)", n);
	TH_CHECK(mgr_rsp_error(MGR_OP_OPEN, MGR_RC_INTERNAL, buf,
			       MGR_HDR_LEN + 1 + MGR_MSG_MAX, "%s",
			       longmsg) == 0,
		 "mgr_rsp_error refuses a smaller buffer");
	TH_CHECK(mgr_rsp_error(MGR_OP_OPEN, MGR_RC_OK, buf, sizeof(buf), "x") ==
				 0 &&
			 mgr_rsp_error(MGR_OP_OPEN, MGR_RC_COUNT_, buf,
				       sizeof(buf), "x") == 0,
		 "mgr_rsp_error refuses rc OK and unknown codes");
	s = rsps[S_ERR_OPEN];
	memset(s.msg, 'q', sizeof(s.msg)); /* not terminated */
	n = mgr_rsp_encode(&s, buf, sizeof(buf));
	TH_CHECK(n == MGR_HDR_LEN + 2 + MGR_MSG_MAX,
		 "an unterminated message is cut at 256 bytes");
	n = mgr_rsp_error(MGR_OP_OPEN, MGR_RC_DENIED, buf, sizeof(buf), "%s",
			  "");
	TH_CHECK(n == MGR_HDR_LEN + 2, "an empty message is allowed");

	/* Codes and op names. */
	for (unsigned i = 0; i < MGR_RC_COUNT_; i++) {
		TH_CHECK(strcmp(mgr_rc_str((enum mgr_rc)i), "unknown error"),
			 "rc %u has a text", i);
		for (unsigned j = 0; j < i; j++)
			TH_CHECK(strcmp(mgr_rc_str((enum mgr_rc)i),
					mgr_rc_str((enum mgr_rc)j)),
				 "rc %u and %u differ", i, j);
	}
	TH_CHECK(!strcmp(mgr_rc_str(MGR_RC_COUNT_), "unknown error") &&
			 !strcmp(mgr_rc_str((enum mgr_rc) - 1),
				 "unknown error") &&
			 !strcmp(mgr_rc_str(MGR_RC_MALFORMED),
				 "malformed request"),
		 "rc strings");
	TH_CHECK(!strcmp(mgr_op_str(MGR_OP_OPEN), "OPEN") &&
			 !strcmp(mgr_op_str(MGR_CTL_STATUS), "CTL_STATUS") &&
			 !strcmp(mgr_op_str(MGR_CTL_DEEP_QUOTE),
				 "CTL_DEEP_QUOTE") &&
			 !strcmp(mgr_op_str(0x0005), "?") &&
			 !strcmp(mgr_op_str(0x0100), "?"),
		 "op strings");
}

/* ------------------------------------------------------ control client */

enum srv_mode {
	SRV_ANSWER,	    /* a STATUS answer */
	SRV_ERROR,	    /* an error answer */
	SRV_SILENT,	    /* reads, never answers */
	SRV_SIGNALS,	    /* interrupts the client's wait, then answers */
	SRV_SIGNALS_SILENT, /* interrupts, never answers */
	SRV_OVERSIZE,	    /* a 70000-byte datagram */
	SRV_GARBAGE,	    /* "hello" */
	SRV_BAD_OP,	    /* an OPEN answer (instance op) */
	SRV_CLOSE,	    /* closes its end */
};

struct srv {
	int fd;
	enum srv_mode mode;
	pthread_t client;
	enum mgr_rc req_rc; /* what the server's parser said */
	uint32_t req_op;
	int stop_pipe[2]; /* SILENT: wait until told */
};

static volatile sig_atomic_t signals_seen;

static void on_usr1(int sig)
{
	(void)sig;
	signals_seen++;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *server(void *arg)
{
	static uint8_t in[MGR_CTL_MSG_MAX], out[70000];
	struct srv *s = arg;
	struct mgr_req q;
	char why[256], c;
	ssize_t r;
	size_t n = 0;

	r = recv(s->fd, in, sizeof(in), 0);
	s->req_rc = mgr_req_parse(C, in, r > 0 ? (size_t)r : 0, &q, why,
				  sizeof(why));
	s->req_op = q.op;
	switch (s->mode) {
	case SRV_ANSWER:
	case SRV_SIGNALS:
		if (s->mode == SRV_SIGNALS)
			for (int i = 0; i < 3; i++) {
				sleep_ms(40);
				pthread_kill(s->client, SIGUSR1);
			}
		n = mgr_rsp_encode(&rsps[S_STATUS], out, sizeof(out));
		break;
	case SRV_ERROR:
		n = mgr_rsp_error(q.op, MGR_RC_DENIED, out, sizeof(out),
				  "uid %d may not", 1000);
		break;
	case SRV_SIGNALS_SILENT:
		for (int i = 0; i < 12; i++) {
			sleep_ms(50);
			pthread_kill(s->client, SIGUSR1);
		}
		/* fall through */
	case SRV_SILENT:
		while (read(s->stop_pipe[0], &c, 1) < 0 && errno == EINTR)
			;
		return NULL;
	case SRV_OVERSIZE:
		n = mgr_rsp_encode(&rsps[S_STATUS], out, sizeof(out));
		memset(out + n, 0, sizeof(out) - n);
		n = sizeof(out);
		put_be32(out + 2, (uint32_t)n);
		break;
	case SRV_GARBAGE:
		memcpy(out, "hello", 5);
		n = 5;
		break;
	case SRV_BAD_OP:
		n = mgr_rsp_encode(&rsps[S_OPEN_NEW], out, sizeof(out));
		break;
	case SRV_CLOSE:
		close(s->fd);
		s->fd = -1;
		return NULL;
	}
	if (send(s->fd, out, n, MSG_NOSIGNAL) != (ssize_t)n)
		s->req_rc = MGR_RC_INTERNAL; /* noticed by the test */
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One call against a server thread in mode m; returns the call's result
 * and the elapsed time. */
static int one_call(enum srv_mode m, int client_fd, int server_fd,
		    const struct mgr_req *q, int timeout_ms, char *why,
		    size_t why_len, int64_t *ms, struct srv *s)
{
	static uint8_t cbuf[MGR_CTL_MSG_MAX];
	pthread_t t;
	int64_t t0;
	int ret;
	char c = 0;

	memset(s, 0, sizeof(*s));
	s->fd = server_fd;
	s->mode = m;
	s->client = pthread_self();
	if (pipe(s->stop_pipe) < 0 || pthread_create(&t, NULL, server, s) != 0)
		abort();
	t0 = mono_ms();
	memset(&rsp_out, 0, sizeof(rsp_out));
	ret = mgr_ctl_call(client_fd, q, &rsp_out, cbuf, timeout_ms, why,
			   why_len);
	*ms = mono_ms() - t0;
	if (write(s->stop_pipe[1], &c, 1) != 1)
		abort();
	pthread_join(t, NULL);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	return ret;
}

static void test_client(void)
{
	struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
	struct srv s;
	char why[256];
	int64_t ms;
	int sv[2], ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	static const struct {
		enum srv_mode mode;
		int timeout_ms;
		int ret;
		const char *why;
	} cases[] = {
		{SRV_ANSWER, 2000, 0, ""},
		{SRV_ERROR, 2000, 0, ""},
		{SRV_SIGNALS, 3000, 0, ""},
		{SRV_SILENT, 150, -ETIMEDOUT,
		 "no answer from the manager within 150 ms"},
		{SRV_SIGNALS_SILENT, 300, -ETIMEDOUT,
		 "no answer from the manager within 300 ms"},
		{SRV_OVERSIZE, 2000, -EPROTO,
		 "CTL_STATUS: answer of 70000 bytes exceeds 65536"},
		{SRV_GARBAGE, 2000, -EPROTO,
		 "malformed answer from the manager (malformed request): "
		 "response of 5 bytes is shorter"},
		{SRV_BAD_OP, 2000, -EPROTO,
		 "CTL_STATUS response: pcr_mask 0x5a5a5a5a names PCRs above "
		 "23"},
		{SRV_CLOSE, 2000, -ECONNRESET,
		 "the manager closed the connection"},
	};
	for (unsigned i = 0; i < TH_ARRAY_LEN(cases); i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
			abort();
		signals_seen = 0;
		ret = one_call(cases[i].mode, sv[0], sv[1], &reqs[R_STATUS],
			       cases[i].timeout_ms, why, sizeof(why), &ms, &s);
		TH_CHECK(ret == cases[i].ret && strstr(why, cases[i].why),
			 "client case %u: ret %d (want %d) why '%s'", i, ret,
			 cases[i].ret, why);
		TH_CHECK(s.req_rc == MGR_RC_OK && s.req_op == MGR_CTL_STATUS,
			 "client case %u: the server got a valid STATUS", i);
		if (cases[i].mode == SRV_ANSWER || cases[i].mode == SRV_SIGNALS)
			TH_CHECK(rsp_out.rc == MGR_RC_OK &&
					 rsp_same(&rsps[S_STATUS], &rsp_out),
				 "client case %u: the STATUS answer", i);
		if (cases[i].mode == SRV_ERROR)
			TH_CHECK(rsp_out.rc == MGR_RC_DENIED &&
					 !strcmp(rsp_out.msg,
						 "uid 1000 may not"),
				 "client: error answer: rc %d '%s'", rsp_out.rc,
				 rsp_out.msg);
		if (cases[i].mode == SRV_SIGNALS)
			TH_CHECK(signals_seen == 3,
				 "client: 3 signals during the wait (%d)",
				 (int)signals_seen);
		if (cases[i].ret == -ETIMEDOUT)
			/* A wait restarted in full after each signal would
			 * last until the signals stop (600 ms) and more. */
			TH_CHECK(ms >= cases[i].timeout_ms &&
					 ms < cases[i].timeout_ms + 290,
				 "client case %u: timed out after %lld ms", i,
				 (long long)ms);
		close(sv[0]);
		if (s.fd >= 0)
			close(s.fd);
	}

	/* Refused before anything is sent. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		abort();
	{
		static uint8_t cbuf[MGR_CTL_MSG_MAX];
		struct mgr_req q = reqs[R_QUOTE];

		q.u.deep_quote.pcr_mask = 0;
		ret = mgr_ctl_call(sv[0], &q, &rsp_out, cbuf, 100, why,
				   sizeof(why));
		TH_CHECK(ret == -EINVAL &&
				 strstr(why, "CTL_DEEP_QUOTE: request not "
					     "encodable"),
			 "client: invalid request: %d %s", ret, why);
		ret = mgr_ctl_call(sv[0], &reqs[R_OPEN], &rsp_out, cbuf, 100,
				   why, sizeof(why));
		TH_CHECK(ret == -EINVAL && strstr(why, "OPEN is not a control"),
			 "client: instance op refused (%d)", ret);
		close(sv[1]);
		ret = mgr_ctl_call(sv[0], &reqs[R_STATUS], &rsp_out, cbuf, 100,
				   why, sizeof(why));
		TH_CHECK(ret == -ECONNRESET && strstr(why, "send"),
			 "client: peer gone before the send: %d %s", ret, why);
		close(sv[0]);
	}
}

static void test_connect(void)
{
	char dir[] = "/tmp/test_proto.XXXXXX", path[128], why[256];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char longpath[200];
	struct srv s;
	int64_t ms;
	int lfd, fd, afd, ret;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/control", dir);
	ret = mgr_ctl_connect(path, why, sizeof(why));
	TH_CHECK(ret == -ENOENT && strstr(why, "connect ") &&
			 strstr(why, "/control: No such file or directory"),
		 "connect to a missing socket: %d %s", ret, why);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ret = mgr_ctl_connect(longpath, why, sizeof(why));
	TH_CHECK(ret == -ENAMETOOLONG && strstr(why, "longer than 107"),
		 "connect: path too long: %d %s", ret, why);
	TH_CHECK(mgr_ctl_connect("", why, sizeof(why)) == -EINVAL,
		 "connect: empty path");

	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0)
		abort();
	fd = mgr_ctl_connect(path, why, sizeof(why));
	TH_CHECK(fd >= 0 && !why[0], "connect: %d %s", fd, why);
	afd = accept(lfd, NULL, NULL);
	if (fd >= 0 && afd >= 0) {
		TH_CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
			 "control fd is close-on-exec");
		ret = one_call(SRV_ANSWER, fd, afd, &reqs[R_STATUS], 2000, why,
			       sizeof(why), &ms, &s);
		TH_CHECK(ret == 0 && rsp_same(&rsps[S_STATUS], &rsp_out),
			 "a call over a connected socket: %d %s", ret, why);
	}
	if (fd >= 0)
		close(fd);
	if (afd >= 0)
		close(afd);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

/* ---------------------------------------------------------- fuzz seeds */

/* The seeds' framing is tests/fuzz/fuzz_mgrproto.c's. */
static int write_seed(const char *dir, const char *name, const uint8_t *pre,
		      size_t pn, const uint8_t *msg, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(pre, 1, pn, f) != pn || fwrite(msg, 1, n, f) != n) {
		perror(path);
		if (f)
			fclose(f);
		return 1;
	}
	return fclose(f) != 0;
}

static int write_seeds(const char *dir)
{
	char name[64];
	uint8_t pre[3];
	size_t n;
	int err = 0;

	for (unsigned i = 0; i < R_COUNT; i++) {
		if (i == R_IMPORT_MAX) /* 8 KiB of one pattern: no news */
			continue;
		n = mgr_req_encode(&reqs[i], buf, sizeof(buf));
		pre[0] = 0;
		snprintf(name, sizeof(name), "req-%s", req_names[i]);
		err |= !n || write_seed(dir, name, pre, 1, buf, n);
	}
	for (unsigned i = 0; i < S_COUNT; i++) {
		if (i == S_EXPORT_MAX || i == S_LIST_FULL)
			continue;
		n = mgr_rsp_encode(&rsps[i], buf, sizeof(buf));
		pre[0] = op_channel(rsps[i].op) == I ? 1 : 2;
		pre[1] = (uint8_t)(rsps[i].op >> 8);
		pre[2] = (uint8_t)rsps[i].op;
		snprintf(name, sizeof(name), "rsp-%s", rsp_names[i]);
		err |= !n || write_seed(dir, name, pre, 3, buf, n);
	}
	pre[0] = 3;
	pre[1] = MGR_RC_BUSY;
	err |= write_seed(dir, "error-text", pre, 2,
			  (const uint8_t *)"instance is open\n\x01", 18);
	return err;
}

int main(int argc, char **argv)
{
	fill_data();
	build_reqs();
	build_rsps();
	if (argc == 3 && !strcmp(argv[1], "--seeds"))
		return write_seeds(argv[2]);
	test_req_roundtrips();
	test_rsp_roundtrips();
	test_golden();
	test_bad();
	test_encode_refusals();
	test_errors();
	test_client();
	test_connect();
	return th_done();
}
