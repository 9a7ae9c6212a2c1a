/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm_util.h - the few helpers every vTPM and manager file needs: a
 * "why" message for callers that pass a buffer, TPM wire integers
 * (big-endian) and our own file formats' integers (little-endian,
 * docs/formats.md §5-8).  Header-only (static inline), so each library and fuzz
 * harness that includes it needs no extra object.
 */
#ifndef HVSEC_VTPM_UTIL_H
#define HVSEC_VTPM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Formats into why (NUL-terminated, truncated) unless why is NULL. */
static inline void vtpm_set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void vtpm_set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

static inline uint16_t vtpm_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t vtpm_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void vtpm_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vtpm_put_be32(uint8_t *p, uint32_t v)
{
	vtpm_put_be16(p, (uint16_t)(v >> 16));
	vtpm_put_be16(p + 2, (uint16_t)v);
}

static inline uint16_t vtpm_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t vtpm_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t vtpm_get_le64(const uint8_t *p)
{
	return (uint64_t)vtpm_get_le32(p) | (uint64_t)vtpm_get_le32(p + 4)
						    << 32;
}

static inline void vtpm_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void vtpm_put_le32(uint8_t *p, uint32_t v)
{
	vtpm_put_le16(p, (uint16_t)v);
	vtpm_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void vtpm_put_le64(uint8_t *p, uint64_t v)
{
	vtpm_put_le32(p, (uint32_t)v);
	vtpm_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* What a frontend may write as its ring-ref and event-channel: Xen's FIFO
 * event-channel ABI has 2^17 ports (0 is never one); ~0 is the invalid
 * grant reference of Linux and Xen's tools. */
#define VTPM_XB_PORT_MAX ((1u << 17) - 1)
#define VTPM_XB_GREF_MAX (UINT32_MAX - 1)

/* A xenbus state's name (xen/include/public/io/xenbus.h), "?" if none. */
static inline const char *vtpm_xb_state_name(unsigned s)
{
	static const char *const names[] = {
		"Unknown",     "Initialising",	"InitWait",
		"Initialised", "Connected",	"Closing",
		"Closed",      "Reconfiguring", "Reconfigured",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* A rate limit for console lines that peers can provoke: at most `burst`
 * lines per window of window_ms; the first line of the next window says
 * how many were dropped (*dropped), so a flood shows without filling the
 * console.  Zeroed = not started. */
struct vtpm_rl {
	uint64_t window_start_ms;
	unsigned used;	     /* lines printed in this window */
	unsigned suppressed; /* lines dropped in this window */
	bool started;
};

static inline bool vtpm_rl_allow(struct vtpm_rl *rl, unsigned burst,
				 uint64_t window_ms, uint64_t now_ms,
				 unsigned *dropped)
{
	*dropped = 0;
	if (!rl->started || now_ms - rl->window_start_ms >= window_ms) {
		*dropped = rl->suppressed;
		rl->started = true;
		rl->window_start_ms = now_ms;
		rl->used = 0;
		rl->suppressed = 0;
	}
	if (rl->used < burst) {
		rl->used++;
		return true;
	}
	rl->suppressed++;
	return false;
}

#endif /* HVSEC_VTPM_UTIL_H */
