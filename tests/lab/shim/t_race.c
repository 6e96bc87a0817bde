// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Races between the mirror and the CPU side: one thread faults, maps,
 * inspects and unmaps while another munmaps/mremaps/mprotects/zaps or forks
 * over the same pages; mirrors torn down by process exit or SIGKILL in the
 * middle of a map loop; files closed (or replaced by dup2) while other
 * threads are inside an ioctl on them. Each runs for a round cap or a time
 * budget, whichever comes first, accepts only the errnos the header
 * documents for the situation, checks an invariant of the PFN flags while
 * racing, proves the race happened (the module counted invalidations), and
 * ends with the range fully usable again. Leaks are caught by the
 * after-each check.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum perturb_kind {
	PERTURB_MUNMAP,
	PERTURB_MREMAP,
	PERTURB_MPROTECT,
	PERTURB_DONTNEED,
	PERTURB_FORK,
};

static const char *const perturb_names[] = {
	"munmap", "mremap", "mprotect", "MADV_DONTNEED", "fork",
};

#define ERRNO_SLOTS 134

struct race {
	enum perturb_kind kind;
	uint32_t mode;
	int fd;
	size_t n;
	char *mem;
	char *spare;			/* mremap parking area */
	uint64_t seed;
	uint64_t deadline_ns;
	unsigned int max_rounds;
	atomic_bool stop;
	atomic_uint_fast64_t perturbs;
	uint64_t rounds;
	uint64_t fault_err[ERRNO_SLOTS];
	uint64_t map_err[ERRNO_SLOTS];
};

static void spin_us(uint64_t *seed, unsigned int max_us)
{
	uint64_t end = kt_now_ns() + sd_rand_below(seed, max_us + 1) * 1000;

	while (kt_now_ns() < end)
		;
}

static void *perturber(void *arg)
{
	struct race *r = arg;
	uint64_t seed = r->seed ^ 0x5bd1e995;

	while (!atomic_load(&r->stop)) {
		size_t j = sd_rand_below(&seed, r->n);
		size_t k = 1 + sd_rand_below(&seed, r->n - j);
		char *a = sd_pg(r->mem, j);
		size_t len = k * sd_page;
		void *p;
		pid_t pid;

		switch (r->kind) {
		case PERTURB_MUNMAP:
			if (munmap(a, len))
				KT_FAIL("munmap: %s", strerror(errno));
			spin_us(&seed, 20);
			p = mmap(a, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != a)
				KT_FAIL("re-mmap of the hole: %s", p == MAP_FAILED ?
					strerror(errno) : "landed elsewhere");
			if (sd_rand_below(&seed, 2))
				memset(a, (int)j, len);
			break;
		case PERTURB_MREMAP:
			p = mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, sd_pg(r->spare, j));
			if (p == MAP_FAILED)
				KT_FAIL("mremap away: %s", strerror(errno));
			spin_us(&seed, 20);
			p = mremap(sd_pg(r->spare, j), len, len, MREMAP_MAYMOVE | MREMAP_FIXED, a);
			if (p != a)
				KT_FAIL("mremap back: %s", strerror(errno));
			break;
		case PERTURB_MPROTECT:
			if (mprotect(a, len, sd_rand_below(&seed, 4) ? PROT_READ : PROT_NONE))
				KT_FAIL("mprotect: %s", strerror(errno));
			spin_us(&seed, 20);
			if (mprotect(a, len, PROT_READ | PROT_WRITE))
				KT_FAIL("mprotect back: %s", strerror(errno));
			break;
		case PERTURB_DONTNEED:
			if (madvise(a, len, MADV_DONTNEED))
				KT_FAIL("madvise: %s", strerror(errno));
			if (sd_rand_below(&seed, 2))
				memset(a, (int)k, sd_page);
			break;
		case PERTURB_FORK:
			pid = fork();
			if (pid < 0)
				KT_FAIL("fork: %s", strerror(errno));
			if (pid == 0)
				_exit(0);
			if (waitpid(pid, NULL, 0) != pid)
				KT_FAIL("waitpid: %s", strerror(errno));
			/* Dirty a page so the next fork has something to protect. */
			a[0] = (char)j;
			break;
		}
		atomic_fetch_add(&r->perturbs, 1);
		spin_us(&seed, 20);
	}
	return NULL;
}

/* Documented outcomes of FAULT/MAP while the range changes under it:
 * -EFAULT (hole, PROT_NONE), -EPERM (write on read-only), -EBUSY (kept
 * colliding with invalidations for 1 s; in mode sg also a live sg mapping). */
static bool allowed_fault_err(int e)
{
	return e == 0 || e == -EFAULT || e == -EPERM || e == -EBUSY;
}

static void count_err(uint64_t *slots, int e)
{
	slots[-e < ERRNO_SLOTS ? -e : ERRNO_SLOTS - 1]++;
}

static void print_errs(const char *what, const uint64_t *slots)
{
	char buf[512];
	size_t off = 0;

	for (int e = 0; e < ERRNO_SLOTS; e++)
		if (slots[e] && off < sizeof(buf) - 40)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s=%llu",
						e ? kt_errname(e) : "ok",
						(unsigned long long)slots[e]);
	buf[off] = '\0';
	kt_diag("%s:%s", what, buf);
}

static void race_loop(struct kt_ctx *ctx, enum perturb_kind kind, size_t n)
{
	struct race r = {
		.kind = kind,
		.mode = ctx->mode->value,
		.n = n,
		.seed = ctx->seed,
		.max_rounds = ctx->rounds,
	};
	uint64_t seed = ctx->seed, *pfns, t0;
	struct odpt_hmm_stats st;
	struct odpt_hmm_flags f;
	struct odpt_hmm_map m;
	pthread_t th;
	int e;

	pfns = calloc(r.n, sizeof(*pfns));
	KT_ASSERT(pfns);
	r.mem = sd_mmap_or_fail(r.n * sd_page, PROT_READ | PROT_WRITE);
	r.spare = sd_mmap_or_fail(r.n * sd_page, PROT_NONE);
	memset(r.mem, 0x5e, r.n * sd_page);
	r.fd = sd_mirror_or_fail(r.mem, r.n * sd_page, r.mode);
	t0 = kt_now_ns();
	r.deadline_ns = t0 + (uint64_t)ctx->budget_s * 1000000000ull;
	KT_ASSERT_EQ(pthread_create(&th, NULL, perturber, &r), 0);

	/* The round cap alone could end before the perturber got going on a
	 * fast machine: also wait for a few perturbations (within the budget). */
	while ((r.rounds < r.max_rounds || atomic_load(&r.perturbs) < 20) &&
	       kt_now_ns() < r.deadline_ns) {
		size_t j = sd_rand_below(&seed, r.n);
		size_t k = 1 + sd_rand_below(&seed, r.n - j);
		uint32_t wr = sd_rand_below(&seed, 2) ? ODPT_HMM_FAULT_WRITE : 0;

		kt_stage("%s race round %llu: fault", perturb_names[kind],
			 (unsigned long long)r.rounds);
		e = sd_fault(r.fd, sd_pg(r.mem, j), k * sd_page, wr, NULL);
		if (!allowed_fault_err(e))
			KT_FAIL("round %llu: FAULT pages [%zu,%zu) flags %u: %s",
				(unsigned long long)r.rounds, j, j + k, wr, kt_errname(e));
		count_err(r.fault_err, e);
		kt_stage("%s race round %llu: map", perturb_names[kind],
			 (unsigned long long)r.rounds);
		e = sd_map(r.fd, sd_pg(r.mem, j), k * sd_page, wr, &m);
		if (!allowed_fault_err(e))
			KT_FAIL("round %llu: MAP pages [%zu,%zu) flags %u: %s",
				(unsigned long long)r.rounds, j, j + k, wr, kt_errname(e));
		count_err(r.map_err, e);
		if (!e && m.npages_mapped + m.npages_already > k)
			KT_FAIL("round %llu: MAP of %zu pages reports %llu mapped + %llu already",
				(unsigned long long)r.rounds, k,
				(unsigned long long)m.npages_mapped,
				(unsigned long long)m.npages_already);
		kt_stage("%s race round %llu: flags", perturb_names[kind],
			 (unsigned long long)r.rounds);
		KT_ASSERT_OK(sd_flags(r.fd, r.mem, r.n * sd_page, 0, pfns, r.n, &f));
		/* Invariant under the mirror lock: mapped implies valid. */
		for (size_t i = 0; i < r.n; i++)
			if ((pfns[i] & ODPT_HMM_PFN_DMA_MAPPED) && !(pfns[i] & ODPT_HMM_PFN_VALID))
				KT_FAIL("round %llu: page %zu DMA_MAPPED without VALID (0x%llx)",
					(unsigned long long)r.rounds, i,
					(unsigned long long)pfns[i]);
		KT_ASSERT(f.nmapped <= f.nvalid);
		kt_stage("%s race round %llu: unmap", perturb_names[kind],
			 (unsigned long long)r.rounds);
		KT_ASSERT_OK(sd_unmap(r.fd, r.mem, r.n * sd_page, NULL));
		r.rounds++;
	}
	atomic_store(&r.stop, true);
	kt_stage("%s race: joining the perturber", perturb_names[kind]);
	KT_ASSERT_EQ(pthread_join(th, NULL), 0);

	kt_stage("%s race: the range works again", perturb_names[kind]);
	st = sd_stats_or_fail(r.fd);
	kt_diag("%s/%s: rounds=%llu perturbs=%llu in %llu ms; invalidations=%llu "
		"invalidate_pages=%llu retries_busy=%llu retries_seq=%llu timeouts=%llu",
		perturb_names[kind], ctx->mode->name, (unsigned long long)r.rounds,
		(unsigned long long)atomic_load(&r.perturbs),
		(unsigned long long)((kt_now_ns() - t0) / 1000000),
		(unsigned long long)st.invalidations, (unsigned long long)st.invalidate_pages,
		(unsigned long long)st.retries_busy, (unsigned long long)st.retries_seq,
		(unsigned long long)st.timeouts);
	print_errs("  FAULT", r.fault_err);
	print_errs("  MAP", r.map_err);
	KT_ASSERT_EQ(st.mapped_pages, 0);
	KT_ASSERT_EQ(sd_global_or_fail().live_mappings, 0);
	KT_ASSERT(r.rounds > 0);
	KT_ASSERT(atomic_load(&r.perturbs) > 0);
	/* Without invalidations the race never reached the mirror. */
	KT_ASSERT(st.invalidations > 0);
	memset(r.mem, 0x6b, r.n * sd_page);
	/*
	 * The kernel may still invalidate on its own (khugepaged collapsing
	 * the VMAs the race split and merged again: seen once at 4096 pages,
	 * half the range gone between MAP and FLAGS): judge a MAP only when
	 * the mirror saw no invalidation until the checks are done.
	 */
	for (int tries = 0;; tries++) {
		struct odpt_hmm_stats s0 = sd_stats_or_fail(r.fd), s1;
		uint64_t live;

		KT_ASSERT_OK(sd_unmap(r.fd, r.mem, r.n * sd_page, NULL));
		KT_ASSERT_OK(sd_map(r.fd, r.mem, r.n * sd_page, ODPT_HMM_FAULT_WRITE, &m));
		KT_ASSERT_OK(sd_flags(r.fd, r.mem, r.n * sd_page, 0, pfns, r.n, &f));
		live = sd_global_or_fail().live_mappings;
		s1 = sd_stats_or_fail(r.fd);
		if (s1.invalidations != s0.invalidations && tries < 5) {
			kt_diag("final MAP: %llu invalidations by the kernel meanwhile, again",
				(unsigned long long)(s1.invalidations - s0.invalidations));
			continue;
		}
		KT_ASSERT_EQ(m.npages_mapped, r.n);
		KT_ASSERT_EQ(f.nmapped, r.n);
		KT_ASSERT_EQ(f.nwrite, r.n);
		KT_ASSERT_EQ(live, r.n);
		break;
	}
	if (sd_env.info.can_verify) {
		struct odpt_hmm_verify v;

		kt_stage("%s race: device reads one page", perturb_names[kind]);
		KT_ASSERT_OK(sd_verify(r.fd, r.mem, r.n * sd_page, 0, 1, 0, &v));
		KT_ASSERT_EQ(v.pages_matched, 1);
	}
	close(r.fd);
	free(pfns);
}

/* Small ranges collide often; large ones span many walk chunks (512 pages),
 * between which the mirror lock is dropped: sg's one-sequence walk then
 * faces UNMAPs and older walks' merges between its chunks. */
#define RACE_PAGES	64
#define RACE_PAGES_LARGE 4096

KT_TEST_MODES(race_munmap)
{
	race_loop(ctx, PERTURB_MUNMAP, RACE_PAGES);
}

KT_TEST_MODES(race_mremap)
{
	race_loop(ctx, PERTURB_MREMAP, RACE_PAGES);
}

KT_TEST_MODES(race_mprotect)
{
	race_loop(ctx, PERTURB_MPROTECT, RACE_PAGES);
}

KT_TEST_MODES(race_dontneed)
{
	race_loop(ctx, PERTURB_DONTNEED, RACE_PAGES);
}

KT_TEST_MODES(race_fork)
{
	race_loop(ctx, PERTURB_FORK, RACE_PAGES);
}

KT_TEST_MODES(race_munmap_4k)
{
	race_loop(ctx, PERTURB_MUNMAP, RACE_PAGES_LARGE);
}

KT_TEST_MODES(race_mprotect_4k)
{
	race_loop(ctx, PERTURB_MPROTECT, RACE_PAGES_LARGE);
}

KT_TEST_MODES(race_dontneed_4k)
{
	race_loop(ctx, PERTURB_DONTNEED, RACE_PAGES_LARGE);
}

/* ---- two ioctl threads on one mirror ---- */

struct dual {
	int fd;
	uint32_t mode;
	char *mem;
	size_t n;
	uint64_t seed;
	uint64_t deadline_ns;
	unsigned int max_rounds;
	uint64_t rounds;
	uint64_t err[ERRNO_SLOTS];
};

static void *dual_thread(void *arg)
{
	struct dual *d = arg;
	uint64_t seed = d->seed;
	struct odpt_hmm_flags f;
	uint64_t pfns[128];
	int e;

	while (d->rounds < d->max_rounds && kt_now_ns() < d->deadline_ns) {
		size_t j = sd_rand_below(&seed, d->n);
		size_t k = 1 + sd_rand_below(&seed, d->n - j);

		switch (sd_rand_below(&seed, 4)) {
		case 0:
			e = sd_map(d->fd, sd_pg(d->mem, j), k * sd_page, ODPT_HMM_FAULT_WRITE, NULL);
			/* sg: another thread's sg mapping overlaps: -EBUSY. */
			if (e && !(e == -EBUSY))
				KT_FAIL("MAP [%zu,%zu): %s", j, j + k, kt_errname(e));
			break;
		case 1:
			e = sd_unmap(d->fd, sd_pg(d->mem, j), k * sd_page, NULL);
			if (e)
				KT_FAIL("UNMAP [%zu,%zu): %s", j, j + k, kt_errname(e));
			break;
		case 2:
			e = sd_fault(d->fd, sd_pg(d->mem, j), k * sd_page, 0, NULL);
			if (e && e != -EBUSY)
				KT_FAIL("FAULT [%zu,%zu): %s", j, j + k, kt_errname(e));
			break;
		default:
			e = sd_flags(d->fd, d->mem, d->n * sd_page, 0, pfns, d->n, &f);
			if (e)
				KT_FAIL("FLAGS: %s", kt_errname(e));
			if (f.nmapped > f.nvalid)
				KT_FAIL("FLAGS: %llu mapped > %llu valid",
					(unsigned long long)f.nmapped, (unsigned long long)f.nvalid);
			break;
		}
		count_err(d->err, e);
		d->rounds++;
	}
	return NULL;
}

KT_TEST_MODES(race_map_unmap_threads)
{
	struct dual d[3];
	const size_t n = 128;
	char *mem = sd_mmap_or_fail(n * sd_page, PROT_READ | PROT_WRITE);
	int fd = sd_mirror_or_fail(mem, n * sd_page, ctx->mode->value);
	uint64_t deadline = kt_now_ns() + (uint64_t)ctx->budget_s * 1000000000ull;
	uint64_t total = 0, errs[ERRNO_SLOTS] = { 0 };
	struct odpt_hmm_unmap u;
	pthread_t th[3];

	memset(mem, 1, n * sd_page);
	for (int i = 0; i < 3; i++) {
		d[i] = (struct dual){ .fd = fd, .mode = ctx->mode->value, .mem = mem, .n = n,
				      .seed = ctx->seed + (uint64_t)i * 7919,
				      .deadline_ns = deadline, .max_rounds = ctx->rounds };
		KT_ASSERT_EQ(pthread_create(&th[i], NULL, dual_thread, &d[i]), 0);
	}
	kt_stage("three threads map/unmap/fault/flags one mirror");
	for (int i = 0; i < 3; i++) {
		KT_ASSERT_EQ(pthread_join(th[i], NULL), 0);
		total += d[i].rounds;
		for (int e = 0; e < ERRNO_SLOTS; e++)
			errs[e] += d[i].err[e];
	}
	kt_diag("map/unmap threads/%s: %llu ioctls", ctx->mode->name, (unsigned long long)total);
	print_errs("  results", errs);
	kt_stage("unmap all, counters agree");
	KT_ASSERT_OK(sd_unmap(fd, mem, n * sd_page, &u));
	KT_ASSERT_EQ(sd_stats_or_fail(fd).mapped_pages, 0);
	KT_ASSERT_EQ(sd_global_or_fail().live_mappings, 0);
	KT_ASSERT_EQ(sd_global_or_fail().sg_tables_live, 0);
	close(fd);
}

/* ---- process exit and SIGKILL with live mappings ---- */

struct busy_arg {
	int fd;
	char *mem;
	size_t n;
};

static void *busy_mapper(void *arg)
{
	struct busy_arg *b = arg;

	for (;;) {
		sd_map(b->fd, b->mem, b->n * sd_page, ODPT_HMM_FAULT_WRITE, NULL);
		sd_unmap(b->fd, b->mem, b->n * sd_page / 2, NULL);
	}
	return NULL;
}

KT_TEST_MODES(race_exit_live)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)ctx->budget_s * 1000000000ull;
	unsigned int rounds = 0, killed = 0, exited = 0;
	uint64_t seed = ctx->seed;
	char reason[512];
	const size_t n = 256;

	while (rounds < ctx->rounds && kt_now_ns() < deadline) {
		bool kill_it = sd_rand_below(&seed, 2);
		int status, sv[2], e;
		pid_t pid;
		char c;

		kt_stage("exit round %u (%s)", rounds, kill_it ? "SIGKILL" : "_exit");
		KT_ASSERT_EQ(pipe(sv), 0);
		pid = fork();
		KT_ASSERT(pid >= 0);
		if (pid == 0) {
			struct busy_arg b = { .n = n };
			struct odpt_hmm_register r;
			pthread_t th;

			close(sv[0]);
			b.mem = mmap(NULL, n * sd_page, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (b.mem == MAP_FAILED)
				_exit(10);
			memset(b.mem, 3, n * sd_page);
			b.fd = sd_open();
			if (b.fd < 0 || sd_register(b.fd, b.mem, n * sd_page, ctx->mode->value, &r))
				_exit(11);
			if (sd_map(b.fd, b.mem, n * sd_page, ODPT_HMM_FAULT_WRITE, NULL))
				_exit(12);
			if (pthread_create(&th, NULL, busy_mapper, &b))
				_exit(13);
			if (write(sv[1], "r", 1) != 1)
				_exit(14);
			if (!kill_it) {
				usleep((useconds_t)sd_rand_below(&seed, 2000));
				_exit(0);
			}
			for (;;)
				pause();
		}
		close(sv[1]);
		KT_ASSERT_EQ(read(sv[0], &c, 1), 1);
		close(sv[0]);
		if (kill_it) {
			spin_us(&seed, 2000);
			kill(pid, SIGKILL);
		}
		KT_ASSERT_EQ(waitpid(pid, &status, 0), pid);
		if (kill_it) {
			KT_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
			killed++;
		} else {
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				KT_FAIL("round %u: mapper exited with status 0x%x", rounds, status);
			exited++;
		}
		kt_stage("exit round %u: counters back to zero", rounds);
		e = sd_wait_clean(2000, reason, sizeof(reason));
		if (e)
			KT_FAIL("round %u (%s): %s", rounds, kill_it ? "SIGKILL" : "exit", reason);
		rounds++;
	}
	kt_diag("exit_live/%s: %u rounds (%u SIGKILL mid-map, %u exit)", ctx->mode->name, rounds,
		killed, exited);
	KT_ASSERT(rounds > 0);
}

/* ---- close (or dup2 over) a file while other threads are in an ioctl ---- */

struct closer {
	atomic_int fdnum;
	atomic_bool stop;
	char *mem;
	size_t n;
	uint64_t seed;
	uint64_t calls;
	uint64_t err[ERRNO_SLOTS];
};

static void *ioctl_loop(void *arg)
{
	struct closer *c = arg;
	uint64_t seed = c->seed;
	uint64_t pfns[512];
	int e;

	while (!atomic_load(&c->stop)) {
		int fd = atomic_load(&c->fdnum);

		switch (sd_rand_below(&seed, 4)) {
		case 0:
			e = sd_map(fd, c->mem, c->n * sd_page, ODPT_HMM_FAULT_WRITE, NULL);
			break;
		case 1:
			e = sd_unmap(fd, c->mem, c->n * sd_page, NULL);
			break;
		case 2:
			e = sd_fault(fd, c->mem, c->n * sd_page, ODPT_HMM_FAULT_WRITE, NULL);
			break;
		default:
			e = sd_flags(fd, c->mem, c->n * sd_page, ODPT_HMM_FLAGS_REFRESH, pfns, c->n,
				     NULL);
			break;
		}
		/* -EBADF: the number was closed; -EBUSY: sg mapping held by the
		 * other thread; -ENOENT never (every file is registered first). */
		if (e && e != -EBADF && e != -EBUSY)
			KT_FAIL("ioctl on a file being closed: %s", kt_errname(e));
		count_err(c->err, e);
		c->calls++;
	}
	return NULL;
}

KT_TEST_MODES(race_close_in_ioctl)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)ctx->budget_s * 1000000000ull;
	struct closer c = { .n = 512, .seed = ctx->seed };
	struct closer c2;
	uint64_t seed = ctx->seed ^ 0xabcdef, errs[ERRNO_SLOTS] = { 0 };
	unsigned int rounds = 0, closes = 0;
	pthread_t th[2];
	int fd, num;

	c.mem = sd_mmap_or_fail(c.n * sd_page, PROT_READ | PROT_WRITE);
	memset(c.mem, 9, c.n * sd_page);
	num = sd_mirror_or_fail(c.mem, c.n * sd_page, ctx->mode->value);
	atomic_store(&c.fdnum, num);
	c2 = c;
	c2.seed = ctx->seed * 31 + 1;
	KT_ASSERT_EQ(pthread_create(&th[0], NULL, ioctl_loop, &c), 0);
	KT_ASSERT_EQ(pthread_create(&th[1], NULL, ioctl_loop, &c2), 0);
	while (rounds < ctx->rounds && kt_now_ns() < deadline) {
		kt_stage("close round %u", rounds);
		spin_us(&seed, 300);
		fd = sd_mirror_or_fail(c.mem, c.n * sd_page, ctx->mode->value);
		if (sd_rand_below(&seed, 8) == 0) {
			/* A plain close: the number is briefly invalid (EBADF). */
			KT_ASSERT_EQ(close(num), 0);
			closes++;
			spin_us(&seed, 30);
		}
		/* dup2 atomically drops the old file while ioctls may hold it. */
		KT_ASSERT_EQ(dup2(fd, num), num);
		KT_ASSERT_EQ(close(fd), 0);
		rounds++;
	}
	atomic_store(&c.stop, true);
	atomic_store(&c2.stop, true);
	kt_stage("joining the ioctl threads");
	KT_ASSERT_EQ(pthread_join(th[0], NULL), 0);
	KT_ASSERT_EQ(pthread_join(th[1], NULL), 0);
	for (int e = 0; e < ERRNO_SLOTS; e++)
		errs[e] = c.err[e] + c2.err[e];
	kt_diag("close_in_ioctl/%s: %u file replacements (%u plain closes), %llu ioctls",
		ctx->mode->name, rounds, closes, (unsigned long long)(c.calls + c2.calls));
	print_errs("  results", errs);
	/* One registered file is left open: exactly one mirror. */
	{
		struct odpt_hmm_global g = sd_global_or_fail();

		KT_ASSERT_EQ(g.mirrors, 1);
		KT_ASSERT_EQ(g.registered, 1);
	}
	close(num);
	KT_ASSERT(rounds > 0);
}

/* ---- FAULT in one thread, MAP/UNMAP of the same pages in another ---- */

struct faulter {
	int fd;
	char *mem;
	size_t n;
	bool refresh;			/* FLAGS_REFRESH instead of FAULT */
	atomic_bool stop;
	uint64_t calls;
};

static void *fault_loop(void *arg)
{
	struct faulter *f = arg;
	uint64_t *pfns = calloc(f->n, sizeof(*pfns));
	int e;

	if (!pfns)
		KT_FAIL("calloc of %zu PFN entries", f->n);
	while (!atomic_load(&f->stop)) {
		if (f->refresh)
			e = sd_flags(f->fd, f->mem, f->n * sd_page, ODPT_HMM_FLAGS_REFRESH, pfns,
				     f->n, NULL);
		else
			e = sd_fault(f->fd, f->mem, f->n * sd_page, ODPT_HMM_FAULT_WRITE, NULL);
		if (e && e != -EBUSY)
			KT_FAIL("%s in the fault thread: %s", f->refresh ? "FLAGS_REFRESH" : "FAULT",
				kt_errname(e));
		f->calls++;
	}
	free(pfns);
	return NULL;
}

/*
 * FAULT (or a FLAGS_REFRESH walk) never maps or unmaps: whatever it does
 * concurrently, right after an UNMAP of everything no page may show
 * DMA_MAPPED and the mirror must count no mapped page, and after a MAP of
 * everything every page must show it.
 */
static void fault_vs_map(struct kt_ctx *ctx, bool refresh, size_t n)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)ctx->budget_s * 1000000000ull;
	struct faulter f = { .n = n, .refresh = refresh };
	struct odpt_hmm_stats st, st0;
	struct odpt_hmm_flags fl;
	struct odpt_hmm_unmap u;
	struct odpt_hmm_map m;
	uint64_t *pfns, rounds = 0, outside = 0;
	pthread_t th;
	int e;

	pfns = calloc(f.n, sizeof(*pfns));
	KT_ASSERT(pfns);
	f.mem = sd_mmap_or_fail(f.n * sd_page, PROT_READ | PROT_WRITE);
	memset(f.mem, 0x21, f.n * sd_page);
	f.fd = sd_mirror_or_fail(f.mem, f.n * sd_page, ctx->mode->value);
	KT_ASSERT_EQ(pthread_create(&th, NULL, fault_loop, &f), 0);
	while (rounds < ctx->rounds && kt_now_ns() < deadline) {
		kt_stage("round %llu: map", (unsigned long long)rounds);
		e = sd_map(f.fd, f.mem, f.n * sd_page, ODPT_HMM_FAULT_WRITE, &m);
		if (e == -EBUSY)
			continue;
		KT_ASSERT_OK(e);
		/*
		 * The kernel may invalidate on its own between FLAGS and
		 * GET_STATS (reclaim, compaction; NUMA balancing's hinting
		 * unmaps did, before sd_mmap_or_fail kept them away): then
		 * the two snapshots are of different moments and prove
		 * nothing. Only a round with no invalidation in between is
		 * judged; the others are counted.
		 */
		st0 = sd_stats_or_fail(f.fd);
		KT_ASSERT_OK(sd_flags(f.fd, f.mem, f.n * sd_page, 0, pfns, f.n, &fl));
		st = sd_stats_or_fail(f.fd);
		if (st.invalidations != st0.invalidations ||
		    st.invalidations_nonblock_fail != st0.invalidations_nonblock_fail) {
			outside++;
		} else if (fl.nmapped != st.mapped_pages)
			KT_FAIL("round %llu after MAP: FLAGS shows %llu pages DMA_MAPPED, the mirror "
				"counts %llu mapped (MAP said %llu new + %llu already)",
				(unsigned long long)rounds, (unsigned long long)fl.nmapped,
				(unsigned long long)st.mapped_pages,
				(unsigned long long)m.npages_mapped,
				(unsigned long long)m.npages_already);
		kt_stage("round %llu: unmap", (unsigned long long)rounds);
		KT_ASSERT_OK(sd_unmap(f.fd, f.mem, f.n * sd_page, &u));
		KT_ASSERT_OK(sd_flags(f.fd, f.mem, f.n * sd_page, 0, pfns, f.n, &fl));
		st = sd_stats_or_fail(f.fd);
		if (fl.nmapped || st.mapped_pages)
			KT_FAIL("round %llu after UNMAP of all: FLAGS shows %llu pages DMA_MAPPED, "
				"the mirror counts %llu mapped (UNMAP said %llu unmapped)",
				(unsigned long long)rounds, (unsigned long long)fl.nmapped,
				(unsigned long long)st.mapped_pages,
				(unsigned long long)u.npages_unmapped);
		rounds++;
	}
	atomic_store(&f.stop, true);
	KT_ASSERT_EQ(pthread_join(th, NULL), 0);
	kt_diag("fault_vs_map%s/%s/%zu: %llu map+unmap rounds against %llu %s calls; "
		"%llu rounds not judged after MAP (the kernel invalidated in between)",
		refresh ? "_refresh" : "", ctx->mode->name, f.n, (unsigned long long)rounds,
		(unsigned long long)f.calls, refresh ? "FLAGS_REFRESH" : "FAULT",
		(unsigned long long)outside);
	/* A check that judged almost nothing proves nothing. */
	KT_ASSERT(rounds == 0 || outside * 2 <= rounds);
	KT_ASSERT_EQ(sd_global_or_fail().live_mappings, 0);
	close(f.fd);
	free(pfns);
	KT_ASSERT(rounds > 0);
}

KT_TEST_MODES(race_fault_vs_map)
{
	fault_vs_map(ctx, false, 512);
}

KT_TEST_MODES(race_refresh_vs_map)
{
	fault_vs_map(ctx, true, 512);
}

KT_TEST_MODES(race_refresh_vs_map_4k)
{
	fault_vs_map(ctx, true, RACE_PAGES_LARGE);
}

/*
 * Walks merged out of order: a FLAGS_REFRESH walk (no fault) that began
 * while the pages were absent may be merged after a MAP faulted them in and
 * mapped them. A page becoming present sends no invalidation, so the older
 * walk passes its retry check: its holes must not clear the newer entries
 * (unmapping live mappings, or, in mode sg, leaving a table entry that is
 * not VALID between two chunks of the MAP's walk). Each round drops the
 * pages (MADV_DONTNEED), then MAPs them with a write fault while another
 * thread walks the range again and again. Right after MAP every page must
 * be VALID, writable and DMA_MAPPED, and the mirror count them all mapped,
 * in every round in which the kernel sent no invalidation of its own; and a
 * walk must never have found a mapped entry replaced (stale_mapped_entries).
 */
KT_TEST_MODES(race_snapshot_order)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)ctx->budget_s * 1000000000ull;
	struct faulter f = { .n = RACE_PAGES_LARGE, .refresh = true };
	uint64_t *pfns, rounds = 0, judged = 0, busy = 0, stale0, stale1;
	struct odpt_hmm_stats st0, st1;
	struct odpt_hmm_flags fl;
	struct odpt_hmm_map m;
	pthread_t th;
	int e;

	pfns = calloc(f.n, sizeof(*pfns));
	KT_ASSERT(pfns);
	f.mem = sd_mmap_or_fail(f.n * sd_page, PROT_READ | PROT_WRITE);
	f.fd = sd_mirror_or_fail(f.mem, f.n * sd_page, ctx->mode->value);
	KT_ASSERT_OK(sd_counter_u64("stale_mapped_entries", &stale0));
	KT_ASSERT_EQ(pthread_create(&th, NULL, fault_loop, &f), 0);
	while ((rounds < ctx->rounds || judged < 3) && kt_now_ns() < deadline) {
		kt_stage("round %llu: drop the pages", (unsigned long long)rounds);
		KT_ASSERT_OK(sd_unmap(f.fd, f.mem, f.n * sd_page, NULL));
		if (madvise(f.mem, f.n * sd_page, MADV_DONTNEED))
			KT_FAIL("madvise(MADV_DONTNEED): %s", strerror(errno));
		st0 = sd_stats_or_fail(f.fd);
		kt_stage("round %llu: map", (unsigned long long)rounds);
		e = sd_map(f.fd, f.mem, f.n * sd_page, ODPT_HMM_FAULT_WRITE, &m);
		rounds++;
		if (e == -EBUSY) {
			busy++;
			continue;
		}
		KT_ASSERT_OK(e);
		KT_ASSERT_OK(sd_flags(f.fd, f.mem, f.n * sd_page, 0, pfns, f.n, &fl));
		st1 = sd_stats_or_fail(f.fd);
		if (st1.invalidations != st0.invalidations ||
		    st1.invalidations_nonblock_fail != st0.invalidations_nonblock_fail)
			continue;
		judged++;
		for (size_t i = 0; i < f.n; i++) {
			uint64_t want = ODPT_HMM_PFN_VALID | ODPT_HMM_PFN_WRITE |
					ODPT_HMM_PFN_DMA_MAPPED;

			if ((pfns[i] & want) != want || !(pfns[i] & ODPT_HMM_PFN_PFN_MASK))
				KT_FAIL("round %llu: page %zu after MAP is 0x%llx, want VALID, "
					"WRITE, DMA_MAPPED and a pfn (MAP: %llu mapped, %llu "
					"already, %llu absent)", (unsigned long long)rounds, i,
					(unsigned long long)pfns[i],
					(unsigned long long)m.npages_mapped,
					(unsigned long long)m.npages_already,
					(unsigned long long)m.npages_absent);
		}
		KT_ASSERT_EQ(st1.mapped_pages, f.n);
	}
	atomic_store(&f.stop, true);
	KT_ASSERT_EQ(pthread_join(th, NULL), 0);
	KT_ASSERT_OK(sd_counter_u64("stale_mapped_entries", &stale1));
	kt_diag("snapshot_order/%s: %llu rounds (%llu judged, %llu MAPs -EBUSY) against %llu "
		"FLAGS_REFRESH walks", ctx->mode->name, (unsigned long long)rounds,
		(unsigned long long)judged, (unsigned long long)busy,
		(unsigned long long)f.calls);
	KT_ASSERT_EQ(stale1 - stale0, 0);
	KT_ASSERT(judged > 0);
	KT_ASSERT_OK(sd_unmap(f.fd, f.mem, f.n * sd_page, NULL));
	close(f.fd);
	free(pfns);
}
