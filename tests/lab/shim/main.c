// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt-shim-test: entry point of the shim's lab tests. Declares the map
 * modes the per-mode tests repeat over and hooks the device setup check and
 * the after-each leak check into the harness; the tests register themselves
 * from t_*.c.
 */
#include "shim_dev.h"

static const struct kt_mode sd_modes[] = {
	{ .name = "hmm", .value = ODPT_HMM_MODE_HMM },
	{ .name = "page", .value = ODPT_HMM_MODE_PAGE },
	{ .name = "sg", .value = ODPT_HMM_MODE_SG },
};

int main(int argc, char **argv)
{
	kt_set_modes(sd_modes, sizeof(sd_modes) / sizeof(sd_modes[0]));
	kt_set_setup(sd_setup);
	kt_set_after_each(sd_leak_check);
	return kt_main(argc, argv);
}
