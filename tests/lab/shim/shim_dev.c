// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The ioctl wrappers and shared helpers declared in shim_dev.h, plus the
 * run-level hooks: the setup check (device present, ABI version, which
 * device and path) and the after-each leak check against the module's
 * global counters.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/mempolicy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

size_t sd_page;
struct sd_env sd_env;

int sd_open(void)
{
	int fd = open(ODPT_HMM_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int sd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int sd_version(int fd, uint32_t *version)
{
	return sd_ioctl(fd, ODPT_HMM_IOC_VERSION, version);
}

int sd_dev_info(int fd, struct odpt_hmm_dev_info *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return sd_ioctl(fd, ODPT_HMM_IOC_DEV_INFO, out);
}

int sd_global(int fd, struct odpt_hmm_global *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return sd_ioctl(fd, ODPT_HMM_IOC_GLOBAL, out);
}

int sd_register(int fd, const void *addr, uint64_t len, uint32_t mode,
		struct odpt_hmm_register *out)
{
	struct odpt_hmm_register r = {
		.size = sizeof(r),
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
		.mode = mode,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r);

	if (out)
		*out = r;
	return ret;
}

int sd_fault(int fd, const void *addr, uint64_t len, uint32_t flags,
	     struct odpt_hmm_fault *out)
{
	struct odpt_hmm_fault f = {
		.size = sizeof(f),
		.flags = flags,
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_FAULT, &f);

	if (out)
		*out = f;
	return ret;
}

int sd_map(int fd, const void *addr, uint64_t len, uint32_t flags,
	   struct odpt_hmm_map *out)
{
	struct odpt_hmm_map m = {
		.size = sizeof(m),
		.flags = flags,
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_MAP, &m);

	if (out)
		*out = m;
	return ret;
}

int sd_unmap(int fd, const void *addr, uint64_t len, struct odpt_hmm_unmap *out)
{
	struct odpt_hmm_unmap u = {
		.size = sizeof(u),
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_UNMAP, &u);

	if (out)
		*out = u;
	return ret;
}

int sd_flags(int fd, const void *addr, uint64_t len, uint32_t flags, uint64_t *pfns,
	     uint64_t n, struct odpt_hmm_flags *out)
{
	struct odpt_hmm_flags f = {
		.size = sizeof(f),
		.flags = flags,
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
		.pfns_ptr = (uint64_t)(uintptr_t)pfns,
		.pfns_len = n,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_FLAGS, &f);

	if (out)
		*out = f;
	return ret;
}

int sd_stats(int fd, uint32_t flags, struct odpt_hmm_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = flags;
	return sd_ioctl(fd, ODPT_HMM_IOC_GET_STATS, out);
}

int sd_hist(int fd, uint32_t id, uint64_t *counts, uint64_t len,
	    struct odpt_hmm_hist_req *out)
{
	struct odpt_hmm_hist_req h = {
		.size = sizeof(h),
		.id = id,
		.counts_ptr = (uint64_t)(uintptr_t)counts,
		.counts_len = len,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_GET_HIST, &h);

	if (out)
		*out = h;
	return ret;
}

int sd_verify(int fd, const void *addr, uint64_t len, uint32_t flags, uint64_t max_pages,
	      uint64_t seed, struct odpt_hmm_verify *out)
{
	struct odpt_hmm_verify v = {
		.size = sizeof(v),
		.flags = flags,
		.addr = (uint64_t)(uintptr_t)addr,
		.len = len,
		.max_pages = max_pages,
		.pattern_seed = seed,
	};
	int ret = sd_ioctl(fd, ODPT_HMM_IOC_VERIFY, &v);

	if (out)
		*out = v;
	return ret;
}

int sd_open_or_fail(void)
{
	int fd = sd_open();

	if (fd < 0)
		KT_FAIL("open %s: %s", ODPT_HMM_DEV_PATH, kt_errname(fd));
	return fd;
}

/*
 * Automatic NUMA balancing would invalidate these buffers at random (its
 * hinting scans), which exact counter checks cannot tell from the event a
 * test caused. An mbind() policy keeps task_numa_work away from the VMA
 * (MPOL_LOCAL: the default placement). The fuzzer's and the race tests' own
 * remappings stay scanned; invalidate_migrate moves pages on purpose.
 */
void *sd_mmap_or_fail(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		KT_FAIL("mmap %zu bytes: %s", len, strerror(errno));
	if (syscall(SYS_mbind, p, len, MPOL_LOCAL, NULL, 0UL, 0U) && errno != ENOSYS)
		KT_FAIL("mbind(MPOL_LOCAL) %zu bytes: %s", len, strerror(errno));
	return p;
}

/*
 * Module counters a test starts from. Normally all zero; once a test leaks,
 * the after-each check fails that test and takes the leaked values as the
 * new baseline, so the tests after it are judged on their own (children
 * inherit the parent's baseline at fork). A fully clean reading (e.g. after
 * a reload) resets it.
 */
static struct odpt_hmm_global sd_baseline;

struct odpt_hmm_global sd_global_raw_or_fail(void)
{
	struct odpt_hmm_global g;
	int fd = sd_open_or_fail();

	KT_ASSERT_OK(sd_global(fd, &g));
	close(fd);
	/* The probe's own file counts as one mirror. */
	g.mirrors--;
	return g;
}

struct odpt_hmm_global sd_global_or_fail(void)
{
	struct odpt_hmm_global g = sd_global_raw_or_fail();

	g.mirrors -= sd_baseline.mirrors;
	g.registered -= sd_baseline.registered;
	g.live_mappings -= sd_baseline.live_mappings;
	g.mapped_bytes -= sd_baseline.mapped_bytes;
	g.iova_reserved_bytes -= sd_baseline.iova_reserved_bytes;
	g.sg_tables_live -= sd_baseline.sg_tables_live;
	g.bookkeeping_bytes -= sd_baseline.bookkeeping_bytes;
	return g;
}

struct odpt_hmm_stats sd_stats_or_fail(int fd)
{
	struct odpt_hmm_stats st;

	KT_ASSERT_OK(sd_stats(fd, 0, &st));
	return st;
}

int sd_mirror_or_fail(void *addr, size_t len, uint32_t mode)
{
	struct odpt_hmm_register r;
	int fd = sd_open_or_fail();

	KT_ASSERT_OK(sd_register(fd, addr, len, mode, &r));
	KT_ASSERT_EQ(r.npages, len / sd_page);
	return fd;
}

static bool sd_same(const struct odpt_hmm_global *a, const struct odpt_hmm_global *b)
{
	return a->mirrors == b->mirrors && a->registered == b->registered &&
	       a->live_mappings == b->live_mappings && a->mapped_bytes == b->mapped_bytes &&
	       a->iova_reserved_bytes == b->iova_reserved_bytes &&
	       a->sg_tables_live == b->sg_tables_live &&
	       a->bookkeeping_bytes == b->bookkeeping_bytes;
}

/* 0 when the counters equal the baseline (or are fully clean); else
 * -EBUSY with the readings, and *out holds them. */
static int sd_leak_once(char *buf, size_t len, struct odpt_hmm_global *out)
{
	static const struct odpt_hmm_global clean;
	struct odpt_hmm_global g;
	int fd, ret;

	fd = sd_open();
	if (fd < 0) {
		snprintf(buf, len, "cannot open %s to read the counters: %s", ODPT_HMM_DEV_PATH,
			 kt_errname(fd));
		return fd;
	}
	ret = sd_global(fd, &g);
	close(fd);
	if (ret) {
		snprintf(buf, len, "GLOBAL ioctl: %s", kt_errname(ret));
		return ret;
	}
	g.mirrors--;	/* the probe */
	g.edu_transfers = 0;
	*out = g;
	if (sd_same(&g, &clean)) {
		sd_baseline = clean;
		return 0;
	}
	if (sd_same(&g, &sd_baseline))
		return 0;
	snprintf(buf, len,
		 "mirrors=%llu registered=%llu live_mappings=%llu mapped_bytes=%llu"
		 " iova_reserved_bytes=%llu sg_tables_live=%llu bookkeeping_bytes=%llu"
		 " (probe excluded; %s)",
		 g.mirrors, g.registered, g.live_mappings, g.mapped_bytes,
		 g.iova_reserved_bytes, g.sg_tables_live, g.bookkeeping_bytes,
		 sd_same(&sd_baseline, &clean) ? "want all 0" :
		 "want the values an earlier leak left");
	return -EBUSY;
}

int sd_wait_clean(unsigned int timeout_ms, char *buf, size_t len)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int ret;

	struct odpt_hmm_global g;

	for (;;) {
		ret = sd_leak_once(buf, len, &g);
		if (ret != -EBUSY)
			return ret;
		if (kt_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

int sd_leak_check(char *buf, size_t len)
{
	struct odpt_hmm_global g;
	int ret;

	/* File release and mm teardown finish before waitpid returns; the grace
	 * period only covers work a module might defer (it must still finish). */
	ret = sd_wait_clean(2000, buf, len);
	if (ret == -ETIMEDOUT && sd_leak_once(buf, len, &g) == -EBUSY)
		sd_baseline = g;	/* this test fails; the next ones start here */
	return ret;
}

static const char *sd_kind_name(uint32_t k)
{
	switch (k) {
	case ODPT_HMM_DEV_EDU:
		return "edu";
	case ODPT_HMM_DEV_FAUX:
		return "faux";
	case ODPT_HMM_DEV_NONE:
		return "none";
	}
	return "?";
}

static const char *sd_domain_name(uint32_t d)
{
	switch (d) {
	case ODPT_HMM_IOMMU_NONE:
		return "none";
	case ODPT_HMM_IOMMU_IDENTITY:
		return "identity";
	case ODPT_HMM_IOMMU_STRICT:
		return "strict";
	case ODPT_HMM_IOMMU_LAZY:
		return "lazy";
	case ODPT_HMM_IOMMU_OTHER:
		return "other";
	}
	return "?";
}

int sd_setup(char *buf, size_t len)
{
	struct odpt_hmm_dev_info *di = &sd_env.info;
	const char *iommu = getenv("ODPT_IOMMU");
	uint32_t version = 0;
	struct stat st;
	int fd, ret;

	sd_page = (size_t)sysconf(_SC_PAGESIZE);
	if (iommu && (!strcmp(iommu, "on") || !strcmp(iommu, "off"))) {
		sd_env.iommu_expected_known = true;
		sd_env.iommu_expected = !strcmp(iommu, "on");
	}
	if (geteuid() != 0) {
		snprintf(buf, len, "needs root (the device is 0600 root)");
		return 1;
	}
	if (stat(ODPT_HMM_DEV_PATH, &st) < 0) {
		snprintf(buf, len, "no %s (odpt_hmm.ko not loaded): %s", ODPT_HMM_DEV_PATH,
			 strerror(errno));
		return 1;
	}
	fd = sd_open();
	if (fd < 0) {
		snprintf(buf, len, "open %s: %s", ODPT_HMM_DEV_PATH, kt_errname(fd));
		return -1;
	}
	ret = sd_version(fd, &version);
	if (ret || version != ODPT_HMM_ABI_VERSION) {
		snprintf(buf, len, "ABI version: ioctl %s, module %u, tests built for %u",
			 kt_errname(ret), version, ODPT_HMM_ABI_VERSION);
		close(fd);
		return -1;
	}
	ret = sd_dev_info(fd, di);
	close(fd);
	if (ret) {
		snprintf(buf, len, "DEV_INFO: %s", kt_errname(ret));
		return -1;
	}
	di->name[sizeof(di->name) - 1] = '\0';
	printf("# device: %s (%s) iommu_domain=%s dma_use_iova=%u dma_need_unmap=%u "
	       "mask_bits=%u can_verify=%u ODPT_IOMMU=%s\n",
	       di->name, sd_kind_name(di->device_kind), sd_domain_name(di->iommu_domain),
	       di->dma_use_iova, di->dma_need_unmap, di->dma_mask_bits, di->can_verify,
	       iommu ? iommu : "(unset)");
	{
		struct odpt_hmm_global g;

		ret = sd_leak_once(buf, len, &g);
	}
	if (ret) {
		/* Counters dirty before any test: every leak check would be void. */
		return -1;
	}
	return 0;
}

void sd_child_run(const char *what, void (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		KT_FAIL("fork for %s: %s", what, strerror(errno));
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		KT_FAIL("waitpid for %s: %s", what, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		KT_FAIL("child process for %s ended with status 0x%x", what, status);
}

int sd_send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	struct iovec iov;
	char byte = 'f';

	if (n > 8)
		return -EINVAL;
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

int sd_recv_fds(int sock, int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	struct iovec iov;
	char byte;

	if (n > 8)
		return -EINVAL;
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno ? -errno : -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int) * (size_t)n))
		return -EPROTO;
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)n);
	return 0;
}

/* The number at the start of file @path: 0 or -errno. */
static int read_u64(const char *path, uint64_t *out)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*out = strtoull(buf, NULL, 0);
	return 0;
}

int sd_param_u64(const char *param, uint64_t *out)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/odpt_hmm/parameters/%s", param);
	return read_u64(path, out);
}

int sd_counter_u64(const char *name, uint64_t *out)
{
	char path[256];
	struct stat st;

	/* debugfs is not always mounted (the lab guest mounts it only at its
	 * end): mount it, as root may; EBUSY = someone just did. */
	if (stat(SD_DEBUGFS_DIR, &st) && errno == ENOENT &&
	    mount("none", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY)
		return -errno;
	snprintf(path, sizeof(path), SD_DEBUGFS_DIR "/%s", name);
	return read_u64(path, out);
}

int sd_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return 0;
}
