/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * from_acm.c - rebuild a struct polc_policy from a loaded binary policy.
 *
 * The binary keeps everything the canonical text (and so the source hash)
 * is made of, the priority="PrimaryPolicyComponent" attributes included
 * (META flags, acm_policy_info.meta_flags), so the model is rebuilt field
 * by field; hvsec-polc checks its canonical hash against the source hash
 * the compiler embedded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-compiler/polc.h"

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

/* Metadata strings: "" in the blob means absent, NULL in the model. */
static int dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (!s || !*s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -1;
}

static int names_reserve(struct polc_names *n, size_t want)
{
	if (want == 0)
		return 0;
	n->v = calloc(want, sizeof(*n->v));
	if (!n->v)
		return -1;
	n->cap = want;
	return 0;
}

static int names_push(struct polc_names *n, const char *name)
{
	char *copy;

	/* Sized exactly by the caller: running out is a bug, not input. */
	if (n->n >= n->cap)
		return -1;
	copy = dup_str(name);
	if (!copy)
		return -1;
	n->v[n->n].name = copy;
	n->v[n->n].line = 0;
	n->n++;
	return 0;
}

static int fill_header(const struct acm_policy_info *in,
		       struct polc_policy *out)
{
	out->name.name = dup_str(in->name);
	if (!out->name.name)
		return -1;
	out->has_version = in->has_version;
	out->version_major = in->version_major;
	out->version_minor = in->version_minor;
	out->has_from = in->has_from;
	if (in->has_from) {
		out->from_name = dup_str(in->from_name);
		if (!out->from_name)
			return -1;
		out->from_major = in->from_major;
		out->from_minor = in->from_minor;
	}
	if (dup_opt(in->url, &out->url) ||
	    dup_opt(in->reference, &out->reference) ||
	    dup_opt(in->date, &out->date) ||
	    dup_opt(in->namespace_url, &out->namespace_url))
		return -1;
	return 0;
}

static int fill_types(const struct acm_policy *ap,
		      const struct acm_policy_info *in, struct polc_policy *out)
{
	uint32_t t;

	out->has_ste = (in->flags & ACM_BIN_F_STE) != 0;
	out->has_cw = (in->flags & ACM_BIN_F_CHWALL) != 0;
	/* The loader refuses a priority flag without its component. */
	out->ste_priority = (in->meta_flags & ACM_META_F_STE_PRIORITY) != 0;
	out->cw_priority = (in->meta_flags & ACM_META_F_CW_PRIORITY) != 0;
	if (names_reserve(&out->ste_types, in->n_ste_types) ||
	    names_reserve(&out->cw_types, in->n_cw_types))
		return -1;
	for (t = 0; t < in->n_ste_types; t++)
		if (names_push(&out->ste_types, acm_ste_type_name(ap, t)))
			return -1;
	for (t = 0; t < in->n_cw_types; t++)
		if (names_push(&out->cw_types, acm_cw_type_name(ap, t)))
			return -1;
	return 0;
}

static int fill_conflicts(const struct acm_policy *ap,
			  const struct acm_policy_info *in,
			  struct polc_policy *out)
{
	uint32_t c, t, members;

	if (in->n_conflict_sets == 0)
		return 0;
	out->conflicts = calloc(in->n_conflict_sets, sizeof(*out->conflicts));
	if (!out->conflicts)
		return -1;
	out->cap_conflicts = in->n_conflict_sets;
	for (c = 0; c < in->n_conflict_sets; c++) {
		struct polc_conflict *cs = &out->conflicts[c];

		/* Count first so the model owns exactly-sized arrays. */
		out->n_conflicts++;
		cs->name.name = dup_str(acm_conflict_set_name(ap, c));
		if (!cs->name.name)
			return -1;
		members = 0;
		for (t = 0; t < in->n_cw_types; t++)
			members += acm_conflict_set_has(ap, c, t);
		if (names_reserve(&cs->types, members))
			return -1;
		for (t = 0; t < in->n_cw_types; t++)
			if (acm_conflict_set_has(ap, c, t) &&
			    names_push(&cs->types, acm_cw_type_name(ap, t)))
				return -1;
	}
	return 0;
}

static int fill_label(const struct acm_policy *ap,
		      const struct acm_policy_info *in, acm_row_t row,
		      struct polc_label *l)
{
	uint32_t t, n_ste = 0, n_cw = 0;
	const char *from;

	l->kind = acm_label_kind(ap, row);
	l->name.name = dup_str(acm_label_name(ap, row));
	if (!l->name.name)
		return -1;
	from = acm_label_from(ap, row);
	if (dup_opt(from, &l->from))
		return -1;
	for (t = 0; t < in->n_ste_types; t++)
		n_ste += acm_label_has_ste(ap, row, t);
	for (t = 0; t < in->n_cw_types; t++)
		n_cw += acm_label_has_cw(ap, row, t);
	if (names_reserve(&l->ste, n_ste) || names_reserve(&l->cw, n_cw))
		return -1;
	for (t = 0; t < in->n_ste_types; t++)
		if (acm_label_has_ste(ap, row, t) &&
		    names_push(&l->ste, acm_ste_type_name(ap, t)))
			return -1;
	for (t = 0; t < in->n_cw_types; t++)
		if (acm_label_has_cw(ap, row, t) &&
		    names_push(&l->cw, acm_cw_type_name(ap, t)))
			return -1;
	return 0;
}

static int fill_labels(const struct acm_policy *ap,
		       const struct acm_policy_info *in,
		       struct polc_policy *out)
{
	acm_row_t row;

	out->bootstrap.name = dup_str(acm_label_name(ap, in->bootstrap));
	if (!out->bootstrap.name)
		return -1;
	if (in->n_labels == 0)
		return 0;
	out->labels = calloc(in->n_labels, sizeof(*out->labels));
	if (!out->labels)
		return -1;
	out->cap_labels = in->n_labels;
	for (row = 0; row < in->n_labels; row++) {
		out->n_labels++;
		if (fill_label(ap, in, row, &out->labels[row]))
			return -1;
	}
	return 0;
}

int polc_from_acm(const struct acm_policy *ap, struct polc_policy *out)
{
	struct acm_policy_info in;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!ap) {
		errno = EINVAL;
		return -1;
	}
	acm_policy_info(ap, &in);
	if (fill_header(&in, out) || fill_types(ap, &in, out) ||
	    fill_conflicts(ap, &in, out) || fill_labels(ap, &in, out)) {
		errno = ENOMEM;
		goto out;
	}
	ret = 0;
out:
	if (ret)
		polc_policy_free(out);
	return ret;
}
