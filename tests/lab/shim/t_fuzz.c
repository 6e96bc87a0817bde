// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A randomized ioctl fuzzer for /dev/odpt_hmm: several threads issue random
 * sequences of valid and invalid calls on one shared fd number while the
 * same threads churn the memory underneath (munmap/mmap, mremap, mprotect,
 * MADV_DONTNEED), fork children that must be refused on the inherited fd,
 * and swap the file behind the number with dup2. Every result must be one
 * of the errnos the header documents for that call; exact ones where the
 * situation pins them down (unknown ioctl, wrong size, foreign mm). Bounded
 * by --fuzz-seconds; the seed is derived from --seed and printed. On a
 * failure the failing thread's last operations are printed.
 */
#define _GNU_SOURCE
#include "shim_dev.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define FUZZ_PAGES	256
#define FUZZ_LOG	16
#define ERRNO_MAX	134

enum fuzz_op {
	OP_REGISTER, OP_FAULT, OP_MAP, OP_UNMAP, OP_FLAGS, OP_STATS, OP_HIST, OP_GLOBAL,
	OP_UNKNOWN_IOCTL, OP_WRONG_SIZE, OP_GARBAGE, OP_MUNMAP, OP_MREMAP,
	OP_MPROTECT, OP_DONTNEED, OP_FORK, OP_REPLACE, OP_NR,
};

static const char *const op_names[OP_NR] = {
	"REGISTER", "FAULT", "MAP", "UNMAP", "FLAGS", "STATS", "HIST", "GLOBAL",
	"unknown-ioctl", "wrong-size", "garbage", "munmap", "mremap",
	"mprotect", "dontneed", "fork", "replace-file",
};

/* Relative weights: mostly the mirror ops, some churn, rare fork. VERIFY is
 * left out: each edu transfer takes ~100 ms under the mirror lock. */
static const unsigned int op_weight[OP_NR] = {
	[OP_REGISTER] = 4, [OP_FAULT] = 20, [OP_MAP] = 20, [OP_UNMAP] = 14, [OP_FLAGS] = 8,
	[OP_STATS] = 3, [OP_HIST] = 2, [OP_GLOBAL] = 2,
	[OP_UNKNOWN_IOCTL] = 2, [OP_WRONG_SIZE] = 2, [OP_GARBAGE] = 3, [OP_MUNMAP] = 3,
	[OP_MREMAP] = 2, [OP_MPROTECT] = 3, [OP_DONTNEED] = 4, [OP_FORK] = 1, [OP_REPLACE] = 1,
};

/* Documented errnos per op (header comment and struct comments); 0 ends
 * a list and always counts as allowed. */
#define MIRROR_ERRS EPERM, ENOENT, EINVAL, ERANGE
#ifdef ODPT_HMM_MAX_LEN
#define REGISTER_E2BIG E2BIG	/* len above ODPT_HMM_MAX_LEN */
#else
#define REGISTER_E2BIG EINVAL
#endif
static const int op_allowed[OP_NR][16] = {
	[OP_REGISTER] = { EPERM, EINVAL, EBUSY, EOVERFLOW, EFAULT, EOPNOTSUPP, REGISTER_E2BIG },
	[OP_FAULT] = { MIRROR_ERRS, EBUSY, EFAULT },
	[OP_MAP] = { MIRROR_ERRS, EBUSY, EFAULT, ENOMEM },
	[OP_UNMAP] = { MIRROR_ERRS },
	[OP_FLAGS] = { MIRROR_ERRS, EBUSY, EFAULT },
	[OP_STATS] = { 0 },
	[OP_HIST] = { EINVAL, ENOENT },
	[OP_GLOBAL] = { 0 },
	/* An unknown ioctl has exactly one answer, a wrong size too. */
	[OP_UNKNOWN_IOCTL] = { ENOTTY },
	[OP_WRONG_SIZE] = { EINVAL },
	/* Random bytes in a known struct: any documented errno of any call;
	 * wild user pointers inside give -EFAULT. */
	[OP_GARBAGE] = { MIRROR_ERRS, EBUSY, EFAULT, EOVERFLOW, ENOMEM, EOPNOTSUPP, REGISTER_E2BIG },
};

static bool op_err_allowed(int op, int err)
{
	if (err == 0)
		return op != OP_UNKNOWN_IOCTL && op != OP_WRONG_SIZE;
	for (int i = 0; i < 16 && op_allowed[op][i]; i++)
		if (-err == op_allowed[op][i])
			return true;
	return false;
}

struct fuzz_shared {
	int fdnum;			/* constant number; the file behind it changes */
	char *mem;
	char *spare;
	uint64_t deadline_ns;
	pthread_mutex_t churn_lock;	/* one address-space change at a time */
	pthread_mutex_t replace_lock;
};

struct fuzz_log {
	int op;
	int err;
	uint64_t a, b, c;
};

struct fuzz_thread {
	struct fuzz_shared *sh;
	unsigned int id;
	uint64_t seed;
	uint64_t ops;
	uint64_t by_op[OP_NR];
	uint64_t err_by_op[OP_NR];
	uint64_t errno_count[OP_NR][ERRNO_MAX];
	uint64_t forks_refused;
	struct fuzz_log log[FUZZ_LOG];
	unsigned int log_pos;
};

static void fuzz_fail(struct fuzz_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void fuzz_fail(struct fuzz_thread *t, const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kt_diag("fuzz thread %u: last operations, oldest first:", t->id);
	for (unsigned int i = 0; i < FUZZ_LOG; i++) {
		struct fuzz_log *l = &t->log[(t->log_pos + i) % FUZZ_LOG];

		if (!l->a && !l->b && !l->op && !l->err)
			continue;
		kt_diag("  %-13s a=0x%llx b=0x%llx c=0x%llx -> %s", op_names[l->op],
			(unsigned long long)l->a, (unsigned long long)l->b,
			(unsigned long long)l->c, kt_errname(l->err));
	}
	KT_FAIL("fuzz thread %u op %llu: %s", t->id, (unsigned long long)t->ops, buf);
}

static void fuzz_record(struct fuzz_thread *t, int op, int err, uint64_t a, uint64_t b,
			uint64_t c)
{
	t->log[t->log_pos] = (struct fuzz_log){ .op = op, .err = err, .a = a, .b = b, .c = c };
	t->log_pos = (t->log_pos + 1) % FUZZ_LOG;
	t->by_op[op]++;
	if (err)
		t->err_by_op[op]++;
	t->errno_count[op][-err > 0 && -err < ERRNO_MAX ? -err : 0]++;
	if (!op_err_allowed(op, err))
		fuzz_fail(t, "%s returned %s, not documented for it", op_names[op],
			  kt_errname(err));
}

/* A range: mostly page-aligned inside the mapping, sometimes hostile. */
static void fuzz_range(struct fuzz_thread *t, uint64_t *addr, uint64_t *len)
{
	uint64_t base = (uintptr_t)t->sh->mem;
	size_t j = sd_rand_below(&t->seed, FUZZ_PAGES);
	size_t k = 1 + sd_rand_below(&t->seed, FUZZ_PAGES - j);

	*addr = base + j * sd_page;
	*len = k * sd_page;
	switch (sd_rand_below(&t->seed, 16)) {
	case 0:
		*addr += 1 + sd_rand_below(&t->seed, sd_page - 1);
		break;
	case 1:
		*len = 0;
		break;
	case 2:
		*len = UINT64_MAX - sd_page + 1;
		break;
	case 3:
		*addr = 0xffff888000000000ull + j * sd_page;
		break;
	case 4:
		*addr = base - (1 + sd_rand_below(&t->seed, 8)) * sd_page;
		break;
	case 5:
		*len += sd_rand_below(&t->seed, 3);
		break;
	default:
		break;
	}
}

static uint32_t fuzz_flags(struct fuzz_thread *t, uint32_t valid)
{
	uint32_t f = (uint32_t)sd_rand(&t->seed) & valid;

	if (sd_rand_below(&t->seed, 20) == 0)
		f |= 1u << (sd_rand_below(&t->seed, 32));
	return f;
}

/* Per-mirror calls from a forked child on the inherited fd: refused. */
static int fork_child(struct fuzz_thread *t)
{
	struct odpt_hmm_global g;
	uint64_t pfns[4];
	uint32_t v;
	int fd = t->sh->fdnum;
	char *m = t->sh->mem;

	if (sd_fault(fd, m, sd_page, 0, NULL) != -EPERM)
		return 20;
	if (sd_map(fd, m, sd_page, ODPT_HMM_FAULT_WRITE, NULL) != -EPERM)
		return 21;
	if (sd_unmap(fd, m, sd_page, NULL) != -EPERM)
		return 22;
	if (sd_flags(fd, m, sd_page, 0, pfns, 4, NULL) != -EPERM)
		return 23;
	if (sd_register(fd, m, sd_page, ODPT_HMM_MODE_PAGE, NULL) != -EPERM)
		return 24;
	if (sd_version(fd, &v) || v != ODPT_HMM_ABI_VERSION)
		return 25;
	if (sd_global(fd, &g))
		return 26;
	return 0;
}

static void fuzz_one(struct fuzz_thread *t)
{
	struct fuzz_shared *sh = t->sh;
	unsigned int total = 0, pick, op;
	uint64_t addr, len, buf[512], pfns[FUZZ_PAGES];
	int fd = sh->fdnum, e = 0;

	for (op = 0; op < OP_NR; op++)
		total += op_weight[op];
	pick = (unsigned int)sd_rand_below(&t->seed, total);
	for (op = 0; pick >= op_weight[op]; op++)
		pick -= op_weight[op];
	fuzz_range(t, &addr, &len);

	switch (op) {
	case OP_REGISTER: {
		struct odpt_hmm_register r = {
			.size = sizeof(r), .flags = fuzz_flags(t, 0), .addr = addr, .len = len,
			.mode = 1 + (uint32_t)sd_rand_below(&t->seed, 4),
		};

		/* Half the time the whole buffer, so later calls mostly land inside. */
		if (sd_rand_below(&t->seed, 2)) {
			r.addr = (uintptr_t)sh->mem;
			r.len = FUZZ_PAGES * sd_page;
		}

		e = sd_ioctl(fd, ODPT_HMM_IOC_REGISTER, &r);
		fuzz_record(t, op, e, addr, len, r.mode);
		break;
	}
	case OP_FAULT: {
		uint32_t f = fuzz_flags(t, ODPT_HMM_FAULT_WRITE);

		e = sd_fault(fd, (void *)(uintptr_t)addr, len, f, NULL);
		fuzz_record(t, op, e, addr, len, f);
		break;
	}
	case OP_MAP: {
		uint32_t f = fuzz_flags(t, ODPT_HMM_FAULT_WRITE | ODPT_HMM_MAP_NOFAULT);
		struct odpt_hmm_map m;

		e = sd_map(fd, (void *)(uintptr_t)addr, len, f, &m);
		fuzz_record(t, op, e, addr, len, f);
		if (!e && m.npages_mapped + m.npages_already + m.npages_absent > len / sd_page)
			fuzz_fail(t, "MAP of %llu pages reports %llu+%llu+%llu",
				  (unsigned long long)(len / sd_page),
				  (unsigned long long)m.npages_mapped,
				  (unsigned long long)m.npages_already,
				  (unsigned long long)m.npages_absent);
		break;
	}
	case OP_UNMAP:
		e = sd_unmap(fd, (void *)(uintptr_t)addr, len, NULL);
		fuzz_record(t, op, e, addr, len, 0);
		break;
	case OP_FLAGS: {
		uint32_t f = fuzz_flags(t, ODPT_HMM_FLAGS_REFRESH);
		uint64_t n = sd_rand_below(&t->seed, 8) ? FUZZ_PAGES : sd_rand_below(&t->seed, 4);
		struct odpt_hmm_flags fl;

		e = sd_flags(fd, (void *)(uintptr_t)addr, len, f, pfns, n, &fl);
		fuzz_record(t, op, e, addr, len, f);
		if (!e && (fl.nmapped > fl.nvalid || fl.nvalid > fl.npages))
			fuzz_fail(t, "FLAGS: npages %llu nvalid %llu nmapped %llu",
				  (unsigned long long)fl.npages, (unsigned long long)fl.nvalid,
				  (unsigned long long)fl.nmapped);
		break;
	}
	case OP_STATS: {
		struct odpt_hmm_stats st;

		e = sd_stats(fd, (uint32_t)sd_rand_below(&t->seed, 2), &st);
		fuzz_record(t, op, e, 0, 0, 0);
		break;
	}
	case OP_HIST: {
		static __thread uint64_t counts[ODPT_HMM_HIST_COUNTS_LEN];
		uint32_t id = (uint32_t)sd_rand_below(&t->seed, ODPT_HMM_HIST_NR + 2);

		e = sd_hist(fd, id, counts, ODPT_HMM_HIST_COUNTS_LEN, NULL);
		fuzz_record(t, op, e, id, 0, 0);
		if (id >= ODPT_HMM_HIST_NR && e != -EINVAL)
			fuzz_fail(t, "GET_HIST id %u: %s, want EINVAL", id, kt_errname(e));
		break;
	}
	case OP_GLOBAL: {
		struct odpt_hmm_global g;

		e = sd_global(fd, &g);
		fuzz_record(t, op, e, 0, 0, 0);
		break;
	}
	case OP_UNKNOWN_IOCTL: {
		unsigned int nr = 0x20 + (unsigned int)sd_rand_below(&t->seed, 0xe0);

		memset(buf, 0, sizeof(buf));
		e = sd_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, ODPT_HMM_IOC_MAGIC, nr,
				      sd_rand_below(&t->seed, 256)), buf);
		fuzz_record(t, op, e, nr, 0, 0);
		break;
	}
	case OP_WRONG_SIZE: {
		static const unsigned long cmds[] = {
			ODPT_HMM_IOC_REGISTER, ODPT_HMM_IOC_FAULT, ODPT_HMM_IOC_MAP,
			ODPT_HMM_IOC_UNMAP, ODPT_HMM_IOC_FLAGS, ODPT_HMM_IOC_GET_HIST,
			ODPT_HMM_IOC_GET_STATS, ODPT_HMM_IOC_VERIFY, ODPT_HMM_IOC_GLOBAL,
			ODPT_HMM_IOC_DEV_INFO,
		};
		unsigned long cmd = cmds[sd_rand_below(&t->seed, 10)];
		uint32_t size = (uint32_t)_IOC_SIZE(cmd);

		memset(buf, 0, sizeof(buf));
		if (sd_rand_below(&t->seed, 2)) {
			/* Right command, size field off by 1..64 bytes either way. */
			size += (uint32_t)(1 + sd_rand_below(&t->seed, 64)) *
				(sd_rand_below(&t->seed, 2) ? 1u : (uint32_t)-1);
			memcpy(buf, &size, sizeof(size));
		} else {
			memcpy(buf, &size, sizeof(size));
			cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd),
				   _IOC_SIZE(cmd) + 8 * (1 + sd_rand_below(&t->seed, 8)));
		}
		e = sd_ioctl(fd, cmd, buf);
		fuzz_record(t, op, e, cmd, size, 0);
		break;
	}
	case OP_GARBAGE: {
		static const unsigned long cmds[] = {
			ODPT_HMM_IOC_REGISTER, ODPT_HMM_IOC_FAULT, ODPT_HMM_IOC_MAP,
			ODPT_HMM_IOC_UNMAP, ODPT_HMM_IOC_FLAGS, ODPT_HMM_IOC_GET_HIST,
			ODPT_HMM_IOC_GET_STATS,
		};
		unsigned long cmd = cmds[sd_rand_below(&t->seed, 7)];
		uint32_t size = (uint32_t)_IOC_SIZE(cmd);

		for (size_t i = 0; i < sizeof(buf) / sizeof(buf[0]); i++)
			buf[i] = sd_rand(&t->seed);
		memcpy(buf, &size, sizeof(size));
		/* Pointers inside (pfns_ptr, counts_ptr) are wild: -EFAULT. */
		e = sd_ioctl(fd, cmd, buf);
		fuzz_record(t, op, e, cmd, buf[1], buf[2]);
		break;
	}
	case OP_MUNMAP:
	case OP_MREMAP:
	case OP_MPROTECT:
	case OP_DONTNEED: {
		size_t j = sd_rand_below(&t->seed, FUZZ_PAGES);
		size_t k = 1 + sd_rand_below(&t->seed, FUZZ_PAGES - j < 16 ? FUZZ_PAGES - j : 16);
		char *a = sd_pg(sh->mem, j);
		void *p;

		/* A hole must be refilled before another thread's mmap could land there. */
		pthread_mutex_lock(&sh->churn_lock);
		if (op == OP_MUNMAP) {
			if (munmap(a, k * sd_page))
				fuzz_fail(t, "munmap: %s", strerror(errno));
			p = mmap(a, k * sd_page, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != a)
				fuzz_fail(t, "re-mmap: %s", strerror(errno));
		} else if (op == OP_MREMAP) {
			p = mremap(a, k * sd_page, k * sd_page, MREMAP_MAYMOVE | MREMAP_FIXED,
				   sd_pg(sh->spare, j));
			if (p == MAP_FAILED)
				fuzz_fail(t, "mremap: %s", strerror(errno));
			p = mremap(sd_pg(sh->spare, j), k * sd_page, k * sd_page,
				   MREMAP_MAYMOVE | MREMAP_FIXED, a);
			if (p != a)
				fuzz_fail(t, "mremap back: %s", strerror(errno));
		} else if (op == OP_MPROTECT) {
			static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
						     PROT_READ | PROT_WRITE };

			if (mprotect(a, k * sd_page, prots[sd_rand_below(&t->seed, 4)]))
				fuzz_fail(t, "mprotect: %s", strerror(errno));
		} else {
			if (madvise(a, k * sd_page, MADV_DONTNEED))
				fuzz_fail(t, "madvise: %s", strerror(errno));
		}
		pthread_mutex_unlock(&sh->churn_lock);
		fuzz_record(t, op, 0, (uintptr_t)a, k * sd_page, 0);
		break;
	}
	case OP_FORK: {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			fuzz_fail(t, "fork: %s", strerror(errno));
		if (pid == 0)
			_exit(fork_child(t));
		if (waitpid(pid, &status, 0) != pid)
			fuzz_fail(t, "waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fuzz_fail(t, "forked child was not refused as documented (step %d, "
				  "status 0x%x)", WIFEXITED(status) ? WEXITSTATUS(status) - 20 : -1,
				  status);
		t->forks_refused++;
		fuzz_record(t, op, 0, (uint64_t)pid, 0, 0);
		break;
	}
	case OP_REPLACE: {
		int nfd = sd_open();

		if (nfd < 0)
			fuzz_fail(t, "open: %s", kt_errname(nfd));
		/* Usually registered at once, sometimes left bare (-ENOENT for others). */
		if (sd_rand_below(&t->seed, 4))
			sd_register(nfd, sh->mem, FUZZ_PAGES * sd_page,
				    1 + (uint32_t)sd_rand_below(&t->seed, 3), NULL);
		pthread_mutex_lock(&sh->replace_lock);
		if (dup2(nfd, sh->fdnum) != sh->fdnum)
			fuzz_fail(t, "dup2: %s", strerror(errno));
		pthread_mutex_unlock(&sh->replace_lock);
		close(nfd);
		fuzz_record(t, op, 0, (uint64_t)nfd, 0, 0);
		break;
	}
	}
	t->ops++;
}

static void *fuzz_thread_fn(void *arg)
{
	struct fuzz_thread *t = arg;

	while (kt_now_ns() < t->sh->deadline_ns)
		for (int i = 0; i < 32; i++)
			fuzz_one(t);
	return NULL;
}

KT_TEST_FULL(fuzz, 0, false, 1)
{
	unsigned int nthreads = kt_opts.fuzz_threads;
	struct fuzz_thread *th;
	struct fuzz_shared sh = {
		.churn_lock = PTHREAD_MUTEX_INITIALIZER,
		.replace_lock = PTHREAD_MUTEX_INITIALIZER,
	};
	uint64_t t0, el_ns, total = 0, by_op[OP_NR] = { 0 }, err_by_op[OP_NR] = { 0 }, forks = 0;
	pthread_t *tid;
	char line[512];
	size_t off = 0;

	if (kt_opts.fuzz_s == 0)
		kt_skip("--fuzz-seconds 0");
	kt_diag("fuzz: seed %llu (this test's; run seed %llu), %u threads, %u s",
		(unsigned long long)ctx->seed, (unsigned long long)kt_opts.seed, nthreads,
		kt_opts.fuzz_s);
	sh.mem = sd_mmap_or_fail(FUZZ_PAGES * sd_page, PROT_READ | PROT_WRITE);
	sh.spare = sd_mmap_or_fail(FUZZ_PAGES * sd_page, PROT_NONE);
	memset(sh.mem, 0x42, FUZZ_PAGES * sd_page);
	/* Start registered over the whole buffer; REPLACE brings bare files too. */
	sh.fdnum = sd_mirror_or_fail(sh.mem, FUZZ_PAGES * sd_page, ODPT_HMM_MODE_HMM);
	th = calloc(nthreads, sizeof(*th));
	tid = calloc(nthreads, sizeof(*tid));
	KT_ASSERT(th && tid);
	t0 = kt_now_ns();
	sh.deadline_ns = t0 + (uint64_t)kt_opts.fuzz_s * 1000000000ull;
	kt_stage("fuzzing");
	for (unsigned int i = 0; i < nthreads; i++) {
		th[i] = (struct fuzz_thread){ .sh = &sh, .id = i,
					      .seed = ctx->seed + 0x9e3779b97f4a7c15ull * (i + 1) };
		KT_ASSERT_EQ(pthread_create(&tid[i], NULL, fuzz_thread_fn, &th[i]), 0);
	}
	for (unsigned int i = 0; i < nthreads; i++) {
		KT_ASSERT_EQ(pthread_join(tid[i], NULL), 0);
		total += th[i].ops;
		forks += th[i].forks_refused;
		for (int op = 0; op < OP_NR; op++) {
			by_op[op] += th[i].by_op[op];
			err_by_op[op] += th[i].err_by_op[op];
		}
	}
	el_ns = kt_now_ns() - t0;
	kt_diag("fuzz: %llu ops in %.1f s = %llu ops/s, %llu forked children refused",
		(unsigned long long)total, (double)el_ns / 1e9,
		(unsigned long long)(total * 1000000000ull / (el_ns ? el_ns : 1)),
		(unsigned long long)forks);
	for (int op = 0; op < OP_NR; op++)
		if (by_op[op] && off < sizeof(line) - 48)
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%llu/%llu",
						op_names[op], (unsigned long long)by_op[op],
						(unsigned long long)err_by_op[op]);
	line[off] = '\0';
	kt_diag("fuzz: calls/errors per op:%s", line);
	for (int op = 0; op < OP_NR; op++) {
		off = 0;
		for (int e = 0; e < ERRNO_MAX; e++) {
			uint64_t c = 0;

			for (unsigned int i = 0; i < nthreads; i++)
				c += th[i].errno_count[op][e];
			if (c && off < sizeof(line) - 32)
				off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%llu",
							e ? kt_errname(e) : "ok",
							(unsigned long long)c);
		}
		line[off] = '\0';
		if (op <= OP_HIST && by_op[op])
			kt_diag("  %s:%s", op_names[op], line);
	}
	kt_stage("closing the fuzzed file");
	close(sh.fdnum);
	KT_ASSERT(total > 0);
}
