/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_reslabel.c - the resource-label store: which resource label a disk,
 * vif or vTPM resource ("file:/img", "phy:/dev/sdb") carries.
 *
 * The daemon owns it, not the toolstack, so that the label a backend is
 * checked against at connect time is the one dom0 set through the control
 * socket and nothing a guest can write (xm kept it in a file in dom0).
 * Persisted as "resource<TAB>label" lines in RUN_DIR/resource-labels,
 * rewritten atomically on every change.  Labels are names only: whether
 * the policy has them is decided at use (a label the policy lacks denies).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

#define RES_MAX 4096u

static bool res_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int save(struct hvd *d)
{
	char tmp[4200];
	FILE *f;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->reslabel_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	for (size_t i = 0; i < d->n_reslabels; i++)
		fprintf(f, "%s\t%s\n", d->reslabels[i].resource,
			d->reslabels[i].label);
	if (fflush(f) || fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, d->reslabel_path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static struct hvd_reslabel *find(const struct hvd *d, const char *res)
{
	for (size_t i = 0; i < d->n_reslabels; i++)
		if (!strcmp(d->reslabels[i].resource, res))
			return &d->reslabels[i];
	return NULL;
}

static int put(struct hvd *d, const char *res, const char *label)
{
	struct hvd_reslabel *r = find(d, res);
	char *l = strdup(label);

	if (!l)
		return -ENOMEM;
	if (r) {
		free(r->label);
		r->label = l;
		return 0;
	}
	if (d->n_reslabels == RES_MAX) {
		free(l);
		return -ENOSPC;
	}
	if (d->n_reslabels == d->cap_reslabels) {
		size_t cap = d->cap_reslabels ? d->cap_reslabels * 2 : 16;
		struct hvd_reslabel *n =
			realloc(d->reslabels, cap * sizeof(*n));

		if (!n) {
			free(l);
			return -ENOMEM;
		}
		d->reslabels = n;
		d->cap_reslabels = cap;
	}
	r = &d->reslabels[d->n_reslabels];
	r->resource = strdup(res);
	if (!r->resource) {
		free(l);
		return -ENOMEM;
	}
	r->label = l;
	d->n_reslabels++;
	return 0;
}

int hvd_reslabel_load(struct hvd *d)
{
	FILE *f = fopen(d->reslabel_path, "re");
	char line[HV_CTL_STR_MAX + HV_NAME_LEN + 4];
	int rc = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');

		if (!tab || !nl)
			continue; /* not ours: skip rather than guess */
		*tab = *nl = '\0';
		if (res_name_ok(line, HV_CTL_STR_MAX) &&
		    res_name_ok(tab + 1, HV_NAME_LEN - 1)) {
			rc = put(d, line, tab + 1);
			if (rc)
				break;
		}
	}
	fclose(f);
	return rc;
}

int hvd_reslabel_set(struct hvd *d, const char *res, const char *label)
{
	int rc;

	if (!res_name_ok(res, HV_CTL_STR_MAX) ||
	    !res_name_ok(label, HV_NAME_LEN - 1) || strchr(res, '\t') ||
	    strchr(label, '\t'))
		return -EINVAL;
	rc = put(d, res, label);
	return rc ? rc : save(d);
}

int hvd_reslabel_rm(struct hvd *d, const char *res)
{
	struct hvd_reslabel *r = find(d, res);

	if (!r)
		return -ENOENT;
	free(r->resource);
	free(r->label);
	*r = d->reslabels[--d->n_reslabels];
	return save(d);
}

const char *hvd_reslabel_get(const struct hvd *d, const char *res)
{
	struct hvd_reslabel *r = find(d, res);

	return r ? r->label : NULL;
}

void hvd_reslabel_free(struct hvd *d)
{
	for (size_t i = 0; i < d->n_reslabels; i++) {
		free(d->reslabels[i].resource);
		free(d->reslabels[i].label);
	}
	free(d->reslabels);
	d->reslabels = NULL;
	d->n_reslabels = d->cap_reslabels = 0;
}
