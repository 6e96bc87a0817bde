// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Option tables: parsing a command's arguments and its --help text come
 * from one table per command (include/odpt/opts.h), as does the echo of
 * the configuration into a report (src/cli/opts_echo.c, kept out of the
 * core so the core does not depend on the report layer). Every bad input
 * gives one line saying which option and why, and -EINVAL.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/log.h"
#include "odpt/opts.h"

int odpt_parse_size(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	uint64_t v;
	char *end;

	if (!s || !*s || !out)
		return -EINVAL;
	/* strtoull accepts a sign and leading blanks: sizes do not. */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	/* Allow "4KiB", "4KB" and "4K"; a bare "B" only after a digit. */
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b")))
		end += strlen(end);
	else if (!shift && (!strcmp(end, "B") || !strcmp(end, "b")))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	return 0;
}

static void *field(void *cfg, const struct odpt_opt *o)
{
	return (char *)cfg + o->offset;
}

static bool has_range(const struct odpt_opt *o)
{
	return o->min || o->max;
}

/* Store text as o's value; 0 or -EINVAL after one line on stderr. */
static int set_value(const struct odpt_opt *o, void *cfg, const char *val,
		     bool from_default)
{
	const char *what = from_default ? "default of " : "";
	uint64_t u;
	int ret, i;

	switch (o->type) {
	case ODPT_OPT_BOOL:
		if (!val || !strcmp(val, "1") || !strcmp(val, "yes") || !strcmp(val, "true"))
			*(bool *)field(cfg, o) = true;
		else if (!strcmp(val, "0") || !strcmp(val, "no") || !strcmp(val, "false"))
			*(bool *)field(cfg, o) = false;
		else {
			odpt_usage_err("odpt: %s--%s: '%s' is not yes/no\n", what, o->name, val);
			return -EINVAL;
		}
		return 0;
	case ODPT_OPT_U64:
	case ODPT_OPT_SIZE:
		ret = o->type == ODPT_OPT_SIZE ? odpt_parse_size(val, &u) : parse_u64(val, &u);
		if (ret == -ERANGE) {
			odpt_usage_err("odpt: %s--%s: '%s' is too large\n", what, o->name, val);
			return -EINVAL;
		}
		if (ret) {
			odpt_usage_err("odpt: %s--%s: '%s' is not %s\n", what, o->name, val,
				       o->type == ODPT_OPT_SIZE ?
				       "a size (e.g. 4096, 4K, 2M, 1G)" : "a non-negative integer");
			return -EINVAL;
		}
		if (has_range(o) && (u < o->min || u > o->max)) {
			odpt_usage_err("odpt: %s--%s: %" PRIu64 " is out of range %" PRIu64
				       "..%" PRIu64 "\n", what, o->name, u, o->min, o->max);
			return -EINVAL;
		}
		*(uint64_t *)field(cfg, o) = u;
		return 0;
	case ODPT_OPT_STR:
		*(const char **)field(cfg, o) = val;
		return 0;
	case ODPT_OPT_CHOICE:
		for (i = 0; o->choices && o->choices[i]; i++) {
			if (!strcmp(val, o->choices[i])) {
				*(const char **)field(cfg, o) = o->choices[i];
				return 0;
			}
		}
		odpt_usage_err("odpt: %s--%s: '%s' is not one of:", what, o->name, val);
		for (i = 0; o->choices && o->choices[i]; i++)
			odpt_usage_err(" %s", o->choices[i]);
		odpt_usage_err("\n");
		return -EINVAL;
	}
	return -EINVAL;
}

static int apply_defaults(const struct odpt_opt *table, void *cfg)
{
	const struct odpt_opt *o;
	int ret;

	for (o = table; o && o->name; o++) {
		switch (o->type) {
		case ODPT_OPT_BOOL: *(bool *)field(cfg, o) = false; break;
		case ODPT_OPT_U64:
		case ODPT_OPT_SIZE: *(uint64_t *)field(cfg, o) = 0; break;
		default: *(const char **)field(cfg, o) = NULL; break;
		}
		if (o->def && (ret = set_value(o, cfg, o->def, true)))
			return ret;
	}
	return 0;
}

static const struct odpt_opt *find_long(const struct odpt_opt *table,
					const char *name, size_t len)
{
	const struct odpt_opt *o;

	for (o = table; o && o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct odpt_opt *find_short(const struct odpt_opt *table, char c)
{
	const struct odpt_opt *o;

	for (o = table; o && o->name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

int odpt_opts_parse(const struct odpt_opt *table, void *cfg, int argc,
		    char **argv, int *npos)
{
	int i, pos = 0, ret;
	bool only_pos = false;

	ret = apply_defaults(table, cfg);
	if (ret)
		return ret;
	for (i = 0; i < argc; i++) {
		char *a = argv[i];
		const struct odpt_opt *o;
		const char *val = NULL;
		bool negated = false;

		if (only_pos || a[0] != '-' || !a[1]) {
			argv[pos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			odpt_opts_help(table);
			return -EAGAIN;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);

			o = find_long(table, name, len);
			if (!o && len > 3 && !strncmp(name, "no-", 3)) {
				o = find_long(table, name + 3, len - 3);
				if (o && o->type == ODPT_OPT_BOOL)
					negated = true;
				else
					o = NULL;
			}
			if (!o) {
				odpt_usage_err("odpt: unknown option '--%.*s' (see --help)\n",
					       (int)len, name);
				return -EINVAL;
			}
			if (eq)
				val = eq + 1;
			if (negated && eq) {
				odpt_usage_err("odpt: --no-%s takes no value\n", o->name);
				return -EINVAL;
			}
		} else {
			o = find_short(table, a[1]);
			if (!o) {
				odpt_usage_err("odpt: unknown option '-%c' (see --help)\n", a[1]);
				return -EINVAL;
			}
			if (a[2]) {
				if (o->type == ODPT_OPT_BOOL) {
					odpt_usage_err("odpt: -%c takes no value ('%s')\n", a[1], a);
					return -EINVAL;
				}
				val = a + 2;
			}
		}
		if (o->type == ODPT_OPT_BOOL) {
			ret = set_value(o, cfg, negated ? "no" : val, false);
		} else {
			if (!val) {
				if (i + 1 >= argc) {
					odpt_usage_err("odpt: option --%s needs a value (%s)\n",
						       o->name, o->metavar ? o->metavar : "VALUE");
					return -EINVAL;
				}
				val = argv[++i];
			}
			ret = set_value(o, cfg, val, false);
		}
		if (ret)
			return ret;
	}
	if (npos)
		*npos = pos;
	return 0;
}

/* One help text, to stdout (--help) or stderr (after a usage error). */
static void opts_help(const struct odpt_opt *table,
		      void (*pr)(const char *fmt, ...) __attribute__((format(printf, 1, 2))))
{
	const struct odpt_opt *o;

	if (!table || !table->name) {
		pr("  (no options)\n");
		return;
	}
	for (o = table; o->name; o++) {
		char head[96], lead[8] = "    ";
		int i;

		if (o->short_name)
			snprintf(lead, sizeof(lead), "-%c, ", o->short_name);
		if (o->type == ODPT_OPT_BOOL)
			snprintf(head, sizeof(head), "%s--%s", lead, o->name);
		else
			snprintf(head, sizeof(head), "%s--%s=%s", lead, o->name,
				 o->metavar ? o->metavar : "VALUE");
		pr("  %-28s %s", head, o->help ? o->help : "");
		if (o->type == ODPT_OPT_CHOICE && o->choices) {
			pr(" (one of:");
			for (i = 0; o->choices[i]; i++)
				pr(" %s", o->choices[i]);
			pr(")");
		}
		if ((o->type == ODPT_OPT_U64 || o->type == ODPT_OPT_SIZE) && has_range(o))
			pr(" (range %" PRIu64 "..%" PRIu64 ")", o->min, o->max);
		if (o->def)
			pr(" [default %s]", o->def);
		pr("\n");
	}
}

void odpt_opts_help(const struct odpt_opt *table)
{
	opts_help(table, odpt_out);
}

void odpt_opts_usage(const struct odpt_opt *table)
{
	opts_help(table, odpt_usage_err);
}
