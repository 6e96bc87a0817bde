// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the verbs engine that need no RDMA device: capability bit
 * names, and behaviour on a machine without devices (listing is empty and
 * not an error; opening any device is -ENODEV). On a machine that has
 * devices the no-device checks are skipped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "odpt/verbs.h"

static void test_bit_names(void **state)
{
	char buf[128];

	assert_string_equal(odpt_odp_bit_name(ODPT_ODP_SEND), "SEND");
	assert_string_equal(odpt_odp_bit_name(ODPT_ODP_SRQ_RECV), "SRQ_RECV");
	{
		char tmp[16];

		assert_string_equal(odpt_odp_bit_label(0, tmp), "SEND");
		assert_string_equal(odpt_odp_bit_label(30, tmp), "BIT30");
	}
	assert_string_equal(odpt_odp_bit_name(ODPT_ODP_FLUSH), "FLUSH");
	assert_string_equal(odpt_odp_bit_name(ODPT_ODP_ATOMIC_WRITE), "ATOMIC_WRITE");
	assert_null(odpt_odp_bit_name(1u << 20));
	assert_string_equal(odpt_odp_bits_str(0, buf, sizeof(buf)), "none");
	assert_string_equal(odpt_odp_bits_str(ODPT_ODP_SEND | ODPT_ODP_READ | (1u << 9), buf,
					      sizeof(buf)), "SEND READ BIT9");
	assert_string_equal(odpt_transport_name(ODPT_TR_XRC), "xrc");
	assert_string_equal(odpt_vop_name(ODPT_OP_FAA), "ATOMIC_FETCH_AND_ADD");
	assert_string_equal(odpt_advice_name(ODPT_ADVISE_PREFETCH_NO_FAULT), "PREFETCH_NO_FAULT");
	assert_true(odpt_vop_in_library(ODPT_OP_WRITE));
	assert_non_null(odpt_verbs_lib_version());
}

static void test_no_devices(void **state)
{
	struct odpt_dev_info *devs = (void *)1;
	struct odpt_vctx *v = NULL;
	int n = -1;

	assert_int_equal(odpt_verbs_list(&devs, &n), 0);
	if (n > 0) {
		odpt_verbs_list_free(devs, n);
		skip();
	}
	assert_int_equal(n, 0);
	assert_null(devs);
	assert_int_equal(odpt_vctx_open(NULL, 1, -1, &v), -ENODEV);
	assert_int_equal(odpt_vctx_open("rxe0", 1, 1, &v), -ENODEV);
	assert_null(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bit_names),
		cmocka_unit_test(test_no_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
