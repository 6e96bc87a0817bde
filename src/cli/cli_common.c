// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What every odpt command shares: rendering its report in the format the
 * global options chose (stdout, or -o FILE written atomically), parsing a
 * verb's option table into exit codes, and the environment facts every
 * result carries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "odpt_config.h"
#include "odpt/clock.h"
#include "odpt/log.h"
#include "cli.h"

static bool stable_output;
static const char *current_object = "OBJECT";

void odpt_cli_set_stable(bool stable)
{
	stable_output = stable;
}

void odpt_cli_set_object(const char *name)
{
	current_object = name;
}

int odpt_cli_emit(const struct odpt_cli *cli, const struct odpt_report *r)
{
	struct odpt_write_opts o = { .raw_buckets = cli->raw_buckets };
	enum odpt_format f = ODPT_FMT_TABLE;
	int ret;

	if (cli->json)
		f = ODPT_FMT_JSON;
	else if (cli->format && odpt_format_parse(cli->format, &f)) {
		odpt_usage_err("odpt: unknown format '%s'\n", cli->format);
		return ODPT_EXIT_USAGE;
	}
	/* HdrHistogram's plotters would draw several series as one curve. */
	if (f == ODPT_FMT_HGRM && odpt_report_nseries(r) > 1 &&
	    (!cli->output || !strcmp(cli->output, "-"))) {
		odpt_usage_err("odpt: --format=hgrm: the result has %d series and a .hgrm stream holds one; use -o FILE.hgrm for one FILE.SERIES.hgrm per series, or --format=json/csv\n",
			       odpt_report_nseries(r));
		return ODPT_EXIT_USAGE;
	}
	if (cli->output) {
		ret = odpt_report_write_file(r, f, &o, cli->output);
		if (ret) {
			odpt_err("cannot write %s: %s", cli->output, strerror(-ret));
			return ODPT_EXIT_FAIL;
		}
		return ODPT_EXIT_OK;
	}
	ret = odpt_report_write(r, f, &o, stdout);
	if (ret) {
		odpt_err("cannot write the %s output: %s", odpt_format_name(f),
			 strerror(-ret));
		return ODPT_EXIT_FAIL;
	}
	return ODPT_EXIT_OK;
}

bool odpt_cli_parse(const struct odpt_verb *verb, void *cfg, int argc,
		    char **argv, int *npos, int *exit_code)
{
	int ret = odpt_opts_parse(verb->opts, cfg, argc, argv, npos);

	if (ret == -EAGAIN) {
		*exit_code = ODPT_EXIT_OK;
		return false;
	}
	if (ret) {
		odpt_usage_err("\nusage: odpt [GLOBAL-OPTIONS] %s %s [OPTIONS]\n%s %s options:\n",
			       current_object, verb->name, current_object, verb->name);
		odpt_opts_usage(verb->opts);
		*exit_code = ODPT_EXIT_USAGE;
		return false;
	}
	return true;
}

bool odpt_cli_parse_opts_only(const struct odpt_verb *verb, void *cfg, int argc,
			      char **argv, int *exit_code)
{
	int npos;

	if (!odpt_cli_parse(verb, cfg, argc, argv, &npos, exit_code))
		return false;
	if (npos) {
		odpt_usage_err("odpt: %s %s: unexpected argument '%s'\n", current_object,
			       verb->name, argv[0]);
		*exit_code = ODPT_EXIT_USAGE;
		return false;
	}
	return true;
}

int odpt_cli_meta(struct odpt_report *r)
{
	const struct odpt_clock_info *ci = odpt_clock_info();
	struct utsname u;
	char buf[64];
	struct tm tm;
	time_t now;
	int ret = 0;

	odpt_report_set_stable(r, stable_output);
	ret |= odpt_report_meta(r, "odpt_version", ODPT_VERSION);
	if (!uname(&u)) {
		ret |= odpt_report_meta_volatile(r, "kernel", u.release);
		ret |= odpt_report_meta_volatile(r, "kernel_build", u.version);
		ret |= odpt_report_meta_volatile(r, "arch", u.machine);
		ret |= odpt_report_meta_volatile(r, "host", u.nodename);
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm)) {
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ret |= odpt_report_meta_volatile(r, "time_utc", buf);
	}
	if (ci->initialised) {
		ret |= odpt_report_meta_volatile(r, "clock_source", ci->source_name);
		ret |= odpt_report_meta_volatile(r, "clock_why", ci->why);
		ret |= odpt_report_meta_volatile_int(r, "clock_overhead_ns",
						     (int64_t)ci->overhead_ns);
		ret |= odpt_report_meta_volatile_int(r, "clock_resolution_ns",
						     (int64_t)ci->resolution_ns);
		if (ci->tsc_hz)
			ret |= odpt_report_meta_volatile_int(r, "tsc_hz", (int64_t)ci->tsc_hz);
	}
	return ret ? -ENOMEM : 0;
}

int odpt_cli_clock_init(void)
{
	int ret = odpt_clock_init(-1);

	if (ret)
		odpt_err("clock: %s", strerror(-ret));
	return ret;
}

int odpt_cli_report_start(const char *command, const struct odpt_opt *opts, const void *cfg,
			  struct odpt_report **out)
{
	int ret = odpt_report_create(command, out);

	if (!ret)
		ret = odpt_cli_meta(*out);
	if (!ret && opts)
		ret = odpt_cli_opts_echo(opts, cfg, *out);
	if (ret)
		odpt_err("out of memory");
	return ret;
}

int odpt_cli_report_finish(const struct odpt_cli *cli, const struct odpt_report *r)
{
	struct odpt_test_counts tc;
	int code = odpt_cli_emit(cli, r);

	odpt_report_test_counts(r, &tc);
	if (code == ODPT_EXIT_OK && (tc.fail || tc.xpass))
		code = ODPT_EXIT_FAIL;
	return code;
}
