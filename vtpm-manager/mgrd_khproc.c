/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_khproc.c - the key-holder process: from the manager directory and
 * the platform TPM to a served socketpair.
 *
 * Start: platform TPM (the TCTI), the sealed root key unsealed with the
 * PCR policy (platform not in the sealed state: exit 3, naming the PCRs
 * that changed), the root record recovered against the NV counter and
 * fenced (none matches: exit 4), the CA, the identity key, the file of
 * certified EKs.  Then READY (or FATAL with the exit code) to the front,
 * which serves nothing before READY.
 *
 * Serve: block for one envelope, then take every other one already
 * waiting (up to MGRD_KH_BATCH); if the batch holds a COMMIT and a commit
 * window is set, wait up to that long for more - but only while fewer
 * COMMITs than open instances are in the batch: an instance has one
 * request in flight, so when all of them are in, nobody else can commit
 * (a lone instance never waits).  One mgrd_kh_batch, one root commit,
 * the answers sent in order.  The front's EOF ends us.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "vtpm-manager/mgr_ca.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_ptpm.h"
#include "vtpm-manager/mgrd.h"

#define MGRD_KH_BATCH 64u

static int send_env(int fd, uint32_t kind, uint32_t peer, const char *text)
{
	uint8_t buf[MGRD_ENV_HDR_LEN + 1024];
	size_t n = mgrd_env_encode(
		&(struct mgrd_env){.kind = kind,
				   .peer = peer,
				   .data = (const uint8_t *)text,
				   .len = (uint32_t)strnlen(text, 1024)},
		buf, sizeof(buf));

	if (!n || send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -errno;
	return 0;
}

/* Start refused: said on the console and to the front. */
static int fatal(int fd, int code, const char *msg)
{
	mgrd_log("%s", msg);
	send_env(fd, MGRD_ENV_FATAL, (uint32_t)code, msg);
	return code;
}

static bool is_commit(const uint8_t *env, size_t len)
{
	/* The op of an instance request, read from where mgr_proto puts it
	 * (only a hint for the window: the batch parses properly). */
	return len >= MGRD_ENV_HDR_LEN + MGR_HDR_LEN &&
	       env[MGRD_ENV_HDR_LEN + 6] == 0 &&
	       env[MGRD_ENV_HDR_LEN + 7] == 0 &&
	       env[MGRD_ENV_HDR_LEN + 8] == 0 &&
	       env[MGRD_ENV_HDR_LEN + 9] == MGR_OP_COMMIT;
}

static int serve(struct mgrd_kh *kh, int fd, uint32_t window_us)
{
	struct mgrd_kh_msg *m = calloc(MGRD_KH_BATCH, sizeof(*m));
	uint8_t *in = malloc((size_t)MGRD_KH_BATCH * MGRD_ENV_MAX);
	uint8_t *out = malloc((size_t)MGRD_KH_BATCH * MGRD_ENV_MAX);
	char why[256];
	int status = MGRD_EXIT_FAIL;

	if (!m || !in || !out) {
		mgrd_log("out of memory for the request buffers");
		goto out;
	}
	for (;;) {
		size_t n = 0;
		uint32_t commits = 0, open = 0;
		uint64_t deadline = 0;

		for (uint32_t i = 0; i < kh->natt; i++)
			open += kh->att[i].open;
		while (n < MGRD_KH_BATCH) {
			int flags = n ? MSG_DONTWAIT : 0;
			ssize_t r;

			/* Each instance has one request in flight: once every
			 * open one has sent its COMMIT, nobody else can. */
			if (n && commits && commits < open && window_us) {
				/* Wait out the window for more committers. */
				uint64_t now = mgrd_now_us();
				struct pollfd p = {fd, POLLIN, 0};

				if (!deadline)
					deadline = now + window_us;
				if (now >= deadline)
					break;
				if (poll(&p, 1,
					 (int)((deadline - now + 999) /
					       1000)) <= 0)
					break;
			}
			r = recv(fd, in + n * MGRD_ENV_MAX, MGRD_ENV_MAX,
				 flags | MSG_TRUNC);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				mgrd_log("socketpair: %s",
					 mgrd_strerror(-errno));
				goto out;
			}
			if (r == 0) {
				if (n)
					break; /* answer these, then go */
				status = MGRD_EXIT_OK; /* the front is gone */
				goto out;
			}
			if ((size_t)r > MGRD_ENV_MAX) {
				mgrd_log("an envelope of %zd bytes from the "
					 "front",
					 r);
				goto out;
			}
			m[n].in = in + n * MGRD_ENV_MAX;
			m[n].in_len = (size_t)r;
			m[n].out = out + n * MGRD_ENV_MAX;
			commits += is_commit(m[n].in, m[n].in_len);
			n++;
		}
		if (!n)
			continue;
		if (mgrd_kh_batch(kh, m, n, why, sizeof(why))) {
			mgrd_log("malformed message from the front: %s", why);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (!m[i].out_len)
				continue;
			if (send(fd, m[i].out, m[i].out_len, MSG_NOSIGNAL) !=
			    (ssize_t)m[i].out_len) {
				mgrd_log("socketpair send: %s",
					 mgrd_strerror(-errno));
				goto out;
			}
			OPENSSL_cleanse(m[i].out, m[i].out_len);
		}
		for (size_t i = 0; i < n; i++)
			OPENSSL_cleanse(in + i * MGRD_ENV_MAX, m[i].in_len);
	}
out:
	if (out)
		OPENSSL_cleanse(out, (size_t)MGRD_KH_BATCH * MGRD_ENV_MAX);
	free(out);
	free(in);
	free(m);
	return status;
}

/* The NV index the root record is bound to, from an authentic record
 * (root, else root.pending): the counter is not needed to decrypt. */
static int bound_index(struct mgr_rootdir *dir, const struct mgr_root_keys *k,
		       uint32_t *index, char *why, size_t why_len)
{
	static const char *const names[] = {MGR_ROOTDIR_ROOT,
					    MGR_ROOTDIR_PENDING};
	enum mgr_seal_err last = MGR_SEAL_E_NOT_FOUND;

	for (size_t i = 0; i < 2; i++) {
		struct mgr_root r;
		uint8_t *buf = NULL;
		size_t len = 0;

		last = mgr_rootdir_read(dir, names[i], &buf, &len, why,
					why_len);
		if (last)
			continue;
		last = mgr_root_decode(buf, len, k, &r, why, why_len);
		free(buf);
		if (!last)
			*index = r.nv_index;
		mgr_root_free(&r);
		if (!last)
			return 0;
	}
	return (int)last;
}

static int record_exit(enum mgr_seal_err e)
{
	switch (e) {
	case MGR_SEAL_E_NO_RECORD:
	case MGR_SEAL_E_ROLLBACK:
	case MGR_SEAL_E_COUNTER:
	case MGR_SEAL_E_AUTH:
	case MGR_SEAL_E_BINDING:
	case MGR_SEAL_E_NOT_FOUND:
		return MGRD_EXIT_RECORD;
	default:
		return MGRD_EXIT_FAIL;
	}
}

int mgrd_kh_main(int fd, const struct mgrd_opts *o)
{
	static struct mgrd_kh kh;	    /* large: not on the stack */
	static struct mgr_ptpm_counter ctr; /* ops keep its address */
	struct mgr_ptpm *tpm = NULL;
	struct mgr_rootdir *dir = NULL;
	struct mgr_root root;
	struct mgr_root_keys keys;
	struct mgr_ca *ca = NULL;
	struct mgr_ident *ident = NULL;
	uint8_t root_key[MGR_KEY_LEN], *blob = NULL;
	size_t blob_len = 0;
	uint32_t mask = 0, index = 0;
	char why[512], msg[768], path[4200], pcrs[80], u[37];
	enum mgr_ptpm_err pe;
	enum mgr_seal_err se;
	bool kh_up = false;
	int status, rc;

	mgrd_log_role("mgrd[kh]");
	/* Nothing may read this process's memory: no core, no ptrace. */
	prctl(PR_SET_DUMPABLE, 0);
	memset(&root, 0, sizeof(root));
	memset(&keys, 0, sizeof(keys));

	se = mgr_rootdir_open(&dir, o->dir, why, sizeof(why));
	if (se) {
		snprintf(msg, sizeof(msg), "manager directory %s: %s", o->dir,
			 why);
		status = fatal(fd, MGRD_EXIT_FAIL, msg);
		goto out;
	}
	se = mgr_rootdir_read(dir, MGR_ROOTDIR_SEALED_KEY, &blob, &blob_len,
			      why, sizeof(why));
	if (se) {
		snprintf(msg, sizeof(msg), "%s/%s: %s (initialise with --init)",
			 o->dir, MGR_ROOTDIR_SEALED_KEY, why);
		status = fatal(fd,
			       se == MGR_SEAL_E_NOT_FOUND ? MGRD_EXIT_FAIL
							  : MGRD_EXIT_PLATFORM,
			       msg);
		goto out;
	}
	if (mgr_ptpm_sealed_pcrs(blob, blob_len, &mask)) {
		snprintf(msg, sizeof(msg), "%s/%s is not a sealed-key file",
			 o->dir, MGR_ROOTDIR_SEALED_KEY);
		status = fatal(fd, MGRD_EXIT_PLATFORM, msg);
		goto out;
	}
	mgrd_format_pcrs(mask, pcrs, sizeof(pcrs));
	pe = mgr_ptpm_open(
		&tpm,
		&(struct mgr_ptpm_config){.tcti = o->tcti, .flush_stale = true},
		why, sizeof(why));
	if (pe) {
		snprintf(msg, sizeof(msg), "platform TPM %s: %s", o->tcti, why);
		status = fatal(fd, MGRD_EXIT_FAIL, msg);
		goto out;
	}
	pe = mgr_ptpm_unseal(tpm, blob, blob_len, root_key, why, sizeof(why));
	if (pe) {
		snprintf(msg, sizeof(msg),
			 "REFUSING TO SERVE: the root key does not unseal "
			 "(sealed to SHA-256 PCRs %s): %s",
			 pcrs, why);
		status = fatal(fd,
			       pe == MGR_PTPM_E_TCTI || pe == MGR_PTPM_E_NOMEM
				       ? MGRD_EXIT_FAIL
				       : MGRD_EXIT_PLATFORM,
			       msg);
		goto out;
	}
	se = mgr_root_derive_keys(root_key, &keys);
	OPENSSL_cleanse(root_key, sizeof(root_key));
	if (se) {
		status = fatal(fd, MGRD_EXIT_FAIL, "deriving the root keys");
		goto out;
	}
	rc = bound_index(dir, &keys, &index, why, sizeof(why));
	if (rc) {
		snprintf(msg, sizeof(msg),
			 "REFUSING TO SERVE: no authentic root record in %s: "
			 "%s",
			 o->dir, why);
		status = fatal(fd, record_exit((enum mgr_seal_err)rc), msg);
		goto out;
	}
	pe = mgr_ptpm_counter(tpm, index, keys.counter_auth,
			      sizeof(keys.counter_auth), &ctr);
	if (pe) {
		snprintf(msg, sizeof(msg), "NV counter 0x%08x: %s", index,
			 mgr_ptpm_strerror(pe));
		status = fatal(fd, MGRD_EXIT_FAIL, msg);
		goto out;
	}
	se = mgr_root_open(dir, &keys, &ctr.counter, &root, why, sizeof(why));
	if (se) {
		snprintf(msg, sizeof(msg),
			 "REFUSING TO SERVE: root record (NV counter "
			 "0x%08x): %s: %s",
			 index, mgr_seal_strerror(se), why);
		status = fatal(fd, record_exit(se), msg);
		goto out;
	}
	if (why[0])
		mgrd_log("root record: %s", why);
	snprintf(path, sizeof(path), "%s/%s", o->dir, MGRD_CA_FILE);
	rc = mgr_ca_load(path, &ca, why, sizeof(why));
	if (rc) {
		snprintf(msg, sizeof(msg), "CA %.200s: %.500s", path, why);
		status = fatal(fd, MGRD_EXIT_FAIL, msg);
		goto out;
	}
	free(blob);
	blob = NULL;
	se = mgr_rootdir_read(dir, MGR_ROOTDIR_IDENTITY, &blob, &blob_len, why,
			      sizeof(why));
	if (!se)
		se = mgr_ident_unseal(blob, blob_len, &keys, &ident, why,
				      sizeof(why));
	if (se) {
		/* Migration needs it; serving instances does not. */
		mgrd_log("identity key %s/%s: %s: EXPORT, IMPORT and "
			 "IDENTITY refused",
			 o->dir, MGR_ROOTDIR_IDENTITY, why);
		ident = NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", o->dir, MGRD_EKDB_FILE);
	rc = mgrd_kh_init(&kh,
			  &(struct mgrd_kh_config){
				  .dir = dir,
				  .ekdb_path = path,
				  .keys = &keys,
				  .counter = &ctr.counter,
				  .root = &root,
				  .ca = ca,
				  .ident = ident,
				  .tpm = tpm,
				  .pcr_mask = mask,
			  },
			  why, sizeof(why));
	/* Owned by kh now (freed by mgrd_kh_init on failure too). */
	ca = NULL;
	ident = NULL;
	tpm = NULL;
	if (rc) {
		snprintf(msg, sizeof(msg), "REFUSING TO SERVE: %s", why);
		status = fatal(fd, MGRD_EXIT_RECORD, msg);
		goto out;
	}
	kh_up = true;
	/* Everything is open: from here on files beneath the directory
	 * and the TPM's port only, no exec. */
	if (mgrd_sandbox_kh(o, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "REFUSING TO SERVE: %s", why);
		status = fatal(fd, MGRD_EXIT_FAIL, msg);
		goto out;
	}
	snprintf(msg, sizeof(msg),
		 "key holder ready: manager %s, %u instances, root "
		 "generation %llu (NV counter 0x%08x), root key unsealed "
		 "with SHA-256 PCRs %s, commit window %u us",
		 (mgrd_uuid_str(&kh.root.manager, u), u), kh.root.count,
		 (unsigned long long)kh.root.generation, index, pcrs,
		 o->commit_window_us);
	mgrd_log("%s", msg);
	if (send_env(fd, MGRD_ENV_READY, 0, msg)) {
		status = MGRD_EXIT_FAIL;
		goto out;
	}
	status = serve(&kh, fd, o->commit_window_us);
	mgrd_log("key holder stops: %llu requests (%llu refused), %llu "
		 "commits in %llu root commits",
		 (unsigned long long)kh.st.requests,
		 (unsigned long long)kh.st.refused,
		 (unsigned long long)kh.st.commits,
		 (unsigned long long)kh.st.commit_batches);
out:
	if (kh_up)
		mgrd_kh_fini(&kh);
	mgr_ptpm_counter_wipe(&ctr);
	mgr_root_free(&root);
	mgr_root_keys_wipe(&keys);
	mgr_ca_free(ca);
	mgr_ident_free(ident);
	if (tpm)
		mgr_ptpm_close(tpm);
	free(blob);
	mgr_rootdir_close(dir);
	return status;
}
