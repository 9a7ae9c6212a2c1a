/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_attest.c - remote attestation of a guest's vTPM from dom0
 * (docs/measured-boot.md §6, docs/toolstack.md "Attestation").
 *
 *   hvsec vtpm golden NAME [--out FILE]
 *   hvsec vtpm attest NAME --golden FILE [--ca FILE] [--save DIR] [--json]
 *
 * attest talks to the guest's vTPM through the TCTI hvsec-tpmfront
 * publishes (as `hvsec tcti` does) with tpm2-tss ESAPI, and checks, each
 * on its own report line:
 *   1. the EK certificate (NV 0x01C00002 RSA, else 0x01C0000A ECC) chains
 *      to the host's vTPM CA, and its key is the persistent EK's
 *      (0x81010001 / 0x81010002);
 *   2. a fresh AK (ECC P-256 ECDSA, restricted, a primary of the
 *      endorsement hierarchy) lives in the same TPM as that EK:
 *      MakeCredential is computed here, in software, from the certified
 *      EK key (TPM 2.0 Part 1 §24: KDFa/KDFe, AES-CFB, HMAC); only that
 *      TPM's ActivateCredential gives the secret back;
 *   3. the quote of PCRs 0-9 in every bank of the event log, over a fresh
 *      32-byte nonce, is signed by that AK (att_quote_verify);
 *   4. the nonce is ours;
 *   5. the event log (dom0's node in XenStore: still nothing in it is
 *      believed before the quote matches its replay) replays to the
 *      quoted PCRs;
 *   6. kernel, initrd, command line and PCRs equal the golden values.
 * With --deep (a vTPM served by the manager), one more line:
 *   7. a deep quote: the manager has the *platform* TPM quote its PCRs
 *      (the mask its root key is sealed to, from STATUS) with
 *      qualifyingData = H(the vTPM's EK TPM2B_PUBLIC, as read from the
 *      vTPM in step 1 ‖ the instance uuid ‖ a fresh nonce); checked with
 *      att_deep_verify, and the platform AK and PCR digest against a pin
 *      file (--platform-ak FILE, default STATE_BASE/platform-pin),
 *      recorded on first use: trust on first use, said on the line.
 * Exit 0 only when every check holds, 1 when one fails, 2 usage or a bad
 * golden file, 3 when the vTPM or XenStore cannot be reached.
 *
 * Every transient object and session is flushed on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "tools/hvsec.h"
#include "vtpm-manager/att_deep.h"
#include "vtpm-manager/att_quote.h"
#include "vtpm-manager/mb_log.h"
#include "vtpm-manager/mgr_proto.h"
#include "vtpm-manager/mgr_ptpm.h"

#define ATT_NONCE_LEN	  32u
#define ATT_QUOTE_PCRS	  0x3ffu /* PCRs 0..9 */
#define ATT_GOLDEN_PCRS	  ((1u << MB_PCR_CMDLINE) | (1u << MB_PCR_KERNEL))
#define EK_RSA_HANDLE	  0x81010001u
#define EK_ECC_HANDLE	  0x81010002u
#define EK_RSA_CERT_NV	  0x01C00002u
#define EK_ECC_CERT_NV	  0x01C0000Au
#define EK_CERT_MAX	  4096u
#define NV_CHUNK	  512u
#define XS_CHUNKS_MAX	  4096u
#define RC_RETRY	  0x922u
#define QUOTE_TRIES	  5

/* ------------------------------------------------------------ report */

enum chk {
	CHK_EK,
	CHK_AK,
	CHK_SIG,
	CHK_NONCE,
	CHK_REPLAY,
	CHK_KERNEL,
	CHK_INITRD,
	CHK_CMDLINE,
	CHK_PCRS,
	CHK_DEEP, /* only with --deep */
	CHK_N,
};
static const char *const chk_name[CHK_N] = {
	"EK certificate",	"AK bound to EK",      "quote signature",
	"nonce",		"event log replay",    "golden kernel",
	"golden initrd",	"golden cmdline",      "golden PCRs",
	"deep quote",
};
enum verdict { V_UNSET, V_OK, V_FAIL, V_SKIP };

struct line {
	enum verdict v;
	char text[1024]; /* detail; several reasons joined with "; " */
};

struct report {
	struct line l[CHK_N];
};

static void set(struct report *r, enum chk c, enum verdict v, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
static void set(struct report *r, enum chk c, enum verdict v, const char *fmt,
		...)
{
	struct line *l = &r->l[c];
	size_t n = strlen(l->text);
	va_list ap;

	/* A failure is never overwritten by a later OK. */
	if (l->v != V_FAIL)
		l->v = v;
	if (n && n + 2 < sizeof(l->text)) {
		memcpy(l->text + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(l->text + n, sizeof(l->text) - n, fmt, ap);
	va_end(ap);
}

static const char *vword(enum verdict v)
{
	return v == V_OK ? "OK" : v == V_SKIP ? "SKIP" : "FAIL";
}

/* ------------------------------------------------------------ xenstore */

/* Base64 text (no blanks) to bytes appended at out[*len]; false when it is
 * not base64 or would pass cap. */
static bool b64_append(const char *s, size_t n, uint8_t *out, size_t *len,
		       size_t cap)
{
	size_t pad = 0;
	int got;

	if (n % 4)
		return false;
	if (!n)
		return true;
	if (s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	if (*len + n / 4 * 3 > cap)
		return false;
	for (size_t i = 0; i < n - pad; i++)
		if (s[i] == '=')
			return false;
	got = EVP_DecodeBlock(out + *len, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3)
		return false;
	*len += (size_t)got - pad;
	return true;
}

/* The event log the guest's vTPM was extended with, published by the
 * toolstack under the guest's device directory: size, sha256 and base64
 * chunks 0, 1, ...  Whoever wrote them, the bytes are only a claim until
 * the quote matches their replay.  0, 1 (none or malformed, why
 * set), or -1 (no memory). */
static int read_log(struct xs_handle *xs, uint32_t domid, unsigned devid,
		    uint8_t **out, size_t *out_len, char *why, size_t why_len)
{
	char dir[128], path[192], val[128], want_hex[80];
	uint8_t *buf = NULL, md[32];
	char *text = NULL;
	size_t len = 0, tlen = 0, tcap = 0;
	uint32_t size;
	unsigned int n;
	int rc = 1;

	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vtpm/%u/event-log",
		 domid, devid);
	snprintf(path, sizeof(path), "%s/size", dir);
	if (!hvt_xs_get(xs, path, val, sizeof(val))) {
		snprintf(why, why_len, "no event log published (%s)", path);
		return 1;
	}
	if (!hvt_parse_u32(val, MB_LOG_MAX, &size) || !size) {
		snprintf(why, why_len, "%s: bad size '%.32s'", path, val);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/sha256", dir);
	if (!hvt_xs_get(xs, path, want_hex, sizeof(want_hex)))
		want_hex[0] = '\0';
	buf = malloc(size + 3);
	if (!buf)
		return -1;
	for (unsigned i = 0; i < XS_CHUNKS_MAX && len < size; i++) {
		char *v;

		snprintf(path, sizeof(path), "%s/%u", dir, i);
		n = 0;
		v = xs_read(xs, XBT_NULL, path, &n);
		if (!v) {
			snprintf(why, why_len, "event log: %s missing", path);
			goto out;
		}
		if (tlen + n + 1 > tcap) {
			size_t nc = (tlen + n + 1) * 2;
			char *nt = realloc(text, nc);

			if (!nt) {
				free(v);
				rc = -1;
				goto out;
			}
			text = nt;
			tcap = nc;
		}
		memcpy(text + tlen, v, n);
		tlen += n;
		free(v);
		/* Chunks may be separately padded or one string cut at any
		 * point: decode whatever forms whole quads. */
		if (tlen % 4 == 0) {
			if (!b64_append(text, tlen, buf, &len, size + 3) ||
			    len > size) {
				snprintf(why, why_len,
					 "event log: chunk %u is not base64 of "
					 "a %u-byte log",
					 i, size);
				goto out;
			}
			tlen = 0;
		}
	}
	if (len != size || tlen) {
		snprintf(why, why_len,
			 "event log: %zu bytes in the chunks, size says %u", len,
			 size);
		goto out;
	}
	if (want_hex[0]) {
		char hex[65];

		SHA256(buf, len, md);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		if (strcasecmp(hex, want_hex)) {
			snprintf(why, why_len,
				 "event log: sha256 %.16s... but %s/sha256 "
				 "says %.16s...",
				 hex, dir, want_hex);
			goto out;
		}
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
	rc = 0;
out:
	free(text);
	free(buf);
	return rc;
}

/* The port of the guest's mssim server (written by the guest). */
static bool read_tcti(struct xs_handle *xs, uint32_t domid, char *tcti,
		      size_t len)
{
	char path[128], val[32];
	uint32_t port;

	snprintf(path, sizeof(path), "/local/domain/%u/data/tpmfront/mssim-port",
		 domid);
	if (!hvt_xs_get(xs, path, val, sizeof(val)) ||
	    !hvt_parse_u32(val, 65535, &port) || !port)
		return false;
	snprintf(tcti, len, "mssim:host=127.0.0.1,port=%u", port);
	return true;
}

static int parse_devid(const struct hvt_args *a, unsigned *devid)
{
	const char *s = hvt_opt(a, "devid");
	uint32_t v = 0;

	if (s && !hvt_parse_u32(s, 1023, &v))
		return hvt_usage(a->cmd, "--devid: '%s' is not 0-1023", s);
	*devid = v;
	return 0;
}

/* ------------------------------------------------------------ golden */

static int write_file(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, e = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		e = errno ? errno : EIO;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return -e;
	}
	return 0;
}

int hvt_cmd_vtpm_golden(struct hvt *t, const struct hvt_args *a)
{
	const char *out = hvt_opt(a, "out");
	struct hv_ctl_domain_info info;
	struct xs_handle *xs;
	struct mb_parsed p;
	struct mb_pcrs pcrs;
	uint8_t *log = NULL;
	size_t log_len = 0;
	char why[512], *text = NULL;
	unsigned devid;
	int rc;

	if (!getenv("TSS2_LOG"))
		setenv("TSS2_LOG", "all+none", 1);
	rc = parse_devid(a, &devid);
	if (rc)
		return rc;
	rc = hvt_domain_lookup(t, a->pos[0], &info);
	if (rc)
		return rc;
	xs = hvt_xs_connect(t);
	if (!xs)
		return HVT_DAEMON;
	rc = read_log(xs, info.domid, devid, &log, &log_len, why, sizeof(why));
	xs_close(xs);
	if (rc < 0) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	if (rc) {
		hvt_err("%s: %s", info.name, why);
		return HVT_NO;
	}
	if (mb_log_parse(log, log_len, &p, why, sizeof(why)) != MB_OK) {
		hvt_err("%s: event log: %s", info.name, why);
		free(log);
		return HVT_NO;
	}
	if (mb_log_replay(&p, &pcrs) != MB_OK ||
	    att_golden_format(&p, &pcrs, ATT_GOLDEN_PCRS, &text, why,
			      sizeof(why)) != ATT_OK) {
		hvt_err("%s: event log: %s", info.name, why);
		rc = HVT_NO;
		goto done;
	}
	if (out) {
		int e = write_file(out, text, strlen(text), 0644);

		if (e) {
			hvt_err("%s: %s", out, strerror(-e));
			rc = HVT_USAGE;
			goto done;
		}
		printf("golden values of %s written to %s\n", info.name, out);
	} else {
		fputs(text, stdout);
	}
	rc = 0;
done:
	free(text);
	mb_parsed_free(&p);
	free(log);
	return rc;
}

/* ------------------------------------------------------------ ESAPI */

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	ESYS_TR ek, ak, session;
	TPM2B_PUBLIC *ek_pub, *ak_pub;
	uint16_t ek_type;
};

static bool is_retry(TSS2_RC rc)
{
	return (rc & 0xfffu) == RC_RETRY;
}

static void tpm_close(struct tpm *m)
{
	if (m->esys) {
		if (m->session != ESYS_TR_NONE)
			Esys_FlushContext(m->esys, m->session);
		if (m->ak != ESYS_TR_NONE)
			Esys_FlushContext(m->esys, m->ak);
		if (m->ek != ESYS_TR_NONE)
			Esys_TR_Close(m->esys, &m->ek); /* persistent */
		Esys_Finalize(&m->esys);
	}
	if (m->tcti)
		Tss2_TctiLdr_Finalize(&m->tcti);
	Esys_Free(m->ek_pub);
	Esys_Free(m->ak_pub);
}

static int tpm_open(struct tpm *m, const char *tcti, char *why, size_t why_len)
{
	TSS2_RC rc;

	m->ek = m->ak = m->session = ESYS_TR_NONE;
	rc = Tss2_TctiLdr_Initialize(tcti, &m->tcti);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_Initialize(&m->esys, m->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, why_len, "%s: %s", tcti, Tss2_RC_Decode(rc));
		return -1;
	}
	return 0;
}

/* An NV index's contents (at most EK_CERT_MAX bytes), read with the
 * index's own empty auth, else the owner's. */
static int nv_read(struct tpm *m, uint32_t index, uint8_t *out, size_t *len,
		   char *why, size_t why_len)
{
	ESYS_TR nv = ESYS_TR_NONE;
	TPM2B_NV_PUBLIC *pub = NULL;
	size_t size, off = 0;
	TSS2_RC rc;
	int ret = -1;

	rc = Esys_TR_FromTPMPublic(m->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &nv);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, why_len, "no NV index 0x%08x", index);
		return -1;
	}
	rc = Esys_NV_ReadPublic(m->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, &pub, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, why_len, "NV 0x%08x: %s", index,
			 Tss2_RC_Decode(rc));
		goto out;
	}
	size = pub->nvPublic.dataSize;
	if (!size || size > EK_CERT_MAX) {
		snprintf(why, why_len, "NV 0x%08x holds %zu bytes", index, size);
		goto out;
	}
	while (off < size) {
		uint16_t n = (uint16_t)(size - off > NV_CHUNK ? NV_CHUNK
							       : size - off);
		TPM2B_MAX_NV_BUFFER *data = NULL;
		ESYS_TR auth = (pub->nvPublic.attributes & TPMA_NV_AUTHREAD)
				       ? nv
				       : ESYS_TR_RH_OWNER;

		rc = Esys_NV_Read(m->esys, auth, nv, ESYS_TR_PASSWORD,
				  ESYS_TR_NONE, ESYS_TR_NONE, n, (uint16_t)off,
				  &data);
		if (rc != TSS2_RC_SUCCESS && auth == nv)
			rc = Esys_NV_Read(m->esys, ESYS_TR_RH_OWNER, nv,
					  ESYS_TR_PASSWORD, ESYS_TR_NONE,
					  ESYS_TR_NONE, n, (uint16_t)off, &data);
		if (rc != TSS2_RC_SUCCESS || data->size != n) {
			snprintf(why, why_len, "NV 0x%08x read: %s", index,
				 rc ? Tss2_RC_Decode(rc) : "short read");
			Esys_Free(data);
			goto out;
		}
		memcpy(out + off, data->buffer, n);
		off += n;
		Esys_Free(data);
	}
	*len = size;
	ret = 0;
out:
	Esys_Free(pub);
	Esys_TR_Close(m->esys, &nv);
	return ret;
}

/* ------------------------------------------------------------ EK */

static void load_ca_store(const char *path, X509_STORE **store, char *why,
			  size_t why_len)
{
	FILE *f = fopen(path, "r");
	X509 *ca;
	int n = 0;

	if (!f) {
		snprintf(why, why_len, "CA certificate %.400s: %s", path,
			 strerror(errno));
		return;
	}
	*store = X509_STORE_new();
	/* The CA file may also hold the CA's key: only certificates are
	 * read, and each is a trust anchor. */
	while (*store && (ca = PEM_read_X509(f, NULL, NULL, NULL))) {
		X509_STORE_add_cert(*store, ca);
		X509_free(ca);
		n++;
	}
	fclose(f);
	if (!n) {
		snprintf(why, why_len, "no certificate in %.400s", path);
		X509_STORE_free(*store);
		*store = NULL;
	}
}

/* Whether the TPM public area holds the same key as pkey. */
static bool same_key(const TPM2B_PUBLIC *tp, EVP_PKEY *pkey)
{
	const TPMT_PUBLIC *p = &tp->publicArea;

	if (p->type == TPM2_ALG_RSA && EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA) {
		BIGNUM *n = NULL, *e = NULL, *tn;
		uint32_t exp = p->parameters.rsaDetail.exponent;
		bool eq;

		if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
		    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
			BN_free(n);
			return false;
		}
		tn = BN_bin2bn(p->unique.rsa.buffer, p->unique.rsa.size, NULL);
		eq = tn && !BN_cmp(n, tn) &&
		     BN_is_word(e, exp ? exp : 65537u);
		BN_free(n);
		BN_free(e);
		BN_free(tn);
		return eq;
	}
	if (p->type == TPM2_ALG_ECC && EVP_PKEY_base_id(pkey) == EVP_PKEY_EC &&
	    p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256) {
		uint8_t pt[65], want[65] = {0x04};
		size_t n = 0;
		uint16_t xs = p->unique.ecc.x.size, ys = p->unique.ecc.y.size;

		if (xs > 32 || ys > 32 ||
		    !EVP_PKEY_get_octet_string_param(
			    pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
			    sizeof(pt), &n) ||
		    n != 65)
			return false;
		memcpy(want + 1 + 32 - xs, p->unique.ecc.x.buffer, xs);
		memcpy(want + 33 + 32 - ys, p->unique.ecc.y.buffer, ys);
		return !memcmp(pt, want, 65);
	}
	return false;
}

/* Finds the EK (RSA first), checks its certificate against the CA and
 * its key against the persistent EK.  *ek_key gets the certified key
 * (what MakeCredential encrypts to) when the chain holds. */
static void check_ek(struct tpm *m, const char *ca_path, unsigned which,
		     struct report *r, EVP_PKEY **ek_key)
{
	static const struct {
		uint32_t handle, nv;
		const char *what;
	} ek[] = {
		{EK_RSA_HANDLE, EK_RSA_CERT_NV, "RSA"},
		{EK_ECC_HANDLE, EK_ECC_CERT_NV, "ECC"},
	};
	uint8_t der[EK_CERT_MAX];
	size_t der_len = 0;
	char why[512] = "", first[512] = "";
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *cert = NULL;
	const unsigned char *dp;
	EVP_PKEY *pkey;
	unsigned i;
	TSS2_RC rc;

	for (i = 0; i < 2; i++) {
		if (!(which & (1u << i)))
			continue;
		if (nv_read(m, ek[i].nv, der, &der_len, why, sizeof(why)) == 0)
			break;
		if (!first[0])
			snprintf(first, sizeof(first), "%s", why);
	}
	if (i == 2) {
		set(r, CHK_EK, V_FAIL, "no EK certificate: %s%s%s", first,
		    strcmp(first, why) ? "; " : "", strcmp(first, why) ? why : "");
		return;
	}
	rc = Esys_TR_FromTPMPublic(m->esys, ek[i].handle, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, &m->ek);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_ReadPublic(m->esys, m->ek, ESYS_TR_NONE,
				     ESYS_TR_NONE, ESYS_TR_NONE, &m->ek_pub,
				     NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		if (m->ek != ESYS_TR_NONE)
			Esys_TR_Close(m->esys, &m->ek);
		m->ek = ESYS_TR_NONE;
		set(r, CHK_EK, V_FAIL, "no %s EK at 0x%08x: %s", ek[i].what,
		    ek[i].handle, Tss2_RC_Decode(rc));
		return;
	}
	m->ek_type = m->ek_pub->publicArea.type;
	dp = der;
	cert = d2i_X509(NULL, &dp, (long)der_len);
	/* NV indices are rounded up by some provisioners: zeros may follow
	 * the certificate, nothing else. */
	for (const unsigned char *z = dp; cert && z < der + der_len; z++)
		if (*z) {
			X509_free(cert);
			cert = NULL;
		}
	if (!cert) {
		set(r, CHK_EK, V_FAIL,
		    "NV 0x%08x does not hold a DER certificate", ek[i].nv);
		return;
	}
	load_ca_store(ca_path, &store, why, sizeof(why));
	if (!store) {
		set(r, CHK_EK, V_FAIL, "%s", why);
		goto out;
	}
	ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, store, cert, NULL)) {
		set(r, CHK_EK, V_FAIL, "OpenSSL: cannot verify");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		set(r, CHK_EK, V_FAIL, "%s EK certificate (NV 0x%08x) does not "
				       "chain to %s: %s",
		    ek[i].what, ek[i].nv, ca_path,
		    X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	pkey = X509_get0_pubkey(cert);
	if (!pkey || !same_key(m->ek_pub, pkey)) {
		set(r, CHK_EK, V_FAIL,
		    "the certificate's key is not the EK at 0x%08x", ek[i].handle);
		goto out;
	}
	EVP_PKEY_up_ref(pkey);
	*ek_key = pkey;
	set(r, CHK_EK, V_OK, "%s EK 0x%08x, certificate NV 0x%08x, issued by %s",
	    ek[i].what, ek[i].handle, ek[i].nv, ca_path);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cert);
}

/* ------------------------------------------------------------ AK */

static int create_ak(struct tpm *m, char *why, size_t why_len)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC tmpl = {0};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TPMT_PUBLIC *p = &tmpl.publicArea;
	TSS2_RC rc;

	p->type = TPM2_ALG_ECC;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			      TPMA_OBJECT_SENSITIVEDATAORIGIN |
			      TPMA_OBJECT_USERWITHAUTH |
			      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	rc = Esys_CreatePrimary(m->esys, ESYS_TR_RH_ENDORSEMENT,
				ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&sens, &tmpl, &outside, &none, &m->ak,
				&m->ak_pub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		m->ak = ESYS_TR_NONE;
		snprintf(why, why_len, "creating the AK: %s",
			 Tss2_RC_Decode(rc));
		return -1;
	}
	return 0;
}

/* SP 800-108 counter-mode KDF with HMAC-SHA256, as TPM 2.0 Part 1 §11.4.10.2
 * (KDFa): the label with its NUL, then contextU, contextV, bits. */
static bool kdfa(const uint8_t *key, size_t key_len, const char *label,
		 const uint8_t *u, size_t ulen, uint8_t *out, size_t out_len)
{
	uint8_t bits[4], ctr[4], md[32];
	uint32_t b = (uint32_t)out_len * 8;
	unsigned mdl;

	bits[0] = (uint8_t)(b >> 24), bits[1] = (uint8_t)(b >> 16);
	bits[2] = (uint8_t)(b >> 8), bits[3] = (uint8_t)b;
	uint8_t msg[4 + 16 + ATT_NAME_MAX + 4];
	size_t ll = strlen(label) + 1, ml;

	if (ll > 16 || ulen > ATT_NAME_MAX)
		return false;
	for (uint32_t i = 1, off = 0; off < out_len; i++) {
		ctr[0] = (uint8_t)(i >> 24), ctr[1] = (uint8_t)(i >> 16);
		ctr[2] = (uint8_t)(i >> 8), ctr[3] = (uint8_t)i;
		memcpy(msg, ctr, 4);
		memcpy(msg + 4, label, ll);
		if (ulen)
			memcpy(msg + 4 + ll, u, ulen);
		memcpy(msg + 4 + ll + ulen, bits, 4);
		ml = 4 + ll + ulen + 4;
		if (!HMAC(EVP_sha256(), key, (int)key_len, msg, ml, md, &mdl) ||
		    mdl != 32)
			return false;
		memcpy(out + off, md, out_len - off < 32 ? out_len - off : 32);
		off += 32;
	}
	return true;
}

/* The seed and its encryption to the EK: RSA-OAEP(SHA-256, "IDENTITY")
 * of a random seed, or for an ECC EK an ephemeral ECDH whose KDFe gives
 * the seed (Part 1 §11.4.10.3, Part 1 Annex C/D). */
static bool make_seed(EVP_PKEY *ek, uint8_t seed[32], TPM2B_ENCRYPTED_SECRET *s)
{
	EVP_PKEY_CTX *c = NULL;
	EVP_PKEY *eph = NULL;
	bool ok = false;

	if (EVP_PKEY_base_id(ek) == EVP_PKEY_RSA) {
		size_t n = sizeof(s->secret);
		unsigned char *label = OPENSSL_malloc(9);

		if (!label || getrandom(seed, 32, 0) != 32) {
			OPENSSL_free(label);
			return false;
		}
		memcpy(label, "IDENTITY", 9);
		c = EVP_PKEY_CTX_new(ek, NULL);
		if (!c || EVP_PKEY_encrypt_init(c) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set0_rsa_oaep_label(c, label, 9) <= 0) {
			OPENSSL_free(label);
			goto out;
		}
		ok = EVP_PKEY_encrypt(c, s->secret, &n, seed, 32) > 0;
		s->size = (uint16_t)n;
	} else {
		uint8_t z[32], qe[65], qs[65], md[32];
		size_t zl = sizeof(z), ql = 0, sl = 0, off = 0;
		EVP_MD_CTX *h;
		unsigned mdl;

		eph = EVP_EC_gen("P-256");
		if (!eph ||
		    !EVP_PKEY_get_octet_string_param(
			    eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, qe,
			    sizeof(qe), &ql) ||
		    !EVP_PKEY_get_octet_string_param(
			    ek, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, qs,
			    sizeof(qs), &sl) ||
		    ql != 65 || sl != 65)
			goto out;
		c = EVP_PKEY_CTX_new(eph, NULL);
		if (!c || EVP_PKEY_derive_init(c) <= 0 ||
		    EVP_PKEY_derive_set_peer(c, ek) <= 0 ||
		    EVP_PKEY_derive(c, z, &zl) <= 0 || zl != 32)
			goto out;
		/* KDFe: H(counter 1 || Z || "IDENTITY\0" || Qe.x || Qs.x) */
		h = EVP_MD_CTX_new();
		ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) &&
		     EVP_DigestUpdate(h, "\0\0\0\1", 4) &&
		     EVP_DigestUpdate(h, z, 32) &&
		     EVP_DigestUpdate(h, "IDENTITY", 9) &&
		     EVP_DigestUpdate(h, qe + 1, 32) &&
		     EVP_DigestUpdate(h, qs + 1, 32) &&
		     EVP_DigestFinal_ex(h, md, &mdl);
		EVP_MD_CTX_free(h);
		if (!ok)
			goto out;
		memcpy(seed, md, 32);
		/* secret = TPMS_ECC_POINT of the ephemeral key, marshalled */
		for (int k = 0; k < 2; k++) {
			s->secret[off++] = 0;
			s->secret[off++] = 32;
			memcpy(s->secret + off, qe + 1 + 32 * k, 32);
			off += 32;
		}
		s->size = (uint16_t)off;
	}
out:
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(eph);
	return ok;
}

/* MakeCredential in software (Part 1 §24): the credential, protected to
 * the certified EK for the AK's Name. */
static bool make_credential(EVP_PKEY *ek, unsigned aes_bits,
			    const uint8_t *name, size_t name_len,
			    const uint8_t cred[32], TPM2B_ID_OBJECT *blob,
			    TPM2B_ENCRYPTED_SECRET *secret)
{
	uint8_t seed[32], sym[32], hkey[32], iv[16] = {0}, plain[34], enc[34];
	uint8_t hmac[32], hmsg[sizeof(enc) + ATT_NAME_MAX];
	unsigned hl = 0;
	int outl = 0;
	EVP_CIPHER_CTX *c;
	bool ok;

	if (!make_seed(ek, seed, secret) ||
	    !kdfa(seed, 32, "STORAGE", name, name_len, sym, aes_bits / 8) ||
	    !kdfa(seed, 32, "INTEGRITY", NULL, 0, hkey, 32))
		return false;
	plain[0] = 0;
	plain[1] = 32;
	memcpy(plain + 2, cred, 32);
	c = EVP_CIPHER_CTX_new();
	ok = c &&
	     EVP_EncryptInit_ex(c,
				aes_bits == 256 ? EVP_aes_256_cfb128()
						: EVP_aes_128_cfb128(),
				NULL, sym, iv) &&
	     EVP_EncryptUpdate(c, enc, &outl, plain, sizeof(plain)) &&
	     outl == (int)sizeof(plain);
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return false;
	if (name_len > ATT_NAME_MAX)
		return false;
	memcpy(hmsg, enc, sizeof(enc));
	memcpy(hmsg + sizeof(enc), name, name_len);
	ok = HMAC(EVP_sha256(), hkey, 32, hmsg, sizeof(enc) + name_len, hmac,
		  &hl) != NULL;
	if (!ok || hl != 32)
		return false;
	/* TPM2B_ID_OBJECT: TPM2B_DIGEST integrityHMAC || encIdentity */
	blob->credential[0] = 0;
	blob->credential[1] = 32;
	memcpy(blob->credential + 2, hmac, 32);
	memcpy(blob->credential + 34, enc, sizeof(enc));
	blob->size = 34 + sizeof(enc);
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(sym, sizeof(sym));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	return true;
}

/* The EK's policy: PolicySecret(TPM_RH_ENDORSEMENT). */
static TSS2_RC ek_session(struct tpm *m)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
	TPM2B_NONCE nonce = {0};
	TPM2B_DIGEST cp = {0};
	TPM2B_NONCE ref = {0};
	TSS2_RC rc;

	rc = Esys_StartAuthSession(m->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256,
				   &m->session);
	if (rc != TSS2_RC_SUCCESS) {
		m->session = ESYS_TR_NONE;
		return rc;
	}
	return Esys_PolicySecret(m->esys, ESYS_TR_RH_ENDORSEMENT, m->session,
				 ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				 &nonce, &cp, &ref, 0, NULL,
				 NULL);
}

static void bind_ak(struct tpm *m, EVP_PKEY *ek_key, const struct att_ak *ak,
		    struct report *r)
{
	TPM2B_ID_OBJECT blob = {0};
	TPM2B_ENCRYPTED_SECRET secret = {0};
	TPM2B_DIGEST *got = NULL;
	uint8_t cred[32];
	unsigned aes_bits;
	TSS2_RC rc;

	if (!ek_key) {
		set(r, CHK_AK, V_FAIL, "no certified EK to bind the AK to");
		return;
	}
	aes_bits = m->ek_type == TPM2_ALG_RSA
			   ? m->ek_pub->publicArea.parameters.rsaDetail
				     .symmetric.keyBits.aes
			   : m->ek_pub->publicArea.parameters.eccDetail
				     .symmetric.keyBits.aes;
	if ((aes_bits != 128 && aes_bits != 256) ||
	    m->ek_pub->publicArea.nameAlg != TPM2_ALG_SHA256) {
		set(r, CHK_AK, V_FAIL,
		    "the EK is not a SHA-256/AES storage key (template)");
		return;
	}
	if (getrandom(cred, sizeof(cred), 0) != (ssize_t)sizeof(cred) ||
	    !make_credential(ek_key, aes_bits, ak->name, ak->name_len, cred,
			     &blob, &secret)) {
		set(r, CHK_AK, V_FAIL, "MakeCredential failed (OpenSSL)");
		return;
	}
	rc = ek_session(m);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_ActivateCredential(m->esys, m->ak, m->ek,
					     ESYS_TR_PASSWORD, m->session,
					     ESYS_TR_NONE, &blob, &secret, &got);
	if (m->session != ESYS_TR_NONE) {
		/* Used up or not: a policy session is one use here. */
		Esys_FlushContext(m->esys, m->session);
		m->session = ESYS_TR_NONE;
	}
	if (rc != TSS2_RC_SUCCESS) {
		set(r, CHK_AK, V_FAIL, "ActivateCredential: %s",
		    Tss2_RC_Decode(rc));
		return;
	}
	if (got->size != sizeof(cred) ||
	    CRYPTO_memcmp(got->buffer, cred, sizeof(cred)))
		set(r, CHK_AK, V_FAIL,
		    "ActivateCredential returned another secret");
	else
		set(r, CHK_AK, V_OK,
		    "ECC P-256 AK activated a credential made for the EK");
	Esys_Free(got);
}

/* ------------------------------------------------------------ quote */

struct quote {
	uint8_t attest[sizeof(TPMS_ATTEST) + 8];
	size_t attest_len;
	uint8_t sig[sizeof(TPMT_SIGNATURE) + 8];
	size_t sig_len;
	uint8_t akpub[sizeof(TPM2B_PUBLIC) + 8];
	size_t akpub_len;
	struct att_pcr_sel sel[MB_MAX_BANKS];
	unsigned nsel;
};

static int do_quote(struct tpm *m, const uint8_t *nonce, struct quote *q,
		    char *why, size_t why_len)
{
	TPM2B_DATA qd = {.size = ATT_NONCE_LEN};
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
	TPML_PCR_SELECTION sel = {0};
	TPM2B_ATTEST *att = NULL;
	TPMT_SIGNATURE *sig = NULL;
	TSS2_RC rc = 0;
	size_t off;

	memcpy(qd.buffer, nonce, ATT_NONCE_LEN);
	sel.count = q->nsel;
	for (unsigned i = 0; i < q->nsel; i++) {
		sel.pcrSelections[i].hash = q->sel[i].hash;
		sel.pcrSelections[i].sizeofSelect = 3;
		sel.pcrSelections[i].pcrSelect[0] = (uint8_t)q->sel[i].mask;
		sel.pcrSelections[i].pcrSelect[1] =
			(uint8_t)(q->sel[i].mask >> 8);
		sel.pcrSelections[i].pcrSelect[2] =
			(uint8_t)(q->sel[i].mask >> 16);
	}
	/* libtpms answers the first ECDSA quote after a key's creation with
	 * TPM_RC_RETRY: send it again. */
	for (int i = 0; i < QUOTE_TRIES; i++) {
		rc = Esys_Quote(m->esys, m->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &qd, &scheme, &sel, &att, &sig);
		if (!is_retry(rc))
			break;
	}
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, why_len, "TPM2_Quote: %s", Tss2_RC_Decode(rc));
		return -1;
	}
	memcpy(q->attest, att->attestationData, att->size);
	q->attest_len = att->size;
	off = 0;
	rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, q->sig, sizeof(q->sig), &off);
	q->sig_len = off;
	Esys_Free(att);
	Esys_Free(sig);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(why, why_len, "marshalling the signature failed");
		return -1;
	}
	return 0;
}

/* For a replay that does not match: which PCRs the TPM has otherwise
 * (read now, unauthenticated: a hint for the report, nothing more). */
static void pcr_hint(struct tpm *m, const struct quote *q,
		     const struct mb_pcrs *replay, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned b = 0; b < q->nsel; b++) {
		const struct mb_pcr_bank *rb = mb_pcrs_bank(replay, q->sel[b].hash);
		uint32_t todo = q->sel[b].mask;

		while (todo && rb) {
			TPML_PCR_SELECTION sel = {.count = 1};
			TPML_PCR_SELECTION *got_sel = NULL;
			TPML_DIGEST *vals = NULL;
			unsigned k = 0;

			sel.pcrSelections[0].hash = q->sel[b].hash;
			sel.pcrSelections[0].sizeofSelect = 3;
			sel.pcrSelections[0].pcrSelect[0] = (uint8_t)todo;
			sel.pcrSelections[0].pcrSelect[1] = (uint8_t)(todo >> 8);
			sel.pcrSelections[0].pcrSelect[2] = (uint8_t)(todo >> 16);
			if (Esys_PCR_Read(m->esys, ESYS_TR_NONE, ESYS_TR_NONE,
					  ESYS_TR_NONE, &sel, NULL, &got_sel,
					  &vals) != TSS2_RC_SUCCESS)
				return;
			for (unsigned pcr = 0; pcr < MB_PCR_COUNT; pcr++) {
				const TPMS_PCR_SELECTION *s =
					&got_sel->pcrSelections[0];

				if (!got_sel->count ||
				    !(s->pcrSelect[pcr / 8] & (1u << pcr % 8)))
					continue;
				todo &= ~(1u << pcr);
				if (k >= vals->count)
					break;
				if (vals->digests[k].size == rb->size &&
				    memcmp(vals->digests[k].buffer,
					   rb->pcr[pcr], rb->size) &&
				    n + 48 < len)
					n += (size_t)snprintf(
						out + n, len - n, "%sPCR %u %s",
						n ? ", " : "", pcr,
						q->sel[b].hash == MB_ALG_SHA1
							? "sha1"
						: q->sel[b].hash ==
								MB_ALG_SHA256
							? "sha256"
						: q->sel[b].hash ==
								MB_ALG_SHA384
							? "sha384"
							: "sha512");
				k++;
			}
			Esys_Free(got_sel);
			Esys_Free(vals);
			if (!k)
				break;
		}
	}
}

/* ------------------------------------------------------------ --save */

static int save_files(const char *dir, const struct quote *q,
		      const struct att_ak *ak, const uint8_t *nonce,
		      const struct mb_pcrs *pcrs)
{
	char path[PATH_MAX], hex[2 * ATT_NONCE_LEN + 2], why[256];
	uint8_t *ser = NULL;
	size_t ser_len = 0;
	int e = 0, ret = -1;
	FILE *f;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		hvt_err("--save %s: %s", dir, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < ATT_NONCE_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", nonce[i]);
	hex[2 * ATT_NONCE_LEN] = '\n';
	if (att_pcrs_serialize(q->sel, q->nsel, pcrs, &ser, &ser_len, why,
			       sizeof(why)) != ATT_OK) {
		hvt_err("--save: quote.pcrs: %s", why);
		return -1;
	}
	{
		/* tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig
		 *   -f quote.pcrs -q $(cat nonce.hex) */
		const struct {
			const char *name;
			const void *data;
			size_t len;
		} files[] = {
			{"ak.pub", q->akpub, q->akpub_len},
			{"quote.msg", q->attest, q->attest_len},
			{"quote.sig", q->sig, q->sig_len},
			{"quote.pcrs", ser, ser_len},
			{"nonce.hex", hex, 2 * ATT_NONCE_LEN + 1},
		};

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 files[i].name);
			e = write_file(path, files[i].data, files[i].len, 0644);
			if (e) {
				hvt_err("%s: %s", path, strerror(-e));
				goto out;
			}
		}
	}
	snprintf(path, sizeof(path), "%s/ak.pem", dir);
	f = fopen(path, "w");
	if (!f || !PEM_write_PUBKEY(f, ak->pkey)) {
		hvt_err("%s: cannot write", path);
		if (f)
			fclose(f);
		goto out;
	}
	if (fclose(f)) {
		hvt_err("%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(ser);
	return ret;
}

/* ------------------------------------------------------------ golden */

/* Sorts att_golden_compare's lines onto the report's golden lines. */
static void golden_lines(const struct att_golden *g,
			 const struct att_report *ar, struct report *r)
{
	static const struct {
		const char *prefix;
		enum chk c;
	} map[] = {
		{"kernel", CHK_KERNEL},	  {"initrd", CHK_INITRD},
		{"cmdline", CHK_CMDLINE}, {"pcr", CHK_PCRS},
	};

	for (size_t i = 0; i < ar->n; i++) {
		enum chk c = CHK_KERNEL; /* "log: ..." (layout) */

		for (size_t k = 0; k < 4; k++)
			if (!strncmp(ar->lines[i], map[k].prefix,
				     strlen(map[k].prefix)))
				c = map[k].c;
		set(r, c, V_FAIL, "%s", ar->lines[i]);
	}
	if (r->l[CHK_KERNEL].v == V_UNSET)
		set(r, CHK_KERNEL, g->kernel.n ? V_OK : V_SKIP,
		    g->kernel.n ? "as golden" : "not in the golden file");
	if (r->l[CHK_INITRD].v == V_UNSET)
		set(r, CHK_INITRD,
		    g->initrd.n || g->initrd_none ? V_OK : V_SKIP,
		    g->initrd_none	 ? "none, as golden"
		    : g->initrd.n ? "as golden"
				  : "not in the golden file");
	if (r->l[CHK_CMDLINE].v == V_UNSET)
		set(r, CHK_CMDLINE, g->cmdline ? V_OK : V_SKIP,
		    g->cmdline ? "as golden" : "not in the golden file");
	if (r->l[CHK_PCRS].v == V_UNSET)
		set(r, CHK_PCRS, g->pcrs.nbanks ? V_OK : V_SKIP,
		    g->pcrs.nbanks ? "as golden" : "not in the golden file");
}

/* ------------------------------------------------------------ attest */

/* ------------------------------------------------------ deep quote */

/* The instance uuid of a guest's vTPM devid: the toolstack's record
 * (manager mode) or its state directory's name. */
static bool vtpm_uuid(struct hvt *t, uint32_t domid, unsigned devid,
		      char uuid[37])
{
	struct hvt_vtpm_recs recs;
	const char *slash;

	if (hvt_vtpm_records(t, domid, &recs))
		return false;
	for (size_t i = 0; i < recs.n; i++) {
		const struct hvt_vtpm_rec *rec = &recs.rec[i];

		if (rec->devid != devid)
			continue;
		if (hvt_uuid_valid(rec->uuid)) {
			snprintf(uuid, 37, "%s", rec->uuid);
			return true;
		}
		slash = strrchr(rec->dir, '/');
		if (slash && hvt_uuid_valid(slash + 1)) {
			snprintf(uuid, 37, "%s", slash + 1);
			return true;
		}
	}
	return false;
}

static bool uuid_bytes(const char *s, struct mgr_uuid *u)
{
	unsigned n = 0;

	for (; *s && n < 32; s++) {
		unsigned v;

		if (*s == '-')
			continue;
		v = *s <= '9' ? (unsigned)(*s - '0')
			      : (unsigned)((*s | 0x20) - 'a' + 10);
		u->b[n / 2] = (uint8_t)(n % 2 ? u->b[n / 2] | v : v << 4);
		n++;
	}
	return n == 32;
}

/* The pin file: 0 read, -ENOENT absent, else -errno / -EBADMSG (why). */
static int pin_load(const char *path, struct att_deep_pin *pin, char *why,
		    size_t why_len)
{
	char text[ATT_PIN_MAX + 1];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (att_deep_pin_parse(text, n, pin, why, why_len) != ATT_OK)
		return -EBADMSG;
	return 0;
}

static int pin_save(const char *path, const struct att_deep_pin *pin)
{
	char text[ATT_PIN_MAX], tmp[PATH_MAX];
	size_t n = att_deep_pin_format(pin, text, sizeof(text));
	int fd, rc = 0;

	if (!n || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -EINVAL;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n || fsync(fd) < 0)
		rc = -EIO;
	close(fd);
	/* link(2) refuses to replace: a pin appearing meanwhile wins. */
	if (!rc && link(tmp, path) < 0)
		rc = -errno;
	unlink(tmp);
	return rc;
}

static void deep_check(struct hvt *t, const struct hv_ctl_domain_info *info,
		       unsigned devid, const TPM2B_PUBLIC *ek_pub,
		       const char *pin_opt, struct report *r)
{
	uint8_t ek[MGR_EK_PUBLIC_MAX], nonce[ATT_NONCE_LEN], *buf = NULL;
	char uuid[37], pin_path[PATH_MAX], why[512], pcrs[80];
	struct mgr_rsp *rsp = NULL;
	struct att_deep_result res;
	struct att_deep_pin pin, seen;
	struct mgr_req req;
	struct hvt_mgr mg;
	uint32_t mask;
	size_t ek_len = 0, off;
	enum att_err e;
	int rc;

	if (!ek_pub ||
	    Tss2_MU_TPM2B_PUBLIC_Marshal(ek_pub, ek, sizeof(ek), &ek_len) !=
		    TSS2_RC_SUCCESS) {
		set(r, CHK_DEEP, V_FAIL,
		    "not asked: the vTPM's EK public area could not be read");
		return;
	}
	if (!vtpm_uuid(t, info->domid, devid, uuid)) {
		set(r, CHK_DEEP, V_FAIL,
		    "not asked: vTPM %u of %s has no instance uuid", devid,
		    info->name);
		return;
	}
	rc = hvt_mgr_find(t, &mg);
	if (rc) {
		set(r, CHK_DEEP, V_FAIL, "not asked: %s",
		    rc == 1 ? "no vTPM manager is running"
			    : "the vTPM manager cannot be reached");
		return;
	}
	rsp = calloc(1, sizeof(*rsp));
	buf = malloc(MGR_CTL_MSG_MAX);
	if (!rsp || !buf ||
	    getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
		set(r, CHK_DEEP, V_FAIL, "out of memory or randomness");
		goto out;
	}
	/* The PCRs the manager's root key is sealed to: its platform state. */
	memset(&req, 0, sizeof(req));
	req.op = MGR_CTL_STATUS;
	if (hvt_mgr_call(&mg, &req, rsp, buf) || rsp->rc != MGR_RC_OK) {
		set(r, CHK_DEEP, V_FAIL, "manager STATUS failed%s%s",
		    rsp->rc ? ": " : "", rsp->rc ? rsp->msg : "");
		goto out;
	}
	mask = rsp->u.status.pcr_mask ? rsp->u.status.pcr_mask
				      : MGR_PCRS_DEFAULT;
	memset(&req, 0, sizeof(req));
	req.op = MGR_CTL_DEEP_QUOTE;
	uuid_bytes(uuid, &req.u.deep_quote.uuid);
	req.u.deep_quote.ek_public =
		(struct mgr_blob_ref){ek, (uint32_t)ek_len};
	memcpy(req.u.deep_quote.nonce, nonce, sizeof(nonce));
	req.u.deep_quote.nonce_len = sizeof(nonce);
	req.u.deep_quote.pcr_mask = mask;
	if (hvt_mgr_call(&mg, &req, rsp, buf)) {
		set(r, CHK_DEEP, V_FAIL, "the manager did not answer DEEP_QUOTE");
		goto out;
	}
	if (rsp->rc != MGR_RC_OK) {
		set(r, CHK_DEEP, V_FAIL, "the manager refused: %s: %s",
		    mgr_rc_str(rsp->rc), rsp->msg);
		goto out;
	}
	e = att_deep_verify(rsp->u.deep_quote.ak_public.data,
			    rsp->u.deep_quote.ak_public.len,
			    rsp->u.deep_quote.attest.data,
			    rsp->u.deep_quote.attest.len,
			    rsp->u.deep_quote.sig.data,
			    rsp->u.deep_quote.sig.len, ek, ek_len,
			    &req.u.deep_quote.uuid, nonce, sizeof(nonce), mask,
			    &res, why, sizeof(why));
	if (e) {
		set(r, CHK_DEEP, V_FAIL, "platform quote refused: %s", why);
		goto out;
	}
	off = 0;
	for (unsigned i = 0; i < MGR_PCR_MAX; i++)
		if (mask & (1u << i) && off < sizeof(pcrs))
			off += (size_t)snprintf(pcrs + off, sizeof(pcrs) - off,
						"%s%u", off ? "," : "", i);
	if (pin_opt && *pin_opt) {
		snprintf(pin_path, sizeof(pin_path), "%s", pin_opt);
	} else {
		char base[PATH_MAX - 32];

		hvt_vtpm_state_base(t, base, sizeof(base));
		snprintf(pin_path, sizeof(pin_path), "%s/platform-pin", base);
	}
	att_deep_pin_from(&res, mask, &seen);
	rc = pin_load(pin_path, &pin, why, sizeof(why));
	if (rc == -ENOENT) {
		rc = pin_save(pin_path, &seen);
		if (rc)
			set(r, CHK_DEEP, V_FAIL,
			    "verified, but the pin %s cannot be written: %s",
			    pin_path, strerror(-rc));
		else
			set(r, CHK_DEEP, V_OK,
			    "platform quote binds EK+uuid %s, sha256 PCRs %s; "
			    "AK and PCR digest recorded in %s (trust on first "
			    "use)",
			    uuid, pcrs, pin_path);
		goto out;
	}
	if (rc) {
		set(r, CHK_DEEP, V_FAIL, "pin %s: %s", pin_path,
		    rc == -EBADMSG ? why : strerror(-rc));
		goto out;
	}
	if (att_deep_pin_check(&pin, &res, mask, why, sizeof(why)) != ATT_OK) {
		set(r, CHK_DEEP, V_FAIL, "%s (pin %s)", why, pin_path);
		goto out;
	}
	set(r, CHK_DEEP, V_OK,
	    "platform quote binds EK+uuid %s; AK and sha256 PCRs %s digest "
	    "match the pin %s",
	    uuid, pcrs, pin_path);
out:
	free(buf);
	free(rsp);
}

static int print_report(struct hvt *t, const char *name, struct report *r,
			int nchk)
{
	bool all = true;

	for (int c = 0; c < nchk; c++) {
		if (r->l[c].v == V_UNSET)
			set(r, c, V_FAIL, "not checked");
		if (r->l[c].v == V_FAIL)
			all = false;
	}
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "domain", name);
		hvt_json_kbool(&j, "ok", all);
		hvt_json_key(&j, "checks");
		hvt_json_arr(&j);
		for (int c = 0; c < nchk; c++) {
			hvt_json_obj(&j);
			hvt_json_kstr(&j, "check", chk_name[c]);
			hvt_json_kstr(&j, "result", vword(r->l[c].v));
			hvt_json_kstr(&j, "detail", r->l[c].text);
			hvt_json_obj_end(&j);
		}
		hvt_json_arr_end(&j);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
	} else {
		for (int c = 0; c < nchk; c++)
			printf("%-18s %-4s %s\n", chk_name[c], vword(r->l[c].v),
			       r->l[c].text);
		printf("attestation of %s: %s\n", name,
		       all ? "OK" : "FAILED");
	}
	return all ? HVT_OK : HVT_NO;
}

int hvt_cmd_vtpm_attest(struct hvt *t, const struct hvt_args *a)
{
	const char *golden_path = hvt_opt(a, "golden");
	const char *save = hvt_opt(a, "save");
	const char *ca_opt = hvt_opt(a, "ca");
	const char *ek_opt = hvt_opt(a, "ek");
	const char *pin_opt = hvt_opt(a, "platform-ak");
	bool deep = hvt_opt(a, "deep") != NULL;
	unsigned ek_which;
	char ca[PATH_MAX];
	struct hv_ctl_domain_info info;
	struct tpm m = {0};
	struct report r;
	struct att_golden g;
	struct att_ak ak = {0};
	struct att_quote aq;
	struct mb_parsed p = {0};
	struct mb_pcrs replay = {0};
	struct quote *q = NULL;
	struct xs_handle *xs;
	EVP_PKEY *ek_key = NULL;
	uint8_t nonce[ATT_NONCE_LEN], *log = NULL;
	size_t log_len = 0;
	char why[1024], tcti[96];
	bool log_ok = false, quote_ok = false;
	unsigned devid;
	enum att_err ae;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!getenv("TSS2_LOG"))
		setenv("TSS2_LOG", "all+none", 1);
	if (!golden_path)
		return hvt_usage(a->cmd, "--golden FILE is required");
	rc = parse_devid(a, &devid);
	if (rc)
		return rc;
	if (ek_opt && strcmp(ek_opt, "rsa") && strcmp(ek_opt, "ecc"))
		return hvt_usage(a->cmd, "--ek: '%s' is not rsa or ecc", ek_opt);
	ek_which = !ek_opt ? 3u : !strcmp(ek_opt, "rsa") ? 1u : 2u;
	if (ca_opt && *ca_opt)
		snprintf(ca, sizeof(ca), "%s", ca_opt);
	else
		hvt_ca_path(t, ca, sizeof(ca));
	if (att_golden_load(golden_path, &g, why, sizeof(why)) != ATT_OK) {
		hvt_err("%s", why);
		return HVT_USAGE;
	}
	rc = hvt_domain_lookup(t, a->pos[0], &info);
	if (rc)
		goto out_golden;
	xs = hvt_xs_connect(t);
	if (!xs) {
		rc = HVT_DAEMON;
		goto out_golden;
	}
	if (!read_tcti(xs, info.domid, tcti, sizeof(tcti))) {
		xs_close(xs);
		hvt_err("%s is not serving its vTPM (no valid "
			"data/tpmfront/mssim-port): is hvsec-tpmfront running "
			"in it?",
			info.name);
		rc = HVT_DAEMON;
		goto out_golden;
	}
	/* A vTPM served by the manager has its EK certified by the
	 * manager's CA, not by dom0's: ask the manager for it (--ca still
	 * wins, e.g. for a vTPM imported from another manager). */
	if (!(ca_opt && *ca_opt)) {
		char path[96], val[16];

		snprintf(path, sizeof(path), "/libxl/%u/device/vtpm/%u/manager",
			 (unsigned)info.domid, devid);
		if (hvt_xs_get(xs, path, val, sizeof(val))) {
			rc = hvt_mgr_ca_save(t, ca, sizeof(ca));
			if (rc) {
				if (rc == 1)
					hvt_err("%s's vTPM is served by a "
						"vTPM manager, which is not "
						"running: give --ca",
						info.name);
				xs_close(xs);
				rc = HVT_DAEMON;
				goto out_golden;
			}
		}
	}
	rc = read_log(xs, info.domid, devid, &log, &log_len, why, sizeof(why));
	xs_close(xs);
	if (rc < 0) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out_golden;
	}
	if (rc == 0) {
		if (mb_log_parse(log, log_len, &p, why, sizeof(why)) != MB_OK)
			set(&r, CHK_REPLAY, V_FAIL, "the event log is refused: %s",
			    why);
		else if (mb_log_replay(&p, &replay) != MB_OK)
			set(&r, CHK_REPLAY, V_FAIL, "the event log does not "
						    "replay");
		else
			log_ok = true;
	} else {
		set(&r, CHK_REPLAY, V_FAIL, "%s", why);
	}

	q = calloc(1, sizeof(*q));
	if (!q || getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
		hvt_err("%s", q ? "getrandom failed" : "out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	if (tpm_open(&m, tcti, why, sizeof(why))) {
		hvt_err("%s's vTPM: %s", info.name, why);
		rc = HVT_DAEMON;
		goto out;
	}
	check_ek(&m, ca, ek_which, &r, &ek_key);
	if (deep)
		deep_check(t, &info, devid, m.ek_pub, pin_opt, &r);

	if (create_ak(&m, why, sizeof(why))) {
		set(&r, CHK_AK, V_FAIL, "%s", why);
		set(&r, CHK_SIG, V_FAIL, "no AK");
		goto report;
	}
	{
		size_t off = 0;

		if (Tss2_MU_TPM2B_PUBLIC_Marshal(m.ak_pub, q->akpub,
						 sizeof(q->akpub),
						 &off) != TSS2_RC_SUCCESS ||
		    att_ak_load(&ak, q->akpub, off, why, sizeof(why)) !=
			    ATT_OK) {
			set(&r, CHK_AK, V_FAIL, "the AK: %s", why);
			set(&r, CHK_SIG, V_FAIL, "no usable AK");
			goto report;
		}
		q->akpub_len = off;
	}
	bind_ak(&m, ek_key, &ak, &r);

	/* PCRs 0-9 in every bank the log lists (sha256 without a log). */
	if (log_ok) {
		q->nsel = p.hdr.nalgs;
		for (unsigned i = 0; i < p.hdr.nalgs; i++)
			q->sel[i] = (struct att_pcr_sel){p.hdr.algs[i],
							 ATT_QUOTE_PCRS};
	} else {
		q->nsel = 1;
		q->sel[0] = (struct att_pcr_sel){MB_ALG_SHA256, ATT_QUOTE_PCRS};
	}
	if (do_quote(&m, nonce, q, why, sizeof(why))) {
		set(&r, CHK_SIG, V_FAIL, "%s", why);
		goto report;
	}
	ae = att_quote_verify(&ak, q->attest, q->attest_len, q->sig, q->sig_len,
			      nonce, sizeof(nonce), &replay,
			      &aq, why, sizeof(why));
	switch (ae) {
	case ATT_OK:
		set(&r, CHK_SIG, V_OK, "ECDSA P-256 SHA-256 by the AK");
		set(&r, CHK_NONCE, V_OK, "fresh %u bytes", ATT_NONCE_LEN);
		set(&r, CHK_REPLAY, V_OK, "%zu events, PCRs 0-9 in %u bank%s",
		    p.nevents, q->nsel, q->nsel == 1 ? "" : "s");
		quote_ok = true;
		break;
	case ATT_E_NONCE:
		set(&r, CHK_SIG, V_OK, "ECDSA P-256 SHA-256 by the AK");
		set(&r, CHK_NONCE, V_FAIL, "%s", why);
		break;
	case ATT_E_PCR_SELECT:
	case ATT_E_PCR_DIGEST:
	case ATT_E_INVAL: /* no replayed values (no log) */
		set(&r, CHK_SIG, V_OK, "ECDSA P-256 SHA-256 by the AK");
		set(&r, CHK_NONCE, V_OK, "fresh %u bytes", ATT_NONCE_LEN);
		if (log_ok) {
			char hint[512];

			pcr_hint(&m, q, &replay, hint, sizeof(hint));
			set(&r, CHK_REPLAY, V_FAIL,
			    "replay does not match the quote: %s%s%s", why,
			    hint[0] ? "; the TPM differs from the log in "
				    : "",
			    hint);
		}
		break;
	default:
		set(&r, CHK_SIG, V_FAIL, "%s", why);
		break;
	}
	if (save && save_files(save, q, &ak, nonce, &replay)) {
		rc = HVT_USAGE;
		goto out;
	}

report:
	if (quote_ok) {
		struct att_report ar = {0};

		if (att_golden_compare(&g, &p, &replay, &ar) < 0) {
			hvt_err("out of memory");
			att_report_free(&ar);
			rc = HVT_DAEMON;
			goto out;
		}
		golden_lines(&g, &ar, &r);
		att_report_free(&ar);
	} else {
		for (int c = CHK_KERNEL; c <= CHK_PCRS; c++)
			set(&r, c, V_FAIL,
			    "not compared: the event log is not verified by "
			    "a quote");
	}
	rc = print_report(t, info.name, &r, deep ? CHK_N : CHK_DEEP);
out:
	tpm_close(&m);
	att_ak_free(&ak);
	EVP_PKEY_free(ek_key);
	mb_parsed_free(&p);
	free(log);
	free(q);
out_golden:
	att_golden_free(&g);
	return rc;
}
