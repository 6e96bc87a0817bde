// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* One "Key: value" line of a /proc file (include/odpt/procfs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/procfs.h"

int odpt_proc_field(const char *path, const char *key, int base, unsigned long long *v)
{
	size_t klen = strlen(key);
	char line[256];
	FILE *f = fopen(path, "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		errno = 0;
		*v = strtoull(line + klen + 1, &end, base);
		ret = (errno || end == line + klen + 1) ? -EINVAL : 0;
		break;
	}
	fclose(f);
	return ret;
}

uint64_t odpt_mem_available_bytes(void)
{
	unsigned long long kb = 0;

	if (odpt_proc_field("/proc/meminfo", "MemAvailable", 10, &kb) || !kb)
		return UINT64_MAX;
	return kb * 1024;
}
