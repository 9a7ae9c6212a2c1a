/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dot.c - draw a policy as a Graphviz graph.
 *
 * Labels point at the types they hold (STE solid, Chinese Wall dashed);
 * the types of one conflict set are joined by red undirected edges.  The
 * output depends only on the policy's meaning: every list is sorted by
 * name first, so two sources that differ in element order draw the same
 * bytes, and a test can diff graphs.
 *
 * Node ids carry a kind prefix ("vm:", "res:", "ste:", "cw:", "cs:")
 * because label, STE-type, CHWALL-type and conflict-set names live in
 * separate namespaces and often coincide.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy-compiler/polc.h"

/* Beyond this many members a conflict set gets a hub node instead of
 * n*(n-1)/2 pairwise edges, which would swamp the drawing. */
#define DOT_PAIRWISE_MAX 6

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_label(const void *a, const void *b)
{
	const struct polc_label *x = *(const struct polc_label *const *)a;
	const struct polc_label *y = *(const struct polc_label *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name.name, y->name.name);
}

static int cmp_conflict(const void *a, const void *b)
{
	const struct polc_conflict *x = *(const struct polc_conflict *const *)a;
	const struct polc_conflict *y = *(const struct polc_conflict *const *)b;

	return strcmp(x->name.name, y->name.name);
}

/* A sorted array of the names in `n`; NULL only on allocation failure
 * (an empty list gives a valid one-slot allocation). */
static const char **sorted_names(const struct polc_names *n)
{
	const char **v = calloc(n->n ? n->n : 1, sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < n->n; i++)
		v[i] = n->v[i].name;
	qsort(v, n->n, sizeof(*v), cmp_str);
	return v;
}

/* Inside a DOT double-quoted string only '"' and '\\' are special (a
 * backslash would start an escape such as \n in labels). */
static void put_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void put_q(FILE *f, const char *prefix, const char *s)
{
	fputc('"', f);
	fputs(prefix, f);
	put_esc(f, s);
	fputc('"', f);
}

static void put_type_nodes(FILE *f, const char *cluster, const char *title,
			   const char *prefix, const char *attrs,
			   const char **names, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	fprintf(f, "\tsubgraph %s {\n", cluster);
	fprintf(f, "\t\tlabel=\"%s\"; style=rounded; color=gray60;\n", title);
	for (i = 0; i < n; i++) {
		fputs("\t\t", f);
		put_q(f, prefix, names[i]);
		fputs(" [label=", f);
		put_q(f, "", names[i]);
		fprintf(f, ", %s];\n", attrs);
	}
	fputs("\t}\n", f);
}

static void put_label_node(FILE *f, const struct polc_policy *p,
			   const struct polc_label *l)
{
	bool vm = l->kind == ACM_LABEL_VM;
	bool boot = vm && strcmp(l->name.name, p->bootstrap.name) == 0;
	bool special = strcmp(l->name.name, ACM_UNLABELED) == 0 ||
		       strcmp(l->name.name, ACM_INACCESSIBLE) == 0;
	const char *style, *fill;

	fputs("\t\t", f);
	put_q(f, vm ? "vm:" : "res:", l->name.name);
	fputs(" [label=\"", f);
	/* Built by hand because it adds DOT line breaks between parts. */
	put_esc(f, l->name.name);
	if (l->from) {
		fputs("\\n(from ", f);
		put_esc(f, l->from);
		fputc(')', f);
	}
	if (boot)
		fputs("\\n[bootstrap]", f);
	fputs("\"", f);
	if (boot) {
		style = "\"rounded,filled,bold\"";
		fill = "gold";
	} else if (special) {
		style = "\"rounded,filled,dashed\"";
		fill = "gray90";
	} else {
		style = vm ? "\"rounded,filled\"" : "filled";
		fill = vm ? "lightblue" : "khaki";
	}
	fprintf(f, ", shape=%s, style=%s, fillcolor=%s%s];\n",
		vm ? "box" : "cylinder", style, fill,
		boot ? ", penwidth=2.5, color=darkorange3" : "");
}

static void put_label_nodes(FILE *f, const struct polc_policy *p,
			    const struct polc_label **labels, size_t n)
{
	size_t i;
	bool any_vm = false, any_res = false;

	for (i = 0; i < n; i++) {
		if (labels[i]->kind == ACM_LABEL_VM)
			any_vm = true;
		else
			any_res = true;
	}
	if (any_vm) {
		fputs("\tsubgraph cluster_vm_labels {\n", f);
		fputs("\t\tlabel=\"VM labels\"; style=rounded; color=gray60;\n",
		      f);
		for (i = 0; i < n; i++)
			if (labels[i]->kind == ACM_LABEL_VM)
				put_label_node(f, p, labels[i]);
		fputs("\t}\n", f);
	}
	if (any_res) {
		fputs("\tsubgraph cluster_resource_labels {\n", f);
		fputs("\t\tlabel=\"resource labels\"; style=rounded; "
		      "color=gray60;\n",
		      f);
		for (i = 0; i < n; i++)
			if (labels[i]->kind == ACM_LABEL_RESOURCE)
				put_label_node(f, p, labels[i]);
		fputs("\t}\n", f);
	}
}

static int put_label_edges(FILE *f, const struct polc_label **labels, size_t n)
{
	size_t i, t;

	for (i = 0; i < n; i++) {
		const struct polc_label *l = labels[i];
		const char *from = l->kind == ACM_LABEL_VM ? "vm:" : "res:";
		const char **ste = sorted_names(&l->ste);
		const char **cw = sorted_names(&l->cw);

		if (!ste || !cw) {
			free(ste);
			free(cw);
			return -1;
		}
		for (t = 0; t < l->ste.n; t++) {
			fputs("\t", f);
			put_q(f, from, l->name.name);
			fputs(" -> ", f);
			put_q(f, "ste:", ste[t]);
			fputs(" [style=solid];\n", f);
		}
		for (t = 0; t < l->cw.n; t++) {
			fputs("\t", f);
			put_q(f, from, l->name.name);
			fputs(" -> ", f);
			put_q(f, "cw:", cw[t]);
			fputs(" [style=dashed];\n", f);
		}
		free(ste);
		free(cw);
	}
	return 0;
}

static void put_conflict(FILE *f, const struct polc_conflict *cs,
			 const char **members, size_t n)
{
	size_t i, j;

	if (n >= 2 && n <= DOT_PAIRWISE_MAX) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++) {
				fputs("\t", f);
				put_q(f, "cw:", members[i]);
				fputs(" -> ", f);
				put_q(f, "cw:", members[j]);
				fputs(" [dir=none, color=red, fontcolor=red, "
				      "penwidth=2, constraint=false, label=",
				      f);
				put_q(f, "", cs->name.name);
				fputs("];\n", f);
			}
		return;
	}
	/* One member conflicts with nothing, many would be a thicket: a hub
	 * node names the set either way. */
	fputs("\t", f);
	put_q(f, "cs:", cs->name.name);
	fputs(" [label=", f);
	put_q(f, "", cs->name.name);
	fputs(", shape=octagon, color=red, fontcolor=red];\n", f);
	for (i = 0; i < n; i++) {
		fputs("\t", f);
		put_q(f, "cs:", cs->name.name);
		fputs(" -> ", f);
		put_q(f, "cw:", members[i]);
		fputs(" [dir=none, color=red, penwidth=2];\n", f);
	}
}

static int put_conflicts(FILE *f, const struct polc_policy *p)
{
	const struct polc_conflict **sets;
	size_t i;
	int ret = -1;

	if (p->n_conflicts == 0)
		return 0;
	sets = calloc(p->n_conflicts, sizeof(*sets));
	if (!sets)
		return -1;
	for (i = 0; i < p->n_conflicts; i++)
		sets[i] = &p->conflicts[i];
	qsort(sets, p->n_conflicts, sizeof(*sets), cmp_conflict);
	for (i = 0; i < p->n_conflicts; i++) {
		const char **members = sorted_names(&sets[i]->types);

		if (!members)
			goto out;
		put_conflict(f, sets[i], members, sets[i]->types.n);
		free(members);
	}
	ret = 0;
out:
	free(sets);
	return ret;
}

static void put_title(FILE *f, const struct polc_policy *p)
{
	fputs("\tgraph [label=", f);
	fputc('"', f);
	fputs("policy ", f);
	put_esc(f, p->name.name);
	if (p->has_version)
		fprintf(f, " %lu.%lu", (unsigned long)p->version_major,
			(unsigned long)p->version_minor);
	fputs("\", labelloc=t, rankdir=LR, fontname=Helvetica, "
	      "nodesep=0.3];\n",
	      f);
	fputs("\tnode [fontname=Helvetica, fontsize=11];\n", f);
	fputs("\tedge [fontname=Helvetica, fontsize=9, color=gray30];\n", f);
}

int polc_write_dot(const struct polc_policy *p, FILE *out)
{
	const struct polc_label **labels = NULL;
	const char **ste = NULL, **cw = NULL;
	size_t i;
	int ret = -1;

	if (!p || !out || !p->name.name || !p->bootstrap.name) {
		errno = EINVAL;
		return -1;
	}
	labels = calloc(p->n_labels ? p->n_labels : 1, sizeof(*labels));
	ste = sorted_names(&p->ste_types);
	cw = sorted_names(&p->cw_types);
	if (!labels || !ste || !cw) {
		errno = ENOMEM;
		goto out;
	}
	for (i = 0; i < p->n_labels; i++)
		labels[i] = &p->labels[i];
	qsort(labels, p->n_labels, sizeof(*labels), cmp_label);

	fputs("// hvsec-polc graph: labels -> types (STE solid, Chinese Wall "
	      "dashed),\n// conflict sets in red.  Render: dot -Tsvg\n",
	      out);
	fputs("digraph hvsec_policy {\n", out);
	put_title(out, p);
	put_label_nodes(out, p, labels, p->n_labels);
	put_type_nodes(out, "cluster_ste_types", "STE types", "ste:",
		       "shape=ellipse, style=filled, fillcolor=palegreen", ste,
		       p->ste_types.n);
	put_type_nodes(out, "cluster_chwall_types", "Chinese Wall types", "cw:",
		       "shape=hexagon, style=filled, fillcolor=mistyrose", cw,
		       p->cw_types.n);
	if (put_label_edges(out, labels, p->n_labels) ||
	    put_conflicts(out, p)) {
		errno = ENOMEM;
		goto out;
	}
	fputs("}\n", out);
	if (fflush(out))
		goto out;
	if (ferror(out)) {
		errno = EIO;
		goto out;
	}
	ret = 0;
out:
	free(labels);
	free(ste);
	free(cw);
	return ret;
}
