/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Diagnostics on stderr and plain text on stdout. Part of the core, so every
 * layer may log; besides these, only the report writers (src/lib/output)
 * print: everything else calls these or fills a report.
 */
#ifndef ODPT_LOG_H
#define ODPT_LOG_H

enum odpt_log_level { ODPT_LOG_ERR, ODPT_LOG_WARN, ODPT_LOG_INFO, ODPT_LOG_DEBUG };

void odpt_log_set_level(enum odpt_log_level max);
/* "odpt: <message>\n" on stderr when level <= the set level. */
void odpt_log(enum odpt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define odpt_err(...)  odpt_log(ODPT_LOG_ERR, __VA_ARGS__)
#define odpt_warn(...) odpt_log(ODPT_LOG_WARN, __VA_ARGS__)
#define odpt_info(...) odpt_log(ODPT_LOG_INFO, __VA_ARGS__)
#define odpt_dbg(...)  odpt_log(ODPT_LOG_DEBUG, __VA_ARGS__)
/* Plain text to stdout (usage, help, progress): the one stdout path
 * besides odpt_report_write(). */
void odpt_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage text to stderr (for exit-2 errors). */
void odpt_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
