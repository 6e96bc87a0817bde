// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The odpt_hist implementation: HdrHistogram's log-linear counter layout
 * (see include/odpt/hist.h for the formulas and the guarantees), recording
 * in O(1) without allocation, merging across layouts, importing counter
 * arrays exported by the kernel shim, and the statistics every writer
 * reports (percentiles as highest equivalent values).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/hist.h"

static int ceil_log2_u64(uint64_t v)
{
	if (v <= 1)
		return 0;
	return 64 - __builtin_clzll(v - 1);
}

static int floor_log2_u64(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

/* Buckets needed so that (sub_bucket_count << u) * 2^(B-1) > highest. */
static int32_t buckets_to_cover(uint64_t highest, int32_t sub_bucket_count,
				int unit_magnitude)
{
	uint64_t smallest_untrackable = (uint64_t)sub_bucket_count << unit_magnitude;
	int32_t buckets = 1;

	while (smallest_untrackable <= highest) {
		if (smallest_untrackable > UINT64_MAX / 2)
			return buckets + 1;
		smallest_untrackable <<= 1;
		buckets++;
	}
	return buckets;
}

int odpt_hist_create(uint64_t lowest, uint64_t highest, int sig_figs,
		     struct odpt_hist **out)
{
	struct odpt_hist *h;
	int sub_count_mag, unit_mag;
	int32_t sub_count, bucket_count, counts_len;

	if (!out || lowest < 1 || sig_figs < 1 || sig_figs > 5 ||
	    highest < 2 * lowest || highest > (UINT64_MAX >> 2))
		return -EINVAL;

	/* 2 * 10^S values must be told apart at unit resolution. */
	sub_count_mag = ceil_log2_u64(2 * (uint64_t)pow(10, sig_figs));
	unit_mag = floor_log2_u64(lowest);
	if (unit_mag + sub_count_mag > 62)
		return -EINVAL;
	sub_count = (int32_t)1 << sub_count_mag;
	bucket_count = buckets_to_cover(highest, sub_count, unit_mag);
	counts_len = (bucket_count + 1) * (sub_count / 2);

	h = calloc(1, sizeof(*h) + (size_t)counts_len * sizeof(h->counts[0]));
	if (!h)
		return -ENOMEM;
	h->lowest = lowest;
	h->highest = highest;
	h->sig_figs = sig_figs;
	h->unit_magnitude = unit_mag;
	h->sub_bucket_half_count_magnitude = sub_count_mag - 1;
	h->sub_bucket_count = sub_count;
	h->sub_bucket_half_count = sub_count / 2;
	h->sub_bucket_mask = ((uint64_t)sub_count - 1) << unit_mag;
	h->bucket_count = bucket_count;
	h->counts_len = counts_len;
	h->min = UINT64_MAX;
	*out = h;
	return 0;
}

int odpt_hist_create_default(struct odpt_hist **out)
{
	return odpt_hist_create(ODPT_HIST_LOWEST_NS, ODPT_HIST_HIGHEST_NS,
				ODPT_HIST_DEFAULT_SIG, out);
}

void odpt_hist_destroy(struct odpt_hist *h)
{
	free(h);
}

void odpt_hist_reset(struct odpt_hist *h)
{
	memset(h->counts, 0, (size_t)h->counts_len * sizeof(h->counts[0]));
	h->total_count = 0;
	h->overflow = 0;
	h->min = UINT64_MAX;
	h->max = 0;
}

/* Bucket and sub-bucket of a counter index (the inverse of odpt_hist_index). */
static void split_index(const struct odpt_hist *h, int32_t idx, int32_t *b,
			int32_t *sub)
{
	*b = (idx >> h->sub_bucket_half_count_magnitude) - 1;
	*sub = (idx & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
	if (*b < 0) {
		*sub -= h->sub_bucket_half_count;
		*b = 0;
	}
}

uint64_t odpt_hist_lowest_at_index(const struct odpt_hist *h, int32_t idx)
{
	int32_t b, sub;

	split_index(h, idx, &b, &sub);
	return (uint64_t)sub << (b + h->unit_magnitude);
}

uint64_t odpt_hist_highest_at_index(const struct odpt_hist *h, int32_t idx)
{
	int32_t b, sub;

	split_index(h, idx, &b, &sub);
	return ((uint64_t)sub << (b + h->unit_magnitude)) +
	       ((uint64_t)1 << (b + h->unit_magnitude)) - 1;
}

static uint64_t median_at_index(const struct odpt_hist *h, int32_t idx)
{
	int32_t b, sub;

	split_index(h, idx, &b, &sub);
	return ((uint64_t)sub << (b + h->unit_magnitude)) +
	       (((uint64_t)1 << (b + h->unit_magnitude)) >> 1);
}

static bool same_layout(const struct odpt_hist *a, const struct odpt_hist *b)
{
	return a->unit_magnitude == b->unit_magnitude &&
	       a->sub_bucket_count == b->sub_bucket_count &&
	       a->counts_len == b->counts_len &&
	       a->lowest == b->lowest && a->highest == b->highest;
}

int odpt_hist_merge(struct odpt_hist *dst, const struct odpt_hist *src,
		    uint64_t *dropped)
{
	uint64_t lost = 0;
	int32_t i;

	if (!dst || !src)
		return -EINVAL;
	if (same_layout(dst, src)) {
		for (i = 0; i < src->counts_len; i++)
			dst->counts[i] += src->counts[i];
		dst->total_count += src->total_count;
		if (src->total_count) {
			if (src->min < dst->min)
				dst->min = src->min;
			if (src->max > dst->max)
				dst->max = src->max;
		}
	} else if (src->total_count) {
		/*
		 * Re-record each counter at a value it stands for, clamped to
		 * the source's exact min and max so those survive the move.
		 */
		for (i = 0; i < src->counts_len; i++) {
			uint64_t c = src->counts[i], v;

			if (!c)
				continue;
			v = odpt_hist_lowest_at_index(src, i);
			if (v < src->min)
				v = src->min;
			if (v > src->max)
				v = src->max;
			/* record_n counts a refused sample in dst->overflow */
			if (!odpt_hist_record_n(dst, v, c))
				lost += c;
		}
		if (src->max >= dst->lowest && src->max <= dst->highest &&
		    src->max > dst->max)
			dst->max = src->max;
	}
	/* Samples the source itself could not hold stay outside the range. */
	dst->overflow += src->overflow;
	if (dropped)
		*dropped = lost;
	return 0;
}

int odpt_hist_import_counts(struct odpt_hist *h, const uint64_t *counts,
			    size_t len)
{
	int32_t i, first = -1, last = -1;
	uint64_t total = 0;

	if (!h || (!counts && len) || len != (size_t)h->counts_len)
		return -EINVAL;
	for (i = 0; i < h->counts_len; i++) {
		if (total + counts[i] < total)
			return -EOVERFLOW;
		total += counts[i];
		if (counts[i]) {
			if (first < 0)
				first = i;
			last = i;
		}
	}
	for (i = 0; i < h->counts_len; i++)
		h->counts[i] += counts[i];
	h->total_count += total;
	if (first >= 0) {
		/* The exact values are unknown: keep the counters' bounds. */
		uint64_t lo = odpt_hist_lowest_at_index(h, first);
		uint64_t hi = odpt_hist_lowest_at_index(h, last);

		if (lo < h->min)
			h->min = lo;
		if (hi > h->max)
			h->max = hi;
	}
	return 0;
}

uint64_t odpt_hist_count(const struct odpt_hist *h)
{
	return h->total_count;
}

uint64_t odpt_hist_min(const struct odpt_hist *h)
{
	return h->total_count ? h->min : 0;
}

uint64_t odpt_hist_max(const struct odpt_hist *h)
{
	if (!h->total_count)
		return 0;
	return odpt_hist_highest_at_index(h, odpt_hist_index(h, h->max));
}

double odpt_hist_mean(const struct odpt_hist *h)
{
	double sum = 0;
	int32_t i;

	if (!h->total_count)
		return 0;
	for (i = 0; i < h->counts_len; i++)
		if (h->counts[i])
			sum += (double)median_at_index(h, i) * (double)h->counts[i];
	return sum / (double)h->total_count;
}

double odpt_hist_stddev(const struct odpt_hist *h)
{
	double mean, dev_sq = 0;
	int32_t i;

	if (!h->total_count)
		return 0;
	mean = odpt_hist_mean(h);
	for (i = 0; i < h->counts_len; i++) {
		if (h->counts[i]) {
			double d = (double)median_at_index(h, i) - mean;

			dev_sq += d * d * (double)h->counts[i];
		}
	}
	return sqrt(dev_sq / (double)h->total_count);
}

/*
 * Rank of the sample at percentile p: ceil(p/100 * count), where a product
 * within 1e-9 (relative) of an integer counts as that integer, so that
 * 99.9% of 1000 samples is the 999th and not, through rounding, the 1000th.
 */
static uint64_t rank_at_percentile(uint64_t count, double p)
{
	double x = p / 100.0 * (double)count;
	double r = nearbyint(x);
	uint64_t rank;

	if (fabs(x - r) <= 1e-9 * (x > 1 ? x : 1))
		rank = (uint64_t)r;
	else
		rank = (uint64_t)ceil(x);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	return rank;
}

uint64_t odpt_hist_value_at_percentile(const struct odpt_hist *h, double p)
{
	uint64_t rank, seen = 0;
	int32_t i;

	if (!h->total_count)
		return 0;
	if (!(p > 0))          /* p <= 0 and NaN: the minimum */
		return odpt_hist_min(h);
	if (p >= 100)
		return odpt_hist_max(h);
	rank = rank_at_percentile(h->total_count, p);
	/*
	 * Scan from the nearer end, starting at the min's or the max's counter
	 * (imported counts keep min/max at their counters' bounds too).
	 */
	if (rank <= h->total_count / 2) {
		for (i = odpt_hist_index(h, h->min); i < h->counts_len; i++) {
			seen += h->counts[i];
			if (seen >= rank)
				return odpt_hist_highest_at_index(h, i);
		}
	} else {
		/* the rank-th sample is the (total - rank + 1)-th from the top */
		uint64_t from_top = h->total_count - rank + 1;

		for (i = odpt_hist_index(h, h->max); i >= 0; i--) {
			seen += h->counts[i];
			if (seen >= from_top)
				return odpt_hist_highest_at_index(h, i);
		}
	}
	return odpt_hist_max(h);
}

bool odpt_hist_next_bucket(const struct odpt_hist *h, int32_t *idx,
			   struct odpt_hist_bucket *b)
{
	int32_t i;

	for (i = *idx + 1; i < h->counts_len; i++) {
		if (h->counts[i]) {
			b->index = i;
			b->lowest = odpt_hist_lowest_at_index(h, i);
			b->highest = odpt_hist_highest_at_index(h, i);
			b->count = h->counts[i];
			*idx = i;
			return true;
		}
	}
	*idx = h->counts_len;
	return false;
}

size_t odpt_hist_bytes(const struct odpt_hist *h)
{
	return sizeof(*h) + (size_t)h->counts_len * sizeof(h->counts[0]);
}

int odpt_hist_dup(const struct odpt_hist *h, struct odpt_hist **out)
{
	struct odpt_hist *c;

	if (!h || !out)
		return -EINVAL;
	c = malloc(odpt_hist_bytes(h));
	if (!c)
		return -ENOMEM;
	memcpy(c, h, odpt_hist_bytes(h));
	*out = c;
	return 0;
}
