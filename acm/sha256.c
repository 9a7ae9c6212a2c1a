/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sha256.c - SHA-256 (FIPS 180-4), freestanding.
 *
 * The engine runs inside the hypervisor, where there is no crypto library,
 * and it needs exactly one hash: the blob's trailer, which measure and load
 * each verify over the whole blob.  So this is on the load path and worth
 * some care, while staying portable C: no intrinsics, no alignment
 * assumptions, and the same code on every host.
 *
 * What makes it fast without any of that:
 *   - the 64 rounds are written out, so every index into the schedule and
 *     the constants is a compile-time constant and the eight working
 *     variables never move (each round renames them instead);
 *   - the schedule is rolling: 16 words, word i overwritten in round i, so
 *     it fits in registers and stack slots the compiler sees through;
 *   - whole blocks are read straight from the caller's buffer, four bytes
 *     at a time (the byte assembly below compiles to one load and a byte
 *     swap); only a partial block at either end is copied.
 */
#include "acm/acm_private.h"

static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32u - n));
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Ch with one operation fewer than the textbook form. */
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define SIGMA0(a) (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22))
#define SIGMA1(e) (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25))
#define GAMMA0(x) (ror32(x, 7) ^ ror32(x, 18) ^ ((x) >> 3))
#define GAMMA1(x) (ror32(x, 17) ^ ror32(x, 19) ^ ((x) >> 10))

/* Schedule word i (16 <= i < 64), in place of word i - 16. */
#define W(i)                                                              \
	(w[(i) & 15] += GAMMA1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] +   \
			GAMMA0(w[((i) - 15) & 15]))

/*
 * One round with message word `m` and constant `k`.  Maj(a, b, c) is
 * b ^ ((a ^ b) & (b ^ c)), and this round's b ^ c is the previous round's
 * a ^ b: `bc` carries it from round to round, saving an operation.
 */
#define ROUND(a, b, c, d, e, f, g, h, k, m)                               \
	do {                                                              \
		uint32_t t1 = (h) + SIGMA1(e) + CH(e, f, g) + (k) + (m);  \
		uint32_t ab = (a) ^ (b);                                  \
		(d) += t1;                                                \
		(h) = t1 + SIGMA0(a) + ((b) ^ (ab & bc));                 \
		bc = ab;                                                  \
	} while (0)

/* Eight rounds from round i: the roles of a..h come back where they
 * started, so the next eight can be written the same way. */
#define ROUNDS8(i, m, k0, k1, k2, k3, k4, k5, k6, k7)                     \
	do {                                                              \
		ROUND(a, b, c, d, e, f, g, h, k0, m((i) + 0));            \
		ROUND(h, a, b, c, d, e, f, g, k1, m((i) + 1));            \
		ROUND(g, h, a, b, c, d, e, f, k2, m((i) + 2));            \
		ROUND(f, g, h, a, b, c, d, e, k3, m((i) + 3));            \
		ROUND(e, f, g, h, a, b, c, d, k4, m((i) + 4));            \
		ROUND(d, e, f, g, h, a, b, c, k5, m((i) + 5));            \
		ROUND(c, d, e, f, g, h, a, b, k6, m((i) + 6));            \
		ROUND(b, c, d, e, f, g, h, a, k7, m((i) + 7));            \
	} while (0)

/* Rounds 0..15 read the block; the others compute the schedule. */
#define M0(i) (w[i] = be32(block + 4 * (i)))
#define M1(i) W(i)

static void sha256_block(uint32_t st[8], const uint8_t *block)
{
	uint32_t w[16], a, b, c, d, e, f, g, h, bc;

	a = st[0], b = st[1], c = st[2], d = st[3];
	e = st[4], f = st[5], g = st[6], h = st[7];
	bc = b ^ c;
	ROUNDS8(0, M0, 0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
		0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5);
	ROUNDS8(8, M0, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
		0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174);
	ROUNDS8(16, M1, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
		0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da);
	ROUNDS8(24, M1, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
		0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967);
	ROUNDS8(32, M1, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
		0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85);
	ROUNDS8(40, M1, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
		0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070);
	ROUNDS8(48, M1, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
		0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3);
	ROUNDS8(56, M1, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
		0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2);
	st[0] += a, st[1] += b, st[2] += c, st[3] += d;
	st[4] += e, st[5] += f, st[6] += g, st[7] += h;
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
	size_t take;

	s->len += len;
	if (s->fill) {
		/* Top up the partial block first: at most 63 bytes. */
		take = 64u - s->fill < len ? 64u - s->fill : len;
		for (size_t i = 0; i < take; i++)
			s->buf[s->fill + i] = in[i];
		s->fill += take;
		in += take;
		len -= take;
		if (s->fill < 64)
			return;
		sha256_block(s->h, s->buf);
		s->fill = 0;
	}
	/* Whole blocks straight from the input: no copy. */
	for (; len >= 64; in += 64, len -= 64)
		sha256_block(s->h, in);
	for (size_t i = 0; i < len; i++)
		s->buf[i] = in[i];
	s->fill = len;
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
