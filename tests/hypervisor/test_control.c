/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_control.c - the control protocol's encoder and decoder
 * (hypervisor/hv_control.c): the bounded cursor and writer, names, the
 * domain-create body, headers.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/hv_control.h"
#include "tests/harness.h"

static struct hv_ctl_create_req req; /* large */
static uint8_t body[HV_CTL_MSG_MAX];

static size_t encode_default(uint8_t *buf, size_t cap)
{
	static const char *const args[] = {"offer:2", "", "hold"};
	static const struct hv_ctl_disk_arg disks[] = {
		{"file:/img", "xvda", HV_CTL_DISK_W},
		{"phy:/dev/sdb", "xvdb", HV_CTL_DISK_R},
	};
	static const struct hv_ctl_vtpm_arg vtpms[] = {
		{"vtpmmgr", {1, 2, 3}},
	};
	static const char *const vifs[] = {"vlan:20", "bridge:xenbr0"};
	struct hv_ctl_create_args a = {
		.name = "guest-1",
		.label = "Red",
		.kernel = "/usr/bin/guest",
		.args = args,
		.n_args = 3,
		.memory_mb = 32,
		.flags = HV_CTL_CREATE_F_PAUSED,
		.disks = disks,
		.n_disks = 2,
		.vtpms = vtpms,
		.n_vtpms = 1,
		.vifs = vifs,
		.n_vifs = 2,
	};

	return hv_ctl_encode_create(&a, buf, cap);
}

static void test_roundtrip(void)
{
	size_t n = encode_default(body, sizeof(body));

	TH_CHECK(n > sizeof(struct hv_ctl_create), "encoded (%zu bytes)", n);
	TH_CHECK(n % 4 == 0, "length a multiple of 4");
	TH_CHECK(hv_ctl_decode_create(body, n, &req) == 0, "decoded");
	TH_CHECK(!strcmp(req.fixed.name, "guest-1") &&
			 !strcmp(req.fixed.label, "Red"),
		 "names");
	TH_CHECK(!strcmp(req.kernel, "/usr/bin/guest"), "kernel");
	TH_CHECK(req.n_args == 3 && !strcmp(req.args[0], "offer:2") &&
			 !strcmp(req.args[1], "") &&
			 !strcmp(req.args[2], "hold"),
		 "args, an empty one included");
	TH_CHECK(req.n_disks == 2 && req.disks[1].mode == HV_CTL_DISK_R &&
			 !strcmp(req.disks[1].resource, "phy:/dev/sdb") &&
			 !strcmp(req.disks[0].vdev, "xvda"),
		 "disks");
	TH_CHECK(req.n_vtpms == 1 && req.vtpms[0].uuid[2] == 3 &&
			 !strcmp(req.vtpms[0].backend, "vtpmmgr"),
		 "vtpms");
	TH_CHECK(req.n_vifs == 2 && req.fixed.n_vifs == 2 &&
			 !strcmp(req.vifs[0], "vlan:20") &&
			 !strcmp(req.vifs[1], "bridge:xenbr0"),
		 "vifs");
	TH_CHECK(req.fixed.memory_mb == 32 &&
			 req.fixed.flags == HV_CTL_CREATE_F_PAUSED,
		 "fixed fields");

	/* Every proper prefix fails; one trailing byte fails. */
	int bad = 0;
	for (size_t l = 0; l < n; l++)
		if (hv_ctl_decode_create(body, l, &req) != -EINVAL)
			bad++;
	TH_CHECK(bad == 0, "every prefix refused (%d accepted)", bad);
	TH_CHECK(hv_ctl_decode_create(body, n + 4, &req) == -EINVAL,
		 "trailing bytes refused");
}

/* Mutations of a valid body at a given offset. */
struct mut_case {
	const char *name;
	size_t off; /* into the encoded body */
	uint8_t byte;
};

static void test_mutations(void)
{
	size_t n = encode_default(body, sizeof(body));
	const size_t kstr = sizeof(struct hv_ctl_create); /* kernel length */
	const struct mut_case cases[] = {
		{"name with a space", 2, ' '},
		{"name unterminated", 63, 'x'},
		{"name empty", 0, 0},
		{"label byte after NUL", 64 + 10, 'x'},
		{"label control char", 64 + 1, 0x07},
		{"flags unknown", offsetof(struct hv_ctl_create, flags), 0x80},
		{"reserved nonzero", offsetof(struct hv_ctl_create, reserved),
		 1},
		{"too many args", offsetof(struct hv_ctl_create, n_args), 65},
		{"too many disks", offsetof(struct hv_ctl_create, n_disks), 17},
		{"too many vifs", offsetof(struct hv_ctl_create, n_vifs), 17},
		{"more vifs than sent", offsetof(struct hv_ctl_create, n_vifs),
		 3},
		{"kernel not absolute", kstr + 4, 'u'},
		{"kernel huge length", kstr + 1, 0x10},
		{"NUL inside the kernel path", kstr + 6, 0},
		{"padding nonzero", kstr + 4 + 14 + 1, 'p'},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		uint8_t m[HV_CTL_MSG_MAX];

		memcpy(m, body, n);
		m[cases[i].off] = cases[i].byte;
		TH_CHECK(hv_ctl_decode_create(m, n, &req) == -EINVAL,
			 "mutation %s refused", cases[i].name);
	}
}

static void test_encode_bounds(void)
{
	const char *long_name = "a123456789012345678901234567890123456789012345"
				"678901234567890123";
	struct hv_ctl_create_args a = {.name = "ok", .kernel = "/k"};
	uint8_t small[100];

	TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) > 0, "minimal");
	a.name = long_name;
	TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) == 0,
		 "64-char name refused");
	a.name = "bad name";
	TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) == 0,
		 "name with space refused");
	a.name = "ok";
	a.kernel = "relative";
	TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) == 0,
		 "relative kernel refused");
	a.kernel = "/k";
	a.n_args = HV_CTL_ARGS_MAX + 1;
	TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) == 0,
		 "too many args refused");
	a.n_args = 0;
	a.n_vifs = HV_CTL_VIFS_MAX + 1;
	TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) == 0,
		 "too many vifs refused");
	{
		static const char *const empty[] = {""};

		a.vifs = empty;
		a.n_vifs = 1;
		TH_CHECK(hv_ctl_encode_create(&a, body, sizeof(body)) == 0,
			 "empty vif name refused");
	}
	a.n_vifs = 0;
	/* No vifs: n_vifs zero, nothing after the vTPMs. */
	{
		size_t n = hv_ctl_encode_create(&a, body, sizeof(body));

		TH_CHECK(n && hv_ctl_decode_create(body, n, &req) == 0 &&
				 req.n_vifs == 0,
			 "no vifs");
	}
	TH_CHECK(hv_ctl_encode_create(&a, small, sizeof(small)) == 0,
		 "too small a buffer: 0, no overflow");
}

static void test_cursor(void)
{
	uint8_t b[16] = {3, 0, 0, 0, 'a', 'b', 'c', 0, 9, 0, 0, 0};
	char out[8];
	struct hv_cur c;

	hv_cur_init(&c, b, 8);
	TH_CHECK(hv_cur_get_str(&c, out, sizeof(out), 8) == 0 &&
			 !strcmp(out, "abc") && c.off == 8,
		 "string with padding");
	hv_cur_init(&c, b, 8);
	TH_CHECK(hv_cur_get_str(&c, out, sizeof(out), 2) == -EINVAL &&
			 c.off == 0,
		 "over max: refused, cursor unmoved");
	hv_cur_init(&c, b, 7);
	TH_CHECK(hv_cur_get_str(&c, out, sizeof(out), 8) == -EINVAL &&
			 c.off == 0,
		 "padding missing: refused");
	b[7] = 1;
	hv_cur_init(&c, b, 8);
	TH_CHECK(hv_cur_get_str(&c, out, sizeof(out), 8) == -EINVAL,
		 "nonzero padding refused");
	hv_cur_init(&c, b + 8, 4);
	TH_CHECK(hv_cur_get_str(&c, out, sizeof(out), 100) == -EINVAL &&
			 c.off == 0,
		 "length beyond the buffer refused");
	uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
	hv_cur_init(&c, huge, 4);
	TH_CHECK(hv_cur_get_str(&c, out, sizeof(out), 0xffffffffu) == -EINVAL,
		 "length 2^32-1 does not wrap");

	struct hv_wbuf w;
	uint8_t wb[8];
	hv_wbuf_init(&w, wb, sizeof(wb));
	hv_wbuf_put_str(&w, "abc");
	TH_CHECK(!hv_wbuf_error(&w) && w.len == 8, "writer: string padded");
	hv_wbuf_put_u32(&w, 1);
	TH_CHECK(hv_wbuf_error(&w) && w.len == 8, "writer: overflow sticks");
}

static void test_names(void)
{
	char f[8] = "abc";

	TH_CHECK(hv_name_field_ok(f, sizeof(f), false, true), "ident ok");
	f[5] = 'x';
	TH_CHECK(!hv_name_field_ok(f, sizeof(f), false, true),
		 "garbage after NUL refused");
	memset(f, 0, sizeof(f));
	TH_CHECK(!hv_name_field_ok(f, sizeof(f), false, false),
		 "empty refused when not allowed");
	TH_CHECK(hv_name_field_ok(f, sizeof(f), true, false), "empty allowed");
	memcpy(f, "a:b", 3);
	TH_CHECK(hv_name_field_ok(f, sizeof(f), false, false) &&
			 !hv_name_field_ok(f, sizeof(f), false, true),
		 "':' is a label character but not an ident one");
	memset(f, 'x', sizeof(f));
	TH_CHECK(!hv_name_field_ok(f, sizeof(f), false, false),
		 "unterminated refused");
}

static void test_headers(void)
{
	uint8_t b[32];
	struct hv_ctl_hdr h = {HV_CTL_MAGIC(HV_CTL_VERSION), HV_CTL_STATS, 16,
			       4};
	const uint8_t *bd;
	size_t bl;
	struct hv_ctl_hdr out;

	memcpy(b, &h, sizeof(h));
	TH_CHECK(hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == 0 && bl == 0,
		 "stats header");
	TH_CHECK(hv_ctl_parse_hdr(b, 15, &out, &bd, &bl) == -EINVAL, "short");
	TH_CHECK(hv_ctl_parse_hdr(b, 20, &out, &bd, &bl) == -EINVAL,
		 "len disagrees");
	h.op = 99;
	memcpy(b, &h, sizeof(h));
	TH_CHECK(hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == -ENOSYS,
		 "unknown op");
	h.magic = HV_HC_MAGIC(1); /* the other protocol's magic */
	memcpy(b, &h, sizeof(h));
	TH_CHECK(hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == -EINVAL,
		 "hypercall magic on the control socket refused");
	h.magic = HV_CTL_MAGIC(HV_CTL_VERSION + 1);
	memcpy(b, &h, sizeof(h));
	TH_CHECK(hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == -EINVAL,
		 "future version refused");
	/* Version 2 changed the domain record: a version 1 client would
	 * misread it, so it is refused up front. */
	h.op = HV_CTL_STATS;
	h.magic = HV_CTL_MAGIC(1);
	memcpy(b, &h, sizeof(h));
	TH_CHECK(HV_CTL_VERSION == 2 && HV_CTL_VERSION_MIN == 2 &&
			 hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == -EINVAL,
		 "version 1 request refused");
	h.op = HV_CTL_GET_MODE;
	h.magic = HV_CTL_MAGIC(HV_CTL_VERSION);
	memcpy(b, &h, sizeof(h));
	TH_CHECK(hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == 0 && bl == 0 &&
			 !strcmp(hv_ctl_op_name(HV_CTL_GET_MODE), "get-mode"),
		 "GET_MODE known");
	h.magic = HV_CTL_MAGIC(0);
	memcpy(b, &h, sizeof(h));
	TH_CHECK(hv_ctl_parse_hdr(b, 16, &out, &bd, &bl) == -EINVAL,
		 "version 0 refused");
	TH_CHECK(!strcmp(hv_ctl_op_name(HV_CTL_RELABEL), "relabel") &&
			 !strcmp(hv_ctl_op_name(77), "unknown"),
		 "op names");
	TH_CHECK(!strcmp(hv_domstate_name(HV_DOMSTATE_CRASHED), "crashed"),
		 "state names");
}

int main(void)
{
	test_roundtrip();
	test_mutations();
	test_encode_bounds();
	test_cursor();
	test_names();
	test_headers();
	return th_done();
}
