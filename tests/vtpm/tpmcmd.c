/* SPDX-License-Identifier: BSD-2-Clause */
/* tpmcmd - hand-marshalled TPM commands for the tests (see tpmcmd.h). */
#include "tests/vtpm/tpmcmd.h"

#include <assert.h>
#include <string.h>

#define TPM_RS_PW 0x40000009u
#define HDR_LEN	  10u

void tpmcmd_put8(struct tpmcmd *c, uint8_t v)
{
	assert(c->n < sizeof(c->b));
	c->b[c->n++] = v;
}

void tpmcmd_put16(struct tpmcmd *c, uint16_t v)
{
	tpmcmd_put8(c, (uint8_t)(v >> 8));
	tpmcmd_put8(c, (uint8_t)v);
}

void tpmcmd_put32(struct tpmcmd *c, uint32_t v)
{
	tpmcmd_put16(c, (uint16_t)(v >> 16));
	tpmcmd_put16(c, (uint16_t)v);
}

void tpmcmd_putbytes(struct tpmcmd *c, const uint8_t *p, size_t len)
{
	assert(len <= sizeof(c->b) - c->n);
	memcpy(c->b + c->n, p, len);
	c->n += len;
}

void tpmcmd_begin(struct tpmcmd *c, uint16_t tag, uint32_t code)
{
	c->n = 0;
	tpmcmd_put16(c, tag);
	tpmcmd_put32(c, 0);
	tpmcmd_put32(c, code);
}

void tpmcmd_done(struct tpmcmd *c)
{
	c->b[2] = (uint8_t)(c->n >> 24);
	c->b[3] = (uint8_t)(c->n >> 16);
	c->b[4] = (uint8_t)(c->n >> 8);
	c->b[5] = (uint8_t)c->n;
}

void tpmcmd_pw_session(struct tpmcmd *c)
{
	tpmcmd_put32(c, 9); /* size of what follows */
	tpmcmd_put32(c, TPM_RS_PW);
	tpmcmd_put16(c, 0); /* nonce */
	tpmcmd_put8(c, 0);  /* attributes */
	tpmcmd_put16(c, 0); /* hmac: empty password */
}

uint16_t tpmcmd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t tpmcmd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint32_t tpmcmd_process(const uint8_t *cmd, size_t len, uint8_t loc,
			uint8_t *rsp, size_t cap, size_t *rsp_len)
{
	*rsp_len = vtpm_tpm_process(cmd, len, loc, rsp, cap);
	if (*rsp_len < HDR_LEN || tpmcmd_be32(rsp + 2) != *rsp_len)
		return ~0u;
	return tpmcmd_be32(rsp + 6);
}

uint32_t tpmcmd_run(const struct tpmcmd *c, uint8_t loc, uint8_t *rsp,
		    size_t cap, size_t *rsp_len)
{
	return tpmcmd_process(c->b, c->n, loc, rsp, cap, rsp_len);
}
