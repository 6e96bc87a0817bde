// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The TAP 13 writer in the kselftest style: "TAP version 13", the plan,
 * metadata as "# key: value" lines, each test's diagnostics as "# " lines
 * before its result line, results as "ok N name", "not ok N name",
 * "ok N name # SKIP reason", "ok N name # XFAIL reason" and
 * "not ok N name # XPASS reason" (an unexpected pass is a failure), and
 * the kselftest totals line at the end.
 */
#include <string.h>

#include "odpt/report.h"
#include "report_int.h"

/* Text after '#' on a result line must stay on that line. */
static void one_line(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
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

int odpt_write_tap(const struct odpt_report *r, const struct odpt_write_opts *o,
		   FILE *f)
{
	struct odpt_test_counts tc;
	int i;

	fputs("TAP version 13\n", f);
	fprintf(f, "1..%d\n", r->ntests);
	fprintf(f, "# odpt %s\n", r->command);
	for (i = 0; i < r->nmeta; i++)
		if (odpt_meta_visible(r, &r->meta[i]))
			fprintf(f, "# %s: %s\n", r->meta[i].key, r->meta[i].value);
	for (i = 0; i < r->ntests; i++) {
		const struct odpt_test_record *t = &r->tests[i];
		int n = i + 1;

		if (t->stage && (t->result == ODPT_FAIL || t->result == ODPT_XFAIL))
			fprintf(f, "# %s: stage: %s\n", t->name, t->stage);
		if (t->reason && t->result == ODPT_FAIL) {
			fprintf(f, "# %s: ", t->name);
			one_line(f, t->reason);
			fputc('\n', f);
		}
		diag_block(f, "", t->diag);
		switch (t->result) {
		case ODPT_PASS:
			fprintf(f, "ok %d %s\n", n, t->name);
			break;
		case ODPT_FAIL:
			fprintf(f, "not ok %d %s\n", n, t->name);
			break;
		case ODPT_SKIP:
			fprintf(f, "ok %d %s # SKIP ", n, t->name);
			one_line(f, t->reason ? t->reason : "no reason given");
			fputc('\n', f);
			break;
		case ODPT_XFAIL:
			fprintf(f, "ok %d %s # XFAIL ", n, t->name);
			one_line(f, t->reason ? t->reason : "known failure");
			fputc('\n', f);
			break;
		case ODPT_XPASS:
			fprintf(f, "not ok %d %s # XPASS ", n, t->name);
			one_line(f, t->reason ? t->reason : "known failure did not occur");
			fputc('\n', f);
			break;
		}
	}
	odpt_report_test_counts(r, &tc);
	fprintf(f, "# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:0\n",
		tc.pass, tc.fail, tc.xfail, tc.xpass, tc.skip);
	return 0;
}
