/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmfront.h - the guest (frontend) side of the Xen tpmif v2 protocol,
 * for guest programs of the hvsecd model (on real Xen the frontend is
 * Linux's xen-tpmfront).  It does what xen-tpmfront does, in the same
 * order (reference/vtpm.md §1.3, §2.2):
 *
 *   connect:  read device/vtpm/<devid>/{backend,backend-id} (written by
 *             the toolstack), allocate and grant one zeroed page to the
 *             backend domain, allocate an unbound event channel for it,
 *             write ring-ref, event-channel, feature-protocol-v2=1 in one
 *             XenStore transaction (retried on EAGAIN), state Initialised
 *             (3); wait for the backend's Connected (4) with its
 *             feature-protocol-v2 = 1; state Connected (4).
 *   transmit: wait for IDLE/FINISH, copy the command to offset 8, length,
 *             barrier, SUBMIT, notify; wait for FINISH (adaptive: spin a
 *             little, then block on the event channel); on timeout write
 *             CANCEL, notify, return -ETIMEDOUT.  The response length is
 *             clamped to the page and to the caller's buffer: a lying
 *             backend cannot make us read out of bounds.
 *   close:    Closing (5), Closed (6), end the grant, close the channel.
 *
 *   struct vtpmfront *f;
 *   vtpmfront_connect(g, xs, 0, 10000, &f, why, sizeof(why));
 *   vtpmfront_transmit(f, cmd, cmd_len, 0, rsp, sizeof(rsp), &rsp_len, 120000);
 */
#ifndef HVSEC_VTPMFRONT_H
#define HVSEC_VTPMFRONT_H

#include <stddef.h>
#include <stdint.h>

struct hvg;
struct xs_handle;
struct vtpmfront;

#define VTPMFRONT_MAX_PAYLOAD 4088u

/* xs is used for watches whose events this library drains while it waits:
 * give it a XenStore handle of its own, not one whose watches someone else
 * reads (hvsec-vtpmd's manager link shares nothing with its backend's).
 * 0 or -errno (-EACCES: the policy refused the grant or the backend could
 * not connect and said so in its `error` node; -ETIMEDOUT; -EPROTO: the
 * backend lacks feature-protocol-v2).  why says which step failed. */
int vtpmfront_connect(struct hvg *g, struct xs_handle *xs, uint32_t devid,
		      int timeout_ms, struct vtpmfront **out, char *why,
		      size_t why_len);
/* One command, one response.  0 or -errno (-ETIMEDOUT after CANCEL,
 * -ECANCELED when the backend answered IDLE, -ENOTCONN when the backend
 * went away, -EMSGSIZE for a command over 4088 bytes). */
int vtpmfront_transmit(struct vtpmfront *f, const uint8_t *cmd, size_t cmd_len,
		       uint8_t locality, uint8_t *rsp, size_t rsp_cap,
		       size_t *rsp_len, int timeout_ms);
/* Closing, Closed, then frees everything. */
void vtpmfront_close(struct vtpmfront *f);
uint32_t vtpmfront_backend_id(const struct vtpmfront *f);

#endif /* HVSEC_VTPMFRONT_H */
