/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* edu's layer-internal parts: registers, struct odpt_edu, the restore record, edu_ helpers. */
#ifndef ODPT_EDU_INT_H
#define ODPT_EDU_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "odpt/vfio_edu.h"

/* edu's registers (QEMU hw/misc/edu.c; the shim uses the same ones). */
#define EDU_REG_ID       0x00
#define EDU_REG_DMA_SRC  0x80
#define EDU_REG_DMA_DST  0x88
#define EDU_REG_DMA_CNT  0x90
#define EDU_REG_DMA_CMD  0x98
#define EDU_CMD_START    0x1
#define EDU_CMD_TO_RAM   0x2      /* direction: edu buffer -> RAM */
#define EDU_BUF_ADDR     0x40000  /* edu's 4 KiB buffer in its own DMA space */
#define EDU_BAR_MIN      0x100    /* registers up to CMD must be inside BAR0 */

#define PCI_CMD_OFF      0x04
#define PCI_CMD_MEMORY   0x2
#define PCI_CMD_MASTER   0x4

#define SHIM_DRIVER      "odpt_hmm_edu"
#define VFIO_DRIVER      "vfio-pci"

struct odpt_edu {
	struct odpt_edu_info info;
	volatile uint8_t *bar;
	uint64_t cfg_off;         /* config space region's offset in the device fd */
	bool broken;              /* a transfer timed out: bus mastering is off */
	uint64_t dma_t0;          /* a transfer's start (odpt_now_ns), 0 when none is out */
	uint64_t dma_deadline;    /* its timeout on the raw clock */
	char driver_orig[64];
	char devdir[256];
};

/*
 * What has to be undone, prepared so that edu_restore_now() needs nothing but
 * open/write/close/munmap. Each flag is set right after its step succeeded
 * (with the termination signals blocked), so a restore undoes exactly what
 * was done. Defined in edu_bind.c; vfio_edu.c records its fds and BAR0 map.
 */
struct edu_restore {
	volatile sig_atomic_t active;
	bool override_set;        /* driver_override was written */
	bool orig_unbound;        /* the original driver was unbound */
	bool vfio_bound;          /* we bound vfio-pci */
	char bdf[32];
	char override_path[300];
	char override_orig[80];   /* what to write back ("\n" clears it) */
	char vfio_unbind[300];
	char orig_bind[300];
	int dev_fd;
	int iommufd;
	void *bar;
	size_t bar_len;
};
extern struct edu_restore edu_rs;

void edu_why_set(struct odpt_edu_why *why, bool skip, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Base name of a symlink's target ("" when there is no link). */
void edu_link_name(const char *path, char *out, size_t len);
void edu_sleep_us(unsigned us);

/* Undo the recorded binding steps; async-signal-safe. */
void edu_restore_now(void);
void edu_block_term(sigset_t *old);
void edu_install_handlers(void);
void edu_remove_handlers(void);
/* Hand edu to vfio-pci (recorded in edu_rs), then wait for its cdev node. */
int edu_bind_vfio(struct odpt_edu *e, const struct odpt_edu_dev *d, struct odpt_edu_why *why);
int edu_find_cdev(struct odpt_edu *e, const struct odpt_edu_dev *d, char *node, size_t len,
		  struct odpt_edu_why *why);

#endif
