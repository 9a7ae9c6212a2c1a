/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpm.h - the vTPM instance module's whole interface: one guest's TPM
 * (libtpms, one per process), its NV storage, and the backend half of the
 * Xen tpmif v2 shared page (xen/io/tpmif.h).  Nothing here knows which
 * platform (hvsecd model or real Xen) delivers the page: the daemon
 * (vtpmd_*.c) maps it through hypervisor/plat/plat.h and hands this module
 * a pointer.
 *
 *   struct vtpm_store st;  vtpm_store_file_open(&st, "/state/dir", ...);
 *   vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &st}, ...);
 *   for (;;) {                         (on each event-channel notification)
 *       switch (vtpm_ring_fetch(page, allowed, &req, why, sizeof(why))) {
 *       case VTPM_FETCH_REQUEST:
 *           vtpm_tpm_process(req.cmd, req.len, req.locality, rsp, ...);
 *           vtpm_ring_respond(page, &req, rsp, rsp_len);   then notify
 *       ...
 *
 * Single fetch: every shared field is read exactly once, into locals,
 * before it is validated; the request bytes are copied out of the page
 * before the TPM sees them; nothing read from the page is read again.
 */
#ifndef HVSEC_VTPM_H
#define HVSEC_VTPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm-manager/mgr_proto.h" /* the manager link and store */

/* ---------------------------------------------------------------- ring */

#define VTPM_PAGE_SIZE	     4096u
#define VTPM_RING_HDR_SIZE   8u /* length u32, state, locality, pad, nr_extra_pages */
#define VTPM_RING_MAX_PAYLOAD (VTPM_PAGE_SIZE - VTPM_RING_HDR_SIZE) /* 4088 */
#define VTPM_TPM_MIN_COMMAND 10u /* tag u16, size u32, code u32 */

/* enum tpmif_state of xen/io/tpmif.h (values checked against it). */
enum vtpm_ring_state {
	VTPM_RING_IDLE = 0,
	VTPM_RING_SUBMIT = 1,
	VTPM_RING_FINISH = 2,
	VTPM_RING_CANCEL = 3,
};

/* Localities a guest may use: bit n = locality n (0..4 exist).  The
 * default is {0}; libtpms trusts the locality we give it, so anything
 * outside this set is refused before the TPM sees it. */
#define VTPM_LOCALITY_DEFAULT_MASK 0x01u
#define VTPM_LOCALITY_ALL_MASK	   0x1fu

struct vtpm_ring_req {
	uint32_t len;	       /* bytes in cmd */
	uint8_t locality;
	uint16_t tag;	       /* the command's tag (for error responses) */
	uint32_t resp_offset;  /* where the response goes (8 + 4*nr, fetched once) */
	uint8_t cmd[VTPM_RING_MAX_PAYLOAD];
};

enum vtpm_fetch {
	VTPM_FETCH_NONE = 0,	 /* state is not SUBMIT or CANCEL: spurious */
	VTPM_FETCH_REQUEST = 1,	 /* req holds a validated command */
	VTPM_FETCH_CANCEL = 2,	 /* CANCEL while idle: call vtpm_ring_cancel_ack */
	VTPM_FETCH_INVALID = 3,	 /* hostile/malformed header: req->tag and
				  * req->resp_offset set; answer with
				  * vtpm_ring_respond_error(page, req, *rc) */
};

/* Reads the header once, validates it (length <= 4088 - 4*nr and >= 10,
 * the command's own size field equal to length, nr_extra_pages == 0 since
 * no frontend implements extra pages, locality in `allowed_localities`)
 * and copies the command out.  On VTPM_FETCH_INVALID, *rc is the TPM
 * response code to answer with (TPM_RC_COMMAND_SIZE, TPM_RC_LOCALITY, or
 * their 1.2 forms for a 1.2-tagged command) and why says what was wrong,
 * for the log.  When several things are wrong, the page's shape (extra
 * pages, length) wins over the size field, which wins over the locality.
 * pad is ignored (Linux zeroes it; nothing gives it a meaning).  The page
 * is never written and must be 4-byte aligned (it is a page).  why may be
 * NULL; it is "" on REQUEST. */
enum vtpm_fetch vtpm_ring_fetch(volatile void *page, uint32_t allowed_localities,
				struct vtpm_ring_req *req, uint32_t *rc,
				char *why, size_t why_len);

/* Writes the response at req->resp_offset (never re-reading the page),
 * then `length`, then a write barrier, then state = FINISH.  The caller
 * notifies the event channel afterwards.  A response that would not fit
 * the page is replaced by a TPM_RC_FAILURE response: the guest always gets
 * a well-formed answer. */
void vtpm_ring_respond(volatile void *page, const struct vtpm_ring_req *req,
		       const uint8_t *rsp, size_t rsp_len);
/* A 10-byte error response (tag from the request's family) written as
 * above. */
void vtpm_ring_respond_error(volatile void *page,
			     const struct vtpm_ring_req *req, uint32_t rc);
/* CANCEL seen while no command is in progress: state = IDLE (after a
 * barrier); the caller notifies. */
void vtpm_ring_cancel_ack(volatile void *page);
/* The state byte, read once. */
uint8_t vtpm_ring_state(const volatile void *page);

/* A 10-byte TPM error response into buf (cap >= 10): TPM 2.0 tag
 * TPM_ST_NO_SESSIONS (0x8001) unless req_tag is a TPM 1.2 tag
 * (0x00C1..0x00C3), which gets TPM_TAG_RSP_COMMAND (0x00C4).  Returns 10,
 * or 0 (nothing written) when buf is NULL or cap < 10. */
size_t vtpm_error_response(uint8_t *buf, size_t cap, uint16_t req_tag,
			   uint32_t rc);
/* True for the TPM 1.2 request tags 0x00C1..0x00C3. */
bool vtpm_tag_is_tpm12(uint16_t tag);

/* The response codes this module answers with itself.  A request with a
 * TPM 1.2 tag is answered in 1.2 terms (VTPM12_*), any other in 2.0 terms
 * (TPM 2.0 Part 2 TPM_RC; TPM 1.2 Part 2 §16 return codes). */
#define VTPM_RC_SUCCESS		0x000u
#define VTPM_RC_INITIALIZE	0x100u /* Startup after Startup */
#define VTPM_RC_FAILURE		0x101u
#define VTPM_RC_COMMAND_SIZE	0x142u
#define VTPM_RC_LOCALITY	0x907u
#define VTPM_RC_NV_UNAVAILABLE	0x923u
#define VTPM12_FAIL		0x009u
#define VTPM12_BAD_ORDINAL	0x00au
#define VTPM12_BAD_PARAM_SIZE	0x019u
#define VTPM12_INVALID_POSTINIT 0x026u
#define VTPM12_BAD_LOCALITY	0x03du

/* ------------------------------------------------------------- storage */

/* Where a TPM's NV state lives.  Names are libtpms' ("permall",
 * "volatilestate", "savestate").  store() returns only once the data is
 * durable (atomic replace + fsync for files): a TPM response that depends
 * on it is released after that.  All return 0 or -errno; load returns
 * -ENOENT when there is no such state yet (a TPM to manufacture). */
struct vtpm_store_ops {
	int (*load)(void *ctx, const char *name, uint8_t **data, size_t *len);
	int (*store)(void *ctx, const char *name, const uint8_t *data,
		     size_t len);
	int (*remove)(void *ctx, const char *name);
	void (*close)(void *ctx);
};
struct vtpm_store {
	const struct vtpm_store_ops *ops;
	void *ctx;
};

#define VTPM_STATE_MAX (1u << 20) /* a state blob larger than this is corrupt */

/* A directory of files NAME (mode 0600), replaced atomically (write to a
 * temporary, fsync, rename, fsync the directory).  The directory must
 * exist and be ours.  Data loaded is malloc'd (caller frees). */
int vtpm_store_file_open(struct vtpm_store *st, const char *dir, char *why,
			 size_t why_len);
void vtpm_store_close(struct vtpm_store *st);

/* ----------------------------------------------------------------- TPM */

struct vtpm_tpm_config {
	const struct vtpm_store *store; /* kept; outlives the TPM */
	bool tpm12;			/* TPM 1.2 instead of 2.0 */
	uint32_t buffer_size;		/* 0: 4088, what one ring page carries */
	/* Leave the platform hierarchy enabled after Startup: only for the
	 * manufacturer's provisioning (vtpm_ek_*), before any guest talks
	 * to the TPM.  Otherwise power-on and reset end with
	 * vtpm_ek_lock_platform (TPM 2.0): with libtpms' empty platformAuth
	 * a guest could replace its EK certificates or change its seed. */
	bool platform_open;
};

/* Chooses the version, registers the NV and I/O callbacks, sets the
 * buffer size, MainInit (manufacturing a new TPM when the store has no
 * state), then Startup(CLEAR) (TPM_Startup(ST_CLEAR) for 1.2): guests
 * never start their TPM.  0 or -errno with why.  One TPM per process. */
int vtpm_tpm_power_on(const struct vtpm_tpm_config *cfg, char *why,
		      size_t why_len);
/* Runs one command at `locality` (already validated).  Always writes a
 * well-formed response to rsp (cap >= VTPM_RING_MAX_PAYLOAD) and returns
 * its length: libtpms' answer, or a TPM error response when the command is
 * refused here (Startup from a guest: TPM_RC_INITIALIZE; a too-short
 * command: TPM_RC_COMMAND_SIZE), when libtpms fails, or when a state store
 * it triggered did not become durable (TPM_RC_NV_UNAVAILABLE for 2.0; the
 * response that depends on it is never released). */
size_t vtpm_tpm_process(const uint8_t *cmd, size_t cmd_len, uint8_t locality,
			uint8_t *rsp, size_t cap);
/* The platform reset: the guest rebooted.  Terminate, MainInit from the
 * stored state, Startup(CLEAR): PCRs reset, NV kept. */
int vtpm_tpm_reset(char *why, size_t why_len);
/* Provisioning is over on a TPM powered on with platform_open: the
 * platform hierarchy is disabled now (vtpm_ek_lock_platform) and after
 * every later reset, as for any other power-on.  Saves the power cycle
 * (and the state store of its Startup) a freshly made TPM would otherwise
 * need before it is served.  0 or -errno with why. */
int vtpm_tpm_end_provisioning(char *why, size_t why_len);
/* Orderly power-off: TPM2_Shutdown(CLEAR) is the guest's business; this
 * stores nothing further and terminates libtpms. */
void vtpm_tpm_power_off(void);
/* Counters for logs and tests, since the last power_on (kept across
 * reset and after power_off).  errors: commands answered with an error
 * response made here (refused, libtpms failure, store failure), not TPM
 * errors libtpms itself returns.  stores: state stores and deletes
 * libtpms asked for; store_failures: those that did not become durable.
 * manufactured: the last power_on found no state and made a new TPM. */
struct vtpm_tpm_stats {
	uint64_t commands, errors, stores, store_failures;
	bool manufactured;
};
void vtpm_tpm_stats(struct vtpm_tpm_stats *out);

/* ---- EK provisioning */
/*
 * vtpm_ek.c: the endorsement keys of this process's TPM and their
 * certificates, provisioned as a TPM vendor does at manufacture, through
 * vtpm_tpm_process at locality 0 (so every NV change is as durable on
 * return as the store makes it: see the batch store below).  Needs
 * libtss2-mu.  The sequence, for a TPM just manufactured
 * (vtpm_tpm_stats().manufactured), before the guest connects:
 *
 *   vtpm_ek_create(VTPM_EK_RSA2048, &pub, ...);     and VTPM_EK_ECC_P256
 *   vtpm_ek_tpm_info(&info, ...);
 *       the manager's CA certifies pub.spki (mgr_ca_issue_ek)
 *   vtpm_ek_write_cert(VTPM_EK_RSA2048, der, len, ...);   and ECC
 *   vtpm_ek_lock_platform(...);
 *
 * and after every later vtpm_tpm_power_on and vtpm_tpm_reset, before the
 * guest's first command: vtpm_ek_lock_platform().
 *
 * EKs: TCG EK Credential Profile 2.0 templates L-1 (RSA-2048, AES-128-CFB,
 * 256 zero bytes of unique) and L-2 (NIST P-256, AES-128-CFB, 2 x 32 zero
 * bytes), nameAlg SHA-256, fixedTPM|fixedParent|sensitiveDataOrigin|
 * adminWithPolicy|restricted|decrypt, authPolicy PolicySecret(
 * TPM_RH_ENDORSEMENT).  They are derived from the endorsement primary
 * seed, so the guest can recreate them (tpm2_createek) and the certificate
 * stays valid for as long as the seed does; they are made persistent at
 * the provisioning-guidance handles with owner auth (the handles are in
 * the owner's range), so a guest's TPM2_Clear removes the persistent
 * copies, as on a real TPM.
 *
 * Certificates: NV indices of the EK profile's low range, defined with
 * platform auth, PLATFORMCREATE|PPWRITE|WRITEDEFINE|PPREAD|OWNERREAD|
 * AUTHREAD|NO_DA (what TPM vendors and swtpm_setup use), written in
 * TPM_PT_NV_BUFFER_MAX chunks, then write-locked for good.
 *
 * The platform hierarchy.  On a PC the firmware owns it and closes it
 * before the OS runs; here nothing runs before the guest, libtpms' platform
 * auth is empty, and the guest talks to the very same TPM.  Left open, a
 * guest could undefine and replace the EK certificates, change the
 * endorsement seed (ChangeEPS: the certified EK disappears), clear the
 * TPM against the owner's will, disable hierarchies, define platform
 * indices, and so on.  vtpm_ek_lock_platform *disables* it
 * (HierarchyControl(platform, phEnable = NO)) rather than setting a random
 * platformAuth: no secret to generate, keep out of core dumps or lose;
 * no authorization of any kind (password, HMAC or platformPolicy) reaches
 * the hierarchy, rather than one nobody should know; and
 * TPM_PT_STARTUP_CLEAR shows phEnable = 0, which tools and verifiers can
 * check.  phEnableNV stays set so the certificates remain readable.  The
 * TPM re-enables the hierarchy at every Startup(CLEAR), hence the call
 * after every power-on and reset; it is idempotent and checks the result
 * (fails closed).
 *
 * All return 0 or -errno with why: -EINVAL bad arguments; -ENOENT nothing
 * at the handle/index; -EPERM a hierarchy refused (platform already
 * disabled, or the guest set the owner/endorsement auth); -EEXIST the
 * handle/index holds something that is not ours; -ENOSPC no room; -EIO
 * other TPM errors (why has the code); -EBADMSG a malformed response.
 */
enum vtpm_ek_kind {
	VTPM_EK_RSA2048 = 0,  /* template L-1 */
	VTPM_EK_ECC_P256 = 1, /* template L-2 */
};
#define VTPM_EK_RSA2048_HANDLE	 0x81010001u /* persistent EK handles */
#define VTPM_EK_ECC_P256_HANDLE	 0x81010002u
#define VTPM_EK_RSA2048_CERT_NV	 0x01c00002u /* EK certificate indices */
#define VTPM_EK_ECC_P256_CERT_NV 0x01c0000au

#define VTPM_EK_PUBLIC_MAX 512u	 /* TPM2B_PUBLIC: 316 bytes for RSA-2048 */
#define VTPM_EK_SPKI_MAX   300u	 /* DER: 294 bytes for RSA-2048, 91 P-256 */
#define VTPM_EK_CERT_MAX   2048u /* libtpms' TPM_PT_NV_INDEX_MAX */

struct vtpm_ek_public {
	enum vtpm_ek_kind kind;
	uint32_t handle;     /* where it is persistent */
	uint16_t public_len; /* bytes in public_area */
	/* The TPM2B_PUBLIC as the TPM marshals it (size prefix included). */
	uint8_t public_area[VTPM_EK_PUBLIC_MAX];
	uint16_t spki_len;		/* bytes in spki */
	uint8_t spki[VTPM_EK_SPKI_MAX]; /* DER SubjectPublicKeyInfo */
};

/* Creates the EK of `kind` (TPM2_CreatePrimary under TPM_RH_ENDORSEMENT),
 * makes it persistent at its handle (replacing a different key found
 * there; the same key is kept: retrying is safe) and returns its public
 * parts. */
int vtpm_ek_create(enum vtpm_ek_kind kind, struct vtpm_ek_public *out,
		   char *why, size_t why_len);
/* The persistent EK of `kind` as it is now (TPM2_ReadPublic).  -EEXIST
 * when the handle holds a key not made from the template: the owner
 * hierarchy is the guest's, which may evict and reuse the handle. */
int vtpm_ek_read_public(enum vtpm_ek_kind kind, struct vtpm_ek_public *out,
			char *why, size_t why_len);
/* Stores a DER certificate (1..VTPM_EK_CERT_MAX bytes, not parsed here)
 * at the index of `kind`, replacing our earlier one, and write-locks it.
 * Needs the platform hierarchy: before vtpm_ek_lock_platform. */
int vtpm_ek_write_cert(enum vtpm_ek_kind kind, const uint8_t *der, size_t len,
		       char *why, size_t why_len);
/* Reads the certificate of `kind` into buf (index auth: works whatever
 * the guest did to the owner's auth).  -ENOENT when absent or unwritten,
 * -ENOSPC when larger than cap. */
int vtpm_ek_read_cert(enum vtpm_ek_kind kind, uint8_t *buf, size_t cap,
		      size_t *len, char *why, size_t why_len);

/* What the TPM says it is, for the certificate's subjectAltName and
 * subjectDirectoryAttributes (TPM2_GetCapability, TPM_PT_*). */
struct vtpm_ek_tpm_info {
	uint32_t manufacturer;	    /* TPM_PT_MANUFACTURER: "IBM" for libtpms */
	uint32_t firmware_version1; /* TPM_PT_FIRMWARE_VERSION_1 */
	uint32_t firmware_version2;
	char family[5];	   /* TPM_PT_FAMILY_INDICATOR: "2.0" */
	uint32_t level;	   /* TPM_PT_LEVEL */
	uint32_t revision; /* TPM_PT_REVISION: 164 for 1.64 */
	char vendor[17];   /* TPM_PT_VENDOR_STRING_1..4, printable */
};
int vtpm_ek_tpm_info(struct vtpm_ek_tpm_info *out, char *why, size_t why_len);

/* Disables the platform hierarchy (phEnable = NO) until the next
 * Startup(CLEAR); see above.  Idempotent; fails unless the TPM then
 * reports phEnable clear and phEnableNV set. */
int vtpm_ek_lock_platform(char *why, size_t why_len);

/* Provisioning as one durable step.  Each NV change is a durable store
 * (file rewrite + two fsyncs, 3-4 ms on a VM disk), and manufacturing
 * plus two EKs plus two certificates make ten of them.  A batch store
 * sits in front of the real one: until vtpm_ek_batch_commit, stores and
 * removals are kept in memory (loads see them), so the whole provisioning
 * costs one durable store, and a crash before the commit leaves nothing
 * behind (the next power-on manufactures a new TPM: no half-provisioned
 * instance, no seed anyone saw).  After the commit every call goes
 * straight to `inner` again, with its durability.  Until then it breaks
 * the vtpm_store promise on purpose: use it only while no guest is
 * connected.
 *
 *   vtpm_ek_batch_open(&batch, &file_store, ...);
 *   vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &batch}, ...);
 *   ... vtpm_ek_create / write_cert / lock_platform ...
 *   vtpm_ek_batch_commit(&batch, ...);     then connect the guest
 *   ...  vtpm_tpm_power_off();  vtpm_store_close(&batch);
 *
 * Closing the batch store frees it, not `inner` (the caller's, which must
 * outlive it).  A failed commit leaves the store batched: power off and
 * start again from what `inner` holds. */
int vtpm_ek_batch_open(struct vtpm_store *st, const struct vtpm_store *inner,
		       char *why, size_t why_len);
int vtpm_ek_batch_commit(struct vtpm_store *st, char *why, size_t why_len);

/* ------------------------------------------------------- provisioning */
/*
 * vtpm_provision.c: the whole EK provisioning of a TPM just manufactured
 * (powered on with platform_open, on a batch store), shared by the dom0
 * file-store path (tools/hvt_manufacture.c, the host CA) and the manager
 * path (hvsec-vtpmd: PROVISION to hvsec-vtpm-managerd):
 *
 *   tpm info, both EKs created, certify(both publics) -> two DER
 *   certificates, both written, platform hierarchy locked.
 *
 * The batch commit stays the caller's: it decides where the state goes.
 * certify returns 0 and der[i] malloc'd (caller of the hook frees them:
 * this module does), len[i]; or -errno with why.  The order of pub[] is
 * VTPM_EK_RSA2048, VTPM_EK_ECC_P256. */
typedef int (*vtpm_certify_fn)(void *ctx, const struct vtpm_ek_public pub[2],
			       const struct vtpm_ek_tpm_info *info,
			       uint8_t *der[2], size_t len[2], char *why,
			       size_t why_len);
int vtpm_provision(vtpm_certify_fn certify, void *ctx, char *why,
		   size_t why_len);

/* ------------------------------------------------- the vTPM manager link */
/*
 * vtpm_mgr.c: this instance as a client of hvsec-vtpm-managerd on the
 * instance channel (vtpm-manager/mgr_proto.h), over a transport the caller
 * gives: hvsec-vtpmd's tpmif ring to the manager domain, a function in
 * tests.  Every answer is parsed strictly (mgr_rsp_parse) and checked
 * against what was asked (an OPEN's refs, a PROVISION's kinds).
 *
 * All return 0 or -errno with why:
 *   -EACCES   the manager refused (DENIED, BINDING, MIGRATED, DISABLED);
 *             why is "manager: <reason>: <its message>"
 *   -EBUSY    BUSY (the instance is open elsewhere)
 *   -ESTALE   GENERATION or STATE (out of step with the manager)
 *   -EIO      STORAGE / PLATFORM / INTERNAL: the manager failed closed
 *   -ENOENT   NOT_FOUND
 *   -EPROTO   malformed answer;  transport errors as the transport says.
 */
struct vtpm_mgr_link {
	/* One request, one response (at most MGR_RING_MSG_MAX bytes each):
	 * 0 with *rsp_len, or -errno with why. */
	int (*call)(void *ctx, const uint8_t *req, size_t req_len,
		    uint8_t *rsp, size_t rsp_cap, size_t *rsp_len, char *why,
		    size_t why_len);
	void *ctx;
};

/* What OPEN gave: the per-instance key (secret: vtpm_mgr_session_wipe)
 * and the committed state refs. */
struct vtpm_mgr_session {
	struct mgr_uuid uuid;
	enum mgr_open_status status;
	uint32_t flags; /* MGR_INST_F_* */
	uint8_t key[MGR_KEY_LEN];
	struct mgr_state_ref ref[MGR_STATE_NAMES]; /* [name - 1] */
};

int vtpm_mgr_open(const struct vtpm_mgr_link *l, const struct mgr_uuid *uuid,
		  uint32_t open_flags, struct vtpm_mgr_session *out, char *why,
		  size_t why_len);
int vtpm_mgr_commit(const struct vtpm_mgr_link *l, enum mgr_state_name name,
		    bool present, uint64_t generation,
		    const uint8_t tag[MGR_TAG_LEN], char *why, size_t why_len);
/* The certify hook of vtpm_provision for a link (ctx: the link). */
int vtpm_mgr_certify(void *link, const struct vtpm_ek_public pub[2],
		     const struct vtpm_ek_tpm_info *info, uint8_t *der[2],
		     size_t len[2], char *why, size_t why_len);
int vtpm_mgr_close(const struct vtpm_mgr_link *l, char *why, size_t why_len);
void vtpm_mgr_session_wipe(struct vtpm_mgr_session *s);
/* "01234567-89ab-..." <-> struct mgr_uuid.  0 or -EINVAL. */
int vtpm_mgr_uuid_parse(const char *s, struct mgr_uuid *out);

/*
 * vtpm_store_mgr.c: the store of an instance served by the manager.  Each
 * state NAME is an encrypted blob (mgr_blob_seal under the session key)
 * in the instance's own directory:
 *
 *   store   seal at generation committed + 1, write NAME.new (temporary,
 *           fsync, rename, fsync dir), COMMIT (name, generation, tag);
 *           only after the manager's OK rename NAME.new over NAME: so a
 *           crash anywhere leaves the committed blob on disk (as NAME or,
 *           between the commit and the rename, as NAME.new).  A failed or
 *           refused commit fails the store (the TPM answers
 *           TPM_RC_NV_UNAVAILABLE) and every store after it: the
 *           instance is out of step with its manager and stops writing.
 *   remove  COMMIT (name, generation + 1, not present), then unlink.
 *   open    for each name the manager says is present, NAME or NAME.new
 *           must be exactly the committed blob (mgr_blob_open +
 *           mgr_blob_check_committed); otherwise the open fails and why
 *           names the state and the rule ("permall: rollback: ...").
 *           Files of states the manager says are absent (a NEW instance,
 *           a removed state), and uncommitted NAME.new, are deleted.
 *
 * The directory must exist and be ours (as for the file store) and is
 * flock'ed while open.  The session is copied (its key too) and wiped
 * at close; the link must outlive the store. */
int vtpm_store_mgr_open(struct vtpm_store *st, const char *dir,
			const struct vtpm_mgr_link *link,
			const struct vtpm_mgr_session *s, char *why,
			size_t why_len);
/* The last store failure's why ("" when none), for the log. */
const char *vtpm_store_mgr_error(const struct vtpm_store *st);
/* What the stores cost (the manager mode's price per NV write): stores
 * and removals that committed, their total and worst time (seal, write,
 * fsyncs, COMMIT round trip, rename), the COMMIT round trips alone. */
struct vtpm_store_mgr_stats {
	uint64_t writes, total_us, max_us, commit_us;
};
void vtpm_store_mgr_stats(const struct vtpm_store *st,
			  struct vtpm_store_mgr_stats *out);

#endif /* HVSEC_VTPM_H */
