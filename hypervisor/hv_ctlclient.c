/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv_ctlclient.c - the control client (libhvctl): connect to
 * RUN_DIR/control, send a request, wait for its reply.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/hv_control.h"
#include "hypervisor/hv_sock.h"

struct hv_ctl_client {
	int fd;
	uint32_t seq;
};

int hv_ctl_connect(const char *run_dir, struct hv_ctl_client **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct hv_ctl_client *c;
	int n, fd, err;

	*out = NULL;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir,
		     HV_CTL_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void hv_ctl_disconnect(struct hv_ctl_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int hv_ctl_fd(const struct hv_ctl_client *c)
{
	return c->fd;
}

void hv_ctl_resp_release(struct hv_ctl_resp *resp)
{
	hv_close_fds(resp->fds, resp->nfds);
	resp->nfds = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receives one datagram and checks the reply framing. */
static int recv_one(struct hv_ctl_client *c, struct hv_ctl_resp *resp,
		    int64_t deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	ssize_t n;
	size_t pad_text;
	int rc;

	for (;;) {
		int wait = -1;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			wait = left > 0 ? (int)left : 0;
		}
		rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		break;
	}
	n = hv_sock_recv(c->fd, resp->buf, HV_CTL_MSG_MAX, resp->fds, 4,
			 &resp->nfds, 0);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < sizeof(resp->r))
		goto proto;
	memcpy(&resp->r, resp->buf, sizeof(resp->r));
	if ((resp->r.h.magic & 0x00ffffffu) != HV_CTL_MAGIC_BASE ||
	    resp->r.h.len != (size_t)n || resp->r.nfds != resp->nfds ||
	    resp->r.err > 0 || resp->r.body_len > (size_t)n ||
	    resp->r.text_len > HV_CTL_TEXT_MAX)
		goto proto;
	pad_text = resp->r.text_len + (4 - resp->r.text_len % 4) % 4;
	if (sizeof(resp->r) + (size_t)resp->r.body_len + pad_text != (size_t)n)
		goto proto;
	resp->body = resp->buf + sizeof(resp->r);
	resp->body_len = resp->r.body_len;
	/* The text is terminated in place: the buffer has room after it. */
	{
		char *t = (char *)resp->buf + sizeof(resp->r) + resp->body_len;

		t[resp->r.text_len] = '\0';
		if (memchr(t, '\0', resp->r.text_len))
			goto proto;
		resp->text = t;
	}
	return 0;
proto:
	hv_ctl_resp_release(resp);
	return -EPROTO;
}

int hv_ctl_call(struct hv_ctl_client *c, uint32_t op, const void *body,
		size_t body_len, const int *fds, unsigned nfds,
		struct hv_ctl_resp *resp, int timeout_ms)
{
	static uint8_t req[HV_CTL_MSG_MAX];
	struct hv_ctl_hdr h;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc;

	resp->nfds = 0;
	resp->text = "";
	if (sizeof(h) + body_len > HV_CTL_MSG_MAX)
		return -E2BIG;
	h.magic = HV_CTL_MAGIC(HV_CTL_VERSION);
	h.op = op;
	h.len = (uint32_t)(sizeof(h) + body_len);
	h.seq = ++c->seq;
	memcpy(req, &h, sizeof(h));
	if (body_len)
		memcpy(req + sizeof(h), body, body_len);
	rc = hv_sock_send(c->fd, req, h.len, fds, nfds, 0);
	if (rc)
		return rc;
	for (;;) {
		rc = recv_one(c, resp, deadline);
		if (rc)
			return rc;
		if (resp->r.h.op & HV_CTL_NOTICE) {
			/* A notice while waiting: not ours to keep. */
			hv_ctl_resp_release(resp);
			continue;
		}
		if (resp->r.h.op != (op | HV_CTL_REPLY) ||
		    resp->r.h.seq != h.seq) {
			hv_ctl_resp_release(resp);
			return -EPROTO;
		}
		return resp->r.err;
	}
}

int hv_ctl_next_notice(struct hv_ctl_client *c, struct hv_ctl_resp *resp,
		       int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc;

	for (;;) {
		rc = recv_one(c, resp, deadline);
		if (rc)
			return rc;
		if (resp->r.h.op & HV_CTL_NOTICE)
			return 0;
		hv_ctl_resp_release(resp);
	}
}
