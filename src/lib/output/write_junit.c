// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The JUnit XML writer for CI systems: one <testsuite> named after the
 * command, metadata as <properties>, one <testcase> per test with
 * <failure> (fail, and xpass as an unexpected pass), <skipped> (skip), and
 * an expected failure (xfail) reported as a pass with a <system-out> note
 * naming the known bug; when nothing could run (odpt_report_skip_all()),
 * one skipped case "all" with the reason. Times are seconds with microsecond precision.
 * Elements and attributes are those the Jenkins xunit plugin's JUnit
 * schema (junit-10.xsd) allows; tests/unit/test_report.c holds the
 * writer to that list.
 */
#include <inttypes.h>

#include "odpt/report.h"
#include "report_int.h"

/* XML-escape text; control characters other than tab/newline are dropped. */
static void xml(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (c >= 0x20 || c == '\n' || c == '\t')
				fputc(c, f);
		}
	}
}

/* "suite run" -> "suite.run": CI tools split class names on dots. */
static void classname(FILE *f, const char *command)
{
	char buf[128];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", command);
	for (i = 0; buf[i]; i++)
		if (buf[i] == ' ')
			buf[i] = '.';
	xml(f, buf);
}

static void seconds(FILE *f, const struct odpt_report *r, uint64_t ns)
{
	if (r->stable)
		ns = 0;
	fprintf(f, "%" PRIu64 ".%06" PRIu64, (uint64_t)(ns / 1000000000U),
		(uint64_t)((ns % 1000000000U) / 1000U));
}

int odpt_write_junit(const struct odpt_report *r, const struct odpt_write_opts *o,
		     FILE *f)
{
	struct odpt_test_counts tc;
	uint64_t total_ns = 0;
	bool skip_all;
	int i, ntests;

	odpt_report_test_counts(r, &tc);
	for (i = 0; i < r->ntests; i++)
		total_ns += r->tests[i].duration_ns;
	/* Nothing ran: one skipped case carries the reason (an empty suite
	 * would read as "no tests" in most CI views). */
	skip_all = r->skip_all && !r->ntests;
	ntests = skip_all ? 1 : r->ntests;
	if (skip_all)
		tc.skip = 1;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	/* The xunit schema (junit-10.xsd) has no skipped= on <testsuites>. */
	fprintf(f, "<testsuites name=\"odpt\" tests=\"%d\" failures=\"%u\" errors=\"0\" time=\"",
		ntests, tc.fail + tc.xpass);
	seconds(f, r, total_ns);
	fputs("\">\n  <testsuite name=\"", f);
	xml(f, r->command);
	fprintf(f, "\" tests=\"%d\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"",
		ntests, tc.fail + tc.xpass, tc.skip);
	seconds(f, r, total_ns);
	fputs("\">\n", f);
	fputs("    <properties>\n", f);
	for (i = 0; i < r->nmeta; i++) {
		if (!odpt_meta_visible(r, &r->meta[i]))
			continue;
		fputs("      <property name=\"", f);
		xml(f, r->meta[i].key);
		fputs("\" value=\"", f);
		xml(f, r->meta[i].value);
		fputs("\"/>\n", f);
	}
	fputs("    </properties>\n", f);
	if (skip_all) {
		fputs("    <testcase classname=\"odpt.", f);
		classname(f, r->command);
		fputs("\" name=\"all\" time=\"0.000000\">\n      <skipped message=\"", f);
		xml(f, r->summary_text);
		fputs("\"/>\n    </testcase>\n", f);
	}
	for (i = 0; i < r->ntests; i++) {
		const struct odpt_test_record *t = &r->tests[i];
		const char *reason = t->reason ? t->reason : "";

		fputs("    <testcase classname=\"odpt.", f);
		classname(f, r->command);
		fputs("\" name=\"", f);
		xml(f, t->name);
		fputs("\" time=\"", f);
		seconds(f, r, t->duration_ns);
		fputs("\"", f);
		if (t->result == ODPT_PASS && !t->diag) {
			fputs("/>\n", f);
			continue;
		}
		fputs(">\n", f);
		switch (t->result) {
		case ODPT_FAIL:
		case ODPT_XPASS:
			fprintf(f, "      <failure type=\"%s\" message=\"",
				t->result == ODPT_FAIL ? "fail" : "xpass");
			if (t->result == ODPT_XPASS)
				fputs("unexpected pass: ", f);
			xml(f, reason);
			fputs("\">", f);
			if (t->stage) {
				fputs("stage: ", f);
				xml(f, t->stage);
				fputs("\n", f);
			}
			xml(f, t->diag);
			fputs("</failure>\n", f);
			break;
		case ODPT_SKIP:
			fputs("      <skipped message=\"", f);
			xml(f, reason);
			fputs("\"/>\n", f);
			break;
		case ODPT_XFAIL:
			fputs("      <system-out>XFAIL (expected failure, counted as a pass): ", f);
			xml(f, reason);
			if (t->diag) {
				fputs("\n", f);
				xml(f, t->diag);
			}
			fputs("</system-out>\n", f);
			break;
		case ODPT_PASS:
			fputs("      <system-out>", f);
			xml(f, t->diag);
			fputs("</system-out>\n", f);
			break;
		}
		fputs("    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return 0;
}
