// SPDX-License-Identifier: BSD-2-Clause
/*
 * canon.c - the canonical text of a policy (docs/formats.md section 2).
 *
 * Its SHA-256 is the policy's identity across forms: the XML source, the
 * binary (which embeds the hash) and a decompiled XML all give the same
 * text, because it is built from meaning only: every list sorted by byte
 * order, no layout, no comments, no element order, no binary numbering.
 * Empty metadata strings count as absent, as in the binary, where offset
 * 0 (the empty string) means "absent".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-compiler/polc.h"

struct text {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put_raw(struct text *t, const char *s, size_t len)
{
	if (t->oom)
		return;
	if (t->cap - t->n <= len) {
		size_t cap = t->cap ? t->cap : 4096;
		char *np;

		while (cap - t->n <= len)
			cap *= 2;
		np = realloc(t->p, cap);
		if (!np) {
			t->oom = true;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, len);
	t->n += len;
	t->p[t->n] = 0;
}

/* One record: "key\n" or "key value\n". */
static void put(struct text *t, const char *key, const char *value)
{
	put_raw(t, key, strlen(key));
	if (value) {
		put_raw(t, " ", 1);
		put_raw(t, value, strlen(value));
	}
	put_raw(t, "\n", 1);
}

static void put_version(struct text *t, const char *key, uint32_t major,
			uint32_t minor)
{
	char v[32];

	snprintf(v, sizeof(v), "%u.%u", major, minor);
	put(t, key, v);
}

static void put_meta(struct text *t, const char *key, const char *value)
{
	if (value && *value)
		put(t, key, value);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes "key NAME" for every name of `v`, in byte order. */
static void put_sorted(struct text *t, const char *key,
		       const struct polc_names *v)
{
	const char **s;
	size_t i;

	if (v->n == 0)
		return;
	s = malloc(v->n * sizeof(*s));
	if (!s) {
		t->oom = true;
		return;
	}
	for (i = 0; i < v->n; i++)
		s[i] = v->v[i].name ? v->v[i].name : "";
	qsort(s, v->n, sizeof(*s), str_cmp);
	for (i = 0; i < v->n; i++)
		put(t, key, s[i]);
	free(s);
}

static int conflict_cmp(const void *a, const void *b)
{
	const struct polc_conflict *x = *(const struct polc_conflict *const *)a;
	const struct polc_conflict *y = *(const struct polc_conflict *const *)b;

	return strcmp(x->name.name ? x->name.name : "",
		      y->name.name ? y->name.name : "");
}

static void put_conflicts(struct text *t, const struct polc_policy *p)
{
	const struct polc_conflict **v;
	size_t i;

	if (p->n_conflicts == 0)
		return;
	v = malloc(p->n_conflicts * sizeof(*v));
	if (!v) {
		t->oom = true;
		return;
	}
	for (i = 0; i < p->n_conflicts; i++)
		v[i] = &p->conflicts[i];
	qsort(v, p->n_conflicts, sizeof(*v), conflict_cmp);
	for (i = 0; i < p->n_conflicts; i++) {
		put(t, "conflict-set", v[i]->name.name ? v[i]->name.name : "");
		put_sorted(t, "conflict-type", &v[i]->types);
	}
	free(v);
}

static int label_cmp(const void *a, const void *b)
{
	const struct polc_label *x = *(const struct polc_label *const *)a;
	const struct polc_label *y = *(const struct polc_label *const *)b;

	return strcmp(x->name.name ? x->name.name : "",
		      y->name.name ? y->name.name : "");
}

static void put_labels(struct text *t, const struct polc_policy *p,
		       enum acm_label_kind kind, const char *key)
{
	const struct polc_label **v;
	size_t i, n = 0;

	if (p->n_labels == 0)
		return;
	v = malloc(p->n_labels * sizeof(*v));
	if (!v) {
		t->oom = true;
		return;
	}
	for (i = 0; i < p->n_labels; i++)
		if (p->labels[i].kind == kind)
			v[n++] = &p->labels[i];
	qsort(v, n, sizeof(*v), label_cmp);
	for (i = 0; i < n; i++) {
		put(t, key, v[i]->name.name ? v[i]->name.name : "");
		if (v[i]->from && *v[i]->from)
			put(t, "label-from", v[i]->from);
		put_sorted(t, "label-ste", &v[i]->ste);
		if (kind == ACM_LABEL_VM)
			put_sorted(t, "label-chwall", &v[i]->cw);
	}
	free(v);
}

int polc_canonical(const struct polc_policy *p, char **text, size_t *len)
{
	struct text t = {0};

	*text = NULL;
	*len = 0;
	put(&t, "hvsec-policy-canonical-v1", NULL);
	put(&t, "policy-name", p->name.name ? p->name.name : "");
	if (p->has_version)
		put_version(&t, "version", p->version_major, p->version_minor);
	if (p->has_from) {
		put(&t, "from-policy", p->from_name ? p->from_name : "");
		put_version(&t, "from-version", p->from_major, p->from_minor);
	}
	put_meta(&t, "url", p->url);
	put_meta(&t, "reference", p->reference);
	put_meta(&t, "date", p->date);
	put_meta(&t, "namespace-url", p->namespace_url);
	if (p->has_ste) {
		put(&t, "ste-component", p->ste_priority ? "primary" : NULL);
		put_sorted(&t, "ste-type", &p->ste_types);
	}
	if (p->has_cw) {
		put(&t, "chwall-component", p->cw_priority ? "primary" : NULL);
		put_sorted(&t, "chwall-type", &p->cw_types);
	}
	put_conflicts(&t, p);
	put(&t, "bootstrap", p->bootstrap.name ? p->bootstrap.name : "");
	put_labels(&t, p, ACM_LABEL_VM, "vm-label");
	put_labels(&t, p, ACM_LABEL_RESOURCE, "resource-label");
	put(&t, "end", NULL);
	if (t.oom) {
		free(t.p);
		return -1;
	}
	*text = t.p;
	*len = t.n;
	return 0;
}
