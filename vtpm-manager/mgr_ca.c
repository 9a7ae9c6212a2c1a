/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_ca.c - the manager's EK certificate authority over OpenSSL 3
 * (EVP_PKEY, X509, X509V3 structures; no configuration strings, no
 * global OID registrations: the TCG OIDs are made with OBJ_txt2obj and
 * freed).  See mgr_ca.h.
 *
 * Ownership: every OpenSSL object made in a function is freed at its one
 * exit label; struct mgr_ca owns its key and certificate.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "vtpm-manager/mgr_ca.h"
#include "vtpm-instance/vtpm_util.h"

struct mgr_ca {
	EVP_PKEY *key; /* P-256, owned */
	X509 *cert;    /* self-signed, owned */
};

/* TCG OIDs (EK Credential Profile 2.0, section 3; TCG OID registry). */
#define OID_TPM_MANUFACTURER  "2.23.133.2.1"
#define OID_TPM_MODEL	      "2.23.133.2.2"
#define OID_TPM_VERSION	      "2.23.133.2.3"
#define OID_TPM_SPECIFICATION "2.23.133.2.16"
#define OID_KP_EK_CERTIFICATE "2.23.133.8.1"

#define SERIAL_BYTES	16
#define CA_ORG		"hvsec"
#define NO_EXPIRY	"99991231235959Z"
#define RSA_EK_BITS	2048
#define EC_CURVE	"prime256v1"
#define SECONDS_PER_DAY 86400

/* An OpenSSL failure: what we were doing plus OpenSSL's first error;
 * the error queue is emptied so the next call starts clean. */
static int ssl_fail(char *why, size_t why_len, const char *what)
{
	char buf[160] = "";
	unsigned long e = ERR_peek_error();

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	vtpm_set_why(why, why_len, "%s: %s", what, e ? buf : "OpenSSL error");
	return e && ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE ? -ENOMEM : -EIO;
}

/* Printable ASCII, 1..max characters. */
static bool str_ok(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++)
		if (n >= max || s[n] < 0x20 || s[n] > 0x7e)
			return false;
	return n > 0;
}

/* ------------------------------------------------------ building blocks */

/* A positive serial of exactly SERIAL_BYTES octets (RFC 5280 4.1.2.2
 * allows up to 20): the top bit cleared, the next one set. */
static int set_random_serial(X509 *x)
{
	unsigned char b[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int ok = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		goto out;
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn)
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	if (ai)
		ok = X509_set_serialNumber(x, ai);
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

/* notBefore = nb (0: now); notAfter = nb + days, or no expiry. */
static int set_validity(X509 *x, time_t nb, uint32_t days)
{
	if (!nb)
		nb = time(NULL);
	if (!ASN1_TIME_set(X509_getm_notBefore(x), nb))
		return 0;
	if (!days)
		return ASN1_TIME_set_string_X509(X509_getm_notAfter(x),
						 NO_EXPIRY);
	return X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &nb) !=
	       NULL;
}

static int add_utf8_rdn(X509_NAME *n, const char *oid_or_sn, const char *v)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid_or_sn, 0);
	int ok;

	ok = obj &&
	     X509_NAME_add_entry_by_OBJ(n, obj, V_ASN1_UTF8STRING,
					(const unsigned char *)v, -1, -1, 0);
	ASN1_OBJECT_free(obj);
	return ok;
}

static int add_basic_constraints(X509 *x, bool ca)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	int ok = 0;

	if (!bc)
		return 0;
	bc->ca = ca ? 0xff : 0;
	if (ca) {
		/* Signs end-entity certificates only. */
		bc->pathlen = ASN1_INTEGER_new();
		if (!bc->pathlen || !ASN1_INTEGER_set(bc->pathlen, 0))
			goto out;
	}
	ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
			       X509V3_ADD_DEFAULT) == 1;
out:
	BASIC_CONSTRAINTS_free(bc);
	return ok;
}

/* keyUsage (critical) with the given bit numbers (RFC 5280 4.2.1.3). */
static int add_key_usage(X509 *x, int bit1, int bit2)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	int ok;

	ok = ku && ASN1_BIT_STRING_set_bit(ku, bit1, 1) &&
	     (bit2 < 0 || ASN1_BIT_STRING_set_bit(ku, bit2, 1)) &&
	     X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) ==
		     1;
	ASN1_BIT_STRING_free(ku);
	return ok;
}

#define KU_BIT_KEY_ENCIPHERMENT 2
#define KU_BIT_KEY_AGREEMENT	4
#define KU_BIT_KEY_CERT_SIGN	5
#define KU_BIT_CRL_SIGN		6

/* authorityKeyIdentifier: the key identifier only. */
static int add_aki(X509 *x, const ASN1_OCTET_STRING *issuer_ski)
{
	AUTHORITY_KEYID *aki;
	int ok = 0;

	if (!issuer_ski)
		return 0;
	aki = AUTHORITY_KEYID_new();
	if (!aki)
		return 0;
	aki->keyid = ASN1_OCTET_STRING_dup(issuer_ski);
	if (aki->keyid)
		ok = X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0,
				       X509V3_ADD_DEFAULT) == 1;
	AUTHORITY_KEYID_free(aki);
	return ok;
}

/* A self-signed certificate's subjectKeyIdentifier (SHA-1 of the
 * subjectPublicKey bits, RFC 5280 4.2.1.2 method 1) and the same value as
 * its authorityKeyIdentifier. */
static int add_self_key_ids(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	ASN1_OCTET_STRING *ski = NULL;
	int ok = 0;

	if (!X509_pubkey_digest(x, EVP_sha1(), md, &len))
		return 0;
	ski = ASN1_OCTET_STRING_new();
	if (ski && ASN1_OCTET_STRING_set(ski, md, (int)len))
		ok = X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0,
				       X509V3_ADD_DEFAULT) == 1 &&
		     add_aki(x, ski);
	ASN1_OCTET_STRING_free(ski);
	return ok;
}

/* subjectAltName (critical): one directoryName of three RDNs. */
static int add_tpm_san(X509 *x, const struct mgr_ca_ek_req *req)
{
	char manu[16], ver[16];
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	X509_NAME *dn = X509_NAME_new();
	int ok = 0;

	if (!gens || !gn || !dn)
		goto out;
	snprintf(manu, sizeof(manu), "id:%08" PRIX32, req->tpm_manufacturer);
	snprintf(ver, sizeof(ver), "id:%08" PRIX32, req->tpm_version);
	if (!add_utf8_rdn(dn, OID_TPM_MANUFACTURER, manu) ||
	    !add_utf8_rdn(dn, OID_TPM_MODEL, req->tpm_model) ||
	    !add_utf8_rdn(dn, OID_TPM_VERSION, ver))
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
	dn = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto out;
	gn = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1,
			       X509V3_ADD_DEFAULT) == 1;
out:
	X509_NAME_free(dn);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok;
}

static int add_ek_eku(X509 *x)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_KP_EK_CERTIFICATE, 1);
	int ok = 0;

	if (!eku || !obj || !sk_ASN1_OBJECT_push(eku, obj))
		goto out;
	obj = NULL; /* the stack owns it */
	ok = X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
			       X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_OBJECT_free(obj);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return ok;
}

/* Appends to a SEQUENCE OF ANY / SET OF ANY under construction; takes
 * ownership of value (ASN1_TYPE_set semantics), also on failure. */
static int push_any(STACK_OF(ASN1_TYPE) * sk, int type, void *value)
{
	ASN1_TYPE *t = value ? ASN1_TYPE_new() : NULL;

	if (!t) {
		/* Only the types used below: free what we were given. */
		if (type == V_ASN1_OBJECT)
			ASN1_OBJECT_free(value);
		else
			ASN1_STRING_free(value);
		return 0;
	}
	ASN1_TYPE_set(t, type, value);
	if (!sk_ASN1_TYPE_push(sk, t)) {
		ASN1_TYPE_free(t);
		return 0;
	}
	return 1;
}

/* The DER of a SEQUENCE OF / SET OF ANY as an ASN1_STRING to nest as a
 * constructed ANY (whose value is its complete encoding). */
static ASN1_STRING *encode_any(STACK_OF(ASN1_TYPE) * sk, bool set)
{
	unsigned char *der = NULL;
	ASN1_STRING *s;
	int len;

	len = set ? i2d_ASN1_SET_ANY(sk, &der)
		  : i2d_ASN1_SEQUENCE_ANY(sk, &der);
	if (len <= 0)
		return NULL;
	s = ASN1_STRING_new();
	if (s)
		ASN1_STRING_set0(s, der, len);
	else
		OPENSSL_free(der);
	return s;
}

static ASN1_INTEGER *uint_integer(uint32_t v)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();

	if (ai && !ASN1_INTEGER_set_uint64(ai, v)) {
		ASN1_INTEGER_free(ai);
		ai = NULL;
	}
	return ai;
}

/* subjectDirectoryAttributes (2.5.29.9, not critical):
 *   SEQUENCE { SEQUENCE { tcg-at-tpmSpecification,
 *                         SET { SEQUENCE { family UTF8String,
 *                                          level INTEGER,
 *                                          revision INTEGER } } } } */
static int add_tpm_spec(X509 *x, const struct mgr_ca_ek_req *req)
{
	STACK_OF(ASN1_TYPE) *spec = sk_ASN1_TYPE_new_null();
	STACK_OF(ASN1_TYPE) *vals = sk_ASN1_TYPE_new_null();
	STACK_OF(ASN1_TYPE) *attr = sk_ASN1_TYPE_new_null();
	STACK_OF(ASN1_TYPE) *attrs = sk_ASN1_TYPE_new_null();
	ASN1_UTF8STRING *family = ASN1_UTF8STRING_new();
	ASN1_OCTET_STRING *os = NULL;
	ASN1_STRING *enc = NULL;
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int len, ok = 0;

	if (!spec || !vals || !attr || !attrs || !family ||
	    !ASN1_STRING_set(family, req->spec_family, -1))
		goto out;
	ok = push_any(spec, V_ASN1_UTF8STRING, family);
	family = NULL;
	ok = ok &&
	     push_any(spec, V_ASN1_INTEGER, uint_integer(req->spec_level));
	ok = ok &&
	     push_any(spec, V_ASN1_INTEGER, uint_integer(req->spec_revision));
	ok = ok && (enc = encode_any(spec, false)) != NULL &&
	     push_any(vals, V_ASN1_SEQUENCE, enc);
	ok = ok && push_any(attr, V_ASN1_OBJECT,
			    OBJ_txt2obj(OID_TPM_SPECIFICATION, 1));
	ok = ok && (enc = encode_any(vals, true)) != NULL &&
	     push_any(attr, V_ASN1_SET, enc);
	ok = ok && (enc = encode_any(attr, false)) != NULL &&
	     push_any(attrs, V_ASN1_SEQUENCE, enc);
	if (!ok)
		goto out;
	ok = 0;
	len = i2d_ASN1_SEQUENCE_ANY(attrs, &der);
	os = ASN1_OCTET_STRING_new();
	if (len <= 0 || !os || !ASN1_OCTET_STRING_set(os, der, len))
		goto out;
	ext = X509_EXTENSION_create_by_NID(
		NULL, NID_subject_directory_attributes, 0, os);
	ok = ext && X509_add_ext(x, ext, -1);
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	OPENSSL_free(der);
	ASN1_UTF8STRING_free(family);
	sk_ASN1_TYPE_pop_free(spec, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(vals, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(attr, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(attrs, ASN1_TYPE_free);
	return ok;
}

static bool is_p256(const EVP_PKEY *k)
{
	char group[32];
	size_t len = 0;

	return EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	       EVP_PKEY_get_group_name(k, group, sizeof(group), &len) == 1 &&
	       strcmp(group, EC_CURVE) == 0;
}

/* RFC 5480 as TPMs produce it: namedCurve parameters, uncompressed
 * point; OpenSSL would re-encode other forms as they came. */
static bool is_plain_ec(const EVP_PKEY *k)
{
	char enc[32] = "", form[32] = "";

	return EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_EC_ENCODING,
					      enc, sizeof(enc), NULL) == 1 &&
	       strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) == 0 &&
	       EVP_PKEY_get_utf8_string_param(
		       k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, form,
		       sizeof(form), NULL) == 1 &&
	       strcmp(form,
		      OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) == 0;
}

/* ------------------------------------------------------------------ CA */

int mgr_ca_create(const char *name, struct mgr_ca **out, char *why,
		  size_t why_len)
{
	struct mgr_ca *ca = NULL;
	X509_NAME *subj;
	int ret = -EIO;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out) {
		vtpm_set_why(why, why_len, "no output");
		return -EINVAL;
	}
	*out = NULL;
	if (!str_ok(name, MGR_CA_NAME_MAX)) {
		vtpm_set_why(why, why_len,
			"CA name must be 1..%u printable ASCII characters",
			MGR_CA_NAME_MAX);
		return -EINVAL;
	}
	ca = calloc(1, sizeof(*ca));
	if (!ca) {
		vtpm_set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	ca->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!ca->key) {
		ret = ssl_fail(why, why_len, "generating the CA key");
		goto fail;
	}
	ca->cert = X509_new();
	subj = ca->cert ? X509_get_subject_name(ca->cert) : NULL;
	if (!ca->cert || !X509_set_version(ca->cert, X509_VERSION_3) ||
	    !set_random_serial(ca->cert) || !add_utf8_rdn(subj, "O", CA_ORG) ||
	    !add_utf8_rdn(subj, "CN", name) ||
	    !X509_set_issuer_name(ca->cert, subj) ||
	    !set_validity(ca->cert, 0, 0) ||
	    !X509_set_pubkey(ca->cert, ca->key) ||
	    !add_basic_constraints(ca->cert, true) ||
	    !add_key_usage(ca->cert, KU_BIT_KEY_CERT_SIGN, KU_BIT_CRL_SIGN) ||
	    !add_self_key_ids(ca->cert) ||
	    X509_sign(ca->cert, ca->key, EVP_sha256()) <= 0) {
		ret = ssl_fail(why, why_len, "making the CA certificate");
		goto fail;
	}
	*out = ca;
	return 0;
fail:
	mgr_ca_free(ca);
	return ret;
}

void mgr_ca_free(struct mgr_ca *ca)
{
	if (!ca)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}

/* ---------------------------------------------------------------- files */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory part of path ("." when none), for the temporary and the
 * directory fsync. */
static int dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return snprintf(dir, cap, ".") < (int)cap ? 0 : -ENAMETOOLONG;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* Replaces path atomically and durably with data, mode `mode`. */
static int atomic_write(const char *path, const void *data, size_t len,
			mode_t mode, char *why, size_t why_len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int fd = -1, dfd = -1, ret;

	ret = dir_of(path, dir, sizeof(dir));
	if (ret || snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
			   (int)sizeof(tmp)) {
		vtpm_set_why(why, why_len, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		vtpm_set_why(why, why_len, "creating a temporary for %s: %s", path,
			strerror(-ret));
		return ret;
	}
	if (fchmod(fd, mode) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = write_all(fd, data, len);
	if (ret)
		goto fail;
	if (fsync(fd) < 0) {
		ret = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		ret = -errno;
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		ret = -errno;
		if (dfd >= 0)
			close(dfd);
		vtpm_set_why(why, why_len, "syncing the directory of %s: %s", path,
			strerror(-ret));
		return ret;
	}
	close(dfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	vtpm_set_why(why, why_len, "writing %s: %s", path, strerror(-ret));
	return ret;
}

/* Reads path whole, refusing what is not a regular file of ours, is
 * accessible to group or others, or is larger than MGR_CA_FILE_MAX. */
static int read_private_file(const char *path, unsigned char **data,
			     size_t *len, char *why, size_t why_len)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;
	int fd, ret;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		vtpm_set_why(why, why_len, "%s: %s", path, strerror(-ret));
		return ret == -ELOOP ? -EPERM : ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		vtpm_set_why(why, why_len, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		vtpm_set_why(why, why_len,
			"%s: must be a regular file owned by uid %u with mode "
			"0600 (is %04o, uid %u)",
			path, (unsigned)geteuid(),
			(unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		ret = -EPERM;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > (off_t)MGR_CA_FILE_MAX) {
		vtpm_set_why(why, why_len, "%s: size %lld not in 1..%u", path,
			(long long)st.st_size, MGR_CA_FILE_MAX);
		ret = -EBADMSG;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		ret = -ENOMEM;
		vtpm_set_why(why, why_len, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EBADMSG;
			vtpm_set_why(why, why_len, "reading %s: %s", path,
				n < 0 ? strerror(-ret) : "file shrank");
			goto out;
		}
		got += (size_t)n;
	}
	*data = buf;
	*len = got;
	buf = NULL;
	ret = 0;
out:
	if (buf) {
		OPENSSL_cleanse(buf, (size_t)st.st_size);
		free(buf);
	}
	close(fd);
	return ret;
}

int mgr_ca_save(const struct mgr_ca *ca, const char *path, char *why,
		size_t why_len)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!ca || !path) {
		vtpm_set_why(why, why_len, "no CA or no path");
		return -EINVAL;
	}
	/* Secure-heap memory BIO: cleansed when freed. */
	bio = BIO_new(BIO_s_secmem());
	if (!bio ||
	    !PEM_write_bio_PrivateKey(bio, ca->key, NULL, NULL, 0, NULL,
				      NULL) ||
	    !PEM_write_bio_X509(bio, ca->cert)) {
		ret = ssl_fail(why, why_len, "encoding the CA");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		ret = ssl_fail(why, why_len, "encoding the CA");
		goto out;
	}
	ret = atomic_write(path, data, (size_t)len, 0600, why, why_len);
out:
	BIO_free(bio);
	return ret;
}

/* Never prompt for a passphrase: an encrypted key is not ours. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The loaded pair is a CA we would have made: P-256 key matching a
 * self-signed certificate that may sign certificates. */
static int check_ca(const struct mgr_ca *ca, const char *path, char *why,
		    size_t why_len)
{
	const char *bad = NULL;

	if (!is_p256(ca->key))
		bad = "the key is not ECDSA P-256";
	else if (X509_check_private_key(ca->cert, ca->key) != 1)
		bad = "the key does not match the certificate";
	else if (X509_check_ca(ca->cert) != 1)
		bad = "the certificate is not a CA certificate";
	else if (!(X509_get_key_usage(ca->cert) & KU_KEY_CERT_SIGN))
		bad = "the certificate may not sign certificates";
	else if (X509_NAME_cmp(X509_get_subject_name(ca->cert),
			       X509_get_issuer_name(ca->cert)) != 0 ||
		 X509_verify(ca->cert, ca->key) != 1)
		bad = "the certificate is not self-signed by the key";
	else if (!X509_get0_subject_key_id(ca->cert))
		bad = "the certificate has no subject key identifier";
	ERR_clear_error();
	if (bad) {
		vtpm_set_why(why, why_len, "%s: %s", path, bad);
		return -EBADMSG;
	}
	return 0;
}

int mgr_ca_load(const char *path, struct mgr_ca **out, char *why,
		size_t why_len)
{
	struct mgr_ca *ca = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!path || !out) {
		vtpm_set_why(why, why_len, "no path or no output");
		return -EINVAL;
	}
	*out = NULL;
	ret = read_private_file(path, &data, &len, why, why_len);
	if (ret)
		return ret;
	ca = calloc(1, sizeof(*ca));
	if (!ca) {
		vtpm_set_why(why, why_len, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	/* Each PEM read skips blocks of other kinds: read the two
	 * independently. */
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio)
		ca->key =
			PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio)
		ca->cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!ca->key || !ca->cert) {
		vtpm_set_why(why, why_len, "%s: no %s", path,
			!ca->key ? "unencrypted private key" : "certificate");
		ret = -EBADMSG;
		goto out;
	}
	ret = check_ca(ca, path, why, why_len);
	if (ret)
		goto out;
	*out = ca;
	ca = NULL;
out:
	mgr_ca_free(ca);
	OPENSSL_cleanse(data, len);
	free(data);
	return ret;
}

int mgr_ca_open(const char *path, const char *name, struct mgr_ca **out,
		bool *created, char *why, size_t why_len)
{
	struct mgr_ca *ca = NULL;
	int ret;

	if (created)
		*created = false;
	ret = mgr_ca_load(path, out, why, why_len);
	if (ret != -ENOENT)
		return ret;
	ret = mgr_ca_create(name, &ca, why, why_len);
	if (ret)
		return ret;
	ret = mgr_ca_save(ca, path, why, why_len);
	if (ret) {
		mgr_ca_free(ca);
		return ret;
	}
	if (created)
		*created = true;
	*out = ca;
	return 0;
}

int mgr_ca_cert_pem(const struct mgr_ca *ca, char **pem, size_t *len, char *why,
		    size_t why_len)
{
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int ret = 0;

	vtpm_set_why(why, why_len, "%s", "");
	if (!ca || !pem || !len) {
		vtpm_set_why(why, why_len, "no CA or no output");
		return -EINVAL;
	}
	*pem = NULL;
	*len = 0;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_X509(bio, ca->cert) ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0) {
		ret = ssl_fail(why, why_len, "encoding the CA certificate");
		goto out;
	}
	*pem = malloc((size_t)n + 1);
	if (!*pem) {
		vtpm_set_why(why, why_len, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	*len = (size_t)n;
out:
	BIO_free(bio);
	return ret;
}

/* i2d into a malloc'd buffer (callers free(), not OPENSSL_free()). */
static int x509_der(X509 *x, uint8_t **der, size_t *len)
{
	unsigned char *p;
	int n = i2d_X509(x, NULL);

	if (n <= 0)
		return -EIO;
	*der = malloc((size_t)n);
	if (!*der)
		return -ENOMEM;
	p = *der;
	if (i2d_X509(x, &p) != n) {
		free(*der);
		*der = NULL;
		return -EIO;
	}
	*len = (size_t)n;
	return 0;
}

int mgr_ca_cert_der(const struct mgr_ca *ca, uint8_t **der, size_t *len,
		    char *why, size_t why_len)
{
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!ca || !der || !len) {
		vtpm_set_why(why, why_len, "no CA or no output");
		return -EINVAL;
	}
	*der = NULL;
	*len = 0;
	ret = x509_der(ca->cert, der, len);
	if (ret)
		ssl_fail(why, why_len, "encoding the CA certificate");
	return ret;
}

/* ------------------------------------------------------------ EK certs */

/* The certificate will carry OpenSSL's encoding of the key: it must be
 * the bytes we were given.  OpenSSL's decoder is lenient (it takes, for
 * one, rsaEncryption with parameters other than NULL), and what is
 * certified must be exactly what the instance sent. */
static bool is_canonical(const EVP_PKEY *k, const uint8_t *der, size_t len)
{
	unsigned char *enc = NULL;
	int n = i2d_PUBKEY(k, &enc);
	bool same = n > 0 && (size_t)n == len && memcmp(enc, der, len) == 0;

	OPENSSL_free(enc);
	return same;
}

/* An RSA key as a TPM makes it: odd modulus, exponent 65537 (templates
 * say 0, the default).  Not OpenSSL's full public check, an SP 800-56B
 * composite test costing 4-8 ms per certificate: a malformed modulus gains
 * nobody anything (a key is only useful to whoever holds its private
 * half), while the P-256 point check below is cheap and kept. */
static bool is_tpm_rsa(const EVP_PKEY *k)
{
	BIGNUM *n = NULL, *e = NULL;
	bool ok;

	ok = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	     EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
	     BN_is_odd(n) && BN_num_bits(n) == RSA_EK_BITS &&
	     BN_is_word(e, 65537);
	BN_free(n);
	BN_free(e);
	return ok;
}

/* Parses and checks the EK's key; *key owned by the caller on success. */
static int parse_ek_key(const struct mgr_ca_ek_req *req, EVP_PKEY **key,
			char *why, size_t why_len)
{
	const unsigned char *p = req->spki;
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	const char *bad = NULL;

	*key = NULL;
	if (!req->spki || req->spki_len == 0 || req->spki_len > LONG_MAX) {
		vtpm_set_why(why, why_len, "EK key: no SubjectPublicKeyInfo");
		return -EINVAL;
	}
	k = d2i_PUBKEY(NULL, &p, (long)req->spki_len);
	if (!k)
		bad = "not a DER SubjectPublicKeyInfo";
	else if (p != req->spki + req->spki_len)
		bad = "trailing bytes after the SubjectPublicKeyInfo";
	else if (!is_canonical(k, req->spki, req->spki_len))
		bad = "not the DER encoding OpenSSL gives it back (odd "
		      "parameters or a non-minimal form)";
	else if (req->type == MGR_CA_EK_RSA2048 &&
		 (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA ||
		  EVP_PKEY_get_bits(k) != RSA_EK_BITS))
		bad = "not an RSA-2048 key";
	else if (req->type == MGR_CA_EK_ECC_P256 && !is_p256(k))
		bad = "not an ECC NIST P-256 key";
	else if (req->type == MGR_CA_EK_ECC_P256 && !is_plain_ec(k))
		bad = "not a named curve with an uncompressed point (RFC 5480)";
	else if (req->type != MGR_CA_EK_RSA2048 &&
		 req->type != MGR_CA_EK_ECC_P256)
		bad = "unknown EK type";
	else if (req->type == MGR_CA_EK_RSA2048 && !is_tpm_rsa(k))
		bad = "not an odd modulus with exponent 65537";
	else if (req->type == MGR_CA_EK_ECC_P256 &&
		 (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) ||
		  EVP_PKEY_public_check(ctx) != 1))
		bad = "not a point on the curve";
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (bad) {
		vtpm_set_why(why, why_len, "EK key: %s", bad);
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*key = k;
	return 0;
}

static int check_ek_req(const struct mgr_ca_ek_req *req, char *why,
			size_t why_len)
{
	if (!str_ok(req->tpm_model, MGR_CA_STR_MAX)) {
		vtpm_set_why(why, why_len,
			"TPM model must be 1..%u printable ASCII characters",
			MGR_CA_STR_MAX);
		return -EINVAL;
	}
	if (req->spec_family && !str_ok(req->spec_family, MGR_CA_STR_MAX)) {
		vtpm_set_why(why, why_len,
			"TPM spec family must be 1..%u printable ASCII "
			"characters",
			MGR_CA_STR_MAX);
		return -EINVAL;
	}
	if (req->subject_cn && !str_ok(req->subject_cn, MGR_CA_NAME_MAX)) {
		vtpm_set_why(why, why_len,
			"subject CN must be 1..%u printable ASCII characters",
			MGR_CA_NAME_MAX);
		return -EINVAL;
	}
	if (req->days > MGR_CA_DAYS_MAX || req->not_before < 0) {
		vtpm_set_why(why, why_len,
			"validity: days must be 0..%u, not_before >= 0",
			MGR_CA_DAYS_MAX);
		return -EINVAL;
	}
	return 0;
}

int mgr_ca_issue_ek(const struct mgr_ca *ca, const struct mgr_ca_ek_req *req,
		    uint8_t **der, size_t *der_len, char *why, size_t why_len)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!ca || !req || !der || !der_len) {
		vtpm_set_why(why, why_len, "no CA, request or output");
		return -EINVAL;
	}
	*der = NULL;
	*der_len = 0;
	ret = parse_ek_key(req, &key, why, why_len);
	if (ret)
		return ret;
	ret = check_ek_req(req, why, why_len);
	if (ret)
		goto out;
	x = X509_new();
	if (!x || !X509_set_version(x, X509_VERSION_3) ||
	    !set_random_serial(x) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
	    (req->subject_cn &&
	     !add_utf8_rdn(X509_get_subject_name(x), "CN", req->subject_cn)) ||
	    !set_validity(x, req->not_before, req->days) ||
	    !X509_set_pubkey(x, key) || !add_tpm_san(x, req) ||
	    !add_basic_constraints(x, false) ||
	    !add_key_usage(x,
			   req->type == MGR_CA_EK_RSA2048
				   ? KU_BIT_KEY_ENCIPHERMENT
				   : KU_BIT_KEY_AGREEMENT,
			   -1) ||
	    !add_ek_eku(x) || !add_aki(x, X509_get0_subject_key_id(ca->cert)) ||
	    (req->spec_family && !add_tpm_spec(x, req)) ||
	    X509_sign(x, ca->key, EVP_sha256()) <= 0) {
		ret = ssl_fail(why, why_len, "making the EK certificate");
		goto out;
	}
	ret = x509_der(x, der, der_len);
	if (ret)
		ssl_fail(why, why_len, "encoding the EK certificate");
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return ret;
}
