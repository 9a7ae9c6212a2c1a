/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv_proto.h - the hypercall protocol: messages between a guest and hvsecd.
 *
 * Every guest holds one private SOCK_SEQPACKET unix socket to the daemon,
 * inherited at spawn (its number is in the environment as HVSEC_HC_FD).
 * The daemon knows which domain is on the other end because it created
 * the socket pair: a guest never names itself, so it cannot lie about who
 * it is.  One datagram is one message; file descriptors (grant pages,
 * event-channel notification fds) travel beside it as SCM_RIGHTS.
 *
 * A request is a struct hv_msg_hdr followed by the op's fixed-size body
 * (exactly; there are no variable parts in this protocol).  The daemon
 * answers every request with one reply: struct hv_reply_hdr (seq copied,
 * op | HV_REPLY, a Xen errno: 0 or negative) followed by the op's reply
 * body, which is present only when err == 0.  The daemon may also send
 * notices at any time (op has HV_NOTICE set, seq 0): a guest library
 * reading a reply must accept and queue notices that come before it.
 *
 * All integers are little-endian; the structs below are the wire format
 * (no implicit padding, static_asserts on sizes and offsets).  The byte-by-
 * byte description is docs/hypervisor.md §2.
 *
 * Errors, and which wins when several apply (checked in this order):
 *   -EINVAL  bad magic/version, length != header + body, unknown flag
 *            bits, nonzero reserved fields, wrong number of fds;
 *   -ENOSYS  unknown op;
 *   -ESRCH   the peer domain does not exist (or is not running);
 *   -ENOENT  no such port / grant ref / handle / device connection;
 *   -EACCES  the policy denies (an audit record is written);
 *   -EBUSY, -EEXIST, -ENOSPC, -ENOMEM  state or limits.
 * A guest that keeps sending malformed messages (HV_HC_MAX_VIOLATIONS) is
 * treated as crashed; the daemon itself never exits on guest input.
 */
#ifndef HVSEC_HV_PROTO_H
#define HVSEC_HV_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hvsec wire structs are little-endian and read in place"
#endif

typedef uint32_t hv_domid_t; /* Xen's domid_t, widened on the wire */
typedef uint32_t hv_port_t;  /* event-channel port, per domain */
typedef uint32_t hv_gref_t;  /* grant reference, per granting domain */
typedef uint32_t hv_ghandle_t; /* map handle, per mapping domain */

#define HV_DOMID_DOM0 0u
#define HV_DOMID_FIRST_GUEST 1u
#define HV_DOMID_MAX 0x7fefu      /* Xen's DOMID_FIRST_RESERVED - 1 */
#define HV_DOMID_SELF 0x7ff0u     /* Xen's DOMID_SELF */
#define HV_DOMID_INVALID 0x7ff4u  /* Xen's DOMID_INVALID */

#define HV_PAGE_SIZE 4096u
#define HV_NAME_LEN 64u  /* domain and label names, NUL-padded */
#define HV_UUID_LEN 16u

/* Environment handed to every guest. */
#define HV_ENV_HC_FD "HVSEC_HC_FD"     /* decimal fd of the hypercall socket */
#define HV_ENV_DOMID "HVSEC_DOMID"     /* informational; whoami is truth */
#define HV_ENV_XS_PATH "XENSTORED_PATH" /* RUN_DIR/xenstored */

/* ------------------------------------------------------------------ */
/* Header                                                              */
/* ------------------------------------------------------------------ */

/* magic: the bytes 'H' 'V' 'C' then the protocol version. */
#define HV_HC_MAGIC_BASE 0x00435648u
#define HV_HC_VERSION 1u
#define HV_HC_VERSION_MIN 1u /* a reader accepts [MIN, VERSION] */
#define HV_HC_MAGIC(v) (HV_HC_MAGIC_BASE | ((uint32_t)(v) << 24))
#define HV_HC_MAGIC_VERSION(m) ((m) >> 24)

#define HV_HC_MSG_MAX 256u /* largest message either way, header included */
#define HV_HC_FDS_MAX 2u   /* most fds attached to one message */
#define HV_HC_MAX_VIOLATIONS 16u

struct hv_msg_hdr {
	uint32_t magic; /* HV_HC_MAGIC(version) */
	uint32_t op;    /* enum hv_op, | HV_REPLY in replies, HV_NOTICE */
	uint32_t len;   /* whole message, header included */
	uint32_t seq;   /* chosen by the requester, echoed; 0 in notices */
};

#define HV_REPLY 0x80000000u
#define HV_NOTICE 0x40000000u

struct hv_reply_hdr {
	struct hv_msg_hdr h;
	int32_t err;   /* 0 or a negative Xen errno (hv_errno below) */
	uint32_t nfds; /* fds attached (SCM_RIGHTS), listed by the op */
};

static_assert(sizeof(struct hv_msg_hdr) == 16, "hv_msg_hdr");
static_assert(offsetof(struct hv_msg_hdr, seq) == 12, "hv_msg_hdr.seq");
static_assert(sizeof(struct hv_reply_hdr) == 24, "hv_reply_hdr");
static_assert(offsetof(struct hv_reply_hdr, nfds) == 20, "reply.nfds");

/* Xen errno values (xen/include/public/errno.h; identical to Linux x86). */
enum hv_errno {
	HV_EPERM = 1,
	HV_ENOENT = 2,
	HV_ESRCH = 3,
	HV_E2BIG = 7,
	HV_EBADF = 9,
	HV_EAGAIN = 11,
	HV_ENOMEM = 12,
	HV_EACCES = 13,
	HV_EFAULT = 14,
	HV_EBUSY = 16,
	HV_EEXIST = 17,
	HV_EINVAL = 22,
	HV_ENOSPC = 28,
	HV_ENOSYS = 38,
	HV_ENOTCONN = 107,
	HV_ETIMEDOUT = 110,
	HV_EOPNOTSUPP = 95,
};

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

enum hv_op {
	HV_OP_WHOAMI = 1,                 /* -> hv_rep_whoami */
	HV_OP_EVTCHN_ALLOC_UNBOUND = 2,   /* hv_req_evtchn_alloc_unbound */
	HV_OP_EVTCHN_BIND_INTERDOMAIN = 3,/* hv_req_evtchn_bind + fds */
	HV_OP_EVTCHN_SEND = 4,            /* hv_req_evtchn_port */
	HV_OP_EVTCHN_CLOSE = 5,           /* hv_req_evtchn_port */
	HV_OP_EVTCHN_STATUS = 6,          /* hv_req_evtchn_port */
	HV_OP_GNT_GRANT_ACCESS = 7,       /* hv_req_gnt_grant + 1 fd */
	HV_OP_GNT_END_ACCESS = 8,         /* hv_req_gnt_end */
	HV_OP_GNT_MAP = 9,                /* hv_req_gnt_map -> 1 fd */
	HV_OP_GNT_UNMAP = 10,             /* hv_req_gnt_unmap */
	HV_OP_GNT_COPY = 11,              /* hv_req_gnt_copy */
	HV_OP_GNT_TRANSFER = 12,          /* hv_req_gnt_transfer + 1 fd */
	HV_OP_SCHED_SHUTDOWN = 13,        /* hv_req_shutdown, no reply body */
	HV_OP_DEVICE_CONNECT = 14,        /* hv_req_device, no reply body */
	HV_OP_DEVICE_DISCONNECT = 15,     /* hv_req_device, no reply body */
	HV_OP__COUNT
};

enum hv_notice {
	/* The unbound port `port` was bound by its peer: fds as in bind. */
	HV_NTF_EVTCHN_BOUND = HV_NOTICE | 1,
	/* The peer closed, died or lost the right to the channel. */
	HV_NTF_EVTCHN_CLOSED = HV_NOTICE | 2,
	/* A page was transferred to this domain: 1 fd, read-write. */
	HV_NTF_GNT_TRANSFER = HV_NOTICE | 3,
	/* A mapping this domain held was of a grant that is now gone (the
	 * granter ended access under policy revocation, or died).  The
	 * mapper keeps its pages until it unmaps, as in Xen. */
	HV_NTF_GNT_ORPHANED = HV_NOTICE | 4,
};

/* ---- WHOAMI: no body; reply: */
struct hv_rep_whoami {
	hv_domid_t domid;
	uint32_t ssidref;   /* the label's stable id in the current policy */
	uint32_t max_pages; /* grant cap (the config's memory, in pages) */
	uint32_t flags;     /* HV_WHOAMI_F_* */
	uint8_t uuid[HV_UUID_LEN];
	char name[HV_NAME_LEN];  /* NUL-terminated, NUL-padded */
	char label[HV_NAME_LEN]; /* VM label name */
};
#define HV_WHOAMI_F_SEND_MEDIATED (1u << 0) /* evtchn send is a hypercall */
#define HV_WHOAMI_F_PERMISSIVE (1u << 1)    /* policy logs, never denies */

/* ---- Event channels (Xen's EVTCHNOP_*) */

/* Port numbers are per domain, 1..HV_EVTCHN_PORTS-1 (0 is reserved as in
 * Xen).  Status values are Xen's EVTCHNSTAT_*. */
#define HV_EVTCHN_PORTS 1024u
enum hv_evtchn_status {
	HV_EVTCHNSTAT_CLOSED = 0,
	HV_EVTCHNSTAT_UNBOUND = 1,
	HV_EVTCHNSTAT_INTERDOMAIN = 2,
};

struct hv_req_evtchn_alloc_unbound {
	hv_domid_t remote_dom; /* who may bind; not SELF, not self */
};
struct hv_rep_evtchn_alloc_unbound {
	hv_port_t port;
};

struct hv_req_evtchn_bind {
	hv_domid_t remote_dom;
	hv_port_t remote_port; /* unbound, offered to the caller */
};
/* Reply to BIND_INTERDOMAIN and body of HV_NTF_EVTCHN_BOUND.  fds: [0]
 * the wait fd (an eventfd: readable when the peer notified; read(2) 8
 * bytes to clear), then [1] the send fd (write(2) a u64 1 to notify)
 * unless HV_EVTCHN_F_SEND_MEDIATED, in which case the guest sends with
 * HV_OP_EVTCHN_SEND and only the wait fd is passed. */
struct hv_rep_evtchn_bind {
	hv_port_t port;        /* the local port */
	hv_domid_t remote_dom;
	hv_port_t remote_port;
	uint32_t flags;        /* HV_EVTCHN_F_* */
};
#define HV_EVTCHN_F_SEND_MEDIATED (1u << 0)

struct hv_req_evtchn_port {
	hv_port_t port;
};
struct hv_rep_evtchn_status {
	uint32_t status;       /* enum hv_evtchn_status */
	hv_domid_t remote_dom; /* unbound: who may bind; interdomain: peer */
	hv_port_t remote_port; /* interdomain only, else 0 */
	uint32_t flags;        /* HV_EVTCHN_F_* */
};
/* HV_NTF_EVTCHN_CLOSED body. */
struct hv_ntf_evtchn_closed {
	hv_port_t port;
	uint32_t reason; /* enum hv_close_reason */
};
enum hv_close_reason {
	HV_CLOSE_PEER = 1,    /* the peer closed its end */
	HV_CLOSE_DIED = 2,    /* the peer domain died or was destroyed */
	HV_CLOSE_REVOKED = 3, /* a policy change revoked the channel */
};

/* ---- Grants (Xen's GNTTABOP_*).  One grant is one page: a memfd of
 * exactly HV_PAGE_SIZE bytes created with MFD_ALLOW_SEALING.  The daemon
 * seals it (no shrink, no grow) so a mapper can never fault on a page the
 * granter truncated. */
#define HV_GNT_PER_DOM 1024u /* grant entries per granting domain */
#define HV_MAPS_PER_DOM 1024u /* map handles per mapping domain */

struct hv_req_gnt_grant {
	hv_domid_t domid; /* the grantee */
	uint32_t flags;   /* HV_GNT_READONLY */
};
#define HV_GNT_READONLY (1u << 0) /* Xen's GTF_readonly */
struct hv_rep_gnt_grant {
	hv_gref_t gref;
};

struct hv_req_gnt_end {
	hv_gref_t gref; /* -EBUSY while mapped (Xen semantics) */
};

struct hv_req_gnt_map {
	hv_domid_t domid; /* the granter */
	hv_gref_t gref;
	uint32_t flags;   /* HV_GNTMAP_READONLY */
};
#define HV_GNTMAP_READONLY (1u << 0) /* Xen's GNTMAP_readonly */
/* fds: [0] the page; opened read-only when the mapping is read-only, so
 * the mapper cannot mmap it writable. */
struct hv_rep_gnt_map {
	hv_ghandle_t handle;
	uint32_t flags; /* HV_GNTMAP_READONLY as granted */
};

struct hv_req_gnt_unmap {
	hv_ghandle_t handle;
};

/* A copy segment: a page is named by (domid, gref) where domid is
 * HV_DOMID_SELF (one of the caller's own grants) or the granter of a
 * grant made to the caller. */
struct hv_gnt_seg {
	hv_domid_t domid;
	hv_gref_t gref;
	uint32_t offset;
};
struct hv_req_gnt_copy {
	struct hv_gnt_seg src, dst;
	uint32_t len;   /* offset + len <= HV_PAGE_SIZE on both sides */
	uint32_t flags; /* zero */
};

/* Moves a page to `domid`: the destination gets a fresh page with the
 * contents (HV_NTF_GNT_TRANSFER), the source keeps nothing the
 * destination can see (its memfd is not passed on). */
struct hv_req_gnt_transfer {
	hv_domid_t domid;
	uint32_t flags; /* zero */
};
struct hv_ntf_gnt_transfer {
	hv_domid_t from;
	uint32_t reserved;
};
struct hv_ntf_gnt_orphaned {
	hv_ghandle_t handle;
	hv_domid_t granter;
};

/* ---- Shutdown (SCHEDOP_shutdown): the domain stops; its resources are
 * released and its state becomes "shutdown" with this reason. */
struct hv_req_shutdown {
	uint32_t reason; /* enum hv_shutdown_reason */
};
enum hv_shutdown_reason {
	HV_SHUTDOWN_POWEROFF = 0,
	HV_SHUTDOWN_REBOOT = 1,
	HV_SHUTDOWN_SUSPEND = 2,
	HV_SHUTDOWN_CRASH = 3,
};

/* ---- Devices: a backend tells the hypervisor which resource it connects
 * to which frontend, so that resource_use is decided (and audited) at
 * connect, and the connection counts as a resource in use for live policy
 * updates and relabels until it is disconnected or either domain dies.
 * The caller is the backend; `frontend` is another live domain.  The data
 * path (grants, event channels) is mediated by its own hooks either way.
 *
 * `resource` is the canonical name the resource-label store is keyed by
 * (tools/xlcfg.c makes it), NUL-terminated and NUL-padded in its field:
 *   disk  phy:/PATH or file:/PATH, PATH absolute and folded (no empty,
 *         "." or ".." component, no trailing '/');
 *   vif   vlan:N (1..4095, no leading zero) or bridge:NAME (1..15 of
 *         [A-Za-z0-9_.-]);
 *   vtpm  vtpm:UUID (lowercase 8-4-4-4-12).
 * A name in any other form is -EINVAL: an alias spelled differently would
 * miss the label stored under the canonical name and go unchecked. */
enum hv_dev_class {
	HV_DEV_DISK = 1, /* the values of enum hooks_res_class */
	HV_DEV_VIF = 2,
	HV_DEV_VTPM = 3,
};
#define HV_DEV_NAME_LEN 192u /* resource field, NUL included */
#define HV_DEV_PER_DOM 64u   /* connections a domain may hold, as backend
			      * and (separately) as frontend */

struct hv_req_device {
	hv_domid_t frontend; /* a live domain other than the caller */
	uint32_t cls;        /* enum hv_dev_class */
	uint32_t flags;      /* zero */
	uint32_t reserved;   /* zero */
	char resource[HV_DEV_NAME_LEN];
};

static_assert(sizeof(struct hv_rep_whoami) == 16 + 16 + 2 * 64, "whoami");
static_assert(offsetof(struct hv_rep_whoami, name) == 32, "whoami.name");
static_assert(sizeof(struct hv_req_evtchn_alloc_unbound) == 4, "unbound");
static_assert(sizeof(struct hv_req_evtchn_bind) == 8, "bind");
static_assert(sizeof(struct hv_rep_evtchn_bind) == 16, "bind reply");
static_assert(sizeof(struct hv_rep_evtchn_status) == 16, "status");
static_assert(sizeof(struct hv_ntf_evtchn_closed) == 8, "closed");
static_assert(sizeof(struct hv_req_gnt_grant) == 8, "grant");
static_assert(sizeof(struct hv_req_gnt_map) == 12, "map");
static_assert(sizeof(struct hv_rep_gnt_map) == 8, "map reply");
static_assert(sizeof(struct hv_gnt_seg) == 12, "seg");
static_assert(sizeof(struct hv_req_gnt_copy) == 32, "copy");
static_assert(offsetof(struct hv_req_gnt_copy, len) == 24, "copy.len");
static_assert(sizeof(struct hv_req_gnt_transfer) == 8, "transfer");
static_assert(sizeof(struct hv_ntf_gnt_transfer) == 8, "transfer ntf");
static_assert(sizeof(struct hv_ntf_gnt_orphaned) == 8, "orphaned");
static_assert(sizeof(struct hv_req_shutdown) == 4, "shutdown");
static_assert(sizeof(struct hv_req_device) == 16 + HV_DEV_NAME_LEN, "device");
static_assert(offsetof(struct hv_req_device, resource) == 16,
	      "device.resource");
static_assert(sizeof(struct hv_msg_hdr) + sizeof(struct hv_req_device) <=
		      HV_HC_MSG_MAX,
	      "device request fits a message");

/* ------------------------------------------------------------------ */
/* The one parser (hypervisor/hv_proto.c)                              */
/* ------------------------------------------------------------------ */

/* Sizes the parser enforces, per op. */
struct hv_op_desc {
	const char *name;
	uint32_t req_len;  /* body bytes, exactly */
	uint32_t req_fds;  /* fds, exactly */
	uint32_t rep_len;  /* reply body bytes when err == 0 */
};
/* NULL for an unknown op. */
const struct hv_op_desc *hv_op_desc(uint32_t op);
const char *hv_op_name(uint32_t op); /* "unknown" when unknown */
/* "EACCES" etc. for a negative Xen errno; "OK" for 0. */
const char *hv_errno_name(int32_t err);

/* A request after validation: the header, the body copied into an
 * aligned union (the datagram is read once; nothing refers back to it). */
struct hv_request {
	struct hv_msg_hdr h;
	union {
		struct hv_req_evtchn_alloc_unbound unbound;
		struct hv_req_evtchn_bind bind;
		struct hv_req_evtchn_port port;
		struct hv_req_gnt_grant grant;
		struct hv_req_gnt_end end;
		struct hv_req_gnt_map map;
		struct hv_req_gnt_unmap unmap;
		struct hv_req_gnt_copy copy;
		struct hv_req_gnt_transfer transfer;
		struct hv_req_shutdown shutdown;
		struct hv_req_device device;
		uint8_t raw[32];
	} u;
};

/* Parses one datagram of `len` bytes received with `nfds` fds.  Returns 0,
 * or a negative Xen errno to send back (the header fields that could be
 * read are left in req->h so the reply can echo seq and op).  Checks, in
 * this order: length >= header, magic, version, header len == datagram
 * length, op known (-ENOSYS), body length, fd count, then the op's own
 * fields (flags, reserved, ranges) - all -EINVAL but ENOSYS. */
int hv_request_parse(const void *buf, size_t len, unsigned nfds,
		     struct hv_request *req);

/* Reply (or notice) after validation, for the guest library. */
struct hv_reply {
	struct hv_reply_hdr r; /* for notices, r.err = 0, r.nfds as sent */
	union {
		struct hv_rep_whoami whoami;
		struct hv_rep_evtchn_alloc_unbound unbound;
		struct hv_rep_evtchn_bind bind;
		struct hv_rep_evtchn_status status;
		struct hv_rep_gnt_grant grant;
		struct hv_rep_gnt_map map;
		struct hv_ntf_evtchn_closed closed;
		struct hv_ntf_gnt_transfer transfer;
		struct hv_ntf_gnt_orphaned orphaned;
		uint8_t raw[160];
	} u;
};
/* Parses a reply or a notice from the daemon (the guest library's side).
 * Same discipline: exact lengths, fd count matches r.nfds, strings in
 * whoami NUL-terminated.  Returns 0 or -EINVAL / -EPROTO-like -EINVAL. */
int hv_reply_parse(const void *buf, size_t len, unsigned nfds,
		   struct hv_reply *rep);

/* Builders: write a request / reply into `buf` (HV_HC_MSG_MAX bytes) and
 * return its length. */
size_t hv_request_build(void *buf, uint32_t op, uint32_t seq,
			const void *body, size_t body_len);
size_t hv_reply_build(void *buf, uint32_t op, uint32_t seq, int32_t err,
		      uint32_t nfds, const void *body, size_t body_len);

#endif /* HVSEC_HV_PROTO_H */
