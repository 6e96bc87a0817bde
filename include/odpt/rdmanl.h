/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A small RDMA netlink (NETLINK_RDMA, nldev) client: find a device's index
 * by name, dump its memory regions (RDMA_NLDEV_CMD_RES_MR_GET) and read the
 * per-MR statistics drivers export (RDMA_NLDEV_CMD_STAT_GET with
 * STAT_RES = RES_MR; mlx5 nests page_faults, page_invalidations,
 * page_prefetch, ... under STAT_HWCOUNTERS, rxe exports none). It speaks
 * the kernel uAPI directly over a raw socket: no libibverbs, no libmnl.
 * The parsers are exported so that unit tests can feed them messages built
 * byte by byte: every length is checked, and a malformed or truncated
 * message is -EPROTO, never a read past the buffer.
 *
 * Which attributes a dump carries depends on the caller: the kernel sends
 * RES_LKEY and RES_RKEY only to a socket with CAP_NET_ADMIN.
 */
#ifndef ODPT_RDMANL_H
#define ODPT_RDMANL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ODPT_NL_MAX_COUNTERS 8
#define ODPT_NL_NAME_LEN 64

struct odpt_nl_counter {
	char name[ODPT_NL_NAME_LEN];
	uint64_t value;
};

/* Which fields of struct odpt_nl_mr the kernel sent. */
enum odpt_nl_mr_has {
	ODPT_NL_HAS_MRN = 1u << 0,
	ODPT_NL_HAS_LKEY = 1u << 1,
	ODPT_NL_HAS_RKEY = 1u << 2,
	ODPT_NL_HAS_MRLEN = 1u << 3,
	ODPT_NL_HAS_PID = 1u << 4,
	ODPT_NL_HAS_PDN = 1u << 5,
	ODPT_NL_HAS_IOVA = 1u << 6,
	ODPT_NL_HAS_COUNTERS = 1u << 7,   /* a STAT_HWCOUNTERS table (maybe empty) */
};

/* One MR entry of a RES_MR_GET or STAT_GET reply. */
struct odpt_nl_mr {
	unsigned has;
	uint32_t mrn;           /* restrack id, the key for STAT_GET */
	uint32_t lkey, rkey;
	uint32_t pid;           /* owner, in the caller's PID namespace */
	uint32_t pdn;
	uint64_t len_bytes;
	uint64_t iova;
	int ncounters;
	int ncounters_dropped;  /* beyond ODPT_NL_MAX_COUNTERS */
	struct odpt_nl_counter counters[ODPT_NL_MAX_COUNTERS];
};

/* The MR entries of a reply, in the order the kernel sent them. */
struct odpt_nl_mrs {
	uint32_t dev_index;
	char dev_name[ODPT_NL_NAME_LEN];
	unsigned nmsgs;         /* netlink messages the reply took */
	struct odpt_nl_mr *v;
	size_t n, cap;
};
void odpt_nl_mrs_free(struct odpt_nl_mrs *l);

struct odpt_nl_dev {
	uint32_t index;
	char name[ODPT_NL_NAME_LEN];
};
struct odpt_nl_devs {
	struct odpt_nl_dev *v;
	size_t n, cap;
};
void odpt_nl_devs_free(struct odpt_nl_devs *l);

/*
 * Parsers of one received datagram (one or more netlink messages) of the
 * reply to nldev command cmd sent with sequence number seq. Messages with
 * another sequence number are ignored. Returns 1 when the reply is
 * complete (NLMSG_DONE, or a single message without NLM_F_MULTI), 0 when
 * more datagrams follow, the negative errno an NLMSG_ERROR (or an
 * NLMSG_DONE) carries, -EPROTO for a malformed message or one of another
 * type, -ENOMEM. Entries parsed so far stay in out on error.
 */
int odpt_nl_parse_mrs(const void *buf, size_t len, uint32_t seq, unsigned cmd,
		      struct odpt_nl_mrs *out);
int odpt_nl_parse_devs(const void *buf, size_t len, uint32_t seq,
		       struct odpt_nl_devs *out);

/* The value of counter name in mr, or false when it has none. */
bool odpt_nl_mr_counter(const struct odpt_nl_mr *mr, const char *name, uint64_t *value);

struct odpt_nl;
/* -EPROTONOSUPPORT when the kernel has no RDMA netlink (ib_core not loaded). */
int odpt_nl_open(struct odpt_nl **out);
void odpt_nl_close(struct odpt_nl *nl);

/* RDMA_NLDEV_CMD_GET dump; the index of device name, -ENODEV if absent. */
int odpt_nl_dev_index(struct odpt_nl *nl, const char *name, uint32_t *index);
/* RDMA_NLDEV_CMD_RES_MR_GET dump of one device. */
int odpt_nl_res_mrs(struct odpt_nl *nl, uint32_t dev_index, struct odpt_nl_mrs *out);
/* RDMA_NLDEV_CMD_STAT_GET, STAT_RES = RES_MR: dump of one device's MRs. */
int odpt_nl_stat_mrs(struct odpt_nl *nl, uint32_t dev_index, struct odpt_nl_mrs *out);
/* The same for the MR with restrack id mrn only (no dump). */
int odpt_nl_stat_mr(struct odpt_nl *nl, uint32_t dev_index, uint32_t mrn,
		    struct odpt_nl_mr *out);

#endif
