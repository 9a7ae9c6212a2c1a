/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_backendd.c - hvsec-vtpm-backendd's pure parts, as tables: the
 * command line, "G/N", and the judge of a device's toolstack nodes
 * (including which problem wins when several nodes are wrong).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/harness.h"
#include "vtpm-instance/xen/backendd.h"

static void test_devspec(void)
{
	static const struct {
		const char *s;
		int want;
		uint32_t g, n;
	} c[] = {
		{"3/0", 0, 3, 0},
		{"0/0", 0, 0, 0},
		{"32751/65535", 0, 32751, 65535},
		{"32752/0", -EINVAL, 0, 0}, /* DOMID_FIRST_RESERVED */
		{"3/65536", -EINVAL, 0, 0},
		{"03/0", -EINVAL, 0, 0},
		{"3/00", -EINVAL, 0, 0},
		{"3", -EINVAL, 0, 0},
		{"/0", -EINVAL, 0, 0},
		{"3/", -EINVAL, 0, 0},
		{"3/0/1", -EINVAL, 0, 0},
		{"3//0", -EINVAL, 0, 0},
		{"+3/0", -EINVAL, 0, 0},
		{" 3/0", -EINVAL, 0, 0},
		{"3/0 ", -EINVAL, 0, 0},
		{"123456789012/0", -EINVAL, 0, 0},
		{"", -EINVAL, 0, 0},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		uint32_t g = 0xdead, n = 0xbeef;
		int rc = bd_parse_devspec(c[i].s, &g, &n);

		TH_CHECK(rc == c[i].want, "devspec \"%s\": %d, want %d", c[i].s,
			 rc, c[i].want);
		if (!rc)
			TH_CHECK(g == c[i].g && n == c[i].n,
				 "devspec \"%s\" = %u/%u", c[i].s, g, n);
		else
			TH_CHECK(g == 0xdead && n == 0xbeef,
				 "devspec \"%s\": out untouched", c[i].s);
	}
	TH_CHECK(bd_parse_devspec(NULL, &(uint32_t){0}, &(uint32_t){0}) ==
			 -EINVAL,
		 "devspec NULL");
}

static void test_args(void)
{
	static const struct {
		const char *argv[8];
		int want;
		const char *why; /* part of it, for errors */
		const char *root;
		const char *log;
		bool once;
		uint32_t g, n;
	} c[] = {
		{{"bd"}, 0, "", BD_STATE_ROOT_DEFAULT, NULL, false, 0, 0},
		{{"bd", "--foreground"}, 0, "", BD_STATE_ROOT_DEFAULT, NULL},
		{{"bd", "--state-root", "/s", "--log", "/l"},
		 0,
		 "",
		 "/s",
		 "/l"},
		{{"bd", "--state-root=/s"}, 0, "", "/s", NULL},
		{{"bd", "--once-for", "5/1"},
		 0,
		 "",
		 BD_STATE_ROOT_DEFAULT,
		 NULL,
		 true,
		 5,
		 1},
		{{"bd", "--once-for", "5"},
		 -EINVAL,
		 "--once-for \"5\": not G/N"},
		{{"bd", "--once-for", "32752/0"}, -EINVAL, "--once-for"},
		{{"bd", "--once-for"}, -EINVAL, "--once-for: needs a value"},
		{{"bd", "--state-root", ""}, -EINVAL, "--state-root: empty"},
		{{"bd", "--log", ""}, -EINVAL, "--log: empty"},
		{{"bd", "--log", "a", "--log", "b"},
		 -EINVAL,
		 "--log given twice"},
		{{"bd", "--frob"}, -EINVAL, "--frob: unknown option"},
		{{"bd", "extra"}, -EINVAL, "unexpected argument \"extra\""},
		/* The first problem on the line wins. */
		{{"bd", "--frob", "--log", ""}, -EINVAL, "--frob"},
		{{"bd", "--log", "", "--frob"}, -EINVAL, "--log: empty"},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		struct bd_cfg cfg;
		char why[256];
		int argc = 0, rc;

		while (c[i].argv[argc])
			argc++;
		rc = bd_parse_args(argc, (char **)c[i].argv, &cfg, why,
				   sizeof(why));
		TH_CHECK(rc == c[i].want, "args case %zu: %d, want %d (%s)", i,
			 rc, c[i].want, why);
		if (rc) {
			TH_CHECK(strstr(why, c[i].why) != NULL,
				 "args case %zu: why \"%s\" has \"%s\"", i, why,
				 c[i].why);
			continue;
		}
		TH_CHECK(!strcmp(cfg.state_root, c[i].root),
			 "args case %zu: root %s", i, cfg.state_root);
		TH_CHECK(c[i].log ? cfg.log_path &&
					    !strcmp(cfg.log_path, c[i].log)
				  : !cfg.log_path,
			 "args case %zu: log", i);
		TH_CHECK(cfg.once == c[i].once &&
				 (!cfg.once || (cfg.once_g == c[i].g &&
						cfg.once_n == c[i].n)),
			 "args case %zu: once", i);
	}
	{
		const char *argv[] = {"bd", "--help", "--frob", NULL};
		struct bd_cfg cfg;
		char why[64];

		TH_CHECK(bd_parse_args(3, (char **)argv, &cfg, why,
				       sizeof(why)) == 0 &&
				 cfg.help,
			 "--help wins over what follows");
	}
}

#define U1 "0123abcd-4567-89ef-0123-456789abcdef"
#define U2 "fedcba98-7654-3210-fedc-ba9876543210"
#define OK(v)                                                                  \
	{                                                                      \
		0, v                                                           \
	}
#define ABSENT                                                                 \
	{                                                                      \
		-ENOENT, NULL                                                  \
	}
#define HIDDEN                                                                 \
	{                                                                      \
		-EACCES, NULL                                                  \
	}

static void test_judge(void)
{
	static const struct {
		const char *name;
		struct bd_node online, state, feid, be, lx;
		enum bd_verdict want;
		const char *uuid; /* BD_SERVE */
		const char *from; /* BD_SERVE */
		const char *why;  /* part of it, others */
	} c[] = {
		/* What libxl writes. */
		{"libxl", OK("1"), OK("1"), OK("3"), OK(U1), OK(U1), BD_SERVE,
		 U1, "/libxl", NULL},
		{"upper case", OK("1"), OK("1"), OK("3"),
		 OK("0123ABCD-4567-89EF-0123-456789ABCDEF"), OK(U1), BD_SERVE,
		 U1, "/libxl", NULL},
		/* A driver domain cannot read /libxl. */
		{"no /libxl access", OK("1"), OK("1"), OK("3"), OK(U1), HIDDEN,
		 BD_SERVE, U1, "backend", NULL},
		{"only /libxl", OK("1"), OK("1"), OK("3"), ABSENT, OK(U2),
		 BD_SERVE, U2, "/libxl", NULL},
		/* Not complete yet. */
		{"nothing yet", ABSENT, ABSENT, ABSENT, ABSENT, ABSENT, BD_WAIT,
		 NULL, NULL, "online"},
		{"no state", OK("1"), ABSENT, OK("3"), OK(U1), OK(U1), BD_WAIT,
		 NULL, NULL, "state"},
		{"no frontend-id", OK("1"), OK("1"), ABSENT, OK(U1), OK(U1),
		 BD_WAIT, NULL, NULL, "frontend-id"},
		{"no uuid", OK("1"), OK("1"), OK("3"), ABSENT, ABSENT, BD_WAIT,
		 NULL, NULL, "uuid"},
		{"no uuid we may read", OK("1"), OK("1"), OK("3"), ABSENT,
		 HIDDEN, BD_WAIT, NULL, NULL, "uuid"},
		/* Not ours to start. */
		{"offline", OK("0"), OK("1"), OK("3"), OK(U1), OK(U1), BD_LEAVE,
		 NULL, NULL, "online is \"0\""},
		{"online unreadable", HIDDEN, OK("1"), OK("3"), OK(U1), OK(U1),
		 BD_LEAVE, NULL, NULL, "online"},
		{"served already", OK("1"), OK("4"), OK("3"), OK(U1), OK(U1),
		 BD_LEAVE, NULL, NULL, "state is \"4\""},
		{"InitWait already", OK("1"), OK("2"), OK("3"), OK(U1), OK(U1),
		 BD_LEAVE, NULL, NULL, "state is \"2\""},
		{"state 01", OK("1"), OK("01"), OK("3"), OK(U1), OK(U1),
		 BD_LEAVE, NULL, NULL, "state is \"01\""},
		/* Wrong: refused. */
		{"other domain", OK("1"), OK("1"), OK("4"), OK(U1), OK(U1),
		 BD_REFUSE, NULL, NULL, "frontend-id is \"4\""},
		{"frontend-id 03", OK("1"), OK("1"), OK("03"), OK(U1), OK(U1),
		 BD_REFUSE, NULL, NULL, "frontend-id is \"03\""},
		{"frontend-id unreadable", OK("1"), OK("1"), HIDDEN, OK(U1),
		 OK(U1), BD_REFUSE, NULL, NULL, "frontend-id"},
		{"mismatch", OK("1"), OK("1"), OK("3"), OK(U2), OK(U1),
		 BD_REFUSE, NULL, NULL, "differs"},
		{"bad /libxl uuid", OK("1"), OK("1"), OK("3"), OK(U1),
		 OK("0123abcd"), BD_REFUSE, NULL, NULL, "in /libxl is not"},
		{"bad backend uuid", OK("1"), OK("1"), OK("3"),
		 OK("{0123abcd-4567-89ef-0123-456789abcdef}"), OK(U1),
		 BD_REFUSE, NULL, NULL, "in the backend directory is not"},
		{"nil uuid", OK("1"), OK("1"), OK("3"),
		 OK("00000000-0000-0000-0000-000000000000"), ABSENT, BD_REFUSE,
		 NULL, NULL, "nil"},
		{"uuid with a path", OK("1"), OK("1"), OK("3"),
		 OK("../../../../etc/passwd-0000-0000-00000"), ABSENT,
		 BD_REFUSE, NULL, NULL, "not a UUID"},
		{"uuid too long",
		 OK("1"),
		 OK("1"),
		 OK("3"),
		 {-E2BIG, NULL},
		 OK(U1),
		 BD_REFUSE,
		 NULL,
		 NULL,
		 "too long"},
		/* Which wins: online, then state, then frontend-id, then
		 * the uuid; /libxl's uuid before the backend's. */
		{"offline and wrong", OK("0"), OK("4"), OK("9"), OK("x"),
		 OK("y"), BD_LEAVE, NULL, NULL, "online"},
		{"served and wrong", OK("1"), OK("4"), OK("9"), OK("x"),
		 OK("y"), BD_LEAVE, NULL, NULL, "state"},
		{"wrong domain and uuid", OK("1"), OK("1"), OK("9"), OK("x"),
		 OK("y"), BD_REFUSE, NULL, NULL, "frontend-id"},
		{"both uuids bad", OK("1"), OK("1"), OK("3"), OK("x"), OK("y"),
		 BD_REFUSE, NULL, NULL, "\"y\" in /libxl"},
		{"waiting beats later errors", OK("1"), ABSENT, OK("9"),
		 OK("x"), OK("y"), BD_WAIT, NULL, NULL, "state"},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++) {
		struct bd_nodes in = {
			.g = 3,
			.n = 0,
			.online = c[i].online,
			.state = c[i].state,
			.frontend_id = c[i].feid,
			.be_uuid = c[i].be,
			.lx_uuid = c[i].lx,
		};
		struct bd_judgement j;

		bd_judge(&in, &j);
		TH_CHECK(j.v == c[i].want, "judge %s: %d, want %d (%s)",
			 c[i].name, j.v, c[i].want, j.why);
		if (c[i].want == BD_SERVE) {
			TH_CHECK(!strcmp(j.uuid, c[i].uuid) &&
					 !strcmp(j.uuid_from, c[i].from),
				 "judge %s: uuid %s from %s", c[i].name, j.uuid,
				 j.uuid_from);
		} else if (c[i].why) {
			TH_CHECK(strstr(j.why, c[i].why) != NULL,
				 "judge %s: why \"%s\" has \"%s\"", c[i].name,
				 j.why, c[i].why);
		}
	}
}

static void test_removal(void)
{
	static const struct {
		struct bd_node online;
		bool want;
	} c[] = {
		{OK("1"), false}, {OK("0"), true}, {OK(""), true},
		{ABSENT, false},  {HIDDEN, false},
	};

	for (size_t i = 0; i < TH_ARRAY_LEN(c); i++)
		TH_CHECK(bd_removal_requested(&c[i].online) == c[i].want,
			 "removal case %zu", i);
}

static void test_status(void)
{
	char s[96];

	bd_describe_status(0, s, sizeof(s));
	TH_CHECK(!strcmp(s, "exited with status 0"), "status 0: %s", s);
	bd_describe_status(1 << 8, s, sizeof(s));
	TH_CHECK(!strcmp(s, "exited with status 1"), "status 1: %s", s);
	bd_describe_status(SIGSEGV, s, sizeof(s));
	TH_CHECK(strstr(s, "killed by signal 11") == s, "SIGSEGV: %s", s);
	bd_describe_status(SIGABRT | 0x80, s, sizeof(s));
	TH_CHECK(strstr(s, "core dumped") != NULL, "core: %s", s);
}

int main(void)
{
	test_devspec();
	test_args();
	test_judge();
	test_removal();
	test_status();
	return th_done();
}
