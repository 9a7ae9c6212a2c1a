/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec-vtpm-managerd - the vTPM manager (docs/vtpm-manager.md).
 *
 *   --init   a new manager directory (dom0, once)
 *   serving  a domain of its own under hvsecd: the key holder is forked
 *            first, before anything else is opened, and keeps only its
 *            socketpair, stdout and stderr; the parent becomes the front.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vtpm-manager/mgr_ptpm.h"
#include "vtpm-manager/mgrd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvsec-vtpm-managerd --init --dir DIR --tcti TCTI "
		"[--pcrs LIST]\n"
		"                           [--nv-index INDEX] "
		"[--force-new-counter]\n"
		"       hvsec-vtpm-managerd --dir DIR --tcti TCTI --control "
		"SOCKET\n"
		"                           [--commit-window-us US] "
		"[--toolstack-uid UID]\n"
		"\n"
		"The vTPM manager.  --init makes DIR (0700): a root key "
		"sealed by the\n"
		"platform TPM to its SHA-256 PCRs, an NV counter bound to "
		"it, an empty\n"
		"root record, the EK certificate CA and the migration "
		"identity key.\n"
		"Serving (a domain started by hvsecd: `hvsec vtpm manager "
		"start`), it\n"
		"unseals the root key, recovers the root record against the "
		"counter and\n"
		"serves the instance rings under "
		"/local/domain/SELF/backend/vtpm and the\n"
		"control socket.\n"
		"\n"
		"  --dir DIR             the manager directory\n"
		"  --tcti TCTI           the platform TPM: device:/dev/tpmrm0, "
		"swtpm:port=P\n"
		"  --pcrs LIST           --init: PCRs to seal to (default "
		"0,2,4,7)\n"
		"  --nv-index INDEX      --init: NV counter index (default "
		"0x%08x)\n"
		"  --force-new-counter   --init: replace an existing counter "
		"at INDEX\n"
		"  --control SOCKET      the control socket to create "
		"(SOCK_SEQPACKET)\n"
		"  --commit-window-us US wait up to US (0..%u, default 0) for "
		"more commits\n"
		"                        to share one NV increment\n"
		"  --toolstack-uid UID   a uid besides 0 allowed on the "
		"control socket\n"
		"  --no-sandbox          debugging: run both processes "
		"without seccomp and\n"
		"                        Landlock (said loudly on the "
		"console)\n"
		"  --help                this text\n"
		"\n"
		"Exit status: 0 done / stopped by SIGTERM, 1 a failure (said "
		"on stdout),\n"
		"2 bad usage, 3 the root key does not unseal (platform PCRs "
		"changed: named),\n"
		"4 the root record is refused (no record matches the NV "
		"counter: rollback),\n"
		"5 --init: DIR is initialised already.\n",
		MGR_NV_COUNTER_DEFAULT, MGRD_WINDOW_US_MAX);
}

int main(int argc, char **argv)
{
	struct mgrd_opts o;
	char why[256];
	int sp[2], pid, status, rcv = 1 << 20;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mgrd_parse_args(argc, argv, &o, why, sizeof(why))) {
		fprintf(stderr, "hvsec-vtpm-managerd: %s\n", why);
		fprintf(stderr, "Try 'hvsec-vtpm-managerd --help'.\n");
		return MGRD_EXIT_USAGE;
	}
	if (o.help) {
		usage(stdout);
		return MGRD_EXIT_OK;
	}
	if (o.init)
		return mgrd_init(&o);

	/* Before the fork, so both processes inherit it. */
	if (mgrd_sandbox_prepare(&o))
		return MGRD_EXIT_FAIL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		mgrd_log("socketpair: %s", mgrd_strerror(errno));
		return MGRD_EXIT_FAIL;
	}
	for (int i = 0; i < 2; i++) {
		setsockopt(sp[i], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		setsockopt(sp[i], SOL_SOCKET, SO_SNDBUF, &rcv, sizeof(rcv));
	}
	pid = fork();
	if (pid < 0) {
		mgrd_log("fork: %s", mgrd_strerror(errno));
		return MGRD_EXIT_FAIL;
	}
	if (pid == 0) {
		/* The key holder keeps the socketpair and the console only:
		 * not the hypercall channel hvsecd gave us. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sp[1])
				close(fd);
		unsetenv("HVSEC_HC_FD");
		/* It stops when the front closes the socketpair (after its
		 * last batch, flushing what it loaded into the TPM), not on
		 * a signal sent to the whole domain. */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGXFSZ, SIG_IGN);
		status = mgrd_kh_main(sp[1], &o);
		mgrd_sandbox_kh_exit(&o);
		_exit(status);
	}
	close(sp[1]);
	return mgrd_front_main(sp[0], pid, &o);
}
