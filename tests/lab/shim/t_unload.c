// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Module unload while a file is open: delete_module must refuse with
 * EWOULDBLOCK (the file pins the module through its fops owner) while this
 * process or a forked child holds the file, with live DMA mappings, and
 * succeed once the last holder is gone; the device node goes with it. The
 * module is loaded again from --kmod so the tests and tools after this one
 * find it. Runs last.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int delete_module(unsigned int flags)
{
	return syscall(SYS_delete_module, "odpt_hmm", flags) ? -errno : 0;
}

static bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static bool wait_path(const char *p, bool present, unsigned int ms)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)ms * 1000000ull;

	while (path_exists(p) != present) {
		if (kt_now_ns() > deadline)
			return false;
		usleep(10000);
	}
	return true;
}

KT_TEST_FULL(unload_while_open, 120, false, 2)
{
	const size_t n = 32;
	struct odpt_hmm_global g;
	struct odpt_hmm_map m;
	int fd, kfd, sv[2], status;
	char *mem;
	pid_t pid;
	char c;

	if (!kt_opts.kmod_path)
		kt_skip("no --kmod PATH: the module could not be loaded again after unloading");
	kfd = open(kt_opts.kmod_path, O_RDONLY | O_CLOEXEC);
	if (kfd < 0)
		KT_FAIL("--kmod %s: %s", kt_opts.kmod_path, strerror(errno));

	mem = sd_mmap_or_fail(n * sd_page, PROT_READ | PROT_WRITE);
	memset(mem, 0x12, n * sd_page);
	fd = sd_mirror_or_fail(mem, n * sd_page, ODPT_HMM_MODE_HMM);
	KT_ASSERT_OK(sd_map(fd, mem, n * sd_page, ODPT_HMM_FAULT_WRITE, &m));
	KT_ASSERT_EQ(m.npages_mapped, n);

	kt_stage("delete_module with the file open and mapped");
	KT_ASSERT_ERR(delete_module(O_NONBLOCK), -EWOULDBLOCK);
	KT_ASSERT_ERR(delete_module(0), -EWOULDBLOCK);
	KT_ASSERT(path_exists("/sys/module/odpt_hmm"));
	KT_ASSERT(path_exists(ODPT_HMM_DEV_PATH));
	kt_stage("the refused unload changed nothing");
	KT_ASSERT_OK(sd_unmap(fd, mem, n * sd_page, NULL));
	KT_ASSERT_OK(sd_map(fd, mem, n * sd_page, ODPT_HMM_FAULT_WRITE, &m));
	KT_ASSERT_EQ(m.npages_mapped, n);
	g = sd_global_or_fail();
	KT_ASSERT_EQ(g.live_mappings, n);

	kt_stage("only a forked child holds the file");
	KT_ASSERT_EQ(pipe(sv), 0);
	pid = fork();
	KT_ASSERT(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		/* Hold the inherited fd until the parent closes the pipe. */
		while (read(sv[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(sv[0]);
	KT_ASSERT_EQ(close(fd), 0);
	KT_ASSERT_ERR(delete_module(O_NONBLOCK), -EWOULDBLOCK);
	close(sv[1]);
	KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	KT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	kt_stage("delete_module after the last close");
	KT_ASSERT_OK(delete_module(O_NONBLOCK));
	if (!wait_path(ODPT_HMM_DEV_PATH, false, 2000))
		KT_FAIL("%s still exists 2 s after unload", ODPT_HMM_DEV_PATH);
	KT_ASSERT(!path_exists("/sys/module/odpt_hmm"));

	kt_stage("load %s again", kt_opts.kmod_path);
	if (syscall(SYS_finit_module, kfd, "", 0))
		KT_FAIL("finit_module %s: %s", kt_opts.kmod_path, strerror(errno));
	close(kfd);
	if (!wait_path(ODPT_HMM_DEV_PATH, true, 5000))
		KT_FAIL("%s missing 5 s after reload", ODPT_HMM_DEV_PATH);
	/* A fresh module: every counter zero, whatever an earlier test leaked. */
	g = sd_global_raw_or_fail();
	KT_ASSERT_EQ(g.mirrors, 0);
	KT_ASSERT_EQ(g.registered, 0);
	KT_ASSERT_EQ(g.live_mappings, 0);
	KT_ASSERT_EQ(g.iova_reserved_bytes, 0);
	KT_ASSERT_EQ(g.bookkeeping_bytes, 0);
}
