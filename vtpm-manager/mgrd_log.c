/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_log.c - console lines of both processes.  stdout is the manager
 * domain's console (capped by hvsecd): what an instance or a toolstack
 * request can provoke goes through a rate limit; lines about the
 * manager's own life never do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vtpm-manager/mgrd.h"

static const char *role = "mgrd";

void mgrd_log_role(const char *r)
{
	role = r;
}

uint64_t mgrd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void vlog(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
static void vlog(const char *fmt, va_list ap)
{
	char line[640];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, flushed: two processes share the console. */
	printf("%s: %s\n", role, line);
	fflush(stdout);
}

void mgrd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

const char *mgrd_strerror(int err)
{
	static char buf[96];
	int e = err < 0 ? -err : err;
	const char *name = strerrorname_np(e);

	snprintf(buf, sizeof(buf), "%s (%s)", name ? name : "E?", strerror(e));
	return buf;
}

bool mgrd_rl_allow(struct vtpm_rl *rl, uint64_t now_ms, unsigned *dropped)
{
	return vtpm_rl_allow(rl, MGRD_RL_BURST, MGRD_RL_WINDOW_MS, now_ms,
			     dropped);
}

void mgrd_log_limited(struct vtpm_rl *rl, const char *fmt, ...)
{
	unsigned dropped;
	va_list ap;

	if (!mgrd_rl_allow(rl, mgrd_now_us() / 1000u, &dropped))
		return;
	if (dropped)
		mgrd_log("(%u similar lines suppressed)", dropped);
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
