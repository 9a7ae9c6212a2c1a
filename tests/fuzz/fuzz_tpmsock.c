/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_tpmsock - libFuzzer harness for hvsec-tpmfront's socket parsers
 * (vtpm-instance/front/tpmfront_{mssim,swtpm,wire}.c): what any program
 * in the guest can send to its TPM ports.
 *
 * Input: byte 0 picks the port (mssim command, mssim platform, swtpm
 * data, swtpm control), byte 1 how the fake transmit behaves (fails, or
 * answers a well-formed, short, or mis-sized response), the rest is the
 * byte stream of one connection.  The stream is served as the server
 * does, at most the protocol's bound at a time, and the contract of
 * tpmfront.h must hold at every step: MORE only below the bound and
 * consuming nothing, every other step consuming something within the
 * input, answers within TPMSOCK_OUT_MAX, at most one transmit per step,
 * each of a command of 10..4088 bytes whose size field is its length.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm-instance/front/tpmfront.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
	uint8_t mode;
	unsigned calls;
};

static int fake_xmit(void *ctx, const uint8_t *cmd, size_t len,
		     uint8_t locality, uint8_t *rsp, size_t cap,
		     size_t *rsp_len)
{
	struct fake *f = ctx;
	size_t n;

	(void)locality;
	f->calls++;
	if (len < TPMSOCK_CMD_MIN || len > TPMSOCK_CMD_MAX ||
	    tpmsock_be32(cmd + 2) != len || cap < TPMSOCK_CMD_MAX)
		abort(); /* a parser let an unframed command through */
	switch (f->mode % 5) {
	case 0:
		return -ETIMEDOUT;
	case 1:
		return -ENOTCONN;
	case 2: /* a lying backend: short */
		n = f->mode % TPMSOCK_CMD_MIN;
		break;
	case 3: /* a lying backend: its size field says more than it sent */
		n = TPMSOCK_CMD_MIN + f->mode;
		memset(rsp, 0xff, n);
		*rsp_len = n;
		return 0;
	default: /* the command echoed: a well-framed answer */
		n = len;
		memcpy(rsp, cmd, len);
		*rsp_len = n;
		return 0;
	}
	memset(rsp, 0, n);
	*rsp_len = n;
	return 0;
}

static const size_t bound[4] = {
	TPMSOCK_IN_MSSIM_CMD,
	TPMSOCK_IN_MSSIM_PLATFORM,
	TPMSOCK_IN_SWTPM_DATA,
	TPMSOCK_IN_SWTPM_CTRL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[TPMSOCK_OUT_MAX];
	struct fake f = {0};
	struct tpmsock_xmit x = {fake_xmit, &f};
	uint8_t locality = 0;
	unsigned port;
	size_t at = 2;

	if (size < 2)
		return 0;
	port = data[0] % 4;
	f.mode = data[1];
	while (at < size) {
		size_t len = size - at < bound[port] ? size - at : bound[port];
		struct tpmsock_step st;
		enum tpmsock_verdict v;
		unsigned before = f.calls;

		switch (port) {
		case 0:
			v = tpmsock_mssim_cmd(data + at, len, out, &x, &st);
			break;
		case 1:
			v = tpmsock_mssim_platform(data + at, len, out, &st);
			break;
		case 2:
			v = tpmsock_swtpm_data(data + at, len, out, &x,
					       locality, &st);
			break;
		default:
			v = tpmsock_swtpm_ctrl(data + at, len, out, &locality,
					       &st);
			break;
		}
		if (st.out_len > TPMSOCK_OUT_MAX || st.used > len ||
		    f.calls > before + 1 || locality > 4)
			abort();
		if (v == TPMSOCK_MORE) {
			if (len >= bound[port] || st.used || st.out_len)
				abort();
			break;
		}
		if (!st.used)
			abort(); /* the server would spin */
		/* A TPM answer from a failed or lying transmit is a whole
		 * 10-byte error response. */
		if (f.calls > before && (f.mode % 5) < 4 && port == 2 &&
		    (st.out_len != TPMSOCK_CMD_MIN ||
		     tpmsock_be32(out + 2) != TPMSOCK_CMD_MIN))
			abort();
		at += st.used;
		if (v == TPMSOCK_CLOSE)
			break;
	}
	return 0;
}
