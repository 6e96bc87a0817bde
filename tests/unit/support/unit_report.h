/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Helpers shared by the unit tests that check what the output writers
 * produce: render a report into a string, and compare a rendering with a
 * golden file under tests/unit/golden/ (ODPT_UPDATE_GOLDEN=1 rewrites it),
 * and count the temp files an atomic write left behind.
 * They fail the running cmocka test themselves, so callers stay short.
 */
#ifndef ODPT_UNIT_REPORT_H
#define ODPT_UNIT_REPORT_H

#include "odpt/report.h"

/* The report in format f, as a malloc'ed string; o may be NULL. */
char *unit_render(const struct odpt_report *r, enum odpt_format f,
		  const struct odpt_write_opts *o);

/* The whole file as a malloc'ed string, or NULL if it cannot be opened. */
char *unit_slurp(const char *path);

/* Fails the test, naming the first differing line, unless got (with this
 * build's version replaced by @ODPT_VERSION@) equals golden/<name>. */
void unit_check_golden(const char *name, const char *got);

/* Entries of dir whose name starts with '.' ("." and ".." aside): the temp
 * files an atomic write leaves behind when it goes wrong. */
int unit_count_temp_files(const char *dir);

#endif
