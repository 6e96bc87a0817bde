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
 * (the PFN flags the mirror holds for a buffer). This file parses and
 * checks the options; the engines are in src/lib/bench.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "odpt/bench.h"
#include "odpt/log.h"
#include "odpt/shim.h"
#include "cli.h"

#define SHIM_MODES_ALL "hmm,page,sg"

static const char *const device_choices[] = { "auto", "edu", "faux", NULL };
static const char *const touch_choices[] = { "none", "read", "write", NULL };

struct load_cfg {
	const char *ko;
	const char *device;
};

struct status_cfg {
	bool unused;
};

/* The option tables fill the engines' configurations (run) directly; lists
 * and names are parsed into them after. */
struct bench_cfg {
	const char *sizes;
	const char *modes;
	struct odpt_bench_shim_cfg run;
};

struct verify_cfg {
	const char *modes;
	struct odpt_bench_verify_cfg run;
};

struct flags_cfg {
	const char *touch;
	const char *mode;
	struct odpt_bench_flags_cfg run;
};

static const struct odpt_opt load_opts[] = {
	{ .name = "ko", .type = ODPT_OPT_STR, .offset = offsetof(struct load_cfg, ko),
	  .metavar = "PATH",
	  .help = "odpt_hmm.ko to load (default: $ODPT_KMOD, else <build>/kmod/odpt_hmm.ko, else the installed module via modprobe)" },
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
	{ .name = "warm", .type = ODPT_OPT_U64, .offset = offsetof(struct bench_cfg, run.warm),
	  .def = "3", .min = 1, .max = 1000, .metavar = "N",
	  .help = "warm rounds (map + unmap of present pages) per mode and size" },
	{ .name = "setup-reps", .type = ODPT_OPT_U64,
	  .offset = offsetof(struct bench_cfg, run.setup_reps), .def = "5", .min = 0, .max = 1000,
	  .metavar = "N", .help = "extra REGISTERs (fresh files) per mode and size for the setup_ns histogram" },
	{ .name = "no-invalidate", .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct bench_cfg, run.no_invalidate),
	  .help = "skip the invalidation round (MADV_DONTNEED of a mapped buffer)" },
	{ .name = "numa-balancing", .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct bench_cfg, run.numa_balancing),
	  .help = "leave the buffers to NUMA balancing: its hinting scans then invalidate mirrors mid-round (counted in invalidated_pages)" },
	{ .name = "thp", .type = ODPT_OPT_BOOL, .offset = offsetof(struct bench_cfg, run.thp),
	  .help = "leave the buffers to transparent huge pages (default MADV_NOHUGEPAGE): khugepaged's collapses then invalidate mirrors mid-round" },
	ODPT_OPT_END,
};

static const struct odpt_opt verify_opts[] = {
	{ .name = "pages", .type = ODPT_OPT_U64, .offset = offsetof(struct verify_cfg, run.pages),
	  .def = "64", .min = 2, .max = 1 << 20, .metavar = "N", .help = "buffer pages per mode" },
	{ .name = "sample", .type = ODPT_OPT_U64, .offset = offsetof(struct verify_cfg, run.sample),
	  .def = "4", .min = 1, .max = 64, .metavar = "N",
	  .help = "pages the device checks per step (each costs ~0.2 s of device time)" },
	{ .name = "modes", .type = ODPT_OPT_STR, .offset = offsetof(struct verify_cfg, modes),
	  .def = SHIM_MODES_ALL, .metavar = "LIST", .help = "map modes: hmm, page, sg" },
	ODPT_OPT_END,
};

static const struct odpt_opt flags_opts[] = {
	{ .name = "size", .type = ODPT_OPT_SIZE, .offset = offsetof(struct flags_cfg, run.size),
	  .def = "64K", .min = 4096, .max = 1ULL << 30, .metavar = "BYTES",
	  .help = "buffer size (page multiple)" },
	{ .name = "touch", .type = ODPT_OPT_CHOICE, .offset = offsetof(struct flags_cfg, touch),
	  .def = "write", .choices = touch_choices, .metavar = "HOW",
	  .help = "how the CPU touches the buffer first; the mirror then faults for the same access" },
	{ .name = "mode", .type = ODPT_OPT_STR, .offset = offsetof(struct flags_cfg, mode),
	  .def = "hmm", .metavar = "MODE", .help = "map mode: hmm, page, sg" },
	{ .name = "map", .type = ODPT_OPT_BOOL, .offset = offsetof(struct flags_cfg, run.map),
	  .help = "DMA-map the range (else only fault it)" },
	{ .name = "thp", .type = ODPT_OPT_BOOL, .offset = offsetof(struct flags_cfg, run.thp),
	  .help = "2 MiB aligned buffer with MADV_HUGEPAGE (shows the order field)" },
	ODPT_OPT_END,
};

/* ---- option lists ---------------------------------------------------------- */

/* "hmm,page": up to ODPT_BENCH_MAX_MODES map modes. */
static int parse_modes_list(const char *list, uint32_t *modes, int *n)
{
	char buf[64], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= ODPT_BENCH_MAX_MODES || odpt_shim_mode_parse(tok, &modes[*n]))
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

/* "4K,1M": up to ODPT_BENCH_MAX_SIZES page multiples. */
static int parse_sizes(const char *list, uint64_t *sizes, int *n)
{
	char buf[256], *save = NULL, *tok;
	long page = sysconf(_SC_PAGESIZE);

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= ODPT_BENCH_MAX_SIZES || odpt_parse_size(tok, &sizes[*n]) ||
		    !sizes[*n] || sizes[*n] % (uint64_t)page)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

/* ---- status / load / unload ---------------------------------------------- */

static int run_status(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct status_cfg cfg;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[2], &cfg, argc, argv, &code))
		return code;
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("shim status", NULL, NULL, &r) &&
	    !odpt_bench_shim_status(r))
		code = odpt_cli_report_finish(cli, r);
	odpt_report_destroy(r);
	return code;
}

/*
 * modprobe the module installed for the running kernel (DKMS: updates/dkms).
 * build_ko is the build-tree path that was not there, for the message.
 */
static int load_installed(const char *build_ko, const char *params)
{
	char rel[128], path[4096];
	glob_t g;
	int ret;

	ret = odpt_shim_module_find_running(rel, sizeof(rel), path, sizeof(path));
	if (ret) {
		/* The DKMS source is there but was never built for this kernel
		 * (its headers were missing when the package was installed). */
		if (!glob("/usr/src/odpt-hmm-*/dkms.conf", 0, NULL, &g)) {
			odpt_err("odpt_hmm is not built for kernel %s: install linux-headers-%s, then run dkms autoinstall (source: %s)",
				 rel, rel, g.gl_pathv[0]);
			globfree(&g);
		} else {
			odpt_err("no odpt_hmm to load: %s does not exist and /lib/modules/%s/modules.dep has none (%s): install odpt-hmm-dkms or pass --ko",
				 build_ko, rel, strerror(-ret));
		}
		return ODPT_EXIT_USAGE;
	}
	odpt_info("loading /lib/modules/%s/%s with modprobe", rel, path);
	ret = odpt_shim_module_probe(params);
	if (ret) {
		odpt_err("modprobe odpt_hmm %s failed: %s", params,
			 ret == -EIO ? "see modprobe's message above" : strerror(-ret));
		return ODPT_EXIT_FAIL;
	}
	return ODPT_EXIT_OK;
}

static int run_load(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct load_cfg cfg;
	char params[64], def_ko[4096];
	bool installed = false;
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
		/* No build tree here: the installed module (DKMS). */
		installed = access(def_ko, F_OK) != 0;
	}
	snprintf(params, sizeof(params), "device=%s", cfg.device);
	if (odpt_shim_module_loaded()) {
		odpt_info("odpt_hmm is already loaded; not loading %s",
			  installed ? "the installed module" : ko);
	} else {
		if (installed) {
			code = load_installed(def_ko, params);
			if (code)
				return code;
		} else if ((ret = odpt_shim_module_load(ko, params))) {
			odpt_err("cannot load %s: %s", ko, strerror(-ret));
			return ret == -ENOENT ? ODPT_EXIT_USAGE : ODPT_EXIT_FAIL;
		}
		/* udev may take a moment to create the node. */
		for (int i = 0; i < 100 && access(ODPT_HMM_DEV_PATH, F_OK); i++)
			usleep(10000);
	}
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("shim load", load_opts, &cfg, &r) &&
	    !odpt_bench_shim_status(r))
		code = odpt_cli_report_finish(cli, r);
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

/* ---- bench / verify / flags ------------------------------------------------ */

static int run_bench(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct bench_cfg cfg;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[3], &cfg, argc, argv, &code))
		return code;
	if (parse_sizes(cfg.sizes, cfg.run.sizes, &cfg.run.nsizes)) {
		odpt_usage_err("odpt: shim bench: --sizes '%s': want up to %d page multiples like 4K,1M,1G\n",
			       cfg.sizes, ODPT_BENCH_MAX_SIZES);
		return ODPT_EXIT_USAGE;
	}
	if (parse_modes("bench", cfg.modes, cfg.run.modes, &cfg.run.nmodes))
		return ODPT_EXIT_USAGE;
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("shim bench", bench_opts, &cfg, &r) &&
	    !odpt_bench_shim(&cfg.run, r))
		code = odpt_cli_report_finish(cli, r);
	odpt_report_destroy(r);
	return code;
}

static int run_verify(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_report *r = NULL;
	struct verify_cfg cfg;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[4], &cfg, argc, argv, &code))
		return code;
	if (parse_modes("verify", cfg.modes, cfg.run.modes, &cfg.run.nmodes))
		return ODPT_EXIT_USAGE;
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("shim verify", verify_opts, &cfg, &r) &&
	    !odpt_bench_shim_verify(&cfg.run, r))
		code = odpt_cli_report_finish(cli, r);
	odpt_report_destroy(r);
	return code;
}

static int run_flags(struct odpt_cli *cli, int argc, char **argv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct odpt_report *r = NULL;
	struct flags_cfg cfg;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_shim.verbs[5], &cfg, argc, argv, &code))
		return code;
	if (cfg.run.size % page) {
		odpt_usage_err("odpt: shim flags: --size %llu is not a multiple of the page size %zu\n",
			       (unsigned long long)cfg.run.size, page);
		return ODPT_EXIT_USAGE;
	}
	if (odpt_shim_mode_parse(cfg.mode, &cfg.run.mode)) {
		odpt_usage_err("odpt: shim flags: --mode '%s': want hmm, page or sg\n", cfg.mode);
		return ODPT_EXIT_USAGE;
	}
	/* The option table allows only touch_choices. */
	cfg.run.touch = !strcmp(cfg.touch, "write") ? ODPT_BENCH_TOUCH_WRITE :
			!strcmp(cfg.touch, "read") ? ODPT_BENCH_TOUCH_READ : ODPT_BENCH_TOUCH_NONE;
	if (cfg.run.mode == ODPT_HMM_MODE_SG && cfg.run.touch == ODPT_BENCH_TOUCH_NONE &&
	    cfg.run.map) {
		odpt_usage_err("odpt: shim flags: --touch=none with --map in mode sg: an sg mapping needs every page\n");
		return ODPT_EXIT_USAGE;
	}
	code = ODPT_EXIT_FAIL;
	if (!odpt_cli_clock_init() && !odpt_cli_report_start("shim flags", flags_opts, &cfg, &r) &&
	    !odpt_bench_shim_flags(&cfg.run, r))
		code = odpt_cli_report_finish(cli, r);
	odpt_report_destroy(r);
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
