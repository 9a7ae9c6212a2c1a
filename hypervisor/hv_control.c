/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv_control.c - encoding and decoding of the control protocol: the
 * bounded writer, the bounded cursor, and the domain-create body (the one
 * variable-length message).
 *
 * The daemon decodes what dom0 sends.  dom0 is privileged, but its tool
 * may be buggy or out of date, and a parser that crashes hvsecd takes
 * every guest with it; so the same discipline as for guests applies.
 */
#include <errno.h>
#include <string.h>

#include "hypervisor/hv_control.h"

static const char *const op_names[HV_CTL_OP__COUNT] = {
	[HV_CTL_POLICY_LOAD] = "policy-load",
	[HV_CTL_POLICY_GET] = "policy-get",
	[HV_CTL_DOMAIN_CREATE] = "create",
	[HV_CTL_DOMAIN_DESTROY] = "destroy",
	[HV_CTL_DOMAIN_PAUSE] = "pause",
	[HV_CTL_DOMAIN_UNPAUSE] = "unpause",
	[HV_CTL_DOMAIN_LIST] = "list",
	[HV_CTL_DOMAIN_INFO] = "info",
	[HV_CTL_RELABEL] = "relabel",
	[HV_CTL_RES_LABEL_SET] = "res-label-set",
	[HV_CTL_RES_LABEL_RM] = "res-label-rm",
	[HV_CTL_RES_LABEL_GET] = "res-label-get",
	[HV_CTL_RES_LABEL_LIST] = "res-label-list",
	[HV_CTL_DRY_RUN] = "dry-run",
	[HV_CTL_GET_MODE] = "get-mode",
	[HV_CTL_AUDIT_READ] = "audit",
	[HV_CTL_STATS] = "stats",
	[HV_CTL_CONSOLE] = "console",
	[HV_CTL_EVTCHN_LIST] = "evtchn-list",
	[HV_CTL_GNT_LIST] = "gnt-list",
	[HV_CTL_SET_MODE] = "mode",
	[HV_CTL_DEVICE_LIST] = "device-list",
};

const char *hv_ctl_op_name(uint32_t op)
{
	op &= ~HV_CTL_REPLY;
	if (op == HV_CTL_NTF_AUDIT)
		return "audit-notice";
	if (op == 0 || op >= HV_CTL_OP__COUNT)
		return "unknown";
	return op_names[op];
}

const char *hv_domstate_name(uint32_t state)
{
	switch (state) {
	case HV_DOMSTATE_RUNNING:
		return "running";
	case HV_DOMSTATE_PAUSED:
		return "paused";
	case HV_DOMSTATE_SHUTDOWN:
		return "shutdown";
	case HV_DOMSTATE_CRASHED:
		return "crashed";
	case HV_DOMSTATE_DYING:
		return "dying";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */

void hv_wbuf_init(struct hv_wbuf *w, void *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = cap;
	w->overflow = false;
}

void hv_wbuf_put(struct hv_wbuf *w, const void *data, size_t len)
{
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (len)
		memcpy(w->p + w->len, data, len);
	w->len += len;
}

void hv_wbuf_put_u32(struct hv_wbuf *w, uint32_t v)
{
	hv_wbuf_put(w, &v, sizeof(v));
}

void hv_wbuf_put_strn(struct hv_wbuf *w, const char *s, size_t n)
{
	static const uint8_t zero[4];

	if (n > HV_CTL_STR_MAX || memchr(s, '\0', n)) {
		w->overflow = true;
		return;
	}
	hv_wbuf_put_u32(w, (uint32_t)n);
	hv_wbuf_put(w, s, n);
	hv_wbuf_put(w, zero, (4 - n % 4) % 4);
}

void hv_wbuf_put_str(struct hv_wbuf *w, const char *s)
{
	hv_wbuf_put_strn(w, s ? s : "", s ? strlen(s) : 0);
}

bool hv_wbuf_error(const struct hv_wbuf *w)
{
	return w->overflow;
}

/* ------------------------------------------------------------------ */

void hv_cur_init(struct hv_cur *c, const void *buf, size_t len)
{
	c->p = buf;
	c->len = len;
	c->off = 0;
}

size_t hv_cur_left(const struct hv_cur *c)
{
	return c->len - c->off;
}

int hv_cur_get(struct hv_cur *c, void *out, size_t len)
{
	if (len > hv_cur_left(c))
		return -EINVAL;
	if (len)
		memcpy(out, c->p + c->off, len);
	c->off += len;
	return 0;
}

int hv_cur_get_u32(struct hv_cur *c, uint32_t *v)
{
	return hv_cur_get(c, v, sizeof(*v));
}

int hv_cur_get_str(struct hv_cur *c, char *out, size_t out_cap, size_t max)
{
	size_t start = c->off, pad;
	uint32_t n;

	if (hv_cur_get_u32(c, &n))
		return -EINVAL;
	pad = (4 - n % 4) % 4;
	/* n is bounded before any arithmetic that could wrap. */
	if (n > max || n >= out_cap || (size_t)n + pad > hv_cur_left(c))
		goto bad;
	memcpy(out, c->p + c->off, n);
	out[n] = '\0';
	if (memchr(out, '\0', n))
		goto bad;
	for (size_t i = 0; i < pad; i++)
		if (c->p[c->off + n + i])
			goto bad;
	c->off += n + pad;
	return 0;
bad:
	c->off = start;
	return -EINVAL;
}

bool hv_name_field_ok(const char *field, size_t size, bool allow_empty,
		      bool ident)
{
	const char *nul = memchr(field, '\0', size);
	size_t n;

	if (!nul)
		return false;
	n = (size_t)(nul - field);
	if (n == 0 && !allow_empty)
		return false;
	for (size_t i = n; i < size; i++)
		if (field[i])
			return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)field[i];

		if (ch < 0x21 || ch > 0x7e)
			return false;
		if (ident &&
		    !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */

static bool copy_name(char *field, size_t size, const char *s, bool ident,
		      bool allow_empty)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= size)
		return false;
	memset(field, 0, size);
	if (n)
		memcpy(field, s, n);
	return hv_name_field_ok(field, size, allow_empty, ident);
}

size_t hv_ctl_encode_create(const struct hv_ctl_create_args *a, void *buf,
			    size_t cap)
{
	struct hv_ctl_create f;
	struct hv_wbuf w;

	memset(&f, 0, sizeof(f));
	if (!copy_name(f.name, sizeof(f.name), a->name, true, false) ||
	    !copy_name(f.label, sizeof(f.label), a->label, false, true))
		return 0;
	if (a->uuid)
		memcpy(f.uuid, a->uuid, HV_UUID_LEN);
	if (a->n_args > HV_CTL_ARGS_MAX || a->n_disks > HV_CTL_DISKS_MAX ||
	    a->n_vtpms > HV_CTL_VTPMS_MAX || a->n_vifs > HV_CTL_VIFS_MAX ||
	    (a->flags & ~HV_CTL_CREATE_F_ALL) ||
	    a->memory_mb > HV_CTL_MEMORY_MB_MAX || !a->kernel ||
	    a->kernel[0] != '/')
		return 0;
	f.memory_mb = a->memory_mb;
	f.flags = a->flags;
	f.n_args = a->n_args;
	f.n_disks = a->n_disks;
	f.n_vtpms = a->n_vtpms;
	f.n_vifs = a->n_vifs;

	hv_wbuf_init(&w, buf, cap);
	hv_wbuf_put(&w, &f, sizeof(f));
	hv_wbuf_put_str(&w, a->kernel);
	for (uint32_t i = 0; i < a->n_args; i++)
		hv_wbuf_put_str(&w, a->args[i]);
	for (uint32_t i = 0; i < a->n_disks; i++) {
		struct hv_ctl_disk d = {.mode = a->disks[i].mode};

		hv_wbuf_put(&w, &d, sizeof(d));
		hv_wbuf_put_str(&w, a->disks[i].resource);
		hv_wbuf_put_str(&w, a->disks[i].vdev);
	}
	for (uint32_t i = 0; i < a->n_vtpms; i++) {
		struct hv_ctl_vtpm v;

		memcpy(v.uuid, a->vtpms[i].uuid, HV_UUID_LEN);
		hv_wbuf_put(&w, &v, sizeof(v));
		hv_wbuf_put_str(&w, a->vtpms[i].backend);
	}
	for (uint32_t i = 0; i < a->n_vifs; i++) {
		if (!a->vifs[i] || !a->vifs[i][0])
			return 0;
		hv_wbuf_put_str(&w, a->vifs[i]);
	}
	return hv_wbuf_error(&w) ? 0 : w.len;
}

/* A string decoded into the request's arena. */
static int arena_str(struct hv_cur *c, struct hv_ctl_create_req *r,
		     bool allow_empty, char **out)
{
	char *dst = r->arena + r->arena_used;
	size_t room = sizeof(r->arena) - r->arena_used;

	if (hv_cur_get_str(c, dst, room, HV_CTL_STR_MAX))
		return -EINVAL;
	if (!allow_empty && dst[0] == '\0')
		return -EINVAL;
	*out = dst;
	r->arena_used += strlen(dst) + 1;
	return 0;
}

int hv_ctl_decode_create(const void *body, size_t len,
			 struct hv_ctl_create_req *out)
{
	struct hv_ctl_create *f = &out->fixed;
	struct hv_cur c;

	out->arena_used = 0;
	out->n_args = out->n_disks = out->n_vtpms = out->n_vifs = 0;
	hv_cur_init(&c, body, len);
	if (hv_cur_get(&c, f, sizeof(*f)))
		return -EINVAL;
	if (!hv_name_field_ok(f->name, sizeof(f->name), false, true) ||
	    !hv_name_field_ok(f->label, sizeof(f->label), true, false))
		return -EINVAL;
	if ((f->flags & ~HV_CTL_CREATE_F_ALL) ||
	    f->memory_mb > HV_CTL_MEMORY_MB_MAX ||
	    f->n_args > HV_CTL_ARGS_MAX || f->n_disks > HV_CTL_DISKS_MAX ||
	    f->n_vtpms > HV_CTL_VTPMS_MAX || f->n_vifs > HV_CTL_VIFS_MAX ||
	    f->reserved[0] || f->reserved[1])
		return -EINVAL;
	if (hv_cur_get_str(&c, out->kernel, sizeof(out->kernel),
			   HV_CTL_STR_MAX) ||
	    out->kernel[0] != '/')
		return -EINVAL;
	for (uint32_t i = 0; i < f->n_args; i++) {
		if (arena_str(&c, out, true, &out->args[i]))
			return -EINVAL;
		out->n_args++;
	}
	for (uint32_t i = 0; i < f->n_disks; i++) {
		struct hv_ctl_disk d;

		if (hv_cur_get(&c, &d, sizeof(d)) || d.reserved ||
		    (d.mode != HV_CTL_DISK_R && d.mode != HV_CTL_DISK_W))
			return -EINVAL;
		out->disks[i].mode = d.mode;
		if (arena_str(&c, out, false, &out->disks[i].resource) ||
		    arena_str(&c, out, true, &out->disks[i].vdev))
			return -EINVAL;
		out->n_disks++;
	}
	for (uint32_t i = 0; i < f->n_vtpms; i++) {
		struct hv_ctl_vtpm v;

		if (hv_cur_get(&c, &v, sizeof(v)))
			return -EINVAL;
		memcpy(out->vtpms[i].uuid, v.uuid, HV_UUID_LEN);
		if (arena_str(&c, out, false, &out->vtpms[i].backend))
			return -EINVAL;
		out->n_vtpms++;
	}
	for (uint32_t i = 0; i < f->n_vifs; i++) {
		if (arena_str(&c, out, false, &out->vifs[i]))
			return -EINVAL;
		out->n_vifs++;
	}
	if (hv_cur_left(&c))
		return -EINVAL; /* trailing bytes */
	return 0;
}

int hv_ctl_parse_hdr(const void *buf, size_t len, struct hv_ctl_hdr *h,
		     const uint8_t **body, size_t *body_len)
{
	uint32_t v;

	memset(h, 0, sizeof(*h));
	if (len < sizeof(*h) || len > HV_CTL_MSG_MAX)
		return -EINVAL;
	memcpy(h, buf, sizeof(*h));
	v = h->magic >> 24;
	if ((h->magic & 0x00ffffffu) != HV_CTL_MAGIC_BASE ||
	    v < HV_CTL_VERSION_MIN || v > HV_CTL_VERSION || h->len != len)
		return -EINVAL;
	if (h->op == 0 || h->op >= HV_CTL_OP__COUNT)
		return -ENOSYS;
	*body = (const uint8_t *)buf + sizeof(*h);
	*body_len = len - sizeof(*h);
	return 0;
}
