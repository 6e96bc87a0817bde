// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* edu behind iommufd: VFIO cdev open, IOAS attach/map, BAR0, DMA engine, byte checks. */
/*
 * The sysfs discovery and the vfio-pci binding with its guaranteed restore
 * are in edu_bind.c; the DMAR fault lines of the kernel log in edu_kmsg.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef ODPT_HAVE_IOMMUFD_UAPI
#include <linux/iommufd.h>
#include <linux/vfio.h>
#endif

#include "odpt/clock.h"
#include "edu_int.h"

bool odpt_edu_uapi_built(void)
{
#ifdef ODPT_HAVE_IOMMUFD_UAPI
	return true;
#else
	return false;
#endif
}

/* ---- registers ------------------------------------------------------------ */

static uint32_t reg_read32(struct odpt_edu *e, unsigned off)
{
	return *(volatile uint32_t *)(e->bar + off);
}

static uint64_t reg_read64(struct odpt_edu *e, unsigned off)
{
	return *(volatile uint64_t *)(e->bar + off);
}

static void reg_write64(struct odpt_edu *e, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar + off) = v;
}

static int set_command(struct odpt_edu *e, uint16_t set, uint16_t clear)
{
	uint16_t cmd;

	if (pread(edu_rs.dev_fd, &cmd, sizeof(cmd), (off_t)(e->cfg_off + PCI_CMD_OFF)) != sizeof(cmd))
		return -errno ? -errno : -EIO;
	cmd = (uint16_t)((cmd | set) & ~clear);
	if (pwrite(edu_rs.dev_fd, &cmd, sizeof(cmd), (off_t)(e->cfg_off + PCI_CMD_OFF)) != sizeof(cmd))
		return -errno ? -errno : -EIO;
	return 0;
}

void edu_sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };

	nanosleep(&ts, NULL);
}

static int edu_dma_start(struct odpt_edu *e, uint64_t src, uint64_t dst, uint64_t cmd)
{
	if (e->broken)
		return -EIO;
	if (e->dma_t0)
		return -EBUSY;
	/* The CPU's stores to the buffers must precede the device's reads. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	e->dma_t0 = odpt_now_ns();
	e->dma_deadline = odpt_clock_raw_ns() + (uint64_t)ODPT_EDU_TIMEOUT_MS * 1000000u;
	reg_write64(e, EDU_REG_DMA_SRC, src);
	reg_write64(e, EDU_REG_DMA_DST, dst);
	reg_write64(e, EDU_REG_DMA_CNT, ODPT_EDU_PAGE);
	reg_write64(e, EDU_REG_DMA_CMD, cmd | EDU_CMD_START);
	return 0;
}

bool odpt_edu_dma_busy(struct odpt_edu *e)
{
	return e->dma_t0 && !e->broken && (reg_read64(e, EDU_REG_DMA_CMD) & EDU_CMD_START);
}

int odpt_edu_dma_wait(struct odpt_edu *e, uint64_t *ns)
{
	unsigned polls = 0;

	if (!e->dma_t0)
		return -EINVAL;
	while (reg_read64(e, EDU_REG_DMA_CMD) & EDU_CMD_START) {
		if (odpt_clock_raw_ns() > e->dma_deadline) {
			/* A stuck engine must not write into memory later. */
			set_command(e, 0, PCI_CMD_MASTER);
			e->broken = true;
			e->dma_t0 = 0;
			return -ETIMEDOUT;
		}
		/* Each poll is an exit into the device model: spin briefly,
		 * then leave the CPU to it. */
		if (++polls > 64)
			edu_sleep_us(20);
	}
	if (ns)
		*ns = odpt_now_ns() - e->dma_t0;
	e->dma_t0 = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

static int edu_dma(struct odpt_edu *e, uint64_t src, uint64_t dst, uint64_t cmd, uint64_t *ns)
{
	int ret = edu_dma_start(e, src, dst, cmd);

	return ret ? ret : odpt_edu_dma_wait(e, ns);
}

int odpt_edu_dma_to_dev(struct odpt_edu *e, uint64_t iova, uint64_t *ns)
{
	return edu_dma(e, iova, EDU_BUF_ADDR, 0, ns);
}

int odpt_edu_dma_to_ram(struct odpt_edu *e, uint64_t iova, uint64_t *ns)
{
	return edu_dma(e, EDU_BUF_ADDR, iova, EDU_CMD_TO_RAM, ns);
}

int odpt_edu_dma_start_to_ram(struct odpt_edu *e, uint64_t iova)
{
	return edu_dma_start(e, EDU_BUF_ADDR, iova, EDU_CMD_TO_RAM);
}

/* ---- VFIO cdev and iommufd ------------------------------------------------ */

#ifdef ODPT_HAVE_IOMMUFD_UAPI
static int region_info(uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(edu_rs.dev_fd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

static int vfio_setup(struct odpt_edu *e, const struct odpt_edu_dev *d, struct odpt_edu_why *why)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vfio_region_info bar, cfg;
	void *p;
	int ret;

	bind.iommufd = edu_rs.iommufd;
	if (ioctl(edu_rs.dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		if (ret == -EPERM)
			edu_why_set(why, true,
				"VFIO_DEVICE_BIND_IOMMUFD: EPERM: no interrupt remapping (QEMU -device intel-iommu,intremap=on with -machine kernel-irqchip=split), and iommufd refuses without it unless iommufd.allow_unsafe_interrupts=1");
		else
			edu_why_set(why, false, "VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(-ret));
		return ret;
	}
	e->info.devid = bind.out_devid;
	if (ioctl(edu_rs.iommufd, IOMMU_IOAS_ALLOC, &ioas)) {
		ret = -errno;
		edu_why_set(why, false, "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
		return ret;
	}
	e->info.ioas_id = ioas.out_ioas_id;
	at.pt_id = ioas.out_ioas_id;
	if (ioctl(edu_rs.dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		ret = -errno;
		edu_why_set(why, false, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (IOAS %u): %s", ioas.out_ioas_id,
			strerror(-ret));
		return ret;
	}
	e->info.hwpt_id = at.pt_id;
	ret = region_info(VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (!ret)
		ret = region_info(VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (ret) {
		edu_why_set(why, false, "VFIO_DEVICE_GET_REGION_INFO: %s", strerror(-ret));
		return ret;
	}
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar.size < EDU_BAR_MIN) {
		edu_why_set(why, false, "edu %s: BAR0 (%llu bytes, flags 0x%x) cannot be mmapped",
			d->bdf, (unsigned long long)bar.size, bar.flags);
		return -ENXIO;
	}
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, edu_rs.dev_fd, (off_t)bar.offset);
	if (p == MAP_FAILED) {
		ret = -errno;
		edu_why_set(why, false, "mmap of edu's BAR0: %s", strerror(-ret));
		return ret;
	}
	edu_rs.bar = p;
	edu_rs.bar_len = bar.size;
	e->bar = p;
	e->info.bar0_bytes = bar.size;
	e->cfg_off = cfg.offset;
	return 0;
}

int odpt_edu_map(struct odpt_edu *e, void *va, uint64_t len, uint64_t iova, uint64_t *ns)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = e->info.ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};
	uint64_t t0 = odpt_now_ns();
	int ret = ioctl(edu_rs.iommufd, IOMMU_IOAS_MAP, &m) ? -errno : 0;

	if (ns)
		*ns = odpt_now_ns() - t0;
	return ret;
}

int odpt_edu_unmap(struct odpt_edu *e, uint64_t iova, uint64_t len, uint64_t *ns)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = e->info.ioas_id,
		.iova = iova,
		.length = len,
	};
	uint64_t t0 = odpt_now_ns();
	int ret = ioctl(edu_rs.iommufd, IOMMU_IOAS_UNMAP, &u) ? -errno : 0;

	if (ns)
		*ns = odpt_now_ns() - t0;
	/* Fewer bytes than asked means the range was not mapped as one. */
	if (!ret && u.length != len)
		ret = -EIO;
	return ret;
}

int odpt_edu_iova_ranges(struct odpt_edu *e, struct odpt_iova_range *r, int max,
			 int *n, uint64_t *align)
{
	struct iommu_iova_range *kr;
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = e->info.ioas_id,
		.num_iovas = (uint32_t)max,
	};
	int i, ret = 0;

	if (max <= 0)
		return -EINVAL;
	kr = calloc((size_t)max, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	q.allowed_iovas = (uintptr_t)kr;
	if (ioctl(edu_rs.iommufd, IOMMU_IOAS_IOVA_RANGES, &q)) {
		ret = -errno;
		goto out;
	}
	*n = (int)q.num_iovas;
	*align = q.out_iova_alignment;
	for (i = 0; i < *n; i++) {
		r[i].start = kr[i].start;
		r[i].last = kr[i].last;
	}
out:
	free(kr);
	return ret;
}
#else
/* Without the uAPI headers odpt_edu_find() refuses every device, so no
 * odpt_edu exists for these to act on. */
static int vfio_setup(struct odpt_edu *e, const struct odpt_edu_dev *d, struct odpt_edu_why *why)
{
	edu_why_set(why, true, "odpt was built without the iommufd and VFIO cdev uAPI");
	return -EOPNOTSUPP;
}

int odpt_edu_map(struct odpt_edu *e, void *va, uint64_t len, uint64_t iova, uint64_t *ns)
{
	return -EOPNOTSUPP;
}

int odpt_edu_unmap(struct odpt_edu *e, uint64_t iova, uint64_t len, uint64_t *ns)
{
	return -EOPNOTSUPP;
}

int odpt_edu_iova_ranges(struct odpt_edu *e, struct odpt_iova_range *r, int max,
			 int *n, uint64_t *align)
{
	return -EOPNOTSUPP;
}
#endif

bool odpt_iova_fits(const struct odpt_iova_range *r, int n, uint64_t iova, uint64_t len)
{
	int i;

	if (!len || iova + len - 1 < iova)
		return false;
	for (i = 0; i < n; i++)
		if (iova >= r[i].start && iova + len - 1 <= r[i].last)
			return true;
	return false;
}

/* ---- open and close ------------------------------------------------------- */

int odpt_edu_open(const struct odpt_edu_dev *d, struct odpt_edu **out,
		  struct odpt_edu_why *why)
{
	char node[300], path[300];
	struct odpt_edu *e;
	sigset_t old;
	int ret;

	memset(why, 0, sizeof(*why));
	*out = NULL;
	if (edu_rs.active) {
		edu_why_set(why, false, "edu %s is already open in this process", edu_rs.bdf);
		return -EBUSY;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		edu_why_set(why, false, "out of memory");
		return -ENOMEM;
	}
	snprintf(e->devdir, sizeof(e->devdir), "%s/bus/pci/devices/%s", d->sysfs, d->bdf);

	edu_block_term(&old);
	edu_install_handlers();
	ret = edu_bind_vfio(e, d, why);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto fail;
	ret = edu_find_cdev(e, d, node, sizeof(node), why);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "%s/iommu", d->dev);
	edu_rs.iommufd = open(path, O_RDWR | O_CLOEXEC);
	if (edu_rs.iommufd < 0) {
		ret = -errno;
		edu_why_set(why, ret == -ENOENT, "cannot open %s: %s", path, strerror(-ret));
		goto fail;
	}
	edu_rs.dev_fd = open(node, O_RDWR | O_CLOEXEC);
	if (edu_rs.dev_fd < 0) {
		ret = -errno;
		edu_why_set(why, false, "cannot open %s: %s", node, strerror(-ret));
		goto fail;
	}
	ret = vfio_setup(e, d, why);
	if (ret)
		goto fail;
	ret = set_command(e, PCI_CMD_MEMORY | PCI_CMD_MASTER, 0);
	if (ret) {
		edu_why_set(why, false, "enabling bus mastering through the config region: %s",
			strerror(-ret));
		goto fail;
	}
	/* edu's ID register reads 0xRRrr00ed (major, minor version). */
	e->info.edu_id = reg_read32(e, EDU_REG_ID);
	if ((e->info.edu_id & 0xff) != 0xed) {
		edu_why_set(why, false, "edu %s: ID register reads 0x%08x, not edu's 0x......ed",
			d->bdf, e->info.edu_id);
		ret = -ENODEV;
		goto fail;
	}
	*out = e;
	return 0;
fail:
	odpt_edu_close(e, NULL, 0);
	return ret;
}

const struct odpt_edu_info *odpt_edu_info(const struct odpt_edu *e)
{
	return &e->info;
}

int odpt_edu_close(struct odpt_edu *e, char *driver_now, size_t len)
{
	char now[64], path[300];
	sigset_t old;

	if (!e)
		return 0;
	edu_block_term(&old);
	edu_restore_now();
	edu_remove_handlers();
	sigprocmask(SIG_SETMASK, &old, NULL);
	snprintf(path, sizeof(path), "%s/driver", e->devdir);
	/* A driver's probe can be asynchronous: give it a moment to show. */
	for (int i = 0; i < 100; i++) {
		edu_link_name(path, now, sizeof(now));
		if (!strcmp(now, e->driver_orig))
			break;
		usleep(10000);
	}
	if (driver_now)
		snprintf(driver_now, len, "%s", now);
	if (strcmp(now, e->driver_orig)) {
		free(e);
		return -EIO;
	}
	free(e);
	return 0;
}

/* ---- pattern -------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void odpt_edu_pattern(uint8_t *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = splitmix64(seed + (off + i) / 8);

		memcpy(buf + i, &v, 8);
	}
}

size_t odpt_edu_pattern_diff(const uint8_t *buf, size_t len, uint64_t seed,
			     uint64_t off, size_t *first)
{
	size_t i, j, bad = 0;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = splitmix64(seed + (off + i) / 8);
		uint8_t want[8];

		if (!memcmp(buf + i, &v, 8))
			continue;
		memcpy(want, &v, 8);
		for (j = 0; j < 8; j++) {
			if (buf[i + j] == want[j])
				continue;
			if (!bad && first)
				*first = i + j;
			bad++;
		}
	}
	return bad;
}

