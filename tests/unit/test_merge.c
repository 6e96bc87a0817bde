// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt_merge_files() (include/odpt/merge.h): three results of random
 * samples, written as JSON with raw buckets and merged, give the very
 * histogram that recorded all their samples (every counter, count, min,
 * max and every percentile from 0.1 to 99.999); per-input series carry
 * the input label and their own samples; a merge of a merge stays exact;
 * tests merge by name with the worst outcome and every input's in diag;
 * and each bad input (missing file, not odpt JSON, another schema,
 * another command, another layout, a file twice, no raw buckets) is
 * refused with a message naming the file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "odpt/compare.h"
#include "odpt/merge.h"
#include "odpt/report.h"

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A random latency: mostly 1..50 us, a long tail to tens of ms. */
static uint64_t sample(uint64_t *x)
{
	uint64_t r = xorshift(x);

	if (r % 100 == 0)
		return 1000000 + xorshift(x) % 50000000;
	return 1000 + xorshift(x) % 49000 + (r % 7 == 0 ? xorshift(x) % 500000 : 0);
}

struct tmpfiles {
	char path[8][64];
	int n;
};

static const char *tmp_path(struct tmpfiles *t)
{
	char *p = t->path[t->n++];
	int fd;

	snprintf(p, 64, "/tmp/odpt-test-merge-XXXXXX");
	fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static void tmp_remove(struct tmpfiles *t)
{
	while (t->n)
		unlink(t->path[--t->n]);
}

/* A result of command with one series "lat_ns{mode=hmm}" from h and tests. */
static void write_result(const char *path, const char *command, const struct odpt_hist *h,
			 const struct odpt_test_record *tests, int ntests)
{
	static const struct odpt_label l[] = { { "mode", "hmm" } };
	struct odpt_write_opts wo = { .raw_buckets = true };
	struct odpt_report *r = NULL;
	int i;

	assert_int_equal(odpt_report_create(command, &r), 0);
	assert_int_equal(odpt_report_meta(r, "kernel", "6.1"), 0);
	if (h)
		assert_int_equal(odpt_report_hist(r, "lat_ns", l, 1, h), 0);
	for (i = 0; i < ntests; i++)
		assert_int_equal(odpt_report_test(r, &tests[i]), 0);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, &wo, path), 0);
	odpt_report_destroy(r);
}

/* The merge as it reads back from its JSON. */
static struct odpt_result *merge_read(const char *const *paths, int n, const char *out)
{
	struct odpt_write_opts wo = { .raw_buckets = true };
	struct odpt_report *r = NULL;
	struct odpt_result *res = NULL;
	char err[512];

	assert_int_equal(odpt_merge_files(paths, n, &r, err, sizeof(err)), 0);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, &wo, out), 0);
	odpt_report_destroy(r);
	assert_int_equal(odpt_result_read(out, &res, err, sizeof(err)), 0);
	return res;
}

static const struct odpt_result_series *find(const struct odpt_result *res, const char *input)
{
	int i, j;

	for (i = 0; i < res->nseries; i++) {
		const struct odpt_result_series *s = &res->series[i];
		bool has = false;

		for (j = 0; j < s->nlabels; j++)
			if (!strcmp(s->labels[j].key, ODPT_MERGE_INPUT_LABEL))
				has = input && !strcmp(s->labels[j].value, input);
		if (has || (!input && s->nlabels == 1))
			return s;
	}
	return NULL;
}

static void assert_same_hist(const struct odpt_hist *a, const struct odpt_hist *b)
{
	static const double pct[] = { 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 99.999 };
	size_t i;

	assert_int_equal(a->counts_len, b->counts_len);
	assert_memory_equal(a->counts, b->counts, (size_t)a->counts_len * sizeof(a->counts[0]));
	assert_int_equal(odpt_hist_count(a), odpt_hist_count(b));
	assert_int_equal(odpt_hist_min(a), odpt_hist_min(b));
	assert_int_equal(odpt_hist_max(a), odpt_hist_max(b));
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		assert_int_equal(odpt_hist_value_at_percentile(a, pct[i]),
				 odpt_hist_value_at_percentile(b, pct[i]));
}

static void test_three_equal_one(void **state)
{
	struct odpt_hist *h[3] = { NULL }, *all = NULL;
	const char *paths[3];
	struct tmpfiles t = { .n = 0 };
	struct odpt_result *res;
	uint64_t x = 0x9e3779b97f4a7c15ULL, v;
	const char *out;
	int k, i;

	(void)state;
	assert_int_equal(odpt_hist_create_default(&all), 0);
	for (k = 0; k < 3; k++) {
		assert_int_equal(odpt_hist_create_default(&h[k]), 0);
		/* different sizes, so no input is a copy of another */
		for (i = 0; i < 20000 * (k + 1); i++) {
			v = sample(&x) * (uint64_t)(k + 1);
			assert_true(odpt_hist_record(h[k], v));
			assert_true(odpt_hist_record(all, v));
		}
		paths[k] = tmp_path(&t);
		write_result(paths[k], "shim bench", h[k], NULL, 0);
	}
	out = tmp_path(&t);
	res = merge_read(paths, 3, out);
	assert_string_equal(res->command, "shim bench");
	assert_int_equal(res->nseries, 4);   /* the merge, then one per input */
	assert_non_null(find(res, NULL));
	assert_same_hist(find(res, NULL)->h, all);
	for (k = 0; k < 3; k++)
		assert_same_hist(find(res, paths[k])->h, h[k]);
	odpt_result_destroy(res);

	/* A merge of a merge: (a + b) + c is a + b + c, and a and b stay. */
	{
		const char *ab = tmp_path(&t), *abc = tmp_path(&t), *pair[2];

		odpt_result_destroy(merge_read(paths, 2, ab));
		pair[0] = ab;
		pair[1] = paths[2];
		res = merge_read(pair, 2, abc);
		assert_same_hist(find(res, NULL)->h, all);
		assert_same_hist(find(res, paths[0])->h, h[0]);
		assert_same_hist(find(res, paths[2])->h, h[2]);
		assert_int_equal(odpt_hist_count(find(res, ab)->h),
				 odpt_hist_count(h[0]) + odpt_hist_count(h[1]));
		odpt_result_destroy(res);
	}
	for (k = 0; k < 3; k++)
		odpt_hist_destroy(h[k]);
	odpt_hist_destroy(all);
	tmp_remove(&t);
}

/* The merged report's tests as JSON. */
static struct json_object *merged_tests(const char *const *paths, int n, struct tmpfiles *t)
{
	struct odpt_write_opts wo = { .raw_buckets = true };
	struct odpt_report *r = NULL;
	struct json_object *root, *tests;
	const char *out = tmp_path(t);
	char err[512];

	assert_int_equal(odpt_merge_files(paths, n, &r, err, sizeof(err)), 0);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, &wo, out), 0);
	odpt_report_destroy(r);
	root = json_object_from_file(out);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "tests", &tests));
	json_object_get(tests);
	json_object_put(root);
	return tests;
}

static const char *field(struct json_object *tests, int i, const char *key)
{
	struct json_object *x;

	assert_true(json_object_object_get_ex(json_object_array_get_idx(tests, (size_t)i), key, &x));
	return json_object_get_string(x);
}

static void test_tests_by_name(void **state)
{
	const struct odpt_test_record a[] = {
		{ .name = "t1", .result = ODPT_PASS },
		{ .name = "t2", .result = ODPT_PASS },
		{ .name = "t3", .result = ODPT_SKIP, .reason = "no device" },
	};
	const struct odpt_test_record b[] = {
		{ .name = "t1", .result = ODPT_FAIL, .reason = "bad data" },
		{ .name = "t2", .result = ODPT_XFAIL, .reason = "bug 1" },
		{ .name = "t4", .result = ODPT_PASS },
	};
	struct tmpfiles t = { .n = 0 };
	struct json_object *tests;
	const char *paths[2];

	(void)state;
	paths[0] = tmp_path(&t);
	paths[1] = tmp_path(&t);
	/* suite run results: tests and no series */
	write_result(paths[0], "suite run", NULL, a, 3);
	write_result(paths[1], "suite run", NULL, b, 3);
	tests = merged_tests(paths, 2, &t);
	assert_int_equal(json_object_array_length(tests), 4);
	assert_string_equal(field(tests, 0, "name"), "t1");
	assert_string_equal(field(tests, 0, "result"), "fail");
	assert_non_null(strstr(field(tests, 0, "reason"), "fail on 1 of 2 inputs"));
	assert_non_null(strstr(field(tests, 0, "reason"), "bad data"));
	assert_non_null(strstr(field(tests, 0, "diag"), ": pass"));
	assert_string_equal(field(tests, 1, "result"), "xfail");
	assert_string_equal(field(tests, 2, "name"), "t3");
	assert_string_equal(field(tests, 2, "result"), "skip");
	assert_non_null(strstr(field(tests, 2, "diag"), ": absent"));
	assert_string_equal(field(tests, 3, "name"), "t4");
	assert_string_equal(field(tests, 3, "result"), "pass");
	json_object_put(tests);
	tmp_remove(&t);
}

static void expect_refused(const char *const *paths, int n, int want, const char *names)
{
	struct odpt_report *r = NULL;
	char err[1024];

	assert_int_equal(odpt_merge_files(paths, n, &r, err, sizeof(err)), want);
	assert_null(r);
	assert_non_null(strstr(err, names));
	assert_null(strchr(err, '\n'));
}

static void test_bad_input(void **state)
{
	struct odpt_hist *h = NULL, *h2 = NULL;
	struct tmpfiles t = { .n = 0 };
	const char *p[2];
	FILE *f;

	(void)state;
	assert_int_equal(odpt_hist_create_default(&h), 0);
	assert_int_equal(odpt_hist_create(1, 3600000000000ULL, 2, &h2), 0);
	odpt_hist_record(h, 1000);
	odpt_hist_record(h2, 1000);
	p[0] = tmp_path(&t);
	write_result(p[0], "shim bench", h, NULL, 0);

	p[1] = "/nonexistent-odpt/x.json";
	expect_refused(p, 2, -ENOENT, p[1]);
	p[1] = p[0];
	expect_refused(p, 2, -EINVAL, "given twice");
	p[1] = tmp_path(&t);
	write_result(p[1], "shim bench", h2, NULL, 0);
	expect_refused(p, 2, -EINVAL, p[1]);
	write_result(p[1], "hist check", h, NULL, 0);
	expect_refused(p, 2, -EINVAL, "only results of one command");
	f = fopen(p[1], "w");
	fputs("{\"schema_version\": 2, \"tool\": {\"name\": \"odpt\"}, \"series\": []}", f);
	fclose(f);
	expect_refused(p, 2, -EPROTO, p[1]);
	f = fopen(p[1], "w");
	fputs("not json", f);
	fclose(f);
	expect_refused(p, 2, -EINVAL, p[1]);
	expect_refused(p, 0, -EINVAL, "no result");
	odpt_hist_destroy(h);
	odpt_hist_destroy(h2);
	tmp_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_equal_one),
		cmocka_unit_test(test_tests_by_name),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
