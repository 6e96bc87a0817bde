// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The installed odpt_hmm (a DKMS or distribution build under
 * /lib/modules/<release>/, e.g. updates/dkms/odpt_hmm.ko.xz): found in the
 * running kernel's modules.dep and loaded with modprobe, which resolves the
 * path and decompresses as the kernel's module tools do.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "odpt/shim.h"

extern char **environ;

int odpt_shim_module_find(const char *modules_dep, char *path, size_t len)
{
	char line[4096];
	FILE *f;
	int ret = -ENOENT;

	f = fopen(modules_dep, "re");
	if (!f)
		return -errno;
	errno = 0;
	/* "kernel/x/y.ko.xz: deps..." or "updates/dkms/odpt_hmm.ko: ..."; a
	 * line longer than the buffer is only a module with many deps. */
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *base;

		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		if (strncmp(base, "odpt_hmm.ko", 11) || (base[11] && base[11] != '.'))
			continue;
		if ((size_t)snprintf(path, len, "%s", line) >= len)
			ret = -ENAMETOOLONG;
		else
			ret = 0;
		break;
	}
	/* A read error (a directory, EIO) is not "no such module". */
	if (ret == -ENOENT && ferror(f))
		ret = errno ? -errno : -EIO;
	fclose(f);
	return ret;
}

int odpt_shim_module_find_running(char *release, size_t rlen, char *path, size_t len)
{
	char dep[sizeof(((struct utsname *)0)->release) + 32];
	struct utsname u;

	if (uname(&u))
		return -errno;
	snprintf(release, rlen, "%s", u.release);
	snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep", u.release);
	return odpt_shim_module_find(dep, path, len);
}

int odpt_shim_module_probe(const char *params)
{
	char arg[256], prog[] = "modprobe", name[] = "odpt_hmm", *argv[8];
	int argc = 0, status;
	pid_t pid;

	snprintf(arg, sizeof(arg), "%s", params ? params : "");
	argv[argc++] = prog;
	argv[argc++] = name;
	/* Parameters are "a=b c=d": each its own argument. */
	for (char *tok = strtok(arg, " "); tok && argc < 7; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if ((errno = posix_spawnp(&pid, "modprobe", NULL, NULL, argv, environ)))
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
