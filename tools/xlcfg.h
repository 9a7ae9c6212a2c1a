/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xlcfg.h - the toolstack's domain configuration parser: xl.cfg(5) syntax,
 * the keys hvsec uses, and resource names in canonical form.
 *
 * Syntax (as xl's own parser): `KEY = VALUE` or `KEY += VALUE`, statements
 * ended by a newline or ';'; KEY is [a-z][a-z0-9_]*; a VALUE is a string in
 * single or double quotes (C escapes \n \t \" \' \\ \xHH \NNN), a number
 * (decimal, 0 octal, 0x hex) or a list `[ VALUE, ... ]` that may span lines
 * and end with a comma; `#` starts a comment.  The last assignment of a
 * key wins (a warning says so); `+=` appends to a list or string.
 *
 * Keys understood (others are warnings, and ignored):
 *   name, uuid, type, kernel (the guest program), extra (its arguments),
 *   ramdisk, cmdline, root, memory, maxmem (MiB), vcpus, maxvcpus,
 *   on_poweroff, on_reboot, on_watchdog, on_crash, on_soft_reset,
 *   seclabel = "ACM:POLICY:LABEL", access_control = ['policy=P,label=L']
 *   (xm's form; both may be given if they agree),
 *   disk = [...] (xl-disk-configuration(5): positional
 *   'target,format,vdev,access', key=value, flags, 'target=' last, and the
 *   deprecated 'phy:/dev/vg/x,xvda,w' / 'file:/img,hda:cdrom,r' forms),
 *   vif = ['mac=..,bridge=..,..'], vtpm = ['backend=..,uuid=..'].
 *
 * Resources are labelled by the toolstack's resource-label store (as xm's
 * `addlabel LABEL res RESOURCE`), keyed by the canonical resource string;
 * this parser only names them: every disk, vif and vTPM gets `resource`,
 * canonical as xlcfg_canonical_resource makes it.
 *
 * Hostile input: the file is at most XLCFG_MAX_FILE bytes and each line at
 * most XLCFG_MAX_LINE; lists hold at most XLCFG_MAX_ITEMS values, nested
 * XLCFG_MAX_DEPTH deep; every problem is a diagnostic
 * "FILE:LINE: error: KEY: message" (or "warning:"), never a crash, and
 * after XLCFG_MAX_DIAGS of them the parser gives up.
 */
#ifndef HVSEC_TOOLS_XLCFG_H
#define HVSEC_TOOLS_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define XLCFG_MAX_FILE	   (1u << 20) /* bytes */
#define XLCFG_MAX_LINE	   4096u      /* bytes, without the newline */
#define XLCFG_MAX_ITEMS	   256u	      /* values in one list */
#define XLCFG_MAX_DEPTH	   4u	      /* lists in lists */
#define XLCFG_MAX_DIAGS	   50u	      /* then "too many errors" */
#define XLCFG_NAME_MAX	   255u	      /* policy and label names, as ACM */
#define XLCFG_RESOURCE_MAX 4096u      /* canonical resource string */

/* ------------------------------------------------------------ diagnostics */

struct xlcfg_diag {
	bool error;    /* else a warning */
	unsigned line; /* 0: the file as a whole */
	char *text;    /* "FILE:LINE: error: message", no newline */
};

struct xlcfg_diags {
	struct xlcfg_diag *v;
	size_t n, cap;
	size_t n_errors, n_warnings;
	bool oom; /* a diagnostic was lost for lack of memory */
};

void xlcfg_diags_print(const struct xlcfg_diags *d, FILE *out);
void xlcfg_diags_free(struct xlcfg_diags *d);

/* ------------------------------------------------------------ the config */

enum xlcfg_action {
	XLCFG_ACTION_DEFAULT = 0, /* not given: the toolstack's default */
	XLCFG_ACTION_DESTROY,
	XLCFG_ACTION_RESTART,
	XLCFG_ACTION_RENAME_RESTART,
	XLCFG_ACTION_PRESERVE,
	XLCFG_ACTION_COREDUMP_DESTROY,
	XLCFG_ACTION_COREDUMP_RESTART,
	XLCFG_ACTION_SOFT_RESET,
};
const char *xlcfg_action_name(enum xlcfg_action a);

enum xlcfg_disk_format {
	XLCFG_FMT_RAW = 0,
	XLCFG_FMT_QCOW,
	XLCFG_FMT_QCOW2,
	XLCFG_FMT_VHD,
	XLCFG_FMT_QED,
	XLCFG_FMT_EMPTY,
};

struct xlcfg_disk {
	unsigned line;
	char *spec;	/* as written */
	char *target;	/* path after deprecated prefixes; "" = empty cdrom */
	char *resource; /* canonical ("phy:/dev/vg/x", "file:/img"),
			 * NULL for an empty cdrom */
	char *vdev;	/* "xvda", mandatory */
	enum xlcfg_disk_format format;
	bool readonly; /* access ro/r, or a cdrom's default */
	bool cdrom;
	char *backend;	   /* backend domain name, NULL: dom0 */
	char *backendtype; /* "phy", "tap", "qdisk", "standalone" or NULL */
	char *script;	   /* block script, NULL if none */
};

struct xlcfg_vif {
	unsigned line;
	char *spec;
	char *mac, *bridge, *ip, *backend, *vifname, *script, *model, *type;
	char *resource; /* "vlan:N" for bridge "BR.N", else "bridge:BR"
			 * (xenbr0 when no bridge is given) */
};

struct xlcfg_vtpm {
	unsigned line;
	char *spec;
	char *backend;	/* backend (vTPM manager) domain, NULL: default */
	char *uuid;	/* canonical lowercase, NULL if not given */
	char *resource; /* "vtpm:UUID", NULL without a uuid */
	char *backend_label; /* hvsec: the vTPM stub domain's label, NULL:
			      * the guest's own */
	/* hvsec: manager=yes|no, state sealed by the vTPM manager domain
	 * (docs/vtpm.md "Manager mode"); 0 when not given: yes when a
	 * manager is registered. */
	int manager; /* 0 default, 1 yes, -1 no */
};

struct xlcfg {
	char *path;
	char *name;
	unsigned name_line;
	bool has_uuid;
	uint8_t uuid[16];
	char uuid_str[37]; /* canonical lowercase */
	char *type;	   /* "pv", "pvh", "hvm" or NULL */
	char *kernel;	   /* the guest program; required */
	char *extra;	   /* its arguments, NULL if none */
	char *ramdisk, *cmdline, *root;
	uint64_t memory; /* MiB, 0: not given */
	uint64_t maxmem;
	uint32_t vcpus; /* 0: not given */
	uint32_t maxvcpus;
	enum xlcfg_action on_poweroff, on_reboot, on_watchdog, on_crash,
		on_soft_reset;
	/* The ACM security label, from seclabel or access_control. */
	bool has_label;
	char *policy;
	char *label;
	unsigned label_line;
	struct xlcfg_disk *disks;
	size_t n_disks;
	struct xlcfg_vif *vifs;
	size_t n_vifs;
	struct xlcfg_vtpm *vtpms;
	size_t n_vtpms;
};

/* Parses a file (path used in messages) or a buffer.  Returns 0 and fills
 * *out (warnings may be in *d), or -1 with *out empty and the errors in
 * *d.  *d must start zeroed; free it with xlcfg_diags_free, and *out with
 * xlcfg_free. */
int xlcfg_parse_file(const char *path, struct xlcfg *out,
		     struct xlcfg_diags *d);
int xlcfg_parse_mem(const char *buf, size_t len, const char *path,
		    struct xlcfg *out, struct xlcfg_diags *d);
void xlcfg_free(struct xlcfg *c);

/* ------------------------------------------------------------ resources */

/* Follow symlinks (realpath(3)): the resource must exist.  Without it the
 * name is made canonical lexically ("//", "." and ".." folded), which is
 * what a parser can do; the toolstack resolves before it looks a label up,
 * so that a symlink cannot give a labelled disk another, unlabelled name. */
#define XLCFG_CANON_RESOLVE 1u

/* Canonical resource string, as the resource-label store keys it:
 *   phy:/dev/...    block devices ("phy:vg/x" means /dev/vg/x; a bare
 *                   "/dev/..." is phy)
 *   file:/abs/path  image files (also from "tap:aio:", "tap2:", "aio:",
 *                   "tapdisk:", "ioemu:" and "raw:"/"qcow:"/"qcow2:"/"vhd:"
 *                   prefixes, and a bare absolute path not under /dev)
 *   vlan:N          N in 1..4095, no leading zeros
 *   bridge:NAME     a network bridge (1-15 of [A-Za-z0-9_.-])
 *   vtpm:UUID       a vTPM instance, lowercase
 * Returns 0, or -1 with the reason in why (both buffers always
 * NUL-terminated when their length is not 0). */
int xlcfg_canonical_resource(const char *in, unsigned flags, char *out,
			     size_t out_len, char *why, size_t why_len);

#endif /* HVSEC_TOOLS_XLCFG_H */
