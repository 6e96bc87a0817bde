// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The TAP 13 writer in the kselftest style: "TAP version 13", the plan,
 * metadata as "# key: value" lines, each test's diagnostics as "# " lines
 * before its result line, results as "ok N name", "not ok N name",
 * "ok N name # SKIP reason", "ok N name # XFAIL reason" and
 * "not ok N name # XPASS reason" (an unexpected pass is a failure), and
 * the kselftest totals line at the end. A report where nothing could run
 * (odpt_report_skip_all()) has the plan "1..0 # SKIP reason". The three
 * parts are exported (odpt/tap.h) so that a long run can stream its result
 * lines.
 */
#include <string.h>

#include "odpt/report.h"
#include "odpt/tap.h"
#include "report_int.h"

/* Text after '#' on a result line must stay on that line. */
static void one_line(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
}

/*
 * A test name on a result line: '#' would start a directive and a newline
 * would end the line, so both become '_'.
 */
static void tap_name(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '#' || *s == '\n' || *s == '\r' ? '_' : *s, f);
}

static void diag_block(FILE *f, const char *label, const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		fprintf(f, "# %s%.*s\n", label, n, p);
		p = nl ? nl + 1 : NULL;
	}
}

void odpt_write_tap_head(const struct odpt_report *r, bool plan, FILE *f)
{
	fputs("TAP version 13\n", f);
	if (r->skip_all && !r->ntests) {
		/* kselftest's skip-all plan: prove and friends read it as SKIP. */
		fputs("1..0 # SKIP ", f);
		one_line(f, r->summary_text);
		fputc('\n', f);
	} else if (plan) {
		fprintf(f, "1..%d\n", r->ntests);
	}
	fprintf(f, "# odpt %s\n", r->command);
	for (int i = 0; i < r->nmeta; i++)
		if (odpt_meta_visible(r, &r->meta[i]))
			fprintf(f, "# %s: %s\n", r->meta[i].key, r->meta[i].value);
}

void odpt_write_tap_result(const struct odpt_test_record *t, int n, FILE *f)
{
	if (t->stage && (t->result == ODPT_FAIL || t->result == ODPT_XFAIL)) {
		fputs("# ", f);
		tap_name(f, t->name);
		fputs(": stage: ", f);
		one_line(f, t->stage);
		fputc('\n', f);
	}
	if (t->reason && t->result == ODPT_FAIL) {
		fputs("# ", f);
		tap_name(f, t->name);
		fputs(": ", f);
		one_line(f, t->reason);
		fputc('\n', f);
	}
	diag_block(f, "", t->diag);
	fprintf(f, "%s %d ", t->result == ODPT_FAIL || t->result == ODPT_XPASS ?
		"not ok" : "ok", n);
	tap_name(f, t->name);
	switch (t->result) {
	case ODPT_PASS:
	case ODPT_FAIL:
		fputc('\n', f);
		break;
	case ODPT_SKIP:
		fputs(" # SKIP ", f);
		one_line(f, t->reason ? t->reason : "no reason given");
		fputc('\n', f);
		break;
	case ODPT_XFAIL:
		fputs(" # XFAIL ", f);
		one_line(f, t->reason ? t->reason : "known failure");
		fputc('\n', f);
		break;
	case ODPT_XPASS:
		fputs(" # XPASS ", f);
		one_line(f, t->reason ? t->reason : "known failure did not occur");
		fputc('\n', f);
		break;
	}
}

void odpt_write_tap_tail(const struct odpt_report *r, bool plan, FILE *f)
{
	struct odpt_test_counts tc;

	if (plan && !(r->skip_all && !r->ntests))
		fprintf(f, "1..%d\n", r->ntests);
	if (r->summary_result && !(r->skip_all && !r->ntests)) {
		fputs("# summary: ", f);
		one_line(f, r->summary_text);
		fputc('\n', f);
	}
	odpt_report_test_counts(r, &tc);
	fprintf(f, "# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:0\n",
		tc.pass, tc.fail, tc.xfail, tc.xpass, tc.skip);
}

int odpt_write_tap(const struct odpt_report *r, const struct odpt_write_opts *o,
		   FILE *f)
{
	odpt_write_tap_head(r, true, f);
	for (int i = 0; i < r->ntests; i++)
		odpt_write_tap_result(&r->tests[i], i + 1, f);
	odpt_write_tap_tail(r, false, f);
	return 0;
}
