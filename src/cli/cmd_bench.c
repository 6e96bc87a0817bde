// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench SCENARIO [OPTIONS]`: what an RDMA user pays for ODP (fault,
 * warm, reg, refault, prefetch, storm; docs/metrics.md defines each), as
 * latency distributions. Input is checked first (one line, exit 2); no
 * device at all or a device without ODP is a SKIP report (exit 4, as
 * `odpt suite run`). The scenario runs in a forked child under a watchdog
 * (--timeout-s): it renders its own report; a child that hangs is killed
 * and the parent reports a FAIL naming the stage it hung in.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "odpt/bench.h"
#include "odpt/clock.h"
#include "odpt/forkrun.h"
#include "odpt/log.h"
#include "cli.h"

struct bench_cfg {
	const char *dev;
	uint64_t port;
	const char *gid;
	const char *ops;
	const char *sizes;
	uint64_t iters;
	const char *warmup;
	const char *side;
	uint64_t threads;
	uint64_t timeout_s;
	uint64_t stall_s;
	const char *poll;
};

static const char *const side_choices[] = { "local", "remote", "both", NULL };
static const char *const poll_choices[] = { "event", "busy", NULL };

static const struct odpt_opt bench_opts[] = {
	ODPT_CLI_DEVICE_OPTS(struct bench_cfg),
	{ .name = "ops", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct bench_cfg, ops), .metavar = "LIST",
	  .help = "ops to time: SEND,WRITE,READ,CAS,FAA,ATOMIC_WRITE,FLUSH or all (default: fault/warm WRITE,READ,SEND; refault/prefetch/storm WRITE; atomics at 8 B only)" },
	{ .name = "sizes", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct bench_cfg, sizes), .metavar = "LIST",
	  .help = "message sizes, 1..16M (reg: MR sizes, 4K multiples up to 64G), with K/M/G units (default: 8,64,4K,64K,1M; reg 4K..64G; refault 4K; prefetch 4K,64K; storm 64K)" },
	{ .name = "iters", .short_name = 'n', .type = ODPT_OPT_U64,
	  .offset = offsetof(struct bench_cfg, iters), .min = 1, .max = 1000000000,
	  .metavar = "N", .help = "recorded iterations per series (default: fault/warm 1000, reg 10, refault 100, prefetch 200, storm 500)" },
	{ .name = "warmup", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct bench_cfg, warmup), .metavar = "N",
	  .help = "iterations run before each series and not recorded, 0..10^9 (default: 20; reg 1)" },
	{ .name = "side", .type = ODPT_OPT_CHOICE,
	  .offset = offsetof(struct bench_cfg, side), .def = "both", .choices = side_choices,
	  .metavar = "S", .help = "whose pages are dropped: the requester's (local), the responder's (remote), both in turn" },
	{ .name = "threads", .short_name = 't', .type = ODPT_OPT_U64,
	  .offset = offsetof(struct bench_cfg, threads), .def = "4", .min = 1, .max = ODPT_OB_MAX_THREADS,
	  .metavar = "N", .help = "storm: threads faulting at once" },
	{ .name = "timeout-s", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct bench_cfg, timeout_s), .def = "1800", .min = 1, .max = 604800,
	  .metavar = "N", .help = "watchdog: kill the scenario after N s and report the stage it was in" },
	{ .name = "stall-s", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct bench_cfg, stall_s), .def = "10", .min = 1, .max = 86400,
	  .metavar = "N", .help = "a work request without a completion for N s fails its series" },
	{ .name = "poll", .type = ODPT_OPT_CHOICE,
	  .offset = offsetof(struct bench_cfg, poll), .def = "event", .choices = poll_choices,
	  .metavar = "HOW", .help = "completions: event (spin 256 polls, then sleep on the CQ's channel) or busy (poll without sleeping, as perftest)" },
	ODPT_OPT_END,
};

/* Options to the engine's configuration: ODPT_EXIT_OK or ODPT_EXIT_USAGE. */
static int to_engine_cfg(const struct bench_cfg *b, enum odpt_ob_scenario s,
			 struct odpt_ob_cfg *c)
{
	const char *name = odpt_ob_scenario_name(s);
	char err[256];
	char *end;

	memset(c, 0, sizeof(*c));
	c->scenario = s;
	c->dev = b->dev;
	c->port = (int)b->port;
	c->iters = b->iters;
	c->threads = (unsigned)b->threads;
	c->stall_ns = b->stall_s * 1000000000ULL;
	c->busy_poll = !strcmp(b->poll, "busy");
	c->warmup = UINT64_MAX;
	if (b->warmup) {
		errno = 0;
		c->warmup = strtoull(b->warmup, &end, 10);
		if (errno || end == b->warmup || *end || b->warmup[0] == '-' ||
		    c->warmup > ODPT_OB_MAX_ITERS) {
			odpt_usage_err("odpt: bench %s: --warmup: '%s' is not a number of iterations in 0..10^9\n",
				       name, b->warmup);
			return ODPT_EXIT_USAGE;
		}
	}
	if (odpt_ob_parse_side(b->side, &c->sides) ||
	    (b->ops && odpt_ob_parse_ops(b->ops, c, err, sizeof(err))) ||
	    (b->sizes && odpt_ob_parse_sizes(b->sizes, c, err, sizeof(err))) ||
	    odpt_ob_cfg_finish(c, err, sizeof(err))) {
		odpt_usage_err("odpt: bench %s: %s\n", name, err);
		return ODPT_EXIT_USAGE;
	}
	c->gid = odpt_cli_parse_gid("bench", "--gid", b->gid);
	return c->gid < -1 ? ODPT_EXIT_USAGE : ODPT_EXIT_OK;
}

/* What the engine ran with, defaults resolved: the echo holds the options. */
static int add_resolved(struct odpt_report *r, const struct odpt_ob_cfg *c)
{
	char ops[128] = "", sizes[384] = "";
	size_t o = 0, z = 0;

	for (int i = 0; i < c->nops; i++)
		o += (size_t)snprintf(ops + o, sizeof(ops) - o, "%s%s", i ? "," : "",
				      odpt_ob_op_name(c->ops[i]));
	for (int i = 0; i < c->nsizes && z < sizeof(sizes); i++)
		z += (size_t)snprintf(sizes + z, sizeof(sizes) - z, "%s%" PRIu64, i ? "," : "",
				      c->sizes[i]);
	return odpt_report_config_str(r, "run_ops", ops) ||
	       odpt_report_config_str(r, "run_sizes_bytes", sizes) ||
	       odpt_report_config_u64(r, "run_iters", c->iters) ||
	       odpt_report_config_u64(r, "run_warmup", c->warmup) ? -ENOMEM : 0;
}

static void show_progress(void *arg, const struct odpt_ob_progress *p)
{
	(void)arg;
	fprintf(stderr, "\r\033[K%s [%d/%d] %s: %" PRIu64 "/%" PRIu64 " it, %.1f s, ETA %.0f s",
		p->scenario, p->series_k, p->nseries, p->series, p->done, p->total,
		(double)p->elapsed_ns / 1e9, (double)p->eta_ns / 1e9);
	fflush(stderr);
}

struct child_arg {
	const struct odpt_cli *cli;
	const struct bench_cfg *b;
	struct odpt_ob_cfg *c;
	const char *command;
};

/* In the child: run, render, exit with the command's code. */
static void child_main(void *arg)
{
	struct child_arg *a = arg;
	struct odpt_cli cli = *a->cli;
	struct odpt_report *r = NULL;
	bool tty = isatty(STDERR_FILENO);
	int code = ODPT_EXIT_FAIL, ret;

	/* Raw buckets always: odpt compare reads bench results series by series. */
	cli.raw_buckets = true;
	if (tty)
		a->c->progress = show_progress;
	if (odpt_cli_report_start(a->command, bench_opts, a->b, &r) || add_resolved(r, a->c))
		goto out;
	ret = odpt_ob_run(a->c, r);
	if (tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (ret && ret != -EOPNOTSUPP)
		goto out;
	code = odpt_cli_report_finish(&cli, r);
	if (code == ODPT_EXIT_OK && ret == -EOPNOTSUPP)
		code = ODPT_EXIT_SKIP;
out:
	odpt_report_destroy(r);
	fflush(NULL);
	_exit(code);
}

/* A report that says only why nothing ran (no device, no ODP): exit 4. */
static int skip_report(const struct odpt_cli *cli, const char *command,
		       const struct bench_cfg *b, const char *why)
{
	struct odpt_report *r = NULL;
	int code = ODPT_EXIT_FAIL;

	odpt_warn("%s: skipped: %s", command, why);
	if (!odpt_cli_report_start(command, bench_opts, b, &r) && !odpt_report_skip_all(r, why))
		code = odpt_cli_emit(cli, r);
	odpt_report_destroy(r);
	return code == ODPT_EXIT_OK ? ODPT_EXIT_SKIP : code;
}

/* The watchdog fired, the child died or was stopped: a report with one
 * FAIL test (name) saying so. */
static int dead_report(const struct odpt_cli *cli, const char *command,
		       const struct bench_cfg *b, const char *name, const char *why)
{
	struct odpt_test_record t = { .name = name, .result = ODPT_FAIL, .reason = why };
	struct odpt_report *r = NULL;

	odpt_err("%s: %s", command, why);
	if (!odpt_cli_report_start(command, bench_opts, b, &r) && !odpt_report_test(r, &t))
		odpt_cli_emit(cli, r);
	odpt_report_destroy(r);
	return ODPT_EXIT_FAIL;
}

/* Set by SIGINT/SIGTERM: the child runs in its own process group, which a
 * terminal's ^C does not reach, so the parent stops it. */
static volatile int stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static int run_scenario(struct odpt_cli *cli, enum odpt_ob_scenario s, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old_int, old_term;
	struct odpt_fr fr = { .kill_wait_ns = 5ULL * 1000000000ULL, .stop = &stop_signal };
	int fork_ret;
	char command[32], why[400];
	struct odpt_fr_page *page;
	struct odpt_cli_dev d;
	struct child_arg a;
	struct odpt_ob_cfg c;
	struct bench_cfg b;
	void *mem = NULL;
	int code;

	snprintf(command, sizeof(command), "bench %s", odpt_ob_scenario_name(s));
	if (!odpt_cli_parse_opts_only(&odpt_obj_bench.verbs[s], &b, argc, argv, &code))
		return code;
	code = to_engine_cfg(&b, s, &c);
	if (code)
		return code;
	code = odpt_cli_probe_device("bench", "", c.dev, (uint64_t)c.port, c.gid, &d, why,
				     sizeof(why));
	if (code == ODPT_EXIT_SKIP)
		return skip_report(cli, command, &b, why);
	if (code)
		return code;
	if (!d.caps.odp) {
		snprintf(why, sizeof(why), "%s (%s) has no ODP (IBV_ODP_SUPPORT not in general_caps)",
			 d.name, d.caps.driver);
		return skip_report(cli, command, &b, why);
	}
	c.dev = d.name;
	c.gid = d.gid;
	if (odpt_cli_clock_init())
		return ODPT_EXIT_FAIL;
	if (odpt_fr_shared_alloc(sizeof(*page), &mem)) {
		odpt_err("out of memory");
		return ODPT_EXIT_FAIL;
	}
	page = mem;
	c.page = page;
	fr.page = page;
	fr.start_stage = "start";
	fr.timeout_ns = b.timeout_s * 1000000000ULL;
	a = (struct child_arg){ .cli = cli, .b = &b, .c = &c, .command = command };
	fflush(NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	fork_ret = odpt_fr_run(&fr, child_main, &a);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (fork_ret) {
		odpt_err("%s: cannot fork: %s", command, strerror(-fork_ret));
		odpt_fr_shared_free(mem, sizeof(*page));
		return ODPT_EXIT_FAIL;
	}
	if (fr.end == ODPT_FR_STOPPED) {
		snprintf(why, sizeof(why), "interrupted by %s in stage '%s': no result",
			 stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", page->stage);
		code = dead_report(cli, command, &b, "interrupted", why);
	} else if (fr.end != ODPT_FR_EXITED) {
		snprintf(why, sizeof(why), "watchdog: no result after %" PRIu64 " s (--timeout-s), killed in stage '%s'%s",
			 b.timeout_s, page->stage, fr.reaped ? "" : " and still alive (stuck in the kernel)");
		code = dead_report(cli, command, &b, "watchdog", why);
	} else if (WIFSIGNALED(fr.status)) {
		snprintf(why, sizeof(why), "killed by signal %d in stage '%s'", WTERMSIG(fr.status),
			 page->stage);
		code = dead_report(cli, command, &b, "died", why);
	} else {
		code = WEXITSTATUS(fr.status);
	}
	/* A child stuck in the kernel may still write its page: keep it. */
	if (fr.reaped)
		odpt_fr_shared_free(mem, sizeof(*page));
	return code;
}

static int run_fault(struct odpt_cli *cli, int argc, char **argv)
{
	return run_scenario(cli, ODPT_OB_FAULT, argc, argv);
}

static int run_warm(struct odpt_cli *cli, int argc, char **argv)
{
	return run_scenario(cli, ODPT_OB_WARM, argc, argv);
}

static int run_reg(struct odpt_cli *cli, int argc, char **argv)
{
	return run_scenario(cli, ODPT_OB_REG, argc, argv);
}

static int run_refault(struct odpt_cli *cli, int argc, char **argv)
{
	return run_scenario(cli, ODPT_OB_REFAULT, argc, argv);
}

static int run_prefetch(struct odpt_cli *cli, int argc, char **argv)
{
	return run_scenario(cli, ODPT_OB_PREFETCH, argc, argv);
}

static int run_storm(struct odpt_cli *cli, int argc, char **argv)
{
	return run_scenario(cli, ODPT_OB_STORM, argc, argv);
}

/* In enum odpt_ob_scenario order: run_scenario() indexes it. */
static const struct odpt_verb bench_verbs[] = {
	{ .name = "fault", .run = run_fault, .opts = bench_opts,
	  .summary = "op latency with the target pages dropped every iteration (per op, size, side)" },
	{ .name = "warm", .run = run_warm, .opts = bench_opts,
	  .summary = "op latency on resident pages, and the fault - warm table" },
	{ .name = "reg", .run = run_reg, .opts = bench_opts,
	  .summary = "ibv_reg_mr/ibv_dereg_mr: pinned, explicit and implicit ODP, 4K..64G" },
	{ .name = "refault", .run = run_refault, .opts = bench_opts,
	  .summary = "after munmap+mmap, MADV_DONTNEED, mprotect: time to the first good completion" },
	{ .name = "prefetch", .run = run_prefetch, .opts = bench_opts,
	  .summary = "ibv_advise_mr sync/async cost and the op right after it" },
	{ .name = "storm", .run = run_storm, .opts = bench_opts,
	  .summary = "threads faulting disjoint and overlapping ranges of one MR" },
	{ .name = NULL },
};

const struct odpt_object odpt_obj_bench = {
	.name = "bench",
	.summary = "ODP latency distributions: fault, warm, reg, refault, prefetch, storm",
	.verbs = bench_verbs,
	.description =
		"Each scenario is one verb, defined in docs/metrics.md (\"odpt bench\"). One\n"
		"histogram per series; JSON with --raw-buckets feeds odpt compare.\n",
};
