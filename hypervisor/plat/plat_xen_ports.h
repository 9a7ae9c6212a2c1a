/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plat_xen_ports.h - private to plat_xen.c (and its test): which event
 * channel ports this process has bound, and which of them fired since
 * their owner last asked.
 *
 * On Xen one /dev/xen/evtchn handle serves every port, and reading it
 * yields port numbers.  A caller of plat_evtchn_pending(p, A) may thus
 * read a notification of port B; this table keeps it (a "fired" flag per
 * port, Xen's own pending bit in miniature: several notifications before
 * a take are one) until plat_evtchn_pending(p, B) takes it.  A port that
 * is read but is no longer in the table was unbound since: the
 * notification is stale and dropped, and it must not be unmasked.
 *
 * Pure: no I/O, no allocation; the caller owns the storage.
 */
#ifndef HVSEC_PLAT_XEN_PORTS_H
#define HVSEC_PLAT_XEN_PORTS_H

#include <stdbool.h>
#include <stdint.h>

/* A backend binds one port per frontend it serves; hvsec-vtpmd binds
 * one.  The kernel queues each port at most once until it is unmasked,
 * so a table this small also bounds what one drain can read. */
#define PLAT_XEN_PORTS_MAX 64u

struct plat_xen_port {
	uint32_t port; /* local port, never 0 */
	bool fired;    /* notified since the last take */
};

struct plat_xen_ports {
	unsigned n; /* entries in use: e[0 .. n-1], unordered */
	struct plat_xen_port e[PLAT_XEN_PORTS_MAX];
};

void plat_xen_ports_init(struct plat_xen_ports *t);
bool plat_xen_ports_has(const struct plat_xen_ports *t, uint32_t port);
/* 0; -EINVAL for port 0; -EEXIST when bound already; -ENOSPC when full.
 * A new entry has not fired. */
int plat_xen_ports_add(struct plat_xen_ports *t, uint32_t port);
/* 0 or -ENOENT.  Forgets a fire not yet taken. */
int plat_xen_ports_remove(struct plat_xen_ports *t, uint32_t port);
/* A port read from the handle: records the fire.  True when the port is
 * ours (the caller then unmasks it), false when it is stale. */
bool plat_xen_ports_note(struct plat_xen_ports *t, uint32_t port);
/* Takes the fire of `port`: 1 if it fired since the last take (and clears
 * it), 0 if not, -EINVAL when the port is not in the table. */
int plat_xen_ports_take(struct plat_xen_ports *t, uint32_t port);

#endif /* HVSEC_PLAT_XEN_PORTS_H */
