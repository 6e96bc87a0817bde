// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The suite's test rig: buffers (anonymous, hugetlb, THP), their memory
 * regions, a QP pair (loopback on one device, or requester and responder
 * on two devices), and the post/poll/check helpers shared by
 * all cases. Failures become tc_fail() verdicts with the exact completion
 * status, errno or first differing byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/smaps.h"

#include "cases.h"
#include "rig.h"

#define HUGE_2M (2ul << 20)

/*
 * Pattern byte at offset off of pattern seed: a 32-bit multiplicative hash
 * of the offset mixed with the seed, so that a byte from another offset
 * (a misplaced copy, a page written at the wrong in-page offset) or from
 * another iteration differs with probability 255/256. Cheap on purpose:
 * the checks run over every byte of every iteration.
 */
uint8_t pat_byte(uint64_t seed, size_t off)
{
	uint32_t x = ((uint32_t)off + 1) * 0x9E3779B1u +
		     ((uint32_t)seed ^ (uint32_t)(seed >> 32)) * 0x85EBCA6Bu;

	x ^= x >> 16;
	x *= 0x7FEB352Du;
	x ^= x >> 15;
	return (uint8_t)(x >> 24);
}

void pat_fill(uint8_t *p, size_t len, uint64_t seed, size_t off0)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat_byte(seed, off0 + i);
}

uint64_t pat_u64(uint64_t seed)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | pat_byte(seed, i);
	return v;
}

bool check_pat(struct odpt_tctx *t, const char *what, const uint8_t *p,
	       size_t len, uint64_t seed, size_t off0)
{
	size_t bad = 0, first = 0;

	tc_stage(t, "validating %s", what);
	for (size_t i = 0; i < len; i++)
		if (p[i] != pat_byte(seed, off0 + i)) {
			if (!bad++)
				first = i;
		}
	if (!bad)
		return true;
	tc_fail(t, "%s: %zu of %zu bytes wrong, first at offset %zu: got 0x%02x, want 0x%02x",
		what, bad, len, first, p[first], pat_byte(seed, off0 + first));
	return false;
}

bool check_byte(struct odpt_tctx *t, const char *what, const uint8_t *p,
		size_t len, uint8_t b)
{
	size_t bad = 0, first = 0;

	tc_stage(t, "validating %s", what);
	/* Fast path: whole words equal to the replicated byte. */
	if (!((uintptr_t)p & 7)) {
		uint64_t w = 0x0101010101010101ull * b;
		size_t i = 0;

		for (; i + 8 <= len; i += 8)
			if (*(const uint64_t *)(p + i) != w)
				break;
		for (; i < len; i++)
			if (p[i] != b)
				break;
		if (i == len)
			return true;
	}
	for (size_t i = 0; i < len; i++)
		if (p[i] != b) {
			if (!bad++)
				first = i;
		}
	if (!bad)
		return true;
	tc_fail(t, "%s: %zu of %zu bytes changed, first at offset %zu: got 0x%02x, want 0x%02x",
		what, bad, len, first, p[first], b);
	return false;
}

long resident_pages(const void *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + pg - 1) / pg;
	unsigned char *vec = malloc(n);
	long res = 0;

	if (!vec)
		return -ENOMEM;
	if (mincore((void *)(uintptr_t)p, len, vec)) {
		free(vec);
		return -errno;
	}
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	free(vec);
	return res;
}

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PAGEMAP_PRESENT   (1ull << 63)
#define PAGEMAP_EXCLUSIVE (1ull << 56)

int page_states(const void *p, size_t len, long *present, long *exclusive)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + pg - 1) / pg;
	uint64_t *ent = malloc(n * sizeof(*ent));
	off_t off = (off_t)((uintptr_t)p / pg * sizeof(*ent));
	ssize_t got;
	int fd, ret = 0;

	if (!ent)
		return -ENOMEM;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto free_ent;
	}
	got = pread(fd, ent, n * sizeof(*ent), off);
	if (got != (ssize_t)(n * sizeof(*ent))) {
		ret = got < 0 ? -errno : -EIO;
		goto close_fd;
	}
	*present = 0;
	*exclusive = 0;
	for (size_t i = 0; i < n; i++) {
		*present += !!(ent[i] & PAGEMAP_PRESENT);
		*exclusive += (ent[i] & (PAGEMAP_PRESENT | PAGEMAP_EXCLUSIVE)) ==
			      (PAGEMAP_PRESENT | PAGEMAP_EXCLUSIVE);
	}
close_fd:
	close(fd);
free_ent:
	free(ent);
	return ret;
}

long anon_huge_kb(const void *p)
{
	return odpt_smaps_kb(p, "AnonHugePages");
}

enum race_page race_page_verdict(const uint8_t *page, size_t pg, size_t chunk,
				 const uint8_t *want, bool droppable, bool dropped_since_post)
{
	bool is_new = !memcmp(page, want, chunk), zero = true;

	for (size_t k = 0; k < pg && zero; k++)
		zero = !page[k];
	for (size_t k = chunk; k < pg; k++)
		if (page[k])
			return RACE_TORN;
	if (is_new)
		return RACE_NEW;
	if (!zero)
		return RACE_TORN;
	return droppable && dropped_since_post ? RACE_DROPPED : RACE_LOST;
}

const char *thp_unavailable(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	char line[128] = "";

	if (!f)
		return "no /sys/kernel/mm/transparent_hugepage (kernel without THP)";
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	if (strstr(line, "[never]"))
		return "transparent_hugepage/enabled is [never]";
	return NULL;
}

static int map_buf(struct rig *g, size_t len, void **map, size_t *map_len,
		   uint8_t **buf)
{
	void *m;

	switch (g->mem) {
	case RIG_MEM_HUGETLB:
		*map_len = (len + HUGE_2M - 1) & ~(HUGE_2M - 1);
		m = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (m == MAP_FAILED)
			return -errno;
		*map = m;
		*buf = m;
		return 0;
	case RIG_MEM_THP:
		len = (len + HUGE_2M - 1) & ~(HUGE_2M - 1);
		*map_len = len + HUGE_2M;
		m = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -errno;
		*map = m;
		*buf = (uint8_t *)(((uintptr_t)m + HUGE_2M - 1) & ~(HUGE_2M - 1));
		if (madvise(*buf, len, MADV_HUGEPAGE))
			return -errno;
		return 0;
	default:
		*map_len = (len + g->pg - 1) & ~(g->pg - 1);
		m = mmap(NULL, *map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -errno;
		*map = m;
		*buf = m;
		return 0;
	}
}

int rig_setup(struct rig *g, struct odpt_tctx *t, enum odpt_qp_kind kind,
	      enum rig_mem mem, size_t len, unsigned lflags, unsigned rflags)
{
	int ret;

	memset(g, 0, sizeof(*g));
	g->t = t;
	g->kind = kind;
	g->mem = mem;
	g->len = len;
	g->pg = (size_t)sysconf(_SC_PAGESIZE);
	g->lflags = lflags;
	g->rflags = rflags;
	g->poll_ns = tc_stall_ns(t);
	tc_stage(t, "mapping %zu-byte buffers", len);
	ret = map_buf(g, len, &g->lmap, &g->lmap_len, &g->lbuf);
	if (!ret)
		ret = map_buf(g, len, &g->rmap, &g->rmap_len, &g->rbuf);
	if (ret) {
		if (mem == RIG_MEM_HUGETLB && ret == -ENOMEM)
			return tc_skip(t, "no free 2 MiB huge pages for MAP_HUGETLB (vm.nr_hugepages too low)");
		return tc_fail(t, "mmap %zu bytes: %s", len, strerror(-ret));
	}
	tc_stage(t, "creating the QP pair (%s -> %s)", odpt_vctx_name(t->v), odpt_vctx_name(t->vr));
	ret = odpt_vpair_create2(t->v, t->vr, kind, &g->p);
	if (ret) {
		if (kind == ODPT_QP_XRC && (ret == -EOPNOTSUPP || ret == -ENOSYS))
			return tc_skip(t, "%s: ibv_open_xrcd/XRC QPs not supported (%s)",
				       odpt_vctx_name(t->vr), strerror(-ret));
		return tc_fail(t, "creating QP pair: %s", strerror(-ret));
	}
	if ((lflags & ODPT_MR_IMPLICIT) && (rflags & ODPT_MR_IMPLICIT)) {
		/* One implicit MR covers both buffers in loopback; two
		 * devices (two PDs) need one each. */
		tc_stage(t, "registering implicit ODP MR");
		ret = odpt_vmr_reg(t->v, NULL, 0, lflags, &g->lmr);
		if (!ret && t->vr != t->v)
			ret = odpt_vmr_reg(t->vr, NULL, 0, rflags, &g->rmr);
		if (ret)
			return tc_fail(t, "ibv_reg_mr(pd, NULL, SIZE_MAX, ON_DEMAND): %s",
				       strerror(-ret));
		return 0;
	}
	tc_stage(t, "registering requester MR on %s (flags 0x%x)", odpt_vctx_name(t->v), lflags);
	ret = odpt_vmr_reg(t->v, g->lbuf, len, lflags, &g->lmr);
	if (!ret) {
		tc_stage(t, "registering responder MR on %s (flags 0x%x)",
			 odpt_vctx_name(t->vr), rflags);
		ret = odpt_vmr_reg(t->vr, g->rbuf, len, rflags, &g->rmr);
	}
	if (ret == -EOPNOTSUPP && ((lflags | rflags) & ODPT_MR_HUGETLB)) {
		/* The device whose registration refused it. */
		struct odpt_vctx *v = g->lmr ? t->vr : t->v;

		return tc_skip(t, "%s%s%s rejects IBV_ACCESS_HUGETLB on an ODP MR (ibv_reg_mr: EOPNOTSUPP); the *_hugetlb_noflag cases cover hugetlb memory without it",
			       t->vr != t->v ? odpt_vctx_name(v) : "",
			       t->vr != t->v ? ": " : "", odpt_vctx_caps(v)->driver);
	}
	if (ret == -EOPNOTSUPP && ((lflags | rflags) & ODPT_MR_REG_EX))
		return tc_skip(t, "libibverbs lacks ibv_reg_mr_ex");
	if (ret == -ENOMEM && !((lflags | rflags) & ODPT_MR_ODP))
		return tc_fail(t, "pinning %zu bytes: ENOMEM (RLIMIT_MEMLOCK?)", len);
	if (ret)
		return tc_fail(t, "ibv_reg_mr (flags 0x%x/0x%x): %s", lflags, rflags,
			       strerror(-ret));
	return 0;
}

void rig_teardown(struct rig *g)
{
	const unsigned odp = ODPT_MR_ODP | ODPT_MR_IMPLICIT;

	/* Per-MR counters go with the MR: read them first. */
	if (g->rmr && (g->rflags & odp))
		tc_odp_snapshot(g->t, g->rmr);
	if (g->lmr && (g->lflags & odp))
		tc_odp_snapshot(g->t, g->lmr);
	odpt_vmr_dereg(g->rmr);
	odpt_vmr_dereg(g->lmr);
	odpt_vpair_destroy(g->p);
	if (g->rmap)
		munmap(g->rmap, g->rmap_len);
	if (g->lmap)
		munmap(g->lmap, g->lmap_len);
	memset(g, 0, sizeof(*g));
}

uint32_t rig_lkey(const struct rig *g)
{
	return g->lmr->lkey;
}

uint32_t rig_rlkey(const struct rig *g)
{
	return g->rmr ? g->rmr->lkey : g->lmr->lkey;
}

uint32_t rig_rkey(const struct rig *g)
{
	return g->rmr ? g->rmr->rkey : g->lmr->rkey;
}

/* Bytes from the buffer start to the end of what was mapped for it (whole
 * huge pages for hugetlb and THP, as MADV_DONTNEED on hugetlb needs). */
size_t rig_span(const struct rig *g)
{
	return g->mem == RIG_MEM_THP ? g->rmap_len - HUGE_2M : g->rmap_len;
}

int rig_force_faults(struct rig *g, bool local, bool remote)
{
	tc_stage(g->t, "forcing faults: MADV_DONTNEED on %s%s", local ? "requester " : "",
		 remote ? "responder" : "");
	/* A pinned MR keeps its pages: MADV_DONTNEED would only detach the
	 * CPU's view from the device's. Faults are an ODP thing. */
	if (!(g->lflags & (ODPT_MR_ODP | ODPT_MR_IMPLICIT)))
		local = false;
	if (!(g->rflags & (ODPT_MR_ODP | ODPT_MR_IMPLICIT)))
		remote = false;
	if (local) {
		if (madvise(g->lbuf, rig_span(g), MADV_DONTNEED))
			return tc_fail(g->t, "madvise(MADV_DONTNEED) requester: %s", strerror(errno));
		tc_faults_forced(g->t, (g->len + g->pg - 1) / g->pg);
	}
	if (remote) {
		if (madvise(g->rbuf, rig_span(g), MADV_DONTNEED))
			return tc_fail(g->t, "madvise(MADV_DONTNEED) responder: %s", strerror(errno));
		tc_faults_forced(g->t, (g->len + g->pg - 1) / g->pg);
	}
	return 0;
}

/*
 * -EOPNOTSUPP at post time: a SKIP only when a device of the pair does not
 * advertise the op (cap bits, library); advertised but refused (e.g. the
 * provider refused the extended QP and the pair fell back) is a FAIL.
 */
static int post_unsupported(struct rig *g, const struct odpt_vwr *wr)
{
	struct odpt_tctx *t = g->t;
	int variant = t->c ? t->c->variant : 0;
	const char *why;
	char buf[256];
	int fb;

	why = odpt_case_op_unadvertised(odpt_vctx_caps(t->v), wr->op, variant, buf, sizeof(buf));
	if (!why && t->vr != t->v)
		why = odpt_case_op_unadvertised(odpt_vctx_caps(t->vr), wr->op, variant, buf,
						 sizeof(buf));
	if (why)
		return tc_skip(t, "%s cannot be posted: %s", odpt_vop_name(wr->op), why);
	fb = odpt_vpair_ex_fallback(g->p);
	if (fb)
		return tc_fail(t, "%s cannot be posted although the device advertises it: creating the QP with extended send ops failed (%s) and the pair fell back to a plain QP",
			       odpt_vop_name(wr->op), strerror(-fb));
	return tc_fail(t, "%s cannot be posted (EOPNOTSUPP) although the device advertises it",
		       odpt_vop_name(wr->op));
}

int rig_op(struct rig *g, const struct odpt_vwr *wr, struct odpt_vwc *wc)
{
	int ret;

	tc_stage(g->t, "posting %s wr_id %llu on QP side 0", odpt_vop_name(wr->op),
		 (unsigned long long)wr->wr_id);
	ret = odpt_vpair_post(g->p, 0, wr);
	if (ret == -EOPNOTSUPP)
		return post_unsupported(g, wr);
	if (ret)
		return tc_fail(g->t, "posting %s: %s", odpt_vop_name(wr->op), strerror(-ret));
	tc_stage(g->t, "polling send CQ of QP side 0 (requester) for %s wr_id %llu",
		 odpt_vop_name(wr->op), (unsigned long long)wr->wr_id);
	ret = odpt_vpair_poll(g->p, 0, ODPT_CQ_SEND, g->poll_ns, wc);
	if (ret == -ETIMEDOUT)
		return tc_fail(g->t, "no completion for %s wr_id %llu on the requester send CQ within %llu s (stall bound): the device stopped completing work requests",
			       odpt_vop_name(wr->op), (unsigned long long)wr->wr_id,
			       (unsigned long long)(g->poll_ns / 1000000000ull));
	if (ret)
		return tc_fail(g->t, "polling for %s: %s", odpt_vop_name(wr->op), strerror(-ret));
	return 0;
}

int rig_op_ok(struct rig *g, const struct odpt_vwr *wr)
{
	struct odpt_vwc wc;
	int ret = rig_op(g, wr, &wc);

	if (ret)
		return ret;
	if (wc.status != ODPT_WC_SUCCESS)
		return tc_fail(g->t, "%s completed with status %d (%s), want success",
			       odpt_vop_name(wr->op), wc.status, wc.status_str);
	return 0;
}

int rig_recv(struct rig *g, const struct odpt_vsge *sge, int nsge)
{
	int ret;

	tc_stage(g->t, "posting RECV on QP side 1");
	ret = odpt_vpair_post_recv(g->p, 1, 1, sge, nsge);
	if (ret)
		return tc_fail(g->t, "posting RECV: %s", strerror(-ret));
	return 0;
}

int rig_recv_wait(struct rig *g, struct odpt_vwc *wc)
{
	int ret;

	tc_stage(g->t, "polling recv CQ of QP side 1 (responder)");
	ret = odpt_vpair_poll(g->p, 1, ODPT_CQ_RECV, g->poll_ns, wc);
	if (ret == -ETIMEDOUT)
		return tc_fail(g->t, "no completion on the responder recv CQ within %llu s (stall bound): the device stopped completing work requests",
			       (unsigned long long)(g->poll_ns / 1000000000ull));
	if (ret)
		return tc_fail(g->t, "polling the responder recv CQ: %s", strerror(-ret));
	if (wc->status != ODPT_WC_SUCCESS)
		return tc_fail(g->t, "RECV completed with status %d (%s), want success",
			       wc->status, wc->status_str);
	return 0;
}

size_t rig_chunk(const struct rig *g)
{
	size_t mtu = (size_t)odpt_vpair_mtu_bytes(g->p);

	return mtu < g->pg ? mtu : g->pg;
}

int rig_xfer(struct rig *g, enum odpt_vop op, size_t loff, size_t roff, size_t len,
	     bool split)
{
	size_t chunk = split ? rig_chunk(g) : len;
	size_t step = split ? g->pg : (len ? len : 1);
	size_t o = 0;
	int ret;

	do {
		size_t n = len - o < chunk ? len - o : chunk;
		struct odpt_vwr wr = {
			.op = op, .nsge = n ? 1 : 0,
			.remote_addr = (uintptr_t)(g->rbuf + roff + o), .rkey = rig_rkey(g),
		};

		wr.sge[0].addr = (uintptr_t)(g->lbuf + loff + o);
		wr.sge[0].len_bytes = (uint32_t)n;
		wr.sge[0].lkey = rig_lkey(g);
		if (op == ODPT_OP_SEND) {
			struct odpt_vsge rs = { (uintptr_t)(g->rbuf + roff + o), (uint32_t)n,
						rig_rlkey(g) };
			struct odpt_vwc wc;

			ret = rig_recv(g, &rs, n ? 1 : 0);
			if (!ret)
				ret = rig_op_ok(g, &wr);
			if (!ret)
				ret = rig_recv_wait(g, &wc);
			if (ret)
				return ret;
			if (wc.byte_len != n)
				return tc_fail(g->t, "RECV byte_len %u, want %zu", wc.byte_len, n);
		} else {
			ret = rig_op_ok(g, &wr);
			if (ret)
				return ret;
		}
		o += step;
	} while (o < len);
	return 0;
}

bool rig_check_xfer(struct rig *g, const char *what, const uint8_t *dst, size_t len,
		    uint64_t seed, bool split, int guard)
{
	size_t chunk = split ? rig_chunk(g) : len;
	size_t step = split ? g->pg : (len ? len : 1);
	char w[128];

	for (size_t o = 0; o < len; o += step) {
		size_t n = len - o < chunk ? len - o : chunk;
		size_t rest = (len - o < step ? len - o : step) - n;

		snprintf(w, sizeof(w), "%s (bytes %zu..%zu)", what, o, o + n);
		if (!check_pat(g->t, w, dst + o, n, seed, o))
			return false;
		snprintf(w, sizeof(w), "%s (untouched rest of page at %zu)", what, o);
		if (guard >= 0 && rest && !check_byte(g->t, w, dst + o + n, rest, (uint8_t)guard))
			return false;
	}
	return true;
}

int rig_reset(struct rig *g)
{
	int ret;

	tc_stage(g->t, "resetting the QP pair after an error completion");
	ret = odpt_vpair_reset(g->p);
	if (ret)
		return tc_fail(g->t, "resetting QPs: %s", strerror(-ret));
	return 0;
}

/* ---- work requests the cases share ------------------------------------------ */

struct odpt_vsge rig_sge(const struct rig *g, bool remote, size_t off, size_t len)
{
	struct odpt_vsge s = {
		.addr = (uintptr_t)((remote ? g->rbuf : g->lbuf) + off),
		.len_bytes = (uint32_t)len,
		.lkey = remote ? rig_rlkey(g) : rig_lkey(g),
	};

	return s;
}

struct odpt_vwr rig_wr_to(const struct rig *g, enum odpt_vop op, size_t loff,
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

int rig_expect_rem_access(struct rig *g, const struct odpt_vwr *wr, const char *why)
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

int rig_write_check(struct rig *g, size_t off, size_t len, uint64_t seed,
		    const char *what)
{
	int ret;

	pat_fill(g->lbuf + off, len, seed, 0);
	ret = rig_xfer(g, ODPT_OP_WRITE, off, off, len, true);
	if (ret)
		return ret;
	return rig_check_xfer(g, what, g->rbuf + off, len, seed, true, -1) ? 0 : ODPT_FAIL;
}

int rig_read_check(struct rig *g, size_t off, size_t len, uint64_t seed,
		   const char *what)
{
	int ret;

	memset(g->lbuf + off, 0, len);
	ret = rig_xfer(g, ODPT_OP_READ, off, off, len, true);
	if (ret)
		return ret;
	return rig_check_xfer(g, what, g->lbuf + off, len, seed, true, 0) ? 0 : ODPT_FAIL;
}
