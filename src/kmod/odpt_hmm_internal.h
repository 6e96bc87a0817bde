/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces between the files of odpt_hmm.ko: the mirror
 * (odpt_hmm_mirror.c: lifetime, notifier, fault loop, REGISTER/FAULT/FLAGS),
 * the three DMA mapping modes (odpt_hmm_dma.c: MAP/UNMAP), the edu VERIFY
 * path (odpt_hmm_verify.c), counters and histograms (odpt_hmm_stats.c, also
 * the debugfs files), the file operations and ioctl table (odpt_hmm_ioctl.c),
 * module init/exit (odpt_hmm_main.c) and the DMA device layer
 * (odpt_hmm_dev.c): which device mappings are made for, what it can do, how
 * its binding and removal are serialised against the mirrors, and the edu
 * DMA engine used to verify mappings.
 *
 * Locking: odpt_dev_bind (read: an ioctl or release using the device;
 * write: the device binds or goes, see below), then the edu owner (one
 * VERIFY at a time owns the engine and the check buffer), then mmap_lock,
 * then mirror->lock (the lock that pairs mmu_interval_set_seq with
 * mmu_interval_read_retry and guards the PFN and DMA arrays), then
 * odpt_dev_rwsem. mirror->stats_lock (a spinlock) is innermost and only
 * guards counters; odpt_mirrors_lock (the list of open files) nests inside
 * odpt_dev_bind and outside mirror->lock. No GFP_KERNEL allocation under
 * mirror->lock: invalidations run in reclaim.
 */
#ifndef ODPT_HMM_INTERNAL_H
#define ODPT_HMM_INTERNAL_H

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/hmm-dma.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "odpt_hmm.h"	/* the uAPI, found through ccflags -I include/uapi */

struct odpt_dma_dev {
	struct device *dev;		/* every mapping is made for it; NULL
					 * while no device is bound (edu removed)
					 */
	u32 kind;			/* enum odpt_hmm_device_kind */
	u32 iommu_domain;		/* enum odpt_hmm_iommu_domain */
	bool iova_probe;		/* dma_iova_try_alloc worked at bind */
	bool can_verify;		/* edu: has a DMA engine */
};

/*
 * odpt_dma changes only with odpt_dev_bind held for write (bind at probe or
 * load, unbind at edu removal). Every user of odpt_dma.dev holds it for read:
 * the ioctls that reach the device and file release, for their whole
 * duration. Invalidations do not take it: they touch the device only to undo
 * mappings, and unbinding undoes every mapping (odpt_dev_detach_mirrors)
 * under each mirror's lock before the device goes.
 *
 * Lock order, outermost first: odpt_dev_bind, the edu owner (one VERIFY at a
 * time, odpt_edu_claim), mmap_lock, mirror->lock, odpt_dev_rwsem.
 */
extern struct rw_semaphore odpt_dev_bind;
extern struct odpt_dma_dev odpt_dma;

int odpt_dev_init(const char *which);
void odpt_dev_exit(void);

/* Set while an unbind waits for odpt_dev_bind: long ioctls give up early. */
bool odpt_dev_unbinding(void);

/*
 * In odpt_hmm_mirror.c, called by the device layer with odpt_dev_bind held for
 * write just before the device goes: undo every mirror's mappings and IOVA
 * window while the device is still there, and mark every open file dead
 * (its device ioctls return -ENODEV from then on, also after a new device
 * is bound). Returns the number of files marked.
 */
unsigned long odpt_dev_detach_mirrors(void);

/* True when DMA addresses go through an IOMMU translation (stale checks). */
static inline bool odpt_dev_translated(void)
{
	return odpt_dma.iommu_domain == ODPT_HMM_IOMMU_STRICT ||
	       odpt_dma.iommu_domain == ODPT_HMM_IOMMU_LAZY;
}

/*
 * edu DMA. One VERIFY owns the engine, edu's buffer and the coherent check
 * buffer from odpt_edu_claim() (0, -EIO when the engine was given up after a
 * timeout, -EINTR on a fatal signal) to odpt_edu_unclaim(); the transfers
 * below need that ownership (odpt_dev_bind held for read, too). Each copies
 * one page between a DMA address and the check buffer through edu's buffer,
 * may sleep ~200 ms and adds the time spent waiting to *wait_ns. A transfer
 * that does not finish stops the engine's bus mastering, marks the engine
 * broken (counted in odpt_edu_timeouts) and returns -ETIMEDOUT; every later
 * claim fails until the device is probed again.
 */
int odpt_edu_claim(void);
void odpt_edu_unclaim(void);
int odpt_edu_page_to_check(dma_addr_t src, u64 *wait_ns);	/* src -> check buf */
int odpt_edu_check_to_page(dma_addr_t dst, u64 *wait_ns);	/* check buf -> dst */
void *odpt_edu_check_buf(void);				/* PAGE_SIZE, coherent */

extern atomic64_t odpt_edu_transfers;
extern atomic64_t odpt_edu_timeouts;

/* ---- the mirror --------------------------------------------------------- */

/* hmm_range_fault calls and locked mapping passes cover at most this many
 * pages (as umem_odp does), so a collision retries a bounded amount.
 */
#define ODPT_CHUNK_PAGES	512UL

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
	 * odpt_dev_bind held for write and mirror->lock; read under either.
	 */
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
	 * write a page the CPU mapping lets it write (never the zero page).
	 */
	unsigned long *dma_write;
	struct list_head sg_maps;	/* mode sg */
	unsigned long mapped_pages;
	size_t bookkeeping;

	spinlock_t stats_lock;		/* guards st and hist only; innermost */
	struct odpt_hmm_stats st;	/* counters, uAPI layout */
	struct odpt_khist *hist;	/* ODPT_HMM_HIST_NR of them */
};

/* What one fault/map pass did; folded into the mirror's stats at the end. */
struct odpt_acct {
	u64 fault_ns, fault_calls, fault_pages, retries_busy, retries_seq;
	u64 timeouts;
};

/* Mapping paths take it shared; a stale-address check takes it exclusive so
 * no IOVA freed by its unmap is reused by another mirror meanwhile.
 */
extern struct rw_semaphore odpt_dev_rwsem;

int odpt_mirror_create(struct odpt_mirror **out);
void odpt_mirror_destroy(struct odpt_mirror *m);
bool odpt_mirror_registered(struct odpt_mirror *m);
int odpt_mirror_span(struct odpt_mirror *m, u64 addr, u64 len,
		     unsigned long *first, unsigned long *n);
bool odpt_entry_present(unsigned long pfn);
unsigned long *odpt_scratch_alloc(void);
int odpt_mirror_fault_and_lock(struct odpt_mirror *m, unsigned long first,
			       unsigned long n, unsigned long req,
			       unsigned long *scratch, struct odpt_acct *a);

/* ---- DMA mapping modes (odpt_hmm_dma.c), all with m->lock held ---------- */

/* odpt_unmap_range() flags: time into the unmap histograms; the caller may
 * sleep (not a non-blockable invalidation), so long walks reschedule.
 */
#define ODPT_UNMAP_TIMED	BIT(0)
#define ODPT_UNMAP_MAY_SLEEP	BIT(1)

unsigned long odpt_unmap_range(struct odpt_mirror *m, unsigned long first,
			       unsigned long n, unsigned int flags,
			       unsigned long *collateral);
void odpt_mirror_unmap_all(struct odpt_mirror *m);
bool odpt_entry_dev_writable(struct odpt_mirror *m, unsigned long i);
dma_addr_t odpt_entry_dma_addr(struct odpt_mirror *m, unsigned long i);

/* ---- counters and histograms (odpt_hmm_stats.c) ------------------------- */

/*
 * Module-wide counters, read by GLOBAL and, for leak checks, in debugfs
 * (/sys/kernel/debug/odpt_hmm/, one file each, see odpt_hmm_stats.c).
 */
struct odpt_counters {
	atomic64_t mirrors, registered, live_mappings, iova_reserved,
		sg_tables, bookkeeping;
	/* Consistency checks, both 0 unless the module has a bug: entries a
	 * fault found still DMA-mapped although the CPU now maps another page
	 * there (or none), unmapped then; and pages a mirror still counted as
	 * mapped after its release had unmapped everything (a mapping nobody
	 * can undo any more).
	 */
	atomic64_t stale_mapped, release_leaked;
	/* Device-write direction: mode page entries remapped
	 * DMA_BIDIRECTIONAL by a MAP after the CPU made their page writable
	 * with no invalidation between (first mapped DMA_TO_DEVICE); mode sg
	 * tables mapped DMA_TO_DEVICE because at least one of their pages
	 * lacked HMM_PFN_WRITE.
	 */
	atomic64_t dma_write_upgrades, sg_readonly_tables;
	/* Pages marked dirty when a device-writable mapping of them was
	 * undone (the device may have written them behind the CPU's back:
	 * without this, reclaim drops a clean MADV_FREE page and the device's
	 * data with it).
	 */
	atomic64_t dirtied_pages;
};

extern struct odpt_counters odpt_cnt;

void odpt_stats_debugfs_init(void);
void odpt_stats_debugfs_exit(void);
void odpt_khist_record_n(struct odpt_khist *h, u64 v, u64 n);
void odpt_record(struct odpt_mirror *m, int id, u64 v, u64 n);
void odpt_fold_acct(struct odpt_mirror *m, const struct odpt_acct *a);
void odpt_account_bookkeeping(struct odpt_mirror *m, ssize_t delta);
void odpt_account_mapped(struct odpt_mirror *m, long delta);

/* ---- ioctl handlers, dispatched from the table in odpt_hmm_ioctl.c ------ */

/*
 * Each takes the mirror of the file and the ioctl's argument struct, copied
 * in (its size checked) and copied out by the dispatcher when it returns 0.
 */
int odpt_ioc_register(struct odpt_mirror *m, void *data);	/* mirror.c */
int odpt_ioc_fault(struct odpt_mirror *m, void *data);		/* mirror.c */
int odpt_ioc_flags(struct odpt_mirror *m, void *data);		/* mirror.c */
int odpt_ioc_map(struct odpt_mirror *m, void *data);		/* dma.c */
int odpt_ioc_unmap(struct odpt_mirror *m, void *data);		/* dma.c */
int odpt_ioc_verify(struct odpt_mirror *m, void *data);		/* verify.c */
int odpt_ioc_get_hist(struct odpt_mirror *m, void *data);	/* stats.c */
int odpt_ioc_get_stats(struct odpt_mirror *m, void *data);	/* stats.c */
int odpt_ioc_global(struct odpt_mirror *m, void *data);		/* stats.c */

extern const struct file_operations odpt_fops;			/* ioctl.c */

#endif
