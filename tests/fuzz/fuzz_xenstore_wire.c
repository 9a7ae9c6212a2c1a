/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_xenstore_wire - libFuzzer harness for the XenStore server: the
 * input is a script of chunks of raw bytes, each fed into one of four
 * connections (dom0, guests 5 and 6, and guest 7 read-only), with a few
 * control chunks interleaved (drain a connection, reconnect it, release or
 * introduce a domain, fire @releaseDomain).
 *
 *   chunk := sel:u8 len:u8 [bytes[len], when sel feeds a connection]
 *   sel % 16 < 8:  feed bytes to connection sel % 4
 *   8..11:         drain connection sel % 4 (read and check its output)
 *   12:            free and reopen connection len % 4
 *   13:            xs_release(5 + len % 3); 14: xs_introduce(5 + len % 3)
 *   15:            xs_fire_release_watch
 *
 * Small quotas put the quota paths within reach.  A connection the library
 * closes (oversize header, overflow, release) is drained and replaced, as
 * the daemon would when its peer reconnects.  Every byte any connection is
 * sent must parse as well-formed messages, and after every input the whole
 * store must pass xs_server_check(); any failure aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "hypervisor/xenstore/xs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN 4
static const uint32_t domids[NCONN] = {0, 5, 6, 7};

static struct xs_conn *open_conn(struct xs_server *s, int i)
{
	struct xs_conn *c =
		xs_conn_new(s, domids[i], i == 3 ? XS_CONN_READONLY : 0);

	if (!c)
		abort();
	return c;
}

/* Everything the server sends is a sequence of whole, well-formed
 * messages: a header with a length within the limit and a type that is a
 * reply, an error or an event. */
static void drain(struct xs_conn *c)
{
	const uint8_t *p;
	size_t n = xs_conn_output(c, (const void **)&p), off = 0;

	while (off < n) {
		struct xsd_sockmsg h;

		if (n - off < sizeof(h))
			abort();
		memcpy(&h, p + off, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX || n - off - sizeof(h) < h.len)
			abort();
		if (h.type >= XS_TYPE_COUNT)
			abort();
		if (h.type == XS_ERROR &&
		    (h.len < 2 || p[off + sizeof(h) + h.len - 1] != '\0'))
			abort();
		if (h.type == XS_WATCH_EVENT &&
		    (h.req_id || h.tx_id || !h.len ||
		     p[off + sizeof(h) + h.len - 1] != '\0'))
			abort();
		off += sizeof(h) + h.len;
	}
	xs_conn_output_done(c, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xs_conn *c[NCONN];
	struct xs_config cfg;
	struct xs_server *s;
	size_t off = 0;
	int i;

	xs_config_default(&cfg);
	cfg.hash_seed = 0x5eed;
	cfg.quota_nodes = 30;
	cfg.quota_watches = 6;
	cfg.quota_transactions = 3;
	cfg.quota_txn_nodes = 40;
	cfg.quota_node_size = 600;
	cfg.out_soft = 8192;
	cfg.out_hard = 32768;
	cfg.out_hard_priv = 65536;
	s = xs_server_new(&cfg);
	if (!s)
		return 0;
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xs_introduce(s, 6, XS_INTRO_MKHOME);
	xs_introduce(s, 7, XS_INTRO_MKHOME);
	for (i = 0; i < NCONN; i++)
		c[i] = open_conn(s, i);

	while (size - off >= 2) {
		uint8_t sel = data[off], len = data[off + 1];
		size_t n = len;

		off += 2;
		if (n > size - off)
			n = size - off;
		if (sel % 16 < 8) {
			xs_conn_input(c[sel % NCONN], data + off, n);
			off += n;
		} else if (sel % 16 < 12) {
			drain(c[sel % NCONN]);
		} else if (sel % 16 == 12) {
			i = len % NCONN;
			xs_conn_free(c[i]);
			c[i] = open_conn(s, i);
		} else if (sel % 16 == 13) {
			xs_release(s, 5u + len % 3u);
		} else if (sel % 16 == 14) {
			xs_introduce(s, 5u + len % 3u, XS_INTRO_MKHOME);
		} else {
			xs_fire_release_watch(s);
		}
		/* A connection the library closed is replaced, as the daemon
		 * would when the peer reconnects. */
		for (i = 0; i < NCONN; i++) {
			if (xs_conn_closed(c[i])) {
				drain(c[i]);
				xs_conn_free(c[i]);
				c[i] = open_conn(s, i);
			}
		}
		while (xs_server_next_ready(s))
			;
	}
	for (i = 0; i < NCONN; i++)
		drain(c[i]);
	if (xs_server_check(s) != 0)
		abort();
	xs_server_free(s);
	return 0;
}
