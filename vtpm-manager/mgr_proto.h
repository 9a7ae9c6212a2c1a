/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgr_proto.h - the vTPM manager's wire protocol, its whole interface
 * (docs/formats.md §7 specifies the same bytes; they change together).
 *
 * Who talks to hvsec-vtpm-managerd, and over what:
 *
 *   instance channel  each vTPM instance (an hvsec-vtpmd stub domain) is a
 *                     tpmif v2 *frontend* of the manager domain, as Xen's
 *                     vtpm stubdoms are of vtpmmgr.  One request, one
 *                     response, at most MGR_RING_MSG_MAX bytes each.  The
 *                     manager knows the peer only by the ring's remote
 *                     domain id, never by anything the instance says.
 *   control channel   the dom0 toolstack (`hvsec`), over a SOCK_SEQPACKET
 *                     unix socket in the manager's run directory; the peer
 *                     is checked with SO_PEERCRED.  One message per
 *                     datagram, at most MGR_CTL_MSG_MAX bytes.
 *
 * The design follows Xen's vtpmmgr (reference/vtpm.md §3): an instance
 * keeps its own encrypted state on its own disk (mgr_seal.h blobs, sealed
 * by the instance with the key the manager hands it at OPEN); the manager
 * keeps, in its root record bound to the platform TPM's NV counter, each
 * instance's key and the generation and GCM tag of each committed state.
 * An instance writes a new blob, then COMMITs (name, generation, tag); the
 * manager answers only once its root record is durable, and only then
 * does the instance release its guest's TPM response.  At OPEN the
 * instance receives the committed refs and refuses any blob that is not
 * exactly the committed one (mgr_blob_check_committed): rollback and forks
 * are caught, messages stay small enough for one ring page.
 *
 * Framing, big-endian throughout, TPM-like so a misdirected TPM command is
 * recognisably not ours:
 *
 *   request   magic u16 (MGR_MAGIC) | size u32 (the whole message) |
 *             op u32 | params
 *   response  magic u16 | size u32 | rc u32 (enum mgr_rc) | params when
 *             rc == MGR_RC_OK, else a message: len u16 + that many bytes
 *             of printable ASCII (<= MGR_MSG_MAX) saying why
 *
 * Strings on the wire are a length (u8 unless said otherwise) and bytes,
 * never NUL-terminated; decoded copies are NUL-terminated.  A UUID is its
 * 16 bytes in text order (struct mgr_uuid).
 *
 * Every parser here treats its input as hostile: one bounded cursor, each
 * length checked before use, `size` must equal the buffer's length,
 * trailing bytes and reserved values are errors, and the first rule broken
 * is named in why.  Decoded pointers (blobs, DER, TPM2B_PUBLIC) borrow the
 * input buffer: keep it while the decoded struct is in use.  Nothing here
 * allocates, blocks or keeps state, except the client helpers at the end.
 */
#ifndef HVSEC_MGR_PROTO_H
#define HVSEC_MGR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/mgr_seal.h" /* struct mgr_uuid, mgr_state_ref, sizes */

#define MGR_MAGIC	    0x4856u /* "HV" */
#define MGR_HDR_LEN	    10u
#define MGR_RING_MSG_MAX    4088u /* = VTPM_RING_MAX_PAYLOAD */
#define MGR_CTL_MSG_MAX	    65536u
#define MGR_MSG_MAX	    256u /* an error message's text */
#define MGR_EK_PUBLIC_MAX   512u /* a TPM2B_PUBLIC, size prefix included */
#define MGR_EK_CERT_MAX	    2048u
#define MGR_EK_MAX	    2u	 /* RSA-2048 and ECC P-256 */
#define MGR_NONCE_MAX	    64u	 /* = MGR_DEEPQ_NONCE_MAX */
#define MGR_PUBKEY_MAX	    256u /* DER SubjectPublicKeyInfo, P-256: 91 */
#define MGR_BUNDLE_MAX	    8192u
#define MGR_QUOTE_PART_MAX  1024u /* attest, signature, AK public each */
#define MGR_LIST_PAGE	    64u	  /* entries per LIST response */
#define MGR_NO_DOMID	    0xffffffffu
#define MGR_VENDOR_MAX	    16u

enum mgr_channel {
	MGR_CH_INSTANCE = 1,
	MGR_CH_CONTROL = 2,
};

/* Operations.  An op is valid on one channel only; the parser refuses it
 * on the other (MGR_RC_UNKNOWN_OP). */
enum mgr_op {
	/* instance channel */
	MGR_OP_OPEN = 0x0001,	   /* claim: uuid, flags -> key, refs */
	MGR_OP_COMMIT = 0x0002,	   /* name, generation, tag, present */
	MGR_OP_PROVISION = 0x0003, /* EK publics + TPM info -> certs */
	MGR_OP_CLOSE = 0x0004,	   /* clean stop: the instance is released */
	/* control channel */
	MGR_CTL_STATUS = 0x0101,
	MGR_CTL_ATTACH = 0x0102,     /* bind a stub domain to an instance */
	MGR_CTL_DETACH = 0x0103,     /* the stub is gone */
	MGR_CTL_DELETE = 0x0104,     /* forget the instance and its key */
	MGR_CTL_RESET = 0x0105,	     /* states removed: next OPEN is NEW */
	MGR_CTL_LIST = 0x0106,	     /* one page of the instance table */
	MGR_CTL_EXPORT = 0x0107,     /* migration bundle; source gives up */
	MGR_CTL_IMPORT = 0x0108,     /* bundle from another manager */
	MGR_CTL_IDENTITY = 0x0109,   /* uuid, migration key, CA cert */
	MGR_CTL_DEEP_QUOTE = 0x010a, /* platform quote binding a vTPM */
};

enum mgr_rc {
	MGR_RC_OK = 0,
	MGR_RC_MALFORMED = 1,	/* the request broke a framing/format rule */
	MGR_RC_UNKNOWN_OP = 2,	/* no such op on this channel */
	MGR_RC_DENIED = 3,	/* peer not allowed (not attached, wrong uid) */
	MGR_RC_NOT_FOUND = 4,	/* no such instance */
	MGR_RC_EXISTS = 5,	/* already there (import, attach of another) */
	MGR_RC_BINDING = 6,	/* domain uuid or label differ from the record */
	MGR_RC_BUSY = 7,	/* open/attached: the op needs it stopped */
	MGR_RC_STATE = 8,	/* not allowed now (provision after commit...) */
	MGR_RC_GENERATION = 9,	/* commit generation != committed + 1 */
	MGR_RC_MIGRATED = 10,	/* exported: never run here again */
	MGR_RC_DISABLED = 11,	/* refused by the operator */
	MGR_RC_STORAGE = 12,	/* root commit failed: manager fails closed */
	MGR_RC_PLATFORM = 13,	/* platform TPM failed */
	MGR_RC_INTERNAL = 14,	/* a bug or out of memory */
	MGR_RC_TOO_BIG = 15,	/* a response would not fit */
	MGR_RC_CORRUPT = 16,	/* import: bundle not authentic / not for us */
	MGR_RC_COUNT_		/* number of codes, not a code */
};

/* "malformed request" etc.; never NULL ("unknown error" out of range). */
const char *mgr_rc_str(enum mgr_rc rc);
/* "OPEN", "CTL_STATUS", ...; "?" for unknown ops.  For logs. */
const char *mgr_op_str(uint32_t op);

/* OPEN flags (claim) and instance flags (answer: MGR_INST_F_* of
 * mgr_seal.h). */
#define MGR_OPEN_F_TPM12 0x1u
#define MGR_OPEN_F_ALL	 0x1u

enum mgr_open_status {
	MGR_OPEN_NEW = 1,      /* nothing committed: manufacture, PROVISION */
	MGR_OPEN_EXISTING = 2, /* load the committed states */
};

enum mgr_ek_kind {
	MGR_EK_RSA2048 = 1,
	MGR_EK_ECC_P256 = 2,
};

/* What the TPM says it is (vtpm_ek_tpm_info), for the EK certificate. */
struct mgr_tpm_info {
	uint32_t manufacturer;
	uint32_t firmware_version1;
	uint32_t firmware_version2;
	char family[5]; /* wire: 4 bytes, printable or NUL padding */
	uint32_t level;
	uint32_t revision;
	char vendor[MGR_VENDOR_MAX + 1]; /* wire: u8 len + printable bytes */
};

struct mgr_blob_ref { /* borrowed bytes */
	const uint8_t *data;
	uint32_t len;
};

struct mgr_ek_item {
	enum mgr_ek_kind kind;
	struct mgr_blob_ref data; /* request: TPM2B_PUBLIC; response: DER */
};

/* ------------------------------------------------------------ requests */

/*
 * Wire params per op (after the 10-byte header):
 *   OPEN        uuid[16] flags u32
 *   COMMIT      name u8 (1..3) present u8 (0/1) generation u64 tag[16]
 *               (tag all zero when present == 0)
 *   PROVISION   count u8 (1..2), count x {kind u8, len u16, TPM2B_PUBLIC}
 *               (each kind once), manufacturer u32, fw1 u32, fw2 u32,
 *               family[4], level u32, revision u32, vendor (u8 len)
 *   CLOSE       -
 *   STATUS      -
 *   ATTACH      uuid[16] domain[16] label (u8 len, 1..255) flags u32
 *               (MGR_OPEN_F_*) stub_domid u32 create u8 (0/1)
 *   DETACH, DELETE, RESET   uuid[16]
 *   LIST        start u32
 *   EXPORT      uuid[16] dest_pubkey (u16 len, 1..MGR_PUBKEY_MAX, DER)
 *   IMPORT      bundle (u16 len, 1..MGR_BUNDLE_MAX)
 *   IDENTITY    -
 *   DEEP_QUOTE  uuid[16] ek_public (u16 len, 1..MGR_EK_PUBLIC_MAX)
 *               nonce (u8 len, 0..MGR_NONCE_MAX) pcr_mask u32 (non-zero,
 *               PCRs 0..23)
 */
struct mgr_req {
	uint32_t op;
	union {
		struct {
			struct mgr_uuid uuid;
			uint32_t flags;
		} open;
		struct {
			enum mgr_state_name name;
			bool present;
			uint64_t generation;
			uint8_t tag[MGR_TAG_LEN];
		} commit;
		struct {
			uint8_t count;
			struct mgr_ek_item ek[MGR_EK_MAX];
			struct mgr_tpm_info info;
		} provision;
		struct {
			struct mgr_uuid uuid;
			struct mgr_uuid domain;
			char label[MGR_LABEL_MAX + 1];
			uint32_t flags;
			uint32_t stub_domid;
			bool create;
		} attach;
		struct {
			struct mgr_uuid uuid;
		} target; /* DETACH, DELETE, RESET */
		struct {
			uint32_t start;
		} list;
		struct {
			struct mgr_uuid uuid;
			struct mgr_blob_ref dest_pubkey;
		} export_;
		struct {
			struct mgr_blob_ref bundle;
		} import;
		struct {
			struct mgr_uuid uuid;
			struct mgr_blob_ref ek_public;
			uint8_t nonce[MGR_NONCE_MAX];
			uint8_t nonce_len;
			uint32_t pcr_mask;
		} deep_quote;
	} u;
};

/* Parses a request received on `ch`.  MGR_RC_OK, or MGR_RC_MALFORMED /
 * MGR_RC_UNKNOWN_OP / MGR_RC_TOO_BIG (over the channel's maximum) with why
 * naming the field ("COMMIT: name 7 is not 1..3").  The op is set in out
 * whenever the header could be read, so the answer can name it. */
enum mgr_rc mgr_req_parse(enum mgr_channel ch, const uint8_t *buf, size_t len,
			  struct mgr_req *out, char *why, size_t why_len);
/* Encodes req into buf (cap bytes).  The message's length, or 0 when req
 * is invalid (the same rules as the parser) or does not fit. */
size_t mgr_req_encode(const struct mgr_req *req, uint8_t *buf, size_t cap);

/* ----------------------------------------------------------- responses */

struct mgr_list_entry {
	struct mgr_uuid uuid;
	struct mgr_uuid domain;
	char label[MGR_LABEL_MAX + 1];
	uint32_t flags;	     /* MGR_INST_F_* */
	uint32_t stub_domid; /* attached stub, or MGR_NO_DOMID */
	bool open;	     /* the stub has OPENed it */
	uint64_t generation[MGR_STATE_NAMES];
};

/*
 * Wire params per op when rc == OK:
 *   OPEN        status u32 flags u32 key[32], 3 x {generation u64,
 *               tag[16], present u8}
 *   PROVISION   count u8, count x {kind u8, len u16, DER}
 *   ATTACH      created u8
 *   STATUS      manager uuid[16] root_generation u64 counter u64
 *               nv_index u32 pcr_mask u32 instances u32 attached u32
 *               open u32 commits u64 commit_batches u64
 *   LIST        total u32 next u32 (MGR_NO_DOMID: no more) count u8
 *               (<= MGR_LIST_PAGE), count x {uuid[16] domain[16] label
 *               (u8 len) flags u32 stub_domid u32 open u8 3 x gen u64}
 *   EXPORT      bundle (u16 len)
 *   IMPORT      uuid[16]
 *   IDENTITY    manager uuid[16] pubkey (u16 len, DER SPKI) ca_cert
 *               (u16 len, DER)
 *   DEEP_QUOTE  attest (u16 len) sig (u16 len) ak_public (u16 len), each
 *               1..MGR_QUOTE_PART_MAX
 *   others      nothing
 */
struct mgr_rsp {
	uint32_t op; /* the request's: not on the wire, tells the parser */
	enum mgr_rc rc;
	char msg[MGR_MSG_MAX + 1]; /* rc != OK: why, NUL-terminated */
	union {
		struct {
			enum mgr_open_status status;
			uint32_t flags;
			uint8_t key[MGR_KEY_LEN];
			struct mgr_state_ref ref[MGR_STATE_NAMES];
		} open;
		struct {
			uint8_t count;
			struct mgr_ek_item cert[MGR_EK_MAX];
		} provision;
		struct {
			bool created;
		} attach;
		struct {
			struct mgr_uuid manager;
			uint64_t root_generation, counter;
			uint32_t nv_index, pcr_mask;
			uint32_t instances, attached, open;
			uint64_t commits, commit_batches;
		} status;
		struct {
			uint32_t total, next;
			uint8_t count;
			struct mgr_list_entry entry[MGR_LIST_PAGE];
		} list;
		struct {
			struct mgr_blob_ref bundle;
		} export_;
		struct {
			struct mgr_uuid uuid;
		} import;
		struct {
			struct mgr_uuid manager;
			struct mgr_blob_ref pubkey, ca_cert;
		} identity;
		struct {
			struct mgr_blob_ref attest, sig, ak_public;
		} deep_quote;
	} u;
};

/* Parses the response to a request of op rsp->op (set it first) received
 * on channel ch.  MGR_RC_OK when the bytes are well-formed (the peer's
 * answer is then in rsp->rc, which may itself be an error), else
 * MGR_RC_MALFORMED / MGR_RC_TOO_BIG with why. */
enum mgr_rc mgr_rsp_parse(enum mgr_channel ch, const uint8_t *buf, size_t len,
			  struct mgr_rsp *rsp, char *why, size_t why_len);
/* Encodes rsp (rsp->op says which params; rc != OK: rsp->msg is sent,
 * non-printable bytes replaced by '?', cut at MGR_MSG_MAX).  Length, or 0
 * when invalid or it does not fit in cap. */
size_t mgr_rsp_encode(const struct mgr_rsp *rsp, uint8_t *buf, size_t cap);
/* An error response for op with rc and a printf-style message; always fits
 * in MGR_HDR_LEN + 2 + MGR_MSG_MAX bytes.  Length, or 0 if cap is less. */
size_t mgr_rsp_error(uint32_t op, enum mgr_rc rc, uint8_t *buf, size_t cap,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ----------------------------------------------- control client (dom0) */

/* Connects to the manager's control socket at path (SOCK_SEQPACKET).  The
 * fd, or -errno with why ("connect /run/...: No such file or directory").
 */
int mgr_ctl_connect(const char *path, char *why, size_t why_len);
/* Sends req, waits up to timeout_ms for the answer, parses it into rsp
 * (rsp->op is set here).  buf (MGR_CTL_MSG_MAX bytes, the caller's) holds
 * the response bytes that rsp borrows.  0 when a well-formed answer
 * arrived (look at rsp->rc), else -errno (-EPROTO: malformed answer,
 * -ETIMEDOUT, -ECONNRESET) with why.  After any error, close fd: answers
 * do not name their op, so a late one would pass for the next call's. */
int mgr_ctl_call(int fd, const struct mgr_req *req, struct mgr_rsp *rsp,
		 uint8_t *buf, int timeout_ms, char *why, size_t why_len);

#endif /* HVSEC_MGR_PROTO_H */
