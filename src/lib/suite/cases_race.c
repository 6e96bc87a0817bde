// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * MADV_DONTNEED racing RDMA WRITEs: a thread drops the even pages of the
 * responder buffer one at a time while one WRITE per page runs; with the
 * dropper parked each page must hold exactly its WRITE's bytes, or be all
 * zero where a drop completed after the WRITE was posted
 * (race_page_verdict()). A lost, torn, misdirected or stale write fails.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cases.h"
#include "rig.h"

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
			struct odpt_vwr wr = rig_wr_to(&g, ODPT_OP_WRITE, k * pg, k * pg, chunk);

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
