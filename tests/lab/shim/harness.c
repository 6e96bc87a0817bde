// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The runner behind harness.h: parses the run options, runs one child per
 * test (and per map mode for variant tests) under libodpt's fork runner
 * (include/odpt/forkrun.h: its own process group, a timeout, the group
 * killed afterwards, orphans reaped since the runner is a child
 * subreaper), runs the after-each leak check and prints TAP 13. A child
 * that cannot be killed (stuck in the kernel) ends the run with "Bail out!"
 * and its kernel stacks as diagnostics, because later results would not
 * mean anything.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/forkrun.h"

enum kt_result {
	KT_RUNNING = ODPT_FR_NONE,
	KT_PASS = 1,
	KT_FAILED,
	KT_SKIPPED,
	KT_XFAILED,
	KT_CLAIMED = 100,   /* a verdict's reason is being written */
};

#define KT_DIAG_BYTES	16384
#define KT_DEFAULT_TIMEOUT_S 60
#define KT_KILL_GRACE_S	30

struct kt_shared {
	struct odpt_fr_page fr;   /* result (enum kt_result) and stage */
	char reason[768];
	size_t diag_len;
	char diag[KT_DIAG_BYTES];
};

struct kt_options kt_opts = {
	.race_s = 10,
	.rounds = 5000,
	.fuzz_s = 20,
	.fuzz_threads = 4,
};

static struct kt_test *kt_head, **kt_tail = &kt_head;
static const struct kt_mode *kt_modes;
static unsigned int kt_nr_modes;
static int (*kt_after_each_fn)(char *buf, size_t len);
static int (*kt_setup_fn)(char *buf, size_t len);
static struct kt_shared *kt_sh;
static pthread_mutex_t kt_diag_lock = PTHREAD_MUTEX_INITIALIZER;

void kt_register(struct kt_test *t)
{
	t->next = NULL;
	*kt_tail = t;
	kt_tail = &t->next;
}

void kt_set_modes(const struct kt_mode *modes, unsigned int n)
{
	kt_modes = modes;
	kt_nr_modes = n;
}

void kt_set_after_each(int (*fn)(char *buf, size_t len))
{
	kt_after_each_fn = fn;
}

void kt_set_setup(int (*fn)(char *buf, size_t len))
{
	kt_setup_fn = fn;
}

uint64_t kt_now_ns(void)
{
	return odpt_clock_raw_ns();
}

const char *kt_errname(long err)
{
	const char *n;

	if (err == 0)
		return "0";
	if (err < 0)
		err = -err;
	if (err > 4095)
		return "(not an errno)";
	n = strerrorname_np((int)err);
	return n ? n : "(unknown errno)";
}

void kt_stage(const char *fmt, ...)
{
	va_list ap;

	if (!kt_sh)
		return;
	va_start(ap, fmt);
	odpt_fr_vstage(&kt_sh->fr, fmt, ap);
	va_end(ap);
}

static void kt_diag_append(const char *prefix, const char *fmt, va_list ap)
{
	size_t room;
	int n;

	pthread_mutex_lock(&kt_diag_lock);
	room = sizeof(kt_sh->diag) - kt_sh->diag_len;
	if (room > 2) {
		n = snprintf(kt_sh->diag + kt_sh->diag_len, room, "%s", prefix);
		if (n > 0 && (size_t)n < room) {
			kt_sh->diag_len += (size_t)n;
			room -= (size_t)n;
		}
		n = vsnprintf(kt_sh->diag + kt_sh->diag_len, room - 1, fmt, ap);
		if (n > 0) {
			kt_sh->diag_len += (size_t)n < room - 1 ? (size_t)n : room - 2;
			kt_sh->diag[kt_sh->diag_len++] = '\n';
			kt_sh->diag[kt_sh->diag_len] = '\0';
		}
	}
	pthread_mutex_unlock(&kt_diag_lock);
}

void kt_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_diag_append("", fmt, ap);
	va_end(ap);
}

/* First verdict wins: a failing thread and a skipping one cannot both count. */
static __attribute__((noreturn)) void kt_finish(int result, int code,
						const char *fmt, va_list ap)
{
	int expected = KT_RUNNING;

	if (atomic_compare_exchange_strong(&kt_sh->fr.result, &expected, KT_CLAIMED)) {
		vsnprintf(kt_sh->reason, sizeof(kt_sh->reason), fmt, ap);
		atomic_store(&kt_sh->fr.result, result);
	}
	_exit(code);
}

void kt_fail_at(const char *file, int line, const char *fmt, ...)
{
	char buf[sizeof(kt_sh->reason) - 128];
	va_list ap;
	int expected = KT_RUNNING;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (atomic_compare_exchange_strong(&kt_sh->fr.result, &expected, KT_CLAIMED)) {
		snprintf(kt_sh->reason, sizeof(kt_sh->reason), "%s:%d: %s", file, line, buf);
		atomic_store(&kt_sh->fr.result, KT_FAILED);
	}
	_exit(1);
}

void kt_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_finish(KT_SKIPPED, 0, fmt, ap);
}

void kt_xfail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_finish(KT_XFAILED, 0, fmt, ap);
}

static bool kt_selected(const char *name)
{
	char *dup, *tok, *save;
	bool hit = false;

	if (!kt_opts.filter || !*kt_opts.filter)
		return true;
	dup = strdup(kt_opts.filter);
	if (!dup)
		return true;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strstr(name, tok))
			hit = true;
	free(dup);
	return hit;
}

static void kt_full_name(const struct kt_test *t, const struct kt_mode *m,
			 char *buf, size_t len)
{
	if (m)
		snprintf(buf, len, "%s.%s", t->name, m->name);
	else
		snprintf(buf, len, "%s", t->name);
}

static void kt_print_lines(const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl) {
			printf("# %s\n", p);
			break;
		}
		printf("# %.*s\n", (int)(nl - p), p);
		p = nl + 1;
	}
}

/* Kernel stacks of a stuck child: the evidence for a hang report. */
static void kt_dump_stacks(pid_t pid)
{
	char path[320], line[256];
	struct dirent *de;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		printf("# task %s kernel stack:\n", de->d_name);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			printf("#   %s\n", line);
		}
		fclose(f);
	}
	closedir(d);
}

static uint64_t kt_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* FNV-1a: a test's seed depends on the run seed and its name only, so
 * --filter reproduces it. */
static uint64_t kt_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

struct kt_tally {
	unsigned int pass, fail, skip, xfail;
};

/* One test's child, as odpt_fr_run() hands it over. */
struct kt_child {
	const struct kt_test *t;
	struct kt_ctx ctx;
	const char *name;
	unsigned int timeout_s;
};

static void kt_child_main(void *arg)
{
	struct kt_child *k = arg;
	int r = KT_RUNNING;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	k->t->fn(&k->ctx);
	atomic_compare_exchange_strong(&kt_sh->fr.result, &r, KT_PASS);
}

/* The watchdog fired: say so, with the stacks, before the kill. */
static void kt_on_timeout(void *arg, pid_t pid)
{
	struct kt_child *k = arg;

	printf("# %s: timeout after %u s in stage '%s'\n", k->name, k->timeout_s,
	       kt_sh->fr.stage);
	kt_dump_stacks(pid);
}

/* Runs one test in a child; returns false if the run must stop. */
static bool kt_run_one(unsigned int num, const struct kt_test *t,
		       const struct kt_mode *m, struct kt_tally *tally)
{
	unsigned int longest = kt_opts.race_s > kt_opts.fuzz_s ? kt_opts.race_s : kt_opts.fuzz_s;
	/* Loop tests run for a budget: the default timeout scales with it. */
	unsigned int timeout_s = t->timeout_s ? t->timeout_s :
				 KT_DEFAULT_TIMEOUT_S + 2 * longest;
	char name[128], leak[512] = "";
	struct kt_child k = {
		.t = t,
		.ctx = {
			.test = t,
			.mode = m,
			.budget_s = kt_opts.race_s,
			.rounds = kt_opts.rounds,
		},
		.name = name,
		.timeout_s = timeout_s,
	};
	struct odpt_fr fr = {
		.page = &kt_sh->fr, .start_stage = "start",
		.timeout_ns = timeout_s * 1000000000ull,
		.kill_wait_ns = KT_KILL_GRACE_S * 1000000000ull,
		.on_timeout = kt_on_timeout, .arg = &k,
		.orphans_ns = KT_KILL_GRACE_S * 1000000000ull,
	};
	bool timed_out;
	int status, result, r;
	uint64_t el_ms;

	kt_full_name(t, m, name, sizeof(name));
	k.ctx.seed = kt_mix(kt_opts.seed ^ kt_hash(name));
	memset(kt_sh, 0, sizeof(*kt_sh));
	r = odpt_fr_run(&fr, kt_child_main, &k);
	if (r) {
		printf("Bail out! fork: %s\n", strerror(-r));
		return false;
	}
	if (!fr.reaped) {
		kt_dump_stacks(fr.pid);
		printf("not ok %u %s # unkillable after timeout, stuck in stage '%s'\n",
		       num, name, kt_sh->fr.stage);
		printf("Bail out! a test process is stuck in the kernel\n");
		tally->fail++;
		return false;
	}
	if (fr.orphans_left) {
		printf("not ok %u %s # a process the test forked cannot be killed\n", num, name);
		printf("Bail out! a test process is stuck in the kernel\n");
		tally->fail++;
		return false;
	}
	timed_out = fr.end == ODPT_FR_TIMEOUT;
	status = fr.status;
	el_ms = fr.duration_ns / 1000000;

	result = atomic_load(&kt_sh->fr.result);
	if (kt_sh->diag_len)
		kt_print_lines(kt_sh->diag);
	if (kt_after_each_fn && kt_after_each_fn(leak, sizeof(leak)) != 0) {
		printf("# %s: after-test check: %s\n", name, leak);
		if (result != KT_FAILED) {
			result = KT_FAILED;
			snprintf(kt_sh->reason, sizeof(kt_sh->reason), "leak after test: %s", leak);
		}
	}
	if (timed_out) {
		result = KT_FAILED;
		snprintf(kt_sh->reason, sizeof(kt_sh->reason),
			 "timeout after %u s in stage '%s'", timeout_s, kt_sh->fr.stage);
	} else if (WIFSIGNALED(status) && result != KT_FAILED) {
		snprintf(kt_sh->reason, sizeof(kt_sh->reason), "killed by signal %s in stage '%s'",
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
			 kt_sh->fr.stage);
		result = KT_FAILED;
	} else if (result == KT_RUNNING || result == KT_CLAIMED) {
		snprintf(kt_sh->reason, sizeof(kt_sh->reason),
			 "child exited with status %d without a verdict in stage '%s'",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, kt_sh->fr.stage);
		result = KT_FAILED;
	}

	switch (result) {
	case KT_PASS:
		printf("ok %u %s\n", num, name);
		tally->pass++;
		break;
	case KT_SKIPPED:
		printf("ok %u %s # SKIP %s\n", num, name, kt_sh->reason);
		tally->skip++;
		break;
	case KT_XFAILED:
		printf("ok %u %s # XFAIL %s\n", num, name, kt_sh->reason);
		tally->xfail++;
		break;
	default:
		printf("# %s: %s (stage '%s', %" PRIu64 " ms)\n", name, kt_sh->reason,
		       kt_sh->fr.stage, el_ms);
		printf("not ok %u %s\n", num, name);
		tally->fail++;
		break;
	}
	fflush(stdout);
	return true;
}

static void kt_usage(FILE *f)
{
	fprintf(f,
		"usage: odpt-shim-test [options]\n"
		"  --seed N            run seed (default: from the clock; printed)\n"
		"  --race-seconds N    time budget of each race test (default %u)\n"
		"  --rounds N          round cap of each race test (default %u)\n"
		"  --fuzz-seconds N    fuzzer duration (default %u; 0 skips it)\n"
		"  --fuzz-threads N    fuzzer threads (default %u)\n"
		"  --kmod PATH         odpt_hmm.ko, to reload after the unload test\n"
		"  --filter A,B        run only tests whose name contains A or B\n"
		"  --list              list the test names and exit\n",
		kt_opts.race_s, kt_opts.rounds, kt_opts.fuzz_s, kt_opts.fuzz_threads);
}

static int kt_parse_uint(const char *opt, const char *s, unsigned long long max,
			 unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "odpt-shim-test: %s: '%s' is not an integer in [0, %llu]\n",
			opt, s, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int kt_main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "race-seconds", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "fuzz-seconds", required_argument, NULL, 'f' },
		{ "fuzz-threads", required_argument, NULL, 'j' },
		{ "kmod", required_argument, NULL, 'k' },
		{ "filter", required_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_tally tally = { 0 };
	bool seed_set = false, list = false;
	char reason[512] = "";
	unsigned long long v;
	unsigned int total = 0, num = 0, i;
	struct kt_test *t;
	void *page;
	int c, r;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (kt_parse_uint("--seed", optarg, UINT64_MAX, &v))
				return 2;
			kt_opts.seed = v;
			seed_set = true;
			break;
		case 'r':
			if (kt_parse_uint("--race-seconds", optarg, 3600, &v))
				return 2;
			kt_opts.race_s = (unsigned int)v;
			break;
		case 'n':
			if (kt_parse_uint("--rounds", optarg, 100000000, &v))
				return 2;
			kt_opts.rounds = (unsigned int)v;
			break;
		case 'f':
			if (kt_parse_uint("--fuzz-seconds", optarg, 3600, &v))
				return 2;
			kt_opts.fuzz_s = (unsigned int)v;
			break;
		case 'j':
			if (kt_parse_uint("--fuzz-threads", optarg, 64, &v) || v == 0) {
				if (v == 0)
					fprintf(stderr, "odpt-shim-test: --fuzz-threads must be >= 1\n");
				return 2;
			}
			kt_opts.fuzz_threads = (unsigned int)v;
			break;
		case 'k':
			kt_opts.kmod_path = optarg;
			break;
		case 't':
			kt_opts.filter = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			kt_usage(stdout);
			return 0;
		default:
			kt_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "odpt-shim-test: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!seed_set)
		kt_opts.seed = kt_mix(kt_now_ns() ^ (uint64_t)getpid());

	/* Tests run by order, then registration order. */
	for (unsigned int pass = 0; pass < 3; pass++)
		for (t = kt_head; t; t = t->next) {
			char name[128];

			if (t->order != pass)
				continue;
			for (i = 0; i < (t->per_mode ? kt_nr_modes : 1); i++) {
				kt_full_name(t, t->per_mode ? &kt_modes[i] : NULL, name,
					     sizeof(name));
				if (!kt_selected(name))
					continue;
				if (list)
					printf("%s\n", name);
				total++;
			}
		}
	if (list)
		return 0;

	r = odpt_fr_shared_alloc(sizeof(*kt_sh), &page);
	if (r) {
		fprintf(stderr, "odpt-shim-test: mmap: %s\n", strerror(-r));
		return 1;
	}
	kt_sh = page;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("TAP version 13\n");
	printf("# odpt-shim-test seed=%" PRIu64 " race_s=%u rounds=%u fuzz_s=%u fuzz_threads=%u\n",
	       kt_opts.seed, kt_opts.race_s, kt_opts.rounds, kt_opts.fuzz_s,
	       kt_opts.fuzz_threads);
	printf("1..%u\n", total);
	r = kt_setup_fn ? kt_setup_fn(reason, sizeof(reason)) : 0;
	if (r < 0) {
		printf("Bail out! setup: %s\n", reason);
		return 1;
	}

	for (unsigned int pass = 0; pass < 3; pass++)
		for (t = kt_head; t; t = t->next) {
			char name[128];

			if (t->order != pass)
				continue;
			for (i = 0; i < (t->per_mode ? kt_nr_modes : 1); i++) {
				const struct kt_mode *m = t->per_mode ? &kt_modes[i] : NULL;

				kt_full_name(t, m, name, sizeof(name));
				if (!kt_selected(name))
					continue;
				num++;
				if (r > 0) {
					printf("ok %u %s # SKIP %s\n", num, name, reason);
					tally.skip++;
					continue;
				}
				if (!kt_run_one(num, t, m, &tally))
					goto out;
			}
		}
out:
	printf("# totals: pass=%u fail=%u xfail=%u skip=%u (of %u planned)\n", tally.pass,
	       tally.fail, tally.xfail, tally.skip, total);
	if (num < total)
		return 1;
	return tally.fail ? 1 : 0;
}
