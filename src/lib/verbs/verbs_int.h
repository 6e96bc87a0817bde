// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine's internals, shared by its sources (verbs_*.c) and by no
 * one else (this directory is the layer's private include dir): the error
 * convention, the context and QP pair structures, and the capability query.
 * Only the verbs layer includes <infiniband/verbs.h>; newer symbols are
 * guarded by the ODPT_HAVE_* facts CMake found in the installed headers, so
 * the same sources build against rdma-core 44 and 56.
 */
#ifndef ODPT_VERBS_INT_H
#define ODPT_VERBS_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#include "odpt/verbs.h"

/*
 * The one place libibverbs' error conventions become 0 or -errno. Calls
 * that return a pointer pass -1 when it is NULL (errno set); calls that
 * return -1 + errno pass it as is; calls that return a positive errno
 * (ibv_post_send, ibv_modify_qp, ibv_advise_mr, ...) pass it as is; 0 is
 * success and an already negative errno passes through.
 */
static inline int verbs_err(int ret)
{
	if (ret == 0)
		return 0;
	if (ret > 0)
		return -ret;
	if (ret == -1)
		return errno > 0 ? -errno : -EIO;
	return ret;
}

struct odpt_vctx {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct odpt_vcaps caps;
	char name[64];
	int port;
	int gid_index;              /* -1: no GRH (InfiniBand) */
	union ibv_gid gid;
	struct ibv_port_attr port_attr;
	bool roce;
};

struct odpt_vpair {
	struct odpt_vctx *vs[2];    /* device of each side (the same in loopback) */
	enum odpt_qp_kind kind;
	struct ibv_cq *scq[2], *rcq[2];
	struct ibv_comp_channel *sch[2], *rch[2];   /* one per CQ, to sleep on */
	struct ibv_qp *qp[2];
	struct ibv_qp_ex *qpx[2];   /* set when created with send_ops_flags */
	struct ibv_ah *ah[2];       /* UD: address of the other side */
	struct ibv_srq *srq;        /* XRC or RC_SRQ receive queue (side 1) */
	struct ibv_xrcd *xrcd;
	uint32_t srq_num;
	uint32_t qkey;
	bool no_flush_access;       /* QP access IBV_ACCESS_FLUSH_GLOBAL refused */
	int ex_err;                 /* -errno of the refused extended QP, or 0 */
};

/* Fill c from the device's attributes (ODP, atomics, flush, ...): 0 or -errno. */
int verbs_query_caps(struct ibv_context *ctx, const char *name,
		     struct odpt_vcaps *c);

#endif /* ODPT_VERBS_INT_H */
