// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The clock: it initialises, says which source it chose and why, reports
 * a plausible overhead and resolution, never runs backwards, and agrees
 * with CLOCK_MONOTONIC_RAW on rate (the TSC's mult/shift conversion is
 * checked there); a forced CLOCK_MONOTONIC_RAW is honoured: odpt_now_ns()
 * then reads that clock itself, not the TSC and not another clock id.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "odpt/clock.h"

/* A (clock, raw) pair read close together: the tightest of 16 tries. */
static void read_pair(uint64_t *now, uint64_t *raw)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		uint64_t a = odpt_clock_raw_ns(), t = odpt_now_ns(), b = odpt_clock_raw_ns();

		if (b - a < best) {
			best = b - a;
			*now = t;
			*raw = a + (b - a) / 2;
		}
	}
}

static void check_rate(void)
{
	uint64_t n0 = 0, r0 = 0, n1 = 0, r1 = 0, dn, dr;

	read_pair(&n0, &r0);
	while (odpt_clock_raw_ns() - r0 < 50000000ULL)
		;
	read_pair(&n1, &r1);
	dn = n1 - n0;
	dr = r1 - r0;
	/* within 0.2% plus a few reads' worth of noise */
	if ((dn > dr ? dn - dr : dr - dn) > dr / 500 + 20000)
		fail_msg("%llu ns by odpt_now_ns vs %llu ns by CLOCK_MONOTONIC_RAW",
			 (unsigned long long)dn, (unsigned long long)dr);
}

static void check_monotonic(void)
{
	uint64_t prev = odpt_now_ns();
	int i;

	for (i = 0; i < 1000000; i++) {
		uint64_t now = odpt_now_ns();

		assert_true(now >= prev);
		prev = now;
	}
}

static void test_auto(void **state)
{
	const struct odpt_clock_info *ci;

	assert_int_equal(odpt_clock_init(-1), 0);
	ci = odpt_clock_info();
	assert_true(ci->initialised);
	assert_non_null(ci->why);
	assert_true(ci->overhead_ns > 0 && ci->overhead_ns < 100000);
	assert_true(ci->resolution_ns > 0 && ci->resolution_ns < 1000000);
	if (ci->source == ODPT_CLOCK_TSC) {
		assert_string_equal(ci->source_name, "tsc");
		assert_true(ci->tsc_hz > 100000000ULL);   /* > 100 MHz */
		assert_true(odpt_clock_state.use_tsc);
	} else {
		assert_string_equal(ci->source_name, "clock_monotonic_raw");
		assert_int_equal(ci->tsc_hz, 0);
	}
	check_monotonic();
	check_rate();
}

/* CLOCK_MONOTONIC_RAW read here, not through the clock under test. */
static uint64_t raw_ref_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Forced CLOCK_MONOTONIC_RAW: every odpt_now_ns() lies between two reads
 * of that clock taken around it. A TSC reading counts from the
 * calibration's base (far below the raw clock's uptime-sized values), and
 * another clock id drifts from the raw one by its NTP slew (CLOCK_MONOTONIC)
 * or more, so either falls outside the bracket.
 */
static void test_forced_raw(void **state)
{
	const struct odpt_clock_info *ci;

	assert_int_equal(odpt_clock_init(ODPT_CLOCK_MONOTONIC_RAW), 0);
	ci = odpt_clock_info();
	assert_int_equal(ci->source, ODPT_CLOCK_MONOTONIC_RAW);
	assert_string_equal(ci->source_name, "clock_monotonic_raw");
	assert_string_equal(ci->why, "forced by the caller");
	assert_int_equal(ci->tsc_hz, 0);
	for (int i = 0; i < 1000; i++) {
		uint64_t a = raw_ref_ns(), now = odpt_now_ns(), b = raw_ref_ns();

		if (now < a || now > b)
			fail_msg("odpt_now_ns() %llu outside CLOCK_MONOTONIC_RAW's [%llu, %llu] read around it",
				 (unsigned long long)now, (unsigned long long)a,
				 (unsigned long long)b);
	}
	check_monotonic();
}

static void test_forced_tsc(void **state)
{
	int ret = odpt_clock_init(ODPT_CLOCK_TSC);

	/* either a calibrated TSC or a clear refusal, never a silent fallback */
	if (ret == 0) {
		assert_int_equal(odpt_clock_info()->source, ODPT_CLOCK_TSC);
		check_rate();
	} else {
		assert_true(ret == -ENOTSUP || ret == -ERANGE || ret == -EIO);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_forced_raw),
		cmocka_unit_test(test_forced_tsc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
