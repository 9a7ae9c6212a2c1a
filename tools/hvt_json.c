/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_json.c - the JSON writer behind every --json.
 *
 * Names and labels come from policies, resource names and domain names
 * from whoever configured them, audit details from the daemon: any of
 * them may hold quotes, control characters or bytes that are not UTF-8.
 * Every string goes through one escaper so the output always parses.
 * Nesting deeper than HVT_JSON_DEPTH is a bug in the caller (assert).
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tools/hvsec.h"

void hvt_json_init(struct hvt_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

/* Before any value: the comma that separates it from the previous one. */
static void sep(struct hvt_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_(struct hvt_json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	assert(j->depth + 1 < HVT_JSON_DEPTH);
	j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct hvt_json *j, char c)
{
	assert(j->depth > 0);
	j->depth--;
	fputc(c, j->f);
}

void hvt_json_obj(struct hvt_json *j)
{
	open_(j, '{');
}

void hvt_json_obj_end(struct hvt_json *j)
{
	close_(j, '}');
}

void hvt_json_arr(struct hvt_json *j)
{
	open_(j, '[');
}

void hvt_json_arr_end(struct hvt_json *j)
{
	close_(j, ']');
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0u) != 0x80u)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not
	 * UTF-8, whatever their bit pattern. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

static void put_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	fputc('"', f);
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if ((k = utf8_len(p + i, n - i)) != 0) {
			fwrite(p + i, 1, k, f);
			i += k;
		} else {
			fputs("\\ufffd", f);
			i++;
		}
	}
	fputc('"', f);
}

void hvt_json_key(struct hvt_json *j, const char *k)
{
	sep(j);
	put_string(j->f, k, strlen(k));
	fputc(':', j->f);
	j->after_key = true;
}

void hvt_json_strn(struct hvt_json *j, const char *s, size_t n)
{
	sep(j);
	put_string(j->f, s, n);
}

void hvt_json_str(struct hvt_json *j, const char *s)
{
	if (!s) {
		hvt_json_null(j);
		return;
	}
	hvt_json_strn(j, s, strlen(s));
}

void hvt_json_u64(struct hvt_json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void hvt_json_i64(struct hvt_json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void hvt_json_bool(struct hvt_json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void hvt_json_null(struct hvt_json *j)
{
	sep(j);
	fputs("null", j->f);
}

void hvt_json_fixed(struct hvt_json *j, double v, int decimals)
{
	sep(j);
	/* JSON has no NaN or infinity; nothing we print can be one, but a
	 * bad value must not make the document invalid. */
	if (v != v || v > 1e300 || v < -1e300)
		v = 0;
	fprintf(j->f, "%.*f", decimals, v);
}

void hvt_json_end(struct hvt_json *j)
{
	assert(j->depth == 0);
	fputc('\n', j->f);
	j->first[0] = true;
}

void hvt_json_kstr(struct hvt_json *j, const char *k, const char *s)
{
	hvt_json_key(j, k);
	hvt_json_str(j, s);
}

void hvt_json_ku64(struct hvt_json *j, const char *k, uint64_t v)
{
	hvt_json_key(j, k);
	hvt_json_u64(j, v);
}

void hvt_json_ki64(struct hvt_json *j, const char *k, int64_t v)
{
	hvt_json_key(j, k);
	hvt_json_i64(j, v);
}

void hvt_json_kbool(struct hvt_json *j, const char *k, bool v)
{
	hvt_json_key(j, k);
	hvt_json_bool(j, v);
}
