// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The shim benchmark: fault, map, unmap and invalidation latency per page
 * for each map mode and buffer size, cold (first fault allocates the pages)
 * and warm (pages present), with the REGISTER (setup) cost, bookkeeping
 * bytes per page, and what the rounds met besides their timings
 * (invalidations, walk restarts, MAPs given up). The module records the
 * histograms; this drives it and files them in the report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/bench.h"
#include "odpt/procfs.h"
#include "odpt/log.h"
#include "bench_int.h"

/* /proc/sys/kernel/numa_balancing as recorded ("absent" without it). */
static void numa_balancing_setting(char *out, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/numa_balancing", "re");

	snprintf(out, len, "absent");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* The kernel command line's IOMMU words, for the record of a bench. */
static void cmdline_iommu(char *out, size_t len)
{
	char line[4096], *save = NULL, *tok;
	FILE *f = fopen("/proc/cmdline", "re");
	size_t used = 0;

	out[0] = '\0';
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (!strstr(tok, "iommu"))
			continue;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
					 used ? " " : "", tok);
	}
	if (!out[0])
		snprintf(out, len, "(none)");
}

/*
 * Does a buffer of @size fit in @avail bytes of MemAvailable? The pages,
 * the module's per-page arrays (at most 16.125 bytes per page: size / 254)
 * and 256 MiB for everything else. (It was 70% of MemAvailable: in the
 * lab's 2 GiB guest MemAvailable hovers around 1.53 GB, and the 1 GiB size
 * was skipped or run by a few MB either way.)
 */
static bool bench_fits(uint64_t size, uint64_t avail)
{
	return size + size / 254 + (256ull << 20) <= avail;
}

struct bench_ctx {
	struct odpt_report *r;
	const struct odpt_hmm_dev_info *dev;
	char iommu[16], path[16];
};

static int add_scalar(struct bench_ctx *c, const char *name, uint32_t mode,
		      const char *size, const char *run, double v)
{
	struct odpt_label l[] = {
		{ "mode", odpt_shim_mode_name(mode) }, { "size_bytes", size },
		{ "run", run }, { "iommu", c->iommu }, { "path", c->path },
	};

	return odpt_report_scalar(c->r, name, l, 5, v);
}

static int add_hists(struct bench_ctx *c, struct odpt_shim *s, uint32_t mode,
		     const char *size, const char *run)
{
	struct odpt_label l[] = {
		{ "mode", odpt_shim_mode_name(mode) }, { "size_bytes", size },
		{ "run", run }, { "iommu", c->iommu }, { "path", c->path },
	};
	int ret = odpt_shim_report_hists(s, c->r, l, 5);
	struct odpt_hmm_stats st;

	if (!ret)	/* the next run starts from empty histograms */
		ret = odpt_shim_stats(s, true, &st);
	return ret;
}

/* The one-off REGISTER cost, again on fresh files: one sample is noise. */
static int bench_setup(struct bench_ctx *c, uint32_t mode, uint64_t size,
		       const char *sz, void *buf, uint64_t first_ns, uint64_t reps)
{
	struct odpt_label l[] = {
		{ "mode", odpt_shim_mode_name(mode) }, { "size_bytes", sz },
		{ "run", "cold" }, { "iommu", c->iommu }, { "path", c->path },
	};
	struct odpt_hmm_register reg;
	struct odpt_hist *h;
	struct odpt_shim *s;
	uint64_t i;
	int ret;

	ret = odpt_hist_create_default(&h);
	if (ret)
		return ret;
	odpt_hist_record(h, first_ns);
	for (i = 0; i < reps && !ret; i++) {
		ret = odpt_bench_shim_open(&s);
		if (ret)
			break;
		ret = odpt_shim_register(s, buf, size, mode, &reg);
		if (!ret)
			odpt_hist_record(h, reg.setup_ns);
		odpt_shim_close(s);
	}
	if (!ret)
		ret = odpt_report_hist(c->r, "setup_ns", l, 5, h);
	odpt_hist_destroy(h);
	return ret;
}

/* What the rounds of one run (cold, warm) met besides their timings. */
struct bench_tally {
	uint64_t inval_pages;	/* pages invalidations took between MAP and UNMAP */
	uint64_t restarts;	/* walks restarted after colliding with one */
	uint64_t incomplete;	/* rounds whose MAP gave up (-EBUSY) */
};

/*
 * One MAP + UNMAP of the whole buffer. Every page must be accounted for:
 * MAP maps all of them (none already mapped: the last round unmapped all),
 * and each is unmapped once, by the UNMAP or by an invalidation that came in
 * between (the mirror's invalidate_pages counter, read before and after).
 * Anything else is a module bug, -EIO with the figures. The pages taken by
 * invalidations and the walks' restarts are added to @t (their unmap is not
 * timed). With @mapped, the mirror's stats are also taken while the buffer is
 * mapped.
 *
 * A MAP that gives up because the kernel kept changing the range faster than
 * it could be walked (-EBUSY: the module's restart budget ran out) is data,
 * not a failure: the range is unmapped again, the round counted incomplete
 * and -EBUSY returned for the caller to go on with the next round.
 */
static int bench_round(struct odpt_shim *s, void *buf, uint64_t size, uint64_t npages,
		       const char *what, struct odpt_hmm_stats *mapped, struct bench_tally *t)
{
	struct odpt_hmm_stats st0, st1;
	struct odpt_hmm_unmap um;
	struct odpt_hmm_map mp;
	uint64_t inval;
	int ret, map_ret;

	ret = odpt_shim_stats(s, false, &st0);
	if (ret)
		goto err;
	map_ret = odpt_shim_map(s, buf, size, ODPT_HMM_FAULT_WRITE, &mp);
	if (map_ret && map_ret != -EBUSY) {
		ret = map_ret;
		goto err;
	}
	if (!map_ret && mapped)
		ret = odpt_shim_stats(s, false, mapped);
	if (!ret)
		ret = odpt_shim_unmap(s, buf, size, &um);
	if (!ret)
		ret = odpt_shim_stats(s, false, &st1);
	if (ret)
		goto err;
	t->restarts += (st1.retries_busy - st0.retries_busy) + (st1.retries_seq - st0.retries_seq);
	inval = st1.invalidate_pages - st0.invalidate_pages;
	if (map_ret) {
		t->incomplete++;
		t->inval_pages += inval;
		odpt_warn("%s: MAP gave up (%s) after %llu restarts: the kernel invalidated %" PRIu64
			  " pages of the range in %llu invalidations meanwhile; round not counted",
			  what, strerror(-map_ret),
			  (unsigned long long)((st1.retries_busy - st0.retries_busy) +
					       (st1.retries_seq - st0.retries_seq)),
			  inval, (unsigned long long)(st1.invalidations - st0.invalidations));
		return st1.mapped_pages ? -EIO : -EBUSY;
	}
	if (mp.npages_mapped != npages || mp.npages_already ||
	    um.npages_unmapped + inval != npages || st1.mapped_pages) {
		odpt_err("%s: pages unaccounted for: %" PRIu64 " in the buffer, MAP mapped %llu "
			 "(already mapped %llu, absent %llu), UNMAP unmapped %llu, invalidations "
			 "(%llu) unmapped %" PRIu64 ", still mapped %llu",
			 what, npages, (unsigned long long)mp.npages_mapped,
			 (unsigned long long)mp.npages_already, (unsigned long long)mp.npages_absent,
			 (unsigned long long)um.npages_unmapped,
			 (unsigned long long)(st1.invalidations - st0.invalidations), inval,
			 (unsigned long long)st1.mapped_pages);
		return -EIO;
	}
	t->inval_pages += inval;
	return 0;
err:
	odpt_err("%s: %s", what, strerror(-ret));
	return ret;
}

/* A run's tally as figures of the report. */
static int add_tally(struct bench_ctx *c, uint32_t mode, const char *sz, const char *run,
		     const struct bench_tally *t)
{
	int ret = add_scalar(c, "invalidated_pages", mode, sz, run, (double)t->inval_pages);

	if (!ret)
		ret = add_scalar(c, "restarts", mode, sz, run, (double)t->restarts);
	if (!ret)
		ret = add_scalar(c, "incomplete_rounds", mode, sz, run, (double)t->incomplete);
	return ret;
}

/* One mode and size: the setup cost, a cold round, the warm rounds and the
 * invalidation round, each run's histograms and figures into the report. */
static int bench_one(struct bench_ctx *c, uint32_t mode, uint64_t size,
		     const struct odpt_bench_shim_cfg *cfg)
{
	struct odpt_hmm_register reg;
	struct odpt_hmm_stats st;
	struct odpt_hmm_map mp;
	struct odpt_shim *s = NULL;
	struct bench_tally tally = { 0 };
	uint64_t npages = size / (uint64_t)sysconf(_SC_PAGESIZE), w;
	bool have_mapped = false;
	char sz[32], what[96];
	void *buf;
	int ret;

	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	buf = bench_map_buf(size, (size_t)sysconf(_SC_PAGESIZE));
	if (!buf)
		return -errno;
	if (!cfg->numa_balancing) {
		ret = bench_exclude_numa_balancing(buf, size);
		if (ret) {
			odpt_err("mbind(MPOL_LOCAL) of the %s byte buffer: %s", sz, strerror(-ret));
			goto out_unmap;
		}
	}
	if (!cfg->thp && madvise(buf, size, MADV_NOHUGEPAGE)) {
		ret = -errno;
		odpt_err("madvise(MADV_NOHUGEPAGE) of the %s byte buffer: %s", sz, strerror(-ret));
		goto out_unmap;
	}
	ret = odpt_bench_shim_open(&s);
	if (ret)
		goto out_unmap;
	ret = odpt_shim_register(s, buf, size, mode, &reg);
	if (ret) {
		odpt_err("register %s %s: %s", odpt_shim_mode_name(mode), sz, strerror(-ret));
		goto out_close;
	}
	ret = add_scalar(c, "setup_ns", mode, sz, "cold", (double)reg.setup_ns);
	if (!ret)
		ret = bench_setup(c, mode, size, sz, buf, reg.setup_ns, cfg->setup_reps);
	if (ret)
		goto out_close;

	/* Cold: the fault allocates the pages, the map is the first one. */
	snprintf(what, sizeof(what), "cold map/unmap %s %s", odpt_shim_mode_name(mode), sz);
	ret = bench_round(s, buf, size, npages, what, NULL, &tally);
	if (ret && ret != -EBUSY)
		goto out_close;
	ret = odpt_shim_stats(s, false, &st);
	if (!ret && mode == ODPT_HMM_MODE_SG && !tally.incomplete)
		ret = add_scalar(c, "sg_build_ns_per_page", mode, sz, "cold",
				 (double)st.sg_build_ns / (double)npages);
	if (!ret)
		ret = add_tally(c, mode, sz, "cold", &tally);
	if (!ret)
		ret = add_hists(c, s, mode, sz, "cold");
	if (ret)
		goto out_close;

	/* Warm: pages present; the fault is a walk, the map a re-link. The
	 * bookkeeping is taken in the first complete round while everything
	 * is mapped (sg tables live). */
	memset(&tally, 0, sizeof(tally));
	for (w = 0; w < cfg->warm; w++) {
		snprintf(what, sizeof(what), "warm map/unmap %s %s, round %" PRIu64,
			 odpt_shim_mode_name(mode), sz, w + 1);
		ret = bench_round(s, buf, size, npages, what, have_mapped ? NULL : &st, &tally);
		if (ret == -EBUSY)
			continue;
		if (ret)
			goto out_close;
		if (!have_mapped) {
			have_mapped = true;
			ret = add_scalar(c, "bookkeeping_bytes_per_page", mode, sz, "warm",
					 (double)st.bookkeeping_bytes / (double)npages);
			if (ret)
				goto out_close;
		}
	}
	ret = add_tally(c, mode, sz, "warm", &tally);
	if (ret)
		goto out_close;
	ret = add_hists(c, s, mode, sz, "warm");
	if (ret || cfg->no_invalidate)
		goto out_close;

	/* Invalidation: the kernel takes the pages away from a live mapping. */
	ret = odpt_shim_map(s, buf, size, ODPT_HMM_FAULT_WRITE, &mp);
	if (ret == -EBUSY) {
		/* Data as above: this round has nothing to invalidate. */
		struct odpt_hmm_unmap um;

		odpt_warn("invalidation %s %s: MAP gave up (%s); no invalidation round",
			  odpt_shim_mode_name(mode), sz, strerror(-ret));
		ret = odpt_shim_unmap(s, buf, size, &um);
		if (!ret)
			ret = add_scalar(c, "incomplete_rounds", mode, sz, "invalidate", 1);
		goto out_close;
	}
	if (!ret)
		ret = odpt_shim_stats(s, true, &st);	/* keep only the invalidation */
	if (!ret && madvise(buf, size, MADV_DONTNEED))
		ret = -errno;
	if (!ret)
		ret = odpt_shim_stats(s, false, &st);
	if (!ret && st.mapped_pages)
		ret = -EIO;	/* an invalidation must leave nothing mapped */
	if (!ret)
		ret = add_scalar(c, "invalidate_pages", mode, sz, "invalidate",
				 (double)st.invalidate_pages);
	if (!ret)
		ret = add_hists(c, s, mode, sz, "invalidate");
	if (ret)
		odpt_err("invalidation %s %s: %s", odpt_shim_mode_name(mode), sz, strerror(-ret));
out_close:
	odpt_shim_close(s);
out_unmap:
	munmap(buf, size);
	return ret;
}

/*
 * Touch as much memory as the largest buffer once, so that "cold" faults of
 * the first mode do not also pay for the hypervisor backing guest RAM on
 * first use (which the later modes would not): cold means "not in this
 * process", equally for every mode.
 */
static void prime_memory(const uint64_t *sizes, int n, bool numa_balancing)
{
	uint64_t max = 0, avail = odpt_mem_available_bytes();
	void *p;
	int i;

	for (i = 0; i < n; i++)
		if (sizes[i] > max && bench_fits(sizes[i], avail))
			max = sizes[i];
	if (!max)
		return;
	p = bench_map_buf(max, (size_t)sysconf(_SC_PAGESIZE));
	if (!p)
		return;
	/* Hinting faults would only slow this down (and migrate pages). */
	if (!numa_balancing)
		(void)bench_exclude_numa_balancing(p, max);
	memset(p, 1, max);
	munmap(p, max);
}


/* The kernel settings the figures depend on, as report meta. */
static int bench_meta(const struct odpt_bench_shim_cfg *cfg, struct odpt_report *r)
{
	char cmdline[512], numab[32];

	cmdline_iommu(cmdline, sizeof(cmdline));
	if (odpt_report_meta(r, "kernel_cmdline_iommu", cmdline))
		return -ENOMEM;
	/* The system setting, and whether the buffers were kept out of it. */
	numa_balancing_setting(numab, sizeof(numab));
	if (odpt_report_meta(r, "numa_balancing", numab) ||
	    odpt_report_meta(r, "numa_balancing_buffers",
			     cfg->numa_balancing ? "scanned" : "excluded (mbind MPOL_LOCAL)") ||
	    odpt_report_meta(r, "thp_buffers",
			     cfg->thp ? "eligible" : "excluded (MADV_NOHUGEPAGE)"))
		return -ENOMEM;
	return 0;
}

/* Every mirror is closed: the module must hold nothing any more. */
static int bench_no_leaks(struct odpt_report *r)
{
	struct odpt_test_record t = { .name = "bench_no_leaks", .result = ODPT_PASS };
	struct odpt_hmm_global g;
	char why[160];
	int ret;

	ret = bench_shim_global(&g);
	if (ret)
		return ret;
	if (g.live_mappings || g.iova_reserved_bytes || g.sg_tables_live) {
		snprintf(why, sizeof(why),
			 "after close: live_mappings %llu, iova_reserved_bytes %llu, sg_tables_live %llu",
			 (unsigned long long)g.live_mappings,
			 (unsigned long long)g.iova_reserved_bytes,
			 (unsigned long long)g.sg_tables_live);
		t.result = ODPT_FAIL;
		t.reason = why;
	}
	return odpt_report_test(r, &t);
}

int odpt_bench_shim(const struct odpt_bench_shim_cfg *cfg, struct odpt_report *r)
{
	struct odpt_hmm_dev_info dev;
	struct bench_ctx c = { 0 };
	uint64_t avail;
	int i, j, ret;

	ret = bench_report_device(r, &dev);
	if (!ret)
		ret = bench_meta(cfg, r);
	if (ret)
		return ret;
	c.r = r;
	c.dev = &dev;
	snprintf(c.iommu, sizeof(c.iommu), "%s", odpt_shim_iommu_name(dev.iommu_domain));
	snprintf(c.path, sizeof(c.path), "%s", odpt_shim_path_name(&dev));

	prime_memory(cfg->sizes, cfg->nsizes, cfg->numa_balancing);
	for (i = 0; i < cfg->nsizes; i++) {
		uint64_t size = cfg->sizes[i];

		avail = odpt_mem_available_bytes();
		/* The pages plus the module's arrays must fit with room to spare. */
		if (!bench_fits(size, avail)) {
			struct odpt_test_record t = { 0 };
			char name[64], why[128];

			snprintf(name, sizeof(name), "bench_size_%" PRIu64, size);
			snprintf(why, sizeof(why), "needs %" PRIu64 " bytes, MemAvailable is %" PRIu64,
				 size, avail);
			t.name = name;
			t.result = ODPT_SKIP;
			t.reason = why;
			ret = odpt_report_test(r, &t);
			if (ret)
				return ret;
			odpt_warn("shim bench: skipping size %" PRIu64 ": %s", size, why);
			continue;
		}
		for (j = 0; j < cfg->nmodes; j++) {
			odpt_info("shim bench: mode %s size %" PRIu64,
				  odpt_shim_mode_name(cfg->modes[j]), size);
			ret = bench_one(&c, cfg->modes[j], size, cfg);
			if (ret)
				return ret;
		}
	}
	return bench_no_leaks(r);
}
