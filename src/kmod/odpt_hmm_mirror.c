// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mirror of odpt_hmm.ko. Each open file of /dev/odpt_hmm is one mirror of
 * a user range of the opener's mm: an mmu_interval_notifier whose
 * invalidations unmap under the mirror lock, and hmm_range_fault with the
 * read_begin/retry loop, walked into a scratch array and merged into the
 * mirror's PFN array under the lock. This file holds the mirror's lifetime
 * (create at open, destroy at release, detach when the device goes), the
 * notifier, the fault loop and the REGISTER, FAULT and FLAGS ioctls; the DMA
 * mappings themselves are in odpt_hmm_dma.c. Locking: odpt_hmm_internal.h.
 *
 * Device removal: the device layer takes odpt_dev_bind for write (so no
 * ioctl is using the device), calls odpt_dev_detach_mirrors() to undo every
 * mapping and IOVA window while the device still exists, and marks every
 * open file dead: from then on the ioctls that need the device return
 * -ENODEV on it, also after a re-scan binds edu again (a new open gets the
 * new device). Statistics, histograms and GLOBAL keep working.
 */
#include <linux/hmm.h>
#include <linux/hmm-dma.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "odpt_hmm_internal.h"

/* Every open file, for device removal (odpt_dev_detach_mirrors). */
static LIST_HEAD(odpt_mirrors);
static DEFINE_MUTEX(odpt_mirrors_lock);

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
		pages = odpt_unmap_range(m, (start - m->start) >> PAGE_SHIFT,
					 (end - start) >> PAGE_SHIFT,
					 mmu_notifier_range_blockable(range) ?
					 ODPT_UNMAP_MAY_SLEEP : 0, &collateral);
	mutex_unlock(&m->lock);
	spin_lock(&m->stats_lock);
	m->st.invalidations++;
	m->st.invalidate_pages += pages;
	m->st.invalidate_collateral_pages += collateral;
	odpt_khist_record_n(&m->hist[ODPT_HMM_HIST_INVALIDATE_NS],
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

bool odpt_entry_present(unsigned long pfn)
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
		if (!(*pfn & HMM_PFN_DMA_MAPPED) || !odpt_entry_present(walk[i]) ||
		    same_page(*pfn, walk[i]))
			continue;
		atomic64_inc(&odpt_cnt.stale_mapped);
		odpt_unmap_range(m, first + i, 1, 0, NULL);
	}
	/* A second pass: in mode sg an unmap clears the whole table's entries,
	 * some of them maybe already merged in a single pass.
	 */
	for (i = 0; i < n; i++) {
		pfn = &m->pfns[first + i];
		if (!odpt_entry_present(walk[i])) {
			if (odpt_entry_present(*pfn))
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
int odpt_mirror_fault_and_lock(struct odpt_mirror *m, unsigned long first,
			       unsigned long n, unsigned long req,
			       unsigned long *scratch, struct odpt_acct *a)
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
		odpt_khist_record_n(&m->hist[ODPT_HMM_HIST_FAULT_NS_PER_CALL], t, 1);
		odpt_khist_record_n(&m->hist[ODPT_HMM_HIST_FAULT_NS_PER_PAGE],
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
		 * and the last check below (under the lock we keep) is final.
		 */
		if (done + c < n) {
			mutex_unlock(&m->lock);
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

unsigned long *odpt_scratch_alloc(void)
{
	return kmalloc_array(ODPT_CHUNK_PAGES, sizeof(unsigned long), GFP_KERNEL);
}

/* ---- ioctls ------------------------------------------------------------- */

bool odpt_mirror_registered(struct odpt_mirror *m)
{
	/* Pairs with the smp_store_release() at the end of REGISTER: a
	 * mirror seen registered has its mode, range and arrays set.
	 */
	return smp_load_acquire(&m->registered);
}

/* Check and convert [addr, addr+len) to page indexes of the mirror. */
int odpt_mirror_span(struct odpt_mirror *m, u64 addr, u64 len,
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

static int register_check_args(const struct odpt_hmm_register *r)
{
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
	return 0;
}

/* Free what mirror_alloc_arrays() allocated (before the mirror is
 * published: nothing is mapped).
 */
static void mirror_free_arrays(struct odpt_mirror *m, u32 mode)
{
	if (mode == ODPT_HMM_MODE_HMM) {
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
}

/* The PFN array and the mode's DMA bookkeeping for @npages pages (mode hmm:
 * hmm_dma_map_alloc, which also reserves the IOVA window): 0, or -errno
 * with nothing left allocated.
 */
static int mirror_alloc_arrays(struct odpt_mirror *m, u32 mode,
			       unsigned long npages)
{
	if (mode == ODPT_HMM_MODE_HMM)
		return hmm_dma_map_alloc(odpt_dma.dev, &m->map, npages, PAGE_SIZE);
	/* Charged to the caller's memory cgroup (__GFP_ACCOUNT): 16+ bytes
	 * per page of a range up to ODPT_HMM_MAX_LEN.
	 */
	m->map.pfn_list = kvcalloc(npages, sizeof(unsigned long),
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!m->map.pfn_list)
		return -ENOMEM;
	if (mode == ODPT_HMM_MODE_PAGE) {
		m->dma_addrs = kvcalloc(npages, sizeof(dma_addr_t),
					GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		m->dma_write = kvcalloc(BITS_TO_LONGS(npages),
					sizeof(unsigned long),
					GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!m->dma_addrs || !m->dma_write) {
			mirror_free_arrays(m, mode);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Bytes of per-page bookkeeping mirror_alloc_arrays() gave @m. */
static size_t mirror_array_bytes(struct odpt_mirror *m, unsigned long npages)
{
	size_t bytes = npages * sizeof(unsigned long);

	if (m->map.dma_list || m->dma_addrs)
		bytes += npages * sizeof(dma_addr_t);
	if (m->dma_write)
		bytes += BITS_TO_LONGS(npages) * sizeof(unsigned long);
	return bytes;
}

int odpt_ioc_register(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_register *r = data;
	unsigned long npages;
	size_t bytes;
	u64 t0;
	int ret;

	ret = register_check_args(r);
	if (ret)
		return ret;
	npages = r->len >> PAGE_SHIFT;

	mutex_lock(&m->reg_lock);
	if (m->registered) {
		ret = -EBUSY;
		goto out_unlock;
	}
	t0 = ktime_get_ns();
	ret = mirror_alloc_arrays(m, r->mode, npages);
	if (ret)
		goto out_unlock;
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
	 * on first use, not only when reclaim happens to hit (as umem_odp).
	 */
	if (IS_ENABLED(CONFIG_LOCKDEP)) {
		fs_reclaim_acquire(GFP_KERNEL);
		mutex_lock(&m->lock);
		mutex_unlock(&m->lock);
		fs_reclaim_release(GFP_KERNEL);
	}

	bytes = mirror_array_bytes(m, npages);
	odpt_account_bookkeeping(m, bytes);
	if (dma_use_iova(&m->map.state))
		atomic64_add(dma_iova_size(&m->map.state), &odpt_cnt.iova_reserved);
	atomic64_inc(&odpt_cnt.registered);

	spin_lock(&m->stats_lock);
	m->st.setup_ns = r->setup_ns;
	spin_unlock(&m->stats_lock);
	r->npages = npages;
	r->bookkeeping_bytes = bytes;
	r->dma_use_iova = dma_use_iova(&m->map.state);
	r->dma_need_unmap = dma_need_unmap(odpt_dma.dev);
	/* Publish mode, range and arrays before the flag: pairs with the
	 * smp_load_acquire() of odpt_mirror_registered(), which ioctls not
	 * holding reg_lock use.
	 */
	smp_store_release(&m->registered, true);
	mutex_unlock(&m->reg_lock);
	return 0;

err_free_arrays:
	mirror_free_arrays(m, r->mode);
	m->mode = 0;
out_unlock:
	mutex_unlock(&m->reg_lock);
	return ret;
}

int odpt_ioc_fault(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_fault *f = data;
	unsigned long first, n, done, c, req = HMM_PFN_REQ_FAULT, *scratch;
	struct odpt_acct a = {};
	int ret;

	if (f->flags & ~ODPT_HMM_FAULT_WRITE)
		return -EINVAL;
	ret = odpt_mirror_span(m, f->addr, f->len, &first, &n);
	if (ret)
		return ret;
	if (f->flags & ODPT_HMM_FAULT_WRITE)
		req |= HMM_PFN_REQ_WRITE;
	scratch = odpt_scratch_alloc();
	if (!scratch)
		return -ENOMEM;
	for (done = 0; done < n; done += c) {
		c = min(n - done, ODPT_CHUNK_PAGES);
		ret = odpt_mirror_fault_and_lock(m, first + done, c, req,
						 scratch, &a);
		if (ret)
			break;
		mutex_unlock(&m->lock);
		cond_resched();
	}
	kfree(scratch);
	odpt_fold_acct(m, &a);
	f->npages = ret ? 0 : n;
	f->fault_ns = a.fault_ns;
	f->retries_busy = a.retries_busy;
	f->retries_seq = a.retries_seq;
	return ret;
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

int odpt_ioc_flags(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_flags *f = data;
	unsigned long first, n, i;
	struct odpt_acct a = {};
	u64 *buf;
	int ret;

	if (f->flags & ~ODPT_HMM_FLAGS_REFRESH)
		return -EINVAL;
	ret = odpt_mirror_span(m, f->addr, f->len, &first, &n);
	if (ret)
		return ret;
	if (f->pfns_len < n)
		return -EINVAL;
	buf = kvmalloc_array(n, sizeof(u64), GFP_KERNEL | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	if (f->flags & ODPT_HMM_FLAGS_REFRESH) {
		unsigned long *scratch = odpt_scratch_alloc();

		if (!scratch) {
			ret = -ENOMEM;
			goto out_free;
		}
		ret = odpt_mirror_fault_and_lock(m, first, n, 0, scratch, &a);
		kfree(scratch);
		odpt_fold_acct(m, &a);
		if (ret)
			goto out_free;
	} else {
		mutex_lock(&m->lock);
	}
	f->nvalid = 0;
	f->nwrite = 0;
	f->nmapped = 0;
	for (i = 0; i < n; i++) {
		buf[i] = pfn_to_uapi(m->pfns[first + i]);
		if ((buf[i] & ODPT_HMM_PFN_DMA_MAPPED) &&
		    odpt_entry_dev_writable(m, first + i))
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

/* ---- lifetime ----------------------------------------------------------- */

/* A mirror of the caller's mm, on the list of open files (the caller checked
 * that it has one).
 */
int odpt_mirror_create(struct odpt_mirror **out)
{
	struct odpt_mirror *m;

	m = kzalloc_obj(*m, GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->hist = kvzalloc_objs(*m->hist, ODPT_HMM_HIST_NR, GFP_KERNEL);
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
	mutex_lock(&odpt_mirrors_lock);
	list_add_tail(&m->node, &odpt_mirrors);
	mutex_unlock(&odpt_mirrors_lock);
	atomic64_inc(&odpt_cnt.mirrors);
	*out = m;
	return 0;
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
		 * mapped its invalidations no longer reach the device.
		 */
		if (m->registered) {
			odpt_mirror_unmap_all(m);
			if (dma_use_iova(&m->map.state)) {
				atomic64_sub(dma_iova_size(&m->map.state),
					     &odpt_cnt.iova_reserved);
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

/*
 * Undo REGISTER (odpt_dev_bind held for read). Teardown order: unmap all,
 * remove the notifier, free. A dead mirror's mappings and IOVA window went
 * with its device.
 */
static void mirror_unregister(struct odpt_mirror *m)
{
	bool leaked;

	mutex_lock(&m->lock);
	if (!m->dead)
		odpt_mirror_unmap_all(m);
	leaked = m->mapped_pages;
	mutex_unlock(&m->lock);
	mmu_interval_notifier_remove(&m->notifier);
	if (dma_use_iova(&m->map.state) && !leaked)
		atomic64_sub(dma_iova_size(&m->map.state), &odpt_cnt.iova_reserved);
	odpt_account_bookkeeping(m, -(ssize_t)m->bookkeeping);
	if (m->mode == ODPT_HMM_MODE_HMM && !m->dead &&
	    !(leaked && dma_use_iova(&m->map.state))) {
		hmm_dma_map_free(odpt_dma.dev, &m->map);
	} else if (m->mode == ODPT_HMM_MODE_HMM) {
		/* hmm_dma_map_free without the window: it went with the
		 * device (odpt_dev_detach_mirrors), or entries are still
		 * linked in it (a module bug, counted in release_leaked_pages):
		 * then it stays reserved, in iova_reserved_bytes, so no later
		 * mapping can be given an IOVA the IOMMU still translates.
		 */
		kvfree(m->map.dma_list);
		kvfree(m->map.pfn_list);
	} else {
		kvfree(m->dma_write);
		kvfree(m->dma_addrs);
		kvfree(m->map.pfn_list);
	}
	atomic64_dec(&odpt_cnt.registered);
}

void odpt_mirror_destroy(struct odpt_mirror *m)
{
	/* The device stays bound (or m is dead) until we are done. */
	down_read(&odpt_dev_bind);
	if (m->registered)
		mirror_unregister(m);
	mutex_lock(&odpt_mirrors_lock);
	list_del(&m->node);
	mutex_unlock(&odpt_mirrors_lock);
	up_read(&odpt_dev_bind);
	mmdrop(m->mm);
	kvfree(m->hist);
	kfree(m);
	atomic64_dec(&odpt_cnt.mirrors);
}
