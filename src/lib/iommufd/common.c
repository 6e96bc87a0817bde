// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Shared by the iommufd runs: the reasons nothing can run (build, device,
 * kernel), a context of one IOAS with a mock device, and the memory facts
 * (MemAvailable, CAP_IPC_LOCK, VmPin) a bench or test decides on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "odpt/procfs.h"
#include "iommufd_int.h"

const char *ifd_unavailable(const char *dev, bool need_mock, char *why, size_t len)
{
	const char *gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_UAPI);
	const char *path = dev ? dev : ODPT_IOMMUFD_DEV;
	struct ifd_ctx c;
	const char *stage;
	int fd, ret;

	if (!gap && need_mock)
		gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_MOCK);
	if (gap) {
		snprintf(why, len, "%s", gap);
		return why;
	}
	ret = odpt_iommufd_open(path, &fd);
	if (ret == -ENOENT) {
		snprintf(why, len, "no %s: the kernel has no CONFIG_IOMMUFD", path);
		return why;
	}
	if (ret) {
		snprintf(why, len, "cannot open %s: %s", path, strerror(-ret));
		return why;
	}
	close(fd);
	if (!need_mock)
		return NULL;
	ret = ifd_ctx_open(dev, true, &c, &stage);
	if (!ret) {
		ifd_ctx_close(&c);
		return NULL;
	}
	if (ret == -ENOTTY && !strcmp(stage, "mock_domain"))
		snprintf(why, len, "the kernel has no selftest mock (IOMMU_TEST_CMD: ENOTTY; needs CONFIG_IOMMUFD_TEST)");
	else
		snprintf(why, len, "%s: %s", stage, strerror(-ret));
	return why;
}

int ifd_ctx_open(const char *dev, bool mock, struct ifd_ctx *c, const char **stage)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	*stage = "open";
	ret = odpt_iommufd_open(dev, &c->fd);
	if (ret)
		return ret;
	*stage = "ioas_alloc";
	ret = odpt_iommufd_ioas_alloc(c->fd, &c->ioas_id);
	if (!ret && mock) {
		*stage = "mock_domain";
		ret = odpt_iommufd_mock_domain(c->fd, c->ioas_id, &c->mock);
		c->have_mock = !ret;
	}
	if (ret) {
		close(c->fd);
		c->fd = -1;
	}
	return ret;
}

void ifd_ctx_close(struct ifd_ctx *c)
{
	/* Closing the file destroys every object in it, in the right order. */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

bool ifd_cap_ipc_lock(void)
{
	unsigned long long caps = 0;

	return !odpt_proc_field("/proc/self/status", "CapEff", 16, &caps) &&
	       (caps & (1ULL << 14));	/* CAP_IPC_LOCK */
}

uint64_t ifd_status_bytes(const char *key)
{
	unsigned long long kb;

	return odpt_proc_field("/proc/self/status", key, 10, &kb) ? UINT64_MAX : kb * 1024;
}

size_t ifd_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}
