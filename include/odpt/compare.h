/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A/B comparison of two odpt runs: read odpt JSON results written with
 * --raw-buckets back into histograms (exactly: the same counters), match
 * series by name and labels, and decide per series whether the new run
 * regressed, improved or did not change. For each chosen percentile the
 * decision needs both a statistically significant difference (a quantile
 * test over the buckets, two-sided p < alpha / number of chosen
 * percentiles) and a practically significant one (that percentile worse,
 * or better, by more than threshold_pct); with repeated runs per side,
 * also every new run beyond every base run. Mann-Whitney U is reported
 * next to it as the shift of the distribution as a whole. The method and
 * its assumptions are in docs/metrics.md ("Comparing two runs").
 */
#ifndef ODPT_COMPARE_H
#define ODPT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odpt/api.h"
#include "odpt/hist.h"
#include "odpt/report.h"

/* ---- Reading results back ------------------------------------------- */

struct odpt_result_series {
	char *name;
	struct odpt_label *labels;   /* strings owned, sorted by key */
	int nlabels;
	/* rebuilt from the raw buckets; NULL only from odpt_result_read_dir()
	 * for a series written without them (compared as "no raw buckets") */
	struct odpt_hist *h;
};

struct odpt_result {
	char *command;               /* the command that wrote the file */
	struct odpt_result_series *series;
	int nseries;
};

/*
 * Parse an odpt JSON result (text) and rebuild every series' histogram from
 * its layout and raw buckets. On bad input returns -EINVAL (not odpt JSON,
 * inconsistent contents), -EPROTO (schema_version differs) or -ENODATA (no
 * raw buckets) and writes one line saying what is wrong and how to produce
 * a valid file into err (errlen bytes). -ENOMEM when out of memory.
 */
ODPT_API int odpt_result_parse(const char *text, struct odpt_result **out,
			       char *err, size_t errlen);
/* The same from a file; -errno of open/read (e.g. -ENOENT) with a message. */
ODPT_API int odpt_result_read(const char *path, struct odpt_result **out,
			      char *err, size_t errlen);
/*
 * Every odpt JSON result under directory dir (recursively, in name order;
 * for a lab results directory: iommu/shim/shim-bench.json, hist/check.json
 * and so on) as one result whose series carry one more label,
 * file=PATH-RELATIVE-TO-DIR, so that two directories match series by file,
 * name and labels. Skipped: summary.json, files not ending in .json, JSON
 * that is not an odpt result, results without series, symbolic links and
 * hidden entries. A series without raw buckets is kept with h = NULL (its
 * comparison says why) instead of failing the file. An odpt result that is
 * inconsistent or of another schema_version fails as in
 * odpt_result_read(), naming the file; no series at all under dir:
 * -ENODATA.
 */
ODPT_API int odpt_result_read_dir(const char *dir, struct odpt_result **out,
				  char *err, size_t errlen);
/* The label odpt_result_read_dir() adds. */
#define ODPT_RESULT_FILE_LABEL "file"
ODPT_API void odpt_result_destroy(struct odpt_result *r);
/* "name{k=v,k=v}" (labels sorted by key; no braces without labels). */
ODPT_API void odpt_result_series_key(const struct odpt_result_series *s, char *buf,
				     size_t len);

/* ---- The statistical test -------------------------------------------- */

/*
 * Mann-Whitney U of two histograms in the same layout: whether one run
 * tends to be slower as a whole (reported, not part of the verdict: it
 * hardly sees a tail that gets slower, because the slowest samples already
 * outrank nearly all others). Samples in the same
 * counter are ties (they cannot be told apart) and get the mid-rank; the
 * variance carries the tie correction; the p-value is two-sided from the
 * normal approximation with a continuity correction.
 */
struct odpt_mwu {
	uint64_t n_base, n_new;
	double u_new;      /* pairs (base, new) with new > base, ties count 1/2 */
	double effect;     /* u_new / (n_base * n_new): P(new > base) + P(tie)/2 */
	double sigma;      /* standard deviation of U under H0 (tie-corrected) */
	double z;          /* (u_new - n_base*n_new/2 -+ 0.5) / sigma; 0 if sigma=0 */
	double p_value;    /* two-sided; 1 when sigma = 0 */
};

/* 0, or -EINVAL when the layouts differ or an input is NULL. */
ODPT_API int odpt_mwu_hist(const struct odpt_hist *base, const struct odpt_hist *new_h,
			   struct odpt_mwu *out);

/*
 * Quantile test at percentile q (Mood's median test taken to any
 * percentile), for two histograms in the same layout: cut the pooled
 * samples at an edge of the counter that holds the pooled q-th percentile
 * (the edge whose pooled fraction below is nearer q, or the other one if
 * nothing lies beyond it); if both runs come from one distribution they
 * put the same fraction of their samples at or below the cut (cut_ns).
 * Two-proportion z with the pooled fraction
 * pbar: z = (base_le/n_base - new_le/n_new) /
 * sqrt(pbar (1 - pbar) (1/n_base + 1/n_new)); z > 0: new has more samples
 * above the cut (slower at q). Two-sided p from the normal approximation,
 * which wants about 5 expected samples on each side of the cut in each
 * run: testable is false below that. Every sample in one counter: z = 0,
 * p = 1, testable (no difference to find).
 */
struct odpt_qtest {
	double q;                 /* percentile, 0 < q < 100 */
	uint64_t cut_ns;          /* highest value of the cut counter */
	uint64_t base_le, new_le; /* samples at or below the cut */
	double z;
	double p_value;
	bool testable;
};

/* 0, or -EINVAL when the layouts differ, q is outside (0, 100) or a side
 * is empty. */
ODPT_API int odpt_qtest_hist(const struct odpt_hist *base, const struct odpt_hist *new_h,
			     double q, struct odpt_qtest *out);

/*
 * Copies of a and b in one layout both can be compared in: the union of the
 * ranges at the smaller number of significant figures (identical copies
 * when the layouts already agree).
 */
ODPT_API int odpt_hist_common_layout(const struct odpt_hist *a, const struct odpt_hist *b,
				     struct odpt_hist **a_out, struct odpt_hist **b_out);

/* ---- The verdict ------------------------------------------------------ */

#define ODPT_COMPARE_NPCT 4   /* p50, p90, p99, p99.9: always reported */
ODPT_API extern const double odpt_compare_percentiles[ODPT_COMPARE_NPCT];

#define ODPT_COMPARE_DEFAULT_THRESHOLD_PCT 5.0
#define ODPT_COMPARE_DEFAULT_ALPHA 0.01
#define ODPT_COMPARE_DEFAULT_MIN_SAMPLES 30

struct odpt_compare_opts {
	double threshold_pct;   /* practical significance, in percent (> 0) */
	double alpha;           /* statistical significance (0 < alpha < 1) */
	uint64_t min_samples;   /* per side, below it: no verdict */
	unsigned metric_mask;   /* bit i: odpt_compare_percentiles[i] decides */
};

/* Defaults: 5 %, 0.01, 30 samples, metrics p50 and p99. */
ODPT_API void odpt_compare_opts_default(struct odpt_compare_opts *o);
/* "p50,p99.9" -> mask; -EINVAL for an unknown or empty name. */
ODPT_API int odpt_compare_parse_metrics(const char *list, unsigned *mask);

enum odpt_verdict {
	ODPT_VERDICT_NO_CHANGE,
	ODPT_VERDICT_REGRESSED,
	ODPT_VERDICT_IMPROVED,
};

enum odpt_no_change_why {
	ODPT_WHY_NONE,              /* a verdict was reached */
	ODPT_WHY_TOO_FEW_SAMPLES,   /* below min_samples, or no chosen percentile testable */
	ODPT_WHY_NOT_SIGNIFICANT,   /* the largest move could be chance */
	ODPT_WHY_BELOW_THRESHOLD,   /* significant, but within threshold_pct */
	ODPT_WHY_RUNS_DISAGREE,     /* pooled runs differ, but the runs overlap */
};

struct odpt_series_cmp {
	enum odpt_verdict verdict;
	enum odpt_no_change_why why;
	int decisive;               /* percentile index that decided, or -1 */
	uint64_t base_ns[ODPT_COMPARE_NPCT], new_ns[ODPT_COMPARE_NPCT];
	int64_t delta_ns[ODPT_COMPARE_NPCT];
	double delta_pct[ODPT_COMPARE_NPCT];   /* 100 * (new - base) / base */
	struct odpt_qtest qtest[ODPT_COMPARE_NPCT];
	double alpha_each;          /* alpha / number of chosen percentiles */
	struct odpt_mwu mwu;
	bool layout_converted;      /* the layouts differed (see common_layout) */
	int runs_base, runs_new;    /* runs pooled on each side */
	/* per side (0 base, 1 new): lowest and highest percentile of one run */
	uint64_t run_lo_ns[2][ODPT_COMPARE_NPCT], run_hi_ns[2][ODPT_COMPARE_NPCT];
};

/* Compare two histograms (any layouts): 0, -EINVAL or -ENOMEM. */
ODPT_API int odpt_compare_hist(const struct odpt_hist *base, const struct odpt_hist *new_h,
			       const struct odpt_compare_opts *o, struct odpt_series_cmp *out);

/*
 * The same over repeated runs: each side's runs are pooled (merged) for the
 * percentiles and the tests, and when either side has more than one run a
 * verdict also needs the runs to agree: every new run's percentile worse
 * (regressed) or better (improved) than every base run's. Runs of one
 * binary differ from each other on a busy machine (docs/metrics.md), and
 * no test on the pooled samples can tell that from a change.
 */
ODPT_API int odpt_compare_runs_hist(const struct odpt_hist *const *base, int nbase,
				    const struct odpt_hist *const *new_h, int nnew,
				    const struct odpt_compare_opts *o, struct odpt_series_cmp *out);

struct odpt_compare_summary {
	unsigned regressed, improved, no_change, only_base, only_new;
	unsigned no_buckets;   /* on both sides, but a side has no raw buckets */
};

/*
 * Compare every series of two results and add the outcome to r: both
 * histograms of each matched series (label side=base|new), the deltas and
 * the test's p-value as scalars, one test record per series (regressed:
 * fail; improved and no change: pass, with the reason; present on one side
 * only: skip naming the side; a side without raw buckets: skip saying
 * so), and a summary line (result regression, no_regression, or
 * nothing_compared when no series got a verdict). 0 or -errno.
 */
ODPT_API int odpt_compare_results(const struct odpt_result *base,
				  const struct odpt_result *new_r,
				  const struct odpt_compare_opts *o,
				  struct odpt_report *r, struct odpt_compare_summary *sum);
/*
 * The same over repeated runs (nbase, nnew >= 1): a series is matched when
 * at least one run of each side has it, and compared over the runs that
 * have it (odpt_compare_runs_hist). With one run a side this is
 * odpt_compare_results(); the report then also carries base_runs and
 * new_runs per series.
 */
ODPT_API int odpt_compare_runs(const struct odpt_result *const *base, int nbase,
			       const struct odpt_result *const *new_r, int nnew,
			       const struct odpt_compare_opts *o,
			       struct odpt_report *r, struct odpt_compare_summary *sum);

#endif
