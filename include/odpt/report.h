/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The result document every odpt command fills and one writer per format
 * renders. Producers (suites, benchmarks, the shim client) never print:
 * they add metadata, configuration, histograms, scalar figures and test
 * results here, and src/lib/output renders table, JSON, CSV, .hgrm, TAP 13
 * and JUnit XML from it. Keys are snake_case with units (lat_ns, len_bytes).
 */
#ifndef ODPT_REPORT_H
#define ODPT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "odpt/api.h"
#include "odpt/hist.h"

#define ODPT_SCHEMA_VERSION 1

struct odpt_report;

/* Labels distinguish series: "mode=hmm,size_bytes=4096,iommu=on". */
struct odpt_label {
	const char *key;
	const char *value;
};

enum odpt_test_result {
	ODPT_PASS,
	ODPT_FAIL,
	ODPT_SKIP,
	ODPT_XFAIL,   /* failed as a known bug predicts (reason names it) */
	ODPT_XPASS,   /* a known bug did not show: counts as a failure */
};

/*
 * Per-MR ODP counters of one test (mlx5 exports page_faults,
 * page_invalidations, page_prefetch, ... over RDMA netlink), summed over
 * the ODP MRs the test registered. Fixed size, no pointers: the suite's
 * forked child fills it in shared memory.
 */
#define ODPT_ODP_MAX_COUNTERS 8
struct odpt_odp_counters {
	uint32_t mrs;           /* ODP MRs looked up */
	uint32_t mrs_found;     /* found in the device's RES_MR dump */
	uint32_t mrs_counted;   /* of those, with counters in STAT_GET */
	int ncounters;
	struct {
		char name[48];
		uint64_t value;
	} c[ODPT_ODP_MAX_COUNTERS];
	char reason[256];       /* the first MR's reason for no counters, or "" */
};

struct odpt_test_record {
	const char *name;          /* e.g. "rc_write_fault_every_iter" */
	enum odpt_test_result result;
	const char *reason;        /* why it failed/skipped/xfailed; NULL on pass */
	uint64_t duration_ns;
	uint64_t iterations;
	uint64_t faults_forced;
	const char *stage;         /* stage when it hung/failed, or NULL */
	const char *diag;          /* multi-line diagnostics (TAP '#' lines), or NULL */
	const struct odpt_odp_counters *odp;   /* NULL: not collected (case did not run) */
};

ODPT_API int odpt_report_create(const char *command, struct odpt_report **out);
ODPT_API void odpt_report_destroy(struct odpt_report *r);

/* Environment facts: tool version, kernel, device, clock source, ... */
ODPT_API int odpt_report_meta(struct odpt_report *r, const char *key, const char *value);
/* A fact that changes from run to run (host, kernel, time, measured clock
 * figures): omitted when the report is stable (see below). */
ODPT_API int odpt_report_meta_volatile(struct odpt_report *r, const char *key,
				       const char *value);
/*
 * A fact that is a number (port, gid_index, clock_overhead_ns): JSON
 * writes it as a number, the text formats print the same digits.
 */
ODPT_API int odpt_report_meta_int(struct odpt_report *r, const char *key, int64_t v);
ODPT_API int odpt_report_meta_volatile_int(struct odpt_report *r, const char *key, int64_t v);
/* A volatile measured figure with a fixed number of decimals (1.234). */
ODPT_API int odpt_report_meta_volatile_fixed(struct odpt_report *r, const char *key,
					     double v, int decimals);
/*
 * Stable output (golden files, diffs between runs): volatile meta and test
 * durations are left out of every format. Off by default.
 */
ODPT_API void odpt_report_set_stable(struct odpt_report *r, bool stable);
/* The echoed configuration (from the option table). */
ODPT_API int odpt_report_config_str(struct odpt_report *r, const char *key, const char *v);
ODPT_API int odpt_report_config_u64(struct odpt_report *r, const char *key, uint64_t v);
ODPT_API int odpt_report_config_bool(struct odpt_report *r, const char *key, bool v);

/*
 * A latency series. The report copies the histogram (the caller keeps its
 * own); name carries the unit ("map_ns_per_page"). nlabels may be 0.
 */
ODPT_API int odpt_report_hist(struct odpt_report *r, const char *name,
			      const struct odpt_label *labels, int nlabels,
			      const struct odpt_hist *h);
/* A single figure: name with its unit ("bookkeeping_bytes_per_page"). */
ODPT_API int odpt_report_scalar(struct odpt_report *r, const char *name,
				const struct odpt_label *labels, int nlabels,
				double value);
/* A test result (strings are copied). */
ODPT_API int odpt_report_test(struct odpt_report *r, const struct odpt_test_record *t);

/*
 * One closing line for the whole result, with a one-word outcome
 * ("regression", "no_regression"): the table prints it last as
 * "summary: TEXT", JSON as summary{result,text}, CSV as a "summary" row
 * (result and reason columns), TAP as a "# summary:" line. Set once; a
 * second call replaces it.
 */
ODPT_API int odpt_report_summary(struct odpt_report *r, const char *result,
				 const char *text);

/*
 * Nothing could run (no device): every format says so instead of showing
 * an empty result. Sets the summary ("skipped", reason); with no tests in
 * the report, TAP's plan becomes "1..0 # SKIP reason" (kselftest's
 * skip-all) and JUnit holds one skipped test case named "all", so a CI
 * job reads a result either way.
 */
ODPT_API int odpt_report_skip_all(struct odpt_report *r, const char *reason);

/* Free-form structured section for object listings (e.g. devices): a
 * json-c object the table writer renders as an indented key/value tree.
 * Ownership of obj (a struct json_object *) passes to the report. */
ODPT_API int odpt_report_section(struct odpt_report *r, const char *key, void *json_obj);

/* Percentiles reported in every format, in this order. */
ODPT_API extern const double odpt_report_percentiles[];
ODPT_API extern const int odpt_report_npercentiles;

enum odpt_format {
	ODPT_FMT_TABLE,
	ODPT_FMT_JSON,
	ODPT_FMT_CSV,
	ODPT_FMT_HGRM,   /* HdrHistogram percentile distribution: one series per file */
	ODPT_FMT_TAP,    /* TAP 13, kselftest style */
	ODPT_FMT_JUNIT,
};
/* "table", "json", ... -> format; -EINVAL for an unknown name. */
ODPT_API int odpt_format_parse(const char *name, enum odpt_format *out);
ODPT_API const char *odpt_format_name(enum odpt_format f);

struct odpt_write_opts {
	bool raw_buckets;      /* JSON: include non-empty buckets */
	int hgrm_ticks;        /* .hgrm ticks per half distance; 0 = 5 */
};
ODPT_API int odpt_report_write(const struct odpt_report *r, enum odpt_format f,
			       const struct odpt_write_opts *o, FILE *out);
/*
 * Write to path: "-" is stdout; symlinks are followed; a missing or regular
 * file is replaced atomically (temp file in the same directory, fsync,
 * rename), so a failed write (-ENOSPC) leaves the old file and no temp
 * file; a device node, FIFO or terminal is written in place, never
 * replaced. 0 or -errno. .hgrm with several series: one file per series,
 * path without its ".hgrm" suffix + ".NAME.k=v,k=v.hgrm" (characters
 * other than letters, digits and ._,=+- become '_'), path itself is not
 * written; to stdout ("-") several series are -EINVAL.
 */
ODPT_API int odpt_report_write_file(const struct odpt_report *r, enum odpt_format f,
				    const struct odpt_write_opts *o, const char *path);

/* Counts of test results (for exit codes and summary lines). */
struct odpt_test_counts {
	unsigned pass, fail, skip, xfail, xpass;
};
/* Number of latency series (.hgrm holds one per file). */
ODPT_API int odpt_report_nseries(const struct odpt_report *r);
ODPT_API void odpt_report_test_counts(const struct odpt_report *r,
				      struct odpt_test_counts *c);

#endif
