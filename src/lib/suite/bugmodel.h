/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Internal to the suite: predictions of what the known kernel bugs do, so
 * that a failure becomes XFAIL only when it is exactly the damage the bug
 * predicts (see odpt_known_bugs[] in cases.c). Pure functions over
 * buffers and numbers, no device: tests/unit/test_suite_bugmodel.c holds
 * them to the comments below.
 */
#ifndef ODPT_SUITE_BUGMODEL_H
#define ODPT_SUITE_BUGMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pattern keys: a failure carrying one is XFAIL where the table lists it. */
#define BUG_RXE_ODP_COPY "rxe-odp-copy-page-offset"
#define BUG_RXE_ODP_INT_LEN "rxe-odp-init-pages-int-length"
#define BUG_RXE_ODP_NO_DIRTY "rxe-odp-pages-never-dirtied"

/* One RC data transfer: len bytes from src[soff] to dst[doff] (READ: the
 * responder's buffer is src). Both buffers start on a page boundary. */
struct bm_xfer {
	size_t soff, doff, len;
	size_t mtu;                /* path MTU: the packet payload size */
	size_t pg;                 /* page size of both MRs */
	bool src_odp, dst_odp;     /* which side's copy goes through an ODP MR */
};

/*
 * The rxe page-offset copy bug (__rxe_odp_mr_copy() in 7.3.x): each packet
 * (mtu bytes from the message start) is copied into or out of an ODP MR one
 * page at a time, but always at in-page offset 0 (the offset is not added to
 * the kmapped page) and always from or to the start of the packet (the
 * caller's pointer is not advanced per page). Given the buffers as they were
 * before the transfer, writes into pred the destination as the bug leaves
 * it, and into known 1 for every byte the model determines: a packet byte
 * the buggy read never filled is whatever the kernel's packet buffer held,
 * so the destination bytes it lands on are 0 in known. Without ODP on a
 * side, that side's copy is modelled correctly. dst_len bytes of pred and
 * known; 0, or -EINVAL when the transfer does not fit.
 */
int bm_rxe_copy_predict(const struct bm_xfer *x, const uint8_t *src, size_t src_len,
			const uint8_t *dst0, size_t dst_len, uint8_t *pred, uint8_t *known);

enum bm_verdict {
	BM_CORRECT,      /* the destination is what a correct transfer leaves */
	BM_PREDICTED,    /* wrong, and exactly as the bug predicts */
	BM_OTHER,        /* wrong in a way the bug does not explain */
};

struct bm_result {
	enum bm_verdict v;
	size_t wrong, first_wrong;   /* bytes differing from a correct transfer */
	size_t first_unexplained;    /* BM_OTHER: first byte the model contradicts */
	uint8_t got, want, predicted;  /* at first_wrong (BM_OTHER: first_unexplained) */
};

/*
 * Classify the destination after a transfer: correct (every one of dst_len
 * bytes as a correct transfer leaves them, guards included), predicted by
 * the copy bug (every byte the model determines equal to the model's), or
 * other. -EINVAL or -ENOMEM, else 0 and *res filled.
 */
int bm_rxe_copy_classify(const struct bm_xfer *x, const uint8_t *src, size_t src_len,
			 const uint8_t *dst0, const uint8_t *dst, size_t dst_len,
			 struct bm_result *res);

/*
 * The int-length bug (rxe_odp_init_pages() passes the 64-bit MR length on
 * as an int): whether registering an explicit ODP MR of len bytes fails with
 * EINVAL on a kernel with the bug: exactly when len mod 2^32 lies in
 * [2^31, 2^32); other lengths (below 2 GiB, or wrapping to below 2 GiB)
 * register.
 */
bool bm_rxe_int_len_einval(uint64_t len);

/*
 * The smallest length >= min_len, a multiple of align (a power of two), for
 * which bm_rxe_int_len_einval() holds: an MR size that hits the int-length
 * bug whatever min_len (1.25 x RAM) is.
 */
uint64_t bm_rxe_int_len_size(uint64_t min_len, uint64_t align);

#endif
