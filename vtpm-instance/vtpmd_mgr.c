/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vtpmd_mgr.c - hvsec-vtpmd's manager mode (--manager DOMID; docs/vtpm.md
 * "Manager mode"): this stub is a tpmif v2 frontend of the vTPM manager
 * domain, as Xen's vtpm stubdoms are of vtpmmgr.
 *
 *   connect   the toolstack wrote /local/domain/SELF/device/vtpm/0 and
 *             the manager's backend directory before unpausing us; the
 *             backend must be the domain --manager names.
 *   OPEN      our uuid (from argv; the manager knows us by the ring's
 *             peer domid and the toolstack's ATTACH, not by this claim).
 *   NEW       libtpms manufactures on a batch store in front of the
 *             sealed store, both EKs are created, PROVISION has the
 *             manager's CA certify them, the certificates are written,
 *             the platform hierarchy locked, and the batch commits as one
 *             sealed blob + one COMMIT.  A crash before that COMMIT leaves
 *             nothing committed: the next OPEN is NEW again.
 *   EXISTING  the store finds exactly the committed blobs or refuses
 *             (rollback, a blob of another instance, a wrong key).
 *
 * A refusal is fatal and is never answered by manufacturing again: the
 * guest would silently get a TPM with another EK.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "vtpm-instance/vtpmd.h"

#define MGR_CONNECT_MS 5000
/* A commit waits for the manager's group commit (one platform-TPM NV
 * increment, 16-30 ms on swtpm, more under load); a manager that does
 * not answer in this long is as good as gone. */
#define MGR_CALL_MS 15000

static int link_call(void *ctx, const uint8_t *req, size_t req_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len, char *why,
		     size_t why_len)
{
	struct vtpmd_mgr *m = ctx;
	unsigned n = 0;
	int rc;

	*rsp_len = 0;
	if (!m->front) {
		snprintf(why, why_len, "no ring to the manager");
		return -ENOTCONN;
	}
	rc = plat_front_transmit(m->front, req, (unsigned)req_len, rsp,
				 (unsigned)rsp_cap, &n, MGR_CALL_MS);
	if (rc) {
		snprintf(why, why_len, "ring: %s", vtpmd_strerror(rc));
		return rc;
	}
	*rsp_len = n;
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Where provisioning time goes, for the log (the ≤ 60 ms goal). */
struct phases {
	struct vtpmd_mgr *m;
	uint64_t certify_us;
};

static int timed_certify(void *ctx, const struct vtpm_ek_public pub[2],
			 const struct vtpm_ek_tpm_info *info, uint8_t *der[2],
			 size_t len[2], char *why, size_t why_len)
{
	struct phases *ph = ctx;
	uint64_t t0 = now_us();
	int rc = vtpm_mgr_certify(&ph->m->link, pub, info, der, len, why,
				  why_len);

	ph->certify_us = now_us() - t0;
	return rc;
}

/* NEW: manufacture and provision in this process, commit once, and keep
 * the TPM on (platform hierarchy locked from now on): a power cycle
 * would cost a MainInit and the state store of another Startup - one
 * more COMMIT - before the guest is served.  The batch store, in
 * passthrough after its commit, stays in front of the sealed one. */
static int manufacture(struct vtpmd *d, struct vtpmd_mgr *m, char *why,
		       size_t why_len)
{
	struct vtpm_tpm_stats st;
	struct phases ph = {.m = m};
	uint64_t t0 = now_us(), t_on = 0, t_prov = 0, t_commit = 0;
	int rc;

	if (d->cfg.tpm12)
		return 0; /* no EKs to certify: libtpms manufactures at the
			   * first power-on, straight into the store */
	rc = vtpm_ek_batch_open(&m->batch, &m->store, why, why_len);
	if (rc)
		return rc;
	m->batch_open = true;
	rc = vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &m->batch,
							 .tpm12 = false,
							 .platform_open = true},
			       why, why_len);
	if (rc)
		return rc;
	t_on = now_us();
	vtpm_tpm_stats(&st);
	if (!st.manufactured) {
		/* The store had state after all: the manager said NEW. */
		snprintf(why, why_len,
			 "the manager said NEW but the store holds a TPM");
		rc = -EPROTO;
	}
	if (!rc)
		rc = vtpm_provision(timed_certify, &ph, why, why_len);
	t_prov = now_us();
	if (!rc)
		rc = vtpm_ek_batch_commit(&m->batch, why, why_len);
	t_commit = now_us();
	if (!rc && vtpm_store_mgr_error(&m->store)[0]) {
		snprintf(why, why_len, "%s", vtpm_store_mgr_error(&m->store));
		rc = -EIO;
	}
	if (!rc)
		rc = vtpm_tpm_end_provisioning(why, why_len);
	if (rc)
		vtpm_tpm_power_off();
	else
		m->tpm_on = true;
	if (!rc)
		snprintf(m->phases, sizeof(m->phases),
			 "manufacture %.1f, EKs %.1f, PROVISION %.1f, commit "
			 "%.1f ms",
			 (double)(t_on - t0) / 1000.0,
			 (double)(t_prov - t_on - ph.certify_us) / 1000.0,
			 (double)ph.certify_us / 1000.0,
			 (double)(t_commit - t_prov) / 1000.0);
	return rc;
}

int vtpmd_mgr_start(struct vtpmd *d, struct vtpmd_mgr *m, char *why,
		    size_t why_len)
{
	struct vtpm_mgr_session s;
	enum mgr_open_status status;
	struct mgr_uuid uuid;
	char w[400];
	uint64_t t0 = now_us();
	int rc;

	memset(m, 0, sizeof(*m));
	snprintf(m->uuid, sizeof(m->uuid), "%s", d->cfg.uuid);
	m->link.call = link_call;
	m->link.ctx = m;
	if (vtpm_mgr_uuid_parse(d->cfg.uuid, &uuid)) {
		snprintf(why, why_len, "--uuid %s: not a UUID", d->cfg.uuid);
		return -EINVAL;
	}
	/* A XenStore connection of its own: libvtpmfront watches and drains
	 * watch events, and must not eat the backend watch's first event,
	 * which starts our own state machine (vtpmd_xb_start). */
	m->xs = xs_open(0);
	if (!m->xs) {
		snprintf(why, why_len, "XenStore: %s", vtpmd_strerror(-errno));
		return -EIO;
	}
	rc = plat_front_connect(d->plat, m->xs, 0, MGR_CONNECT_MS, &m->front,
				w, sizeof(w));
	if (rc) {
		snprintf(why, why_len, "vTPM manager %u: connecting: %s",
			 d->cfg.manager_id, w);
		return rc;
	}
	/* The toolstack's nodes named the backend; argv is the authority. */
	if (plat_front_backend_id(m->front) != d->cfg.manager_id) {
		snprintf(why, why_len,
			 "vTPM manager: device/vtpm/0 names backend domain "
			 "%u, not --manager %u",
			 plat_front_backend_id(m->front), d->cfg.manager_id);
		return -EPERM;
	}
	rc = vtpm_mgr_open(&m->link, &uuid, d->cfg.tpm12 ? MGR_OPEN_F_TPM12 : 0,
			   &s, w, sizeof(w));
	if (rc) {
		snprintf(why, why_len, "vTPM manager %u: %s", d->cfg.manager_id,
			 w);
		return rc;
	}
	m->opened = true;
	status = s.status;
	rc = vtpm_store_mgr_open(&m->store, d->cfg.state_dir, &m->link, &s, w,
				 sizeof(w));
	vtpm_mgr_session_wipe(&s);
	if (rc) {
		snprintf(why, why_len, "state directory %s: %s",
			 d->cfg.state_dir, w);
		return rc;
	}
	m->store_open = true;
	if (status == MGR_OPEN_NEW) {
		rc = manufacture(d, m, w, sizeof(w));
		if (rc) {
			snprintf(why, why_len,
				 "manufacturing a new vTPM: %s", w);
			return rc;
		}
		m->manufactured = true;
		m->provision_us = now_us() - t0;
	}
	vtpmd_log("vTPM manager %u: instance %s %s%s", d->cfg.manager_id,
		  d->cfg.uuid,
		  status == MGR_OPEN_NEW ? "NEW: manufactured, EKs certified "
					     "by the manager, committed"
					   : "EXISTING: committed state loaded",
		  "");
	if (m->manufactured)
		vtpmd_log("vTPM manager: provisioning took %.1f ms (%s)",
			  (double)m->provision_us / 1000.0, m->phases);
	return 0;
}

void vtpmd_mgr_stop(struct vtpmd_mgr *m, bool clean)
{
	struct vtpm_store_mgr_stats st;
	char why[400];

	vtpm_store_mgr_stats(&m->store, &st);
	if (st.writes)
		vtpmd_log("sealed store: %llu writes committed, mean %.2f ms "
			  "(COMMIT round trip %.2f ms), max %.2f ms%s%s",
			  (unsigned long long)st.writes,
			  (double)st.total_us / 1000.0 / (double)st.writes,
			  (double)st.commit_us / 1000.0 / (double)st.writes,
			  (double)st.max_us / 1000.0,
			  vtpm_store_mgr_error(&m->store)[0] ? "; last failure: "
							     : "",
			  vtpm_store_mgr_error(&m->store));
	if (m->batch_open)
		vtpm_store_close(&m->batch);
	m->batch_open = false;
	if (m->store_open)
		vtpm_store_close(&m->store);
	m->store_open = false;
	if (clean && m->opened && m->front &&
	    vtpm_mgr_close(&m->link, why, sizeof(why)))
		vtpmd_log("vTPM manager: %s", why);
	m->opened = false;
	plat_front_close(m->front);
	m->front = NULL;
	if (m->xs)
		xs_close(m->xs);
	m->xs = NULL;
}
