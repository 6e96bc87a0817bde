// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The suite runner: filter, precondition, fork, watchdog, result. Each case
 * runs in its own process group so that a hang, a crash or a stray
 * grandchild (the fork cases make one) cannot take the runner with it; the
 * child writes its stage, counters and verdict into a shared anonymous
 * page, which the parent reads after the child has gone. A case killed by
 * the watchdog is reported with the last stage it recorded.
 */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpt/suite.h"
#include "odpt/verbs.h"

#define TSHM_STAGE_LEN 192
#define TSHM_REASON_LEN 512
#define TSHM_DIAG_LEN 3072

struct odpt_tshm {
	int result;                  /* -1 until the child sets one */
	uint64_t iterations;
	uint64_t faults_forced;
	char stage[TSHM_STAGE_LEN];
	char reason[TSHM_REASON_LEN];
	char diag[TSHM_DIAG_LEN];
	struct odpt_odp_counters odp;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- child-side helpers ---------------------------------------------------- */

void tc_stage(struct odpt_tctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->shm->stage, sizeof(t->shm->stage), fmt, ap);
	va_end(ap);
}

static int set_verdict(struct odpt_tctx *t, int result, const char *fmt,
		       va_list ap)
{
	/* The first failure is the one worth reading; keep it. */
	if (t->shm->result == ODPT_FAIL)
		return ODPT_FAIL;
	t->shm->result = result;
	vsnprintf(t->shm->reason, sizeof(t->shm->reason), fmt, ap);
	return result;
}

int tc_fail(struct odpt_tctx *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = set_verdict(t, ODPT_FAIL, fmt, ap);
	va_end(ap);
	return r;
}

int tc_skip(struct odpt_tctx *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = set_verdict(t, ODPT_SKIP, fmt, ap);
	va_end(ap);
	return r;
}

void tc_diag(struct odpt_tctx *t, const char *fmt, ...)
{
	size_t off = strlen(t->shm->diag);
	va_list ap;

	if (off + 2 >= sizeof(t->shm->diag))
		return;
	if (off)
		t->shm->diag[off++] = '\n';
	va_start(ap, fmt);
	vsnprintf(t->shm->diag + off, sizeof(t->shm->diag) - off, fmt, ap);
	va_end(ap);
}

void tc_iteration_done(struct odpt_tctx *t)
{
	t->shm->iterations++;
}

void tc_faults_forced(struct odpt_tctx *t, uint64_t n)
{
	t->shm->faults_forced += n;
}

struct odpt_odp_counters *tc_odp_counters(struct odpt_tctx *t)
{
	return &t->shm->odp;
}

/* ---- filter and known bugs --------------------------------------------------- */

bool odpt_suite_filter_match(const char *filter, const char *name)
{
	char glob[256];
	const char *p = filter;

	if (!filter || !*filter)
		return true;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n && n < sizeof(glob)) {
			memcpy(glob, p, n);
			glob[n] = '\0';
			if (!fnmatch(glob, name, 0))
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

int odpt_kver_cmp(const char *a, const char *b)
{
	/* Numeric components separated by '.', stopping at the first
	 * character that is neither ("7.3.4+deb13-amd64" -> 7 3 4). */
	for (int i = 0; i < 4; i++) {
		unsigned long x = 0, y = 0;
		char *end;

		if (*a >= '0' && *a <= '9') {
			x = strtoul(a, &end, 10);
			a = end;
		}
		if (*b >= '0' && *b <= '9') {
			y = strtoul(b, &end, 10);
			b = end;
		}
		if (x != y)
			return x < y ? -1 : 1;
		a += *a == '.';
		b += *b == '.';
	}
	return 0;
}

const struct odpt_known_bug *odpt_known_bug_find(const struct odpt_known_bug *tab,
						 int n, const char *driver,
						 const char *krelease,
						 const char *test)
{
	if (!driver || !krelease)
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct odpt_known_bug *b = &tab[i];

		if (strcmp(b->driver, driver))
			continue;
		if (odpt_kver_cmp(krelease, b->kver_min) < 0)
			continue;
		if (b->kver_end && odpt_kver_cmp(krelease, b->kver_end) >= 0)
			continue;
		if (odpt_suite_filter_match(b->tests, test))
			return b;
	}
	return NULL;
}

bool odpt_known_bug_symptom(const struct odpt_known_bug *b, const char *reason)
{
	const char *p = b->symptom;
	char sub[128];

	if (!p)
		return true;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n && n < sizeof(sub)) {
			memcpy(sub, p, n);
			sub[n] = '\0';
			if (reason && strstr(reason, sub))
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* ---- the runner --------------------------------------------------------------- */

static void run_child(const struct odpt_case *c, const struct odpt_suite_cfg *cfg,
		      struct odpt_tshm *shm)
{
	struct odpt_tctx t = { .cfg = cfg, .c = c, .shm = shm };
	int result;

	setpgid(0, 0);
	if (c->flags & ODPT_CASE_NEEDS_DEV) {
		int ret;

		tc_stage(&t, "opening device %s", cfg->dev ? cfg->dev : "(first)");
		ret = odpt_vctx_open(cfg->dev, (int)cfg->port, (int)cfg->gid, &t.v);
		if (ret) {
			tc_fail(&t, "opening device %s port %d: %s",
				cfg->dev ? cfg->dev : "(first)", (int)cfg->port,
				strerror(-ret));
			_exit(0);
		}
		t.vr = t.v;
		if (cfg->peer_dev) {
			tc_stage(&t, "opening responder device %s", cfg->peer_dev);
			ret = odpt_vctx_open(cfg->peer_dev, (int)cfg->peer_port,
					     (int)cfg->peer_gid, &t.vr);
			if (ret) {
				tc_fail(&t, "opening responder device %s port %d: %s",
					cfg->peer_dev, (int)cfg->peer_port, strerror(-ret));
				_exit(0);
			}
		}
	}
	tc_stage(&t, "running");
	result = c->run(&t);
	if (shm->result < 0 || result == ODPT_FAIL)
		shm->result = result;
	if (result == ODPT_FAIL && !shm->reason[0])
		snprintf(shm->reason, sizeof(shm->reason), "failed in stage: %s",
			 shm->stage);
	/* Keep the stage a failure happened in; a hang in teardown still shows. */
	if (shm->result != ODPT_FAIL)
		tc_stage(&t, "tearing down");
	if (t.vr != t.v)
		odpt_vctx_close(t.vr);
	odpt_vctx_close(t.v);
	_exit(0);
}

/* Wait for pid up to timeout_ns; returns true when it exited (status set). */
static bool wait_child(pid_t pid, uint64_t timeout_ns, int *status)
{
	uint64_t deadline = now_ns() + timeout_ns;
	long sleep_ns = 20000;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			return true;
		if (now_ns() > deadline)
			return false;
		struct timespec ts = { 0, sleep_ns };

		nanosleep(&ts, NULL);
		if (sleep_ns < 5000000)
			sleep_ns *= 2;
	}
}

/*
 * The case's precondition on the requester's device and, in two-device
 * mode, on the responder's too: a cap missing on either side is a SKIP
 * that names the device lacking it, or both (the reasons themselves name
 * only the driver).
 */
static const char *precond_both(const struct odpt_case *c, const struct odpt_suite_env *env,
				char *buf, int len)
{
	char one[256], two[256];
	const char *wa, *wb;

	if (!env->peer_caps)
		return c->precond(env->caps, c, buf, len);
	wa = c->precond(env->caps, c, one, sizeof(one));
	wb = c->precond(env->peer_caps, c, two, sizeof(two));
	if (wa && wb && !strcmp(wa, wb))
		snprintf(buf, len, "both devices (%s, %s): %s", env->dev_name, env->peer_name, wa);
	else if (wa)
		snprintf(buf, len, "requester device %s: %s", env->dev_name, wa);
	else if (wb)
		snprintf(buf, len, "responder device %s: %s", env->peer_name, wb);
	else
		return NULL;
	return buf;
}

/* The known bug of either device's driver that lists this case. */
static const struct odpt_known_bug *known_bug(const struct odpt_suite_env *env,
					      const char *name)
{
	const struct odpt_known_bug *b =
		odpt_known_bug_find(env->bugs, env->nbugs, env->driver, env->krelease, name);

	if (!b && env->peer_caps)
		b = odpt_known_bug_find(env->bugs, env->nbugs, env->peer_caps->driver,
					env->krelease, name);
	return b;
}

static int run_one(const struct odpt_case *c, const struct odpt_suite_cfg *cfg,
		   const struct odpt_suite_env *env, struct odpt_report *r)
{
	struct odpt_test_record rec = { .name = c->name };
	char reason[TSHM_REASON_LEN + TSHM_STAGE_LEN + 256];
	char xreason[4096];
	char pre[384];
	struct odpt_tshm *shm;
	uint64_t t0;
	int status = 0;
	pid_t pid;
	int ret;

	if ((c->flags & ODPT_CASE_NEEDS_DEV) && env->caps && c->precond) {
		const char *why = precond_both(c, env, pre, sizeof(pre));

		if (why) {
			rec.result = ODPT_SKIP;
			rec.reason = why;
			return odpt_report_test(r, &rec);
		}
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return -errno;
	memset(shm, 0, sizeof(*shm));
	shm->result = -1;
	snprintf(shm->stage, sizeof(shm->stage), "starting");
	fflush(NULL);   /* the child must not flush the parent's buffers again */
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto unmap_shm;
	}
	if (pid == 0)
		run_child(c, cfg, shm);
	setpgid(pid, pid);   /* also done by the child: no race either way */
	if (!wait_child(pid, cfg->timeout_s * 1000000000ull, &status)) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		rec.duration_ns = now_ns() - t0;
		rec.result = ODPT_FAIL;
		snprintf(reason, sizeof(reason), "timed out after %llu s in stage: %s",
			 (unsigned long long)cfg->timeout_s, shm->stage);
		rec.stage = shm->stage;
	} else {
		rec.duration_ns = now_ns() - t0;
		/* Reap any grandchild the case left behind. */
		kill(-pid, SIGKILL);
		if (WIFSIGNALED(status)) {
			rec.result = ODPT_FAIL;
			snprintf(reason, sizeof(reason), "killed by signal %d (%s) in stage: %s",
				 WTERMSIG(status), strsignal(WTERMSIG(status)), shm->stage);
			rec.stage = shm->stage;
		} else if (shm->result < 0) {
			rec.result = ODPT_FAIL;
			snprintf(reason, sizeof(reason),
				 "exited with status %d without a verdict in stage: %s",
				 WEXITSTATUS(status), shm->stage);
			rec.stage = shm->stage;
		} else {
			rec.result = shm->result;
			snprintf(reason, sizeof(reason), "%s", shm->reason);
			if (rec.result == ODPT_FAIL)
				rec.stage = shm->stage;
		}
	}
	rec.iterations = shm->iterations;
	rec.faults_forced = shm->faults_forced;
	rec.diag = shm->diag[0] ? shm->diag : NULL;
	rec.reason = reason[0] ? reason : NULL;
	/* The child may have died mid-write: terminate its strings. */
	shm->odp.reason[sizeof(shm->odp.reason) - 1] = '\0';
	if (shm->odp.ncounters < 0 || shm->odp.ncounters > ODPT_ODP_MAX_COUNTERS)
		shm->odp.ncounters = 0;
	for (int i = 0; i < ODPT_ODP_MAX_COUNTERS; i++)
		shm->odp.c[i].name[sizeof(shm->odp.c[i].name) - 1] = '\0';
	rec.odp = &shm->odp;

	if (rec.result == ODPT_FAIL || rec.result == ODPT_PASS) {
		const struct odpt_known_bug *b = known_bug(env, c->name);

		if (b && rec.result == ODPT_FAIL && !odpt_known_bug_symptom(b, reason)) {
			/* A different failure of a listed case is a real failure. */
			snprintf(xreason, sizeof(xreason),
				 "%s (not the known %s bug's symptom, so not XFAIL)", reason, b->driver);
			rec.reason = xreason;
		} else if (b && rec.result == ODPT_FAIL) {
			snprintf(xreason, sizeof(xreason), "known %s bug on kernel %s: %s (%s); saw: %s",
				 b->driver, env->krelease, b->what, b->evidence, reason);
			rec.result = ODPT_XFAIL;
			rec.reason = xreason;
		} else if (b) {
			snprintf(xreason, sizeof(xreason),
				 "known %s bug listed for kernel %s did not show (%s): update the known-bug table",
				 b->driver, env->krelease, b->what);
			rec.result = ODPT_XPASS;
			rec.reason = xreason;
		}
	}
	ret = odpt_report_test(r, &rec);
unmap_shm:
	munmap(shm, sizeof(*shm));
	return ret;
}

int odpt_suite_run_cases(const struct odpt_case *tab, int n,
			 const struct odpt_suite_cfg *cfg,
			 const struct odpt_suite_env *env, struct odpt_report *r)
{
	int matched = 0;

	for (int i = 0; i < n; i++)
		matched += odpt_suite_filter_match(cfg->filter, tab[i].name);
	if (!matched)
		return -ENOENT;
	for (int i = 0; i < n; i++) {
		int ret;

		if (!odpt_suite_filter_match(cfg->filter, tab[i].name))
			continue;
		ret = run_one(&tab[i], cfg, env, r);
		if (ret)
			return ret;
	}
	return 0;
}
