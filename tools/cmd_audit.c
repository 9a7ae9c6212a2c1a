/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_audit.c - audit [--follow] [--lines N] [--since SEQ] [--count N].
 *
 * hvsecd keeps the latest records in a ring and sends them as JSON Lines.
 * --json passes each record on as one JSON object per line (a stream that
 * --follow can extend forever, which one JSON array could not); the
 * default prints one compact line per record:
 *
 *   2025-01-01 12:00:03  #7  DENY  evtchn_bind_interdomain
 *       dom 3 (Acme) -> dom 4 (Globex): 'Acme' and 'Globex' have no ...
 *
 * (on one line).  Records the ring overwrote before we read them are
 * counted and reported, not silently skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

struct rec {
	char seq[24], time[40], hook[48], decision[16];
	bool enforced;
	char subj_domid[16], subj_label[HV_NAME_LEN * 4];
	bool has_object;
	char obj_domid[16], obj_label[HV_NAME_LEN * 4];
	char obj_resource[512], obj_class[16];
	char reason[64], detail[512];
	char suppressed[16];
};

static void put(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v);
}

static void on_field(void *ctx, const char *path, enum hvt_jtype t,
		     const char *v)
{
	struct rec *r = ctx;

	if (t == HVT_J_NULL)
		return;
	if (!strcmp(path, "seq"))
		put(r->seq, sizeof(r->seq), v);
	else if (!strcmp(path, "time"))
		put(r->time, sizeof(r->time), v);
	else if (!strcmp(path, "hook"))
		put(r->hook, sizeof(r->hook), v);
	else if (!strcmp(path, "decision"))
		put(r->decision, sizeof(r->decision), v);
	else if (!strcmp(path, "enforced"))
		r->enforced = !strcmp(v, "true");
	else if (!strcmp(path, "subject.domid"))
		put(r->subj_domid, sizeof(r->subj_domid), v);
	else if (!strcmp(path, "subject.label"))
		put(r->subj_label, sizeof(r->subj_label), v);
	else if (!strncmp(path, "object.", 7)) {
		r->has_object = true;
		if (!strcmp(path, "object.domid"))
			put(r->obj_domid, sizeof(r->obj_domid), v);
		else if (!strcmp(path, "object.label"))
			put(r->obj_label, sizeof(r->obj_label), v);
		else if (!strcmp(path, "object.resource"))
			put(r->obj_resource, sizeof(r->obj_resource), v);
		else if (!strcmp(path, "object.class"))
			put(r->obj_class, sizeof(r->obj_class), v);
	} else if (!strcmp(path, "reason"))
		put(r->reason, sizeof(r->reason), v);
	else if (!strcmp(path, "detail"))
		put(r->detail, sizeof(r->detail), v);
	else if (!strcmp(path, "suppressed"))
		put(r->suppressed, sizeof(r->suppressed), v);
}

static void party(const char *domid, const char *label)
{
	if (domid[0])
		printf("dom %s (%s)", domid, label[0] ? label : "no label");
	else
		printf("%s", label[0] ? label : "(no label)");
}

static void print_line(bool json, const char *line, size_t len)
{
	struct rec r;

	if (hvt_jsonr_walk(line, len, on_field, memset(&r, 0, sizeof(r)))) {
		if (json) {
			struct hvt_json j;

			hvt_json_init(&j, stdout);
			hvt_json_obj(&j);
			hvt_json_key(&j, "malformed");
			hvt_json_strn(&j, line, len);
			hvt_json_obj_end(&j);
			hvt_json_end(&j);
		} else {
			printf("(malformed record) %.*s\n", (int)len, line);
		}
		return;
	}
	if (json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		return;
	}
	/* "2025-01-01T12:00:03.123456789Z" -> "2025-01-01 12:00:03" */
	if (strlen(r.time) >= 19) {
		r.time[10] = ' ';
		r.time[19] = '\0';
	}
	printf("%s  #%s  %s%s  %s  ", r.time, r.seq,
	       !strcmp(r.decision, "deny") ? "DENY" : "PERMIT",
	       !r.enforced && !strcmp(r.decision, "deny") ? " (permissive)"
							  : "",
	       r.hook);
	party(r.subj_domid, r.subj_label);
	if (r.obj_resource[0])
		printf(" -> %s %s (%s)",
		       r.obj_class[0] ? r.obj_class : "resource",
		       r.obj_resource,
		       r.obj_label[0] ? r.obj_label : "no label");
	else if (r.has_object) {
		printf(" -> ");
		party(r.obj_domid, r.obj_label);
	}
	printf(": %s", r.detail[0] ? r.detail : r.reason);
	if (r.suppressed[0] && strcmp(r.suppressed, "0"))
		printf(" [+%s identical suppressed]", r.suppressed);
	printf("\n");
}

struct audit_state {
	bool json;
	uint64_t count_max; /* 0: no limit */
	uint64_t printed;
	/* --lines: everything is kept until the end, then the tail shown */
	bool keep;
	char **kept;
	size_t n_kept;
};

/* One reply's or notice's records.  Returns false when --count is
 * reached. */
static bool records(struct audit_state *st, const struct hv_ctl_audit_rep *rep,
		    const char *text)
{
	const char *p = text, *end = text + rep->n_bytes;

	if (rep->dropped)
		hvt_warn("%" PRIu64 " audit record%s lost (the ring was "
			 "overwritten before they were read)",
			 rep->dropped, rep->dropped == 1 ? "" : "s");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len == 0) {
			p += 1;
			continue;
		}
		if (st->keep) {
			char **nk = realloc(st->kept,
					    (st->n_kept + 1) * sizeof(*nk));
			char *copy = strndup(p, len);

			if (nk)
				st->kept = nk;
			if (!nk || !copy) {
				free(copy);
				hvt_err("out of memory");
				return false;
			}
			st->kept[st->n_kept++] = copy;
		} else {
			print_line(st->json, p, len);
			st->printed++;
			if (st->count_max && st->printed >= st->count_max)
				return false;
		}
		p += len + 1;
	}
	fflush(stdout);
	return true;
}

/* Checks a reply or notice body; *text is its JSON. */
static int parse_rep(const struct hv_ctl_resp *r, struct hv_ctl_audit_rep *rep,
		     const char **text)
{
	if (r->body_len < sizeof(*rep))
		return -1;
	memcpy(rep, r->body, sizeof(*rep));
	if (rep->n_bytes > r->body_len - sizeof(*rep) ||
	    r->body_len - sizeof(*rep) - rep->n_bytes >= 4)
		return -1;
	*text = (const char *)r->body + sizeof(*rep);
	return 0;
}

/* Reads from *seq on until the daemon has nothing newer. */
static int read_all(struct hvt *t, struct audit_state *st, uint64_t *seq,
		    bool follow_at_end, bool *more)
{
	*more = true;
	for (unsigned round = 0; round < 1000000; round++) {
		struct hv_ctl_audit_req req = {*seq, 0, 0};
		struct hv_ctl_audit_rep rep;
		const char *text;
		int rc;

		rc = hvt_call(t, HV_CTL_AUDIT_READ, &req, sizeof(req), NULL, 0);
		if (rc)
			return hvt_fail(t, "audit", rc);
		if (parse_rep(t->resp, &rep, &text)) {
			hvt_err("hvsecd sent a malformed audit reply");
			return HVT_DAEMON;
		}
		if (!records(st, &rep, text)) {
			*more = false;
			return 0;
		}
		if (rep.n_records == 0 || rep.next_seq <= *seq) {
			if (rep.next_seq > *seq)
				*seq = rep.next_seq;
			break;
		}
		*seq = rep.next_seq;
	}
	if (!follow_at_end)
		return 0;
	/* Ask again with FOLLOW: whatever came since arrives in this reply,
	 * everything later as notices. */
	struct hv_ctl_audit_req req = {*seq, 0, HV_CTL_AUDIT_F_FOLLOW};
	struct hv_ctl_audit_rep rep;
	const char *text;
	int rc = hvt_call(t, HV_CTL_AUDIT_READ, &req, sizeof(req), NULL, 0);

	if (rc)
		return hvt_fail(t, "audit", rc);
	if (parse_rep(t->resp, &rep, &text)) {
		hvt_err("hvsecd sent a malformed audit reply");
		return HVT_DAEMON;
	}
	if (!records(st, &rep, text))
		*more = false;
	*seq = rep.next_seq;
	return 0;
}

int hvt_cmd_audit(struct hvt *t, const struct hvt_args *a)
{
	struct audit_state st = {.json = t->json};
	const char *s_lines = hvt_opt(a, "lines"),
		   *s_since = hvt_opt(a, "since");
	const char *s_count = hvt_opt(a, "count");
	bool follow = hvt_opt(a, "follow") != NULL, more;
	uint32_t lines = 0, count = 0, since = 0;
	uint64_t seq;
	int rc;

	if (s_lines && !hvt_parse_u32(s_lines, UINT32_MAX, &lines))
		return hvt_usage(a->cmd, "--lines: '%s' is not a number",
				 s_lines);
	if (s_since && !hvt_parse_u32(s_since, UINT32_MAX, &since))
		return hvt_usage(a->cmd, "--since: '%s' is not a number",
				 s_since);
	if (s_count && (!hvt_parse_u32(s_count, UINT32_MAX, &count) || !count))
		return hvt_usage(a->cmd,
				 "--count: '%s' is not a positive number",
				 s_count);
	st.count_max = count;
	st.keep = s_lines != NULL;
	seq = since;
	rc = read_all(t, &st, &seq, follow && !st.keep, &more);
	if (rc)
		goto out;
	if (st.keep) {
		size_t from = st.n_kept > lines ? st.n_kept - lines : 0;

		st.keep = false;
		for (size_t i = from; i < st.n_kept && more; i++) {
			print_line(st.json, st.kept[i], strlen(st.kept[i]));
			st.printed++;
			if (st.count_max && st.printed >= st.count_max)
				more = false;
		}
		fflush(stdout);
		if (follow && more)
			rc = read_all(t, &st, &seq, true, &more);
		if (rc)
			goto out;
	}
	while (follow && more) {
		struct hv_ctl_audit_rep rep;
		const char *text;

		rc = hv_ctl_next_notice(t->client, t->resp, -1);
		if (rc) {
			hvt_err("audit: hvsecd went away: %s", strerror(-rc));
			rc = HVT_DAEMON;
			goto out;
		}
		if (t->resp->r.h.op != HV_CTL_NTF_AUDIT)
			continue;
		if (parse_rep(t->resp, &rep, &text)) {
			hvt_err("hvsecd sent a malformed audit notice");
			rc = HVT_DAEMON;
			goto out;
		}
		more = records(&st, &rep, text);
		hv_ctl_resp_release(t->resp);
	}
	if (!follow && !st.json && st.printed == 0 && !st.n_kept)
		fprintf(stderr, "(no audit records)\n");
out:
	for (size_t i = 0; i < st.n_kept; i++)
		free(st.kept[i]);
	free(st.kept);
	return rc;
}
