/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_xlcfg - libFuzzer harness for the xl-style domain config parser.
 *
 * Each input is parsed as a whole file; then, whatever came out, every
 * string the parser kept is read (so ASan sees any dangling or unterminated
 * one), every diagnostic must be "FILE:..." and the counts must add up,
 * and each line of the input is also tried as a resource name, as the
 * toolstack would try a name from the command line.  A config that parses
 * must carry what the parser promises: a name, a kernel, a vdev and a
 * canonical resource for every disk with a target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void check_config(const struct xlcfg *c)
{
	char out[XLCFG_RESOURCE_MAX], why[256];
	size_t i, sum = 0;

	if (!c->name || !c->kernel || !c->path)
		abort();
	if (c->has_label && (!c->policy || !c->label || !*c->label))
		abort();
	sum += touch(c->type) + touch(c->extra) + touch(c->ramdisk) +
	       touch(c->cmdline) + touch(c->root) + touch(c->uuid_str);
	for (i = 0; i < c->n_disks; i++) {
		const struct xlcfg_disk *d = &c->disks[i];

		if (!d->vdev || !d->target || !d->spec)
			abort();
		if (*d->target && !d->resource)
			abort();
		/* A canonical name is a fixed point. */
		if (d->resource &&
		    (xlcfg_canonical_resource(d->resource, 0, out, sizeof(out),
					      why, sizeof(why)) != 0 ||
		     strcmp(out, d->resource) != 0))
			abort();
		sum += touch(d->backend) + touch(d->backendtype);
	}
	for (i = 0; i < c->n_vifs; i++) {
		if (!c->vifs[i].resource)
			abort();
		sum += touch(c->vifs[i].mac) + touch(c->vifs[i].bridge) +
		       touch(c->vifs[i].ip) + touch(c->vifs[i].vifname);
	}
	for (i = 0; i < c->n_vtpms; i++)
		sum += touch(c->vtpms[i].uuid) + touch(c->vtpms[i].resource) +
		       touch(c->vtpms[i].backend);
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlcfg_diags d = {0};
	struct xlcfg c;
	char line[512], out[XLCFG_RESOURCE_MAX], why[256];
	size_t i, errors = 0, start = 0, n;
	int rc;

	rc = xlcfg_parse_mem((const char *)data, size, "f.cfg", &c, &d);
	for (i = 0; i < d.n; i++) {
		if (strncmp(d.v[i].text, "f.cfg", 5) != 0)
			abort();
		errors += d.v[i].error;
	}
	if (d.n > XLCFG_MAX_DIAGS + 1 || (rc == 0 && d.n_errors) ||
	    (rc != 0 && !d.n_errors && !d.oom) || errors > d.n_errors)
		abort();
	if (rc == 0)
		check_config(&c);
	xlcfg_free(&c);
	xlcfg_diags_free(&d);

	/* Each line as a resource name; a canonical result is canonical. */
	for (i = 0; i <= size && i < 65536; i++) {
		if (i < size && data[i] != '\n')
			continue;
		n = i - start < sizeof(line) - 1 ? i - start : sizeof(line) - 1;
		memcpy(line, data + start, n);
		line[n] = '\0';
		start = i + 1;
		if (strlen(line) != n)
			continue; /* a NUL inside: not a C string */
		if (xlcfg_canonical_resource(line, 0, out, sizeof(out), why,
					     sizeof(why)) == 0) {
			char again[XLCFG_RESOURCE_MAX];

			if (xlcfg_canonical_resource(out, 0, again,
						     sizeof(again), why,
						     sizeof(why)) != 0 ||
			    strcmp(again, out) != 0)
				abort();
		}
	}
	return 0;
}
