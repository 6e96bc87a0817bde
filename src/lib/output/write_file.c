// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Result files (odpt -o FILE, suite run --junit/--json): where the bytes of
 * a rendered report go. "-" is stdout. Symlinks are followed to the node
 * they lead to; only a missing or regular file is written atomically (temp
 * file in the same directory, fsync, rename over it, fsync of the
 * directory), so a reader sees the old or the new result, never half of
 * one, and a failed write (full disk) leaves the old file and no temp file.
 * Anything else (a device node such as /dev/null or /dev/full, a FIFO,
 * /dev/stdout on a pipe or terminal) is opened and written in place: a
 * rename would replace the node itself, which as root turns /dev/null into
 * a regular file for every program on the machine. The report is rendered
 * into memory first so a write error carries its errno (ENOSPC) and no
 * half-rendered file is ever renamed into place.
 */
#define _GNU_SOURCE   /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_int.h"

/* The kernel's own limit on symlinks in one lookup (MAXSYMLINKS). */
#define LINK_HOPS_MAX 40

static mode_t process_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

/* Make a rename durable: fsync the directory that holds the file. */
static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Through the process's own stream, so earlier output keeps its order. */
static int write_stream(FILE *f, const char *buf, size_t len)
{
	errno = 0;
	if (fwrite(buf, 1, len, f) != len || fflush(f))
		return errno ? -errno : -EIO;
	return 0;
}

/* Whether st is the file open on fd (-o /dev/stdout with stdout on a file). */
static bool same_file(const struct stat *st, int fd)
{
	struct stat fst;

	return !fstat(fd, &fst) && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino;
}

/*
 * Follow symlinks in path's last component to the node a write reaches
 * (it may not exist yet: a dangling link names the file to create). A
 * relative link is relative to the directory holding the link.
 */
static int resolve_links(const char *path, char **out)
{
	char *cur = strdup(path), *next, *slash, target[PATH_MAX];
	struct stat st;
	int hops, ret;
	ssize_t n;

	if (!cur)
		return -ENOMEM;
	for (hops = 0;; hops++) {
		if (lstat(cur, &st)) {
			if (errno == ENOENT)
				break;
			ret = -errno;
			goto out_free;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (hops == LINK_HOPS_MAX) {
			ret = -ELOOP;
			goto out_free;
		}
		n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0) {
			ret = -errno;
			goto out_free;
		}
		target[n] = '\0';
		slash = strrchr(cur, '/');
		if (target[0] == '/' || !slash)
			ret = asprintf(&next, "%s", target);
		else
			ret = asprintf(&next, "%.*s/%s", (int)(slash - cur), cur, target);
		if (ret < 0) {
			ret = -ENOMEM;
			goto out_free;
		}
		free(cur);
		cur = next;
	}
	*out = cur;
	return 0;

out_free:
	free(cur);
	return ret;
}

/*
 * The temp file's path: ".BASE.XXXXXX" beside the target, so rename() is
 * atomic. A name near NAME_MAX has no room for the 8 extra bytes, so BASE
 * is cut short: mkstemp's random suffix keeps the name unique, the prefix
 * only tells a person what the stray file was for.
 */
static int temp_path(const char *dir, const char *base, char **out)
{
	long name_max = pathconf(dir, _PC_NAME_MAX);
	size_t keep = strlen(base);

	if (name_max < 16)
		name_max = NAME_MAX;
	if (keep + 8 > (size_t)name_max)
		keep = (size_t)name_max - 8;
	if (asprintf(out, "%s/.%.*s.XXXXXX", dir, (int)keep, base) < 0)
		return -ENOMEM;
	return 0;
}

/* Write buf to a missing or regular file at path (no symlink) atomically. */
static int replace_file(const char *path, const char *buf, size_t len)
{
	const char *slash = strrchr(path, '/'), *base;
	char *dir, *tmp = NULL;
	int fd, ret;

	if (!slash) {
		dir = strdup(".");
		base = path;
	} else {
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		base = slash + 1;
	}
	if (!dir)
		return -ENOMEM;
	if (!*base) {
		ret = -EISDIR;
		goto out_free;
	}
	ret = temp_path(dir, base, &tmp);
	if (ret)
		goto out_free;
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	/* mkstemp creates 0600; give the file the mode open() would. */
	if (!ret && fchmod(fd, 0666 & ~process_umask()))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	else
		fsync_dir(dir);
out_free:
	free(tmp);
	free(dir);
	return ret;
}

/* A device node, FIFO or terminal: open the node itself and write to it. */
static int write_in_place(const char *path, const struct stat *st,
			  const char *buf, size_t len)
{
	int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
	int fd, ret;

	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	/* Truncation means something only for a regular file. */
	if (S_ISREG(st->st_mode))
		flags |= O_TRUNC;
	fd = open(path, flags);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, buf, len);
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int odpt_output_write(const char *path, const char *buf, size_t len)
{
	struct stat st, rst;
	bool exists;
	char *real;
	int ret;

	if (!path || !*path)
		return -EINVAL;
	if (!strcmp(path, "-"))
		return write_stream(stdout, buf, len);
	exists = !stat(path, &st);
	if (!exists && errno != ENOENT)
		return -errno;
	if (exists) {
		if (same_file(&st, STDOUT_FILENO))
			return write_stream(stdout, buf, len);
		if (same_file(&st, STDERR_FILENO))
			return write_stream(stderr, buf, len);
		if (!S_ISREG(st.st_mode))
			return write_in_place(path, &st, buf, len);
	}
	ret = resolve_links(path, &real);
	if (ret)
		return ret;
	/*
	 * A /proc magic link (/proc/self/fd/N of a deleted file) does not
	 * resolve to the node it opens: if the links led elsewhere than stat()
	 * went, write through them in place rather than create a stray file.
	 */
	if (exists && (lstat(real, &rst) || rst.st_dev != st.st_dev ||
		       rst.st_ino != st.st_ino))
		ret = write_in_place(path, &st, buf, len);
	else
		ret = replace_file(real, buf, len);
	free(real);
	return ret;
}

/* The report in format f (series only: that one as .hgrm) as a malloc'ed buffer. */
static int render(const struct odpt_report *r, enum odpt_format f,
		  const struct odpt_write_opts *o, int series, char **buf, size_t *len)
{
	static const struct odpt_write_opts defaults;
	FILE *m = open_memstream(buf, len);
	int ret;

	if (!m)
		return -ENOMEM;
	if (series >= 0)
		ret = odpt_write_hgrm_series(r, o ? o : &defaults, series, m);
	else
		ret = odpt_report_write(r, f, o, m);
	if (fclose(m) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

/* PATH.hgrm -> PATH.NAME.k=v,k=v.hgrm for series i (see report.h). */
static int series_path(const char *path, const struct odpt_rseries *s, char **out)
{
	size_t stem = strlen(path), n;
	char lab[512], *p;

	if (stem > 5 && !strcmp(path + stem - 5, ".hgrm"))
		stem -= 5;
	odpt_labels_fmt(&s->labels, lab, sizeof(lab));
	if (asprintf(out, "%.*s.%s%s%s.hgrm", (int)stem, path, s->name, *lab ? "." : "", lab) < 0)
		return -ENOMEM;
	/* Only the part we added: the caller's directories stay as given. */
	n = strlen(*out);
	for (p = *out + stem + 1; p < *out + n - 5; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,=+-", *p))
			*p = '_';
	return 0;
}

/* Several .hgrm series: one file each (a plotter reads a file as one curve). */
static int write_hgrm_files(const struct odpt_report *r, const struct odpt_write_opts *o,
			    const char *path)
{
	char *name, *buf;
	size_t len;
	int i, ret = 0;

	for (i = 0; i < r->nseries && !ret; i++) {
		ret = series_path(path, &r->series[i], &name);
		if (ret)
			break;
		buf = NULL;
		ret = render(r, ODPT_FMT_HGRM, o, i, &buf, &len);
		if (!ret)
			ret = odpt_output_write(name, buf, len);
		free(buf);
		free(name);
	}
	return ret;
}

int odpt_report_write_file(const struct odpt_report *r, enum odpt_format f,
			   const struct odpt_write_opts *o, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (!r || !path || !*path)
		return -EINVAL;
	if (f == ODPT_FMT_HGRM && r->nseries > 1 && strcmp(path, "-"))
		return write_hgrm_files(r, o, path);
	ret = render(r, f, o, -1, &buf, &len);
	if (ret)
		return ret;
	ret = odpt_output_write(path, buf, len);
	free(buf);
	return ret;
}
