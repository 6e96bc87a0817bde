// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The shim engines' common ground: opening /dev/odpt_hmm with the reason it
 * failed logged, the device facts every shim report carries, buffers for the
 * mirror to fault (page-aligned, kept away from NUMA balancing), and the
 * module's status (device, DMA path, IOMMU domain, leak counters).
 */
#include <errno.h>
#include <json-c/json.h>
#include <linux/mempolicy.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "odpt/bench.h"
#include "odpt/log.h"
#include "bench_int.h"

int odpt_bench_shim_open(struct odpt_shim **s)
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

int bench_shim_global(struct odpt_hmm_global *g)
{
	struct odpt_shim *s;
	int ret = odpt_bench_shim_open(&s);

	if (ret)
		return ret;
	ret = odpt_shim_global(s, g);
	odpt_shim_close(s);
	return ret;
}

/* The file is opened just for the query: each run opens its own mirrors. */
int bench_report_device(struct odpt_report *r, struct odpt_hmm_dev_info *dev)
{
	struct odpt_shim *s;
	int ret = odpt_bench_shim_open(&s);

	if (ret)
		return ret;
	ret = odpt_shim_dev_info(s, dev);
	odpt_shim_close(s);
	return ret ? ret : odpt_shim_report_dev(r, dev);
}

void *bench_map_buf(size_t len, size_t align)
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
 * task_numa_work skips a VMA whose own memory policy lacks migrate-on-fault,
 * which an mbind() policy from userspace never has (MPOL_LOCAL: same
 * placement as the default). Its scans otherwise make every scanned PMD
 * range PROT_NONE through an MMU_NOTIFY_PROTECTION_VMA invalidation, which a
 * mirror cannot tell from mprotect() and must obey: at 1 GiB under TCG a
 * MAP + UNMAP round rarely escapes one. A kernel without CONFIG_NUMA
 * (ENOSYS) has no balancing.
 */
int bench_exclude_numa_balancing(void *buf, size_t len)
{
	if (!syscall(SYS_mbind, buf, len, MPOL_LOCAL, NULL, 0UL, 0U) || errno == ENOSYS)
		return 0;
	return -errno;
}

int odpt_bench_shim_status(struct odpt_report *r)
{
	struct odpt_hmm_dev_info d;
	struct odpt_hmm_global g;
	struct json_object *o;
	struct odpt_shim *s;
	int ret;

	ret = odpt_bench_shim_open(&s);
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
