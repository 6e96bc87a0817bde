// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fork-per-test runner of include/odpt/forkrun.h: fork into a new
 * process group, wait under a watchdog, kill the group, reap with a bound.
 * The wait polls waitpid(WNOHANG) with a sleep that doubles from 20 us to
 * 5 ms, so a stop flag set by a signal handler and the progress ticks are
 * seen within 5 ms without relying on EINTR reaching this thread.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "odpt/forkrun.h"

int odpt_fr_shared_alloc(size_t len, void **out)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;   /* anonymous pages come zeroed */
	return 0;
}

void odpt_fr_shared_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

void odpt_fr_vstage(struct odpt_fr_page *pg, const char *fmt, va_list ap)
{
	if (pg)
		vsnprintf(pg->stage, sizeof(pg->stage), fmt, ap);
}

void odpt_fr_stage(struct odpt_fr_page *pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	odpt_fr_vstage(pg, fmt, ap);
	va_end(ap);
}

/* Wait for pid up to timeout_ns, or until *stop is set; ticks as fr says
 * when tick is true. */
static enum odpt_fr_end wait_pid(struct odpt_fr *fr, pid_t pid, uint64_t timeout_ns,
				 volatile int *stop, bool tick, uint64_t t0)
{
	uint64_t now = odpt_clock_raw_ns(), deadline = now + timeout_ns;
	uint64_t next_tick = t0 + fr->tick_ns;
	long sleep_ns = 20000;

	for (;;) {
		pid_t r = waitpid(pid, &fr->status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return ODPT_FR_EXITED;
		if (stop && *stop)
			return ODPT_FR_STOPPED;
		now = odpt_clock_raw_ns();
		if (now > deadline)
			return ODPT_FR_TIMEOUT;
		if (tick && fr->on_tick && now >= next_tick) {
			fr->on_tick(fr->arg, now - t0);
			next_tick = now + fr->tick_ns;
		}
		struct timespec ts = { 0, sleep_ns };

		nanosleep(&ts, NULL);
		if (sleep_ns < 5000000)
			sleep_ns *= 2;
	}
}

/* SIGKILL every direct child of this process: orphans re-parent to a
 * subreaper, so repeating this reaches a whole leftover tree. */
static void kill_children(void)
{
	char path[300], line[128];
	pid_t self = getpid();
	struct dirent *de;
	DIR *d = opendir("/proc");
	FILE *f;

	if (!d)
		return;
	while ((de = readdir(d))) {
		long pid, ppid = -1;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "PPid: %ld", &ppid) == 1)
				break;
		fclose(f);
		if (ppid == self)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
}

/* Kill and reap every leftover child until none is left or the deadline
 * passes; false if something survived. */
static bool reap_orphans(uint64_t deadline_ns)
{
	for (;;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);

		if (r < 0 && errno == ECHILD)
			return true;
		if (r > 0)
			continue;
		if (odpt_clock_raw_ns() > deadline_ns)
			return false;
		kill_children();
		struct timespec ts = { 0, 2000000 };

		nanosleep(&ts, NULL);
	}
}

int odpt_fr_run(struct odpt_fr *fr, void (*child)(void *carg), void *carg)
{
	uint64_t t0;
	pid_t pid;

	fr->status = 0;
	fr->reaped = true;
	fr->orphans_left = false;
	fr->end = ODPT_FR_EXITED;
	if (fr->page) {
		atomic_store(&fr->page->result, ODPT_FR_NONE);
		snprintf(fr->page->stage, sizeof(fr->page->stage), "%s",
			 fr->start_stage ? fr->start_stage : "");
	}
	fflush(NULL);   /* the child must not flush the parent's buffers again */
	t0 = odpt_clock_raw_ns();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0);
		child(carg);
		_exit(0);
	}
	setpgid(pid, pid);   /* also done by the child: no race either way */
	fr->pid = pid;
	fr->end = wait_pid(fr, pid, fr->timeout_ns, fr->stop, true, t0);
	if (fr->end != ODPT_FR_EXITED) {
		if (fr->end == ODPT_FR_TIMEOUT && fr->on_timeout)
			fr->on_timeout(fr->arg, pid);
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);   /* in case it left its group */
		fr->reaped = wait_pid(fr, pid, fr->kill_wait_ns, NULL, false, t0) == ODPT_FR_EXITED;
	}
	if (fr->reaped) {
		/* Grandchildren the test left behind die with the group. */
		kill(-pid, SIGKILL);
		if (fr->orphans_ns)
			fr->orphans_left = !reap_orphans(odpt_clock_raw_ns() + fr->orphans_ns);
	}
	fr->duration_ns = odpt_clock_raw_ns() - t0;
	return 0;
}
