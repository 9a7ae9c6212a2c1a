/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_libxenstore.c - hvsec-xenstored driven by Debian's real libxenstore
 * (xenstore.h, -lxenstore), not by our own client: it starts the server
 * on sockets in a temporary directory, points XENSTORED_PATH at them and
 * checks reads, writes, listings long enough for DIRECTORY_PART,
 * permissions (as dom0 and as guest 5 on its own socket), transactions
 * with a conflicting concurrent writer (EAGAIN, then the usual retry
 * loop), watches through the library's reader thread, domain requests and
 * CONTROL.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "tests/harness.h"

static char dir[32], sock0[64], sock5[64];
static pid_t server;

static bool can_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void start_server(void)
{
	const char *bin = getenv("HVSEC_BIN");
	char exe[512], dsock[80];
	int i;

	snprintf(dir, sizeof(dir), "/tmp/hvsec-xs-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(sock0, sizeof(sock0), "%s/xenstored", dir);
	snprintf(sock5, sizeof(sock5), "%s/d5", dir);
	snprintf(dsock, sizeof(dsock), "5:%s", sock5);
	snprintf(exe, sizeof(exe), "%s/hvsec-xenstored",
		 bin && *bin ? bin : "build/bin");
	server = fork();
	if (server == 0) {
		execl(exe, exe, "--socket", sock0, "--domain-socket", dsock,
		      "--foreground", (char *)NULL);
		perror(exe);
		_exit(127);
	}
	for (i = 0; i < 500 && !can_connect(sock0); i++)
		usleep(10000);
	if (!can_connect(sock0)) {
		fprintf(stderr, "FAIL: %s did not start\n", exe);
		exit(1);
	}
}

static void stop_server(void)
{
	int st = -1;

	kill(server, SIGTERM);
	waitpid(server, &st, 0);
	TH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "server exits cleanly on SIGTERM");
	TH_CHECK(access(sock0, F_OK) != 0, "and removes its socket");
	unlink(sock5);
	rmdir(dir);
}

static struct xs_handle *open_as(const char *path)
{
	struct xs_handle *h;

	setenv("XENSTORED_PATH", path, 1);
	h = xs_open(0);
	if (!h) {
		fprintf(stderr, "FAIL: xs_open(%s): %s\n", path,
			strerror(errno));
		exit(1);
	}
	return h;
}

static char *rd(struct xs_handle *h, xs_transaction_t t, const char *p)
{
	static char buf[8192];
	unsigned int len;
	char *v = xs_read(h, t, p, &len);

	if (!v)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", v);
	free(v);
	return buf;
}

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

static void test_basic(struct xs_handle *h)
{
	static char big[4000];
	struct xs_permissions *p;
	unsigned int n, len;
	char **d;
	char *v;

	TH_CHECK(xs_write(h, XBT_NULL, "/lib/a/b", "hello", 5), "xs_write");
	TH_CHECK(is(rd(h, XBT_NULL, "/lib/a/b"), "hello"), "xs_read");
	TH_CHECK(is(rd(h, XBT_NULL, "/lib/a"), ""), "parent created empty");
	TH_CHECK(xs_mkdir(h, XBT_NULL, "/lib/m"), "xs_mkdir");
	d = xs_directory(h, XBT_NULL, "/lib", &n);
	TH_CHECK(d && n == 2 && !strcmp(d[0], "a") && !strcmp(d[1], "m"),
		 "xs_directory");
	free(d);
	TH_CHECK(xs_rm(h, XBT_NULL, "/lib/m"), "xs_rm");
	TH_CHECK(!rd(h, XBT_NULL, "/lib/m") && errno == ENOENT, "gone: ENOENT");
	TH_CHECK(!xs_rm(h, XBT_NULL, "/nope/nope") && errno == ENOENT,
		 "rm below nothing: ENOENT");
	TH_CHECK(!xs_write(h, XBT_NULL, "/bad//path", "x", 1) &&
			 errno == EINVAL,
		 "bad path: EINVAL");
	memset(big, 'q', sizeof(big));
	TH_CHECK(xs_write(h, XBT_NULL, "/lib/big", big, sizeof(big)), "4000");
	v = xs_read(h, XBT_NULL, "/lib/big", &len);
	TH_CHECK(v && len == sizeof(big) && !memcmp(v, big, len),
		 "big value back");
	free(v);
	p = xs_get_permissions(h, XBT_NULL, "/lib/a", &n);
	TH_CHECK(p && n == 1 && p[0].id == 0 && p[0].perms == XS_PERM_NONE,
		 "xs_get_permissions n0");
	free(p);
	{
		struct xs_permissions np[2] = {{0, XS_PERM_NONE},
					       {5, XS_PERM_READ}};

		TH_CHECK(xs_set_permissions(h, XBT_NULL, "/lib/a", np, 2),
			 "xs_set_permissions");
		p = xs_get_permissions(h, XBT_NULL, "/lib/a", &n);
		TH_CHECK(p && n == 2 && p[1].id == 5 &&
				 p[1].perms == XS_PERM_READ,
			 "n0 r5 back");
		free(p);
	}
}

static void test_long_directory(struct xs_handle *h)
{
	char path[64], **d;
	unsigned int n, i;
	bool ok = true;
	xs_transaction_t t;

	/* One transaction, so that 1200 writes are one commit. */
	t = xs_transaction_start(h);
	for (i = 0; i < 1200; i++) {
		snprintf(path, sizeof(path), "/long/entry-number-%04u", i);
		ok &= xs_write(h, t, path, "", 0);
	}
	TH_CHECK(ok && xs_transaction_end(h, t, false), "1200 children");
	d = xs_directory(h, XBT_NULL, "/long", &n);
	TH_CHECK(d && n == 1200, "xs_directory over DIRECTORY_PART: %u", n);
	for (i = 0; d && i < n; i++) {
		snprintf(path, sizeof(path), "entry-number-%04u", i);
		if (strcmp(d[i], path))
			break;
	}
	TH_CHECK(d && i == 1200, "all of them, in order");
	free(d);
}

static void test_transactions(struct xs_handle *h, struct xs_handle *h2)
{
	xs_transaction_t t;
	int tries = 0;
	bool ok;

	xs_write(h, XBT_NULL, "/tx/counter", "1", 1);
	t = xs_transaction_start(h);
	TH_CHECK(t != XBT_NULL, "xs_transaction_start");
	TH_CHECK(is(rd(h, t, "/tx/counter"), "1"), "read in tx");
	/* Someone else writes what we read. */
	TH_CHECK(xs_write(h2, XBT_NULL, "/tx/counter", "5", 1),
		 "concurrent write");
	TH_CHECK(xs_write(h, t, "/tx/counter", "2", 1), "write in tx");
	TH_CHECK(is(rd(h2, XBT_NULL, "/tx/counter"), "5"), "isolated");
	errno = 0;
	TH_CHECK(!xs_transaction_end(h, t, false) && errno == EAGAIN,
		 "commit: EAGAIN (%s)", strerror(errno));
	TH_CHECK(is(rd(h, XBT_NULL, "/tx/counter"), "5"),
		 "the other write stands");
	/* The usual loop. */
	do {
		char buf[32], *v;
		long c;

		t = xs_transaction_start(h);
		v = rd(h, t, "/tx/counter");
		c = v ? strtol(v, NULL, 10) : 0;
		if (tries == 0)
			xs_write(h2, XBT_NULL, "/tx/counter", "10", 2);
		snprintf(buf, sizeof(buf), "%ld", c + 1);
		xs_write(h, t, "/tx/counter", buf, (unsigned int)strlen(buf));
		ok = xs_transaction_end(h, t, false);
		tries++;
	} while (!ok && errno == EAGAIN && tries < 5);
	TH_CHECK(ok && tries == 2, "retry loop: %d tries", tries);
	TH_CHECK(is(rd(h, XBT_NULL, "/tx/counter"), "11"), "no lost update");
	t = xs_transaction_start(h);
	xs_write(h, t, "/tx/aborted", "x", 1);
	TH_CHECK(xs_transaction_end(h, t, true), "abort");
	TH_CHECK(!rd(h, XBT_NULL, "/tx/aborted"), "nothing of it");
}

/* Waits up to 2 s for a watch event: path and token, or false. */
static bool next_event(struct xs_handle *h, char *path, char *token,
		       size_t size)
{
	struct pollfd pfd = {.fd = xs_fileno(h), .events = POLLIN};
	char **v;
	unsigned int n;

	if (poll(&pfd, 1, 2000) != 1)
		return false;
	v = xs_read_watch(h, &n);
	if (!v || n < 2)
		return false;
	snprintf(path, size, "%s", v[XS_WATCH_PATH]);
	snprintf(token, size, "%s", v[XS_WATCH_TOKEN]);
	free(v);
	return true;
}

static void test_watches(struct xs_handle *h, struct xs_handle *h2)
{
	char path[256], tok[256];
	struct pollfd pfd;

	TH_CHECK(xs_watch(h, "/wt", "tok1"), "xs_watch");
	TH_CHECK(next_event(h, path, tok, sizeof(path)) &&
			 !strcmp(path, "/wt") && !strcmp(tok, "tok1"),
		 "initial event");
	xs_write(h2, XBT_NULL, "/wt/x", "1", 1);
	TH_CHECK(next_event(h, path, tok, sizeof(path)) &&
			 !strcmp(path, "/wt/x"),
		 "event for another client's write");
	TH_CHECK(!xs_watch(h, "/wt", "tok1") && errno == EEXIST,
		 "same watch again: EEXIST");
	TH_CHECK(xs_unwatch(h, "/wt", "tok1"), "xs_unwatch");
	xs_write(h2, XBT_NULL, "/wt/x", "2", 1);
	pfd.fd = xs_fileno(h);
	pfd.events = POLLIN;
	TH_CHECK(poll(&pfd, 1, 200) == 0, "no event after unwatch");
	TH_CHECK(xs_watch(h, "@introduceDomain", "intro") &&
			 next_event(h, path, tok, sizeof(path)) &&
			 !strcmp(path, "@introduceDomain"),
		 "@introduceDomain watch");
	TH_CHECK(xs_introduce_domain(h, 7, 1234, 3), "xs_introduce_domain");
	TH_CHECK(next_event(h, path, tok, sizeof(path)) &&
			 !strcmp(path, "@introduceDomain") &&
			 !strcmp(tok, "intro"),
		 "fires on introduce");
	TH_CHECK(xs_is_domain_introduced(h, 7), "xs_is_domain_introduced");
	TH_CHECK(xs_watch(h, "@releaseDomain", "rel") &&
			 next_event(h, path, tok, sizeof(path)),
		 "@releaseDomain watch");
	TH_CHECK(xs_release_domain(h, 7), "xs_release_domain");
	TH_CHECK(next_event(h, path, tok, sizeof(path)) &&
			 !strcmp(path, "@releaseDomain"),
		 "fires on release");
	TH_CHECK(!xs_is_domain_introduced(h, 7), "released");
}

static void test_guest(struct xs_handle *h0)
{
	struct xs_handle *g = open_as(sock5);
	char *p;
	unsigned int len;

	p = xs_get_domain_path(g, 5);
	TH_CHECK(p && !strcmp(p, "/local/domain/5"), "xs_get_domain_path");
	free(p);
	TH_CHECK(xs_write(g, XBT_NULL, "data/x", "g", 1), "relative write");
	TH_CHECK(is(rd(h0, XBT_NULL, "/local/domain/5/data/x"), "g"),
		 "landed in the home");
	errno = 0;
	TH_CHECK(!xs_read(g, XBT_NULL, "/tool", &len) && errno == EACCES,
		 "guest reads /tool: EACCES");
	TH_CHECK(!xs_write(g, XBT_NULL, "/mine", "x", 1) && errno == EACCES,
		 "guest writes /: EACCES");
	TH_CHECK(!xs_is_domain_introduced(g, 5) && errno == EACCES,
		 "privileged request: EACCES");
	/* /lib/a was given "n0 r5" in test_basic. */
	TH_CHECK(is(rd(g, XBT_NULL, "/lib/a"), ""), "reads what it was given");
	TH_CHECK(!xs_write(g, XBT_NULL, "/lib/a", "x", 1) && errno == EACCES,
		 "but cannot write it");
	{
		struct xs_permissions np[1] = {{0, XS_PERM_NONE}};

		TH_CHECK(!xs_set_permissions(g, XBT_NULL, "data/x", np, 1) &&
				 errno == EPERM,
			 "cannot give its node away: EPERM");
	}
	xs_close(g);
}

static void test_control(struct xs_handle *h)
{
	char *r = xs_control_command(h, "check", NULL, 0);

	TH_CHECK(r != NULL, "xs_control_command check");
	free(r);
	r = xs_control_command(h, "help", NULL, 0);
	TH_CHECK(r && strstr(r, "check"), "xs_control_command help");
	free(r);
}

int main(void)
{
	struct xs_handle *h, *h2;

	signal(SIGPIPE, SIG_IGN);
	start_server();
	h = open_as(sock0);
	h2 = open_as(sock0);
	test_basic(h);
	test_long_directory(h);
	test_transactions(h, h2);
	test_watches(h, h2);
	test_guest(h);
	test_control(h);
	xs_close(h);
	xs_close(h2);
	stop_server();
	return th_done();
}
