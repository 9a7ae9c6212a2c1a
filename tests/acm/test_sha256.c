/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sha256 - the engine's SHA-256 against FIPS 180-4 / NIST vectors, in
 * one shot and fed in every chunking, and against OpenSSL on lengths around
 * the block and padding boundaries.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acm/acm.h"
#include "tests/harness.h"

struct vector {
	const char *what;
	const char *msg;      /* NULL: a million 'a' */
	const char *digest;   /* hex */
};

static const struct vector vectors[] = {
	{ "empty", "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "448 bits",
	  "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "896 bits",
	  "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "million a", NULL,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static void to_hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_vectors(void)
{
	static uint8_t million[1000000];
	uint8_t d[32];
	char hex[65];

	memset(million, 'a', sizeof(million));
	for (size_t i = 0; i < TH_ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		const uint8_t *msg = v->msg ? (const uint8_t *)v->msg : million;
		size_t len = v->msg ? strlen(v->msg) : sizeof(million);
		size_t chunks[] = { 1, 3, 63, 64, 65, 1000 };

		acm_sha256(msg, len, d);
		to_hex(d, hex);
		TH_CHECK(strcmp(hex, v->digest) == 0, "%s one shot: %s",
			 v->what, hex);
		/* The same message in pieces of every size above. */
		for (size_t c = 0; c < TH_ARRAY_LEN(chunks); c++) {
			struct acm_sha256 s;

			acm_sha256_init(&s);
			for (size_t at = 0; at < len; at += chunks[c])
				acm_sha256_update(&s, msg + at,
						  len - at < chunks[c] ?
						  len - at : chunks[c]);
			acm_sha256_final(&s, d);
			to_hex(d, hex);
			TH_CHECK(strcmp(hex, v->digest) == 0,
				 "%s in chunks of %zu", v->what, chunks[c]);
		}
	}
}

/* Every length 0..300 (all padding cases, one to five blocks), from an
 * unaligned start, against OpenSSL. */
static void test_against_openssl(void)
{
	uint8_t buf[301 + 1], want[32], got[32];
	unsigned int n = 32;
	int bad = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131u + 7u);
	for (size_t len = 0; len <= 300; len++) {
		EVP_Digest(buf + 1, len, want, &n, EVP_sha256(), NULL);
		acm_sha256(buf + 1, len, got);
		bad += memcmp(want, got, 32) != 0;
	}
	TH_CHECK(bad == 0, "lengths 0..300 agree with OpenSSL (%d differ)",
		 bad);
}

int main(void)
{
	test_vectors();
	test_against_openssl();
	return th_done();
}
