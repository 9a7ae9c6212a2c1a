/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * blob_builder.h - builds binary policies (docs/formats.md) by hand for the
 * engine's tests, independently of the policy compiler and of the engine's
 * own SHA-256 (it hashes with OpenSSL).
 *
 * A policy is described with names, type lists being space-separated
 * strings ("Blue Red"); the builder sorts types, labels and conflict sets,
 * builds the string pool, numbers label ids as §1.6 says, lays out the
 * sections, writes the id index and seals the trailer.  It writes what it
 * is told, even when that is invalid (a resource label with Chinese-Wall
 * types, a name with a ':'), so tests can reach every content check;
 * byte-level corruptions are done on the result with bb_put*(), then
 * bb_reindex() (after changing ids, to keep the index consistent with
 * them) and bb_reseal().
 *
 * Header-only, all static: include it in one test file.
 */
#ifndef HVSEC_TESTS_ACM_BLOB_BUILDER_H
#define HVSEC_TESTS_ACM_BLOB_BUILDER_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acm/acm.h"

/* Each test uses only part of this file. */
#define BB_UNUSED __attribute__((unused))

struct bb_label {
	const char *name;
	uint16_t kind;    /* ACM_LABEL_VM or ACM_LABEL_RESOURCE */
	const char *ste;  /* space-separated STE type names, NULL = none */
	const char *cw;   /* space-separated CW type names, NULL = none */
	const char *from; /* Name@from, NULL = none */
};

struct bb_conflict {
	const char *name;
	const char *types; /* space-separated CW type names */
};

struct bb_policy {
	const char *name;
	bool has_version;
	uint32_t major, minor;
	bool has_from;
	const char *from_name;
	uint32_t from_major, from_minor;
	const char *url, *reference, *date, *namespace_url;
	bool has_ste, has_cw;
	uint32_t meta_flags; /* extra ACM_META_F_* bits (priorities) */
	const char *ste_types;
	const char *cw_types;
	const struct bb_conflict *conflicts;
	size_t n_conflicts;
	const struct bb_label *labels;
	size_t n_labels;
	const char *bootstrap; /* VM label name */
};

/* ------------------------------------------------------------ helpers */

static BB_UNUSED void *bb_xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "blob_builder: out of memory\n");
		exit(2);
	}
	return p;
}

static BB_UNUSED void bb_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL)) {
		fprintf(stderr, "blob_builder: EVP_Digest failed\n");
		exit(2);
	}
}

static BB_UNUSED void bb_put8(uint8_t *b, size_t off, uint8_t v)
{
	b[off] = v;
}

static BB_UNUSED void bb_put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static BB_UNUSED void bb_put32(uint8_t *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static BB_UNUSED void bb_put64(uint8_t *b, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static BB_UNUSED uint32_t bb_get32(const uint8_t *b, size_t off)
{
	return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 |
	       (uint32_t)b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

/* Recomputes the trailer over [0, len - 32). */
static BB_UNUSED void bb_reseal(uint8_t *b, size_t len)
{
	bb_sha256(b, len - 32, b + len - 32);
}

/* Section `id`'s offset, size and count, read from the table. */
static BB_UNUSED uint32_t bb_sec_off(const uint8_t *b, uint32_t id)
{
	return bb_get32(b, 64 + (id - 1) * 16 + 4);
}

static BB_UNUSED uint32_t bb_sec_size(const uint8_t *b, uint32_t id)
{
	return bb_get32(b, 64 + (id - 1) * 16 + 8);
}

static BB_UNUSED uint32_t bb_sec_count(const uint8_t *b, uint32_t id)
{
	return bb_get32(b, 64 + (id - 1) * 16 + 12);
}

/* (id, row) of one label, for sorting the id index. */
struct bb_id_row {
	uint32_t id, row;
};

static BB_UNUSED int bb_cmp_id_row(const void *a, const void *b)
{
	const struct bb_id_row *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Rewrites ID_INDEX (section 10) from the ids in LABELS (section 5): rows
 * by id, equal ids (a corrupted blob) by row.  Does not reseal. */
static BB_UNUSED void bb_reindex(uint8_t *b)
{
	uint32_t labels = bb_sec_off(b, 5), index = bb_sec_off(b, 10);
	uint32_t n = bb_sec_count(b, 5), i;
	struct bb_id_row *v = calloc(n ? n : 1, sizeof(*v));

	if (!v) {
		fprintf(stderr, "blob_builder: out of memory\n");
		exit(2);
	}
	for (i = 0; i < n; i++) {
		v[i].id = bb_get32(b, labels + 16 * i);
		v[i].row = i;
	}
	qsort(v, n, sizeof(*v), bb_cmp_id_row);
	for (i = 0; i < n; i++)
		bb_put32(b, index + 4 * i, v[i].row);
	free(v);
}

/* §1.6: the stable id seed of a label. */
static BB_UNUSED uint32_t bb_label_seed(uint16_t kind, const char *name)
{
	size_t n = strlen(name);
	uint8_t *msg = bb_xmalloc(13 + n), h[32];
	uint32_t id;

	memcpy(msg, "hvsec-label", 11);
	msg[11] = 0;
	msg[12] = (uint8_t)kind;
	memcpy(msg + 13, name, n);
	bb_sha256(msg, 13 + n, h);
	free(msg);
	id = ((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
	      (uint32_t)h[3] << 24) & 0x7fffffffu;
	return id ? id : 1;
}

/* A list of names (split from a space-separated string). */
struct bb_names {
	char **v;
	size_t n;
};

static BB_UNUSED int bb_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static BB_UNUSED void bb_names_add(struct bb_names *l, const char *s,
				   size_t len)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!l->v) {
		fprintf(stderr, "blob_builder: out of memory\n");
		exit(2);
	}
	l->v[l->n] = bb_xmalloc(len + 1);
	memcpy(l->v[l->n], s, len);
	l->n++;
}

static BB_UNUSED void bb_split(struct bb_names *l, const char *s)
{
	const char *end;

	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		for (end = s; *end && *end != ' '; end++)
			;
		bb_names_add(l, s, (size_t)(end - s));
		s = end;
	}
}

/* Sorts and removes duplicates. */
static BB_UNUSED void bb_sort_unique(struct bb_names *l)
{
	size_t i, n = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), bb_cmp_str);
	for (i = 0; i < l->n; i++) {
		if (n && strcmp(l->v[n - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[n++] = l->v[i];
	}
	l->n = n;
}

static BB_UNUSED void bb_names_free(struct bb_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Index of `s` in a sorted list, or (size_t)-1. */
static BB_UNUSED size_t bb_find(const struct bb_names *l, const char *s)
{
	char *const *hit;

	if (!l->n)
		return (size_t)-1;
	hit = bsearch(&s, l->v, l->n, sizeof(*l->v), bb_cmp_str);
	return hit ? (size_t)(hit - l->v) : (size_t)-1;
}

/* Sets bits for the names in `list` (unknown names abort: a test bug). */
static BB_UNUSED void bb_bits(uint8_t *dst, const struct bb_names *types,
			      const char *list)
{
	struct bb_names l = { 0 };

	bb_split(&l, list);
	for (size_t i = 0; i < l.n; i++) {
		size_t t = bb_find(types, l.v[i]);

		if (t == (size_t)-1) {
			fprintf(stderr, "blob_builder: unknown type %s\n",
				l.v[i]);
			exit(2);
		}
		dst[t / 8] |= (uint8_t)(1u << (t % 8));
	}
	bb_names_free(&l);
}

struct bb_sorted_label {
	const struct bb_label *l;
	uint32_t id;
};

static BB_UNUSED int bb_cmp_label(const void *a, const void *b)
{
	const struct bb_label *x = ((const struct bb_sorted_label *)a)->l;
	const struct bb_label *y = ((const struct bb_sorted_label *)b)->l;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

static BB_UNUSED int bb_cmp_conflict(const void *a, const void *b)
{
	return strcmp(((const struct bb_conflict *)a)->name,
		      ((const struct bb_conflict *)b)->name);
}

static BB_UNUSED uint32_t bb_str(const struct bb_names *pool,
				  const uint32_t *offs, const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	i = bb_find(pool, s);
	if (i == (size_t)-1) {
		fprintf(stderr, "blob_builder: %s not in pool\n", s);
		exit(2);
	}
	return offs[i];
}

static BB_UNUSED size_t bb_round8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

/* ------------------------------------------------------------ builder */

/* Builds the blob; *len gets its length.  The result is malloc'ed (so
 * 8-aligned) and sealed. */
static BB_UNUSED uint8_t *bb_build(const struct bb_policy *pol, size_t *len)
{
	struct bb_names ste = { 0 }, cw = { 0 }, pool = { 0 };
	struct bb_sorted_label *labels;
	struct bb_conflict *cs;
	uint32_t *offs, n_vm = 0, boot = 0;
	size_t off[11], size[11], count[11], pool_len, ste_words, cw_words;
	size_t i, j, total, n_labels = pol->n_labels, n_cs = pol->n_conflicts;
	uint8_t *b;

	if (pol->has_ste)
		bb_split(&ste, pol->ste_types);
	if (pol->has_cw)
		bb_split(&cw, pol->cw_types);
	bb_sort_unique(&ste);
	bb_sort_unique(&cw);
	ste_words = (ste.n + 63) / 64;
	cw_words = (cw.n + 63) / 64;

	labels = bb_xmalloc(n_labels * sizeof(*labels));
	for (i = 0; i < n_labels; i++)
		labels[i].l = &pol->labels[i];
	qsort(labels, n_labels, sizeof(*labels), bb_cmp_label);
	cs = bb_xmalloc(n_cs * sizeof(*cs));
	if (n_cs)
		memcpy(cs, pol->conflicts, n_cs * sizeof(*cs));
	qsort(cs, n_cs, sizeof(*cs), bb_cmp_conflict);

	/* §1.6 ids, in row order. */
	for (i = 0; i < n_labels; i++) {
		uint32_t id = bb_label_seed(labels[i].l->kind,
					    labels[i].l->name);

		for (j = 0; j < i; j++)
			if (labels[j].id == id) {
				id = id % 0x7fffffffu + 1;
				j = (size_t)-1; /* rescan from 0 */
			}
		labels[i].id = id;
		if (labels[i].l->kind == ACM_LABEL_VM)
			n_vm++;
		if (pol->bootstrap && labels[i].l->kind == ACM_LABEL_VM &&
		    strcmp(labels[i].l->name, pol->bootstrap) == 0)
			boot = (uint32_t)i;
	}

	/* The string pool: every distinct non-empty string, ascending. */
	{
		const char *meta[] = { pol->name, pol->has_from ?
					pol->from_name : NULL, pol->url,
				       pol->reference, pol->date,
				       pol->namespace_url };

		for (i = 0; i < 6; i++)
			if (meta[i] && *meta[i])
				bb_names_add(&pool, meta[i], strlen(meta[i]));
		for (i = 0; i < ste.n; i++)
			bb_names_add(&pool, ste.v[i], strlen(ste.v[i]));
		for (i = 0; i < cw.n; i++)
			bb_names_add(&pool, cw.v[i], strlen(cw.v[i]));
		for (i = 0; i < n_labels; i++) {
			bb_names_add(&pool, labels[i].l->name,
				     strlen(labels[i].l->name));
			if (labels[i].l->from)
				bb_names_add(&pool, labels[i].l->from,
					     strlen(labels[i].l->from));
		}
		for (i = 0; i < n_cs; i++)
			if (*cs[i].name)
				bb_names_add(&pool, cs[i].name,
					     strlen(cs[i].name));
		bb_sort_unique(&pool);
	}
	offs = bb_xmalloc((pool.n + 1) * sizeof(*offs));
	pool_len = 1;
	for (i = 0; i < pool.n; i++) {
		offs[i] = (uint32_t)pool_len;
		pool_len += strlen(pool.v[i]) + 1;
	}

	size[1] = pool_len, count[1] = pool.n + 1;
	size[2] = 64, count[2] = 1;
	size[3] = 4 * ste.n, count[3] = ste.n;
	size[4] = 4 * cw.n, count[4] = cw.n;
	size[5] = 16 * n_labels, count[5] = n_labels;
	size[6] = 8 * ste_words * n_labels, count[6] = n_labels;
	size[7] = 8 * cw_words * n_labels, count[7] = n_labels;
	size[8] = 8 * n_cs, count[8] = n_cs;
	size[9] = 8 * cw_words * n_cs, count[9] = n_cs;
	size[10] = 4 * n_labels, count[10] = n_labels;
	total = 64 + 10 * 16;
	for (i = 1; i <= 10; i++) {
		off[i] = bb_round8(total);
		total = off[i] + size[i];
	}
	total = bb_round8(total) + 32;
	b = bb_xmalloc(total);

	bb_put32(b, 0, ACM_MAGIC);
	bb_put16(b, 4, ACM_FORMAT_MAJOR);
	bb_put16(b, 6, ACM_FORMAT_MINOR);
	bb_put32(b, 8, (uint32_t)total);
	bb_put32(b, 12, (pol->has_ste ? ACM_BIN_F_STE : 0) |
				(pol->has_cw ? ACM_BIN_F_CHWALL : 0));
	bb_put32(b, 16, 10);
	bb_put32(b, 20, 64);
	/* A recognisable stand-in for the canonical-text hash. */
	bb_sha256(pol->name, strlen(pol->name), b + 32);
	for (i = 1; i <= 10; i++) {
		bb_put32(b, 64 + (i - 1) * 16, (uint32_t)i);
		bb_put32(b, 64 + (i - 1) * 16 + 4, (uint32_t)off[i]);
		bb_put32(b, 64 + (i - 1) * 16 + 8, (uint32_t)size[i]);
		bb_put32(b, 64 + (i - 1) * 16 + 12, (uint32_t)count[i]);
	}
	for (i = 0; i < pool.n; i++)
		memcpy(b + off[1] + offs[i], pool.v[i], strlen(pool.v[i]));

	/* META */
	{
		size_t m = off[2];
		uint32_t flags = pol->meta_flags;

		if (pol->has_version)
			flags |= ACM_META_F_VERSION;
		if (pol->has_from)
			flags |= ACM_META_F_FROM;
		bb_put32(b, m, bb_str(&pool, offs, pol->name));
		bb_put32(b, m + 4, pol->has_version ? pol->major : 0);
		bb_put32(b, m + 8, pol->has_version ? pol->minor : 0);
		bb_put32(b, m + 12, flags);
		if (pol->has_from) {
			bb_put32(b, m + 16,
				 bb_str(&pool, offs, pol->from_name));
			bb_put32(b, m + 20, pol->from_major);
			bb_put32(b, m + 24, pol->from_minor);
		}
		bb_put32(b, m + 28, bb_str(&pool, offs, pol->url));
		bb_put32(b, m + 32, bb_str(&pool, offs, pol->reference));
		bb_put32(b, m + 36, bb_str(&pool, offs, pol->date));
		bb_put32(b, m + 40, bb_str(&pool, offs, pol->namespace_url));
		bb_put32(b, m + 44, boot);
	}
	for (i = 0; i < ste.n; i++)
		bb_put32(b, off[3] + 4 * i, bb_str(&pool, offs, ste.v[i]));
	for (i = 0; i < cw.n; i++)
		bb_put32(b, off[4] + 4 * i, bb_str(&pool, offs, cw.v[i]));
	for (i = 0; i < n_labels; i++) {
		const struct bb_label *l = labels[i].l;
		size_t e = off[5] + 16 * i;

		bb_put32(b, e, labels[i].id);
		bb_put32(b, e + 4, bb_str(&pool, offs, l->name));
		bb_put32(b, e + 8, bb_str(&pool, offs, l->from));
		bb_put16(b, e + 12, l->kind);
		if (pol->has_ste)
			bb_bits(b + off[6] + 8 * ste_words * i, &ste, l->ste);
		if (pol->has_cw)
			bb_bits(b + off[7] + 8 * cw_words * i, &cw, l->cw);
	}
	for (i = 0; i < n_cs; i++) {
		bb_put32(b, off[8] + 8 * i, bb_str(&pool, offs, cs[i].name));
		bb_bits(b + off[9] + 8 * cw_words * i, &cw, cs[i].types);
	}
	bb_reindex(b);
	bb_reseal(b, total);

	free(offs);
	free(cs);
	free(labels);
	bb_names_free(&pool);
	bb_names_free(&ste);
	bb_names_free(&cw);
	*len = total;
	return b;
}

/* ----------------------------------------------------- sample policies */

/* reference/acm.md §1.3, the "toy" policy. */
static BB_UNUSED const struct bb_label bb_toy_labels[] = {
	{ "Admin", ACM_LABEL_VM, "Admin Blue Red", "Admin", NULL },
	{ "Blue", ACM_LABEL_VM, "Blue", "Blue", NULL },
	{ "Red", ACM_LABEL_VM, "Red", "Red", NULL },
	{ "BlueDisk", ACM_LABEL_RESOURCE, "Blue", NULL, NULL },
	{ "RedDisk", ACM_LABEL_RESOURCE, "Red", NULL, NULL },
};
static BB_UNUSED const struct bb_conflict bb_toy_conflicts[] = {
	{ "BR", "Blue Red" },
};
static BB_UNUSED const struct bb_policy bb_toy = {
	.name = "toy",
	.has_version = true, .major = 1, .minor = 0,
	.has_ste = true, .has_cw = true,
	.ste_types = "Admin Blue Red",
	.cw_types = "Admin Blue Red",
	.conflicts = bb_toy_conflicts, .n_conflicts = 1,
	.labels = bb_toy_labels, .n_labels = 5,
	.bootstrap = "Admin",
};

/* Xen's xm-test policy (xen-acm-policies/xm-test-security_policy.xml). */
static BB_UNUSED const struct bb_label bb_xmtest_labels[] = {
	{ "SystemManagement", ACM_LABEL_VM,
	  "SystemManagement green red blue", "SystemManagement", NULL },
	{ "green", ACM_LABEL_VM, "green", "green", NULL },
	{ "red", ACM_LABEL_VM, "red", "red", NULL },
	{ "blue", ACM_LABEL_VM, "blue", "blue", NULL },
	{ "SystemManagement", ACM_LABEL_RESOURCE, "SystemManagement", NULL,
	  NULL },
	{ "green", ACM_LABEL_RESOURCE, "green", NULL, NULL },
	{ "red", ACM_LABEL_RESOURCE, "red", NULL, NULL },
	{ "blue", ACM_LABEL_RESOURCE, "blue", NULL, NULL },
};
static BB_UNUSED const struct bb_conflict bb_xmtest_conflicts[] = {
	{ "RER", "blue red" },
};
static BB_UNUSED const struct bb_policy bb_xmtest = {
	.name = "xm-test",
	.has_version = true, .major = 1, .minor = 0,
	.date = "Fri Sep 29 14:44:38 2006",
	.has_ste = true, .has_cw = true,
	.meta_flags = ACM_META_F_CW_PRIORITY,
	.ste_types = "SystemManagement green red blue",
	.cw_types = "SystemManagement green red blue",
	.conflicts = bb_xmtest_conflicts, .n_conflicts = 1,
	.labels = bb_xmtest_labels, .n_labels = 8,
	.bootstrap = "SystemManagement",
};

/* Its update (xm-test-update-security_policy.xml): green renamed GREEN,
 * blue removed, resource red renamed RED, __UNLABELED__ added, and the
 * conflict set now {GREEN, red}. */
static BB_UNUSED const struct bb_label bb_xmupdate_labels[] = {
	{ "SystemManagement", ACM_LABEL_VM,
	  "SystemManagement GREEN red __UNLABELED__", "SystemManagement",
	  NULL },
	{ "GREEN", ACM_LABEL_VM, "GREEN", "GREEN", "green" },
	{ "red", ACM_LABEL_VM, "red", "red", NULL },
	{ "__UNLABELED__", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__",
	  NULL },
	{ "SystemManagement", ACM_LABEL_RESOURCE, "SystemManagement", NULL,
	  NULL },
	{ "GREEN", ACM_LABEL_RESOURCE, "GREEN", NULL, "green" },
	{ "RED", ACM_LABEL_RESOURCE, "red", NULL, "red" },
	{ "__UNLABELED__", ACM_LABEL_RESOURCE, "__UNLABELED__", NULL, NULL },
};
static BB_UNUSED const struct bb_conflict bb_xmupdate_conflicts[] = {
	{ "RER", "GREEN red" },
};
static BB_UNUSED const struct bb_policy bb_xmupdate = {
	.name = "xm-test-update",
	.has_version = true, .major = 1, .minor = 1,
	.has_from = true, .from_name = "xm-test",
	.from_major = 1, .from_minor = 0,
	.date = "Fri Sep 29 14:44:38 2006",
	.has_ste = true, .has_cw = true,
	.meta_flags = ACM_META_F_CW_PRIORITY,
	.ste_types = "SystemManagement GREEN red __UNLABELED__",
	.cw_types = "SystemManagement GREEN red __UNLABELED__",
	.conflicts = bb_xmupdate_conflicts, .n_conflicts = 1,
	.labels = bb_xmupdate_labels, .n_labels = 8,
	.bootstrap = "SystemManagement",
};

/* The DEFAULT policy (policies/default.xml, reference/acm.md §3.5): the
 * shape acm_update_validate exempts from the FromPolicy/Version rules. */
static BB_UNUSED const struct bb_label bb_default_labels[] = {
	{ "SystemManagement", ACM_LABEL_VM, "SystemManagement __UNLABELED__",
	  "SystemManagement", NULL },
	{ "__UNLABELED__", ACM_LABEL_VM, "__UNLABELED__", "__UNLABELED__",
	  NULL },
	{ "__UNLABELED__", ACM_LABEL_RESOURCE, "__UNLABELED__", NULL, NULL },
};
static BB_UNUSED const struct bb_policy bb_default = {
	.name = "DEFAULT",
	.has_version = true, .major = 1, .minor = 0,
	.has_ste = true, .has_cw = true,
	.ste_types = "SystemManagement __UNLABELED__",
	.cw_types = "SystemManagement __UNLABELED__",
	.labels = bb_default_labels, .n_labels = 3,
	.bootstrap = "SystemManagement",
};

/* ------------------------------------------------------ loading helper */

/* A blob and the policy loaded from it, owning their memory. */
struct bb_loaded {
	uint8_t *blob;
	size_t len;
	void *mem;
	const struct acm_policy *p;
};

/* Builds and loads; NULL policy (and a message) if it does not load. */
static BB_UNUSED bool bb_load(const struct bb_policy *pol,
			      struct bb_loaded *out)
{
	struct acm_load_error where;
	size_t need = 0;
	enum acm_err err;

	memset(out, 0, sizeof(*out));
	out->blob = bb_build(pol, &out->len);
	err = acm_policy_measure(out->blob, out->len, &need, &where);
	if (err) {
		fprintf(stderr, "bb_load(%s): %s at %u\n", pol->name,
			acm_strerror(err), where.offset);
		return false;
	}
	out->mem = bb_xmalloc(need);
	err = acm_policy_load(out->blob, out->len, out->mem, need, &out->p,
			      &where);
	if (err) {
		fprintf(stderr, "bb_load(%s): %s at %u\n", pol->name,
			acm_strerror(err), where.offset);
		return false;
	}
	return true;
}

static BB_UNUSED void bb_unload(struct bb_loaded *l)
{
	free(l->blob);
	free(l->mem);
	memset(l, 0, sizeof(*l));
}

/* A context on malloc'ed memory; free(ctx) releases it (it sits at the
 * start of its memory). */
static BB_UNUSED struct acm_ctx *bb_ctx(const struct acm_policy *p,
				       uint32_t slots, bool historical)
{
	struct acm_ctx_config cfg = { .cache_slots = slots,
				      .historical = historical };
	size_t need = acm_ctx_mem_size(p, &cfg);
	void *mem = bb_xmalloc(need);
	struct acm_ctx *ctx = NULL;

	if (acm_ctx_init(&ctx, p, &cfg, mem, need) != ACM_OK) {
		fprintf(stderr, "bb_ctx: acm_ctx_init failed\n");
		exit(2);
	}
	return ctx;
}

#endif /* HVSEC_TESTS_ACM_BLOB_BUILDER_H */
