/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * polc.h - the whole interface of the policy compiler library (libpolc).
 *
 * Pipeline:  XML file --polc_parse_xml--> struct polc_policy (names, lines)
 *            --polc_check--> diagnostics (FILE:LINE: message)
 *            --polc_emit--> binary blob (docs/formats.md), deterministic
 *   and back: blob --acm_policy_load + polc_from_acm--> struct polc_policy
 *            --polc_write_xml--> XML that compiles to identical bytes
 *            --polc_write_dot--> Graphviz DOT
 *
 * The model keeps names, not indexes: ordering, numbering and ids are the
 * emitter's job, so every front end produces the same bytes for the same
 * policy whatever the order of elements in the source.
 */
#ifndef HVSEC_POLC_H
#define HVSEC_POLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "acm/acm.h"

/* A name as written in the source, with the line it came from (0 when the
 * policy came from a blob). */
struct polc_name {
	char *name;
	unsigned line;
};

struct polc_names {
	struct polc_name *v;
	size_t n, cap;
};

struct polc_label {
	struct polc_name name;
	char *from;                /* Name@from, NULL if none */
	enum acm_label_kind kind;  /* ACM_LABEL_VM or ACM_LABEL_RESOURCE */
	struct polc_names ste;     /* STE type names (as written) */
	struct polc_names cw;      /* CHWALL type names (VM labels only) */
};

struct polc_conflict {
	struct polc_name name;     /* Conflict@name */
	struct polc_names types;   /* CHWALL type names */
};

struct polc_policy {
	char *path;                /* source file, for diagnostics */
	struct polc_name name;     /* PolicyHeader/PolicyName */
	bool has_version;
	uint32_t version_major, version_minor;
	unsigned version_line;
	bool has_from;
	char *from_name;
	uint32_t from_major, from_minor;
	unsigned from_line;        /* line of FromPolicy (0 if none) */
	char *url, *reference, *date, *namespace_url; /* NULL if absent */
	/* lines of the four elements above, for diagnostics */
	unsigned url_line, reference_line, date_line, namespace_url_line;

	bool has_ste, has_cw;      /* component elements present */
	bool ste_priority, cw_priority; /* priority="PrimaryPolicyComponent" */
	struct polc_names ste_types;
	struct polc_names cw_types;
	struct polc_conflict *conflicts;
	size_t n_conflicts, cap_conflicts;

	struct polc_name bootstrap; /* SubjectLabels@bootstrap */
	struct polc_label *labels;  /* VM and resource labels, source order */
	size_t n_labels, cap_labels;
};

void polc_policy_free(struct polc_policy *p);

/* ---- diagnostics ---- */

enum polc_severity { POLC_WARNING, POLC_ERROR };

struct polc_diag {
	enum polc_severity severity;
	unsigned line;            /* 0: whole file */
	char *message;
};

struct polc_diags {
	const char *path;         /* printed as the FILE part */
	struct polc_diag *v;
	size_t n, cap;
	size_t n_errors, n_warnings;
};

void polc_diag_add(struct polc_diags *d, enum polc_severity sev,
		   unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints "FILE:LINE: error: message" (or warning), one per line. */
void polc_diags_print(const struct polc_diags *d, FILE *out);
void polc_diags_free(struct polc_diags *d);

/* ---- XML front end (libxml2) ---- */

struct polc_parse_opts {
	const char *xsd_path;     /* NULL: the installed/built-in schema */
	size_t max_file_bytes;    /* 0: default 16 MiB */
};

/* Parses and schema-validates `path`.  Returns 0 and fills *out, or -1
 * with errors (FILE:LINE) in *diags and *out zeroed.  Never crashes on
 * hostile input: no network, no DOCTYPE (so no entities at all), bounded
 * size.  When diags->path is NULL it is set to `path` (not copied: keep
 * the string alive while the diagnostics are printed). */
int polc_parse_xml(const char *path, const struct polc_parse_opts *opts,
		   struct polc_policy *out, struct polc_diags *diags);
/* Same, from memory (fuzzing, tests). `path` is only used in messages. */
int polc_parse_xml_mem(const char *buf, size_t len, const char *path,
		       const struct polc_parse_opts *opts,
		       struct polc_policy *out, struct polc_diags *diags);

/* ---- semantic checks ---- */

struct polc_check_opts {
	/* A label holding two CHWALL types of one conflict set is an error by
	 * default; this downgrades it to a warning (Xen accepted it). */
	bool self_conflict_is_warning;
};

/* Reports every problem found (docs/formats.md section 4.3), sorted by
 * line.  Returns the number of errors added to *diags (warnings do not
 * count).  When diags->path is NULL it is set to p->path. */
size_t polc_check(const struct polc_policy *p,
		  const struct polc_check_opts *opts, struct polc_diags *diags);

/* ---- emitter ---- */

/* Canonical text of the policy (docs/formats.md "Canonical form"), whose
 * SHA-256 is the policy's source hash.  Caller frees *text. */
int polc_canonical(const struct polc_policy *p, char **text, size_t *len);

/* Emits the binary policy.  The policy must have passed polc_check.
 * Caller frees *blob.  Deterministic. Returns 0 or -1 (out of memory or a
 * limit of the format exceeded, explained in *diags). */
int polc_emit(const struct polc_policy *p, uint8_t **blob, size_t *len,
	      struct polc_diags *diags);

/* Stable label id (docs/formats.md): before collision resolution.
 * Returns 0 (never a valid seed) only if OpenSSL fails (out of memory). */
uint32_t polc_label_id_seed(enum acm_label_kind kind, const char *name);

/* ---- back ends ---- */

/* Rebuilds a model from a loaded policy (for decompile and graph). */
int polc_from_acm(const struct acm_policy *ap, struct polc_policy *out);
/* Writes XML that validates against our XSD and compiles back to the same
 * bytes. */
int polc_write_xml(const struct polc_policy *p, FILE *out);
/* Writes a Graphviz DOT graph: labels, types, conflict edges. */
int polc_write_dot(const struct polc_policy *p, FILE *out);

/* ---- file helpers ---- */

/* Reads a whole file (bounded by max_bytes) into a malloc'd, 8-aligned
 * buffer with a NUL after the data (not counted in *len).  Returns 0, or
 * -1 with errno set (EFBIG above max_bytes, EISDIR for a directory). */
int polc_read_file(const char *path, size_t max_bytes, uint8_t **buf,
		   size_t *len);
/* Writes atomically: temp file in the same directory (mode 0666 less the
 * umask), fsync, rename, fsync of the directory.  Returns 0, or -1 with
 * errno set; the target is untouched unless only that last fsync failed. */
int polc_write_file_atomic(const char *path, const void *buf, size_t len);

#endif /* HVSEC_POLC_H */
