/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec_main.c - the toolstack's entry: global options, the table of
 * commands, help, dispatch.
 *
 *   hvsec [--run-dir DIR] [--timeout SEC] [--json] COMMAND [ARGS...]
 *
 * The run directory is hvsecd's (its control socket is DIR/control); it
 * comes from --run-dir, else $HVSEC_RUN_DIR, else /run/hvsec.  Commands
 * are one word (list) or two (policy load); each has its own --help.
 *
 * The platform (hvt_xen.h): --platform model|xen|auto, else
 * $HVSEC_PLATFORM, else auto: Xen's ACM module through libxenctrl when
 * Xen's privcmd exists and no hvsecd socket is configured, else hvsecd.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/hvsec.h"
#include "tools/hvt_xen.h"

static const struct hvt_opt o_policy_load[] = {
	{"dry-run", 'n', NULL, "validate against the running system only"},
	{"revoke", 0, NULL,
	 "close sharing the new policy forbids instead of refusing"},
	{"record", 0, NULL,
	 "xen: record P.bin as the policy Xen runs (booted with, or loaded "
	 "by xl); checked against Xen, nothing is loaded"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_policy_show[] = {
	{"save", 'o', "FILE", "also write the loaded binary policy to FILE"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_labels[] = {
	{"type", 't', "dom|res|any", "which labels (default: dom)"},
	{"policy", 'p', "P.bin", "a policy file instead of the loaded one"},
	{"long", 'l', NULL, "also show each label's types"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_label_add[] = {
	{"policy", 'p', "P.bin",
	 "check the label against this policy file (no daemon needed)"},
	{"force", 'f', NULL, "skip the check that the policy has the label"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_create[] = {
	{"paused", 'p', NULL, "leave the domain paused (hvsec unpause NAME)"},
	{"quiet", 'q', NULL, "print nothing on success"},
	{"verbose", 'v', NULL,
	 "also say what was done for each vTPM (manufacture time)"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_ca[] = {
	{"out", 'o', "FILE", "write it to FILE instead of stdout"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_tcti[] = {
	{"swtpm", 0, NULL, "the swtpm protocol's TCTI instead of mssim"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_golden[] = {
	{"out", 'o', "FILE", "write them to FILE instead of stdout"},
	{"devid", 0, "N", "the guest's vTPM device number (default 0)"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_attest[] = {
	{"golden", 'g', "FILE", "the golden values to compare with (required)"},
	{"ca", 0, "FILE",
	 "the CA certificate EKs chain to (default: the host's, as "
	 "vtpm ca)"},
	{"save", 0, "DIR",
	 "write ak.pub quote.msg quote.sig quote.pcrs nonce.hex for "
	 "tpm2_checkquote"},
	{"ek", 0, "rsa|ecc", "which EK (default: RSA, else ECC)"},
	{"devid", 0, "N", "the guest's vTPM device number (default 0)"},
	{"deep", 0, NULL,
	 "also a deep quote: the platform TPM vouches for this vTPM "
	 "(manager mode)"},
	{"platform-ak", 0, "FILE",
	 "--deep: the pinned platform AK and PCR digest (default "
	 "STATE_BASE/platform-pin; recorded on first use)"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_show[] = {
	{"devid", 0, "N", "for a guest: only its vTPM device N"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_delete[] = {
	{"yes", 'y', NULL, "do not ask (required when not on a terminal)"},
	{"force", 'f', NULL,
	 "also when the directory holds files that are not vTPM state"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_manager[] = {
	{"dir", 'd', "DIR",
	 "the manager's directory (default $HVSEC_VTPM_MGR_DIR, else "
	 "/var/lib/hvsec/vtpm-manager as root)"},
	{"tcti", 't', "TCTI", "the platform TPM (init, start)"},
	{"pcrs", 0, "LIST", "init: platform PCRs to seal the root key to"},
	{"label", 'l', "LABEL",
	 "start: the domain's label (default: the policy's bootstrap label)"},
	{"out", 'o', "FILE", "pubkey: write it to FILE instead of stdout"},
	{"der", 0, NULL, "pubkey: DER instead of PEM"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_export[] = {
	{"to", 0, "FILE", "the destination manager's public key (required; "
			  "hvsec vtpm manager pubkey there)"},
	{"out", 'o', "FILE", "the export file to write (required, new)"},
	{"yes", 'y', NULL, "do not ask (required when not on a terminal)"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_import[] = {
	{"from", 0, "FILE",
	 "require the bundle to be signed by this manager's public key"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_vtpm_audit[] = {
	{"lines", 'n', "N", "only the last N records"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_relabel[] = {
	{"dry-run", 'n', NULL, "only say whether the relabel would pass"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_console[] = {
	{"follow", 'f', NULL, "keep printing while the domain runs"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_list[] = {
	{"label", 'l', NULL, "add the security label column"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_audit[] = {
	{"follow", 'f', NULL, "wait for new records (Ctrl-C ends)"},
	{"lines", 'n', "N", "only the last N records (with -f: then wait)"},
	{"since", 's', "SEQ", "records from sequence number SEQ on"},
	{"count", 'c', "N", "stop after printing N records"},
	{NULL, 0, NULL, NULL},
};
static const struct hvt_opt o_stats[] = {
	{"all", 'a', NULL, "also list hooks that were never called"},
	{NULL, 0, NULL, NULL},
};

const struct hvt_cmd hvt_cmds[] = {
	{"policy load", "P.bin", "Load a binary policy into hvsecd.",
	 "The first policy is installed as is; over a loaded policy this is a\n"
	 "live update, validated against every running domain, event channel,\n"
	 "grant and resource in use: if anything blocks it, nothing changes\n"
	 "and every blocker is listed (exit 1).\n",
	 o_policy_load, true, 1, 1, hvt_cmd_policy_load},
	{"policy update", "P.bin",
	 "Replace the loaded policy live (or check it with --dry-run).",
	 "Lists every blocker: the domains (by name and id), the types and\n"
	 "conflict sets, the event channels or grants that would lose their\n"
	 "common type.  Exit 0 when the update (would) apply, 1 when "
	 "blocked.\n",
	 o_policy_load, true, 1, 1, hvt_cmd_policy_load},
	{"policy show", NULL, "Show the policy hvsecd enforces.", NULL,
	 o_policy_show, true, 0, 0, hvt_cmd_policy_show},
	{"policy compile", "POLICY.xml [hvsec-polc options]",
	 "Compile an XML policy (runs hvsec-polc compile).",
	 "Options after the file go to hvsec-polc, e.g. -o P.bin.\n", NULL,
	 false, 1, HVT_POS_MAX, hvt_cmd_policy_compile, .raw = true},
	{"policy graph", "POLICY.xml|P.bin",
	 "Draw a policy as a Graphviz graph (runs hvsec-polc graph).",
	 "Example: hvsec policy graph p.xml | dot -Tsvg > p.svg\n", NULL, false,
	 1, HVT_POS_MAX, hvt_cmd_policy_graph, .raw = true},
	{"labels", NULL, "List the labels of the loaded policy.", NULL,
	 o_labels, true, 0, 0, hvt_cmd_labels},
	{"label add", "LABEL dom CFG | LABEL res RESOURCE",
	 "Label a domain config or a resource.",
	 "dom: writes access_control = ['policy=P,label=LABEL'] into CFG (its\n"
	 "     other lines untouched; the file is replaced atomically).\n"
	 "res: stores the label of RESOURCE in hvsecd, under its canonical\n"
	 "     name (phy:/dev/..., file:/path, vlan:N, bridge:NAME, "
	 "vtpm:UUID;\n"
	 "     an existing path is resolved through symlinks).\n"
	 "The label must be a label of the right kind in the loaded policy\n"
	 "(or in --policy P.bin).\n",
	 o_label_add, false, 3, 3, hvt_cmd_label_add},
	{"label rm", "dom CFG | res RESOURCE",
	 "Remove the label of a domain config or a resource.", NULL, NULL,
	 false, 2, 2, hvt_cmd_label_rm},
	{"label get", "dom CFG | res RESOURCE",
	 "Show the label of a domain config or a resource.",
	 "Prints ACM:POLICY:LABEL for a config, the label for a resource.\n",
	 NULL, true, 2, 2, hvt_cmd_label_get},
	{"resources", NULL, "List the labelled resources.", NULL, NULL, true, 0,
	 0, hvt_cmd_resources},
	{"create", "CFG", "Create a domain from an xl-style config.",
	 "The daemon checks the host's authorization of the label, every\n"
	 "disk's resource label and the Chinese Wall.  Labelled vifs and\n"
	 "vTPMs are checked by the toolstack against the same policy.\n"
	 "Each vtpm = [\"backend=0\"] line starts a vTPM stub domain\n"
	 "NAME-vtpmN (hvsec-vtpmd, the guest's label or backend_label=) and\n"
	 "connects it before the guest runs (docs/vtpm.md).\n",
	 o_create, false, 1, 1, hvt_cmd_create},
	{"dry-run", "CFG", "Would CFG be allowed to start, and why (or not).",
	 "Shows each check: the host's authorization of the label, every\n"
	 "disk, vif and vTPM resource, XenStore, and the Chinese Wall against\n"
	 "the running domains.  Nothing is created.\n"
	 "Exit 0 when PERMITTED, 1 when DENIED (with the reasons).\n",
	 NULL, true, 1, 1, hvt_cmd_dry_run},
	{"destroy", "NAME|ID", "Destroy a domain.",
	 "A guest's vTPM stub domains go with it; a vTPM with a uuid keeps\n"
	 "its state for the next create, one without is deleted.\n",
	 NULL, false, 1, 1, hvt_cmd_destroy},
	{"pause", "NAME|ID", "Pause a domain.", NULL, NULL, false, 1, 1,
	 hvt_cmd_pause},
	{"unpause", "NAME|ID", "Unpause a domain.", NULL, NULL, false, 1, 1,
	 hvt_cmd_pause},
	{"relabel", "NAME|ID LABEL",
	 "Give a running domain another label (validated like an update).",
	 NULL, o_relabel, true, 2, 2, hvt_cmd_relabel},
	{"list", "[NAME|ID...]", "List domains.", NULL, o_list, true, 0,
	 HVT_POS_MAX, hvt_cmd_list},
	{"console", "NAME|ID", "Show a domain's console log.", NULL, o_console,
	 false, 1, 1, hvt_cmd_console},
	{"devices", "[NAME|ID]",
	 "List the devices backends have connected (vTPMs, disks, vifs).",
	 "Each connect ran resource_use; a labelled resource in use blocks\n"
	 "policy updates and relabels that would forbid it.\n",
	 NULL, true, 0, 1, hvt_cmd_devices},
	{"tcti", "NAME|ID",
	 "Print the TCTI string of a guest's vTPM served by hvsec-tpmfront.",
	 "For tpm2-tools: TPM2TOOLS_TCTI=$(hvsec tcti NAME) tpm2_pcrread.\n"
	 "Exit 1 when the guest does not serve its vTPM.\n",
	 o_tcti, false, 1, 1, hvt_cmd_tcti},
	{"vtpm ca", NULL,
	 "Print the CA certificate that issues the vTPMs' EK certificates.",
	 "PEM.  Every vTPM's EK certificates (NV 0x01c00002 RSA, 0x01c0000a\n"
	 "ECC) chain to it: openssl verify -CAfile ca.pem ek.pem.  The CA\n"
	 "(key and certificate, 0600) is $HVSEC_CA, else /var/lib/hvsec/ca.pem\n"
	 "as root, made on first use.\n",
	 o_vtpm_ca, false, 0, 0, hvt_cmd_vtpm_ca},
	{"vtpm golden", "NAME|ID",
	 "Print the golden values of a guest's measured boot.",
	 "From the event log the toolstack published for the guest's vTPM:\n"
	 "kernel, initrd and command line digests and PCRs 8/9 as the log\n"
	 "replays.  Take them from a known-good boot (docs/measured-boot.md\n"
	 "section 5).  Exit 1 when the guest has no valid log.\n",
	 o_vtpm_golden, false, 1, 1, hvt_cmd_vtpm_golden},
	{"vtpm attest", "NAME|ID --golden FILE",
	 "Attest a guest's vTPM: EK certificate, AK, quote, log, golden.",
	 "Through the guest's hvsec-tpmfront: checks the EK certificate\n"
	 "against the CA, binds a fresh AK to the EK (MakeCredential /\n"
	 "ActivateCredential), quotes PCRs 0-9 over a fresh nonce, replays\n"
	 "the published event log against the quote and compares kernel,\n"
	 "initrd, command line and PCRs with FILE (hvsec vtpm golden).\n"
	 "One line per check.  Exit 0 when all hold, 1 when one fails, 3\n"
	 "when the vTPM cannot be reached.\n",
	 o_vtpm_attest, true, 1, 1, hvt_cmd_vtpm_attest},
	{"vtpm list", NULL, "List every vTPM instance of the host.",
	 "From the state directories ($HVSEC_VTPM_DIR, else\n"
	 "/var/lib/hvsec/vtpm as root), the toolstack's /libxl records and\n"
	 "hvsecd's domains: state (running for a guest via its stub domain,\n"
	 "ephemeral-running, stored, empty), permall size and time, the EK\n"
	 "certificates found in the state, when the TPM was provisioned.\n"
	 "Read only: no TPM is powered on.  Exit 3 (with the directories)\n"
	 "when hvsecd cannot say which guests use them.\n",
	 NULL, true, 0, 0, hvt_cmd_vtpm_list},
	{"vtpm show", "UUID|GUEST",
	 "Show one vTPM instance (or a guest's) with its EK certificates.",
	 "Subject, issuer, serial, validity and the SHA-256 of each EK's\n"
	 "public key (DER SubjectPublicKeyInfo), read from the instance's\n"
	 "state files without starting its TPM.\n",
	 o_vtpm_show, true, 1, 1, hvt_cmd_vtpm_show},
	{"vtpm reset", "UUID|GUEST",
	 "Clear a stored vTPM's volatile state (a running one: refused).",
	 "A running guest's vTPM resets with the guest: destroy and create\n"
	 "it (PCRs start from zero, NV and EKs are kept).  Exit 1 when the\n"
	 "vTPM is in use.  Audited.\n",
	 o_vtpm_show, false, 1, 1, hvt_cmd_vtpm_reset},
	{"vtpm delete", "UUID",
	 "Delete an unused vTPM's state, and its EK identity, for good.",
	 "Refused (exit 1, naming the guest) while a guest uses it or a TPM\n"
	 "runs on its state.  Asks on a terminal; --yes otherwise.  Audited.\n",
	 o_vtpm_delete, false, 1, 1, hvt_cmd_vtpm_delete},
	{"vtpm manager", "init|start|stop|status|pubkey",
	 "Set up, start, stop or show the vTPM manager domain.",
	 "init: hvsec-vtpm-managerd --init in dom0 (root key sealed to the\n"
	 "platform TPM's PCRs, NV counter, CA).  start: the domain\n"
	 "vtpm-manager, ready when its control socket answers; guests' vTPMs\n"
	 "then use it (vtpm = [\"manager=yes\"], the default while it runs).\n"
	 "status: its root record, counter and instances (--json).\n"
	 "pubkey: its migration identity key, for `vtpm export --to`.\n",
	 o_vtpm_manager, true, 1, 1, hvt_cmd_vtpm_manager},
	{"vtpm export", "NAME|UUID --to DEST.pub -o FILE",
	 "Move a stopped vTPM to another manager: write its export file.",
	 "The manager encrypts the instance's key and committed state refs to\n"
	 "the destination manager's key and signs them (a bundle); the file\n"
	 "holds the bundle and the state blobs (docs/formats.md section 8).\n"
	 "This manager marks the instance migrated and never runs it again.\n"
	 "Refused while its guest runs.  Asks on a terminal; --yes otherwise.\n",
	 o_vtpm_export, false, 1, 1, hvt_cmd_vtpm_export},
	{"vtpm import", "FILE",
	 "Take over a vTPM exported to this manager (hvsec vtpm export).",
	 "Checks the file, that it was made for this manager and (--from)\n"
	 "by whom, writes the state into the vTPM directory and hands the\n"
	 "bundle to the manager.  Refused when the vTPM already exists here.\n",
	 o_vtpm_import, false, 1, 1, hvt_cmd_vtpm_import},
	{"vtpm audit", NULL, "Show the log of vTPM administration.",
	 "One record per reset or delete, done, refused or failed: time, op,\n"
	 "uuid, guest, result, detail.  --json: JSON Lines as stored\n"
	 "(STATE_BASE/audit.log).\n",
	 o_vtpm_audit, true, 0, 0, hvt_cmd_vtpm_audit},
	{"audit", NULL, "Show the audit records of access decisions.",
	 "With --json: one JSON object per line (JSON Lines).\n", o_audit, true,
	 0, 0, hvt_cmd_audit},
	{"stats", NULL, "Show hvsecd's counters and per-hook statistics.", NULL,
	 o_stats, true, 0, 0, hvt_cmd_stats},
	{"status", NULL,
	 "Say which platform this hvsec talks to, and its state.",
	 "model: hvsecd at RUN_DIR/control.  xen: Xen's ACM module through\n"
	 "libxenctrl (xsm=acm), its policy and whether the policy recorded\n"
	 "under $HVSEC_XEN_STATE_DIR (default /var/lib/hvsec/xen) agrees with\n"
	 "it.  How the platform was chosen: --platform, $HVSEC_PLATFORM, or\n"
	 "auto (xen when /dev/xen/privcmd exists and no hvsecd socket is\n"
	 "configured).\n",
	 NULL, true, 0, 0, hvt_cmd_status},
	{"mode", "[enforcing|permissive] [mediate-send|direct-send]",
	 "Show or set the enforcement mode.",
	 "permissive: denials are recorded, not enforced.\n"
	 "mediate-send: channels bound from now on pass every send through\n"
	 "the evtchn_send hook.\n",
	 NULL, true, 0, 2, hvt_cmd_mode},
	{NULL, NULL, NULL, NULL, NULL, false, 0, 0, NULL, false},
};

/* The top-level help groups the table's commands under these. */
static const char *heading(const char *name)
{
	static const struct {
		const char *first, *title;
	} h[] = {
		{"policy load", "Policy:"},
		{"labels", "Labels:"},
		{"create", "Domains:"},
		{"audit", "Monitoring:"},
	};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (!strcmp(h[i].first, name))
			return h[i].title;
	return NULL;
}

static void usage(const struct hvt *t, FILE *f)
{
	fprintf(f,
		"usage: %s [--run-dir DIR] [--timeout SEC] [--json] "
		"[--platform P] COMMAND [ARGS...]\n\n"
		"The hvsec toolstack: domains, labels and policies of hvsecd.\n"
		"\n",
		HVT_PROG);
	for (const struct hvt_cmd *c = hvt_cmds; c->name; c++) {
		const char *h = heading(c->name);

		if (h)
			fprintf(f, "%s%s\n", c == hvt_cmds ? "" : "\n", h);
		fprintf(f, "  %-15s %s\n", c->name, c->summary);
	}
	fprintf(f,
		"\nglobal options:\n"
		"  --run-dir DIR     hvsecd's run directory (default $%s, "
		"else %s)\n"
		"  --timeout SEC     how long to wait for hvsecd (default "
		"%d)\n"
		"  --json            machine-readable output where available\n"
		"  --platform P      model (hvsecd), xen (Xen's xsm=acm "
		"module through\n"
		"                    libxenctrl) or auto (default; $%s): "
		"here %s\n"
		"                    (%s)\n"
		"  --version         print the version\n"
		"\n'%s COMMAND --help' describes a command.  Exit status: 0 "
		"ok, 1 denied or\nblocked, 2 usage or input error, 3 hvsecd "
		"unreachable or failed.\n",
		HVT_RUN_DIR_ENV, HVT_RUN_DIR_DEFAULT,
		HVT_TIMEOUT_MS_DEFAULT / 1000, HVT_PLATFORM_ENV,
		hvt_platform_name((enum hvt_platform)t->platform),
		t->platform_why, HVT_PROG);
}

/* "policy" alone, or "policy frobnicate": the group's commands. */
static int group_usage(const char *word, const char *bad)
{
	size_t n = strlen(word);

	if (bad)
		hvt_err("%s: unknown command '%s'", word, bad);
	fprintf(bad ? stderr : stdout, "usage: %s %s SUBCOMMAND ...\n",
		HVT_PROG, word);
	for (const struct hvt_cmd *c = hvt_cmds; c->name; c++)
		if (!strncmp(c->name, word, n) && c->name[n] == ' ')
			fprintf(bad ? stderr : stdout, "  %-15s %s\n", c->name,
				c->summary);
	return HVT_USAGE;
}

static const struct hvt_cmd *find(int argc, char **argv, int *used)
{
	char two[64];

	if (argc >= 2 && snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]) <
				 (int)sizeof(two)) {
		for (const struct hvt_cmd *c = hvt_cmds; c->name; c++)
			if (!strcmp(c->name, two)) {
				*used = 2;
				return c;
			}
	}
	for (const struct hvt_cmd *c = hvt_cmds; c->name; c++)
		if (!strcmp(c->name, argv[0])) {
			*used = 1;
			return c;
		}
	return NULL;
}

static bool is_group(const char *w)
{
	size_t n = strlen(w);

	for (const struct hvt_cmd *c = hvt_cmds; c->name; c++)
		if (!strncmp(c->name, w, n) && c->name[n] == ' ')
			return true;
	return false;
}

/* Which platform: --platform, $HVSEC_PLATFORM, else auto (hvt_xen.h). */
static int platform(struct hvt *t, const char *opt, bool run_dir_given)
{
	struct hvt_plat_in in = {0};
	enum hvt_platform p;
	char sock[HVT_PATH_MAX];
	struct stat st;

	in.option = opt;
	in.env = getenv(HVT_PLATFORM_ENV);
	in.run_dir_given = run_dir_given;
	snprintf(sock, sizeof(sock), "%s/control", t->run_dir);
	in.socket_exists = stat(sock, &st) == 0;
	in.privcmd_exists = access(HVT_XEN_PRIVCMD, F_OK) == 0 ||
			    access(HVT_XEN_PROC_PRIVCMD, F_OK) == 0;
	if (hvt_platform_pick(&in, &p, t->platform_why,
			      sizeof(t->platform_why))) {
		hvt_err("%s", t->platform_why);
		return -1;
	}
	t->platform = (int)p;
	return 0;
}

/* Global options, up to the command word.  Returns the index of the
 * command word, or -(exit status + 1) when done (help) or wrong. */
static int globals(struct hvt *t, int argc, char **argv)
{
	const char *env = getenv(HVT_RUN_DIR_ENV);
	const char *plat = NULL;
	bool run_dir_given = env && *env, help = false;
	int i;

	t->run_dir = env && *env ? env : HVT_RUN_DIR_DEFAULT;
	t->timeout_ms = HVT_TIMEOUT_MS_DEFAULT;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *s = argv[i];
		uint32_t sec;

		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			help = true;
		} else if (!strcmp(s, "--version")) {
			printf("%s %s (control protocol %u)\n", HVT_PROG,
			       HVT_VERSION, HV_CTL_VERSION);
			return -(HVT_OK + 1);
		} else if (!strcmp(s, "--json")) {
			t->json = true;
		} else if (!strcmp(s, "--run-dir") && i + 1 < argc) {
			t->run_dir = argv[++i];
			run_dir_given = true;
		} else if (!strncmp(s, "--run-dir=", 10)) {
			t->run_dir = s + 10;
			run_dir_given = true;
		} else if (!strcmp(s, "--platform") && i + 1 < argc) {
			plat = argv[++i];
		} else if (!strncmp(s, "--platform=", 11)) {
			plat = s + 11;
		} else if (!strcmp(s, "--timeout") && i + 1 < argc) {
			if (!hvt_parse_u32(argv[++i], 86400, &sec) || !sec) {
				hvt_err("--timeout: '%s' is not a number of "
					"seconds (1-86400)",
					argv[i]);
				return -(HVT_USAGE + 1);
			}
			t->timeout_ms = (int)sec * 1000;
		} else if (!strcmp(s, "--run-dir") || !strcmp(s, "--timeout") ||
			   !strcmp(s, "--platform")) {
			hvt_err("%s needs a value", s);
			return -(HVT_USAGE + 1);
		} else {
			hvt_err("unknown option '%s' (try '%s --help')", s,
				HVT_PROG);
			return -(HVT_USAGE + 1);
		}
	}
	if (platform(t, plat, run_dir_given))
		return -(HVT_USAGE + 1);
	if (help) {
		usage(t, stdout);
		return -(HVT_OK + 1);
	}
	if (i >= argc) {
		usage(t, stderr);
		return -(HVT_USAGE + 1);
	}
	if (!*t->run_dir) {
		hvt_err("--run-dir: empty");
		return -(HVT_USAGE + 1);
	}
	return i;
}

/* hvsec help [COMMAND...] */
static int help(const struct hvt *t, int argc, char **argv)
{
	const struct hvt_cmd *cmd;
	int used;

	if (argc == 0) {
		usage(t, stdout);
		return HVT_OK;
	}
	cmd = find(argc, argv, &used);
	if (cmd) {
		hvt_cmd_help(cmd, stdout);
		return HVT_OK;
	}
	if (is_group(argv[0])) {
		group_usage(argv[0], NULL);
		return HVT_OK;
	}
	hvt_err("no command '%s'", argv[0]);
	return HVT_USAGE;
}

/* No command of that name: a group ("policy"), or a mistake. */
static int not_found(int argc, char **argv)
{
	if (!is_group(argv[0])) {
		hvt_err("unknown command '%s' (try '%s --help')", argv[0],
			HVT_PROG);
		return HVT_USAGE;
	}
	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		group_usage(argv[0], NULL);
		return HVT_OK;
	}
	return group_usage(argv[0], argc > 1 ? argv[1] : NULL);
}

int main(int argc, char **argv)
{
	struct hvt t = {0};
	struct hvt_args a;
	const struct hvt_cmd *cmd;
	int i, used = 0, rc;

	i = globals(&t, argc, argv);
	if (i < 0)
		return -i - 1;
	if (!strcmp(argv[i], "help"))
		return help(&t, argc - i - 1, argv + i + 1);
	cmd = find(argc - i, argv + i, &used);
	if (!cmd)
		return not_found(argc - i, argv + i);
	rc = hvt_opt_parse(&t, cmd, argc - i - used, argv + i + used, &a);
	if (rc >= 0)
		return rc;
	t.verbose = hvt_opt(&a, "verbose") != NULL;
	if (t.json && !cmd->json) {
		hvt_err("%s: --json is not available here", cmd->name);
		return HVT_USAGE;
	}
	if (t.platform != HVT_PLAT_XEN && hvt_opt(&a, "record"))
		return hvt_usage(cmd, "--record: only on the xen platform "
				      "(hvsecd knows its policy)");
	rc = t.platform == HVT_PLAT_XEN ? hvt_xen_run(&t, &a)
					: cmd->run(&t, &a);
	hvt_disconnect(&t);
	/* An answer that could not be written is not an answer (a full
	 * disk); a closed pipe has already ended us with SIGPIPE. */
	if (fflush(stdout) || ferror(stdout)) {
		hvt_err("cannot write the output");
		return rc ? rc : HVT_DAEMON;
	}
	return rc;
}
