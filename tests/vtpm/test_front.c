/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_front - hvsec-tpmfront's socket side without a ring:
 *   - the four parsers (mssim command and platform, swtpm data and
 *     control) as tables of cases: valid, truncated, oversized, unknown,
 *     and what a failing or lying transmit turns into;
 *   - properties over every prefix and over random bytes: MORE only below
 *     the protocol's bound, nothing consumed past the input, no answer
 *     over the output bound;
 *   - the server on real sockets: four adjacent ports, one exchange per
 *     protocol, garbage closing its client only, a fifth client making
 *     room;
 *   - if swtpm and tpm2-tools are installed: tpm2_getrandom and
 *     tpm2_pcrread through the mssim and swtpm TCTIs against the server,
 *     its transmit forwarding to a real swtpm (the ring's stand-in).
 *
 * The parsers and the server are part of the hvsec-tpmfront program, not
 * of a library, so their sources are compiled in here.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "vtpm-instance/front/tpmfront.h"

#include "vtpm-instance/front/tpmfront_mssim.c"
#include "vtpm-instance/front/tpmfront_server.c"
#include "vtpm-instance/front/tpmfront_swtpm.c"
#include "vtpm-instance/front/tpmfront_wire.c"

/* ------------------------------------------------------------ helpers */

#define BUF_MAX (TPMSOCK_IN_MSSIM_CMD + 64)

/* "80 01 0000000c": hex digits, blanks ignored. */
static size_t hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s == ' ')
			continue;
		v = *s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n < cap)
			out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return n;
}

static void to_hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && at + 3 < cap; i++)
		at += (size_t)snprintf(out + at, cap - at, "%02x", p[i]);
}

/* The fake transmit: records the command, answers what it was told. */
struct fake {
	int rc;
	const char *rsp; /* hex; NULL: a 12-byte GetRandom answer */
	unsigned calls;
	uint8_t locality;
	size_t cmd_len;
	uint8_t cmd[TPMSOCK_CMD_MAX];
};

#define RSP_OK "8001 0000000c 00000000 beef"

static int fake_xmit(void *ctx, const uint8_t *cmd, size_t len,
		     uint8_t locality, uint8_t *rsp, size_t cap,
		     size_t *rsp_len)
{
	struct fake *f = ctx;

	f->calls++;
	f->locality = locality;
	f->cmd_len = len;
	memcpy(f->cmd, cmd, len);
	if (f->rc)
		return f->rc;
	*rsp_len = hex(f->rsp ? f->rsp : RSP_OK, rsp, cap);
	return 0;
}

enum proto { MSSIM_CMD, MSSIM_PLAT, SWTPM_DATA, SWTPM_CTRL };

static const size_t in_bound[] = {
	TPMSOCK_IN_MSSIM_CMD,
	TPMSOCK_IN_MSSIM_PLATFORM,
	TPMSOCK_IN_SWTPM_DATA,
	TPMSOCK_IN_SWTPM_CTRL,
};

static enum tpmsock_verdict run(enum proto p, const uint8_t *in, size_t len,
				uint8_t *out, struct fake *f, uint8_t *locality,
				struct tpmsock_step *st)
{
	struct tpmsock_xmit x = {fake_xmit, f};

	switch (p) {
	case MSSIM_CMD:
		return tpmsock_mssim_cmd(in, len, out, &x, st);
	case MSSIM_PLAT:
		return tpmsock_mssim_platform(in, len, out, st);
	case SWTPM_DATA:
		return tpmsock_swtpm_data(in, len, out, &x, *locality, st);
	default:
		return tpmsock_swtpm_ctrl(in, len, out, locality, st);
	}
}

/* ------------------------------------------------------------ tables */

#define ALL   ((size_t)-1)		    /* used: the whole input */
#define CMD12 "8001 0000000c 0000017b 0008" /* GetRandom(8) */

struct pcase {
	const char *name;
	enum proto p;
	const char *in;	      /* hex */
	int xmit_rc;	      /* the fake's answer */
	const char *xmit_rsp; /* NULL: RSP_OK */
	enum tpmsock_verdict want;
	size_t used;	 /* ALL: every byte */
	const char *out; /* hex of the answer ("" none) */
	int calls;	 /* transmits expected */
	int locality;	 /* passed to the transmit, or (control) the
			  * locality afterwards; -1: not checked */
	bool why;	 /* CLOSE with a reason (the client's fault) */
};

static const struct pcase cases[] = {
	/* ---- mssim command port */
	{"mssim: GetRandom", MSSIM_CMD, "00000008 00 0000000c " CMD12, 0, NULL,
	 TPMSOCK_REPLY, ALL, "0000000c " RSP_OK " 00000000", 1, 0, false},
	{"mssim: locality passes through", MSSIM_CMD,
	 "00000008 03 0000000c " CMD12, 0, NULL, TPMSOCK_REPLY, ALL,
	 "0000000c " RSP_OK " 00000000", 1, 3, false},
	{"mssim: two commands, the first only", MSSIM_CMD,
	 "00000008 00 0000000c " CMD12 " 00000008 00 0000000c " CMD12, 0, NULL,
	 TPMSOCK_REPLY, 21, "0000000c " RSP_OK " 00000000", 1, 0, false},
	{"mssim: header only", MSSIM_CMD, "00000008 00 0000000c", 0, NULL,
	 TPMSOCK_MORE, 0, "", 0, -1, false},
	{"mssim: command cut short", MSSIM_CMD,
	 "00000008 00 0000000c 8001 0000000c 0000017b 00", 0, NULL,
	 TPMSOCK_MORE, 0, "", 0, -1, false},
	{"mssim: size 4089 refused, then closed", MSSIM_CMD,
	 "00000008 00 00000ff9 8001", 0, NULL, TPMSOCK_CLOSE, ALL,
	 "0000000a 8001 0000000a 00000142 00000000", 0, -1, true},
	{"mssim: size 0xffffffff", MSSIM_CMD, "00000008 00 ffffffff", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "0000000a 8001 0000000a 00000142 00000000", 0, -1,
	 true},
	{"mssim: size 0", MSSIM_CMD, "00000008 00 00000000", 0, NULL,
	 TPMSOCK_REPLY, 9, "0000000a 8001 0000000a 00000142 00000000", 0, -1,
	 false},
	{"mssim: command under 10 bytes", MSSIM_CMD,
	 "00000008 00 00000005 8001 000000", 0, NULL, TPMSOCK_REPLY, 14,
	 "0000000a 8001 0000000a 00000142 00000000", 0, -1, false},
	{"mssim: header size disagrees", MSSIM_CMD,
	 "00000008 00 0000000c 8001 0000000d 0000017b 0008", 0, NULL,
	 TPMSOCK_REPLY, ALL, "0000000a 8001 0000000a 00000142 00000000", 0, -1,
	 false},
	{"mssim: TPM 1.2 size disagrees: 1.2 error", MSSIM_CMD,
	 "00000008 00 0000000a 00c1 0000000b 00000046", 0, NULL, TPMSOCK_REPLY,
	 ALL, "0000000a 00c4 0000000a 00000019 00000000", 0, -1, false},
	{"mssim: transmit times out: CANCELED", MSSIM_CMD,
	 "00000008 00 0000000c " CMD12, -ETIMEDOUT, NULL, TPMSOCK_REPLY, ALL,
	 "0000000a 8001 0000000a 00000909 00000000", 1, 0, false},
	{"mssim: backend gone: FAILURE", MSSIM_CMD,
	 "00000008 00 0000000c " CMD12, -ENOTCONN, NULL, TPMSOCK_REPLY, ALL,
	 "0000000a 8001 0000000a 00000101 00000000", 1, 0, false},
	{"mssim: TPM 1.2 command, backend gone: TPM_FAIL", MSSIM_CMD,
	 "00000008 00 0000000a 00c1 0000000a 00000046", -EIO, NULL,
	 TPMSOCK_REPLY, ALL, "0000000a 00c4 0000000a 00000009 00000000", 1, 0,
	 false},
	{"mssim: backend answers 5 bytes: FAILURE", MSSIM_CMD,
	 "00000008 00 0000000c " CMD12, 0, "8001 000000", TPMSOCK_REPLY, ALL,
	 "0000000a 8001 0000000a 00000101 00000000", 1, 0, false},
	{"mssim: backend's size field lies: FAILURE", MSSIM_CMD,
	 "00000008 00 0000000c " CMD12, 0, "8001 00000fff 00000000 beef",
	 TPMSOCK_REPLY, ALL, "0000000a 8001 0000000a 00000101 00000000", 1, 0,
	 false},
	{"mssim: handshake", MSSIM_CMD, "0000000f 00000001", 0, NULL,
	 TPMSOCK_REPLY, ALL, "00000001 00000005 00000000", 0, -1, false},
	{"mssim: handshake cut short", MSSIM_CMD, "0000000f 0000", 0, NULL,
	 TPMSOCK_MORE, 0, "", 0, -1, false},
	{"mssim: handshake version 0", MSSIM_CMD, "0000000f 00000000", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "", 0, -1, true},
	{"mssim: alternative result", MSSIM_CMD, "00000010 00000001", 0, NULL,
	 TPMSOCK_REPLY, ALL, "00000000", 0, -1, false},
	{"mssim: session end", MSSIM_CMD, "00000014", 0, NULL, TPMSOCK_CLOSE,
	 ALL, "", 0, -1, false},
	{"mssim: stop ends the session only", MSSIM_CMD, "00000015", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "", 0, -1, false},
	{"mssim: DRTM hash start refused", MSSIM_CMD, "00000005", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "", 0, -1, true},
	{"mssim: power on is the platform port's", MSSIM_CMD, "00000001", 0,
	 NULL, TPMSOCK_CLOSE, ALL, "", 0, -1, true},
	{"mssim: unknown", MSSIM_CMD, "deadbeef 00", 0, NULL, TPMSOCK_CLOSE, 4,
	 "", 0, -1, true},
	{"mssim: 3 bytes", MSSIM_CMD, "000000", 0, NULL, TPMSOCK_MORE, 0, "", 0,
	 -1, false},
	/* ---- mssim platform port */
	{"platform: power on", MSSIM_PLAT, "00000001", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000", 0, -1, false},
	{"platform: power off", MSSIM_PLAT, "00000002", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000", 0, -1, false},
	{"platform: physical presence on", MSSIM_PLAT, "00000003", 0, NULL,
	 TPMSOCK_REPLY, ALL, "00000000", 0, -1, false},
	{"platform: cancel on", MSSIM_PLAT, "00000009", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000", 0, -1, false},
	{"platform: cancel off", MSSIM_PLAT, "0000000a", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000", 0, -1, false},
	{"platform: NV on", MSSIM_PLAT, "0000000b", 0, NULL, TPMSOCK_REPLY, ALL,
	 "00000000", 0, -1, false},
	{"platform: NV off", MSSIM_PLAT, "0000000c", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000", 0, -1, false},
	{"platform: reset", MSSIM_PLAT, "00000011", 0, NULL, TPMSOCK_REPLY, ALL,
	 "00000000", 0, -1, false},
	{"platform: power on, NV on together", MSSIM_PLAT, "00000001 0000000b",
	 0, NULL, TPMSOCK_REPLY, 4, "00000000", 0, -1, false},
	{"platform: session end", MSSIM_PLAT, "00000014", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "", 0, -1, false},
	{"platform: send command is not the platform's", MSSIM_PLAT,
	 "00000008 00 0000000c", 0, NULL, TPMSOCK_CLOSE, 4, "00000001", 0, -1,
	 true},
	{"platform: unknown", MSSIM_PLAT, "00000063", 0, NULL, TPMSOCK_CLOSE,
	 ALL, "00000001", 0, -1, true},
	{"platform: 2 bytes", MSSIM_PLAT, "0000", 0, NULL, TPMSOCK_MORE, 0, "",
	 0, -1, false},
	/* ---- swtpm data port (locality 2 set beforehand) */
	{"swtpm: GetRandom at the control's locality", SWTPM_DATA, CMD12, 0,
	 NULL, TPMSOCK_REPLY, ALL, RSP_OK, 1, 2, false},
	{"swtpm: two commands, the first only", SWTPM_DATA, CMD12 " " CMD12, 0,
	 NULL, TPMSOCK_REPLY, 12, RSP_OK, 1, 2, false},
	{"swtpm: 5 bytes", SWTPM_DATA, "8001 000000", 0, NULL, TPMSOCK_MORE, 0,
	 "", 0, -1, false},
	{"swtpm: command cut short", SWTPM_DATA, "8001 0000000c 0000017b", 0,
	 NULL, TPMSOCK_MORE, 0, "", 0, -1, false},
	{"swtpm: size 9 closes", SWTPM_DATA, "8001 00000009 000001", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "8001 0000000a 00000142", 0, -1, true},
	{"swtpm: size 4089 closes", SWTPM_DATA, "8001 00000ff9 00", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "8001 0000000a 00000142", 0, -1, true},
	{"swtpm: TPM 1.2 size 0 closes, 1.2 error", SWTPM_DATA, "00c1 00000000",
	 0, NULL, TPMSOCK_CLOSE, ALL, "00c4 0000000a 00000019", 0, -1, true},
	{"swtpm: an mssim frame on the data port", SWTPM_DATA,
	 "00000008 00 0000000c " CMD12, 0, NULL, TPMSOCK_CLOSE, ALL,
	 "8001 0000000a 00000142", 0, -1, true},
	{"swtpm: transmit times out: CANCELED", SWTPM_DATA, CMD12, -ETIMEDOUT,
	 NULL, TPMSOCK_REPLY, ALL, "8001 0000000a 00000909", 1, 2, false},
	{"swtpm: command too big for the ring", SWTPM_DATA, CMD12, -EMSGSIZE,
	 NULL, TPMSOCK_REPLY, ALL, "8001 0000000a 00000142", 1, 2, false},
	{"swtpm: backend's answer unframed", SWTPM_DATA, CMD12, 0,
	 "8001 0000000b 00000000 beef", TPMSOCK_REPLY, ALL,
	 "8001 0000000a 00000101", 1, 2, false},
	/* ---- swtpm control port (locality 2 beforehand) */
	{"ctrl: capabilities", SWTPM_CTRL, "00000001", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000 00002c2b", 0, 2, false},
	{"ctrl: init", SWTPM_CTRL, "00000002 00000001", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000", 0, 2, false},
	{"ctrl: init cut short", SWTPM_CTRL, "00000002 0000", 0, NULL,
	 TPMSOCK_MORE, 0, "", 0, 2, false},
	{"ctrl: shutdown acknowledged, ignored", SWTPM_CTRL, "00000003", 0,
	 NULL, TPMSOCK_REPLY, ALL, "00000000", 0, 2, false},
	{"ctrl: set locality 3", SWTPM_CTRL, "00000005 03", 0, NULL,
	 TPMSOCK_REPLY, ALL, "00000000", 0, 3, false},
	{"ctrl: set locality 0", SWTPM_CTRL, "00000005 00", 0, NULL,
	 TPMSOCK_REPLY, ALL, "00000000", 0, 0, false},
	{"ctrl: set locality 5 refused", SWTPM_CTRL, "00000005 05", 0, NULL,
	 TPMSOCK_REPLY, ALL, "0000003d", 0, 2, false},
	{"ctrl: set locality 255 refused", SWTPM_CTRL, "00000005 ff", 0, NULL,
	 TPMSOCK_REPLY, ALL, "0000003d", 0, 2, false},
	{"ctrl: set locality cut short", SWTPM_CTRL, "00000005", 0, NULL,
	 TPMSOCK_MORE, 0, "", 0, 2, false},
	{"ctrl: cancel", SWTPM_CTRL, "00000009", 0, NULL, TPMSOCK_REPLY, ALL,
	 "00000000", 0, 2, false},
	{"ctrl: stop", SWTPM_CTRL, "0000000e", 0, NULL, TPMSOCK_REPLY, ALL,
	 "00000000", 0, 2, false},
	{"ctrl: get config", SWTPM_CTRL, "0000000f", 0, NULL, TPMSOCK_REPLY,
	 ALL, "00000000 00000000", 0, 2, false},
	{"ctrl: buffer size query", SWTPM_CTRL, "00000011 00000000", 0, NULL,
	 TPMSOCK_REPLY, ALL, "00000000 00000ff8 00000ff8 00000ff8", 0, 2,
	 false},
	{"ctrl: buffer size change refused", SWTPM_CTRL, "00000011 00001000", 0,
	 NULL, TPMSOCK_REPLY, ALL, "0000000a", 0, 2, false},
	{"ctrl: TPM established not offered", SWTPM_CTRL, "00000004", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "0000000a", 0, 2, true},
	{"ctrl: hash data not offered", SWTPM_CTRL,
	 "00000007 00000004 41414141", 0, NULL, TPMSOCK_CLOSE, ALL, "0000000a",
	 0, 2, true},
	{"ctrl: state blob not offered", SWTPM_CTRL, "0000000c", 0, NULL,
	 TPMSOCK_CLOSE, ALL, "0000000a", 0, 2, true},
	{"ctrl: unknown", SWTPM_CTRL, "00001234", 0, NULL, TPMSOCK_CLOSE, ALL,
	 "0000000a", 0, 2, true},
	{"ctrl: 3 bytes", SWTPM_CTRL, "000000", 0, NULL, TPMSOCK_MORE, 0, "", 0,
	 2, false},
};

static void test_cases(void)
{
	static uint8_t in[BUF_MAX], out[TPMSOCK_OUT_MAX], want[TPMSOCK_OUT_MAX];

	for (size_t i = 0; i < TH_ARRAY_LEN(cases); i++) {
		const struct pcase *c = &cases[i];
		struct fake f = {.rc = c->xmit_rc, .rsp = c->xmit_rsp};
		struct tpmsock_step st;
		enum tpmsock_verdict v;
		size_t len = hex(c->in, in, sizeof(in));
		size_t wlen = hex(c->out, want, sizeof(want));
		size_t used = c->used == ALL ? len : c->used;
		uint8_t loc = 2;
		char got[96];

		memset(out, 0xa5, sizeof(out));
		v = run(c->p, in, len, out, &f, &loc, &st);
		to_hex(out, st.out_len, got, sizeof(got));
		TH_CHECK(v == c->want, "%s: verdict %d, want %d", c->name, v,
			 c->want);
		TH_CHECK(st.used == (v == TPMSOCK_MORE ? 0 : used),
			 "%s: used %zu, want %zu", c->name, st.used, used);
		TH_CHECK(st.out_len == wlen && !memcmp(out, want, wlen),
			 "%s: answer %s", c->name, got);
		TH_CHECK(f.calls == (unsigned)c->calls, "%s: %u transmits",
			 c->name, f.calls);
		TH_CHECK(!(v == TPMSOCK_CLOSE && (st.why != NULL) != c->why),
			 "%s: reason %s", c->name, st.why ? st.why : "(none)");
		if (c->locality >= 0 && c->p == SWTPM_CTRL)
			TH_CHECK(loc == c->locality, "%s: locality %u after",
				 c->name, loc);
		else if (c->locality >= 0)
			TH_CHECK(f.locality == c->locality,
				 "%s: transmitted at locality %u", c->name,
				 f.locality);
		/* What the TPM got is exactly the framed command. */
		if (f.calls && c->p == MSSIM_CMD)
			TH_CHECK(f.cmd_len == tpmsock_be32(in + 5) &&
					 !memcmp(f.cmd, in + 9, f.cmd_len),
				 "%s: command transmitted as framed", c->name);
		if (f.calls && c->p == SWTPM_DATA)
			TH_CHECK(f.cmd_len == tpmsock_be32(in + 2) &&
					 !memcmp(f.cmd, in, f.cmd_len),
				 "%s: command transmitted as framed", c->name);
	}
}

/* ------------------------------------------------------------ properties */

/* Every proper prefix of a valid message is MORE and transmits nothing;
 * the whole message is answered. */
static void test_prefixes(void)
{
	static uint8_t in[BUF_MAX], out[TPMSOCK_OUT_MAX];
	static const struct {
		enum proto p;
		const char *msg;
	} msgs[] = {
		{MSSIM_CMD, "00000008 00 0000000c " CMD12},
		{MSSIM_CMD, "0000000f 00000001"},
		{MSSIM_PLAT, "00000001"},
		{SWTPM_DATA, CMD12},
		{SWTPM_CTRL, "00000002 00000000"},
		{SWTPM_CTRL, "00000005 01"},
		{SWTPM_CTRL, "00000011 00000000"},
	};

	for (size_t m = 0; m < TH_ARRAY_LEN(msgs); m++) {
		size_t len = hex(msgs[m].msg, in, sizeof(in));
		bool ok = true;

		for (size_t k = 0; k < len; k++) {
			struct fake f = {0};
			struct tpmsock_step st;
			uint8_t loc = 0;

			if (run(msgs[m].p, in, k, out, &f, &loc, &st) !=
				    TPMSOCK_MORE ||
			    st.used || st.out_len || f.calls)
				ok = false;
		}
		TH_CHECK(ok, "every prefix of %s is MORE", msgs[m].msg);
	}

	/* The largest command: 4088 bytes, and its every prefix. */
	{
		static uint8_t big[TPMSOCK_IN_MSSIM_CMD];
		struct fake f = {0};
		struct tpmsock_step st;
		uint8_t loc = 0;
		bool ok = true;

		hex("00000008 00 00000ff8 8001 00000ff8 0000017b", big,
		    sizeof(big));
		for (size_t k = 0; k < sizeof(big); k += 97)
			if (run(MSSIM_CMD, big, k, out, &f, &loc, &st) !=
			    TPMSOCK_MORE)
				ok = false;
		TH_CHECK(ok && !f.calls,
			 "4088-byte command: prefixes are MORE");
		TH_CHECK(run(MSSIM_CMD, big, sizeof(big), out, &f, &loc, &st) ==
					 TPMSOCK_REPLY &&
				 f.calls == 1 && f.cmd_len == 4088 &&
				 st.used == sizeof(big),
			 "4088-byte command over mssim is transmitted");
		f.calls = 0;
		TH_CHECK(run(SWTPM_DATA, big + 9, 4088, out, &f, &loc, &st) ==
					 TPMSOCK_REPLY &&
				 f.calls == 1 && f.cmd_len == 4088,
			 "4088-byte command over swtpm is transmitted");
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* Random inputs, biased towards the codes each protocol knows: the
 * contract of tpmfront.h holds for every one. */
static void test_random(void)
{
	static uint8_t in[BUF_MAX], out[TPMSOCK_OUT_MAX];
	unsigned bad[4] = {0};

	for (int p = 0; p < 4; p++) {
		for (int i = 0; i < 20000; i++) {
			size_t len = rnd() % (in_bound[p] + 8);
			struct fake f = {.rc = (rnd() % 4 == 0) ? -EIO : 0};
			struct tpmsock_step st;
			enum tpmsock_verdict v;
			uint8_t loc = (uint8_t)(rnd() % 6);

			for (size_t k = 0; k < len; k++)
				in[k] = (uint8_t)rnd();
			if (len >= 4 && rnd() % 2) {
				in[0] = in[1] = in[2] = 0;
				in[3] = (uint8_t)(rnd() % 24);
			}
			if (len >= 9 && p == MSSIM_CMD && rnd() % 2) {
				uint32_t n = rnd() % 5000;

				tpmsock_put_u32(in, MSSIM_SEND_COMMAND);
				tpmsock_put_u32(in + 5, n);
			}
			if (len >= 6 && p == SWTPM_DATA && rnd() % 2)
				tpmsock_put_u32(in + 2, rnd() % 5000);
			v = run((enum proto)p, in, len, out, &f, &loc, &st);
			if ((v == TPMSOCK_MORE &&
			     (len >= in_bound[p] || st.used || st.out_len)) ||
			    st.used > len || st.out_len > TPMSOCK_OUT_MAX ||
			    (v != TPMSOCK_MORE && !st.used) || f.calls > 1 ||
			    loc > 5)
				bad[p]++;
		}
		TH_CHECK(!bad[p],
			 "protocol %d: %u random inputs broke the contract", p,
			 bad[p]);
	}
}

/* ------------------------------------------------------------ sockets */

static int connect_port(uint16_t port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One round of the server's loop. */
static void pump(struct tpmsrv *s, int ms)
{
	struct pollfd pfd[TPMSRV_POLL_MAX];
	int timeout = ms;
	unsigned n = tpmsrv_poll_set(s, pfd, &timeout);

	if (timeout > ms || timeout < 0)
		timeout = ms;
	if (poll(pfd, n, timeout) > 0)
		tpmsrv_serve(s, pfd, n);
	else
		tpmsrv_serve(s, pfd, 0);
}

/* Sends req, pumps the server until `want` bytes came back (or the peer
 * closed, or 2 s).  Returns the bytes read. */
static size_t exchange(struct tpmsrv *s, int fd, const char *req_hex,
		       uint8_t *rsp, size_t want)
{
	uint8_t req[BUF_MAX];
	size_t len = hex(req_hex, req, sizeof(req)), got = 0;
	int64_t end = now_ms() + 2000;

	if (len && send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return 0;
	while (got < want && now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		pump(s, 10);
		if (poll(&p, 1, 0) <= 0)
			continue;
		n = recv(fd, rsp + got, want - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static bool peer_closed(struct tpmsrv *s, int fd)
{
	int64_t end = now_ms() + 2000;
	uint8_t b;

	while (now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};

		pump(s, 10);
		if (poll(&p, 1, 0) > 0)
			return recv(fd, &b, 1, 0) == 0;
	}
	return false;
}

static void test_server(void)
{
	struct fake f = {0};
	struct tpmsock_xmit x = {fake_xmit, &f};
	struct tpmsrv *s, *s2;
	uint8_t rsp[64], want[64];
	char why[256];
	int fd[TPMSRV_KINDS], extra[TPMSRV_CONNS_PER_KIND + 1];
	uint16_t p;
	size_t n;
	int rc;

	if (!TH_CHECK(tpmsrv_open(0, &x, &s, why, sizeof(why)) == 0,
		      "server on port 0"))
		return;
	p = tpmsrv_port(s);
	TH_CHECK(p > 0 && p <= 65532, "picked port %u", p);
	for (int k = 0; k < TPMSRV_KINDS; k++)
		fd[k] = connect_port((uint16_t)(p + k));
	TH_CHECK(fd[0] >= 0 && fd[1] >= 0 && fd[2] >= 0 && fd[3] >= 0,
		 "P..P+3 all listen");
	rc = tpmsrv_open(p, &x, &s2, why, sizeof(why));
	TH_CHECK(rc == -EADDRINUSE, "the same ports twice: %s", why);
	if (!rc)
		tpmsrv_close(s2);

	n = exchange(s, fd[1], "00000001 0000000b", rsp, 8);
	TH_CHECK(n == 8 && !memcmp(rsp, "\0\0\0\0\0\0\0\0", 8),
		 "platform: power on, NV on over TCP");
	n = exchange(s, fd[0], "00000008 00 0000000c " CMD12, rsp, 20);
	hex("0000000c " RSP_OK " 00000000", want, sizeof(want));
	TH_CHECK(n == 20 && !memcmp(rsp, want, 20), "mssim exchange over TCP");
	n = exchange(s, fd[3], "00000005 04", rsp, 4);
	TH_CHECK(n == 4 && tpmsock_be32(rsp) == 0, "control: locality 4");
	/* The request in two pieces, the second after a pause. */
	{
		uint8_t half[6];

		hex("8001 0000000c", half, sizeof(half));
		send(fd[2], half, sizeof(half), MSG_NOSIGNAL);
		pump(s, 20);
		n = exchange(s, fd[2], "0000017b 0008", rsp, 12);
	}
	hex(RSP_OK, want, sizeof(want));
	TH_CHECK(n == 12 && !memcmp(rsp, want, 12) && f.locality == 4,
		 "swtpm exchange in two pieces, at the control's locality");

	/* Garbage closes that client, and only that one. */
	n = exchange(s, fd[3], "00004321", rsp, 4);
	TH_CHECK(n == 4 && tpmsock_be32(rsp) == SWTPM_RES_BAD_ORDINAL &&
			 peer_closed(s, fd[3]),
		 "control: unknown command answered, then closed");
	n = exchange(s, fd[0], "00000008 00 0000000c " CMD12, rsp, 20);
	TH_CHECK(n == 20, "mssim client unaffected");
	n = exchange(s, fd[0], "00000014", rsp, 1);
	TH_CHECK(n == 0 && peer_closed(s, fd[0]), "session end closes");

	/* Four idle clients hold the platform port; a fifth gets in. */
	for (int i = 0; i < TPMSRV_CONNS_PER_KIND; i++) {
		extra[i] = connect_port((uint16_t)(p + 1));
		pump(s, 10);
	}
	extra[TPMSRV_CONNS_PER_KIND] = connect_port((uint16_t)(p + 1));
	n = exchange(s, extra[TPMSRV_CONNS_PER_KIND], "00000002", rsp, 4);
	TH_CHECK(n == 4 && tpmsock_be32(rsp) == 0,
		 "a fifth client is served: the idlest made room");
	for (int i = 0; i <= TPMSRV_CONNS_PER_KIND; i++)
		close(extra[i]);

	for (int k = 0; k < TPMSRV_KINDS; k++)
		close(fd[k]);
	tpmsrv_close(s);
}

/* ------------------------------------------------------------ tpm2-tools */

/* The ring's stand-in: a real swtpm on a unix socket. */
struct swtpm_fwd {
	int fd;
};

static bool io_all(int fd, void *buf, size_t len, bool wr)
{
	uint8_t *p = buf;
	int64_t end = now_ms() + 10000;

	while (len) {
		struct pollfd pfd = {fd, wr ? POLLOUT : POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return false;
		n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static int swtpm_xmit(void *ctx, const uint8_t *cmd, size_t len,
		      uint8_t locality, uint8_t *rsp, size_t cap,
		      size_t *rsp_len)
{
	struct swtpm_fwd *w = ctx;
	uint32_t size;

	(void)locality;
	if (!io_all(w->fd, (void *)cmd, len, true) ||
	    !io_all(w->fd, rsp, 10, false))
		return -EIO;
	size = tpmsock_be32(rsp + 2);
	if (size < 10 || size > cap ||
	    !io_all(w->fd, rsp + 10, size - 10, false))
		return -EIO;
	*rsp_len = size;
	return 0;
}

static bool have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Runs argv with TPM2TOOLS_TCTI=tcti while serving; its exit status
 * (-1 on a timeout), its stdout in out. */
static int run_tool(struct tpmsrv *s, const char *tcti, char *const argv[],
		    char *out, size_t cap)
{
	int pipefd[2], status = -1;
	int64_t end = now_ms() + 30000;
	size_t got = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		setenv("TPM2TOOLS_TCTI", tcti, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	while (now_ms() < end) {
		ssize_t n;

		pump(s, 10);
		while (got + 1 < cap &&
		       (n = read(pipefd[0], out + got, cap - 1 - got)) > 0)
			got += (size_t)n;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (now_ms() >= end) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = -1;
	}
	close(pipefd[0]);
	out[got] = '\0';
	return status < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_tpm2_tools(void)
{
	char dir[] = "/tmp/hvsec-test-front.XXXXXX", sock[64], ctrl[64];
	char state[160], out[4096], tcti[96];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct swtpm_fwd w = {-1};
	struct tpmsock_xmit x = {swtpm_xmit, &w};
	struct tpmsrv *s = NULL;
	pid_t swtpm;
	int rc;

	if (!have("swtpm") || !have("tpm2_getrandom")) {
		printf("SKIP: swtpm or tpm2-tools not installed\n");
		return;
	}
	if (!mkdtemp(dir))
		return;
	snprintf(sock, sizeof(sock), "%s/data", dir);
	snprintf(ctrl, sizeof(ctrl), "%s/ctrl", dir);
	snprintf(state, sizeof(state), "dir=%s", dir);
	swtpm = fork();
	if (swtpm == 0) {
		char srv[160], ctl[160];

		snprintf(srv, sizeof(srv), "type=unixio,path=%s", sock);
		snprintf(ctl, sizeof(ctl), "type=unixio,path=%s", ctrl);
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", srv,
		       "--ctrl", ctl, "--tpmstate", state, "--flags",
		       "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	for (int i = 0; i < 200 && w.fd < 0; i++) {
		w.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(w.fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			close(w.fd);
			w.fd = -1;
			poll(NULL, 0, 25);
		}
	}
	if (!TH_CHECK(w.fd >= 0, "swtpm started"))
		goto out;
	rc = tpmsrv_open(0, &x, &s, out, sizeof(out));
	if (!TH_CHECK(rc == 0, "server: %s", out))
		goto out;

	snprintf(tcti, sizeof(tcti), "mssim:host=127.0.0.1,port=%u",
		 tpmsrv_port(s));
	{
		char *argv[] = {"tpm2_getrandom", "16", "--hex", NULL};

		rc = run_tool(s, tcti, argv, out, sizeof(out));
		TH_CHECK(rc == 0 && strlen(out) == 32,
			 "tpm2_getrandom via mssim: exit %d, \"%s\"", rc, out);
	}
	{
		char *argv[] = {"tpm2_pcrread", "sha256:0,16", NULL};

		rc = run_tool(s, tcti, argv, out, sizeof(out));
		TH_CHECK(rc == 0 && strstr(out, "sha256"),
			 "tpm2_pcrread via mssim: exit %d", rc);
	}
	snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%u",
		 tpmsrv_port(s) + 2);
	{
		char *argv[] = {"tpm2_getrandom", "8", "--hex", NULL};

		rc = run_tool(s, tcti, argv, out, sizeof(out));
		TH_CHECK(rc == 0 && strlen(out) == 16,
			 "tpm2_getrandom via swtpm: exit %d, \"%s\"", rc, out);
	}
	{
		char *argv[] = {"tpm2_pcrextend",
				"16:sha256=00000000000000000000000000000000"
				"00000000000000000000000000000001",
				NULL};

		rc = run_tool(s, tcti, argv, out, sizeof(out));
		TH_CHECK(rc == 0, "tpm2_pcrextend via swtpm: exit %d", rc);
	}
	{
		char *argv[] = {"tpm2_pcrread", "sha256:16", NULL};
		char zero[2 + 64 + 1] = "0x";

		memset(zero + 2, '0', 64);
		zero[66] = '\0';
		rc = run_tool(s, tcti, argv, out, sizeof(out));
		TH_CHECK(rc == 0 && strstr(out, "0x") && !strstr(out, zero),
			 "tpm2_pcrread via swtpm sees the extend: %s", out);
	}
out:
	tpmsrv_close(s);
	if (w.fd >= 0)
		close(w.fd);
	kill(swtpm, SIGTERM);
	waitpid(swtpm, NULL, 0);
	snprintf(out, sizeof(out), "rm -rf '%s'", dir);
	if (system(out) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_cases();
	test_prefixes();
	test_random();
	test_server();
	test_tpm2_tools();
	return th_done();
}
