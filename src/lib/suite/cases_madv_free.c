// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * MADV_FREE under an ODP MR: a page the device wrote after MADV_FREE is
 * dirty and must survive reclaim (MADV_PAGEOUT), with the rxe no-dirty
 * bug's damage told apart (bugmodel.h); and its control without a device,
 * which shows that reclaim discards untouched lazily freed pages and keeps
 * CPU-written ones. Both SKIP, saying why, when reclaim cannot be forced.
 */
#define _GNU_SOURCE   /* sched_setaffinity, CPU_SET */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/smaps.h"

#include "bugmodel.h"
#include "cases.h"
#include "rig.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/*
 * MADV_FREE, then an RDMA WRITE, then reclaim (MADV_PAGEOUT): the device
 * wrote the page, so it is dirty and must not be discarded as a clean lazy
 * free page. The data written must survive.
 */
/*
 * MADV_FREE queues pages on a per-CPU batch that MADV_PAGEOUT drains only
 * on its own CPU: keep the case on one CPU so reclaim is deterministic.
 */
static void pin_to_this_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Whether MADV_PAGEOUT reclaims untouched lazily freed pages right now. */
static bool lazyfree_reclaims(uint8_t *ctl, size_t len)
{
	memset(ctl, 0x5a, len);
	if (madvise(ctl, len, MADV_FREE) || madvise(ctl, len, MADV_PAGEOUT))
		return false;
	return resident_pages(ctl, len) == 0;
}

int run_inval_madv_free(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 8 * pg;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, ODPT_MR_ODP, ODPT_MR_ODP);
	long lazy, after;
	size_t lost;
	uint8_t *ctl = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	pin_to_this_cpu();
	if (!ret && ctl == MAP_FAILED)
		ret = tc_fail(t, "mmap: %s", strerror(errno));

	RUN_ITERS(t, {
		pat_fill(g.rbuf, len, SEED(i, 1), 0);
		ret = rig_read_check(&g, 0, len, SEED(i, 1), "READ before MADV_FREE");
		if (ret)
			break;
		tc_stage(t, "madvise(MADV_FREE)");
		if (madvise(g.rbuf, len, MADV_FREE)) {
			ret = tc_fail(t, "madvise(MADV_FREE): %s", strerror(errno));
			break;
		}
		tc_faults_forced(t, len / pg);
		ret = rig_write_check(&g, 0, len, SEED(i, 2), "WRITE after MADV_FREE");
		if (ret)
			break;
		tc_stage(t, "madvise(MADV_PAGEOUT) to reclaim lazily freed pages");
		/* Without working reclaim the case proves nothing. */
		if (!lazyfree_reclaims(ctl, len) && !lazyfree_reclaims(ctl, len)) {
			ret = tc_skip(t, "MADV_PAGEOUT does not reclaim untouched lazily freed pages here: the case would prove nothing");
			break;
		}
		lazy = odpt_smaps_kb(g.rbuf, "LazyFree");
		if (lazy <= 0) {
			ret = tc_skip(t, "no lazily freed pages before reclaim (smaps LazyFree %ld kB after MADV_FREE and the WRITE): the case would prove nothing",
				      lazy);
			break;
		}
		if (madvise(g.rbuf, len, MADV_PAGEOUT)) {
			ret = tc_skip(t, "madvise(MADV_PAGEOUT) of the responder buffer: %s: reclaim cannot be forced, the case would prove nothing",
				      strerror(errno));
			break;
		}
		after = odpt_smaps_kb(g.rbuf, "LazyFree");
		if (after != 0) {
			ret = tc_skip(t, "reclaim did not process the lazily freed pages (smaps LazyFree %ld kB before MADV_PAGEOUT, %ld kB after): the case would prove nothing",
				      lazy, after);
			break;
		}
		if (i == 0)
			tc_diag(t, "LazyFree %ld kB before MADV_PAGEOUT, 0 after; resident afterwards: %ld of %zu pages",
				lazy, resident_pages(g.rbuf, len), len / pg);
		/* Each page: the device's bytes, or (the known rxe bug) discarded. */
		tc_stage(t, "validating device-written pages after MADV_FREE + reclaim");
		lost = 0;
		for (size_t k = 0; k < len && !ret; k += pg) {
			size_t c = rig_chunk(&g);
			bool ok = true, zero = true;

			for (size_t b = 0; b < c; b++)
				ok &= g.rbuf[k + b] == pat_byte(SEED(i, 2), k + b);
			for (size_t b = 0; b < pg; b++)
				zero &= !g.rbuf[k + b];
			if (!ok && zero)
				lost++;
			else if (!ok)
				ret = tc_fail(t, "page %zu after MADV_FREE + reclaim: neither the device-written bytes nor a discarded (zero) page", k / pg);
		}
		if (ret)
			break;
		if (lost)
			tc_bug_pattern(t, BUG_RXE_ODP_NO_DIRTY,
				       "device-written pages after MADV_FREE + reclaim: %zu of %zu discarded (all zero), the rest intact",
				       lost, len / pg);
		else
			ret = rig_read_check(&g, 0, len, SEED(i, 2), "RDMA READ after reclaim");
	});
	if (ctl != MAP_FAILED)
		munmap(ctl, len);
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/*
 * Control for inval_madv_free, no device involved: MADV_PAGEOUT must
 * discard lazily freed pages nobody wrote (else the ODP case proves
 * nothing) and keep those the CPU wrote after MADV_FREE.
 */
int run_madv_free_cpu(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 8 * pg;
	uint8_t *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret = 0;

	if (b == MAP_FAILED)
		return tc_fail(t, "mmap: %s", strerror(errno));
	pin_to_this_cpu();
	RUN_ITERS(t, {
		tc_stage(t, "MADV_FREE + MADV_PAGEOUT of untouched lazy-free pages");
		pat_fill(b, len, SEED(i, 1), 0);
		if (madvise(b, len, MADV_FREE) || madvise(b, len, MADV_PAGEOUT)) {
			ret = tc_skip(t, "MADV_FREE/MADV_PAGEOUT: %s", strerror(errno));
			break;
		}
		if (resident_pages(b, len) != 0) {
			ret = tc_skip(t, "MADV_PAGEOUT did not reclaim lazily freed pages (%ld resident): reclaim cannot be forced here",
				      resident_pages(b, len));
			break;
		}
		if (!check_byte(t, "discarded lazy-free pages", b, len, 0)) {
			ret = ODPT_FAIL;
			break;
		}
		tc_stage(t, "MADV_FREE, CPU write, MADV_PAGEOUT");
		pat_fill(b, len, SEED(i, 2), 0);
		if (madvise(b, len, MADV_FREE)) {
			ret = tc_fail(t, "MADV_FREE: %s", strerror(errno));
			break;
		}
		pat_fill(b, len, SEED(i, 3), 0);
		if (madvise(b, len, MADV_PAGEOUT)) {
			ret = tc_fail(t, "MADV_PAGEOUT: %s", strerror(errno));
			break;
		}
		if (!check_pat(t, "CPU-written pages after MADV_FREE + reclaim", b, len, SEED(i, 3), 0))
			ret = ODPT_FAIL;
	});
	munmap(b, len);
	return ret ? ret : ODPT_PASS;
}
