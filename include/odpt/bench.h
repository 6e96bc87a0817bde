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

#include "odpt/forkrun.h"
#include "odpt/report.h"
#include "odpt/shim.h"
#include "odpt/verbs.h"

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

/* ---- `odpt bench SCENARIO`: what an RDMA user pays for ODP ------------
 * The scenarios are defined in docs/metrics.md ("odpt bench"): what is
 * timed from which call to which event, which side faults, what is
 * excluded. All run an RC QP pair in loopback on one port.
 */
enum odpt_ob_scenario {
	ODPT_OB_FAULT,      /* op latency, target pages dropped every iteration */
	ODPT_OB_WARM,       /* the same on resident pages, with fault - warm */
	ODPT_OB_REG,        /* ibv_reg_mr / ibv_dereg_mr per MR kind and size */
	ODPT_OB_REFAULT,    /* first good completion after an invalidation */
	ODPT_OB_PREFETCH,   /* ibv_advise_mr cost and the op right after it */
	ODPT_OB_STORM,      /* threads faulting ranges of one MR at once */
	ODPT_OB_NSCENARIOS,
};
const char *odpt_ob_scenario_name(enum odpt_ob_scenario s);
/* -EINVAL for an unknown name. */
int odpt_ob_scenario_parse(const char *name, enum odpt_ob_scenario *out);

/* Which MR is ODP-dropped: the requester's (local) or the responder's. */
enum odpt_ob_side { ODPT_OB_SIDE_LOCAL = 1, ODPT_OB_SIDE_REMOTE = 2, ODPT_OB_SIDE_BOTH = 3 };

#define ODPT_OB_MAX_OPS 7
#define ODPT_OB_MAX_SIZES 24
#define ODPT_OB_MAX_ITERS 1000000000ULL
#define ODPT_OB_MAX_OP_BYTES (16ULL << 20)     /* fault, warm, prefetch, storm */
#define ODPT_OB_MAX_REG_BYTES (64ULL << 30)    /* reg */
#define ODPT_OB_MAX_THREADS 64

/* Where a run is, for a progress line (the CLI prints it on a terminal). */
struct odpt_ob_progress {
	const char *scenario;
	const char *series;       /* "WRITE 4096 B remote" */
	uint64_t done, total;     /* iterations of this series */
	int series_k, nseries;    /* 1-based index of the series, of how many */
	uint64_t elapsed_ns;      /* since the scenario started */
	uint64_t eta_ns;          /* estimate for the rest of the scenario */
};

struct odpt_ob_cfg {
	enum odpt_ob_scenario scenario;
	const char *dev;          /* NULL: the first device */
	int port;
	int gid;                  /* < 0: automatic */
	enum odpt_vop ops[ODPT_OB_MAX_OPS];
	int nops;
	uint64_t sizes[ODPT_OB_MAX_SIZES];
	int nsizes;
	uint64_t iters;           /* recorded iterations per series */
	uint64_t warmup;          /* iterations run first, not recorded */
	unsigned sides;           /* enum odpt_ob_side bits */
	unsigned threads;         /* storm */
	uint64_t stall_ns;        /* one completion may take at most this */
	bool busy_poll;           /* never sleep on the CQ (as perftest) */
	struct odpt_fr_page *page;   /* the watchdog's stage; may be NULL */
	void (*progress)(void *arg, const struct odpt_ob_progress *p);
	void *progress_arg;
};

/*
 * Fill what the user left unset (nops 0, nsizes 0, iters 0, warmup
 * UINT64_MAX, threads 0) with the scenario's defaults, then check the lot:
 * 0, or -EINVAL with one line in err (sizes 0 or above the scenario's
 * limit, atomics at a size other than 8, an op the scenario cannot time,
 * iterations 0 or above 10^9).
 */
int odpt_ob_cfg_finish(struct odpt_ob_cfg *c, char *err, size_t errlen);
/* "WRITE,READ,send,cas" -> ops (odpt_ob_op_name() or odpt_vop_name(), any
 * case, "all"):
 * 0 or -EINVAL with the bad word in err. */
int odpt_ob_parse_ops(const char *list, struct odpt_ob_cfg *c, char *err, size_t errlen);
/* "8,64,4K,1M" (units K/M/G, binary) -> sizes: 0 or -EINVAL / -ERANGE. */
int odpt_ob_parse_sizes(const char *list, struct odpt_ob_cfg *c, char *err, size_t errlen);
/* "local", "remote", "both" -> bits; -EINVAL otherwise. */
int odpt_ob_parse_side(const char *name, unsigned *out);

/* Short op names in labels and lists: SEND, WRITE, READ, CAS, FAA,
 * ATOMIC_WRITE, FLUSH. */
const char *odpt_ob_op_name(enum odpt_vop op);
/* Whether op is timed at size: the atomics only at 8 bytes. */
bool odpt_ob_op_size_ok(enum odpt_vop op, uint64_t size);

/* fault - warm for one op, size and side (docs/metrics.md). */
struct odpt_ob_diff {
	int64_t p50_ns;           /* fault p50 - warm p50 */
	double mean_ns;           /* fault mean - warm mean */
	double p50_ratio;         /* fault p50 / warm p50 (0 when warm is empty) */
};
/* 0, or -ENODATA when either histogram is empty. */
int odpt_ob_diff(const struct odpt_hist *fault, const struct odpt_hist *warm,
		 struct odpt_ob_diff *out);

/* "local", "remote"; "none" for 0 (a warm series: nothing dropped). */
const char *odpt_ob_side_name(unsigned side);
/* The labels of a fault/warm series: op, size_bytes and (side != 0) side. */
struct odpt_ob_key {
	char op[16], size[24];
	struct odpt_label l[3];
	int nl;
};
void odpt_ob_key_init(struct odpt_ob_key *k, enum odpt_vop op, uint64_t size, unsigned side);
/*
 * The fault - warm row of one op, size and side as scalars labelled like
 * the series: fault_minus_warm_p50_ns, fault_minus_warm_mean_ns,
 * fault_over_warm_p50. Nothing when either histogram is empty. 0 or
 * -ENOMEM.
 */
int odpt_ob_report_diff(struct odpt_report *r, enum odpt_vop op, uint64_t size, unsigned side,
			const struct odpt_hist *fault, const struct odpt_hist *warm);

/*
 * Run c->scenario on the device and add to r: device facts as meta, one
 * series per (op, size, side) or per the scenario's own keys, the timer
 * overhead and the recording cost, and one test per series (PASS, FAIL
 * with the completion error or stall, SKIP with the missing capability).
 * The clock must be initialised. 0, -ENODEV when there is no device at all
 * (the caller reports a SKIP), -EOPNOTSUPP when the device has no ODP
 * (why in r's summary), or another -errno, logged.
 */
int odpt_ob_run(const struct odpt_ob_cfg *c, struct odpt_report *r);

#endif
