/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Merging odpt results from many hosts or runs into one (odpt merge): the
 * latency series of odpt JSON results written with --raw-buckets are added
 * bucket by bucket, so the merged histogram is exactly the one that would
 * have recorded every input's samples (its percentiles are those of all
 * the samples together), and test results are merged by name with every
 * input's outcome kept. Method and limits: docs/metrics.md, "Merging
 * results".
 */
#ifndef ODPT_MERGE_H
#define ODPT_MERGE_H

#include <stddef.h>

#include "odpt/api.h"
#include "odpt/report.h"

/* The label of the per-input series: the input's path as given. */
#define ODPT_MERGE_INPUT_LABEL "input"

/*
 * Read the odpt JSON results paths[0..n) and build their merge in a new
 * report (*out, the caller destroys it), whose command is the inputs'.
 *
 * - Series are matched by name and labels. Each becomes one series over
 *   all inputs that have it (the bucket-wise sum), followed by one series
 *   per input with the label input=PATH (and host=HOST when the input
 *   names its host). A series that already carries an input label (the
 *   output of an earlier merge) is kept as it is, summed only with the
 *   same series of another input; so merges of merges stay exact.
 * - All inputs must have one layout per series (lowest, highest,
 *   significant figures): a different layout is an error, not a
 *   conversion, so that a merge is always exact.
 * - Tests are matched by name: the merged outcome is fail if any input
 *   failed, else xpass, else xfail, else pass, else skip; the reason names
 *   the inputs behind it and diag lists every input's outcome ("absent"
 *   where an input lacks the test).
 * - Scalars (single figures) cannot be merged exactly: each is kept per
 *   input, with the input label. Meta and config keys whose value is the
 *   same in every input are kept; the others are named in meta
 *   meta_varies and config_varies. Sections (device listings) are dropped.
 *
 * Bad input returns -EINVAL (not odpt JSON, different commands, different
 * layouts, a file given twice, no input), -EPROTO (another schema_version),
 * -ENODATA (a series without raw buckets) or -errno of reading (-ENOENT),
 * with one line naming the file in err. -ENOMEM when out of memory.
 */
ODPT_API int odpt_merge_files(const char *const *paths, int n, struct odpt_report **out,
			      char *err, size_t errlen);

#endif
