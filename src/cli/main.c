// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt's entry point: global options, then OBJECT and VERB looked up in
 * the tables below (the iproute2 rdma style). Anything unknown prints
 * usage on stderr and exits 2; "odpt help", "odpt OBJECT help" and -h print
 * help on stdout and exit 0.
 */
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
	&odpt_obj_compare,
	&odpt_obj_devices,
	&odpt_obj_hist,
	&odpt_obj_iommufd,
	&odpt_obj_merge,
	&odpt_obj_shim,
	&odpt_obj_suite,
	NULL,
};

/* argv[*i] is a global option: store it in cli. An exit code, or -1. */
static int parse_global(struct odpt_cli *cli, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *val;
	const struct odpt_opt *o = odpt_cli_opt_lookup(odpt_cli_global_opts, a, &val);
	char *field;
	int k;

	if (!o || (o->type == ODPT_OPT_BOOL && (val || !strncmp(a, "--no-", 5)))) {
		odpt_usage_err("odpt: unknown global option '%s'\n\n", a);
		odpt_cli_global_usage(objects, true);
		return ODPT_EXIT_USAGE;
	}
	field = (char *)cli + o->offset;
	if (o->type == ODPT_OPT_BOOL) {
		*(bool *)field = true;
		return -1;
	}
	if (!val && *i + 1 < argc)
		val = argv[++*i];
	if (!val || !*val) {
		if (o->choices) {
			odpt_usage_err("odpt: %s needs a value:", a);
			for (k = 0; o->choices[k]; k++)
				odpt_usage_err("%s %s", k ? "," : "", o->choices[k]);
			odpt_usage_err("\n");
		} else {
			odpt_usage_err("odpt: %s needs a %s\n", a,
				       !strcmp(o->metavar, "FILE") ? "file name" : "value");
		}
		return ODPT_EXIT_USAGE;
	}
	for (k = 0; o->choices && o->choices[k] && strcmp(o->choices[k], val); k++)
		;
	if (o->choices && !o->choices[k]) {
		odpt_usage_err("odpt: --%s: unknown %s '%s' (", o->name, o->name, val);
		for (k = 0; o->choices[k]; k++)
			odpt_usage_err("%s%s", k ? ", " : "", o->choices[k]);
		odpt_usage_err(")\n");
		return ODPT_EXIT_USAGE;
	}
	*(const char **)field = val;
	return -1;
}

int main(int argc, char **argv)
{
	struct odpt_cli cli = { .prog = "odpt" };
	const struct odpt_object *obj;
	const struct odpt_verb *verb;
	int i, obj_idx, code;
	bool is_help;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		code = parse_global(&cli, argc, argv, &i);
		if (code >= 0)
			return code;
	}
	if (cli.version) {
		odpt_out("odpt %s\n", ODPT_VERSION);
		return ODPT_EXIT_OK;
	}
	if (cli.help) {
		odpt_cli_global_usage(objects, false);
		return ODPT_EXIT_OK;
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
		odpt_cli_global_usage(objects, true);
		return ODPT_EXIT_USAGE;
	}
	obj_idx = i;
	obj = odpt_cli_find_object(objects, argv[i], &is_help);
	if (is_help)
		return odpt_cli_help_cmd(objects, argc - i - 1, argv + i + 1);
	if (!obj) {
		odpt_cli_global_usage(objects, true);
		return ODPT_EXIT_USAGE;
	}
	odpt_cli_set_object(obj->name);
	i++;
	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
			 (obj->args_usage && !strcmp(argv[i], "help")))) {
		odpt_cli_object_usage(obj, false, true);
		return ODPT_EXIT_OK;
	}
	if (obj->args_usage) {
		/* No verbs: the arguments are the object's own (e.g. two files). */
		verb = odpt_cli_verb_named(obj, obj->default_verb);
	} else if (i >= argc || argv[i][0] == '-') {
		/* No verb: the default one, with any options that follow. */
		if (!obj->default_verb) {
			odpt_usage_err("odpt: %s needs a verb\n\n", obj->name);
			odpt_cli_object_usage(obj, true, false);
			return ODPT_EXIT_USAGE;
		}
		verb = odpt_cli_verb_named(obj, obj->default_verb);
	} else {
		verb = odpt_cli_find_verb(obj, argv[i], &is_help);
		if (is_help) {
			/* odpt OBJECT help [VERB] */
			argv[i] = argv[obj_idx];
			return odpt_cli_help_cmd(objects, argc - i, argv + i);
		}
		if (!verb) {
			odpt_cli_object_usage(obj, true, false);
			return ODPT_EXIT_USAGE;
		}
		i++;
	}
	code = odpt_cli_verb_precheck(obj, verb, argc, argv, obj_idx, i);
	if (code >= 0)
		return code;
	return verb->run(&cli, argc - i, argv + i);
}
