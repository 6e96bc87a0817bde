// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Pages the device wrote must survive reclaim. A MADV_FREE page is clean:
 * reclaim may drop it and hand back zeros, unless something marked it dirty
 * again. The CPU's page tables never see a device write, so the mirror has
 * to mark the page dirty when a device-writable mapping of it goes (UNMAP,
 * or the invalidation reclaim itself sends), as umem_odp does for mlx5; the
 * same bug in rxe's ODP path is what the suite's inval_madv_free reports.
 * Pages the device did not write are the control: reclaim must drop those,
 * or the test proved nothing (SKIP).
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define DIRTY_PAGES	16
#define DIRTY_SAMPLE	4	/* pages VERIFY_WRITE writes per half */

static bool page_has_pattern(char *page, uint64_t seed)
{
	uint64_t *w = (uint64_t *)(void *)page;

	for (size_t j = 0; j < sd_page / 8; j++)
		if (w[j] != (seed ^ ((uintptr_t)page + 8 * j)))
			return false;
	return true;
}

static bool page_is(const char *page, char c)
{
	for (size_t j = 0; j < sd_page; j++)
		if (page[j] != c)
			return false;
	return true;
}

/*
 * MADV_FREE moves pages to the lazy-free list through a per-CPU batch, which
 * MADV_PAGEOUT drains on its own CPU only: stay on one CPU, or reclaim finds
 * the pages still swap-backed and (no swap in the lab) keeps them all.
 */
static void pin_to_this_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	KT_ASSERT(cpu >= 0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	KT_ASSERT(sched_setaffinity(0, sizeof(set), &set) == 0);
}

KT_TEST_MODES(dirty_madv_free_device_write)
{
	const size_t n = DIRTY_PAGES, half = n / 2 * sd_page;
	const uint64_t seed = 0xd1b7d1b7c0ffee11ull;
	size_t written = 0, kept = 0, dropped = 0, other = 0;
	uint64_t dirtied0 = 0, dirtied1 = 0;
	int dirtied_err;
	bool wrote[DIRTY_PAGES];
	struct odpt_hmm_verify v;
	char *mem;
	int fd;

	if (!sd_env.info.can_verify)
		kt_skip("device has no DMA engine (faux): nothing but the device can write behind the CPU");
	pin_to_this_cpu();
	mem = sd_mmap_or_fail(n * sd_page, PROT_READ | PROT_WRITE);
	/* 4 KiB pages: reclaim of a lazily freed THP splits it first. */
	if (madvise(mem, n * sd_page, MADV_NOHUGEPAGE))
		KT_FAIL("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	memset(mem, 0x11, n * sd_page);
	kt_stage("MADV_FREE: the pages become clean");
	if (madvise(mem, n * sd_page, MADV_FREE))
		KT_FAIL("madvise(MADV_FREE): %s", strerror(errno));
	fd = sd_mirror_or_fail(mem, n * sd_page, ctx->mode->value);
	/* A write MAP of present writable PTEs faults nothing: the CPU's view
	 * stays clean. */
	KT_ASSERT_OK(sd_map(fd, mem, n * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	/* Asserted last: the data is what matters, the counter explains it. */
	dirtied_err = sd_counter_u64("dirtied_pages", &dirtied0);

	kt_stage("the device writes into both halves");
	KT_ASSERT_OK(sd_verify(fd, mem, half, ODPT_HMM_VERIFY_WRITE, DIRTY_SAMPLE, seed, &v));
	KT_ASSERT_EQ(v.pages_matched, DIRTY_SAMPLE);
	KT_ASSERT_OK(sd_verify(fd, mem + half, half, ODPT_HMM_VERIFY_WRITE, DIRTY_SAMPLE, seed,
			       &v));
	KT_ASSERT_EQ(v.pages_matched, DIRTY_SAMPLE);
	for (size_t p = 0; p < n; p++) {
		wrote[p] = page_has_pattern(sd_pg(mem, p), seed);
		written += wrote[p];
	}
	KT_ASSERT_EQ(written, 2 * DIRTY_SAMPLE);

	/* The first half's mappings go by UNMAP (mode sg: the whole table),
	 * the rest by the invalidation reclaim sends. */
	kt_stage("UNMAP of the first half");
	KT_ASSERT_OK(sd_unmap(fd, mem, half, NULL));
	kt_stage("MADV_PAGEOUT of everything");
	if (madvise(mem, n * sd_page, MADV_PAGEOUT))
		kt_skip("madvise(MADV_PAGEOUT): %s: reclaim cannot be forced here", strerror(errno));
	if (!dirtied_err)
		dirtied_err = sd_counter_u64("dirtied_pages", &dirtied1);

	for (size_t p = 0; p < n; p++) {
		char *pg = sd_pg(mem, p);

		if (wrote[p]) {
			if (page_has_pattern(pg, seed))
				kept++;
			else
				kt_diag("page %zu: the device's data is gone after reclaim (%s)", p,
					page_is(pg, 0) ? "zeros: dropped as clean" : "other bytes");
		} else if (page_is(pg, 0)) {
			dropped++;
		} else if (!page_is(pg, 0x11)) {
			other++;
		}
	}
	kt_diag("%s: %zu device-written pages kept of %zu; %zu of %zu control pages dropped; "
		"dirtied_pages +%llu", ctx->mode->name, kept, written, dropped, n - written,
		(unsigned long long)(dirtied1 - dirtied0));
	KT_ASSERT_EQ(other, 0);
	KT_ASSERT_EQ(kept, written);
	/* Every page the device wrote went through a dirtying unmap. */
	KT_ASSERT_ERR(dirtied_err, 0);
	KT_ASSERT_GE(dirtied1 - dirtied0, written);
	close(fd);
	if (!dropped)
		kt_skip("reclaim dropped none of the %zu clean MADV_FREE control pages: no proof "
			"that it would have dropped the device-written ones", n - written);
}
