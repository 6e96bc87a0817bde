// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * QEMU's edu device as a userspace DMA engine behind iommufd (see
 * include/odpt/vfio_edu.h): sysfs discovery, the vfio-pci binding and its
 * guaranteed restore, the VFIO cdev + iommufd setup, BAR0 register access,
 * IOAS map/unmap, and the checks' helpers (byte pattern, DMAR fault lines).
 *
 * The binding is process-wide state (one device per process): a SIGINT or
 * a crash in the middle of a run must still hand edu back to its driver,
 * so the restore runs from atexit() and from the fatal-signal handlers,
 * using only async-signal-safe calls on paths prepared at open.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef ODPT_HAVE_IOMMUFD_UAPI
#include <linux/iommufd.h>
#include <linux/vfio.h>
#endif

#include "odpt/clock.h"
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
	char driver_orig[64];
	char devdir[256];
};

/*
 * What has to be undone, prepared so that restore_now() needs nothing but
 * open/write/close/munmap. Each flag is set right after its step succeeded
 * (with the termination signals blocked), so a restore undoes exactly what
 * was done.
 */
static struct {
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
} rs = { .dev_fd = -1, .iommufd = -1 };

/* Termination signals are blocked while a binding step runs; the others
 * are synchronous faults, handled as they come. */
static const int term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
				     SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
static struct sigaction old_actions[NFATAL];
static bool handlers_installed, atexit_done;

bool odpt_edu_uapi_built(void)
{
#ifdef ODPT_HAVE_IOMMUFD_UAPI
	return true;
#else
	return false;
#endif
}

static void why_set(struct odpt_edu_why *why, bool skip, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(struct odpt_edu_why *why, bool skip, const char *fmt, ...)
{
	va_list ap;

	why->skip = skip;
	va_start(ap, fmt);
	vsnprintf(why->text, sizeof(why->text), fmt, ap);
	va_end(ap);
}

/* ---- sysfs ---------------------------------------------------------------- */

/* One line of a small sysfs file, newline stripped: 0 or -errno. */
static int read_line(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* A sysfs attribute write; async-signal-safe (the restore path uses it). */
static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	size_t len = strlen(s);

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

/* Copy with truncation (sysfs names are short; a cut one simply mismatches). */
static void copy_str(char *out, size_t len, const char *s)
{
	size_t n = strnlen(s, len - 1);

	memcpy(out, s, n);
	out[n] = '\0';
}

/* Base name of a symlink's target ("" when there is no link). */
static void link_name(const char *path, char *out, size_t len)
{
	char buf[512];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *base;

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	copy_str(out, len, base ? base + 1 : buf);
}

static bool is_edu(const char *sysfs, const char *bdf)
{
	char path[400], v[32], d[32];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vendor", sysfs, bdf);
	if (read_line(path, v, sizeof(v)))
		return false;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/device", sysfs, bdf);
	if (read_line(path, d, sizeof(d)))
		return false;
	return strtoul(v, NULL, 16) == ODPT_EDU_VENDOR && strtoul(d, NULL, 16) == ODPT_EDU_DEVICE;
}

/* The IOMMU driver behind an IOMMU instance's sysfs name. */
static const char *iommu_domain(const char *name)
{
	if (!name[0])
		return "none";
	if (!strncmp(name, "dmar", 4))
		return "intel";
	if (!strncmp(name, "ivhd", 4))
		return "amd";
	if (strstr(name, "virtio") || strstr(name, "viommu"))
		return "virtio";
	if (strstr(name, "smmu"))
		return "arm-smmu";
	return "other";
}

static bool exists(const char *path)
{
	return !access(path, F_OK);
}

int odpt_edu_find(const struct odpt_edu_where *w, const char *bdf, bool force_bind,
		  struct odpt_edu_dev *d, struct odpt_edu_why *why)
{
	const char *sysfs = w && w->sysfs ? w->sysfs : "/sys";
	const char *dev = w && w->dev ? w->dev : "/dev";
	char path[400], best[32] = "";
	struct dirent *de;
	DIR *dir;

	memset(d, 0, sizeof(*d));
	memset(why, 0, sizeof(*why));
	snprintf(d->sysfs, sizeof(d->sysfs), "%s", sysfs);
	snprintf(d->dev, sizeof(d->dev), "%s", dev);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", sysfs);
	if (bdf) {
		if (strlen(bdf) >= sizeof(best) || strchr(bdf, '/') || !is_edu(sysfs, bdf)) {
			why_set(why, true, "no edu (PCI %04x:%04x) at %s/%s", ODPT_EDU_VENDOR,
				ODPT_EDU_DEVICE, path, bdf);
			return -ENODEV;
		}
		snprintf(best, sizeof(best), "%s", bdf);
	} else {
		dir = opendir(path);
		if (!dir) {
			why_set(why, true, "cannot list PCI devices in %s: %s", path, strerror(errno));
			return -ENODEV;
		}
		/* The lowest address, so that repeated runs pick the same one. */
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(best))
				continue;
			if (is_edu(sysfs, de->d_name) && (!best[0] || strcmp(de->d_name, best) < 0))
				snprintf(best, sizeof(best), "%s", de->d_name);
		}
		closedir(dir);
		if (!best[0]) {
			why_set(why, true,
				"no edu (PCI %04x:%04x) in %s: QEMU needs -device edu,dma_mask=0xffffffffffffffff",
				ODPT_EDU_VENDOR, ODPT_EDU_DEVICE, path);
			return -ENODEV;
		}
	}
	snprintf(d->bdf, sizeof(d->bdf), "%s", best);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs, d->bdf);
	link_name(path, d->driver, sizeof(d->driver));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu", sysfs, d->bdf);
	link_name(path, d->iommu, sizeof(d->iommu));
	snprintf(d->domain, sizeof(d->domain), "%s", iommu_domain(d->iommu));

	if (d->driver[0] && strcmp(d->driver, VFIO_DRIVER) && strcmp(d->driver, SHIM_DRIVER) &&
	    !force_bind) {
		why_set(why, true,
			"edu at %s is bound to %s: odpt takes it from a driver other than its shim (%s) only with --force-bind (and gives it back after the run)",
			d->bdf, d->driver, SHIM_DRIVER);
		return -EBUSY;
	}
	if (!d->iommu[0]) {
		why_set(why, true,
			"edu at %s has no IOMMU in front of it: iommufd needs one (QEMU -device intel-iommu,intremap=on; intel_iommu=on)",
			d->bdf);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/iommu", dev);
	if (!exists(path)) {
		why_set(why, true, "no %s: kernel without CONFIG_IOMMUFD", path);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", sysfs, VFIO_DRIVER);
	if (!exists(path)) {
		why_set(why, true, "no %s: the vfio-pci driver is not loaded (modprobe vfio-pci)", path);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/class/vfio-dev", sysfs);
	if (!exists(path)) {
		why_set(why, true, "no %s: kernel without VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV)",
			path);
		return -ENOENT;
	}
	if (!odpt_edu_uapi_built()) {
		why_set(why, true,
			"odpt was built without the iommufd and VFIO cdev uAPI (linux/iommufd.h, VFIO_DEVICE_BIND_IOMMUFD: linux-libc-dev 6.6 or newer)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- binding and its restore ---------------------------------------------- */

static void restore_now(void)
{
	if (!rs.active)
		return;
	/* vfio-pci's remove waits for every user of the device: close first. */
	if (rs.bar) {
		munmap(rs.bar, rs.bar_len);
		rs.bar = NULL;
	}
	if (rs.dev_fd >= 0) {
		close(rs.dev_fd);
		rs.dev_fd = -1;
	}
	if (rs.iommufd >= 0) {
		close(rs.iommufd);
		rs.iommufd = -1;
	}
	if (rs.vfio_bound) {
		write_str(rs.vfio_unbind, rs.bdf);
		rs.vfio_bound = false;
	}
	/* Before the original bind: an override naming vfio-pci would refuse it. */
	if (rs.override_set) {
		write_str(rs.override_path, rs.override_orig);
		rs.override_set = false;
	}
	if (rs.orig_unbound) {
		write_str(rs.orig_bind, rs.bdf);
		rs.orig_unbound = false;
	}
	rs.active = 0;
}

static void on_fatal_signal(int sig)
{
	restore_now();
	/* The device is gone: whatever the program meant to do on this
	 * signal, it cannot go on, so take the default action. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void at_exit_restore(void)
{
	restore_now();
}

static void block_term(sigset_t *old)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(term_signals) / sizeof(term_signals[0]); i++)
		sigaddset(&set, term_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void install_handlers(void)
{
	struct sigaction sa;
	size_t i;

	if (!atexit_done && !atexit(at_exit_restore))
		atexit_done = true;
	if (handlers_installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFATAL; i++) {
		sigaction(fatal_signals[i], NULL, &old_actions[i]);
		/* A signal the caller ignores (a background job's SIGINT,
		 * nohup's SIGHUP) stays ignored: it cannot end the run. */
		if (old_actions[i].sa_handler == SIG_IGN)
			continue;
		sigaction(fatal_signals[i], &sa, NULL);
	}
	handlers_installed = true;
}

static void remove_handlers(void)
{
	size_t i;

	if (!handlers_installed)
		return;
	for (i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &old_actions[i], NULL);
	handlers_installed = false;
}

/*
 * Hand edu to vfio-pci with driver_override (which, unlike new_id, matches
 * this one device only and leaves other edus alone). Every step done is
 * recorded in rs for the restore.
 */
static int bind_vfio(struct odpt_edu *e, const struct odpt_edu_dev *d,
		     struct odpt_edu_why *why)
{
	char cur[64], path[400];
	int ret;

	snprintf(rs.bdf, sizeof(rs.bdf), "%s", d->bdf);
	snprintf(rs.override_path, sizeof(rs.override_path), "%s/driver_override", e->devdir);
	snprintf(rs.vfio_unbind, sizeof(rs.vfio_unbind), "%s/bus/pci/drivers/%s/unbind",
		 d->sysfs, VFIO_DRIVER);
	ret = read_line(rs.override_path, cur, sizeof(cur));
	if (ret) {
		why_set(why, false, "cannot read %s: %s", rs.override_path, strerror(-ret));
		return ret;
	}
	/* The kernel shows an unset override as "(null)"; writing "\n" unsets it. */
	if (!cur[0] || !strcmp(cur, "(null)"))
		snprintf(rs.override_orig, sizeof(rs.override_orig), "\n");
	else
		snprintf(rs.override_orig, sizeof(rs.override_orig), "%s\n", cur);
	/* The driver now, not at find time: it may have changed meanwhile. */
	snprintf(path, sizeof(path), "%s/driver", e->devdir);
	link_name(path, e->driver_orig, sizeof(e->driver_orig));
	rs.active = 1;
	if (!strcmp(e->driver_orig, VFIO_DRIVER))
		return 0;

	ret = write_str(rs.override_path, VFIO_DRIVER);
	if (ret) {
		/* Rebinding a device is root's (sysfs mode 0200): a missing
		 * privilege, not a fault of the device. */
		why_set(why, ret == -EACCES || ret == -EPERM, "cannot write %s: %s%s",
			rs.override_path, strerror(-ret),
			ret == -EACCES || ret == -EPERM ? " (rebinding edu to vfio-pci needs root)" : "");
		return ret;
	}
	rs.override_set = true;
	if (e->driver_orig[0]) {
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/unbind", d->sysfs,
			 e->driver_orig);
		snprintf(rs.orig_bind, sizeof(rs.orig_bind), "%s/bus/pci/drivers/%s/bind",
			 d->sysfs, e->driver_orig);
		ret = write_str(path, d->bdf);
		if (ret) {
			why_set(why, false, "cannot unbind edu %s from %s: %s", d->bdf,
				e->driver_orig, strerror(-ret));
			return ret;
		}
		rs.orig_unbound = true;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", d->sysfs, VFIO_DRIVER);
	ret = write_str(path, d->bdf);
	if (ret) {
		why_set(why, false, "cannot bind edu %s to vfio-pci (%s): %s", d->bdf, path,
			strerror(-ret));
		return ret;
	}
	rs.vfio_bound = true;
	return 0;
}

/* vfio-pci creates the cdev at bind; devtmpfs/udev may lag a little. */
static int find_cdev(struct odpt_edu *e, const struct odpt_edu_dev *d, char *node,
		     size_t len, struct odpt_edu_why *why)
{
	char path[400];
	struct dirent *de;
	int i;

	snprintf(path, sizeof(path), "%s/vfio-dev", e->devdir);
	for (i = 0; i < 200; i++) {
		DIR *dir = opendir(path);

		if (dir) {
			while ((de = readdir(dir)))
				if (!strncmp(de->d_name, "vfio", 4) &&
				    strlen(de->d_name) < sizeof(e->info.vfio_cdev))
					snprintf(e->info.vfio_cdev, sizeof(e->info.vfio_cdev), "%s",
						 de->d_name);
			closedir(dir);
		}
		if (e->info.vfio_cdev[0]) {
			snprintf(node, len, "%s/vfio/devices/%s", d->dev, e->info.vfio_cdev);
			if (exists(node))
				return 0;
		}
		usleep(10000);
	}
	if (!e->info.vfio_cdev[0]) {
		why_set(why, true, "edu %s bound to vfio-pci but %s never appeared: no VFIO device cdev (CONFIG_VFIO_DEVICE_CDEV)",
			d->bdf, path);
		return -ENOENT;
	}
	why_set(why, false, "%s never appeared (2 s after binding)", node);
	return -ENOENT;
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

	if (pread(rs.dev_fd, &cmd, sizeof(cmd), (off_t)(e->cfg_off + PCI_CMD_OFF)) != sizeof(cmd))
		return -errno ? -errno : -EIO;
	cmd = (uint16_t)((cmd | set) & ~clear);
	if (pwrite(rs.dev_fd, &cmd, sizeof(cmd), (off_t)(e->cfg_off + PCI_CMD_OFF)) != sizeof(cmd))
		return -errno ? -errno : -EIO;
	return 0;
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };

	nanosleep(&ts, NULL);
}

static int edu_dma(struct odpt_edu *e, uint64_t src, uint64_t dst, uint64_t cmd, uint64_t *ns)
{
	uint64_t t0, deadline;
	unsigned polls = 0;

	if (e->broken)
		return -EIO;
	/* The CPU's stores to the buffers must precede the device's reads. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t0 = odpt_now_ns();
	deadline = odpt_clock_raw_ns() + (uint64_t)ODPT_EDU_TIMEOUT_MS * 1000000u;
	reg_write64(e, EDU_REG_DMA_SRC, src);
	reg_write64(e, EDU_REG_DMA_DST, dst);
	reg_write64(e, EDU_REG_DMA_CNT, ODPT_EDU_PAGE);
	reg_write64(e, EDU_REG_DMA_CMD, cmd | EDU_CMD_START);
	while (reg_read64(e, EDU_REG_DMA_CMD) & EDU_CMD_START) {
		if (odpt_clock_raw_ns() > deadline) {
			/* A stuck engine must not write into memory later. */
			set_command(e, 0, PCI_CMD_MASTER);
			e->broken = true;
			return -ETIMEDOUT;
		}
		/* Each poll is an exit into the device model: spin briefly,
		 * then leave the CPU to it. */
		if (++polls > 64)
			sleep_us(20);
	}
	if (ns)
		*ns = odpt_now_ns() - t0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

int odpt_edu_dma_to_dev(struct odpt_edu *e, uint64_t iova, uint64_t *ns)
{
	return edu_dma(e, iova, EDU_BUF_ADDR, 0, ns);
}

int odpt_edu_dma_to_ram(struct odpt_edu *e, uint64_t iova, uint64_t *ns)
{
	return edu_dma(e, EDU_BUF_ADDR, iova, EDU_CMD_TO_RAM, ns);
}

/* ---- VFIO cdev and iommufd ------------------------------------------------ */

#ifdef ODPT_HAVE_IOMMUFD_UAPI
static int region_info(uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(rs.dev_fd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

static int vfio_setup(struct odpt_edu *e, const struct odpt_edu_dev *d, struct odpt_edu_why *why)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vfio_region_info bar, cfg;
	void *p;
	int ret;

	bind.iommufd = rs.iommufd;
	if (ioctl(rs.dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		if (ret == -EPERM)
			why_set(why, true,
				"VFIO_DEVICE_BIND_IOMMUFD: EPERM: no interrupt remapping (QEMU -device intel-iommu,intremap=on with -machine kernel-irqchip=split), and iommufd refuses without it unless iommufd.allow_unsafe_interrupts=1");
		else
			why_set(why, false, "VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(-ret));
		return ret;
	}
	e->info.devid = bind.out_devid;
	if (ioctl(rs.iommufd, IOMMU_IOAS_ALLOC, &ioas)) {
		ret = -errno;
		why_set(why, false, "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
		return ret;
	}
	e->info.ioas_id = ioas.out_ioas_id;
	at.pt_id = ioas.out_ioas_id;
	if (ioctl(rs.dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		ret = -errno;
		why_set(why, false, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (IOAS %u): %s", ioas.out_ioas_id,
			strerror(-ret));
		return ret;
	}
	e->info.hwpt_id = at.pt_id;
	ret = region_info(VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (!ret)
		ret = region_info(VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (ret) {
		why_set(why, false, "VFIO_DEVICE_GET_REGION_INFO: %s", strerror(-ret));
		return ret;
	}
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar.size < EDU_BAR_MIN) {
		why_set(why, false, "edu %s: BAR0 (%llu bytes, flags 0x%x) cannot be mmapped",
			d->bdf, (unsigned long long)bar.size, bar.flags);
		return -ENXIO;
	}
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, rs.dev_fd, (off_t)bar.offset);
	if (p == MAP_FAILED) {
		ret = -errno;
		why_set(why, false, "mmap of edu's BAR0: %s", strerror(-ret));
		return ret;
	}
	rs.bar = p;
	rs.bar_len = bar.size;
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
	int ret = ioctl(rs.iommufd, IOMMU_IOAS_MAP, &m) ? -errno : 0;

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
	int ret = ioctl(rs.iommufd, IOMMU_IOAS_UNMAP, &u) ? -errno : 0;

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
	if (ioctl(rs.iommufd, IOMMU_IOAS_IOVA_RANGES, &q)) {
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
	why_set(why, true, "odpt was built without the iommufd and VFIO cdev uAPI");
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
	if (rs.active) {
		why_set(why, false, "edu %s is already open in this process", rs.bdf);
		return -EBUSY;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		why_set(why, false, "out of memory");
		return -ENOMEM;
	}
	snprintf(e->devdir, sizeof(e->devdir), "%s/bus/pci/devices/%s", d->sysfs, d->bdf);

	block_term(&old);
	install_handlers();
	ret = bind_vfio(e, d, why);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto fail;
	ret = find_cdev(e, d, node, sizeof(node), why);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "%s/iommu", d->dev);
	rs.iommufd = open(path, O_RDWR | O_CLOEXEC);
	if (rs.iommufd < 0) {
		ret = -errno;
		why_set(why, ret == -ENOENT, "cannot open %s: %s", path, strerror(-ret));
		goto fail;
	}
	rs.dev_fd = open(node, O_RDWR | O_CLOEXEC);
	if (rs.dev_fd < 0) {
		ret = -errno;
		why_set(why, false, "cannot open %s: %s", node, strerror(-ret));
		goto fail;
	}
	ret = vfio_setup(e, d, why);
	if (ret)
		goto fail;
	ret = set_command(e, PCI_CMD_MEMORY | PCI_CMD_MASTER, 0);
	if (ret) {
		why_set(why, false, "enabling bus mastering through the config region: %s",
			strerror(-ret));
		goto fail;
	}
	/* edu's ID register reads 0xRRrr00ed (major, minor version). */
	e->info.edu_id = reg_read32(e, EDU_REG_ID);
	if ((e->info.edu_id & 0xff) != 0xed) {
		why_set(why, false, "edu %s: ID register reads 0x%08x, not edu's 0x......ed",
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
	block_term(&old);
	restore_now();
	remove_handlers();
	sigprocmask(SIG_SETMASK, &old, NULL);
	snprintf(path, sizeof(path), "%s/driver", e->devdir);
	/* A driver's probe can be asynchronous: give it a moment to show. */
	for (int i = 0; i < 100; i++) {
		link_name(path, now, sizeof(now));
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

/* ---- DMAR faults in the kernel log ---------------------------------------- */

bool odpt_dmar_fault_parse(const char *msg, uint64_t *addr, bool *write)
{
	const char *p;
	char *end;

	if (!strstr(msg, "DMAR"))
		return false;
	p = strstr(msg, "fault addr 0x");
	if (!p)
		return false;
	errno = 0;
	*addr = strtoull(p + strlen("fault addr 0x"), &end, 16);
	if (errno || end == p + strlen("fault addr 0x"))
		return false;
	if (strstr(msg, "DMA Write"))
		*write = true;
	else if (strstr(msg, "DMA Read"))
		*write = false;
	else
		return false;
	return true;
}

int odpt_kmsg_open_end(const struct odpt_edu_where *w, int *fd)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/kmsg", w && w->dev ? w->dev : "/dev");
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (lseek(*fd, 0, SEEK_END) < 0) {
		int ret = -errno;

		close(*fd);
		*fd = -1;
		return ret;
	}
	return 0;
}

int odpt_kmsg_dmar_faults(int fd, unsigned wait_ms, uint64_t want,
			  struct odpt_dmar_fault *f, int max, int *n)
{
	uint64_t deadline = odpt_clock_raw_ns() + (uint64_t)wait_ms * 1000000u;
	bool seen = false;
	char rec[2048];

	*n = 0;
	for (;;) {
		/* One record per read: "prio,seq,usec,flags;text\n" + continuations. */
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		struct odpt_dmar_fault one;
		char *msg;

		if (r < 0) {
			if (errno == EINTR || errno == EPIPE)	/* EPIPE: records overwritten */
				continue;
			if (errno != EAGAIN)
				return -errno;
			if (seen || odpt_clock_raw_ns() > deadline)
				return 0;
			sleep_us(20000);
			continue;
		}
		rec[r] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = '\0';
		if (!odpt_dmar_fault_parse(msg, &one.addr, &one.write))
			continue;
		snprintf(one.line, sizeof(one.line), "%s", msg);
		if ((one.addr & ~(uint64_t)(ODPT_EDU_PAGE - 1)) ==
		    (want & ~(uint64_t)(ODPT_EDU_PAGE - 1)))
			seen = true;
		if (*n < max)
			f[*n] = one;
		(*n)++;
	}
}
