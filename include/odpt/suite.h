/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The ODP regression suite: a catalogue of named test cases, each with a
 * capability precondition, run one by one in a forked child with a
 * watchdog. The child records the stage it is in (registering, posting,
 * polling which CQ, validating) in shared memory, so a hung case is killed
 * and reported with that stage. A table of known kernel bugs turns a
 * failure of a listed case into XFAIL (and a pass into XPASS). Results go
 * into a struct odpt_report; the output writers render TAP, JUnit and JSON.
 */
#ifndef ODPT_SUITE_H
#define ODPT_SUITE_H

#include <stdbool.h>
#include <stdint.h>

#include "odpt/report.h"

struct odpt_vctx;
struct odpt_vcaps;

struct odpt_suite_cfg {
	const char *dev;        /* NULL: first device */
	uint64_t port;
	int64_t gid;            /* < 0: automatic */
	/* Two-device mode: the responder side on another device; NULL: the
	 * pair is loopback on dev. */
	const char *peer_dev;
	uint64_t peer_port;
	int64_t peer_gid;       /* < 0: automatic */
	const char *filter;     /* glob, or comma-separated globs; NULL: all */
	uint64_t iters;
	uint64_t timeout_s;     /* per case */
	/* A completion wait with no completion for this long fails the case,
	 * naming the stage and the work request; 0: ODPT_SUITE_STALL_S. */
	uint64_t stall_s;
	/* The whole run: cases not started by then are reported as not run
	 * (FAIL), a running one gets only the time left; 0: no deadline. */
	uint64_t deadline_s;
};

#define ODPT_SUITE_STALL_S 10
/* After SIGKILL, how long the runner waits for a case to die before it
 * reports it as hung in the kernel and goes on without it. */
#define ODPT_SUITE_REAP_S 10

/* The child's view of one running case. */
struct odpt_tshm;
struct odpt_tctx {
	const struct odpt_suite_cfg *cfg;
	const struct odpt_case *c;
	struct odpt_vctx *v;    /* opened by the runner when the case needs it */
	struct odpt_vctx *vr;   /* the responder's device: v in loopback, else
				 * the peer device (its own PD) */
	struct odpt_tshm *shm;
};

/* Precondition: NULL when the case can run, else the skip reason. */
typedef const char *(*odpt_case_precond_fn)(const struct odpt_vcaps *caps,
					    const struct odpt_case *c,
					    char *buf, int len);
/* Returns ODPT_PASS, ODPT_FAIL or ODPT_SKIP (reason set through tc_*). */
typedef int (*odpt_case_run_fn)(struct odpt_tctx *t);

enum odpt_case_flags {
	ODPT_CASE_NEEDS_DEV = 1u << 0,   /* the runner opens the device */
};

struct odpt_case {
	const char *name;
	const char *summary;
	odpt_case_precond_fn precond;
	odpt_case_run_fn run;
	unsigned flags;
	int op;                 /* parameters shared by families of cases */
	int variant;
};

/* The built-in catalogue. */
extern const struct odpt_case odpt_suite_cases[];
extern const int odpt_suite_ncases;

/* Known kernel bugs: a failure of a listed case is expected. */
struct odpt_known_bug {
	const char *driver;     /* "rxe" */
	const char *kver_min;   /* first affected release, inclusive ("7.3") */
	const char *kver_end;   /* first fixed release, exclusive ("7.4"), NULL open */
	const char *tests;      /* comma-separated globs of case names */
	const char *symptom;    /* comma-separated substrings, one of which the
				 * failure reason must contain (NULL: any);
				 * used only without a pattern */
	/* The key a case records with tc_bug_pattern() when the damage it saw
	 * is exactly what this bug predicts (bugmodel.h); when set, only a
	 * failure made of such damage alone is XFAIL. */
	const char *pattern;
	/* The control case that must have passed in the same run for XFAIL
	 * ('*' stands for the failing case's name: "*_pinned"); the runner
	 * runs it first if the filter left it out. NULL: none. */
	const char *control;
	const char *what;       /* one line: the bug */
	const char *evidence;   /* where it was shown */
};
extern const struct odpt_known_bug odpt_known_bugs[];
extern const int odpt_nknown_bugs;
/* The entry matching (driver, kernel release, case name), or NULL. The
 * caller checks the symptom with odpt_known_bug_symptom(). */
const struct odpt_known_bug *odpt_known_bug_find(const struct odpt_known_bug *tab,
						 int n, const char *driver,
						 const char *krelease,
						 const char *test);
/* Whether a failure reason shows the bug's symptom. */
bool odpt_known_bug_symptom(const struct odpt_known_bug *b, const char *reason);
/*
 * Copy into out (room for n; NULL: only count) the entries of tab whose
 * pattern key is not one of ids (comma-separated; NULL or "" keeps all):
 * a kernel carrying
 * fixes for those bugs must pass their cases (kernel-patches/). Returns
 * how many were kept, or -EINVAL with the first id no entry has in bad.
 */
int odpt_known_bugs_without(const struct odpt_known_bug *tab, int n, const char *ids,
			    struct odpt_known_bug *out, char *bad, size_t badlen);
/* Compare "7.3.4+deb13-amd64" style releases numerically: <0, 0, >0. */
int odpt_kver_cmp(const char *a, const char *b);

/* Whether name matches the filter (comma-separated globs; NULL matches). */
bool odpt_suite_filter_match(const char *filter, const char *name);

/* Facts the runner needs besides the configuration. */
struct odpt_suite_env {
	const struct odpt_vcaps *caps;   /* NULL: no device (cases needing one FAIL) */
	const char *driver;              /* for the known-bug table */
	/* Two-device mode: the responder device's caps (a precondition must
	 * hold on both; a SKIP names the device lacking it) and names. NULL
	 * peer_caps: loopback. */
	const struct odpt_vcaps *peer_caps;
	const char *dev_name, *peer_name;
	const char *krelease;            /* uname -r */
	const struct odpt_known_bug *bugs;
	int nbugs;
	/* Called after each record is added (streaming output); may be NULL. */
	void (*on_record)(void *arg, const struct odpt_report *r,
			  const struct odpt_test_record *rec, int n);
	/* Called as case number k of about planned (the cases the filter
	 * matched; controls run for them come on top) starts, elapsed_ns 0,
	 * then about once a second while it runs; may be NULL. */
	void (*on_progress)(void *arg, const char *name, int k, int planned,
			    uint64_t elapsed_ns);
	void *arg;
	/* Set (by a signal handler) to stop: the running case is killed and
	 * recorded as interrupted, no further case starts, and the run
	 * returns -EINTR. NULL: not interruptible. */
	volatile int *stop;
};

/*
 * Run the cases of tab that match cfg->filter, each in a forked child with
 * cfg->timeout_s, and add one test record per case to r. Returns 0,
 * -ENOENT when the filter matches nothing, -EINTR when *env->stop was set.
 */
int odpt_suite_run_cases(const struct odpt_case *tab, int n,
			 const struct odpt_suite_cfg *cfg,
			 const struct odpt_suite_env *env, struct odpt_report *r);

/* Child-side helpers: record the stage, fail, skip, add diagnostics. */
void tc_stage(struct odpt_tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int tc_fail(struct odpt_tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int tc_skip(struct odpt_tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tc_diag(struct odpt_tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tc_iteration_done(struct odpt_tctx *t);
void tc_faults_forced(struct odpt_tctx *t, uint64_t n);
/*
 * The case dropped n pages and then made the device touch them: where the
 * driver counts per-MR page faults (mlx5 page_faults), the case fails
 * unless the counter rose by at least the sum of these.
 */
void tc_device_faults(struct odpt_tctx *t, uint64_t n);
/*
 * The damage just seen is exactly what the known bug with this pattern key
 * predicts (the first call's text is kept). The case goes on; if nothing
 * else fails, it ends as a FAIL carrying the key, which the known-bug table
 * turns into XFAIL. Any tc_fail() makes it an ordinary FAIL.
 */
void tc_bug_pattern(struct odpt_tctx *t, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The stall bound of completion waits, in ns. */
uint64_t tc_stall_ns(const struct odpt_tctx *t);

/* The case's per-MR ODP counter tally (in the runner's shared memory). */
struct odpt_odp_counters *tc_odp_counters(struct odpt_tctx *t);
struct odpt_vmr;
/* Look mr up over RDMA netlink and add its counters (or the reason there
 * are none) to the tally. Call while the MR is registered. */
void tc_odp_snapshot(struct odpt_tctx *t, const struct odpt_vmr *mr);
/*
 * Whether device v has per-MR ODP counters, found by registering a 1-page
 * ODP MR and reading it back over RDMA netlink: 1 (why lists the counter
 * names), 0 (why says why not), or -errno.
 */
int odpt_odp_counters_probe(struct odpt_vctx *v, char *why, size_t why_len);

#endif
