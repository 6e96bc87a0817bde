// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Layer check fixture: the deliberate violation, low including a header of
 * high, which it did not declare (an upward include: a cycle). */
#include "odpt/low.h"
#include "odpt/high.h"

int low_value(void)
{
	return 1;
}
