/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_jsonr.c - a small JSON reader for the audit records the daemon
 * sends (JSON Lines, the hooks layer's format), so `hvsec audit` can print
 * them as compact lines without trusting their shape: every access is
 * bounded, nesting and string lengths are capped, and anything malformed
 * is an error the caller reports (it then shows the raw line).
 *
 * It does not build a tree: it reports each scalar with its dotted path,
 * which is all a printer of flat records needs.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

#define PATH_MAX_LEN 256u
#define STR_MAX	     8192u
#define DEPTH_MAX    8u

struct rd {
	const char *p, *end;
	char path[PATH_MAX_LEN];
	size_t path_len;
	char *str; /* STR_MAX + 1 bytes */
	hvt_jsonr_cb cb;
	void *ctx;
};

static void skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int put_cp(char *out, size_t *o, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp == 0)
		return -1; /* a NUL would cut the string short */
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	if (*o + n > STR_MAX)
		return -1;
	memcpy(out + *o, b, n);
	*o += n;
	return 0;
}

/* A string at r->p (the opening quote) decoded into r->str. */
static int read_string(struct rd *r)
{
	size_t o = 0;

	r->p++;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p;
		uint32_t cp, lo;

		if (c < 0x20)
			return -1;
		if (c != '\\') {
			if (o + 1 > STR_MAX)
				return -1;
			r->str[o++] = (char)c;
			r->p++;
			continue;
		}
		if (r->end - r->p < 2)
			return -1;
		switch (r->p[1]) {
		case '"':
			cp = '"';
			break;
		case '\\':
			cp = '\\';
			break;
		case '/':
			cp = '/';
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (r->end - r->p < 6 || hex4(r->p + 2, &cp))
				return -1;
			r->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->end - r->p < 8 || r->p[2] != '\\' ||
				    r->p[3] != 'u' || hex4(r->p + 4, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				r->p += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			break;
		default:
			return -1;
		}
		if (put_cp(r->str, &o, cp))
			return -1;
		r->p += 2;
	}
	if (r->p >= r->end)
		return -1;
	r->p++;
	r->str[o] = '\0';
	return 0;
}

static int push(struct rd *r, const char *name, size_t *saved)
{
	size_t n = strlen(name);

	*saved = r->path_len;
	if (r->path_len + (r->path_len ? 1 : 0) + n + 1 > sizeof(r->path))
		return -1;
	if (r->path_len)
		r->path[r->path_len++] = '.';
	memcpy(r->path + r->path_len, name, n);
	r->path_len += n;
	r->path[r->path_len] = '\0';
	return 0;
}

static void pop(struct rd *r, size_t saved)
{
	r->path_len = saved;
	r->path[saved] = '\0';
}

static int value(struct rd *r, unsigned depth);

static int object(struct rd *r, unsigned depth)
{
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		char key[PATH_MAX_LEN];
		size_t saved;

		skip_ws(r);
		if (r->p >= r->end || *r->p != '"' || read_string(r))
			return -1;
		if (strlen(r->str) >= sizeof(key))
			return -1;
		strcpy(key, r->str);
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			return -1;
		r->p++;
		if (push(r, key, &saved) || value(r, depth + 1))
			return -1;
		pop(r, saved);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		return -1;
	}
}

static int array(struct rd *r, unsigned depth)
{
	unsigned idx = 0;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		char key[16];
		size_t saved;

		snprintf(key, sizeof(key), "%u", idx++);
		if (push(r, key, &saved) || value(r, depth + 1))
			return -1;
		pop(r, saved);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return -1;
	}
}

static int literal(struct rd *r, const char *word, enum hvt_jtype t)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return -1;
	r->p += n;
	r->cb(r->ctx, r->path, t, word);
	return 0;
}

static int number(struct rd *r)
{
	const char *s = r->p;
	char buf[40];
	size_t n;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return -1;
	while (r->p < r->end &&
	       ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' ||
		*r->p == 'e' || *r->p == 'E' || *r->p == '+' || *r->p == '-'))
		r->p++;
	n = (size_t)(r->p - s);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* strtod checks the shape the loop above only skimmed */
	{
		char *e;

		strtod(buf, &e);
		if (*e)
			return -1;
	}
	r->cb(r->ctx, r->path, HVT_J_NUM, buf);
	return 0;
}

static int value(struct rd *r, unsigned depth)
{
	if (depth > DEPTH_MAX)
		return -1;
	skip_ws(r);
	if (r->p >= r->end)
		return -1;
	switch (*r->p) {
	case '{':
		return object(r, depth);
	case '[':
		return array(r, depth);
	case '"':
		if (read_string(r))
			return -1;
		r->cb(r->ctx, r->path, HVT_J_STR, r->str);
		return 0;
	case 't':
		return literal(r, "true", HVT_J_BOOL);
	case 'f':
		return literal(r, "false", HVT_J_BOOL);
	case 'n':
		return literal(r, "null", HVT_J_NULL);
	default:
		return number(r);
	}
}

int hvt_jsonr_walk(const char *text, size_t len, hvt_jsonr_cb cb, void *ctx)
{
	struct rd r = {.p = text, .end = text + len, .cb = cb, .ctx = ctx};
	int rc;

	r.str = malloc(STR_MAX + 1);
	if (!r.str)
		return -1;
	rc = value(&r, 0);
	if (!rc) {
		skip_ws(&r);
		if (r.p != r.end)
			rc = -1; /* trailing bytes */
	}
	free(r.str);
	return rc;
}
