/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_tpm.c - the guest's TPM: libtpms behind the store and locality
 * callbacks, started by us (guests never send Startup), answering every
 * command with a well-formed response that is released only once the state
 * it depends on is durable.
 *
 * libtpms keeps one TPM per process in global state, so this file does
 * too (struct tpm_state below); nothing here is thread-safe, and callers
 * run one command at a time as the ring does.
 *
 * Durability: libtpms calls tpm_nvram_storedata from inside TPMLIB_Process
 * when a command changed NV.  A failed store is remembered and the
 * command's response, whatever libtpms says, becomes TPM_RC_NV_UNAVAILABLE.
 * libtpms 2.0 itself enters failure mode when its NV commit fails
 * (ExecuteCommand: FAIL(FATAL_ERROR_INTERNAL)), so the TPM answers
 * TPM_RC_FAILURE until vtpm_tpm_reset reloads the last durable state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_memory.h>
#include <libtpms/tpm_nvfilename.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

#define TPM2_ST_NO_SESSIONS   0x8001u
#define TPM2_CC_STARTUP	      0x00000144u
#define TPM2_SU_CLEAR	      0x0000u
#define TPM12_TAG_RQU_COMMAND 0x00c1u
#define TPM12_ORD_INIT	      0x00000097u
#define TPM12_ORD_STARTUP     0x00000099u
#define TPM12_ST_CLEAR	      0x0001u
#define STARTUP_CMD_SIZE      12u
#define TPM_MIN_RESPONSE      10u
#define TPM_LOCALITY_MAX      4u

/* The one TPM of this process.  Owned by this file; valid between
 * power_on and power_off. */
static struct tpm_state {
	bool on;
	const struct vtpm_store *store; /* the caller's; outlives the TPM */
	bool tpm12;
	bool platform_open; /* provisioning: platform hierarchy left on */
	uint32_t buffer_size;
	/* What the callbacks report back, for the command in progress. */
	uint8_t locality;  /* returned by tpm_io_getlocality */
	bool store_failed; /* a store/delete failed since last cleared */
	int store_err;	   /* its -errno */
	int load_err;	   /* -errno of a failed load during MainInit */
	bool permall_absent;
	/* libtpms' response buffer: it allocates and grows it with its own
	 * allocator; we keep it across commands and TPM_Free it at
	 * power_off. */
	unsigned char *rsp;
	uint32_t rsp_size;
	/* TPMLIB_Process takes a non-const command: our own copy. */
	unsigned char cmd[VTPM_PAGE_SIZE];
	struct vtpm_tpm_stats stats;
} tpm;

/* ------------------------------------------------------------ callbacks */

static TPM_RESULT cb_nvram_init(void)
{
	return TPM_SUCCESS;
}

static TPM_RESULT cb_nvram_load(unsigned char **data, uint32_t *length,
				uint32_t tpm_number, const char *name)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	(void)tpm_number; /* always 0: one TPM per process */
	*data = NULL;
	*length = 0;
	if (!tpm.store)
		return TPM_FAIL;
	ret = tpm.store->ops->load(tpm.store->ctx, name, &buf, &len);
	if (ret == -ENOENT) {
		/* TPM_RETRY is libtpms' "no state yet": manufacture. */
		if (strcmp(name, TPM_PERMANENT_ALL_NAME) == 0)
			tpm.permall_absent = true;
		return TPM_RETRY;
	}
	if (ret) {
		tpm.load_err = ret;
		return TPM_FAIL;
	}
	if (len == 0 || len > VTPM_STATE_MAX) {
		tpm.load_err = len ? -EFBIG : -EBADMSG;
		goto fail;
	}
	/* libtpms frees what we hand it with TPM_Free. */
	if (TPM_Malloc(data, (uint32_t)len) != TPM_SUCCESS) {
		tpm.load_err = -ENOMEM;
		goto fail;
	}
	memcpy(*data, buf, len);
	*length = (uint32_t)len;
	free(buf);
	return TPM_SUCCESS;
fail:
	free(buf);
	*data = NULL;
	return TPM_FAIL;
}

static void store_failed(int err)
{
	tpm.stats.store_failures++;
	tpm.store_failed = true;
	tpm.store_err = err;
}

static TPM_RESULT cb_nvram_store(const unsigned char *data, uint32_t length,
				 uint32_t tpm_number, const char *name)
{
	int ret;

	(void)tpm_number;
	tpm.stats.stores++;
	if (!tpm.store) {
		store_failed(-ENODEV);
		return TPM_FAIL;
	}
	ret = tpm.store->ops->store(tpm.store->ctx, name, data, length);
	if (ret) {
		store_failed(ret);
		return TPM_FAIL;
	}
	return TPM_SUCCESS;
}

static TPM_RESULT cb_nvram_delete(uint32_t tpm_number, const char *name,
				  TPM_BOOL must_exist)
{
	int ret;

	(void)tpm_number;
	tpm.stats.stores++;
	if (!tpm.store) {
		store_failed(-ENODEV);
		return TPM_FAIL;
	}
	ret = tpm.store->ops->remove(tpm.store->ctx, name);
	if (ret == -ENOENT && !must_exist)
		return TPM_SUCCESS;
	if (ret) {
		store_failed(ret);
		return TPM_FAIL;
	}
	return TPM_SUCCESS;
}

static TPM_RESULT cb_io_init(void)
{
	return TPM_SUCCESS;
}

/* libtpms asks before every command and trusts the answer: it is the
 * locality vtpm_tpm_process was given (checked there). */
static TPM_RESULT cb_io_getlocality(TPM_MODIFIER_INDICATOR *locality,
				    uint32_t tpm_number)
{
	(void)tpm_number;
	*locality = tpm.locality;
	return TPM_SUCCESS;
}

/* A guest is never physically present at its virtual TPM. */
static TPM_RESULT cb_io_getphysicalpresence(TPM_BOOL *present,
					    uint32_t tpm_number)
{
	(void)tpm_number;
	*present = 0;
	return TPM_SUCCESS;
}

/* ------------------------------------------------------------- engine */

/* Startup(CLEAR) at locality 0, sent by us: guests may not. */
static int tpm_startup(char *why, size_t why_len)
{
	uint32_t len = 0, rc;
	TPM_RESULT r;

	vtpm_put_be16(tpm.cmd,
		 tpm.tpm12 ? TPM12_TAG_RQU_COMMAND : TPM2_ST_NO_SESSIONS);
	vtpm_put_be32(tpm.cmd + 2, STARTUP_CMD_SIZE);
	vtpm_put_be32(tpm.cmd + 6, tpm.tpm12 ? TPM12_ORD_STARTUP : TPM2_CC_STARTUP);
	vtpm_put_be16(tpm.cmd + 10, tpm.tpm12 ? TPM12_ST_CLEAR : TPM2_SU_CLEAR);
	tpm.locality = 0;
	tpm.store_failed = false;
	r = TPMLIB_Process(&tpm.rsp, &len, &tpm.rsp_size, tpm.cmd,
			   STARTUP_CMD_SIZE);
	if (tpm.store_failed) {
		vtpm_set_why(why, why_len, "Startup(CLEAR): storing state: %s",
			strerror(-tpm.store_err));
		return tpm.store_err;
	}
	if (r != TPM_SUCCESS || !tpm.rsp || len < TPM_MIN_RESPONSE) {
		vtpm_set_why(why, why_len, "Startup(CLEAR): libtpms error 0x%x",
			(unsigned)r);
		return -EIO;
	}
	rc = vtpm_get_be32(tpm.rsp + 6);
	if (rc != VTPM_RC_SUCCESS) {
		vtpm_set_why(why, why_len, "Startup(CLEAR): TPM rc 0x%" PRIx32, rc);
		return -EIO;
	}
	return 0;
}

/* Version, callbacks, buffer size, MainInit (manufacturing when there is
 * no permall), Startup(CLEAR).  On failure libtpms is terminated. */
static int tpm_boot(char *why, size_t why_len)
{
	struct libtpms_callbacks cbs = {
		.sizeOfStruct = sizeof(cbs),
		.tpm_nvram_init = cb_nvram_init,
		.tpm_nvram_loaddata = cb_nvram_load,
		.tpm_nvram_storedata = cb_nvram_store,
		.tpm_nvram_deletename = cb_nvram_delete,
		.tpm_io_init = cb_io_init,
		.tpm_io_getlocality = cb_io_getlocality,
		.tpm_io_getphysicalpresence = cb_io_getphysicalpresence,
	};
	uint32_t got, min = 0, max = 0;
	TPM_RESULT r;
	int ret;

	r = TPMLIB_ChooseTPMVersion(tpm.tpm12 ? TPMLIB_TPM_VERSION_1_2
					      : TPMLIB_TPM_VERSION_2);
	if (r != TPM_SUCCESS) {
		vtpm_set_why(why, why_len, "TPMLIB_ChooseTPMVersion: 0x%x",
			(unsigned)r);
		return -EIO;
	}
	r = TPMLIB_RegisterCallbacks(&cbs);
	if (r != TPM_SUCCESS) {
		vtpm_set_why(why, why_len, "TPMLIB_RegisterCallbacks: 0x%x",
			(unsigned)r);
		return -EIO;
	}
	/* The TPM advertises (TPM_PT_MAX_COMMAND_SIZE ...) what the ring can
	 * carry; libtpms clamps silently, so insist on an exact answer. */
	got = TPMLIB_SetBufferSize(tpm.buffer_size, &min, &max);
	if (got != tpm.buffer_size) {
		vtpm_set_why(why, why_len,
			"buffer size %" PRIu32
			" not supported (libtpms: %" PRIu32 "..%" PRIu32 ")",
			tpm.buffer_size, min, max);
		return -EINVAL;
	}
	tpm.load_err = 0;
	tpm.permall_absent = false;
	tpm.store_failed = false;
	r = TPMLIB_MainInit();
	if (r != TPM_SUCCESS) {
		if (tpm.load_err)
			vtpm_set_why(why, why_len, "loading TPM state: %s",
				strerror(-tpm.load_err));
		else
			vtpm_set_why(why, why_len, "TPMLIB_MainInit: 0x%x",
				(unsigned)r);
		ret = tpm.load_err ? tpm.load_err : -EIO;
		goto fail;
	}
	if (tpm.store_failed) {
		vtpm_set_why(why, why_len, "storing the new TPM's state: %s",
			strerror(-tpm.store_err));
		ret = tpm.store_err;
		goto fail;
	}
	tpm.stats.manufactured = tpm.permall_absent;
	ret = tpm_startup(why, why_len);
	if (ret)
		goto fail;
	return 0;
fail:
	/* Also after a failed MainInit: it unlocks the version choice. */
	TPMLIB_Terminate();
	return ret;
}

/* After every Startup(CLEAR), which re-enables it: the platform
 * hierarchy off before a guest's first command (vtpm.h, EK section). */
static int lock_platform(char *why, size_t why_len)
{
	if (tpm.tpm12 || tpm.platform_open)
		return 0;
	return vtpm_ek_lock_platform(why, why_len);
}

int vtpm_tpm_power_on(const struct vtpm_tpm_config *cfg, char *why,
		      size_t why_len)
{
	const struct vtpm_store *st = cfg ? cfg->store : NULL;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (tpm.on) {
		vtpm_set_why(why, why_len, "the TPM of this process is already on");
		return -EBUSY;
	}
	if (!st || !st->ops || !st->ops->load || !st->ops->store ||
	    !st->ops->remove) {
		vtpm_set_why(why, why_len, "no state store");
		return -EINVAL;
	}
	/* A larger buffer would let the TPM answer what no page carries. */
	if (cfg->buffer_size > VTPM_RING_MAX_PAYLOAD) {
		vtpm_set_why(why, why_len,
			"buffer size %" PRIu32 " exceeds the ring's %u",
			cfg->buffer_size, VTPM_RING_MAX_PAYLOAD);
		return -EINVAL;
	}
	memset(&tpm.stats, 0, sizeof(tpm.stats));
	tpm.store = st;
	tpm.tpm12 = cfg->tpm12;
	tpm.buffer_size =
		cfg->buffer_size ? cfg->buffer_size : VTPM_RING_MAX_PAYLOAD;
	ret = tpm_boot(why, why_len);
	if (ret) {
		TPM_Free(tpm.rsp);
		tpm.rsp = NULL;
		tpm.rsp_size = 0;
		tpm.store = NULL;
		return ret;
	}
	tpm.on = true;
	tpm.platform_open = cfg->platform_open;
	ret = lock_platform(why, why_len);
	if (ret)
		vtpm_tpm_power_off();
	return ret;
}

/* The command's own TPM family picks the code (see vtpm.h). */
static uint32_t pick_rc(uint16_t tag, uint32_t rc2, uint32_t rc12)
{
	return vtpm_tag_is_tpm12(tag) ? rc12 : rc2;
}

static size_t refuse(uint8_t *rsp, size_t cap, uint16_t tag, uint32_t rc)
{
	tpm.stats.errors++;
	return vtpm_error_response(rsp, cap, tag, rc);
}

/* Commands a guest may not send: Startup (ours, at power-on; a guest's
 * would be refused by a started TPM anyway, but we never rely on that) and
 * TPM 1.2's TPM_Init, which would reset PCRs from software (libtpms
 * compiles it only into test builds). */
static bool guest_forbidden(uint16_t tag, uint32_t code, uint32_t *rc)
{
	if (vtpm_tag_is_tpm12(tag)) {
		if (code == TPM12_ORD_STARTUP) {
			*rc = VTPM12_INVALID_POSTINIT;
			return true;
		}
		if (code == TPM12_ORD_INIT) {
			*rc = VTPM12_BAD_ORDINAL;
			return true;
		}
		return false;
	}
	if (code == TPM2_CC_STARTUP) {
		*rc = VTPM_RC_INITIALIZE;
		return true;
	}
	return false;
}

size_t vtpm_tpm_process(const uint8_t *cmd, size_t cmd_len, uint8_t locality,
			uint8_t *rsp, size_t cap)
{
	uint16_t tag = cmd && cmd_len >= 2 ? vtpm_get_be16(cmd) : 0;
	uint32_t len = 0, rc;
	TPM_RESULT r;

	if (!rsp || cap < TPM_MIN_RESPONSE)
		return 0;
	tpm.stats.commands++;
	if (!tpm.on)
		return refuse(rsp, cap, tag,
			      pick_rc(tag, VTPM_RC_FAILURE, VTPM12_FAIL));
	if (!cmd || cmd_len < VTPM_TPM_MIN_COMMAND || cmd_len > tpm.buffer_size)
		return refuse(rsp, cap, tag,
			      pick_rc(tag, VTPM_RC_COMMAND_SIZE,
				      VTPM12_BAD_PARAM_SIZE));
	/* Validated by the ring already; libtpms would believe anything. */
	if (locality > TPM_LOCALITY_MAX)
		return refuse(
			rsp, cap, tag,
			pick_rc(tag, VTPM_RC_LOCALITY, VTPM12_BAD_LOCALITY));
	if (guest_forbidden(tag, vtpm_get_be32(cmd + 6), &rc))
		return refuse(rsp, cap, tag, rc);

	memcpy(tpm.cmd, cmd, cmd_len);
	tpm.locality = locality;
	tpm.store_failed = false;
	r = TPMLIB_Process(&tpm.rsp, &len, &tpm.rsp_size, tpm.cmd,
			   (uint32_t)cmd_len);
	/* The answer may describe a state that is not durable: never
	 * release it. */
	if (tpm.store_failed)
		return refuse(
			rsp, cap, tag,
			pick_rc(tag, VTPM_RC_NV_UNAVAILABLE, VTPM12_FAIL));
	if (r != TPM_SUCCESS || !tpm.rsp || len < TPM_MIN_RESPONSE ||
	    len > cap || vtpm_get_be32(tpm.rsp + 2) != len)
		return refuse(rsp, cap, tag,
			      pick_rc(tag, VTPM_RC_FAILURE, VTPM12_FAIL));
	memcpy(rsp, tpm.rsp, len);
	return len;
}

int vtpm_tpm_reset(char *why, size_t why_len)
{
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (!tpm.on) {
		vtpm_set_why(why, why_len, "the TPM is off");
		return -ENODEV;
	}
	TPMLIB_Terminate();
	ret = tpm_boot(why, why_len);
	if (!ret) {
		ret = lock_platform(why, why_len);
		if (ret)
			TPMLIB_Terminate();
	}
	if (ret) {
		/* Off for good: every command now gets TPM_RC_FAILURE. */
		tpm.on = false;
		TPM_Free(tpm.rsp);
		tpm.rsp = NULL;
		tpm.rsp_size = 0;
		tpm.store = NULL;
	}
	return ret;
}

int vtpm_tpm_end_provisioning(char *why, size_t why_len)
{
	vtpm_set_why(why, why_len, "%s", "");
	if (!tpm.on) {
		vtpm_set_why(why, why_len, "the TPM is off");
		return -ENODEV;
	}
	tpm.platform_open = false;
	return lock_platform(why, why_len);
}

void vtpm_tpm_power_off(void)
{
	if (!tpm.on)
		return;
	TPMLIB_Terminate();
	TPM_Free(tpm.rsp);
	tpm.rsp = NULL;
	tpm.rsp_size = 0;
	tpm.store = NULL;
	tpm.on = false;
}

void vtpm_tpm_stats(struct vtpm_tpm_stats *out)
{
	*out = tpm.stats;
}
