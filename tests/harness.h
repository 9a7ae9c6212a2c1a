/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harness.h - the tiny unit-test harness: tests are tables of cases.
 *
 *   TH_CHECK(cond, "case %s", name)  records one assertion (pass or fail,
 *                                    printing file:line and the message on
 *                                    failure) and returns cond;
 *   th_done()                        prints "N passed, N failed" and returns
 *                                    the process exit status.
 *
 * Set TH_VERBOSE=1 in the environment to print passing checks too.
 */
#ifndef HVSEC_TESTS_HARNESS_H
#define HVSEC_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool th_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int th_done(void);
/* Reads a whole file; aborts the test binary (counted as a failure) when the
 * file is unreadable, since every later check would be meaningless. */
uint8_t *th_read_file(const char *path, size_t *len);
/* Directory of the repository checkout (HVSEC_SRC or "."). */
const char *th_src_dir(void);

#define TH_CHECK(cond, ...) th_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define TH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
