// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * VERIFY_RO_PROBE aims a device write at a live read-only mapping to show
 * that the IOMMU refuses it. Should the IOMMU let it through, the write
 * lands in the target page: so the module may only aim it at an anonymous
 * page the caller alone maps. These tests map pages the caller can only
 * read but does not own (the page cache of a memfd, the huge zero page, a
 * KSM page) and require -EPERM before any DMA. Modes page and sg map them
 * DMA_TO_DEVICE; mode hmm maps everything device-writable, which refuses
 * the probe for another reason (dma_direction covers it), so it SKIPs.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Skips unless the probe means something here: edu behind a translating
 * IOMMU, a mode that maps read-only pages DMA_TO_DEVICE. */
static void need_probe(struct kt_ctx *ctx)
{
	if (!sd_env.info.can_verify)
		kt_skip("device has no DMA engine (faux): VERIFY gives -ENODEV");
	if (sd_env.info.iommu_domain != ODPT_HMM_IOMMU_STRICT &&
	    sd_env.info.iommu_domain != ODPT_HMM_IOMMU_LAZY)
		kt_skip("no translating IOMMU: RO_PROBE gives -EOPNOTSUPP");
	if (ctx->mode->value == ODPT_HMM_MODE_HMM)
		kt_skip("mode hmm maps every page device-writable (hmm_dma_map_pfn): the probe is refused for that alone (dma_direction)");
}

/* Read-map [mem, mem+len), check the device reads it right, then the
 * probe must be refused and the pages stay as they were. */
static void probe_refused(struct kt_ctx *ctx, char *mem, size_t len, const char *what)
{
	struct odpt_hmm_verify v;
	char *copy = malloc(len);
	int fd;

	KT_ASSERT(copy);
	memcpy(copy, mem, len);
	fd = sd_mirror_or_fail(mem, len, ctx->mode->value);
	KT_ASSERT_OK(sd_map(fd, mem, len, 0, NULL));
	kt_stage("%s: the device reads it", what);
	KT_ASSERT_OK(sd_verify(fd, mem, len, 0, 1, 0, &v));
	KT_ASSERT_EQ(v.pages_matched, 1);
	kt_stage("%s: the write probe is refused", what);
	KT_ASSERT_ERR(sd_verify(fd, mem, len, ODPT_HMM_VERIFY_RO_PROBE, 1, 0, NULL), -EPERM);
	KT_ASSERT(!memcmp(copy, mem, len));
	close(fd);
	free(copy);
}

KT_TEST_MODES(ro_probe_refused_page_cache)
{
	const size_t n = 4, len = n * sd_page;
	char *data = malloc(len), *mem;
	int mfd;

	need_probe(ctx);
	KT_ASSERT(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 13 + 5);
	mfd = memfd_create("odpt-ro-probe", MFD_CLOEXEC);
	KT_ASSERT(mfd >= 0);
	KT_ASSERT(write(mfd, data, len) == (ssize_t)len);
	mem = mmap(NULL, len, PROT_READ, MAP_SHARED, mfd, 0);
	KT_ASSERT(mem != MAP_FAILED);
	probe_refused(ctx, mem, len, "page cache (memfd, MAP_SHARED read-only)");
	munmap(mem, len);
	close(mfd);
	free(data);
}

KT_TEST_MODES(ro_probe_refused_huge_zero)
{
	const size_t huge = 2u << 20, n = huge / sd_page;
	struct odpt_hmm_flags f;
	uint64_t *pfns;
	char *raw, *mem, buf[64] = "";
	volatile char c;
	int fd;

	need_probe(ctx);
	if (sd_read_line("/sys/kernel/mm/transparent_hugepage/use_zero_page", buf, sizeof(buf)))
		kt_skip("no transparent_hugepage/use_zero_page (THP not built in)");
	if (buf[0] != '1')
		kt_skip("transparent_hugepage/use_zero_page is not 1: no huge zero page");
	raw = sd_mmap_or_fail(2 * huge, PROT_READ | PROT_WRITE);
	mem = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	KT_ASSERT_EQ(madvise(mem, huge, MADV_HUGEPAGE), 0);
	c = mem[0];	/* a read fault of untouched THP-eligible memory */
	(void)c;
	pfns = calloc(n, sizeof(*pfns));
	KT_ASSERT(pfns);
	fd = sd_mirror_or_fail(mem, huge, ctx->mode->value);
	KT_ASSERT_OK(sd_flags(fd, mem, huge, ODPT_HMM_FLAGS_REFRESH, pfns, n, &f));
	close(fd);
	if (!(pfns[0] & ODPT_HMM_PFN_VALID) || ODPT_HMM_PFN_ORDER(pfns[0]) != 9 ||
	    (pfns[0] & ODPT_HMM_PFN_WRITE))
		kt_skip("the read fault did not map the huge zero page (flags 0x%llx)",
			(unsigned long long)pfns[0]);
	probe_refused(ctx, mem, huge, "huge zero page");
	free(pfns);
}

static int sysfs_rw(const char *path, char *old, size_t len, const char *val)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, old, len - 1);
	old[n > 0 ? n : 0] = '\0';
	old[strcspn(old, "\n")] = '\0';
	n = val ? pwrite(fd, val, strlen(val), 0) : 0;
	close(fd);
	return n < 0 ? -errno : 0;
}

KT_TEST_MODES(ro_probe_refused_ksm)
{
	const size_t n = 8, len = n * sd_page;
	uint64_t pfns[8], deadline;
	struct odpt_hmm_flags f;
	char run[16], sleep_ms[16], junk[16];
	bool merged = false;
	char *mem;
	int fd;

	need_probe(ctx);
	if (sysfs_rw("/sys/kernel/mm/ksm/run", run, sizeof(run), NULL))
		kt_skip("no /sys/kernel/mm/ksm (CONFIG_KSM off)");
	mem = sd_mmap_or_fail(len, PROT_READ | PROT_WRITE);
	memset(mem, 0x3c, len);	/* n identical pages */
	if (madvise(mem, len, MADV_MERGEABLE))
		kt_skip("madvise(MADV_MERGEABLE): %s", strerror(errno));
	KT_ASSERT_OK(sysfs_rw("/sys/kernel/mm/ksm/sleep_millisecs", sleep_ms, sizeof(sleep_ms),
			      "0"));
	KT_ASSERT_OK(sysfs_rw("/sys/kernel/mm/ksm/run", run, sizeof(run), "1"));
	fd = sd_mirror_or_fail(mem, len, ctx->mode->value);
	kt_stage("waiting for ksmd to merge the pages");
	deadline = kt_now_ns() + 20ull * 1000000000ull;
	while (!merged && kt_now_ns() < deadline) {
		KT_ASSERT_OK(sd_flags(fd, mem, len, ODPT_HMM_FLAGS_REFRESH, pfns, n, &f));
		merged = (pfns[0] & ODPT_HMM_PFN_VALID) && !(pfns[0] & ODPT_HMM_PFN_WRITE) &&
			 (pfns[0] & ODPT_HMM_PFN_PFN_MASK) == (pfns[1] & ODPT_HMM_PFN_PFN_MASK);
		if (!merged)
			usleep(50000);
	}
	close(fd);
	(void)sysfs_rw("/sys/kernel/mm/ksm/run", junk, sizeof(junk), run);
	(void)sysfs_rw("/sys/kernel/mm/ksm/sleep_millisecs", junk, sizeof(junk), sleep_ms);
	if (!merged)
		kt_skip("ksmd did not merge %zu identical pages within 20 s", n);
	probe_refused(ctx, mem, len, "KSM page");
}
