/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the iommufd runs (probe, bench, iopf, cases) share: opening
 * /dev/iommu or saying why not, a fresh IOAS with a mock device attached,
 * and the memory facts that decide whether a size can run.
 */
#ifndef ODPT_IOMMUFD_INT_H
#define ODPT_IOMMUFD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odpt/iommufd.h"

struct odpt_report;

/* An iommufd context with one IOAS and (optionally) a mock device on it. */
struct ifd_ctx {
	int fd;
	uint32_t ioas_id;
	bool have_mock;
	struct odpt_iommufd_mock mock;
};

/*
 * Why nothing can run, or NULL: the build lacks the uAPI (or the mock, with
 * need_mock), /dev/iommu is missing or cannot be opened, the kernel has no
 * IOMMU_TEST_CMD. Writes the reason into why.
 */
const char *ifd_unavailable(const char *dev, bool need_mock, char *why, size_t len);

/* Open dev, allocate an IOAS, attach a mock device when mock: 0 or -errno
 * (the stage that failed in *stage). ifd_ctx_close() undoes it all. */
int ifd_ctx_open(const char *dev, bool mock, struct ifd_ctx *c, const char **stage);
void ifd_ctx_close(struct ifd_ctx *c);

/* CAP_IPC_LOCK in the effective set: pinned pages are then not charged. */
bool ifd_cap_ipc_lock(void);
/* /proc/self/status "VmPin:" / "VmLck:" in bytes (UINT64_MAX if absent). */
uint64_t ifd_status_bytes(const char *key);
size_t ifd_page_size(void);

/* What a forked case reports back (it lives in shared memory). */
struct ifd_case_out {
	int result;           /* enum odpt_test_result */
	char stage[96];       /* where the case is: named when it hangs or dies */
	char reason[512];
};
/*
 * Run fn in a forked child with a watchdog: fn returns an enum
 * odpt_test_result and may update o->stage and o->reason as it goes. A
 * child that outlives timeout_ms is killed and the result is FAIL naming
 * its stage; one killed by a signal likewise. 0, or -errno if the case
 * could not be started.
 */
int ifd_forked(int (*fn)(struct ifd_case_out *o, const void *arg), const void *arg, uint64_t timeout_ms,
	       struct ifd_case_out *res, uint64_t *duration_ns);

#endif
