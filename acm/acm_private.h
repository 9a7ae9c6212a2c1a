/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acm_private.h - what the files of acm/ share and nothing outside reads.
 *
 * Memory model: a loaded policy is a struct acm_policy at the start of the
 * donated memory, followed by its indexes (below); the bitsets and the id
 * index themselves stay in the caller's blob and are read in place with
 * byte loads, because the blob may sit at any alignment.  A context
 * (struct acm_ctx) likewise lives at the start of its own donated memory.
 *
 * Only the loader reads unvalidated bytes, and it does so through the
 * bounded cursor below.  Everything after a successful load indexes the
 * blob with offsets the loader has proven in bounds.
 */
#ifndef HVSEC_ACM_PRIVATE_H
#define HVSEC_ACM_PRIVATE_H

#include "acm/acm.h" /* and through it acm/acm_port.h */

#define ACM_HEADER_LEN 64u
#define ACM_TABLE_LEN (ACM_SEC_COUNT * 16u)
#define ACM_SECTIONS_START (ACM_HEADER_LEN + ACM_TABLE_LEN)
#define ACM_MIN_BLOB_LEN (ACM_SECTIONS_START + ACM_SHA256_LEN)
#define ACM_META_STRING_MAX 1024u
#define ACM_ID_MAX 0x7fffffffu
/* Largest decision cache: 2^24 slots of 16 bytes is 256 MiB already. */
#define ACM_CACHE_SLOTS_MAX (1u << 24)

/* ---------------------------------------------------------------- bytes */

static inline uint16_t acm_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t acm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Compilers turn this into one unaligned load on little-endian hosts. */
static inline uint64_t acm_le64(const uint8_t *p)
{
	return (uint64_t)acm_le32(p) | (uint64_t)acm_le32(p + 4) << 32;
}

static inline uint32_t acm_popcount64(uint64_t v)
{
	/* By hand: __builtin_popcountll may become a libgcc call. */
	v = v - ((v >> 1) & 0x5555555555555555ull);
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (uint32_t)((v * 0x0101010101010101ull) >> 56);
}

static inline uint32_t acm_ctz64(uint64_t v)
{
	return (uint32_t)__builtin_ctzll(v); /* v != 0: one instruction */
}

static inline uint32_t acm_words_for(uint32_t n_bits)
{
	return n_bits / 64u + (n_bits % 64u != 0);
}

/* Mask of the valid bits in word `w` of a bitset of n_bits bits. */
static inline uint64_t acm_word_mask(uint32_t n_bits, uint32_t w)
{
	uint32_t rest = n_bits - w * 64u;

	return rest >= 64u ? ~0ull : (1ull << rest) - 1u;
}

/* strcmp on unsigned bytes, without libc. */
int acm_strcmp(const char *a, const char *b);

/* ---------------------------------------------------------------- cursor */

/*
 * The one way the loader reads untrusted bytes: a window [base, base+len)
 * and a position.  Every read checks the remaining length first (no
 * pointer arithmetic that could overflow) and leaves the position alone
 * when it fails.
 */
struct acm_cursor {
	const uint8_t *base;
	size_t len;
	size_t pos;
};

static inline struct acm_cursor acm_cur(const uint8_t *base, size_t len)
{
	struct acm_cursor c = { base, len, 0 };

	return c;
}

static inline bool acm_cur_has(const struct acm_cursor *c, size_t n)
{
	return n <= c->len - c->pos;
}

/* A sub-window of `n` bytes at absolute offset `off`. */
static inline bool acm_cur_window(const struct acm_cursor *c, size_t off,
				  size_t n, struct acm_cursor *out)
{
	if (off > c->len || n > c->len - off)
		return false;
	*out = acm_cur(c->base + off, n);
	return true;
}

static inline bool acm_cur_seek(struct acm_cursor *c, size_t pos)
{
	if (pos > c->len)
		return false;
	c->pos = pos;
	return true;
}

static inline bool acm_cur_u8(struct acm_cursor *c, uint8_t *v)
{
	if (!acm_cur_has(c, 1))
		return false;
	*v = c->base[c->pos++];
	return true;
}

static inline bool acm_cur_u16(struct acm_cursor *c, uint16_t *v)
{
	if (!acm_cur_has(c, 2))
		return false;
	*v = acm_le16(c->base + c->pos);
	c->pos += 2;
	return true;
}

static inline bool acm_cur_u32(struct acm_cursor *c, uint32_t *v)
{
	if (!acm_cur_has(c, 4))
		return false;
	*v = acm_le32(c->base + c->pos);
	c->pos += 4;
	return true;
}

static inline bool acm_cur_u64(struct acm_cursor *c, uint64_t *v)
{
	if (!acm_cur_has(c, 8))
		return false;
	*v = acm_le64(c->base + c->pos);
	c->pos += 8;
	return true;
}

/* ---------------------------------------------------------------- sort */

/* (key, value) pairs, sorted by key then value (the update's domain
 * index). */
struct acm_pair {
	uint32_t key;
	uint32_t val;
};
void acm_sort_pairs(struct acm_pair *v, size_t n);
/* First index whose key is >= key (n if none). */
size_t acm_pairs_lower_bound(const struct acm_pair *v, size_t n,
			     uint32_t key);

/* ---------------------------------------------------------------- loader */

/* What validation learnt about a blob: where everything is and how big
 * the indexes acm_policy_load builds will be. */
struct acm_layout {
	uint32_t len;                   /* == total_len */
	uint32_t flags;                 /* header ACM_BIN_F_* */
	uint32_t off[ACM_SEC_COUNT + 1];   /* by section id */
	uint32_t size[ACM_SEC_COUNT + 1];
	uint32_t count[ACM_SEC_COUNT + 1];
	uint32_t n_ste, n_cw, n_labels, n_vm, n_cs;
	uint32_t ste_words, cw_words;
	uint64_t n_ste_listed; /* STE types of the labels that keep a list
				* (acm_ste_listed) */
	uint64_t n_own;        /* CW type memberships over all VM labels */
	uint64_t n_members;    /* type memberships over all conflict sets */
};

enum acm_err acm_validate(const uint8_t *blob, size_t len,
			  struct acm_layout *lay,
			  struct acm_load_error *where);

/* ---------------------------------------------------------------- policy */

/*
 * A label's STE types in the form the decisions want (ste.c), one per row,
 * built at load.  16 bytes, so that the summaries of 10,000 labels and their
 * type lists (a few hundred KiB) stay in the L2 cache, where the dense rows
 * in the blob (12.5 MB at 10,000 types) would not.
 *
 *   sig    bit acm_ste_sig_bit(t) for each of its types t: two labels whose
 *          signatures do not meet share no type, without reading anything
 *          else (most denials end there);
 *   n      its number of types;
 *   first  its types, ascending, are ste_list[first, first + n) - if it
 *          keeps a list at all (acm_ste_listed): a label of more than
 *          ACM_STE_LIST_MIN types whose list would be larger than its
 *          bitset row (more than 2 types per 64) is read from its row in
 *          the blob instead.  So the lists never take more memory than the
 *          STE_SETS section plus 64 bytes a label, however the blob is
 *          built, and a label read from its row is one for which the row
 *          is the cheaper thing to scan anyway.
 */
struct acm_ste_summary {
	uint32_t first;
	uint32_t n;
	uint64_t sig;
};
_Static_assert(sizeof(struct acm_ste_summary) == 16, "16-byte summary");

static inline uint64_t acm_ste_sig_bit(acm_type_t t)
{
	/* Fibonacci hashing: the top 6 bits of t * 2^32/phi. */
	return 1ull << ((uint32_t)(t * 0x9e3779b1u) >> 26);
}

/* Labels of up to this many STE types always keep a list: the common
 * labels of a few types then take the same path whatever the number of
 * types in the policy. */
#define ACM_STE_LIST_MIN 16u

/* Does a label of n STE types keep a type list (else: read its row)? */
static inline bool acm_ste_listed(uint32_t n, uint32_t ste_words)
{
	return n <= ACM_STE_LIST_MIN || n <= 2u * ste_words;
}

/* Per label row, built at load. */
struct acm_label_rt {
	uint32_t own_first; /* its CW types, ascending: cw_own[first, +n) */
	uint32_t own_n;
};

/*
 * A loaded policy.  Immutable after acm_policy_load, so any number of
 * readers may share it without a lock.  Pointers to uint8_t point into the
 * caller's blob; the others into the donated memory that follows.
 */
struct acm_policy {
	const uint8_t *blob;
	uint32_t len;
	uint32_t flags; /* ACM_BIN_F_* */
	uint32_t n_ste, n_cw, n_labels, n_vm, n_cs;
	uint32_t ste_words, cw_words;
	const char *strings; /* the string pool */
	const uint8_t *meta;
	const uint8_t *ste_types, *cw_types, *labels;
	const uint8_t *ste_sets, *cw_sets, *conflicts, *conflict_sets;
	const uint8_t *id_index; /* n_labels u32 rows, ids ascending */
	acm_row_t bootstrap;
	acm_row_t unlabeled;    /* VM label __UNLABELED__ or ACM_ROW_NONE */
	acm_row_t inaccessible; /* resource __INACCESSIBLE__ or NONE */

	const struct acm_ste_summary *ste;         /* n_labels */
	const uint32_t *ste_list;                 /* see acm_ste_summary */
	const struct acm_label_rt *rt;            /* n_labels */
	const uint32_t *cw_own;                   /* see acm_label_rt */
	/* CW type t is in conflict sets type_sets[type_sets_first[t] ..
	 * type_sets_first[t + 1]), ascending. */
	const uint32_t *type_sets_first; /* n_cw + 1 */
	const uint32_t *type_sets;
	/* Conflict set c has types set_members[set_first[c] ..
	 * set_first[c + 1]), ascending. */
	const uint32_t *set_first; /* n_cs + 1 */
	const uint32_t *set_members;
};

static inline const char *acm_str(const struct acm_policy *p, uint32_t off)
{
	return p->strings + off;
}

static inline const uint8_t *acm_ste_dense(const struct acm_policy *p,
					   acm_row_t row)
{
	return p->ste_sets + (size_t)row * p->ste_words * 8u;
}

static inline const uint8_t *acm_cw_dense(const struct acm_policy *p,
					  acm_row_t row)
{
	return p->cw_sets + (size_t)row * p->cw_words * 8u;
}

static inline const uint8_t *acm_cs_dense(const struct acm_policy *p,
					  uint32_t set)
{
	return p->conflict_sets + (size_t)set * p->cw_words * 8u;
}

static inline bool acm_bit(const uint8_t *dense, uint32_t t)
{
	return (dense[t / 8u] >> (t % 8u)) & 1u;
}

static inline bool acm_is_vm(const struct acm_policy *p, acm_row_t row)
{
	return row < p->n_vm; /* VM labels come first */
}

static inline bool acm_is_resource(const struct acm_policy *p, acm_row_t row)
{
	return row >= p->n_vm && row < p->n_labels;
}

/* CW type index by name, or ACM_TYPE_NONE. */
acm_type_t acm_cw_type_find(const struct acm_policy *p, const char *name);

/* ---------------------------------------------------------------- STE */

static inline void acm_verdict_set(struct acm_verdict *v,
				   enum acm_decision d, enum acm_reason r)
{
	v->decision = d;
	v->reason = r;
	v->type_a = ACM_TYPE_NONE;
	v->type_b = ACM_TYPE_NONE;
	v->set = UINT32_MAX;
	v->cached = false;
}

/* Uncached evaluations, shared by the decision hooks and update checks. */
void acm_ste_share(const struct acm_policy *p, acm_row_t a, acm_row_t b,
		   struct acm_verdict *v);
void acm_ste_resource(const struct acm_policy *p, acm_row_t vm,
		      acm_row_t res, struct acm_verdict *v);
void acm_ste_authorize(const struct acm_policy *p, acm_row_t host,
		       acm_row_t vm, struct acm_verdict *v);
/* Denies rows that are not VM labels; true when `row` is one. */
bool acm_vm_row_ok(const struct acm_policy *p, acm_row_t row,
		   struct acm_verdict *v);

/* ---------------------------------------------------------------- CW */

/*
 * Chinese-Wall accounting, for the context and for update scratch alike.
 *
 *   running[t]     running domains whose label has CW type t;
 *   set_active[c]  running domains whose label meets conflict set c.
 *
 * A domain of label L may start iff for every own type t and every set c
 * holding t, set_active[c] == running[t]: every domain that touches c also
 * has t, so nobody runs a different type of c without also running t.
 * This is Xen's rule (aggregate[t] > 0 for an own type denies), with the
 * aggregate kept implicitly: Xen's conflict_aggregate_set[t] equals
 * sum over c holding t of (set_active[c] - running[t]).
 *
 * A domain counted in the state cancels out of both sides for its own
 * types, so the same test checks a running domain against all the others.
 */
struct acm_cw_counts {
	uint32_t *running;    /* n_cw */
	uint32_t *set_active; /* n_cs */
};

struct acm_cw_conflict {
	acm_type_t own;     /* the type of the label being checked */
	acm_type_t other;   /* a running type of the same set */
	uint32_t set;
};

void acm_cw_account(const struct acm_policy *p, struct acm_cw_counts *cw,
		    acm_row_t vm, bool add);
/* First conflict of VM row `vm` with the state, false if none.  With
 * `counted`, the row itself is part of the state (a consistency check). */
bool acm_cw_find_conflict(const struct acm_policy *p,
			  const struct acm_cw_counts *cw, acm_row_t vm,
			  bool counted, struct acm_cw_conflict *out);
/* ORs into `words` (cw_words) the CW types excluded by label `vm`. */
void acm_cw_excluded_by(const struct acm_policy *p, acm_row_t vm,
			uint64_t *words);
/* True when VM row `vm` has a CW type among `words` (first in *t). */
bool acm_cw_hits_words(const struct acm_policy *p, acm_row_t vm,
		       const uint64_t *words, acm_type_t *t);

/* ---------------------------------------------------------------- ctx */

/* One decision cache entry: a verdict for (a, b, hook, kind of decision)
 * computed under a generation, both packed by decide.c (which documents
 * the bits).  Entries of another generation are simply misses; key 0 is
 * an empty entry.  16 bytes: a set of four is one cache line. */
struct acm_cache_entry {
	uint64_t key; /* valid bit, hook and kind, subject and object row */
	uint64_t val; /* low bits of the generation, then the verdict */
};
_Static_assert(sizeof(struct acm_cache_entry) == 16, "four per line");
#define ACM_CACHE_WAYS 4u
/* Bits of the generation an entry keeps (see decide.c). */
#define ACM_CACHE_GEN_BITS 42u

/*
 * Run-time state for one policy.  The embedder serialises writers; the
 * decision paths write only the cache and the statistics.
 */
struct acm_ctx {
	const struct acm_policy *p;
	uint64_t generation;
	uint32_t cache_set_mask;       /* sets - 1 */
	uint32_t cache_ways;           /* entries per set: 1, 2 or 4 */
	bool historical;
	struct acm_cache_entry *cache; /* sets * ways; NULL: no cache */
	struct acm_cw_counts cw;
	uint64_t *history;            /* cw_words, historical mode */
	struct acm_hook_stats stats[ACM_HOOK__COUNT];
};

/* Empties the decision cache (the generation is left alone). */
void acm_cache_clear(struct acm_ctx *ctx);

#endif /* HVSEC_ACM_PRIVATE_H */
