// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt iommufd iopf`: IO page faults handled in userspace. A selftest mock
 * device is attached to a paging HWPT that has a fault queue
 * (IOMMU_FAULT_QUEUE_ALLOC, IOMMU_HWPT_ALLOC with IOMMU_HWPT_FAULT_ID_VALID;
 * the selftest's nested HWPT when the paging one is refused); each fault is
 * raised with IOMMU_TEST_OP_TRIGGER_IOPF at an IOVA nothing is mapped at,
 * read from the fault fd as struct iommu_hwpt_pgfault (after poll() says
 * it is there), resolved by mapping a page at that IOVA (unless
 * --no-resolve), and answered by writing struct iommu_hwpt_page_response
 * with the fault's cookie. Timed per fault: trigger_ns (the trigger ioctl),
 * trigger_to_read_ns (trigger entry to the record read), read_to_response_ns
 * (read returned to the response written, the resolve included) and
 * round_trip_ns (trigger entry to response written). Then the checks: every
 * fault answered exactly once, each record matching its trigger, wrong
 * cookies and codes refused with the kernel's errno, and closing the fault
 * fd with faults outstanding not hanging the teardown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odpt/report.h"
#include "iommufd_int.h"

struct iopf_ctx {
	struct ifd_ctx ic;
	uint32_t fault_id, hwpt_id, parent_id;
	int ffd;
	bool nested;
	uint64_t base;   /* first IOVA faults are raised at */
};

/* A mock device on an IOPF-capable HWPT with a fault queue. */
static int iopf_setup(const char *dev, struct iopf_ctx *x, const char **stage)
{
	uint64_t last;
	int ret;

	memset(x, 0, sizeof(*x));
	x->ffd = -1;
	ret = ifd_ctx_open(dev, true, &x->ic, stage);
	if (ret)
		return ret;
	*stage = "fault_queue_alloc";
	ret = odpt_iommufd_fault_queue_alloc(x->ic.fd, &x->fault_id, &x->ffd);
	if (ret)
		goto fail;
	*stage = "hwpt_alloc(FAULT_ID_VALID)";
	ret = odpt_iommufd_hwpt_alloc(x->ic.fd, x->ic.mock.idev_id, x->ic.ioas_id,
				      ODPT_IOMMUFD_HWPT_FAULT, x->fault_id, &x->hwpt_id);
	if (ret) {
		/* The selftest's way: a nested HWPT on a NEST_PARENT one. */
		*stage = "hwpt_alloc(NEST_PARENT)";
		ret = odpt_iommufd_hwpt_alloc(x->ic.fd, x->ic.mock.idev_id, x->ic.ioas_id,
					      ODPT_IOMMUFD_HWPT_NEST_PARENT, 0, &x->parent_id);
		if (!ret) {
			*stage = "hwpt_alloc(nested, FAULT_ID_VALID)";
			ret = odpt_iommufd_hwpt_alloc_mock_nested(x->ic.fd, x->ic.mock.idev_id,
								  x->parent_id,
								  ODPT_IOMMUFD_HWPT_FAULT,
								  x->fault_id, &x->hwpt_id);
		}
		x->nested = !ret;
	}
	if (ret)
		goto fail;
	*stage = "mock_domain_replace(iopf hwpt)";
	ret = odpt_iommufd_mock_replace(x->ic.fd, x->ic.mock.stdev_id, x->hwpt_id, NULL);
	if (ret)
		goto fail;
	/* Faults at 64 MiB into the mock's aperture: nothing is mapped there. */
	ret = odpt_iommufd_mock_aperture(&x->base, &last);
	x->base += 64ULL << 20;
	if (!ret)
		return 0;
fail:
	if (x->ffd >= 0)
		close(x->ffd);
	x->ffd = -1;
	ifd_ctx_close(&x->ic);
	return ret;
}

static void iopf_teardown(struct iopf_ctx *x)
{
	if (x->ffd >= 0)
		close(x->ffd);
	x->ffd = -1;
	ifd_ctx_close(&x->ic);
}

/* Wait up to timeout_ms for n records, reading them into f. */
static int wait_faults(int ffd, struct odpt_iommufd_fault *f, int n, uint64_t timeout_ms)
{
	uint64_t deadline = odpt_now_ns() + timeout_ms * 1000000ULL;
	int got = 0, k, ret;

	while (got < n) {
		struct pollfd p = { .fd = ffd, .events = POLLIN };
		uint64_t now = odpt_now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)((deadline - now) / 1000000ULL) + 1);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		ret = odpt_iommufd_fault_read(ffd, f + got, n - got, &k);
		if (ret)
			return ret;
		got += k;
	}
	return 0;
}

struct iopf_hists {
	struct odpt_hist *trigger, *to_read, *to_resp, *rtt;
};

struct iopf_tally {
	uint64_t triggered, delivered, answered, mismatched, resolved;
	char first_mismatch[200];
};

static int one_fault(struct iopf_ctx *x, const struct odpt_iommufd_iopf_cfg *cfg,
		     uint64_t i, void *page, struct iopf_hists *h, struct iopf_tally *t)
{
	uint64_t addr = x->base + (i % 1024) * ifd_page_size(), iova = addr;
	uint32_t grpid = (uint32_t)(i % 512);
	struct odpt_iommufd_fault f;
	uint64_t t0, t1, t2, t3;
	int ret;

	t0 = odpt_now_ns();
	ret = odpt_iommufd_mock_trigger_iopf(x->ic.fd, x->ic.mock.idev_id, 0, grpid,
					     ODPT_IOMMUFD_PERM_READ | ODPT_IOMMUFD_PERM_WRITE, addr);
	t1 = odpt_now_ns();
	if (ret) {
		odpt_err("iommufd iopf: IOMMU_TEST_OP_TRIGGER_IOPF: %s", strerror(-ret));
		return ret;
	}
	t->triggered++;
	ret = wait_faults(x->ffd, &f, 1, cfg->timeout_ms);
	t2 = odpt_now_ns();
	if (ret) {
		odpt_err("iommufd iopf: fault %" PRIu64 " not read within %" PRIu64 " ms: %s", i,
			 cfg->timeout_ms, strerror(-ret));
		return ret;
	}
	t->delivered++;
	if (f.addr != addr || f.grpid != grpid || f.dev_id != x->ic.mock.idev_id ||
	    (f.perm & 3) != 3) {
		if (!t->mismatched++)
			snprintf(t->first_mismatch, sizeof(t->first_mismatch),
				 "fault %" PRIu64 ": read addr 0x%" PRIx64 " grpid %u dev %u perm 0x%x, raised addr 0x%" PRIx64 " grpid %u dev %u perm 0x3",
				 i, f.addr, f.grpid, f.dev_id, f.perm, addr, grpid, x->ic.mock.idev_id);
	}
	/* Resolve: the device may now find a page at the faulting IOVA. */
	if (cfg->resolve) {
		ret = odpt_iommufd_map(x->ic.fd, x->ic.ioas_id, page, ifd_page_size(),
				       ODPT_IOMMUFD_MAP_FIXED | ODPT_IOMMUFD_MAP_RW, &iova);
		if (ret) {
			odpt_err("iommufd iopf: resolving 0x%" PRIx64 ": IOMMU_IOAS_MAP: %s", addr,
				 strerror(-ret));
			return ret;
		}
		t->resolved++;
	}
	ret = odpt_iommufd_fault_respond(x->ffd, f.cookie, ODPT_IOMMUFD_RESP_SUCCESS);
	t3 = odpt_now_ns();
	if (ret) {
		odpt_err("iommufd iopf: response to cookie %u: %s", f.cookie, strerror(-ret));
		return ret;
	}
	t->answered++;
	odpt_hist_record(h->trigger, t1 - t0);
	odpt_hist_record(h->to_read, t2 - t0);
	odpt_hist_record(h->to_resp, t3 - t2);
	odpt_hist_record(h->rtt, t3 - t0);
	if (cfg->resolve)
		ret = odpt_iommufd_unmap(x->ic.fd, x->ic.ioas_id, addr, ifd_page_size(), NULL);
	return ret;
}

static int test(struct odpt_report *r, const char *name, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int test(struct odpt_report *r, const char *name, bool pass, const char *fmt, ...)
{
	struct odpt_test_record t = { .name = name, .result = pass ? ODPT_PASS : ODPT_FAIL };
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	t.reason = why;
	return odpt_report_test(r, &t);
}

/* A wrong cookie, a wrong code, a second answer and a short read, each on a
 * live fault: the kernel must refuse them and still take the right answer. */
static int check_refusals(struct odpt_report *r, struct iopf_ctx *x,
			  const struct odpt_iommufd_iopf_cfg *cfg)
{
	struct odpt_iommufd_fault f;
	uint64_t addr = x->base + 2048 * ifd_page_size();
	char small[64];
	int ret, bad_cookie, bad_code, good, again;
	ssize_t n;

	ret = odpt_iommufd_mock_trigger_iopf(x->ic.fd, x->ic.mock.idev_id, 0, 7,
					     ODPT_IOMMUFD_PERM_READ, addr);
	if (ret)
		return ret;
	/* One byte short of a record: the kernel wants whole records. */
	n = read(x->ffd, small, odpt_iommufd_fault_size() - 1 < sizeof(small) ?
		 odpt_iommufd_fault_size() - 1 : sizeof(small));
	ret = test(r, "iopf_short_read_rejected", n < 0 && errno == ESPIPE,
		   "read of %zu bytes (a record is %zu): %s (want ESPIPE)",
		   odpt_iommufd_fault_size() - 1, odpt_iommufd_fault_size(),
		   n < 0 ? strerrorname_np(errno) : "accepted");
	if (ret)
		return ret;
	ret = wait_faults(x->ffd, &f, 1, cfg->timeout_ms);
	if (ret)
		return test(r, "iopf_wrong_cookie_rejected", false, "the fault was not read: %s",
			    strerror(-ret));
	bad_cookie = odpt_iommufd_fault_respond(x->ffd, f.cookie + 1000, ODPT_IOMMUFD_RESP_SUCCESS);
	bad_code = odpt_iommufd_fault_respond(x->ffd, f.cookie, 2);
	good = odpt_iommufd_fault_respond(x->ffd, f.cookie, ODPT_IOMMUFD_RESP_INVALID);
	again = odpt_iommufd_fault_respond(x->ffd, f.cookie, ODPT_IOMMUFD_RESP_SUCCESS);
	ret = test(r, "iopf_wrong_cookie_rejected", bad_cookie == -EINVAL,
		   "response with cookie %u (read %u): %s (want EINVAL)", f.cookie + 1000, f.cookie,
		   bad_cookie ? strerrorname_np(-bad_cookie) : "accepted");
	if (!ret)
		ret = test(r, "iopf_wrong_code_rejected", bad_code == -EINVAL,
			   "response code 2 (neither SUCCESS nor INVALID): %s (want EINVAL)",
			   bad_code ? strerrorname_np(-bad_code) : "accepted");
	if (!ret)
		ret = test(r, "iopf_answered_once", !good && again == -EINVAL,
			   "first answer (INVALID) %s, second answer to cookie %u %s (want ok, EINVAL)",
			   good ? strerrorname_np(-good) : "ok", f.cookie,
			   again ? strerrorname_np(-again) : "accepted");
	return ret;
}

/* Several faults outstanding at once: one read returns them all, each with
 * its own cookie, and each answer is taken once. */
static int check_batch(struct odpt_report *r, struct iopf_ctx *x,
		       const struct odpt_iommufd_iopf_cfg *cfg)
{
	enum { N = 8 };
	struct odpt_iommufd_fault f[N];
	int i, j, ret, dup = 0, badaddr = 0, answered = 0;

	for (i = 0; i < N; i++) {
		ret = odpt_iommufd_mock_trigger_iopf(x->ic.fd, x->ic.mock.idev_id, 0, (uint32_t)(100 + i),
						     ODPT_IOMMUFD_PERM_WRITE,
						     x->base + (uint64_t)(3000 + i) * ifd_page_size());
		if (ret)
			return ret;
	}
	ret = wait_faults(x->ffd, f, N, cfg->timeout_ms);
	if (ret)
		return test(r, "iopf_batch_cookies_unique", false, "%d faults raised, reading them: %s",
			    N, strerror(-ret));
	for (i = 0; i < N; i++) {
		for (j = 0; j < i; j++)
			dup += f[i].cookie == f[j].cookie;
		badaddr += f[i].addr != x->base + (uint64_t)(3000 + i) * ifd_page_size();
	}
	for (i = 0; i < N; i++)
		answered += !odpt_iommufd_fault_respond(x->ffd, f[i].cookie, ODPT_IOMMUFD_RESP_SUCCESS);
	return test(r, "iopf_batch_cookies_unique", !dup && !badaddr && answered == N,
		    "%d faults outstanding: %d duplicate cookies, %d out of order or wrong address, %d of %d answers taken",
		    N, dup, badaddr, answered, N);
}

/* In a child (the watchdog is the caller's): faults outstanding, some read
 * and unanswered, some unread, then the fault fd closed and everything torn
 * down. The kernel answers them itself; nothing may hang. */
static int close_pending(struct ifd_case_out *o, const void *arg)
{
	const struct odpt_iommufd_iopf_cfg *cfg = arg;
	struct odpt_iommufd_fault f[2];
	struct iopf_ctx x;
	const char *stage;
	int i, ret;

	snprintf(o->stage, sizeof(o->stage), "setup");
	ret = iopf_setup(cfg->dev, &x, &stage);
	if (ret) {
		snprintf(o->reason, sizeof(o->reason), "%s: %s", stage, strerror(-ret));
		return ODPT_FAIL;
	}
	snprintf(o->stage, sizeof(o->stage), "trigger 4 faults");
	for (i = 0; i < 4 && !ret; i++)
		ret = odpt_iommufd_mock_trigger_iopf(x.ic.fd, x.ic.mock.idev_id, 0, (uint32_t)i,
						     ODPT_IOMMUFD_PERM_READ,
						     x.base + (uint64_t)i * ifd_page_size());
	snprintf(o->stage, sizeof(o->stage), "read 2 faults");
	if (!ret)
		ret = wait_faults(x.ffd, f, 2, cfg->timeout_ms);
	if (ret) {
		snprintf(o->reason, sizeof(o->reason), "%s: %s", o->stage, strerror(-ret));
		iopf_teardown(&x);
		return ODPT_FAIL;
	}
	snprintf(o->stage, sizeof(o->stage), "close the fault fd (2 read, 2 unread)");
	close(x.ffd);
	x.ffd = -1;
	snprintf(o->stage, sizeof(o->stage), "re-attach the device to the IOAS");
	ret = odpt_iommufd_mock_replace(x.ic.fd, x.ic.mock.stdev_id, x.ic.ioas_id, NULL);
	snprintf(o->stage, sizeof(o->stage), "destroy the IOPF HWPT");
	if (!ret)
		ret = odpt_iommufd_destroy(x.ic.fd, x.hwpt_id);
	snprintf(o->stage, sizeof(o->stage), "destroy the fault queue");
	if (!ret)
		ret = odpt_iommufd_destroy(x.ic.fd, x.fault_id);
	if (ret) {
		snprintf(o->reason, sizeof(o->reason), "%s: %s", o->stage, strerror(-ret));
		iopf_teardown(&x);
		return ODPT_FAIL;
	}
	snprintf(o->stage, sizeof(o->stage), "close /dev/iommu");
	iopf_teardown(&x);
	snprintf(o->reason, sizeof(o->reason),
		 "fault fd closed with 2 faults read and 2 unread; detach, destroy and close returned");
	return ODPT_PASS;
}

int odpt_iommufd_iopf(struct odpt_report *r, const struct odpt_iommufd_iopf_cfg *cfg,
		      bool *skipped)
{
	struct iopf_hists h = { 0 };
	struct iopf_tally t = { 0 };
	struct ifd_case_out co;
	struct iopf_ctx x;
	const char *stage, *gap;
	char why[256];
	uint64_t i, dur;
	void *page;
	int ret, loop_err = 0;

	if (skipped)
		*skipped = false;
	gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_FAULT);
	if (!gap)
		gap = ifd_unavailable(cfg->dev, true, why, sizeof(why));
	if (gap) {
		if (skipped)
			*skipped = true;
		return odpt_report_skip_all(r, gap);
	}
	ret = iopf_setup(cfg->dev, &x, &stage);
	if (ret) {
		snprintf(why, sizeof(why), "no IOPF-capable HWPT for the mock device: %s: %s", stage,
			 strerror(-ret));
		if (skipped)
			*skipped = true;
		return odpt_report_skip_all(r, why);
	}
	page = mmap(NULL, ifd_page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (page == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	memset(page, 0, ifd_page_size());
	ret = odpt_report_meta(r, "iopf_hwpt", x.nested ? "nested (selftest data) on a NEST_PARENT HWPT" :
			       "paging, on the IOAS");
	if (!ret)
		ret = odpt_report_meta(r, "iopf_resolve", cfg->resolve ? "map a page at the fault's IOVA" :
				       "none (answer at once)");
	if (!ret)
		ret = odpt_hist_create_default(&h.trigger);
	if (!ret)
		ret = odpt_hist_create_default(&h.to_read);
	if (!ret)
		ret = odpt_hist_create_default(&h.to_resp);
	if (!ret)
		ret = odpt_hist_create_default(&h.rtt);
	/* A fault lost or refused is a result: reported, then the rest skipped. */
	for (i = 0; i < cfg->iters && !ret && !loop_err; i++)
		loop_err = one_fault(&x, cfg, i, page, &h, &t);
	if (ret)
		goto out_unmap;
	{
		struct odpt_label l[] = {
			{ "mode", "iommufd" }, { "domain", "mock" },
			{ "resolve", cfg->resolve ? "map" : "none" },
		};

		ret = odpt_report_hist(r, "trigger_ns", l, 3, h.trigger);
		if (!ret)
			ret = odpt_report_hist(r, "trigger_to_read_ns", l, 3, h.to_read);
		if (!ret)
			ret = odpt_report_hist(r, "read_to_response_ns", l, 3, h.to_resp);
		if (!ret)
			ret = odpt_report_hist(r, "round_trip_ns", l, 3, h.rtt);
	}
	if (!ret)
		ret = test(r, "iopf_every_fault_answered", !loop_err && t.triggered == cfg->iters &&
			   t.delivered == t.triggered && t.answered == t.delivered,
			   "%" PRIu64 " raised, %" PRIu64 " read, %" PRIu64 " answered, %" PRIu64 " resolved%s%s",
			   t.triggered, t.delivered, t.answered, t.resolved,
			   loop_err ? "; stopped: " : "", loop_err ? strerror(-loop_err) : "");
	if (loop_err)
		goto out_unmap;
	if (!ret)
		ret = test(r, "iopf_record_matches_trigger", !t.mismatched,
			   "%" PRIu64 " of %" PRIu64 " records differ from their trigger%s%s", t.mismatched,
			   t.delivered, t.mismatched ? "; first: " : "", t.first_mismatch);
	if (!ret)
		ret = check_refusals(r, &x, cfg);
	if (!ret)
		ret = check_batch(r, &x, cfg);
	if (ret)
		goto out_unmap;
	ret = ifd_forked(close_pending, cfg, cfg->timeout_ms * 4 + 10000, &co, &dur);
	if (!ret) {
		struct odpt_test_record tr = {
			.name = "iopf_close_fd_pending_no_hang", .result = co.result,
			.reason = co.reason, .duration_ns = dur,
			.stage = co.result == ODPT_PASS ? NULL : co.stage,
		};

		ret = odpt_report_test(r, &tr);
	}
out_unmap:
	munmap(page, ifd_page_size());
out:
	odpt_hist_destroy(h.trigger);
	odpt_hist_destroy(h.to_read);
	odpt_hist_destroy(h.to_resp);
	odpt_hist_destroy(h.rtt);
	iopf_teardown(&x);
	return ret;
}
