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
 * (highest equivalent), total count, bucket and sub-bucket counts. Numbers
 * are rounded the way Java's Formatter does (see java_fixed()).
 * One series per file: HdrHistogram's plotters read every line of a file
 * as one curve, so several series in one stream would be glued into one.
 * The stream writer refuses several series (-EINVAL); written to a file,
 * odpt_report_write_file() puts each series in a file of its own,
 * NAME.SERIES.hgrm (write_file.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/report.h"
#include "report_int.h"

/*
 * Java's "%.Nf": round the shortest decimal that reads back as v (not v's
 * exact binary value, as C's printf does) half-up to N decimals. The two
 * differ on ties such as 0.9997802734375 to 12 places, so C's %f would
 * not be byte-compatible.
 */
static void java_fixed(char *out, size_t len, double v, int prec)
{
	char tmp[40], dig[40], res[400];
	int n = 0, pt, p, i, k = 0, nint, total;
	bool neg = v < 0;
	char *e;

	if (prec < 0)
		prec = 0;
	if (neg)
		v = -v;
	if (v == 0 || !isfinite(v) || prec > 300) {
		snprintf(out, len, "%.*f", prec, neg ? -v : v);
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* tmp = "d.ddde+XX": digits and the decimal point's position */
	for (i = 0; tmp[i] && tmp[i] != 'e'; i++)
		if (tmp[i] != '.')
			dig[n++] = tmp[i];
	e = strchr(tmp, 'e');
	pt = (int)strtol(e + 1, NULL, 10) + 1;   /* digits before the point */

	/* integer digits, then prec fraction digits, then one to round on */
	nint = pt > 0 ? pt : 1;
	total = nint + prec;
	if (pt > 300 || pt < -300 || total < 1 || total + 2 > (int)sizeof(res)) {
		snprintf(out, len, "%.*f", prec, neg ? -v : v);
		return;
	}
	for (k = 0; k <= total; k++) {
		int src = pt > 0 ? k : k - 1 + pt;   /* index into dig */

		if (pt <= 0 && k == 0)
			res[k] = '0';
		else
			res[k] = src >= 0 && src < n ? dig[src] : '0';
	}
	/* half-up on the first dropped digit */
	if (res[total] >= '5') {
		for (k = total - 1; k >= 0; k--) {
			if (res[k] == '9') {
				res[k] = '0';
			} else {
				res[k]++;
				break;
			}
		}
		if (k < 0) {
			memmove(res + 1, res, (size_t)total);
			res[0] = '1';
			nint++;
		}
	}
	snprintf(out, len, "%s%.*s%s%.*s", neg ? "-" : "", nint, res,
		 prec ? "." : "", prec, res + nint);
}

static void jf(FILE *f, int width, int prec, double v)
{
	char buf[448];

	java_fixed(buf, sizeof(buf), v, prec);
	fprintf(f, "%*s", width, buf);
}

static void line(FILE *f, int sig, double value, double pct, uint64_t total,
		 bool last)
{
	jf(f, 12, sig, value);
	fputc(' ', f);
	jf(f, 2, 12, pct / 100.0);
	fprintf(f, " %10" PRIu64, total);
	if (!last) {
		fputc(' ', f);
		jf(f, 14, 2, 1.0 / (1.0 - pct / 100.0));
	}
	fputc('\n', f);
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

	fputs("#[Mean    = ", f);
	jf(f, 12, sig, odpt_hist_mean(h));
	fputs(", StdDeviation   = ", f);
	jf(f, 12, sig, odpt_hist_stddev(h));
	fputs("]\n#[Max     = ", f);
	jf(f, 12, sig, (double)odpt_hist_max(h));
	fprintf(f, ", Total count    = %12" PRIu64 "]\n", total);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", h->bucket_count,
		h->sub_bucket_count);
}

int odpt_write_hgrm_series(const struct odpt_report *r, const struct odpt_write_opts *o,
			   int i, FILE *f)
{
	if (i < 0 || i >= r->nseries)
		return -EINVAL;
	distribution(f, r->series[i].h, o->hgrm_ticks > 0 ? o->hgrm_ticks : 5);
	return 0;
}

int odpt_write_hgrm(const struct odpt_report *r, const struct odpt_write_opts *o,
		    FILE *f)
{
	if (r->nseries > 1)
		return -EINVAL;
	return r->nseries ? odpt_write_hgrm_series(r, o, 0, f) : 0;
}
