/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One field of /proc/self/smaps for the mapping that holds an address
 * (AnonHugePages, LazyFree, Rss, ...), in kB: how the suite and the shim's
 * tests see whether the kernel backed a buffer with a THP or still holds
 * lazily freed pages. libc only, like forkrun.h, so the shim's test program
 * compiles it in.
 */
#ifndef ODPT_SMAPS_H
#define ODPT_SMAPS_H

/* The field's value in kB; -ENOENT when no mapping holds p or it has no
 * such field, -errno when smaps cannot be read. */
long odpt_smaps_kb(const void *p, const char *field);

#endif
