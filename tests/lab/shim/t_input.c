// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Bad input to /dev/odpt_hmm: every case asserts the exact errno that
 * include/uapi/odpt_hmm.h documents (unknown ioctl, wrong struct size,
 * unknown flags, ops before REGISTER, bad ranges, unmapped, PROT_NONE and
 * read-only memory, a second REGISTER, an fd used from another mm), and
 * that a refused call changed nothing: the same file still works after.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENTRY(c, t) { #c, c, sizeof(t) }
static const struct {
	const char *name;
	unsigned long cmd;
	size_t size;
} sized_ioctls[] = {
	ENTRY(ODPT_HMM_IOC_DEV_INFO, struct odpt_hmm_dev_info),
	ENTRY(ODPT_HMM_IOC_GLOBAL, struct odpt_hmm_global),
	ENTRY(ODPT_HMM_IOC_REGISTER, struct odpt_hmm_register),
	ENTRY(ODPT_HMM_IOC_FAULT, struct odpt_hmm_fault),
	ENTRY(ODPT_HMM_IOC_MAP, struct odpt_hmm_map),
	ENTRY(ODPT_HMM_IOC_UNMAP, struct odpt_hmm_unmap),
	ENTRY(ODPT_HMM_IOC_FLAGS, struct odpt_hmm_flags),
	ENTRY(ODPT_HMM_IOC_GET_HIST, struct odpt_hmm_hist_req),
	ENTRY(ODPT_HMM_IOC_GET_STATS, struct odpt_hmm_stats),
	ENTRY(ODPT_HMM_IOC_VERIFY, struct odpt_hmm_verify),
};
#undef ENTRY

static uint64_t hist_counts[ODPT_HMM_HIST_COUNTS_LEN];
static uint64_t pfn_buf[64];

/* A valid argument for each sized ioctl against a file registered over
 * [mem, mem + 8 pages) (REGISTER's is valid for an unregistered file). */
static void fill_valid(unsigned long cmd, void *buf, char *mem)
{
	switch (cmd) {
	case ODPT_HMM_IOC_REGISTER: {
		struct odpt_hmm_register *r = buf;

		r->addr = (uintptr_t)mem;
		r->len = 8 * sd_page;
		r->mode = ODPT_HMM_MODE_PAGE;
		break;
	}
	case ODPT_HMM_IOC_FAULT:
	case ODPT_HMM_IOC_MAP:
	case ODPT_HMM_IOC_UNMAP:
	case ODPT_HMM_IOC_VERIFY: {
		/* All four start size, flags, addr, len. */
		struct odpt_hmm_unmap *u = buf;

		u->addr = (uintptr_t)mem;
		u->len = sd_page;
		break;
	}
	case ODPT_HMM_IOC_FLAGS: {
		struct odpt_hmm_flags *f = buf;

		f->addr = (uintptr_t)mem;
		f->len = sd_page;
		f->pfns_ptr = (uintptr_t)pfn_buf;
		f->pfns_len = 64;
		break;
	}
	case ODPT_HMM_IOC_GET_HIST: {
		struct odpt_hmm_hist_req *h = buf;

		h->counts_ptr = (uintptr_t)hist_counts;
		h->counts_len = ODPT_HMM_HIST_COUNTS_LEN;
		break;
	}
	default:
		break;
	}
}

/* The size field is the first __u32 of every sized struct. */
static void set_size(void *buf, uint32_t size)
{
	memcpy(buf, &size, sizeof(size));
}

KT_TEST(dev_node)
{
	struct stat st;
	pid_t pid;
	int status;

	KT_ASSERT_EQ(stat(ODPT_HMM_DEV_PATH, &st), 0);
	KT_ASSERT(S_ISCHR(st.st_mode));
	KT_ASSERT_EQ(st.st_mode & 07777, 0600);
	KT_ASSERT_EQ(st.st_uid, 0);
	kt_stage("open as uid 65534");
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		_exit(sd_open() == -EACCES ? 0 : 4);
	}
	KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	KT_ASSERT(WIFEXITED(status));
	if (WEXITSTATUS(status) == 4)
		KT_FAIL("an unprivileged process could open %s (or got another errno than EACCES)",
			ODPT_HMM_DEV_PATH);
	KT_ASSERT_EQ(WEXITSTATUS(status), 0);
}

KT_TEST(unknown_ioctl)
{
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE);
	uint64_t big[64] = { 0 };
	int fd = sd_open_or_fail();

	for (int registered = 0; registered < 2; registered++) {
		kt_stage("unknown ioctls, registered=%d", registered);
		KT_ASSERT_ERR(sd_ioctl(fd, _IO(ODPT_HMM_IOC_MAGIC, 0x7f), NULL), -ENOTTY);
		KT_ASSERT_ERR(sd_ioctl(fd, _IOWR(ODPT_HMM_IOC_MAGIC, 0x03, struct odpt_hmm_global),
				       big), -ENOTTY);
		KT_ASSERT_ERR(sd_ioctl(fd, _IOWR(ODPT_HMM_IOC_MAGIC, 0x18, struct odpt_hmm_map),
				       big), -ENOTTY);
		KT_ASSERT_ERR(sd_ioctl(fd, _IOWR(ODPT_HMM_IOC_MAGIC, 0xff, __u64), big), -ENOTTY);
		KT_ASSERT_ERR(sd_ioctl(fd, _IOWR('x', 0x10, struct odpt_hmm_register), big),
			      -ENOTTY);
		/* A generic tty ioctl must not reach anything either. */
		KT_ASSERT_ERR(sd_ioctl(fd, TCGETS, big), -ENOTTY);
		if (!registered)
			KT_ASSERT_OK(sd_register(fd, mem, 8 * sd_page, ODPT_HMM_MODE_PAGE, NULL));
	}
	close(fd);
}

KT_TEST(wrong_size)
{
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE);
	uint64_t buf[512];
	int fd_reg, fd_new;

	fd_reg = sd_mirror_or_fail(mem, 8 * sd_page, ODPT_HMM_MODE_PAGE);
	for (size_t i = 0; i < sizeof(sized_ioctls) / sizeof(sized_ioctls[0]); i++) {
		unsigned long cmd = sized_ioctls[i].cmd;
		size_t sz = sized_ioctls[i].size;
		int fd = cmd == ODPT_HMM_IOC_REGISTER ? -1 : fd_reg;
		static const int deltas[] = { -8, +8, -4, +4 };
		uint32_t bad_sizes[] = { 0, (uint32_t)sz - 8, (uint32_t)sz + 8, 4, 0xffffffffu };

		KT_ASSERT(sz + 64 <= sizeof(buf));
		for (size_t j = 0; j < sizeof(bad_sizes) / sizeof(bad_sizes[0]); j++) {
			kt_stage("%s with size field %u (sizeof %zu)", sized_ioctls[i].name,
				 bad_sizes[j], sz);
			fd_new = fd < 0 ? sd_open_or_fail() : -1;
			memset(buf, 0, sizeof(buf));
			fill_valid(cmd, buf, mem);
			set_size(buf, bad_sizes[j]);
			KT_ASSERT_ERR(sd_ioctl(fd < 0 ? fd_new : fd, cmd, buf), -EINVAL);
			if (fd_new >= 0)
				close(fd_new);
		}
		for (size_t j = 0; j < sizeof(deltas) / sizeof(deltas[0]); j++) {
			size_t csz = sz + (size_t)(long)deltas[j];
			unsigned long bad_cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), csz);

			kt_stage("%s with _IOC_SIZE %zu (sizeof %zu)", sized_ioctls[i].name, csz, sz);
			fd_new = fd < 0 ? sd_open_or_fail() : -1;
			memset(buf, 0, sizeof(buf));
			fill_valid(cmd, buf, mem);
			set_size(buf, (uint32_t)sz);
			KT_ASSERT_ERR(sd_ioctl(fd < 0 ? fd_new : fd, bad_cmd, buf), -EINVAL);
			if (fd_new >= 0)
				close(fd_new);
		}
		/* The valid form works: the refusals above were about the size only. */
		kt_stage("%s valid", sized_ioctls[i].name);
		fd_new = fd < 0 ? sd_open_or_fail() : -1;
		memset(buf, 0, sizeof(buf));
		fill_valid(cmd, buf, mem);
		set_size(buf, (uint32_t)sz);
		if (cmd == ODPT_HMM_IOC_VERIFY) {
			/* Nothing is mapped: -ENXIO, or -ENODEV without a DMA engine. */
			KT_ASSERT_ERR(sd_ioctl(fd_reg, cmd, buf),
				      sd_env.info.can_verify ? -ENXIO : -ENODEV);
		} else {
			KT_ASSERT_OK(sd_ioctl(fd < 0 ? fd_new : fd, cmd, buf));
		}
		if (fd_new >= 0)
			close(fd_new);
	}
	close(fd_reg);
}

KT_TEST(bad_pointer)
{
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE);
	char *ro = sd_mmap_or_fail(sd_page, PROT_READ);
	int fd = sd_mirror_or_fail(mem, 8 * sd_page, ODPT_HMM_MODE_PAGE);

	/* Not spelled out in the header; -EFAULT is copy_{from,to}_user's answer. */
	kt_stage("NULL and wild argument pointers");
	for (size_t i = 0; i < sizeof(sized_ioctls) / sizeof(sized_ioctls[0]); i++) {
		KT_ASSERT_ERR(sd_ioctl(fd, sized_ioctls[i].cmd, NULL), -EFAULT);
		KT_ASSERT_ERR(sd_ioctl(fd, sized_ioctls[i].cmd, (void *)0xffff888000000000ull),
			      -EFAULT);
	}
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_VERSION, NULL), -EFAULT);
	kt_stage("FLAGS into a NULL / read-only array");
	KT_ASSERT_ERR(sd_flags(fd, mem, sd_page, 0, NULL, 64, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_flags(fd, mem, sd_page, 0, (uint64_t *)ro, 64, NULL), -EFAULT);
	kt_stage("GET_HIST into a NULL / read-only array");
	KT_ASSERT_ERR(sd_hist(fd, 0, NULL, ODPT_HMM_HIST_COUNTS_LEN, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_hist(fd, 0, (uint64_t *)ro, ODPT_HMM_HIST_COUNTS_LEN, NULL), -EFAULT);
	close(fd);
}

KT_TEST(bad_flags)
{
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE);
	struct odpt_hmm_register r;
	struct odpt_hmm_global g;
	struct odpt_hmm_dev_info di;
	struct odpt_hmm_hist_req h;
	struct odpt_hmm_stats st;
	uint64_t pfns[8];
	int fd = sd_open_or_fail();

	kt_stage("REGISTER flags, reserved, mode");
	r = (struct odpt_hmm_register){ .size = sizeof(r), .addr = (uintptr_t)mem,
					.len = 8 * sd_page, .mode = ODPT_HMM_MODE_PAGE };
	r.flags = 1;
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r), -EINVAL);
	r.flags = 1u << 31;
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r), -EINVAL);
	r.flags = 0;
	r.reserved = 1;
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r), -EINVAL);
	r.reserved = 0;
	for (uint32_t mode = 0; mode < 8; mode++) {
		if (mode >= ODPT_HMM_MODE_HMM && mode <= ODPT_HMM_MODE_SG)
			continue;
		r.mode = mode;
		KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r), -EINVAL);
	}
	r.mode = 0xffffffffu;
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r), -EINVAL);

	kt_stage("global ioctls with flags");
	g = (struct odpt_hmm_global){ .size = sizeof(g), .flags = 1 };
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_GLOBAL, &g), -EINVAL);
	di = (struct odpt_hmm_dev_info){ .size = sizeof(di), .flags = 1 };
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_DEV_INFO, &di), -EINVAL);

	/* The refusals consumed nothing: the file registers now. */
	KT_ASSERT_OK(sd_register(fd, mem, 8 * sd_page, ODPT_HMM_MODE_PAGE, NULL));

	kt_stage("per-mirror ioctls with unknown flags");
	KT_ASSERT_ERR(sd_fault(fd, mem, sd_page, 1u << 7, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_fault(fd, mem, sd_page, 1u << 31, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_map(fd, mem, sd_page, 1u << 7, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_map(fd, mem, sd_page, 1u << 31, NULL), -EINVAL);
	{
		struct odpt_hmm_unmap u = { .size = sizeof(u), .flags = 1,
					    .addr = (uintptr_t)mem, .len = sd_page };

		KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_UNMAP, &u), -EINVAL);
	}
	KT_ASSERT_ERR(sd_flags(fd, mem, sd_page, 1u << 1, pfns, 8, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_flags(fd, mem, sd_page, 1u << 31, pfns, 8, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_stats(fd, 1u << 1, &st), -EINVAL);
	KT_ASSERT_ERR(sd_verify(fd, mem, sd_page, 1u << 3, 0, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_verify(fd, mem, sd_page, ODPT_HMM_VERIFY_RO_PROBE | ODPT_HMM_VERIFY_WRITE,
				0, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_verify(fd, mem, sd_page, ODPT_HMM_VERIFY_RO_PROBE | ODPT_HMM_VERIFY_STALE,
				0, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_verify(fd, mem, sd_page, 1u << 31, 0, 0, NULL), -EINVAL);

	kt_stage("GET_HIST id, counts_len, flags, reserved");
	KT_ASSERT_ERR(sd_hist(fd, ODPT_HMM_HIST_NR, hist_counts, ODPT_HMM_HIST_COUNTS_LEN, NULL),
		      -EINVAL);
	KT_ASSERT_ERR(sd_hist(fd, 0xffffffffu, hist_counts, ODPT_HMM_HIST_COUNTS_LEN, NULL),
		      -EINVAL);
	KT_ASSERT_ERR(sd_hist(fd, 0, hist_counts, ODPT_HMM_HIST_COUNTS_LEN - 1, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_hist(fd, 0, hist_counts, ODPT_HMM_HIST_COUNTS_LEN + 1, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_hist(fd, 0, hist_counts, 0, NULL), -EINVAL);
	h = (struct odpt_hmm_hist_req){ .size = sizeof(h), .flags = 1,
					.counts_ptr = (uintptr_t)hist_counts,
					.counts_len = ODPT_HMM_HIST_COUNTS_LEN };
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_GET_HIST, &h), -EINVAL);
	h.flags = 0;
	h.reserved = 1;
	KT_ASSERT_ERR(sd_ioctl(fd, ODPT_HMM_IOC_GET_HIST, &h), -EINVAL);
	h.reserved = 0;
	KT_ASSERT_OK(sd_ioctl(fd, ODPT_HMM_IOC_GET_HIST, &h));
	KT_ASSERT_OK(sd_fault(fd, mem, sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	close(fd);
}

KT_TEST(before_register)
{
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE);
	struct odpt_hmm_stats st;
	uint64_t pfns[8];
	int fd = sd_open_or_fail();

	kt_stage("per-mirror ops on a fresh file");
	KT_ASSERT_ERR(sd_fault(fd, mem, sd_page, 0, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_fault(fd, mem, sd_page, ODPT_HMM_FAULT_WRITE, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_map(fd, mem, sd_page, 0, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_map(fd, mem, sd_page, ODPT_HMM_MAP_NOFAULT, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_unmap(fd, mem, sd_page, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_flags(fd, mem, sd_page, 0, pfns, 8, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_flags(fd, mem, sd_page, ODPT_HMM_FLAGS_REFRESH, pfns, 8, NULL), -ENOENT);
	KT_ASSERT_ERR(sd_verify(fd, mem, sd_page, 0, 0, 0, NULL), -ENOENT);
	kt_stage("GET_STATS before REGISTER reports mode 0");
	KT_ASSERT_OK(sd_stats(fd, 0, &st));
	KT_ASSERT_EQ(st.mode, 0);
	KT_ASSERT_EQ(st.npages, 0);
	KT_ASSERT_EQ(st.mapped_pages, 0);
	KT_ASSERT_EQ(st.fault_calls, 0);
	{
		int h = sd_hist(fd, 0, hist_counts, ODPT_HMM_HIST_COUNTS_LEN, NULL);

		/* Header leaves GET_HIST before REGISTER open: record what it does. */
		kt_diag("GET_HIST before REGISTER: %s", kt_errname(h));
		KT_ASSERT(h == 0 || h == -ENOENT);
	}
	kt_stage("a failed op changed nothing");
	KT_ASSERT_OK(sd_register(fd, mem, 8 * sd_page, ODPT_HMM_MODE_PAGE, NULL));
	KT_ASSERT_OK(sd_fault(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	close(fd);
}

KT_TEST_MODES(register_bad_range)
{
	uint32_t mode = ctx->mode->value;
	char *mem = sd_mmap_or_fail(16 * sd_page, PROT_READ | PROT_WRITE);
	uint64_t a = (uintptr_t)mem;
	struct odpt_hmm_register r;
	int fd = sd_open_or_fail();

	kt_stage("unaligned and empty");
	KT_ASSERT_ERR(sd_register(fd, mem + 1, sd_page, mode, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_register(fd, mem + sd_page / 2, 4 * sd_page, mode, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_register(fd, mem, sd_page - 1, mode, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_register(fd, mem, sd_page + 1, mode, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_register(fd, mem, 1, mode, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_register(fd, mem, 0, mode, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_register(fd, NULL, 0, mode, NULL), -EINVAL);

	kt_stage("addr + len wraps");
	/* Exactly 2^64: the end wraps to 0. */
	KT_ASSERT_ERR(sd_register(fd, mem, (uint64_t)0 - a, mode, NULL), -EOVERFLOW);
	KT_ASSERT_ERR(sd_register(fd, mem, (uint64_t)0 - sd_page, mode, NULL), -EOVERFLOW);
	KT_ASSERT_ERR(sd_register(fd, (void *)0x1000, (uint64_t)0 - 0x1000, mode, NULL),
		      -EOVERFLOW);

#ifdef ODPT_HMM_MAX_LEN
	kt_stage("longer than ODPT_HMM_MAX_LEN");
	/* Low, page aligned, far from the top of user space in any paging mode. */
	KT_ASSERT_ERR(sd_register(fd, (void *)0x100000000ull, ODPT_HMM_MAX_LEN + sd_page, mode,
				  NULL), -E2BIG);
	KT_ASSERT_ERR(sd_register(fd, (void *)0x100000000ull, ODPT_HMM_MAX_LEN * 2, mode, NULL),
		      -E2BIG);
#endif
	kt_stage("beyond the user address space");
	KT_ASSERT_ERR(sd_register(fd, (void *)0xffff888000000000ull, sd_page, mode, NULL),
		      -EFAULT);
	KT_ASSERT_ERR(sd_register(fd, (void *)0xffffffff81000000ull, 16 * sd_page, mode, NULL),
		      -EFAULT);
	KT_ASSERT_ERR(sd_register(fd, (void *)0x8000000000000000ull, sd_page, mode, NULL),
		      -EFAULT);
	/* Crosses from user space into the non-canonical hole (any paging mode). */
	KT_ASSERT_ERR(sd_register(fd, (void *)(0x8000000000000000ull - sd_page), 2 * sd_page,
				  mode, NULL), -EFAULT);

	kt_stage("the refusals left the file unregistered");
	KT_ASSERT_ERR(sd_fault(fd, mem, sd_page, 0, NULL), -ENOENT);
	KT_ASSERT_OK(sd_register(fd, mem, 16 * sd_page, mode, &r));
	KT_ASSERT_EQ(r.npages, 16);
	KT_ASSERT_OK(sd_map(fd, mem, 16 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	close(fd);
}

KT_TEST_MODES(register_twice)
{
	uint32_t mode = ctx->mode->value;
	char *mem = sd_mmap_or_fail(16 * sd_page, PROT_READ | PROT_WRITE);
	struct odpt_hmm_stats st;
	int fd = sd_mirror_or_fail(mem, 8 * sd_page, mode);

	KT_ASSERT_ERR(sd_register(fd, mem, 8 * sd_page, mode, NULL), -EBUSY);
	KT_ASSERT_ERR(sd_register(fd, sd_pg(mem, 8), 8 * sd_page, mode, NULL), -EBUSY);
	KT_ASSERT_ERR(sd_register(fd, mem, 16 * sd_page, mode, NULL), -EBUSY);
	KT_ASSERT_ERR(sd_register(fd, mem, 8 * sd_page,
				  mode == ODPT_HMM_MODE_PAGE ? ODPT_HMM_MODE_SG : ODPT_HMM_MODE_PAGE,
				  NULL), -EBUSY);
	st = sd_stats_or_fail(fd);
	KT_ASSERT_EQ(st.mode, mode);
	KT_ASSERT_EQ(st.npages, 8);
	/* The first range is still the one mirrored. */
	KT_ASSERT_ERR(sd_fault(fd, sd_pg(mem, 8), sd_page, 0, NULL), -ERANGE);
	KT_ASSERT_OK(sd_map(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	close(fd);
}

KT_TEST_MODES(range_outside)
{
	uint32_t mode = ctx->mode->value;
	char *mem = sd_mmap_or_fail(16 * sd_page, PROT_READ | PROT_WRITE);
	char *reg = sd_pg(mem, 4);
	int fd = sd_mirror_or_fail(reg, 8 * sd_page, mode);
	static const struct {
		long first, n;
	} outside[] = {
		{ -4, 1 }, { -1, 1 }, { -1, 2 }, { 7, 2 }, { 8, 1 }, { 11, 1 }, { -4, 16 }, { 0, 9 },
	};
	uint64_t pfns[32];

	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		char *a = reg + outside[i].first * (long)sd_page;
		uint64_t len = (uint64_t)outside[i].n * sd_page;

		kt_stage("pages [%ld, %ld) of a range [0, 8)", outside[i].first,
			 outside[i].first + outside[i].n);
		KT_ASSERT_ERR(sd_fault(fd, a, len, 0, NULL), -ERANGE);
		KT_ASSERT_ERR(sd_fault(fd, a, len, ODPT_HMM_FAULT_WRITE, NULL), -ERANGE);
		KT_ASSERT_ERR(sd_map(fd, a, len, ODPT_HMM_FAULT_WRITE, NULL), -ERANGE);
		/* sg refuses NOFAULT before looking at the range. */
		KT_ASSERT_ERR(sd_map(fd, a, len, ODPT_HMM_MAP_NOFAULT, NULL),
			      mode == ODPT_HMM_MODE_SG ? -EINVAL : -ERANGE);
		KT_ASSERT_ERR(sd_unmap(fd, a, len, NULL), -ERANGE);
		KT_ASSERT_ERR(sd_flags(fd, a, len, 0, pfns, 32, NULL), -ERANGE);
	}
	kt_stage("unaligned or empty sub-ranges");
	KT_ASSERT_ERR(sd_fault(fd, reg + 1, sd_page, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_fault(fd, reg, sd_page + 1, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_fault(fd, reg, 0, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_map(fd, reg + 8, sd_page, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_map(fd, reg, 0, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_unmap(fd, reg, 3, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_unmap(fd, reg, 0, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_flags(fd, reg + 16, sd_page, 0, pfns, 32, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_flags(fd, reg, 0, 0, pfns, 32, NULL), -EINVAL);
	kt_stage("FLAGS array too small");
	KT_ASSERT_ERR(sd_flags(fd, reg, 8 * sd_page, 0, pfns, 7, NULL), -EINVAL);
	KT_ASSERT_ERR(sd_flags(fd, reg, 8 * sd_page, 0, pfns, 0, NULL), -EINVAL);
	kt_stage("addr + len wraps inside an op");
	{
		int r = sd_fault(fd, reg, (uint64_t)0 - (uintptr_t)reg, 0, NULL);

		/* Header: -ERANGE for outside the range; a wrap is outside. */
		KT_ASSERT_ERR(r, -ERANGE);
		r = sd_map(fd, reg, (uint64_t)0 - sd_page, 0, NULL);
		KT_ASSERT_ERR(r, -ERANGE);
	}
	kt_stage("the whole range and each edge page work");
	KT_ASSERT_OK(sd_map(fd, reg, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	KT_ASSERT_OK(sd_unmap(fd, reg, sd_page, NULL));
	KT_ASSERT_OK(sd_unmap(fd, sd_pg(reg, 7), sd_page, NULL));
	KT_ASSERT_OK(sd_unmap(fd, reg, 8 * sd_page, NULL));
	close(fd);
}

KT_TEST_MODES(unmapped_range)
{
	uint32_t mode = ctx->mode->value;
	char *mem = sd_mmap_or_fail(16 * sd_page, PROT_READ | PROT_WRITE);
	struct odpt_hmm_map m;
	int fd = sd_mirror_or_fail(mem, 16 * sd_page, mode);

	memset(mem, 0x5a, 16 * sd_page);
	KT_ASSERT_EQ(munmap(sd_pg(mem, 4), 4 * sd_page), 0);
	kt_stage("fault over a hole");
	KT_ASSERT_ERR(sd_fault(fd, mem, 16 * sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_fault(fd, mem, 16 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_fault(fd, sd_pg(mem, 5), sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_map(fd, mem, 16 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_map(fd, sd_pg(mem, 4), 4 * sd_page, 0, NULL), -EFAULT);
	kt_stage("the mapped parts still work");
	KT_ASSERT_OK(sd_fault(fd, mem, 4 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	KT_ASSERT_OK(sd_map(fd, sd_pg(mem, 8), 8 * sd_page, ODPT_HMM_FAULT_WRITE, &m));
	KT_ASSERT_EQ(m.npages_mapped, 8);
	KT_ASSERT_OK(sd_unmap(fd, mem, 16 * sd_page, NULL));
	kt_stage("whole range unmapped");
	KT_ASSERT_EQ(munmap(mem, 16 * sd_page), 0);
	KT_ASSERT_ERR(sd_fault(fd, mem, sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_map(fd, mem, sd_page, 0, NULL), -EFAULT);
	close(fd);
}

KT_TEST_MODES(prot_none)
{
	uint32_t mode = ctx->mode->value;
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_NONE);
	struct odpt_hmm_flags f;
	struct odpt_hmm_map m;
	uint64_t pfns[8];
	int fd = sd_mirror_or_fail(mem, 8 * sd_page, mode);

	kt_stage("fault and map PROT_NONE");
	KT_ASSERT_ERR(sd_fault(fd, mem, 8 * sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_fault(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_map(fd, mem, 8 * sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_map(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EFAULT);
	KT_ASSERT_OK(sd_flags(fd, mem, 8 * sd_page, 0, pfns, 8, &f));
	KT_ASSERT_EQ(f.nvalid, 0);
	KT_ASSERT_EQ(f.nmapped, 0);
	kt_stage("touched, then PROT_NONE");
	KT_ASSERT_EQ(mprotect(mem, 8 * sd_page, PROT_READ | PROT_WRITE), 0);
	memset(mem, 1, 8 * sd_page);
	KT_ASSERT_OK(sd_map(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, &m));
	KT_ASSERT_EQ(m.npages_mapped, 8);
	KT_ASSERT_EQ(mprotect(sd_pg(mem, 2), 2 * sd_page, PROT_NONE), 0);
	/* mprotect invalidated pages 2-3: their mappings are gone. */
	KT_ASSERT_OK(sd_flags(fd, mem, 8 * sd_page, 0, pfns, 8, &f));
	KT_ASSERT(!(pfns[2] & ODPT_HMM_PFN_DMA_MAPPED));
	KT_ASSERT(!(pfns[3] & ODPT_HMM_PFN_DMA_MAPPED));
	KT_ASSERT_ERR(sd_fault(fd, sd_pg(mem, 2), sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_ERR(sd_map(fd, mem, 8 * sd_page, 0, NULL), -EFAULT);
	KT_ASSERT_OK(sd_unmap(fd, mem, 8 * sd_page, NULL));
	close(fd);
}

KT_TEST_MODES(write_readonly)
{
	uint32_t mode = ctx->mode->value;
	char *mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE);
	struct odpt_hmm_flags f;
	struct odpt_hmm_map m;
	uint64_t pfns[8];
	int fd;

	memset(mem, 0x33, 8 * sd_page);
	KT_ASSERT_EQ(mprotect(mem, 8 * sd_page, PROT_READ), 0);
	fd = sd_mirror_or_fail(mem, 8 * sd_page, mode);
	kt_stage("write fault on PROT_READ");
	KT_ASSERT_ERR(sd_fault(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EPERM);
	KT_ASSERT_ERR(sd_fault(fd, sd_pg(mem, 7), sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EPERM);
	KT_ASSERT_ERR(sd_map(fd, mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EPERM);
	kt_stage("read fault on PROT_READ");
	KT_ASSERT_OK(sd_fault(fd, mem, 8 * sd_page, 0, NULL));
	KT_ASSERT_OK(sd_flags(fd, mem, 8 * sd_page, 0, pfns, 8, &f));
	KT_ASSERT_EQ(f.npages, 8);
	KT_ASSERT_EQ(f.nvalid, 8);
	KT_ASSERT_EQ(f.nwrite, 0);
	for (int i = 0; i < 8; i++) {
		KT_ASSERT(pfns[i] & ODPT_HMM_PFN_VALID);
		KT_ASSERT(!(pfns[i] & ODPT_HMM_PFN_WRITE));
	}
	KT_ASSERT_OK(sd_map(fd, mem, 8 * sd_page, 0, &m));
	KT_ASSERT_EQ(m.npages_mapped + m.npages_already, 8);
	KT_ASSERT_OK(sd_flags(fd, mem, 8 * sd_page, 0, pfns, 8, &f));
	KT_ASSERT_EQ(f.nmapped, 8);
	KT_ASSERT_EQ(f.nwrite, 0);
	if (sd_env.info.can_verify) {
		kt_stage("device write through a read-only mapping is refused");
		KT_ASSERT_ERR(sd_verify(fd, mem, 8 * sd_page, ODPT_HMM_VERIFY_WRITE, 1, 0, NULL),
			      -EPERM);
	}
	KT_ASSERT_OK(sd_unmap(fd, mem, 8 * sd_page, NULL));
	close(fd);
}

/* ---- an fd used from another mm ---- */

struct foreign_arg {
	int fd_reg;		/* registered and mapped by the opener */
	int fd_fresh;		/* opened by the opener, not registered */
	char *mem;
	char *own;		/* memory of the foreign process itself */
};

static void foreign_ops(void *p)
{
	struct foreign_arg *a = p;
	struct odpt_hmm_global g;
	struct odpt_hmm_dev_info di;
	uint64_t pfns[8];
	uint32_t v;

	kt_stage("per-mirror ops from another mm");
	KT_ASSERT_ERR(sd_fault(a->fd_reg, a->mem, 8 * sd_page, 0, NULL), -EPERM);
	KT_ASSERT_ERR(sd_fault(a->fd_reg, a->mem, sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EPERM);
	KT_ASSERT_ERR(sd_map(a->fd_reg, a->mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL), -EPERM);
	KT_ASSERT_ERR(sd_map(a->fd_reg, a->mem, 8 * sd_page, ODPT_HMM_MAP_NOFAULT, NULL), -EPERM);
	KT_ASSERT_ERR(sd_unmap(a->fd_reg, a->mem, 8 * sd_page, NULL), -EPERM);
	KT_ASSERT_ERR(sd_flags(a->fd_reg, a->mem, 8 * sd_page, 0, pfns, 8, NULL), -EPERM);
	KT_ASSERT_ERR(sd_verify(a->fd_reg, a->mem, 8 * sd_page, 0, 1, 0, NULL), -EPERM);
	KT_ASSERT_ERR(sd_register(a->fd_fresh, a->own, 8 * sd_page, ODPT_HMM_MODE_PAGE, NULL),
		      -EPERM);
	KT_ASSERT_ERR(sd_register(a->fd_fresh, a->mem, 8 * sd_page, ODPT_HMM_MODE_PAGE, NULL),
		      -EPERM);
	kt_stage("global ops from another mm");
	KT_ASSERT_OK(sd_version(a->fd_reg, &v));
	KT_ASSERT_EQ(v, ODPT_HMM_ABI_VERSION);
	KT_ASSERT_OK(sd_global(a->fd_reg, &g));
	KT_ASSERT_OK(sd_dev_info(a->fd_fresh, &di));
}

static void foreign_check_owner_still_works(struct foreign_arg *a, uint32_t mode)
{
	struct odpt_hmm_map m;
	struct odpt_hmm_flags f;
	uint64_t pfns[8];

	kt_stage("the opener's mirror still works");
	memset(a->mem, 0x44, 8 * sd_page);
	/* sg refuses a second mapping over a live one: start from nothing. */
	KT_ASSERT_OK(sd_unmap(a->fd_reg, a->mem, 8 * sd_page, NULL));
	KT_ASSERT_OK(sd_map(a->fd_reg, a->mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, &m));
	KT_ASSERT_EQ(m.npages_mapped, 8);
	KT_ASSERT_OK(sd_flags(a->fd_reg, a->mem, 8 * sd_page, 0, pfns, 8, &f));
	KT_ASSERT_EQ(f.nmapped, 8);
	KT_ASSERT_OK(sd_unmap(a->fd_reg, a->mem, 8 * sd_page, NULL));
	KT_ASSERT_OK(sd_register(a->fd_fresh, a->own, 8 * sd_page, mode, NULL));
}

KT_TEST_MODES(fd_forked_child)
{
	struct foreign_arg a = {
		.mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE),
		.own = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE),
	};

	memset(a.mem, 0x11, 8 * sd_page);
	a.fd_reg = sd_mirror_or_fail(a.mem, 8 * sd_page, ctx->mode->value);
	a.fd_fresh = sd_open_or_fail();
	KT_ASSERT_OK(sd_map(a.fd_reg, a.mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	sd_child_run("fork child using the parent's fds", foreign_ops, &a);
	foreign_check_owner_still_works(&a, ctx->mode->value);
	close(a.fd_reg);
	close(a.fd_fresh);
}

KT_TEST_MODES(fd_passed_to_other_process)
{
	struct foreign_arg a = {
		.mem = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE),
		.own = sd_mmap_or_fail(8 * sd_page, PROT_READ | PROT_WRITE),
	};
	int sv[2], status, fds[2];
	pid_t pid;

	KT_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Forked before the device is opened: it inherits no fd. */
	pid = fork();
	KT_ASSERT(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		kt_stage("receiver: waiting for the fds");
		KT_ASSERT_OK(sd_recv_fds(sv[1], fds, 2));
		a.fd_reg = fds[0];
		a.fd_fresh = fds[1];
		foreign_ops(&a);
		_exit(0);
	}
	close(sv[1]);
	memset(a.mem, 0x22, 8 * sd_page);
	a.fd_reg = sd_mirror_or_fail(a.mem, 8 * sd_page, ctx->mode->value);
	a.fd_fresh = sd_open_or_fail();
	KT_ASSERT_OK(sd_map(a.fd_reg, a.mem, 8 * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	fds[0] = a.fd_reg;
	fds[1] = a.fd_fresh;
	kt_stage("sending the fds");
	KT_ASSERT_OK(sd_send_fds(sv[0], fds, 2));
	kt_stage("waiting for the receiver");
	KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	KT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	foreign_check_owner_still_works(&a, ctx->mode->value);
	close(a.fd_reg);
	close(a.fd_fresh);
	close(sv[0]);
}

/* The opener exits while another process holds its file: the RELEASE
 * invalidation must have unmapped everything before the file is closed. */
KT_TEST_MODES(opener_exits_fd_kept)
{
	char *mem = sd_mmap_or_fail(32 * sd_page, PROT_READ | PROT_WRITE);
	struct odpt_hmm_global g;
	int sv[2], status, fd, r;
	pid_t pid;

	KT_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	KT_ASSERT(pid >= 0);
	if (pid == 0) {
		struct odpt_hmm_map m;

		/* Its own copy of mem, at the same address as the parent's. */
		close(sv[0]);
		memset(mem, 0x66, 32 * sd_page);
		fd = sd_mirror_or_fail(mem, 32 * sd_page, ctx->mode->value);
		KT_ASSERT_OK(sd_map(fd, mem, 32 * sd_page, ODPT_HMM_FAULT_WRITE, &m));
		KT_ASSERT_EQ(m.npages_mapped, 32);
		KT_ASSERT_OK(sd_send_fds(sv[1], &fd, 1));
		/* Exit with the mirror mapped and the file still open elsewhere. */
		_exit(0);
	}
	close(sv[1]);
	kt_stage("receiving the opener's fd");
	KT_ASSERT_OK(sd_recv_fds(sv[0], &fd, 1));
	KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	KT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kt_stage("opener gone, file open here");
	g = sd_global_or_fail();
	KT_ASSERT_EQ(g.mirrors, 1);
	KT_ASSERT_EQ(g.live_mappings, 0);
	KT_ASSERT_EQ(g.mapped_bytes, 0);
	KT_ASSERT_EQ(g.sg_tables_live, 0);
	r = sd_fault(fd, mem, sd_page, 0, NULL);
	/* Another mm (-EPERM) whose opener is also gone (-ESRCH): both documented. */
	kt_diag("op on a file whose opener exited: %s", kt_errname(r));
	KT_ASSERT(r == -EPERM || r == -ESRCH);
	KT_ASSERT_ERR(sd_map(fd, mem, sd_page, 0, NULL), r);
	KT_ASSERT_ERR(sd_unmap(fd, mem, sd_page, NULL), r);
	close(fd);
	close(sv[0]);
}
