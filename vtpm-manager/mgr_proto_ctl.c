/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_proto_ctl.c - the control-socket client of mgr_proto.h: what the
 * dom0 toolstack uses to talk to hvsec-vtpm-managerd.  One request, one
 * answer per call, over a SOCK_SEQPACKET unix socket (one message per
 * datagram, so no framing beyond mgr_proto's own).
 *
 * An answer that arrives after its call gave up (-ETIMEDOUT) would be
 * taken for the answer to the next request; responses do not name their
 * op.  So a caller closes the socket after any error other than a
 * well-formed answer, and the manager discards answers to closed peers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_proto.h"

int mgr_ctl_connect(const char *path, char *why, size_t why_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	vtpm_set_why(why, why_len, "%s", "");
	if (!path || !*path) {
		vtpm_set_why(why, why_len, "no control socket path");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vtpm_set_why(why, why_len,
			     "control socket path %s is longer than %zu bytes",
			     path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		vtpm_set_why(why, why_len, "socket: %s", strerror(err));
		return -err;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		if (err == EINTR)
			continue;
		vtpm_set_why(why, why_len, "connect %s: %s", path,
			     strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const uint8_t *buf, size_t n, char *why,
		    size_t why_len)
{
	ssize_t r;
	int err;

	do
		r = send(fd, buf, n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		err = errno == EPIPE ? ECONNRESET : errno;
		vtpm_set_why(why, why_len, "send to the manager: %s",
			     strerror(errno));
		return -err;
	}
	if ((size_t)r != n) { /* SEQPACKET sends whole or not at all */
		vtpm_set_why(why, why_len,
			     "send to the manager: %zd of %zu "
			     "bytes",
			     r, n);
		return -EPROTO;
	}
	return 0;
}

/* Waits until fd is readable or timeout_ms (< 0: forever) has passed,
 * restarting poll after a signal with the time that is left. */
static int wait_readable(int fd, int timeout_ms, char *why, size_t why_len)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r, wait = timeout_ms;

	for (;;) {
		r = poll(&p, 1, wait);
		if (r > 0)
			return 0; /* POLLIN, POLLHUP, POLLERR: recv says */
		if (r < 0 && errno != EINTR) {
			r = errno;
			vtpm_set_why(why, why_len, "poll: %s", strerror(r));
			return -r;
		}
		if (timeout_ms >= 0) {
			int64_t rest = deadline - now_ms();

			if (r == 0 || rest <= 0) {
				vtpm_set_why(why, why_len,
					     "no answer from the manager "
					     "within %d ms",
					     timeout_ms);
				return -ETIMEDOUT;
			}
			wait = (int)rest;
		}
	}
}

int mgr_ctl_call(int fd, const struct mgr_req *req, struct mgr_rsp *rsp,
		 uint8_t *buf, int timeout_ms, char *why, size_t why_len)
{
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct mgr_req check;
	enum mgr_rc prc;
	char pwhy[200];
	ssize_t r;
	size_t n;
	int ret;

	vtpm_set_why(why, why_len, "%s", "");
	if (fd < 0 || !req || !rsp || !buf) {
		vtpm_set_why(why, why_len, "bad argument");
		return -EINVAL;
	}
	n = mgr_req_encode(req, buf, MGR_CTL_MSG_MAX);
	if (!n) {
		vtpm_set_why(why, why_len, "%s: request not encodable",
			     mgr_op_str(req->op));
		return -EINVAL;
	}
	if (mgr_req_parse(MGR_CH_CONTROL, buf, n, &check, NULL, 0)) {
		vtpm_set_why(why, why_len, "%s is not a control operation",
			     mgr_op_str(req->op));
		return -EINVAL;
	}
	ret = send_all(fd, buf, n, why, why_len);
	if (ret)
		return ret;
	ret = wait_readable(fd, timeout_ms, why, why_len);
	if (ret)
		return ret;
	iov.iov_base = buf;
	iov.iov_len = MGR_CTL_MSG_MAX;
	/* MSG_TRUNC: the datagram's real length, so an oversized answer is
	 * named rather than parsed cut short. */
	do
		r = recvmsg(fd, &mh, MSG_TRUNC | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		ret = errno;
		vtpm_set_why(why, why_len, "receive from the manager: %s",
			     strerror(ret));
		return ret == EAGAIN ? -ETIMEDOUT : -ret;
	}
	if (r == 0) {
		vtpm_set_why(why, why_len, "the manager closed the connection");
		return -ECONNRESET;
	}
	if ((size_t)r > MGR_CTL_MSG_MAX || (mh.msg_flags & MSG_TRUNC)) {
		vtpm_set_why(why, why_len, "%s: answer of %zd bytes exceeds %u",
			     mgr_op_str(req->op), r, MGR_CTL_MSG_MAX);
		return -EPROTO;
	}
	rsp->op = req->op;
	prc = mgr_rsp_parse(MGR_CH_CONTROL, buf, (size_t)r, rsp, pwhy,
			    sizeof(pwhy));
	if (prc != MGR_RC_OK) {
		vtpm_set_why(why, why_len,
			     "malformed answer from the manager "
			     "(%s): %s",
			     mgr_rc_str(prc), pwhy);
		return -EPROTO;
	}
	return 0;
}
