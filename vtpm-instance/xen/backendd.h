/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backendd.h - private to hvsec-vtpm-backendd (vtpm-instance/xen/), the
 * dom0 dispatcher of vTPM backends on a real Xen host (docs/vtpm-xen.md):
 *
 *   backendd_args.c   the command line
 *   backendd_judge.c  what one device's toolstack nodes mean: serve it,
 *                     wait, leave it alone, or refuse it (pure)
 *   backendd_scan.c   the table of devices, rescanned from XenStore on
 *                     every watch event; state directories; error nodes
 *   backendd_child.c  one hvsec-vtpmd-xen per device: spawn, its output,
 *                     reaping, stopping
 *   backendd_main.c   set-up, the poll loop, signals
 *
 * Identity: the frontend's domid G and device number N come from the
 * names of the backend directory's entries (made by the toolstack), the
 * vTPM's UUID from the toolstack's /libxl copy (XSA-175/178), never from
 * anything a guest writes.  Single-threaded (libxenstore's reader thread
 * aside, which touches none of this).
 */
#ifndef HVSEC_VTPM_BACKENDD_H
#define HVSEC_VTPM_BACKENDD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vtpm-instance/vtpmd.h" /* the strict parsers, VTPMD_*_MAX */

struct xs_handle;

#define BD_STATE_ROOT_DEFAULT "/var/lib/hvsec/vtpm"
#define BD_VTPMD_NAME	      "hvsec-vtpmd-xen"
#define BD_DEVS_MAX	      128u  /* devices tracked at once */
#define BD_STOP_GRACE_MS      5000u /* SIGTERM, then SIGKILL */
/* After online=0, a backend that has not written Closed by itself within
 * this is stopped (libxl gives up after 10 s). */
#define BD_REMOVE_GRACE_MS 2000u
#define BD_PATH_MAX	   256u		    /* state root, our binary's path */
#define BD_TOKEN	   "hvsec-backendd" /* the backend directory */
#define BD_TOKEN_LIBXL	   "hvsec-backendd-lx" /* a waiting /libxl dir */

/* -------------------------------------------------------- command line */

struct bd_cfg {
	const char *log_path;	/* argv's; NULL: stdout */
	const char *state_root; /* argv's or BD_STATE_ROOT_DEFAULT */
	bool once;		/* --once-for G/N */
	uint32_t once_g, once_n;
	bool help;
};

/* 0, or -EINVAL with why naming the option at fault.  Does not print. */
int bd_parse_args(int argc, char **argv, struct bd_cfg *cfg, char *why,
		  size_t why_len);
/* "G/N": two strict decimals (vtpmd_parse_u32), G a domid, N a device
 * number.  0 or -EINVAL. */
int bd_parse_devspec(const char *s, uint32_t *g, uint32_t *n);

/* ------------------------------------------------------------- judge */

/* One node as read: rc 0 and its value, or rc -errno (-ENOENT absent,
 * -EACCES hidden from us, -E2BIG longer than we read). */
struct bd_node {
	int rc;
	const char *val; /* valid when rc == 0 */
};

/* What the toolstack wrote for backend/vtpm/G/N (and /libxl/G/...). */
struct bd_nodes {
	uint32_t g, n;		    /* from the entry names */
	struct bd_node online;	    /* backend dir */
	struct bd_node state;	    /* backend dir */
	struct bd_node frontend_id; /* backend dir */
	struct bd_node be_uuid;	    /* backend dir (dom0's or ours) */
	struct bd_node lx_uuid;	    /* /libxl/G/device/vtpm/N (dom0 only) */
};

enum bd_verdict {
	BD_WAIT,   /* not complete yet: judge again at the next event */
	BD_LEAVE,  /* not ours to start (offline, or served already) */
	BD_REFUSE, /* the toolstack's nodes are wrong: say so in `error` */
	BD_SERVE,  /* start a backend for it with this uuid */
};

struct bd_judgement {
	enum bd_verdict v;
	char uuid[VTPMD_UUID_LEN + 1]; /* BD_SERVE: lowercase */
	const char *uuid_from;	       /* BD_SERVE: "/libxl" or "backend" */
	char why[192];		       /* all but BD_SERVE */
};

/* Decides in this order, the first that applies winning: `online`
 * (absent: wait; not "1": leave), `state` (absent: wait; "1" is the
 * toolstack's Initialising, anything else means a backend ran already:
 * leave), `frontend-id` (absent: wait; must be G: refuse), then the uuid:
 * each copy that exists must be a UUID other than the nil one, both must
 * agree, the /libxl one is preferred, neither: wait. */
void bd_judge(const struct bd_nodes *in, struct bd_judgement *out);

/* Whether a served device's toolstack asks for it to be removed: online
 * was written "0" (libxl writes it with state=Closing and then waits for
 * Closed). */
bool bd_removal_requested(const struct bd_node *online);

/* "exited with status 3", "killed by signal 11 (core dumped)". */
void bd_describe_status(int status, char *out, size_t out_len);

/* ---------------------------------------------------------- the table */

enum bd_dev_state {
	BD_DEV_FREE = 0,
	BD_DEV_WAITING,	 /* judged BD_WAIT */
	BD_DEV_LEFT,	 /* judged BD_LEAVE: left alone while it exists */
	BD_DEV_REFUSED,	 /* judged BD_REFUSE, or the spawn failed */
	BD_DEV_RUNNING,	 /* a child serves it */
	BD_DEV_STOPPING, /* SIGTERM sent (removal, or our shutdown) */
	BD_DEV_EXITED,	 /* its child ended; never restarted */
};

struct bd_dev {
	enum bd_dev_state st;
	uint32_t g, n;
	char uuid[VTPMD_UUID_LEN + 1]; /* once served */
	bool seen;		       /* its directory was in the last scan */
	bool lx_watched;	       /* BD_TOKEN_LIBXL set on its /libxl */
	char last_why[192];	       /* what was logged last for it */
	uint64_t remove_at;  /* RUNNING, online=0 seen: when to stop it */
	bool closed_written; /* we wrote Closed for it (ended/refused) */

	/* The child: pid > 0 until reaped; out_fd its stdout+stderr
	 * (read end, non-blocking) until EOF. */
	pid_t pid;
	int out_fd;
	size_t out_len;
	char out[512]; /* a partial line */
	int status;    /* waitpid's, once reaped */
	bool reaped;
};

struct bd {
	struct bd_cfg cfg;
	struct xs_handle *xs;
	uint32_t self;
	char base[64];		      /* /local/domain/SELF/backend/vtpm */
	char vtpmd_path[BD_PATH_MAX]; /* BD_VTPMD_NAME next to our binary */
	char state_root[BD_PATH_MAX]; /* absolute */
	int root_fd; /* O_DIRECTORY, flock'ed: one of us per root */
	struct bd_dev devs[BD_DEVS_MAX];

	bool stopping; /* SIGTERM: children told, waiting for them */
	bool done;
	int exit_code;
};

/* backendd_scan.c */
/* Re-reads the backend directory and acts on every device in it. */
void bd_scan(struct bd *b);
/* The child of d ended (reaped, output drained): log it, tell the
 * toolstack when it failed, and, with --once-for, finish. */
void bd_child_ended(struct bd *b, struct bd_dev *d);
/* Frees the entries whose directory is gone and whose child is gone. */
void bd_forget_gone(struct bd *b);
/* Acts on removals whose grace ran out; ms until the next one, or -1. */
int bd_tick(struct bd *b);

/* backendd_child.c */
/* Starts hvsec-vtpmd-xen for d (d->uuid set).  0 or -errno (why says). */
int bd_child_spawn(struct bd *b, struct bd_dev *d, const char *state_dir,
		   char *why, size_t why_len);
/* Reads what the child printed and logs it line by line, "[G/N] ...".
 * At EOF, flushes a partial line and closes the pipe. */
void bd_child_output(struct bd_dev *d);
/* Reaps every child that ended; calls bd_child_ended for each. */
void bd_child_reap(struct bd *b);
/* SIGTERM (or SIGKILL) to d's child, if it still runs. */
void bd_child_signal(struct bd_dev *d, int sig);

/* backendd_main.c */
void bd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t bd_now_ms(void); /* CLOCK_MONOTONIC */

#endif /* HVSEC_VTPM_BACKENDD_H */
