/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_ring.c - the backend half of the Xen tpmif v2 shared page
 * (reference/vtpm.md §1): fetch and validate a request, answer it, ack a
 * cancel.
 *
 * The page is writable by the guest at any moment, so it is read through
 * volatile accesses, each shared field exactly once, into locals that are
 * then validated; the command bytes are copied out in one pass and only
 * the copy is looked at afterwards (tag, size field, and everything the TPM
 * parses).  Nothing derived from the page is ever re-read from it: the
 * response offset travels in struct vtpm_ring_req.  Every access stays in
 * [0, VTPM_PAGE_SIZE) whatever the header says.
 *
 * Ordering: the frontend writes payload and length, then a write barrier,
 * then state = SUBMIT.  We read state first, then an acquire fence, then
 * the rest.  Answering mirrors it: payload and length, a release fence,
 * then state = FINISH (the caller notifies after).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <xen/io/tpmif.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"

/* The header as this file reads it; the layout is Xen's, checked below. */
struct ring_hdr {
	uint32_t length;
	uint8_t state;
	uint8_t locality;
	uint8_t pad; /* "should be zero": never read, see vtpm_ring_fetch */
	uint8_t nr_extra_pages;
};

static_assert(sizeof(struct ring_hdr) == VTPM_RING_HDR_SIZE, "header size");
static_assert(sizeof(struct tpmif_shared_page) == VTPM_RING_HDR_SIZE,
	      "Xen header size");
static_assert(offsetof(struct ring_hdr, length) ==
		      offsetof(struct tpmif_shared_page, length),
	      "length offset");
static_assert(offsetof(struct ring_hdr, state) ==
		      offsetof(struct tpmif_shared_page, state),
	      "state offset");
static_assert(offsetof(struct ring_hdr, locality) ==
		      offsetof(struct tpmif_shared_page, locality),
	      "locality offset");
static_assert(offsetof(struct ring_hdr, nr_extra_pages) ==
		      offsetof(struct tpmif_shared_page, nr_extra_pages),
	      "nr_extra_pages offset");
static_assert((int)VTPM_RING_IDLE == (int)TPMIF_STATE_IDLE &&
		      (int)VTPM_RING_SUBMIT == (int)TPMIF_STATE_SUBMIT &&
		      (int)VTPM_RING_FINISH == (int)TPMIF_STATE_FINISH &&
		      (int)VTPM_RING_CANCEL == (int)TPMIF_STATE_CANCEL,
	      "tpmif_state values");
/* The largest offset a header can ask for still leaves room for an error
 * response, so every request can be answered in place. */
static_assert(VTPM_RING_HDR_SIZE + 4u * 255u + 10u <= VTPM_PAGE_SIZE,
	      "error response always fits");
static_assert(sizeof(((struct vtpm_ring_req *)0)->cmd) == VTPM_RING_MAX_PAYLOAD,
	      "request buffer holds a whole page payload");

#define TPM_MIN_RESPONSE 10u
#define TPM_LOCALITY_MAX 4u

/* The guest's page as bytes for bulk copies.  The page is not an object
 * defined volatile, so plain memcpy on it is defined; each copy is one
 * pass over the bytes and its result is all we use. */
static uint8_t *page_bytes(volatile void *page)
{
	return (uint8_t *)(uintptr_t)page;
}

/* The same refusal in the request's own TPM family. */
static uint32_t pick_rc(uint16_t tag, uint32_t rc2, uint32_t rc12)
{
	return vtpm_tag_is_tpm12(tag) ? rc12 : rc2;
}

enum vtpm_fetch vtpm_ring_fetch(volatile void *page,
				uint32_t allowed_localities,
				struct vtpm_ring_req *req, uint32_t *rc,
				char *why, size_t why_len)
{
	volatile struct ring_hdr *h = page;
	uint32_t length, off, room, n, size;
	uint8_t state, locality, nr;

	if (why && why_len)
		why[0] = '\0';
	*rc = VTPM_RC_SUCCESS;
	state = h->state;
	if (state == VTPM_RING_CANCEL)
		return VTPM_FETCH_CANCEL;
	if (state != VTPM_RING_SUBMIT)
		return VTPM_FETCH_NONE;
	/* Pairs with the frontend's barrier before SUBMIT. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	length = h->length;
	locality = h->locality;
	nr = h->nr_extra_pages;
	/* pad is not read: Linux zeroes it, nothing gives it a meaning, and
	 * refusing a nonzero value would only break a frontend that forgets
	 * to clear it. */

	/* At most 8 + 1020, so the answer always has room (asserted). */
	off = VTPM_RING_HDR_SIZE + 4u * nr;
	room = VTPM_PAGE_SIZE - off;
	n = length < room ? length : room;
	memcpy(req->cmd, page_bytes(page) + off, n);
	/* The compiler may not assume the page still equals the copy (and
	 * read the page again in its place). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);

	req->len = 0;
	req->locality = locality;
	req->resp_offset = off;
	req->tag = n >= 2 ? (uint16_t)(req->cmd[0] << 8 | req->cmd[1]) : 0;

	/* Which error wins when several are wrong: the shape of the page
	 * (extra pages, then length), then the command's own size field,
	 * then the locality policy. */
	if (nr != 0) {
		*rc = pick_rc(req->tag, VTPM_RC_COMMAND_SIZE,
			      VTPM12_BAD_PARAM_SIZE);
		vtpm_set_why(why, why_len,
			"nr_extra_pages %u: multi-page requests are not "
			"supported",
			nr);
		return VTPM_FETCH_INVALID;
	}
	if (length < VTPM_TPM_MIN_COMMAND || length > room) {
		*rc = pick_rc(req->tag, VTPM_RC_COMMAND_SIZE,
			      VTPM12_BAD_PARAM_SIZE);
		vtpm_set_why(why, why_len,
			"length %" PRIu32 " outside [%u, %" PRIu32 "]", length,
			VTPM_TPM_MIN_COMMAND, room);
		return VTPM_FETCH_INVALID;
	}
	size = vtpm_get_be32(req->cmd + 2);
	if (size != length) {
		*rc = pick_rc(req->tag, VTPM_RC_COMMAND_SIZE,
			      VTPM12_BAD_PARAM_SIZE);
		vtpm_set_why(why, why_len,
			"command size field %" PRIu32
			" differs from ring length %" PRIu32,
			size, length);
		return VTPM_FETCH_INVALID;
	}
	/* libtpms trusts the locality it is given: refuse any the policy
	 * does not allow, and any no TPM has (shifts past 31 are UB). */
	if (locality > TPM_LOCALITY_MAX ||
	    !(allowed_localities & VTPM_LOCALITY_ALL_MASK & (1u << locality))) {
		*rc = pick_rc(req->tag, VTPM_RC_LOCALITY, VTPM12_BAD_LOCALITY);
		vtpm_set_why(why, why_len,
			"locality %u not allowed (mask 0x%" PRIx32 ")",
			locality, allowed_localities);
		return VTPM_FETCH_INVALID;
	}
	req->len = length;
	return VTPM_FETCH_REQUEST;
}

/* Payload, length, release fence, FINISH: the frontend that sees FINISH
 * sees the whole answer. */
static void ring_finish(volatile void *page, uint32_t off, const uint8_t *rsp,
			uint32_t len)
{
	volatile struct ring_hdr *h = page;

	memcpy(page_bytes(page) + off, rsp, len);
	h->length = len;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	h->state = VTPM_RING_FINISH;
}

/* A response we may release: whole, fits at off, and its size field says
 * so.  libtpms' answers always pass; this keeps a bug from becoming a
 * malformed answer or an out-of-page write. */
static bool response_ok(uint32_t off, const uint8_t *rsp, size_t rsp_len)
{
	if (!rsp || rsp_len < TPM_MIN_RESPONSE ||
	    rsp_len > VTPM_PAGE_SIZE - off)
		return false;
	return vtpm_get_be32(rsp + 2) == rsp_len;
}

void vtpm_ring_respond(volatile void *page, const struct vtpm_ring_req *req,
		       const uint8_t *rsp, size_t rsp_len)
{
	uint32_t off = req->resp_offset;
	uint8_t err[TPM_MIN_RESPONSE];

	/* resp_offset comes from vtpm_ring_fetch; anything else is a caller
	 * bug, answered where a frontend without extra pages looks. */
	if (off < VTPM_RING_HDR_SIZE || off > VTPM_PAGE_SIZE - TPM_MIN_RESPONSE)
		off = VTPM_RING_HDR_SIZE;
	if (!response_ok(off, rsp, rsp_len)) {
		rsp_len = vtpm_error_response(
			err, sizeof(err), req->tag,
			pick_rc(req->tag, VTPM_RC_FAILURE, VTPM12_FAIL));
		rsp = err;
	}
	ring_finish(page, off, rsp, (uint32_t)rsp_len);
}

void vtpm_ring_respond_error(volatile void *page,
			     const struct vtpm_ring_req *req, uint32_t rc)
{
	uint8_t err[TPM_MIN_RESPONSE];
	size_t len = vtpm_error_response(err, sizeof(err), req->tag, rc);

	vtpm_ring_respond(page, req, err, len);
}

void vtpm_ring_cancel_ack(volatile void *page)
{
	volatile struct ring_hdr *h = page;

	/* Whatever we wrote before (nothing, normally) is visible first. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	h->state = VTPM_RING_IDLE;
}

uint8_t vtpm_ring_state(const volatile void *page)
{
	const volatile struct ring_hdr *h = page;

	return h->state;
}
