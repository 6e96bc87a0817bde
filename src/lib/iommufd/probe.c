// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt iommufd probe`: what this kernel's iommufd offers, found by doing
 * each thing once on a fresh context: open /dev/iommu, allocate an IOAS,
 * read its IOVA ranges, read the rlimit mode, allocate a fault queue, map a
 * memfd with IOMMU_IOAS_MAP_FILE, create a selftest mock device, read its
 * IOMMU_GET_HW_INFO, allocate a dirty-tracking HWPT and an IOPF-capable
 * HWPT for it, and bind a VFIO device cdev when one is named. Each becomes
 * an entry of the report's "iommufd" section: available, with what it
 * returned, or not, with the reason (the build, the kernel's errno).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/report.h"
#include "iommufd_int.h"

static int cap(struct json_object *sec, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int cap(struct json_object *sec, const char *name, bool ok, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char text[256];
	va_list ap;

	if (!o)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "available", json_object_new_boolean(ok));
	json_object_object_add(o, ok ? "detail" : "skip_reason", json_object_new_string(text));
	json_object_object_add(sec, name, o);
	return 0;
}

/* "errno name: text" for a reason. */
static const char *why_errno(int ret, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s)", strerrorname_np(-ret) ? strerrorname_np(-ret) : "?",
		 strerror(-ret));
	return buf;
}

static int probe_ranges(struct json_object *sec, const char *name, int fd, uint32_t ioas)
{
	struct odpt_iova_range r[4];
	uint32_t n = 4, i;
	uint64_t align = 0;
	char text[200], e[64];
	size_t used = 0;
	int ret = odpt_iommufd_iova_ranges(fd, ioas, r, &n, &align);

	if (ret && ret != -EMSGSIZE)
		return cap(sec, name, false, "IOMMU_IOAS_IOVA_RANGES: %s", why_errno(ret, e, sizeof(e)));
	text[0] = '\0';
	for (i = 0; i < n && i < 4; i++)
		used += (size_t)snprintf(text + used, used < sizeof(text) ? sizeof(text) - used : 0,
					 "%s0x%" PRIx64 "-0x%" PRIx64, i ? " " : "", r[i].start,
					 r[i].last);
	return cap(sec, name, true, "%u range(s): %s%s; iova_alignment %" PRIu64, n, text,
		   n > 4 ? " ..." : "", align);
}

static int probe_map_file(struct json_object *sec, int fd, uint32_t ioas)
{
	const char *gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_MAP_FILE);
	size_t page = ifd_page_size();
	uint64_t iova = 0;
	char e[64];
	int mfd, ret;

	if (gap)
		return cap(sec, "ioas_map_file", false, "%s", gap);
	mfd = memfd_create("odpt-iommufd-probe", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)page)) {
		ret = -errno;
		if (mfd >= 0)
			close(mfd);
		return cap(sec, "ioas_map_file", false, "memfd: %s", why_errno(ret, e, sizeof(e)));
	}
	ret = odpt_iommufd_map_file(fd, ioas, mfd, 0, page, ODPT_IOMMUFD_MAP_RW, &iova);
	close(mfd);
	if (ret)
		return cap(sec, "ioas_map_file", false, "IOMMU_IOAS_MAP_FILE of a memfd: %s",
			   why_errno(ret, e, sizeof(e)));
	odpt_iommufd_unmap(fd, ioas, iova, page, NULL);
	return cap(sec, "ioas_map_file", true, "a memfd page mapped at iova 0x%" PRIx64, iova);
}

static int probe_hw_info(struct json_object *sec, const char *name, int fd, uint32_t dev_id,
			 uint64_t *caps)
{
	struct odpt_iommufd_hw_info hi;
	char c[96], e[64];
	int ret = odpt_iommufd_hw_info(fd, dev_id, &hi);

	*caps = 0;
	if (ret)
		return cap(sec, name, false, "IOMMU_GET_HW_INFO: %s", why_errno(ret, e, sizeof(e)));
	*caps = hi.capabilities;
	odpt_iommufd_caps_str(hi.capabilities, c, sizeof(c));
	return cap(sec, name, true, "type %s (0x%x), %u data bytes, capabilities %s, max_pasid_log2 %u",
		   odpt_iommufd_hw_type_name(hi.data_type), hi.data_type, hi.data_len, c,
		   hi.max_pasid_log2);
}

/* The mock device's pieces: hw info, dirty tracking, an IOPF-capable HWPT. */
static int probe_mock(struct json_object *sec, int fd, uint32_t ioas)
{
	const char *gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_MOCK);
	struct odpt_iommufd_mock m;
	uint32_t hwpt, fault_id, parent;
	uint64_t caps;
	char e[64];
	int ret, ffd;

	if (gap) {
		ret = cap(sec, "mock_domain", false, "%s", gap);
		ret = ret ? ret : cap(sec, "iova_ranges_mock_attached", false, "needs the mock device: %s", gap);
		ret = ret ? ret : cap(sec, "hw_info_mock", false, "needs the mock device: %s", gap);
		ret = ret ? ret : cap(sec, "dirty_tracking_mock", false, "needs the mock device: %s", gap);
		return ret ? ret : cap(sec, "iopf_hwpt_mock", false, "needs the mock device: %s", gap);
	}
	ret = odpt_iommufd_mock_domain(fd, ioas, &m);
	if (ret) {
		char why[160];

		if (ret == -ENOTTY)
			snprintf(why, sizeof(why), "IOMMU_TEST_CMD: ENOTTY: the kernel has no CONFIG_IOMMUFD_TEST");
		else
			snprintf(why, sizeof(why), "IOMMU_TEST_OP_MOCK_DOMAIN: %s", why_errno(ret, e, sizeof(e)));
		ret = cap(sec, "mock_domain", false, "%s", why);
		ret = ret ? ret : cap(sec, "iova_ranges_mock_attached", false, "no mock device: %s", why);
		ret = ret ? ret : cap(sec, "hw_info_mock", false, "no mock device: %s", why);
		ret = ret ? ret : cap(sec, "dirty_tracking_mock", false, "no mock device: %s", why);
		return ret ? ret : cap(sec, "iopf_hwpt_mock", false, "no mock device: %s", why);
	}
	ret = cap(sec, "mock_domain", true, "IOMMU_TEST_OP_MOCK_DOMAIN: dev_id %u, hwpt_id %u",
		  m.idev_id, m.hwpt_id);
	if (!ret)
		ret = probe_ranges(sec, "iova_ranges_mock_attached", fd, ioas);
	if (!ret)
		ret = probe_hw_info(sec, "hw_info_mock", fd, m.idev_id, &caps);
	if (ret)
		return ret;

	/* Dirty tracking: the capability bit, then a HWPT that asks for it. */
	ret = odpt_iommufd_hwpt_alloc(fd, m.idev_id, ioas, ODPT_IOMMUFD_HWPT_DIRTY, 0, &hwpt);
	if (!ret) {
		odpt_iommufd_destroy(fd, hwpt);
		ret = cap(sec, "dirty_tracking_mock", true,
			  "IOMMU_HWPT_ALLOC_DIRTY_TRACKING accepted (capability bit %s)",
			  caps & 1 ? "set" : "clear");
	} else {
		ret = cap(sec, "dirty_tracking_mock", false, "IOMMU_HWPT_ALLOC_DIRTY_TRACKING: %s",
			  why_errno(ret, e, sizeof(e)));
	}
	if (ret)
		return ret;

	gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_FAULT);
	if (gap)
		return cap(sec, "iopf_hwpt_mock", false, "%s", gap);
	ret = odpt_iommufd_fault_queue_alloc(fd, &fault_id, &ffd);
	if (ret)
		return cap(sec, "iopf_hwpt_mock", false, "IOMMU_FAULT_QUEUE_ALLOC: %s",
			   why_errno(ret, e, sizeof(e)));
	/* A paging HWPT on the IOAS with the fault queue: what `iommufd iopf` uses. */
	ret = odpt_iommufd_hwpt_alloc(fd, m.idev_id, ioas, ODPT_IOMMUFD_HWPT_FAULT, fault_id, &hwpt);
	if (!ret) {
		odpt_iommufd_destroy(fd, hwpt);
		ret = cap(sec, "iopf_hwpt_mock", true,
			  "paging HWPT with IOMMU_HWPT_FAULT_ID_VALID on the IOAS");
	} else {
		int pret = ret;

		/* The selftest's own way: nested on a NEST_PARENT HWPT. */
		ret = odpt_iommufd_hwpt_alloc(fd, m.idev_id, ioas, ODPT_IOMMUFD_HWPT_NEST_PARENT, 0,
					      &parent);
		if (!ret)
			ret = odpt_iommufd_hwpt_alloc_mock_nested(fd, m.idev_id, parent,
								  ODPT_IOMMUFD_HWPT_FAULT,
								  fault_id, &hwpt);
		if (!ret)
			ret = cap(sec, "iopf_hwpt_mock", true,
				  "nested HWPT with IOMMU_HWPT_FAULT_ID_VALID (a paging one: %s)",
				  why_errno(pret, e, sizeof(e)));
		else
			ret = cap(sec, "iopf_hwpt_mock", false, "HWPT alloc with a fault id: %s",
				  why_errno(ret, e, sizeof(e)));
	}
	close(ffd);
	return ret;
}

static int probe_vfio(struct json_object *sec, int fd, const char *vfio)
{
	const char *gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_VFIO);
	uint32_t dev_id;
	uint64_t caps;
	char e[64];
	int vf, ret;

	if (!vfio)
		return cap(sec, "hw_info_vfio", false,
			   "no VFIO device given (--vfio=/dev/vfio/devices/vfioN)");
	if (gap)
		return cap(sec, "hw_info_vfio", false, "%s", gap);
	ret = odpt_iommufd_vfio_bind(fd, vfio, &vf, &dev_id);
	if (ret)
		return cap(sec, "hw_info_vfio", false, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s", vfio,
			   why_errno(ret, e, sizeof(e)));
	ret = probe_hw_info(sec, "hw_info_vfio", fd, dev_id, &caps);
	close(vf);
	return ret;
}

/* Every entry the section has, in order; those not reached are filled in. */
static const char *const cap_names[] = {
	"dev_iommu", "ioas_alloc", "iova_ranges", "option_rlimit_mode", "fault_queue",
	"ioas_map_file", "mock_domain", "iova_ranges_mock_attached", "hw_info_mock",
	"dirty_tracking_mock", "iopf_hwpt_mock", "hw_info_vfio", NULL,
};

/* Entries not probed because an earlier step failed say which one. */
static int fill_unprobed(struct json_object *sec)
{
	struct json_object *o, *reason = NULL;
	const char *first = NULL;
	int i, ret = 0;

	for (i = 0; cap_names[i] && !first; i++)
		if (json_object_object_get_ex(sec, cap_names[i], &o) &&
		    json_object_object_get_ex(o, "skip_reason", &reason))
			first = cap_names[i];
	for (i = 0; cap_names[i] && !ret; i++)
		if (!json_object_object_get_ex(sec, cap_names[i], NULL))
			ret = cap(sec, cap_names[i], false, "not probed: %s: %s", first ? first : "?",
				  reason ? json_object_get_string(reason) : "failed");
	return ret;
}

int odpt_iommufd_probe(struct odpt_report *r, const struct odpt_iommufd_probe_cfg *cfg)
{
	const char *path = cfg->dev ? cfg->dev : ODPT_IOMMUFD_DEV;
	const char *gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_UAPI);
	struct json_object *sec = json_object_new_object();
	uint32_t ioas = 0, fault_id;
	uint64_t mode;
	char e[64];
	int fd = -1, ffd, ret;

	if (!sec)
		return -ENOMEM;
	if (gap) {
		ret = cap(sec, "dev_iommu", false, "%s", gap);
		goto out;
	}
	ret = odpt_iommufd_open(path, &fd);
	if (ret) {
		ret = cap(sec, "dev_iommu", false, ret == -ENOENT ?
			  "no %s: the kernel has no CONFIG_IOMMUFD" : "cannot open %s: %s", path,
			  strerror(-ret));
		goto out;
	}
	ret = cap(sec, "dev_iommu", true, "%s opened", path);
	if (ret)
		goto out;
	ret = odpt_iommufd_ioas_alloc(fd, &ioas);
	if (ret) {
		ret = cap(sec, "ioas_alloc", false, "IOMMU_IOAS_ALLOC: %s", why_errno(ret, e, sizeof(e)));
		goto out;
	}
	ret = cap(sec, "ioas_alloc", true, "ioas_id %u", ioas);
	if (!ret)
		ret = probe_ranges(sec, "iova_ranges", fd, ioas);
	if (ret)
		goto out;

	ret = odpt_iommufd_rlimit_mode(fd, false, &mode);
	ret = ret ? cap(sec, "option_rlimit_mode", false, "IOMMU_OPTION(RLIMIT_MODE, GET): %s",
			why_errno(ret, e, sizeof(e))) :
		    cap(sec, "option_rlimit_mode", true, "%s (pinned pages charged to %s)",
			mode ? "1: mm" : "0: user",
			mode ? "the process's locked_vm (VFIO's way)" : "the user's locked_vm");
	if (ret)
		goto out;

	gap = odpt_iommufd_build_gap(ODPT_IOMMUFD_F_FAULT);
	if (gap) {
		ret = cap(sec, "fault_queue", false, "%s", gap);
	} else {
		ret = odpt_iommufd_fault_queue_alloc(fd, &fault_id, &ffd);
		if (ret) {
			ret = cap(sec, "fault_queue", false, "IOMMU_FAULT_QUEUE_ALLOC: %s",
				  why_errno(ret, e, sizeof(e)));
		} else {
			close(ffd);
			odpt_iommufd_destroy(fd, fault_id);
			ret = cap(sec, "fault_queue", true, "fault_id %u, fault fd", fault_id);
		}
	}
	if (!ret)
		ret = probe_map_file(sec, fd, ioas);
	if (!ret)
		ret = probe_mock(sec, fd, ioas);
	if (!ret)
		ret = probe_vfio(sec, fd, cfg->vfio);
out:
	if (fd >= 0)
		close(fd);
	if (!ret)
		ret = fill_unprobed(sec);
	if (ret) {
		json_object_put(sec);
		return ret;
	}
	return odpt_report_section(r, "iommufd", sec);
}
