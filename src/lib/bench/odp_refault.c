// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench refault`: after the target pages of one side were taken away
 * and given back - munmap + mmap(MAP_FIXED) at the same address,
 * MADV_DONTNEED, or mprotect(PROT_NONE) and back to read-write - the time
 * from the moment the address is usable again to the first successful
 * completion of the op, posting again after each error completion (the QP
 * reset between tries counts in the time); the error completions seen on
 * the way are counted per status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "bench_int.h"
#include "odp_int.h"

enum method { M_MUNMAP_MMAP, M_DONTNEED, M_MPROTECT, M_N };
static const char *const method_names[M_N] = { "munmap_mmap", "madv_dontneed", "mprotect" };

/* Tries before a refault counts as never coming back. */
#define MAX_TRIES 64
#define MAX_STATUSES 8

struct errs {
	char status[MAX_STATUSES][48];
	uint64_t count[MAX_STATUSES];
	int n;
	uint64_t total;
};

static void errs_add(struct errs *e, const char *why)
{
	const char *s = strstr(why, "error: ");
	int i;

	s = s ? s + 7 : why;
	e->total++;
	for (i = 0; i < e->n; i++)
		if (!strcmp(e->status[i], s))
			break;
	if (i == e->n) {
		if (e->n == MAX_STATUSES)
			return;
		snprintf(e->status[e->n++], sizeof(e->status[0]), "%.47s", s);
	}
	e->count[i]++;
}

static int take_away(enum method m, uint8_t *p, size_t len)
{
	switch (m) {
	case M_MUNMAP_MMAP:
		if (munmap(p, len) ||
		    mmap(p, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
			return -errno;
		madvise(p, len, MADV_NOHUGEPAGE);
		return bench_exclude_numa_balancing(p, len);
	case M_DONTNEED:
		return madvise(p, len, MADV_DONTNEED) ? -errno : 0;
	case M_MPROTECT:
		if (mprotect(p, len, PROT_NONE) || mprotect(p, len, PROT_READ | PROT_WRITE))
			return -errno;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Post the op until its first good completion: 0 (*ns from the first post
 * to that completion), 1 with why (a stall, or MAX_TRIES errors), -errno. */
static int until_good(struct ob_rig *g, const struct odpt_vwr *wr, struct errs *e,
		      uint64_t *ns, char *why, size_t whylen)
{
	uint64_t t0 = odpt_now_ns(), op_ns;

	for (int t = 0; t < MAX_TRIES; t++) {
		int ret = ob_timed_op(g, wr, &op_ns, why, whylen);

		if (ret <= 0) {
			*ns = odpt_now_ns() - t0;
			return ret;
		}
		if (!strstr(why, "completion error"))
			return 1;
		errs_add(e, why);
	}
	snprintf(why, whylen, "%s: no good completion in %d tries", odpt_ob_op_name(wr->op),
		 MAX_TRIES);
	return 1;
}

static int refault_series(struct ob_rig *g, enum odpt_vop op, size_t size, unsigned side,
			  enum method m, struct odpt_hist *h, struct errs *e, char *why,
			  size_t whylen)
{
	const struct odpt_ob_cfg *c = g->c;
	struct odpt_vwr wr = ob_wr(g, op, size);
	uint8_t *target = side == ODPT_OB_SIDE_LOCAL ? g->lbuf : g->rbuf;
	size_t len = (size + g->pg - 1) / g->pg * g->pg;
	uint64_t total = c->warmup + c->iters, ns = 0;
	char label[80];
	int ret;

	snprintf(label, sizeof(label), "%s %s %zu B %s", method_names[m], odpt_ob_op_name(op),
		 size, side == ODPT_OB_SIDE_LOCAL ? "local" : "remote");
	ob_stage(g, "refault: %s", label);
	g->series_k++;
	/* Resident and mapped before the first take-away. */
	ret = ob_timed_op(g, &wr, &ns, why, whylen);
	for (uint64_t i = 0; !ret && i < total; i++) {
		struct errs mine = { .n = 0 };

		ret = take_away(m, target, len);
		if (ret)
			break;
		ret = until_good(g, &wr, i >= c->warmup ? e : &mine, &ns, why, whylen);
		if (!ret && i >= c->warmup)
			odpt_hist_record(h, ns);
		ob_progress(g, label, i + 1, total);
	}
	return ret;
}

static int refault_report(struct ob_rig *g, enum odpt_vop op, size_t size, unsigned side,
			  enum method m, struct odpt_hist *h)
{
	const char *sname = side == ODPT_OB_SIDE_LOCAL ? "local" : "remote";
	char name[96], sz[24], why[192], diag[512];
	struct odpt_label l[5] = {
		{ "method", method_names[m] }, { "op", odpt_ob_op_name(op) },
		{ "size_bytes", sz }, { "side", sname }, { "status", NULL },
	};
	struct odpt_test_record t = { .name = name };
	struct errs e = { .n = 0 };
	uint64_t t0 = odpt_clock_raw_ns();
	size_t off = 0;
	int ret;

	odpt_hist_reset(h);
	snprintf(sz, sizeof(sz), "%zu", size);
	snprintf(name, sizeof(name), "refault_%s_%s_%zu_%s", method_names[m], odpt_ob_op_name(op),
		 size, sname);
	ret = refault_series(g, op, size, side, m, h, &e, why, sizeof(why));
	if (ret < 0) {
		odpt_err("bench: %s: %s", name, strerror(-ret));
		return ret;
	}
	diag[0] = 0;
	for (int i = 0; i < e.n; i++) {
		l[4].value = e.status[i];
		if (odpt_report_scalar(g->r, "refault_error_completions", l, 5, (double)e.count[i]))
			return -ENOMEM;
		off += (size_t)snprintf(diag + off, off < sizeof(diag) ? sizeof(diag) - off : 0,
					"%s%" PRIu64 " x %s", i ? ", " : "error completions: ",
					e.count[i], e.status[i]);
		if (off >= sizeof(diag))
			off = sizeof(diag) - 1;
	}
	if (odpt_report_scalar(g->r, "refault_error_completions_total", l, 4, (double)e.total))
		return -ENOMEM;
	t.result = ret ? ODPT_FAIL : ODPT_PASS;
	t.reason = ret ? why : NULL;
	t.iterations = odpt_hist_count(h);
	t.duration_ns = odpt_clock_raw_ns() - t0;
	t.diag = diag[0] ? diag : NULL;
	if (!ret && ob_series(g, "refault_ns", l, 4, h))
		return -ENOMEM;
	return odpt_report_test(g->r, &t) ? -ENOMEM : 0;
}

int ob_run_refault(struct ob_rig *g)
{
	const struct odpt_ob_cfg *c = g->c;
	struct odpt_hist *h = ob_hist_new();
	int ret = h ? 0 : -ENOMEM;

	g->nseries = c->nops * c->nsizes * __builtin_popcount(c->sides) * M_N;
	for (int i = 0; !ret && i < c->nops; i++) {
		char why[192];

		if (ob_op_missing(g, c->ops[i], why, sizeof(why))) {
			char name[48];

			snprintf(name, sizeof(name), "refault_%s", odpt_ob_op_name(c->ops[i]));
			ret = ob_test(g, name, ODPT_SKIP, why, 0, 0);
			continue;
		}
		for (int s = 0; !ret && s < c->nsizes; s++)
			for (unsigned side = ODPT_OB_SIDE_LOCAL; !ret && side <= ODPT_OB_SIDE_REMOTE;
			     side <<= 1)
				for (int m = 0; !ret && (c->sides & side) && m < M_N; m++)
					ret = refault_report(g, c->ops[i], c->sizes[s], side,
							     (enum method)m, h);
	}
	odpt_hist_destroy(h);
	return ret;
}
