/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrd_init.c - `hvsec-vtpm-managerd --init`: a new manager directory,
 * run once, in dom0, before the manager is first started.
 *
 *   DIR (0700), created if missing; refused if it holds a manager already
 *   DIR/ca.pem        the EK certificate CA (mgr_ca), key and certificate
 *   DIR/identity      the migration identity key, sealed under the root key
 *   DIR/sealed-key    32 random bytes, the root key, sealed by the platform
 *                     TPM to the SHA-256 PCRs of --pcrs
 *   NV counter        --nv-index, authValue derived from the root key
 *   DIR/root          the empty root record, bound to the counter; written
 *                     last, so a directory with `root` is a whole manager
 *
 * The NV counter is defined first, so an index in use is found before
 * anything is written.  A later failure leaves a directory that a second
 * --init refuses and a counter nobody can use: the operator removes the
 * directory (nothing in it was ever used) and starts again with
 * --force-new-counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "vtpm-manager/mgr_ca.h"
#include "vtpm-manager/mgr_migrate.h"
#include "vtpm-manager/mgr_ptpm.h"
#include "vtpm-manager/mgrd.h"

static bool exists(const char *dir, const char *name)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

int mgrd_init(const struct mgrd_opts *o)
{
	static const char *const ours[] = {
		MGR_ROOTDIR_ROOT,	MGR_ROOTDIR_PENDING,
		MGR_ROOTDIR_SEALED_KEY, MGR_ROOTDIR_IDENTITY,
		MGRD_CA_FILE,		MGRD_EKDB_FILE,
	};
	static struct mgr_ptpm_counter ctr;
	struct mgr_ptpm *tpm = NULL;
	struct mgr_rootdir *dir = NULL;
	struct mgr_root root;
	struct mgr_root_keys keys;
	struct mgr_ca *ca = NULL;
	struct mgr_ident *ident = NULL;
	struct mgr_uuid manager;
	uint8_t root_key[MGR_KEY_LEN], *blob = NULL, *idblob = NULL;
	uint8_t spki[MGR_IDENT_SPKI_MAX], fpr[MGR_FPR_LEN];
	size_t blob_len = 0, id_len = 0, spki_len = 0;
	uint64_t counter = 0;
	char why[512], path[4200], pcrs[80], u[37], hex[2 * MGR_FPR_LEN + 1];
	enum mgr_ptpm_err pe;
	enum mgr_seal_err se;
	bool created = false;
	int status = MGRD_EXIT_FAIL;

	mgrd_log_role("mgrd");
	memset(&root, 0, sizeof(root));
	memset(&keys, 0, sizeof(keys));
	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
		mgrd_log("creating %s: %s", o->dir, mgrd_strerror(-errno));
		return MGRD_EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (exists(o->dir, ours[i])) {
			mgrd_log("%s is initialised already (it has %s): "
				 "refused",
				 o->dir, ours[i]);
			return MGRD_EXIT_EXISTS;
		}
	}
	se = mgr_rootdir_open(&dir, o->dir, why, sizeof(why));
	if (se) {
		mgrd_log("manager directory %s: %s", o->dir, why);
		goto out;
	}
	pe = mgr_ptpm_open(
		&tpm,
		&(struct mgr_ptpm_config){.tcti = o->tcti, .flush_stale = true},
		why, sizeof(why));
	if (pe) {
		mgrd_log("platform TPM %s: %s", o->tcti, why);
		goto out;
	}
	if (RAND_bytes(root_key, sizeof(root_key)) != 1 ||
	    RAND_bytes(manager.b, sizeof(manager.b)) != 1) {
		mgrd_log("RAND_bytes failed");
		goto out;
	}
	manager.b[6] = (uint8_t)((manager.b[6] & 0x0f) | 0x40);
	manager.b[8] = (uint8_t)((manager.b[8] & 0x3f) | 0x80);
	se = mgr_root_derive_keys(root_key, &keys);
	if (se) {
		mgrd_log("deriving the root keys: %s", mgr_seal_strerror(se));
		goto out;
	}

	/* The counter first: a conflict with another manager's index is
	 * found before anything is written. */
	pe = mgr_ptpm_counter_define(tpm, o->nv_index, keys.counter_auth,
				     sizeof(keys.counter_auth), why,
				     sizeof(why));
	if (pe == MGR_PTPM_E_NV_EXISTS && o->force_new_counter) {
		/* A TPM counter never goes back: redefined, it starts at the
		 * highest value any counter here ever held, so no old
		 * record of another manager can match it. */
		mgrd_log("NV index 0x%08x exists: undefined and defined "
			 "again (--force-new-counter)",
			 o->nv_index);
		pe = mgr_ptpm_counter_undefine(tpm, o->nv_index, why,
					       sizeof(why));
		if (!pe)
			pe = mgr_ptpm_counter_define(
				tpm, o->nv_index, keys.counter_auth,
				sizeof(keys.counter_auth), why, sizeof(why));
	}
	if (pe) {
		mgrd_log("NV counter 0x%08x: %s%s", o->nv_index, why,
			 pe == MGR_PTPM_E_NV_EXISTS
				 ? " (another manager's? --force-new-counter "
				   "replaces it)"
				 : "");
		goto out;
	}
	/* The CA and the identity first: cheap to redo, and nothing refers
	 * to them yet. */
	snprintf(path, sizeof(path), "%s/%s", o->dir, MGRD_CA_FILE);
	if (mgr_ca_open(path, MGRD_CA_NAME, &ca, &created, why, sizeof(why))) {
		mgrd_log("CA %s: %s", path, why);
		goto out;
	}
	se = mgr_ident_create(&ident, why, sizeof(why));
	if (!se)
		se = mgr_ident_seal(ident, &keys, &idblob, &id_len, why,
				    sizeof(why));
	if (!se)
		se = mgr_ident_public(ident, spki, sizeof(spki), &spki_len,
				      fpr);
	if (!se)
		se = mgr_rootdir_write(dir, MGR_ROOTDIR_IDENTITY, idblob,
				       id_len, why, sizeof(why));
	if (se) {
		mgrd_log("identity key: %s: %s", mgr_seal_strerror(se), why);
		goto out;
	}

	pe = mgr_ptpm_seal(tpm, o->pcrs, root_key, &blob, &blob_len, why,
			   sizeof(why));
	if (pe) {
		mgrd_log("sealing the root key: %s", why);
		status = MGRD_EXIT_PLATFORM;
		goto out;
	}
	se = mgr_rootdir_write(dir, MGR_ROOTDIR_SEALED_KEY, blob, blob_len, why,
			       sizeof(why));
	if (se) {
		mgrd_log("%s/%s: %s", o->dir, MGR_ROOTDIR_SEALED_KEY, why);
		goto out;
	}

	pe = mgr_ptpm_counter(tpm, o->nv_index, keys.counter_auth,
			      sizeof(keys.counter_auth), &ctr);
	if (pe) {
		mgrd_log("NV counter 0x%08x: %s", o->nv_index,
			 mgr_ptpm_strerror(pe));
		goto out;
	}
	mgr_root_init(&root, &manager, o->nv_index);
	se = mgr_root_create(dir, &keys, &ctr.counter, &root, why, sizeof(why));
	if (se) {
		mgrd_log("root record: %s: %s", mgr_seal_strerror(se), why);
		goto out;
	}
	if (ctr.counter.ops->read(ctr.counter.ctx, &counter, why, sizeof(why)))
		counter = root.generation;

	mgrd_format_pcrs(o->pcrs, pcrs, sizeof(pcrs));
	for (size_t i = 0; i < MGR_FPR_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", fpr[i]);
	mgrd_log("initialised %s: manager %s", o->dir,
		 (mgrd_uuid_str(&manager, u), u));
	mgrd_log("  root key      %s/%s, sealed to SHA-256 PCRs %s", o->dir,
		 MGR_ROOTDIR_SEALED_KEY, pcrs);
	mgrd_log("  NV counter    0x%08x = %llu", o->nv_index,
		 (unsigned long long)counter);
	mgrd_log("  root record   %s/%s, generation %llu, no instances", o->dir,
		 MGR_ROOTDIR_ROOT, (unsigned long long)root.generation);
	mgrd_log("  EK CA         %s/%s (%s)", o->dir, MGRD_CA_FILE,
		 created ? "new" : "kept");
	mgrd_log("  identity      %s/%s, SHA-256 %s", o->dir,
		 MGR_ROOTDIR_IDENTITY, hex);
	status = MGRD_EXIT_OK;
out:
	OPENSSL_cleanse(root_key, sizeof(root_key));
	mgr_ptpm_counter_wipe(&ctr);
	mgr_root_free(&root);
	mgr_root_keys_wipe(&keys);
	mgr_ca_free(ca);
	mgr_ident_free(ident);
	if (tpm)
		mgr_ptpm_close(tpm);
	free(blob);
	free(idblob);
	mgr_rootdir_close(dir);
	return status;
}
