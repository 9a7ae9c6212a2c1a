/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crashmgr.h - the manager half of crashtpm (tests/vtpm/crashmgr.c):
 * a stand-in vTPM manager process and the manager-mode store of
 * crashtpm's writer and checker (CRASHTPM_MGR=DIR).
 */
#ifndef HVSEC_TESTS_VTPM_CRASHMGR_H
#define HVSEC_TESTS_VTPM_CRASHMGR_H

#include <stdbool.h>
#include <stddef.h>

#include "vtpm-instance/vtpm.h"

/* Serves DIR/sock until killed, state in DIR/refs; prints "ready" once
 * listening.  Returns only on a set-up failure (1). */
int crashmgr_serve(const char *dir);
/* The writer's store (check false: OPEN over DIR/sock, commits there) or
 * the checker's (check true: the refs read from DIR/refs, commits
 * refused).  0 or -errno with why. */
int crashmgr_store_open(struct vtpm_store *st, const char *dir,
			const char *mgrdir, bool check, char *why,
			size_t why_len);

#endif /* HVSEC_TESTS_VTPM_CRASHMGR_H */
