// SPDX-License-Identifier: GPL-2.0-only
/*
 * odpt_hmm.ko: an HMM mirror with DMA-mapped PFNs, timed. Each open file of
 * /dev/odpt_hmm is one mirror of a user range of the opener's mm: an
 * mmu_interval_notifier, hmm_range_fault with the read_begin/retry loop, and
 * DMA mappings for one device in one of three modes (hmm helpers, classic
 * per page, one sg_table) so their map/unmap costs and bookkeeping can be
 * compared on the same pages. Invalidations unmap under the mirror lock.
 * Latencies go into histograms in the layout of uapi/odpt_hmm_hist.h.
 *
 * This file loads and unloads the module: its parameters (the device to
 * use; read-only the uAPI version and the device in use), the device layer
 * (odpt_hmm_dev.c), the debugfs counters (odpt_hmm_stats.c) and the misc
 * device whose file operations are in odpt_hmm_ioctl.c. The files and their
 * locking: odpt_hmm_internal.h.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

#include "odpt_hmm_internal.h"

static char *device = "auto";
module_param(device, charp, 0444);
MODULE_PARM_DESC(device, "DMA device: auto (edu if present, else faux), edu, faux");

/* ---- read-only module parameters ---------------------------------------- */

static int get_abi(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", ODPT_HMM_ABI_VERSION);
}

static int get_dev_kind(char *buf, const struct kernel_param *kp)
{
	static const char * const names[] = { "none", "edu", "faux" };

	return sysfs_emit(buf, "%s\n", names[odpt_dma.kind < 3 ? odpt_dma.kind : 0]);
}

static const struct kernel_param_ops ro_abi_ops = { .get = get_abi };
static const struct kernel_param_ops ro_dev_ops = { .get = get_dev_kind };

module_param_cb(abi_version, &ro_abi_ops, NULL, 0444);
MODULE_PARM_DESC(abi_version, "uAPI version of include/uapi/odpt_hmm.h (read-only)");
module_param_cb(device_kind, &ro_dev_ops, NULL, 0444);
MODULE_PARM_DESC(device_kind, "device in use: edu or faux (read-only)");

static struct miscdevice odpt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "odpt_hmm",
	.fops = &odpt_fops,
	.mode = 0600,
};

static int __init odpt_init(void)
{
	int ret;

	ret = odpt_dev_init(device);
	if (ret)
		return ret;
	odpt_stats_debugfs_init();
	ret = misc_register(&odpt_misc);
	if (ret)
		goto err_debugfs;
	down_read(&odpt_dev_bind);
	if (odpt_dma.dev)
		dev_info(odpt_dma.dev, "odpt_hmm: mapping for %s, iommu domain %u, dma_iova %s\n",
			 odpt_dma.kind == ODPT_HMM_DEV_EDU ? "edu" : "faux",
			 odpt_dma.iommu_domain, odpt_dma.iova_probe ? "yes" : "no");
	up_read(&odpt_dev_bind);
	return 0;

err_debugfs:
	odpt_stats_debugfs_exit();
	odpt_dev_exit();
	return ret;
}

static void __exit odpt_exit(void)
{
	misc_deregister(&odpt_misc);
	odpt_stats_debugfs_exit();
	odpt_dev_exit();
}

module_init(odpt_init);
module_exit(odpt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("odpt kernel shim: HMM mirror with DMA-mapped PFNs, timed");
