/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * validate.c - every check on a binary policy, in the order of
 * docs/formats.md §1.7: when a blob has several faults, the first check in
 * that list reports.  Shared by acm_policy_measure and acm_policy_load so
 * that they cannot disagree.
 *
 * No memory is available here (measure has none), so every check is a
 * pass over the blob with O(1) state.  That includes label ids being
 * unique: the blob carries its own proof, the ID_INDEX section (see
 * check_id_index).
 */
#include "acm/acm_private.h"

/* The string pool, once section 1 is known to be well formed. */
struct pool {
	const uint8_t *s;
	uint32_t len;
};

static enum acm_err fail(struct acm_load_error *where, enum acm_err err,
			 size_t off)
{
	where->err = err;
	where->offset = (uint32_t)off;
	return err;
}

static bool in_range(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi;
}

static uint32_t round8(uint32_t v)
{
	return (v + 7u) & ~7u;
}

static uint32_t entry_off(uint32_t id, uint32_t field)
{
	return ACM_HEADER_LEN + (id - 1u) * 16u + field;
}

/* A window on bytes [off, off + n) of the blob; empty if out of bounds (so
 * that every read from it fails) - which check_table has ruled out for
 * sections by the time contents are read. */
static struct acm_cursor window(const uint8_t *blob, size_t len, size_t off,
				size_t n)
{
	struct acm_cursor whole = acm_cur(blob, len), w = acm_cur(blob, 0);

	(void)acm_cur_window(&whole, off, n, &w);
	return w;
}

static struct acm_cursor section(const uint8_t *blob,
				 const struct acm_layout *lay, uint32_t id)
{
	return window(blob, lay->len, lay->off[id], lay->size[id]);
}

/* A read past a section's end: its size is what is wrong. */
static enum acm_err short_section(struct acm_load_error *where, uint32_t id)
{
	return fail(where, ACM_E_SECTION_SIZE, entry_off(id, 8));
}

/* ------------------------------------------------------------- header */

static enum acm_err check_header(const uint8_t *blob, size_t len,
				 struct acm_layout *lay,
				 struct acm_load_error *where)
{
	struct acm_cursor c = acm_cur(blob, len);
	uint32_t magic, total_len, flags, n_sections, table, reserved[2];
	uint16_t major, minor;
	uint8_t digest[ACM_SHA256_LEN], byte;
	size_t i;

	if (len < ACM_MIN_BLOB_LEN ||
	    !(acm_cur_u32(&c, &magic) && acm_cur_u16(&c, &major) &&
	      acm_cur_u16(&c, &minor) && acm_cur_u32(&c, &total_len) &&
	      acm_cur_u32(&c, &flags) && acm_cur_u32(&c, &n_sections) &&
	      acm_cur_u32(&c, &table) && acm_cur_u32(&c, &reserved[0]) &&
	      acm_cur_u32(&c, &reserved[1])))
		return fail(where, ACM_E_TRUNCATED, 0);
	if (magic != ACM_MAGIC)
		return fail(where, ACM_E_MAGIC, 0);
	if (major != ACM_FORMAT_MAJOR)
		return fail(where, ACM_E_VERSION, 4);
	if (!in_range(minor, ACM_FORMAT_MINOR_MIN, ACM_FORMAT_MINOR))
		return fail(where, ACM_E_VERSION, 6);
	if (total_len != len || total_len % 8u ||
	    total_len > ACM_MAX_POLICY_LEN)
		return fail(where, ACM_E_LENGTH, 8);

	acm_sha256(blob, len - ACM_SHA256_LEN, digest);
	c = window(blob, len, len - ACM_SHA256_LEN, ACM_SHA256_LEN);
	for (i = 0; i < ACM_SHA256_LEN; i++)
		if (!acm_cur_u8(&c, &byte) || byte != digest[i])
			return fail(where, ACM_E_HASH, len - ACM_SHA256_LEN);

	if (flags & ~ACM_BIN_F_ALL)
		return fail(where, ACM_E_HEADER, 12);
	if (reserved[0])
		return fail(where, ACM_E_HEADER, 24);
	if (reserved[1])
		return fail(where, ACM_E_HEADER, 28);
	if (n_sections != ACM_SEC_COUNT)
		return fail(where, ACM_E_HEADER, 16);
	if (table != ACM_HEADER_LEN)
		return fail(where, ACM_E_HEADER, 20);
	lay->len = total_len;
	lay->flags = flags;
	return ACM_OK;
}

/* ------------------------------------------------------- section table */

/* Padding [from, to) is zero. */
static enum acm_err check_zero(const uint8_t *blob, uint32_t len,
			       uint32_t from, uint32_t to,
			       struct acm_load_error *where)
{
	struct acm_cursor c = window(blob, len, from, to - from);
	uint8_t byte;

	for (; from < to; from++)
		if (!acm_cur_u8(&c, &byte) || byte)
			return fail(where, ACM_E_SECTION, from);
	return ACM_OK;
}

static enum acm_err check_table(const uint8_t *blob, struct acm_layout *lay,
				struct acm_load_error *where)
{
	struct acm_cursor c = acm_cur(blob, lay->len);
	uint32_t trailer = lay->len - ACM_SHA256_LEN;
	uint32_t prev_end = ACM_SECTIONS_START, id, off, size, count;
	uint32_t i, entry;
	enum acm_err err;

	if (!acm_cur_seek(&c, ACM_HEADER_LEN))
		return fail(where, ACM_E_TRUNCATED, 0);
	for (i = 1; i <= ACM_SEC_COUNT; i++) {
		entry = (uint32_t)c.pos;
		if (!(acm_cur_u32(&c, &id) && acm_cur_u32(&c, &off) &&
		      acm_cur_u32(&c, &size) && acm_cur_u32(&c, &count)))
			return fail(where, ACM_E_TRUNCATED, 0);
		if (id != i)
			return fail(where, ACM_E_SECTION, entry);
		/* prev_end <= trailer, a multiple of 8: no overflow, and the
		 * padding below is inside the blob. */
		if (off != round8(prev_end))
			return fail(where, ACM_E_SECTION, entry + 4);
		err = check_zero(blob, lay->len, prev_end, off, where);
		if (err)
			return err;
		if (size > trailer - off)
			return fail(where, ACM_E_SECTION, entry + 8);
		lay->off[i] = off;
		lay->size[i] = size;
		lay->count[i] = count;
		prev_end = off + size;
	}
	/* The last section's own padding; beyond it is ACM_E_TRAILING. */
	return check_zero(blob, lay->len, prev_end, round8(prev_end), where);
}

/* ------------------------------------------------------ section sizes */

/* size == count * item, and count within [0, max] (computed in 64 bits:
 * no product here can overflow them). */
static enum acm_err check_array(const struct acm_layout *lay, uint32_t id,
				uint64_t item, uint32_t max,
				struct acm_load_error *where)
{
	if (lay->count[id] > max)
		return fail(where, ACM_E_SECTION_SIZE, entry_off(id, 12));
	if ((uint64_t)lay->size[id] != item * lay->count[id])
		return fail(where, ACM_E_SECTION_SIZE, entry_off(id, 8));
	return ACM_OK;
}

/* A component has types iff the header says it is present. */
static enum acm_err check_component(const struct acm_layout *lay,
				    uint32_t id, uint32_t flag,
				    struct acm_load_error *where)
{
	bool present = lay->flags & flag;

	if (present != (lay->count[id] != 0))
		return fail(where, ACM_E_SECTION_SIZE, entry_off(id, 12));
	return ACM_OK;
}

static enum acm_err check_sizes(const uint8_t *blob, struct acm_layout *lay,
				struct acm_load_error *where)
{
	struct acm_cursor pool = section(blob, lay, ACM_SEC_STRINGS);
	uint32_t nuls = 0;
	enum acm_err err;
	uint8_t byte;

	while (acm_cur_u8(&pool, &byte))
		nuls += byte == 0;
	if (lay->count[ACM_SEC_STRINGS] != nuls)
		return fail(where, ACM_E_SECTION_SIZE,
			    entry_off(ACM_SEC_STRINGS, 12));

	if (lay->count[ACM_SEC_META] != 1)
		return fail(where, ACM_E_SECTION_SIZE,
			    entry_off(ACM_SEC_META, 12));
	if (lay->size[ACM_SEC_META] != sizeof(struct acm_bin_meta))
		return fail(where, ACM_E_SECTION_SIZE,
			    entry_off(ACM_SEC_META, 8));

	err = check_array(lay, ACM_SEC_STE_TYPES, 4, ACM_MAX_TYPES, where);
	if (!err)
		err = check_component(lay, ACM_SEC_STE_TYPES, ACM_BIN_F_STE,
				      where);
	if (!err)
		err = check_array(lay, ACM_SEC_CW_TYPES, 4, ACM_MAX_TYPES,
				  where);
	if (!err)
		err = check_component(lay, ACM_SEC_CW_TYPES, ACM_BIN_F_CHWALL,
				      where);
	if (!err)
		err = check_array(lay, ACM_SEC_LABELS,
				  sizeof(struct acm_bin_label),
				  ACM_MAX_LABELS, where);
	if (err)
		return err;
	lay->n_ste = lay->count[ACM_SEC_STE_TYPES];
	lay->n_cw = lay->count[ACM_SEC_CW_TYPES];
	lay->n_labels = lay->count[ACM_SEC_LABELS];
	lay->ste_words = acm_words_for(lay->n_ste);
	lay->cw_words = acm_words_for(lay->n_cw);

	err = check_array(lay, ACM_SEC_STE_SETS, 8ull * lay->ste_words,
			  lay->n_labels, where);
	if (!err && lay->count[ACM_SEC_STE_SETS] != lay->n_labels)
		err = fail(where, ACM_E_SECTION_SIZE,
			   entry_off(ACM_SEC_STE_SETS, 12));
	if (!err)
		err = check_array(lay, ACM_SEC_CW_SETS, 8ull * lay->cw_words,
				  lay->n_labels, where);
	if (!err && lay->count[ACM_SEC_CW_SETS] != lay->n_labels)
		err = fail(where, ACM_E_SECTION_SIZE,
			   entry_off(ACM_SEC_CW_SETS, 12));
	if (!err)
		err = check_array(lay, ACM_SEC_CONFLICTS,
				  sizeof(struct acm_bin_conflict),
				  ACM_MAX_CONFLICT_SETS, where);
	/* No Chinese Wall, no conflict sets. */
	if (!err && !(lay->flags & ACM_BIN_F_CHWALL) &&
	    lay->count[ACM_SEC_CONFLICTS])
		err = fail(where, ACM_E_SECTION_SIZE,
			   entry_off(ACM_SEC_CONFLICTS, 12));
	if (err)
		return err;
	lay->n_cs = lay->count[ACM_SEC_CONFLICTS];

	err = check_array(lay, ACM_SEC_CONFLICT_SETS, 8ull * lay->cw_words,
			  lay->n_cs, where);
	if (!err && lay->count[ACM_SEC_CONFLICT_SETS] != lay->n_cs)
		err = fail(where, ACM_E_SECTION_SIZE,
			   entry_off(ACM_SEC_CONFLICT_SETS, 12));
	if (!err)
		err = check_array(lay, ACM_SEC_ID_INDEX, 4, lay->n_labels,
				  where);
	if (!err && lay->count[ACM_SEC_ID_INDEX] != lay->n_labels)
		err = fail(where, ACM_E_SECTION_SIZE,
			   entry_off(ACM_SEC_ID_INDEX, 12));
	return err;
}

/* ------------------------------------------------------------ strings */

static enum acm_err check_pool(const uint8_t *blob,
			       const struct acm_layout *lay, struct pool *pl,
			       struct acm_load_error *where)
{
	struct acm_cursor c = section(blob, lay, ACM_SEC_STRINGS);
	uint32_t base = lay->off[ACM_SEC_STRINGS], len = (uint32_t)c.len;
	const uint8_t *s = c.base; /* scanned below within [0, len) */
	uint32_t start, prev = 0, i;

	if (len == 0 || s[0] != 0)
		return fail(where, ACM_E_STRING, base);
	if (s[len - 1] != 0)
		return fail(where, ACM_E_STRING, base + len - 1);
	for (start = 1; start < len; start = i + 1) {
		for (i = start; s[i]; i++)
			;
		if (i == start) /* a second empty string */
			return fail(where, ACM_E_STRING, base + start);
		if (prev && acm_strcmp((const char *)s + prev,
				       (const char *)s + start) >= 0)
			return fail(where, ACM_E_STRING, base + start);
		prev = start;
	}
	pl->s = s;
	pl->len = len;
	return ACM_OK;
}

/* 0 ("absent") or the first byte of a pool string. */
static bool string_ok(const struct pool *pl, uint32_t off)
{
	return off < pl->len && (off == 0 || pl->s[off - 1] == 0);
}

/* Names: 1 to 255 bytes, no control byte, no DEL, no ':'.  The pool ends
 * in NUL, so the scan stops inside it. */
static bool name_ok(const struct pool *pl, uint32_t off)
{
	const uint8_t *s = pl->s + off;
	uint32_t n;

	for (n = 0; s[n]; n++)
		if (n >= ACM_NAME_MAX || s[n] < 0x20 || s[n] == 0x7f ||
		    s[n] == ':')
			return false;
	return n > 0;
}

static enum acm_err check_name(const struct pool *pl, uint32_t str,
			       uint32_t field, struct acm_load_error *where)
{
	if (!string_ok(pl, str))
		return fail(where, ACM_E_STRING, field);
	if (!name_ok(pl, str))
		return fail(where, ACM_E_NAME, field);
	return ACM_OK;
}

/* Metadata (url, date ...): absent, or up to 1024 bytes, no control byte. */
static enum acm_err check_meta_string(const struct pool *pl, uint32_t str,
				      uint32_t field,
				      struct acm_load_error *where)
{
	const uint8_t *s = pl->s + str;
	uint32_t n;

	if (!string_ok(pl, str))
		return fail(where, ACM_E_STRING, field);
	for (n = 0; s[n]; n++)
		if (n >= ACM_META_STRING_MAX || s[n] < 0x20 || s[n] == 0x7f)
			return fail(where, ACM_E_NAME, field);
	return ACM_OK;
}

/* --------------------------------------------------------------- meta */

static enum acm_err check_meta(const uint8_t *blob,
			       const struct acm_layout *lay,
			       const struct pool *pl,
			       struct acm_load_error *where)
{
	uint32_t m = lay->off[ACM_SEC_META];
	struct acm_cursor c;
	uint32_t f[16], i, flags;
	enum acm_err err;

	/* The 16 u32 fields of struct acm_bin_meta, in order. */
	c = section(blob, lay, ACM_SEC_META);
	for (i = 0; i < 16; i++)
		if (!acm_cur_u32(&c, &f[i]))
			return short_section(where, ACM_SEC_META);

	err = check_name(pl, f[0], m, where);
	if (err)
		return err;
	flags = f[3];
	if (flags & ~ACM_META_F_ALL)
		return fail(where, ACM_E_META, m + 12);
	/* A priority attribute needs the element that carries it. */
	if ((flags & ACM_META_F_STE_PRIORITY) && !(lay->flags & ACM_BIN_F_STE))
		return fail(where, ACM_E_META, m + 12);
	if ((flags & ACM_META_F_CW_PRIORITY) &&
	    !(lay->flags & ACM_BIN_F_CHWALL))
		return fail(where, ACM_E_META, m + 12);
	if (!(flags & ACM_META_F_VERSION)) {
		if (f[1])
			return fail(where, ACM_E_META, m + 4);
		if (f[2])
			return fail(where, ACM_E_META, m + 8);
	}
	if (flags & ACM_META_F_FROM) {
		err = check_name(pl, f[4], m + 16, where);
		if (err)
			return err;
	} else {
		for (i = 4; i <= 6; i++)
			if (f[i])
				return fail(where, ACM_E_META, m + 4 * i);
	}
	for (i = 7; i <= 10; i++) {
		err = check_meta_string(pl, f[i], m + 4 * i, where);
		if (err)
			return err;
	}
	for (i = 12; i < 16; i++)
		if (f[i])
			return fail(where, ACM_E_META, m + 4 * i);
	return ACM_OK; /* bootstrap (f[11]) needs the labels: checked last */
}

/* --------------------------------------------------------------- types */

static enum acm_err check_types(const uint8_t *blob,
				const struct acm_layout *lay, uint32_t id,
				const struct pool *pl,
				struct acm_load_error *where)
{
	struct acm_cursor c = section(blob, lay, id);
	uint32_t base = lay->off[id], n = lay->count[id], i, name, prev = 0;
	enum acm_err err;

	for (i = 0; i < n; i++) {
		if (!acm_cur_u32(&c, &name))
			return short_section(where, id);
		err = check_name(pl, name, base + 4 * i, where);
		if (err)
			return err;
		/* The pool is strictly ascending: offsets order as names. */
		if (i && name <= prev)
			return fail(where, ACM_E_TYPE_ORDER, base + 4 * i);
		prev = name;
	}
	return ACM_OK;
}

/* -------------------------------------------------------------- labels */

/* Row `row`'s id; rows are below the count, whose size check_sizes has
 * matched, so the read succeeds (0, never a valid id, if it did not). */
static uint32_t label_id(const struct acm_cursor *labels, uint32_t row)
{
	struct acm_cursor c = *labels;
	uint32_t id = 0;

	if (acm_cur_seek(&c, (size_t)row * sizeof(struct acm_bin_label)))
		(void)acm_cur_u32(&c, &id);
	return id;
}

/* The row at the cursor (which it passes); `base` is its blob offset. */
static enum acm_err check_label_row(struct acm_cursor *c, uint32_t base,
				    const struct pool *pl, bool *seen_res,
				    uint32_t prev_name[3],
				    struct acm_load_error *where)
{
	uint32_t id, name, from;
	uint16_t kind, flags;
	enum acm_err err;

	if (!(acm_cur_u32(c, &id) && acm_cur_u32(c, &name) &&
	      acm_cur_u32(c, &from) && acm_cur_u16(c, &kind) &&
	      acm_cur_u16(c, &flags)))
		return short_section(where, ACM_SEC_LABELS);
	if (kind != ACM_LABEL_VM && kind != ACM_LABEL_RESOURCE)
		return fail(where, ACM_E_LABEL, base + 12);
	if (kind == ACM_LABEL_VM && *seen_res) /* VM labels come first */
		return fail(where, ACM_E_LABEL, base + 12);
	if (flags)
		return fail(where, ACM_E_LABEL, base + 14);
	if (id == 0 || id > ACM_ID_MAX)
		return fail(where, ACM_E_LABEL, base);
	err = check_name(pl, name, base + 4, where);
	if (err)
		return err;
	if (prev_name[kind] && name <= prev_name[kind])
		return fail(where, ACM_E_LABEL, base + 4);
	if (!string_ok(pl, from))
		return fail(where, ACM_E_STRING, base + 8);
	if (from && !name_ok(pl, from))
		return fail(where, ACM_E_NAME, base + 8);
	prev_name[kind] = name;
	*seen_res = kind == ACM_LABEL_RESOURCE;
	return ACM_OK;
}

/* Every row on its own; that ids are unique is check_id_index's job. */
static enum acm_err check_labels(const uint8_t *blob, struct acm_layout *lay,
				 const struct pool *pl,
				 struct acm_load_error *where)
{
	struct acm_cursor c = section(blob, lay, ACM_SEC_LABELS);
	uint32_t base = lay->off[ACM_SEC_LABELS];
	uint32_t prev_name[3] = { 0, 0, 0 }; /* by kind; names are never 0 */
	bool seen_res = false;
	enum acm_err err;
	acm_row_t row;

	lay->n_vm = 0;
	for (row = 0; row < lay->n_labels; row++) {
		err = check_label_row(&c, base + row * 16u, pl, &seen_res,
				      prev_name, where);
		if (err)
			return err;
		lay->n_vm += !seen_res;
	}
	return ACM_OK;
}

/* ------------------------------------------------------------- bitsets */

/* Label bitsets: no bit at or beyond n_bits, none at all where `empty`
 * (resource labels' Chinese-Wall sets).  Counts on the way what the
 * loader's type lists will hold. */
static enum acm_err check_label_sets(const uint8_t *blob,
				     struct acm_layout *lay, uint32_t id,
				     uint32_t n_bits, uint32_t words,
				     struct acm_load_error *where)
{
	struct acm_cursor c = section(blob, lay, id);
	uint32_t base = lay->off[id], row, w, at, n;
	uint64_t v, last_mask = acm_word_mask(n_bits, words ? words - 1 : 0);
	bool empty;

	for (row = 0; row < lay->n_labels; row++) {
		empty = id == ACM_SEC_CW_SETS && row >= lay->n_vm;
		n = 0;
		for (w = 0; w < words; w++) {
			at = base + (uint32_t)c.pos;
			if (!acm_cur_u64(&c, &v))
				return short_section(where, id);
			if (!v)
				continue;
			if (empty || (w == words - 1 && (v & ~last_mask)))
				return fail(where, ACM_E_BITSET, at);
			n += acm_popcount64(v);
		}
		if (id == ACM_SEC_CW_SETS)
			lay->n_own += n;
		else if (acm_ste_listed(n, words))
			lay->n_ste_listed += n;
	}
	return ACM_OK;
}

/* ----------------------------------------------------------- conflicts */

static enum acm_err check_conflicts(const uint8_t *blob,
				    struct acm_layout *lay,
				    const struct pool *pl,
				    struct acm_load_error *where)
{
	struct acm_cursor c = section(blob, lay, ACM_SEC_CONFLICTS);
	uint32_t base = lay->off[ACM_SEC_CONFLICTS], i, at, name, reserved;
	uint32_t prev = 0;
	enum acm_err err;

	for (i = 0; i < lay->n_cs; i++) {
		at = base + i * 8u;
		if (!acm_cur_u32(&c, &name) || !acm_cur_u32(&c, &reserved))
			return short_section(where, ACM_SEC_CONFLICTS);
		if (name == 0) /* unnamed */
			return fail(where, ACM_E_CONFLICT, at);
		err = check_name(pl, name, at, where);
		if (err)
			return err;
		if (i && name <= prev)
			return fail(where, ACM_E_CONFLICT, at);
		if (reserved)
			return fail(where, ACM_E_CONFLICT, at + 4);
		prev = name;
	}
	return ACM_OK;
}

static enum acm_err check_conflict_sets(const uint8_t *blob,
					struct acm_layout *lay,
					struct acm_load_error *where)
{
	struct acm_cursor cur = section(blob, lay, ACM_SEC_CONFLICT_SETS);
	uint32_t base = lay->off[ACM_SEC_CONFLICT_SETS], words = lay->cw_words;
	uint64_t v, any, last_mask;
	uint32_t c, w, at;

	if (!lay->n_cs)
		return ACM_OK;
	/* Sets imply a Chinese-Wall component, so words >= 1. */
	last_mask = acm_word_mask(lay->n_cw, words - 1);
	for (c = 0; c < lay->n_cs; c++) {
		any = 0;
		for (w = 0; w < words; w++) {
			at = base + (uint32_t)cur.pos;
			if (!acm_cur_u64(&cur, &v))
				return short_section(where,
						     ACM_SEC_CONFLICT_SETS);
			if (w == words - 1 && (v & ~last_mask))
				return fail(where, ACM_E_BITSET, at);
			any |= v;
			lay->n_members += acm_popcount64(v);
		}
		if (!any)
			return fail(where, ACM_E_CONFLICT,
				    base + c * words * 8u);
	}
	return ACM_OK;
}

/* ------------------------------------------------------------ id index */

/*
 * ID_INDEX holds n_labels rows such that the ids of row[0], row[1], ...
 * strictly increase.  Checking that takes one pass and no memory, and it
 * proves what a sort would: n strictly increasing values are n distinct
 * ids, so no two of the rows named share an id; and since each of the n
 * rows named has one id, distinct ids mean distinct rows, so the index
 * names every row of [0, n) exactly once - every label's id is unique.
 * Then acm_label_find_id binary-searches the index in the blob.
 *
 * A fault is reported at the index entry where the order breaks, except
 * when two different rows of equal id meet: then the labels themselves are
 * wrong (a duplicate id) and the later of the two rows' id field reports.
 * So with several duplicates, the one of the lowest id wins.
 */
static enum acm_err check_id_index(const uint8_t *blob,
				   const struct acm_layout *lay,
				   struct acm_load_error *where)
{
	struct acm_cursor c = section(blob, lay, ACM_SEC_ID_INDEX);
	const struct acm_cursor labels = section(blob, lay, ACM_SEC_LABELS);
	uint32_t base = lay->off[ACM_SEC_ID_INDEX], i, row, id;
	uint32_t prev_row = 0, prev_id = 0; /* ids are never 0 */

	for (i = 0; i < lay->n_labels; i++) {
		if (!acm_cur_u32(&c, &row))
			return short_section(where, ACM_SEC_ID_INDEX);
		if (row >= lay->n_labels)
			return fail(where, ACM_E_LABEL, base + 4 * i);
		id = label_id(&labels, row);
		if (id == prev_id && row != prev_row)
			return fail(where, ACM_E_LABEL,
				    lay->off[ACM_SEC_LABELS] +
					    (row > prev_row ? row : prev_row) *
						    16u);
		if (id <= prev_id)
			return fail(where, ACM_E_LABEL, base + 4 * i);
		prev_row = row;
		prev_id = id;
	}
	return ACM_OK;
}

/* ---------------------------------------------------------------- all */

enum acm_err acm_validate(const uint8_t *blob, size_t len,
			  struct acm_layout *lay, struct acm_load_error *where)
{
	struct acm_cursor meta;
	struct pool pl;
	uint32_t boot_at, boot, end, trailer;
	enum acm_err err;

	*lay = (struct acm_layout){ 0 };
	err = check_header(blob, len, lay, where);
	if (!err)
		err = check_table(blob, lay, where);
	if (!err)
		err = check_sizes(blob, lay, where);
	if (!err)
		err = check_pool(blob, lay, &pl, where);
	if (!err)
		err = check_meta(blob, lay, &pl, where);
	if (!err)
		err = check_types(blob, lay, ACM_SEC_STE_TYPES, &pl, where);
	if (!err)
		err = check_types(blob, lay, ACM_SEC_CW_TYPES, &pl, where);
	if (!err)
		err = check_labels(blob, lay, &pl, where);
	if (!err)
		err = check_label_sets(blob, lay, ACM_SEC_STE_SETS, lay->n_ste,
				       lay->ste_words, where);
	if (!err)
		err = check_label_sets(blob, lay, ACM_SEC_CW_SETS, lay->n_cw,
				       lay->cw_words, where);
	if (!err)
		err = check_conflicts(blob, lay, &pl, where);
	if (!err)
		err = check_conflict_sets(blob, lay, where);
	if (!err)
		err = check_id_index(blob, lay, where);
	if (err)
		return err;

	meta = section(blob, lay, ACM_SEC_META);
	if (!acm_cur_seek(&meta, offsetof(struct acm_bin_meta, bootstrap)) ||
	    !acm_cur_u32(&meta, &boot))
		return short_section(where, ACM_SEC_META);
	boot_at = lay->off[ACM_SEC_META] +
		  (uint32_t)offsetof(struct acm_bin_meta, bootstrap);
	if (boot >= lay->n_vm)
		return fail(where, ACM_E_BOOTSTRAP, boot_at);

	end = round8(lay->off[ACM_SEC_COUNT] + lay->size[ACM_SEC_COUNT]);
	trailer = lay->len - ACM_SHA256_LEN;
	if (end != trailer)
		return fail(where, ACM_E_TRAILING, end);
	where->err = ACM_OK;
	where->offset = 0;
	return ACM_OK;
}
