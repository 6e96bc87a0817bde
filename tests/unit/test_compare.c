// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The A/B comparison (include/odpt/compare.h): Mann-Whitney U over
 * histogram counters against a hand-computed example, the verdict rule on
 * synthetic runs (identical, shifted, shifted below the threshold,
 * improved, tail-only, too few samples, different layouts), the JSON
 * reader (write with raw buckets, read back, same counters; every kind of
 * bad input refused with a message saying what is wrong), and the report
 * it renders (series listed on one side only, summary line in each format).
 */
#define _GNU_SOURCE   /* asprintf */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt_config.h"
#include "unit_report.h"
#include "odpt/compare.h"
#include "odpt/report.h"

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * n samples, uniform over 10..15 us, each multiplied by scale; with
 * tail_frac of them (the largest ones) further multiplied by tail_scale.
 */
static struct odpt_hist *make_hist(uint64_t seed, int n, double scale,
				   double tail_frac, double tail_scale)
{
	struct odpt_hist *h = NULL;
	uint64_t x = seed;
	int i;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	for (i = 0; i < n; i++) {
		double v = 10000 + (double)(xorshift(&x) % 5000);

		/* the top tail_frac of the uniform range: the slowest samples */
		if (v >= 15000 - 5000 * tail_frac)
			v *= tail_scale;
		assert_true(odpt_hist_record(h, (uint64_t)(v * scale)));
	}
	return h;
}

static struct odpt_hist *from_values(const uint64_t *v, int n)
{
	struct odpt_hist *h = NULL;
	int i;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	for (i = 0; i < n; i++)
		assert_true(odpt_hist_record(h, v[i]));
	return h;
}

static void defaults(struct odpt_compare_opts *o)
{
	odpt_compare_opts_default(o);
	assert_true(o->threshold_pct == 5.0);
	assert_true(o->alpha == 0.01);
	assert_int_equal(o->min_samples, 30);
}

/*
 * Hand-computed: base {1,2,2,3}, new {2,3,4,5,5}.
 * U_new = pairs with new > base, ties 1/2:
 *   y=2: 1 + 2*0.5 = 2;  y=3: 3 + 0.5 = 3.5;  y=4, 5, 5: 4 each  -> 17.5
 *   (rank sum: mid-ranks 3, 5.5, 7, 8.5, 8.5 = 32.5; 32.5 - 5*6/2 = 17.5)
 * Tie groups in the 9 pooled values: {2}x3, {3}x2, {5}x2:
 *   sum(t^3 - t) = 24 + 6 + 6 = 36
 * Var(U) = 4*5/12 * ((9 + 1) - 36 / (9*8)) = (5/3) * 9.5 = 15.8333...
 * z = (17.5 - 10 - 0.5) / sqrt(15.8333) = 7 / 3.979112 = 1.759186
 * p = erfc(z / sqrt 2) = 0.078546 (two-sided)
 */
static void test_mwu_hand_example(void **state)
{
	static const uint64_t xb[] = { 1, 2, 2, 3 }, yn[] = { 2, 3, 4, 5, 5 };
	struct odpt_hist *a = from_values(xb, 4), *b = from_values(yn, 5);
	struct odpt_mwu m;

	assert_int_equal(odpt_mwu_hist(a, b, &m), 0);
	assert_int_equal(m.n_base, 4);
	assert_int_equal(m.n_new, 5);
	assert_true(m.u_new == 17.5);
	assert_true(m.effect == 17.5 / 20);
	assert_true(fabs(m.sigma * m.sigma - 95.0 / 6) < 1e-12);
	assert_true(fabs(m.z - 1.759186414825121) < 1e-9);
	assert_true(fabs(m.p_value - 0.0785458509511907) < 1e-9);

	/* swapped: U is the complement, z changes sign, p is the same */
	assert_int_equal(odpt_mwu_hist(b, a, &m), 0);
	assert_true(m.u_new == 20 - 17.5);
	assert_true(fabs(m.z + 1.759186414825121) < 1e-9);
	assert_true(fabs(m.p_value - 0.0785458509511907) < 1e-9);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/*
 * Quantile test by hand on the same data (pooled, sorted:
 * 1 2 2 2 3 3 4 5 5; N = 9). The pooled percentile's counter has two
 * edges; the split takes the one whose pooled fraction below is nearer q.
 *  q=50: rank 5 -> value 3; at or below 3: 6/9 (|0.667-0.5| = 0.167),
 *        below 3: 4/9 (0.056) -> cut at 2: base 3 of 4, new 1 of 5;
 *        pbar = 4/9; se = sqrt(4/9 * 5/9 * (1/4 + 1/5)) = 1/3;
 *        z = (3/4 - 1/5) / (1/3) = 1.65; p = erfc(1.65 / sqrt 2) = 0.098943
 *  q=25: rank 3 -> value 2; 4/9 (0.194) vs 1/9 (0.139) -> cut at 1:
 *        base 1 of 4, new 0 of 5; pbar = 1/9;
 *        se = sqrt(1/9 * 8/9 * 0.45) = 0.210819; z = 0.25 / se = 1.185854
 *  q=90: rank 9 -> value 5, nothing above it -> cut at 4: base 4 of 4,
 *        new 3 of 5; pbar = 7/9; se = sqrt(7/9 * 2/9 * 0.45) = 0.278887;
 *        z = 0.4 / se = 1.434274
 * Expected counts beyond the cut are far below 5: not testable.
 */
static void test_qtest_hand_example(void **state)
{
	static const uint64_t xb[] = { 1, 2, 2, 3 }, yn[] = { 2, 3, 4, 5, 5 };
	static const uint64_t same[] = { 7, 7, 7 };
	struct odpt_hist *a = from_values(xb, 4), *b = from_values(yn, 5), *e = NULL;
	struct odpt_hist *s1 = from_values(same, 3), *s2 = from_values(same, 2);
	struct odpt_qtest t;

	assert_int_equal(odpt_qtest_hist(a, b, 50, &t), 0);
	assert_int_equal(t.cut_ns, 2);
	assert_int_equal(t.base_le, 3);
	assert_int_equal(t.new_le, 1);
	assert_true(fabs(t.z - 1.65) < 1e-12);
	assert_true(fabs(t.p_value - 0.09894293606729622) < 1e-9);
	assert_false(t.testable);
	/* swapped: z changes sign, same p */
	assert_int_equal(odpt_qtest_hist(b, a, 50, &t), 0);
	assert_true(fabs(t.z + 1.65) < 1e-12);
	assert_true(fabs(t.p_value - 0.09894293606729622) < 1e-9);
	assert_int_equal(odpt_qtest_hist(a, b, 25, &t), 0);
	assert_int_equal(t.cut_ns, 1);
	assert_int_equal(t.base_le, 1);
	assert_int_equal(t.new_le, 0);
	assert_true(fabs(t.z - 1.1858541225631423) < 1e-12);
	assert_true(fabs(t.p_value - 0.2356799134290376) < 1e-9);
	assert_int_equal(odpt_qtest_hist(a, b, 90, &t), 0);
	assert_int_equal(t.cut_ns, 4);
	assert_int_equal(t.base_le, 4);
	assert_int_equal(t.new_le, 3);
	assert_true(fabs(t.z - 1.4342743312012722) < 1e-12);
	assert_true(fabs(t.p_value - 0.15149399240422018) < 1e-9);
	/* one counter holds everything: no evidence, p = 1 */
	assert_int_equal(odpt_qtest_hist(s1, s2, 99, &t), 0);
	assert_true(t.z == 0 && t.p_value == 1 && t.testable);
	/* q outside (0, 100), an empty side */
	assert_int_equal(odpt_qtest_hist(a, b, 0, &t), -EINVAL);
	assert_int_equal(odpt_qtest_hist(a, b, 100, &t), -EINVAL);
	assert_int_equal(odpt_hist_create_default(&e), 0);
	assert_int_equal(odpt_qtest_hist(a, e, 50, &t), -EINVAL);
	odpt_hist_destroy(e);
	odpt_hist_destroy(s1);
	odpt_hist_destroy(s2);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/* All samples in one counter: no evidence either way, never NaN. */
static void test_mwu_degenerate(void **state)
{
	static const uint64_t v[] = { 7, 7, 7 };
	struct odpt_hist *a = from_values(v, 3), *b = from_values(v, 2), *e = NULL, *s2 = NULL;
	struct odpt_mwu m;

	assert_int_equal(odpt_mwu_hist(a, b, &m), 0);
	assert_true(m.sigma == 0 && m.z == 0 && m.p_value == 1);
	assert_true(m.effect == 0.5);
	assert_int_equal(odpt_hist_create_default(&e), 0);
	assert_int_equal(odpt_mwu_hist(a, e, &m), 0);
	assert_true(m.p_value == 1 && m.n_new == 0);
	/* different layouts are refused (compare converts them first) */
	assert_int_equal(odpt_hist_create(1, ODPT_HIST_HIGHEST_NS, 2, &s2), 0);
	assert_int_equal(odpt_mwu_hist(a, s2, &m), -EINVAL);
	odpt_hist_destroy(s2);
	odpt_hist_destroy(e);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

static void test_identical_no_change(void **state)
{
	struct odpt_hist *a = make_hist(1, 10000, 1, 0, 1);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;
	int i;

	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, a, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_int_equal(c.why, ODPT_WHY_NOT_SIGNIFICANT);
	assert_true(c.mwu.p_value == 1);
	assert_true(c.mwu.effect == 0.5);
	for (i = 0; i < ODPT_COMPARE_NPCT; i++) {
		assert_int_equal(c.delta_ns[i], 0);
		assert_true(c.delta_pct[i] == 0);
	}
	assert_false(c.layout_converted);
	odpt_hist_destroy(a);
}

/* Two draws from the same distribution: no verdict at alpha 0.01. */
static void test_same_distribution_no_change(void **state)
{
	struct odpt_hist *a = make_hist(1, 20000, 1, 0, 1), *b = make_hist(99, 20000, 1, 0, 1);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_true(fabs(c.delta_pct[0]) < 1 && fabs(c.delta_pct[2]) < 1);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/*
 * Calibration under the null hypothesis: 400 pairs of runs drawn from one
 * distribution (2000 samples each; fine counters, and a discrete one where
 * 90% of samples tie in one counter). The quantile test's p must be about
 * uniform: p < 0.01 in about 1% of pairs, p < 0.5 in about half.
 */
static struct odpt_hist *null_hist(uint64_t seed, int n, bool ties)
{
	struct odpt_hist *h = NULL;
	uint64_t x = seed * 2654435761ULL + 1;
	int i;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	for (i = 0; i < n; i++) {
		uint64_t r = xorshift(&x) % 1000;

		if (!ties)
			odpt_hist_record(h, 10000 + xorshift(&x) % 5000);
		else
			odpt_hist_record(h, r < 900 ? 30 : r < 990 ? 31 + r % 5 : 40 + r % 200);
	}
	return h;
}

static void test_null_calibration(void **state)
{
	const int pairs = 400;
	int kind, i, t;

	for (kind = 0; kind < 2; kind++) {
		int below_alpha[2] = { 0 }, below_half[2] = { 0 }, verdicts = 0;

		for (t = 0; t < pairs; t++) {
			struct odpt_hist *a = null_hist(2 * (uint64_t)t + 1, 2000, kind);
			struct odpt_hist *b = null_hist(2 * (uint64_t)t + 2, 2000, kind);
			struct odpt_compare_opts o;
			struct odpt_series_cmp c;

			defaults(&o);
			assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
			verdicts += c.verdict != ODPT_VERDICT_NO_CHANGE;
			for (i = 0; i < 2; i++) {
				const struct odpt_qtest *q = &c.qtest[i ? 2 : 0];   /* p50, p99 */

				assert_true(q->testable);
				below_alpha[i] += q->p_value < 0.01;
				below_half[i] += q->p_value < 0.5;
			}
			odpt_hist_destroy(a);
			odpt_hist_destroy(b);
		}
		for (i = 0; i < 2; i++) {
			if (below_alpha[i] > pairs * 3 / 100 ||
			    below_half[i] < pairs * 35 / 100 || below_half[i] > pairs * 65 / 100)
				fail_msg("kind %d %s: p < 0.01 in %d, p < 0.5 in %d of %d pairs",
					 kind, i ? "p99" : "p50", below_alpha[i], below_half[i], pairs);
		}
		/* false verdicts at alpha 0.01: about 1% at most, expect ~4 */
		if (verdicts > pairs * 2 / 100)
			fail_msg("kind %d: %d false verdicts in %d pairs", kind, verdicts, pairs);
	}
}

/* Everything 20% slower: regressed, p vanishingly small. */
static void test_shift_regressed(void **state)
{
	struct odpt_hist *a = make_hist(1, 10000, 1, 0, 1), *b = make_hist(2, 10000, 1.2, 0, 1);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	assert_int_equal(c.why, ODPT_WHY_NONE);
	assert_true(c.decisive == 0 || c.decisive == 2);
	assert_true(c.qtest[c.decisive].p_value < 1e-20);
	assert_true(c.qtest[c.decisive].z > 9);
	assert_true(c.alpha_each == 0.005);   /* two chosen percentiles */
	assert_true(c.mwu.p_value < 1e-100);
	assert_true(c.mwu.z > 20);
	assert_true(c.mwu.effect > 0.8);
	assert_true(c.decisive == 0 || c.decisive == 2);
	assert_true(c.delta_pct[0] > 15 && c.delta_pct[0] < 25);
	assert_true(c.delta_ns[0] > 0);
	assert_int_equal(c.delta_ns[0], (int64_t)(c.new_ns[0] - c.base_ns[0]));

	/* the mirror image is an improvement */
	assert_int_equal(odpt_compare_hist(b, a, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_IMPROVED);
	assert_true(c.delta_pct[0] < -10);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/* 2% slower on 10^4 samples: significant, but below the 5% threshold. */
static void test_small_shift_below_threshold(void **state)
{
	struct odpt_hist *a = make_hist(1, 10000, 1, 0, 1), *b = make_hist(2, 10000, 1.02, 0, 1);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_int_equal(c.why, ODPT_WHY_BELOW_THRESHOLD);
	assert_true(c.qtest[c.decisive].p_value < c.alpha_each);
	assert_true(c.delta_pct[c.decisive] > 0 && c.delta_pct[c.decisive] < 5);
	/* a 1% threshold makes the same data a regression */
	o.threshold_pct = 1;
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/* A large shift on 10 samples a side: no verdict, and says why. */
static void test_too_few_samples(void **state)
{
	struct odpt_hist *a = make_hist(1, 10, 1, 0, 1), *b = make_hist(2, 10, 3, 0, 1);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_int_equal(c.why, ODPT_WHY_TOO_FEW_SAMPLES);
	/* the figures are still computed and reported */
	assert_true(c.delta_pct[0] > 100);
	o.min_samples = 10;
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/*
 * Only the slowest 3% get 3x slower (10^4 samples): p99 regresses, p50
 * does not move; --metric decides which counts. Mann-Whitney does not see
 * this (p > 0.1): the reason it does not decide.
 */
static void test_tail_only_metric(void **state)
{
	struct odpt_hist *a = make_hist(1, 10000, 1, 0, 1);
	struct odpt_hist *b = make_hist(2, 10000, 1, 0.03, 3);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	defaults(&o);
	assert_int_equal(odpt_compare_parse_metrics("p50", &o.metric_mask), 0);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_true(c.mwu.p_value > 0.1);
	assert_true(c.qtest[2].p_value < 1e-10 && c.qtest[2].z > 0);
	assert_true(fabs(c.delta_pct[0]) < 1);
	assert_true(c.delta_pct[2] > 100);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_int_equal(c.why, ODPT_WHY_NOT_SIGNIFICANT);
	assert_int_equal(odpt_compare_parse_metrics("p50,p99", &o.metric_mask), 0);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	assert_int_equal(c.decisive, 2);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/* The bulk 10% faster, the tail 2x slower: a worse tail wins. */
static void test_mixed_worse_tail_wins(void **state)
{
	struct odpt_hist *a = make_hist(1, 100000, 1, 0, 1);
	struct odpt_hist *b = make_hist(2, 100000, 0.9, 0.03, 2);
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_true(c.delta_pct[0] < -5 && c.delta_pct[2] > 5);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	assert_int_equal(c.decisive, 2);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

/* Same samples in a 3- and a 2-significant-figure layout: no change. */
static void test_different_layouts(void **state)
{
	struct odpt_hist *a = make_hist(1, 10000, 1, 0, 1), *b = NULL, *x = NULL, *y = NULL;
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;

	assert_int_equal(odpt_hist_create(1, 1000000000, 2, &b), 0);
	assert_int_equal(odpt_hist_merge(b, a, NULL), 0);
	defaults(&o);
	assert_int_equal(odpt_compare_hist(a, b, &o, &c), 0);
	assert_true(c.layout_converted);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_true(c.mwu.p_value > 0.5);
	assert_int_equal(odpt_hist_common_layout(a, b, &x, &y), 0);
	assert_int_equal(x->sig_figs, 2);
	assert_true(x->highest >= ODPT_HIST_HIGHEST_NS && x->counts_len == y->counts_len);
	assert_int_equal(odpt_hist_count(x), 10000);
	assert_int_equal(odpt_hist_count(y), 10000);
	odpt_hist_destroy(x);
	odpt_hist_destroy(y);
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
}

static void test_parse_metrics_and_opts(void **state)
{
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;
	struct odpt_hist *a = make_hist(1, 100, 1, 0, 1);
	unsigned m = 0;

	assert_int_equal(odpt_compare_parse_metrics("p50,p90,p99,p99.9", &m), 0);
	assert_int_equal(m, 0xf);
	assert_int_equal(odpt_compare_parse_metrics("p99.9", &m), 0);
	assert_int_equal(m, 8);
	assert_int_equal(odpt_compare_parse_metrics("p99.", &m), -EINVAL);
	assert_int_equal(odpt_compare_parse_metrics("p95", &m), -EINVAL);
	assert_int_equal(odpt_compare_parse_metrics("", &m), -EINVAL);
	assert_int_equal(odpt_compare_parse_metrics("p50,", &m), -EINVAL);
	assert_int_equal(odpt_compare_parse_metrics("p50,,p99", &m), -EINVAL);
	defaults(&o);
	o.alpha = 0;
	assert_int_equal(odpt_compare_hist(a, a, &o, &c), -EINVAL);
	defaults(&o);
	o.metric_mask = 0;
	assert_int_equal(odpt_compare_hist(a, a, &o, &c), -EINVAL);
	defaults(&o);
	o.threshold_pct = NAN;
	assert_int_equal(odpt_compare_hist(a, a, &o, &c), -EINVAL);
	odpt_hist_destroy(a);
}

/*
 * Repeated runs: three base runs against three new runs 20% slower is a
 * regression; when one of the new runs is a base run again the pooled
 * samples still differ, but the runs overlap: no change, runs disagree.
 */
static void test_runs_must_agree(void **state)
{
	struct odpt_hist *b[3], *n[3], *slow_again = make_hist(40, 5000, 1.2, 0, 1);
	const struct odpt_hist *bp[3], *np[3];
	struct odpt_compare_opts o;
	struct odpt_series_cmp c;
	int k;

	for (k = 0; k < 3; k++) {
		b[k] = make_hist(10 + (uint64_t)k, 5000, 1, 0, 1);
		n[k] = make_hist(20 + (uint64_t)k, 5000, 1.2, 0, 1);
		bp[k] = b[k];
		np[k] = n[k];
	}
	defaults(&o);
	assert_int_equal(odpt_compare_runs_hist(bp, 3, np, 3, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	assert_int_equal(c.runs_base, 3);
	assert_int_equal(c.runs_new, 3);
	assert_int_equal(c.mwu.n_base, 15000);
	assert_int_equal(c.mwu.n_new, 15000);
	assert_true(c.run_lo_ns[1][c.decisive] > c.run_hi_ns[0][c.decisive]);

	np[2] = b[0];
	assert_int_equal(odpt_compare_runs_hist(bp, 3, np, 3, &o, &c), 0);
	assert_true(c.delta_pct[0] > 5 && c.qtest[0].p_value < 1e-10);
	assert_int_equal(c.verdict, ODPT_VERDICT_NO_CHANGE);
	assert_int_equal(c.why, ODPT_WHY_RUNS_DISAGREE);
	assert_true(c.run_lo_ns[1][c.decisive] <= c.run_hi_ns[0][c.decisive]);

	/* one base run against two slower runs: they agree */
	np[0] = n[0];
	np[1] = slow_again;
	assert_int_equal(odpt_compare_runs_hist(bp, 1, np, 2, &o, &c), 0);
	assert_int_equal(c.verdict, ODPT_VERDICT_REGRESSED);
	/* bad arguments */
	assert_int_equal(odpt_compare_runs_hist(bp, 0, np, 2, &o, &c), -EINVAL);
	np[1] = NULL;
	assert_int_equal(odpt_compare_runs_hist(bp, 1, np, 2, &o, &c), -EINVAL);
	for (k = 0; k < 3; k++) {
		odpt_hist_destroy(b[k]);
		odpt_hist_destroy(n[k]);
	}
	odpt_hist_destroy(slow_again);
}

/* ---- JSON round trip and bad input ------------------------------------ */

/* The report in format f; raw keeps every bucket in the JSON. */
static char *render(const struct odpt_report *r, enum odpt_format f, bool raw)
{
	struct odpt_write_opts wo = { .raw_buckets = raw };

	return unit_render(r, f, &wo);
}

static void assert_same_hist(const struct odpt_hist *a, const struct odpt_hist *b)
{
	assert_true(a->lowest == b->lowest && a->highest == b->highest);
	assert_int_equal(a->sig_figs, b->sig_figs);
	assert_int_equal(a->counts_len, b->counts_len);
	assert_int_equal(a->total_count, b->total_count);
	assert_int_equal(a->overflow, b->overflow);
	assert_int_equal(odpt_hist_min(a), odpt_hist_min(b));
	assert_int_equal(odpt_hist_max(a), odpt_hist_max(b));
	assert_memory_equal(a->counts, b->counts, (size_t)a->counts_len * sizeof(a->counts[0]));
	assert_int_equal(odpt_hist_value_at_percentile(a, 99.9),
			 odpt_hist_value_at_percentile(b, 99.9));
	assert_true(odpt_hist_mean(a) == odpt_hist_mean(b));
	/* a histogram read back keeps its query totals (hist.h) */
	assert_true(odpt_hist_consistent(b));
}

/* Write report r as JSON (with or without raw buckets) to dir/rel. */
static void write_json_at(const struct odpt_report *r, bool raw, const char *dir,
			  const char *rel)
{
	struct odpt_write_opts wo = { .raw_buckets = raw };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, &wo, path), 0);
}

static void put_text(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * A directory of results: every odpt result under it (name order), each
 * series labelled file=PATH; a series without raw buckets kept with h =
 * NULL; other JSON, summary.json, results without series and symbolic
 * links skipped; a series that already has a 'file' label refused.
 */
static void test_read_dir(void **state)
{
	static const struct odpt_label la[] = { { "mode", "hmm" } };
	static const struct odpt_label lf[] = { { "file", "mine" } };
	struct odpt_hist *a = make_hist(5, 50000, 1, 0.01, 100);
	struct odpt_report *r = NULL, *none = NULL, *clash = NULL;
	struct odpt_result *res = NULL;
	char dir[] = "/tmp/odpt-test-readdir-XXXXXX", empty[] = "/tmp/odpt-test-readdir-XXXXXX";
	char err[512], key[256], sub[600];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/iommu", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/iommu/shim", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(odpt_report_create("r", &r), 0);
	assert_int_equal(odpt_report_hist(r, "lat_ns", la, 1, a), 0);
	assert_int_equal(odpt_report_create("none", &none), 0);
	write_json_at(r, true, dir, "iommu/shim/shim-bench.json");
	write_json_at(r, false, dir, "iommu/noraw.json");
	write_json_at(none, true, dir, "iommu/devices.json");
	/* A second result without series before any with: realloc(p, 0) freed p. */
	write_json_at(none, true, dir, "iommu/devices2.json");
	write_json_at(r, true, dir, "summary.json");
	write_json_at(r, true, dir, ".hidden.json");
	write_json_at(r, true, dir, "iommu/shim/shim-bench.csv");
	put_text(dir, "peer.json", "{\"suite\": \"x\"}\n");
	put_text(dir, "notes.json", "not JSON\n");
	snprintf(sub, sizeof(sub), "%s/latest", dir);
	assert_int_equal(symlink(dir, sub), 0);

	assert_int_equal(odpt_result_read_dir(dir, &res, err, sizeof(err)), 0);
	assert_int_equal(res->nseries, 2);
	odpt_result_series_key(&res->series[0], key, sizeof(key));
	assert_string_equal(key, "lat_ns{file=iommu/noraw.json,mode=hmm}");
	assert_null(res->series[0].h);
	odpt_result_series_key(&res->series[1], key, sizeof(key));
	assert_string_equal(key, "lat_ns{file=iommu/shim/shim-bench.json,mode=hmm}");
	assert_same_hist(a, res->series[1].h);
	odpt_result_destroy(res);
	res = NULL;

	/* a 'file' label of its own would be ambiguous: refused, naming it */
	assert_int_equal(odpt_report_create("clash", &clash), 0);
	assert_int_equal(odpt_report_hist(clash, "lat_ns", lf, 1, a), 0);
	write_json_at(clash, true, dir, "iommu/clash.json");
	assert_int_equal(odpt_result_read_dir(dir, &res, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "iommu/clash.json: series 'lat_ns' already has a label 'file'"));
	assert_null(res);

	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
	/* nothing to compare under it */
	assert_non_null(mkdtemp(empty));
	assert_int_equal(odpt_result_read_dir(empty, &res, err, sizeof(err)), -ENODATA);
	assert_non_null(strstr(err, "no latency series in any odpt JSON result under it (0 read"));
	assert_int_equal(rmdir(empty), 0);
	assert_int_equal(odpt_result_read_dir("/nonexistent-odpt", &res, err, sizeof(err)),
			 -ENOENT);
	odpt_report_destroy(clash);
	odpt_report_destroy(none);
	odpt_report_destroy(r);
	odpt_hist_destroy(a);
}

static void test_json_round_trip(void **state)
{
	static const struct odpt_label la[] = { { "size_bytes", "4096" }, { "mode", "hmm" } };
	struct odpt_hist *a = make_hist(5, 50000, 1, 0.01, 100), *s2 = NULL, *e = NULL, *fine = NULL;
	struct odpt_hist *coarse = NULL;
	struct odpt_report *r = NULL;
	struct odpt_result *res = NULL;
	char path[] = "/tmp/odpt-test-compare-XXXXXX", err[512], key[256];
	int fd;

	/* out-of-range samples, a second layout and an empty series */
	odpt_hist_record(a, 0);
	odpt_hist_record(a, ODPT_HIST_HIGHEST_NS + 1);
	assert_int_equal(odpt_hist_create(1, 1000000000, 2, &s2), 0);
	assert_int_equal(odpt_hist_merge(s2, a, NULL), 0);
	assert_int_equal(odpt_hist_create_default(&e), 0);
	assert_int_equal(odpt_report_create("round trip", &r), 0);
	assert_int_equal(odpt_report_hist(r, "lat_ns", la, 2, a), 0);
	assert_int_equal(odpt_report_hist(r, "lat_ns", NULL, 0, s2), 0);
	assert_int_equal(odpt_report_hist(r, "empty_ns", NULL, 0, e), 0);
	/*
	 * Merged into a finer layout: the 2-figure counter [1499136, 1507327]
	 * is re-recorded at its lowest value, the exact max 1507000 is kept,
	 * so max lies above the last non-empty counter.
	 */
	assert_int_equal(odpt_hist_create(1, 1000000000, 2, &coarse), 0);
	odpt_hist_record(coarse, 1000);
	odpt_hist_record(coarse, 1507000);
	assert_int_equal(odpt_hist_create_default(&fine), 0);
	assert_int_equal(odpt_hist_merge(fine, coarse, NULL), 0);
	assert_int_equal(odpt_hist_max(fine), 1507327);
	assert_int_equal(odpt_report_hist(r, "fine_ns", NULL, 0, fine), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	{
		struct odpt_write_opts wo = { .raw_buckets = true };

		assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, &wo, path), 0);
	}
	assert_int_equal(odpt_result_read(path, &res, err, sizeof(err)), 0);
	unlink(path);
	assert_string_equal(res->command, "round trip");
	assert_int_equal(res->nseries, 4);
	assert_string_equal(res->series[0].name, "lat_ns");
	/* labels come back sorted by key */
	assert_int_equal(res->series[0].nlabels, 2);
	odpt_result_series_key(&res->series[0], key, sizeof(key));
	assert_string_equal(key, "lat_ns{mode=hmm,size_bytes=4096}");
	assert_same_hist(a, res->series[0].h);
	assert_int_equal(res->series[0].h->overflow, 2);
	assert_same_hist(s2, res->series[1].h);
	assert_same_hist(e, res->series[2].h);
	assert_same_hist(fine, res->series[3].h);
	odpt_result_destroy(res);
	odpt_hist_destroy(fine);
	odpt_hist_destroy(coarse);
	odpt_report_destroy(r);
	odpt_hist_destroy(e);
	odpt_hist_destroy(s2);
	odpt_hist_destroy(a);
}

/* A file with one series: value 1000 x n1 (or as given). */
static char *one_series_json(const char *extra_top, const char *series_body)
{
	char *s = NULL;

	assert_true(asprintf(&s,
		"{\"schema_version\": 1, \"tool\": {\"name\": \"odpt\", \"version\": \"x\"},%s"
		" \"series\": [{\"name\": \"lat_ns\", %s}]}", extra_top, series_body) > 0);
	return s;
}

#define LAYOUT "\"layout\": {\"lowest_ns\": 1, \"highest_ns\": 3600000000000, " \
	       "\"sig_figs\": 3, \"counts_len\": 33792}"

static void expect_bad(const char *text, int want, const char *msg)
{
	struct odpt_result *res = NULL;
	char err[512] = "";

	assert_int_equal(odpt_result_parse(text, &res, err, sizeof(err)), want);
	assert_null(res);
	if (!strstr(err, msg))
		fail_msg("error '%s' lacks '%s'", err, msg);
	assert_null(strchr(err, '\n'));
}

static void test_bad_input(void **state)
{
	char *t;

	expect_bad("hello", -EINVAL, "not JSON");
	expect_bad("{\"schema_version\": 1", -EINVAL, "not JSON");
	expect_bad("{} {}", -EINVAL, "not JSON");
	expect_bad("[1, 2]", -EINVAL, "not an odpt JSON result");
	expect_bad("{\"schema_version\": 1, \"tool\": {\"name\": \"fio\"}}", -EINVAL,
		   "--raw-buckets");
	expect_bad("{\"schema_version\": 2, \"tool\": {\"name\": \"odpt\"}, \"series\": []}",
		   -EPROTO, "schema_version 2, this odpt reads 1");
	expect_bad("{\"schema_version\": 1, \"tool\": {\"name\": \"odpt\"}, \"series\": []}",
		   -ENODATA, "no latency series");

	t = one_series_json("", "\"count\": 1, " LAYOUT);
	expect_bad(t, -ENODATA, "has no raw buckets (write results with: odpt --format=json --raw-buckets");
	free(t);
	t = one_series_json("", "\"count\": 1, \"buckets\": []");
	expect_bad(t, -EINVAL, "no layout");
	free(t);
	/* count disagrees with the buckets */
	t = one_series_json("", "\"count\": 3, " LAYOUT ", \"buckets\": [{\"index\": 1000, "
			    "\"lowest_ns\": 1000, \"highest_ns\": 1000, \"count\": 2}]");
	expect_bad(t, -EINVAL, "buckets hold 2 samples, count says 3");
	free(t);
	/* a bucket whose bounds do not match its index in this layout */
	t = one_series_json("", "\"count\": 2, " LAYOUT ", \"buckets\": [{\"index\": 1000, "
			    "\"lowest_ns\": 1001, \"highest_ns\": 1001, \"count\": 2}]");
	expect_bad(t, -EINVAL, "does not fit the layout");
	free(t);
	t = one_series_json("", "\"count\": 2, " LAYOUT ", \"buckets\": [{\"index\": 40000, "
			    "\"lowest_ns\": 1, \"highest_ns\": 1, \"count\": 2}]");
	expect_bad(t, -EINVAL, "does not fit the layout");
	free(t);
	t = one_series_json("", "\"count\": 2, \"layout\": {\"lowest_ns\": 1, \"highest_ns\": 3600000000000, "
			    "\"sig_figs\": 3, \"counts_len\": 4608}, \"buckets\": []");
	expect_bad(t, -EINVAL, "counts_len 4608 does not match");
	free(t);
	t = one_series_json("", "\"count\": 2, \"layout\": {\"lowest_ns\": 1, \"highest_ns\": 3600000000000, "
			    "\"sig_figs\": 9, \"counts_len\": 4608}, \"buckets\": []");
	expect_bad(t, -EINVAL, "sig_figs 9 outside 1..5");
	free(t);
	t = one_series_json("", "\"count\": -2, " LAYOUT ", \"buckets\": []");
	expect_bad(t, -EINVAL, "no count");
	free(t);
	t = one_series_json("", "\"count\": 2, \"min_ns\": 5, " LAYOUT ", \"buckets\": [{\"index\": 1000, "
			    "\"lowest_ns\": 1000, \"highest_ns\": 1000, \"count\": 2}]");
	expect_bad(t, -EINVAL, "min_ns 5 is not in the first bucket");
	free(t);
	/* the same name and labels twice cannot be matched */
	{
		char *s = NULL;

		assert_true(asprintf(&s, "{\"schema_version\": 1, \"tool\": {\"name\": \"odpt\"}, "
				     "\"series\": [{\"name\": \"x\", \"labels\": {\"a\": \"1\", \"b\": \"2\"}, "
				     "\"count\": 0, " LAYOUT ", \"buckets\": []}, {\"name\": \"x\", "
				     "\"labels\": {\"b\": \"2\", \"a\": \"1\"}, \"count\": 0, " LAYOUT
				     ", \"buckets\": []}]}") > 0);
		expect_bad(s, -EINVAL, "series x{a=1,b=2} appears twice");
		free(s);
	}
}

/*
 * Every prefix of a valid file, and the file with each byte replaced in
 * turn by characters that matter to JSON, is either read or refused with a
 * message: never a crash, a leak (ASan builds) or a silent success on a
 * truncated file.
 */
static void test_reader_mangled(void **state)
{
	static const char subst[] = { '"', '{', '}', '[', ']', ',', ':', '-', '9', ' ', 'x', '\0' };
	static const struct odpt_label l[] = { { "mode", "hmm" } };
	static const uint64_t v[] = { 5, 700, 3000, 3000, 90000 };
	struct odpt_hist *h = from_values(v, 5);
	struct odpt_report *r = NULL;
	struct odpt_result *res = NULL;
	char *text, *copy, err[512];
	size_t len, i, k;
	int ret;

	assert_int_equal(odpt_report_create("mangle", &r), 0);
	assert_int_equal(odpt_report_hist(r, "lat_ns", l, 1, h), 0);
	text = render(r, ODPT_FMT_JSON, true);
	len = strlen(text);
	copy = malloc(len + 1);
	assert_non_null(copy);
	assert_int_equal(odpt_result_parse(text, &res, err, sizeof(err)), 0);
	odpt_result_destroy(res);
	for (i = 0; i + 2 < len; i++) {
		memcpy(copy, text, i);
		copy[i] = '\0';
		res = NULL;
		ret = odpt_result_parse(copy, &res, err, sizeof(err));
		if (!ret)
			fail_msg("a %zu-byte prefix of a %zu-byte file was read", i, len);
		assert_null(res);
		assert_true(err[0] != '\0');
	}
	for (i = 0; i < len; i++) {
		for (k = 0; k < sizeof(subst); k++) {
			memcpy(copy, text, len + 1);
			copy[i] = subst[k];
			res = NULL;
			ret = odpt_result_parse(copy, &res, err, sizeof(err));
			if (ret) {
				assert_null(res);
				assert_true(err[0] != '\0');
				assert_null(strchr(err, '\n'));
			} else {
				/* what was read is self-consistent */
				assert_int_equal(res->nseries, 1);
				odpt_result_destroy(res);
			}
		}
	}
	free(copy);
	free(text);
	odpt_report_destroy(r);
	odpt_hist_destroy(h);
}

static void test_read_file_errors(void **state)
{
	struct odpt_result *res = NULL;
	char err[512];

	assert_int_equal(odpt_result_read("/nonexistent-odpt/x.json", &res, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "cannot read /nonexistent-odpt/x.json"));
	assert_int_equal(odpt_result_read("/dev/null", &res, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/dev/null: not JSON"));
	assert_null(res);
}

/* ---- The report ------------------------------------------------------- */

static struct odpt_result *result_of(struct odpt_report *r)
{
	struct odpt_result *res = NULL;
	char *text = render(r, ODPT_FMT_JSON, true), err[512];

	if (odpt_result_parse(text, &res, err, sizeof(err)))
		fail_msg("%s", err);
	free(text);
	return res;
}

static void test_compare_results_report(void **state)
{
	static const struct odpt_label l1[] = { { "mode", "hmm" } };
	static const struct odpt_label l2[] = { { "mode", "page" } };
	struct odpt_hist *a = make_hist(1, 10000, 1, 0, 1), *slow = make_hist(2, 10000, 1.3, 0, 1);
	struct odpt_hist *same = make_hist(3, 10000, 1, 0, 1);
	struct odpt_report *rb = NULL, *rn = NULL, *out = NULL;
	struct odpt_result *base, *new_r;
	struct odpt_compare_summary sum;
	struct odpt_compare_opts o;
	char *txt;

	assert_int_equal(odpt_report_create("base run", &rb), 0);
	assert_int_equal(odpt_report_create("new run", &rn), 0);
	assert_int_equal(odpt_report_hist(rb, "lat_ns", l1, 1, a), 0);
	assert_int_equal(odpt_report_hist(rb, "lat_ns", l2, 1, a), 0);
	assert_int_equal(odpt_report_hist(rb, "gone_ns", NULL, 0, a), 0);
	assert_int_equal(odpt_report_hist(rn, "lat_ns", l2, 1, same), 0);
	assert_int_equal(odpt_report_hist(rn, "lat_ns", l1, 1, slow), 0);
	assert_int_equal(odpt_report_hist(rn, "added_ns", NULL, 0, a), 0);
	base = result_of(rb);
	new_r = result_of(rn);

	defaults(&o);
	assert_int_equal(odpt_report_create("compare", &out), 0);
	assert_int_equal(odpt_compare_results(base, new_r, &o, out, &sum), 0);
	assert_int_equal(sum.regressed, 1);
	assert_int_equal(sum.improved, 0);
	assert_int_equal(sum.no_change, 1);
	assert_int_equal(sum.only_base, 1);
	assert_int_equal(sum.only_new, 1);

	txt = render(out, ODPT_FMT_TABLE, false);
	assert_non_null(strstr(txt, "lat_ns{mode=hmm,side=base}"));
	assert_non_null(strstr(txt, "lat_ns{mode=hmm,side=new}"));
	assert_non_null(strstr(txt, "FAIL  lat_ns{mode=hmm}"));
	assert_non_null(strstr(txt, "regressed: p"));
	assert_non_null(strstr(txt, "SKIP  gone_ns"));
	assert_non_null(strstr(txt, "only in base"));
	assert_non_null(strstr(txt, "only in new"));
	assert_non_null(strstr(txt, "delta_p99_pct{series=lat_ns,mode=hmm}"));
	assert_non_null(strstr(txt, "\nsummary: REGRESSION: 1 regressed, 0 improved, 1 no change; "
				    "1 only in base, 1 only in new\n"));
	free(txt);
	txt = render(out, ODPT_FMT_JSON, false);
	assert_non_null(strstr(txt, "\"summary\": {\"result\": \"regression\", \"text\": \"REGRESSION: 1 regressed"));
	free(txt);
	txt = render(out, ODPT_FMT_CSV, false);
	assert_non_null(strstr(txt, "\nsummary,,,,,,,,,,,,,,,regression,\"REGRESSION: 1 regressed"));
	assert_non_null(strstr(txt, "\ntest,lat_ns{mode=hmm},"));
	free(txt);
	txt = render(out, ODPT_FMT_TAP, false);
	assert_non_null(strstr(txt, "# summary: REGRESSION"));
	assert_non_null(strstr(txt, "not ok 1 lat_ns{mode=hmm}"));
	free(txt);
	odpt_report_destroy(out);

	/* the new run against itself: nothing regressed */
	assert_int_equal(odpt_report_create("compare", &out), 0);
	assert_int_equal(odpt_compare_results(new_r, new_r, &o, out, &sum), 0);
	assert_int_equal(sum.regressed + sum.improved + sum.only_base + sum.only_new, 0);
	assert_int_equal(sum.no_change, 3);
	txt = render(out, ODPT_FMT_TABLE, false);
	assert_non_null(strstr(txt, "summary: no regression: 0 regressed"));
	free(txt);
	odpt_report_destroy(out);

	odpt_result_destroy(base);
	odpt_result_destroy(new_r);
	odpt_report_destroy(rb);
	odpt_report_destroy(rn);
	odpt_hist_destroy(a);
	odpt_hist_destroy(slow);
	odpt_hist_destroy(same);
}

/* Series matched across runs: present in some runs only, listed once. */
static void test_compare_runs_report(void **state)
{
	struct odpt_hist *a = make_hist(1, 3000, 1, 0, 1), *a2 = make_hist(2, 3000, 1, 0, 1);
	struct odpt_report *rb[2] = { NULL }, *rn[2] = { NULL }, *out = NULL;
	struct odpt_result *base[2], *new_r[2];
	struct odpt_compare_summary sum;
	struct odpt_compare_opts o;
	char *txt;
	int k;

	for (k = 0; k < 2; k++) {
		assert_int_equal(odpt_report_create("run", &rb[k]), 0);
		assert_int_equal(odpt_report_create("run", &rn[k]), 0);
		assert_int_equal(odpt_report_hist(rb[k], "lat_ns", NULL, 0, k ? a2 : a), 0);
		assert_int_equal(odpt_report_hist(rn[k], "lat_ns", NULL, 0, k ? a : a2), 0);
	}
	/* in base run 2 only; in both new runs but no base run */
	assert_int_equal(odpt_report_hist(rb[1], "late_ns", NULL, 0, a), 0);
	assert_int_equal(odpt_report_hist(rn[0], "added_ns", NULL, 0, a), 0);
	assert_int_equal(odpt_report_hist(rn[1], "added_ns", NULL, 0, a), 0);
	for (k = 0; k < 2; k++) {
		base[k] = result_of(rb[k]);
		new_r[k] = result_of(rn[k]);
	}
	defaults(&o);
	assert_int_equal(odpt_report_create("compare", &out), 0);
	assert_int_equal(odpt_compare_runs((const struct odpt_result *const *)base, 2,
					   (const struct odpt_result *const *)new_r, 2,
					   &o, out, &sum), 0);
	assert_int_equal(sum.no_change, 1);
	assert_int_equal(sum.only_base, 1);
	assert_int_equal(sum.only_new, 1);
	assert_int_equal(sum.regressed + sum.improved, 0);
	txt = render(out, ODPT_FMT_TABLE, false);
	/* the same pooled samples on both sides */
	assert_non_null(strstr(txt, "lat_ns{side=base}    6000"));
	assert_non_null(strstr(txt, "lat_ns{side=new}     6000"));
	assert_non_null(strstr(txt, "base_runs{series=lat_ns}"));
	assert_non_null(strstr(txt, "SKIP  late_ns"));
	assert_non_null(strstr(txt, "SKIP  added_ns"));
	assert_null(strstr(strstr(txt, "SKIP  added_ns") + 1, "SKIP  added_ns"));
	free(txt);
	odpt_report_destroy(out);
	for (k = 0; k < 2; k++) {
		odpt_result_destroy(base[k]);
		odpt_result_destroy(new_r[k]);
		odpt_report_destroy(rb[k]);
		odpt_report_destroy(rn[k]);
	}
	odpt_hist_destroy(a);
	odpt_hist_destroy(a2);
}

/* One report of each verdict, pinned in every tabular format. */
static void test_golden_compare(void **state)
{
	static const struct odpt_label lh[] = { { "mode", "hmm" } };
	static const struct odpt_label lp[] = { { "mode", "page" } };
	struct odpt_hist *a = make_hist(1, 2000, 1, 0, 1), *slow = make_hist(2, 2000, 1.1, 0, 1);
	struct odpt_hist *same = make_hist(3, 2000, 1, 0, 1), *few = make_hist(4, 20, 1, 0, 1);
	struct odpt_report *rb = NULL, *rn = NULL, *out = NULL;
	struct odpt_result *base, *new_r;
	struct odpt_compare_summary sum;
	struct odpt_compare_opts o;
	char *txt;

	assert_int_equal(odpt_report_create("base", &rb), 0);
	assert_int_equal(odpt_report_create("new", &rn), 0);
	assert_int_equal(odpt_report_hist(rb, "lat_ns", lh, 1, a), 0);
	assert_int_equal(odpt_report_hist(rb, "lat_ns", lp, 1, a), 0);
	assert_int_equal(odpt_report_hist(rb, "setup_ns", NULL, 0, few), 0);
	assert_int_equal(odpt_report_hist(rb, "gone_ns", NULL, 0, a), 0);
	assert_int_equal(odpt_report_hist(rn, "lat_ns", lh, 1, slow), 0);
	assert_int_equal(odpt_report_hist(rn, "lat_ns", lp, 1, same), 0);
	assert_int_equal(odpt_report_hist(rn, "setup_ns", NULL, 0, few), 0);
	base = result_of(rb);
	new_r = result_of(rn);
	defaults(&o);
	assert_int_equal(odpt_report_create("compare", &out), 0);
	odpt_report_set_stable(out, true);
	assert_int_equal(odpt_compare_results(base, new_r, &o, out, &sum), 0);
	txt = render(out, ODPT_FMT_TABLE, false);
	unit_check_golden("compare.txt", txt);
	free(txt);
	txt = render(out, ODPT_FMT_JSON, false);
	unit_check_golden("compare.json", txt);
	free(txt);
	txt = render(out, ODPT_FMT_CSV, false);
	unit_check_golden("compare.csv", txt);
	free(txt);
	odpt_report_destroy(out);
	odpt_result_destroy(base);
	odpt_result_destroy(new_r);
	odpt_report_destroy(rb);
	odpt_report_destroy(rn);
	odpt_hist_destroy(a);
	odpt_hist_destroy(slow);
	odpt_hist_destroy(same);
	odpt_hist_destroy(few);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwu_hand_example),
		cmocka_unit_test(test_qtest_hand_example),
		cmocka_unit_test(test_mwu_degenerate),
		cmocka_unit_test(test_identical_no_change),
		cmocka_unit_test(test_null_calibration),
		cmocka_unit_test(test_same_distribution_no_change),
		cmocka_unit_test(test_shift_regressed),
		cmocka_unit_test(test_small_shift_below_threshold),
		cmocka_unit_test(test_too_few_samples),
		cmocka_unit_test(test_tail_only_metric),
		cmocka_unit_test(test_mixed_worse_tail_wins),
		cmocka_unit_test(test_different_layouts),
		cmocka_unit_test(test_runs_must_agree),
		cmocka_unit_test(test_parse_metrics_and_opts),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_reader_mangled),
		cmocka_unit_test(test_read_file_errors),
		cmocka_unit_test(test_read_dir),
		cmocka_unit_test(test_compare_results_report),
		cmocka_unit_test(test_compare_runs_report),
		cmocka_unit_test(test_golden_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
