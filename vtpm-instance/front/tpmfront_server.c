/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront_server.c - the four local ports of hvsec-tpmfront and their
 * clients: bytes in, through the protocol's parser, bytes out.
 *
 * Single-threaded, driven by the caller's poll loop.  Sockets are
 * non-blocking and every buffer is bounded by its protocol
 * (tpmfront.h), so no client can make us block or grow:
 *   - a message half read or an answer half sent for TPMSRV_IO_TIMEOUT_MS
 *     closes the connection;
 *   - while an answer is unsent we read nothing more from that client;
 *   - each port takes TPMSRV_CONNS_PER_KIND clients; when they are all
 *     taken and another one knocks, the one idle longest makes room (a
 *     client that holds a connection open and sends nothing cannot keep
 *     others out);
 *   - what a parser cannot frame closes the connection.
 * TPM commands run one at a time, in the transmit callback, while the
 * other clients wait.
 */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vtpm-instance/front/tpmfront.h"

#define LISTEN_BACKLOG 8
#define PICK_TRIES     64 /* port 0: attempts at four adjacent ports */
#define LOG_MAX	       32 /* client faults logged, then silence */
#define IN_MAX	       TPMSOCK_IN_MSSIM_CMD

static_assert(TPMSOCK_IN_SWTPM_DATA <= IN_MAX &&
		      TPMSOCK_IN_MSSIM_PLATFORM <= IN_MAX &&
		      TPMSOCK_IN_SWTPM_CTRL <= IN_MAX,
	      "one input buffer size fits every protocol");

struct conn {
	int fd;			 /* -1: the slot is free */
	int64_t since;		 /* last progress, for the I/O timeout */
	int64_t idle_since;	 /* last complete exchange, for eviction */
	size_t in_len;		 /* received, not yet consumed */
	size_t out_off, out_len; /* answer being sent */
	bool closing;		 /* close once the answer is out */
	uint8_t in[IN_MAX];
	uint8_t out[TPMSOCK_OUT_MAX];
};

struct tpmsrv {
	int lfd[TPMSRV_KINDS];
	uint16_t port; /* P: kind k listens on P + k */
	struct tpmsock_xmit x;
	uint8_t locality; /* swtpm: set on the control port */
	unsigned logged;
	/* What tpmsrv_poll_set put at each index (slot -1: the listener). */
	struct {
		int kind, slot, fd;
	} map[TPMSRV_POLL_MAX];
	unsigned n_map;
	struct conn conns[TPMSRV_KINDS][TPMSRV_CONNS_PER_KIND];
};

static const char *const kind_name[TPMSRV_KINDS] = {
	"mssim command",
	"mssim platform",
	"swtpm data",
	"swtpm control",
};
static const size_t kind_in_max[TPMSRV_KINDS] = {
	TPMSOCK_IN_MSSIM_CMD,
	TPMSOCK_IN_MSSIM_PLATFORM,
	TPMSOCK_IN_SWTPM_DATA,
	TPMSOCK_IN_SWTPM_CTRL,
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_drop(struct tpmsrv *s, int kind, const char *why)
{
	if (s->logged >= LOG_MAX)
		return;
	s->logged++;
	fprintf(stderr, "tpmfront: %s client dropped: %s%s\n", kind_name[kind],
		why, s->logged == LOG_MAX ? " (further drops not logged)" : "");
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = c->out_off = c->out_len = 0;
	c->closing = false;
}

static bool conn_busy(const struct conn *c)
{
	return c->in_len || c->out_off < c->out_len;
}

/* ------------------------------------------------------------ listening */

static int listen_on(uint16_t port, int *fd)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1, s, rc;

	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	/* A restart on the same ports must not wait out TIME_WAIT. */
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(s, LISTEN_BACKLOG) < 0) {
		rc = -errno;
		close(s);
		return rc;
	}
	*fd = s;
	return 0;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

static void close_listeners(struct tpmsrv *s)
{
	for (int k = 0; k < TPMSRV_KINDS; k++) {
		if (s->lfd[k] >= 0)
			close(s->lfd[k]);
		s->lfd[k] = -1;
	}
}

/* Ports base+1..base+3 beside an already bound base. */
static int listen_rest(struct tpmsrv *s, uint16_t base)
{
	int rc;

	if (base > 65535 - (TPMSRV_KINDS - 1))
		return -EADDRNOTAVAIL;
	for (int k = 1; k < TPMSRV_KINDS; k++) {
		rc = listen_on((uint16_t)(base + k), &s->lfd[k]);
		if (rc)
			return rc;
	}
	return 0;
}

int tpmsrv_open(uint16_t port, const struct tpmsock_xmit *x,
		struct tpmsrv **out, char *why, size_t why_len)
{
	struct tpmsrv *s = calloc(1, sizeof(*s));
	int rc = 0;

	*out = NULL;
	if (!s) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	s->x = *x;
	for (int k = 0; k < TPMSRV_KINDS; k++) {
		s->lfd[k] = -1;
		for (int i = 0; i < TPMSRV_CONNS_PER_KIND; i++)
			s->conns[k][i].fd = -1;
	}
	if (port) {
		rc = listen_on(port, &s->lfd[0]);
		if (!rc)
			rc = listen_rest(s, port);
		if (rc) {
			snprintf(why, why_len,
				 "listening on 127.0.0.1 ports %u-%u: %s",
				 (unsigned)port, (unsigned)port + 3,
				 strerror(-rc));
			goto fail;
		}
		s->port = port;
	} else {
		/* The kernel picks P; P+1..P+3 may be taken: try again. */
		for (int t = 0; t < PICK_TRIES; t++) {
			rc = listen_on(0, &s->lfd[0]);
			if (rc)
				break;
			s->port = bound_port(s->lfd[0]);
			rc = s->port ? listen_rest(s, s->port) : -EIO;
			if (!rc)
				break;
			close_listeners(s);
		}
		if (rc) {
			snprintf(why, why_len,
				 "no four adjacent free ports on 127.0.0.1: %s",
				 strerror(-rc));
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	close_listeners(s);
	free(s);
	return rc;
}

uint16_t tpmsrv_port(const struct tpmsrv *s)
{
	return s->port;
}

void tpmsrv_close(struct tpmsrv *s)
{
	if (!s)
		return;
	for (int k = 0; k < TPMSRV_KINDS; k++)
		for (int i = 0; i < TPMSRV_CONNS_PER_KIND; i++)
			conn_close(&s->conns[k][i]);
	close_listeners(s);
	free(s);
}

/* ------------------------------------------------------------ serving */

static struct conn *free_slot(struct tpmsrv *s, int kind)
{
	struct conn *idlest = NULL;

	for (int i = 0; i < TPMSRV_CONNS_PER_KIND; i++) {
		struct conn *c = &s->conns[kind][i];

		if (c->fd < 0)
			return c;
		if (!conn_busy(c) &&
		    (!idlest || c->idle_since < idlest->idle_since))
			idlest = c;
	}
	return idlest;
}

static void accept_one(struct tpmsrv *s, int kind)
{
	struct conn *c = free_slot(s, kind);
	int one = 1, fd;

	if (!c)
		return; /* every client mid-message: the timeout frees one */
	fd = accept4(s->lfd[kind], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (c->fd >= 0)
		log_drop(s, kind, "idle longest, making room for another");
	conn_close(c);
	/* Answers are single small writes: send them now. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->since = c->idle_since = now_ms();
}

/* Sends what is pending; false when the connection is gone. */
static bool flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			conn_close(c);
			return false;
		}
		c->out_off += (size_t)n;
		c->since = now_ms();
	}
	c->out_off = c->out_len = 0;
	if (c->closing) {
		conn_close(c);
		return false;
	}
	return true;
}

static enum tpmsock_verdict parse(struct tpmsrv *s, int kind, struct conn *c,
				  struct tpmsock_step *st)
{
	switch (kind) {
	case TPMSRV_MSSIM_CMD:
		return tpmsock_mssim_cmd(c->in, c->in_len, c->out, &s->x, st);
	case TPMSRV_MSSIM_PLATFORM:
		return tpmsock_mssim_platform(c->in, c->in_len, c->out, st);
	case TPMSRV_SWTPM_DATA:
		return tpmsock_swtpm_data(c->in, c->in_len, c->out, &s->x,
					  s->locality, st);
	default:
		return tpmsock_swtpm_ctrl(c->in, c->in_len, c->out,
					  &s->locality, st);
	}
}

/* Answers every whole message received, one at a time, while answers
 * go out without blocking. */
static void process(struct tpmsrv *s, int kind, struct conn *c)
{
	while (c->fd >= 0 && c->in_len && c->out_off == c->out_len) {
		struct tpmsock_step st;
		enum tpmsock_verdict v = parse(s, kind, c, &st);

		if (v == TPMSOCK_MORE) {
			/* Parsers resolve every message within the bound. */
			if (c->in_len >= kind_in_max[kind]) {
				log_drop(s, kind, "message over its bound");
				conn_close(c);
			}
			return;
		}
		assert(st.used <= c->in_len && st.out_len <= TPMSOCK_OUT_MAX);
		memmove(c->in, c->in + st.used, c->in_len - st.used);
		c->in_len -= st.used;
		c->out_off = 0;
		c->out_len = st.out_len;
		c->since = now_ms();
		if (v == TPMSOCK_CLOSE) {
			if (st.why)
				log_drop(s, kind, st.why);
			c->closing = true;
		}
		if (!flush(c))
			return;
		if (!conn_busy(c))
			c->idle_since = now_ms();
	}
}

static void conn_event(struct tpmsrv *s, int kind, struct conn *c,
		       short revents)
{
	ssize_t n;

	if (c->out_off < c->out_len) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)) || !flush(c))
			return;
		process(s, kind, c); /* what arrived meanwhile */
		return;
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	n = recv(c->fd, c->in + c->in_len, kind_in_max[kind] - c->in_len, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		/* The client is done (or broken); a half message dies. */
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	c->since = now_ms();
	process(s, kind, c);
}

unsigned tpmsrv_poll_set(struct tpmsrv *s, struct pollfd *pfd, int *timeout_ms)
{
	int64_t now = now_ms();
	unsigned n = 0;

	for (int k = 0; k < TPMSRV_KINDS; k++) {
		bool room = false;

		for (int i = 0; i < TPMSRV_CONNS_PER_KIND; i++) {
			struct conn *c = &s->conns[k][i];
			int64_t left;

			if (c->fd < 0 || !conn_busy(c)) {
				room = true;
				if (c->fd < 0)
					continue;
			}
			pfd[n].fd = c->fd;
			pfd[n].events =
				c->out_off < c->out_len ? POLLOUT : POLLIN;
			pfd[n].revents = 0;
			s->map[n].kind = k;
			s->map[n].slot = i;
			s->map[n].fd = c->fd;
			n++;
			if (!conn_busy(c))
				continue;
			left = c->since + TPMSRV_IO_TIMEOUT_MS - now;
			if (left < 0)
				left = 0;
			if (*timeout_ms < 0 || left < *timeout_ms)
				*timeout_ms = (int)left;
		}
		/* A listener whose clients are all mid-message waits: polling
		 * it would spin. */
		if (!room || s->lfd[k] < 0)
			continue;
		pfd[n].fd = s->lfd[k];
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		s->map[n].kind = k;
		s->map[n].slot = -1;
		s->map[n].fd = s->lfd[k];
		n++;
	}
	s->n_map = n;
	return n;
}

static void expire(struct tpmsrv *s)
{
	int64_t now = now_ms();

	for (int k = 0; k < TPMSRV_KINDS; k++) {
		for (int i = 0; i < TPMSRV_CONNS_PER_KIND; i++) {
			struct conn *c = &s->conns[k][i];

			if (c->fd >= 0 && conn_busy(c) &&
			    now - c->since >= TPMSRV_IO_TIMEOUT_MS) {
				log_drop(s, k, "timed out mid-message");
				conn_close(c);
			}
		}
	}
}

void tpmsrv_serve(struct tpmsrv *s, const struct pollfd *pfd, unsigned n)
{
	for (unsigned i = 0; i < n && i < s->n_map; i++) {
		int kind = s->map[i].kind, slot = s->map[i].slot;
		struct conn *c;

		if (!pfd[i].revents || pfd[i].fd != s->map[i].fd)
			continue;
		if (slot < 0) {
			accept_one(s, kind);
			continue;
		}
		c = &s->conns[kind][slot];
		/* An earlier event this round may have closed or replaced
		 * the client in this slot. */
		if (c->fd == pfd[i].fd)
			conn_event(s, kind, c, pfd[i].revents);
	}
	expire(s);
}
