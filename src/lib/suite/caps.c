// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Capability verdicts: whether a device advertises what an op needs in a
 * variant (ODP cap bits per transport, atomics, implicit ODP) and whether
 * the libibverbs built against has the call, each "no" saying exactly which
 * bit or call is missing. Used by the catalogue's preconditions (cases.c)
 * and by the rig when a post fails with EOPNOTSUPP (rig.c); below both, so
 * the rig does not call into the catalogue.
 */
#include <stdio.h>

#include "cases.h"

static uint32_t op_bits(enum odpt_vop op, int variant)
{
	switch (op) {
	case ODPT_OP_SEND:
		return ODPT_ODP_SEND | (variant == V_SRQ ? ODPT_ODP_SRQ_RECV : ODPT_ODP_RECV);
	case ODPT_OP_WRITE: return ODPT_ODP_WRITE;
	case ODPT_OP_READ: return ODPT_ODP_READ;
	case ODPT_OP_CAS:
	case ODPT_OP_FAA: return ODPT_ODP_ATOMIC;
	case ODPT_OP_ATOMIC_WRITE: return ODPT_ODP_ATOMIC_WRITE;
	case ODPT_OP_FLUSH: return ODPT_ODP_FLUSH | ODPT_ODP_WRITE;
	}
	return 0;
}

const char *odpt_case_need_bits(const struct odpt_vcaps *caps, enum odpt_transport tr,
				uint32_t bits, char *buf, int len)
{
	char miss[96], have[128];

	if (!caps->odp) {
		snprintf(buf, len, "%s: no ODP (IBV_ODP_SUPPORT not in general_caps)", caps->driver);
		return buf;
	}
	if ((caps->odp_tr[tr] & bits) == bits)
		return NULL;
	snprintf(buf, len, "%s: %s_odp_caps lacks %s (has: %s)", caps->driver,
		 odpt_transport_name(tr),
		 odpt_odp_bits_str(bits & ~caps->odp_tr[tr], miss, sizeof(miss)),
		 odpt_odp_bits_str(caps->odp_tr[tr], have, sizeof(have)));
	return buf;
}

const char *odpt_case_op_unadvertised(const struct odpt_vcaps *caps, enum odpt_vop op,
				      int variant, char *buf, int len)
{
	if (op == ODPT_OP_FLUSH && !caps->lib_flush) {
		snprintf(buf, len, "libibverbs %s (build time) has no IBV_WR_FLUSH/ibv_wr_flush",
			 ODPT_IBVERBS_VERSION);
		return buf;
	}
	if (op == ODPT_OP_ATOMIC_WRITE && !caps->lib_atomic_write) {
		snprintf(buf, len, "libibverbs %s (build time) has no ibv_wr_atomic_write",
			 ODPT_IBVERBS_VERSION);
		return buf;
	}
	if ((op == ODPT_OP_CAS || op == ODPT_OP_FAA) && caps->atomic_cap == 0) {
		snprintf(buf, len, "%s: atomic_cap is ATOMIC_NONE", caps->driver);
		return buf;
	}
	if (variant == V_MR_EX && !caps->lib_reg_mr_ex) {
		snprintf(buf, len, "libibverbs %s (build time) has no ibv_reg_mr_ex",
			 ODPT_IBVERBS_VERSION);
		return buf;
	}
	if (variant == V_PINNED || variant == V_MULTI_PINNED)
		return NULL;
	if (variant == V_IMPLICIT && caps->odp && !caps->odp_implicit) {
		snprintf(buf, len, "%s: no implicit ODP (IBV_ODP_SUPPORT_IMPLICIT not in general_caps)",
			 caps->driver);
		return buf;
	}
	return odpt_case_need_bits(caps, ODPT_TR_RC, op_bits(op, variant), buf, len);
}
