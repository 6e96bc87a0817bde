/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* placeholder */
#ifndef ODPT_API_H
#define ODPT_API_H
#define ODPT_API __attribute__((visibility("default")))
#endif
