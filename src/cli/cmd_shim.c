// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt shim`: the kernel shim odpt_hmm.ko from the command line. `load` /
 * `unload` (finit_module/delete_module), `status` (device, DMA path, IOMMU
 * domain, leak counters), `verify` (the edu device checks mappings end to
 * end in every mode: data read and written through the DMA address, stale
 * addresses refused by the IOMMU after unmap, read-only mappings never
 * written, invalidated pages gone, nothing leaked), `bench` (fault, map,
 * unmap and invalidation latency per page for each map mode and size, cold
 * and warm, with setup cost and bookkeeping bytes per page) and `flags`
 * (the PFN flags the mirror holds for a buffer).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/mempolicy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/log.h"
#include "odpt/shim.h"
#include "cli.h"

#define SHIM_MODES_ALL "hmm,page,sg"
#define SHIM_MAX_SIZES 16

static const char *const device_choices[] = { "auto", "edu", "faux", NULL };
static const char *const touch_choices[] = { "none", "read", "write", NULL };

struct load_cfg {
	const char *ko;
	const char *device;
};

struct status_cfg {
	bool unused;
};

struct bench_cfg {
	const char *sizes;
	const char *modes;
	uint64_t warm;
	uint64_t setup_reps;
	bool no_invalidate;
	bool numa_balancing;
	bool thp;
};

struct verify_cfg {
	uint64_t pages;
	uint64_t sample;
	const char *modes;
};

struct flags_cfg {
	uint64_t size;
	const char *touch;
	const char *mode;
	bool map;
	bool thp;
};

static const struct odpt_opt load_opts[] = {
	{ .name = "ko", .type = ODPT_OPT_STR, .offset = offsetof(struct load_cfg, ko),
	  .metavar = "PATH",
	  .help = "odpt_hmm.ko to load (default: $ODPT_KMOD, else <build>/kmod/odpt_hmm.ko)" },
	{ .name = "device", .type = ODPT_OPT_CHOICE,
	  .offset = offsetof(struct load_cfg, device), .def = "auto",
	  .choices = device_choices, .metavar = "DEV",
	  .help = "DMA device: edu if present (auto), edu only, or faux (direct path)" },
	ODPT_OPT_END,
};

static const struct odpt_opt status_opts[] = {
	ODPT_OPT_END,
};

static const struct odpt_opt bench_opts[] = {
	{ .name = "sizes", .type = ODPT_OPT_STR, .offset = offsetof(struct bench_cfg, sizes),
	  .def = "4K,64K,1M,16M,256M,1G", .metavar = "LIST",
	  .help = "buffer sizes (comma separated, K/M/G suffixes, page multiples)" },
	{ .name = "modes", .type = ODPT_OPT_STR, .offset = offsetof(struct bench_cfg, modes),
	  .def = SHIM_MODES_ALL, .metavar = "LIST", .help = "map modes: hmm, page, sg" },
	{ .name = "warm", .type = ODPT_OPT_U64, .offset = offsetof(struct bench_cfg, warm),
	  .def = "3", .min = 1, .max = 1000, .metavar = "N",
	  .help = "warm rounds (map + unmap of present pages) per mode and size" },
	{ .name = "setup-reps", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct bench_cfg, setup_reps), .def = "5", .min = 0, .max = 1000,
	  .metavar = "N", .help = "extra REGISTERs (fresh files) per mode and size for the setup_ns histogram" },
	{ .name = "no-invalidate", .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct bench_cfg, no_invalidate),
	  .help = "skip the invalidation round (MADV_DONTNEED of a mapped buffer)" },
	{ .name = "numa-balancing", .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct bench_cfg, numa_balancing),
	  .help = "leave the buffers to NUMA balancing: its hinting scans then invalidate mirrors mid-round (counted in invalidated_pages)" },
	{ .name = "thp", .type = ODPT_OPT_BOOL, .offset = offsetof(struct bench_cfg, thp),
	  .help = "leave the buffers to transparent huge pages (default MADV_NOHUGEPAGE): khugepaged's collapses then invalidate mirrors mid-round" },
	ODPT_OPT_END,
};

static const struct odpt_opt verify_opts[] = {
	{ .name = "pages", .type = ODPT_OPT_U64, .offset = offsetof(struct verify_cfg, pages),
	  .def = "64", .min = 2, .max = 1 << 20, .metavar = "N", .help = "buffer pages per mode" },
	{ .name = "sample", .type = ODPT_OPT_U64, .offset = offsetof(struct verify_cfg, sample),
	  .def = "4", .min = 1, .max = 64, .metavar = "N",
	  .help = "pages the device checks per step (each costs ~0.2 s of device time)" },
	{ .name = "modes", .type = ODPT_OPT_STR, .offset = offsetof(struct verify_cfg, modes),
	  .def = SHIM_MODES_ALL, .metavar = "LIST", .help = "map modes: hmm, page, sg" },
	ODPT_OPT_END,
};

static const struct odpt_opt flags_opts[] = {
	{ .name = "size", .type = ODPT_OPT_SIZE, .offset = offsetof(struct flags_cfg, size),
	  .def = "64K", .min = 4096, .max = 1ULL << 30, .metavar = "BYTES",
	  .help = "buffer size (page multiple)" },
	{ .name = "touch", .type = ODPT_OPT_CHOICE, .offset = offsetof(struct flags_cfg, touch),
	  .def = "write", .choices = touch_choices, .metavar = "HOW",
	  .help = "how the CPU touches the buffer first; the mirror then faults for the same access" },
	{ .name = "mode", .type = ODPT_OPT_STR, .offset = offsetof(struct flags_cfg, mode),
	  .def = "hmm", .metavar = "MODE", .help = "map mode: hmm, page, sg" },
	{ .name = "map", .type = ODPT_OPT_BOOL, .offset = offsetof(struct flags_cfg, map),
	  .help = "DMA-map the range (else only fault it)" },
	{ .name = "thp", .type = ODPT_OPT_BOOL, .offset = offsetof(struct flags_cfg, thp),
	  .help = "2 MiB aligned buffer with MADV_HUGEPAGE (shows the order field)" },
	ODPT_OPT_END,
};

/* ---- shared helpers ------------------------------------------------------ */

static int parse_modes_list(const char *list, uint32_t *modes, int *n)
{
	char buf[64], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= 3 || odpt_shim_mode_parse(tok, &modes[*n]))
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

/* --modes of `odpt shim VERB`; a bad list is a usage error naming the verb. */
static int parse_modes(const char *verb, const char *list, uint32_t *modes, int *n)
{
	if (!parse_modes_list(list, modes, n))
		return 0;
	odpt_usage_err("odpt: shim %s: --modes '%s': want a list of hmm, page, sg\n", verb, list);
	return -EINVAL;
}

static int parse_sizes(const char *list, uint64_t *sizes, int *n)
{
	char buf[256], *save = NULL, *tok;
	long page = sysconf(_SC_PAGESIZE);

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= SHIM_MAX_SIZES || odpt_parse_size(tok, &sizes[*n]) ||
		    !sizes[*n] || sizes[*n] % (uint64_t)page)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

/* Explain the usual reasons the device cannot be opened. */
static int open_shim(struct odpt_shim **s)
{
	uint32_t abi = 0;
	int ret = odpt_shim_open(NULL, &abi, s);

	if (ret == -ENOENT)
		odpt_err("%s not found: load the module first (odpt shim load)", ODPT_HMM_DEV_PATH);
	else if (ret == -EPROTO)
		odpt_err("odpt_hmm.ko speaks ABI %u, this odpt speaks %u: rebuild one of them",
			 abi, ODPT_HMM_ABI_VERSION);
	else if (ret)
		odpt_err("cannot open %s: %s", ODPT_HMM_DEV_PATH, strerror(-ret));
	return ret;
}

/* Which device and DMA path the results come from, for every report (the
 * file is opened just for the query: each run opens its own mirrors). */
static int report_device(struct odpt_report *r, struct odpt_hmm_dev_info *dev)
{
	struct odpt_shim *s;
	int ret = open_shim(&s);

	if (ret)
		return ret;
	ret = odpt_shim_dev_info(s, dev);
	odpt_shim_close(s);
	return ret ? ret : odpt_shim_report_dev(r, dev);
}

static void *map_buf(size_t len, size_t align)
{
	size_t total = len + align;
	uint8_t *p, *a;

	p = mmap(NULL, total, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + total)
		munmap(a + len, (size_t)(p + total - (a + len)));
	return a;
}

/*
 * Keep automatic NUMA balancing away from a buffer: task_numa_work skips a
 * VMA whose own memory policy lacks migrate-on-fault, which an mbind()
 * policy from userspace never has (MPOL_LOCAL: same placement as the
 * default). Its scans otherwise make every scanned PMD range PROT_NONE
 * through an MMU_NOTIFY_PROTECTION_VMA invalidation, which a mirror cannot
 * tell from mprotect() and must obey: at 1 GiB under TCG a MAP + UNMAP round
 * rarely escapes one. A kernel without CONFIG_NUMA (ENOSYS) has no balancing.
 */
static int exclude_numa_balancing(void *buf, size_t len)
{
	if (!syscall(SYS_mbind, buf, len, MPOL_LOCAL, NULL, 0UL, 0U) || errno == ENOSYS)
		return 0;
	return -errno;
}

/* /proc/sys/kernel/numa_balancing as recorded ("absent" without it). */
static void numa_balancing_setting(char *out, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/numa_balancing", "re");

	snprintf(out, len, "absent");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* The kernel command line's IOMMU words, for the record of a bench. */
static void cmdline_iommu(char *out, size_t len)
{
	char line[4096], *save = NULL, *tok;
	FILE *f = fopen("/proc/cmdline", "re");
	size_t used = 0;

	out[0] = '\0';
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (!strstr(tok, "iommu"))
			continue;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
					 used ? " " : "", tok);
	}
	if (!out[0])
		snprintf(out, len, "(none)");
}

static int start_report(const char *cmd, const struct odpt_opt *opts, const void *cfg,
			struct odpt_report **r)
{
	int ret = odpt_clock_init(-1);

	if (ret) {
		odpt_err("clock: %s", strerror(-ret));
		return ret;
	}
	ret = odpt_report_create(cmd, r);
	if (!ret)
		ret = odpt_cli_meta(*r);
	if (!ret && opts)
		ret = odpt_cli_opts_echo(opts, cfg, *r);
	return ret;
}

static int finish(struct odpt_cli *cli, struct odpt_report *r)
{
	struct odpt_test_counts tc;
	int code = odpt_cli_emit(cli, r);

	odpt_report_test_counts(r, &tc);
	if (code == ODPT_EXIT_OK && (tc.fail || tc.xpass))
		code = ODPT_EXIT_FAIL;
	return code;
}

/* ---- load / unload / status --------------------------------------------- */

static int status_into(struct odpt_report *r)
{
	struct odpt_hmm_dev_info d;
	struct odpt_hmm_global g;
	struct json_object *o;
	struct odpt_shim *s;
	int ret;

	ret = open_shim(&s);
	if (ret)
		return ret;
	ret = odpt_shim_dev_info(s, &d);
	if (!ret)
		ret = odpt_shim_global(s, &g);
	odpt_shim_close(s);
	if (ret) {
		odpt_err("odpt_hmm: %s", strerror(-ret));
		return ret;
	}
	ret = odpt_shim_report_dev(r, &d);
	if (ret)
		return ret;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "device", json_object_new_string(odpt_shim_device_name(d.device_kind)));
	json_object_object_add(o, "device_name", json_object_new_string(d.name));
	json_object_object_add(o, "iommu", json_object_new_string(odpt_shim_iommu_name(d.iommu_domain)));
	json_object_object_add(o, "path", json_object_new_string(odpt_shim_path_name(&d)));
	json_object_object_add(o, "dma_use_iova", json_object_new_boolean(d.dma_use_iova));
	json_object_object_add(o, "dma_need_unmap", json_object_new_boolean(d.dma_need_unmap));
	json_object_object_add(o, "dma_mask_bits", json_object_new_int(d.dma_mask_bits));
	json_object_object_add(o, "max_mapping_size_bytes", json_object_new_uint64(d.max_mapping_size));
	json_object_object_add(o, "opt_mapping_size_bytes", json_object_new_uint64(d.opt_mapping_size));
	json_object_object_add(o, "can_verify", json_object_new_boolean(d.can_verify));
	json_object_object_add(o, "abi_version", json_object_new_int((int)d.abi_version));
	/* The counters exclude the file status itself opened. */
	json_object_object_add(o, "mirrors_other", json_object_new_uint64(g.mirrors - 1));
	json_object_object_add(o, "live_mappings", json_object_new_uint64(g.live_mappings));
	json_object_object_add(o, "iova_reserved_bytes", json_object_new_uint64(g.iova_reserved_bytes));
	json_object_object_add(o, "sg_tables_live", json_object_new_uint64(g.sg_tables_live));
	json_object_object_add(o, "bookkeeping_bytes", json_object_new_uint64(g.bookkeeping_bytes));
	json_object_object_add(o, "edu_transfers", json_object_new_uint64(g.edu_transfers));
	return odpt_report_section(r, "shim", o);
}

static int run_status(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct status_cfg cfg;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[2], &cfg, argc, argv, &code))
		return code;
	code = ODPT_EXIT_FAIL;
	if (start_report("shim status", NULL, NULL, &r) || status_into(r))
		goto out;
	code = finish(cli, r);
out:
	odpt_report_destroy(r);
	return code;
}

static int run_load(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct load_cfg cfg;
	char params[64], def_ko[4096];
	const char *ko;
	int code, ret;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[0], &cfg, argc, argv, &code))
		return code;
	ko = cfg.ko;
	if (!ko)
		ko = getenv("ODPT_KMOD");
	if (!ko || !*ko) {
		const char *b = getenv("ODPT_BUILD");

		snprintf(def_ko, sizeof(def_ko), "%s/kmod/odpt_hmm.ko", b && *b ? b : "build");
		ko = def_ko;
	}
	if (odpt_shim_module_loaded()) {
		odpt_info("odpt_hmm is already loaded; not loading %s", ko);
	} else {
		snprintf(params, sizeof(params), "device=%s", cfg.device);
		ret = odpt_shim_module_load(ko, params);
		if (ret) {
			odpt_err("cannot load %s: %s", ko, strerror(-ret));
			return ret == -ENOENT ? ODPT_EXIT_USAGE : ODPT_EXIT_FAIL;
		}
		/* udev may take a moment to create the node. */
		for (int i = 0; i < 100 && access(ODPT_HMM_DEV_PATH, F_OK); i++)
			usleep(10000);
	}
	code = ODPT_EXIT_FAIL;
	if (start_report("shim load", load_opts, &cfg, &r) || status_into(r))
		goto out;
	code = finish(cli, r);
out:
	odpt_report_destroy(r);
	return code;
}

static int run_unload(struct odpt_cli *cli, int argc, char **argv)
{
	int ret;

	(void)cli;
	if (argc) {
		odpt_usage_err("odpt: shim unload: unexpected argument '%s'\n", argv[0]);
		return ODPT_EXIT_USAGE;
	}
	ret = odpt_shim_module_unload();
	if (ret == -ENOENT) {
		odpt_info("odpt_hmm is not loaded");
		return ODPT_EXIT_OK;
	}
	if (ret) {
		odpt_err("cannot unload odpt_hmm: %s%s", strerror(-ret),
			 ret == -EWOULDBLOCK || ret == -EBUSY ? " (a file is still open)" : "");
		return ODPT_EXIT_FAIL;
	}
	return ODPT_EXIT_OK;
}

/* ---- bench ---------------------------------------------------------------- */

static uint64_t mem_available_bytes(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb ? kb * 1024 : UINT64_MAX;
}

/*
 * Does a buffer of @size fit in @avail bytes of MemAvailable? The pages,
 * the module's per-page arrays (at most 16.125 bytes per page: size / 254)
 * and 256 MiB for everything else. (It was 70% of MemAvailable: in the
 * lab's 2 GiB guest MemAvailable hovers around 1.53 GB, and the 1 GiB size
 * was skipped or run by a few MB either way.)
 */
static bool bench_fits(uint64_t size, uint64_t avail)
{
	return size + size / 254 + (256ull << 20) <= avail;
}

struct bench_ctx {
	struct odpt_report *r;
	const struct odpt_hmm_dev_info *dev;
	char iommu[16], path[16];
};

static int add_scalar(struct bench_ctx *c, const char *name, uint32_t mode,
		      const char *size, const char *run, double v)
{
	struct odpt_label l[] = {
		{ "mode", odpt_shim_mode_name(mode) }, { "size_bytes", size },
		{ "run", run }, { "iommu", c->iommu }, { "path", c->path },
	};

	return odpt_report_scalar(c->r, name, l, 5, v);
}

static int add_hists(struct bench_ctx *c, struct odpt_shim *s, uint32_t mode,
		     const char *size, const char *run)
{
	struct odpt_label l[] = {
		{ "mode", odpt_shim_mode_name(mode) }, { "size_bytes", size },
		{ "run", run }, { "iommu", c->iommu }, { "path", c->path },
	};
	int ret = odpt_shim_report_hists(s, c->r, l, 5);
	struct odpt_hmm_stats st;

	if (!ret)	/* the next run starts from empty histograms */
		ret = odpt_shim_stats(s, true, &st);
	return ret;
}

/* The one-off REGISTER cost, again on fresh files: one sample is noise. */
static int bench_setup(struct bench_ctx *c, uint32_t mode, uint64_t size,
		       const char *sz, void *buf, uint64_t first_ns, uint64_t reps)
{
	struct odpt_label l[] = {
		{ "mode", odpt_shim_mode_name(mode) }, { "size_bytes", sz },
		{ "run", "cold" }, { "iommu", c->iommu }, { "path", c->path },
	};
	struct odpt_hmm_register reg;
	struct odpt_hist *h;
	struct odpt_shim *s;
	uint64_t i;
	int ret;

	ret = odpt_hist_create_default(&h);
	if (ret)
		return ret;
	odpt_hist_record(h, first_ns);
	for (i = 0; i < reps && !ret; i++) {
		ret = open_shim(&s);
		if (ret)
			break;
		ret = odpt_shim_register(s, buf, size, mode, &reg);
		if (!ret)
			odpt_hist_record(h, reg.setup_ns);
		odpt_shim_close(s);
	}
	if (!ret)
		ret = odpt_report_hist(c->r, "setup_ns", l, 5, h);
	odpt_hist_destroy(h);
	return ret;
}

/* What the rounds of one run (cold, warm) met besides their timings. */
struct bench_tally {
	uint64_t inval_pages;	/* pages invalidations took between MAP and UNMAP */
	uint64_t restarts;	/* walks restarted after colliding with one */
	uint64_t incomplete;	/* rounds whose MAP gave up (-EBUSY) */
};

/*
 * One MAP + UNMAP of the whole buffer. Every page must be accounted for:
 * MAP maps all of them (none already mapped: the last round unmapped all),
 * and each is unmapped once, by the UNMAP or by an invalidation that came in
 * between (the mirror's invalidate_pages counter, read before and after).
 * Anything else is a module bug, -EIO with the figures. The pages taken by
 * invalidations and the walks' restarts are added to @t (their unmap is not
 * timed). With @mapped, the mirror's stats are also taken while the buffer is
 * mapped.
 *
 * A MAP that gives up because the kernel kept changing the range faster than
 * it could be walked (-EBUSY: the module's restart budget ran out) is data,
 * not a failure: the range is unmapped again, the round counted incomplete
 * and -EBUSY returned for the caller to go on with the next round.
 */
static int bench_round(struct odpt_shim *s, void *buf, uint64_t size, uint64_t npages,
		       const char *what, struct odpt_hmm_stats *mapped, struct bench_tally *t)
{
	struct odpt_hmm_stats st0, st1;
	struct odpt_hmm_unmap um;
	struct odpt_hmm_map mp;
	uint64_t inval;
	int ret, map_ret;

	ret = odpt_shim_stats(s, false, &st0);
	if (ret)
		goto err;
	map_ret = odpt_shim_map(s, buf, size, ODPT_HMM_FAULT_WRITE, &mp);
	if (map_ret && map_ret != -EBUSY) {
		ret = map_ret;
		goto err;
	}
	if (!map_ret && mapped)
		ret = odpt_shim_stats(s, false, mapped);
	if (!ret)
		ret = odpt_shim_unmap(s, buf, size, &um);
	if (!ret)
		ret = odpt_shim_stats(s, false, &st1);
	if (ret)
		goto err;
	t->restarts += (st1.retries_busy - st0.retries_busy) + (st1.retries_seq - st0.retries_seq);
	inval = st1.invalidate_pages - st0.invalidate_pages;
	if (map_ret) {
		t->incomplete++;
		t->inval_pages += inval;
		odpt_warn("%s: MAP gave up (%s) after %llu restarts: the kernel invalidated %" PRIu64
			  " pages of the range in %llu invalidations meanwhile; round not counted",
			  what, strerror(-map_ret),
			  (unsigned long long)((st1.retries_busy - st0.retries_busy) +
					       (st1.retries_seq - st0.retries_seq)),
			  inval, (unsigned long long)(st1.invalidations - st0.invalidations));
		return st1.mapped_pages ? -EIO : -EBUSY;
	}
	if (mp.npages_mapped != npages || mp.npages_already ||
	    um.npages_unmapped + inval != npages || st1.mapped_pages) {
		odpt_err("%s: pages unaccounted for: %" PRIu64 " in the buffer, MAP mapped %llu "
			 "(already mapped %llu, absent %llu), UNMAP unmapped %llu, invalidations "
			 "(%llu) unmapped %" PRIu64 ", still mapped %llu",
			 what, npages, (unsigned long long)mp.npages_mapped,
			 (unsigned long long)mp.npages_already, (unsigned long long)mp.npages_absent,
			 (unsigned long long)um.npages_unmapped,
			 (unsigned long long)(st1.invalidations - st0.invalidations), inval,
			 (unsigned long long)st1.mapped_pages);
		return -EIO;
	}
	t->inval_pages += inval;
	return 0;
err:
	odpt_err("%s: %s", what, strerror(-ret));
	return ret;
}

/* A run's tally as figures of the report. */
static int add_tally(struct bench_ctx *c, uint32_t mode, const char *sz, const char *run,
		     const struct bench_tally *t)
{
	int ret = add_scalar(c, "invalidated_pages", mode, sz, run, (double)t->inval_pages);

	if (!ret)
		ret = add_scalar(c, "restarts", mode, sz, run, (double)t->restarts);
	if (!ret)
		ret = add_scalar(c, "incomplete_rounds", mode, sz, run, (double)t->incomplete);
	return ret;
}

static int bench_one(struct bench_ctx *c, uint32_t mode, uint64_t size,
		     const struct bench_cfg *cfg)
{
	struct odpt_hmm_register reg;
	struct odpt_hmm_stats st;
	struct odpt_hmm_map mp;
	struct odpt_shim *s = NULL;
	struct bench_tally tally = { 0 };
	uint64_t npages = size / (uint64_t)sysconf(_SC_PAGESIZE), w;
	bool have_mapped = false;
	char sz[32], what[96];
	void *buf;
	int ret;

	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	buf = map_buf(size, (size_t)sysconf(_SC_PAGESIZE));
	if (!buf)
		return -errno;
	if (!cfg->numa_balancing) {
		ret = exclude_numa_balancing(buf, size);
		if (ret) {
			odpt_err("mbind(MPOL_LOCAL) of the %s byte buffer: %s", sz, strerror(-ret));
			goto out_unmap;
		}
	}
	if (!cfg->thp && madvise(buf, size, MADV_NOHUGEPAGE)) {
		ret = -errno;
		odpt_err("madvise(MADV_NOHUGEPAGE) of the %s byte buffer: %s", sz, strerror(-ret));
		goto out_unmap;
	}
	ret = open_shim(&s);
	if (ret)
		goto out_unmap;
	ret = odpt_shim_register(s, buf, size, mode, &reg);
	if (ret) {
		odpt_err("register %s %s: %s", odpt_shim_mode_name(mode), sz, strerror(-ret));
		goto out_close;
	}
	ret = add_scalar(c, "setup_ns", mode, sz, "cold", (double)reg.setup_ns);
	if (!ret)
		ret = bench_setup(c, mode, size, sz, buf, reg.setup_ns, cfg->setup_reps);
	if (ret)
		goto out_close;

	/* Cold: the fault allocates the pages, the map is the first one. */
	snprintf(what, sizeof(what), "cold map/unmap %s %s", odpt_shim_mode_name(mode), sz);
	ret = bench_round(s, buf, size, npages, what, NULL, &tally);
	if (ret && ret != -EBUSY)
		goto out_close;
	ret = odpt_shim_stats(s, false, &st);
	if (!ret && mode == ODPT_HMM_MODE_SG && !tally.incomplete)
		ret = add_scalar(c, "sg_build_ns_per_page", mode, sz, "cold",
				 (double)st.sg_build_ns / (double)npages);
	if (!ret)
		ret = add_tally(c, mode, sz, "cold", &tally);
	if (!ret)
		ret = add_hists(c, s, mode, sz, "cold");
	if (ret)
		goto out_close;

	/* Warm: pages present; the fault is a walk, the map a re-link. The
	 * bookkeeping is taken in the first complete round while everything
	 * is mapped (sg tables live). */
	memset(&tally, 0, sizeof(tally));
	for (w = 0; w < cfg->warm; w++) {
		snprintf(what, sizeof(what), "warm map/unmap %s %s, round %" PRIu64,
			 odpt_shim_mode_name(mode), sz, w + 1);
		ret = bench_round(s, buf, size, npages, what, have_mapped ? NULL : &st, &tally);
		if (ret == -EBUSY)
			continue;
		if (ret)
			goto out_close;
		if (!have_mapped) {
			have_mapped = true;
			ret = add_scalar(c, "bookkeeping_bytes_per_page", mode, sz, "warm",
					 (double)st.bookkeeping_bytes / (double)npages);
			if (ret)
				goto out_close;
		}
	}
	ret = add_tally(c, mode, sz, "warm", &tally);
	if (ret)
		goto out_close;
	ret = add_hists(c, s, mode, sz, "warm");
	if (ret || cfg->no_invalidate)
		goto out_close;

	/* Invalidation: the kernel takes the pages away from a live mapping. */
	ret = odpt_shim_map(s, buf, size, ODPT_HMM_FAULT_WRITE, &mp);
	if (ret == -EBUSY) {
		/* Data as above: this round has nothing to invalidate. */
		struct odpt_hmm_unmap um;

		odpt_warn("invalidation %s %s: MAP gave up (%s); no invalidation round",
			  odpt_shim_mode_name(mode), sz, strerror(-ret));
		ret = odpt_shim_unmap(s, buf, size, &um);
		if (!ret)
			ret = add_scalar(c, "incomplete_rounds", mode, sz, "invalidate", 1);
		goto out_close;
	}
	if (!ret)
		ret = odpt_shim_stats(s, true, &st);	/* keep only the invalidation */
	if (!ret && madvise(buf, size, MADV_DONTNEED))
		ret = -errno;
	if (!ret)
		ret = odpt_shim_stats(s, false, &st);
	if (!ret && st.mapped_pages)
		ret = -EIO;	/* an invalidation must leave nothing mapped */
	if (!ret)
		ret = add_scalar(c, "invalidate_pages", mode, sz, "invalidate",
				 (double)st.invalidate_pages);
	if (!ret)
		ret = add_hists(c, s, mode, sz, "invalidate");
	if (ret)
		odpt_err("invalidation %s %s: %s", odpt_shim_mode_name(mode), sz, strerror(-ret));
out_close:
	odpt_shim_close(s);
out_unmap:
	munmap(buf, size);
	return ret;
}

/*
 * Touch as much memory as the largest buffer once, so that "cold" faults of
 * the first mode do not also pay for the hypervisor backing guest RAM on
 * first use (which the later modes would not): cold means "not in this
 * process", equally for every mode.
 */
static void prime_memory(const uint64_t *sizes, int n, bool numa_balancing)
{
	uint64_t max = 0, avail = mem_available_bytes();
	void *p;
	int i;

	for (i = 0; i < n; i++)
		if (sizes[i] > max && bench_fits(sizes[i], avail))
			max = sizes[i];
	if (!max)
		return;
	p = map_buf(max, (size_t)sysconf(_SC_PAGESIZE));
	if (!p)
		return;
	/* Hinting faults would only slow this down (and migrate pages). */
	if (!numa_balancing)
		(void)exclude_numa_balancing(p, max);
	memset(p, 1, max);
	munmap(p, max);
}

static int run_bench(struct odpt_cli *cli, int argc, char **argv)
{
	uint64_t sizes[SHIM_MAX_SIZES], avail;
	struct odpt_hmm_dev_info dev;
	struct odpt_hmm_global g;
	struct odpt_report *r = NULL;
	struct odpt_shim *s = NULL;
	struct bench_ctx c = { 0 };
	struct bench_cfg cfg;
	uint32_t modes[3];
	int nsizes, nmodes, code, i, j, ret;
	char cmdline[512], numab[32];

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[3], &cfg, argc, argv, &code))
		return code;
	if (parse_sizes(cfg.sizes, sizes, &nsizes)) {
		odpt_usage_err("odpt: shim bench: --sizes '%s': want up to %d page multiples like 4K,1M,1G\n",
			       cfg.sizes, SHIM_MAX_SIZES);
		return ODPT_EXIT_USAGE;
	}
	if (parse_modes("bench", cfg.modes, modes, &nmodes))
		return ODPT_EXIT_USAGE;
	code = ODPT_EXIT_FAIL;
	if (start_report("shim bench", bench_opts, &cfg, &r))
		goto out;
	if (report_device(r, &dev))
		goto out;
	cmdline_iommu(cmdline, sizeof(cmdline));
	if (odpt_report_meta(r, "kernel_cmdline_iommu", cmdline))
		goto out;
	/* The system setting, and whether the buffers were kept out of it. */
	numa_balancing_setting(numab, sizeof(numab));
	if (odpt_report_meta(r, "numa_balancing", numab) ||
	    odpt_report_meta(r, "numa_balancing_buffers",
			     cfg.numa_balancing ? "scanned" : "excluded (mbind MPOL_LOCAL)") ||
	    odpt_report_meta(r, "thp_buffers",
			     cfg.thp ? "eligible" : "excluded (MADV_NOHUGEPAGE)"))
		goto out;
	c.r = r;
	c.dev = &dev;
	snprintf(c.iommu, sizeof(c.iommu), "%s", odpt_shim_iommu_name(dev.iommu_domain));
	snprintf(c.path, sizeof(c.path), "%s", odpt_shim_path_name(&dev));

	prime_memory(sizes, nsizes, cfg.numa_balancing);
	for (i = 0; i < nsizes; i++) {
		avail = mem_available_bytes();
		/* The pages plus the module's arrays must fit with room to spare. */
		if (!bench_fits(sizes[i], avail)) {
			struct odpt_test_record t = { 0 };
			char name[64], why[128];

			snprintf(name, sizeof(name), "bench_size_%" PRIu64, sizes[i]);
			snprintf(why, sizeof(why), "needs %" PRIu64 " bytes, MemAvailable is %" PRIu64,
				 sizes[i], avail);
			t.name = name;
			t.result = ODPT_SKIP;
			t.reason = why;
			if (odpt_report_test(r, &t))
				goto out;
			odpt_warn("shim bench: skipping size %" PRIu64 ": %s", sizes[i], why);
			continue;
		}
		for (j = 0; j < nmodes; j++) {
			odpt_info("shim bench: mode %s size %" PRIu64, odpt_shim_mode_name(modes[j]),
				  sizes[i]);
			if (bench_one(&c, modes[j], sizes[i], &cfg))
				goto out;
		}
	}
	/* Every mirror is closed: the module must hold nothing any more. */
	if (open_shim(&s))
		goto out;
	ret = odpt_shim_global(s, &g);
	odpt_shim_close(s);
	if (ret)
		goto out;
	{
		struct odpt_test_record t = { .name = "bench_no_leaks", .result = ODPT_PASS };
		char why[160];

		if (g.live_mappings || g.iova_reserved_bytes || g.sg_tables_live) {
			snprintf(why, sizeof(why),
				 "after close: live_mappings %llu, iova_reserved_bytes %llu, sg_tables_live %llu",
				 (unsigned long long)g.live_mappings,
				 (unsigned long long)g.iova_reserved_bytes,
				 (unsigned long long)g.sg_tables_live);
			t.result = ODPT_FAIL;
			t.reason = why;
		}
		if (odpt_report_test(r, &t))
			goto out;
	}
	code = finish(cli, r);
out:
	odpt_report_destroy(r);
	return code;
}

/* ---- verify --------------------------------------------------------------- */

struct vctx {
	struct odpt_report *r;
	const struct odpt_hmm_dev_info *dev;
	size_t page;
};

static int vtest(struct vctx *v, const char *name, uint32_t mode,
		 enum odpt_test_result res, const char *reason, uint64_t t0)
{
	struct odpt_test_record t = { 0 };
	char full[96];

	snprintf(full, sizeof(full), "%s_%s", name, odpt_shim_mode_name(mode));
	t.name = full;
	t.result = res;
	t.reason = res == ODPT_PASS ? NULL : reason;
	t.duration_ns = odpt_now_ns() - t0;
	return odpt_report_test(v->r, &t);
}

static void fill_user(uint8_t *buf, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 131 + seed + (i >> 12));
}

/* Which pages hold the device's write pattern, which the original. */
static void count_pattern(const uint8_t *buf, size_t len, size_t page, uint64_t seed,
			  uint8_t fill_seed, uint64_t *written, uint64_t *orig,
			  uint64_t *other)
{
	size_t p, j, i;

	*written = *orig = *other = 0;
	for (p = 0; p < len; p += page) {
		const uint64_t *w = (const uint64_t *)(buf + p);
		bool is_w = true, is_o = true;

		for (j = 0; j < page / 8 && is_w; j++)
			if (w[j] != (seed ^ ((uintptr_t)(buf + p) + 8 * j)))
				is_w = false;
		for (i = p; i < p + page && is_o; i++)
			if (buf[i] != (uint8_t)(i * 131 + fill_seed + (i >> 12)))
				is_o = false;
		if (is_w)
			(*written)++;
		else if (is_o)
			(*orig)++;
		else
			(*other)++;
	}
}

static int verify_mode(struct vctx *v, uint32_t mode, const struct verify_cfg *cfg)
{
	size_t len = cfg->pages * v->page;
	const uint64_t seed = 0x6f6470745f686d6dULL ^ mode;
	const uint8_t fill_seed = (uint8_t)(17 * mode);
	struct odpt_hmm_register reg;
	struct odpt_hmm_verify vr;
	struct odpt_hmm_flags fl;
	struct odpt_hmm_unmap um;
	struct odpt_hmm_map mp;
	struct odpt_shim *s = NULL;
	uint64_t written, orig, other, t0, pfn;
	uint8_t *buf, *ro = NULL;
	char why[256];
	int ret;

	buf = map_buf(len, v->page);
	if (!buf)
		return -errno;
	/* A hinting scan between MAP and VERIFY would unmap what is checked. */
	ret = exclude_numa_balancing(buf, len);
	if (ret) {
		odpt_err("verify %s: mbind(MPOL_LOCAL): %s", odpt_shim_mode_name(mode), strerror(-ret));
		goto out_unmap;
	}
	fill_user(buf, len, fill_seed);
	ret = open_shim(&s);
	if (ret)
		goto out_unmap;
	ret = odpt_shim_register(s, buf, len, mode, &reg);
	if (!ret)
		ret = odpt_shim_map(s, buf, len, ODPT_HMM_FAULT_WRITE, &mp);
	if (ret) {
		odpt_err("verify %s: register/map: %s", odpt_shim_mode_name(mode), strerror(-ret));
		goto out_close;
	}

	/* 1. The device reads every sampled page and writes a pattern back. */
	t0 = odpt_now_ns();
	ret = odpt_shim_verify(s, buf, len, ODPT_HMM_VERIFY_WRITE, cfg->sample, seed, &vr);
	if (ret) {
		snprintf(why, sizeof(why), "VERIFY(write) failed: %s", strerror(-ret));
		ret = vtest(v, "verify_dma_read_write", mode, ODPT_FAIL, why, t0);
	} else {
		count_pattern(buf, len, v->page, seed, fill_seed, &written, &orig, &other);
		snprintf(why, sizeof(why),
			 "device: %llu of %llu pages matched (first bad 0x%llx); user: %llu pages with the device's pattern, %llu untouched, %llu corrupted",
			 (unsigned long long)vr.pages_matched, (unsigned long long)vr.pages_checked,
			 (unsigned long long)vr.first_bad_addr, (unsigned long long)written,
			 (unsigned long long)orig, (unsigned long long)other);
		ret = vtest(v, "verify_dma_read_write", mode,
			    vr.pages_checked == vr.pages_matched && vr.pages_checked &&
			    written == vr.pages_checked && other == 0 &&
			    written + orig == cfg->pages ? ODPT_PASS : ODPT_FAIL, why, t0);
	}
	if (ret)
		goto out_close;

	/* 2. After unmap, the old DMA address must not reach the page. */
	t0 = odpt_now_ns();
	if (v->dev->iommu_domain != ODPT_HMM_IOMMU_STRICT &&
	    v->dev->iommu_domain != ODPT_HMM_IOMMU_LAZY) {
		snprintf(why, sizeof(why), "no IOMMU translation (%s): DMA addresses are physical",
			 odpt_shim_iommu_name(v->dev->iommu_domain));
		ret = vtest(v, "verify_stale_address_blocked", mode, ODPT_SKIP, why, t0);
	} else {
		ret = odpt_shim_verify(s, buf, len, ODPT_HMM_VERIFY_STALE, cfg->sample, 0, &vr);
		if (ret) {
			snprintf(why, sizeof(why), "VERIFY(stale) failed: %s", strerror(-ret));
			ret = vtest(v, "verify_stale_address_blocked", mode, ODPT_FAIL, why, t0);
		} else if (vr.stale_checked && vr.stale_blocked == vr.stale_checked) {
			ret = vtest(v, "verify_stale_address_blocked", mode, ODPT_PASS, NULL, t0);
		} else {
			bool lazy = v->dev->iommu_domain == ODPT_HMM_IOMMU_LAZY;

			snprintf(why, sizeof(why),
				 "%llu of %llu device writes to unmapped addresses reached the page%s",
				 (unsigned long long)(vr.stale_checked - vr.stale_blocked),
				 (unsigned long long)vr.stale_checked,
				 lazy ? " (lazy IOTLB flushing, iommu.strict=0: a stale IOTLB entry is the documented price)" : "");
			ret = vtest(v, "verify_stale_address_blocked", mode,
				    lazy ? ODPT_XFAIL : ODPT_FAIL, why, t0);
		}
	}
	if (ret)
		goto out_close;

	/* 3. An invalidation (MADV_DONTNEED) takes pages away from the device.
	 * Start from nothing mapped: mode sg cannot map over a live sg map. */
	t0 = odpt_now_ns();
	ret = odpt_shim_unmap(s, buf, len, &um);
	if (!ret)
		ret = odpt_shim_map(s, buf, len, ODPT_HMM_FAULT_WRITE, &mp);
	if (!ret && madvise(buf + v->page, v->page, MADV_DONTNEED))
		ret = -errno;
	if (!ret)
		ret = odpt_shim_flags(s, buf + v->page, v->page, 0, &pfn, 1, &fl);
	if (ret) {
		snprintf(why, sizeof(why), "map/madvise/flags: %s", strerror(-ret));
		ret = vtest(v, "verify_invalidated_page_unmapped", mode, ODPT_FAIL, why, t0);
	} else {
		int vret = odpt_shim_verify(s, buf + v->page, v->page, 0, 1, 0, &vr);

		snprintf(why, sizeof(why), "after MADV_DONTNEED: flags 0x%llx, VERIFY gave %s (want ENXIO)",
			 (unsigned long long)pfn, vret ? strerror(-vret) : "success");
		ret = vtest(v, "verify_invalidated_page_unmapped", mode,
			    !(pfn & (ODPT_HMM_PFN_DMA_MAPPED | ODPT_HMM_PFN_VALID)) &&
			    vret == -ENXIO ? ODPT_PASS : ODPT_FAIL, why, t0);
	}
	if (ret)
		goto out_close;
	odpt_shim_close(s);
	s = NULL;

	/* 4. A read fault of untouched memory maps the zero page read-only:
	 * the device may read it (zeros) but must never be let write. */
	t0 = odpt_now_ns();
	ro = map_buf(4 * v->page, v->page);
	if (!ro) {
		ret = -errno;
		goto out_unmap;
	}
	ret = open_shim(&s);
	if (!ret)
		ret = odpt_shim_register(s, ro, 4 * v->page, mode, &reg);
	if (!ret)
		ret = odpt_shim_map(s, ro, 4 * v->page, 0, &mp);
	if (ret) {
		snprintf(why, sizeof(why), "register/map read-only: %s", strerror(-ret));
		ret = vtest(v, "verify_read_fault_never_written", mode, ODPT_FAIL, why, t0);
	} else {
		int rret = odpt_shim_verify(s, ro, 4 * v->page, 0, 2, 0, &vr);
		int wret;
		bool zero = true;
		size_t i;

		wret = odpt_shim_verify(s, ro, 4 * v->page, ODPT_HMM_VERIFY_WRITE, 2, seed, &vr);
		for (i = 0; i < 4 * v->page; i++)
			if (ro[i])
				zero = false;
		snprintf(why, sizeof(why),
			 "read check %s, write check %s (want EPERM), buffer %s",
			 rret ? strerror(-rret) : "ok", wret ? strerror(-wret) : "allowed",
			 zero ? "still zero" : "CHANGED");
		ret = vtest(v, "verify_read_fault_never_written", mode,
			    !rret && wret == -EPERM && zero ? ODPT_PASS : ODPT_FAIL, why, t0);
	}
out_close:
	odpt_shim_close(s);
out_unmap:
	if (ro)
		munmap(ro, 4 * v->page);
	munmap(buf, len);
	return ret;
}

static int run_verify(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_hmm_dev_info dev;
	struct odpt_hmm_global g;
	struct odpt_report *r = NULL;
	struct odpt_shim *s = NULL;
	struct verify_cfg cfg;
	struct vctx v = { 0 };
	uint32_t modes[3];
	int nmodes, code, j, ret;
	uint64_t t0;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[4], &cfg, argc, argv, &code))
		return code;
	if (parse_modes("verify", cfg.modes, modes, &nmodes))
		return ODPT_EXIT_USAGE;
	code = ODPT_EXIT_FAIL;
	if (start_report("shim verify", verify_opts, &cfg, &r))
		goto out;
	if (report_device(r, &dev))
		goto out;
	v.r = r;
	v.dev = &dev;
	v.page = (size_t)sysconf(_SC_PAGESIZE);
	for (j = 0; j < nmodes; j++) {
		if (!dev.can_verify) {
			char why[128];

			snprintf(why, sizeof(why), "device is %s (no DMA engine): needs QEMU's edu (1234:11e8)",
				 odpt_shim_device_name(dev.device_kind));
			if (vtest(&v, "verify_dma_read_write", modes[j], ODPT_SKIP, why, odpt_now_ns()))
				goto out;
			continue;
		}
		if (verify_mode(&v, modes[j], &cfg))
			goto out;
	}
	/* 5. Every file closed: nothing may be left mapped or reserved. */
	t0 = odpt_now_ns();
	if (open_shim(&s))
		goto out;
	ret = odpt_shim_global(s, &g);
	odpt_shim_close(s);
	if (ret)
		goto out;
	{
		char why[200];
		bool others = g.mirrors > 1;

		snprintf(why, sizeof(why),
			 "after close: live_mappings %llu, iova_reserved_bytes %llu, sg_tables_live %llu%s",
			 (unsigned long long)g.live_mappings, (unsigned long long)g.iova_reserved_bytes,
			 (unsigned long long)g.sg_tables_live,
			 others ? "; other mirrors are open, cannot judge" : "");
		struct odpt_test_record t = {
			.name = "verify_no_leaks",
			.result = others ? ODPT_SKIP :
				  (g.live_mappings || g.iova_reserved_bytes || g.sg_tables_live) ?
				  ODPT_FAIL : ODPT_PASS,
			.duration_ns = odpt_now_ns() - t0,
		};

		t.reason = t.result == ODPT_PASS ? NULL : why;
		if (odpt_report_test(r, &t))
			goto out;
	}
	code = finish(cli, r);
out:
	odpt_report_destroy(r);
	return code;
}

/* ---- flags ---------------------------------------------------------------- */

static void flag_words(uint64_t v, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s%s",
		 v & ODPT_HMM_PFN_VALID ? "VALID " : "",
		 v & ODPT_HMM_PFN_WRITE ? "WRITE " : "",
		 v & ODPT_HMM_PFN_ERROR ? "ERROR " : "",
		 v & ODPT_HMM_PFN_DMA_MAPPED ? "DMA_MAPPED " : "",
		 v & ODPT_HMM_PFN_DMA_WRITE ? "DMA_WRITE " : "",
		 v & ODPT_HMM_PFN_P2PDMA ? "P2PDMA " : "");
	if (!out[0])
		snprintf(out, len, "none");
	else
		out[strlen(out) - 1] = '\0';
}

static int run_flags(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct odpt_shim *s = NULL;
	struct odpt_hmm_register reg;
	struct odpt_hmm_flags fl;
	struct odpt_hmm_fault fa;
	struct odpt_hmm_map mp;
	struct json_object *runs;
	struct flags_cfg cfg;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n, i, first;
	uint64_t *pfns = NULL;
	uint32_t mode, fl_access;
	uint8_t *buf;
	int code, ret;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[5], &cfg, argc, argv, &code))
		return code;
	if (cfg.size % page) {
		odpt_usage_err("odpt: shim flags: --size %llu is not a multiple of the page size %zu\n",
			       (unsigned long long)cfg.size, page);
		return ODPT_EXIT_USAGE;
	}
	if (odpt_shim_mode_parse(cfg.mode, &mode)) {
		odpt_usage_err("odpt: shim flags: --mode '%s': want hmm, page or sg\n", cfg.mode);
		return ODPT_EXIT_USAGE;
	}
	if (mode == ODPT_HMM_MODE_SG && !strcmp(cfg.touch, "none") && cfg.map) {
		odpt_usage_err("odpt: shim flags: --touch=none with --map in mode sg: an sg mapping needs every page\n");
		return ODPT_EXIT_USAGE;
	}
	n = cfg.size / page;
	code = ODPT_EXIT_FAIL;
	buf = map_buf(cfg.size, cfg.thp ? 2u << 20 : page);
	pfns = calloc(n, sizeof(*pfns));
	if (!buf || !pfns) {
		odpt_err("out of memory");
		goto out_free;
	}
	if (cfg.thp)
		madvise(buf, cfg.size, MADV_HUGEPAGE);
	fl_access = 0;
	if (!strcmp(cfg.touch, "write")) {
		memset(buf, 0x5a, cfg.size);
		fl_access = ODPT_HMM_FAULT_WRITE;
	} else if (!strcmp(cfg.touch, "read")) {
		volatile uint8_t sink = 0;

		for (i = 0; i < cfg.size; i += page)
			sink ^= buf[i];
		(void)sink;
	}
	if (start_report("shim flags", flags_opts, &cfg, &r) || open_shim(&s))
		goto out_free;
	ret = odpt_shim_register(s, buf, cfg.size, mode, &reg);
	if (!ret && strcmp(cfg.touch, "none")) {
		if (cfg.map)
			ret = odpt_shim_map(s, buf, cfg.size, fl_access, &mp);
		else
			ret = odpt_shim_fault(s, buf, cfg.size, fl_access, &fa);
	} else if (!ret && cfg.map) {
		ret = odpt_shim_map(s, buf, cfg.size, ODPT_HMM_MAP_NOFAULT, &mp);
	}
	if (!ret)
		ret = odpt_shim_flags(s, buf, cfg.size, 0, pfns, n, &fl);
	if (ret) {
		odpt_err("shim flags: %s", strerror(-ret));
		goto out_free;
	}
	/* Runs of equal flags and order keep the listing short. */
	runs = json_object_new_array();
	for (first = 0, i = 1; i <= n; i++) {
		uint64_t mask = ~ODPT_HMM_PFN_PFN_MASK;
		struct json_object *o;
		char words[64];

		if (i < n && (pfns[i] & mask) == (pfns[first] & mask))
			continue;
		flag_words(pfns[first], words, sizeof(words));
		o = json_object_new_object();
		json_object_object_add(o, "first_page", json_object_new_uint64(first));
		json_object_object_add(o, "pages", json_object_new_uint64(i - first));
		json_object_object_add(o, "flags", json_object_new_string(words));
		json_object_object_add(o, "order", json_object_new_int((int)ODPT_HMM_PFN_ORDER(pfns[first])));
		json_object_array_add(runs, o);
		first = i;
	}
	if (odpt_report_section(r, "pfn_runs", runs) ||
	    odpt_report_scalar(r, "pages", NULL, 0, (double)fl.npages) ||
	    odpt_report_scalar(r, "pages_valid", NULL, 0, (double)fl.nvalid) ||
	    odpt_report_scalar(r, "pages_write", NULL, 0, (double)fl.nwrite) ||
	    odpt_report_scalar(r, "pages_dma_mapped", NULL, 0, (double)fl.nmapped))
		goto out_free;
	code = finish(cli, r);
out_free:
	odpt_shim_close(s);
	odpt_report_destroy(r);
	free(pfns);
	if (buf)
		munmap(buf, cfg.size);
	return code;
}

static const struct odpt_verb shim_verbs[] = {
	{ "load", run_load, "load odpt_hmm.ko (finit_module) and show its status", load_opts },
	{ "unload", run_unload, "unload odpt_hmm.ko (fails while a file is open)", NULL },
	{ "status", run_status, "device, DMA path, IOMMU domain and leak counters", status_opts },
	{ "bench", run_bench, "fault/map/unmap/invalidate ns per page for each mode and size", bench_opts },
	{ "verify", run_verify, "check mappings end to end with the edu device", verify_opts },
	{ "flags", run_flags, "the PFN flags the mirror holds for a buffer", flags_opts },
	{ NULL, NULL, NULL, NULL },
};

const struct odpt_object odpt_obj_shim = {
	.name = "shim",
	.summary = "the kernel shim odpt_hmm.ko: HMM mirror, DMA map modes, edu checks",
	.verbs = shim_verbs,
	.default_verb = "status",
};
