/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Layer check fixture: the upper layer's public header (includes down: fine). */
#include "odpt/low.h"
int high_value(void);
