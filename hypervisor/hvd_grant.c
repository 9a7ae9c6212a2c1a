/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hvd_grant.c - grant tables (GNTTABOP_*): a guest offers a page (its own
 * sealed memfd) to one other domain; that domain maps it and gets the
 * page's fd, read-only or writable as granted and as the hooks allow.
 *
 * Pages are reference-counted: the grant entry holds one reference and
 * every mapping one more.  When a granter dies its entries go, but a page
 * still mapped stays alive (and listed, orphaned) until the mapper unmaps
 * or dies: Xen keeps a mapped page alive the same way.
 *
 * What makes a read-only mapping read-only: the mapper gets a new open
 * file description opened O_RDONLY (through /proc/self/fd), so mmap with
 * PROT_WRITE and MAP_SHARED fails.  As root the daemon also hands the
 * page's inode to itself with mode 0600, so no guest can reopen it
 * read-write through /proc/self/fd/N either (in same-uid mode it could:
 * docs/threat-model.md).
 *
 * Grant refs 0..7 are reserved, as Xen reserves them for the toolstack
 * (console and XenStore rings).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/hvd.h"

#define HVD_GNT_FIRST 8u

static struct hvd_page *page_find(struct hvd *d, dev_t dev, ino_t ino)
{
	for (struct hvd_page *p = d->pages; p; p = p->next)
		if (p->dev == dev && p->ino == ino)
			return p;
	return NULL;
}

static void page_unref(struct hvd *d, struct hvd_page *pg)
{
	if (--pg->refs)
		return;
	for (struct hvd_page **pp = &d->pages; *pp; pp = &(*pp)->next) {
		if (*pp == pg) {
			*pp = pg->next;
			break;
		}
	}
	close(pg->fd);
	free(pg);
	d->st.pages_live--;
}

/* Checks that `fd` is a page a guest may give away: a regular shmem file
 * of exactly one page, open read-write, sealable (we seal it against
 * shrinking and growing so no mapper can fault on it), and not a page
 * some other domain owns (a foreign page mapped writable must not be
 * passed on: that would be sharing the policy never saw). */
static int page_check(struct hvd *d, struct hvd_domain *dom, int fd,
		      struct stat *st, struct hvd_page **existing)
{
	int fl, seals;

	*existing = NULL;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) ||
	    st->st_size != HV_PAGE_SIZE)
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	*existing = page_find(d, st->st_dev, st->st_ino);
	if (*existing && (*existing)->owner != dom->domid)
		return -EPERM;
	if (*existing)
		return 0;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -EINVAL; /* not a memfd */
	if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) !=
		    (F_SEAL_SHRINK | F_SEAL_GROW) &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -EINVAL;
	return 0;
}

int hvd_gnt_grant(struct hvd *d, struct hvd_domain *dom,
		  const struct hv_req_gnt_grant *req, int fd, uint32_t *gref)
{
	struct hvd_domain *peer = hvd_domain_live(d, req->domid);
	struct hvd_page *pg = NULL;
	struct stat st;
	uint32_t g;
	int rc;

	if (!peer) {
		rc = -ESRCH;
		goto fail;
	}
	rc = hvd_check_share(d, HOOKS_ID_grant_setup, dom, peer);
	if (rc)
		goto fail;
	if (dom->granted_pages >= dom->max_pages) {
		rc = -ENOMEM;
		goto fail;
	}
	for (g = HVD_GNT_FIRST; g < HV_GNT_PER_DOM; g++)
		if (!dom->grants[g].used)
			break;
	if (g == HV_GNT_PER_DOM) {
		rc = -ENOSPC;
		goto fail;
	}
	rc = page_check(d, dom, fd, &st, &pg);
	if (rc)
		goto fail;
	if (pg) {
		/* The same page granted again (to another domain, say). */
		pg->refs++;
		close(fd);
	} else {
		pg = calloc(1, sizeof(*pg));
		if (!pg) {
			rc = -ENOMEM;
			goto fail;
		}
		if (d->root && (fchown(fd, 0, 0) < 0 || fchmod(fd, 0600) < 0)) {
			rc = -errno;
			free(pg);
			goto fail;
		}
		pg->fd = fd;
		pg->refs = 1;
		pg->owner = dom->domid;
		pg->dev = st.st_dev;
		pg->ino = st.st_ino;
		pg->next = d->pages;
		d->pages = pg;
		d->st.pages_live++;
	}
	dom->grants[g] = (struct hvd_grant){
		.used = true,
		.grantee = peer->domid,
		.flags = req->flags,
		.page = pg,
	};
	dom->granted_pages++;
	*gref = g;
	return 0;
fail:
	close(fd);
	return rc;
}

/* Drops a grant entry; mappings of it become orphaned. */
static void grant_drop(struct hvd *d, struct hvd_domain *dom, uint32_t g)
{
	struct hvd_grant *ge = &dom->grants[g];

	if (ge->n_maps) {
		struct hvd_domain *m = hvd_domain_get(d, ge->grantee);

		for (uint32_t h = 0; m && h < HV_MAPS_PER_DOM; h++) {
			struct hvd_map *mp = &m->maps[h];
			struct hv_ntf_gnt_orphaned n = {h, dom->domid};

			if (!mp->used || mp->orphaned ||
			    mp->granter != dom->domid || mp->gref != g)
				continue;
			mp->orphaned = true;
			hvd_hc_notify(d, m, HV_NTF_GNT_ORPHANED, &n, sizeof(n),
				      NULL, 0);
		}
	}
	page_unref(d, ge->page);
	memset(ge, 0, sizeof(*ge));
	dom->granted_pages--;
}

int hvd_gnt_end(struct hvd *d, struct hvd_domain *dom, uint32_t gref)
{
	struct hvd_grant *ge;

	if (gref < HVD_GNT_FIRST || gref >= HV_GNT_PER_DOM)
		return -ENOENT;
	ge = &dom->grants[gref];
	if (!ge->used)
		return -ENOENT;
	if (ge->n_maps)
		return -EBUSY;
	grant_drop(d, dom, gref);
	return 0;
}

/* The grant (granter, gref) as the caller may use it. */
static int grant_lookup(struct hvd *d, uint32_t granter, uint32_t gref,
			struct hvd_domain **gdom, struct hvd_grant **out)
{
	struct hvd_domain *g = hvd_domain_live(d, granter);

	if (!g)
		return -ESRCH;
	*gdom = g;
	if (gref < HVD_GNT_FIRST || gref >= HV_GNT_PER_DOM ||
	    !g->grants[gref].used)
		return -ENOENT;
	*out = &g->grants[gref];
	return 0;
}

int hvd_gnt_map(struct hvd *d, struct hvd_domain *dom,
		const struct hv_req_gnt_map *req, struct hv_rep_gnt_map *rep,
		int *fd)
{
	bool ro = req->flags & HV_GNTMAP_READONLY;
	struct hvd_domain *g = hvd_domain_live(d, req->domid);
	struct hvd_grant *ge;
	uint32_t h;
	int rc;

	*fd = -1;
	/* Xen's order: the granter exists, the policy allows, then the
	 * grant entry itself is checked. */
	if (!g)
		return -ESRCH;
	rc = hvd_check_share(
		d, ro ? HOOKS_ID_grant_map_read : HOOKS_ID_grant_map_write, dom,
		g);
	if (rc)
		return rc;
	rc = grant_lookup(d, req->domid, req->gref, &g, &ge);
	if (rc)
		return rc;
	if (ge->grantee != dom->domid)
		return -EPERM;
	if (!ro && (ge->flags & HV_GNT_READONLY))
		return -EPERM;
	for (h = 0; h < HV_MAPS_PER_DOM; h++)
		if (!dom->maps[h].used)
			break;
	if (h == HV_MAPS_PER_DOM)
		return -ENOSPC;
	if (ro) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", ge->page->fd);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		*fd = fcntl(ge->page->fd, F_DUPFD_CLOEXEC, 0);
	}
	if (*fd < 0)
		return -errno;
	dom->maps[h] = (struct hvd_map){
		.used = true,
		.granter = req->domid,
		.gref = req->gref,
		.flags = ro ? HV_GNTMAP_READONLY : 0,
		.page = ge->page,
	};
	ge->page->refs++;
	ge->n_maps++;
	dom->n_maps++;
	*rep = (struct hv_rep_gnt_map){h, ro ? HV_GNTMAP_READONLY : 0};
	return 0;
}

static void map_drop(struct hvd *d, struct hvd_domain *dom, uint32_t h)
{
	struct hvd_map *mp = &dom->maps[h];
	struct hvd_domain *g = hvd_domain_get(d, mp->granter);
	struct hooks_subject s = hvd_subject(dom);
	struct hooks_subject gs = {mp->granter, g ? g->row : ACM_ROW_NONE};

	/* Never denies: counted and audited. */
	hooks_grant_unmap(d->hooks, &s, &gs);
	if (!mp->orphaned && g && hvd_domain_running(g) &&
	    g->grants[mp->gref].used && g->grants[mp->gref].page == mp->page)
		g->grants[mp->gref].n_maps--;
	page_unref(d, mp->page);
	memset(mp, 0, sizeof(*mp));
	dom->n_maps--;
}

int hvd_gnt_unmap(struct hvd *d, struct hvd_domain *dom, uint32_t handle)
{
	if (handle >= HV_MAPS_PER_DOM || !dom->maps[handle].used)
		return -ENOENT;
	map_drop(d, dom, handle);
	return 0;
}

/* A copy segment's page: the caller's own grant, or a grant made to it
 * (writable only if granted so), after the grant_copy hook. */
static int seg_page(struct hvd *d, struct hvd_domain *dom,
		    const struct hv_gnt_seg *s, bool write,
		    struct hvd_page **out)
{
	struct hvd_domain *g;
	struct hvd_grant *ge;
	int rc;

	if (s->domid == HV_DOMID_SELF || s->domid == dom->domid) {
		if (s->gref < HVD_GNT_FIRST || !dom->grants[s->gref].used)
			return -ENOENT;
		*out = dom->grants[s->gref].page;
		return 0;
	}
	g = hvd_domain_live(d, s->domid);
	if (!g)
		return -ESRCH;
	rc = hvd_check_share(d, HOOKS_ID_grant_copy, dom, g);
	if (rc)
		return rc;
	rc = grant_lookup(d, s->domid, s->gref, &g, &ge);
	if (rc)
		return rc;
	if (ge->grantee != dom->domid ||
	    (write && (ge->flags & HV_GNT_READONLY)))
		return -EPERM;
	*out = ge->page;
	return 0;
}

int hvd_gnt_copy(struct hvd *d, struct hvd_domain *dom,
		 const struct hv_req_gnt_copy *req)
{
	uint8_t buf[HV_PAGE_SIZE];
	struct hvd_page *src, *dst;
	int rc;

	rc = seg_page(d, dom, &req->src, false, &src);
	if (rc)
		return rc;
	rc = seg_page(d, dom, &req->dst, true, &dst);
	if (rc)
		return rc;
	if (pread(src->fd, buf, req->len, req->src.offset) !=
		    (ssize_t)req->len ||
	    pwrite(dst->fd, buf, req->len, req->dst.offset) !=
		    (ssize_t)req->len)
		return -EFAULT;
	return 0;
}

int hvd_gnt_transfer(struct hvd *d, struct hvd_domain *dom, uint32_t dest,
		     int fd)
{
	struct hvd_domain *peer = hvd_domain_live(d, dest);
	struct hv_ntf_gnt_transfer n = {dom->domid, 0};
	uint8_t buf[HV_PAGE_SIZE];
	struct hvd_page *pg;
	struct stat st;
	int nfd = -1, rc;

	if (!peer || peer->dom0 || peer == dom) {
		rc = -ESRCH;
		goto out;
	}
	rc = hvd_check_share(d, HOOKS_ID_grant_transfer, dom, peer);
	if (rc)
		goto out;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != HV_PAGE_SIZE) {
		rc = -EINVAL;
		goto out;
	}
	pg = page_find(d, st.st_dev, st.st_ino);
	if (pg && pg->owner != dom->domid) {
		rc = -EPERM;
		goto out;
	}
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		rc = -EINVAL;
		goto out;
	}
	/* The destination gets a new page with the contents: the source
	 * keeps nothing that aliases it. */
	nfd = memfd_create("hvsec-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (nfd < 0 || ftruncate(nfd, HV_PAGE_SIZE) < 0 ||
	    pwrite(nfd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		rc = -ENOMEM;
		goto out;
	}
	rc = hvd_hc_notify(d, peer, HV_NTF_GNT_TRANSFER, &n, sizeof(n), &nfd,
			   1);
	if (rc)
		rc = -EAGAIN;
out:
	if (nfd >= 0)
		close(nfd);
	close(fd);
	return rc;
}

void hvd_gnt_release_all(struct hvd *d, struct hvd_domain *dom)
{
	for (uint32_t h = 0; h < HV_MAPS_PER_DOM && dom->n_maps; h++)
		if (dom->maps[h].used)
			map_drop(d, dom, h);
	for (uint32_t g = HVD_GNT_FIRST;
	     g < HV_GNT_PER_DOM && dom->granted_pages; g++)
		if (dom->grants[g].used)
			grant_drop(d, dom, g);
}

uint32_t hvd_gnt_revoke_pair(struct hvd *d, struct hvd_domain *granter,
			     uint32_t grantee)
{
	uint32_t n = 0;

	for (uint32_t g = HVD_GNT_FIRST; g < HV_GNT_PER_DOM; g++) {
		if (!granter->grants[g].used ||
		    granter->grants[g].grantee != grantee)
			continue;
		grant_drop(d, granter, g);
		n++;
	}
	return n;
}
