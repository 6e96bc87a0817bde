// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Suite cases where the memory under an ODP MR changes: munmap, munmap +
 * mmap at the same address, mremap, mprotect to read-only, fork with and
 * without MADV_DONTFORK, MADV_FREE followed by reclaim, page migration,
 * THP split and MADV_DONTNEED racing RDMA WRITEs; plus a sparse MR larger
 * than RAM, many MRs over one buffer, and prefetch (ibv_advise_mr). Each
 * asserts the exact outcome: the data, the completion status, or the
 * residency that mincore() reports.
 */
#define _GNU_SOURCE   /* mremap, MREMAP_FIXED */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpt/smaps.h"

#include "bugmodel.h"
#include "cases.h"
#include "rig.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE (1 << 1)
#endif

static struct odpt_vwr wr_to(const struct rig *g, enum odpt_vop op, size_t loff,
			     size_t roff, size_t len)
{
	struct odpt_vwr wr = {
		.op = op, .nsge = 1,
		.remote_addr = (uintptr_t)(g->rbuf + roff), .rkey = rig_rkey(g),
	};

	wr.sge[0].addr = (uintptr_t)(g->lbuf + loff);
	wr.sge[0].len_bytes = (uint32_t)len;
	wr.sge[0].lkey = rig_lkey(g);
	return wr;
}

/* A WRITE that must fail with a remote access error; QPs reset after. */
static int expect_rem_access(struct rig *g, const struct odpt_vwr *wr, const char *why)
{
	struct odpt_vwc wc;
	int ret = rig_op(g, wr, &wc);

	if (ret)
		return ret;
	if (wc.status != odpt_wc_status_rem_access())
		return tc_fail(g->t, "%s %s: completion status %d (%s), want remote access error",
			       odpt_vop_name(wr->op), why, wc.status, wc.status_str);
	return rig_reset(g);
}

/* WRITE/READ page by page (rig_xfer split mode) and check every moved byte. */
static int write_and_check(struct rig *g, size_t off, size_t len, uint64_t seed,
			   const char *what)
{
	int ret;

	pat_fill(g->lbuf + off, len, seed, 0);
	ret = rig_xfer(g, ODPT_OP_WRITE, off, off, len, true);
	if (ret)
		return ret;
	return rig_check_xfer(g, what, g->rbuf + off, len, seed, true, -1) ? 0 : ODPT_FAIL;
}

static int read_and_check(struct rig *g, size_t off, size_t len, uint64_t seed,
			  const char *what)
{
	int ret;

	memset(g->lbuf + off, 0, len);
	ret = rig_xfer(g, ODPT_OP_READ, off, off, len, true);
	if (ret)
		return ret;
	return rig_check_xfer(g, what, g->lbuf + off, len, seed, true, 0) ? 0 : ODPT_FAIL;
}

#define RUN_ITERS(t, ...)							\
	for (uint64_t i = 0; i < case_iters(t) && !ret; i++) {			\
		__VA_ARGS__;							\
		if (!ret)							\
			tc_iteration_done(t);					\
	}

/* munmap of a page inside the MR: WRITE to it is a remote access error,
 * the rest of the MR keeps working. */
int run_inval_munmap(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 4 * pg, ODPT_MR_ODP, ODPT_MR_ODP);

	RUN_ITERS(t, {
		struct odpt_vwr wr = wr_to(&g, ODPT_OP_WRITE, pg, pg, pg);

		ret = rig_force_faults(&g, true, true);
		if (!ret)
			ret = write_and_check(&g, pg, pg, SEED(i, 1), "page before munmap");
		if (ret)
			break;
		tc_stage(t, "munmap of responder page 1");
		if (munmap(g.rbuf + pg, pg)) {
			ret = tc_fail(t, "munmap: %s", strerror(errno));
			break;
		}
		ret = expect_rem_access(&g, &wr, "to a munmapped page");
		if (!ret)
			ret = write_and_check(&g, 2 * pg, pg, SEED(i, 2), "page next to the hole");
		tc_stage(t, "mapping the hole again");
		if (mmap(g.rbuf + pg, pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && !ret)
			ret = tc_fail(t, "mmap MAP_FIXED: %s", strerror(errno));
	});
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* munmap + mmap(MAP_FIXED) at the same address: READ returns the new
 * page's data (never the old one), WRITE lands in the new page. */
int run_inval_remap(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 4 * pg, ODPT_MR_ODP, ODPT_MR_ODP);

	RUN_ITERS(t, {
		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		pat_fill(g.rbuf + pg, 2 * pg, SEED(i, 1), 0);
		ret = read_and_check(&g, pg, 2 * pg, SEED(i, 1), "old pages");
		if (ret)
			break;
		tc_stage(t, "munmap + mmap(MAP_FIXED) of responder pages 1-2");
		if (munmap(g.rbuf + pg, 2 * pg) ||
		    mmap(g.rbuf + pg, 2 * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
			ret = tc_fail(t, "munmap/mmap: %s", strerror(errno));
			break;
		}
		pat_fill(g.rbuf + pg, 2 * pg, SEED(i, 2), 0);
		ret = read_and_check(&g, pg, 2 * pg, SEED(i, 2), "RDMA READ after re-mmap (stale data?)");
		if (!ret)
			ret = write_and_check(&g, pg, 2 * pg, SEED(i, 3), "RDMA WRITE into the new pages");
	});
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* mremap moves the pages away: the old range is a remote access error, the
 * moved data is intact; moved back, the MR works again. */
int run_inval_mremap(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 4 * pg;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, ODPT_MR_ODP, ODPT_MR_ODP);
	uint8_t *other = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!ret && other == MAP_FAILED)
		ret = tc_fail(t, "mmap: %s", strerror(errno));
	RUN_ITERS(t, {
		struct odpt_vwr wr = wr_to(&g, ODPT_OP_WRITE, 0, 0, len);

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		pat_fill(g.rbuf, len, SEED(i, 1), 0);
		ret = read_and_check(&g, 0, len, SEED(i, 1), "before mremap");
		if (ret)
			break;
		tc_stage(t, "mremap responder buffer away");
		if (mremap(g.rbuf, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, other) == MAP_FAILED) {
			ret = tc_fail(t, "mremap away: %s", strerror(errno));
			break;
		}
		pat_fill(g.lbuf, len, SEED(i, 2), 0);
		ret = expect_rem_access(&g, &wr, "to the range mremap moved away");
		if (!ret && !check_pat(t, "moved pages (the failed WRITE must not reach them)",
				       other, len, SEED(i, 1), 0))
			ret = ODPT_FAIL;
		tc_stage(t, "mremap responder buffer back");
		if (mremap(other, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, g.rbuf) == MAP_FAILED) {
			ret = ret ? ret : tc_fail(t, "mremap back: %s", strerror(errno));
			break;
		}
		/* mremap left 'other' unmapped; reserve it again. */
		if (mmap(other, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			ret = ret ? ret : tc_fail(t, "mmap: %s", strerror(errno));
		if (!ret)
			ret = read_and_check(&g, 0, len, SEED(i, 1), "RDMA READ after mremap back");
		if (!ret)
			ret = write_and_check(&g, 0, len, SEED(i, 3), "RDMA WRITE after mremap back");
	});
	if (other != MAP_FAILED)
		munmap(other, len);
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* mprotect(PROT_READ): a remote WRITE fails cleanly and changes nothing,
 * a remote READ still works; PROT_READ|PROT_WRITE restores writes. */
int run_inval_mprotect(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 4 * pg;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, ODPT_MR_ODP, ODPT_MR_ODP);

	RUN_ITERS(t, {
		struct odpt_vwr wr = wr_to(&g, ODPT_OP_WRITE, 0, 0, len);

		ret = rig_force_faults(&g, true, true);
		if (!ret)
			ret = write_and_check(&g, 0, len, SEED(i, 1), "WRITE before mprotect");
		if (ret)
			break;
		tc_stage(t, "mprotect(PROT_READ) of the responder buffer");
		if (mprotect(g.rbuf, len, PROT_READ)) {
			ret = tc_fail(t, "mprotect: %s", strerror(errno));
			break;
		}
		pat_fill(g.lbuf, len, SEED(i, 2), 0);
		ret = expect_rem_access(&g, &wr, "to a read-only page");
		if (!ret && !rig_check_xfer(&g, "read-only pages after the refused WRITE", g.rbuf,
					    len, SEED(i, 1), true, 0))
			ret = ODPT_FAIL;
		if (!ret)
			ret = read_and_check(&g, 0, len, SEED(i, 1), "RDMA READ of read-only pages");
		tc_stage(t, "mprotect(PROT_READ|PROT_WRITE)");
		if (mprotect(g.rbuf, len, PROT_READ | PROT_WRITE) && !ret)
			ret = tc_fail(t, "mprotect: %s", strerror(errno));
		if (!ret)
			ret = write_and_check(&g, 0, len, SEED(i, 3), "WRITE after write access came back");
	});
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* fork(): the parent's RDMA WRITE after fork must not reach the child's
 * copy (copy-on-write), and the child's writes must not reach the parent.
 * With MADV_DONTFORK the child has no mapping at all. */
int run_inval_fork(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 4 * pg;
	bool dontfork = t->c->variant == V_DONTFORK;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, ODPT_MR_ODP, ODPT_MR_ODP);
	uint64_t iters = t->cfg->iters < 10 ? t->cfg->iters : 10;
	size_t chunk = ret ? 0 : rig_chunk(&g);

	if (!ret && dontfork && madvise(g.rbuf, len, MADV_DONTFORK))
		ret = tc_fail(t, "madvise(MADV_DONTFORK): %s", strerror(errno));
	for (uint64_t i = 0; i < iters && !ret; i++) {
		int p2c[2], c2p[2], status;
		char go = 'g', verdict = '?';
		pid_t pid;

		ret = write_and_check(&g, 0, len, SEED(i, 1), "WRITE before fork");
		if (ret)
			break;
		if (pipe(p2c) || pipe(c2p)) {
			ret = tc_fail(t, "pipe: %s", strerror(errno));
			break;
		}
		tc_stage(t, "fork");
		pid = fork();
		if (pid < 0) {
			ret = tc_fail(t, "fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			unsigned char v;
			char out = 'Y';

			/* Child: no verbs here, only memory checks. */
			if (read(p2c[0], &go, 1) != 1)
				_exit(3);
			if (dontfork) {
				out = (mincore(g.rbuf, len, &v) && errno == ENOMEM) ? 'Y' : 'M';
			} else {
				for (size_t k = 0; k < len; k++)
					if (k % pg < chunk &&
					    g.rbuf[k] != pat_byte(SEED(i, 1), k)) {
						out = 'N';
						break;
					}
				memset(g.rbuf, 0x3c, len);   /* must not reach the parent */
			}
			if (write(c2p[1], &out, 1) != 1)
				_exit(4);
			_exit(0);
		}
		close(p2c[0]);
		close(c2p[1]);
		ret = write_and_check(&g, 0, len, SEED(i, 2), "parent WRITE after fork");
		tc_stage(t, "waiting for the child's view of the buffer");
		if (write(p2c[1], &go, 1) != 1 || read(c2p[0], &verdict, 1) != 1)
			verdict = '?';
		waitpid(pid, &status, 0);
		close(p2c[1]);
		close(c2p[0]);
		if (ret)
			break;
		if (verdict == 'N')
			ret = tc_fail(t, "the child's copy changed: the parent's RDMA WRITE after fork leaked through copy-on-write");
		else if (verdict == 'M')
			ret = tc_fail(t, "the MADV_DONTFORK range is mapped in the child");
		else if (verdict != 'Y' || !WIFEXITED(status) || WEXITSTATUS(status))
			ret = tc_fail(t, "the child did not report (verdict '%c', status 0x%x)", verdict, status);
		else if (!rig_check_xfer(&g, "parent buffer after the child wrote its copy", g.rbuf,
					 len, SEED(i, 2), true, 0))
			ret = ODPT_FAIL;
		else
			ret = read_and_check(&g, 0, len, SEED(i, 2), "RDMA READ of the parent's buffer");
		if (!ret)
			tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

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
		ret = read_and_check(&g, 0, len, SEED(i, 1), "READ before MADV_FREE");
		if (ret)
			break;
		tc_stage(t, "madvise(MADV_FREE)");
		if (madvise(g.rbuf, len, MADV_FREE)) {
			ret = tc_fail(t, "madvise(MADV_FREE): %s", strerror(errno));
			break;
		}
		tc_faults_forced(t, len / pg);
		ret = write_and_check(&g, 0, len, SEED(i, 2), "WRITE after MADV_FREE");
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
			ret = read_and_check(&g, 0, len, SEED(i, 2), "RDMA READ after reclaim");
	});
	if (ctl != MAP_FAILED)
		munmap(ctl, len);
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

static int numa_nodes(char *buf, size_t len)
{
	FILE *f = fopen("/sys/devices/system/node/online", "re");
	int a = 0, b = 0, n;

	buf[0] = '\0';
	if (!f)
		return 1;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	n = sscanf(buf, "%d-%d", &a, &b);
	return n == 2 ? b - a + 1 : 1;
}

/* move_pages() to another node under an ODP MR: the device must follow. */
int run_inval_migrate(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	enum { NP = 4 };
	void *pages[NP];
	int nodes[NP], status[NP];
	char online[64];
	struct rig g;
	int ret;

	if (numa_nodes(online, sizeof(online)) < 2)
		return tc_skip(t, "one NUMA node online (/sys/devices/system/node/online = \"%s\"): page migration needs two",
			       online);
	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, NP * pg, ODPT_MR_ODP, ODPT_MR_ODP);
	RUN_ITERS(t, {
		int cur, to;

		ret = write_and_check(&g, 0, NP * pg, SEED(i, 1), "WRITE before migration");
		if (ret)
			break;
		for (int k = 0; k < NP; k++)
			pages[k] = g.rbuf + k * pg;
		tc_stage(t, "move_pages: query");
		if (syscall(SYS_move_pages, 0, NP, pages, NULL, status, 0)) {
			ret = tc_fail(t, "move_pages(query): %s", strerror(errno));
			break;
		}
		cur = status[0];
		to = cur == 0 ? 1 : 0;
		for (int k = 0; k < NP; k++)
			nodes[k] = to;
		tc_stage(t, "move_pages: node %d -> %d", cur, to);
		if (syscall(SYS_move_pages, 0, NP, pages, nodes, status, MPOL_MF_MOVE)) {
			ret = tc_fail(t, "move_pages(move): %s", strerror(errno));
			break;
		}
		for (int k = 0; k < NP; k++)
			if (status[k] != to) {
				ret = tc_fail(t, "page %d not migrated: status %d", k, status[k]);
				break;
			}
		if (ret)
			break;
		tc_faults_forced(t, NP);
		if (!rig_check_xfer(&g, "migrated pages (CPU)", g.rbuf, NP * pg, SEED(i, 1), true, -1)) {
			ret = ODPT_FAIL;
			break;
		}
		ret = read_and_check(&g, 0, NP * pg, SEED(i, 1), "RDMA READ after migration");
		if (!ret)
			ret = write_and_check(&g, 0, NP * pg, SEED(i, 2), "RDMA WRITE after migration");
	});
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

/* A PMD-mapped THP under an ODP MR is split by MADV_DONTNEED of one 4 KiB
 * page; the device must see the split mapping and the new page. */
int run_inval_thp_split(struct odpt_tctx *t)
{
	size_t huge = 2ul << 20, pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t win = huge / 2 - 8 * pg;
	uint64_t iters = case_iters(t);
	struct rig g;
	int ret;

	if (thp_unavailable())
		return tc_skip(t, "%s", thp_unavailable());
	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_THP, huge, ODPT_MR_ODP, ODPT_MR_ODP);
	for (uint64_t i = 0; i < iters && !ret; i++) {
		long kb;

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		tc_stage(t, "faulting in a THP");
		g.rbuf[0] = 1;
		kb = anon_huge_kb(g.rbuf);
		if (kb < 2048) {
			ret = tc_skip(t, "no THP was allocated for a 2 MiB aligned MADV_HUGEPAGE buffer (AnonHugePages %ld kB; defrag or fragmentation)", kb);
			break;
		}
		/* 16 pages around the split point, the hole among them. */
		ret = write_and_check(&g, win, 16 * pg, SEED(i, 1), "WRITE over the THP");
		if (ret)
			break;
		tc_stage(t, "splitting the THP with MADV_DONTNEED of one page");
		if (madvise(g.rbuf + huge / 2, pg, MADV_DONTNEED)) {
			ret = tc_fail(t, "madvise: %s", strerror(errno));
			break;
		}
		kb = anon_huge_kb(g.rbuf);
		if (kb != 0) {
			ret = tc_fail(t, "THP not split after a partial MADV_DONTNEED (AnonHugePages %ld kB)", kb);
			break;
		}
		if (!check_byte(t, "the page dropped from the split THP", g.rbuf + huge / 2, pg, 0) ||
		    !rig_check_xfer(&g, "the rest of the split THP", g.rbuf + win, huge / 2 - win,
				    SEED(i, 1), true, -1)) {
			ret = ODPT_FAIL;
			break;
		}
		ret = write_and_check(&g, win, 16 * pg, SEED(i, 2), "WRITE over the split THP");
		if (!ret)
			ret = read_and_check(&g, win, 16 * pg, SEED(i, 2), "READ over the split THP");
		if (!ret)
			tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}

#define RACE_PAGES 16

/* Drops the even pages of buf one at a time, counting each page's
 * completed drops; parks while pause is set. */
struct zapper {
	uint8_t *buf;
	size_t pg;
	atomic_bool stop, pause, paused;
	atomic_ulong zaps;
	atomic_ulong done[RACE_PAGES];
};

static void *zap_loop(void *arg)
{
	struct zapper *z = arg;
	size_t k = 0;

	while (!atomic_load(&z->stop)) {
		if (atomic_load(&z->pause)) {
			atomic_store(&z->paused, true);
			sched_yield();
			continue;
		}
		madvise(z->buf + k * z->pg, z->pg, MADV_DONTNEED);
		atomic_fetch_add(&z->done[k], 1);
		atomic_fetch_add(&z->zaps, 1);
		k = (k + 2) % RACE_PAGES;
		sched_yield();
	}
	atomic_store(&z->paused, true);
	return NULL;
}

static void zapper_pause(struct zapper *z)
{
	atomic_store(&z->paused, false);
	atomic_store(&z->pause, true);
	while (!atomic_load(&z->paused))
		sched_yield();
}

/*
 * MADV_DONTNEED of the even pages, one at a time in a loop, while one
 * WRITE per page (its first path MTU) runs; this iteration's data differ
 * per byte and per iteration. Every WRITE succeeds; with the dropper
 * parked, each page holds exactly its WRITE's bytes, or (even pages only)
 * is all zero, and that only if a drop of it completed after its WRITE was
 * posted. A responder that drops or misdirects writes, tears them, or
 * writes through a stale mapping fails (race_page_verdict()).
 */
int run_inval_race(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = RACE_PAGES * pg;
	struct zapper z = { 0 };
	unsigned long dropped = 0;
	pthread_t th;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, ODPT_MR_ODP, ODPT_MR_ODP);
	bool started = false;

	if (!ret) {
		z.buf = g.rbuf;
		z.pg = pg;
		if (pthread_create(&th, NULL, zap_loop, &z))
			ret = tc_fail(t, "pthread_create failed");
		else
			started = true;
	}
	RUN_ITERS(t, {
		size_t chunk = rig_chunk(&g);
		unsigned long posted[RACE_PAGES];
		uint64_t seed = SEED(i, 0x77);

		atomic_store(&z.pause, false);
		pat_fill(g.lbuf, len, seed, 0);
		for (size_t k = 0; k < RACE_PAGES && !ret; k++) {
			struct odpt_vwr wr = wr_to(&g, ODPT_OP_WRITE, k * pg, k * pg, chunk);

			wr.wr_id = i * RACE_PAGES + k;
			posted[k] = atomic_load(&z.done[k]);
			ret = rig_op_ok(&g, &wr);
		}
		if (ret)
			break;
		tc_stage(t, "validating with the dropper parked");
		zapper_pause(&z);
		for (size_t k = 0; k < RACE_PAGES && !ret; k++) {
			bool even = !(k & 1);
			enum race_page v = race_page_verdict(g.rbuf + k * pg, pg, chunk, g.lbuf + k * pg,
							     even, atomic_load(&z.done[k]) > posted[k]);

			if (v == RACE_DROPPED)
				dropped++;
			else if (v == RACE_LOST)
				ret = tc_fail(t, "page %zu is all zero after WRITE %llu completed, and %s: the WRITE was lost",
					      k, (unsigned long long)i,
					      even ? "no MADV_DONTNEED of it completed after the WRITE was posted" :
					      "the racer never drops odd pages");
			else if (v == RACE_TORN)
				ret = tc_fail(t, "page %zu after WRITE %llu: neither exactly the WRITE's bytes nor a dropped (zero) page: torn, stale or misdirected data",
					      k, (unsigned long long)i);
		}
	});
	if (started) {
		atomic_store(&z.stop, true);
		atomic_store(&z.pause, false);
		pthread_join(th, NULL);
		tc_faults_forced(t, atomic_load(&z.zaps));
		tc_diag(t, "MADV_DONTNEED calls (one even page each) racing the WRITEs: %lu; pages found dropped after their WRITE: %lu",
			atomic_load(&z.zaps), dropped);
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
			struct odpt_vwr wr = wr_to(&g, ODPT_OP_WRITE, k * slice, k * slice,
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

/* Async advice: how long the resident count may stand still before the
 * wait gives up, and the bound on the whole wait. */
#define PREFETCH_STALL_NS (5ull * 1000000000ull)
#define PREFETCH_MAX_NS (60ull * 1000000000ull)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait until want pages of [p, p+len) are resident, as long as the count
 * keeps moving (PREFETCH_STALL_NS without a change ends it) and at most
 * PREFETCH_MAX_NS; *waited_ns says how long it took. */
static long wait_resident(const void *p, size_t len, long want, bool async, uint64_t *waited_ns)
{
	uint64_t t0 = mono_ns(), moved = t0, now = t0;
	long r = resident_pages(p, len), last = r;

	while (async && r != want && now - moved < PREFETCH_STALL_NS && now - t0 < PREFETCH_MAX_NS) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
		r = resident_pages(p, len);
		now = mono_ns();
		if (r != last) {
			last = r;
			moved = now;
		}
	}
	*waited_ns = now - t0;
	return r;
}

/*
 * Async advice completes silently on a kernel workqueue whose items run in
 * no particular order, so a marker queued after it proves nothing. The
 * work item holds a reference to the MR it advises (rxe: lookup_mr() in
 * rxe_ib_prefetch_sg_list(), dropped by rxe_put() when the work item is
 * done; mlx5 waits for deferred prefetch work in dereg), and deregistration
 * waits for it (rxe_cleanup(), bounded by rxe's pool timeout, which logs
 * when it expires): deregister the advised MR (after reading its
 * counters), look at the pages, register it again.
 */
static int await_async_advice(struct odpt_tctx *t, struct rig *g)
{
	int ret;

	tc_stage(t, "deregistering the advised MR: waits for the advice's work item");
	tc_odp_snapshot(t, g->rmr);
	odpt_vmr_dereg(g->rmr);
	g->rmr = NULL;
	tc_stage(t, "registering the responder MR again");
	ret = odpt_vmr_reg(t->vr, g->rbuf, g->len, g->rflags, &g->rmr);
	if (ret)
		return tc_fail(t, "registering the responder MR again: %s", strerror(-ret));
	return 0;
}

/*
 * ibv_advise_mr, each advice sync (IBV_ADVISE_MR_FLAG_FLUSH) and async, on
 * never-touched anonymous memory (MADV_DONTNEED first, every iteration):
 * - PREFETCH faults the range in for reading: every page present (mincore)
 *   and none privately mapped (pagemap: a read fault maps the zero page);
 * - PREFETCH_WRITE faults it in for writing: every page present and private;
 * - PREFETCH_NO_FAULT maps only pages already present and must not fault in
 *   missing ones: with none present none appears; with every other page
 *   present (written by the CPU) exactly those stay.
 * Async advice: wait for the pages to appear while their count keeps moving
 * (5 s without a change, or 60 s, ends the wait); for NO_FAULT, where none
 * may appear, until deregistering the MR has waited for the advice's work
 * item (above). Then an RDMA WRITE into the range must land.
 */
int run_prefetch(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 16 * pg;
	long npg = (long)(len / pg);
	enum odpt_advice adv = (enum odpt_advice)t->c->op;
	bool sync = !(t->c->flags & CASE_ASYNC);
	bool no_fault = adv == ODPT_ADVISE_PREFETCH_NO_FAULT;
	unsigned flags = t->c->variant == V_IMPLICIT ? ODPT_MR_IMPLICIT : ODPT_MR_ODP;
	/* The advice goes to the responder's MR, on its device. */
	const struct odpt_vcaps *caps = odpt_vctx_caps(t->vr);
	uint64_t max_wait = 0;
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, len, flags, flags);

	RUN_ITERS(t, {
		struct odpt_vsge s = { (uintptr_t)g.rbuf, (uint32_t)len, rig_rlkey(&g) };
		long want, want_priv, r, present, priv;
		uint64_t waited;

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		if (no_fault && (i & 1)) {
			/* Half the pages present: those may be mapped, the rest not. */
			for (size_t k = 0; k < len; k += 2 * pg)
				g.rbuf[k] = 1;
		}
		tc_stage(t, "ibv_advise_mr(%s, %s)", odpt_advice_name(adv), sync ? "FLUSH" : "async");
		ret = odpt_vadvise(t->vr, adv, sync, &s, 1);
		if (ret == -EOPNOTSUPP || ret == -ENOSYS) {
			ret = tc_skip(t, "ibv_advise_mr(%s) returned %s: the %s provider of libibverbs %s has no advise_mr",
				      odpt_advice_name(adv), ret == -ENOSYS ? "ENOSYS" : "EOPNOTSUPP",
				      caps->driver, ODPT_IBVERBS_VERSION);
			break;
		}
		if (ret) {
			ret = tc_fail(t, "ibv_advise_mr(%s, flags %s): %s", odpt_advice_name(adv),
				      sync ? "FLUSH" : "0", strerror(-ret));
			break;
		}
		if (no_fault && !sync) {
			ret = await_async_advice(t, &g);
			if (ret)
				break;
		}
		want = no_fault ? ((i & 1) ? npg / 2 : 0) : npg;
		want_priv = adv == ODPT_ADVISE_PREFETCH_WRITE ? npg : no_fault ? want : 0;
		r = wait_resident(g.rbuf, len, want, !sync && !no_fault, &waited);
		if (r != want) {
			ret = tc_fail(t, "%s: %ld of %ld pages resident afterwards (mincore), want %ld%s",
				      odpt_advice_name(adv), r, npg, want,
				      !sync && !no_fault ? " (waited until the count stood still for 5 s, or 60 s)" : "");
			break;
		}
		if (!sync && waited > max_wait)
			max_wait = waited;
		ret = page_states(g.rbuf, len, &present, &priv);
		if (ret) {
			ret = tc_fail(t, "reading /proc/self/pagemap: %s", strerror(-ret));
			break;
		}
		if (priv != want_priv) {
			ret = tc_fail(t, "%s: %ld of %ld present pages privately mapped afterwards (pagemap), want %ld (%s)",
				      odpt_advice_name(adv), priv, present, want_priv,
				      adv == ODPT_ADVISE_PREFETCH_WRITE ? "a write fault allocates a page" :
				      "a read fault maps the shared zero page");
			break;
		}
		ret = write_and_check(&g, 0, len, SEED(i, 5), "WRITE after prefetch");
	});
	if (!sync && !no_fault && max_wait)
		tc_diag(t, "longest wait for async advice to make the pages resident: %.1f ms",
			(double)max_wait / 1e6);
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
