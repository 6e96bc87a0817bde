// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The .hgrm writer: HdrHistogram's percentile distribution text, byte for
 * byte as its outputPercentileDistribution() prints it with a value unit
 * scaling ratio of 1 (values in ns), so HdrHistogram's plotters read it.
 * Facts of that format (from the HdrHistogram sources): a header
 * "%12s %14s %10s %14s" of Value, Percentile, TotalCount, 1/(1-Percentile)
 * and a blank line; one line per percentile step "%12.<S>f %2.12f %10d
 * %14.2f" (S = the histogram's significant figures), the 100% line without
 * the last column; the steps start at 0% and halve their distance to 100%
 * every <ticks> steps; each line reports the highest equivalent value of
 * the counter where the cumulative count first reaches the step; the
 * footer gives mean and standard deviation (median equivalent values), max
 * (highest equivalent), total count, bucket and sub-bucket counts.
 * With several series, each block is preceded by a "#[Series ...]" line.
 */
#include <inttypes.h>
#include <math.h>

#include "odpt/report.h"
#include "report_int.h"

static void line(FILE *f, int sig, double value, double pct, uint64_t total,
		 bool last)
{
	if (last)
		fprintf(f, "%12.*f %2.12f %10" PRIu64 "\n", sig, value, pct / 100.0, total);
	else
		fprintf(f, "%12.*f %2.12f %10" PRIu64 " %14.2f\n", sig, value,
			pct / 100.0, total, 1.0 / (1.0 - pct / 100.0));
}

/* The next percentile step: ticks per halving of the distance to 100%. */
static double next_level(double level, int ticks)
{
	int64_t halvings = (int64_t)(log(100.0 / (100.0 - level)) / log(2)) + 1;
	int64_t reporting_ticks = (int64_t)ticks * (int64_t)pow(2, (double)halvings);

	return level + 100.0 / (double)reporting_ticks;
}

static void distribution(FILE *f, const struct odpt_hist *h, int ticks)
{
	uint64_t total = h->total_count, cum = 0;
	double level = 0;
	int32_t idx = 0;
	bool fresh = true;
	int sig = h->sig_figs;

	fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
		"1/(1-Percentile)");
	while (total && cum < total) {
		/* Walk to the counter where the cumulative count reaches the step. */
		for (; idx < h->counts_len; idx++, fresh = true) {
			if (fresh) {
				cum += h->counts[idx];
				fresh = false;
			}
			if (h->counts[idx] && 100.0 * (double)cum / (double)total >= level)
				break;
		}
		if (idx >= h->counts_len)
			break;
		line(f, sig, (double)odpt_hist_highest_at_index(h, idx), level, cum, false);
		level = next_level(level, ticks);
	}
	/* One last step to 100% at the counter holding the maximum. */
	if (total && idx < h->counts_len)
		line(f, sig, (double)odpt_hist_highest_at_index(h, idx), 100.0, cum, true);

	fprintf(f, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", sig,
		odpt_hist_mean(h), sig, odpt_hist_stddev(h));
	fprintf(f, "#[Max     = %12.*f, Total count    = %12" PRIu64 "]\n", sig,
		(double)odpt_hist_max(h), total);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", h->bucket_count,
		h->sub_bucket_count);
}

int odpt_write_hgrm(const struct odpt_report *r, const struct odpt_write_opts *o,
		    FILE *f)
{
	int ticks = o->hgrm_ticks > 0 ? o->hgrm_ticks : 5;
	char lab[512];
	int i;

	for (i = 0; i < r->nseries; i++) {
		if (r->nseries > 1) {
			odpt_labels_fmt(&r->series[i].labels, lab, sizeof(lab));
			fprintf(f, "%s#[Series %s%s%s%s]\n", i ? "\n" : "",
				r->series[i].name, *lab ? "{" : "", lab, *lab ? "}" : "");
		}
		distribution(f, r->series[i].h, ticks);
	}
	return 0;
}
