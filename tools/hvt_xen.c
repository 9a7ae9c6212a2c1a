/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_xen.c - `hvsec` on the xen platform: which platform a run talks to,
 * the recorded policy, and the commands that work against Xen's ACM module
 * (hvt_xen.h).  Xen is asked through the backend (hvt_xen_ctrl.c over
 * libxenctrl); everything that needs the policy's contents is answered
 * here from the recorded copy with the acm/ engine, after Xen confirmed
 * that the copy is what it runs.  Xen stays the only place that decides:
 * a local "blocked" only spares it a call that it would refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/hvt_xen.h"

#define MAX_BLOCKERS 32

/* ------------------------------------------------------- platform choice */

const char *hvt_platform_name(enum hvt_platform p)
{
	return p == HVT_PLAT_XEN ? "xen" : "model";
}

static int pick_word(const char *w, const char *src, enum hvt_platform *out,
		     char *why, size_t len)
{
	if (!strcmp(w, "model")) {
		*out = HVT_PLAT_MODEL;
	} else if (!strcmp(w, "xen")) {
		*out = HVT_PLAT_XEN;
	} else {
		snprintf(why, len, "%s: '%s' is not model, xen or auto", src,
			 w);
		return -1;
	}
	snprintf(why, len, "chosen by %s", src);
	return 0;
}

int hvt_platform_pick(const struct hvt_plat_in *in, enum hvt_platform *out,
		      char *why, size_t why_len)
{
	*out = HVT_PLAT_MODEL;
	if (in->option && strcmp(in->option, "auto"))
		return pick_word(in->option, "--platform", out, why, why_len);
	if (!in->option && in->env && *in->env && strcmp(in->env, "auto"))
		return pick_word(in->env, "$" HVT_PLATFORM_ENV, out, why,
				 why_len);
	if (!in->privcmd_exists)
		snprintf(why, why_len, "auto: no Xen privcmd device here");
	else if (in->run_dir_given)
		snprintf(why, why_len,
			 "auto: an hvsecd run directory was named");
	else if (in->socket_exists)
		snprintf(why, why_len,
			 "auto: Xen's privcmd exists, but so does hvsecd's "
			 "socket");
	else {
		*out = HVT_PLAT_XEN;
		snprintf(why, why_len,
			 "auto: Xen's privcmd exists and no hvsecd socket is "
			 "configured");
	}
	return 0;
}

/* ------------------------------------------------------- contexts */

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > ACM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':' || (unsigned char)s[i] < 0x20)
			return false;
	return true;
}

bool hvt_xen_ctx_parse(const char *ctx, char *policy, size_t plen, char *label,
		       size_t llen)
{
	const char *p, *colon;

	if (!strncasecmp(ctx, "acm:", 4)) {
		p = ctx + 4;
		colon = strchr(p, ':');
		if (!colon || !name_ok(p, (size_t)(colon - p)) ||
		    !name_ok(colon + 1, strlen(colon + 1)) ||
		    (size_t)(colon - p) >= plen || strlen(colon + 1) >= llen)
			return false;
		memcpy(policy, p, (size_t)(colon - p));
		policy[colon - p] = '\0';
		memcpy(label, colon + 1, strlen(colon + 1) + 1);
		return true;
	}
	if (!name_ok(ctx, strlen(ctx)) || strlen(ctx) >= llen || plen < 1)
		return false;
	policy[0] = '\0';
	memcpy(label, ctx, strlen(ctx) + 1);
	return true;
}

/* One 64-digit lowercase hex hash, then the separator `end`. */
static bool hash_parse(const char *p, char end, uint8_t out[ACM_SHA256_LEN])
{
	for (unsigned i = 0; i < 2 * ACM_SHA256_LEN; i++) {
		int v = p[i] >= '0' && p[i] <= '9'   ? p[i] - '0'
			: p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
						     : -1;

		if (v < 0)
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return p[2 * ACM_SHA256_LEN] == end;
}

/* A decimal u32 without sign or leading zeros, then `end`; *p moves. */
static bool u32_parse(const char **p, char end, uint32_t *out)
{
	const char *q = *p;
	uint64_t v = 0;

	if (*q < '0' || *q > '9' || (q[0] == '0' && q[1] != end))
		return false;
	for (; *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > UINT32_MAX)
			return false;
	}
	if (*q != end)
		return false;
	*out = (uint32_t)v;
	*p = q + 1;
	return true;
}

bool hvt_xen_ident_parse(const char *line, struct hvt_xident *out)
{
	const char *p = line;
	size_t n, tag = strlen(HVT_XEN_IDENT_TAG);

	memset(out, 0, sizeof(*out));
	if (strncmp(p, HVT_XEN_IDENT_TAG " ", tag + 1))
		return false;
	p += tag + 1;
	if (!u32_parse(&p, '.', &out->major) ||
	    !u32_parse(&p, ' ', &out->minor) ||
	    !hash_parse(p, ' ', out->source_sha256))
		return false;
	p += 2 * ACM_SHA256_LEN + 1;
	if (!hash_parse(p, ' ', out->blob_sha256))
		return false;
	p += 2 * ACM_SHA256_LEN + 1;
	n = strlen(p);
	if (n == 0 || n > ACM_NAME_MAX || strchr(p, '\n'))
		return false;
	memcpy(out->name, p, n + 1);
	return true;
}

void hvt_xen_ident_text(const struct hvt_xident *id, char *buf, size_t len)
{
	char h[17];

	for (unsigned i = 0; i < 8; i++)
		sprintf(h + 2 * i, "%02x", id->blob_sha256[i]);
	snprintf(buf, len, "'%.48s' %u.%u (trailer sha256 %s...)", id->name,
		 id->major, id->minor, h);
}

/* The identity Xen would report for `p`. */
static void ident_of(const struct acm_policy *p, struct hvt_xident *id)
{
	struct acm_policy_info info;

	acm_policy_info(p, &info);
	memset(id, 0, sizeof(*id));
	id->major = info.version_major;
	id->minor = info.version_minor;
	memcpy(id->source_sha256, info.source_sha256, ACM_SHA256_LEN);
	memcpy(id->blob_sha256, info.blob_sha256, ACM_SHA256_LEN);
	snprintf(id->name, sizeof(id->name), "%s", info.name);
}

/* ------------------------------------------------------- the record */

void hvt_xen_state_dir(char *out, size_t len)
{
	const char *e = getenv(HVT_XEN_STATE_ENV);

	snprintf(out, len, "%s", e && *e ? e : HVT_XEN_STATE_DIR);
}

static int mkdir_p(const char *dir)
{
	char buf[HVT_PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int hvt_xen_record(const char *dir, const void *blob, size_t len)
{
	char path[HVT_PATH_MAX], tmp[HVT_PATH_MAX + 16];
	const uint8_t *b = blob;
	int fd, rc;

	rc = mkdir_p(dir);
	if (rc)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s", dir, HVT_XEN_POLICY_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, b + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) || fsync(fd)) {
		rc = -errno;
		goto fail;
	}
	if (close(fd)) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = -errno;
		goto fail;
	}
	/* The rename itself survives a crash once the directory is synced. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* ------------------------------------------------------- state */

/* Does Xen run `p` (named `name`)?  Every VM label must map to its id;
 * every running domain's id must be a label of p; and where Xen reports
 * its policy's identity, version and blob hash must be p's (the only way
 * to tell an `xl loadpolicy` that kept every label id).  The label checks
 * come first: they say best what differs.  "" in why when yes. */
static void agree(struct hvt_xc *x, const struct hvt_xstate *s,
		  const struct acm_policy *p, const char *name, char *why,
		  size_t len)
{
	struct acm_policy_info info;
	char ctx[HVT_XEN_CTX_MAX];

	why[0] = '\0';
	acm_policy_info(p, &info);
	if (!s->has_policy) {
		snprintf(why, len, "Xen runs no policy (fail-closed)");
		return;
	}
	if (strcmp(s->policy, name)) {
		snprintf(why, len, "Xen runs policy '%s', not '%s'", s->policy,
			 name);
		return;
	}
	for (acm_row_t r = 0; r < info.n_labels; r++) {
		uint32_t sid = 0;
		int rc;

		if (acm_label_kind(p, r) != ACM_LABEL_VM)
			continue;
		snprintf(ctx, sizeof(ctx), "ACM:%s:%s", name,
			 acm_label_name(p, r));
		rc = hvt_xc_ctx2sid(x, ctx, &sid);
		if (rc) {
			snprintf(why, len,
				 "label '%s': Xen knows no such label "
				 "(%s)",
				 acm_label_name(p, r), hvt_errname(rc));
			return;
		}
		if (sid != acm_label_id(p, r)) {
			snprintf(why, len,
				 "label '%s': id 0x%x in Xen, 0x%x in the file",
				 acm_label_name(p, r), sid, acm_label_id(p, r));
			return;
		}
	}
	for (size_t i = 0; i < s->n_doms; i++) {
		uint32_t id = s->doms[i].ssidref;

		if (id && acm_label_find_id(p, id) == ACM_ROW_NONE) {
			snprintf(
				why, len,
				"domain %u runs as '%s' (0x%x), which the file "
				"does not have",
				s->doms[i].domid, s->ctx[i], id);
			return;
		}
	}
	if (s->has_ident) {
		struct hvt_xident mine;
		char xen_t[112], file_t[112]; /* hvt_xen_ident_text fits */

		ident_of(p, &mine);
		if (mine.major != s->ident.major ||
		    mine.minor != s->ident.minor ||
		    memcmp(mine.blob_sha256, s->ident.blob_sha256,
			   ACM_SHA256_LEN)) {
			hvt_xen_ident_text(&s->ident, xen_t, sizeof(xen_t));
			hvt_xen_ident_text(&mine, file_t, sizeof(file_t));
			snprintf(why, len,
				 "Xen runs %s but this is %s: same name and "
				 "label ids, another policy",
				 xen_t, file_t);
		}
	}
}

static int read_record(struct hvt_xc *x, struct hvt_xstate *s)
{
	struct stat st;
	char dir[HVT_PATH_MAX - 32];

	hvt_xen_state_dir(dir, sizeof(dir));
	snprintf(s->rec_path, sizeof(s->rec_path), "%s/%s", dir,
		 HVT_XEN_POLICY_FILE);
	if (stat(s->rec_path, &st) && errno == ENOENT) {
		s->rec = HVT_REC_NONE;
		return 0;
	}
	if (hvt_policy_file(s->rec_path, &s->pol)) {
		s->rec = HVT_REC_BAD;
		snprintf(s->rec_why, sizeof(s->rec_why),
			 "%.280s is not a valid policy", s->rec_path);
		return 0;
	}
	agree(x, s, s->pol.p, s->pol.info.name, s->rec_why, sizeof(s->rec_why));
	s->rec = s->rec_why[0] ? HVT_REC_STALE : HVT_REC_MATCH;
	return 0;
}

static int xstate_read(struct hvt_xc *x, struct hvt_xstate *s, bool record)
{
	char pol[ACM_NAME_MAX + 1], lab[ACM_NAME_MAX + 1];
	int rc;

	memset(s, 0, sizeof(*s));
	rc = hvt_xc_domains(x, &s->doms, &s->n_doms);
	if (rc) {
		hvt_err("cannot list Xen's domains: %s (%s)", strerror(-rc),
			hvt_errname(rc));
		return HVT_DAEMON;
	}
	s->ctx = calloc(s->n_doms + 1, sizeof(*s->ctx));
	if (!s->ctx) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	s->enforce = hvt_xc_getenforce(x);
	for (size_t i = 0; i < s->n_doms; i++) {
		if (!s->doms[i].ssidref ||
		    hvt_xc_sid2ctx(x, s->doms[i].ssidref, s->ctx[i],
				   sizeof(s->ctx[i])))
			s->ctx[i][0] = '\0';
		if (s->doms[i].domid == 0 && s->ctx[i][0] &&
		    hvt_xen_ctx_parse(s->ctx[i], pol, sizeof(pol), lab,
				      sizeof(lab)) &&
		    pol[0]) {
			s->has_policy = true;
			snprintf(s->policy, sizeof(s->policy), "%s", pol);
		}
	}
	s->ident_rc = -ENOENT;
	if (s->has_policy) {
		char line[HVT_XEN_IDENT_MAX];

		s->ident_rc = hvt_xc_identity(x, line, sizeof(line));
		if (!s->ident_rc && !hvt_xen_ident_parse(line, &s->ident))
			s->ident_rc = -EPROTO;
		/* A module without the identity (-EOPNOTSUPP) leaves the
		 * name and label checks alone, as before. */
		s->has_ident = s->ident_rc == 0;
	}
	return record ? read_record(x, s) : 0;
}

int hvt_xstate_read(struct hvt_xc *x, struct hvt_xstate *s)
{
	return xstate_read(x, s, true);
}

void hvt_xstate_free(struct hvt_xstate *s)
{
	free(s->doms);
	free(s->ctx);
	hvt_policy_free(&s->pol);
	memset(s, 0, sizeof(*s));
}

static acm_row_t dom_row(const struct hvt_xstate *s, const struct hvt_xdom *d)
{
	if (!s->pol.p || !d->ssidref)
		return ACM_ROW_NONE;
	return acm_label_find_id(s->pol.p, d->ssidref);
}

int hvt_xstate_refs(const struct hvt_xstate *s, struct acm_domain_ref **out,
		    size_t *n)
{
	*n = 0;
	*out = calloc(s->n_doms + 1, sizeof(**out));
	if (!*out)
		return -1;
	for (size_t i = 0; i < s->n_doms; i++) {
		acm_row_t r = dom_row(s, &s->doms[i]);

		if (r == ACM_ROW_NONE)
			continue;
		(*out)[*n].domid = s->doms[i].domid;
		(*out)[*n].label = r;
		(*n)++;
	}
	return 0;
}

int hvt_xstate_infos(const struct hvt_xstate *s,
		     struct hv_ctl_domain_info **out, size_t *n)
{
	*n = s->n_doms;
	*out = calloc(s->n_doms + 1, sizeof(**out));
	if (!*out)
		return -1;
	for (size_t i = 0; i < s->n_doms; i++) {
		struct hv_ctl_domain_info *o = &(*out)[i];
		const struct hvt_xdom *d = &s->doms[i];
		acm_row_t r = dom_row(s, d);

		o->domid = d->domid;
		o->ssidref = d->ssidref;
		/* Xen counts a domain for the Chinese Wall until it is freed,
		 * dying or shut down included: all of them are "live". */
		o->state = HV_DOMSTATE_RUNNING;
		o->flags = d->domid == 0 ? HV_CTL_DINFO_F_DOM0 : 0;
		memcpy(o->uuid, d->uuid, sizeof(o->uuid));
		snprintf(o->name, sizeof(o->name), "%s",
			 d->name[0] ? d->name : "?");
		if (r != ACM_ROW_NONE)
			snprintf(o->label, sizeof(o->label), "%s",
				 acm_label_name(s->pol.p, r));
	}
	return 0;
}

static const char *dom_name(const struct hvt_xstate *s, uint32_t domid)
{
	for (size_t i = 0; i < s->n_doms; i++)
		if (s->doms[i].domid == domid)
			return s->doms[i].name[0] ? s->doms[i].name : "?";
	return "?";
}

static const char *lname(const struct acm_policy *p, acm_row_t r)
{
	const char *n = p && r != ACM_ROW_NONE ? acm_label_name(p, r) : NULL;

	return n ? n : "-";
}

void hvt_xen_blocker_text(const struct hvt_xstate *s,
			  const struct acm_policy *oldp,
			  const struct acm_policy *newp,
			  const struct acm_blocker *b, char *buf, size_t len)
{
	const char *what = acm_blocker_name(b->kind);
	char who[2 * HV_NAME_LEN + 48] = "";
	const char *set, *ta, *tb;

	if (b->domid != UINT32_MAX && b->peer_domid != UINT32_MAX)
		snprintf(who, sizeof(who),
			 "%s (%u) and %s (%u): ", dom_name(s, b->domid),
			 b->domid, dom_name(s, b->peer_domid), b->peer_domid);
	else if (b->domid != UINT32_MAX)
		snprintf(who, sizeof(who), "%s (%u): ", dom_name(s, b->domid),
			 b->domid);
	switch (b->kind) {
	case ACM_B_CHWALL_CONFLICT:
		set = acm_conflict_set_name(newp, b->set);
		ta = acm_cw_type_name(newp, b->type_a);
		tb = acm_cw_type_name(newp, b->type_b);
		snprintf(buf, len,
			 "%s: %swould conflict: type '%s' and type '%s' "
			 "(conflict set '%s')",
			 what, who, ta ? ta : "?", tb ? tb : "?",
			 set ? set : "?");
		return;
	case ACM_B_SHARING:
		snprintf(buf, len,
			 "%s: %s'%s' -> '%s' would lose the common type of "
			 "their %s",
			 what, who, lname(oldp, b->old_label),
			 lname(newp, b->new_label), acm_hook_name(b->hook));
		return;
	case ACM_B_BOOTSTRAP:
		ta = b->type_a != ACM_TYPE_NONE
			     ? acm_ste_type_name(newp, b->type_a)
			     : NULL;
		snprintf(buf, len, "%s: %sdom0's label '%s'%s%s", what, who,
			 lname(newp, b->new_label),
			 ta ? " would lack type " : " would vanish",
			 ta ? ta : "");
		return;
	default:
		snprintf(buf, len, "%s: %slabel '%s' -> '%s'", what, who,
			 lname(oldp, b->old_label), lname(newp, b->new_label));
		return;
	}
}

static struct acm_share_ref *share_refs(const struct acm_domain_ref *refs,
					size_t n_refs,
					const struct hvt_xshare *sh,
					size_t n_sh, size_t *n)
{
	struct acm_share_ref *v = calloc(n_sh + 1, sizeof(*v));
	bool a_in, b_in;

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < n_sh; i++) {
		a_in = b_in = false;
		for (size_t j = 0; j < n_refs; j++) {
			a_in |= refs[j].domid == sh[i].dom_a;
			b_in |= refs[j].domid == sh[i].dom_b;
		}
		/* A channel to an unlabelled domain is no share Xen counts. */
		if (!a_in || !b_in || sh[i].dom_a == sh[i].dom_b)
			continue;
		v[*n].dom_a = sh[i].dom_a;
		v[*n].dom_b = sh[i].dom_b;
		v[*n].hook = sh[i].interdomain ? ACM_HOOK_EVTCHN_INTERDOMAIN
					       : ACM_HOOK_EVTCHN_UNBOUND;
		(*n)++;
	}
	return v;
}

int hvt_xen_check_update(const struct hvt_xstate *s,
			 const struct acm_policy *newp,
			 const struct hvt_xshare *sh, size_t n_sh,
			 struct acm_blocker *bl, size_t max, size_t *n_bl)
{
	struct acm_domain_ref *refs = NULL;
	struct acm_share_ref *shares = NULL;
	acm_row_t *row_map = NULL;
	void *scratch = NULL;
	size_t n_refs = 0, n_shares = 0, len;
	enum acm_err e;
	int rc = -1;

	*n_bl = 0;
	if (hvt_xstate_refs(s, &refs, &n_refs))
		goto oom;
	shares = share_refs(refs, n_refs, sh, n_sh, &n_shares);
	len = acm_update_scratch_size(s->pol.p, newp, n_refs);
	scratch = calloc(1, len ? len : 8);
	row_map = calloc(s->pol.info.n_labels + 1, sizeof(*row_map));
	if (!shares || !scratch || !row_map)
		goto oom;
	e = acm_update_validate(s->pol.p, newp, refs, n_refs, shares, n_shares,
				NULL, 0, row_map, bl, max, n_bl, scratch, len);
	if (e != ACM_OK) {
		hvt_err("the update check could not run: %s", acm_strerror(e));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	hvt_err("out of memory");
out:
	free(refs);
	free(shares);
	free(scratch);
	free(row_map);
	return rc;
}

int hvt_xen_check_relabel(struct hvt_xstate *s, uint32_t domid, acm_row_t row,
			  const struct hvt_xshare *sh, size_t n_sh,
			  struct acm_blocker *bl, size_t max, size_t *n_bl)
{
	struct acm_ctx_config cfg = {0};
	struct acm_domain_ref *refs = NULL;
	struct acm_share_ref *shares = NULL;
	acm_row_t *rows = NULL;
	struct acm_verdict v;
	void *scratch = NULL;
	size_t n_refs = 0, n_shares = 0, len;
	enum acm_err e;
	int rc = -1;

	*n_bl = 0;
	if (hvt_xstate_refs(s, &refs, &n_refs))
		goto oom;
	shares = share_refs(refs, n_refs, sh, n_sh, &n_shares);
	rows = calloc(n_refs + 1, sizeof(*rows));
	len = acm_update_scratch_size(s->pol.p, s->pol.p, n_refs);
	scratch = calloc(1, len ? len : 8);
	if (!shares || !rows || !scratch)
		goto oom;
	for (size_t i = 0; i < n_refs; i++)
		rows[i] = refs[i].label;
	/* The engine context as Xen's: the running domains counted. */
	e = acm_ctx_init(&s->pol.ctx, s->pol.p, &cfg, s->pol.ctx_mem,
			 acm_ctx_mem_size(s->pol.p, &cfg));
	if (e == ACM_OK)
		e = acm_ctx_adopt_running(s->pol.ctx, rows, n_refs, &v);
	if (e == ACM_OK)
		e = acm_relabel_validate(s->pol.ctx, refs, n_refs, shares,
					 n_shares, NULL, 0, domid, row, bl, max,
					 n_bl, scratch, len);
	if (e != ACM_OK) {
		hvt_err("the relabel check could not run: %s", acm_strerror(e));
		goto out;
	}
	rc = 0;
	goto out;
oom:
	hvt_err("out of memory");
out:
	free(refs);
	free(shares);
	free(rows);
	free(scratch);
	return rc;
}

/* ------------------------------------------------------- commands */

static int xc_open_or_say(struct hvt_xc **x)
{
	char why[256];
	int rc = hvt_xc_open(x, why, sizeof(why));

	if (rc) {
		hvt_err("cannot talk to Xen: %s (run as root in dom0 of a Xen "
			"booted with xsm=acm, or use --platform model)",
			why);
		return HVT_DAEMON;
	}
	return 0;
}

/* Xen's answer to a load or relabel as an exit status. */
static int xen_exit(int rc)
{
	switch (rc) {
	case -EBUSY:
	case -EACCES:
		return HVT_NO;
	case -EINVAL:
	case -ENOENT:
	case -ESRCH:
	case -E2BIG:
		return HVT_USAGE;
	}
	return HVT_DAEMON;
}

static void warn_record(const struct hvt_xstate *s)
{
	if (s->rec == HVT_REC_STALE)
		hvt_warn("the recorded policy %s is not the one Xen runs: %s",
			 s->rec_path, s->rec_why);
}

/* The recorded policy for offline answers: 0 with it (a stale one is
 * warned about), or an exit status (reported). */
static int need_record(const struct hvt_xstate *s, const char *what)
{
	switch (s->rec) {
	case HVT_REC_MATCH:
		return 0;
	case HVT_REC_STALE:
		hvt_err("%s: the recorded policy %s is not the one Xen runs "
			"(%s); record it with 'hvsec policy load --record "
			"P.bin' or load one with 'hvsec policy load P.bin'",
			what, s->rec_path, s->rec_why);
		return HVT_USAGE;
	case HVT_REC_BAD:
		hvt_err("%s: %s", what, s->rec_why);
		return HVT_USAGE;
	case HVT_REC_NONE:
		break;
	}
	hvt_err("%s: no recorded policy at %s: Xen cannot hand its policy "
		"back; record the one it runs ('hvsec policy load "
		"--record P.bin') or load one with 'hvsec policy load P.bin'",
		what, s->rec_path);
	return HVT_USAGE;
}

static void print_blockers(const struct hvt_xstate *s,
			   const struct acm_policy *oldp,
			   const struct acm_policy *newp,
			   const struct acm_blocker *bl, size_t n, size_t total)
{
	char line[512];

	for (size_t i = 0; i < n && i < MAX_BLOCKERS; i++) {
		hvt_xen_blocker_text(s, oldp, newp, &bl[i], line, sizeof(line));
		printf("  %s\n", line);
	}
	if (total > n)
		printf("  ... and %zu more\n", total - n);
}

static void blockers_json(struct hvt_json *j, const struct hvt_xstate *s,
			  const struct acm_policy *oldp,
			  const struct acm_policy *newp,
			  const struct acm_blocker *bl, size_t n)
{
	char line[512];

	hvt_json_key(j, "blockers");
	hvt_json_arr(j);
	for (size_t i = 0; i < n && i < MAX_BLOCKERS; i++) {
		hvt_xen_blocker_text(s, oldp, newp, &bl[i], line, sizeof(line));
		hvt_json_obj(j);
		hvt_json_kstr(j, "kind", acm_blocker_name(bl[i].kind));
		if (bl[i].domid != UINT32_MAX)
			hvt_json_ku64(j, "domid", bl[i].domid);
		if (bl[i].peer_domid != UINT32_MAX)
			hvt_json_ku64(j, "peer_domid", bl[i].peer_domid);
		hvt_json_kstr(j, "text", line);
		hvt_json_obj_end(j);
	}
	hvt_json_arr_end(j);
}

/* policy load --record: the file is what Xen runs (booted with, or loaded
 * by xl loadpolicy); checked against Xen, then recorded. */
static int load_record(struct hvt_xc *x, struct hvt_xstate *s,
		       struct hvt_policy *file, const char *what)
{
	char why[320], dir[HVT_PATH_MAX - 32];
	int rc;

	agree(x, s, file->p, file->info.name, why, sizeof(why));
	if (why[0]) {
		printf("%s is not the policy Xen runs: %s.\n", what, why);
		return HVT_NO;
	}
	hvt_xen_state_dir(dir, sizeof(dir));
	rc = hvt_xen_record(dir, file->blob, file->len);
	if (rc) {
		hvt_err("%s/%s: %s", dir, HVT_XEN_POLICY_FILE, strerror(-rc));
		return HVT_DAEMON;
	}
	printf("%s: Xen runs it (its name%s and %u VM label ids agree); "
	       "recorded in %s/%s.\n",
	       what, s->has_ident ? ", version, hash" : "",
	       file->info.n_vm_labels, dir, HVT_XEN_POLICY_FILE);
	return HVT_OK;
}

/* policy load|update --json: what was checked, and whether it applied. */
static void load_json(const struct hvt_xstate *s, const struct hvt_policy *file,
		      const struct acm_blocker *bl, size_t n_bl, bool dry,
		      bool applied, bool checked)
{
	struct hvt_json j;
	char v[32];

	snprintf(v, sizeof(v), "%u.%u", file->info.version_major,
		 file->info.version_minor);
	hvt_json_init(&j, stdout);
	hvt_json_obj(&j);
	hvt_json_kstr(&j, "platform", "xen");
	hvt_json_kstr(&j, "policy", file->info.name);
	hvt_json_kstr(&j, "version", v);
	hvt_json_kbool(&j, "first_load", !s->has_policy);
	hvt_json_kbool(&j, "dry_run", dry);
	hvt_json_kbool(&j, "checked_here", checked);
	hvt_json_kbool(&j, "blocked", n_bl != 0);
	hvt_json_kbool(&j, "applied", applied);
	blockers_json(&j, s, s->pol.p, file->p, bl, n_bl);
	hvt_json_obj_end(&j);
	hvt_json_end(&j);
}

static int x_policy_load(struct hvt *t, const struct hvt_args *a, bool update)
{
	bool dry = hvt_opt(a, "dry-run") != NULL;
	struct acm_blocker bl[MAX_BLOCKERS];
	struct hvt_xshare *sh = NULL;
	struct hvt_policy file = {0};
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	char what[ACM_NAME_MAX + 48], dir[HVT_PATH_MAX - 32];
	size_t n_sh = 0, n_bl = 0;
	bool checked = false;
	int rc;

	if (hvt_opt(a, "revoke"))
		return hvt_usage(a->cmd, "--revoke: Xen's module has no "
					 "revocation; it refuses instead");
	if (hvt_opt(a, "record") && dry)
		return hvt_usage(a->cmd, "--record and --dry-run together");
	rc = hvt_policy_file(a->pos[0], &file);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "Policy %s %u.%u", file.info.name,
		 file.info.version_major, file.info.version_minor);
	rc = xc_open_or_say(&x);
	if (rc)
		goto out;
	rc = hvt_xstate_read(x, &s);
	if (rc)
		goto out;
	if (hvt_opt(a, "record")) {
		rc = load_record(x, &s, &file, what);
		goto out;
	}
	if (s.has_policy && s.rec == HVT_REC_MATCH) {
		rc = hvt_xc_shares(x, s.doms, s.n_doms, &sh, &n_sh);
		if (rc) {
			hvt_err("cannot read the event channels: %s",
				strerror(-rc));
			rc = HVT_DAEMON;
			goto out;
		}
		if (hvt_xen_check_update(&s, file.p, sh, n_sh, bl, MAX_BLOCKERS,
					 &n_bl)) {
			rc = HVT_DAEMON;
			goto out;
		}
		checked = true;
	} else if (s.has_policy) {
		warn_record(&s);
		if (dry) {
			rc = need_record(&s, a->cmd->name);
			goto out;
		}
		hvt_warn("no record of the running policy to check the update "
			 "against: Xen alone checks it");
	}
	if (t->json && (dry || n_bl)) {
		load_json(&s, &file, bl, n_bl, dry, false, checked);
		rc = n_bl ? HVT_NO : HVT_OK;
		goto out;
	}
	if (n_bl) {
		printf("%s%s NOT %s: %zu blocker%s on Xen (nothing changed):\n",
		       dry ? "Dry run: " : "", what,
		       update ? "updated" : "loaded", n_bl,
		       n_bl == 1 ? "" : "s");
		print_blockers(&s, s.pol.p, file.p, bl,
			       n_bl < MAX_BLOCKERS ? n_bl : MAX_BLOCKERS, n_bl);
		rc = HVT_NO;
		goto out;
	}
	if (dry) {
		if (!s.has_policy)
			printf("Dry run: Xen runs no policy: %s would be "
			       "installed.\n",
			       what);
		else
			printf("Dry run: %s would be %s on Xen: nothing "
			       "blocks it (%zu domain%s, %zu share%s "
			       "checked).\n",
			       what, update ? "updated" : "loaded", s.n_doms,
			       s.n_doms == 1 ? "" : "s", n_sh,
			       n_sh == 1 ? "" : "s");
		rc = HVT_OK;
		goto out;
	}
	rc = hvt_xc_load(x, file.blob, file.len);
	if (rc) {
		hvt_err("%s: Xen refused it: %s (%s)%s; see xl dmesg", what,
			strerror(-rc), hvt_errname(rc),
			rc == -EBUSY && checked
				? " although the check here passed (the host "
				  "changed meanwhile?)"
				: "");
		rc = xen_exit(rc);
		goto out;
	}
	hvt_xen_state_dir(dir, sizeof(dir));
	rc = hvt_xen_record(dir, file.blob, file.len);
	if (rc)
		hvt_warn("%s/%s: %s: the policy is loaded, but not recorded "
			 "(offline answers need 'hvsec policy load --record "
			 "%s')",
			 dir, HVT_XEN_POLICY_FILE, strerror(-rc), a->pos[0]);
	if (t->json)
		load_json(&s, &file, bl, 0, false, true, checked);
	else
		printf("%s %s on Xen%s.\n", what,
		       s.has_policy ? "updated" : "loaded",
		       checked ? " (checked here first)" : "");
	rc = HVT_OK;
out:
	free(sh);
	hvt_xstate_free(&s);
	hvt_policy_free(&file);
	hvt_xc_close(x);
	return rc;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* What Xen says of its policy's identity, for status and policy show:
 * "1.2" and the hashes in hex when it reports one. */
static void ident_json(struct hvt_json *j, const struct hvt_xstate *s)
{
	char v[32], h[2 * ACM_SHA256_LEN + 1], src[2 * ACM_SHA256_LEN + 1];

	if (!s->has_ident) {
		hvt_json_kstr(j, "xen_policy_version", NULL);
		hvt_json_kstr(j, "xen_policy_sha256", NULL);
		hvt_json_kstr(j, "xen_policy_source_sha256", NULL);
		return;
	}
	snprintf(v, sizeof(v), "%u.%u", s->ident.major, s->ident.minor);
	hex(h, s->ident.blob_sha256, ACM_SHA256_LEN);
	hex(src, s->ident.source_sha256, ACM_SHA256_LEN);
	hvt_json_kstr(j, "xen_policy_version", v);
	hvt_json_kstr(j, "xen_policy_sha256", h);
	hvt_json_kstr(j, "xen_policy_source_sha256", src);
}

/* "Policy      ..." and, with `hashes`, the two hash lines. */
static void ident_print(const struct hvt_xstate *s, bool hashes)
{
	char h[2 * ACM_SHA256_LEN + 1];

	if (!s->has_policy) {
		printf("Policy      none (fail-closed)\n");
		return;
	}
	if (!s->has_ident) {
		printf("Policy      %s (no version or hash from Xen: %s)\n",
		       s->policy, hvt_errname(s->ident_rc));
		return;
	}
	hex(h, s->ident.blob_sha256, ACM_SHA256_LEN);
	if (!hashes) {
		printf("Policy      %s %u.%u, trailer sha256 %s\n",
		       s->ident.name, s->ident.major, s->ident.minor, h);
		return;
	}
	printf("Policy      %s %u.%u (as Xen reports it)\n", s->ident.name,
	       s->ident.major, s->ident.minor);
	printf("  Trailer   sha256 %s\n", h);
	hex(h, s->ident.source_sha256, ACM_SHA256_LEN);
	printf("  Source    sha256 %s\n", h);
}

static const char *rec_word(enum hvt_rec_state r)
{
	switch (r) {
	case HVT_REC_MATCH:
		return "agrees";
	case HVT_REC_STALE:
		return "stale";
	case HVT_REC_BAD:
		return "invalid";
	case HVT_REC_NONE:
		break;
	}
	return "none";
}

static int save_record(const struct hvt_xstate *s, const char *path)
{
	FILE *f;

	if (s->rec != HVT_REC_MATCH) {
		hvt_err("--save: no recorded policy that Xen runs (%s)",
			rec_word(s->rec));
		return HVT_USAGE;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(s->pol.blob, 1, s->pol.len, f) != s->pol.len) {
		hvt_err("%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return HVT_USAGE;
	}
	if (fclose(f)) {
		hvt_err("%s: %s", path, strerror(errno));
		return HVT_USAGE;
	}
	return 0;
}

static int x_policy_show(struct hvt *t, const struct hvt_args *a)
{
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	const struct acm_policy_info *i = &s.pol.info;
	uint8_t sum[ACM_SHA256_LEN];
	char sha[2 * ACM_SHA256_LEN + 1] = "", ver[64];
	int rc;

	rc = xc_open_or_say(&x);
	if (rc)
		return rc;
	rc = hvt_xstate_read(x, &s);
	if (rc)
		goto out;
	if (s.pol.p) {
		acm_sha256(s.pol.blob, s.pol.len, sum);
		hex(sha, sum, sizeof(sum));
	}
	if (hvt_opt(a, "save")) {
		rc = save_record(&s, hvt_opt(a, "save"));
		if (rc)
			goto out;
	}
	hvt_xc_version(x, ver, sizeof(ver));
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "platform", "xen");
		hvt_json_kstr(&j, "xen_version", ver[0] ? ver : NULL);
		hvt_json_kstr(&j, "name", s.has_policy ? s.policy : NULL);
		ident_json(&j, &s);
		hvt_json_kbool(&j, "fail_closed", !s.has_policy);
		hvt_json_kstr(&j, "mode",
			      s.enforce == 1   ? "enforcing"
			      : s.enforce == 0 ? "permissive"
					       : NULL);
		hvt_json_kstr(&j, "recorded", rec_word(s.rec));
		hvt_json_kstr(&j, "record_path", s.rec_path);
		hvt_json_kstr(&j, "record_problem",
			      s.rec_why[0] ? s.rec_why : NULL);
		if (s.pol.p) {
			snprintf(ver, sizeof(ver), "%u.%u", i->version_major,
				 i->version_minor);
			hvt_json_kstr(&j, "record_name", i->name);
			hvt_json_kstr(&j, "version", ver);
			hvt_json_kstr(&j, "sha256", sha);
			hex(sha, i->blob_sha256, ACM_SHA256_LEN);
			hvt_json_kstr(&j, "trailer_sha256", sha);
			hvt_json_ku64(&j, "vm_labels", i->n_vm_labels);
			hvt_json_kstr(&j, "bootstrap",
				      acm_label_name(s.pol.p, i->bootstrap));
		}
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
		goto out;
	}
	printf("Platform    xen%s%s (xsm=acm, through libxenctrl)\n",
	       ver[0] ? " " : "", ver);
	if (s.has_policy)
		ident_print(&s, true);
	else
		printf("Policy      none: Xen is fail-closed, no domU may "
		       "start ('hvsec policy load P.bin')\n");
	printf("Mode        %s\n", s.enforce == 1   ? "enforcing"
				   : s.enforce == 0 ? "permissive"
						    : hvt_errname(s.enforce));
	printf("Recorded    %s: %s%s%s\n", s.rec_path, rec_word(s.rec),
	       s.rec_why[0] ? ": " : "", s.rec_why);
	if (s.pol.p) {
		printf("  Policy    %s %u.%u\n", i->name, i->version_major,
		       i->version_minor);
		printf("  Components");
		if (i->flags & ACM_BIN_F_STE)
			printf(" STE (%u types)", i->n_ste_types);
		if (i->flags & ACM_BIN_F_CHWALL)
			printf("%s Chinese Wall (%u types, %u conflict set%s)",
			       i->flags & ACM_BIN_F_STE ? "," : "",
			       i->n_cw_types, i->n_conflict_sets,
			       i->n_conflict_sets == 1 ? "" : "s");
		printf("\n  Labels    %u VM, %u resource; dom0 boots as %s\n",
		       i->n_vm_labels, i->n_labels - i->n_vm_labels,
		       acm_label_name(s.pol.p, i->bootstrap));
		if (i->date[0])
			printf("  Date      %s\n", i->date);
		printf("  SHA-256   %s\n", sha);
		hex(sha, i->blob_sha256, ACM_SHA256_LEN);
		printf("  Trailer   sha256 %s\n", sha);
	}
	if (hvt_opt(a, "save"))
		printf("Saved to    %s\n", hvt_opt(a, "save"));
out:
	hvt_xstate_free(&s);
	hvt_xc_close(x);
	return rc;
}

/* xl's six state columns. */
static void xstate_flags(uint32_t f, char out[7])
{
	snprintf(out, 7, "%c%c%c%c%c%c", f & HVT_XD_RUNNING ? 'r' : '-',
		 f & HVT_XD_BLOCKED ? 'b' : '-', f & HVT_XD_PAUSED ? 'p' : '-',
		 f & HVT_XD_SHUTDOWN ? 's' : '-',
		 f & HVT_XD_CRASHED ? 'c' : '-', f & HVT_XD_DYING ? 'd' : '-');
}

static bool wanted(const struct hvt_args *a, const struct hvt_xdom *d,
		   bool *seen)
{
	uint32_t id;

	if (a->n_pos == 0)
		return true;
	for (int i = 0; i < a->n_pos; i++)
		if (!strcmp(a->pos[i], d->name) ||
		    (hvt_parse_u32(a->pos[i], HV_DOMID_MAX, &id) &&
		     id == d->domid)) {
			seen[i] = true;
			return true;
		}
	return false;
}

static int x_list(struct hvt *t, const struct hvt_args *a)
{
	bool with_label = hvt_opt(a, "label") != NULL;
	bool seen[HVT_POS_MAX] = {false};
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	struct hvt_json j;
	char st[7], uuid[37];
	int width = 4, rc;

	rc = xc_open_or_say(&x);
	if (rc)
		return rc;
	rc = xstate_read(x, &s, false);
	if (rc)
		goto out;
	if (t->json) {
		hvt_json_init(&j, stdout);
		hvt_json_arr(&j);
	} else {
		for (size_t i = 0; i < s.n_doms; i++)
			if ((int)strlen(s.doms[i].name) > width)
				width = (int)strlen(s.doms[i].name);
		printf("%-*s %5s %5s %5s  %-6s %8s%s\n", width, "Name", "ID",
		       "Mem", "VCPUs", "State", "Time(s)",
		       with_label ? "  Label" : "");
	}
	for (size_t i = 0; i < s.n_doms; i++) {
		const struct hvt_xdom *d = &s.doms[i];
		uint64_t mb = d->tot_pages * 4096u / (1024u * 1024u);

		if (!wanted(a, d, seen))
			continue;
		xstate_flags(d->flags, st);
		if (!t->json) {
			printf("%-*s %5u %5llu %5u  %-6s %8.1f", width,
			       d->name[0] ? d->name : "?", d->domid,
			       (unsigned long long)mb, d->vcpus, st,
			       (double)d->cpu_ns / 1e9);
			if (with_label)
				printf("  %s", s.ctx[i][0] ? s.ctx[i] : "-");
			printf("\n");
			continue;
		}
		hvt_uuid_str(d->uuid, uuid);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "name", d->name[0] ? d->name : NULL);
		hvt_json_ku64(&j, "domid", d->domid);
		hvt_json_kstr(&j, "uuid", uuid);
		hvt_json_ku64(&j, "memory_mb", mb);
		hvt_json_ku64(&j, "vcpus", d->vcpus);
		hvt_json_kstr(&j, "state", st);
		hvt_json_key(&j, "cpu_time");
		hvt_json_fixed(&j, (double)d->cpu_ns / 1e9, 3);
		hvt_json_kbool(&j, "dom0", d->domid == 0);
		hvt_json_kstr(&j, "policy", s.has_policy ? s.policy : NULL);
		hvt_json_kstr(&j, "context", s.ctx[i][0] ? s.ctx[i] : NULL);
		hvt_json_ku64(&j, "ssidref", d->ssidref);
		hvt_json_obj_end(&j);
	}
	if (t->json) {
		hvt_json_arr_end(&j);
		hvt_json_end(&j);
	}
	for (int i = 0; i < a->n_pos; i++)
		if (!seen[i]) {
			hvt_err("no domain '%s'", a->pos[i]);
			rc = HVT_USAGE;
		}
out:
	hvt_xstate_free(&s);
	hvt_xc_close(x);
	return rc;
}

static const struct hvt_xdom *find_dom(const struct hvt_xstate *s,
				       const char *which, size_t *idx)
{
	uint32_t id;
	bool num = hvt_parse_u32(which, HV_DOMID_MAX, &id);

	for (size_t i = 0; i < s->n_doms; i++)
		if ((num && s->doms[i].domid == id) ||
		    (!num && !strcmp(s->doms[i].name, which))) {
			*idx = i;
			return &s->doms[i];
		}
	return NULL;
}

static int x_relabel(struct hvt *t, const struct hvt_args *a)
{
	bool dry = hvt_opt(a, "dry-run") != NULL;
	struct acm_blocker bl[MAX_BLOCKERS];
	const struct hvt_xdom *d;
	struct hvt_xshare *sh = NULL;
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	char ctx[HVT_XEN_CTX_MAX], pol[ACM_NAME_MAX + 1], lab[ACM_NAME_MAX + 1];
	char subject[HV_NAME_LEN + 2 * HVT_XEN_CTX_MAX + 32];
	size_t idx = 0, n_sh = 0, n_bl = 0;
	acm_row_t row;
	uint32_t sid = 0;
	int rc;

	if (!hvt_xen_ctx_parse(a->pos[1], pol, sizeof(pol), lab, sizeof(lab)))
		return hvt_usage(a->cmd,
				 "'%s' is not LABEL or ACM:POLICY:LABEL",
				 a->pos[1]);
	rc = xc_open_or_say(&x);
	if (rc)
		return rc;
	rc = hvt_xstate_read(x, &s);
	if (rc)
		goto out;
	d = find_dom(&s, a->pos[0], &idx);
	if (!d) {
		hvt_err("no domain '%s' on Xen", a->pos[0]);
		rc = HVT_USAGE;
		goto out;
	}
	if (!s.has_policy) {
		hvt_err("relabel: Xen runs no policy (fail-closed)");
		rc = HVT_USAGE;
		goto out;
	}
	snprintf(ctx, sizeof(ctx), "ACM:%s:%s", pol[0] ? pol : s.policy, lab);
	rc = hvt_xc_ctx2sid(x, ctx, &sid);
	if (rc) {
		hvt_err("relabel: '%s' is not a VM label of policy %s (Xen "
			"says %s)",
			a->pos[1], s.policy, hvt_errname(rc));
		rc = HVT_USAGE;
		goto out;
	}
	snprintf(subject, sizeof(subject), "Domain %s (id=%u): %s -> %s",
		 d->name[0] ? d->name : "?", d->domid,
		 s.ctx[idx][0] ? s.ctx[idx] : "-", ctx);
	if (s.rec == HVT_REC_MATCH) {
		row = acm_label_find_id(s.pol.p, sid);
		rc = hvt_xc_shares(x, s.doms, s.n_doms, &sh, &n_sh);
		if (rc) {
			hvt_err("cannot read the event channels: %s",
				strerror(-rc));
			rc = HVT_DAEMON;
			goto out;
		}
		if (row == ACM_ROW_NONE ||
		    hvt_xen_check_relabel(&s, d->domid, row, sh, n_sh, bl,
					  MAX_BLOCKERS, &n_bl)) {
			if (row == ACM_ROW_NONE)
				hvt_err("relabel: the recorded policy has no "
					"label of id 0x%x",
					sid);
			rc = HVT_DAEMON;
			goto out;
		}
	} else if (dry) {
		rc = need_record(&s, "relabel --dry-run");
		goto out;
	} else {
		warn_record(&s);
		hvt_warn("no record of the running policy: Xen alone checks "
			 "the relabel");
	}
	if (t->json) {
		struct hvt_json j;

		if (!dry && !n_bl) {
			rc = hvt_xc_relabel(x, d->domid, sid);
			if (rc) {
				hvt_err("%s: Xen refused it: %s (%s); see xl "
					"dmesg",
					subject, strerror(-rc),
					hvt_errname(rc));
				rc = xen_exit(rc);
				goto out;
			}
		}
		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "platform", "xen");
		hvt_json_ku64(&j, "domid", d->domid);
		hvt_json_kstr(&j, "from", s.ctx[idx][0] ? s.ctx[idx] : NULL);
		hvt_json_kstr(&j, "to", ctx);
		hvt_json_kbool(&j, "dry_run", dry);
		hvt_json_kbool(&j, "blocked", n_bl != 0);
		blockers_json(&j, &s, s.pol.p, s.pol.p, bl, n_bl);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
		rc = n_bl ? HVT_NO : HVT_OK;
		goto out;
	}
	if (n_bl) {
		printf("%s%s NOT relabelled: %zu blocker%s (nothing "
		       "changed):\n",
		       dry ? "Dry run: " : "", subject, n_bl,
		       n_bl == 1 ? "" : "s");
		print_blockers(&s, s.pol.p, s.pol.p, bl,
			       n_bl < MAX_BLOCKERS ? n_bl : MAX_BLOCKERS, n_bl);
		rc = HVT_NO;
		goto out;
	}
	if (dry) {
		printf("Dry run: %s would be relabelled: nothing blocks it.\n",
		       subject);
		rc = HVT_OK;
		goto out;
	}
	rc = hvt_xc_relabel(x, d->domid, sid);
	if (rc) {
		hvt_err("%s: Xen refused it: %s (%s); see xl dmesg", subject,
			strerror(-rc), hvt_errname(rc));
		rc = xen_exit(rc);
		goto out;
	}
	printf("%s relabelled.\n", subject);
	rc = HVT_OK;
out:
	free(sh);
	hvt_xstate_free(&s);
	hvt_xc_close(x);
	return rc;
}

/* dry-run CFG: the checks Xen's module makes at domain_create (the label
 * and the Chinese Wall), run here with the recorded policy against the
 * domains Xen reports.  Nothing is created. */
static int x_dry_run(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_domain_info *infos = NULL;
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	struct xlcfg c = {0};
	const char *label;
	char lab_why[320] = "", cw_why[512] = "";
	bool lab_ok, cw_ok, in_use = false;
	size_t n_infos = 0;
	acm_row_t row;
	int rc;

	rc = hvt_cfg_load(a->pos[0], &c);
	if (rc)
		return rc;
	rc = xc_open_or_say(&x);
	if (rc)
		goto out;
	rc = hvt_xstate_read(x, &s);
	if (rc)
		goto out;
	if (!s.has_policy) {
		printf("Dry run of %s (%s) on Xen: Xen runs no policy, so no "
		       "domU may start (fail-closed)\nDecision: DENIED\n",
		       c.name ? c.name : "?", a->pos[0]);
		rc = HVT_NO;
		goto out;
	}
	if (c.has_label && strcmp(c.policy, s.policy)) {
		hvt_err("%s:%u: the label is for policy %s, but Xen runs %s",
			a->pos[0], c.label_line, c.policy, s.policy);
		rc = HVT_USAGE;
		goto out;
	}
	rc = need_record(&s, "dry-run");
	if (rc)
		goto out;
	if (hvt_xstate_infos(&s, &infos, &n_infos)) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	for (size_t i = 0; i < s.n_doms && c.name; i++)
		in_use |= !strcmp(s.doms[i].name, c.name);
	label = c.has_label ? c.label : ACM_UNLABELED;
	row = hvt_label_row(&s.pol, ACM_LABEL_VM, label);
	lab_ok = row != ACM_ROW_NONE;
	if (lab_ok)
		snprintf(lab_why, sizeof(lab_why), "%s: a VM label of %s",
			 label, s.policy);
	else if (!c.has_label)
		snprintf(lab_why, sizeof(lab_why),
			 "unlabelled, and the policy has no %s label",
			 ACM_UNLABELED);
	else
		snprintf(lab_why, sizeof(lab_why), "%s: no VM label of %s",
			 label, s.policy);
	cw_ok = lab_ok;
	if (lab_ok) {
		hvt_chwall_why(&s.pol, row, infos, n_infos, cw_why,
			       sizeof(cw_why));
		cw_ok = cw_why[0] == '\0';
		if (cw_ok)
			snprintf(cw_why, sizeof(cw_why),
				 "%s: Chinese Wall admits it next to %zu "
				 "domain%s",
				 label, s.n_doms, s.n_doms == 1 ? "" : "s");
	} else {
		snprintf(cw_why, sizeof(cw_why), "%s: refused with the label",
			 label);
	}
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "platform", "xen");
		hvt_json_kstr(&j, "config", a->pos[0]);
		hvt_json_kstr(&j, "name", c.name);
		hvt_json_kstr(&j, "policy", s.policy);
		hvt_json_kstr(&j, "label", label);
		hvt_json_kbool(&j, "name_in_use", in_use);
		hvt_json_key(&j, "checks");
		hvt_json_arr(&j);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "hook", "label");
		hvt_json_kbool(&j, "permitted", lab_ok);
		hvt_json_kstr(&j, "text", lab_why);
		hvt_json_obj_end(&j);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "hook", "domain_create");
		hvt_json_kbool(&j, "permitted", cw_ok);
		hvt_json_kstr(&j, "text", cw_why);
		hvt_json_obj_end(&j);
		hvt_json_arr_end(&j);
		hvt_json_kbool(&j, "permitted", cw_ok);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
	} else {
		printf("Dry run of %s (%s) on Xen as ACM:%s:%s\n",
		       c.name ? c.name : "?", a->pos[0], s.policy, label);
		printf("  %-6s  %-14s %s\n", lab_ok ? "PERMIT" : "DENY",
		       "label", lab_why);
		printf("  %-6s  %-14s %s\n", cw_ok ? "PERMIT" : "DENY",
		       "domain_create",
		       cw_ok || !lab_ok ? cw_why : "Chinese Wall:");
		if (!cw_ok && lab_ok)
			printf("  %-6s  %-14s %s\n", "", "", cw_why);
		if (in_use)
			printf("Note: a domain named %s runs already (xl "
			       "create "
			       "would fail for that)\n",
			       c.name);
		printf("Decision: %s\n", cw_ok ? "PERMITTED"
					       : "DENIED (Xen's "
						 "domain_create hook)");
	}
	rc = cw_ok ? HVT_OK : HVT_NO;
out:
	free(infos);
	xlcfg_free(&c);
	hvt_xstate_free(&s);
	hvt_xc_close(x);
	return rc;
}

static int x_mode(struct hvt *t, const struct hvt_args *a)
{
	struct hvt_xc *x = NULL;
	int rc, e;

	for (int i = 0; i < a->n_pos; i++)
		if (strcmp(a->pos[i], "enforcing") &&
		    strcmp(a->pos[i], "permissive"))
			return hvt_usage(a->cmd,
					 "'%s': on Xen only enforcing (there "
					 "is no permissive mode, and event-"
					 "channel sends are never mediated)",
					 a->pos[i]);
	rc = xc_open_or_say(&x);
	if (rc)
		return rc;
	for (int i = 0; i < a->n_pos; i++) {
		bool en = !strcmp(a->pos[i], "enforcing");

		e = hvt_xc_setenforce(x, en ? 1 : 0);
		if (e) {
			hvt_err("mode %s: Xen refused: %s (%s)%s", a->pos[i],
				strerror(-e), hvt_errname(e),
				e == -EOPNOTSUPP ? ": ACM in Xen has no "
						   "permissive mode"
						 : "");
			rc = e == -EOPNOTSUPP ? HVT_NO : xen_exit(e);
			goto out;
		}
	}
	e = hvt_xc_getenforce(x);
	if (e < 0) {
		hvt_err("cannot ask Xen for the mode: %s (%s)", strerror(-e),
			hvt_errname(e));
		rc = HVT_DAEMON;
		goto out;
	}
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "platform", "xen");
		hvt_json_kstr(&j, "mode", e ? "enforcing" : "permissive");
		hvt_json_kbool(&j, "mediate_send", false);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
	} else {
		printf("%s\n", e ? "enforcing" : "permissive");
	}
out:
	hvt_xc_close(x);
	return rc;
}

int hvt_cmd_status(struct hvt *t, const struct hvt_args *a)
{
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	char ver[64] = "", why[256] = "";
	int rc = 0, open_rc;

	(void)a;
	if (t->platform != HVT_PLAT_XEN) {
		struct hvt_policy pol = {0};
		bool up;

		rc = hvt_policy_fetch(t, &pol);
		up = rc == 0;
		if (t->json) {
			struct hvt_json j;

			hvt_json_init(&j, stdout);
			hvt_json_obj(&j);
			hvt_json_kstr(&j, "platform", "model");
			hvt_json_kstr(&j, "why", t->platform_why);
			hvt_json_kstr(&j, "run_dir", t->run_dir);
			hvt_json_kbool(&j, "reachable", up);
			hvt_json_kstr(&j, "policy",
				      up && pol.p ? pol.info.name : NULL);
			hvt_json_obj_end(&j);
			hvt_json_end(&j);
		} else {
			printf("Platform    model (%s)\n", t->platform_why);
			printf("hvsecd      %s/control: %s\n", t->run_dir,
			       up ? "answers" : "not reachable");
			if (up)
				printf("Policy      %s\n",
				       pol.p ? pol.info.name
					     : "none (fail-closed)");
		}
		hvt_policy_free(&pol);
		return rc;
	}
	open_rc = hvt_xc_open(&x, why, sizeof(why));
	if (!open_rc) {
		hvt_xc_version(x, ver, sizeof(ver));
		rc = hvt_xstate_read(x, &s);
	}
	if (t->json) {
		struct hvt_json j;

		hvt_json_init(&j, stdout);
		hvt_json_obj(&j);
		hvt_json_kstr(&j, "platform", "xen");
		hvt_json_kstr(&j, "why", t->platform_why);
		hvt_json_kbool(&j, "reachable", !open_rc && !rc);
		hvt_json_kstr(&j, "xen_version", ver[0] ? ver : NULL);
		hvt_json_kstr(&j, "policy", s.has_policy ? s.policy : NULL);
		ident_json(&j, &s);
		hvt_json_kstr(&j, "recorded", rec_word(s.rec));
		hvt_json_ku64(&j, "domains", s.n_doms);
		hvt_json_obj_end(&j);
		hvt_json_end(&j);
	} else {
		printf("Platform    xen (%s)\n", t->platform_why);
		if (open_rc) {
			printf("Xen         not reachable: %s\n", why);
		} else if (!rc) {
			printf("Xen         %s, XSM module answering FLASK's "
			       "sub-ops, %s\n",
			       ver[0] ? ver : "?",
			       s.enforce == 1 ? "enforcing"
					      : hvt_errname(s.enforce));
			ident_print(&s, false);
			printf("Recorded    %s: %s%s%s\n", s.rec_path,
			       rec_word(s.rec), s.rec_why[0] ? ": " : "",
			       s.rec_why);
			printf("Domains     %zu\n", s.n_doms);
		}
	}
	if (open_rc)
		rc = HVT_DAEMON;
	hvt_xstate_free(&s);
	hvt_xc_close(x);
	return rc;
}

/* The command with its "policy" option pointing at the record when none
 * was given (labels, label add): answered offline like a policy file. */
static int with_record(struct hvt *t, const struct hvt_args *a)
{
	struct hvt_args b = *a;
	struct hvt_xstate s = {0};
	struct hvt_xc *x = NULL;
	int idx = -1, rc;

	for (int i = 0; a->cmd->opts && a->cmd->opts[i].name; i++)
		if (!strcmp(a->cmd->opts[i].name, "policy"))
			idx = i;
	if (idx < 0 || a->val[idx])
		return a->cmd->run(t, a);
	rc = xc_open_or_say(&x);
	if (rc)
		return rc;
	rc = hvt_xstate_read(x, &s);
	if (!rc)
		rc = need_record(&s, a->cmd->name);
	if (!rc) {
		b.val[idx] = s.rec_path;
		rc = a->cmd->run(t, &b);
	}
	hvt_xstate_free(&s);
	hvt_xc_close(x);
	return rc;
}

static int not_here(const struct hvt_args *a, const char *instead)
{
	hvt_err("%s: not available on the xen platform (%s; or --platform "
		"model for hvsecd)",
		a->cmd->name, instead);
	return HVT_USAGE;
}

int hvt_xen_run(struct hvt *t, const struct hvt_args *a)
{
	const char *n = a->cmd->name;

	if (!strcmp(n, "policy load"))
		return x_policy_load(t, a, false);
	if (!strcmp(n, "policy update"))
		return x_policy_load(t, a, true);
	if (!strcmp(n, "policy show"))
		return x_policy_show(t, a);
	if (!strcmp(n, "policy compile") || !strcmp(n, "policy graph") ||
	    !strcmp(n, "status"))
		return a->cmd->run(t, a);
	if (!strcmp(n, "labels"))
		return with_record(t, a);
	if (!strcmp(n, "label add") || !strcmp(n, "label rm") ||
	    !strcmp(n, "label get")) {
		const char *target =
			!strcmp(n, "label add") ? a->pos[1] : a->pos[0];

		if (!strcmp(target, "res"))
			return not_here(a, "Xen has no resource labels: "
					   "resources are hvsecd's");
		return with_record(t, a);
	}
	if (!strcmp(n, "list"))
		return x_list(t, a);
	if (!strcmp(n, "relabel"))
		return x_relabel(t, a);
	if (!strcmp(n, "dry-run"))
		return x_dry_run(t, a);
	if (!strcmp(n, "mode"))
		return x_mode(t, a);
	if (!strcmp(n, "create") || !strcmp(n, "destroy") ||
	    !strcmp(n, "pause") || !strcmp(n, "unpause") ||
	    !strcmp(n, "console"))
		return not_here(a,
				"use xl, with seclabel=\"ACM:POLICY:LABEL\"");
	return not_here(a, "it is hvsecd's");
}
