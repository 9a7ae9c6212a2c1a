/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ring - the backend half of the tpmif v2 page (vtpm_ring.c) on a
 * page with PROT_NONE pages on both sides, so that any access outside
 * [0, 4096) is a fault this test reports.  A table of hostile headers
 * (length, command size field, extra pages, locality against masks, pad,
 * state) gives the fetch result, the response code and which error wins;
 * each refusal is answered in place and checked.  Then: responses (placed
 * at the fetched offset, never re-read from the page; oversized, short or
 * inconsistent ones replaced by TPM_RC_FAILURE), cancel, the copy-out
 * (later guest writes do not reach the request), and a guest thread
 * rewriting the header while the backend fetches.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/harness.h"
#include "vtpm-instance/vtpm.h"

static uint8_t *page; /* between two PROT_NONE pages */
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t faulted;
static void *fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_addr = si->si_addr;
	faulted = 1;
	siglongjmp(fault_jmp, 1);
}

/* Runs fn(arg); false if it touched memory outside the page.  (A
 * function of its own so that no caller's locals live across the
 * longjmp.) */
static bool no_fault(void (*fn)(const void *), const void *arg)
{
	faulted = 0;
	if (sigsetjmp(fault_jmp, 1) == 0)
		fn(arg);
	return !faulted;
}

static void map_guarded_page(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	uint8_t *m;

	if (ps != VTPM_PAGE_SIZE) {
		fprintf(stderr, "page size %ld\n", ps);
		exit(2);
	}
	m = mmap(NULL, 3 * VTPM_PAGE_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + VTPM_PAGE_SIZE, VTPM_PAGE_SIZE,
					PROT_READ | PROT_WRITE) != 0) {
		perror("mmap");
		exit(2);
	}
	page = m + VTPM_PAGE_SIZE;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t page_length(void)
{
	uint32_t v;

	memcpy(&v, page, 4);
	return v;
}

#define SIZE_MATCH 0xfffffff0u /* the size field equals length */

/* The guest's side: header fields plus a command at 8 + 4 * nr whose
 * size field is `size`, filling as much of the page as length asks. */
static void guest_write(uint32_t length, uint8_t state, uint8_t locality,
			uint8_t pad, uint8_t nr, uint16_t tag, uint32_t size)
{
	uint32_t off = 8u + 4u * nr;
	uint32_t room = VTPM_PAGE_SIZE - off;

	memset(page, 0xee, VTPM_PAGE_SIZE);
	memcpy(page, &length, 4);
	page[4] = state;
	page[5] = locality;
	page[6] = pad;
	page[7] = nr;
	page[off] = (uint8_t)(tag >> 8);
	page[off + 1] = (uint8_t)tag;
	put_be32(page + off + 2, size == SIZE_MATCH ? length : size);
	put_be32(page + off + 6, 0x17b);
	for (uint32_t i = 10; i < room; i++)
		page[off + i] = (uint8_t)i;
}

#define ALL VTPM_LOCALITY_ALL_MASK
#define DEF VTPM_LOCALITY_DEFAULT_MASK
#define T2  0x8001
#define T12 0x00c1

static const struct ring_case {
	const char *what;
	uint32_t length;
	uint8_t state, locality, pad, nr;
	uint16_t tag;
	uint32_t size;
	uint32_t allowed;
	enum vtpm_fetch want;
	uint32_t rc; /* for INVALID */
} ring_cases[] = {
	/* state */
	{"idle", 12, 0, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_NONE, 0},
	{"finish", 12, 2, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_NONE, 0},
	{"state 4", 12, 4, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_NONE, 0},
	{"state 255", 12, 255, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_NONE,
	 0},
	{"cancel", 12, 3, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_CANCEL, 0},
	{"cancel with garbage header", 0xffffffff, 3, 255, 9, 255, T2,
	 SIZE_MATCH, 0, VTPM_FETCH_CANCEL, 0},
	/* length */
	{"valid 12", 12, 1, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_REQUEST,
	 0},
	{"length 0", 0, 1, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_INVALID,
	 0x142},
	{"length 1", 1, 1, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_INVALID,
	 0x142},
	{"length 9", 9, 1, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_INVALID,
	 0x142},
	{"length 10", 10, 1, 0, 0, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_REQUEST,
	 0},
	{"length 4088", 4088, 1, 0, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_REQUEST, 0},
	{"length 4089", 4089, 1, 0, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"length 4096", 4096, 1, 0, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"length 0xffffffff", 0xffffffff, 1, 0, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"length 0x80000000", 0x80000000, 1, 0, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"1.2 length 9", 9, 1, 0, 0, 0, T12, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x19},
	/* the command's own size field */
	{"size field + 1", 12, 1, 0, 0, 0, T2, 13, DEF, VTPM_FETCH_INVALID,
	 0x142},
	{"size field - 1", 12, 1, 0, 0, 0, T2, 11, DEF, VTPM_FETCH_INVALID,
	 0x142},
	{"size field 0", 12, 1, 0, 0, 0, T2, 0, DEF, VTPM_FETCH_INVALID, 0x142},
	{"size field 0xffffffff", 12, 1, 0, 0, 0, T2, 0xffffffff, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"size field 4088 length 4000", 4000, 1, 0, 0, 0, T2, 4088, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"1.2 size mismatch", 14, 1, 0, 0, 0, T12, 18, DEF, VTPM_FETCH_INVALID,
	 0x19},
	/* extra pages (never implemented by a frontend) */
	{"nr_extra_pages 1", 12, 1, 0, 0, 1, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"nr_extra_pages 255", 12, 1, 0, 0, 255, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"nr 255, length fills the rest", 3068, 1, 0, 0, 255, T2, SIZE_MATCH,
	 DEF, VTPM_FETCH_INVALID, 0x142},
	{"nr 255, length 0xffffffff", 0xffffffff, 1, 0, 0, 255, T2, SIZE_MATCH,
	 DEF, VTPM_FETCH_INVALID, 0x142},
	/* locality against masks */
	{"locality 1, default mask", 12, 1, 1, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x907},
	{"locality 1, mask {0,1}", 12, 1, 1, 0, 0, T2, SIZE_MATCH, 0x03,
	 VTPM_FETCH_REQUEST, 0},
	{"locality 2, mask {0,1}", 12, 1, 2, 0, 0, T2, SIZE_MATCH, 0x03,
	 VTPM_FETCH_INVALID, 0x907},
	{"locality 3, all", 12, 1, 3, 0, 0, T2, SIZE_MATCH, ALL,
	 VTPM_FETCH_REQUEST, 0},
	{"locality 4, all", 12, 1, 4, 0, 0, T2, SIZE_MATCH, ALL,
	 VTPM_FETCH_REQUEST, 0},
	{"locality 4, mask {4}", 12, 1, 4, 0, 0, T2, SIZE_MATCH, 0x10,
	 VTPM_FETCH_REQUEST, 0},
	{"locality 0, mask {4}", 12, 1, 0, 0, 0, T2, SIZE_MATCH, 0x10,
	 VTPM_FETCH_INVALID, 0x907},
	{"locality 0, empty mask", 12, 1, 0, 0, 0, T2, SIZE_MATCH, 0,
	 VTPM_FETCH_INVALID, 0x907},
	{"locality 5, mask all bits", 12, 1, 5, 0, 0, T2, SIZE_MATCH,
	 0xffffffff, VTPM_FETCH_INVALID, 0x907},
	{"locality 31, mask all bits", 12, 1, 31, 0, 0, T2, SIZE_MATCH,
	 0xffffffff, VTPM_FETCH_INVALID, 0x907},
	{"locality 32, mask all bits", 12, 1, 32, 0, 0, T2, SIZE_MATCH,
	 0xffffffff, VTPM_FETCH_INVALID, 0x907},
	{"locality 255, mask all bits", 12, 1, 255, 0, 0, T2, SIZE_MATCH,
	 0xffffffff, VTPM_FETCH_INVALID, 0x907},
	{"1.2 locality 1", 14, 1, 1, 0, 0, T12, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x3d},
	/* pad is ignored */
	{"pad 1", 12, 1, 0, 1, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_REQUEST, 0},
	{"pad 0xff", 12, 1, 0, 0xff, 0, T2, SIZE_MATCH, DEF, VTPM_FETCH_REQUEST,
	 0},
	/* which error wins: page shape, then size field, then locality */
	{"nr 1 and locality 7", 12, 1, 7, 0, 1, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"length 9 and locality 3", 9, 1, 3, 0, 0, T2, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	{"size mismatch and locality 3", 12, 1, 3, 0, 0, T2, 99, DEF,
	 VTPM_FETCH_INVALID, 0x142},
	/* garbage tag: answered in 2.0 terms */
	{"tag 0xffff, length 0", 0, 1, 0, 0, 0, 0xffff, SIZE_MATCH, DEF,
	 VTPM_FETCH_INVALID, 0x142},
};

static struct vtpm_ring_req req;

static void run_case(const void *arg)
{
	const struct ring_case *c = arg;
	uint32_t rc = 0xdead, off = 8u + 4u * c->nr;
	enum vtpm_fetch got;
	char why[128];
	uint16_t want_tag;

	guest_write(c->length, c->state, c->locality, c->pad, c->nr, c->tag,
		    c->size);
	memset(&req, 0xcc, sizeof(req));
	why[0] = 'x';
	got = vtpm_ring_fetch(page, c->allowed, &req, &rc, why, sizeof(why));
	TH_CHECK(got == c->want, "%s: fetch %d, want %d (%s)", c->what, got,
		 c->want, why);
	if (got != c->want)
		return;
	switch (got) {
	case VTPM_FETCH_NONE:
	case VTPM_FETCH_CANCEL:
		TH_CHECK(page[4] == c->state, "%s: state untouched", c->what);
		break;
	case VTPM_FETCH_REQUEST:
		TH_CHECK(req.len == c->length && req.locality == c->locality &&
				 req.resp_offset == 8 && req.tag == c->tag &&
				 memcmp(req.cmd, page + 8, c->length) == 0 &&
				 why[0] == '\0',
			 "%s: request copied (len %u loc %u)", c->what, req.len,
			 req.locality);
		break;
	case VTPM_FETCH_INVALID:
		/* A tag exists only when the length covers it. */
		want_tag = c->length >= 2 ? c->tag : 0;
		TH_CHECK(rc == c->rc && req.resp_offset == off &&
				 req.tag == want_tag && why[0] && why[0] != 'x',
			 "%s: rc %#x (want %#x) off %u tag %#x why '%s'",
			 c->what, rc, c->rc, req.resp_offset, req.tag, why);
		vtpm_ring_respond_error(page, &req, rc);
		want_tag =
			(want_tag >= 0xc1 && want_tag <= 0xc3) ? 0xc4 : 0x8001;
		TH_CHECK(page[4] == VTPM_RING_FINISH && page_length() == 10 &&
				 be16(page + off) == want_tag &&
				 be32(page + off + 2) == 10 &&
				 be32(page + off + 6) == c->rc,
			 "%s: error answered at %u", c->what, off);
		TH_CHECK(page[5] == c->locality && page[7] == c->nr,
			 "%s: header fields the guest owns are untouched",
			 c->what);
		break;
	}
}

static void test_fetch_table(void)
{
	uint32_t rc;

	for (size_t i = 0; i < TH_ARRAY_LEN(ring_cases); i++)
		TH_CHECK(no_fault(run_case, &ring_cases[i]),
			 "%s: no access outside the page (fault at %p)",
			 ring_cases[i].what, fault_addr);
	/* why may be NULL. */
	guest_write(9, 1, 0, 0, 0, T2, SIZE_MATCH);
	TH_CHECK(vtpm_ring_fetch(page, DEF, &req, &rc, NULL, 0) ==
			 VTPM_FETCH_INVALID,
		 "NULL why");
}

struct respond_args {
	const uint8_t *rsp;
	size_t len;
};

static void do_respond(const void *arg)
{
	const struct respond_args *a = arg;

	vtpm_ring_respond(page, &req, a->rsp, a->len);
}

/* A response of `len` bytes whose size field says `size`. */
static void make_rsp(uint8_t *r, size_t len, uint32_t size)
{
	for (size_t i = 0; i < len; i++)
		r[i] = (uint8_t)(i * 3);
	if (len >= 6) {
		r[0] = 0x80;
		r[1] = 0x01;
		put_be32(r + 2, size);
	}
	if (len >= 10)
		put_be32(r + 6, 0);
}

static void test_respond(void)
{
	static const struct {
		const char *what;
		uint8_t nr;    /* of the fetched request */
		uint16_t tag;  /* of the request */
		size_t len;    /* response length */
		int64_t size;  /* its size field; -1: = len */
		bool replaced; /* by a failure response */
	} cases[] = {
		{"44 bytes", 0, T2, 44, -1, false},
		{"10 bytes", 0, T2, 10, -1, false},
		{"4088 bytes", 0, T2, 4088, -1, false},
		{"4089 bytes", 0, T2, 4089, -1, true},
		{"9 bytes", 0, T2, 9, -1, true},
		{"0 bytes", 0, T2, 0, -1, true},
		{"size field mismatch", 0, T2, 44, 45, true},
		{"nr 255: 3068 fits", 255, T2, 3068, -1, false},
		{"nr 255: 3069 does not", 255, T2, 3069, -1, true},
		{"nr 1: 4084 fits", 1, T2, 4084, -1, false},
		{"1.2 request, too large", 0, T12, 5000, -1, true},
	};
	static uint8_t r[8192];
	uint32_t rc;

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		uint32_t off = 8u + 4u * cases[i].nr;
		uint32_t size = cases[i].size < 0 ? (uint32_t)cases[i].len
						  : (uint32_t)cases[i].size;

		/* A fetched request (valid or not) fixes the offset. */
		guest_write(12, 1, 0, 0, cases[i].nr, cases[i].tag, SIZE_MATCH);
		vtpm_ring_fetch(page, DEF, &req, &rc, NULL, 0);
		make_rsp(r, cases[i].len, size);
		TH_CHECK(no_fault(do_respond,
				  &(struct respond_args){r, cases[i].len}),
			 "%s: no fault", cases[i].what);
		TH_CHECK(page[4] == VTPM_RING_FINISH, "%s: FINISH",
			 cases[i].what);
		if (cases[i].replaced) {
			bool t12 = cases[i].tag == T12;

			TH_CHECK(page_length() == 10 &&
					 be16(page + off) ==
						 (t12 ? 0xc4 : 0x8001) &&
					 be32(page + off + 6) ==
						 (t12 ? 0x09u : 0x101u),
				 "%s: replaced by TPM failure (len %u)",
				 cases[i].what, page_length());
		} else {
			TH_CHECK(page_length() == cases[i].len &&
					 memcmp(page + off, r, cases[i].len) ==
						 0,
				 "%s: written at %u", cases[i].what, off);
		}
	}
	vtpm_ring_respond(page, &req, NULL, 44);
	TH_CHECK(page_length() == 10, "NULL response: failure response");

	/* The offset comes from the fetch, not from the page now. */
	guest_write(12, 1, 0, 0, 0, T2, SIZE_MATCH);
	vtpm_ring_fetch(page, DEF, &req, &rc, NULL, 0);
	page[7] = 255; /* the guest changes its mind */
	make_rsp(r, 44, 44);
	vtpm_ring_respond(page, &req, r, 44);
	TH_CHECK(memcmp(page + 8, r, 44) == 0,
		 "response at the fetched offset, not the page's new one");

	/* A corrupted resp_offset (caller bug) stays inside the page. */
	static const uint32_t bad_offs[] = {0, 7, 4087, 4096, 0xffffffff};
	for (size_t i = 0; i < TH_ARRAY_LEN(bad_offs); i++) {
		req.resp_offset = bad_offs[i];
		TH_CHECK(no_fault(do_respond, &(struct respond_args){r, 44}) &&
				 page_length() == 44 &&
				 memcmp(page + 8, r, 44) == 0,
			 "resp_offset %u: answered at 8", bad_offs[i]);
	}
}

static void test_cancel_and_state(void)
{
	uint32_t rc;
	char why[64];

	guest_write(12, VTPM_RING_CANCEL, 0, 0, 0, T2, SIZE_MATCH);
	TH_CHECK(vtpm_ring_state(page) == VTPM_RING_CANCEL, "state reads 3");
	TH_CHECK(vtpm_ring_fetch(page, DEF, &req, &rc, why, sizeof(why)) ==
			 VTPM_FETCH_CANCEL,
		 "CANCEL fetched");
	vtpm_ring_cancel_ack(page);
	TH_CHECK(vtpm_ring_state(page) == VTPM_RING_IDLE, "cancel ack: IDLE");
	TH_CHECK(page_length() == 12 && page[8] == 0x80,
		 "cancel ack changes nothing else");
	TH_CHECK(vtpm_ring_fetch(page, DEF, &req, &rc, why, sizeof(why)) ==
			 VTPM_FETCH_NONE,
		 "after the ack: nothing to do");
}

/* The request is a copy: what the guest writes afterwards is not seen. */
static void test_copy_out(void)
{
	uint32_t rc;

	guest_write(64, 1, 0, 0, 0, T2, SIZE_MATCH);
	TH_CHECK(vtpm_ring_fetch(page, DEF, &req, &rc, NULL, 0) ==
			 VTPM_FETCH_REQUEST,
		 "fetch 64");
	memset(page, 0x41, VTPM_PAGE_SIZE);
	TH_CHECK(req.len == 64 && be32(req.cmd + 2) == 64 &&
			 be32(req.cmd + 6) == 0x17b && req.cmd[63] == 63,
		 "request unchanged by later guest writes");
}

/* A guest thread rewrites length and size field while we fetch: every
 * REQUEST must be self-consistent (a double fetch would let a length
 * validated once be used with another value). */
static volatile int racing;

static void *guest_thread(void *arg)
{
	volatile uint8_t *p = page;
	static const uint32_t lens[] = {12, 4088, 0xffffffff, 9, 2000};
	unsigned i = 0;

	(void)arg;
	while (racing) {
		uint32_t len = lens[i++ % 5];

		/* Size field first, then length, as a frontend does; the
		 * backend may catch any mix of old and new values. */
		p[10] = (uint8_t)(len >> 24);
		p[11] = (uint8_t)(len >> 16);
		p[12] = (uint8_t)(len >> 8);
		p[13] = (uint8_t)len;
		*(volatile uint32_t *)(void *)page = len;
		p[5] = (uint8_t)((i % 3) == 0);
		p[7] = (uint8_t)((i % 7) == 0);
	}
	return NULL;
}

static void test_race(void)
{
	unsigned long requests = 0, invalid = 0, bad = 0;
	pthread_t t;
	uint32_t rc;

	guest_write(12, 1, 0, 0, 0, T2, SIZE_MATCH);
	racing = 1;
	if (pthread_create(&t, NULL, guest_thread, NULL) != 0) {
		TH_CHECK(0, "pthread_create");
		return;
	}
	for (int i = 0; i < 200000; i++) {
		switch (vtpm_ring_fetch(page, DEF, &req, &rc, NULL, 0)) {
		case VTPM_FETCH_REQUEST:
			requests++;
			if (req.len < 10 || req.len > 4088 ||
			    be32(req.cmd + 2) != req.len || req.locality != 0 ||
			    req.resp_offset != 8)
				bad++;
			break;
		case VTPM_FETCH_INVALID:
			invalid++;
			if (req.resp_offset > 12 || req.len != 0)
				bad++;
			break;
		default:
			bad++;
		}
	}
	racing = 0;
	pthread_join(t, NULL);
	TH_CHECK(bad == 0, "racing guest: %lu requests, %lu invalid, %lu bad",
		 requests, invalid, bad);
	printf("# race: %lu requests, %lu refused\n", requests, invalid);
}

static void test_error_response(void)
{
	static const struct {
		uint16_t req_tag, rsp_tag;
	} cases[] = {
		{0x8001, 0x8001}, {0x8002, 0x8001}, {0x00c1, 0x00c4},
		{0x00c2, 0x00c4}, {0x00c3, 0x00c4}, {0x00c0, 0x8001},
		{0x00c4, 0x8001}, {0x0000, 0x8001}, {0xffff, 0x8001},
	};
	uint8_t b[16];

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		memset(b, 0xaa, sizeof(b));
		TH_CHECK(vtpm_error_response(b, sizeof(b), cases[i].req_tag,
					     0x12345678) == 10 &&
				 be16(b) == cases[i].rsp_tag &&
				 be32(b + 2) == 10 &&
				 be32(b + 6) == 0x12345678 && b[10] == 0xaa,
			 "error response for tag %#x", cases[i].req_tag);
	}
	memset(b, 0xaa, sizeof(b));
	TH_CHECK(vtpm_error_response(b, 9, 0x8001, 1) == 0 && b[0] == 0xaa,
		 "cap 9: nothing written");
	TH_CHECK(vtpm_error_response(NULL, 10, 0x8001, 1) == 0, "NULL buf");
}

int main(void)
{
	map_guarded_page();
	test_fetch_table();
	test_respond();
	test_cancel_and_state();
	test_copy_out();
	test_race();
	test_error_response();
	return th_done();
}
