/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The odpt command line: `odpt [GLOBAL-OPTS] OBJECT VERB [ARGS]`, dispatched
 * from tables in the iproute2 rdma style. Each object lives in its own
 * cmd_<object>.c and exports one struct odpt_object.
 *
 * Exit codes: 0 success (tests passed or skipped), 1 a test failed or an
 * operation failed at run time, 2 bad usage or bad input, 4 nothing could
 * run (no RDMA device: kselftest's skip code, KSFT_SKIP).
 */
#ifndef ODPT_CLI_H
#define ODPT_CLI_H

#include <stdbool.h>

#include "odpt/opts.h"
#include "odpt/report.h"

enum { ODPT_EXIT_OK = 0, ODPT_EXIT_FAIL = 1, ODPT_EXIT_USAGE = 2, ODPT_EXIT_SKIP = 4 };

/* Global options, parsed before OBJECT. */
struct odpt_cli {
	bool json;               /* -j/--json: same as --format=json */
	const char *format;      /* --format table|json|csv|hgrm */
	const char *output;      /* -o FILE (odpt_report_write_file(); "-" is stdout) */
	bool raw_buckets;        /* --raw-buckets (JSON) */
	bool verbose;            /* -v */
	const char *prog;
	bool stable;             /* --stable: no volatile facts (golden tests) */
	bool version;            /* -V/--version */
	bool help;               /* -h/--help */
};

struct odpt_verb {
	const char *name;
	int (*run)(struct odpt_cli *cli, int argc, char **argv); /* returns exit code */
	const char *summary;
	const struct odpt_opt *opts;   /* for help; may be NULL */
	const char *args;              /* positional arguments for usage ("FILE..."), or NULL */
};

struct odpt_object {
	const char *name;
	const char *summary;
	const struct odpt_verb *verbs;   /* NULL-name terminated */
	const char *default_verb;        /* verb run when none is given, or NULL */
	/*
	 * Non-NULL for an object without verbs that takes arguments (e.g.
	 * "BASE NEW [OPTIONS]"): everything after OBJECT goes to default_verb,
	 * and usage shows these words instead of VERB.
	 */
	const char *args_usage;
	/* Optional paragraph for `odpt OBJECT --help`, after the summary. */
	const char *description;
};

extern const struct odpt_object odpt_obj_devices;
extern const struct odpt_object odpt_obj_hist;
extern const struct odpt_object odpt_obj_compare;
extern const struct odpt_object odpt_obj_suite;
extern const struct odpt_object odpt_obj_shim;
extern const struct odpt_object odpt_obj_iommufd;
extern const struct odpt_object odpt_obj_merge;

/* `odpt iommufd edu` (cmd_iommufd_edu.c): its run function and options,
 * for the iommufd object's verb table. */
#define ODPT_IOMMUFD_EDU_SUMMARY \
	"DMA from QEMU's edu through an iommufd mapping (VFIO cdev), byte for byte; map/unmap latency"
int odpt_iommufd_edu_run(struct odpt_cli *cli, int argc, char **argv);
extern const struct odpt_opt odpt_iommufd_edu_opts[];

/* ---- Help, names and generated docs (cli_help.c, cli_gen.c) ------------ */

typedef void (*odpt_cli_pr)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The global options (parsed by main.c from this table), --format's names
 * and the exit status paragraph every help text ends with. */
extern const struct odpt_opt odpt_cli_global_opts[];
extern const char *const odpt_cli_formats[];
extern const char odpt_cli_exit_status[];
/* Usage of odpt, an object, a verb: on stdout, or stderr after an error. */
void odpt_cli_global_usage(const struct odpt_object *const *objs, bool to_err);
void odpt_cli_object_usage(const struct odpt_object *obj, bool to_err, bool with_opts);
void odpt_cli_verb_usage(const struct odpt_object *obj, const struct odpt_verb *v, bool to_err);
const struct odpt_verb *odpt_cli_verb_named(const struct odpt_object *obj, const char *name);
/* An object or verb by exact name or unique prefix; NULL after one line on
 * stderr (unknown: the nearest name; ambiguous: the candidates), or NULL
 * with *is_help for the word "help". */
const struct odpt_object *odpt_cli_find_object(const struct odpt_object *const *objs,
					       const char *word, bool *is_help);
const struct odpt_verb *odpt_cli_find_verb(const struct odpt_object *obj, const char *word,
					   bool *is_help);
/* The option of table that arg names (--name, --name=V, --no-name, -x,
 * -xV), with *val the value given in the same word, or NULL. */
const struct odpt_opt *odpt_cli_opt_lookup(const struct odpt_opt *table, const char *arg,
					   const char **val);
/* --help, or a misplaced global option, among a verb's arguments: an exit
 * code, or -1 to run the verb. */
int odpt_cli_verb_precheck(const struct odpt_object *obj, const struct odpt_verb *v,
			   int argc, char **argv, int obj_idx, int first);
/* `odpt help ...` (argv: the words after "help"): an exit code. */
int odpt_cli_help_cmd(const struct odpt_object *const *objs, int argc, char **argv);
/* odpt(1) in man(7) (date: "YYYY-MM-DD", NULL: today) and the bash
 * completion script, on stdout, from the tables: exit codes. */
int odpt_cli_gen_man(const struct odpt_object *const *objs, const char *date);
int odpt_cli_gen_bash(const struct odpt_object *const *objs);

/*
 * Render r in the format the global options chose (table by default) to
 * stdout, or atomically to -o FILE. Returns an exit code.
 */
int odpt_cli_emit(const struct odpt_cli *cli, const struct odpt_report *r);
/* Parse a verb's options from its table; on error returns an exit code
 * (>= 0: ODPT_EXIT_USAGE, or ODPT_EXIT_OK after --help) via *exit_code and
 * false. */
bool odpt_cli_parse(const struct odpt_verb *verb, void *cfg, int argc,
		    char **argv, int *npos, int *exit_code);
/* odpt_cli_parse() for a verb that takes options only: a positional
 * argument is a usage error ("odpt: OBJECT VERB: unexpected argument"). */
bool odpt_cli_parse_opts_only(const struct odpt_verb *verb, void *cfg, int argc,
			      char **argv, int *exit_code);
/* Echo every option's value in table (as parsed into cfg) into the
 * report's configuration, "max-size" as key max_size. 0 or -errno. */
int odpt_cli_opts_echo(const struct odpt_opt *table, const void *cfg,
		       struct odpt_report *r);
/* Add tool version, kernel release, host and clock facts to a report
 * (run-dependent ones as volatile), and apply --stable to it. */
int odpt_cli_meta(struct odpt_report *r);
/* Calibrate the clock, for a command that measures: its facts then go into
 * the report (odpt_cli_meta()). Logs why not; 0 or -errno. */
int odpt_cli_clock_init(void);
/*
 * Create the report of a command with odpt_cli_meta()'s facts and, with
 * opts, the echo of cfg from that option table. Logs "out of memory" on
 * failure; 0 or -errno. The caller destroys *out either way.
 */
int odpt_cli_report_start(const char *command, const struct odpt_opt *opts, const void *cfg,
			  struct odpt_report **out);
/* odpt_cli_emit(), then ODPT_EXIT_FAIL if a test failed or passed
 * unexpectedly (XPASS): the exit code of a command whose report has tests. */
int odpt_cli_report_finish(const struct odpt_cli *cli, const struct odpt_report *r);
/* Set by main() from --stable; odpt_cli_meta() applies it to reports. */
void odpt_cli_set_stable(bool stable);
/* Set by main(): the object being run, for usage messages. */
void odpt_cli_set_object(const char *name);

#endif
