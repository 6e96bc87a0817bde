/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Internal to the suite: the run functions of the case families and the
 * parameters (variant, flags) the catalogue in cases.c gives them.
 */
#ifndef ODPT_SUITE_CASES_H
#define ODPT_SUITE_CASES_H

#include "odpt/suite.h"
#include "odpt/verbs.h"

struct rig;

/* odpt_case.variant */
enum {
	V_ODP = 0,       /* explicit ODP on both sides */
	V_PINNED,        /* pinned MRs (controls) */
	V_IMPLICIT,      /* one implicit ODP MR for both sides */
	V_HUGETLB,       /* MAP_HUGETLB buffers, IBV_ACCESS_HUGETLB */
	V_THP,           /* THP-backed buffers */
	V_MR_EX,         /* registered with ibv_reg_mr_ex */
	V_SRQ,           /* responder receives through an SRQ */
	V_DONTFORK,      /* fork case with MADV_DONTFORK */
	V_MULTI,         /* one WR over several pages: many packets per page */
	V_MULTI_PINNED,  /* the same between pinned MRs (control) */
	V_HUGETLB_NOFLAG, /* MAP_HUGETLB memory without IBV_ACCESS_HUGETLB */
};

/* odpt_case.flags beyond ODPT_CASE_NEEDS_DEV */
enum {
	CASE_FLUSH_MR = 1u << 8,   /* FLUSH level MR instead of RANGE */
	CASE_ASYNC = 1u << 9,      /* advise_mr without IBV_ADVISE_MR_FLAG_FLUSH */
	CASE_HEAVY = 1u << 10,     /* runs --iters / 10 iterations (at least 1) */
};

/* Iterations for this case: --iters, or a tenth of it for heavy cases
 * (2 MiB huge pages re-faulted per iteration, 32 MRs, QP resets). */
static inline uint64_t case_iters(const struct odpt_tctx *t)
{
	uint64_t n = t->cfg->iters;

	if (t->c->flags & CASE_HEAVY)
		n = n / 10 ? n / 10 : 1;
	return n;
}

/* The MR flags of a variant (both sides). */
static inline unsigned variant_mr_flags(int variant)
{
	switch (variant) {
	case V_PINNED:
	case V_MULTI_PINNED: return 0;
	case V_IMPLICIT: return ODPT_MR_IMPLICIT;
	case V_HUGETLB: return ODPT_MR_ODP | ODPT_MR_HUGETLB;
	case V_HUGETLB_NOFLAG: return ODPT_MR_ODP;
	case V_MR_EX: return ODPT_MR_ODP | ODPT_MR_REG_EX;
	default: return ODPT_MR_ODP;
	}
}

/* Byte a CPU-filled destination holds before an iteration's transfer. */
#define SENTINEL 0xa5

/* The case's iterations, each counted when it ended without a verdict. */
#define RUN_ITERS(t, ...)							\
	for (uint64_t i = 0; i < case_iters(t) && !ret; i++) {			\
		__VA_ARGS__;							\
		if (!ret)							\
			tc_iteration_done(t);					\
	}

/* NULL when op can run in this variant on a device with caps (the cap
 * bits and the library calls are there), else why not (caps.c). */
const char *odpt_case_op_unadvertised(const struct odpt_vcaps *caps, enum odpt_vop op,
				      int variant, char *buf, int len);

/* NULL when caps advertise every ODP bit in bits for transport tr, else
 * why not, naming the missing and the present bits (caps.c). */
const char *odpt_case_need_bits(const struct odpt_vcaps *caps, enum odpt_transport tr,
				uint32_t bits, char *buf, int len);

int op_iter(struct rig *g, enum odpt_vop op, uint64_t i, size_t loff, size_t roff,
	    size_t len, bool whole_mr, bool split);

/* cases_ops.c: every RC operation, per variant (ODP, pinned, implicit,
 * hugetlb, THP, ibv_reg_mr_ex, SRQ, one WR over several pages). */
int run_rc_op(struct odpt_tctx *t);
/* cases_transport.c: UD, XRC, and ODP + pinned SGEs in one WR. */
int run_ud_send(struct odpt_tctx *t);
int run_xrc_send(struct odpt_tctx *t);
int run_mixed_sge(struct odpt_tctx *t);
/* cases_shapes.c: unaligned and zero-length transfers, a sparse MR larger
 * than RAM, many MRs over one buffer. */
int run_unaligned(struct odpt_tctx *t);
int run_zero_len(struct odpt_tctx *t);
int run_sparse(struct odpt_tctx *t);
int run_many_mrs(struct odpt_tctx *t);
/* cases_prefetch.c: ibv_advise_mr. */
int run_prefetch(struct odpt_tctx *t);
/* cases_inval.c: the mapping under the MR changes. */
int run_inval_munmap(struct odpt_tctx *t);
int run_inval_remap(struct odpt_tctx *t);
int run_inval_mremap(struct odpt_tctx *t);
int run_inval_mprotect(struct odpt_tctx *t);
int run_inval_fork(struct odpt_tctx *t);
int run_inval_migrate(struct odpt_tctx *t);
int run_inval_thp_split(struct odpt_tctx *t);
/* cases_madv_free.c: MADV_FREE and reclaim, and its CPU-only control. */
int run_inval_madv_free(struct odpt_tctx *t);
int run_madv_free_cpu(struct odpt_tctx *t);
/* cases_race.c: MADV_DONTNEED racing WRITEs. */
int run_inval_race(struct odpt_tctx *t);
/* odpstat.c: the per-MR ODP counters over RDMA netlink. */
int run_odp_counters_netlink(struct odpt_tctx *t);

#ifndef ODPT_IBVERBS_VERSION
#define ODPT_IBVERBS_VERSION "unknown"
#endif

#endif
