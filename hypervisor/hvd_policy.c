/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_policy.c - hvsecd's side of the hooks layer: boot policy, subjects,
 * the host state handed to updates and relabels, and the row remapping
 * after an update.
 *
 * The daemon owns the domains, the hooks layer owns the policy: a
 * domain's label row is stored here and remapped through the update
 * report's row_map in the same loop iteration as the update, so no
 * decision ever pairs a row with the wrong policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

/* Reads a whole policy file, bounded by the format's own limit. */
static int read_blob(const char *path, uint8_t **out, size_t *len, char *why,
		     size_t why_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot open %s: %s", path,
			 strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > ACM_MAX_POLICY_LEN) {
		snprintf(why, why_len, "%s: not a policy file of 1..%u bytes",
			 path, ACM_MAX_POLICY_LEN);
		rc = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, why_len, "%s: short read", path);
			rc = -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int hvd_policy_boot(struct hvd *d, const char *path, bool permissive)
{
	struct hooks_config cfg = {
		.mode = permissive ? HOOKS_PERMISSIVE : HOOKS_ENFORCING,
		.audit_log = d->audit_path,
	};
	struct hooks_report rep = {0};
	char why[256];
	int rc;

	rc = hooks_state_new(&d->hooks, &cfg);
	if (rc) {
		hvd_log("hooks: %s", strerror(-rc));
		return rc;
	}
	if (permissive)
		hvd_log("permissive mode: denials are logged, not enforced");
	if (!path) {
		rc = hooks_policy_load_default(d->hooks, &rep);
		if (rc) {
			hvd_log("built-in DEFAULT policy refused (%s): "
				"fail-closed, no guest will start",
				rep.message);
			snprintf(d->policy_failure, sizeof(d->policy_failure),
				 "%.120s", rep.message);
		} else {
			d->builtin_policy = true;
			hvd_log("no --policy given: using the built-in DEFAULT "
				"policy (dom0 SystemManagement, unlabeled "
				"guests allowed)");
		}
		hooks_report_release(&rep);
		return 0;
	}
	rc = read_blob(path, &d->blob, &d->blob_len, why, sizeof(why));
	if (rc) {
		hooks_policy_refused(d->hooks, why);
		snprintf(d->policy_failure, sizeof(d->policy_failure), "%.120s",
			 why);
		hvd_log("policy %s not loaded (%s): fail-closed, no guest "
			"will start",
			path, why);
		return 0;
	}
	rc = hooks_policy_load(d->hooks, d->blob, d->blob_len, &rep);
	if (rc) {
		snprintf(d->policy_failure, sizeof(d->policy_failure), "%.120s",
			 rep.message);
		hvd_log("policy %s refused (%s): fail-closed, no guest will "
			"start",
			path, rep.message);
		free(d->blob);
		d->blob = NULL;
		d->blob_len = 0;
	} else {
		struct acm_policy_info pi;

		acm_policy_info(hooks_policy(d->hooks), &pi);
		hvd_log("policy %s loaded: %s %u.%u, %u labels", path, pi.name,
			pi.version_major, pi.version_minor, pi.n_labels);
	}
	hooks_report_release(&rep);
	return 0;
}

void hvd_policy_fini(struct hvd *d)
{
	if (d->hooks)
		hooks_state_free(d->hooks);
	d->hooks = NULL;
	free(d->blob);
	d->blob = NULL;
}

struct hooks_subject hvd_subject(const struct hvd_domain *dom)
{
	struct hooks_subject s = {.domid = dom->domid, .label = dom->row};

	return s;
}

uint32_t hvd_label_ssidref(const struct hvd *d, acm_row_t row)
{
	const struct acm_policy *p = hooks_policy(d->hooks);
	struct acm_policy_info pi;

	if (!p || row == ACM_ROW_NONE)
		return 0;
	acm_policy_info(p, &pi);
	if (row >= pi.n_labels)
		return 0;
	return acm_label_id(p, row);
}

const char *hvd_label_name(const struct hvd *d, acm_row_t row)
{
	if (row == ACM_ROW_NONE)
		return NULL;
	return hooks_label_name(d->hooks, row);
}

int hvd_check_share(struct hvd *d, enum hooks_id id,
		    const struct hvd_domain *subj,
		    const struct hvd_domain *peer)
{
	struct hooks_subject a = hvd_subject(subj), b = hvd_subject(peer);
	int rc;

	rc = hooks_share(d->hooks, id, &a, &b);
	if (rc)
		d->st.denials++;
	return rc;
}

int hvd_check_labelled_res(struct hvd *d, const struct hooks_subject *subj,
			   enum hooks_res_class cls, const char *name,
			   const char **label, acm_row_t *row)
{
	const char *rl = hvd_reslabel_get(d, name);
	struct hooks_resource res = {
		.cls = cls, .name = name, .label = ACM_ROW_NONE};

	*label = rl;
	*row = ACM_ROW_NONE;
	if (!rl)
		return 0; /* no object of the policy (an unlabelled bridge) */
	res.label = hooks_label_find(d->hooks, ACM_LABEL_RESOURCE, rl);
	*row = res.label;
	return hooks_resource_use(d->hooks, subj, &res);
}

bool hvd_res_allowed(struct hvd *d, const struct hvd_domain *dom,
		     enum hooks_res_class cls, const char *name, acm_row_t row)
{
	struct hooks_subject s = hvd_subject(dom);
	struct hooks_resource res = {.cls = cls, .name = name, .label = row};
	enum hooks_mode mode = hooks_get_mode(d->hooks);
	int rc;

	/* Permissive mode would answer yes to everything; a validation asks
	 * what the policy says.  Nothing else runs in between (one thread). */
	hooks_set_mode(d->hooks, HOOKS_ENFORCING);
	hooks_set_dry_run(d->hooks, true);
	rc = hooks_resource_use(d->hooks, &s, &res);
	hooks_set_dry_run(d->hooks, false);
	hooks_set_mode(d->hooks, mode);
	return rc == 0;
}

/* ------------------------------------------------------------------ */
/* The host state for updates and relabels                             */

struct host_snap {
	struct acm_domain_ref *doms;
	struct acm_share_ref *shares;
	struct acm_resource_ref *res;
	size_t n_doms, n_shares, n_res;
	size_t cap_shares;
	/* Beside res[k]: the resource's name (pointing into the domain
	 * table, valid while the snapshot is) and the backend that
	 * connected it (HV_DOMID_INVALID: a disk of the create).  Only for
	 * the blockers' text. */
	const char **res_name;
	uint32_t *res_backend;
};

static int add_share(struct host_snap *h, uint32_t a, uint32_t b,
		     enum acm_hook hook)
{
	if (h->n_shares == h->cap_shares) {
		size_t cap = h->cap_shares ? h->cap_shares * 2 : 64;
		struct acm_share_ref *n = realloc(h->shares, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		h->shares = n;
		h->cap_shares = cap;
	}
	h->shares[h->n_shares++] =
		(struct acm_share_ref){.dom_a = a, .dom_b = b, .hook = hook};
	return 0;
}

/* Running domains, every bound channel once, every live (not orphaned)
 * mapping, every resource in use: the disks of the create, and every
 * labelled device connection (as its frontend's; an unlabelled resource
 * is no object of the policy, and a label the policy lacks was never
 * permitted, so neither can be validated against a policy). */
static int snapshot(struct hvd *d, struct host_snap *h)
{
	size_t cap = (size_t)(d->n_live + 1) * (HVD_RES_MAX + HV_DEV_PER_DOM);

	memset(h, 0, sizeof(*h));
	h->doms = calloc(d->n_live + 1, sizeof(*h->doms));
	h->res = calloc(cap, sizeof(*h->res));
	h->res_name = calloc(cap, sizeof(*h->res_name));
	h->res_backend = calloc(cap, sizeof(*h->res_backend));
	if (!h->doms || !h->res || !h->res_name || !h->res_backend)
		return -ENOMEM;
	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (!hvd_domain_running(dom) || h->n_doms > d->n_live)
			continue;
		h->doms[h->n_doms++] = (struct acm_domain_ref){
			.domid = dom->domid, .label = dom->row};
		for (uint32_t r = 0; r < dom->n_res; r++) {
			h->res_name[h->n_res] = dom->res[r].name;
			h->res_backend[h->n_res] = HV_DOMID_INVALID;
			h->res[h->n_res++] = (struct acm_resource_ref){
				.domid = dom->domid,
				.resource = dom->res[r].row};
		}
		for (uint32_t k = 0; dom->n_devs && k < HV_DEV_PER_DOM; k++) {
			const struct hvd_dev *dv = &dom->devs[k];

			if (!dv->used || !dv->labelled ||
			    dv->row == ACM_ROW_NONE)
				continue;
			h->res_name[h->n_res] = dv->name;
			h->res_backend[h->n_res] = dom->domid;
			h->res[h->n_res++] = (struct acm_resource_ref){
				.domid = dv->frontend, .resource = dv->row};
		}
		for (uint32_t p = 1; p < HV_EVTCHN_PORTS; p++) {
			const struct hvd_port *pt = &dom->ports[p];

			/* Each link once: from its side 0. */
			if (pt->status == HV_EVTCHNSTAT_INTERDOMAIN &&
			    pt->link && pt->side == 0 &&
			    add_share(h, dom->domid, pt->remote_dom,
				      ACM_HOOK_EVTCHN_INTERDOMAIN))
				return -ENOMEM;
		}
		for (uint32_t m = 0; m < HV_MAPS_PER_DOM; m++) {
			const struct hvd_map *mp = &dom->maps[m];

			if (mp->used && !mp->orphaned &&
			    add_share(h, dom->domid, mp->granter,
				      (mp->flags & HV_GNTMAP_READONLY)
					      ? ACM_HOOK_GNT_MAP_READ
					      : ACM_HOOK_GNT_MAP_WRITE))
				return -ENOMEM;
		}
	}
	return 0;
}

static void snapshot_free(struct host_snap *h)
{
	free(h->doms);
	free(h->shares);
	free(h->res);
	free(h->res_name);
	free(h->res_backend);
}

/* The engine names a resource blocker by (domain, resource label row);
 * the operator needs the resource.  The engine reports the resources in
 * use in the order it was given them, and its verdict depends on nothing
 * but that pair, so the n-th blocker of a pair is the n-th resource of
 * the pair in the snapshot. */
static void name_resource(const struct hooks_report *r, size_t i,
			  const struct host_snap *h, char *text, size_t len)
{
	const struct acm_blocker *b = &r->blockers[i].b;
	size_t nth = 0, l;

	if (b->kind != ACM_B_RESOURCE && b->kind != ACM_B_RESOURCE_IN_USE)
		return;
	for (size_t j = 0; j < i; j++)
		if (r->blockers[j].b.kind == b->kind &&
		    r->blockers[j].b.domid == b->domid &&
		    r->blockers[j].b.old_label == b->old_label)
			nth++;
	for (size_t k = 0; k < h->n_res; k++) {
		if (h->res[k].domid != b->domid ||
		    h->res[k].resource != b->old_label || nth--)
			continue;
		l = strnlen(text, len);
		if (h->res_backend[k] == HV_DOMID_INVALID)
			snprintf(text + l, len - l, ": %s", h->res_name[k]);
		else
			snprintf(text + l, len - l, ": %s via backend %u",
				 h->res_name[k], h->res_backend[k]);
		return;
	}
}

static void copy_blockers(const struct hooks_report *r,
			  const struct host_snap *h,
			  struct hv_ctl_update_rep *rep,
			  struct hv_ctl_blocker *blk)
{
	size_t n = r->n_blockers < HOOKS_MAX_BLOCKERS ? r->n_blockers
						      : HOOKS_MAX_BLOCKERS;

	if (n > HV_CTL_BLOCKERS_MAX)
		n = HV_CTL_BLOCKERS_MAX;
	rep->n_blockers = (uint32_t)r->n_blockers;
	rep->n_listed = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct acm_blocker *b = &r->blockers[i].b;

		memset(&blk[i], 0, sizeof(blk[i]));
		blk[i].kind = (uint32_t)b->kind;
		blk[i].domid =
			b->domid == UINT32_MAX ? HV_DOMID_INVALID : b->domid;
		blk[i].peer_domid = b->peer_domid == UINT32_MAX
					    ? HV_DOMID_INVALID
					    : b->peer_domid;
		blk[i].hook = b->kind == ACM_B_SHARING ? (uint32_t)b->hook
						       : UINT32_MAX;
		snprintf(blk[i].text, sizeof(blk[i].text), "%s",
			 r->blockers[i].text);
		name_resource(r, i, h, blk[i].text, sizeof(blk[i].text));
	}
}

/* F_REVOKE: closes the sharing that the dry run found would lose its
 * common type (channels closed on both ends, grants between the pair
 * ended so their mappings are orphaned), so that the real run can pass.
 * Pages already mapped stay mapped until unmapped: an fd cannot be taken
 * back from a process (docs/threat-model.md). */
static uint32_t revoke_sharing(struct hvd *d, const struct hooks_report *r)
{
	uint32_t n = 0;
	size_t listed = r->n_blockers < HOOKS_MAX_BLOCKERS ? r->n_blockers
							   : HOOKS_MAX_BLOCKERS;

	for (size_t i = 0; i < listed; i++) {
		const struct acm_blocker *b = &r->blockers[i].b;
		struct hvd_domain *x, *y;

		if (b->kind != ACM_B_SHARING)
			continue;
		x = hvd_domain_live(d, b->domid);
		y = hvd_domain_live(d, b->peer_domid);
		if (!x || !y)
			continue;
		n += hvd_evtchn_revoke_pair(d, x, y->domid);
		n += hvd_gnt_revoke_pair(d, x, y->domid);
		n += hvd_gnt_revoke_pair(d, y, x->domid);
		hvd_log("revoked sharing between domains %u and %u", x->domid,
			y->domid);
	}
	return n;
}

/* Only sharing blockers can be revoked; anything else still refuses. */
static bool only_sharing(const struct hooks_report *r)
{
	if (r->n_blockers > HOOKS_MAX_BLOCKERS)
		return false;
	for (size_t i = 0; i < r->n_blockers; i++)
		if (r->blockers[i].b.kind != ACM_B_SHARING)
			return false;
	return r->n_blockers > 0;
}

static acm_row_t remap(const struct hooks_report *r, acm_row_t row)
{
	if (row == ACM_ROW_NONE || row >= r->n_row_map)
		return ACM_ROW_NONE;
	return r->row_map[row];
}

int hvd_policy_update(struct hvd *d, const uint8_t *blob, size_t len,
		      uint32_t flags, struct hv_ctl_update_rep *rep,
		      struct hv_ctl_blocker *blk, char *why, size_t why_len)
{
	struct hooks_report r = {0};
	struct host_snap h;
	struct hooks_host host;
	bool had = hooks_has_policy(d->hooks);
	uint8_t *copy = NULL;
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(&h, 0, sizeof(h));
	copy = malloc(len);
	if (!copy) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(copy, blob, len);
	if ((flags & HV_CTL_POLICY_F_REVOKE) &&
	    !(flags & HV_CTL_POLICY_F_DRY_RUN) && had) {
		/* What would block it?  If only live sharing, close that. */
		rc = snapshot(d, &h);
		if (rc)
			goto out;
		host = (struct hooks_host){h.doms,     h.n_doms, h.shares,
					   h.n_shares, h.res,	 h.n_res};
		rc = hooks_policy_update(d->hooks, copy, len, &host,
					 HOOKS_DRY_RUN, &r);
		if (rc == -EBUSY && only_sharing(&r))
			rep->n_revoked = revoke_sharing(d, &r);
		hooks_report_release(&r);
		memset(&r, 0, sizeof(r));
		snapshot_free(&h);
	}
	rc = snapshot(d, &h);
	if (rc)
		goto out;
	host = (struct hooks_host){h.doms,     h.n_doms, h.shares,
				   h.n_shares, h.res,	 h.n_res};
	rc = hooks_policy_update(
		d->hooks, copy, len, &host,
		(flags & HV_CTL_POLICY_F_DRY_RUN) ? HOOKS_DRY_RUN : 0, &r);
	snprintf(why, why_len, "%s", r.message);
	copy_blockers(&r, &h, rep, blk);
	rep->generation = hooks_generation(d->hooks);
	if (rc || (flags & HV_CTL_POLICY_F_DRY_RUN))
		goto out;

	rep->applied = 1;
	free(d->blob);
	d->blob = copy;
	d->blob_len = len;
	copy = NULL;
	d->builtin_policy = false;
	d->policy_failure[0] = '\0';
	for (uint32_t i = 0; i <= HV_DOMID_MAX; i++) {
		struct hvd_domain *dom = d->doms[i];

		if (!dom)
			continue;
		if (had) {
			dom->row = remap(&r, dom->row);
			for (uint32_t k = 0; k < dom->n_res; k++)
				dom->res[k].row = remap(&r, dom->res[k].row);
			for (uint32_t k = 0; dom->n_devs && k < HV_DEV_PER_DOM;
			     k++) {
				struct hvd_dev *dv = &dom->devs[k];
				const char *rn;

				if (!dv->used || dv->row == ACM_ROW_NONE)
					continue;
				dv->row = remap(&r, dv->row);
				/* from= may have renamed the label. */
				rn = hvd_label_name(d, dv->row);
				if (rn)
					snprintf(dv->label, sizeof(dv->label),
						 "%s", rn);
			}
		}
		/* A label renamed by from= keeps its row; its name may have
		 * changed. */
		const char *ln = hvd_label_name(d, dom->row);
		if (ln && dom->label[0])
			snprintf(dom->label, sizeof(dom->label), "%s", ln);
	}
	if (!had) {
		/* Leaving the fail-closed state: dom0 gets the bootstrap
		 * label and is accounted like at boot. */
		struct hvd_domain *dom0 = d->doms[0];
		struct hooks_subject s;

		dom0->row = hooks_bootstrap_label(d->hooks);
		s = hvd_subject(dom0);
		dom0->accounted = hooks_domain_create(d->hooks, &s) == 0;
	}
	{
		const char *l0 = hvd_label_name(d, d->doms[0]->row);

		snprintf(d->doms[0]->label, sizeof(d->doms[0]->label), "%s",
			 l0 ? l0 : "");
	}
	hvd_log("policy updated: generation %llu",
		(unsigned long long)rep->generation);
out:
	hooks_report_release(&r);
	free(copy);
	snapshot_free(&h);
	return rc;
}

int hvd_policy_relabel(struct hvd *d, uint32_t domid, const char *label,
		       uint32_t flags, struct hv_ctl_update_rep *rep,
		       struct hv_ctl_blocker *blk, char *why, size_t why_len)
{
	struct hvd_domain *dom = hvd_domain_live(d, domid);
	struct hooks_report r = {0};
	struct host_snap h;
	struct hooks_host host;
	acm_row_t row;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (!dom) {
		snprintf(why, why_len, "no running domain %u", domid);
		return -ESRCH;
	}
	if (flags & ~HV_CTL_POLICY_F_ALL) {
		snprintf(why, why_len, "unknown relabel flags");
		return -EINVAL;
	}
	if (!hooks_has_policy(d->hooks)) {
		snprintf(why, why_len, "no policy loaded: %s",
			 hooks_no_policy_reason(d->hooks));
		return -ENOENT;
	}
	row = hooks_label_find(d->hooks, ACM_LABEL_VM, label);
	if (row == ACM_ROW_NONE) {
		snprintf(why, why_len, "%s is not a VM label of the policy",
			 label[0] ? label : ACM_UNLABELED);
		return -EINVAL;
	}
	if ((flags & HV_CTL_POLICY_F_REVOKE) &&
	    !(flags & HV_CTL_POLICY_F_DRY_RUN)) {
		rc = snapshot(d, &h);
		if (rc)
			goto out;
		host = (struct hooks_host){h.doms,     h.n_doms, h.shares,
					   h.n_shares, h.res,	 h.n_res};
		rc = hooks_relabel(d->hooks, &host, domid, row, HOOKS_DRY_RUN,
				   &r);
		if (rc == -EBUSY && only_sharing(&r))
			rep->n_revoked = revoke_sharing(d, &r);
		hooks_report_release(&r);
		memset(&r, 0, sizeof(r));
		snapshot_free(&h);
	}
	rc = snapshot(d, &h);
	if (rc)
		goto out;
	host = (struct hooks_host){h.doms,     h.n_doms, h.shares,
				   h.n_shares, h.res,	 h.n_res};
	rc = hooks_relabel(
		d->hooks, &host, domid, row,
		(flags & HV_CTL_POLICY_F_DRY_RUN) ? HOOKS_DRY_RUN : 0, &r);
	snprintf(why, why_len, "%s", r.message);
	copy_blockers(&r, &h, rep, blk);
	rep->generation = hooks_generation(d->hooks);
	if (rc || (flags & HV_CTL_POLICY_F_DRY_RUN))
		goto out;
	rep->applied = 1;
	dom->row = row;
	snprintf(dom->label, sizeof(dom->label), "%s",
		 hvd_label_name(d, row) ? hvd_label_name(d, row) : label);
	hvd_log("domain %u relabelled %s", domid, dom->label);
out:
	hooks_report_release(&r);
	snapshot_free(&h);
	return rc;
}
