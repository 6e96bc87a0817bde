// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the suite's bug models and page verdicts (bugmodel.c,
 * race_page_verdict() in rig.c): damage exactly as the rxe page-offset copy
 * bug predicts is recognised (the lab's measured figures among them), any
 * other damage (a flipped byte, a dropped write) is not; the int-length
 * bug's EINVAL band and a size in it whatever the RAM; a page after the
 * MADV_DONTNEED race is the WRITE's bytes or a legitimately dropped page,
 * and a lost or misdirected write is neither; an op the device advertises
 * but cannot post is not a skip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/lib/suite/bugmodel.h"
#include "../../src/lib/suite/cases.h"
#include "../../src/lib/suite/rig.h"

#define PG 4096

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat_byte(seed, i);
}

/* docs/lab-facts.md: a 300-byte WRITE to page offset 3996 of an ODP MR (pinned
 * source) completes, all 300 bytes are wrong and 100 bytes at the start of
 * the first page are overwritten. Built here by hand from that text. */
static void test_copy_write_crossing(void **state)
{
	struct bm_xfer x = { .soff = 0, .doff = PG - 100, .len = 300, .mtu = 1024, .pg = PG,
			     .src_odp = false, .dst_odp = true };
	uint8_t src[PG], dst0[2 * PG], dst[2 * PG];
	struct bm_result res;

	(void)state;
	fill(src, sizeof(src), 7);
	memset(dst0, 0, sizeof(dst0));
	memcpy(dst, dst0, sizeof(dst));
	memcpy(dst, src, 100);          /* first page's part, at page offset 0 */
	memcpy(dst + PG, src, 200);     /* second page's part, from the packet start */
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, dst, sizeof(dst), &res), 0);
	assert_int_equal(res.v, BM_PREDICTED);
	assert_true(res.wrong > 380);   /* 300 target + 100 guard bytes, bar equal bytes */

	/* The same damage and one byte more: another bug. */
	dst[PG + 250] ^= 0x40;
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, dst, sizeof(dst), &res), 0);
	assert_int_equal(res.v, BM_OTHER);
	assert_int_equal(res.first_unexplained, PG + 250);

	/* A correct transfer. */
	memcpy(dst, dst0, sizeof(dst));
	memcpy(dst + PG - 100, src, 300);
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, dst, sizeof(dst), &res), 0);
	assert_int_equal(res.v, BM_CORRECT);

	/* A new corruption where the bug changes nothing: one flipped byte. */
	dst[PG - 50] ^= 1;
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, dst, sizeof(dst), &res), 0);
	assert_int_equal(res.v, BM_OTHER);

	/* A responder that drops the WRITE: the destination never changed. */
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, dst0, sizeof(dst), &res), 0);
	assert_int_equal(res.v, BM_OTHER);
}

/* docs/lab-facts.md: an 8 KiB page-aligned WRITE between ODP MRs loses 6122 of
 * 8192 bytes (3 of every 4 packets land at offset 0 of their page). */
static void test_copy_multi_packet(void **state)
{
	struct bm_xfer x = { .soff = 0, .doff = 0, .len = 2 * PG, .mtu = 1024, .pg = PG,
			     .src_odp = true, .dst_odp = true };
	uint8_t src[2 * PG], dst0[2 * PG], pred[2 * PG], known[2 * PG];
	size_t wrong = 0, unknown = 0;
	struct bm_result res;

	(void)state;
	fill(src, sizeof(src), 3);
	memset(dst0, 0, sizeof(dst0));
	assert_int_equal(bm_rxe_copy_predict(&x, src, sizeof(src), dst0, sizeof(dst0), pred, known), 0);
	for (size_t i = 0; i < sizeof(pred); i++) {
		wrong += pred[i] != src[i];
		unknown += !known[i];
	}
	assert_int_equal(unknown, 0);
	assert_true(wrong >= 6050 && wrong <= 6144);
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, pred, sizeof(pred), &res), 0);
	assert_int_equal(res.v, BM_PREDICTED);
	assert_int_equal(res.wrong, wrong);

	/* Pinned on both sides the model is a correct copy: any damage is other. */
	x.src_odp = x.dst_odp = false;
	assert_int_equal(bm_rxe_copy_classify(&x, src, sizeof(src), dst0, pred, sizeof(pred), &res), 0);
	assert_int_equal(res.v, BM_OTHER);
}

/* READ across a page from an ODP MR: the buggy read leaves the packet's
 * tail unfilled, so those destination bytes are unknown to the model. */
static void test_copy_read_unknown_tail(void **state)
{
	struct bm_xfer x = { .soff = PG - 100, .doff = 0, .len = 300, .mtu = 1024, .pg = PG,
			     .src_odp = true, .dst_odp = false };
	uint8_t src[2 * PG], dst0[PG], pred[PG], known[PG];

	(void)state;
	fill(src, sizeof(src), 9);
	memset(dst0, 0xa5, sizeof(dst0));
	assert_int_equal(bm_rxe_copy_predict(&x, src, sizeof(src), dst0, sizeof(dst0), pred, known), 0);
	assert_memory_equal(pred, src + PG, 200);   /* the second page's start */
	for (size_t i = 200; i < 300; i++)
		assert_int_equal(known[i], 0);
	assert_int_equal(known[300], 1);
	assert_int_equal(pred[300], 0xa5);
	x.len = PG + 1;   /* does not fit */
	assert_int_equal(bm_rxe_copy_predict(&x, src, sizeof(src), dst0, sizeof(dst0), pred, known), -EINVAL);
}

static void test_int_len(void **state)
{
	const uint64_t G = 1ull << 30;

	(void)state;
	assert_false(bm_rxe_int_len_einval(2 * G - PG));
	assert_true(bm_rxe_int_len_einval(2 * G));
	assert_true(bm_rxe_int_len_einval(4 * G - PG));
	assert_false(bm_rxe_int_len_einval(4 * G + PG));
	assert_false(bm_rxe_int_len_einval(5 * G));
	assert_true(bm_rxe_int_len_einval(6 * G + PG));
	/* 1.25 x RAM for guests of 1, 2, 3.2, 4.8 and 6 GiB: always in the band,
	 * never below 1.25 x RAM (3.2-4.8 GiB used to give 4-6 GiB MRs, which
	 * wrap and register on the buggy kernel). */
	const uint64_t ram_mib[] = { 1024, 2048, 3277, 4915, 6144 };
	for (int i = 0; i < 5; i++) {
		uint64_t min = ram_mib[i] * (1ull << 20) * 5 / 4;
		uint64_t len = bm_rxe_int_len_size(min, 2ull << 20);

		assert_true(len >= min);
		assert_true(bm_rxe_int_len_einval(len));
		assert_int_equal(len % (2ull << 20), 0);
		assert_true(len - min < 4 * G);
	}
	assert_int_equal(bm_rxe_int_len_size(2560ull << 20, 2ull << 20), 2560ull << 20);
	assert_int_equal(bm_rxe_int_len_size(4 * G, 2ull << 20), 6 * G);
}

/* The race case's page verdict. The old check (every byte the new value
 * or 0) passed every page below that is not RACE_NEW or RACE_DROPPED. */
static void test_race_page(void **state)
{
	uint8_t want[1024], page[PG];

	(void)state;
	fill(want, sizeof(want), 5);
	memset(page, 0, PG);
	memcpy(page, want, sizeof(want));
	assert_int_equal(race_page_verdict(page, PG, 1024, want, false, false), RACE_NEW);
	memset(page, 0, PG);
	assert_int_equal(race_page_verdict(page, PG, 1024, want, true, true), RACE_DROPPED);
	/* Mutant: a responder that drops writes. */
	assert_int_equal(race_page_verdict(page, PG, 1024, want, false, false), RACE_LOST);
	assert_int_equal(race_page_verdict(page, PG, 1024, want, true, false), RACE_LOST);
	/* Mutant: half the WRITE lost (old check: every byte new or 0, passes). */
	memcpy(page, want, 512);
	assert_int_equal(race_page_verdict(page, PG, 1024, want, true, true), RACE_TORN);
	/* Mutant: the next page's bytes landed here (misdirected). */
	fill(page, 1024, 6);
	assert_int_equal(race_page_verdict(page, PG, 1024, want, true, true), RACE_TORN);
	/* Bytes beyond the WRITE are never written. */
	memset(page, 0, PG);
	memcpy(page, want, sizeof(want));
	page[2000] = 1;
	assert_int_equal(race_page_verdict(page, PG, 1024, want, true, true), RACE_TORN);
}

/* EOPNOTSUPP at post time: only an op the device does not advertise skips. */
static void test_op_advertised(void **state)
{
	struct odpt_vcaps caps = { .odp = true, .driver = "fake", .lib_flush = true,
				   .lib_atomic_write = true, .atomic_cap = 1 };
	char buf[256];

	(void)state;
	caps.odp_tr[ODPT_TR_RC] = ODPT_ODP_WRITE | ODPT_ODP_FLUSH | ODPT_ODP_ATOMIC_WRITE;
	assert_null(odpt_case_op_unadvertised(&caps, ODPT_OP_FLUSH, 0, buf, sizeof(buf)));
	assert_null(odpt_case_op_unadvertised(&caps, ODPT_OP_ATOMIC_WRITE, 0, buf, sizeof(buf)));
	caps.odp_tr[ODPT_TR_RC] = ODPT_ODP_WRITE;
	assert_non_null(odpt_case_op_unadvertised(&caps, ODPT_OP_FLUSH, 0, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "FLUSH"));
	caps.lib_flush = false;
	caps.odp_tr[ODPT_TR_RC] |= ODPT_ODP_FLUSH;
	assert_non_null(odpt_case_op_unadvertised(&caps, ODPT_OP_FLUSH, 0, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "libibverbs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_write_crossing),
		cmocka_unit_test(test_copy_multi_packet),
		cmocka_unit_test(test_copy_read_unknown_tail),
		cmocka_unit_test(test_int_len),
		cmocka_unit_test(test_race_page),
		cmocka_unit_test(test_op_advertised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
