// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The iommufd ioctls odpt uses, each turned into 0 or -errno, with odpt's
 * own flag values translated to the uAPI's here and nowhere else. The only
 * file with the kernel's selftest structures (iommufd_test.h, included from
 * where ODPT_IOMMUFD_TEST_H points). Pieces the build's uAPI lacks return
 * -EOPNOTSUPP; odpt_iommufd_build_gap() names the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "odpt_config.h"
#include "odpt/iommufd.h"
#include "iommufd_int.h"

#ifdef ODPT_HAVE_IOMMUFD
#include <linux/iommufd.h>
#endif
#if defined(ODPT_IOMMUFD_MOCK_HEADER) && defined(ODPT_HAVE_IOMMUFD)
#include ODPT_IOMMUFD_MOCK_HEADER
#define HAVE_MOCK 1
#endif
#ifdef ODPT_HAVE_VFIO_CDEV
#include <linux/vfio.h>
#endif

const char *odpt_iommufd_build_gap(enum odpt_iommufd_feature f)
{
#ifndef ODPT_HAVE_IOMMUFD
	return "built without <linux/iommufd.h> (install linux-libc-dev >= 6.13 or set -DODPT_IOMMUFD_TEST_H=<kernel tree>)";
#else
	switch (f) {
	case ODPT_IOMMUFD_F_UAPI:
		return NULL;
	case ODPT_IOMMUFD_F_FAULT:
#ifdef ODPT_HAVE_IOMMUFD_FAULT
		return NULL;
#else
		return "built against a <linux/iommufd.h> without IOMMU_FAULT_QUEUE_ALLOC (older than 6.11)";
#endif
	case ODPT_IOMMUFD_F_MAP_FILE:
#ifdef ODPT_HAVE_IOMMUFD_MAP_FILE
		return NULL;
#else
		return "built against a <linux/iommufd.h> without IOMMU_IOAS_MAP_FILE (older than 6.13)";
#endif
	case ODPT_IOMMUFD_F_MOCK:
#ifdef HAVE_MOCK
		return NULL;
#else
		return "built without the kernel's iommufd_test.h (set -DODPT_IOMMUFD_TEST_H=...)";
#endif
	case ODPT_IOMMUFD_F_VFIO:
#ifdef ODPT_HAVE_VFIO_CDEV
		return NULL;
#else
		return "built against a <linux/vfio.h> without VFIO_DEVICE_BIND_IOMMUFD (older than 6.6)";
#endif
	}
	return "unknown feature";
#endif
}

int odpt_iommufd_open(const char *path, int *fd)
{
	int f = open(path ? path : ODPT_IOMMUFD_DEV, O_RDWR | O_CLOEXEC);

	if (f < 0)
		return -errno;
	*fd = f;
	return 0;
}

#if defined(ODPT_HAVE_IOMMUFD) || defined(ODPT_HAVE_VFIO_CDEV)
/* ioctl() as 0 or -errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}
#endif

#ifdef ODPT_HAVE_IOMMUFD

static uint32_t map_flags(uint32_t f)
{
	return (f & ODPT_IOMMUFD_MAP_FIXED ? IOMMU_IOAS_MAP_FIXED_IOVA : 0) |
	       (f & ODPT_IOMMUFD_MAP_WRITE ? IOMMU_IOAS_MAP_WRITEABLE : 0) |
	       (f & ODPT_IOMMUFD_MAP_READ ? IOMMU_IOAS_MAP_READABLE : 0);
}

int odpt_iommufd_destroy(int fd, uint32_t id)
{
	struct iommu_destroy c = { .size = sizeof(c), .id = id };

	return xioctl(fd, IOMMU_DESTROY, &c);
}

int odpt_iommufd_ioas_alloc(int fd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc c = { .size = sizeof(c) };
	int ret = xioctl(fd, IOMMU_IOAS_ALLOC, &c);

	if (!ret)
		*ioas_id = c.out_ioas_id;
	return ret;
}

int odpt_iommufd_iova_ranges(int fd, uint32_t ioas_id, struct odpt_iova_range *r,
			     uint32_t *n, uint64_t *alignment)
{
	struct iommu_iova_range buf[16];
	struct iommu_ioas_iova_ranges c = {
		.size = sizeof(c), .ioas_id = ioas_id,
		.num_iovas = *n < 16 ? *n : 16,
		.allowed_iovas = (uintptr_t)buf,
	};
	uint32_t i, want = c.num_iovas;
	int ret = xioctl(fd, IOMMU_IOAS_IOVA_RANGES, &c);

	/* EMSGSIZE: more ranges than asked for; the first want are written. */
	if (ret && ret != -EMSGSIZE)
		return ret;
	for (i = 0; i < c.num_iovas && i < want; i++) {
		r[i].start = buf[i].start;
		r[i].last = buf[i].last;
	}
	*n = c.num_iovas;
	if (alignment)
		*alignment = c.out_iova_alignment;
	return ret == -EMSGSIZE && !want ? 0 : ret;
}

int odpt_iommufd_map(int fd, uint32_t ioas_id, const void *va, uint64_t len,
		     uint32_t flags, uint64_t *iova)
{
	struct iommu_ioas_map c = {
		.size = sizeof(c), .flags = map_flags(flags), .ioas_id = ioas_id,
		.user_va = (uintptr_t)va, .length = len, .iova = *iova,
	};
	int ret = xioctl(fd, IOMMU_IOAS_MAP, &c);

	if (!ret)
		*iova = c.iova;
	return ret;
}

int odpt_iommufd_map_file(int fd, uint32_t ioas_id, int file_fd, uint64_t start,
			  uint64_t len, uint32_t flags, uint64_t *iova)
{
#ifdef ODPT_HAVE_IOMMUFD_MAP_FILE
	struct iommu_ioas_map_file c = {
		.size = sizeof(c), .flags = map_flags(flags), .ioas_id = ioas_id,
		.fd = file_fd, .start = start, .length = len, .iova = *iova,
	};
	int ret = xioctl(fd, IOMMU_IOAS_MAP_FILE, &c);

	if (!ret)
		*iova = c.iova;
	return ret;
#else
	return -EOPNOTSUPP;
#endif
}

int odpt_iommufd_unmap(int fd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		       uint64_t *unmapped)
{
	struct iommu_ioas_unmap c = {
		.size = sizeof(c), .ioas_id = ioas_id, .iova = iova, .length = len,
	};
	int ret = xioctl(fd, IOMMU_IOAS_UNMAP, &c);

	if (!ret && unmapped)
		*unmapped = c.length;
	return ret;
}

int odpt_iommufd_copy(int fd, uint32_t dst_ioas, uint32_t src_ioas, uint64_t src_iova,
		      uint64_t len, uint32_t flags, uint64_t *dst_iova)
{
	struct iommu_ioas_copy c = {
		.size = sizeof(c), .flags = map_flags(flags), .dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas, .length = len, .dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int ret = xioctl(fd, IOMMU_IOAS_COPY, &c);

	if (!ret)
		*dst_iova = c.dst_iova;
	return ret;
}

int odpt_iommufd_rlimit_mode(int fd, bool set, uint64_t *val)
{
	struct iommu_option c = {
		.size = sizeof(c), .option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = set ? IOMMU_OPTION_OP_SET : IOMMU_OPTION_OP_GET,
		.val64 = set ? *val : 0,
	};
	int ret = xioctl(fd, IOMMU_OPTION, &c);

	if (!ret && !set)
		*val = c.val64;
	return ret;
}

static uint32_t hwpt_flags(uint32_t f)
{
	return (f & ODPT_IOMMUFD_HWPT_NEST_PARENT ? IOMMU_HWPT_ALLOC_NEST_PARENT : 0) |
	       (f & ODPT_IOMMUFD_HWPT_DIRTY ? IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0)
#ifdef ODPT_HAVE_IOMMUFD_FAULT
	       | (f & ODPT_IOMMUFD_HWPT_FAULT ? IOMMU_HWPT_FAULT_ID_VALID : 0)
#endif
	       ;
}

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		      uint32_t fault_id, uint32_t data_type, void *data, uint32_t data_len,
		      uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc c = {
		.size = sizeof(c), .flags = hwpt_flags(flags), .dev_id = dev_id,
		.pt_id = pt_id, .data_type = data_type, .data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int ret;

#ifdef ODPT_HAVE_IOMMUFD_FAULT
	c.fault_id = fault_id;
#else
	if (flags & ODPT_IOMMUFD_HWPT_FAULT)
		return -EOPNOTSUPP;
#endif
	ret = xioctl(fd, IOMMU_HWPT_ALLOC, &c);
	if (!ret)
		*hwpt_id = c.out_hwpt_id;
	return ret;
}

int odpt_iommufd_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
			    uint32_t fault_id, uint32_t *hwpt_id)
{
	return hwpt_alloc(fd, dev_id, pt_id, flags, fault_id, IOMMU_HWPT_DATA_NONE, NULL, 0,
			  hwpt_id);
}

int odpt_iommufd_hwpt_alloc_mock_nested(int fd, uint32_t dev_id, uint32_t parent_id,
					uint32_t flags, uint32_t fault_id,
					uint32_t *hwpt_id)
{
#ifdef HAVE_MOCK
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };

	return hwpt_alloc(fd, dev_id, parent_id, flags, fault_id, IOMMU_HWPT_DATA_SELFTEST,
			  &data, sizeof(data), hwpt_id);
#else
	return -EOPNOTSUPP;
#endif
}

int odpt_iommufd_hw_info(int fd, uint32_t dev_id, struct odpt_iommufd_hw_info *out)
{
	uint8_t data[256];
	struct iommu_hw_info c = {
		.size = sizeof(c), .dev_id = dev_id, .data_len = sizeof(data),
		.data_uptr = (uintptr_t)data,
	};
	int ret = xioctl(fd, IOMMU_GET_HW_INFO, &c);

	if (ret)
		return ret;
	out->data_type = c.out_data_type;
	out->data_len = c.data_len;
	out->capabilities = c.out_capabilities;
	out->max_pasid_log2 = c.out_max_pasid_log2;
	return 0;
}

void odpt_iommufd_caps_str(uint64_t caps, char *out, size_t len)
{
	static const struct { uint64_t bit; const char *name; } names[] = {
		{ IOMMU_HW_CAP_DIRTY_TRACKING, "dirty_tracking" },
		{ IOMMU_HW_CAP_PCI_PASID_EXEC, "pci_pasid_exec" },
		{ IOMMU_HW_CAP_PCI_PASID_PRIV, "pci_pasid_priv" },
		/* IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (6.17+): an enum, so by value */
		{ 1 << 3, "pci_ats_not_supported" },
	};
	size_t used = 0, i;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(caps & names[i].bit))
			continue;
		caps &= ~names[i].bit;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", names[i].name);
	}
	if (caps)
		snprintf(out + used, used < len ? len - used : 0, "%s0x%llx", used ? "," : "",
			 (unsigned long long)caps);
	else if (!used)
		snprintf(out, len, "none");
}

const char *odpt_iommufd_hw_type_name(uint32_t type)
{
	switch (type) {
	case IOMMU_HW_INFO_TYPE_NONE:
		return "none";
	case IOMMU_HW_INFO_TYPE_INTEL_VTD:
		return "intel_vtd";
	case IOMMU_HW_INFO_TYPE_ARM_SMMUV3:
		return "arm_smmuv3";
	case 0xfeedbeef:	/* IOMMU_HW_INFO_TYPE_SELFTEST, not a uAPI value */
		return "selftest_mock";
	}
	return "other";
}

#ifdef ODPT_HAVE_IOMMUFD_FAULT
size_t odpt_iommufd_fault_size(void)
{
	return sizeof(struct iommu_hwpt_pgfault);
}

size_t odpt_iommufd_response_size(void)
{
	return sizeof(struct iommu_hwpt_page_response);
}

int odpt_iommufd_fault_queue_alloc(int fd, uint32_t *fault_id, int *fault_fd)
{
	struct iommu_fault_alloc c = { .size = sizeof(c) };
	int ret = xioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &c);

	if (ret)
		return ret;
	*fault_id = c.out_fault_id;
	*fault_fd = (int)c.out_fault_fd;
	return 0;
}

int odpt_iommufd_fault_read(int fault_fd, struct odpt_iommufd_fault *f, int max, int *n)
{
	struct iommu_hwpt_pgfault buf[16];
	ssize_t got;
	int i;

	if (max > 16)
		max = 16;
	got = read(fault_fd, buf, sizeof(buf[0]) * (size_t)max);
	if (got < 0)
		return -errno;
	*n = (int)((size_t)got / sizeof(buf[0]));
	for (i = 0; i < *n; i++) {
		f[i].flags = buf[i].flags;
		f[i].dev_id = buf[i].dev_id;
		f[i].pasid = buf[i].pasid;
		f[i].grpid = buf[i].grpid;
		f[i].perm = buf[i].perm;
		f[i].length = buf[i].length;
		f[i].cookie = buf[i].cookie;
		f[i].addr = buf[i].addr;
	}
	return 0;
}

int odpt_iommufd_fault_respond(int fault_fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response resp = { .cookie = cookie, .code = code };
	ssize_t put = write(fault_fd, &resp, sizeof(resp));

	if (put < 0)
		return -errno;
	return put == (ssize_t)sizeof(resp) ? 0 : -EIO;
}
#else
size_t odpt_iommufd_fault_size(void)
{
	return 0;
}

size_t odpt_iommufd_response_size(void)
{
	return 0;
}

int odpt_iommufd_fault_queue_alloc(int fd, uint32_t *fault_id, int *fault_fd)
{
	return -EOPNOTSUPP;
}

int odpt_iommufd_fault_read(int fault_fd, struct odpt_iommufd_fault *f, int max, int *n)
{
	return -EOPNOTSUPP;
}

int odpt_iommufd_fault_respond(int fault_fd, uint32_t cookie, uint32_t code)
{
	return -EOPNOTSUPP;
}
#endif /* ODPT_HAVE_IOMMUFD_FAULT */

#else /* !ODPT_HAVE_IOMMUFD: every ioctl is unavailable to this build */

/* Callers SKIP on odpt_iommufd_build_gap() before reaching these. */
#define NO_UAPI() { return -EOPNOTSUPP; }
int odpt_iommufd_destroy(int fd, uint32_t id) NO_UAPI()
int odpt_iommufd_ioas_alloc(int fd, uint32_t *ioas_id) NO_UAPI()
int odpt_iommufd_iova_ranges(int fd, uint32_t ioas_id, struct odpt_iova_range *r,
			     uint32_t *n, uint64_t *alignment) NO_UAPI()
int odpt_iommufd_map(int fd, uint32_t ioas_id, const void *va, uint64_t len,
		     uint32_t flags, uint64_t *iova) NO_UAPI()
int odpt_iommufd_map_file(int fd, uint32_t ioas_id, int file_fd, uint64_t start,
			  uint64_t len, uint32_t flags, uint64_t *iova) NO_UAPI()
int odpt_iommufd_unmap(int fd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		       uint64_t *unmapped) NO_UAPI()
int odpt_iommufd_copy(int fd, uint32_t dst_ioas, uint32_t src_ioas, uint64_t src_iova,
		      uint64_t len, uint32_t flags, uint64_t *dst_iova) NO_UAPI()
int odpt_iommufd_rlimit_mode(int fd, bool set, uint64_t *val) NO_UAPI()
int odpt_iommufd_fault_queue_alloc(int fd, uint32_t *fault_id, int *fault_fd) NO_UAPI()
int odpt_iommufd_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
			    uint32_t fault_id, uint32_t *hwpt_id) NO_UAPI()
int odpt_iommufd_hwpt_alloc_mock_nested(int fd, uint32_t dev_id, uint32_t parent_id,
					uint32_t flags, uint32_t fault_id,
					uint32_t *hwpt_id) NO_UAPI()
int odpt_iommufd_hw_info(int fd, uint32_t dev_id, struct odpt_iommufd_hw_info *out) NO_UAPI()
int odpt_iommufd_fault_read(int fault_fd, struct odpt_iommufd_fault *f, int max,
			    int *n) NO_UAPI()
int odpt_iommufd_fault_respond(int fault_fd, uint32_t cookie, uint32_t code) NO_UAPI()

void odpt_iommufd_caps_str(uint64_t caps, char *out, size_t len)
{
	snprintf(out, len, "0x%llx", (unsigned long long)caps);
}

const char *odpt_iommufd_hw_type_name(uint32_t type)
{
	return "unknown";
}

size_t odpt_iommufd_fault_size(void)
{
	return 0;
}

size_t odpt_iommufd_response_size(void)
{
	return 0;
}
#endif /* ODPT_HAVE_IOMMUFD */

/* ---- the selftest mock ---------------------------------------------------- */

#ifdef HAVE_MOCK
int odpt_iommufd_mock_domain(int fd, uint32_t pt_id, struct odpt_iommufd_mock *m)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = pt_id,
	};
	int ret = xioctl(fd, IOMMU_TEST_CMD, &c);

	if (ret)
		return ret;
	m->stdev_id = c.mock_domain.out_stdev_id;
	m->hwpt_id = c.mock_domain.out_hwpt_id;
	m->idev_id = c.mock_domain.out_idev_id;
	return 0;
}

int odpt_iommufd_mock_replace(int fd, uint32_t stdev_id, uint32_t pt_id, uint32_t *hwpt_id)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = stdev_id,
		.mock_domain_replace = { .pt_id = pt_id },
	};
	int ret = xioctl(fd, IOMMU_TEST_CMD, &c);

	if (!ret && hwpt_id)
		*hwpt_id = c.mock_domain_replace.pt_id;
	return ret;
}

int odpt_iommufd_mock_trigger_iopf(int fd, uint32_t dev_id, uint32_t pasid, uint32_t grpid,
				   uint32_t perm, uint64_t addr)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = dev_id, .pasid = pasid, .grpid = grpid,
			.perm = (perm & ODPT_IOMMUFD_PERM_READ ? IOMMU_PGFAULT_PERM_READ : 0) |
				(perm & ODPT_IOMMUFD_PERM_WRITE ? IOMMU_PGFAULT_PERM_WRITE : 0),
			.addr = addr,
		},
	};

	return xioctl(fd, IOMMU_TEST_CMD, &c);
}

int odpt_iommufd_mock_check_map(int fd, uint32_t hwpt_id, uint64_t iova, uint64_t len,
				const void *va)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MD_CHECK_MAP, .id = hwpt_id,
		.check_map = { .iova = iova, .length = len, .uptr = (uintptr_t)va },
	};

	return xioctl(fd, IOMMU_TEST_CMD, &c);
}

int odpt_iommufd_mock_aperture(uint64_t *start, uint64_t *last)
{
	*start = MOCK_APERTURE_START;
	*last = MOCK_APERTURE_LAST;
	return 0;
}
#else
int odpt_iommufd_mock_domain(int fd, uint32_t pt_id, struct odpt_iommufd_mock *m)
{
	return -EOPNOTSUPP;
}

int odpt_iommufd_mock_replace(int fd, uint32_t stdev_id, uint32_t pt_id, uint32_t *hwpt_id)
{
	return -EOPNOTSUPP;
}

int odpt_iommufd_mock_trigger_iopf(int fd, uint32_t dev_id, uint32_t pasid, uint32_t grpid,
				   uint32_t perm, uint64_t addr)
{
	return -EOPNOTSUPP;
}

int odpt_iommufd_mock_check_map(int fd, uint32_t hwpt_id, uint64_t iova, uint64_t len,
				const void *va)
{
	return -EOPNOTSUPP;
}

int odpt_iommufd_mock_aperture(uint64_t *start, uint64_t *last)
{
	return -EOPNOTSUPP;
}
#endif /* HAVE_MOCK */

/* ---- VFIO device cdev ----------------------------------------------------- */

int odpt_iommufd_vfio_bind(int fd, const char *cdev, int *vfio_fd, uint32_t *dev_id)
{
#ifdef ODPT_HAVE_VFIO_CDEV
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = fd };
	int vf = open(cdev, O_RDWR | O_CLOEXEC);
	int ret;

	if (vf < 0)
		return -errno;
	ret = xioctl(vf, VFIO_DEVICE_BIND_IOMMUFD, &b);
	if (ret) {
		close(vf);
		return ret;
	}
	*vfio_fd = vf;
	*dev_id = b.out_devid;
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}
