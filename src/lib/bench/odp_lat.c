// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench fault` and `odpt bench warm`: the latency of one operation,
 * from just before its post to just after its completion is polled, with
 * the target pages of one side dropped (MADV_DONTNEED) before every
 * iteration (fault), or resident (warm); warm also times fault and
 * reports fault - warm per op, size and side (docs/metrics.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odp_int.h"

/*
 * Time warmup + iters operations into h (warm-up not recorded), dropping
 * drop_side's target pages before each when it is not 0. 0, 1 with why
 * (error completion, stall), or -errno.
 */
static int lat_series(struct ob_rig *g, enum odpt_vop op, size_t size, unsigned drop_side,
		      struct odpt_hist *h, char *why, size_t whylen)
{
	const struct odpt_ob_cfg *c = g->c;
	struct odpt_vwr wr = ob_wr(g, op, size);
	void *target = drop_side == ODPT_OB_SIDE_LOCAL ? (void *)g->lbuf : (void *)g->rbuf;
	uint64_t total = c->warmup + c->iters;
	char label[64];
	int ret;

	snprintf(label, sizeof(label), "%s %zu B %s", odpt_ob_op_name(op), size,
		 drop_side ? odpt_ob_side_name(drop_side) : "warm");
	ob_stage(g, "%s: %s", odpt_ob_scenario_name(c->scenario), label);
	g->series_k++;
	for (uint64_t i = 0; i < total; i++) {
		uint64_t ns = 0;

		if (drop_side && (ret = ob_drop(g, target, size)))
			return ret;
		ret = ob_timed_op(g, &wr, &ns, why, whylen);
		if (ret)
			return ret;
		if (i >= c->warmup)
			odpt_hist_record(h, ns);
		ob_progress(g, label, i + 1, total);
	}
	return 0;
}

/* One series measured and reported, with its test; h is reset first. */
static int lat_report(struct ob_rig *g, const char *kind, enum odpt_vop op, size_t size,
		      unsigned side, struct odpt_hist *h)
{
	char name[96], series[32], why[192];
	struct odpt_ob_key k;
	uint64_t t0 = odpt_clock_raw_ns();
	int ret;

	odpt_hist_reset(h);
	odpt_ob_key_init(&k, op, size, side);
	snprintf(name, sizeof(name), "%s_%s_%zu%s%s", kind, k.op, size, side ? "_" : "",
		 side ? odpt_ob_side_name(side) : "");
	snprintf(series, sizeof(series), "%s_lat_ns", kind);
	ret = lat_series(g, op, size, side, h, why, sizeof(why));
	if (ret < 0) {
		odpt_err("bench: %s: %s", name, strerror(-ret));
		return ret;
	}
	if (ret)
		return ob_test(g, name, ODPT_FAIL, why, odpt_hist_count(h),
			       odpt_clock_raw_ns() - t0) ? -ENOMEM : 1;
	if (ob_series(g, series, k.l, k.nl, h) ||
	    ob_test(g, name, ODPT_PASS, NULL, odpt_hist_count(h), odpt_clock_raw_ns() - t0))
		return -ENOMEM;
	return 0;
}

static int plan(const struct ob_rig *g, bool warm)
{
	const struct odpt_ob_cfg *c = g->c;
	int n = 0, nsides = __builtin_popcount(c->sides);

	for (int i = 0; i < c->nops; i++)
		for (int s = 0; s < c->nsizes; s++)
			if (odpt_ob_op_size_ok(c->ops[i], c->sizes[s]))
				n += nsides + warm;
	return n;
}

static int skip_op(struct ob_rig *g, enum odpt_vop op, const char *why)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", odpt_ob_scenario_name(g->c->scenario),
		 odpt_ob_op_name(op));
	odpt_warn("bench: %s: SKIP: %s", name, why);
	return ob_test(g, name, ODPT_SKIP, why, 0, 0);
}

int ob_run_lat(struct ob_rig *g)
{
	const struct odpt_ob_cfg *c = g->c;
	bool warm = c->scenario == ODPT_OB_WARM;
	struct odpt_hist *hw = ob_hist_new(), *hf = ob_hist_new();
	int ret = hw && hf ? 0 : -ENOMEM;

	g->nseries = plan(g, warm);
	for (int i = 0; !ret && i < c->nops; i++) {
		enum odpt_vop op = c->ops[i];
		char why[192];

		if (ob_op_missing(g, op, why, sizeof(why))) {
			ret = skip_op(g, op, why);
			continue;
		}
		for (int s = 0; !ret && s < c->nsizes; s++) {
			size_t size = c->sizes[s];
			bool warm_ok = false;

			if (!odpt_ob_op_size_ok(op, size))
				continue;
			if (warm) {
				ret = lat_report(g, "warm", op, size, 0, hw);
				warm_ok = !ret;
				if (ret > 0)
					ret = 0;
			}
			for (unsigned side = ODPT_OB_SIDE_LOCAL; !ret && side <= ODPT_OB_SIDE_REMOTE;
			     side <<= 1) {
				if (!(c->sides & side))
					continue;
				if (!ob_op_uses_side(op, side)) {
					char name[96];

					g->series_k++;
					snprintf(name, sizeof(name), "fault_%s_%zu_local",
						 odpt_ob_op_name(op), size);
					ret = ob_test(g, name, ODPT_SKIP,
						      "the op has no local buffer (its payload is in the WR)",
						      0, 0);
					continue;
				}
				ret = lat_report(g, "fault", op, size, side, hf);
				if (!ret && warm_ok)
					ret = odpt_ob_report_diff(g->r, op, size, side, hf, hw);
				if (ret > 0)
					ret = 0;
			}
		}
	}
	odpt_hist_destroy(hw);
	odpt_hist_destroy(hf);
	return ret;
}
