/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Shared inside the analysis layer (result_read.c, merge.c). */
#ifndef ODPT_ANALYSIS_INT_H
#define ODPT_ANALYSIS_INT_H

/*
 * A whole file into *out (malloc'd, NUL-terminated): 0, -EINVAL when it
 * holds a NUL byte (binary data, not a result), -ENOMEM, or -errno of
 * open/read.
 */
int odpt_analysis_slurp(const char *path, char **out);

#endif
