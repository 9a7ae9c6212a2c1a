/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_domain.c - create, destroy, pause, unpause, relabel, console.
 *
 * create: the daemon decides (host authorization, each labelled disk,
 * vif and vTPM resource, the Chinese Wall) and returns the checks it ran;
 * the tool adds which running domain a Chinese-Wall denial is about,
 * from the same policy.  It decides nothing itself: a pre-check in dom0
 * would only be a second, weaker copy of the daemon's.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "tools/hvsec.h"

static const char *strip_denied(const char *s)
{
	return strncmp(s, "denied: ", 8) ? s : s + 8;
}

/* The vTPMs of a guest created paused, then the guest unpaused (unless
 * asked to stay paused).  On failure the guest and what was set up for
 * it are destroyed: no half-made domain is left behind. */
static int setup_devices(struct hvt *t, const struct xlcfg *c,
			 const struct hv_ctl_domain_info *g, bool paused)
{
	struct hv_ctl_domid req = {.domid = g->domid};
	struct hvt_vtpm_recs *recs;
	int rc;

	if (!c->n_vtpms)
		return 0;
	rc = hvt_vtpm_setup(t, c, g);
	if (!rc && !paused) {
		rc = hvt_call(t, HV_CTL_DOMAIN_UNPAUSE, &req, sizeof(req),
			      NULL, 0);
		if (rc)
			rc = hvt_fail(t, "unpause", rc);
	}
	if (!rc)
		return 0;
	recs = calloc(1, sizeof(*recs));
	if (recs && !hvt_vtpm_records(t, g->domid, recs)) {
		hvt_call(t, HV_CTL_DOMAIN_DESTROY, &req, sizeof(req), NULL, 0);
		hvt_vtpm_teardown(t, recs);
	} else {
		hvt_call(t, HV_CTL_DOMAIN_DESTROY, &req, sizeof(req), NULL, 0);
	}
	free(recs);
	hvt_err("create %s: not started (its vTPM could not be set up)",
		c->name);
	return rc;
}

int hvt_cmd_create(struct hvt *t, const struct hvt_args *a)
{
	static uint8_t body[HV_CTL_MSG_MAX];
	bool quiet = hvt_opt(a, "quiet") != NULL;
	struct xlcfg c = {0};
	struct hvt_create cr;
	struct hvt_policy pol = {0};
	struct hv_ctl_domain_info info, *doms = NULL;
	size_t len, n_doms = 0;
	int rc;

	rc = hvt_cfg_load(a->pos[0], &c);
	if (rc)
		return rc;
	rc = hvt_policy_fetch(t, &pol);
	if (rc)
		goto out_cfg;
	/* A guest with vTPMs starts paused: its devices are set up (and
	 * their backends waiting) before it runs, as libxl does. */
	rc = hvt_create_build(&c, pol.p ? pol.info.name : NULL,
			      hvt_opt(a, "paused") != NULL || c.n_vtpms, &cr);
	if (rc)
		goto out_pol;
	len = hv_ctl_encode_create(&cr.a, body, sizeof(body));
	if (!len) {
		hvt_err("%s: the domain does not fit a create request", c.path);
		rc = HVT_USAGE;
		goto out_cr;
	}
	rc = hvt_call(t, HV_CTL_DOMAIN_CREATE, body, len, NULL, 0);
	if (rc == -HV_EACCES) {
		static struct hvt_dchecks dc;
		char why[512] = "";
		bool wall = false;

		/* Which check refused, from the reply's structured checks
		 * (protocol 2); the text is for people only. */
		if (!hvt_dchecks_take(t->resp, &dc))
			for (uint32_t i = 0; i < dc.rep.n_checks; i++)
				wall |= dc.chk[i].err &&
					dc.chk[i].hook ==
						(uint32_t)
							HOOKS_ID_domain_create;
		hvt_err("create %s denied: %s", c.name,
			strip_denied(t->resp->text));
		/* Which running domain is in the way, if it is the wall. */
		if (pol.p && !hvt_domain_list(t, &doms, &n_doms))
			hvt_chwall_why(
				&pol,
				hvt_label_row(&pol, ACM_LABEL_VM, cr.a.label),
				doms, n_doms, why, sizeof(why));
		/* The daemon stops at the first denial; say when the wall
		 * would refuse as well, so fixing one reason is not a
		 * surprise at the next try. */
		if (why[0])
			fprintf(stderr, "  %sChinese Wall: %s\n",
				wall ? "" : "also ", why);
		rc = HVT_NO;
		goto out_cr;
	}
	if (rc) {
		char what[HV_NAME_LEN + 16];

		snprintf(what, sizeof(what), "create %s", c.name);
		rc = hvt_fail(t, what, rc);
		goto out_cr;
	}
	if (t->resp->body_len != sizeof(info)) {
		hvt_err("hvsecd sent a domain record of %zu bytes",
			t->resp->body_len);
		rc = HVT_DAEMON;
		goto out_cr;
	}
	memcpy(&info, t->resp->body, sizeof(info));
	rc = setup_devices(t, &c, &info, hvt_opt(a, "paused") != NULL);
	if (rc)
		goto out_cr;
	if (!quiet)
		printf("%s domain %s (id=%u)%s\n",
		       hvt_opt(a, "paused") ? "Created" : "Started", c.name,
		       info.domid, hvt_opt(a, "paused") ? ", paused" : "");
out_cr:
	free(doms);
	hvt_create_free(&cr);
out_pol:
	hvt_policy_free(&pol);
out_cfg:
	xlcfg_free(&c);
	return rc;
}

static int domid_op(struct hvt *t, const char *which, uint32_t op,
		    const char *done)
{
	struct hv_ctl_domain_info info;
	struct hv_ctl_domid req;
	char what[HV_NAME_LEN + 32];
	int rc;

	rc = hvt_domain_lookup(t, which, &info);
	if (rc)
		return rc;
	req.domid = info.domid;
	rc = hvt_call(t, op, &req, sizeof(req), NULL, 0);
	if (rc) {
		snprintf(what, sizeof(what), "%s %s", hv_ctl_op_name(op),
			 info.name);
		return hvt_fail(t, what, rc);
	}
	printf("Domain %s (id=%u) %s.\n", info.name, info.domid, done);
	return 0;
}

/* The guest first (its XenStore home goes with it, so each backend sees
 * its frontend gone), then its vTPM stub domains. */
int hvt_cmd_destroy(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_domain_info info;
	struct hvt_vtpm_recs *recs;
	int rc;

	rc = hvt_domain_lookup(t, a->pos[0], &info);
	if (rc)
		return rc;
	recs = calloc(1, sizeof(*recs));
	if (!recs) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	rc = hvt_vtpm_records(t, info.domid, recs);
	if (rc)
		recs->n = 0; /* XenStore unreachable: the guest still goes */
	rc = domid_op(t, a->pos[0], HV_CTL_DOMAIN_DESTROY, "destroyed");
	if (!rc)
		hvt_vtpm_teardown(t, recs);
	free(recs);
	return rc;
}

int hvt_cmd_pause(struct hvt *t, const struct hvt_args *a)
{
	bool pause = !strcmp(a->cmd->name, "pause");

	return domid_op(t, a->pos[0],
			pause ? HV_CTL_DOMAIN_PAUSE : HV_CTL_DOMAIN_UNPAUSE,
			pause ? "paused" : "unpaused");
}

int hvt_cmd_relabel(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_domain_info info;
	struct hv_ctl_relabel req;
	struct hvt_update *u;
	bool dry = hvt_opt(a, "dry-run") != NULL;
	char subject[2 * HV_NAME_LEN + 48];
	int rc;

	if (strlen(a->pos[1]) >= sizeof(req.label))
		return hvt_usage(a->cmd, "label longer than %u",
				 HV_NAME_LEN - 1);
	rc = hvt_domain_lookup(t, a->pos[0], &info);
	if (rc)
		return rc;
	memset(&req, 0, sizeof(req));
	req.domid = info.domid;
	req.flags = dry ? HV_CTL_POLICY_F_DRY_RUN : 0;
	memcpy(req.label, a->pos[1], strlen(a->pos[1]));
	rc = hvt_call(t, HV_CTL_RELABEL, &req, sizeof(req), NULL, 0);
	if (rc && rc != -HV_EBUSY) {
		snprintf(subject, sizeof(subject), "relabel %s", info.name);
		return hvt_fail(t, subject, rc);
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	rc = hvt_update_take(t, rc, u);
	if (!rc) {
		snprintf(subject, sizeof(subject),
			 "Domain %s (id=%u): %s -> %s", info.name, info.domid,
			 info.label[0] ? info.label : ACM_UNLABELED, a->pos[1]);
		rc = hvt_update_print(t, u, dry, "relabelled", subject);
	}
	free(u);
	return rc;
}


static int copy_out(int fd)
{
	char buf[8192];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -EPIPE;
	}
}

int hvt_cmd_console(struct hvt *t, const struct hvt_args *a)
{
	struct hv_ctl_domain_info info;
	struct hv_ctl_domid req;
	bool follow = hvt_opt(a, "follow") != NULL;
	int fd, rc;

	rc = hvt_domain_lookup(t, a->pos[0], &info);
	if (rc)
		return rc;
	req.domid = info.domid;
	rc = hvt_call(t, HV_CTL_CONSOLE, &req, sizeof(req), NULL, 0);
	if (rc)
		return hvt_fail(t, "console", rc);
	if (t->resp->nfds != 1) {
		hvt_err("hvsecd sent no console log");
		return HVT_DAEMON;
	}
	fd = t->resp->fds[0];
	t->resp->fds[0] = -1;
	t->resp->nfds = 0;
	for (;;) {
		rc = copy_out(fd);
		fflush(stdout);
		if (rc || !follow)
			break;
		/* The log only grows while the domain lives; ask now and
		 * then whether it still does, then drain what is left. */
		struct timespec ts = {0, 200 * 1000 * 1000};

		nanosleep(&ts, NULL);
		if (!hvt_domain_alive(t, info.domid)) {
			rc = copy_out(fd);
			break;
		}
	}
	close(fd);
	if (rc && rc != -EPIPE) {
		hvt_err("console: %s", strerror(-rc));
		return HVT_DAEMON;
	}
	return 0;
}
