/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One forked child per test, under a watchdog: the runner the suite
 * (src/lib/suite/runner.c) and the shim's lab test program
 * (tests/lab/shim/harness.c) share. The child runs in its own process
 * group. The parent waits for it until the timeout, or until *stop is set;
 * then it kills the whole group and waits a bounded time for the kill to
 * take, because a process stuck in the kernel does not die on SIGKILL and
 * the caller must go on (or stop) knowing that. After a child exits on its
 * own, its group is killed too, so grandchildren it left behind go with
 * it. The child tells the parent what it is doing (its stage) and its
 * verdict through a shared anonymous page whose head is struct odpt_fr_page,
 * so nothing depends on the child's stdio buffers surviving a crash or a
 * kill. Verdicts, their wording and the output stay with the caller; this
 * layer depends on libc only (no verbs, no report), so the shim's test
 * program links it without the rest of libodpt.
 */
#ifndef ODPT_FORKRUN_H
#define ODPT_FORKRUN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ODPT_FR_STAGE_LEN 192
/* odpt_fr_page.result before the child gives a verdict. */
#define ODPT_FR_NONE (-1)

/* The head of the page the child and the parent share. */
struct odpt_fr_page {
	_Atomic int result;               /* the caller's verdict codes */
	char stage[ODPT_FR_STAGE_LEN];    /* what the child is doing now */
};

/* A zeroed anonymous mapping of len bytes shared with children forked
 * later, in *out: 0 or -errno. */
int odpt_fr_shared_alloc(size_t len, void **out);
void odpt_fr_shared_free(void *p, size_t len);

/* In the child: record the stage the watchdog names if the child hangs. */
void odpt_fr_stage(struct odpt_fr_page *pg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void odpt_fr_vstage(struct odpt_fr_page *pg, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Why the wait for the child ended. */
enum odpt_fr_end {
	ODPT_FR_EXITED,     /* on its own: exit or a signal (fr.status) */
	ODPT_FR_TIMEOUT,    /* the watchdog fired; the group was killed */
	ODPT_FR_STOPPED,    /* *stop was set; the group was killed */
};

struct odpt_fr {
	/* In. */
	struct odpt_fr_page *page;    /* reset before the fork (result
				       * ODPT_FR_NONE, stage start_stage); may
				       * be NULL */
	const char *start_stage;      /* NULL: "" */
	uint64_t timeout_ns;          /* the watchdog */
	uint64_t kill_wait_ns;        /* how long a killed child may take to die */
	volatile int *stop;           /* set by a signal handler; may be NULL */
	/* While waiting, every tick_ns (from the fork on); may be NULL. */
	void (*on_tick)(void *arg, uint64_t elapsed_ns);
	uint64_t tick_ns;
	/* The watchdog fired; called before the kill, to gather evidence
	 * (e.g. the child's kernel stacks); may be NULL. */
	void (*on_timeout)(void *arg, pid_t pid);
	void *arg;
	/* For a child subreaper (PR_SET_CHILD_SUBREAPER): after the group kill,
	 * kill and reap every remaining child of this process (orphans that
	 * left the group re-parent here) for at most this long; 0: do not. */
	uint64_t orphans_ns;

	/* Out. */
	pid_t pid;
	enum odpt_fr_end end;
	int status;                   /* waitpid() status; valid when reaped */
	bool reaped;                  /* false: still alive kill_wait_ns after
				       * SIGKILL (stuck in the kernel), left
				       * behind; its page must stay mapped */
	bool orphans_left;            /* orphans_ns passed with some alive */
	uint64_t duration_ns;         /* from the fork to the end of the reaping */
};

/*
 * Fork; in the child, join a new process group, run child(carg), _exit(0)
 * (child may _exit itself). In the parent, wait as fr says and fill its
 * outputs. Returns 0, or -errno when the fork failed (nothing ran).
 */
int odpt_fr_run(struct odpt_fr *fr, void (*child)(void *carg), void *carg);

#endif
