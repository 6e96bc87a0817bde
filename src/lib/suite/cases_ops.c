// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Suite cases for the data path: every RC operation (SEND/RECV, WRITE,
 * READ, compare-and-swap, fetch-and-add, ATOMIC_WRITE, FLUSH range and MR),
 * SRQ, hugetlb and THP buffers, implicit ODP, ibv_reg_mr_ex, and one WR over
 * several pages; and op_iter(), the iteration that the unaligned cases
 * (cases_shapes.c) and XRC (cases_transport.c) reuse. Every iteration
 * first invalidates both sides with MADV_DONTNEED, alternates between an absent destination and a CPU-filled
 * sentinel destination, and checks the target bytes and the guard bytes
 * around them one by one. Atomics and ATOMIC_WRITE also run on target pages
 * dropped right before the post (the device must fault them in: mincore),
 * FLUSH also on a dropped range. Whole-message transfers that come out
 * wrong are compared with the rxe copy bug's prediction (bugmodel.h).
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

/* Guard bytes of buf outside [off, off+len) must still hold what the
 * iteration left there (0 for absent pages, SENTINEL when CPU-filled). */
static bool check_guards(struct odpt_tctx *t, const char *what, const uint8_t *buf,
			 size_t buf_len, size_t off, size_t len, uint8_t b)
{
	char w[96];

	snprintf(w, sizeof(w), "%s bytes before the target", what);
	if (!check_byte(t, w, buf, off, b))
		return false;
	snprintf(w, sizeof(w), "%s bytes after the target", what);
	return check_byte(t, w, buf + off + len, buf_len - off - len, b);
}

/* Invalidate without discarding data: a read-only round trip of the
 * protection makes the kernel call the MR's invalidation notifier. */
static int invalidate_keep(struct rig *g, uint8_t *p, size_t len)
{
	tc_stage(g->t, "invalidating responder range with an mprotect round trip");
	if (mprotect(p, len, PROT_READ) || mprotect(p, len, PROT_READ | PROT_WRITE))
		return tc_fail(g->t, "mprotect: %s", strerror(errno));
	tc_faults_forced(g->t, (len + g->pg - 1) / g->pg);
	return 0;
}

/*
 * A whole-message SEND, WRITE or READ (not split per page): the whole
 * destination buffer against a correct transfer (every target byte and
 * every guard byte) and, when wrong, against the rxe page-offset copy
 * bug's prediction (bugmodel.h). Damage exactly as predicted is recorded
 * with tc_bug_pattern() and the case goes on; any other damage fails it.
 * Before the transfer the source held the pattern at its offset and zeros
 * elsewhere (dropped pages), the destination guard everywhere.
 */
static int check_copy(struct rig *g, enum odpt_vop op, size_t loff, size_t roff,
		      size_t len, uint64_t seed, uint8_t guard)
{
	const unsigned odp = ODPT_MR_ODP | ODPT_MR_IMPLICIT;
	bool read = op == ODPT_OP_READ;
	struct bm_xfer x = {
		.soff = read ? roff : loff, .doff = read ? loff : roff, .len = len,
		.mtu = (size_t)odpt_vpair_mtu_bytes(g->p), .pg = g->pg,
		.src_odp = !!((read ? g->rflags : g->lflags) & odp),
		.dst_odp = !!((read ? g->lflags : g->rflags) & odp),
	};
	const char *what = read ? "requester after RDMA_READ" :
			   op == ODPT_OP_SEND ? "responder after SEND" : "responder after RDMA_WRITE";
	uint8_t *src0 = calloc(1, g->len), *dst0 = malloc(g->len);
	struct bm_result res;
	int ret;

	tc_stage(g->t, "validating %s", what);
	if (!src0 || !dst0) {
		ret = tc_fail(g->t, "out of memory");
		goto free_bufs;
	}
	pat_fill(src0 + x.soff, len, seed, 0);
	memset(dst0, guard, g->len);
	ret = bm_rxe_copy_classify(&x, src0, g->len, dst0, read ? g->lbuf : g->rbuf, g->len, &res);
	if (ret) {
		ret = tc_fail(g->t, "classifying %s: %s", what, strerror(-ret));
		goto free_bufs;
	}
	switch (res.v) {
	case BM_CORRECT:
		break;
	case BM_PREDICTED:
		tc_bug_pattern(g->t, BUG_RXE_ODP_COPY,
			       "%s: %zu of %zu buffer bytes wrong (first at offset %zu: got 0x%02x, want 0x%02x), every byte as the rxe page-offset copy bug predicts for %s of %zu bytes, requester offset %zu, responder offset %zu, MTU %zu",
			       what, res.wrong, g->len, res.first_wrong, res.got, res.want,
			       odpt_vop_name(op), len, loff, roff, x.mtu);
		break;
	case BM_OTHER:
		ret = tc_fail(g->t, "%s: %zu of %zu buffer bytes wrong, first at offset %zu; at offset %zu got 0x%02x, want 0x%02x, and the rxe page-offset copy bug predicts 0x%02x: not that bug (%s of %zu bytes, requester offset %zu, responder offset %zu)",
			      what, res.wrong, g->len, res.first_wrong, res.first_unexplained,
			      res.got, res.want, res.predicted, odpt_vop_name(op), len, loff, roff);
		break;
	}
free_bufs:
	free(src0);
	free(dst0);
	return ret;
}

/* MADV_DONTNEED of the page holding p, which must then be absent. */
static int drop_page(struct rig *g, const char *side, void *p)
{
	void *page = (void *)((uintptr_t)p & ~(uintptr_t)(g->pg - 1));

	tc_stage(g->t, "dropping the %s target page (MADV_DONTNEED)", side);
	if (madvise(page, g->pg, MADV_DONTNEED))
		return tc_fail(g->t, "madvise(MADV_DONTNEED) %s target page: %s", side, strerror(errno));
	if (resident_pages(page, g->pg) != 0)
		return tc_fail(g->t, "%s target page still resident after MADV_DONTNEED", side);
	tc_faults_forced(g->t, 1);
	return 0;
}

/* Drop the target pages of an atomic: the responder's, and the requester's
 * (where the returned value lands) when it has an SGE. */
static int drop_targets(struct rig *g, uint64_t *rv, uint64_t *lv)
{
	int ret = drop_page(g, "responder", rv);

	if (!ret && lv)
		ret = drop_page(g, "requester", lv);
	return ret;
}

/*
 * After an op on a dropped page and before any CPU access: the device must
 * have faulted the page in (mincore), or it did not act on a fresh page.
 */
static int check_faulted(struct rig *g, const char *side, const void *p, const char *op)
{
	/* Counted against page_faults only for explicit 4 KiB ODP MRs. */
	unsigned flags = !strcmp(side, "responder") ? g->rflags : g->lflags;
	const void *page = (const void *)((uintptr_t)p & ~(uintptr_t)(g->pg - 1));
	long r = resident_pages(page, g->pg);

	if (r != 1)
		return tc_fail(g->t, "%s on a dropped %s page completed but the page is not resident afterwards (mincore %ld): the device did not fault it in",
			       op, side, r);
	if (flags & ODPT_MR_ODP)
		tc_device_faults(g->t, 1);
	return 0;
}

/*
 * Drop the target pages (drop_targets), post @wr and wait for its good
 * completion, then require the device to have faulted each of them in
 * (check_faulted) before any CPU access.
 */
static int op_on_dropped(struct rig *g, const struct odpt_vwr *wr, uint64_t *rv, uint64_t *lv,
			 const char *op)
{
	char res[64];
	int ret = drop_targets(g, rv, lv);

	if (!ret)
		ret = rig_op_ok(g, wr);
	if (!ret)
		ret = check_faulted(g, "responder", rv, op);
	if (!ret && lv) {
		snprintf(res, sizeof(res), "%s result", op);
		ret = check_faulted(g, "requester", lv, res);
	}
	return ret;
}

/* The responder buffer after an atomic on the dropped target page: the word
 * at rv, the rest of its page zero (fresh), every other page the guard. */
static bool check_atomic_page(struct rig *g, const char *what, const uint64_t *rv, uint8_t guard)
{
	size_t off = (size_t)((const uint8_t *)rv - g->rbuf);
	size_t p0 = off & ~(g->pg - 1);
	char w[96];

	snprintf(w, sizeof(w), "%s: bytes before the target page", what);
	if (!check_byte(g->t, w, g->rbuf, p0, guard))
		return false;
	snprintf(w, sizeof(w), "%s: rest of the freshly faulted target page", what);
	if (!check_byte(g->t, w, g->rbuf + p0, off - p0, 0) ||
	    !check_byte(g->t, w, (const uint8_t *)(rv + 1), p0 + g->pg - off - 8, 0))
		return false;
	snprintf(w, sizeof(w), "%s: bytes after the target page", what);
	return check_byte(g->t, w, g->rbuf + p0 + g->pg, g->len - p0 - g->pg, guard);
}

int op_iter(struct rig *g, enum odpt_vop op, uint64_t i, size_t loff, size_t roff,
	    size_t len, bool whole_mr, bool split)
{
	struct odpt_tctx *t = g->t;
	uint64_t seed = SEED(i, op * 16 + (loff & 15));
	bool sentinel = i & 1;
	uint8_t guard = sentinel ? SENTINEL : 0;
	const unsigned odp = ODPT_MR_ODP | ODPT_MR_IMPLICIT;
	struct odpt_vwr wr = {
		.op = op, .wr_id = i, .nsge = len ? 1 : 0,
		.remote_addr = (uintptr_t)(g->rbuf + roff), .rkey = rig_rkey(g),
	};
	uint64_t *rv = (uint64_t *)(g->rbuf + roff), *lv = (uint64_t *)(g->lbuf + loff);
	uint64_t v0 = pat_u64(seed), v1 = pat_u64(seed + 1), v2 = pat_u64(seed + 2);
	char what[64];
	int ret;

	/* The atomics' assertions need three distinct non-zero values. */
	v0 |= 1;
	v1 |= 1;
	v2 |= 1;
	if (v1 == v0)
		v1 = ~v0 | 1;
	if (v2 == v0 || v2 == v1)
		v2 = (v0 ^ v1 ^ 0x5a5a5a5a5a5a5a5aull) | 1;
	ret = rig_force_faults(g, true, true);
	if (ret)
		return ret;
	/* Pinned buffers cannot be made absent: give them the guard value. */
	if (!sentinel && !(g->lflags & odp))
		memset(g->lbuf, 0, g->len);
	if (!sentinel && !(g->rflags & odp))
		memset(g->rbuf, 0, g->len);
	wr.sge[0] = rig_sge(g, false, loff, len);
	tc_stage(t, "preparing %s iteration %llu", odpt_vop_name(op), (unsigned long long)i);
	switch (op) {
	case ODPT_OP_SEND:
	case ODPT_OP_WRITE:
	case ODPT_OP_FLUSH:
		pat_fill(g->lbuf + loff, len, seed, 0);
		if (sentinel)
			memset(g->rbuf, SENTINEL, g->len);
		ret = rig_xfer(g, op == ODPT_OP_FLUSH ? ODPT_OP_WRITE : op, loff, roff, len, split);
		if (ret)
			return ret;
		if (op != ODPT_OP_FLUSH && !split)
			return check_copy(g, op, loff, roff, len, seed, guard);
		if (op != ODPT_OP_FLUSH && (g->rflags & ODPT_MR_ODP) && (g->lflags & ODPT_MR_ODP) && g->mem == RIG_MEM_ANON)
			tc_device_faults(t, 2 * ((len + g->pg - 1) / g->pg));
		if (op == ODPT_OP_FLUSH) {
			/* FLUSH a range whose ODP mapping was just invalidated. */
			ret = invalidate_keep(g, g->rbuf, rig_span(g));
			if (ret)
				return ret;
			memset(&wr, 0, sizeof(wr));
			wr.op = ODPT_OP_FLUSH;
			wr.wr_id = i;
			wr.remote_addr = (uintptr_t)(g->rbuf + roff);
			wr.rkey = rig_rkey(g);
			wr.flush_len_bytes = len;
			wr.flush_whole_mr = whole_mr;
			ret = rig_op_ok(g, &wr);
			if (ret)
				return ret;
		}
		snprintf(what, sizeof(what), "responder after %s", odpt_vop_name(op));
		if (!rig_check_xfer(g, what, g->rbuf + roff, len, seed, split, guard) ||
		    !check_guards(t, what, g->rbuf, g->len, roff, len, guard))
			return ODPT_FAIL;
		if (op == ODPT_OP_FLUSH && g->mem == RIG_MEM_ANON) {
			long r;

			/* And a FLUSH of pages that are not there at all. */
			tc_stage(t, "dropping the FLUSH target range (MADV_DONTNEED)");
			if (madvise(g->rbuf + roff, len, MADV_DONTNEED))
				return tc_fail(t, "madvise(MADV_DONTNEED): %s", strerror(errno));
			tc_faults_forced(t, len / g->pg);
			wr.wr_id = i | 1ull << 62;
			ret = rig_op_ok(g, &wr);
			if (ret)
				return ret;
			r = resident_pages(g->rbuf + roff, len);
			if (i == 0)
				tc_diag(t, "FLUSH (global) of %zu dropped pages: %ld resident afterwards (a global FLUSH need not touch them)",
					len / g->pg, r);
			if (!check_byte(t, "dropped range after FLUSH", g->rbuf + roff, len, 0))
				return ODPT_FAIL;
		}
		break;
	case ODPT_OP_READ:
		pat_fill(g->rbuf + roff, len, seed, 0);
		if (sentinel)
			memset(g->lbuf, SENTINEL, g->len);
		ret = rig_xfer(g, op, loff, roff, len, split);
		if (ret)
			return ret;
		if (!split)
			return check_copy(g, op, loff, roff, len, seed, guard);
		if ((g->rflags & ODPT_MR_ODP) && (g->lflags & ODPT_MR_ODP) && g->mem == RIG_MEM_ANON)
			tc_device_faults(t, (len + g->pg - 1) / g->pg);
		if (!rig_check_xfer(g, "requester after RDMA_READ", g->lbuf + loff, len, seed, split, guard) ||
		    !check_guards(t, "requester after RDMA_READ", g->lbuf, g->len, loff, len, guard))
			return ODPT_FAIL;
		break;
	case ODPT_OP_CAS:
		/*
		 * Round 1 maps a CPU-written target into the device. Then both
		 * target pages (responder word, requester result) are dropped
		 * right before each post: round 2, compare 0 on the zero-filled
		 * page, must return 0 and store the swap value where the CPU
		 * sees it; a stale device mapping would return round 1's value
		 * and write into the freed page. Round 3, a non-zero (stale)
		 * compare on a dropped page, must return 0 and store nothing.
		 */
		if (sentinel)
			memset(g->rbuf, SENTINEL, g->len);
		*rv = v0;
		wr.sge[0].len_bytes = 8;
		wr.nsge = 1;
		wr.compare_add = v0;
		wr.swap = v1;
		ret = rig_op_ok(g, &wr);
		if (ret)
			return ret;
		tc_stage(t, "validating compare-and-swap (matching compare, resident target)");
		if (*lv != v0 || *rv != v1)
			return tc_fail(t, "CAS(compare=match): returned 0x%llx (want 0x%llx), remote 0x%llx (want 0x%llx)",
				       (unsigned long long)*lv, (unsigned long long)v0,
				       (unsigned long long)*rv, (unsigned long long)v1);
		wr.wr_id = i | 2ull << 60;
		wr.compare_add = 0;
		wr.swap = v2;
		ret = op_on_dropped(g, &wr, rv, lv, "CAS(compare=0)");
		if (ret)
			return ret;
		tc_stage(t, "validating compare-and-swap (compare 0 on a dropped page)");
		if (*lv != 0 || *rv != v2)
			return tc_fail(t, "CAS(compare=0) on a dropped page: returned 0x%llx (want 0: a fresh zero page), remote 0x%llx (want 0x%llx)%s",
				       (unsigned long long)*lv, (unsigned long long)*rv,
				       (unsigned long long)v2,
				       *lv == v1 ? ": the device used the stale mapping of the dropped page" : "");
		if (!check_atomic_page(g, "responder after CAS(compare=0)", rv, guard))
			return ODPT_FAIL;
		wr.wr_id = i | 3ull << 60;
		wr.compare_add = v1;
		wr.swap = v0;
		ret = op_on_dropped(g, &wr, rv, lv, "CAS(compare=stale)");
		if (ret)
			return ret;
		tc_stage(t, "validating compare-and-swap (stale compare on a dropped page)");
		if (*lv != 0 || *rv != 0)
			return tc_fail(t, "CAS(compare=stale) on a dropped page: returned 0x%llx (want 0), remote 0x%llx (want unchanged 0)",
				       (unsigned long long)*lv, (unsigned long long)*rv);
		if (!check_atomic_page(g, "responder after CAS(compare=stale)", rv, guard))
			return ODPT_FAIL;
		break;
	case ODPT_OP_FAA:
		/* As CAS: round 1 resident, round 2 on dropped pages. */
		if (sentinel)
			memset(g->rbuf, SENTINEL, g->len);
		*rv = v0;
		wr.sge[0].len_bytes = 8;
		wr.nsge = 1;
		wr.compare_add = v1;
		ret = rig_op_ok(g, &wr);
		if (ret)
			return ret;
		tc_stage(t, "validating fetch-and-add (resident target)");
		if (*lv != v0 || *rv != v0 + v1)
			return tc_fail(t, "FAA: returned 0x%llx (want 0x%llx), remote 0x%llx (want 0x%llx)",
				       (unsigned long long)*lv, (unsigned long long)v0,
				       (unsigned long long)*rv, (unsigned long long)(v0 + v1));
		wr.wr_id = i | 2ull << 60;
		wr.compare_add = v2;
		ret = op_on_dropped(g, &wr, rv, lv, "FAA");
		if (ret)
			return ret;
		tc_stage(t, "validating fetch-and-add on a dropped page");
		if (*lv != 0 || *rv != v2)
			return tc_fail(t, "FAA on a dropped page: returned 0x%llx (want 0: a fresh zero page), remote 0x%llx (want 0x%llx)%s",
				       (unsigned long long)*lv, (unsigned long long)*rv,
				       (unsigned long long)v2,
				       *lv == v0 + v1 ? ": the device used the stale mapping of the dropped page" : "");
		if (!check_atomic_page(g, "responder after FAA", rv, guard))
			return ODPT_FAIL;
		break;
	case ODPT_OP_ATOMIC_WRITE:
		if (sentinel)
			memset(g->rbuf, SENTINEL, g->len);
		*rv = v0;
		memcpy(wr.atomic_write, &v1, 8);
		wr.nsge = 0;
		ret = rig_op_ok(g, &wr);
		if (ret)
			return ret;
		tc_stage(t, "validating ATOMIC_WRITE (resident target)");
		if (*rv != v1)
			return tc_fail(t, "ATOMIC_WRITE: remote 0x%llx, want 0x%llx",
				       (unsigned long long)*rv, (unsigned long long)v1);
		wr.wr_id = i | 2ull << 60;
		memcpy(wr.atomic_write, &v2, 8);
		ret = op_on_dropped(g, &wr, rv, NULL, "ATOMIC_WRITE");
		if (ret)
			return ret;
		tc_stage(t, "validating ATOMIC_WRITE on a dropped page");
		if (*rv != v2)
			return tc_fail(t, "ATOMIC_WRITE on a dropped page: remote 0x%llx, want 0x%llx%s",
				       (unsigned long long)*rv, (unsigned long long)v2,
				       !*rv ? ": the write went to the dropped page, not to the one the CPU sees" : "");
		if (!check_atomic_page(g, "responder after ATOMIC_WRITE", rv, guard))
			return ODPT_FAIL;
		break;
	}
	return 0;
}

/* ---- families ---------------------------------------------------------------- */

static enum rig_mem variant_mem(int variant)
{
	return variant == V_HUGETLB || variant == V_HUGETLB_NOFLAG ? RIG_MEM_HUGETLB :
	       variant == V_THP ? RIG_MEM_THP : RIG_MEM_ANON;
}

/* RC op, every iteration with forced faults; 2 pages moved per op (bulk
 * ops) or one 8-byte word (atomics), page aligned so no packet crosses a
 * page (the unaligned cases do that). */
int run_rc_op(struct odpt_tctx *t)
{
	enum odpt_vop op = t->c->op;
	int variant = t->c->variant;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	bool huge = variant == V_HUGETLB || variant == V_HUGETLB_NOFLAG || variant == V_THP;
	size_t len = huge ? 2ul << 20 : 4 * pg;
	size_t xfer = huge ? 16 * pg : 2 * pg;
	unsigned flags = variant_mr_flags(variant);
	struct rig g;
	int ret;

	if (op == ODPT_OP_FLUSH)
		flags |= ODPT_MR_FLUSH;
	if (variant == V_THP && thp_unavailable())
		return tc_skip(t, "%s", thp_unavailable());
	ret = rig_setup(&g, t, t->c->variant == V_SRQ ? ODPT_QP_RC_SRQ : ODPT_QP_RC,
			variant_mem(variant), len, flags, flags);
	if (ret)
		goto teardown;
	for (uint64_t i = 0; i < case_iters(t) && !ret; i++) {
		ret = op_iter(&g, op, i, pg, pg, xfer, t->c->flags & CASE_FLUSH_MR,
			      variant != V_MULTI && variant != V_MULTI_PINNED);
		if (!ret)
			tc_iteration_done(t);
	}
	if (!ret && variant == V_THP) {
		long kb = anon_huge_kb(g.rbuf);

		tc_diag(t, "responder AnonHugePages after the last iteration: %ld kB", kb);
		if (kb <= 0)
			ret = tc_fail(t, "THP buffer is not backed by a huge page (AnonHugePages %ld kB): the case tested nothing THP-specific", kb);
	}
teardown:
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}
