// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Suite cases beyond plain RC: UD SEND/RECV with a GRH, XRC SEND into an
 * XRC SRQ, and one WR whose SGEs mix an ODP MR with a pinned one (SEND,
 * WRITE and READ). Faults are forced on both sides every iteration and
 * every moved byte is checked, as in cases_ops.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cases.h"
#include "rig.h"

/*
 * UD SEND with a GRH. The receive has two SGEs: 40 bytes for the GRH at
 * the start of page 0 and the payload at the start of page 1, so each
 * lands at in-page offset 0 (a single SGE would put the payload at offset
 * 40; see rig_xfer() on the rxe page-offset bug).
 */
int run_ud_send(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = 0;
	struct rig g;
	int ret;

	ret = rig_setup(&g, t, ODPT_QP_UD, RIG_MEM_ANON, 2 * pg, ODPT_MR_ODP, ODPT_MR_ODP);
	if (!ret)
		len = rig_chunk(&g);   /* one path MTU, at most a page */
	for (uint64_t i = 0; i < t->cfg->iters && !ret; i++) {
		uint64_t seed = SEED(i, 0x55);
		struct odpt_vsge rs[2] = { rig_sge(&g, true, 0, ODPT_UD_GRH_BYTES),
					   rig_sge(&g, true, pg, len) };
		struct odpt_vwr wr = { .op = ODPT_OP_SEND, .wr_id = i, .nsge = 1 };
		struct odpt_vwc wc;

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		pat_fill(g.lbuf, len, seed, 0);
		wr.sge[0] = rig_sge(&g, false, 0, len);
		ret = rig_recv(&g, rs, 2);
		if (!ret)
			ret = rig_op_ok(&g, &wr);
		if (!ret)
			ret = rig_recv_wait(&g, &wc);
		if (ret)
			break;
		if (wc.byte_len != len + ODPT_UD_GRH_BYTES) {
			ret = tc_fail(t, "UD RECV byte_len %u, want %zu (payload + GRH)",
				      wc.byte_len, len + ODPT_UD_GRH_BYTES);
			break;
		}
		if (!check_pat(t, "UD payload", g.rbuf + pg, len, seed, 0) ||
		    !check_byte(t, "responder bytes after the UD payload", g.rbuf + pg + len, pg - len, 0) ||
		    !check_byte(t, "responder bytes after the GRH", g.rbuf + ODPT_UD_GRH_BYTES,
				pg - ODPT_UD_GRH_BYTES, 0)) {
			ret = ODPT_FAIL;
			break;
		}
		tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* XRC SEND into an XRC SRQ. */
int run_xrc_send(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rig g;
	int ret;

	ret = rig_setup(&g, t, ODPT_QP_XRC, RIG_MEM_ANON, 4 * pg, ODPT_MR_ODP, ODPT_MR_ODP);
	for (uint64_t i = 0; i < t->cfg->iters && !ret; i++) {
		ret = op_iter(&g, ODPT_OP_SEND, i, pg, pg, 2 * pg, false, true);
		if (!ret)
			tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/*
 * Two SGEs on the requester, one in an ODP MR and one in a pinned MR, each
 * one path MTU at a page start (see rig_xfer()). SEND scatters into an ODP
 * and a pinned receive SGE; WRITE and READ target a pinned remote buffer,
 * so the ODP side is the local gather/scatter list.
 */
int run_mixed_sge(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	enum odpt_vop op = t->c->op;
	struct odpt_vmr *lpin = NULL, *rpin = NULL;
	uint8_t *lp = NULL, *rp = NULL;
	size_t c;
	struct rig g;
	int ret;

	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 2 * pg, ODPT_MR_ODP, ODPT_MR_ODP);
	if (ret)
		goto teardown;
	c = rig_chunk(&g);
	tc_stage(t, "registering the pinned buffers");
	lp = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rp = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lp == MAP_FAILED || rp == MAP_FAILED) {
		ret = tc_fail(t, "mmap: %s", strerror(errno));
		goto teardown;
	}
	/* Each side's pinned buffer on that side's device (PD). */
	ret = odpt_vmr_reg(t->v, lp, 2 * pg, 0, &lpin);
	if (!ret)
		ret = odpt_vmr_reg(t->vr, rp, 2 * pg, 0, &rpin);
	if (ret) {
		ret = tc_fail(t, "registering pinned MRs: %s", strerror(-ret));
		goto teardown;
	}
	for (uint64_t i = 0; i < t->cfg->iters && !ret; i++) {
		uint64_t seed = SEED(i, 0x33);
		struct odpt_vwr wr = { .op = op, .wr_id = i, .nsge = 2,
				       .remote_addr = (uintptr_t)rp, .rkey = rpin->rkey };
		struct odpt_vwc wc;

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		tc_stage(t, "preparing mixed-SGE %s", odpt_vop_name(op));
		wr.sge[0] = rig_sge(&g, false, 0, c);
		wr.sge[1].addr = (uintptr_t)lp;
		wr.sge[1].len_bytes = (uint32_t)c;
		wr.sge[1].lkey = lpin->lkey;
		if (op == ODPT_OP_READ) {
			pat_fill(rp, 2 * c, seed, 0);
			memset(lp, 0, c);
		} else {
			pat_fill(g.lbuf, c, seed, 0);
			pat_fill(lp, c, seed, c);
			memset(rp, 0, 2 * pg);
		}
		if (op == ODPT_OP_SEND) {
			struct odpt_vsge rs[2] = { rig_sge(&g, true, 0, c),
				{ (uintptr_t)rp, (uint32_t)c, rpin->lkey } };

			ret = rig_recv(&g, rs, 2);
			if (ret)
				break;
		}
		ret = rig_op_ok(&g, &wr);
		if (!ret && op == ODPT_OP_SEND)
			ret = rig_recv_wait(&g, &wc);
		if (ret)
			break;
		if (op == ODPT_OP_READ)
			ret = !check_pat(t, "READ into the ODP SGE", g.lbuf, c, seed, 0) ||
			      !check_pat(t, "READ into the pinned SGE", lp, c, seed, c);
		else if (op == ODPT_OP_SEND)
			ret = !check_pat(t, "RECV into the ODP SGE", g.rbuf, c, seed, 0) ||
			      !check_pat(t, "RECV into the pinned SGE", rp, c, seed, c);
		else
			ret = !check_pat(t, "WRITE gathered from ODP + pinned", rp, 2 * c, seed, 0);
		if (ret) {
			ret = ODPT_FAIL;
			break;
		}
		tc_iteration_done(t);
	}
teardown:
	odpt_vmr_dereg(lpin);
	odpt_vmr_dereg(rpin);
	if (lp && lp != MAP_FAILED)
		munmap(lp, 2 * pg);
	if (rp && rp != MAP_FAILED)
		munmap(rp, 2 * pg);
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}
