/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xmlout.c - write a struct polc_policy as Xen ACM policy XML.
 *
 * The output must validate against our XSD and compile back to the very
 * same binary.  The binary is a function of the policy's meaning, not of
 * element order, so we write names in the model's order and let the
 * emitter sort; what we must not lose is anything the canonical text
 * covers: optional header fields, FromPolicy, priority attributes and
 * from= renames.
 *
 * Element order follows the schema's sequences exactly (PolicyHeader's
 * optional fields in particular), and optional containers are left out
 * rather than written empty, since the schema wants at least one child
 * in each of them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy-compiler/polc.h"

#define XML_NS "http://www.ibm.com"

/*
 * A binary policy checks names for control bytes but not for UTF-8
 * validity, so a hand-made blob could carry bytes that no XML parser
 * would accept.  Refuse those rather than write a file that cannot be
 * read back.  Also refuses the two XML non-characters U+FFFE/U+FFFF.
 */
static bool valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		uint32_t cp;
		int more, i;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			cp = *s & 0x1f;
			more = 1;
		} else if ((*s & 0xf0) == 0xe0) {
			cp = *s & 0x0f;
			more = 2;
		} else if ((*s & 0xf8) == 0xf0) {
			cp = *s & 0x07;
			more = 3;
		} else {
			return false;
		}
		for (i = 1; i <= more; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
		    cp == 0xffff)
			return false;
		s += more + 1;
	}
	return true;
}

/* Escapes for both text and attribute values (quotes are harmless in
 * text, and '>' is escaped so "]]>" can never appear). */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void indent(FILE *f, int depth)
{
	while (depth-- > 0)
		fputs("  ", f);
}

static void put_elem(FILE *f, int depth, const char *tag, const char *text)
{
	indent(f, depth);
	fprintf(f, "<%s>", tag);
	put_escaped(f, text);
	fprintf(f, "</%s>\n", tag);
}

static void put_version(FILE *f, int depth, uint32_t major, uint32_t minor)
{
	indent(f, depth);
	fprintf(f, "<Version>%lu.%lu</Version>\n", (unsigned long)major,
		(unsigned long)minor);
}

/* <TAG><Type>..</Type>...</TAG>; nothing at all for an empty list. */
static void put_types(FILE *f, int depth, const char *tag,
		      const struct polc_names *n)
{
	size_t i;

	if (n->n == 0)
		return;
	indent(f, depth);
	fprintf(f, "<%s>\n", tag);
	for (i = 0; i < n->n; i++)
		put_elem(f, depth + 1, "Type", n->v[i].name);
	indent(f, depth);
	fprintf(f, "</%s>\n", tag);
}

static void put_header(FILE *f, const struct polc_policy *p)
{
	indent(f, 1);
	fputs("<PolicyHeader>\n", f);
	put_elem(f, 2, "PolicyName", p->name.name);
	if (p->url)
		put_elem(f, 2, "PolicyUrl", p->url);
	if (p->reference)
		put_elem(f, 2, "Reference", p->reference);
	if (p->date)
		put_elem(f, 2, "Date", p->date);
	if (p->namespace_url)
		put_elem(f, 2, "NameSpaceUrl", p->namespace_url);
	if (p->has_version)
		put_version(f, 2, p->version_major, p->version_minor);
	if (p->has_from) {
		indent(f, 2);
		fputs("<FromPolicy>\n", f);
		put_elem(f, 3, "PolicyName", p->from_name);
		put_version(f, 3, p->from_major, p->from_minor);
		indent(f, 2);
		fputs("</FromPolicy>\n", f);
	}
	indent(f, 1);
	fputs("</PolicyHeader>\n", f);
}

static const char *priority_attr(bool primary)
{
	return primary ? " priority=\"PrimaryPolicyComponent\"" : "";
}

static void put_components(FILE *f, const struct polc_policy *p)
{
	size_t c;

	if (p->has_ste) {
		indent(f, 1);
		fprintf(f, "<SimpleTypeEnforcement%s>\n",
			priority_attr(p->ste_priority));
		put_types(f, 2, "SimpleTypeEnforcementTypes", &p->ste_types);
		indent(f, 1);
		fputs("</SimpleTypeEnforcement>\n", f);
	}
	if (!p->has_cw)
		return;
	indent(f, 1);
	fprintf(f, "<ChineseWall%s>\n", priority_attr(p->cw_priority));
	put_types(f, 2, "ChineseWallTypes", &p->cw_types);
	if (p->n_conflicts) {
		indent(f, 2);
		fputs("<ConflictSets>\n", f);
		for (c = 0; c < p->n_conflicts; c++) {
			const struct polc_conflict *cs = &p->conflicts[c];
			size_t t;

			indent(f, 3);
			fputs("<Conflict name=\"", f);
			put_escaped(f, cs->name.name);
			fputs("\">\n", f);
			for (t = 0; t < cs->types.n; t++)
				put_elem(f, 4, "Type", cs->types.v[t].name);
			indent(f, 3);
			fputs("</Conflict>\n", f);
		}
		indent(f, 2);
		fputs("</ConflictSets>\n", f);
	}
	indent(f, 1);
	fputs("</ChineseWall>\n", f);
}

static void put_label(FILE *f, const struct polc_label *l)
{
	bool vm = l->kind == ACM_LABEL_VM;

	indent(f, 3);
	fputs(vm ? "<VirtualMachineLabel>\n" : "<ResourceLabel>\n", f);
	indent(f, 4);
	fputs("<Name", f);
	if (l->from) {
		fputs(" from=\"", f);
		put_escaped(f, l->from);
		fputc('"', f);
	}
	fputc('>', f);
	put_escaped(f, l->name.name);
	fputs("</Name>\n", f);
	put_types(f, 4, "SimpleTypeEnforcementTypes", &l->ste);
	if (vm)
		put_types(f, 4, "ChineseWallTypes", &l->cw);
	indent(f, 3);
	fputs(vm ? "</VirtualMachineLabel>\n" : "</ResourceLabel>\n", f);
}

static void put_labels(FILE *f, const struct polc_policy *p)
{
	size_t i, n_res = 0;

	indent(f, 1);
	fputs("<SecurityLabelTemplate>\n", f);
	indent(f, 2);
	fputs("<SubjectLabels bootstrap=\"", f);
	put_escaped(f, p->bootstrap.name);
	fputs("\">\n", f);
	for (i = 0; i < p->n_labels; i++) {
		if (p->labels[i].kind == ACM_LABEL_VM)
			put_label(f, &p->labels[i]);
		else
			n_res++;
	}
	indent(f, 2);
	fputs("</SubjectLabels>\n", f);
	if (n_res) {
		indent(f, 2);
		fputs("<ObjectLabels>\n", f);
		for (i = 0; i < p->n_labels; i++)
			if (p->labels[i].kind == ACM_LABEL_RESOURCE)
				put_label(f, &p->labels[i]);
		indent(f, 2);
		fputs("</ObjectLabels>\n", f);
	}
	indent(f, 1);
	fputs("</SecurityLabelTemplate>\n", f);
}

static bool names_ok(const struct polc_names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (!n->v[i].name || !valid_utf8(n->v[i].name))
			return false;
	return true;
}

static bool opt_ok(const char *s)
{
	return !s || valid_utf8(s);
}

/* Every string we are about to write, checked before the first byte goes
 * out so a refusal never leaves half a document behind. */
static bool policy_ok(const struct polc_policy *p)
{
	size_t i;

	if (!p->name.name || !p->bootstrap.name || !valid_utf8(p->name.name) ||
	    !valid_utf8(p->bootstrap.name))
		return false;
	if (p->has_from && (!p->from_name || !valid_utf8(p->from_name)))
		return false;
	if (!opt_ok(p->url) || !opt_ok(p->reference) || !opt_ok(p->date) ||
	    !opt_ok(p->namespace_url))
		return false;
	if (!names_ok(&p->ste_types) || !names_ok(&p->cw_types))
		return false;
	for (i = 0; i < p->n_conflicts; i++)
		if (!p->conflicts[i].name.name ||
		    !valid_utf8(p->conflicts[i].name.name) ||
		    !names_ok(&p->conflicts[i].types))
			return false;
	for (i = 0; i < p->n_labels; i++) {
		const struct polc_label *l = &p->labels[i];

		if (!l->name.name || !valid_utf8(l->name.name) ||
		    !opt_ok(l->from) || !names_ok(&l->ste) || !names_ok(&l->cw))
			return false;
	}
	return true;
}

int polc_write_xml(const struct polc_policy *p, FILE *out)
{
	if (!p || !out) {
		errno = EINVAL;
		return -1;
	}
	if (!policy_ok(p)) {
		errno = EILSEQ;
		return -1;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fputs("<!-- written by hvsec-polc; compiles back to the same binary "
	      "policy -->\n",
	      out);
	fputs("<SecurityPolicyDefinition xmlns=\"" XML_NS "\">\n", out);
	put_header(out, p);
	put_components(out, p);
	put_labels(out, p);
	fputs("</SecurityPolicyDefinition>\n", out);
	if (fflush(out))
		return -1;
	if (ferror(out)) {
		errno = EIO;
		return -1;
	}
	return 0;
}
