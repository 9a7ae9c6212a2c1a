/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ca - the manager's EK certificate authority (mgr_ca.c): a CA is
 * created, saved (mode 0600), loaded back and refused when its file is
 * unsafe or inconsistent; EK certificates for RSA-2048 and P-256 keys are
 * parsed back with OpenSSL and every field checked against the TCG EK
 * Credential Profile, then verified by `openssl verify -CAfile` (the CLI,
 * not only the library); bad requests are refused with the error the
 * header promises, and when several things are wrong the key's problem
 * is the one reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/harness.h"
#include "vtpm-instance/vtpm.h"
#include "vtpm-manager/mgr_ca.h"

static char dir[] = "/tmp/hvsec-test-ca.XXXXXX";
static char why[256];

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* --------------------------------------------------------------- keys */

static EVP_PKEY *gen_rsa(unsigned bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static EVP_PKEY *gen_ec(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* DER SubjectPublicKeyInfo of k into buf; its length (0 on failure). */
static size_t spki_of(EVP_PKEY *k, uint8_t *buf, size_t cap)
{
	int n = i2d_PUBKEY(k, NULL);
	unsigned char *p = buf;

	if (n <= 0 || (size_t)n > cap)
		return 0;
	return (size_t)i2d_PUBKEY(k, &p);
}

/* An EC key's SPKI with explicit curve parameters, or a compressed
 * point: legal X.509, not what a TPM makes. */
static size_t spki_ec_variant(const char *param, const char *value,
			      uint8_t *buf, size_t cap)
{
	EVP_PKEY *k = gen_ec("P-256");
	size_t n = 0;

	if (k && EVP_PKEY_set_utf8_string_param(k, param, value) == 1)
		n = spki_of(k, buf, cap);
	EVP_PKEY_free(k);
	return n;
}

/* An RSA-2048 public key with modulus n (flipped to even on request)
 * and exponent e, as SPKI. */
static size_t spki_rsa_variant(bool even, unsigned long e_word, uint8_t *buf,
			       size_t cap)
{
	EVP_PKEY *k = gen_rsa(2048), *v = NULL;
	BIGNUM *n = NULL, *e = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	size_t len = 0;

	if (k && e && bld && ctx &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) &&
	    BN_set_word(e, e_word) && (!even || BN_clear_bit(n, 0)) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &v, EVP_PKEY_PUBLIC_KEY, params) == 1)
		len = spki_of(v, buf, cap);
	EVP_PKEY_free(v);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	EVP_PKEY_free(k);
	return len;
}

/* ------------------------------------------------------------ helpers */

static X509 *parse_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x && p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static bool write_pem_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	bool ok = f && PEM_write_X509(f, x);

	if (f)
		fclose(f);
	return ok;
}

/* `openssl verify -CAfile ca leaf` says "leaf: OK". */
static bool openssl_verify(const char *ca, const char *leaf)
{
	char cmd[1024], line[1024] = "", want[600];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile '%s' '%s' 2>&1", ca,
		 leaf);
	p = popen(cmd, "r");
	if (!p)
		return false;
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	while (fgetc(p) != EOF) {
	}
	st = pclose(p);
	snprintf(want, sizeof(want), "%s: OK\n", leaf);
	if (st != 0 || strcmp(line, want) != 0)
		printf("# openssl verify: exit %d: %s", st, line);
	return st == 0 && strcmp(line, want) == 0;
}

/* The extension with this OID and its criticality (-1: absent). */
static X509_EXTENSION *ext_by_oid(X509 *x, const char *oid, int *crit)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
	X509_EXTENSION *e = i >= 0 ? X509_get_ext(x, i) : NULL;

	ASN1_OBJECT_free(obj);
	*crit = e ? X509_EXTENSION_get_critical(e) : -1;
	return e;
}

static bool obj_is(const ASN1_OBJECT *o, const char *oid)
{
	char buf[64];

	return OBJ_obj2txt(buf, sizeof(buf), o, 1) > 0 && strcmp(buf, oid) == 0;
}

/* The name entry at i is a UTF8String of value v under OID oid, alone in
 * its RDN. */
static bool rdn_is(const X509_NAME *n, int i, int set, const char *oid,
		   const char *v)
{
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
	const ASN1_STRING *s = e ? X509_NAME_ENTRY_get_data(e) : NULL;

	return e && X509_NAME_ENTRY_set(e) == set &&
	       obj_is(X509_NAME_ENTRY_get_object(e), oid) &&
	       ASN1_STRING_type(s) == V_ASN1_UTF8STRING &&
	       (size_t)ASN1_STRING_length(s) == strlen(v) &&
	       memcmp(ASN1_STRING_get0_data(s), v, strlen(v)) == 0;
}

/* ---------------------------------------------------------------- CA */

static struct mgr_ca *ca;
static char ca_path[300], ca_cert_path[300];

static void test_create(void)
{
	X509 *x = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	size_t pem_len = 0;
	const ASN1_INTEGER *serial;
	BASIC_CONSTRAINTS *bc = NULL;
	EVP_PKEY *pub;
	int crit;
	char name[256];

	TH_CHECK(mgr_ca_create("hvsec test CA", &ca, why, sizeof(why)) == 0,
		 "create: %s", why);
	if (!ca)
		return;
	TH_CHECK(mgr_ca_cert_der(ca, &der, &len, why, sizeof(why)) == 0,
		 "cert der: %s", why);
	x = der ? parse_der(der, len) : NULL;
	if (!TH_CHECK(x != NULL, "CA certificate parses"))
		goto out;
	TH_CHECK(X509_get_version(x) == X509_VERSION_3, "CA: version 3");
	X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
	TH_CHECK(strcmp(name, "/O=hvsec/CN=hvsec test CA") == 0,
		 "CA subject %s", name);
	TH_CHECK(X509_NAME_cmp(X509_get_subject_name(x),
			       X509_get_issuer_name(x)) == 0,
		 "CA: self-issued");
	pub = X509_get0_pubkey(x);
	TH_CHECK(pub && EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC &&
			 EVP_PKEY_get_bits(pub) == 256,
		 "CA key: EC 256");
	TH_CHECK(X509_verify(x, pub) == 1, "CA: self-signature verifies");
	TH_CHECK(X509_get_signature_nid(x) == NID_ecdsa_with_SHA256,
		 "CA: ecdsa-with-SHA256");
	serial = X509_get0_serialNumber(x);
	TH_CHECK(serial && ASN1_STRING_length(serial) == 16 &&
			 ASN1_STRING_type(serial) == V_ASN1_INTEGER,
		 "CA: 16-byte positive serial");
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	TH_CHECK(bc && bc->ca && crit == 1 && bc->pathlen &&
			 ASN1_INTEGER_get(bc->pathlen) == 0,
		 "CA: basicConstraints critical CA:TRUE pathlen 0");
	TH_CHECK(X509_get_key_usage(x) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN),
		 "CA: keyUsage keyCertSign|cRLSign (0x%x)",
		 X509_get_key_usage(x));
	TH_CHECK(ext_by_oid(x, "2.5.29.15", &crit) && crit == 1,
		 "CA: keyUsage critical");
	TH_CHECK(X509_get0_subject_key_id(x) && X509_get0_authority_key_id(x) &&
			 ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x),
					       X509_get0_authority_key_id(x)) ==
				 0,
		 "CA: SKI = AKI");
	TH_CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x),
				      (time_t)253402300799) == 0,
		 "CA: notAfter 9999-12-31T23:59:59Z");
	TH_CHECK(X509_cmp_time(X509_get0_notBefore(x), NULL) <= 0,
		 "CA: valid from now");
	TH_CHECK(mgr_ca_cert_pem(ca, &pem, &pem_len, why, sizeof(why)) == 0 &&
			 pem_len == strlen(pem) &&
			 strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0,
		 "cert pem: %s", why);
	if (pem) {
		FILE *f = fopen(ca_cert_path, "w");

		if (f) {
			fputs(pem, f);
			fclose(f);
		}
	}
out:
	BASIC_CONSTRAINTS_free(bc);
	X509_free(x);
	free(der);
	free(pem);
}

/* A CA file made of the PEM of key k and certificate x. */
static bool write_ca_file(const char *path, EVP_PKEY *k, X509 *x, int mode)
{
	FILE *f = fopen(path, "w");
	bool ok =
		f &&
		(!k || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) &&
		(!x || PEM_write_X509(f, x));

	if (f)
		fclose(f);
	return ok && chmod(path, (mode_t)mode) == 0;
}

static X509 *ca_x509(const struct mgr_ca *c)
{
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *x = NULL;

	if (mgr_ca_cert_der(c, &der, &len, NULL, 0) == 0)
		x = parse_der(der, len);
	free(der);
	return x;
}

/* The private key inside a saved CA file. */
static EVP_PKEY *key_of_file(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

static void test_save_load(void)
{
	struct mgr_ca *back = NULL, *again = NULL, *other = NULL;
	X509 *x1 = NULL, *x2 = NULL, *xo = NULL, *leaf = NULL;
	EVP_PKEY *k1 = NULL, *ko = NULL, *rsa = NULL;
	char p[300];
	struct stat st;
	bool created = true;

	if (!ca)
		return;
	TH_CHECK(mgr_ca_save(ca, ca_path, why, sizeof(why)) == 0, "save: %s",
		 why);
	memset(&st, 0, sizeof(st));
	stat(ca_path, &st);
	TH_CHECK((st.st_mode & 07777) == 0600,
		 "saved CA file has mode 0600 (%04o)",
		 (unsigned)(st.st_mode & 07777));
	TH_CHECK(mgr_ca_load(ca_path, &back, why, sizeof(why)) == 0, "load: %s",
		 why);
	x1 = ca_x509(ca);
	x2 = back ? ca_x509(back) : NULL;
	TH_CHECK(x1 && x2 && X509_cmp(x1, x2) == 0, "load: same certificate");
	k1 = key_of_file(ca_path);
	TH_CHECK(k1 && EVP_PKEY_eq(k1, X509_get0_pubkey(x1)) == 1,
		 "saved key matches the certificate");
	TH_CHECK(mgr_ca_open(ca_path, "ignored", &again, &created, why,
			     sizeof(why)) == 0 &&
			 !created,
		 "open: loads an existing CA (%s)", why);
	mgr_ca_free(again);
	again = NULL;

	/* open creates where nothing is. */
	path_in(p, sizeof(p), "new-ca.pem");
	TH_CHECK(mgr_ca_open(p, "fresh", &again, &created, why, sizeof(why)) ==
				 0 &&
			 created,
		 "open: creates a missing CA (%s)", why);
	TH_CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600,
		 "open: created file 0600");
	mgr_ca_free(again);
	again = NULL;
	TH_CHECK(mgr_ca_open(p, "fresh", &again, &created, why, sizeof(why)) ==
				 0 &&
			 !created,
		 "open: then loads it");
	mgr_ca_free(again);
	again = NULL;

	/* Refusals, table-like: each file, the errno, a word of why. */
	mgr_ca_create("other", &other, NULL, 0);
	xo = other ? ca_x509(other) : NULL;
	path_in(p, sizeof(p), "other.pem");
	if (other)
		mgr_ca_save(other, p, NULL, 0);
	ko = key_of_file(p);
	rsa = gen_rsa(2048);
	{
		/* A leaf (not a CA) with its own key. */
		leaf = X509_new();
		X509_set_version(leaf, X509_VERSION_3);
		ASN1_INTEGER_set(X509_get_serialNumber(leaf), 7);
		X509_NAME_add_entry_by_txt(
			X509_get_subject_name(leaf), "CN", MBSTRING_ASC,
			(const unsigned char *)"leaf", -1, -1, 0);
		X509_set_issuer_name(leaf, X509_get_subject_name(leaf));
		X509_gmtime_adj(X509_getm_notBefore(leaf), 0);
		X509_gmtime_adj(X509_getm_notAfter(leaf), 3600);
		X509_set_pubkey(leaf, ko);
		X509_sign(leaf, ko, EVP_sha256());
	}
	static const struct {
		const char *name;
		int mode, key,
			cert; /* 0 none, 1 ours, 2 other CA's, 3 RSA / leaf */
		int want;
		const char *word;
	} bad[] = {
		{"missing.pem", -1, 0, 0, -ENOENT, "No such file"},
		{"group-readable.pem", 0640, 1, 1, -EPERM, "mode 0600"},
		{"world-readable.pem", 0604, 1, 1, -EPERM, "mode 0600"},
		{"empty.pem", 0600, 0, 0, -EBADMSG, "size"},
		{"key-only.pem", 0600, 1, 0, -EBADMSG, "no certificate"},
		{"cert-only.pem", 0600, 0, 1, -EBADMSG, "no unencrypted"},
		{"mismatch.pem", 0600, 2, 1, -EBADMSG, "does not match"},
		{"rsa-key.pem", 0600, 3, 1, -EBADMSG, "not ECDSA P-256"},
		{"not-a-ca.pem", 0600, 2, 3, -EBADMSG, "not a CA"},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(bad); i++) {
		EVP_PKEY *k = bad[i].key == 1	? k1
			      : bad[i].key == 2 ? ko
			      : bad[i].key == 3 ? rsa
						: NULL;
		X509 *x = bad[i].cert == 1   ? x1
			  : bad[i].cert == 3 ? leaf
					     : NULL;
		struct mgr_ca *got = NULL;
		int ret;

		path_in(p, sizeof(p), bad[i].name);
		if (bad[i].mode >= 0)
			write_ca_file(p, k, x, bad[i].mode);
		why[0] = '\0';
		ret = mgr_ca_load(p, &got, why, sizeof(why));
		TH_CHECK(ret == bad[i].want && !got &&
				 strstr(why, bad[i].word) != NULL,
			 "load %s: %d (want %d), \"%s\"", bad[i].name, ret,
			 bad[i].want, why);
		mgr_ca_free(got);
	}
	/* A symlink to a good file is not "a regular file of ours". */
	path_in(p, sizeof(p), "link.pem");
	TH_CHECK(symlink(ca_path, p) == 0 &&
			 mgr_ca_load(p, &again, why, sizeof(why)) == -EPERM,
		 "load through a symlink refused (%s)", why);
	mgr_ca_free(again);
	/* open does not paper over a broken file. */
	path_in(p, sizeof(p), "group-readable.pem");
	TH_CHECK(mgr_ca_open(p, "x", &again, &created, why, sizeof(why)) ==
			 -EPERM,
		 "open: an unsafe file is not replaced");
	TH_CHECK(mgr_ca_create("", &again, why, sizeof(why)) == -EINVAL &&
			 mgr_ca_create("bad\nname", &again, NULL, 0) ==
				 -EINVAL &&
			 !again,
		 "create: bad names refused");

	X509_free(leaf);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ko);
	X509_free(xo);
	mgr_ca_free(other);
	EVP_PKEY_free(k1);
	X509_free(x1);
	X509_free(x2);
	mgr_ca_free(back);
}

/* ------------------------------------------------------------ EK certs */

#define IBM_ID 0x49424d00u
#define FW1    0x20191023u

static struct mgr_ca_ek_req req_for(enum mgr_ca_ek_type type,
				    const uint8_t *spki, size_t len)
{
	return (struct mgr_ca_ek_req){
		.type = type,
		.spki = spki,
		.spki_len = len,
		.tpm_manufacturer = IBM_ID,
		.tpm_model = "hvsec-vtpm",
		.tpm_version = FW1,
		.spec_family = "2.0",
		.spec_level = 0,
		.spec_revision = 164,
	};
}

/* subjectDirectoryAttributes with {"2.0", 0, 164}, as the TCG profile
 * example and swtpm encode it. */
static const uint8_t want_sda[] = {
	0x30, 0x19, 0x30, 0x17, 0x06, 0x05, 0x67, 0x81, 0x05,
	0x02, 0x10, 0x31, 0x0e, 0x30, 0x0c, 0x0c, 0x03, 0x32,
	0x2e, 0x30, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0xa4,
};

/* Every field of an EK certificate; returns the parsed certificate. */
static X509 *check_ek_cert(const char *what, const uint8_t *der, size_t len,
			   EVP_PKEY *key, enum mgr_ca_ek_type type,
			   const char *cn, uint32_t days)
{
	X509 *x = parse_der(der, len), *cax = ca_x509(ca);
	const ASN1_INTEGER *serial;
	BASIC_CONSTRAINTS *bc = NULL;
	GENERAL_NAMES *san = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	X509_EXTENSION *e;
	const X509_NAME *dn;
	int crit;

	if (!TH_CHECK(x != NULL && cax != NULL, "%s: parses", what))
		goto out;
	TH_CHECK(len <= VTPM_EK_CERT_MAX, "%s: %zu bytes fit an NV index", what,
		 len);
	TH_CHECK(X509_get_version(x) == X509_VERSION_3, "%s: v3", what);
	serial = X509_get0_serialNumber(x);
	TH_CHECK(ASN1_STRING_length(serial) == 16 &&
			 ASN1_STRING_type(serial) == V_ASN1_INTEGER,
		 "%s: 16-byte positive serial", what);
	TH_CHECK(X509_NAME_cmp(X509_get_issuer_name(x),
			       X509_get_subject_name(cax)) == 0,
		 "%s: issuer is the CA", what);
	if (cn) {
		TH_CHECK(X509_NAME_entry_count(X509_get_subject_name(x)) == 1 &&
				 rdn_is(X509_get_subject_name(x), 0, 0,
					"2.5.4.3", cn),
			 "%s: subject CN=%s", what, cn);
	} else {
		TH_CHECK(X509_NAME_entry_count(X509_get_subject_name(x)) == 0,
			 "%s: empty subject", what);
	}
	TH_CHECK(X509_get_signature_nid(x) == NID_ecdsa_with_SHA256,
		 "%s: ecdsa-with-SHA256", what);
	TH_CHECK(X509_verify(x, X509_get0_pubkey(cax)) == 1,
		 "%s: signature verifies with the CA key", what);
	TH_CHECK(EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1,
		 "%s: certifies the requested key", what);
	TH_CHECK(X509_cmp_time(X509_get0_notBefore(x), NULL) <= 0 &&
			 X509_cmp_time(X509_get0_notBefore(x),
				       &(time_t){time(NULL) - 120}) > 0,
		 "%s: notBefore is now", what);
	if (days) {
		int d = -1, s = -1;

		if (!ASN1_TIME_diff(&d, &s, X509_get0_notBefore(x),
				    X509_get0_notAfter(x)))
			d = -1;
		TH_CHECK(d == (int)days && s == 0,
			 "%s: valid %u days (%d d %d s)", what, days, d, s);
	} else {
		const ASN1_TIME *na = X509_get0_notAfter(x);

		TH_CHECK(ASN1_STRING_type(na) == V_ASN1_GENERALIZEDTIME &&
				 ASN1_STRING_length(na) == 15 &&
				 memcmp(ASN1_STRING_get0_data(na),
					"99991231235959Z", 15) == 0,
			 "%s: notAfter 99991231235959Z", what);
	}

	/* Exactly these extensions. */
	TH_CHECK(X509_get_ext_count(x) == 6, "%s: 6 extensions (%d)", what,
		 X509_get_ext_count(x));
	san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	TH_CHECK(san && crit == 1 && sk_GENERAL_NAME_num(san) == 1 &&
			 sk_GENERAL_NAME_value(san, 0)->type == GEN_DIRNAME,
		 "%s: SAN critical, one directoryName", what);
	if (san && sk_GENERAL_NAME_num(san) == 1 &&
	    sk_GENERAL_NAME_value(san, 0)->type == GEN_DIRNAME) {
		dn = sk_GENERAL_NAME_value(san, 0)->d.directoryName;
		TH_CHECK(
			X509_NAME_entry_count(dn) == 3 &&
				rdn_is(dn, 0, 0, "2.23.133.2.1",
				       "id:49424D00") &&
				rdn_is(dn, 1, 1, "2.23.133.2.2",
				       "hvsec-vtpm") &&
				rdn_is(dn, 2, 2, "2.23.133.2.3", "id:20191023"),
			"%s: SAN tpmManufacturer, tpmModel, tpmVersion as "
			"three UTF8String RDNs",
			what);
	}
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	TH_CHECK(bc && !bc->ca && !bc->pathlen && crit == 1,
		 "%s: basicConstraints critical CA:FALSE", what);
	TH_CHECK(ext_by_oid(x, "2.5.29.15", &crit) && crit == 1 &&
			 X509_get_key_usage(x) == (type == MGR_CA_EK_RSA2048
							   ? KU_KEY_ENCIPHERMENT
							   : KU_KEY_AGREEMENT),
		 "%s: keyUsage critical %s only (0x%x)", what,
		 type == MGR_CA_EK_RSA2048 ? "keyEncipherment" : "keyAgreement",
		 X509_get_key_usage(x));
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	TH_CHECK(eku && crit == 0 && sk_ASN1_OBJECT_num(eku) == 1 &&
			 obj_is(sk_ASN1_OBJECT_value(eku, 0), "2.23.133.8.1"),
		 "%s: EKU tcg-kp-EKCertificate, not critical", what);
	TH_CHECK(X509_get0_authority_key_id(x) &&
			 ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(cax)) ==
				 0 &&
			 !X509_get0_authority_issuer(x),
		 "%s: AKI = the CA's SKI", what);
	e = ext_by_oid(x, "2.5.29.9", &crit);
	TH_CHECK(e && crit == 0 &&
			 ASN1_STRING_length(X509_EXTENSION_get_data(e)) ==
				 (int)sizeof(want_sda) &&
			 memcmp(ASN1_STRING_get0_data(
					X509_EXTENSION_get_data(e)),
				want_sda, sizeof(want_sda)) == 0,
		 "%s: subjectDirectoryAttributes tpmSpecification 2.0/0/164",
		 what);
out:
	BASIC_CONSTRAINTS_free(bc);
	GENERAL_NAMES_free(san);
	EXTENDED_KEY_USAGE_free(eku);
	X509_free(cax);
	return x;
}

static void issue_and_check(const char *what, enum mgr_ca_ek_type type,
			    EVP_PKEY *key, const char *cn, uint32_t days,
			    const char *pem_name)
{
	uint8_t spki[600], *der = NULL;
	size_t spki_len = spki_of(key, spki, sizeof(spki)), len = 0;
	struct mgr_ca_ek_req req = req_for(type, spki, spki_len);
	char p[300];
	X509 *x;

	req.subject_cn = cn;
	req.days = days;
	TH_CHECK(mgr_ca_issue_ek(ca, &req, &der, &len, why, sizeof(why)) == 0,
		 "%s: issue: %s", what, why);
	if (!der)
		return;
	x = check_ek_cert(what, der, len, key, type, cn, days);
	path_in(p, sizeof(p), pem_name);
	if (x && write_pem_cert(p, x))
		TH_CHECK(openssl_verify(ca_cert_path, p),
			 "%s: openssl verify -CAfile ca leaf", what);
	X509_free(x);
	free(der);
}

static void test_issue(void)
{
	EVP_PKEY *rsa = gen_rsa(2048), *ec = gen_ec("P-256");
	uint8_t spki[600], *d1 = NULL, *d2 = NULL;
	size_t n, l1 = 0, l2 = 0;
	struct mgr_ca_ek_req req;
	X509 *x1, *x2;

	if (!ca || !TH_CHECK(rsa && ec, "test keys"))
		goto out;
	issue_and_check("RSA EK", MGR_CA_EK_RSA2048, rsa, NULL, 0, "rsa.pem");
	issue_and_check("ECC EK", MGR_CA_EK_ECC_P256, ec, NULL, 0, "ecc.pem");
	issue_and_check("RSA EK with CN", MGR_CA_EK_RSA2048, rsa,
			"vtpm 4f9c2a1e", 0, "rsa-cn.pem");
	issue_and_check("ECC EK for 365 days", MGR_CA_EK_ECC_P256, ec, NULL,
			365, "ecc-365.pem");

	/* Serials differ; no spec family: no subjectDirectoryAttributes. */
	n = spki_of(ec, spki, sizeof(spki));
	req = req_for(MGR_CA_EK_ECC_P256, spki, n);
	req.spec_family = NULL;
	mgr_ca_issue_ek(ca, &req, &d1, &l1, NULL, 0);
	mgr_ca_issue_ek(ca, &req, &d2, &l2, NULL, 0);
	x1 = d1 ? parse_der(d1, l1) : NULL;
	x2 = d2 ? parse_der(d2, l2) : NULL;
	TH_CHECK(x1 && x2 &&
			 ASN1_INTEGER_cmp(X509_get0_serialNumber(x1),
					  X509_get0_serialNumber(x2)) != 0,
		 "two certificates, two serials");
	TH_CHECK(x1 && X509_get_ext_count(x1) == 5 &&
			 X509_get_ext_by_NID(
				 x1, NID_subject_directory_attributes, -1) < 0,
		 "no spec family: no subjectDirectoryAttributes");
	X509_free(x1);
	X509_free(x2);
	free(d1);
	free(d2);
out:
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

/* Bad requests: each refused with -EINVAL and the reason; with several
 * faults, the key's wins. */
static void test_bad_requests(void)
{
	EVP_PKEY *rsa = gen_rsa(2048), *rsa1k = gen_rsa(1024),
		 *rsa3k = gen_rsa(3072), *p384 = gen_ec("P-384"),
		 *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
		 *p256 = gen_ec("P-256");
	static uint8_t s_rsa[600], s_rsa1k[600], s_rsa3k[600], s_p384[200],
		s_ed[100], s_p256[200], s_trail[601], s_explicit[600],
		s_compressed[200], s_even[600], s_e3[600], s_offcurve[200],
		s_odd_params[600], s_garbage[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	size_t n_rsa, n_p256, n_trail;
	char long_model[300], long_cn[70];

	if (!ca ||
	    !TH_CHECK(rsa && rsa1k && rsa3k && p384 && ed && p256, "test keys"))
		goto out;
	n_rsa = spki_of(rsa, s_rsa, sizeof(s_rsa));
	n_p256 = spki_of(p256, s_p256, sizeof(s_p256));
	/* The fuzzer's find: rsaEncryption's NULL parameters (05 00 at
	 * offset 17) replaced by an empty [APPLICATION 3] (63 00). */
	memcpy(s_odd_params, s_rsa, n_rsa);
	if (s_odd_params[17] == 0x05 && s_odd_params[18] == 0x00)
		s_odd_params[17] = 0x63;
	memcpy(s_offcurve, s_p256, n_p256);
	s_offcurve[n_p256 - 1] ^= 1; /* last byte of y */
	memcpy(s_trail, s_rsa, n_rsa);
	s_trail[n_rsa] = 0;
	n_trail = n_rsa + 1;
	memset(long_model, 'm', sizeof(long_model) - 1);
	long_model[sizeof(long_model) - 1] = '\0';
	memset(long_cn, 'c', sizeof(long_cn) - 1);
	long_cn[sizeof(long_cn) - 1] = '\0';

	struct {
		const char *name;
		enum mgr_ca_ek_type type;
		const uint8_t *spki;
		size_t len;
		const char *model, *family, *cn;
		uint32_t days;
		const char *word;
	} cases[] = {
		{"no key", MGR_CA_EK_RSA2048, NULL, 0, NULL, NULL, NULL, 0,
		 "no SubjectPublicKeyInfo"},
		{"garbage key", MGR_CA_EK_RSA2048, s_garbage, sizeof(s_garbage),
		 NULL, NULL, NULL, 0, "not a DER"},
		{"truncated key", MGR_CA_EK_RSA2048, s_rsa, 100, NULL, NULL,
		 NULL, 0, "not a DER"},
		{"trailing byte", MGR_CA_EK_RSA2048, s_trail, n_trail, NULL,
		 NULL, NULL, 0, "trailing"},
		{"RSA parameters not NULL", MGR_CA_EK_RSA2048, s_odd_params,
		 n_rsa, NULL, NULL, NULL, 0, "DER encoding"},
		{"RSA-1024", MGR_CA_EK_RSA2048, s_rsa1k,
		 spki_of(rsa1k, s_rsa1k, sizeof(s_rsa1k)), NULL, NULL, NULL, 0,
		 "not an RSA-2048"},
		{"RSA-3072", MGR_CA_EK_RSA2048, s_rsa3k,
		 spki_of(rsa3k, s_rsa3k, sizeof(s_rsa3k)), NULL, NULL, NULL, 0,
		 "not an RSA-2048"},
		{"P-384", MGR_CA_EK_ECC_P256, s_p384,
		 spki_of(p384, s_p384, sizeof(s_p384)), NULL, NULL, NULL, 0,
		 "not an ECC NIST P-256"},
		{"Ed25519", MGR_CA_EK_ECC_P256, s_ed,
		 spki_of(ed, s_ed, sizeof(s_ed)), NULL, NULL, NULL, 0,
		 "not an ECC NIST P-256"},
		{"RSA key as ECC", MGR_CA_EK_ECC_P256, s_rsa, n_rsa, NULL, NULL,
		 NULL, 0, "not an ECC NIST P-256"},
		{"ECC key as RSA", MGR_CA_EK_RSA2048, s_p256, n_p256, NULL,
		 NULL, NULL, 0, "not an RSA-2048"},
		{"unknown type", (enum mgr_ca_ek_type)7, s_rsa, n_rsa, NULL,
		 NULL, NULL, 0, "unknown EK type"},
		{"explicit curve", MGR_CA_EK_ECC_P256, s_explicit,
		 spki_ec_variant(OSSL_PKEY_PARAM_EC_ENCODING,
				 OSSL_PKEY_EC_ENCODING_EXPLICIT, s_explicit,
				 sizeof(s_explicit)),
		 NULL, NULL, NULL, 0, "named curve"},
		{"even modulus", MGR_CA_EK_RSA2048, s_even,
		 spki_rsa_variant(true, 65537, s_even, sizeof(s_even)), NULL,
		 NULL, NULL, 0, "odd modulus"},
		{"exponent 3", MGR_CA_EK_RSA2048, s_e3,
		 spki_rsa_variant(false, 3, s_e3, sizeof(s_e3)), NULL, NULL,
		 NULL, 0, "exponent 65537"},
		{"compressed point", MGR_CA_EK_ECC_P256, s_compressed,
		 spki_ec_variant(
			 OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
			 OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED,
			 s_compressed, sizeof(s_compressed)),
		 NULL, NULL, NULL, 0, "uncompressed"},
		{"point off the curve", MGR_CA_EK_ECC_P256, s_offcurve, n_p256,
		 NULL, NULL, NULL, 0, "EK key: "},
		{"empty model", MGR_CA_EK_RSA2048, s_rsa, n_rsa, "", NULL, NULL,
		 0, "TPM model"},
		{"long model", MGR_CA_EK_RSA2048, s_rsa, n_rsa, long_model,
		 NULL, NULL, 0, "TPM model"},
		{"model with newline", MGR_CA_EK_RSA2048, s_rsa, n_rsa, "a\nb",
		 NULL, NULL, 0, "TPM model"},
		{"empty family", MGR_CA_EK_RSA2048, s_rsa, n_rsa, NULL, "",
		 NULL, 0, "spec family"},
		{"empty CN", MGR_CA_EK_RSA2048, s_rsa, n_rsa, NULL, NULL, "", 0,
		 "subject CN"},
		{"long CN", MGR_CA_EK_RSA2048, s_rsa, n_rsa, NULL, NULL,
		 long_cn, 0, "subject CN"},
		{"too many days", MGR_CA_EK_RSA2048, s_rsa, n_rsa, NULL, NULL,
		 NULL, MGR_CA_DAYS_MAX + 1, "days"},
		/* Several faults: the key is reported. */
		{"bad key and model", MGR_CA_EK_RSA2048, s_garbage,
		 sizeof(s_garbage), "", "", "", MGR_CA_DAYS_MAX + 1,
		 "not a DER"},
		/* Then the model before the rest. */
		{"bad model and days", MGR_CA_EK_RSA2048, s_rsa, n_rsa, "",
		 NULL, NULL, MGR_CA_DAYS_MAX + 1, "TPM model"},
	};
	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		struct mgr_ca_ek_req req =
			req_for(cases[i].type, cases[i].spki, cases[i].len);
		uint8_t *der = (uint8_t *)1;
		size_t len = 1;
		int ret;

		if (cases[i].model)
			req.tpm_model = cases[i].model;
		if (cases[i].family)
			req.spec_family = cases[i].family;
		req.subject_cn = cases[i].cn;
		req.days = cases[i].days;
		why[0] = '\0';
		ret = mgr_ca_issue_ek(ca, &req, &der, &len, why, sizeof(why));
		TH_CHECK(ret == -EINVAL && !der && len == 0 &&
				 strstr(why, cases[i].word),
			 "refuse %s: %d \"%s\"", cases[i].name, ret, why);
	}
	{
		struct mgr_ca_ek_req req =
			req_for(MGR_CA_EK_RSA2048, s_rsa, n_rsa);
		uint8_t *der = NULL;
		size_t len = 0;

		TH_CHECK(mgr_ca_issue_ek(NULL, &req, &der, &len, NULL, 0) ==
					 -EINVAL &&
				 mgr_ca_issue_ek(ca, NULL, &der, &len, NULL,
						 0) == -EINVAL &&
				 mgr_ca_issue_ek(ca, &req, NULL, &len, NULL,
						 0) == -EINVAL,
			 "NULL arguments refused");
		req.tpm_model = NULL;
		TH_CHECK(mgr_ca_issue_ek(ca, &req, &der, &len, NULL, 0) ==
				 -EINVAL,
			 "no model refused");
	}
out:
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa1k);
	EVP_PKEY_free(rsa3k);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p256);
}

static void cleanup(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	path_in(ca_path, sizeof(ca_path), "ca.pem");
	path_in(ca_cert_path, sizeof(ca_cert_path), "ca-cert.pem");
	test_create();
	test_save_load();
	test_issue();
	test_bad_requests();
	mgr_ca_free(ca);
	cleanup();
	return th_done();
}
