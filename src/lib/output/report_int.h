/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Inside the result document: what report.c stores and the writers read.
 * Private to src/lib/output; producers see only include/odpt/report.h.
 */
#ifndef ODPT_REPORT_INT_H
#define ODPT_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "odpt/report.h"

struct odpt_rkv {
	char *key;
	char *value;
	bool is_volatile;
	bool is_number;         /* value is a JSON number's text (JSON writes a number) */
};

enum odpt_rcfg_type { ODPT_RCFG_STR, ODPT_RCFG_U64, ODPT_RCFG_BOOL };

struct odpt_rcfg {
	char *key;
	enum odpt_rcfg_type type;
	char *s;
	uint64_t u;
	bool b;
};

struct odpt_rlabels {
	struct odpt_label *v;   /* strings owned */
	int n;
};

struct odpt_rseries {
	char *name;
	struct odpt_rlabels labels;
	struct odpt_hist *h;    /* private copy */
};

struct odpt_rscalar {
	char *name;
	struct odpt_rlabels labels;
	double value;
};

struct odpt_rsection {
	char *key;
	struct json_object *obj;
};

struct odpt_report {
	char *command;
	bool stable;            /* omit volatile meta and durations */
	struct odpt_rkv *meta;
	int nmeta;
	struct odpt_rcfg *cfg;
	int ncfg;
	struct odpt_rseries *series;
	int nseries;
	struct odpt_rscalar *scalars;
	int nscalars;
	struct odpt_test_record *tests;   /* strings owned */
	int ntests;
	struct odpt_rsection *sections;
	int nsections;
	bool skip_all;          /* odpt_report_skip_all(): reason in summary_text */
	char *summary_result;   /* NULL: no summary */
	char *summary_text;
};

/* Helpers shared by the writers. */
const char *odpt_test_result_name(enum odpt_test_result r);
/* "k=v,k=v" into buf (empty string without labels). */
void odpt_labels_fmt(const struct odpt_rlabels *l, char *buf, size_t len);
/* "99.9" style text for a percentile (shortest exact form). */
void odpt_pct_fmt(double p, char *buf, size_t len);
/* Whether a meta entry is printed (stable mode hides volatile ones). */
bool odpt_meta_visible(const struct odpt_report *r, const struct odpt_rkv *kv);

/*
 * Write len bytes to path the way result files are written (write_file.c):
 * "-" is stdout, a missing or regular file (after symlinks) is replaced
 * atomically, any other node is written in place. 0 or -errno.
 */
int odpt_output_write(const char *path, const char *buf, size_t len);

int odpt_write_table(const struct odpt_report *r, const struct odpt_write_opts *o, FILE *f);
int odpt_write_json(const struct odpt_report *r, const struct odpt_write_opts *o, FILE *f);
int odpt_write_csv(const struct odpt_report *r, const struct odpt_write_opts *o, FILE *f);
int odpt_write_hgrm(const struct odpt_report *r, const struct odpt_write_opts *o, FILE *f);
int odpt_write_tap(const struct odpt_report *r, const struct odpt_write_opts *o, FILE *f);
/* Series i alone as .hgrm (write_file.c writes one file per series). */
int odpt_write_hgrm_series(const struct odpt_report *r, const struct odpt_write_opts *o,
			   int i, FILE *f);
int odpt_write_junit(const struct odpt_report *r, const struct odpt_write_opts *o, FILE *f);

#endif
