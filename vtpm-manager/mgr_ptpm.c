/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_ptpm.c - the platform TPM through tpm2-tss ESAPI (mgr_ptpm.h):
 * storage primary key, PCR-policy sealing of the root key, the NV counter
 * that anchors the root record's generation, and the platform side of a
 * deep quote.
 *
 * Sessions: one salted HMAC session (tpmKey = the storage primary, AES-128
 * CFB parameter encryption) is kept open for HMAC-authorised commands and
 * dropped after any TPM error (the TPM may have flushed it); a policy
 * session is started for each unseal and a trial session for each policy
 * digest.  Every ESYS_TR this file creates is flushed or closed on every
 * path (one exit label per function).
 *
 * The sealed-key file (docs/formats.md §6.3) is our little-endian header
 * followed by the TPM's own big-endian structures, marshalled and
 * unmarshalled by tss2-mu, which checks every size against the buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tctildr.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_ptpm.h"

#define SHA256_LEN 32u
#define NAME_LEN   (2u + SHA256_LEN) /* TPM2B_NAME of a sha256 object */

/* Sealed-key file header (little-endian), then PCR values, then the
 * TPM2B_PRIVATE and TPM2B_PUBLIC as the TPM marshals them. */
#define SK_OFF_MAGIC   0
#define SK_OFF_VERSION 4
#define SK_OFF_BANK    6
#define SK_OFF_MASK    8
#define SK_OFF_RSVD    12
#define SK_OFF_PARENT  14
#define SK_HDR_LEN     (SK_OFF_PARENT + NAME_LEN) /* 48 */

/* What a sealed object must look like: policy only, never leaves this
 * TPM or its parent. */
#define SEAL_ATTRS                                                             \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA)

#define NV_ATTRS                                                               \
	(TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD | TPMA_NV_OWNERREAD |            \
	 TPMA_NV_NO_DA)

struct mgr_ptpm {
	TSS2_TCTI_CONTEXT *tcti;	/* owned */
	ESYS_CONTEXT *esys;		/* owned */
	ESYS_TR primary;		/* storage key */
	bool primary_transient;		/* created here: flush at close */
	uint8_t primary_name[NAME_LEN]; /* recorded in sealed files */
	ESYS_TR hsess;			/* salted HMAC session or NONE */
	ESYS_TR ak;			/* deep-quote AK or NONE */
	uint8_t *ak_pub;		/* marshalled TPM2B_PUBLIC */
	size_t ak_pub_len;
};

static const char *const err_text[MGR_PTPM_E_COUNT_] = {
	[MGR_PTPM_OK] = "success",
	[MGR_PTPM_E_INVAL] = "invalid argument",
	[MGR_PTPM_E_NOMEM] = "out of memory",
	[MGR_PTPM_E_TCTI] = "cannot reach the platform TPM",
	[MGR_PTPM_E_TPM] = "the platform TPM refused a command",
	[MGR_PTPM_E_POLICY] = ("platform PCRs do not satisfy the sealing "
			       "policy (TPM_RC_POLICY_FAIL)"),
	[MGR_PTPM_E_AUTH] = "authorisation failed (wrong authValue)",
	[MGR_PTPM_E_FORMAT] = "sealed-key file not acceptable",
	[MGR_PTPM_E_PRIMARY] = "the persistent handle is not a storage key",
	[MGR_PTPM_E_NV_EXISTS] = "NV index already defined",
	[MGR_PTPM_E_NV_MISSING] = "NV index not defined",
	[MGR_PTPM_E_NV_KIND] = "NV index is not a counter of the manager",
	[MGR_PTPM_E_CRYPTO] = "cryptographic library failure",
};

const char *mgr_ptpm_strerror(enum mgr_ptpm_err err)
{
	if ((unsigned)err >= MGR_PTPM_E_COUNT_ || !err_text[err])
		return "unknown error";
	return err_text[err];
}

/* ------------------------------------------------------------ helpers */

static unsigned popcount24(uint32_t m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MGR_PCR_MAX; i++)
		n += (m >> i) & 1u;
	return n;
}

static bool mask_ok(uint32_t mask)
{
	return mask && !(mask >> MGR_PCR_MAX);
}

static void pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = (uint8_t)mask;
	sel->pcrSelections[0].pcrSelect[1] = (uint8_t)(mask >> 8);
	sel->pcrSelections[0].pcrSelect[2] = (uint8_t)(mask >> 16);
}

static bool sha256(const void *a, size_t alen, uint8_t out[SHA256_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(a, alen, out, &n, EVP_sha256(), NULL) == 1 &&
	       n == SHA256_LEN;
}

/* The TPM's response code without the TSS layer, when it is the TPM's
 * (directly or passed on by a resource manager); 0 otherwise. */
static TPM2_RC tpm_rc(TSS2_RC rc)
{
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

	if (layer != TSS2_TPM_RC_LAYER && layer != TSS2_RESMGR_TPM_RC_LAYER)
		return 0;
	return rc & 0xffffu;
}

/* The error code of a format-one response without its handle, session or
 * parameter number; format zero unchanged. */
static TPM2_RC rc_base(TPM2_RC rc)
{
	return (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3fu)) : rc;
}

static enum mgr_ptpm_err tss_fail(const char *what, TSS2_RC rc, char *why,
				  size_t why_len)
{
	TPM2_RC t = rc_base(tpm_rc(rc));
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
	enum mgr_ptpm_err e = MGR_PTPM_E_TPM;

	if (layer == TSS2_TCTI_RC_LAYER)
		e = MGR_PTPM_E_TCTI;
	else if (t == TPM2_RC_POLICY_FAIL)
		e = MGR_PTPM_E_POLICY;
	else if (t == TPM2_RC_AUTH_FAIL || t == TPM2_RC_BAD_AUTH)
		e = MGR_PTPM_E_AUTH;
	else if (t == TPM2_RC_NV_DEFINED)
		e = MGR_PTPM_E_NV_EXISTS;
	vtpm_set_why(why, why_len, "%s: %s (0x%x)", what, Tss2_RC_Decode(rc),
		     (unsigned)rc);
	return e;
}

static void flush(struct mgr_ptpm *p, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		Esys_FlushContext(p->esys, *h);
	*h = ESYS_TR_NONE;
}

static void drop_session(struct mgr_ptpm *p)
{
	flush(p, &p->hsess);
}

/* The kept HMAC session, started on first use, with `attrs` for the next
 * command (DECRYPT: its first parameter travels encrypted; ENCRYPT: the
 * first response parameter does). */
static enum mgr_ptpm_err hmac_session(struct mgr_ptpm *p, TPMA_SESSION attrs,
				      ESYS_TR *out, char *why, size_t why_len)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES,
			    .keyBits = {.aes = 128},
			    .mode = {.aes = TPM2_ALG_CFB}};
	TSS2_RC rc;

	if (p->hsess == ESYS_TR_NONE) {
		rc = Esys_StartAuthSession(p->esys, p->primary, ESYS_TR_NONE,
					   ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, NULL, TPM2_SE_HMAC,
					   &sym, TPM2_ALG_SHA256, &p->hsess);
		if (rc) {
			p->hsess = ESYS_TR_NONE;
			return tss_fail("StartAuthSession (HMAC)", rc, why,
					why_len);
		}
	}
	rc = Esys_TRSess_SetAttributes(
		p->esys, p->hsess, attrs | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc) {
		drop_session(p);
		return tss_fail("TRSess_SetAttributes", rc, why, why_len);
	}
	*out = p->hsess;
	return MGR_PTPM_OK;
}

static enum mgr_ptpm_err set_auth(struct mgr_ptpm *p, ESYS_TR h,
				  const uint8_t *auth, size_t len, char *why,
				  size_t why_len)
{
	TPM2B_AUTH a = {.size = 0};
	TSS2_RC rc;

	if (len > sizeof(a.buffer) || (len && !auth))
		return MGR_PTPM_E_INVAL;
	a.size = (UINT16)len;
	if (len)
		memcpy(a.buffer, auth, len);
	rc = Esys_TR_SetAuth(p->esys, h, &a);
	OPENSSL_cleanse(&a, sizeof(a));
	if (rc)
		return tss_fail("TR_SetAuth", rc, why, why_len);
	return MGR_PTPM_OK;
}

/* ---------------------------------------------------------- open/close */

/* The TCG SRK template (Provisioning Guidance, ECC NIST P-256). */
static void srk_template(TPM2B_PUBLIC *pub)
{
	memset(pub, 0, sizeof(*pub));
	pub->publicArea.type = TPM2_ALG_ECC;
	pub->publicArea.nameAlg = TPM2_ALG_SHA256;
	pub->publicArea.objectAttributes =
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	pub->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
	pub->publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
	pub->publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	pub->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	pub->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	pub->publicArea.unique.ecc.x.size = 32;
	pub->publicArea.unique.ecc.y.size = 32;
}

static enum mgr_ptpm_err load_primary(struct mgr_ptpm *p,
				      const struct mgr_ptpm_config *cfg,
				      char *why, size_t why_len)
{
	TPM2B_SENSITIVE_CREATE sens = {.size = 0};
	TPML_PCR_SELECTION none = {.count = 0};
	TPM2B_DATA outside = {.size = 0};
	TPM2B_PUBLIC tmpl, *pub = NULL;
	TPM2B_NAME *name = NULL;
	enum mgr_ptpm_err ret;
	TSS2_RC rc;

	if (!cfg->srk_handle) {
		srk_template(&tmpl);
		rc = Esys_CreatePrimary(
			p->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
			ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside,
			&none, &p->primary, NULL, NULL, NULL, NULL);
		if (rc)
			return tss_fail("CreatePrimary (storage key, owner "
					"hierarchy)",
					rc, why, why_len);
		p->primary_transient = true;
	} else {
		rc = Esys_TR_FromTPMPublic(p->esys, cfg->srk_handle,
					   ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, &p->primary);
		if (rc) {
			p->primary = ESYS_TR_NONE;
			ret = tss_fail("persistent storage key", rc, why,
				       why_len);
			return ret == MGR_PTPM_E_TPM ? MGR_PTPM_E_PRIMARY : ret;
		}
	}
	rc = Esys_ReadPublic(p->esys, p->primary, ESYS_TR_NONE, ESYS_TR_NONE,
			     ESYS_TR_NONE, &pub, &name, NULL);
	if (rc)
		return tss_fail("ReadPublic (storage key)", rc, why, why_len);
	ret = MGR_PTPM_E_PRIMARY;
	/* A storage key made inside this TPM: an imported key (no fixedTPM)
	 * could have a private part someone knows, who would then read our
	 * salted sessions. */
	{
		TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM |
				   TPMA_OBJECT_FIXEDPARENT |
				   TPMA_OBJECT_SENSITIVEDATAORIGIN |
				   TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
		TPMA_OBJECT a = pub->publicArea.objectAttributes;

		if ((a & need) != need || (a & TPMA_OBJECT_SIGN_ENCRYPT) ||
		    (pub->publicArea.type != TPM2_ALG_ECC &&
		     pub->publicArea.type != TPM2_ALG_RSA) ||
		    name->size != NAME_LEN) {
			vtpm_set_why(
				why, why_len,
				"handle 0x%08x: not a restricted decryption "
				"key generated in this TPM with a SHA-256 name "
				"(attributes 0x%x)",
				cfg->srk_handle, (unsigned)a);
			goto out;
		}
	}
	memcpy(p->primary_name, name->name, NAME_LEN);
	ret = MGR_PTPM_OK;
out:
	Esys_Free(pub);
	Esys_Free(name);
	return ret;
}

/* Flushes what the TPM lists among transient objects and loaded sessions
 * (see mgr_ptpm_config.flush_stale).  ESAPI has no ESYS_TR for a handle
 * it did not create, so this goes through the SAPI context under it; the
 * commands carry no sessions. */
static enum mgr_ptpm_err flush_stale(struct mgr_ptpm *p, char *why,
				     size_t why_len)
{
	static const TPM2_HANDLE first[] = {TPM2_TRANSIENT_FIRST,
					    TPM2_LOADED_SESSION_FIRST};
	TSS2_SYS_CONTEXT *sys = NULL;
	TSS2_RC rc;

	rc = Esys_GetSysContext(p->esys, &sys);
	if (rc || !sys)
		return tss_fail("Esys_GetSysContext", rc, why, why_len);
	for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++) {
		TPMS_CAPABILITY_DATA *cap = NULL;
		TPMI_YES_NO more = TPM2_NO;

		rc = Esys_GetCapability(p->esys, ESYS_TR_NONE, ESYS_TR_NONE,
					ESYS_TR_NONE, TPM2_CAP_HANDLES,
					first[k], TPM2_MAX_CAP_HANDLES, &more,
					&cap);
		if (rc) {
			Esys_Free(cap);
			return tss_fail("GetCapability(handles)", rc, why,
					why_len);
		}
		for (UINT32 i = 0; i < cap->data.handles.count; i++) {
			TPM2_HANDLE h = cap->data.handles.handle[i];

			/* A handle that vanished meanwhile is not an error. */
			(void)Tss2_Sys_FlushContext(sys, h);
		}
		Esys_Free(cap);
	}
	return MGR_PTPM_OK;
}

enum mgr_ptpm_err mgr_ptpm_open(struct mgr_ptpm **out,
				const struct mgr_ptpm_config *cfg, char *why,
				size_t why_len)
{
	struct mgr_ptpm *p;
	enum mgr_ptpm_err ret;
	TSS2_RC rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out)
		return MGR_PTPM_E_INVAL;
	*out = NULL;
	if (!cfg || !cfg->tcti || cfg->owner_auth_len > 64 ||
	    cfg->endorsement_auth_len > 64)
		return MGR_PTPM_E_INVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return MGR_PTPM_E_NOMEM;
	p->primary = p->hsess = p->ak = ESYS_TR_NONE;
	rc = Tss2_TctiLdr_Initialize(cfg->tcti, &p->tcti);
	if (rc) {
		p->tcti = NULL;
		vtpm_set_why(why, why_len, "TCTI \"%s\": %s", cfg->tcti,
			     Tss2_RC_Decode(rc));
		ret = MGR_PTPM_E_TCTI;
		goto fail;
	}
	rc = Esys_Initialize(&p->esys, p->tcti, NULL);
	if (rc) {
		p->esys = NULL;
		vtpm_set_why(why, why_len, "TCTI \"%s\": %s", cfg->tcti,
			     Tss2_RC_Decode(rc));
		ret = MGR_PTPM_E_TCTI;
		goto fail;
	}
	/* Firmware starts a real TPM; a simulator may still wait for its
	 * Startup, which the first command tells (TPM_RC_INITIALIZE). */
	{
		TPM2B_DIGEST *r = NULL;

		rc = Esys_GetRandom(p->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				    ESYS_TR_NONE, 1, &r);
		Esys_Free(r);
		if (rc && tpm_rc(rc) == TPM2_RC_INITIALIZE)
			rc = Esys_Startup(p->esys, TPM2_SU_CLEAR);
		if (rc) {
			ret = tss_fail("first command", rc, why, why_len);
			goto fail;
		}
	}
	if (cfg->flush_stale) {
		ret = flush_stale(p, why, why_len);
		if (ret)
			goto fail;
	}
	ret = set_auth(p, ESYS_TR_RH_OWNER, cfg->owner_auth,
		       cfg->owner_auth_len, why, why_len);
	if (!ret)
		ret = set_auth(p, ESYS_TR_RH_ENDORSEMENT, cfg->endorsement_auth,
			       cfg->endorsement_auth_len, why, why_len);
	if (!ret)
		ret = load_primary(p, cfg, why, why_len);
	if (ret)
		goto fail;
	*out = p;
	return MGR_PTPM_OK;
fail:
	mgr_ptpm_close(p);
	return ret;
}

void mgr_ptpm_close(struct mgr_ptpm *p)
{
	if (!p)
		return;
	if (p->esys) {
		drop_session(p);
		flush(p, &p->ak);
		if (p->primary_transient)
			flush(p, &p->primary);
		else if (p->primary != ESYS_TR_NONE)
			Esys_TR_Close(p->esys, &p->primary);
		Esys_Finalize(&p->esys);
	}
	if (p->tcti)
		Tss2_TctiLdr_Finalize(&p->tcti);
	free(p->ak_pub);
	free(p);
}

/* ---------------------------------------------------------------- PCRs */

enum mgr_ptpm_err mgr_ptpm_pcr_read(struct mgr_ptpm *p, uint32_t mask,
				    uint8_t *out, size_t out_len, char *why,
				    size_t why_len)
{
	uint32_t left = mask;

	vtpm_set_why(why, why_len, "%s", "");
	if (!p || !mask_ok(mask) || !out ||
	    out_len < (size_t)popcount24(mask) * SHA256_LEN)
		return MGR_PTPM_E_INVAL;
	/* A PCR_Read returns at most 8 digests: read until all are in. */
	while (left) {
		TPML_PCR_SELECTION sel, *got_sel = NULL;
		TPML_DIGEST *vals = NULL;
		uint32_t got = 0;
		unsigned v = 0;
		TSS2_RC rc;

		pcr_selection(left, &sel);
		rc = Esys_PCR_Read(p->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &sel, NULL, &got_sel, &vals);
		if (rc)
			return tss_fail("PCR_Read", rc, why, why_len);
		if (got_sel->count == 1 &&
		    got_sel->pcrSelections[0].hash == TPM2_ALG_SHA256)
			for (unsigned b = 0; b < 3; b++)
				got |= (uint32_t)got_sel->pcrSelections[0]
					       .pcrSelect[b]
				       << (8 * b);
		got &= left;
		if (!got || popcount24(got) != vals->count) {
			Esys_Free(got_sel);
			Esys_Free(vals);
			vtpm_set_why(why, why_len,
				     "PCR_Read: the SHA-256 bank lacks PCRs "
				     "0x%06x",
				     (unsigned)left);
			return MGR_PTPM_E_TPM;
		}
		/* Values come in ascending PCR order; place each at its
		 * index among all of mask. */
		for (unsigned i = 0; i < MGR_PCR_MAX; i++) {
			if (!(got & (1u << i)))
				continue;
			if (vals->digests[v].size != SHA256_LEN) {
				Esys_Free(got_sel);
				Esys_Free(vals);
				vtpm_set_why(why, why_len,
					     "PCR_Read: bad digest");
				return MGR_PTPM_E_TPM;
			}
			memcpy(out + popcount24(mask & ((1u << i) - 1)) *
					       SHA256_LEN,
			       vals->digests[v].buffer, SHA256_LEN);
			v++;
		}
		left &= ~got;
		Esys_Free(got_sel);
		Esys_Free(vals);
	}
	return MGR_PTPM_OK;
}

/* PolicyPCR's digest for these PCR values, computed by the TPM in a trial
 * session (no policy arithmetic of our own). */
static enum mgr_ptpm_err policy_digest(struct mgr_ptpm *p, uint32_t mask,
				       const uint8_t *values, TPM2B_DIGEST *out,
				       char *why, size_t why_len)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
	TPM2B_DIGEST pcr_digest = {.size = SHA256_LEN}, *d = NULL;
	enum mgr_ptpm_err ret = MGR_PTPM_OK;
	ESYS_TR s = ESYS_TR_NONE;
	TPML_PCR_SELECTION sel;
	TSS2_RC rc;

	if (!sha256(values, popcount24(mask) * SHA256_LEN, pcr_digest.buffer))
		return MGR_PTPM_E_CRYPTO;
	pcr_selection(mask, &sel);
	rc = Esys_StartAuthSession(
		p->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
		ESYS_TR_NONE, NULL, TPM2_SE_TRIAL, &sym, TPM2_ALG_SHA256, &s);
	if (rc) {
		s = ESYS_TR_NONE;
		return tss_fail("StartAuthSession (trial)", rc, why, why_len);
	}
	rc = Esys_PolicyPCR(p->esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, &pcr_digest, &sel);
	if (rc) {
		ret = tss_fail("PolicyPCR (trial)", rc, why, why_len);
		goto out;
	}
	rc = Esys_PolicyGetDigest(p->esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
				  ESYS_TR_NONE, &d);
	if (rc) {
		ret = tss_fail("PolicyGetDigest", rc, why, why_len);
		goto out;
	}
	*out = *d;
out:
	Esys_Free(d);
	flush(p, &s);
	return ret;
}

/* ------------------------------------------------------ sealed root key */

struct sealed {
	uint32_t mask;
	const uint8_t *parent; /* NAME_LEN bytes */
	const uint8_t *values; /* popcount(mask) * 32 bytes */
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC pub;
};

static enum mgr_ptpm_err sealed_parse(const uint8_t *b, size_t len,
				      struct sealed *s, char *why,
				      size_t why_len)
{
	size_t off, vlen;
	TSS2_RC rc;

	memset(s, 0, sizeof(*s));
	if (!b || len < SK_HDR_LEN) {
		vtpm_set_why(why, why_len, "sealed key: truncated header");
		return MGR_PTPM_E_FORMAT;
	}
	if (len > MGR_SEALED_MAX) {
		vtpm_set_why(why, why_len, "sealed key: %zu bytes, too long",
			     len);
		return MGR_PTPM_E_FORMAT;
	}
	if (vtpm_get_le32(b + SK_OFF_MAGIC) != MGR_SEALED_MAGIC) {
		vtpm_set_why(why, why_len, "sealed key: bad magic");
		return MGR_PTPM_E_FORMAT;
	}
	if (vtpm_get_le16(b + SK_OFF_VERSION) != MGR_SEALED_VERSION) {
		vtpm_set_why(why, why_len,
			     "sealed key: version %u not supported",
			     vtpm_get_le16(b + SK_OFF_VERSION));
		return MGR_PTPM_E_FORMAT;
	}
	s->mask = vtpm_get_le32(b + SK_OFF_MASK);
	if (vtpm_get_le16(b + SK_OFF_BANK) != TPM2_ALG_SHA256 ||
	    !mask_ok(s->mask) || vtpm_get_le16(b + SK_OFF_RSVD) != 0) {
		vtpm_set_why(why, why_len,
			     "sealed key: bad PCR bank, selection or reserved "
			     "field");
		return MGR_PTPM_E_FORMAT;
	}
	s->parent = b + SK_OFF_PARENT;
	vlen = (size_t)popcount24(s->mask) * SHA256_LEN;
	if (len - SK_HDR_LEN < vlen) {
		vtpm_set_why(why, why_len, "sealed key: truncated PCR values");
		return MGR_PTPM_E_FORMAT;
	}
	s->values = b + SK_HDR_LEN;
	off = SK_HDR_LEN + vlen;
	rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(b, len, &off, &s->priv);
	if (!rc)
		rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(b, len, &off, &s->pub);
	if (rc) {
		vtpm_set_why(why, why_len, "sealed key: TPM structures: %s",
			     Tss2_RC_Decode(rc));
		return MGR_PTPM_E_FORMAT;
	}
	if (off != len) {
		vtpm_set_why(why, why_len,
			     "sealed key: %zu bytes after the end", len - off);
		return MGR_PTPM_E_FORMAT;
	}
	if (s->pub.publicArea.type != TPM2_ALG_KEYEDHASH ||
	    s->pub.publicArea.nameAlg != TPM2_ALG_SHA256 ||
	    s->pub.publicArea.objectAttributes != SEAL_ATTRS ||
	    s->pub.publicArea.authPolicy.size != SHA256_LEN ||
	    s->pub.publicArea.parameters.keyedHashDetail.scheme.scheme !=
		    TPM2_ALG_NULL) {
		vtpm_set_why(why, why_len,
			     "sealed key: not a policy-only sealed object");
		return MGR_PTPM_E_FORMAT;
	}
	return MGR_PTPM_OK;
}

enum mgr_ptpm_err mgr_ptpm_sealed_pcrs(const uint8_t *blob, size_t blob_len,
				       uint32_t *mask)
{
	struct sealed s;
	enum mgr_ptpm_err ret = sealed_parse(blob, blob_len, &s, NULL, 0);

	if (mask)
		*mask = ret ? 0 : s.mask;
	return ret;
}

enum mgr_ptpm_err mgr_ptpm_seal(struct mgr_ptpm *p, uint32_t mask,
				const uint8_t secret[MGR_KEY_LEN],
				uint8_t **blob, size_t *blob_len, char *why,
				size_t why_len)
{
	uint8_t values[MGR_PCR_MAX * SHA256_LEN], *buf = NULL;
	TPM2B_SENSITIVE_CREATE sens = {.size = 0};
	TPML_PCR_SELECTION none = {.count = 0};
	TPM2B_DATA outside = {.size = 0};
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC tmpl, *pub = NULL;
	size_t vlen, off;
	enum mgr_ptpm_err ret;
	ESYS_TR hs;
	TSS2_RC rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!blob || !blob_len)
		return MGR_PTPM_E_INVAL;
	*blob = NULL;
	*blob_len = 0;
	if (!p || !mask_ok(mask) || !secret)
		return MGR_PTPM_E_INVAL;
	vlen = (size_t)popcount24(mask) * SHA256_LEN;
	ret = mgr_ptpm_pcr_read(p, mask, values, sizeof(values), why, why_len);
	if (ret)
		return ret;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = SEAL_ATTRS;
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme =
		TPM2_ALG_NULL;
	ret = policy_digest(p, mask, values, &tmpl.publicArea.authPolicy, why,
			    why_len);
	if (ret)
		return ret;
	sens.sensitive.data.size = MGR_KEY_LEN;
	memcpy(sens.sensitive.data.buffer, secret, MGR_KEY_LEN);
	ret = hmac_session(p, TPMA_SESSION_DECRYPT, &hs, why, why_len);
	if (ret)
		goto out;
	rc = Esys_Create(p->esys, p->primary, hs, ESYS_TR_NONE, ESYS_TR_NONE,
			 &sens, &tmpl, &outside, &none, &priv, &pub, NULL, NULL,
			 NULL);
	if (rc) {
		drop_session(p);
		ret = tss_fail("Create (sealed root key)", rc, why, why_len);
		goto out;
	}
	ret = MGR_PTPM_E_NOMEM;
	buf = malloc(MGR_SEALED_MAX);
	if (!buf)
		goto out;
	vtpm_put_le32(buf + SK_OFF_MAGIC, MGR_SEALED_MAGIC);
	vtpm_put_le16(buf + SK_OFF_VERSION, MGR_SEALED_VERSION);
	vtpm_put_le16(buf + SK_OFF_BANK, TPM2_ALG_SHA256);
	vtpm_put_le32(buf + SK_OFF_MASK, mask);
	vtpm_put_le16(buf + SK_OFF_RSVD, 0);
	memcpy(buf + SK_OFF_PARENT, p->primary_name, NAME_LEN);
	memcpy(buf + SK_HDR_LEN, values, vlen);
	off = SK_HDR_LEN + vlen;
	rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, MGR_SEALED_MAX, &off);
	if (!rc)
		rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, MGR_SEALED_MAX,
						  &off);
	if (rc) {
		ret = tss_fail("marshalling the sealed key", rc, why, why_len);
		goto out;
	}
	*blob = buf;
	*blob_len = off;
	buf = NULL;
	ret = MGR_PTPM_OK;
out:
	OPENSSL_cleanse(&sens, sizeof(sens));
	free(buf);
	Esys_Free(priv);
	Esys_Free(pub);
	return ret;
}

/* After TPM_RC_POLICY_FAIL: which PCRs moved since sealing. */
static void explain_policy(struct mgr_ptpm *p, const struct sealed *s,
			   char *why, size_t why_len)
{
	uint8_t now[MGR_PCR_MAX * SHA256_LEN];
	char list[MGR_PCR_MAX * 4] = "";
	size_t o = 0;
	unsigned k = 0;

	if (mgr_ptpm_pcr_read(p, s->mask, now, sizeof(now), NULL, 0)) {
		vtpm_set_why(
			why, why_len,
			"Unseal: TPM_RC_POLICY_FAIL: the platform PCRs are "
			"not those the root key was sealed to");
		return;
	}
	for (unsigned i = 0; i < MGR_PCR_MAX; i++) {
		if (!(s->mask & (1u << i)))
			continue;
		if (memcmp(now + k * SHA256_LEN, s->values + k * SHA256_LEN,
			   SHA256_LEN) != 0 &&
		    o < sizeof(list) - 4)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s%u", o ? "," : "", i);
		k++;
	}
	vtpm_set_why(
		why, why_len,
		"Unseal: TPM_RC_POLICY_FAIL: the platform is not in the state "
		"the root key was sealed to; %s%s",
		o ? "sha256 PCRs that changed since sealing: "
		  : "PCR values equal those recorded at sealing (the file's "
		    "record is not trusted)",
		list);
}

enum mgr_ptpm_err mgr_ptpm_unseal(struct mgr_ptpm *p, const uint8_t *blob,
				  size_t blob_len, uint8_t secret[MGR_KEY_LEN],
				  char *why, size_t why_len)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES,
			    .keyBits = {.aes = 128},
			    .mode = {.aes = TPM2_ALG_CFB}};
	ESYS_TR obj = ESYS_TR_NONE, ps = ESYS_TR_NONE;
	TPM2B_DIGEST empty = {.size = 0}, expect;
	TPM2B_SENSITIVE_DATA *data = NULL;
	TPML_PCR_SELECTION sel;
	enum mgr_ptpm_err ret;
	struct sealed s;
	TSS2_RC rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!p || !secret)
		return MGR_PTPM_E_INVAL;
	ret = sealed_parse(blob, blob_len, &s, why, why_len);
	if (ret)
		return ret;
	if (memcmp(s.parent, p->primary_name, NAME_LEN) != 0) {
		vtpm_set_why(
			why, why_len,
			"sealed key: sealed under another storage key (was the "
			"TPM cleared, or another SRK configured?)");
		return MGR_PTPM_E_FORMAT;
	}
	/* The recorded PCR values must be the ones the policy was made of,
	 * or the explanation of a failure would lie. */
	ret = policy_digest(p, s.mask, s.values, &expect, why, why_len);
	if (ret)
		return ret;
	if (expect.size != s.pub.publicArea.authPolicy.size ||
	    memcmp(expect.buffer, s.pub.publicArea.authPolicy.buffer,
		   expect.size) != 0) {
		vtpm_set_why(
			why, why_len,
			"sealed key: its policy does not match its PCR record");
		return MGR_PTPM_E_FORMAT;
	}
	rc = Esys_Load(p->esys, p->primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		       ESYS_TR_NONE, &s.priv, &s.pub, &obj);
	if (rc) {
		obj = ESYS_TR_NONE;
		ret = tss_fail("Load (sealed root key)", rc, why, why_len);
		if (ret == MGR_PTPM_E_TPM)
			ret = MGR_PTPM_E_FORMAT;
		goto out;
	}
	rc = Esys_StartAuthSession(
		p->esys, p->primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
		ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &ps);
	if (rc) {
		ps = ESYS_TR_NONE;
		ret = tss_fail("StartAuthSession (policy)", rc, why, why_len);
		goto out;
	}
	pcr_selection(s.mask, &sel);
	/* Empty digest: the TPM takes the PCRs as they are now; Unseal
	 * then fails with TPM_RC_POLICY_FAIL if they are not the sealed
	 * ones. */
	rc = Esys_PolicyPCR(p->esys, ps, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, &empty, &sel);
	if (rc) {
		ret = tss_fail("PolicyPCR", rc, why, why_len);
		goto out;
	}
	rc = Esys_TRSess_SetAttributes(
		p->esys, ps,
		TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc) {
		ret = tss_fail("TRSess_SetAttributes", rc, why, why_len);
		goto out;
	}
	rc = Esys_Unseal(p->esys, obj, ps, ESYS_TR_NONE, ESYS_TR_NONE, &data);
	if (rc) {
		ret = tss_fail("Unseal", rc, why, why_len);
		if (ret == MGR_PTPM_E_POLICY)
			explain_policy(p, &s, why, why_len);
		goto out;
	}
	if (data->size != MGR_KEY_LEN) {
		vtpm_set_why(why, why_len, "Unseal: %u bytes, not a root key",
			     (unsigned)data->size);
		ret = MGR_PTPM_E_FORMAT;
		goto out;
	}
	memcpy(secret, data->buffer, MGR_KEY_LEN);
	ret = MGR_PTPM_OK;
out:
	if (data) {
		OPENSSL_cleanse(data, sizeof(*data));
		Esys_Free(data);
	}
	flush(p, &ps);
	flush(p, &obj);
	return ret;
}

/* ---------------------------------------------------------- NV counter */

/* An ESYS_TR for an existing index whose public area is a counter with
 * exactly our attributes (give `auth` to it). */
static enum mgr_ptpm_err nv_open(struct mgr_ptpm *p, uint32_t index,
				 const uint8_t *auth, size_t auth_len,
				 ESYS_TR *out, char *why, size_t why_len)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	enum mgr_ptpm_err ret;
	ESYS_TR h;
	TSS2_RC rc;

	*out = ESYS_TR_NONE;
	rc = Esys_TR_FromTPMPublic(p->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &h);
	if (rc) {
		ret = tss_fail("NV index", rc, why, why_len);
		if (rc_base(tpm_rc(rc)) == TPM2_RC_HANDLE) {
			vtpm_set_why(why, why_len,
				     "NV index 0x%08x is not defined", index);
			ret = MGR_PTPM_E_NV_MISSING;
		}
		return ret;
	}
	rc = Esys_NV_ReadPublic(p->esys, h, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, &pub, NULL);
	if (rc) {
		ret = tss_fail("NV_ReadPublic", rc, why, why_len);
		goto fail;
	}
	if ((pub->nvPublic.attributes & ~TPMA_NV_WRITTEN) !=
		    (NV_ATTRS | (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT)) ||
	    pub->nvPublic.dataSize != 8 ||
	    pub->nvPublic.nameAlg != TPM2_ALG_SHA256) {
		vtpm_set_why(
			why, why_len,
			"NV index 0x%08x: attributes 0x%x, not the manager's "
			"counter",
			index, (unsigned)pub->nvPublic.attributes);
		ret = MGR_PTPM_E_NV_KIND;
		goto fail;
	}
	Esys_Free(pub);
	ret = set_auth(p, h, auth, auth_len, why, why_len);
	if (ret) {
		Esys_TR_Close(p->esys, &h);
		return ret;
	}
	*out = h;
	return MGR_PTPM_OK;
fail:
	Esys_Free(pub);
	Esys_TR_Close(p->esys, &h);
	return ret;
}

static enum mgr_ptpm_err nv_read(struct mgr_ptpm *p, ESYS_TR h, uint64_t *value,
				 char *why, size_t why_len)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	enum mgr_ptpm_err ret;
	ESYS_TR hs;
	TSS2_RC rc;

	ret = hmac_session(p, 0, &hs, why, why_len);
	if (ret)
		return ret;
	rc = Esys_NV_Read(p->esys, h, h, hs, ESYS_TR_NONE, ESYS_TR_NONE, 8, 0,
			  &data);
	if (rc) {
		drop_session(p);
		return tss_fail("NV_Read", rc, why, why_len);
	}
	if (data->size != 8) {
		vtpm_set_why(why, why_len, "NV_Read: %u bytes", data->size);
		Esys_Free(data);
		return MGR_PTPM_E_NV_KIND;
	}
	*value = 0;
	for (int i = 0; i < 8; i++) /* big-endian, as the TPM keeps it */
		*value = *value << 8 | data->buffer[i];
	Esys_Free(data);
	return MGR_PTPM_OK;
}

static enum mgr_ptpm_err nv_increment(struct mgr_ptpm *p, ESYS_TR h,
				      uint64_t *value, char *why,
				      size_t why_len)
{
	enum mgr_ptpm_err ret;
	ESYS_TR hs;
	TSS2_RC rc;

	ret = hmac_session(p, 0, &hs, why, why_len);
	if (ret)
		return ret;
	rc = Esys_NV_Increment(p->esys, h, h, hs, ESYS_TR_NONE, ESYS_TR_NONE);
	if (rc) {
		drop_session(p);
		return tss_fail("NV_Increment", rc, why, why_len);
	}
	return nv_read(p, h, value, why, why_len);
}

enum mgr_ptpm_err mgr_ptpm_counter_define(struct mgr_ptpm *p, uint32_t index,
					  const uint8_t *auth, size_t auth_len,
					  char *why, size_t why_len)
{
	TPM2B_NV_PUBLIC pub = {.size = 0};
	TPM2B_AUTH a = {.size = 0};
	enum mgr_ptpm_err ret;
	ESYS_TR hs, h = ESYS_TR_NONE;
	uint64_t v;
	TSS2_RC rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!p || (auth_len && !auth) || auth_len > MGR_KEY_LEN ||
	    (index >> 24) != TPM2_HT_NV_INDEX)
		return MGR_PTPM_E_INVAL;
	a.size = (UINT16)auth_len;
	if (auth_len)
		memcpy(a.buffer, auth, auth_len);
	pub.nvPublic.nvIndex = index;
	pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
	pub.nvPublic.attributes =
		NV_ATTRS | (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT);
	pub.nvPublic.dataSize = 8;
	/* DECRYPT: the new authValue travels encrypted. */
	ret = hmac_session(p, TPMA_SESSION_DECRYPT, &hs, why, why_len);
	if (ret)
		goto out;
	rc = Esys_NV_DefineSpace(p->esys, ESYS_TR_RH_OWNER, hs, ESYS_TR_NONE,
				 ESYS_TR_NONE, &a, &pub, &h);
	if (rc) {
		h = ESYS_TR_NONE;
		drop_session(p);
		ret = tss_fail("NV_DefineSpace", rc, why, why_len);
		if (ret == MGR_PTPM_E_NV_EXISTS)
			vtpm_set_why(why, why_len,
				     "NV index 0x%08x already defined", index);
		goto out;
	}
	ret = set_auth(p, h, auth, auth_len, why, why_len);
	if (!ret)
		ret = nv_increment(p, h, &v, why, why_len);
out:
	OPENSSL_cleanse(&a, sizeof(a));
	if (h != ESYS_TR_NONE)
		Esys_TR_Close(p->esys, &h);
	return ret;
}

enum mgr_ptpm_err mgr_ptpm_counter_undefine(struct mgr_ptpm *p, uint32_t index,
					    char *why, size_t why_len)
{
	enum mgr_ptpm_err ret;
	ESYS_TR h, hs;
	TSS2_RC rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (!p)
		return MGR_PTPM_E_INVAL;
	rc = Esys_TR_FromTPMPublic(p->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &h);
	if (rc) {
		if (rc_base(tpm_rc(rc)) == TPM2_RC_HANDLE) {
			vtpm_set_why(why, why_len,
				     "NV index 0x%08x is not defined", index);
			return MGR_PTPM_E_NV_MISSING;
		}
		return tss_fail("NV index", rc, why, why_len);
	}
	ret = hmac_session(p, 0, &hs, why, why_len);
	if (ret) {
		Esys_TR_Close(p->esys, &h);
		return ret;
	}
	rc = Esys_NV_UndefineSpace(p->esys, ESYS_TR_RH_OWNER, h, hs,
				   ESYS_TR_NONE, ESYS_TR_NONE);
	if (rc) {
		drop_session(p);
		Esys_TR_Close(p->esys, &h);
		return tss_fail("NV_UndefineSpace", rc, why, why_len);
	}
	return MGR_PTPM_OK; /* ESAPI released h */
}

enum mgr_ptpm_err mgr_ptpm_counter_read(struct mgr_ptpm *p, uint32_t index,
					const uint8_t *auth, size_t auth_len,
					uint64_t *value, char *why,
					size_t why_len)
{
	enum mgr_ptpm_err ret;
	ESYS_TR h;

	vtpm_set_why(why, why_len, "%s", "");
	if (!p || !value || auth_len > MGR_KEY_LEN)
		return MGR_PTPM_E_INVAL;
	ret = nv_open(p, index, auth, auth_len, &h, why, why_len);
	if (ret)
		return ret;
	ret = nv_read(p, h, value, why, why_len);
	Esys_TR_Close(p->esys, &h);
	return ret;
}

enum mgr_ptpm_err mgr_ptpm_counter_increment(struct mgr_ptpm *p, uint32_t index,
					     const uint8_t *auth,
					     size_t auth_len, uint64_t *value,
					     char *why, size_t why_len)
{
	enum mgr_ptpm_err ret;
	ESYS_TR h;

	vtpm_set_why(why, why_len, "%s", "");
	if (!p || !value || auth_len > MGR_KEY_LEN)
		return MGR_PTPM_E_INVAL;
	ret = nv_open(p, index, auth, auth_len, &h, why, why_len);
	if (ret)
		return ret;
	ret = nv_increment(p, h, value, why, why_len);
	Esys_TR_Close(p->esys, &h);
	return ret;
}

static int errno_of(enum mgr_ptpm_err e)
{
	switch (e) {
	case MGR_PTPM_OK:
		return 0;
	case MGR_PTPM_E_AUTH:
		return -EACCES;
	case MGR_PTPM_E_NV_MISSING:
		return -ENOENT;
	case MGR_PTPM_E_NOMEM:
		return -ENOMEM;
	case MGR_PTPM_E_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int ctr_read(void *ctx, uint64_t *value, char *why, size_t why_len)
{
	struct mgr_ptpm_counter *c =
		(struct mgr_ptpm_counter *)((char *)ctx -
					    offsetof(struct mgr_ptpm_counter,
						     priv));

	return errno_of(mgr_ptpm_counter_read(c->priv.tpm, c->priv.index,
					      c->priv.auth, c->priv.auth_len,
					      value, why, why_len));
}

static int ctr_increment(void *ctx, uint64_t *value, char *why, size_t why_len)
{
	struct mgr_ptpm_counter *c =
		(struct mgr_ptpm_counter *)((char *)ctx -
					    offsetof(struct mgr_ptpm_counter,
						     priv));

	return errno_of(mgr_ptpm_counter_increment(
		c->priv.tpm, c->priv.index, c->priv.auth, c->priv.auth_len,
		value, why, why_len));
}

static const struct mgr_counter_ops ptpm_counter_ops = {
	.read = ctr_read,
	.increment = ctr_increment,
};

enum mgr_ptpm_err mgr_ptpm_counter(struct mgr_ptpm *tpm, uint32_t index,
				   const uint8_t *auth, size_t auth_len,
				   struct mgr_ptpm_counter *out)
{
	if (!tpm || !out || auth_len > MGR_KEY_LEN || (auth_len && !auth))
		return MGR_PTPM_E_INVAL;
	memset(out, 0, sizeof(*out));
	out->priv.tpm = tpm;
	out->priv.index = index;
	if (auth_len)
		memcpy(out->priv.auth, auth, auth_len);
	out->priv.auth_len = auth_len;
	out->counter.ops = &ptpm_counter_ops;
	out->counter.ctx = &out->priv;
	out->counter.index = index;
	return MGR_PTPM_OK;
}

void mgr_ptpm_counter_wipe(struct mgr_ptpm_counter *c)
{
	if (c)
		OPENSSL_cleanse(&c->priv.auth, sizeof(c->priv.auth));
}

/* ---------------------------------------------------------- deep quote */

enum mgr_ptpm_err mgr_deep_quote_data(const uint8_t *ek_pub, size_t ek_len,
				      const struct mgr_uuid *uuid,
				      const uint8_t *nonce, size_t nonce_len,
				      uint8_t out[32])
{
	enum mgr_ptpm_err ret = MGR_PTPM_E_CRYPTO;
	TPM2B_PUBLIC pub = {.size = 0}; /* tss2-mu refuses a non-zero size */
	EVP_MD_CTX *md;
	size_t off = 0;
	unsigned n = 0;

	if (!ek_pub || !uuid || !out || (nonce_len && !nonce) ||
	    nonce_len > MGR_DEEPQ_NONCE_MAX)
		return MGR_PTPM_E_INVAL;
	/* Exactly one TPM2B_PUBLIC: then its size prefix delimits it. */
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(ek_pub, ek_len, &off, &pub) ||
	    off != ek_len)
		return MGR_PTPM_E_INVAL;
	md = EVP_MD_CTX_new();
	if (!md)
		return MGR_PTPM_E_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, ek_pub, ek_len) == 1 &&
	    EVP_DigestUpdate(md, uuid->b, MGR_UUID_LEN) == 1 &&
	    (!nonce_len || EVP_DigestUpdate(md, nonce, nonce_len) == 1) &&
	    EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32)
		ret = MGR_PTPM_OK;
	EVP_MD_CTX_free(md);
	return ret;
}

static enum mgr_ptpm_err load_ak(struct mgr_ptpm *p, char *why, size_t why_len)
{
	TPM2B_SENSITIVE_CREATE sens = {.size = 0};
	TPML_PCR_SELECTION none = {.count = 0};
	TPM2B_DATA outside = {.size = 0};
	TPM2B_PUBLIC tmpl, *pub = NULL;
	enum mgr_ptpm_err ret;
	size_t off = 0;
	TSS2_RC rc;

	if (p->ak != ESYS_TR_NONE)
		return MGR_PTPM_OK;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.publicArea.type = TPM2_ALG_ECC;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes =
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
		TPMA_OBJECT_SIGN_ENCRYPT;
	tmpl.publicArea.parameters.eccDetail.symmetric.algorithm =
		TPM2_ALG_NULL;
	tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	tmpl.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
		TPM2_ALG_SHA256;
	tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	rc = Esys_CreatePrimary(p->esys, ESYS_TR_RH_ENDORSEMENT,
				ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&sens, &tmpl, &outside, &none, &p->ak, &pub,
				NULL, NULL, NULL);
	if (rc) {
		p->ak = ESYS_TR_NONE;
		return tss_fail("CreatePrimary (AK, endorsement hierarchy)", rc,
				why, why_len);
	}
	ret = MGR_PTPM_E_NOMEM;
	p->ak_pub = malloc(sizeof(TPM2B_PUBLIC));
	if (!p->ak_pub)
		goto fail;
	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, p->ak_pub, sizeof(TPM2B_PUBLIC),
					  &off);
	if (rc) {
		ret = tss_fail("marshalling the AK", rc, why, why_len);
		goto fail;
	}
	p->ak_pub_len = off;
	Esys_Free(pub);
	return MGR_PTPM_OK;
fail:
	Esys_Free(pub);
	free(p->ak_pub);
	p->ak_pub = NULL;
	flush(p, &p->ak);
	return ret;
}

void mgr_quote_free(struct mgr_quote *q)
{
	if (!q)
		return;
	free(q->attest);
	free(q->sig);
	free(q->ak_pub);
	memset(q, 0, sizeof(*q));
}

enum mgr_ptpm_err mgr_ptpm_deep_quote(struct mgr_ptpm *p, uint32_t mask,
				      const uint8_t *ek_pub, size_t ek_len,
				      const struct mgr_uuid *uuid,
				      const uint8_t *nonce, size_t nonce_len,
				      struct mgr_quote *out, char *why,
				      size_t why_len)
{
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
	TPM2B_DATA qdata = {.size = 32};
	TPMT_SIGNATURE *sig = NULL;
	TPM2B_ATTEST *att = NULL;
	TPML_PCR_SELECTION sel;
	enum mgr_ptpm_err ret;
	size_t off = 0;
	TSS2_RC rc;

	vtpm_set_why(why, why_len, "%s", "");
	if (out)
		memset(out, 0, sizeof(*out));
	if (!p || !out || !mask_ok(mask))
		return MGR_PTPM_E_INVAL;
	ret = mgr_deep_quote_data(ek_pub, ek_len, uuid, nonce, nonce_len,
				  qdata.buffer);
	if (ret) {
		vtpm_set_why(
			why, why_len,
			"deep quote: the vTPM EK public area, uuid or nonce "
			"is not acceptable");
		return ret;
	}
	ret = load_ak(p, why, why_len);
	if (ret)
		return ret;
	pcr_selection(mask, &sel);
	rc = Esys_Quote(p->esys, p->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			ESYS_TR_NONE, &qdata, &scheme, &sel, &att, &sig);
	if (rc) {
		ret = tss_fail("Quote", rc, why, why_len);
		goto out;
	}
	ret = MGR_PTPM_E_NOMEM;
	out->attest = malloc(att->size ? att->size : 1);
	out->sig = malloc(sizeof(TPMT_SIGNATURE));
	out->ak_pub = malloc(p->ak_pub_len);
	if (!out->attest || !out->sig || !out->ak_pub)
		goto out;
	memcpy(out->attest, att->attestationData, att->size);
	out->attest_len = att->size;
	rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, out->sig,
					    sizeof(TPMT_SIGNATURE), &off);
	if (rc) {
		ret = tss_fail("marshalling the signature", rc, why, why_len);
		goto out;
	}
	out->sig_len = off;
	memcpy(out->ak_pub, p->ak_pub, p->ak_pub_len);
	out->ak_pub_len = p->ak_pub_len;
	ret = MGR_PTPM_OK;
out:
	if (ret)
		mgr_quote_free(out);
	Esys_Free(att);
	Esys_Free(sig);
	return ret;
}
