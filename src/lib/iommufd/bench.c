// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt iommufd bench`: what pinning and mapping user memory into an IOAS
 * costs. Each round times one IOMMU_IOAS_MAP (IOMMU_IOAS_MAP_FILE for memfd)
 * from the ioctl's entry to its return, then one IOMMU_IOAS_UNMAP of the
 * same range, through the selftest mock domain attached to the IOAS, the
 * platform IOMMU's domain of QEMU's edu attached through VFIO (intel-iommu
 * in the lab), or an IOAS with no domain, where MAP only records the range. "cold" rounds map
 * a buffer nothing has touched, so the MAP faults and allocates every page;
 * "warm" rounds map the same resident buffer again and again. With --copy,
 * IOMMU_IOAS_COPY of the mapped range into a second IOAS (its own mock
 * device) is timed as well. Each call's time is recorded, and the same
 * divided by the buffer's base pages (per page), as series named like the
 * shim bench's (map_ns_per_call, map_ns_per_page, ...) with the labels
 * mode=iommufd, backing, size_bytes, run, domain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/procfs.h"
#include "odpt/log.h"
#include "odpt/opts.h"
#include "odpt/report.h"
#include "odpt/vfio_edu.h"
#include "edu_int.h"
#include "iommufd_int.h"

#define HUGE_2M (2ULL << 20)
#define HEADROOM_BYTES (256ULL << 20)

static const char *const backing_names[ODPT_IOMMUFD_BACK_N] = {
	[ODPT_IOMMUFD_BACK_ANON] = "anon",
	[ODPT_IOMMUFD_BACK_THP] = "thp",
	[ODPT_IOMMUFD_BACK_HUGETLB] = "hugetlb",
	[ODPT_IOMMUFD_BACK_MEMFD] = "memfd",
};

const char *odpt_iommufd_backing_name(enum odpt_iommufd_backing b)
{
	return b < ODPT_IOMMUFD_BACK_N ? backing_names[b] : "?";
}

int odpt_iommufd_parse_backings(const char *list, unsigned *mask)
{
	char buf[128], *save = NULL, *tok;
	int b;

	if (!list || strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (b = 0; b < ODPT_IOMMUFD_BACK_N; b++)
			if (!strcmp(tok, backing_names[b]))
				break;
		if (b == ODPT_IOMMUFD_BACK_N)
			return -EINVAL;
		*mask |= 1u << b;
	}
	return *mask ? 0 : -EINVAL;
}

int odpt_iommufd_parse_sizes(const char *list, uint64_t page, uint64_t *sizes, int max,
			     int *n)
{
	char buf[256], *save = NULL, *tok;

	if (!list || strlen(list) >= sizeof(buf) || !page)
		return -EINVAL;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= max || odpt_parse_size(tok, &sizes[*n]) || !sizes[*n] ||
		    sizes[*n] % page)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

/* /proc/meminfo "KEY: N kB" in bytes (or N for counts), 0 if absent. */
static uint64_t meminfo(const char *key, bool kb)
{
	char line[256];
	size_t klen = strlen(key);
	unsigned long long v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			sscanf(line + klen + 1, "%llu", &v);
			break;
		}
	fclose(f);
	return kb ? v * 1024 : v;
}

static bool thp_enabled(char *mode, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	char line[128] = "";

	snprintf(mode, len, "absent");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f)) {
		char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;

		if (a && b) {
			*b = '\0';
			snprintf(mode, len, "%s", a + 1);
		}
	}
	fclose(f);
	return strcmp(mode, "never") && strcmp(mode, "absent");
}

/* Why (backing, size) cannot run, or NULL. */
static const char *cannot_run(const struct odpt_iommufd_bench_cfg *cfg, int b, uint64_t size,
			      char *why, size_t len)
{
	uint64_t avail = odpt_mem_available_bytes();
	struct rlimit rl;
	char mode[32];

	if (b == ODPT_IOMMUFD_BACK_MEMFD && odpt_iommufd_build_gap(ODPT_IOMMUFD_F_MAP_FILE)) {
		snprintf(why, len, "%s", odpt_iommufd_build_gap(ODPT_IOMMUFD_F_MAP_FILE));
		return why;
	}
	if ((b == ODPT_IOMMUFD_BACK_THP || b == ODPT_IOMMUFD_BACK_HUGETLB) && size % HUGE_2M) {
		snprintf(why, len, "%" PRIu64 " bytes is not a multiple of a 2 MiB huge page", size);
		return why;
	}
	if (b == ODPT_IOMMUFD_BACK_THP && !thp_enabled(mode, sizeof(mode))) {
		snprintf(why, len, "transparent huge pages are '%s' (/sys/kernel/mm/transparent_hugepage/enabled)",
			 mode);
		return why;
	}
	if (b == ODPT_IOMMUFD_BACK_HUGETLB) {
		uint64_t hsz = meminfo("Hugepagesize", true);
		uint64_t nfree = meminfo("HugePages_Free", false);

		if (hsz != HUGE_2M || nfree * hsz < size) {
			snprintf(why, len,
				 "needs %" PRIu64 " free 2 MiB hugetlb pages, HugePages_Free is %" PRIu64
				 " of %" PRIu64 " KiB (raise /proc/sys/vm/nr_hugepages)",
				 (uint64_t)(size / HUGE_2M), nfree, hsz >> 10);
			return why;
		}
	} else if (size + HEADROOM_BYTES > avail) {
		snprintf(why, len, "needs %" PRIu64 " bytes + 256 MiB headroom, MemAvailable is %" PRIu64,
			 size, avail);
		return why;
	}
	/* Pinned pages are charged to RLIMIT_MEMLOCK unless CAP_IPC_LOCK. */
	if (cfg->mock && !ifd_cap_ipc_lock() && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < size) {
		snprintf(why, len, "RLIMIT_MEMLOCK is %llu bytes, below %" PRIu64
			 " (and no CAP_IPC_LOCK): raise it with ulimit -l",
			 (unsigned long long)rl.rlim_cur, size);
		return why;
	}
	return NULL;
}

/* One buffer of a backing: its address, and its memfd for MAP_FILE. */
struct buf {
	uint8_t *va;
	uint64_t len;
	size_t map_len;   /* what munmap() takes (THP: the aligned slice) */
	int mfd;
};

static int buf_alloc(int b, uint64_t len, struct buf *out)
{
	uint8_t *p = MAP_FAILED;

	memset(out, 0, sizeof(*out));
	out->mfd = -1;
	out->len = len;
	out->map_len = len;
	switch (b) {
	case ODPT_IOMMUFD_BACK_ANON:
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		/* 4 KiB pages only: THP is its own backing. */
		if (p != MAP_FAILED && madvise(p, len, MADV_NOHUGEPAGE))
			goto fail_unmap;
		break;
	case ODPT_IOMMUFD_BACK_THP: {
		uint8_t *raw = mmap(NULL, len + HUGE_2M, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (raw == MAP_FAILED)
			return -errno;
		p = (uint8_t *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
		if (p > raw)
			munmap(raw, (size_t)(p - raw));
		if (p + len < raw + len + HUGE_2M)
			munmap(p + len, (size_t)(raw + len + HUGE_2M - (p + len)));
		if (madvise(p, len, MADV_HUGEPAGE))
			goto fail_unmap;
		break;
	}
	case ODPT_IOMMUFD_BACK_HUGETLB:
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
		break;
	case ODPT_IOMMUFD_BACK_MEMFD:
		out->mfd = memfd_create("odpt-iommufd-bench", MFD_CLOEXEC);
		if (out->mfd < 0)
			return -errno;
		if (ftruncate(out->mfd, (off_t)len)) {
			int ret = -errno;

			close(out->mfd);
			return ret;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, out->mfd, 0);
		break;
	}
	if (p == MAP_FAILED) {
		int ret = -errno;

		if (out->mfd >= 0)
			close(out->mfd);
		return ret;
	}
	out->va = p;
	return 0;
fail_unmap:
	{
		int ret = -errno;

		munmap(p, len);
		return ret;
	}
}

static void buf_free(struct buf *b)
{
	if (b->va)
		munmap(b->va, b->map_len);
	if (b->mfd >= 0)
		close(b->mfd);
	b->va = NULL;
	b->mfd = -1;
}

struct series {
	struct odpt_hist *call, *page;
};

struct bench_ctx {
	struct odpt_report *r;
	const struct odpt_iommufd_bench_cfg *cfg;
	struct ifd_ctx ic, dst;   /* dst: the second IOAS, for COPY */
	struct series map, unmap, copy;
	const char *domain;
	struct odpt_edu *edu;     /* --domain=edu: owns ic.fd */
	struct odpt_edu_dev edu_dev;
};

static int series_create(struct series *s)
{
	int ret = odpt_hist_create_default(&s->call);

	return ret ? ret : odpt_hist_create_default(&s->page);
}

static void series_destroy(struct series *s)
{
	odpt_hist_destroy(s->call);
	odpt_hist_destroy(s->page);
}

static void series_record(struct series *s, uint64_t ns, uint64_t pages)
{
	odpt_hist_record(s->call, ns ? ns : 1);
	odpt_hist_record(s->page, ns / pages ? ns / pages : 1);
}

/* Into the report under "<what>_ns_per_call" / "_per_page", then reset. */
static int series_emit(struct bench_ctx *c, struct series *s, const char *what, int b,
		       uint64_t size, const char *run)
{
	char sz[32], name[64];
	struct odpt_label l[] = {
		{ "mode", "iommufd" }, { "backing", backing_names[b] }, { "size_bytes", sz },
		{ "run", run }, { "domain", c->domain },
	};
	int ret = 0;

	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	if (odpt_hist_count(s->call)) {
		snprintf(name, sizeof(name), "%s_ns_per_call", what);
		ret = odpt_report_hist(c->r, name, l, 5, s->call);
		snprintf(name, sizeof(name), "%s_ns_per_page", what);
		if (!ret)
			ret = odpt_report_hist(c->r, name, l, 5, s->page);
	}
	odpt_hist_reset(s->call);
	odpt_hist_reset(s->page);
	return ret;
}

static int do_map(struct bench_ctx *c, int b, const struct buf *bf, uint64_t *iova,
		  uint64_t *ns)
{
	uint64_t t0;
	int ret;

	*iova = 0;
	t0 = odpt_now_ns();
	if (b == ODPT_IOMMUFD_BACK_MEMFD)
		ret = odpt_iommufd_map_file(c->ic.fd, c->ic.ioas_id, bf->mfd, 0, bf->len,
					    ODPT_IOMMUFD_MAP_RW, iova);
	else
		ret = odpt_iommufd_map(c->ic.fd, c->ic.ioas_id, bf->va, bf->len,
				       ODPT_IOMMUFD_MAP_RW, iova);
	*ns = odpt_now_ns() - t0;
	return ret;
}

static int do_unmap(struct bench_ctx *c, uint64_t iova, uint64_t len, uint64_t *ns)
{
	uint64_t t0 = odpt_now_ns(), unmapped = 0;
	int ret = odpt_iommufd_unmap(c->ic.fd, c->ic.ioas_id, iova, len, &unmapped);

	*ns = odpt_now_ns() - t0;
	if (!ret && unmapped != len) {
		odpt_err("iommufd bench: UNMAP of %" PRIu64 " bytes unmapped %" PRIu64, len, unmapped);
		return -EIO;
	}
	return ret;
}

static void touch(struct buf *bf)
{
	memset(bf->va, 0x5a, bf->len);
}

static int add_test(struct bench_ctx *c, const char *name, enum odpt_test_result res,
		    const char *reason)
{
	struct odpt_test_record t = { .name = name, .result = res, .reason = reason };

	return odpt_report_test(c->r, &t);
}

static int bench_one(struct bench_ctx *c, int b, uint64_t size, uint64_t rounds)
{
	uint64_t pages = size / ifd_page_size(), i, iova, ns, dst_iova;
	char sz[32], name[96], why[160];
	struct odpt_label l[] = {
		{ "mode", "iommufd" }, { "backing", backing_names[b] }, { "size_bytes", sz },
		{ "run", "cold" }, { "domain", c->domain },
	};
	struct buf bf;
	int ret = 0;

	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	/* Cold: a new buffer each round, untouched, so MAP faults every page in. */
	for (i = 0; i < rounds && !ret; i++) {
		ret = buf_alloc(b, size, &bf);
		if (ret) {
			odpt_err("iommufd bench: %s buffer of %s bytes: %s", backing_names[b], sz,
				 strerror(-ret));
			return ret;
		}
		ret = do_map(c, b, &bf, &iova, &ns);
		if (!ret) {
			series_record(&c->map, ns, pages);
			ret = do_unmap(c, iova, size, &ns);
			if (!ret)
				series_record(&c->unmap, ns, pages);
		}
		buf_free(&bf);
	}
	if (ret) {
		odpt_err("iommufd bench: cold %s %s: %s", backing_names[b], sz, strerror(-ret));
		return ret;
	}
	ret = odpt_report_scalar(c->r, "rounds", l, 5, (double)rounds);
	if (!ret)
		ret = series_emit(c, &c->map, "map", b, size, "cold");
	if (!ret)
		ret = series_emit(c, &c->unmap, "unmap", b, size, "cold");
	if (ret)
		return ret;

	/* Warm: one resident buffer, mapped and unmapped again and again. */
	ret = buf_alloc(b, size, &bf);
	if (ret)
		return ret;
	touch(&bf);
	/* Once, untimed: the mock's page table must point at these pages. */
	if (c->ic.have_mock) {
		ret = do_map(c, b, &bf, &iova, &ns);
		if (ret)
			goto out;
		ret = odpt_iommufd_mock_check_map(c->ic.fd, c->ic.mock.hwpt_id, iova, size, bf.va);
		snprintf(name, sizeof(name), "bench_check_map_%s_%s", backing_names[b], sz);
		snprintf(why, sizeof(why), "IOMMU_TEST_OP_MD_CHECK_MAP of iova 0x%" PRIx64 ": %s",
			 iova, ret ? strerror(-ret) : "ok");
		ret = add_test(c, name, ret ? ODPT_FAIL : ODPT_PASS, why);
		if (!ret)
			ret = do_unmap(c, iova, size, &ns);
		if (ret)
			goto out;
	}
	for (i = 0; i < rounds && !ret; i++) {
		ret = do_map(c, b, &bf, &iova, &ns);
		if (ret)
			break;
		series_record(&c->map, ns, pages);
		ret = do_unmap(c, iova, size, &ns);
		if (!ret)
			series_record(&c->unmap, ns, pages);
	}
	if (!ret)
		ret = series_emit(c, &c->map, "map", b, size, "warm");
	if (!ret)
		ret = series_emit(c, &c->unmap, "unmap", b, size, "warm");
	if (ret || !c->cfg->copy)
		goto out;

	/* COPY: the pinned pages of one IOAS mapped into another, no new pins. */
	ret = do_map(c, b, &bf, &iova, &ns);
	for (i = 0; i < rounds && !ret; i++) {
		uint64_t t0 = odpt_now_ns();

		dst_iova = 0;
		ret = odpt_iommufd_copy(c->dst.fd, c->dst.ioas_id, c->ic.ioas_id, iova, size,
					ODPT_IOMMUFD_MAP_RW, &dst_iova);
		ns = odpt_now_ns() - t0;
		if (!ret) {
			series_record(&c->copy, ns, pages);
			ret = odpt_iommufd_unmap(c->dst.fd, c->dst.ioas_id, dst_iova, size, NULL);
		}
	}
	if (!ret)
		ret = do_unmap(c, iova, size, &ns);
	if (!ret)
		ret = series_emit(c, &c->copy, "copy", b, size, "warm");
out:
	if (ret)
		odpt_err("iommufd bench: warm %s %s: %s", backing_names[b], sz, strerror(-ret));
	buf_free(&bf);
	return ret;
}

/*
 * --domain=edu: edu bound to vfio-pci, attached to a fresh IOAS of its own
 * iommufd; the bench maps into that IOAS, so every MAP goes through the
 * platform IOMMU's domain. -ENODEV with the SKIP reason when the machine
 * cannot (no edu, no IOMMU, ...), another -errno when opening failed.
 */
static int edu_open(struct bench_ctx *c, char *why, size_t len)
{
	const struct odpt_edu_info *in;
	struct odpt_edu_why w = { 0 };
	int ret;

	ret = odpt_edu_find(NULL, c->cfg->edu_device, c->cfg->force_bind, &c->edu_dev, &w);
	if (!ret)
		ret = odpt_edu_open(&c->edu_dev, &c->edu, &w);
	if (ret) {
		snprintf(why, len, "%s", w.text);
		return w.skip ? -ENODEV : ret;
	}
	in = odpt_edu_info(c->edu);
	c->ic.fd = edu_rs.iommufd;
	c->ic.ioas_id = in->ioas_id;
	c->domain = c->edu_dev.domain;
	return 0;
}

int odpt_iommufd_bench(struct odpt_report *r, const struct odpt_iommufd_bench_cfg *cfg,
		       bool *skipped)
{
	struct bench_ctx c = { .r = r, .cfg = cfg, .domain = cfg->mock ? "mock" : "none" };
	const char *stage;
	char why[340], name[96], mode[32];
	int ret, i, b;

	c.ic.fd = c.dst.fd = -1;
	if (skipped)
		*skipped = false;
	if (cfg->edu)
		ret = edu_open(&c, why, sizeof(why));
	else if (ifd_unavailable(cfg->dev, cfg->mock, why, sizeof(why)))
		ret = -ENODEV;
	else
		ret = 0;
	if (ret == -ENODEV) {
		if (skipped)
			*skipped = true;
		return odpt_report_skip_all(r, why);
	}
	if (ret) {
		odpt_err("iommufd bench: %s", why);
		return ret;
	}
	/* COPY needs a second IOAS in the same file: one context holds both. */
	if (!cfg->edu) {
		ret = ifd_ctx_open(cfg->dev, cfg->mock, &c.ic, &stage);
		if (ret) {
			odpt_err("iommufd bench: %s: %s", stage, strerror(-ret));
			return ret;
		}
	}
	c.dst = c.ic;
	ret = odpt_iommufd_ioas_alloc(c.ic.fd, &c.dst.ioas_id);
	if (!ret && cfg->mock && !cfg->edu)
		ret = odpt_iommufd_mock_domain(c.ic.fd, c.dst.ioas_id, &c.dst.mock);
	if (ret) {
		odpt_err("iommufd bench: the COPY destination IOAS: %s", strerror(-ret));
		goto out;
	}
	ret = series_create(&c.map);
	if (!ret)
		ret = series_create(&c.unmap);
	if (!ret)
		ret = series_create(&c.copy);
	thp_enabled(mode, sizeof(mode));
	if (!ret)
		ret = odpt_report_meta(r, "iommufd_domain", c.domain);
	if (!ret && c.edu)
		ret = odpt_report_meta(r, "edu_bdf", c.edu_dev.bdf);
	if (!ret && c.edu)
		ret = odpt_report_meta(r, "iommu", c.edu_dev.iommu);
	if (!ret)
		ret = odpt_report_meta(r, "thp_enabled", mode);
	if (!ret)
		ret = odpt_report_meta(r, "pinned_pages_charged",
				       ifd_cap_ipc_lock() ? "no (CAP_IPC_LOCK)" : "RLIMIT_MEMLOCK");
	for (b = 0; b < ODPT_IOMMUFD_BACK_N && !ret; b++) {
		if (!(cfg->backings & (1u << b)))
			continue;
		for (i = 0; i < cfg->nsizes && !ret; i++) {
			uint64_t rounds = cfg->iters;

			if (cannot_run(cfg, b, cfg->sizes[i], why, sizeof(why))) {
				snprintf(name, sizeof(name), "bench_%s_%" PRIu64, backing_names[b],
					 cfg->sizes[i]);
				odpt_warn("iommufd bench: skipping %s: %s", name, why);
				ret = add_test(&c, name, ODPT_SKIP, why);
				continue;
			}
			/* Big sizes do fewer rounds: max_bytes per run, at least one. */
			if (cfg->max_bytes && rounds * cfg->sizes[i] > cfg->max_bytes)
				rounds = cfg->max_bytes / cfg->sizes[i] ? cfg->max_bytes / cfg->sizes[i] : 1;
			odpt_info("iommufd bench: %s %" PRIu64 " bytes, %" PRIu64 " rounds",
				  backing_names[b], cfg->sizes[i], rounds);
			ret = bench_one(&c, b, cfg->sizes[i], rounds);
		}
	}
out:
	series_destroy(&c.map);
	series_destroy(&c.unmap);
	series_destroy(&c.copy);
	if (c.edu) {
		char now[64];

		/* The fd is edu's: closing edu frees both IOASes and gives it back. */
		if (odpt_edu_close(c.edu, now, sizeof(now)) && !ret) {
			odpt_err("iommufd bench: edu %s was not given back to its driver (now: %s)",
				 c.edu_dev.bdf, now[0] ? now : "none");
			ret = -EIO;
		}
	} else {
		ifd_ctx_close(&c.ic);
	}
	return ret;
}
