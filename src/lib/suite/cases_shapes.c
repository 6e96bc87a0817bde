// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Suite cases about the shape of a transfer or an MR: unaligned offsets
 * and lengths crossing pages (ODP, and pinned controls), zero-length
 * WRITE/READ/SEND into absent pages, a sparse ODP MR larger than RAM (and
 * the rxe int-length bug's fingerprint), and many ODP MRs over one buffer.
 * Each asserts the exact outcome: the data, or the residency that
 * mincore() reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bugmodel.h"
#include "cases.h"
#include "rig.h"

/* Unaligned offsets and lengths crossing page boundaries, on both the
 * requester's and the responder's side. */
int run_unaligned(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	const struct { size_t loff, roff, len; } v[] = {
		{ pg - 100, pg - 100, 300 },
		{ pg - 1, 13, 2 },
		{ 17, pg - 33, pg + 100 },
		{ 2 * pg - 7, pg + 5, pg + 14 },
		{ 3, 2 * pg - 1, 1 },   /* control: no crossing */
	};
	unsigned flags = variant_mr_flags(t->c->variant);
	struct rig g;
	int ret;

	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 4 * pg, flags, flags);
	for (uint64_t i = 0; i < t->cfg->iters && !ret; i++) {
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]) && !ret; k++) {
			ret = op_iter(&g, t->c->op, i, v[k].loff, v[k].roff, v[k].len, false, false);
			if (ret)
				tc_diag(t, "failing transfer: %s of %zu bytes, requester offset %zu, responder offset %zu",
					odpt_vop_name(t->c->op), v[k].len, v[k].loff, v[k].roff);
		}
		if (!ret)
			tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/*
 * Zero-length WRITE/READ/SEND whose addresses point into absent ODP pages:
 * success, no page faulted in on either side (mincore, checked before any
 * CPU access), and no byte changed. Odd iterations use CPU-filled sentinel
 * pages instead and check that they are unchanged.
 */
int run_zero_len(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	enum odpt_vop op = t->c->op;
	struct rig g;
	int ret;

	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 2 * pg, ODPT_MR_ODP, ODPT_MR_ODP);
	for (uint64_t i = 0; i < t->cfg->iters && !ret; i++) {
		bool sentinel = i & 1;
		long r, l;

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		if (sentinel) {
			memset(g.lbuf, SENTINEL, 2 * pg);
			memset(g.rbuf, SENTINEL, 2 * pg);
		}
		ret = rig_xfer(&g, op, pg, pg, 0, false);
		if (ret)
			break;
		tc_stage(t, "counting resident pages after a zero-length %s", odpt_vop_name(op));
		r = resident_pages(g.rbuf, 2 * pg);
		l = resident_pages(g.lbuf, 2 * pg);
		if (!sentinel && (r != 0 || l != 0)) {
			ret = tc_fail(t, "a zero-length %s faulted in pages: responder %ld, requester %ld resident",
				      odpt_vop_name(op), r, l);
			break;
		}
		if (!check_byte(t, "responder after a zero-length op", g.rbuf, 2 * pg, sentinel ? SENTINEL : 0) ||
		    !check_byte(t, "requester after a zero-length op", g.lbuf, 2 * pg, sentinel ? SENTINEL : 0)) {
			ret = ODPT_FAIL;
			break;
		}
		tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/*
 * The int-length bug's fingerprint: after the main registration failed
 * with EINVAL, MRs of 2^31 - 4 KiB and 2^32 + 4 KiB bytes (the int wraps
 * to 4 KiB) must register and one of 2^31 must fail with EINVAL, exactly
 * as bm_rxe_int_len_einval() predicts. m maps at least 2^32 + 4 KiB.
 */
static bool int_len_fingerprint(struct odpt_tctx *t, uint8_t *m, size_t pg)
{
	const uint64_t probe[] = { (1ull << 31) - pg, 1ull << 31, (1ull << 32) - pg,
				   (1ull << 32) + pg };
	bool all = true;

	for (int k = 0; k < 4; k++) {
		struct odpt_vmr *mr = NULL;
		int r;

		tc_stage(t, "int-length probe: registering %llu bytes", (unsigned long long)probe[k]);
		r = odpt_vmr_reg(t->vr, m, probe[k], ODPT_MR_ODP, &mr);
		tc_diag(t, "boundary probe: ODP MR of %llu bytes: %s (the int-length bug predicts %s)",
			(unsigned long long)probe[k], r ? strerror(-r) : "registered",
			bm_rxe_int_len_einval(probe[k]) ? "EINVAL" : "registered");
		odpt_vmr_dereg(mr);
		all &= bm_rxe_int_len_einval(probe[k]) ? r == -EINVAL : r == 0;
	}
	return all;
}

/*
 * A sparse ODP MR larger than RAM over a MAP_NORESERVE mapping: only the
 * pages the device touches are faulted in. Its size is the smallest
 * multiple of 2 MiB >= 1.25 x RAM whose remainder mod 4 GiB is 2 GiB or
 * more, so that the rxe int-length bug (bugmodel.h) shows whatever the
 * guest's RAM: an MR of 4-6 GiB wraps to below 2 GiB and registers on the
 * buggy kernel, which would pass as fixed.
 */
int run_sparse(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t ram = (size_t)sysconf(_SC_PHYS_PAGES) * pg;
	size_t len = (size_t)bm_rxe_int_len_size(ram + ram / 4, 2ul << 20);
	size_t map_len = len > (1ull << 32) + pg ? len : (1ull << 32) + pg;
	enum { NT = 64 };
	/* The big MR is the WRITEs' target: the responder's device. */
	const struct odpt_vcaps *caps = odpt_vctx_caps(t->vr);
	struct odpt_vmr *big = NULL;
	uint8_t *m;
	struct rig g;
	int ret;

	if (len > caps->max_mr_size)
		return tc_skip(t, "max_mr_size %llu is below the %zu bytes the case needs (> 1.25 x RAM, mod 4 GiB >= 2 GiB)",
			       (unsigned long long)caps->max_mr_size, len);
	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, pg, ODPT_MR_ODP, ODPT_MR_ODP);
	if (ret)
		goto teardown;
	tc_stage(t, "mapping %zu bytes MAP_NORESERVE", map_len);
	m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		ret = tc_skip(t, "mmap of %zu bytes MAP_NORESERVE refused: %s (vm.overcommit_memory=2?)",
			      map_len, strerror(errno));
		goto teardown;
	}
	/*
	 * One touched byte must fault in one page: with THP a fault fills
	 * (and mincore counts) a whole 2 MiB page. First seen once a fixed
	 * rxe registered this MR (kernel-patches/0002): 31770 resident.
	 */
	madvise(m, map_len, MADV_NOHUGEPAGE);
	tc_stage(t, "registering a %zu-byte ODP MR (RAM %zu)", len, ram);
	tc_diag(t, "MR size %zu bytes (RAM %zu, mod 4 GiB %zu)", len, ram, (size_t)(len & 0xffffffffull));
	ret = odpt_vmr_reg(t->vr, m, len, ODPT_MR_ODP, &big);
	if (ret) {
		if (ret == -EINVAL && int_len_fingerprint(t, m, pg)) {
			tc_bug_pattern(t, BUG_RXE_ODP_INT_LEN,
				       "ibv_reg_mr ODP of %zu bytes (max_mr_size %llu): EINVAL, and the 2^31 - 4 KiB / 2^31 / 2^32 - 4 KiB / 2^32 + 4 KiB probes register, fail, fail, register as the int-length bug predicts",
				       len, (unsigned long long)caps->max_mr_size);
			ret = 0;
		} else {
			ret = tc_fail(t, "ibv_reg_mr ODP of %zu bytes (max_mr_size %llu): %s",
				      len, (unsigned long long)caps->max_mr_size, strerror(-ret));
		}
		goto unmap;
	}
	RUN_ITERS(t, {
		long res;

		tc_stage(t, "forcing faults on the sparse MR");
		if (madvise(m, len, MADV_DONTNEED)) {
			ret = tc_fail(t, "madvise: %s", strerror(errno));
			break;
		}
		tc_faults_forced(t, NT);
		for (int k = 0; k < NT && !ret; k++) {
			size_t off = (len / NT) * k + (size_t)(k * 7 % 13) * pg;
			struct odpt_vwr wr = { .op = ODPT_OP_WRITE, .nsge = 1,
					       .remote_addr = (uintptr_t)(m + off), .rkey = big->rkey };

			if (k == NT - 1)
				off = len - pg;   /* the very last page */
			wr.remote_addr = (uintptr_t)(m + off);
			pat_fill(g.lbuf, pg, SEED(i, k), 0);
			wr.sge[0].addr = (uintptr_t)g.lbuf;
			wr.sge[0].len_bytes = (uint32_t)rig_chunk(&g);
			wr.sge[0].lkey = rig_lkey(&g);
			ret = rig_op_ok(&g, &wr);
			if (!ret && !check_pat(t, "sparse page", m + off, rig_chunk(&g), SEED(i, k), 0))
				ret = ODPT_FAIL;
		}
		if (ret)
			break;
		tc_stage(t, "counting resident pages with mincore");
		res = resident_pages(m, len);
		if (res != NT)
			ret = tc_fail(t, "%ld pages resident in the %zu-byte MR, want exactly the %d touched",
				      res, len, NT);
	});
	tc_odp_snapshot(t, big);
	odpt_vmr_dereg(big);
unmap:
	munmap(m, map_len);
teardown:
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* Many ODP MRs over one buffer: each MR writes its own slice; one
 * MADV_DONTNEED invalidates them all; deregistering half leaves the
 * others working. */
int run_many_mrs(struct odpt_tctx *t)
{
	enum { NMR = 32 };
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = NMR * pg;
	size_t slice = pg;
	struct odpt_vmr *mrs[NMR] = { 0 };
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, ODPT_MR_ODP, ODPT_MR_ODP);

	for (int k = 0; k < NMR && !ret; k++) {
		tc_stage(t, "registering MR %d of %d over the same buffer", k + 1, NMR);
		ret = odpt_vmr_reg(t->vr, g.rbuf, len, ODPT_MR_ODP, &mrs[k]);
		if (ret)
			ret = tc_fail(t, "registering MR %d: %s", k, strerror(-ret));
	}
	for (uint64_t i = 0; i <= case_iters(t) && !ret; i++) {
		bool last = i == case_iters(t);   /* extra round: odd MRs only */

		if (last) {
			tc_stage(t, "deregistering the even MRs");
			for (int k = 0; k < NMR; k += 2) {
				odpt_vmr_dereg(mrs[k]);
				mrs[k] = NULL;
			}
		}
		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		for (int k = 0; k < NMR; k++)
			pat_fill(g.lbuf + k * slice, slice, SEED(i, 9), 0);
		for (int k = 0; k < NMR && !ret; k++) {
			struct odpt_vwr wr = rig_wr_to(&g, ODPT_OP_WRITE, k * slice, k * slice,
						   rig_chunk(&g));

			if (!mrs[k])
				continue;
			wr.rkey = mrs[k]->rkey;
			ret = rig_op_ok(&g, &wr);
		}
		for (int k = 0; k < NMR && !ret; k++) {
			char what[64];

			snprintf(what, sizeof(what), "slice written through MR %d", k);
			if (mrs[k] ? !rig_check_xfer(&g, what, g.rbuf + k * slice, slice, SEED(i, 9), true, 0)
				   : !check_byte(t, "slice of a deregistered MR", g.rbuf + k * slice, slice, 0))
				ret = ODPT_FAIL;
		}
		if (!ret && !last)
			tc_iteration_done(t);
	}
	for (int k = 0; k < NMR; k++) {
		tc_odp_snapshot(t, mrs[k]);
		odpt_vmr_dereg(mrs[k]);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}
