// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine (see include/odpt/verbs.h). Loopback QP pairs: create,
 * connect (INIT/RTR/RTS), reset, destroy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

#include "odpt_config.h"
#include "odpt/verbs.h"
#include "verbs_int.h"

/* ---- QP pairs ------------------------------------------------------------ */

#define PAIR_DEPTH 64
#define PAIR_RD_ATOMIC 4

static int qp_to_init(struct odpt_vpair *p, int side)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = p->vs[side]->port,
	};
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;

	if (p->kind == ODPT_QP_UD) {
		a.qkey = p->qkey;
		mask |= IBV_QP_QKEY;
	} else {
		a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
				    IBV_ACCESS_REMOTE_ATOMIC;
		mask |= IBV_QP_ACCESS_FLAGS;
#ifdef ODPT_HAVE_FLUSH_CAPS
		/* A responder accepts FLUSH only with this QP access flag. */
		if (!p->no_flush_access) {
			int ret;

			a.qp_access_flags |= IBV_ACCESS_FLUSH_GLOBAL;
			ret = ibv_modify_qp(p->qp[side], &a, mask);
			if (!ret)
				return 0;
			if (ret != EINVAL && ret != EOPNOTSUPP)
				return verbs_err(ret);
			p->no_flush_access = true;   /* device without FLUSH */
			a.qp_access_flags &= ~IBV_ACCESS_FLUSH_GLOBAL;
		}
#endif
	}
	return verbs_err(ibv_modify_qp(p->qp[side], &a, mask));
}

/* Address of side `to`, as seen from side `from` (its port and source GID). */
static void fill_ah(struct odpt_vpair *p, int from, int to, struct ibv_ah_attr *ah)
{
	struct odpt_vctx *src = p->vs[from], *dst = p->vs[to];

	memset(ah, 0, sizeof(*ah));
	ah->port_num = src->port;
	ah->dlid = dst->port_attr.lid;
	if (src->gid_index >= 0) {
		ah->is_global = 1;
		ah->grh.dgid = dst->gid;
		ah->grh.sgid_index = src->gid_index;
		ah->grh.hop_limit = 1;
	}
}

/* The path MTU both ends can carry. */
static enum ibv_mtu pair_mtu(const struct odpt_vpair *p)
{
	enum ibv_mtu a = p->vs[0]->port_attr.active_mtu, b = p->vs[1]->port_attr.active_mtu;

	return a < b ? a : b;
}

static int qp_to_rtr_rts(struct odpt_vpair *p, int side)
{
	struct ibv_qp_attr a;
	int other = !side, mask;
	int ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	mask = IBV_QP_STATE;
	if (p->kind != ODPT_QP_UD) {
		a.path_mtu = pair_mtu(p);
		a.dest_qp_num = p->qp[other]->qp_num;
		a.rq_psn = 0;
		a.max_dest_rd_atomic = PAIR_RD_ATOMIC;
		a.min_rnr_timer = 12;
		fill_ah(p, side, other, &a.ah_attr);
		mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			IBV_QP_MIN_RNR_TIMER;
	}
	ret = ibv_modify_qp(p->qp[side], &a, mask);
	if (ret)
		return verbs_err(ret);
	if (p->kind == ODPT_QP_XRC && side == 1)
		return 0;   /* the XRC receive QP stays in RTR */
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
	if (p->kind != ODPT_QP_UD) {
		a.timeout = 14;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.max_rd_atomic = PAIR_RD_ATOMIC;
		mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			IBV_QP_MAX_QP_RD_ATOMIC;
	}
	return verbs_err(ibv_modify_qp(p->qp[side], &a, mask));
}

static int pair_connect(struct odpt_vpair *p)
{
	int ret;

	for (int s = 0; s < 2; s++) {
		ret = qp_to_init(p, s);
		if (ret)
			return ret;
	}
	for (int s = 0; s < 2; s++) {
		ret = qp_to_rtr_rts(p, s);
		if (ret)
			return ret;
	}
	return 0;
}

/* Send ops for an extended QP: everything the suite posts, plus FLUSH and
 * ATOMIC_WRITE when the library knows them. */
static uint64_t ex_send_ops(enum odpt_qp_kind kind)
{
	uint64_t ops = IBV_QP_EX_WITH_SEND;

	if (kind == ODPT_QP_UD)
		return ops;
	ops |= IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ |
	       IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;
#if defined(ODPT_HAVE_WR_FLUSH) && defined(ODPT_HAVE_FLUSH_CAPS)
	ops |= IBV_QP_EX_WITH_FLUSH;
#endif
#if defined(ODPT_HAVE_WR_ATOMIC_WRITE) && defined(ODPT_HAVE_ATOMIC_WRITE_POST)
	ops |= IBV_QP_EX_WITH_ATOMIC_WRITE;
#endif
	return ops;
}

static int create_qp(struct odpt_vpair *p, int side, bool ex)
{
	struct ibv_qp_init_attr_ex ia;

	memset(&ia, 0, sizeof(ia));
	ia.send_cq = p->scq[side];
	ia.recv_cq = p->rcq[side];
	ia.cap.max_send_wr = PAIR_DEPTH;
	ia.cap.max_recv_wr = PAIR_DEPTH;
	ia.cap.max_send_sge = ODPT_MAX_SGE;
	ia.cap.max_recv_sge = ODPT_MAX_SGE;
	ia.comp_mask = IBV_QP_INIT_ATTR_PD;
	ia.pd = p->vs[side]->pd;
	switch (p->kind) {
	case ODPT_QP_UD:
		ia.qp_type = IBV_QPT_UD;
		break;
	case ODPT_QP_XRC:
		if (side == 0) {
			ia.qp_type = IBV_QPT_XRC_SEND;
			ia.cap.max_recv_wr = 0;
			ia.cap.max_recv_sge = 0;
			ia.recv_cq = NULL;
		} else {
			ia.qp_type = IBV_QPT_XRC_RECV;
			ia.comp_mask = IBV_QP_INIT_ATTR_XRCD;
			ia.xrcd = p->xrcd;
			ia.send_cq = NULL;
			ia.recv_cq = NULL;
			memset(&ia.cap, 0, sizeof(ia.cap));
		}
		break;
	case ODPT_QP_RC_SRQ:
		ia.qp_type = IBV_QPT_RC;
		if (side == 1)
			ia.srq = p->srq;
		break;
	default:
		ia.qp_type = IBV_QPT_RC;
		break;
	}
	if (ex && !(p->kind == ODPT_QP_XRC && side == 1)) {
		ia.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		ia.send_ops_flags = ex_send_ops(p->kind);
	}
	errno = 0;
	p->qp[side] = ibv_create_qp_ex(p->vs[side]->ctx, &ia);
	if (!p->qp[side])
		return verbs_err(-1);
	if (ex && !(p->kind == ODPT_QP_XRC && side == 1))
		p->qpx[side] = ibv_qp_to_qp_ex(p->qp[side]);
	return 0;
}

static int create_srq(struct odpt_vpair *p)
{
	struct ibv_srq_init_attr_ex sa;

	memset(&sa, 0, sizeof(sa));
	sa.attr.max_wr = PAIR_DEPTH;
	sa.attr.max_sge = ODPT_MAX_SGE;
	sa.comp_mask = IBV_SRQ_INIT_ATTR_PD | IBV_SRQ_INIT_ATTR_TYPE;
	sa.pd = p->vs[1]->pd;   /* the SRQ receives: responder side */
	sa.srq_type = IBV_SRQT_BASIC;
	if (p->kind == ODPT_QP_XRC) {
		struct ibv_xrcd_init_attr xa = {
			.comp_mask = IBV_XRCD_INIT_ATTR_FD | IBV_XRCD_INIT_ATTR_OFLAGS,
			.fd = -1,
			.oflags = O_CREAT,
		};

		errno = 0;
		p->xrcd = ibv_open_xrcd(p->vs[1]->ctx, &xa);
		if (!p->xrcd)
			return verbs_err(-1);
		sa.srq_type = IBV_SRQT_XRC;
		sa.xrcd = p->xrcd;
		sa.cq = p->rcq[1];
		sa.comp_mask |= IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_CQ;
	}
	errno = 0;
	p->srq = ibv_create_srq_ex(p->vs[1]->ctx, &sa);
	if (!p->srq)
		return verbs_err(-1);
	if (p->kind == ODPT_QP_XRC) {
		int ret = ibv_get_srq_num(p->srq, &p->srq_num);

		if (ret)
			return verbs_err(ret);
	}
	return 0;
}

void odpt_vpair_destroy(struct odpt_vpair *p)
{
	if (!p)
		return;
	for (int s = 0; s < 2; s++) {
		if (p->ah[s])
			ibv_destroy_ah(p->ah[s]);
		if (p->qp[s])
			ibv_destroy_qp(p->qp[s]);
	}
	if (p->srq)
		ibv_destroy_srq(p->srq);
	if (p->xrcd)
		ibv_close_xrcd(p->xrcd);
	for (int s = 0; s < 2; s++) {
		if (p->scq[s])
			ibv_destroy_cq(p->scq[s]);
		if (p->rcq[s])
			ibv_destroy_cq(p->rcq[s]);
		if (p->sch[s])
			ibv_destroy_comp_channel(p->sch[s]);
		if (p->rch[s])
			ibv_destroy_comp_channel(p->rch[s]);
	}
	free(p);
}

int odpt_vpair_create(struct odpt_vctx *v, enum odpt_qp_kind kind,
		      struct odpt_vpair **out)
{
	return odpt_vpair_create2(v, v, kind, out);
}

int odpt_vpair_create2(struct odpt_vctx *req, struct odpt_vctx *resp,
		       enum odpt_qp_kind kind, struct odpt_vpair **out)
{
	struct odpt_vpair *p;
	bool ex;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->vs[0] = req;
	p->vs[1] = resp;
	p->kind = kind;
	p->qkey = 0x11111111;
	for (int s = 0; s < 2; s++) {
		struct ibv_context *ctx = p->vs[s]->ctx;

		errno = 0;
		p->sch[s] = ibv_create_comp_channel(ctx);
		p->rch[s] = p->sch[s] ? ibv_create_comp_channel(ctx) : NULL;
		p->scq[s] = p->rch[s] ? ibv_create_cq(ctx, PAIR_DEPTH, NULL, p->sch[s], 0) : NULL;
		p->rcq[s] = p->scq[s] ? ibv_create_cq(ctx, PAIR_DEPTH, NULL, p->rch[s], 0) : NULL;
		if (!p->rcq[s]) {
			ret = verbs_err(-1);
			goto destroy_pair;
		}
	}
	if (kind == ODPT_QP_XRC || kind == ODPT_QP_RC_SRQ) {
		ret = create_srq(p);
		if (ret)
			goto destroy_pair;
	}
	/*
	 * RC QPs are created extended (ibv_wr_* API) when the library has
	 * FLUSH or ATOMIC_WRITE, so those can be posted; a provider that
	 * rejects the extended send ops gets a plain QP, and those two ops
	 * then report -EOPNOTSUPP at post time.
	 */
	ex = kind == ODPT_QP_RC &&
	     (odpt_vop_in_library(ODPT_OP_FLUSH) || odpt_vop_in_library(ODPT_OP_ATOMIC_WRITE));
	for (int s = 0; s < 2; s++) {
		ret = create_qp(p, s, ex);
		if (ret && ex && s == 0) {
			p->ex_err = ret;
			ex = false;
			ret = create_qp(p, s, ex);
		}
		if (ret)
			goto destroy_pair;
	}
	if (kind == ODPT_QP_UD) {
		for (int s = 0; s < 2; s++) {
			struct ibv_ah_attr ah;

			fill_ah(p, s, !s, &ah);
			errno = 0;
			p->ah[s] = ibv_create_ah(p->vs[s]->pd, &ah);
			if (!p->ah[s]) {
				ret = verbs_err(-1);
				goto destroy_pair;
			}
		}
	}
	ret = pair_connect(p);
	if (ret)
		goto destroy_pair;
	*out = p;
	return 0;

destroy_pair:
	odpt_vpair_destroy(p);
	return ret;
}

int odpt_vpair_ex_fallback(const struct odpt_vpair *p)
{
	return p->ex_err;
}

int odpt_vpair_mtu_bytes(const struct odpt_vpair *p)
{
	return 128 << pair_mtu(p);
}

static void drain_cq(struct ibv_cq *cq)
{
	struct ibv_wc wc[16];

	if (!cq)
		return;
	while (ibv_poll_cq(cq, 16, wc) > 0)
		;
}

/* Destroy and create both QPs again (CQs, SRQ and AHs are kept). */
static int pair_recreate(struct odpt_vpair *p)
{
	bool ex = p->qpx[0] != NULL;
	int ret;

	for (int s = 0; s < 2; s++) {
		if (p->qp[s])
			ibv_destroy_qp(p->qp[s]);
		p->qp[s] = NULL;
		p->qpx[s] = NULL;
	}
	for (int s = 0; s < 2; s++) {
		drain_cq(p->scq[s]);
		drain_cq(p->rcq[s]);
	}
	for (int s = 0; s < 2; s++) {
		ret = create_qp(p, s, ex);
		if (ret)
			return ret;
	}
	return pair_connect(p);
}

int odpt_vpair_reset(struct odpt_vpair *p)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };
	int ret = 0;

	for (int s = 0; s < 2 && !ret; s++)
		ret = verbs_err(ibv_modify_qp(p->qp[s], &a, IBV_QP_STATE));
	if (!ret) {
		for (int s = 0; s < 2; s++) {
			drain_cq(p->scq[s]);
			drain_cq(p->rcq[s]);
		}
		ret = pair_connect(p);
	}
	/* A QP the provider will not take back through RESET is replaced. */
	return ret ? pair_recreate(p) : 0;
}
