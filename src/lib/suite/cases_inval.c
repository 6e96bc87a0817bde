// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Suite cases where the mapping under an ODP MR changes: munmap, munmap +
 * mmap at the same address, mremap, mprotect to read-only, fork with and
 * without MADV_DONTFORK, page migration to another NUMA node and a THP
 * split. Each asserts the exact outcome: the data, the completion status,
 * or the residency that mincore() reports.
 */
#define _GNU_SOURCE   /* mremap, MREMAP_FIXED */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "rig.h"

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE (1 << 1)
#endif

/* munmap of a page inside the MR: WRITE to it is a remote access error,
 * the rest of the MR keeps working. */
int run_inval_munmap(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rig g;
	int ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 4 * pg, ODPT_MR_ODP, ODPT_MR_ODP);

	RUN_ITERS(t, {
		struct odpt_vwr wr = rig_wr_to(&g, ODPT_OP_WRITE, pg, pg, pg);

		ret = rig_force_faults(&g, true, true);
		if (!ret)
			ret = rig_write_check(&g, pg, pg, SEED(i, 1), "page before munmap");
		if (ret)
			break;
		tc_stage(t, "munmap of responder page 1");
		if (munmap(g.rbuf + pg, pg)) {
			ret = tc_fail(t, "munmap: %s", strerror(errno));
			break;
		}
		ret = rig_expect_rem_access(&g, &wr, "to a munmapped page");
		if (!ret)
			ret = rig_write_check(&g, 2 * pg, pg, SEED(i, 2), "page next to the hole");
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
		ret = rig_read_check(&g, pg, 2 * pg, SEED(i, 1), "old pages");
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
		ret = rig_read_check(&g, pg, 2 * pg, SEED(i, 2), "RDMA READ after re-mmap (stale data?)");
		if (!ret)
			ret = rig_write_check(&g, pg, 2 * pg, SEED(i, 3), "RDMA WRITE into the new pages");
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
		struct odpt_vwr wr = rig_wr_to(&g, ODPT_OP_WRITE, 0, 0, len);

		ret = rig_force_faults(&g, true, true);
		if (ret)
			break;
		pat_fill(g.rbuf, len, SEED(i, 1), 0);
		ret = rig_read_check(&g, 0, len, SEED(i, 1), "before mremap");
		if (ret)
			break;
		tc_stage(t, "mremap responder buffer away");
		if (mremap(g.rbuf, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, other) == MAP_FAILED) {
			ret = tc_fail(t, "mremap away: %s", strerror(errno));
			break;
		}
		pat_fill(g.lbuf, len, SEED(i, 2), 0);
		ret = rig_expect_rem_access(&g, &wr, "to the range mremap moved away");
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
			ret = rig_read_check(&g, 0, len, SEED(i, 1), "RDMA READ after mremap back");
		if (!ret)
			ret = rig_write_check(&g, 0, len, SEED(i, 3), "RDMA WRITE after mremap back");
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
		struct odpt_vwr wr = rig_wr_to(&g, ODPT_OP_WRITE, 0, 0, len);

		ret = rig_force_faults(&g, true, true);
		if (!ret)
			ret = rig_write_check(&g, 0, len, SEED(i, 1), "WRITE before mprotect");
		if (ret)
			break;
		tc_stage(t, "mprotect(PROT_READ) of the responder buffer");
		if (mprotect(g.rbuf, len, PROT_READ)) {
			ret = tc_fail(t, "mprotect: %s", strerror(errno));
			break;
		}
		pat_fill(g.lbuf, len, SEED(i, 2), 0);
		ret = rig_expect_rem_access(&g, &wr, "to a read-only page");
		if (!ret && !rig_check_xfer(&g, "read-only pages after the refused WRITE", g.rbuf,
					    len, SEED(i, 1), true, 0))
			ret = ODPT_FAIL;
		if (!ret)
			ret = rig_read_check(&g, 0, len, SEED(i, 1), "RDMA READ of read-only pages");
		tc_stage(t, "mprotect(PROT_READ|PROT_WRITE)");
		if (mprotect(g.rbuf, len, PROT_READ | PROT_WRITE) && !ret)
			ret = tc_fail(t, "mprotect: %s", strerror(errno));
		if (!ret)
			ret = rig_write_check(&g, 0, len, SEED(i, 3), "WRITE after write access came back");
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

		ret = rig_write_check(&g, 0, len, SEED(i, 1), "WRITE before fork");
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
		ret = rig_write_check(&g, 0, len, SEED(i, 2), "parent WRITE after fork");
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
			ret = rig_read_check(&g, 0, len, SEED(i, 2), "RDMA READ of the parent's buffer");
		if (!ret)
			tc_iteration_done(t);
	}
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

		ret = rig_write_check(&g, 0, NP * pg, SEED(i, 1), "WRITE before migration");
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
		ret = rig_read_check(&g, 0, NP * pg, SEED(i, 1), "RDMA READ after migration");
		if (!ret)
			ret = rig_write_check(&g, 0, NP * pg, SEED(i, 2), "RDMA WRITE after migration");
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
		ret = rig_write_check(&g, win, 16 * pg, SEED(i, 1), "WRITE over the THP");
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
		ret = rig_write_check(&g, win, 16 * pg, SEED(i, 2), "WRITE over the split THP");
		if (!ret)
			ret = rig_read_check(&g, win, 16 * pg, SEED(i, 2), "READ over the split THP");
		if (!ret)
			tc_iteration_done(t);
	}
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}
