/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront_mssim.c - the TCG simulator's TCP protocol (what tpm2-tss's
 * mssim TCTI speaks), as two parsers over the bytes one connection has
 * sent so far: the command port and the platform port (tpmfront.h has
 * the wire).
 *
 * The platform is the hypervisor: power, NV, cancel and reset signals
 * are acknowledged as the simulator does and change nothing (the vTPM
 * resets when the guest does; a cancel cannot overtake a command here,
 * since commands run one at a time).  The DRTM hash signals are refused
 * by closing, as the simulator closes on anything it does not know:
 * acknowledging them would claim a measurement that never happened.
 */
#include <string.h>

#include "vtpm-instance/front/tpmfront.h"

static enum tpmsock_verdict reply_u32(struct tpmsock_step *st, uint8_t *out,
				      size_t used, uint32_t v)
{
	tpmsock_put_u32(out, v);
	st->used = used;
	st->out_len = 4;
	return TPMSOCK_REPLY;
}

static enum tpmsock_verdict close_session(struct tpmsock_step *st, size_t used,
					  const char *why)
{
	st->used = used;
	st->out_len = 0;
	st->why = why;
	return TPMSOCK_CLOSE;
}

/* SEND_COMMAND: u8 locality, u32 size, size bytes -> u32 n, n bytes,
 * u32 0.  The cursor stands after the code. */
static enum tpmsock_verdict send_command(struct tpmsock_cur *c, uint8_t *out,
					 const struct tpmsock_xmit *x,
					 struct tpmsock_step *st)
{
	const uint8_t *cmd;
	uint32_t size;
	uint16_t tag;
	uint8_t loc;
	size_t n;

	if (!tpmsock_get_u8(c, &loc) || !tpmsock_get_u32(c, &size))
		return TPMSOCK_MORE;
	if (size > TPMSOCK_CMD_MAX) {
		/* Its bytes cannot be skipped without reading them all: say
		 * why in TPM terms, then end the session. */
		n = tpmsock_error_rsp(out + 4, 0, TPM2_RC_COMMAND_SIZE,
				      TPM12_BAD_PARAM_SIZE);
		tpmsock_put_u32(out, (uint32_t)n);
		tpmsock_put_u32(out + 4 + n, 0);
		st->used = c->len;
		st->out_len = 8 + n;
		st->why = "command over 4088 bytes";
		return TPMSOCK_CLOSE;
	}
	if (!tpmsock_get_bytes(c, size, &cmd))
		return TPMSOCK_MORE;
	tag = size >= 2 ? (uint16_t)(cmd[0] << 8 | cmd[1]) : 0;
	if (size < TPMSOCK_CMD_MIN || tpmsock_be32(cmd + 2) != size)
		n = tpmsock_error_rsp(out + 4, tag, TPM2_RC_COMMAND_SIZE,
				      TPM12_BAD_PARAM_SIZE);
	else
		n = tpmsock_transmit(x, cmd, size, loc, out + 4,
				     TPMSOCK_CMD_MAX);
	tpmsock_put_u32(out, (uint32_t)n);
	tpmsock_put_u32(out + 4 + n, 0);
	st->used = c->at;
	st->out_len = 8 + n;
	return TPMSOCK_REPLY;
}

enum tpmsock_verdict tpmsock_mssim_cmd(const uint8_t *in, size_t len,
				       uint8_t *out,
				       const struct tpmsock_xmit *x,
				       struct tpmsock_step *st)
{
	struct tpmsock_cur c = {in, len, 0};
	uint32_t code, v;

	memset(st, 0, sizeof(*st));
	if (!tpmsock_get_u32(&c, &code))
		return TPMSOCK_MORE;
	switch (code) {
	case MSSIM_SEND_COMMAND:
		return send_command(&c, out, x, st);
	case MSSIM_REMOTE_HANDSHAKE:
		if (!tpmsock_get_u32(&c, &v))
			return TPMSOCK_MORE;
		if (v == 0)
			return close_session(st, c.at, "client version 0");
		tpmsock_put_u32(out, MSSIM_SERVER_VERSION);
		tpmsock_put_u32(out + 4, MSSIM_EP_PLATFORM_AVAILABLE |
						 MSSIM_EP_IN_RAW_MODE);
		tpmsock_put_u32(out + 8, 0);
		st->used = c.at;
		st->out_len = 12;
		return TPMSOCK_REPLY;
	case MSSIM_SET_ALTERNATIVE_RESULT:
		/* Not applicable to a simulator, nor to us. */
		if (!tpmsock_get_u32(&c, &v))
			return TPMSOCK_MORE;
		return reply_u32(st, out, c.at, 0);
	case MSSIM_SESSION_END:
		return close_session(st, c.at, NULL);
	case MSSIM_STOP:
		/* The simulator exits; the guest's TPM is not the client's to
		 * stop, so only this session ends. */
		return close_session(st, c.at, NULL);
	default:
		return close_session(st, c.at, "unknown command");
	}
}

enum tpmsock_verdict tpmsock_mssim_platform(const uint8_t *in, size_t len,
					    uint8_t *out,
					    struct tpmsock_step *st)
{
	struct tpmsock_cur c = {in, len, 0};
	uint32_t code;

	memset(st, 0, sizeof(*st));
	if (!tpmsock_get_u32(&c, &code))
		return TPMSOCK_MORE;
	switch (code) {
	case MSSIM_POWER_ON:
	case MSSIM_POWER_OFF:
	case MSSIM_PHYS_PRES_ON:
	case MSSIM_PHYS_PRES_OFF:
	case MSSIM_CANCEL_ON:
	case MSSIM_CANCEL_OFF:
	case MSSIM_NV_ON:
	case MSSIM_NV_OFF:
	case MSSIM_RESET:
		return reply_u32(st, out, c.at, 0);
	case MSSIM_SESSION_END:
		return close_session(st, c.at, NULL);
	case MSSIM_STOP:
		return close_session(st, c.at, NULL);
	default:
		/* The simulator answers 1 and drops the client. */
		reply_u32(st, out, c.at, 1);
		st->why = "unknown platform command";
		return TPMSOCK_CLOSE;
	}
}
