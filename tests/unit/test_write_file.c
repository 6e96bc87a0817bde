// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Where result files go (odpt_report_write_file(), src/lib/output/
 * write_file.c): a device node stays a device node, a FIFO is written to
 * and not replaced, a symlink is followed and kept, "-" is stdout, a
 * 255-byte file name works, a full device is a clear -ENOSPC, and a write
 * error on a regular file keeps the old file and leaves no temp file.
 * Device nodes are made with mknod in a temp directory when we may (root);
 * the real /dev/null and /dev/full are written only after the same check
 * passed on a private node, so a regression cannot replace them on the
 * host running the tests.
 */
#define _GNU_SOURCE   /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "odpt/report.h"
#include "unit_report.h"

struct fixture {
	char dir[64];
	struct odpt_report *r;
	char *want;   /* the report rendered as TAP */
};

static int setup(void **state)
{
	struct odpt_test_record t = { .name = "rc_write", .result = ODPT_PASS };
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/odpt-wf-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(odpt_report_create("write file", &fx->r), 0);
	odpt_report_set_stable(fx->r, true);
	assert_int_equal(odpt_report_meta(fx->r, "device", "rxe0"), 0);
	assert_int_equal(odpt_report_test(fx->r, &t), 0);
	fx->want = unit_render(fx->r, ODPT_FMT_TAP, NULL);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", fx->dir);
	free(fx->want);
	odpt_report_destroy(fx->r);
	free(fx);
	return 0;
}

static void path_in(const struct fixture *fx, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", fx->dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A character device node at path; false where we may not make one. */
static bool make_chardev(const char *path, unsigned major_nr, unsigned minor_nr)
{
	if (mknod(path, S_IFCHR | 0666, makedev(major_nr, minor_nr)) == 0)
		return true;
	assert_true(errno == EPERM || errno == EACCES);
	return false;
}

static void assert_chardev(const char *path, unsigned major_nr, unsigned minor_nr)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	if (!S_ISCHR(st.st_mode))
		fail_msg("%s is no longer a character device (mode %o)", path, st.st_mode);
	assert_int_equal(major(st.st_rdev), major_nr);
	assert_int_equal(minor(st.st_rdev), minor_nr);
}

/* A device node is written in place: /dev/null stays a device. */
static void test_device_node(void **state)
{
	struct fixture *fx = *state;
	char node[PATH_MAX];

	path_in(fx, "null", node, sizeof(node));
	if (make_chardev(node, 1, 3)) {
		assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, node), 0);
		assert_chardev(node, 1, 3);
		assert_int_equal(unit_count_temp_files(fx->dir), 0);
	}
	/* Only now, with the private node intact, the real one. */
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_JSON, NULL, "/dev/null"), 0);
	assert_chardev("/dev/null", 1, 3);
}

/* A full device: -ENOSPC, the node kept, no temp file anywhere. */
static void test_full_device(void **state)
{
	struct fixture *fx = *state;
	char node[PATH_MAX];

	path_in(fx, "full", node, sizeof(node));
	if (make_chardev(node, 1, 7)) {
		assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, node), -ENOSPC);
		assert_chardev(node, 1, 7);
		assert_int_equal(unit_count_temp_files(fx->dir), 0);
	}
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, "/dev/full"), -ENOSPC);
	assert_chardev("/dev/full", 1, 7);
}

/*
 * A write error on a regular file (the file size limit stands in for a
 * full disk): the error, the old contents kept, no temp file. In a child,
 * so the limit does not reach the test runner.
 */
static void test_write_error_keeps_old_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char *got;
	pid_t pid;
	int status;

	path_in(fx, "result.tap", path, sizeof(path));
	write_text(path, "old contents\n");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 16, .rlim_max = 16 };

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(2);
		_exit(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, path) == -EFBIG ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	got = unit_slurp(path);
	assert_string_equal(got, "old contents\n");
	free(got);
	assert_int_equal(unit_count_temp_files(fx->dir), 0);
}

/* A FIFO is written to (a reader gets the report), never replaced. */
static void test_fifo(void **state)
{
	struct fixture *fx = *state;
	char fifo[PATH_MAX], copy[PATH_MAX];
	struct stat st;
	pid_t pid;
	int status;
	char *got;

	path_in(fx, "fifo", fifo, sizeof(fifo));
	path_in(fx, "copy", copy, sizeof(copy));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[4096];
		int in, out;
		ssize_t n;

		alarm(20);   /* a writer that never comes must not hang the test */
		in = open(fifo, O_RDONLY);
		out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (in < 0 || out < 0)
			_exit(1);
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(n == 0 && !close(out) ? 0 : 1);
	}
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, fifo), 0);
	assert_int_equal(lstat(fifo, &st), 0);
	if (!S_ISFIFO(st.st_mode)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the FIFO was replaced (mode %o)", st.st_mode);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	got = unit_slurp(copy);
	assert_non_null(got);
	assert_string_equal(got, fx->want);
	free(got);
	assert_int_equal(unit_count_temp_files(fx->dir), 0);
}

/*
 * A symlink is followed: its target is replaced, the link stays, the
 * temp file is made beside the target (another directory here). A
 * dangling link creates its target.
 */
static void test_symlink(void **state)
{
	struct fixture *fx = *state;
	char sub[PATH_MAX], target[PATH_MAX], link[PATH_MAX], link2[PATH_MAX];
	char missing[PATH_MAX], buf[PATH_MAX];
	struct stat st;
	ssize_t n;
	char *got;

	path_in(fx, "sub", sub, sizeof(sub));
	assert_int_equal(mkdir(sub, 0700), 0);
	path_in(fx, "sub/result.tap", target, sizeof(target));
	path_in(fx, "link.tap", link, sizeof(link));
	path_in(fx, "link2.tap", link2, sizeof(link2));
	write_text(target, "old contents\n");
	assert_int_equal(symlink("sub/result.tap", link), 0);
	assert_int_equal(symlink("link.tap", link2), 0);   /* a chain of two */

	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, link2), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(link2, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(link, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "sub/result.tap");
	got = unit_slurp(target);
	assert_string_equal(got, fx->want);
	free(got);
	assert_int_equal(unit_count_temp_files(fx->dir), 0);
	assert_int_equal(unit_count_temp_files(sub), 0);

	/* dangling: the link names the file to create */
	path_in(fx, "dangling.tap", link, sizeof(link));
	path_in(fx, "sub/new.tap", missing, sizeof(missing));
	assert_int_equal(symlink("sub/new.tap", link), 0);
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, link), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	got = unit_slurp(missing);
	assert_non_null(got);
	assert_string_equal(got, fx->want);
	free(got);

	/* a loop is an error, not a hang */
	path_in(fx, "loop.tap", link, sizeof(link));
	assert_int_equal(symlink("loop.tap", link), 0);
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, link), -ELOOP);
}

/* Write the report to target with stdout appending to the file at path. */
static int with_stdout_to(const char *path, const struct fixture *fx, const char *target)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600), saved, ret;

	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	ret = odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, target);
	fflush(stdout);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	return ret;
}

/*
 * "-" is stdout and creates no file named "-"; a path that names the
 * file stdout is open on (/proc/self/fd/1, like /dev/stdout) appends
 * through stdout instead of replacing the file under the shell's >>.
 */
static void test_stdout(void **state)
{
	struct fixture *fx = *state;
	char out[PATH_MAX], cwd[PATH_MAX], dash[PATH_MAX], *got, *want;
	struct stat st1, st2;
	int ret;

	path_in(fx, "stdout.txt", out, sizeof(out));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fx->dir), 0);
	ret = with_stdout_to(out, fx, "-");
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(ret, 0);
	path_in(fx, "-", dash, sizeof(dash));
	assert_int_equal(access(dash, F_OK), -1);
	got = unit_slurp(out);
	assert_string_equal(got, fx->want);
	free(got);

	assert_int_equal(stat(out, &st1), 0);
	assert_int_equal(with_stdout_to(out, fx, "/proc/self/fd/1"), 0);
	assert_int_equal(stat(out, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino);
	assert_true(asprintf(&want, "%s%s", fx->want, fx->want) > 0);
	got = unit_slurp(out);
	assert_string_equal(got, want);
	free(got);
	free(want);
	assert_int_equal(unit_count_temp_files(fx->dir), 0);
}

/* A file name of NAME_MAX bytes: the temp name is cut to fit. */
static void test_long_name(void **state)
{
	struct fixture *fx = *state;
	char name[NAME_MAX + 1], path[PATH_MAX], *got;

	memset(name, 'a', NAME_MAX);
	name[NAME_MAX] = '\0';
	path_in(fx, name, path, sizeof(path));
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, path), 0);
	got = unit_slurp(path);
	assert_non_null(got);
	assert_string_equal(got, fx->want);
	free(got);
	/* and again, over the now existing file */
	assert_int_equal(odpt_report_write_file(fx->r, ODPT_FMT_TAP, NULL, path), 0);
	assert_int_equal(unit_count_temp_files(fx->dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_keeps_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
