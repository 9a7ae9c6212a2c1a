// SPDX-License-Identifier: BSD-2-Clause
/*
 * check.c - semantic checks on a parsed policy (polc_check).
 *
 * The schema only knows shapes; everything about meaning is checked here:
 * names, duplicates, declared types, the bootstrap label, conflict sets,
 * renames and reserved names.  Every problem is reported (not just the
 * first), each at the line of the name at fault and naming it, and the
 * messages come out sorted by line (source order), whatever order the
 * checks ran in, so output is deterministic and reads top to bottom.
 *
 * Name lookups go through sorted arrays and binary search: a policy with
 * tens of thousands of types and labels is checked in milliseconds, never
 * in time quadratic in its size.
 */
#include <stdlib.h>
#include <string.h>

#include "policy-compiler/polc.h"

#define META_MAX   1024u
#define QUOTE_BUFS 4
#define QUOTE_LEN  96

/* One name in a sorted index; `idx` is its position in the source list,
 * the tie-breaker that makes "first declared" well defined. */
struct entry {
	const char *name;
	unsigned line;
	size_t idx;
};

struct index {
	struct entry *v;
	size_t n;
};

struct ck {
	const struct polc_policy *p;
	bool self_conflict_warns;
	struct polc_diags out; /* collected here, then sorted by line */
	struct index ste, cw;  /* declared types, unique after dedup */
	struct index vm, res;  /* labels by name, per kind (with dups) */
	char quote[QUOTE_BUFS][QUOTE_LEN];
	unsigned next_quote;
	bool oom;
};

static const char *str(const char *s)
{
	return s ? s : "";
}

/*
 * A name fit for a message: control bytes escaped (a hostile name must
 * not be able to forge lines of output) and long names shortened.  Uses a
 * small ring of buffers so one message can quote several names.
 */
static const char *q(struct ck *c, const char *s)
{
	char *buf = c->quote[c->next_quote++ % QUOTE_BUFS];
	size_t o = 0;

	for (s = str(s); *s; s++) {
		unsigned char b = (unsigned char)*s;

		if (o + 8 >= QUOTE_LEN) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		if (b < 0x20 || b == 0x7f || b == '\\' || b == '\'')
			o += (size_t)snprintf(buf + o, QUOTE_LEN - o, "\\x%02x",
					      b);
		else
			buf[o++] = (char)b;
	}
	buf[o] = 0;
	return buf;
}

#define ERR(c, line, ...)                                                      \
	polc_diag_add(&(c)->out, POLC_ERROR, line, __VA_ARGS__)
#define WARN(c, line, ...)                                                     \
	polc_diag_add(&(c)->out, POLC_WARNING, line, __VA_ARGS__)

/* ---------------------------------------------------------------- names */

/* Why `s` cannot be a name (docs/formats.md "Names"), or NULL. */
static const char *name_problem(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0)
		return "is empty";
	if (len > ACM_NAME_MAX)
		return "is longer than 255 bytes";
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b < 0x20 || b == 0x7f)
			return "contains a control character";
		if (b == ':')
			return "contains ':' (full labels are "
			       "ACM:<policy>:<label>)";
	}
	/* XML trims element text, so such a name could not round-trip. */
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "has whitespace at an end";
	return NULL;
}

/* Reports a bad name; returns true when the name is fine. */
static bool check_name(struct ck *c, const char *what, const char *s,
		       unsigned line)
{
	const char *why = name_problem(str(s));

	if (!why)
		return true;
	if (!*str(s))
		ERR(c, line, "empty %s", what);
	else
		ERR(c, line, "%s '%s' %s", what, q(c, s), why);
	return false;
}

static void check_meta(struct ck *c, const char *elem, const char *s,
		       unsigned line)
{
	size_t i, len;

	if (!s)
		return;
	len = strlen(s);
	if (len > META_MAX)
		ERR(c, line, "%s is %zu bytes long, more than %u", elem, len,
		    META_MAX);
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b < 0x20 || b == 0x7f) {
			ERR(c, line, "%s '%s' contains a control character",
			    elem, q(c, s));
			break;
		}
	}
}

/* ---------------------------------------------------------------- index */

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool index_build(struct ck *c, struct index *ix,
			const struct polc_names *v)
{
	size_t i;

	ix->n = 0;
	ix->v = malloc((v->n ? v->n : 1) * sizeof(*ix->v));
	if (!ix->v) {
		c->oom = true;
		return false;
	}
	for (i = 0; i < v->n; i++) {
		ix->v[i].name = str(v->v[i].name);
		ix->v[i].line = v->v[i].line;
		ix->v[i].idx = i;
	}
	ix->n = v->n;
	qsort(ix->v, ix->n, sizeof(*ix->v), entry_cmp);
	return true;
}

/* First entry named `name`, or NULL. */
static const struct entry *index_find(const struct index *ix, const char *name)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ix->n && strcmp(ix->v[lo].name, name) == 0)
		return &ix->v[lo];
	return NULL;
}

/*
 * Reports every repeat of a name (at the repeat's line, pointing back at
 * the first) and, when `dedup`, drops the repeats so that an entry's
 * position is the name's number.  Empty names were reported already.
 */
static void report_dups(struct ck *c, struct index *ix, const char *what,
			bool dedup)
{
	size_t i, o = 0;

	for (i = 0; i < ix->n; i++) {
		if (i > 0 && strcmp(ix->v[i].name, ix->v[i - 1].name) == 0) {
			const struct entry *first =
				index_find(ix, ix->v[i].name);

			if (*ix->v[i].name)
				ERR(c, ix->v[i].line,
				    "duplicate %s '%s' (first at line %u)",
				    what, q(c, ix->v[i].name), first->line);
			if (dedup)
				continue;
		}
		ix->v[o++] = ix->v[i];
	}
	ix->n = o;
}

/* ---------------------------------------------------------------- header */

static void check_header(struct ck *c)
{
	const struct polc_policy *p = c->p;

	check_name(c, "PolicyName", p->name.name, p->name.line);
	if (p->has_from) {
		check_name(c, "FromPolicy PolicyName", p->from_name,
			   p->from_line);
		if (!p->has_version)
			ERR(c, p->from_line,
			    "FromPolicy needs a Version in PolicyHeader");
		else if (p->from_major > p->version_major ||
			 (p->from_major == p->version_major &&
			  p->from_minor >= p->version_minor))
			ERR(c, p->from_line,
			    "FromPolicy Version %u.%u is not lower than the "
			    "policy's Version %u.%u: an update must raise "
			    "the version",
			    p->from_major, p->from_minor, p->version_major,
			    p->version_minor);
	}
	check_meta(c, "PolicyUrl", p->url, p->url_line);
	check_meta(c, "Reference", p->reference, p->reference_line);
	check_meta(c, "Date", p->date, p->date_line);
	check_meta(c, "NameSpaceUrl", p->namespace_url, p->namespace_url_line);
}

/* ---------------------------------------------------------------- types */

static void check_component(struct ck *c, bool present,
			    const struct polc_names *decl, const char *elem,
			    const char *list, const char *what,
			    struct index *ix)
{
	size_t i;

	if (!present && decl->n)
		ERR(c, decl->v[0].line,
		    "%s types are declared but there is no %s component", what,
		    elem);
	if (present && decl->n == 0)
		ERR(c, 0, "the %s component declares no types", elem);
	for (i = 0; i < decl->n; i++) {
		const char *s = str(decl->v[i].name);

		if (!*s)
			ERR(c, decl->v[i].line,
			    "empty <Type/> in %s: a declared type needs a name",
			    list);
		else
			check_name(c, what, s, decl->v[i].line);
	}
	if (index_build(c, ix, decl))
		report_dups(c, ix, what, true);
}

/* ---------------------------------------------------------------- sets */

/*
 * Checks the types one label or conflict set lists: each declared in the
 * component, none twice.  `owner` is the phrase naming the list's owner
 * in messages.  Returns the number of distinct non-empty names.
 */
static size_t check_uses(struct ck *c, const struct polc_names *uses,
			 bool present, const struct index *decl,
			 const char *owner, const char *what, const char *elem,
			 const char *list)
{
	struct index ix = {0};
	size_t i, distinct = 0;

	for (i = 0; i < uses->n; i++) {
		const char *s = str(uses->v[i].name);
		unsigned line = uses->v[i].line;

		if (!*s)
			ERR(c, line, "empty <Type/> in %s", owner);
		else if (!present)
			ERR(c, line,
			    "%s uses %s type '%s' but the policy has no %s "
			    "component",
			    owner, what, q(c, s), elem);
		else if (!index_find(decl, s))
			ERR(c, line,
			    "%s uses %s type '%s', which is not declared in %s",
			    owner, what, q(c, s), list);
	}
	if (!index_build(c, &ix, uses))
		return uses->n;
	for (i = 0; i < ix.n; i++) {
		if (!*ix.v[i].name)
			continue;
		if (i > 0 && strcmp(ix.v[i].name, ix.v[i - 1].name) == 0) {
			ERR(c, ix.v[i].line,
			    "%s lists %s type '%s' twice (first at line %u)",
			    owner, what, q(c, ix.v[i].name),
			    index_find(&ix, ix.v[i].name)->line);
			continue;
		}
		distinct++;
	}
	free(ix.v);
	return distinct;
}

static void check_conflicts(struct ck *c)
{
	const struct polc_policy *p = c->p;
	struct polc_names names = {0};
	struct index ix = {0};
	char owner[QUOTE_LEN + 32];
	size_t i, n;

	for (i = 0; i < p->n_conflicts; i++) {
		const struct polc_conflict *cs = &p->conflicts[i];
		const char *name = str(cs->name.name);

		if (!*name)
			ERR(c, cs->name.line,
			    "conflict set with an empty name");
		else
			check_name(c, "conflict set name", name, cs->name.line);
		snprintf(owner, sizeof(owner), "conflict set '%s'", q(c, name));
		n = check_uses(c, &cs->types, p->has_cw, &c->cw, owner,
			       "Chinese Wall", "ChineseWall",
			       "ChineseWallTypes");
		if (n == 0)
			ERR(c, cs->name.line, "%s has no types", owner);
		else if (n == 1)
			WARN(c, cs->name.line,
			     "%s has only one type: it excludes nothing",
			     owner);
	}
	/* Duplicate set names: index the names through a borrowed view. */
	names.v = malloc((p->n_conflicts ? p->n_conflicts : 1) *
			 sizeof(*names.v));
	if (!names.v) {
		c->oom = true;
		return;
	}
	for (i = 0; i < p->n_conflicts; i++)
		names.v[i] = p->conflicts[i].name;
	names.n = p->n_conflicts;
	if (index_build(c, &ix, &names))
		report_dups(c, &ix, "conflict set", false);
	free(ix.v);
	free(names.v);
}

/* ---------------------------------------------------------------- labels */

static const char *kind_name(enum acm_label_kind kind)
{
	return kind == ACM_LABEL_VM ? "VM label" : "resource label";
}

static void check_reserved(struct ck *c, const struct polc_label *l)
{
	const char *name = str(l->name.name);

	/* Xen used it internally for ssid 0; a label so named would be
	 * mistaken for "no label at all" by tools that know Xen's names. */
	if (strcmp(name, "__NULL_LABEL__") == 0)
		ERR(c, l->name.line, "%s name '__NULL_LABEL__' is reserved",
		    kind_name(l->kind));
	if (strcmp(name, ACM_INACCESSIBLE) != 0)
		return;
	if (l->kind == ACM_LABEL_VM)
		ERR(c, l->name.line,
		    "'" ACM_INACCESSIBLE "' is reserved for the resource "
		    "label that always denies; it cannot be a VM label");
	else if (l->ste.n)
		WARN(c, l->name.line,
		     "resource label '" ACM_INACCESSIBLE
		     "' always denies: its types are ignored");
}

/*
 * A label holding two types of one conflict set conflicts with itself
 * (Xen accepted it: a domain never conflicts with its own types).  For
 * each type, the sets it belongs to are precomputed (`start`/`set`, in
 * compressed-row form), and `stamp`/`who` remember, per set, which of the
 * current label's types reached it first: linear in the label sizes,
 * whatever the number of sets.
 */
struct cw_sets {
	size_t *start; /* per CW type: first slot in `set`, n_types + 1 */
	size_t *set;   /* conflict set indexes */
	size_t *stamp; /* per set: label number + 1 that last touched it */
	size_t *who;   /* per set: CW type (index) that touched it */
	size_t *seen;  /* per CW type: label number + 1 that listed it */
};

static bool cw_sets_build(struct ck *c, struct cw_sets *s)
{
	const struct polc_policy *p = c->p;
	size_t nt = c->cw.n, total = 0, i, j;
	const struct entry *e;

	s->start = calloc(nt + 1, sizeof(size_t));
	s->stamp = calloc(p->n_conflicts + 1, sizeof(size_t));
	s->who = calloc(p->n_conflicts + 1, sizeof(size_t));
	s->seen = calloc(nt + 1, sizeof(size_t));
	if (!s->start || !s->stamp || !s->who || !s->seen)
		goto oom;
	for (i = 0; i < p->n_conflicts; i++)
		for (j = 0; j < p->conflicts[i].types.n; j++) {
			e = index_find(&c->cw,
				       str(p->conflicts[i].types.v[j].name));
			if (e) {
				s->start[e - c->cw.v + 1]++;
				total++;
			}
		}
	for (i = 0; i < nt; i++)
		s->start[i + 1] += s->start[i];
	s->set = malloc((total ? total : 1) * sizeof(size_t));
	if (!s->set)
		goto oom;
	/* Fill using `seen` as the per-type cursor, then reset it. */
	for (i = 0; i < p->n_conflicts; i++)
		for (j = 0; j < p->conflicts[i].types.n; j++) {
			size_t t;

			e = index_find(&c->cw,
				       str(p->conflicts[i].types.v[j].name));
			if (!e)
				continue;
			t = (size_t)(e - c->cw.v);
			s->set[s->start[t] + s->seen[t]++] = i;
		}
	memset(s->seen, 0, (nt + 1) * sizeof(size_t));
	return true;
oom:
	c->oom = true;
	return false;
}

static void cw_sets_free(struct cw_sets *s)
{
	free(s->start);
	free(s->set);
	free(s->stamp);
	free(s->who);
	free(s->seen);
}

static void check_self_conflict(struct ck *c, struct cw_sets *s,
				const struct polc_label *l, size_t label_no)
{
	const struct polc_policy *p = c->p;
	size_t stamp = label_no + 1, i, k;

	for (i = 0; i < l->cw.n; i++) {
		const struct entry *e =
			index_find(&c->cw, str(l->cw.v[i].name));
		size_t t;

		if (!e)
			continue; /* undeclared: reported already */
		t = (size_t)(e - c->cw.v);
		if (s->seen[t] == stamp)
			continue; /* listed twice: reported already */
		s->seen[t] = stamp;
		for (k = s->start[t]; k < s->start[t + 1]; k++) {
			size_t set = s->set[k];

			if (s->stamp[set] != stamp) {
				s->stamp[set] = stamp;
				s->who[set] = t;
				continue;
			}
			if (s->who[set] == t)
				continue; /* the set lists t twice */
			polc_diag_add(&c->out,
				      c->self_conflict_warns ? POLC_WARNING
							     : POLC_ERROR,
				      l->cw.v[i].line,
				      "VM label '%s' holds Chinese Wall types "
				      "'%s' and '%s' of conflict set '%s': a "
				      "domain with it conflicts with itself",
				      q(c, l->name.name),
				      q(c, c->cw.v[s->who[set]].name),
				      q(c, e->name),
				      q(c, p->conflicts[set].name.name));
		}
	}
}

static void check_label(struct ck *c, const struct polc_label *l)
{
	const struct polc_policy *p = c->p;
	const char *kind = kind_name(l->kind);
	const char *name = str(l->name.name);
	char owner[QUOTE_LEN + 32];
	size_t n;

	if (l->kind != ACM_LABEL_VM && l->kind != ACM_LABEL_RESOURCE) {
		ERR(c, l->name.line, "label '%s' has unknown kind %d",
		    q(c, name), (int)l->kind);
		return;
	}
	check_name(c, kind, name, l->name.line);
	check_reserved(c, l);
	snprintf(owner, sizeof(owner), "%s '%s'", kind, q(c, name));
	n = check_uses(c, &l->ste, p->has_ste, &c->ste, owner, "STE",
		       "SimpleTypeEnforcement", "SimpleTypeEnforcementTypes");
	if (l->kind == ACM_LABEL_RESOURCE && l->cw.n)
		ERR(c, l->cw.v[0].line,
		    "%s has Chinese Wall types: resource labels hold STE "
		    "types only",
		    owner);
	else
		n += check_uses(c, &l->cw, p->has_cw, &c->cw, owner,
				"Chinese Wall", "ChineseWall",
				"ChineseWallTypes");
	if (n == 0 && !(l->kind == ACM_LABEL_RESOURCE &&
			strcmp(name, ACM_INACCESSIBLE) == 0))
		WARN(c, l->name.line, "%s has no types", owner);
	if (l->from) {
		if (check_name(c, "rename source (from=)", l->from,
			       l->name.line) &&
		    strcmp(l->from, name) == 0)
			ERR(c, l->name.line,
			    "%s is renamed from itself (from='%s')", owner,
			    q(c, l->from));
	}
}

/* Two labels of one kind must not claim the same old label. */
static void check_renames(struct ck *c, enum acm_label_kind kind)
{
	const struct polc_policy *p = c->p;
	struct polc_names from = {0};
	struct index ix = {0};
	size_t i, k;

	from.v = malloc((p->n_labels ? p->n_labels : 1) * sizeof(*from.v));
	if (!from.v) {
		c->oom = true;
		return;
	}
	for (i = 0; i < p->n_labels; i++) {
		const struct polc_label *l = &p->labels[i];

		if (l->kind != kind || !l->from || !*l->from)
			continue;
		from.v[from.n].name = l->from;
		from.v[from.n].line = l->name.line;
		from.n++;
	}
	if (!index_build(c, &ix, &from))
		goto out;
	for (k = 1; k < ix.n; k++)
		if (strcmp(ix.v[k].name, ix.v[k - 1].name) == 0)
			ERR(c, ix.v[k].line,
			    "from='%s' is used twice: %ss at lines %u and %u "
			    "both rename it",
			    q(c, ix.v[k].name), kind_name(kind),
			    index_find(&ix, ix.v[k].name)->line, ix.v[k].line);
out:
	free(ix.v);
	free(from.v);
}

static bool labels_index(struct ck *c, struct index *ix,
			 enum acm_label_kind kind)
{
	const struct polc_policy *p = c->p;
	struct polc_names names = {0};
	size_t i;
	bool ok;

	names.v = malloc((p->n_labels ? p->n_labels : 1) * sizeof(*names.v));
	if (!names.v) {
		c->oom = true;
		return false;
	}
	for (i = 0; i < p->n_labels; i++)
		if (p->labels[i].kind == kind)
			names.v[names.n++] = p->labels[i].name;
	ok = index_build(c, ix, &names);
	free(names.v);
	return ok;
}

static void check_labels(struct ck *c)
{
	const struct polc_policy *p = c->p;
	struct cw_sets sets = {0};
	size_t i;

	for (i = 0; i < p->n_labels; i++)
		check_label(c, &p->labels[i]);
	if (labels_index(c, &c->vm, ACM_LABEL_VM))
		report_dups(c, &c->vm, "VM label", false);
	if (labels_index(c, &c->res, ACM_LABEL_RESOURCE))
		report_dups(c, &c->res, "resource label", false);
	check_renames(c, ACM_LABEL_VM);
	check_renames(c, ACM_LABEL_RESOURCE);
	if (p->n_conflicts && cw_sets_build(c, &sets))
		for (i = 0; i < p->n_labels; i++)
			if (p->labels[i].kind == ACM_LABEL_VM)
				check_self_conflict(c, &sets, &p->labels[i], i);
	cw_sets_free(&sets);
}

static void check_bootstrap(struct ck *c)
{
	const struct polc_name *b = &c->p->bootstrap;
	const char *name = str(b->name), *hint;

	if (!*name) {
		ERR(c, b->line,
		    "SubjectLabels has no bootstrap label (the VM "
		    "label dom0 gets at boot)");
		return;
	}
	if (!check_name(c, "bootstrap label", name, b->line))
		return;
	if (index_find(&c->vm, name))
		return;
	hint = index_find(&c->res, name)
		       ? " (only a resource label has that name)"
		       : "";
	ERR(c, b->line, "bootstrap label '%s' is not a VM label%s", q(c, name),
	    hint);
}

/* ---------------------------------------------------------------- API */

static int diag_cmp(const void *a, const void *b)
{
	const struct polc_diag *x = *(const struct polc_diag *const *)a;
	const struct polc_diag *y = *(const struct polc_diag *const *)b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	/* Same line: keep the order the checks found them in. */
	return x < y ? -1 : x > y;
}

/* Appends the collected diagnostics to `to`, sorted by line. */
static void flush_sorted(struct ck *c, struct polc_diags *to)
{
	const struct polc_diag **order;
	size_t i;

	order = malloc((c->out.n ? c->out.n : 1) * sizeof(*order));
	if (!order) {
		c->oom = true;
		return;
	}
	for (i = 0; i < c->out.n; i++)
		order[i] = &c->out.v[i];
	qsort(order, c->out.n, sizeof(*order), diag_cmp);
	for (i = 0; i < c->out.n; i++)
		polc_diag_add(to, order[i]->severity, order[i]->line, "%s",
			      order[i]->message ? order[i]->message
						: "(out of memory)");
	free(order);
}

size_t polc_check(const struct polc_policy *p,
		  const struct polc_check_opts *opts, struct polc_diags *diags)
{
	struct ck c = {.p = p};
	size_t errors;

	if (!diags->path)
		diags->path = p->path;
	c.self_conflict_warns = opts && opts->self_conflict_is_warning;
	check_header(&c);
	check_component(&c, p->has_ste, &p->ste_types, "SimpleTypeEnforcement",
			"SimpleTypeEnforcementTypes", "STE type", &c.ste);
	check_component(&c, p->has_cw, &p->cw_types, "ChineseWall",
			"ChineseWallTypes", "Chinese Wall type", &c.cw);
	check_conflicts(&c);
	check_labels(&c);
	check_bootstrap(&c);
	flush_sorted(&c, diags);
	errors = c.out.n_errors;
	if (c.oom) {
		polc_diag_add(diags, POLC_ERROR, 0, "out of memory");
		errors++;
	}
	free(c.ste.v);
	free(c.cw.v);
	free(c.vm.v);
	free(c.res.v);
	polc_diags_free(&c.out);
	return errors;
}
