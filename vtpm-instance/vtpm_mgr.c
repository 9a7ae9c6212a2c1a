/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_mgr.c - the instance's side of the manager's instance channel
 * (vtpm.h "the vTPM manager link"; wire format: mgr_proto.h): encode one
 * request, hand it to the transport, parse the answer strictly and turn
 * the manager's refusals into errnos with a message that names them.
 *
 * The manager is trusted for what it is (it holds our key), but its
 * bytes still go through the parser: a truncated or garbled answer must
 * not become a key or a ref.  Buffers that held a key are wiped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

/* Requests and answers on the ring: one page's payload each. */
struct call_buf {
	uint8_t req[MGR_RING_MSG_MAX];
	uint8_t rsp[MGR_RING_MSG_MAX];
	size_t rsp_len;
};

static int rc_errno(enum mgr_rc rc)
{
	switch (rc) {
	case MGR_RC_OK:
		return 0;
	case MGR_RC_DENIED:
	case MGR_RC_BINDING:
	case MGR_RC_MIGRATED:
	case MGR_RC_DISABLED:
		return -EACCES;
	case MGR_RC_BUSY:
	case MGR_RC_EXISTS:
		return -EBUSY;
	case MGR_RC_GENERATION:
	case MGR_RC_STATE:
		return -ESTALE;
	case MGR_RC_NOT_FOUND:
		return -ENOENT;
	case MGR_RC_MALFORMED:
	case MGR_RC_UNKNOWN_OP:
	case MGR_RC_TOO_BIG:
	case MGR_RC_CORRUPT:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* Sends req, parses the answer into rsp (which borrows b->rsp).  0 when
 * the manager said OK; otherwise -errno, why naming the op and, for a
 * refusal, the manager's reason and message. */
static int call(const struct vtpm_mgr_link *l, const struct mgr_req *req,
		struct mgr_rsp *rsp, struct call_buf *b, char *why,
		size_t why_len)
{
	char pwhy[256] = "";
	size_t len;
	int rc;

	if (!l || !l->call) {
		vtpm_set_why(why, why_len, "no link to the manager");
		return -ENOTCONN;
	}
	len = mgr_req_encode(req, b->req, sizeof(b->req));
	if (!len) {
		vtpm_set_why(why, why_len, "%s: request not encodable",
			     mgr_op_str(req->op));
		return -EINVAL;
	}
	b->rsp_len = 0;
	rc = l->call(l->ctx, b->req, len, b->rsp, sizeof(b->rsp), &b->rsp_len,
		     pwhy, sizeof(pwhy));
	/* COMMIT carries no secret, OPEN's request neither; the answer to
	 * OPEN does and is wiped by the caller. */
	if (rc) {
		vtpm_set_why(why, why_len, "%s to the manager: %s",
			     mgr_op_str(req->op), pwhy);
		return rc < 0 ? rc : -EIO;
	}
	memset(rsp, 0, sizeof(*rsp));
	rsp->op = req->op;
	if (b->rsp_len > sizeof(b->rsp) ||
	    mgr_rsp_parse(MGR_CH_INSTANCE, b->rsp, b->rsp_len, rsp, pwhy,
			  sizeof(pwhy)) != MGR_RC_OK) {
		vtpm_set_why(why, why_len, "%s: malformed answer: %s",
			     mgr_op_str(req->op), pwhy);
		return -EPROTO;
	}
	if (rsp->rc != MGR_RC_OK) {
		vtpm_set_why(why, why_len, "%s refused by the manager: %s: %s",
			     mgr_op_str(req->op), mgr_rc_str(rsp->rc),
			     rsp->msg);
		return rc_errno(rsp->rc);
	}
	return 0;
}

static void wipe(struct call_buf *b, struct mgr_rsp *rsp)
{
	OPENSSL_cleanse(b->rsp, sizeof(b->rsp));
	OPENSSL_cleanse(rsp, sizeof(*rsp));
}

int vtpm_mgr_open(const struct vtpm_mgr_link *l, const struct mgr_uuid *uuid,
		  uint32_t open_flags, struct vtpm_mgr_session *out, char *why,
		  size_t why_len)
{
	struct call_buf *b = malloc(sizeof(*b));
	struct mgr_req req = {.op = MGR_OP_OPEN};
	struct mgr_rsp rsp;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!b) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	req.u.open.uuid = *uuid;
	req.u.open.flags = open_flags;
	rc = call(l, &req, &rsp, b, why, why_len);
	if (rc)
		goto out;
	if (rsp.u.open.status != MGR_OPEN_NEW &&
	    rsp.u.open.status != MGR_OPEN_EXISTING) {
		vtpm_set_why(why, why_len, "OPEN: status %u is not NEW/EXISTING",
			     (unsigned)rsp.u.open.status);
		rc = -EPROTO;
		goto out;
	}
	/* NEW means nothing committed: a ref saying otherwise would let the
	 * manager and the disk disagree about what exists. */
	for (unsigned i = 0; rsp.u.open.status == MGR_OPEN_NEW &&
			     i < MGR_STATE_NAMES;
	     i++) {
		if (rsp.u.open.ref[i].present) {
			vtpm_set_why(why, why_len,
				     "OPEN: NEW but state %s is present",
				     mgr_state_name_str(i + 1));
			rc = -EPROTO;
			goto out;
		}
	}
	out->uuid = *uuid;
	out->status = rsp.u.open.status;
	out->flags = rsp.u.open.flags;
	memcpy(out->key, rsp.u.open.key, sizeof(out->key));
	memcpy(out->ref, rsp.u.open.ref, sizeof(out->ref));
out:
	wipe(b, &rsp);
	free(b);
	return rc;
}

int vtpm_mgr_commit(const struct vtpm_mgr_link *l, enum mgr_state_name name,
		    bool present, uint64_t generation,
		    const uint8_t tag[MGR_TAG_LEN], char *why, size_t why_len)
{
	struct call_buf *b = malloc(sizeof(*b));
	struct mgr_req req = {.op = MGR_OP_COMMIT};
	struct mgr_rsp rsp;
	int rc;

	if (!b) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	req.u.commit.name = name;
	req.u.commit.present = present;
	req.u.commit.generation = generation;
	if (present && tag)
		memcpy(req.u.commit.tag, tag, MGR_TAG_LEN);
	rc = call(l, &req, &rsp, b, why, why_len);
	free(b);
	return rc;
}

static enum mgr_ek_kind ek_kind(enum vtpm_ek_kind k)
{
	return k == VTPM_EK_RSA2048 ? MGR_EK_RSA2048 : MGR_EK_ECC_P256;
}

int vtpm_mgr_certify(void *link, const struct vtpm_ek_public pub[2],
		     const struct vtpm_ek_tpm_info *info, uint8_t *der[2],
		     size_t len[2], char *why, size_t why_len)
{
	struct call_buf *b = malloc(sizeof(*b));
	struct mgr_req req = {.op = MGR_OP_PROVISION};
	struct mgr_rsp rsp;
	int rc;

	der[0] = der[1] = NULL;
	len[0] = len[1] = 0;
	if (!b) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	req.u.provision.count = 2;
	for (unsigned i = 0; i < 2; i++) {
		req.u.provision.ek[i].kind = ek_kind(pub[i].kind);
		req.u.provision.ek[i].data.data = pub[i].public_area;
		req.u.provision.ek[i].data.len = pub[i].public_len;
	}
	req.u.provision.info.manufacturer = info->manufacturer;
	req.u.provision.info.firmware_version1 = info->firmware_version1;
	req.u.provision.info.firmware_version2 = info->firmware_version2;
	memcpy(req.u.provision.info.family, info->family,
	       sizeof(req.u.provision.info.family));
	req.u.provision.info.level = info->level;
	req.u.provision.info.revision = info->revision;
	snprintf(req.u.provision.info.vendor,
		 sizeof(req.u.provision.info.vendor), "%s", info->vendor);
	rc = call((const struct vtpm_mgr_link *)link, &req, &rsp, b, why, why_len);
	if (rc)
		goto out;
	/* One certificate per EK we asked for, matched by kind. */
	for (unsigned i = 0; !rc && i < 2; i++) {
		const struct mgr_ek_item *c = NULL;

		for (unsigned j = 0; j < rsp.u.provision.count && j < MGR_EK_MAX;
		     j++)
			if (rsp.u.provision.cert[j].kind == ek_kind(pub[i].kind))
				c = &rsp.u.provision.cert[j];
		if (!c || !c->data.len || c->data.len > VTPM_EK_CERT_MAX) {
			vtpm_set_why(why, why_len,
				     "PROVISION: no usable %s certificate in "
				     "the answer",
				     i ? "ECC" : "RSA");
			rc = -EPROTO;
			break;
		}
		der[i] = malloc(c->data.len);
		if (!der[i]) {
			vtpm_set_why(why, why_len, "out of memory");
			rc = -ENOMEM;
			break;
		}
		memcpy(der[i], c->data.data, c->data.len);
		len[i] = c->data.len;
	}
	if (rc) {
		free(der[0]);
		free(der[1]);
		der[0] = der[1] = NULL;
		len[0] = len[1] = 0;
	}
out:
	free(b);
	return rc;
}

int vtpm_mgr_close(const struct vtpm_mgr_link *l, char *why, size_t why_len)
{
	struct call_buf *b = malloc(sizeof(*b));
	struct mgr_req req = {.op = MGR_OP_CLOSE};
	struct mgr_rsp rsp;
	int rc;

	if (!b) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	rc = call(l, &req, &rsp, b, why, why_len);
	free(b);
	return rc;
}

void vtpm_mgr_session_wipe(struct vtpm_mgr_session *s)
{
	if (s)
		OPENSSL_cleanse(s, sizeof(*s));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vtpm_mgr_uuid_parse(const char *s, struct mgr_uuid *out)
{
	size_t k = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || k >= MGR_UUID_LEN)
			return -EINVAL;
		out->b[k++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return k == MGR_UUID_LEN ? 0 : -EINVAL;
}
