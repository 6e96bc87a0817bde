// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The self-check of the measuring instruments every other result depends
 * on, and their microbenchmark. The check reports the clock's source,
 * overhead and resolution, the distribution of back-to-back timer reads and
 * the cost of one histogram record and one percentile query, and tests the
 * clock (monotonic, rate against CLOCK_MONOTONIC_RAW) and the histogram
 * (hist.h's error bound, percentiles as highest equivalent values). The
 * benchmark (`hist bench`) is in hist_bench.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_int.h"
#include "odpt/bench.h"
#include "odpt/clock.h"
#include "odpt/hist.h"
#include "odpt/log.h"

#define RECORD_TARGET_NS 3.0
#define NVALUES 65536   /* a power of two: indexed with a mask */

uint64_t *bench_log_values(double lo, double hi, size_t n)
{
	uint64_t *v = malloc(n * sizeof(*v)), x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		double u;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u = (double)(x >> 11) / (double)(1ULL << 53);
		v[i] = (uint64_t)exp(log(lo) + u * log(hi / lo));
	}
	return v;
}

/* Values spread log-uniformly over 100 ns .. 10 ms (typical latencies). */
static uint64_t *make_values(void)
{
	return bench_log_values(100.0, 1e7, NVALUES);
}

#define CHUNK (1ULL << 20)

/*
 * ns per odpt_hist_record() over n records of the value table, after a
 * warm-up pass (caches, branch predictor) whose samples are discarded.
 * Returns the mean over all n; *best_ns gets the fastest chunk of 2^20
 * records, which other processes on a shared machine cannot inflate.
 */
static double time_records(struct odpt_hist *h, const uint64_t *vals, uint64_t n,
			   double *best_ns)
{
	uint64_t i, done = 0, total_ns = 0;
	double best = 1e300;

	for (i = 0; i < NVALUES * 16; i++)
		odpt_hist_record(h, vals[i & (NVALUES - 1)]);
	odpt_hist_reset(h);
	while (done < n) {
		uint64_t len = n - done < CHUNK ? n - done : CHUNK, t0, t1;

		t0 = odpt_now_ns();
		for (i = done; i < done + len; i++)
			odpt_hist_record(h, vals[i & (NVALUES - 1)]);
		t1 = odpt_now_ns();
		total_ns += t1 - t0;
		if ((double)(t1 - t0) / (double)len < best)
			best = (double)(t1 - t0) / (double)len;
		done += len;
	}
	if (best_ns)
		*best_ns = best;
	return (double)total_ns / (double)n;
}

static double time_queries(const struct odpt_hist *h, uint64_t n)
{
	volatile uint64_t sink = 0;
	uint64_t i, t0, t1;

	t0 = odpt_now_ns();
	for (i = 0; i < n; i++)
		sink += odpt_hist_value_at_percentile(h,
			odpt_report_percentiles[i % (uint64_t)odpt_report_npercentiles]);
	t1 = odpt_now_ns();
	(void)sink;
	return (double)(t1 - t0) / (double)n;
}

static int add_test(struct odpt_report *r, const char *name, bool ok,
		    const char *why, uint64_t t0)
{
	struct odpt_test_record t = {
		.name = name,
		.result = ok ? ODPT_PASS : ODPT_FAIL,
		.reason = ok ? NULL : why,
		.duration_ns = odpt_now_ns() - t0,
		.iterations = 1,
	};

	return odpt_report_test(r, &t);
}

/* Consecutive reads never go backwards. */
static int test_clock_monotonic(struct odpt_report *r)
{
	uint64_t t0 = odpt_now_ns(), prev = t0, i;
	char why[128] = "";
	bool ok = true;

	for (i = 0; i < 1000000 && ok; i++) {
		uint64_t now = odpt_now_ns();

		if (now < prev) {
			snprintf(why, sizeof(why), "read %llu ns after %llu ns",
				 (unsigned long long)now, (unsigned long long)prev);
			ok = false;
		}
		prev = now;
	}
	return add_test(r, "clock_monotonic", ok, why, t0);
}

/* A (clock, raw) pair read close together: the tightest of 16 tries. */
static void read_pair(uint64_t *now, uint64_t *raw)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		uint64_t a = odpt_clock_raw_ns(), t = odpt_now_ns(), b = odpt_clock_raw_ns();

		if (b - a < best) {
			best = b - a;
			*now = t;
			*raw = a + (b - a) / 2;
		}
	}
}

/* The clock agrees with CLOCK_MONOTONIC_RAW within 0.1% over 100 ms. */
static int test_clock_rate(struct odpt_report *r)
{
	uint64_t start = odpt_now_ns(), t0 = 0, r0 = 0, t1 = 0, r1 = 0, d, e;
	char why[128] = "";

	read_pair(&t0, &r0);
	while (odpt_clock_raw_ns() - r0 < 100000000ULL)
		;
	read_pair(&t1, &r1);
	d = r1 - r0;
	e = (t1 - t0) > d ? (t1 - t0) - d : d - (t1 - t0);
	if (e * 1000 > d)
		snprintf(why, sizeof(why), "%llu ns measured against %llu ns of CLOCK_MONOTONIC_RAW",
			 (unsigned long long)(t1 - t0), (unsigned long long)d);
	return add_test(r, "clock_rate_matches_monotonic_raw", e * 1000 <= d, why, start);
}

/* The error bound of hist.h at every power of two +-1 in range. */
static int test_hist_bound(struct odpt_report *r, const struct odpt_hist *h)
{
	uint64_t t0 = odpt_now_ns(), half = (uint64_t)h->sub_bucket_half_count;
	char why[160] = "";
	bool ok = true;
	int b, d;

	for (b = 0; b < 64 && ok; b++) {
		for (d = -1; d <= 1 && ok; d++) {
			uint64_t v = (1ULL << b) + (uint64_t)(int64_t)d, lo, hi;
			int32_t idx;

			if (v < h->lowest || v > h->highest)
				continue;
			idx = odpt_hist_index(h, v);
			lo = odpt_hist_lowest_at_index(h, idx);
			hi = odpt_hist_highest_at_index(h, idx);
			/* hi - lo + 1 <= max(2^u, lo / half), as hist.h states */
			if (lo > v || hi < v ||
			    (hi - lo + 1 > (1ULL << h->unit_magnitude) &&
			     (hi - lo + 1) * half > lo)) {
				snprintf(why, sizeof(why), "value %llu in [%llu, %llu]",
					 (unsigned long long)v, (unsigned long long)lo,
					 (unsigned long long)hi);
				ok = false;
			}
		}
	}
	return add_test(r, "hist_error_bound", ok, why, t0);
}

/* Percentiles of 1..100000 are the highest equivalents of the ranks. */
static int test_hist_percentiles(struct odpt_report *r)
{
	static const double p[] = { 50, 99.9, 100 };
	static const uint64_t rank[] = { 50000, 99900, 100000 };
	uint64_t t0 = odpt_now_ns(), v;
	struct odpt_hist *h;
	char why[160] = "";
	bool ok = true;
	int i, ret;

	ret = odpt_hist_create_default(&h);
	if (ret)
		return ret;
	for (v = 1; v <= 100000; v++)
		odpt_hist_record(h, v);
	for (i = 0; i < 3 && ok; i++) {
		uint64_t want = odpt_hist_highest_at_index(h, odpt_hist_index(h, rank[i]));
		uint64_t got = odpt_hist_value_at_percentile(h, p[i]);

		if (got != want) {
			snprintf(why, sizeof(why), "p%g = %llu, expected %llu", p[i],
				 (unsigned long long)got, (unsigned long long)want);
			ok = false;
		}
	}
	if (ok && odpt_hist_min(h) != 1) {
		snprintf(why, sizeof(why), "min %llu, expected 1",
			 (unsigned long long)odpt_hist_min(h));
		ok = false;
	}
	odpt_hist_destroy(h);
	return add_test(r, "hist_percentiles", ok, why, t0);
}

int bench_hist_costs(struct odpt_report *r, const struct odpt_hist *h, double rec_ns,
		     double best_ns, double query_ns)
{
	if (odpt_report_scalar(r, "record_ns", NULL, 0, round(rec_ns * 1000) / 1000) ||
	    odpt_report_scalar(r, "record_best_ns", NULL, 0, round(best_ns * 1000) / 1000) ||
	    odpt_report_scalar(r, "record_target_ns", NULL, 0, RECORD_TARGET_NS) ||
	    odpt_report_scalar(r, "percentile_query_ns", NULL, 0, round(query_ns)) ||
	    odpt_report_scalar(r, "hist_bytes", NULL, 0, (double)odpt_hist_bytes(h)))
		return -ENOMEM;
	return 0;
}

int odpt_bench_hist_check(const struct odpt_bench_hist_check_cfg *cfg, struct odpt_report *r)
{
	const struct odpt_clock_info *ci = odpt_clock_info();
	struct odpt_hist *timer = NULL, *rec = NULL;
	uint64_t *vals = NULL, i, prev;
	double rec_ns, best_ns = 0, query_ns;
	int ret;

	ret = odpt_hist_create_default(&timer);
	if (!ret)
		ret = odpt_hist_create_default(&rec);
	if (!ret) {
		vals = make_values();
		if (!vals)
			ret = -ENOMEM;
	}
	if (ret) {
		odpt_err("out of memory");
		goto out;
	}

	/* Back-to-back reads: what the timer adds to every measured interval. */
	prev = odpt_now_ns();
	for (i = 0; i < cfg->samples; i++) {
		uint64_t now = odpt_now_ns();

		odpt_hist_record(timer, now - prev);
		prev = now;
	}
	ret = odpt_report_hist(r, "timer_back_to_back_ns", NULL, 0, timer);
	if (ret)
		goto out;
	if (odpt_report_scalar(r, "timer_overhead_ns", NULL, 0, (double)ci->overhead_ns) ||
	    odpt_report_scalar(r, "timer_resolution_ns", NULL, 0, (double)ci->resolution_ns) ||
	    (ci->tsc_hz && odpt_report_scalar(r, "tsc_hz", NULL, 0, (double)ci->tsc_hz))) {
		ret = -ENOMEM;
		goto out;
	}
	rec_ns = time_records(rec, vals, cfg->records, &best_ns);
	query_ns = time_queries(rec, 1000);
	ret = bench_hist_costs(r, rec, rec_ns, best_ns, query_ns);
	if (!ret)
		ret = test_clock_monotonic(r);
	if (!ret)
		ret = test_clock_rate(r);
	if (!ret)
		ret = test_hist_bound(r, rec);
	if (!ret)
		ret = test_hist_percentiles(r);
out:
	free(vals);
	odpt_hist_destroy(rec);
	odpt_hist_destroy(timer);
	return ret;
}
