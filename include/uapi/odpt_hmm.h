/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * uAPI of odpt_hmm.ko, the kernel shim: the only contract between the module
 * (src/kmod) and userspace (src/lib/shim, tests/lab). /dev/odpt_hmm (root
 * only, 0600) gives one HMM mirror per open file, tied to the opener's mm: a
 * user range is registered (mmu_interval_notifier), faulted with
 * hmm_range_fault, DMA-mapped for the module's device in one of three modes,
 * unmapped, inspected and timed.
 *
 * ABI rules, so old and new tools fail clearly instead of misreading:
 *  - Every struct starts with __u32 size (in: sizeof the struct as the caller
 *    knows it) and __u32 flags. The module requires size == its own sizeof
 *    and _IOC_SIZE(cmd) == its own sizeof, else -EINVAL. Unknown flag bits
 *    and non-zero reserved fields: -EINVAL. Unknown ioctl: -ENOTTY.
 *  - ODPT_HMM_IOC_VERSION returns ODPT_HMM_ABI_VERSION; the tool compares
 *    it before anything else (also /sys/module/odpt_hmm/parameters/abi_version).
 *  - All fields are fixed width; addresses and pointers travel as __u64.
 *
 * Errnos common to the per-mirror ioctls (REGISTER, FAULT, MAP, UNMAP,
 * FLAGS, VERIFY):
 *  -EPERM   the calling process's mm is not the opener's (a forked child or a
 *           process that received the fd): the mirror belongs to one mm.
 *  -ESRCH   the opener's mm has exited.
 *  -ENOENT  no range registered yet (every op except REGISTER).
 *  -EINVAL  addr/len not page aligned or len == 0; bad mode/flags/size.
 *  -ERANGE  [addr, addr+len) not inside the registered range.
 *  -EBUSY   hmm_range_fault kept colliding with invalidations for longer
 *           than HMM_RANGE_DEFAULT_TIMEOUT (1 s).
 *  -EINTR   a fatal signal arrived during a fault.
 * Errnos of hmm_range_fault pass through: -EFAULT (unmapped address, no vma,
 * PROT_NONE, special mapping), -EPERM (write fault on read-only memory).
 *
 * Global ioctls (VERSION, DEV_INFO, GLOBAL) work on any open file, before
 * REGISTER and from any process; GET_STATS and GET_HIST too (all zero before
 * REGISTER). UNMAP and VERIFY check the mm (-EPERM) but do not fault.
 *
 * Lifetime: closing the last reference of the file unmaps everything, removes
 * the notifier and frees the arrays (also after the process exited, which
 * first invalidates the whole range). The module cannot be unloaded while a
 * file is open (delete_module(2): -EWOULDBLOCK; rmmod says "is in use").
 */
#ifndef _UAPI_ODPT_HMM_H
#define _UAPI_ODPT_HMM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#include "odpt_hmm_hist.h"

#define ODPT_HMM_DEV_PATH     "/dev/odpt_hmm"
#define ODPT_HMM_ABI_VERSION  1
#define ODPT_HMM_IOC_MAGIC    0xD7

/* Map modes, chosen once per mirror at REGISTER. */
enum odpt_hmm_mode {
	/* hmm_dma_map_alloc/hmm_dma_map_pfn/hmm_dma_unmap_pfn: the two-step
	 * dma_iova_* API when an IOMMU DMA domain is present, else dma_map_phys.
	 */
	ODPT_HMM_MODE_HMM  = 1,
	/* dma_map_phys per page, one stored dma_addr_t per page. */
	ODPT_HMM_MODE_PAGE = 2,
	/* One sg_table per MAP call, one dma_map_sgtable over it. An
	 * invalidation touching any page unmaps the whole sg mapping.
	 */
	ODPT_HMM_MODE_SG   = 3,
};

/* Which device the module maps for (DEV_INFO.device_kind). */
enum odpt_hmm_device_kind {
	ODPT_HMM_DEV_NONE = 0,
	ODPT_HMM_DEV_EDU  = 1,	/* QEMU edu PCI 1234:11e8: can DMA (VERIFY works) */
	ODPT_HMM_DEV_FAUX = 2,	/* faux device, 64-bit mask, direct path, no DMA engine */
};

/* IOMMU domain of the device (DEV_INFO.iommu_domain). */
enum odpt_hmm_iommu_domain {
	ODPT_HMM_IOMMU_NONE     = 0,	/* no IOMMU in front of the device */
	ODPT_HMM_IOMMU_IDENTITY = 1,	/* passthrough */
	ODPT_HMM_IOMMU_STRICT   = 2,	/* DMA domain, IOTLB flushed at unmap */
	ODPT_HMM_IOMMU_LAZY     = 3,	/* DMA domain with flush queue (iommu.strict=0) */
	ODPT_HMM_IOMMU_OTHER    = 4,
};

/* PFN flags as reported by FLAGS (stable uAPI bits, not the kernel's). */
#define ODPT_HMM_PFN_VALID       (1ULL << 63)
#define ODPT_HMM_PFN_WRITE       (1ULL << 62)
#define ODPT_HMM_PFN_ERROR       (1ULL << 61)
#define ODPT_HMM_PFN_DMA_MAPPED  (1ULL << 60)	/* this mirror has it DMA-mapped */
#define ODPT_HMM_PFN_P2PDMA      (1ULL << 59)
/* Mapped and the device may write it (DMA_BIDIRECTIONAL). A mapped entry
 * without it is DMA_TO_DEVICE: its page was read-only for the CPU at MAP
 * time (e.g. the zero page). Mode hmm: always set on mapped entries.
 */
#define ODPT_HMM_PFN_DMA_WRITE   (1ULL << 58)
#define ODPT_HMM_PFN_ORDER_SHIFT 52		/* 5 bits: CPU mapping order (THP: 9) */
#define ODPT_HMM_PFN_ORDER_MASK  (0x1FULL << ODPT_HMM_PFN_ORDER_SHIFT)
#define ODPT_HMM_PFN_PFN_MASK    ((1ULL << ODPT_HMM_PFN_ORDER_SHIFT) - 1)
#define ODPT_HMM_PFN_ORDER(v)    (((v) & ODPT_HMM_PFN_ORDER_MASK) >> ODPT_HMM_PFN_ORDER_SHIFT)

/* ODPT_HMM_IOC_REGISTER: mirror [addr, addr+len) of the caller's mm.
 * Allocates the per-page arrays and, in mode hmm, the IOVA window (timed as
 * setup_ns). Once per file: a second call gives -EBUSY. addr+len wrapping:
 * -EOVERFLOW; beyond the user address space: -EFAULT; len above
 * ODPT_HMM_MAX_LEN: -E2BIG. Mode hmm: hmm_dma_map_alloc's -EOPNOTSUPP when
 * the device needs DMA syncs or is addressing limited.
 */
#define ODPT_HMM_MAX_LEN (1ULL << 36)
struct odpt_hmm_register {
	__u32 size;			/* in */
	__u32 flags;			/* in: 0 */
	__u64 addr;			/* in: page aligned user address */
	__u64 len;			/* in: bytes, page aligned, > 0 */
	__u32 mode;			/* in: enum odpt_hmm_mode */
	__u32 reserved;			/* in: 0 */
	__u64 npages;			/* out */
	__u64 setup_ns;			/* out: hmm_dma_map_alloc / array allocation */
	__u64 bookkeeping_bytes;	/* out: per-mirror arrays (pfn, dma, sg) */
	__u32 dma_use_iova;		/* out: 1 if the mode hmm window is an IOVA */
	__u32 dma_need_unmap;		/* out: dma_need_unmap(dev) */
};

/* Flags of FAULT and MAP. */
#define ODPT_HMM_FAULT_WRITE   (1U << 0)	/* demand HMM_PFN_WRITE */
#define ODPT_HMM_MAP_NOFAULT   (1U << 1)	/* MAP: map only present pages (no REQ_FAULT) */

/* ODPT_HMM_IOC_FAULT: hmm_range_fault over [addr, addr+len) with the
 * read_begin/retry loop (chunks of 512 pages); updates the mirror's PFN
 * array but maps nothing. Timed: fault_ns_per_call (one hmm_range_fault
 * call) and fault_ns_per_page histograms.
 */
struct odpt_hmm_fault {
	__u32 size;			/* in */
	__u32 flags;			/* in: ODPT_HMM_FAULT_WRITE */
	__u64 addr;			/* in */
	__u64 len;			/* in */
	__u64 npages;			/* out: pages faulted */
	__u64 fault_ns;			/* out: total in hmm_range_fault */
	__u64 retries_busy;		/* out: hmm_range_fault -EBUSY */
	__u64 retries_seq;		/* out: mmu_interval_read_retry true */
};

/* ODPT_HMM_IOC_MAP: fault (unless MAP_NOFAULT) then, under the mirror lock
 * after the retry check, DMA-map every VALID page of [addr, addr+len) not yet
 * mapped. Modes hmm and page go in chunks of 512 pages; mode sg faults the
 * whole range under one sequence and maps it with one dma_map_sgtable, and
 * needs the range to hold no sg mapping yet (-EBUSY: UNMAP it first);
 * MAP_NOFAULT in mode sg, or with FAULT_WRITE: -EINVAL. -ENOMEM when a DMA
 * mapping fails (pages mapped before the failure stay mapped). Direction:
 * mode page maps a page DMA_BIDIRECTIONAL if its pfn has HMM_PFN_WRITE, else
 * DMA_TO_DEVICE, and a MAP over an entry mapped DMA_TO_DEVICE whose page is
 * writable now remaps it DMA_BIDIRECTIONAL (counted in the module parameter
 * dma_write_upgrades); mode sg maps a table DMA_BIDIRECTIONAL only if every
 * page is writable, else DMA_TO_DEVICE as a whole (sg_readonly_tables);
 * mode hmm maps DMA_BIDIRECTIONAL always (hmm_dma_map_pfn). FLAGS reports
 * it per page (ODPT_HMM_PFN_DMA_WRITE); VERIFY never lets the device write
 * a page without HMM_PFN_WRITE or without a device-writable mapping.
 */
struct odpt_hmm_map {
	__u32 size;			/* in */
	__u32 flags;			/* in: FAULT_WRITE, MAP_NOFAULT */
	__u64 addr;			/* in */
	__u64 len;			/* in */
	__u64 npages_mapped;		/* out: newly mapped */
	__u64 npages_already;		/* out: were mapped before (not timed) */
	__u64 npages_absent;		/* out: not VALID (NOFAULT), left unmapped */
	__u64 fault_ns;			/* out */
	__u64 map_ns;			/* out: total in the mapping calls */
	__u64 retries_busy;		/* out */
	__u64 retries_seq;		/* out */
};

/* ODPT_HMM_IOC_UNMAP: unmap every mapped page of [addr, addr+len) and clear
 * its PFN flags. Mode sg: every sg mapping overlapping the range goes whole.
 */
struct odpt_hmm_unmap {
	__u32 size;			/* in */
	__u32 flags;			/* in: 0 */
	__u64 addr;			/* in */
	__u64 len;			/* in */
	__u64 npages_unmapped;		/* out */
	__u64 unmap_ns;			/* out */
};

/* ODPT_HMM_IOC_FLAGS: copy the mirror's PFN entries of [addr, addr+len)
 * to a user array of __u64 in ODPT_HMM_PFN_* form (npages entries). With
 * FLAGS_REFRESH first runs hmm_range_fault without faulting (the CPU's
 * current view). pfns_ptr too small for the range: -EINVAL.
 */
#define ODPT_HMM_FLAGS_REFRESH (1U << 0)
struct odpt_hmm_flags {
	__u32 size;			/* in */
	__u32 flags;			/* in: FLAGS_REFRESH */
	__u64 addr;			/* in */
	__u64 len;			/* in */
	__u64 pfns_ptr;			/* in: user pointer to __u64[pfns_len] */
	__u64 pfns_len;			/* in: entries available */
	__u64 npages;			/* out: entries written */
	__u64 nvalid;			/* out */
	__u64 nwrite;			/* out */
	__u64 nmapped;			/* out */
};

/* Histograms kept per mirror, each __u64 counts[ODPT_HMM_HIST_COUNTS_LEN]
 * in the layout of odpt_hmm_hist.h, values in ns. Mode sg records a map or
 * unmap call's time divided by its pages, once per page.
 */
enum odpt_hmm_hist_id {
	ODPT_HMM_HIST_FAULT_NS_PER_PAGE = 0,
	ODPT_HMM_HIST_FAULT_NS_PER_CALL = 1,	/* one hmm_range_fault call */
	ODPT_HMM_HIST_MAP_NS_PER_PAGE   = 2,
	ODPT_HMM_HIST_MAP_NS_PER_CALL   = 3,	/* one locked mapping pass */
	ODPT_HMM_HIST_UNMAP_NS_PER_PAGE = 4,
	ODPT_HMM_HIST_UNMAP_NS_PER_CALL = 5,
	ODPT_HMM_HIST_INVALIDATE_NS     = 6,	/* one invalidate callback */
	ODPT_HMM_HIST_NR                = 7,
};

/* ODPT_HMM_IOC_GET_HIST: copy one histogram out. counts_len must equal
 * ODPT_HMM_HIST_COUNTS_LEN (-EINVAL otherwise); id out of range: -EINVAL.
 */
struct odpt_hmm_hist_req {
	__u32 size;			/* in */
	__u32 flags;			/* in: 0 */
	__u32 id;			/* in: enum odpt_hmm_hist_id */
	__u32 reserved;			/* in: 0 */
	__u64 counts_ptr;		/* in: user pointer to __u64[counts_len] */
	__u64 counts_len;		/* in */
	__u64 total_count;		/* out */
	__u64 overflow;			/* out: samples above ODPT_HMM_HIST_HIGHEST */
	__u64 min_ns;			/* out: exact (0 when empty) */
	__u64 max_ns;			/* out: exact */
	__u64 sum_ns;			/* out */
};

/* ODPT_HMM_IOC_GET_STATS: counters of this mirror. STATS_RESET zeroes the
 * counters and histograms after reading (setup and live state stay).
 */
#define ODPT_HMM_STATS_RESET (1U << 0)
struct odpt_hmm_stats {
	__u32 size;			/* in */
	__u32 flags;			/* in: STATS_RESET */
	__u32 mode;			/* out: 0 before REGISTER */
	__u32 dma_use_iova;		/* out */
	__u64 npages;			/* out: registered pages */
	__u64 mapped_pages;		/* out: live mappings of this mirror */
	__u64 fault_calls;		/* out: hmm_range_fault calls */
	__u64 fault_pages;		/* out */
	__u64 map_calls;		/* out */
	__u64 map_pages;		/* out */
	__u64 unmap_calls;		/* out */
	__u64 unmap_pages;		/* out: explicit UNMAP */
	__u64 invalidations;		/* out: callbacks that did their work */
	__u64 invalidations_nonblock_fail; /* out: trylock failed, returned false */
	__u64 invalidate_pages;		/* out: pages unmapped by invalidations */
	__u64 invalidate_collateral_pages; /* out: sg: pages outside the range unmapped */
	__u64 retries_busy;		/* out */
	__u64 retries_seq;		/* out */
	__u64 timeouts;			/* out: loops that gave -EBUSY */
	__u64 setup_ns;			/* out: REGISTER's one-off cost */
	__u64 sg_build_ns;		/* out: sg_alloc_table + filling, summed */
	__u64 sg_tables;		/* out: sg tables built */
	__u64 bookkeeping_bytes;	/* out: live per-page arrays incl. sg tables */
	__u64 bookkeeping_bytes_per_page_x1000; /* out: per registered page, x1000 */
};

/* ODPT_HMM_IOC_DEV_INFO: the device mappings are made for, and its path. */
struct odpt_hmm_dev_info {
	__u32 size;			/* in */
	__u32 flags;			/* in: 0 */
	__u32 abi_version;		/* out */
	__u32 device_kind;		/* out: enum odpt_hmm_device_kind */
	char name[32];			/* out: dev_name(), NUL terminated */
	__u32 iommu_domain;		/* out: enum odpt_hmm_iommu_domain */
	__u32 dma_use_iova;		/* out: a probe dma_iova_try_alloc succeeded */
	__u32 dma_need_unmap;		/* out: dma_need_unmap(dev) */
	__u32 dma_mask_bits;		/* out */
	__u64 max_mapping_size;		/* out: dma_max_mapping_size() */
	__u64 opt_mapping_size;		/* out: dma_opt_mapping_size() */
	__u32 page_size;		/* out */
	__u32 can_verify;		/* out: the device has a DMA engine (edu) */
};

/* ODPT_HMM_IOC_GLOBAL: module-wide counters, for leak checks. Also readable
 * (0444) in debugfs: /sys/kernel/debug/odpt_hmm/{live_mappings,
 * iova_reserved_bytes,mirrors,sg_tables_live,bookkeeping_bytes}.
 */
struct odpt_hmm_global {
	__u32 size;			/* in */
	__u32 flags;			/* in: 0 */
	__u64 mirrors;			/* out: open files */
	__u64 registered;		/* out: mirrors with a range */
	__u64 live_mappings;		/* out: pages DMA-mapped now, all modes */
	__u64 mapped_bytes;		/* out: live_mappings * PAGE_SIZE */
	__u64 iova_reserved_bytes;	/* out: IOVA windows of mode hmm */
	__u64 sg_tables_live;		/* out */
	__u64 bookkeeping_bytes;	/* out: all live per-mirror arrays */
	__u64 edu_transfers;		/* out: edu DMA transfers done */
};

/* VERIFY flags. Default (no flag): the device reads each sampled page
 * through its DMA address into its buffer and back to a coherent check
 * buffer; the data must equal the page as the CPU sees it.
 */
#define ODPT_HMM_VERIFY_WRITE  (1U << 0)	/* device writes a pattern into the page */
#define ODPT_HMM_VERIFY_STALE  (1U << 1)	/* after unmap, a device write to the old
						 * address must not land (IOMMU only)
						 */
#define ODPT_HMM_VERIFY_RO_PROBE (1U << 2)	/* a device write to a live mapping the
						 * device may not write must not land
						 * (IOMMU only)
						 */
/* ODPT_HMM_IOC_VERIFY: check mappings end to end with the edu device.
 * Samples up to max_pages mapped pages of [addr, addr+len), evenly spaced.
 * VERIFY_WRITE writes __u64 word j of a page at user address va as
 * pattern_seed ^ (va + 8 * j), so the caller can check its own buffer; a
 * sampled page without HMM_PFN_WRITE, or mapped DMA_TO_DEVICE (no
 * ODPT_HMM_PFN_DMA_WRITE), gives -EPERM before any DMA (the device never
 * writes through a read-only mapping, e.g. the zero page).
 * VERIFY_STALE unmaps each sampled page (as UNMAP does; mode sg: its whole
 * sg mapping), then has the device write the page's bitwise complement to
 * the old DMA address: with an IOMMU the write must fault (DMAR fault lines
 * in dmesg are expected) and the page stay unchanged; without an IOMMU (or
 * identity domain) DMA addresses are physical: -EOPNOTSUPP. It also needs
 * HMM_PFN_WRITE on the sampled pages (-EPERM), as a lazy IOTLB could let the
 * write through. VERIFY_RO_PROBE (alone; with WRITE or STALE -EINVAL) reads
 * each sampled page like the default, then has the device write the page's
 * complement to its live DMA address: every sampled page must be mapped
 * DMA_TO_DEVICE (no ODPT_HMM_PFN_DMA_WRITE) and be an anonymous page that
 * only this process maps (not the zero or huge zero page, a KSM page, the
 * page cache, or a page shared copy-on-write with another process), else
 * -EPERM before any DMA; the IOMMU must refuse the write (a DMAR "PTE Write
 * access is not set" fault is expected) and the page stay unchanged;
 * results in stale_checked/stale_blocked; no IOMMU or identity domain:
 * -EOPNOTSUPP. No DMA engine (faux):
 * -ENODEV. No mapped page in the range: -ENXIO. The device's ~100 ms per
 * transfer is excluded from all latency histograms.
 */
struct odpt_hmm_verify {
	__u32 size;			/* in */
	__u32 flags;			/* in: VERIFY_WRITE, VERIFY_STALE */
	__u64 addr;			/* in */
	__u64 len;			/* in */
	__u64 max_pages;		/* in: sample size, 0 = 4, at most 64 */
	__u64 pattern_seed;		/* in: VERIFY_WRITE pattern */
	__u64 pages_checked;		/* out */
	__u64 pages_matched;		/* out: read (and write) data matched */
	__u64 stale_checked;		/* out (also RO_PROBE) */
	__u64 stale_blocked;		/* out: page unchanged after the stale (or
					 * RO_PROBE) write
					 */
	__u64 first_bad_addr;		/* out: user address of the first mismatch, or 0 */
	__u64 dma_wait_ns;		/* out: time waiting for the device (excluded) */
};

#define ODPT_HMM_IOC_VERSION   _IOR(ODPT_HMM_IOC_MAGIC, 0x00, __u32)
#define ODPT_HMM_IOC_DEV_INFO  _IOWR(ODPT_HMM_IOC_MAGIC, 0x01, struct odpt_hmm_dev_info)
#define ODPT_HMM_IOC_GLOBAL    _IOWR(ODPT_HMM_IOC_MAGIC, 0x02, struct odpt_hmm_global)
#define ODPT_HMM_IOC_REGISTER  _IOWR(ODPT_HMM_IOC_MAGIC, 0x10, struct odpt_hmm_register)
#define ODPT_HMM_IOC_FAULT     _IOWR(ODPT_HMM_IOC_MAGIC, 0x11, struct odpt_hmm_fault)
#define ODPT_HMM_IOC_MAP       _IOWR(ODPT_HMM_IOC_MAGIC, 0x12, struct odpt_hmm_map)
#define ODPT_HMM_IOC_UNMAP     _IOWR(ODPT_HMM_IOC_MAGIC, 0x13, struct odpt_hmm_unmap)
#define ODPT_HMM_IOC_FLAGS     _IOWR(ODPT_HMM_IOC_MAGIC, 0x14, struct odpt_hmm_flags)
#define ODPT_HMM_IOC_GET_HIST  _IOWR(ODPT_HMM_IOC_MAGIC, 0x15, struct odpt_hmm_hist_req)
#define ODPT_HMM_IOC_GET_STATS _IOWR(ODPT_HMM_IOC_MAGIC, 0x16, struct odpt_hmm_stats)
#define ODPT_HMM_IOC_VERIFY    _IOWR(ODPT_HMM_IOC_MAGIC, 0x17, struct odpt_hmm_verify)

#endif
