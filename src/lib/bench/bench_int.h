/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the shim engines of the bench layer share: page-aligned anonymous
 * buffers kept away from NUMA balancing, and the device facts every shim
 * report starts with; and what `hist check` and `hist bench` share.
 * Internal to src/lib/bench.
 */
#ifndef ODPT_BENCH_INT_H
#define ODPT_BENCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "odpt/hist.h"
#include "odpt/report.h"
#include "odpt/shim.h"

/* len bytes of private anonymous memory (MAP_NORESERVE) aligned to align, a
 * power of two; NULL with errno set. munmap(p, len) releases it. */
void *bench_map_buf(size_t len, size_t align);
/* Keep automatic NUMA balancing's hinting scans off a buffer; -errno. */
int bench_exclude_numa_balancing(void *buf, size_t len);
/* The module's global counters, through a file opened for the query only
 * (each run opens its own mirrors): 0 or -errno, logged. */
int bench_shim_global(struct odpt_hmm_global *g);
/* Which device and DMA path the results come from, as report meta. */
int bench_report_device(struct odpt_report *r, struct odpt_hmm_dev_info *dev);

/* n values spread log-uniformly over [lo, hi], the same sequence every
 * run (selftest.c); NULL without memory. */
uint64_t *bench_log_values(double lo, double hi, size_t n);
/* The record and query cost figures both `hist` verbs report: record_ns,
 * record_best_ns, record_target_ns, percentile_query_ns, hist_bytes. */
int bench_hist_costs(struct odpt_report *r, const struct odpt_hist *h, double rec_ns,
		     double best_ns, double query_ns);

#endif
