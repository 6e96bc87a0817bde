// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The writers against golden files (tests/unit/golden/report.*), one per
 * format, from one deterministic report (stable mode: no volatile facts);
 * a check that table, JSON, CSV and .hgrm report the same percentiles for
 * the same data; the model's input checks; and atomic file writes.
 * Set ODPT_UPDATE_GOLDEN=1 to rewrite the golden files after an intended
 * change of a format, then review the diff.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "odpt_config.h"
#include "odpt/report.h"
#include "unit_report.h"

/* Deterministic data: a bimodal latency distribution with a tail. */
static struct odpt_hist *sample_hist(uint64_t seed, int n)
{
	struct odpt_hist *h = NULL;
	uint64_t x = seed;
	int i;

	assert_int_equal(odpt_hist_create_default(&h), 0);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i % 100 == 99)
			odpt_hist_record(h, 2000000 + x % 3000000);   /* 1% tail, ms */
		else if (i % 3)
			odpt_hist_record(h, 1500 + x % 400);          /* main mode, us */
		else
			odpt_hist_record(h, 40000 + x % 20000);       /* second mode */
	}
	return h;
}

static struct odpt_report *golden_report(bool one_series)
{
	static const struct odpt_label la[] = {
		{ "mode", "hmm" }, { "size_bytes", "4096" }, { "iommu", "on" },
	};
	static const struct odpt_label lb[] = { { "mode", "page" } };
	struct odpt_report *r = NULL;
	struct odpt_hist *a = sample_hist(0x1234567, 10000);
	struct odpt_hist *b = sample_hist(0x7654321, 3);
	struct odpt_test_record t[] = {
		{ .name = "rc_write", .result = ODPT_PASS, .duration_ns = 1234567,
		  .iterations = 100, .faults_forced = 200 },
		{ .name = "rc_read_page_crossing", .result = ODPT_XFAIL,
		  .reason = "rxe: page-crossing copies into an ODP MR are wrong (kernel 7.3.4)",
		  .duration_ns = 2000, .iterations = 1, .diag = "offset 3996 len 300\nbytes 0..99 differ" },
		{ .name = "ud_send", .result = ODPT_SKIP,
		  .reason = "ud_odp_caps lacks IBV_ODP_SUPPORT_SEND", .duration_ns = 10 },
		{ .name = "rc_atomic_cas", .result = ODPT_FAIL,
		  .reason = "completion status 10 (remote access error), expected success",
		  .stage = "polling send CQ", .duration_ns = 5000000000ULL, .iterations = 7 },
		{ .name = "fixed_bug <&>\"", .result = ODPT_XPASS,
		  .reason = "known bug did not show", .duration_ns = 1 },
	};
	unsigned i;

	assert_int_equal(odpt_report_create("golden test", &r), 0);
	odpt_report_set_stable(r, true);
	assert_int_equal(odpt_report_meta(r, "device", "rxe0"), 0);
	assert_int_equal(odpt_report_meta_volatile(r, "host", "must-not-appear"), 0);
	assert_int_equal(odpt_report_meta_int(r, "port", 1), 0);
	assert_int_equal(odpt_report_meta_int(r, "gid_index", -1), 0);
	assert_int_equal(odpt_report_config_u64(r, "iters", 100), 0);
	assert_int_equal(odpt_report_config_str(r, "dev", "rxe0"), 0);
	assert_int_equal(odpt_report_config_bool(r, "odp", true), 0);
	assert_int_equal(odpt_report_hist(r, "map_ns_per_page", la, 3, a), 0);
	if (!one_series) {
		assert_int_equal(odpt_report_hist(r, "unmap_ns_per_page", lb, 1, b), 0);
		assert_int_equal(odpt_report_scalar(r, "bookkeeping_bytes_per_page", lb, 1, 8), 0);
		assert_int_equal(odpt_report_scalar(r, "setup_ns", NULL, 0, 1234.5), 0);
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			assert_int_equal(odpt_report_test(r, &t[i]), 0);
	}
	odpt_hist_destroy(a);
	odpt_hist_destroy(b);
	return r;
}

static void golden_case(enum odpt_format f, const char *file, bool one_series, bool raw)
{
	struct odpt_write_opts o = { .raw_buckets = raw };
	struct odpt_report *r = golden_report(one_series);
	char *out = unit_render(r, f, &o);

	assert_null(strstr(out, "must-not-appear"));
	unit_check_golden(file, out);
	free(out);
	odpt_report_destroy(r);
}

static void test_golden_table(void **state) { golden_case(ODPT_FMT_TABLE, "report.txt", false, false); }
static void test_golden_json(void **state) { golden_case(ODPT_FMT_JSON, "report.json", false, false); }
/* Raw buckets on a small histogram (three samples, three buckets). */
static void test_golden_json_raw(void **state)
{
	struct odpt_write_opts o = { .raw_buckets = true };
	struct odpt_report *r = NULL;
	struct odpt_hist *h = sample_hist(0x7654321, 3);
	char *out;

	assert_int_equal(odpt_report_create("golden raw", &r), 0);
	odpt_report_set_stable(r, true);
	assert_int_equal(odpt_report_hist(r, "lat_ns", NULL, 0, h), 0);
	out = unit_render(r, ODPT_FMT_JSON, &o);
	unit_check_golden("report_raw.json", out);
	free(out);
	odpt_hist_destroy(h);
	odpt_report_destroy(r);
}
static void test_golden_csv(void **state) { golden_case(ODPT_FMT_CSV, "report.csv", false, false); }
/*
 * Several series: a .hgrm stream refuses them (a plotter would draw one
 * curve); a file becomes one file per series, NAME.SERIES.hgrm, and NAME
 * itself is not written.
 */
static void test_golden_hgrm(void **state)
{
	struct odpt_report *r = golden_report(false);
	char dir[] = "/tmp/odpt-hgrm-XXXXXX", path[300], *got;
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(odpt_report_write(r, ODPT_FMT_HGRM, NULL, f), -EINVAL);
	fclose(f);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.hgrm", dir);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_HGRM, NULL, path), 0);
	assert_int_equal(access(path, F_OK), -1);
	/* the first series is the one-series report's */
	snprintf(path, sizeof(path), "%s/report.map_ns_per_page.mode=hmm,size_bytes=4096,iommu=on.hgrm", dir);
	got = unit_slurp(path);
	assert_non_null(got);
	assert_null(strstr(got, "#[Series"));
	unit_check_golden("single.hgrm", got);
	unlink(path);
	free(got);
	snprintf(path, sizeof(path), "%s/report.unmap_ns_per_page.mode=page.hgrm", dir);
	got = unit_slurp(path);
	assert_non_null(got);
	unit_check_golden("report.unmap_ns_per_page.hgrm", got);
	unlink(path);
	free(got);
	assert_int_equal(rmdir(dir), 0);
	odpt_report_destroy(r);
}
static void test_golden_hgrm_single(void **state) { golden_case(ODPT_FMT_HGRM, "single.hgrm", true, false); }
static void test_golden_tap(void **state) { golden_case(ODPT_FMT_TAP, "report.tap", false, false); }
static void test_golden_junit(void **state) { golden_case(ODPT_FMT_JUNIT, "report.junit.xml", false, false); }

/*
 * The attributes the Jenkins xunit plugin's JUnit schema (junit-10.xsd)
 * allows on each element odpt writes; anything else fails validation
 * there (skipped= on <testsuites> did).
 */
static const struct {
	const char *element;
	const char *attrs;   /* space-separated, with a space at each end */
} junit_schema[] = {
	{ "testsuites", " name time tests failures disabled errors " },
	{ "testsuite", " name tests failures errors time disabled skipped timestamp hostname id package file log url version " },
	{ "properties", " " },
	{ "property", " name value " },
	{ "testcase", " name assertions time classname status class file line log group url " },
	{ "skipped", " message " },
	{ "failure", " message type " },
	{ "error", " message type " },
	{ "system-out", " " },
	{ "system-err", " " },
};

/* Fail unless every start tag in xml names a schema element with schema
 * attributes only. Attribute values are escaped, so '>' ends each tag. */
static void check_junit_schema(const char *xml)
{
	const char *p = xml;

	while ((p = strchr(p, '<'))) {
		const char *end = strchr(p, '>'), *q;
		char name[64], attr[64], pat[70];
		size_t n;
		unsigned i;

		assert_non_null(end);
		p++;
		if (*p == '?' || *p == '/') {
			p = end;
			continue;
		}
		n = strcspn(p, " />");
		assert_true(n < sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		for (i = 0; i < sizeof(junit_schema) / sizeof(junit_schema[0]); i++)
			if (!strcmp(junit_schema[i].element, name))
				break;
		if (i == sizeof(junit_schema) / sizeof(junit_schema[0]))
			fail_msg("<%s> is not a JUnit schema element", name);
		for (q = p + n; q < end;) {
			q += strspn(q, " \n/");
			if (q >= end)
				break;
			n = strcspn(q, "=");
			assert_true(n < sizeof(attr));
			memcpy(attr, q, n);
			attr[n] = '\0';
			snprintf(pat, sizeof(pat), " %s ", attr);
			if (!strstr(junit_schema[i].attrs, pat))
				fail_msg("<%s %s=...>: not in the JUnit schema", name, attr);
			q = strchr(q + n + 2, '"');   /* past the quoted value */
			assert_non_null(q);
			q++;
		}
		p = end;
	}
}

static void test_junit_schema(void **state)
{
	struct odpt_report *r = golden_report(false);
	char *out = unit_render(r, ODPT_FMT_JUNIT, NULL);

	check_junit_schema(out);
	free(out);
	odpt_report_destroy(r);
}

/*
 * Nothing could run: TAP's plan is kselftest's skip-all, JUnit holds one
 * skipped case (still within the schema), the summary carries the reason.
 */
static void test_skip_all(void **state)
{
	struct odpt_report *r = NULL;
	char *out;

	assert_int_equal(odpt_report_create("suite run", &r), 0);
	assert_int_equal(odpt_report_skip_all(r, NULL), -EINVAL);
	assert_int_equal(odpt_report_skip_all(r, "no RDMA devices\nat all"), 0);
	out = unit_render(r, ODPT_FMT_TAP, NULL);
	assert_non_null(strstr(out, "TAP version 13\n1..0 # SKIP no RDMA devices at all\n"));
	assert_null(strstr(out, "# summary"));
	free(out);
	out = unit_render(r, ODPT_FMT_JUNIT, NULL);
	check_junit_schema(out);
	assert_non_null(strstr(out, "<testsuites name=\"odpt\" tests=\"1\" failures=\"0\""));
	assert_non_null(strstr(out, "tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\""));
	assert_non_null(strstr(out, "<testcase classname=\"odpt.suite.run\" name=\"all\""));
	assert_non_null(strstr(out, "<skipped message=\"no RDMA devices\nat all\"/>"));
	free(out);
	out = unit_render(r, ODPT_FMT_JSON, NULL);
	assert_non_null(strstr(out, "\"result\": \"skipped\""));
	free(out);
	out = unit_render(r, ODPT_FMT_TABLE, NULL);
	assert_non_null(strstr(out, "summary: no RDMA devices"));
	free(out);
	odpt_report_destroy(r);
}

/* The JSON output is valid JSON with the documented shape. */
/* A measured figure: the exact decimals, as a number; no NaN. */
static void test_meta_fixed(void **state)
{
	struct odpt_report *r = NULL;
	struct json_object *root, *m, *v;
	char *out;

	assert_int_equal(odpt_report_create("meta", &r), 0);
	assert_int_equal(odpt_report_meta_volatile_fixed(r, "suite_wall_s", 12.3456, 3), 0);
	assert_int_equal(odpt_report_meta_volatile_fixed(r, "bad", NAN, 3), -EINVAL);
	out = unit_render(r, ODPT_FMT_JSON, NULL);
	assert_non_null(strstr(out, "\"suite_wall_s\": 12.346"));
	root = json_tokener_parse(out);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "meta", &m));
	assert_true(json_object_object_get_ex(m, "suite_wall_s", &v));
	assert_true(json_object_is_type(v, json_type_double));
	json_object_put(root);
	free(out);
	out = unit_render(r, ODPT_FMT_TAP, NULL);
	assert_non_null(strstr(out, "# suite_wall_s: 12.346\n"));
	free(out);
	odpt_report_destroy(r);
}

static void test_json_shape(void **state)
{
	struct odpt_report *r = golden_report(false);
	char *out = unit_render(r, ODPT_FMT_JSON, NULL);
	struct json_object *root = json_tokener_parse(out), *v, *s, *p;

	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "schema_version", &v));
	assert_int_equal(json_object_get_int(v), ODPT_SCHEMA_VERSION);
	assert_true(json_object_object_get_ex(root, "series", &v));
	assert_int_equal(json_object_array_length(v), 2);
	s = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(s, "percentiles", &p));
	assert_int_equal(json_object_array_length(p), (size_t)odpt_report_npercentiles);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(p, 3), "p", &v));
	assert_true(json_object_get_double(v) == 99.9);
	assert_true(json_object_object_get_ex(root, "test_counts", &v));
	assert_true(json_object_object_get_ex(v, "xfail", &p));
	assert_int_equal(json_object_get_int(p), 1);
	/* meta: numbers as JSON numbers, text as strings */
	assert_true(json_object_object_get_ex(root, "meta", &v));
	assert_true(json_object_object_get_ex(v, "port", &p));
	assert_true(json_object_is_type(p, json_type_int));
	assert_int_equal(json_object_get_int(p), 1);
	assert_true(json_object_object_get_ex(v, "gid_index", &p));
	assert_true(json_object_is_type(p, json_type_int));
	assert_int_equal(json_object_get_int(p), -1);
	assert_true(json_object_object_get_ex(v, "device", &p));
	assert_true(json_object_is_type(p, json_type_string));
	json_object_put(root);
	free(out);
	odpt_report_destroy(r);
}

/* --- the same percentiles in every format ------------------------------ */

static double parse_scaled(const char *cell)
{
	char unit[8] = "";
	double v;

	assert_int_equal(sscanf(cell, "%lf %7s", &v, unit), 2);
	if (!strcmp(unit, "ns")) return v;
	if (!strcmp(unit, "us")) return v * 1e3;
	if (!strcmp(unit, "ms")) return v * 1e6;
	if (!strcmp(unit, "s")) return v * 1e9;
	fail_msg("unknown unit '%s'", unit);
	return 0;
}

/* The table cells of the series row: COUNT MIN P.. MAX MEAN STDDEV. */
static void table_values(const char *out, const char *series, double *vals, int n)
{
	const char *row = strstr(out, series);
	char line[1024], *tok, *save = NULL;
	int k = 0;

	assert_non_null(row);
	sscanf(row, "%1023[^\n]", line);
	tok = strtok_r(line, " ", &save);   /* name */
	tok = strtok_r(NULL, " ", &save);   /* count */
	while (k < n && (tok = strtok_r(NULL, " ", &save))) {
		char cell[64];
		char *unit = strtok_r(NULL, " ", &save);

		assert_non_null(unit);
		snprintf(cell, sizeof(cell), "%s %s", tok, unit);
		vals[k++] = parse_scaled(cell);
	}
	assert_int_equal(k, n);
}

static void test_formats_agree(void **state)
{
	struct odpt_report *r = golden_report(true);
	int np = odpt_report_npercentiles, i;
	double json_p[16], csv_p[16], table_v[20], json_max = 0, csv_max = 0;
	char *js = unit_render(r, ODPT_FMT_JSON, NULL), *csv = unit_render(r, ODPT_FMT_CSV, NULL);
	char *tab = unit_render(r, ODPT_FMT_TABLE, NULL), *hg = unit_render(r, ODPT_FMT_HGRM, NULL);
	struct json_object *root = json_tokener_parse(js), *series, *pcts, *v;
	char *save = NULL;
	double hgrm_p50 = -1, hgrm_p90 = -1, hgrm_max = -1, hgrm_last = -1;
	char *line;

	/* JSON */
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "series", &series));
	series = json_object_array_get_idx(series, 0);
	assert_true(json_object_object_get_ex(series, "percentiles", &pcts));
	for (i = 0; i < np; i++) {
		assert_true(json_object_object_get_ex(json_object_array_get_idx(pcts, (size_t)i), "ns", &v));
		json_p[i] = (double)json_object_get_uint64(v);
	}
	assert_true(json_object_object_get_ex(series, "max_ns", &v));
	json_max = (double)json_object_get_uint64(v);

	/* CSV: the hist row; its labels are quoted (they hold commas) */
	{
		const char *q = strstr(csv, "\nhist,");
		const char *after;
		uint64_t count, ovf, mn;
		double mean, sd;
		int used = 0;

		assert_non_null(q);
		after = strchr(strchr(strchr(q, '"') + 1, '"') + 1, ',');
		assert_int_equal(sscanf(after, ",%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%lf,%lf%n",
					&count, &ovf, &mn, &mean, &sd, &used), 5);
		assert_int_equal(count, 10000);
		after += used;
		for (i = 0; i < np; i++) {
			assert_int_equal(sscanf(after, ",%lf%n", &csv_p[i], &used), 1);
			after += used;
		}
		assert_int_equal(sscanf(after, ",%lf", &csv_max), 1);
	}

	/* table: MIN P50.. MAX */
	table_values(tab, "map_ns_per_page", table_v, np + 2);

	/* hgrm: the 50% and 90% steps, the 100% line and the footer's Max */
	for (line = strtok_r(hg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		double val, pct;

		if (sscanf(line, "#[Max = %lf", &val) == 1 ||
		    sscanf(line, "#[Max     = %lf", &val) == 1)
			hgrm_max = val;
		else if (sscanf(line, "%lf %lf", &val, &pct) == 2) {
			if (pct == 0.5)
				hgrm_p50 = val;
			if (pct == 0.9)
				hgrm_p90 = val;
			if (pct == 1.0)
				hgrm_last = val;
		}
	}

	for (i = 0; i < np; i++) {
		double p = json_p[i];

		assert_true(csv_p[i] == p);
		/* table values carry 3 decimals of their unit */
		assert_true(fabs(table_v[i + 1] - p) <= p * 5e-4 + 0.5);
	}
	assert_true(csv_max == json_max);
	assert_true(fabs(table_v[np + 1] - json_max) <= json_max * 5e-4);
	assert_true(hgrm_p50 == json_p[0]);
	assert_true(hgrm_p90 == json_p[1]);
	assert_true(hgrm_max == json_max);
	assert_true(hgrm_last == json_max);

	json_object_put(root);
	free(js);
	free(csv);
	free(tab);
	free(hg);
	odpt_report_destroy(r);
}

/* The table's unit scaling at each boundary. */
static void test_table_units(void **state)
{
	static const struct { double ns; const char *text; } cases[] = {
		{ 0, "0 ns" }, { 2.5, "2.500 ns" }, { 999, "999 ns" },
		{ 1000, "1.000 us" }, { 999999, "999.999 us" }, { 1000000, "1.000 ms" },
		{ 1234567, "1.235 ms" }, { 1500000000, "1.500 s" },
	};
	struct odpt_report *r = NULL;
	char name[32], want[96], *out;
	unsigned i;

	assert_int_equal(odpt_report_create("units", &r), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "case%u_ns", i);
		assert_int_equal(odpt_report_scalar(r, name, NULL, 0, cases[i].ns), 0);
	}
	out = unit_render(r, ODPT_FMT_TABLE, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *line;

		snprintf(name, sizeof(name), "case%u_ns ", i);
		line = strstr(out, name);
		assert_non_null(line);
		snprintf(want, sizeof(want), " %s\n", cases[i].text);
		if (strncmp(strchr(line, '\n') - strlen(want) + 1, want, strlen(want)))
			fail_msg("%s: want '%s' in '%.60s'", name, cases[i].text, line);
	}
	free(out);
	odpt_report_destroy(r);
}

/* A '#' or newline in a test name cannot forge a TAP directive. */
static void test_tap_names(void **state)
{
	struct odpt_test_record t = { .name = "evil # SKIP not really\nok 9 x",
				      .result = ODPT_FAIL, .reason = "r" };
	struct odpt_report *r = NULL;
	char *out;

	assert_int_equal(odpt_report_create("tap", &r), 0);
	assert_int_equal(odpt_report_test(r, &t), 0);
	out = unit_render(r, ODPT_FMT_TAP, NULL);
	assert_non_null(strstr(out, "not ok 1 evil _ SKIP not really_ok 9 x\n"));
	assert_null(strstr(out, "\nok 9"));
	free(out);
	odpt_report_destroy(r);
}

/* --- model input checks ------------------------------------------------- */

static void test_model_checks(void **state)
{
	struct odpt_report *r = NULL;
	struct odpt_hist *h = NULL;
	struct odpt_test_record bad = { .name = NULL };
	struct odpt_test_counts tc;
	enum odpt_format f;
	struct json_object *devs = json_object_new_array();
	char *out;

	assert_int_equal(odpt_report_create(NULL, &r), -EINVAL);
	assert_int_equal(odpt_report_create("x", &r), 0);
	assert_int_equal(odpt_hist_create_default(&h), 0);
	assert_int_equal(odpt_report_hist(r, NULL, NULL, 0, h), -EINVAL);
	assert_int_equal(odpt_report_hist(r, "a", NULL, -1, h), -EINVAL);
	assert_int_equal(odpt_report_scalar(r, "nan", NULL, 0, NAN), -EINVAL);
	assert_int_equal(odpt_report_test(r, &bad), -EINVAL);
	assert_int_equal(odpt_report_section(r, "series", devs), -EINVAL);
	assert_int_equal(odpt_report_section(r, "devices", devs), 0);
	assert_int_equal(odpt_report_section(r, "devices", devs), -EEXIST);
	odpt_report_test_counts(r, &tc);
	assert_int_equal(tc.pass + tc.fail + tc.skip + tc.xfail + tc.xpass, 0);

	/* an empty section renders as an empty list */
	out = unit_render(r, ODPT_FMT_JSON, NULL);
	{
		struct json_object *root = json_tokener_parse(out), *d;

		assert_non_null(root);
		assert_true(json_object_object_get_ex(root, "devices", &d));
		assert_true(json_object_is_type(d, json_type_array));
		assert_int_equal(json_object_array_length(d), 0);
		json_object_put(root);
	}
	free(out);

	assert_int_equal(odpt_format_parse("hgrm", &f), 0);
	assert_int_equal(f, ODPT_FMT_HGRM);
	assert_int_equal(odpt_format_parse("junit", &f), 0);
	assert_int_equal(odpt_format_parse("xml", &f), -EINVAL);
	assert_string_equal(odpt_format_name(ODPT_FMT_CSV), "csv");
	assert_int_equal(odpt_report_write(r, (enum odpt_format)42, NULL, stdout), -EINVAL);

	/* the empty histogram renders without NaN in every format */
	assert_int_equal(odpt_report_hist(r, "empty_ns", NULL, 0, h), 0);
	for (f = ODPT_FMT_TABLE; f <= ODPT_FMT_JUNIT; f++) {
		out = unit_render(r, f, NULL);
		assert_null(strstr(out, "nan"));
		assert_null(strstr(out, "inf"));
		free(out);
	}
	odpt_hist_destroy(h);
	odpt_report_destroy(r);
}

/* --- atomic writes ------------------------------------------------------ */

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/odpt-test-XXXXXX", path[256], bad[300];
	struct odpt_report *r = golden_report(false);
	struct stat st1, st2;
	char *want, *got;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/result.json", dir);
	/* an existing file is replaced whole (a new inode), never truncated in place */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("old contents", f);
	fclose(f);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, NULL, path), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino);
	{
		mode_t m = umask(022);

		umask(m);
		assert_int_equal(st2.st_mode & 0777, 0666 & ~m);
	}
	want = unit_render(r, ODPT_FMT_JSON, NULL);
	got = unit_slurp(path);
	assert_string_equal(got, want);
	assert_int_equal(unit_count_temp_files(dir), 0);

	/* a directory that does not exist: an error, and nothing left behind */
	snprintf(bad, sizeof(bad), "%s/missing/result.json", dir);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, NULL, bad), -ENOENT);
	assert_int_equal(odpt_report_write_file(r, ODPT_FMT_JSON, NULL, ""), -EINVAL);
	/* the target is a directory: rename fails, the temp file is removed */
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(mkdir(bad, 0755), 0);
	assert_true(odpt_report_write_file(r, ODPT_FMT_TAP, NULL, bad) < 0);
	assert_int_equal(unit_count_temp_files(dir), 0);
	rmdir(bad);

	unlink(path);
	rmdir(dir);
	free(want);
	free(got);
	odpt_report_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_table),
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_golden_json_raw),
		cmocka_unit_test(test_golden_csv),
		cmocka_unit_test(test_golden_hgrm),
		cmocka_unit_test(test_golden_hgrm_single),
		cmocka_unit_test(test_golden_tap),
		cmocka_unit_test(test_golden_junit),
		cmocka_unit_test(test_junit_schema),
		cmocka_unit_test(test_skip_all),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_meta_fixed),
		cmocka_unit_test(test_formats_agree),
		cmocka_unit_test(test_table_units),
		cmocka_unit_test(test_tap_names),
		cmocka_unit_test(test_model_checks),
		cmocka_unit_test(test_atomic_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
