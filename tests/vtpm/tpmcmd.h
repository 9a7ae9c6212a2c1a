/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmcmd - TPM 2.0 commands marshalled by hand for the tests that drive
 * the real libtpms through vtpm_tpm_process (tests/vtpm/test_tpm.c,
 * crashtpm.c, tests/vtpm-manager/test_ek.c, test_mblog.c, test_quote.c).
 *
 * Deliberately not tpm2-tss: the tests check the engine against bytes
 * they wrote themselves.  Everything is big-endian, as on the wire.
 * A command is built with tpmcmd_begin (header with a placeholder size),
 * the tpmcmd_put* calls, and tpmcmd_done (patches the size in).  The
 * put calls do not check the buffer: test commands are far below
 * VTPM_PAGE_SIZE, and an overflow is a bug in the test (assert).
 */
#ifndef HVSEC_TESTS_VTPM_TPMCMD_H
#define HVSEC_TESTS_VTPM_TPMCMD_H

#include <stddef.h>
#include <stdint.h>

#include "vtpm-instance/vtpm.h"

struct tpmcmd {
	uint8_t b[VTPM_PAGE_SIZE];
	size_t n; /* bytes used so far */
};

void tpmcmd_put8(struct tpmcmd *c, uint8_t v);
void tpmcmd_put16(struct tpmcmd *c, uint16_t v);
void tpmcmd_put32(struct tpmcmd *c, uint32_t v);
void tpmcmd_putbytes(struct tpmcmd *c, const uint8_t *p, size_t len);

/* Starts a command: tag, size 0 (tpmcmd_done fills it in), code. */
void tpmcmd_begin(struct tpmcmd *c, uint16_t tag, uint32_t code);
void tpmcmd_done(struct tpmcmd *c);

/* The empty-password session (TPM_RS_PW) as a whole auth area. */
void tpmcmd_pw_session(struct tpmcmd *c);

uint16_t tpmcmd_be16(const uint8_t *p);
uint32_t tpmcmd_be32(const uint8_t *p);

/*
 * Runs cmd[0..len) at locality loc through vtpm_tpm_process into
 * rsp[0..cap), stores the response length in *rsp_len and returns the
 * response code, or ~0 for a malformed response (shorter than a header,
 * or a header size that is not the length).
 */
uint32_t tpmcmd_process(const uint8_t *cmd, size_t len, uint8_t loc,
			uint8_t *rsp, size_t cap, size_t *rsp_len);

/* tpmcmd_process of a built command. */
uint32_t tpmcmd_run(const struct tpmcmd *c, uint8_t loc, uint8_t *rsp,
		    size_t cap, size_t *rsp_len);

#endif
