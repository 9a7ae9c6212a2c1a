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

/* Device connect/disconnect bodies: frontend, class, flags, reserved,
 * the resource name (canonical for its class, NUL-padded). */
#define DEV(f, c, n)                                                           \
	{                                                                      \
		.frontend = (f), .cls = (c), .resource = n                     \
	}
static const struct hv_req_device
	dv_disk = DEV(2, HV_DEV_DISK, "file:/img/web.img"),
	dv_phy = DEV(2, HV_DEV_DISK, "phy:/dev/vg/acme"),
	dv_vlan = DEV(2, HV_DEV_VIF, "vlan:20"),
	dv_vlan_max = DEV(2, HV_DEV_VIF, "vlan:4095"),
	dv_bridge = DEV(2, HV_DEV_VIF, "bridge:xenbr0"),
	dv_vtpm = DEV(2, HV_DEV_VTPM,
		      "vtpm:0d6f3c1e-5a7b-4c2d-9e8f-112233445566"),
	dv_dom0 = DEV(0, HV_DEV_DISK, "file:/img"),
	dv_self = DEV(HV_DOMID_SELF, HV_DEV_DISK, "file:/img"),
	dv_dommax = DEV(HV_DOMID_MAX + 1, HV_DEV_DISK, "file:/img"),
	dv_cls0 = DEV(2, 0, "file:/img"), dv_cls4 = DEV(2, 4, "file:/img"),
	dv_flags = {.frontend = 2,
		    .cls = HV_DEV_DISK,
		    .flags = 1,
		    .resource = "file:/img"},
	dv_resv = {.frontend = 2,
		   .cls = HV_DEV_DISK,
		   .reserved = 1,
		   .resource = "file:/img"},
	dv_empty = DEV(2, HV_DEV_DISK, ""),
	dv_ctrl = DEV(2, HV_DEV_DISK, "file:/im\ng"),
	dv_del = DEV(2, HV_DEV_DISK, "file:/im\x7fg"),
	dv_rel = DEV(2, HV_DEV_DISK, "file:img"),
	dv_root = DEV(2, HV_DEV_DISK, "file:/"),
	dv_dslash = DEV(2, HV_DEV_DISK, "file:/img//a"),
	dv_dot = DEV(2, HV_DEV_DISK, "file:/img/./a"),
	dv_dotdot = DEV(2, HV_DEV_DISK, "file:/img/../a"),
	dv_trail = DEV(2, HV_DEV_DISK, "phy:/dev/sda/"),
	dv_tap = DEV(2, HV_DEV_DISK, "tap:aio:/img"),
	dv_nokind = DEV(2, HV_DEV_DISK, "/img"),
	dv_vlan0 = DEV(2, HV_DEV_VIF, "vlan:0"),
	dv_vlan_lead = DEV(2, HV_DEV_VIF, "vlan:020"),
	dv_vlan_big = DEV(2, HV_DEV_VIF, "vlan:4096"),
	dv_vlan_x = DEV(2, HV_DEV_VIF, "vlan:2x"),
	dv_bridge_long = DEV(2, HV_DEV_VIF, "bridge:abcdefghijklmnop"),
	dv_bridge_bad = DEV(2, HV_DEV_VIF, "bridge:br/0"),
	dv_vtpm_upper = DEV(2, HV_DEV_VTPM,
			    "vtpm:0D6F3C1E-5A7B-4C2D-9E8F-112233445566"),
	dv_vtpm_short = DEV(2, HV_DEV_VTPM, "vtpm:0d6f3c1e"),
	dv_disk_as_vif = DEV(2, HV_DEV_VIF, "file:/img"),
	dv_vlan_as_vtpm = DEV(2, HV_DEV_VTPM, "vlan:20"),
	dv_bad_all = {.frontend = HV_DOMID_SELF,
		      .cls = 9,
		      .flags = 3,
		      .resource = ""};
/* The name fills its field: no NUL.  And a name with bytes after its
 * NUL (the daemon would not see them; they must be zero). */
static struct hv_req_device dv_unterminated, dv_tail;

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
#define DC(name, body, want)                                                   \
	{                                                                      \
		name, M, HV_OP_DEVICE_CONNECT, 1, 0, &(body), sizeof(body), 0, \
			0, want                                                \
	}
	DC("connect file disk", dv_disk, 0),
	DC("connect phy disk", dv_phy, 0),
	DC("connect vlan vif", dv_vlan, 0),
	DC("connect vlan 4095", dv_vlan_max, 0),
	DC("connect bridge vif", dv_bridge, 0),
	DC("connect vtpm", dv_vtpm, 0),
	DC("connect to dom0 (parses; the daemon decides)", dv_dom0, 0),
	DC("connect DOMID_SELF", dv_self, -EINVAL),
	DC("connect reserved domid", dv_dommax, -EINVAL),
	DC("connect class 0", dv_cls0, -EINVAL),
	DC("connect class 4", dv_cls4, -EINVAL),
	DC("connect flags", dv_flags, -EINVAL),
	DC("connect reserved", dv_resv, -EINVAL),
	DC("connect empty name", dv_empty, -EINVAL),
	DC("connect name without NUL", dv_unterminated, -EINVAL),
	DC("connect bytes after the NUL", dv_tail, -EINVAL),
	DC("connect control character", dv_ctrl, -EINVAL),
	DC("connect DEL", dv_del, -EINVAL),
	DC("connect relative path", dv_rel, -EINVAL),
	DC("connect the root directory", dv_root, -EINVAL),
	DC("connect //", dv_dslash, -EINVAL),
	DC("connect /./", dv_dot, -EINVAL),
	DC("connect /../", dv_dotdot, -EINVAL),
	DC("connect trailing /", dv_trail, -EINVAL),
	DC("connect tap:aio: (not canonical)", dv_tap, -EINVAL),
	DC("connect no kind", dv_nokind, -EINVAL),
	DC("connect vlan 0", dv_vlan0, -EINVAL),
	DC("connect vlan leading zero", dv_vlan_lead, -EINVAL),
	DC("connect vlan 4096", dv_vlan_big, -EINVAL),
	DC("connect vlan not a number", dv_vlan_x, -EINVAL),
	DC("connect bridge of 16", dv_bridge_long, -EINVAL),
	DC("connect bridge with /", dv_bridge_bad, -EINVAL),
	DC("connect vtpm upper case", dv_vtpm_upper, -EINVAL),
	DC("connect vtpm short", dv_vtpm_short, -EINVAL),
	DC("connect disk name as vif", dv_disk_as_vif, -EINVAL),
	DC("connect vif name as vtpm", dv_vlan_as_vtpm, -EINVAL),
	DC("connect everything wrong", dv_bad_all, -EINVAL),
#undef DC
	{"disconnect", M, HV_OP_DEVICE_DISCONNECT, 1, 0, &dv_vtpm,
	 sizeof(dv_vtpm), 0, 0, 0},
	{"disconnect not canonical", M, HV_OP_DEVICE_DISCONNECT, 1, 0,
	 &dv_dslash, sizeof(dv_dslash), 0, 0, -EINVAL},
	{"connect with an fd", M, HV_OP_DEVICE_CONNECT, 1, 0, &dv_disk,
	 sizeof(dv_disk), 0, 1, -EINVAL},
	{"connect short body", M, HV_OP_DEVICE_CONNECT, 1, 0, &dv_disk,
	 sizeof(dv_disk) - 1, 0, 0, -EINVAL},
	{"connect long body", M, HV_OP_DEVICE_CONNECT, 1, 0, big,
	 sizeof(dv_disk) + 4, 0, 0, -EINVAL},
	{"unknown op beats a bad device body", M, HV_OP__COUNT, 1, 0,
	 &dv_bad_all, sizeof(dv_bad_all), 0, 0, -ENOSYS},
	{"bad magic beats a bad device body", 1, HV_OP_DEVICE_CONNECT, 1, 0,
	 &dv_bad_all, sizeof(dv_bad_all), 0, 0, -EINVAL},
};

static void test_requests(void)
{
	memset(&dv_unterminated, 0, sizeof(dv_unterminated));
	dv_unterminated.frontend = 2;
	dv_unterminated.cls = HV_DEV_DISK;
	memcpy(dv_unterminated.resource, "file:/", 6);
	memset(dv_unterminated.resource + 6, 'a', HV_DEV_NAME_LEN - 6);
	dv_tail = dv_disk;
	dv_tail.resource[HV_DEV_NAME_LEN - 1] = 'x';
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

/* The longest name that fits is accepted; one byte more is not. */
static void test_device_name_bound(void)
{
	struct hv_req_device dv;
	struct hv_request req;
	uint8_t buf[HV_HC_MSG_MAX];
	size_t n;

	memset(&dv, 0, sizeof(dv));
	dv.frontend = 3;
	dv.cls = HV_DEV_DISK;
	memcpy(dv.resource, "file:/", 6);
	memset(dv.resource + 6, 'a', HV_DEV_NAME_LEN - 7);
	n = hv_request_build(buf, HV_OP_DEVICE_CONNECT, 9, &dv, sizeof(dv));
	TH_CHECK(n == sizeof(struct hv_msg_hdr) + sizeof(dv) &&
			 hv_request_parse(buf, n, 0, &req) == 0 &&
			 strlen(req.u.device.resource) == HV_DEV_NAME_LEN - 1,
		 "a name of %u bytes fits", HV_DEV_NAME_LEN - 1);
	for (size_t l = 0; l < n; l++)
		TH_CHECK(hv_request_parse(buf, l, 0, &req) == -EINVAL,
			 "device request prefix of %zu refused", l);
	TH_CHECK(hv_op_desc(HV_OP_DEVICE_CONNECT)->rep_len == 0 &&
			 hv_op_desc(HV_OP_DEVICE_DISCONNECT)->rep_len == 0 &&
			 !strcmp(hv_op_name(HV_OP_DEVICE_CONNECT),
				 "DEVICE_CONNECT") &&
			 !strcmp(hv_op_name(HV_OP_DEVICE_DISCONNECT),
				 "DEVICE_DISCONNECT"),
		 "device ops: names, no reply body");
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
	{"connect reply", HV_REPLY | HV_OP_DEVICE_CONNECT, 5, 0, 0, 0, NULL, 0,
	 0},
	{"connect reply -EACCES", HV_REPLY | HV_OP_DEVICE_CONNECT, 5, -EACCES,
	 0, 0, NULL, 0, 0},
	{"connect reply with a body", HV_REPLY | HV_OP_DEVICE_CONNECT, 5, 0, 0,
	 0, &nclosed, sizeof(nclosed), -EINVAL},
	{"disconnect reply with an fd", HV_REPLY | HV_OP_DEVICE_DISCONNECT, 5,
	 0, 1, 1, NULL, 0, -EINVAL},
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
	test_device_name_bound();
	test_replies();
	test_names();
	return th_done();
}
