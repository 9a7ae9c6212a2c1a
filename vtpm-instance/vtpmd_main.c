/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec-vtpmd - one guest's vTPM backend, a stub domain of the model
 * (docs/vtpm.md): libtpms behind the Xen tpmif v2 shared page.
 *
 * One thread, one poll loop over four fds: SIGTERM/SIGINT (a signalfd),
 * XenStore watches (xs_fileno), the hypercall channel's notices
 * (plat_fd: a peer closed a channel) and the ring's event channel.
 * Signals are blocked before anything can start a thread (libxenstore's
 * reader), so none of them is delivered anywhere but the signalfd.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xenstore.h>

#include "vtpm-instance/vtpmd.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvsec-vtpmd --frontend-id G --devid N --state-dir DIR "
		"--uuid UUID\n"
		"                   [--locality 0[,1,...]] [--tpm12] "
		"[--spin-us US]\n"
		"                   [--manager DOMID]\n"
		"\n"
		"One guest's vTPM backend: a stub domain started by the "
		"toolstack under\n"
		"hvsecd (it needs the hypercall channel hvsecd passes).  It "
		"powers the TPM\n"
		"on (libtpms, state in DIR), serves the Xen tpmif v2 ring of "
		"device N of\n"
		"domain G through /local/domain/SELF/backend/vtpm/G/N, and "
		"exits when\n"
		"that frontend's directory goes.\n"
		"\n"
		"  --frontend-id G   the guest's domid (0..%u)\n"
		"  --devid N         its vTPM device number (0..%u)\n"
		"  --state-dir DIR   NV state (permall, ...); must exist and "
		"be "
		"ours\n"
		"  --uuid UUID       the vTPM's UUID, checked against the "
		"backend dir\n"
		"  --locality LIST   localities the guest may use (default 0)\n"
		"  --tpm12           a TPM 1.2 instead of 2.0\n"
		"  --spin-us US      after answering, watch the ring up to "
		"this long for the\n"
		"                    next command before sleeping (0..%u; "
		"default %u,\n"
		"                    0 with one CPU online); less while such "
		"watches\n"
		"                    keep finding nothing\n"
		"  --manager DOMID   state sealed and committed to the vTPM "
		"manager in domain\n"
		"                    DOMID (a tpmif frontend of it through "
		"device/vtpm/0);\n"
		"                    a new instance is manufactured here and "
		"certified there\n"
		"  --help            this text\n"
		"\n"
		"Exit status: 0 the frontend went away or SIGTERM (TPM powered "
		"off cleanly),\n"
		"1 a failure (platform, state, TPM, XenStore; said on stdout), "
		"2 bad usage.\n",
		VTPMD_DOMID_MAX, VTPMD_DEVID_MAX, VTPMD_SPIN_US_MAX,
		VTPMD_SPIN_US_DEFAULT);
}

static void default_spin(struct vtpmd *d)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	/* With one CPU the guest cannot run while we spin: spinning only
	 * delays the command we wait for.  If asked to anyway, yield. */
	d->yield_spin = ncpu <= 1;
	if (!d->cfg.spin_given)
		d->cfg.spin_us = ncpu > 1 ? VTPMD_SPIN_US_DEFAULT : 0;
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* a XenStore write to a closed socket */
	/* The console is capped (RLIMIT_FSIZE): a full one fails writes,
	 * it must not kill the guest's TPM. */
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

/* Drains the watch events: which one fired does not matter, the update
 * re-reads everything. */
static void on_xenstore(struct vtpmd *d)
{
	bool any = false;
	char **ev;

	while ((ev = xs_check_watch(d->xs))) {
		free(ev);
		any = true;
	}
	if (any)
		vtpmd_xb_update(d);
}

static int on_signal(struct vtpmd *d, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP)
		return 0; /* no configuration to reload */
	vtpmd_log("signal %u: powering off", si.ssi_signo);
	vtpmd_xb_poweroff(d);
	return 0;
}

static int loop(struct vtpmd *d, int sfd)
{
	while (!d->done) {
		struct pollfd pfd[4] = {
			{sfd, POLLIN, 0},
			{xs_fileno(d->xs), POLLIN, 0},
			{plat_fd(d->plat), POLLIN, 0},
			{-1, POLLIN, 0},
		};
		int rc;

		/* Any hypercall (a mediated notify, say) may have taken the
		 * notice that the peer closed the channel: its fd is gone. */
		if (d->ring.connected) {
			pfd[3].fd = plat_evtchn_fd(d->plat, d->ring.local_port);
			if (pfd[3].fd < 0) {
				vtpmd_xb_peer_closed(d, -ENOTCONN);
				continue;
			}
		}
		rc = poll(pfd, 4, -1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			vtpmd_log("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		/* Notices first: one may have closed the ring's channel,
		 * whose fd is then gone (never use pfd[3] after this; the
		 * kick asks the platform afresh). */
		if (pfd[2].revents) {
			rc = plat_process(d->plat);
			if (rc) {
				vtpmd_log("hypercall channel: %s",
					  vtpmd_strerror(rc));
				return EXIT_FAIL;
			}
		}
		if (d->ring.connected && (pfd[3].revents & POLLIN)) {
			rc = vtpmd_ring_kick(d);
			if (rc < 0)
				vtpmd_xb_peer_closed(d, rc);
		}
		if (pfd[1].revents)
			on_xenstore(d);
		if (pfd[0].revents)
			on_signal(d, sfd);
	}
	return d->exit_code;
}

static struct vtpmd vd; /* large (two ring pages): not on the stack */
static struct vtpmd_mgr vm; /* manager mode */

/* A start-up failure told to the toolstack (backend `error`), then the
 * loop until it takes the directory away. */
static int fatal(struct vtpmd *d, int sfd, const char *msg)
{
	vtpmd_log("%s", msg);
	if (vtpmd_xb_report_fatal(d, msg))
		return loop(d, sfd);
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct vtpmd *d = &vd;
	struct vtpm_store store = {0};
	bool store_open = false, tpm_on = false;
	char why[512];
	sigset_t sigs;
	int sfd = -1, rc, status = EXIT_FAIL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (vtpmd_parse_args(argc, argv, &d->cfg, why, sizeof(why))) {
		fprintf(stderr, "hvsec-vtpmd: %s\n", why);
		fprintf(stderr, "Try 'hvsec-vtpmd --help'.\n");
		return EXIT_USAGE;
	}
	if (d->cfg.help) {
		usage(stdout);
		return EXIT_OK;
	}
	default_spin(d);

	rc = block_signals(&sigs);
	sfd = rc ? -1 : signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		vtpmd_log("signals: %s", strerror(errno));
		goto out;
	}
	rc = plat_open(&d->plat, why, sizeof(why));
	if (rc) {
		vtpmd_log("platform %s: %s", plat_name(), why);
		goto out;
	}
	d->self = plat_self_domid(d->plat);
	if (d->self == d->cfg.frontend_id) {
		vtpmd_log("--frontend-id %u is this domain itself",
			  d->cfg.frontend_id);
		status = EXIT_USAGE;
		goto out;
	}
	d->xs = xs_open(0);
	if (!d->xs) {
		vtpmd_log("XenStore ($XENSTORED_PATH): %s", strerror(errno));
		goto out;
	}
	rc = vtpmd_xb_start(d, why, sizeof(why));
	if (rc) {
		vtpmd_log("%s", why);
		goto out;
	}

	if (d->cfg.manager) {
		rc = vtpmd_mgr_start(d, &vm, why, sizeof(why));
		if (rc) {
			status = fatal(d, sfd, why);
			goto out;
		}
		store = vm.store; /* borrowed: vtpmd_mgr_stop closes it */
	} else
		rc = vtpm_store_file_open(&store, d->cfg.state_dir, why,
					  sizeof(why));
	if (rc) {
		char msg[600];

		/* why says what is wrong, not with what. */
		snprintf(msg, sizeof(msg), "state directory %s: %s",
			 d->cfg.state_dir, why);
		vtpmd_log("%s", msg);
		if (vtpmd_xb_report_fatal(d, msg))
			status = loop(d, sfd);
		goto out;
	}
	store_open = !d->cfg.manager;
	/* A NEW manager-mode TPM is on already, made and provisioned. */
	rc = vm.tpm_on ? 0
		       : vtpm_tpm_power_on(
				 &(struct vtpm_tpm_config){.store = &store,
							   .tpm12 =
								   d->cfg.tpm12},
				 why, sizeof(why));
	if (rc) {
		char msg[600];

		snprintf(msg, sizeof(msg), "powering on the TPM: %s", why);
		vtpmd_log("%s", msg);
		if (vtpmd_xb_report_fatal(d, msg))
			status = loop(d, sfd);
		goto out;
	}
	tpm_on = true;
	d->store = &store;
	vtpmd_log("TPM %s powered on (state in %s); domain %u, platform %s",
		  d->cfg.tpm12 ? "1.2" : "2.0", d->cfg.state_dir, d->self,
		  plat_name());
	/* Before InitWait (written from the loop): the guest finds its
	 * boot measured when it first connects. */
	if (!d->cfg.tpm12) {
		unsigned events = 0;

		rc = vtpmd_measure_boot(d->cfg.state_dir, &events, why,
					sizeof(why));
		if (rc < 0) {
			char msg[600];

			snprintf(msg, sizeof(msg), "measured boot: %s", why);
			vtpmd_log("%s", msg);
			if (vtpmd_xb_report_fatal(d, msg))
				status = loop(d, sfd);
			goto out;
		}
		if (rc == 0)
			vtpmd_log("measured boot: %u events of boot-log "
				  "extended",
				  events);
	}

	status = loop(d, sfd);
out:
	if (tpm_on) {
		struct vtpm_tpm_stats st;

		vtpm_tpm_stats(&st);
		vtpm_tpm_power_off();
		vtpmd_log("TPM powered off: %llu commands, %llu errors, %llu "
			  "stores (%llu failed)",
			  (unsigned long long)st.commands,
			  (unsigned long long)st.errors,
			  (unsigned long long)st.stores,
			  (unsigned long long)st.store_failures);
	}
	if (store_open)
		vtpm_store_close(&store);
	/* CLOSE only after a clean power-off; a stub that failed is
	 * released by the toolstack's DETACH. */
	if (d->cfg.manager)
		vtpmd_mgr_stop(&vm, tpm_on && status == EXIT_OK);
	if (d->xs)
		xs_close(d->xs);
	plat_close(d->plat); /* unmaps and unbinds what is left */
	if (sfd >= 0)
		close(sfd);
	return status;
}
