/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront_main.c - hvsec-tpmfront, a guest program of the hvsecd model:
 * connects the guest's vTPM ring (vtpmfront.h) and serves it on
 * 127.0.0.1 in the mssim and swtpm protocols, so unmodified TPM software
 * works in the guest (docs/vtpm.md).
 *
 * One thread, one poll loop: signals (signalfd), the backend's state (a
 * XenStore watch), the hypervisor's notices, the server's sockets.  Each
 * TPM command blocks the loop while it runs, as a TPM is one command at
 * a time anyway.
 *
 * Console lines (stdout, which hvsecd logs), for people and tests:
 *   tpmfront: connect failed: WHY
 *   tpmfront: ready mssim:host=127.0.0.1,port=P
 *   tpmfront: backend closed
 *   tpmfront: exec exited N
 * XenStore, in the guest's own home: data/tpmfront/{mssim-port,
 * swtpm-port,status}, status one of connecting, ready, failed, closed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"
#include "vtpm-instance/front/tpmfront.h"
#include "vtpm-instance/front/vtpmfront.h"

#define CONNECT_TIMEOUT_MS 10000
/* Linux's fallback duration for a TPM 2.0 ordinal it has no table for
 * (xen-tpmfront registers a 1.2 chip): the slowest key generation
 * stays well inside it. */
#define COMMAND_TIMEOUT_MS 120000
#define EXEC_MAX	   4096
#define WATCH_TOKEN	   "tpmfront-be"

struct opts {
	uint32_t devid;
	uint16_t port;
	int timeout_ms;
	char *exec; /* NULL: serve until SIGTERM */
};

struct front {
	struct hvg *g;
	struct xs_handle *xs;
	struct vtpmfront *f;
	struct tpmsrv *srv;
	char home[64];	    /* /local/domain/<domid> */
	char be_state[192]; /* the backend's state node, watched */
	bool lost;	    /* the backend went away */
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: hvsec-tpmfront [--devid N] [--port P] [--timeout-ms "
		"T]\n"
		"                      [--exec COMMAND...]\n"
		"\n"
		"Connects the guest's vTPM device N (default 0) and serves it "
		"on\n"
		"127.0.0.1: the mssim protocol on ports P (command) and P+1\n"
		"(platform), the swtpm protocol on P+2 (data) and P+3 "
		"(control).\n"
		"P = 0 (the default) picks four free adjacent ports.  The "
		"ports\n"
		"go to data/tpmfront/{mssim-port,swtpm-port} and the console "
		"says\n"
		"  tpmfront: ready mssim:host=127.0.0.1,port=P\n"
		"Platform commands (power, NV, reset) are acknowledged and\n"
		"ignored: the platform is the hypervisor.\n"
		"\n"
		"  --timeout-ms T   wait T ms for the backend to connect\n"
		"                   (default %d); each command may take %d ms\n"
		"  --exec COMMAND   everything after --exec, joined by blanks, "
		"is\n"
		"                   run by /bin/sh -c with\n"
		"                   "
		"TPM2TOOLS_TCTI=mssim:host=127.0.0.1,port=P;\n"
		"                   the program exits with its status\n"
		"SIGTERM closes the device and exits 0.\n",
		CONNECT_TIMEOUT_MS, COMMAND_TIMEOUT_MS);
}

static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

/* 0, 1 (--help done), or 2 (usage error, said). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	unsigned long v;

	o->devid = 0;
	o->port = 0;
	o->timeout_ms = CONNECT_TIMEOUT_MS;
	o->exec = NULL;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "--devid") &&
			   parse_num(val, 0xffff, &v)) {
			o->devid = (uint32_t)v;
		} else if (!strcmp(a, "--port") && parse_num(val, 65532, &v)) {
			o->port = (uint16_t)v;
		} else if (!strcmp(a, "--timeout-ms") &&
			   parse_num(val, 3600000, &v)) {
			o->timeout_ms = (int)v;
		} else if (!strcmp(a, "--exec") && val) {
			/* The toolstack splits `extra` at blanks: the rest
			 * of the line is the command. */
			size_t len = 0;

			for (int j = i + 1; j < argc; j++)
				len += strlen(argv[j]) + 1;
			if (len > EXEC_MAX) {
				fprintf(stderr,
					"hvsec-tpmfront: --exec: command over "
					"%d bytes\n",
					EXEC_MAX);
				return 2;
			}
			o->exec = calloc(1, len + 1);
			if (!o->exec)
				return 2;
			for (int j = i + 1; j < argc; j++) {
				if (j > i + 1)
					strcat(o->exec, " ");
				strcat(o->exec, argv[j]);
			}
			return 0;
		} else {
			fprintf(stderr, "hvsec-tpmfront: bad argument '%s'%s\n",
				a, val ? "" : " (missing value?)");
			usage(stderr);
			return 2;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ XenStore */

static void publish(struct front *fr, const char *key, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/data/tpmfront/%s", fr->home, key);
	hvg_xs_write(fr->xs, path, val);
}

static void unpublish(struct front *fr, const char *key)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/data/tpmfront/%s", fr->home, key);
	xs_rm(fr->xs, XBT_NULL, path);
}

/* Follows the backend's state while serving: its Closing, or its
 * directory going, ends the device (the channel's close would tell only
 * at the next command). */
static void watch_backend(struct front *fr, uint32_t devid)
{
	char path[128], be[160];

	snprintf(path, sizeof(path), "%s/device/vtpm/%u/backend", fr->home,
		 (unsigned)devid);
	if (hvg_xs_read(fr->xs, path, be, sizeof(be)))
		return;
	snprintf(fr->be_state, sizeof(fr->be_state), "%s/state", be);
	xs_watch(fr->xs, fr->be_state, WATCH_TOKEN);
}

static void check_backend(struct front *fr)
{
	char buf[16];
	char **ev;
	int rc;

	while ((ev = xs_check_watch(fr->xs)))
		free(ev);
	if (!fr->be_state[0])
		return;
	/* Gone reads EACCES as well as ENOENT: once its domain's home is
	 * gone, xenstored hides whether anything exists there. */
	rc = hvg_xs_read(fr->xs, fr->be_state, buf, sizeof(buf));
	if (rc == -ENOENT || rc == -EACCES ||
	    (!rc && (!strcmp(buf, "5") || !strcmp(buf, "6"))))
		fr->lost = true;
}

/* The backend's `error` node, if it left one: bounded, printable. */
static void backend_error(struct front *fr, char *text, size_t len)
{
	char path[sizeof(fr->be_state) + 8];
	size_t i;

	text[0] = '\0';
	if (!fr->be_state[0])
		return;
	snprintf(path, sizeof(path), "%.*s/error",
		 (int)(strlen(fr->be_state) - strlen("/state")), fr->be_state);
	if (hvg_xs_read(fr->xs, path, text, len))
		text[0] = '\0';
	for (i = 0; text[i]; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			text[i] = '?';
}

/* ------------------------------------------------------------ serving */

static int ring_xmit(void *ctx, const uint8_t *cmd, size_t len,
		     uint8_t locality, uint8_t *rsp, size_t cap,
		     size_t *rsp_len)
{
	struct front *fr = ctx;
	int rc;

	if (!fr->f || fr->lost)
		return -ENOTCONN;
	rc = vtpmfront_transmit(fr->f, cmd, len, locality, rsp, cap, rsp_len,
				COMMAND_TIMEOUT_MS);
	if (rc == -ENOTCONN)
		fr->lost = true;
	else if (rc == -ETIMEDOUT)
		fprintf(stderr,
			"tpmfront: command 0x%08x timed out after %d ms, "
			"cancelled\n",
			len >= 10 ? tpmsock_be32(cmd + 6) : 0,
			COMMAND_TIMEOUT_MS);
	else if (rc)
		fprintf(stderr, "tpmfront: command failed: %s\n",
			hvg_strerror(rc));
	return rc;
}

static void stop_serving(struct front *fr)
{
	if (fr->srv) {
		tpmsrv_close(fr->srv);
		fr->srv = NULL;
		unpublish(fr, "mssim-port");
		unpublish(fr, "swtpm-port");
	}
	if (fr->f) {
		vtpmfront_close(fr->f);
		fr->f = NULL;
	}
	if (fr->be_state[0])
		xs_unwatch(fr->xs, fr->be_state, WATCH_TOKEN);
	fr->be_state[0] = '\0';
	publish(fr, "status", "closed");
}

static int child_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 1;
}

/* Until SIGTERM, the child's end, or (without a child) the backend's
 * end.  Returns the exit status. */
static int serve(struct front *fr, int sfd, pid_t child)
{
	enum { P_SIG, P_XS, P_HVG, P_SRV };
	struct pollfd pfd[P_SRV + TPMSRV_POLL_MAX];

	for (;;) {
		unsigned n = P_SRV;
		int timeout = -1, rc;

		pfd[P_SIG] = (struct pollfd){sfd, POLLIN, 0};
		pfd[P_XS] = (struct pollfd){xs_fileno(fr->xs), POLLIN, 0};
		pfd[P_HVG] = (struct pollfd){hvg_fd(fr->g), POLLIN, 0};
		if (fr->srv)
			n += tpmsrv_poll_set(fr->srv, pfd + P_SRV, &timeout);
		rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "tpmfront: poll: %s\n",
				strerror(errno));
			return 1;
		}
		if (rc > 0 && pfd[P_SIG].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int ws;

				if (si.ssi_signo != SIGCHLD) {
					hvg_console(
						"tpmfront: signal %u: closing",
						si.ssi_signo);
					if (child > 0)
						kill(child, SIGTERM);
					return 0;
				}
				if (child > 0 &&
				    waitpid(child, &ws, WNOHANG) == child) {
					hvg_console("tpmfront: exec exited %d",
						    child_status(ws));
					return child_status(ws);
				}
			}
		}
		if (rc > 0 && pfd[P_XS].revents)
			check_backend(fr);
		if (rc > 0 && pfd[P_HVG].revents &&
		    hvg_process_notices(fr->g) == -EPIPE) {
			fprintf(stderr,
				"tpmfront: the hypervisor channel closed\n");
			return 1;
		}
		if (fr->srv)
			tpmsrv_serve(fr->srv, pfd + P_SRV, n - P_SRV);
		if (fr->lost && (fr->srv || fr->f)) {
			char err[256];

			/* As xen-tpmfront unregisters its chip: the ports
			 * go, clients get refused, not a TPM that hangs. */
			backend_error(fr, err, sizeof(err));
			stop_serving(fr);
			hvg_console("tpmfront: backend closed%s%s",
				    err[0] ? ": " : "", err);
			if (child <= 0)
				return 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct front fr = {0};
	struct opts o;
	struct tpmsock_xmit x = {ring_xmit, &fr};
	char why[512], val[16];
	sigset_t sigs;
	pid_t child = -1;
	int rc, sfd, status = 1;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		perror("tpmfront: signalfd");
		return 1;
	}

	rc = hvg_open(&fr.g);
	if (rc) {
		hvg_console("tpmfront: not a guest of hvsecd: %s",
			    hvg_strerror(rc));
		goto out;
	}
	fr.xs = hvg_xs_open();
	if (!fr.xs) {
		hvg_console("tpmfront: XenStore: %s", strerror(errno));
		goto out;
	}
	snprintf(fr.home, sizeof(fr.home), "/local/domain/%u",
		 (unsigned)hvg_domid(fr.g));
	publish(&fr, "status", "connecting");

	rc = vtpmfront_connect(fr.g, fr.xs, o.devid, o.timeout_ms, &fr.f, why,
			       sizeof(why));
	if (rc) {
		hvg_console("tpmfront: connect failed: %s", why);
		publish(&fr, "status", "failed");
		goto out;
	}
	rc = tpmsrv_open(o.port, &x, &fr.srv, why, sizeof(why));
	if (rc) {
		hvg_console("tpmfront: %s", why);
		stop_serving(&fr);
		publish(&fr, "status", "failed");
		goto out;
	}
	watch_backend(&fr, o.devid);
	snprintf(val, sizeof(val), "%u", (unsigned)tpmsrv_port(fr.srv));
	publish(&fr, "mssim-port", val);
	snprintf(val, sizeof(val), "%u", (unsigned)tpmsrv_port(fr.srv) + 2);
	publish(&fr, "swtpm-port", val);
	publish(&fr, "status", "ready");
	hvg_console("tpmfront: connected to backend domain %u, device %u",
		    (unsigned)vtpmfront_backend_id(fr.f), (unsigned)o.devid);
	hvg_console("tpmfront: ready mssim:host=127.0.0.1,port=%u",
		    (unsigned)tpmsrv_port(fr.srv));

	if (o.exec) {
		child = tpmfront_exec(o.exec, tpmsrv_port(fr.srv));
		if (child < 0) {
			hvg_console("tpmfront: exec: %s", strerror(-child));
			stop_serving(&fr);
			goto out;
		}
	}
	status = serve(&fr, sfd, child);
	stop_serving(&fr);
out:
	if (fr.xs)
		hvg_xs_close(fr.xs);
	hvg_close(fr.g);
	close(sfd);
	free(o.exec);
	return status;
}
