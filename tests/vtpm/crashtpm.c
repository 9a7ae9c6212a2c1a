/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crashtpm - the instance half of the crash-consistency test
 * (tests/vtpm/crash.sh): a TPM on the file store whose NV writes are
 * acknowledged on stdout, to be killed with SIGKILL at any moment, and a
 * checker that says whether what is left in the state directory is a
 * loadable TPM that kept every acknowledged write.
 *
 *   crashtpm writer DIR
 *       powers on the TPM whose state is in DIR (manufacturing it when DIR
 *       holds none), defines NV index 0x01500010 (ordinary, 8 bytes, owner
 *       auth) if absent, reads it (0 when never written) and prints
 *       "start V"; then for N = V+1, V+2, ... NV_Writes N (big-endian u64)
 *       and, only once vtpm_tpm_process returned a success response (which
 *       vtpm.h promises is released after the state is durable), prints
 *       "ack N" -- an acknowledged write.  Every line is flushed before the
 *       next command.  It never ends on its own before WRITER_MAX_S
 *       seconds (a writer whose killer died stops by itself); a failure is
 *       one "FAIL ..." line on stderr and exit 1.
 *
 *   crashtpm check DIR LAST_ACK
 *       opens DIR (which removes leftover temporaries), powers the TPM on
 *       from it and reads the index.  LAST_ACK is the last acknowledged
 *       value (0: none yet).  Prints one line:
 *         "ok value V"   LAST_ACK <= V <= LAST_ACK + 1 (exit 0): nothing
 *                        acknowledged was lost, and at most the one write
 *                        in flight at the kill made it;
 *         "no state"     DIR holds no TPM and LAST_ACK is 0 (exit 3):
 *                        killed before the first state became durable;
 *         "FAIL reason"  a corrupt or unloadable state, a lost
 *                        acknowledged write, a value from nowhere (exit 1).
 *       check never changes the state it checks: the TPM's own stores
 *       (Startup writes NV) go to memory and are discarded, so the next
 *       writer starts from exactly what the kill left.
 *
 * Exit status 2: usage or an environment problem (not a verdict).
 *
 * The manager half (tests/vtpm/manager-crash.sh): with CRASHTPM_MGR=DIR
 * the state is the manager-mode store (vtpm_store_mgr.c: sealed blobs
 * committed to a manager) instead of the file store, the manager being
 *
 *   crashtpm manager DIR
 *       a stand-in manager process (tests/vtpm/crashmgr.c) on DIR/sock
 *       that makes each commit durable in DIR/refs before answering;
 *
 * and the same verdicts apply.  check then opens the store from DIR/refs
 * as the next writer would (which removes uncommitted blobs, renames a
 * committed N.new into place: what any next open does first).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/vtpm/crashmgr.h"
#include "tests/vtpm/tpmcmd.h"
#include "vtpm-instance/vtpm.h"

#define NV_INDEX       0x01500010u
#define NV_SIZE	       8u
#define RH_OWNER       0x40000001u
#define RS_PW	       0x40000009u
#define ST_NO_SESSIONS 0x8001u
#define ST_SESSIONS    0x8002u
#define ALG_SHA256     0x000bu
#define CC_NV_DEFINE   0x0000012au
#define CC_NV_WRITE    0x00000137u
#define CC_NV_READ     0x0000014eu
#define CC_NV_READPUB  0x00000169u
#define NVA_OWNERWRITE (1u << 1)
#define NVA_OWNERREAD  (1u << 17)
/* TPM_RC_HANDLE for handle 1: no such index. */
#define RC_NO_INDEX	    0x0000018bu
#define RC_NV_UNINITIALIZED 0x0000014au

#define WRITER_MAX_S 30
#define EXIT_OK	     0
#define EXIT_FAIL    1
#define EXIT_USAGE   2
#define EXIT_NOSTATE 3

/* ------------------------------------------------------------ commands */

static uint8_t rsp[VTPM_RING_MAX_PAYLOAD];
static size_t rsp_len;

/* The response code, or ~0 for a malformed response. */
static uint32_t run(const struct tpmcmd *c)
{
	return tpmcmd_run(c, 0, rsp, sizeof(rsp), &rsp_len);
}

static uint32_t nv_readpublic(void)
{
	struct tpmcmd c;

	tpmcmd_begin(&c, ST_NO_SESSIONS, CC_NV_READPUB);
	tpmcmd_put32(&c, NV_INDEX);
	tpmcmd_done(&c);
	return run(&c);
}

static uint32_t nv_define(void)
{
	struct tpmcmd c;

	tpmcmd_begin(&c, ST_SESSIONS, CC_NV_DEFINE);
	tpmcmd_put32(&c, RH_OWNER);
	tpmcmd_pw_session(&c);
	tpmcmd_put16(&c, 0);  /* the index's own auth: none */
	tpmcmd_put16(&c, 14); /* TPMS_NV_PUBLIC, TPM_NT_ORDINARY */
	tpmcmd_put32(&c, NV_INDEX);
	tpmcmd_put16(&c, ALG_SHA256);
	tpmcmd_put32(&c, NVA_OWNERWRITE | NVA_OWNERREAD);
	tpmcmd_put16(&c, 0); /* authPolicy */
	tpmcmd_put16(&c, NV_SIZE);
	tpmcmd_done(&c);
	return run(&c);
}

static uint32_t nv_write(uint64_t v)
{
	struct tpmcmd c;

	tpmcmd_begin(&c, ST_SESSIONS, CC_NV_WRITE);
	tpmcmd_put32(&c, RH_OWNER);
	tpmcmd_put32(&c, NV_INDEX);
	tpmcmd_pw_session(&c);
	tpmcmd_put16(&c, NV_SIZE);
	tpmcmd_put32(&c, (uint32_t)(v >> 32));
	tpmcmd_put32(&c, (uint32_t)v);
	tpmcmd_put16(&c, 0); /* offset */
	tpmcmd_done(&c);
	return run(&c);
}

/* The index's value into *v; TPM rc (RC_NO_INDEX, RC_NV_UNINITIALIZED
 * and ~0 for a malformed answer included). */
static uint32_t nv_read(uint64_t *v)
{
	uint32_t rc;
	struct tpmcmd c;

	rc = nv_readpublic();
	if (rc)
		return rc;
	tpmcmd_begin(&c, ST_SESSIONS, CC_NV_READ);
	tpmcmd_put32(&c, RH_OWNER);
	tpmcmd_put32(&c, NV_INDEX);
	tpmcmd_pw_session(&c);
	tpmcmd_put16(&c, NV_SIZE);
	tpmcmd_put16(&c, 0);
	tpmcmd_done(&c);
	rc = run(&c);
	if (rc)
		return rc;
	/* header 10, parameterSize 4, TPM2B size 2, data, auth area */
	if (rsp_len < 16u + NV_SIZE || tpmcmd_be16(rsp + 14) != NV_SIZE)
		return ~0u;
	*v = (uint64_t)tpmcmd_be32(rsp + 16) << 32 | tpmcmd_be32(rsp + 20);
	return 0;
}

/* --------------------------------------------- a store that never writes */

/* check's view of the state directory: loads come from the file store
 * unless the TPM stored or removed that name since, in which case they
 * come from here; nothing reaches the disk. */
#define SHADOW_NAMES 3
struct shadow {
	const struct vtpm_store *inner;
	struct {
		char name[16];
		bool used, removed;
		uint8_t *data;
		size_t len;
	} e[SHADOW_NAMES];
};

static int shadow_slot(struct shadow *s, const char *name, bool create)
{
	for (int i = 0; i < SHADOW_NAMES; i++)
		if (s->e[i].used && strcmp(s->e[i].name, name) == 0)
			return i;
	for (int i = 0; create && i < SHADOW_NAMES; i++)
		if (!s->e[i].used) {
			s->e[i].used = true;
			snprintf(s->e[i].name, sizeof(s->e[i].name), "%s",
				 name);
			return i;
		}
	return -1;
}

static int shadow_load(void *ctx, const char *name, uint8_t **d, size_t *l)
{
	struct shadow *s = ctx;
	int i = shadow_slot(s, name, false);

	if (i < 0)
		return s->inner->ops->load(s->inner->ctx, name, d, l);
	*d = NULL;
	*l = 0;
	if (s->e[i].removed)
		return -ENOENT;
	*d = malloc(s->e[i].len ? s->e[i].len : 1);
	if (!*d)
		return -ENOMEM;
	memcpy(*d, s->e[i].data, s->e[i].len);
	*l = s->e[i].len;
	return 0;
}

static int shadow_store(void *ctx, const char *name, const uint8_t *d, size_t l)
{
	struct shadow *s = ctx;
	int i = shadow_slot(s, name, true);
	uint8_t *copy;

	if (i < 0)
		return -ENOSPC;
	copy = malloc(l ? l : 1);
	if (!copy)
		return -ENOMEM;
	if (l)
		memcpy(copy, d, l);
	free(s->e[i].data);
	s->e[i].data = copy;
	s->e[i].len = l;
	s->e[i].removed = false;
	return 0;
}

static int shadow_remove(void *ctx, const char *name)
{
	struct shadow *s = ctx;
	int i = shadow_slot(s, name, true);

	if (i < 0)
		return -ENOSPC;
	free(s->e[i].data);
	s->e[i].data = NULL;
	s->e[i].len = 0;
	s->e[i].removed = true;
	return 0;
}

static void shadow_close(void *ctx)
{
	struct shadow *s = ctx;

	for (int i = 0; i < SHADOW_NAMES; i++)
		free(s->e[i].data);
	memset(s, 0, sizeof(*s));
}

static const struct vtpm_store_ops shadow_ops = {
	.load = shadow_load,
	.store = shadow_store,
	.remove = shadow_remove,
	.close = shadow_close,
};

/* ---------------------------------------------------------------- modes */

static int open_store(struct vtpm_store *st, const char *dir, bool check)
{
	const char *mgr = getenv("CRASHTPM_MGR");
	char why[400];

	if (mgr && *mgr) {
		if (crashmgr_store_open(st, dir, mgr, check, why,
					sizeof(why)) != 0) {
			printf("FAIL state directory %s: %s\n", dir, why);
			return -1;
		}
		return 0;
	}
	if (vtpm_store_file_open(st, dir, why, sizeof(why)) != 0) {
		printf("FAIL state directory %s: %s\n", dir, why);
		return -1;
	}
	return 0;
}

static int writer(const char *dir)
{
	struct vtpm_store st;
	time_t deadline = time(NULL) + WRITER_MAX_S;
	char why[256];
	uint64_t v = 0;
	uint32_t rc;

	if (open_store(&st, dir, false))
		return EXIT_FAIL;
	if (vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &st}, why,
			      sizeof(why)) != 0) {
		fprintf(stderr, "FAIL power on: %s\n", why);
		return EXIT_FAIL;
	}
	rc = nv_readpublic();
	if (rc == RC_NO_INDEX)
		rc = nv_define();
	if (rc) {
		fprintf(stderr, "FAIL defining the index: rc 0x%" PRIx32 "\n",
			rc);
		return EXIT_FAIL;
	}
	rc = nv_read(&v);
	if (rc == RC_NV_UNINITIALIZED) {
		v = 0;
		rc = 0;
	}
	if (rc) {
		fprintf(stderr, "FAIL reading the index: rc 0x%" PRIx32 "\n",
			rc);
		return EXIT_FAIL;
	}
	printf("start %" PRIu64 "\n", v);
	fflush(stdout);
	/* No cleanup on the way out: this process ends by SIGKILL. */
	while (time(NULL) < deadline) {
		rc = nv_write(++v);
		if (rc) {
			fprintf(stderr,
				"FAIL NV_Write %" PRIu64 ": rc 0x%" PRIx32 "\n",
				v, rc);
			return EXIT_FAIL;
		}
		printf("ack %" PRIu64 "\n", v);
		if (fflush(stdout) != 0) {
			fprintf(stderr, "FAIL stdout: %s\n", strerror(errno));
			return EXIT_FAIL;
		}
	}
	vtpm_tpm_power_off();
	vtpm_store_close(&st);
	return EXIT_OK;
}

static int check(const char *dir, uint64_t last_ack)
{
	struct vtpm_store file, view;
	struct shadow shadow = {.inner = &file};
	char why[256];
	uint8_t *data = NULL;
	size_t len = 0;
	uint64_t v = 0;
	int ret = EXIT_FAIL, err;
	uint32_t rc;

	if (open_store(&file, dir, true))
		return EXIT_FAIL;
	view.ops = &shadow_ops;
	view.ctx = &shadow;
	/* No permall: libtpms would manufacture a new TPM, which is a
	 * verdict of its own (and must not hide a lost state). */
	err = file.ops->load(file.ctx, "permall", &data, &len);
	free(data);
	if (err == -ENOENT) {
		if (last_ack == 0) {
			printf("no state\n");
			ret = EXIT_NOSTATE;
		} else {
			printf("FAIL no state, but write %" PRIu64
			       " was acknowledged\n",
			       last_ack);
		}
		goto out_store;
	}
	if (err) {
		printf("FAIL corrupt state: permall: %s\n", strerror(-err));
		goto out_store;
	}
	if (vtpm_tpm_power_on(&(struct vtpm_tpm_config){.store = &view}, why,
			      sizeof(why)) != 0) {
		printf("FAIL corrupt state: power on: %s\n", why);
		goto out_store;
	}
	rc = nv_read(&v);
	if (rc == RC_NO_INDEX || rc == RC_NV_UNINITIALIZED) {
		/* Manufactured, killed before the first write. */
		v = 0;
		rc = 0;
	}
	if (rc) {
		printf("FAIL reading the index: rc 0x%" PRIx32 "\n", rc);
		goto out_tpm;
	}
	if (v < last_ack) {
		printf("FAIL value %" PRIu64 ": acknowledged write %" PRIu64
		       " lost\n",
		       v, last_ack);
	} else if (v > last_ack + 1) {
		printf("FAIL value %" PRIu64 ": more than the one write after"
		       " %" PRIu64 " in flight\n",
		       v, last_ack);
	} else {
		printf("ok value %" PRIu64 "\n", v);
		ret = EXIT_OK;
	}
out_tpm:
	vtpm_tpm_power_off();
out_store:
	vtpm_store_close(&view);
	vtpm_store_close(&file);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: crashtpm writer DIR\n"
			"       crashtpm check DIR LAST_ACK\n"
			"       crashtpm manager MGRDIR\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	unsigned long long last;
	char *end;

	if (argc == 3 && strcmp(argv[1], "writer") == 0)
		return writer(argv[2]);
	if (argc == 3 && strcmp(argv[1], "manager") == 0)
		return crashmgr_serve(argv[2]);
	if (argc != 4 || strcmp(argv[1], "check") != 0)
		return usage();
	errno = 0;
	last = strtoull(argv[3], &end, 10);
	/* LAST_ACK + 1 must not wrap. */
	if (errno || end == argv[3] || *end || argv[3][0] == '-' ||
	    last >= UINT64_MAX)
		return usage();
	return check(argv[2], (uint64_t)last);
}
