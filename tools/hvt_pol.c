/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_pol.c - binary policies on the toolstack's side: the one the daemon
 * enforces (POLICY_GET hands us a sealed copy of the blob) or a file, each
 * verified by the engine's own loader.  Reading labels needs nothing
 * more; a private engine context also lets the tool explain a decision
 * the daemon made (which running domain a Chinese-Wall denial is about),
 * with exactly the rules the daemon applies.  The daemon stays the only
 * place that decides what actually runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/hv_sock.h"
#include "tools/hvsec.h"


static int reset_ctx(struct hvt_policy *pol)
{
	struct acm_ctx_config cfg = {0};

	/* No cache: a handful of decisions, each asked once. */
	return acm_ctx_init(&pol->ctx, pol->p, &cfg, pol->ctx_mem,
			    acm_ctx_mem_size(pol->p, &cfg)) == ACM_OK
		       ? 0
		       : -1;
}

int hvt_policy_open(struct hvt_policy *pol, const char *what)
{
	struct acm_load_error where = {0};
	struct acm_ctx_config cfg = {0};
	enum acm_err e;
	size_t need = 0;

	e = acm_policy_measure(pol->blob, pol->len, &need, &where);
	if (e != ACM_OK)
		goto bad;
	/* malloc's alignment covers the engine's 8 bytes. */
	pol->mem = malloc(need ? need : 8);
	if (!pol->mem)
		goto oom;
	e = acm_policy_load(pol->blob, pol->len, pol->mem, need, &pol->p,
			    &where);
	if (e != ACM_OK)
		goto bad;
	acm_policy_info(pol->p, &pol->info);
	pol->ctx_mem = malloc(acm_ctx_mem_size(pol->p, &cfg) + 8);
	if (!pol->ctx_mem)
		goto oom;
	if (reset_ctx(pol))
		goto oom;
	return 0;
oom:
	hvt_err("out of memory");
	return HVT_DAEMON;
bad:
	pol->p = NULL;
	if (where.offset)
		hvt_err("%s: byte %u: %s", what, (unsigned)where.offset,
			acm_strerror(e));
	else
		hvt_err("%s: %s", what, acm_strerror(e));
	return HVT_USAGE;
}

int hvt_policy_file(const char *path, struct hvt_policy *pol)
{
	int fd, rc;

	memset(pol, 0, sizeof(*pol));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hvt_err("%s: %s", path, strerror(errno));
		return HVT_USAGE;
	}
	rc = hv_read_fd_all(fd, ACM_MAX_POLICY_LEN, &pol->blob, &pol->len);
	close(fd);
	if (rc) {
		hvt_err("%s: %s", path,
			rc == -EFBIG ? "larger than a policy may be"
				     : strerror(-rc));
		return HVT_USAGE;
	}
	rc = hvt_policy_open(pol, path);
	if (rc)
		hvt_policy_free(pol);
	return rc;
}

int hvt_policy_fetch(struct hvt *t, struct hvt_policy *pol)
{
	int rc, fd;

	memset(pol, 0, sizeof(*pol));
	rc = hvt_call(t, HV_CTL_POLICY_GET, NULL, 0, NULL, 0);
	if (rc)
		return hvt_fail(t, "policy", rc);
	if (t->resp->body_len != sizeof(pol->dinfo)) {
		hvt_err("hvsecd sent policy information of %zu bytes",
			t->resp->body_len);
		return HVT_DAEMON;
	}
	memcpy(&pol->dinfo, t->resp->body, sizeof(pol->dinfo));
	pol->dinfo.name[sizeof(pol->dinfo.name) - 1] = '\0';
	pol->dinfo.failure[sizeof(pol->dinfo.failure) - 1] = '\0';
	pol->from_daemon = true;
	if (t->resp->nfds == 0)
		return 0; /* fail-closed: there is no policy to read */
	fd = t->resp->fds[0];
	t->resp->fds[0] = -1;
	hv_ctl_resp_release(t->resp);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		hvt_err("the policy from hvsecd: %s", strerror(errno));
		return HVT_DAEMON;
	}
	rc = hv_read_fd_all(fd, ACM_MAX_POLICY_LEN, &pol->blob, &pol->len);
	close(fd);
	if (rc) {
		hvt_err("the policy from hvsecd: %s", strerror(-rc));
		return HVT_DAEMON;
	}
	/* The daemon verified it; a failure here is a mismatch between
	 * the daemon and this tool's engine, which is the daemon's side. */
	rc = hvt_policy_open(pol, "the policy from hvsecd");
	if (rc) {
		hvt_policy_free(pol);
		return HVT_DAEMON;
	}
	return 0;
}

void hvt_policy_free(struct hvt_policy *pol)
{
	free(pol->ctx_mem);
	free(pol->mem);
	free(pol->blob);
	memset(pol, 0, sizeof(*pol));
}

acm_row_t hvt_label_row(const struct hvt_policy *pol, enum acm_label_kind kind,
			const char *name)
{
	if (!pol->p)
		return ACM_ROW_NONE;
	if (!name || !*name)
		name = ACM_UNLABELED;
	return acm_label_find(pol->p, kind, name);
}

const char *hvt_kind_word(enum acm_label_kind k)
{
	return k == ACM_LABEL_VM ? "dom" : "res";
}

static const char *row_name(const struct hvt_policy *pol, acm_row_t r)
{
	const char *n = pol->p ? acm_label_name(pol->p, r) : NULL;

	return n ? n : "(no label)";
}

static const char *ste(const struct hvt_policy *pol, acm_type_t t)
{
	const char *n = acm_ste_type_name(pol->p, t);

	return n ? n : "?";
}

static const char *cw(const struct hvt_policy *pol, acm_type_t t)
{
	const char *n = acm_cw_type_name(pol->p, t);

	return n ? n : "?";
}

void hvt_explain(const struct hvt_policy *pol, const struct acm_verdict *v,
		 acm_row_t a, acm_row_t b, char *buf, size_t len)
{
	const char *na = row_name(pol, a), *nb = row_name(pol, b);
	const char *set;

	switch (v->reason) {
	case ACM_R_SHARED_TYPE:
		snprintf(buf, len, "%s and %s share type %s", na, nb,
			 ste(pol, v->type_a));
		return;
	case ACM_R_NO_SHARED_TYPE:
		snprintf(buf, len, "%s and %s have no STE type in common", na,
			 nb);
		return;
	case ACM_R_SUPERSET:
		snprintf(buf, len, "host label %s holds every type of %s", na,
			 nb);
		return;
	case ACM_R_NOT_SUPERSET:
		snprintf(buf, len, "host label %s lacks type %s of %s", na,
			 ste(pol, v->type_a), nb);
		return;
	case ACM_R_INACCESSIBLE:
		snprintf(buf, len, "%s is usable by no domain", nb);
		return;
	case ACM_R_CHWALL_OK:
		snprintf(buf, len, "%s conflicts with nothing running", na);
		return;
	case ACM_R_CHWALL_CONFLICT:
		set = acm_conflict_set_name(pol->p, v->set);
		snprintf(buf, len,
			 "type %s conflicts with running type %s "
			 "(conflict set %s)",
			 cw(pol, v->type_a), cw(pol, v->type_b),
			 set ? set : "?");
		return;
	case ACM_R_CHWALL_HISTORY:
		snprintf(buf, len,
			 "type %s is excluded by a domain that ran before",
			 cw(pol, v->type_a));
		return;
	case ACM_R_BAD_LABEL:
		snprintf(buf, len, "%s or %s is not a label of that kind", na,
			 nb);
		return;
	case ACM_R_UNLABELED_REFUSED:
		snprintf(buf, len,
			 "unlabelled, and the policy has no "
			 "__UNLABELED__ label");
		return;
	case ACM_R_NO_POLICY_COMPONENT:
		snprintf(buf, len, "the policy does not restrict this");
		return;
	case ACM_R__COUNT:
		break;
	}
	snprintf(buf, len, "%s", acm_reason_name(v->reason));
}

void hvt_chwall_why(struct hvt_policy *pol, acm_row_t vm,
		    const struct hv_ctl_domain_info *doms, size_t n, char *buf,
		    size_t len)
{
	acm_row_t *rows;
	size_t n_rows = 0, n_holders = 0;
	struct acm_verdict v;
	const struct hv_ctl_domain_info *holder = NULL;
	const char *set;

	buf[0] = '\0';
	if (!pol->p || reset_ctx(pol))
		return;
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++) {
		acm_row_t r;

		if (!hvt_domain_live(&doms[i]))
			continue;
		r = hvt_label_row(pol, ACM_LABEL_VM, doms[i].label);
		if (r != ACM_ROW_NONE)
			rows[n_rows++] = r;
	}
	if (acm_ctx_adopt_running(pol->ctx, rows, n_rows, &v) != ACM_OK)
		goto out;
	acm_domain_create_prepare(pol->ctx, vm, &v);
	if (v.decision == ACM_PERMIT)
		goto out;
	if (v.reason != ACM_R_CHWALL_CONFLICT) {
		hvt_explain(pol, &v, vm, ACM_ROW_NONE, buf, len);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		acm_row_t r;

		if (!hvt_domain_live(&doms[i]))
			continue;
		r = hvt_label_row(pol, ACM_LABEL_VM, doms[i].label);
		if (r != ACM_ROW_NONE &&
		    acm_label_has_cw(pol->p, r, v.type_b)) {
			if (!holder)
				holder = &doms[i];
			n_holders++;
		}
	}
	set = acm_conflict_set_name(pol->p, v.set);
	if (holder && n_holders > 1)
		snprintf(buf, len,
			 "type %s conflicts with type %s of running domain "
			 "%s (id %u) and %zu other%s, in conflict set %s",
			 cw(pol, v.type_a), cw(pol, v.type_b), holder->name,
			 holder->domid, n_holders - 1, n_holders > 2 ? "s" : "",
			 set ? set : "?");
	else if (holder)
		snprintf(buf, len,
			 "type %s conflicts with type %s of running domain "
			 "%s (id %u) in conflict set %s",
			 cw(pol, v.type_a), cw(pol, v.type_b), holder->name,
			 holder->domid, set ? set : "?");
	else
		hvt_explain(pol, &v, vm, ACM_ROW_NONE, buf, len);
out:
	free(rows);
	/* Leave a clean context for whoever asks next. */
	reset_ctx(pol);
}
