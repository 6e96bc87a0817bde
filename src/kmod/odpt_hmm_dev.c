// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DMA device of odpt_hmm.ko. With QEMU's edu device (PCI 1234:11e8)
 * present, a PCI driver binds it (64-bit mask, bus mastering, BAR0) and its
 * DMA engine verifies mappings end to end; behind an intel-iommu its
 * mappings take the IOVA path. Without edu (or with device=faux) a faux
 * device with a 64-bit mask gives the direct path and cannot verify.
 */
#include <linux/delay.h>
#include <linux/device/faux.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>

#include "odpt_hmm_internal.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_REG_ID	0x00
#define EDU_REG_DMA_SRC	0x80
#define EDU_REG_DMA_DST	0x88
#define EDU_REG_DMA_CNT	0x90
#define EDU_REG_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2	/* direction: edu buffer -> RAM */
#define EDU_BUF_ADDR	0x40000	/* edu's 4 KiB buffer in its DMA space */
#define EDU_TIMEOUT_MS	5000	/* QEMU completes after ~100 ms of virtual time */

struct odpt_dma_dev odpt_dma;
atomic64_t odpt_edu_transfers = ATOMIC64_INIT(0);

static struct {
	struct pci_dev *pdev;
	void __iomem *bar;
	void *check_buf;
	dma_addr_t check_dma;
	struct mutex lock;	/* one transfer at a time: the engine is single */
} edu;

static struct faux_device *faux;
static bool edu_registered;

static int edu_transfer(u64 src, u64 dst, u32 cmd, u64 *wait_ns)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(EDU_TIMEOUT_MS);
	u64 t0 = ktime_get_ns();
	int ret = 0;

	writeq(src, edu.bar + EDU_REG_DMA_SRC);
	writeq(dst, edu.bar + EDU_REG_DMA_DST);
	writeq(PAGE_SIZE, edu.bar + EDU_REG_DMA_CNT);
	writeq(cmd | EDU_CMD_START, edu.bar + EDU_REG_DMA_CMD);
	while (readq(edu.bar + EDU_REG_DMA_CMD) & EDU_CMD_START) {
		if (time_after(jiffies, deadline)) {
			ret = -ETIMEDOUT;
			break;
		}
		usleep_range(2000, 4000);
	}
	*wait_ns += ktime_get_ns() - t0;
	atomic64_inc(&odpt_edu_transfers);
	return ret;
}

/* src (a mapping's DMA address) -> edu buffer -> coherent check buffer. */
int odpt_edu_page_to_check(dma_addr_t src, u64 *wait_ns)
{
	int ret;

	mutex_lock(&edu.lock);
	ret = edu_transfer(src, EDU_BUF_ADDR, 0, wait_ns);
	if (!ret)
		ret = edu_transfer(EDU_BUF_ADDR, edu.check_dma, EDU_CMD_TO_RAM,
				   wait_ns);
	mutex_unlock(&edu.lock);
	return ret;
}

/* coherent check buffer -> edu buffer -> dst (a DMA address). */
int odpt_edu_check_to_page(dma_addr_t dst, u64 *wait_ns)
{
	int ret;

	mutex_lock(&edu.lock);
	ret = edu_transfer(edu.check_dma, EDU_BUF_ADDR, 0, wait_ns);
	if (!ret)
		ret = edu_transfer(EDU_BUF_ADDR, dst, EDU_CMD_TO_RAM, wait_ns);
	mutex_unlock(&edu.lock);
	return ret;
}

void *odpt_edu_check_buf(void)
{
	return edu.check_buf;
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	u32 devid;
	int ret;

	if (edu.pdev)
		return -EBUSY;	/* one edu is enough */
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);	/* else QEMU drops the device's DMA */
	edu.bar = pcim_iomap_region(pdev, 0, "odpt_hmm");
	if (IS_ERR(edu.bar))
		return PTR_ERR(edu.bar);
	devid = readl(edu.bar + EDU_REG_ID);
	if ((devid & 0xff) != 0xed) {
		dev_err(&pdev->dev, "unexpected edu id 0x%08x\n", devid);
		return -ENODEV;
	}
	/* A 28-bit mask (edu's default) makes hmm_dma_map_alloc refuse. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	edu.check_buf = dmam_alloc_coherent(&pdev->dev, PAGE_SIZE,
					    &edu.check_dma, GFP_KERNEL);
	if (!edu.check_buf)
		return -ENOMEM;
	edu.pdev = pdev;
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	if (edu.pdev == pdev)
		edu.pdev = NULL;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "odpt_hmm_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
	/* Mirrors hold the device for their lifetime: no unbind from sysfs. */
	.driver.suppress_bind_attrs = true,
};

static u32 iommu_domain_kind(struct device *dev)
{
	struct iommu_domain *d = iommu_get_domain_for_dev(dev);

	if (!d)
		return ODPT_HMM_IOMMU_NONE;
	switch (d->type) {
	case IOMMU_DOMAIN_IDENTITY:
		return ODPT_HMM_IOMMU_IDENTITY;
	case IOMMU_DOMAIN_DMA:
		return ODPT_HMM_IOMMU_STRICT;
	case IOMMU_DOMAIN_DMA_FQ:
		return ODPT_HMM_IOMMU_LAZY;
	default:
		return ODPT_HMM_IOMMU_OTHER;
	}
}

static int faux_setup(void)
{
	int ret;

	faux = faux_device_create("odpt_hmm", NULL, NULL);
	if (!faux)
		return -ENODEV;
	/* A faux device has no DMA mask of its own. */
	faux->dev.dma_mask = &faux->dev.coherent_dma_mask;
	ret = dma_set_mask_and_coherent(&faux->dev, DMA_BIT_MASK(64));
	if (ret) {
		faux_device_destroy(faux);
		faux = NULL;
	}
	return ret;
}

int odpt_dev_init(const char *which)
{
	struct dma_iova_state st = {};
	bool want_edu, need_edu;
	int ret;

	if (!strcmp(which, "auto")) {
		want_edu = true;
		need_edu = false;
	} else if (!strcmp(which, "edu")) {
		want_edu = need_edu = true;
	} else if (!strcmp(which, "faux")) {
		want_edu = need_edu = false;
	} else {
		return -EINVAL;
	}
	mutex_init(&edu.lock);
	if (want_edu) {
		ret = pci_register_driver(&edu_driver);
		if (ret)
			return ret;
		edu_registered = true;
	}
	if (edu.pdev) {
		odpt_dma.dev = &edu.pdev->dev;
		odpt_dma.kind = ODPT_HMM_DEV_EDU;
		odpt_dma.can_verify = true;
	} else if (need_edu) {
		ret = -ENODEV;
		goto err_unregister;
	} else {
		ret = faux_setup();
		if (ret)
			goto err_unregister;
		odpt_dma.dev = &faux->dev;
		odpt_dma.kind = ODPT_HMM_DEV_FAUX;
	}
	odpt_dma.iommu_domain = iommu_domain_kind(odpt_dma.dev);
	if (dma_iova_try_alloc(odpt_dma.dev, &st, 0, PAGE_SIZE)) {
		odpt_dma.iova_probe = true;
		dma_iova_free(odpt_dma.dev, &st);
	}
	return 0;

err_unregister:
	if (edu_registered)
		pci_unregister_driver(&edu_driver);
	edu_registered = false;
	return ret;
}

void odpt_dev_exit(void)
{
	if (faux)
		faux_device_destroy(faux);
	faux = NULL;
	if (edu_registered)
		pci_unregister_driver(&edu_driver);
	edu_registered = false;
	memset(&odpt_dma, 0, sizeof(odpt_dma));
}
