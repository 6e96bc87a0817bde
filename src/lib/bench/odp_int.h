/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the `odpt bench` scenarios share (internal to src/lib/bench): the
 * rig (an RC QP pair in loopback, a requester and a responder buffer with
 * explicit-ODP MRs), one timed operation, dropping pages, series with their
 * recording-cost figures, progress and the watchdog's stage.
 */
#ifndef ODPT_BENCH_ODP_INT_H
#define ODPT_BENCH_ODP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odpt/bench.h"
#include "odpt/hist.h"
#include "odpt/report.h"
#include "odpt/verbs.h"

struct ob_rig {
	const struct odpt_ob_cfg *c;
	struct odpt_report *r;
	struct odpt_vctx *v;
	struct odpt_vpair *p;
	const struct odpt_vcaps *caps;
	uint8_t *lbuf, *rbuf;       /* requester (side 0), responder (side 1) */
	size_t len;                 /* bytes of each */
	struct odpt_vmr *lmr, *rmr;
	bool rmr_flush;             /* rmr registered with FLUSH access */
	size_t pg;
	uint64_t t0_ns;             /* scenario start (raw clock) */
	uint64_t last_progress_ns;
	int series_k, nseries;      /* progress: series started, planned */
	double record_ns;           /* cost of one odpt_hist_record() */
	double worst_ratio;         /* highest record_ns / p50 so far */
};

/* Open the device, add its facts to r, measure the recording cost, make the
 * pair and len-byte buffers (0: none) with explicit-ODP MRs. -errno, logged. */
int ob_rig_open(struct ob_rig *g, const struct odpt_ob_cfg *c, struct odpt_report *r,
		size_t len);
void ob_rig_close(struct ob_rig *g);
/* Report the recording cost (meta and scalars) at the end of a scenario. */
int ob_rig_finish(struct ob_rig *g);

/* Why op cannot run on this rig (device caps, library, QP), or NULL. */
const char *ob_op_missing(const struct ob_rig *g, enum odpt_vop op, char *buf, size_t len);
/* Whether op touches a buffer on side (ATOMIC_WRITE and FLUSH have no
 * local one). */
bool ob_op_uses_side(enum odpt_vop op, unsigned side);
/* A WR moving size bytes of op from lbuf to rbuf (READ: back). */
struct odpt_vwr ob_wr(const struct ob_rig *g, enum odpt_vop op, size_t size);

/*
 * Post wr on the requester and poll its completion (SEND: the receive
 * posted first, its completion polled after the clock stops); *ns from
 * just before the post to just after the completion was polled. 0; 1 with
 * why filled on an error completion (the pair is reset) or a stall;
 * -errno when posting failed.
 */
int ob_timed_op(struct ob_rig *g, const struct odpt_vwr *wr, uint64_t *ns,
		char *why, size_t whylen);
/* MADV_DONTNEED over the pages of [buf, buf+size): invalidates ODP. */
int ob_drop(struct ob_rig *g, void *buf, size_t size);

/* Series labels: at most 6. */
#define OB_MAX_LABELS 6
/* Add h as series name with labels, plus its recording-cost ratio as a
 * scalar; 0 or -ENOMEM. */
int ob_series(struct ob_rig *g, const char *name, const struct odpt_label *l, int nl,
	      const struct odpt_hist *h);
/* A test per series: PASS (iterations), FAIL or SKIP with why. */
int ob_test(struct ob_rig *g, const char *name, enum odpt_test_result res,
	    const char *why, uint64_t iters, uint64_t dur_ns);
/* A histogram in odpt's default layout; NULL when out of memory. */
struct odpt_hist *ob_hist_new(void);

/* The watchdog's stage and a throttled progress callback. */
void ob_stage(struct ob_rig *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ob_progress(struct ob_rig *g, const char *series, uint64_t done, uint64_t total);

/* The scenarios. */
int ob_run_lat(struct ob_rig *g);       /* fault, warm */
int ob_run_reg(struct ob_rig *g);
int ob_run_refault(struct ob_rig *g);
int ob_run_prefetch(struct ob_rig *g);
int ob_run_storm(struct ob_rig *g);

#endif
