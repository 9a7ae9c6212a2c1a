/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mgrctl - a small client of the manager's control socket for
 * tests/vtpm-manager/mgrd.sh (the toolstack's `hvsec vtpm ...` is the
 * real one), through mgr_ctl_call:
 *
 *   mgrctl SOCKET status
 *   mgrctl SOCKET attach UUID DOMAIN_UUID LABEL STUB_DOMID [create] [tpm12]
 *   mgrctl SOCKET detach|delete|reset UUID
 *   mgrctl SOCKET list
 *   mgrctl SOCKET identity
 *   mgrctl SOCKET deep-quote UUID EK_PUBLIC_FILE NONCE_HEX PCR_MASK
 *
 * Prints the answer as KEY=VALUE words on one line (list: one line per
 * instance).  Exit 0 on MGR_RC_OK, 1 when the manager refused ("error
 * RC_NAME: message"), 2 bad usage, 3 no answer (connect, timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtpm-manager/mgr_proto.h"
#include "vtpm-manager/mgrd.h"

static uint8_t buf[MGR_CTL_MSG_MAX];

static void pr_uuid(const char *k, const struct mgr_uuid *u)
{
	char s[37];

	mgrd_uuid_str(u, s);
	printf("%s=%s", k, s);
}

static int usage(void)
{
	fprintf(stderr, "usage: mgrctl SOCKET status|list|identity|attach "
			"UUID DOM LABEL STUB [create] [tpm12]|detach UUID|"
			"delete UUID|reset UUID|deep-quote UUID EKPUB NONCE "
			"MASK\n");
	return 2;
}

static int uuid_arg(const char *s, struct mgr_uuid *u)
{
	if (vtpm_mgr_uuid_parse(s, u)) {
		fprintf(stderr, "mgrctl: \"%s\" is not a UUID\n", s);
		return -1;
	}
	return 0;
}

static void print(const struct mgr_rsp *r)
{
	switch (r->op) {
	case MGR_CTL_STATUS:
		pr_uuid("manager", &r->u.status.manager);
		printf(" root_generation=%llu counter=%llu nv_index=0x%08x "
		       "pcr_mask=0x%06x instances=%u attached=%u open=%u "
		       "commits=%llu commit_batches=%llu\n",
		       (unsigned long long)r->u.status.root_generation,
		       (unsigned long long)r->u.status.counter,
		       r->u.status.nv_index, r->u.status.pcr_mask,
		       r->u.status.instances, r->u.status.attached,
		       r->u.status.open,
		       (unsigned long long)r->u.status.commits,
		       (unsigned long long)r->u.status.commit_batches);
		break;
	case MGR_CTL_ATTACH:
		printf("created=%u\n", r->u.attach.created);
		break;
	case MGR_CTL_LIST:
		for (unsigned i = 0; i < r->u.list.count; i++) {
			const struct mgr_list_entry *e = &r->u.list.entry[i];

			pr_uuid("uuid", &e->uuid);
			pr_uuid(" domain", &e->domain);
			printf(" label=%s flags=0x%x stub=%d open=%u "
			       "gen=%llu,%llu,%llu\n",
			       e->label, e->flags,
			       e->stub_domid == MGR_NO_DOMID
				       ? -1
				       : (int)e->stub_domid,
			       e->open, (unsigned long long)e->generation[0],
			       (unsigned long long)e->generation[1],
			       (unsigned long long)e->generation[2]);
		}
		printf("total=%u\n", r->u.list.total);
		break;
	case MGR_CTL_IDENTITY:
		pr_uuid("manager", &r->u.identity.manager);
		printf(" pubkey=%u ca_cert=%u\n", r->u.identity.pubkey.len,
		       r->u.identity.ca_cert.len);
		break;
	case MGR_CTL_DEEP_QUOTE:
		printf("attest=%u sig=%u ak_public=%u\n",
		       r->u.deep_quote.attest.len, r->u.deep_quote.sig.len,
		       r->u.deep_quote.ak_public.len);
		break;
	default:
		printf("ok\n");
	}
}

int main(int argc, char **argv)
{
	struct mgr_req q;
	struct mgr_rsp r;
	char why[512];
	int fd, rc;

	if (argc < 3)
		return usage();
	memset(&q, 0, sizeof(q));
	if (!strcmp(argv[2], "status") && argc == 3) {
		q.op = MGR_CTL_STATUS;
	} else if (!strcmp(argv[2], "list") && argc == 3) {
		q.op = MGR_CTL_LIST;
	} else if (!strcmp(argv[2], "identity") && argc == 3) {
		q.op = MGR_CTL_IDENTITY;
	} else if (!strcmp(argv[2], "attach") && argc >= 7) {
		q.op = MGR_CTL_ATTACH;
		if (uuid_arg(argv[3], &q.u.attach.uuid) ||
		    uuid_arg(argv[4], &q.u.attach.domain))
			return 2;
		snprintf(q.u.attach.label, sizeof(q.u.attach.label), "%s",
			 argv[5]);
		q.u.attach.stub_domid = (uint32_t)strtoul(argv[6], NULL, 10);
		for (int i = 7; i < argc; i++) {
			if (!strcmp(argv[i], "create"))
				q.u.attach.create = true;
			else if (!strcmp(argv[i], "tpm12"))
				q.u.attach.flags |= MGR_OPEN_F_TPM12;
			else
				return usage();
		}
	} else if ((!strcmp(argv[2], "detach") || !strcmp(argv[2], "delete") ||
		    !strcmp(argv[2], "reset")) &&
		   argc == 4) {
		q.op = argv[2][0] == 'r'   ? MGR_CTL_RESET
		       : argv[2][2] == 'l' ? MGR_CTL_DELETE
					   : MGR_CTL_DETACH;
		if (uuid_arg(argv[3], &q.u.target.uuid))
			return 2;
	} else if (!strcmp(argv[2], "deep-quote") && argc == 7) {
		static uint8_t ek[MGR_EK_PUBLIC_MAX + 1];
		FILE *f = fopen(argv[4], "rb");
		size_t n = f ? fread(ek, 1, sizeof(ek), f) : 0;
		const char *h = argv[5];

		if (f)
			fclose(f);
		q.op = MGR_CTL_DEEP_QUOTE;
		if (uuid_arg(argv[3], &q.u.deep_quote.uuid))
			return 2;
		q.u.deep_quote.ek_public =
			(struct mgr_blob_ref){ek, (uint32_t)n};
		for (size_t i = 0;
		     h[2 * i] && h[2 * i + 1] && i < MGR_NONCE_MAX; i++) {
			unsigned v;

			sscanf(h + 2 * i, "%2x", &v);
			q.u.deep_quote.nonce[i] = (uint8_t)v;
			q.u.deep_quote.nonce_len = (uint8_t)(i + 1);
		}
		q.u.deep_quote.pcr_mask = (uint32_t)strtoul(argv[6], NULL, 0);
	} else {
		return usage();
	}
	fd = mgr_ctl_connect(argv[1], why, sizeof(why));
	if (fd < 0) {
		fprintf(stderr, "mgrctl: %s\n", why);
		return 3;
	}
	memset(&r, 0, sizeof(r));
	rc = mgr_ctl_call(fd, &q, &r, buf, 30000, why, sizeof(why));
	close(fd);
	if (rc) {
		fprintf(stderr, "mgrctl: %s\n", why);
		return 3;
	}
	if (r.rc != MGR_RC_OK) {
		printf("error rc=%u %s: %s\n", (unsigned)r.rc, mgr_rc_str(r.rc),
		       r.msg);
		return 1;
	}
	print(&r);
	return 0;
}
