/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backendd_judge.c - what one device's toolstack nodes mean (pure).
 *
 * libxl writes the backend directory, its /libxl copy and the frontend
 * directory in one transaction, `online`=1 and `state`=1 among them, and
 * then waits (10 s) for the backend to go InitWait.  Other toolstacks
 * (our tests, hvsec's own) may write node by node, so whatever is still
 * missing means "wait", and only what is present and wrong is refused.
 * A state other than 1 means some backend already ran for this directory
 * (a dispatcher restarted while its children serve on, or a child that
 * crashed): never start a second one on top.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "vtpm-instance/xen/backendd.h"

static const char nil_uuid[] = "00000000-0000-0000-0000-000000000000";

static void verdict(struct bd_judgement *out, enum bd_verdict v,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void verdict(struct bd_judgement *out, enum bd_verdict v,
		    const char *fmt, ...)
{
	va_list ap;

	out->v = v;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* A read that failed for another reason than absence. */
static const char *rc_text(int rc)
{
	return rc == -E2BIG ? "too long" : strerror(-rc);
}

/* One copy of the uuid: 1 valid (into out), 0 absent or hidden, -1 bad
 * (why says). */
static int uuid_copy(const struct bd_node *nd, const char *where,
		     char out[VTPMD_UUID_LEN + 1], char *why, size_t why_len)
{
	char s[48];

	if (nd->rc == -ENOENT || nd->rc == -EACCES)
		return 0;
	if (nd->rc) {
		snprintf(why, why_len, "reading the uuid in %s: %s", where,
			 rc_text(nd->rc));
		return -1;
	}
	if (vtpmd_parse_uuid(nd->val, out)) {
		vtpmd_sanitize(nd->val, s, sizeof(s));
		snprintf(why, why_len,
			 "uuid \"%s\" in %s is not a UUID (8-4-4-4-12 hex "
			 "digits)",
			 s, where);
		return -1;
	}
	if (!strcmp(out, nil_uuid)) {
		snprintf(why, why_len, "uuid in %s is the nil UUID", where);
		return -1;
	}
	return 1;
}

void bd_judge(const struct bd_nodes *in, struct bd_judgement *out)
{
	char be[VTPMD_UUID_LEN + 1], lx[VTPMD_UUID_LEN + 1], s[24];
	uint32_t id;
	int hb, hl;

	memset(out, 0, sizeof(*out));

	if (in->online.rc == -ENOENT) {
		verdict(out, BD_WAIT, "no `online` yet");
		return;
	}
	if (in->online.rc) {
		verdict(out, BD_LEAVE, "reading `online`: %s",
			rc_text(in->online.rc));
		return;
	}
	if (strcmp(in->online.val, "1")) {
		vtpmd_sanitize(in->online.val, s, sizeof(s));
		verdict(out, BD_LEAVE, "not online (online is \"%s\")", s);
		return;
	}

	if (in->state.rc == -ENOENT) {
		verdict(out, BD_WAIT, "no `state` yet");
		return;
	}
	if (in->state.rc) {
		verdict(out, BD_LEAVE, "reading `state`: %s",
			rc_text(in->state.rc));
		return;
	}
	if (strcmp(in->state.val, "1")) {
		vtpmd_sanitize(in->state.val, s, sizeof(s));
		verdict(out, BD_LEAVE,
			"state is \"%s\", not 1 (Initialising): a backend "
			"ran for it already",
			s);
		return;
	}

	if (in->frontend_id.rc == -ENOENT) {
		verdict(out, BD_WAIT, "no `frontend-id` yet");
		return;
	}
	if (in->frontend_id.rc ||
	    vtpmd_parse_u32(in->frontend_id.val, VTPMD_DOMID_MAX, &id) ||
	    id != in->g) {
		vtpmd_sanitize(in->frontend_id.rc ? "" : in->frontend_id.val, s,
			       sizeof(s));
		verdict(out, BD_REFUSE,
			"frontend-id is \"%s\", but the directory is "
			"domain %u's",
			s, in->g);
		return;
	}

	out->why[0] = '\0';
	hl = uuid_copy(&in->lx_uuid, "/libxl", lx, out->why, sizeof(out->why));
	if (hl < 0) {
		out->v = BD_REFUSE;
		return;
	}
	hb = uuid_copy(&in->be_uuid, "the backend directory", be, out->why,
		       sizeof(out->why));
	if (hb < 0) {
		out->v = BD_REFUSE;
		return;
	}
	if (hl && hb && strcmp(lx, be)) {
		verdict(out, BD_REFUSE,
			"uuid %s in /libxl differs from %s in the backend "
			"directory",
			lx, be);
		return;
	}
	if (!hl && !hb) {
		verdict(out, BD_WAIT, "no uuid yet");
		return;
	}
	out->v = BD_SERVE;
	memcpy(out->uuid, hl ? lx : be, sizeof(out->uuid));
	out->uuid_from = hl ? "/libxl" : "backend";
}

bool bd_removal_requested(const struct bd_node *online)
{
	return online->rc == 0 && strcmp(online->val, "1") != 0;
}

void bd_describe_status(int status, char *out, size_t out_len)
{
	if (WIFEXITED(status))
		snprintf(out, out_len, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, out_len, "killed by signal %d (%s)%s",
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(out, out_len, "ended with wait status 0x%x",
			 (unsigned)status);
}
