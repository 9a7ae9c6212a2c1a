/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront.h - hvsec-tpmfront's private interface: the socket protocols
 * TPM software speaks to a simulator, as pure parsers over a bounded
 * buffer (tpmfront_mssim.c, tpmfront_swtpm.c), and the server that feeds
 * them from sockets (tpmfront_server.c).
 *
 * A parser gets the bytes received so far on one connection and answers
 * with one step:
 *
 *   TPMSOCK_MORE   a whole message is not there yet; nothing consumed.
 *                  Never returned once in_len reaches the protocol's
 *                  TPMSOCK_IN_* bound, so a buffer of that size suffices.
 *   TPMSOCK_REPLY  st->used bytes consumed; send out[0, st->out_len).
 *   TPMSOCK_CLOSE  send out[0, st->out_len) if any, then close: the
 *                  client ended its session (st->why NULL), or sent what
 *                  cannot be framed or served (st->why says what, for
 *                  the log).
 *
 * TPM commands go out through the transmit callback (the ring in the
 * program, a fake in tests); no parser does I/O.  All integers on these
 * wires are big-endian.
 *
 *   mssim (tpm2-tss tcti-mssim, the TCG simulator's TCP protocol):
 *     command port P:   u32 8 (SEND_COMMAND), u8 locality, u32 n, n bytes
 *                       -> u32 m, m bytes, u32 0
 *                       u32 15 (REMOTE_HANDSHAKE), u32 client version
 *                       -> u32 1, u32 endpoint flags, u32 0
 *                       u32 16 (SET_ALTERNATIVE_RESULT), u32 -> u32 0
 *                       u32 20 (SESSION_END), u32 21 (STOP) -> close
 *                       anything else (the DRTM hash signals included:
 *                       the platform is the hypervisor) -> close
 *     platform port P+1: power, physical presence, cancel, NV, reset
 *                       -> u32 0, and ignored (the TPM resets when the
 *                       guest does); SESSION_END, STOP -> close;
 *                       anything else -> u32 1, close
 *   swtpm (tpm2-tss tcti-swtpm, swtpm's socket interface):
 *     data port P+2:    a raw TPM command framed by its own header size
 *                       (10..4088) -> the raw response
 *     control port P+3: u32 command, its body -> its answer, as swtpm's
 *                       control channel (include/swtpm/tpm_ioctl.h);
 *                       SET_LOCALITY sets the locality of later data
 *                       commands; INIT, SHUTDOWN, STOP, CANCEL are
 *                       acknowledged and ignored; anything not listed in
 *                       GET_CAPABILITY -> TPM_BAD_ORDINAL, close.
 */
#ifndef HVSEC_TPMFRONT_H
#define HVSEC_TPMFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- wire */

#define TPMSOCK_CMD_MAX	  4088u /* one ring page of payload */
#define TPMSOCK_CMD_MIN	  10u	/* tag u16, size u32, code u32 */
#define TPMSOCK_MSSIM_HDR 9u	/* u32 SEND_COMMAND, u8 locality, u32 size */

/* Input bounds per protocol (see TPMSOCK_MORE) and the output room every
 * parser needs: an mssim answer to the largest command. */
#define TPMSOCK_IN_MSSIM_CMD	  (TPMSOCK_MSSIM_HDR + TPMSOCK_CMD_MAX)
#define TPMSOCK_IN_MSSIM_PLATFORM 8u
#define TPMSOCK_IN_SWTPM_DATA	  TPMSOCK_CMD_MAX
#define TPMSOCK_IN_SWTPM_CTRL	  8u
#define TPMSOCK_OUT_MAX		  (4u + TPMSOCK_CMD_MAX + 4u)

/* TCG simulator codes (TpmTcpProtocol.h). */
enum tpmsock_mssim_code {
	MSSIM_POWER_ON = 1,
	MSSIM_POWER_OFF = 2,
	MSSIM_PHYS_PRES_ON = 3,
	MSSIM_PHYS_PRES_OFF = 4,
	MSSIM_HASH_START = 5,
	MSSIM_HASH_DATA = 6,
	MSSIM_HASH_END = 7,
	MSSIM_SEND_COMMAND = 8,
	MSSIM_CANCEL_ON = 9,
	MSSIM_CANCEL_OFF = 10,
	MSSIM_NV_ON = 11,
	MSSIM_NV_OFF = 12,
	MSSIM_REMOTE_HANDSHAKE = 15,
	MSSIM_SET_ALTERNATIVE_RESULT = 16,
	MSSIM_RESET = 17,
	MSSIM_SESSION_END = 20,
	MSSIM_STOP = 21,
};
#define MSSIM_SERVER_VERSION 1u
/* REMOTE_HANDSHAKE endpoint flags: a platform port exists, and the TPM
 * is used raw (no TBS).  No physical presence: we ignore it. */
#define MSSIM_EP_PLATFORM_AVAILABLE 0x01u
#define MSSIM_EP_IN_RAW_MODE	    0x04u

/* swtpm control channel (include/swtpm/tpm_ioctl.h). */
enum tpmsock_swtpm_code {
	SWTPM_GET_CAPABILITY = 0x01,
	SWTPM_INIT = 0x02,
	SWTPM_SHUTDOWN = 0x03,
	SWTPM_SET_LOCALITY = 0x05,
	SWTPM_CANCEL_TPM_CMD = 0x09,
	SWTPM_STOP = 0x0e,
	SWTPM_GET_CONFIG = 0x0f,
	SWTPM_SET_BUFFERSIZE = 0x11,
};
#define SWTPM_CAP_INIT		 (1u << 0)
#define SWTPM_CAP_SHUTDOWN	 (1u << 1)
#define SWTPM_CAP_SET_LOCALITY	 (1u << 3)
#define SWTPM_CAP_CANCEL_TPM_CMD (1u << 5)
#define SWTPM_CAP_STOP		 (1u << 10)
#define SWTPM_CAP_GET_CONFIG	 (1u << 11)
#define SWTPM_CAP_SET_BUFFERSIZE (1u << 13)
/* TPM 1.2 result codes the control channel answers with (tpm_error.h). */
#define SWTPM_RES_SUCCESS      0u
#define SWTPM_RES_BAD_ORDINAL  0x0au
#define SWTPM_RES_BAD_LOCALITY 0x3du
#define SWTPM_LOCALITY_MAX     4u

/* TPM response codes for answers made here rather than by the TPM. */
#define TPM2_ST_NO_SESSIONS   0x8001u
#define TPM12_TAG_RSP_COMMAND 0x00c4u
#define TPM2_RC_FAILURE	      0x101u
#define TPM2_RC_COMMAND_SIZE  0x142u
#define TPM2_RC_CANCELED      0x909u
#define TPM12_FAIL	      0x09u
#define TPM12_BAD_PARAM_SIZE  0x19u

/* ---------------------------------------------------------------- parsers */

/* Sends one TPM command, waits for its response.  0 or -errno (the
 * parser then answers a TPM error response in the command's family). */
typedef int (*tpmsock_xmit_fn)(void *ctx, const uint8_t *cmd, size_t len,
			       uint8_t locality, uint8_t *rsp, size_t cap,
			       size_t *rsp_len);

struct tpmsock_xmit {
	tpmsock_xmit_fn fn;
	void *ctx;
};

enum tpmsock_verdict {
	TPMSOCK_MORE = 0,
	TPMSOCK_REPLY = 1,
	TPMSOCK_CLOSE = 2,
};

struct tpmsock_step {
	size_t used;	 /* input bytes consumed */
	size_t out_len;	 /* bytes to send from out */
	const char *why; /* TPMSOCK_CLOSE: the client's fault, or NULL */
};

/* out must hold TPMSOCK_OUT_MAX bytes. */
enum tpmsock_verdict tpmsock_mssim_cmd(const uint8_t *in, size_t len,
				       uint8_t *out,
				       const struct tpmsock_xmit *x,
				       struct tpmsock_step *st);
enum tpmsock_verdict tpmsock_mssim_platform(const uint8_t *in, size_t len,
					    uint8_t *out,
					    struct tpmsock_step *st);
/* locality: the one the control channel set last. */
enum tpmsock_verdict tpmsock_swtpm_data(const uint8_t *in, size_t len,
					uint8_t *out,
					const struct tpmsock_xmit *x,
					uint8_t locality,
					struct tpmsock_step *st);
/* *locality: changed by SET_LOCALITY, kept across connections. */
enum tpmsock_verdict tpmsock_swtpm_ctrl(const uint8_t *in, size_t len,
					uint8_t *out, uint8_t *locality,
					struct tpmsock_step *st);

/* One transmit with what the TPM side may get wrong checked: a failed
 * transmit, or a response that is not one framed TPM response (shorter
 * than 10 bytes, or its size field not its length), becomes a TPM error
 * response in the command's family.  Returns the response length in out
 * (cap >= TPMSOCK_CMD_MAX). */
size_t tpmsock_transmit(const struct tpmsock_xmit *x, const uint8_t *cmd,
			size_t len, uint8_t locality, uint8_t *out, size_t cap);
/* A 10-byte TPM error response for a command whose tag is req_tag (0 if
 * unknown): TPM 1.2 tag and rc12 for a 1.2 command, else TPM 2.0's. */
size_t tpmsock_error_rsp(uint8_t *out, uint16_t req_tag, uint32_t rc2,
			 uint32_t rc12);

/* ---------------------------------------------------------------- cursor */

/* Untrusted bytes are read through a cursor that knows its bounds and
 * never moves on failure. */
struct tpmsock_cur {
	const uint8_t *p;
	size_t len, at;
};

static inline bool tpmsock_get_u8(struct tpmsock_cur *c, uint8_t *v)
{
	if (c->len - c->at < 1)
		return false;
	*v = c->p[c->at++];
	return true;
}

static inline bool tpmsock_get_u32(struct tpmsock_cur *c, uint32_t *v)
{
	const uint8_t *p = c->p + c->at;

	if (c->len - c->at < 4)
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	     p[3];
	c->at += 4;
	return true;
}

/* n bytes in place. */
static inline bool tpmsock_get_bytes(struct tpmsock_cur *c, size_t n,
				     const uint8_t **v)
{
	if (c->len - c->at < n)
		return false;
	*v = c->p + c->at;
	c->at += n;
	return true;
}

static inline void tpmsock_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t tpmsock_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---------------------------------------------------------------- server */

enum tpmsrv_kind {
	TPMSRV_MSSIM_CMD = 0,	   /* P */
	TPMSRV_MSSIM_PLATFORM = 1, /* P + 1 */
	TPMSRV_SWTPM_DATA = 2,	   /* P + 2 */
	TPMSRV_SWTPM_CTRL = 3,	   /* P + 3 */
	TPMSRV_KINDS = 4,
};

#define TPMSRV_CONNS_PER_KIND 4 /* clients at once per port */
#define TPMSRV_POLL_MAX	      (TPMSRV_KINDS * (1 + TPMSRV_CONNS_PER_KIND))
#define TPMSRV_IO_TIMEOUT_MS  5000 /* a message half sent or half read */

struct tpmsrv;
struct pollfd;

/* Listens on 127.0.0.1 ports P..P+3; port 0 picks four free adjacent
 * ports.  0 or -errno with why. */
int tpmsrv_open(uint16_t port, const struct tpmsock_xmit *x,
		struct tpmsrv **out, char *why, size_t why_len);
uint16_t tpmsrv_port(const struct tpmsrv *s);
/* The fds to poll (at most TPMSRV_POLL_MAX); lowers *timeout_ms to the
 * next connection deadline. */
unsigned tpmsrv_poll_set(struct tpmsrv *s, struct pollfd *pfd, int *timeout_ms);
/* Serves what poll reported for the set tpmsrv_poll_set made. */
void tpmsrv_serve(struct tpmsrv *s, const struct pollfd *pfd, unsigned n);
void tpmsrv_close(struct tpmsrv *s);

/* ---------------------------------------------------------------- exec */

/* Runs `/bin/sh -c cmd` with TPM2TOOLS_TCTI for port, PATH and HOME set
 * (stdout/stderr inherited: the console).  pid or -errno. */
int tpmfront_exec(const char *cmd, uint16_t port);

#endif /* HVSEC_TPMFRONT_H */
