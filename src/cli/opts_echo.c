// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The echo of a command's configuration into its report, from the same
 * option table that parsed it (include/odpt/opts.h). It lives in the CLI,
 * which uses both the core's option tables and the report layer, so that
 * the core needs nothing above it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "odpt/opts.h"
#include "odpt/report.h"
#include "cli.h"

int odpt_cli_opts_echo(const struct odpt_opt *table, const void *cfg,
		       struct odpt_report *r)
{
	const struct odpt_opt *o;
	int ret = 0;

	for (o = table; o && o->name && !ret; o++) {
		const void *p = (const char *)cfg + o->offset;
		char key[64];
		size_t i;

		/* JSON keys are snake_case: "max-size" echoes as "max_size". */
		snprintf(key, sizeof(key), "%s", o->name);
		for (i = 0; key[i]; i++)
			if (key[i] == '-')
				key[i] = '_';
		switch (o->type) {
		case ODPT_OPT_BOOL:
			ret = odpt_report_config_bool(r, key, *(const bool *)p);
			break;
		case ODPT_OPT_U64:
		case ODPT_OPT_SIZE:
			ret = odpt_report_config_u64(r, key, *(const uint64_t *)p);
			break;
		default:
			ret = odpt_report_config_str(r, key, *(const char *const *)p);
			break;
		}
	}
	return ret;
}
