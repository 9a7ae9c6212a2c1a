/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_audit - the audit sink and permissive mode: what a record holds, its
 * JSON and text forms (exact), escaping of hostile strings, the JSON Lines
 * log file, permits recorded only when asked, the ring's bound, the rate
 * limit of identical denials; permissive mode records but permits, and
 * keeps the Chinese-Wall counters true while it lets conflicts in.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "tests/hooks/hooks_test.h"

#define T0 "2025-01-01T00:00:00.000001000Z"

static char tmpdir[] = "/tmp/hvsec-test-audit-XXXXXX";

static struct ht_blob mt;

/* Reads a whole text file (NUL-terminated); NULL if it is missing. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(2);
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_permissive(void)
{
	char log[256], line[HOOKS_JSON_MAX];
	struct hooks_config cfg = {.mode = HOOKS_PERMISSIVE, .audit_log = log};
	struct hooks_state *hs;
	struct hooks_subject d0, acme, initech, g6, g7, g8, a9;
	struct hooks_audit_record r, all[16];
	struct hooks_stats s;
	struct stat st;
	char *text, *p;
	size_t n, i;

	snprintf(log, sizeof(log), "%s/audit.jsonl", tmpdir);
	hs = ht_state(&cfg);
	ht_load(hs, &mt);
	d0 = ht_dom(hs, 0, "SystemManagement");
	acme = ht_dom(hs, 1, "Acme");
	initech = ht_dom(hs, 3, "Initech");
	hooks_domain_create(hs, &d0);
	hooks_domain_create(hs, &acme);
	hooks_domain_create(hs, &initech);

	/* A denial is recorded, not enforced. */
	TH_CHECK(hooks_evtchn_send(hs, &acme, &initech) == 0,
		 "permissive: send permitted");
	TH_CHECK(ht_last(hs, &r) && r.seq == 1 && r.decision == HOOKS_DENY &&
			 !r.enforced,
		 "recorded as a denial not enforced");
	hooks_stats(hs, HOOKS_ID_evtchn_send, &s);
	TH_CHECK(s.would_deny == 1 && s.denied == 0 && s.permitted == 0,
		 "stats: would_deny %llu denied %llu",
		 (unsigned long long)s.would_deny,
		 (unsigned long long)s.denied);

	hooks_audit_json(&r, line, sizeof(line));
	TH_CHECK(strcmp(line,
			"{\"seq\":1,\"time\":\"" T0
			"\",\"hook\":\"evtchn_send\","
			"\"decision\":\"deny\",\"enforced\":false,"
			"\"subject\":{\"domid\":1,\"label\":\"Acme\"},"
			"\"object\":{\"domid\":3,\"label\":\"Initech\"},"
			"\"reason\":\"no shared type\",\"detail\":\"'Acme' and "
			"'Initech' have no STE type in common\","
			"\"policy\":\"multi-tenant\",\"generation\":1,"
			"\"suppressed\":0}") == 0,
		 "JSON: %s", line);
	hooks_audit_text(&r, line, sizeof(line));
	TH_CHECK(strcmp(line,
			T0 " #1 DENY (permissive) evtchn_send dom1 (Acme) -> "
			   "dom3 (Initech): no shared type: 'Acme' and "
			   "'Initech' have no STE type in common [policy "
			   "multi-tenant gen 1]") == 0,
		 "text: %s", line);

	/* Chinese Wall: competitors let in, but not accounted, so the
	 * counters stay those of the domains the policy admitted. */
	g6 = ht_dom(hs, 6, "Globex");
	g7 = ht_dom(hs, 7, "Globex");
	g8 = ht_dom(hs, 8, "Globex");
	a9 = ht_dom(hs, 9, "Acme");
	TH_CHECK(hooks_domain_create(hs, &g6) == 0 &&
			 hooks_domain_create(hs, &g7) == 0,
		 "permissive: Globex next to Acme");
	ht_last(hs, &r);
	TH_CHECK(r.acm_reason == ACM_R_CHWALL_CONFLICT && !r.enforced,
		 "recorded as a Chinese-Wall denial");
	hooks_domain_destroy(hs, &g6);
	hooks_set_mode(hs, HOOKS_ENFORCING);
	TH_CHECK(hooks_domain_create(hs, &g8) == -EACCES,
		 "enforcing: Acme still accounted");
	hooks_domain_destroy(hs, &acme);
	TH_CHECK(hooks_domain_create(hs, &g8) == 0, "Globex once Acme is gone");
	hooks_domain_destroy(hs, &g7); /* untracked: releases nothing */
	TH_CHECK(hooks_domain_create(hs, &a9) == -EACCES,
		 "Globex 8 still accounted after Globex 7 went");
	/* An aborted permissive create releases nothing either. */
	hooks_set_mode(hs, HOOKS_PERMISSIVE);
	TH_CHECK(hooks_domain_create(hs, &a9) == 0, "Acme let in");
	hooks_domain_create_abort(hs, &a9);
	hooks_set_mode(hs, HOOKS_ENFORCING);
	TH_CHECK(hooks_domain_create(hs, &a9) == -EACCES,
		 "Globex 8 still accounted after the abort");

	/* The log holds every record, one JSON object per line. */
	n = hooks_audit_read(hs, 1, all, TH_ARRAY_LEN(all));
	text = slurp(log);
	TH_CHECK(text != NULL, "log file exists");
	TH_CHECK(stat(log, &st) == 0 && (st.st_mode & 0777) == 0600,
		 "log mode %o", (unsigned)(st.st_mode & 0777));
	p = text;
	for (i = 0; text && i < n; i++) {
		char *nl = strchr(p, '\n');

		hooks_audit_json(&all[i], line, sizeof(line));
		if (!TH_CHECK(nl, "line %zu present", i + 1))
			break;
		*nl = '\0';
		TH_CHECK(strcmp(p, line) == 0, "line %zu: %s", i + 1, p);
		p = nl + 1;
	}
	TH_CHECK(n == 7 && text && *p == '\0', "%zu records, no extra lines",
		 n);
	free(text);
	hooks_state_free(hs);
	unlink(log);
}

static void test_permits_and_escaping(void)
{
	struct hooks_config cfg = {.audit_permits = true};
	struct hooks_state *hs = ht_state(&cfg);
	struct hooks_subject acme;
	struct hooks_resource res = {HOOKS_RES_DISK,
				     "file:/a\"b\\c\nd\x01\xff\xc3\xa9", 0};
	struct hooks_audit_record r;
	char line[HOOKS_JSON_MAX], small[16];
	int n;

	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	res.label = ht_res(hs, "AcmeDisk");
	TH_CHECK(hooks_resource_use(hs, &acme, &res) == 0, "own disk");
	TH_CHECK(ht_last(hs, &r) && r.decision == HOOKS_PERMIT && !r.enforced &&
			 r.acm_reason == ACM_R_SHARED_TYPE,
		 "a permit is recorded when asked");
	hooks_audit_json(&r, line, sizeof(line));
	TH_CHECK(strstr(line,
			"\"decision\":\"permit\",\"enforced\":false,"
			"\"subject\":{\"domid\":1,\"label\":\"Acme\"},"
			"\"object\":{\"resource\":\"file:/a\\\"b\\\\c\\u000ad"
			"\\u0001\\ufffd\xc3\xa9\",\"class\":\"disk\","
			"\"label\":\"AcmeDisk\"},\"reason\":\"shared type\","
			"\"detail\":\"'Acme' and 'AcmeDisk' share STE type "
			"'Acme'\"") != NULL,
		 "escaped JSON: %s", line);
	hooks_audit_text(&r, line, sizeof(line));
	TH_CHECK(strstr(line,
			"permit resource_use dom1 (Acme) -> disk "
			"file:/a\"b\\c?d?\xff\xc3\xa9 (AcmeDisk)") != NULL,
		 "text stays on one line: %s", line);

	/* Too small a buffer: truncated, terminated, full length told. */
	n = hooks_audit_json(&r, small, sizeof(small));
	TH_CHECK(n > (int)sizeof(small) && strlen(small) == sizeof(small) - 1 &&
			 strncmp(small, "{\"seq\":1,\"time\"", 15) == 0,
		 "truncated JSON: %d '%s'", n, small);
	n = hooks_audit_json(&r, NULL, 0);
	TH_CHECK(n > 100, "length only: %d", n);

	/* Unlabeled subject: label null. */
	acme.label = ACM_ROW_NONE;
	hooks_evtchn_send(hs, &acme, &acme);
	ht_last(hs, &r);
	hooks_audit_json(&r, line, sizeof(line));
	TH_CHECK(strstr(line, "\"subject\":{\"domid\":1,\"label\":null}") !=
			 NULL,
		 "null label: %s", line);
	hooks_state_free(hs);
}

static void test_ring(void)
{
	struct hooks_config cfg = {.audit_ring = 4};
	struct hooks_state *hs = ht_state(&cfg);
	struct hooks_subject acme, initech;
	struct hooks_audit_record out[8];
	struct hooks_audit_stats st;
	size_t n;
	uint32_t i;

	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	initech = ht_dom(hs, 0, "Initech");
	for (i = 0; i < 10; i++) {
		initech.domid = 100 + i; /* ten different denials */
		hooks_grant_copy(hs, &acme, &initech);
	}
	n = hooks_audit_read(hs, 1, out, 8);
	TH_CHECK(n == 4 && out[0].seq == 7 && out[3].seq == 10 &&
			 out[3].object.domid == 109,
		 "ring keeps the last 4: n %zu first %llu", n,
		 (unsigned long long)(n ? out[0].seq : 0));
	n = hooks_audit_read(hs, 9, out, 8);
	TH_CHECK(n == 2 && out[0].seq == 9, "read from seq 9: %zu", n);
	n = hooks_audit_read(hs, 11, out, 8);
	TH_CHECK(n == 0, "nothing new");
	n = hooks_audit_read(hs, 1, out, 1);
	TH_CHECK(n == 1 && out[0].seq == 7, "bounded by max");
	hooks_audit_stats(hs, &st);
	TH_CHECK(st.recorded == 10 && st.overwritten == 6 &&
			 st.suppressed == 0 && st.log_errors == 0,
		 "stats: recorded %llu overwritten %llu",
		 (unsigned long long)st.recorded,
		 (unsigned long long)st.overwritten);
	TH_CHECK(hooks_audit_next_seq(hs) == 11, "next seq");
	hooks_state_free(hs);
}

static void test_rate_limit(void)
{
	struct hooks_config cfg = {.rate_burst = 3, .rate_interval_ms = 1000};
	struct hooks_state *hs = ht_state(&cfg);
	struct hooks_subject acme, initech, globex;
	struct hooks_audit_record r;
	struct hooks_audit_stats st;
	struct hooks_stats s;
	int i, denied = 0;

	ht_clock_ns = 5000000000ull;
	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	initech = ht_dom(hs, 3, "Initech");
	globex = ht_dom(hs, 4, "Globex");
	for (i = 0; i < 10; i++) {
		denied += hooks_evtchn_send(hs, &acme, &initech) == -EACCES;
		ht_clock_ns += 10000000; /* 10 ms apart */
	}
	TH_CHECK(denied == 10, "every denial enforced: %d", denied);
	TH_CHECK(hooks_audit_next_seq(hs) == 4, "3 recorded: next %llu",
		 (unsigned long long)hooks_audit_next_seq(hs));
	hooks_audit_stats(hs, &st);
	hooks_stats(hs, HOOKS_ID_evtchn_send, &s);
	TH_CHECK(st.suppressed == 7 && s.suppressed == 7 && s.denied == 10,
		 "7 suppressed: %llu %llu", (unsigned long long)st.suppressed,
		 (unsigned long long)s.suppressed);

	/* A different denial is not held back by the first. */
	TH_CHECK(hooks_evtchn_send(hs, &acme, &globex) == -EACCES &&
			 hooks_audit_next_seq(hs) == 5,
		 "another pair is recorded");
	/* Neither is the same pair on another hook. */
	TH_CHECK(hooks_grant_copy(hs, &acme, &initech) == -EACCES &&
			 hooks_audit_next_seq(hs) == 6,
		 "another hook is recorded");

	/* Once the interval has passed, the next one is recorded and says
	 * how many were held back. */
	ht_clock_ns += 1000000000ull;
	hooks_evtchn_send(hs, &acme, &initech);
	ht_last(hs, &r);
	TH_CHECK(r.seq == 6 && r.suppressed == 7,
		 "suppressed count carried: seq %llu suppressed %u",
		 (unsigned long long)r.seq, r.suppressed);
	hooks_evtchn_send(hs, &acme, &initech);
	ht_last(hs, &r);
	TH_CHECK(r.seq == 7 && r.suppressed == 0,
		 "then counting starts again: seq %llu",
		 (unsigned long long)r.seq);
	ht_clock_ns = 1000;
	hooks_state_free(hs);
}

/* A log that does not take the record: counted, the decision stands. */
static void test_log_errors(void)
{
	struct hooks_config cfg = {.audit_log = "/dev/full"};
	struct hooks_state *hs = NULL;
	struct hooks_subject acme = {1, 0}, initech = {3, 0};
	struct hooks_audit_stats st;

	if (access("/dev/full", W_OK) != 0)
		return; /* not on this system */
	hs = ht_state(&cfg);
	ht_load(hs, &mt);
	acme = ht_dom(hs, 1, "Acme");
	initech = ht_dom(hs, 3, "Initech");
	TH_CHECK(hooks_evtchn_send(hs, &acme, &initech) == -EACCES,
		 "denied although the log is full");
	hooks_audit_stats(hs, &st);
	TH_CHECK(st.log_errors == 1 && st.recorded == 1,
		 "log error counted: %llu", (unsigned long long)st.log_errors);
	hooks_state_free(hs);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	mt = ht_compile_file("policies/multi-tenant.xml");
	test_permissive();
	test_permits_and_escaping();
	test_ring();
	test_rate_limit();
	test_log_errors();
	ht_blob_free(&mt);
	rmdir(tmpdir);
	return th_done();
}
