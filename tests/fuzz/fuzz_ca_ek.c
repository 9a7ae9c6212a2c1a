/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ca_ek - libFuzzer harness for what the manager's CA takes from a
 * vTPM instance (vtpm-manager/mgr_ca.c, mgr_ca_issue_ek): the EK's
 * SubjectPublicKeyInfo, chosen by a possibly compromised instance.
 *
 *   input := type:u8 spki[...]     (type: 1 RSA-2048, 2 P-256, else as is)
 *
 * One CA is made on the first input.  Invariants, any failure aborts:
 *   - the answer is 0 or -EINVAL, nothing else;
 *   - on -EINVAL, no certificate is returned;
 *   - on 0, the certificate parses with nothing after it, verifies with
 *     the CA's key, and certifies exactly the key given (the same DER).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "vtpm-manager/mgr_ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mgr_ca *ca;
static EVP_PKEY *ca_pub;

static void setup(void)
{
	uint8_t *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	X509 *x;

	if (mgr_ca_create("fuzz CA", &ca, NULL, 0) ||
	    mgr_ca_cert_der(ca, &der, &len, NULL, 0))
		abort();
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x)
		abort();
	ca_pub = X509_get_pubkey(x);
	X509_free(x);
	free(der);
	if (!ca_pub)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mgr_ca_ek_req req = {
		.tpm_manufacturer = 0x49424d00,
		.tpm_model = "fuzz",
		.tpm_version = 0x20191023,
		.spec_family = "2.0",
		.spec_revision = 164,
	};
	uint8_t *der = NULL, *spki = NULL;
	size_t len = 0;
	const unsigned char *p;
	unsigned char *q;
	X509 *x;
	int ret, n;

	if (!ca)
		setup();
	if (size < 1)
		return 0;
	req.type = (enum mgr_ca_ek_type)data[0];
	req.spki = data + 1;
	req.spki_len = size - 1;
	ret = mgr_ca_issue_ek(ca, &req, &der, &len, NULL, 0);
	if (ret == -EINVAL) {
		if (der || len)
			abort();
		return 0;
	}
	if (ret != 0 || !der)
		abort();
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len || X509_verify(x, ca_pub) != 1)
		abort();
	n = i2d_PUBKEY(X509_get0_pubkey(x), NULL);
	if (n <= 0 || (size_t)n != req.spki_len)
		abort();
	spki = malloc((size_t)n);
	q = spki;
	if (!spki || i2d_PUBKEY(X509_get0_pubkey(x), &q) != n ||
	    memcmp(spki, req.spki, (size_t)n) != 0)
		abort();
	free(spki);
	X509_free(x);
	free(der);
	return 0;
}
