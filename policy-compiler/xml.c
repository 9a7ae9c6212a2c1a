// SPDX-License-Identifier: BSD-2-Clause
/*
 * xml.c - the XML front end: Xen ACM policy XML -> struct polc_policy.
 *
 * Policy files come from anyone who can hand an operator a file, so the
 * parser is configured for hostile input:
 *   - no network (XML_PARSE_NONET), no DTD loading, no entity substitution,
 *     no XInclude; and a DOCTYPE stops the parse as soon as it is seen, so
 *     no entity is ever declared, let alone expanded (billion laughs,
 *     external entities to local files);
 *   - the size is bounded before parsing, and libxml2's own depth and text
 *     limits stay on (no XML_PARSE_HUGE);
 *   - every libxml2 message goes through our structured handlers into the
 *     diagnostics as FILE:LINE: error: message, never to stderr.
 * The document is validated against the embedded schema before the tree
 * is walked, so the walker only meets the shapes the schema allows; it is
 * still written not to trust that (a caller may pass its own XSD).
 *
 * The model keeps names exactly as written after trimming surrounding XML
 * whitespace, each with its source line; all meaning is checked later by
 * polc_check, which can then report every problem in line order.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "policy-compiler/polc.h"

extern const char polc_xsd_text[];
extern const unsigned long polc_xsd_text_len;

#define IBM_NS		       "http://www.ibm.com"
#define DEFAULT_MAX_FILE_BYTES (16u << 20)

/* libxml2 2.12 made the error argument const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_err_t;
#else
typedef xmlErrorPtr xml_err_t;
#endif

struct front {
	struct polc_diags *diags;
	size_t errors_at_start;
	struct polc_policy *p;
	bool oom;
};

/* ---------------------------------------------------------------- errors */

/* libxml2 messages end in a newline, may span lines ("Bytes: 0x.."), and
 * spell every element with its namespace; make them one readable line. */
static void clean_message(char *dst, size_t size, const char *src)
{
	static const char ns[] = "{" IBM_NS "}";
	size_t o = 0;

	while (*src && o + 1 < size) {
		if (strncmp(src, ns, sizeof(ns) - 1) == 0) {
			src += sizeof(ns) - 1;
			continue;
		}
		dst[o++] = (*src == '\n' || *src == '\r' || *src == '\t')
				   ? ' '
				   : *src;
		src++;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = 0;
}

static void on_xml_error(void *ctx, xml_err_t err)
{
	struct front *f = ctx;
	char msg[512];

	if (!err)
		return;
	clean_message(msg, sizeof(msg),
		      err->message ? err->message : "unknown libxml2 error");
	polc_diag_add(f->diags,
		      err->level == XML_ERR_WARNING ? POLC_WARNING : POLC_ERROR,
		      err->line > 0 ? (unsigned)err->line : 0, "%s", msg);
}

/* The parser context's own channel: ctx is the parser context, whose
 * _private points at our state. */
static void on_parser_error(void *ctx, xml_err_t err)
{
	xmlParserCtxtPtr ctxt = ctx;

	if (ctxt && ctxt->_private)
		on_xml_error(ctxt->_private, err);
}

/* Unstructured messages are fragments of text with no location; every one
 * that matters is also raised structurally or shows in a return code, so
 * these are only kept off stderr. */
static void on_generic_error(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/*
 * A DOCTYPE is the only way to declare entities, so refusing it here, in
 * the SAX event that fires before the internal subset is read, means no
 * entity declaration is ever parsed.
 */
static void reject_doctype(void *ctx, const xmlChar *name,
			   const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct front *f = ctxt->_private;

	(void)name;
	if (!f) {
		xmlStopParser(ctxt);
		return;
	}
	(void)external_id;
	(void)system_id;
	polc_diag_add(f->diags, POLC_ERROR,
		      ctxt->input ? (unsigned)ctxt->input->line : 0,
		      "DOCTYPE is not allowed in a policy (no DTDs, no "
		      "entities)");
	xmlStopParser(ctxt);
}

static bool failed(const struct front *f)
{
	return f->oom || f->diags->n_errors > f->errors_at_start;
}

/* ---------------------------------------------------------------- tree */

static unsigned line_of(xmlNodePtr n)
{
	long l = xmlGetLineNo(n);

	return l > 0 && l <= (long)UINT_MAX ? (unsigned)l : 0;
}

static bool is_element(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, IBM_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static bool is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Text content with surrounding XML whitespace trimmed, as a malloc'd
 * string (never NULL unless out of memory). */
static char *trimmed(const char *s)
{
	size_t len;

	if (!s)
		s = "";
	while (is_xml_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_xml_space(s[len - 1]))
		len--;
	return strndup(s, len);
}

static char *text_of(struct front *f, xmlNodePtr n)
{
	xmlNodePtr c = n->children;
	xmlChar *raw = NULL;
	char *s;

	/* The common case, one text child, is copied straight from the tree;
	 * text split by comments is gathered by libxml2. */
	if (!c || (c->type == XML_TEXT_NODE && !c->next)) {
		s = trimmed(c ? (const char *)c->content : "");
	} else {
		raw = xmlNodeGetContent(n);
		s = trimmed((const char *)raw);
		xmlFree(raw);
	}
	if (!s)
		f->oom = true;
	return s;
}

/* Attribute values are kept as written (not trimmed): whitespace at the
 * ends of a name there is a mistake polc_check reports. */
static char *attr_of(struct front *f, xmlNodePtr n, const char *name)
{
	xmlChar *raw = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s;

	if (!raw)
		return NULL;
	s = strdup((const char *)raw);
	xmlFree(raw);
	if (!s)
		f->oom = true;
	return s;
}

static void unexpected(struct front *f, xmlNodePtr n)
{
	polc_diag_add(f->diags, POLC_ERROR, line_of(n),
		      "unexpected element <%s>", (const char *)n->name);
}

/* Replaces *slot, so a repeated element (possible only with a caller's
 * own XSD) cannot leak the first value. */
static void set_str(char **slot, char *s)
{
	free(*slot);
	*slot = s;
}

static void names_push(struct front *f, struct polc_names *v, char *s,
		       unsigned line)
{
	if (!s)
		return;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		struct polc_name *nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv) {
			free(s);
			f->oom = true;
			return;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n].name = s;
	v->v[v->n].line = line;
	v->n++;
}

/*
 * <X><Type>..</Type>*</X>.  In a component's declaration and in a
 * conflict set an empty <Type/> is kept, for polc_check to refuse with its
 * line; in a label it means "no type" (the DEFAULT policies write the
 * CHWALL set of dom0 that way) and is dropped.
 */
static void walk_types(struct front *f, xmlNodePtr list, struct polc_names *v,
		       bool keep_empty)
{
	xmlNodePtr c;

	for (c = list->children; c && !f->oom; c = c->next) {
		char *s;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_element(c, "Type")) {
			unexpected(f, c);
			continue;
		}
		s = text_of(f, c);
		if (s && !*s && !keep_empty) {
			free(s);
			continue;
		}
		names_push(f, v, s, line_of(c));
	}
}

static bool parse_u32_digits(const char **s, uint32_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (**s >= '0' && **s <= '9' && n < 9) {
		v = v * 10 + (uint64_t)(**s - '0');
		(*s)++;
		n++;
	}
	/* At most 8 digits, as the schema's pattern: always fits a u32. */
	if (n == 0 || n > 8)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_version(const char *s, uint32_t *major, uint32_t *minor)
{
	if (!parse_u32_digits(&s, major) || *s++ != '.')
		return false;
	return parse_u32_digits(&s, minor) && *s == 0;
}

static void walk_version(struct front *f, xmlNodePtr n, uint32_t *major,
			 uint32_t *minor)
{
	char *s = text_of(f, n);

	if (s && !parse_version(s, major, minor))
		polc_diag_add(f->diags, POLC_ERROR, line_of(n),
			      "Version '%.64s' is not MAJOR.MINOR (1 to 8 "
			      "digits each)",
			      s);
	free(s);
}

static void walk_from_policy(struct front *f, xmlNodePtr n)
{
	struct polc_policy *p = f->p;
	xmlNodePtr c;
	bool have_version = false;

	p->has_from = true;
	p->from_line = line_of(n);
	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "PolicyName")) {
			set_str(&p->from_name, text_of(f, c));
		} else if (is_element(c, "Version")) {
			walk_version(f, c, &p->from_major, &p->from_minor);
			have_version = true;
		} else {
			unexpected(f, c);
		}
	}
	if (!p->from_name)
		set_str(&p->from_name, text_of(f, n)); /* "" : refused later */
	if (!have_version)
		polc_diag_add(f->diags, POLC_ERROR, line_of(n),
			      "FromPolicy has no Version");
}

static void walk_header(struct front *f, xmlNodePtr n)
{
	struct polc_policy *p = f->p;
	xmlNodePtr c;

	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "PolicyName")) {
			set_str(&p->name.name, text_of(f, c));
			p->name.line = line_of(c);
		} else if (is_element(c, "PolicyUrl")) {
			set_str(&p->url, text_of(f, c));
			p->url_line = line_of(c);
		} else if (is_element(c, "Reference")) {
			set_str(&p->reference, text_of(f, c));
			p->reference_line = line_of(c);
		} else if (is_element(c, "Date")) {
			set_str(&p->date, text_of(f, c));
			p->date_line = line_of(c);
		} else if (is_element(c, "NameSpaceUrl")) {
			set_str(&p->namespace_url, text_of(f, c));
			p->namespace_url_line = line_of(c);
		} else if (is_element(c, "Version")) {
			p->has_version = true;
			p->version_line = line_of(c);
			walk_version(f, c, &p->version_major,
				     &p->version_minor);
		} else if (is_element(c, "FromPolicy")) {
			walk_from_policy(f, c);
		} else {
			unexpected(f, c);
		}
	}
}

static bool has_priority(struct front *f, xmlNodePtr n)
{
	char *prio = attr_of(f, n, "priority");
	bool primary = false;

	if (prio) {
		primary = strcmp(prio, "PrimaryPolicyComponent") == 0;
		if (!primary)
			polc_diag_add(f->diags, POLC_ERROR, line_of(n),
				      "priority must be "
				      "\"PrimaryPolicyComponent\"");
	}
	free(prio);
	return primary;
}

static void walk_ste(struct front *f, xmlNodePtr n)
{
	xmlNodePtr c;

	f->p->has_ste = true;
	f->p->ste_priority = has_priority(f, n);
	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "SimpleTypeEnforcementTypes"))
			walk_types(f, c, &f->p->ste_types, true);
		else
			unexpected(f, c);
	}
}

static struct polc_conflict *conflict_add(struct front *f)
{
	struct polc_policy *p = f->p;
	struct polc_conflict *cs;

	if (p->n_conflicts == p->cap_conflicts) {
		size_t cap = p->cap_conflicts ? p->cap_conflicts * 2 : 4;

		cs = realloc(p->conflicts, cap * sizeof(*cs));
		if (!cs) {
			f->oom = true;
			return NULL;
		}
		p->conflicts = cs;
		p->cap_conflicts = cap;
	}
	cs = &p->conflicts[p->n_conflicts++];
	memset(cs, 0, sizeof(*cs));
	return cs;
}

static void walk_conflicts(struct front *f, xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c && !f->oom; c = c->next) {
		struct polc_conflict *cs;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_element(c, "Conflict")) {
			unexpected(f, c);
			continue;
		}
		cs = conflict_add(f);
		if (!cs)
			return;
		cs->name.line = line_of(c);
		cs->name.name = attr_of(f, c, "name");
		if (!cs->name.name && !f->oom) {
			cs->name.name = strdup(""); /* refused by polc_check */
			if (!cs->name.name)
				f->oom = true;
		}
		walk_types(f, c, &cs->types, true);
	}
}

static void walk_cw(struct front *f, xmlNodePtr n)
{
	xmlNodePtr c;

	f->p->has_cw = true;
	f->p->cw_priority = has_priority(f, n);
	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "ChineseWallTypes"))
			walk_types(f, c, &f->p->cw_types, true);
		else if (is_element(c, "ConflictSets"))
			walk_conflicts(f, c);
		else
			unexpected(f, c);
	}
}

static struct polc_label *label_add(struct front *f, enum acm_label_kind kind)
{
	struct polc_policy *p = f->p;
	struct polc_label *l;

	if (p->n_labels == p->cap_labels) {
		size_t cap = p->cap_labels ? p->cap_labels * 2 : 8;

		l = realloc(p->labels, cap * sizeof(*l));
		if (!l) {
			f->oom = true;
			return NULL;
		}
		p->labels = l;
		p->cap_labels = cap;
	}
	l = &p->labels[p->n_labels++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	return l;
}

static void walk_label(struct front *f, xmlNodePtr n, enum acm_label_kind kind)
{
	struct polc_label *l = label_add(f, kind);
	xmlNodePtr c;

	if (!l)
		return;
	l->name.line = line_of(n);
	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "Name")) {
			set_str(&l->name.name, text_of(f, c));
			l->name.line = line_of(c);
			set_str(&l->from, attr_of(f, c, "from"));
		} else if (is_element(c, "SimpleTypeEnforcementTypes")) {
			walk_types(f, c, &l->ste, false);
		} else if (is_element(c, "ChineseWallTypes") &&
			   kind == ACM_LABEL_VM) {
			walk_types(f, c, &l->cw, false);
		} else {
			unexpected(f, c);
		}
	}
	if (!l->name.name && !f->oom) {
		l->name.name = strdup(""); /* refused by polc_check */
		if (!l->name.name)
			f->oom = true;
	}
}

static void walk_label_list(struct front *f, xmlNodePtr n, const char *el,
			    enum acm_label_kind kind)
{
	xmlNodePtr c;

	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, el))
			walk_label(f, c, kind);
		else
			unexpected(f, c);
	}
}

static void walk_template(struct front *f, xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "SubjectLabels")) {
			set_str(&f->p->bootstrap.name,
				attr_of(f, c, "bootstrap"));
			f->p->bootstrap.line = line_of(c);
			walk_label_list(f, c, "VirtualMachineLabel",
					ACM_LABEL_VM);
		} else if (is_element(c, "ObjectLabels")) {
			walk_label_list(f, c, "ResourceLabel",
					ACM_LABEL_RESOURCE);
		} else {
			unexpected(f, c);
		}
	}
}

static void walk_root(struct front *f, xmlNodePtr root)
{
	xmlNodePtr c;

	if (!is_element(root, "SecurityPolicyDefinition")) {
		polc_diag_add(f->diags, POLC_ERROR, line_of(root),
			      "root element is <%s>, not "
			      "<SecurityPolicyDefinition xmlns=\"" IBM_NS "\">",
			      (const char *)root->name);
		return;
	}
	for (c = root->children; c && !f->oom; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_element(c, "PolicyHeader"))
			walk_header(f, c);
		else if (is_element(c, "SimpleTypeEnforcement"))
			walk_ste(f, c);
		else if (is_element(c, "ChineseWall"))
			walk_cw(f, c);
		else if (is_element(c, "SecurityLabelTemplate"))
			walk_template(f, c);
		else
			unexpected(f, c);
	}
	/* Required strings are never NULL in a model we return, so later
	 * stages can treat "" as "missing" without NULL checks. */
	if (!f->p->name.name)
		f->p->name.name = strdup("");
	if (!f->p->bootstrap.name)
		f->p->bootstrap.name = strdup("");
	if (!f->p->name.name || !f->p->bootstrap.name)
		f->oom = true;
}

/* ---------------------------------------------------------------- schema */

static xmlDocPtr load_doc(struct front *f, const char *buf, size_t len)
{
	/* No NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE: see the
	 * comment at the top of the file. */
	const int options = XML_PARSE_NONET | XML_PARSE_NOCDATA |
			    XML_PARSE_BIG_LINES | XML_PARSE_NOXINCNODE |
			    XML_PARSE_COMPACT;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;

	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		f->oom = true;
		return NULL;
	}
	ctxt->_private = f;
	ctxt->sax->internalSubset = reject_doctype;
	ctxt->sax->serror = on_parser_error;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, options);
	if (doc && (doc->intSubset || doc->extSubset || failed(f))) {
		/* reject_doctype already said why (belt and braces). */
		if (!failed(f))
			polc_diag_add(f->diags, POLC_ERROR, 0,
				      "DOCTYPE is not allowed in a policy");
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (!doc && !failed(f))
		polc_diag_add(f->diags, POLC_ERROR, 0,
			      "not a well-formed XML document");
	xmlFreeParserCtxt(ctxt);
	return doc;
}

static int validate(struct front *f, const struct polc_parse_opts *opts,
		    xmlDocPtr doc)
{
	xmlSchemaParserCtxtPtr pctxt = NULL;
	xmlSchemaValidCtxtPtr vctxt = NULL;
	xmlSchemaPtr schema = NULL;
	struct polc_diags xsd_diags = {.path = NULL};
	struct front xf = {.diags = &xsd_diags};
	uint8_t *xsd = NULL;
	size_t xsd_len = polc_xsd_text_len;
	int ret = -1, rc;

	if (opts && opts->xsd_path) {
		if (polc_read_file(opts->xsd_path, DEFAULT_MAX_FILE_BYTES, &xsd,
				   &xsd_len) != 0) {
			polc_diag_add(f->diags, POLC_ERROR, 0,
				      "cannot read schema %s: %s",
				      opts->xsd_path, strerror(errno));
			goto out;
		}
	}
	pctxt = xmlSchemaNewMemParserCtxt(
		xsd ? (const char *)xsd : polc_xsd_text, (int)xsd_len);
	if (!pctxt)
		goto out;
	/* The schema's own errors are not the policy's: report them against
	 * the schema, not at a line of the policy. */
	xmlSchemaSetParserStructuredErrors(pctxt, on_xml_error, &xf);
	schema = xmlSchemaParse(pctxt);
	if (!schema) {
		polc_diag_add(
			f->diags, POLC_ERROR, 0, "schema %s is invalid: %s",
			opts && opts->xsd_path ? opts->xsd_path : "(built in)",
			xsd_diags.n && xsd_diags.v[0].message
				? xsd_diags.v[0].message
				: "?");
		goto out;
	}
	vctxt = xmlSchemaNewValidCtxt(schema);
	if (!vctxt)
		goto out;
	xmlSchemaSetValidStructuredErrors(vctxt, on_xml_error, f);
	rc = xmlSchemaValidateDoc(vctxt, doc);
	if (rc != 0 && !failed(f))
		polc_diag_add(f->diags, POLC_ERROR, 0,
			      "the document does not match the schema");
	if (rc == 0 && !failed(f))
		ret = 0;
out:
	if (ret && !failed(f))
		f->oom = true; /* only allocation failures get here silently */
	xmlSchemaFreeValidCtxt(vctxt);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pctxt);
	polc_diags_free(&xsd_diags);
	free(xsd);
	return ret;
}

/* ---------------------------------------------------------------- API */

struct keyed_diag {
	struct polc_diag d;
	size_t idx; /* original position: keeps the sort stable */
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed_diag *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * libxml2 reports some schema errors when an element closes (a missing
 * child), after errors inside it; sort what this parse added by line, as
 * polc_check does, so the output reads top to bottom.
 */
static void sort_by_line(struct polc_diags *d, size_t from)
{
	size_t n = d->n - from, i;
	struct keyed_diag *k;

	if (n < 2)
		return;
	k = malloc(n * sizeof(*k));
	if (!k)
		return; /* unsorted but complete */
	for (i = 0; i < n; i++) {
		k[i].d = d->v[from + i];
		k[i].idx = i;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (i = 0; i < n; i++)
		d->v[from + i] = k[i].d;
	free(k);
}

int polc_parse_xml_mem(const char *buf, size_t len, const char *path,
		       const struct polc_parse_opts *opts,
		       struct polc_policy *out, struct polc_diags *diags)
{
	size_t max = opts && opts->max_file_bytes ? opts->max_file_bytes
						  : DEFAULT_MAX_FILE_BYTES;
	xmlStructuredErrorFunc old_serror;
	xmlGenericErrorFunc old_generic;
	void *old_sctx, *old_gctx;
	struct front f = {.diags = diags, .p = out};
	xmlDocPtr doc = NULL;
	size_t first;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!diags->path)
		diags->path = path;
	f.errors_at_start = diags->n_errors;
	first = diags->n;
	/* libxml2 takes an int length. */
	if (max > INT_MAX)
		max = INT_MAX;
	if (!buf) {
		/* No input at all: reported like an empty document. */
		buf = "";
		len = 0;
	}
	if (len > max) {
		polc_diag_add(diags, POLC_ERROR, 0,
			      "policy is %zu bytes, more than the limit of %zu "
			      "bytes",
			      len, max);
		return -1;
	}
	out->path = strdup(path ? path : "<input>");
	if (!out->path) {
		polc_diag_add(diags, POLC_ERROR, 0, "out of memory");
		return -1;
	}

	xmlInitParser();
	/* Thread-local in libxml2: catches anything raised without a
	 * context of ours.  Restored on the way out. */
	old_serror = xmlStructuredError;
	old_sctx = xmlStructuredErrorContext;
	old_generic = xmlGenericError;
	old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&f, on_xml_error);
	xmlSetGenericErrorFunc(NULL, on_generic_error);

	doc = load_doc(&f, buf, len);
	if (!doc)
		goto out;
	if (validate(&f, opts, doc) != 0)
		goto out;
	walk_root(&f, xmlDocGetRootElement(doc));
	if (!failed(&f))
		ret = 0;
out:
	if (f.oom)
		polc_diag_add(diags, POLC_ERROR, 0, "out of memory");
	xmlFreeDoc(doc);
	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_gctx, old_generic);
	sort_by_line(diags, first);
	if (ret)
		polc_policy_free(out);
	return ret;
}

int polc_parse_xml(const char *path, const struct polc_parse_opts *opts,
		   struct polc_policy *out, struct polc_diags *diags)
{
	size_t max = opts && opts->max_file_bytes ? opts->max_file_bytes
						  : DEFAULT_MAX_FILE_BYTES;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!diags->path)
		diags->path = path;
	if (polc_read_file(path, max, &buf, &len) != 0) {
		if (errno == EFBIG)
			polc_diag_add(diags, POLC_ERROR, 0,
				      "file is larger than the limit of %zu "
				      "bytes",
				      max);
		else
			polc_diag_add(diags, POLC_ERROR, 0, "cannot read: %s",
				      strerror(errno));
		return -1;
	}
	ret = polc_parse_xml_mem((const char *)buf, len, path, opts, out,
				 diags);
	free(buf);
	return ret;
}

/* ---------------------------------------------------------------- free */

static void names_free(struct polc_names *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i].name);
	free(v->v);
}

void polc_policy_free(struct polc_policy *p)
{
	size_t i;

	if (!p)
		return;
	free(p->path);
	free(p->name.name);
	free(p->from_name);
	free(p->url);
	free(p->reference);
	free(p->date);
	free(p->namespace_url);
	names_free(&p->ste_types);
	names_free(&p->cw_types);
	for (i = 0; i < p->n_conflicts; i++) {
		free(p->conflicts[i].name.name);
		names_free(&p->conflicts[i].types);
	}
	free(p->conflicts);
	free(p->bootstrap.name);
	for (i = 0; i < p->n_labels; i++) {
		free(p->labels[i].name.name);
		free(p->labels[i].from);
		names_free(&p->labels[i].ste);
		names_free(&p->labels[i].cw);
	}
	free(p->labels);
	memset(p, 0, sizeof(*p));
}
