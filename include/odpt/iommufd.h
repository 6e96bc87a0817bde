/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Userspace DMA through /dev/iommu (iommufd): thin ioctl wrappers, then the
 * runs behind `odpt iommufd probe|bench|iopf|test`, which fill a report.
 * Only src/lib/iommufd includes <linux/iommufd.h> and the kernel's selftest
 * header; everything here speaks plain integers. Every function returns 0
 * or -errno. A piece the build lacks (uAPI too old, no ODPT_IOMMUFD_TEST_H)
 * returns -EOPNOTSUPP and odpt_iommufd_build_gap() says why, for SKIPs.
 */
#ifndef ODPT_IOMMUFD_H
#define ODPT_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct odpt_report;

#define ODPT_IOMMUFD_DEV "/dev/iommu"

enum odpt_iommufd_feature {
	ODPT_IOMMUFD_F_UAPI,       /* IOAS alloc/map/unmap/copy, ranges, options, hw info */
	ODPT_IOMMUFD_F_FAULT,      /* fault queues, HWPTs with a fault id */
	ODPT_IOMMUFD_F_MAP_FILE,   /* IOMMU_IOAS_MAP_FILE */
	ODPT_IOMMUFD_F_MOCK,       /* the selftest mock (kernel's iommufd_test.h) */
	ODPT_IOMMUFD_F_VFIO,       /* VFIO device cdev bound to an iommufd */
};
/* NULL when the build has the feature, else the reason it does not. */
const char *odpt_iommufd_build_gap(enum odpt_iommufd_feature f);

/* ---- ioctl wrappers ------------------------------------------------------ */

enum {
	ODPT_IOMMUFD_MAP_FIXED = 1 << 0,   /* use *iova as given */
	ODPT_IOMMUFD_MAP_WRITE = 1 << 1,
	ODPT_IOMMUFD_MAP_READ = 1 << 2,
	ODPT_IOMMUFD_MAP_RW = ODPT_IOMMUFD_MAP_READ | ODPT_IOMMUFD_MAP_WRITE,
};

enum {
	ODPT_IOMMUFD_HWPT_NEST_PARENT = 1 << 0,
	ODPT_IOMMUFD_HWPT_DIRTY = 1 << 1,
	ODPT_IOMMUFD_HWPT_FAULT = 1 << 2,    /* fault_id is valid */
};

struct odpt_iova_range {
	uint64_t start, last;   /* inclusive */
};

/* path NULL: /dev/iommu. -ENOENT when it does not exist. */
int odpt_iommufd_open(const char *path, int *fd);
int odpt_iommufd_destroy(int fd, uint32_t id);
int odpt_iommufd_ioas_alloc(int fd, uint32_t *ioas_id);
/* Up to *n ranges into r (may be NULL with *n = 0); *n becomes the total. */
int odpt_iommufd_iova_ranges(int fd, uint32_t ioas_id, struct odpt_iova_range *r,
			     uint32_t *n, uint64_t *alignment);
int odpt_iommufd_map(int fd, uint32_t ioas_id, const void *va, uint64_t len,
		     uint32_t flags, uint64_t *iova);
int odpt_iommufd_map_file(int fd, uint32_t ioas_id, int file_fd, uint64_t start,
			  uint64_t len, uint32_t flags, uint64_t *iova);
/* *unmapped (may be NULL): bytes the kernel unmapped. iova 0 and len
 * UINT64_MAX unmap everything. */
int odpt_iommufd_unmap(int fd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		       uint64_t *unmapped);
int odpt_iommufd_copy(int fd, uint32_t dst_ioas, uint32_t src_ioas, uint64_t src_iova,
		      uint64_t len, uint32_t flags, uint64_t *dst_iova);
/* IOMMU_OPTION_RLIMIT_MODE: get (set false) or set *val (0 user, 1 mm). */
int odpt_iommufd_rlimit_mode(int fd, bool set, uint64_t *val);
int odpt_iommufd_fault_queue_alloc(int fd, uint32_t *fault_id, int *fault_fd);
int odpt_iommufd_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
			    uint32_t fault_id, uint32_t *hwpt_id);
/* A nested HWPT of the mock's type on a NEST_PARENT HWPT (the mock's only
 * nested kind). */
int odpt_iommufd_hwpt_alloc_mock_nested(int fd, uint32_t dev_id, uint32_t parent_id,
					uint32_t flags, uint32_t fault_id,
					uint32_t *hwpt_id);

struct odpt_iommufd_hw_info {
	uint32_t data_type;      /* IOMMU_HW_INFO_TYPE_* (0xfeedbeef: the mock) */
	uint32_t data_len;       /* bytes of driver data the kernel has */
	uint64_t capabilities;   /* IOMMU_HW_CAP_* */
	uint8_t max_pasid_log2;
};
int odpt_iommufd_hw_info(int fd, uint32_t dev_id, struct odpt_iommufd_hw_info *out);
/* Names of the IOMMU_HW_CAP_* bits set in caps, comma separated. */
void odpt_iommufd_caps_str(uint64_t caps, char *out, size_t len);
const char *odpt_iommufd_hw_type_name(uint32_t type);

/* One IO page fault as read from a fault queue. */
struct odpt_iommufd_fault {
	uint32_t flags, dev_id, pasid, grpid, perm, length, cookie;
	uint64_t addr;
};
enum { ODPT_IOMMUFD_PERM_READ = 1 << 0, ODPT_IOMMUFD_PERM_WRITE = 1 << 1 };
enum { ODPT_IOMMUFD_RESP_SUCCESS = 0, ODPT_IOMMUFD_RESP_INVALID = 1 };
/* Bytes of one fault record and one response in the kernel's ABI. */
size_t odpt_iommufd_fault_size(void);
size_t odpt_iommufd_response_size(void);
/* Read up to max faults (no wait): *n = how many; 0 with *n = 0 if none. */
int odpt_iommufd_fault_read(int fault_fd, struct odpt_iommufd_fault *f, int max, int *n);
int odpt_iommufd_fault_respond(int fault_fd, uint32_t cookie, uint32_t code);

/* The selftest mock (ODPT_IOMMUFD_F_MOCK). */
struct odpt_iommufd_mock {
	uint32_t stdev_id;   /* the selftest object; destroy it to remove the device */
	uint32_t hwpt_id;    /* the HWPT the device was attached to */
	uint32_t idev_id;    /* the device as iommufd knows it (dev_id) */
};
/* A new mock device bound to fd and attached to pt_id (an IOAS or HWPT). */
int odpt_iommufd_mock_domain(int fd, uint32_t pt_id, struct odpt_iommufd_mock *m);
/* Re-attach the mock device to pt_id; *hwpt_id (may be NULL): the HWPT used. */
int odpt_iommufd_mock_replace(int fd, uint32_t stdev_id, uint32_t pt_id, uint32_t *hwpt_id);
int odpt_iommufd_mock_trigger_iopf(int fd, uint32_t dev_id, uint32_t pasid, uint32_t grpid,
				   uint32_t perm, uint64_t addr);
/* The mock domain maps [iova, iova+len) to the pages under va: 0, or -EINVAL. */
int odpt_iommufd_mock_check_map(int fd, uint32_t hwpt_id, uint64_t iova, uint64_t len,
				const void *va);
/* The mock's IOVA aperture (MOCK_APERTURE_START..LAST). */
int odpt_iommufd_mock_aperture(uint64_t *start, uint64_t *last);

/* A VFIO device cdev (/dev/vfio/devices/vfioN) bound to fd: *dev_id. */
int odpt_iommufd_vfio_bind(int fd, const char *cdev, int *vfio_fd, uint32_t *dev_id);

/* ---- runs behind the CLI verbs -------------------------------------------- */

enum odpt_iommufd_backing {
	ODPT_IOMMUFD_BACK_ANON,      /* anonymous 4 KiB pages (MADV_NOHUGEPAGE) */
	ODPT_IOMMUFD_BACK_THP,       /* anonymous, 2 MiB aligned, MADV_HUGEPAGE */
	ODPT_IOMMUFD_BACK_HUGETLB,   /* MAP_HUGETLB 2 MiB pages */
	ODPT_IOMMUFD_BACK_MEMFD,     /* memfd, mapped with IOMMU_IOAS_MAP_FILE */
	ODPT_IOMMUFD_BACK_N,
};
const char *odpt_iommufd_backing_name(enum odpt_iommufd_backing b);
/* "anon,thp" -> bit mask of backings; -EINVAL on an unknown or empty list. */
int odpt_iommufd_parse_backings(const char *list, unsigned *mask);
/* "4K,2M": up to max sizes, each a non-zero multiple of page; -EINVAL else. */
int odpt_iommufd_parse_sizes(const char *list, uint64_t page, uint64_t *sizes, int max,
			     int *n);

#define ODPT_IOMMUFD_MAX_SIZES 16

struct odpt_iommufd_probe_cfg {
	const char *dev;    /* NULL: /dev/iommu */
	const char *vfio;   /* a VFIO cdev to query too, or NULL */
};

struct odpt_iommufd_bench_cfg {
	const char *dev;
	uint64_t sizes[ODPT_IOMMUFD_MAX_SIZES];
	int nsizes;
	unsigned backings;       /* 1 << enum odpt_iommufd_backing */
	uint64_t iters;          /* MAP + UNMAP rounds per run */
	uint64_t max_bytes;      /* cap on bytes mapped per run: big sizes do fewer rounds */
	bool mock;               /* true: the mock domain; false: an IOAS with no domain */
	bool edu;                /* instead: QEMU's edu through VFIO, the platform IOMMU's domain */
	const char *edu_device;  /* edu's PCI address, NULL for the first */
	bool force_bind;         /* take edu from another driver (odpt_edu_find()) */
	bool copy;               /* also time IOMMU_IOAS_COPY into a second IOAS */
};

struct odpt_iommufd_iopf_cfg {
	const char *dev;
	uint64_t iters;
	bool resolve;            /* map a page at each fault's address before answering */
	uint64_t timeout_ms;     /* how long to wait for a fault to show up */
};

struct odpt_iommufd_test_cfg {
	const char *dev;
	const char *filter;      /* substring of case names, or NULL */
	uint64_t timeout_ms;     /* per case (the watchdog) */
};

/*
 * Each fills r and returns 0, or -errno when it could not go on. *skipped
 * (may be NULL) is set when nothing could run (no /dev/iommu, no mock):
 * the report then carries odpt_report_skip_all()'s reason.
 */
int odpt_iommufd_probe(struct odpt_report *r, const struct odpt_iommufd_probe_cfg *cfg);
int odpt_iommufd_bench(struct odpt_report *r, const struct odpt_iommufd_bench_cfg *cfg,
		       bool *skipped);
int odpt_iommufd_iopf(struct odpt_report *r, const struct odpt_iommufd_iopf_cfg *cfg,
		      bool *skipped);
int odpt_iommufd_test(struct odpt_report *r, const struct odpt_iommufd_test_cfg *cfg,
		      bool *skipped);
/* Name of correctness case i in run order; NULL past the last. */
const char *odpt_iommufd_case_name(size_t i);

#endif
