// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench`: the rig every scenario stands on (see odp_int.h), the
 * timer and recording-cost figures, series and tests, progress, and
 * odpt_ob_run() which picks the scenario.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "bench_int.h"
#include "odp_int.h"

struct odpt_hist *ob_hist_new(void)
{
	struct odpt_hist *h = NULL;

	return odpt_hist_create_default(&h) ? NULL : h;
}

/*
 * The cost of one odpt_hist_record(), as the loops pay it: a million
 * records of values spread over 1 us..1 ms (many counters, as a latency
 * distribution has), timed as a whole.
 */
static double measure_record_ns(void)
{
	struct odpt_hist *h = ob_hist_new();
	uint64_t x = 88172645463325252ULL, t0, t1;
	const int n = 1000000;

	if (!h)
		return 0;
	t0 = odpt_now_ns();
	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		odpt_hist_record(h, 1000 + x % 1000000);
	}
	t1 = odpt_now_ns();
	odpt_hist_destroy(h);
	return (double)(t1 - t0) / n;
}

/* The median of back-to-back odpt_now_ns() pairs: what a timed interval
 * carries on top of the event it times. */
static uint64_t measure_timer_ns(void)
{
	struct odpt_hist *h = ob_hist_new();
	uint64_t p50;

	if (!h)
		return 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t a = odpt_now_ns(), b = odpt_now_ns();

		odpt_hist_record(h, b > a ? b - a : 1);
	}
	p50 = odpt_hist_value_at_percentile(h, 50);
	odpt_hist_destroy(h);
	return p50;
}

static void *map_side(size_t len)
{
	void *p = bench_map_buf(len, 4096);

	if (!p)
		return NULL;
	/* 4 KiB pages only: a drop of one page must not split a huge one,
	 * and NUMA balancing's scans must not invalidate behind our back. */
	madvise(p, len, MADV_NOHUGEPAGE);
	bench_exclude_numa_balancing(p, len);
	memset(p, 0x5a, len);
	return p;
}

static int add_device_meta(struct ob_rig *g)
{
	char buf[96];
	int ret = 0;

	snprintf(buf, sizeof(buf), "loopback on %s", odpt_vctx_name(g->v));
	ret |= odpt_report_meta(g->r, "scenario", odpt_ob_scenario_name(g->c->scenario));
	ret |= odpt_report_meta(g->r, "topology", buf);
	ret |= odpt_report_meta(g->r, "device", odpt_vctx_name(g->v));
	ret |= odpt_report_meta(g->r, "driver", g->caps->driver);
	ret |= odpt_report_meta_int(g->r, "port", odpt_vctx_port(g->v));
	ret |= odpt_report_meta_int(g->r, "gid_index", odpt_vctx_gid_index(g->v));
	ret |= odpt_report_meta(g->r, "libibverbs_build", odpt_verbs_lib_version());
	ret |= odpt_report_meta(g->r, "poll", g->c->busy_poll ? "busy" : "event");
	return ret ? -ENOMEM : 0;
}

static bool want_flush(const struct odpt_ob_cfg *c)
{
	for (int i = 0; i < c->nops; i++)
		if (c->ops[i] == ODPT_OP_FLUSH)
			return true;
	return false;
}

int ob_rig_open(struct ob_rig *g, const struct odpt_ob_cfg *c, struct odpt_report *r,
		size_t len)
{
	uint64_t timer_ns;
	int ret;

	memset(g, 0, sizeof(*g));
	g->c = c;
	g->r = r;
	g->pg = (size_t)sysconf(_SC_PAGESIZE);
	g->t0_ns = odpt_clock_raw_ns();
	ob_stage(g, "opening %s", c->dev ? c->dev : "the first RDMA device");
	ret = odpt_vctx_open(c->dev, c->port, c->gid, &g->v);
	if (ret) {
		odpt_err("bench: opening RDMA device %s: %s", c->dev ? c->dev : "(first)",
			 strerror(-ret));
		return ret;
	}
	g->caps = odpt_vctx_caps(g->v);
	ret = add_device_meta(g);
	if (ret)
		return ret;
	if (!g->caps->odp) {
		char why[160];

		snprintf(why, sizeof(why), "%s (%s) has no ODP (IBV_ODP_SUPPORT not in general_caps)",
			 odpt_vctx_name(g->v), g->caps->driver);
		return odpt_report_skip_all(r, why) ? -ENOMEM : -EOPNOTSUPP;
	}
	g->record_ns = measure_record_ns();
	timer_ns = measure_timer_ns();
	if (odpt_report_scalar(r, "timer_overhead_ns", NULL, 0, (double)timer_ns) ||
	    odpt_report_scalar(r, "record_cost_ns", NULL, 0, g->record_ns))
		return -ENOMEM;
	if (!len)
		return 0;
	ob_stage(g, "QP pair and %zu-byte buffers", len);
	ret = odpt_vpair_create(g->v, ODPT_QP_RC, &g->p);
	if (ret) {
		odpt_err("bench: RC QP pair on %s: %s", odpt_vctx_name(g->v), strerror(-ret));
		return ret;
	}
	len = (len + g->pg - 1) / g->pg * g->pg;
	g->len = len;
	g->lbuf = map_side(len);
	g->rbuf = map_side(len);
	if (!g->lbuf || !g->rbuf) {
		odpt_err("bench: %zu-byte buffers: %s", len, strerror(errno));
		return -ENOMEM;
	}
	ret = odpt_vmr_reg(g->v, g->lbuf, len, ODPT_MR_ODP, &g->lmr);
	if (!ret && want_flush(c)) {
		/* FLUSH needs the access flag; without it FLUSH skips, the rest runs. */
		g->rmr_flush = !odpt_vmr_reg(g->v, g->rbuf, len, ODPT_MR_ODP | ODPT_MR_FLUSH,
					     &g->rmr);
	}
	if (!ret && !g->rmr)
		ret = odpt_vmr_reg(g->v, g->rbuf, len, ODPT_MR_ODP, &g->rmr);
	if (ret)
		odpt_err("bench: registering %zu-byte explicit ODP MRs on %s: %s", len,
			 odpt_vctx_name(g->v), strerror(-ret));
	return ret;
}

void ob_rig_close(struct ob_rig *g)
{
	odpt_vmr_dereg(g->lmr);
	odpt_vmr_dereg(g->rmr);
	odpt_vpair_destroy(g->p);
	if (g->lbuf)
		munmap(g->lbuf, g->len);
	if (g->rbuf)
		munmap(g->rbuf, g->len);
	odpt_vctx_close(g->v);
	memset(g, 0, sizeof(*g));
}

int ob_rig_finish(struct ob_rig *g)
{
	return odpt_report_scalar(g->r, "record_cost_ratio_worst", NULL, 0, g->worst_ratio) ||
	       odpt_report_meta_volatile_fixed(g->r, "record_cost_pct_of_p50_worst",
					       100.0 * g->worst_ratio, 4) ? -ENOMEM : 0;
}

static uint32_t op_bits(enum odpt_vop op)
{
	switch (op) {
	case ODPT_OP_SEND: return ODPT_ODP_SEND | ODPT_ODP_RECV;
	case ODPT_OP_WRITE: return ODPT_ODP_WRITE;
	case ODPT_OP_READ: return ODPT_ODP_READ;
	case ODPT_OP_CAS:
	case ODPT_OP_FAA: return ODPT_ODP_ATOMIC;
	case ODPT_OP_ATOMIC_WRITE: return ODPT_ODP_ATOMIC_WRITE;
	case ODPT_OP_FLUSH: return ODPT_ODP_FLUSH;
	}
	return 0;
}

const char *ob_op_missing(const struct ob_rig *g, enum odpt_vop op, char *buf, size_t len)
{
	const struct odpt_vcaps *c = g->caps;
	uint32_t need = op_bits(op), have = c->odp_tr[ODPT_TR_RC];
	char miss[96];

	if (!odpt_vop_in_library(op)) {
		snprintf(buf, len, "libibverbs %s (build time) cannot post %s",
			 odpt_verbs_lib_version(), odpt_ob_op_name(op));
		return buf;
	}
	if ((op == ODPT_OP_CAS || op == ODPT_OP_FAA) && c->atomic_cap == 0) {
		snprintf(buf, len, "%s: atomic_cap is ATOMIC_NONE", c->driver);
		return buf;
	}
	if ((have & need) != need) {
		snprintf(buf, len, "%s: rc_odp_caps lacks %s", c->driver,
			 odpt_odp_bits_str(need & ~have, miss, sizeof(miss)));
		return buf;
	}
	if ((op == ODPT_OP_FLUSH || op == ODPT_OP_ATOMIC_WRITE) && g->p &&
	    odpt_vpair_ex_fallback(g->p)) {
		snprintf(buf, len, "%s refused an RC QP with extended send ops: %s", c->driver,
			 strerror(-odpt_vpair_ex_fallback(g->p)));
		return buf;
	}
	if (op == ODPT_OP_FLUSH && !g->rmr_flush) {
		snprintf(buf, len, "%s: an ODP MR with IBV_ACCESS_FLUSH_GLOBAL was refused",
			 c->driver);
		return buf;
	}
	return NULL;
}

bool ob_op_uses_side(enum odpt_vop op, unsigned side)
{
	return side != ODPT_OB_SIDE_LOCAL || (op != ODPT_OP_ATOMIC_WRITE && op != ODPT_OP_FLUSH);
}

struct odpt_vwr ob_wr(const struct ob_rig *g, enum odpt_vop op, size_t size)
{
	struct odpt_vwr w = {
		.op = op,
		.wr_id = 1,
		.nsge = 1,
		.sge[0] = { .addr = (uintptr_t)g->lbuf, .len_bytes = (uint32_t)size,
			    .lkey = g->lmr->lkey },
		.remote_addr = (uintptr_t)g->rbuf,
		.rkey = g->rmr->rkey,
		.compare_add = 1,
		.swap = 2,
		.flush_len_bytes = size,
	};

	if (op == ODPT_OP_ATOMIC_WRITE || op == ODPT_OP_FLUSH)
		w.nsge = 0;
	return w;
}

int ob_timed_op(struct ob_rig *g, const struct odpt_vwr *wr, uint64_t *ns,
		char *why, size_t whylen)
{
	struct odpt_vwc wc;
	uint64_t t0, t1;
	int ret;

	if (wr->op == ODPT_OP_SEND) {
		struct odpt_vsge s = { .addr = (uintptr_t)g->rbuf,
				       .len_bytes = wr->sge[0].len_bytes, .lkey = g->rmr->lkey };

		ret = odpt_vpair_post_recv(g->p, 1, 2, &s, 1);
		if (ret)
			return ret;
	}
	t0 = odpt_now_ns();
	ret = odpt_vpair_post(g->p, 0, wr);
	if (ret)
		return ret;
	ret = (g->c->busy_poll ? odpt_vpair_poll_busy : odpt_vpair_poll)(g->p, 0, ODPT_CQ_SEND,
									 g->c->stall_ns, &wc);
	t1 = odpt_now_ns();
	if (ret == -ETIMEDOUT) {
		snprintf(why, whylen, "%s: no completion within %" PRIu64 " s",
			 odpt_ob_op_name(wr->op), g->c->stall_ns / 1000000000);
		return 1;
	}
	if (ret)
		return ret;
	if (wc.status != ODPT_WC_SUCCESS) {
		snprintf(why, whylen, "%s: completion error: %s", odpt_ob_op_name(wr->op),
			 wc.status_str);
		odpt_vpair_reset(g->p);
		return 1;
	}
	*ns = t1 - t0;
	if (wr->op == ODPT_OP_SEND) {
		ret = odpt_vpair_poll(g->p, 1, ODPT_CQ_RECV, g->c->stall_ns, &wc);
		if (ret || wc.status != ODPT_WC_SUCCESS) {
			snprintf(why, whylen, "SEND: receive %s",
				 ret ? strerror(-ret) : wc.status_str);
			odpt_vpair_reset(g->p);
			return 1;
		}
	}
	return 0;
}

int ob_drop(struct ob_rig *g, void *buf, size_t size)
{
	size_t len = (size + g->pg - 1) / g->pg * g->pg;

	return madvise(buf, len, MADV_DONTNEED) ? -errno : 0;
}

int ob_series(struct ob_rig *g, const char *name, const struct odpt_label *l, int nl,
	      const struct odpt_hist *h)
{
	uint64_t p50 = odpt_hist_value_at_percentile(h, 50);
	double ratio = p50 ? g->record_ns / (double)p50 : 0;
	char sname[96];

	if (ratio > g->worst_ratio)
		g->worst_ratio = ratio;
	snprintf(sname, sizeof(sname), "%s_record_cost_ratio", name);
	if (odpt_report_hist(g->r, name, l, nl, h) ||
	    (p50 && odpt_report_scalar(g->r, sname, l, nl, ratio)))
		return -ENOMEM;
	return 0;
}

int ob_test(struct ob_rig *g, const char *name, enum odpt_test_result res,
	    const char *why, uint64_t iters, uint64_t dur_ns)
{
	struct odpt_test_record t = {
		.name = name, .result = res, .reason = why, .iterations = iters,
		.duration_ns = dur_ns,
	};

	return odpt_report_test(g->r, &t);
}

void ob_stage(struct ob_rig *g, const char *fmt, ...)
{
	va_list ap;

	if (!g->c->page)
		return;
	va_start(ap, fmt);
	odpt_fr_vstage(g->c->page, fmt, ap);
	va_end(ap);
}

void ob_progress(struct ob_rig *g, const char *series, uint64_t done, uint64_t total)
{
	struct odpt_ob_progress p;
	uint64_t now;
	double frac;

	if (!g->c->progress)
		return;
	now = odpt_clock_raw_ns();
	if (done && done < total && now - g->last_progress_ns < 200000000)
		return;
	g->last_progress_ns = now;
	p.scenario = odpt_ob_scenario_name(g->c->scenario);
	p.series = series;
	p.done = done;
	p.total = total;
	p.series_k = g->series_k;
	p.nseries = g->nseries;
	p.elapsed_ns = now - g->t0_ns;
	/* Series so far plus this one's share: the rest at the same pace. */
	frac = g->nseries ? ((g->series_k - 1) + (total ? (double)done / total : 0)) /
			    g->nseries : 0;
	p.eta_ns = frac > 0 ? (uint64_t)((double)p.elapsed_ns * (1 - frac) / frac) : 0;
	g->c->progress(g->c->progress_arg, &p);
}

int odpt_ob_run(const struct odpt_ob_cfg *c, struct odpt_report *r)
{
	struct ob_rig g;
	size_t len = 0;
	int ret;

	for (int i = 0; i < c->nsizes; i++)
		if (c->sizes[i] > len)
			len = c->sizes[i];
	if (c->scenario == ODPT_OB_REG)
		len = 0;   /* reg maps its own */
	if (c->scenario == ODPT_OB_STORM)
		len *= c->threads;
	ret = ob_rig_open(&g, c, r, len);
	if (ret)
		goto out;
	switch (c->scenario) {
	case ODPT_OB_FAULT:
	case ODPT_OB_WARM:
		ret = ob_run_lat(&g);
		break;
	case ODPT_OB_REG:
		ret = ob_run_reg(&g);
		break;
	case ODPT_OB_REFAULT:
		ret = ob_run_refault(&g);
		break;
	case ODPT_OB_PREFETCH:
		ret = ob_run_prefetch(&g);
		break;
	case ODPT_OB_STORM:
		ret = ob_run_storm(&g);
		break;
	default:
		ret = -EINVAL;
	}
	if (!ret)
		ret = ob_rig_finish(&g);
out:
	ob_rig_close(&g);
	return ret;
}
