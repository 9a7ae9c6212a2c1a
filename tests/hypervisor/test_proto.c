/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proto.c - the hypercall parser (hypervisor/hv_proto.c), as tables:
 * every request shape the daemon must refuse, which error wins when
 * several apply, and the guest library's reply parser.
 */
#include <errno.h>
#include <string.h>

#include "hypervisor/hv_proto.h"
#include "tests/harness.h"

struct req_case {
	const char *name;
	uint32_t magic, op, seq;
	int len_delta; /* header len field minus the real length */
	const void *body;
	size_t body_len;
	size_t truncate; /* send only this many bytes (0: all) */
	unsigned nfds;
	int want;
};

#define M HV_HC_MAGIC(HV_HC_VERSION)

static const struct hv_req_evtchn_port port1 = {1}, port0 = {0},
				       port_max = {HV_EVTCHN_PORTS};
static const struct hv_req_evtchn_alloc_unbound ub_self = {HV_DOMID_SELF},
						ub_bad = {0x7ff1};
static const struct hv_req_evtchn_bind bind_ok = {2, 5},
				       bind_self = {HV_DOMID_SELF, 5},
				       bind_p0 = {2, 0}, bind_res = {0x7ff1, 5};
static const struct hv_req_gnt_grant gr_ok = {2, HV_GNT_READONLY},
				     gr_flags = {2, 2};
static const struct hv_req_gnt_map map_ok = {2, 8, HV_GNTMAP_READONLY},
				   map_gref = {2, HV_GNT_PER_DOM, 0};
static const struct hv_req_gnt_copy cp_ok = {{2, 8, 0},
					     {HV_DOMID_SELF, 9, 4000},
					     96,
					     0},
				    cp_len0 = {{2, 8, 0}, {2, 9, 0}, 0, 0},
				    cp_big = {{2, 8, 0}, {2, 9, 0}, 4097, 0},
				    cp_off = {{2, 8, 4000}, {2, 9, 0}, 97, 0},
				    cp_flags = {{2, 8, 0}, {2, 9, 0}, 1, 1};
static const struct hv_req_shutdown sd_ok = {HV_SHUTDOWN_CRASH}, sd_bad = {4};
static const struct hv_req_gnt_transfer tr_flags = {2, 1};
static const uint8_t big[HV_HC_MSG_MAX];

static const struct req_case req_cases[] = {
	{"whoami", M, HV_OP_WHOAMI, 7, 0, NULL, 0, 0, 0, 0},
	{"short header", M, HV_OP_WHOAMI, 1, 0, NULL, 0, 15, 0, -EINVAL},
	{"empty", M, HV_OP_WHOAMI, 1, 0, NULL, 0, 1, 0, -EINVAL},
	{"bad magic", 0x12345678, HV_OP_WHOAMI, 1, 0, NULL, 0, 0, 0, -EINVAL},
	{"version 0", HV_HC_MAGIC(0), HV_OP_WHOAMI, 1, 0, NULL, 0, 0, 0,
	 -EINVAL},
	{"version 2", HV_HC_MAGIC(2), HV_OP_WHOAMI, 1, 0, NULL, 0, 0, 0,
	 -EINVAL},
	{"len field too big", M, HV_OP_WHOAMI, 1, 4, NULL, 0, 0, 0, -EINVAL},
	{"len field too small", M, HV_OP_EVTCHN_SEND, 1, -4, &port1, 4, 0, 0,
	 -EINVAL},
	{"op 0", M, 0, 1, 0, NULL, 0, 0, 0, -ENOSYS},
	{"op unknown", M, 99, 1, 0, NULL, 0, 0, 0, -ENOSYS},
	{"reply bit set", M, HV_REPLY | HV_OP_WHOAMI, 1, 0, NULL, 0, 0, 0,
	 -ENOSYS},
	/* which error wins */
	{"bad magic beats unknown op", 1, 99, 1, 0, NULL, 0, 0, 0, -EINVAL},
	{"unknown op beats bad body", M, 99, 1, 0, &port1, 4, 0, 0, -ENOSYS},
	{"bad length beats bad fields", M, HV_OP_EVTCHN_SEND, 1, 0, &port0, 3,
	 0, 0, -EINVAL},
	{"oversize datagram", M, HV_OP_WHOAMI, 1, 0, big, sizeof(big), 0, 0,
	 -EINVAL},
	/* bodies */
	{"whoami with a body", M, HV_OP_WHOAMI, 1, 0, &port1, 4, 0, 0, -EINVAL},
	{"send port 1", M, HV_OP_EVTCHN_SEND, 1, 0, &port1, 4, 0, 0, 0},
	{"send port 0", M, HV_OP_EVTCHN_SEND, 1, 0, &port0, 4, 0, 0, -EINVAL},
	{"status port max", M, HV_OP_EVTCHN_STATUS, 1, 0, &port_max, 4, 0, 0,
	 -EINVAL},
	{"send with an fd", M, HV_OP_EVTCHN_SEND, 1, 0, &port1, 4, 0, 1,
	 -EINVAL},
	{"unbound to self", M, HV_OP_EVTCHN_ALLOC_UNBOUND, 1, 0, &ub_self, 4, 0,
	 0, 0},
	{"unbound to reserved domid", M, HV_OP_EVTCHN_ALLOC_UNBOUND, 1, 0,
	 &ub_bad, 4, 0, 0, -EINVAL},
	{"bind", M, HV_OP_EVTCHN_BIND_INTERDOMAIN, 1, 0, &bind_ok, 8, 0, 0, 0},
	{"bind DOMID_SELF (loopback)", M, HV_OP_EVTCHN_BIND_INTERDOMAIN, 1, 0,
	 &bind_self, 8, 0, 0, 0},
	{"bind reserved domid", M, HV_OP_EVTCHN_BIND_INTERDOMAIN, 1, 0,
	 &bind_res, 8, 0, 0, -EINVAL},
	{"bind port 0", M, HV_OP_EVTCHN_BIND_INTERDOMAIN, 1, 0, &bind_p0, 8, 0,
	 0, -EINVAL},
	{"bind short", M, HV_OP_EVTCHN_BIND_INTERDOMAIN, 1, 0, &bind_ok, 4, 0,
	 0, -EINVAL},
	{"grant", M, HV_OP_GNT_GRANT_ACCESS, 1, 0, &gr_ok, 8, 0, 1, 0},
	{"grant without its fd", M, HV_OP_GNT_GRANT_ACCESS, 1, 0, &gr_ok, 8, 0,
	 0, -EINVAL},
	{"grant with two fds", M, HV_OP_GNT_GRANT_ACCESS, 1, 0, &gr_ok, 8, 0, 2,
	 -EINVAL},
	{"grant unknown flag", M, HV_OP_GNT_GRANT_ACCESS, 1, 0, &gr_flags, 8, 0,
	 1, -EINVAL},
	{"map", M, HV_OP_GNT_MAP, 1, 0, &map_ok, 12, 0, 0, 0},
	{"map gref out of range", M, HV_OP_GNT_MAP, 1, 0, &map_gref, 12, 0, 0,
	 -EINVAL},
	{"copy", M, HV_OP_GNT_COPY, 1, 0, &cp_ok, 32, 0, 0, 0},
	{"copy len 0", M, HV_OP_GNT_COPY, 1, 0, &cp_len0, 32, 0, 0, -EINVAL},
	{"copy len > page", M, HV_OP_GNT_COPY, 1, 0, &cp_big, 32, 0, 0,
	 -EINVAL},
	{"copy offset + len > page", M, HV_OP_GNT_COPY, 1, 0, &cp_off, 32, 0, 0,
	 -EINVAL},
	{"copy flags", M, HV_OP_GNT_COPY, 1, 0, &cp_flags, 32, 0, 0, -EINVAL},
	{"transfer flags", M, HV_OP_GNT_TRANSFER, 1, 0, &tr_flags, 8, 0, 1,
	 -EINVAL},
	{"shutdown crash", M, HV_OP_SCHED_SHUTDOWN, 1, 0, &sd_ok, 4, 0, 0, 0},
	{"shutdown reason 4", M, HV_OP_SCHED_SHUTDOWN, 1, 0, &sd_bad, 4, 0, 0,
	 -EINVAL},
};

static void test_requests(void)
{
	for (size_t i = 0; i < TH_ARRAY_LEN(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		uint8_t buf[2 * HV_HC_MSG_MAX];
		struct hv_msg_hdr h = {c->magic, c->op,
				       (uint32_t)(sizeof(h) + c->body_len +
						  (size_t)(long)c->len_delta),
				       c->seq};
		struct hv_request req;
		size_t len = sizeof(h) + c->body_len;
		int rc;

		memcpy(buf, &h, sizeof(h));
		if (c->body_len)
			memcpy(buf + sizeof(h), c->body, c->body_len);
		if (c->truncate)
			len = c->truncate;
		rc = hv_request_parse(buf, len, c->nfds, &req);
		TH_CHECK(rc == c->want, "request %s: got %d want %d", c->name,
			 rc, c->want);
		if (rc == 0)
			TH_CHECK(req.h.seq == c->seq && req.h.op == c->op,
				 "request %s: header kept", c->name);
	}
}

/* Every prefix of a valid message is refused, never read past. */
static void test_prefixes(void)
{
	uint8_t buf[64];
	struct hv_request req;
	size_t n =
		hv_request_build(buf, HV_OP_GNT_COPY, 3, &cp_ok, sizeof(cp_ok));
	int bad = 0;

	TH_CHECK(n == 48, "copy request is 48 bytes");
	for (size_t l = 0; l < n; l++)
		if (hv_request_parse(buf, l, 0, &req) != -EINVAL)
			bad++;
	TH_CHECK(bad == 0, "every prefix refused (%d accepted)", bad);
	TH_CHECK(hv_request_parse(buf, n, 0, &req) == 0, "whole accepted");
}

struct rep_case {
	const char *name;
	uint32_t op, seq;
	int32_t err;
	uint32_t nfds_field;
	unsigned nfds;
	const void *body;
	size_t body_len;
	int want;
};

static const struct hv_rep_evtchn_bind rb = {1, 2, 3, 0},
				       rb_med = {1, 2, 3,
						 HV_EVTCHN_F_SEND_MEDIATED},
				       rb_flag = {1, 2, 3, 4};
static const struct hv_rep_gnt_map rmap = {0, 0};
static const struct hv_ntf_evtchn_closed nclosed = {1, HV_CLOSE_DIED};

static const struct rep_case rep_cases[] = {
	{"bind reply, 2 fds", HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN, 5, 0, 2,
	 2, &rb, sizeof(rb), 0},
	{"bind reply mediated, 1 fd", HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN,
	 5, 0, 1, 1, &rb_med, sizeof(rb_med), 0},
	{"bind reply, 1 fd not mediated",
	 HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN, 5, 0, 1, 1, &rb, sizeof(rb),
	 -EINVAL},
	{"bind reply unknown flag", HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN, 5,
	 0, 2, 2, &rb_flag, sizeof(rb_flag), -EINVAL},
	{"nfds field disagrees", HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN, 5, 0,
	 1, 2, &rb, sizeof(rb), -EINVAL},
	{"error reply", HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN, 5, -EACCES, 0,
	 0, NULL, 0, 0},
	{"error reply with a body", HV_REPLY | HV_OP_EVTCHN_BIND_INTERDOMAIN, 5,
	 -EACCES, 0, 0, &rb, sizeof(rb), -EINVAL},
	{"positive errno", HV_REPLY | HV_OP_EVTCHN_SEND, 5, EACCES, 0, 0, NULL,
	 0, -EINVAL},
	{"map reply without fd", HV_REPLY | HV_OP_GNT_MAP, 5, 0, 0, 0, &rmap,
	 sizeof(rmap), -EINVAL},
	{"map reply", HV_REPLY | HV_OP_GNT_MAP, 5, 0, 1, 1, &rmap, sizeof(rmap),
	 0},
	{"notice closed", HV_NTF_EVTCHN_CLOSED, 0, 0, 0, 0, &nclosed,
	 sizeof(nclosed), 0},
	{"notice with seq", HV_NTF_EVTCHN_CLOSED, 9, 0, 0, 0, &nclosed,
	 sizeof(nclosed), -EINVAL},
	{"notice bound with fds", HV_NTF_EVTCHN_BOUND, 0, 0, 2, 2, &rb,
	 sizeof(rb), 0},
	{"request op in a reply", HV_OP_EVTCHN_SEND, 5, 0, 0, 0, NULL, 0,
	 -EINVAL},
	{"unknown notice", HV_NOTICE | 99, 0, 0, 0, 0, NULL, 0, -EINVAL},
};

static void test_replies(void)
{
	for (size_t i = 0; i < TH_ARRAY_LEN(rep_cases); i++) {
		const struct rep_case *c = &rep_cases[i];
		uint8_t buf[HV_HC_MSG_MAX];
		struct hv_reply r;
		size_t n = hv_reply_build(buf, c->op, c->seq, c->err,
					  c->nfds_field, c->body, c->body_len);
		int rc = hv_reply_parse(buf, n, c->nfds, &r);

		TH_CHECK(rc == c->want, "reply %s: got %d want %d", c->name, rc,
			 c->want);
	}
	/* whoami: names must be terminated inside their fields */
	struct hv_rep_whoami w;
	uint8_t buf[HV_HC_MSG_MAX];
	struct hv_reply r;
	size_t n;

	memset(&w, 'x', sizeof(w));
	n = hv_reply_build(buf, HV_REPLY | HV_OP_WHOAMI, 1, 0, 0, &w,
			   sizeof(w));
	TH_CHECK(hv_reply_parse(buf, n, 0, &r) == -EINVAL,
		 "whoami with unterminated names refused");
	memset(&w, 0, sizeof(w));
	strcpy(w.name, "guest");
	n = hv_reply_build(buf, HV_REPLY | HV_OP_WHOAMI, 1, 0, 0, &w,
			   sizeof(w));
	TH_CHECK(hv_reply_parse(buf, n, 0, &r) == 0 &&
			 !strcmp(r.u.whoami.name, "guest"),
		 "whoami accepted");
}

static void test_names(void)
{
	TH_CHECK(!strcmp(hv_op_name(HV_OP_GNT_MAP), "GNT_MAP"), "op name");
	TH_CHECK(!strcmp(hv_op_name(HV_NTF_EVTCHN_BOUND), "NTF_EVTCHN_BOUND"),
		 "notice name");
	TH_CHECK(!strcmp(hv_op_name(1234), "unknown"), "unknown op name");
	TH_CHECK(!strcmp(hv_errno_name(-EACCES), "EACCES"), "errno name");
	TH_CHECK(!strcmp(hv_errno_name(0), "OK"), "OK");
	for (uint32_t op = 1; op < HV_OP__COUNT; op++) {
		const struct hv_op_desc *d = hv_op_desc(op);

		TH_CHECK(d && d->name &&
				 sizeof(struct hv_msg_hdr) + d->req_len <=
					 HV_HC_MSG_MAX &&
				 sizeof(struct hv_reply_hdr) + d->rep_len <=
					 HV_HC_MSG_MAX &&
				 d->req_fds <= HV_HC_FDS_MAX,
			 "op %u fits the message bound", op);
	}
	TH_CHECK(hv_op_desc(0) == NULL && hv_op_desc(HV_OP__COUNT) == NULL,
		 "no desc out of range");
}

int main(void)
{
	test_requests();
	test_prefixes();
	test_replies();
	test_names();
	return th_done();
}
