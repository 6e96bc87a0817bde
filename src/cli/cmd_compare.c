// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt compare BASE NEW`: says whether a change regressed. Reads odpt JSON
 * results written with --raw-buckets, or two directories of them such as
 * two lab results directories (series then also matched by their file's
 * path in the directory; BASE and NEW may each be several runs,
 * comma-separated), compares every series present on both sides
 * (include/odpt/compare.h: a quantile test over the buckets plus a
 * percentile threshold, and with repeated runs their agreement) and
 * renders the outcome through the report writers. Exit 0: no series regressed; 1: at least one regressed (or the
 * output could not be written); 2: bad usage or a file odpt cannot compare,
 * or directories whose common series all lack raw buckets, with one line
 * saying how to produce a valid one.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "odpt/compare.h"
#include "odpt/log.h"
#include "cli.h"

#define MAX_RUNS 64

struct compare_cfg {
	const char *threshold_pct;
	const char *alpha;
	const char *metric;
	uint64_t min_samples;
};

static const struct odpt_opt compare_opts[] = {
	{ .name = "threshold-pct", .short_name = 't', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct compare_cfg, threshold_pct), .def = "5",
	  .metavar = "P",
	  .help = "practical significance: a chosen percentile must move by more than P % (0..1000)" },
	{ .name = "alpha", .short_name = 'a', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct compare_cfg, alpha), .def = "0.01",
	  .metavar = "A",
	  .help = "statistical significance: the quantile test's two-sided p at a --metric percentile must be below A / (number of --metric percentiles) (0 < A <= 0.5; Mann-Whitney is reported, does not decide)" },
	{ .name = "metric", .short_name = 'm', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct compare_cfg, metric), .def = "p50,p99",
	  .metavar = "LIST",
	  .help = "percentiles that decide, from p50,p90,p99,p99.9 (all four are reported)" },
	{ .name = "min-samples", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct compare_cfg, min_samples), .def = "30",
	  .min = 2, .max = 1000000000000ULL, .metavar = "N",
	  .help = "samples needed on each side for a verdict" },
	ODPT_OPT_END,
};

static void usage_tail(void)
{
	odpt_usage_err("\nusage: odpt [GLOBAL-OPTIONS] compare BASE.json[,...] NEW.json[,...] [OPTIONS]\n"
		       "       odpt [GLOBAL-OPTIONS] compare BASE-DIR[,...] NEW-DIR[,...] [OPTIONS]\n"
		       "compare options:\n");
	odpt_opts_usage(compare_opts);
}

/* A finite number in [lo, hi] (lo excluded when lo_open). */
static bool parse_num(const char *opt, const char *s, double lo, bool lo_open,
		      double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || *end || errno || !isfinite(v) || v > hi ||
	    (lo_open ? v <= lo : v < lo)) {
		odpt_usage_err("odpt: compare: --%s: '%s' is not a number in %s%g..%g%s\n",
			       opt, s ? s : "", lo_open ? "(" : "[", lo, hi, "]");
		return false;
	}
	*out = v;
	return true;
}

/* 1: a directory, 0: anything else (a missing file is reported when read). */
static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/*
 * Read the comma-separated files or directories of one side; exit code, 0
 * on success. *dirs counts the directories, so files and directories are
 * not mixed: their series could never match (a directory's carry a file
 * label).
 */
static int read_side(const char *list, struct odpt_result **res, int *n, int *dirs)
{
	char *copy = strdup(list), *save = NULL, *path, err[640];
	int ret = 0;

	*n = 0;
	*dirs = 0;
	if (!copy) {
		odpt_err("out of memory");
		return ODPT_EXIT_FAIL;
	}
	for (path = strtok_r(copy, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_RUNS) {
			odpt_usage_err("odpt: compare: more than %d runs in '%s'\n", MAX_RUNS, list);
			ret = ODPT_EXIT_USAGE;
			break;
		}
		if (is_dir(path)) {
			ret = odpt_result_read_dir(path, &res[*n], err, sizeof(err));
			++*dirs;
		} else {
			ret = odpt_result_read(path, &res[*n], err, sizeof(err));
		}
		if (ret == -ENOMEM) {
			odpt_err("out of memory reading %s", path);
			ret = ODPT_EXIT_FAIL;
			break;
		}
		if (ret) {
			/* Bad input files are usage errors: one line, exit 2. */
			odpt_usage_err("odpt: compare: %s\n", err);
			ret = ODPT_EXIT_USAGE;
			break;
		}
		(*n)++;
	}
	if (!ret && !*n) {
		odpt_usage_err("odpt: compare: no file in '%s'\n", list);
		ret = ODPT_EXIT_USAGE;
	}
	if (!ret && *dirs && *dirs != *n) {
		odpt_usage_err("odpt: compare: '%s' mixes files and directories; give files or directories\n",
			       list);
		ret = ODPT_EXIT_USAGE;
	}
	free(copy);
	return ret;
}

/*
 * Bench results of two scenarios share series names (fault_lat_ns is in
 * both fault and warm) but not what they time: comparing them is a usage
 * error, not a series-by-series verdict. The same for runs of one side.
 */
static bool scenario_mismatch(struct odpt_result *const *a, int na,
			      struct odpt_result *const *b, int nb)
{
	const char *first = a[0]->command ? a[0]->command : "";
	bool bench = false;

	for (int i = 0; i < na + nb; i++) {
		const char *c = i < na ? a[i]->command : b[i - na]->command;

		bench |= c && !strncmp(c, "bench ", 6);
	}
	for (int i = 0; bench && i < na + nb; i++) {
		const char *c = i < na ? a[i]->command : b[i - na]->command;

		if (strcmp(c ? c : "", first)) {
			odpt_usage_err("odpt: compare: '%s' and '%s' are results of different commands; compare results of one bench scenario\n",
				       first, c ? c : "(none)");
			return true;
		}
	}
	return false;
}

static int run_compare(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_result *base[MAX_RUNS] = { NULL }, *new_r[MAX_RUNS] = { NULL };
	int nbase = 0, nnew = 0, dbase = 0, dnew = 0, k;
	struct odpt_compare_summary sum;
	struct odpt_compare_opts o;
	struct odpt_report *r = NULL;
	struct compare_cfg cfg;
	int npos, ret, code;

	ret = odpt_opts_parse(compare_opts, &cfg, argc, argv, &npos);
	if (ret == -EAGAIN)
		return ODPT_EXIT_OK;
	if (ret) {
		usage_tail();
		return ODPT_EXIT_USAGE;
	}
	if (npos != 2) {
		odpt_usage_err("odpt: compare needs two result files or directories, BASE and NEW (got %d)\n",
			       npos);
		usage_tail();
		return ODPT_EXIT_USAGE;
	}
	odpt_compare_opts_default(&o);
	o.min_samples = cfg.min_samples;
	if (!parse_num("threshold-pct", cfg.threshold_pct, 0, false, 1000, &o.threshold_pct) ||
	    !parse_num("alpha", cfg.alpha, 0, true, 0.5, &o.alpha))
		return ODPT_EXIT_USAGE;
	if (odpt_compare_parse_metrics(cfg.metric, &o.metric_mask)) {
		odpt_usage_err("odpt: compare: --metric: '%s' is not a list of p50, p90, p99, p99.9\n",
			       cfg.metric);
		return ODPT_EXIT_USAGE;
	}

	code = read_side(argv[0], base, &nbase, &dbase);
	if (!code)
		code = read_side(argv[1], new_r, &nnew, &dnew);
	if (!code && !dbase != !dnew) {
		odpt_usage_err("odpt: compare: BASE is %s and NEW %s; compare files with files, directories with directories\n",
			       dbase ? "a directory" : "a file", dnew ? "a directory" : "a file");
		code = ODPT_EXIT_USAGE;
	}
	if (!code && !dbase && scenario_mismatch(base, nbase, new_r, nnew))
		code = ODPT_EXIT_USAGE;
	if (code)
		goto out_results;

	code = ODPT_EXIT_FAIL;
	if (odpt_cli_report_start("compare", compare_opts, &cfg, &r))
		goto out_report;
	if (odpt_report_meta(r, "base", argv[0]) || odpt_report_meta(r, "new", argv[1]) ||
	    (base[0]->command && odpt_report_meta(r, "base_command", base[0]->command)) ||
	    (new_r[0]->command && odpt_report_meta(r, "new_command", new_r[0]->command))) {
		odpt_err("out of memory");
		goto out_report;
	}
	ret = odpt_compare_runs((const struct odpt_result *const *)base, nbase,
				(const struct odpt_result *const *)new_r, nnew, &o, r, &sum);
	if (ret) {
		odpt_err("compare: %s", strerror(-ret));
		goto out_report;
	}
	code = odpt_cli_emit(cli, r);
	if (code == ODPT_EXIT_OK && sum.regressed)
		code = ODPT_EXIT_FAIL;
	/*
	 * Series on both sides, none of them comparable for want of raw
	 * buckets: the same as one file without them, not a quiet exit 0.
	 */
	if (code == ODPT_EXIT_OK && sum.no_buckets &&
	    !(sum.regressed + sum.improved + sum.no_change)) {
		odpt_usage_err("odpt: compare: nothing compared: %u series without raw buckets (write results with: odpt --format=json --raw-buckets -o FILE OBJECT ...)\n",
			       sum.no_buckets);
		code = ODPT_EXIT_USAGE;
	}
out_report:
	odpt_report_destroy(r);
out_results:
	for (k = 0; k < MAX_RUNS; k++) {
		odpt_result_destroy(new_r[k]);
		odpt_result_destroy(base[k]);
	}
	return code;
}

static const struct odpt_verb compare_verbs[] = {
	{ .name = "files", .run = run_compare, .opts = compare_opts,
	  .summary = "compare two odpt JSON results (written with --raw-buckets), or two directories of them (lab results: series matched by file, name and labels)" },
	{ .name = NULL },
};

const struct odpt_object odpt_obj_compare = {
	.name = "compare",
	.summary = "A/B: did NEW regress against BASE? (exit 1 if a series regressed)",
	.verbs = compare_verbs,
	.default_verb = "files",
	.args_usage = "BASE.json[,BASE2.json...] NEW.json[,NEW2.json...] [OPTIONS]\n"
		      "       odpt [GLOBAL-OPTIONS] compare BASE-DIR[,BASE-DIR2...] NEW-DIR[,NEW-DIR2...] [OPTIONS]",
	.description =
		"BASE and NEW are odpt JSON results written with --raw-buckets, or directories\n"
		"of them: two lab results directories (odpt compare results/A results/B).\n"
		"In a directory every odpt JSON result below it is read (summary.json, other\n"
		"JSON, symbolic links skipped) and series match by their file's path in the\n"
		"directory (label file=iommu/shim/shim-bench.json), name and labels. Series on\n"
		"one side only, and series without raw buckets, are listed as skipped with the\n"
		"reason. Comma-separated files or directories are repeated runs of one side.\n",
};
