// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine (see include/odpt/verbs.h): device discovery and
 * capabilities, memory registration (pinned, explicit and implicit ODP,
 * hugetlb), loopback QP pairs on one port, posting and polling. This is the
 * only file that includes <infiniband/verbs.h>; newer symbols are guarded by
 * the ODPT_HAVE_* facts CMake found in the installed headers, so the same
 * source builds against rdma-core 44 and 56.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "odpt_config.h"
#include "odpt/clock.h"
#include "odpt/verbs.h"

/*
 * The one place libibverbs' error conventions become 0 or -errno. Calls
 * that return a pointer pass -1 when it is NULL (errno set); calls that
 * return -1 + errno pass it as is; calls that return a positive errno
 * (ibv_post_send, ibv_modify_qp, ibv_advise_mr, ...) pass it as is; 0 is
 * success and an already negative errno passes through.
 */
static int verbs_err(int ret)
{
	if (ret == 0)
		return 0;
	if (ret > 0)
		return -ret;
	if (ret == -1)
		return errno > 0 ? -errno : -EIO;
	return ret;
}

struct odpt_vctx {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct odpt_vcaps caps;
	char name[64];
	int port;
	int gid_index;              /* -1: no GRH (InfiniBand) */
	union ibv_gid gid;
	struct ibv_port_attr port_attr;
	bool roce;
};

struct odpt_vpair {
	struct odpt_vctx *vs[2];    /* device of each side (the same in loopback) */
	enum odpt_qp_kind kind;
	struct ibv_cq *scq[2], *rcq[2];
	struct ibv_comp_channel *sch[2], *rch[2];   /* one per CQ, to sleep on */
	struct ibv_qp *qp[2];
	struct ibv_qp_ex *qpx[2];   /* set when created with send_ops_flags */
	struct ibv_ah *ah[2];       /* UD: address of the other side */
	struct ibv_srq *srq;        /* XRC or RC_SRQ receive queue (side 1) */
	struct ibv_xrcd *xrcd;
	uint32_t srq_num;
	uint32_t qkey;
	bool no_flush_access;       /* QP access IBV_ACCESS_FLUSH_GLOBAL refused */
	int ex_err;                 /* -errno of the refused extended QP, or 0 */
};

struct vmr_priv {
	struct ibv_mr *mr;
};

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

static const char *port_state_name(enum ibv_port_state s)
{
	switch (s) {
	case IBV_PORT_NOP: return "NOP";
	case IBV_PORT_DOWN: return "DOWN";
	case IBV_PORT_INIT: return "INIT";
	case IBV_PORT_ARMED: return "ARMED";
	case IBV_PORT_ACTIVE: return "ACTIVE";
	case IBV_PORT_ACTIVE_DEFER: return "ACTIVE_DEFER";
	default: return "UNKNOWN";
	}
}

static const char *gid_type_name(unsigned t)
{
	switch (t) {
	case IBV_GID_TYPE_IB: return "IB";
	case IBV_GID_TYPE_ROCE_V1: return "RoCE v1";
	case IBV_GID_TYPE_ROCE_V2: return "RoCE v2";
	default: return "unknown";
	}
}

/* ---- capabilities ------------------------------------------------------ */

/* The kernel driver behind a device: the sysfs driver link for hardware;
 * software devices (rxe, siw) have no parent device, so fall back to the
 * well-known vendor ids and the node description. */
/* Bounded copy that always terminates (truncation is fine for names). */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void device_driver(const char *name, uint32_t vendor_id, char *buf,
			  size_t len)
{
	char path[256], link[256];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/device/driver", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		const char *slash;

		link[n] = '\0';
		slash = strrchr(link, '/');
		copy_str(buf, len, slash ? slash + 1 : link);
		return;
	}
	if (vendor_id == 0xffffff) {   /* RXE_VENDOR_ID */
		snprintf(buf, len, "rxe");
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/node_desc", name);
	f = fopen(path, "re");
	if (f && fgets(link, sizeof(link), f)) {
		link[strcspn(link, " \n")] = '\0';
		copy_str(buf, len, link);
	} else {
		snprintf(buf, len, "unknown");
	}
	if (f)
		fclose(f);
}

static int query_caps(struct ibv_context *ctx, const char *name,
		      struct odpt_vcaps *c)
{
	struct ibv_device_attr_ex attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	memset(c, 0, sizeof(*c));
	c->prefetch_probe = 1;
	ret = ibv_query_device_ex(ctx, NULL, &attr);
	if (ret)
		return verbs_err(ret);
	c->odp = attr.odp_caps.general_caps & IBV_ODP_SUPPORT;
	c->odp_implicit = attr.odp_caps.general_caps & IBV_ODP_SUPPORT_IMPLICIT;
	c->odp_tr[ODPT_TR_RC] = attr.odp_caps.per_transport_caps.rc_odp_caps;
	c->odp_tr[ODPT_TR_UC] = attr.odp_caps.per_transport_caps.uc_odp_caps;
	c->odp_tr[ODPT_TR_UD] = attr.odp_caps.per_transport_caps.ud_odp_caps;
	c->odp_tr[ODPT_TR_XRC] = attr.xrc_odp_caps;
	c->max_mr_size = attr.orig_attr.max_mr_size;
	c->atomic_cap = attr.orig_attr.atomic_cap;
	c->atomic_cap_name = attr.orig_attr.atomic_cap == IBV_ATOMIC_HCA ? "HCA" :
			     attr.orig_attr.atomic_cap == IBV_ATOMIC_GLOB ? "GLOBAL" :
			     "NONE";
	c->xrc = attr.orig_attr.device_cap_flags & IBV_DEVICE_XRC;
	c->max_qp_wr = attr.orig_attr.max_qp_wr;
	c->max_sge = attr.orig_attr.max_sge;
	c->vendor_id = attr.orig_attr.vendor_id;
	c->vendor_part_id = attr.orig_attr.vendor_part_id;
	snprintf(c->fw_ver, sizeof(c->fw_ver), "%s", attr.orig_attr.fw_ver);
	device_driver(name, c->vendor_id, c->driver, sizeof(c->driver));
	c->lib_flush = odpt_vop_in_library(ODPT_OP_FLUSH);
	c->lib_atomic_write = odpt_vop_in_library(ODPT_OP_ATOMIC_WRITE);
#ifdef ODPT_HAVE_REG_MR_EX
	c->lib_reg_mr_ex = true;
#endif
#ifdef ODPT_HAVE_ADVISE_MR
	c->lib_advise_no_fault = true;
#endif
	return 0;
}

/* ---- device listing ---------------------------------------------------- */

static int list_gids(struct ibv_context *ctx, int port, int tbl_len,
		     struct odpt_port_info *pi)
{
	struct ibv_gid_entry *ents;
	ssize_t n;

	pi->ngids = 0;
	pi->gids = NULL;
	if (tbl_len <= 0)
		return 0;
	ents = calloc(tbl_len, sizeof(*ents));
	pi->gids = calloc(tbl_len, sizeof(*pi->gids));
	if (!ents || !pi->gids) {
		free(ents);
		return -ENOMEM;
	}
	n = ibv_query_gid_table(ctx, ents, tbl_len, 0);
	if (n < 0) {
		free(ents);
		return (int)n;   /* ibv_query_gid_table returns -errno */
	}
	for (ssize_t i = 0; i < n; i++) {
		struct odpt_gid_info *g;
		char ifname[IF_NAMESIZE];

		if (ents[i].port_num != (uint32_t)port)
			continue;
		g = &pi->gids[pi->ngids++];
		g->index = ents[i].gid_index;
		inet_ntop(AF_INET6, ents[i].gid.raw, g->gid, sizeof(g->gid));
		g->type = gid_type_name(ents[i].gid_type);
		g->netdev[0] = '\0';
		if (ents[i].ndev_ifindex && if_indextoname(ents[i].ndev_ifindex, ifname))
			snprintf(g->netdev, sizeof(g->netdev), "%s", ifname);
	}
	free(ents);
	return 0;
}

/* Prefetch support is only known by trying it: one page, ODP MR, sync. */
static int probe_prefetch(struct ibv_context *ctx)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct ibv_sge sge;
	struct ibv_mr *mr;
	struct ibv_pd *pd;
	void *buf;
	int ret;

	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return verbs_err(-1);
	buf = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		ret = -errno;
		goto dealloc_pd;
	}
	mr = ibv_reg_mr(pd, buf, pg, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND);
	if (!mr) {
		ret = verbs_err(-1);
		goto unmap_buf;
	}
	sge.addr = (uintptr_t)buf;
	sge.length = (uint32_t)pg;
	sge.lkey = mr->lkey;
	errno = 0;
	ret = verbs_err(ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
				      IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1));
	ibv_dereg_mr(mr);
unmap_buf:
	munmap(buf, pg);
dealloc_pd:
	ibv_dealloc_pd(pd);
	return ret;
}

static int describe_device(struct ibv_device *dev, struct odpt_dev_info *di)
{
	struct ibv_device_attr attr;
	struct ibv_context *ctx;
	int ret;

	snprintf(di->name, sizeof(di->name), "%s", ibv_get_device_name(dev));
	snprintf(di->node_guid, sizeof(di->node_guid), "%016llx",
		 (unsigned long long)be64toh(ibv_get_device_guid(dev)));
	ctx = ibv_open_device(dev);
	if (!ctx)
		return verbs_err(-1);
	ret = query_caps(ctx, di->name, &di->caps);
	if (ret)
		goto close_ctx;
	di->caps.prefetch_probe = di->caps.odp ? probe_prefetch(ctx) : 1;
	ret = ibv_query_device(ctx, &attr);
	if (ret) {
		ret = verbs_err(ret);
		goto close_ctx;
	}
	di->ports = calloc(attr.phys_port_cnt, sizeof(*di->ports));
	if (!di->ports) {
		ret = -ENOMEM;
		goto close_ctx;
	}
	for (int p = 1; p <= attr.phys_port_cnt; p++) {
		struct odpt_port_info *pi = &di->ports[di->nports++];
		struct ibv_port_attr pa;

		pi->port = p;
		ret = ibv_query_port(ctx, p, &pa);
		if (ret) {
			ret = verbs_err(ret);
			goto close_ctx;
		}
		pi->state = port_state_name(pa.state);
		pi->link_layer = pa.link_layer == IBV_LINK_LAYER_ETHERNET ?
				 "Ethernet" : "InfiniBand";
		pi->active_mtu_bytes = 128 << pa.active_mtu;
		pi->lid = pa.lid;
		ret = list_gids(ctx, p, pa.gid_tbl_len, pi);
		if (ret)
			goto close_ctx;
	}
	ret = 0;
close_ctx:
	ibv_close_device(ctx);
	return ret;
}

void odpt_verbs_list_free(struct odpt_dev_info *devs, int n)
{
	if (!devs)
		return;
	for (int i = 0; i < n; i++) {
		for (int p = 0; p < devs[i].nports; p++)
			free(devs[i].ports[p].gids);
		free(devs[i].ports);
	}
	free(devs);
}

int odpt_verbs_list(struct odpt_dev_info **out, int *n)
{
	struct ibv_device **list;
	struct odpt_dev_info *devs = NULL;
	int num = 0, ret = 0;

	*out = NULL;
	*n = 0;
	list = ibv_get_device_list(&num);
	if (!list) {
		/* No kernel RDMA support at all is "no devices", not an error. */
		if (errno == ENOSYS || errno == ENOENT || errno == ENODEV)
			return 0;
		return verbs_err(-1);
	}
	if (num == 0)
		goto free_list;
	devs = calloc(num, sizeof(*devs));
	if (!devs) {
		ret = -ENOMEM;
		goto free_list;
	}
	for (int i = 0; i < num; i++) {
		ret = describe_device(list[i], &devs[i]);
		if (ret) {
			odpt_verbs_list_free(devs, i + 1);
			goto free_list;
		}
	}
	*out = devs;
	*n = num;
free_list:
	ibv_free_device_list(list);
	return ret;
}

const char *odpt_verbs_lib_version(void)
{
	return ODPT_IBVERBS_VERSION;
}

char *odpt_verbs_names(char *buf, size_t len)
{
	struct ibv_device **list;
	size_t off = 0;
	int num = 0;

	buf[0] = '\0';
	list = ibv_get_device_list(&num);
	if (!list)
		return buf;
	for (int i = 0; i < num && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				ibv_get_device_name(list[i]));
	ibv_free_device_list(list);
	return buf;
}

/* ---- context ------------------------------------------------------------ */

static bool gid_is_ipv4(const union ibv_gid *g)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(g->raw, pfx, sizeof(pfx));
}

static int pick_gid(struct odpt_vctx *v, int gid_index)
{
	struct ibv_gid_entry ent;
	int ret;

	if (!v->roce && gid_index < 0) {
		v->gid_index = -1;
		return 0;
	}
	if (gid_index >= 0) {
		if (gid_index >= v->port_attr.gid_tbl_len)
			return -EINVAL;
		ret = ibv_query_gid_ex(v->ctx, v->port, gid_index, &ent, 0);
		if (ret)   /* ENODATA for an empty entry */
			return -EINVAL;
		v->gid_index = gid_index;
		memcpy(&v->gid, &ent.gid, sizeof(v->gid));
		return 0;
	}
	/* Auto: the first RoCE v2 IPv4 GID, else the first valid one. */
	v->gid_index = -1;
	for (int i = 0; i < v->port_attr.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(v->ctx, v->port, i, &ent, 0))
			continue;
		if (v->gid_index < 0) {
			v->gid_index = i;
			memcpy(&v->gid, &ent.gid, sizeof(v->gid));
		}
		if (ent.gid_type == IBV_GID_TYPE_ROCE_V2 && gid_is_ipv4(&ent.gid)) {
			v->gid_index = i;
			memcpy(&v->gid, &ent.gid, sizeof(v->gid));
			break;
		}
	}
	return v->gid_index < 0 ? -EINVAL : 0;
}

int odpt_vctx_open(const char *dev, int port, int gid_index,
		   struct odpt_vctx **out)
{
	struct ibv_device **list;
	struct ibv_device *found = NULL;
	struct ibv_device_attr da;
	struct odpt_vctx *v;
	int num = 0, ret;

	list = ibv_get_device_list(&num);
	if (!list)
		return errno == ENOSYS ? -ENODEV : verbs_err(-1);
	for (int i = 0; i < num; i++)
		if (!dev || !strcmp(dev, ibv_get_device_name(list[i]))) {
			found = list[i];
			break;
		}
	if (!found) {
		ret = -ENODEV;
		goto free_list;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto free_list;
	}
	snprintf(v->name, sizeof(v->name), "%s", ibv_get_device_name(found));
	v->ctx = ibv_open_device(found);
	if (!v->ctx) {
		ret = verbs_err(-1);
		goto free_v;
	}
	ret = query_caps(v->ctx, v->name, &v->caps);
	if (ret)
		goto close_ctx;
	ret = ibv_query_device(v->ctx, &da);
	if (ret) {
		ret = verbs_err(ret);
		goto close_ctx;
	}
	if (port < 1 || port > da.phys_port_cnt) {
		ret = -ERANGE;
		goto close_ctx;
	}
	v->port = port;
	ret = ibv_query_port(v->ctx, port, &v->port_attr);
	if (ret) {
		ret = verbs_err(ret);
		goto close_ctx;
	}
	v->roce = v->port_attr.link_layer == IBV_LINK_LAYER_ETHERNET;
	ret = pick_gid(v, gid_index);
	if (ret)
		goto close_ctx;
	v->pd = ibv_alloc_pd(v->ctx);
	if (!v->pd) {
		ret = verbs_err(-1);
		goto close_ctx;
	}
	ibv_free_device_list(list);
	*out = v;
	return 0;

close_ctx:
	ibv_close_device(v->ctx);
free_v:
	free(v);
free_list:
	ibv_free_device_list(list);
	return ret;
}

void odpt_vctx_close(struct odpt_vctx *v)
{
	if (!v)
		return;
	ibv_dealloc_pd(v->pd);
	ibv_close_device(v->ctx);
	free(v);
}

const struct odpt_vcaps *odpt_vctx_caps(const struct odpt_vctx *v)
{
	return &v->caps;
}

const char *odpt_vctx_name(const struct odpt_vctx *v)
{
	return v->name;
}

int odpt_vctx_port(const struct odpt_vctx *v)
{
	return v->port;
}

int odpt_vctx_gid_index(const struct odpt_vctx *v)
{
	return v->gid_index;
}

int odpt_vctx_mtu_bytes(const struct odpt_vctx *v)
{
	return 128 << v->port_attr.active_mtu;
}

/* ---- memory regions ------------------------------------------------------ */

int odpt_vmr_reg(struct odpt_vctx *v, void *addr, size_t len_bytes,
		 unsigned flags, struct odpt_vmr **out)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	struct odpt_vmr *m;
	struct vmr_priv *pv;
	struct ibv_mr *mr;

	if (!(flags & ODPT_MR_NO_ATOMIC))
		access |= IBV_ACCESS_REMOTE_ATOMIC;
	if (flags & (ODPT_MR_ODP | ODPT_MR_IMPLICIT))
		access |= IBV_ACCESS_ON_DEMAND;
	if (flags & ODPT_MR_HUGETLB)
		access |= IBV_ACCESS_HUGETLB;
	if (flags & ODPT_MR_FLUSH) {
#ifdef ODPT_HAVE_FLUSH_CAPS
		access |= IBV_ACCESS_FLUSH_GLOBAL;
#else
		return -EOPNOTSUPP;
#endif
	}
	m = calloc(1, sizeof(*m));
	pv = calloc(1, sizeof(*pv));
	if (!m || !pv) {
		free(m);
		free(pv);
		return -ENOMEM;
	}
	errno = 0;
	if (flags & ODPT_MR_REG_EX) {
#ifdef ODPT_HAVE_REG_MR_EX
		struct ibv_mr_init_attr ia = {
			.length = (flags & ODPT_MR_IMPLICIT) ? SIZE_MAX : len_bytes,
			.iova = (uintptr_t)addr,
			.access = access,
			.comp_mask = IBV_REG_MR_MASK_ADDR | IBV_REG_MR_MASK_IOVA,
			.addr = (flags & ODPT_MR_IMPLICIT) ? NULL : addr,
		};

		mr = ibv_reg_mr_ex(v->pd, &ia);
#else
		free(m);
		free(pv);
		return -EOPNOTSUPP;
#endif
	} else if (flags & ODPT_MR_IMPLICIT) {
		mr = ibv_reg_mr(v->pd, NULL, SIZE_MAX, access);
	} else {
		mr = ibv_reg_mr(v->pd, addr, len_bytes, access);
	}
	if (!mr) {
		int ret = verbs_err(-1);

		free(m);
		free(pv);
		return ret;
	}
	pv->mr = mr;
	m->addr = (flags & ODPT_MR_IMPLICIT) ? NULL : addr;
	m->len_bytes = (flags & ODPT_MR_IMPLICIT) ? SIZE_MAX : len_bytes;
	m->lkey = mr->lkey;
	m->rkey = mr->rkey;
	m->flags = flags;
	m->v = v;
	m->priv = pv;
	*out = m;
	return 0;
}

void odpt_vmr_dereg(struct odpt_vmr *m)
{
	struct vmr_priv *pv;

	if (!m)
		return;
	pv = m->priv;
	ibv_dereg_mr(pv->mr);
	free(pv);
	free(m);
}

int odpt_vadvise(struct odpt_vctx *v, enum odpt_advice a, bool sync,
		 const struct odpt_vsge *sge, int nsge)
{
	struct ibv_sge s[ODPT_MAX_SGE];
	enum ibv_advise_mr_advice adv;
	int ret;

	if (nsge < 1 || nsge > ODPT_MAX_SGE)
		return -EINVAL;
	switch (a) {
	case ODPT_ADVISE_PREFETCH:
		adv = IBV_ADVISE_MR_ADVICE_PREFETCH;
		break;
	case ODPT_ADVISE_PREFETCH_WRITE:
		adv = IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE;
		break;
	case ODPT_ADVISE_PREFETCH_NO_FAULT:
#ifdef ODPT_HAVE_ADVISE_MR
		adv = IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT;
		break;
#else
		return -EOPNOTSUPP;
#endif
	default:
		return -EINVAL;
	}
	for (int i = 0; i < nsge; i++) {
		s[i].addr = sge[i].addr;
		s[i].length = sge[i].len_bytes;
		s[i].lkey = sge[i].lkey;
	}
	errno = 0;
	ret = ibv_advise_mr(v->pd, adv, sync ? IBV_ADVISE_MR_FLAG_FLUSH : 0, s, nsge);
	return ret ? verbs_err(ret) : 0;
}

/* ---- QP pairs ------------------------------------------------------------ */

#define PAIR_DEPTH 64
#define PAIR_RD_ATOMIC 4

static int qp_to_init(struct odpt_vpair *p, int side)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = p->vs[side]->port,
	};
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;

	if (p->kind == ODPT_QP_UD) {
		a.qkey = p->qkey;
		mask |= IBV_QP_QKEY;
	} else {
		a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
				    IBV_ACCESS_REMOTE_ATOMIC;
		mask |= IBV_QP_ACCESS_FLAGS;
#ifdef ODPT_HAVE_FLUSH_CAPS
		/* A responder accepts FLUSH only with this QP access flag. */
		if (!p->no_flush_access) {
			int ret;

			a.qp_access_flags |= IBV_ACCESS_FLUSH_GLOBAL;
			ret = ibv_modify_qp(p->qp[side], &a, mask);
			if (!ret)
				return 0;
			if (ret != EINVAL && ret != EOPNOTSUPP)
				return verbs_err(ret);
			p->no_flush_access = true;   /* device without FLUSH */
			a.qp_access_flags &= ~IBV_ACCESS_FLUSH_GLOBAL;
		}
#endif
	}
	return verbs_err(ibv_modify_qp(p->qp[side], &a, mask));
}

/* Address of side `to`, as seen from side `from` (its port and source GID). */
static void fill_ah(struct odpt_vpair *p, int from, int to, struct ibv_ah_attr *ah)
{
	struct odpt_vctx *src = p->vs[from], *dst = p->vs[to];

	memset(ah, 0, sizeof(*ah));
	ah->port_num = src->port;
	ah->dlid = dst->port_attr.lid;
	if (src->gid_index >= 0) {
		ah->is_global = 1;
		ah->grh.dgid = dst->gid;
		ah->grh.sgid_index = src->gid_index;
		ah->grh.hop_limit = 1;
	}
}

/* The path MTU both ends can carry. */
static enum ibv_mtu pair_mtu(const struct odpt_vpair *p)
{
	enum ibv_mtu a = p->vs[0]->port_attr.active_mtu, b = p->vs[1]->port_attr.active_mtu;

	return a < b ? a : b;
}

static int qp_to_rtr_rts(struct odpt_vpair *p, int side)
{
	struct ibv_qp_attr a;
	int other = !side, mask;
	int ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	mask = IBV_QP_STATE;
	if (p->kind != ODPT_QP_UD) {
		a.path_mtu = pair_mtu(p);
		a.dest_qp_num = p->qp[other]->qp_num;
		a.rq_psn = 0;
		a.max_dest_rd_atomic = PAIR_RD_ATOMIC;
		a.min_rnr_timer = 12;
		fill_ah(p, side, other, &a.ah_attr);
		mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			IBV_QP_MIN_RNR_TIMER;
	}
	ret = ibv_modify_qp(p->qp[side], &a, mask);
	if (ret)
		return verbs_err(ret);
	if (p->kind == ODPT_QP_XRC && side == 1)
		return 0;   /* the XRC receive QP stays in RTR */
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
	if (p->kind != ODPT_QP_UD) {
		a.timeout = 14;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.max_rd_atomic = PAIR_RD_ATOMIC;
		mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			IBV_QP_MAX_QP_RD_ATOMIC;
	}
	return verbs_err(ibv_modify_qp(p->qp[side], &a, mask));
}

static int pair_connect(struct odpt_vpair *p)
{
	int ret;

	for (int s = 0; s < 2; s++) {
		ret = qp_to_init(p, s);
		if (ret)
			return ret;
	}
	for (int s = 0; s < 2; s++) {
		ret = qp_to_rtr_rts(p, s);
		if (ret)
			return ret;
	}
	return 0;
}

/* Send ops for an extended QP: everything the suite posts, plus FLUSH and
 * ATOMIC_WRITE when the library knows them. */
static uint64_t ex_send_ops(enum odpt_qp_kind kind)
{
	uint64_t ops = IBV_QP_EX_WITH_SEND;

	if (kind == ODPT_QP_UD)
		return ops;
	ops |= IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ |
	       IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;
#if defined(ODPT_HAVE_WR_FLUSH) && defined(ODPT_HAVE_FLUSH_CAPS)
	ops |= IBV_QP_EX_WITH_FLUSH;
#endif
#if defined(ODPT_HAVE_WR_ATOMIC_WRITE) && defined(ODPT_HAVE_ATOMIC_WRITE_POST)
	ops |= IBV_QP_EX_WITH_ATOMIC_WRITE;
#endif
	return ops;
}

static int create_qp(struct odpt_vpair *p, int side, bool ex)
{
	struct ibv_qp_init_attr_ex ia;

	memset(&ia, 0, sizeof(ia));
	ia.send_cq = p->scq[side];
	ia.recv_cq = p->rcq[side];
	ia.cap.max_send_wr = PAIR_DEPTH;
	ia.cap.max_recv_wr = PAIR_DEPTH;
	ia.cap.max_send_sge = ODPT_MAX_SGE;
	ia.cap.max_recv_sge = ODPT_MAX_SGE;
	ia.comp_mask = IBV_QP_INIT_ATTR_PD;
	ia.pd = p->vs[side]->pd;
	switch (p->kind) {
	case ODPT_QP_UD:
		ia.qp_type = IBV_QPT_UD;
		break;
	case ODPT_QP_XRC:
		if (side == 0) {
			ia.qp_type = IBV_QPT_XRC_SEND;
			ia.cap.max_recv_wr = 0;
			ia.cap.max_recv_sge = 0;
			ia.recv_cq = NULL;
		} else {
			ia.qp_type = IBV_QPT_XRC_RECV;
			ia.comp_mask = IBV_QP_INIT_ATTR_XRCD;
			ia.xrcd = p->xrcd;
			ia.send_cq = NULL;
			ia.recv_cq = NULL;
			memset(&ia.cap, 0, sizeof(ia.cap));
		}
		break;
	case ODPT_QP_RC_SRQ:
		ia.qp_type = IBV_QPT_RC;
		if (side == 1)
			ia.srq = p->srq;
		break;
	default:
		ia.qp_type = IBV_QPT_RC;
		break;
	}
	if (ex && !(p->kind == ODPT_QP_XRC && side == 1)) {
		ia.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		ia.send_ops_flags = ex_send_ops(p->kind);
	}
	errno = 0;
	p->qp[side] = ibv_create_qp_ex(p->vs[side]->ctx, &ia);
	if (!p->qp[side])
		return verbs_err(-1);
	if (ex && !(p->kind == ODPT_QP_XRC && side == 1))
		p->qpx[side] = ibv_qp_to_qp_ex(p->qp[side]);
	return 0;
}

static int create_srq(struct odpt_vpair *p)
{
	struct ibv_srq_init_attr_ex sa;

	memset(&sa, 0, sizeof(sa));
	sa.attr.max_wr = PAIR_DEPTH;
	sa.attr.max_sge = ODPT_MAX_SGE;
	sa.comp_mask = IBV_SRQ_INIT_ATTR_PD | IBV_SRQ_INIT_ATTR_TYPE;
	sa.pd = p->vs[1]->pd;   /* the SRQ receives: responder side */
	sa.srq_type = IBV_SRQT_BASIC;
	if (p->kind == ODPT_QP_XRC) {
		struct ibv_xrcd_init_attr xa = {
			.comp_mask = IBV_XRCD_INIT_ATTR_FD | IBV_XRCD_INIT_ATTR_OFLAGS,
			.fd = -1,
			.oflags = O_CREAT,
		};

		errno = 0;
		p->xrcd = ibv_open_xrcd(p->vs[1]->ctx, &xa);
		if (!p->xrcd)
			return verbs_err(-1);
		sa.srq_type = IBV_SRQT_XRC;
		sa.xrcd = p->xrcd;
		sa.cq = p->rcq[1];
		sa.comp_mask |= IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_CQ;
	}
	errno = 0;
	p->srq = ibv_create_srq_ex(p->vs[1]->ctx, &sa);
	if (!p->srq)
		return verbs_err(-1);
	if (p->kind == ODPT_QP_XRC) {
		int ret = ibv_get_srq_num(p->srq, &p->srq_num);

		if (ret)
			return verbs_err(ret);
	}
	return 0;
}

void odpt_vpair_destroy(struct odpt_vpair *p)
{
	if (!p)
		return;
	for (int s = 0; s < 2; s++) {
		if (p->ah[s])
			ibv_destroy_ah(p->ah[s]);
		if (p->qp[s])
			ibv_destroy_qp(p->qp[s]);
	}
	if (p->srq)
		ibv_destroy_srq(p->srq);
	if (p->xrcd)
		ibv_close_xrcd(p->xrcd);
	for (int s = 0; s < 2; s++) {
		if (p->scq[s])
			ibv_destroy_cq(p->scq[s]);
		if (p->rcq[s])
			ibv_destroy_cq(p->rcq[s]);
		if (p->sch[s])
			ibv_destroy_comp_channel(p->sch[s]);
		if (p->rch[s])
			ibv_destroy_comp_channel(p->rch[s]);
	}
	free(p);
}

int odpt_vpair_create(struct odpt_vctx *v, enum odpt_qp_kind kind,
		      struct odpt_vpair **out)
{
	return odpt_vpair_create2(v, v, kind, out);
}

int odpt_vpair_create2(struct odpt_vctx *req, struct odpt_vctx *resp,
		       enum odpt_qp_kind kind, struct odpt_vpair **out)
{
	struct odpt_vpair *p;
	bool ex;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->vs[0] = req;
	p->vs[1] = resp;
	p->kind = kind;
	p->qkey = 0x11111111;
	for (int s = 0; s < 2; s++) {
		struct ibv_context *ctx = p->vs[s]->ctx;

		errno = 0;
		p->sch[s] = ibv_create_comp_channel(ctx);
		p->rch[s] = p->sch[s] ? ibv_create_comp_channel(ctx) : NULL;
		p->scq[s] = p->rch[s] ? ibv_create_cq(ctx, PAIR_DEPTH, NULL, p->sch[s], 0) : NULL;
		p->rcq[s] = p->scq[s] ? ibv_create_cq(ctx, PAIR_DEPTH, NULL, p->rch[s], 0) : NULL;
		if (!p->rcq[s]) {
			ret = verbs_err(-1);
			goto destroy_pair;
		}
	}
	if (kind == ODPT_QP_XRC || kind == ODPT_QP_RC_SRQ) {
		ret = create_srq(p);
		if (ret)
			goto destroy_pair;
	}
	/*
	 * RC QPs are created extended (ibv_wr_* API) when the library has
	 * FLUSH or ATOMIC_WRITE, so those can be posted; a provider that
	 * rejects the extended send ops gets a plain QP, and those two ops
	 * then report -EOPNOTSUPP at post time.
	 */
	ex = kind == ODPT_QP_RC &&
	     (odpt_vop_in_library(ODPT_OP_FLUSH) || odpt_vop_in_library(ODPT_OP_ATOMIC_WRITE));
	for (int s = 0; s < 2; s++) {
		ret = create_qp(p, s, ex);
		if (ret && ex && s == 0) {
			p->ex_err = ret;
			ex = false;
			ret = create_qp(p, s, ex);
		}
		if (ret)
			goto destroy_pair;
	}
	if (kind == ODPT_QP_UD) {
		for (int s = 0; s < 2; s++) {
			struct ibv_ah_attr ah;

			fill_ah(p, s, !s, &ah);
			errno = 0;
			p->ah[s] = ibv_create_ah(p->vs[s]->pd, &ah);
			if (!p->ah[s]) {
				ret = verbs_err(-1);
				goto destroy_pair;
			}
		}
	}
	ret = pair_connect(p);
	if (ret)
		goto destroy_pair;
	*out = p;
	return 0;

destroy_pair:
	odpt_vpair_destroy(p);
	return ret;
}

int odpt_vpair_ex_fallback(const struct odpt_vpair *p)
{
	return p->ex_err;
}

int odpt_vpair_mtu_bytes(const struct odpt_vpair *p)
{
	return 128 << pair_mtu(p);
}

static void drain_cq(struct ibv_cq *cq)
{
	struct ibv_wc wc[16];

	if (!cq)
		return;
	while (ibv_poll_cq(cq, 16, wc) > 0)
		;
}

/* Destroy and create both QPs again (CQs, SRQ and AHs are kept). */
static int pair_recreate(struct odpt_vpair *p)
{
	bool ex = p->qpx[0] != NULL;
	int ret;

	for (int s = 0; s < 2; s++) {
		if (p->qp[s])
			ibv_destroy_qp(p->qp[s]);
		p->qp[s] = NULL;
		p->qpx[s] = NULL;
	}
	for (int s = 0; s < 2; s++) {
		drain_cq(p->scq[s]);
		drain_cq(p->rcq[s]);
	}
	for (int s = 0; s < 2; s++) {
		ret = create_qp(p, s, ex);
		if (ret)
			return ret;
	}
	return pair_connect(p);
}

int odpt_vpair_reset(struct odpt_vpair *p)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };
	int ret = 0;

	for (int s = 0; s < 2 && !ret; s++)
		ret = verbs_err(ibv_modify_qp(p->qp[s], &a, IBV_QP_STATE));
	if (!ret) {
		for (int s = 0; s < 2; s++) {
			drain_cq(p->scq[s]);
			drain_cq(p->rcq[s]);
		}
		ret = pair_connect(p);
	}
	/* A QP the provider will not take back through RESET is replaced. */
	return ret ? pair_recreate(p) : 0;
}

static void to_ibv_sges(const struct odpt_vsge *in, int n, struct ibv_sge *out)
{
	for (int i = 0; i < n; i++) {
		out[i].addr = in[i].addr;
		out[i].length = in[i].len_bytes;
		out[i].lkey = in[i].lkey;
	}
}

static int post_ex(struct odpt_vpair *p, int side, const struct odpt_vwr *wr,
		   struct ibv_sge *sg)
{
	struct ibv_qp_ex *q = p->qpx[side];

	ibv_wr_start(q);
	q->wr_id = wr->wr_id;
	q->wr_flags = IBV_SEND_SIGNALED;
	switch (wr->op) {
	case ODPT_OP_SEND:
		ibv_wr_send(q);
		break;
	case ODPT_OP_WRITE:
		ibv_wr_rdma_write(q, wr->rkey, wr->remote_addr);
		break;
	case ODPT_OP_READ:
		ibv_wr_rdma_read(q, wr->rkey, wr->remote_addr);
		break;
	case ODPT_OP_CAS:
		ibv_wr_atomic_cmp_swp(q, wr->rkey, wr->remote_addr,
				      wr->compare_add, wr->swap);
		break;
	case ODPT_OP_FAA:
		ibv_wr_atomic_fetch_add(q, wr->rkey, wr->remote_addr, wr->compare_add);
		break;
	case ODPT_OP_ATOMIC_WRITE:
#if defined(ODPT_HAVE_WR_ATOMIC_WRITE) && defined(ODPT_HAVE_ATOMIC_WRITE_POST)
		ibv_wr_atomic_write(q, wr->rkey, wr->remote_addr, wr->atomic_write);
		break;
#else
		ibv_wr_abort(q);
		return -EOPNOTSUPP;
#endif
	case ODPT_OP_FLUSH:
#if defined(ODPT_HAVE_WR_FLUSH) && defined(ODPT_HAVE_FLUSH_CAPS)
		ibv_wr_flush(q, wr->rkey, wr->remote_addr, wr->flush_len_bytes,
			     IBV_FLUSH_GLOBAL,
			     wr->flush_whole_mr ? IBV_FLUSH_MR : IBV_FLUSH_RANGE);
		break;
#else
		ibv_wr_abort(q);
		return -EOPNOTSUPP;
#endif
	}
	if (wr->op != ODPT_OP_FLUSH && wr->op != ODPT_OP_ATOMIC_WRITE)
		ibv_wr_set_sge_list(q, wr->nsge, sg);
	return verbs_err(ibv_wr_complete(q));
}

int odpt_vpair_post(struct odpt_vpair *p, int side, const struct odpt_vwr *wr)
{
	struct ibv_sge sg[ODPT_MAX_SGE];
	struct ibv_send_wr w, *bad = NULL;

	if (wr->nsge < 0 || wr->nsge > ODPT_MAX_SGE || side < 0 || side > 1)
		return -EINVAL;
	if (p->kind == ODPT_QP_XRC && side != 0)
		return -EINVAL;
	to_ibv_sges(wr->sge, wr->nsge, sg);
	if (p->qpx[side])
		return post_ex(p, side, wr, sg);
	if (wr->op == ODPT_OP_FLUSH || wr->op == ODPT_OP_ATOMIC_WRITE)
		return -EOPNOTSUPP;
	memset(&w, 0, sizeof(w));
	w.wr_id = wr->wr_id;
	w.sg_list = wr->nsge ? sg : NULL;
	w.num_sge = wr->nsge;
	w.send_flags = IBV_SEND_SIGNALED;
	switch (wr->op) {
	case ODPT_OP_SEND:
		w.opcode = IBV_WR_SEND;
		if (p->kind == ODPT_QP_UD) {
			w.wr.ud.ah = p->ah[side];
			w.wr.ud.remote_qpn = p->qp[!side]->qp_num;
			w.wr.ud.remote_qkey = p->qkey;
		} else if (p->kind == ODPT_QP_XRC) {
			w.qp_type.xrc.remote_srqn = p->srq_num;
		}
		break;
	case ODPT_OP_WRITE:
		w.opcode = IBV_WR_RDMA_WRITE;
		w.wr.rdma.remote_addr = wr->remote_addr;
		w.wr.rdma.rkey = wr->rkey;
		break;
	case ODPT_OP_READ:
		w.opcode = IBV_WR_RDMA_READ;
		w.wr.rdma.remote_addr = wr->remote_addr;
		w.wr.rdma.rkey = wr->rkey;
		break;
	case ODPT_OP_CAS:
		w.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
		w.wr.atomic.remote_addr = wr->remote_addr;
		w.wr.atomic.rkey = wr->rkey;
		w.wr.atomic.compare_add = wr->compare_add;
		w.wr.atomic.swap = wr->swap;
		break;
	case ODPT_OP_FAA:
		w.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
		w.wr.atomic.remote_addr = wr->remote_addr;
		w.wr.atomic.rkey = wr->rkey;
		w.wr.atomic.compare_add = wr->compare_add;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return verbs_err(ibv_post_send(p->qp[side], &w, &bad));
}

int odpt_vpair_post_recv(struct odpt_vpair *p, int side, uint64_t wr_id,
			 const struct odpt_vsge *sge, int nsge)
{
	struct ibv_sge sg[ODPT_MAX_SGE];
	struct ibv_recv_wr w, *bad = NULL;

	if (nsge < 0 || nsge > ODPT_MAX_SGE || side < 0 || side > 1)
		return -EINVAL;
	to_ibv_sges(sge, nsge, sg);
	memset(&w, 0, sizeof(w));
	w.wr_id = wr_id;
	w.sg_list = nsge ? sg : NULL;
	w.num_sge = nsge;
	if (p->srq && side == 1)
		return verbs_err(ibv_post_srq_recv(p->srq, &w, &bad));
	if (p->kind == ODPT_QP_XRC)
		return -EINVAL;
	return verbs_err(ibv_post_recv(p->qp[side], &w, &bad));
}

/*
 * Spin briefly, then sleep on the CQ's completion channel: a busy poller
 * would take the CPU from the kernel work items of a software provider
 * (rxe), which on a small or shared machine only makes the wait longer.
 */
#define POLL_SPINS 256

int odpt_vpair_poll(struct odpt_vpair *p, int side, enum odpt_cq_which which,
		    uint64_t timeout_ns, struct odpt_vwc *wc)
{
	struct ibv_cq *cq = which == ODPT_CQ_SEND ? p->scq[side] : p->rcq[side];
	struct ibv_comp_channel *ch = which == ODPT_CQ_SEND ? p->sch[side] : p->rch[side];
	uint64_t deadline = odpt_clock_raw_ns() + timeout_ns;
	unsigned spins = 0;
	struct ibv_wc w;

	for (;;) {
		struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
		uint64_t now;
		int n = ibv_poll_cq(cq, 1, &w);

		if (n < 0)
			return -EIO;   /* ibv_poll_cq gives no errno */
		if (n == 1)
			break;
		if (++spins < POLL_SPINS)
			continue;
		if (ibv_req_notify_cq(cq, 0))
			return -EIO;
		/* A completion that arrived before the arm raises no event. */
		n = ibv_poll_cq(cq, 1, &w);
		if (n < 0)
			return -EIO;
		if (n == 1)
			break;
		now = odpt_clock_raw_ns();
		if (now > deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)((deadline - now) / 1000000 > 100 ? 100 :
					(deadline - now) / 1000000 + 1));
		if (n > 0) {
			struct ibv_cq *ev_cq;
			void *ev_ctx;

			if (!ibv_get_cq_event(ch, &ev_cq, &ev_ctx))
				ibv_ack_cq_events(ev_cq, 1);
		}
	}
	wc->wr_id = w.wr_id;
	wc->status = w.status;
	wc->status_str = ibv_wc_status_str(w.status);
	wc->byte_len = w.byte_len;
	wc->opcode = w.opcode;
	return 0;
}
