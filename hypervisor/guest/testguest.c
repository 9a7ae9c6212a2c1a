/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvsec-testguest - the lab guest: runs the script of actions given as
 * its arguments (the config's `extra`) and reports each on its console,
 * one line per action:
 *
 *   <action>: ok [details]
 *   <action>: error -EACCES (Permission denied) [details]
 *
 * Actions (DOM is a domain id; "the port" is the last one offered or
 * bound, "the mapping" the last one mapped):
 *   whoami              print domid, name, label, ssidref
 *   offer:DOM           alloc_unbound to DOM; publish the port at
 *                       data/port-for-DOM (readable by DOM only)
 *   bind:DOM            read /local/domain/DOM/data/port-for-ME, bind it
 *   send                notify the peer of the port
 *   wait[:MS]           wait for a notification (default 5000 ms)
 *   status              event-channel status of the port
 *   close               close the port
 *   grant:DOM[:ro]      share a new page (text "page of <ME>") with DOM;
 *                       publish the gref at data/gref-for-DOM
 *   map:DOM[:ro|rw]     map DOM's grant to me and print its text; rw also
 *                       writes "written by <ME>" into it
 *   unmap               unmap the mapping
 *   tryrw               try to make the mapping writable (must fail when
 *                       it was mapped read-only)
 *   peek                print the text of my own granted page
 *   endgrant            end access to my last grant
 *   copy:DOM            grant copy from DOM's grant into a page of mine
 *   transfer:DOM        transfer a page (text "gift from <ME>") to DOM
 *   take[:MS]           receive a transferred page, print its text
 *   write:PATH=VAL      XenStore write (relative paths are under my home)
 *   read:PATH           XenStore read
 *   watch:PATH[:MS]     wait until PATH exists (a XenStore watch)
 *   rm:PATH             XenStore remove
 *   txn:PATH=VAL        write inside a XenStore transaction, commit
 *   connect:DOM:CLASS:RESOURCE     as a backend, connect RESOURCE (class
 *                       disk, vif or vtpm; canonical, e.g. file:/img,
 *                       vlan:20, vtpm:UUID) to frontend DOM
 *   disconnect:DOM:CLASS:RESOURCE  disconnect it again
 *   connect-vlans:DOM:FIRST:COUNT  connect vifs vlan:FIRST.. to DOM, COUNT
 *                       of them, until the first error (for the bounds)
 *   garbage[:N]         send N malformed hypercalls (default 1)
 *   sleep:MS            sleep
 *   spin:MS             use MS of CPU time (for the CPU-time column)
 *   hold                sleep until destroyed
 *   shutdown[:REASON]   SCHEDOP_shutdown (poweroff|reboot|crash)
 *   exit:CODE           exit now with CODE
 *   crash               die by SIGSEGV
 * The script stops at the end (exit 0).  Errors do not stop it: a lab
 * shows the denial and goes on.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "hypervisor/guest/hvguest.h"

struct tg {
	struct hvg *g;
	struct xs_handle *xs;
	uint32_t me;
	uint32_t port;
	struct hvg_page page;
	uint32_t gref;
	bool have_grant;
	struct hvg_mapping map;
	bool have_map;
};

static void ok(const char *act, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ok(const char *act, const char *fmt, ...)
{
	char buf[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	hvg_console("%s: ok%s%s", act, buf[0] ? " " : "", buf);
}

static void fail(const char *act, int err, const char *what)
{
	hvg_console("%s: error -%s%s%s", act, hvg_strerror(err),
		    what ? " " : "", what ? what : "");
}

static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long n;

	if (!s || !*s)
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || (*end && *end != ':') || n > UINT32_MAX)
		return false;
	*v = (uint32_t)n;
	return true;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Writes a node only `reader` (besides me and dom0) may read.  Value and
 * permissions go in one transaction: the reader, watching for the node,
 * must never see it with the default (owner-only) permissions. */
static int publish(struct tg *t, const char *name, uint32_t reader,
		   uint32_t val)
{
	char path[128], v[32];
	struct xs_permissions perms[2] = {
		{.id = t->me, .perms = XS_PERM_NONE},
		{.id = reader, .perms = XS_PERM_READ},
	};

	snprintf(path, sizeof(path), "/local/domain/%u/data/%s-for-%u", t->me,
		 name, reader);
	snprintf(v, sizeof(v), "%u", val);
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t tx = xs_transaction_start(t->xs);

		if (tx == XBT_NULL)
			return -(errno ? errno : EIO);
		if (!xs_write(t->xs, tx, path, v, strlen(v)) ||
		    !xs_set_permissions(t->xs, tx, path, perms, 2)) {
			int e = errno ? errno : EIO;

			xs_transaction_end(t->xs, tx, true);
			return -e;
		}
		if (xs_transaction_end(t->xs, tx, false))
			return 0;
		if (errno != EAGAIN)
			return -(errno ? errno : EIO);
	}
	return -EAGAIN;
}

static int lookup(struct tg *t, const char *name, uint32_t owner, uint32_t *val)
{
	char path[128], buf[32];
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u/data/%s-for-%u", owner,
		 name, t->me);
	rc = hvg_xs_wait_read(t->xs, path, buf, sizeof(buf), 5000);
	if (rc)
		return rc;
	return parse_u32(buf, val) ? 0 : -EINVAL;
}

static const char *arg_of(const char *act)
{
	const char *c = strchr(act, ':');

	return c ? c + 1 : NULL;
}

static void abs_path(struct tg *t, const char *p, char *out, size_t len)
{
	if (p[0] == '/' || p[0] == '@')
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "/local/domain/%u/%.900s", t->me, p);
}

static void act_evtchn(struct tg *t, const char *act)
{
	const char *a = arg_of(act);
	uint32_t dom, port, ms = 5000;
	int rc;

	if (!strncmp(act, "offer:", 6)) {
		if (!parse_u32(a, &dom))
			return fail(act, -EINVAL, "(bad domain)");
		rc = hvg_evtchn_alloc_unbound(t->g, dom, &port);
		if (rc)
			return fail(act, rc, NULL);
		t->port = port;
		rc = publish(t, "port", dom, port);
		if (rc)
			return fail(act, rc, "(publishing the port)");
		ok(act, "port %u", port);
	} else if (!strncmp(act, "bind:", 5)) {
		uint32_t rport;

		if (!parse_u32(a, &dom))
			return fail(act, -EINVAL, "(bad domain)");
		rc = lookup(t, "port", dom, &rport);
		if (rc)
			return fail(act, rc, "(reading the peer's port)");
		rc = hvg_evtchn_bind(t->g, dom, rport, &port);
		if (rc)
			return fail(act, rc, NULL);
		t->port = port;
		ok(act, "port %u -> domain %u port %u", port, dom, rport);
	} else if (!strcmp(act, "send")) {
		rc = hvg_evtchn_send(t->g, t->port);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "port %u", t->port);
	} else if (!strncmp(act, "wait", 4)) {
		if (a && !parse_u32(a, &ms))
			return fail(act, -EINVAL, NULL);
		rc = hvg_evtchn_wait(t->g, t->port, (int)ms);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "port %u notified", t->port);
	} else if (!strcmp(act, "status")) {
		struct hv_rep_evtchn_status st;
		static const char *const names[] = {"closed", "unbound",
						    "interdomain"};

		rc = hvg_evtchn_status(t->g, t->port, &st);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "port %u %s remote %u port %u", t->port,
		   st.status < 3 ? names[st.status] : "?", st.remote_dom,
		   st.remote_port);
	} else if (!strcmp(act, "close")) {
		rc = hvg_evtchn_close(t->g, t->port);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "port %u", t->port);
	}
}

static void act_grant(struct tg *t, const char *act)
{
	const char *a = arg_of(act);
	uint32_t dom, gref;
	int rc;

	if (!strncmp(act, "grant:", 6)) {
		bool ro = a && strstr(a, ":ro");

		if (!parse_u32(a, &dom))
			return fail(act, -EINVAL, "(bad domain)");
		if (!t->page.addr) {
			rc = hvg_page_alloc(&t->page);
			if (rc)
				return fail(act, rc, "(page)");
			snprintf(t->page.addr, 64, "page of %u", t->me);
		}
		rc = hvg_grant(t->g, &t->page, dom, ro, &gref);
		if (rc)
			return fail(act, rc, NULL);
		t->gref = gref;
		t->have_grant = true;
		rc = publish(t, "gref", dom, gref);
		if (rc)
			return fail(act, rc, "(publishing the gref)");
		ok(act, "gref %u%s", gref, ro ? " read-only" : "");
	} else if (!strncmp(act, "map:", 4)) {
		bool ro = !(a && strstr(a, ":rw"));

		if (!parse_u32(a, &dom))
			return fail(act, -EINVAL, "(bad domain)");
		rc = lookup(t, "gref", dom, &gref);
		if (rc)
			return fail(act, rc, "(reading the peer's gref)");
		if (t->have_map)
			hvg_unmap(t->g, &t->map);
		t->have_map = false;
		rc = hvg_map(t->g, dom, gref, ro, &t->map);
		if (rc)
			return fail(act, rc, NULL);
		t->have_map = true;
		char text[64];
		snprintf(text, sizeof(text), "%s", (const char *)t->map.addr);
		if (!ro)
			snprintf(t->map.addr, 64, "written by %u", t->me);
		ok(act, "handle %u %s text \"%s\"", t->map.handle,
		   ro ? "ro" : "rw", text);
	} else if (!strcmp(act, "unmap")) {
		if (!t->have_map)
			return fail(act, -ENOENT, "(nothing mapped)");
		rc = hvg_unmap(t->g, &t->map);
		t->have_map = false;
		if (rc)
			return fail(act, rc, NULL);
		ok(act, NULL);
	} else if (!strcmp(act, "tryrw")) {
		if (!t->have_map)
			return fail(act, -ENOENT, "(nothing mapped)");
		if (mprotect(t->map.addr, HV_PAGE_SIZE,
			     PROT_READ | PROT_WRITE) == 0)
			return fail(act, -EPERM,
				    "(a read-only mapping became writable)");
		ok(act, "write refused (%s)", strerror(errno));
	} else if (!strcmp(act, "peek")) {
		if (!t->page.addr)
			return fail(act, -ENOENT, "(no page)");
		ok(act, "text \"%.63s\"", (const char *)t->page.addr);
	} else if (!strcmp(act, "endgrant")) {
		if (!t->have_grant)
			return fail(act, -ENOENT, "(no grant)");
		rc = hvg_grant_end(t->g, t->gref);
		if (rc)
			return fail(act, rc, NULL);
		t->have_grant = false;
		ok(act, "gref %u", t->gref);
	} else if (!strncmp(act, "copy:", 5)) {
		struct hvg_page mine;
		struct hv_gnt_seg src, dst;
		uint32_t my_gref;

		if (!parse_u32(a, &dom))
			return fail(act, -EINVAL, "(bad domain)");
		rc = lookup(t, "gref", dom, &gref);
		if (rc)
			return fail(act, rc, "(reading the peer's gref)");
		rc = hvg_page_alloc(&mine);
		if (rc)
			return fail(act, rc, "(page)");
		rc = hvg_grant(t->g, &mine, t->me, false, &my_gref);
		if (rc) {
			hvg_page_free(&mine);
			return fail(act, rc, "(granting my own page)");
		}
		src = (struct hv_gnt_seg){dom, gref, 0};
		dst = (struct hv_gnt_seg){HV_DOMID_SELF, my_gref, 0};
		rc = hvg_copy(t->g, &src, &dst, 64);
		if (rc)
			fail(act, rc, NULL);
		else
			ok(act, "text \"%.63s\"", (const char *)mine.addr);
		hvg_grant_end(t->g, my_gref);
		hvg_page_free(&mine);
	} else if (!strncmp(act, "transfer:", 9)) {
		struct hvg_page pg;

		if (!parse_u32(a, &dom))
			return fail(act, -EINVAL, "(bad domain)");
		rc = hvg_page_alloc(&pg);
		if (rc)
			return fail(act, rc, "(page)");
		snprintf(pg.addr, 64, "gift from %u", t->me);
		rc = hvg_transfer(t->g, dom, &pg);
		hvg_page_free(&pg);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "to domain %u", dom);
	} else if (!strncmp(act, "take", 4)) {
		struct hvg_page pg;
		uint32_t from, ms = 5000;

		if (a && !parse_u32(a, &ms))
			return fail(act, -EINVAL, NULL);
		rc = hvg_take_transfer(t->g, &from, &pg, (int)ms);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "from domain %u text \"%.63s\"", from,
		   (const char *)pg.addr);
		hvg_page_free(&pg);
	}
}

static void act_xs(struct tg *t, const char *act)
{
	const char *a = arg_of(act);
	char path[1024], buf[1024];
	int rc;

	if (!a || !*a)
		return fail(act, -EINVAL, "(no path)");
	if (!strncmp(act, "write:", 6)) {
		const char *eq = strchr(a, '=');
		char p[1024];

		if (!eq || (size_t)(eq - a) >= sizeof(p))
			return fail(act, -EINVAL, "(PATH=VALUE)");
		memcpy(p, a, (size_t)(eq - a));
		p[eq - a] = '\0';
		abs_path(t, p, path, sizeof(path));
		rc = hvg_xs_write(t->xs, path, eq + 1);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "%s", path);
	} else if (!strncmp(act, "read:", 5)) {
		abs_path(t, a, path, sizeof(path));
		rc = hvg_xs_read(t->xs, path, buf, sizeof(buf));
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "%s = \"%s\"", path, buf);
	} else if (!strncmp(act, "rm:", 3)) {
		abs_path(t, a, path, sizeof(path));
		if (!xs_rm(t->xs, XBT_NULL, path))
			return fail(act, -(errno ? errno : EIO), NULL);
		ok(act, "%s", path);
	} else if (!strncmp(act, "txn:", 4)) {
		const char *eq = strchr(a, '=');
		char p[1024];
		xs_transaction_t tx;

		if (!eq || (size_t)(eq - a) >= sizeof(p))
			return fail(act, -EINVAL, "(PATH=VALUE)");
		memcpy(p, a, (size_t)(eq - a));
		p[eq - a] = '\0';
		abs_path(t, p, path, sizeof(path));
		tx = xs_transaction_start(t->xs);
		if (tx == XBT_NULL)
			return fail(act, -(errno ? errno : EIO), "(start)");
		if (!xs_write(t->xs, tx, path, eq + 1, strlen(eq + 1))) {
			rc = -(errno ? errno : EIO);
			xs_transaction_end(t->xs, tx, true);
			return fail(act, rc, "(write)");
		}
		if (!xs_transaction_end(t->xs, tx, false))
			return fail(act, -(errno ? errno : EIO), "(commit)");
		ok(act, "%s committed", path);
	} else if (!strncmp(act, "watch:", 6)) {
		char p[1024];
		const char *colon = strrchr(a, ':');
		uint32_t ms = 5000;

		snprintf(p, sizeof(p), "%s", a);
		if (colon && parse_u32(colon + 1, &ms))
			p[colon - a] = '\0';
		abs_path(t, p, path, sizeof(path));
		rc = hvg_xs_wait_read(t->xs, path, buf, sizeof(buf), (int)ms);
		if (rc)
			return fail(act, rc, NULL);
		ok(act, "%s = \"%s\"", path, buf);
	}
}

/* connect:DOM:CLASS:RESOURCE and disconnect:...: the resource is the
 * rest after the class, colons and all (vtpm:UUID, file:/img). */
static void act_device(struct tg *t, const char *act)
{
	static const char *const classes[] = {"disk", "vif", "vtpm"};
	bool conn = !strncmp(act, "connect:", 8);
	const char *a = arg_of(act), *c, *res;
	uint32_t dom, cls = 0;
	int rc;

	if (!parse_u32(a, &dom) || !(c = strchr(a, ':')))
		return fail(act, -EINVAL, "(DOM:CLASS:RESOURCE)");
	c++;
	res = strchr(c, ':');
	if (!res)
		return fail(act, -EINVAL, "(DOM:CLASS:RESOURCE)");
	for (uint32_t i = 0; i < 3; i++)
		if ((size_t)(res - c) == strlen(classes[i]) &&
		    !strncmp(c, classes[i], strlen(classes[i])))
			cls = HV_DEV_DISK + i;
	if (!cls)
		return fail(act, -EINVAL, "(class: disk, vif or vtpm)");
	res++;
	rc = conn ? hvg_device_connect(t->g, dom, cls, res)
		  : hvg_device_disconnect(t->g, dom, cls, res);
	if (rc)
		return fail(act, rc, NULL);
	ok(act, "%s %s %s domain %u", classes[cls - HV_DEV_DISK], res,
	   conn ? "to" : "from", dom);
}

static void act_vlans(struct tg *t, const char *act)
{
	const char *a = arg_of(act), *c;
	uint32_t dom, first, count, i;
	char res[32];
	int rc = 0;

	if (!parse_u32(a, &dom) || !(c = strchr(a, ':')) ||
	    !parse_u32(c + 1, &first) || !(c = strchr(c + 1, ':')) ||
	    !parse_u32(c + 1, &count) || first == 0 || count > 4096 ||
	    first + count > 4096)
		return fail(act, -EINVAL, "(DOM:FIRST:COUNT)");
	for (i = 0; i < count && !rc; i++) {
		snprintf(res, sizeof(res), "vlan:%u", first + i);
		rc = hvg_device_connect(t->g, dom, HV_DEV_VIF, res);
	}
	if (rc) {
		snprintf(res, sizeof(res), "(after %u)", i - 1);
		return fail(act, rc, res);
	}
	ok(act, "%u connected", count);
}

static int run(struct tg *t, const char *act)
{
	uint32_t n;

	if (!strcmp(act, "whoami")) {
		const struct hv_rep_whoami *w = hvg_self(t->g);

		ok(act, "domid %u name %s label %s ssidref %u", w->domid,
		   w->name, w->label, w->ssidref);
	} else if (!strncmp(act, "offer:", 6) || !strncmp(act, "bind:", 5) ||
		   !strcmp(act, "send") || !strncmp(act, "wait", 4) ||
		   !strcmp(act, "status") || !strcmp(act, "close")) {
		act_evtchn(t, act);
	} else if (!strncmp(act, "grant:", 6) || !strncmp(act, "map:", 4) ||
		   !strcmp(act, "unmap") || !strcmp(act, "peek") ||
		   !strcmp(act, "tryrw") || !strcmp(act, "endgrant") ||
		   !strncmp(act, "copy:", 5) || !strncmp(act, "transfer:", 9) ||
		   !strncmp(act, "take", 4)) {
		act_grant(t, act);
	} else if (!strncmp(act, "write:", 6) || !strncmp(act, "read:", 5) ||
		   !strncmp(act, "watch:", 6) || !strncmp(act, "rm:", 3) ||
		   !strncmp(act, "txn:", 4)) {
		act_xs(t, act);
	} else if (!strncmp(act, "connect:", 8) ||
		   !strncmp(act, "disconnect:", 11)) {
		act_device(t, act);
	} else if (!strncmp(act, "connect-vlans:", 14)) {
		act_vlans(t, act);
	} else if (!strncmp(act, "garbage", 7)) {
		const char *a = arg_of(act);
		uint32_t k = 1;
		static const uint8_t junk[24] = "not a hypercall at all!";

		if (a && !parse_u32(a, &k))
			k = 1;
		for (uint32_t i = 0; i < k; i++) {
			uint8_t r[HV_HC_MSG_MAX];

			if (write(hvg_fd(t->g), junk, sizeof(junk)) < 0)
				return fail(act, -errno, NULL), 0;
			/* Each gets its -EINVAL reply; read it so the
			 * channel stays in step. */
			if (read(hvg_fd(t->g), r, sizeof(r)) < 0)
				return fail(act, -errno, NULL), 0;
		}
		ok(act, "%u sent", k);
	} else if (!strncmp(act, "sleep:", 6) && parse_u32(act + 6, &n)) {
		sleep_ms(n);
		ok(act, NULL);
	} else if (!strncmp(act, "spin:", 5) && parse_u32(act + 5, &n)) {
		struct timespec ts;
		volatile unsigned long x = 0;

		/* By this process's own CPU clock: a busy host only makes it
		 * take longer, never count less. */
		do {
			for (unsigned i = 0; i < 100000; i++)
				x += i;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		} while ((uint64_t)ts.tv_sec * 1000u +
				 (uint64_t)ts.tv_nsec / 1000000u <
			 n);
		/* Reading the sum keeps the loop's work observable. */
		ok(act, "%s", x ? "spun" : "spun (no work)");
	} else if (!strcmp(act, "hold")) {
		ok(act, NULL);
		for (;;) {
			pause();
			hvg_process_notices(t->g);
		}
	} else if (!strncmp(act, "shutdown", 8)) {
		const char *a = arg_of(act);
		uint32_t reason = HV_SHUTDOWN_POWEROFF;
		int rc;

		if (a && !strcmp(a, "reboot"))
			reason = HV_SHUTDOWN_REBOOT;
		else if (a && !strcmp(a, "crash"))
			reason = HV_SHUTDOWN_CRASH;
		ok(act, NULL);
		rc = hvg_shutdown(t->g, reason);
		if (rc)
			fail(act, rc, NULL);
		for (;;)
			pause(); /* the daemon stops us */
	} else if (!strncmp(act, "exit:", 5) && parse_u32(act + 5, &n)) {
		ok(act, NULL);
		exit((int)n);
	} else if (!strcmp(act, "crash")) {
		ok(act, NULL);
		raise(SIGSEGV);
	} else {
		fail(act, -EINVAL, "(unknown action)");
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: hvsec-testguest ACTION...\n"
	      "\n"
	      "The lab guest: started by hvsecd (the config's kernel, its\n"
	      "`extra` as the actions), it runs the actions in order and\n"
	      "reports each on its console.  It needs the hypercall channel\n"
	      "hvsecd passes (HVSEC_HC_FD): run by hand it cannot start.\n"
	      "\n"
	      "Actions (DOM is a domain id):\n"
	      "  whoami  offer:DOM  bind:DOM  send  wait[:MS]  status  close\n"
	      "  grant:DOM[:ro]  map:DOM[:ro|rw]  unmap  tryrw  peek  "
	      "endgrant\n"
	      "  copy:DOM  transfer:DOM  take[:MS]\n"
	      "  write:PATH=VAL  read:PATH  watch:PATH[:MS]  rm:PATH  "
	      "txn:PATH=VAL\n"
	      "  connect:DOM:CLASS:RESOURCE  disconnect:DOM:CLASS:RESOURCE\n"
	      "  connect-vlans:DOM:FIRST:COUNT\n"
	      "    (CLASS disk|vif|vtpm; RESOURCE canonical: file:/img, "
	      "vlan:20, vtpm:UUID)\n"
	      "  garbage[:N]  sleep:MS  spin:MS  hold  shutdown[:REASON]  "
	      "exit:CODE  "
	      "crash\n"
	      "See hypervisor/guest/testguest.c and docs/hypervisor.md.\n",
	      stdout);
}

int main(int argc, char **argv)
{
	struct tg t;
	int rc;

	/* No action is spelled like this, so it cannot hide one. */
	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage();
		return 0;
	}
	memset(&t, 0, sizeof(t));
	t.page.fd = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = hvg_open(&t.g);
	if (rc) {
		hvg_console("start: error -%s (no hypercall channel)",
			    hvg_strerror(rc));
		return 1;
	}
	t.me = hvg_domid(t.g);
	t.xs = hvg_xs_open();
	if (!t.xs)
		hvg_console("start: error XenStore unreachable (%s)",
			    strerror(errno));
	hvg_console("start: ok domain %u (%s), label %s, %d actions", t.me,
		    hvg_self(t.g)->name, hvg_self(t.g)->label, argc - 1);
	for (int i = 1; i < argc; i++)
		run(&t, argv[i]);
	hvg_console("done: ok");
	if (t.xs)
		hvg_xs_close(t.xs);
	hvg_close(t.g);
	return 0;
}
