// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DMA mappings of odpt_hmm.ko, in the three modes a mirror chooses at
 * REGISTER so their map/unmap costs and bookkeeping can be compared on the
 * same pages: hmm (hmm_dma_map_pfn: the IOVA window under an IOMMU, else the
 * direct path), page (dma_map_phys per page, a stored dma_addr_t and a
 * direction bit per page) and sg (one sg_table and dma_map_sgtable per MAP).
 * MAP faults through the mirror's loop (odpt_hmm_mirror.c) and maps under
 * the mirror lock; UNMAP, invalidations and release unmap here, marking
 * device-writable pages dirty. Every function but the ioctls is called with
 * the mirror lock held. Latencies go into the mirror's histograms.
 */
#include <linux/hmm.h>
#include <linux/hmm-dma.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "odpt_hmm_internal.h"

DECLARE_RWSEM(odpt_dev_rwsem);

/* Bytes sg_alloc_table() asks for: chunks of SG_MAX_SINGLE_ALLOC entries,
 * each but the last giving one entry to the chain link.
 */
static size_t sg_table_bytes(unsigned long nents)
{
	unsigned long left = nents, total = 0;

	while (left) {
		if (left > SG_MAX_SINGLE_ALLOC) {
			total += SG_MAX_SINGLE_ALLOC;
			left -= SG_MAX_SINGLE_ALLOC - 1;
		} else {
			total += left;
			left = 0;
		}
	}
	return total * sizeof(struct scatterlist);
}

/* ---- unmapping (under m->lock) ------------------------------------------ */

/*
 * The device may have written the page of entry @pfn through a mapping that
 * let it: mark the page dirty before the mapping goes, as umem_odp does for
 * mlx5, or reclaim may discard a clean (MADV_FREE) page with the device's
 * data. set_page_dirty(), not set_page_dirty_lock(): this runs in
 * invalidations, some of them under the page lock (reclaim, migration), and
 * the mirror lock keeps the page mapped in the CPU's tables meanwhile.
 */
static void dirty_entry_page(unsigned long pfn)
{
	if (!(pfn & HMM_PFN_VALID) || !(pfn & HMM_PFN_WRITE))
		return;
	set_page_dirty(compound_head(hmm_pfn_to_page(pfn)));
	atomic64_inc(&odpt_cnt.dirtied_pages);
}

static void sg_map_release(struct odpt_mirror *m, struct odpt_sg_map *s)
{
	unsigned long i;

	dma_unmap_sgtable(odpt_dma.dev, &s->sgt, s->dir, ODPT_DMA_ATTRS);
	for (i = s->first; i < s->first + s->npages; i++) {
		if (s->dir == DMA_BIDIRECTIONAL)
			dirty_entry_page(m->pfns[i]);
		m->pfns[i] &= ~HMM_PFN_FLAGS;
	}
	odpt_account_mapped(m, -(long)s->npages);
	odpt_account_bookkeeping(m, -(ssize_t)s->bytes);
	atomic64_dec(&odpt_cnt.sg_tables);
	list_del(&s->node);
	/* Freeing is fine in reclaim: only allocation is not. */
	sg_free_table(&s->sgt);
	kfree(s);
}

/* Unmap the sg mappings overlapping [first, first+n); pages unmapped. */
static unsigned long sg_unmap_overlapping(struct odpt_mirror *m,
					  unsigned long first, unsigned long n,
					  unsigned long *collateral)
{
	struct odpt_sg_map *s, *tmp;
	unsigned long pages = 0, lo, hi;

	list_for_each_entry_safe(s, tmp, &m->sg_maps, node) {
		if (s->first >= first + n || s->first + s->npages <= first)
			continue;
		lo = max(s->first, first);
		hi = min(s->first + s->npages, first + n);
		if (collateral)
			*collateral += s->npages - (hi - lo);
		pages += s->npages;
		sg_map_release(m, s);
	}
	return pages;
}

/* Mode hmm/page: unmap entry i if mapped; true if it was. */
static bool unmap_entry(struct odpt_mirror *m, unsigned long i)
{
	unsigned long *pfn = &m->pfns[i];

	if (!(*pfn & HMM_PFN_DMA_MAPPED))
		return false;
	if (m->mode == ODPT_HMM_MODE_HMM) {
		/* hmm_dma_map_pfn maps every entry DMA_BIDIRECTIONAL. */
		dirty_entry_page(*pfn);
		/* hmm_dma_unmap_pfn wants VALID|DMA_MAPPED; an entry that lost
		 * VALID without an invalidation must still be unmapped.
		 */
		*pfn |= HMM_PFN_VALID;
		hmm_dma_unmap_pfn(odpt_dma.dev, &m->map, i);
	} else {
		if (test_bit(i, m->dma_write))
			dirty_entry_page(*pfn);
		/* Unmap with the direction it was mapped with. */
		dma_unmap_phys(odpt_dma.dev, m->dma_addrs[i], PAGE_SIZE,
			       test_bit(i, m->dma_write) ? DMA_BIDIRECTIONAL :
							   DMA_TO_DEVICE, ODPT_DMA_ATTRS);
		clear_bit(i, m->dma_write);
		*pfn &= ~HMM_PFN_DMA_MAPPED;
	}
	odpt_account_mapped(m, -1);
	return true;
}

/* Entries between reschedule points of a long unmap walk (a strict IOMMU
 * flushes its IOTLB per entry: 2^24 entries take seconds).
 */
#define ODPT_RESCHED_PAGES	1024UL

/* Unmap [first, first+n) and forget the device's view of it. Returns pages
 * unmapped.
 */
unsigned long odpt_unmap_range(struct odpt_mirror *m, unsigned long first,
			       unsigned long n, unsigned int flags,
			       unsigned long *collateral)
{
	bool timed = flags & ODPT_UNMAP_TIMED;

	unsigned long i, done = 0;
	u64 t0, t;

	if (m->mode == ODPT_HMM_MODE_SG) {
		t0 = ktime_get_ns();
		done = sg_unmap_overlapping(m, first, n, collateral);
		t = ktime_get_ns() - t0;
		if (timed && done) {
			odpt_record(m, ODPT_HMM_HIST_UNMAP_NS_PER_CALL, t, 1);
			odpt_record(m, ODPT_HMM_HIST_UNMAP_NS_PER_PAGE, t / done, done);
		}
		for (i = first; i < first + n; i++)
			m->pfns[i] &= ~HMM_PFN_FLAGS;
		return done;
	}
	for (i = first; i < first + n; i++) {
		/* Sleeping with the mirror lock held is allowed (a mutex). */
		if ((flags & ODPT_UNMAP_MAY_SLEEP) && i > first &&
		    !((i - first) % ODPT_RESCHED_PAGES))
			cond_resched();
		if (m->pfns[i] & HMM_PFN_DMA_MAPPED) {
			t0 = ktime_get_ns();
			unmap_entry(m, i);
			t = ktime_get_ns() - t0;
			if (timed)
				odpt_record(m, ODPT_HMM_HIST_UNMAP_NS_PER_PAGE, t, 1);
			done++;
		}
		m->pfns[i] &= ~HMM_PFN_FLAGS;
	}
	return done;
}

/* ---- mapping (under m->lock) -------------------------------------------- */

/* Modes hmm and page: map the present, unmapped entries of a chunk. */
static int map_chunk(struct odpt_mirror *m, unsigned long first,
		     unsigned long n, struct odpt_hmm_map *out)
{
	struct device *dev = odpt_dma.dev;
	unsigned long i, mapped = 0;
	u64 t0, t, pass_ns = 0;
	dma_addr_t addr;
	int ret = 0;

	for (i = first; i < first + n; i++) {
		unsigned long pfn = m->pfns[i];

		if (!odpt_entry_present(pfn)) {
			out->npages_absent++;
			continue;
		}
		if ((pfn & HMM_PFN_DMA_MAPPED) && m->mode == ODPT_HMM_MODE_PAGE &&
		    (pfn & HMM_PFN_WRITE) && !test_bit(i, m->dma_write)) {
			/* Mapped DMA_TO_DEVICE while read-only, writable now
			 * (a write fault reused the page, no invalidation):
			 * remap it device-writable.
			 */
			unmap_entry(m, i);
			atomic64_inc(&odpt_cnt.dma_write_upgrades);
			pfn = m->pfns[i];
		}
		if (pfn & HMM_PFN_DMA_MAPPED) {
			out->npages_already++;
			continue;
		}
		if (m->mode == ODPT_HMM_MODE_HMM) {
			struct pci_p2pdma_map_state p2p = {};

			t0 = ktime_get_ns();
			addr = hmm_dma_map_pfn(dev, &m->map, i, &p2p);
			t = ktime_get_ns() - t0;
		} else {
			bool wr = pfn & HMM_PFN_WRITE;

			/* Device-writable only if the CPU mapping is writable:
			 * a read-only pfn may be the shared zero page.
			 */
			t0 = ktime_get_ns();
			addr = dma_map_phys(dev, hmm_pfn_to_phys(pfn), PAGE_SIZE,
					    wr ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE,
					    ODPT_DMA_ATTRS);
			t = ktime_get_ns() - t0;
			if (!dma_mapping_error(dev, addr)) {
				m->dma_addrs[i] = addr;
				m->pfns[i] |= HMM_PFN_DMA_MAPPED;
				if (wr)
					set_bit(i, m->dma_write);
			}
		}
		if (dma_mapping_error(dev, addr)) {
			ret = -ENOMEM;
			break;
		}
		odpt_account_mapped(m, 1);
		odpt_record(m, ODPT_HMM_HIST_MAP_NS_PER_PAGE, t, 1);
		pass_ns += t;
		mapped++;
	}
	if (mapped)
		odpt_record(m, ODPT_HMM_HIST_MAP_NS_PER_CALL, pass_ns, 1);
	out->npages_mapped += mapped;
	out->map_ns += pass_ns;
	spin_lock(&m->stats_lock);
	m->st.map_calls++;
	m->st.map_pages += mapped;
	spin_unlock(&m->stats_lock);
	return ret;
}

static bool sg_overlaps(struct odpt_mirror *m, unsigned long first,
			unsigned long n)
{
	struct odpt_sg_map *s;

	list_for_each_entry(s, &m->sg_maps, node)
		if (s->first < first + n && s->first + s->npages > first)
			return true;
	return false;
}

/* Attempts at a whole-range snapshot with every page present. */
#define ODPT_SG_SNAPSHOTS	8

/*
 * Mode sg: leave [first, first+n) faulted with req under one notifier
 * sequence, every entry present (and writable if asked), with the mirror
 * lock held. The pages are faulted in chunk by chunk first, each chunk under
 * its own sequence, so that the whole-range walk that follows finds them
 * present: a cold walk of a large range is slow enough for khugepaged or
 * compaction to restart it again and again, a walk of present pages is not.
 * The whole-range walk drops the lock between chunks, so the entries are
 * checked again under the lock that is kept: the table is built from them.
 */
static int sg_snapshot_and_lock(struct odpt_mirror *m, unsigned long first,
				unsigned long n, unsigned long req,
				unsigned long *scratch, struct odpt_acct *a)
{
	unsigned long i, done, c, want = HMM_PFN_VALID;
	unsigned int tries;
	int ret;

	if (req & HMM_PFN_REQ_WRITE)
		want |= HMM_PFN_WRITE;
	for (tries = 0; tries < ODPT_SG_SNAPSHOTS; tries++) {
		for (done = 0; n > ODPT_CHUNK_PAGES && done < n; done += c) {
			c = min(n - done, ODPT_CHUNK_PAGES);
			ret = odpt_mirror_fault_and_lock(m, first + done, c, req,
							 scratch, a);
			if (ret)
				return ret;
			mutex_unlock(&m->lock);
			cond_resched();
		}
		ret = odpt_mirror_fault_and_lock(m, first, n, req, scratch, a);
		if (ret)
			return ret;
		for (i = first; i < first + n; i++)
			if (!odpt_entry_present(m->pfns[i]) ||
			    (m->pfns[i] & want) != want)
				break;
		if (i == first + n)
			return 0;
		/* An UNMAP cleared entries between two chunks of the walk. */
		mutex_unlock(&m->lock);
		a->retries_seq++;
	}
	a->timeouts++;
	return -EBUSY;
}

static int map_sg(struct odpt_mirror *m, unsigned long first, unsigned long n,
		  unsigned long req, unsigned long *scratch,
		  struct odpt_hmm_map *out, struct odpt_acct *a)
{
	struct device *dev = odpt_dma.dev;
	struct scatterlist *sg;
	struct odpt_sg_map *s;
	unsigned long i;
	u64 t0, t_build, t;
	int ret;

	/* Allocate before the mirror lock: no GFP_KERNEL under it. */
	t0 = ktime_get_ns();
	s = kzalloc_obj(*s, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	ret = sg_alloc_table(&s->sgt, n, GFP_KERNEL | __GFP_NOWARN);
	if (ret) {
		kfree(s);
		return ret;
	}
	t_build = ktime_get_ns() - t0;
	s->first = first;
	s->npages = n;
	s->bytes = sizeof(*s) + sg_table_bytes(n);

	ret = sg_snapshot_and_lock(m, first, n, req, scratch, a);
	if (ret)
		goto err_free;
	if (sg_overlaps(m, first, n)) {
		ret = -EBUSY;
		goto err_unlock;
	}
	/* One direction per table: device-writable only if every page is
	 * writable for the CPU. A table mixing read-only pages (the zero page
	 * of untouched memory) is mapped DMA_TO_DEVICE as a whole: the device
	 * can read all of it and write none (VERIFY_WRITE: -EPERM); UNMAP and
	 * MAP again once the range is writable.
	 */
	s->dir = DMA_BIDIRECTIONAL;
	t0 = ktime_get_ns();
	for_each_sgtable_sg(&s->sgt, sg, i) {
		sg_set_page(sg, hmm_pfn_to_page(m->pfns[first + i]), PAGE_SIZE, 0);
		if (!(m->pfns[first + i] & HMM_PFN_WRITE))
			s->dir = DMA_TO_DEVICE;
	}
	t_build += ktime_get_ns() - t0;

	down_read(&odpt_dev_rwsem);
	t0 = ktime_get_ns();
	ret = dma_map_sgtable(dev, &s->sgt, s->dir, ODPT_DMA_ATTRS);
	t = ktime_get_ns() - t0;
	up_read(&odpt_dev_rwsem);
	if (ret)
		goto err_unlock;
	for (i = first; i < first + n; i++)
		m->pfns[i] |= HMM_PFN_DMA_MAPPED;
	list_add_tail(&s->node, &m->sg_maps);
	if (s->dir == DMA_TO_DEVICE)
		atomic64_inc(&odpt_cnt.sg_readonly_tables);
	odpt_account_mapped(m, n);
	odpt_account_bookkeeping(m, s->bytes);
	atomic64_inc(&odpt_cnt.sg_tables);
	mutex_unlock(&m->lock);

	out->npages_mapped = n;
	out->map_ns = t;
	spin_lock(&m->stats_lock);
	odpt_khist_record_n(&m->hist[ODPT_HMM_HIST_MAP_NS_PER_CALL], t, 1);
	odpt_khist_record_n(&m->hist[ODPT_HMM_HIST_MAP_NS_PER_PAGE], t / n, n);
	m->st.map_calls++;
	m->st.map_pages += n;
	m->st.sg_tables++;
	m->st.sg_build_ns += t_build;
	spin_unlock(&m->stats_lock);
	return 0;

err_unlock:
	mutex_unlock(&m->lock);
err_free:
	sg_free_table(&s->sgt);
	kfree(s);
	return ret;
}

int odpt_ioc_map(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_map *p = data;
	unsigned long first, n, done, c, req = HMM_PFN_REQ_FAULT, *scratch;
	struct odpt_acct a = {};
	int ret;

	if (p->flags & ~(ODPT_HMM_FAULT_WRITE | ODPT_HMM_MAP_NOFAULT))
		return -EINVAL;
	if ((p->flags & ODPT_HMM_FAULT_WRITE) && (p->flags & ODPT_HMM_MAP_NOFAULT))
		return -EINVAL;	/* HMM_PFN_REQ_WRITE needs REQ_FAULT */
	if (m->mode == ODPT_HMM_MODE_SG && (p->flags & ODPT_HMM_MAP_NOFAULT))
		return -EINVAL;	/* an sg mapping cannot have holes */
	ret = odpt_mirror_span(m, p->addr, p->len, &first, &n);
	if (ret)
		return ret;
	if (p->flags & ODPT_HMM_FAULT_WRITE)
		req |= HMM_PFN_REQ_WRITE;
	if (p->flags & ODPT_HMM_MAP_NOFAULT)
		req = 0;
	p->npages_mapped = 0;
	p->npages_already = 0;
	p->npages_absent = 0;
	p->map_ns = 0;
	scratch = odpt_scratch_alloc();
	if (!scratch)
		return -ENOMEM;

	if (m->mode == ODPT_HMM_MODE_SG) {
		ret = map_sg(m, first, n, req, scratch, p, &a);
	} else {
		for (done = 0; done < n; done += c) {
			c = min(n - done, ODPT_CHUNK_PAGES);
			ret = odpt_mirror_fault_and_lock(m, first + done, c, req,
							 scratch, &a);
			if (ret)
				break;
			down_read(&odpt_dev_rwsem);
			ret = map_chunk(m, first + done, c, p);
			up_read(&odpt_dev_rwsem);
			mutex_unlock(&m->lock);
			if (ret)
				break;
			cond_resched();
		}
	}
	kfree(scratch);
	odpt_fold_acct(m, &a);
	p->fault_ns = a.fault_ns;
	p->retries_busy = a.retries_busy;
	p->retries_seq = a.retries_seq;
	return ret;
}

int odpt_ioc_unmap(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_unmap *u = data;
	unsigned long first, n, pages;
	u64 t0, t;
	int ret;

	if (u->flags)
		return -EINVAL;
	ret = odpt_mirror_span(m, u->addr, u->len, &first, &n);
	if (ret)
		return ret;
	mutex_lock(&m->lock);
	t0 = ktime_get_ns();
	pages = odpt_unmap_range(m, first, n,
				 ODPT_UNMAP_TIMED | ODPT_UNMAP_MAY_SLEEP, NULL);
	t = ktime_get_ns() - t0;
	mutex_unlock(&m->lock);
	spin_lock(&m->stats_lock);
	m->st.unmap_calls++;
	m->st.unmap_pages += pages;
	if (pages && m->mode != ODPT_HMM_MODE_SG)
		odpt_khist_record_n(&m->hist[ODPT_HMM_HIST_UNMAP_NS_PER_CALL], t, 1);
	spin_unlock(&m->stats_lock);
	u->npages_unmapped = pages;
	u->unmap_ns = t;
	return 0;
}

/* May the device write mapped entry i (m->lock held)? Mode hmm maps every
 * entry DMA_BIDIRECTIONAL (hmm_dma_map_pfn, upstream behaviour).
 */
bool odpt_entry_dev_writable(struct odpt_mirror *m, unsigned long i)
{
	struct odpt_sg_map *s;

	if (m->mode == ODPT_HMM_MODE_HMM)
		return true;
	if (m->mode == ODPT_HMM_MODE_PAGE)
		return test_bit(i, m->dma_write);
	list_for_each_entry(s, &m->sg_maps, node)
		if (i >= s->first && i < s->first + s->npages)
			return s->dir == DMA_BIDIRECTIONAL;
	return false;
}

/* The DMA address entry i is mapped at (m->lock held, entry mapped). */
dma_addr_t odpt_entry_dma_addr(struct odpt_mirror *m, unsigned long i)
{
	struct odpt_sg_map *s;
	struct scatterlist *sg;
	unsigned long off;
	unsigned int k;

	if (m->mode == ODPT_HMM_MODE_PAGE)
		return m->dma_addrs[i];
	if (m->mode == ODPT_HMM_MODE_HMM) {
		struct pci_p2pdma_map_state p2p = {};

		/* Where hmm_dma_map_pfn() put it: the IOVA window at the
		 * entry's offset, or the address it recorded per page.
		 */
		if (dma_use_iova(&m->map.state))
			return m->map.state.addr + ((dma_addr_t)i << PAGE_SHIFT);
		if (m->map.dma_list)
			return m->map.dma_list[i];
		/* Direct path with nothing recorded (dma_need_unmap() false):
		 * the address is a function of the physical one and mapping
		 * again only recomputes it, with no state to undo.
		 */
		return hmm_dma_map_pfn(odpt_dma.dev, &m->map, i, &p2p);
	}
	list_for_each_entry(s, &m->sg_maps, node) {
		if (i < s->first || i >= s->first + s->npages)
			continue;
		off = (i - s->first) << PAGE_SHIFT;
		for_each_sgtable_dma_sg(&s->sgt, sg, k) {
			if (off < sg_dma_len(sg))
				return sg_dma_address(sg) + off;
			off -= sg_dma_len(sg);
		}
	}
	return DMA_MAPPING_ERROR;
}

/* Undo every mapping of m (m->lock held, the device still bound). Pages
 * left counted as mapped are a module bug.
 */
void odpt_mirror_unmap_all(struct odpt_mirror *m)
{
	odpt_unmap_range(m, 0, m->npages, ODPT_UNMAP_MAY_SLEEP, NULL);
	/* Anything left would be a DMA mapping nobody can undo: only a module
	 * bug (a DMA_MAPPED bit lost while its mapping lived) gets here.
	 */
	if (WARN_ON_ONCE(m->mapped_pages))
		atomic64_add(m->mapped_pages, &odpt_cnt.release_leaked);
}

