/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sha256.c - SHA-256 (FIPS 180-4), freestanding.
 *
 * The engine runs inside the hypervisor, where there is no crypto library,
 * and it needs exactly one hash: the blob's trailer.  Plain and portable:
 * big-endian words assembled from bytes, no alignment assumptions.
 */
#include "acm/acm_private.h"

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32u - n));
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#define CH(e, f, g) (((e) & (f)) ^ (~(e) & (g)))
#define MAJ(a, b, c) (((a) & (b)) ^ ((a) & (c)) ^ ((b) & (c)))
#define SIGMA0(a) (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22))
#define SIGMA1(e) (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25))
#define GAMMA0(x) (ror32(x, 7) ^ ror32(x, 18) ^ ((x) >> 3))
#define GAMMA1(x) (ror32(x, 17) ^ ror32(x, 19) ^ ((x) >> 10))

/* One round; the callers rotate the roles of a..h instead of moving eight
 * values each round, which the compiler cannot always see through. */
#define ROUND(a, b, c, d, e, f, g, h, i)                                  \
	do {                                                              \
		uint32_t t1 = (h) + SIGMA1(e) + CH(e, f, g) + sha256_k[i] +  \
			      w[(i) & 15];                                \
		(d) += t1;                                                \
		(h) = t1 + SIGMA0(a) + MAJ(a, b, c);                      \
	} while (0)

static void sha256_block(uint32_t h[8], const uint8_t *block)
{
	uint32_t w[16], a, b, c, d, e, f, g, k;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = be32(block + 4 * i);
	a = h[0], b = h[1], c = h[2], d = h[3];
	e = h[4], f = h[5], g = h[6], k = h[7];
	for (i = 0; i < 64; i += 8) {
		if (i >= 16) /* the schedule, in place in 16 words */
			for (unsigned j = 0; j < 8; j++) {
				unsigned n = i + j;

				w[n & 15] += GAMMA1(w[(n - 2) & 15]) +
					     w[(n - 7) & 15] +
					     GAMMA0(w[(n - 15) & 15]);
			}
		ROUND(a, b, c, d, e, f, g, k, i);
		ROUND(k, a, b, c, d, e, f, g, i + 1);
		ROUND(g, k, a, b, c, d, e, f, i + 2);
		ROUND(f, g, k, a, b, c, d, e, i + 3);
		ROUND(e, f, g, k, a, b, c, d, i + 4);
		ROUND(d, e, f, g, k, a, b, c, i + 5);
		ROUND(c, d, e, f, g, k, a, b, i + 6);
		ROUND(b, c, d, e, f, g, k, a, i + 7);
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void acm_sha256_init(struct acm_sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	unsigned i;

	for (i = 0; i < 8; i++)
		s->h[i] = iv[i];
	s->len = 0;
	s->fill = 0;
}

void acm_sha256_update(struct acm_sha256 *s, const void *data, size_t len)
{
	const uint8_t *in = data;

	s->len += len;
	if (s->fill) {
		while (len && s->fill < 64) {
			s->buf[s->fill++] = *in++;
			len--;
		}
		if (s->fill < 64)
			return;
		sha256_block(s->h, s->buf);
		s->fill = 0;
	}
	/* Whole blocks straight from the input: no copy. */
	for (; len >= 64; in += 64, len -= 64)
		sha256_block(s->h, in);
	while (len--)
		s->buf[s->fill++] = *in++;
}

void acm_sha256_final(struct acm_sha256 *s, uint8_t out[ACM_SHA256_LEN])
{
	uint64_t bits = s->len * 8u;
	unsigned i;

	s->buf[s->fill++] = 0x80;
	if (s->fill > 56) {
		while (s->fill < 64)
			s->buf[s->fill++] = 0;
		sha256_block(s->h, s->buf);
		s->fill = 0;
	}
	while (s->fill < 56)
		s->buf[s->fill++] = 0;
	for (i = 0; i < 8; i++)
		s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_block(s->h, s->buf);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
	/* Leave nothing of the input behind in the caller's struct. */
	for (i = 0; i < 64; i++)
		s->buf[i] = 0;
	s->fill = 0;
}

void acm_sha256(const void *data, size_t len, uint8_t out[ACM_SHA256_LEN])
{
	struct acm_sha256 s;

	acm_sha256_init(&s);
	acm_sha256_update(&s, data, len);
	acm_sha256_final(&s, out);
}
