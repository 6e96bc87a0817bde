// SPDX-License-Identifier: GPL-2.0-only
/*
 * The file operations of /dev/odpt_hmm: open creates a mirror of the
 * opener's mm, release destroys it, and ioctl dispatches from one table that
 * says, per command, the size of its argument struct, what the caller must
 * satisfy (the opener's mm, a registered range), what the call holds while
 * it runs (the device binding, a reference on the mm) and its handler. The
 * argument is copied in, checked against the table and copied out here; the
 * handlers (odpt_hmm_mirror.c, _dma.c, _verify.c, _stats.c) see a kernel
 * copy.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "odpt_hmm_internal.h"

union odpt_ioc_buf {
	struct odpt_hmm_dev_info dev_info;
	struct odpt_hmm_global global;
	struct odpt_hmm_register reg;
	struct odpt_hmm_fault fault;
	struct odpt_hmm_map map;
	struct odpt_hmm_unmap unmap;
	struct odpt_hmm_flags flags;
	struct odpt_hmm_hist_req hist;
	struct odpt_hmm_stats stats;
	struct odpt_hmm_verify verify;
};

/*
 * What an ioctl needs, checked in this order (first failure wins):
 * IOC_SAME_MM: the caller's mm is the opener's, else -EPERM;
 * IOC_REGISTERED: a range is registered, else -ENOENT;
 * IOC_DEVICE: the device stays bound for the whole call (odpt_dev_bind
 *	held for read), else -ENODEV (none bound, or this file's went away);
 * IOC_MMGET: a reference on the opener's mm while the call faults in it,
 *	else -ESRCH (the mm has exited).
 */
#define IOC_SAME_MM	BIT(0)
#define IOC_REGISTERED	BIT(1)
#define IOC_DEVICE	BIT(2)
#define IOC_MMGET	BIT(3)
#define IOC_MIRROR	(IOC_SAME_MM | IOC_REGISTERED | IOC_DEVICE)

struct odpt_ioc_desc {
	unsigned int cmd;
	u32 size;		/* of the argument struct, in and out */
	u32 needs;		/* IOC_* */
	int (*handler)(struct odpt_mirror *m, void *data);
};

/* No mirror needed: the device's properties. */
static int odpt_ioc_dev_info(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_dev_info *d = data;
	struct device *dev = odpt_dma.dev;

	if (d->flags)
		return -EINVAL;
	d->abi_version = ODPT_HMM_ABI_VERSION;
	d->device_kind = odpt_dma.kind;
	strscpy(d->name, dev_name(dev), sizeof(d->name));
	d->iommu_domain = odpt_dma.iommu_domain;
	d->dma_use_iova = odpt_dma.iova_probe;
	d->dma_need_unmap = dma_need_unmap(dev);
	d->dma_mask_bits = dev->dma_mask ? fls64(*dev->dma_mask) : 0;
	d->max_mapping_size = dma_max_mapping_size(dev);
	d->opt_mapping_size = dma_opt_mapping_size(dev);
	d->page_size = PAGE_SIZE;
	d->can_verify = odpt_dma.can_verify;
	return 0;
}

#define ODPT_IOC(_cmd, _type, _needs, _handler) \
	{ .cmd = (_cmd), .size = sizeof(_type), .needs = (_needs), \
	  .handler = (_handler) }

/*
 * Global ioctls (DEV_INFO, GLOBAL) and the statistics (GET_HIST,
 * GET_STATS) work from any process, before REGISTER too; UNMAP and VERIFY
 * do not fault, so they take no mm reference. ODPT_HMM_IOC_VERSION has no
 * argument struct: odpt_ioctl() answers it before the table.
 */
static const struct odpt_ioc_desc odpt_iocs[] = {
	ODPT_IOC(ODPT_HMM_IOC_DEV_INFO, struct odpt_hmm_dev_info, IOC_DEVICE,
		 odpt_ioc_dev_info),
	ODPT_IOC(ODPT_HMM_IOC_GLOBAL, struct odpt_hmm_global, 0,
		 odpt_ioc_global),
	ODPT_IOC(ODPT_HMM_IOC_REGISTER, struct odpt_hmm_register,
		 IOC_SAME_MM | IOC_DEVICE | IOC_MMGET, odpt_ioc_register),
	ODPT_IOC(ODPT_HMM_IOC_FAULT, struct odpt_hmm_fault,
		 IOC_MIRROR | IOC_MMGET, odpt_ioc_fault),
	ODPT_IOC(ODPT_HMM_IOC_MAP, struct odpt_hmm_map,
		 IOC_MIRROR | IOC_MMGET, odpt_ioc_map),
	ODPT_IOC(ODPT_HMM_IOC_UNMAP, struct odpt_hmm_unmap, IOC_MIRROR,
		 odpt_ioc_unmap),
	ODPT_IOC(ODPT_HMM_IOC_FLAGS, struct odpt_hmm_flags,
		 IOC_MIRROR | IOC_MMGET, odpt_ioc_flags),
	ODPT_IOC(ODPT_HMM_IOC_GET_HIST, struct odpt_hmm_hist_req, 0,
		 odpt_ioc_get_hist),
	ODPT_IOC(ODPT_HMM_IOC_GET_STATS, struct odpt_hmm_stats, 0,
		 odpt_ioc_get_stats),
	ODPT_IOC(ODPT_HMM_IOC_VERIFY, struct odpt_hmm_verify, IOC_MIRROR,
		 odpt_ioc_verify),
};

static const struct odpt_ioc_desc *odpt_ioc_find(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(odpt_iocs); i++)
		if (_IOC_NR(odpt_iocs[i].cmd) == _IOC_NR(cmd))
			return &odpt_iocs[i];
	return NULL;
}

static long odpt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct odpt_mirror *m = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct odpt_ioc_desc *d;
	union odpt_ioc_buf b;
	int ret;

	if (_IOC_TYPE(cmd) != ODPT_HMM_IOC_MAGIC)
		return -ENOTTY;
	if (cmd == ODPT_HMM_IOC_VERSION)
		return put_user((u32)ODPT_HMM_ABI_VERSION, (u32 __user *)uarg);
	d = odpt_ioc_find(cmd);
	if (!d)
		return -ENOTTY;
	/* Same number, other size or direction: a tool built against another
	 * version of this header.
	 */
	if (cmd != d->cmd)
		return -EINVAL;
	if (copy_from_user(&b, uarg, d->size))
		return -EFAULT;
	if (b.reg.size != d->size)	/* every struct starts with size */
		return -EINVAL;

	if ((d->needs & IOC_SAME_MM) && current->mm != m->mm)
		return -EPERM;
	if ((d->needs & IOC_REGISTERED) && !odpt_mirror_registered(m))
		return -ENOENT;
	if (d->needs & IOC_DEVICE) {
		if (down_read_killable(&odpt_dev_bind))
			return -EINTR;
		if (!odpt_dma.dev || m->dead) {
			ret = -ENODEV;
			goto out_unbind;
		}
	}
	/* Keep the address space alive while we fault in it. */
	if ((d->needs & IOC_MMGET) && !mmget_not_zero(m->mm)) {
		ret = -ESRCH;
		goto out_unbind;
	}

	ret = d->handler(m, &b);

	/* mmput may tear the mm down (and invalidate us): no mirror lock held
	 * here (odpt_dev_bind is outside mmap_lock and mirror->lock).
	 */
	if (d->needs & IOC_MMGET)
		mmput(m->mm);
out_unbind:
	if (d->needs & IOC_DEVICE)
		up_read(&odpt_dev_bind);
	if (!ret && copy_to_user(uarg, &b, d->size))
		ret = -EFAULT;
	return ret;
}

static int odpt_open(struct inode *inode, struct file *file)
{
	struct odpt_mirror *m;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!current->mm)
		return -EINVAL;
	ret = odpt_mirror_create(&m);
	if (ret)
		return ret;
	file->private_data = m;
	return 0;
}

static int odpt_release(struct inode *inode, struct file *file)
{
	odpt_mirror_destroy(file->private_data);
	return 0;
}

const struct file_operations odpt_fops = {
	.owner = THIS_MODULE,
	.open = odpt_open,
	.release = odpt_release,
	.unlocked_ioctl = odpt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
