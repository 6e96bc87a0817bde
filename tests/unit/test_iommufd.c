// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the iommufd layer that need no /dev/iommu: the size and
 * backing lists `odpt iommufd bench` takes, the build's feature gaps, the
 * case table, and what every run does when the device is missing (probe
 * lists each capability as unavailable with a reason; bench, iopf and test
 * skip everything with the reason, in every format).
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt_config.h"
#include "odpt/iommufd.h"
#include "odpt/report.h"
#include "iommufd_int.h"
#include "unit_report.h"

#define NODEV "/nonexistent/odpt-test-iommu"

static void test_parse_sizes(void **state)
{
	uint64_t s[ODPT_IOMMUFD_MAX_SIZES];
	int n = -1;

	(void)state;
	assert_int_equal(odpt_iommufd_parse_sizes("4K,64K,2M,1G", 4096, s, ODPT_IOMMUFD_MAX_SIZES, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(s[0], 4096);
	assert_int_equal(s[1], 65536);
	assert_int_equal(s[2], 2u << 20);
	assert_int_equal(s[3], 1u << 30);
	assert_int_equal(odpt_iommufd_parse_sizes("8192", 4096, s, 4, &n), 0);
	assert_int_equal(n, 1);
	/* Not page multiples, zero, garbage, empty, too many. */
	assert_int_equal(odpt_iommufd_parse_sizes("3K", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes("4K,6K", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes("0", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes("abc", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes("", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes(",", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes("4K,4K,4K,4K,4K", 4096, s, 4, &n), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_sizes(NULL, 4096, s, 4, &n), -EINVAL);
}

static void test_parse_backings(void **state)
{
	unsigned m = 0;
	int b;

	(void)state;
	assert_int_equal(odpt_iommufd_parse_backings("anon,thp,hugetlb,memfd", &m), 0);
	assert_int_equal(m, (1u << ODPT_IOMMUFD_BACK_N) - 1);
	assert_int_equal(odpt_iommufd_parse_backings("memfd", &m), 0);
	assert_int_equal(m, 1u << ODPT_IOMMUFD_BACK_MEMFD);
	assert_int_equal(odpt_iommufd_parse_backings("anon,anon", &m), 0);
	assert_int_equal(m, 1u << ODPT_IOMMUFD_BACK_ANON);
	assert_int_equal(odpt_iommufd_parse_backings("anon,shm", &m), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_backings("", &m), -EINVAL);
	assert_int_equal(odpt_iommufd_parse_backings("ANON", &m), -EINVAL);
	for (b = 0; b < ODPT_IOMMUFD_BACK_N; b++) {
		assert_int_equal(odpt_iommufd_parse_backings(odpt_iommufd_backing_name(b), &m), 0);
		assert_int_equal(m, 1u << b);
	}
	assert_string_equal(odpt_iommufd_backing_name(ODPT_IOMMUFD_BACK_N), "?");
}

/* The gaps follow the build's defines, and the mock's names the option. */
static void test_build_gaps(void **state)
{
	const char *mock = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_MOCK);

	(void)state;
#ifdef ODPT_HAVE_IOMMUFD
	assert_null(odpt_iommufd_build_gap(ODPT_IOMMUFD_F_UAPI));
#else
	assert_non_null(odpt_iommufd_build_gap(ODPT_IOMMUFD_F_UAPI));
#endif
#if defined(ODPT_IOMMUFD_MOCK_HEADER) && defined(ODPT_HAVE_IOMMUFD)
	assert_null(mock);
#else
	assert_non_null(mock);
	if (!odpt_iommufd_build_gap(ODPT_IOMMUFD_F_UAPI))
		assert_non_null(strstr(mock, "ODPT_IOMMUFD_TEST_H"));
#endif
}

static void test_case_names(void **state)
{
	size_t i, j;

	(void)state;
	assert_non_null(odpt_iommufd_case_name(0));
	for (i = 0; odpt_iommufd_case_name(i); i++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(odpt_iommufd_case_name(i), odpt_iommufd_case_name(j));
	assert_true(i >= 10);
}

static void test_open_missing(void **state)
{
	int fd = -1;

	(void)state;
	assert_int_equal(odpt_iommufd_open(NODEV, &fd), -ENOENT);
	assert_int_equal(fd, -1);
}

/* Probe without a device: every capability listed, none available. */
static void test_probe_nodev(void **state)
{
	struct odpt_iommufd_probe_cfg cfg = { .dev = NODEV };
	struct json_object *root, *sec, *v;
	struct odpt_report *r;
	char *json;
	int n = 0;

	(void)state;
	assert_int_equal(odpt_report_create("iommufd probe", &r), 0);
	assert_int_equal(odpt_iommufd_probe(r, &cfg), 0);
	json = unit_render(r, ODPT_FMT_JSON, NULL);
	root = json_tokener_parse(json);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "iommufd", &sec) ||
		    (json_object_object_get_ex(root, "sections", &v) &&
		     json_object_object_get_ex(v, "iommufd", &sec)));
	json_object_object_foreach(sec, key, val) {
		struct json_object *avail, *reason;

		(void)key;
		assert_true(json_object_object_get_ex(val, "available", &avail));
		assert_false(json_object_get_boolean(avail));
		assert_true(json_object_object_get_ex(val, "skip_reason", &reason));
		assert_true(strlen(json_object_get_string(reason)) > 10);
		n++;
	}
	assert_true(n >= 10);
	json_object_put(root);
	free(json);
	odpt_report_destroy(r);
}

/* bench, iopf and test without a device: skipped, with the reason, and TAP
 * says so in its plan (kselftest's skip-all). */
static void test_runs_skip_nodev(void **state)
{
	struct odpt_iommufd_bench_cfg bc = { .dev = NODEV, .nsizes = 1, .sizes = { 4096 },
					     .backings = 1, .iters = 1, .mock = true };
	struct odpt_iommufd_iopf_cfg ic = { .dev = NODEV, .iters = 1, .timeout_ms = 100 };
	struct odpt_iommufd_test_cfg tc = { .dev = NODEV, .timeout_ms = 1000 };
	struct odpt_report *r;
	bool skipped;
	char *tap;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		skipped = false;
		assert_int_equal(odpt_report_create("iommufd", &r), 0);
		if (i == 0)
			assert_int_equal(odpt_iommufd_bench(r, &bc, &skipped), 0);
		else if (i == 1)
			assert_int_equal(odpt_iommufd_iopf(r, &ic, &skipped), 0);
		else
			assert_int_equal(odpt_iommufd_test(r, &tc, &skipped), 0);
		assert_true(skipped);
		tap = unit_render(r, ODPT_FMT_TAP, NULL);
		assert_non_null(strstr(tap, "1..0 # SKIP"));
		free(tap);
		odpt_report_destroy(r);
	}
}

static int case_pass(struct ifd_case_out *o, const void *arg)
{
	snprintf(o->reason, sizeof(o->reason), "%s", (const char *)arg);
	return ODPT_PASS;
}

static int case_hang(struct ifd_case_out *o, const void *arg)
{
	(void)arg;
	snprintf(o->stage, sizeof(o->stage), "waiting forever");
	for (;;)
		pause();
	return ODPT_PASS;
}

static int case_crash(struct ifd_case_out *o, const void *arg)
{
	(void)arg;
	snprintf(o->stage, sizeof(o->stage), "about to abort");
	abort();
}

static int case_exit(struct ifd_case_out *o, const void *arg)
{
	(void)arg;
	snprintf(o->stage, sizeof(o->stage), "exiting early");
	_exit(3);
}

/* The case runner: results come back from the child; a hang is killed at
 * the timeout and a crash or early exit fails, each naming the stage. */
static void test_forked_watchdog(void **state)
{
	struct ifd_case_out o;
	uint64_t dur = 0;

	(void)state;
	assert_int_equal(ifd_forked(case_pass, "from the child", 5000, &o, &dur), 0);
	assert_int_equal(o.result, ODPT_PASS);
	assert_string_equal(o.reason, "from the child");

	assert_int_equal(ifd_forked(case_hang, NULL, 200, &o, &dur), 0);
	assert_int_equal(o.result, ODPT_FAIL);
	assert_non_null(strstr(o.reason, "hung"));
	assert_non_null(strstr(o.reason, "waiting forever"));
	assert_true(dur >= 200 * 1000000ULL);
	assert_true(dur < 5000 * 1000000ULL);

	assert_int_equal(ifd_forked(case_crash, NULL, 5000, &o, &dur), 0);
	assert_int_equal(o.result, ODPT_FAIL);
	assert_non_null(strstr(o.reason, "signal"));
	assert_non_null(strstr(o.reason, "about to abort"));

	assert_int_equal(ifd_forked(case_exit, NULL, 5000, &o, &dur), 0);
	assert_int_equal(o.result, ODPT_FAIL);
	assert_non_null(strstr(o.reason, "without a result"));
	assert_non_null(strstr(o.reason, "exiting early"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sizes),
		cmocka_unit_test(test_parse_backings),
		cmocka_unit_test(test_build_gaps),
		cmocka_unit_test(test_case_names),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_probe_nodev),
		cmocka_unit_test(test_runs_skip_nodev),
		cmocka_unit_test(test_forked_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
