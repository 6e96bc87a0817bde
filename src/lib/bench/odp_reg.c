// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench reg`: ibv_reg_mr and ibv_dereg_mr, each call timed alone,
 * for a pinned MR (buffer populated first), an explicit ODP MR (a sparse
 * MAP_NORESERVE mapping nothing touches) and an implicit ODP MR (the whole
 * address space, so no size), per MR size: how the cost grows with size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odpt/procfs.h"
#include "odp_int.h"

enum reg_kind { REG_PINNED, REG_ODP, REG_IMPLICIT };
static const char *const kind_names[] = { "pinned", "odp_explicit", "odp_implicit" };

/* Pinned memory must be resident and locked: the smaller of half of
 * MemAvailable and RLIMIT_MEMLOCK (none for root). why names the cap. */
static uint64_t pinned_cap(char *why, size_t len)
{
	uint64_t avail = odpt_mem_available_bytes(), cap = avail / 2;
	struct rlimit rl;

	snprintf(why, len, "half of MemAvailable (%" PRIu64 " MiB)", cap >> 20);
	if (geteuid() != 0 && !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < cap) {
		cap = rl.rlim_cur;
		snprintf(why, len, "RLIMIT_MEMLOCK (%" PRIu64 " KiB)", cap >> 10);
	}
	return cap;
}

/* One kind and size: iters timed reg + dereg pairs after the warm-up. */
static int reg_one(struct ob_rig *g, enum reg_kind kind, uint64_t size,
		   struct odpt_hist *hreg, struct odpt_hist *hdereg, char *why, size_t whylen)
{
	const struct odpt_ob_cfg *c = g->c;
	unsigned flags = kind == REG_PINNED ? 0 : kind == REG_ODP ? ODPT_MR_ODP : ODPT_MR_IMPLICIT;
	uint64_t total = c->warmup + c->iters;
	void *buf = NULL;
	char label[64];
	int ret = 0;

	snprintf(label, sizeof(label), "%s %" PRIu64 " B", kind_names[kind], size);
	ob_stage(g, "reg: %s", label);
	if (kind != REG_IMPLICIT) {
		int mf = MAP_PRIVATE | MAP_ANONYMOUS |
			 (kind == REG_PINNED ? MAP_POPULATE : MAP_NORESERVE);

		buf = mmap(NULL, size, PROT_READ | PROT_WRITE, mf, -1, 0);
		if (buf == MAP_FAILED) {
			snprintf(why, whylen, "mmap of %" PRIu64 " bytes: %s", size, strerror(errno));
			return 1;
		}
		if (kind == REG_ODP)
			madvise(buf, size, MADV_NOHUGEPAGE);
	}
	for (uint64_t i = 0; i < total; i++) {
		struct odpt_vmr *mr = NULL;
		uint64_t t0, t1, t2;

		t0 = odpt_now_ns();
		ret = odpt_vmr_reg(g->v, buf, size, flags, &mr);
		t1 = odpt_now_ns();
		if (ret) {
			snprintf(why, whylen, "ibv_reg_mr(%s, %" PRIu64 " bytes): %s",
				 kind_names[kind], size, strerror(-ret));
			ret = 1;
			break;
		}
		odpt_vmr_dereg(mr);
		t2 = odpt_now_ns();
		if (i >= c->warmup) {
			odpt_hist_record(hreg, t1 - t0);
			odpt_hist_record(hdereg, t2 - t1);
		}
		ob_progress(g, label, i + 1, total);
	}
	if (buf)
		munmap(buf, size);
	return ret;
}

static int reg_report(struct ob_rig *g, enum reg_kind kind, uint64_t size,
		      struct odpt_hist *hreg, struct odpt_hist *hdereg)
{
	char name[80], sz[24], why[192];
	struct odpt_label l[2] = { { "kind", kind_names[kind] }, { "size_bytes", sz } };
	int nl = kind == REG_IMPLICIT ? 1 : 2;
	uint64_t t0 = odpt_clock_raw_ns();
	int ret;

	g->series_k++;
	odpt_hist_reset(hreg);
	odpt_hist_reset(hdereg);
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	if (kind == REG_IMPLICIT)
		snprintf(name, sizeof(name), "reg_%s", kind_names[kind]);
	else
		snprintf(name, sizeof(name), "reg_%s_%" PRIu64, kind_names[kind], size);
	if (kind == REG_IMPLICIT && !g->caps->odp_implicit) {
		snprintf(why, sizeof(why), "%s: no implicit ODP (IBV_ODP_SUPPORT_IMPLICIT not in general_caps)",
			 g->caps->driver);
		return ob_test(g, name, ODPT_SKIP, why, 0, 0);
	}
	if (kind == REG_PINNED) {
		char capwhy[96];
		uint64_t cap = pinned_cap(capwhy, sizeof(capwhy));

		if (size > cap) {
			snprintf(why, sizeof(why), "a pinned MR of %" PRIu64 " bytes is above the cap, %s",
				 size, capwhy);
			return ob_test(g, name, ODPT_SKIP, why, 0, 0);
		}
	}
	ret = reg_one(g, kind, size, hreg, hdereg, why, sizeof(why));
	if (ret < 0)
		return ret;
	/* A size the kernel or the provider refuses is a finding, not a failure
	 * of the benchmark: SKIP with the error. */
	if (ret)
		return ob_test(g, name, ODPT_SKIP, why, 0, 0);
	if (ob_series(g, "reg_ns", l, nl, hreg) || ob_series(g, "dereg_ns", l, nl, hdereg) ||
	    ob_test(g, name, ODPT_PASS, NULL, odpt_hist_count(hreg), odpt_clock_raw_ns() - t0))
		return -ENOMEM;
	return 0;
}

int ob_run_reg(struct ob_rig *g)
{
	const struct odpt_ob_cfg *c = g->c;
	struct odpt_hist *hreg = ob_hist_new(), *hdereg = ob_hist_new();
	int ret = hreg && hdereg ? 0 : -ENOMEM;

	g->nseries = 2 * c->nsizes + 1;
	for (int s = 0; !ret && s < c->nsizes; s++)
		for (int k = REG_PINNED; !ret && k <= REG_ODP; k++)
			ret = reg_report(g, (enum reg_kind)k, c->sizes[s], hreg, hdereg);
	if (!ret)
		ret = reg_report(g, REG_IMPLICIT, 0, hreg, hdereg);
	odpt_hist_destroy(hreg);
	odpt_hist_destroy(hdereg);
	return ret;
}
