/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A small kselftest-like harness for the shim's lab tests: tests register
 * themselves at load time, each runs in a forked child (its own process
 * group) under a timeout that names the stage it was in, and the parent
 * prints one TAP 13 line per test (ok / not ok / # SKIP / # XFAIL) after
 * running an optional after-each check (the module's leak counters).
 * Results and diagnostics travel through a shared page, so nothing depends
 * on the child's stdio buffers surviving a crash or a kill.
 */
#ifndef ODPT_LAB_SHIM_HARNESS_H
#define ODPT_LAB_SHIM_HARNESS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A test body runs in the child; it returns normally to pass. */
struct kt_ctx;
typedef void (*kt_fn)(struct kt_ctx *ctx);

struct kt_test {
	const char *name;
	kt_fn fn;
	unsigned int timeout_s;		/* 0: the harness default */
	bool per_mode;			/* run once per map mode (variants) */
	unsigned int order;		/* 0 first, higher later (fuzz 1, unload 2) */
	struct kt_test *next;
};

/* Map modes the per-mode tests are repeated over; filled by the shim layer. */
#define KT_MAX_MODES 4
struct kt_mode {
	const char *name;
	uint32_t value;
};

struct kt_ctx {
	const struct kt_test *test;
	const struct kt_mode *mode;	/* NULL unless test->per_mode */
	uint64_t seed;			/* per-test seed derived from the run seed */
	unsigned int budget_s;		/* time budget for loops (races, fuzz) */
	unsigned int rounds;		/* round cap for race loops */
};

/* Global run options, read-only for the tests. */
struct kt_options {
	uint64_t seed;
	unsigned int race_s;
	unsigned int rounds;
	unsigned int fuzz_s;
	unsigned int fuzz_threads;
	const char *kmod_path;		/* for re-inserting after the unload test */
	const char *filter;
};
extern struct kt_options kt_opts;

void kt_register(struct kt_test *t);
void kt_set_modes(const struct kt_mode *modes, unsigned int n);
/* Called in the parent after each test's child is gone: 0 or -errno, with
 * a one-line reason in buf. */
void kt_set_after_each(int (*fn)(char *buf, size_t len));
/* Called in the parent before any test; returns 0, or a SKIP reason for the
 * whole plan (e.g. no device) in buf and a positive value. */
void kt_set_setup(int (*fn)(char *buf, size_t len));

/* In the child. */
void kt_stage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kt_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void kt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void kt_xfail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Monotonic ns, for budgets. */
uint64_t kt_now_ns(void);
/* Name of an errno value, "0" for 0 (sign ignored). */
const char *kt_errname(long err);

int kt_main(int argc, char **argv);

#define KT_TEST_FULL(fn_, timeout_, per_mode_, order_)				\
	static void fn_(struct kt_ctx *ctx);					\
	static struct kt_test kt_test_##fn_ = {					\
		.name = #fn_, .fn = fn_, .timeout_s = (timeout_),		\
		.per_mode = (per_mode_), .order = (order_),			\
	};									\
	__attribute__((constructor)) static void kt_reg_##fn_(void)		\
	{									\
		kt_register(&kt_test_##fn_);					\
	}									\
	static void fn_(struct kt_ctx *ctx __attribute__((unused)))

#define KT_TEST(fn_)		KT_TEST_FULL(fn_, 0, false, 0)
#define KT_TEST_MODES(fn_)	KT_TEST_FULL(fn_, 0, true, 0)

#define KT_FAIL(...) kt_fail_at(__FILE__, __LINE__, __VA_ARGS__)

#define KT_ASSERT(cond)								\
	do {									\
		if (!(cond))							\
			KT_FAIL("assertion failed: %s", #cond);			\
	} while (0)

#define KT_ASSERT_EQ(a, b)							\
	do {									\
		long long kt_a_ = (long long)(a), kt_b_ = (long long)(b);	\
		if (kt_a_ != kt_b_)						\
			KT_FAIL("%s == %s: %lld != %lld", #a, #b, kt_a_, kt_b_); \
	} while (0)

#define KT_ASSERT_NE(a, b)							\
	do {									\
		long long kt_a_ = (long long)(a), kt_b_ = (long long)(b);	\
		if (kt_a_ == kt_b_)						\
			KT_FAIL("%s != %s: both %lld", #a, #b, kt_a_);		\
	} while (0)

#define KT_ASSERT_GE(a, b)							\
	do {									\
		long long kt_a_ = (long long)(a), kt_b_ = (long long)(b);	\
		if (kt_a_ < kt_b_)						\
			KT_FAIL("%s >= %s: %lld < %lld", #a, #b, kt_a_, kt_b_);	\
	} while (0)

/* expr returns 0 or -errno; want is 0 or a negative errno. */
#define KT_ASSERT_ERR(expr, want)						\
	do {									\
		long kt_r_ = (long)(expr), kt_w_ = (long)(want);		\
		if (kt_r_ != kt_w_)						\
			KT_FAIL("%s: got %s (%ld), want %s (%ld)", #expr,	\
				kt_errname(kt_r_), kt_r_, kt_errname(kt_w_),	\
				kt_w_);						\
	} while (0)

#define KT_ASSERT_OK(expr) KT_ASSERT_ERR(expr, 0)

#endif
