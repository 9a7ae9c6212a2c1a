/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_rsp.c - the 10-byte TPM error responses this module answers with
 * when a command never reaches the TPM (or its answer may not be released):
 * tag, size = 10, response code, all big-endian.
 */
#include "vtpm-instance/vtpm.h"

#define TPM2_ST_NO_SESSIONS	    0x8001u
#define TPM12_TAG_RQU_COMMAND	    0x00c1u
#define TPM12_TAG_RQU_AUTH2_COMMAND 0x00c3u
#define TPM12_TAG_RSP_COMMAND	    0x00c4u
#define ERROR_RESPONSE_SIZE	    10u

bool vtpm_tag_is_tpm12(uint16_t tag)
{
	return tag >= TPM12_TAG_RQU_COMMAND &&
	       tag <= TPM12_TAG_RQU_AUTH2_COMMAND;
}

size_t vtpm_error_response(uint8_t *buf, size_t cap, uint16_t req_tag,
			   uint32_t rc)
{
	/* A 1.2 stack parses 1.2 responses only; anything else (2.0 tags or
	 * garbage) gets the 2.0 form, which is what a TPM 2.0 answers to a
	 * tag it does not know. */
	uint16_t tag = vtpm_tag_is_tpm12(req_tag) ? TPM12_TAG_RSP_COMMAND
						  : TPM2_ST_NO_SESSIONS;

	if (!buf || cap < ERROR_RESPONSE_SIZE)
		return 0;
	buf[0] = (uint8_t)(tag >> 8);
	buf[1] = (uint8_t)tag;
	buf[2] = 0;
	buf[3] = 0;
	buf[4] = 0;
	buf[5] = ERROR_RESPONSE_SIZE;
	buf[6] = (uint8_t)(rc >> 24);
	buf[7] = (uint8_t)(rc >> 16);
	buf[8] = (uint8_t)(rc >> 8);
	buf[9] = (uint8_t)rc;
	return ERROR_RESPONSE_SIZE;
}
