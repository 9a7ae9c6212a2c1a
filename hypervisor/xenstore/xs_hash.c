/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xs_hash.c - keyed hashing of paths and the intrusive hash table every
 * index of the store uses (nodes, watch paths, domains, transactions and
 * transaction records).
 *
 * Guests choose the paths, so a fixed hash would let one of them put every
 * node it creates into one bucket and make each lookup walk a long chain.
 * The base of the Karp-Rabin hash is secret and random per server, which
 * makes that a guessing game; being a polynomial hash it also gives the key
 * of every prefix of a path in a single pass (xs_path.c relies on that).
 */
#include <stdlib.h>
#include <string.h>

#include "hypervisor/xenstore/xs_priv.h"

#define KR_P ((UINT64_C(1) << 61) - 1)

__extension__ typedef unsigned __int128 u128;

/* a * b mod 2^61-1 for a, b < 2^61-1. */
static uint64_t mulmod(uint64_t a, uint64_t b)
{
	u128 r = (u128)a * b;
	uint64_t s = ((uint64_t)r & KR_P) + (uint64_t)(r >> 61);

	s = (s & KR_P) + (s >> 61);
	return s >= KR_P ? s - KR_P : s;
}

/* SplitMix64's finaliser: spreads every input bit over the whole key, so
 * that the bucket index (the low bits) depends on all of it. */
static uint64_t fmix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

void xs_hasher_init(struct xs_hasher *h, uint64_t seed)
{
	uint64_t a = fmix64(seed ^ UINT64_C(0x9e3779b97f4a7c15));
	uint64_t b = fmix64(a + UINT64_C(0x9e3779b97f4a7c15));

	/* Keep the base away from tiny values, where short strings would
	 * hash to small, clustered numbers. */
	h->base = (a % (KR_P - (UINT64_C(1) << 21))) + (UINT64_C(1) << 20);
	h->mix = b;
}

uint64_t xs_kr_extend(const struct xs_hasher *h, uint64_t kr, const char *s,
		      size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		kr = mulmod(kr, h->base) + (unsigned char)s[i];
	/* kr < 2^61 - 1 + 256 here; one subtraction brings it back. */
	return kr >= KR_P ? kr - KR_P : kr;
}

uint64_t xs_kr_key(const struct xs_hasher *h, uint64_t kr)
{
	return fmix64(kr ^ h->mix);
}

uint64_t xs_int_key(const struct xs_hasher *h, uint64_t v)
{
	return fmix64((v + 1) * UINT64_C(0x9e3779b97f4a7c15) ^ h->mix);
}

struct xs_key xs_key_of(const struct xs_hasher *h, const char *s, size_t len)
{
	struct xs_key k = {.s = s, .len = (uint32_t)len};

	k.hash = xs_kr_key(h, xs_kr_extend(h, XS_KR_INIT, s, len));
	return k;
}

/* ------------------------------------------------------------------ */

int xs_ht_init(struct xs_htab *t, size_t buckets)
{
	size_t n = 8;

	while (n < buckets)
		n <<= 1;
	t->b = calloc(n, sizeof(*t->b));
	if (!t->b)
		return ENOMEM;
	t->mask = n - 1;
	t->n = 0;
	return 0;
}

void xs_ht_fini(struct xs_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->mask = 0;
	t->n = 0;
}

/* Doubles the bucket array; on ENOMEM the table keeps working with longer
 * chains, which is slower but still correct. */
static void grow(struct xs_htab *t)
{
	size_t nb = (t->mask + 1) * 2, i;
	struct xs_hnode **b, *n, *next;

	if (nb > (SIZE_MAX / sizeof(*b)))
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i <= t->mask; i++) {
		for (n = t->b[i]; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->b);
	t->b = b;
	t->mask = nb - 1;
}

void xs_ht_add(struct xs_htab *t, struct xs_hnode *n, uint64_t hash)
{
	struct xs_hnode **b;

	if (t->n >= t->mask + 1)
		grow(t);
	b = &t->b[hash & t->mask];
	n->hash = hash;
	n->next = *b;
	*b = n;
	t->n++;
}

void xs_ht_del(struct xs_htab *t, struct xs_hnode *n)
{
	struct xs_hnode **pp = &t->b[n->hash & t->mask];

	while (*pp && *pp != n)
		pp = &(*pp)->next;
	assert(*pp == n);
	if (!*pp)
		return;
	*pp = n->next;
	n->next = NULL;
	t->n--;
}

struct xs_hnode *xs_ht_find(const struct xs_htab *t, uint64_t hash)
{
	struct xs_hnode *n = t->b[hash & t->mask];

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct xs_hnode *xs_ht_next(const struct xs_hnode *n, uint64_t hash)
{
	for (n = n->next; n; n = n->next)
		if (n->hash == hash)
			return (struct xs_hnode *)n;
	return NULL;
}
