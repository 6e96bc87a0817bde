/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Layer check fixture: the lower layer's public header. */
int low_value(void);
