/* SPDX-License-Identifier: BSD-2-Clause */
#include "tests/harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long th_passed, th_failed;

bool th_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;

	if (verbose < 0)
		verbose = getenv("TH_VERBOSE") != NULL;
	if (ok)
		th_passed++;
	else
		th_failed++;
	if (!ok || verbose) {
		fprintf(stderr, "%s: %s:%d: ", ok ? "ok" : "FAIL", file, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	return ok;
}

int th_done(void)
{
	printf("%lu passed, %lu failed\n", th_passed, th_failed);
	return th_failed ? 1 : 0;
}

const char *th_src_dir(void)
{
	const char *s = getenv("HVSEC_SRC");
	return s && *s ? s : ".";
}

uint8_t *th_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		goto fail;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	/* 8-aligned (malloc guarantees it) and never zero-sized. */
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto fail;
	fclose(f);
	*len = (size_t)n;
	return buf;
fail:
	fprintf(stderr, "FAIL: cannot read %s\n", path);
	if (f)
		fclose(f);
	free(buf);
	th_failed++;
	exit(th_done());
}
