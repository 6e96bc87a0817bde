// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt hist bench`: what odpt's histogram costs. Records of log-uniform
 * values (100 ns .. 10 ms), single and batch percentile queries on a narrow
 * (45..55 us) and that wide distribution, merges of empty, narrow and wide
 * sources, and the bytes of one histogram. With --hdr-lib, the same
 * workloads on a user-built HdrHistogram_c shared library loaded with
 * dlopen() (its public C API only, so no build dependency), in the same
 * process and alternately round by round, so that load from other
 * processes falls on both; the ratios are odpt's time over its time.
 * Every figure but the mean record cost is the best of several rounds.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_int.h"
#include "odpt/bench.h"
#include "odpt/clock.h"
#include "odpt/hist.h"
#include "odpt/log.h"

#define NVALUES 65536       /* a power of two: indexed with a mask */
#define CHUNK (1ULL << 20)  /* records per timed chunk */
#define ROUNDS 20           /* rounds per query or merge figure */
#define RECORD_TARGET_NS 3.0

/* HdrHistogram_c's public C API, as its header declares it (the histogram
 * is opaque here). */
struct hdr_api {
	void *dl;
	int (*init)(int64_t lowest, int64_t highest, int sig_figs, void **out);
	bool (*record)(void *h, int64_t v);
	int64_t (*value_at_percentile)(const void *h, double p);
	int (*values_at_percentiles)(const void *h, const double *p, int64_t *out, size_t n);
	int64_t (*add)(void *dst, const void *src);
	void (*close)(void *h);
	size_t (*memory_size)(void *h);   /* optional */
};

static const double pcts[] = { 50, 90, 99, 99.9, 99.99 };
static const char *const pct_names[] = { "50", "90", "99", "99.9", "99.99" };
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

static bool sym(void *dl, const char *name, void *fn)
{
	void *p = dlsym(dl, name);

	memcpy(fn, &p, sizeof(p));   /* object to function pointer, as POSIX allows */
	return p != NULL;
}

/* Load the library and its symbols: 0, or -ELIBBAD after one error line. */
static int hdr_open(const char *path, struct hdr_api *a)
{
	static const char *const names[] = { "hdr_init", "hdr_record_value",
		"hdr_value_at_percentile", "hdr_value_at_percentiles", "hdr_add", "hdr_close" };
	void *fns[] = { &a->init, &a->record, &a->value_at_percentile,
			&a->values_at_percentiles, &a->add, &a->close };
	size_t i;

	memset(a, 0, sizeof(*a));
	a->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!a->dl) {
		odpt_err("--hdr-lib: cannot load %s", dlerror());
		return -ELIBBAD;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!sym(a->dl, names[i], fns[i])) {
			odpt_err("--hdr-lib %s: no symbol %s (not an HdrHistogram_c library?)",
				 path, names[i]);
			dlclose(a->dl);
			a->dl = NULL;
			return -ELIBBAD;
		}
	}
	sym(a->dl, "hdr_get_memory_size", &a->memory_size);
	return 0;
}

/* The histograms one side (odpt or HdrHistogram_c) is timed on. */
struct side {
	void *wide, *narrow, *empty, *dst;
	double rec_mean_ns, rec_best_ns;
	double query_ns[2][NPCTS], batch_ns[2], merge_ns[3];
};

static int hdr_new(const struct hdr_api *a, void **out)
{
	return a->init((int64_t)ODPT_HIST_LOWEST_NS, (int64_t)ODPT_HIST_HIGHEST_NS,
		       ODPT_HIST_DEFAULT_SIG, out) ? -ENOMEM : 0;
}

/*
 * n records of vals on each side, in chunks of CHUNK taken alternately,
 * after a warm-up pass on scratch histograms (caches, branch predictors).
 */
static void time_records(struct side *o, struct side *x, const struct hdr_api *a,
			 const uint64_t *vals, uint64_t n, void *o_scratch, void *x_scratch)
{
	uint64_t i, done = 0, o_total = 0, x_total = 0;

	for (i = 0; i < NVALUES * 16; i++) {
		odpt_hist_record(o_scratch, vals[i & (NVALUES - 1)]);
		if (x)
			a->record(x_scratch, (int64_t)vals[i & (NVALUES - 1)]);
	}
	o->rec_best_ns = 1e300;
	if (x)
		x->rec_best_ns = 1e300;
	while (done < n) {
		uint64_t len = n - done < CHUNK ? n - done : CHUNK, t0, t1;

		t0 = odpt_now_ns();
		for (i = done; i < done + len; i++)
			odpt_hist_record(o->wide, vals[i & (NVALUES - 1)]);
		t1 = odpt_now_ns();
		o_total += t1 - t0;
		if ((double)(t1 - t0) / (double)len < o->rec_best_ns)
			o->rec_best_ns = (double)(t1 - t0) / (double)len;
		if (x) {
			t0 = odpt_now_ns();
			for (i = done; i < done + len; i++)
				a->record(x->wide, (int64_t)vals[i & (NVALUES - 1)]);
			t1 = odpt_now_ns();
			x_total += t1 - t0;
			if ((double)(t1 - t0) / (double)len < x->rec_best_ns)
				x->rec_best_ns = (double)(t1 - t0) / (double)len;
		}
		done += len;
	}
	o->rec_mean_ns = (double)o_total / (double)n;
	if (x)
		x->rec_mean_ns = (double)x_total / (double)n;
}

/* One round of n operations op: its ns per operation into best if lower. */
#define TIME_ROUND(best, n, op) do {						\
	uint64_t k_, t_ = odpt_now_ns();					\
										\
	for (k_ = 0; k_ < (n); k_++) {						\
		op;								\
	}									\
	t_ = odpt_now_ns() - t_;						\
	if ((double)t_ / (double)(n) < (best))					\
		(best) = (double)t_ / (double)(n);				\
} while (0)

/*
 * Best ns per operation over ROUNDS rounds of n operations: odpt's (op_o)
 * and, when x is set, HdrHistogram_c's (op_x) in turn within each round.
 */
#define TIME_PAIR(best_o, best_x, n, op_o, op_x) do {				\
	int r_;									\
										\
	(best_o) = (best_x) = 1e300;						\
	for (r_ = 0; r_ < ROUNDS; r_++) {					\
		TIME_ROUND(best_o, n, op_o);					\
		if (x)								\
			TIME_ROUND(best_x, n, op_x);				\
	}									\
} while (0)

/* Single and batch queries on the wide (d = 0) and narrow (d = 1) data. */
static int time_queries(struct side *o, struct side *x, const struct hdr_api *a,
			uint64_t queries)
{
	uint64_t n = queries / ROUNDS ? queries / ROUNDS : 1, o_out[NPCTS];
	int64_t x_out[NPCTS];
	volatile uint64_t sink = 0;
	double unused = 0;
	size_t d, p;

	for (d = 0; d < 2; d++) {
		const void *oh = d ? o->narrow : o->wide;
		const void *xh = x ? (d ? x->narrow : x->wide) : NULL;

		for (p = 0; p < NPCTS; p++)
			TIME_PAIR(o->query_ns[d][p], *(x ? &x->query_ns[d][p] : &unused), n,
				  sink += odpt_hist_value_at_percentile(oh, pcts[p]),
				  sink += (uint64_t)a->value_at_percentile(xh, pcts[p]));
		TIME_PAIR(o->batch_ns[d], *(x ? &x->batch_ns[d] : &unused), n,
			  sink += (uint64_t)odpt_hist_values_at_percentiles(oh, pcts, NPCTS, o_out) +
				  o_out[0],
			  sink += (uint64_t)a->values_at_percentiles(xh, pcts, x_out, NPCTS) +
				  (uint64_t)x_out[0]);
	}
	(void)sink;
	(void)unused;
	return 0;
}

/* Merges of an empty, a narrow and a wide source into a wide histogram:
 * many of the cheap ones per round, few of the costly. */
static void time_merges(struct side *o, struct side *x, const struct hdr_api *a,
			uint64_t queries)
{
	uint64_t many = queries / ROUNDS ? queries / ROUNDS : 1;
	uint64_t few = many / 50 ? many / 50 : 1;
	volatile int64_t sink = 0;
	double unused = 0;
	int s;

	for (s = 0; s < 3; s++) {
		const void *os = s == 0 ? o->empty : s == 1 ? o->narrow : o->wide;
		const void *xs = !x ? NULL : s == 0 ? x->empty : s == 1 ? x->narrow : x->wide;

		TIME_PAIR(o->merge_ns[s], *(x ? &x->merge_ns[s] : &unused), s ? few : many,
			  sink += odpt_hist_merge(o->dst, os, NULL),
			  sink += a->add(x->dst, xs));
	}
	(void)sink;
	(void)unused;
}

/* v rounded to a multiple of unit; unit 0: to 3 significant figures (ratios
 * span 0.0005 to 1). */
static int scalar(struct odpt_report *r, const char *name, const char *k1, const char *v1,
		  const char *k2, const char *v2, double v, double unit)
{
	struct odpt_label l[2] = { { k1, v1 }, { k2, v2 } };

	if (!unit)
		unit = v > 0 ? pow(10, floor(log10(v)) - 2) : 1;
	return odpt_report_scalar(r, name, l, k2 ? 2 : k1 ? 1 : 0, round(v / unit) * unit);
}

static const char *const dist_names[] = { "wide", "narrow" };
static const char *const source_names[] = { "empty", "narrow", "wide" };

/* One side's figures under prefix ("" for odpt, "hdr_" for HdrHistogram_c),
 * or with ratio set, odpt's over HdrHistogram_c's as "<figure>_ratio". */
static int report_side(struct odpt_report *r, const char *prefix, const struct side *s,
		       const struct side *ratio_to)
{
	char name[64];
	size_t d, p;
	int ret = 0;
#define FIG(field) (ratio_to ? s->field / ratio_to->field : s->field)
#define NAME(base) (snprintf(name, sizeof(name), "%s%s%s", prefix, base, \
			     ratio_to ? "_ratio" : "_ns"), name)
	double unit = ratio_to ? 0 : 0.1;

	if (ratio_to)
		ret = scalar(r, "record_ratio", NULL, NULL, NULL, NULL, FIG(rec_best_ns), 0);
	else if (*prefix)
		ret = scalar(r, "hdr_record_ns", NULL, NULL, NULL, NULL, s->rec_mean_ns, 0.001) ||
		      scalar(r, "hdr_record_best_ns", NULL, NULL, NULL, NULL, s->rec_best_ns, 0.001);
	for (d = 0; d < 2 && !ret; d++) {
		for (p = 0; p < NPCTS && !ret; p++)
			ret = scalar(r, NAME("query"), "dist", dist_names[d], "p", pct_names[p],
				     FIG(query_ns[d][p]), unit);
		if (!ret)
			ret = scalar(r, NAME("batch_query"), "dist", dist_names[d], NULL, NULL,
				     FIG(batch_ns[d]), unit);
	}
	for (d = 0; d < 3 && !ret; d++)
		ret = scalar(r, NAME("merge"), "source", source_names[d], NULL, NULL,
			     FIG(merge_ns[d]), unit);
#undef FIG
#undef NAME
	return ret ? -ENOMEM : 0;
}

static void side_free(struct side *s, const struct hdr_api *a)
{
	void *hs[] = { s->wide, s->narrow, s->empty, s->dst };
	size_t i;

	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		if (a)
			a->close(hs[i]);
		else
			odpt_hist_destroy(hs[i]);
	}
}

/* The narrow, empty and destination histograms of each side, filled alike. */
static int fill_sides(struct side *o, struct side *x, const struct hdr_api *a,
		      const uint64_t *wide_vals, const uint64_t *narrow_vals)
{
	struct odpt_hist *on = NULL, *oe = NULL, *od = NULL;
	int i;

	if (odpt_hist_create_default(&on) || odpt_hist_create_default(&oe) ||
	    odpt_hist_create_default(&od))
		goto nomem;
	o->narrow = on;
	o->empty = oe;
	o->dst = od;
	if (x && (hdr_new(a, &x->narrow) || hdr_new(a, &x->empty) || hdr_new(a, &x->dst)))
		goto nomem;
	for (i = 0; i < NVALUES; i++) {
		odpt_hist_record(on, narrow_vals[i]);
		odpt_hist_record(od, wide_vals[i]);
		if (x) {
			a->record(x->narrow, (int64_t)narrow_vals[i]);
			a->record(x->dst, (int64_t)wide_vals[i]);
		}
	}
	return 0;
nomem:
	odpt_hist_destroy(on);
	odpt_hist_destroy(oe);
	odpt_hist_destroy(od);
	o->narrow = o->empty = o->dst = NULL;
	return -ENOMEM;
}

/* Both libraries must see the same data: their medians agree within the
 * error bound (their rank rounding differs by at most one sample). */
static void check_agreement(const struct side *o, const struct side *x, const struct hdr_api *a)
{
	double ov = (double)odpt_hist_value_at_percentile(o->wide, 50);
	double xv = (double)a->value_at_percentile(x->wide, 50);

	if (fabs(ov - xv) > ov / 100)
		odpt_warn("HdrHistogram_c's median %.0f ns differs from odpt's %.0f ns: "
			  "is --hdr-lib a compatible build?", xv, ov);
}

int odpt_bench_hist(const struct odpt_bench_hist_cfg *cfg, struct odpt_report *r)
{
	struct side o = { 0 }, xs = { 0 }, *x = NULL;
	struct hdr_api api = { 0 };
	struct odpt_hist *h = NULL, *scratch = NULL;
	uint64_t *vals = NULL, *narrow = NULL;
	void *x_scratch = NULL;
	double query_sum = 0;
	size_t p;
	int ret;

	if (cfg->hdr_lib) {
		ret = hdr_open(cfg->hdr_lib, &api);
		if (ret)
			return ret;
		x = &xs;
	}
	ret = odpt_hist_create(ODPT_HIST_LOWEST_NS, ODPT_HIST_HIGHEST_NS, (int)cfg->sig_figs, &h);
	if (ret) {
		odpt_err("histogram of %d significant figures: %s", (int)cfg->sig_figs,
			 strerror(-ret));
		goto out;
	}
	o.wide = h;
	vals = bench_log_values(100.0, 1e7, NVALUES);
	narrow = bench_log_values(45000.0, 55000.0, NVALUES);
	ret = -ENOMEM;
	if (!vals || !narrow || odpt_hist_create_default(&scratch) ||
	    (x && (hdr_new(&api, &x->wide) || hdr_new(&api, &x_scratch))) ||
	    fill_sides(&o, x, &api, vals, narrow)) {
		odpt_err("out of memory");
		goto out;
	}

	time_records(&o, x, &api, vals, cfg->count, scratch, x_scratch);
	time_queries(&o, x, &api, cfg->queries);
	time_merges(&o, x, &api, cfg->queries);
	for (p = 0; p < NPCTS; p++)
		query_sum += o.query_ns[0][p];
	ret = odpt_report_scalar(r, "records", NULL, 0, (double)odpt_hist_count(h)) ? -ENOMEM : 0;
	if (!ret)
		ret = bench_hist_costs(r, h, o.rec_mean_ns, o.rec_best_ns, query_sum / NPCTS);
	if (!ret)
		ret = report_side(r, "", &o, NULL);
	if (!ret && x) {
		check_agreement(&o, x, &api);
		ret = odpt_report_meta(r, "hdr_lib", cfg->hdr_lib) ? -ENOMEM : 0;
		if (!ret)
			ret = report_side(r, "hdr_", x, NULL);
		if (!ret && api.memory_size)
			ret = scalar(r, "hdr_hist_bytes", NULL, NULL, NULL, NULL,
				     (double)api.memory_size(x->wide), 1);
		if (!ret)
			ret = report_side(r, "", &o, x);
	}
	if (!ret)
		ret = odpt_report_hist(r, "bench_values_ns", NULL, 0, h);
	if (ret)
		goto out;
	if (o.rec_best_ns > RECORD_TARGET_NS)
		odpt_warn("%.3f ns per record (best chunk) is above the %.0f ns target",
			  o.rec_best_ns, RECORD_TARGET_NS);
	else if (o.rec_mean_ns > RECORD_TARGET_NS)
		odpt_warn("mean %.3f ns per record (best chunk %.3f ns): other load on this machine?",
			  o.rec_mean_ns, o.rec_best_ns);
out:
	free(vals);
	free(narrow);
	odpt_hist_destroy(scratch);
	side_free(&o, NULL);
	if (x) {
		side_free(x, &api);
		if (x_scratch)
			api.close(x_scratch);
	}
	if (api.dl)
		dlclose(api.dl);
	return ret;
}
