/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Thin wrappers around the ioctls of include/uapi/odpt_hmm.h for the lab
 * tests: each fills the struct (size field included), issues one ioctl and
 * returns 0 or -errno, so a test asserts the exact errno the header
 * documents. Also the helpers every test shares: anonymous mappings, the
 * module-global leak counters, the map modes the per-mode tests run over.
 */
#ifndef ODPT_LAB_SHIM_DEV_H
#define ODPT_LAB_SHIM_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/odpt_hmm.h"

#include "harness.h"

extern size_t sd_page;

int sd_open(void);
int sd_ioctl(int fd, unsigned long cmd, void *arg);
int sd_version(int fd, uint32_t *version);
int sd_dev_info(int fd, struct odpt_hmm_dev_info *out);
int sd_global(int fd, struct odpt_hmm_global *out);
int sd_register(int fd, const void *addr, uint64_t len, uint32_t mode,
		struct odpt_hmm_register *out);
int sd_fault(int fd, const void *addr, uint64_t len, uint32_t flags,
	     struct odpt_hmm_fault *out);
int sd_map(int fd, const void *addr, uint64_t len, uint32_t flags,
	   struct odpt_hmm_map *out);
int sd_unmap(int fd, const void *addr, uint64_t len, struct odpt_hmm_unmap *out);
/* pfns may be NULL with n == 0 only when the caller expects an error. */
int sd_flags(int fd, const void *addr, uint64_t len, uint32_t flags, uint64_t *pfns,
	     uint64_t n, struct odpt_hmm_flags *out);
int sd_stats(int fd, uint32_t flags, struct odpt_hmm_stats *out);
int sd_hist(int fd, uint32_t id, uint64_t *counts, uint64_t len,
	    struct odpt_hmm_hist_req *out);
int sd_verify(int fd, const void *addr, uint64_t len, uint32_t flags, uint64_t max_pages,
	      uint64_t seed, struct odpt_hmm_verify *out);

/* In a test child: fail the test on error. */
int sd_open_or_fail(void);
void *sd_mmap_or_fail(size_t len, int prot);
/* Global counters minus the probe's file and the run's baseline. */
struct odpt_hmm_global sd_global_or_fail(void);
/* The same without the baseline (probe still excluded). */
struct odpt_hmm_global sd_global_raw_or_fail(void);
struct odpt_hmm_stats sd_stats_or_fail(int fd);
/* Opens, registers [addr, addr+len) in mode and returns the fd. */
int sd_mirror_or_fail(void *addr, size_t len, uint32_t mode);

/* Runs fn(arg) in a forked child and waits; the child's assertions fail
 * the test (the verdict page is shared). Fails if the child dies. */
void sd_child_run(const char *what, void (*fn)(void *arg), void *arg);
/* SCM_RIGHTS over a unix socket. */
int sd_send_fds(int sock, const int *fds, int n);
int sd_recv_fds(int sock, int *fds, int n);

static inline void *sd_pg(void *base, size_t i)
{
	return (char *)base + i * sd_page;
}

/* The module-wide counters that must be zero with no file open besides
 * the caller's own unregistered one; returns 0 or -EBUSY with a reason. */
int sd_leak_check(char *buf, size_t len);
/* Whole-run setup check (parent): 0, >0 with a skip reason, <0 to bail. */
int sd_setup(char *buf, size_t len);
/* Wait until the leak counters are clean (mappings torn down by an exiting
 * process); 0 or -ETIMEDOUT after timeout_ms with the last reason. */
int sd_wait_clean(unsigned int timeout_ms, char *buf, size_t len);

/* The first line of a (sysfs) file without its newline, "" if empty:
 * 0 or -errno when it cannot be opened (buf is "" then). */
int sd_read_line(const char *path, char *buf, size_t len);
/* A read-only module parameter of odpt_hmm (abi_version): 0 or -errno. */
int sd_param_u64(const char *param, uint64_t *out);
/* Where odpt_hmm's module-wide counters are, one file each (debugfs). */
#define SD_DEBUGFS_DIR "/sys/kernel/debug/odpt_hmm"
/* One of them (live_mappings, stale_mapped_entries, ...), mounting debugfs
 * first if it is not: 0 or -errno. */
int sd_counter_u64(const char *name, uint64_t *out);

/* A 64-bit xorshift* generator for tests and the fuzzer. */
static inline uint64_t sd_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint64_t sd_rand_below(uint64_t *s, uint64_t n)
{
	return n ? sd_rand(s) % n : 0;
}

/* Device facts read once by the parent and inherited by the children. */
struct sd_env {
	struct odpt_hmm_dev_info info;
	bool iommu_expected_known;
	bool iommu_expected;		/* ODPT_IOMMU=on */
};
extern struct sd_env sd_env;

#endif
