// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Rendering and golden-file comparison for the writer tests (see
 * unit_report.h). Golden files hold @ODPT_VERSION@ instead of the version,
 * so a release does not rewrite them.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "odpt_config.h"
#include "unit_report.h"

char *unit_render(const struct odpt_report *r, enum odpt_format f,
		  const struct odpt_write_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(odpt_report_write(r, f, o, m), 0);
	fclose(m);
	return buf;
}

static char *unversion(const char *s)
{
	static const char tag[] = "@ODPT_VERSION@";
	const char *v = ODPT_VERSION, *p;
	size_t vl = strlen(v), o = 0;
	/* every character may at worst become the whole tag */
	char *out = malloc(strlen(s) * sizeof(tag) + 1);

	assert_non_null(out);
	for (p = s; *p;) {
		if (vl && !strncmp(p, v, vl)) {
			memcpy(out + o, tag, sizeof(tag) - 1);
			o += sizeof(tag) - 1;
			p += vl;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

char *unit_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		/* an empty file reads as no data */
		free(buf);
		buf = strdup("");
		assert_non_null(buf);
	}
	fclose(f);
	return buf;
}

void unit_check_golden(const char *name, const char *got_raw)
{
	const char *upd = getenv("ODPT_UPDATE_GOLDEN");
	char path[512], *got = unversion(got_raw), *want;
	size_t i = 0, line = 1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ODPT_GOLDEN_DIR, name);
	if (upd && *upd == '1') {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	want = unit_slurp(path);
	if (!want)
		fail_msg("golden file %s missing (run with ODPT_UPDATE_GOLDEN=1)", path);
	if (strcmp(got, want)) {
		while (got[i] && got[i] == want[i])
			line += got[i++] == '\n';
		fail_msg("%s differs from the golden file at line %zu:\n got: %.80s\nwant: %.80s",
			 name, line, got + i, want + i);
	}
	free(want);
	free(got);
}

int unit_count_temp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}
