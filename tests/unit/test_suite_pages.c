// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit test of the suite's page-state helpers, which the prefetch cases
 * rest on: resident_pages() (mincore) and page_states() (pagemap) must tell
 * an absent page, a page a read fault mapped (the shared zero page: present,
 * not private) and a page a write fault allocated (present and private).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/lib/suite/rig.h"

static void test_page_states(void **state)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 4 * pg;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long present = -1, priv = -1;
	volatile uint8_t sink;

	(void)state;
	assert_true(m != MAP_FAILED);
	assert_int_equal(page_states(m, len, &present, &priv), 0);
	assert_int_equal(present, 0);
	assert_int_equal(priv, 0);
	assert_int_equal(resident_pages(m, len), 0);

	sink = ((volatile uint8_t *)m)[0];   /* read fault: zero page */
	(void)sink;
	m[pg] = 1;                           /* write fault: a private page */
	assert_int_equal(page_states(m, len, &present, &priv), 0);
	assert_int_equal(present, 2);
	assert_int_equal(priv, 1);
	assert_int_equal(resident_pages(m, len), 2);

	m[0] = 2;                            /* write to the zero page: COW */
	assert_int_equal(page_states(m, len, &present, &priv), 0);
	assert_int_equal(priv, 2);

	assert_int_equal(madvise(m, len, MADV_DONTNEED), 0);
	assert_int_equal(page_states(m, len, &present, &priv), 0);
	assert_int_equal(present, 0);
	assert_int_equal(priv, 0);
	munmap(m, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
