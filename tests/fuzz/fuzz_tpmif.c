/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_tpmif - libFuzzer harness for the vTPM request path: the bytes a
 * guest controls (the tpmif v2 page) through vtpm_ring_fetch, libtpms
 * (vtpm_tpm_process) and vtpm_ring_respond, as the daemon runs them.
 *
 *   input := flags:u8 mask:u32le chunk*
 *   chunk := len:u16le bytes[len]     (len clamped to 4096 and to what is
 *                                      left; the page is zeroed, then the
 *                                      bytes are its first len bytes)
 *   flags bit 0: every state store fails (the NV_UNAVAILABLE path)
 *   mask: the allowed-locality mask given to the fetch
 *
 * Each input starts from the same freshly manufactured TPM (its permall
 * is captured once and restored into a RAM store per input), so a crash
 * reproduces from its input alone.  Invariants, any failure aborts:
 *   - fetch never writes the page;
 *   - REQUEST: 10 <= len <= 4088, the copy's size field is len, the
 *     locality is in the mask and <= 4;
 *   - the TPM's answer is 10..4088 bytes with a matching size field; when
 *     a store failed during it, it is exactly TPM_RC_NV_UNAVAILABLE;
 *   - after respond: state FINISH, length and bytes at resp_offset as
 *     answered; after an INVALID, a 10-byte error with the given code;
 *   - CANCEL: acked to IDLE; NONE: nothing changes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm-instance/vtpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ----------------------------------------------------- RAM state store */

#define NSLOT 3

static struct slot {
	char name[16];
	uint8_t *data;
	size_t len;
} slots[NSLOT];
static bool stores_fail;

static struct slot *find(const char *name, bool create)
{
	for (int i = 0; i < NSLOT; i++)
		if (slots[i].data && strcmp(slots[i].name, name) == 0)
			return &slots[i];
	for (int i = 0; create && i < NSLOT; i++)
		if (!slots[i].data)
			return &slots[i];
	return NULL;
}

static int mem_load(void *ctx, const char *name, uint8_t **d, size_t *len)
{
	struct slot *s = find(name, false);

	(void)ctx;
	if (!s)
		return -ENOENT;
	*d = malloc(s->len);
	if (!*d)
		return -ENOMEM;
	memcpy(*d, s->data, s->len);
	*len = s->len;
	return 0;
}

static int mem_store(void *ctx, const char *name, const uint8_t *d, size_t len)
{
	struct slot *s;
	uint8_t *copy;

	(void)ctx;
	if (stores_fail)
		return -EIO;
	s = find(name, true);
	copy = malloc(len ? len : 1);
	if (!s || !copy || strlen(name) >= sizeof(s->name)) {
		free(copy);
		return -ENOSPC;
	}
	memcpy(copy, d, len);
	free(s->data);
	s->data = copy;
	s->len = len;
	strcpy(s->name, name);
	return 0;
}

static int mem_remove(void *ctx, const char *name)
{
	struct slot *s = find(name, false);

	(void)ctx;
	if (stores_fail)
		return -EIO;
	if (!s)
		return -ENOENT;
	free(s->data);
	s->data = NULL;
	return 0;
}

static const struct vtpm_store_ops mem_ops = {
	.load = mem_load,
	.store = mem_store,
	.remove = mem_remove,
};
static struct vtpm_store mem_st = {&mem_ops, NULL};

static void mem_clear(void)
{
	for (int i = 0; i < NSLOT; i++) {
		free(slots[i].data);
		slots[i].data = NULL;
	}
}

/* ------------------------------------------------------------ harness */

static uint8_t page[VTPM_PAGE_SIZE] __attribute__((aligned(VTPM_PAGE_SIZE)));
static uint8_t before[VTPM_PAGE_SIZE];
static uint8_t rsp[VTPM_RING_MAX_PAYLOAD];
static uint8_t *permall; /* the manufactured TPM, restored per input */
static size_t permall_len;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t page_length(void)
{
	uint32_t v;

	memcpy(&v, page, 4);
	return v;
}

static void power_on(void)
{
	struct vtpm_tpm_config cfg = {.store = &mem_st};

	if (vtpm_tpm_power_on(&cfg, NULL, 0) != 0)
		abort();
}

static void init_once(void)
{
	struct slot *s;

	power_on(); /* manufactures */
	vtpm_tpm_power_off();
	s = find("permall", false);
	if (!s)
		abort();
	permall = malloc(s->len);
	if (!permall)
		abort();
	memcpy(permall, s->data, s->len);
	permall_len = s->len;
}

static void check_answer(const struct vtpm_ring_req *req, const uint8_t *want,
			 size_t want_len)
{
	if (page[4] != VTPM_RING_FINISH || page_length() != want_len ||
	    memcmp(page + req->resp_offset, want, want_len) != 0)
		abort();
}

static void one_page(uint32_t mask)
{
	struct vtpm_tpm_stats s0, s1;
	struct vtpm_ring_req req;
	uint8_t err[10];
	uint32_t rc = 0;
	size_t n;

	memcpy(before, page, sizeof(page));
	switch (vtpm_ring_fetch(page, mask, &req, &rc, NULL, 0)) {
	case VTPM_FETCH_NONE:
		if (memcmp(before, page, sizeof(page)) != 0)
			abort();
		break;
	case VTPM_FETCH_CANCEL:
		if (memcmp(before, page, sizeof(page)) != 0)
			abort();
		vtpm_ring_cancel_ack(page);
		if (page[4] != VTPM_RING_IDLE)
			abort();
		break;
	case VTPM_FETCH_INVALID:
		if (memcmp(before, page, sizeof(page)) != 0)
			abort();
		if (rc != VTPM_RC_COMMAND_SIZE && rc != VTPM_RC_LOCALITY &&
		    rc != VTPM12_BAD_PARAM_SIZE && rc != VTPM12_BAD_LOCALITY)
			abort();
		if (req.resp_offset < 8 || req.resp_offset > 8 + 4 * 255)
			abort();
		vtpm_ring_respond_error(page, &req, rc);
		vtpm_error_response(err, sizeof(err), req.tag, rc);
		check_answer(&req, err, sizeof(err));
		break;
	case VTPM_FETCH_REQUEST:
		if (memcmp(before, page, sizeof(page)) != 0)
			abort();
		if (req.len < 10 || req.len > VTPM_RING_MAX_PAYLOAD ||
		    be32(req.cmd + 2) != req.len || req.locality > 4 ||
		    !(mask & (1u << req.locality)) || req.resp_offset != 8)
			abort();
		vtpm_tpm_stats(&s0);
		n = vtpm_tpm_process(req.cmd, req.len, req.locality, rsp,
				     sizeof(rsp));
		vtpm_tpm_stats(&s1);
		if (n < 10 || n > VTPM_RING_MAX_PAYLOAD || be32(rsp + 2) != n)
			abort();
		/* A response that depends on a failed store never leaves. */
		if (s1.store_failures != s0.store_failures &&
		    (n != 10 || be32(rsp + 6) != VTPM_RC_NV_UNAVAILABLE))
			abort();
		vtpm_ring_respond(page, &req, rsp, n);
		check_answer(&req, rsp, n);
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint32_t mask;
	size_t off = 5;

	if (!ready) {
		init_once();
		ready = true;
	}
	if (size < 5)
		return 0;
	mask = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
	       (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;

	mem_clear();
	stores_fail = false;
	if (mem_store(NULL, "permall", permall, permall_len) != 0)
		abort();
	power_on();
	stores_fail = data[0] & 1;
	while (size - off >= 2) {
		size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;

		off += 2;
		if (n > VTPM_PAGE_SIZE)
			n = VTPM_PAGE_SIZE;
		if (n > size - off)
			n = size - off;
		memset(page, 0, sizeof(page));
		memcpy(page, data + off, n);
		off += n;
		one_page(mask);
	}
	vtpm_tpm_power_off();
	stores_fail = false;
	return 0;
}
