// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the suite runner without a device: the verdicts of forked
 * cases (pass, fail, skip, hang, crash), the watchdog reporting the stage a
 * hung case was in, filters, kernel version comparison, and the known-bug
 * table turning failures into XFAIL and passes into XPASS, also with two
 * devices (preconditions on both, the peer's driver in the bug table), and
 * per-MR ODP counters travelling from the child to the record and the JSON.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/suite.h"
#include "odpt/verbs.h"
#include "report_int.h"

static int run_pass(struct odpt_tctx *t)
{
	tc_iteration_done(t);
	tc_iteration_done(t);
	tc_faults_forced(t, 7);
	return ODPT_PASS;
}

static int run_fail_data(struct odpt_tctx *t)
{
	tc_stage(t, "validating responder");
	return tc_fail(t, "responder: 3 of 8 bytes wrong, first at offset 1");
}

static int run_fail_other(struct odpt_tctx *t)
{
	return tc_fail(t, "posting RDMA_WRITE: Invalid argument");
}

static int run_skip(struct odpt_tctx *t)
{
	return tc_skip(t, "no widget");
}

static int run_hang(struct odpt_tctx *t)
{
	tc_stage(t, "polling send CQ of QP side 0 (requester) for RDMA_WRITE");
	for (;;)
		pause();
	return ODPT_PASS;
}

static int run_crash(struct odpt_tctx *t)
{
	tc_stage(t, "posting SEND");
	abort();
	return ODPT_PASS;
}

static int run_exit(struct odpt_tctx *t)
{
	tc_stage(t, "registering");
	_exit(3);
}

/* As tc_odp_snapshot() leaves the tally after two mlx5 MRs and one MR that
 * was not found. */
static int run_odp(struct odpt_tctx *t)
{
	struct odpt_odp_counters *c = tc_odp_counters(t);

	c->mrs = 3;
	c->mrs_found = 2;
	c->mrs_counted = 2;
	c->ncounters = 2;
	strcpy(c->c[0].name, "page_faults");
	c->c[0].value = 40;
	strcpy(c->c[1].name, "page_invalidations");
	c->c[1].value = 12;
	strcpy(c->reason, "MR lkey 0x1234 of pid 1 not in the RES_MR dump of mlx5_0 (4 MRs)");
	return ODPT_PASS;
}

static const struct odpt_case cases[] = {
	{ "t_pass", "passes", NULL, run_pass, 0 },
	{ "t_fail_data", "fails with data", NULL, run_fail_data, 0 },
	{ "t_fail_other", "fails otherwise", NULL, run_fail_other, 0 },
	{ "t_skip", "skips", NULL, run_skip, 0 },
	{ "t_hang", "hangs", NULL, run_hang, 0 },
	{ "t_crash", "crashes", NULL, run_crash, 0 },
	{ "t_exit", "exits early", NULL, run_exit, 0 },
	{ "t_known_pass", "listed bug but passes", NULL, run_pass, 0 },
	{ "t_odp", "reports ODP counters", NULL, run_odp, 0 },
};

static const struct odpt_known_bug bugs[] = {
	{ .driver = "fake", .kver_min = "7.3", .kver_end = "7.4",
	  .tests = "t_fail_data,t_fail_other,t_known_pass", .symptom = "bytes wrong",
	  .what = "fake copy bug", .evidence = "unit test" },
};

static const struct odpt_test_record *find(const struct odpt_report *r, const char *name)
{
	for (int i = 0; i < r->ntests; i++)
		if (!strcmp(r->tests[i].name, name))
			return &r->tests[i];
	return NULL;
}

static struct odpt_report *run_all(const char *filter, const char *krel)
{
	struct odpt_suite_cfg cfg = { .filter = filter, .iters = 1, .timeout_s = 1 };
	struct odpt_suite_env env = { .driver = "fake", .krelease = krel,
				      .bugs = bugs, .nbugs = 1 };
	struct odpt_report *r = NULL;

	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(cases, sizeof(cases) / sizeof(cases[0]),
					      &cfg, &env, r), 0);
	return r;
}

static void test_verdicts(void **state)
{
	struct odpt_report *r = run_all(NULL, "7.3.4+deb13-amd64");
	const struct odpt_test_record *t;

	assert_int_equal(r->ntests, 9);
	t = find(r, "t_pass");
	assert_int_equal(t->result, ODPT_PASS);
	assert_int_equal(t->iterations, 2);
	assert_int_equal(t->faults_forced, 7);
	assert_null(t->reason);

	t = find(r, "t_skip");
	assert_int_equal(t->result, ODPT_SKIP);
	assert_string_equal(t->reason, "no widget");

	/* Watchdog: killed after 1 s, the stage it was in is reported. */
	t = find(r, "t_hang");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "timed out after 1 s"));
	assert_non_null(strstr(t->reason, "polling send CQ of QP side 0"));
	assert_true(t->duration_ns >= 1000000000ull);

	t = find(r, "t_crash");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "killed by signal 6"));
	assert_non_null(strstr(t->reason, "posting SEND"));

	t = find(r, "t_exit");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "without a verdict in stage: registering"));

	/* Known bug with its symptom: XFAIL naming driver, kernel, evidence. */
	t = find(r, "t_fail_data");
	assert_int_equal(t->result, ODPT_XFAIL);
	assert_non_null(strstr(t->reason, "known fake bug on kernel 7.3.4+deb13-amd64"));
	assert_non_null(strstr(t->reason, "unit test"));
	/* Listed case, different failure: stays a failure. */
	t = find(r, "t_fail_other");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "not the known fake bug"));
	/* Listed case that passes: XPASS. */
	t = find(r, "t_known_pass");
	assert_int_equal(t->result, ODPT_XPASS);
	assert_non_null(strstr(t->reason, "update the known-bug table"));
	odpt_report_destroy(r);
}

static void test_other_kernel(void **state)
{
	struct odpt_report *r = run_all("t_fail_data,t_known_pass", "7.4.0");

	assert_int_equal(r->ntests, 2);
	assert_int_equal(find(r, "t_fail_data")->result, ODPT_FAIL);
	assert_int_equal(find(r, "t_known_pass")->result, ODPT_PASS);
	odpt_report_destroy(r);
}

static void test_odp_counters(void **state)
{
	struct odpt_report *r = run_all("t_odp,t_pass", "7.3.4");
	const struct odpt_test_record *t = find(r, "t_odp");
	char *json = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(t->odp);
	assert_int_equal(t->odp->mrs, 3);
	assert_int_equal(t->odp->ncounters, 2);
	assert_int_equal(t->odp->c[1].value, 12);
	/* A case that registered no ODP MR says so. */
	assert_non_null(find(r, "t_pass")->odp);
	assert_int_equal(find(r, "t_pass")->odp->mrs, 0);
	f = open_memstream(&json, &len);
	assert_non_null(f);
	assert_int_equal(odpt_report_write(r, ODPT_FMT_JSON, NULL, f), 0);
	fclose(f);
	assert_non_null(strstr(json, "\"page_faults\": 40"));
	assert_non_null(strstr(json, "\"page_invalidations\": 12"));
	assert_non_null(strstr(json, "\"mrs_counted\": 2"));
	assert_non_null(strstr(json, "not in the RES_MR dump of mlx5_0"));
	assert_non_null(strstr(json, "the test registered no ODP MR"));
	free(json);
	odpt_report_destroy(r);
}

static void test_filter(void **state)
{
	struct odpt_suite_cfg cfg = { .filter = "nothing*", .iters = 1, .timeout_s = 1 };
	struct odpt_suite_env env = { 0 };
	struct odpt_report *r = NULL;

	assert_true(odpt_suite_filter_match(NULL, "x"));
	assert_true(odpt_suite_filter_match("rc_*", "rc_write"));
	assert_false(odpt_suite_filter_match("rc_*", "ud_send_recv"));
	assert_true(odpt_suite_filter_match("ud_*,rc_w*", "rc_write"));
	assert_false(odpt_suite_filter_match("ud_*,rc_w*", "rc_read"));
	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(cases, 1, &cfg, &env, r), -ENOENT);
	assert_int_equal(r->ntests, 0);
	odpt_report_destroy(r);
}

/* --fixed: the listed bugs leave the table, unknown ids are refused. */
static void test_fixed(void **state)
{
	static const struct odpt_known_bug tab[] = {
		{ .driver = "fake", .tests = "a", .pattern = "bug-one" },
		{ .driver = "fake", .tests = "b", .pattern = "bug-two" },
		{ .driver = "fake", .tests = "c", .symptom = "x" },
	};
	struct odpt_known_bug out[3];
	char bad[32] = "";

	(void)state;
	assert_int_equal(odpt_known_bugs_without(tab, 3, NULL, out, bad, sizeof(bad)), 3);
	assert_int_equal(odpt_known_bugs_without(tab, 3, "", NULL, bad, sizeof(bad)), 3);
	assert_int_equal(odpt_known_bugs_without(tab, 3, "bug-two", out, bad, sizeof(bad)), 2);
	assert_string_equal(out[0].pattern, "bug-one");
	assert_null(out[1].pattern);
	assert_int_equal(odpt_known_bugs_without(tab, 3, "bug-one,bug-two", out, bad, sizeof(bad)), 1);
	assert_string_equal(out[0].tests, "c");
	assert_int_equal(odpt_known_bugs_without(tab, 3, "bug-one,bug-tw", out, bad, sizeof(bad)),
			 -EINVAL);
	assert_string_equal(bad, "bug-tw");
	/* A fixed bug's failing case is then an ordinary FAIL. */
	assert_null(odpt_known_bug_find(out, 0, "fake", "7.3.4", "a"));
}

static void test_kver(void **state)
{
	assert_true(odpt_kver_cmp("7.3.4+deb13-amd64", "7.3") > 0);
	assert_true(odpt_kver_cmp("7.3.4+deb13-amd64", "7.4") < 0);
	assert_int_equal(odpt_kver_cmp("7.3", "7.3.0"), 0);
	assert_true(odpt_kver_cmp("6.18.44-fc-v669", "7.3") < 0);
	assert_true(odpt_kver_cmp("10.1", "9.9") > 0);
	assert_null(odpt_known_bug_find(bugs, 1, "fake", "7.4.1", "t_fail_data"));
	assert_null(odpt_known_bug_find(bugs, 1, "rxe", "7.3.4", "t_fail_data"));
	assert_non_null(odpt_known_bug_find(bugs, 1, "fake", "7.3.0", "t_fail_data"));
	assert_true(odpt_known_bug_symptom(&bugs[0], "x: 3 bytes wrong"));
	assert_false(odpt_known_bug_symptom(&bugs[0], "timed out"));
}

static const char *pre_needs_odp(const struct odpt_vcaps *caps, const struct odpt_case *c,
				 char *buf, int len)
{
	if (caps->odp)
		return NULL;
	snprintf(buf, len, "%s: no ODP", caps->driver);
	return buf;
}

/* Two devices: a precondition must hold on both; the SKIP names the device
 * lacking it. The peer's driver counts for the known-bug table. */
static void test_two_devices(void **state)
{
	static const struct odpt_case dev_case[] = {
		{ "t_needs_odp", "needs ODP", pre_needs_odp, run_pass, ODPT_CASE_NEEDS_DEV },
	};
	struct odpt_vcaps yes = { .odp = true, .driver = "fake" };
	struct odpt_vcaps no = { .odp = false, .driver = "fake" };
	struct odpt_vcaps other = { .odp = true, .driver = "fake" };
	struct odpt_suite_cfg cfg = { .iters = 1, .timeout_s = 1, .peer_dev = "devB" };
	struct odpt_suite_env env = { .caps = &yes, .driver = "fake", .krelease = "7.3.4",
				      .peer_caps = &no, .dev_name = "devA", .peer_name = "devB",
				      .bugs = bugs, .nbugs = 1 };
	struct odpt_report *r = NULL;

	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(dev_case, 1, &cfg, &env, r), 0);
	assert_int_equal(r->tests[0].result, ODPT_SKIP);
	assert_string_equal(r->tests[0].reason, "responder device devB: fake: no ODP");
	odpt_report_destroy(r);

	env.caps = &no;
	env.peer_caps = &yes;
	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(dev_case, 1, &cfg, &env, r), 0);
	assert_int_equal(r->tests[0].result, ODPT_SKIP);
	assert_string_equal(r->tests[0].reason, "requester device devA: fake: no ODP");
	odpt_report_destroy(r);

	env.peer_caps = &no;
	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(dev_case, 1, &cfg, &env, r), 0);
	assert_string_equal(r->tests[0].reason, "both devices (devA, devB): fake: no ODP");
	odpt_report_destroy(r);

	/* Loopback: the reason as the precondition gave it. */
	env.peer_caps = NULL;
	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(dev_case, 1, &cfg, &env, r), 0);
	assert_string_equal(r->tests[0].reason, "fake: no ODP");
	odpt_report_destroy(r);

	/* The requester's driver has no known bug, the responder's has. */
	env.caps = &yes;
	env.driver = "other";
	env.peer_caps = &other;
	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_suite_run_cases(cases, sizeof(cases) / sizeof(cases[0]),
					      &(struct odpt_suite_cfg){ .filter = "t_fail_data",
									.iters = 1, .timeout_s = 1 },
					      &env, r), 0);
	assert_int_equal(find(r, "t_fail_data")->result, ODPT_XFAIL);
	odpt_report_destroy(r);
}

/* The real catalogue: unique names, every case runnable and described,
 * and every known-bug entry names cases that exist. */
static void test_catalogue(void **state)
{
	for (int i = 0; i < odpt_suite_ncases; i++) {
		assert_non_null(odpt_suite_cases[i].run);
		assert_true(strlen(odpt_suite_cases[i].summary) > 10);
		for (int j = i + 1; j < odpt_suite_ncases; j++)
			assert_string_not_equal(odpt_suite_cases[i].name, odpt_suite_cases[j].name);
	}
	assert_true(odpt_suite_ncases >= 30);
	for (int b = 0; b < odpt_nknown_bugs; b++) {
		int hits = 0;

		for (int i = 0; i < odpt_suite_ncases; i++)
			hits += odpt_suite_filter_match(odpt_known_bugs[b].tests,
							odpt_suite_cases[i].name);
		assert_true(hits > 0);
		assert_non_null(odpt_known_bugs[b].evidence);
		/* Every listed case's control exists ('*' = the case's name). */
		for (int i = 0; i < odpt_suite_ncases && odpt_known_bugs[b].control; i++) {
			const char *ctl = odpt_known_bugs[b].control, *star = strchr(ctl, '*');
			char name[128];
			bool found = false;

			if (!odpt_suite_filter_match(odpt_known_bugs[b].tests, odpt_suite_cases[i].name))
				continue;
			snprintf(name, sizeof(name), "%.*s%s%s", star ? (int)(star - ctl) : (int)strlen(ctl),
				 ctl, star ? odpt_suite_cases[i].name : "", star ? star + 1 : "");
			for (int j = 0; j < odpt_suite_ncases; j++)
				found |= !strcmp(odpt_suite_cases[j].name, name);
			assert_true(found);
		}
	}
}


/* ---- known-bug patterns, controls, counters, stop and deadline --------------- */

static int run_pattern(struct odpt_tctx *t)
{
	tc_iteration_done(t);
	tc_bug_pattern(t, "fake-pattern", "responder: 300 of 8192 bytes wrong as predicted");
	tc_iteration_done(t);
	tc_bug_pattern(t, "fake-pattern", "again");
	return ODPT_PASS;
}

static int run_pattern_and_other(struct odpt_tctx *t)
{
	tc_bug_pattern(t, "fake-pattern", "bytes wrong as predicted");
	return tc_fail(t, "page 3: neither the bytes written nor the predicted damage");
}

static int run_other_pattern(struct odpt_tctx *t)
{
	tc_bug_pattern(t, "another-pattern", "bytes wrong as another bug predicts");
	return ODPT_PASS;
}

static int run_ctl_fail(struct odpt_tctx *t)
{
	return tc_fail(t, "control: bytes wrong");
}

/* mlx5-shaped counters: page_faults 40 against the pages the case says it
 * dropped and had the device touch. */
static int run_faults_short(struct odpt_tctx *t)
{
	run_odp(t);
	tc_device_faults(t, 50);
	return ODPT_PASS;
}

static int run_faults_ok(struct odpt_tctx *t)
{
	run_odp(t);
	tc_device_faults(t, 40);
	return ODPT_PASS;
}

static const struct odpt_case pcases[] = {
	{ "p_a", "pattern, control passes", NULL, run_pattern, 0 },
	{ "p_a_pinned", "control of p_a", NULL, run_pass, 0 },
	{ "p_b", "pattern, control fails", NULL, run_pattern, 0 },
	{ "p_b_pinned", "control of p_b", NULL, run_ctl_fail, 0 },
	{ "p_c", "pattern and another failure", NULL, run_pattern_and_other, 0 },
	{ "p_c_pinned", "control of p_c", NULL, run_pass, 0 },
	{ "p_d", "another bug's pattern", NULL, run_other_pattern, 0 },
	{ "p_d_pinned", "control of p_d", NULL, run_pass, 0 },
	{ "p_e", "passes", NULL, run_pass, 0 },
	{ "p_e_pinned", "control of p_e", NULL, run_pass, 0 },
	{ "p_faults_short", "page_faults below the dropped pages", NULL, run_faults_short, 0 },
	{ "p_faults_ok", "page_faults covers the dropped pages", NULL, run_faults_ok, 0 },
	{ "p_hang", "hangs", NULL, run_hang, 0 },
	{ "p_after", "after the deadline", NULL, run_pass, 0 },
};

static const struct odpt_known_bug pbugs[] = {
	{ .driver = "fake", .kver_min = "7.3", .kver_end = "7.4",
	  .tests = "p_a,p_b,p_c,p_d,p_e", .pattern = "fake-pattern", .control = "*_pinned",
	  .what = "fake copy bug", .evidence = "unit test" },
};

/* Streaming: called once per record, numbered from 1, in record order. */
static int streamed;

static void on_record(void *arg, const struct odpt_report *r,
		      const struct odpt_test_record *rec, int n)
{
	(void)arg;
	assert_int_equal(n, ++streamed);
	assert_int_equal(r->ntests, n);
	assert_string_equal(r->tests[n - 1].name, rec->name);
}

/* Progress: each case announced once as it starts (elapsed 0), numbered
 * from 1 in start order, never beyond what is planned. */
static int progress_starts, progress_planned;

static void on_progress(void *arg, const char *name, int k, int planned, uint64_t elapsed_ns)
{
	(void)arg;
	assert_non_null(name);
	assert_true(k >= 1 && k <= planned);
	if (!elapsed_ns)
		assert_int_equal(k, ++progress_starts);
	else
		assert_int_equal(k, progress_starts);
	progress_planned = planned;
}

static struct odpt_report *prun(const char *filter, struct odpt_suite_cfg *cfg,
				volatile int *stop)
{
	struct odpt_suite_env env = { .driver = "fake", .krelease = "7.3.4",
				      .bugs = pbugs, .nbugs = 1, .stop = stop,
				      .on_record = on_record, .on_progress = on_progress };
	struct odpt_report *r = NULL;
	int ret;

	cfg->filter = filter;
	streamed = 0;
	progress_starts = 0;
	progress_planned = 0;
	assert_int_equal(odpt_report_create("suite run", &r), 0);
	ret = odpt_suite_run_cases(pcases, sizeof(pcases) / sizeof(pcases[0]), cfg, &env, r);
	assert_int_equal(ret, stop && *stop ? -EINTR : 0);
	assert_int_equal(streamed, r->ntests);
	return r;
}

static void test_patterns(void **state)
{
	struct odpt_suite_cfg cfg = { .iters = 1, .timeout_s = 5 };
	struct odpt_report *r = prun("p_a,p_a_pinned,p_b,p_b_pinned,p_c,p_c_pinned,p_d,p_d_pinned,p_e,p_e_pinned",
				     &cfg, NULL);
	const struct odpt_test_record *t;

	(void)state;
	/* The predicted damage, control passed: XFAIL, the iterations went on. */
	t = find(r, "p_a");
	assert_int_equal(t->result, ODPT_XFAIL);
	assert_int_equal(t->iterations, 2);
	assert_non_null(strstr(t->reason, "2 times in 2 iterations"));
	assert_non_null(strstr(t->reason, "control p_a_pinned passed"));
	/* Control failed in the same run: FAIL. */
	t = find(r, "p_b");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "its control p_b_pinned failed in this run, so not XFAIL"));
	/* Any damage beyond the prediction: FAIL. */
	t = find(r, "p_c");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "not the known fake bug's predicted pattern"));
	/* Another pattern than the listed bug's: FAIL. */
	t = find(r, "p_d");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_int_equal(find(r, "p_e")->result, ODPT_XPASS);
	/* Every case that ran was announced once, of the 10 the filter took. */
	assert_int_equal(progress_starts, r->ntests);
	assert_int_equal(progress_planned, 10);
	odpt_report_destroy(r);

	/* The filter left the control out: the runner runs it first. */
	r = prun("p_a", &cfg, NULL);
	assert_int_equal(r->ntests, 2);
	assert_string_equal(r->tests[0].name, "p_a_pinned");
	assert_int_equal(r->tests[1].result, ODPT_XFAIL);
	/* The control came on top of the one planned case. */
	assert_int_equal(progress_starts, 2);
	assert_int_equal(progress_planned, 2);
	odpt_report_destroy(r);
}

static void test_device_faults(void **state)
{
	struct odpt_suite_cfg cfg = { .iters = 1, .timeout_s = 5 };
	struct odpt_report *r = prun("p_faults_*", &cfg, NULL);
	const struct odpt_test_record *t = find(r, "p_faults_short");

	(void)state;
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "page_faults rose by 40"));
	assert_non_null(strstr(t->reason, "want at least 50"));
	assert_int_equal(find(r, "p_faults_ok")->result, ODPT_PASS);
	odpt_report_destroy(r);
}

static void test_stop_and_deadline(void **state)
{
	struct odpt_suite_cfg cfg = { .iters = 1, .timeout_s = 30, .deadline_s = 1 };
	volatile int stop = 1;
	struct odpt_report *r;
	const struct odpt_test_record *t;

	(void)state;
	/* Stopped before the first case: nothing runs. */
	r = prun("p_e_pinned", &cfg, &stop);
	assert_int_equal(r->ntests, 0);
	odpt_report_destroy(r);

	/* A hang gets only what is left of the deadline; later cases do not run. */
	r = prun("p_hang,p_after", &cfg, NULL);
	t = find(r, "p_hang");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "(the rest of the suite deadline)"));
	assert_true(t->duration_ns < 5000000000ull);
	t = find(r, "p_after");
	assert_int_equal(t->result, ODPT_FAIL);
	assert_non_null(strstr(t->reason, "not run: the suite deadline of 1 s had passed"));
	odpt_report_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_other_kernel),
		cmocka_unit_test(test_odp_counters),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_kver),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_two_devices),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_device_faults),
		cmocka_unit_test(test_stop_and_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
