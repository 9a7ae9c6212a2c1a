/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_conn.c - talking to hvsecd: one connection per run, opened at the
 * first call, and the lookups most commands need (a domain by name or id,
 * the domain list, a resource's label).
 *
 * hv_ctl_call returns the daemon's errno and a transport failure the same
 * way (a negative number); we tell them apart by whether a reply to our
 * request arrived, because the exit status differs (1/2 for an answer,
 * 3 for an unreachable daemon).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/hvsec.h"

static int connect_daemon(struct hvt *t)
{
	int rc;

	if (t->client)
		return 0;
	if (!t->resp) {
		t->resp = calloc(1, sizeof(*t->resp));
		if (!t->resp) {
			hvt_err("out of memory");
			return -HVT_E_TRANSPORT;
		}
	}
	rc = hv_ctl_connect(t->run_dir, &t->client);
	if (rc) {
		hvt_err("cannot reach hvsecd at %s/%s: %s%s", t->run_dir,
			HV_CTL_SOCKET, strerror(-rc),
			rc == -ENOENT || rc == -ECONNREFUSED
				? " (is hvsecd running? see --run-dir "
				  "or " HVT_RUN_DIR_ENV ")"
			: rc == -EACCES ? " (the control socket is root's)"
					: "");
		return -HVT_E_TRANSPORT;
	}
	return 0;
}

void hvt_disconnect(struct hvt *t)
{
	if (t->client)
		hv_ctl_disconnect(t->client);
	t->client = NULL;
	free(t->resp);
	t->resp = NULL;
}

int hvt_call(struct hvt *t, uint32_t op, const void *body, size_t len,
	     const int *fds, unsigned nfds)
{
	int rc = connect_daemon(t);

	if (rc)
		return rc;
	/* Release what the previous reply carried before reusing it. */
	hv_ctl_resp_release(t->resp);
	memset(&t->resp->r, 0, sizeof(t->resp->r));
	t->last_op = op;
	rc = hv_ctl_call(t->client, op, body, len, fds, nfds, t->resp,
			 t->timeout_ms);
	if (rc == 0)
		return 0;
	if (t->resp->r.h.op == (op | HV_CTL_REPLY) && t->resp->r.err == rc)
		return rc;
	hvt_err("hvsecd at %s did not answer %s: %s", t->run_dir,
		hv_ctl_op_name(op),
		rc == -ETIMEDOUT ? "timed out (see --timeout)"
		: rc == -EPIPE	 ? "connection closed"
		: rc == -EPROTO	 ? "malformed reply"
				 : strerror(-rc));
	return -HVT_E_TRANSPORT;
}

int hvt_exit_for(int rc)
{
	switch (rc) {
	case 0:
		return HVT_OK;
	case -HV_EACCES:
	case -HV_EBUSY:
		return HVT_NO;
	case -HV_EPERM:
	case -HV_ESRCH:
	case -HV_ENOENT:
	case -HV_EEXIST:
	case -HV_EINVAL:
	case -HV_E2BIG:
	case -ENAMETOOLONG:
		return HVT_USAGE;
	}
	return HVT_DAEMON;
}

int hvt_fail(struct hvt *t, const char *what, int rc)
{
	const char *text = t->resp && t->resp->text ? t->resp->text : "";
	const char *op = hv_ctl_op_name(t->last_op);
	size_t n = strlen(op);

	/* The daemon's default explanation is "OP: strerror"; the OP part
	 * says again what `what` says. */
	if (!strncmp(text, op, n) && text[n] == ':' && text[n + 1] == ' ')
		text += n + 2;
	if (rc == -HVT_E_TRANSPORT)
		return HVT_DAEMON; /* already said */
	if (rc == -HV_ENOSYS)
		hvt_err("%s: this hvsecd does not support it (ENOSYS)", what);
	else if (text[0])
		hvt_err("%s: %s (%s)", what, text, hvt_errname(rc));
	else
		hvt_err("%s: %s (%s)", what, strerror(-rc), hvt_errname(rc));
	return hvt_exit_for(rc);
}

int hvt_domain_lookup(struct hvt *t, const char *which,
		      struct hv_ctl_domain_info *out)
{
	struct hv_ctl_lookup req;
	uint32_t id;
	int rc;

	memset(&req, 0, sizeof(req));
	if (hvt_parse_u32(which, HV_DOMID_MAX, &id)) {
		req.domid = id;
	} else {
		if (strlen(which) >= sizeof(req.name) || !which[0]) {
			hvt_err("'%s' is not a domain name or id", which);
			return HVT_USAGE;
		}
		req.domid = HV_DOMID_INVALID;
		memcpy(req.name, which, strlen(which));
	}
	rc = hvt_call(t, HV_CTL_DOMAIN_INFO, &req, sizeof(req), NULL, 0);
	if (rc == -HV_ESRCH ||
	    (rc == -HV_EINVAL && req.domid == HV_DOMID_INVALID)) {
		hvt_err("no domain %s '%s' (see 'hvsec list')",
			req.domid == HV_DOMID_INVALID ? "named" : "with id",
			which);
		return HVT_USAGE;
	}
	if (rc)
		return hvt_fail(t, "domain info", rc);
	if (t->resp->body_len != sizeof(*out)) {
		hvt_err("hvsecd sent a domain record of %zu bytes, not %zu",
			t->resp->body_len, sizeof(*out));
		return HVT_DAEMON;
	}
	memcpy(out, t->resp->body, sizeof(*out));
	out->name[sizeof(out->name) - 1] = '\0';
	out->label[sizeof(out->label) - 1] = '\0';
	return 0;
}

int hvt_domain_list(struct hvt *t, struct hv_ctl_domain_info **out, size_t *n)
{
	struct hv_ctl_domain_info *v = NULL;
	size_t have = 0;
	struct hv_ctl_list req = {0, 0};
	int rc, ret = HVT_DAEMON;

	*out = NULL;
	*n = 0;
	/* Pages until the daemon says there is no next one; the bound on
	 * rounds keeps a confused daemon from looping us forever. */
	for (unsigned round = 0; round <= HV_DOMID_MAX; round++) {
		struct hv_ctl_list_rep rep;
		struct hv_ctl_domain_info *nv;
		size_t bytes;

		rc = hvt_call(t, HV_CTL_DOMAIN_LIST, &req, sizeof(req), NULL,
			      0);
		if (rc) {
			ret = hvt_fail(t, "list", rc);
			goto fail;
		}
		if (t->resp->body_len < sizeof(rep))
			goto bad;
		memcpy(&rep, t->resp->body, sizeof(rep));
		bytes = (size_t)rep.count * sizeof(*v);
		if (rep.count > HV_DOMID_MAX + 1 ||
		    t->resp->body_len != sizeof(rep) + bytes)
			goto bad;
		nv = realloc(v, (have + rep.count + 1) * sizeof(*v));
		if (!nv) {
			hvt_err("out of memory");
			goto fail;
		}
		v = nv;
		memcpy(v + have, t->resp->body + sizeof(rep), bytes);
		for (size_t i = have; i < have + rep.count; i++) {
			v[i].name[sizeof(v[i].name) - 1] = '\0';
			v[i].label[sizeof(v[i].label) - 1] = '\0';
		}
		have += rep.count;
		if (rep.next == HV_DOMID_INVALID)
			break;
		if (rep.next <= req.start || rep.count == 0)
			goto bad;
		req.start = rep.next;
	}
	*out = v;
	*n = have;
	return 0;
bad:
	hvt_err("hvsecd sent a malformed domain list");
fail:
	free(v);
	return ret;
}

const char *hvt_domain_name(const struct hv_ctl_domain_info *v, size_t n,
			    uint32_t domid)
{
	for (size_t i = 0; v && i < n; i++)
		if (v[i].domid == domid)
			return v[i].name;
	return "?";
}

bool hvt_domain_live(const struct hv_ctl_domain_info *d)
{
	return d->state == HV_DOMSTATE_RUNNING ||
	       d->state == HV_DOMSTATE_PAUSED;
}

int hvt_reslabel_get(struct hvt *t, const char *res, char *label, size_t len)
{
	uint8_t body[HV_CTL_STR_MAX + 8];
	char got[HV_CTL_STR_MAX + 1];
	struct hv_wbuf w;
	struct hv_cur c;
	int rc;

	hv_wbuf_init(&w, body, sizeof(body));
	hv_wbuf_put_str(&w, res);
	if (hv_wbuf_error(&w)) {
		hvt_err("resource name too long: %.60s...", res);
		return HVT_USAGE;
	}
	rc = hvt_call(t, HV_CTL_RES_LABEL_GET, body, w.len, NULL, 0);
	if (rc == -HV_ENOENT)
		return -ENOENT;
	if (rc)
		return hvt_fail(t, "resource label", rc);
	hv_cur_init(&c, t->resp->body, t->resp->body_len);
	if (hv_cur_get_str(&c, got, sizeof(got), HV_CTL_STR_MAX) ||
	    hv_cur_left(&c) || strlen(got) >= len) {
		hvt_err("hvsecd sent a malformed resource label");
		return HVT_DAEMON;
	}
	memcpy(label, got, strlen(got) + 1);
	return 0;
}

bool hvt_domain_alive(struct hvt *t, uint32_t domid)
{
	struct hv_ctl_lookup req;
	struct hv_ctl_domain_info info;

	memset(&req, 0, sizeof(req));
	req.domid = domid;
	if (hvt_call(t, HV_CTL_DOMAIN_INFO, &req, sizeof(req), NULL, 0) ||
	    t->resp->body_len != sizeof(info))
		return false;
	memcpy(&info, t->resp->body, sizeof(info));
	return hvt_domain_live(&info);
}
