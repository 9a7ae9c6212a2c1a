/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ptpm - the platform TPM (mgr_ptpm.h) against a swtpm this test
 * starts on free ports and stops at the end (skipped, saying so, only when
 * swtpm is not installed):
 *   - open (created or persistent storage key; a wrong handle or TCTI
 *     refused with the reason);
 *   - the root key sealed to PCRs 0,2,4,7 unseals; extending a PCR outside
 *     the policy changes nothing; extending PCR 4 makes unseal fail with
 *     TPM_RC_POLICY_FAIL naming PCR 4, and the manager refuses to serve;
 *     malformed, truncated, re-parented or re-labelled sealed files are
 *     refused;
 *   - the NV counter: define, read, increment, wrong auth, missing index,
 *     an index of another kind; undefine + define never goes back;
 *   - the root-record protocol on the real counter, crashing after each
 *     step, and a replayed record refused;
 *   - a deep quote whose signature, qualifyingData and PCR digest verify
 *     with OpenSSL;
 *   - times: open, seal, unseal, increment, read, quote (median of runs).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "tests/harness.h"
#include "vtpm-manager/mgr_ptpm.h"
#include "vtpm-manager/mgr_seal.h"

#define NV_INDEX 0x01800a70u
#define NV_OTHER 0x01800a71u
#define NV_PLAIN 0x01800a72u
#define PCRS	 MGR_PCRS_DEFAULT

static char tmp[64], tcti[96];
static pid_t swtpm_pid;
static int port;

static const char *PE(enum mgr_ptpm_err e)
{
	return mgr_ptpm_strerror(e);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------- the swtpm */

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[512];

	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path = end ? end + 1 : NULL;
	}
	return false;
}

static bool port_free(int p)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)p),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (s >= 0)
		close(s);
	return ok;
}

/* P and P+1 both free: ask the kernel for one, check the next. */
static int pick_ports(void)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr =
						htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(a);
		int s = socket(AF_INET, SOCK_STREAM, 0), p;

		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(s, (struct sockaddr *)&a, &len) < 0) {
			if (s >= 0)
				close(s);
			continue;
		}
		p = ntohs(a.sin_port);
		close(s);
		if (p < 65000 && port_free(p) && port_free(p + 1))
			return p;
	}
	return -1;
}

static bool connects(int p)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)p),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (s >= 0)
		close(s);
	return ok;
}

static void remove_tree(const char *d)
{
	char path[512];
	struct dirent *e;
	DIR *dp = opendir(d);

	while (dp && (e = readdir(dp))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		if (unlink(path) < 0)
			remove_tree(path);
	}
	if (dp)
		closedir(dp);
	rmdir(d);
}

static void stop_swtpm(void)
{
	if (swtpm_pid > 0) {
		kill(swtpm_pid, SIGTERM);
		waitpid(swtpm_pid, NULL, 0);
		swtpm_pid = 0;
	}
	if (tmp[0])
		remove_tree(tmp);
	tmp[0] = '\0';
}

static bool start_swtpm(void)
{
	char state[128], log[128], srv[64], ctrl[64], sdir[160];

	snprintf(tmp, sizeof(tmp), "/tmp/test_ptpm.XXXXXX");
	if (!mkdtemp(tmp))
		return false;
	snprintf(state, sizeof(state), "%s/tpm", tmp);
	snprintf(log, sizeof(log), "%s/swtpm.log", tmp);
	mkdir(state, 0700);
	for (int attempt = 0; attempt < 5; attempt++) {
		int st;

		port = pick_ports();
		if (port < 0)
			return false;
		snprintf(srv, sizeof(srv), "type=tcp,port=%d", port);
		snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d", port + 1);
		snprintf(sdir, sizeof(sdir), "dir=%s", state);
		swtpm_pid = fork();
		if (swtpm_pid < 0)
			return false;
		if (swtpm_pid == 0) {
			int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

			/* Dies with the test even when atexit never runs
			 * (a crash, a debugger that kills it). */
			prctl(PR_SET_PDEATHSIG, SIGTERM);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("swtpm", "swtpm", "socket", "--tpm2", "--server",
			       srv, "--ctrl", ctrl, "--flags",
			       "not-need-init,startup-clear", "--tpmstate",
			       sdir, (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 250; i++) {
			if (waitpid(swtpm_pid, &st, WNOHANG) == swtpm_pid) {
				swtpm_pid = 0; /* lost the port race? */
				break;
			}
			if (connects(port + 1)) {
				snprintf(tcti, sizeof(tcti),
					 "swtpm:host=127.0.0.1,port=%d", port);
				return true;
			}
			usleep(20000);
		}
		if (swtpm_pid > 0) {
			kill(swtpm_pid, SIGKILL);
			waitpid(swtpm_pid, NULL, 0);
			swtpm_pid = 0;
		}
	}
	return false;
}

/* The test's own ESAPI connection, for what the manager must never do
 * (extend platform PCRs, plant objects).  swtpm serves one connection at
 * a time, so the manager's is closed meanwhile. */
struct raw {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

static bool raw_open(struct raw *r)
{
	if (Tss2_TctiLdr_Initialize(tcti, &r->tcti))
		return false;
	if (Esys_Initialize(&r->esys, r->tcti, NULL)) {
		Tss2_TctiLdr_Finalize(&r->tcti);
		return false;
	}
	return true;
}

static void raw_close(struct raw *r)
{
	Esys_Finalize(&r->esys);
	Tss2_TctiLdr_Finalize(&r->tcti);
}

static bool extend_pcr(unsigned pcr)
{
	TPML_DIGEST_VALUES d = {.count = 1};
	struct raw r;
	bool ok;

	d.digests[0].hashAlg = TPM2_ALG_SHA256;
	memset(d.digests[0].digest.sha256, 0x5a, 32);
	if (!raw_open(&r))
		return false;
	ok = Esys_PCR_Extend(r.esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
			     ESYS_TR_NONE, ESYS_TR_NONE, &d) == TSS2_RC_SUCCESS;
	raw_close(&r);
	return ok;
}

/* ------------------------------------------------------------- pieces */

static struct mgr_ptpm *open_tpm(uint32_t srk)
{
	struct mgr_ptpm_config cfg = {.tcti = tcti, .srk_handle = srk};
	struct mgr_ptpm *t = NULL;
	char why[256];
	enum mgr_ptpm_err rc = mgr_ptpm_open(&t, &cfg, why, sizeof(why));

	if (!TH_CHECK(rc == MGR_PTPM_OK, "open %s: %s", PE(rc), why))
		exit(th_done());
	return t;
}

static void test_open(void)
{
	struct mgr_ptpm_config cfg = {.tcti = "swtpm:host=127.0.0.1,port=1"};
	struct mgr_ptpm *t;
	char why[256];
	double v[5];
	enum mgr_ptpm_err rc;

	rc = mgr_ptpm_open(&t, &cfg, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_TCTI && !t, "no TPM there: %s (%s)", PE(rc),
		 why);
	cfg.tcti = "nosuchtcti:x";
	rc = mgr_ptpm_open(&t, &cfg, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_TCTI, "unknown TCTI: %s", why);
	for (int i = 0; i < 5; i++) {
		double t0 = now_ms();

		t = open_tpm(0);
		v[i] = now_ms() - t0;
		mgr_ptpm_close(t);
	}
	printf("time: open (TCTI + CreatePrimary ECC P-256 SRK) median %.2f "
	       "ms\n",
	       median(v, 5));
	cfg.tcti = tcti;
	cfg.srk_handle = 0x81000099;
	rc = mgr_ptpm_open(&t, &cfg, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_PRIMARY, "missing persistent SRK: %s (%s)",
		 PE(rc), why);
}

/* Persists the SRK (same template: same key) at 0x81000001 and a signing
 * key at 0x81000002, with the test's own connection. */
static bool plant_persistent(void)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPML_PCR_SELECTION none = {0};
	TPM2B_DATA outside = {0};
	TPM2B_PUBLIC t = {0};
	ESYS_TR h, p1, p2;
	struct raw r;
	bool ok = false;

	if (!raw_open(&r))
		return false;
	t.publicArea.type = TPM2_ALG_ECC;
	t.publicArea.nameAlg = TPM2_ALG_SHA256;
	t.publicArea.objectAttributes =
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	t.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
	t.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
	t.publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	t.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	t.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	t.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	t.publicArea.unique.ecc.x.size = 32;
	t.publicArea.unique.ecc.y.size = 32;
	if (Esys_CreatePrimary(r.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, &sens, &t, &outside,
			       &none, &h, NULL, NULL, NULL, NULL))
		goto out;
	if (Esys_EvictControl(r.esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD,
			      ESYS_TR_NONE, ESYS_TR_NONE, 0x81000001, &p1))
		goto out;
	Esys_FlushContext(r.esys, h);
	t.publicArea.objectAttributes =
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		TPMA_OBJECT_SIGN_ENCRYPT;
	t.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	if (Esys_CreatePrimary(r.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, &sens, &t, &outside,
			       &none, &h, NULL, NULL, NULL, NULL))
		goto out;
	if (Esys_EvictControl(r.esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD,
			      ESYS_TR_NONE, ESYS_TR_NONE, 0x81000002, &p2))
		goto out;
	Esys_FlushContext(r.esys, h);
	ok = true;
out:
	raw_close(&r);
	return ok;
}

/* Defines an ordinary (not counter) index, for the kind check. */
static bool plant_plain_index(void)
{
	TPM2B_NV_PUBLIC pub = {0};
	TPM2B_AUTH a = {0};
	struct raw r;
	ESYS_TR h;
	bool ok;

	pub.nvPublic.nvIndex = NV_PLAIN;
	pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
	pub.nvPublic.attributes = TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD |
				  TPMA_NV_OWNERREAD | TPMA_NV_NO_DA;
	pub.nvPublic.dataSize = 8;
	if (!raw_open(&r))
		return false;
	ok = Esys_NV_DefineSpace(r.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				 ESYS_TR_NONE, ESYS_TR_NONE, &a, &pub,
				 &h) == TSS2_RC_SUCCESS;
	raw_close(&r);
	return ok;
}

static void test_seal_unseal(const uint8_t root_key[32], uint8_t **sealed_out,
			     size_t *sealed_len)
{
	struct mgr_ptpm *t = open_tpm(0);
	uint8_t *blob = NULL, out[32], pcrs[4 * 32];
	size_t blen = 0;
	double vs[10], vu[10];
	uint32_t mask;
	char why[512];
	enum mgr_ptpm_err rc;

	rc = mgr_ptpm_pcr_read(t, PCRS, pcrs, sizeof(pcrs), why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK, "read PCRs 0,2,4,7: %s", why);
	{
		uint8_t all[24 * 32];

		rc = mgr_ptpm_pcr_read(t, 0xffffff, all, sizeof(all), why,
				       sizeof(why));
		TH_CHECK(rc == MGR_PTPM_OK &&
				 !memcmp(all + 4 * 32, pcrs + 2 * 32, 32),
			 "read all 24 PCRs (in several PCR_Reads): %s", why);
	}
	for (int i = 0; i < 10; i++) {
		double t0 = now_ms();

		free(blob);
		rc = mgr_ptpm_seal(t, PCRS, root_key, &blob, &blen, why,
				   sizeof(why));
		vs[i] = now_ms() - t0;
		if (!TH_CHECK(rc == MGR_PTPM_OK, "seal: %s %s", PE(rc), why))
			exit(th_done());
	}
	for (int i = 0; i < 10; i++) {
		double t0 = now_ms();

		memset(out, 0, 32);
		rc = mgr_ptpm_unseal(t, blob, blen, out, why, sizeof(why));
		vu[i] = now_ms() - t0;
		TH_CHECK(rc == MGR_PTPM_OK && !memcmp(out, root_key, 32),
			 "unseal %d: %s %s", i, PE(rc), why);
	}
	printf("time: seal (PCR_Read + trial policy + Create) median %.2f ms; "
	       "unseal (trial check + Load + policy session + Unseal) median "
	       "%.2f ms; sealed file %zu bytes\n",
	       median(vs, 10), median(vu, 10), blen);
	TH_CHECK(mgr_ptpm_sealed_pcrs(blob, blen, &mask) == MGR_PTPM_OK &&
			 mask == PCRS,
		 "sealed file names PCRs 0,2,4,7");

	/* Malformed files, each refused. */
	{
		uint8_t *x = malloc(blen + 1);
		static const struct {
			const char *what;
			size_t off;
		} flips[] = {
			{"magic", 0},
			{"version", 4},
			{"bank", 6},
			{"mask", 8},
			{"reserved", 12},
			{"parent name", 20},
			{"a recorded PCR value", 48 + 40},
			{"private area", 48 + 128 + 10},
		};
		for (size_t i = 0; i < TH_ARRAY_LEN(flips); i++) {
			memcpy(x, blob, blen);
			x[flips[i].off] ^= 0x40;
			rc = mgr_ptpm_unseal(t, x, blen, out, why, sizeof(why));
			TH_CHECK(rc == MGR_PTPM_E_FORMAT,
				 "sealed file, %s changed: %s (%s)",
				 flips[i].what, PE(rc), why);
		}
		memcpy(x, blob, blen);
		x[blen] = 0;
		TH_CHECK(mgr_ptpm_unseal(t, x, blen + 1, out, why,
					 sizeof(why)) == MGR_PTPM_E_FORMAT,
			 "trailing byte: %s", why);
		bool all = true;
		for (size_t n = 0; n < blen; n += 7)
			all &= mgr_ptpm_unseal(t, blob, n, out, NULL, 0) ==
			       MGR_PTPM_E_FORMAT;
		TH_CHECK(all, "truncations refused");
		free(x);
	}
	mgr_ptpm_close(t);
	*sealed_out = blob;
	*sealed_len = blen;
}

static void test_persistent_srk(const uint8_t root_key[32], const uint8_t *blob,
				size_t blen)
{
	struct mgr_ptpm_config cfg = {.tcti = tcti, .srk_handle = 0x81000002};
	struct mgr_ptpm *t;
	uint8_t out[32];
	char why[256];
	enum mgr_ptpm_err rc;

	if (!TH_CHECK(plant_persistent(), "persist an SRK and a signing key"))
		return;
	rc = mgr_ptpm_open(&t, &cfg, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_PRIMARY,
		 "a signing key as storage key refused: %s", why);
	t = open_tpm(0x81000001);
	rc = mgr_ptpm_unseal(t, blob, blen, out, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK && !memcmp(out, root_key, 32),
		 "the persistent SRK (same template) unseals the same file: %s",
		 why);
	mgr_ptpm_close(t);
}

static void test_counter(const struct mgr_root_keys *keys)
{
	struct mgr_ptpm *t = open_tpm(0);
	uint8_t wrong[32];
	uint64_t v0 = 0, v, w;
	double vi[50], vr[50];
	char why[256];
	enum mgr_ptpm_err rc;

	memset(wrong, 0x77, 32);
	rc = mgr_ptpm_counter_read(t, NV_INDEX, keys->counter_auth, 32, &v, why,
				   sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_NV_MISSING, "undefined index: %s", why);
	rc = mgr_ptpm_counter_define(t, NV_INDEX, keys->counter_auth, 32, why,
				     sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK, "define counter: %s", why);
	rc = mgr_ptpm_counter_define(t, NV_INDEX, keys->counter_auth, 32, why,
				     sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_NV_EXISTS, "define again: %s", why);
	rc = mgr_ptpm_counter_read(t, NV_INDEX, keys->counter_auth, 32, &v0,
				   why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK, "read after define: %llu (%s)",
		 (unsigned long long)v0, why);
	for (int i = 0; i < 50; i++) {
		double t0 = now_ms();

		rc = mgr_ptpm_counter_increment(t, NV_INDEX, keys->counter_auth,
						32, &v, why, sizeof(why));
		vi[i] = now_ms() - t0;
		t0 = now_ms();
		mgr_ptpm_counter_read(t, NV_INDEX, keys->counter_auth, 32, &w,
				      NULL, 0);
		vr[i] = now_ms() - t0;
		if (!TH_CHECK(rc == MGR_PTPM_OK && v == v0 + 1 + (unsigned)i &&
				      w == v,
			      "increment %d -> %llu: %s", i,
			      (unsigned long long)v, why))
			break;
	}
	printf("time: NV counter increment (+ read back) median %.3f ms; read "
	       "median %.3f ms\n",
	       median(vi, 50), median(vr, 50));
	rc = mgr_ptpm_counter_increment(t, NV_INDEX, wrong, 32, &v, why,
					sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_AUTH, "increment with the wrong auth: %s",
		 why);
	rc = mgr_ptpm_counter_read(t, NV_INDEX, wrong, 32, &v, why,
				   sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_AUTH, "read with the wrong auth: %s", why);
	mgr_ptpm_counter_read(t, NV_INDEX, keys->counter_auth, 32, &v, NULL, 0);
	TH_CHECK(v == v0 + 50, "failed attempts moved nothing");

	/* Deleting and re-defining never brings an old value back. */
	rc = mgr_ptpm_counter_undefine(t, NV_INDEX, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK, "undefine: %s", why);
	rc = mgr_ptpm_counter_define(t, NV_INDEX, keys->counter_auth, 32, why,
				     sizeof(why));
	mgr_ptpm_counter_read(t, NV_INDEX, keys->counter_auth, 32, &w, NULL, 0);
	TH_CHECK(rc == MGR_PTPM_OK && w > v,
		 "re-defined counter starts above the old value (%llu > %llu)",
		 (unsigned long long)w, (unsigned long long)v);
	mgr_ptpm_close(t);

	TH_CHECK(plant_plain_index(), "plant an ordinary NV index");
	t = open_tpm(0);
	rc = mgr_ptpm_counter_read(t, NV_PLAIN, NULL, 0, &v, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_NV_KIND, "not a counter: %s", why);
	TH_CHECK(mgr_ptpm_counter_define(t, 0x81000005, NULL, 0, why,
					 sizeof(why)) == MGR_PTPM_E_INVAL,
		 "not an NV handle");
	mgr_ptpm_close(t);
}

/* The root-record protocol on the real counter, with crashes. */
static void test_protocol(const struct mgr_root_keys *keys)
{
	static const struct mgr_uuid mgr_id = {{1, 2, 3}};
	static const struct mgr_uuid u = {{9, 9, 9}};
	struct mgr_ptpm *t = open_tpm(0);
	struct mgr_ptpm_counter pc;
	struct mgr_rootdir *d;
	struct mgr_root r, s = {0};
	struct mgr_recover_report rep;
	char dir[160], why[512];
	uint64_t v;
	enum mgr_seal_err rc;
	double vc[20];

	snprintf(dir, sizeof(dir), "%s/mgr", tmp);
	mkdir(dir, 0700);
	mgr_ptpm_counter_define(t, NV_OTHER, keys->counter_auth, 32, why,
				sizeof(why));
	mgr_ptpm_counter(t, NV_OTHER, keys->counter_auth, 32, &pc);
	mgr_rootdir_open(&d, dir, why, sizeof(why));
	mgr_root_init(&r, &mgr_id, NV_OTHER);
	mgr_root_add(&r, &u, &mgr_id, "vm_gen0", 0, NULL);
	rc = mgr_root_create(d, keys, &pc.counter, &r, why, sizeof(why));
	TH_CHECK(rc == MGR_SEAL_OK, "create on the NV counter: %s %s",
		 mgr_seal_strerror(rc), why);
	mgr_ptpm_counter_read(t, NV_OTHER, keys->counter_auth, 32, &v, NULL, 0);
	TH_CHECK(v == r.generation, "record generation == counter (%llu)",
		 (unsigned long long)v);
	for (int i = 0; i < 20; i++) {
		double t0 = now_ms();

		snprintf(mgr_root_find(&r, &u)->label, 16, "vm_gen%d", i + 1);
		rc = mgr_root_commit(d, keys, &pc.counter, &r, why,
				     sizeof(why));
		vc[i] = now_ms() - t0;
		if (!TH_CHECK(rc == MGR_SEAL_OK, "commit %d: %s", i, why))
			break;
	}
	printf("time: root-record commit (encode + 2 fsync'd writes + NV "
	       "increment + rename) median %.2f ms\n",
	       median(vc, 20));

	/* Crash after each step of a commit; recover on the real counter. */
	for (int stop = 1; stop <= 3; stop++) {
		uint64_t c = r.generation;

		snprintf(mgr_root_find(&r, &u)->label, 16, "crash%d", stop);
		mgr_root_write_pending(d, keys, &r, c + 1, why, sizeof(why));
		if (stop >= 2)
			mgr_ptpm_counter_increment(t, NV_OTHER,
						   keys->counter_auth, 32, &v,
						   NULL, 0);
		if (stop >= 3)
			mgr_root_promote(d, why, sizeof(why));
		mgr_rootdir_close(d); /* the crash */
		mgr_rootdir_open(&d, dir, why, sizeof(why));
		mgr_root_free(&s);
		rc = mgr_root_recover(d, keys, &pc.counter, &s, &rep, why,
				      sizeof(why));
		mgr_ptpm_counter_read(t, NV_OTHER, keys->counter_auth, 32, &v,
				      NULL, 0);
		TH_CHECK(rc == MGR_SEAL_OK && s.generation == c + 1 &&
				 v == c + 1 &&
				 !strcmp(mgr_root_find(&s, &u)->label,
					 mgr_root_find(&r, &u)->label) &&
				 rep.rolled_forward == (stop == 1),
			 "crash after step %d of a commit: recovered gen %llu, "
			 "counter %llu (%s)",
			 stop, (unsigned long long)s.generation,
			 (unsigned long long)v, why);
		rc = mgr_root_fence(d, keys, &pc.counter, &s, why, sizeof(why));
		TH_CHECK(rc == MGR_SEAL_OK && s.generation == c + 3,
			 "fence after step %d", stop);
		mgr_root_free(&r);
		r = s;
		memset(&s, 0, sizeof(s));
	}

	/* A replayed record: saved now, put back after two commits. */
	{
		char path[200];
		FILE *f;
		size_t len;
		uint8_t *old;

		snprintf(path, sizeof(path), "%s/root", dir);
		old = th_read_file(path, &len);
		mgr_root_commit(d, keys, &pc.counter, &r, why, sizeof(why));
		mgr_root_commit(d, keys, &pc.counter, &r, why, sizeof(why));
		mgr_rootdir_close(d);
		f = fopen(path, "wb");
		fwrite(old, 1, len, f);
		fclose(f);
		free(old);
		mgr_rootdir_open(&d, dir, why, sizeof(why));
		rc = mgr_root_open(d, keys, &pc.counter, &s, why, sizeof(why));
		TH_CHECK(rc == MGR_SEAL_E_NO_RECORD,
			 "replayed root record refused on the real counter: %s",
			 why);
		mgr_root_free(&s);
	}
	mgr_root_free(&r);
	mgr_rootdir_close(d);
	mgr_ptpm_counter_wipe(&pc);
	mgr_ptpm_close(t);
}

/* What a starting manager does; returns the first failure's text. */
static enum mgr_seal_err manager_start(const char *dir, const uint8_t *sealed,
				       size_t slen, char *why, size_t why_len)
{
	struct mgr_ptpm *t;
	struct mgr_ptpm_config cfg = {.tcti = tcti};
	struct mgr_ptpm_counter pc;
	struct mgr_root_keys keys;
	struct mgr_rootdir *d;
	struct mgr_root r;
	uint8_t rk[32];
	enum mgr_seal_err ret;
	enum mgr_ptpm_err prc;

	if (mgr_ptpm_open(&t, &cfg, why, why_len))
		return MGR_SEAL_E_IO;
	prc = mgr_ptpm_unseal(t, sealed, slen, rk, why, why_len);
	if (prc) {
		mgr_ptpm_close(t);
		return MGR_SEAL_E_AUTH; /* no root key: refuse to serve */
	}
	mgr_root_derive_keys(rk, &keys);
	mgr_ptpm_counter(t, NV_INDEX, keys.counter_auth, 32, &pc);
	ret = mgr_rootdir_open(&d, dir, why, why_len);
	if (!ret) {
		ret = mgr_root_open(d, &keys, &pc.counter, &r, why, why_len);
		mgr_root_free(&r);
		mgr_rootdir_close(d);
	}
	mgr_ptpm_counter_wipe(&pc);
	mgr_root_keys_wipe(&keys);
	mgr_ptpm_close(t);
	return ret;
}

static void test_wrong_pcrs(const uint8_t *blob, size_t blen,
			    const struct mgr_root_keys *keys)
{
	static const struct mgr_uuid mgr_id = {{7}};
	struct mgr_ptpm_counter pc;
	struct mgr_rootdir *d;
	struct mgr_ptpm *t;
	struct mgr_root r;
	uint8_t out[32];
	char dir[160], why[512];
	enum mgr_ptpm_err rc;
	enum mgr_seal_err src;

	/* A manager directory whose record lives on NV_INDEX. */
	snprintf(dir, sizeof(dir), "%s/mgr2", tmp);
	mkdir(dir, 0700);
	t = open_tpm(0);
	mgr_ptpm_counter(t, NV_INDEX, keys->counter_auth, 32, &pc);
	mgr_rootdir_open(&d, dir, why, sizeof(why));
	mgr_root_init(&r, &mgr_id, NV_INDEX);
	src = mgr_root_create(d, keys, &pc.counter, &r, why, sizeof(why));
	TH_CHECK(src == MGR_SEAL_OK, "manager directory created: %s", why);
	mgr_root_free(&r);
	mgr_rootdir_close(d);
	mgr_ptpm_close(t);
	src = manager_start(dir, blob, blen, why, sizeof(why));
	TH_CHECK(src == MGR_SEAL_OK,
		 "manager starts on the sealed platform: %s", why);

	/* PCR 16 is not in the policy: nothing changes. */
	TH_CHECK(extend_pcr(16), "extend PCR 16");
	t = open_tpm(0);
	rc = mgr_ptpm_unseal(t, blob, blen, out, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK, "PCR 16 is not in the policy: unseals");
	mgr_ptpm_close(t);

	/* PCR 4 (the boot loader) is. */
	TH_CHECK(extend_pcr(4), "extend PCR 4");
	t = open_tpm(0);
	rc = mgr_ptpm_unseal(t, blob, blen, out, why, sizeof(why));
	TH_CHECK(rc == MGR_PTPM_E_POLICY && strstr(why, "TPM_RC_POLICY_FAIL") &&
			 strstr(why, "changed since sealing: 4"),
		 "after extending PCR 4 unseal fails: %s (%s)", PE(rc), why);
	mgr_ptpm_close(t);
	src = manager_start(dir, blob, blen, why, sizeof(why));
	TH_CHECK(src != MGR_SEAL_OK && strstr(why, "POLICY_FAIL"),
		 "the manager refuses to serve: %s", why);
	printf("refusal: %s\n", why);
}

/* ---------------------------------------------------------- deep quote */

static EVP_PKEY *ak_key(const uint8_t *pub, size_t len)
{
	uint8_t point[65];
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;
	TPM2B_PUBLIC p = {0};
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, len, &off, &p) ||
	    p.publicArea.unique.ecc.x.size != 32)
		return NULL;
	point[0] = 4;
	memcpy(point + 1, p.publicArea.unique.ecc.x.buffer, 32);
	memcpy(point + 33, p.publicArea.unique.ecc.y.buffer, 32);
	OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
					"prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point,
					 sizeof(point));
	params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_fromdata_init(c);
	EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(c);
	return k;
}

static bool verify_sig(EVP_PKEY *k, const struct mgr_quote *q)
{
	TPMT_SIGNATURE s;
	ECDSA_SIG *es;
	BIGNUM *r, *sv;
	uint8_t *der = NULL;
	size_t off = 0;
	int dlen;
	bool ok;
	EVP_MD_CTX *md;

	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(q->sig, q->sig_len, &off, &s) ||
	    s.sigAlg != TPM2_ALG_ECDSA)
		return false;
	r = BN_bin2bn(s.signature.ecdsa.signatureR.buffer,
		      s.signature.ecdsa.signatureR.size, NULL);
	sv = BN_bin2bn(s.signature.ecdsa.signatureS.buffer,
		       s.signature.ecdsa.signatureS.size, NULL);
	es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, r, sv);
	dlen = i2d_ECDSA_SIG(es, &der);
	md = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
	     EVP_DigestVerify(md, der, (size_t)dlen, q->attest,
			      q->attest_len) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	return ok;
}

static void test_deep_quote(void)
{
	static const struct mgr_uuid u = {{0xde, 0xe9}};
	uint8_t ek[sizeof(TPM2B_PUBLIC)], qd[32], nonce[20], pcrs[4 * 32],
		pd[32];
	struct mgr_ptpm *t = open_tpm(0);
	struct mgr_quote q, q2;
	TPM2B_PUBLIC ekt = {0};
	TPMS_ATTEST a;
	size_t eklen = 0, off = 0;
	double vq[10];
	char why[256];
	EVP_PKEY *k;
	enum mgr_ptpm_err rc;

	/* A stand-in for the vTPM's EK public area (an RSA EK template). */
	ekt.publicArea.type = TPM2_ALG_RSA;
	ekt.publicArea.nameAlg = TPM2_ALG_SHA256;
	ekt.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM |
					  TPMA_OBJECT_RESTRICTED |
					  TPMA_OBJECT_DECRYPT;
	ekt.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
	ekt.publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
	ekt.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	ekt.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	ekt.publicArea.parameters.rsaDetail.keyBits = 2048;
	ekt.publicArea.unique.rsa.size = 256;
	RAND_bytes(ekt.publicArea.unique.rsa.buffer, 256);
	Tss2_MU_TPM2B_PUBLIC_Marshal(&ekt, ek, sizeof(ek), &eklen);
	RAND_bytes(nonce, sizeof(nonce));

	TH_CHECK(mgr_deep_quote_data(ek, eklen - 1, &u, nonce, 20, qd) ==
				 MGR_PTPM_E_INVAL &&
			 mgr_deep_quote_data(ek, eklen + 1, &u, nonce, 20,
					     qd) == MGR_PTPM_E_INVAL,
		 "qualifying data refuses what is not one TPM2B_PUBLIC");
	TH_CHECK(mgr_deep_quote_data(ek, eklen, &u, nonce, 65, qd) ==
			 MGR_PTPM_E_INVAL,
		 "nonce over 64 bytes refused");
	{
		uint8_t buf[sizeof(ek) + 16 + 20], want[32];
		unsigned n;

		memcpy(buf, ek, eklen);
		memcpy(buf + eklen, u.b, 16);
		memcpy(buf + eklen + 16, nonce, 20);
		EVP_Digest(buf, eklen + 36, want, &n, EVP_sha256(), NULL);
		mgr_deep_quote_data(ek, eklen, &u, nonce, 20, qd);
		TH_CHECK(!memcmp(qd, want, 32),
			 "qualifyingData = SHA-256(EK pub || uuid || nonce)");
	}
	for (int i = 0; i < 10; i++) {
		double t0 = now_ms();

		rc = mgr_ptpm_deep_quote(t, PCRS, ek, eklen, &u, nonce, 20, &q,
					 why, sizeof(why));
		vq[i] = now_ms() - t0;
		if (i < 9)
			mgr_quote_free(&q);
		if (!TH_CHECK(rc == MGR_PTPM_OK, "deep quote: %s", why))
			return;
	}
	printf("time: deep quote (ECDSA P-256, 4 PCRs; first includes the AK "
	       "CreatePrimary) median %.2f ms, first %.2f ms\n",
	       median(vq, 10), vq[0]);
	TH_CHECK(Tss2_MU_TPMS_ATTEST_Unmarshal(q.attest, q.attest_len, &off,
					       &a) == 0 &&
			 off == q.attest_len,
		 "attest is one TPMS_ATTEST");
	TH_CHECK(a.magic == TPM2_GENERATED_VALUE &&
			 a.type == TPM2_ST_ATTEST_QUOTE,
		 "TPM-generated quote");
	TH_CHECK(a.extraData.size == 32 && !memcmp(a.extraData.buffer, qd, 32),
		 "extraData is the deep-quote qualifying data");
	mgr_ptpm_pcr_read(t, PCRS, pcrs, sizeof(pcrs), NULL, 0);
	{
		unsigned n;

		EVP_Digest(pcrs, sizeof(pcrs), pd, &n, EVP_sha256(), NULL);
	}
	TH_CHECK(a.attested.quote.pcrDigest.size == 32 &&
			 !memcmp(a.attested.quote.pcrDigest.buffer, pd, 32) &&
			 a.attested.quote.pcrSelect.count == 1 &&
			 a.attested.quote.pcrSelect.pcrSelections[0]
					 .pcrSelect[0] == 0x95,
		 "pcrDigest = SHA-256 of PCRs 0,2,4,7");
	k = ak_key(q.ak_pub, q.ak_pub_len);
	TH_CHECK(k && verify_sig(k, &q), "signature verifies with the AK");
	q.attest[q.attest_len - 1] ^= 1;
	TH_CHECK(k && !verify_sig(k, &q), "a changed attest does not verify");
	EVP_PKEY_free(k);
	rc = mgr_ptpm_deep_quote(t, PCRS, ek, eklen, &u, nonce, 20, &q2, why,
				 sizeof(why));
	mgr_ptpm_close(t);
	t = open_tpm(0);
	mgr_quote_free(&q2);
	rc = mgr_ptpm_deep_quote(t, PCRS, ek, eklen, &u, nonce, 20, &q2, why,
				 sizeof(why));
	TH_CHECK(rc == MGR_PTPM_OK && q2.ak_pub_len == q.ak_pub_len &&
			 !memcmp(q2.ak_pub, q.ak_pub, q.ak_pub_len),
		 "the AK is the same after reopening (pinnable)");
	mgr_quote_free(&q);
	mgr_quote_free(&q2);
	mgr_ptpm_close(t);
}

int main(void)
{
	uint8_t root_key[32], *sealed = NULL;
	struct mgr_root_keys keys;
	size_t slen = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The TSS logs every TPM error it passes on; these tests cause
	 * many on purpose, and check our messages instead. */
	setenv("TSS2_LOG", "all+NONE", 0);
	if (!in_path("swtpm")) {
		printf("SKIP: swtpm is not installed (apt-get install swtpm); "
		       "the platform-TPM tests did not run\n");
		return th_done();
	}
	if (!start_swtpm()) {
		TH_CHECK(false, "could not start swtpm (see %s/swtpm.log)",
			 tmp);
		return th_done();
	}
	atexit(stop_swtpm);
	printf("swtpm on %s\n", tcti);
	RAND_bytes(root_key, sizeof(root_key));
	mgr_root_derive_keys(root_key, &keys);

	test_open();
	test_seal_unseal(root_key, &sealed, &slen);
	test_persistent_srk(root_key, sealed, slen);
	test_counter(&keys);
	test_protocol(&keys);
	test_deep_quote();
	test_wrong_pcrs(sealed, slen, &keys);
	free(sealed);
	mgr_root_keys_wipe(&keys);
	return th_done();
}
