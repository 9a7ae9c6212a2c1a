/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrguest - a stand-in for an instance stub on the manager's ring, for
 * tests/vtpm-manager/mgrd.sh: a guest of hvsecd that connects to the
 * manager as a tpmif v2 frontend (libvtpmfront, device 0) and speaks the
 * manager's protocol (mgr_proto.h).  The real instance is hvsec-vtpmd.
 *
 * Runs its actions in order, one console line each ("ACTION: ok ..." or
 * "ACTION: FAIL ..."), then "mgrguest: done" (or "stopped" at the first
 * failure):
 *   connect            vtpmfront_connect
 *   open:UUID          OPEN; ok NEW|EXISTING gens=P,V,S
 *   commit:NAME:GEN    COMMIT one state (present, tag from GEN)
 *   refuse:OP:RC       the next OPEN (OP=open:UUID) or COMMIT
 *                      (OP=commit:NAME:GEN) must be refused with RC
 *   commits:N          N COMMITs of permall back to back after the last
 *                      one seen; prints the latency of each round trip
 *   provision          PROVISION an RSA-2048 and a P-256 EK made here
 *                      (keys from OpenSSL in the TCG templates); prints
 *                      the P-256 EK's TPM2B_PUBLIC in hex (ekpub=...)
 *   close              CLOSE
 *   hold               sleep until destroyed
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"
#include "tests/vtpm-manager/ekgen.h"
#include "vtpm-instance/front/vtpmfront.h"
#include "vtpm-manager/mgr_proto.h"
#include "vtpm-manager/mgrd.h"

static struct vtpmfront *fr;
static uint64_t gen[MGR_STATE_NAMES];
static uint8_t rbuf[MGR_RING_MSG_MAX];

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One request; 0 with rsp parsed, or -errno. */
static int xfer(const struct mgr_req *q, struct mgr_rsp *r, char *why,
		size_t wl)
{
	uint8_t req[MGR_RING_MSG_MAX];
	size_t n = mgr_req_encode(q, req, sizeof(req)), rl = 0;
	int rc;

	if (!n) {
		snprintf(why, wl, "not encodable");
		return -EINVAL;
	}
	rc = vtpmfront_transmit(fr, req, n, 0, rbuf, sizeof(rbuf), &rl, 30000);
	if (rc) {
		snprintf(why, wl, "transmit: %s", strerror(-rc));
		return rc;
	}
	memset(r, 0, sizeof(*r));
	r->op = q->op;
	if (mgr_rsp_parse(MGR_CH_INSTANCE, rbuf, rl, r, why, wl) != MGR_RC_OK)
		return -EPROTO;
	return 0;
}

static int build(const char *a, struct mgr_req *q, char *why, size_t wl)
{
	memset(q, 0, sizeof(*q));
	if (!strncmp(a, "open:", 5)) {
		q->op = MGR_OP_OPEN;
		if (vtpm_mgr_uuid_parse(a + 5, &q->u.open.uuid)) {
			snprintf(why, wl, "bad uuid");
			return -1;
		}
		return 0;
	}
	if (!strncmp(a, "commit:", 7)) {
		char name[32];
		unsigned long long g;

		if (sscanf(a + 7, "%31[a-z]:%llu", name, &g) != 2 ||
		    !mgr_state_name_from_str(name)) {
			snprintf(why, wl, "bad commit");
			return -1;
		}
		q->op = MGR_OP_COMMIT;
		q->u.commit.name = mgr_state_name_from_str(name);
		q->u.commit.present = true;
		q->u.commit.generation = g;
		memset(q->u.commit.tag, (int)(g & 0xff) | 1, MGR_TAG_LEN);
		return 0;
	}
	if (!strcmp(a, "close")) {
		q->op = MGR_OP_CLOSE;
		return 0;
	}
	snprintf(why, wl, "unknown action");
	return -1;
}

static int act(const char *a)
{
	struct mgr_req q;
	struct mgr_rsp r;
	char why[512] = "";
	int rc;

	if (!strcmp(a, "connect")) {
		struct hvg *g = NULL;
		struct xs_handle *xs;

		if (hvg_open(&g) || !(xs = hvg_xs_open())) {
			printf("connect: FAIL hypercall channel or XenStore\n");
			return -1;
		}
		rc = vtpmfront_connect(g, xs, 0, 10000, &fr, why, sizeof(why));
		printf("connect: %s %s\n", rc ? "FAIL" : "ok", why);
		return rc;
	}
	if (!strcmp(a, "hold")) {
		printf("hold: ok\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strncmp(a, "commits:", 8)) {
		unsigned n = (unsigned)atoi(a + 8), i;
		int64_t sum = 0, max = 0, t;

		for (i = 0; i < n; i++) {
			memset(&q, 0, sizeof(q));
			q.op = MGR_OP_COMMIT;
			q.u.commit.name = MGR_STATE_PERMALL;
			q.u.commit.present = true;
			q.u.commit.generation = gen[0] + 1;
			memset(q.u.commit.tag, 0x5a, MGR_TAG_LEN);
			t = now_us();
			if (xfer(&q, &r, why, sizeof(why)) || r.rc) {
				printf("%s: FAIL at %u: %s %s\n", a, i, why,
				       r.msg);
				return -1;
			}
			t = now_us() - t;
			sum += t;
			max = t > max ? t : max;
			gen[0]++;
		}
		printf("%s: ok %u commits, avg %lld us, max %lld us\n", a, n,
		       (long long)(n ? sum / n : 0), (long long)max);
		return 0;
	}
	if (!strncmp(a, "refuse:", 7)) {
		const char *op = a + 7, *last = strrchr(a, ':');
		char what[128];
		unsigned want = (unsigned)atoi(last + 1);

		snprintf(what, sizeof(what), "%.*s", (int)(last - op), op);
		if (build(what, &q, why, sizeof(why)) ||
		    xfer(&q, &r, why, sizeof(why))) {
			printf("%s: FAIL %s\n", a, why);
			return -1;
		}
		if (r.rc != want) {
			printf("%s: FAIL rc %u: %s\n", a, r.rc, r.msg);
			return -1;
		}
		printf("%s: ok refused: %s\n", a, r.msg);
		return 0;
	}
	if (!strcmp(a, "provision")) {
		static uint8_t pub[2][600];
		size_t len[2];
		EVP_PKEY *k[2] = {ekgen_key(MGR_EK_RSA2048),
				  ekgen_key(MGR_EK_ECC_P256)};

		memset(&q, 0, sizeof(q));
		q.op = MGR_OP_PROVISION;
		q.u.provision.count = 2;
		for (unsigned i = 0; i < 2; i++) {
			enum mgr_ek_kind kind =
				i ? MGR_EK_ECC_P256 : MGR_EK_RSA2048;

			len[i] = k[i] ? ekgen_public(kind, k[i], NULL, pub[i],
						     sizeof(pub[i]))
				      : 0;
			q.u.provision.ek[i] = (struct mgr_ek_item){
				kind, {pub[i], (uint32_t)len[i]}};
			EVP_PKEY_free(k[i]);
		}
		q.u.provision.info.manufacturer = 0x49424d00;
		snprintf(q.u.provision.info.family,
			 sizeof(q.u.provision.info.family), "2.0");
		q.u.provision.info.revision = 164;
		if (!len[0] || !len[1] || xfer(&q, &r, why, sizeof(why)) ||
		    r.rc || r.u.provision.count != 2) {
			printf("provision: FAIL %s %s\n", why, r.msg);
			return -1;
		}
		printf("provision: ok 2 certs (%u and %u bytes) ekpub=",
		       r.u.provision.cert[0].data.len,
		       r.u.provision.cert[1].data.len);
		for (size_t i = 0; i < len[1]; i++)
			printf("%02x", pub[1][i]);
		printf("\n");
		return 0;
	}
	if (build(a, &q, why, sizeof(why)) || xfer(&q, &r, why, sizeof(why))) {
		printf("%s: FAIL %s\n", a, why);
		return -1;
	}
	if (r.rc) {
		printf("%s: FAIL rc %u %s: %s\n", a, r.rc, mgr_rc_str(r.rc),
		       r.msg);
		return -1;
	}
	if (q.op == MGR_OP_OPEN) {
		for (unsigned i = 0; i < MGR_STATE_NAMES; i++)
			gen[i] = r.u.open.ref[i].generation;
		printf("%s: ok %s gens=%llu,%llu,%llu\n", a,
		       r.u.open.status == MGR_OPEN_NEW ? "NEW" : "EXISTING",
		       (unsigned long long)gen[0], (unsigned long long)gen[1],
		       (unsigned long long)gen[2]);
	} else if (q.op == MGR_OP_COMMIT) {
		gen[q.u.commit.name - 1] = q.u.commit.generation;
		printf("%s: ok\n", a);
	} else {
		printf("%s: ok\n", a);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (act(argv[i])) {
			printf("mgrguest: stopped\n");
			for (;;)
				pause();
		}
	}
	printf("mgrguest: done\n");
	for (;;)
		pause();
}
