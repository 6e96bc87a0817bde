/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces of odpt_hmm.ko between the mirror (odpt_hmm_main.c)
 * and the DMA device layer (odpt_hmm_dev.c): which device mappings are made
 * for, what it can do, and the edu DMA engine used to verify mappings.
 */
#ifndef ODPT_HMM_INTERNAL_H
#define ODPT_HMM_INTERNAL_H

#include <linux/device.h>
#include <linux/types.h>

#include "odpt_hmm.h"	/* the uAPI, found through ccflags -I include/uapi */

struct odpt_dma_dev {
	struct device *dev;		/* the device every mapping is made for */
	u32 kind;			/* enum odpt_hmm_device_kind */
	u32 iommu_domain;		/* enum odpt_hmm_iommu_domain */
	bool iova_probe;		/* dma_iova_try_alloc worked at load */
	bool can_verify;		/* edu: has a DMA engine */
};

extern struct odpt_dma_dev odpt_dma;

int odpt_dev_init(const char *which);
void odpt_dev_exit(void);

/* True when DMA addresses go through an IOMMU translation (stale checks). */
static inline bool odpt_dev_translated(void)
{
	return odpt_dma.iommu_domain == ODPT_HMM_IOMMU_STRICT ||
	       odpt_dma.iommu_domain == ODPT_HMM_IOMMU_LAZY;
}

/*
 * edu DMA: copy one page between a DMA address and edu's buffer, through
 * the coherent check buffer. Serialised by a mutex inside; may sleep ~100 ms
 * per transfer. *wait_ns accumulates the time spent waiting.
 */
int odpt_edu_page_to_check(dma_addr_t src, u64 *wait_ns);	/* src -> check buf */
int odpt_edu_check_to_page(dma_addr_t dst, u64 *wait_ns);	/* check buf -> dst */
void *odpt_edu_check_buf(void);				/* PAGE_SIZE, coherent */

extern atomic64_t odpt_edu_transfers;

#endif
