// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt iommufd test`: iommufd's answers to bad and awkward requests, each
 * held to the exact errno the kernel's source gives (io_pagetable.c,
 * ioas.c, pages.c), each case in a forked child under a watchdog that names
 * the stage a hung case was in. Cases run against an IOAS with a selftest
 * mock device attached (so maps pin pages and the IOVA alignment and
 * aperture are the mock domain's); the memory-accounting cases drop to an
 * unprivileged uid so RLIMIT_MEMLOCK applies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/forkrun.h"
#include "odpt/report.h"
#include "iommufd_int.h"

/* An unprivileged uid no process normally runs as: its locked_vm starts at 0. */
#define CASE_UID 54321

struct forked_child {
	int (*fn)(struct ifd_case_out *o, const void *arg);
	const void *arg;
	struct ifd_case_out *o;   /* shared with the parent */
};

static void forked_child_run(void *p)
{
	struct forked_child *c = p;

	c->o->result = c->fn(c->o, c->arg);
}

/* On the core's fork-per-test runner (odpt/forkrun.h), as the suite and
 * the shim's test program; the verdicts and their wording are ours. */
int ifd_forked(int (*fn)(struct ifd_case_out *o, const void *arg), const void *arg, uint64_t timeout_ms,
	       struct ifd_case_out *res, uint64_t *duration_ns)
{
	struct odpt_fr fr = {
		.timeout_ns = timeout_ms * 1000000ULL,
		.kill_wait_ns = 5ULL * 1000000000ULL,
	};
	struct forked_child c = { .fn = fn, .arg = arg };
	void *mem;
	int ret = odpt_fr_shared_alloc(sizeof(*c.o), &mem);

	if (ret)
		return ret;
	c.o = mem;
	c.o->result = -1;
	snprintf(c.o->stage, sizeof(c.o->stage), "start");
	fflush(NULL);
	ret = odpt_fr_run(&fr, forked_child_run, &c);
	if (ret) {
		odpt_fr_shared_free(mem, sizeof(*c.o));
		return ret;
	}
	*res = *c.o;
	if (fr.end != ODPT_FR_EXITED) {
		res->result = ODPT_FAIL;
		snprintf(res->reason, sizeof(res->reason), "hung: killed after %" PRIu64
			 " ms in stage '%s'%s", timeout_ms, c.o->stage,
			 fr.reaped ? "" : " (and still alive: stuck in the kernel)");
	} else if (WIFSIGNALED(fr.status)) {
		res->result = ODPT_FAIL;
		snprintf(res->reason, sizeof(res->reason), "killed by signal %d in stage '%s'",
			 WTERMSIG(fr.status), c.o->stage);
	} else if (c.o->result < 0) {
		res->result = ODPT_FAIL;
		snprintf(res->reason, sizeof(res->reason), "exited (status %d) without a result in stage '%s'",
			 WIFEXITED(fr.status) ? WEXITSTATUS(fr.status) : -1, c.o->stage);
	}
	*duration_ns = fr.duration_ns;
	/* A child stuck in the kernel may still write its page: keep it. */
	if (fr.reaped)
		odpt_fr_shared_free(mem, sizeof(*c.o));
	return 0;
}

/* ---- helpers for the cases ------------------------------------------------ */

static void stage(struct ifd_case_out *o, const char *s)
{
	snprintf(o->stage, sizeof(o->stage), "%s", s);
}

static int why(struct ifd_case_out *o, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why(struct ifd_case_out *o, int result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
	return result;
}

static const char *ename(int ret)
{
	const char *n;

	if (!ret)
		return "success";
	n = strerrorname_np(-ret);
	return n ? n : "?";
}

/* got must be want (0 or -errno): PASS, else FAIL saying what came back. */
static int expect(struct ifd_case_out *o, const char *what, int got, int want)
{
	return why(o, got == want ? ODPT_PASS : ODPT_FAIL, "%s: %s (want %s)", what, ename(got),
		   ename(want));
}

struct env {
	struct ifd_ctx c;
	uint64_t base, last, align;   /* the mock aperture, the IOAS's alignment */
	uint8_t *buf;
	size_t len;
};

/* A context with the mock attached and a touched buffer of npages pages. */
static int env_open(struct ifd_case_out *o, const struct odpt_iommufd_test_cfg *cfg,
		    struct env *e, size_t npages)
{
	const char *st;
	uint32_t n = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	stage(o, "open /dev/iommu, IOAS, mock device");
	ret = ifd_ctx_open(cfg->dev, true, &e->c, &st);
	if (ret)
		return why(o, ODPT_FAIL, "%s: %s", st, ename(ret));
	stage(o, "IOVA ranges");
	ret = odpt_iommufd_iova_ranges(e->c.fd, e->c.ioas_id, NULL, &n, &e->align);
	if (!ret)
		ret = odpt_iommufd_mock_aperture(&e->base, &e->last);
	if (ret) {
		ifd_ctx_close(&e->c);
		return why(o, ODPT_FAIL, "IOMMU_IOAS_IOVA_RANGES: %s", ename(ret));
	}
	e->len = npages * ifd_page_size();
	e->buf = mmap(NULL, e->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->buf == MAP_FAILED) {
		ifd_ctx_close(&e->c);
		return why(o, ODPT_FAIL, "mmap: %s", strerror(errno));
	}
	memset(e->buf, 0x3c, e->len);
	return -1;	/* not a result: go on */
}

static void env_close(struct env *e)
{
	ifd_ctx_close(&e->c);
	if (e->buf && e->buf != MAP_FAILED)
		munmap(e->buf, e->len);
}

static int map_at(struct env *e, const void *va, uint64_t len, uint64_t iova)
{
	return odpt_iommufd_map(e->c.fd, e->c.ioas_id, va, len,
				ODPT_IOMMUFD_MAP_FIXED | ODPT_IOMMUFD_MAP_RW, &iova);
}

#define ENV(npages)                                                  \
	struct env e;                                                 \
	int res_ = env_open(o, arg, &e, npages);                      \
	if (res_ >= 0)                                                \
		return res_

/* ---- the cases ------------------------------------------------------------ */

static int c_map_unaligned_iova(struct ifd_case_out *o, const void *arg)
{
	int ret;
	ENV(2);

	if (e.align <= 1) {
		env_close(&e);
		return why(o, ODPT_SKIP, "the IOAS takes any IOVA (alignment %" PRIu64 ")", e.align);
	}
	stage(o, "IOMMU_IOAS_MAP at an unaligned IOVA");
	ret = map_at(&e, e.buf, e.len, e.base + e.align / 2);
	ret = expect(o, "MAP at aperture start + alignment/2", ret, -EINVAL);
	env_close(&e);
	return ret;
}

static int c_map_unaligned_length(struct ifd_case_out *o, const void *arg)
{
	int ret;
	ENV(2);

	if (e.align <= 1) {
		env_close(&e);
		return why(o, ODPT_SKIP, "the IOAS takes any length (alignment %" PRIu64 ")", e.align);
	}
	stage(o, "IOMMU_IOAS_MAP of a length not a multiple of the alignment");
	ret = map_at(&e, e.buf, ifd_page_size() + e.align / 2, e.base);
	ret = expect(o, "MAP of page + alignment/2 bytes", ret, -EINVAL);
	env_close(&e);
	return ret;
}

static int c_map_length_zero(struct ifd_case_out *o, const void *arg)
{
	int ret;
	ENV(1);

	stage(o, "IOMMU_IOAS_MAP of 0 bytes");
	ret = expect(o, "MAP of length 0", map_at(&e, e.buf, 0, e.base), -EINVAL);
	env_close(&e);
	return ret;
}

static int c_map_overlapping(struct ifd_case_out *o, const void *arg)
{
	size_t p = ifd_page_size();
	int ret;
	ENV(4);

	stage(o, "MAP [0, 2 pages)");
	ret = map_at(&e, e.buf, 2 * p, e.base);
	if (ret) {
		env_close(&e);
		return why(o, ODPT_FAIL, "first MAP: %s", ename(ret));
	}
	stage(o, "MAP [1, 3 pages) over it");
	ret = expect(o, "MAP overlapping a mapping by one page",
		     map_at(&e, e.buf + 2 * p, 2 * p, e.base + p), -EEXIST);
	env_close(&e);
	return ret;
}

static int c_map_outside_aperture(struct ifd_case_out *o, const void *arg)
{
	int ret;
	ENV(1);

	stage(o, "MAP below the mock's aperture");
	ret = expect(o, "MAP at IOVA 0 (the mock aperture starts at 16 MiB)",
		     map_at(&e, e.buf, e.len, 0), -EINVAL);
	env_close(&e);
	return ret;
}

static int c_unmap_never_mapped(struct ifd_case_out *o, const void *arg)
{
	int ret;
	ENV(1);

	stage(o, "UNMAP of a range never mapped");
	ret = expect(o, "UNMAP of 1 page nothing was mapped at",
		     odpt_iommufd_unmap(e.c.fd, e.c.ioas_id, e.base, ifd_page_size(), NULL),
		     -ENOENT);
	env_close(&e);
	return ret;
}

static int c_unmap_partial(struct ifd_case_out *o, const void *arg)
{
	size_t p = ifd_page_size();
	int ret;
	ENV(2);

	stage(o, "MAP 2 pages");
	ret = map_at(&e, e.buf, 2 * p, e.base);
	if (ret) {
		env_close(&e);
		return why(o, ODPT_FAIL, "MAP: %s", ename(ret));
	}
	stage(o, "UNMAP the second page only");
	ret = expect(o, "UNMAP of half a mapping (mappings are never split)",
		     odpt_iommufd_unmap(e.c.fd, e.c.ioas_id, e.base + p, p, NULL), -ENOENT);
	env_close(&e);
	return ret;
}

static int c_unmap_all(struct ifd_case_out *o, const void *arg)
{
	size_t p = ifd_page_size();
	uint64_t unmapped = 0;
	int ret;
	ENV(3);

	stage(o, "MAP 1 page and 2 pages apart");
	ret = map_at(&e, e.buf, p, e.base);
	if (!ret)
		ret = map_at(&e, e.buf + p, 2 * p, e.base + 16 * p);
	if (ret) {
		env_close(&e);
		return why(o, ODPT_FAIL, "MAP: %s", ename(ret));
	}
	stage(o, "UNMAP iova 0 length UINT64_MAX");
	ret = odpt_iommufd_unmap(e.c.fd, e.c.ioas_id, 0, UINT64_MAX, &unmapped);
	env_close(&e);
	if (ret)
		return why(o, ODPT_FAIL, "UNMAP of everything: %s", ename(ret));
	return why(o, unmapped == 3 * p ? ODPT_PASS : ODPT_FAIL,
		   "UNMAP of everything reported %" PRIu64 " bytes (want %zu)", unmapped, 3 * p);
}

static int c_foreign_ioas_id(struct ifd_case_out *o, const void *arg)
{
	uint32_t mine = 0, theirs = 0;
	uint64_t iova;
	int fd2 = -1, ret;
	ENV(1);

	/* An IOAS id of another iommufd file, larger than any id of this one. */
	stage(o, "a second /dev/iommu with more IOASes");
	ret = odpt_iommufd_ioas_alloc(e.c.fd, &mine);
	if (!ret)
		ret = odpt_iommufd_open(((const struct odpt_iommufd_test_cfg *)arg)->dev, &fd2);
	while (!ret && theirs <= mine + 1)
		ret = odpt_iommufd_ioas_alloc(fd2, &theirs);
	if (ret) {
		if (fd2 >= 0)
			close(fd2);
		env_close(&e);
		return why(o, ODPT_FAIL, "setup: %s", ename(ret));
	}
	stage(o, "MAP into the other file's IOAS id");
	iova = e.base;
	ret = odpt_iommufd_map(e.c.fd, theirs, e.buf, e.len,
			       ODPT_IOMMUFD_MAP_FIXED | ODPT_IOMMUFD_MAP_RW, &iova);
	ret = why(o, ret == -ENOENT ? ODPT_PASS : ODPT_FAIL,
		  "MAP into IOAS %u of another iommufd (this one's highest is %u): %s (want ENOENT)",
		  theirs, mine, ename(ret));
	close(fd2);
	env_close(&e);
	return ret;
}

static int c_wrong_object_as_ioas(struct ifd_case_out *o, const void *arg)
{
	uint64_t iova;
	int ret;
	ENV(1);

	stage(o, "MAP with the mock's HWPT id as the IOAS id");
	iova = e.base;
	ret = odpt_iommufd_map(e.c.fd, e.c.mock.hwpt_id, e.buf, e.len,
			       ODPT_IOMMUFD_MAP_FIXED | ODPT_IOMMUFD_MAP_RW, &iova);
	ret = expect(o, "MAP into a HWPT id", ret, -ENOENT);
	env_close(&e);
	return ret;
}

static int c_destroy_attached_ioas(struct ifd_case_out *o, const void *arg)
{
	int ret;
	ENV(1);

	stage(o, "IOMMU_DESTROY of the IOAS the mock device is attached to");
	ret = expect(o, "DESTROY of an IOAS in use", odpt_iommufd_destroy(e.c.fd, e.c.ioas_id),
		     -EBUSY);
	env_close(&e);
	return ret;
}

static int c_attach_twice(struct ifd_case_out *o, const void *arg)
{
	uint32_t h1 = 0, h2 = 0;
	int r1, r2;
	ENV(1);

	stage(o, "attach the attached mock device to its IOAS again, twice");
	r1 = odpt_iommufd_mock_replace(e.c.fd, e.c.mock.stdev_id, e.c.ioas_id, &h1);
	r2 = odpt_iommufd_mock_replace(e.c.fd, e.c.mock.stdev_id, e.c.ioas_id, &h2);
	env_close(&e);
	return why(o, !r1 && !r2 && h1 == e.c.mock.hwpt_id && h2 == h1 ? ODPT_PASS : ODPT_FAIL,
		   "re-attach: %s then %s, HWPT %u then %u (want success and the first attach's HWPT %u both times)",
		   ename(r1), ename(r2), h1, h2, e.c.mock.hwpt_id);
}

static int c_copy_unmapped_source(struct ifd_case_out *o, const void *arg)
{
	uint32_t dst;
	uint64_t iova = 0;
	int ret;
	ENV(1);

	stage(o, "IOMMU_IOAS_COPY from a range never mapped");
	ret = odpt_iommufd_ioas_alloc(e.c.fd, &dst);
	if (!ret)
		ret = odpt_iommufd_copy(e.c.fd, dst, e.c.ioas_id, e.base, ifd_page_size(),
					ODPT_IOMMUFD_MAP_RW, &iova);
	ret = expect(o, "COPY of an unmapped source range", ret, -ENOENT);
	env_close(&e);
	return ret;
}

static int c_fork_child_exit(struct ifd_case_out *o, const void *arg)
{
	size_t i;
	int status = 0, ret, changed = 0;
	pid_t pid;
	ENV(16);

	stage(o, "MAP a filled buffer");
	ret = map_at(&e, e.buf, e.len, e.base);
	if (ret) {
		env_close(&e);
		return why(o, ODPT_FAIL, "MAP: %s", ename(ret));
	}
	stage(o, "fork; the child writes its copy and exits");
	pid = fork();
	if (pid == 0) {
		memset(e.buf, 0xa5, e.len);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		env_close(&e);
		return why(o, ODPT_FAIL, "fork/wait failed (status 0x%x)", status);
	}
	stage(o, "IOMMU_TEST_OP_MD_CHECK_MAP after the child exited");
	ret = odpt_iommufd_mock_check_map(e.c.fd, e.c.mock.hwpt_id, e.base, e.len, e.buf);
	for (i = 0; i < e.len; i++)
		changed += e.buf[i] != 0x3c;
	stage(o, "UNMAP");
	if (!ret)
		ret = odpt_iommufd_unmap(e.c.fd, e.c.ioas_id, e.base, e.len, NULL);
	env_close(&e);
	/* A pinned page is copied for the child at fork, never shared COW. */
	return why(o, !ret && !changed ? ODPT_PASS : ODPT_FAIL,
		   "after a child wrote its copy and exited: check_map/unmap %s, %d bytes of the parent's buffer changed",
		   ename(ret), changed);
}

static int c_exit_with_mappings(struct ifd_case_out *o, const void *arg)
{
	int status = 0;
	pid_t pid;

	stage(o, "a child maps 4 MiB through a mock domain and exits without unmapping");
	pid = fork();
	if (pid == 0) {
		struct env e;

		if (env_open(o, arg, &e, (4u << 20) / ifd_page_size()) >= 0)
			_exit(2);
		_exit(map_at(&e, e.buf, e.len, e.base) ? 3 : 0);	/* no cleanup: exit does it */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return why(o, ODPT_FAIL, "fork/wait: %s", strerror(errno));
	stage(o, "a new context after the exit");
	{
		ENV(1);
		int ret = map_at(&e, e.buf, e.len, e.base);

		env_close(&e);
		return why(o, WIFEXITED(status) && !WEXITSTATUS(status) && !ret ? ODPT_PASS : ODPT_FAIL,
			   "child exit status 0x%x (0: mapped and exited); a fresh map afterwards: %s",
			   status, ename(ret));
	}
}

/* Drop to CASE_UID with RLIMIT_MEMLOCK at limit bytes: pins are charged. */
static int drop_privileges(struct ifd_case_out *o, uint64_t limit)
{
	struct rlimit rl = { limit, limit };

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return why(o, ODPT_FAIL, "setrlimit(RLIMIT_MEMLOCK): %s", strerror(errno));
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) || setresgid(CASE_UID, CASE_UID, CASE_UID) ||
	     setresuid(CASE_UID, CASE_UID, CASE_UID)))
		return why(o, ODPT_FAIL, "dropping to uid %d: %s", CASE_UID, strerror(errno));
	if (ifd_cap_ipc_lock())
		return why(o, ODPT_SKIP, "still CAP_IPC_LOCK after dropping privileges: pins are not charged");
	return -1;
}

/* Within a 1 MiB limit: 512 KiB pins, 768 KiB more does not, after
 * unmapping the first it does; key says where the charge shows. */
static int memlock_steps(struct ifd_case_out *o, struct env *e, const char *mode,
			 const char *key)
{
	uint64_t half = 512 << 10, more = 768 << 10, before, after;
	int r1, r2, r3, r4;

	before = ifd_status_bytes(key);
	stage(o, "MAP 512 KiB under a 1 MiB RLIMIT_MEMLOCK");
	r1 = map_at(e, e->buf, half, e->base);
	stage(o, "MAP 768 KiB more");
	r2 = map_at(e, e->buf + half, more, e->base + (16ULL << 20));
	stage(o, "UNMAP the 512 KiB, MAP the 768 KiB again");
	r3 = r1 ? r1 : odpt_iommufd_unmap(e->c.fd, e->c.ioas_id, e->base, half, NULL);
	r4 = map_at(e, e->buf + half, more, e->base + (16ULL << 20));
	after = ifd_status_bytes(key);
	return why(o, !r1 && r2 == -ENOMEM && !r3 && !r4 &&
		   (after == UINT64_MAX || after - before == more) ? ODPT_PASS : ODPT_FAIL,
		   "rlimit mode %s: 512 KiB %s, +768 KiB %s (want ENOMEM), unmap %s, 768 KiB alone %s; %s grew by %" PRIu64 " bytes (want %" PRIu64 ")",
		   mode, ename(r1), ename(r2), ename(r3), ename(r4), key,
		   after == UINT64_MAX || before == UINT64_MAX ? 0 : after - before, more);
}

static int c_memlock_user(struct ifd_case_out *o, const void *arg)
{
	int ret;
	uint64_t mode = 1;
	ENV(512);

	ret = drop_privileges(o, 1 << 20);
	if (ret >= 0) {
		env_close(&e);
		return ret;
	}
	/* The rlimit mode cannot change once objects exist, nor unprivileged. */
	mode = 1;
	ret = odpt_iommufd_rlimit_mode(e.c.fd, true, &mode);
	if (ret != -EPERM) {
		env_close(&e);
		return why(o, ODPT_FAIL, "IOMMU_OPTION(RLIMIT_MODE, SET 1) without CAP_SYS_RESOURCE: %s (want EPERM)",
			   ename(ret));
	}
	ret = memlock_steps(o, &e, "0 (user)", "VmPin");
	env_close(&e);
	return ret;
}

static int c_memlock_mm(struct ifd_case_out *o, const void *arg)
{
	const struct odpt_iommufd_test_cfg *cfg = arg;
	uint64_t mode = 1;
	struct env e;
	int fd, ret;

	if (geteuid() != 0)
		return why(o, ODPT_SKIP, "setting IOMMU_OPTION_RLIMIT_MODE needs CAP_SYS_RESOURCE (run as root)");
	/* The mode must be set before the file holds any object. */
	stage(o, "IOMMU_OPTION(RLIMIT_MODE, SET 1) on a fresh file");
	ret = odpt_iommufd_open(cfg->dev, &fd);
	if (!ret)
		ret = odpt_iommufd_rlimit_mode(fd, true, &mode);
	if (ret)
		return why(o, ODPT_FAIL, "IOMMU_OPTION(RLIMIT_MODE, SET 1): %s", ename(ret));
	close(fd);
	{
		/* The context is opened afresh below; set the mode on it first. */
		int r = env_open(o, arg, &e, 512);

		if (r >= 0)
			return r;
	}
	mode = 1;
	ret = odpt_iommufd_rlimit_mode(e.c.fd, true, &mode);
	if (ret != -EBUSY) {
		env_close(&e);
		return why(o, ODPT_FAIL, "IOMMU_OPTION(RLIMIT_MODE, SET) with objects present: %s (want EBUSY)",
			   ename(ret));
	}
	env_close(&e);

	/* Now for real: mode 1 on an empty file, then the objects. */
	memset(&e, 0, sizeof(e));
	e.c.fd = -1;
	stage(o, "open, RLIMIT_MODE 1, IOAS, mock device");
	ret = odpt_iommufd_open(cfg->dev, &e.c.fd);
	mode = 1;
	if (!ret)
		ret = odpt_iommufd_rlimit_mode(e.c.fd, true, &mode);
	if (!ret)
		ret = odpt_iommufd_ioas_alloc(e.c.fd, &e.c.ioas_id);
	if (!ret)
		ret = odpt_iommufd_mock_domain(e.c.fd, e.c.ioas_id, &e.c.mock);
	if (!ret)
		ret = odpt_iommufd_mock_aperture(&e.base, &e.last);
	if (ret) {
		if (e.c.fd >= 0)
			close(e.c.fd);
		return why(o, ODPT_FAIL, "%s: %s", o->stage, ename(ret));
	}
	e.c.have_mock = true;
	e.len = 512 * ifd_page_size();
	e.buf = mmap(NULL, e.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e.buf == MAP_FAILED) {
		ifd_ctx_close(&e.c);
		return why(o, ODPT_FAIL, "mmap: %s", strerror(errno));
	}
	memset(e.buf, 1, e.len);
	ret = drop_privileges(o, 1 << 20);
	if (ret < 0)
		ret = memlock_steps(o, &e, "1 (mm)", "VmLck");
	env_close(&e);
	return ret;
}

struct icase {
	const char *name;
	int (*fn)(struct ifd_case_out *o, const void *arg);
};

static const struct icase cases[] = {
	{ "map_unaligned_iova_einval", c_map_unaligned_iova },
	{ "map_unaligned_length_einval", c_map_unaligned_length },
	{ "map_length_zero_einval", c_map_length_zero },
	{ "map_overlapping_iova_eexist", c_map_overlapping },
	{ "map_outside_aperture_einval", c_map_outside_aperture },
	{ "unmap_never_mapped_enoent", c_unmap_never_mapped },
	{ "unmap_partial_enoent", c_unmap_partial },
	{ "unmap_all_reports_bytes", c_unmap_all },
	{ "foreign_ioas_id_enoent", c_foreign_ioas_id },
	{ "hwpt_id_as_ioas_enoent", c_wrong_object_as_ioas },
	{ "destroy_attached_ioas_ebusy", c_destroy_attached_ioas },
	{ "attach_twice_same_hwpt", c_attach_twice },
	{ "copy_unmapped_source_enoent", c_copy_unmapped_source },
	{ "fork_child_exit_keeps_mapping", c_fork_child_exit },
	{ "exit_with_live_mappings", c_exit_with_mappings },
	{ "memlock_user_mode_enomem", c_memlock_user },
	{ "memlock_mm_mode_enomem", c_memlock_mm },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

const char *odpt_iommufd_case_name(size_t i)
{
	return i < NCASES ? cases[i].name : NULL;
}

int odpt_iommufd_test(struct odpt_report *r, const struct odpt_iommufd_test_cfg *cfg,
		      bool *skipped)
{
	char whyb[256];
	size_t i;
	int ret = 0, ran = 0;

	if (skipped)
		*skipped = false;
	if (ifd_unavailable(cfg->dev, true, whyb, sizeof(whyb))) {
		if (skipped)
			*skipped = true;
		return odpt_report_skip_all(r, whyb);
	}
	for (i = 0; i < NCASES && !ret; i++) {
		struct ifd_case_out co;
		uint64_t dur = 0;

		if (cfg->filter && !strstr(cases[i].name, cfg->filter))
			continue;
		ran++;
		ret = ifd_forked(cases[i].fn, cfg, cfg->timeout_ms, &co, &dur);
		if (!ret) {
			struct odpt_test_record t = {
				.name = cases[i].name, .result = co.result, .reason = co.reason,
				.duration_ns = dur,
				.stage = co.result == ODPT_FAIL ? co.stage : NULL,
			};

			ret = odpt_report_test(r, &t);
		}
	}
	if (!ret && !ran) {
		snprintf(whyb, sizeof(whyb), "no case matches --filter=%s", cfg->filter);
		if (skipped)
			*skipped = true;
		ret = odpt_report_skip_all(r, whyb);
	}
	return ret;
}
