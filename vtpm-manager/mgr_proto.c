/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_proto.c - the vTPM manager's wire protocol (mgr_proto.h; the bytes
 * are specified in docs/formats.md §7): strict parsers and encoders of
 * requests and responses on the instance ring and the control socket.
 * The control client is in mgr_proto_ctl.c.
 *
 * Every parser reads through one cursor (struct cur) that carries its
 * bounds, checks a length before using it, never advances on failure and
 * names the op and the field of the first rule broken.  The encoders
 * check what they must to stay memory-safe and to avoid silent truncation
 * of a field, then hand their output to the parser: an encoder can never
 * produce a message the parser refuses, because the parser is the one
 * place the rules are written.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vtpm-instance/vtpm.h"
#include "vtpm-instance/vtpm_util.h"
#include "vtpm-manager/mgr_proto.h"
#include "vtpm-manager/mgr_ptpm.h"

/* The limits in mgr_proto.h are other modules' limits, restated so that a
 * peer can read the protocol from one header. */
static_assert(MGR_RING_MSG_MAX == VTPM_RING_MAX_PAYLOAD, "one ring page");
static_assert(MGR_NONCE_MAX == MGR_DEEPQ_NONCE_MAX, "deep quote nonce");
static_assert(MGR_NONCE_MAX <= UINT8_MAX && MGR_LIST_PAGE <= UINT8_MAX,
	      "u8 counts");
static_assert(MGR_BUNDLE_MAX <= UINT16_MAX && MGR_EK_CERT_MAX <= UINT16_MAX &&
		      MGR_MSG_MAX <= UINT16_MAX,
	      "u16 lengths");
static_assert(MGR_HDR_LEN + 2 + MGR_MSG_MAX <= MGR_RING_MSG_MAX,
	      "an error response fits the ring");

/* A LIST entry at its largest: a full page must fit one datagram. */
#define LIST_ENTRY_MAX                                                         \
	(2 * MGR_UUID_LEN + 1 + MGR_LABEL_MAX + 4 + 4 + 1 + 8 * MGR_STATE_NAMES)
static_assert(MGR_HDR_LEN + 9 + MGR_LIST_PAGE * LIST_ENTRY_MAX <=
		      MGR_CTL_MSG_MAX,
	      "a LIST page fits a control datagram");

#define PCR_MASK_ALL ((1u << MGR_PCR_MAX) - 1u)

/* ------------------------------------------------------------- names */

static const char *const rc_text[MGR_RC_COUNT_] = {
	[MGR_RC_OK] = "success",
	[MGR_RC_MALFORMED] = "malformed request",
	[MGR_RC_UNKNOWN_OP] = "unknown operation",
	[MGR_RC_DENIED] = "permission denied",
	[MGR_RC_NOT_FOUND] = "no such instance",
	[MGR_RC_EXISTS] = "instance already exists or is attached elsewhere",
	[MGR_RC_BINDING] = "domain uuid or label differ from the record",
	[MGR_RC_BUSY] = "instance busy (attached or open)",
	[MGR_RC_STATE] = "not allowed in the instance's current state",
	[MGR_RC_GENERATION] = "commit generation is not the next one",
	[MGR_RC_MIGRATED] = "instance migrated to another manager",
	[MGR_RC_DISABLED] = "instance disabled by the operator",
	[MGR_RC_STORAGE] = "root record commit failed (manager fails closed)",
	[MGR_RC_PLATFORM] = "platform TPM failure",
	[MGR_RC_INTERNAL] = "internal error",
	[MGR_RC_TOO_BIG] = "message too big",
	[MGR_RC_CORRUPT] = "bundle not authentic or not for this manager",
};

const char *mgr_rc_str(enum mgr_rc rc)
{
	if ((unsigned)rc >= MGR_RC_COUNT_ || !rc_text[rc])
		return "unknown error";
	return rc_text[rc];
}

struct op_info {
	uint32_t op;
	const char *name;
	enum mgr_channel ch;
};

static const struct op_info op_table[] = {
	{MGR_OP_OPEN, "OPEN", MGR_CH_INSTANCE},
	{MGR_OP_COMMIT, "COMMIT", MGR_CH_INSTANCE},
	{MGR_OP_PROVISION, "PROVISION", MGR_CH_INSTANCE},
	{MGR_OP_CLOSE, "CLOSE", MGR_CH_INSTANCE},
	{MGR_CTL_STATUS, "CTL_STATUS", MGR_CH_CONTROL},
	{MGR_CTL_ATTACH, "CTL_ATTACH", MGR_CH_CONTROL},
	{MGR_CTL_DETACH, "CTL_DETACH", MGR_CH_CONTROL},
	{MGR_CTL_DELETE, "CTL_DELETE", MGR_CH_CONTROL},
	{MGR_CTL_RESET, "CTL_RESET", MGR_CH_CONTROL},
	{MGR_CTL_LIST, "CTL_LIST", MGR_CH_CONTROL},
	{MGR_CTL_EXPORT, "CTL_EXPORT", MGR_CH_CONTROL},
	{MGR_CTL_IMPORT, "CTL_IMPORT", MGR_CH_CONTROL},
	{MGR_CTL_IDENTITY, "CTL_IDENTITY", MGR_CH_CONTROL},
	{MGR_CTL_DEEP_QUOTE, "CTL_DEEP_QUOTE", MGR_CH_CONTROL},
};

static const struct op_info *op_find(uint32_t op)
{
	for (size_t i = 0; i < sizeof(op_table) / sizeof(op_table[0]); i++)
		if (op_table[i].op == op)
			return &op_table[i];
	return NULL;
}

const char *mgr_op_str(uint32_t op)
{
	const struct op_info *oi = op_find(op);

	return oi ? oi->name : "?";
}

static const char *ch_name(enum mgr_channel ch)
{
	return ch == MGR_CH_INSTANCE ? "instance" : "control";
}

static size_t ch_max(enum mgr_channel ch)
{
	return ch == MGR_CH_INSTANCE ? MGR_RING_MSG_MAX : MGR_CTL_MSG_MAX;
}

/* ------------------------------------------------------ byte classes */

static bool is_print(uint8_t b)
{
	return b >= 0x20 && b <= 0x7e;
}

static bool all_print(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_print(s[i]))
			return false;
	return true;
}

static bool all_zero(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i])
			return false;
	return true;
}

/* An ACM label name, the rule of mgr_root_add and the policy compiler:
 * no control character, no ':' (full labels are ACM:<policy>:<label>).
 * The index of the first bad byte, or n. */
static size_t label_bad_at(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ':')
			return i;
	return n;
}

/* ------------------------------------------------------------- cursor */

/* Bounded reader over one message.  what names the message ("COMMIT",
 * "CTL_LIST response") and item the repeated element being read ("ek[1]
 * ", "entry[3] "), so every message says where it went wrong. */
struct cur {
	const uint8_t *p;
	size_t len, off;
	const char *what;
	char item[24];
	char *why;
	size_t why_len;
};

static enum mgr_rc fail(struct cur *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum mgr_rc fail(struct cur *c, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vtpm_set_why(c->why, c->why_len, "%s: %s%s", c->what, c->item, msg);
	return MGR_RC_MALFORMED;
}

static size_t left(const struct cur *c)
{
	return c->len - c->off;
}

static const uint8_t *take(struct cur *c, size_t n, const char *field)
{
	const uint8_t *r;

	if (n > left(c)) {
		fail(c, "truncated in %s (%zu bytes needed, %zu left)", field,
		     n, left(c));
		return NULL;
	}
	r = c->p + c->off;
	c->off += n;
	return r;
}

static bool rd_u8(struct cur *c, const char *field, uint8_t *v)
{
	const uint8_t *p = take(c, 1, field);

	if (p)
		*v = p[0];
	return p != NULL;
}

static bool rd_u16(struct cur *c, const char *field, uint16_t *v)
{
	const uint8_t *p = take(c, 2, field);

	if (p)
		*v = vtpm_get_be16(p);
	return p != NULL;
}

static bool rd_u32(struct cur *c, const char *field, uint32_t *v)
{
	const uint8_t *p = take(c, 4, field);

	if (p)
		*v = vtpm_get_be32(p);
	return p != NULL;
}

static bool rd_u64(struct cur *c, const char *field, uint64_t *v)
{
	const uint8_t *p = take(c, 8, field);

	if (p)
		*v = (uint64_t)vtpm_get_be32(p) << 32 | vtpm_get_be32(p + 4);
	return p != NULL;
}

static bool rd_copy(struct cur *c, const char *field, void *dst, size_t n)
{
	const uint8_t *p = take(c, n, field);

	if (p)
		memcpy(dst, p, n);
	return p != NULL;
}

static bool rd_uuid(struct cur *c, const char *field, struct mgr_uuid *u)
{
	return rd_copy(c, field, u->b, MGR_UUID_LEN);
}

/* A u8 that must be 0 or 1. */
static bool rd_bool(struct cur *c, const char *field, bool *v)
{
	uint8_t b;

	if (!rd_u8(c, field, &b))
		return false;
	if (b > 1) {
		fail(c, "%s %u is not 0 or 1", field, b);
		return false;
	}
	*v = b;
	return true;
}

/* A u16 length in [1, max], then that many bytes (borrowed). */
static bool rd_blob16(struct cur *c, const char *field, uint32_t max,
		      struct mgr_blob_ref *out)
{
	uint16_t n;
	const uint8_t *p;

	if (!rd_u16(c, field, &n))
		return false;
	if (n < 1 || n > max) {
		fail(c, "%s length %u is not 1..%u", field, n, max);
		return false;
	}
	p = take(c, n, field);
	if (!p)
		return false;
	out->data = p;
	out->len = n;
	return true;
}

/* A u8 length in [1, MGR_LABEL_MAX] and an ACM label name. */
static bool rd_label(struct cur *c, char out[MGR_LABEL_MAX + 1])
{
	const uint8_t *p;
	uint8_t n;
	size_t bad;

	if (!rd_u8(c, "label", &n))
		return false;
	if (n < 1) {
		fail(c, "label is empty");
		return false;
	}
	p = take(c, n, "label");
	if (!p)
		return false;
	bad = label_bad_at(p, n);
	if (bad < n) {
		fail(c, "label byte %zu (0x%02x) is a control character or ':'",
		     bad, p[bad]);
		return false;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static enum mgr_rc no_trailing(struct cur *c)
{
	if (left(c))
		return fail(c, "%zu trailing bytes after the last field",
			    left(c));
	return MGR_RC_OK;
}

/* The 10-byte header common to requests and responses: channel limit,
 * length, magic, size.  *word (op or rc) is set whenever the header is
 * there to read, even if it breaks a rule. */
static enum mgr_rc rd_hdr(enum mgr_channel ch, const uint8_t *buf, size_t len,
			  const char *kind, uint32_t *word, char *why,
			  size_t why_len)
{
	uint16_t magic;
	uint32_t size;

	if (ch != MGR_CH_INSTANCE && ch != MGR_CH_CONTROL) {
		vtpm_set_why(why, why_len, "unknown channel %d", (int)ch);
		return MGR_RC_INTERNAL;
	}
	if (!buf && len) {
		vtpm_set_why(why, why_len, "no buffer");
		return MGR_RC_INTERNAL;
	}
	if (len >= MGR_HDR_LEN)
		*word = vtpm_get_be32(buf + 6);
	if (len > ch_max(ch)) {
		vtpm_set_why(why, why_len,
			     "%s of %zu bytes exceeds the %s channel's %zu",
			     kind, len, ch_name(ch), ch_max(ch));
		return MGR_RC_TOO_BIG;
	}
	if (len < MGR_HDR_LEN) {
		vtpm_set_why(why, why_len,
			     "%s of %zu bytes is shorter than the %u-byte "
			     "header",
			     kind, len, MGR_HDR_LEN);
		return MGR_RC_MALFORMED;
	}
	magic = vtpm_get_be16(buf);
	if (magic != MGR_MAGIC) {
		vtpm_set_why(why, why_len, "%s magic 0x%04x is not 0x%04x",
			     kind, magic, MGR_MAGIC);
		return MGR_RC_MALFORMED;
	}
	size = vtpm_get_be32(buf + 2);
	if (size != len) {
		vtpm_set_why(why, why_len,
			     "%s size field %u differs from its length %zu",
			     kind, size, len);
		return MGR_RC_MALFORMED;
	}
	return MGR_RC_OK;
}

/* ------------------------------------------------------ request params */

static enum mgr_rc parse_open(struct cur *c, struct mgr_req *r)
{
	uint32_t flags;

	if (!rd_uuid(c, "uuid", &r->u.open.uuid) || !rd_u32(c, "flags", &flags))
		return MGR_RC_MALFORMED;
	if (flags & ~MGR_OPEN_F_ALL)
		return fail(c, "flags 0x%x has unknown bits 0x%x", flags,
			    flags & ~MGR_OPEN_F_ALL);
	r->u.open.flags = flags;
	return MGR_RC_OK;
}

static enum mgr_rc parse_commit(struct cur *c, struct mgr_req *r)
{
	uint8_t name;

	if (!rd_u8(c, "name", &name))
		return MGR_RC_MALFORMED;
	if (name < MGR_STATE_PERMALL || name > MGR_STATE_SAVESTATE)
		return fail(c, "name %u is not 1..3", name);
	r->u.commit.name = (enum mgr_state_name)name;
	if (!rd_bool(c, "present", &r->u.commit.present) ||
	    !rd_u64(c, "generation", &r->u.commit.generation) ||
	    !rd_copy(c, "tag", r->u.commit.tag, MGR_TAG_LEN))
		return MGR_RC_MALFORMED;
	if (!r->u.commit.present && !all_zero(r->u.commit.tag, MGR_TAG_LEN))
		return fail(c, "tag is not all zero with present 0");
	return MGR_RC_OK;
}

/* count u8 (1..MGR_EK_MAX), count x {kind u8, len u16 (1..max), bytes},
 * each kind at most once: EK publics in a request, certificates in its
 * response. */
static enum mgr_rc parse_ek_list(struct cur *c, uint32_t max, uint8_t *count,
				 struct mgr_ek_item *ek)
{
	unsigned seen = 0;
	uint8_t n, kind;

	if (!rd_u8(c, "count", &n))
		return MGR_RC_MALFORMED;
	if (n < 1 || n > MGR_EK_MAX)
		return fail(c, "count %u is not 1..%u", n, MGR_EK_MAX);
	for (unsigned i = 0; i < n; i++) {
		snprintf(c->item, sizeof(c->item), "ek[%u] ", i);
		if (!rd_u8(c, "kind", &kind))
			return MGR_RC_MALFORMED;
		if (kind != MGR_EK_RSA2048 && kind != MGR_EK_ECC_P256)
			return fail(c,
				    "kind %u is not 1 (RSA-2048) or 2 "
				    "(ECC P-256)",
				    kind);
		if (seen & (1u << kind))
			return fail(c, "kind %u appears twice", kind);
		seen |= 1u << kind;
		ek[i].kind = (enum mgr_ek_kind)kind;
		if (!rd_blob16(c, "data", max, &ek[i].data))
			return MGR_RC_MALFORMED;
	}
	c->item[0] = '\0';
	*count = n;
	return MGR_RC_OK;
}

static enum mgr_rc parse_tpm_info(struct cur *c, struct mgr_tpm_info *info)
{
	uint8_t fam[4], vlen;
	const uint8_t *v;
	size_t i;

	if (!rd_u32(c, "manufacturer", &info->manufacturer) ||
	    !rd_u32(c, "firmware_version1", &info->firmware_version1) ||
	    !rd_u32(c, "firmware_version2", &info->firmware_version2) ||
	    !rd_copy(c, "family", fam, sizeof(fam)))
		return MGR_RC_MALFORMED;
	/* Printable, then NUL padding only: the decoded string must give
	 * back the same four bytes. */
	for (i = 0; i < sizeof(fam) && fam[i]; i++)
		if (!is_print(fam[i]))
			return fail(c,
				    "family byte %zu (0x%02x) is not "
				    "printable",
				    i, fam[i]);
	if (!all_zero(fam + i, sizeof(fam) - i))
		return fail(c, "family has a byte after its NUL padding");
	memcpy(info->family, fam, i);
	info->family[i] = '\0';
	if (!rd_u32(c, "level", &info->level) ||
	    !rd_u32(c, "revision", &info->revision) ||
	    !rd_u8(c, "vendor", &vlen))
		return MGR_RC_MALFORMED;
	if (vlen > MGR_VENDOR_MAX)
		return fail(c, "vendor length %u is over %u", vlen,
			    MGR_VENDOR_MAX);
	v = take(c, vlen, "vendor");
	if (!v)
		return MGR_RC_MALFORMED;
	if (!all_print(v, vlen))
		return fail(c, "vendor is not printable ASCII");
	memcpy(info->vendor, v, vlen);
	info->vendor[vlen] = '\0';
	return MGR_RC_OK;
}

static enum mgr_rc parse_provision(struct cur *c, struct mgr_req *r)
{
	enum mgr_rc rc;

	rc = parse_ek_list(c, MGR_EK_PUBLIC_MAX, &r->u.provision.count,
			   r->u.provision.ek);
	if (rc)
		return rc;
	return parse_tpm_info(c, &r->u.provision.info);
}

static enum mgr_rc parse_attach(struct cur *c, struct mgr_req *r)
{
	uint32_t flags, domid;

	if (!rd_uuid(c, "uuid", &r->u.attach.uuid) ||
	    !rd_uuid(c, "domain", &r->u.attach.domain) ||
	    !rd_label(c, r->u.attach.label) || !rd_u32(c, "flags", &flags))
		return MGR_RC_MALFORMED;
	if (flags & ~MGR_OPEN_F_ALL)
		return fail(c, "flags 0x%x has unknown bits 0x%x", flags,
			    flags & ~MGR_OPEN_F_ALL);
	r->u.attach.flags = flags;
	if (!rd_u32(c, "stub_domid", &domid))
		return MGR_RC_MALFORMED;
	if (domid == MGR_NO_DOMID)
		return fail(c, "stub_domid 0x%x is the 'no domain' value",
			    domid);
	r->u.attach.stub_domid = domid;
	if (!rd_bool(c, "create", &r->u.attach.create))
		return MGR_RC_MALFORMED;
	return MGR_RC_OK;
}

static enum mgr_rc parse_deep_quote(struct cur *c, struct mgr_req *r)
{
	uint8_t n;
	uint32_t mask;

	if (!rd_uuid(c, "uuid", &r->u.deep_quote.uuid) ||
	    !rd_blob16(c, "ek_public", MGR_EK_PUBLIC_MAX,
		       &r->u.deep_quote.ek_public) ||
	    !rd_u8(c, "nonce", &n))
		return MGR_RC_MALFORMED;
	if (n > MGR_NONCE_MAX)
		return fail(c, "nonce length %u is over %u", n, MGR_NONCE_MAX);
	if (!rd_copy(c, "nonce", r->u.deep_quote.nonce, n))
		return MGR_RC_MALFORMED;
	r->u.deep_quote.nonce_len = n;
	if (!rd_u32(c, "pcr_mask", &mask))
		return MGR_RC_MALFORMED;
	if (!mask)
		return fail(c, "pcr_mask is zero");
	if (mask & ~PCR_MASK_ALL)
		return fail(c, "pcr_mask 0x%x names PCRs above 23", mask);
	r->u.deep_quote.pcr_mask = mask;
	return MGR_RC_OK;
}

static enum mgr_rc parse_req_params(struct cur *c, struct mgr_req *r)
{
	switch (r->op) {
	case MGR_OP_OPEN:
		return parse_open(c, r);
	case MGR_OP_COMMIT:
		return parse_commit(c, r);
	case MGR_OP_PROVISION:
		return parse_provision(c, r);
	case MGR_CTL_ATTACH:
		return parse_attach(c, r);
	case MGR_CTL_DETACH:
	case MGR_CTL_DELETE:
	case MGR_CTL_RESET:
		return rd_uuid(c, "uuid", &r->u.target.uuid) ? MGR_RC_OK
							     : MGR_RC_MALFORMED;
	case MGR_CTL_LIST:
		return rd_u32(c, "start", &r->u.list.start) ? MGR_RC_OK
							    : MGR_RC_MALFORMED;
	case MGR_CTL_EXPORT:
		return rd_uuid(c, "uuid", &r->u.export_.uuid) &&
				       rd_blob16(c, "dest_pubkey",
						 MGR_PUBKEY_MAX,
						 &r->u.export_.dest_pubkey)
			       ? MGR_RC_OK
			       : MGR_RC_MALFORMED;
	case MGR_CTL_IMPORT:
		return rd_blob16(c, "bundle", MGR_BUNDLE_MAX,
				 &r->u.import.bundle)
			       ? MGR_RC_OK
			       : MGR_RC_MALFORMED;
	case MGR_CTL_DEEP_QUOTE:
		return parse_deep_quote(c, r);
	default: /* CLOSE, STATUS, IDENTITY: no params */
		return MGR_RC_OK;
	}
}

enum mgr_rc mgr_req_parse(enum mgr_channel ch, const uint8_t *buf, size_t len,
			  struct mgr_req *out, char *why, size_t why_len)
{
	const struct op_info *oi;
	struct cur c = {.p = buf, .len = len, .why = why, .why_len = why_len};
	enum mgr_rc rc;
	uint32_t op = 0;

	vtpm_set_why(why, why_len, "%s", "");
	if (!out) {
		vtpm_set_why(why, why_len, "no output");
		return MGR_RC_INTERNAL;
	}
	memset(out, 0, sizeof(*out));
	rc = rd_hdr(ch, buf, len, "request", &op, why, why_len);
	out->op = op;
	if (rc)
		return rc;
	oi = op_find(op);
	if (!oi || oi->ch != ch) {
		vtpm_set_why(why, why_len,
			     "op 0x%04x (%s) is not an op of the %s channel",
			     op, mgr_op_str(op), ch_name(ch));
		return MGR_RC_UNKNOWN_OP;
	}
	c.off = MGR_HDR_LEN;
	c.what = oi->name;
	rc = parse_req_params(&c, out);
	if (!rc)
		rc = no_trailing(&c);
	return rc;
}

/* ------------------------------------------------------------- writer */

/* Bounded writer: the first overflow or unencodable value makes it bad
 * and every later put a no-op. */
struct wr {
	uint8_t *p;
	size_t cap, off;
	bool bad;
};

static void put(struct wr *w, const void *src, size_t n)
{
	if (w->bad || n > w->cap - w->off) {
		w->bad = true;
		return;
	}
	if (n)
		memcpy(w->p + w->off, src, n);
	w->off += n;
}

/* Values wider than their field are refused, never truncated. */
static void put_u8(struct wr *w, uint64_t v)
{
	uint8_t b = (uint8_t)v;

	w->bad |= v > UINT8_MAX;
	put(w, &b, 1);
}

static void put_u16(struct wr *w, uint64_t v)
{
	uint8_t b[2];

	w->bad |= v > UINT16_MAX;
	vtpm_put_be16(b, (uint16_t)v);
	put(w, b, 2);
}

static void put_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4];

	vtpm_put_be32(b, v);
	put(w, b, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
	uint8_t b[8];

	vtpm_put_be32(b, (uint32_t)(v >> 32));
	vtpm_put_be32(b + 4, (uint32_t)v);
	put(w, b, 8);
}

static void put_uuid(struct wr *w, const struct mgr_uuid *u)
{
	put(w, u->b, MGR_UUID_LEN);
}

static void put_blob16(struct wr *w, const struct mgr_blob_ref *b)
{
	w->bad |= b->len > 0 && !b->data;
	put_u16(w, b->len);
	if (!w->bad)
		put(w, b->data, b->len);
}

/* A NUL-terminated string of at most max bytes (within an array of
 * max + 1) with a u8 length. */
static void put_str8(struct wr *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	w->bad |= n > max;
	put_u8(w, n);
	if (!w->bad)
		put(w, s, n);
}

static void put_hdr(struct wr *w, uint32_t word)
{
	put_u16(w, MGR_MAGIC);
	put_u32(w, 0); /* size, set by finish() */
	put_u32(w, word);
}

static size_t finish(struct wr *w)
{
	if (w->bad || w->off > UINT32_MAX)
		return 0;
	vtpm_put_be32(w->p + 2, (uint32_t)w->off);
	return w->off;
}

/* ---------------------------------------------------- request encoder */

static void put_ek_list(struct wr *w, uint8_t count,
			const struct mgr_ek_item *ek)
{
	w->bad |= count > MGR_EK_MAX;
	put_u8(w, count);
	for (unsigned i = 0; !w->bad && i < count; i++) {
		put_u8(w, (uint32_t)ek[i].kind);
		put_blob16(w, &ek[i].data);
	}
}

static void put_tpm_info(struct wr *w, const struct mgr_tpm_info *info)
{
	uint8_t fam[4] = {0};
	size_t n = strnlen(info->family, sizeof(info->family));

	w->bad |= n > sizeof(fam);
	if (!w->bad)
		memcpy(fam, info->family, n);
	put_u32(w, info->manufacturer);
	put_u32(w, info->firmware_version1);
	put_u32(w, info->firmware_version2);
	put(w, fam, sizeof(fam));
	put_u32(w, info->level);
	put_u32(w, info->revision);
	put_str8(w, info->vendor, MGR_VENDOR_MAX);
}

static void put_req_params(struct wr *w, const struct mgr_req *r)
{
	switch (r->op) {
	case MGR_OP_OPEN:
		put_uuid(w, &r->u.open.uuid);
		put_u32(w, r->u.open.flags);
		break;
	case MGR_OP_COMMIT:
		put_u8(w, (uint32_t)r->u.commit.name);
		put_u8(w, r->u.commit.present);
		put_u64(w, r->u.commit.generation);
		put(w, r->u.commit.tag, MGR_TAG_LEN);
		break;
	case MGR_OP_PROVISION:
		put_ek_list(w, r->u.provision.count, r->u.provision.ek);
		put_tpm_info(w, &r->u.provision.info);
		break;
	case MGR_CTL_ATTACH:
		put_uuid(w, &r->u.attach.uuid);
		put_uuid(w, &r->u.attach.domain);
		put_str8(w, r->u.attach.label, MGR_LABEL_MAX);
		put_u32(w, r->u.attach.flags);
		put_u32(w, r->u.attach.stub_domid);
		put_u8(w, r->u.attach.create);
		break;
	case MGR_CTL_DETACH:
	case MGR_CTL_DELETE:
	case MGR_CTL_RESET:
		put_uuid(w, &r->u.target.uuid);
		break;
	case MGR_CTL_LIST:
		put_u32(w, r->u.list.start);
		break;
	case MGR_CTL_EXPORT:
		put_uuid(w, &r->u.export_.uuid);
		put_blob16(w, &r->u.export_.dest_pubkey);
		break;
	case MGR_CTL_IMPORT:
		put_blob16(w, &r->u.import.bundle);
		break;
	case MGR_CTL_DEEP_QUOTE:
		put_uuid(w, &r->u.deep_quote.uuid);
		put_blob16(w, &r->u.deep_quote.ek_public);
		w->bad |= r->u.deep_quote.nonce_len > MGR_NONCE_MAX;
		put_u8(w, r->u.deep_quote.nonce_len);
		if (!w->bad)
			put(w, r->u.deep_quote.nonce,
			    r->u.deep_quote.nonce_len);
		put_u32(w, r->u.deep_quote.pcr_mask);
		break;
	default: /* CLOSE, STATUS, IDENTITY */
		break;
	}
}

size_t mgr_req_encode(const struct mgr_req *req, uint8_t *buf, size_t cap)
{
	const struct op_info *oi = req ? op_find(req->op) : NULL;
	struct wr w = {.p = buf, .cap = cap, .bad = !buf || !oi};
	struct mgr_req check;
	size_t n;

	if (w.bad)
		return 0;
	put_hdr(&w, req->op);
	put_req_params(&w, req);
	n = finish(&w);
	/* The parser is where the rules live (see the top of the file). */
	if (!n || mgr_req_parse(oi->ch, buf, n, &check, NULL, 0) != MGR_RC_OK)
		return 0;
	return n;
}

/* ----------------------------------------------------- response params */

static enum mgr_rc parse_rsp_open(struct cur *c, struct mgr_rsp *r)
{
	uint32_t status, flags;

	if (!rd_u32(c, "status", &status))
		return MGR_RC_MALFORMED;
	if (status != MGR_OPEN_NEW && status != MGR_OPEN_EXISTING)
		return fail(c, "status %u is not 1 (NEW) or 2 (EXISTING)",
			    status);
	r->u.open.status = (enum mgr_open_status)status;
	if (!rd_u32(c, "flags", &flags))
		return MGR_RC_MALFORMED;
	if (flags & ~MGR_INST_F_ALL)
		return fail(c, "flags 0x%x has unknown bits 0x%x", flags,
			    flags & ~MGR_INST_F_ALL);
	r->u.open.flags = flags;
	if (!rd_copy(c, "key", r->u.open.key, MGR_KEY_LEN))
		return MGR_RC_MALFORMED;
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++) {
		struct mgr_state_ref *s = &r->u.open.ref[i];

		snprintf(c->item, sizeof(c->item), "ref[%u] ", i);
		if (!rd_u64(c, "generation", &s->generation) ||
		    !rd_copy(c, "tag", s->tag, MGR_TAG_LEN) ||
		    !rd_bool(c, "present", &s->present))
			return MGR_RC_MALFORMED;
		/* The root record's rule (formats.md §6.2). */
		if (s->present && !s->generation)
			return fail(c, "present with generation 0");
		if (!s->present && !all_zero(s->tag, MGR_TAG_LEN))
			return fail(c, "tag is not all zero with present 0");
	}
	c->item[0] = '\0';
	return MGR_RC_OK;
}

static enum mgr_rc parse_rsp_status(struct cur *c, struct mgr_rsp *r)
{
	if (!rd_uuid(c, "manager", &r->u.status.manager) ||
	    !rd_u64(c, "root_generation", &r->u.status.root_generation) ||
	    !rd_u64(c, "counter", &r->u.status.counter) ||
	    !rd_u32(c, "nv_index", &r->u.status.nv_index) ||
	    !rd_u32(c, "pcr_mask", &r->u.status.pcr_mask))
		return MGR_RC_MALFORMED;
	if (r->u.status.pcr_mask & ~PCR_MASK_ALL)
		return fail(c, "pcr_mask 0x%x names PCRs above 23",
			    r->u.status.pcr_mask);
	if (!rd_u32(c, "instances", &r->u.status.instances) ||
	    !rd_u32(c, "attached", &r->u.status.attached) ||
	    !rd_u32(c, "open", &r->u.status.open) ||
	    !rd_u64(c, "commits", &r->u.status.commits) ||
	    !rd_u64(c, "commit_batches", &r->u.status.commit_batches))
		return MGR_RC_MALFORMED;
	return MGR_RC_OK;
}

static enum mgr_rc parse_list_entry(struct cur *c, struct mgr_list_entry *e)
{
	uint32_t flags;

	if (!rd_uuid(c, "uuid", &e->uuid) ||
	    !rd_uuid(c, "domain", &e->domain) || !rd_label(c, e->label) ||
	    !rd_u32(c, "flags", &flags))
		return MGR_RC_MALFORMED;
	if (flags & ~MGR_INST_F_ALL)
		return fail(c, "flags 0x%x has unknown bits 0x%x", flags,
			    flags & ~MGR_INST_F_ALL);
	e->flags = flags;
	if (!rd_u32(c, "stub_domid", &e->stub_domid) ||
	    !rd_bool(c, "open", &e->open))
		return MGR_RC_MALFORMED;
	for (unsigned s = 0; s < MGR_STATE_NAMES; s++)
		if (!rd_u64(c, "generation", &e->generation[s]))
			return MGR_RC_MALFORMED;
	return MGR_RC_OK;
}

static enum mgr_rc parse_rsp_list(struct cur *c, struct mgr_rsp *r)
{
	enum mgr_rc rc;
	uint8_t n;

	if (!rd_u32(c, "total", &r->u.list.total) ||
	    !rd_u32(c, "next", &r->u.list.next) || !rd_u8(c, "count", &n))
		return MGR_RC_MALFORMED;
	if (n > MGR_LIST_PAGE)
		return fail(c, "count %u is over %u", n, MGR_LIST_PAGE);
	for (unsigned i = 0; i < n; i++) {
		snprintf(c->item, sizeof(c->item), "entry[%u] ", i);
		rc = parse_list_entry(c, &r->u.list.entry[i]);
		if (rc)
			return rc;
	}
	c->item[0] = '\0';
	r->u.list.count = n;
	return MGR_RC_OK;
}

static enum mgr_rc parse_rsp_params(struct cur *c, struct mgr_rsp *r)
{
	switch (r->op) {
	case MGR_OP_OPEN:
		return parse_rsp_open(c, r);
	case MGR_OP_PROVISION:
		return parse_ek_list(c, MGR_EK_CERT_MAX, &r->u.provision.count,
				     r->u.provision.cert);
	case MGR_CTL_ATTACH:
		return rd_bool(c, "created", &r->u.attach.created)
			       ? MGR_RC_OK
			       : MGR_RC_MALFORMED;
	case MGR_CTL_STATUS:
		return parse_rsp_status(c, r);
	case MGR_CTL_LIST:
		return parse_rsp_list(c, r);
	case MGR_CTL_EXPORT:
		return rd_blob16(c, "bundle", MGR_BUNDLE_MAX,
				 &r->u.export_.bundle)
			       ? MGR_RC_OK
			       : MGR_RC_MALFORMED;
	case MGR_CTL_IMPORT:
		return rd_uuid(c, "uuid", &r->u.import.uuid) ? MGR_RC_OK
							     : MGR_RC_MALFORMED;
	case MGR_CTL_IDENTITY:
		return rd_uuid(c, "manager", &r->u.identity.manager) &&
				       rd_blob16(c, "pubkey", MGR_PUBKEY_MAX,
						 &r->u.identity.pubkey) &&
				       rd_blob16(c, "ca_cert", UINT16_MAX,
						 &r->u.identity.ca_cert)
			       ? MGR_RC_OK
			       : MGR_RC_MALFORMED;
	case MGR_CTL_DEEP_QUOTE:
		return rd_blob16(c, "attest", MGR_QUOTE_PART_MAX,
				 &r->u.deep_quote.attest) &&
				       rd_blob16(c, "sig", MGR_QUOTE_PART_MAX,
						 &r->u.deep_quote.sig) &&
				       rd_blob16(c, "ak_public",
						 MGR_QUOTE_PART_MAX,
						 &r->u.deep_quote.ak_public)
			       ? MGR_RC_OK
			       : MGR_RC_MALFORMED;
	default: /* COMMIT, CLOSE, DETACH, DELETE, RESET: nothing */
		return MGR_RC_OK;
	}
}

static enum mgr_rc parse_rsp_error(struct cur *c, struct mgr_rsp *r)
{
	const uint8_t *m;
	uint16_t n;

	if (!rd_u16(c, "message", &n))
		return MGR_RC_MALFORMED;
	if (n > MGR_MSG_MAX)
		return fail(c, "message length %u is over %u", n, MGR_MSG_MAX);
	m = take(c, n, "message");
	if (!m)
		return MGR_RC_MALFORMED;
	for (unsigned i = 0; i < n; i++)
		if (!is_print(m[i]))
			return fail(c,
				    "message byte %u (0x%02x) is not "
				    "printable",
				    i, m[i]);
	memcpy(r->msg, m, n);
	r->msg[n] = '\0';
	return MGR_RC_OK;
}

enum mgr_rc mgr_rsp_parse(enum mgr_channel ch, const uint8_t *buf, size_t len,
			  struct mgr_rsp *rsp, char *why, size_t why_len)
{
	const struct op_info *oi;
	struct cur c = {.p = buf, .len = len, .why = why, .why_len = why_len};
	char what[32];
	enum mgr_rc rc;
	uint32_t op, word = 0;

	vtpm_set_why(why, why_len, "%s", "");
	if (!rsp) {
		vtpm_set_why(why, why_len, "no output");
		return MGR_RC_INTERNAL;
	}
	op = rsp->op;
	memset(rsp, 0, sizeof(*rsp));
	rsp->op = op;
	rsp->rc = MGR_RC_INTERNAL; /* until the bytes say otherwise */
	rc = rd_hdr(ch, buf, len, "response", &word, why, why_len);
	if (rc)
		return rc;
	oi = op_find(op);
	snprintf(what, sizeof(what), "%s response", mgr_op_str(op));
	c.what = what;
	c.off = MGR_HDR_LEN;
	if (word >= MGR_RC_COUNT_)
		return fail(&c, "rc %u is not a known code", word);
	if (word != MGR_RC_OK) {
		/* An error answers any op, even one the peer did not know. */
		rc = parse_rsp_error(&c, rsp);
	} else if (!oi || oi->ch != ch) {
		return fail(&c, "op 0x%04x is not an op of the %s channel", op,
			    ch_name(ch));
	} else {
		rc = parse_rsp_params(&c, rsp);
	}
	if (!rc)
		rc = no_trailing(&c);
	if (!rc)
		rsp->rc = (enum mgr_rc)word;
	return rc;
}

/* --------------------------------------------------- response encoder */

/* header, rc, message: non-printable bytes become '?', cut at
 * MGR_MSG_MAX. */
static size_t put_error(enum mgr_rc rc, const char *msg, uint8_t *buf,
			size_t cap)
{
	struct wr w = {.p = buf, .cap = cap, .bad = !buf};
	uint8_t text[MGR_MSG_MAX];
	size_t n = msg ? strnlen(msg, MGR_MSG_MAX) : 0;

	if (rc == MGR_RC_OK || (unsigned)rc >= MGR_RC_COUNT_)
		return 0;
	for (size_t i = 0; i < n; i++)
		text[i] = is_print((uint8_t)msg[i]) ? (uint8_t)msg[i] : '?';
	put_hdr(&w, (uint32_t)rc);
	put_u16(&w, n);
	put(&w, text, n);
	return finish(&w);
}

static void put_rsp_params(struct wr *w, const struct mgr_rsp *r)
{
	switch (r->op) {
	case MGR_OP_OPEN:
		put_u32(w, (uint32_t)r->u.open.status);
		put_u32(w, r->u.open.flags);
		put(w, r->u.open.key, MGR_KEY_LEN);
		for (unsigned i = 0; i < MGR_STATE_NAMES; i++) {
			put_u64(w, r->u.open.ref[i].generation);
			put(w, r->u.open.ref[i].tag, MGR_TAG_LEN);
			put_u8(w, r->u.open.ref[i].present);
		}
		break;
	case MGR_OP_PROVISION:
		put_ek_list(w, r->u.provision.count, r->u.provision.cert);
		break;
	case MGR_CTL_ATTACH:
		put_u8(w, r->u.attach.created);
		break;
	case MGR_CTL_STATUS:
		put_uuid(w, &r->u.status.manager);
		put_u64(w, r->u.status.root_generation);
		put_u64(w, r->u.status.counter);
		put_u32(w, r->u.status.nv_index);
		put_u32(w, r->u.status.pcr_mask);
		put_u32(w, r->u.status.instances);
		put_u32(w, r->u.status.attached);
		put_u32(w, r->u.status.open);
		put_u64(w, r->u.status.commits);
		put_u64(w, r->u.status.commit_batches);
		break;
	case MGR_CTL_LIST:
		put_u32(w, r->u.list.total);
		put_u32(w, r->u.list.next);
		w->bad |= r->u.list.count > MGR_LIST_PAGE;
		put_u8(w, r->u.list.count);
		for (unsigned i = 0; !w->bad && i < r->u.list.count; i++) {
			const struct mgr_list_entry *e = &r->u.list.entry[i];

			put_uuid(w, &e->uuid);
			put_uuid(w, &e->domain);
			put_str8(w, e->label, MGR_LABEL_MAX);
			put_u32(w, e->flags);
			put_u32(w, e->stub_domid);
			put_u8(w, e->open);
			for (unsigned s = 0; s < MGR_STATE_NAMES; s++)
				put_u64(w, e->generation[s]);
		}
		break;
	case MGR_CTL_EXPORT:
		put_blob16(w, &r->u.export_.bundle);
		break;
	case MGR_CTL_IMPORT:
		put_uuid(w, &r->u.import.uuid);
		break;
	case MGR_CTL_IDENTITY:
		put_uuid(w, &r->u.identity.manager);
		put_blob16(w, &r->u.identity.pubkey);
		put_blob16(w, &r->u.identity.ca_cert);
		break;
	case MGR_CTL_DEEP_QUOTE:
		put_blob16(w, &r->u.deep_quote.attest);
		put_blob16(w, &r->u.deep_quote.sig);
		put_blob16(w, &r->u.deep_quote.ak_public);
		break;
	default: /* COMMIT, CLOSE, DETACH, DELETE, RESET */
		break;
	}
}

/* The parser's verdict on an encoded response (a LIST page decodes to
 * ~21 KiB of stack, once per encode). */
static bool rsp_valid(enum mgr_channel ch, const uint8_t *buf, size_t n,
		      uint32_t op)
{
	struct mgr_rsp check;

	check.op = op;
	return mgr_rsp_parse(ch, buf, n, &check, NULL, 0) == MGR_RC_OK;
}

size_t mgr_rsp_encode(const struct mgr_rsp *rsp, uint8_t *buf, size_t cap)
{
	const struct op_info *oi;
	struct wr w = {.p = buf, .cap = cap, .bad = !buf};
	size_t n;

	if (!rsp || !buf)
		return 0;
	if (rsp->rc != MGR_RC_OK)
		return put_error(rsp->rc, rsp->msg, buf, cap);
	oi = op_find(rsp->op);
	if (!oi)
		return 0;
	put_hdr(&w, MGR_RC_OK);
	put_rsp_params(&w, rsp);
	n = finish(&w);
	if (!n || !rsp_valid(oi->ch, buf, n, rsp->op))
		return 0;
	return n;
}

size_t mgr_rsp_error(uint32_t op, enum mgr_rc rc, uint8_t *buf, size_t cap,
		     const char *fmt, ...)
{
	char msg[MGR_MSG_MAX + 1] = "";
	va_list ap;

	(void)op; /* not on the wire: the peer knows what it asked */
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	return put_error(rc, msg, buf, cap);
}
