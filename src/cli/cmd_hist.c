// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt hist`: the self-check of the measuring instruments every other
 * result depends on. `check` (the default) reports the clock's source,
 * overhead and resolution, the distribution of back-to-back timer reads and
 * the cost of one histogram record, and runs quick self-tests of clock and
 * histogram (exit 1 if one fails). `bench` records 10^8 values and reports
 * ns per record (target: <= 3 ns), per single and batch percentile query
 * and per merge, and with --hdr-lib the same on HdrHistogram_c with the
 * ratios. The engines are in src/lib/bench/selftest.c and hist_bench.c.
 */
#include <errno.h>

#include "odpt/bench.h"
#include "cli.h"

static const struct odpt_opt check_opts[] = {
	{ .name = "samples", .short_name = 'n', .type = ODPT_OPT_U64,
	  .offset = offsetof(struct odpt_bench_hist_check_cfg, samples), .def = "1000000",
	  .min = 1000, .max = 1000000000, .metavar = "N",
	  .help = "back-to-back timer reads to histogram" },
	{ .name = "records", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct odpt_bench_hist_check_cfg, records), .def = "10000000",
	  .min = 1000, .max = 10000000000ULL, .metavar = "N",
	  .help = "histogram records timed for the per-record cost" },
	ODPT_OPT_END,
};

static const struct odpt_opt bench_opts[] = {
	{ .name = "count", .short_name = 'n', .type = ODPT_OPT_U64,
	  .offset = offsetof(struct odpt_bench_hist_cfg, count), .def = "100000000",
	  .min = 1000, .max = 100000000000ULL, .metavar = "N",
	  .help = "values to record" },
	{ .name = "queries", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct odpt_bench_hist_cfg, queries), .def = "10000",
	  .min = 1, .max = 100000000, .metavar = "N",
	  .help = "percentile queries to time" },
	{ .name = "sig-figs", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct odpt_bench_hist_cfg, sig_figs), .def = "3",
	  .min = 1, .max = 5, .metavar = "S",
	  .help = "significant figures of the histogram" },
	{ .name = "hdr-lib", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct odpt_bench_hist_cfg, hdr_lib), .metavar = "PATH",
	  .help = "also time a user-built HdrHistogram_c shared library (dlopen)" },
	ODPT_OPT_END,
};

static int run_check(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_bench_hist_check_cfg cfg;
	struct odpt_report *r = NULL;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_hist.verbs[0], &cfg, argc, argv, &code))
		return code;
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("hist check", check_opts, &cfg, &r) &&
	    !odpt_bench_hist_check(&cfg, r))
		code = odpt_cli_report_finish(cli, r);
	odpt_report_destroy(r);
	return code;
}

static int run_bench(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_bench_hist_cfg cfg;
	struct odpt_report *r = NULL;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_hist.verbs[1], &cfg, argc, argv, &code))
		return code;
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("hist bench", bench_opts, &cfg, &r)) {
		int ret = odpt_bench_hist(&cfg, r);

		if (!ret)
			code = odpt_cli_report_finish(cli, r);
		else if (ret == -ELIBBAD)   /* --hdr-lib did not load */
			code = ODPT_EXIT_USAGE;
	}
	odpt_report_destroy(r);
	return code;
}

static const struct odpt_verb hist_verbs[] = {
	{ .name = "check", .run = run_check, .opts = check_opts,
	  .summary = "clock source, overhead and resolution; record cost; self-tests" },
	{ .name = "bench", .run = run_bench, .opts = bench_opts,
	  .summary = "record 10^8 values: ns per record, percentile query and merge" },
	{ .name = NULL },
};

const struct odpt_object odpt_obj_hist = {
	.name = "hist",
	.summary = "self-check and microbenchmark of the histogram and the clock",
	.verbs = hist_verbs,
	.default_verb = "check",
};
