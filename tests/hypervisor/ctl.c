/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvctl - a minimal control client for the integration tests (the real
 * toolstack is tools/hvsec).  One command per run:
 *
 *   hvctl DIR create NAME KERNEL [-l LABEL] [-m MB] [-p] [-d RES]... [--
 * ARG...] hvctl DIR dry-run NAME KERNEL [-l LABEL] [-d RES]... hvctl DIR
 * destroy|pause|unpause DOMID hvctl DIR list | info DOMID | stats | policy-get
 *   hvctl DIR policy-load FILE [--dry-run] [--revoke]
 *   hvctl DIR relabel DOMID LABEL [--dry-run] [--revoke]
 *   hvctl DIR res-set RES LABEL | res-rm RES | res-get RES | res-list
 *   hvctl DIR audit [FROM] | console DOMID | evtchn [DOMID] | gnt [DOMID]
 *   hvctl DIR devices [DOMID]   backends' device connections
 *   hvctl DIR audit-follow N [MS]            print N new records as they come
 *   hvctl DIR mode [+permissive|-permissive|+mediate|-mediate]
 *   hvctl DIR wait-console DOMID TEXT [MS]   until the console has TEXT
 *   hvctl DIR wait-state DOMID STATE [MS]    until the domain is in STATE
 *
 * Prints what the daemon answered; exits 0 on success, 1 on an error
 * reply ("error: -EACCES: why"), 2 on a usage or transport error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/hv_control.h"

static struct hv_ctl_client *cl;
static struct hv_ctl_resp resp;

static int call(uint32_t op, const void *body, size_t len, const int *fds,
		unsigned nfds)
{
	int rc = hv_ctl_call(cl, op, body, len, fds, nfds, &resp, 30000);

	if (rc == -EPROTO || rc == -EPIPE || rc == -ETIMEDOUT) {
		fprintf(stderr, "hvctl: transport: %s\n", strerror(-rc));
		exit(2);
	}
	if (rc) {
		printf("error: -%s: %s\n", hv_errno_name(rc), resp.text);
		return rc;
	}
	return 0;
}

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (*end || !*s) {
		fprintf(stderr, "hvctl: not a number: %s\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

static void print_info(const struct hv_ctl_domain_info *i)
{
	printf("%u %s %s %s ssidref=%u pid=%u exit=%d evtchn=%u grants=%u "
	       "maps=%u uid=%u\n",
	       i->domid, i->name, hv_domstate_name(i->state), i->label,
	       i->ssidref, i->pid, i->exit_status, i->n_evtchn,
	       i->granted_pages, i->n_maps, i->uid);
}

static int cmd_create(int argc, char **argv, bool dry)
{
	static uint8_t body[HV_CTL_MSG_MAX];
	struct hv_ctl_disk_arg disks[HV_CTL_DISKS_MAX];
	struct hv_ctl_create_args a = {0};
	int c, rc;
	size_t len;

	if (argc < 3)
		return 2;
	a.name = argv[1];
	a.kernel = argv[2];
	optind = 3;
	while ((c = getopt(argc, argv, "l:m:pd:")) != -1) {
		switch (c) {
		case 'l':
			a.label = optarg;
			break;
		case 'm':
			a.memory_mb = num(optarg);
			break;
		case 'p':
			a.flags |= HV_CTL_CREATE_F_PAUSED;
			break;
		case 'd':
			if (a.n_disks == HV_CTL_DISKS_MAX)
				return 2;
			disks[a.n_disks++] = (struct hv_ctl_disk_arg){
				optarg, "xvda", HV_CTL_DISK_W};
			break;
		default:
			return 2;
		}
	}
	a.disks = disks;
	a.args = (const char *const *)argv + optind;
	a.n_args = (uint32_t)(argc - optind);
	len = hv_ctl_encode_create(&a, body, sizeof(body));
	if (!len) {
		fprintf(stderr, "hvctl: create arguments out of bounds\n");
		return 2;
	}
	rc = call(dry ? HV_CTL_DRY_RUN : HV_CTL_DOMAIN_CREATE, body, len, NULL,
		  0);
	/* A denied create carries its checks (protocol 2): print them as a
	 * dry run's, so the tests see the structure, not the text. */
	if (rc && (dry || resp.body_len < sizeof(struct hv_ctl_dry_run_rep)))
		return 1;
	if (!dry && !rc) {
		struct hv_ctl_domain_info i;

		memcpy(&i, resp.body, sizeof(i));
		printf("domid %u\n", i.domid);
		return 0;
	}
	struct hv_ctl_dry_run_rep dr;
	memcpy(&dr, resp.body, sizeof(dr));
	for (uint32_t k = 0; k < dr.n_checks; k++) {
		struct hv_ctl_check ch;

		memcpy(&ch, resp.body + sizeof(dr) + k * sizeof(ch),
		       sizeof(ch));
		printf("check %s: %s (%s) hook %u\n",
		       ch.err ? "DENY" : "PERMIT", ch.text, ch.object, ch.hook);
	}
	printf("verdict %s\n", dr.verdict ? hv_errno_name(dr.verdict) : "OK");
	return dr.verdict ? 1 : 0;
}

static void print_update(void)
{
	struct hv_ctl_update_rep u;

	if (resp.body_len < sizeof(u))
		return;
	memcpy(&u, resp.body, sizeof(u));
	printf("applied %u generation %llu blockers %u revoked %u\n", u.applied,
	       (unsigned long long)u.generation, u.n_blockers, u.n_revoked);
	for (uint32_t k = 0; k < u.n_listed; k++) {
		struct hv_ctl_blocker b;

		memcpy(&b, resp.body + sizeof(u) + k * sizeof(b), sizeof(b));
		printf("blocker %u: %s\n", b.kind, b.text);
	}
}

static int read_console(uint32_t domid, char *buf, size_t len)
{
	struct hv_ctl_domid r = {domid};
	ssize_t n;

	if (hv_ctl_call(cl, HV_CTL_CONSOLE, &r, sizeof(r), NULL, 0, &resp,
			30000) ||
	    resp.nfds != 1)
		return -1;
	n = read(resp.fds[0], buf, len - 1);
	hv_ctl_resp_release(&resp);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: hvctl DIR COMMAND ...\n");
		return 2;
	}
	rc = hv_ctl_connect(argv[1], &cl);
	if (rc) {
		fprintf(stderr, "hvctl: connect %s: %s\n", argv[1],
			strerror(-rc));
		return 2;
	}
	cmd = argv[2];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "create") || !strcmp(cmd, "dry-run")) {
		return cmd_create(argc, argv, cmd[0] == 'd');
	} else if (!strcmp(cmd, "destroy") || !strcmp(cmd, "pause") ||
		   !strcmp(cmd, "unpause")) {
		struct hv_ctl_domid r;

		if (argc < 2)
			return 2;
		r.domid = num(argv[1]);
		rc = call(cmd[0] == 'd'	  ? HV_CTL_DOMAIN_DESTROY
			  : cmd[0] == 'p' ? HV_CTL_DOMAIN_PAUSE
					  : HV_CTL_DOMAIN_UNPAUSE,
			  &r, sizeof(r), NULL, 0);
		if (!rc)
			printf("ok\n");
	} else if (!strcmp(cmd, "list")) {
		struct hv_ctl_list l = {0, 0};

		for (;;) {
			struct hv_ctl_list_rep lr;

			rc = call(HV_CTL_DOMAIN_LIST, &l, sizeof(l), NULL, 0);
			if (rc)
				break;
			memcpy(&lr, resp.body, sizeof(lr));
			for (uint32_t k = 0; k < lr.count; k++) {
				struct hv_ctl_domain_info i;

				memcpy(&i,
				       resp.body + sizeof(lr) + k * sizeof(i),
				       sizeof(i));
				print_info(&i);
			}
			if (lr.next == HV_DOMID_INVALID)
				break;
			l.start = lr.next;
		}
	} else if (!strcmp(cmd, "info")) {
		struct hv_ctl_lookup r = {0};
		struct hv_ctl_domain_info i;

		if (argc < 2)
			return 2;
		if (argv[1][0] >= '0' && argv[1][0] <= '9') {
			r.domid = num(argv[1]);
		} else {
			r.domid = HV_DOMID_INVALID;
			snprintf(r.name, sizeof(r.name), "%s", argv[1]);
		}
		rc = call(HV_CTL_DOMAIN_INFO, &r, sizeof(r), NULL, 0);
		if (!rc) {
			memcpy(&i, resp.body, sizeof(i));
			print_info(&i);
		}
	} else if (!strcmp(cmd, "policy-load")) {
		struct hv_ctl_policy_load r = {0, 0};
		int fd;

		if (argc < 2)
			return 2;
		for (int k = 2; k < argc; k++)
			r.flags |= !strcmp(argv[k], "--dry-run")
					   ? HV_CTL_POLICY_F_DRY_RUN
				   : !strcmp(argv[k], "--revoke")
					   ? HV_CTL_POLICY_F_REVOKE
					   : 0;
		fd = open(argv[1], O_RDONLY);
		if (fd < 0) {
			perror(argv[1]);
			return 2;
		}
		rc = call(HV_CTL_POLICY_LOAD, &r, sizeof(r), &fd, 1);
		close(fd);
		print_update();
		if (!rc)
			printf("ok: %s\n", resp.text);
	} else if (!strcmp(cmd, "policy-get")) {
		struct hv_ctl_policy_info pi;

		rc = call(HV_CTL_POLICY_GET, NULL, 0, NULL, 0);
		if (!rc) {
			memcpy(&pi, resp.body, sizeof(pi));
			printf("policy %s %u.%u labels %u generation "
			       "%llu%s%s%s "
			       "blob-fd %u\n",
			       pi.name, pi.version_major, pi.version_minor,
			       pi.n_labels, (unsigned long long)pi.generation,
			       pi.flags & HV_CTL_PINFO_F_BUILTIN ? " builtin"
								 : "",
			       pi.flags & HV_CTL_PINFO_F_PERMISSIVE
				       ? " permissive"
				       : "",
			       pi.flags & HV_CTL_PINFO_F_FAIL_CLOSED
				       ? " fail-closed"
				       : "",
			       resp.nfds);
			if (pi.failure[0])
				printf("failure %s\n", pi.failure);
			hv_ctl_resp_release(&resp);
		}
	} else if (!strcmp(cmd, "relabel")) {
		struct hv_ctl_relabel r = {0};

		if (argc < 3)
			return 2;
		r.domid = num(argv[1]);
		snprintf(r.label, sizeof(r.label), "%s", argv[2]);
		for (int k = 3; k < argc; k++)
			r.flags |= !strcmp(argv[k], "--dry-run")
					   ? HV_CTL_POLICY_F_DRY_RUN
				   : !strcmp(argv[k], "--revoke")
					   ? HV_CTL_POLICY_F_REVOKE
					   : 0;
		rc = call(HV_CTL_RELABEL, &r, sizeof(r), NULL, 0);
		print_update();
		if (!rc)
			printf("ok: %s\n", resp.text);
	} else if (!strncmp(cmd, "res-", 4)) {
		static uint8_t b[8192];
		struct hv_wbuf w;
		uint32_t op;

		hv_wbuf_init(&w, b, sizeof(b));
		if (!strcmp(cmd, "res-list")) {
			struct hv_ctl_list l = {0, 0};
			struct hv_ctl_list_rep lr;
			struct hv_cur c;
			char r1[HV_CTL_STR_MAX + 1], r2[HV_CTL_STR_MAX + 1];

			rc = call(HV_CTL_RES_LABEL_LIST, &l, sizeof(l), NULL,
				  0);
			if (rc)
				return 1;
			hv_cur_init(&c, resp.body, resp.body_len);
			hv_cur_get(&c, &lr, sizeof(lr));
			for (uint32_t k = 0; k < lr.count; k++) {
				if (hv_cur_get_str(&c, r1, sizeof(r1),
						   HV_CTL_STR_MAX) ||
				    hv_cur_get_str(&c, r2, sizeof(r2),
						   HV_CTL_STR_MAX))
					return 2;
				printf("%s %s\n", r1, r2);
			}
			return 0;
		}
		if (argc < 2)
			return 2;
		hv_wbuf_put_str(&w, argv[1]);
		if (!strcmp(cmd, "res-set")) {
			if (argc < 3)
				return 2;
			hv_wbuf_put_str(&w, argv[2]);
			op = HV_CTL_RES_LABEL_SET;
		} else if (!strcmp(cmd, "res-rm")) {
			op = HV_CTL_RES_LABEL_RM;
		} else {
			op = HV_CTL_RES_LABEL_GET;
		}
		rc = call(op, b, w.len, NULL, 0);
		if (!rc && op == HV_CTL_RES_LABEL_GET) {
			struct hv_cur c;
			char l[HV_CTL_STR_MAX + 1];

			hv_cur_init(&c, resp.body, resp.body_len);
			if (!hv_cur_get_str(&c, l, sizeof(l), HV_CTL_STR_MAX))
				printf("%s\n", l);
		} else if (!rc) {
			printf("ok\n");
		}
	} else if (!strcmp(cmd, "audit")) {
		struct hv_ctl_audit_req r = {0, 0, 0};
		struct hv_ctl_audit_rep ar;

		if (argc > 1)
			r.from_seq = num(argv[1]);
		rc = call(HV_CTL_AUDIT_READ, &r, sizeof(r), NULL, 0);
		if (!rc) {
			memcpy(&ar, resp.body, sizeof(ar));
			fwrite(resp.body + sizeof(ar), 1, ar.n_bytes, stdout);
			printf("next %llu dropped %llu records %u\n",
			       (unsigned long long)ar.next_seq,
			       (unsigned long long)ar.dropped, ar.n_records);
		}
	} else if (!strcmp(cmd, "audit-follow")) {
		struct hv_ctl_audit_req r = {0, 0, HV_CTL_AUDIT_F_FOLLOW};
		struct hv_ctl_audit_rep ar;
		uint32_t want, got = 0;
		int ms = argc > 2 ? (int)num(argv[2]) : 10000;

		if (argc < 2)
			return 2;
		want = num(argv[1]);
		/* Beyond the head: only records made from now on. */
		r.from_seq = ~0ull >> 1;
		rc = call(HV_CTL_AUDIT_READ, &r, sizeof(r), NULL, 0);
		if (rc)
			return 1;
		printf("following\n");
		fflush(stdout);
		while (got < want) {
			rc = hv_ctl_next_notice(cl, &resp, ms);
			if (rc) {
				fprintf(stderr, "hvctl: %s\n", strerror(-rc));
				return 1;
			}
			memcpy(&ar, resp.body, sizeof(ar));
			fwrite(resp.body + sizeof(ar), 1, ar.n_bytes, stdout);
			fflush(stdout);
			got += ar.n_records;
		}
		return 0;
	} else if (!strcmp(cmd, "stats")) {
		struct hv_ctl_stats_rep s;

		rc = call(HV_CTL_STATS, NULL, 0, NULL, 0);
		if (!rc) {
			memcpy(&s, resp.body, sizeof(s));
			printf("hypercalls %llu errors %llu denials %llu "
			       "created "
			       "%llu destroyed %llu crashed %llu mediated %llu "
			       "domains %u pages %u channels %u generation "
			       "%llu\n",
			       (unsigned long long)s.hypercalls,
			       (unsigned long long)s.hypercall_errors,
			       (unsigned long long)s.denials,
			       (unsigned long long)s.domains_created,
			       (unsigned long long)s.domains_destroyed,
			       (unsigned long long)s.domains_crashed,
			       (unsigned long long)s.evtchn_mediated_sends,
			       s.n_domains, s.pages_live, s.channels_live,
			       (unsigned long long)s.policy_generation);
			for (uint32_t k = 0; k < s.n_hooks; k++) {
				struct hv_ctl_hook_stats h;

				memcpy(&h,
				       resp.body + sizeof(s) + k * sizeof(h),
				       sizeof(h));
				printf("hook %s calls %llu evaluated %llu "
				       "denied "
				       "%llu cache_hits %llu\n",
				       h.name, (unsigned long long)h.calls,
				       (unsigned long long)h.evaluated,
				       (unsigned long long)h.denied,
				       (unsigned long long)h.cache_hits);
			}
		}
	} else if (!strcmp(cmd, "console")) {
		static char buf[1 << 20];

		if (argc < 2)
			return 2;
		if (read_console(num(argv[1]), buf, sizeof(buf)))
			return 1;
		fputs(buf, stdout);
		return 0;
	} else if (!strcmp(cmd, "wait-console")) {
		static char buf[1 << 20];
		long ms = argc > 3 ? (long)num(argv[3]) : 10000;

		if (argc < 3)
			return 2;
		for (long t = 0; t <= ms; t += 20) {
			if (!read_console(num(argv[1]), buf, sizeof(buf)) &&
			    strstr(buf, argv[2]))
				return 0;
			sleep_ms(20);
		}
		fprintf(stderr,
			"hvctl: timeout waiting for \"%s\"; console:\n%s",
			argv[2], buf);
		return 1;
	} else if (!strcmp(cmd, "wait-state")) {
		long ms = argc > 3 ? (long)num(argv[3]) : 10000;
		struct hv_ctl_lookup r = {0};
		struct hv_ctl_domain_info i = {0};

		if (argc < 3)
			return 2;
		r.domid = num(argv[1]);
		for (long t = 0; t <= ms; t += 20) {
			if (!hv_ctl_call(cl, HV_CTL_DOMAIN_INFO, &r, sizeof(r),
					 NULL, 0, &resp, 30000)) {
				memcpy(&i, resp.body, sizeof(i));
				if (!strcmp(hv_domstate_name(i.state), argv[2]))
					return 0;
			}
			sleep_ms(20);
		}
		fprintf(stderr, "hvctl: domain %s is %s, not %s\n", argv[1],
			hv_domstate_name(i.state), argv[2]);
		return 1;
	} else if (!strcmp(cmd, "evtchn") || !strcmp(cmd, "gnt")) {
		struct hv_ctl_domid r = {argc > 1 ? num(argv[1])
						  : HV_DOMID_INVALID};
		uint32_t count;

		rc = call(cmd[0] == 'e' ? HV_CTL_EVTCHN_LIST : HV_CTL_GNT_LIST,
			  &r, sizeof(r), NULL, 0);
		if (rc)
			return 1;
		memcpy(&count, resp.body, 4);
		for (uint32_t k = 0; k < count; k++) {
			if (cmd[0] == 'e') {
				struct hv_ctl_evtchn_entry e;

				memcpy(&e, resp.body + 8 + k * sizeof(e),
				       sizeof(e));
				printf("dom %u port %u status %u remote %u "
				       "port %u flags %u\n",
				       e.domid, e.port, e.status, e.remote_dom,
				       e.remote_port, e.flags);
			} else {
				struct hv_ctl_gnt_entry e;

				memcpy(&e, resp.body + 8 + k * sizeof(e),
				       sizeof(e));
				if (e.kind == HV_CTL_GNT_KIND_GRANT)
					printf("grant %u:%u to %u flags %#x "
					       "maps %u\n",
					       e.granter, e.gref, e.grantee,
					       e.flags, e.n_maps);
				else
					printf("map %u:%u by %u handle %u "
					       "flags %#x%s\n",
					       e.granter, e.gref, e.mapper,
					       e.handle, e.flags,
					       e.flags & HV_CTL_GNT_F_ORPHANED
						       ? " orphaned"
						       : "");
			}
		}
		return 0;
	} else if (!strcmp(cmd, "devices")) {
		static const char *const cls[] = {"?", "disk", "vif", "vtpm"};
		struct hv_ctl_domid r = {argc > 1 ? num(argv[1])
						  : HV_DOMID_INVALID};
		struct hv_ctl_device_rep dr;

		rc = call(HV_CTL_DEVICE_LIST, &r, sizeof(r), NULL, 0);
		if (rc)
			return 1;
		memcpy(&dr, resp.body, sizeof(dr));
		for (uint32_t k = 0; k < dr.count; k++) {
			struct hv_ctl_device_entry e;

			memcpy(&e, resp.body + sizeof(dr) + k * sizeof(e),
			       sizeof(e));
			e.label[sizeof(e.label) - 1] = '\0';
			e.resource[sizeof(e.resource) - 1] = '\0';
			printf("dev %u -> %u %s %s label %s\n", e.backend,
			       e.frontend, cls[e.cls < 4 ? e.cls : 0],
			       e.resource,
			       e.flags & HV_CTL_DEV_F_LABELLED ? e.label : "-");
		}
		printf("devices %u of %u\n", dr.count, dr.total);
		return 0;
	} else if (!strcmp(cmd, "mode")) {
		struct hv_ctl_mode m = {0, 0};

		for (int k = 1; k < argc; k++) {
			uint32_t bit = strstr(argv[k], "permissive")
					       ? HV_CTL_MODE_PERMISSIVE
					       : HV_CTL_MODE_MEDIATE_SEND;
			if (argv[k][0] == '+')
				m.set |= bit;
			else
				m.clear |= bit;
		}
		rc = call(HV_CTL_SET_MODE, &m, sizeof(m), NULL, 0);
		if (!rc)
			printf("mode %s\n", resp.text);
	} else {
		fprintf(stderr, "hvctl: unknown command %s\n", cmd);
		return 2;
	}
	hv_ctl_disconnect(cl);
	return rc ? 1 : 0;
}
