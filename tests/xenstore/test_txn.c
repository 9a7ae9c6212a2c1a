/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_txn.c - transactions: isolation both ways, commit and abort,
 * conflicts (EAGAIN) on every kind of intervening change and none on
 * unrelated ones, the snapshot rule, ids, nesting, quotas, removal and
 * listings inside a transaction, watches firing at commit only, and a
 * randomised interleaving of several transactional clients checked
 * against the store's invariants and a serial replay.
 */
#include "tests/xenstore/xs_test.h"

static const char *val(struct xt *t, uint32_t tx, const char *path)
{
	static struct xt_msg r;

	if (xt_read(t, tx, path, &r))
		return NULL;
	return r.body;
}

static int eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void test_isolation(void)
{
	struct xs_server *s = xt_server();
	struct xt a, b;
	uint32_t tx;

	xt_open(&a, s, 0, 0);
	xt_open(&b, s, 0, 0);
	xt_write(&a, 0, "/x", "old");
	tx = xt_tx_start(&a);
	TH_CHECK(tx != 0, "start");
	TH_CHECK(xt_write(&a, tx, "/x", "new") == 0 &&
			 xt_write(&a, tx, "/n/m", "created") == 0,
		 "writes in the transaction");
	TH_CHECK(eq(val(&a, tx, "/x"), "new") &&
			 eq(val(&a, tx, "/n/m"), "created"),
		 "the transaction sees its writes");
	TH_CHECK(eq(val(&b, 0, "/x"), "old") && !val(&b, 0, "/n"),
		 "nobody else does");
	TH_CHECK(eq(val(&a, 0, "/x"), "old"),
		 "nor the same connection outside it");
	TH_CHECK(xt_tx_end(&a, tx, 1) == 0, "commit");
	TH_CHECK(eq(val(&b, 0, "/x"), "new") &&
			 eq(val(&b, 0, "/n/m"), "created"),
		 "committed");
	TH_CHECK(xt_tx_end(&a, tx, 1) == ENOENT, "the id is gone");
	TH_CHECK(xt_read(&a, tx, "/x", NULL) == ENOENT, "for reads too");
	/* Abort. */
	tx = xt_tx_start(&a);
	xt_write(&a, tx, "/x", "aborted");
	xt_one(&a, XS_RM, tx, "/n", NULL);
	TH_CHECK(xt_tx_end(&a, tx, 0) == 0, "abort");
	TH_CHECK(eq(val(&b, 0, "/x"), "new") &&
			 eq(val(&b, 0, "/n/m"), "created"),
		 "nothing of it remains");
	xt_close(&a);
	xt_close(&b);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

struct conflict {
	const char *name;
	/* What the transaction does (read, then write /t/out), and what
	 * another connection does in between. */
	const char *tx_reads;
	const char *other_op; /* "w PATH" "rm PATH" "chmod PATH" */
	int when;	      /* 0: after the tx's read, 1: before it */
	int want;
};

static const struct conflict conflicts[] = {
	{"read, then written", "/c/a", "w /c/a", 0, EAGAIN},
	{"read, then removed", "/c/a", "rm /c/a", 0, EAGAIN},
	{"read, then chmod", "/c/a", "chmod /c/a", 0, EAGAIN},
	{"read missing, then created", "/c/none", "w /c/none", 0, EAGAIN},
	{"listed, then child added", "dir /c", "w /c/new", 0, EAGAIN},
	{"listed, then child removed", "dir /c", "rm /c/a", 0, EAGAIN},
	{"written before the read (snapshot)", "/c/a", "w /c/a", 1, EAGAIN},
	{"created before the read (snapshot)", "/c/none", "w /c/none", 1,
	 EAGAIN},
	{"unrelated write", "/c/a", "w /c/b", 0, 0},
	{"unrelated before", "/c/a", "w /c/b", 1, 0},
	{"child of what was read", "/c/a", "w /c/a/deep", 0, EAGAIN},
	{"value of a child, parent read", "/c", "w /c/a", 0, 0},
	{"other's write to where tx writes", "/c/b", "w /t/out", 0, EAGAIN},
};

static void other_op(struct xt *o, const char *op)
{
	if (!strncmp(op, "w ", 2))
		xt_write(o, 0, op + 2, "other");
	else if (!strncmp(op, "rm ", 3))
		xt_one(o, XS_RM, 0, op + 3, NULL);
	else
		xt_chmod(o, 0, op + 6, "n0", "r5", NULL);
}

static void test_conflicts(void)
{
	size_t i;

	for (i = 0; i < TH_ARRAY_LEN(conflicts); i++) {
		const struct conflict *c = &conflicts[i];
		struct xs_server *s = xt_server();
		struct xt t, o;
		uint32_t tx;
		int rc;

		xt_open(&t, s, 0, 0);
		xt_open(&o, s, 0, 0);
		xt_write(&o, 0, "/c/a", "1");
		xt_write(&o, 0, "/c/b", "1");
		xt_write(&o, 0, "/t/out", "0");
		tx = xt_tx_start(&t);
		if (c->when == 1)
			other_op(&o, c->other_op);
		if (!strncmp(c->tx_reads, "dir ", 4))
			xt_one(&t, XS_DIRECTORY, tx, c->tx_reads + 4, NULL);
		else
			xt_read(&t, tx, c->tx_reads, NULL);
		if (c->when == 0)
			other_op(&o, c->other_op);
		xt_write(&t, tx, "/t/out", "tx");
		rc = xt_tx_end(&t, tx, 1);
		TH_CHECK(rc == c->want, "%s: got %d, want %d", c->name, rc,
			 c->want);
		TH_CHECK(eq(val(&o, 0, "/t/out"),
			    rc ? (strstr(c->other_op, "/t/out") ? "other" : "0")
			       : "tx"),
			 "%s: all or nothing", c->name);
		xt_close(&t);
		xt_close(&o);
		TH_CHECK(xt_check(s) == 0, "%s: store consistent", c->name);
		xs_server_free(s);
	}
}

static void test_siblings_and_two_txs(void)
{
	struct xs_server *s = xt_server();
	struct xt a, b;
	uint32_t t1, t2;

	xt_open(&a, s, 0, 0);
	xt_open(&b, s, 0, 0);
	xt_one(&a, XS_MKDIR, 0, "/p", NULL);
	t1 = xt_tx_start(&a);
	t2 = xt_tx_start(&b);
	TH_CHECK(t1 && t2, "two transactions");
	xt_write(&a, t1, "/p/c1", "1");
	xt_write(&b, t2, "/p/c2", "2");
	TH_CHECK(xt_tx_end(&a, t1, 1) == 0, "first commits");
	TH_CHECK(xt_tx_end(&b, t2, 1) == EAGAIN,
		 "second conflicts: the parent's child list changed");
	TH_CHECK(val(&a, 0, "/p/c1") && !val(&a, 0, "/p/c2"), "only the first");
	/* Ids are per connection. */
	t1 = xt_tx_start(&a);
	TH_CHECK(xt_read(&b, t1, "/p", NULL) == ENOENT || xt_tx_start(&b) != t1,
		 "another connection cannot use a's id");
	TH_CHECK(xt_call(&a, XS_TRANSACTION_START, t1, "", 1, NULL) == EBUSY,
		 "no nesting: EBUSY");
	TH_CHECK(xt_call(&a, XS_TRANSACTION_START, 999, "", 1, NULL) == ENOENT,
		 "start with an unknown tx_id: ENOENT");
	xt_tx_end(&a, t1, 0);
	xt_close(&a);
	xt_close(&b);
	xs_server_free(s);
}

static void test_rm_and_dir_in_tx(void)
{
	struct xs_server *s = xt_server();
	struct xt a, w;
	struct xt_msg r;
	uint32_t tx;

	xt_open(&a, s, 0, 0);
	xt_open(&w, s, 0, 0);
	xt_write(&a, 0, "/r/x/1", "a");
	xt_write(&a, 0, "/r/x/2", "b");
	xt_write(&a, 0, "/r/y", "c");
	xt_watch(&w, "/r", "t");
	xt_clear_ev(&w);
	tx = xt_tx_start(&a);
	TH_CHECK(xt_one(&a, XS_RM, tx, "/r/x", NULL) == 0, "rm in tx");
	TH_CHECK(xt_read(&a, tx, "/r/x/1", NULL) == ENOENT, "gone in tx");
	TH_CHECK(xt_one(&a, XS_DIRECTORY, tx, "/r", &r) == 0 && r.h.len == 2 &&
			 !memcmp(r.body, "y", 2),
		 "listing in tx");
	xt_write(&a, tx, "/r/z", "d");
	xt_write(&a, tx, "/r/x", "again");
	TH_CHECK(xt_one(&a, XS_DIRECTORY, tx, "/r", &r) == 0 && r.h.len == 6 &&
			 !memcmp(r.body, "y\0z\0x", 6),
		 "created ones listed, in order");
	TH_CHECK(xt_one(&a, XS_DIRECTORY, tx, "/r/x", &r) == 0 && r.h.len == 0,
		 "re-created node has no children");
	TH_CHECK(xt_call(&a, XS_DIRECTORY_PART, tx,
			 "/r\0"
			 "0",
			 5, &r) == 0,
		 "DIRECTORY_PART in tx");
	TH_CHECK(xt_one(&a, XS_RM, tx, "/", NULL) == EINVAL, "rm / in tx");
	TH_CHECK(val(&w, 0, "/r/x/1") && xt_nev(&w) == 0,
		 "nothing visible, no events before commit");
	TH_CHECK(xt_tx_end(&a, tx, 1) == 0, "commit");
	TH_CHECK(!val(&w, 0, "/r/x/1") && eq(val(&w, 0, "/r/x"), "again") &&
			 eq(val(&w, 0, "/r/z"), "d"),
		 "applied");
	TH_CHECK(xt_event(&w, "/r/x/1", "t") && xt_event(&w, "/r/x/2", "t") &&
			 xt_event(&w, "/r/x", "t") && xt_event(&w, "/r/z", "t"),
		 "events at commit");
	TH_CHECK(xt_one(&a, XS_DIRECTORY, 0, "/r", &r) == 0 && r.h.len == 6 &&
			 !memcmp(r.body, "x\0y\0z", 6),
		 "committed order: x, re-created, kept its place");
	/* Permissions inside a transaction. */
	tx = xt_tx_start(&a);
	TH_CHECK(xt_chmod(&a, tx, "/r/y", "n7", "r5", NULL) == 0, "chmod");
	TH_CHECK(xt_one(&a, XS_GET_PERMS, tx, "/r/y", &r) == 0 &&
			 r.h.len == 6 && !memcmp(r.body, "n7\0r5", 6),
		 "seen in tx");
	TH_CHECK(xt_one(&a, XS_GET_PERMS, 0, "/r/y", &r) == 0 &&
			 !memcmp(r.body, "n0", 3),
		 "not outside");
	TH_CHECK(xt_tx_end(&a, tx, 1) == 0 &&
			 xt_one(&a, XS_GET_PERMS, 0, "/r/y", &r) == 0 &&
			 !memcmp(r.body, "n7\0r5", 6),
		 "committed");
	xt_close(&a);
	xt_close(&w);
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_quotas(void)
{
	struct xs_config cfg;
	struct xs_server *s;
	struct xt g, d0;
	uint32_t ids[12], tx;
	char path[32];
	int i;

	xs_config_default(&cfg);
	cfg.quota_txn_nodes = 6;
	cfg.quota_nodes = 8;
	s = xs_server_new(&cfg);
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&g, s, 5, 0);
	xt_open(&d0, s, 0, 0);
	for (i = 0; i < 10; i++)
		ids[i] = xt_tx_start(&g);
	TH_CHECK(ids[9] != 0, "ten transactions");
	TH_CHECK(xt_call(&g, XS_TRANSACTION_START, 0, "", 1, NULL) == ENOSPC,
		 "the eleventh: ENOSPC");
	for (i = 0; i < 10; i++)
		xt_tx_end(&g, ids[i], 0);
	for (i = 0; i < 12; i++)
		TH_CHECK(xt_tx_start(&d0) != 0, "dom0 %d", i);
	/* Nodes one transaction may touch. */
	tx = xt_tx_start(&g);
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "t%d", i);
		xt_read(&g, tx, path, NULL);
	}
	/* 5 reads + the nearest ancestor, the home: 6. */
	TH_CHECK(xt_read(&g, tx, "t9", NULL) == ENOSPC,
		 "one node too many: ENOSPC");
	xt_tx_end(&g, tx, 0);
	xt_close(&g);
	xt_close(&d0);
	xs_server_free(s);

	/* The node quota counts the transaction's creations... */
	cfg.quota_txn_nodes = 0;
	s = xs_server_new(&cfg);
	xs_introduce(s, 5, XS_INTRO_MKHOME);
	xt_open(&g, s, 5, 0);
	xt_open(&d0, s, 0, 0);
	tx = xt_tx_start(&g);
	TH_CHECK(xt_write(&g, tx, "a/b/c", "1") == 0, "3 new (home is 1)");
	TH_CHECK(xt_write(&g, tx, "d/e/f/g/h", "1") == ENOSPC,
		 "5 more would be 9 > 8");
	TH_CHECK(xt_write(&g, tx, "d/e", "1") == 0, "2 more: 6");
	/* ... and is checked again at commit. */
	xt_write(&g, 0, "x", "1");
	xt_write(&g, 0, "y", "1");
	xt_write(&g, 0, "z", "1");
	TH_CHECK(xt_tx_end(&g, tx, 1) == ENOSPC,
		 "3 committed meanwhile: 9 > 8 at commit");
	TH_CHECK(xt_read(&g, 0, "a", NULL) == ENOENT, "nothing applied");
	xt_close(&g);
	xt_close(&d0);
	{
		struct xs_stats st;

		xs_server_stats(s, &st);
		TH_CHECK(st.transactions == 0,
			 "closing connections ends their transactions");
	}
	TH_CHECK(xt_check(s) == 0, "store consistent");
	xs_server_free(s);
}

static void test_reset_ends_txs(void)
{
	struct xs_server *s = xt_server();
	struct xt a;
	uint32_t tx;

	xt_open(&a, s, 0, 0);
	tx = xt_tx_start(&a);
	xt_write(&a, tx, "/q", "1");
	TH_CHECK(xt_call(&a, XS_RESET_WATCHES, tx, "", 1, NULL) == 0,
		 "RESET_WATCHES (its tx_id ignored)");
	TH_CHECK(xt_tx_end(&a, tx, 1) == ENOENT, "the transaction is gone");
	TH_CHECK(xt_read(&a, 0, "/q", NULL) == ENOENT, "uncommitted");
	xt_close(&a);
	xs_server_free(s);
}

/* Several clients run small random transactions, interleaved one request
 * at a time.  Each transaction increments counters it reads: if every
 * committed one saw a consistent snapshot and applied atomically, the
 * counters' sum equals the number of increments committed. */
static void test_random_interleaving(void)
{
	enum { NC = 4, NK = 6, ROUNDS = 3000 };
	struct xs_server *s = xt_server();
	struct xt c[NC];
	uint32_t tx[NC] = {0};
	int pending[NC] = {0}, step[NC] = {0}, keys[NC][2];
	long committed = 0, sum = 0, v;
	unsigned int seed = 7;
	char path[32], buf[32];
	int i, k, round;

	for (i = 0; i < NC; i++)
		xt_open(&c[i], s, 0, 0);
	for (k = 0; k < NK; k++) {
		snprintf(path, sizeof(path), "/k/%d", k);
		xt_write(&c[0], 0, path, "0");
	}
	for (round = 0; round < ROUNDS; round++) {
		i = (int)(rand_r(&seed) % NC);
		if (!tx[i]) {
			tx[i] = xt_tx_start(&c[i]);
			keys[i][0] = (int)(rand_r(&seed) % NK);
			keys[i][1] = (int)(rand_r(&seed) % NK);
			step[i] = 0;
			pending[i] = 0;
			continue;
		}
		if (step[i] < 2) {
			/* read-increment-write one key */
			snprintf(path, sizeof(path), "/k/%d", keys[i][step[i]]);
			v = strtol(val(&c[i], tx[i], path), NULL, 10);
			snprintf(buf, sizeof(buf), "%ld", v + 1);
			xt_write(&c[i], tx[i], path, buf);
			pending[i]++;
			step[i]++;
			continue;
		}
		if (xt_tx_end(&c[i], tx[i], 1) == 0)
			committed += pending[i];
		tx[i] = 0;
		TH_CHECK(xt_check(s) == 0, "round %d: consistent", round);
	}
	for (i = 0; i < NC; i++)
		if (tx[i])
			xt_tx_end(&c[i], tx[i], 0);
	for (k = 0; k < NK; k++) {
		snprintf(path, sizeof(path), "/k/%d", k);
		sum += strtol(val(&c[0], 0, path), NULL, 10);
	}
	TH_CHECK(sum == committed, "no lost update: sum %ld, committed %ld",
		 sum, committed);
	TH_CHECK(committed > 100, "some committed (%ld)", committed);
	{
		struct xs_stats st;

		xs_server_stats(s, &st);
		TH_CHECK(st.conflicts > 10, "some conflicted (%llu)",
			 (unsigned long long)st.conflicts);
	}
	for (i = 0; i < NC; i++)
		xt_close(&c[i]);
	xs_server_free(s);
}

int main(void)
{
	test_isolation();
	test_conflicts();
	test_siblings_and_two_txs();
	test_rm_and_dir_in_tx();
	test_quotas();
	test_reset_ends_txs();
	test_random_interleaving();
	return th_done();
}
