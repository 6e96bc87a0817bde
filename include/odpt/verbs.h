/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The verbs engine: the only part of odpt that talks to libibverbs. It
 * opens a device, reads its ODP capabilities, builds QP pairs (RC, UD,
 * XRC) in loopback on one port or between two devices, registers pinned, explicit-ODP and implicit-ODP
 * memory regions, posts every operation the suite needs and polls with a
 * timeout. Every function returns 0 or -errno: libibverbs' mixed
 * conventions (NULL + errno, positive errno, -1 + errno) are converted in
 * one place (verbs_err() in src/lib/verbs/verbs_int.h). Callers never see a
 * libibverbs type.
 */
#ifndef ODPT_VERBS_H
#define ODPT_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ODP per-transport capability bits (values of the kernel uAPI). */
enum odpt_odp_bit {
	ODPT_ODP_SEND = 1u << 0,
	ODPT_ODP_RECV = 1u << 1,
	ODPT_ODP_WRITE = 1u << 2,
	ODPT_ODP_READ = 1u << 3,
	ODPT_ODP_ATOMIC = 1u << 4,
	ODPT_ODP_SRQ_RECV = 1u << 5,
	ODPT_ODP_FLUSH = 1u << 6,
	ODPT_ODP_ATOMIC_WRITE = 1u << 7,
};
/* Name of one bit ("SEND", ...), or NULL for an unknown bit. */
const char *odpt_odp_bit_name(uint32_t bit);
/* Name of bit number i (0..31), or "BIT<i>" written into tmp when unknown. */
const char *odpt_odp_bit_label(unsigned i, char tmp[16]);
/* "SEND RECV WRITE" (or "none") into buf; returns buf. */
char *odpt_odp_bits_str(uint32_t bits, char *buf, size_t len);

enum odpt_transport { ODPT_TR_RC, ODPT_TR_UC, ODPT_TR_UD, ODPT_TR_XRC, ODPT_TR_NR };
const char *odpt_transport_name(enum odpt_transport t);

struct odpt_vcaps {
	bool odp;                    /* general IBV_ODP_SUPPORT */
	bool odp_implicit;           /* general IBV_ODP_SUPPORT_IMPLICIT */
	uint32_t odp_tr[ODPT_TR_NR]; /* per-transport ODP bits */
	uint64_t max_mr_size;
	int atomic_cap;              /* 0 none, 1 HCA, 2 global */
	const char *atomic_cap_name;
	bool xrc;                    /* IBV_DEVICE_XRC */
	uint32_t max_qp_wr, max_sge;
	uint32_t vendor_id, vendor_part_id;
	char fw_ver[64];
	char driver[32];             /* sysfs driver (mlx5_core) or "rxe", "siw" */
	/* ibv_advise_mr(PREFETCH, FLUSH) tried on a one-page ODP MR: 0, or
	 * -errno (-EOPNOTSUPP: the provider lacks advise_mr); 1 = not tried
	 * (no ODP). Filled by odpt_verbs_list(). */
	int prefetch_probe;
	/* Build-time facts of the library odpt was built against. */
	bool lib_flush;              /* IBV_WR_FLUSH / ibv_wr_flush */
	bool lib_atomic_write;       /* ibv_wr_atomic_write */
	bool lib_reg_mr_ex;          /* ibv_reg_mr_ex */
	bool lib_advise_no_fault;    /* IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT */
};

struct odpt_gid_info {
	int index;
	char gid[46];                /* textual IPv6 form */
	const char *type;            /* "IB", "RoCE v1", "RoCE v2" */
	char netdev[32];
};

struct odpt_port_info {
	int port;
	const char *state;           /* "ACTIVE", "DOWN", ... */
	const char *link_layer;      /* "InfiniBand", "Ethernet" */
	int active_mtu_bytes;
	uint16_t lid;
	int ngids;
	struct odpt_gid_info *gids;
};

struct odpt_dev_info {
	char name[64];
	char node_guid[24];
	struct odpt_vcaps caps;
	int nports;
	struct odpt_port_info *ports;
};

/*
 * Every RDMA device with its ports, GIDs and capabilities. *n = 0 and
 * *out = NULL when there is none (that is not an error). A device that
 * cannot be opened returns -EACCES/-EPERM/... for the whole call.
 */
int odpt_verbs_list(struct odpt_dev_info **out, int *n);
void odpt_verbs_list_free(struct odpt_dev_info *devs, int n);

/* An open device, a protection domain and one port/GID to use. */
struct odpt_vctx;
/*
 * dev NULL: the first device. gid_index < 0: pick the first RoCE v2 IPv4
 * GID on Ethernet (no GID on InfiniBand). -ENODEV unknown device (or none
 * at all), -ERANGE no such port, -EINVAL bad GID index, -EACCES/-EPERM no
 * permission to open the device.
 */
int odpt_vctx_open(const char *dev, int port, int gid_index,
		   struct odpt_vctx **out);
void odpt_vctx_close(struct odpt_vctx *v);
const struct odpt_vcaps *odpt_vctx_caps(const struct odpt_vctx *v);
const char *odpt_vctx_name(const struct odpt_vctx *v);
int odpt_vctx_port(const struct odpt_vctx *v);
int odpt_vctx_gid_index(const struct odpt_vctx *v);
int odpt_vctx_mtu_bytes(const struct odpt_vctx *v);
/* pkg-config version of the libibverbs odpt was built against. */
const char *odpt_verbs_lib_version(void);
/* Names of all devices, comma separated, into buf (for error messages). */
char *odpt_verbs_names(char *buf, size_t len);

/* Memory regions. */
enum odpt_mr_flags {
	ODPT_MR_ODP = 1u << 0,       /* IBV_ACCESS_ON_DEMAND */
	ODPT_MR_IMPLICIT = 1u << 1,  /* ibv_reg_mr(pd, NULL, SIZE_MAX, ODP) */
	ODPT_MR_HUGETLB = 1u << 2,   /* IBV_ACCESS_HUGETLB */
	ODPT_MR_FLUSH = 1u << 3,     /* IBV_ACCESS_FLUSH_GLOBAL */
	ODPT_MR_REG_EX = 1u << 4,    /* register with ibv_reg_mr_ex */
	ODPT_MR_NO_ATOMIC = 1u << 5, /* leave out REMOTE_ATOMIC */
};
struct odpt_vmr {
	void *addr;                  /* NULL for implicit */
	size_t len_bytes;
	uint32_t lkey, rkey;
	unsigned flags;
	struct odpt_vctx *v;         /* the device it is registered on */
	void *priv;
};
/* -EOPNOTSUPP when the library lacks what flags ask for. */
int odpt_vmr_reg(struct odpt_vctx *v, void *addr, size_t len_bytes,
		 unsigned flags, struct odpt_vmr **out);
void odpt_vmr_dereg(struct odpt_vmr *mr);

/* Prefetch (ibv_advise_mr). */
enum odpt_advice {
	ODPT_ADVISE_PREFETCH,
	ODPT_ADVISE_PREFETCH_WRITE,
	ODPT_ADVISE_PREFETCH_NO_FAULT,
};
const char *odpt_advice_name(enum odpt_advice a);
struct odpt_vsge {
	uint64_t addr;
	uint32_t len_bytes;
	uint32_t lkey;
};
/* sync: IBV_ADVISE_MR_FLAG_FLUSH. -EOPNOTSUPP when the provider lacks it. */
int odpt_vadvise(struct odpt_vctx *v, enum odpt_advice a, bool sync,
		 const struct odpt_vsge *sge, int nsge);

/* QP pairs: side 0 is the requester, side 1 the responder. */
enum odpt_qp_kind { ODPT_QP_RC, ODPT_QP_UD, ODPT_QP_XRC, ODPT_QP_RC_SRQ };
struct odpt_vpair;
/* Loopback: both QPs on v's port. */
int odpt_vpair_create(struct odpt_vctx *v, enum odpt_qp_kind kind,
		      struct odpt_vpair **out);
/*
 * Side 0 (QP, CQs) on req, side 1 (QP, CQs, SRQ, XRC domain) on resp,
 * each addressing the other's GID; req == resp is loopback. MRs a side
 * uses must be registered on that side's device (its PD).
 */
int odpt_vpair_create2(struct odpt_vctx *req, struct odpt_vctx *resp,
		       enum odpt_qp_kind kind, struct odpt_vpair **out);
/*
 * 0, or the -errno with which the provider refused an RC QP with extended
 * send ops (FLUSH, ATOMIC_WRITE), after which the pair fell back to plain
 * QPs: those two ops then fail with -EOPNOTSUPP at post time.
 */
int odpt_vpair_ex_fallback(const struct odpt_vpair *p);
/* The path MTU of the pair in bytes (the smaller of the two ports'). */
int odpt_vpair_mtu_bytes(const struct odpt_vpair *p);
void odpt_vpair_destroy(struct odpt_vpair *p);
/* Back to RTS after an error completion (reset -> init -> rtr -> rts). */
int odpt_vpair_reset(struct odpt_vpair *p);
/* Bytes of GRH a UD receive buffer needs in front of the payload. */
#define ODPT_UD_GRH_BYTES 40

enum odpt_vop {
	ODPT_OP_SEND,
	ODPT_OP_WRITE,
	ODPT_OP_READ,
	ODPT_OP_CAS,
	ODPT_OP_FAA,
	ODPT_OP_ATOMIC_WRITE,
	ODPT_OP_FLUSH,
};
const char *odpt_vop_name(enum odpt_vop op);
/* Whether the library odpt was built against can post op (FLUSH and
 * ATOMIC_WRITE need a newer rdma-core). */
bool odpt_vop_in_library(enum odpt_vop op);

#define ODPT_MAX_SGE 4
struct odpt_vwr {
	enum odpt_vop op;
	uint64_t wr_id;
	struct odpt_vsge sge[ODPT_MAX_SGE];
	int nsge;
	uint64_t remote_addr;
	uint32_t rkey;
	uint64_t compare_add;        /* CAS compare / FAA add */
	uint64_t swap;               /* CAS swap */
	uint8_t atomic_write[8];     /* ATOMIC_WRITE payload */
	size_t flush_len_bytes;      /* FLUSH range length */
	bool flush_whole_mr;         /* FLUSH level MR instead of RANGE */
};
int odpt_vpair_post(struct odpt_vpair *p, int side, const struct odpt_vwr *wr);
int odpt_vpair_post_recv(struct odpt_vpair *p, int side, uint64_t wr_id,
			 const struct odpt_vsge *sge, int nsge);

enum odpt_cq_which { ODPT_CQ_SEND, ODPT_CQ_RECV };
struct odpt_vwc {
	uint64_t wr_id;
	int status;                  /* 0 success, else enum ibv_wc_status */
	const char *status_str;
	uint32_t byte_len;
	int opcode;
};
/* One completion within timeout_ns: 0, -ETIMEDOUT, or -EIO on poll error.
 * A completion with an error status is still 0 (check wc->status). */
int odpt_vpair_poll(struct odpt_vpair *p, int side, enum odpt_cq_which cq,
		    uint64_t timeout_ns, struct odpt_vwc *wc);
/* The same without ever sleeping: ibv_poll_cq in a loop, as perftest's
 * latency tests poll (one CPU busy for the whole wait). */
int odpt_vpair_poll_busy(struct odpt_vpair *p, int side, enum odpt_cq_which cq,
			 uint64_t timeout_ns, struct odpt_vwc *wc);
/* Name of a completion status (IBV_WC_REM_ACCESS_ERR -> "remote access
 * error"); the numeric values stay libibverbs' own. */
#define ODPT_WC_SUCCESS 0
int odpt_wc_status_rem_access(void);   /* value of IBV_WC_REM_ACCESS_ERR */
int odpt_wc_status_loc_prot(void);     /* value of IBV_WC_LOC_PROT_ERR */

#endif
