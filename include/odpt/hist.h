/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * odpt_hist: log-linear latency histogram in the HdrHistogram layout.
 *
 * Layout (S = significant figures, 1..5; all integers):
 *   sub_bucket_count = 2^ceil(log2(2 * 10^S)), half = sub_bucket_count / 2,
 *   unit_magnitude u = floor(log2(lowest)),
 *   bucket_count B   = smallest B with (sub_bucket_count << u) * 2^(B-1) > highest,
 *   counts_len       = (B + 1) * half.
 *   Counter i covers [lo, hi] with hi - lo + 1 = 2^(u + b) for its bucket b.
 *
 * Guarantees (held by tests/unit/test_hist.c):
 *  - Range: every value v with lowest <= v <= highest is recorded (default
 *    1 ns .. 3.6e12 ns = 1 hour); any other value is counted in 'overflow',
 *    returns false and changes nothing else.
 *  - Error bound: the counter holding v covers [lo, hi] with lo <= v <= hi and
 *    hi - lo + 1 <= max(2^u, lo / half). With lowest = 1 (u = 0, as in all
 *    of odpt's histograms) and since half >= 10^S, the highest equivalent
 *    value hi reported for v satisfies v <= hi and (hi - v) < v / half <=
 *    v * 10^-S (S=3: below 1/1024 of v; S=2: below 1/128), and values below
 *    sub_bucket_count (2048 at S=3, 256 at S=2) are exact.
 *    odpt_hist_value_at_percentile() and odpt_hist_max() return hi (an upper
 *    bound, never below the true sample).
 *  - Memory: sizeof(struct odpt_hist) + (counts_len + nblocks) * 8 bytes
 *    (nblocks block totals, see below), allocated once by
 *    odpt_hist_create(), whatever the sample count. 1 ns..1 h: S=3 -> B=32,
 *    33792 counters (264 KiB) + 528 blocks of 64 (4 KiB); S=2 -> B=35,
 *    4608 counters (36 KiB, the kernel shim's layout in
 *    include/uapi/odpt_hmm_hist.h) + 72 blocks of 64.
 *  - Cost: odpt_hist_record() is O(1) (a clz, three shifts, three
 *    increments and the min/max update); it never allocates. A percentile
 *    reads at most the block totals of the populated range and one block's
 *    counters (S=3: 528 + 64 entries, tens for most data), whatever the
 *    sample count. Merge, mean, stddev, iteration and reset visit only the
 *    non-empty blocks of [index(min), index(max)]: an empty source merges
 *    in O(1).
 *  - Mean and standard deviation use each counter's median equivalent value
 *    (as HdrHistogram does), so they carry the same relative error bound.
 *  - Empty histogram: count 0, min = max = mean = stddev = 0 and every
 *    percentile 0; never NaN.
 * Not thread safe: keep one per thread and merge.
 *
 * Query structure: counts[] (the HdrHistogram layout, unchanged) is followed
 * in the same allocation by block totals kept exact on every write: block k
 * holds the sum of counters [k << s, ((k + 1) << s) - 1], 2^s being about
 * sqrt(counts_len) / 2 and at least 64 (S=3: 64), so that a walk reads
 * about as many totals as counters. A percentile walks up from the min's
 * block (or down from the max's, whichever end is nearer the rank; the
 * counters beyond min and max are empty, so those blocks' totals count from
 * there): block totals until the rank is reached, then that block's
 * counters; eight entries are skipped at a time while eight cannot reach
 * the rank. The batch query continues each walk from the block where the
 * previous rank was found. A second level of totals would shorten the walk
 * but, its few entries hit by nearly every record, costs more at record
 * time (measured in isolation: +0.26 ns per record for the blocks, +0.67 ns
 * with a second level of 64 blocks). min and max bound the populated
 * counters (every write path keeps them so), which merge and the other
 * walks use. Write counts[] only through this API: odpt_hist_consistent()
 * checks the totals (the tests call it after every mutating call).
 */
#ifndef ODPT_HIST_H
#define ODPT_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "odpt/api.h"

#define ODPT_HIST_LOWEST_NS   1ULL
#define ODPT_HIST_HIGHEST_NS  3600000000000ULL   /* one hour */
#define ODPT_HIST_DEFAULT_SIG 3

struct odpt_hist {
	uint64_t lowest;            /* lowest trackable value (>= 1) */
	uint64_t highest;           /* highest trackable value */
	int sig_figs;               /* 1..5 */
	int unit_magnitude;         /* floor(log2(lowest)) */
	int sub_bucket_half_count_magnitude;
	int32_t sub_bucket_count;   /* 2^(ceil(log2(2*10^sig))) */
	int32_t sub_bucket_half_count;
	uint64_t sub_bucket_mask;
	int32_t bucket_count;
	int32_t counts_len;
	int32_t block_shift;        /* 2^block_shift counters per block total */
	int32_t nblocks;            /* ceil(counts_len / 2^block_shift) */
	uint64_t total_count;
	uint64_t overflow;          /* samples outside [lowest, highest] */
	uint64_t min;               /* UINT64_MAX while empty */
	uint64_t max;
	/* counts_len counters, then the nblocks block totals */
	uint64_t counts[];
};

/* 0 or -errno (-EINVAL for a bad range or sig_figs, -ENOMEM). */
ODPT_API int odpt_hist_create(uint64_t lowest, uint64_t highest, int sig_figs,
			      struct odpt_hist **out);
/* The default histogram: 1 ns .. 1 h, 3 significant figures. */
ODPT_API int odpt_hist_create_default(struct odpt_hist **out);
ODPT_API void odpt_hist_destroy(struct odpt_hist *h);
/* A copy with the same layout and contents: 0, -EINVAL or -ENOMEM. */
ODPT_API int odpt_hist_dup(const struct odpt_hist *h, struct odpt_hist **out);
/* Bytes one histogram occupies (struct + counters). */
ODPT_API size_t odpt_hist_bytes(const struct odpt_hist *h);
ODPT_API void odpt_hist_reset(struct odpt_hist *h);

/* Index of the counter that holds v (v must be in range). */
static inline int32_t odpt_hist_index(const struct odpt_hist *h, uint64_t v)
{
	/* bucket: position of v's top bit above the sub-bucket range */
	int32_t b = 64 - h->unit_magnitude - h->sub_bucket_half_count_magnitude - 1 -
		    __builtin_clzll(v | h->sub_bucket_mask);
	int32_t sub = (int32_t)(v >> (b + h->unit_magnitude));

	return ((b + 1) << h->sub_bucket_half_count_magnitude) +
	       (sub - h->sub_bucket_half_count);
}
/* Lowest and highest values that share index idx's counter. */
ODPT_API uint64_t odpt_hist_lowest_at_index(const struct odpt_hist *h, int32_t idx);
ODPT_API uint64_t odpt_hist_highest_at_index(const struct odpt_hist *h, int32_t idx);

/* Record n samples of v; false (and overflow += n) when out of range. O(1);
 * inline because it sits in every measurement loop. */
static inline bool odpt_hist_record_n(struct odpt_hist *h, uint64_t v, uint64_t n)
{
	int32_t idx;

	if (__builtin_expect(v < h->lowest || v > h->highest, 0)) {
		h->overflow += n;
		return false;
	}
	idx = odpt_hist_index(h, v);
	h->counts[idx] += n;
	/* the block total a percentile query walks */
	h->counts[h->counts_len + (idx >> h->block_shift)] += n;
	h->total_count += n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	return true;
}

/* Record one sample; false (and overflow++) when out of range. O(1). */
static inline bool odpt_hist_record(struct odpt_hist *h, uint64_t v)
{
	return odpt_hist_record_n(h, v, 1);
}

/*
 * Add src into dst. Samples of src that dst cannot hold (outside its range)
 * are added to dst->overflow and counted in *dropped (may be NULL).
 * Works across different layouts; the same layout is a plain counter sum.
 */
ODPT_API int odpt_hist_merge(struct odpt_hist *dst, const struct odpt_hist *src,
			     uint64_t *dropped);
/* Load a counts array exported in the same layout (e.g. by the kernel shim). */
ODPT_API int odpt_hist_import_counts(struct odpt_hist *h, const uint64_t *counts,
				     size_t len);

ODPT_API uint64_t odpt_hist_count(const struct odpt_hist *h);
ODPT_API uint64_t odpt_hist_min(const struct odpt_hist *h);   /* 0 when empty */
ODPT_API uint64_t odpt_hist_max(const struct odpt_hist *h);   /* highest equivalent */
ODPT_API double odpt_hist_mean(const struct odpt_hist *h);    /* 0 when empty */
ODPT_API double odpt_hist_stddev(const struct odpt_hist *h);  /* 0 when empty */
/* p in [0, 100]; highest equivalent value of the bucket holding the
 * ceil(p/100 * count)-th sample (p = 0: the min). 0 when empty. */
ODPT_API uint64_t odpt_hist_value_at_percentile(const struct odpt_hist *h, double p);
/*
 * n percentiles in one pass, pcts in any order: out[i] is exactly what
 * odpt_hist_value_at_percentile(h, pcts[i]) returns. 0, -EINVAL (NULL
 * arrays with n > 0) or -ENOMEM (n above 64 needs a sort buffer).
 */
ODPT_API int odpt_hist_values_at_percentiles(const struct odpt_hist *h, const double *pcts,
					     size_t n, uint64_t *out);
/* True when the block totals, total_count and the populated range
 * [index(min), index(max)] agree with counts[] (a full O(counts_len) check). */
ODPT_API bool odpt_hist_consistent(const struct odpt_hist *h);

/* Iterate non-empty counters in value order. */
struct odpt_hist_bucket {
	int32_t index;
	uint64_t lowest;      /* lowest equivalent value */
	uint64_t highest;     /* highest equivalent value */
	uint64_t count;
};
/* Start with *idx = -1; returns false when done. */
ODPT_API bool odpt_hist_next_bucket(const struct odpt_hist *h, int32_t *idx,
				    struct odpt_hist_bucket *b);

#endif
