// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Holds odpt_hist to the guarantees its header states: the layout and
 * memory formulas, the error bound over the whole range (every power of two
 * +-1, powers of ten and random values, for every significant-figure
 * setting), out-of-range handling, percentiles against a sorted copy of the
 * data, empty and single-sample histograms, merge (same and different
 * layouts, dropped samples), import of counts, and equality with the kernel
 * shim's layout in include/uapi/odpt_hmm_hist.h. The query structure: block
 * totals consistent after every mutating call, every percentile (single and
 * batch) equal to a plain scan of the counters, and merge, mean, stddev and
 * iteration over the populated range equal to whole-array results.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "odpt/hist.h"
#include "uapi/odpt_hmm_hist.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Log-uniform in [lo, hi]. */
static uint64_t rnd_log(uint64_t lo, uint64_t hi)
{
	double u = (double)(rnd() >> 11) / (double)(1ULL << 53);
	uint64_t v = (uint64_t)exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));

	return v < lo ? lo : v > hi ? hi : v;
}

static struct odpt_hist *mk(uint64_t lo, uint64_t hi, int sig)
{
	struct odpt_hist *h = NULL;

	assert_int_equal(odpt_hist_create(lo, hi, sig, &h), 0);
	assert_non_null(h);
	return h;
}

static void test_create_errors(void **state)
{
	struct odpt_hist *h = NULL;

	assert_int_equal(odpt_hist_create(0, 1000, 3, &h), -EINVAL);
	assert_int_equal(odpt_hist_create(1, 1000, 0, &h), -EINVAL);
	assert_int_equal(odpt_hist_create(1, 1000, 6, &h), -EINVAL);
	assert_int_equal(odpt_hist_create(100, 150, 3, &h), -EINVAL);
	assert_int_equal(odpt_hist_create(1, 1000, 3, NULL), -EINVAL);
	assert_null(h);
}

/* The layout and memory figures the header comment states. */
static void test_layout_and_memory(void **state)
{
	struct odpt_hist *h = NULL;
	int sig;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	assert_int_equal(h->sig_figs, 3);
	assert_int_equal(h->sub_bucket_count, 2048);
	assert_int_equal(h->bucket_count, 32);
	assert_int_equal(h->counts_len, 33792);
	/* 528 block totals of 64 counters follow the counters */
	assert_int_equal(h->block_shift, 6);
	assert_int_equal(h->nblocks, 528);
	assert_int_equal(odpt_hist_bytes(h), sizeof(*h) + (33792 + 528) * 8);
	assert_int_equal(33792 * 8, 270336);
	odpt_hist_destroy(h);

	h = mk(1, ODPT_HIST_HIGHEST_NS, 2);
	assert_int_equal(h->counts_len, 4608);
	assert_int_equal(h->counts_len * 8, 36 * 1024);
	assert_int_equal(h->block_shift, 6);
	assert_int_equal(h->nblocks, 72);
	odpt_hist_destroy(h);

	/* The formulas, for every S and a few ranges: B is the smallest that covers. */
	for (sig = 1; sig <= 5; sig++) {
		static const uint64_t lows[] = { 1, 7, 1000 };
		static const uint64_t highs[] = { 100000, 3600000000000ULL, 1ULL << 50 };
		unsigned i, j;

		for (i = 0; i < 3; i++) {
			for (j = 0; j < 3; j++) {
				uint64_t cover, p10 = 1;
				int k;

				if (highs[j] < 2 * lows[i])
					continue;
				h = mk(lows[i], highs[j], sig);
				for (k = 0; k < sig; k++)
					p10 *= 10;
				assert_true(h->sub_bucket_half_count >= (int32_t)p10);
				assert_true((uint64_t)h->sub_bucket_count >= 2 * p10);
				assert_true((uint64_t)h->sub_bucket_count < 4 * p10);
				assert_int_equal(h->unit_magnitude, 63 - __builtin_clzll(lows[i]));
				cover = ((uint64_t)h->sub_bucket_count << h->unit_magnitude)
					<< (h->bucket_count - 1);
				assert_true(cover > highs[j]);
				if (h->bucket_count > 1)
					assert_true(cover / 2 <= highs[j]);
				assert_int_equal(h->counts_len,
						 (h->bucket_count + 1) * h->sub_bucket_half_count);
				/* the highest value lands inside the array */
				assert_true(odpt_hist_index(h, highs[j]) < h->counts_len);
				/* the block totals cover the counters, 64 at least each */
				assert_true(h->block_shift >= 6);
				assert_true((int64_t)h->nblocks << h->block_shift >= h->counts_len);
				assert_true((int64_t)(h->nblocks - 1) << h->block_shift < h->counts_len);
				assert_int_equal(odpt_hist_bytes(h), sizeof(*h) +
						 (size_t)(h->counts_len + h->nblocks) * 8);
				odpt_hist_destroy(h);
			}
		}
	}
}

/* Everything the header promises about the counter holding v. */
static void check_value(const struct odpt_hist *h, uint64_t v)
{
	uint64_t half = (uint64_t)h->sub_bucket_half_count, unit = 1ULL << h->unit_magnitude;
	int32_t idx = odpt_hist_index(h, v);
	uint64_t lo, hi, width;

	assert_true(idx >= 0 && idx < h->counts_len);
	lo = odpt_hist_lowest_at_index(h, idx);
	hi = odpt_hist_highest_at_index(h, idx);
	if (lo > v || hi < v)
		fail_msg("v=%llu outside its counter [%llu, %llu]", (unsigned long long)v,
			 (unsigned long long)lo, (unsigned long long)hi);
	/* round trips: both ends map back to the same counter */
	assert_int_equal(odpt_hist_index(h, lo), idx);
	assert_int_equal(odpt_hist_index(h, hi), idx);
	if (hi + 1 <= h->highest)
		assert_int_equal(odpt_hist_index(h, hi + 1), idx + 1);
	width = hi - lo + 1;
	/* hi - lo + 1 <= max(2^u, lo / half) */
	if (width > unit && width * half > lo)
		fail_msg("v=%llu: width %llu exceeds max(%llu, %llu/%llu)",
			 (unsigned long long)v, (unsigned long long)width,
			 (unsigned long long)unit, (unsigned long long)lo,
			 (unsigned long long)half);
	if (h->unit_magnitude == 0) {
		/* (hi - v) < v / half <= v * 10^-S; exact below sub_bucket_count */
		uint64_t p10 = 1;
		int k;

		for (k = 0; k < h->sig_figs; k++)
			p10 *= 10;
		assert_true((hi - v) * half < v || hi == v);
		/* the bound in the header's own terms: relative error < 10^-S */
		if ((hi - v) * p10 >= v)
			fail_msg("v=%llu: reported %llu is not within 10^-%d", (unsigned long long)v,
				 (unsigned long long)hi, h->sig_figs);
		if (v < (uint64_t)h->sub_bucket_count)
			assert_int_equal(hi, v);
	}
}

static void test_error_bound_whole_range(void **state)
{
	static const uint64_t lows[] = { 1, 1000 };
	int sig, b, d, i, l;

	for (sig = 1; sig <= 5; sig++) {
		for (l = 0; l < 2; l++) {
			struct odpt_hist *h = mk(lows[l], ODPT_HIST_HIGHEST_NS, sig);
			uint64_t p10;

			for (b = 0; b < 64; b++)
				for (d = -1; d <= 1; d++) {
					uint64_t v = (1ULL << b) + (uint64_t)(int64_t)d;

					if (v >= h->lowest && v <= h->highest)
						check_value(h, v);
				}
			for (p10 = 1; p10 <= h->highest / 10; p10 *= 10)
				if (p10 >= h->lowest)
					check_value(h, p10);
			for (i = 0; i < 200000; i++)
				check_value(h, rnd_log(h->lowest, h->highest));
			check_value(h, h->lowest);
			check_value(h, h->highest);
			odpt_hist_destroy(h);
		}
	}
}

/* Every counter's range, walked end to end: no gaps, no overlaps. */
static void test_counters_tile_the_range(void **state)
{
	struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, 2);
	int32_t i;

	assert_int_equal(odpt_hist_lowest_at_index(h, 0), 0);
	for (i = 1; i < h->counts_len; i++)
		assert_int_equal(odpt_hist_lowest_at_index(h, i),
				 odpt_hist_highest_at_index(h, i - 1) + 1);
	odpt_hist_destroy(h);
}

static void test_out_of_range(void **state)
{
	struct odpt_hist *h = mk(1, 1000000, 3);

	assert_false(odpt_hist_record(h, 0));
	assert_false(odpt_hist_record(h, 1000001));
	assert_false(odpt_hist_record_n(h, UINT64_MAX, 5));
	assert_int_equal(h->overflow, 7);
	assert_int_equal(odpt_hist_count(h), 0);
	assert_int_equal(odpt_hist_max(h), 0);
	assert_true(odpt_hist_record(h, 1000000));
	assert_true(odpt_hist_record(h, 1));
	assert_int_equal(odpt_hist_count(h), 2);
	assert_int_equal(odpt_hist_min(h), 1);
	assert_true(odpt_hist_max(h) >= 1000000);
	odpt_hist_destroy(h);
}

static void test_empty(void **state)
{
	struct odpt_hist *h = NULL;
	struct odpt_hist_bucket b;
	int32_t idx = -1;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	assert_int_equal(odpt_hist_count(h), 0);
	assert_int_equal(odpt_hist_min(h), 0);
	assert_int_equal(odpt_hist_max(h), 0);
	assert_true(odpt_hist_mean(h) == 0.0);
	assert_true(odpt_hist_stddev(h) == 0.0);
	assert_int_equal(odpt_hist_value_at_percentile(h, 0), 0);
	assert_int_equal(odpt_hist_value_at_percentile(h, 50), 0);
	assert_int_equal(odpt_hist_value_at_percentile(h, 99.9), 0);
	assert_int_equal(odpt_hist_value_at_percentile(h, 100), 0);
	assert_false(odpt_hist_next_bucket(h, &idx, &b));
	odpt_hist_destroy(h);
}

static void test_single_sample(void **state)
{
	struct odpt_hist *h = NULL;
	uint64_t v = 123457, hi;
	int32_t idx;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	assert_true(odpt_hist_record(h, v));
	idx = odpt_hist_index(h, v);
	hi = odpt_hist_highest_at_index(h, idx);
	assert_true(hi > v);   /* 123457 is not exact at 3 figures */
	assert_int_equal(odpt_hist_count(h), 1);
	assert_int_equal(odpt_hist_min(h), v);
	assert_int_equal(odpt_hist_max(h), hi);
	assert_int_equal(odpt_hist_value_at_percentile(h, 0), v);
	assert_int_equal(odpt_hist_value_at_percentile(h, 50), hi);
	assert_int_equal(odpt_hist_value_at_percentile(h, 99.9), hi);
	assert_int_equal(odpt_hist_value_at_percentile(h, 100), hi);
	assert_true(odpt_hist_stddev(h) == 0.0);
	/* mean is the counter's median equivalent value */
	assert_true(fabs(odpt_hist_mean(h) - (double)(odpt_hist_lowest_at_index(h, idx) +
						       (hi - odpt_hist_lowest_at_index(h, idx) + 1) / 2)) < 1e-9);
	odpt_hist_destroy(h);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Against a sorted copy: value at p = highest equivalent of the ceil(p n / 100)-th. */
static void test_percentiles_vs_sorted(void **state)
{
	static const double ps[] = { 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	enum { N = 100003 };
	uint64_t *vals = malloc(N * sizeof(*vals));
	struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, 3);
	unsigned i;

	assert_non_null(vals);
	for (i = 0; i < N; i++) {
		vals[i] = rnd_log(50, 50000000);
		assert_true(odpt_hist_record(h, vals[i]));
	}
	qsort(vals, N, sizeof(*vals), cmp_u64);
	assert_int_equal(odpt_hist_min(h), vals[0]);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t rank = (uint64_t)ceil(ps[i] / 100.0 * N - 1e-9);
		uint64_t truth = vals[rank - 1];
		uint64_t want = odpt_hist_highest_at_index(h, odpt_hist_index(h, truth));
		uint64_t got = odpt_hist_value_at_percentile(h, ps[i]);

		if (got != want)
			fail_msg("p%g: got %llu, want %llu (sample %llu)", ps[i],
				 (unsigned long long)got, (unsigned long long)want,
				 (unsigned long long)truth);
		/* an upper bound within the error bound */
		assert_true(got >= truth);
		assert_true((got - truth) * 1000 < truth);
	}
	assert_int_equal(odpt_hist_value_at_percentile(h, 0), vals[0]);
	assert_int_equal(odpt_hist_value_at_percentile(h, 100),
			 odpt_hist_highest_at_index(h, odpt_hist_index(h, vals[N - 1])));
	free(vals);
	odpt_hist_destroy(h);
}

/* 1..1000: p50 is 500, p99.9 the 999th sample (not the 1000th by rounding). */
static void test_percentiles_exact_ranks(void **state)
{
	struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, 3);
	uint64_t v;

	for (v = 1; v <= 1000; v++)
		odpt_hist_record(h, v);
	assert_int_equal(odpt_hist_value_at_percentile(h, 0), 1);
	assert_int_equal(odpt_hist_value_at_percentile(h, 50), 500);
	assert_int_equal(odpt_hist_value_at_percentile(h, 99.9), 999);
	assert_int_equal(odpt_hist_value_at_percentile(h, 99.95), 1000);
	assert_int_equal(odpt_hist_value_at_percentile(h, 100), 1000);
	assert_int_equal(odpt_hist_value_at_percentile(h, 150), 1000);
	assert_int_equal(odpt_hist_value_at_percentile(h, -1), 1);
	assert_true(fabs(odpt_hist_mean(h) - 500.5) < 1e-9);
	assert_true(fabs(odpt_hist_stddev(h) - sqrt((1000.0 * 1000.0 - 1) / 12)) < 1e-6);
	odpt_hist_destroy(h);
}

static void test_merge_same_layout(void **state)
{
	struct odpt_hist *a = mk(1, ODPT_HIST_HIGHEST_NS, 3), *b = mk(1, ODPT_HIST_HIGHEST_NS, 3);
	struct odpt_hist *all = mk(1, ODPT_HIST_HIGHEST_NS, 3);
	uint64_t dropped = 99;
	int i;

	for (i = 0; i < 10000; i++) {
		uint64_t v = rnd_log(10, 10000000);

		odpt_hist_record(i % 2 ? a : b, v);
		odpt_hist_record(all, v);
	}
	odpt_hist_record(b, 0);   /* out of range in b */
	assert_int_equal(odpt_hist_merge(a, b, &dropped), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(a->overflow, 1);
	assert_int_equal(odpt_hist_count(a), 10000);
	assert_int_equal(odpt_hist_min(a), odpt_hist_min(all));
	assert_int_equal(odpt_hist_max(a), odpt_hist_max(all));
	assert_memory_equal(a->counts, all->counts, (size_t)all->counts_len * 8);
	assert_int_equal(odpt_hist_merge(NULL, b, NULL), -EINVAL);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
	odpt_hist_destroy(all);
}

static void test_merge_different_layouts(void **state)
{
	struct odpt_hist *fine = mk(1, ODPT_HIST_HIGHEST_NS, 3);
	struct odpt_hist *coarse = mk(1, ODPT_HIST_HIGHEST_NS, 2);
	struct odpt_hist *narrow = mk(1, 1000000, 3);
	uint64_t dropped = 0, above = 0;
	int i;

	for (i = 0; i < 20000; i++) {
		uint64_t v = rnd_log(5, 100000000);

		odpt_hist_record(fine, v);
		above += v > 1000000;
	}
	assert_true(above > 0);

	/* Finer into coarser: everything fits, and the result is what the
	 * coarse layout would have recorded directly, within its bound. */
	assert_int_equal(odpt_hist_merge(coarse, fine, &dropped), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(odpt_hist_count(coarse), 20000);
	assert_int_equal(odpt_hist_min(coarse), odpt_hist_min(fine));
	assert_true(odpt_hist_max(coarse) >= odpt_hist_max(fine) ||
		    odpt_hist_max(fine) - odpt_hist_max(coarse) < odpt_hist_max(fine) / 128);
	{
		static const double ps[] = { 1, 50, 99, 99.9 };
		unsigned k;

		for (k = 0; k < 4; k++) {
			double f = (double)odpt_hist_value_at_percentile(fine, ps[k]);
			double c = (double)odpt_hist_value_at_percentile(coarse, ps[k]);

			assert_true(fabs(c - f) <= f / 100.0);
		}
	}

	/* Into a narrower range: the samples above it are reported dropped. */
	assert_int_equal(odpt_hist_merge(narrow, fine, &dropped), 0);
	assert_int_equal(dropped, above);
	assert_int_equal(narrow->overflow, above);
	assert_int_equal(odpt_hist_count(narrow), 20000 - above);
	assert_true(odpt_hist_max(narrow) <= odpt_hist_highest_at_index(narrow,
					odpt_hist_index(narrow, 1000000)));
	odpt_hist_destroy(fine);
	odpt_hist_destroy(coarse);
	odpt_hist_destroy(narrow);
}

static void test_import_counts(void **state)
{
	struct odpt_hist *src = mk(1, ODPT_HIST_HIGHEST_NS, 2), *dst = mk(1, ODPT_HIST_HIGHEST_NS, 2);
	uint64_t *bad;
	int i;

	for (i = 0; i < 5000; i++)
		odpt_hist_record(src, rnd_log(100, 1000000000));
	assert_int_equal(odpt_hist_import_counts(dst, src->counts, (size_t)src->counts_len - 1),
			 -EINVAL);
	assert_int_equal(odpt_hist_count(dst), 0);
	assert_int_equal(odpt_hist_import_counts(dst, src->counts, (size_t)src->counts_len), 0);
	assert_int_equal(odpt_hist_count(dst), 5000);
	assert_memory_equal(dst->counts, src->counts, (size_t)src->counts_len * 8);
	assert_int_equal(odpt_hist_value_at_percentile(dst, 50),
			 odpt_hist_value_at_percentile(src, 50));
	assert_int_equal(odpt_hist_value_at_percentile(dst, 99.9),
			 odpt_hist_value_at_percentile(src, 99.9));
	assert_int_equal(odpt_hist_max(dst), odpt_hist_max(src));
	/* min becomes the lowest value of the first counter */
	assert_int_equal(odpt_hist_min(dst),
			 odpt_hist_lowest_at_index(src, odpt_hist_index(src, odpt_hist_min(src))));

	bad = calloc((size_t)dst->counts_len, 8);
	assert_non_null(bad);
	bad[1] = UINT64_MAX;
	bad[2] = 2;
	assert_int_equal(odpt_hist_import_counts(dst, bad, (size_t)dst->counts_len), -EOVERFLOW);
	assert_int_equal(odpt_hist_count(dst), 5000);
	free(bad);
	odpt_hist_destroy(src);
	odpt_hist_destroy(dst);
}

/* libodpt's (1, 1 h, 2) layout is the kernel shim's, index for index. */
static void test_uapi_layout_matches(void **state)
{
	struct odpt_hist *h = mk(ODPT_HMM_HIST_LOWEST, ODPT_HMM_HIST_HIGHEST,
				 ODPT_HMM_HIST_SIG_FIGS);
	uint64_t v;
	int b, d, i;

	assert_int_equal(h->counts_len, ODPT_HMM_HIST_COUNTS_LEN);
	assert_int_equal(h->bucket_count, ODPT_HMM_HIST_BUCKET_COUNT);
	assert_int_equal(h->sub_bucket_count, ODPT_HMM_HIST_SUB_BUCKET_COUNT);
	assert_int_equal(h->sub_bucket_half_count, ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT);
	assert_int_equal(h->sub_bucket_half_count_magnitude,
			 ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT_MAG);
	for (v = 1; v <= 100000; v++)
		assert_int_equal((int32_t)odpt_hmm_hist_index(v), odpt_hist_index(h, v));
	for (b = 0; b < 64; b++)
		for (d = -1; d <= 1; d++) {
			v = (1ULL << b) + (uint64_t)(int64_t)d;
			if (v >= 1 && v <= ODPT_HMM_HIST_HIGHEST)
				assert_int_equal((int32_t)odpt_hmm_hist_index(v),
						 odpt_hist_index(h, v));
		}
	for (i = 0; i < 500000; i++) {
		v = rnd_log(1, ODPT_HMM_HIST_HIGHEST);
		assert_int_equal((int32_t)odpt_hmm_hist_index(v), odpt_hist_index(h, v));
	}
	assert_true(odpt_hmm_hist_index(ODPT_HMM_HIST_HIGHEST) < ODPT_HMM_HIST_COUNTS_LEN);
	odpt_hist_destroy(h);
}

static void test_reset_dup_iterate(void **state)
{
	struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, 3), *c = NULL;
	struct odpt_hist_bucket b;
	uint64_t total = 0, prev_hi = 0;
	int32_t idx = -1;
	int n = 0;

	odpt_hist_record_n(h, 10, 3);
	odpt_hist_record(h, 5000);
	odpt_hist_record(h, 0);
	assert_int_equal(odpt_hist_dup(h, &c), 0);
	assert_int_equal(odpt_hist_count(c), 4);
	assert_int_equal(c->overflow, 1);
	while (odpt_hist_next_bucket(c, &idx, &b)) {
		assert_true(b.lowest > prev_hi || n == 0);
		assert_true(b.lowest <= b.highest);
		prev_hi = b.highest;
		total += b.count;
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(total, 4);
	odpt_hist_reset(h);
	assert_int_equal(odpt_hist_count(h), 0);
	assert_int_equal(h->overflow, 0);
	assert_int_equal(odpt_hist_min(h), 0);
	assert_int_equal(odpt_hist_count(c), 4);   /* the copy is independent */
	odpt_hist_destroy(h);
	odpt_hist_destroy(c);
}

/* The rank hist.h states: ceil(p/100 * count), a product within 1e-9 of an
 * integer being that integer, in [1, count]. */
static uint64_t rank_of(uint64_t count, double p)
{
	double x = p / 100.0 * (double)count, r = nearbyint(x);
	uint64_t rank = fabs(x - r) <= 1e-9 * (x > 1 ? x : 1) ? (uint64_t)r : (uint64_t)ceil(x);

	return rank < 1 ? 1 : rank > count ? count : rank;
}

/* A percentile the plain way: every counter from the bottom. */
static uint64_t slow_percentile(const struct odpt_hist *h, double p)
{
	uint64_t rank, seen = 0;
	int32_t i;

	if (!h->total_count)
		return 0;
	if (!(p > 0))
		return odpt_hist_min(h);
	if (p >= 100)
		return odpt_hist_max(h);
	rank = rank_of(h->total_count, p);
	for (i = 0; i < h->counts_len; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			return odpt_hist_highest_at_index(h, i);
	}
	fail_msg("counters hold fewer than %llu samples", (unsigned long long)rank);
	return 0;
}

static const double some_pcts[] = {
	0, 1e-9, 0.001, 0.1, 1, 5, 10, 25, 33.3, 49.99, 50, 50.0001, 66.6, 75, 90, 95,
	99, 99.5, 99.9, 99.99, 99.999, 99.99937, 99.9991, 99.99953, 99.9999, 99.99999,
	100, -3, 250,
};
#define NPCTS (sizeof(some_pcts) / sizeof(some_pcts[0]))

/* Single and batch queries (pcts shuffled, with repeats) equal the scan. */
static void check_queries(const struct odpt_hist *h)
{
	double pcts[2 * NPCTS + 1];
	uint64_t out[2 * NPCTS + 1];
	size_t i, n = 0;

	assert_true(odpt_hist_consistent(h));
	for (i = 0; i < NPCTS; i++) {
		uint64_t want = slow_percentile(h, some_pcts[i]);
		uint64_t got = odpt_hist_value_at_percentile(h, some_pcts[i]);

		if (got != want)
			fail_msg("p%g: %llu, the scan says %llu", some_pcts[i],
				 (unsigned long long)got, (unsigned long long)want);
		pcts[n++] = some_pcts[i];
		pcts[n++] = (double)(rnd() % 100000) / 1000.0;
	}
	pcts[n++] = NAN;
	for (i = n - 1; i > 0; i--) {   /* any order */
		size_t j = rnd() % (i + 1);
		double t = pcts[i];

		pcts[i] = pcts[j];
		pcts[j] = t;
	}
	assert_int_equal(odpt_hist_values_at_percentiles(h, pcts, n, out), 0);
	for (i = 0; i < n; i++)
		if (out[i] != odpt_hist_value_at_percentile(h, pcts[i]))
			fail_msg("batch p%g: %llu, single %llu", pcts[i], (unsigned long long)out[i],
				 (unsigned long long)odpt_hist_value_at_percentile(h, pcts[i]));
}

/* Mean, stddev and iteration over the populated range equal whole-array
 * results (same summation order, so bit for bit). */
static void check_walks(const struct odpt_hist *h)
{
	struct odpt_hist_bucket b;
	double sum = 0, dev = 0, mean;
	int32_t i, idx = -1;

	for (i = 0; i < h->counts_len; i++)
		if (h->counts[i]) {
			uint64_t lo = odpt_hist_lowest_at_index(h, i);
			uint64_t w = odpt_hist_highest_at_index(h, i) - lo + 1;

			sum += (double)(lo + w / 2) * (double)h->counts[i];
			assert_true(odpt_hist_next_bucket(h, &idx, &b));
			assert_int_equal(b.index, i);
			assert_int_equal(b.count, h->counts[i]);
		}
	assert_false(odpt_hist_next_bucket(h, &idx, &b));
	if (!h->total_count) {
		assert_true(odpt_hist_mean(h) == 0 && odpt_hist_stddev(h) == 0);
		return;
	}
	mean = sum / (double)h->total_count;
	assert_true(odpt_hist_mean(h) == mean);
	for (i = 0; i < h->counts_len; i++)
		if (h->counts[i]) {
			uint64_t lo = odpt_hist_lowest_at_index(h, i);
			double d = (double)(lo + (odpt_hist_highest_at_index(h, i) - lo + 1) / 2) - mean;

			dev += d * d * (double)h->counts[i];
		}
	assert_true(odpt_hist_stddev(h) == sqrt(dev / (double)h->total_count));
}

/* Shapes that stress the walk: narrow, wide, bimodal, one value, block
 * edges, the lowest and the highest values, and counts in the billions. */
static void fill(struct odpt_hist *h, int shape, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t v;

		switch (shape) {
		case 0: v = rnd_log(45000, 55000); break;
		case 1: v = rnd_log(100, 10000000); break;
		case 2: v = i % 3 ? rnd_log(900, 1100) : rnd_log(9000000, 11000000); break;
		case 3: v = 123457; break;
		case 4: v = odpt_hist_lowest_at_index(h, (int32_t)((rnd() % (uint64_t)h->nblocks)
					<< h->block_shift)) + (rnd() & 1); break;
		case 5: v = i & 1 ? h->lowest : h->highest; break;
		default: v = i ? rnd_log(2000, 1000000000) : 1000; break;
		}
		if (v < h->lowest)
			v = h->lowest;
		if (v > h->highest)
			v = h->highest;
		/* shape 6: 10^9 samples of one value, then single ones whose
		 * ranks (above 5e8, where 1e-9 of a rank exceeds 1/2) fall in
		 * different counters */
		odpt_hist_record_n(h, v, shape != 6 ? 1 + rnd() % 3 : i ? 1 : 1000000000);
	}
}

static void test_queries_vs_scan(void **state)
{
	int sig, shape;

	for (sig = 1; sig <= 5; sig++) {
		for (shape = 0; shape < 7; shape++) {
			struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, sig);

			check_queries(h);   /* empty */
			fill(h, shape, sig == 5 ? 2000 : 20000);
			check_queries(h);
			check_walks(h);
			odpt_hist_destroy(h);
		}
	}
}

/* The batch against a sorted copy of random data, in any order, on the
 * stack path (n <= 64) and the allocated one. */
static void test_batch_vs_sorted(void **state)
{
	enum { N = 50021, NP = 300 };
	uint64_t *vals = malloc(N * sizeof(*vals)), out[NP];
	struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, 3);
	double pcts[NP];
	size_t i, n;

	assert_non_null(vals);
	for (i = 0; i < N; i++) {
		vals[i] = rnd_log(50, 50000000);
		assert_true(odpt_hist_record(h, vals[i]));
	}
	qsort(vals, N, sizeof(*vals), cmp_u64);
	for (n = 1; n <= NP; n = n * 3 + 2) {
		for (i = 0; i < n; i++)
			pcts[i] = (double)(rnd() % 1000001) / 10000.0;   /* 0..100 */
		assert_int_equal(odpt_hist_values_at_percentiles(h, pcts, n, out), 0);
		for (i = 0; i < n; i++) {
			uint64_t want;

			if (pcts[i] <= 0)
				want = vals[0];
			else
				want = odpt_hist_highest_at_index(h, odpt_hist_index(h,
						vals[rank_of(N, pcts[i]) - 1]));
			if (out[i] != want)
				fail_msg("n=%zu p%g: %llu, sorted copy says %llu", n, pcts[i],
					 (unsigned long long)out[i], (unsigned long long)want);
			assert_int_equal(out[i], odpt_hist_value_at_percentile(h, pcts[i]));
		}
	}
	assert_int_equal(odpt_hist_values_at_percentiles(h, NULL, 0, NULL), 0);
	assert_int_equal(odpt_hist_values_at_percentiles(h, NULL, 1, out), -EINVAL);
	assert_int_equal(odpt_hist_values_at_percentiles(h, pcts, 1, NULL), -EINVAL);
	assert_int_equal(odpt_hist_values_at_percentiles(NULL, pcts, 1, out), -EINVAL);
	odpt_hist_reset(h);
	out[0] = out[1] = 7;
	assert_int_equal(odpt_hist_values_at_percentiles(h, pcts, 2, out), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	free(vals);
	odpt_hist_destroy(h);
}

/* Every mutating call keeps the block totals, total and range consistent. */
static void test_summary_after_every_write(void **state)
{
	struct odpt_hist *h = mk(1, ODPT_HIST_HIGHEST_NS, 3), *c = NULL;
	struct odpt_hist *coarse = mk(1, ODPT_HIST_HIGHEST_NS, 2);
	struct odpt_hist *kern = mk(ODPT_HMM_HIST_LOWEST, ODPT_HMM_HIST_HIGHEST,
				    ODPT_HMM_HIST_SIG_FIGS);
	uint64_t *counts = calloc(ODPT_HMM_HIST_COUNTS_LEN, sizeof(*counts));
	int i;

	assert_non_null(counts);
	assert_true(odpt_hist_consistent(h));
	odpt_hist_record(h, 777);
	assert_true(odpt_hist_consistent(h));
	odpt_hist_record_n(h, 5000000, 9);
	assert_true(odpt_hist_consistent(h));
	odpt_hist_record(h, 0);                         /* refused */
	odpt_hist_record_n(h, UINT64_MAX, 3);
	assert_true(odpt_hist_consistent(h));
	assert_int_equal(odpt_hist_dup(h, &c), 0);
	assert_true(odpt_hist_consistent(c));
	assert_int_equal(odpt_hist_merge(h, c, NULL), 0);        /* same layout */
	assert_true(odpt_hist_consistent(h));
	assert_int_equal(odpt_hist_merge(coarse, h, NULL), 0);   /* across layouts */
	assert_true(odpt_hist_consistent(coarse));
	assert_int_equal(odpt_hist_merge(h, coarse, NULL), 0);
	assert_true(odpt_hist_consistent(h));
	check_queries(h);
	odpt_hist_reset(h);
	assert_true(odpt_hist_consistent(h));
	assert_int_equal(odpt_hist_count(h), 0);
	for (i = 0; i < h->counts_len + h->nblocks; i++)
		assert_int_equal(h->counts[i], 0);
	odpt_hist_record(h, 31);
	assert_true(odpt_hist_consistent(h));
	check_queries(h);
	assert_true(odpt_hist_consistent(c));          /* the copy is untouched */

	/* Counters exported by the kernel shim, in its layout. */
	for (i = 0; i < 30000; i++)
		counts[odpt_hmm_hist_index(rnd_log(300, 300000000))]++;
	assert_int_equal(odpt_hist_import_counts(kern, counts, ODPT_HMM_HIST_COUNTS_LEN), 0);
	assert_true(odpt_hist_consistent(kern));
	check_queries(kern);
	check_walks(kern);
	assert_int_equal(odpt_hist_import_counts(kern, counts, ODPT_HMM_HIST_COUNTS_LEN), 0);
	assert_true(odpt_hist_consistent(kern));
	assert_int_equal(odpt_hist_count(kern), 60000);
	check_queries(kern);
	free(counts);
	odpt_hist_destroy(kern);
	odpt_hist_destroy(coarse);
	odpt_hist_destroy(c);
	odpt_hist_destroy(h);
}

/* Merging follows the source's populated range and equals the whole-array
 * result: empty, narrow, wide and one-value sources, same and other layout. */
static void test_merge_populated_range(void **state)
{
	int shape;

	for (shape = -1; shape < 6; shape++) {
		struct odpt_hist *dst = mk(1, ODPT_HIST_HIGHEST_NS, 3), *src = mk(1, ODPT_HIST_HIGHEST_NS, 3);
		struct odpt_hist *before = NULL, *other = mk(1, ODPT_HIST_HIGHEST_NS, 2);
		struct odpt_hist *ref = mk(1, ODPT_HIST_HIGHEST_NS, 2);
		uint64_t dropped = 5;
		int32_t i;

		fill(dst, 1, 3000);
		if (shape >= 0)
			fill(src, shape, 3000);
		odpt_hist_record(src, 0);   /* one overflow sample */
		assert_int_equal(odpt_hist_dup(dst, &before), 0);
		assert_int_equal(odpt_hist_merge(dst, src, &dropped), 0);
		assert_int_equal(dropped, 0);
		assert_true(odpt_hist_consistent(dst));
		for (i = 0; i < dst->counts_len; i++)
			assert_int_equal(dst->counts[i], before->counts[i] + src->counts[i]);
		assert_int_equal(dst->total_count, before->total_count + src->total_count);
		assert_int_equal(dst->overflow, before->overflow + 1);
		assert_int_equal(odpt_hist_min(dst), shape < 0 ? odpt_hist_min(before) :
				 (odpt_hist_min(src) < odpt_hist_min(before) ?
				  odpt_hist_min(src) : odpt_hist_min(before)));
		check_queries(dst);

		/* Across layouts: each counter re-recorded at its lowest value,
		 * clamped to the source's min and max, as the header says. */
		assert_int_equal(odpt_hist_merge(other, src, NULL), 0);
		assert_true(odpt_hist_consistent(other));
		for (i = 0; i < src->counts_len; i++)
			if (src->counts[i]) {
				uint64_t v = odpt_hist_lowest_at_index(src, i);

				v = v < src->min ? src->min : v > src->max ? src->max : v;
				odpt_hist_record_n(ref, v, src->counts[i]);
			}
		assert_memory_equal(other->counts, ref->counts, (size_t)ref->counts_len * 8);
		assert_int_equal(odpt_hist_count(other), odpt_hist_count(ref));
		assert_int_equal(odpt_hist_min(other), odpt_hist_min(ref));
		odpt_hist_destroy(ref);
		odpt_hist_destroy(other);
		odpt_hist_destroy(before);
		odpt_hist_destroy(src);
		odpt_hist_destroy(dst);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_layout_and_memory),
		cmocka_unit_test(test_error_bound_whole_range),
		cmocka_unit_test(test_counters_tile_the_range),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_sample),
		cmocka_unit_test(test_percentiles_vs_sorted),
		cmocka_unit_test(test_percentiles_exact_ranks),
		cmocka_unit_test(test_merge_same_layout),
		cmocka_unit_test(test_merge_different_layouts),
		cmocka_unit_test(test_import_counts),
		cmocka_unit_test(test_uapi_layout_matches),
		cmocka_unit_test(test_reset_dup_iterate),
		cmocka_unit_test(test_queries_vs_scan),
		cmocka_unit_test(test_batch_vs_sorted),
		cmocka_unit_test(test_summary_after_every_write),
		cmocka_unit_test(test_merge_populated_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
