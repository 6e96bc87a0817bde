// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The suite runner: filter, precondition, fork, watchdog, result. Each case
 * runs in its own process group under the core's fork runner (forkrun.h)
 * so that a hang, a crash or a stray grandchild (the fork cases make one)
 * cannot take the runner with it; the child writes its stage, counters and
 * verdict into a shared anonymous page, which the parent reads after the
 * child has gone. A case killed by the watchdog is reported with the last
 * stage it recorded.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/forkrun.h"
#include "odpt/suite.h"
#include "odpt/verbs.h"

#define TSHM_STAGE_LEN ODPT_FR_STAGE_LEN
#define TSHM_REASON_LEN 512
#define TSHM_DIAG_LEN 3072

struct odpt_tshm {
	struct odpt_fr_page fr;      /* verdict (ODPT_FR_NONE until set), stage */
	uint64_t iterations;
	uint64_t faults_forced;
	uint64_t faults_device;      /* dropped pages the device then touched */
	uint64_t pattern_hits;       /* tc_bug_pattern() calls */
	int pattern_only;            /* FAIL made of the pattern's damage alone */
	char pattern[64];
	char pattern_reason[TSHM_REASON_LEN];
	char reason[TSHM_REASON_LEN];
	char diag[TSHM_DIAG_LEN];
	struct odpt_odp_counters odp;
};

/* ---- child-side helpers ---------------------------------------------------- */

void tc_stage(struct odpt_tctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	odpt_fr_vstage(&t->shm->fr, fmt, ap);
	va_end(ap);
}

static int set_verdict(struct odpt_tctx *t, int result, const char *fmt,
		       va_list ap)
{
	/* The first failure is the one worth reading; keep it. */
	if (t->shm->fr.result == ODPT_FAIL)
		return ODPT_FAIL;
	t->shm->fr.result = result;
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

void tc_device_faults(struct odpt_tctx *t, uint64_t n)
{
	t->shm->faults_device += n;
}

void tc_bug_pattern(struct odpt_tctx *t, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (!t->shm->pattern_hits++) {
		snprintf(t->shm->pattern, sizeof(t->shm->pattern), "%s", key);
		va_start(ap, fmt);
		vsnprintf(t->shm->pattern_reason, sizeof(t->shm->pattern_reason), fmt, ap);
		va_end(ap);
	} else if (strcmp(t->shm->pattern, key)) {
		/* Two different bugs' damage in one case: no single one explains it. */
		tc_fail(t, "damage of two known bugs in one case (%s, then %s)",
			t->shm->pattern, key);
	}
}

uint64_t tc_stall_ns(const struct odpt_tctx *t)
{
	uint64_t s = t->cfg->stall_s ? t->cfg->stall_s : ODPT_SUITE_STALL_S;

	if (t->cfg->timeout_s && s > t->cfg->timeout_s)
		s = t->cfg->timeout_s;
	return s * 1000000000ull;
}

/* The per-MR page_faults counter against the pages the case dropped and
 * had the device touch; nothing to check where the driver counts none. */
static void check_device_faults(struct odpt_tctx *t)
{
	const struct odpt_odp_counters *o = &t->shm->odp;

	if (!t->shm->faults_device || !o->mrs_counted || t->shm->fr.result == ODPT_SKIP)
		return;
	for (int i = 0; i < o->ncounters && i < ODPT_ODP_MAX_COUNTERS; i++)
		if (!strcmp(o->c[i].name, "page_faults") && o->c[i].value < t->shm->faults_device)
			tc_fail(t, "per-MR counter page_faults rose by %llu over the case's %u counted ODP MRs, want at least %llu (the pages the case dropped and then had the device touch)",
				(unsigned long long)o->c[i].value, o->mrs_counted,
				(unsigned long long)t->shm->faults_device);
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

int odpt_known_bugs_without(const struct odpt_known_bug *tab, int n, const char *ids,
			    struct odpt_known_bug *out, char *bad, size_t badlen)
{
	int kept = 0;
	const char *p;

	ids = ids ? ids : "";
	p = ids;

	/* Every id must name an entry: a typo must not silently keep an XFAIL. */
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (int i = 0; i < n && len; i++)
			found |= tab[i].pattern && strlen(tab[i].pattern) == len &&
				 !strncmp(tab[i].pattern, p, len);
		if (len && !found) {
			snprintf(bad, badlen, "%.*s", (int)len, p);
			return -EINVAL;
		}
		p += len + (p[len] == ',');
	}
	for (int i = 0; i < n; i++)
		if (!tab[i].pattern || !*ids || !odpt_suite_filter_match(ids, tab[i].pattern)) {
			if (out)
				out[kept] = tab[i];
			kept++;
		}
	return kept;
}

/* ---- the runner --------------------------------------------------------------- */

static void run_child(const struct odpt_case *c, const struct odpt_suite_cfg *cfg,
		      struct odpt_tshm *shm)
{
	struct odpt_tctx t = { .cfg = cfg, .c = c, .shm = shm };
	int result;

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
	if (shm->fr.result < 0 || result == ODPT_FAIL)
		shm->fr.result = result;
	check_device_faults(&t);
	if (shm->pattern_hits && shm->fr.result == ODPT_PASS) {
		/* Only the known bug's predicted damage: a FAIL carrying its key. */
		shm->fr.result = ODPT_FAIL;
		shm->pattern_only = 1;
		if (shm->iterations)
			snprintf(shm->reason, sizeof(shm->reason), "%.300s (%llu times in %llu iterations, each exactly as the %.40s model predicts)",
				 shm->pattern_reason, (unsigned long long)shm->pattern_hits,
				 (unsigned long long)shm->iterations, shm->pattern);
		else
			snprintf(shm->reason, sizeof(shm->reason), "%.400s (exactly as the %.40s model predicts)",
				 shm->pattern_reason, shm->pattern);
	}
	if (result == ODPT_FAIL && !shm->reason[0])
		snprintf(shm->reason, sizeof(shm->reason), "failed in stage: %s",
			 shm->fr.stage);
	/* Keep the stage a failure happened in; a hang in teardown still shows. */
	if (shm->fr.result != ODPT_FAIL)
		tc_stage(&t, "tearing down");
	if (t.vr != t.v)
		odpt_vctx_close(t.vr);
	odpt_vctx_close(t.v);
	_exit(0);
}

/* The running case, for progress reports while the runner waits. */
struct progress {
	const struct odpt_suite_env *env;
	const char *name;
	int k, planned;
};

static void progress_report(void *arg, uint64_t elapsed_ns)
{
	struct progress *p = arg;

	if (p->env->on_progress)
		p->env->on_progress(p->env->arg, p->name, p->k, p->planned, elapsed_ns);
}

/* What run_child() needs, through odpt_fr_run()'s one argument. */
struct child_args {
	const struct odpt_case *c;
	const struct odpt_suite_cfg *cfg;
	struct odpt_tshm *shm;
};

static void child_main(void *arg)
{
	struct child_args *a = arg;

	run_child(a->c, a->cfg, a->shm);
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

/* One run over a table: what each case gave, to look controls up. */
struct run_ctx {
	const struct odpt_case *tab;
	int n;
	int *result;              /* per case: -1 not run yet */
	const struct odpt_suite_cfg *cfg;
	const struct odpt_suite_env *env;
	struct odpt_report *r;
	uint64_t deadline_ns;     /* 0: none */
	int recorded;
	int planned, started;     /* for env->on_progress */
};

static int run_one(struct run_ctx *x, int idx);

static int add_record(struct run_ctx *x, int idx, const struct odpt_test_record *rec)
{
	int ret = odpt_report_test(x->r, rec);

	if (ret)
		return ret;
	x->result[idx] = rec->result;
	x->recorded++;
	if (x->env->on_record)
		x->env->on_record(x->env->arg, x->r, rec, x->recorded);
	return 0;
}

/*
 * The result of the control case named by pattern ('*' = name) in this
 * run, running it now if it has not run; -ENOENT if no such case.
 */
static int control_result(struct run_ctx *x, const char *pattern, const char *name,
			  char *ctl, size_t ctl_len)
{
	const char *star = strchr(pattern, '*');

	if (star)
		snprintf(ctl, ctl_len, "%.*s%s%s", (int)(star - pattern), pattern, name, star + 1);
	else
		snprintf(ctl, ctl_len, "%s", pattern);
	for (int i = 0; i < x->n; i++) {
		if (strcmp(x->tab[i].name, ctl))
			continue;
		if (x->result[i] < 0) {
			int ret = run_one(x, i);

			if (ret)
				return ret;
		}
		return x->result[i];
	}
	return -ENOENT;
}

static const char *result_word(int res)
{
	switch (res) {
	case ODPT_PASS: return "passed";
	case ODPT_FAIL: return "failed";
	case ODPT_SKIP: return "skipped";
	case ODPT_XFAIL: return "xfailed";
	case ODPT_XPASS: return "xpassed";
	case -ENOENT: return "is not in the catalogue";
	default: return "did not run";
	}
}

static int run_one(struct run_ctx *x, int idx)
{
	const struct odpt_case *c = &x->tab[idx];
	const struct odpt_suite_cfg *cfg = x->cfg;
	const struct odpt_suite_env *env = x->env;
	uint64_t timeout_ns = cfg->timeout_s * 1000000000ull;
	struct odpt_test_record rec = { .name = c->name };
	char reason[TSHM_REASON_LEN + TSHM_STAGE_LEN + 256];
	char xreason[4096];
	char pre[384];
	struct odpt_tshm *shm;
	void *page;
	struct progress prog;
	struct child_args ca;
	struct odpt_fr fr;
	int status;
	int ret;

	if ((c->flags & ODPT_CASE_NEEDS_DEV) && env->caps && c->precond) {
		const char *why = precond_both(c, env, pre, sizeof(pre));

		if (why) {
			rec.result = ODPT_SKIP;
			rec.reason = why;
			return add_record(x, idx, &rec);
		}
	}
	if (x->deadline_ns) {
		uint64_t now = odpt_clock_raw_ns();

		if (now >= x->deadline_ns) {
			rec.result = ODPT_FAIL;
			snprintf(reason, sizeof(reason), "not run: the suite deadline of %llu s had passed",
				 (unsigned long long)cfg->deadline_s);
			rec.reason = reason;
			return add_record(x, idx, &rec);
		}
		if (x->deadline_ns - now < timeout_ns)
			timeout_ns = x->deadline_ns - now;
	}
	ret = odpt_fr_shared_alloc(sizeof(*shm), &page);
	if (ret)
		return ret;
	shm = page;
	prog = (struct progress){ .env = env, .name = c->name, .k = ++x->started,
				  .planned = x->planned > x->started ? x->planned : x->started };
	progress_report(&prog, 0);
	ca = (struct child_args){ .c = c, .cfg = cfg, .shm = shm };
	fr = (struct odpt_fr){
		.page = &shm->fr, .start_stage = "starting",
		.timeout_ns = timeout_ns,
		.kill_wait_ns = ODPT_SUITE_REAP_S * 1000000000ull,
		.stop = env->stop,
		.on_tick = progress_report, .tick_ns = 1000000000ull, .arg = &prog,
	};
	ret = odpt_fr_run(&fr, child_main, &ca);
	if (ret)
		goto unmap_shm;
	status = fr.status;
	rec.duration_ns = fr.duration_ns;
	if (fr.end != ODPT_FR_EXITED) {
		rec.result = ODPT_FAIL;
		if (fr.end == ODPT_FR_STOPPED)
			snprintf(reason, sizeof(reason), "interrupted (SIGINT/SIGTERM) in stage: %s",
				 shm->fr.stage);
		else
			snprintf(reason, sizeof(reason), "timed out after %g s%s in stage: %s",
				 (double)timeout_ns / 1e9,
				 timeout_ns < cfg->timeout_s * 1000000000ull ? " (the rest of the suite deadline)" : "",
				 shm->fr.stage);
		if (!fr.reaped)
			snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
				 "; hung: still alive %d s after SIGKILL (stuck in the kernel), pid %d left behind",
				 ODPT_SUITE_REAP_S, (int)fr.pid);
		rec.stage = shm->fr.stage;
	} else {
		if (WIFSIGNALED(status)) {
			rec.result = ODPT_FAIL;
			snprintf(reason, sizeof(reason), "killed by signal %d (%s) in stage: %s",
				 WTERMSIG(status), strsignal(WTERMSIG(status)), shm->fr.stage);
			rec.stage = shm->fr.stage;
		} else if (shm->fr.result < 0) {
			rec.result = ODPT_FAIL;
			snprintf(reason, sizeof(reason),
				 "exited with status %d without a verdict in stage: %s",
				 WEXITSTATUS(status), shm->fr.stage);
			rec.stage = shm->fr.stage;
		} else {
			rec.result = shm->fr.result;
			snprintf(reason, sizeof(reason), "%s", shm->reason);
			if (rec.result == ODPT_FAIL)
				rec.stage = shm->fr.stage;
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

	if (fr.end == ODPT_FR_EXITED && (rec.result == ODPT_FAIL || rec.result == ODPT_PASS)) {
		const struct odpt_known_bug *b = known_bug(env, c->name);
		bool match = false;
		int ctl_res = ODPT_PASS;
		char ctl[128] = "";

		if (b && rec.result == ODPT_FAIL)
			match = b->pattern ? shm->pattern_only && !strcmp(shm->pattern, b->pattern)
					   : odpt_known_bug_symptom(b, reason);
		if (match && b->control) {
			ctl_res = control_result(x, b->control, c->name, ctl, sizeof(ctl));
			if (ctl_res < -1 && ctl_res != -ENOENT) {
				ret = ctl_res;
				goto unmap_shm;
			}
		}
		if (b && rec.result == ODPT_FAIL && !match) {
			/* A different failure of a listed case is a real failure. */
			snprintf(xreason, sizeof(xreason), "%s (not the known %s bug's %s, so not XFAIL)",
				 reason, b->driver, b->pattern ? "predicted pattern" : "symptom");
			rec.reason = xreason;
		} else if (b && rec.result == ODPT_FAIL && ctl_res != ODPT_PASS) {
			snprintf(xreason, sizeof(xreason),
				 "%s (the known %s bug's pattern, but its control %s %s in this run, so not XFAIL)",
				 reason, b->driver, ctl, result_word(ctl_res));
			rec.reason = xreason;
		} else if (b && rec.result == ODPT_FAIL) {
			snprintf(xreason, sizeof(xreason), "known %s bug on kernel %s: %s (%s); saw: %s%s%s%s",
				 b->driver, env->krelease, b->what, b->evidence, reason,
				 ctl[0] ? "; control " : "", ctl, ctl[0] ? " passed" : "");
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
	ret = add_record(x, idx, &rec);
	if (!ret && fr.end == ODPT_FR_STOPPED)
		ret = -EINTR;
unmap_shm:
	/* A child left behind may still write its page: leave it mapped. */
	if (fr.reaped)
		odpt_fr_shared_free(shm, sizeof(*shm));
	return ret;
}

int odpt_suite_run_cases(const struct odpt_case *tab, int n,
			 const struct odpt_suite_cfg *cfg,
			 const struct odpt_suite_env *env, struct odpt_report *r)
{
	struct run_ctx x = { .tab = tab, .n = n, .cfg = cfg, .env = env, .r = r };
	int matched = 0, ret = 0;

	for (int i = 0; i < n; i++)
		matched += odpt_suite_filter_match(cfg->filter, tab[i].name);
	if (!matched)
		return -ENOENT;
	x.planned = matched;
	x.result = malloc(n * sizeof(*x.result));
	if (!x.result)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		x.result[i] = -1;
	if (cfg->deadline_s)
		x.deadline_ns = odpt_clock_raw_ns() + cfg->deadline_s * 1000000000ull;
	for (int i = 0; i < n && !ret; i++) {
		if (!odpt_suite_filter_match(cfg->filter, tab[i].name) || x.result[i] >= 0)
			continue;
		if (env->stop && *env->stop)
			ret = -EINTR;
		else
			ret = run_one(&x, i);
	}
	free(x.result);
	return ret;
}
