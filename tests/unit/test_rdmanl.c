// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The RDMA netlink parsers (include/odpt/rdmanl.h) on messages built here
 * byte by byte, in the shapes drivers/infiniband/core/nldev.c sends: an
 * mlx5-like STAT_GET dump with per-MR hardware counters (and the PAD
 * attributes nla_put_u64_64bit inserts), an rxe-like STAT_GET reply
 * without counters, a RES_MR dump spread over two datagrams with a stale
 * message of another request in between, NLMSG_ERROR and an error in
 * NLMSG_DONE, a reply of the wrong type, and malformed input: a truncated
 * attribute, a wrong-sized integer, a string without its NUL, a counter
 * without a value, and every truncation of a valid message (each must be
 * refused or parsed as a shorter valid message, never read past the end).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "odpt/rdmanl.h"

#define SEQ 0x1234

/* ---- a message builder, independent of the code under test ---------------- */

struct mb {
	uint8_t b[8192];
	size_t len;
	size_t msg;           /* start of the open message */
	size_t nest[8];
	int depth;
};

static void put(struct mb *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	if (n)
		memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void pad4(struct mb *m)
{
	static const uint8_t z[4];

	put(m, z, (4 - (m->len & 3)) & 3);
}

static void set16(struct mb *m, size_t off, uint16_t v)
{
	memcpy(m->b + off, &v, sizeof(v));
}

static void set32(struct mb *m, size_t off, uint32_t v)
{
	memcpy(m->b + off, &v, sizeof(v));
}

/* nlmsghdr: len (u32), type (u16), flags (u16), seq (u32), pid (u32). */
static void msg_begin(struct mb *m, uint16_t type, uint16_t flags, uint32_t seq)
{
	uint8_t h[16] = { 0 };

	m->msg = m->len;
	put(m, h, sizeof(h));
	set16(m, m->msg + 4, type);
	set16(m, m->msg + 6, flags);
	set32(m, m->msg + 8, seq);
}

static void msg_end(struct mb *m)
{
	set32(m, m->msg, (uint32_t)(m->len - m->msg));
	pad4(m);
}

/* nlattr: len (u16), type (u16), payload, padding to 4. */
static void attr(struct mb *m, uint16_t type, const void *p, size_t n)
{
	size_t at = m->len;
	uint8_t h[4] = { 0 };

	put(m, h, sizeof(h));
	set16(m, at, (uint16_t)(4 + n));
	set16(m, at + 2, type);
	put(m, p, n);
	pad4(m);
}

static void a32(struct mb *m, uint16_t type, uint32_t v)
{
	attr(m, type, &v, sizeof(v));
}

/* As nla_put_u64_64bit: a PAD attribute first when the payload would not
 * be 8-byte aligned (the buffer start counts as aligned). */
static void a64(struct mb *m, uint16_t type, uint64_t v)
{
	if ((m->len + 4) & 7)
		attr(m, RDMA_NLDEV_ATTR_PAD, NULL, 0);
	attr(m, type, &v, sizeof(v));
}

static void astr(struct mb *m, uint16_t type, const char *s)
{
	attr(m, type, s, strlen(s) + 1);
}

static void nest_begin(struct mb *m, uint16_t type, bool flag)
{
	uint8_t h[4] = { 0 };

	m->nest[m->depth++] = m->len;
	put(m, h, sizeof(h));
	set16(m, m->len - 2, (uint16_t)(type | (flag ? NLA_F_NESTED : 0)));
}

static void nest_end(struct mb *m)
{
	size_t at = m->nest[--m->depth];

	set16(m, at, (uint16_t)(m->len - at));
}

static uint16_t nldev(unsigned cmd)
{
	return (uint16_t)RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
}

static void done_msg(struct mb *m, uint32_t seq, int32_t err)
{
	msg_begin(m, NLMSG_DONE, NLM_F_MULTI, seq);
	put(m, &err, sizeof(err));
	msg_end(m);
}

static void counter(struct mb *m, const char *name, uint64_t v)
{
	nest_begin(m, RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY, true);
	astr(m, RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME, name);
	a64(m, RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_VALUE, v);
	nest_end(m);
}

static void handle(struct mb *m, uint32_t index, const char *name)
{
	a32(m, RDMA_NLDEV_ATTR_DEV_INDEX, index);
	astr(m, RDMA_NLDEV_ATTR_DEV_NAME, name);
}

/* mlx5: fill_stat_mr_entry puts MRN, then the driver's table for ODP MRs. */
static void mlx5_stat_dump(struct mb *m, uint32_t seq)
{
	msg_begin(m, nldev(RDMA_NLDEV_CMD_STAT_GET), NLM_F_MULTI, seq);
	handle(m, 3, "mlx5_0");
	nest_begin(m, RDMA_NLDEV_ATTR_RES_MR, false);
	nest_begin(m, RDMA_NLDEV_ATTR_RES_MR_ENTRY, false);
	a32(m, RDMA_NLDEV_ATTR_RES_MRN, 7);
	nest_begin(m, RDMA_NLDEV_ATTR_STAT_HWCOUNTERS, true);
	counter(m, "page_faults", 1024);
	counter(m, "page_faults_handled", 1000);
	counter(m, "page_invalidations", 512);
	counter(m, "page_invalidations_handled", 511);
	counter(m, "page_prefetch", 3);
	nest_end(m);
	nest_end(m);
	nest_begin(m, RDMA_NLDEV_ATTR_RES_MR_ENTRY, false);
	a32(m, RDMA_NLDEV_ATTR_RES_MRN, 8);   /* a pinned MR: no table */
	nest_end(m);
	nest_end(m);
	msg_end(m);
	done_msg(m, seq, 0);
}

static void res_mr_entry(struct mb *m, uint32_t mrn, uint32_t lkey, uint64_t len,
			 uint32_t pid)
{
	nest_begin(m, RDMA_NLDEV_ATTR_RES_MR_ENTRY, false);
	a32(m, RDMA_NLDEV_ATTR_RES_RKEY, lkey ^ 0x100);
	a32(m, RDMA_NLDEV_ATTR_RES_LKEY, lkey);
	a64(m, RDMA_NLDEV_ATTR_RES_MRLEN, len);
	a32(m, RDMA_NLDEV_ATTR_RES_MRN, mrn);
	a32(m, RDMA_NLDEV_ATTR_RES_PDN, 2);
	a32(m, RDMA_NLDEV_ATTR_RES_PID, pid);
	/* A driver table (mlx5's "odp" = "explicit"): skipped. */
	nest_begin(m, RDMA_NLDEV_ATTR_DRIVER, true);
	nest_begin(m, RDMA_NLDEV_ATTR_DRIVER_ENTRY, true);
	astr(m, RDMA_NLDEV_ATTR_DRIVER_STRING, "odp");
	nest_end(m);
	nest_end(m);
	nest_end(m);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_mlx5_counters(void **state)
{
	struct odpt_nl_mrs l = { 0 };
	struct mb m = { 0 };
	uint64_t v = 0;

	(void)state;
	mlx5_stat_dump(&m, SEQ);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), 1);
	assert_int_equal(l.dev_index, 3);
	assert_string_equal(l.dev_name, "mlx5_0");
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].mrn, 7);
	assert_true(l.v[0].has & ODPT_NL_HAS_COUNTERS);
	assert_int_equal(l.v[0].ncounters, 5);
	assert_int_equal(l.v[0].ncounters_dropped, 0);
	assert_true(odpt_nl_mr_counter(&l.v[0], "page_faults", &v));
	assert_int_equal(v, 1024);
	assert_true(odpt_nl_mr_counter(&l.v[0], "page_invalidations_handled", &v));
	assert_int_equal(v, 511);
	assert_true(odpt_nl_mr_counter(&l.v[0], "page_prefetch", &v));
	assert_int_equal(v, 3);
	assert_false(odpt_nl_mr_counter(&l.v[0], "page_fault", &v));
	assert_int_equal(l.v[1].mrn, 8);
	assert_false(l.v[1].has & ODPT_NL_HAS_COUNTERS);
	assert_int_equal(l.v[1].ncounters, 0);
	/* The same reply is not one to RES_MR_GET. */
	odpt_nl_mrs_free(&l);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_RES_MR_GET, &l),
			 -EPROTO);
	odpt_nl_mrs_free(&l);
}

/* rxe: no fill_stat_mr_entry, so a STAT_GET for one MR (doit) is the
 * handle and the MRN, at the top level, in one message without MULTI. */
static void test_rxe_no_counters(void **state)
{
	struct odpt_nl_mrs l = { 0 };
	struct mb m = { 0 };

	(void)state;
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_STAT_GET), 0, SEQ);
	handle(&m, 0, "rxe0");
	a32(&m, RDMA_NLDEV_ATTR_RES_MRN, 12);
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), 1);
	assert_string_equal(l.dev_name, "rxe0");
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].mrn, 12);
	assert_int_equal(l.v[0].has, ODPT_NL_HAS_MRN);
	assert_int_equal(l.v[0].ncounters, 0);
	odpt_nl_mrs_free(&l);
}

static void test_multipart_res_dump(void **state)
{
	struct odpt_nl_mrs l = { 0 };
	struct mb a = { 0 }, b = { 0 };

	(void)state;
	/* Datagram 1: a stale message of an earlier request, then a batch. */
	msg_begin(&a, nldev(RDMA_NLDEV_CMD_RES_MR_GET), NLM_F_MULTI, SEQ - 1);
	handle(&a, 1, "rxe0");
	msg_end(&a);
	msg_begin(&a, nldev(RDMA_NLDEV_CMD_RES_MR_GET), NLM_F_MULTI, SEQ);
	handle(&a, 1, "rxe0");
	nest_begin(&a, RDMA_NLDEV_ATTR_RES_MR, false);
	res_mr_entry(&a, 1, 0x101, 4096, 77);
	res_mr_entry(&a, 2, 0x202, 8192, 77);
	nest_end(&a);
	msg_end(&a);
	assert_int_equal(odpt_nl_parse_mrs(a.b, a.len, SEQ, RDMA_NLDEV_CMD_RES_MR_GET, &l), 0);
	assert_int_equal(l.n, 2);
	/* Datagram 2: the last batch and NLMSG_DONE. */
	msg_begin(&b, nldev(RDMA_NLDEV_CMD_RES_MR_GET), NLM_F_MULTI, SEQ);
	handle(&b, 1, "rxe0");
	nest_begin(&b, RDMA_NLDEV_ATTR_RES_MR, false);
	res_mr_entry(&b, 3, 0x303, (uint64_t)5 << 32, 78);
	nest_end(&b);
	msg_end(&b);
	done_msg(&b, SEQ, 0);
	assert_int_equal(odpt_nl_parse_mrs(b.b, b.len, SEQ, RDMA_NLDEV_CMD_RES_MR_GET, &l), 1);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.nmsgs, 2);   /* the stale one is not counted */
	for (unsigned i = 0; i < 3; i++) {
		const struct odpt_nl_mr *mr = &l.v[i];

		assert_int_equal(mr->has, ODPT_NL_HAS_MRN | ODPT_NL_HAS_LKEY | ODPT_NL_HAS_RKEY |
				 ODPT_NL_HAS_MRLEN | ODPT_NL_HAS_PID | ODPT_NL_HAS_PDN);
		assert_int_equal(mr->mrn, i + 1);
		assert_int_equal(mr->lkey, 0x101 * (i + 1));
		assert_int_equal(mr->rkey, (0x101 * (i + 1)) ^ 0x100);
		assert_int_equal(mr->pdn, 2);
	}
	assert_int_equal(l.v[0].len_bytes, 4096);
	assert_int_equal(l.v[1].len_bytes, 8192);
	assert_true(l.v[2].len_bytes == (uint64_t)5 << 32);
	assert_int_equal(l.v[2].pid, 78);
	odpt_nl_mrs_free(&l);
}

static void test_errors(void **state)
{
	struct odpt_nl_mrs l = { 0 };
	struct mb m = { 0 };
	int32_t err = -EPERM;
	uint8_t orig[16] = { 0 };

	(void)state;
	/* NLMSG_ERROR: the errno and the request's header. */
	msg_begin(&m, NLMSG_ERROR, 0, SEQ);
	put(&m, &err, sizeof(err));
	put(&m, orig, sizeof(orig));
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), -EPERM);
	/* An acknowledgement (error 0) completes the reply. */
	memset(&m, 0, sizeof(m));
	err = 0;
	msg_begin(&m, NLMSG_ERROR, 0, SEQ);
	put(&m, &err, sizeof(err));
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), 1);
	/* NLMSG_ERROR too short to hold the errno. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, NLMSG_ERROR, 0, SEQ);
	put(&m, &err, 2);
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), -EPROTO);
	/* A positive "errno" is not something the kernel sends. */
	memset(&m, 0, sizeof(m));
	err = 5;
	msg_begin(&m, NLMSG_ERROR, 0, SEQ);
	put(&m, &err, sizeof(err));
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), -EPROTO);
	/* A dump that failed part-way: the errno in NLMSG_DONE. */
	memset(&m, 0, sizeof(m));
	done_msg(&m, SEQ, -EINVAL);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), -EINVAL);
	/* An error for another request is not ours. */
	memset(&m, 0, sizeof(m));
	err = -EPERM;
	msg_begin(&m, NLMSG_ERROR, 0, SEQ + 1);
	put(&m, &err, sizeof(err));
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), 0);
	assert_int_equal(l.n, 0);
	odpt_nl_mrs_free(&l);
}

static int parse_one(struct mb *m)
{
	struct odpt_nl_mrs l = { 0 };
	int ret = odpt_nl_parse_mrs(m->b, m->len, SEQ, RDMA_NLDEV_CMD_RES_MR_GET, &l);

	odpt_nl_mrs_free(&l);
	return ret;
}

static void test_malformed(void **state)
{
	uint8_t three[3] = { 1, 2, 3 };
	struct mb m = { 0 };
	char nonul[4] = { 'r', 'x', 'e', '0' };

	(void)state;
	/* An attribute whose length runs past its message. */
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_RES_MR_GET), 0, SEQ);
	a32(&m, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	msg_end(&m);
	set16(&m, 16, 200);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* An attribute length below the header size. */
	set16(&m, 16, 2);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* A u32 of three bytes. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_RES_MR_GET), 0, SEQ);
	attr(&m, RDMA_NLDEV_ATTR_DEV_INDEX, three, sizeof(three));
	msg_end(&m);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* A u32 inside an MR entry of three bytes. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_RES_MR_GET), 0, SEQ);
	nest_begin(&m, RDMA_NLDEV_ATTR_RES_MR, false);
	nest_begin(&m, RDMA_NLDEV_ATTR_RES_MR_ENTRY, false);
	attr(&m, RDMA_NLDEV_ATTR_RES_LKEY, three, sizeof(three));
	nest_end(&m);
	nest_end(&m);
	msg_end(&m);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* A device name without its NUL. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_RES_MR_GET), 0, SEQ);
	attr(&m, RDMA_NLDEV_ATTR_DEV_NAME, nonul, sizeof(nonul));
	msg_end(&m);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* A counter without a value. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_RES_MR_GET), 0, SEQ);
	a32(&m, RDMA_NLDEV_ATTR_RES_MRN, 1);
	nest_begin(&m, RDMA_NLDEV_ATTR_STAT_HWCOUNTERS, true);
	nest_begin(&m, RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY, true);
	astr(&m, RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME, "page_faults");
	nest_end(&m);
	nest_end(&m);
	msg_end(&m);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* A message header claiming more bytes than were received. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_RES_MR_GET), 0, SEQ);
	a32(&m, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
	msg_end(&m);
	set32(&m, 0, (uint32_t)m.len + 4);
	assert_int_equal(parse_one(&m), -EPROTO);
	/* Fewer bytes than a message header. */
	m.len = 10;
	assert_int_equal(parse_one(&m), -EPROTO);
	/* A reply of another family's type. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, RDMA_NL_GET_TYPE(RDMA_NL_LS, 1), 0, SEQ);
	msg_end(&m);
	assert_int_equal(parse_one(&m), -EPROTO);
}

/* Cut a valid mlx5 reply (and its length fields) at every byte: the parser
 * must refuse it or see a shorter valid message, and never crash. */
static void test_truncations(void **state)
{
	struct mb full = { 0 };
	uint32_t first_len;
	int refused = 0;

	(void)state;
	mlx5_stat_dump(&full, SEQ);
	memcpy(&first_len, full.b, sizeof(first_len));
	for (size_t cut = 0; cut < full.len; cut++) {
		struct odpt_nl_mrs l = { 0 };
		struct mb m = full;
		int ret;

		/* Raw prefix of the datagram. */
		ret = odpt_nl_parse_mrs(m.b, cut, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l);
		assert_true(ret == -EPROTO || ret == 0 || ret == 1);
		odpt_nl_mrs_free(&l);
		/* The first message shortened, its length field adjusted. */
		if (cut >= 16 && cut < first_len) {
			m.len = cut;
			set32(&m, 0, (uint32_t)cut);
			ret = odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l);
			/* Still NLM_F_MULTI, and NLMSG_DONE is cut off. */
			assert_true(ret == -EPROTO || ret == 0);
			refused += ret == -EPROTO;
			for (size_t i = 0; i < l.n; i++)
				assert_true(l.v[i].ncounters <= ODPT_NL_MAX_COUNTERS);
			odpt_nl_mrs_free(&l);
		}
	}
	/* Most cuts land inside an attribute. */
	assert_true(refused > (int)first_len / 2);
}

static void test_devs(void **state)
{
	struct odpt_nl_devs d = { 0 };
	struct mb m = { 0 };

	(void)state;
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_GET), NLM_F_MULTI, SEQ);
	handle(&m, 0, "rxe0");
	a32(&m, RDMA_NLDEV_ATTR_PORT_INDEX, 1);
	msg_end(&m);
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_GET), NLM_F_MULTI, SEQ);
	handle(&m, 4, "mlx5_1");
	msg_end(&m);
	done_msg(&m, SEQ, 0);
	assert_int_equal(odpt_nl_parse_devs(m.b, m.len, SEQ, &d), 1);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[1].name, "mlx5_1");
	assert_int_equal(d.v[1].index, 4);
	odpt_nl_devs_free(&d);
	/* A device without its index is malformed. */
	memset(&m, 0, sizeof(m));
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_GET), NLM_F_MULTI, SEQ);
	astr(&m, RDMA_NLDEV_ATTR_DEV_NAME, "rxe0");
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_devs(m.b, m.len, SEQ, &d), -EPROTO);
	odpt_nl_devs_free(&d);
}

/* More counters than fit are counted as dropped, not written past the array. */
static void test_many_counters(void **state)
{
	struct odpt_nl_mrs l = { 0 };
	struct mb m = { 0 };
	char name[16];

	(void)state;
	msg_begin(&m, nldev(RDMA_NLDEV_CMD_STAT_GET), 0, SEQ);
	a32(&m, RDMA_NLDEV_ATTR_RES_MRN, 9);
	nest_begin(&m, RDMA_NLDEV_ATTR_STAT_HWCOUNTERS, true);
	for (int i = 0; i < ODPT_NL_MAX_COUNTERS + 3; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		counter(&m, name, (uint64_t)i);
	}
	nest_end(&m);
	msg_end(&m);
	assert_int_equal(odpt_nl_parse_mrs(m.b, m.len, SEQ, RDMA_NLDEV_CMD_STAT_GET, &l), 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].ncounters, ODPT_NL_MAX_COUNTERS);
	assert_int_equal(l.v[0].ncounters_dropped, 3);
	odpt_nl_mrs_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mlx5_counters),
		cmocka_unit_test(test_rxe_no_counters),
		cmocka_unit_test(test_multipart_res_dump),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_devs),
		cmocka_unit_test(test_many_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
