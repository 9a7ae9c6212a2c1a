/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plat_xen_ports.c - the per-port "fired" bookkeeping of plat_xen.c
 * (plat_xen_ports.h).  A linear table: a process binds a handful of
 * ports, and every lookup is a few compares.
 */
#include <errno.h>
#include <string.h>

#include "hypervisor/plat/plat_xen_ports.h"

void plat_xen_ports_init(struct plat_xen_ports *t)
{
	memset(t, 0, sizeof(*t));
}

/* Index of port in the table, or -1.  Port 0 is never an entry. */
static int find(const struct plat_xen_ports *t, uint32_t port)
{
	if (port == 0)
		return -1;
	for (unsigned i = 0; i < t->n; i++) {
		if (t->e[i].port == port)
			return (int)i;
	}
	return -1;
}

bool plat_xen_ports_has(const struct plat_xen_ports *t, uint32_t port)
{
	return find(t, port) >= 0;
}

int plat_xen_ports_add(struct plat_xen_ports *t, uint32_t port)
{
	if (port == 0)
		return -EINVAL;
	if (find(t, port) >= 0)
		return -EEXIST;
	if (t->n >= PLAT_XEN_PORTS_MAX)
		return -ENOSPC;
	t->e[t->n].port = port;
	t->e[t->n].fired = false;
	t->n++;
	return 0;
}

int plat_xen_ports_remove(struct plat_xen_ports *t, uint32_t port)
{
	int i = find(t, port);

	if (i < 0)
		return -ENOENT;
	/* Unordered: the last entry fills the hole. */
	t->e[i] = t->e[t->n - 1];
	memset(&t->e[t->n - 1], 0, sizeof(t->e[0]));
	t->n--;
	return 0;
}

bool plat_xen_ports_note(struct plat_xen_ports *t, uint32_t port)
{
	int i = find(t, port);

	if (i < 0)
		return false;
	t->e[i].fired = true;
	return true;
}

int plat_xen_ports_take(struct plat_xen_ports *t, uint32_t port)
{
	int i = find(t, port);

	if (i < 0)
		return -EINVAL;
	if (!t->e[i].fired)
		return 0;
	t->e[i].fired = false;
	return 1;
}
