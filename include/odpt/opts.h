/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Option tables (the fio options.c idea): one table per command declares
 * each option's name, type, default, range and help. Parsing, --help text
 * and the JSON echo of the configuration (odpt_cli_opts_echo() in src/cli)
 * all come from the table, so they cannot disagree.
 */
#ifndef ODPT_OPTS_H
#define ODPT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum odpt_opt_type {
	ODPT_OPT_BOOL,     /* flag; stored as bool */
	ODPT_OPT_U64,      /* decimal/hex; stored as uint64_t; min..max enforced */
	ODPT_OPT_SIZE,     /* like U64 but accepts K/M/G/T suffixes (binary) */
	ODPT_OPT_STR,      /* stored as const char * (points into argv) */
	ODPT_OPT_CHOICE,   /* one of choices[] (NULL-terminated); stored as const char * */
};

struct odpt_opt {
	const char *name;          /* long name without dashes: "iters" */
	char short_name;           /* 0 for none */
	enum odpt_opt_type type;
	size_t offset;             /* offsetof(struct cfg, field) */
	const char *def;           /* default as text; NULL = unset (0/false/NULL) */
	uint64_t min, max;         /* numeric range (inclusive); 0,0 = any */
	const char *const *choices;
	const char *metavar;       /* "N", "DEV", ... */
	const char *help;
};
#define ODPT_OPT_END { .name = NULL }

/*
 * Apply defaults, then parse argv[0..argc) (argv[0] is the first option, not
 * a program name). Positional arguments are left in order at the front of
 * argv and their count returned in *npos. Unknown options, missing values,
 * out-of-range numbers and bad choices print one clear line through
 * odpt_usage_err() and return -EINVAL; "-h"/"--help" returns -EAGAIN after
 * printing help. 0 on success.
 */
int odpt_opts_parse(const struct odpt_opt *table, void *cfg, int argc,
		    char **argv, int *npos);
/* Print the options' help (name, metavar, default, range, help) to stdout. */
void odpt_opts_help(const struct odpt_opt *table);
/* The same text on stderr, after a usage error. */
void odpt_opts_usage(const struct odpt_opt *table);
/* Parse "4K", "1M", "1G", "123": 0 or -EINVAL/-ERANGE. */
int odpt_parse_size(const char *s, uint64_t *out);

#endif
