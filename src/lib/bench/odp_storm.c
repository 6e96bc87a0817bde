// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench storm`: --threads threads, each with its own QP pair on the
 * one device, WRITE (or READ) into one responder ODP MR, each dropping its
 * target range (MADV_DONTNEED) before every op: with disjoint ranges (thread
 * i owns [i*size, (i+1)*size)) the faults only contend in the kernel; with
 * overlapping ones (all on [0, size)) one thread's drop invalidates pages
 * another is faulting in. Per-thread histograms, merged exactly.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odp_int.h"

struct storm_thread {
	struct ob_rig *g;
	struct odpt_vpair *p;
	struct odpt_hist *h;
	int *go;                    /* 0 wait, 1 start, -1 give up */
	enum odpt_vop op;
	size_t size, roff, loff;
	uint64_t done;              /* iterations, read by the progress loop */
	int ret;
	char why[192];
};

static void *storm_main(void *arg)
{
	struct storm_thread *t = arg;
	struct ob_rig *g = t->g;
	/* A view of the rig with this thread's pair: ob_timed_op posts on it. */
	struct ob_rig mine = *g;
	struct odpt_vwr wr = ob_wr(g, t->op, t->size);
	uint64_t total = g->c->warmup + g->c->iters;
	int go;

	mine.p = t->p;
	wr.sge[0].addr += t->loff;
	wr.remote_addr += t->roff;
	while (!(go = __atomic_load_n(t->go, __ATOMIC_ACQUIRE)))
		sched_yield();
	for (uint64_t i = 0; go > 0 && i < total; i++) {
		uint64_t ns = 0;
		int ret = ob_drop(&mine, g->rbuf + t->roff, t->size);

		if (!ret)
			ret = ob_timed_op(&mine, &wr, &ns, t->why, sizeof(t->why));
		if (ret) {
			__atomic_store_n(&t->ret, ret, __ATOMIC_RELEASE);
			break;
		}
		if (i >= g->c->warmup)
			odpt_hist_record(t->h, ns);
		__atomic_store_n(&t->done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Progress from the slowest thread until every one has stopped. */
static void storm_wait(struct ob_rig *g, struct storm_thread *t, unsigned n, const char *label)
{
	uint64_t total = g->c->warmup + g->c->iters;
	bool running = true;

	while (running) {
		struct timespec ts = { 0, 50000000 };
		uint64_t done = total;

		nanosleep(&ts, NULL);
		running = false;
		for (unsigned i = 0; i < n; i++) {
			uint64_t d = __atomic_load_n(&t[i].done, __ATOMIC_ACQUIRE);

			done = d < done ? d : done;
			running |= d < total && !__atomic_load_n(&t[i].ret, __ATOMIC_ACQUIRE);
		}
		ob_progress(g, label, done, total);
	}
}

static int storm_series(struct ob_rig *g, enum odpt_vop op, size_t size, bool overlap,
			struct odpt_hist *merged, char *why, size_t whylen)
{
	unsigned n = g->c->threads, started = 0;
	struct storm_thread *t = calloc(n, sizeof(*t));
	pthread_t *tid = calloc(n, sizeof(*tid));
	int ret = t && tid ? 0 : -ENOMEM, go = 0;
	char label[80];

	snprintf(label, sizeof(label), "%s %zu B x %u %s", odpt_ob_op_name(op), size, n,
		 overlap ? "overlap" : "disjoint");
	ob_stage(g, "storm: %s", label);
	g->series_k++;
	for (unsigned i = 0; !ret && i < n; i++) {
		t[i] = (struct storm_thread){ .g = g, .op = op, .size = size, .go = &go,
					      .loff = i * size, .roff = overlap ? 0 : i * size };
		t[i].h = ob_hist_new();
		ret = t[i].h ? odpt_vpair_create(g->v, ODPT_QP_RC, &t[i].p) : -ENOMEM;
	}
	for (unsigned i = 0; !ret && i < n; i++) {
		ret = -pthread_create(&tid[i], NULL, storm_main, &t[i]);
		started += !ret;
	}
	/* All start together, or none measures. */
	__atomic_store_n(&go, ret ? -1 : 1, __ATOMIC_RELEASE);
	if (!ret)
		storm_wait(g, t, n, label);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; t && i < n; i++) {
		if (!ret && t[i].ret) {
			ret = t[i].ret < 0 ? t[i].ret : 1;
			snprintf(why, whylen, "thread %u: %s", i,
				 t[i].ret < 0 ? strerror(-t[i].ret) : t[i].why);
		}
		if (!ret && t[i].h && odpt_hist_merge(merged, t[i].h, NULL))
			ret = -ENOMEM;
		odpt_hist_destroy(t[i].h);
		odpt_vpair_destroy(t[i].p);
	}
	free(t);
	free(tid);
	return ret;
}

int ob_run_storm(struct ob_rig *g)
{
	const struct odpt_ob_cfg *c = g->c;
	struct odpt_hist *h = ob_hist_new();
	int ret = h ? 0 : -ENOMEM;
	char nthreads[16];

	snprintf(nthreads, sizeof(nthreads), "%u", c->threads);
	g->nseries = c->nops * c->nsizes * 2;
	for (int i = 0; !ret && i < c->nops; i++) {
		enum odpt_vop op = c->ops[i];

		for (int s = 0; !ret && s < c->nsizes; s++)
			for (int overlap = 0; !ret && overlap <= 1; overlap++) {
				char name[96], sz[24], why[192];
				struct odpt_label l[4] = {
					{ "op", odpt_ob_op_name(op) }, { "size_bytes", sz },
					{ "ranges", overlap ? "overlap" : "disjoint" },
					{ "threads", nthreads },
				};
				uint64_t t0 = odpt_clock_raw_ns();

				snprintf(sz, sizeof(sz), "%zu", c->sizes[s]);
				snprintf(name, sizeof(name), "storm_%s_%zu_%s_x%u", l[0].value,
					 c->sizes[s], l[2].value, c->threads);
				odpt_hist_reset(h);
				if (ob_op_missing(g, op, why, sizeof(why))) {
					ret = ob_test(g, name, ODPT_SKIP, why, 0, 0);
					continue;
				}
				ret = storm_series(g, op, c->sizes[s], overlap, h, why, sizeof(why));
				if (ret < 0) {
					odpt_err("bench: %s: %s", name, strerror(-ret));
					break;
				}
				if (ret)
					ret = ob_test(g, name, ODPT_FAIL, why, odpt_hist_count(h),
						      odpt_clock_raw_ns() - t0) ? -ENOMEM : 0;
				else if (ob_series(g, "storm_lat_ns", l, 4, h) ||
					 ob_test(g, name, ODPT_PASS, NULL, odpt_hist_count(h),
						 odpt_clock_raw_ns() - t0))
					ret = -ENOMEM;
			}
	}
	odpt_hist_destroy(h);
	return ret;
}
