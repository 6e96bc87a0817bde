// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine (see include/odpt/verbs.h). Names and bit strings: ODP
 * capability bits, transports, advice, operations, work completion statuses.
 */
#include <stdio.h>

#include <infiniband/verbs.h>

#include "odpt_config.h"
#include "odpt/verbs.h"

/* ---- names ----------------------------------------------------------- */

static const char *const odp_bit_names[] = {
	"SEND", "RECV", "WRITE", "READ", "ATOMIC", "SRQ_RECV", "FLUSH",
	"ATOMIC_WRITE",
};

const char *odpt_odp_bit_name(uint32_t bit)
{
	for (unsigned i = 0; i < sizeof(odp_bit_names) / sizeof(odp_bit_names[0]); i++)
		if (bit == 1u << i)
			return odp_bit_names[i];
	return NULL;
}

const char *odpt_odp_bit_label(unsigned i, char tmp[16])
{
	const char *n = odpt_odp_bit_name(1u << i);

	if (n)
		return n;
	snprintf(tmp, 16, "BIT%u", i);
	return tmp;
}

char *odpt_odp_bits_str(uint32_t bits, char *buf, size_t len)
{
	size_t off = 0;
	char tmp[16];

	buf[0] = '\0';
	for (unsigned i = 0; i < 32 && off < len; i++) {
		if (bits & (1u << i))
			off += snprintf(buf + off, len - off, "%s%s", off ? " " : "",
					odpt_odp_bit_label(i, tmp));
	}
	if (!bits)
		snprintf(buf, len, "none");
	return buf;
}

const char *odpt_transport_name(enum odpt_transport t)
{
	static const char *const n[] = { "rc", "uc", "ud", "xrc" };

	return t < ODPT_TR_NR ? n[t] : "?";
}

const char *odpt_advice_name(enum odpt_advice a)
{
	switch (a) {
	case ODPT_ADVISE_PREFETCH: return "PREFETCH";
	case ODPT_ADVISE_PREFETCH_WRITE: return "PREFETCH_WRITE";
	case ODPT_ADVISE_PREFETCH_NO_FAULT: return "PREFETCH_NO_FAULT";
	}
	return "?";
}

const char *odpt_vop_name(enum odpt_vop op)
{
	static const char *const n[] = {
		"SEND", "RDMA_WRITE", "RDMA_READ", "ATOMIC_CMP_AND_SWP",
		"ATOMIC_FETCH_AND_ADD", "ATOMIC_WRITE", "FLUSH",
	};

	return op <= ODPT_OP_FLUSH ? n[op] : "?";
}

bool odpt_vop_in_library(enum odpt_vop op)
{
	switch (op) {
	case ODPT_OP_FLUSH:
#if defined(ODPT_HAVE_WR_FLUSH) && defined(ODPT_HAVE_FLUSH_CAPS)
		return true;
#else
		return false;
#endif
	case ODPT_OP_ATOMIC_WRITE:
#if defined(ODPT_HAVE_WR_ATOMIC_WRITE) && defined(ODPT_HAVE_ATOMIC_WRITE_POST)
		return true;
#else
		return false;
#endif
	default:
		return true;
	}
}

int odpt_wc_status_rem_access(void)
{
	return IBV_WC_REM_ACCESS_ERR;
}

int odpt_wc_status_loc_prot(void)
{
	return IBV_WC_LOC_PROT_ERR;
}
