/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpmfront_exec.c - `--exec`: the guest's command, run beside the server
 * with its TCTI pointing at us.
 *
 * Everything the child needs is built before fork: the parent may hold
 * libxenstore's reader thread, and after fork only async-signal-safe
 * calls are allowed.  The child gets our environment with TPM2TOOLS_TCTI,
 * PATH and HOME replaced, no hypercall fd (HVSEC_HC_FD goes, and every fd
 * above 2 is closed: the hypercall channel is this program's), default
 * signal dispositions and mask, and our stdout/stderr (the console).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtpm-instance/front/tpmfront.h"

extern char **environ;

#define ENV_MAX 256 /* variables passed on; the rest is dropped */

static bool replaced(const char *var)
{
	static const char *const names[] = {
		"TPM2TOOLS_TCTI=",
		"PATH=",
		"HOME=",
		"HVSEC_HC_FD=",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(var, names[i], strlen(names[i])))
			return true;
	return false;
}

int tpmfront_exec(const char *cmd, uint16_t port)
{
	char tcti[64], path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char cwd[4096], home[4096 + 8];
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	char **envp;
	size_t n = 0;
	pid_t pid;
	int rc;

	snprintf(tcti, sizeof(tcti),
		 "TPM2TOOLS_TCTI=mssim:host=127.0.0.1,port=%u", (unsigned)port);
	/* HOME is the guest's working directory (hvsecd's HOME names it
	 * too, but the guest reaches it as "."). */
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	snprintf(home, sizeof(home), "HOME=%s", cwd);
	envp = calloc(ENV_MAX + 4, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (char **e = environ; *e && n < ENV_MAX; e++)
		if (!replaced(*e))
			envp[n++] = *e;
	envp[n++] = tcti;
	envp[n++] = path;
	envp[n++] = home;
	envp[n] = NULL;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		close_range(3, ~0u, 0);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	rc = pid < 0 ? -errno : pid;
	free(envp);
	return rc;
}
