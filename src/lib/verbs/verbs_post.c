// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine (see include/odpt/verbs.h). Posting work requests and
 * receives, polling completions.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <infiniband/verbs.h>

#include "odpt_config.h"
#include "odpt/clock.h"
#include "odpt/verbs.h"
#include "verbs_int.h"

static void to_ibv_sges(const struct odpt_vsge *in, int n, struct ibv_sge *out)
{
	for (int i = 0; i < n; i++) {
		out[i].addr = in[i].addr;
		out[i].length = in[i].len_bytes;
		out[i].lkey = in[i].lkey;
	}
}

static int post_ex(struct odpt_vpair *p, int side, const struct odpt_vwr *wr,
		   struct ibv_sge *sg)
{
	struct ibv_qp_ex *q = p->qpx[side];

	ibv_wr_start(q);
	q->wr_id = wr->wr_id;
	q->wr_flags = IBV_SEND_SIGNALED;
	switch (wr->op) {
	case ODPT_OP_SEND:
		ibv_wr_send(q);
		break;
	case ODPT_OP_WRITE:
		ibv_wr_rdma_write(q, wr->rkey, wr->remote_addr);
		break;
	case ODPT_OP_READ:
		ibv_wr_rdma_read(q, wr->rkey, wr->remote_addr);
		break;
	case ODPT_OP_CAS:
		ibv_wr_atomic_cmp_swp(q, wr->rkey, wr->remote_addr,
				      wr->compare_add, wr->swap);
		break;
	case ODPT_OP_FAA:
		ibv_wr_atomic_fetch_add(q, wr->rkey, wr->remote_addr, wr->compare_add);
		break;
	case ODPT_OP_ATOMIC_WRITE:
#if defined(ODPT_HAVE_WR_ATOMIC_WRITE) && defined(ODPT_HAVE_ATOMIC_WRITE_POST)
		ibv_wr_atomic_write(q, wr->rkey, wr->remote_addr, wr->atomic_write);
		break;
#else
		ibv_wr_abort(q);
		return -EOPNOTSUPP;
#endif
	case ODPT_OP_FLUSH:
#if defined(ODPT_HAVE_WR_FLUSH) && defined(ODPT_HAVE_FLUSH_CAPS)
		ibv_wr_flush(q, wr->rkey, wr->remote_addr, wr->flush_len_bytes,
			     IBV_FLUSH_GLOBAL,
			     wr->flush_whole_mr ? IBV_FLUSH_MR : IBV_FLUSH_RANGE);
		break;
#else
		ibv_wr_abort(q);
		return -EOPNOTSUPP;
#endif
	}
	if (wr->op != ODPT_OP_FLUSH && wr->op != ODPT_OP_ATOMIC_WRITE)
		ibv_wr_set_sge_list(q, wr->nsge, sg);
	return verbs_err(ibv_wr_complete(q));
}

/*
 * Test only: ODPT_TEST_POST_DELAY_US=N makes every post sleep N us first, a
 * regression injected on purpose so that the lab can show `odpt compare`
 * catching it (tests/lab/bench.sh). Read once; unset or 0 costs a branch.
 */
static void test_post_delay(void)
{
	static long us = -1;

	if (us < 0) {
		const char *v = getenv("ODPT_TEST_POST_DELAY_US");

		us = v ? strtol(v, NULL, 10) : 0;
		if (us < 0 || us > 1000000)
			us = 0;
	}
	if (us) {
		struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

		nanosleep(&ts, NULL);
	}
}

int odpt_vpair_post(struct odpt_vpair *p, int side, const struct odpt_vwr *wr)
{
	struct ibv_sge sg[ODPT_MAX_SGE];
	struct ibv_send_wr w, *bad = NULL;

	test_post_delay();

	if (wr->nsge < 0 || wr->nsge > ODPT_MAX_SGE || side < 0 || side > 1)
		return -EINVAL;
	if (p->kind == ODPT_QP_XRC && side != 0)
		return -EINVAL;
	to_ibv_sges(wr->sge, wr->nsge, sg);
	if (p->qpx[side])
		return post_ex(p, side, wr, sg);
	if (wr->op == ODPT_OP_FLUSH || wr->op == ODPT_OP_ATOMIC_WRITE)
		return -EOPNOTSUPP;
	memset(&w, 0, sizeof(w));
	w.wr_id = wr->wr_id;
	w.sg_list = wr->nsge ? sg : NULL;
	w.num_sge = wr->nsge;
	w.send_flags = IBV_SEND_SIGNALED;
	switch (wr->op) {
	case ODPT_OP_SEND:
		w.opcode = IBV_WR_SEND;
		if (p->kind == ODPT_QP_UD) {
			w.wr.ud.ah = p->ah[side];
			w.wr.ud.remote_qpn = p->qp[!side]->qp_num;
			w.wr.ud.remote_qkey = p->qkey;
		} else if (p->kind == ODPT_QP_XRC) {
			w.qp_type.xrc.remote_srqn = p->srq_num;
		}
		break;
	case ODPT_OP_WRITE:
		w.opcode = IBV_WR_RDMA_WRITE;
		w.wr.rdma.remote_addr = wr->remote_addr;
		w.wr.rdma.rkey = wr->rkey;
		break;
	case ODPT_OP_READ:
		w.opcode = IBV_WR_RDMA_READ;
		w.wr.rdma.remote_addr = wr->remote_addr;
		w.wr.rdma.rkey = wr->rkey;
		break;
	case ODPT_OP_CAS:
		w.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
		w.wr.atomic.remote_addr = wr->remote_addr;
		w.wr.atomic.rkey = wr->rkey;
		w.wr.atomic.compare_add = wr->compare_add;
		w.wr.atomic.swap = wr->swap;
		break;
	case ODPT_OP_FAA:
		w.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
		w.wr.atomic.remote_addr = wr->remote_addr;
		w.wr.atomic.rkey = wr->rkey;
		w.wr.atomic.compare_add = wr->compare_add;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return verbs_err(ibv_post_send(p->qp[side], &w, &bad));
}

int odpt_vpair_post_recv(struct odpt_vpair *p, int side, uint64_t wr_id,
			 const struct odpt_vsge *sge, int nsge)
{
	struct ibv_sge sg[ODPT_MAX_SGE];
	struct ibv_recv_wr w, *bad = NULL;

	if (nsge < 0 || nsge > ODPT_MAX_SGE || side < 0 || side > 1)
		return -EINVAL;
	to_ibv_sges(sge, nsge, sg);
	memset(&w, 0, sizeof(w));
	w.wr_id = wr_id;
	w.sg_list = nsge ? sg : NULL;
	w.num_sge = nsge;
	if (p->srq && side == 1)
		return verbs_err(ibv_post_srq_recv(p->srq, &w, &bad));
	if (p->kind == ODPT_QP_XRC)
		return -EINVAL;
	return verbs_err(ibv_post_recv(p->qp[side], &w, &bad));
}

static void fill_wc(const struct ibv_wc *w, struct odpt_vwc *wc)
{
	wc->wr_id = w->wr_id;
	wc->status = w->status;
	wc->status_str = ibv_wc_status_str(w->status);
	wc->byte_len = w->byte_len;
	wc->opcode = w->opcode;
}

/*
 * Spin briefly, then sleep on the CQ's completion channel: a busy poller
 * would take the CPU from the kernel work items of a software provider
 * (rxe), which on a small or shared machine only makes the wait longer.
 */
#define POLL_SPINS 256

int odpt_vpair_poll(struct odpt_vpair *p, int side, enum odpt_cq_which which,
		    uint64_t timeout_ns, struct odpt_vwc *wc)
{
	struct ibv_cq *cq = which == ODPT_CQ_SEND ? p->scq[side] : p->rcq[side];
	struct ibv_comp_channel *ch = which == ODPT_CQ_SEND ? p->sch[side] : p->rch[side];
	uint64_t deadline = odpt_clock_raw_ns() + timeout_ns;
	unsigned spins = 0;
	struct ibv_wc w;

	for (;;) {
		struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
		uint64_t now;
		int n = ibv_poll_cq(cq, 1, &w);

		if (n < 0)
			return -EIO;   /* ibv_poll_cq gives no errno */
		if (n == 1)
			break;
		if (++spins < POLL_SPINS)
			continue;
		if (ibv_req_notify_cq(cq, 0))
			return -EIO;
		/* A completion that arrived before the arm raises no event. */
		n = ibv_poll_cq(cq, 1, &w);
		if (n < 0)
			return -EIO;
		if (n == 1)
			break;
		now = odpt_clock_raw_ns();
		if (now > deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)((deadline - now) / 1000000 > 100 ? 100 :
					(deadline - now) / 1000000 + 1));
		if (n > 0) {
			struct ibv_cq *ev_cq;
			void *ev_ctx;

			if (!ibv_get_cq_event(ch, &ev_cq, &ev_ctx))
				ibv_ack_cq_events(ev_cq, 1);
		}
	}
	fill_wc(&w, wc);
	return 0;
}

/* Checking the clock costs more than a poll: every this many polls. */
#define BUSY_CLOCK_EVERY 1024

int odpt_vpair_poll_busy(struct odpt_vpair *p, int side, enum odpt_cq_which which,
			 uint64_t timeout_ns, struct odpt_vwc *wc)
{
	struct ibv_cq *cq = which == ODPT_CQ_SEND ? p->scq[side] : p->rcq[side];
	uint64_t deadline = odpt_clock_raw_ns() + timeout_ns;
	struct ibv_wc w;

	for (unsigned spins = 1;; spins++) {
		int n = ibv_poll_cq(cq, 1, &w);

		if (n < 0)
			return -EIO;
		if (n == 1)
			break;
		if (!(spins % BUSY_CLOCK_EVERY) && odpt_clock_raw_ns() > deadline)
			return -ETIMEDOUT;
	}
	fill_wc(&w, wc);
	return 0;
}
