// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Help and name lookup for the odpt command line, all from the tables:
 * the global options (odpt_cli_global_opts below), the objects (main.c)
 * and each object's verbs and option tables. Usage at every level (odpt,
 * odpt OBJECT, odpt OBJECT VERB), `odpt help [OBJECT [VERB]]`, objects and
 * verbs found by a unique prefix (iproute2's `rdma dev`), the nearest name
 * suggested for an unknown one, and a global option given after OBJECT
 * told where it goes. The man page and the bash completion (cli_gen.c)
 * read the same tables, so none of them can drift from what is parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odpt/log.h"
#include "cli.h"

const char *const odpt_cli_formats[] = { "table", "json", "csv", "hgrm", "tap", "junit", NULL };

const struct odpt_opt odpt_cli_global_opts[] = {
	{ .name = "json", .short_name = 'j', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct odpt_cli, json), .help = "same as --format=json" },
	{ .name = "format", .type = ODPT_OPT_CHOICE, .offset = offsetof(struct odpt_cli, format),
	  .choices = odpt_cli_formats, .metavar = "FMT",
	  .help = "output format (table when not given)" },
	{ .name = "output", .short_name = 'o', .type = ODPT_OPT_STR,
	  .offset = offsetof(struct odpt_cli, output), .metavar = "FILE",
	  .help = "write the result to FILE instead of stdout ('-': stdout); a regular file is replaced atomically, a device or FIFO written in place" },
	{ .name = "raw-buckets", .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct odpt_cli, raw_buckets),
	  .help = "JSON: include every non-empty histogram bucket (what odpt compare and odpt merge read)" },
	{ .name = "stable", .type = ODPT_OPT_BOOL, .offset = offsetof(struct odpt_cli, stable),
	  .help = "leave out run-dependent facts (host, kernel, durations)" },
	{ .name = "verbose", .short_name = 'v', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct odpt_cli, verbose), .help = "more diagnostics on stderr" },
	{ .name = "version", .short_name = 'V', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct odpt_cli, version), .help = "print the version and exit" },
	{ .name = "help", .short_name = 'h', .type = ODPT_OPT_BOOL,
	  .offset = offsetof(struct odpt_cli, help), .help = "this help" },
	ODPT_OPT_END,
};

const char odpt_cli_exit_status[] =
	"exit status: 0 success, 1 a test or operation failed, 2 bad usage or input,\n"
	"             4 nothing could run (suite run without an RDMA device: TAP 1..0 # SKIP)\n";

static odpt_cli_pr printer(bool to_err)
{
	return to_err ? odpt_usage_err : odpt_out;
}

static void opts_list(const struct odpt_opt *table, bool to_err)
{
	if (to_err)
		odpt_opts_usage(table);
	else
		odpt_opts_help(table);
}

/* ---- Usage text ---------------------------------------------------------- */

void odpt_cli_global_usage(const struct odpt_object *const *objs, bool to_err)
{
	odpt_cli_pr pr = printer(to_err);
	int i;

	pr("usage: odpt [GLOBAL-OPTIONS] OBJECT [VERB] [OPTIONS]\n"
	   "       odpt help [OBJECT [VERB]]\n"
	   "       odpt OBJECT [VERB] --help\n\n"
	   "objects:\n");
	for (i = 0; objs[i]; i++)
		pr("  %-10s %s\n", objs[i]->name, objs[i]->summary);
	pr("  (objects and verbs: any unique prefix, e.g. odpt dev = odpt devices list)\n"
	   "\nglobal options (before OBJECT):\n");
	opts_list(odpt_cli_global_opts, to_err);
	pr("\n%s", odpt_cli_exit_status);
}

static bool is_default(const struct odpt_object *obj, const struct odpt_verb *v)
{
	return obj->default_verb && !strcmp(obj->default_verb, v->name);
}

void odpt_cli_object_usage(const struct odpt_object *obj, bool to_err, bool with_opts)
{
	odpt_cli_pr pr = printer(to_err);
	const struct odpt_verb *v;

	if (obj->args_usage) {
		pr("usage: odpt [GLOBAL-OPTIONS] %s %s\n\n%s: %s\n", obj->name,
		   obj->args_usage, obj->name, obj->summary);
		if (obj->description)
			pr("\n%s", obj->description);
		v = odpt_cli_verb_named(obj, obj->default_verb);
		if (with_opts && v && v->opts && v->opts->name) {
			pr("\n%s options:\n", obj->name);
			opts_list(v->opts, to_err);
		}
		return;
	}
	pr("usage: odpt [GLOBAL-OPTIONS] %s VERB [OPTIONS]\n\n%s: %s\n", obj->name, obj->name,
	   obj->summary);
	if (obj->description)
		pr("\n%s", obj->description);
	pr("\nverbs:\n");
	for (v = obj->verbs; v->name; v++)
		pr("  %-10s %s%s\n", v->name, v->summary, is_default(obj, v) ? " (default)" : "");
	pr("  %-10s %s\n", "help", "this help; odpt help OBJECT VERB: a verb's");
	if (!with_opts)
		return;
	for (v = obj->verbs; v->name; v++) {
		if (!v->opts || !v->opts->name)
			continue;
		pr("\n%s %s options:\n", obj->name, v->name);
		opts_list(v->opts, to_err);
	}
}

void odpt_cli_verb_usage(const struct odpt_object *obj, const struct odpt_verb *v, bool to_err)
{
	odpt_cli_pr pr = printer(to_err);

	if (obj->args_usage) {
		odpt_cli_object_usage(obj, to_err, true);
		return;
	}
	pr("usage: odpt [GLOBAL-OPTIONS] %s %s%s%s [OPTIONS]\n\n%s %s: %s\n", obj->name, v->name,
	   v->args ? " " : "", v->args ? v->args : "", obj->name, v->name, v->summary);
	if (is_default(obj, v))
		pr("(the default verb: odpt %s runs it)\n", obj->name);
	pr("\noptions:\n");
	opts_list(v->opts, to_err);
	pr("\nglobal options go before OBJECT (odpt --help lists them)\n");
}

/* ---- Names: exact, unique prefix, or the nearest as a hint --------------- */

const struct odpt_verb *odpt_cli_verb_named(const struct odpt_object *obj, const char *name)
{
	const struct odpt_verb *v;

	for (v = obj->verbs; name && v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

/* Edit distance with adjacent transpositions (a typo "hsit" is one edit). */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned char d[33][33];
	size_t n = strlen(a), m = strlen(b), i, j;

	if (n > 32 || m > 32)
		return 255;
	for (i = 0; i <= n; i++)
		d[i][0] = (unsigned char)i;
	for (j = 0; j <= m; j++)
		d[0][j] = (unsigned char)j;
	for (i = 1; i <= n; i++) {
		for (j = 1; j <= m; j++) {
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1u < best)
				best = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < best)
				best = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1u < best)
				best = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)best;
		}
	}
	return d[n][m];
}

/*
 * Index of word among names[0..n): the exact name, else the only name it
 * is a prefix of. Otherwise prints one line (ambiguous: the candidates;
 * unknown: the nearest name within two edits, if any) and returns -1.
 */
static int match_name(const char *what, const char *ctx, const char *word,
		      const char *const *names, int n)
{
	size_t len = strlen(word);
	unsigned best_d = 3, d;
	int i, found = -1, nfound = 0, best = -1;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], word))
			return i;
	for (i = 0; len && i < n; i++) {
		if (!strncmp(names[i], word, len)) {
			found = i;
			nfound++;
		}
	}
	if (nfound == 1)
		return found;
	if (nfound > 1) {
		odpt_usage_err("odpt: ambiguous %s '%s'%s: could be", what, word, ctx);
		for (i = 0, nfound = 0; i < n; i++)
			if (!strncmp(names[i], word, len))
				odpt_usage_err("%s %s", nfound++ ? "," : "", names[i]);
		odpt_usage_err("\n\n");
		return -1;
	}
	for (i = 0; i < n; i++) {
		d = edit_distance(word, names[i]);
		if (d < best_d && d < len) {
			best_d = d;
			best = i;
		}
	}
	odpt_usage_err("odpt: unknown %s '%s'%s", what, word, ctx);
	if (best >= 0)
		odpt_usage_err("; did you mean '%s'?", names[best]);
	odpt_usage_err("\n\n");
	return -1;
}

#define MAX_NAMES 64

const struct odpt_object *odpt_cli_find_object(const struct odpt_object *const *objs,
					       const char *word, bool *is_help)
{
	const char *names[MAX_NAMES];
	int n = 0, i;

	for (i = 0; objs[i] && n < MAX_NAMES - 1; i++)
		names[n++] = objs[i]->name;
	names[n++] = "help";
	i = match_name("object", "", word, names, n);
	*is_help = i == n - 1;
	if (i < 0 || *is_help)
		return NULL;
	return objs[i];
}

const struct odpt_verb *odpt_cli_find_verb(const struct odpt_object *obj, const char *word,
					   bool *is_help)
{
	const char *names[MAX_NAMES];
	char ctx[96];
	int n = 0, i;

	for (i = 0; obj->verbs[i].name && n < MAX_NAMES - 1; i++)
		names[n++] = obj->verbs[i].name;
	names[n++] = "help";
	snprintf(ctx, sizeof(ctx), " for object '%s'", obj->name);
	i = match_name("verb", ctx, word, names, n);
	*is_help = i == n - 1;
	if (i < 0 || *is_help)
		return NULL;
	return &obj->verbs[i];
}

/* ---- Options of a table, as they appear on the command line ------------- */

const struct odpt_opt *odpt_cli_opt_lookup(const struct odpt_opt *table, const char *arg,
					   const char **val)
{
	const struct odpt_opt *o;

	*val = NULL;
	if (arg[0] != '-' || !arg[1])
		return NULL;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		bool neg = len > 3 && !strncmp(name, "no-", 3);

		for (o = table; o && o->name; o++) {
			if (strlen(o->name) == len && !strncmp(o->name, name, len))
				break;
			if (neg && o->type == ODPT_OPT_BOOL && strlen(o->name) == len - 3 &&
			    !strncmp(o->name, name + 3, len - 3))
				break;
		}
		if (o && o->name && eq)
			*val = eq + 1;
		return o && o->name ? o : NULL;
	}
	for (o = table; o && o->name; o++)
		if (o->short_name && o->short_name == arg[1])
			break;
	if (o && o->name && arg[2])
		*val = arg + 2;
	return o && o->name ? o : NULL;
}

/*
 * Before a verb parses its arguments: --help anywhere (the verb's own
 * help), or a global option the verb does not have (say where it goes).
 * argv[obj_idx] is the object's word, argv[first..argc) the verb's
 * arguments. Returns an exit code, or -1 to let the verb run.
 */
int odpt_cli_verb_precheck(const struct odpt_object *obj, const struct odpt_verb *v,
			   int argc, char **argv, int obj_idx, int first)
{
	const struct odpt_opt *o, *g;
	const char *val;
	int i, j, vi;

	for (i = first; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		o = odpt_cli_opt_lookup(v->opts, a, &val);
		if (o) {
			if (o->type != ODPT_OPT_BOOL && !val)
				i++;   /* its value, whatever it looks like */
			continue;
		}
		g = odpt_cli_opt_lookup(odpt_cli_global_opts, a, &val);
		if (!g)
			continue;   /* positional, or unknown: the verb says so */
		if (!strcmp(g->name, "help")) {
			odpt_cli_verb_usage(obj, v, false);
			return ODPT_EXIT_OK;
		}
		/* The same command line with the option moved before OBJECT. */
		vi = g->type != ODPT_OPT_BOOL && !val && i + 1 < argc ? i + 1 : -1;
		odpt_usage_err("odpt: %s is a global option: odpt", a);
		for (j = 1; j < argc; j++) {
			if (j == i || j == vi)
				continue;
			if (j == obj_idx) {
				odpt_usage_err(" %s", a);
				if (vi > 0)
					odpt_usage_err(" %s", argv[vi]);
				else if (g->type != ODPT_OPT_BOOL && !val)
					odpt_usage_err(" %s", g->metavar);
			}
			odpt_usage_err(" %s", argv[j]);
		}
		odpt_usage_err("\n");
		return ODPT_EXIT_USAGE;
	}
	return -1;
}

/* `odpt help [OBJECT [VERB]]`; the hidden generators for the build. */
int odpt_cli_help_cmd(const struct odpt_object *const *objs, int argc, char **argv)
{
	const struct odpt_object *obj;
	const struct odpt_verb *v;
	bool is_help;

	if (argc >= 1 && !strcmp(argv[0], "--man"))
		return odpt_cli_gen_man(objs, argc > 1 ? argv[1] : NULL);
	if (argc == 1 && !strcmp(argv[0], "--bash-completion"))
		return odpt_cli_gen_bash(objs);
	if (argc > 2) {
		odpt_usage_err("odpt: help: unexpected argument '%s' (odpt help [OBJECT [VERB]])\n",
			       argv[2]);
		return ODPT_EXIT_USAGE;
	}
	if (!argc) {
		odpt_cli_global_usage(objs, false);
		return ODPT_EXIT_OK;
	}
	obj = odpt_cli_find_object(objs, argv[0], &is_help);
	if (is_help) {
		odpt_cli_global_usage(objs, false);
		return ODPT_EXIT_OK;
	}
	if (!obj) {
		odpt_cli_global_usage(objs, true);
		return ODPT_EXIT_USAGE;
	}
	if (argc == 1 || obj->args_usage) {
		odpt_cli_object_usage(obj, false, true);
		return ODPT_EXIT_OK;
	}
	v = odpt_cli_find_verb(obj, argv[1], &is_help);
	if (is_help) {
		odpt_cli_object_usage(obj, false, true);
		return ODPT_EXIT_OK;
	}
	if (!v) {
		odpt_cli_object_usage(obj, true, false);
		return ODPT_EXIT_USAGE;
	}
	odpt_cli_verb_usage(obj, v, false);
	return ODPT_EXIT_OK;
}
