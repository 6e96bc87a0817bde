/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One "Key: value" line of a /proc file (meminfo, status), the way the
 * benches size their buffers and the iommufd cases read their capabilities.
 * libc only, like smaps.h.
 */
#ifndef ODPT_PROCFS_H
#define ODPT_PROCFS_H

#include <stdint.h>

/* The number after "key:" on the first line of path that starts so, read in
 * base (10 for "MemAvailable:   123 kB", 16 for "CapEff: 00000000a80425fb";
 * a unit after the number is the caller's to know) into *v: 0, -ENOENT when
 * no line starts with key, -EINVAL when no number follows, -errno when the
 * file cannot be read. */
int odpt_proc_field(const char *path, const char *key, int base, unsigned long long *v);

/* MemAvailable of /proc/meminfo in bytes; UINT64_MAX when unknown. */
uint64_t odpt_mem_available_bytes(void);

#endif
