// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Layer check fixture: high uses low, which it declared. */
#include <stdio.h>

#include "odpt/high.h"
#include "odpt/low.h"

int high_value(void)
{
	return low_value() + 1;
}
