// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine (see include/odpt/verbs.h). Device listing and
 * description: capabilities, ports and GIDs, the prefetch probe, library
 * version and names.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "odpt_config.h"
#include "odpt/verbs.h"
#include "verbs_int.h"

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

int verbs_query_caps(struct ibv_context *ctx, const char *name,
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
	ret = verbs_query_caps(ctx, di->name, &di->caps);
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
