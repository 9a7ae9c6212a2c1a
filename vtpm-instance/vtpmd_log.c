/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd_log.c - console lines.  stdout is the domain's console, which
 * hvsecd keeps (at most 4 MiB): a guest that sends garbage in a loop must
 * not be able to fill it, hence the rate limit for whatever a guest can
 * provoke.  Lines about the backend's own life are never limited.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vtpm-instance/vtpmd.h"

uint64_t vtpmd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void vlog(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
static void vlog(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, flushed: the console is a log others read
	 * while we run (and the same code runs in a dom0 on real Xen). */
	printf("vtpmd: %s\n", line);
	fflush(stdout);
}

/* "EACCES (Permission denied)": Linux errno values are Xen's for every
 * errno a platform call returns, on both platforms. */
const char *vtpmd_strerror(int err)
{
	static char buf[96];
	int e = err < 0 ? -err : err;
	const char *name = strerrorname_np(e);

	snprintf(buf, sizeof(buf), "%s (%s)", name ? name : "E?", strerror(e));
	return buf;
}

void vtpmd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

bool vtpmd_rl_allow(struct vtpm_rl *rl, uint64_t now_ms, unsigned *dropped)
{
	return vtpm_rl_allow(rl, VTPMD_RL_BURST, VTPMD_RL_WINDOW_MS, now_ms,
			     dropped);
}

void vtpmd_log_limited(struct vtpm_rl *rl, const char *fmt, ...)
{
	unsigned dropped;
	va_list ap;

	if (!vtpmd_rl_allow(rl, vtpmd_now_us() / 1000u, &dropped))
		return;
	if (dropped)
		vtpmd_log("(%u similar lines suppressed)", dropped);
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
