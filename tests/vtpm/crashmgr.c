/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crashmgr - the manager half of crashtpm (tests/vtpm/manager-crash.sh):
 * a stand-in vTPM manager in a process of its own, killable with SIGKILL
 * like the writer, and the manager-mode store that crashtpm's writer and
 * checker use when CRASHTPM_MGR=DIR is set.
 *
 * The stand-in speaks the real instance protocol (mgr_req_parse,
 * mgr_rsp_encode) over a SOCK_SEQPACKET socket DIR/sock and keeps what a
 * manager's root record keeps for one instance - its key and the
 * committed (generation, tag, present) of each state - in DIR/refs,
 * replaced atomically and fsynced *before* it answers, as the real key
 * holder answers only after mgr_root_commit.  A kill therefore lands
 * before the commit is durable (the instance must discard its N.new),
 * between durable and answered (the instance must keep N.new although
 * its store failed), or after.  What the instance side does about each
 * is exactly vtpm_store_mgr.c, unchanged.
 *
 * DIR/refs: key[32], then per state name: generation u64 LE, tag[16],
 * present u8 (107 bytes).  Test format, not a product one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/vtpm/crashmgr.h"
#include "vtpm-instance/vtpm.h"

#define REFS_LEN (MGR_KEY_LEN + MGR_STATE_NAMES * (8 + MGR_TAG_LEN + 1))

struct refs {
	bool exists;
	uint8_t key[MGR_KEY_LEN];
	struct mgr_state_ref ref[MGR_STATE_NAMES];
};

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static int refs_read(const char *dir, struct refs *r)
{
	uint8_t b[REFS_LEN + 1], *p = b + MGR_KEY_LEN;
	char path[512];
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	path_in(path, sizeof(path), dir, "refs");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != (ssize_t)REFS_LEN)
		return -EBADMSG;
	memcpy(r->key, b, MGR_KEY_LEN);
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++) {
		uint64_t g = 0;

		for (int k = 7; k >= 0; k--)
			g = g << 8 | p[k];
		r->ref[i].generation = g;
		memcpy(r->ref[i].tag, p + 8, MGR_TAG_LEN);
		r->ref[i].present = p[8 + MGR_TAG_LEN] != 0;
		p += 8 + MGR_TAG_LEN + 1;
	}
	r->exists = true;
	return 0;
}

/* Atomic and durable: temporary, fsync, rename, fsync the directory. */
static int refs_write(const char *dir, const struct refs *r)
{
	uint8_t b[REFS_LEN], *p = b + MGR_KEY_LEN;
	char path[512], tmp[512];
	int fd, dfd, rc = 0;

	memcpy(b, r->key, MGR_KEY_LEN);
	for (unsigned i = 0; i < MGR_STATE_NAMES; i++) {
		for (int k = 0; k < 8; k++)
			p[k] = (uint8_t)(r->ref[i].generation >> (8 * k));
		memcpy(p + 8, r->ref[i].tag, MGR_TAG_LEN);
		p[8 + MGR_TAG_LEN] = r->ref[i].present;
		p += 8 + MGR_TAG_LEN + 1;
	}
	path_in(path, sizeof(path), dir, "refs");
	path_in(tmp, sizeof(tmp), dir, "refs.tmp");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b) || fsync(fd) < 0)
		rc = -EIO;
	close(fd);
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!rc && (dfd < 0 || fsync(dfd) < 0))
		rc = -EIO;
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* ----------------------------------------------------------- the server */

static size_t handle(const char *dir, struct refs *r, const uint8_t *in,
		     size_t in_len, uint8_t *out, size_t cap)
{
	struct mgr_req req;
	struct mgr_rsp rsp;
	struct mgr_state_ref *ref;
	char why[256];

	memset(&req, 0, sizeof(req));
	if (mgr_req_parse(MGR_CH_INSTANCE, in, in_len, &req, why,
			  sizeof(why)) != MGR_RC_OK)
		return mgr_rsp_error(req.op, MGR_RC_MALFORMED, out, cap, "%s",
				     why);
	memset(&rsp, 0, sizeof(rsp));
	rsp.op = req.op;
	switch (req.op) {
	case MGR_OP_OPEN:
		if (!r->exists) {
			/* The key is durable before anyone can seal with
			 * it. */
			if (getrandom(r->key, sizeof(r->key), 0) !=
				    (ssize_t)sizeof(r->key) ||
			    refs_write(dir, r))
				return mgr_rsp_error(req.op, MGR_RC_STORAGE,
						     out, cap, "refs");
			r->exists = true;
		}
		rsp.u.open.status = MGR_OPEN_NEW;
		for (unsigned i = 0; i < MGR_STATE_NAMES; i++)
			if (r->ref[i].present)
				rsp.u.open.status = MGR_OPEN_EXISTING;
		memcpy(rsp.u.open.key, r->key, MGR_KEY_LEN);
		memcpy(rsp.u.open.ref, r->ref, sizeof(r->ref));
		break;
	case MGR_OP_COMMIT: {
		struct refs next = *r;

		ref = &next.ref[req.u.commit.name - 1];
		if (req.u.commit.generation != ref->generation + 1)
			return mgr_rsp_error(req.op, MGR_RC_GENERATION, out,
					     cap, "generation %llu, committed %llu",
					     (unsigned long long)
						     req.u.commit.generation,
					     (unsigned long long)ref->generation);
		ref->generation = req.u.commit.generation;
		ref->present = req.u.commit.present;
		memcpy(ref->tag, req.u.commit.tag, MGR_TAG_LEN);
		if (refs_write(dir, &next))
			return mgr_rsp_error(req.op, MGR_RC_STORAGE, out, cap,
					     "refs");
		*r = next;
		break;
	}
	case MGR_OP_CLOSE:
		break;
	default:
		return mgr_rsp_error(req.op, MGR_RC_UNKNOWN_OP, out, cap, "%s",
				     mgr_op_str(req.op));
	}
	return mgr_rsp_encode(&rsp, out, cap);
}

int crashmgr_serve(const char *dir)
{
	static uint8_t in[MGR_RING_MSG_MAX + 1], out[MGR_RING_MSG_MAX];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct refs r;
	int ls, rc;

	rc = refs_read(dir, &r);
	if (rc) {
		fprintf(stderr, "FAIL refs: %s\n", strerror(-rc));
		return 1;
	}
	path_in(a.sun_path, sizeof(a.sun_path), dir, "sock");
	unlink(a.sun_path);
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(ls, 4) < 0) {
		fprintf(stderr, "FAIL socket %s: %s\n", a.sun_path,
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		while ((n = recv(c, in, sizeof(in), 0)) > 0) {
			size_t len = handle(dir, &r, in, (size_t)n, out,
					    sizeof(out));

			if (!len || send(c, out, len, MSG_NOSIGNAL) < 0)
				break;
		}
		close(c);
	}
}

/* ----------------------------------------------------------- the client */

static int sock_fd = -1;

static int sock_call(void *ctx, const uint8_t *req, size_t req_len,
		     uint8_t *rsp, size_t cap, size_t *rsp_len, char *why,
		     size_t why_len)
{
	ssize_t n;

	(void)ctx;
	*rsp_len = 0;
	if (send(sock_fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
		snprintf(why, why_len, "send: %s", strerror(errno));
		return -ENOTCONN;
	}
	n = recv(sock_fd, rsp, cap, 0);
	if (n <= 0) {
		snprintf(why, why_len, "the manager went away");
		return -ENOTCONN;
	}
	*rsp_len = (size_t)n;
	return 0;
}

/* check's link: nothing may be committed while checking. */
static int no_call(void *ctx, const uint8_t *req, size_t req_len, uint8_t *rsp,
		   size_t cap, size_t *rsp_len, char *why, size_t why_len)
{
	(void)ctx;
	(void)req;
	(void)req_len;
	(void)rsp;
	(void)cap;
	*rsp_len = 0;
	snprintf(why, why_len, "check commits nothing");
	return -EPERM;
}

static const struct vtpm_mgr_link sock_link = {.call = sock_call};

static void barrier(const char *mgrdir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct mgr_req req = {.op = MGR_OP_CLOSE};
	uint8_t buf[64];
	size_t len = mgr_req_encode(&req, buf, sizeof(buf));
	struct timeval tv = {10, 0};
	int fd;

	path_in(a.sun_path, sizeof(a.sun_path), mgrdir, "sock");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && len &&
	    send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len)
		(void)recv(fd, buf, sizeof(buf), 0);
	close(fd);
}
static const struct vtpm_mgr_link check_link = {.call = no_call};
static const struct mgr_uuid crash_uuid = {
	{0xc4, 0xa5, 0x11, 0x00, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1}};

int crashmgr_store_open(struct vtpm_store *st, const char *dir,
			const char *mgrdir, bool check, char *why,
			size_t why_len)
{
	struct vtpm_mgr_session s;
	int rc;

	memset(&s, 0, sizeof(s));
	if (check) {
		struct refs r;

		/* A writer killed right after sending a COMMIT: the manager
		 * may still be making it durable.  It serves one connection
		 * after the other, so an answered CLOSE of ours means it is
		 * done with the dead one (gone: its refs are final). */
		barrier(mgrdir);

		rc = refs_read(mgrdir, &r);
		if (rc) {
			snprintf(why, why_len, "refs: %s", strerror(-rc));
			return rc;
		}
		s.uuid = crash_uuid;
		s.status = MGR_OPEN_EXISTING;
		memcpy(s.key, r.key, sizeof(s.key));
		memcpy(s.ref, r.ref, sizeof(s.ref));
		rc = vtpm_store_mgr_open(st, dir, &check_link, &s, why,
					 why_len);
		vtpm_mgr_session_wipe(&s);
		return rc;
	}
	{
		struct sockaddr_un a = {.sun_family = AF_UNIX};

		path_in(a.sun_path, sizeof(a.sun_path), mgrdir, "sock");
		sock_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (sock_fd < 0 ||
		    connect(sock_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			snprintf(why, why_len, "manager %s: %s", a.sun_path,
				 strerror(errno));
			return -ENOTCONN;
		}
	}
	rc = vtpm_mgr_open(&sock_link, &crash_uuid, 0, &s, why, why_len);
	if (rc)
		return rc;
	rc = vtpm_store_mgr_open(st, dir, &sock_link, &s, why, why_len);
	vtpm_mgr_session_wipe(&s);
	return rc;
}
