/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * QEMU's edu device (PCI 1234:11e8) driven from userspace through VFIO and
 * iommufd: find it in sysfs, bind it to vfio-pci (putting the original
 * driver back on close, at exit and on a fatal signal), open its VFIO
 * cdev, bind that to an iommufd, attach it to a fresh IOAS, map BAR0 and
 * run edu's one-page DMA engine against IOVAs mapped with IOMMU_IOAS_MAP.
 * Also the pieces to judge what happened: a seeded byte pattern, and the
 * intel-iommu DMAR fault lines of /dev/kmsg.
 *
 * Every function returns 0 or -errno. A step that cannot run because the
 * machine lacks something (no edu, no /dev/iommu, vfio-pci not loaded, edu
 * owned by another driver, the uAPI headers missing at build time) fills
 * struct odpt_edu_why with skip = true and the reason; any other error is
 * a failure with the reason in the same place.
 */
#ifndef ODPT_VFIO_EDU_H
#define ODPT_VFIO_EDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odpt/iommufd.h"

#define ODPT_EDU_VENDOR    0x1234
#define ODPT_EDU_DEVICE    0x11e8
/* edu copies at most its own 4 KiB buffer per transfer. */
#define ODPT_EDU_PAGE      4096u
/* Transfers that have not finished by then mean a dead engine (QEMU's edu
 * takes ~100 ms of virtual time per transfer, also under TCG). */
#define ODPT_EDU_TIMEOUT_MS 5000u

/* Where the machine's files are; NULL means "/sys" and "/dev" (the unit
 * tests point these at a fake tree). */
struct odpt_edu_where {
	const char *sysfs;
	const char *dev;
};

struct odpt_edu_why {
	bool skip;         /* a missing capability, not a failure */
	char text[320];
};

/* What odpt_edu_find() learned about the device it chose. */
struct odpt_edu_dev {
	char bdf[32];          /* 0000:00:03.0 */
	char driver[64];       /* driver bound when found, "" for none */
	char iommu[64];        /* the device's IOMMU instance (dmar0), "" for none */
	char domain[16];       /* IOMMU driver: intel, amd, virtio, arm-smmu, none, other */
	char sysfs[200];       /* the roots it was found under */
	char dev[200];
};

/* Was odpt built with the iommufd and VFIO cdev uAPI (linux-libc-dev >= 6.6)? */
bool odpt_edu_uapi_built(void);

/*
 * Find edu (the one at @bdf, or the first when @bdf is NULL) and check,
 * without changing anything, that it can be used: no driver or vfio-pci
 * bound, or with @force_bind another driver that sysfs can unbind (never
 * odpt's shim, odpt_hmm_edu, which holds edu until rmmod), /dev/iommu and
 * the vfio-pci driver present, the uAPI built in. 0, or -errno with @why.
 */
int odpt_edu_find(const struct odpt_edu_where *w, const char *bdf, bool force_bind,
		  struct odpt_edu_dev *d, struct odpt_edu_why *why);

struct odpt_edu;

/* Facts of an opened device, for the report. */
struct odpt_edu_info {
	char vfio_cdev[64];      /* vfio0 */
	uint32_t devid;          /* iommufd's device id */
	uint32_t ioas_id;
	uint32_t hwpt_id;        /* the domain the attach created */
	uint64_t bar0_bytes;
	uint32_t edu_id;         /* edu's identification register (0x010000ed) */
};

/*
 * Bind @d to vfio-pci (unless it already is), open it through its cdev and
 * iommufd, attach it to a new IOAS, map BAR0 and turn on bus mastering.
 * One device per process. On failure everything done is undone (the
 * binding restored) and @why says what failed.
 */
int odpt_edu_open(const struct odpt_edu_dev *d, struct odpt_edu **out,
		  struct odpt_edu_why *why);
const struct odpt_edu_info *odpt_edu_info(const struct odpt_edu *e);
/*
 * Close everything and give edu back to the driver it had (none, the shim
 * or the forced one). 0 when the driver bound afterwards is the original
 * one; -EIO when it is not, with the driver now bound in @driver_now ("" for
 * none). @e may be NULL (then 0).
 */
int odpt_edu_close(struct odpt_edu *e, char *driver_now, size_t len);

/* The IOAS's allowed IOVA ranges (IOMMU_IOAS_IOVA_RANGES) and alignment. */
int odpt_edu_iova_ranges(struct odpt_edu *e, struct odpt_iova_range *r, int max,
			 int *n, uint64_t *align);
/* Does [iova, iova + len) lie inside one of the @n ranges? */
bool odpt_iova_fits(const struct odpt_iova_range *r, int n, uint64_t iova, uint64_t len);

/* IOMMU_IOAS_MAP (FIXED_IOVA, read and write) and IOMMU_IOAS_UNMAP of
 * user memory in edu's IOAS; *ns is the ioctl's time. */
int odpt_edu_map(struct odpt_edu *e, void *va, uint64_t len, uint64_t iova, uint64_t *ns);
int odpt_edu_unmap(struct odpt_edu *e, uint64_t iova, uint64_t len, uint64_t *ns);

/*
 * One page between RAM (an IOVA) and edu's buffer: to_dev reads RAM, to_ram
 * writes it. Waits for the engine; *ns is start to done. -ETIMEDOUT after
 * ODPT_EDU_TIMEOUT_MS, which also turns bus mastering off: every later
 * transfer is -EIO.
 */
int odpt_edu_dma_to_dev(struct odpt_edu *e, uint64_t iova, uint64_t *ns);
int odpt_edu_dma_to_ram(struct odpt_edu *e, uint64_t iova, uint64_t *ns);
/*
 * The same, split: start edu writing its buffer to @iova and return at
 * once (-EBUSY while another transfer is out), so that the caller can act
 * while the transfer is queued (QEMU's edu runs it ~100 ms later); is it
 * still queued; wait for it as above (-EINVAL when none was started).
 */
int odpt_edu_dma_start_to_ram(struct odpt_edu *e, uint64_t iova);
bool odpt_edu_dma_busy(struct odpt_edu *e);
int odpt_edu_dma_wait(struct odpt_edu *e, uint64_t *ns);

/*
 * The seeded byte pattern: 8-byte word i of the stream (byte offset 8i) is
 * splitmix64(seed + i), so any page can be written or checked on its own
 * (@off is the byte offset of @buf in the stream; @off and @len multiples
 * of 8). Different seeds give different pages (equal words are a 2^-64
 * accident).
 */
void odpt_edu_pattern(uint8_t *buf, size_t len, uint64_t seed, uint64_t off);
/* Bytes of @buf that differ from that pattern; *first is the offset in @buf
 * of the first (untouched when none differ). */
size_t odpt_edu_pattern_diff(const uint8_t *buf, size_t len, uint64_t seed,
			     uint64_t off, size_t *first);

/* One DMAR fault the kernel logged. */
struct odpt_dmar_fault {
	uint64_t addr;        /* the faulting IOVA as logged */
	bool write;           /* DMA Write (else DMA Read) */
	char line[240];       /* the message, for the report */
};
/*
 * Parse an intel-iommu fault message ("DMAR: [DMA Write NO_PASID] Request
 * device [00:03.0] fault addr 0x1001000 [fault reason 0x05] ..."): true and
 * the address and direction, false for any other line.
 */
bool odpt_dmar_fault_parse(const char *msg, uint64_t *addr, bool *write);
/* /dev/kmsg opened at its end (records from now on): *fd, or -errno. */
int odpt_kmsg_open_end(const struct odpt_edu_where *w, int *fd);
/*
 * Read @fd's new records for up to @wait_ms, keeping the DMAR faults (at
 * most @max in @f, all counted in *n). Returns early once a fault at @want
 * (page-aligned compare) has been seen.
 */
int odpt_kmsg_dmar_faults(int fd, unsigned wait_ms, uint64_t want,
			  struct odpt_dmar_fault *f, int max, int *n);
/*
 * intel-iommu logs DMAR faults through a 5 s ratelimit: wait (*slept_ms)
 * until the window the newest DMAR line of the kernel log opened is over,
 * so that the next few faults are all logged. 0 or -errno (no /dev/kmsg).
 */
int odpt_kmsg_dmar_quiet(const struct odpt_edu_where *w, unsigned *slept_ms);

#endif
