// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ibv_advise_mr on an ODP MR: PREFETCH, PREFETCH_WRITE and
 * PREFETCH_NO_FAULT, each with IBV_ADVISE_MR_FLAG_FLUSH (sync) and without
 * (async), on explicit and implicit MRs. Residency after the advice comes
 * from mincore(), private versus zero-page mappings from pagemap; a WRITE
 * into the range must land afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "cases.h"
#include "rig.h"

/* Async advice: how long the resident count may stand still before the
 * wait gives up, and the bound on the whole wait. */
#define PREFETCH_STALL_NS (5ull * 1000000000ull)
#define PREFETCH_MAX_NS (60ull * 1000000000ull)


/* Wait until want pages of [p, p+len) are resident, as long as the count
 * keeps moving (PREFETCH_STALL_NS without a change ends it) and at most
 * PREFETCH_MAX_NS; *waited_ns says how long it took. */
static long wait_resident(const void *p, size_t len, long want, bool async, uint64_t *waited_ns)
{
	uint64_t t0 = odpt_clock_raw_ns(), moved = t0, now = t0;
	long r = resident_pages(p, len), last = r;

	while (async && r != want && now - moved < PREFETCH_STALL_NS && now - t0 < PREFETCH_MAX_NS) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
		r = resident_pages(p, len);
		now = odpt_clock_raw_ns();
		if (r != last) {
			last = r;
			moved = now;
		}
	}
	*waited_ns = now - t0;
	return r;
}

/*
 * Async advice completes silently on a kernel workqueue whose items run in
 * no particular order, so a marker queued after it proves nothing. The
 * work item holds a reference to the MR it advises (rxe: lookup_mr() in
 * rxe_ib_prefetch_sg_list(), dropped by rxe_put() when the work item is
 * done; mlx5 waits for deferred prefetch work in dereg), and deregistration
 * waits for it (rxe_cleanup(), bounded by rxe's pool timeout, which logs
 * when it expires): deregister the advised MR (after reading its
 * counters), look at the pages, register it again.
 */
static int await_async_advice(struct odpt_tctx *t, struct rig *g)
{
	int ret;

	tc_stage(t, "deregistering the advised MR: waits for the advice's work item");
	tc_odp_snapshot(t, g->rmr);
	odpt_vmr_dereg(g->rmr);
	g->rmr = NULL;
	tc_stage(t, "registering the responder MR again");
	ret = odpt_vmr_reg(t->vr, g->rbuf, g->len, g->rflags, &g->rmr);
	if (ret)
		return tc_fail(t, "registering the responder MR again: %s", strerror(-ret));
	return 0;
}

/*
 * ibv_advise_mr, each advice sync (IBV_ADVISE_MR_FLAG_FLUSH) and async, on
 * never-touched anonymous memory (MADV_DONTNEED first, every iteration):
 * - PREFETCH faults the range in for reading: every page present (mincore)
 *   and none privately mapped (pagemap: a read fault maps the zero page);
 * - PREFETCH_WRITE faults it in for writing: every page present and private;
 * - PREFETCH_NO_FAULT maps only pages already present and must not fault in
 *   missing ones: with none present none appears; with every other page
 *   present (written by the CPU) exactly those stay.
 * Async advice: wait for the pages to appear while their count keeps moving
 * (5 s without a change, or 60 s, ends the wait); for NO_FAULT, where none
 * may appear, until deregistering the MR has waited for the advice's work
 * item (above). Then an RDMA WRITE into the range must land.
 */
int run_prefetch(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 16 * pg;
	long npg = (long)(len / pg);
	enum odpt_advice adv = (enum odpt_advice)t->c->op;
	bool sync = !(t->c->flags & CASE_ASYNC);
	bool no_fault = adv == ODPT_ADVISE_PREFETCH_NO_FAULT;
	unsigned flags = t->c->variant == V_IMPLICIT ? ODPT_MR_IMPLICIT : ODPT_MR_ODP;
	/* The advice goes to the responder's MR, on its device. */
	const struct odpt_vcaps *caps = odpt_vctx_caps(t->vr);
	uint64_t max_wait = 0;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, flags, flags);

	RUN_ITERS(t, {
		struct odpt_vsge s = { (uintptr_t)g.rbuf, (uint32_t)len, rig_rlkey(&g) };
		long want, want_priv, r, present, priv;
		uint64_t waited;

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		if (no_fault && (i & 1)) {
			/* Half the pages present: those may be mapped, the rest not. */
			for (size_t k = 0; k < len; k += 2 * pg)
				g.rbuf[k] = 1;
		}
		tc_stage(t, "ibv_advise_mr(%s, %s)", odpt_advice_name(adv), sync ? "FLUSH" : "async");
		ret = odpt_vadvise(t->vr, adv, sync, &s, 1);
		if (ret == -EOPNOTSUPP || ret == -ENOSYS) {
			ret = tc_skip(t, "ibv_advise_mr(%s) returned %s: the %s provider of libibverbs %s has no advise_mr",
				      odpt_advice_name(adv), ret == -ENOSYS ? "ENOSYS" : "EOPNOTSUPP",
				      caps->driver, ODPT_IBVERBS_VERSION);
			break;
		}
		if (ret) {
			ret = tc_fail(t, "ibv_advise_mr(%s, flags %s): %s", odpt_advice_name(adv),
				      sync ? "FLUSH" : "0", strerror(-ret));
			break;
		}
		if (no_fault && !sync) {
			ret = await_async_advice(t, &g);
			if (ret)
				break;
		}
		want = no_fault ? ((i & 1) ? npg / 2 : 0) : npg;
		want_priv = adv == ODPT_ADVISE_PREFETCH_WRITE ? npg : no_fault ? want : 0;
		r = wait_resident(g.rbuf, len, want, !sync && !no_fault, &waited);
		if (r != want) {
			ret = tc_fail(t, "%s: %ld of %ld pages resident afterwards (mincore), want %ld%s",
				      odpt_advice_name(adv), r, npg, want,
				      !sync && !no_fault ? " (waited until the count stood still for 5 s, or 60 s)" : "");
			break;
		}
		if (!sync && waited > max_wait)
			max_wait = waited;
		ret = page_states(g.rbuf, len, &present, &priv);
		if (ret) {
			ret = tc_fail(t, "reading /proc/self/pagemap: %s", strerror(-ret));
			break;
		}
		if (priv != want_priv) {
			ret = tc_fail(t, "%s: %ld of %ld present pages privately mapped afterwards (pagemap), want %ld (%s)",
				      odpt_advice_name(adv), priv, present, want_priv,
				      adv == ODPT_ADVISE_PREFETCH_WRITE ? "a write fault allocates a page" :
				      "a read fault maps the shared zero page");
			break;
		}
		ret = rig_write_check(&g, 0, len, SEED(i, 5), "WRITE after prefetch");
	});
	if (!sync && !no_fault && max_wait)
		tc_diag(t, "longest wait for async advice to make the pages resident: %.1f ms",
			(double)max_wait / 1e6);
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}
