// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt's entry point: global options, then OBJECT and VERB looked up in
 * the tables below (the iproute2 rdma style). Anything unknown prints
 * usage on stderr and exits 2; "odpt help", "odpt OBJECT help" and -h print
 * help on stdout and exit 0.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "odpt_config.h"
#include "odpt/log.h"
#include "cli.h"

/*
 * Every object odpt knows. To add one, write cmd_<object>.c exporting a
 * struct odpt_object and add one line here (the declarations are in cli.h).
 */
static const struct odpt_object *const objects[] = {
	&odpt_obj_bench,
	&odpt_obj_compare,
	&odpt_obj_devices,
	&odpt_obj_hist,
	&odpt_obj_iommufd,
	&odpt_obj_shim,
	&odpt_obj_suite,
	NULL,
};

static void global_usage(void (*pr)(const char *, ...))
{
	int i;

	pr("usage: odpt [GLOBAL-OPTIONS] OBJECT [VERB] [ARGS]\n"
	   "       odpt OBJECT help\n\n"
	   "objects:\n");
	for (i = 0; objects[i]; i++)
		pr("  %-10s %s\n", objects[i]->name, objects[i]->summary);
	pr("\nglobal options:\n"
	   "  -j, --json                  same as --format=json\n"
	   "  --format=FMT                table (default), json, csv, hgrm, tap, junit\n"
	   "  -o, --output=FILE           write the result to FILE instead of stdout ('-': stdout);\n"
	   "                              a regular file is replaced atomically, a device or FIFO\n"
	   "                              written in place\n"
	   "  --raw-buckets               JSON: include every non-empty histogram bucket\n"
	   "                              (what odpt compare reads)\n"
	   "  --stable                    leave out run-dependent facts (host, kernel, durations)\n"
	   "  -v, --verbose               more diagnostics on stderr\n"
	   "  --version                   print the version and exit\n"
	   "  -h, --help                  this help\n\n"
	   "exit status: 0 success, 1 a test or operation failed, 2 bad usage or input,\n"
	   "             4 nothing could run (suite run without an RDMA device: TAP 1..0 # SKIP)\n");
}

static void print_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void print_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void print_out(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	odpt_out("%s", buf);
}

static void print_err(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	odpt_usage_err("%s", buf);
}

static const struct odpt_verb *find_verb(const struct odpt_object *obj,
					 const char *name);

static void object_usage(const struct odpt_object *obj,
			 void (*pr)(const char *, ...), bool with_opts)
{
	const struct odpt_verb *v;

	if (obj->args_usage) {
		pr("usage: odpt [GLOBAL-OPTIONS] %s %s\n\n%s: %s\n", obj->name,
		   obj->args_usage, obj->name, obj->summary);
		if (obj->description)
			pr("\n%s", obj->description);
		v = find_verb(obj, obj->default_verb);
		if (with_opts && v && v->opts && v->opts->name) {
			odpt_out("\n%s options:\n", obj->name);
			odpt_opts_help(v->opts);
		}
		return;
	}
	pr("usage: odpt [GLOBAL-OPTIONS] %s VERB [OPTIONS]\n\n%s: %s\n\nverbs:\n",
	   obj->name, obj->name, obj->summary);
	for (v = obj->verbs; v->name; v++)
		pr("  %-10s %s%s\n", v->name, v->summary,
		   obj->default_verb && !strcmp(obj->default_verb, v->name) ?
		   " (default)" : "");
	pr("  %-10s %s\n", "help", "this help");
	if (!with_opts)
		return;
	for (v = obj->verbs; v->name; v++) {
		if (!v->opts || !v->opts->name)
			continue;
		odpt_out("\n%s %s options:\n", obj->name, v->name);
		odpt_opts_help(v->opts);
	}
}

static const struct odpt_object *find_object(const char *name)
{
	int i;

	for (i = 0; objects[i]; i++)
		if (!strcmp(objects[i]->name, name))
			return objects[i];
	return NULL;
}

static const struct odpt_verb *find_verb(const struct odpt_object *obj,
					 const char *name)
{
	const struct odpt_verb *v;

	for (v = obj->verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

/* Value of "--name=value" or "--name value"; NULL (and *bad) if missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *arg,
			     size_t namelen, bool *bad)
{
	if (arg[namelen] == '=')
		return arg + namelen + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	*bad = true;
	return NULL;
}

int main(int argc, char **argv)
{
	struct odpt_cli cli = { .prog = "odpt" };
	const struct odpt_object *obj;
	const struct odpt_verb *verb;
	enum odpt_format fmt;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		bool bad = false;

		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			cli.json = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cli.verbose = true;
		} else if (!strcmp(a, "--raw-buckets")) {
			cli.raw_buckets = true;
		} else if (!strcmp(a, "--stable")) {
			cli.stable = true;
		} else if (!strcmp(a, "--version")) {
			odpt_out("odpt %s\n", ODPT_VERSION);
			return ODPT_EXIT_OK;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			global_usage(print_out);
			return ODPT_EXIT_OK;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output") ||
			   !strncmp(a, "--output=", 9)) {
			cli.output = opt_value(argc, argv, &i, a, a[1] == 'o' ? 2 : 8, &bad);
			if (bad || !cli.output || !*cli.output) {
				odpt_usage_err("odpt: %s needs a file name\n", a);
				return ODPT_EXIT_USAGE;
			}
		} else if (!strncmp(a, "--format", 8) && (a[8] == '\0' || a[8] == '=')) {
			cli.format = opt_value(argc, argv, &i, a, 8, &bad);
			if (bad) {
				odpt_usage_err("odpt: --format needs a value: table, json, csv, hgrm, tap or junit\n");
				return ODPT_EXIT_USAGE;
			}
			if (odpt_format_parse(cli.format, &fmt)) {
				odpt_usage_err("odpt: --format: unknown format '%s' (table, json, csv, hgrm, tap, junit)\n",
					       cli.format);
				return ODPT_EXIT_USAGE;
			}
		} else {
			odpt_usage_err("odpt: unknown global option '%s'\n\n", a);
			global_usage(print_err);
			return ODPT_EXIT_USAGE;
		}
	}
	if (cli.json && cli.format && strcmp(cli.format, "json")) {
		odpt_usage_err("odpt: conflicting options: -j/--json asks for JSON but --format=%s was given\n",
			       cli.format);
		return ODPT_EXIT_USAGE;
	}
	odpt_log_set_level(cli.verbose ? ODPT_LOG_DEBUG : ODPT_LOG_WARN);
	odpt_cli_set_stable(cli.stable);

	if (i >= argc) {
		odpt_usage_err("odpt: no object given\n\n");
		global_usage(print_err);
		return ODPT_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		global_usage(print_out);
		return ODPT_EXIT_OK;
	}
	obj = find_object(argv[i]);
	if (!obj) {
		odpt_usage_err("odpt: unknown object '%s'\n\n", argv[i]);
		global_usage(print_err);
		return ODPT_EXIT_USAGE;
	}
	odpt_cli_set_object(obj->name);
	i++;
	if (i < argc && (!strcmp(argv[i], "help") || !strcmp(argv[i], "-h") ||
			 !strcmp(argv[i], "--help"))) {
		object_usage(obj, print_out, true);
		return ODPT_EXIT_OK;
	}
	if (obj->args_usage) {
		/* No verbs: the arguments are the object's own (e.g. two files). */
		verb = find_verb(obj, obj->default_verb);
	} else if (i >= argc || argv[i][0] == '-') {
		/* No verb: the default one, with any options that follow. */
		if (!obj->default_verb) {
			odpt_usage_err("odpt: %s needs a verb\n\n", obj->name);
			object_usage(obj, print_err, false);
			return ODPT_EXIT_USAGE;
		}
		verb = find_verb(obj, obj->default_verb);
	} else {
		verb = find_verb(obj, argv[i]);
		if (!verb) {
			odpt_usage_err("odpt: unknown verb '%s' for object '%s'\n\n",
				       argv[i], obj->name);
			object_usage(obj, print_err, false);
			return ODPT_EXIT_USAGE;
		}
		i++;
	}
	return verb->run(&cli, argc - i, argv + i);
}
