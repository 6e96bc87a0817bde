/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The measuring and checking engines behind `odpt shim` and `odpt hist`:
 * the shim benchmark (fault, map, unmap and invalidation cost per page for
 * each map mode and size), the shim's end-to-end checks with the edu device,
 * the PFN flags listing and status of the module, and the self-checks and
 * microbenchmark of the clock and histogram. Each takes a configuration and
 * fills a struct odpt_report (the caller creates it, adds its environment
 * facts and renders it); none prints besides odpt_log. All return 0 or
 * -errno, having logged why; a check that fails is a FAIL test in the
 * report, not an error. The clock must be initialised (odpt_clock_init()).
 */
#ifndef ODPT_BENCH_H
#define ODPT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "odpt/report.h"
#include "odpt/shim.h"

#define ODPT_BENCH_MAX_SIZES 16
#define ODPT_BENCH_MAX_MODES 3   /* hmm, page, sg */

/*
 * Open the shim device, logging the usual reasons it cannot be (module not
 * loaded, ABI mismatch, permission). odpt_shim_open()'s errors.
 */
int odpt_bench_shim_open(struct odpt_shim **out);

/* Device facts as meta plus a "shim" section: device, DMA path, IOMMU
 * domain, and the module's global leak counters (excluding this query's
 * own file). */
int odpt_bench_shim_status(struct odpt_report *r);

/* `odpt shim bench`. */
struct odpt_bench_shim_cfg {
	uint64_t sizes[ODPT_BENCH_MAX_SIZES];   /* buffer bytes, page multiples */
	int nsizes;
	uint32_t modes[ODPT_BENCH_MAX_MODES];   /* ODPT_HMM_MODE_* */
	int nmodes;
	uint64_t warm;            /* warm MAP + UNMAP rounds per mode and size */
	uint64_t setup_reps;      /* extra REGISTERs for the setup_ns histogram */
	bool no_invalidate;       /* skip the MADV_DONTNEED round */
	bool numa_balancing;      /* leave buffers to NUMA balancing's scans */
	bool thp;                 /* leave buffers to transparent huge pages */
};

/*
 * For each size that fits in MemAvailable (a SKIP test bench_size_N for one
 * that does not) and each mode: setup_ns, cold, warm and invalidation
 * rounds as series and scalars labelled mode, size_bytes, run, iommu, path;
 * then the test bench_no_leaks. -EIO when a round's pages do not add up.
 */
int odpt_bench_shim(const struct odpt_bench_shim_cfg *cfg, struct odpt_report *r);

/* `odpt shim verify`. */
struct odpt_bench_verify_cfg {
	uint32_t modes[ODPT_BENCH_MAX_MODES];
	int nmodes;
	uint64_t pages;    /* buffer pages per mode (>= 2) */
	uint64_t sample;   /* pages the device checks per step */
};

/*
 * Per mode the tests verify_dma_read_write_MODE,
 * verify_stale_address_blocked_MODE, verify_invalidated_page_unmapped_MODE
 * and verify_read_fault_never_written_MODE (one SKIP for a device without a
 * DMA engine), then verify_no_leaks.
 */
int odpt_bench_shim_verify(const struct odpt_bench_verify_cfg *cfg, struct odpt_report *r);

/* How `odpt shim flags` touches its buffer before the mirror faults it. */
enum odpt_bench_touch {
	ODPT_BENCH_TOUCH_NONE,
	ODPT_BENCH_TOUCH_READ,
	ODPT_BENCH_TOUCH_WRITE,
};

/* `odpt shim flags`. */
struct odpt_bench_flags_cfg {
	uint64_t size;     /* bytes, a page multiple */
	enum odpt_bench_touch touch;
	uint32_t mode;     /* ODPT_HMM_MODE_* */
	bool map;          /* DMA-map the range, else only fault it */
	bool thp;          /* 2 MiB aligned with MADV_HUGEPAGE */
};

/* The section pfn_runs (runs of equal flags and order) and the scalars
 * pages, pages_valid, pages_write, pages_dma_mapped. */
int odpt_bench_shim_flags(const struct odpt_bench_flags_cfg *cfg, struct odpt_report *r);

/* `odpt hist check`. */
struct odpt_bench_hist_check_cfg {
	uint64_t samples;   /* back-to-back timer reads to histogram */
	uint64_t records;   /* histogram records timed */
};

/*
 * The series timer_back_to_back_ns, the clock's figures, the cost of a
 * record and a percentile query, and the tests clock_monotonic,
 * clock_rate_matches_monotonic_raw, hist_error_bound, hist_percentiles.
 */
int odpt_bench_hist_check(const struct odpt_bench_hist_check_cfg *cfg, struct odpt_report *r);

/* `odpt hist bench`. */
struct odpt_bench_hist_cfg {
	uint64_t count;      /* values to record */
	uint64_t queries;    /* percentile queries to time */
	uint64_t sig_figs;   /* of the histogram, 1..5 */
	const char *hdr_lib; /* HdrHistogram_c shared library to compare, or NULL */
};

/* ns per record (mean and best chunk; a warning above the 3 ns target),
 * per single and batch percentile query on a wide and a narrow
 * distribution, per merge of an empty, narrow and wide source, bytes, and
 * the recorded values as bench_values_ns. With hdr_lib, the same figures
 * of that library (hdr_*) and odpt's over them (*_ratio); -ELIBBAD after
 * one error line when it does not load or lacks a symbol. */
int odpt_bench_hist(const struct odpt_bench_hist_cfg *cfg, struct odpt_report *r);

#endif
