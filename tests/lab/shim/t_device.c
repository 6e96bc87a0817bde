// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The DMA device's life under the mirrors, edu only (each test SKIPs on
 * another device): the probe's dma_mask self-test really ran; two processes VERIFYing at once on different mirrors
 * must each see their own data (one owner of edu's engine and check buffer
 * at a time); removing edu through sysfs with live mappings in every mode
 * and ioctls in flight undoes every mapping at once, leaves the open files
 * dead (-ENODEV) and the leak counters clean, and a PCI re-scan gives new
 * files a working device again; a transfer that times out (edu_timeout_ms
 * made tiny while the engine runs) takes edu off the bus and refuses DMA
 * until the device is probed again.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARAM_DIR "/sys/module/odpt_hmm/parameters/"

static void need_edu(void)
{
	if (sd_env.info.device_kind != ODPT_HMM_DEV_EDU || !sd_env.info.can_verify)
		kt_skip("device is not edu (no DMA engine, nothing to remove)");
}

/* 0 or -errno. */
static int write_file(const char *path, const char *text)
{
	ssize_t len = (ssize_t)strlen(text), w;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	w = write(fd, text, (size_t)len);
	if (w != len) {
		int e = w < 0 ? -errno : -EIO;

		close(fd);
		return e;
	}
	return close(fd) ? -errno : 0;
}

/* A module-wide counter in debugfs; fails the test when unreadable. */
static long long read_counter(const char *name)
{
	uint64_t v;
	int e = sd_counter_u64(name, &v);

	if (e)
		KT_FAIL("cannot read odpt_hmm counter %s/%s: %s (module too old, or no debugfs?)",
			SD_DEBUGFS_DIR, name, kt_errname(e));
	return (long long)v;
}

static void pci_path(char *buf, size_t len, const char *leaf)
{
	snprintf(buf, len, "/sys/bus/pci/devices/%s/%s", sd_env.info.name, leaf);
}

/* PCI_COMMAND bit 2: bus master enable; -1 if unreadable. */
static int bus_master(void)
{
	unsigned char cfg[6];
	char path[256];
	int fd, r;

	pci_path(path, sizeof(path), "config");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = (int)pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	return r == (int)sizeof(cfg) ? !!(cfg[4] & 0x4) : -1;
}

static void edu_remove(void)
{
	char path[256];
	uint64_t t0 = kt_now_ns();

	pci_path(path, sizeof(path), "remove");
	kt_stage("echo 1 > %s", path);
	KT_ASSERT_OK(write_file(path, "1"));
	kt_diag("removing %s took %llu ms", sd_env.info.name,
		(unsigned long long)((kt_now_ns() - t0) / 1000000));
}

/* Re-scan the bus and wait until odpt_hmm has bound edu again. */
static void edu_rescan(void)
{
	uint64_t deadline = kt_now_ns() + 20ull * 1000000000ull;
	char path[256], kind[32];
	struct stat st;

	kt_stage("echo 1 > /sys/bus/pci/rescan, then wait for the driver");
	KT_ASSERT_OK(write_file("/sys/bus/pci/rescan", "1"));
	pci_path(path, sizeof(path), "driver");
	for (;;) {
		(void)sd_read_line(PARAM_DIR "device_kind", kind, sizeof(kind));
		if (stat(path, &st) == 0 && !strcmp(kind, "edu"))
			break;
		if (kt_now_ns() > deadline)
			KT_FAIL("%s not bound 20 s after the re-scan (device_kind '%s')",
				sd_env.info.name, kind);
		usleep(20000);
	}
}

/* A fresh mirror on the (re-probed) device verifies and writes. */
static void check_device_works(const char *when)
{
	const size_t n = 4;
	struct odpt_hmm_dev_info di;
	struct odpt_hmm_verify v;
	char *mem;
	int fd;

	kt_stage("a new file works %s", when);
	mem = sd_mmap_or_fail(n * sd_page, PROT_READ | PROT_WRITE);
	memset(mem, 0x3c, n * sd_page);
	fd = sd_mirror_or_fail(mem, n * sd_page, ODPT_HMM_MODE_HMM);
	KT_ASSERT_OK(sd_dev_info(fd, &di));
	KT_ASSERT_EQ(di.device_kind, ODPT_HMM_DEV_EDU);
	KT_ASSERT(!strncmp(di.name, sd_env.info.name, sizeof(di.name)));
	KT_ASSERT_OK(sd_map(fd, mem, n * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	KT_ASSERT_OK(sd_verify(fd, mem, n * sd_page, 0, n, 0, &v));
	KT_ASSERT_EQ(v.pages_matched, n);
	KT_ASSERT_OK(sd_verify(fd, mem, n * sd_page, ODPT_HMM_VERIFY_WRITE, n, 9, &v));
	KT_ASSERT_EQ(v.pages_matched, n);
	close(fd);
	munmap(mem, n * sd_page);
}

/* The probe's dma_mask self-test found an address above 2^28 to test with
 * (else a guest without dma_mask= would go unnoticed). */
KT_TEST(edu_dma_mask_checked)
{
	char buf[8];

	need_edu();
	(void)sd_read_line(PARAM_DIR "edu_dma_mask_checked", buf, sizeof(buf));
	if (strcmp(buf, "Y"))
		KT_FAIL("edu_dma_mask_checked is '%s': the probe did not test edu's DMA above 2^28"
			" (see dmesg)", buf);
}

/* ---- two VERIFYs at once ------------------------------------------------ */

#define CV_PAGES	4
#define CV_ROUNDS	3

/* The words VERIFY_WRITE puts in the page at va (the header's pattern). */
static uint64_t pattern_word(uint64_t seed, uint64_t va, size_t j)
{
	return seed ^ (va + 8 * j);
}

static void verify_own_data(const char *who, uint32_t mode, uint64_t seed0, int go_fd)
{
	const size_t n = CV_PAGES, words = sd_page / 8;
	struct odpt_hmm_verify v;
	unsigned int r;
	char *mem, c;
	size_t i, j;
	int fd;

	mem = sd_mmap_or_fail(n * sd_page, PROT_READ | PROT_WRITE);
	for (i = 0; i < n; i++)
		memset(sd_pg(mem, i), (int)((seed0 >> 8) + i), sd_page);
	fd = sd_mirror_or_fail(mem, n * sd_page, mode);
	KT_ASSERT_OK(sd_map(fd, mem, n * sd_page, ODPT_HMM_FAULT_WRITE, NULL));
	/* Start together with the other process. */
	if (go_fd >= 0)
		KT_ASSERT_EQ(read(go_fd, &c, 1), 1);
	for (r = 0; r < CV_ROUNDS; r++) {
		uint64_t seed = seed0 + r;
		size_t bad = 0, bad_page = 0;

		kt_stage("%s round %u: VERIFY", who, r);
		KT_ASSERT_OK(sd_verify(fd, mem, n * sd_page, 0, n, 0, &v));
		KT_ASSERT_EQ(v.pages_checked, n);
		if (v.pages_matched != n)
			KT_FAIL("%s round %u: VERIFY matched %llu of %zu pages (first bad 0x%llx):"
				" the check buffer held another VERIFY's data", who, r,
				(unsigned long long)v.pages_matched, n,
				(unsigned long long)v.first_bad_addr);
		kt_stage("%s round %u: VERIFY_WRITE", who, r);
		KT_ASSERT_OK(sd_verify(fd, mem, n * sd_page, ODPT_HMM_VERIFY_WRITE, n, seed, &v));
		KT_ASSERT_EQ(v.pages_checked, n);
		for (i = 0; i < n; i++) {
			const uint64_t *w = (const uint64_t *)sd_pg(mem, i);
			uint64_t va = (uint64_t)(uintptr_t)sd_pg(mem, i);
			size_t page_bad = 0;

			for (j = 0; j < words; j++)
				page_bad += w[j] != pattern_word(seed, va, j);
			if (page_bad && !bad)
				bad_page = i;
			bad += page_bad;
		}
		if (bad)
			KT_FAIL("%s round %u: after VERIFY_WRITE %zu words of %zu pages are not"
				" its pattern (first: page %zu holds 0x%llx): the device wrote"
				" another VERIFY's data into this process's memory", who, r, bad,
				n, bad_page,
				(unsigned long long)*(const uint64_t *)sd_pg(mem, bad_page));
		if (v.pages_matched != n)
			KT_FAIL("%s round %u: VERIFY_WRITE matched %llu of %zu pages", who, r,
				(unsigned long long)v.pages_matched, n);
	}
	close(fd);
}

KT_TEST_FULL(verify_concurrent, 180, false, 0)
{
	int go[2], status;
	pid_t pid;

	need_edu();
	KT_ASSERT_EQ(pipe(go), 0);
	pid = fork();
	KT_ASSERT(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		verify_own_data("child (mode page)", ODPT_HMM_MODE_PAGE, 0xb0b0000000000000ull,
				go[0]);
		_exit(0);
	}
	close(go[0]);
	/* Both start their rounds together. */
	KT_ASSERT_EQ(write(go[1], "g", 1), 1);
	verify_own_data("parent (mode hmm)", ODPT_HMM_MODE_HMM, 0xa11ce00000000000ull, -1);
	KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	KT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- removal with live mappings and ioctls in flight ---------------------- */

#define RM_PAGES	64

struct inflight {
	int fd;
	char *mem;
	bool verify;		/* VERIFY loop, else UNMAP+MAP loop */
	atomic_bool stop;
	atomic_bool done;
	int last_err;		/* the error that ended the loop */
	unsigned long calls;
};

static void *inflight_loop(void *arg)
{
	struct inflight *f = arg;
	const uint64_t len = RM_PAGES * sd_page;
	int ret = 0;

	while (!atomic_load(&f->stop)) {
		if (f->verify) {
			ret = sd_verify(f->fd, f->mem, len, 0, 8, 0, NULL);
		} else {
			ret = sd_unmap(f->fd, f->mem, len, NULL);
			if (!ret)
				ret = sd_map(f->fd, f->mem, len, ODPT_HMM_FAULT_WRITE, NULL);
		}
		if (ret)
			break;
		f->calls++;
	}
	f->last_err = ret;
	atomic_store(&f->done, true);
	return NULL;
}

KT_TEST_FULL(edu_remove_rescan, 240, false, 1)
{
	static const uint32_t modes[] = { ODPT_HMM_MODE_HMM, ODPT_HMM_MODE_PAGE,
					  ODPT_HMM_MODE_SG };
	const uint64_t len = RM_PAGES * sd_page;
	struct inflight fl[2] = {
		{ .verify = true }, { .verify = false },
	};
	struct odpt_hmm_dev_info di;
	struct odpt_hmm_global g;
	struct odpt_hmm_stats st;
	struct odpt_hmm_verify v;
	char kind[32], *mem[3];
	pthread_t th[2];
	uint64_t pfns[RM_PAGES];
	int fd[3], nfd, k;

	need_edu();
	for (k = 0; k < 3; k++) {
		kt_stage("mirror %d: map %d pages", k, RM_PAGES);
		mem[k] = sd_mmap_or_fail(len, PROT_READ | PROT_WRITE);
		memset(mem[k], 0x40 + k, len);
		fd[k] = sd_mirror_or_fail(mem[k], len, modes[k]);
		KT_ASSERT_OK(sd_map(fd[k], mem[k], len, ODPT_HMM_FAULT_WRITE, NULL));
		KT_ASSERT_OK(sd_verify(fd[k], mem[k], len, 0, 1, 0, &v));
		KT_ASSERT_EQ(v.pages_matched, 1);
	}
	g = sd_global_or_fail();
	KT_ASSERT_EQ(g.live_mappings, 3 * RM_PAGES);

	kt_stage("start a VERIFY loop and an UNMAP+MAP loop");
	for (k = 0; k < 2; k++) {
		fl[k].fd = fd[k];
		fl[k].mem = mem[k];
		KT_ASSERT_EQ(pthread_create(&th[k], NULL, inflight_loop, &fl[k]), 0);
	}
	usleep(400000);
	edu_remove();
	/* Each loop must end on its own (the removal's error); a loop still
	 * succeeding 10 s later is stopped and fails below. */
	for (k = 0; k < 200 && !(atomic_load(&fl[0].done) && atomic_load(&fl[1].done)); k++)
		usleep(50000);
	for (k = 0; k < 2; k++) {
		atomic_store(&fl[k].stop, true);
		KT_ASSERT_EQ(pthread_join(th[k], NULL), 0);
		kt_diag("%s loop: %lu calls, then %s", fl[k].verify ? "VERIFY" : "UNMAP+MAP",
			fl[k].calls, kt_errname(fl[k].last_err));
		KT_ASSERT_ERR(fl[k].last_err, -ENODEV);
	}

	kt_stage("every mapping undone by the removal, files still open");
	g = sd_global_or_fail();
	KT_ASSERT_EQ(g.live_mappings, 0);
	KT_ASSERT_EQ(g.iova_reserved_bytes, 0);
	KT_ASSERT_EQ(g.sg_tables_live, 0);
	KT_ASSERT_EQ(g.registered, 3);
	(void)sd_read_line(PARAM_DIR "device_kind", kind, sizeof(kind));
	KT_ASSERT(!strcmp(kind, "none"));

	kt_stage("the old files are dead");
	for (k = 0; k < 3; k++) {
		KT_ASSERT_ERR(sd_map(fd[k], mem[k], len, 0, NULL), -ENODEV);
		KT_ASSERT_ERR(sd_unmap(fd[k], mem[k], len, NULL), -ENODEV);
		KT_ASSERT_ERR(sd_fault(fd[k], mem[k], len, 0, NULL), -ENODEV);
		KT_ASSERT_ERR(sd_flags(fd[k], mem[k], len, 0, pfns, RM_PAGES, NULL), -ENODEV);
		KT_ASSERT_ERR(sd_verify(fd[k], mem[k], len, 0, 1, 0, NULL), -ENODEV);
		KT_ASSERT_ERR(sd_dev_info(fd[k], &di), -ENODEV);
		KT_ASSERT_OK(sd_stats(fd[k], 0, &st));
		KT_ASSERT_EQ(st.mapped_pages, 0);
	}
	kt_stage("invalidations of dead mirrors");
	KT_ASSERT_EQ(madvise(mem[0], len, MADV_DONTNEED), 0);
	KT_ASSERT_EQ(munmap(mem[2], len), 0);

	kt_stage("a file opened with no device");
	nfd = sd_open_or_fail();
	KT_ASSERT_ERR(sd_dev_info(nfd, &di), -ENODEV);
	KT_ASSERT_ERR(sd_register(nfd, mem[1], len, ODPT_HMM_MODE_HMM, NULL), -ENODEV);
	KT_ASSERT_OK(sd_global(nfd, &g));
	close(nfd);
	close(fd[1]);
	close(fd[2]);

	edu_rescan();
	kt_stage("an old file stays dead after the re-scan");
	KT_ASSERT_ERR(sd_map(fd[0], mem[0], len, 0, NULL), -ENODEV);
	KT_ASSERT_ERR(sd_verify(fd[0], mem[0], len, 0, 1, 0, NULL), -ENODEV);
	check_device_works("after the re-scan");
	close(fd[0]);

	kt_stage("everything closed: counters clean");
	g = sd_global_or_fail();
	KT_ASSERT_EQ(g.mirrors, 0);
	KT_ASSERT_EQ(g.registered, 0);
	KT_ASSERT_EQ(g.live_mappings, 0);
	KT_ASSERT_EQ(g.iova_reserved_bytes, 0);
	KT_ASSERT_EQ(g.sg_tables_live, 0);
	KT_ASSERT_EQ(g.bookkeeping_bytes, 0);
	KT_ASSERT_EQ(read_counter("release_leaked_pages"), 0);
	KT_ASSERT_EQ(read_counter("stale_mapped_entries"), 0);
}

/* ---- a transfer that times out ------------------------------------------ */

KT_TEST_FULL(edu_timeout, 180, false, 1)
{
	const size_t n = 4;
	struct odpt_hmm_verify v;
	long long t0;
	char *mem;
	int fd, r;

	need_edu();
	t0 = read_counter("edu_dma_timeouts");
	KT_ASSERT_EQ(bus_master(), 1);
	mem = sd_mmap_or_fail(n * sd_page, PROT_READ | PROT_WRITE);
	memset(mem, 0x77, n * sd_page);
	fd = sd_mirror_or_fail(mem, n * sd_page, ODPT_HMM_MODE_PAGE);
	KT_ASSERT_OK(sd_map(fd, mem, n * sd_page, ODPT_HMM_FAULT_WRITE, NULL));

	kt_stage("VERIFY with edu_timeout_ms=1 (edu needs ~100 ms)");
	KT_ASSERT_OK(write_file(PARAM_DIR "edu_timeout_ms", "1"));
	r = sd_verify(fd, mem, n * sd_page, 0, 1, 0, &v);
	KT_ASSERT_OK(write_file(PARAM_DIR "edu_timeout_ms", "5000"));
	KT_ASSERT_ERR(r, -ETIMEDOUT);
	KT_ASSERT_EQ(read_counter("edu_dma_timeouts"), t0 + 1);
	kt_stage("the engine is given up: off the bus, no more DMA");
	KT_ASSERT_EQ(bus_master(), 0);
	KT_ASSERT_ERR(sd_verify(fd, mem, n * sd_page, 0, 1, 0, NULL), -EIO);
	/* The pages go while the transfer may still run: with bus mastering
	 * off it cannot reach them (nor whoever gets them next). */
	kt_stage("unmap and free the pages under the stopped transfer");
	KT_ASSERT_OK(sd_unmap(fd, mem, n * sd_page, NULL));
	KT_ASSERT_EQ(munmap(mem, n * sd_page), 0);
	close(fd);
	usleep(300000);

	edu_remove();
	edu_rescan();
	KT_ASSERT_EQ(bus_master(), 1);
	check_device_works("after remove and re-scan");
}
