// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The verbs engine (see include/odpt/verbs.h). Contexts (open, close,
 * accessors), memory region registration and deregistration, advise
 * (prefetch).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

#include "odpt_config.h"
#include "odpt/verbs.h"
#include "verbs_int.h"

struct vmr_priv {
	struct ibv_mr *mr;
};

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
	ret = verbs_query_caps(v->ctx, v->name, &v->caps);
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
