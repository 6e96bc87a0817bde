/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces of odpt_hmm.ko between the mirror (odpt_hmm_main.c)
 * and the DMA device layer (odpt_hmm_dev.c): which device mappings are made
 * for, what it can do, how its binding and removal are serialised against
 * the mirrors, and the edu DMA engine used to verify mappings.
 */
#ifndef ODPT_HMM_INTERNAL_H
#define ODPT_HMM_INTERNAL_H

#include <linux/device.h>
#include <linux/rwsem.h>
#include <linux/types.h>

#include "odpt_hmm.h"	/* the uAPI, found through ccflags -I include/uapi */

struct odpt_dma_dev {
	struct device *dev;		/* every mapping is made for it; NULL
					 * while no device is bound (edu removed) */
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
 * In odpt_hmm_main.c, called by the device layer with odpt_dev_bind held for
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

#endif
