/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Internal to the suite: the test rig (a QP pair, loopback on one device
 * or across two, a requester buffer and a responder buffer with their MRs
 * on their side's device) and the helpers every case
 * uses to force faults, post, poll and check data byte for byte. Every
 * helper records its stage first, so a hang names where it hung.
 */
#ifndef ODPT_SUITE_RIG_H
#define ODPT_SUITE_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "odpt/suite.h"
#include "odpt/verbs.h"

enum rig_mem {
	RIG_MEM_ANON,      /* mmap anonymous, page aligned */
	RIG_MEM_HUGETLB,   /* MAP_HUGETLB 2 MiB pages */
	RIG_MEM_THP,       /* 2 MiB aligned, MADV_HUGEPAGE */
};

struct rig {
	struct odpt_tctx *t;
	struct odpt_vpair *p;
	enum odpt_qp_kind kind;
	enum rig_mem mem;
	uint8_t *lbuf, *rbuf;      /* requester (side 0) and responder (side 1) */
	size_t len;                /* bytes of each buffer */
	void *lmap, *rmap;         /* what to munmap */
	size_t lmap_len, rmap_len;
	struct odpt_vmr *lmr, *rmr;
	unsigned lflags, rflags;
	uint64_t poll_ns;
	size_t pg;
};

int rig_setup(struct rig *g, struct odpt_tctx *t, enum odpt_qp_kind kind,
	      enum rig_mem mem, size_t len, unsigned lflags, unsigned rflags);
void rig_teardown(struct rig *g);

/* lkey/rkey of the requester and responder buffers. */
uint32_t rig_lkey(const struct rig *g);
uint32_t rig_rkey(const struct rig *g);
uint32_t rig_rlkey(const struct rig *g);   /* responder's lkey (RECV SGEs) */

size_t rig_span(const struct rig *g);
/* MADV_DONTNEED on both buffers (the forced fault); counts pages. */
int rig_force_faults(struct rig *g, bool local, bool remote);

/* Post on side 0 and wait for its completion; wc filled. 0, or a tc_fail
 * verdict (ODPT_FAIL) when posting or polling failed. */
int rig_op(struct rig *g, const struct odpt_vwr *wr, struct odpt_vwc *wc);
/* Same, and the completion must be successful. */
int rig_op_ok(struct rig *g, const struct odpt_vwr *wr);
/* Post a receive on side 1. */
int rig_recv(struct rig *g, const struct odpt_vsge *sge, int nsge);
/* Wait for the side 1 receive completion. */
int rig_recv_wait(struct rig *g, struct odpt_vwc *wc);
/*
 * Move len bytes with op from lbuf+loff to rbuf+roff (READ: the other way).
 * split: one WR per page, starting at the page start and at most one path
 * MTU long (rig_chunk()). With a path MTU below the page size (rxe on a
 * 1500-byte netdev: 1024) that keeps every packet at in-page offset 0, so
 * the cases that use it test faults and invalidations, not the rxe
 * page-offset bug that the *_multi_packet and *_unaligned cases own. With
 * MTU >= page size every byte moves. !split: one WR for the whole range.
 */
int rig_xfer(struct rig *g, enum odpt_vop op, size_t loff, size_t roff, size_t len,
	     bool split);
size_t rig_chunk(const struct rig *g);
/* Check what rig_xfer moved into dst (pattern seed, offsets from 0); in
 * split mode the rest of each page must still hold guard (if >= 0). */
bool rig_check_xfer(struct rig *g, const char *what, const uint8_t *dst, size_t len,
		    uint64_t seed, bool split, int guard);
/* After an error completion: QPs back to RTS. */
int rig_reset(struct rig *g);

/* Deterministic data: byte off of pattern seed. */
uint8_t pat_byte(uint64_t seed, size_t off);
void pat_fill(uint8_t *p, size_t len, uint64_t seed, size_t off0);
uint64_t pat_u64(uint64_t seed);
/* Byte-for-byte checks; on mismatch a tc_fail naming the first bad byte. */
bool check_pat(struct odpt_tctx *t, const char *what, const uint8_t *p,
	       size_t len, uint64_t seed, size_t off0);
bool check_byte(struct odpt_tctx *t, const char *what, const uint8_t *p,
		size_t len, uint8_t b);

/* Resident pages of [p, p+len) according to mincore(). < 0 on error. */
long resident_pages(const void *p, size_t len);
/*
 * Present pages of [p, p+len) and, of those, the ones mapped exclusively
 * (from /proc/self/pagemap): a private page of this process counts, the
 * shared zero page that a read fault maps into untouched anonymous memory
 * does not. So a write fault shows as exclusive, a read fault does not.
 * 0 or -errno.
 */
int page_states(const void *p, size_t len, long *present, long *exclusive);
/* An SGE over [off, off+len) of the requester's (remote false) or the
 * responder's buffer, with that side's lkey. */
struct odpt_vsge rig_sge(const struct rig *g, bool remote, size_t off, size_t len);
/* A one-SGE WR from the requester's buffer at loff to the responder's at
 * roff. */
struct odpt_vwr rig_wr_to(const struct rig *g, enum odpt_vop op, size_t loff,
			  size_t roff, size_t len);
/* A WR that must fail with a remote access error; the QPs are reset after. */
int rig_expect_rem_access(struct rig *g, const struct odpt_vwr *wr, const char *why);
/* WRITE (READ) [off, off+len) page by page (rig_xfer split mode) and check
 * every moved byte against the pattern of seed: 0, ODPT_FAIL or -errno. */
int rig_write_check(struct rig *g, size_t off, size_t len, uint64_t seed,
		    const char *what);
int rig_read_check(struct rig *g, size_t off, size_t len, uint64_t seed,
		   const char *what);

/* AnonHugePages (KiB) of the mapping that holds p, from /proc/self/smaps
 * (odpt_smaps_kb(), include/odpt/smaps.h, for any other field). */
long anon_huge_kb(const void *p);

/*
 * One responder page after a WRITE of its first chunk bytes (want) raced
 * MADV_DONTNEED: RACE_NEW, the WRITE's bytes with the rest of the page
 * zero; RACE_DROPPED, all zero and legitimately so (droppable: the racer
 * drops this page, dropped_since_post: a drop of it completed after the
 * WRITE was posted); RACE_LOST, all zero otherwise (the WRITE completed
 * but its data is nowhere); RACE_TORN, anything else (stale, misdirected
 * or partial data).
 */
enum race_page { RACE_NEW, RACE_DROPPED, RACE_LOST, RACE_TORN };
enum race_page race_page_verdict(const uint8_t *page, size_t pg, size_t chunk,
				 const uint8_t *want, bool droppable, bool dropped_since_post);
/* Why THP cannot be used here, or NULL. */
const char *thp_unavailable(void);

#define SEED(iter, salt) (((uint64_t)(iter) << 8) | (salt))

#endif
