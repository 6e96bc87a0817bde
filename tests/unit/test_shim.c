// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the shim client and the uAPI it shares with odpt_hmm.ko,
 * runnable without the module: the ABI rules of include/uapi/odpt_hmm.h
 * (size/flags header, 8-byte multiples, one size per ioctl number), the
 * client's name tables and its errno conversion when the device is missing
 * or is not odpt_hmm, and that the module's histogram layout imports into
 * odpt_hist losslessly, and how the installed module is found in
 * modules.dep. The module itself is tested in the lab (tests/lab).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/shim.h"

struct ioc {
	unsigned long cmd;
	size_t size;
	size_t off_size, off_flags;
};

#define IOC(c, t) { c, sizeof(t), offsetof(t, size), offsetof(t, flags) }

static const struct ioc iocs[] = {
	IOC(ODPT_HMM_IOC_DEV_INFO, struct odpt_hmm_dev_info),
	IOC(ODPT_HMM_IOC_GLOBAL, struct odpt_hmm_global),
	IOC(ODPT_HMM_IOC_REGISTER, struct odpt_hmm_register),
	IOC(ODPT_HMM_IOC_FAULT, struct odpt_hmm_fault),
	IOC(ODPT_HMM_IOC_MAP, struct odpt_hmm_map),
	IOC(ODPT_HMM_IOC_UNMAP, struct odpt_hmm_unmap),
	IOC(ODPT_HMM_IOC_FLAGS, struct odpt_hmm_flags),
	IOC(ODPT_HMM_IOC_GET_HIST, struct odpt_hmm_hist_req),
	IOC(ODPT_HMM_IOC_GET_STATS, struct odpt_hmm_stats),
	IOC(ODPT_HMM_IOC_VERIFY, struct odpt_hmm_verify),
};
#define NIOCS (sizeof(iocs) / sizeof(iocs[0]))

/* Every struct starts with size then flags, has no tail padding that
 * differs between 32- and 64-bit, and its ioctl encodes its size. */
static void test_uapi_layout(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < NIOCS; i++) {
		assert_int_equal(iocs[i].off_size, 0);
		assert_int_equal(iocs[i].off_flags, 4);
		assert_int_equal(iocs[i].size % 8, 0);
		assert_int_equal(_IOC_SIZE(iocs[i].cmd), iocs[i].size);
		assert_int_equal(_IOC_TYPE(iocs[i].cmd), ODPT_HMM_IOC_MAGIC);
		assert_int_equal(_IOC_DIR(iocs[i].cmd), _IOC_READ | _IOC_WRITE);
		for (j = 0; j < i; j++)
			assert_int_not_equal(_IOC_NR(iocs[i].cmd), _IOC_NR(iocs[j].cmd));
	}
	assert_int_not_equal(_IOC_NR(ODPT_HMM_IOC_VERSION), _IOC_NR(ODPT_HMM_IOC_REGISTER));
}

/* The uAPI PFN bits are distinct and the order field holds THP's 9. */
static void test_pfn_bits(void **state)
{
	uint64_t all = ODPT_HMM_PFN_VALID | ODPT_HMM_PFN_WRITE | ODPT_HMM_PFN_ERROR |
		       ODPT_HMM_PFN_DMA_MAPPED | ODPT_HMM_PFN_P2PDMA;
	uint64_t v = 9ULL << ODPT_HMM_PFN_ORDER_SHIFT;

	(void)state;
	assert_int_equal(__builtin_popcountll(all), 5);
	assert_int_equal(all & ODPT_HMM_PFN_ORDER_MASK, 0);
	assert_int_equal(all & ODPT_HMM_PFN_PFN_MASK, 0);
	assert_int_equal(ODPT_HMM_PFN_ORDER_MASK & ODPT_HMM_PFN_PFN_MASK, 0);
	assert_int_equal(ODPT_HMM_PFN_ORDER(v | ODPT_HMM_PFN_VALID | 12345), 9);
}

static void test_names(void **state)
{
	uint32_t m, id, j;

	(void)state;
	for (m = ODPT_HMM_MODE_HMM; m <= ODPT_HMM_MODE_SG; m++) {
		uint32_t back = 0;

		assert_int_equal(odpt_shim_mode_parse(odpt_shim_mode_name(m), &back), 0);
		assert_int_equal(back, m);
	}
	assert_int_equal(odpt_shim_mode_parse("dma", &m), -EINVAL);
	assert_string_equal(odpt_shim_mode_name(0), "?");
	assert_string_equal(odpt_shim_mode_name(99), "?");
	for (id = 0; id < ODPT_HMM_HIST_NR; id++) {
		assert_string_not_equal(odpt_shim_hist_name(id), "?");
		assert_non_null(strstr(odpt_shim_hist_name(id), "_ns"));
		for (j = 0; j < id; j++)
			assert_string_not_equal(odpt_shim_hist_name(id), odpt_shim_hist_name(j));
	}
	assert_string_equal(odpt_shim_hist_name(ODPT_HMM_HIST_NR), "?");
	assert_string_equal(odpt_shim_iommu_name(ODPT_HMM_IOMMU_LAZY), "lazy");
	assert_string_equal(odpt_shim_iommu_name(ODPT_HMM_IOMMU_STRICT), "strict");
	assert_string_equal(odpt_shim_iommu_name(77), "?");
	assert_string_equal(odpt_shim_device_name(ODPT_HMM_DEV_EDU), "edu");
	assert_string_equal(odpt_shim_device_name(ODPT_HMM_DEV_FAUX), "faux");
}

/* Missing device: -ENOENT; a device that is not odpt_hmm: -ENOTTY. */
static void test_open_errors(void **state)
{
	struct odpt_shim *s = NULL;
	uint32_t abi = 1234;

	(void)state;
	assert_int_equal(odpt_shim_open("/nonexistent/odpt_hmm", &abi, &s), -ENOENT);
	assert_null(s);
	assert_int_equal(odpt_shim_open("/dev/null", &abi, &s), -ENOTTY);
	assert_null(s);
}

/* A counts array in the module's layout imports into odpt_hist with the
 * same count and percentiles, using the module's own index function. */
static void test_hist_import(void **state)
{
	static uint64_t counts[ODPT_HMM_HIST_COUNTS_LEN];
	static const uint64_t vals[] = { 1, 127, 128, 255, 256, 1000, 65535,
					 1000000, 3600000000000ULL };
	struct odpt_hist *h;
	size_t i;

	(void)state;
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		counts[odpt_hmm_hist_index(vals[i])]++;
	assert_int_equal(odpt_hist_create(ODPT_HMM_HIST_LOWEST, ODPT_HMM_HIST_HIGHEST,
					  ODPT_HMM_HIST_SIG_FIGS, &h), 0);
	assert_int_equal(h->counts_len, ODPT_HMM_HIST_COUNTS_LEN);
	assert_int_equal(odpt_hist_import_counts(h, counts, ODPT_HMM_HIST_COUNTS_LEN), 0);
	assert_int_equal(odpt_hist_count(h), sizeof(vals) / sizeof(vals[0]));
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		assert_int_equal(odpt_hist_index(h, vals[i]), (int32_t)odpt_hmm_hist_index(vals[i]));
	assert_true(odpt_hist_value_at_percentile(h, 100) >= 3600000000000ULL);
	assert_int_equal(odpt_hist_value_at_percentile(h, 0), 1);
	odpt_hist_destroy(h);
}

/* Write text to a fresh temporary modules.dep; the path goes to buf. */
static void write_dep(char *buf, const char *text)
{
	FILE *f;
	int fd;

	strcpy(buf, "/tmp/odpt-test-modules.dep.XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The installed module is found in modules.dep whatever its directory and
 * compression; a module whose name only starts the same is not it. */
static void test_module_find(void **state)
{
	char dep[64], path[64];

	(void)state;
	write_dep(dep, "kernel/drivers/x/odpt_hmm_other.ko.xz:\n"
		       "kernel/mm/odpt_hmmx.ko:\n"
		       "kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko.xz: kernel/a.ko.xz\n"
		       "updates/dkms/odpt_hmm.ko.xz:\n");
	assert_int_equal(odpt_shim_module_find(dep, path, sizeof(path)), 0);
	assert_string_equal(path, "updates/dkms/odpt_hmm.ko.xz");
	assert_int_equal(odpt_shim_module_find(dep, path, 8), -ENAMETOOLONG);
	unlink(dep);

	write_dep(dep, "odpt_hmm.ko:\n");
	assert_int_equal(odpt_shim_module_find(dep, path, sizeof(path)), 0);
	assert_string_equal(path, "odpt_hmm.ko");
	unlink(dep);

	write_dep(dep, "kernel/mm/odpt_hmm_x.ko: updates/dkms/odpt_hmm.ko\n");
	assert_int_equal(odpt_shim_module_find(dep, path, sizeof(path)), -ENOENT);
	unlink(dep);
	assert_int_equal(odpt_shim_module_find(dep, path, sizeof(path)), -ENOENT);
	assert_int_equal(odpt_shim_module_find("/proc/self", path, sizeof(path)), -EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_layout),
		cmocka_unit_test(test_pfn_bits),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_hist_import),
		cmocka_unit_test(test_module_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
