// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The shim client (see include/odpt/shim.h): ioctl wrappers over
 * /dev/odpt_hmm with 0/-errno returns, the ABI check, histogram import into
 * odpt_hist, report helpers, and module (un)loading by system call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "odpt/shim.h"

struct odpt_shim {
	int fd;
};

/* The one place ioctl's -1/errno convention becomes -errno. */
static int shim_ioctl(struct odpt_shim *s, unsigned long cmd, void *arg)
{
	return ioctl(s->fd, cmd, arg) ? -errno : 0;
}

int odpt_shim_open(const char *path, uint32_t *abi_out, struct odpt_shim **out)
{
	struct odpt_shim *s;
	uint32_t abi = 0;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = open(path ? path : ODPT_HMM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = shim_ioctl(s, ODPT_HMM_IOC_VERSION, &abi);
	if (abi_out)
		*abi_out = abi;
	if (ret)
		goto err_close;
	if (abi != ODPT_HMM_ABI_VERSION) {
		ret = -EPROTO;
		goto err_close;
	}
	*out = s;
	return 0;

err_close:
	close(s->fd);
err_free:
	free(s);
	return ret;
}

void odpt_shim_close(struct odpt_shim *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int odpt_shim_fd(const struct odpt_shim *s)
{
	return s->fd;
}

int odpt_shim_dev_info(struct odpt_shim *s, struct odpt_hmm_dev_info *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return shim_ioctl(s, ODPT_HMM_IOC_DEV_INFO, out);
}

int odpt_shim_global(struct odpt_shim *s, struct odpt_hmm_global *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return shim_ioctl(s, ODPT_HMM_IOC_GLOBAL, out);
}

int odpt_shim_register(struct odpt_shim *s, void *addr, size_t len,
		       uint32_t mode, struct odpt_hmm_register *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->addr = (uintptr_t)addr;
	out->len = len;
	out->mode = mode;
	return shim_ioctl(s, ODPT_HMM_IOC_REGISTER, out);
}

int odpt_shim_fault(struct odpt_shim *s, void *addr, size_t len,
		    uint32_t flags, struct odpt_hmm_fault *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = flags;
	out->addr = (uintptr_t)addr;
	out->len = len;
	return shim_ioctl(s, ODPT_HMM_IOC_FAULT, out);
}

int odpt_shim_map(struct odpt_shim *s, void *addr, size_t len, uint32_t flags,
		  struct odpt_hmm_map *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = flags;
	out->addr = (uintptr_t)addr;
	out->len = len;
	return shim_ioctl(s, ODPT_HMM_IOC_MAP, out);
}

int odpt_shim_unmap(struct odpt_shim *s, void *addr, size_t len,
		    struct odpt_hmm_unmap *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->addr = (uintptr_t)addr;
	out->len = len;
	return shim_ioctl(s, ODPT_HMM_IOC_UNMAP, out);
}

int odpt_shim_flags(struct odpt_shim *s, void *addr, size_t len,
		    uint32_t flags, uint64_t *pfns, size_t n,
		    struct odpt_hmm_flags *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = flags;
	out->addr = (uintptr_t)addr;
	out->len = len;
	out->pfns_ptr = (uintptr_t)pfns;
	out->pfns_len = n;
	return shim_ioctl(s, ODPT_HMM_IOC_FLAGS, out);
}

int odpt_shim_stats(struct odpt_shim *s, bool reset, struct odpt_hmm_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = reset ? ODPT_HMM_STATS_RESET : 0;
	return shim_ioctl(s, ODPT_HMM_IOC_GET_STATS, out);
}

int odpt_shim_verify(struct odpt_shim *s, void *addr, size_t len,
		     uint32_t flags, uint64_t max_pages, uint64_t seed,
		     struct odpt_hmm_verify *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = flags;
	out->addr = (uintptr_t)addr;
	out->len = len;
	out->max_pages = max_pages;
	out->pattern_seed = seed;
	return shim_ioctl(s, ODPT_HMM_IOC_VERIFY, out);
}

int odpt_shim_hist(struct odpt_shim *s, uint32_t id, struct odpt_hist **out,
		   uint64_t *overflow_out)
{
	struct odpt_hmm_hist_req req = { .size = sizeof(req), .id = id };
	struct odpt_hist *h = NULL;
	uint64_t *counts;
	int ret;

	counts = calloc(ODPT_HMM_HIST_COUNTS_LEN, sizeof(*counts));
	if (!counts)
		return -ENOMEM;
	req.counts_ptr = (uintptr_t)counts;
	req.counts_len = ODPT_HMM_HIST_COUNTS_LEN;
	ret = shim_ioctl(s, ODPT_HMM_IOC_GET_HIST, &req);
	if (ret)
		goto out_free;
	ret = odpt_hist_create(ODPT_HMM_HIST_LOWEST, ODPT_HMM_HIST_HIGHEST,
			       ODPT_HMM_HIST_SIG_FIGS, &h);
	if (ret)
		goto out_free;
	ret = odpt_hist_import_counts(h, counts, ODPT_HMM_HIST_COUNTS_LEN);
	if (ret) {
		odpt_hist_destroy(h);
		goto out_free;
	}
	/* The layout's index must agree with the module's own count. */
	if (odpt_hist_count(h) != req.total_count) {
		odpt_hist_destroy(h);
		ret = -EPROTO;
		goto out_free;
	}
	if (overflow_out)
		*overflow_out = req.overflow;
	*out = h;
out_free:
	free(counts);
	return ret;
}

static const char *const mode_names[] = {
	[ODPT_HMM_MODE_HMM] = "hmm",
	[ODPT_HMM_MODE_PAGE] = "page",
	[ODPT_HMM_MODE_SG] = "sg",
};

const char *odpt_shim_mode_name(uint32_t mode)
{
	if (mode >= sizeof(mode_names) / sizeof(mode_names[0]) || !mode_names[mode])
		return "?";
	return mode_names[mode];
}

int odpt_shim_mode_parse(const char *name, uint32_t *mode)
{
	uint32_t m;

	for (m = ODPT_HMM_MODE_HMM; m <= ODPT_HMM_MODE_SG; m++)
		if (!strcmp(name, mode_names[m])) {
			*mode = m;
			return 0;
		}
	return -EINVAL;
}

const char *odpt_shim_device_name(uint32_t kind)
{
	switch (kind) {
	case ODPT_HMM_DEV_EDU:
		return "edu";
	case ODPT_HMM_DEV_FAUX:
		return "faux";
	case ODPT_HMM_DEV_NONE:
		return "none";
	}
	return "?";
}

const char *odpt_shim_iommu_name(uint32_t domain)
{
	static const char *const names[] = {
		"none", "identity", "strict", "lazy", "other",
	};

	return domain < 5 ? names[domain] : "?";
}

const char *odpt_shim_hist_name(uint32_t id)
{
	static const char *const names[ODPT_HMM_HIST_NR] = {
		[ODPT_HMM_HIST_FAULT_NS_PER_PAGE] = "fault_ns_per_page",
		[ODPT_HMM_HIST_FAULT_NS_PER_CALL] = "fault_ns_per_call",
		[ODPT_HMM_HIST_MAP_NS_PER_PAGE] = "map_ns_per_page",
		[ODPT_HMM_HIST_MAP_NS_PER_CALL] = "map_ns_per_call",
		[ODPT_HMM_HIST_UNMAP_NS_PER_PAGE] = "unmap_ns_per_page",
		[ODPT_HMM_HIST_UNMAP_NS_PER_CALL] = "unmap_ns_per_call",
		[ODPT_HMM_HIST_INVALIDATE_NS] = "invalidate_ns",
	};

	return id < ODPT_HMM_HIST_NR ? names[id] : "?";
}

const char *odpt_shim_path_name(const struct odpt_hmm_dev_info *d)
{
	return d->dma_use_iova ? "iova" : "direct";
}

int odpt_shim_report_dev(struct odpt_report *r, const struct odpt_hmm_dev_info *d)
{
	int ret;

	ret = odpt_report_meta(r, "shim_device", odpt_shim_device_name(d->device_kind));
	if (!ret)
		ret = odpt_report_meta(r, "shim_device_name", d->name);
	if (!ret)
		ret = odpt_report_meta(r, "shim_iommu", odpt_shim_iommu_name(d->iommu_domain));
	if (!ret)
		ret = odpt_report_meta(r, "shim_path", odpt_shim_path_name(d));
	if (!ret)
		ret = odpt_report_meta_int(r, "shim_dma_need_unmap", d->dma_need_unmap ? 1 : 0);
	if (!ret)
		ret = odpt_report_meta_int(r, "shim_dma_mask_bits", d->dma_mask_bits);
	if (!ret)
		ret = odpt_report_meta_int(r, "shim_abi_version", d->abi_version);
	return ret;
}

int odpt_shim_report_hists(struct odpt_shim *s, struct odpt_report *r,
			   const struct odpt_label *labels, int nlabels)
{
	struct odpt_hist *h;
	uint32_t id;
	int ret;

	for (id = 0; id < ODPT_HMM_HIST_NR; id++) {
		ret = odpt_shim_hist(s, id, &h, NULL);
		if (ret)
			return ret;
		if (odpt_hist_count(h))
			ret = odpt_report_hist(r, odpt_shim_hist_name(id), labels,
					       nlabels, h);
		odpt_hist_destroy(h);
		if (ret)
			return ret;
	}
	return 0;
}

int odpt_shim_module_load(const char *ko_path, const char *params)
{
	int fd, ret = 0;

	fd = open(ko_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params ? params : "", 0))
		ret = -errno;
	close(fd);
	return ret;
}

int odpt_shim_module_unload(void)
{
	return syscall(SYS_delete_module, "odpt_hmm", O_NONBLOCK) ? -errno : 0;
}

bool odpt_shim_module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/odpt_hmm", &st) == 0;
}

/* The number at the start of file @path: 0 or -errno. */
static int read_u64_file(const char *path, uint64_t *out)
{
	unsigned long long v;
	FILE *f;
	int n;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*out = v;
	return 0;
}

int odpt_shim_module_param(const char *name, uint64_t *out)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/odpt_hmm/parameters/%s", name);
	return read_u64_file(path, out);
}

int odpt_shim_module_counter(const char *name, uint64_t *out)
{
	char path[128];

	snprintf(path, sizeof(path), ODPT_SHIM_DEBUGFS_DIR "/%s", name);
	return read_u64_file(path, out);
}
