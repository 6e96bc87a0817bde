// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Option tables: defaults, every accepted spelling (--name=v, --name v,
 * -xv, -x v, --no-flag, "--"), ranges, sizes with suffixes, choices, the
 * error paths with their one-line messages (captured from stderr), help,
 * and the echo of the configuration into a report.
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

#include "odpt/opts.h"
#include "odpt/report.h"
#include "cli.h"   /* odpt_cli_opts_echo(): src/cli/opts_echo.c is built into this test */

struct cfg {
	bool odp;
	uint64_t iters;
	uint64_t size;
	const char *dev;
	const char *mode;
};

static const char *const modes[] = { "hmm", "page", "sg", NULL };

static const struct odpt_opt table[] = {
	{ .name = "odp", .short_name = 'o', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct cfg, odp), .def = "yes", .help = "use ODP MRs" },
	{ .name = "iters", .short_name = 'i', .type = ODPT_OPT_U64,
	  .offset = offsetof(struct cfg, iters), .def = "100", .min = 1, .max = 1000000,
	  .metavar = "N", .help = "iterations" },
	{ .name = "max-size", .type = ODPT_OPT_SIZE,
	  .offset = offsetof(struct cfg, size), .def = "4K", .min = 1, .max = 1ULL << 40,
	  .metavar = "BYTES", .help = "largest buffer" },
	{ .name = "dev", .short_name = 'd', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct cfg, dev), .metavar = "DEV", .help = "device" },
	{ .name = "mode", .type = ODPT_OPT_CHOICE, .choices = modes,
	  .offset = offsetof(struct cfg, mode), .def = "hmm", .help = "mapping mode" },
	ODPT_OPT_END,
};

/* Run a parse with stderr captured; returns the result, *err the text. */
static int parse(struct cfg *c, char *err, size_t errlen, int *npos, int argc, ...)
{
	char *argv[32];
	va_list ap;
	int i, ret, saved, fd;
	char path[] = "/tmp/odpt-opts-XXXXXX";
	FILE *f;
	size_t n;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	ret = odpt_opts_parse(table, c, argc, argv, npos);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(err, 1, errlen - 1, f);
	err[n] = '\0';
	fclose(f);
	unlink(path);
	return ret;
}

/* argv arrays of writable strings (the parser reorders them). */
static char **mkargv(int n, ...)
{
	char **v = calloc((size_t)n + 1, sizeof(*v));
	va_list ap;
	int i;

	assert_non_null(v);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		v[i] = strdup(va_arg(ap, const char *));
	va_end(ap);
	return v;
}

static void freeargv(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_defaults(void **state)
{
	struct cfg c;
	char err[512];
	int npos = -1;

	memset(&c, 0xff, sizeof(c));
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 0), 0);
	assert_true(c.odp);
	assert_int_equal(c.iters, 100);
	assert_int_equal(c.size, 4096);
	assert_null(c.dev);
	assert_string_equal(c.mode, "hmm");
	assert_int_equal(npos, 0);
	assert_string_equal(err, "");
}

static void test_spellings(void **state)
{
	struct cfg c;
	char err[512];
	int npos;

	assert_int_equal(parse(&c, err, sizeof(err), &npos, 2, "--iters", "7"), 0);
	assert_int_equal(c.iters, 7);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, "--iters=8"), 0);
	assert_int_equal(c.iters, 8);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, "-i9"), 0);
	assert_int_equal(c.iters, 9);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 2, "-i", "0x10"), 0);
	assert_int_equal(c.iters, 16);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, "--no-odp"), 0);
	assert_false(c.odp);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 2, "--no-odp", "-o"), 0);
	assert_true(c.odp);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, "--odp=no"), 0);
	assert_false(c.odp);
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 2, "-d", "rxe0"), 0);
	assert_string_equal(c.dev, "rxe0");
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, "--mode=sg"), 0);
	assert_string_equal(c.mode, "sg");
	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, "--max-size=2MiB"), 0);
	assert_int_equal(c.size, 2 << 20);
}

static void test_positionals(void **state)
{
	char **argv = mkargv(6, "a", "--iters=3", "b", "--", "-i", "--x");
	char *keep[6];
	struct cfg c;
	int npos = 0;

	memcpy(keep, argv, sizeof(keep));

	assert_int_equal(odpt_opts_parse(table, &c, 6, argv, &npos), 0);
	assert_int_equal(npos, 4);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b");
	assert_string_equal(argv[2], "-i");
	assert_string_equal(argv[3], "--x");
	assert_int_equal(c.iters, 3);
	free(argv);
	for (npos = 0; npos < 6; npos++)
		free(keep[npos]);
}

static void expect_error(const char *want, const char *arg)
{
	struct cfg c;
	char err[512];
	int npos;

	assert_int_equal(parse(&c, err, sizeof(err), &npos, 1, arg), -EINVAL);
	if (!strstr(err, want))
		fail_msg("stderr '%s' lacks '%s'", err, want);
	/* exactly one line */
	{
		int lines = 0;
		char *p;

		for (p = err; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 1);
	}
}

static void test_errors(void **state)
{
	expect_error("unknown option '--bogus'", "--bogus");
	expect_error("unknown option '-z'", "-z");
	expect_error("out of range 1..1000000", "--iters=0");
	expect_error("out of range 1..1000000", "--iters=1000001");
	expect_error("is not a non-negative integer", "--iters=5x");
	expect_error("is not a non-negative integer", "--iters=-5");
	expect_error("is not a non-negative integer", "--iters=");
	expect_error("is too large", "--iters=99999999999999999999999");
	expect_error("needs a value", "--iters");
	expect_error("needs a value", "-i");
	expect_error("is not one of: hmm page sg", "--mode=dma");
	expect_error("is not a size", "--max-size=4Q");
	expect_error("out of range", "--max-size=2T");
	expect_error("is not yes/no", "--odp=maybe");
	expect_error("takes no value", "--no-odp=1");
	expect_error("unknown option '--no-iters'", "--no-iters");
}

static void test_help(void **state)
{
	char **argv = mkargv(2, "--iters=3", "--help");
	struct cfg c;
	int npos;

	assert_int_equal(odpt_opts_parse(table, &c, 2, argv, &npos), -EAGAIN);
	freeargv(argv, 2);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(odpt_parse_size("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(odpt_parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(odpt_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(odpt_parse_size("2M", &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(odpt_parse_size("1G", &v), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(odpt_parse_size("1TiB", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(odpt_parse_size("64B", &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(odpt_parse_size("0x1000", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(odpt_parse_size("", &v), -EINVAL);
	assert_int_equal(odpt_parse_size("K", &v), -EINVAL);
	assert_int_equal(odpt_parse_size("-4K", &v), -EINVAL);
	assert_int_equal(odpt_parse_size(" 4K", &v), -EINVAL);
	assert_int_equal(odpt_parse_size("4KX", &v), -EINVAL);
	assert_int_equal(odpt_parse_size("4.5K", &v), -EINVAL);
	assert_int_equal(odpt_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(odpt_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(odpt_parse_size("18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
}

static void test_echo(void **state)
{
	struct odpt_report *r = NULL;
	char **argv = mkargv(4, "--iters=42", "-d", "mlx5_0", "--no-odp");
	struct cfg c;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int npos;

	assert_int_equal(odpt_opts_parse(table, &c, 4, argv, &npos), 0);
	assert_int_equal(odpt_report_create("t", &r), 0);
	assert_int_equal(odpt_cli_opts_echo(table, &c, r), 0);
	m = open_memstream(&buf, &len);
	assert_int_equal(odpt_report_write(r, ODPT_FMT_JSON, NULL, m), 0);
	fclose(m);
	assert_non_null(strstr(buf, "\"iters\": 42"));
	assert_non_null(strstr(buf, "\"odp\": false"));
	assert_non_null(strstr(buf, "\"dev\": \"mlx5_0\""));
	assert_non_null(strstr(buf, "\"max_size\": 4096"));
	assert_non_null(strstr(buf, "\"mode\": \"hmm\""));
	free(buf);
	odpt_report_destroy(r);
	freeargv(argv, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_positionals),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_echo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
