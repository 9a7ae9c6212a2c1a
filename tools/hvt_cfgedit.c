/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvt_cfgedit.c - `label add|rm ... dom CFG`: rewrite the label of a
 * domain config and nothing else.
 *
 * An operator's config carries comments, ordering and quoting we must not
 * lose, so the file is not regenerated from the parsed form: a scanner
 * that knows xl's lexical rules (quotes, escapes, lists over several
 * lines, '#' comments, ';') finds every access_control and seclabel
 * statement, they are cut out, and one new statement goes where the first
 * one was (in the same form: seclabel stays seclabel), or at the end.
 *
 * Safety: the file must parse before we touch it; the new text must parse
 * and carry exactly the label asked for, or the file is left alone; it
 * replaces the old one atomically (temp file in the same directory with
 * the same mode and owner, fsync, rename, fsync of the directory), so a
 * crash leaves the old config or the new one, never half of one.  A
 * symlink is followed: its target is what gets rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/hvsec.h"

struct stmt {
	size_t start, end; /* bytes to cut */
	bool whole_line;   /* the statement had its line(s) to itself */
	bool semicolon;	   /* ended by ';' (not by a newline) */
	bool seclabel;
	size_t cs, ce; /* its trailing comment, blanks before it
			* included (cs == ce: none) */
};

#define STMTS_MAX 64

static size_t skip_string(const char *b, size_t len, size_t p)
{
	char q = b[p++];

	while (p < len && b[p] != q && b[p] != '\n') {
		if (b[p] == '\\' && p + 1 < len)
			p++;
		p++;
	}
	return p < len && b[p] == q ? p + 1 : p;
}

static size_t skip_comment(const char *b, size_t len, size_t p)
{
	while (p < len && b[p] != '\n')
		p++;
	return p;
}

static bool only_blank(const char *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r')
			return false;
	return true;
}

/* From p (just after the key) to the statement's end: a newline or ';'
 * outside strings and lists, or the end of the file.  Notes the first
 * comment at list depth 0, with the blanks before it, in cs and ce. */
static size_t value_end(const char *b, size_t len, size_t p, size_t ks,
			bool *semi, size_t *cs, size_t *ce)
{
	int depth = 0;

	*semi = false;
	*cs = *ce = 0;
	while (p < len) {
		if (b[p] == '\'' || b[p] == '"') {
			p = skip_string(b, len, p);
		} else if (b[p] == '#') {
			size_t c = p;

			p = skip_comment(b, len, p);
			if (depth == 0 && !*ce) {
				while (c > ks &&
				       (b[c - 1] == ' ' || b[c - 1] == '\t'))
					c--;
				*cs = c;
				*ce = p;
			}
		} else if (b[p] == '[') {
			depth++, p++;
		} else if (b[p] == ']') {
			depth -= depth > 0, p++;
		} else if (depth == 0 && (b[p] == '\n' || b[p] == ';')) {
			*semi = b[p] == ';';
			return p;
		} else {
			p++;
		}
	}
	return p;
}

/* What to cut for the statement [ks, p): its whole line(s) when it has
 * them to itself (a comment after a ';' included), else just itself. */
static void extent(const char *b, size_t len, size_t ks, size_t p,
		   struct stmt *s)
{
	size_t ls = ks, q;

	while (ls > 0 && b[ls - 1] != '\n')
		ls--;
	s->whole_line = only_blank(b, ls, ks);
	s->start = s->whole_line ? ls : ks;
	s->end = p; /* at the terminator, or len */
	if (!s->semicolon) {
		if (s->whole_line)
			s->end = p < len ? p + 1 : p;
		return;
	}
	q = p + 1;
	while (q < len && (b[q] == ' ' || b[q] == '\t'))
		q++;
	if (s->whole_line && (q >= len || b[q] == '\n' || b[q] == '#')) {
		/* "seclabel = '..';  # why" on its own line */
		s->cs = s->ce = 0;
		if (q < len && b[q] == '#') {
			s->cs = p + 1;
			s->ce = skip_comment(b, len, q);
		}
		q = skip_comment(b, len, q);
		s->semicolon = false;
		s->end = q < len ? q + 1 : q;
	} else {
		s->whole_line = false;
		s->start = ks;
		s->end = q;
	}
}

static bool is_key(const char *b, size_t ks, size_t ke, const char *key)
{
	return ke - ks == strlen(key) && !memcmp(b + ks, key, ke - ks);
}

static bool key_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Finds the label statements.  Returns how many (at most STMTS_MAX; the
 * parser's own limits keep real files far below it), -1 if more. */
static int scan(const char *b, size_t len, struct stmt *out)
{
	size_t p = 0;
	int n = 0;

	while (p < len) {
		size_t ks, ke, cs, ce;
		bool semi;

		if (b[p] == ' ' || b[p] == '\t' || b[p] == '\r' ||
		    b[p] == '\n' || b[p] == ';') {
			p++;
			continue;
		}
		if (b[p] == '#') {
			p = skip_comment(b, len, p);
			continue;
		}
		ks = p;
		while (p < len && key_char(b[p]))
			p++;
		ke = p;
		if (ke == ks)
			p++; /* not a statement start: the file parsed, so
			      * this cannot happen; move on */
		p = value_end(b, len, p, ks, &semi, &cs, &ce);
		if (is_key(b, ks, ke, "access_control") ||
		    is_key(b, ks, ke, "seclabel")) {
			struct stmt *s;

			if (n >= STMTS_MAX)
				return -1;
			s = &out[n++];
			*s = (struct stmt){
				.seclabel = is_key(b, ks, ke, "seclabel"),
				.semicolon = semi,
				.cs = cs,
				.ce = ce,
			};
			extent(b, len, ks, p, s);
		}
		if (p < len)
			p++;
	}
	return n;
}

/* Characters a label statement cannot carry without quoting games. */
static bool name_writable(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f ||
		    strchr("'\"\\,=:#[];", *s))
			return false;
	return true;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		hvt_err("%s: %s", path, strerror(errno));
		return HVT_USAGE;
	}
	buf = malloc(XLCFG_MAX_FILE + 2);
	if (!buf) {
		fclose(f);
		hvt_err("out of memory");
		return HVT_DAEMON;
	}
	n = fread(buf, 1, XLCFG_MAX_FILE + 1, f);
	if (ferror(f) || n > XLCFG_MAX_FILE) {
		hvt_err("%s: %s", path,
			ferror(f) ? strerror(errno) : "file too large");
		fclose(f);
		free(buf);
		return HVT_USAGE;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int write_atomic(const char *path, const char *buf, size_t len)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	char *tmp = NULL;
	struct stat st;
	int fd = -1, dfd = -1, rc = HVT_USAGE;
	size_t off = 0;

	if (!dcopy || !bcopy || stat(path, &st) < 0)
		goto sys;
	if (asprintf(&tmp, "%s/.%s.hvsec-XXXXXX", dirname(dcopy),
		     basename(bcopy)) < 0) {
		tmp = NULL;
		goto sys;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		goto sys;
	/* The new file is the old one's: same permissions, same owner
	 * (chown only works for root; otherwise the owner is us anyway). */
	if (fchmod(fd, st.st_mode & 07777) < 0)
		goto sys_unlink;
	if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
		goto sys_unlink;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto sys_unlink;
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto sys_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto sys_unlink;
	free(dcopy);
	dcopy = strdup(path);
	if (dcopy) {
		dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd); /* the rename is done; best effort */
			close(dfd);
		}
	}
	rc = 0;
	goto out;
sys_unlink:
	hvt_err("%s: cannot write: %s (file left unchanged)", path,
		strerror(errno));
	unlink(tmp);
	goto out;
sys:
	hvt_err("%s: cannot write: %s (file left unchanged)", path,
		strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dcopy);
	free(bcopy);
	return rc;
}

/* Builds the edited text into *out. */
static int edit(const char *b, size_t len, const struct stmt *s, int n,
		const char *policy, const char *label, char **out,
		size_t *out_len)
{
	char *line = NULL, *nb;
	size_t o = 0, p = 0, cap;
	int ll = 0;

	if (label) {
		if (n > 0 && s[0].seclabel)
			ll = asprintf(&line, "seclabel = 'ACM:%s:%s'", policy,
				      label);
		else
			ll = asprintf(&line,
				      "access_control = ['policy=%s,label=%s']",
				      policy, label);
		if (ll < 0)
			return -1;
	}
	cap = len + (size_t)ll + 4;
	nb = malloc(cap + 1);
	if (!nb) {
		free(line);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		memcpy(nb + o, b + p, s[i].start - p);
		o += s[i].start - p;
		p = s[i].end;
		if (i == 0 && line) {
			memcpy(nb + o, line, (size_t)ll);
			o += (size_t)ll;
			/* A comment on the old label's line stays with it. */
			memcpy(nb + o, b + s[0].cs, s[0].ce - s[0].cs);
			o += s[0].ce - s[0].cs;
			if (s[0].whole_line)
				nb[o++] = '\n';
			else if (s[0].semicolon)
				nb[o++] = ';', nb[o++] = ' ';
		}
	}
	memcpy(nb + o, b + p, len - p);
	o += len - p;
	if (n == 0 && line) {
		if (o && nb[o - 1] != '\n')
			nb[o++] = '\n';
		memcpy(nb + o, line, (size_t)ll);
		o += (size_t)ll;
		nb[o++] = '\n';
	}
	nb[o] = '\0';
	free(line);
	*out = nb;
	*out_len = o;
	return 0;
}

int hvt_cfg_set_label(const char *path, const char *policy, const char *label,
		      bool *changed)
{
	struct stmt s[STMTS_MAX];
	struct xlcfg c = {0};
	struct xlcfg_diags d = {0};
	char *real = NULL, *buf = NULL, *nb = NULL;
	size_t len = 0, nlen = 0;
	int n, rc;

	*changed = false;
	if (label && (!name_writable(label) || !name_writable(policy))) {
		hvt_err("'%s' cannot be written into a config (no blanks, "
			"quotes, ',', '=', ':' or ';')",
			name_writable(label) ? policy : label);
		return HVT_USAGE;
	}
	real = realpath(path, NULL);
	if (!real) {
		hvt_err("%s: %s", path, strerror(errno));
		return HVT_USAGE;
	}
	rc = hvt_cfg_load(path, &c);
	xlcfg_free(&c);
	if (rc) {
		hvt_err("%s: fix the errors above first; file left unchanged",
			path);
		goto out;
	}
	rc = read_file(real, &buf, &len);
	if (rc)
		goto out;
	n = scan(buf, len, s);
	if (n < 0) {
		hvt_err("%s: too many label statements", path);
		rc = HVT_USAGE;
		goto out;
	}
	if (!label && n == 0) {
		rc = 0; /* nothing to remove */
		goto out;
	}
	if (edit(buf, len, s, n, policy, label, &nb, &nlen)) {
		hvt_err("out of memory");
		rc = HVT_DAEMON;
		goto out;
	}
	/* The edit must say exactly what was asked, as the parser reads it. */
	memset(&c, 0, sizeof(c));
	if (xlcfg_parse_mem(nb, nlen, path, &c, &d) ||
	    (label && (!c.has_label || strcmp(c.policy, policy) ||
		       strcmp(c.label, label))) ||
	    (!label && c.has_label)) {
		xlcfg_diags_print(&d, stderr);
		hvt_err("%s: the edited config would not carry the label "
			"asked for; file left unchanged",
			path);
		rc = HVT_USAGE;
		goto out_cfg;
	}
	rc = write_atomic(real, nb, nlen);
	if (!rc)
		*changed = true;
out_cfg:
	xlcfg_free(&c);
	xlcfg_diags_free(&d);
out:
	free(nb);
	free(buf);
	free(real);
	return rc;
}
