/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acm_port.h - everything acm/ takes from its environment, in one place.
 *
 * The same acm/ sources are compiled in two worlds:
 *   - hosted/freestanding C11 (tools, tests, the hypervisor model): the
 *     compiler's own <stddef.h>, <stdint.h>, <stdbool.h>, <stdalign.h> and
 *     <limits.h>, which need no libc;
 *   - inside Xen (hooks/xen/, `make xen-acm`): Xen builds with -nostdinc,
 *     so those headers do not exist; <xen/types.h> provides the fixed-width
 *     types, size_t, bool and NULL, and xen/config.h (forced on every Xen
 *     object) provides offsetof.  The few limits Xen lacks are defined here.
 *
 * Nothing else may be included by acm/ apart from its own headers; memory
 * functions come from the compiler (builtins) or, in Xen, from xen/string.h
 * symbols of the same names, resolved at link time.
 */
#ifndef HVSEC_ACM_PORT_H
#define HVSEC_ACM_PORT_H

#ifdef __XEN__
#include <xen/types.h>
#ifndef SIZE_MAX
#define SIZE_MAX (~(size_t)0)
#endif
#else
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#endif /* HVSEC_ACM_PORT_H */
