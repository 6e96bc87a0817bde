// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The /dev/kmsg reader and the DMAR fault-line parser edu's checks use. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int odpt_kmsg_open_end(const struct odpt_edu_where *w, int *fd)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/kmsg", w && w->dev ? w->dev : "/dev");
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (lseek(*fd, 0, SEEK_END) < 0) {
		int ret = -errno;

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
		/* One record per read: "prio,seq,usec,flags;text\n" + continuations. */
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		struct odpt_dmar_fault one;
		char *msg;

		if (r < 0) {
			if (errno == EINTR || errno == EPIPE)	/* EPIPE: records overwritten */
				continue;
			if (errno != EAGAIN)
				return -errno;
			if (seen || odpt_clock_raw_ns() > deadline)
				return 0;
			edu_sleep_us(20000);
			continue;
		}
		rec[r] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = '\0';
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
