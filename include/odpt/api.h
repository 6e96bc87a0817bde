/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ODPT_API marks the public interface of libodpt.so: the histogram, the
 * clock, the report and its writers, and the comparison of results. Every
 * layer is compiled with -fvisibility=hidden, so only declarations marked
 * here are exported, and src/lib/libodpt.map lists the same names under a
 * version node. ctest libodpt_exports holds the headers, the map and the
 * library's dynamic symbol table to one set.
 */
#ifndef ODPT_API_H
#define ODPT_API_H

#define ODPT_API __attribute__((visibility("default")))

#endif
