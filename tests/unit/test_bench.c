// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The bench layer without the CLI: the clock and histogram self-check fills
 * a report with the series, figures and passing tests `odpt hist check`
 * promises (names pinned: tools/lab/summarize.py reads them), the histogram
 * benchmark records exactly the values asked for and reports its query and
 * merge figures (and -ELIBBAD for an --hdr-lib that is not HdrHistogram_c,
 * before any figure), and the shim engines return -ENOENT without
 * /dev/odpt_hmm rather than half a report.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/bench.h"
#include "odpt/clock.h"
#include "report_int.h"

static const struct odpt_rscalar *find_scalar(const struct odpt_report *r, const char *name)
{
	for (int i = 0; i < r->nscalars; i++)
		if (!strcmp(r->scalars[i].name, name))
			return &r->scalars[i];
	return NULL;
}

static int count_scalars(const struct odpt_report *r, const char *name)
{
	int i, n = 0;

	for (i = 0; i < r->nscalars; i++)
		n += !strcmp(r->scalars[i].name, name);
	return n;
}

static const struct odpt_rseries *find_series(const struct odpt_report *r, const char *name)
{
	for (int i = 0; i < r->nseries; i++)
		if (!strcmp(r->series[i].name, name))
			return &r->series[i];
	return NULL;
}

static void hist_check_fills_report(void **state)
{
	static const char *const tests[] = {
		"clock_monotonic", "clock_rate_matches_monotonic_raw",
		"hist_error_bound", "hist_percentiles",
	};
	static const char *const figures[] = {
		"timer_overhead_ns", "timer_resolution_ns", "record_ns", "record_best_ns",
		"record_target_ns", "percentile_query_ns", "hist_bytes",
	};
	struct odpt_bench_hist_check_cfg cfg = { .samples = 1000, .records = 1000 };
	const struct odpt_rseries *s;
	struct odpt_report *r;
	size_t i;

	(void)state;
	assert_int_equal(odpt_clock_init(-1), 0);
	assert_int_equal(odpt_report_create("hist check", &r), 0);
	assert_int_equal(odpt_bench_hist_check(&cfg, r), 0);
	s = find_series(r, "timer_back_to_back_ns");
	assert_non_null(s);
	assert_int_equal(odpt_hist_count(s->h), 1000);
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		assert_non_null(find_scalar(r, figures[i]));
	assert_int_equal(r->ntests, 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(r->tests[i].name, tests[i]);
		assert_int_equal(r->tests[i].result, ODPT_PASS);
	}
	odpt_report_destroy(r);
}

static void hist_bench_records_count(void **state)
{
	struct odpt_bench_hist_cfg cfg = { .count = 5000, .queries = 10, .sig_figs = 2 };
	const struct odpt_rscalar *sc;
	const struct odpt_rseries *s;
	struct odpt_report *r;

	(void)state;
	assert_int_equal(odpt_clock_init(-1), 0);
	assert_int_equal(odpt_report_create("hist bench", &r), 0);
	assert_int_equal(odpt_bench_hist(&cfg, r), 0);
	sc = find_scalar(r, "records");
	assert_non_null(sc);
	assert_true(sc->value == 5000);
	s = find_series(r, "bench_values_ns");
	assert_non_null(s);
	assert_int_equal(odpt_hist_count(s->h), 5000);
	assert_true(odpt_hist_min(s->h) >= 100);   /* make_values(): 100 ns .. 10 ms */
	assert_int_equal(r->ntests, 0);
	/* 5 single queries and a batch on 2 distributions, 3 merges, no ratio */
	assert_int_equal(count_scalars(r, "query_ns"), 10);
	assert_int_equal(count_scalars(r, "batch_query_ns"), 2);
	assert_int_equal(count_scalars(r, "merge_ns"), 3);
	assert_int_equal(count_scalars(r, "query_ratio"), 0);
	sc = find_scalar(r, "merge_ns");
	assert_string_equal(sc->labels.v[0].value, "empty");
	assert_true(sc->value > 0);
	odpt_report_destroy(r);

	/* Not an HdrHistogram_c library: an error, and nothing reported. */
	cfg.hdr_lib = "libm.so.6";
	assert_int_equal(odpt_report_create("hist bench", &r), 0);
	assert_int_equal(odpt_bench_hist(&cfg, r), -ELIBBAD);
	assert_int_equal(r->nscalars + r->nseries, 0);
	odpt_report_destroy(r);
	cfg.hdr_lib = "/nonexistent/libhdr_histogram.so";
	assert_int_equal(odpt_report_create("hist bench", &r), 0);
	assert_int_equal(odpt_bench_hist(&cfg, r), -ELIBBAD);
	odpt_report_destroy(r);
}

static void shim_engines_need_the_device(void **state)
{
	struct odpt_bench_shim_cfg bc = { .sizes = { 4096 }, .nsizes = 1,
					  .modes = { ODPT_HMM_MODE_HMM }, .nmodes = 1, .warm = 1 };
	struct odpt_bench_verify_cfg vc = { .modes = { ODPT_HMM_MODE_HMM }, .nmodes = 1,
					    .pages = 2, .sample = 1 };
	struct odpt_bench_flags_cfg fc = { .size = 4096, .touch = ODPT_BENCH_TOUCH_WRITE,
					   .mode = ODPT_HMM_MODE_HMM };
	struct odpt_report *r;

	(void)state;
	if (!access(ODPT_HMM_DEV_PATH, F_OK))
		skip();   /* the module is loaded here: the lab tests it */
	assert_int_equal(odpt_report_create("shim", &r), 0);
	assert_int_equal(odpt_bench_shim_status(r), -ENOENT);
	assert_int_equal(odpt_bench_shim(&bc, r), -ENOENT);
	assert_int_equal(odpt_bench_shim_verify(&vc, r), -ENOENT);
	assert_int_equal(odpt_bench_shim_flags(&fc, r), -ENOENT);
	assert_int_equal(r->nseries + r->nscalars + r->ntests + r->nsections, 0);
	odpt_report_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_check_fills_report),
		cmocka_unit_test(hist_bench_records_count),
		cmocka_unit_test(shim_engines_need_the_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
