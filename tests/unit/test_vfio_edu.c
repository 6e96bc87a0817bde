// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the edu-through-iommufd engine that need no edu, no
 * /dev/iommu and no root: odpt_edu_find()'s SKIP reasons against fake
 * sysfs and /dev trees (each missing piece named, a device owned by another
 * driver refused without --force-bind), the byte pattern's guarantees, the
 * DMAR fault line parser and the kmsg reader, and the IOVA range check.
 * The device itself is tested in the lab guest (docs/iommufd.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/vfio_edu.h"

struct tree {
	char root[64];
	char sys[128];
	char dev[128];
	struct odpt_edu_where w;
};

static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const struct tree *t, const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	for (p = path + strlen(t->root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void link_to(const struct tree *t, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* A PCI device directory with its vendor and device files. */
static void pci_dev(const struct tree *t, const char *bdf, const char *vendor,
		    const char *device)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", bdf);
	mkdirs(t, rel);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", bdf);
	put(t, rel, vendor);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", bdf);
	put(t, rel, device);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/odpt-edu-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->root);
	snprintf(t->dev, sizeof(t->dev), "%s/dev", t->root);
	mkdirs(t, "sys/bus/pci/devices");
	mkdirs(t, "dev");
	t->w.sysfs = t->sys;
	t->w.dev = t->dev;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

/* Everything odpt_edu_find() wants, for an unbound edu behind dmar0. */
static void full_tree(const struct tree *t)
{
	pci_dev(t, "0000:00:03.0", "0x1234\n", "0x11e8\n");
	link_to(t, "sys/bus/pci/devices/0000:00:03.0/iommu",
		"../../../devices/virtual/iommu/dmar0");
	put(t, "dev/iommu", "");
	mkdirs(t, "sys/bus/pci/drivers/vfio-pci");
	mkdirs(t, "sys/class/vfio-dev");
}

static void test_no_devices_dir(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_where w = { .sysfs = "/nonexistent-odpt", .dev = t->dev };
	struct odpt_edu_why why;
	struct odpt_edu_dev d;

	assert_int_equal(odpt_edu_find(&w, NULL, false, &d, &why), -ENODEV);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "cannot list PCI devices in /nonexistent-odpt/bus/pci/devices"));
}

static void test_no_edu(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;

	/* Same vendor, other device: not edu. */
	pci_dev(t, "0000:00:02.0", "0x1234\n", "0x1111\n");
	assert_int_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -ENODEV);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "no edu (PCI 1234:11e8)"));
	assert_non_null(strstr(why.text, "dma_mask=0xffffffffffffffff"));
}

static void test_device_option_not_edu(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;

	full_tree(t);
	pci_dev(t, "0000:00:02.0", "0x8086\n", "0x10d3\n");
	assert_int_equal(odpt_edu_find(&t->w, "0000:00:02.0", false, &d, &why), -ENODEV);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "at "));
	assert_int_equal(odpt_edu_find(&t->w, "../x", false, &d, &why), -ENODEV);
	assert_int_equal(odpt_edu_find(&t->w, "0000:00:09.0", false, &d, &why), -ENODEV);
}

static void test_lowest_address_chosen(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;

	full_tree(t);
	pci_dev(t, "0000:00:04.0", "0x1234\n", "0x11e8\n");
	odpt_edu_find(&t->w, NULL, false, &d, &why);
	assert_string_equal(d.bdf, "0000:00:03.0");
	assert_string_equal(d.iommu, "dmar0");
	assert_string_equal(d.domain, "intel");
	assert_string_equal(d.driver, "");
	odpt_edu_find(&t->w, "0000:00:04.0", false, &d, &why);
	assert_string_equal(d.bdf, "0000:00:04.0");
	assert_string_equal(d.domain, "none");
}

static void test_bound_elsewhere(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;

	full_tree(t);
	link_to(t, "sys/bus/pci/devices/0000:00:03.0/driver", "../../../bus/pci/drivers/e1000e");
	assert_int_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -EBUSY);
	assert_true(why.skip);
	assert_string_equal(d.driver, "e1000e");
	assert_non_null(strstr(why.text, "bound to e1000e"));
	assert_non_null(strstr(why.text, "--force-bind"));
	/* With --force-bind: only if sysfs can unbind it; then the next check decides. */
	assert_int_equal(odpt_edu_find(&t->w, NULL, true, &d, &why), -EBUSY);
	assert_non_null(strstr(why.text, "cannot be unbound through sysfs"));
	mkdirs(t, "sys/bus/pci/drivers/e1000e");
	put(t, "sys/bus/pci/drivers/e1000e/unbind", "");
	assert_int_not_equal(odpt_edu_find(&t->w, NULL, true, &d, &why), -EBUSY);
}

/*
 * vfio-pci is used as it is; the shim's driver is never taken (it has no
 * sysfs unbind: found in the lab, where the unbind write failed ENOENT), not
 * even with --force-bind; nor is any driver without an unbind file.
 */
static void test_bound_to_shim_or_vfio(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;
	char path[512];
	int ret;

	full_tree(t);
	link_to(t, "sys/bus/pci/devices/0000:00:03.0/driver",
		"../../../bus/pci/drivers/odpt_hmm_edu");
	ret = odpt_edu_find(&t->w, NULL, true, &d, &why);
	assert_int_equal(ret, -EBUSY);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "held by odpt's shim"));
	assert_string_equal(d.driver, "odpt_hmm_edu");
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:03.0/driver", t->sys);
	unlink(path);
	link_to(t, "sys/bus/pci/devices/0000:00:03.0/driver", "../../../bus/pci/drivers/nounbind");
	mkdirs(t, "sys/bus/pci/drivers/nounbind");
	ret = odpt_edu_find(&t->w, NULL, true, &d, &why);
	assert_int_equal(ret, -EBUSY);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "cannot be unbound through sysfs"));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:03.0/driver", t->sys);
	unlink(path);
	link_to(t, "sys/bus/pci/devices/0000:00:03.0/driver", "../../../bus/pci/drivers/vfio-pci");
	assert_int_not_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -EBUSY);
}

/* Each missing piece in turn, in the order they are checked. */
static void test_missing_pieces(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;
	char want[256];
	int ret;

	pci_dev(t, "0000:00:03.0", "0x1234\n", "0x11e8\n");
	assert_int_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -ENOENT);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "no IOMMU in front of it"));

	link_to(t, "sys/bus/pci/devices/0000:00:03.0/iommu", "../../../devices/virtual/iommu/dmar0");
	assert_int_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -ENOENT);
	snprintf(want, sizeof(want), "no %s/iommu: kernel without CONFIG_IOMMUFD", t->dev);
	assert_string_equal(why.text, want);

	put(t, "dev/iommu", "");
	assert_int_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -ENOENT);
	assert_non_null(strstr(why.text, "modprobe vfio-pci"));

	mkdirs(t, "sys/bus/pci/drivers/vfio-pci");
	assert_int_equal(odpt_edu_find(&t->w, NULL, false, &d, &why), -ENOENT);
	assert_non_null(strstr(why.text, "CONFIG_VFIO_DEVICE_CDEV"));

	mkdirs(t, "sys/class/vfio-dev");
	ret = odpt_edu_find(&t->w, NULL, false, &d, &why);
	if (odpt_edu_uapi_built()) {
		assert_int_equal(ret, 0);
		assert_false(why.skip);
	} else {
		assert_int_equal(ret, -EOPNOTSUPP);
		assert_true(why.skip);
		assert_non_null(strstr(why.text, "linux-libc-dev 6.6"));
	}
	assert_string_equal(d.sysfs, t->sys);
	assert_string_equal(d.dev, t->dev);
}

static void test_domain_names(void **state)
{
	static const struct { const char *link, *domain; } cases[] = {
		{ "dmar1", "intel" }, { "ivhd0", "amd" }, { "virtio-iommu0", "virtio" },
		{ "smmu3.0x0000000009050000", "arm-smmu" }, { "foo", "other" },
	};
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;
	char rel[256], target[128];
	size_t i;

	full_tree(t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rel, sizeof(rel), "%s/bus/pci/devices/0000:00:03.0/iommu", t->sys);
		unlink(rel);
		snprintf(target, sizeof(target), "../../../devices/virtual/iommu/%s", cases[i].link);
		link_to(t, "sys/bus/pci/devices/0000:00:03.0/iommu", target);
		odpt_edu_find(&t->w, NULL, false, &d, &why);
		assert_string_equal(d.iommu, cases[i].link);
		assert_string_equal(d.domain, cases[i].domain);
	}
}

/* The pattern is a function of (seed, offset): any slice regenerates alone,
 * and the diff counts exactly the bytes changed. */
static void test_pattern(void **state)
{
	enum { LEN = 3 * 4096 };
	uint8_t *a = malloc(LEN), *b = malloc(LEN);
	size_t first = 12345;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	odpt_edu_pattern(a, LEN, 7, 0);
	odpt_edu_pattern(b, 4096, 7, 4096);
	assert_memory_equal(a + 4096, b, 4096);
	assert_int_equal(odpt_edu_pattern_diff(a, LEN, 7, 0, &first), 0);
	assert_int_equal(first, 12345);		/* untouched when nothing differs */
	assert_int_equal(odpt_edu_pattern_diff(a + 8192, 4096, 7, 8192, &first), 0);

	a[5000] ^= 1;
	a[5001] ^= 0xff;
	a[9000] ^= 0x80;
	assert_int_equal(odpt_edu_pattern_diff(a, LEN, 7, 0, &first), 3);
	assert_int_equal(first, 5000);
	assert_int_equal(odpt_edu_pattern_diff(a + 4096, 4096, 7, 4096, &first), 2);
	assert_int_equal(first, 5000 - 4096);

	/* Another seed, or the buffer read at another offset: other bytes. */
	odpt_edu_pattern(b, 4096, 8, 0);
	assert_true(odpt_edu_pattern_diff(b, 4096, 7, 0, &first) > 4000);
	odpt_edu_pattern(b, 4096, 7, 0);
	assert_true(odpt_edu_pattern_diff(b, 4096, 7, 4096, &first) > 4000);
	free(a);
	free(b);
}

static void test_dmar_parse(void **state)
{
	uint64_t addr = 0;
	bool write = false;

	(void)state;
	assert_true(odpt_dmar_fault_parse(
		"DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x1001000 [fault reason 0x05] PTE Write access is not set",
		&addr, &write));
	assert_int_equal(addr, 0x1001000);
	assert_true(write);
	assert_true(odpt_dmar_fault_parse(
		"DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0xfffff000 [fault reason 0x06] PTE Read access is not set",
		&addr, &write));
	assert_int_equal(addr, 0xfffff000);
	assert_false(write);
	assert_true(odpt_dmar_fault_parse(
		"DMAR: [DMA Read PASID 0x1] Request device [00:03.0] fault addr 0x2000 [fault reason 0x06] x",
		&addr, &write));
	assert_int_equal(addr, 0x2000);
	/* Other DMAR lines and other faults are not IOMMU DMA faults. */
	assert_false(odpt_dmar_fault_parse("DMAR: DRHD: handling fault status reg 2", &addr, &write));
	assert_false(odpt_dmar_fault_parse("DMAR: [INTR-REMAP] Request device [00:03.0] fault index 0x0 [fault reason 0x25] Blocked a compatibility format interrupt request", &addr, &write));
	assert_false(odpt_dmar_fault_parse("AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0000 address=0x1000 flags=0x0020]", &addr, &write));
	assert_false(odpt_dmar_fault_parse("DMAR: [DMA Write NO_PASID] fault addr 0x", &addr, &write));
}

static void test_kmsg_reader(void **state)
{
	static const char rec[] =
		"3,812,5123456,-;DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x1001000 [fault reason 0x05] PTE Write access is not set\n"
		" SUBSYSTEM=pci\n";
	static const char other[] = "6,813,5123500,-;vfio-pci 0000:00:03.0: resetting\n";
	struct odpt_dmar_fault f[2];
	struct tree *t = *state;
	int p[2], n = -1, fd;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	/* One record per read, as /dev/kmsg gives them. */
	assert_int_equal(write(p[1], other, strlen(other)), (ssize_t)strlen(other));
	assert_int_equal(odpt_kmsg_dmar_faults(p[0], 30, 0x1001000, f, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(write(p[1], rec, strlen(rec)), (ssize_t)strlen(rec));
	assert_int_equal(odpt_kmsg_dmar_faults(p[0], 10000, 0x1001234, f, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(f[0].addr, 0x1001000);
	assert_true(f[0].write);
	assert_non_null(strstr(f[0].line, "[fault reason 0x05]"));
	assert_null(strstr(f[0].line, "SUBSYSTEM"));
	close(p[0]);
	close(p[1]);

	assert_int_equal(odpt_kmsg_open_end(&t->w, &fd), -ENOENT);
}

static void test_iova_fits(void **state)
{
	const struct odpt_iova_range r[] = {
		{ 0, 0xfedfffff }, { 0xfef00000, 0xffffffffffffULL },
	};

	(void)state;
	assert_true(odpt_iova_fits(r, 2, 0x1000000, 32 << 20));
	assert_true(odpt_iova_fits(r, 2, 0xfed00000, 0x100000));	/* ends on last */
	assert_false(odpt_iova_fits(r, 2, 0xfed00000, 0x100001));	/* into the hole */
	assert_false(odpt_iova_fits(r, 2, 0xfee00000, 4096));		/* the MSI window */
	assert_true(odpt_iova_fits(r, 2, 0xfef00000, 4096));
	assert_false(odpt_iova_fits(r, 2, 0xffffffffffffULL, 2));	/* past the top */
	assert_false(odpt_iova_fits(r, 2, 0x1000, 0));
	assert_false(odpt_iova_fits(r, 2, UINT64_MAX - 10, 4096));	/* wraps */
	assert_false(odpt_iova_fits(r, 0, 0x1000, 4096));
}

static void slurp(const struct tree *t, const char *rel, char *out, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/*
 * The binding steps and their undo, against plain files: edu "bound" to
 * e1000e is moved to vfio-pci (override written, e1000e unbound, vfio-pci
 * bound), the VFIO setup then fails (a plain file takes no ioctl), and
 * every step is undone: vfio-pci unbound, the override cleared, e1000e
 * bound again. (Files are not truncated by sysfs-style writes, so each
 * holds the last write at its start.)
 */
static void test_bind_restore(void **state)
{
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;
	struct odpt_edu *e = (struct odpt_edu *)&why;
	char buf[64];

	full_tree(t);
	link_to(t, "sys/bus/pci/devices/0000:00:03.0/driver", "../../../bus/pci/drivers/e1000e");
	put(t, "sys/bus/pci/devices/0000:00:03.0/driver_override", "(null)\n");
	mkdirs(t, "sys/bus/pci/drivers/e1000e");
	put(t, "sys/bus/pci/drivers/e1000e/unbind", "");
	put(t, "sys/bus/pci/drivers/e1000e/bind", "");
	put(t, "sys/bus/pci/drivers/vfio-pci/bind", "");
	put(t, "sys/bus/pci/drivers/vfio-pci/unbind", "");
	mkdirs(t, "sys/bus/pci/devices/0000:00:03.0/vfio-dev/vfio0");
	mkdirs(t, "dev/vfio/devices");
	put(t, "dev/vfio/devices/vfio0", "");
	odpt_edu_find(&t->w, NULL, true, &d, &why);
	assert_string_equal(d.driver, "e1000e");

	assert_int_not_equal(odpt_edu_open(&d, &e, &why), 0);
	assert_null(e);
	assert_non_null(strstr(why.text, odpt_edu_uapi_built() ? "VFIO_DEVICE_BIND_IOMMUFD" :
			       "without the iommufd"));
	slurp(t, "sys/bus/pci/drivers/e1000e/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:03.0");
	slurp(t, "sys/bus/pci/drivers/vfio-pci/bind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:03.0");
	slurp(t, "sys/bus/pci/drivers/vfio-pci/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:03.0");
	slurp(t, "sys/bus/pci/drivers/e1000e/bind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:03.0");
	/* "vfio-pci" was written, then "\n" (clear) over its first byte. */
	slurp(t, "sys/bus/pci/devices/0000:00:03.0/driver_override", buf, sizeof(buf));
	assert_string_equal(buf, "\nfio-pci");

	/* A second open works: the first left no process-wide state behind. */
	assert_int_not_equal(odpt_edu_open(&d, &e, &why), 0);
	assert_null(strstr(why.text, "already open"));
}

/*
 * A driver_override that cannot be written (no root) is a SKIP. Root
 * writes any plain file, but not a read-only sysfs attribute: the fake
 * override is a link to one.
 */
static void test_bind_needs_root(void **state)
{
	static const char ro_attr[] = "/sys/kernel/uevent_seqnum";
	struct tree *t = *state;
	struct odpt_edu_why why;
	struct odpt_edu_dev d;
	struct odpt_edu *e;

	full_tree(t);
	if (!geteuid()) {
		if (access(ro_attr, R_OK))
			skip();
		link_to(t, "sys/bus/pci/devices/0000:00:03.0/driver_override", ro_attr);
	} else {
		char path[512];

		put(t, "sys/bus/pci/devices/0000:00:03.0/driver_override", "(null)\n");
		snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:03.0/driver_override",
			 t->sys);
		chmod(path, 0400);
	}
	odpt_edu_find(&t->w, NULL, false, &d, &why);
	assert_int_equal(odpt_edu_open(&d, &e, &why), -EACCES);
	assert_true(why.skip);
	assert_non_null(strstr(why.text, "needs root"));
}

static void test_close_null(void **state)
{
	char now[8] = "x";

	(void)state;
	assert_int_equal(odpt_edu_close(NULL, now, sizeof(now)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_devices_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_edu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_option_not_edu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lowest_address_chosen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_to_shim_or_vfio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_names, setup, teardown),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_dmar_parse),
		cmocka_unit_test_setup_teardown(test_kmsg_reader, setup, teardown),
		cmocka_unit_test(test_iova_fits),
		cmocka_unit_test_setup_teardown(test_bind_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_needs_root, setup, teardown),
		cmocka_unit_test(test_close_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
