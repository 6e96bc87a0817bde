// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The CSV writer: one header, one row per series, scalar and test, the
 * same columns on every row (empty where a column does not apply), so a
 * spreadsheet or gnuplot can filter on the first column. Fields holding a
 * comma, quote or newline are quoted (RFC 4180). Structured sections are
 * not tabular and are left to the table and JSON writers.
 */
#include <inttypes.h>
#include <string.h>

#include "odpt/report.h"
#include "report_int.h"

static void field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (strpbrk(s, ",\"\n\r")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
}

static void empty_cols(FILE *f, int n)
{
	while (n--)
		fputc(',', f);
}

int odpt_write_csv(const struct odpt_report *r, const struct odpt_write_opts *o,
		   FILE *f)
{
	char buf[512];
	int i, p, npct = odpt_report_npercentiles;
	/* columns after kind,name,labels */
	int nstat = 5 + npct + 1;   /* count overflow min mean stddev pN.. max */

	fputs("kind,name,labels,count,overflow,min_ns,mean_ns,stddev_ns", f);
	for (p = 0; p < npct; p++) {
		odpt_pct_fmt(odpt_report_percentiles[p], buf, sizeof(buf));
		fprintf(f, ",p%s_ns", buf);
	}
	fputs(",max_ns,value,result,reason,duration_ns\n", f);

	for (i = 0; i < r->nseries; i++) {
		const struct odpt_hist *h = r->series[i].h;

		fputs("hist,", f);
		field(f, r->series[i].name);
		fputc(',', f);
		odpt_labels_fmt(&r->series[i].labels, buf, sizeof(buf));
		field(f, buf);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.3f",
			odpt_hist_count(h), h->overflow, odpt_hist_min(h),
			odpt_hist_mean(h), odpt_hist_stddev(h));
		for (p = 0; p < npct; p++)
			fprintf(f, ",%" PRIu64,
				odpt_hist_value_at_percentile(h, odpt_report_percentiles[p]));
		fprintf(f, ",%" PRIu64, odpt_hist_max(h));
		empty_cols(f, 4);
		fputc('\n', f);
	}
	for (i = 0; i < r->nscalars; i++) {
		fputs("scalar,", f);
		field(f, r->scalars[i].name);
		fputc(',', f);
		odpt_labels_fmt(&r->scalars[i].labels, buf, sizeof(buf));
		field(f, buf);
		empty_cols(f, nstat);
		odpt_pct_fmt(r->scalars[i].value, buf, sizeof(buf));
		fprintf(f, ",%s", buf);
		empty_cols(f, 3);
		fputc('\n', f);
	}
	for (i = 0; i < r->ntests; i++) {
		const struct odpt_test_record *t = &r->tests[i];

		fputs("test,", f);
		field(f, t->name);
		fputc(',', f);
		empty_cols(f, nstat + 1);
		fprintf(f, ",%s,", odpt_test_result_name(t->result));
		field(f, t->reason);
		fputc(',', f);
		if (!r->stable)
			fprintf(f, "%" PRIu64, t->duration_ns);
		fputc('\n', f);
	}
	return 0;
}
