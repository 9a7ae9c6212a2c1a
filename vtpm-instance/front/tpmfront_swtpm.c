/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront_swtpm.c - swtpm's socket interface (what tpm2-tss's swtpm TCTI
 * speaks), as two parsers over the bytes one connection has sent so far:
 * the data port, raw TPM commands framed by their own header, and the
 * control port (tpmfront.h has the wire).
 *
 * The TCTI connects to the data port for each command and to the control
 * port for each control command (SET_LOCALITY at init, INIT to reset);
 * other clients keep one connection.  Both work: nothing here depends on
 * connections, only on bytes.
 *
 * As with mssim, the platform is the hypervisor: INIT, SHUTDOWN and STOP
 * are acknowledged and change nothing, since a guest's program may not
 * reset or stop the guest's TPM.  What is not in GET_CAPABILITY (state
 * blobs, hashing, a data fd) is answered TPM_BAD_ORDINAL as swtpm answers
 * an unknown command, and the connection is closed: its body, if any,
 * has a length we do not parse.
 */
#include <string.h>

#include "vtpm-instance/front/tpmfront.h"

#define SWTPM_CAPS                                                             \
	(SWTPM_CAP_INIT | SWTPM_CAP_SHUTDOWN | SWTPM_CAP_SET_LOCALITY |        \
	 SWTPM_CAP_CANCEL_TPM_CMD | SWTPM_CAP_STOP | SWTPM_CAP_GET_CONFIG |    \
	 SWTPM_CAP_SET_BUFFERSIZE)

enum tpmsock_verdict tpmsock_swtpm_data(const uint8_t *in, size_t len,
					uint8_t *out,
					const struct tpmsock_xmit *x,
					uint8_t locality,
					struct tpmsock_step *st)
{
	struct tpmsock_cur c = {in, len, 0};
	const uint8_t *tag;
	uint32_t size;

	memset(st, 0, sizeof(*st));
	if (!tpmsock_get_bytes(&c, 2, &tag) || !tpmsock_get_u32(&c, &size))
		return TPMSOCK_MORE;
	if (size < TPMSOCK_CMD_MIN || size > TPMSOCK_CMD_MAX) {
		/* The size is the only framing: past a bad one the stream
		 * means nothing. */
		st->out_len = tpmsock_error_rsp(
			out, (uint16_t)(tag[0] << 8 | tag[1]),
			TPM2_RC_COMMAND_SIZE, TPM12_BAD_PARAM_SIZE);
		st->used = len;
		st->why = size < TPMSOCK_CMD_MIN ? "command size below 10"
						 : "command over 4088 bytes";
		return TPMSOCK_CLOSE;
	}
	/* The command is its header and what follows, from the start. */
	if (len < size)
		return TPMSOCK_MORE;
	st->used = size;
	st->out_len =
		tpmsock_transmit(x, in, size, locality, out, TPMSOCK_OUT_MAX);
	return TPMSOCK_REPLY;
}

static enum tpmsock_verdict result(struct tpmsock_step *st, uint8_t *out,
				   size_t used, uint32_t res)
{
	tpmsock_put_u32(out, res);
	st->used = used;
	st->out_len = 4;
	return TPMSOCK_REPLY;
}

enum tpmsock_verdict tpmsock_swtpm_ctrl(const uint8_t *in, size_t len,
					uint8_t *out, uint8_t *locality,
					struct tpmsock_step *st)
{
	struct tpmsock_cur c = {in, len, 0};
	uint32_t code, v;
	uint8_t loc;

	memset(st, 0, sizeof(*st));
	if (!tpmsock_get_u32(&c, &code))
		return TPMSOCK_MORE;
	switch (code) {
	case SWTPM_GET_CAPABILITY:
		/* A u64, and no result code before it. */
		tpmsock_put_u32(out, 0);
		tpmsock_put_u32(out + 4, SWTPM_CAPS);
		st->used = c.at;
		st->out_len = 8;
		return TPMSOCK_REPLY;
	case SWTPM_INIT:
		/* u32 init flags (delete volatile state): nothing to do. */
		if (!tpmsock_get_u32(&c, &v))
			return TPMSOCK_MORE;
		return result(st, out, c.at, SWTPM_RES_SUCCESS);
	case SWTPM_SHUTDOWN:
	case SWTPM_STOP:
	case SWTPM_CANCEL_TPM_CMD:
		/* Nothing runs while we read this connection: commands are
		 * served one at a time. */
		return result(st, out, c.at, SWTPM_RES_SUCCESS);
	case SWTPM_SET_LOCALITY:
		if (!tpmsock_get_u8(&c, &loc))
			return TPMSOCK_MORE;
		if (loc > SWTPM_LOCALITY_MAX)
			return result(st, out, c.at, SWTPM_RES_BAD_LOCALITY);
		*locality = loc;
		return result(st, out, c.at, SWTPM_RES_SUCCESS);
	case SWTPM_GET_CONFIG:
		/* No state-encryption keys are visible from the guest. */
		tpmsock_put_u32(out, SWTPM_RES_SUCCESS);
		tpmsock_put_u32(out + 4, 0);
		st->used = c.at;
		st->out_len = 8;
		return TPMSOCK_REPLY;
	case SWTPM_SET_BUFFERSIZE:
		if (!tpmsock_get_u32(&c, &v))
			return TPMSOCK_MORE;
		/* One ring page; a running TPM's size cannot change, which
		 * swtpm answers TPM_BAD_ORDINAL. */
		if (v)
			return result(st, out, c.at, SWTPM_RES_BAD_ORDINAL);
		tpmsock_put_u32(out, SWTPM_RES_SUCCESS);
		tpmsock_put_u32(out + 4, TPMSOCK_CMD_MAX);
		tpmsock_put_u32(out + 8, TPMSOCK_CMD_MAX);
		tpmsock_put_u32(out + 12, TPMSOCK_CMD_MAX);
		st->used = c.at;
		st->out_len = 16;
		return TPMSOCK_REPLY;
	default:
		result(st, out, c.at, SWTPM_RES_BAD_ORDINAL);
		st->used = len;
		st->why = "unsupported control command";
		return TPMSOCK_CLOSE;
	}
}
