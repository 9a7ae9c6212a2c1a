/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_hypercall - libFuzzer harness for the two wire parsers of the
 * hypervisor model: hypercall requests (what every guest can send to
 * hvsecd), replies and notices (what libhvguest reads), and the control
 * protocol's header and domain-create body.
 *
 * Device requests (DEVICE_CONNECT/_DISCONNECT) carry a resource name in
 * a fixed field; whatever is accepted must be terminated inside it.
 *
 * Input: byte 0 picks the parser, byte 1 the number of fds that "came
 * with" the datagram, the rest is the datagram.  Whatever a parser
 * accepts must re-encode to the same bytes (no field is read loosely),
 * and a create body that decodes must satisfy every bound it promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/hv_control.h"
#include "hypervisor/hv_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *d, size_t n, unsigned nfds)
{
	struct hv_request req;
	uint8_t again[HV_HC_MSG_MAX];
	size_t len;

	if (hv_request_parse(d, n, nfds, &req))
		return;
	len = hv_request_build(again, req.h.op, req.h.seq, &req.u,
			       hv_op_desc(req.h.op)->req_len);
	if (len != n || memcmp(again, d, n))
		abort(); /* accepted bytes that do not round-trip */
	if (nfds != hv_op_desc(req.h.op)->req_fds)
		abort();
	/* A device name the parser accepts is a C string of its field,
	 * nothing after it, and no DOMID_SELF or reserved id. */
	if ((req.h.op == HV_OP_DEVICE_CONNECT ||
	     req.h.op == HV_OP_DEVICE_DISCONNECT) &&
	    (strnlen(req.u.device.resource, HV_DEV_NAME_LEN) == 0 ||
	     strnlen(req.u.device.resource, HV_DEV_NAME_LEN) ==
		     HV_DEV_NAME_LEN ||
	     req.u.device.frontend > HV_DOMID_MAX))
		abort();
}

static void reply(const uint8_t *d, size_t n, unsigned nfds)
{
	struct hv_reply rep;

	if (hv_reply_parse(d, n, nfds, &rep))
		return;
	if (rep.r.nfds != nfds || rep.r.err > 0)
		abort();
	if (rep.r.h.op == (HV_REPLY | HV_OP_WHOAMI) && !rep.r.err &&
	    (strnlen(rep.u.whoami.name, HV_NAME_LEN) == HV_NAME_LEN ||
	     strnlen(rep.u.whoami.label, HV_NAME_LEN) == HV_NAME_LEN))
		abort();
}

static void create(const uint8_t *d, size_t n)
{
	static struct hv_ctl_create_req req;
	static uint8_t again[HV_CTL_MSG_MAX];
	struct hv_ctl_disk_arg disks[HV_CTL_DISKS_MAX];
	struct hv_ctl_vtpm_arg vtpms[HV_CTL_VTPMS_MAX];
	struct hv_ctl_create_args a;
	size_t len;

	if (n > HV_CTL_MSG_MAX || hv_ctl_decode_create(d, n, &req))
		return;
	if (req.n_args > HV_CTL_ARGS_MAX || req.n_disks > HV_CTL_DISKS_MAX ||
	    req.n_vtpms > HV_CTL_VTPMS_MAX || req.n_vifs > HV_CTL_VIFS_MAX ||
	    req.kernel[0] != '/' ||
	    req.arena_used > sizeof(req.arena))
		abort();
	/* Re-encode: the decoder must have kept every byte's meaning. */
	memset(&a, 0, sizeof(a));
	a.name = req.fixed.name;
	a.label = req.fixed.label;
	a.uuid = req.fixed.uuid;
	a.kernel = req.kernel;
	a.args = (const char *const *)req.args;
	a.n_args = req.n_args;
	a.memory_mb = req.fixed.memory_mb;
	a.flags = req.fixed.flags;
	for (uint32_t i = 0; i < req.n_disks; i++)
		disks[i] = (struct hv_ctl_disk_arg){req.disks[i].resource,
						    req.disks[i].vdev,
						    req.disks[i].mode};
	for (uint32_t i = 0; i < req.n_vtpms; i++) {
		vtpms[i].backend = req.vtpms[i].backend;
		memcpy(vtpms[i].uuid, req.vtpms[i].uuid, HV_UUID_LEN);
	}
	a.disks = disks;
	a.n_disks = req.n_disks;
	a.vtpms = vtpms;
	a.n_vtpms = req.n_vtpms;
	a.vifs = (const char *const *)req.vifs;
	a.n_vifs = req.n_vifs;
	len = hv_ctl_encode_create(&a, again, sizeof(again));
	if (len != n || memcmp(again, d, n))
		abort();
}

static void control(const uint8_t *d, size_t n)
{
	struct hv_ctl_hdr h;
	const uint8_t *body;
	size_t bl;
	struct hv_cur c;
	char s[HV_CTL_STR_MAX + 1];

	if (hv_ctl_parse_hdr(d, n, &h, &body, &bl))
		return;
	if (body + bl != d + n)
		abort();
	/* The string reader over whatever follows, as the res-label ops do. */
	hv_cur_init(&c, body, bl);
	while (hv_cur_left(&c)) {
		size_t before = c.off;

		if (hv_cur_get_str(&c, s, sizeof(s), HV_CTL_STR_MAX)) {
			if (c.off != before)
				abort(); /* a failed read moved the cursor */
			break;
		}
		if (strlen(s) > HV_CTL_STR_MAX || c.off <= before ||
		    c.off > c.len)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned nfds;

	if (size < 2)
		return 0;
	nfds = data[1] % 4;
	switch (data[0] % 4) {
	case 0:
		request(data + 2, size - 2, nfds);
		break;
	case 1:
		reply(data + 2, size - 2, nfds);
		break;
	case 2:
		create(data + 2, size - 2);
		break;
	case 3:
		control(data + 2, size - 2);
		break;
	}
	return 0;
}
