/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Nanosecond timestamps for latency measurement: a calibrated TSC when the
 * CPU says it is invariant (constant_tsc + nonstop_tsc), else
 * CLOCK_MONOTONIC_RAW. Never gettimeofday, never floating point on the hot
 * path: ns = ((tsc - base) * mult) >> shift.
 */
#ifndef ODPT_CLOCK_H
#define ODPT_CLOCK_H

#include <stdint.h>

#include "odpt/api.h"

enum odpt_clock_source {
	ODPT_CLOCK_MONOTONIC_RAW = 0,
	ODPT_CLOCK_TSC = 1,
};

struct odpt_clock_info {
	enum odpt_clock_source source;
	const char *source_name;   /* "tsc" or "clock_monotonic_raw" */
	uint64_t tsc_hz;           /* 0 unless TSC */
	uint64_t overhead_ns;      /* measured cost of one odpt_now_ns() (median) */
	uint64_t resolution_ns;    /* smallest non-zero step observed */
	const char *why;           /* why this source was chosen */
	int initialised;           /* odpt_clock_init() has run */
};

/* Calibrate (about 50 ms once). force_source < 0: choose automatically.
 * -ENOTSUP when ODPT_CLOCK_TSC is forced on a CPU without an invariant TSC. */
ODPT_API int odpt_clock_init(int force_source);
ODPT_API const struct odpt_clock_info *odpt_clock_info(void);

/*
 * Conversion state, read by the inline odpt_now_ns() below; written only by
 * odpt_clock_init(). ns = (((tsc - tsc_base) * mult) >> shift) with a
 * 128-bit product, so it never overflows.
 */
struct odpt_clock_state {
	int use_tsc;
	uint64_t tsc_base;
	uint64_t mult;
	unsigned shift;
};
ODPT_API extern struct odpt_clock_state odpt_clock_state;

/*
 * CLOCK_MONOTONIC_RAW in ns: odpt_now_ns()'s fallback, the calibration
 * reference, and the clock for deadlines, watchdogs and wall times. Those
 * use this rather than odpt_now_ns(): it needs no odpt_clock_init() (the
 * suite never calibrates), and odpt_now_ns() changes origin and rate when
 * odpt_clock_init() switches it to the TSC, so a deadline taken before the
 * switch would mean nothing after. The vDSO call costs tens of ns, nothing
 * next to a timeout.
 */
ODPT_API uint64_t odpt_clock_raw_ns(void);

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t odpt_clock_rdtsc(void)
{
	uint32_t lo, hi;

	/* lfence: do not read the TSC before earlier instructions finish. */
	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}
#else
static inline uint64_t odpt_clock_rdtsc(void)
{
	return 0;
}
#endif

/* Nanoseconds since an arbitrary start; valid after odpt_clock_init(). */
static inline uint64_t odpt_now_ns(void)
{
	if (odpt_clock_state.use_tsc) {
		unsigned __int128 d = odpt_clock_rdtsc() - odpt_clock_state.tsc_base;

		return (uint64_t)((d * odpt_clock_state.mult) >> odpt_clock_state.shift);
	}
	return odpt_clock_raw_ns();
}

#endif
