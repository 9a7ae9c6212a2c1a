// SPDX-License-Identifier: BSD-2-Clause
/*
 * diag.c - diagnostics: a growing list of "FILE:LINE: severity: message".
 *
 * Every stage (XML front end, checks, emitter) reports through here so the
 * user sees one format whatever went wrong.  Adding a diagnostic never
 * fails visibly: when memory runs out the message is lost but the error
 * is still counted, so a caller testing n_errors cannot be fooled into
 * accepting a policy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-compiler/polc.h"

__attribute__((format(printf, 1, 0))) static char *
format_message(const char *fmt, va_list ap)
{
	va_list ap2;
	char *buf;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	buf = malloc((size_t)n + 1);
	if (!buf)
		return NULL;
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	return buf;
}

void polc_diag_add(struct polc_diags *d, enum polc_severity sev, unsigned line,
		   const char *fmt, ...)
{
	struct polc_diag *v;
	va_list ap;

	if (sev == POLC_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	v = &d->v[d->n++];
	v->severity = sev;
	v->line = line;
	va_start(ap, fmt);
	v->message = format_message(fmt, ap); /* NULL: printed as OOM */
	va_end(ap);
}

void polc_diags_print(const struct polc_diags *d, FILE *out)
{
	const char *path = d->path ? d->path : "<input>";
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct polc_diag *g = &d->v[i];
		const char *sev =
			g->severity == POLC_ERROR ? "error" : "warning";
		const char *msg =
			g->message ? g->message
				   : "(out of memory formatting message)";

		if (g->line)
			fprintf(out, "%s:%u: %s: %s\n", path, g->line, sev,
				msg);
		else
			fprintf(out, "%s: %s: %s\n", path, sev, msg);
	}
}

void polc_diags_free(struct polc_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].message);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
	d->n_errors = d->n_warnings = 0;
}
