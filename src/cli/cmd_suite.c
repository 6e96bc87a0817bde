// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt suite run`: the ODP regression suite. Validates everything before
 * the first case runs (filter, device, port, GID index, permission,
 * memlock limit, and the same for the responder's device in two-device
 * mode, --peer-dev: each a one-line error and exit 2), then runs the matching
 * cases in forked children and prints TAP 13 on stdout as each case ends
 * (or the global --format at the end), with --junit/--json files on
 * request (and, when stderr is a terminal, a status line there with the
 * running case and its time). Work requests without a completion for
 * --stall-s fail their case; --deadline-s bounds the whole run. SIGINT/SIGTERM stop the run:
 * the results so far are written (TAP ends with "Bail out!") and the exit
 * code is 1. Exit 0 when every case passed, skipped or failed as a known
 * kernel bug predicts; 1 otherwise.
 * With no RDMA device at all, or no usable GID on the port chosen
 * automatically, nothing can run: the same outputs say so (TAP "1..0 #
 * SKIP reason", JUnit with one skipped case) and the exit code is 4,
 * kselftest's skip code, so a CI job still reads a result.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odpt/suite.h"
#include "odpt/tap.h"
#include "odpt/verbs.h"
#include "cli.h"

/* Pinned MRs in the suite (controls, mixed SGEs) need this much locked. */
#define SUITE_MEMLOCK_BYTES (256u << 10)

struct suite_cfg {
	const char *filter;
	bool list;
	uint64_t iters;
	const char *dev;
	uint64_t port;
	const char *gid;
	const char *peer_dev;
	uint64_t peer_port;
	const char *peer_gid;
	const char *junit;
	const char *json;
	uint64_t timeout_s;
	uint64_t stall_s;
	uint64_t deadline_s;
	const char *fixed;
};

static const struct odpt_opt run_opts[] = {
	{ .name = "filter", .short_name = 'f', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct suite_cfg, filter), .metavar = "GLOB",
	  .help = "run only cases matching GLOB (comma-separated globs allowed)" },
	{ .name = "list", .short_name = 'l', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct suite_cfg, list),
	  .help = "list the matching cases and exit" },
	{ .name = "iters", .short_name = 'n', .type = ODPT_OPT_U64,
	  .offset = offsetof(struct suite_cfg, iters), .def = "100",
	  .min = 1, .max = 1000000, .metavar = "N",
	  .help = "iterations per case (faults forced in each)" },
	ODPT_CLI_DEVICE_OPTS(struct suite_cfg),
	{ .name = "peer-dev", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct suite_cfg, peer_dev), .metavar = "DEV2",
	  .help = "two-device mode: responder QPs, CQs and MRs on DEV2, requester on --dev (default: loopback on --dev)" },
	{ .name = "peer-port", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct suite_cfg, peer_port),
	  .min = 1, .max = 255, .metavar = "P2", .help = "port number on DEV2 (default: 1)" },
	{ .name = "peer-gid", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct suite_cfg, peer_gid), .metavar = "G2",
	  .help = "GID index on DEV2 (default: first RoCE v2 IPv4 GID on Ethernet)" },
	{ .name = "junit", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct suite_cfg, junit), .metavar = "FILE",
	  .help = "also write JUnit XML to FILE" },
	{ .name = "json", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct suite_cfg, json), .metavar = "FILE",
	  .help = "also write JSON to FILE (with the global --raw-buckets: the histograms' buckets too)" },
	{ .name = "timeout-s", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct suite_cfg, timeout_s), .def = "120",
	  .min = 1, .max = 86400, .metavar = "N",
	  .help = "watchdog per case: kill it and report its stage after N s" },
	{ .name = "stall-s", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct suite_cfg, stall_s), .def = "10",
	  .min = 1, .max = 86400, .metavar = "N",
	  .help = "fail a case whose work request has no completion for N s, naming the stage and the WR" },
	{ .name = "deadline-s", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct suite_cfg, deadline_s), .def = "1800",
	  .min = 0, .max = 604800, .metavar = "N",
	  .help = "whole-run deadline: cases not started within N s are reported as not run (0: none)" },
	{ .name = "fixed", .type = ODPT_OPT_STR,
	  .offset = offsetof(struct suite_cfg, fixed), .metavar = "IDS",
	  .help = "the kernel under test carries fixes for these known bugs (comma-separated ids, e.g. rxe-odp-copy-page-offset; docs/coverage.md): their cases must pass, a failure is a FAIL, not XFAIL" },
	ODPT_OPT_END,
};

static int list_cases(const char *filter)
{
	for (int i = 0; i < odpt_suite_ncases; i++)
		if (odpt_suite_filter_match(filter, odpt_suite_cases[i].name))
			odpt_out("%-28s %s\n", odpt_suite_cases[i].name,
				 odpt_suite_cases[i].summary);
	return ODPT_EXIT_OK;
}

static bool memlock_ok(void)
{
	struct rlimit rl;

	if (geteuid() == 0)   /* CAP_IPC_LOCK: no limit applies */
		return true;
	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return true;
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= SUITE_MEMLOCK_BYTES;
}

/* Whether the device has per-MR ODP counters: register a page and read it
 * back over RDMA netlink (see odpt_odp_counters_probe()). */
static bool probe_odp_counters(const struct odpt_cli_dev *d, char *why, size_t why_len)
{
	struct odpt_vctx *v;
	int ret;

	ret = odpt_vctx_open(d->name, d->port, d->gid, &v);
	if (!ret) {
		ret = odpt_odp_counters_probe(v, why, why_len);
		odpt_vctx_close(v);
	}
	if (ret < 0)
		snprintf(why, why_len, "probing per-MR ODP counters on %s: %s", d->name, strerror(-ret));
	return ret > 0;
}

static int add_meta(struct odpt_report *r, const struct odpt_cli_dev *d, const struct odpt_cli_dev *peer)
{
	const struct odpt_vcaps *caps = &d->caps;
	struct json_object *ctr;
	char buf[192], why[320];
	bool avail;
	int ret = 0;

	/* The topology first: a reader must not mistake one mode for the other. */
	if (peer)
		snprintf(buf, sizeof(buf), "%s -> %s (requester -> responder)",
			 d->name, peer->name);
	else
		snprintf(buf, sizeof(buf), "loopback on %s", d->name);
	ret |= odpt_report_meta(r, "topology", buf);
	ret |= odpt_report_meta(r, "device", d->name);
	ret |= odpt_report_meta(r, "driver", caps->driver);
	ret |= odpt_report_meta_int(r, "port", d->port);
	ret |= odpt_report_meta_int(r, "gid_index", d->gid);
	if (peer) {
		ret |= odpt_report_meta(r, "peer_device", peer->name);
		ret |= odpt_report_meta(r, "peer_driver", peer->caps.driver);
		ret |= odpt_report_meta_int(r, "peer_port", peer->port);
		ret |= odpt_report_meta_int(r, "peer_gid_index", peer->gid);
	}
	ret |= odpt_report_meta(r, "libibverbs_build", odpt_verbs_lib_version());
	/*
	 * Per-MR ODP counters (mlx5: page_faults, page_invalidations,
	 * page_prefetch, ...) over RDMA netlink; each test's record carries its
	 * own sums or the reason it has none. This says what the device has.
	 */
	avail = probe_odp_counters(d, why, sizeof(why));
	ctr = json_object_new_object();
	json_object_object_add(ctr, "available", json_object_new_boolean(avail));
	json_object_object_add(ctr, "source",
			       json_object_new_string("RDMA netlink: RES_MR_GET dump, STAT_GET per MR"));
	json_object_object_add(ctr, avail ? "counters" : "why", json_object_new_string(why));
	ret |= odpt_report_section(r, "odp_counters", ctr);
	ret |= odpt_report_meta(r, "odp_counters", why);
	return ret ? -ENOMEM : 0;
}

/* The global --raw-buckets applies to --json FILE too: `odpt compare` needs it. */
static int write_extra(const struct odpt_cli *cli, const struct odpt_report *r,
		       enum odpt_format f, const char *path)
{
	struct odpt_write_opts o = { .raw_buckets = cli->raw_buckets };
	int ret = odpt_report_write_file(r, f, &o, path);

	if (ret)
		odpt_err("suite: cannot write %s: %s", path, strerror(-ret));
	return ret;
}

/*
 * The results, however the run ended: --junit/--json files, then TAP on
 * stdout (or the global --format / -o). An exit code: ODPT_EXIT_OK or,
 * when a file cannot be written, ODPT_EXIT_FAIL.
 */
static int emit_results(struct odpt_cli *cli, const struct suite_cfg *c,
			const struct odpt_report *r, const char *wall)
{
	struct odpt_write_opts o = { 0 };
	int code;

	if (c->junit && write_extra(cli, r, ODPT_FMT_JUNIT, c->junit))
		return ODPT_EXIT_FAIL;
	if (c->json && write_extra(cli, r, ODPT_FMT_JSON, c->json))
		return ODPT_EXIT_FAIL;
	if (cli->json || cli->format || cli->output)
		return odpt_cli_emit(cli, r);
	code = odpt_report_write(r, ODPT_FMT_TAP, &o, stdout) ? ODPT_EXIT_FAIL : ODPT_EXIT_OK;
	if (wall)
		odpt_out("# suite wall time: %s s\n", wall);
	return code;
}

/* Nothing can run (no device): every output says why, exit 4. */
static int skip_suite(struct odpt_cli *cli, const struct suite_cfg *c, const char *why)
{
	struct odpt_report *r = NULL;
	int code = ODPT_EXIT_FAIL;

	odpt_warn("suite: skipped: %s", why);
	if (odpt_cli_report_start("suite run", run_opts, c, &r))
		goto destroy_report;
	if (odpt_report_skip_all(r, why)) {
		odpt_err("out of memory");
		goto destroy_report;
	}
	code = emit_results(cli, c, r, NULL);
	if (code == ODPT_EXIT_OK)
		code = ODPT_EXIT_SKIP;
destroy_report:
	odpt_report_destroy(r);
	return code;
}

/* Set by SIGINT/SIGTERM: the runner stops, partial results are written. */
static volatile int stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* stderr is a terminal: a status line ("[12/63] rc_write … 1.2 s") shows
 * the running case; it is erased before anything else is printed. */
static bool status_tty;

static void status_clear(void)
{
	if (status_tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

static void show_progress(void *arg, const char *name, int k, int planned,
			  uint64_t elapsed_ns)
{
	(void)arg;
	fprintf(stderr, "\r\033[K[%d/%d] %s \xe2\x80\xa6 %.1f s", k, planned, name,
		(double)elapsed_ns / 1e9);
	fflush(stderr);
}

/* TAP on stdout as each case ends (the plan comes last). */
static void stream_tap(void *arg, const struct odpt_report *r,
		       const struct odpt_test_record *rec, int n)
{
	(void)arg;
	(void)r;
	status_clear();
	odpt_write_tap_result(rec, n, stdout);
	fflush(stdout);
}

static int run_suite(struct odpt_cli *cli, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old_int, old_term;
	bool stream;
	struct odpt_suite_cfg scfg = { 0 };
	struct odpt_report *r = NULL;
	struct odpt_test_counts tc;
	struct odpt_suite_env env = { 0 };
	struct odpt_cli_dev d, peer;
	struct suite_cfg c;
	struct utsname u;
	char wall[64], why[320];
	uint64_t t0, wall_ns;
	int code, gid, peer_gid = -1, ret, matched = 0, nbugs;
	struct odpt_known_bug *bugs = NULL;

	if (!odpt_cli_parse_opts_only(&odpt_obj_suite.verbs[0], &c, argc, argv, &code))
		return code;
	for (int i = 0; i < odpt_suite_ncases; i++)
		matched += odpt_suite_filter_match(c.filter, odpt_suite_cases[i].name);
	if (!matched) {
		odpt_err("suite: --filter '%s' matches no case (see odpt suite run --list)", c.filter);
		return ODPT_EXIT_USAGE;
	}
	if (c.list)
		return list_cases(c.filter);
	nbugs = odpt_known_bugs_without(odpt_known_bugs, odpt_nknown_bugs, c.fixed, NULL,
					why, sizeof(why));
	if (nbugs < 0) {
		odpt_err("suite: --fixed: '%s' is not a known-bug id (see docs/coverage.md)", why);
		return ODPT_EXIT_USAGE;
	}
	gid = odpt_cli_parse_gid("suite", "--gid", c.gid);
	if (gid < -1)
		return ODPT_EXIT_USAGE;
	if (!c.peer_dev && (c.peer_port || c.peer_gid)) {
		odpt_err("suite: --%s needs --peer-dev (the responder's device)",
			 c.peer_port ? "peer-port" : "peer-gid");
		return ODPT_EXIT_USAGE;
	}
	if (c.peer_dev) {
		peer_gid = odpt_cli_parse_gid("suite", "--peer-gid", c.peer_gid);
		if (peer_gid < -1)
			return ODPT_EXIT_USAGE;
		if (!c.peer_port)
			c.peer_port = 1;
		/* One port twice is the loopback mode under another name. */
		if (c.dev && !strcmp(c.dev, c.peer_dev) && c.port == c.peer_port) {
			odpt_err("suite: --peer-dev %s port %" PRIu64 " is the requester's own port: omit --peer-dev for loopback",
				 c.peer_dev, c.peer_port);
			return ODPT_EXIT_USAGE;
		}
	}
	if (!memlock_ok()) {
		odpt_err("suite: RLIMIT_MEMLOCK is below the %u KiB the pinned-MR cases need (raise ulimit -l)",
			 SUITE_MEMLOCK_BYTES >> 10);
		return ODPT_EXIT_USAGE;
	}
	code = odpt_cli_probe_device("suite", "", c.dev, c.port, gid, &d, why, sizeof(why));
	if (code == ODPT_EXIT_SKIP)
		return skip_suite(cli, &c, why);
	if (code != ODPT_EXIT_OK)
		return code;
	if (c.peer_dev) {
		code = odpt_cli_probe_device("suite", "--peer-dev: ", c.peer_dev, c.peer_port, peer_gid, &peer,
				    why, sizeof(why));
		if (code == ODPT_EXIT_SKIP)
			return skip_suite(cli, &c, why);
		if (code != ODPT_EXIT_OK)
			return code;
		/* The same check when --dev was left to the default. */
		if (!strcmp(d.name, peer.name) && d.port == peer.port) {
			odpt_err("suite: --peer-dev %s port %d is the requester's own port: omit --peer-dev for loopback",
				 peer.name, peer.port);
			return ODPT_EXIT_USAGE;
		}
	}
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");

	code = ODPT_EXIT_FAIL;
	if (odpt_cli_report_start("suite run", run_opts, &c, &r))
		goto destroy_report;
	if (add_meta(r, &d, c.peer_dev ? &peer : NULL)) {
		odpt_err("out of memory");
		goto destroy_report;
	}
	scfg.dev = d.name;
	scfg.port = c.port;
	scfg.gid = d.gid;
	if (c.peer_dev) {
		scfg.peer_dev = peer.name;
		scfg.peer_port = c.peer_port;
		scfg.peer_gid = peer.gid;
		env.peer_caps = &peer.caps;
		env.peer_name = peer.name;
	}
	scfg.filter = c.filter;
	scfg.iters = c.iters;
	scfg.timeout_s = c.timeout_s;
	env.caps = &d.caps;
	env.driver = d.caps.driver;
	env.dev_name = d.name;
	env.krelease = u.release;
	bugs = calloc((size_t)nbugs + 1, sizeof(*bugs));
	if (!bugs) {
		odpt_err("out of memory");
		goto destroy_report;
	}
	env.bugs = bugs;
	env.nbugs = odpt_known_bugs_without(odpt_known_bugs, odpt_nknown_bugs, c.fixed, bugs,
					    why, sizeof(why));
	scfg.stall_s = c.stall_s;
	scfg.deadline_s = c.deadline_s;
	/* Plain TAP on stdout streams; other formats come at the end. */
	stream = !(cli->json || cli->format || cli->output);
	if (stream) {
		env.on_record = stream_tap;
		status_tty = isatty(STDERR_FILENO);
		if (status_tty)
			env.on_progress = show_progress;
		odpt_write_tap_head(r, false, stdout);
		fflush(stdout);
	}
	env.stop = &stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	t0 = odpt_clock_raw_ns();
	ret = odpt_suite_run_cases(odpt_suite_cases, odpt_suite_ncases, &scfg, &env, r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	status_clear();
	if (ret && ret != -EINTR) {
		odpt_err("suite: %s", strerror(-ret));
		goto destroy_report;
	}
	if (ret == -EINTR) {
		char stop_why[96];

		odpt_report_test_counts(r, &tc);
		snprintf(stop_why, sizeof(stop_why), "interrupted by %s after %u cases: partial results",
			 stop_signal == SIGTERM ? "SIGTERM" : "SIGINT",
			 tc.pass + tc.fail + tc.xfail + tc.xpass + tc.skip);
		if (odpt_report_summary(r, "bail_out", stop_why))
			goto destroy_report;
	}
	wall_ns = odpt_clock_raw_ns() - t0;
	snprintf(wall, sizeof(wall), "%.3f", (double)wall_ns / 1e9);
	if (odpt_report_meta_volatile_fixed(r, "suite_wall_s", (double)wall_ns / 1e9, 3) ||
	    odpt_report_scalar(r, "suite_wall_ns", NULL, 0, (double)wall_ns))
		goto destroy_report;
	if (!stream) {
		code = emit_results(cli, &c, r, NULL);
	} else {
		if (c.junit && write_extra(cli, r, ODPT_FMT_JUNIT, c.junit))
			goto destroy_report;
		if (c.json && write_extra(cli, r, ODPT_FMT_JSON, c.json))
			goto destroy_report;
		odpt_write_tap_tail(r, true, stdout);
		odpt_out("# suite wall time: %s s\n", wall);
		code = ODPT_EXIT_OK;
	}
	if (ret == -EINTR) {
		if (stream)
			odpt_out("Bail out! interrupted by %s\n",
				 stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
		else
			odpt_err("suite: interrupted by %s: partial results written",
				 stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
		code = ODPT_EXIT_FAIL;
	}
	odpt_report_test_counts(r, &tc);
	if (code == ODPT_EXIT_OK && (tc.fail || tc.xpass))
		code = ODPT_EXIT_FAIL;
destroy_report:
	odpt_report_destroy(r);
	free(bugs);
	return code;
}

static const struct odpt_verb suite_verbs[] = {
	{ .name = "run", .run = run_suite, .opts = run_opts,
	  .summary = "run the ODP regression suite (TAP 13 on stdout; exit 4 if no device)" },
	{ .name = NULL },
};

const struct odpt_object odpt_obj_suite = {
	.name = "suite",
	.summary = "the ODP regression suite",
	.verbs = suite_verbs,
	.default_verb = "run",
};
