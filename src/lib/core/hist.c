// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The odpt_hist implementation: HdrHistogram's log-linear counter layout
 * (see include/odpt/hist.h for the formulas and the guarantees), recording
 * in O(1) without allocation, merging across layouts, importing counter
 * arrays exported by the kernel shim, and the statistics every writer
 * reports (percentiles as highest equivalent values). Every write path here
 * keeps the block totals that make a percentile a short walk (hist.h), as
 * the inline record in hist.h does.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/hist.h"

/* The block totals after counts[] (const when h is). */
#define blocks(h) ((h)->counts + (h)->counts_len)
/* The last counter of i's block. */
#define block_last(h, i) ((i) | ((1 << (h)->block_shift) - 1))

/* The counters that may be non-empty: [index(min), index(max)]. */
static bool populated(const struct odpt_hist *h, int32_t *lo, int32_t *hi)
{
	if (!h->total_count)
		return false;
	*lo = odpt_hist_index(h, h->min);
	*hi = odpt_hist_index(h, h->max);
	if (*hi >= h->counts_len)
		*hi = h->counts_len - 1;
	return true;
}

/* The first non-empty counter in [i, hi], hi + 1 if none: empty blocks are
 * skipped whole by their totals. */
static int32_t next_nonempty(const struct odpt_hist *h, int32_t i, int32_t hi)
{
	const uint64_t *blk = blocks(h);

	while (i <= hi) {
		if (!blk[i >> h->block_shift])
			i = block_last(h, i) + 1;
		else if (h->counts[i])
			return i;
		else
			i++;
	}
	return hi + 1;
}

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
	int32_t sub_count, bucket_count, counts_len, block_shift, nblocks;

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
	/* About sqrt(counts_len) / 2 counters per block, 64 at least: a walk
	 * then reads about as many counters as block totals (hist.h). */
	block_shift = floor_log2_u64((uint64_t)counts_len) / 2 - 1;
	if (block_shift < 6)
		block_shift = 6;
	nblocks = (int32_t)(((uint64_t)counts_len + (1ULL << block_shift) - 1) >> block_shift);

	h = calloc(1, sizeof(*h) + (size_t)(counts_len + nblocks) * sizeof(h->counts[0]));
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
	h->block_shift = block_shift;
	h->nblocks = nblocks;
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
	int32_t lo, hi;

	/* Only the populated range can hold anything. */
	if (populated(h, &lo, &hi)) {
		memset(h->counts + lo, 0, (size_t)(hi - lo + 1) * sizeof(h->counts[0]));
		memset(blocks(h) + (lo >> h->block_shift), 0,
		       (size_t)((hi >> h->block_shift) - (lo >> h->block_shift) + 1) *
		       sizeof(uint64_t));
	}
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

/* Same layout: add the source's non-empty blocks, counters and totals. */
static void merge_same(struct odpt_hist *dst, const struct odpt_hist *src, int32_t lo,
		       int32_t hi)
{
	const uint64_t *sblk = blocks(src);
	uint64_t *dblk = blocks(dst);
	int32_t k, i;

	for (k = lo >> src->block_shift; k <= hi >> src->block_shift; k++) {
		int32_t last = block_last(src, k << src->block_shift);

		if (!sblk[k])
			continue;
		dblk[k] += sblk[k];
		if (last >= dst->counts_len)
			last = dst->counts_len - 1;
		for (i = k << src->block_shift; i <= last; i++)
			dst->counts[i] += src->counts[i];
	}
	dst->total_count += src->total_count;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

int odpt_hist_merge(struct odpt_hist *dst, const struct odpt_hist *src,
		    uint64_t *dropped)
{
	uint64_t lost = 0;
	int32_t lo, hi, i;

	if (!dst || !src)
		return -EINVAL;
	if (!populated(src, &lo, &hi)) {
		/* nothing to add */
	} else if (same_layout(dst, src)) {
		merge_same(dst, src, lo, hi);
	} else {
		/*
		 * Re-record each counter at a value it stands for, clamped to
		 * the source's exact min and max so those survive the move.
		 */
		for (i = next_nonempty(src, lo, hi); i <= hi; i = next_nonempty(src, i + 1, hi)) {
			uint64_t c = src->counts[i], v;

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
	for (i = first; i >= 0 && i <= last; i++) {
		h->counts[i] += counts[i];
		blocks(h)[i >> h->block_shift] += counts[i];
	}
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
	int32_t lo, hi, i;

	if (!populated(h, &lo, &hi))
		return 0;
	for (i = next_nonempty(h, lo, hi); i <= hi; i = next_nonempty(h, i + 1, hi))
		sum += (double)median_at_index(h, i) * (double)h->counts[i];
	return sum / (double)h->total_count;
}

double odpt_hist_stddev(const struct odpt_hist *h)
{
	double mean, dev_sq = 0;
	int32_t lo, hi, i;

	if (!populated(h, &lo, &hi))
		return 0;
	mean = odpt_hist_mean(h);
	for (i = next_nonempty(h, lo, hi); i <= hi; i = next_nonempty(h, i + 1, hi)) {
		double d = (double)median_at_index(h, i) - mean;

		dev_sq += d * d * (double)h->counts[i];
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
	double x = p / 100.0 * (double)count, eps = 1e-9 * (x > 1 ? x : 1), frac;
	uint64_t whole, near;

	/* By hand rather than nearbyint() and ceil(): without SSE4.1 those are
	 * library calls that cost more than the rest of a query. */
	if (!(x < (double)count))
		return count;
	whole = (uint64_t)x;
	frac = x - (double)whole;
	/* the nearest integer, ties to even as nearbyint() */
	near = frac > 0.5 || (frac == 0.5 && (whole & 1)) ? whole + 1 : whole;
	if ((near > whole ? 1 - frac : frac) <= eps)
		whole = near;
	else if (frac > 0)
		whole++;   /* the ceiling */
	return whole < 1 ? 1 : whole;
}

/*
 * From a[i] towards a[end] (excluded) in direction d: the entry at which the
 * running sum *seen reaches need, *seen left excluding it; end if none (then
 * *seen includes all). Eight entries at a time while eight cannot reach it.
 */
static inline int32_t scan(const uint64_t *a, int32_t i, int32_t end, int d,
			   uint64_t *seen, uint64_t need)
{
	uint64_t s = *seen;

	while ((end - i) * d >= 8) {
		const uint64_t *p = d > 0 ? a + i : a + i - 7;
		uint64_t c = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));

		if (s + c >= need)
			break;
		s += c;
		i += 8 * d;
	}
	for (; i != end; i += d) {
		if (s + a[i] >= need)
			break;
		s += a[i];
	}
	*seen = s;
	return i;
}

/*
 * Where a walk stands: block k, and the samples counted before it from the
 * end it started at. The blocks of the min's and the max's counters start
 * walks up and down: the counters beyond min and max are empty, so those
 * blocks' totals count only from there.
 */
struct cursor {
	int32_t k;
	uint64_t seen;
	int32_t lo, hi;   /* the populated counters: none to read beyond */
};

/*
 * The counter at which the samples counted in direction d reach need, from
 * the cursor on: block totals, then that block's counters (hist.h). The
 * cursor moves to that block, so a later, larger need may start there. -1
 * when the totals do not reach need (not with consistent ones).
 */
static int32_t walk(const struct odpt_hist *h, struct cursor *c, int d, uint64_t need)
{
	int32_t first, last, end, k, i;
	uint64_t seen;

	end = d > 0 ? h->nblocks : -1;
	k = scan(blocks(h), c->k, end, d, &c->seen, need);
	if (k == end)
		return -1;
	c->k = k;
	seen = c->seen;
	first = k << h->block_shift;
	last = block_last(h, first);
	if (first < c->lo)
		first = c->lo;
	if (last > c->hi)
		last = c->hi;
	end = d > 0 ? last + 1 : first - 1;
	i = scan(h->counts, d > 0 ? first : last, end, d, &seen, need);
	return i == end ? -1 : i;
}

/* The value at a rank in [1, count], from the nearer end of the populated
 * range: up from the min below the middle, down from the max above it. */
static uint64_t value_at_rank(const struct odpt_hist *h, uint64_t rank, struct cursor *up,
			      struct cursor *down)
{
	int32_t i;

	if (rank <= h->total_count / 2)
		i = walk(h, up, 1, rank);
	else
		/* the rank-th sample is the (total - rank + 1)-th from the top */
		i = walk(h, down, -1, h->total_count - rank + 1);
	return i < 0 ? odpt_hist_max(h) : odpt_hist_highest_at_index(h, i);
}

static void cursors_init(const struct odpt_hist *h, struct cursor *up, struct cursor *down)
{
	int32_t lo = 0, hi = 0;

	populated(h, &lo, &hi);
	up->k = lo >> h->block_shift;
	down->k = hi >> h->block_shift;
	up->seen = down->seen = 0;
	up->lo = down->lo = lo;
	up->hi = down->hi = hi;
}

/* The rank of p, or 0 when p is answered without one (the min or the max). */
static uint64_t rank_or_end(const struct odpt_hist *h, double p, uint64_t *end_value)
{
	if (!h->total_count) {
		*end_value = 0;
		return 0;
	}
	if (!(p > 0)) {        /* p <= 0 and NaN: the minimum */
		*end_value = odpt_hist_min(h);
		return 0;
	}
	if (p >= 100) {
		*end_value = odpt_hist_max(h);
		return 0;
	}
	return rank_at_percentile(h->total_count, p);
}

uint64_t odpt_hist_value_at_percentile(const struct odpt_hist *h, double p)
{
	struct cursor up, down;
	uint64_t v, rank = rank_or_end(h, p, &v);

	if (!rank)
		return v;
	cursors_init(h, &up, &down);
	return value_at_rank(h, rank, &up, &down);
}

struct ranked {
	uint64_t rank;
	size_t pos;
};

static int ranked_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct ranked *)a)->rank, y = ((const struct ranked *)b)->rank;

	return x < y ? -1 : x > y;
}

int odpt_hist_values_at_percentiles(const struct odpt_hist *h, const double *pcts,
				    size_t n, uint64_t *out)
{
	struct ranked stack_buf[64], *r = stack_buf;
	struct cursor up, down;
	size_t i, m = 0;

	if (!h || (n && (!pcts || !out)))
		return -EINVAL;
	if (n > sizeof(stack_buf) / sizeof(stack_buf[0])) {
		r = malloc(n * sizeof(*r));
		if (!r)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t rank = rank_or_end(h, pcts[i], &out[i]);

		if (rank)
			r[m++] = (struct ranked){ .rank = rank, .pos = i };
	}
	if (m > 16) {
		qsort(r, m, sizeof(*r), ranked_cmp);
	} else {
		/* a few: insertion sort, cheaper than qsort's calls */
		for (i = 1; i < m; i++) {
			struct ranked t = r[i];
			size_t j = i;

			for (; j > 0 && r[j - 1].rank > t.rank; j--)
				r[j] = r[j - 1];
			r[j] = t;
		}
	}
	cursors_init(h, &up, &down);
	/* One climb through the ranks below the middle, one descent through
	 * those above it: each walk starts where the previous one stopped. */
	for (i = 0; i < m && r[i].rank <= h->total_count / 2; i++)
		out[r[i].pos] = value_at_rank(h, r[i].rank, &up, &down);
	for (size_t j = m; j > i; j--)
		out[r[j - 1].pos] = value_at_rank(h, r[j - 1].rank, &up, &down);
	if (r != stack_buf)
		free(r);
	return 0;
}

bool odpt_hist_next_bucket(const struct odpt_hist *h, int32_t *idx,
			   struct odpt_hist_bucket *b)
{
	int32_t lo, hi, i;

	if (populated(h, &lo, &hi) && *idx < hi) {
		i = next_nonempty(h, *idx + 1 > lo ? *idx + 1 : lo, hi);
		if (i <= hi) {
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
	return sizeof(*h) + (size_t)(h->counts_len + h->nblocks) * sizeof(h->counts[0]);
}

bool odpt_hist_consistent(const struct odpt_hist *h)
{
	const uint64_t *blk = blocks(h);
	uint64_t total = 0, bsum = 0;
	int32_t lo = 0, hi = -1, i;

	if (h->total_count && !populated(h, &lo, &hi))
		return false;
	for (i = 0; i < h->counts_len; i++) {
		if (h->counts[i] && (i < lo || i > hi))
			return false;
		total += h->counts[i];
		bsum += h->counts[i];
		if (i == block_last(h, i) || i == h->counts_len - 1) {
			if (blk[i >> h->block_shift] != bsum)
				return false;
			bsum = 0;
		}
	}
	return total == h->total_count;
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
