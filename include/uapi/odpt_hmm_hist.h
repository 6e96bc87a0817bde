/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Histogram layout shared by odpt_hmm.ko and libodpt (uAPI).
 *
 * The module records latencies into plain __u64 counter arrays laid out
 * exactly like libodpt's odpt_hist created with
 * odpt_hist_create(ODPT_HMM_HIST_LOWEST, ODPT_HMM_HIST_HIGHEST,
 * ODPT_HMM_HIST_SIG_FIGS): the HdrHistogram log-linear layout. Userspace
 * imports the counters with odpt_hist_import_counts() and prints them with
 * the usual writers. tests/unit holds libodpt's index function to this one
 * over the whole range.
 *
 * 2 significant figures keeps one histogram at 4608 counters (36 KiB):
 * relative error below 1% (the bucket width is at most 1/128 of its value).
 */
#ifndef _UAPI_ODPT_HMM_HIST_H
#define _UAPI_ODPT_HMM_HIST_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#endif

#define ODPT_HMM_HIST_LOWEST     1ULL
#define ODPT_HMM_HIST_HIGHEST    3600000000000ULL	/* 1 hour in ns */
#define ODPT_HMM_HIST_SIG_FIGS   2
/* 2 * 10^2 = 200 -> 256 sub-buckets; half = 128 (magnitude 7). */
#define ODPT_HMM_HIST_SUB_BUCKET_COUNT_MAG     8
#define ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT_MAG 7
#define ODPT_HMM_HIST_SUB_BUCKET_COUNT         (1 << ODPT_HMM_HIST_SUB_BUCKET_COUNT_MAG)
#define ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT    (1 << ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT_MAG)
/* Buckets needed to cover 1 h from 256 << 0: 256 * 2^(b-1) > 3.6e12 -> b = 35. */
#define ODPT_HMM_HIST_BUCKET_COUNT             35
#define ODPT_HMM_HIST_COUNTS_LEN \
	((ODPT_HMM_HIST_BUCKET_COUNT + 1) * ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT)

/* Counter index for v in [1, ODPT_HMM_HIST_HIGHEST]; unit magnitude is 0. */
static inline __u32 odpt_hmm_hist_index(__u64 v)
{
	__u64 mask = (__u64)(ODPT_HMM_HIST_SUB_BUCKET_COUNT - 1);
	int pow2ceiling = 64 - __builtin_clzll(v | mask);
	int bucket = pow2ceiling - (ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT_MAG + 1);
	__u64 sub = v >> bucket;

	return ((__u32)(bucket + 1) << ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT_MAG) +
	       (__u32)(sub - ODPT_HMM_HIST_SUB_BUCKET_HALF_COUNT);
}

#endif
