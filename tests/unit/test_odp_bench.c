// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench` without a device: scenario names, the --ops/--sizes/--side
 * lists and every scenario's defaults and limits, the fault - warm
 * arithmetic, the JSON a bench result has (series labelled op, size_bytes,
 * side, with raw buckets; the fault - warm scalars), and `odpt compare` on
 * two bench results: the same result is no change, a slower fault series
 * a regression, results of two scenarios a usage error (exit 2).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "odpt/bench.h"
#include "odpt/compare.h"
#include "unit_report.h"

static char err[256];

static void cfg_init(struct odpt_ob_cfg *c, enum odpt_ob_scenario s)
{
	memset(c, 0, sizeof(*c));
	c->scenario = s;
	c->warmup = UINT64_MAX;
}

static void test_scenario_names(void **state)
{
	enum odpt_ob_scenario s;

	(void)state;
	for (int i = 0; i < ODPT_OB_NSCENARIOS; i++) {
		assert_int_equal(odpt_ob_scenario_parse(odpt_ob_scenario_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(odpt_ob_scenario_name(ODPT_OB_FAULT), "fault");
	assert_string_equal(odpt_ob_scenario_name(ODPT_OB_STORM), "storm");
	assert_int_equal(odpt_ob_scenario_parse("faults", &s), -EINVAL);
	assert_int_equal(odpt_ob_scenario_parse(NULL, &s), -EINVAL);
}

static void test_parse_ops(void **state)
{
	struct odpt_ob_cfg c;

	(void)state;
	cfg_init(&c, ODPT_OB_FAULT);
	assert_int_equal(odpt_ob_parse_ops("write,READ,cas,WRITE,RDMA_READ", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nops, 3);   /* duplicates once */
	assert_int_equal(c.ops[0], ODPT_OP_WRITE);
	assert_int_equal(c.ops[1], ODPT_OP_READ);
	assert_int_equal(c.ops[2], ODPT_OP_CAS);
	assert_int_equal(odpt_ob_parse_ops("all", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nops, 7);
	assert_int_equal(odpt_ob_parse_ops("WRITE,FOO", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'FOO'"));
	assert_int_equal(odpt_ob_parse_ops("", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(odpt_ob_parse_ops(",,", &c, err, sizeof(err)), -EINVAL);
}

static void test_parse_sizes_side(void **state)
{
	struct odpt_ob_cfg c;
	unsigned side;

	(void)state;
	cfg_init(&c, ODPT_OB_FAULT);
	assert_int_equal(odpt_ob_parse_sizes("8,64,4K,1M,16M", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nsizes, 5);
	assert_int_equal(c.sizes[2], 4096);
	assert_int_equal(c.sizes[4], 16 << 20);
	assert_int_equal(odpt_ob_parse_sizes("8,x", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'x' is not a size"));
	assert_int_not_equal(odpt_ob_parse_sizes("99999999999999999999", &c, err, sizeof(err)), 0);
	assert_int_equal(odpt_ob_parse_side("local", &side), 0);
	assert_int_equal(side, ODPT_OB_SIDE_LOCAL);
	assert_int_equal(odpt_ob_parse_side("both", &side), 0);
	assert_int_equal(side, ODPT_OB_SIDE_BOTH);
	assert_int_equal(odpt_ob_parse_side("left", &side), -EINVAL);
}

static void test_defaults(void **state)
{
	struct odpt_ob_cfg c;

	(void)state;
	cfg_init(&c, ODPT_OB_WARM);
	assert_int_equal(odpt_ob_cfg_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.nops, 3);
	assert_int_equal(c.nsizes, 5);
	assert_int_equal(c.sizes[0], 8);
	assert_int_equal(c.sizes[4], 1 << 20);
	assert_int_equal(c.iters, 1000);
	assert_int_equal(c.warmup, 20);
	assert_int_equal(c.sides, ODPT_OB_SIDE_BOTH);

	cfg_init(&c, ODPT_OB_REG);
	assert_int_equal(odpt_ob_cfg_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.sizes[0], 4096);
	assert_int_equal(c.sizes[c.nsizes - 1], 64ULL << 30);
	assert_int_equal(c.warmup, 1);

	/* A warm-up of 0 given by the user stays 0. */
	cfg_init(&c, ODPT_OB_STORM);
	c.warmup = 0;
	assert_int_equal(odpt_ob_cfg_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.warmup, 0);
	assert_int_equal(c.threads, 4);
}

static int finish_with(enum odpt_ob_scenario s, const char *ops, const char *sizes, uint64_t iters)
{
	struct odpt_ob_cfg c;

	cfg_init(&c, s);
	c.iters = iters;
	if (ops && odpt_ob_parse_ops(ops, &c, err, sizeof(err)))
		return -100;
	if (sizes && odpt_ob_parse_sizes(sizes, &c, err, sizeof(err)))
		return -101;
	return odpt_ob_cfg_finish(&c, err, sizeof(err));
}

static void test_limits(void **state)
{
	(void)state;
	assert_int_equal(finish_with(ODPT_OB_FAULT, NULL, "16M", 1), 0);
	assert_int_equal(finish_with(ODPT_OB_FAULT, NULL, "0", 1), -ERANGE);
	assert_int_equal(finish_with(ODPT_OB_FAULT, NULL, "16777217", 1), -ERANGE);
	assert_non_null(strstr(err, "outside 1..16777216"));
	assert_int_equal(finish_with(ODPT_OB_WARM, NULL, "8", 1000000000), 0);
	assert_int_equal(finish_with(ODPT_OB_WARM, NULL, "8", 1000000001), -EINVAL);
	assert_non_null(strstr(err, "absurd"));
	/* Atomics only at 8 bytes; ops a scenario cannot time. */
	assert_int_equal(finish_with(ODPT_OB_FAULT, "CAS,WRITE", "8,4K", 1), 0);
	assert_int_equal(finish_with(ODPT_OB_FAULT, "FAA", "64", 1), -EINVAL);
	assert_non_null(strstr(err, "FAA moves 8 bytes"));
	assert_int_equal(finish_with(ODPT_OB_STORM, "SEND", NULL, 1), -EINVAL);
	assert_int_equal(finish_with(ODPT_OB_REFAULT, "READ", NULL, 1), 0);
	/* reg: 4 KiB multiples up to 64 GiB. */
	assert_int_equal(finish_with(ODPT_OB_REG, NULL, "4K,64G", 1), 0);
	assert_int_equal(finish_with(ODPT_OB_REG, NULL, "65G", 1), -ERANGE);
	assert_int_equal(finish_with(ODPT_OB_REG, NULL, "6000", 1), -EINVAL);
	assert_true(odpt_ob_op_size_ok(ODPT_OP_CAS, 8));
	assert_false(odpt_ob_op_size_ok(ODPT_OP_ATOMIC_WRITE, 64));
	assert_true(odpt_ob_op_size_ok(ODPT_OP_WRITE, 64));
}

static struct odpt_hist *hist_of(const uint64_t *v, int n, uint64_t times)
{
	struct odpt_hist *h = NULL;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	for (int i = 0; i < n; i++)
		odpt_hist_record_n(h, v[i], times);
	return h;
}

static void test_diff(void **state)
{
	const uint64_t f[] = { 100000, 200000, 300000 }, w[] = { 50000, 60000, 70000 };
	struct odpt_hist *hf = hist_of(f, 3, 1), *hw = hist_of(w, 3, 1), *empty = hist_of(f, 0, 0);
	struct odpt_ob_diff d;

	(void)state;
	assert_int_equal(odpt_ob_diff(hf, hw, &d), 0);
	/* p50: the 2nd of 3 samples, as the histogram reports it (an upper
	 * bound within 1/1024). */
	assert_int_equal(d.p50_ns, (int64_t)odpt_hist_value_at_percentile(hf, 50) -
				   (int64_t)odpt_hist_value_at_percentile(hw, 50));
	assert_true(d.p50_ns > 139800 && d.p50_ns < 140200);
	assert_true(d.mean_ns > 139800 && d.mean_ns < 140200);
	assert_true(d.p50_ratio > 3.32 && d.p50_ratio < 3.34);
	/* warm slower than fault: a negative difference, not clamped. */
	assert_int_equal(odpt_ob_diff(hw, hf, &d), 0);
	assert_true(d.p50_ns < -139800);
	assert_int_equal(odpt_ob_diff(hf, empty, &d), -ENODATA);
	assert_int_equal(odpt_ob_diff(empty, hw, &d), -ENODATA);
	odpt_hist_destroy(hf);
	odpt_hist_destroy(hw);
	odpt_hist_destroy(empty);
}

/* A bench warm result as the engine writes it: warm and fault series for
 * WRITE 4096 and the fault - warm row; fault values scaled by slow. */
static struct odpt_report *warm_result(const char *command, uint64_t slow)
{
	uint64_t fv[200], wv[200];
	struct odpt_report *r = NULL;
	struct odpt_hist *hf, *hw;
	struct odpt_ob_key k;

	for (int i = 0; i < 200; i++) {
		wv[i] = 30000 + (uint64_t)i * 50;
		fv[i] = (90000 + (uint64_t)i * 100) * slow;
	}
	hf = hist_of(fv, 200, 1);
	hw = hist_of(wv, 200, 1);
	assert_int_equal(odpt_report_create(command, &r), 0);
	odpt_ob_key_init(&k, ODPT_OP_WRITE, 4096, 0);
	assert_int_equal(odpt_report_hist(r, "warm_lat_ns", k.l, k.nl, hw), 0);
	odpt_ob_key_init(&k, ODPT_OP_WRITE, 4096, ODPT_OB_SIDE_REMOTE);
	assert_int_equal(odpt_report_hist(r, "fault_lat_ns", k.l, k.nl, hf), 0);
	assert_int_equal(odpt_ob_report_diff(r, ODPT_OP_WRITE, 4096, ODPT_OB_SIDE_REMOTE, hf, hw), 0);
	odpt_hist_destroy(hf);
	odpt_hist_destroy(hw);
	return r;
}

static void test_json_shape(void **state)
{
	struct odpt_write_opts o = { .raw_buckets = true };
	struct odpt_report *r = warm_result("bench warm", 1);
	char *text = unit_render(r, ODPT_FMT_JSON, &o);
	struct json_object *doc = json_tokener_parse(text), *series, *s, *l, *x, *scalars;
	bool found = false;

	(void)state;
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "series", &series));
	assert_int_equal(json_object_array_length(series), 2);
	s = json_object_array_get_idx(series, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(s, "name")), "fault_lat_ns");
	l = json_object_object_get(s, "labels");
	assert_string_equal(json_object_get_string(json_object_object_get(l, "op")), "WRITE");
	assert_string_equal(json_object_get_string(json_object_object_get(l, "size_bytes")), "4096");
	assert_string_equal(json_object_get_string(json_object_object_get(l, "side")), "remote");
	assert_int_equal(json_object_get_int64(json_object_object_get(s, "count")), 200);
	assert_true(json_object_object_get_ex(s, "buckets", &x));
	assert_true(json_object_array_length(x) > 0);
	/* The warm series has no side label. */
	l = json_object_object_get(json_object_array_get_idx(series, 0), "labels");
	assert_false(json_object_object_get_ex(l, "side", &x));
	assert_true(json_object_object_get_ex(doc, "scalars", &scalars));
	for (size_t i = 0; i < json_object_array_length(scalars); i++) {
		struct json_object *e = json_object_array_get_idx(scalars, i);

		if (strcmp(json_object_get_string(json_object_object_get(e, "name")),
			   "fault_minus_warm_p50_ns"))
			continue;
		found = true;
		/* p50s (the 100th of 200 samples) 99900 - 34950, within 1/1024. */
		assert_true(fabs(json_object_get_double(json_object_object_get(e, "value")) - 64950) < 200);
	}
	assert_true(found);
	json_object_put(doc);
	free(text);
	odpt_report_destroy(r);
}

static struct odpt_result *as_result(struct odpt_report *r)
{
	struct odpt_write_opts o = { .raw_buckets = true };
	char *text = unit_render(r, ODPT_FMT_JSON, &o);
	struct odpt_result *res = NULL;

	assert_int_equal(odpt_result_parse(text, &res, err, sizeof(err)), 0);
	free(text);
	odpt_report_destroy(r);
	return res;
}

static void test_compare_results(void **state)
{
	struct odpt_result *a = as_result(warm_result("bench warm", 1));
	struct odpt_result *b = as_result(warm_result("bench warm", 1));
	struct odpt_result *slow = as_result(warm_result("bench warm", 2));
	struct odpt_compare_summary sum;
	struct odpt_compare_opts o;
	struct odpt_report *out = NULL;

	(void)state;
	odpt_compare_opts_default(&o);
	assert_int_equal(odpt_report_create("compare", &out), 0);
	assert_int_equal(odpt_compare_results(a, b, &o, out, &sum), 0);
	assert_int_equal(sum.no_change, 2);
	assert_int_equal(sum.regressed, 0);
	odpt_report_destroy(out);
	assert_int_equal(odpt_report_create("compare", &out), 0);
	assert_int_equal(odpt_compare_results(a, slow, &o, out, &sum), 0);
	assert_int_equal(sum.regressed, 1);   /* fault; warm unchanged */
	assert_int_equal(sum.no_change, 1);
	odpt_report_destroy(out);
	odpt_result_destroy(a);
	odpt_result_destroy(b);
	odpt_result_destroy(slow);
}

/* The CLI on files: exit 0 (no change), 1 (regressed), 2 (two scenarios). */
static int compare_files(const char *cmd_a, uint64_t slow_a, const char *cmd_b, uint64_t slow_b)
{
	struct odpt_write_opts o = { .raw_buckets = true };
	char dir[] = "/tmp/odpt-bench-XXXXXX", a[64], b[64], cmd[512];
	struct odpt_report *ra = warm_result(cmd_a, slow_a), *rb = warm_result(cmd_b, slow_b);
	int st;

	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	assert_int_equal(odpt_report_write_file(ra, ODPT_FMT_JSON, &o, a), 0);
	assert_int_equal(odpt_report_write_file(rb, ODPT_FMT_JSON, &o, b), 0);
	snprintf(cmd, sizeof(cmd), "%s compare %s %s >/dev/null 2>&1", ODPT_BIN, a, b);
	st = system(cmd);
	unlink(a);
	unlink(b);
	rmdir(dir);
	odpt_report_destroy(ra);
	odpt_report_destroy(rb);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_compare_cli(void **state)
{
	(void)state;
	assert_int_equal(compare_files("bench warm", 1, "bench warm", 1), 0);
	assert_int_equal(compare_files("bench warm", 1, "bench warm", 2), 1);
	assert_int_equal(compare_files("bench warm", 1, "bench fault", 1), 2);
	assert_int_equal(compare_files("bench reg", 1, "bench warm", 1), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_names),
		cmocka_unit_test(test_parse_ops),
		cmocka_unit_test(test_parse_sizes_side),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_compare_results),
		cmocka_unit_test(test_compare_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
