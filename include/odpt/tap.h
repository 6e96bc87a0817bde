/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The TAP 13 writer in parts, for output that streams: the header (with
 * the plan when the number of tests is known up front), one result line
 * with its diagnostics as each test ends, and the tail (a trailing plan
 * when it was not given first, the summary and kselftest's totals).
 * odpt_write_tap() is the three in a row.
 */
#ifndef ODPT_TAP_H
#define ODPT_TAP_H

#include <stdbool.h>
#include <stdio.h>

#include "odpt/api.h"
#include "odpt/report.h"

ODPT_API void odpt_write_tap_head(const struct odpt_report *r, bool plan, FILE *f);
/* Test record t as test number n (from 1). */
ODPT_API void odpt_write_tap_result(const struct odpt_test_record *t, int n, FILE *f);
ODPT_API void odpt_write_tap_tail(const struct odpt_report *r, bool plan, FILE *f);

#endif
