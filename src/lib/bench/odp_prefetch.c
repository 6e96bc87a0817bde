// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench prefetch`: ibv_advise_mr(PREFETCH_WRITE) over the dropped
 * target pages of one side, synchronous (IBV_ADVISE_MR_FLAG_FLUSH: returns
 * when the pages are mapped) or not, timed from the call to its return;
 * then the op on those pages, timed as in `fault`. A provider without
 * advise_mr makes the whole scenario one SKIP with its error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odp_int.h"

static int prefetch_series(struct ob_rig *g, enum odpt_vop op, size_t size, unsigned side,
			   bool sync, struct odpt_hist *hadv, struct odpt_hist *hop,
			   char *why, size_t whylen)
{
	const struct odpt_ob_cfg *c = g->c;
	bool local = side == ODPT_OB_SIDE_LOCAL;
	struct odpt_vsge sge = {
		.addr = (uintptr_t)(local ? g->lbuf : g->rbuf),
		.len_bytes = (uint32_t)size,
		.lkey = local ? g->lmr->lkey : g->rmr->lkey,
	};
	struct odpt_vwr wr = ob_wr(g, op, size);
	uint64_t total = c->warmup + c->iters;
	char label[80];
	int ret = 0;

	snprintf(label, sizeof(label), "%s %s %zu B %s", sync ? "sync" : "async",
		 odpt_ob_op_name(op), size, local ? "local" : "remote");
	ob_stage(g, "prefetch: %s", label);
	g->series_k++;
	for (uint64_t i = 0; !ret && i < total; i++) {
		uint64_t t0, t1, ns = 0;

		ret = ob_drop(g, (void *)(uintptr_t)sge.addr, size);
		if (ret)
			break;
		t0 = odpt_now_ns();
		ret = odpt_vadvise(g->v, ODPT_ADVISE_PREFETCH_WRITE, sync, &sge, 1);
		t1 = odpt_now_ns();
		if (ret) {
			snprintf(why, whylen, "ibv_advise_mr(PREFETCH_WRITE%s): %s",
				 sync ? ", FLUSH" : "", strerror(-ret));
			return ret == -EOPNOTSUPP ? 2 : 1;
		}
		ret = ob_timed_op(g, &wr, &ns, why, whylen);
		if (!ret && i >= c->warmup) {
			odpt_hist_record(hadv, t1 - t0);
			odpt_hist_record(hop, ns);
		}
		ob_progress(g, label, i + 1, total);
	}
	return ret;
}

int ob_run_prefetch(struct ob_rig *g)
{
	const struct odpt_ob_cfg *c = g->c;
	struct odpt_hist *hadv = ob_hist_new(), *hop = ob_hist_new();
	int ret = hadv && hop ? 0 : -ENOMEM;

	g->nseries = c->nops * c->nsizes * __builtin_popcount(c->sides) * 2;
	for (int i = 0; !ret && i < c->nops; i++) {
		enum odpt_vop op = c->ops[i];

		for (int s = 0; !ret && s < c->nsizes; s++)
			for (unsigned side = ODPT_OB_SIDE_LOCAL; !ret && side <= ODPT_OB_SIDE_REMOTE;
			     side <<= 1)
				for (int sync = 1; !ret && (c->sides & side) && sync >= 0; sync--) {
					const char *sn = side == ODPT_OB_SIDE_LOCAL ? "local" : "remote";
					char name[96], sz[24], why[192];
					struct odpt_label l[4] = {
						{ "mode", sync ? "sync" : "async" },
						{ "op", odpt_ob_op_name(op) }, { "size_bytes", sz },
						{ "side", sn },
					};
					uint64_t t0 = odpt_clock_raw_ns();

					snprintf(sz, sizeof(sz), "%zu", c->sizes[s]);
					snprintf(name, sizeof(name), "prefetch_%s_%s_%zu_%s",
						 l[0].value, l[1].value, c->sizes[s], sn);
					odpt_hist_reset(hadv);
					odpt_hist_reset(hop);
					if (ob_op_missing(g, op, why, sizeof(why))) {
						ret = ob_test(g, name, ODPT_SKIP, why, 0, 0);
						continue;
					}
					ret = prefetch_series(g, op, c->sizes[s], side, sync, hadv, hop,
							      why, sizeof(why));
					if (ret == 2) {
						/* The provider has no advise_mr: nothing here can run. */
						odpt_warn("bench: prefetch: SKIP: %s", why);
						ret = odpt_report_skip_all(g->r, why) ? -ENOMEM : -EOPNOTSUPP;
						goto out;
					}
					if (ret < 0) {
						odpt_err("bench: %s: %s", name, strerror(-ret));
						break;
					}
					if (ret) {
						ret = ob_test(g, name, ODPT_FAIL, why, odpt_hist_count(hop),
							      odpt_clock_raw_ns() - t0) ? -ENOMEM : 0;
						continue;
					}
					if (ob_series(g, "advise_ns", l, 4, hadv) ||
					    ob_series(g, "op_after_advise_lat_ns", l, 4, hop) ||
					    ob_test(g, name, ODPT_PASS, NULL, odpt_hist_count(hop),
						    odpt_clock_raw_ns() - t0))
						ret = -ENOMEM;
				}
	}
out:
	odpt_hist_destroy(hadv);
	odpt_hist_destroy(hop);
	return ret;
}
