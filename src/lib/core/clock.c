// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The latency clock: decides between the TSC and CLOCK_MONOTONIC_RAW,
 * calibrates the TSC against CLOCK_MONOTONIC_RAW into an integer mult/shift
 * pair, and measures what the chosen clock costs per read and the smallest
 * step it shows, so every result can say how far its timer can be trusted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "odpt/clock.h"

struct odpt_clock_state odpt_clock_state;
static struct odpt_clock_info info = {
	.source = ODPT_CLOCK_MONOTONIC_RAW,
	.source_name = "clock_monotonic_raw",
	.why = "not initialised",
};
static char why_buf[160];

#define CALIB_NS 50000000ULL      /* total calibration window */
#define SHIFT 32

uint64_t odpt_clock_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Whether /proc/cpuinfo's first "flags" line lists the word. */
static bool cpuinfo_has_flag(const char *flags, const char *word)
{
	size_t n = strlen(word);
	const char *p = flags;

	while ((p = strstr(p, word))) {
		bool start = p == flags || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[n] == ' ' || p[n] == '\n' || p[n] == '\0';

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

static bool cpuid_invariant_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
		return false;
	if (!__get_cpuid(0x80000007, &a, &b, &c, &d))
		return false;
	return d & (1u << 8);   /* "Invariant TSC" */
#else
	return false;
#endif
}

/*
 * Invariant when the CPU says so (CPUID 0x80000007 EDX bit 8) or Linux
 * lists both constant_tsc and nonstop_tsc (hypervisors often hide the
 * CPUID bit while the kernel still knows).
 */
static bool tsc_is_invariant(const char **why)
{
#if defined(__x86_64__) || defined(__i386__)
	char line[8192];
	bool constant = false, nonstop = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "flags", 5))
				continue;
			constant = cpuinfo_has_flag(line, "constant_tsc");
			nonstop = cpuinfo_has_flag(line, "nonstop_tsc");
			break;
		}
		fclose(f);
	}
	if (constant && nonstop) {
		*why = "invariant TSC (cpuinfo: constant_tsc nonstop_tsc)";
		return true;
	}
	if (cpuid_invariant_tsc()) {
		*why = "invariant TSC (CPUID 0x80000007 EDX bit 8)";
		return true;
	}
	*why = "TSC not invariant (no constant_tsc+nonstop_tsc, no CPUID bit)";
	return false;
#else
	*why = "no TSC on this architecture";
	return false;
#endif
}

/*
 * One calibration point: the TSC read between two raw-clock reads, kept
 * from the tightest of a few tries so preemption does not skew it.
 */
static void sample_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		uint64_t a = odpt_clock_raw_ns();
		uint64_t t = odpt_clock_rdtsc();
		uint64_t b = odpt_clock_raw_ns();

		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}

static int calibrate_tsc(void)
{
	uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0, hz, check_ns, check_tsc_ns, err;
	unsigned __int128 m;

	sample_pair(&t0, &n0);
	while (odpt_clock_raw_ns() - n0 < CALIB_NS)
		;
	sample_pair(&t1, &n1);
	if (t1 <= t0 || n1 <= n0)
		return -EIO;
	hz = (uint64_t)(((unsigned __int128)(t1 - t0) * 1000000000ULL) / (n1 - n0));
	if (hz < 1000000)
		return -EIO;
	m = ((unsigned __int128)1000000000ULL << SHIFT) / hz;
	odpt_clock_state.mult = (uint64_t)m;
	odpt_clock_state.shift = SHIFT;
	odpt_clock_state.tsc_base = odpt_clock_rdtsc();
	info.tsc_hz = hz;

	/* Cross-check over a further 10 ms: refuse a TSC off by > 0.1%. */
	odpt_clock_state.use_tsc = 1;
	sample_pair(&t0, &n0);
	while (odpt_clock_raw_ns() - n0 < CALIB_NS / 5)
		;
	sample_pair(&t1, &n1);
	check_ns = n1 - n0;
	check_tsc_ns = (uint64_t)(((unsigned __int128)(t1 - t0) *
				   odpt_clock_state.mult) >> SHIFT);
	err = check_ns > check_tsc_ns ? check_ns - check_tsc_ns : check_tsc_ns - check_ns;
	if (err * 1000 > check_ns) {
		odpt_clock_state.use_tsc = 0;
		return -ERANGE;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median cost of one read over 31 rounds of 1000 back-to-back reads. */
static uint64_t measure_overhead_ns(void)
{
	uint64_t per[31];
	volatile uint64_t sink = 0;
	int r, i;

	for (r = 0; r < 31; r++) {
		uint64_t a = odpt_now_ns(), b;

		for (i = 0; i < 1000; i++)
			sink += odpt_now_ns();
		b = odpt_now_ns();
		per[r] = (b - a + 500) / 1000;
	}
	(void)sink;
	qsort(per, 31, sizeof(per[0]), cmp_u64);
	return per[15];
}

/* Smallest non-zero step between consecutive reads. */
static uint64_t measure_resolution_ns(void)
{
	uint64_t best = UINT64_MAX, prev = odpt_now_ns();
	int i;

	for (i = 0; i < 200000; i++) {
		uint64_t now = odpt_now_ns();

		if (now > prev && now - prev < best)
			best = now - prev;
		prev = now;
	}
	return best == UINT64_MAX ? 0 : best;
}

int odpt_clock_init(int force_source)
{
	const char *why = NULL;
	bool invariant = tsc_is_invariant(&why);
	int ret;

	memset(&odpt_clock_state, 0, sizeof(odpt_clock_state));
	info.tsc_hz = 0;
	info.source = ODPT_CLOCK_MONOTONIC_RAW;
	info.source_name = "clock_monotonic_raw";

	if (force_source == ODPT_CLOCK_TSC && !invariant)
		return -ENOTSUP;
	if (force_source == ODPT_CLOCK_MONOTONIC_RAW) {
		snprintf(why_buf, sizeof(why_buf), "forced by the caller");
	} else if (!invariant) {
		snprintf(why_buf, sizeof(why_buf), "%s", why);
	} else {
		ret = calibrate_tsc();
		if (ret == 0) {
			info.source = ODPT_CLOCK_TSC;
			info.source_name = "tsc";
			snprintf(why_buf, sizeof(why_buf), "%s, calibrated against CLOCK_MONOTONIC_RAW", why);
		} else {
			info.tsc_hz = 0;
			snprintf(why_buf, sizeof(why_buf), "%s but calibration failed (%s)",
				 why, ret == -ERANGE ? "off by more than 0.1%" : "no progress");
			if (force_source == ODPT_CLOCK_TSC)
				return ret;
		}
	}
	info.why = why_buf;
	info.overhead_ns = measure_overhead_ns();
	info.resolution_ns = measure_resolution_ns();
	info.initialised = 1;
	return 0;
}

const struct odpt_clock_info *odpt_clock_info(void)
{
	return &info;
}
