/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_ek.c - endorsement keys and their certificates in this process's
 * TPM (vtpm_tpm.c), provisioned the way a TPM vendor does at manufacture
 * (TCG EK Credential Profile for TPM Family 2.0, low-range templates L-1
 * and L-2; TCG TPM v2.0 Provisioning Guidance for the persistent handles),
 * and the platform hierarchy closed before any guest command runs.
 *
 * Commands are marshalled with libtss2-mu (its unmarshal functions never
 * advance the offset on failure and never read past the size they are
 * given) and run through vtpm_tpm_process at locality 0, so every NV
 * change they cause is durable before the call returns, exactly as for a
 * guest's command.  Responses come from our own libtpms, but are still
 * parsed strictly: sizes must agree and trailing bytes are an error.
 *
 * Authorizations: the endorsement and owner hierarchies are used with
 * their (empty, at manufacture) auth values; NV indices holding
 * certificates are platform-created and written with the platform
 * hierarchy's (empty) auth; all through the password session TPM_RS_PW.
 *
 * Like vtpm_tpm.c, nothing here is thread-safe.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

/* The policy digest of PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256,
 * "policy A" of the EK Credential Profile: use of the EK needs the
 * endorsement hierarchy's authorization.  test_ek recomputes it on the TPM
 * (trial session) rather than trusting this table. */
static const uint8_t ek_policy_sha256[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

/* fixedTPM, fixedParent, sensitiveDataOrigin, adminWithPolicy, restricted,
 * decrypt; no userWithAuth: the EK is a storage key only usable through
 * the policy above. */
#define EK_OBJECT_ATTRIBUTES                                                   \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |                      \
	 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |       \
	 TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* EK certificate indices as TPM vendors (and swtpm_setup) define them:
 * written once with platform auth, then locked until undefined (which
 * needs platform auth, i.e. never once the hierarchy is disabled);
 * readable with owner auth or the index's own empty auth. */
#define EK_CERT_NV_ATTRIBUTES                                                  \
	(TPMA_NV_PLATFORMCREATE | TPMA_NV_PPWRITE | TPMA_NV_WRITEDEFINE |      \
	 TPMA_NV_PPREAD | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD |               \
	 TPMA_NV_NO_DA)

#define RSA_KEY_BYTES	     256u
#define ECC_P256_BYTES	     32u
#define TPM_HEADER_SIZE	     10u
#define RSA_DEFAULT_EXPONENT 65537u

static bool kind_ok(enum vtpm_ek_kind kind)
{
	return kind == VTPM_EK_RSA2048 || kind == VTPM_EK_ECC_P256;
}

static uint32_t ek_handle(enum vtpm_ek_kind kind)
{
	return kind == VTPM_EK_RSA2048 ? VTPM_EK_RSA2048_HANDLE
				       : VTPM_EK_ECC_P256_HANDLE;
}

static uint32_t ek_cert_index(enum vtpm_ek_kind kind)
{
	return kind == VTPM_EK_RSA2048 ? VTPM_EK_RSA2048_CERT_NV
				       : VTPM_EK_ECC_P256_CERT_NV;
}

static const char *kind_name(enum vtpm_ek_kind kind)
{
	return kind == VTPM_EK_RSA2048 ? "RSA-2048" : "ECC P-256";
}

/* ------------------------------------------------------------- commands */

/* A command being marshalled.  The first marshalling error sticks (rc)
 * and later calls do nothing, so builders read straight through and
 * cmd_finish reports it. */
struct cmd {
	uint8_t buf[VTPM_RING_MAX_PAYLOAD];
	size_t off;
	TSS2_RC rc;
};

static void cmd_begin(struct cmd *c, TPM2_ST tag, TPM2_CC code)
{
	c->off = 0;
	c->rc = Tss2_MU_UINT16_Marshal(tag, c->buf, sizeof(c->buf), &c->off);
	if (!c->rc) /* size: filled in by cmd_finish */
		c->rc = Tss2_MU_UINT32_Marshal(0, c->buf, sizeof(c->buf),
					       &c->off);
	if (!c->rc)
		c->rc = Tss2_MU_UINT32_Marshal(code, c->buf, sizeof(c->buf),
					       &c->off);
}

static void cmd_u8(struct cmd *c, uint8_t v)
{
	if (!c->rc)
		c->rc = Tss2_MU_UINT8_Marshal(v, c->buf, sizeof(c->buf),
					      &c->off);
}

static void cmd_u16(struct cmd *c, uint16_t v)
{
	if (!c->rc)
		c->rc = Tss2_MU_UINT16_Marshal(v, c->buf, sizeof(c->buf),
					       &c->off);
}

static void cmd_u32(struct cmd *c, uint32_t v)
{
	if (!c->rc)
		c->rc = Tss2_MU_UINT32_Marshal(v, c->buf, sizeof(c->buf),
					       &c->off);
}

/* The authorization area: one password session with an empty password
 * (the hierarchies' and our indices' auth values are empty). */
static void cmd_pw_auth(struct cmd *c)
{
	const TPMS_AUTH_COMMAND pw = {.sessionHandle = TPM2_RS_PW};
	size_t at = c->off;

	cmd_u32(c, 0); /* authorizationSize, below */
	if (!c->rc)
		c->rc = Tss2_MU_TPMS_AUTH_COMMAND_Marshal(
			&pw, c->buf, sizeof(c->buf), &c->off);
	if (!c->rc)
		c->rc = Tss2_MU_UINT32_Marshal((uint32_t)(c->off - at - 4),
					       c->buf, sizeof(c->buf), &at);
}

static int cmd_finish(struct cmd *c, const char *what, char *why,
		      size_t why_len)
{
	size_t at = 2;

	if (!c->rc)
		c->rc = Tss2_MU_UINT32_Marshal((uint32_t)c->off, c->buf,
					       sizeof(c->buf), &at);
	if (c->rc) {
		/* Our own templates do not fit: a bug, not an input. */
		vtpm_set_why(why, why_len, "%s: marshalling failed (0x%" PRIx32 ")",
			what, (uint32_t)c->rc);
		return -EOVERFLOW;
	}
	return 0;
}

/* A response: the whole of it in buf[0, len); off is the read cursor and
 * end the end of the parameter area (the auth area follows it). */
struct rsp {
	uint8_t buf[VTPM_RING_MAX_PAYLOAD];
	size_t len, off, end;
	TPM2_ST tag;
	uint32_t rc; /* the TPM's response code */
};

/* Format-one codes carry a parameter/handle/session number in bits 8..11:
 * the base code, to compare with TPM2_RC_*. */
static uint32_t rc_base(uint32_t rc)
{
	return rc & TPM2_RC_FMT1 ? rc & (TPM2_RC_FMT1 | 0x3fu) : rc;
}

/* Hierarchy or auth refusals: what a disabled platform hierarchy or a
 * hierarchy whose auth the guest changed looks like. */
static bool rc_is_denied(uint32_t rc)
{
	uint32_t b = rc_base(rc);

	return b == TPM2_RC_HIERARCHY || b == TPM2_RC_BAD_AUTH ||
	       b == TPM2_RC_AUTH_FAIL || b == TPM2_RC_LOCKOUT;
}

static int rc_errno(uint32_t rc)
{
	uint32_t b = rc_base(rc);

	if (rc_is_denied(rc))
		return -EPERM;
	if (b == TPM2_RC_NV_SPACE || b == TPM2_RC_NV_SIZE ||
	    b == TPM2_RC_OBJECT_MEMORY)
		return -ENOSPC;
	if (b == TPM2_RC_NV_RATE || b == TPM2_RC_RETRY)
		return -EAGAIN;
	return -EIO;
}

/* Runs the command at locality 0.  0 when the TPM answered success (the
 * cursor is then after the header); a TPM error gives rc_errno(r->rc) and
 * why names the command and code; a malformed answer -EBADMSG. */
static int run(struct cmd *c, struct rsp *r, const char *what, char *why,
	       size_t why_len)
{
	uint32_t size = 0;
	int ret;

	ret = cmd_finish(c, what, why, why_len);
	if (ret)
		return ret;
	r->rc = TPM2_RC_FAILURE;
	r->len = vtpm_tpm_process(c->buf, c->off, 0, r->buf, sizeof(r->buf));
	r->off = 0;
	if (r->len < TPM_HEADER_SIZE ||
	    Tss2_MU_UINT16_Unmarshal(r->buf, r->len, &r->off, &r->tag) ||
	    Tss2_MU_UINT32_Unmarshal(r->buf, r->len, &r->off, &size) ||
	    Tss2_MU_UINT32_Unmarshal(r->buf, r->len, &r->off, &r->rc) ||
	    size != r->len) {
		vtpm_set_why(why, why_len, "%s: malformed TPM response", what);
		return -EBADMSG;
	}
	r->end = r->len;
	if (r->rc != TPM2_RC_SUCCESS) {
		vtpm_set_why(why, why_len, "%s: TPM error 0x%03" PRIx32, what,
			r->rc);
		return rc_errno(r->rc);
	}
	if (r->tag != TPM2_ST_NO_SESSIONS && r->tag != TPM2_ST_SESSIONS) {
		vtpm_set_why(why, why_len, "%s: response tag 0x%04x", what,
			(unsigned)r->tag);
		return -EBADMSG;
	}
	return 0;
}

/* After the response handles: with sessions, the parameter area is
 * sized; the cursor is left at its start. */
static bool rsp_params(struct rsp *r)
{
	uint32_t psize;

	if (r->tag != TPM2_ST_SESSIONS)
		return true;
	if (Tss2_MU_UINT32_Unmarshal(r->buf, r->len, &r->off, &psize) ||
	    psize > r->len - r->off)
		return false;
	r->end = r->off + psize;
	return true;
}

/* The parameters were consumed exactly; the auth area (one response
 * session per command session; we always send one) ends the response. */
static bool rsp_done(struct rsp *r)
{
	TPMS_AUTH_RESPONSE auth = {0};

	if (r->off != r->end)
		return false;
	if (r->tag != TPM2_ST_SESSIONS)
		return r->off == r->len;
	return !Tss2_MU_TPMS_AUTH_RESPONSE_Unmarshal(r->buf, r->len, &r->off,
						     &auth) &&
	       r->off == r->len;
}

static int bad_rsp(const char *what, char *why, size_t why_len)
{
	vtpm_set_why(why, why_len, "%s: malformed TPM response parameters", what);
	return -EBADMSG;
}

/* ------------------------------------------------------------ templates */

static void ek_template(enum vtpm_ek_kind kind, TPM2B_PUBLIC *t)
{
	TPMT_PUBLIC *p = &t->publicArea;

	memset(t, 0, sizeof(*t));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = EK_OBJECT_ATTRIBUTES;
	p->authPolicy.size = sizeof(ek_policy_sha256);
	memcpy(p->authPolicy.buffer, ek_policy_sha256,
	       sizeof(ek_policy_sha256));
	if (kind == VTPM_EK_RSA2048) {
		TPMS_RSA_PARMS *rsa = &p->parameters.rsaDetail;

		p->type = TPM2_ALG_RSA;
		rsa->symmetric.algorithm = TPM2_ALG_AES;
		rsa->symmetric.keyBits.aes = 128;
		rsa->symmetric.mode.aes = TPM2_ALG_CFB;
		rsa->scheme.scheme = TPM2_ALG_NULL;
		rsa->keyBits = 2048;
		rsa->exponent = 0; /* the default, 65537 */
		/* Template L-1: 256 zero bytes. */
		p->unique.rsa.size = RSA_KEY_BYTES;
	} else {
		TPMS_ECC_PARMS *ecc = &p->parameters.eccDetail;

		p->type = TPM2_ALG_ECC;
		ecc->symmetric.algorithm = TPM2_ALG_AES;
		ecc->symmetric.keyBits.aes = 128;
		ecc->symmetric.mode.aes = TPM2_ALG_CFB;
		ecc->scheme.scheme = TPM2_ALG_NULL;
		ecc->curveID = TPM2_ECC_NIST_P256;
		ecc->kdf.scheme = TPM2_ALG_NULL;
		/* Template L-2: 32 zero bytes each. */
		p->unique.ecc.x.size = ECC_P256_BYTES;
		p->unique.ecc.y.size = ECC_P256_BYTES;
	}
}

static bool same_symmetric(const TPMT_SYM_DEF_OBJECT *a,
			   const TPMT_SYM_DEF_OBJECT *b)
{
	return a->algorithm == b->algorithm &&
	       a->keyBits.aes == b->keyBits.aes && a->mode.aes == b->mode.aes;
}

/* The public area the TPM returned is the EK of `kind`'s template: every
 * field but the key itself equal, and the key of the right size. */
static bool is_ek_public(enum vtpm_ek_kind kind, const TPM2B_PUBLIC *got)
{
	const TPMT_PUBLIC *g = &got->publicArea;
	const TPMU_PUBLIC_PARMS *gp = &g->parameters;
	TPM2B_PUBLIC want;
	const TPMT_PUBLIC *w = &want.publicArea;
	const TPMU_PUBLIC_PARMS *wp = &w->parameters;

	ek_template(kind, &want);
	if (g->type != w->type || g->nameAlg != w->nameAlg ||
	    g->objectAttributes != w->objectAttributes ||
	    g->authPolicy.size != w->authPolicy.size ||
	    memcmp(g->authPolicy.buffer, w->authPolicy.buffer,
		   w->authPolicy.size) != 0)
		return false;
	if (kind == VTPM_EK_RSA2048)
		return same_symmetric(&gp->rsaDetail.symmetric,
				      &wp->rsaDetail.symmetric) &&
		       gp->rsaDetail.scheme.scheme == TPM2_ALG_NULL &&
		       gp->rsaDetail.keyBits == wp->rsaDetail.keyBits &&
		       (gp->rsaDetail.exponent == 0 ||
			gp->rsaDetail.exponent == RSA_DEFAULT_EXPONENT) &&
		       g->unique.rsa.size == RSA_KEY_BYTES &&
		       (g->unique.rsa.buffer[0] & 0x80);
	return same_symmetric(&gp->eccDetail.symmetric,
			      &wp->eccDetail.symmetric) &&
	       gp->eccDetail.scheme.scheme == TPM2_ALG_NULL &&
	       gp->eccDetail.curveID == wp->eccDetail.curveID &&
	       gp->eccDetail.kdf.scheme == TPM2_ALG_NULL &&
	       g->unique.ecc.x.size >= 1 &&
	       g->unique.ecc.x.size <= ECC_P256_BYTES &&
	       g->unique.ecc.y.size >= 1 &&
	       g->unique.ecc.y.size <= ECC_P256_BYTES;
}

/* ------------------------------------------------------------------ DER */

/* Just enough DER for a SubjectPublicKeyInfo (RFC 5280 4.1.2.7, RFC 3279
 * 2.3.1 and RFC 5480 2): the manager's CA parses it with OpenSSL, and this
 * library stays free of OpenSSL. */
struct der {
	uint8_t *p;
	size_t cap, len;
	bool err;
};

static void der_bytes(struct der *d, const uint8_t *b, size_t n)
{
	if (d->err || n > d->cap - d->len) {
		d->err = true;
		return;
	}
	memcpy(d->p + d->len, b, n);
	d->len += n;
}

static void der_byte(struct der *d, uint8_t b)
{
	der_bytes(d, &b, 1);
}

/* Tag and definite length (contents up to 64 KiB here). */
static void der_head(struct der *d, uint8_t tag, size_t n)
{
	der_byte(d, tag);
	if (n < 0x80) {
		der_byte(d, (uint8_t)n);
	} else if (n <= 0xff) {
		der_byte(d, 0x81);
		der_byte(d, (uint8_t)n);
	} else if (n <= 0xffff) {
		der_byte(d, 0x82);
		der_byte(d, (uint8_t)(n >> 8));
		der_byte(d, (uint8_t)n);
	} else {
		d->err = true;
	}
}

static size_t der_head_len(size_t n)
{
	return n < 0x80 ? 2 : n <= 0xff ? 3 : 4;
}

/* A non-negative INTEGER from big-endian bytes: leading zeros dropped, one
 * 0x00 added when the top bit is set. */
static size_t der_uint_len(const uint8_t *b, size_t n)
{
	while (n > 1 && b[0] == 0) {
		b++;
		n--;
	}
	n += (b[0] & 0x80) ? 1 : 0;
	return der_head_len(n) + n;
}

static void der_uint(struct der *d, const uint8_t *b, size_t n)
{
	while (n > 1 && b[0] == 0) {
		b++;
		n--;
	}
	der_head(d, 0x02, n + ((b[0] & 0x80) ? 1 : 0));
	if (b[0] & 0x80)
		der_byte(d, 0);
	der_bytes(d, b, n);
}

/* AlgorithmIdentifiers, whole: rsaEncryption with NULL parameters;
 * id-ecPublicKey with the named curve prime256v1. */
static const uint8_t alg_rsa[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
};
static const uint8_t alg_ec_p256[] = {
	0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
};

static int make_spki(const TPM2B_PUBLIC *pub, uint8_t *out, size_t cap,
		     uint16_t *out_len)
{
	const TPMT_PUBLIC *p = &pub->publicArea;
	struct der d = {.p = out, .cap = cap};

	if (p->type == TPM2_ALG_RSA) {
		uint32_t e = p->parameters.rsaDetail.exponent;
		uint8_t eb[4];
		size_t rsapk, bits;

		if (!e)
			e = RSA_DEFAULT_EXPONENT;
		eb[0] = (uint8_t)(e >> 24);
		eb[1] = (uint8_t)(e >> 16);
		eb[2] = (uint8_t)(e >> 8);
		eb[3] = (uint8_t)e;
		/* RSAPublicKey ::= SEQUENCE { modulus, publicExponent } */
		rsapk = der_uint_len(p->unique.rsa.buffer, p->unique.rsa.size) +
			der_uint_len(eb, sizeof(eb));
		bits = 1 + der_head_len(rsapk) + rsapk; /* unused-bits octet */
		der_head(&d, 0x30, sizeof(alg_rsa) + der_head_len(bits) + bits);
		der_bytes(&d, alg_rsa, sizeof(alg_rsa));
		der_head(&d, 0x03, bits);
		der_byte(&d, 0);
		der_head(&d, 0x30, rsapk);
		der_uint(&d, p->unique.rsa.buffer, p->unique.rsa.size);
		der_uint(&d, eb, sizeof(eb));
	} else {
		const TPMS_ECC_POINT *q = &p->unique.ecc;
		uint8_t pt[1 + 2 * ECC_P256_BYTES] = {0x04}; /* uncompressed */
		size_t bits = 1 + sizeof(pt);

		/* Coordinates are fixed-width in the point encoding (SEC 1
		 * 2.3.3): a TPM may drop leading zero bytes. */
		memcpy(pt + 1 + ECC_P256_BYTES - q->x.size, q->x.buffer,
		       q->x.size);
		memcpy(pt + 1 + 2 * ECC_P256_BYTES - q->y.size, q->y.buffer,
		       q->y.size);
		der_head(&d, 0x30,
			 sizeof(alg_ec_p256) + der_head_len(bits) + bits);
		der_bytes(&d, alg_ec_p256, sizeof(alg_ec_p256));
		der_head(&d, 0x03, bits);
		der_byte(&d, 0);
		der_bytes(&d, pt, sizeof(pt));
	}
	if (d.err)
		return -EOVERFLOW;
	*out_len = (uint16_t)d.len;
	return 0;
}

/* Fills out from a public area already checked with is_ek_public. */
static int fill_public(enum vtpm_ek_kind kind, const TPM2B_PUBLIC *pub,
		       struct vtpm_ek_public *out, char *why, size_t why_len)
{
	size_t off = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->handle = ek_handle(kind);
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out->public_area,
					 sizeof(out->public_area), &off)) {
		vtpm_set_why(why, why_len, "%s EK public area too large",
			kind_name(kind));
		return -EOVERFLOW;
	}
	out->public_len = (uint16_t)off;
	ret = make_spki(pub, out->spki, sizeof(out->spki), &out->spki_len);
	if (ret)
		vtpm_set_why(why, why_len, "%s EK: SubjectPublicKeyInfo too large",
			kind_name(kind));
	return ret;
}

/* ---------------------------------------------------------- TPM commands */

/* TPM2_ReadPublic: -ENOENT when nothing is at the handle. */
static int read_public(uint32_t handle, TPM2B_PUBLIC *pub, char *why,
		       size_t why_len)
{
	static const char what[] = "ReadPublic";
	struct cmd c;
	struct rsp r;
	TPM2B_NAME name = {0}, qname = {0};
	int ret;

	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_ReadPublic);
	cmd_u32(&c, handle);
	ret = run(&c, &r, what, why, why_len);
	if (ret) {
		if (rc_base(r.rc) == TPM2_RC_HANDLE) {
			vtpm_set_why(why, why_len, "no object at 0x%08" PRIx32,
				handle);
			return -ENOENT;
		}
		return ret;
	}
	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(r.buf, r.end, &r.off, pub) ||
	    Tss2_MU_TPM2B_NAME_Unmarshal(r.buf, r.end, &r.off, &name) ||
	    Tss2_MU_TPM2B_NAME_Unmarshal(r.buf, r.end, &r.off, &qname) ||
	    !rsp_done(&r))
		return bad_rsp(what, why, why_len);
	return 0;
}

static int create_primary(enum vtpm_ek_kind kind, uint32_t *handle,
			  TPM2B_PUBLIC *pub, char *why, size_t why_len)
{
	static const char what[] = "CreatePrimary(endorsement)";
	const TPM2B_SENSITIVE_CREATE sens = {0};
	const TPM2B_DATA outside = {0};
	const TPML_PCR_SELECTION pcrs = {0};
	TPM2B_PUBLIC tmpl;
	/* tss2-mu refuses to unmarshal a sized structure into one whose
	 * size is not 0: start from zeros. */
	TPM2B_CREATION_DATA cdata = {0};
	TPM2B_DIGEST chash = {0};
	TPMT_TK_CREATION ticket = {0};
	TPM2B_NAME name = {0};
	struct cmd c;
	struct rsp r;
	int ret;

	ek_template(kind, &tmpl);
	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_CreatePrimary);
	cmd_u32(&c, TPM2_RH_ENDORSEMENT);
	cmd_pw_auth(&c);
	if (!c.rc)
		c.rc = Tss2_MU_TPM2B_SENSITIVE_CREATE_Marshal(
			&sens, c.buf, sizeof(c.buf), &c.off);
	if (!c.rc)
		c.rc = Tss2_MU_TPM2B_PUBLIC_Marshal(&tmpl, c.buf, sizeof(c.buf),
						    &c.off);
	if (!c.rc)
		c.rc = Tss2_MU_TPM2B_DATA_Marshal(&outside, c.buf,
						  sizeof(c.buf), &c.off);
	if (!c.rc)
		c.rc = Tss2_MU_TPML_PCR_SELECTION_Marshal(
			&pcrs, c.buf, sizeof(c.buf), &c.off);
	ret = run(&c, &r, what, why, why_len);
	if (ret)
		return ret;
	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_UINT32_Unmarshal(r.buf, r.len, &r.off, handle) ||
	    !rsp_params(&r) ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(r.buf, r.end, &r.off, pub) ||
	    Tss2_MU_TPM2B_CREATION_DATA_Unmarshal(r.buf, r.end, &r.off,
						  &cdata) ||
	    Tss2_MU_TPM2B_DIGEST_Unmarshal(r.buf, r.end, &r.off, &chash) ||
	    Tss2_MU_TPMT_TK_CREATION_Unmarshal(r.buf, r.end, &r.off, &ticket) ||
	    Tss2_MU_TPM2B_NAME_Unmarshal(r.buf, r.end, &r.off, &name) ||
	    !rsp_done(&r))
		return bad_rsp(what, why, why_len);
	return 0;
}

static void flush_context(uint32_t handle)
{
	struct cmd c;
	struct rsp r;

	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_FlushContext);
	cmd_u32(&c, handle);
	/* Nothing to do about a failure: the TPM keeps a transient object
	 * until the next Startup(CLEAR) at worst. */
	(void)run(&c, &r, "FlushContext", NULL, 0);
}

/* TPM2_EvictControl with owner auth: persists `object` at `persistent`,
 * or, when object == persistent, removes it. */
static int evict_control(uint32_t object, uint32_t persistent, char *why,
			 size_t why_len)
{
	static const char what[] = "EvictControl(owner)";
	struct cmd c;
	struct rsp r;
	int ret;

	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_EvictControl);
	cmd_u32(&c, TPM2_RH_OWNER);
	cmd_u32(&c, object);
	cmd_pw_auth(&c);
	cmd_u32(&c, persistent);
	ret = run(&c, &r, what, why, why_len);
	if (ret)
		return ret;
	if (!rsp_params(&r) || !rsp_done(&r))
		return bad_rsp(what, why, why_len);
	return 0;
}

/* One TPM property (TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES)). */
static int get_property(uint32_t prop, uint32_t *value, char *why,
			size_t why_len)
{
	static const char what[] = "GetCapability(properties)";
	TPMS_CAPABILITY_DATA cap = {0};
	TPMI_YES_NO more = 0;
	struct cmd c;
	struct rsp r;
	int ret;

	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_GetCapability);
	cmd_u32(&c, TPM2_CAP_TPM_PROPERTIES);
	cmd_u32(&c, prop);
	cmd_u32(&c, 1);
	ret = run(&c, &r, what, why, why_len);
	if (ret)
		return ret;
	if (Tss2_MU_UINT8_Unmarshal(r.buf, r.end, &r.off, &more) ||
	    Tss2_MU_TPMS_CAPABILITY_DATA_Unmarshal(r.buf, r.end, &r.off,
						   &cap) ||
	    !rsp_done(&r))
		return bad_rsp(what, why, why_len);
	if (cap.capability != TPM2_CAP_TPM_PROPERTIES ||
	    cap.data.tpmProperties.count < 1 ||
	    cap.data.tpmProperties.tpmProperty[0].property != prop) {
		vtpm_set_why(why, why_len, "%s: property 0x%" PRIx32 " missing",
			what, prop);
		return -EIO;
	}
	*value = cap.data.tpmProperties.tpmProperty[0].value;
	return 0;
}

/* TPM2_NV_ReadPublic: -ENOENT when the index does not exist. */
static int nv_read_public(uint32_t index, TPMS_NV_PUBLIC *pub, char *why,
			  size_t why_len)
{
	static const char what[] = "NV_ReadPublic";
	TPM2B_NV_PUBLIC nvpub = {0};
	TPM2B_NAME name = {0};
	struct cmd c;
	struct rsp r;
	int ret;

	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_NV_ReadPublic);
	cmd_u32(&c, index);
	ret = run(&c, &r, what, why, why_len);
	if (ret) {
		if (rc_base(r.rc) == TPM2_RC_HANDLE) {
			vtpm_set_why(why, why_len, "no NV index 0x%08" PRIx32,
				index);
			return -ENOENT;
		}
		return ret;
	}
	if (Tss2_MU_TPM2B_NV_PUBLIC_Unmarshal(r.buf, r.end, &r.off, &nvpub) ||
	    Tss2_MU_TPM2B_NAME_Unmarshal(r.buf, r.end, &r.off, &name) ||
	    !rsp_done(&r) || nvpub.nvPublic.nvIndex != index)
		return bad_rsp(what, why, why_len);
	*pub = nvpub.nvPublic;
	return 0;
}

/* A command authorized by the platform hierarchy with handles h1 (and
 * h2 when nonzero) and no parameters of its own added by the caller yet:
 * the shared head of NV_DefineSpace/UndefineSpace/Write/WriteLock. */
static void cmd_platform(struct cmd *c, TPM2_CC code, uint32_t h2)
{
	cmd_begin(c, TPM2_ST_SESSIONS, code);
	cmd_u32(c, TPM2_RH_PLATFORM);
	if (h2)
		cmd_u32(c, h2);
	cmd_pw_auth(c);
}

static int run_no_params(struct cmd *c, const char *what, char *why,
			 size_t why_len)
{
	struct rsp r;
	int ret;

	ret = run(c, &r, what, why, why_len);
	if (ret)
		return ret;
	if (!rsp_params(&r) || !rsp_done(&r))
		return bad_rsp(what, why, why_len);
	return 0;
}

static int nv_define(uint32_t index, uint16_t size, char *why, size_t why_len)
{
	const TPM2B_AUTH auth = {0};
	const TPM2B_NV_PUBLIC pub = {
		.nvPublic = {.nvIndex = index,
			     .nameAlg = TPM2_ALG_SHA256,
			     .attributes = EK_CERT_NV_ATTRIBUTES,
			     .dataSize = size},
	};
	struct cmd c;

	cmd_platform(&c, TPM2_CC_NV_DefineSpace, 0);
	if (!c.rc)
		c.rc = Tss2_MU_TPM2B_AUTH_Marshal(&auth, c.buf, sizeof(c.buf),
						  &c.off);
	if (!c.rc)
		c.rc = Tss2_MU_TPM2B_NV_PUBLIC_Marshal(&pub, c.buf,
						       sizeof(c.buf), &c.off);
	return run_no_params(&c, "NV_DefineSpace(platform)", why, why_len);
}

static int nv_write(uint32_t index, const uint8_t *data, uint16_t len,
		    uint16_t offset, char *why, size_t why_len)
{
	TPM2B_MAX_NV_BUFFER buf = {.size = len};
	struct cmd c;

	memcpy(buf.buffer, data, len);
	cmd_platform(&c, TPM2_CC_NV_Write, index);
	if (!c.rc)
		c.rc = Tss2_MU_TPM2B_MAX_NV_BUFFER_Marshal(
			&buf, c.buf, sizeof(c.buf), &c.off);
	cmd_u16(&c, offset);
	return run_no_params(&c, "NV_Write(platform)", why, why_len);
}

/* TPM2_NV_Read authorized by the index itself (TPMA_NV_AUTHREAD, empty
 * auth that nobody can change: the index has no policy for the ADMIN
 * role), so it works whatever the guest did to the owner's auth. */
static int nv_read(uint32_t index, uint8_t *out, uint16_t len, uint16_t offset,
		   char *why, size_t why_len)
{
	static const char what[] = "NV_Read";
	TPM2B_MAX_NV_BUFFER data = {0};
	struct cmd c;
	struct rsp r;
	int ret;

	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_NV_Read);
	cmd_u32(&c, index);
	cmd_u32(&c, index);
	cmd_pw_auth(&c);
	cmd_u16(&c, len);
	cmd_u16(&c, offset);
	ret = run(&c, &r, what, why, why_len);
	if (ret)
		return ret;
	if (!rsp_params(&r) ||
	    Tss2_MU_TPM2B_MAX_NV_BUFFER_Unmarshal(r.buf, r.end, &r.off,
						  &data) ||
	    !rsp_done(&r) || data.size != len)
		return bad_rsp(what, why, why_len);
	memcpy(out, data.buffer, len);
	return 0;
}

/* The largest NV_Write/NV_Read chunk (TPM_PT_NV_BUFFER_MAX, 1024 in
 * libtpms), bounded by what one command and TPM2B_MAX_NV_BUFFER carry. */
static int nv_chunk(uint16_t *chunk, char *why, size_t why_len)
{
	uint32_t v = 0;
	int ret;

	ret = get_property(TPM2_PT_NV_BUFFER_MAX, &v, why, why_len);
	if (ret)
		return ret;
	if (v == 0) {
		vtpm_set_why(why, why_len, "TPM_PT_NV_BUFFER_MAX is 0");
		return -EIO;
	}
	if (v > TPM2_MAX_NV_BUFFER_SIZE)
		v = TPM2_MAX_NV_BUFFER_SIZE;
	if (v > VTPM_EK_CERT_MAX)
		v = VTPM_EK_CERT_MAX;
	*chunk = (uint16_t)v;
	return 0;
}

/* ------------------------------------------------------------ interface */

/* Two public areas marshal to the same bytes. */
static bool same_public(const TPM2B_PUBLIC *x, const TPM2B_PUBLIC *y)
{
	uint8_t mx[sizeof(TPM2B_PUBLIC)], my[sizeof(TPM2B_PUBLIC)];
	size_t nx = 0, ny = 0;

	return !Tss2_MU_TPM2B_PUBLIC_Marshal(x, mx, sizeof(mx), &nx) &&
	       !Tss2_MU_TPM2B_PUBLIC_Marshal(y, my, sizeof(my), &ny) &&
	       nx == ny && memcmp(mx, my, nx) == 0;
}

int vtpm_ek_create(enum vtpm_ek_kind kind, struct vtpm_ek_public *out,
		   char *why, size_t why_len)
{
	TPM2B_PUBLIC pub, cur;
	uint32_t transient = 0, handle;
	bool keep;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!kind_ok(kind) || !out) {
		vtpm_set_why(why, why_len, "bad EK kind or no output");
		return -EINVAL;
	}
	handle = ek_handle(kind);
	/* transient stays 0 (never a transient handle) unless the TPM
	 * answered with one, even when the rest of its answer is bad. */
	ret = create_primary(kind, &transient, &pub, why, why_len);
	if (ret)
		goto out;
	if (!is_ek_public(kind, &pub)) {
		vtpm_set_why(why, why_len,
			"%s EK: the TPM did not follow the template",
			kind_name(kind));
		ret = -EIO;
		goto out;
	}
	/* Already persistent (a retry after a crash between here and the
	 * certificate): keep it.  Anything else at the handle goes. */
	ret = read_public(handle, &cur, why, why_len);
	keep = ret == 0 && same_public(&pub, &cur);
	if (ret == 0 && !keep)
		ret = evict_control(handle, handle, why, why_len);
	else if (ret == -ENOENT)
		ret = 0;
	if (ret == 0 && !keep)
		ret = evict_control(transient, handle, why, why_len);
	if (ret == 0)
		ret = fill_public(kind, &pub, out, why, why_len);
	if (ret == 0)
		vtpm_set_why(why, why_len, "%s", "");
out:
	if (transient)
		flush_context(transient);
	return ret;
}

int vtpm_ek_read_public(enum vtpm_ek_kind kind, struct vtpm_ek_public *out,
			char *why, size_t why_len)
{
	TPM2B_PUBLIC pub;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!kind_ok(kind) || !out) {
		vtpm_set_why(why, why_len, "bad EK kind or no output");
		return -EINVAL;
	}
	ret = read_public(ek_handle(kind), &pub, why, why_len);
	if (ret)
		return ret;
	if (!is_ek_public(kind, &pub)) {
		vtpm_set_why(why, why_len,
			"0x%08" PRIx32 " holds a key that is not the %s EK",
			ek_handle(kind), kind_name(kind));
		return -EEXIST;
	}
	return fill_public(kind, &pub, out, why, why_len);
}

/* Removes our previous certificate index (re-issued by a new CA, or a
 * retry after a crash); anything the platform did not create stays. */
static int nv_undefine_ours(uint32_t index, char *why, size_t why_len)
{
	TPMS_NV_PUBLIC cur;
	struct cmd c;
	int ret;

	ret = nv_read_public(index, &cur, why, why_len);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (!(cur.attributes & TPMA_NV_PLATFORMCREATE)) {
		vtpm_set_why(why, why_len,
			"NV index 0x%08" PRIx32
			" exists and was not created by the platform",
			index);
		return -EEXIST;
	}
	cmd_platform(&c, TPM2_CC_NV_UndefineSpace, index);
	return run_no_params(&c, "NV_UndefineSpace(platform)", why, why_len);
}

int vtpm_ek_write_cert(enum vtpm_ek_kind kind, const uint8_t *der, size_t len,
		       char *why, size_t why_len)
{
	struct cmd c;
	uint32_t index;
	uint16_t chunk = 0;
	size_t off;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!kind_ok(kind) || !der || len == 0 || len > VTPM_EK_CERT_MAX) {
		vtpm_set_why(why, why_len,
			"bad EK kind or certificate size %zu (1..%u)", len,
			VTPM_EK_CERT_MAX);
		return -EINVAL;
	}
	index = ek_cert_index(kind);
	ret = nv_chunk(&chunk, why, why_len);
	if (!ret)
		ret = nv_undefine_ours(index, why, why_len);
	if (!ret)
		ret = nv_define(index, (uint16_t)len, why, why_len);
	for (off = 0; !ret && off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		ret = nv_write(index, der + off, (uint16_t)n, (uint16_t)off,
			       why, why_len);
	}
	if (ret)
		return ret;
	cmd_platform(&c, TPM2_CC_NV_WriteLock, index);
	return run_no_params(&c, "NV_WriteLock(platform)", why, why_len);
}

int vtpm_ek_read_cert(enum vtpm_ek_kind kind, uint8_t *buf, size_t cap,
		      size_t *len, char *why, size_t why_len)
{
	TPMS_NV_PUBLIC pub;
	uint32_t index;
	uint16_t chunk = 0;
	size_t off;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!kind_ok(kind) || !buf || !len) {
		vtpm_set_why(why, why_len, "bad EK kind or no output");
		return -EINVAL;
	}
	*len = 0;
	index = ek_cert_index(kind);
	ret = nv_read_public(index, &pub, why, why_len);
	if (ret)
		return ret;
	if (!(pub.attributes & TPMA_NV_WRITTEN)) {
		vtpm_set_why(why, why_len,
			"NV index 0x%08" PRIx32 " was never written", index);
		return -ENOENT;
	}
	if (pub.dataSize > cap) {
		vtpm_set_why(why, why_len,
			"certificate of %u bytes does not fit %zu",
			(unsigned)pub.dataSize, cap);
		return -ENOSPC;
	}
	ret = nv_chunk(&chunk, why, why_len);
	if (ret)
		return ret;
	for (off = 0; off < pub.dataSize; off += chunk) {
		size_t n =
			pub.dataSize - off < chunk ? pub.dataSize - off : chunk;

		ret = nv_read(index, buf + off, (uint16_t)n, (uint16_t)off, why,
			      why_len);
		if (ret)
			return ret;
	}
	*len = pub.dataSize;
	return 0;
}

/* Four characters of a TPM property string, in order, without the NULs
 * and blanks TPMs pad them with at the end of the whole string. */
static void put_chars(char *s, size_t *n, uint32_t v)
{
	for (int shift = 24; shift >= 0; shift -= 8) {
		char ch = (char)(v >> shift);

		if (ch >= 0x20 && ch < 0x7f)
			s[(*n)++] = ch;
	}
}

int vtpm_ek_tpm_info(struct vtpm_ek_tpm_info *out, char *why, size_t why_len)
{
	uint32_t v[4];
	size_t n = 0;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out) {
		vtpm_set_why(why, why_len, "no output");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	ret = get_property(TPM2_PT_MANUFACTURER, &out->manufacturer, why,
			   why_len);
	if (!ret)
		ret = get_property(TPM2_PT_FIRMWARE_VERSION_1,
				   &out->firmware_version1, why, why_len);
	if (!ret)
		ret = get_property(TPM2_PT_FIRMWARE_VERSION_2,
				   &out->firmware_version2, why, why_len);
	if (!ret)
		ret = get_property(TPM2_PT_LEVEL, &out->level, why, why_len);
	if (!ret)
		ret = get_property(TPM2_PT_REVISION, &out->revision, why,
				   why_len);
	if (!ret)
		ret = get_property(TPM2_PT_FAMILY_INDICATOR, &v[0], why,
				   why_len);
	if (ret)
		return ret;
	put_chars(out->family, &n, v[0]);
	out->family[n] = '\0';
	n = 0;
	for (unsigned i = 0; i < 4; i++) {
		/* Strings 2..4 need not be present (TPM2_PT_VENDOR_STRING_1
		 * note in Part 2); libtpms reports them all. */
		if (get_property(TPM2_PT_VENDOR_STRING_1 + i, &v[i], NULL, 0))
			v[i] = 0;
		put_chars(out->vendor, &n, v[i]);
	}
	while (n > 0 && out->vendor[n - 1] == ' ')
		n--;
	out->vendor[n] = '\0';
	return 0;
}

/* Why disable rather than set a random platformAuth: see vtpm.h.  The
 * platform hierarchy comes back at every Startup(CLEAR), so this runs
 * after every power-on and reset; it is idempotent. */
int vtpm_ek_lock_platform(char *why, size_t why_len)
{
	uint32_t sc = 0;
	struct cmd c;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	ret = get_property(TPM2_PT_STARTUP_CLEAR, &sc, why, why_len);
	if (ret)
		return ret;
	if (sc & TPMA_STARTUP_CLEAR_PHENABLE) {
		cmd_platform(&c, TPM2_CC_HierarchyControl, 0);
		cmd_u32(&c, TPM2_RH_PLATFORM); /* enable: phEnable */
		cmd_u8(&c, TPM2_NO);	       /* state */
		ret = run_no_params(&c, "HierarchyControl(platform, NO)", why,
				    why_len);
		if (ret)
			return ret;
		/* Trust, but check: fail closed if it is still on. */
		ret = get_property(TPM2_PT_STARTUP_CLEAR, &sc, why, why_len);
		if (ret)
			return ret;
	}
	if (sc & TPMA_STARTUP_CLEAR_PHENABLE) {
		vtpm_set_why(why, why_len, "platform hierarchy still enabled");
		return -EIO;
	}
	if (!(sc & TPMA_STARTUP_CLEAR_PHENABLENV)) {
		/* Without it the EK certificates would be invisible; only
		 * platform auth can clear it, so something is very wrong. */
		vtpm_set_why(why, why_len, "platform NV (phEnableNV) disabled");
		return -EIO;
	}
	return 0;
}

/* --------------------------------------------------------- batch store */

/* libtpms writes three names at most ("permall", "volatilestate",
 * "savestate"); a fourth is refused. */
#define BATCH_NAMES    4
#define BATCH_NAME_MAX 32

/* One name's pending change: new contents, or a deletion. */
struct batch_entry {
	char name[BATCH_NAME_MAX]; /* "" when the slot is free */
	uint8_t *data;		   /* owned; NULL for a deletion */
	size_t len;
};

/* The ctx of a batch store.  Owned by the struct vtpm_store it was
 * opened into; inner is the caller's and outlives it. */
struct batch {
	const struct vtpm_store *inner;
	bool passthrough; /* committed: every call goes to inner */
	struct batch_entry e[BATCH_NAMES];
};

static struct batch_entry *batch_find(struct batch *b, const char *name)
{
	for (unsigned i = 0; i < BATCH_NAMES; i++)
		if (b->e[i].name[0] && strcmp(b->e[i].name, name) == 0)
			return &b->e[i];
	return NULL;
}

static struct batch_entry *batch_slot(struct batch *b, const char *name)
{
	struct batch_entry *e = batch_find(b, name);

	if (e || strlen(name) >= BATCH_NAME_MAX)
		return e;
	for (unsigned i = 0; i < BATCH_NAMES; i++) {
		if (!b->e[i].name[0]) {
			snprintf(b->e[i].name, BATCH_NAME_MAX, "%s", name);
			return &b->e[i];
		}
	}
	return NULL;
}

static int batch_load(void *ctx, const char *name, uint8_t **data, size_t *len)
{
	struct batch *b = ctx;
	struct batch_entry *e = b->passthrough ? NULL : batch_find(b, name);

	if (!e)
		return b->inner->ops->load(b->inner->ctx, name, data, len);
	if (!e->data)
		return -ENOENT;
	*data = malloc(e->len);
	if (!*data)
		return -ENOMEM;
	memcpy(*data, e->data, e->len);
	*len = e->len;
	return 0;
}

/* Replaces name's pending change; data NULL records a deletion. */
static int batch_put(struct batch *b, const char *name, const uint8_t *data,
		     size_t len)
{
	struct batch_entry *e;
	uint8_t *copy = NULL;

	if (len > VTPM_STATE_MAX)
		return -EFBIG;
	e = batch_slot(b, name);
	if (!e)
		return -ENOSPC;
	if (data) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	free(e->data);
	e->data = copy;
	e->len = len;
	return 0;
}

static int batch_store(void *ctx, const char *name, const uint8_t *data,
		       size_t len)
{
	struct batch *b = ctx;

	if (b->passthrough)
		return b->inner->ops->store(b->inner->ctx, name, data, len);
	return batch_put(b, name, data, len);
}

static int batch_remove(void *ctx, const char *name)
{
	struct batch *b = ctx;
	struct batch_entry *e;
	uint8_t *probe = NULL;
	size_t plen = 0;
	int ret;

	if (b->passthrough)
		return b->inner->ops->remove(b->inner->ctx, name);
	e = batch_find(b, name);
	if (e && !e->data)
		return -ENOENT;
	if (!e) {
		/* -ENOENT when there is nothing to delete, as a store
		 * would say. */
		ret = b->inner->ops->load(b->inner->ctx, name, &probe, &plen);
		free(probe);
		if (ret)
			return ret;
	}
	return batch_put(b, name, NULL, 0);
}

static void batch_clear(struct batch *b)
{
	for (unsigned i = 0; i < BATCH_NAMES; i++) {
		free(b->e[i].data);
		memset(&b->e[i], 0, sizeof(b->e[i]));
	}
}

static void batch_close(void *ctx)
{
	struct batch *b = ctx;

	batch_clear(b);
	free(b);
}

static const struct vtpm_store_ops batch_ops = {
	.load = batch_load,
	.store = batch_store,
	.remove = batch_remove,
	.close = batch_close,
};

int vtpm_ek_batch_open(struct vtpm_store *st, const struct vtpm_store *inner,
		       char *why, size_t why_len)
{
	struct batch *b;

	vtpm_set_why(why, why_len, "%s", "");
	if (!st || !inner || !inner->ops || !inner->ops->load ||
	    !inner->ops->store || !inner->ops->remove) {
		vtpm_set_why(why, why_len, "no store to batch");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	b->inner = inner;
	st->ops = &batch_ops;
	st->ctx = b;
	return 0;
}

int vtpm_ek_batch_commit(struct vtpm_store *st, char *why, size_t why_len)
{
	struct batch *b;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!st || st->ops != &batch_ops) {
		vtpm_set_why(why, why_len, "not a batch store");
		return -EINVAL;
	}
	b = st->ctx;
	if (b->passthrough)
		return 0;
	/* Deletions first, then contents: libtpms reads permall first at
	 * load, and a fresh TPM has nothing else. */
	for (unsigned i = 0; i < BATCH_NAMES; i++) {
		struct batch_entry *e = &b->e[i];

		if (!e->name[0] || e->data)
			continue;
		ret = b->inner->ops->remove(b->inner->ctx, e->name);
		if (ret && ret != -ENOENT) {
			vtpm_set_why(why, why_len, "removing %s: %s", e->name,
				strerror(-ret));
			return ret;
		}
	}
	for (unsigned i = 0; i < BATCH_NAMES; i++) {
		struct batch_entry *e = &b->e[i];

		if (!e->name[0] || !e->data)
			continue;
		ret = b->inner->ops->store(b->inner->ctx, e->name, e->data,
					   e->len);
		if (ret) {
			/* Still batched: the caller powers off and starts
			 * again from what inner holds. */
			vtpm_set_why(why, why_len, "storing %s: %s", e->name,
				strerror(-ret));
			return ret;
		}
	}
	batch_clear(b);
	b->passthrough = true;
	return 0;
}
