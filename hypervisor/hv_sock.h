/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv_sock.h - datagrams with file descriptors over SOCK_SEQPACKET, shared
 * by the daemon, the guest library and the control client (internal to
 * hypervisor/).
 *
 * A datagram that does not fit the buffer, or whose fds did not all fit
 * the control buffer, is an error: every fd that did arrive is closed, so
 * a peer cannot make the receiver leak descriptors.
 */
#ifndef HVSEC_HV_SOCK_H
#define HVSEC_HV_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HV_SOCK_FDS_MAX 4u

/* Sends one datagram with `nfds` fds.  `flags` are send(2) flags (e.g.
 * MSG_DONTWAIT).  Returns 0 or -errno (-EAGAIN, -EPIPE ...). */
int hv_sock_send(int sock, const void *buf, size_t len, const int *fds,
		 unsigned nfds, int flags);

/* Receives one datagram.  Returns its length (0 = peer closed), or
 * -errno; -EMSGSIZE when it was truncated (data or fds), fds closed.
 * Received fds get O_CLOEXEC. */
ssize_t hv_sock_recv(int sock, void *buf, size_t cap, int *fds,
		     unsigned max_fds, unsigned *nfds, int flags);

/* Closes fds[0..n) that are >= 0 and sets them to -1. */
void hv_close_fds(int *fds, unsigned n);

/* Reads `fd` to its end into a malloc'd buffer of at most `max` bytes
 * (policy blobs and other files passed between dom0 and the daemon).
 * Returns 0, -EFBIG past `max`, -ENOMEM, or the read's -errno. */
int hv_read_fd_all(int fd, size_t max, uint8_t **out, size_t *len);

#endif /* HVSEC_HV_SOCK_H */
