/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.c - audit records as JSON Lines and as text.
 *
 * One record is one JSON object on one line:
 *   {"seq":7,"time":"2025-01-01T12:00:00.000000123Z",
 *    "hook":"evtchn_bind_interdomain","decision":"deny","enforced":true,
 *    "subject":{"domid":3,"label":"Acme"},
 *    "object":{"domid":4,"label":"Globex"},
 *    "reason":"no shared type","detail":"'Acme' and 'Globex' have ...",
 *    "policy":"multi-tenant","generation":1,"suppressed":0}
 * A resource object is {"resource":"phy:/dev/vg/x","class":"disk",
 * "label":"GlobexDisk"}; a label the policy does not have is null.
 *
 * Strings come from policies (names the loader checked) and from the
 * toolstack (resource names, anything): every byte is escaped as JSON
 * requires, and bytes that are not UTF-8 become U+FFFD, so every line is
 * valid JSON.  The worst case (every byte six characters long) fits
 * HOOKS_JSON_MAX.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hooks/hooks_impl.h"

_Static_assert(6u * (3u * HOOKS_NAME_MAX + HOOKS_RESOURCE_MAX +
		     HOOKS_DETAIL_MAX) +
			       512u <=
		       HOOKS_JSON_MAX,
	       "a record's JSON always fits HOOKS_JSON_MAX");

/* An output buffer that counts what would have been written. */
struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->pos < o->len) {
		room = o->len - o->pos;
		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp,
		    (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0u) != 0x80u)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

static void put_json_string(struct out *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, max), i = 0, k;
	char esc[8];

	put(o, "\"", 1);
	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			put(o, esc, 2);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			put(o, esc, 6);
			i++;
		} else if ((k = utf8_len(p + i, n - i)) != 0) {
			put(o, s + i, k);
			i += k;
		} else {
			put(o, "\\ufffd", 6);
			i++;
		}
	}
	put(o, "\"", 1);
}

static void put_time(struct out *o, const struct timespec *ts)
{
	char tmp[40];
	struct tm tm;
	time_t t = ts->tv_sec;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(tmp, sizeof(tmp), "1970-01-01T00:00:00");
	puts_(o, tmp);
	putf(o, ".%09ldZ", (long)ts->tv_nsec);
}

static const char *class_name(enum hooks_res_class c)
{
	switch (c) {
	case HOOKS_RES_DISK:
		return "disk";
	case HOOKS_RES_VIF:
		return "vif";
	case HOOKS_RES_VTPM:
		return "vtpm";
	}
	return "resource";
}

static const char *reason_text(const struct hooks_audit_record *r)
{
	return r->reason == HOOKS_R_ENGINE ? acm_reason_name(r->acm_reason)
					   : hooks_reason_name(r->reason);
}

static void put_label(struct out *o, const struct hooks_audit_party *pt)
{
	puts_(o, "\"label\":");
	if (pt->label[0])
		put_json_string(o, pt->label, sizeof(pt->label));
	else
		puts_(o, "null");
}

static void put_party(struct out *o, const struct hooks_audit_party *pt)
{
	puts_(o, "{\"domid\":");
	if (pt->domid == HOOKS_DOMID_NONE)
		puts_(o, "null");
	else
		putf(o, "%" PRIu32, pt->domid);
	puts_(o, ",");
	put_label(o, pt);
	puts_(o, "}");
}

int hooks_audit_json(const struct hooks_audit_record *r, char *buf, size_t len)
{
	struct out o = {buf, len, 0};
	const struct hooks_hook_info *h = hooks_hook_info(r->hook);

	putf(&o, "{\"seq\":%" PRIu64 ",\"time\":\"", r->seq);
	put_time(&o, &r->time);
	puts_(&o, "\",\"hook\":");
	put_json_string(&o, h ? h->name : "unknown", HOOKS_NAME_MAX);
	putf(&o, ",\"decision\":\"%s\",\"enforced\":%s,\"subject\":",
	     r->decision == HOOKS_DENY ? "deny" : "permit",
	     r->enforced ? "true" : "false");
	put_party(&o, &r->subject);
	if (r->res_class) {
		puts_(&o, ",\"object\":{\"resource\":");
		put_json_string(&o, r->resource, sizeof(r->resource));
		putf(&o, ",\"class\":\"%s\",", class_name(r->res_class));
		put_label(&o, &r->object);
		puts_(&o, "}");
	} else if (r->has_object) {
		puts_(&o, ",\"object\":");
		put_party(&o, &r->object);
	}
	puts_(&o, ",\"reason\":");
	put_json_string(&o, reason_text(r), HOOKS_DETAIL_MAX);
	puts_(&o, ",\"detail\":");
	put_json_string(&o, r->detail, sizeof(r->detail));
	puts_(&o, ",\"policy\":");
	if (r->policy[0])
		put_json_string(&o, r->policy, sizeof(r->policy));
	else
		puts_(&o, "null");
	putf(&o, ",\"generation\":%" PRIu64 ",\"suppressed\":%" PRIu32 "}",
	     r->generation, r->suppressed);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos > INT32_MAX ? INT32_MAX : (int)o.pos;
}

/* Text for people stays one line: control characters become '?'. */
static void put_text(struct out *o, const char *s, size_t max)
{
	size_t i, n = strnlen(s, max);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		put(o, c < 0x20 || c == 0x7f ? "?" : s + i, 1);
	}
}

static void text_party(struct out *o, const struct hooks_audit_party *pt)
{
	if (pt->domid != HOOKS_DOMID_NONE)
		putf(o, "dom%" PRIu32 " ", pt->domid);
	puts_(o, "(");
	if (pt->label[0])
		put_text(o, pt->label, sizeof(pt->label));
	else
		puts_(o, "no label");
	puts_(o, ")");
}

int hooks_audit_text(const struct hooks_audit_record *r, char *buf, size_t len)
{
	struct out o = {buf, len, 0};
	const struct hooks_hook_info *h = hooks_hook_info(r->hook);

	put_time(&o, &r->time);
	putf(&o, " #%" PRIu64 " %s%s %s ", r->seq,
	     r->decision == HOOKS_DENY ? "DENY" : "permit",
	     r->decision == HOOKS_DENY && !r->enforced ? " (permissive)" : "",
	     h ? h->name : "unknown");
	text_party(&o, &r->subject);
	if (r->has_object) {
		puts_(&o, " -> ");
		if (r->res_class) {
			putf(&o, "%s ", class_name(r->res_class));
			put_text(&o, r->resource, sizeof(r->resource));
			puts_(&o, " ");
		}
		text_party(&o, &r->object);
	}
	puts_(&o, ": ");
	puts_(&o, reason_text(r));
	if (r->detail[0]) {
		puts_(&o, ": ");
		put_text(&o, r->detail, sizeof(r->detail));
	}
	if (r->policy[0]) {
		puts_(&o, " [policy ");
		put_text(&o, r->policy, sizeof(r->policy));
		putf(&o, " gen %" PRIu64 "]", r->generation);
	}
	if (r->suppressed)
		putf(&o, " (%" PRIu32 " identical suppressed)", r->suppressed);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos > INT32_MAX ? INT32_MAX : (int)o.pos;
}
