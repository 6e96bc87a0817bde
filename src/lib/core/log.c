// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Diagnostics and plain text: "odpt: message" lines on stderr filtered by a
 * level, usage text on stderr, and the one plain stdout path (odpt_out).
 * In the core, the bottom layer, because every layer may log through it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "odpt/log.h"

static enum odpt_log_level max_level = ODPT_LOG_WARN;

void odpt_log_set_level(enum odpt_log_level max)
{
	max_level = max;
}

void odpt_log(enum odpt_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[ODPT_LOG_ERR] = "", [ODPT_LOG_WARN] = "warning: ",
		[ODPT_LOG_INFO] = "", [ODPT_LOG_DEBUG] = "debug: ",
	};
	va_list ap;

	if (level > max_level)
		return;
	fprintf(stderr, "odpt: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void odpt_out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void odpt_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
