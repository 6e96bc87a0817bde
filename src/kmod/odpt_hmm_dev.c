// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DMA device of odpt_hmm.ko. With QEMU's edu device (PCI 1234:11e8)
 * present, a PCI driver binds it (64-bit mask, bus mastering, BAR0) and its
 * DMA engine verifies mappings end to end; behind an intel-iommu its
 * mappings take the IOVA path. Without edu (or with device=faux) a faux
 * device with a 64-bit mask gives the direct path and cannot verify.
 *
 * edu can go away under the module (sysfs remove, device_del): removal
 * undoes every mirror's mappings first and leaves the files open then dead
 * (-ENODEV); a re-scan probes edu again for new files. A probe refuses an edu
 * whose DMA does not reach addresses above its default 28-bit mask (QEMU
 * started without dma_mask=), and a transfer that never finishes takes the
 * engine off the bus for good (until the next probe).
 */
#include <linux/delay.h>
#include <linux/device/faux.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/mm.h>
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
#define EDU_QEMU_MASK_BITS 28	/* QEMU edu's dma_mask unless told otherwise */
#define EDU_SELFTEST_TRIES 64	/* pages tried for a DMA address >= 2^28 */

/* QEMU completes a transfer after ~100 ms of virtual time. Writable so the
 * lab can make a transfer time out while the engine still runs.
 */
static unsigned int edu_timeout_ms = 5000;
module_param(edu_timeout_ms, uint, 0644);
MODULE_PARM_DESC(edu_timeout_ms, "edu DMA transfer timeout in ms (a timeout takes edu off the bus until it is probed again)");

/* Did the last probe's self-test reach above 2^28 and find the data right? */
static bool edu_dma_mask_checked;
module_param(edu_dma_mask_checked, bool, 0444);
MODULE_PARM_DESC(edu_dma_mask_checked, "the bound edu passed a DMA test above 2^28 at probe (read-only)");

DECLARE_RWSEM(odpt_dev_bind);
struct odpt_dma_dev odpt_dma;
atomic64_t odpt_edu_transfers = ATOMIC64_INIT(0);
atomic64_t odpt_edu_timeouts = ATOMIC64_INIT(0);
static atomic_t dev_unbinding = ATOMIC_INIT(0);

static struct {
	struct pci_dev *pdev;		/* bound edu, NULL if none */
	void __iomem *bar;
	void *check_buf;		/* PAGE_SIZE, coherent */
	dma_addr_t check_dma;
	struct mutex owner;		/* engine, edu buffer and check buffer */
	bool broken;			/* a transfer timed out */
} edu = {
	.owner = __MUTEX_INITIALIZER(edu.owner),
};

static struct faux_device *faux;
static bool edu_registered;

bool odpt_dev_unbinding(void)
{
	return atomic_read(&dev_unbinding) != 0;
}

/* A transfer that did not finish is still in flight: clearing bus mastering
 * makes the platform drop whatever it does from now on (QEMU routes a
 * non-master's DMA nowhere), so the page it targets may be unmapped and
 * freed. The engine is not used again until a new probe.
 */
static void edu_give_up(unsigned int ms)
{
	pci_clear_master(edu.pdev);
	edu.broken = true;
	atomic64_inc(&odpt_edu_timeouts);
	dev_err(&edu.pdev->dev,
		"odpt_hmm: edu DMA still running after %u ms: bus mastering off, no more DMA until edu is probed again (remove and re-scan)\n",
		ms);
}

static int edu_transfer(u64 src, u64 dst, u32 cmd, u64 *wait_ns)
{
	unsigned int ms = max(READ_ONCE(edu_timeout_ms), 1U);
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);
	u64 t0 = ktime_get_ns();
	int ret = 0;

	lockdep_assert_held(&edu.owner);
	if (edu.broken)
		return -EIO;
	writeq(src, edu.bar + EDU_REG_DMA_SRC);
	writeq(dst, edu.bar + EDU_REG_DMA_DST);
	writeq(PAGE_SIZE, edu.bar + EDU_REG_DMA_CNT);
	writeq(cmd | EDU_CMD_START, edu.bar + EDU_REG_DMA_CMD);
	while (readq(edu.bar + EDU_REG_DMA_CMD) & EDU_CMD_START) {
		if (time_after(jiffies, deadline)) {
			edu_give_up(ms);
			ret = -ETIMEDOUT;
			break;
		}
		usleep_range(2000, 4000);
	}
	*wait_ns += ktime_get_ns() - t0;
	atomic64_inc(&odpt_edu_transfers);
	return ret;
}

int odpt_edu_claim(void)
{
	if (mutex_lock_killable(&edu.owner))
		return -EINTR;
	if (!edu.pdev || edu.broken) {
		mutex_unlock(&edu.owner);
		return edu.pdev ? -EIO : -ENODEV;
	}
	return 0;
}

void odpt_edu_unclaim(void)
{
	mutex_unlock(&edu.owner);
}

/* src (a mapping's DMA address) -> edu buffer -> coherent check buffer. */
int odpt_edu_page_to_check(dma_addr_t src, u64 *wait_ns)
{
	int ret;

	ret = edu_transfer(src, EDU_BUF_ADDR, 0, wait_ns);
	if (!ret)
		ret = edu_transfer(EDU_BUF_ADDR, edu.check_dma, EDU_CMD_TO_RAM,
				   wait_ns);
	return ret;
}

/* coherent check buffer -> edu buffer -> dst (a DMA address). */
int odpt_edu_check_to_page(dma_addr_t dst, u64 *wait_ns)
{
	int ret;

	ret = edu_transfer(edu.check_dma, EDU_BUF_ADDR, 0, wait_ns);
	if (!ret)
		ret = edu_transfer(EDU_BUF_ADDR, dst, EDU_CMD_TO_RAM, wait_ns);
	return ret;
}

void *odpt_edu_check_buf(void)
{
	lockdep_assert_held(&edu.owner);
	return edu.check_buf;
}

/*
 * QEMU's edu ANDs every DMA address with its dma_mask property, 28 bits
 * unless the command line says otherwise, and says so only on QEMU's stdout.
 * A 64-bit DMA mask on our side then means transfers silently hit other
 * memory. Test it once, before anything else is mapped for edu: let the
 * engine read a page whose DMA address has a bit at or above 2^28 into a
 * landing buffer where even a clamping engine writes only into that buffer:
 * below 2^28 (a 28-bit coherent mask) when DMA addresses are physical; any
 * address behind a translating IOMMU, where a clamped address can only hit
 * one of edu's own two mappings or fault (and a 28-bit allocation would
 * move every later IOVA below 2^28). Pages are taken from every node in turn
 * (a node's memory may all lie below 2^28). 0 when the page arrived intact,
 * or when no such address could be
 * found (nothing to refuse); -EIO when it did not arrive; -ETIMEDOUT when
 * the engine did not finish.
 */
static int edu_dma_selftest(struct pci_dev *pdev)
{
	struct device *dev = &pdev->dev;
	struct page *tried[EDU_SELFTEST_TRIES];
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);
	bool translated = dom && iommu_is_dma_domain(dom);
	dma_addr_t addr = DMA_MAPPING_ERROR, low_dma;
	unsigned int n, j, mapped = 0;
	int ret = 0, nid = first_online_node;
	u64 *p, *low, wait = 0;

	edu_dma_mask_checked = false;
	for (n = 0; n < EDU_SELFTEST_TRIES; n++) {
		tried[n] = alloc_pages_node(nid, GFP_KERNEL | __GFP_THISNODE |
					    __GFP_NOWARN, 0);
		nid = next_online_node(nid);
		if (nid == MAX_NUMNODES)
			nid = first_online_node;
		if (!tried[n])
			continue;
		addr = dma_map_page(dev, tried[n], 0, PAGE_SIZE, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, addr))
			continue;
		mapped++;
		if (addr >> EDU_QEMU_MASK_BITS) {
			n++;
			break;
		}
		dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
		addr = DMA_MAPPING_ERROR;
	}
	if (addr == DMA_MAPPING_ERROR) {
		dev_warn(dev, "odpt_hmm: none of %u pages (%u mapped) got a DMA address above 2^%u: edu's dma_mask not checked\n",
			 n, mapped, EDU_QEMU_MASK_BITS);
		goto out_free;
	}
	/* An address-dependent pattern: no other page holds it by chance. */
	p = page_address(tried[n - 1]);
	for (j = 0; j < PAGE_SIZE / 8; j++)
		p[j] = (addr + 8 * j) ^ 0x6f6470742d656475ULL;
	dma_sync_single_for_device(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	if (!translated)
		ret = dma_set_coherent_mask(dev, DMA_BIT_MASK(EDU_QEMU_MASK_BITS));
	low = ret ? NULL : dma_alloc_coherent(dev, PAGE_SIZE, &low_dma, GFP_KERNEL);
	if (!translated)
		dma_set_coherent_mask(dev, DMA_BIT_MASK(64));
	if (!low) {
		ret = ret ?: -ENOMEM;
		goto out_unmap;
	}
	mutex_lock(&edu.owner);
	ret = edu_transfer(addr, EDU_BUF_ADDR, 0, &wait);
	if (!ret)
		ret = edu_transfer(EDU_BUF_ADDR, low_dma, EDU_CMD_TO_RAM, &wait);
	mutex_unlock(&edu.owner);
	if (!ret && memcmp(low, p, PAGE_SIZE)) {
		dev_err(dev, "odpt_hmm: edu read other memory than DMA address %pad: QEMU clamps edu's DMA to its dma_mask (%u bits by default); start QEMU with -device edu,dma_mask=0xffffffffffffffff. Not binding edu.\n",
			&addr, EDU_QEMU_MASK_BITS);
		ret = -EIO;
	} else if (!ret) {
		edu_dma_mask_checked = true;
		dev_dbg(dev, "odpt_hmm: edu DMA from %pad checked\n", &addr);
	}
	dma_free_coherent(dev, PAGE_SIZE, low, low_dma);
out_unmap:
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
out_free:
	while (n--)
		if (tried[n])
			__free_page(tried[n]);
	return ret;
}

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

/* Publish dev as the device of new mappings (odpt_dev_bind held for write). */
static void odpt_dma_bind(struct device *dev, u32 kind, bool can_verify)
{
	struct dma_iova_state st = {};

	lockdep_assert_held_write(&odpt_dev_bind);
	odpt_dma.dev = dev;
	odpt_dma.kind = kind;
	odpt_dma.can_verify = can_verify;
	odpt_dma.iommu_domain = iommu_domain_kind(dev);
	odpt_dma.iova_probe = false;
	if (dma_iova_try_alloc(dev, &st, 0, PAGE_SIZE)) {
		odpt_dma.iova_probe = true;
		dma_iova_free(dev, &st);
	}
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	void __iomem *bar;
	void *check_buf;
	dma_addr_t check_dma;
	u32 devid;
	int ret;

	/* Held across the self-test: nobody maps while edu comes up. */
	down_write(&odpt_dev_bind);
	if (odpt_dma.dev) {
		/* A second edu, or faux chosen at load: keep the one in use. */
		dev_info(&pdev->dev, "odpt_hmm already maps for %s: not binding\n",
			 dev_name(odpt_dma.dev));
		ret = -EBUSY;
		goto out;
	}
	ret = pcim_enable_device(pdev);
	if (ret)
		goto out;
	pci_set_master(pdev);	/* else QEMU drops the device's DMA */
	bar = pcim_iomap_region(pdev, 0, "odpt_hmm");
	if (IS_ERR(bar)) {
		ret = PTR_ERR(bar);
		goto out;
	}
	devid = readl(bar + EDU_REG_ID);
	if ((devid & 0xff) != 0xed) {
		dev_err(&pdev->dev, "unexpected edu id 0x%08x\n", devid);
		ret = -ENODEV;
		goto out;
	}
	/* A 28-bit mask (edu's default) makes hmm_dma_map_alloc refuse. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out;
	edu.bar = bar;
	edu.broken = false;
	edu.pdev = pdev;
	ret = edu_dma_selftest(pdev);
	if (ret)
		goto err_forget;
	check_buf = dmam_alloc_coherent(&pdev->dev, PAGE_SIZE, &check_dma,
					GFP_KERNEL);
	if (!check_buf) {
		ret = -ENOMEM;
		goto err_forget;
	}
	edu.check_buf = check_buf;
	edu.check_dma = check_dma;
	odpt_dma_bind(&pdev->dev, ODPT_HMM_DEV_EDU, true);
	dev_info(&pdev->dev, "odpt_hmm: edu bound, iommu domain %u, dma_iova %s\n",
		 odpt_dma.iommu_domain, odpt_dma.iova_probe ? "yes" : "no");
	goto out;

err_forget:
	pci_clear_master(pdev);
	edu.pdev = NULL;
	edu.bar = NULL;
out:
	up_write(&odpt_dev_bind);
	return ret;
}

/*
 * The device goes (sysfs remove, device_del, driver unregister): wait for
 * the ioctls using it, undo every mirror's mappings while it is still
 * there, then forget it. Its BAR and check buffer are devres-managed and go
 * right after this returns.
 */
static void edu_remove(struct pci_dev *pdev)
{
	unsigned long files;

	if (edu.pdev != pdev)
		return;
	atomic_inc(&dev_unbinding);
	down_write(&odpt_dev_bind);
	files = odpt_dev_detach_mirrors();
	memset(&odpt_dma, 0, sizeof(odpt_dma));
	pci_clear_master(pdev);
	edu.pdev = NULL;
	edu.bar = NULL;
	edu.check_buf = NULL;
	edu.check_dma = 0;
	edu.broken = false;
	up_write(&odpt_dev_bind);
	atomic_dec(&dev_unbinding);
	dev_info(&pdev->dev, "odpt_hmm: edu removed, %lu open file(s) detached (ENODEV from now on)\n",
		 files);
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
	/* No unbind from sysfs; removal of the device itself is handled. */
	.driver.suppress_bind_attrs = true,
};

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
		return ret;
	}
	down_write(&odpt_dev_bind);
	odpt_dma_bind(&faux->dev, ODPT_HMM_DEV_FAUX, false);
	up_write(&odpt_dev_bind);
	return 0;
}

int odpt_dev_init(const char *which)
{
	bool want_edu, need_edu, have_edu;
	int ret;

	if (!strcmp(which, "auto")) {
		want_edu = true;
		need_edu = false;
	} else if (!strcmp(which, "edu")) {
		want_edu = true;
		need_edu = true;
	} else if (!strcmp(which, "faux")) {
		want_edu = false;
		need_edu = false;
	} else {
		return -EINVAL;
	}
	if (want_edu) {
		/* Probes the edu present now, synchronously. */
		ret = pci_register_driver(&edu_driver);
		if (ret)
			return ret;
		edu_registered = true;
	}
	down_read(&odpt_dev_bind);
	have_edu = odpt_dma.dev;
	up_read(&odpt_dev_bind);
	if (have_edu)
		return 0;
	if (need_edu) {
		ret = -ENODEV;
		goto err_unregister;
	}
	ret = faux_setup();
	if (ret)
		goto err_unregister;
	return 0;

err_unregister:
	if (edu_registered)
		pci_unregister_driver(&edu_driver);
	edu_registered = false;
	return ret;
}

void odpt_dev_exit(void)
{
	if (edu_registered)
		pci_unregister_driver(&edu_driver);
	edu_registered = false;
	down_write(&odpt_dev_bind);
	if (faux)
		faux_device_destroy(faux);
	faux = NULL;
	memset(&odpt_dma, 0, sizeof(odpt_dma));
	up_write(&odpt_dev_bind);
}
