// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt merge RESULT... -o OUT`: many odpt JSON results (hosts of a fleet,
 * repeated runs) into one, exactly: histograms added bucket by bucket,
 * tests merged by name with every input's outcome
 * (include/odpt/merge.h). The merge is written as odpt JSON with raw
 * buckets, which odpt compare and odpt merge read again, unless --format
 * or -j asks for another rendering. Exit 0: merged; 1: a merged test
 * failed (or the output could not be written); 2: bad usage or an input
 * that cannot be merged, in one line naming the file.
 */
#include <errno.h>
#include <string.h>

#include "odpt/merge.h"
#include "odpt/log.h"
#include "cli.h"

#define MAX_INPUTS 4096

struct merge_cfg {
	const char *output;
};

static const struct odpt_opt merge_opts[] = {
	{ .name = "output", .short_name = 'o', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct merge_cfg, output), .metavar = "FILE",
	  .help = "write the merge to FILE (as the global -o; '-': stdout)" },
	ODPT_OPT_END,
};

static int run_merge(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_cli out = *cli;
	struct odpt_report *r = NULL;
	struct merge_cfg cfg;
	char err[1024];
	int npos, code, ret;

	ret = odpt_opts_parse(merge_opts, &cfg, argc, argv, &npos);
	if (ret == -EAGAIN)
		return ODPT_EXIT_OK;
	if (!ret && !npos)
		odpt_usage_err("odpt: merge needs at least one result file\n");
	if (ret || !npos) {
		odpt_usage_err("\nusage: odpt [GLOBAL-OPTIONS] merge RESULT... [-o OUT]\nmerge options:\n");
		odpt_opts_usage(merge_opts);
		return ODPT_EXIT_USAGE;
	}
	if (npos > MAX_INPUTS) {
		odpt_usage_err("odpt: merge: more than %d results\n", MAX_INPUTS);
		return ODPT_EXIT_USAGE;
	}
	if (cfg.output && cli->output) {
		odpt_usage_err("odpt: merge: -o given twice (%s and %s)\n", cli->output, cfg.output);
		return ODPT_EXIT_USAGE;
	}
	if (cfg.output)
		out.output = cfg.output;
	/* A merge is for reading again: JSON with every bucket by default. */
	if (!out.format && !out.json)
		out.json = true;
	out.raw_buckets = true;

	ret = odpt_merge_files((const char *const *)argv, npos, &r, err, sizeof(err));
	if (ret == -ENOMEM) {
		odpt_err("out of memory");
		return ODPT_EXIT_FAIL;
	}
	if (ret) {
		odpt_usage_err("odpt: merge: %s\n", err);
		return ODPT_EXIT_USAGE;
	}
	odpt_report_set_stable(r, cli->stable);
	code = odpt_cli_report_finish(&out, r);
	odpt_report_destroy(r);
	return code;
}

static const struct odpt_verb merge_verbs[] = {
	{ .name = "files", .run = run_merge, .opts = merge_opts, .args = "RESULT...",
	  .summary = "merge odpt JSON results (written with --raw-buckets) into one" },
	{ .name = NULL },
};

const struct odpt_object odpt_obj_merge = {
	.name = "merge",
	.summary = "many results (hosts, runs) into one: histograms bucket by bucket, tests by name",
	.verbs = merge_verbs,
	.default_verb = "files",
	.args_usage = "RESULT... [-o OUT]",
	.description =
		"Each RESULT is an odpt JSON result written with --raw-buckets, all of one\n"
		"command (odpt -j --raw-buckets -o host1.json hist check, on each host).\n"
		"Series are matched by name and labels and added bucket by bucket: the merged\n"
		"histogram is the one that would have recorded every input's samples, so its\n"
		"percentiles are those of all samples together. Every input's own series\n"
		"follows the merged one, labelled input=RESULT (and host=HOST). Tests are\n"
		"matched by name: the merged outcome is the worst (fail, xpass, xfail, pass,\n"
		"skip) and each input's outcome is listed with it. Scalars are kept per input.\n"
		"A series recorded with another histogram layout (range, significant figures)\n"
		"in another input is refused (exit 2), as are results of different commands or\n"
		"schema versions and files that are not odpt JSON: a merge is always exact.\n"
		"The merge is written as JSON with raw buckets, for odpt compare and odpt merge,\n"
		"unless --format (given before merge) asks for another rendering.\n",
};
