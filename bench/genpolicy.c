/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genpolicy - writes one synthetic workload in two equivalent forms:
 *
 *   OUT/policy.xml   our Xen-ACM XML policy
 *   OUT/policy.conf  the SELinux/FLASK policy.conf that decides the same
 *   OUT/pairs.bin    random (subject, object) index pairs for both benches
 *
 * usage: genpolicy N SEED OUT PAIRS
 *
 * The SELinux side follows the shape of the peer baseline
 * (reference/peer-baselines.md §3): Xen-like classes and initial SIDs,
 * types d<i>_t in attribute domain_type, two self rules per type, four
 * partners with event/grant permissions and domain getdomaininfo for every
 * other partner, d0_t as dom0.  The ACM side gives VM label d<i> its own
 * STE type d<i>_t plus the STE types of the same four partners; label d0
 * holds every type and is the bootstrap label.
 *
 * ACM sharing is "the labels share a type", which is symmetric and, with
 * independently drawn partners, would also let two domains talk through a
 * common third partner: about 25 allowed peers per type instead of FLASK's
 * 5.  To make the two policies decide identically, partners are drawn as a
 * random partition of the types 1..N-1 into groups of five: every member
 * of a group is the partner of the other four.  Then both engines allow
 * exactly "same group, or one side is dom0", with FLASK's rule count and
 * avtab shape unchanged.  The one rule FLASK needs beyond the baseline is
 * domain_type -> d0_t (ACM's dom0 label shares a type with everybody, in
 * both directions); it adds no avtab probe to a decision.
 *
 * Prints the granted fraction of the pairs under that model, which both
 * benchmarks must reproduce.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

#define GROUP 5          /* a type and its four partners */
#define N_MAX 1000000u
#define PAIRS_MAX (64u << 20)
#define CW_SETS_MAX 4u   /* "a few" conflict sets */
#define CW_SET_SIZE 3u

struct gen {
	uint32_t n;
	uint64_t rng;
	uint32_t *perm;   /* types 1..n-1 shuffled; groups are runs of GROUP */
	uint32_t *pos;    /* pos[i]: where type i sits in perm */
	uint32_t n_cw;    /* CHWALL types cw0..cw<n_cw-1>, plus cw_dom0 */
	uint32_t n_sets;
	uint32_t sets[CW_SETS_MAX][CW_SET_SIZE];
	uint32_t set_size;
};

/* splitmix64: tiny, seedable, and good enough to draw benchmark inputs. */
static uint64_t rng_next(struct gen *g)
{
	uint64_t z = (g->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n) by multiply-shift: bias below 2^-32, irrelevant here. */
static uint32_t rng_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((rng_next(g) >> 32) * (uint64_t)n) >> 32);
}

/* Group of type i (i >= 1); type 0 is dom0 and in no group. */
static uint32_t group_of(const struct gen *g, uint32_t i)
{
	return g->pos[i] / GROUP;
}

/* Partners of type i >= 1: the other members of its group, in perm order.
 * Returns how many (4, fewer in the last group). */
static unsigned partners(const struct gen *g, uint32_t i, uint32_t *out)
{
	uint32_t start = group_of(g, i) * GROUP, m = g->n - 1;
	unsigned k = 0;

	for (uint32_t j = start; j < start + GROUP && j < m; j++)
		if (g->perm[j] != i)
			out[k++] = g->perm[j];
	return k;
}

static bool allowed(const struct gen *g, uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 || group_of(g, a) == group_of(g, b);
}

static int gen_init(struct gen *g, uint32_t n, uint64_t seed)
{
	uint32_t m = n - 1;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->rng = seed;
	g->perm = calloc(m ? m : 1, sizeof(*g->perm));
	g->pos = calloc(n, sizeof(*g->pos));
	if (!g->perm || !g->pos)
		return -1;
	for (uint32_t j = 0; j < m; j++)
		g->perm[j] = j + 1;
	for (uint32_t j = m; j > 1; j--) { /* Fisher-Yates */
		uint32_t k = rng_below(g, j), t = g->perm[j - 1];

		g->perm[j - 1] = g->perm[k];
		g->perm[k] = t;
	}
	for (uint32_t j = 0; j < m; j++)
		g->pos[g->perm[j]] = j;

	/* N/10 CHWALL types; label d<i> (i >= 1) runs as cw<i mod n_cw>. */
	g->n_cw = n / 10 ? n / 10 : 1;
	g->n_sets = g->n_cw / 2 < CW_SETS_MAX ? g->n_cw / 2 : CW_SETS_MAX;
	g->set_size = g->n_cw < CW_SET_SIZE ? g->n_cw : CW_SET_SIZE;
	for (uint32_t s = 0; s < g->n_sets; s++) {
		for (uint32_t k = 0; k < g->set_size; k++) {
			uint32_t t;
			bool dup;

			do { /* distinct members within one set */
				t = rng_below(g, g->n_cw);
				dup = false;
				for (uint32_t q = 0; q < k; q++)
					dup |= g->sets[s][q] == t;
			} while (dup);
			g->sets[s][k] = t;
		}
	}
	return 0;
}

static void gen_free(struct gen *g)
{
	free(g->perm);
	free(g->pos);
}

/* ---------------------------------------------------------------- XML */

static void xml_types(FILE *f, const char *indent, const char *elem,
		      const uint32_t *types, unsigned n_types)
{
	fprintf(f, "%s<%s>", indent, elem);
	for (unsigned k = 0; k < n_types; k++)
		fprintf(f, "<Type>" BENCH_TYPE_FMT "</Type>", types[k]);
	fprintf(f, "</%s>\n", elem);
}

static void write_xml(const struct gen *g, FILE *f)
{
	uint32_t own[GROUP];

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<!-- generated by bench/genpolicy: %u types -->\n"
		   "<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">\n"
		   "  <PolicyHeader>\n"
		   "    <PolicyName>hvsec-bench-n%u</PolicyName>\n"
		   "    <Version>1.0</Version>\n"
		   "  </PolicyHeader>\n"
		   "  <SimpleTypeEnforcement>\n"
		   "    <SimpleTypeEnforcementTypes>\n",
		g->n, g->n);
	for (uint32_t i = 0; i < g->n; i++)
		fprintf(f, "      <Type>" BENCH_TYPE_FMT "</Type>\n", i);
	fprintf(f, "    </SimpleTypeEnforcementTypes>\n"
		   "  </SimpleTypeEnforcement>\n"
		   "  <ChineseWall priority=\"PrimaryPolicyComponent\">\n"
		   "    <ChineseWallTypes>\n"
		   "      <Type>cw_dom0</Type>\n");
	for (uint32_t t = 0; t < g->n_cw; t++)
		fprintf(f, "      <Type>cw%u</Type>\n", t);
	fprintf(f, "    </ChineseWallTypes>\n");
	if (g->n_sets) {
		fprintf(f, "    <ConflictSets>\n");
		for (uint32_t s = 0; s < g->n_sets; s++) {
			fprintf(f, "      <Conflict name=\"cs%u\">", s);
			for (uint32_t k = 0; k < g->set_size; k++)
				fprintf(f, "<Type>cw%u</Type>", g->sets[s][k]);
			fprintf(f, "</Conflict>\n");
		}
		fprintf(f, "    </ConflictSets>\n");
	}
	fprintf(f, "  </ChineseWall>\n"
		   "  <SecurityLabelTemplate>\n"
		   "    <SubjectLabels bootstrap=\"" BENCH_LABEL_FMT "\">\n",
		0u);

	/* dom0: every STE type, so it may share with every domain. */
	fprintf(f, "      <VirtualMachineLabel><Name>" BENCH_LABEL_FMT
		   "</Name>\n        <SimpleTypeEnforcementTypes>",
		0u);
	for (uint32_t i = 0; i < g->n; i++)
		fprintf(f, "<Type>" BENCH_TYPE_FMT "</Type>", i);
	fprintf(f, "</SimpleTypeEnforcementTypes>\n"
		   "        <ChineseWallTypes><Type>cw_dom0</Type>"
		   "</ChineseWallTypes></VirtualMachineLabel>\n");

	for (uint32_t i = 1; i < g->n; i++) {
		unsigned k;

		own[0] = i;
		k = partners(g, i, own + 1);
		fprintf(f, "      <VirtualMachineLabel><Name>" BENCH_LABEL_FMT
			   "</Name>\n",
			i);
		xml_types(f, "        ", "SimpleTypeEnforcementTypes", own,
			  k + 1);
		fprintf(f, "        <ChineseWallTypes><Type>cw%u</Type>"
			   "</ChineseWallTypes></VirtualMachineLabel>\n",
			i % g->n_cw);
	}
	fprintf(f, "    </SubjectLabels>\n"
		   "  </SecurityLabelTemplate>\n"
		   "</SecurityPolicyDefinition>\n");
}

/* ---------------------------------------------------------------- SELinux */

/* Xen-like object classes and permissions (at most 32 per class). */
static const struct {
	const char *name, *perms;
} classes[] = {
	{ "xen", "settime readconsole clearconsole perfcontrol mtrr_add "
		 "mtrr_del mtrr_read microcode physinfo quirk writeconsole "
		 "readapic writeapic kexec firmware sleep frequency getidle "
		 "debug getcpuinfo heap pm_op mca_op lockprof cpupool_op "
		 "getscheduler setscheduler" },
	{ "domain", "setvcpucontext pause unpause resume create transition "
		    "max_vcpus destroy setvcpuaffinity getvcpuaffinity "
		    "scheduler getdomaininfo getvcpuinfo getvcpucontext "
		    "setdomainmaxmem setdomainhandle setdebugging hypercall "
		    "settime set_target shutdown setaddrsize getaddrsize "
		    "trigger getextvcpucontext setextvcpucontext" },
	{ "event", "bind send status create reset" },
	{ "grant", "map_read map_write unmap transfer setup copy query" },
	{ "mmu", "map_read map_write pageinfo pagelist adjust stat "
		 "translategp updatemp physmap pinpage mfnlist memorymap "
		 "exchange" },
	{ "resource", "add remove use add_irq remove_irq add_ioport "
		      "remove_ioport add_iomem remove_iomem stat_device "
		      "add_device remove_device plug unplug setup" },
	{ "security", "compute_av compute_create compute_member "
		      "check_context load_policy compute_relabel "
		      "compute_user setenforce setbool setsecparam" },
	{ "vtpm", "create destroy attach detach read write quote migrate" },
};

/* The 12 initial SIDs of a Xen FLASK policy and the type each gets. */
static const struct {
	const char *sid, *type;
} isids[] = {
	{ "xen", "xen_t" },         { "dom0", "d0_t" },
	{ "domio", "domio_t" },     { "domxen", "domxen_t" },
	{ "unlabeled", "unlabeled_t" }, { "security", "security_t" },
	{ "irq", "irq_t" },         { "iomem", "iomem_t" },
	{ "ioport", "ioport_t" },   { "device", "device_t" },
	{ "domU", "domU_t" },       { "domDM", "domDM_t" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EVENT_PERMS "{ bind send status }"
#define GRANT_PERMS "{ map_read map_write copy query }"

static unsigned long write_conf(const struct gen *g, FILE *f)
{
	unsigned long rules = 0;
	uint32_t p[GROUP];

	fprintf(f, "# generated by bench/genpolicy: %u types, the SELinux\n"
		   "# equivalent of policy.xml in the same directory\n\n",
		g->n);
	for (size_t c = 0; c < ARRAY_LEN(classes); c++)
		fprintf(f, "class %s\n", classes[c].name);
	fprintf(f, "\n");
	for (size_t s = 0; s < ARRAY_LEN(isids); s++)
		fprintf(f, "sid %s\n", isids[s].sid);
	fprintf(f, "\n");
	for (size_t c = 0; c < ARRAY_LEN(classes); c++)
		fprintf(f, "class %s { %s }\n", classes[c].name,
			classes[c].perms);

	fprintf(f, "\nattribute domain_type;\n");
	for (size_t s = 0; s < ARRAY_LEN(isids); s++)
		if (strcmp(isids[s].type, "d0_t") != 0)
			fprintf(f, "type %s;\n", isids[s].type);
	for (uint32_t i = 0; i < g->n; i++)
		fprintf(f, "type " BENCH_TYPE_FMT ", domain_type;\n", i);
	fprintf(f, "\n");

	for (uint32_t i = 0; i < g->n; i++) {
		unsigned k = i ? partners(g, i, p) : 0;

		fprintf(f, "allow " BENCH_TYPE_FMT " self:event " EVENT_PERMS
			   ";\nallow " BENCH_TYPE_FMT " self:grant "
			   GRANT_PERMS ";\n",
			i, i);
		rules += 2;
		for (unsigned q = 0; q < k; q++) {
			fprintf(f, "allow " BENCH_TYPE_FMT " " BENCH_TYPE_FMT
				   ":event " EVENT_PERMS ";\n"
				   "allow " BENCH_TYPE_FMT " " BENCH_TYPE_FMT
				   ":grant " GRANT_PERMS ";\n",
				i, p[q], i, p[q]);
			rules += 2;
			if (q % 2 == 0) {
				fprintf(f, "allow " BENCH_TYPE_FMT
					   " " BENCH_TYPE_FMT
					   ":domain getdomaininfo;\n",
					i, p[q]);
				rules++;
			}
		}
	}
	fprintf(f, "\n# dom0\n"
		   "allow d0_t domain_type:{ domain event grant } *;\n"
		   "# ACM's dom0 label shares a type with every label, so\n"
		   "# sharing is allowed towards dom0 too\n"
		   "allow domain_type d0_t:event " EVENT_PERMS ";\n"
		   "allow domain_type d0_t:grant " GRANT_PERMS ";\n\n");
	rules += 5;

	fprintf(f, "role system_r;\nrole system_r types { domain_type");
	for (size_t s = 0; s < ARRAY_LEN(isids); s++)
		if (strcmp(isids[s].type, "d0_t") != 0)
			fprintf(f, " %s", isids[s].type);
	fprintf(f, " };\nuser system_u roles { system_r };\n\n");
	for (size_t s = 0; s < ARRAY_LEN(isids); s++)
		fprintf(f, "sid %s system_u:system_r:%s\n", isids[s].sid,
			isids[s].type);
	return rules;
}

/* ---------------------------------------------------------------- pairs */

static int write_pairs(struct gen *g, FILE *f, uint32_t count,
		       uint64_t *granted)
{
	struct bench_pairs_header h = {
		.magic = BENCH_PAIRS_MAGIC, .n = g->n, .count = count,
	};
	uint32_t buf[2 * 1024];
	uint32_t fill = 0;

	*granted = 0;
	if (fwrite(&h, sizeof(h), 1, f) != 1)
		return -1;
	for (uint32_t k = 0; k < count; k++) {
		uint32_t a = rng_below(g, g->n), b = rng_below(g, g->n);

		*granted += allowed(g, a, b);
		buf[fill++] = a;
		buf[fill++] = b;
		if (fill == ARRAY_LEN(buf) || k + 1 == count) {
			if (fwrite(buf, sizeof(buf[0]), fill, f) != fill)
				return -1;
			fill = 0;
		}
	}
	return 0;
}

static FILE *open_out(const char *dir, const char *name, char *path,
		      size_t path_len)
{
	FILE *f;

	if ((size_t)snprintf(path, path_len, "%s/%s", dir, name) >= path_len) {
		fprintf(stderr, "genpolicy: path too long: %s/%s\n", dir, name);
		return NULL;
	}
	f = fopen(path, "wb");
	if (!f)
		fprintf(stderr, "genpolicy: %s: %s\n", path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path)
{
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "genpolicy: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || !*s || *end || *v < min || *v > max ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t n, seed, count, granted;
	unsigned long rules;
	char path[4096];
	struct gen g;
	FILE *f;
	int ret = 1;

	if (argc != 5 || parse_u64(argv[1], 2, N_MAX, &n) ||
	    parse_u64(argv[2], 0, UINT64_MAX, &seed) ||
	    parse_u64(argv[4], 1, PAIRS_MAX, &count)) {
		fprintf(stderr, "usage: genpolicy N SEED OUTDIR PAIRS\n"
				"  2 <= N <= %u, 1 <= PAIRS <= %u\n",
			N_MAX, PAIRS_MAX);
		return 2;
	}
	if (gen_init(&g, (uint32_t)n, seed)) {
		fprintf(stderr, "genpolicy: out of memory\n");
		goto out;
	}

	if (!(f = open_out(argv[3], "policy.xml", path, sizeof(path))))
		goto out;
	write_xml(&g, f);
	if (close_out(f, path))
		goto out;

	if (!(f = open_out(argv[3], "policy.conf", path, sizeof(path))))
		goto out;
	rules = write_conf(&g, f);
	if (close_out(f, path))
		goto out;

	if (!(f = open_out(argv[3], "pairs.bin", path, sizeof(path))))
		goto out;
	if (write_pairs(&g, f, (uint32_t)count, &granted)) {
		fclose(f);
		fprintf(stderr, "genpolicy: writing %s failed\n", path);
		goto out;
	}
	if (close_out(f, path))
		goto out;

	printf("types %" PRIu64 "\n", n);
	printf("te_rules %lu\n", rules);
	printf("cw_types %u\n", g.n_cw + 1);
	printf("conflict_sets %u\n", g.n_sets);
	printf("pairs %" PRIu64 "\n", count);
	printf("granted_fraction %.6f\n", (double)granted / (double)count);
	ret = 0;
out:
	gen_free(&g);
	return ret;
}
