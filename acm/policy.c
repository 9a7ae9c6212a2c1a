/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - read-only accessors and lookups on a loaded policy.
 *
 * Every index and row argument is checked: these are reached from tools and
 * hypercalls with caller-chosen numbers.  Out of range gives NULL, 0, false
 * or ACM_ROW_NONE, never a read outside the blob.
 */
#include "acm/acm_private.h"

int acm_strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x && *x == *y)
		x++, y++;
	return (int)*x - (int)*y;
}

static const char *meta_string(const struct acm_policy *p, size_t field)
{
	return acm_str(p, acm_le32(p->meta + field));
}

void acm_policy_info(const struct acm_policy *p, struct acm_policy_info *info)
{
	uint32_t flags;

	if (!p || !info)
		return;
	flags = acm_le32(p->meta + offsetof(struct acm_bin_meta, flags));
	info->name = meta_string(p, offsetof(struct acm_bin_meta, name));
	info->version_major = acm_le32(p->meta + offsetof(struct acm_bin_meta,
							  version_major));
	info->version_minor = acm_le32(p->meta + offsetof(struct acm_bin_meta,
							  version_minor));
	info->has_version = flags & ACM_META_F_VERSION;
	info->has_from = flags & ACM_META_F_FROM;
	info->from_name =
		meta_string(p, offsetof(struct acm_bin_meta, from_name));
	info->from_major =
		acm_le32(p->meta + offsetof(struct acm_bin_meta, from_major));
	info->from_minor =
		acm_le32(p->meta + offsetof(struct acm_bin_meta, from_minor));
	info->url = meta_string(p, offsetof(struct acm_bin_meta, url));
	info->reference =
		meta_string(p, offsetof(struct acm_bin_meta, reference));
	info->date = meta_string(p, offsetof(struct acm_bin_meta, date));
	info->namespace_url =
		meta_string(p, offsetof(struct acm_bin_meta, namespace_url));
	info->flags = p->flags;
	info->meta_flags = flags;
	info->n_ste_types = p->n_ste;
	info->n_cw_types = p->n_cw;
	info->n_labels = p->n_labels;
	info->n_vm_labels = p->n_vm;
	info->n_conflict_sets = p->n_cs;
	info->bootstrap = p->bootstrap;
	info->unlabeled = p->unlabeled;
	info->source_sha256 =
		p->blob + offsetof(struct acm_bin_header, source_sha256);
	info->blob_sha256 = p->blob + p->len - ACM_SHA256_LEN;
}

const char *acm_ste_type_name(const struct acm_policy *p, acm_type_t t)
{
	if (!p || t >= p->n_ste)
		return NULL;
	return acm_str(p, acm_le32(p->ste_types + (size_t)t * 4u));
}

const char *acm_cw_type_name(const struct acm_policy *p, acm_type_t t)
{
	if (!p || t >= p->n_cw)
		return NULL;
	return acm_str(p, acm_le32(p->cw_types + (size_t)t * 4u));
}

const char *acm_conflict_set_name(const struct acm_policy *p, uint32_t set)
{
	if (!p || set >= p->n_cs)
		return NULL;
	return acm_str(p, acm_le32(p->conflicts + (size_t)set * 8u));
}

bool acm_conflict_set_has(const struct acm_policy *p, uint32_t set,
			  acm_type_t cw_type)
{
	if (!p || set >= p->n_cs || cw_type >= p->n_cw)
		return false;
	return acm_bit(acm_cs_dense(p, set), cw_type);
}

static const uint8_t *label_entry(const struct acm_policy *p, acm_row_t row)
{
	return p->labels + (size_t)row * sizeof(struct acm_bin_label);
}

const char *acm_label_name(const struct acm_policy *p, acm_row_t row)
{
	if (!p || row >= p->n_labels)
		return NULL;
	return acm_str(p, acm_le32(label_entry(p, row) + 4));
}

const char *acm_label_from(const struct acm_policy *p, acm_row_t row)
{
	if (!p || row >= p->n_labels)
		return NULL;
	return acm_str(p, acm_le32(label_entry(p, row) + 8));
}

uint32_t acm_label_id(const struct acm_policy *p, acm_row_t row)
{
	if (!p || row >= p->n_labels)
		return 0;
	return acm_le32(label_entry(p, row));
}

enum acm_label_kind acm_label_kind(const struct acm_policy *p, acm_row_t row)
{
	if (!p || row >= p->n_labels)
		return (enum acm_label_kind)0;
	return row < p->n_vm ? ACM_LABEL_VM : ACM_LABEL_RESOURCE;
}

bool acm_label_has_ste(const struct acm_policy *p, acm_row_t row,
		       acm_type_t t)
{
	if (!p || row >= p->n_labels || t >= p->n_ste)
		return false;
	return acm_bit(acm_ste_dense(p, row), t);
}

bool acm_label_has_cw(const struct acm_policy *p, acm_row_t row, acm_type_t t)
{
	if (!p || row >= p->n_labels || t >= p->n_cw)
		return false;
	return acm_bit(acm_cw_dense(p, row), t);
}

/* Labels are sorted by name within each kind: VM rows [0, n_vm), resource
 * rows [n_vm, n_labels). */
acm_row_t acm_label_find(const struct acm_policy *p, enum acm_label_kind kind,
			 const char *name)
{
	uint32_t lo, hi, mid;
	int cmp;

	if (!p || !name)
		return ACM_ROW_NONE;
	switch (kind) {
	case ACM_LABEL_VM:
		lo = 0, hi = p->n_vm;
		break;
	case ACM_LABEL_RESOURCE:
		lo = p->n_vm, hi = p->n_labels;
		break;
	default:
		return ACM_ROW_NONE;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = acm_strcmp(name, acm_label_name(p, mid));
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ACM_ROW_NONE;
}

/* The blob's ID_INDEX lists every row once, ids strictly ascending (the
 * loader proved it): a binary search over it, nothing copied. */
acm_row_t acm_label_find_id(const struct acm_policy *p, uint32_t id)
{
	uint32_t lo, hi, mid, got;
	acm_row_t row;

	if (!p)
		return ACM_ROW_NONE;
	lo = 0, hi = p->n_labels;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		row = acm_le32(p->id_index + (size_t)mid * 4u);
		got = acm_le32(label_entry(p, row));
		if (got == id)
			return row;
		if (got < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ACM_ROW_NONE;
}

acm_type_t acm_cw_type_find(const struct acm_policy *p, const char *name)
{
	uint32_t lo = 0, hi = p->n_cw, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = acm_strcmp(name, acm_cw_type_name(p, mid));
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ACM_TYPE_NONE;
}
