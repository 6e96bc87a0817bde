// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reads one field of the mapping that holds an address from
 * /proc/self/smaps (include/odpt/smaps.h). A mapping's block starts with
 * its "lo-hi perms ..." header; the field lines after it belong to it
 * until the next header. Lines are read whole (getline), so a long path
 * in a header cannot be split into a line that looks like another.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/smaps.h"

/* Whether line is a mapping header; its range in *lo, *hi if so. */
static bool vma_header(const char *line, uintptr_t *lo, uintptr_t *hi)
{
	char *end;

	*lo = (uintptr_t)strtoull(line, &end, 16);
	if (end == line || *end != '-')
		return false;
	line = end + 1;
	*hi = (uintptr_t)strtoull(line, &end, 16);
	return end != line && *end == ' ';
}

long odpt_smaps_kb(const void *p, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	uintptr_t lo, hi, a = (uintptr_t)p;
	size_t flen = strlen(field), cap = 0;
	char *line = NULL;
	bool in = false;
	long kb = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (vma_header(line, &lo, &hi)) {
			if (in)
				break;   /* past the mapping without the field */
			in = a >= lo && a < hi;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':' &&
		    sscanf(line + flen + 1, "%ld kB", &kb) == 1)
			break;
	}
	free(line);
	fclose(f);
	return kb;
}
