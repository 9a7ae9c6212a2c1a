/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront_wire.c - what both socket protocols share: one TPM command
 * through the transmit callback, with the answer checked, and the TPM
 * error responses we make up when there is no answer to give.
 *
 * Whatever goes wrong below the socket (a timeout, a cancel, a backend
 * gone, a backend answering garbage), the client gets one well-formed
 * TPM response: its TSS then reports a TPM error instead of losing the
 * framing of the stream.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "vtpm-instance/front/tpmfront.h"

static bool tag_is_tpm12(uint16_t tag)
{
	return tag >= 0x00c1 && tag <= 0x00c3;
}

size_t tpmsock_error_rsp(uint8_t *out, uint16_t req_tag, uint32_t rc2,
			 uint32_t rc12)
{
	bool v12 = tag_is_tpm12(req_tag);
	uint16_t tag = v12 ? TPM12_TAG_RSP_COMMAND : TPM2_ST_NO_SESSIONS;

	out[0] = (uint8_t)(tag >> 8);
	out[1] = (uint8_t)tag;
	tpmsock_put_u32(out + 2, TPMSOCK_CMD_MIN);
	tpmsock_put_u32(out + 6, v12 ? rc12 : rc2);
	return TPMSOCK_CMD_MIN;
}

size_t tpmsock_transmit(const struct tpmsock_xmit *x, const uint8_t *cmd,
			size_t len, uint8_t locality, uint8_t *out, size_t cap)
{
	uint16_t tag = len >= 2 ? (uint16_t)(cmd[0] << 8 | cmd[1]) : 0;
	size_t rlen = 0;
	int rc;

	assert(cap >= TPMSOCK_CMD_MAX);
	rc = x->fn(x->ctx, cmd, len, locality, out, TPMSOCK_CMD_MAX, &rlen);
	switch (rc) {
	case 0:
		break;
	case -ETIMEDOUT:
	case -ECANCELED:
		return tpmsock_error_rsp(out, tag, TPM2_RC_CANCELED,
					 TPM12_FAIL);
	case -EMSGSIZE:
		return tpmsock_error_rsp(out, tag, TPM2_RC_COMMAND_SIZE,
					 TPM12_BAD_PARAM_SIZE);
	default:
		return tpmsock_error_rsp(out, tag, TPM2_RC_FAILURE, TPM12_FAIL);
	}
	/* The response's own header frames it on the swtpm wire: a short or
	 * mis-sized one would desynchronise the client. */
	if (rlen < TPMSOCK_CMD_MIN || rlen > TPMSOCK_CMD_MAX ||
	    tpmsock_be32(out + 2) != rlen)
		return tpmsock_error_rsp(out, tag, TPM2_RC_FAILURE, TPM12_FAIL);
	return rlen;
}
