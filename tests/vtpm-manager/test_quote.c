/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_quote - quote verification and golden values (att_quote.c) on a
 * real libtpms TPM:
 *   - a boot is measured (mb_log_boot, extended with mb_pcr_extend_cmd);
 *     an ECC P-256/ECDSA and an RSA-2048/RSASSA restricted signing key are
 *     made with TPM2_CreatePrimary (marshalled by hand); TPM2_Quote over a
 *     fresh nonce verifies against the replayed log and against PCRs read
 *     back with TPM2_PCR_Read;
 *   - each tampering is refused with its own reason (table): a flipped
 *     byte in attest or signature, trailing or missing bytes, a wrong or
 *     empty nonce, a wrong or missing PCR value, a key of the wrong type,
 *     an unrestricted key; and which reason wins when several apply;
 *   - forged attests signed by a software key that claims to be
 *     restricted: bad magic and non-quote type are caught after the
 *     signature;
 *   - tpm2_checkquote agrees on the same files in three shapes (TSS
 *     TPM2B_PUBLIC + TPMT_SIGNATURE + serialized PCRs; PEM + plain
 *     signature + values with -l; two banks), and refuses a wrong nonce
 *     and a flipped PCR file;
 *   - golden values: parser table (FILE:LINE messages), writer round
 *     trip, and the comparison naming what changed: a changed kernel or
 *     command line fails, end to end through a real quote.
 *
 * TEST_QUOTE_DEBUG=1 prints each tpm2_checkquote/openssl command with its
 * output and keeps the temporary directory (ak.pub, quote.msg, ...).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "tests/harness.h"
#include "tests/vtpm/tpmcmd.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-manager/att_quote.h"
#include "vtpm-manager/mb_log.h"

static char tmpdir[64];

/* ------------------------------------------------------------ helpers */

static uint8_t rsp[VTPM_RING_MAX_PAYLOAD];
static size_t rsp_len;

static uint32_t run_raw(const uint8_t *b, size_t n)
{
	return tpmcmd_process(b, n, 0, rsp, sizeof(rsp), &rsp_len);
}

static uint32_t run(const struct tpmcmd *c)
{
	return tpmcmd_run(c, 0, rsp, sizeof(rsp), &rsp_len);
}

static void tohex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

static bool write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(p, 1, n, f) == n;

	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static char *path(const char *name)
{
	static char p[4][160];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

/* --------------------------------------------------- TPM objects */

#define ATTR_AK	   0x00050072u /* fixedTPM fixedParent sensitiveDataOrigin
				  userWithAuth restricted sign */
#define ATTR_PLAIN 0x00040072u /* the same without restricted */

struct key {
	uint32_t handle;
	uint8_t pub[1024]; /* TPM2B_PUBLIC as the TPM returned it */
	size_t pub_len;
};

/* TPM2_CreatePrimary under the owner hierarchy, by hand. */
static bool create_primary(bool ecc, uint32_t attrs, struct key *k)
{
	struct tpmcmd c;
	size_t at;
	uint32_t rc;

	tpmcmd_begin(&c, 0x8002, 0x131);
	tpmcmd_put32(&c, 0x40000001); /* TPM_RH_OWNER */
	tpmcmd_pw_session(&c);
	tpmcmd_put16(&c, 4); /* inSensitive: empty userAuth, empty data */
	tpmcmd_put16(&c, 0);
	tpmcmd_put16(&c, 0);
	at = c.n;
	tpmcmd_put16(&c, 0); /* inPublic size, below */
	tpmcmd_put16(&c, ecc ? 0x0023 : 0x0001);
	tpmcmd_put16(&c, 0x000b);
	tpmcmd_put32(&c, attrs);
	tpmcmd_put16(&c, 0);	  /* authPolicy */
	tpmcmd_put16(&c, 0x0010); /* symmetric NULL */
	if (ecc) {
		tpmcmd_put16(&c, 0x0018); /* ECDSA */
		tpmcmd_put16(&c, 0x000b); /*   sha256 */
		tpmcmd_put16(&c, 0x0003); /* NIST P-256 */
		tpmcmd_put16(&c, 0x0010); /* kdf NULL */
		tpmcmd_put16(&c, 0);	  /* unique x */
		tpmcmd_put16(&c, 0);	  /* unique y */
	} else {
		tpmcmd_put16(&c, 0x0014); /* RSASSA */
		tpmcmd_put16(&c, 0x000b); /*   sha256 */
		tpmcmd_put16(&c, 2048);
		tpmcmd_put32(&c, 0); /* exponent: default */
		tpmcmd_put16(&c, 0); /* unique */
	}
	c.b[at] = (uint8_t)((c.n - at - 2) >> 8);
	c.b[at + 1] = (uint8_t)(c.n - at - 2);
	tpmcmd_put16(&c, 0); /* outsideInfo */
	tpmcmd_put32(&c, 0); /* creationPCR */
	tpmcmd_done(&c);
	rc = run(&c);
	if (rc != 0) {
		fprintf(stderr, "CreatePrimary: rc 0x%x\n", rc);
		return false;
	}
	k->handle = (uint32_t)rsp[10] << 24 | (uint32_t)rsp[11] << 16 |
		    (uint32_t)rsp[12] << 8 | rsp[13];
	k->pub_len = 2u + (size_t)(rsp[18] << 8 | rsp[19]);
	if (18 + k->pub_len > rsp_len || k->pub_len > sizeof(k->pub))
		return false;
	memcpy(k->pub, rsp + 18, k->pub_len);
	return true;
}

static void flush(uint32_t handle)
{
	struct tpmcmd c;

	tpmcmd_begin(&c, 0x8001, 0x165);
	tpmcmd_put32(&c, handle);
	tpmcmd_done(&c);
	run(&c);
}

struct quote {
	uint8_t attest[1024];
	size_t attest_len;
	uint8_t sig[1024];
	size_t sig_len;
};

static bool do_quote(const struct key *k, const uint8_t *nonce, size_t nlen,
		     const struct att_pcr_sel *sel, unsigned nsel,
		     struct quote *q)
{
	uint8_t c[512];
	size_t n = att_quote_cmd(k->handle, nonce, nlen, sel, nsel, c,
				 sizeof(c));
	const uint8_t *a, *s;
	uint32_t rc = 0;
	char why[256];

	if (!n)
		return false;
	/* TPM_RC_RETRY (0x922): libtpms asks for it now and then; a TSS
	 * (and the Linux driver) sends the command again. */
	for (int i = 0; i < 10; i++) {
		rc = run_raw(c, n);
		if (rc != 0x922)
			break;
		fprintf(stderr, "# Quote: TPM_RC_RETRY, try %d\n", i + 1);
	}
	if (rc != 0) {
		fprintf(stderr, "Quote: rc 0x%x\n", rc);
		return false;
	}
	if (att_quote_response(rsp, rsp_len, &rc, &a, &q->attest_len, &s,
			       &q->sig_len, why, sizeof(why)) != ATT_OK) {
		fprintf(stderr, "quote response: %s\n", why);
		return false;
	}
	memcpy(q->attest, a, q->attest_len);
	memcpy(q->sig, s, q->sig_len);
	return true;
}

/* Reads sha256 PCRs of mask with att_pcr_read_cmd, as often as needed. */
static bool read_pcrs(uint16_t alg, uint32_t mask, struct mb_pcrs *out)
{
	uint32_t left = mask;

	for (int i = 0; i < 4 && left; i++) {
		uint8_t c[64];
		size_t n = att_pcr_read_cmd(alg, left, c, sizeof(c));
		uint32_t got = 0, rc;
		char why[256];

		if (!n || run_raw(c, n) != 0 ||
		    att_pcr_read_response(rsp, rsp_len, out, &got, &rc, why,
					  sizeof(why)) != ATT_OK) {
			fprintf(stderr, "PCR_Read: %s\n", why);
			return false;
		}
		left &= ~got;
	}
	return left == 0;
}

/* ------------------------------------------------- the measured boot */

static const uint16_t banks[] = {MB_ALG_SHA1, MB_ALG_SHA256};

struct boot {
	struct mb_log log;
	struct mb_parsed p;
	struct mb_pcrs pcrs; /* replayed */
};

static void measure(struct boot *b, const char *kernel, const char *cmdline,
		    bool initrd)
{
	struct mb_boot mb = {.kernel_name = "/guests/web/vmlinuz",
			     .initrd_name = initrd ? "/guests/web/initrd" : NULL,
			     .cmdline = cmdline};
	char why[256];
	unsigned ok = 0, total = 0;

	mb_log_init(&b->log, banks, 2);
	mb_digests_buf(banks, 2, kernel, strlen(kernel), &mb.kernel);
	mb_digests_buf(banks, 2, "initrd", 6, &mb.initrd);
	TH_CHECK(mb_log_boot(&b->log, &mb) == MB_OK, "boot log");
	TH_CHECK(mb_log_parse(b->log.buf, b->log.len, &b->p, why,
			      sizeof(why)) == MB_OK &&
			 mb_log_replay(&b->p, &b->pcrs) == MB_OK,
		 "parse + replay: %s", why);
	for (size_t i = 0; i < b->p.nevents; i++) {
		uint8_t c[512];
		size_t n = mb_pcr_extend_cmd(&b->p.ev[i], c, sizeof(c));

		if (!n)
			continue;
		total++;
		ok += run_raw(c, n) == 0;
	}
	TH_CHECK(ok == total && total > 0, "extended %u/%u events", ok, total);
}

static void boot_free(struct boot *b)
{
	mb_parsed_free(&b->p);
	mb_log_release(&b->log);
}

/* ------------------------------------------------------ verification */

static const struct att_pcr_sel sel_0_9 = {MB_ALG_SHA256, 0x3ff};

static void test_verify(const struct boot *b, const struct key *ecc,
			const struct key *rsa, const struct key *plain)
{
	struct att_ak ak_ecc, ak_rsa, ak_plain;
	struct quote qe, qr;
	struct att_quote aq;
	struct mb_pcrs read = {0};
	uint8_t nonce[20];
	char why[512];
	enum att_err e;

	TH_CHECK(att_ak_load(&ak_ecc, ecc->pub, ecc->pub_len, why,
			     sizeof(why)) == ATT_OK,
		 "ECC AK loads: %s", why);
	TH_CHECK(ak_ecc.type == ATT_ALG_ECC && ak_ecc.scheme == ATT_ALG_ECDSA &&
			 ak_ecc.scheme_hash == MB_ALG_SHA256 &&
			 ak_ecc.name_len == 34,
		 "ECC AK: ECDSA-SHA256, sha256 name");
	TH_CHECK(att_ak_load(&ak_rsa, rsa->pub, rsa->pub_len, why,
			     sizeof(why)) == ATT_OK,
		 "RSA AK loads: %s", why);
	e = att_ak_load(&ak_plain, plain->pub, plain->pub_len, why, sizeof(why));
	TH_CHECK(e == ATT_E_AK_ATTRS && strstr(why, "restricted"),
		 "an unrestricted signing key is refused as AK: %s", why);
	{
		uint8_t longer[1100];

		memcpy(longer, ecc->pub, ecc->pub_len);
		longer[ecc->pub_len] = 0;
		TH_CHECK(att_ak_load(&ak_plain, longer, ecc->pub_len + 1, why,
				     sizeof(why)) == ATT_E_AK,
			 "AK with a trailing byte refused: %s", why);
		TH_CHECK(att_ak_load(&ak_plain, ecc->pub, ecc->pub_len - 1, why,
				     sizeof(why)) == ATT_E_AK,
			 "truncated AK refused: %s", why);
	}

	RAND_bytes(nonce, sizeof(nonce));
	TH_CHECK(do_quote(ecc, nonce, sizeof(nonce), &sel_0_9, 1, &qe),
		 "ECC quote");
	TH_CHECK(do_quote(rsa, nonce, sizeof(nonce), &sel_0_9, 1, &qr),
		 "RSA quote");
	TH_CHECK(qe.sig_len == 72 && qr.sig_len == 262,
		 "TPMT_SIGNATURE sizes 72 (ECDSA P-256) and 262 (RSA-2048) "
		 "as the reference (%zu, %zu)",
		 qe.sig_len, qr.sig_len);
	e = att_quote_verify(&ak_ecc, qe.attest, qe.attest_len, qe.sig,
			     qe.sig_len, nonce, sizeof(nonce), &b->pcrs, &aq,
			     why, sizeof(why));
	TH_CHECK(e == ATT_OK, "ECC quote verifies against the replayed log: %s",
		 why);
	TH_CHECK(aq.nsel == 1 && aq.sel[0].hash == MB_ALG_SHA256 &&
			 aq.sel[0].mask == 0x3ff && aq.pcr_digest_len == 32 &&
			 aq.nonce_len == 20 && aq.signer_len == 34,
		 "parsed quote fields");
	e = att_quote_verify(&ak_rsa, qr.attest, qr.attest_len, qr.sig,
			     qr.sig_len, nonce, sizeof(nonce), &b->pcrs, NULL,
			     why, sizeof(why));
	TH_CHECK(e == ATT_OK, "RSA quote verifies: %s", why);
	TH_CHECK(read_pcrs(MB_ALG_SHA256, 0x3ff, &read), "PCR_Read 0..9");
	{
		unsigned same = 0;

		for (unsigned i = 0; i < 10; i++)
			same += memcmp(read.bank[0].pcr[i],
				       b->pcrs.bank[1].pcr[i], 32) == 0;
		TH_CHECK(same == 10 && read.bank[0].valid == 0x3ff,
			 "PCRs read back equal the replay (%u/10)", same);
	}
	e = att_quote_verify(&ak_ecc, qe.attest, qe.attest_len, qe.sig,
			     qe.sig_len, nonce, sizeof(nonce), &read, NULL, why,
			     sizeof(why));
	TH_CHECK(e == ATT_OK, "quote verifies against PCRs read: %s", why);

	/* Tampering, one thing at a time; the reason must be specific. */
	{
		struct tamper {
			const char *name;
			int attest_flip; /* byte index, -1 none */
			int sig_flip;
			int attest_delta; /* bytes added (+) or cut (-) */
			int sig_delta;
			int nonce_flip; /* -1 none, -2 empty nonce */
			int pcr_flip;	/* sha256 PCR to alter, -1 none */
			int pcr_missing;
			bool rsa_key; /* verify the ECC quote with the RSA AK */
			enum att_err want;
			const char *msg;
		} t[] = {
			{"clockInfo byte flipped", 64 + 7, -1, 0, 0, -1, -1, -1,
			 false, ATT_E_SIGNATURE, "does not verify"},
			{"magic byte flipped", 0, -1, 0, 0, -1, -1, -1, false,
			 ATT_E_SIGNATURE, "does not verify"},
			{"pcrDigest byte flipped", -2, -1, 0, 0, -1, -1, -1,
			 false, ATT_E_SIGNATURE, "does not verify"},
			{"signature r flipped", -1, 10, 0, 0, -1, -1, -1, false,
			 ATT_E_SIGNATURE, "does not verify"},
			{"signature s flipped", -1, 71, 0, 0, -1, -1, -1, false,
			 ATT_E_SIGNATURE, "does not verify"},
			{"attest trailing byte", -1, -1, 1, 0, -1, -1, -1, false,
			 ATT_E_ATTEST_FORMAT, "1 bytes after the TPMS_ATTEST"},
			{"attest cut by one", -1, -1, -1, 0, -1, -1, -1, false,
			 ATT_E_ATTEST_FORMAT, "does not unmarshal"},
			{"signature trailing byte", -1, -1, 0, 1, -1, -1, -1,
			 false, ATT_E_SIG_FORMAT, "after the TPMT_SIGNATURE"},
			{"signature cut by one", -1, -1, 0, -1, -1, -1, -1, false,
			 ATT_E_SIG_FORMAT, "does not unmarshal"},
			{"signature scheme RSASSA", -1, 1, 0, 0, -1, -1, -1,
			 false, ATT_E_SIG_FORMAT, NULL},
			{"wrong nonce", -1, -1, 0, 0, 5, -1, -1, false,
			 ATT_E_NONCE, "is not our nonce"},
			{"empty nonce", -1, -1, 0, 0, -2, -1, -1, false,
			 ATT_E_NONCE, "is not our nonce (empty)"},
			{"PCR 9 value wrong", -1, -1, 0, 0, -1, 9, -1, false,
			 ATT_E_PCR_DIGEST, "over sha256:0,1,2,3,4,5,6,7,8,9"},
			{"PCR 4 value unknown", -1, -1, 0, 0, -1, -1, 4, false,
			 ATT_E_PCR_SELECT, "sha256 PCR 4, which has no value"},
			{"verified with the RSA AK", -1, -1, 0, 0, -1, -1, -1,
			 true, ATT_E_SIG_ALG, "cannot come from a RSA key"},
			/* Which wins: framing, then signature, then nonce,
			 * then PCRs. */
			{"flipped attest + wrong nonce + wrong PCR", 64 + 7, -1,
			 0, 0, 5, 9, -1, false, ATT_E_SIGNATURE, NULL},
			{"wrong nonce + wrong PCR", -1, -1, 0, 0, 5, 9, -1,
			 false, ATT_E_NONCE, NULL},
			{"trailing attest + bad signature", -1, 10, 1, 0, -1, -1,
			 -1, false, ATT_E_ATTEST_FORMAT, NULL},
		};

		for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
			struct quote q = qe;
			struct mb_pcrs pc = b->pcrs;
			uint8_t n2[20];
			size_t nlen = sizeof(n2);

			memcpy(n2, nonce, sizeof(n2));
			if (t[i].attest_flip >= 0)
				q.attest[t[i].attest_flip] ^= 0x01;
			if (t[i].attest_flip == -2)
				q.attest[q.attest_len - 1] ^= 0x01;
			if (t[i].sig_flip >= 0)
				q.sig[t[i].sig_flip] ^= t[i].sig_flip == 1 ? 0x0c
									   : 0x01;
			q.attest_len += (size_t)(long)t[i].attest_delta;
			q.sig_len += (size_t)(long)t[i].sig_delta;
			if (t[i].nonce_flip >= 0)
				n2[t[i].nonce_flip] ^= 0x80;
			if (t[i].nonce_flip == -2)
				nlen = 0;
			if (t[i].pcr_flip >= 0)
				pc.bank[1].pcr[t[i].pcr_flip][0] ^= 1;
			if (t[i].pcr_missing >= 0)
				pc.bank[1].valid &= ~(1u << t[i].pcr_missing);
			e = att_quote_verify(t[i].rsa_key ? &ak_rsa : &ak_ecc,
					     q.attest, q.attest_len, q.sig,
					     q.sig_len, n2, nlen, &pc, NULL, why,
					     sizeof(why));
			TH_CHECK(e == t[i].want, "%s: %s (want %s): %s",
				 t[i].name, att_strerror(e),
				 att_strerror(t[i].want), why);
			if (t[i].msg)
				TH_CHECK(strstr(why, t[i].msg) != NULL,
					 "%s: message names \"%s\": %s",
					 t[i].name, t[i].msg, why);
		}
	}
	att_ak_free(&ak_ecc);
	att_ak_free(&ak_rsa);
}

/* ----------------------------------------- forged, software-signed */

/* A TPM2B_PUBLIC for a software P-256 key that claims AK attributes. */
static size_t soft_ak_public(EVP_PKEY *pk, uint8_t *out)
{
	BIGNUM *x = NULL, *y = NULL;
	struct tpmcmd c = {.n = 0};
	uint8_t xb[32], yb[32];

	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x);
	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
	BN_bn2binpad(x, xb, 32);
	BN_bn2binpad(y, yb, 32);
	BN_free(x);
	BN_free(y);
	tpmcmd_put16(&c, 0);
	tpmcmd_put16(&c, 0x0023);
	tpmcmd_put16(&c, 0x000b);
	tpmcmd_put32(&c, ATTR_AK);
	tpmcmd_put16(&c, 0);
	tpmcmd_put16(&c, 0x0010);
	tpmcmd_put16(&c, 0x0018);
	tpmcmd_put16(&c, 0x000b);
	tpmcmd_put16(&c, 0x0003);
	tpmcmd_put16(&c, 0x0010);
	tpmcmd_put16(&c, 32);
	memcpy(c.b + c.n, xb, 32);
	c.n += 32;
	tpmcmd_put16(&c, 32);
	memcpy(c.b + c.n, yb, 32);
	c.n += 32;
	c.b[0] = (uint8_t)((c.n - 2) >> 8);
	c.b[1] = (uint8_t)(c.n - 2);
	memcpy(out, c.b, c.n);
	return c.n;
}

static size_t soft_sign(EVP_PKEY *pk, const uint8_t *msg, size_t len,
			uint8_t *out)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint8_t der[128];
	size_t dl = sizeof(der);
	const uint8_t *p = der;
	ECDSA_SIG *s;
	const BIGNUM *r, *sv;
	struct tpmcmd c = {.n = 0};

	EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, pk);
	EVP_DigestSign(m, der, &dl, msg, len);
	EVP_MD_CTX_free(m);
	s = d2i_ECDSA_SIG(NULL, &p, (long)dl);
	ECDSA_SIG_get0(s, &r, &sv);
	tpmcmd_put16(&c, 0x0018);
	tpmcmd_put16(&c, 0x000b);
	tpmcmd_put16(&c, 32);
	BN_bn2binpad(r, c.b + c.n, 32);
	c.n += 32;
	tpmcmd_put16(&c, 32);
	BN_bn2binpad(sv, c.b + c.n, 32);
	c.n += 32;
	ECDSA_SIG_free(s);
	memcpy(out, c.b, c.n);
	return c.n;
}

static void test_forged(const struct boot *b, const struct quote *real,
			const uint8_t *nonce)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t pub[256], att[1024], sig[128];
	size_t publen, alen, slen;
	struct att_ak ak;
	char why[512];
	enum att_err e;

	if (!TH_CHECK(pk != NULL, "software key"))
		return;
	publen = soft_ak_public(pk, pub);
	TH_CHECK(att_ak_load(&ak, pub, publen, why, sizeof(why)) == ATT_OK,
		 "software AK loads: %s", why);

	/* The real attest re-signed: verifies (the verifier trusts the AK;
	 * binding the AK to the EK is the EK certificate's job). */
	memcpy(att, real->attest, real->attest_len);
	alen = real->attest_len;
	slen = soft_sign(pk, att, alen, sig);
	e = att_quote_verify(&ak, att, alen, sig, slen, nonce, 20, &b->pcrs,
			     NULL, why, sizeof(why));
	TH_CHECK(e == ATT_OK, "re-signed real attest verifies: %s", why);

	/* Magic not TPM_GENERATED_VALUE. */
	att[3] ^= 0x01;
	slen = soft_sign(pk, att, alen, sig);
	e = att_quote_verify(&ak, att, alen, sig, slen, nonce, 20, &b->pcrs,
			     NULL, why, sizeof(why));
	TH_CHECK(e == ATT_E_MAGIC && strstr(why, "magic 0xff544346"),
		 "bad magic caught after the signature: %s", why);
	att[3] ^= 0x01;

	/* A certify (0x8017) structure: name and qualifiedName, empty. */
	{
		size_t hdr = 4 + 2 + (2 + 34) + (2 + 20) + 17 + 8;

		att[4] = 0x80, att[5] = 0x17;
		memset(att + hdr, 0, 4);
		alen = hdr + 4;
		slen = soft_sign(pk, att, alen, sig);
		e = att_quote_verify(&ak, att, alen, sig, slen, nonce, 20,
				     &b->pcrs, NULL, why, sizeof(why));
		TH_CHECK(e == ATT_E_TYPE && strstr(why, "type 0x8017"),
			 "a certify structure is not a quote: %s", why);
	}
	/* An attest with no PCR selected (TPML count 0, empty digest). */
	{
		size_t hdr = 4 + 2 + (2 + 34) + (2 + 20) + 17 + 8;

		memcpy(att, real->attest, real->attest_len);
		memset(att + hdr, 0, 6);
		alen = hdr + 6;
		slen = soft_sign(pk, att, alen, sig);
		e = att_quote_verify(&ak, att, alen, sig, slen, nonce, 20,
				     &b->pcrs, NULL, why, sizeof(why));
		TH_CHECK(e == ATT_E_PCR_SELECT && strstr(why, "selects no PCRs"),
			 "a quote over no PCRs proves nothing: %s", why);
	}
	/* SHA-1 signatures are not accepted. */
	memcpy(att, real->attest, real->attest_len);
	slen = soft_sign(pk, att, real->attest_len, sig);
	sig[3] = 0x04;
	e = att_quote_verify(&ak, att, real->attest_len, sig, slen, nonce, 20,
			     &b->pcrs, NULL, why, sizeof(why));
	TH_CHECK(e == ATT_E_SIG_ALG && strstr(why, "SHA-1"),
		 "SHA-1 signature refused: %s", why);
	/* Empty signatures are malformed, not merely wrong. */
	{
		static const uint8_t empty_rsa[] = {0, 0x16, 0, 0x0b, 0, 0};
		static const uint8_t empty_r[] = {0, 0x18, 0, 0x0b, 0, 0, 0, 1, 1};
		struct att_sig s;

		TH_CHECK(att_sig_parse(empty_rsa, sizeof(empty_rsa), &s, why,
				       sizeof(why)) == ATT_E_SIG_FORMAT &&
				 strstr(why, "empty RSA signature"),
			 "empty RSAPSS signature refused: %s", why);
		TH_CHECK(att_sig_parse(empty_r, sizeof(empty_r), &s, why,
				       sizeof(why)) == ATT_E_SIG_FORMAT &&
				 strstr(why, "empty ECDSA r or s"),
			 "empty ECDSA r refused: %s", why);
	}
	att_ak_free(&ak);
	EVP_PKEY_free(pk);
}

/* ------------------------------------------------- tpm2_checkquote */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (getenv("TEST_QUOTE_DEBUG")) {
		fprintf(stderr, "$ %s -> %d\n", cmd, st);
		snprintf(cmd, sizeof(cmd), "cat %s/checkquote.out >&2", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "(no output)\n");
	}
	return st;
}

static void test_checkquote(const struct boot *b, const struct key *ecc,
			    const struct key *rsa)
{
	const struct key *keys[2] = {ecc, rsa};
	char nh[41], why[256], log[160];
	uint8_t nonce[20];

	snprintf(log, sizeof(log), "%s/checkquote.out", tmpdir);
	RAND_bytes(nonce, sizeof(nonce));
	tohex(nh, nonce, sizeof(nonce));
	for (int k = 0; k < 2; k++) {
		const char *kn = k ? "RSA" : "ECC";
		struct quote q;
		struct att_ak ak;
		struct att_sig s;
		uint8_t *ser = NULL, vals[10 * 32];
		size_t serlen = 0;
		FILE *f;
		int rc;

		TH_CHECK(do_quote(keys[k], nonce, 20, &sel_0_9, 1, &q),
			 "%s quote", kn);
		TH_CHECK(att_ak_load(&ak, keys[k]->pub, keys[k]->pub_len, why,
				     sizeof(why)) == ATT_OK &&
				 att_sig_parse(q.sig, q.sig_len, &s, why,
					       sizeof(why)) == ATT_OK,
			 "%s AK + signature", kn);
		TH_CHECK(att_pcrs_serialize(&sel_0_9, 1, &b->pcrs, &ser,
					    &serlen, why, sizeof(why)) ==
					 ATT_OK &&
				 serlen == 1200,
			 "serialized PCR file for sha256:0-9 is 1200 bytes "
			 "(%zu)",
			 serlen);
		TH_CHECK(ser && ser[4] == 0x0b && ser[5] == 0 && ser[6] == 3 &&
				 ser[7] == 0xff && ser[8] == 0x03 &&
				 ser[9] == 0 && ser[10] == 0,
			 "first slot 0b00 03 ff0300 00 (reference §2.5)");
		for (int i = 0; i < 10; i++)
			memcpy(vals + 32 * i, b->pcrs.bank[1].pcr[i], 32);
		write_file(path("ak.pub"), keys[k]->pub, keys[k]->pub_len);
		write_file(path("quote.msg"), q.attest, q.attest_len);
		write_file(path("quote.sig"), q.sig, q.sig_len);
		write_file(path("quote.plain"), s.plain, s.plain_len);
		write_file(path("pcrs.ser"), ser, serlen);
		write_file(path("pcrs.val"), vals, sizeof(vals));
		f = fopen(path("ak.pem"), "w");
		PEM_write_PUBKEY(f, ak.pkey);
		fclose(f);

		rc = sh("tpm2_checkquote -u %s -m %s -s %s -f %s -g sha256 "
			"-q %s >%s 2>&1",
			path("ak.pub"), path("quote.msg"), path("quote.sig"),
			path("pcrs.ser"), nh, log);
		TH_CHECK(rc == 0,
			 "%s: tpm2_checkquote accepts TPM2B_PUBLIC + "
			 "TPMT_SIGNATURE + serialized PCRs (rc %d)",
			 kn, rc);
		/* The "values" shape: tpm2_checkquote 5.4's -l reader
		 * loses the 8th digest of each 8 (it starts a new TPML_DIGEST
		 * without counting it: "Something wrong, trying to print but
		 * nothing more"), so it works for at most 7 PCRs.  This quote
		 * covers sha256:0-6. */
		{
			const struct att_pcr_sel s07 = {MB_ALG_SHA256, 0x7f};
			struct quote q8;
			struct att_sig s8;

			TH_CHECK(do_quote(keys[k], nonce, 20, &s07, 1, &q8) &&
					 att_sig_parse(q8.sig, q8.sig_len, &s8,
						       why, sizeof(why)) ==
						 ATT_OK,
				 "%s quote of sha256:0-7", kn);
			write_file(path("quote8.msg"), q8.attest,
				   q8.attest_len);
			write_file(path("quote8.plain"), s8.plain,
				   s8.plain_len);
			write_file(path("pcrs8.val"), vals, 7 * 32);
			rc = sh("tpm2_checkquote -u %s -m %s -s %s -f %s "
				"-l sha256:0,1,2,3,4,5,6 -g sha256 -q %s "
				">%s 2>&1",
				path("ak.pem"), path("quote8.msg"),
				path("quote8.plain"), path("pcrs8.val"), nh,
				log);
			TH_CHECK(rc == 0,
				 "%s: tpm2_checkquote accepts PEM + plain "
				 "signature + values (rc %d)",
				 kn, rc);
			rc = sh("tpm2_checkquote -u %s -m %s -s %s -f %s "
				"-l sha256:0,1,2,3,4,5,6,7,8,9 -g sha256 -q %s "
				">%s 2>&1",
				path("ak.pem"), path("quote.msg"),
				path("quote.plain"), path("pcrs.val"), nh, log);
			printf("# %s: tpm2_checkquote, values shape, 10 PCRs: "
			       "rc %d (5.4 drops every 8th digest)\n",
			       kn, rc);
		}
		rc = sh("openssl dgst -sha256 -verify %s -signature %s %s "
			">%s 2>&1",
			path("ak.pem"), path("quote.plain"), path("quote.msg"),
			log);
		TH_CHECK(rc == 0, "%s: openssl dgst -verify says Verified OK",
			 kn);
		rc = sh("tpm2_checkquote -u %s -m %s -s %s -f %s -g sha256 "
			"-q %s >%s 2>&1",
			path("ak.pub"), path("quote.msg"), path("quote.sig"),
			path("pcrs.ser"), "00112233445566778899aabbccddeeff00112233",
			log);
		TH_CHECK(rc == 1, "%s: tpm2_checkquote refuses a wrong nonce "
				  "(rc %d)",
			 kn, rc);
		vals[32 * 9] ^= 1;
		write_file(path("pcrs.val"), vals, sizeof(vals));
		rc = sh("tpm2_checkquote -u %s -m %s -s %s -f %s "
			"-l sha256:0,1,2,3,4,5,6,7,8,9 -g sha256 -q %s >%s 2>&1",
			path("ak.pub"), path("quote.msg"), path("quote.sig"),
			path("pcrs.val"), nh, log);
		TH_CHECK(rc == 1, "%s: tpm2_checkquote refuses a flipped PCR "
				  "value (rc %d)",
			 kn, rc);
		free(ser);
		att_ak_free(&ak);
	}

	/* Two banks, more than 8 PCRs: the serialized file's ordering. */
	{
		const struct att_pcr_sel two[2] = {{MB_ALG_SHA1, 0x3ff},
						   {MB_ALG_SHA256, 0x3ff}};
		struct quote q;
		struct att_ak ak;
		uint8_t *ser = NULL;
		size_t serlen = 0;
		int rc;

		TH_CHECK(do_quote(ecc, nonce, 20, two, 2, &q),
			 "two-bank quote");
		att_ak_load(&ak, ecc->pub, ecc->pub_len, why, sizeof(why));
		TH_CHECK(att_quote_verify(&ak, q.attest, q.attest_len, q.sig,
					  q.sig_len, nonce, 20, &b->pcrs, NULL,
					  why, sizeof(why)) == ATT_OK,
			 "two-bank quote verifies: %s", why);
		att_pcrs_serialize(two, 2, &b->pcrs, &ser, &serlen, why,
				   sizeof(why));
		TH_CHECK(serlen == 132 + 4 + 3 * 532,
			 "20 PCRs: 3 digest lists (%zu bytes)", serlen);
		write_file(path("quote.msg"), q.attest, q.attest_len);
		write_file(path("quote.sig"), q.sig, q.sig_len);
		write_file(path("pcrs.ser"), ser, serlen);
		write_file(path("ak.pub"), ecc->pub, ecc->pub_len);
		rc = sh("tpm2_checkquote -u %s -m %s -s %s -f %s -g sha256 "
			"-q %s >%s 2>&1",
			path("ak.pub"), path("quote.msg"), path("quote.sig"),
			path("pcrs.ser"), nh, log);
		TH_CHECK(rc == 0,
			 "tpm2_checkquote accepts our two-bank serialized file "
			 "(rc %d)",
			 rc);
		free(ser);
		att_ak_free(&ak);
	}
	unlink(log);
}

/* ------------------------------------------------- golden: parser */

static void test_golden_parse(void)
{
	static const char h64[] =
		"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969";
	static const struct {
		const char *name, *text;
		enum att_err want;
		const char *msg;
	} t[] = {
		{"good", "# comment\n\nhvsec-golden 1\n  kernel sha256 @\n"
			 "initrd\tsha256\t@\ncmdline \"a \\\"b\\\" c\\\\\"\n"
			 "pcr 9 sha256 @  \n",
		 ATT_OK, NULL},
		{"upper-case hex", "hvsec-golden 1\nkernel sha256 @\n", ATT_OK,
		 NULL},
		{"no magic", "kernel sha256 @\n", ATT_E_GOLDEN,
		 "g:1: the first line must be"},
		{"version 2", "hvsec-golden 2\nkernel sha256 @\n", ATT_E_GOLDEN,
		 "g:1: unsupported version"},
		{"empty", "", ATT_E_GOLDEN, "g:1: empty"},
		{"no values", "hvsec-golden 1\n# nothing\n", ATT_E_GOLDEN,
		 "g:2: no values"},
		{"unknown keyword", "hvsec-golden 1\nkernal sha256 @\n",
		 ATT_E_GOLDEN, "g:2: unknown keyword \"kernal\""},
		{"unknown algorithm", "hvsec-golden 1\nkernel md5 @\n",
		 ATT_E_GOLDEN, "g:2: kernel: unknown algorithm \"md5\""},
		{"short digest", "hvsec-golden 1\nkernel sha256 abcd\n",
		 ATT_E_GOLDEN, "g:2: kernel: sha256 digest has 4 hex digits, "
			       "must be 64"},
		{"sha1 length for sha256", "hvsec-golden 1\nkernel sha256 "
					   "9069ca78e7450a285173431b3e52c5c25299e473\n",
		 ATT_E_GOLDEN, "has 40 hex digits"},
		{"not hex", "hvsec-golden 1\nkernel sha1 "
			    "9069ca78e7450a285173431b3e52c5c25299e47g\n",
		 ATT_E_GOLDEN, "\"7g\" is not hex"},
		{"text after digest", "hvsec-golden 1\nkernel sha256 @ extra\n",
		 ATT_E_GOLDEN, "g:2: kernel: unexpected \"extra\""},
		{"kernel twice", "hvsec-golden 1\nkernel sha256 @\n\nkernel "
				 "sha256 @\n",
		 ATT_E_GOLDEN, "g:4: kernel sha256 given twice"},
		{"initrd none then digest", "hvsec-golden 1\ninitrd none\n"
					    "initrd sha256 @\n",
		 ATT_E_GOLDEN, "g:3: initrd: \"initrd none\" was given before"},
		{"initrd digest then none", "hvsec-golden 1\ninitrd sha256 @\n"
					    "initrd none\n",
		 ATT_E_GOLDEN, "g:3: initrd given twice"},
		{"cmdline unquoted", "hvsec-golden 1\ncmdline ro quiet\n",
		 ATT_E_GOLDEN, "g:2: cmdline: must be one quoted string"},
		{"cmdline bad escape", "hvsec-golden 1\ncmdline \"a\\nb\"\n",
		 ATT_E_GOLDEN, "only \\\\ and \\\" escapes"},
		{"cmdline inner quote", "hvsec-golden 1\ncmdline \"a\"b\"\n",
		 ATT_E_GOLDEN, "unescaped '\"'"},
		{"cmdline twice", "hvsec-golden 1\ncmdline \"\"\ncmdline \"\"\n",
		 ATT_E_GOLDEN, "g:3: cmdline given twice"},
		{"pcr 24", "hvsec-golden 1\npcr 24 sha256 @\n", ATT_E_GOLDEN,
		 "g:2: pcr: index \"24\" is not 0..23"},
		{"pcr 08", "hvsec-golden 1\npcr 08 sha256 @\n", ATT_E_GOLDEN,
		 "index \"08\""},
		{"pcr x", "hvsec-golden 1\npcr x sha256 @\n", ATT_E_GOLDEN,
		 "index \"x\""},
		{"pcr twice", "hvsec-golden 1\npcr 9 sha256 @\npcr 9 sha256 @\n",
		 ATT_E_GOLDEN, "g:3: pcr 9 sha256 given twice"},
		{"carriage return", "hvsec-golden 1\r\nkernel sha256 @\n",
		 ATT_E_GOLDEN, "g:1: byte 0x0d at column 15"},
		{"magic twice", "hvsec-golden 1\nhvsec-golden 1\n", ATT_E_GOLDEN,
		 "g:2: \"hvsec-golden\" given twice"},
		{"no final newline", "hvsec-golden 1\npcr 0 sha256 @", ATT_OK,
		 NULL},
	};
	char text[2048], why[256];
	struct att_golden g;

	for (size_t i = 0; i < TH_ARRAY_LEN(t); i++) {
		enum att_err e;

		/* '@' stands for a sha256 digest. */
		text[0] = 0;
		for (const char *q = t[i].text; *q; q++)
			if (*q == '@')
				strcat(text, h64);
			else
				strncat(text, q, 1);
		if (strcmp(t[i].name, "upper-case hex") == 0)
			for (char *p = strstr(text, "3d45"); p && *p != '\n';
			     p++)
				if (*p >= 'a' && *p <= 'f')
					*p = (char)(*p - 32);
		e = att_golden_parse("g", text, strlen(text), &g, why,
				     sizeof(why));
		TH_CHECK(e == t[i].want, "golden %s: %s: %s", t[i].name,
			 att_strerror(e), why);
		if (t[i].msg)
			TH_CHECK(strstr(why, t[i].msg) != NULL,
				 "golden %s: message names \"%s\": %s",
				 t[i].name, t[i].msg, why);
		if (e == ATT_OK && strcmp(t[i].name, "good") == 0)
			TH_CHECK(g.nvalues == 4 && g.kernel.n == 1 &&
					 g.initrd.n == 1 && g.cmdline &&
					 strcmp(g.cmdline, "a \"b\" c\\") == 0 &&
					 g.pcrs.nbanks == 1 &&
					 g.pcrs.bank[0].valid == 1u << 9,
				 "good golden file fields");
		att_golden_free(&g);
	}
	{
		char *big = malloc(ATT_GOLDEN_MAX + 1);

		memset(big, '#', ATT_GOLDEN_MAX + 1);
		TH_CHECK(att_golden_parse("g", big, ATT_GOLDEN_MAX + 1, &g, why,
					  sizeof(why)) == ATT_E_GOLDEN &&
				 strstr(why, "at most 65536"),
			 "oversized golden file: %s", why);
		memcpy(big, "hvsec-golden 1\n#", 16);
		TH_CHECK(att_golden_parse("g", big, ATT_GOLDEN_LINE_MAX + 20, &g,
					  why, sizeof(why)) == ATT_E_GOLDEN &&
				 strstr(why, "g:2: line longer than 8192"),
			 "overlong line: %s", why);
		free(big);
	}
	TH_CHECK(att_golden_load(path("nonexistent"), &g, why, sizeof(why)) ==
				 ATT_E_IO &&
			 strstr(why, "No such file"),
		 "missing file: %s", why);
}

/* --------------------------------------------- golden: comparison */

static void test_golden_compare(void)
{
	static const char kern_a[] = "kernel A", kern_b[] = "kernel B";
	static const char cmd_a[] = "root=/dev/xvda1 ro quiet";
	struct boot a = {0}, b = {0}, c = {0}, d = {0};
	struct att_golden g;
	struct att_report r;
	char *text = NULL, why[256];
	int n;

	/* Logs only (no TPM needed): the comparison itself. */
	vtpm_tpm_reset(why, sizeof(why));
	measure(&a, kern_a, cmd_a, true);
	TH_CHECK(att_golden_format(&a.p, &a.pcrs, 0x300, &text, why,
				   sizeof(why)) == ATT_OK,
		 "golden values of boot A: %s", why);
	write_file(path("golden"), text, strlen(text));
	TH_CHECK(att_golden_load(path("golden"), &g, why, sizeof(why)) == ATT_OK,
		 "written golden file reads back: %s", why);
	TH_CHECK(g.kernel.n == 2 && g.initrd.n == 2 && g.cmdline &&
			 g.pcrs.nbanks == 2 && g.nvalues == 9,
		 "golden: kernel + initrd in 2 banks, cmdline, PCRs 8 and 9 "
		 "in 2 banks (%u values)",
		 g.nvalues);
	n = att_golden_compare(&g, &a.p, &a.pcrs, &r);
	TH_CHECK(n == 0 && r.checked == 9, "boot A matches (%d, %u checked)",
		 n, r.checked);
	att_report_free(&r);

	/* Kernel changed. */
	vtpm_tpm_reset(why, sizeof(why));
	measure(&b, kern_b, cmd_a, true);
	n = att_golden_compare(&g, &b.p, &b.pcrs, &r);
	TH_CHECK(n == 4, "changed kernel: 4 differences (2 banks + PCR 9 x 2) "
			 "(%d)",
		 n);
	TH_CHECK(n > 0 && strncmp(r.lines[0], "kernel: sha1 ", 13) == 0 &&
			 strstr(r.lines[0], " expected "),
		 "first: %s", n > 0 ? r.lines[0] : "");
	TH_CHECK(n > 1 && strncmp(r.lines[1], "kernel: sha256 ", 15) == 0,
		 "second: %s", n > 1 ? r.lines[1] : "");
	TH_CHECK(n > 2 && strncmp(r.lines[2], "pcr 9 sha1: ", 12) == 0,
		 "third: %s", n > 2 ? r.lines[2] : "");
	att_report_free(&r);

	/* Command line changed. */
	measure(&c, kern_a, "root=/dev/xvda1 ro quiet single", true);
	n = att_golden_compare(&g, &c.p, &c.pcrs, &r);
	TH_CHECK(n == 3 &&
			 strcmp(r.lines[0],
				"cmdline changed: \"root=/dev/xvda1 ro quiet "
				"single\" expected \"root=/dev/xvda1 ro "
				"quiet\"") == 0 &&
			 strncmp(r.lines[1], "pcr 8 sha1: ", 12) == 0,
		 "changed cmdline named (%d): %s", n, n > 0 ? r.lines[0] : "");
	att_report_free(&r);

	/* No initrd where one was expected. */
	measure(&d, kern_a, cmd_a, false);
	n = att_golden_compare(&g, &d.p, &d.pcrs, &r);
	TH_CHECK(n == 3 && strncmp(r.lines[0],
				   "initrd: none measured, expected sha1 ",
				   37) == 0,
		 "missing initrd named (%d): %s", n, n > 0 ? r.lines[0] : "");
	att_report_free(&r);
	att_golden_free(&g);

	/* "initrd none" but one was measured; a bank the PCRs lack. */
	{
		static const char txt[] =
			"hvsec-golden 1\ninitrd none\npcr 10 sha384 "
			"000000000000000000000000000000000000000000000000000000"
			"000000000000000000000000000000000000000000\n";

		att_golden_parse("t", txt, strlen(txt), &g, why, sizeof(why));
		n = att_golden_compare(&g, &a.p, &a.pcrs, &r);
		TH_CHECK(n == 2 &&
				 strncmp(r.lines[0],
					 "initrd: measured (sha1 ", 23) == 0 &&
				 strcmp(r.lines[1],
					"pcr 10 sha384: no value to compare") ==
					 0,
			 "initrd none / missing bank (%d): %s | %s", n,
			 n > 0 ? r.lines[0] : "", n > 1 ? r.lines[1] : "");
		att_report_free(&r);
		att_golden_free(&g);
	}
	/* A log that is not our layout. */
	{
		static const char txt[] = "hvsec-golden 1\nkernel sha1 "
					  "9069ca78e7450a285173431b3e52c5c25299e473\n";
		struct mb_log l;
		struct mb_parsed p;

		mb_log_init(&l, banks, 2);
		mb_log_measure(&l, 0, MB_EV_SEPARATOR, "\0\0\0\0", 4,
			       "\0\0\0\0", 4, NULL);
		mb_log_parse(l.buf, l.len, &p, why, sizeof(why));
		att_golden_parse("t", txt, strlen(txt), &g, why, sizeof(why));
		n = att_golden_compare(&g, &p, &a.pcrs, &r);
		TH_CHECK(n == 1 && strstr(r.lines[0], "log: ") == r.lines[0] &&
				 strstr(r.lines[0], "no kernel event"),
			 "not our layout (%d): %s", n, n > 0 ? r.lines[0] : "");
		att_report_free(&r);
		att_golden_free(&g);
		mb_parsed_free(&p);
		mb_log_release(&l);
	}
	free(text);
	boot_free(&a);
	boot_free(&b);
	boot_free(&c);
	boot_free(&d);
}

/* End to end: golden values from boot A; boot B (kernel changed) gives a
 * quote that verifies against B's own log, and the golden comparison
 * names the kernel. */
static void test_end_to_end(const struct key *ecc)
{
	struct boot a = {0}, b = {0};
	struct att_golden g;
	struct att_report r;
	struct att_ak ak;
	struct quote q;
	uint8_t nonce[20];
	char *text = NULL, why[256];
	int n;

	att_ak_load(&ak, ecc->pub, ecc->pub_len, why, sizeof(why));
	vtpm_tpm_reset(why, sizeof(why));
	measure(&a, "vmlinuz-6.1.0-18", "ro console=hvc0", false);
	att_golden_format(&a.p, &a.pcrs, 0x3ff, &text, why, sizeof(why));
	att_golden_parse("golden", text, strlen(text), &g, why, sizeof(why));

	/* The key is gone after a reset: make it again (same seed, same
	 * key). */
	for (int boot = 0; boot < 2; boot++) {
		struct boot *bt = boot ? &b : &a;
		struct key k;

		if (boot) {
			vtpm_tpm_reset(why, sizeof(why));
			measure(&b, "vmlinuz-6.1.0-18-evil", "ro console=hvc0",
				false);
		}
		TH_CHECK(create_primary(true, ATTR_AK, &k) &&
				 k.pub_len == ecc->pub_len &&
				 memcmp(k.pub, ecc->pub, k.pub_len) == 0,
			 "boot %d: the same primary AK", boot);
		RAND_bytes(nonce, sizeof(nonce));
		TH_CHECK(do_quote(&k, nonce, 20, &sel_0_9, 1, &q), "quote");
		TH_CHECK(att_quote_verify(&ak, q.attest, q.attest_len, q.sig,
					  q.sig_len, nonce, 20, &bt->pcrs, NULL,
					  why, sizeof(why)) == ATT_OK,
			 "boot %d: quote verifies against its log: %s", boot,
			 why);
		flush(k.handle);
		n = att_golden_compare(&g, &bt->p, &bt->pcrs, &r);
		if (boot == 0)
			TH_CHECK(n == 0, "boot A passes attestation (%d)", n);
		else
			TH_CHECK(n == 4 && strncmp(r.lines[1],
						   "kernel: sha256 ", 15) == 0,
				 "boot B fails, naming the kernel (%d): %s", n,
				 n > 1 ? r.lines[1] : "");
		for (size_t i = 0; boot && i < r.n; i++)
			printf("# %s\n", r.lines[i]);
		att_report_free(&r);
	}
	/* Boot B's quote does not verify against boot A's log. */
	TH_CHECK(att_quote_verify(&ak, q.attest, q.attest_len, q.sig,
				  q.sig_len, nonce, 20, &a.pcrs, NULL, why,
				  sizeof(why)) == ATT_E_PCR_DIGEST,
		 "B's quote against A's log: %s", why);
	free(text);
	att_golden_free(&g);
	att_ak_free(&ak);
	boot_free(&a);
	boot_free(&b);
}

int main(void)
{
	struct vtpm_store st;
	struct key ecc, rsa, plain;
	struct boot b = {0};
	char why[256], dir[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hvsec-quote-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/tpm", tmpdir);
	mkdir(dir, 0700);
	rc = vtpm_store_file_open(&st, dir, why, sizeof(why));
	TH_CHECK(rc == 0, "store: %s", why);
	rc = vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &st}, why,
			       sizeof(why));
	if (!TH_CHECK(rc == 0, "power on: %s", why))
		return th_done();

	measure(&b, "kernel image", "root=/dev/xvda1 ro", true);
	TH_CHECK(create_primary(true, ATTR_AK, &ecc), "ECC P-256 AK");
	TH_CHECK(create_primary(false, ATTR_AK, &rsa), "RSA-2048 AK");
	TH_CHECK(create_primary(true, ATTR_PLAIN, &plain),
		 "unrestricted ECC key");
	flush(plain.handle);
	test_verify(&b, &ecc, &rsa, &plain);
	{
		struct quote q;
		uint8_t nonce[20] = {1, 2, 3};

		do_quote(&ecc, nonce, 20, &sel_0_9, 1, &q);
		test_forged(&b, &q, nonce);
	}
	test_checkquote(&b, &ecc, &rsa);
	flush(ecc.handle);
	flush(rsa.handle);
	test_golden_parse();
	test_golden_compare();
	test_end_to_end(&ecc);
	boot_free(&b);
	vtpm_tpm_power_off();
	vtpm_store_close(&st);
	rm_tree(dir);
	if (!getenv("TEST_QUOTE_DEBUG")) /* keep the files to look at */
		rm_tree(tmpdir);
	return th_done();
}
