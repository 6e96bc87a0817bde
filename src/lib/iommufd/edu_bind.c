// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* edu in sysfs: finding it, the vfio-pci binding, its recorded undo and restore. */
/*
 * The binding is process-wide state (one device per process): a SIGINT or
 * a crash in the middle of a run must still hand edu back to its driver,
 * so the restore runs from atexit() and from the fatal-signal handlers,
 * using only async-signal-safe calls on paths prepared at open.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edu_int.h"

struct edu_restore edu_rs = { .dev_fd = -1, .iommufd = -1 };

/* Termination signals are blocked while a binding step runs; the others
 * are synchronous faults, handled as they come. */
static const int term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
				     SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
static struct sigaction old_actions[NFATAL];
static bool handlers_installed, atexit_done;

void edu_why_set(struct odpt_edu_why *why, bool skip, const char *fmt, ...)
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
void edu_link_name(const char *path, char *out, size_t len)
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
			edu_why_set(why, true, "no edu (PCI %04x:%04x) at %s/%s", ODPT_EDU_VENDOR,
				ODPT_EDU_DEVICE, path, bdf);
			return -ENODEV;
		}
		snprintf(best, sizeof(best), "%s", bdf);
	} else {
		dir = opendir(path);
		if (!dir) {
			edu_why_set(why, true, "cannot list PCI devices in %s: %s", path, strerror(errno));
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
			edu_why_set(why, true,
				"no edu (PCI %04x:%04x) in %s: QEMU needs -device edu,dma_mask=0xffffffffffffffff",
				ODPT_EDU_VENDOR, ODPT_EDU_DEVICE, path);
			return -ENODEV;
		}
	}
	snprintf(d->bdf, sizeof(d->bdf), "%s", best);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sysfs, d->bdf);
	edu_link_name(path, d->driver, sizeof(d->driver));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu", sysfs, d->bdf);
	edu_link_name(path, d->iommu, sizeof(d->iommu));
	snprintf(d->domain, sizeof(d->domain), "%s", iommu_domain(d->iommu));

	/* odpt_hmm holds edu from insmod to rmmod: its driver has no sysfs
	 * unbind (suppress_bind_attrs), so edu cannot be borrowed from it. */
	if (!strcmp(d->driver, SHIM_DRIVER)) {
		edu_why_set(why, true,
			"edu at %s is held by odpt's shim (%s, bound at insmod, no sysfs unbind): `odpt shim unload` (rmmod odpt_hmm) first",
			d->bdf, SHIM_DRIVER);
		return -EBUSY;
	}
	if (d->driver[0] && strcmp(d->driver, VFIO_DRIVER) && !force_bind) {
		edu_why_set(why, true,
			"edu at %s is bound to %s: odpt takes it from another driver only with --force-bind (and gives it back after the run)",
			d->bdf, d->driver);
		return -EBUSY;
	}
	if (d->driver[0] && strcmp(d->driver, VFIO_DRIVER)) {
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/unbind", sysfs, d->driver);
		if (access(path, F_OK)) {
			edu_why_set(why, true,
				"edu at %s is bound to %s, which cannot be unbound through sysfs (no %s)",
				d->bdf, d->driver, path);
			return -EBUSY;
		}
	}
	if (!d->iommu[0]) {
		edu_why_set(why, true,
			"edu at %s has no IOMMU in front of it: iommufd needs one (QEMU -device intel-iommu,intremap=on; intel_iommu=on)",
			d->bdf);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/iommu", dev);
	if (!exists(path)) {
		edu_why_set(why, true, "no %s: kernel without CONFIG_IOMMUFD", path);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", sysfs, VFIO_DRIVER);
	if (!exists(path)) {
		edu_why_set(why, true, "no %s: the vfio-pci driver is not loaded (modprobe vfio-pci)", path);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/class/vfio-dev", sysfs);
	if (!exists(path)) {
		edu_why_set(why, true, "no %s: kernel without VFIO device cdevs (CONFIG_VFIO_DEVICE_CDEV)",
			path);
		return -ENOENT;
	}
	if (!odpt_edu_uapi_built()) {
		edu_why_set(why, true,
			"odpt was built without the iommufd and VFIO cdev uAPI (linux/iommufd.h, VFIO_DEVICE_BIND_IOMMUFD: linux-libc-dev 6.6 or newer)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- binding and its restore ---------------------------------------------- */

void edu_restore_now(void)
{
	if (!edu_rs.active)
		return;
	/* vfio-pci's remove waits for every user of the device: close first. */
	if (edu_rs.bar) {
		munmap(edu_rs.bar, edu_rs.bar_len);
		edu_rs.bar = NULL;
	}
	if (edu_rs.dev_fd >= 0) {
		close(edu_rs.dev_fd);
		edu_rs.dev_fd = -1;
	}
	if (edu_rs.iommufd >= 0) {
		close(edu_rs.iommufd);
		edu_rs.iommufd = -1;
	}
	if (edu_rs.vfio_bound) {
		write_str(edu_rs.vfio_unbind, edu_rs.bdf);
		edu_rs.vfio_bound = false;
	}
	/* Before the original bind: an override naming vfio-pci would refuse it. */
	if (edu_rs.override_set) {
		write_str(edu_rs.override_path, edu_rs.override_orig);
		edu_rs.override_set = false;
	}
	if (edu_rs.orig_unbound) {
		write_str(edu_rs.orig_bind, edu_rs.bdf);
		edu_rs.orig_unbound = false;
	}
	edu_rs.active = 0;
}

static void on_fatal_signal(int sig)
{
	edu_restore_now();
	/* The device is gone: whatever the program meant to do on this
	 * signal, it cannot go on, so take the default action. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void at_exit_restore(void)
{
	edu_restore_now();
}

void edu_block_term(sigset_t *old)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(term_signals) / sizeof(term_signals[0]); i++)
		sigaddset(&set, term_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void edu_install_handlers(void)
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

void edu_remove_handlers(void)
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
 * recorded in edu_rs for the restore.
 */
int edu_bind_vfio(struct odpt_edu *e, const struct odpt_edu_dev *d,
		     struct odpt_edu_why *why)
{
	char cur[64], path[400];
	int ret;

	snprintf(edu_rs.bdf, sizeof(edu_rs.bdf), "%s", d->bdf);
	snprintf(edu_rs.override_path, sizeof(edu_rs.override_path), "%s/driver_override", e->devdir);
	snprintf(edu_rs.vfio_unbind, sizeof(edu_rs.vfio_unbind), "%s/bus/pci/drivers/%s/unbind",
		 d->sysfs, VFIO_DRIVER);
	ret = read_line(edu_rs.override_path, cur, sizeof(cur));
	if (ret) {
		edu_why_set(why, false, "cannot read %s: %s", edu_rs.override_path, strerror(-ret));
		return ret;
	}
	/* The kernel shows an unset override as "(null)"; writing "\n" unsets it. */
	if (!cur[0] || !strcmp(cur, "(null)"))
		snprintf(edu_rs.override_orig, sizeof(edu_rs.override_orig), "\n");
	else
		snprintf(edu_rs.override_orig, sizeof(edu_rs.override_orig), "%s\n", cur);
	/* The driver now, not at find time: it may have changed meanwhile. */
	snprintf(path, sizeof(path), "%s/driver", e->devdir);
	edu_link_name(path, e->driver_orig, sizeof(e->driver_orig));
	edu_rs.active = 1;
	if (!strcmp(e->driver_orig, VFIO_DRIVER))
		return 0;

	ret = write_str(edu_rs.override_path, VFIO_DRIVER);
	if (ret) {
		/* Rebinding a device is root's (sysfs mode 0200): a missing
		 * privilege, not a fault of the device. */
		edu_why_set(why, ret == -EACCES || ret == -EPERM, "cannot write %s: %s%s",
			edu_rs.override_path, strerror(-ret),
			ret == -EACCES || ret == -EPERM ? " (rebinding edu to vfio-pci needs root)" : "");
		return ret;
	}
	edu_rs.override_set = true;
	if (e->driver_orig[0]) {
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/unbind", d->sysfs,
			 e->driver_orig);
		snprintf(edu_rs.orig_bind, sizeof(edu_rs.orig_bind), "%s/bus/pci/drivers/%s/bind",
			 d->sysfs, e->driver_orig);
		ret = write_str(path, d->bdf);
		if (ret) {
			edu_why_set(why, false, "cannot unbind edu %s from %s: %s", d->bdf,
				e->driver_orig, strerror(-ret));
			return ret;
		}
		edu_rs.orig_unbound = true;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", d->sysfs, VFIO_DRIVER);
	ret = write_str(path, d->bdf);
	if (ret) {
		edu_why_set(why, false, "cannot bind edu %s to vfio-pci (%s): %s", d->bdf, path,
			strerror(-ret));
		return ret;
	}
	edu_rs.vfio_bound = true;
	return 0;
}

/* vfio-pci creates the cdev at bind; devtmpfs/udev may lag a little. */
int edu_find_cdev(struct odpt_edu *e, const struct odpt_edu_dev *d, char *node,
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
		edu_why_set(why, true, "edu %s bound to vfio-pci but %s never appeared: no VFIO device cdev (CONFIG_VFIO_DEVICE_CDEV)",
			d->bdf, path);
		return -ENOENT;
	}
	edu_why_set(why, false, "%s never appeared (2 s after binding)", node);
	return -ENOENT;
}
