/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Internal to the suite: the RDMA netlink lookup of one of our MRs
 * (odpstat.c), for tc_odp_snapshot(), the counter probe and the case that
 * checks the lookup (cases_odpstat.c). Below the rig: includes no rig.h.
 */
#ifndef ODPT_SUITE_ODPSTAT_H
#define ODPT_SUITE_ODPSTAT_H

#include <stdbool.h>
#include <stddef.h>

#include "odpt/rdmanl.h"
#include "odpt/verbs.h"

/* strerrorname_np(err), or "unknown error". */
const char *odpstat_errname(int err);
/*
 * Look mr up on device dev (driver drv). *found: its RES_MR entry matched
 * (lkey, PID, length), copied to *entry. 0: *stat holds its STAT_GET entry
 * (ODPT_NL_HAS_COUNTERS tells whether the driver sent counters; when not,
 * why says so). < 0: not found or netlink failed, why says which step and
 * what it returned.
 */
int odpstat_lookup(const char *dev, const char *drv, const struct odpt_vmr *mr,
		   struct odpt_nl_mr *stat, struct odpt_nl_mr *entry, bool *found,
		   char *why, size_t why_len);

#endif
