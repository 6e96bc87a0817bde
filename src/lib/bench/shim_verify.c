// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The shim checked end to end by QEMU's edu device, in every map mode: data
 * read and written through the DMA address, stale addresses refused by the
 * IOMMU after unmap, invalidated pages gone from the device, read-only
 * mappings never written, and nothing leaked once every file is closed.
 * Each check is a test in the report; the device does the DMA, the user
 * side counts which pages hold its pattern.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/bench.h"
#include "odpt/clock.h"
#include "odpt/log.h"
#include "bench_int.h"

/* One verify run: the report, the device it checks with, the page size. */
struct vctx {
	struct odpt_report *r;
	const struct odpt_hmm_dev_info *dev;
	size_t page;
};

/* A test named NAME_MODE, timed from t0; the reason only when not a pass. */
static int vtest(struct vctx *v, const char *name, uint32_t mode,
		 enum odpt_test_result res, const char *reason, uint64_t t0)
{
	struct odpt_test_record t = { 0 };
	char full[96];

	snprintf(full, sizeof(full), "%s_%s", name, odpt_shim_mode_name(mode));
	t.name = full;
	t.result = res;
	t.reason = res == ODPT_PASS ? NULL : reason;
	t.duration_ns = odpt_now_ns() - t0;
	return odpt_report_test(v->r, &t);
}

/* The user pattern: position- and seed-dependent, so a misplaced page shows. */
static void fill_user(uint8_t *buf, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 131 + seed + (i >> 12));
}

/* Which pages hold the device's write pattern, which the original. */
static void count_pattern(const uint8_t *buf, size_t len, size_t page, uint64_t seed,
			  uint8_t fill_seed, uint64_t *written, uint64_t *orig,
			  uint64_t *other)
{
	size_t p, j, i;

	*written = *orig = *other = 0;
	for (p = 0; p < len; p += page) {
		const uint64_t *w = (const uint64_t *)(buf + p);
		bool is_w = true, is_o = true;

		for (j = 0; j < page / 8 && is_w; j++)
			if (w[j] != (seed ^ ((uintptr_t)(buf + p) + 8 * j)))
				is_w = false;
		for (i = p; i < p + page && is_o; i++)
			if (buf[i] != (uint8_t)(i * 131 + fill_seed + (i >> 12)))
				is_o = false;
		if (is_w)
			(*written)++;
		else if (is_o)
			(*orig)++;
		else
			(*other)++;
	}
}

/* Checks 1-4 in one mode; each ends as a test, -errno only when a step
 * could not be set up. */
static int verify_mode(struct vctx *v, uint32_t mode, const struct odpt_bench_verify_cfg *cfg)
{
	size_t len = cfg->pages * v->page;
	const uint64_t seed = 0x6f6470745f686d6dULL ^ mode;
	const uint8_t fill_seed = (uint8_t)(17 * mode);
	struct odpt_hmm_register reg;
	struct odpt_hmm_verify vr;
	struct odpt_hmm_flags fl;
	struct odpt_hmm_unmap um;
	struct odpt_hmm_map mp;
	struct odpt_shim *s = NULL;
	uint64_t written, orig, other, t0, pfn;
	uint8_t *buf, *ro = NULL;
	char why[256];
	int ret;

	buf = bench_map_buf(len, v->page);
	if (!buf)
		return -errno;
	/* A hinting scan between MAP and VERIFY would unmap what is checked. */
	ret = bench_exclude_numa_balancing(buf, len);
	if (ret) {
		odpt_err("verify %s: mbind(MPOL_LOCAL): %s", odpt_shim_mode_name(mode), strerror(-ret));
		goto out_unmap;
	}
	fill_user(buf, len, fill_seed);
	ret = odpt_bench_shim_open(&s);
	if (ret)
		goto out_unmap;
	ret = odpt_shim_register(s, buf, len, mode, &reg);
	if (!ret)
		ret = odpt_shim_map(s, buf, len, ODPT_HMM_FAULT_WRITE, &mp);
	if (ret) {
		odpt_err("verify %s: register/map: %s", odpt_shim_mode_name(mode), strerror(-ret));
		goto out_close;
	}

	/* 1. The device reads every sampled page and writes a pattern back. */
	t0 = odpt_now_ns();
	ret = odpt_shim_verify(s, buf, len, ODPT_HMM_VERIFY_WRITE, cfg->sample, seed, &vr);
	if (ret) {
		snprintf(why, sizeof(why), "VERIFY(write) failed: %s", strerror(-ret));
		ret = vtest(v, "verify_dma_read_write", mode, ODPT_FAIL, why, t0);
	} else {
		count_pattern(buf, len, v->page, seed, fill_seed, &written, &orig, &other);
		snprintf(why, sizeof(why),
			 "device: %llu of %llu pages matched (first bad 0x%llx); user: %llu pages with the device's pattern, %llu untouched, %llu corrupted",
			 (unsigned long long)vr.pages_matched, (unsigned long long)vr.pages_checked,
			 (unsigned long long)vr.first_bad_addr, (unsigned long long)written,
			 (unsigned long long)orig, (unsigned long long)other);
		ret = vtest(v, "verify_dma_read_write", mode,
			    vr.pages_checked == vr.pages_matched && vr.pages_checked &&
			    written == vr.pages_checked && other == 0 &&
			    written + orig == cfg->pages ? ODPT_PASS : ODPT_FAIL, why, t0);
	}
	if (ret)
		goto out_close;

	/* 2. After unmap, the old DMA address must not reach the page. */
	t0 = odpt_now_ns();
	if (v->dev->iommu_domain != ODPT_HMM_IOMMU_STRICT &&
	    v->dev->iommu_domain != ODPT_HMM_IOMMU_LAZY) {
		snprintf(why, sizeof(why), "no IOMMU translation (%s): DMA addresses are physical",
			 odpt_shim_iommu_name(v->dev->iommu_domain));
		ret = vtest(v, "verify_stale_address_blocked", mode, ODPT_SKIP, why, t0);
	} else {
		ret = odpt_shim_verify(s, buf, len, ODPT_HMM_VERIFY_STALE, cfg->sample, 0, &vr);
		if (ret) {
			snprintf(why, sizeof(why), "VERIFY(stale) failed: %s", strerror(-ret));
			ret = vtest(v, "verify_stale_address_blocked", mode, ODPT_FAIL, why, t0);
		} else if (vr.stale_checked && vr.stale_blocked == vr.stale_checked) {
			ret = vtest(v, "verify_stale_address_blocked", mode, ODPT_PASS, NULL, t0);
		} else {
			bool lazy = v->dev->iommu_domain == ODPT_HMM_IOMMU_LAZY;

			snprintf(why, sizeof(why),
				 "%llu of %llu device writes to unmapped addresses reached the page%s",
				 (unsigned long long)(vr.stale_checked - vr.stale_blocked),
				 (unsigned long long)vr.stale_checked,
				 lazy ? " (lazy IOTLB flushing, iommu.strict=0: a stale IOTLB entry is the documented price)" : "");
			ret = vtest(v, "verify_stale_address_blocked", mode,
				    lazy ? ODPT_XFAIL : ODPT_FAIL, why, t0);
		}
	}
	if (ret)
		goto out_close;

	/* 3. An invalidation (MADV_DONTNEED) takes pages away from the device.
	 * Start from nothing mapped: mode sg cannot map over a live sg map. */
	t0 = odpt_now_ns();
	ret = odpt_shim_unmap(s, buf, len, &um);
	if (!ret)
		ret = odpt_shim_map(s, buf, len, ODPT_HMM_FAULT_WRITE, &mp);
	if (!ret && madvise(buf + v->page, v->page, MADV_DONTNEED))
		ret = -errno;
	if (!ret)
		ret = odpt_shim_flags(s, buf + v->page, v->page, 0, &pfn, 1, &fl);
	if (ret) {
		snprintf(why, sizeof(why), "map/madvise/flags: %s", strerror(-ret));
		ret = vtest(v, "verify_invalidated_page_unmapped", mode, ODPT_FAIL, why, t0);
	} else {
		int vret = odpt_shim_verify(s, buf + v->page, v->page, 0, 1, 0, &vr);

		snprintf(why, sizeof(why), "after MADV_DONTNEED: flags 0x%llx, VERIFY gave %s (want ENXIO)",
			 (unsigned long long)pfn, vret ? strerror(-vret) : "success");
		ret = vtest(v, "verify_invalidated_page_unmapped", mode,
			    !(pfn & (ODPT_HMM_PFN_DMA_MAPPED | ODPT_HMM_PFN_VALID)) &&
			    vret == -ENXIO ? ODPT_PASS : ODPT_FAIL, why, t0);
	}
	if (ret)
		goto out_close;
	odpt_shim_close(s);
	s = NULL;

	/* 4. A read fault of untouched memory maps the zero page read-only:
	 * the device may read it (zeros) but must never be let write. */
	t0 = odpt_now_ns();
	ro = bench_map_buf(4 * v->page, v->page);
	if (!ro) {
		ret = -errno;
		goto out_unmap;
	}
	ret = odpt_bench_shim_open(&s);
	if (!ret)
		ret = odpt_shim_register(s, ro, 4 * v->page, mode, &reg);
	if (!ret)
		ret = odpt_shim_map(s, ro, 4 * v->page, 0, &mp);
	if (ret) {
		snprintf(why, sizeof(why), "register/map read-only: %s", strerror(-ret));
		ret = vtest(v, "verify_read_fault_never_written", mode, ODPT_FAIL, why, t0);
	} else {
		int rret = odpt_shim_verify(s, ro, 4 * v->page, 0, 2, 0, &vr);
		int wret;
		bool zero = true;
		size_t i;

		wret = odpt_shim_verify(s, ro, 4 * v->page, ODPT_HMM_VERIFY_WRITE, 2, seed, &vr);
		for (i = 0; i < 4 * v->page; i++)
			if (ro[i])
				zero = false;
		snprintf(why, sizeof(why),
			 "read check %s, write check %s (want EPERM), buffer %s",
			 rret ? strerror(-rret) : "ok", wret ? strerror(-wret) : "allowed",
			 zero ? "still zero" : "CHANGED");
		ret = vtest(v, "verify_read_fault_never_written", mode,
			    !rret && wret == -EPERM && zero ? ODPT_PASS : ODPT_FAIL, why, t0);
	}
out_close:
	odpt_shim_close(s);
out_unmap:
	if (ro)
		munmap(ro, 4 * v->page);
	munmap(buf, len);
	return ret;
}


/* 5. Every file closed: nothing may be left mapped or reserved. */
static int verify_no_leaks(struct odpt_report *r)
{
	struct odpt_test_record t = { .name = "verify_no_leaks", .result = ODPT_PASS };
	struct odpt_hmm_global g;
	uint64_t t0 = odpt_now_ns();
	char why[200];
	bool others;
	int ret;

	ret = bench_shim_global(&g);
	if (ret)
		return ret;
	others = g.mirrors > 1;
	snprintf(why, sizeof(why),
		 "after close: live_mappings %llu, iova_reserved_bytes %llu, sg_tables_live %llu%s",
		 (unsigned long long)g.live_mappings, (unsigned long long)g.iova_reserved_bytes,
		 (unsigned long long)g.sg_tables_live,
		 others ? "; other mirrors are open, cannot judge" : "");
	if (others)
		t.result = ODPT_SKIP;
	else if (g.live_mappings || g.iova_reserved_bytes || g.sg_tables_live)
		t.result = ODPT_FAIL;
	t.reason = t.result == ODPT_PASS ? NULL : why;
	t.duration_ns = odpt_now_ns() - t0;
	return odpt_report_test(r, &t);
}

int odpt_bench_shim_verify(const struct odpt_bench_verify_cfg *cfg, struct odpt_report *r)
{
	struct odpt_hmm_dev_info dev;
	struct vctx v = { 0 };
	int j, ret;

	ret = bench_report_device(r, &dev);
	if (ret)
		return ret;
	v.r = r;
	v.dev = &dev;
	v.page = (size_t)sysconf(_SC_PAGESIZE);
	for (j = 0; j < cfg->nmodes; j++) {
		if (!dev.can_verify) {
			char why[128];

			snprintf(why, sizeof(why), "device is %s (no DMA engine): needs QEMU's edu (1234:11e8)",
				 odpt_shim_device_name(dev.device_kind));
			ret = vtest(&v, "verify_dma_read_write", cfg->modes[j], ODPT_SKIP, why,
				    odpt_now_ns());
		} else {
			ret = verify_mode(&v, cfg->modes[j], cfg);
		}
		if (ret)
			return ret;
	}
	return verify_no_leaks(r);
}
