// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt_proc_field() on a file of known lines: the number after "key:" in
 * the base asked for, the first matching line only, a key that is only a
 * prefix of another is not that key, and the errors for a missing key, a
 * key without a number and a file that does not exist; then
 * odpt_mem_available_bytes() agrees with the real /proc/meminfo.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/procfs.h"

static void test_fields(void **state)
{
	char path[] = "/tmp/odpt-procfs-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	unsigned long long v = 0;

	(void)state;
	assert_non_null(f);
	fputs("MemTotal:       2000 kB\nMemAvailableX:  1 kB\nMemAvailable:   1234 kB\n"
	      "MemAvailable:   99 kB\nCapEff:\t00000000a80425fb\nEmpty:\n", f);
	fclose(f);
	assert_int_equal(odpt_proc_field(path, "MemAvailable", 10, &v), 0);
	assert_int_equal(v, 1234);   /* not MemAvailableX's, not the second line's */
	assert_int_equal(odpt_proc_field(path, "CapEff", 16, &v), 0);
	assert_int_equal(v, 0xa80425fbULL);
	assert_int_equal(odpt_proc_field(path, "MemAvail", 10, &v), -ENOENT);
	assert_int_equal(odpt_proc_field(path, "Empty", 10, &v), -EINVAL);
	unlink(path);
	assert_int_equal(odpt_proc_field(path, "MemTotal", 10, &v), -ENOENT);
}

static void test_mem_available(void **state)
{
	unsigned long long kb = 0;
	uint64_t b = odpt_mem_available_bytes();

	(void)state;
	assert_int_equal(odpt_proc_field("/proc/meminfo", "MemAvailable", 10, &kb), 0);
	assert_true(kb > 0);
	/* Two reads a moment apart: within 10% of each other. */
	assert_true(b > kb * 1024 * 9 / 10 && b < kb * 1024 * 11 / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_mem_available),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
