// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The suite's catalogue: every case's name, summary, capability
 * precondition and run function, and the table of known kernel bugs. A
 * precondition names exactly what is missing (the cap bit of which
 * transport, or the library call; caps.c), so a SKIP is never silent.
 */
#include <stdio.h>
#include <string.h>

#include "bugmodel.h"
#include "cases.h"

static const char *pre_rc(const struct odpt_vcaps *caps, const struct odpt_case *c,
			  char *buf, int len)
{
	return odpt_case_op_unadvertised(caps, (enum odpt_vop)c->op, c->variant, buf, len);
}

/* Memory cases move data both ways with WRITE and READ. */
static const char *pre_rw(const struct odpt_vcaps *caps, const struct odpt_case *c,
			  char *buf, int len)
{
	return odpt_case_need_bits(caps, ODPT_TR_RC, ODPT_ODP_WRITE | ODPT_ODP_READ, buf, len);
}

static const char *pre_ud(const struct odpt_vcaps *caps, const struct odpt_case *c,
			  char *buf, int len)
{
	return odpt_case_need_bits(caps, ODPT_TR_UD, ODPT_ODP_SEND | ODPT_ODP_RECV, buf, len);
}

static const char *pre_xrc(const struct odpt_vcaps *caps, const struct odpt_case *c,
			   char *buf, int len)
{
	if (!caps->xrc) {
		snprintf(buf, len, "%s: no XRC (IBV_DEVICE_XRC not in device_cap_flags)", caps->driver);
		return buf;
	}
	return odpt_case_need_bits(caps, ODPT_TR_XRC, ODPT_ODP_SEND | ODPT_ODP_SRQ_RECV, buf, len);
}

static const char *pre_prefetch(const struct odpt_vcaps *caps, const struct odpt_case *c,
				char *buf, int len)
{
	if (c->op == ODPT_ADVISE_PREFETCH_NO_FAULT && !caps->lib_advise_no_fault) {
		snprintf(buf, len, "libibverbs %s (build time) has no IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT",
			 ODPT_IBVERBS_VERSION);
		return buf;
	}
	return odpt_case_op_unadvertised(caps, ODPT_OP_WRITE, c->variant, buf, len);
}

#define DEV ODPT_CASE_NEEDS_DEV
/* One RC operation in one variant: run_rc_op() under pre_rc(). */
#define RC(n, s, o, v, f)							\
	{ .name = (n), .summary = (s), .precond = pre_rc, .run = run_rc_op,	\
	  .flags = DEV | (f), .op = (o), .variant = (v) }

const struct odpt_case odpt_suite_cases[] = {
	/* Every RC operation, faults forced on both sides every iteration. */
	RC("rc_send_recv", "RC SEND/RECV between two ODP MRs", ODPT_OP_SEND, V_ODP, 0),
	RC("rc_write", "RC RDMA WRITE into an ODP MR", ODPT_OP_WRITE, V_ODP, 0),
	RC("rc_read", "RC RDMA READ from an ODP MR", ODPT_OP_READ, V_ODP, 0),
	RC("rc_cas", "RC compare-and-swap (matching and stale compare)", ODPT_OP_CAS, V_ODP, 0),
	RC("rc_faa", "RC fetch-and-add", ODPT_OP_FAA, V_ODP, 0),
	RC("rc_atomic_write", "RC ATOMIC_WRITE (8 bytes, qp_ex)", ODPT_OP_ATOMIC_WRITE, V_ODP, 0),
	RC("rc_flush_range", "RC FLUSH (global, range level) after a WRITE", ODPT_OP_FLUSH, V_ODP, 0),
	RC("rc_flush_mr", "RC FLUSH (global, MR level) after a WRITE", ODPT_OP_FLUSH, V_ODP, CASE_FLUSH_MR),
	RC("rc_srq_send_recv", "RC SEND into an SRQ receive (ODP SRQ_RECV)", ODPT_OP_SEND, V_SRQ, 0),
	{ .name = "ud_send_recv",
	  .summary = "UD SEND/RECV with GRH between ODP MRs",
	  .precond = pre_ud, .run = run_ud_send,
	  .flags = DEV },
	{ .name = "xrc_send_recv",
	  .summary = "XRC SEND into an XRC SRQ, ODP MRs",
	  .precond = pre_xrc, .run = run_xrc_send,
	  .flags = DEV },
	{ .name = "rc_send_mixed_sge",
	  .summary = "SEND gathering from ODP + pinned, scattering into ODP + pinned",
	  .precond = pre_rc, .run = run_mixed_sge,
	  .flags = DEV, .op = ODPT_OP_SEND },
	{ .name = "rc_write_mixed_sge",
	  .summary = "WRITE gathering from an ODP and a pinned SGE",
	  .precond = pre_rc, .run = run_mixed_sge,
	  .flags = DEV, .op = ODPT_OP_WRITE },
	{ .name = "rc_read_mixed_sge",
	  .summary = "READ scattering into an ODP and a pinned SGE",
	  .precond = pre_rc, .run = run_mixed_sge,
	  .flags = DEV, .op = ODPT_OP_READ },
	/* Huge pages. */
	RC("rc_write_hugetlb", "WRITE into MAP_HUGETLB memory, IBV_ACCESS_HUGETLB", ODPT_OP_WRITE, V_HUGETLB, CASE_HEAVY),
	RC("rc_read_hugetlb", "READ from MAP_HUGETLB memory, IBV_ACCESS_HUGETLB", ODPT_OP_READ, V_HUGETLB, CASE_HEAVY),
	RC("rc_send_hugetlb", "SEND/RECV with MAP_HUGETLB memory", ODPT_OP_SEND, V_HUGETLB, CASE_HEAVY),
	RC("rc_write_hugetlb_noflag", "WRITE into MAP_HUGETLB memory, ODP MR without IBV_ACCESS_HUGETLB",
	   ODPT_OP_WRITE, V_HUGETLB_NOFLAG, CASE_HEAVY),
	RC("rc_read_hugetlb_noflag", "READ from MAP_HUGETLB memory, ODP MR without IBV_ACCESS_HUGETLB",
	   ODPT_OP_READ, V_HUGETLB_NOFLAG, CASE_HEAVY),
	RC("rc_write_thp", "WRITE into THP-backed memory", ODPT_OP_WRITE, V_THP, CASE_HEAVY),
	RC("rc_read_thp", "READ from THP-backed memory", ODPT_OP_READ, V_THP, CASE_HEAVY),
	/* Implicit ODP, every op. */
	RC("implicit_send_recv", "SEND/RECV through an implicit ODP MR", ODPT_OP_SEND, V_IMPLICIT, 0),
	RC("implicit_write", "WRITE through an implicit ODP MR", ODPT_OP_WRITE, V_IMPLICIT, 0),
	RC("implicit_read", "READ through an implicit ODP MR", ODPT_OP_READ, V_IMPLICIT, 0),
	RC("implicit_cas", "compare-and-swap through an implicit ODP MR", ODPT_OP_CAS, V_IMPLICIT, 0),
	RC("implicit_faa", "fetch-and-add through an implicit ODP MR", ODPT_OP_FAA, V_IMPLICIT, 0),
	RC("implicit_atomic_write", "ATOMIC_WRITE through an implicit ODP MR", ODPT_OP_ATOMIC_WRITE, V_IMPLICIT, 0),
	RC("implicit_flush", "FLUSH through an implicit ODP MR", ODPT_OP_FLUSH, V_IMPLICIT, 0),
	/* ibv_reg_mr_ex. */
	RC("rc_write_mr_ex", "WRITE into an ODP MR registered with ibv_reg_mr_ex", ODPT_OP_WRITE, V_MR_EX, 0),
	RC("rc_flush_mr_ex", "FLUSH on an ODP MR registered with ibv_reg_mr_ex", ODPT_OP_FLUSH, V_MR_EX, 0),
	/* Prefetch. */
	{ .name = "prefetch_sync",
	  .summary = "advise_mr PREFETCH with FLUSH: all pages resident, then WRITE",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV, .op = ODPT_ADVISE_PREFETCH },
	{ .name = "prefetch_async",
	  .summary = "advise_mr PREFETCH async: pages become resident",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV | CASE_ASYNC, .op = ODPT_ADVISE_PREFETCH },
	{ .name = "prefetch_write_sync",
	  .summary = "advise_mr PREFETCH_WRITE with FLUSH",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV, .op = ODPT_ADVISE_PREFETCH_WRITE },
	{ .name = "prefetch_write_async",
	  .summary = "advise_mr PREFETCH_WRITE async",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV | CASE_ASYNC, .op = ODPT_ADVISE_PREFETCH_WRITE },
	{ .name = "prefetch_no_fault_sync",
	  .summary = "advise_mr PREFETCH_NO_FAULT with FLUSH faults nothing in (mincore)",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV, .op = ODPT_ADVISE_PREFETCH_NO_FAULT },
	{ .name = "prefetch_no_fault_async",
	  .summary = "advise_mr PREFETCH_NO_FAULT async faults nothing in (mincore)",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV | CASE_ASYNC, .op = ODPT_ADVISE_PREFETCH_NO_FAULT },
	{ .name = "implicit_prefetch_write",
	  .summary = "advise_mr PREFETCH_WRITE on an implicit ODP MR",
	  .precond = pre_prefetch, .run = run_prefetch,
	  .flags = DEV, .op = ODPT_ADVISE_PREFETCH_WRITE, .variant = V_IMPLICIT },
	/* Shapes. */
	{ .name = "rc_write_sparse_gt_ram",
	  .summary = "WRITE into a sparse ODP MR larger than RAM, sized mod 4 GiB in [2, 4) GiB: only touched pages fault",
	  .precond = pre_rw, .run = run_sparse,
	  .flags = DEV | CASE_HEAVY },
	RC("rc_write_multi_packet", "one page-aligned WRITE of 2 pages: several packets per page",
	   ODPT_OP_WRITE, V_MULTI, 0),
	RC("rc_read_multi_packet", "one page-aligned READ of 2 pages: several packets per page",
	   ODPT_OP_READ, V_MULTI, 0),
	RC("rc_send_multi_packet", "one page-aligned SEND of 2 pages: several packets per page",
	   ODPT_OP_SEND, V_MULTI, 0),
	RC("rc_write_multi_packet_pinned", "control: the same WRITE between pinned MRs",
	   ODPT_OP_WRITE, V_MULTI_PINNED, 0),
	RC("rc_read_multi_packet_pinned", "control: the same READ between pinned MRs",
	   ODPT_OP_READ, V_MULTI_PINNED, 0),
	RC("rc_send_multi_packet_pinned", "control: the same SEND between pinned MRs",
	   ODPT_OP_SEND, V_MULTI_PINNED, 0),
	{ .name = "rc_write_unaligned",
	  .summary = "WRITE with unaligned offsets/lengths crossing pages (ODP)",
	  .precond = pre_rc, .run = run_unaligned,
	  .flags = DEV, .op = ODPT_OP_WRITE, .variant = V_ODP },
	{ .name = "rc_read_unaligned",
	  .summary = "READ with unaligned offsets/lengths crossing pages (ODP)",
	  .precond = pre_rc, .run = run_unaligned,
	  .flags = DEV, .op = ODPT_OP_READ, .variant = V_ODP },
	{ .name = "rc_send_unaligned",
	  .summary = "SEND with unaligned offsets/lengths crossing pages (ODP)",
	  .precond = pre_rc, .run = run_unaligned,
	  .flags = DEV, .op = ODPT_OP_SEND, .variant = V_ODP },
	{ .name = "rc_write_unaligned_pinned",
	  .summary = "control: the same unaligned WRITEs between pinned MRs",
	  .precond = pre_rc, .run = run_unaligned,
	  .flags = DEV, .op = ODPT_OP_WRITE, .variant = V_PINNED },
	{ .name = "rc_read_unaligned_pinned",
	  .summary = "control: the same unaligned READs between pinned MRs",
	  .precond = pre_rc, .run = run_unaligned,
	  .flags = DEV, .op = ODPT_OP_READ, .variant = V_PINNED },
	{ .name = "rc_send_unaligned_pinned",
	  .summary = "control: the same unaligned SENDs between pinned MRs",
	  .precond = pre_rc, .run = run_unaligned,
	  .flags = DEV, .op = ODPT_OP_SEND, .variant = V_PINNED },
	{ .name = "rc_write_zero_len",
	  .summary = "zero-length WRITE on absent ODP pages: success, nothing faults",
	  .precond = pre_rc, .run = run_zero_len,
	  .flags = DEV, .op = ODPT_OP_WRITE },
	{ .name = "rc_read_zero_len",
	  .summary = "zero-length READ on absent ODP pages",
	  .precond = pre_rc, .run = run_zero_len,
	  .flags = DEV, .op = ODPT_OP_READ },
	{ .name = "rc_send_zero_len",
	  .summary = "zero-length SEND into an absent ODP receive buffer",
	  .precond = pre_rc, .run = run_zero_len,
	  .flags = DEV, .op = ODPT_OP_SEND },
	{ .name = "rc_many_mrs_one_buffer",
	  .summary = "32 ODP MRs over one buffer, one invalidation hits all",
	  .precond = pre_rw, .run = run_many_mrs,
	  .flags = DEV | CASE_HEAVY },
	{ .name = "odp_counters_netlink",
	  .summary = "RDMA netlink finds the case's ODP MRs (lkey, rkey, length, PID); page_faults moves where counted",
	  .precond = pre_rw, .run = run_odp_counters_netlink,
	  .flags = DEV },
	/* Invalidation. */
	{ .name = "inval_munmap",
	  .summary = "WRITE to a munmapped page in the MR: remote access error",
	  .precond = pre_rw, .run = run_inval_munmap,
	  .flags = DEV | CASE_HEAVY },
	{ .name = "inval_munmap_remap",
	  .summary = "munmap + mmap at the same address: new page, never stale data",
	  .precond = pre_rw, .run = run_inval_remap,
	  .flags = DEV },
	{ .name = "inval_mremap",
	  .summary = "mremap moves the pages: old range errors, data intact, moved back works",
	  .precond = pre_rw, .run = run_inval_mremap,
	  .flags = DEV | CASE_HEAVY },
	{ .name = "inval_mprotect_ro",
	  .summary = "mprotect read-only: remote WRITE fails cleanly, READ works",
	  .precond = pre_rw, .run = run_inval_mprotect,
	  .flags = DEV | CASE_HEAVY },
	{ .name = "inval_fork_cow",
	  .summary = "fork: WRITE after fork does not leak into the child's copy",
	  .precond = pre_rw, .run = run_inval_fork,
	  .flags = DEV },
	{ .name = "inval_fork_dontfork",
	  .summary = "fork with MADV_DONTFORK: no mapping in the child, WRITE lands",
	  .precond = pre_rw, .run = run_inval_fork,
	  .flags = DEV, .op = 0, .variant = V_DONTFORK },
	{ .name = "inval_madv_free",
	  .summary = "MADV_FREE, WRITE, reclaim: device-written data survives",
	  .precond = pre_rw, .run = run_inval_madv_free,
	  .flags = DEV },
	{ .name = "inval_madv_free_cpu_control",
	  .summary = "control without a device: MADV_PAGEOUT discards untouched lazy-free pages, keeps CPU-written ones",
	  .precond = NULL, .run = run_madv_free_cpu,
	  .flags = 0 },
	{ .name = "inval_migrate_pages",
	  .summary = "move_pages to another NUMA node: the device follows",
	  .precond = pre_rw, .run = run_inval_migrate,
	  .flags = DEV },
	{ .name = "inval_thp_split",
	  .summary = "THP split by partial MADV_DONTNEED under an ODP MR",
	  .precond = pre_rw, .run = run_inval_thp_split,
	  .flags = DEV | CASE_HEAVY },
	{ .name = "inval_race_dontneed_write",
	  .summary = "MADV_DONTNEED racing WRITEs: never a stale byte",
	  .precond = pre_rw, .run = run_inval_race,
	  .flags = DEV | CASE_HEAVY },
};
const int odpt_suite_ncases = sizeof(odpt_suite_cases) / sizeof(odpt_suite_cases[0]);

/*
 * Known kernel bugs. A failure of a listed case on a listed driver and
 * kernel becomes XFAIL only when the case recorded the bug's pattern key
 * (the damage it saw is exactly the model's prediction, bugmodel.h, and
 * nothing else failed) and the control passed in the same run; a pass
 * becomes XPASS (a failure), so that whoever sees it updates this table.
 * Only versions where the bug was shown are listed.
 */
const struct odpt_known_bug odpt_known_bugs[] = {
	{
		.driver = "rxe",
		.kver_min = "7.3",
		.kver_end = "7.4",
		.tests = "rc_*_unaligned,rc_*_multi_packet",
		.pattern = BUG_RXE_ODP_COPY,
		.control = "*_pinned",
		.what = "rxe ODP copies crossing a page boundary are wrong: __rxe_odp_mr_copy() does not add the in-page offset to the kmapped address and does not advance the caller's buffer per page",
		.evidence = "drivers/infiniband/sw/rxe/rxe_odp.c; shown on 7.3.4+deb13-amd64 with a standalone verbs program (300-byte WRITE at page offset 3996 completes but lands wrong), passes with both lines corrected (fix: kernel-patches/0001-*.patch); docs/coverage.md",
	},
	{
		.driver = "rxe",
		.kver_min = "7.3",
		.kver_end = "7.4",
		.tests = "inval_madv_free",
		.pattern = BUG_RXE_ODP_NO_DIRTY,
		.control = "inval_madv_free_cpu_control",
		.what = "rxe ODP never marks the pages it writes dirty: its pfns are never HMM_PFN_DMA_MAPPED (virtual DMA), so ib_umem_odp_unmap_dma_pages() skips set_page_dirty() on invalidation and reclaim discards MADV_FREE pages holding device-written data",
		.evidence = "drivers/infiniband/core/umem_odp.c ib_umem_odp_unmap_dma_pages(); on 7.3.4+deb13-amd64 the written bytes read back as zeros while inval_madv_free_cpu_control (same steps, CPU write) keeps them; fix: kernel-patches/0003-*.patch",
	},
	{
		.driver = "rxe",
		.kver_min = "7.3",
		.kver_end = "7.4",
		.tests = "rc_write_sparse_gt_ram",
		.pattern = BUG_RXE_ODP_INT_LEN,
		.what = "rxe cannot register an explicit ODP MR whose length mod 4 GiB is 2 GiB or more although max_mr_size is larger: rxe_odp_init_pages() hands the 64-bit MR length to rxe_odp_do_pagefault_and_lock() as an int byte count",
		.evidence = "drivers/infiniband/sw/rxe/rxe_odp.c; on 7.3.4+deb13-amd64 2^31 - 4096 bytes register, 2^31 and 2^32 - 4096 fail with EINVAL, 2^32 + 4096 registers (the int wraps); see the case's diagnostics; fix: kernel-patches/0002-*.patch",
	},
};
const int odpt_nknown_bugs = sizeof(odpt_known_bugs) / sizeof(odpt_known_bugs[0]);
