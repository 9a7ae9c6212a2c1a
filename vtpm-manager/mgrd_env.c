/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_env.c - the envelope between the front and the key holder.  Both
 * ends are this program, but the key holder still checks every field: a
 * front that was taken over must not get further than a malformed
 * envelope (the key holder then exits, and the front with it).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vtpm-manager/mgrd.h"

struct env_hdr {
	uint32_t magic, kind, channel, peer;
	uint64_t id;
};
static_assert(sizeof(struct env_hdr) == MGRD_ENV_HDR_LEN, "envelope header");

/* The payload limits per kind. */
static uint32_t max_payload(uint32_t kind, uint32_t channel)
{
	switch (kind) {
	case MGRD_ENV_REQUEST:
		return channel == MGR_CH_INSTANCE ? MGR_RING_MSG_MAX
						  : MGR_CTL_MSG_MAX;
	case MGRD_ENV_RESPONSE:
		return MGR_CTL_MSG_MAX;
	case MGRD_ENV_READY:
	case MGRD_ENV_FATAL:
		return 1024;
	default:
		return 0; /* CLOSED, GONE */
	}
}

static bool valid(uint32_t kind, uint32_t channel, uint32_t len)
{
	if (kind < MGRD_ENV_REQUEST || kind > MGRD_ENV_KIND_MAX_)
		return false;
	if (kind == MGRD_ENV_REQUEST && channel != MGR_CH_INSTANCE &&
	    channel != MGR_CH_CONTROL)
		return false;
	if (kind != MGRD_ENV_REQUEST && channel != 0)
		return false;
	return len <= max_payload(kind, channel);
}

size_t mgrd_env_encode(const struct mgrd_env *e, uint8_t *buf, size_t cap)
{
	struct env_hdr h = {MGRD_ENV_MAGIC, e->kind, e->channel, e->peer,
			    e->id};

	if (!valid(e->kind, e->channel, e->len) ||
	    cap < MGRD_ENV_HDR_LEN + (size_t)e->len)
		return 0;
	memcpy(buf, &h, sizeof(h));
	if (e->len)
		memcpy(buf + sizeof(h), e->data, e->len);
	return sizeof(h) + e->len;
}

int mgrd_env_decode(const uint8_t *buf, size_t len, struct mgrd_env *out,
		    char *why, size_t why_len)
{
	struct env_hdr h;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(h) || len > MGRD_ENV_MAX) {
		snprintf(why, why_len, "envelope of %zu bytes", len);
		return -EPROTO;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != MGRD_ENV_MAGIC) {
		snprintf(why, why_len, "envelope magic 0x%08x", h.magic);
		return -EPROTO;
	}
	if (!valid(h.kind, h.channel, (uint32_t)(len - sizeof(h)))) {
		snprintf(why, why_len,
			 "envelope kind %u channel %u with %zu bytes", h.kind,
			 h.channel, len - sizeof(h));
		return -EPROTO;
	}
	out->kind = h.kind;
	out->channel = h.channel;
	out->peer = h.peer;
	out->id = h.id;
	out->data = buf + sizeof(h);
	out->len = (uint32_t)(len - sizeof(h));
	return 0;
}
