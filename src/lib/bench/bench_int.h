/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the shim engines of the bench layer share: page-aligned anonymous
 * buffers kept away from NUMA balancing, and the device facts every shim
 * report starts with. Internal to src/lib/bench.
 */
#ifndef ODPT_BENCH_INT_H
#define ODPT_BENCH_INT_H

#include <stddef.h>

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

#endif
