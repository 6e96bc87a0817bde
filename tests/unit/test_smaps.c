// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt_smaps_kb() on a mapping of known size and residency: Size and Rss
 * of exactly that mapping (kept apart from its neighbours by PROT_NONE
 * guards, so the kernel cannot merge it into a larger one), nothing from
 * the next mapping, and -ENOENT for a field it does not have, a prefix of
 * a field's name and an address nothing maps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/smaps.h"

static void test_fields(void **state)
{
	long pg = sysconf(_SC_PAGESIZE), kpg = pg / 1024;
	char *g = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *m = g + 2 * pg;

	assert_ptr_not_equal(g, MAP_FAILED);
	assert_int_equal(mprotect(m, 4 * pg, PROT_READ | PROT_WRITE), 0);
	memset(m, 1, 3 * pg);   /* 3 of the 4 pages resident */
	assert_int_equal(odpt_smaps_kb(m + pg, "Size"), 4 * kpg);
	assert_int_equal(odpt_smaps_kb(m, "Rss"), 3 * kpg);
	/* The guard after it is another mapping, with nothing resident: the
	 * fields of one mapping never come from the next. */
	assert_int_equal(odpt_smaps_kb(m + 4 * pg, "Rss"), 0);
	assert_int_equal(odpt_smaps_kb(m, "NoSuchField"), -ENOENT);
	/* A prefix of a field's name is not that field. */
	assert_int_equal(odpt_smaps_kb(m, "Rs"), -ENOENT);
	munmap(g, 8 * pg);
	assert_int_equal(odpt_smaps_kb(m, "Size"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
