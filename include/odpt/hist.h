/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * odpt_hist: log-linear latency histogram in the HdrHistogram layout.
 *
 * Guarantees (held by tests/unit/test_hist.c):
 *  - Range: any value in [lowest, highest] (default 1 ns .. 1 hour) is
 *    recorded; values outside are counted in 'overflow' and not recorded.
 *  - Error bound: with S significant figures (1..5), the bucket holding v
 *    covers [lo, hi] with hi - lo < max(1, v / 10^S) ... more exactly
 *    (hi - lo + 1) <= max(1, lo * 2 / 2^ceil(log2(2 * 10^S))), i.e. relative
 *    error < 10^-S. odpt_hist_value_at_percentile() returns the highest value
 *    equivalent to the bucket (an upper bound: never below the true sample).
 *  - Memory: sizeof(struct odpt_hist) + counts_len * 8 bytes, fixed at
 *    creation; e.g. 1 ns..1 h at 3 figures is 30720 counters (240 KiB).
 *  - Cost: odpt_hist_record() is O(1), branch-light, never allocates.
 *  - Empty histogram: count 0, min = max = mean = stddev = 0 and every
 *    percentile 0; never NaN.
 * Not thread safe: keep one per thread and merge.
 */
#ifndef ODPT_HIST_H
#define ODPT_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

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
	uint64_t total_count;
	uint64_t overflow;          /* samples outside [lowest, highest] */
	uint64_t min;               /* UINT64_MAX while empty */
	uint64_t max;
	uint64_t counts[];          /* counts_len entries */
};

/* 0 or -errno (-EINVAL for a bad range or sig_figs, -ENOMEM). */
int odpt_hist_create(uint64_t lowest, uint64_t highest, int sig_figs,
		     struct odpt_hist **out);
/* The default histogram: 1 ns .. 1 h, 3 significant figures. */
int odpt_hist_create_default(struct odpt_hist **out);
void odpt_hist_destroy(struct odpt_hist *h);
void odpt_hist_reset(struct odpt_hist *h);

/* Index of the counter that holds v (v must be in range). */
int32_t odpt_hist_index(const struct odpt_hist *h, uint64_t v);
/* Lowest and highest values that share index idx's counter. */
uint64_t odpt_hist_lowest_at_index(const struct odpt_hist *h, int32_t idx);
uint64_t odpt_hist_highest_at_index(const struct odpt_hist *h, int32_t idx);

/* Record one sample; false (and overflow++) when out of range. O(1). */
bool odpt_hist_record(struct odpt_hist *h, uint64_t v);
bool odpt_hist_record_n(struct odpt_hist *h, uint64_t v, uint64_t n);

/*
 * Add src into dst. Samples of src that dst cannot hold (outside its range)
 * are added to dst->overflow and counted in *dropped (may be NULL).
 * Works across different layouts; the same layout is a plain counter sum.
 */
int odpt_hist_merge(struct odpt_hist *dst, const struct odpt_hist *src,
		    uint64_t *dropped);
/* Load a counts array exported in the same layout (e.g. by the kernel shim). */
int odpt_hist_import_counts(struct odpt_hist *h, const uint64_t *counts,
			    size_t len);

uint64_t odpt_hist_count(const struct odpt_hist *h);
uint64_t odpt_hist_min(const struct odpt_hist *h);   /* 0 when empty */
uint64_t odpt_hist_max(const struct odpt_hist *h);   /* highest equivalent */
double odpt_hist_mean(const struct odpt_hist *h);    /* 0 when empty */
double odpt_hist_stddev(const struct odpt_hist *h);  /* 0 when empty */
/* p in [0, 100]; highest equivalent value of the bucket holding the
 * ceil(p/100 * count)-th sample (p = 0: the min). 0 when empty. */
uint64_t odpt_hist_value_at_percentile(const struct odpt_hist *h, double p);

/* Iterate non-empty counters in value order. */
struct odpt_hist_bucket {
	int32_t index;
	uint64_t lowest;      /* lowest equivalent value */
	uint64_t highest;     /* highest equivalent value */
	uint64_t count;
};
/* Start with *idx = -1; returns false when done. */
bool odpt_hist_next_bucket(const struct odpt_hist *h, int32_t *idx,
			   struct odpt_hist_bucket *b);

#endif
