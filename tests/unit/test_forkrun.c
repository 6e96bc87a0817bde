// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fork-per-test runner (include/odpt/forkrun.h) the suite and the
 * shim's test program share: the page the child writes reaches the parent,
 * an exit and a crash are told apart, the watchdog fires on a hang with the
 * stage the child recorded and the evidence hook before the kill, the stop
 * flag ends a child early, progress ticks arrive, a grandchild in the
 * test's group dies with it, and a subreaper's orphans that left the group
 * are killed and reaped.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/forkrun.h"

struct page {
	struct odpt_fr_page fr;
	pid_t grandchild;
	int ticks;
};

static struct page *pg;

static struct odpt_fr setup_fr(uint64_t timeout_ms)
{
	return (struct odpt_fr){
		.page = &pg->fr, .start_stage = "starting",
		.timeout_ns = timeout_ms * 1000000ull,
		.kill_wait_ns = 5000000000ull,
	};
}

static void child_verdict(void *arg)
{
	odpt_fr_stage(&pg->fr, "stage %d", *(int *)arg);
	pg->fr.result = 7;
}

static void test_verdict(void **state)
{
	struct odpt_fr fr = setup_fr(5000);
	int n = 42;

	pg->fr.result = 3;
	assert_int_equal(odpt_fr_run(&fr, child_verdict, &n), 0);
	assert_int_equal(fr.end, ODPT_FR_EXITED);
	assert_true(fr.reaped);
	assert_true(WIFEXITED(fr.status));
	assert_int_equal(WEXITSTATUS(fr.status), 0);
	assert_int_equal(pg->fr.result, 7);
	assert_string_equal(pg->fr.stage, "stage 42");
	assert_true(fr.pid > 0);
}

static void child_silent(void *arg)
{
	(void)arg;
}

static void test_no_verdict(void **state)
{
	struct odpt_fr fr = setup_fr(5000);

	pg->fr.result = 3;
	snprintf(pg->fr.stage, sizeof(pg->fr.stage), "old");
	assert_int_equal(odpt_fr_run(&fr, child_silent, NULL), 0);
	/* The page was reset before the fork. */
	assert_int_equal(pg->fr.result, ODPT_FR_NONE);
	assert_string_equal(pg->fr.stage, "starting");
}

static void child_crash(void *arg)
{
	(void)arg;
	odpt_fr_stage(&pg->fr, "about to abort");
	abort();
}

static void test_crash(void **state)
{
	struct odpt_fr fr = setup_fr(5000);

	assert_int_equal(odpt_fr_run(&fr, child_crash, NULL), 0);
	assert_int_equal(fr.end, ODPT_FR_EXITED);
	assert_true(WIFSIGNALED(fr.status));
	assert_int_equal(WTERMSIG(fr.status), SIGABRT);
	assert_string_equal(pg->fr.stage, "about to abort");
}

static void child_hang(void *arg)
{
	(void)arg;
	odpt_fr_stage(&pg->fr, "waiting for ever");
	for (;;)
		pause();
}

static pid_t timeout_pid;
static char timeout_stage[ODPT_FR_STAGE_LEN];

static void on_timeout(void *arg, pid_t pid)
{
	(void)arg;
	timeout_pid = pid;
	/* Called before the kill: the child is still there. */
	assert_int_equal(kill(pid, 0), 0);
	memcpy(timeout_stage, pg->fr.stage, sizeof(timeout_stage));
}

static void test_timeout(void **state)
{
	struct odpt_fr fr = setup_fr(300);

	fr.on_timeout = on_timeout;
	timeout_pid = 0;
	assert_int_equal(odpt_fr_run(&fr, child_hang, NULL), 0);
	assert_int_equal(fr.end, ODPT_FR_TIMEOUT);
	assert_true(fr.reaped);
	assert_int_equal(timeout_pid, fr.pid);
	assert_string_equal(timeout_stage, "waiting for ever");
	assert_true(WIFSIGNALED(fr.status) && WTERMSIG(fr.status) == SIGKILL);
	assert_true(fr.duration_ns >= 300000000ull && fr.duration_ns < 5000000000ull);
	assert_int_equal(kill(fr.pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static volatile int stop;

static void on_tick(void *arg, uint64_t elapsed_ns)
{
	(void)arg;
	(void)elapsed_ns;
	if (++pg->ticks == 3)
		stop = 1;
}

static void test_stop_and_ticks(void **state)
{
	struct odpt_fr fr = setup_fr(10000);

	fr.stop = &stop;
	fr.on_tick = on_tick;
	fr.tick_ns = 50000000ull;
	stop = 0;
	pg->ticks = 0;
	assert_int_equal(odpt_fr_run(&fr, child_hang, NULL), 0);
	assert_int_equal(fr.end, ODPT_FR_STOPPED);
	assert_true(fr.reaped);
	assert_int_equal(pg->ticks, 3);
	assert_true(fr.duration_ns >= 150000000ull && fr.duration_ns < 5000000000ull);
}

/* Leaves a sleeping grandchild behind, in the group or (leave) not. */
static void child_spawn(void *arg)
{
	bool leave = *(bool *)arg;
	pid_t p = fork();

	if (p == 0) {
		if (leave)
			setsid();
		for (;;)
			pause();
	}
	pg->grandchild = p;
	pg->fr.result = 1;
}

static void test_grandchild_in_group(void **state)
{
	struct odpt_fr fr = setup_fr(5000);
	bool leave = false;
	pid_t r = 0;
	int st = 0;

	assert_int_equal(odpt_fr_run(&fr, child_spawn, &leave), 0);
	assert_int_equal(pg->fr.result, 1);
	assert_true(pg->grandchild > 0);
	/* This process is a subreaper (main): the orphan comes back here,
	 * killed; give it 2 s, then clean up and fail. */
	for (int i = 0; i < 200 && r == 0; i++) {
		r = waitpid(pg->grandchild, &st, WNOHANG);
		if (r == 0)
			usleep(10000);
	}
	if (r == 0) {
		kill(pg->grandchild, SIGKILL);
		waitpid(pg->grandchild, NULL, 0);
		fail_msg("grandchild %d still alive 2 s after its test ended", (int)pg->grandchild);
	}
	assert_int_equal(r, pg->grandchild);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void test_orphans(void **state)
{
	struct odpt_fr fr = setup_fr(5000);
	bool leave = true;

	fr.orphans_ns = 5000000000ull;
	assert_int_equal(odpt_fr_run(&fr, child_spawn, &leave), 0);
	assert_false(fr.orphans_left);
	assert_true(pg->grandchild > 0);
	/* Killed and reaped: no child left, the pid is gone. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(kill(pg->grandchild, 0), -1);
	assert_int_equal(errno, ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_no_verdict),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_stop_and_ticks),
		cmocka_unit_test(test_grandchild_in_group),
		cmocka_unit_test(test_orphans),
	};
	void *p;
	int ret;

	if (odpt_fr_shared_alloc(sizeof(*pg), &p))
		return 1;
	pg = p;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	odpt_fr_shared_free(pg, sizeof(*pg));
	return ret;
}
