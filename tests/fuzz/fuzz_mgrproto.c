/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_mgrproto - libFuzzer harness for the vTPM manager's wire protocol
 * (vtpm-manager/mgr_proto.h, docs/formats.md §7): the parsers of both
 * channels, requests and responses of every op, and the error builder.
 *
 *   input := mode:u8 rest
 *   mode % 4 == 0: rest is a request, parsed as received on the instance
 *                  ring and on the control socket.  At most one channel
 *                  accepts it, the one its op belongs to; a refusal says
 *                  why and is MALFORMED, UNKNOWN_OP or TOO_BIG; an
 *                  accepted request re-encodes to exactly rest.
 *   mode % 4 == 1, 2: rest := op:u16be msg: msg is the response to op on
 *                  the instance (1) or control (2) channel.  Accepted:
 *                  re-encodes to exactly msg, and only an error answer
 *                  is accepted for an op of the other channel or none.
 *   mode % 4 == 3: rest := rc:u8 text: mgr_rsp_error(rc, "%s", text)
 *                  fits 268 bytes for every rc but OK and unknown codes
 *                  (refused), parses on both channels with the text
 *                  cut at 256 and non-printable bytes made '?'.
 * Seeds: tests/fuzz/corpus/mgrproto/ (test_proto --seeds DIR).  Any
 * broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm-manager/mgr_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static uint8_t out[MGR_CTL_MSG_MAX];
static struct mgr_rsp rsp, rsp2;

static enum mgr_channel op_channel(uint32_t op)
{
	return op < 0x100 ? MGR_CH_INSTANCE : MGR_CH_CONTROL;
}

static bool known_op(uint32_t op)
{
	return strcmp(mgr_op_str(op), "?") != 0;
}

static void fuzz_req(const uint8_t *d, size_t n)
{
	static const enum mgr_channel chs[2] = {MGR_CH_INSTANCE,
						MGR_CH_CONTROL};
	struct mgr_req q;
	char why[256];
	unsigned ok = 0;
	enum mgr_rc rc;
	size_t m;

	for (unsigned i = 0; i < 2; i++) {
		rc = mgr_req_parse(chs[i], d, n, &q, why, sizeof(why));
		if (rc != MGR_RC_OK) {
			CHECK(rc == MGR_RC_MALFORMED ||
			      rc == MGR_RC_UNKNOWN_OP || rc == MGR_RC_TOO_BIG);
			CHECK(why[0]);
			continue;
		}
		ok++;
		CHECK(!why[0] && known_op(q.op) && op_channel(q.op) == chs[i]);
		m = mgr_req_encode(&q, out, sizeof(out));
		CHECK(m == n && !memcmp(out, d, n));
	}
	CHECK(ok <= 1);
}

static void fuzz_rsp(enum mgr_channel ch, const uint8_t *d, size_t n)
{
	char why[256];
	enum mgr_rc rc;
	size_t m;

	if (n < 2)
		return;
	rsp.op = (uint32_t)d[0] << 8 | d[1];
	rc = mgr_rsp_parse(ch, d + 2, n - 2, &rsp, why, sizeof(why));
	CHECK(rsp.op == ((uint32_t)d[0] << 8 | d[1]));
	if (rc != MGR_RC_OK) {
		CHECK(rc == MGR_RC_MALFORMED || rc == MGR_RC_TOO_BIG);
		CHECK(why[0]);
		return;
	}
	CHECK((unsigned)rsp.rc < MGR_RC_COUNT_);
	if (rsp.rc == MGR_RC_OK)
		CHECK(known_op(rsp.op) && op_channel(rsp.op) == ch);
	m = mgr_rsp_encode(&rsp, out, sizeof(out));
	CHECK(m == n - 2 && !memcmp(out, d + 2, m));
}

static void fuzz_error(const uint8_t *d, size_t n)
{
	char text[1024], want[MGR_MSG_MAX + 1];
	enum mgr_rc rc;
	size_t m, k;

	if (n < 1)
		return;
	rc = (enum mgr_rc)d[0];
	k = n - 1 < sizeof(text) - 1 ? n - 1 : sizeof(text) - 1;
	memcpy(text, d + 1, k);
	text[k] = '\0';
	m = mgr_rsp_error(MGR_OP_COMMIT, rc, out, MGR_HDR_LEN + 2 + MGR_MSG_MAX,
			  "%s", text);
	if (rc == MGR_RC_OK || rc >= MGR_RC_COUNT_) {
		CHECK(m == 0);
		return;
	}
	CHECK(m >= MGR_HDR_LEN + 2);
	k = strnlen(text, MGR_MSG_MAX);
	for (size_t i = 0; i < k; i++)
		want[i] = text[i] >= 0x20 && text[i] <= 0x7e ? text[i] : '?';
	want[k] = '\0';
	rsp.op = MGR_OP_COMMIT;
	CHECK(mgr_rsp_parse(MGR_CH_INSTANCE, out, m, &rsp, NULL, 0) ==
	      MGR_RC_OK);
	rsp2.op = 0xffff;
	CHECK(mgr_rsp_parse(MGR_CH_CONTROL, out, m, &rsp2, NULL, 0) ==
	      MGR_RC_OK);
	CHECK(rsp.rc == rc && rsp2.rc == rc && !strcmp(rsp.msg, want) &&
	      !strcmp(rsp2.msg, want));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_req(data + 1, size - 1);
		break;
	case 1:
		fuzz_rsp(MGR_CH_INSTANCE, data + 1, size - 1);
		break;
	case 2:
		fuzz_rsp(MGR_CH_CONTROL, data + 1, size - 1);
		break;
	default:
		fuzz_error(data + 1, size - 1);
		break;
	}
	return 0;
}
