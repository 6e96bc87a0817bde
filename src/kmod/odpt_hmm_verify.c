// SPDX-License-Identifier: GPL-2.0-only
/*
 * VERIFY: checks a mirror's DMA mappings end to end with edu's DMA engine.
 * Up to max_pages mapped entries of the range, evenly spaced, are sampled;
 * edu reads each through its DMA address (the data must equal the page as
 * the CPU sees it), and, as asked, writes a pattern back through it
 * (VERIFY_WRITE), writes through the live address of a read-only mapping
 * that the IOMMU must refuse (VERIFY_RO_PROBE), or writes to the old
 * addresses after unmapping the samples, which the IOMMU must refuse too
 * (VERIFY_STALE). The device never writes a page the CPU mapping does not
 * let it write. One VERIFY at a time owns edu (odpt_edu_claim); the mirror
 * lock is held from the sampling to the end, so no invalidation moves the
 * pages meanwhile. Each transfer takes ~100 ms; the waits are summed in
 * dma_wait_ns, not in any latency.
 */
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "odpt_hmm_internal.h"

#define ODPT_VERIFY_DEFAULT	4
#define ODPT_VERIFY_MAX		64
#define ODPT_VERIFY_FLAGS	(ODPT_HMM_VERIFY_WRITE | ODPT_HMM_VERIFY_STALE | \
				 ODPT_HMM_VERIFY_RO_PROBE)
/* The flags that make the device write through the sampled mappings. */
#define ODPT_VERIFY_DEV_WRITES	(ODPT_HMM_VERIFY_WRITE | ODPT_HMM_VERIFY_STALE)

/* VERIFY_STALE: a sampled entry, its page kept and its data saved while the
 * device writes to its old address.
 */
struct odpt_stale {
	unsigned long idx;
	dma_addr_t addr;
	struct page *page;
	void *snap;
};

/* One VERIFY call. */
struct odpt_verify {
	struct odpt_mirror *m;
	struct odpt_hmm_verify *v;
	unsigned long *idx;		/* the sampled entries, increasing */
	unsigned long nidx;		/* sampled; room for `want' */
	struct odpt_stale *stale;	/* VERIFY_STALE: nidx of them */
	unsigned long nsnap;		/* stale[] with a snapshot buffer */
	u64 *check;			/* edu's check buffer, while claimed */
};

/*
 * May VERIFY_RO_PROBE aim a device write at @page? Only at an anonymous page
 * this process alone maps (PageAnonExclusive: not shared copy-on-write with
 * a child, never a KSM page), so that a write the IOMMU wrongly lets through
 * changes nothing but the caller's own page. Never the zero page, the huge
 * zero page, a KSM page or the page cache (none of them is anonymous and
 * exclusive). Read under the mirror lock: fork and KSM merging invalidate
 * the mirror before they share a page.
 */
static bool ro_probe_target_ok(struct page *page)
{
	struct folio *folio = page_folio(page);

	return folio_test_anon(folio) && !folio_test_ksm(folio) &&
	       PageAnonExclusive(page);
}

static void fill_pattern(u64 *p, u64 seed, u64 va)
{
	unsigned int j;

	for (j = 0; j < PAGE_SIZE / 8; j++)
		p[j] = seed ^ (va + 8 * j);
}

static bool entry_mapped(unsigned long pfn)
{
	return odpt_entry_present(pfn) && (pfn & HMM_PFN_DMA_MAPPED);
}

/* Check the request; on 0 [*first, *first + *n) is the range and *want the
 * number of pages to sample.
 */
static int verify_check_args(struct odpt_mirror *m, struct odpt_hmm_verify *v,
			     unsigned long *first, unsigned long *n,
			     unsigned long *want)
{
	int ret;

	if (v->flags & ~ODPT_VERIFY_FLAGS)
		return -EINVAL;
	if ((v->flags & ODPT_HMM_VERIFY_RO_PROBE) &&
	    (v->flags & ODPT_VERIFY_DEV_WRITES))
		return -EINVAL;
	ret = odpt_mirror_span(m, v->addr, v->len, first, n);
	if (ret)
		return ret;
	*want = v->max_pages ? v->max_pages : ODPT_VERIFY_DEFAULT;
	if (*want > ODPT_VERIFY_MAX)
		return -EINVAL;
	if (!odpt_dma.can_verify)
		return -ENODEV;
	if ((v->flags & (ODPT_HMM_VERIFY_STALE | ODPT_HMM_VERIFY_RO_PROBE)) &&
	    !odpt_dev_translated())
		return -EOPNOTSUPP;
	return 0;
}

/* Allocate before edu and the mirror lock: no GFP_KERNEL under the latter. */
static int verify_alloc(struct odpt_verify *c, unsigned long want)
{
	c->idx = kcalloc(want, sizeof(*c->idx), GFP_KERNEL);
	if (!c->idx)
		return -ENOMEM;
	if (!(c->v->flags & ODPT_HMM_VERIFY_STALE))
		return 0;
	c->stale = kcalloc(want, sizeof(*c->stale), GFP_KERNEL);
	if (!c->stale)
		return -ENOMEM;
	for (c->nsnap = 0; c->nsnap < want; c->nsnap++) {
		c->stale[c->nsnap].snap = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!c->stale[c->nsnap].snap)
			return -ENOMEM;
	}
	return 0;
}

static void verify_free(struct odpt_verify *c)
{
	unsigned long k;

	for (k = 0; k < c->nsnap; k++)
		kfree(c->stale[k].snap);
	kfree(c->stale);
	kfree(c->idx);
}

/*
 * Sample up to @want mapped entries of [first, first + n) into c->idx
 * (m->lock held): evenly spaced ranks over the mapped entries, first and
 * last included (strictly increasing since want <= mapped). -ENXIO when
 * none is mapped.
 */
static int verify_sample(struct odpt_verify *c, unsigned long first,
			 unsigned long n, unsigned long want)
{
	unsigned long *pfns = c->m->pfns;
	unsigned long i, k, rank, nmapped = 0;

	for (i = first; i < first + n; i++)
		if (entry_mapped(pfns[i]))
			nmapped++;
	if (!nmapped)
		return -ENXIO;
	want = min(want, nmapped);
	for (i = first, k = 0, rank = 0; i < first + n && k < want; i++) {
		if (!entry_mapped(pfns[i]))
			continue;
		if (rank == (want == 1 ? 0 : k * (nmapped - 1) / (want - 1)))
			c->idx[k++] = i;
		rank++;
	}
	c->nidx = k;
	return 0;
}

/* May the device do to the samples what the flags ask (m->lock held)?
 * -EPERM if not.
 */
static int verify_permitted(struct odpt_verify *c)
{
	struct odpt_mirror *m = c->m;
	unsigned long k, i;

	for (k = 0; k < c->nidx; k++) {
		i = c->idx[k];
		/* Never let the device write through a read-only mapping (the
		 * zero page!), not even to an address that should fault; nor
		 * through a DMA_TO_DEVICE mapping of a page made writable
		 * since (MAP again upgrades it in mode page).
		 */
		if ((c->v->flags & ODPT_VERIFY_DEV_WRITES) &&
		    (!(m->pfns[i] & HMM_PFN_WRITE) ||
		     !odpt_entry_dev_writable(m, i)))
			return -EPERM;
		/* Only pages the device must not write, and only the caller's
		 * own: should the IOMMU mapping wrongly allow the write, it
		 * lands in the caller's read-only page at worst.
		 */
		if ((c->v->flags & ODPT_HMM_VERIFY_RO_PROBE) &&
		    (odpt_entry_dev_writable(m, i) ||
		     !ro_probe_target_ok(hmm_pfn_to_page(m->pfns[i]))))
			return -EPERM;
	}
	return 0;
}

/* Does @page hold what the check buffer holds? */
static bool page_equals_check(struct odpt_verify *c, struct page *page)
{
	void *p = kmap_local_page(page);
	bool ok = !memcmp(c->check, p, PAGE_SIZE);

	kunmap_local(p);
	return ok;
}

/*
 * VERIFY_RO_PROBE of one page whose data the check buffer holds: write its
 * complement to the live DMA_TO_DEVICE address @addr; the IOMMU must refuse
 * and the page stay unchanged (stale_blocked).
 */
static int verify_ro_probe(struct odpt_verify *c, dma_addr_t addr,
			   struct page *page)
{
	struct odpt_hmm_verify *v = c->v;
	u64 *check = c->check, *w;
	unsigned int j;
	int ret;

	for (j = 0; j < PAGE_SIZE / 8; j++)
		check[j] = ~check[j];
	ret = odpt_edu_check_to_page(addr, &v->dma_wait_ns);
	if (ret)
		return ret;
	w = kmap_local_page(page);
	v->stale_checked++;
	/* Unchanged = every word differs from what was sent. */
	for (j = 0; j < PAGE_SIZE / 8 && w[j] != check[j]; j++)
		;
	if (j == PAGE_SIZE / 8)
		v->stale_blocked++;
	kunmap_local(w);
	return 0;
}

/*
 * Check sampled entry @i through its live DMA address (m->lock held): edu
 * reads the page (it must match), writes a pattern back (VERIFY_WRITE, the
 * page must then hold it) or probes the read-only mapping
 * (VERIFY_RO_PROBE).
 */
static int verify_page(struct odpt_verify *c, unsigned long i)
{
	struct odpt_mirror *m = c->m;
	struct odpt_hmm_verify *v = c->v;
	u64 va = m->start + (i << PAGE_SHIFT);
	dma_addr_t addr = odpt_entry_dma_addr(m, i);
	struct page *page = hmm_pfn_to_page(m->pfns[i]);
	bool ok;
	int ret;

	if (dma_mapping_error(odpt_dma.dev, addr))
		return -EIO;
	/* Each page costs ~100 ms of device time with the mirror lock held:
	 * a killed caller stops between pages.
	 */
	if (fatal_signal_pending(current))
		return -EINTR;
	/* The device is being removed: let the removal go on. */
	if (odpt_dev_unbinding())
		return -ENODEV;
	ret = odpt_edu_page_to_check(addr, &v->dma_wait_ns);
	if (ret)
		return ret;
	ok = page_equals_check(c, page);
	if (v->flags & ODPT_HMM_VERIFY_WRITE) {
		fill_pattern(c->check, v->pattern_seed, va);
		ret = odpt_edu_check_to_page(addr, &v->dma_wait_ns);
		if (ret)
			return ret;
		ok = ok && page_equals_check(c, page);
	}
	if (ok && (v->flags & ODPT_HMM_VERIFY_RO_PROBE)) {
		ret = verify_ro_probe(c, addr, page);
		if (ret)
			return ret;
	}
	v->pages_checked++;
	if (ok)
		v->pages_matched++;
	else if (!v->first_bad_addr)
		v->first_bad_addr = va;
	return 0;
}

/*
 * VERIFY_STALE (m->lock held): unmap the samples, then let edu write each
 * page's complement to its old DMA address; the IOMMU must refuse and the
 * page stay as it was (stale_blocked). odpt_dev_rwsem is held exclusive
 * so that no other mirror is given a freed IOVA meanwhile.
 */
static int verify_stale(struct odpt_verify *c)
{
	struct odpt_mirror *m = c->m;
	struct odpt_hmm_verify *v = c->v;
	struct odpt_stale *st = c->stale;
	unsigned long k;
	int ret = 0;

	down_write(&odpt_dev_rwsem);
	for (k = 0; k < c->nidx; k++) {
		void *p;

		st[k].idx = c->idx[k];
		st[k].addr = odpt_entry_dma_addr(m, c->idx[k]);
		st[k].page = hmm_pfn_to_page(m->pfns[c->idx[k]]);
		get_page(st[k].page);	/* keep it while we look */
		p = kmap_local_page(st[k].page);
		memcpy(st[k].snap, p, PAGE_SIZE);
		kunmap_local(p);
	}
	for (k = 0; k < c->nidx; k++)
		odpt_unmap_range(m, st[k].idx, 1, 0, NULL);
	for (k = 0; k < c->nidx && !ret; k++) {
		u64 *src = st[k].snap;
		unsigned int j;
		void *p;

		/* A pattern differing from the page in every word. */
		for (j = 0; j < PAGE_SIZE / 8; j++)
			c->check[j] = ~src[j];
		ret = odpt_edu_check_to_page(st[k].addr, &v->dma_wait_ns);
		p = kmap_local_page(st[k].page);
		if (!ret && !memcmp(p, st[k].snap, PAGE_SIZE))
			v->stale_blocked++;
		kunmap_local(p);
		if (!ret)
			v->stale_checked++;
	}
	for (k = 0; k < c->nidx; k++)
		put_page(st[k].page);
	up_write(&odpt_dev_rwsem);
	return ret;
}

int odpt_ioc_verify(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_verify *v = data;
	struct odpt_verify c = { .m = m, .v = v };
	unsigned long first, n, want, k;
	int ret;

	ret = verify_check_args(m, v, &first, &n, &want);
	if (ret)
		return ret;
	v->pages_checked = 0;
	v->pages_matched = 0;
	v->stale_checked = 0;
	v->stale_blocked = 0;
	v->first_bad_addr = 0;
	v->dma_wait_ns = 0;

	ret = verify_alloc(&c, want);
	if (ret)
		goto out_free;
	/* One VERIFY owns the engine and the check buffer from its first
	 * transfer to its last: taken before the mirror lock (see
	 * odpt_hmm_internal.h), so a VERIFY waiting for the engine does not
	 * hold off invalidations of its own mirror.
	 */
	ret = odpt_edu_claim();
	if (ret)
		goto out_free;
	c.check = odpt_edu_check_buf();
	mutex_lock(&m->lock);
	ret = verify_sample(&c, first, n, want);
	if (!ret)
		ret = verify_permitted(&c);
	for (k = 0; !ret && k < c.nidx; k++)
		ret = verify_page(&c, c.idx[k]);
	if (!ret && (v->flags & ODPT_HMM_VERIFY_STALE))
		ret = verify_stale(&c);
	mutex_unlock(&m->lock);
	odpt_edu_unclaim();
out_free:
	verify_free(&c);
	return ret;
}
