// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A program built against an installed libodpt through its libodpt.pc
 * alone (ctest install_test): records 1..1000 ns into a histogram, prints
 * its count and percentiles, and renders a report with the histogram as
 * JSON, using only the installed headers and the shared library.
 */
#include <stdio.h>

#include <odpt/hist.h>
#include <odpt/report.h>

int main(void)
{
	struct odpt_report *r = NULL;
	struct odpt_hist *h = NULL;
	uint64_t v;

	if (odpt_hist_create_default(&h))
		return 1;
	for (v = 1; v <= 1000; v++)
		odpt_hist_record(h, v);
	printf("count=%llu p50=%llu p99=%llu max=%llu\n",
	       (unsigned long long)odpt_hist_count(h),
	       (unsigned long long)odpt_hist_value_at_percentile(h, 50),
	       (unsigned long long)odpt_hist_value_at_percentile(h, 99),
	       (unsigned long long)odpt_hist_max(h));
	if (odpt_report_create("install client", &r) ||
	    odpt_report_hist(r, "lat_ns", NULL, 0, h) ||
	    odpt_report_write(r, ODPT_FMT_JSON, NULL, stdout))
		return 1;
	odpt_report_destroy(r);
	odpt_hist_destroy(h);
	return 0;
}
