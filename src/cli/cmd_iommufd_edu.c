// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt iommufd edu`: DMA from QEMU's edu device through an iommufd
 * mapping, driven entirely from userspace (include/odpt/vfio_edu.h). For
 * each size a seeded source and a poisoned destination buffer are mapped
 * into edu's IOAS with IOMMU_IOAS_MAP; edu copies pages RAM -> its buffer
 * -> RAM and every byte of the destination is checked (copied pages equal
 * the source, the others still hold their poison). Then a page is unmapped
 * and edu is pointed at it: its memory must not change, the device must not
 * read it, and the IOMMU's fault must show in the kernel log. Latency of
 * every IOMMU_IOAS_MAP / UNMAP call and of each page's DMA round trip go
 * into histograms; edu is given back to its driver and that is checked too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odpt/vfio_edu.h"
#include "cli.h"

#define EDU_MAX_SIZES     16
#define EDU_MAX_SIZE      (1ULL << 30)
#define EDU_DEFAULT_IOVA  0x1000000ULL   /* 16 MiB: below a clamping edu's 2^28 for small sizes */
#define EDU_FAULT_WAIT_MS 2000u
/* Seeds of the buffers' patterns, 2^40 words apart in the stream so that no
 * page of one equals a page of another. */
#define EDU_SEED_STEP     (1ULL << 40)

struct edu_cfg {
	const char *sizes;
	uint64_t iters;
	const char *iova;
	uint64_t dma_pages;
	uint64_t seed;
	const char *device;
	bool force_bind;
};

const struct odpt_opt odpt_iommufd_edu_opts[] = {
	{ .name = "sizes", .type = ODPT_OPT_STR, .offset = offsetof(struct edu_cfg, sizes),
	  .def = "4K,64K,1M,16M", .metavar = "LIST",
	  .help = "buffer sizes (comma separated, K/M/G suffixes, multiples of 4 KiB, at most 1G)" },
	{ .name = "iters", .type = ODPT_OPT_U64, .offset = offsetof(struct edu_cfg, iters),
	  .def = "8", .min = 1, .max = 100000, .metavar = "N",
	  .help = "IOMMU_IOAS_MAP + UNMAP rounds per size (edu copies in the first)" },
	{ .name = "iova", .type = ODPT_OPT_STR, .offset = offsetof(struct edu_cfg, iova),
	  .def = "auto", .metavar = "ADDR",
	  .help = "IOVA of the source buffer, the destination right after it (page aligned; auto: 0x1000000 when the IOAS allows it, else the first allowed range that fits)" },
	{ .name = "dma-pages", .type = ODPT_OPT_U64, .offset = offsetof(struct edu_cfg, dma_pages),
	  .def = "64", .min = 0, .max = 1 << 20, .metavar = "N",
	  .help = "pages edu copies per size, spread evenly with the first and last (0: every page; each costs ~0.2 s of QEMU's edu)" },
	{ .name = "seed", .type = ODPT_OPT_U64, .offset = offsetof(struct edu_cfg, seed),
	  .def = "1", .metavar = "N", .help = "seed of the byte patterns" },
	{ .name = "device", .type = ODPT_OPT_STR, .offset = offsetof(struct edu_cfg, device),
	  .metavar = "BDF", .help = "edu's PCI address, e.g. 0000:00:03.0 (default: the first edu)" },
	{ .name = "force-bind", .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct edu_cfg, force_bind),
	  .help = "take edu from a driver other than odpt's shim (it is given back after the run)" },
	ODPT_OPT_END,
};

/* For option parsing and usage messages (the verb's table entry lives with
 * the iommufd object). */
static const struct odpt_verb self = {
	"edu", odpt_iommufd_edu_run, ODPT_IOMMUFD_EDU_SUMMARY, odpt_iommufd_edu_opts,
};

struct edu_run {
	struct odpt_report *r;
	struct odpt_edu *e;
	const struct odpt_edu_dev *d;
	const struct edu_cfg *cfg;
	uint64_t iova;
	bool dead;          /* a transfer timed out: edu's engine is off */
};

static int parse_sizes(const char *list, uint64_t *sizes, int *n)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= EDU_MAX_SIZES || odpt_parse_size(tok, &sizes[*n]) || !sizes[*n] ||
		    sizes[*n] % ODPT_EDU_PAGE || sizes[*n] > EDU_MAX_SIZE)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

/* "auto" (*is_auto) or a page-aligned address. */
static int parse_iova(const char *s, uint64_t *iova, bool *is_auto)
{
	char *end;

	*is_auto = !strcmp(s, "auto");
	if (*is_auto)
		return 0;
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*iova = strtoull(s, &end, 0);
	if (errno || *end || *iova % ODPT_EDU_PAGE)
		return -EINVAL;
	return 0;
}

static int add_test(struct odpt_report *r, const char *name, enum odpt_test_result res,
		    const char *reason, const char *diag, uint64_t t0)
{
	struct odpt_test_record t = {
		.name = name,
		.result = res,
		.reason = res == ODPT_PASS ? NULL : reason,
		.diag = diag && diag[0] ? diag : NULL,
		.duration_ns = odpt_now_ns() - t0,
		.iterations = 1,
	};

	return odpt_report_test(r, &t);
}

static void *map_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* backing=anon means 4 KiB pages: keep THP out of the timings. */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static int add_hist(struct edu_run *x, const char *name, const char *sz,
		    const struct odpt_hist *h)
{
	struct odpt_label l[] = {
		{ "domain", x->d->domain }, { "size_bytes", sz }, { "backing", "anon" },
	};

	if (!odpt_hist_count(h))
		return 0;
	return odpt_report_hist(x->r, name, l, 3, h);
}

/* Bytes of two pages that differ; *first the offset of the first. */
static size_t page_diff(const uint8_t *a, const uint8_t *b, size_t *first)
{
	size_t i, bad = 0;

	if (!memcmp(a, b, ODPT_EDU_PAGE))
		return 0;
	for (i = 0; i < ODPT_EDU_PAGE; i++)
		if (a[i] != b[i] && !bad++)
			*first = i;
	return bad;
}

struct size_hists {
	struct odpt_hist *map, *unmap, *rtt;
};

/*
 * edu copies page p of src (at IOVA a) to page p of dst (at IOVA b) through
 * its buffer, for the evenly spread pages of the sample (marked in picked).
 * Returns 0 or the transfer's -errno with *stage naming it.
 */
static int copy_pages(struct edu_run *x, uint64_t a, uint64_t b, uint64_t npages,
		      uint64_t ndma, uint8_t *picked, struct odpt_hist *rtt,
		      char *stage, size_t len)
{
	uint64_t k, p, t0;
	int ret;

	for (k = 0; k < ndma; k++) {
		p = ndma == 1 ? 0 : k * (npages - 1) / (ndma - 1);
		t0 = odpt_now_ns();
		ret = odpt_edu_dma_to_dev(x->e, a + p * ODPT_EDU_PAGE, NULL);
		if (ret) {
			snprintf(stage, len, "edu reading page %" PRIu64 " at IOVA 0x%" PRIx64, p,
				 a + p * ODPT_EDU_PAGE);
			return ret;
		}
		ret = odpt_edu_dma_to_ram(x->e, b + p * ODPT_EDU_PAGE, NULL);
		if (ret) {
			snprintf(stage, len, "edu writing page %" PRIu64 " at IOVA 0x%" PRIx64, p,
				 b + p * ODPT_EDU_PAGE);
			return ret;
		}
		odpt_hist_record(rtt, odpt_now_ns() - t0);
		picked[p] = 1;
	}
	return 0;
}

static int run_size(struct edu_run *x, uint64_t size)
{
	const uint64_t npages = size / ODPT_EDU_PAGE, a = x->iova, b = x->iova + size;
	const uint64_t seed_src = x->cfg->seed, seed_dst = x->cfg->seed + EDU_SEED_STEP;
	uint64_t ndma = x->cfg->dma_pages, it, ns, p, t0 = odpt_now_ns();
	struct size_hists h = { 0 };
	char name[96], sz[24], why[320] = "", diag[768] = "";
	size_t bad = 0, bad_src, first = 0, f;
	uint64_t first_page = 0;
	uint8_t *src, *dst, *picked;
	int ret = 0, err = 0;

	snprintf(name, sizeof(name), "edu DMA through iommufd, %" PRIu64 " bytes, byte-exact", size);
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	if (!ndma || ndma > npages)
		ndma = npages;
	if ((uint64_t)sysconf(_SC_AVPHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) <
	    2 * size + (64ULL << 20)) {
		snprintf(why, sizeof(why), "needs 2 x %s bytes and 64 MiB to spare; only %llu bytes free",
			 sz, (unsigned long long)sysconf(_SC_AVPHYS_PAGES) *
			 (unsigned long long)sysconf(_SC_PAGESIZE));
		return add_test(x->r, name, ODPT_SKIP, why, NULL, t0);
	}
	src = map_pages(size);
	dst = map_pages(size);
	picked = calloc(npages, 1);
	if (!src || !dst || !picked || odpt_hist_create_default(&h.map) ||
	    odpt_hist_create_default(&h.unmap) || odpt_hist_create_default(&h.rtt)) {
		odpt_err("iommufd edu: out of memory for %s bytes", sz);
		ret = -ENOMEM;
		goto out;
	}
	odpt_edu_pattern(src, size, seed_src, 0);
	odpt_edu_pattern(dst, size, seed_dst, 0);
	odpt_info("iommufd edu: %s bytes at IOVA 0x%" PRIx64 ", %" PRIu64 " rounds", sz, a,
		  x->cfg->iters);

	for (it = 0; it < x->cfg->iters && !err; it++) {
		err = odpt_edu_map(x->e, src, size, a, &ns);
		if (err) {
			snprintf(why, sizeof(why), "IOMMU_IOAS_MAP of %s bytes at IOVA 0x%" PRIx64 ": %s",
				 sz, a, strerror(-err));
			break;
		}
		odpt_hist_record(h.map, ns);
		err = odpt_edu_map(x->e, dst, size, b, &ns);
		if (err) {
			snprintf(why, sizeof(why), "IOMMU_IOAS_MAP of %s bytes at IOVA 0x%" PRIx64 ": %s",
				 sz, b, strerror(-err));
			odpt_edu_unmap(x->e, a, size, NULL);
			break;
		}
		odpt_hist_record(h.map, ns);
		if (!it && !x->dead) {
			char stage[160];

			err = copy_pages(x, a, b, npages, ndma, picked, h.rtt, stage, sizeof(stage));
			if (err) {
				snprintf(why, sizeof(why), "%s: %s", stage, strerror(-err));
				x->dead = err == -ETIMEDOUT;
			}
		}
		/* Unmap even after a failed transfer: the next size reuses the IOVAs. */
		ret = odpt_edu_unmap(x->e, b, size, &ns);
		if (!ret) {
			odpt_hist_record(h.unmap, ns);
			ret = odpt_edu_unmap(x->e, a, size, &ns);
		}
		if (ret) {
			snprintf(why, sizeof(why), "IOMMU_IOAS_UNMAP of %s bytes: %s", sz, strerror(-ret));
			err = ret;
			ret = 0;
			break;
		}
		odpt_hist_record(h.unmap, ns);
	}

	/* Every byte of the destination, copied or not; and the source intact. */
	for (p = 0; p < npages; p++) {
		uint8_t *dp = dst + p * ODPT_EDU_PAGE;

		size_t at = 0;

		if (picked[p])
			f = page_diff(dp, src + p * ODPT_EDU_PAGE, &at);
		else
			f = odpt_edu_pattern_diff(dp, ODPT_EDU_PAGE, seed_dst, p * ODPT_EDU_PAGE,
						  &at);
		if (f && !bad) {
			first_page = p;
			first = at;
		}
		bad += f;
	}
	bad_src = odpt_edu_pattern_diff(src, size, seed_src, 0, &f);
	{
		uint64_t copied = 0;

		for (p = 0; p < npages; p++)
			copied += picked[p];
		snprintf(diag, sizeof(diag),
			 "edu copied %" PRIu64 " of %" PRIu64 " pages RAM -> edu -> RAM (spread evenly, first and last included); all %s destination bytes checked: %zu wrong; source: %zu bytes changed",
			 copied, npages, sz, bad, bad_src);
		if (bad) {
			size_t used = strlen(diag);

			snprintf(diag + used, sizeof(diag) - used,
				 "\nfirst wrong byte: page %" PRIu64 " (%s) offset %zu",
				 first_page, picked[first_page] ? "copied by edu" : "not copied, poison expected",
				 first);
		}
		if (!err && (bad || bad_src))
			snprintf(why, sizeof(why),
				 "%zu destination bytes wrong (first in page %" PRIu64 "), %zu source bytes changed%s",
				 bad, first_page, bad_src,
				 a + 2 * size > (1ULL << 28) ?
				 " (QEMU clamps edu's DMA addresses to its dma_mask, 28 bits unless started with dma_mask=0xffffffffffffffff)" : "");
		if (!err && !bad && !bad_src && !copied)
			snprintf(why, sizeof(why), "edu copied no page (its engine timed out earlier)");
		ret = add_test(x->r, name,
			       !err && !bad && !bad_src && copied ? ODPT_PASS : ODPT_FAIL,
			       why, diag, t0);
	}
	if (!ret)
		ret = add_hist(x, "map_ns", sz, h.map);
	if (!ret)
		ret = add_hist(x, "unmap_ns", sz, h.unmap);
	if (!ret)
		ret = add_hist(x, "dma_round_trip_ns", sz, h.rtt);
out:
	odpt_hist_destroy(h.map);
	odpt_hist_destroy(h.unmap);
	odpt_hist_destroy(h.rtt);
	free(picked);
	if (src)
		munmap(src, size);
	if (dst)
		munmap(dst, size);
	return ret;
}

/* What a page the device wrote after a blocked read holds. */
static const char *describe_page(const uint8_t *c, uint64_t seed_a, uint64_t seed_c)
{
	size_t i, f;

	if (!odpt_edu_pattern_diff(c, ODPT_EDU_PAGE, seed_a, 0, &f))
		return "edu's buffer unchanged by the read (still the copy of IOVA A)";
	if (!odpt_edu_pattern_diff(c, ODPT_EDU_PAGE, seed_c, 0, &f))
		return "its own old bytes: edu's write to the mapped IOVA C did not arrive";
	for (i = 0; i < ODPT_EDU_PAGE && !c[i]; i++)
		;
	return i == ODPT_EDU_PAGE ? "zeros (the blocked read returned zeros)" : "other bytes";
}

/* The tests @names (NULL-terminated) cannot run: edu's engine is off. */
static int skip_dead(struct edu_run *x, uint64_t t0, const char *const *names)
{
	int ret = 0;

	for (; *names && !ret; names++)
		ret = add_test(x->r, *names, ODPT_SKIP,
			       "edu's engine is off: an earlier transfer timed out", NULL, t0);
	return ret;
}

/* Let intel-iommu's fault-log ratelimit start afresh before a step whose
 * fault must be seen (odpt_kmsg_dmar_quiet()). */
static void dmar_quiet(void)
{
	unsigned ms = 0;

	if (!odpt_kmsg_dmar_quiet(NULL, &ms) && ms)
		odpt_info("iommufd edu: waited %u ms for the kernel's DMAR fault ratelimit", ms);
}

/*
 * Test @name: a DMAR fault naming @iova is in the kernel log (@kfd from
 * odpt_kmsg_open_end(), which returned @kret). SKIP where the IOMMU is not
 * intel-iommu (odpt reads only its fault lines) or /dev/kmsg is unreadable.
 */
static int check_fault(struct edu_run *x, const char *name, int kret, int kfd, uint64_t iova)
{
	struct odpt_dmar_fault faults[8];
	char why[320], diag[1024] = "";
	uint64_t t0 = odpt_now_ns();
	bool w = false, r = false;
	size_t used = 0;
	int i, nf = 0;

	if (kret) {
		snprintf(why, sizeof(why), "cannot read /dev/kmsg: %s", strerror(-kret));
		return add_test(x->r, name, ODPT_SKIP, why, NULL, t0);
	}
	kret = odpt_kmsg_dmar_faults(kfd, EDU_FAULT_WAIT_MS, iova, faults, 8, &nf);
	if (kret) {
		snprintf(why, sizeof(why), "reading /dev/kmsg: %s", strerror(-kret));
		return add_test(x->r, name, ODPT_FAIL, why, NULL, t0);
	}
	for (i = 0; i < nf && i < 8; i++) {
		if ((faults[i].addr & ~(uint64_t)(ODPT_EDU_PAGE - 1)) == iova) {
			w = w || faults[i].write;
			r = r || !faults[i].write;
		}
		used += (size_t)snprintf(diag + used, used < sizeof(diag) ? sizeof(diag) - used : 0,
					 "%s%s", used ? "\n" : "", faults[i].line);
	}
	if (used >= sizeof(diag))
		used = sizeof(diag) - 1;
	if (w || r) {
		snprintf(diag + used, sizeof(diag) - used, "%sfault for IOVA 0x%" PRIx64 " logged: write %s, read %s",
			 used ? "\n" : "", iova, w ? "yes" : "no", r ? "yes" : "no");
		return add_test(x->r, name, ODPT_PASS, NULL, diag, t0);
	}
	if (strcmp(x->d->domain, "intel")) {
		snprintf(why, sizeof(why), "IOMMU is %s (%s): odpt reads intel-iommu's DMAR fault lines only",
			 x->d->domain, x->d->iommu);
		return add_test(x->r, name, ODPT_SKIP, why, diag, t0);
	}
	snprintf(why, sizeof(why), "no DMAR fault line naming IOVA 0x%" PRIx64 " in /dev/kmsg within %u ms (%d other DMAR fault lines)",
		 iova, EDU_FAULT_WAIT_MS, nf);
	return add_test(x->r, name, ODPT_FAIL, why, diag, t0);
}

/*
 * Pages a, b, c at IOVAs A, A+4K, A+8K. edu takes a copy of a, then b is
 * unmapped: edu writing to B must leave b alone, edu reading B must not
 * get b's bytes (what it got is written to C to look at), and the IOMMU's
 * fault for B must be in the kernel log.
 */
static int run_unmapped(struct edu_run *x)
{
	const char *n_write = "DMA to unmapped IOVA leaves memory unchanged";
	const char *n_read = "DMA from unmapped IOVA reads nothing of the page";
	const char *n_fault = "IOMMU fault logged";
	const uint64_t A = x->iova, B = A + ODPT_EDU_PAGE, C = B + ODPT_EDU_PAGE;
	const uint64_t sa = x->cfg->seed + 2 * EDU_SEED_STEP, sb = sa + EDU_SEED_STEP,
		       sc = sb + EDU_SEED_STEP;
	char why[320] = "", diag[1024] = "";
	uint64_t t0 = odpt_now_ns();
	int ret = 0, kret, kfd = -1, i, mapped = 0;
	size_t bad_b = 0, f = 0;
	uint8_t *pg;
	bool ok_c;

	if (x->dead)
		return skip_dead(x, t0, (const char *const[]){ n_write, n_read, n_fault, NULL });
	pg = map_pages(3 * ODPT_EDU_PAGE);
	if (!pg)
		return -ENOMEM;
	odpt_edu_pattern(pg, ODPT_EDU_PAGE, sa, 0);
	odpt_edu_pattern(pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, sb, 0);
	odpt_edu_pattern(pg + 2 * ODPT_EDU_PAGE, ODPT_EDU_PAGE, sc, 0);
	for (i = 0; i < 3 && !ret; i++) {
		ret = odpt_edu_map(x->e, pg + i * ODPT_EDU_PAGE, ODPT_EDU_PAGE,
				   A + (uint64_t)i * ODPT_EDU_PAGE, NULL);
		if (ret)
			snprintf(why, sizeof(why), "IOMMU_IOAS_MAP of IOVA 0x%" PRIx64 ": %s",
				 A + (uint64_t)i * ODPT_EDU_PAGE, strerror(-ret));
		else
			mapped |= 1 << i;
	}
	if (!ret) {
		ret = odpt_edu_dma_to_dev(x->e, A, NULL);
		if (ret)
			snprintf(why, sizeof(why), "edu reading IOVA A 0x%" PRIx64 ": %s", A,
				 strerror(-ret));
	}
	if (!ret) {
		ret = odpt_edu_unmap(x->e, B, ODPT_EDU_PAGE, NULL);
		if (ret)
			snprintf(why, sizeof(why), "IOMMU_IOAS_UNMAP of IOVA 0x%" PRIx64 ": %s", B,
				 strerror(-ret));
		else
			mapped &= ~2;
	}
	if (ret) {
		x->dead = ret == -ETIMEDOUT;
		ret = add_test(x->r, n_write, ODPT_FAIL, why, NULL, t0);
		if (!ret)
			ret = add_test(x->r, n_read, ODPT_FAIL, why, NULL, t0);
		if (!ret)
			ret = add_test(x->r, n_fault, ODPT_SKIP, "no transfer to an unmapped IOVA ran", NULL, t0);
		goto out;
	}
	/* Records from here on only: the faults of these transfers. */
	dmar_quiet();
	kret = odpt_kmsg_open_end(NULL, &kfd);

	/* 1. edu writes its buffer (a's bytes) to B. */
	ret = odpt_edu_dma_to_ram(x->e, B, NULL);
	if (ret) {
		x->dead = ret == -ETIMEDOUT;
		snprintf(why, sizeof(why), "edu writing to unmapped IOVA 0x%" PRIx64 " never finished: %s",
			 B, strerror(-ret));
		ret = add_test(x->r, n_write, ODPT_FAIL, why, NULL, t0);
	} else {
		bad_b = odpt_edu_pattern_diff(pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, sb, 0, &f);
		snprintf(diag, sizeof(diag),
			 "edu wrote a copy of IOVA 0x%" PRIx64 " to IOVA 0x%" PRIx64 " after IOMMU_IOAS_UNMAP: %zu of %u bytes of the page once mapped there changed%s",
			 A, B, bad_b, ODPT_EDU_PAGE,
			 bad_b && !odpt_edu_pattern_diff(pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, sa, 0, &f) ?
			 " (it now holds edu's data: the write went through)" : "");
		snprintf(why, sizeof(why), "%zu bytes of the unmapped page changed", bad_b);
		ret = add_test(x->r, n_write, bad_b ? ODPT_FAIL : ODPT_PASS, why, diag, t0);
	}
	if (ret)
		goto out;

	/* 2. edu reads B, then writes what it got to the mapped C. */
	t0 = odpt_now_ns();
	ret = x->dead ? -EIO : odpt_edu_dma_to_dev(x->e, B, NULL);
	if (!ret)
		ret = odpt_edu_dma_to_ram(x->e, C, NULL);
	if (ret) {
		x->dead = x->dead || ret == -ETIMEDOUT;
		snprintf(why, sizeof(why), "edu reading unmapped IOVA 0x%" PRIx64 " (then writing IOVA 0x%" PRIx64 "): %s",
			 B, C, strerror(-ret));
		ret = add_test(x->r, n_read, ODPT_FAIL, why, NULL, t0);
	} else {
		const uint8_t *c = pg + 2 * ODPT_EDU_PAGE;
		bool leaked = !odpt_edu_pattern_diff(c, ODPT_EDU_PAGE, sb, 0, &f);

		ok_c = odpt_edu_pattern_diff(c, ODPT_EDU_PAGE, sc, 0, &f) != 0;
		snprintf(diag, sizeof(diag), "after edu read unmapped IOVA 0x%" PRIx64 ", the page it wrote to IOVA 0x%" PRIx64 " holds %s",
			 B, C, leaked ? "the unmapped page's bytes: the read went through" :
			 describe_page(c, sa, sc));
		snprintf(why, sizeof(why), "%s", leaked ?
			 "edu read the unmapped page's bytes" :
			 "edu's write to the mapped IOVA C did not arrive: nothing to judge the read by");
		ret = add_test(x->r, n_read, !leaked && ok_c ? ODPT_PASS : ODPT_FAIL, why, diag, t0);
	}
	if (ret)
		goto out;

	/* 3. The IOMMU's fault for B in the kernel log. */
	ret = check_fault(x, n_fault, kret, kfd, B);
out:
	if (kfd >= 0)
		close(kfd);
	for (i = 0; i < 3; i++)
		if (mapped & (1 << i))
			odpt_edu_unmap(x->e, A + (uint64_t)i * ODPT_EDU_PAGE, ODPT_EDU_PAGE, NULL);
	munmap(pg, 3 * ODPT_EDU_PAGE);
	return ret;
}

/*
 * IOMMU_IOAS_UNMAP while a DMA to the page is queued: edu is told to write
 * its buffer (a copy of page a) to IOVA Q, and Q is unmapped before the
 * transfer runs (QEMU's edu starts it ~100 ms later). The page once mapped
 * at Q must keep its bytes and the IOMMU must log a fault for Q. Whether the
 * transfer was still queued when the unmap returned is read off edu's
 * command register; a transfer that had already run proves nothing, so the
 * round is repeated, and a SKIP says so if it never was.
 */
#define EDU_QUEUED_TRIES 3
static int run_unmap_queued(struct edu_run *x)
{
	const char *n_mem = "DMA queued across IOMMU_IOAS_UNMAP leaves memory unchanged";
	const char *n_fault = "IOMMU fault logged for the DMA queued across unmap";
	const uint64_t A = x->iova, Q = A + ODPT_EDU_PAGE;
	const uint64_t sa = x->cfg->seed + 5 * EDU_SEED_STEP, sq = sa + EDU_SEED_STEP;
	char why[320] = "", diag[768] = "";
	uint64_t t0 = odpt_now_ns(), unmap_ns = 0, dma_ns = 0;
	int ret = 0, kret = -ENOENT, kfd = -1, tries = 0, mapped = 0;
	bool queued = false;
	size_t bad = 0, f = 0;
	uint8_t *pg;

	if (x->dead)
		return skip_dead(x, t0, (const char *const[]){ n_mem, n_fault, NULL });
	pg = map_pages(2 * ODPT_EDU_PAGE);
	if (!pg)
		return -ENOMEM;
	odpt_edu_pattern(pg, ODPT_EDU_PAGE, sa, 0);
	ret = odpt_edu_map(x->e, pg, ODPT_EDU_PAGE, A, NULL);
	if (!ret) {
		mapped |= 1;
		ret = odpt_edu_dma_to_dev(x->e, A, NULL);
	}
	if (ret)
		snprintf(why, sizeof(why), "loading edu's buffer from IOVA 0x%" PRIx64 ": %s", A,
			 strerror(-ret));
	if (!ret)
		dmar_quiet();
	while (!ret && !queued && tries++ < EDU_QUEUED_TRIES) {
		odpt_edu_pattern(pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, sq, 0);
		ret = odpt_edu_map(x->e, pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, Q, NULL);
		if (ret) {
			snprintf(why, sizeof(why), "IOMMU_IOAS_MAP of IOVA 0x%" PRIx64 ": %s", Q,
				 strerror(-ret));
			break;
		}
		mapped |= 2;
		if (kfd >= 0)
			close(kfd);
		kfd = -1;
		kret = odpt_kmsg_open_end(NULL, &kfd);
		ret = odpt_edu_dma_start_to_ram(x->e, Q);
		if (ret) {
			snprintf(why, sizeof(why), "starting edu's write to IOVA 0x%" PRIx64 ": %s", Q,
				 strerror(-ret));
			break;
		}
		ret = odpt_edu_unmap(x->e, Q, ODPT_EDU_PAGE, &unmap_ns);
		queued = odpt_edu_dma_busy(x->e);
		if (!ret)
			mapped &= ~2;
		else
			snprintf(why, sizeof(why), "IOMMU_IOAS_UNMAP of IOVA 0x%" PRIx64 " with a DMA queued: %s",
				 Q, strerror(-ret));
		/* Wait even after a failed unmap: the transfer is out. */
		{
			int w = odpt_edu_dma_wait(x->e, &dma_ns);

			if (w && !ret) {
				ret = w;
				x->dead = w == -ETIMEDOUT;
				snprintf(why, sizeof(why), "edu's write to unmapped IOVA 0x%" PRIx64 " never finished: %s",
					 Q, strerror(-w));
			}
		}
		if (ret)
			break;
		bad = odpt_edu_pattern_diff(pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, sq, 0, &f);
		if (!queued && bad) {
			/* It ran before the unmap: a legal write; restore and retry. */
			bad = 0;
		}
	}
	if (ret) {
		ret = add_test(x->r, n_mem, ODPT_FAIL, why, NULL, t0);
		if (!ret)
			ret = add_test(x->r, n_fault, ODPT_SKIP, "no DMA was queued across an unmap", NULL, t0);
		goto out;
	}
	if (!queued) {
		snprintf(why, sizeof(why), "edu ran the transfer before IOMMU_IOAS_UNMAP returned, %d times (unmap took %" PRIu64 " ns): nothing was queued across it",
			 EDU_QUEUED_TRIES, unmap_ns);
		ret = add_test(x->r, n_mem, ODPT_SKIP, why, NULL, t0);
		if (!ret)
			ret = add_test(x->r, n_fault, ODPT_SKIP, why, NULL, t0);
		goto out;
	}
	snprintf(diag, sizeof(diag),
		 "edu was told to write a copy of IOVA 0x%" PRIx64 " to IOVA 0x%" PRIx64 "; IOMMU_IOAS_UNMAP of 0x%" PRIx64 " returned after %" PRIu64 " ns with the transfer still queued (try %d); the transfer finished %" PRIu64 " ns after its start; %zu of %u bytes of the page once mapped there changed%s",
		 A, Q, Q, unmap_ns, tries, dma_ns, bad, ODPT_EDU_PAGE,
		 bad && !odpt_edu_pattern_diff(pg + ODPT_EDU_PAGE, ODPT_EDU_PAGE, sa, 0, &f) ?
		 " (it holds edu's data: the queued write went through the unmap)" : "");
	snprintf(why, sizeof(why), "%zu bytes of the page unmapped under a queued DMA changed", bad);
	ret = add_test(x->r, n_mem, bad ? ODPT_FAIL : ODPT_PASS, bad ? why : NULL, diag, t0);
	if (!ret)
		ret = check_fault(x, n_fault, kret, kfd, Q);
out:
	if (kfd >= 0)
		close(kfd);
	if (mapped & 1)
		odpt_edu_unmap(x->e, A, ODPT_EDU_PAGE, NULL);
	if (mapped & 2)
		odpt_edu_unmap(x->e, Q, ODPT_EDU_PAGE, NULL);
	munmap(pg, 2 * ODPT_EDU_PAGE);
	return ret;
}

/*
 * The IOVA to put the buffers at: the asked one when [iova, iova + span)
 * is allowed (else -ERANGE), or for auto EDU_DEFAULT_IOVA, else the start of
 * the first allowed range that holds span.
 */
static int choose_iova(struct edu_run *x, bool is_auto, uint64_t want, uint64_t span,
		       char *ranges, size_t len)
{
	struct odpt_iova_range rg[64];
	uint64_t align = 0, start;
	size_t used = 0;
	int n = 0, i, ret;

	ret = odpt_edu_iova_ranges(x->e, rg, 64, &n, &align);
	if (ret) {
		odpt_err("iommufd edu: IOMMU_IOAS_IOVA_RANGES: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(ranges + used, used < len ? len - used : 0,
					 "%s0x%" PRIx64 "-0x%" PRIx64, i ? "," : "", rg[i].start,
					 rg[i].last);
	if (align < ODPT_EDU_PAGE)
		align = ODPT_EDU_PAGE;
	if (!is_auto) {
		x->iova = want;
		return want % align || !odpt_iova_fits(rg, n, want, span) ? -ERANGE : 0;
	}
	if (odpt_iova_fits(rg, n, EDU_DEFAULT_IOVA, span)) {
		x->iova = EDU_DEFAULT_IOVA;
		return 0;
	}
	for (i = 0; i < n; i++) {
		start = (rg[i].start + align - 1) / align * align;
		if (start >= rg[i].start && odpt_iova_fits(rg, n, start, span)) {
			x->iova = start;
			return 0;
		}
	}
	return -ENOSPC;
}

static int start_report(const struct edu_cfg *cfg, struct odpt_report **r)
{
	int ret = odpt_cli_clock_init();

	return ret ? ret : odpt_cli_report_start("iommufd edu", odpt_iommufd_edu_opts, cfg, r);
}

/* Nothing could run: the report says why, exit 4 (kselftest's skip). */
static int skip_all(struct odpt_cli *cli, struct odpt_report *r, const char *why)
{
	int code;

	if (odpt_report_skip_all(r, why)) {
		odpt_err("out of memory");
		return ODPT_EXIT_FAIL;
	}
	code = odpt_cli_emit(cli, r);
	return code == ODPT_EXIT_OK ? ODPT_EXIT_SKIP : code;
}

static int report_device(struct odpt_report *r, const struct odpt_edu_dev *d,
			 const struct odpt_edu_info *in)
{
	char buf[32];
	int ret = 0;

	ret |= odpt_report_meta(r, "edu_bdf", d->bdf);
	ret |= odpt_report_meta(r, "edu_driver_before", d->driver[0] ? d->driver : "none");
	ret |= odpt_report_meta(r, "iommu", d->iommu);
	ret |= odpt_report_meta(r, "iommu_domain", d->domain);
	if (!in)
		return ret ? -ENOMEM : 0;
	snprintf(buf, sizeof(buf), "0x%08x", in->edu_id);
	ret |= odpt_report_meta(r, "edu_id", buf);
	ret |= odpt_report_meta(r, "vfio_cdev", in->vfio_cdev);
	ret |= odpt_report_meta_volatile_int(r, "iommufd_devid", in->devid);
	ret |= odpt_report_meta_volatile_int(r, "ioas_id", in->ioas_id);
	ret |= odpt_report_meta_volatile_int(r, "hwpt_id", in->hwpt_id);
	ret |= odpt_report_meta_int(r, "bar0_bytes", (int64_t)in->bar0_bytes);
	return ret ? -ENOMEM : 0;
}

int odpt_iommufd_edu_run(struct odpt_cli *cli, int argc, char **argv)
{
	uint64_t sizes[EDU_MAX_SIZES], want = 0, span = 3 * ODPT_EDU_PAGE;
	struct odpt_report *r = NULL;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;
	struct edu_run x = { 0 };
	struct odpt_test_counts tc;
	struct edu_cfg cfg;
	char ranges[512] = "", now[64], buf[64];
	int nsizes, code, i, ret;
	bool is_auto, internal = false;
	uint64_t t0;

	if (!odpt_cli_parse_opts_only(&self, &cfg, argc, argv, &code))
		return code;
	if (parse_sizes(cfg.sizes, sizes, &nsizes)) {
		odpt_usage_err("odpt: iommufd edu: --sizes '%s': want up to %d multiples of 4K, each at most 1G, like 4K,64K,1M,16M\n",
			       cfg.sizes, EDU_MAX_SIZES);
		return ODPT_EXIT_USAGE;
	}
	if (parse_iova(cfg.iova, &want, &is_auto)) {
		odpt_usage_err("odpt: iommufd edu: --iova '%s': want auto or a multiple of 4096 like 0x1000000\n",
			       cfg.iova);
		return ODPT_EXIT_USAGE;
	}
	for (i = 0; i < nsizes; i++)
		if (2 * sizes[i] > span)
			span = 2 * sizes[i];
	if (!is_auto && want + span - 1 < want) {
		odpt_usage_err("odpt: iommufd edu: --iova 0x%" PRIx64 ": the buffers (%" PRIu64 " bytes) would end past 2^64\n",
			       want, span);
		return ODPT_EXIT_USAGE;
	}

	code = ODPT_EXIT_FAIL;
	if (start_report(&cfg, &r))
		goto out;
	t0 = odpt_now_ns();
	ret = odpt_edu_find(NULL, cfg.device, cfg.force_bind, &d, &why);
	if (ret) {
		if (why.skip) {
			code = skip_all(cli, r, why.text);
			goto out;
		}
		odpt_err("iommufd edu: %s", why.text);
		goto out;
	}
	if (report_device(r, &d, NULL))
		goto out;
	ret = odpt_edu_open(&d, &x.e, &why);
	if (ret) {
		if (why.skip) {
			code = skip_all(cli, r, why.text);
			goto out;
		}
		if (add_test(r, "edu bound to vfio-pci and attached to an IOAS", ODPT_FAIL,
			     why.text, NULL, t0))
			goto out;
		goto emit;
	}
	x.r = r;
	x.d = &d;
	x.cfg = &cfg;
	internal = true;	/* until the tests ran: a failure here is odpt's */
	if (report_device(r, &d, odpt_edu_info(x.e)))
		goto close;
	ret = choose_iova(&x, is_auto, want, span, ranges, sizeof(ranges));
	if (ret == -ERANGE) {
		odpt_edu_close(x.e, NULL, 0);
		x.e = NULL;
		odpt_usage_err("odpt: iommufd edu: --iova 0x%" PRIx64 ": [0x%" PRIx64 ", +%" PRIu64 " bytes) is not inside the IOAS's allowed IOVA ranges %s\n",
			       want, want, span, ranges);
		code = ODPT_EXIT_USAGE;
		goto out;
	}
	if (ret == -ENOSPC) {
		snprintf(buf, sizeof(buf), "no allowed IOVA range holds %" PRIu64 " bytes", span);
		if (add_test(r, "edu bound to vfio-pci and attached to an IOAS", ODPT_FAIL, buf,
			     ranges, t0))
			goto close;
	}
	if (ret && ret != -ENOSPC)
		goto close;
	if (odpt_report_meta(r, "iova_ranges", ranges))
		goto close;
	if (!ret) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, x.iova);
		if (odpt_report_meta(r, "iova_first", buf))
			goto close;
		for (i = 0; i < nsizes; i++)
			if (run_size(&x, sizes[i]))
				goto close;
		if (run_unmapped(&x) || run_unmap_queued(&x))
			goto close;
	}
	internal = false;
close:
	/* Before the report is written: the result includes the hand-back. */
	t0 = odpt_now_ns();
	ret = odpt_edu_close(x.e, now, sizeof(now));
	x.e = NULL;
	{
		char diag[160];

		snprintf(diag, sizeof(diag), "driver before: %s, after: %s",
			 d.driver[0] ? d.driver : "none", now[0] ? now : "none");
		if (add_test(r, "edu given back to its driver", ret ? ODPT_FAIL : ODPT_PASS,
			     "edu is not bound to the driver it had before the run", diag, t0))
			goto out;
	}
emit:
	code = odpt_cli_emit(cli, r);
	odpt_report_test_counts(r, &tc);
	if (code == ODPT_EXIT_OK && (tc.fail || tc.xpass || internal))
		code = ODPT_EXIT_FAIL;
out:
	odpt_edu_close(x.e, NULL, 0);
	odpt_report_destroy(r);
	return code;
}
