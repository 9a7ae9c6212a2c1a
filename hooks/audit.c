/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit.c - the audit sink: rate limiting of identical denials, a bounded
 * ring of records in memory, and an append-only JSON Lines file.
 *
 * Nothing here may block a hook: the ring is preallocated; the log is
 * opened O_APPEND|O_NONBLOCK and each record is one write(2) of one line
 * (whole lines from concurrent writers never interleave on a regular
 * file); a write that fails or comes up short is counted in log_errors,
 * never retried, and the decision stands either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks/hooks_impl.h"

uint64_t hooks_now_ns(const struct hooks_state *hs, clockid_t id,
		      struct timespec *ts)
{
	struct timespec t = {0, 0};
	int rc = hs->cfg.clock ? hs->cfg.clock(id, &t) : clock_gettime(id, &t);

	if (rc != 0)
		t = (struct timespec){0, 0};
	if (ts)
		*ts = t;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int hooks_audit_init(struct hooks_audit *a, const struct hooks_config *cfg,
		     const char *log_path)
{
	memset(a, 0, sizeof(*a));
	a->log_fd = -1;
	a->next_seq = 1;
	a->cap = cfg->audit_ring;
	a->ring = calloc(a->cap, sizeof(*a->ring));
	if (!a->ring)
		return -ENOMEM;
	if (log_path) {
		a->log_fd = open(log_path,
				 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
					 O_NOCTTY | O_NONBLOCK,
				 0600);
		if (a->log_fd < 0) {
			int err = -errno;

			free(a->ring);
			a->ring = NULL;
			return err;
		}
	}
	return 0;
}

void hooks_audit_fini(struct hooks_audit *a)
{
	if (a->log_fd >= 0)
		close(a->log_fd);
	a->log_fd = -1;
	free(a->ring);
	a->ring = NULL;
}

/* FNV-1a over what makes two denials "identical". */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t denial_key(const struct hooks_audit_record *r)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t f[9] = {
		(uint32_t)r->hook,	 r->subject.domid,
		r->subject.row,		 r->object.domid,
		r->object.row,		 (uint32_t)r->reason,
		(uint32_t)r->acm_reason, r->enforced,
		(uint32_t)r->res_class,
	};

	h = fnv(h, f, sizeof(f));
	h = fnv(h, r->resource, strnlen(r->resource, sizeof(r->resource)));
	return h ? h : 1; /* 0 marks an empty slot */
}

/* True when the denial is to be recorded; sets r->suppressed to what was
 * held back before it. */
static bool rate_admit(struct hooks_state *hs, struct hooks_audit_record *r)
{
	struct hooks_audit *a = &hs->audit;
	uint64_t key = denial_key(r);
	struct hooks_rate_slot *s = &a->rate[key % HOOKS_RATE_SLOTS];
	uint64_t now = hooks_now_ns(hs, CLOCK_MONOTONIC, NULL);
	uint64_t interval = (uint64_t)hs->cfg.rate_interval_ms * 1000000u;

	if (s->key != key || now - s->window_start >= interval) {
		r->suppressed = s->key == key ? s->suppressed : 0;
		*s = (struct hooks_rate_slot){key, now, 1, 0};
		return true;
	}
	if (s->in_window < hs->cfg.rate_burst) {
		s->in_window++;
		r->suppressed = s->suppressed;
		s->suppressed = 0;
		return true;
	}
	if (s->suppressed < UINT32_MAX)
		s->suppressed++;
	a->stats.suppressed++;
	return false;
}

static void log_append(struct hooks_audit *a,
		       const struct hooks_audit_record *r)
{
	char line[HOOKS_JSON_MAX + 1];
	int n;

	if (a->log_fd < 0)
		return;
	n = hooks_audit_json(r, line, sizeof(line) - 1);
	if (n < 0 || (size_t)n >= sizeof(line) - 1) {
		a->stats.log_errors++;
		return;
	}
	line[n++] = '\n';
	if (write(a->log_fd, line, (size_t)n) != (ssize_t)n)
		a->stats.log_errors++;
}

bool hooks_audit_emit(struct hooks_state *hs, struct hooks_audit_record *r)
{
	struct hooks_audit *a = &hs->audit;

	if (r->decision == HOOKS_DENY && !rate_admit(hs, r))
		return false;
	r->seq = a->next_seq++;
	if (a->stats.recorded >= a->cap)
		a->stats.overwritten++;
	a->ring[(r->seq - 1) % a->cap] = *r;
	a->stats.recorded++;
	log_append(a, r);
	return true;
}

size_t hooks_audit_read(const struct hooks_state *hs, uint64_t from_seq,
			struct hooks_audit_record *out, size_t max)
{
	const struct hooks_audit *a;
	uint64_t seq, oldest;
	size_t n = 0;

	if (!hs || !out)
		return 0;
	a = &hs->audit;
	oldest = a->next_seq > a->cap ? a->next_seq - a->cap : 1;
	seq = from_seq > oldest ? from_seq : oldest;
	for (; seq < a->next_seq && n < max; seq++)
		out[n++] = a->ring[(seq - 1) % a->cap];
	return n;
}

uint64_t hooks_audit_next_seq(const struct hooks_state *hs)
{
	return hs ? hs->audit.next_seq : 1;
}

void hooks_audit_stats(const struct hooks_state *hs,
		       struct hooks_audit_stats *out)
{
	if (!out)
		return;
	*out = hs ? hs->audit.stats : (struct hooks_audit_stats){0};
}
