// SPDX-License-Identifier: GPL-2.0-only
/*
 * odpt_hmm.ko: an HMM mirror with DMA-mapped PFNs, timed. Each open file of
 * /dev/odpt_hmm is one mirror of a user range of the opener's mm: an
 * mmu_interval_notifier, hmm_range_fault with the read_begin/retry loop, and
 * DMA mappings for one device in one of three modes (hmm helpers, classic
 * per page, one sg_table) so their map/unmap costs and bookkeeping can be
 * compared on the same pages. Invalidations unmap under the mirror lock.
 * Latencies go into histograms in the layout of uapi/odpt_hmm_hist.h.
 *
 * Locking: odpt_dev_bind (read: an ioctl or release using the device;
 * write: the device binds or goes, see odpt_hmm_internal.h), then the edu
 * owner (one VERIFY at a time owns the engine and the check buffer), then
 * mmap_lock, then mirror->lock (the lock that pairs mmu_interval_set_seq
 * with mmu_interval_read_retry and guards the PFN and DMA arrays), then
 * odpt_dev_rwsem. mirror->stats_lock (a spinlock) is innermost and only
 * guards counters; odpt_mirrors_lock (the list of open files) nests inside
 * odpt_dev_bind and outside mirror->lock. No GFP_KERNEL allocation under
 * mirror->lock: invalidations run in reclaim.
 *
 * Device removal: the device layer takes odpt_dev_bind for write (so no
 * ioctl is using the device), calls odpt_dev_detach_mirrors() to undo every
 * mapping and IOVA window while the device still exists, and marks every
 * open file dead: from then on the ioctls that need the device return
 * -ENODEV on it, also after a re-scan binds edu again (a new open gets the
 * new device). Statistics, histograms and GLOBAL keep working.
 */
#include <linux/fs.h>
#include <linux/hmm.h>
#include <linux/hmm-dma.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/pci-p2pdma.h>
#include <linux/rwsem.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "odpt_hmm_internal.h"

/* hmm_range_fault calls and locked mapping passes cover at most this many
 * pages (as umem_odp does), so a collision retries a bounded amount. */
#define ODPT_CHUNK_PAGES	512UL
#define ODPT_VERIFY_DEFAULT	4
#define ODPT_VERIFY_MAX		64
/*
 * Attributes of the page and sg modes' mappings: those hmm_dma_map_pfn()
 * uses, so that all three modes map under one contract. The module never
 * syncs (dma_sync_*), as umem_odp never does: a mapping that would need it
 * (swiotlb bouncing, a non-coherent device) must fail, not go stale. It
 * also keeps DMA-API debug's books straight on the direct path, where two
 * mirrors in different modes that map one page (the zero page, a shared
 * buffer) get the same address: its lookup tells entries apart by size,
 * type and direction, not by attributes, and reported "frees DMA memory
 * with different attributes" when it matched the other mode's entry.
 */
#define ODPT_DMA_ATTRS		DMA_ATTR_REQUIRE_COHERENT

static char *device = "auto";
module_param(device, charp, 0444);
MODULE_PARM_DESC(device, "DMA device: auto (edu if present, else faux), edu, faux");

/* Module-wide leak counters (also read-only module parameters). */
static atomic64_t g_mirrors, g_registered, g_live_mappings, g_iova_reserved,
	g_sg_tables, g_bookkeeping;
/* Consistency checks, both 0 unless the module has a bug: entries a fault
 * found still DMA-mapped although the CPU now maps another page there (or
 * none), unmapped then; and pages a mirror still counted as mapped after its
 * release had unmapped everything (a mapping nobody can undo any more). */
static atomic64_t g_stale_mapped, g_release_leaked;
/* Device-write direction: mode page entries remapped DMA_BIDIRECTIONAL by a
 * MAP after the CPU made their page writable with no invalidation between
 * (first mapped DMA_TO_DEVICE); mode sg tables mapped DMA_TO_DEVICE because
 * at least one of their pages lacked HMM_PFN_WRITE. */
static atomic64_t g_dma_write_upgrades, g_sg_readonly_tables;
/* Pages marked dirty when a device-writable mapping of them was undone (the
 * device may have written them behind the CPU's back: without this, reclaim
 * drops a clean MADV_FREE page and the device's data with it). */
static atomic64_t g_dirtied_pages;

/* Mapping paths take it shared; a stale-address check takes it exclusive so
 * no IOVA freed by its unmap is reused by another mirror meanwhile. */
static DECLARE_RWSEM(odpt_dev_rwsem);

/* Every open file, for device removal (odpt_dev_detach_mirrors). */
static LIST_HEAD(odpt_mirrors);
static DEFINE_MUTEX(odpt_mirrors_lock);

struct odpt_khist {
	u64 total, overflow, min, max, sum;
	u64 counts[ODPT_HMM_HIST_COUNTS_LEN];
};

struct odpt_sg_map {
	struct list_head node;
	unsigned long first, npages;	/* page indexes in the mirror */
	struct sg_table sgt;
	enum dma_data_direction dir;	/* TO_DEVICE unless every page writable */
	size_t bytes;			/* bookkeeping of this table */
};

struct odpt_mirror {
	struct list_head node;		/* in odpt_mirrors */
	/* The device this file mapped for went away: its mappings are
	 * undone and its device ioctls fail with -ENODEV. Set with
	 * odpt_dev_bind held for write and mirror->lock; read under either. */
	bool dead;
	struct mm_struct *mm;		/* the opener's, mmgrab'ed */
	struct mutex reg_lock;		/* serialises REGISTER */
	bool registered;		/* set once, with release ordering */
	u32 mode;
	unsigned long start, npages;
	struct mmu_interval_notifier notifier;

	struct mutex lock;		/* the mirror lock, see the top */
	struct hmm_dma_map map;		/* mode hmm; pfn_list only otherwise */
	unsigned long *pfns;		/* == map.pfn_list in every mode */
	dma_addr_t *dma_addrs;		/* mode page */
	/* Mode page: bit i set = entry i is mapped DMA_BIDIRECTIONAL (its pfn
	 * had HMM_PFN_WRITE), clear = DMA_TO_DEVICE: the device may only
	 * write a page the CPU mapping lets it write (never the zero page). */
	unsigned long *dma_write;
	struct list_head sg_maps;	/* mode sg */
	unsigned long mapped_pages;
	size_t bookkeeping;

	spinlock_t stats_lock;
	struct odpt_hmm_stats st;	/* counters, uAPI layout */
	struct odpt_khist *hist;	/* ODPT_HMM_HIST_NR of them */
};

/* What one fault/map pass did; folded into the mirror's stats at the end. */
struct odpt_acct {
	u64 fault_ns, fault_calls, fault_pages, retries_busy, retries_seq;
	u64 timeouts;
};

static void khist_record_n(struct odpt_khist *h, u64 v, u64 n)
{
	if (!n)
		return;
	if (v < ODPT_HMM_HIST_LOWEST)
		v = ODPT_HMM_HIST_LOWEST;	/* a 0 ns reading is below resolution */
	if (v > ODPT_HMM_HIST_HIGHEST) {
		h->overflow += n;
		return;
	}
	h->counts[odpt_hmm_hist_index(v)] += n;
	if (!h->total || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->total += n;
	h->sum += v * n;
}

static void record(struct odpt_mirror *m, int id, u64 v, u64 n)
{
	spin_lock(&m->stats_lock);
	khist_record_n(&m->hist[id], v, n);
	spin_unlock(&m->stats_lock);
}

static void fold_acct(struct odpt_mirror *m, const struct odpt_acct *a)
{
	spin_lock(&m->stats_lock);
	m->st.fault_calls += a->fault_calls;
	m->st.fault_pages += a->fault_pages;
	m->st.retries_busy += a->retries_busy;
	m->st.retries_seq += a->retries_seq;
	m->st.timeouts += a->timeouts;
	spin_unlock(&m->stats_lock);
}

static void account_bookkeeping(struct odpt_mirror *m, ssize_t delta)
{
	m->bookkeeping += delta;
	atomic64_add(delta, &g_bookkeeping);
}

static void account_mapped(struct odpt_mirror *m, long delta)
{
	m->mapped_pages += delta;
	atomic64_add(delta, &g_live_mappings);
}

/* Bytes sg_alloc_table() asks for: chunks of SG_MAX_SINGLE_ALLOC entries,
 * each but the last giving one entry to the chain link. */
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
	atomic64_inc(&g_dirtied_pages);
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
	account_mapped(m, -(long)s->npages);
	account_bookkeeping(m, -(ssize_t)s->bytes);
	atomic64_dec(&g_sg_tables);
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
		 * VALID without an invalidation must still be unmapped. */
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
	account_mapped(m, -1);
	return true;
}

/* unmap_range() flags: time into the unmap histograms; the caller may sleep
 * (not a non-blockable invalidation), so long walks reschedule. */
#define UNMAP_TIMED	BIT(0)
#define UNMAP_MAY_SLEEP	BIT(1)
/* Entries between reschedule points of a long unmap walk (a strict IOMMU
 * flushes its IOTLB per entry: 2^24 entries take seconds). */
#define ODPT_RESCHED_PAGES	1024UL

/* Unmap [first, first+n) and forget the device's view of it. Returns pages
 * unmapped. */
static unsigned long unmap_range(struct odpt_mirror *m, unsigned long first,
				 unsigned long n, unsigned int flags,
				 unsigned long *collateral)
{
	bool timed = flags & UNMAP_TIMED;

	unsigned long i, done = 0;
	u64 t0, t;

	if (m->mode == ODPT_HMM_MODE_SG) {
		t0 = ktime_get_ns();
		done = sg_unmap_overlapping(m, first, n, collateral);
		t = ktime_get_ns() - t0;
		if (timed && done) {
			record(m, ODPT_HMM_HIST_UNMAP_NS_PER_CALL, t, 1);
			record(m, ODPT_HMM_HIST_UNMAP_NS_PER_PAGE, t / done, done);
		}
		for (i = first; i < first + n; i++)
			m->pfns[i] &= ~HMM_PFN_FLAGS;
		return done;
	}
	for (i = first; i < first + n; i++) {
		/* Sleeping with the mirror lock held is allowed (a mutex). */
		if ((flags & UNMAP_MAY_SLEEP) && i > first &&
		    !((i - first) % ODPT_RESCHED_PAGES))
			cond_resched();
		if (m->pfns[i] & HMM_PFN_DMA_MAPPED) {
			t0 = ktime_get_ns();
			unmap_entry(m, i);
			t = ktime_get_ns() - t0;
			if (timed)
				record(m, ODPT_HMM_HIST_UNMAP_NS_PER_PAGE, t, 1);
			done++;
		}
		m->pfns[i] &= ~HMM_PFN_FLAGS;
	}
	return done;
}

/* ---- the notifier ------------------------------------------------------- */

static bool odpt_invalidate(struct mmu_interval_notifier *mni,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct odpt_mirror *m = container_of(mni, struct odpt_mirror, notifier);
	unsigned long start, end, pages, collateral = 0;
	u64 t0 = ktime_get_ns();

	if (mmu_notifier_range_blockable(range)) {
		mutex_lock(&m->lock);
	} else if (!mutex_trylock(&m->lock)) {
		spin_lock(&m->stats_lock);
		m->st.invalidations_nonblock_fail++;
		spin_unlock(&m->stats_lock);
		return false;
	}
	mmu_interval_set_seq(mni, cur_seq);
	start = max(range->start, m->start);
	end = min(range->end, m->start + (m->npages << PAGE_SHIFT));
	pages = 0;
	if (start < end)
		pages = unmap_range(m, (start - m->start) >> PAGE_SHIFT,
				    (end - start) >> PAGE_SHIFT,
				    mmu_notifier_range_blockable(range) ?
				    UNMAP_MAY_SLEEP : 0, &collateral);
	mutex_unlock(&m->lock);
	spin_lock(&m->stats_lock);
	m->st.invalidations++;
	m->st.invalidate_pages += pages;
	m->st.invalidate_collateral_pages += collateral;
	khist_record_n(&m->hist[ODPT_HMM_HIST_INVALIDATE_NS],
		       ktime_get_ns() - t0, 1);
	spin_unlock(&m->stats_lock);
	return true;
}

static const struct mmu_interval_notifier_ops odpt_notifier_ops = {
	.invalidate = odpt_invalidate,
};

/* ---- the fault loop ----------------------------------------------------- */

/* The sticky bits hmm_range_fault carries from input to output. */
#define ODPT_PFN_INOUT (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS)

static bool entry_present(unsigned long pfn)
{
	return (pfn & HMM_PFN_VALID) && !(pfn & HMM_PFN_ERROR);
}

/* Does walk entry @cur still describe the page mapping @old was made for? */
static bool same_page(unsigned long old, unsigned long cur)
{
	return (cur & HMM_PFN_VALID) && !(cur & HMM_PFN_ERROR) &&
	       (old & ~HMM_PFN_FLAGS) == (cur & ~HMM_PFN_FLAGS);
}

/*
 * Take a walk of [first, first+n) into the mirror (m->lock held, no
 * invalidation since the walk's mmu_interval_read_begin): the mirror keeps
 * its in-out bits, the rest is the walk's.
 *
 * Merges only go forward. Walks of one range may be merged out of order (the
 * lock is dropped between a walk and its merge), and a page becoming present
 * or writable sends no invalidation, so an older walk can have seen a hole,
 * or a read-only PTE, where a newer walk already merged a present, writable
 * page. The reverse needs an invalidation, which clears the entry under this
 * lock and fails the older walk's retry check. So a walk entry that is not
 * present never clears a present one, and a present entry of the same page
 * keeps its HMM_PFN_WRITE.
 *
 * A DMA-mapped entry whose page the walk finds replaced by another cannot
 * occur: that needs an invalidation, which unmaps the entry under this lock
 * (and fails the retry check of a walk it overlapped). Should it happen all
 * the same, count it (no WARN: the mapping is undone here, the counter is
 * for the tests) and unmap the old page before the entry takes the new one.
 */
static void merge_walk(struct odpt_mirror *m, unsigned long first,
		       unsigned long n, const unsigned long *walk)
{
	unsigned long i, *pfn;

	for (i = 0; i < n; i++) {
		pfn = &m->pfns[first + i];
		if (!(*pfn & HMM_PFN_DMA_MAPPED) || !entry_present(walk[i]) ||
		    same_page(*pfn, walk[i]))
			continue;
		atomic64_inc(&g_stale_mapped);
		unmap_range(m, first + i, 1, 0, NULL);
	}
	/* A second pass: in mode sg an unmap clears the whole table's entries,
	 * some of them maybe already merged in a single pass. */
	for (i = 0; i < n; i++) {
		pfn = &m->pfns[first + i];
		if (!entry_present(walk[i])) {
			if (entry_present(*pfn))
				continue;	/* an older walk's hole */
		} else if (same_page(*pfn, walk[i])) {
			*pfn = (*pfn & (ODPT_PFN_INOUT | HMM_PFN_WRITE)) |
			       (walk[i] & ~ODPT_PFN_INOUT);
			continue;
		}
		*pfn = (*pfn & ODPT_PFN_INOUT) | (walk[i] & ~ODPT_PFN_INOUT);
	}
}

/*
 * Restarts one fault call may take (a walk collided with an invalidation),
 * and how long it may go without progress (a chunk merged). Progress, not
 * the whole call, is timed: a walk of 2^18 pages under TCG takes longer than
 * HMM_RANGE_DEFAULT_TIMEOUT by itself, and khugepaged, compaction or NUMA
 * hints may restart it a few times. The budget bounds a range that churns
 * faster than it can be walked (-EBUSY, counted in timeouts).
 */
#define ODPT_FAULT_RESTARTS	64

/*
 * Fault [first, first+n) with req (HMM_PFN_REQ_* or 0 for a snapshot) under
 * one notifier sequence, in calls of at most ODPT_CHUNK_PAGES pages. On 0 the
 * mirror lock is held and no invalidation hit the range since the walk.
 *
 * hmm_range_fault writes into the caller's scratch array (ODPT_CHUNK_PAGES
 * entries), never into the mirror's PFN array: another thread may be mapping
 * or unmapping those entries under the mirror lock, and an unlocked
 * read-modify-write of the sticky DMA bits would lose or resurrect them. Each
 * chunk is merged under the lock after the retry check, keeping the mirror's
 * DMA bits (valid: no invalidation since the walk began). Between chunks the
 * lock is dropped: an UNMAP may clear earlier chunks' entries meanwhile (no
 * invalidation), so a caller that needs every entry present re-checks.
 */
static int fault_locked(struct odpt_mirror *m, unsigned long first,
			unsigned long n, unsigned long req, unsigned long *scratch,
			struct odpt_acct *a)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	struct hmm_range range = {
		.notifier = &m->notifier,
		.default_flags = req,
		.pfn_flags_mask = 0,
		.hmm_pfns = scratch,
	};
	unsigned long done, c;
	unsigned int restarts = 0;
	u64 t0, t;
	int ret;

	goto begin;
again:
	if (++restarts > ODPT_FAULT_RESTARTS || time_after(jiffies, deadline)) {
		a->timeouts++;
		return -EBUSY;
	}
begin:
	if (fatal_signal_pending(current))
		return -EINTR;
	range.notifier_seq = mmu_interval_read_begin(&m->notifier);
	for (done = 0; done < n; done += c) {
		c = min(n - done, ODPT_CHUNK_PAGES);
		range.start = m->start + ((first + done) << PAGE_SHIFT);
		range.end = range.start + (c << PAGE_SHIFT);
		memset(scratch, 0, c * sizeof(*scratch));
		if (mmap_read_lock_killable(m->mm))
			return -EINTR;
		t0 = ktime_get_ns();
		ret = hmm_range_fault(&range);
		t = ktime_get_ns() - t0;
		mmap_read_unlock(m->mm);
		if (ret == -EBUSY) {
			a->retries_busy++;
			goto again;
		}
		if (ret)
			return ret;
		a->fault_calls++;
		a->fault_pages += c;
		a->fault_ns += t;
		spin_lock(&m->stats_lock);
		khist_record_n(&m->hist[ODPT_HMM_HIST_FAULT_NS_PER_CALL], t, 1);
		khist_record_n(&m->hist[ODPT_HMM_HIST_FAULT_NS_PER_PAGE],
			       t / c, c);
		spin_unlock(&m->stats_lock);

		mutex_lock(&m->lock);
		if (mmu_interval_read_retry(&m->notifier, range.notifier_seq)) {
			mutex_unlock(&m->lock);
			a->retries_seq++;
			goto again;
		}
		merge_walk(m, first + done, c, scratch);
		deadline = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
		/* Earlier chunks stay valid: the same sequence covers them,
		 * and the last check below (under the lock we keep) is final. */
		if (done + c < n) {
			mutex_unlock(&m->lock);
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

static unsigned long *scratch_alloc(void)
{
	return kmalloc_array(ODPT_CHUNK_PAGES, sizeof(unsigned long), GFP_KERNEL);
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

		if (!entry_present(pfn)) {
			out->npages_absent++;
			continue;
		}
		if ((pfn & HMM_PFN_DMA_MAPPED) && m->mode == ODPT_HMM_MODE_PAGE &&
		    (pfn & HMM_PFN_WRITE) && !test_bit(i, m->dma_write)) {
			/* Mapped DMA_TO_DEVICE while read-only, writable now
			 * (a write fault reused the page, no invalidation):
			 * remap it device-writable. */
			unmap_entry(m, i);
			atomic64_inc(&g_dma_write_upgrades);
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
			 * a read-only pfn may be the shared zero page. */
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
		account_mapped(m, 1);
		record(m, ODPT_HMM_HIST_MAP_NS_PER_PAGE, t, 1);
		pass_ns += t;
		mapped++;
	}
	if (mapped)
		record(m, ODPT_HMM_HIST_MAP_NS_PER_CALL, pass_ns, 1);
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
static int sg_snapshot_locked(struct odpt_mirror *m, unsigned long first,
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
			ret = fault_locked(m, first + done, c, req, scratch, a);
			if (ret)
				return ret;
			mutex_unlock(&m->lock);
			cond_resched();
		}
		ret = fault_locked(m, first, n, req, scratch, a);
		if (ret)
			return ret;
		for (i = first; i < first + n; i++)
			if (!entry_present(m->pfns[i]) ||
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
	s = kzalloc(sizeof(*s), GFP_KERNEL);
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

	ret = sg_snapshot_locked(m, first, n, req, scratch, a);
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
	 * MAP again once the range is writable. */
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
		atomic64_inc(&g_sg_readonly_tables);
	account_mapped(m, n);
	account_bookkeeping(m, s->bytes);
	atomic64_inc(&g_sg_tables);
	mutex_unlock(&m->lock);

	out->npages_mapped = n;
	out->map_ns = t;
	spin_lock(&m->stats_lock);
	khist_record_n(&m->hist[ODPT_HMM_HIST_MAP_NS_PER_CALL], t, 1);
	khist_record_n(&m->hist[ODPT_HMM_HIST_MAP_NS_PER_PAGE], t / n, n);
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

/* ---- ioctls ------------------------------------------------------------- */

static bool mirror_registered(struct odpt_mirror *m)
{
	return smp_load_acquire(&m->registered);
}

/* Check and convert [addr, addr+len) to page indexes of the mirror. */
static int mirror_span(struct odpt_mirror *m, u64 addr, u64 len,
		       unsigned long *first, unsigned long *n)
{
	u64 end = m->start + ((u64)m->npages << PAGE_SHIFT);

	if (!len || !PAGE_ALIGNED(addr) || !PAGE_ALIGNED(len))
		return -EINVAL;
	if (addr + len < addr || addr < m->start || addr + len > end)
		return -ERANGE;
	*first = (addr - m->start) >> PAGE_SHIFT;
	*n = len >> PAGE_SHIFT;
	return 0;
}

static int ioc_register(struct odpt_mirror *m, struct odpt_hmm_register *r)
{
	unsigned long npages;
	size_t bytes;
	u64 t0;
	int ret;

	if (r->flags || r->reserved)
		return -EINVAL;
	if (!r->len || !PAGE_ALIGNED(r->addr) || !PAGE_ALIGNED(r->len))
		return -EINVAL;
	if (r->addr + r->len < r->addr)
		return -EOVERFLOW;
	if (r->addr + r->len > TASK_SIZE)
		return -EFAULT;
	if (r->len > ODPT_HMM_MAX_LEN)
		return -E2BIG;
	if (r->mode < ODPT_HMM_MODE_HMM || r->mode > ODPT_HMM_MODE_SG)
		return -EINVAL;
	npages = r->len >> PAGE_SHIFT;

	mutex_lock(&m->reg_lock);
	if (m->registered) {
		ret = -EBUSY;
		goto out_unlock;
	}
	t0 = ktime_get_ns();
	if (r->mode == ODPT_HMM_MODE_HMM) {
		ret = hmm_dma_map_alloc(odpt_dma.dev, &m->map, npages, PAGE_SIZE);
		if (ret)
			goto out_unlock;
	} else {
		/* Charged to the caller's memory cgroup (__GFP_ACCOUNT):
		 * 16+ bytes per page of a range up to ODPT_HMM_MAX_LEN. */
		m->map.pfn_list = kvcalloc(npages, sizeof(unsigned long),
					   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!m->map.pfn_list) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		if (r->mode == ODPT_HMM_MODE_PAGE) {
			m->dma_addrs = kvcalloc(npages, sizeof(dma_addr_t),
						GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
			m->dma_write = kvcalloc(BITS_TO_LONGS(npages),
						sizeof(unsigned long),
						GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
			if (!m->dma_addrs || !m->dma_write) {
				ret = -ENOMEM;
				goto err_free_arrays;
			}
		}
	}
	r->setup_ns = ktime_get_ns() - t0;
	m->pfns = m->map.pfn_list;
	m->mode = r->mode;
	m->start = r->addr;
	m->npages = npages;

	ret = mmu_interval_notifier_insert(&m->notifier, current->mm, r->addr,
					   r->len, &odpt_notifier_ops);
	if (ret)
		goto err_free_arrays;
	/* Invalidations take the mirror lock in reclaim: tell lockdep now, so
	 * an allocation that could recurse into it under the lock is reported
	 * on first use, not only when reclaim happens to hit (as umem_odp). */
	if (IS_ENABLED(CONFIG_LOCKDEP)) {
		fs_reclaim_acquire(GFP_KERNEL);
		mutex_lock(&m->lock);
		mutex_unlock(&m->lock);
		fs_reclaim_release(GFP_KERNEL);
	}

	bytes = npages * sizeof(unsigned long);
	if (m->map.dma_list || m->dma_addrs)
		bytes += npages * sizeof(dma_addr_t);
	if (m->dma_write)
		bytes += BITS_TO_LONGS(npages) * sizeof(unsigned long);
	account_bookkeeping(m, bytes);
	if (dma_use_iova(&m->map.state))
		atomic64_add(dma_iova_size(&m->map.state), &g_iova_reserved);
	atomic64_inc(&g_registered);

	spin_lock(&m->stats_lock);
	m->st.setup_ns = r->setup_ns;
	spin_unlock(&m->stats_lock);
	r->npages = npages;
	r->bookkeeping_bytes = bytes;
	r->dma_use_iova = dma_use_iova(&m->map.state);
	r->dma_need_unmap = dma_need_unmap(odpt_dma.dev);
	smp_store_release(&m->registered, true);
	mutex_unlock(&m->reg_lock);
	return 0;

err_free_arrays:
	if (r->mode == ODPT_HMM_MODE_HMM) {
		hmm_dma_map_free(odpt_dma.dev, &m->map);
	} else {
		kvfree(m->dma_write);
		kvfree(m->dma_addrs);
		kvfree(m->map.pfn_list);
	}
	memset(&m->map, 0, sizeof(m->map));
	m->dma_write = NULL;
	m->dma_addrs = NULL;
	m->pfns = NULL;
	m->mode = 0;
out_unlock:
	mutex_unlock(&m->reg_lock);
	return ret;
}

static int ioc_fault(struct odpt_mirror *m, struct odpt_hmm_fault *f)
{
	unsigned long first, n, done, c, req = HMM_PFN_REQ_FAULT, *scratch;
	struct odpt_acct a = {};
	int ret;

	if (f->flags & ~ODPT_HMM_FAULT_WRITE)
		return -EINVAL;
	ret = mirror_span(m, f->addr, f->len, &first, &n);
	if (ret)
		return ret;
	if (f->flags & ODPT_HMM_FAULT_WRITE)
		req |= HMM_PFN_REQ_WRITE;
	scratch = scratch_alloc();
	if (!scratch)
		return -ENOMEM;
	for (done = 0; done < n; done += c) {
		c = min(n - done, ODPT_CHUNK_PAGES);
		ret = fault_locked(m, first + done, c, req, scratch, &a);
		if (ret)
			break;
		mutex_unlock(&m->lock);
		cond_resched();
	}
	kfree(scratch);
	fold_acct(m, &a);
	f->npages = ret ? 0 : n;
	f->fault_ns = a.fault_ns;
	f->retries_busy = a.retries_busy;
	f->retries_seq = a.retries_seq;
	return ret;
}

static int ioc_map(struct odpt_mirror *m, struct odpt_hmm_map *p)
{
	unsigned long first, n, done, c, req = HMM_PFN_REQ_FAULT, *scratch;
	struct odpt_acct a = {};
	int ret;

	if (p->flags & ~(ODPT_HMM_FAULT_WRITE | ODPT_HMM_MAP_NOFAULT))
		return -EINVAL;
	if ((p->flags & ODPT_HMM_FAULT_WRITE) && (p->flags & ODPT_HMM_MAP_NOFAULT))
		return -EINVAL;	/* HMM_PFN_REQ_WRITE needs REQ_FAULT */
	if (m->mode == ODPT_HMM_MODE_SG && (p->flags & ODPT_HMM_MAP_NOFAULT))
		return -EINVAL;	/* an sg mapping cannot have holes */
	ret = mirror_span(m, p->addr, p->len, &first, &n);
	if (ret)
		return ret;
	if (p->flags & ODPT_HMM_FAULT_WRITE)
		req |= HMM_PFN_REQ_WRITE;
	if (p->flags & ODPT_HMM_MAP_NOFAULT)
		req = 0;
	p->npages_mapped = p->npages_already = p->npages_absent = 0;
	p->map_ns = 0;
	scratch = scratch_alloc();
	if (!scratch)
		return -ENOMEM;

	if (m->mode == ODPT_HMM_MODE_SG) {
		ret = map_sg(m, first, n, req, scratch, p, &a);
	} else {
		for (done = 0; done < n; done += c) {
			c = min(n - done, ODPT_CHUNK_PAGES);
			ret = fault_locked(m, first + done, c, req, scratch, &a);
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
	fold_acct(m, &a);
	p->fault_ns = a.fault_ns;
	p->retries_busy = a.retries_busy;
	p->retries_seq = a.retries_seq;
	return ret;
}

static int ioc_unmap(struct odpt_mirror *m, struct odpt_hmm_unmap *u)
{
	unsigned long first, n, pages;
	u64 t0, t;
	int ret;

	if (u->flags)
		return -EINVAL;
	ret = mirror_span(m, u->addr, u->len, &first, &n);
	if (ret)
		return ret;
	mutex_lock(&m->lock);
	t0 = ktime_get_ns();
	pages = unmap_range(m, first, n, UNMAP_TIMED | UNMAP_MAY_SLEEP, NULL);
	t = ktime_get_ns() - t0;
	mutex_unlock(&m->lock);
	spin_lock(&m->stats_lock);
	m->st.unmap_calls++;
	m->st.unmap_pages += pages;
	if (pages && m->mode != ODPT_HMM_MODE_SG)
		khist_record_n(&m->hist[ODPT_HMM_HIST_UNMAP_NS_PER_CALL], t, 1);
	spin_unlock(&m->stats_lock);
	u->npages_unmapped = pages;
	u->unmap_ns = t;
	return 0;
}

/* May the device write mapped entry i (m->lock held)? Mode hmm maps every
 * entry DMA_BIDIRECTIONAL (hmm_dma_map_pfn, upstream behaviour). */
static bool entry_dev_writable(struct odpt_mirror *m, unsigned long i)
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

static u64 pfn_to_uapi(unsigned long pfn)
{
	u64 v = 0;

	if (pfn & HMM_PFN_VALID)
		v |= ODPT_HMM_PFN_VALID | (pfn & ~HMM_PFN_FLAGS & ODPT_HMM_PFN_PFN_MASK);
	if (pfn & HMM_PFN_WRITE)
		v |= ODPT_HMM_PFN_WRITE;
	if (pfn & HMM_PFN_ERROR)
		v |= ODPT_HMM_PFN_ERROR;
	if (pfn & HMM_PFN_DMA_MAPPED)
		v |= ODPT_HMM_PFN_DMA_MAPPED;
	if (pfn & HMM_PFN_P2PDMA)
		v |= ODPT_HMM_PFN_P2PDMA;
	if (pfn & HMM_PFN_VALID)
		v |= (u64)hmm_pfn_to_map_order(pfn) << ODPT_HMM_PFN_ORDER_SHIFT;
	return v;
}

static int ioc_flags(struct odpt_mirror *m, struct odpt_hmm_flags *f)
{
	unsigned long first, n, i;
	struct odpt_acct a = {};
	u64 *buf;
	int ret;

	if (f->flags & ~ODPT_HMM_FLAGS_REFRESH)
		return -EINVAL;
	ret = mirror_span(m, f->addr, f->len, &first, &n);
	if (ret)
		return ret;
	if (f->pfns_len < n)
		return -EINVAL;
	buf = kvmalloc_array(n, sizeof(u64), GFP_KERNEL | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	if (f->flags & ODPT_HMM_FLAGS_REFRESH) {
		unsigned long *scratch = scratch_alloc();

		if (!scratch) {
			ret = -ENOMEM;
			goto out_free;
		}
		ret = fault_locked(m, first, n, 0, scratch, &a);
		kfree(scratch);
		fold_acct(m, &a);
		if (ret)
			goto out_free;
	} else {
		mutex_lock(&m->lock);
	}
	f->nvalid = f->nwrite = f->nmapped = 0;
	for (i = 0; i < n; i++) {
		buf[i] = pfn_to_uapi(m->pfns[first + i]);
		if ((buf[i] & ODPT_HMM_PFN_DMA_MAPPED) &&
		    entry_dev_writable(m, first + i))
			buf[i] |= ODPT_HMM_PFN_DMA_WRITE;
		f->nvalid += !!(buf[i] & ODPT_HMM_PFN_VALID);
		f->nwrite += !!(buf[i] & ODPT_HMM_PFN_WRITE);
		f->nmapped += !!(buf[i] & ODPT_HMM_PFN_DMA_MAPPED);
	}
	mutex_unlock(&m->lock);
	/* Copy out without the mirror lock: a user fault may invalidate. */
	if (copy_to_user(u64_to_user_ptr(f->pfns_ptr), buf, n * sizeof(u64)))
		ret = -EFAULT;
	else
		f->npages = n;
out_free:
	kvfree(buf);
	return ret;
}

static int ioc_get_hist(struct odpt_mirror *m, struct odpt_hmm_hist_req *h)
{
	struct odpt_khist *tmp;
	int ret = 0;

	if (h->flags || h->reserved || h->id >= ODPT_HMM_HIST_NR ||
	    h->counts_len != ODPT_HMM_HIST_COUNTS_LEN)
		return -EINVAL;
	tmp = kvmalloc(sizeof(*tmp), GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	spin_lock(&m->stats_lock);
	memcpy(tmp, &m->hist[h->id], sizeof(*tmp));
	spin_unlock(&m->stats_lock);
	if (copy_to_user(u64_to_user_ptr(h->counts_ptr), tmp->counts,
			 sizeof(tmp->counts)))
		ret = -EFAULT;
	h->total_count = tmp->total;
	h->overflow = tmp->overflow;
	h->min_ns = tmp->min;
	h->max_ns = tmp->max;
	h->sum_ns = tmp->sum;
	kvfree(tmp);
	return ret;
}

static int ioc_get_stats(struct odpt_mirror *m, struct odpt_hmm_stats *s)
{
	u32 flags = s->flags;

	if (flags & ~ODPT_HMM_STATS_RESET)
		return -EINVAL;
	mutex_lock(&m->lock);
	spin_lock(&m->stats_lock);
	*s = m->st;
	s->mapped_pages = m->mapped_pages;
	s->bookkeeping_bytes = m->bookkeeping;
	if (flags & ODPT_HMM_STATS_RESET) {
		u64 setup = m->st.setup_ns;

		memset(&m->st, 0, sizeof(m->st));
		m->st.setup_ns = setup;
		memset(m->hist, 0, sizeof(*m->hist) * ODPT_HMM_HIST_NR);
	}
	spin_unlock(&m->stats_lock);
	/* REGISTER sets these under reg_lock, not this lock: read them only
	 * once it has published them (release/acquire on registered). */
	if (mirror_registered(m)) {
		s->mode = m->mode;
		s->npages = m->npages;
		s->dma_use_iova = dma_use_iova(&m->map.state);
		s->bookkeeping_bytes_per_page_x1000 =
			div64_u64(m->bookkeeping * 1000ULL, m->npages);
	} else {
		s->mode = 0;
		s->npages = 0;
		s->dma_use_iova = 0;
		s->bookkeeping_bytes_per_page_x1000 = 0;
	}
	mutex_unlock(&m->lock);
	s->size = sizeof(*s);
	s->flags = flags;
	return 0;
}

static int ioc_dev_info(struct odpt_hmm_dev_info *d)
{
	struct device *dev = odpt_dma.dev;

	if (d->flags)
		return -EINVAL;
	d->abi_version = ODPT_HMM_ABI_VERSION;
	d->device_kind = odpt_dma.kind;
	strscpy(d->name, dev_name(dev), sizeof(d->name));
	d->iommu_domain = odpt_dma.iommu_domain;
	d->dma_use_iova = odpt_dma.iova_probe;
	d->dma_need_unmap = dma_need_unmap(dev);
	d->dma_mask_bits = dev->dma_mask ? fls64(*dev->dma_mask) : 0;
	d->max_mapping_size = dma_max_mapping_size(dev);
	d->opt_mapping_size = dma_opt_mapping_size(dev);
	d->page_size = PAGE_SIZE;
	d->can_verify = odpt_dma.can_verify;
	return 0;
}

static int ioc_global(struct odpt_hmm_global *g)
{
	if (g->flags)
		return -EINVAL;
	g->mirrors = atomic64_read(&g_mirrors);
	g->registered = atomic64_read(&g_registered);
	g->live_mappings = atomic64_read(&g_live_mappings);
	g->mapped_bytes = g->live_mappings * PAGE_SIZE;
	g->iova_reserved_bytes = atomic64_read(&g_iova_reserved);
	g->sg_tables_live = atomic64_read(&g_sg_tables);
	g->bookkeeping_bytes = atomic64_read(&g_bookkeeping);
	g->edu_transfers = atomic64_read(&odpt_edu_transfers);
	return 0;
}

/* The DMA address entry i is mapped at (m->lock held, entry mapped). */
static dma_addr_t entry_dma_addr(struct odpt_mirror *m, unsigned long i)
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
		 * entry's offset, or the address it recorded per page. */
		if (dma_use_iova(&m->map.state))
			return m->map.state.addr + ((dma_addr_t)i << PAGE_SHIFT);
		if (m->map.dma_list)
			return m->map.dma_list[i];
		/* Direct path with nothing recorded (dma_need_unmap() false):
		 * the address is a function of the physical one and mapping
		 * again only recomputes it, with no state to undo. */
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

static void fill_pattern(u64 *p, u64 seed, u64 va)
{
	unsigned int j;

	for (j = 0; j < PAGE_SIZE / 8; j++)
		p[j] = seed ^ (va + 8 * j);
}

struct odpt_stale {
	unsigned long idx;
	dma_addr_t addr;
	struct page *page;
	void *snap;
};

static int ioc_verify(struct odpt_mirror *m, struct odpt_hmm_verify *v)
{
	unsigned long first, n, i, k, nmapped, want, rank, nalloc = 0;
	struct odpt_stale *stale = NULL;
	unsigned long *idx = NULL;
	u64 *check;
	int ret;

	if (v->flags & ~(ODPT_HMM_VERIFY_WRITE | ODPT_HMM_VERIFY_STALE |
			 ODPT_HMM_VERIFY_RO_PROBE))
		return -EINVAL;
	if ((v->flags & ODPT_HMM_VERIFY_RO_PROBE) &&
	    (v->flags & (ODPT_HMM_VERIFY_WRITE | ODPT_HMM_VERIFY_STALE)))
		return -EINVAL;
	ret = mirror_span(m, v->addr, v->len, &first, &n);
	if (ret)
		return ret;
	want = v->max_pages ? v->max_pages : ODPT_VERIFY_DEFAULT;
	if (want > ODPT_VERIFY_MAX)
		return -EINVAL;
	if (!odpt_dma.can_verify)
		return -ENODEV;
	if ((v->flags & (ODPT_HMM_VERIFY_STALE | ODPT_HMM_VERIFY_RO_PROBE)) &&
	    !odpt_dev_translated())
		return -EOPNOTSUPP;
	v->pages_checked = v->pages_matched = 0;
	v->stale_checked = v->stale_blocked = 0;
	v->first_bad_addr = 0;
	v->dma_wait_ns = 0;

	idx = kcalloc(want, sizeof(*idx), GFP_KERNEL);
	if (!idx)
		return -ENOMEM;
	if (v->flags & ODPT_HMM_VERIFY_STALE) {
		stale = kcalloc(want, sizeof(*stale), GFP_KERNEL);
		if (!stale) {
			ret = -ENOMEM;
			goto out_free;
		}
		for (nalloc = 0; nalloc < want; nalloc++) {
			stale[nalloc].snap = kmalloc(PAGE_SIZE, GFP_KERNEL);
			if (!stale[nalloc].snap) {
				ret = -ENOMEM;
				goto out_free;
			}
		}
	}

	/* One VERIFY owns the engine and the check buffer from its first
	 * transfer to its last: taken before the mirror lock (see the top),
	 * so a VERIFY waiting for the engine does not hold off invalidations
	 * of its own mirror. */
	ret = odpt_edu_claim();
	if (ret)
		goto out_free;
	check = odpt_edu_check_buf();
	mutex_lock(&m->lock);
	nmapped = 0;
	for (i = first; i < first + n; i++)
		if (entry_present(m->pfns[i]) && (m->pfns[i] & HMM_PFN_DMA_MAPPED))
			nmapped++;
	if (!nmapped) {
		ret = -ENXIO;
		goto out_unlock;
	}
	want = min(want, nmapped);
	/* Evenly spaced ranks over the mapped pages, first and last included
	 * (strictly increasing since want <= nmapped). */
	for (i = first, k = 0, rank = 0; i < first + n && k < want; i++) {
		if (!entry_present(m->pfns[i]) || !(m->pfns[i] & HMM_PFN_DMA_MAPPED))
			continue;
		if (rank == (want == 1 ? 0 : k * (nmapped - 1) / (want - 1)))
			idx[k++] = i;
		rank++;
	}
	want = k;
	if (v->flags & (ODPT_HMM_VERIFY_WRITE | ODPT_HMM_VERIFY_STALE)) {
		/* Never let the device write through a read-only mapping (the
		 * zero page!), not even to an address that should fault; nor
		 * through a DMA_TO_DEVICE mapping of a page made writable
		 * since (MAP again upgrades it in mode page). */
		for (k = 0; k < want; k++)
			if (!(m->pfns[idx[k]] & HMM_PFN_WRITE) ||
			    !entry_dev_writable(m, idx[k])) {
				ret = -EPERM;
				goto out_unlock;
			}
	}
	if (v->flags & ODPT_HMM_VERIFY_RO_PROBE) {
		/* Only pages the device must not write, and only the caller's
		 * own: should the IOMMU mapping wrongly allow the write, it
		 * lands in the caller's read-only page at worst. */
		for (k = 0; k < want; k++)
			if (entry_dev_writable(m, idx[k]) ||
			    !ro_probe_target_ok(hmm_pfn_to_page(m->pfns[idx[k]]))) {
				ret = -EPERM;
				goto out_unlock;
			}
	}

	for (k = 0; k < want; k++) {
		unsigned long pfn = m->pfns[idx[k]];
		u64 va = m->start + (idx[k] << PAGE_SHIFT);
		dma_addr_t addr = entry_dma_addr(m, idx[k]);
		struct page *page = hmm_pfn_to_page(pfn);
		bool ok;
		void *p;

		if (dma_mapping_error(odpt_dma.dev, addr)) {
			ret = -EIO;
			goto out_unlock;
		}
		/* Each page costs ~100 ms of device time with the mirror lock
		 * held: a killed caller stops between pages. */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto out_unlock;
		}
		/* The device is being removed: let the removal go on. */
		if (odpt_dev_unbinding()) {
			ret = -ENODEV;
			goto out_unlock;
		}
		ret = odpt_edu_page_to_check(addr, &v->dma_wait_ns);
		if (ret)
			goto out_unlock;
		p = kmap_local_page(page);
		ok = !memcmp(check, p, PAGE_SIZE);
		kunmap_local(p);
		if (v->flags & ODPT_HMM_VERIFY_WRITE) {
			fill_pattern(check, v->pattern_seed, va);
			ret = odpt_edu_check_to_page(addr, &v->dma_wait_ns);
			if (ret)
				goto out_unlock;
			p = kmap_local_page(page);
			ok = ok && !memcmp(check, p, PAGE_SIZE);
			kunmap_local(p);
		}
		if (ok && (v->flags & ODPT_HMM_VERIFY_RO_PROBE)) {
			unsigned int j;
			u64 *w;

			/* check holds the page: write its complement to the
			 * live DMA_TO_DEVICE address; the IOMMU must refuse. */
			for (j = 0; j < PAGE_SIZE / 8; j++)
				check[j] = ~check[j];
			ret = odpt_edu_check_to_page(addr, &v->dma_wait_ns);
			if (ret)
				goto out_unlock;
			p = kmap_local_page(page);
			w = p;
			v->stale_checked++;
			/* Unchanged = every word differs from what was sent. */
			for (j = 0; j < PAGE_SIZE / 8 && w[j] != check[j]; j++)
				;
			if (j == PAGE_SIZE / 8)
				v->stale_blocked++;
			kunmap_local(p);
		}
		v->pages_checked++;
		if (ok)
			v->pages_matched++;
		else if (!v->first_bad_addr)
			v->first_bad_addr = va;
	}

	if (v->flags & ODPT_HMM_VERIFY_STALE) {
		down_write(&odpt_dev_rwsem);
		for (k = 0; k < want; k++) {
			void *p;

			stale[k].idx = idx[k];
			stale[k].addr = entry_dma_addr(m, idx[k]);
			stale[k].page = hmm_pfn_to_page(m->pfns[idx[k]]);
			get_page(stale[k].page);	/* keep it while we look */
			p = kmap_local_page(stale[k].page);
			memcpy(stale[k].snap, p, PAGE_SIZE);
			kunmap_local(p);
		}
		for (k = 0; k < want; k++)
			unmap_range(m, stale[k].idx, 1, 0, NULL);
		for (k = 0; k < want && !ret; k++) {
			u64 *src = stale[k].snap;
			unsigned int j;
			void *p;

			/* A pattern differing from the page in every word. */
			for (j = 0; j < PAGE_SIZE / 8; j++)
				check[j] = ~src[j];
			ret = odpt_edu_check_to_page(stale[k].addr, &v->dma_wait_ns);
			p = kmap_local_page(stale[k].page);
			if (!ret && !memcmp(p, stale[k].snap, PAGE_SIZE))
				v->stale_blocked++;
			kunmap_local(p);
			if (!ret)
				v->stale_checked++;
		}
		for (k = 0; k < want; k++)
			put_page(stale[k].page);
		up_write(&odpt_dev_rwsem);
	}

out_unlock:
	mutex_unlock(&m->lock);
	odpt_edu_unclaim();
out_free:
	for (k = 0; k < nalloc; k++)
		kfree(stale[k].snap);
	kfree(stale);
	kfree(idx);
	return ret;
}

/* ---- file operations ---------------------------------------------------- */

static int odpt_open(struct inode *inode, struct file *file)
{
	struct odpt_mirror *m;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!current->mm)
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->hist = kvzalloc(sizeof(*m->hist) * ODPT_HMM_HIST_NR, GFP_KERNEL);
	if (!m->hist) {
		kfree(m);
		return -ENOMEM;
	}
	mutex_init(&m->reg_lock);
	mutex_init(&m->lock);
	spin_lock_init(&m->stats_lock);
	INIT_LIST_HEAD(&m->sg_maps);
	m->mm = current->mm;
	mmgrab(m->mm);
	file->private_data = m;
	mutex_lock(&odpt_mirrors_lock);
	list_add_tail(&m->node, &odpt_mirrors);
	mutex_unlock(&odpt_mirrors_lock);
	atomic64_inc(&g_mirrors);
	return 0;
}

/* Undo every mapping of m (m->lock held, the device still bound). Pages
 * left counted as mapped are a module bug. */
static void mirror_unmap_all(struct odpt_mirror *m)
{
	unmap_range(m, 0, m->npages, UNMAP_MAY_SLEEP, NULL);
	/* Anything left would be a DMA mapping nobody can undo: only a module
	 * bug (a DMA_MAPPED bit lost while its mapping lived) gets here. */
	if (WARN_ON_ONCE(m->mapped_pages))
		atomic64_add(m->mapped_pages, &g_release_leaked);
}

unsigned long odpt_dev_detach_mirrors(void)
{
	struct odpt_mirror *m;
	unsigned long files = 0;

	lockdep_assert_held_write(&odpt_dev_bind);
	mutex_lock(&odpt_mirrors_lock);
	list_for_each_entry(m, &odpt_mirrors, node) {
		if (m->dead)
			continue;
		mutex_lock(&m->lock);
		/* No REGISTER runs (it holds odpt_dev_bind): registered is
		 * stable. The notifier stays until release; with nothing
		 * mapped its invalidations no longer reach the device. */
		if (m->registered) {
			mirror_unmap_all(m);
			if (dma_use_iova(&m->map.state)) {
				atomic64_sub(dma_iova_size(&m->map.state),
					     &g_iova_reserved);
				dma_iova_free(odpt_dma.dev, &m->map.state);
				memset(&m->map.state, 0, sizeof(m->map.state));
			}
		}
		m->dead = true;
		mutex_unlock(&m->lock);
		files++;
		cond_resched();
	}
	mutex_unlock(&odpt_mirrors_lock);
	return files;
}

static int odpt_release(struct inode *inode, struct file *file)
{
	struct odpt_mirror *m = file->private_data;

	/* The device stays bound (or m is dead) until we are done. */
	down_read(&odpt_dev_bind);
	if (m->registered) {
		/* Teardown order: unmap all, remove the notifier, free. A dead
		 * mirror's mappings and IOVA window went with its device. */
		bool leaked = false;

		mutex_lock(&m->lock);
		if (!m->dead)
			mirror_unmap_all(m);
		leaked = m->mapped_pages;
		mutex_unlock(&m->lock);
		mmu_interval_notifier_remove(&m->notifier);
		if (dma_use_iova(&m->map.state) && !leaked)
			atomic64_sub(dma_iova_size(&m->map.state), &g_iova_reserved);
		account_bookkeeping(m, -(ssize_t)m->bookkeeping);
		if (m->mode == ODPT_HMM_MODE_HMM && !m->dead &&
		    !(leaked && dma_use_iova(&m->map.state))) {
			hmm_dma_map_free(odpt_dma.dev, &m->map);
		} else if (m->mode == ODPT_HMM_MODE_HMM) {
			/* hmm_dma_map_free without the window: it went with
			 * the device (odpt_dev_detach_mirrors), or entries are
			 * still linked in it (a module bug, counted in
			 * release_leaked_pages): then it stays reserved, in
			 * iova_reserved_bytes, so no later mapping can be
			 * given an IOVA the IOMMU still translates. */
			kvfree(m->map.dma_list);
			kvfree(m->map.pfn_list);
		} else {
			kvfree(m->dma_write);
			kvfree(m->dma_addrs);
			kvfree(m->map.pfn_list);
		}
		atomic64_dec(&g_registered);
	}
	mutex_lock(&odpt_mirrors_lock);
	list_del(&m->node);
	mutex_unlock(&odpt_mirrors_lock);
	up_read(&odpt_dev_bind);
	mmdrop(m->mm);
	kvfree(m->hist);
	kfree(m);
	atomic64_dec(&g_mirrors);
	return 0;
}

union odpt_ioc_buf {
	struct odpt_hmm_dev_info dev_info;
	struct odpt_hmm_global global;
	struct odpt_hmm_register reg;
	struct odpt_hmm_fault fault;
	struct odpt_hmm_map map;
	struct odpt_hmm_unmap unmap;
	struct odpt_hmm_flags flags;
	struct odpt_hmm_hist_req hist;
	struct odpt_hmm_stats stats;
	struct odpt_hmm_verify verify;
};

enum { IOC_GLOBAL, IOC_MIRROR_ANY_MM, IOC_MIRROR, IOC_MIRROR_MM };

struct odpt_ioc_desc {
	unsigned int cmd;
	u32 size;
	int scope;	/* who may call it, see odpt_ioctl() */
};

static const struct odpt_ioc_desc odpt_iocs[] = {
	{ ODPT_HMM_IOC_DEV_INFO, sizeof(struct odpt_hmm_dev_info), IOC_GLOBAL },
	{ ODPT_HMM_IOC_GLOBAL, sizeof(struct odpt_hmm_global), IOC_GLOBAL },
	{ ODPT_HMM_IOC_REGISTER, sizeof(struct odpt_hmm_register), IOC_MIRROR_MM },
	{ ODPT_HMM_IOC_FAULT, sizeof(struct odpt_hmm_fault), IOC_MIRROR_MM },
	{ ODPT_HMM_IOC_MAP, sizeof(struct odpt_hmm_map), IOC_MIRROR_MM },
	{ ODPT_HMM_IOC_UNMAP, sizeof(struct odpt_hmm_unmap), IOC_MIRROR },
	{ ODPT_HMM_IOC_FLAGS, sizeof(struct odpt_hmm_flags), IOC_MIRROR_MM },
	{ ODPT_HMM_IOC_GET_HIST, sizeof(struct odpt_hmm_hist_req), IOC_MIRROR_ANY_MM },
	{ ODPT_HMM_IOC_GET_STATS, sizeof(struct odpt_hmm_stats), IOC_MIRROR_ANY_MM },
	{ ODPT_HMM_IOC_VERIFY, sizeof(struct odpt_hmm_verify), IOC_MIRROR },
};

static long odpt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct odpt_mirror *m = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct odpt_ioc_desc *d = NULL;
	union odpt_ioc_buf b;
	bool took_mm = false, took_dev = false;
	unsigned int i;
	int ret;

	if (_IOC_TYPE(cmd) != ODPT_HMM_IOC_MAGIC)
		return -ENOTTY;
	if (cmd == ODPT_HMM_IOC_VERSION)
		return put_user((u32)ODPT_HMM_ABI_VERSION, (u32 __user *)uarg);
	for (i = 0; i < ARRAY_SIZE(odpt_iocs); i++)
		if (_IOC_NR(odpt_iocs[i].cmd) == _IOC_NR(cmd))
			d = &odpt_iocs[i];
	if (!d)
		return -ENOTTY;
	/* Same number, other size or direction: a tool built against another
	 * version of this header. */
	if (cmd != d->cmd)
		return -EINVAL;
	if (copy_from_user(&b, uarg, d->size))
		return -EFAULT;
	if (b.reg.size != d->size)	/* every struct starts with size */
		return -EINVAL;

	if (d->scope != IOC_GLOBAL && d->scope != IOC_MIRROR_ANY_MM &&
	    current->mm != m->mm)
		return -EPERM;
	if (d->scope != IOC_GLOBAL && cmd != ODPT_HMM_IOC_REGISTER &&
	    !mirror_registered(m) && d->scope != IOC_MIRROR_ANY_MM)
		return -ENOENT;
	/* Everything but GLOBAL, statistics and histograms reaches the device:
	 * keep it bound until the call is done; none if it went away. */
	if (cmd != ODPT_HMM_IOC_GLOBAL && d->scope != IOC_MIRROR_ANY_MM) {
		if (down_read_killable(&odpt_dev_bind))
			return -EINTR;
		took_dev = true;
		if (!odpt_dma.dev || m->dead) {
			ret = -ENODEV;
			goto out;
		}
	}
	if (d->scope == IOC_MIRROR_MM) {
		/* Keep the address space alive while we fault in it. */
		if (!mmget_not_zero(m->mm)) {
			ret = -ESRCH;
			goto out;
		}
		took_mm = true;
	}

	switch (cmd) {
	case ODPT_HMM_IOC_DEV_INFO:
		ret = ioc_dev_info(&b.dev_info);
		break;
	case ODPT_HMM_IOC_GLOBAL:
		ret = ioc_global(&b.global);
		break;
	case ODPT_HMM_IOC_REGISTER:
		ret = ioc_register(m, &b.reg);
		break;
	case ODPT_HMM_IOC_FAULT:
		ret = ioc_fault(m, &b.fault);
		break;
	case ODPT_HMM_IOC_MAP:
		ret = ioc_map(m, &b.map);
		break;
	case ODPT_HMM_IOC_UNMAP:
		ret = ioc_unmap(m, &b.unmap);
		break;
	case ODPT_HMM_IOC_FLAGS:
		ret = ioc_flags(m, &b.flags);
		break;
	case ODPT_HMM_IOC_GET_HIST:
		ret = ioc_get_hist(m, &b.hist);
		break;
	case ODPT_HMM_IOC_GET_STATS:
		ret = ioc_get_stats(m, &b.stats);
		break;
	case ODPT_HMM_IOC_VERIFY:
		ret = ioc_verify(m, &b.verify);
		break;
	default:
		ret = -ENOTTY;
	}
	/* mmput may tear the mm down (and invalidate us): no mirror lock held
	 * here (odpt_dev_bind is outside mmap_lock and mirror->lock). */
	if (took_mm)
		mmput(m->mm);
out:
	if (took_dev)
		up_read(&odpt_dev_bind);
	if (!ret && copy_to_user(uarg, &b, d->size))
		ret = -EFAULT;
	return ret;
}

static const struct file_operations odpt_fops = {
	.owner = THIS_MODULE,
	.open = odpt_open,
	.release = odpt_release,
	.unlocked_ioctl = odpt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice odpt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "odpt_hmm",
	.fops = &odpt_fops,
	.mode = 0600,
};

/* ---- read-only module parameters: leak counters ------------------------- */

static int get_atomic64(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(kp->arg));
}

static int get_abi(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", ODPT_HMM_ABI_VERSION);
}

static int get_dev_kind(char *buf, const struct kernel_param *kp)
{
	static const char * const names[] = { "none", "edu", "faux" };

	return sysfs_emit(buf, "%s\n", names[odpt_dma.kind < 3 ? odpt_dma.kind : 0]);
}

static const struct kernel_param_ops ro_atomic64_ops = { .get = get_atomic64 };
static const struct kernel_param_ops ro_abi_ops = { .get = get_abi };
static const struct kernel_param_ops ro_dev_ops = { .get = get_dev_kind };

module_param_cb(live_mappings, &ro_atomic64_ops, &g_live_mappings, 0444);
MODULE_PARM_DESC(live_mappings, "pages DMA-mapped now, all mirrors (read-only)");
module_param_cb(iova_reserved_bytes, &ro_atomic64_ops, &g_iova_reserved, 0444);
MODULE_PARM_DESC(iova_reserved_bytes, "IOVA windows held by mode hmm mirrors (read-only)");
module_param_cb(mirrors, &ro_atomic64_ops, &g_mirrors, 0444);
MODULE_PARM_DESC(mirrors, "open files (read-only)");
module_param_cb(sg_tables_live, &ro_atomic64_ops, &g_sg_tables, 0444);
MODULE_PARM_DESC(sg_tables_live, "mapped sg tables (read-only)");
module_param_cb(bookkeeping_bytes, &ro_atomic64_ops, &g_bookkeeping, 0444);
MODULE_PARM_DESC(bookkeeping_bytes, "per-page arrays and sg tables held (read-only)");
module_param_cb(stale_mapped_entries, &ro_atomic64_ops, &g_stale_mapped, 0444);
MODULE_PARM_DESC(stale_mapped_entries, "mapped entries a fault found at another page, unmapped; non-zero = module bug (read-only)");
module_param_cb(release_leaked_pages, &ro_atomic64_ops, &g_release_leaked, 0444);
MODULE_PARM_DESC(release_leaked_pages, "pages still counted mapped after close unmapped all; non-zero = module bug (read-only)");
module_param_cb(dma_write_upgrades, &ro_atomic64_ops, &g_dma_write_upgrades, 0444);
MODULE_PARM_DESC(dma_write_upgrades, "mode page entries remapped device-writable after their page became writable (read-only)");
module_param_cb(sg_readonly_tables, &ro_atomic64_ops, &g_sg_readonly_tables, 0444);
MODULE_PARM_DESC(sg_readonly_tables, "mode sg tables mapped DMA_TO_DEVICE as some page lacked HMM_PFN_WRITE (read-only)");
module_param_cb(dirtied_pages, &ro_atomic64_ops, &g_dirtied_pages, 0444);
MODULE_PARM_DESC(dirtied_pages, "pages marked dirty as a device-writable mapping of them was undone (read-only)");
module_param_cb(edu_dma_timeouts, &ro_atomic64_ops, &odpt_edu_timeouts, 0444);
MODULE_PARM_DESC(edu_dma_timeouts, "edu transfers that did not finish in edu_timeout_ms; each took edu off the bus (read-only)");
module_param_cb(abi_version, &ro_abi_ops, NULL, 0444);
MODULE_PARM_DESC(abi_version, "uAPI version of include/uapi/odpt_hmm.h (read-only)");
module_param_cb(device_kind, &ro_dev_ops, NULL, 0444);
MODULE_PARM_DESC(device_kind, "device in use: edu or faux (read-only)");

static int __init odpt_init(void)
{
	int ret;

	ret = odpt_dev_init(device);
	if (ret)
		return ret;
	ret = misc_register(&odpt_misc);
	if (ret) {
		odpt_dev_exit();
		return ret;
	}
	down_read(&odpt_dev_bind);
	if (odpt_dma.dev)
		dev_info(odpt_dma.dev, "odpt_hmm: mapping for %s, iommu domain %u, dma_iova %s\n",
			 odpt_dma.kind == ODPT_HMM_DEV_EDU ? "edu" : "faux",
			 odpt_dma.iommu_domain, odpt_dma.iova_probe ? "yes" : "no");
	up_read(&odpt_dev_bind);
	return 0;
}

static void __exit odpt_exit(void)
{
	misc_deregister(&odpt_misc);
	odpt_dev_exit();
}

module_init(odpt_init);
module_exit(odpt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("odpt kernel shim: HMM mirror with DMA-mapped PFNs, timed");
