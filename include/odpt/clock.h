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
};

/* Calibrate (about 50 ms once). force_source < 0: choose automatically. */
int odpt_clock_init(int force_source);
const struct odpt_clock_info *odpt_clock_info(void);
/* Nanoseconds since an arbitrary start; valid after odpt_clock_init(). */
uint64_t odpt_now_ns(void);

#endif
