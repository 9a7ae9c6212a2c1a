// SPDX-License-Identifier: BSD-2-Clause
/*
 * emit.c - struct polc_policy -> binary policy, exactly docs/formats.md.
 *
 * The output depends only on the policy's meaning: types, labels and sets
 * are sorted by name, the string pool is sorted and deduplicated, label
 * ids come from a hash of kind and name, and every byte not otherwise
 * written is zero.  So the same policy always gives the same bytes,
 * whatever the element order of its source.
 *
 * Every integer is written byte by byte in little-endian order, so the
 * host's endianness and struct padding never reach the file; acm/acm.h's
 * structs (with their static_asserts) are used only for their sizes.
 *
 * The policy must have passed polc_check.  The emitter still re-verifies
 * what its layout relies on (unique names, resolvable types, the
 * bootstrap label, the format's limits) and refuses with a diagnostic
 * rather than write a malformed blob; name syntax is polc_check's job
 * (and the loader refuses bad names anyway).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy-compiler/polc.h"

#define ID_MASK 0x7fffffffu
#define TRAILER ACM_SHA256_LEN

/* ---------------------------------------------------------------- bytes */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~(uint64_t)7;
}

/* Sets bit `t` of the little-endian u64 word array at `words`. */
static void set_bit(uint8_t *words, size_t t)
{
	words[(t / 64) * 8 + (t % 64) / 8] |= (uint8_t)(1u << (t % 8));
}

static int sha256(const void *data, size_t len, uint8_t out[ACM_SHA256_LEN])
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) ||
	    n != ACM_SHA256_LEN)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- ids */

static uint32_t seed_with(EVP_MD_CTX *ctx, enum acm_label_kind kind,
			  const char *name)
{
	static const char prefix[] = "hvsec-label"; /* hashed with its NUL */
	uint8_t k = (uint8_t)kind, md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	uint32_t seed;

	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, prefix, sizeof(prefix)) ||
	    !EVP_DigestUpdate(ctx, &k, 1) ||
	    !EVP_DigestUpdate(ctx, name, strlen(name)) ||
	    !EVP_DigestFinal_ex(ctx, md, &n) || n < 4)
		return 0;
	seed = ((uint32_t)md[0] | (uint32_t)md[1] << 8 | (uint32_t)md[2] << 16 |
		(uint32_t)md[3] << 24) &
	       ID_MASK;
	return seed ? seed : 1;
}

uint32_t polc_label_id_seed(enum acm_label_kind kind, const char *name)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint32_t seed = 0;

	if (ctx)
		seed = seed_with(ctx, kind, name);
	EVP_MD_CTX_free(ctx);
	return seed;
}

/* Open-addressing set of taken ids (0 marks a free slot; ids never are). */
struct idset {
	uint32_t *slot;
	size_t mask;
};

static bool idset_init(struct idset *s, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	s->slot = calloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
	return s->slot != NULL;
}

/* Adds `id`; false if it was already there. */
static bool idset_add(struct idset *s, uint32_t id)
{
	size_t i = (id * (size_t)0x9e3779b1u) & s->mask;

	while (s->slot[i]) {
		if (s->slot[i] == id)
			return false;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = id;
	return true;
}

/* ---------------------------------------------------------------- sorting */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *nm(const char *s)
{
	return s ? s : "";
}

/* Position of `s` in the sorted array `v`, or -1. */
static long find(const char *const *v, size_t n, const char *s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(v[mid], s);

		if (r == 0)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct emitter {
	const struct polc_policy *p;
	struct polc_diags *diags;
	const char **ste, **cw; /* sorted type names */
	size_t n_ste, n_cw;
	const struct polc_label **labels; /* rows: VM sorted, then resource */
	size_t n_labels, n_vm;
	const struct polc_conflict **sets; /* sorted by name */
	size_t n_sets;
	const char **pool; /* sorted distinct strings */
	uint64_t *pool_off;
	size_t n_pool;
	uint64_t pool_bytes;
};

static bool oom(const struct emitter *e)
{
	polc_diag_add(e->diags, POLC_ERROR, 0, "out of memory");
	return false;
}

static bool sorted_types(struct emitter *e, const struct polc_names *v,
			 const char ***out, size_t *n, const char *what)
{
	size_t i;

	*out = malloc((v->n ? v->n : 1) * sizeof(**out));
	if (!*out)
		return oom(e);
	for (i = 0; i < v->n; i++)
		(*out)[i] = nm(v->v[i].name);
	*n = v->n;
	qsort(*out, *n, sizeof(**out), str_cmp);
	for (i = 1; i < *n; i++)
		if (strcmp((*out)[i], (*out)[i - 1]) == 0) {
			polc_diag_add(e->diags, POLC_ERROR, 0,
				      "cannot emit: duplicate %s '%.64s' (the "
				      "policy did not pass polc_check)",
				      what, (*out)[i]);
			return false;
		}
	return true;
}

static int label_cmp(const void *a, const void *b)
{
	const struct polc_label *x = *(const struct polc_label *const *)a;
	const struct polc_label *y = *(const struct polc_label *const *)b;

	if (x->kind != y->kind)
		return x->kind == ACM_LABEL_VM ? -1 : 1;
	return strcmp(nm(x->name.name), nm(y->name.name));
}

static int set_cmp(const void *a, const void *b)
{
	const struct polc_conflict *x = *(const struct polc_conflict *const *)a;
	const struct polc_conflict *y = *(const struct polc_conflict *const *)b;

	return strcmp(nm(x->name.name), nm(y->name.name));
}

static bool sort_all(struct emitter *e)
{
	const struct polc_policy *p = e->p;
	size_t i;

	if (!sorted_types(e, &p->ste_types, &e->ste, &e->n_ste, "STE type") ||
	    !sorted_types(e, &p->cw_types, &e->cw, &e->n_cw,
			  "Chinese Wall type"))
		return false;
	e->labels =
		malloc((p->n_labels ? p->n_labels : 1) * sizeof(*e->labels));
	e->sets = malloc((p->n_conflicts ? p->n_conflicts : 1) *
			 sizeof(*e->sets));
	if (!e->labels || !e->sets)
		return oom(e);
	for (i = 0; i < p->n_labels; i++) {
		const struct polc_label *l = &p->labels[i];

		if (l->kind != ACM_LABEL_VM && l->kind != ACM_LABEL_RESOURCE) {
			polc_diag_add(e->diags, POLC_ERROR, l->name.line,
				      "cannot emit: label of unknown kind");
			return false;
		}
		e->labels[i] = l;
		e->n_vm += l->kind == ACM_LABEL_VM;
	}
	e->n_labels = p->n_labels;
	qsort(e->labels, e->n_labels, sizeof(*e->labels), label_cmp);
	for (i = 1; i < e->n_labels; i++)
		if (label_cmp(&e->labels[i], &e->labels[i - 1]) == 0) {
			polc_diag_add(e->diags, POLC_ERROR,
				      e->labels[i]->name.line,
				      "cannot emit: duplicate label '%.64s' "
				      "(the policy did not pass polc_check)",
				      nm(e->labels[i]->name.name));
			return false;
		}
	for (i = 0; i < p->n_conflicts; i++)
		e->sets[i] = &p->conflicts[i];
	e->n_sets = p->n_conflicts;
	qsort(e->sets, e->n_sets, sizeof(*e->sets), set_cmp);
	for (i = 1; i < e->n_sets; i++)
		if (set_cmp(&e->sets[i], &e->sets[i - 1]) == 0) {
			polc_diag_add(e->diags, POLC_ERROR,
				      e->sets[i]->name.line,
				      "cannot emit: duplicate conflict set "
				      "'%.64s' (the policy did not pass "
				      "polc_check)",
				      nm(e->sets[i]->name.name));
			return false;
		}
	return true;
}

/* ---------------------------------------------------------------- strings */

static void pool_add(const char **v, size_t *n, const char *s)
{
	if (s && *s)
		v[(*n)++] = s;
}

static bool build_pool(struct emitter *e)
{
	const struct polc_policy *p = e->p;
	size_t max = 7 + e->n_ste + e->n_cw + e->n_sets + 2 * e->n_labels;
	size_t i, n = 0, o = 0;
	uint64_t bytes = 1;

	e->pool = malloc(max * sizeof(*e->pool));
	if (!e->pool)
		return oom(e);
	pool_add(e->pool, &n, p->name.name);
	if (p->has_from)
		pool_add(e->pool, &n, p->from_name);
	pool_add(e->pool, &n, p->url);
	pool_add(e->pool, &n, p->reference);
	pool_add(e->pool, &n, p->date);
	pool_add(e->pool, &n, p->namespace_url);
	for (i = 0; i < e->n_ste; i++)
		pool_add(e->pool, &n, e->ste[i]);
	for (i = 0; i < e->n_cw; i++)
		pool_add(e->pool, &n, e->cw[i]);
	for (i = 0; i < e->n_sets; i++)
		pool_add(e->pool, &n, e->sets[i]->name.name);
	for (i = 0; i < e->n_labels; i++) {
		pool_add(e->pool, &n, e->labels[i]->name.name);
		pool_add(e->pool, &n, e->labels[i]->from);
	}
	qsort(e->pool, n, sizeof(*e->pool), str_cmp);
	for (i = 0; i < n; i++)
		if (o == 0 || strcmp(e->pool[i], e->pool[o - 1]) != 0)
			e->pool[o++] = e->pool[i];
	e->n_pool = o;
	e->pool_off = malloc((o ? o : 1) * sizeof(*e->pool_off));
	if (!e->pool_off)
		return oom(e);
	/* Offset 0 is the leading NUL, the empty string ("absent").  The
	 * total is checked against the format's limit by plan(), before any
	 * offset is written as a u32. */
	for (i = 0; i < o; i++) {
		e->pool_off[i] = bytes;
		bytes += strlen(e->pool[i]) + 1;
	}
	e->pool_bytes = bytes;
	return true;
}

/* Offset of `s` in the pool; 0 for an absent (NULL or empty) string. */
static uint32_t str_off(const struct emitter *e, const char *s)
{
	long i;

	if (!s || !*s)
		return 0;
	i = find(e->pool, e->n_pool, s);
	return i < 0 ? 0 : (uint32_t)e->pool_off[i];
}

/* ---------------------------------------------------------------- layout */

struct layout {
	uint64_t off[ACM_SEC_COUNT + 1], size[ACM_SEC_COUNT + 1];
	uint64_t count[ACM_SEC_COUNT + 1];
	uint64_t trailer, total;
	size_t ste_words, cw_words;
};

static bool check_limits(struct emitter *e)
{
	const struct {
		size_t n;
		uint32_t max;
		const char *what;
	} lim[] = {
		{e->n_ste, ACM_MAX_TYPES, "STE types"},
		{e->n_cw, ACM_MAX_TYPES, "Chinese Wall types"},
		{e->n_labels, ACM_MAX_LABELS, "labels"},
		{e->n_sets, ACM_MAX_CONFLICT_SETS, "conflict sets"},
	};
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
		if (lim[i].n > lim[i].max) {
			polc_diag_add(e->diags, POLC_ERROR, 0,
				      "the policy has %zu %s, more than the "
				      "binary format's limit of %u",
				      lim[i].n, lim[i].what, lim[i].max);
			ok = false;
		}
	return ok;
}

static bool plan(struct emitter *e, struct layout *L)
{
	uint64_t pos;
	unsigned id;

	memset(L, 0, sizeof(*L));
	L->ste_words = (e->n_ste + 63) / 64;
	L->cw_words = (e->n_cw + 63) / 64;
	L->size[ACM_SEC_STRINGS] = e->pool_bytes;
	L->count[ACM_SEC_STRINGS] = e->n_pool + 1; /* with the empty string */
	L->size[ACM_SEC_META] = sizeof(struct acm_bin_meta);
	L->count[ACM_SEC_META] = 1;
	L->size[ACM_SEC_STE_TYPES] = 4 * (uint64_t)e->n_ste;
	L->count[ACM_SEC_STE_TYPES] = e->n_ste;
	L->size[ACM_SEC_CW_TYPES] = 4 * (uint64_t)e->n_cw;
	L->count[ACM_SEC_CW_TYPES] = e->n_cw;
	L->size[ACM_SEC_LABELS] =
		sizeof(struct acm_bin_label) * (uint64_t)e->n_labels;
	L->count[ACM_SEC_LABELS] = e->n_labels;
	L->size[ACM_SEC_STE_SETS] = 8 * (uint64_t)L->ste_words * e->n_labels;
	L->count[ACM_SEC_STE_SETS] = e->n_labels;
	L->size[ACM_SEC_CW_SETS] = 8 * (uint64_t)L->cw_words * e->n_labels;
	L->count[ACM_SEC_CW_SETS] = e->n_labels;
	L->size[ACM_SEC_CONFLICTS] =
		sizeof(struct acm_bin_conflict) * (uint64_t)e->n_sets;
	L->count[ACM_SEC_CONFLICTS] = e->n_sets;
	L->size[ACM_SEC_CONFLICT_SETS] = 8 * (uint64_t)L->cw_words * e->n_sets;
	L->count[ACM_SEC_CONFLICT_SETS] = e->n_sets;
	L->size[ACM_SEC_ID_INDEX] = 4 * (uint64_t)e->n_labels;
	L->count[ACM_SEC_ID_INDEX] = e->n_labels;

	pos = sizeof(struct acm_bin_header) +
	      ACM_SEC_COUNT * sizeof(struct acm_bin_section);
	for (id = 1; id <= ACM_SEC_COUNT; id++) {
		L->off[id] = align8(pos);
		pos = L->off[id] + L->size[id];
	}
	L->trailer = align8(pos);
	L->total = L->trailer + TRAILER;
	if (L->total > ACM_MAX_POLICY_LEN) {
		polc_diag_add(
			e->diags, POLC_ERROR, 0,
			"the binary policy would be %llu bytes, more than "
			"the format's limit of %u",
			(unsigned long long)L->total, ACM_MAX_POLICY_LEN);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- write */

static void write_header(uint8_t *b, const struct emitter *e,
			 const struct layout *L, const uint8_t *source_sha)
{
	uint32_t flags = 0;
	unsigned id;

	if (e->p->has_ste)
		flags |= ACM_BIN_F_STE;
	if (e->p->has_cw)
		flags |= ACM_BIN_F_CHWALL;
	put32(b + 0, ACM_MAGIC);
	put16(b + 4, ACM_FORMAT_MAJOR);
	put16(b + 6, ACM_FORMAT_MINOR);
	put32(b + 8, (uint32_t)L->total);
	put32(b + 12, flags);
	put32(b + 16, ACM_SEC_COUNT);
	put32(b + 20, sizeof(struct acm_bin_header));
	/* 24..31 reserved: zero */
	memcpy(b + 32, source_sha, ACM_SHA256_LEN);
	for (id = 1; id <= ACM_SEC_COUNT; id++) {
		uint8_t *s = b + sizeof(struct acm_bin_header) +
			     (id - 1) * sizeof(struct acm_bin_section);

		put32(s + 0, id);
		put32(s + 4, (uint32_t)L->off[id]);
		put32(s + 8, (uint32_t)L->size[id]);
		put32(s + 12, (uint32_t)L->count[id]);
	}
}

static void write_strings(uint8_t *b, const struct emitter *e)
{
	size_t i;

	for (i = 0; i < e->n_pool; i++)
		memcpy(b + e->pool_off[i], e->pool[i], strlen(e->pool[i]) + 1);
}

/* Row of the VM label `name` (VM rows come first, sorted), or -1. */
static long vm_row(const struct emitter *e, const char *name)
{
	size_t lo = 0, hi = e->n_vm;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(nm(e->labels[mid]->name.name), name);

		if (r == 0)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool write_meta(uint8_t *b, const struct emitter *e)
{
	const struct polc_policy *p = e->p;
	long boot = vm_row(e, nm(p->bootstrap.name));
	uint32_t flags = 0;
	size_t i;

	if (boot < 0) {
		polc_diag_add(e->diags, POLC_ERROR, p->bootstrap.line,
			      "cannot emit: bootstrap label '%.64s' is not a "
			      "VM label (the policy did not pass polc_check)",
			      nm(p->bootstrap.name));
		return false;
	}
	if (p->has_version)
		flags |= ACM_META_F_VERSION;
	if (p->has_from)
		flags |= ACM_META_F_FROM;
	if (p->has_ste && p->ste_priority)
		flags |= ACM_META_F_STE_PRIORITY;
	if (p->has_cw && p->cw_priority)
		flags |= ACM_META_F_CW_PRIORITY;
	put32(b + 0, str_off(e, p->name.name));
	put32(b + 4, p->has_version ? p->version_major : 0);
	put32(b + 8, p->has_version ? p->version_minor : 0);
	put32(b + 12, flags);
	put32(b + 16, p->has_from ? str_off(e, p->from_name) : 0);
	put32(b + 20, p->has_from ? p->from_major : 0);
	put32(b + 24, p->has_from ? p->from_minor : 0);
	put32(b + 28, str_off(e, p->url));
	put32(b + 32, str_off(e, p->reference));
	put32(b + 36, str_off(e, p->date));
	put32(b + 40, str_off(e, p->namespace_url));
	put32(b + 44, (uint32_t)boot);
	for (i = 48; i < 64; i++)
		b[i] = 0;
	return true;
}

static void write_type_list(uint8_t *b, const struct emitter *e,
			    const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put32(b + 4 * i, str_off(e, v[i]));
}

/* Sets the bits of `names` in the bitset at `words`; false (with a
 * diagnostic) when a name is not a declared type. */
static bool write_set(uint8_t *words, const struct emitter *e,
		      const struct polc_names *names, const char *const *types,
		      size_t n_types, const char *owner)
{
	size_t i;

	for (i = 0; i < names->n; i++) {
		long t = find(types, n_types, nm(names->v[i].name));

		if (t < 0) {
			polc_diag_add(e->diags, POLC_ERROR, names->v[i].line,
				      "cannot emit: '%.64s' uses undeclared "
				      "type '%.64s' (the policy did not pass "
				      "polc_check)",
				      owner, nm(names->v[i].name));
			return false;
		}
		set_bit(words, (size_t)t);
	}
	return true;
}

struct id_row {
	uint32_t id, row;
};

static int id_row_cmp(const void *a, const void *b)
{
	const struct id_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* ID_INDEX: the rows in increasing id order (ids are unique: idset). */
static bool write_id_index(uint8_t *b, const struct emitter *e,
			   const struct layout *L)
{
	const uint8_t *rows = b + L->off[ACM_SEC_LABELS];
	uint8_t *index = b + L->off[ACM_SEC_ID_INDEX];
	struct id_row *v;
	size_t r;

	v = malloc((e->n_labels ? e->n_labels : 1) * sizeof(*v));
	if (!v)
		return oom(e);
	for (r = 0; r < e->n_labels; r++) {
		v[r].id = get32(rows + r * sizeof(struct acm_bin_label));
		v[r].row = (uint32_t)r;
	}
	qsort(v, e->n_labels, sizeof(*v), id_row_cmp);
	for (r = 0; r < e->n_labels; r++)
		put32(index + 4 * r, v[r].row);
	free(v);
	return true;
}

static bool write_labels(uint8_t *b, const struct emitter *e,
			 const struct layout *L)
{
	uint8_t *rows = b + L->off[ACM_SEC_LABELS];
	uint8_t *ste = b + L->off[ACM_SEC_STE_SETS];
	uint8_t *cw = b + L->off[ACM_SEC_CW_SETS];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct idset ids = {0};
	bool ok = false;
	size_t r;

	if (!ctx || !idset_init(&ids, e->n_labels)) {
		oom(e);
		goto out;
	}
	for (r = 0; r < e->n_labels; r++) {
		const struct polc_label *l = e->labels[r];
		uint8_t *row = rows + r * sizeof(struct acm_bin_label);
		uint32_t id = seed_with(ctx, l->kind, nm(l->name.name));

		if (!id) {
			polc_diag_add(e->diags, POLC_ERROR, 0,
				      "SHA-256 failed (OpenSSL)");
			goto out;
		}
		/* Row order decides who keeps a contested id. */
		while (!idset_add(&ids, id))
			id = id % ID_MASK + 1;
		put32(row + 0, id);
		put32(row + 4, str_off(e, l->name.name));
		put32(row + 8, str_off(e, l->from));
		put16(row + 12, (uint16_t)l->kind);
		put16(row + 14, 0);
		if (!write_set(ste + r * 8 * L->ste_words, e, &l->ste, e->ste,
			       e->n_ste, nm(l->name.name)))
			goto out;
		if (l->kind == ACM_LABEL_VM &&
		    !write_set(cw + r * 8 * L->cw_words, e, &l->cw, e->cw,
			       e->n_cw, nm(l->name.name)))
			goto out;
	}
	ok = true;
out:
	free(ids.slot);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool write_conflicts(uint8_t *b, const struct emitter *e,
			    const struct layout *L)
{
	uint8_t *names = b + L->off[ACM_SEC_CONFLICTS];
	uint8_t *sets = b + L->off[ACM_SEC_CONFLICT_SETS];
	size_t c;

	for (c = 0; c < e->n_sets; c++) {
		put32(names + 8 * c, str_off(e, e->sets[c]->name.name));
		put32(names + 8 * c + 4, 0);
		if (!write_set(sets + c * 8 * L->cw_words, e,
			       &e->sets[c]->types, e->cw, e->n_cw,
			       nm(e->sets[c]->name.name)))
			return false;
	}
	return true;
}

static void emitter_free(struct emitter *e)
{
	free(e->ste);
	free(e->cw);
	free(e->labels);
	free(e->sets);
	free(e->pool);
	free(e->pool_off);
}

int polc_emit(const struct polc_policy *p, uint8_t **blob, size_t *len,
	      struct polc_diags *diags)
{
	struct emitter e = {.p = p, .diags = diags};
	uint8_t source_sha[ACM_SHA256_LEN];
	struct layout L;
	char *canon = NULL;
	size_t canon_len = 0;
	uint8_t *b = NULL;
	int ret = -1;

	*blob = NULL;
	*len = 0;
	if (!diags->path)
		diags->path = p->path;
	if (!sort_all(&e) || !check_limits(&e) || !build_pool(&e) ||
	    !plan(&e, &L))
		goto out;
	if (polc_canonical(p, &canon, &canon_len) != 0) {
		oom(&e);
		goto out;
	}
	if (sha256(canon, canon_len, source_sha) != 0)
		goto sha_failed;
	b = calloc(1, (size_t)L.total);
	if (!b) {
		oom(&e);
		goto out;
	}
	write_header(b, &e, &L, source_sha);
	write_strings(b + L.off[ACM_SEC_STRINGS], &e);
	if (!write_meta(b + L.off[ACM_SEC_META], &e))
		goto out;
	write_type_list(b + L.off[ACM_SEC_STE_TYPES], &e, e.ste, e.n_ste);
	write_type_list(b + L.off[ACM_SEC_CW_TYPES], &e, e.cw, e.n_cw);
	if (!write_labels(b, &e, &L) || !write_conflicts(b, &e, &L) ||
	    !write_id_index(b, &e, &L))
		goto out;
	if (sha256(b, (size_t)L.trailer, b + L.trailer) != 0)
		goto sha_failed;
	*blob = b;
	*len = (size_t)L.total;
	b = NULL;
	ret = 0;
	goto out;
sha_failed:
	polc_diag_add(diags, POLC_ERROR, 0, "SHA-256 failed (OpenSSL)");
out:
	free(b);
	free(canon);
	emitter_free(&e);
	return ret;
}
