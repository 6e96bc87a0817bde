// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The /dev/kmsg reader and the DMAR fault-line parser edu's checks use. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "odpt/clock.h"
#include "edu_int.h"

/* ---- DMAR faults in the kernel log ---------------------------------------- */

bool odpt_dmar_fault_parse(const char *msg, uint64_t *addr, bool *write)
{
	const char *p;
	char *end;

	if (!strstr(msg, "DMAR"))
		return false;
	p = strstr(msg, "fault addr 0x");
	if (!p)
		return false;
	errno = 0;
	*addr = strtoull(p + strlen("fault addr 0x"), &end, 16);
	if (errno || end == p + strlen("fault addr 0x"))
		return false;
	if (strstr(msg, "DMA Write"))
		*write = true;
	else if (strstr(msg, "DMA Read"))
		*write = false;
	else
		return false;
	return true;
}

/* /dev/kmsg (or the fake tree's), non-blocking, from its oldest record. */
static int kmsg_open(const struct odpt_edu_where *w, int *fd)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/kmsg", w && w->dev ? w->dev : "/dev");
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/*
 * The next record of @fd ("prio,seq,usec,flags;text\n" + continuations, one
 * per read): 1 with *msg its text's first line and *us its time, 0 when
 * there is none yet (EAGAIN), or -errno. Records overwritten before they
 * were read (EPIPE) and records without text are skipped.
 */
static int kmsg_next(int fd, char *rec, size_t len, unsigned long long *us, char **msg)
{
	for (;;) {
		ssize_t r = read(fd, rec, len - 1);

		if (r < 0) {
			if (errno == EINTR || errno == EPIPE)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		rec[r] = '\0';
		*msg = strchr(rec, ';');
		if (!*msg || sscanf(rec, "%*u,%*u,%llu", us) != 1)
			continue;
		(*msg)++;
		(*msg)[strcspn(*msg, "\n")] = '\0';
		return 1;
	}
}

int odpt_kmsg_open_end(const struct odpt_edu_where *w, int *fd)
{
	int ret = kmsg_open(w, fd);

	if (ret)
		return ret;
	if (lseek(*fd, 0, SEEK_END) < 0) {
		ret = -errno;
		close(*fd);
		*fd = -1;
		return ret;
	}
	return 0;
}

int odpt_kmsg_dmar_faults(int fd, unsigned wait_ms, uint64_t want,
			  struct odpt_dmar_fault *f, int max, int *n)
{
	uint64_t deadline = odpt_clock_raw_ns() + (uint64_t)wait_ms * 1000000u;
	bool seen = false;
	char rec[2048];

	*n = 0;
	for (;;) {
		struct odpt_dmar_fault one;
		unsigned long long us;
		char *msg;
		int ret = kmsg_next(fd, rec, sizeof(rec), &us, &msg);

		if (ret < 0)
			return ret;
		if (!ret) {
			if (seen || odpt_clock_raw_ns() > deadline)
				return 0;
			edu_sleep_us(20000);
			continue;
		}
		if (!odpt_dmar_fault_parse(msg, &one.addr, &one.write))
			continue;
		snprintf(one.line, sizeof(one.line), "%s", msg);
		if ((one.addr & ~(uint64_t)(ODPT_EDU_PAGE - 1)) ==
		    (want & ~(uint64_t)(ODPT_EDU_PAGE - 1)))
			seen = true;
		if (*n < max)
			f[*n] = one;
		(*n)++;
	}
}

/*
 * intel-iommu prints its faults through one ratelimit (5 s, a burst of 10
 * calls, about three calls per fault: dmar_fault() in
 * drivers/iommu/intel/dmar.c), so a fault that lands in a used-up window is
 * handled but never logged. Before a step that must see its fault logged,
 * wait until the window that the last DMAR line opened has surely ended.
 */
#define DMAR_RATELIMIT_US 5000000ULL
#define DMAR_MARGIN_US    1000000ULL

int odpt_kmsg_dmar_quiet(const struct odpt_edu_where *w, unsigned *slept_ms)
{
	uint64_t last_us = 0, now_us, until;
	unsigned long long us;
	struct timespec ts;
	char rec[2048], *msg;
	int fd, ret;

	*slept_ms = 0;
	ret = kmsg_open(w, &fd);
	if (ret)
		return ret;
	while ((ret = kmsg_next(fd, rec, sizeof(rec), &us, &msg)) > 0)
		if (strstr(msg, "DMAR: [DMA") || strstr(msg, "DRHD: handling fault") ||
		    strstr(msg, "dmar_fault:"))
			last_us = us;
	close(fd);
	if (!last_us)
		return 0;
	/* Record times are the kernel's local clock, which CLOCK_MONOTONIC
	 * follows closely; the margin covers the difference. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	until = last_us + DMAR_RATELIMIT_US + DMAR_MARGIN_US;
	if (now_us < until) {
		uint64_t left = until - now_us;

		*slept_ms = (unsigned)(left / 1000u);
		while (left) {
			unsigned chunk = left > 500000u ? 500000u : (unsigned)left;

			edu_sleep_us(chunk);
			left -= chunk;
		}
	}
	return 0;
}
