/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xlcfg.c - xl-style domain configuration files (see xlcfg.h).
 *
 * Three passes, each bounded:
 *   1. the whole input is checked for size, NUL bytes and line length
 *      before anything is tokenised, so no later pass meets a monster;
 *   2. a lexer and a recursive-descent parser turn statements into
 *      settings (key, value tree, line), as xl's grammar does; an error
 *      skips to the next statement, so one typo yields one message;
 *   3. each known key is interpreted (strings, numbers in ranges, actions,
 *      the security label, disk/vif/vtpm specs with canonical resources).
 * Every problem becomes one "FILE:LINE: error: KEY: message"; the parser
 * never stops on the first one (up to XLCFG_MAX_DIAGS) and never returns
 * a half-filled config.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/xlcfg.h"

#define KEY_MAX 64u

/* ------------------------------------------------------------ diagnostics */

static void diag_add(struct xlcfg_diags *d, const char *path, bool error,
		     unsigned line, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void diag_add(struct xlcfg_diags *d, const char *path, bool error,
		     unsigned line, const char *fmt, va_list ap)
{
	char msg[512], head[64];
	struct xlcfg_diag *v;
	size_t len;
	char *text;

	if (error)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= XLCFG_MAX_DIAGS) {
		/* Warnings beyond the cap are only counted; the first error
		 * beyond it is the last line, and the parser stops. */
		if (!error || d->n > XLCFG_MAX_DIAGS)
			return;
		line = 0;
		snprintf(msg, sizeof(msg), "too many problems, giving up");
	} else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
	}
	if (line)
		snprintf(head, sizeof(head), ":%u", line);
	else
		head[0] = '\0';
	len = strlen(path) + strlen(head) + strlen(msg) + 16;
	text = malloc(len);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;

		v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			free(text);
			d->oom = true;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	if (!text) {
		d->oom = true;
		return;
	}
	snprintf(text, len, "%s%s: %s: %s", path, head,
		 error ? "error" : "warning", msg);
	d->v[d->n++] = (struct xlcfg_diag){error, line, text};
}

void xlcfg_diags_print(const struct xlcfg_diags *d, FILE *out)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->v[i].text);
	if (d->oom)
		fprintf(out, "(some messages were lost: out of memory)\n");
}

void xlcfg_diags_free(struct xlcfg_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------ values */

enum vkind { V_STR = 1, V_NUM, V_LIST };

struct val {
	enum vkind kind;
	unsigned line;
	char *s;	   /* V_STR (dequoted), V_NUM (as written) */
	struct val *items; /* V_LIST */
	size_t n;
};

struct setting {
	char *key;
	unsigned line; /* of the assignment in force */
	struct val v;
};

static void val_free(struct val *v)
{
	size_t i;

	free(v->s);
	for (i = 0; i < v->n; i++)
		val_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static const char *kind_name(enum vkind k)
{
	switch (k) {
	case V_STR:
		return "a string";
	case V_NUM:
		return "a number";
	case V_LIST:
		return "a list";
	}
	return "nothing";
}

/* ------------------------------------------------------------ parser state */

enum tok {
	T_EOF,
	T_NL,
	T_SEMI,
	T_EQ,
	T_PLUSEQ,
	T_LBR,
	T_RBR,
	T_COMMA,
	T_IDENT,
	T_NUM,
	T_STR,
	T_ERR
};

struct token {
	enum tok t;
	unsigned line;
	char *text; /* T_IDENT, T_NUM, T_STR; owned */
};

/* Where each form of the security label came from, to check they agree. */
struct label_src {
	char *policy, *label;
	unsigned line;
};

struct ps {
	const char *path;
	const char *p, *end;
	unsigned line;
	struct xlcfg_diags *d;
	bool quiet; /* recovering: no lexical messages */
	bool stop;  /* out of memory or too many problems */
	bool have;  /* a token is waiting in `tok` */
	struct token tok;
	unsigned depth;	 /* list nesting at the current token */
	const char *key; /* key being parsed, for messages */
	bool at_eol;	 /* a failed value took the end of the statement */
	struct label_src sec, acc; /* seclabel, access_control */
	struct setting *set;
	size_t n_set, cap_set;
};

static void perr(struct ps *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pwarn(struct ps *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct ps *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(ps->d, ps->path, true, line, fmt, ap);
	va_end(ap);
	if (ps->d->n > XLCFG_MAX_DIAGS)
		ps->stop = true;
}

static void pwarn(struct ps *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(ps->d, ps->path, false, line, fmt, ap);
	va_end(ap);
	if (ps->d->n > XLCFG_MAX_DIAGS)
		ps->stop = true;
}

static void oom(struct ps *ps)
{
	if (!ps->stop)
		perr(ps, 0, "out of memory");
	ps->stop = true;
}

static char *xstrndup(struct ps *ps, const char *s, size_t n)
{
	char *r = malloc(n + 1);

	if (!r) {
		oom(ps);
		return NULL;
	}
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static char *xstrdup(struct ps *ps, const char *s)
{
	return xstrndup(ps, s, strlen(s));
}

/* "key: " for messages about a value, "" at statement level. */
#define KEYFMT	   "%s%s"
#define KEYARG(ps) ((ps)->key ? (ps)->key : ""), ((ps)->key ? ": " : "")

/* ------------------------------------------------------------ pass 1 */

static bool check_input(struct ps *ps, const char *buf, size_t len)
{
	unsigned line = 1;
	size_t i, start = 0;

	if (len > XLCFG_MAX_FILE) {
		perr(ps, 0, "file larger than %u bytes", XLCFG_MAX_FILE);
		return false;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] == '\0') {
			perr(ps, line, "NUL byte in the file");
			return false;
		}
		if (i == len || buf[i] == '\n') {
			if (i - start > XLCFG_MAX_LINE) {
				perr(ps, line, "line longer than %u bytes",
				     XLCFG_MAX_LINE);
				return false;
			}
			start = i + 1;
			line++;
		}
	}
	return true;
}

/* ------------------------------------------------------------ lexer */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A quoted string starting at ps->p (the quote).  Never crosses a line. */
static enum tok lex_string(struct ps *ps, struct token *t)
{
	char q = *ps->p++;
	const char *s = ps->p;
	char *out, *o;
	int c, v, k;

	while (ps->p < ps->end && *ps->p != q && *ps->p != '\n') {
		if (*ps->p == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n')
			ps->p++;
		ps->p++;
	}
	if (ps->p >= ps->end || *ps->p != q) {
		if (!ps->quiet)
			perr(ps, ps->line, KEYFMT "unterminated string",
			     KEYARG(ps));
		return T_ERR;
	}
	out = o = malloc((size_t)(ps->p - s) + 1);
	if (!out) {
		oom(ps);
		return T_ERR;
	}
	while (s < ps->p) {
		c = (unsigned char)*s++;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		c = (unsigned char)*s++;
		switch (c) {
		case '"':
		case '\'':
		case '\\':
			v = c;
			break;
		case 'a':
			v = '\a';
			break;
		case 'b':
			v = '\b';
			break;
		case 'f':
			v = '\f';
			break;
		case 'n':
			v = '\n';
			break;
		case 'r':
			v = '\r';
			break;
		case 't':
			v = '\t';
			break;
		case 'v':
			v = '\v';
			break;
		case 'x':
			for (v = 0, k = 0;
			     k < 2 && s < ps->p && hexval(*s) >= 0; k++)
				v = v * 16 + hexval(*s++);
			if (!k)
				goto bad;
			break;
		default:
			if (c < '0' || c > '7')
				goto bad;
			for (v = c - '0', k = 1;
			     k < 3 && s < ps->p && *s >= '0' && *s <= '7'; k++)
				v = v * 8 + (*s++ - '0');
			if (v > 255)
				goto bad;
			break;
		}
		if (v == 0) {
			if (!ps->quiet)
				perr(ps, ps->line,
				     KEYFMT "NUL byte in a string", KEYARG(ps));
			free(out);
			ps->p++;
			return T_ERR;
		}
		*o++ = (char)v;
	}
	*o = '\0';
	ps->p++; /* the closing quote */
	t->text = out;
	return T_STR;
bad:
	if (!ps->quiet) {
		if (isprint(c))
			perr(ps, ps->line,
			     KEYFMT "unknown escape '\\%c' in a "
				    "string",
			     KEYARG(ps), c);
		else
			perr(ps, ps->line, KEYFMT "bad escape in a string",
			     KEYARG(ps));
	}
	free(out);
	ps->p++;
	return T_ERR;
}

static enum tok lex_one(struct ps *ps, struct token *t)
{
	const char *s;
	unsigned char c;

	for (;;) {
		while (ps->p < ps->end &&
		       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			continue;
		}
		break;
	}
	t->line = ps->line;
	if (ps->p >= ps->end)
		return T_EOF;
	c = (unsigned char)*ps->p;
	switch (c) {
	case '\n':
		ps->p++;
		ps->line++;
		return T_NL;
	case ';':
		ps->p++;
		return T_SEMI;
	case ',':
		ps->p++;
		return T_COMMA;
	case '[':
		ps->p++;
		return T_LBR;
	case ']':
		ps->p++;
		return T_RBR;
	case '=':
		ps->p++;
		return T_EQ;
	case '\'':
	case '"':
		return lex_string(ps, t);
	case '+':
		if (ps->p + 1 < ps->end && ps->p[1] == '=') {
			ps->p += 2;
			return T_PLUSEQ;
		}
		break;
	default:
		break;
	}
	if (c >= 'a' && c <= 'z') {
		s = ps->p;
		while (ps->p < ps->end &&
		       ((*ps->p >= 'a' && *ps->p <= 'z') ||
			(*ps->p >= '0' && *ps->p <= '9') || *ps->p == '_'))
			ps->p++;
		if ((size_t)(ps->p - s) > KEY_MAX) {
			if (!ps->quiet)
				perr(ps, ps->line,
				     "key longer than %u characters", KEY_MAX);
			return T_ERR;
		}
		t->text = xstrndup(ps, s, (size_t)(ps->p - s));
		return t->text ? T_IDENT : T_ERR;
	}
	if (c >= '0' && c <= '9') {
		/* Validated where a number is wanted: "512M" is one token. */
		s = ps->p;
		while (ps->p < ps->end && isalnum((unsigned char)*ps->p))
			ps->p++;
		t->text = xstrndup(ps, s, (size_t)(ps->p - s));
		return t->text ? T_NUM : T_ERR;
	}
	ps->p++;
	if (!ps->quiet) {
		if (c >= 'A' && c <= 'Z')
			perr(ps, ps->line,
			     "keys are lowercase: unexpected '%c'", c);
		else if (isprint(c))
			perr(ps, ps->line, KEYFMT "unexpected character '%c'",
			     KEYARG(ps), c);
		else
			perr(ps, ps->line, KEYFMT "unexpected byte 0x%02x",
			     KEYARG(ps), c);
	}
	return T_ERR;
}

static struct token *peek(struct ps *ps)
{
	if (!ps->have) {
		ps->tok.text = NULL;
		ps->tok.t = lex_one(ps, &ps->tok);
		ps->have = true;
	}
	return &ps->tok;
}

/* Takes the next token; the caller owns its text. */
static struct token take(struct ps *ps)
{
	struct token t = *peek(ps);

	ps->have = false;
	return t;
}

static void drop(struct ps *ps)
{
	struct token t = take(ps);

	free(t.text);
}

static const char *tok_name(enum tok t)
{
	switch (t) {
	case T_EOF:
		return "the end of the file";
	case T_NL:
		return "the end of the line";
	case T_SEMI:
		return "';'";
	case T_EQ:
		return "'='";
	case T_PLUSEQ:
		return "'+='";
	case T_LBR:
		return "'['";
	case T_RBR:
		return "']'";
	case T_COMMA:
		return "','";
	case T_IDENT:
		return "a word";
	case T_NUM:
		return "a number";
	case T_STR:
		return "a string";
	case T_ERR:
		return "a bad token";
	}
	return "?";
}

/* Does the text at p start a new statement ("key =" or "key +=")? Used to
 * end recovery inside a list that never closes. */
static bool statement_ahead(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p < 'a' || *p > 'z')
		return false;
	while (p < end && ((*p >= 'a' && *p <= 'z') ||
			   (*p >= '0' && *p <= '9') || *p == '_'))
		p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end &&
	       (*p == '=' || (*p == '+' && p + 1 < end && p[1] == '='));
}

/* After an error: skip the rest of the statement, quietly.  Inside a list
 * that is the rest of the list, unless a line starts a new statement. */
static void recover(struct ps *ps)
{
	unsigned depth = ps->depth;
	struct token *t;

	ps->quiet = true;
	for (;;) {
		t = peek(ps);
		if (t->t == T_EOF)
			break;
		if (t->t == T_NL || t->t == T_SEMI) {
			drop(ps);
			if (!depth || statement_ahead(ps->p, ps->end))
				break;
			continue;
		}
		if (t->t == T_LBR)
			depth++;
		else if (t->t == T_RBR && depth)
			depth--;
		drop(ps);
	}
	ps->quiet = false;
	ps->depth = 0;
}

/* ------------------------------------------------------------ pass 2 */

static bool parse_value(struct ps *ps, struct val *v);

static bool parse_list(struct ps *ps, struct val *v, unsigned line)
{
	struct token *t;
	struct val *items;
	size_t cap = 0;

	v->kind = V_LIST;
	v->line = line;
	if (ps->depth >= XLCFG_MAX_DEPTH) {
		perr(ps, line, KEYFMT "lists nested deeper than %u", KEYARG(ps),
		     XLCFG_MAX_DEPTH);
		return false;
	}
	ps->depth++;
	for (;;) {
		while (peek(ps)->t == T_NL)
			drop(ps);
		t = peek(ps);
		if (t->t == T_RBR)
			break;
		if (t->t == T_EOF) {
			perr(ps, line, KEYFMT "list not closed with ']'",
			     KEYARG(ps));
			return false;
		}
		if (v->n == XLCFG_MAX_ITEMS) {
			perr(ps, t->line,
			     KEYFMT "more than %u values in a list", KEYARG(ps),
			     XLCFG_MAX_ITEMS);
			return false;
		}
		if (v->n == cap) {
			cap = cap ? cap * 2 : 4;
			items = realloc(v->items, cap * sizeof(*items));
			if (!items) {
				oom(ps);
				return false;
			}
			v->items = items;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		if (!parse_value(ps, &v->items[v->n++]))
			return false;
		while (peek(ps)->t == T_NL)
			drop(ps);
		t = peek(ps);
		if (t->t == T_COMMA) {
			drop(ps);
			continue;
		}
		if (t->t != T_RBR) {
			if (t->t != T_ERR)
				perr(ps, t->line,
				     KEYFMT "expected ',' or ']' in a list, "
					    "got %s",
				     KEYARG(ps), tok_name(t->t));
			return false;
		}
	}
	drop(ps); /* ']' */
	ps->depth--;
	return true;
}

static bool parse_value(struct ps *ps, struct val *v)
{
	struct token t = take(ps);

	switch (t.t) {
	case T_STR:
	case T_NUM:
		v->kind = t.t == T_STR ? V_STR : V_NUM;
		v->line = t.line;
		v->s = t.text;
		return true;
	case T_LBR:
		return parse_list(ps, v, t.line);
	case T_ERR:
		return false;
	default:
		perr(ps, t.line, KEYFMT "expected a value, got %s", KEYARG(ps),
		     tok_name(t.t));
		free(t.text);
		/* Already past the end of the statement: nothing to skip. */
		ps->at_eol = !ps->depth &&
			     (t.t == T_NL || t.t == T_SEMI || t.t == T_EOF);
		return false;
	}
}

/* Keys whose second assignment is an error, not "the last one wins":
 * a security label must not be ambiguous. */
static bool must_be_unique(const char *key)
{
	return strcmp(key, "seclabel") == 0 ||
	       strcmp(key, "access_control") == 0;
}

static struct setting *find_setting(struct ps *ps, const char *key)
{
	size_t i;

	for (i = 0; i < ps->n_set; i++)
		if (strcmp(ps->set[i].key, key) == 0)
			return &ps->set[i];
	return NULL;
}

/* `a += b`: lists are joined, strings concatenated (as xl does). */
static bool append_value(struct ps *ps, struct setting *s, struct val *v,
			 unsigned line)
{
	struct val *items;
	size_t la, lb;
	char *str;

	if (s->v.kind == V_LIST && v->kind == V_LIST) {
		if (s->v.n + v->n > XLCFG_MAX_ITEMS) {
			perr(ps, line, "%s: more than %u values in a list",
			     s->key, XLCFG_MAX_ITEMS);
			return false;
		}
		items = realloc(s->v.items,
				(s->v.n + v->n + 1) * sizeof(*items));
		if (!items) {
			oom(ps);
			return false;
		}
		if (v->n) /* an empty list has no items array at all */
			memcpy(items + s->v.n, v->items, v->n * sizeof(*items));
		s->v.items = items;
		s->v.n += v->n;
		free(v->items);
		v->items = NULL;
		v->n = 0;
		return true;
	}
	if (s->v.kind == V_STR && v->kind == V_STR) {
		la = strlen(s->v.s);
		lb = strlen(v->s);
		str = realloc(s->v.s, la + lb + 1);
		if (!str) {
			oom(ps);
			return false;
		}
		memcpy(str + la, v->s, lb + 1);
		s->v.s = str;
		return true;
	}
	perr(ps, line, "%s: '+=' cannot add %s to %s", s->key,
	     kind_name(v->kind), kind_name(s->v.kind));
	return false;
}

static void store(struct ps *ps, char *key, bool append, struct val *v,
		  unsigned line)
{
	struct setting *s = find_setting(ps, key), *set;

	if (s && append) {
		if (append_value(ps, s, v, line))
			s->line = line;
		goto out;
	}
	if (s) {
		if (must_be_unique(key))
			perr(ps, line, "%s: given twice (lines %u and %u)", key,
			     s->line, line);
		else
			pwarn(ps, line,
			      "%s: set again; this value replaces "
			      "the one on line %u",
			      key, s->line);
		val_free(&s->v);
		s->v = *v;
		s->line = line;
		memset(v, 0, sizeof(*v));
		goto out;
	}
	if (ps->n_set == ps->cap_set) {
		size_t cap = ps->cap_set ? ps->cap_set * 2 : 16;

		set = realloc(ps->set, cap * sizeof(*set));
		if (!set) {
			oom(ps);
			goto out;
		}
		ps->set = set;
		ps->cap_set = cap;
	}
	ps->set[ps->n_set++] = (struct setting){key, line, *v};
	memset(v, 0, sizeof(*v));
	key = NULL;
out:
	val_free(v);
	free(key);
}

static void parse_statement(struct ps *ps)
{
	struct token t = take(ps), op, end;
	struct val v = {0};

	ps->key = NULL;
	ps->depth = 0;
	ps->at_eol = false;
	switch (t.t) {
	case T_NL:
	case T_SEMI:
	case T_EOF:
		return;
	case T_IDENT:
		break;
	case T_ERR:
		recover(ps);
		return;
	default:
		perr(ps, t.line,
		     "expected a key at the start of a statement, "
		     "got %s",
		     tok_name(t.t));
		free(t.text);
		recover(ps);
		return;
	}

	ps->key = t.text;
	op = take(ps);
	if (op.t != T_EQ && op.t != T_PLUSEQ) {
		if (op.t != T_ERR)
			perr(ps, op.line,
			     "%s: expected '=' after the key, got "
			     "%s",
			     t.text, tok_name(op.t));
		free(op.text);
		if (op.t != T_NL && op.t != T_SEMI && op.t != T_EOF)
			recover(ps);
		goto fail;
	}
	if (!parse_value(ps, &v)) {
		if (!ps->at_eol)
			recover(ps);
		goto fail;
	}
	end = take(ps);
	if (end.t != T_NL && end.t != T_SEMI && end.t != T_EOF) {
		if (end.t != T_ERR)
			perr(ps, end.line,
			     "%s: expected the end of the "
			     "statement after the value, got %s",
			     t.text, tok_name(end.t));
		free(end.text);
		recover(ps);
		goto fail;
	}
	ps->key = NULL;
	store(ps, t.text, op.t == T_PLUSEQ, &v, t.line);
	return;
fail:
	ps->key = NULL;
	val_free(&v);
	free(t.text);
}

/* ------------------------------------------------------------ pass 3: atoms */

/* The value as a string: xl's atoms (quoted strings and numbers). */
static const char *atom(struct ps *ps, const struct setting *s)
{
	if (s->v.kind == V_LIST) {
		perr(ps, s->line, "%s: expected a single value, got a list",
		     s->key);
		return NULL;
	}
	return s->v.s;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0, base = 10, d;
	const char *p = s;

	if (!*p)
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return false;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	for (; *p; p++) {
		int h = hexval(*p);

		if (h < 0 || (uint64_t)h >= base)
			return false;
		d = (uint64_t)h;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool number(struct ps *ps, const struct setting *s, uint64_t min,
		   uint64_t max, const char *unit, uint64_t *out)
{
	const char *a = atom(ps, s);
	uint64_t v;

	if (!a)
		return false;
	if (!parse_u64(a, &v)) {
		perr(ps, s->line, "%s: '%s' is not a number", s->key, a);
		return false;
	}
	if (v < min || v > max) {
		perr(ps, s->line, "%s: %s is out of range (%llu-%llu%s%s)",
		     s->key, a, (unsigned long long)min,
		     (unsigned long long)max, *unit ? " " : "", unit);
		return false;
	}
	*out = v;
	return true;
}

static bool string(struct ps *ps, const struct setting *s, bool nonempty,
		   char **out)
{
	const char *a = atom(ps, s);

	if (!a)
		return false;
	if (nonempty && !*a) {
		perr(ps, s->line, "%s: must not be empty", s->key);
		return false;
	}
	free(*out);
	*out = xstrdup(ps, a);
	return *out != NULL;
}

static bool parse_uuid(const char *s, uint8_t out[16], char canon[37])
{
	static const int dash[] = {8, 13, 18, 23};
	size_t i, k = 0, d = 0;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
			canon[i] = '-';
			continue;
		}
		if (hexval(s[i]) < 0)
			return false;
		canon[i] = (char)tolower((unsigned char)s[i]);
		if (k % 2 == 0)
			out[k / 2] = (uint8_t)(hexval(s[i]) << 4);
		else
			out[k / 2] |= (uint8_t)hexval(s[i]);
		k++;
	}
	canon[36] = '\0';
	return true;
}

/* Policy and label names, by the engine's rules: 1-255 bytes, no ':' and
 * no control characters. */
static const char *name_problem(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return "is empty";
	if (n > XLCFG_NAME_MAX)
		return "is longer than 255 bytes";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return "holds a control character";
		if (c == ':')
			return "holds a ':'";
		if (c == ',')
			return "holds a ','";
	}
	return NULL;
}

/* ------------------------------------------------------------ scalar keys */

static bool key_name(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	const char *a = atom(ps, s), *p;

	if (!a)
		return false;
	for (p = a; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.')
			break;
	if (!*a || *p || strlen(a) > 64 || !isalnum((unsigned char)*a)) {
		perr(ps, s->line,
		     "name: '%s' is not a domain name (1-64 letters, digits, "
		     "'_', '-' or '.', starting with a letter or digit)",
		     a);
		return false;
	}
	c->name_line = s->line;
	return string(ps, s, true, &c->name);
}

static bool key_uuid(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	const char *a = atom(ps, s);

	if (!a)
		return false;
	if (!parse_uuid(a, c->uuid, c->uuid_str)) {
		perr(ps, s->line,
		     "uuid: '%s' is not a UUID "
		     "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
		     a);
		return false;
	}
	c->has_uuid = true;
	return true;
}

static bool key_type(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	const char *a = atom(ps, s);

	if (!a)
		return false;
	if (strcmp(a, "pv") && strcmp(a, "pvh") && strcmp(a, "hvm")) {
		perr(ps, s->line, "type: unknown type '%s' (pv, pvh, hvm)", a);
		return false;
	}
	return string(ps, s, true, &c->type);
}

static bool key_kernel(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return string(ps, s, true, &c->kernel);
}

static bool key_extra(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return string(ps, s, false, &c->extra);
}

static bool key_ramdisk(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return string(ps, s, true, &c->ramdisk);
}

static bool key_cmdline(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return string(ps, s, false, &c->cmdline);
}

static bool key_root(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return string(ps, s, false, &c->root);
}

/* 16 TiB in MiB: more than any host this runs on. */
#define MEM_MAX	 (16ull << 20)
#define VCPU_MAX 4096u

static bool key_memory(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return number(ps, s, 1, MEM_MAX, "MiB", &c->memory);
}

static bool key_maxmem(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	return number(ps, s, 1, MEM_MAX, "MiB", &c->maxmem);
}

static bool key_vcpus(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	uint64_t v;

	if (!number(ps, s, 1, VCPU_MAX, "", &v))
		return false;
	c->vcpus = (uint32_t)v;
	return true;
}

static bool key_maxvcpus(struct ps *ps, const struct setting *s,
			 struct xlcfg *c)
{
	uint64_t v;

	if (!number(ps, s, 1, VCPU_MAX, "", &v))
		return false;
	c->maxvcpus = (uint32_t)v;
	return true;
}

static const char *const action_names[] = {
	[XLCFG_ACTION_DEFAULT] = "default",
	[XLCFG_ACTION_DESTROY] = "destroy",
	[XLCFG_ACTION_RESTART] = "restart",
	[XLCFG_ACTION_RENAME_RESTART] = "rename-restart",
	[XLCFG_ACTION_PRESERVE] = "preserve",
	[XLCFG_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[XLCFG_ACTION_COREDUMP_RESTART] = "coredump-restart",
	[XLCFG_ACTION_SOFT_RESET] = "soft-reset",
};

const char *xlcfg_action_name(enum xlcfg_action a)
{
	if ((unsigned)a >= sizeof(action_names) / sizeof(action_names[0]))
		return "unknown";
	return action_names[a];
}

static bool action(struct ps *ps, const struct setting *s,
		   enum xlcfg_action *out)
{
	const char *a = atom(ps, s);
	unsigned i;

	if (!a)
		return false;
	for (i = XLCFG_ACTION_DESTROY;
	     i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(a, action_names[i]) == 0) {
			*out = (enum xlcfg_action)i;
			return true;
		}
	perr(ps, s->line,
	     "%s: unknown action '%s' (destroy, restart, rename-restart, "
	     "preserve, coredump-destroy, coredump-restart, soft-reset)",
	     s->key, a);
	return false;
}

static bool key_on_poweroff(struct ps *ps, const struct setting *s,
			    struct xlcfg *c)
{
	return action(ps, s, &c->on_poweroff);
}

static bool key_on_reboot(struct ps *ps, const struct setting *s,
			  struct xlcfg *c)
{
	return action(ps, s, &c->on_reboot);
}

static bool key_on_watchdog(struct ps *ps, const struct setting *s,
			    struct xlcfg *c)
{
	return action(ps, s, &c->on_watchdog);
}

static bool key_on_crash(struct ps *ps, const struct setting *s,
			 struct xlcfg *c)
{
	return action(ps, s, &c->on_crash);
}

static bool key_on_soft_reset(struct ps *ps, const struct setting *s,
			      struct xlcfg *c)
{
	return action(ps, s, &c->on_soft_reset);
}

/* ------------------------------------------------------------ the label */

static bool set_label(struct ps *ps, struct label_src *ls, const char *pol,
		      size_t pol_n, const char *lab, size_t lab_n,
		      unsigned line, const char *key)
{
	const char *why;

	if ((why = name_problem(pol, pol_n)) != NULL) {
		perr(ps, line, "%s: the policy name %s", key, why);
		return false;
	}
	if ((why = name_problem(lab, lab_n)) != NULL) {
		perr(ps, line, "%s: the label %s", key, why);
		return false;
	}
	ls->policy = xstrndup(ps, pol, pol_n);
	ls->label = xstrndup(ps, lab, lab_n);
	ls->line = line;
	return ls->policy && ls->label;
}

/* seclabel = "ACM:POLICY:LABEL", the XSM issue's syntax. */
static bool key_seclabel(struct ps *ps, const struct setting *s,
			 struct xlcfg *c)
{
	const char *a = atom(ps, s), *p1, *p2;

	(void)c;
	if (!a)
		return false;
	p1 = strchr(a, ':');
	p2 = p1 ? strchr(p1 + 1, ':') : NULL;
	if (!p1 || !p2 || (size_t)(p1 - a) != 3 || strncmp(a, "ACM", 3) != 0 ||
	    strchr(p2 + 1, ':')) {
		perr(ps, s->line, "seclabel: '%s' is not ACM:POLICY:LABEL", a);
		return false;
	}
	return set_label(ps, &ps->sec, p1 + 1, (size_t)(p2 - p1 - 1), p2 + 1,
			 strlen(p2 + 1), s->line, "seclabel");
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* access_control = ['policy=NAME,label=LABEL'], xm's form. */
static bool key_access_control(struct ps *ps, const struct setting *s,
			       struct xlcfg *c)
{
	const char *a, *p, *e, *eq, *pol = NULL, *lab = NULL;
	size_t pol_n = 0, lab_n = 0, n;

	(void)c;
	if (s->v.kind != V_LIST || s->v.n != 1 || s->v.items[0].kind != V_STR) {
		perr(ps, s->line,
		     "access_control: expected one entry "
		     "['policy=NAME,label=LABEL']");
		return false;
	}
	a = s->v.items[0].s;
	for (p = a; *p; p = *e ? e + 1 : e) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		n = (size_t)(e - p);
		trim(&p, &n);
		eq = memchr(p, '=', n);
		if (!eq) {
			perr(ps, s->line,
			     "access_control: expected KEY=VALUE, "
			     "got '%.*s'",
			     (int)n, p);
			return false;
		}
		if ((size_t)(eq - p) == 6 && strncmp(p, "policy", 6) == 0 &&
		    !pol) {
			pol = eq + 1;
			pol_n = n - 7;
		} else if ((size_t)(eq - p) == 5 &&
			   strncmp(p, "label", 5) == 0 && !lab) {
			lab = eq + 1;
			lab_n = n - 6;
		} else {
			perr(ps, s->line,
			     "access_control: unknown or repeated parameter "
			     "'%.*s'",
			     (int)(eq - p), p);
			return false;
		}
	}
	if (!pol || !lab) {
		perr(ps, s->line, "access_control: no %s given",
		     pol ? "label" : "policy");
		return false;
	}
	trim(&pol, &pol_n);
	trim(&lab, &lab_n);
	return set_label(ps, &ps->acc, pol, pol_n, lab, lab_n, s->line,
			 "access_control");
}

/* ------------------------------------------------------------ disks */

struct disk_parse {
	struct ps *ps;
	const char *key; /* "disk[3]" */
	unsigned line;
	const char *spec;
	struct xlcfg_disk *d;
	bool had_prefix, have_format;
	bool have_access;  /* the access slot is taken */
	bool access_given; /* ... by a value (empty means the default) */
	enum { K_NONE, K_PHY, K_FILE } kind;
	bool ok;
};

static void derr(struct disk_parse *dp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void derr(struct disk_parse *dp, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dp->ok)
		perr(dp->ps, dp->line, "%s: %s in '%s'", dp->key, msg,
		     dp->spec);
	dp->ok = false; /* one message per spec: the first problem */
}

/* xl's "each parameter at most once"; an empty earlier value may be
 * overwritten. */
static void save(struct disk_parse *dp, char **field, const char *what,
		 const char *v, size_t n)
{
	if (*field && **field) {
		derr(dp, "%s respecified", what);
		return;
	}
	free(*field);
	*field = xstrndup(dp->ps, v, n);
	if (!*field)
		dp->ok = false;
}

static void set_format(struct disk_parse *dp, const char *v, size_t n)
{
	static const struct {
		const char *name;
		enum xlcfg_disk_format f;
	} fmts[] = {
		{"", XLCFG_FMT_RAW},	    {"raw", XLCFG_FMT_RAW},
		{"qcow", XLCFG_FMT_QCOW},   {"qcow2", XLCFG_FMT_QCOW2},
		{"vhd", XLCFG_FMT_VHD},	    {"qed", XLCFG_FMT_QED},
		{"empty", XLCFG_FMT_EMPTY},
	};
	size_t i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (strlen(fmts[i].name) == n &&
		    strncmp(fmts[i].name, v, n) == 0) {
			if (dp->have_format && dp->d->format != fmts[i].f) {
				derr(dp, "format respecified");
				return;
			}
			dp->d->format = fmts[i].f;
			dp->have_format = true;
			return;
		}
	derr(dp, "unknown value for format '%.*s'", (int)n, v);
}

static void set_access(struct disk_parse *dp, const char *v, size_t n)
{
	if ((n == 1 && *v == 'r') || (n == 2 && !strncmp(v, "ro", 2)))
		dp->d->readonly = true;
	else if (!n || (n == 1 && *v == 'w') ||
		 (n == 2 && !strncmp(v, "rw", 2)))
		dp->d->readonly = false;
	else
		derr(dp, "unknown value for access '%.*s'", (int)n, v);
	dp->have_access = true;
	dp->access_given |= n > 0;
}

static bool vdev_ok(const char *v, size_t n)
{
	size_t i;

	if (!n || n > 32 || !islower((unsigned char)v[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)v[i]) &&
		    !isdigit((unsigned char)v[i]))
			return false;
	return true;
}

static void set_vdev(struct disk_parse *dp, const char *v, size_t n)
{
	if (!vdev_ok(v, n)) {
		derr(dp, "bad vdev '%.*s'", (int)n, v);
		return;
	}
	save(dp, &dp->d->vdev, "vdev", v, n);
}

/* "hdc:cdrom" (deprecated): true if it was vdev:devtype. */
static bool vdev_and_devtype(struct disk_parse *dp, const char *v, size_t n)
{
	const char *colon = NULL;
	size_t i;

	for (i = n; i > 0; i--)
		if (v[i - 1] == ':') {
			colon = v + i - 1;
			break;
		}
	if (!colon)
		return false;
	set_vdev(dp, v, (size_t)(colon - v));
	n -= (size_t)(colon - v) + 1;
	if (n == 5 && !strncmp(colon + 1, "cdrom", 5))
		dp->d->cdrom = true;
	else if (n == 4 && !strncmp(colon + 1, "disk", 4))
		dp->d->cdrom = false;
	else
		derr(dp, "unknown deprecated type '%.*s'", (int)n, colon + 1);
	return true;
}

/* Deprecated "raw:", "phy:", "tap:aio:" ... in front of a positional
 * parameter.  Returns how many bytes were prefixes. */
static size_t strip_prefixes(struct disk_parse *dp, const char *p, size_t n)
{
	static const struct {
		const char *name;
		int what; /* 0 ignored, 1 phy, 2 file, 3 format, 4 script */
	} pre[] = {
		{"phy", 1},	{"file", 2},  {"tap", 2},   {"tap2", 2},
		{"tapdisk", 2}, {"aio", 2},   {"ioemu", 0}, {"raw", 3},
		{"qcow", 3},	{"qcow2", 3}, {"vhd", 3},   {"iscsi", 4},
		{"nbd", 4},	{"enbd", 4},  {"drbd", 4},
	};
	size_t used = 0, w, i;

	for (;;) {
		const char *s = p + used;
		size_t left = n - used;

		if (!left || !islower((unsigned char)s[0]))
			return used;
		for (w = 1; w < left && (islower((unsigned char)s[w]) ||
					 isdigit((unsigned char)s[w]));
		     w++)
			;
		if (w >= left || s[w] != ':')
			return used;
		for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
			if (strlen(pre[i].name) == w &&
			    !strncmp(pre[i].name, s, w))
				break;
		if (i == sizeof(pre) / sizeof(pre[0])) {
			/* Another "word:" is a prefix we do not know only
			 * when what follows does not continue a word
			 * ("hdc:cdrom" is a vdev and its type). */
			if (w + 1 < left && (islower((unsigned char)s[w + 1]) ||
					     isdigit((unsigned char)s[w + 1])))
				return used;
			derr(dp, "unknown deprecated disk prefix '%.*s:'",
			     (int)w, s);
			return n;
		}
		dp->had_prefix = true;
		switch (pre[i].what) {
		case 1:
			dp->kind = K_PHY;
			break;
		case 2:
			dp->kind = K_FILE;
			break;
		case 3:
			dp->kind = K_FILE;
			set_format(dp, s, w);
			break;
		case 4:
			derr(dp,
			     "block scripts ('%.*s:') are not supported: "
			     "the target is not a host path to label",
			     (int)w, s);
			return n;
		}
		used += w + 1;
	}
}

static void positional(struct disk_parse *dp, const char *p, size_t n)
{
	struct xlcfg_disk *d = dp->d;

	if (!d->target) {
		save(dp, &d->target, "target", p, n);
	} else if (!dp->had_prefix && !dp->have_format) {
		if (!*d->target && vdev_and_devtype(dp, p, n)) {
			d->format = XLCFG_FMT_EMPTY;
			dp->have_format = true;
		} else {
			set_format(dp, p, n);
		}
	} else if (!d->vdev) {
		if (!vdev_and_devtype(dp, p, n))
			set_vdev(dp, p, n);
	} else if (!dp->have_access) {
		set_access(dp, p, n);
	} else {
		derr(dp, "too many positional parameters");
	}
}

static bool is_word(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncmp(p, w, n) == 0;
}

static void key_value(struct disk_parse *dp, const char *p, size_t n,
		      const char *eq)
{
	struct xlcfg_disk *d = dp->d;
	size_t kn = (size_t)(eq - p), vn = n - kn - 1;
	const char *v = eq + 1;

	if (is_word(p, kn, "format")) {
		set_format(dp, v, vn);
	} else if (is_word(p, kn, "vdev")) {
		set_vdev(dp, v, vn);
	} else if (is_word(p, kn, "access")) {
		set_access(dp, v, vn);
	} else if (is_word(p, kn, "devtype")) {
		if (is_word(v, vn, "cdrom"))
			d->cdrom = true;
		else if (is_word(v, vn, "disk"))
			d->cdrom = false;
		else
			derr(dp, "unknown value for devtype '%.*s'", (int)vn,
			     v);
	} else if (is_word(p, kn, "backend")) {
		save(dp, &d->backend, "backend", v, vn);
	} else if (is_word(p, kn, "backendtype")) {
		if (!is_word(v, vn, "phy") && !is_word(v, vn, "tap") &&
		    !is_word(v, vn, "qdisk") && !is_word(v, vn, "standalone"))
			derr(dp, "unknown value for backendtype '%.*s'",
			     (int)vn, v);
		else
			save(dp, &d->backendtype, "backendtype", v, vn);
	} else if (is_word(p, kn, "script")) {
		derr(dp, "block scripts (script=) are not supported: the "
			 "target is not a host path to label");
	} else if (is_word(p, kn, "specification") ||
		   is_word(p, kn, "colo-host") || is_word(p, kn, "colo-port") ||
		   is_word(p, kn, "colo-export") ||
		   is_word(p, kn, "active-disk") ||
		   is_word(p, kn, "hidden-disk") ||
		   is_word(p, kn, "grant_usage")) {
		/* xl's, no bearing on access control: accepted. */
	} else {
		derr(dp, "unknown parameter '%.*s'", (int)kn, p);
	}
}

static bool is_flag(const char *p, size_t n)
{
	static const char *const flags[] = {
		"cdrom", "direct-io-safe", "discard", "no-discard",
		"colo",	 "no-colo",	   "trusted", "untrusted",
	};
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (is_word(p, n, flags[i]))
			return true;
	return false;
}

/* The resource a disk names, before canonicalisation. */
static bool disk_resource(struct disk_parse *dp)
{
	struct xlcfg_disk *d = dp->d;
	char raw[XLCFG_RESOURCE_MAX + 16], out[XLCFG_RESOURCE_MAX], why[256];
	const char *kind;

	if (!*d->target)
		return true; /* an empty cdrom drive uses nothing */
	if (dp->kind == K_PHY)
		kind = "phy:";
	else if (dp->kind == K_FILE)
		kind = "file:";
	else if ((d->backendtype && !strcmp(d->backendtype, "phy")) ||
		 d->target[0] != '/' || !strncmp(d->target, "/dev/", 5))
		kind = "phy:"; /* xl puts /dev/ in front of a relative path */
	else
		kind = "file:";
	if (strlen(d->target) > XLCFG_RESOURCE_MAX) {
		derr(dp, "target longer than %u bytes", XLCFG_RESOURCE_MAX);
		return false;
	}
	snprintf(raw, sizeof(raw), "%s%s", kind, d->target);
	if (xlcfg_canonical_resource(raw, 0, out, sizeof(out), why,
				     sizeof(why)) != 0) {
		derr(dp, "%s", why);
		return false;
	}
	d->resource = xstrdup(dp->ps, out);
	return d->resource != NULL;
}

static bool parse_disk(struct ps *ps, const char *spec, unsigned line,
		       const char *key, struct xlcfg_disk *d)
{
	struct disk_parse dp = {.ps = ps,
				.key = key,
				.line = line,
				.spec = spec,
				.d = d,
				.kind = K_NONE,
				.ok = true};
	const char *s = spec, *e, *eq;
	size_t n, k;

	d->line = line;
	d->spec = xstrdup(ps, spec);
	while (dp.ok && *s) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		if (!strncmp(s, "target=", 7)) {
			/* Eats the rest, commas and all (one trailing comma
			 * is dropped, as xl does). */
			n = strlen(s + 7);
			if (n && s[7 + n - 1] == ',')
				n--;
			save(&dp, &d->target, "target", s + 7, n);
			break;
		}
		e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		n = (size_t)(e - s);
		eq = memchr(s, '=', n);
		if (eq) {
			if (eq == s || !islower((unsigned char)*s))
				derr(&dp,
				     "bad disk syntax near '%.*s' (use "
				     "target= last for a target with "
				     "'=' or ',')",
				     (int)n, s);
			else
				key_value(&dp, s, n, eq);
		} else if (is_flag(s, n)) {
			if (is_word(s, n, "cdrom"))
				d->cdrom = true;
		} else {
			k = strip_prefixes(&dp, s, n);
			if (dp.ok)
				positional(&dp, s + k, n - k);
		}
		s = *e ? e + 1 : e;
	}
	if (dp.ok && !d->vdev)
		derr(&dp, "no vdev given");
	if (dp.ok && !d->target) {
		d->target = xstrdup(ps, "");
		if (!d->target)
			dp.ok = false;
	}
	if (dp.ok && !*d->target && !d->cdrom)
		derr(&dp, "no target given (only a cdrom may be empty)");
	if (dp.ok && d->cdrom && !dp.access_given)
		d->readonly = true;
	if (dp.ok && !*d->target)
		d->format = XLCFG_FMT_EMPTY;
	return dp.ok && disk_resource(&dp);
}

/* ------------------------------------------------------------ vifs, vtpms */

/* "k=v,k=v" into (key, value) callbacks' worth: returns false after
 * reporting a problem.  Used by vif and vtpm specs. */
struct kv {
	const char *k, *v;
	size_t kn, vn;
};

static size_t split_kv(struct ps *ps, unsigned line, const char *key,
		       const char *spec, struct kv *kv, size_t max, bool *ok)
{
	const char *p = spec, *e, *eq;
	size_t n, count = 0;

	*ok = true;
	while (*p) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		n = (size_t)(e - p);
		trim(&p, &n);
		if (n) {
			eq = memchr(p, '=', n);
			if (!eq || eq == p) {
				perr(ps, line,
				     "%s: expected KEY=VALUE, got "
				     "'%.*s'",
				     key, (int)n, p);
				*ok = false;
				return 0;
			}
			if (count == max) {
				perr(ps, line, "%s: too many parameters", key);
				*ok = false;
				return 0;
			}
			kv[count].k = p;
			kv[count].kn = (size_t)(eq - p);
			kv[count].v = eq + 1;
			kv[count].vn = n - kv[count].kn - 1;
			trim(&kv[count].v, &kv[count].vn);
			count++;
		}
		p = *e ? e + 1 : e;
	}
	return count;
}

static bool mac_ok(const char *v, size_t n)
{
	size_t i;

	if (n != 17)
		return false;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? v[i] != ':' : hexval(v[i]) < 0)
			return false;
	return true;
}

/* A bridge is 1-15 of [A-Za-z0-9_-]; "BR.N" is VLAN N on it (Open
 * vSwitch's vif script syntax), "BR:N:M" a trunk, which one resource
 * label cannot describe. */
static bool vif_resource(struct ps *ps, unsigned line, const char *key,
			 struct xlcfg_vif *v)
{
	const char *br = v->bridge ? v->bridge : "xenbr0";
	const char *dot = strchr(br, '.');
	size_t n = dot ? (size_t)(dot - br) : strlen(br);
	char in[64], out[64], why[128];

	if (strchr(br, ':')) {
		perr(ps, line,
		     "%s: bridge '%s': VLAN trunks cannot be "
		     "labelled",
		     key, br);
		return false;
	}
	if (!n || n > 15 ||
	    strspn(br, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       "0123456789_-") != n) {
		perr(ps, line, "%s: bad bridge name '%s'", key, br);
		return false;
	}
	if (dot)
		snprintf(in, sizeof(in), "vlan:%.20s", dot + 1);
	else
		snprintf(in, sizeof(in), "bridge:%s", br);
	if ((dot && strlen(dot + 1) > 20) ||
	    xlcfg_canonical_resource(in, 0, out, sizeof(out), why,
				     sizeof(why)) != 0) {
		perr(ps, line, "%s: bad VLAN in bridge '%s' (1-4095)", key, br);
		return false;
	}
	v->resource = xstrdup(ps, out);
	return v->resource != NULL;
}

static bool parse_vif(struct ps *ps, const char *spec, unsigned line,
		      const char *key, struct xlcfg_vif *v)
{
	static const char *const ignored[] = {
		"rate",	 "mtu",	    "devid",	 "gatewaydev", "forwarddev",
		"accel", "trusted", "untrusted", "netdev",     "powerdomain",
	};
	struct kv kv[32];
	size_t n, i, j;
	char **field;
	bool ok;

	v->line = line;
	v->spec = xstrdup(ps, spec);
	n = split_kv(ps, line, key, spec, kv, 32, &ok);
	if (!ok)
		return false;
	for (i = 0; i < n; i++) {
		field = NULL;
		if (is_word(kv[i].k, kv[i].kn, "mac"))
			field = &v->mac;
		else if (is_word(kv[i].k, kv[i].kn, "bridge"))
			field = &v->bridge;
		else if (is_word(kv[i].k, kv[i].kn, "ip"))
			field = &v->ip;
		else if (is_word(kv[i].k, kv[i].kn, "backend"))
			field = &v->backend;
		else if (is_word(kv[i].k, kv[i].kn, "vifname"))
			field = &v->vifname;
		else if (is_word(kv[i].k, kv[i].kn, "script"))
			field = &v->script;
		else if (is_word(kv[i].k, kv[i].kn, "model"))
			field = &v->model;
		else if (is_word(kv[i].k, kv[i].kn, "type"))
			field = &v->type;
		if (!field) {
			for (j = 0; j < sizeof(ignored) / sizeof(ignored[0]);
			     j++)
				if (is_word(kv[i].k, kv[i].kn, ignored[j]))
					break;
			if (j == sizeof(ignored) / sizeof(ignored[0]))
				pwarn(ps, line,
				      "%s: unknown parameter '%.*s' "
				      "ignored",
				      key, (int)kv[i].kn, kv[i].k);
			continue;
		}
		if (*field) {
			perr(ps, line, "%s: %.*s given twice", key,
			     (int)kv[i].kn, kv[i].k);
			return false;
		}
		*field = xstrndup(ps, kv[i].v, kv[i].vn);
		if (!*field)
			return false;
	}
	if (v->mac && !mac_ok(v->mac, strlen(v->mac))) {
		perr(ps, line, "%s: bad mac '%s' (xx:xx:xx:xx:xx:xx)", key,
		     v->mac);
		return false;
	}
	return vif_resource(ps, line, key, v);
}

static bool parse_vtpm(struct ps *ps, const char *spec, unsigned line,
		       const char *key, struct xlcfg_vtpm *t)
{
	struct kv kv[16];
	uint8_t bytes[16];
	char given[37], canon[37], res[48];
	size_t n, i;
	bool ok;

	t->line = line;
	t->spec = xstrdup(ps, spec);
	n = split_kv(ps, line, key, spec, kv, 16, &ok);
	if (!ok)
		return false;
	for (i = 0; i < n; i++) {
		if (is_word(kv[i].k, kv[i].kn, "backend")) {
			if (t->backend || !kv[i].vn) {
				perr(ps, line,
				     "%s: backend given twice or "
				     "empty",
				     key);
				return false;
			}
			t->backend = xstrndup(ps, kv[i].v, kv[i].vn);
		} else if (is_word(kv[i].k, kv[i].kn, "uuid")) {
			if (t->uuid) {
				perr(ps, line, "%s: uuid given twice", key);
				return false;
			}
			snprintf(given, sizeof(given), "%.*s",
				 (int)(kv[i].vn < 36 ? kv[i].vn : 36), kv[i].v);
			if (kv[i].vn != 36 ||
			    !parse_uuid(given, bytes, canon)) {
				perr(ps, line, "%s: '%.*s' is not a UUID", key,
				     (int)kv[i].vn, kv[i].v);
				return false;
			}
			t->uuid = xstrdup(ps, canon);
			snprintf(res, sizeof(res), "vtpm:%s", canon);
			t->resource = xstrdup(ps, res);
		} else if (is_word(kv[i].k, kv[i].kn, "backend_label")) {
			if (t->backend_label || !kv[i].vn) {
				perr(ps, line,
				     "%s: backend_label given twice or empty",
				     key);
				return false;
			}
			t->backend_label = xstrndup(ps, kv[i].v, kv[i].vn);
		} else if (is_word(kv[i].k, kv[i].kn, "manager")) {
			if (t->manager) {
				perr(ps, line, "%s: manager given twice", key);
				return false;
			}
			if (is_word(kv[i].v, kv[i].vn, "yes"))
				t->manager = 1;
			else if (is_word(kv[i].v, kv[i].vn, "no"))
				t->manager = -1;
			else {
				perr(ps, line,
				     "%s: manager='%.*s': expected yes or no",
				     key, (int)kv[i].vn, kv[i].v ? kv[i].v : "");
				return false;
			}
		} else {
			pwarn(ps, line, "%s: unknown parameter '%.*s' ignored",
			      key, (int)kv[i].kn, kv[i].k);
		}
	}
	return !ps->stop;
}

/* A list of strings, each parsed by fn into an array of `size` bytes. */
static bool device_list(struct ps *ps, const struct setting *s, void **arr,
			size_t *count, size_t size,
			bool (*fn)(struct ps *, const char *, unsigned,
				   const char *, void *))
{
	char key[KEY_MAX + 16];
	bool ok = true;
	size_t i;
	char *a;

	if (s->v.kind != V_LIST) {
		perr(ps, s->line, "%s: expected a list [ '...', ... ], got %s",
		     s->key, kind_name(s->v.kind));
		return false;
	}
	a = calloc(s->v.n ? s->v.n : 1, size);
	if (!a) {
		oom(ps);
		return false;
	}
	*arr = a;
	*count = s->v.n;
	for (i = 0; i < s->v.n && !ps->stop; i++) {
		const struct val *it = &s->v.items[i];

		snprintf(key, sizeof(key), "%s[%zu]", s->key, i);
		if (it->kind != V_STR) {
			perr(ps, it->line, "%s: expected a string, got %s", key,
			     kind_name(it->kind));
			ok = false;
			continue;
		}
		ok &= fn(ps, it->s, it->line, key, a + i * size);
	}
	return ok;
}

static bool disk_fn(struct ps *ps, const char *spec, unsigned line,
		    const char *key, void *out)
{
	return parse_disk(ps, spec, line, key, out);
}

static bool vif_fn(struct ps *ps, const char *spec, unsigned line,
		   const char *key, void *out)
{
	return parse_vif(ps, spec, line, key, out);
}

static bool vtpm_fn(struct ps *ps, const char *spec, unsigned line,
		    const char *key, void *out)
{
	return parse_vtpm(ps, spec, line, key, out);
}

static bool key_disk(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	void *arr = NULL;
	bool ok = device_list(ps, s, &arr, &c->n_disks, sizeof(*c->disks),
			      disk_fn);

	c->disks = arr;
	return ok;
}

static bool key_vif(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	void *arr = NULL;
	bool ok =
		device_list(ps, s, &arr, &c->n_vifs, sizeof(*c->vifs), vif_fn);

	c->vifs = arr;
	return ok;
}

static bool key_vtpm(struct ps *ps, const struct setting *s, struct xlcfg *c)
{
	void *arr = NULL;
	bool ok = device_list(ps, s, &arr, &c->n_vtpms, sizeof(*c->vtpms),
			      vtpm_fn);

	c->vtpms = arr;
	return ok;
}

/* ------------------------------------------------------------ the keys */

static const struct keyspec {
	const char *key;
	bool (*fn)(struct ps *, const struct setting *, struct xlcfg *);
} keyspecs[] = {
	{"name", key_name},
	{"uuid", key_uuid},
	{"type", key_type},
	{"kernel", key_kernel},
	{"extra", key_extra},
	{"ramdisk", key_ramdisk},
	{"cmdline", key_cmdline},
	{"root", key_root},
	{"memory", key_memory},
	{"maxmem", key_maxmem},
	{"vcpus", key_vcpus},
	{"maxvcpus", key_maxvcpus},
	{"on_poweroff", key_on_poweroff},
	{"on_reboot", key_on_reboot},
	{"on_watchdog", key_on_watchdog},
	{"on_crash", key_on_crash},
	{"on_soft_reset", key_on_soft_reset},
	{"seclabel", key_seclabel},
	{"access_control", key_access_control},
	{"disk", key_disk},
	{"vif", key_vif},
	{"vtpm", key_vtpm},
};

static void interpret(struct ps *ps, struct xlcfg *c)
{
	const struct setting *s;
	size_t i, k;

	for (i = 0; i < ps->n_set && !ps->stop; i++) {
		s = &ps->set[i];
		for (k = 0; k < sizeof(keyspecs) / sizeof(keyspecs[0]); k++)
			if (strcmp(s->key, keyspecs[k].key) == 0)
				break;
		if (k == sizeof(keyspecs) / sizeof(keyspecs[0])) {
			pwarn(ps, s->line, "unknown key '%s' ignored", s->key);
			continue;
		}
		keyspecs[k].fn(ps, s, c);
	}
	if (ps->stop)
		return;

	/* What only the whole file can tell. */
	if (!find_setting(ps, "name"))
		perr(ps, 0, "name: missing (every domain needs a name)");
	if (!find_setting(ps, "kernel"))
		perr(ps, 0, "kernel: missing (the guest program to run)");
	if (c->memory && c->maxmem && c->maxmem < c->memory)
		perr(ps, find_setting(ps, "maxmem")->line,
		     "maxmem: %llu is less than memory (%llu)",
		     (unsigned long long)c->maxmem,
		     (unsigned long long)c->memory);
	if (c->vcpus && c->maxvcpus && c->maxvcpus < c->vcpus)
		perr(ps, find_setting(ps, "maxvcpus")->line,
		     "maxvcpus: %u is less than vcpus (%u)", c->maxvcpus,
		     c->vcpus);
	if (ps->sec.policy && ps->acc.policy &&
	    (strcmp(ps->sec.policy, ps->acc.policy) != 0 ||
	     strcmp(ps->sec.label, ps->acc.label) != 0))
		perr(ps, ps->sec.line,
		     "seclabel: 'ACM:%s:%s' disagrees with access_control "
		     "on line %u (policy=%s,label=%s)",
		     ps->sec.policy, ps->sec.label, ps->acc.line,
		     ps->acc.policy, ps->acc.label);
}

/* ------------------------------------------------------------ entry */

void xlcfg_free(struct xlcfg *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; c->disks && i < c->n_disks; i++) {
		struct xlcfg_disk *d = &c->disks[i];

		free(d->spec);
		free(d->target);
		free(d->resource);
		free(d->vdev);
		free(d->backend);
		free(d->backendtype);
		free(d->script);
	}
	for (i = 0; c->vifs && i < c->n_vifs; i++) {
		struct xlcfg_vif *v = &c->vifs[i];

		free(v->spec);
		free(v->mac);
		free(v->bridge);
		free(v->ip);
		free(v->backend);
		free(v->vifname);
		free(v->script);
		free(v->model);
		free(v->type);
		free(v->resource);
	}
	for (i = 0; c->vtpms && i < c->n_vtpms; i++) {
		free(c->vtpms[i].spec);
		free(c->vtpms[i].backend);
		free(c->vtpms[i].backend_label);
		free(c->vtpms[i].uuid);
		free(c->vtpms[i].resource);
	}
	free(c->disks);
	free(c->vifs);
	free(c->vtpms);
	free(c->path);
	free(c->name);
	free(c->type);
	free(c->kernel);
	free(c->extra);
	free(c->ramdisk);
	free(c->cmdline);
	free(c->root);
	free(c->policy);
	free(c->label);
	memset(c, 0, sizeof(*c));
}

static void label_src_free(struct label_src *ls)
{
	free(ls->policy);
	free(ls->label);
	memset(ls, 0, sizeof(*ls));
}

int xlcfg_parse_mem(const char *buf, size_t len, const char *path,
		    struct xlcfg *out, struct xlcfg_diags *d)
{
	struct ps ps = {0};
	struct label_src *ls;
	size_t errors_before, i;
	int ret = -1;

	if (!out || !d)
		return -1;
	memset(out, 0, sizeof(*out));
	ps.path = path ? path : "<config>";
	ps.d = d;
	ps.line = 1;
	errors_before = d->n_errors;

	if (!buf || !check_input(&ps, buf, len))
		goto out;
	ps.p = buf;
	ps.end = buf + len;
	while (!ps.stop && peek(&ps)->t != T_EOF)
		parse_statement(&ps);
	if (ps.have)
		drop(&ps);
	if (!ps.stop && d->n_errors == errors_before)
		interpret(&ps, out);
	if (ps.stop || d->n_errors != errors_before)
		goto out;

	ls = ps.sec.policy ? &ps.sec : &ps.acc;
	if (ls->policy) {
		out->has_label = true;
		out->policy = ls->policy;
		out->label = ls->label;
		out->label_line = ls->line;
		ls->policy = ls->label = NULL;
	}
	out->path = strdup(ps.path);
	if (!out->path) {
		oom(&ps);
		goto out;
	}
	ret = 0;
out:
	if (ret)
		xlcfg_free(out);
	label_src_free(&ps.sec);
	label_src_free(&ps.acc);
	for (i = 0; i < ps.n_set; i++) {
		free(ps.set[i].key);
		val_free(&ps.set[i].v);
	}
	free(ps.set);
	return ret;
}

int xlcfg_parse_file(const char *path, struct xlcfg *out, struct xlcfg_diags *d)
{
	struct ps ps = {0};
	char *buf = NULL;
	size_t n = 0, got;
	FILE *f;
	int ret = -1;

	if (!out || !d || !path)
		return -1;
	memset(out, 0, sizeof(*out));
	ps.path = path;
	ps.d = d;
	f = fopen(path, "rb");
	if (!f) {
		perr(&ps, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	/* One byte more than allowed, to tell "too large" from "at most". */
	buf = malloc(XLCFG_MAX_FILE + 1);
	if (!buf) {
		oom(&ps);
		goto out;
	}
	while ((got = fread(buf + n, 1, XLCFG_MAX_FILE + 1 - n, f)) > 0) {
		n += got;
		if (n > XLCFG_MAX_FILE)
			break;
	}
	if (ferror(f)) {
		perr(&ps, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	ret = xlcfg_parse_mem(buf, n, path, out, d);
out:
	free(buf);
	fclose(f);
	return ret;
}

/* ------------------------------------------------------------ resources */

static int fail(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Folds "//", "/./" and "/../" of an absolute path into out. */
static int fold_path(const char *in, char *out, size_t len, char *why,
		     size_t why_len)
{
	size_t o = 0, n;
	const char *p = in, *e;

	if (*p != '/')
		return fail(why, why_len, "'%s' is not an absolute path", in);
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (!o)
				return fail(why, why_len, "'%s' climbs above /",
					    in);
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--; /* the '/' before the component */
		} else {
			if (o + 1 + n + 1 > len)
				return fail(why, why_len,
					    "path longer than %zu bytes",
					    len - 1);
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	if (!o)
		return fail(why, why_len, "'%s' names the root directory", in);
	out[o] = '\0';
	return 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int canon_path(const char *kind, const char *path, bool dev,
		      unsigned flags, char *out, size_t out_len, char *why,
		      size_t why_len)
{
	char full[XLCFG_RESOURCE_MAX + 8], folded[XLCFG_RESOURCE_MAX];
	char *real;
	int n;

	if (!*path)
		return fail(why, why_len, "%s empty path", kind);
	if (has_control(path))
		return fail(why, why_len, "%s control character in the path",
			    kind);
	if (dev && *path != '/')
		n = snprintf(full, sizeof(full), "/dev/%s", path);
	else
		n = snprintf(full, sizeof(full), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return fail(why, why_len, "%s path too long", kind);
	if (fold_path(full, folded, sizeof(folded), why, why_len))
		return -1;
	if (flags & XLCFG_CANON_RESOLVE) {
		real = realpath(folded, NULL);
		if (!real)
			return fail(why, why_len, "%s%s: %s", kind, folded,
				    strerror(errno));
		n = snprintf(out, out_len, "%s%s", kind, real);
		free(real);
	} else {
		n = snprintf(out, out_len, "%s%s", kind, folded);
	}
	if (n < 0 || (size_t)n >= out_len)
		return fail(why, why_len, "%s resource name too long", kind);
	return 0;
}

int xlcfg_canonical_resource(const char *in, unsigned flags, char *out,
			     size_t out_len, char *why, size_t why_len)
{
	static const char *const file_prefixes[] = {
		"file:",  "tap:", "tap2:", "tapdisk:", "aio:",
		"ioemu:", "raw:", "qcow:", "qcow2:",   "vhd:",
	};
	const char *p = in;
	bool stripped;
	uint64_t v;
	size_t i, n;

	if (out_len)
		out[0] = '\0';
	if (why_len)
		why[0] = '\0';
	if (!in || !out || !out_len)
		return fail(why, why_len, "no resource");
	if (!strncmp(p, "vlan:", 5)) {
		p += 5;
		if (!*p || strspn(p, "0123456789") != strlen(p) ||
		    strlen(p) > 9 || !parse_u64(p, &v) || p[0] == '0' ||
		    v < 1 || v > 4095)
			return fail(why, why_len,
				    "'%s': a VLAN is a number 1-4095", in);
		n = (size_t)snprintf(out, out_len, "vlan:%llu",
				     (unsigned long long)v);
		return n < out_len ? 0 : fail(why, why_len, "too long");
	}
	if (!strncmp(p, "bridge:", 7)) {
		p += 7;
		n = strlen(p);
		if (!n || n > 15 ||
		    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			      "WXYZ0123456789_-.") != n)
			return fail(why, why_len,
				    "'%s': a bridge is 1-15 of "
				    "[A-Za-z0-9_.-]",
				    in);
		n = (size_t)snprintf(out, out_len, "bridge:%s", p);
		return n < out_len ? 0 : fail(why, why_len, "too long");
	}
	if (!strncmp(p, "vtpm:", 5)) {
		uint8_t b[16];
		char canon[37];

		if (!parse_uuid(p + 5, b, canon))
			return fail(why, why_len, "'%s': not a vTPM UUID", in);
		n = (size_t)snprintf(out, out_len, "vtpm:%s", canon);
		return n < out_len ? 0 : fail(why, why_len, "too long");
	}
	if (!strncmp(p, "phy:", 4))
		return canon_path("phy:", p + 4, true, flags, out, out_len, why,
				  why_len);
	/* file: and the deprecated prefixes of image files, stacked as in
	 * "tap:aio:/img". */
	do {
		stripped = false;
		for (i = 0;
		     i < sizeof(file_prefixes) / sizeof(file_prefixes[0]); i++)
			if (!strncmp(p, file_prefixes[i],
				     strlen(file_prefixes[i]))) {
				p += strlen(file_prefixes[i]);
				stripped = true;
			}
	} while (stripped);
	if (p != in)
		return canon_path("file:", p, false, flags, out, out_len, why,
				  why_len);
	if (*p == '/')
		return canon_path(strncmp(p, "/dev/", 5) ? "file:" : "phy:", p,
				  false, flags, out, out_len, why, why_len);
	return fail(why, why_len,
		    "'%s': unknown kind of resource (phy:, file:, vlan:, "
		    "bridge:, vtpm:)",
		    in);
}
