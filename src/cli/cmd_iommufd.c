// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt iommufd`: userspace DMA through /dev/iommu. `probe` lists what the
 * kernel's iommufd offers; `bench` times IOMMU_IOAS_MAP/UNMAP (and
 * MAP_FILE, COPY) per call and per page, cold and warm, through the
 * selftest mock domain; `iopf` handles IO page faults from a fault queue
 * and times them; `test` checks iommufd's errnos for bad requests, each
 * case fork-isolated. The work is in src/lib/iommufd; this file parses the
 * options, rejects bad input before touching /dev/iommu, and emits the
 * report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/iommufd.h"
#include "odpt/log.h"
#include "cli.h"

static const char *const domain_choices[] = { "mock", "none", "edu", NULL };

struct probe_cfg {
	const char *dev;
	const char *vfio;
};

struct bench_cfg {
	const char *dev;
	const char *sizes;
	const char *backing;
	const char *domain;
	uint64_t iters;
	uint64_t max_bytes;
	bool no_copy;
	const char *device;
	bool force_bind;
};

struct iopf_cfg {
	const char *dev;
	uint64_t iters;
	uint64_t timeout_ms;
	bool no_resolve;
};

struct test_cfg {
	const char *dev;
	const char *filter;
	uint64_t timeout_ms;
};

#define DEV_OPT(cfg)                                                                   \
	{ .name = "dev", .type = ODPT_OPT_STR, .offset = offsetof(struct cfg, dev),    \
	  .def = ODPT_IOMMUFD_DEV, .metavar = "PATH", .help = "the iommufd device node" }

static const struct odpt_opt probe_opts[] = {
	DEV_OPT(probe_cfg),
	{ .name = "vfio", .type = ODPT_OPT_STR, .offset = offsetof(struct probe_cfg, vfio),
	  .metavar = "CDEV",
	  .help = "also bind this VFIO device cdev (/dev/vfio/devices/vfioN) and read its IOMMU_GET_HW_INFO" },
	ODPT_OPT_END,
};

static const struct odpt_opt bench_opts[] = {
	DEV_OPT(bench_cfg),
	{ .name = "sizes", .type = ODPT_OPT_STR, .offset = offsetof(struct bench_cfg, sizes),
	  .def = "4K,64K,2M,1G", .metavar = "LIST",
	  .help = "buffer sizes (comma separated, K/M/G suffixes, page multiples)" },
	{ .name = "backing", .type = ODPT_OPT_STR, .offset = offsetof(struct bench_cfg, backing),
	  .def = "anon,thp,hugetlb,memfd", .metavar = "LIST",
	  .help = "memory behind the buffer: anon (4 KiB pages), thp, hugetlb (2 MiB), memfd (IOMMU_IOAS_MAP_FILE)" },
	{ .name = "domain", .type = ODPT_OPT_CHOICE, .offset = offsetof(struct bench_cfg, domain),
	  .def = "mock", .choices = domain_choices, .metavar = "D",
	  .help = "mock: the selftest mock domain attached to the IOAS (pins and maps); none: an IOAS with no domain (records the range only); edu: QEMU's edu bound to vfio-pci and attached, so maps go through the platform IOMMU (intel-iommu in the lab)" },
	{ .name = "iters", .type = ODPT_OPT_U64, .offset = offsetof(struct bench_cfg, iters),
	  .def = "50", .min = 1, .max = 1000000, .metavar = "N",
	  .help = "MAP + UNMAP rounds per backing, size and run (cold, warm)" },
	{ .name = "max-bytes", .type = ODPT_OPT_SIZE, .offset = offsetof(struct bench_cfg, max_bytes),
	  .def = "2G", .min = 4096, .max = 1ULL << 40, .metavar = "BYTES",
	  .help = "bytes mapped per run at most: bigger sizes do fewer rounds (at least one)" },
	{ .name = "no-copy", .type = ODPT_OPT_BOOL, .offset = offsetof(struct bench_cfg, no_copy),
	  .help = "skip the IOMMU_IOAS_COPY rounds" },
	{ .name = "device", .type = ODPT_OPT_STR, .offset = offsetof(struct bench_cfg, device),
	  .metavar = "BDF", .help = "with --domain=edu: edu's PCI address (default: the first edu)" },
	{ .name = "force-bind", .type = ODPT_OPT_BOOL, .offset = offsetof(struct bench_cfg, force_bind),
	  .help = "with --domain=edu: take edu from another driver (given back after the run)" },
	ODPT_OPT_END,
};

static const struct odpt_opt iopf_opts[] = {
	DEV_OPT(iopf_cfg),
	{ .name = "iters", .type = ODPT_OPT_U64, .offset = offsetof(struct iopf_cfg, iters),
	  .def = "200", .min = 1, .max = 10000000, .metavar = "N", .help = "faults raised and answered" },
	{ .name = "timeout-ms", .type = ODPT_OPT_U64, .offset = offsetof(struct iopf_cfg, timeout_ms),
	  .def = "5000", .min = 10, .max = 600000, .metavar = "MS",
	  .help = "how long a raised fault may take to show up on the fault fd" },
	{ .name = "no-resolve", .type = ODPT_OPT_BOOL, .offset = offsetof(struct iopf_cfg, no_resolve),
	  .help = "answer each fault at once instead of mapping a page at its IOVA first" },
	ODPT_OPT_END,
};

static const struct odpt_opt test_opts[] = {
	DEV_OPT(test_cfg),
	{ .name = "filter", .type = ODPT_OPT_STR, .offset = offsetof(struct test_cfg, filter),
	  .metavar = "TEXT", .help = "run only cases whose name contains TEXT" },
	{ .name = "timeout-ms", .type = ODPT_OPT_U64, .offset = offsetof(struct test_cfg, timeout_ms),
	  .def = "60000", .min = 100, .max = 3600000, .metavar = "MS",
	  .help = "watchdog per case: a case still running is killed and fails, naming its stage" },
	ODPT_OPT_END,
};

static int start_report(const char *cmd, const struct odpt_opt *opts, const void *cfg,
			struct odpt_report **r)
{
	int ret = odpt_cli_clock_init();

	return ret ? ret : odpt_cli_report_start(cmd, opts, cfg, r);
}

/* The report's exit code: a failed test is 1, nothing run is 4. */
static int finish(struct odpt_cli *cli, struct odpt_report *r, bool skipped)
{
	int code = odpt_cli_report_finish(cli, r);

	if (code == ODPT_EXIT_OK && skipped)
		code = ODPT_EXIT_SKIP;
	return code;
}

static int run_probe(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_iommufd_probe_cfg pc;
	struct odpt_report *r = NULL;
	struct probe_cfg cfg;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_iommufd.verbs[0], &cfg, argc, argv, &code))
		return code;
	pc.dev = cfg.dev;
	pc.vfio = cfg.vfio;
	code = ODPT_EXIT_FAIL;
	if (start_report("iommufd probe", probe_opts, &cfg, &r))
		goto out;
	if (odpt_iommufd_probe(r, &pc))
		goto out;
	code = finish(cli, r, false);
out:
	odpt_report_destroy(r);
	return code;
}

static int run_bench(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_iommufd_bench_cfg bc = { 0 };
	struct odpt_report *r = NULL;
	struct bench_cfg cfg;
	bool skipped = false;
	int code, ret;

	if (!odpt_cli_parse_opts_only(&odpt_obj_iommufd.verbs[1], &cfg, argc, argv, &code))
		return code;
	if (odpt_iommufd_parse_sizes(cfg.sizes, (uint64_t)sysconf(_SC_PAGESIZE), bc.sizes,
				     ODPT_IOMMUFD_MAX_SIZES, &bc.nsizes)) {
		odpt_usage_err("odpt: iommufd bench: --sizes '%s': want up to %d page multiples like 4K,2M,1G\n",
			       cfg.sizes, ODPT_IOMMUFD_MAX_SIZES);
		return ODPT_EXIT_USAGE;
	}
	if (odpt_iommufd_parse_backings(cfg.backing, &bc.backings)) {
		odpt_usage_err("odpt: iommufd bench: --backing '%s': want a list of anon, thp, hugetlb, memfd\n",
			       cfg.backing);
		return ODPT_EXIT_USAGE;
	}
	bc.dev = cfg.dev;
	bc.iters = cfg.iters;
	bc.max_bytes = cfg.max_bytes;
	bc.mock = !strcmp(cfg.domain, "mock");
	bc.edu = !strcmp(cfg.domain, "edu");
	bc.edu_device = cfg.device;
	bc.force_bind = cfg.force_bind;
	bc.copy = !cfg.no_copy;
	code = ODPT_EXIT_FAIL;
	if (start_report("iommufd bench", bench_opts, &cfg, &r))
		goto out;
	ret = odpt_iommufd_bench(r, &bc, &skipped);
	if (ret)
		goto out;
	code = finish(cli, r, skipped);
out:
	odpt_report_destroy(r);
	return code;
}

static int run_iopf(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_iommufd_iopf_cfg ic;
	struct odpt_report *r = NULL;
	struct iopf_cfg cfg;
	bool skipped = false;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_iommufd.verbs[2], &cfg, argc, argv, &code))
		return code;
	ic.dev = cfg.dev;
	ic.iters = cfg.iters;
	ic.timeout_ms = cfg.timeout_ms;
	ic.resolve = !cfg.no_resolve;
	code = ODPT_EXIT_FAIL;
	if (start_report("iommufd iopf", iopf_opts, &cfg, &r))
		goto out;
	if (odpt_iommufd_iopf(r, &ic, &skipped))
		goto out;
	code = finish(cli, r, skipped);
out:
	odpt_report_destroy(r);
	return code;
}

static int run_test(struct odpt_cli *cli, int argc, char **argv)
{
	struct odpt_iommufd_test_cfg tc;
	struct odpt_report *r = NULL;
	struct test_cfg cfg;
	bool skipped = false;
	int code;

	if (!odpt_cli_parse_opts_only(&odpt_obj_iommufd.verbs[3], &cfg, argc, argv, &code))
		return code;
	tc.dev = cfg.dev;
	tc.filter = cfg.filter;
	tc.timeout_ms = cfg.timeout_ms;
	code = ODPT_EXIT_FAIL;
	if (start_report("iommufd test", test_opts, &cfg, &r))
		goto out;
	if (odpt_iommufd_test(r, &tc, &skipped))
		goto out;
	code = finish(cli, r, skipped);
out:
	odpt_report_destroy(r);
	return code;
}

static const struct odpt_verb iommufd_verbs[] = {
	{ "probe", run_probe, "what /dev/iommu offers: IOAS, ranges, options, fault queues, mock, hw info",
	  probe_opts },
	{ "bench", run_bench, "IOMMU_IOAS_MAP/UNMAP/MAP_FILE/COPY ns per call and per page, cold and warm",
	  bench_opts },
	{ "iopf", run_iopf, "IO page faults read and answered in userspace: trigger, read, response ns",
	  iopf_opts },
	{ "test", run_test, "exact errnos for bad maps, unmaps, ids, attach, fork/exit, RLIMIT_MEMLOCK",
	  test_opts },
	{ "edu", odpt_iommufd_edu_run, ODPT_IOMMUFD_EDU_SUMMARY, odpt_iommufd_edu_opts },
	{ NULL, NULL, NULL, NULL },
};

const struct odpt_object odpt_obj_iommufd = {
	.name = "iommufd",
	.summary = "userspace DMA through /dev/iommu (iommufd): the selftest mock, edu through VFIO",
	.verbs = iommufd_verbs,
	.default_verb = "probe",
};
