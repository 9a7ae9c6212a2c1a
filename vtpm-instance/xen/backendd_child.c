/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backendd_child.c - one hvsec-vtpmd-xen per device.
 *
 * posix_spawn, not fork: libxenstore runs a reader thread once a watch is
 * set, and a child of a threaded process may do little before exec.  The
 * child gets /dev/null as stdin, a pipe of ours as stdout and stderr (its
 * lines reach our log prefixed with the device, "[G/N] vtpmd: ..."), no
 * other fd (closefrom: not our XenStore socket, not the state root's
 * lock), every signal unblocked and at its default, and a process group
 * of its own, so a ^C at our terminal reaches us and we stop the children
 * in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vtpm-instance/xen/backendd.h"

extern char **environ;

int bd_child_spawn(struct bd *b, struct bd_dev *d, const char *state_dir,
		   char *why, size_t why_len)
{
	char gs[12], ns[12];
	char *argv[] = {
		b->vtpmd_path, "--frontend-id",	  gs,	    "--devid", ns,
		"--state-dir", (char *)state_dir, "--uuid", d->uuid,   NULL,
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int pfd[2] = {-1, -1}, rc;
	pid_t pid;

	snprintf(gs, sizeof(gs), "%u", d->g);
	snprintf(ns, sizeof(ns), "%u", d->n);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		rc = errno;
		snprintf(why, why_len, "starting %s: pipe: %s", BD_VTPMD_NAME,
			 strerror(rc));
		return -rc;
	}
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &dfl);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (!rc)
		rc = posix_spawnattr_setflags(
			&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				     POSIX_SPAWN_SETPGROUP);
	if (!rc)
		rc = posix_spawn(&pid, b->vtpmd_path, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc) {
		close(pfd[0]);
		snprintf(why, why_len, "starting %s: %s", b->vtpmd_path,
			 strerror(rc));
		return -rc;
	}
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
	d->pid = pid;
	d->out_fd = pfd[0];
	d->out_len = 0;
	d->reaped = false;
	return 0;
}

static void emit(const struct bd_dev *d, const char *s, size_t len)
{
	bd_log("[%u/%u] %.*s", d->g, d->n, (int)len, s);
}

void bd_child_output(struct bd_dev *d)
{
	for (;;) {
		ssize_t r;
		size_t start = 0;

		if (d->out_fd < 0)
			return;
		r = read(d->out_fd, d->out + d->out_len,
			 sizeof(d->out) - d->out_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			/* EOF (or a broken pipe): what is left is a line. */
			if (d->out_len)
				emit(d, d->out, d->out_len);
			d->out_len = 0;
			close(d->out_fd);
			d->out_fd = -1;
			return;
		}
		d->out_len += (size_t)r;
		for (size_t i = 0; i < d->out_len; i++) {
			if (d->out[i] == '\n') {
				emit(d, d->out + start, i - start);
				start = i + 1;
			}
		}
		memmove(d->out, d->out + start, d->out_len - start);
		d->out_len -= start;
		if (d->out_len == sizeof(d->out)) {
			/* A line longer than we keep: cut it. */
			emit(d, d->out, d->out_len);
			d->out_len = 0;
		}
	}
}

void bd_child_reap(struct bd *b)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		struct bd_dev *d = NULL;

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (unsigned i = 0; i < BD_DEVS_MAX; i++) {
			if (b->devs[i].st != BD_DEV_FREE &&
			    b->devs[i].pid == pid)
				d = &b->devs[i];
		}
		if (!d)
			continue; /* not one of ours */
		d->status = status;
		d->reaped = true;
		/* Everything it wrote is in the pipe now. */
		bd_child_output(d);
		if (d->out_fd >= 0) {
			/* Held open by someone else: stop reading it. */
			if (d->out_len)
				emit(d, d->out, d->out_len);
			close(d->out_fd);
			d->out_fd = -1;
			d->out_len = 0;
		}
		bd_child_ended(b, d);
	}
}

void bd_child_signal(struct bd_dev *d, int sig)
{
	if (d->pid > 0 && !d->reaped)
		kill(d->pid, sig);
}
