// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Per-MR ODP counters for the suite: find one of our MRs in the device's
 * RDMA netlink resource dump (by lkey and our PID), read its statistics
 * (STAT_GET for that MR), and add them to the running case's tally in
 * shared memory; or record exactly why there are none (no netlink, no
 * CAP_NET_ADMIN for the keys, MR not found, the driver exports no
 * counters). Counters live and die with the MR, so the rig calls this just
 * before deregistering. Also the probe `odpt suite` and `odpt devices` use
 * to say up front whether a device has per-MR counters. Below the rig: the
 * case that checks the lookup itself on a rig (odp_counters_netlink) is in
 * cases_odpstat.c, so the rig calls this file and never the other way.
 */
#define _GNU_SOURCE   /* strerrorname_np */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/rdmanl.h"
#include "odpt/suite.h"
#include "odpt/verbs.h"
#include "odpstat.h"

const char *odpstat_errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "unknown error";
}

int odpstat_lookup(const char *dev, const char *drv, const struct odpt_vmr *mr,
		   struct odpt_nl_mr *stat, struct odpt_nl_mr *entry, bool *found,
		   char *why, size_t why_len)
{
	const struct odpt_nl_mr *hit = NULL;
	struct odpt_nl_mrs mrs = { 0 };
	uint32_t pid = (uint32_t)getpid();
	struct odpt_nl *nl;
	bool keys = false;
	uint32_t index;
	int ret;

	ret = odpt_nl_open(&nl);
	if (ret) {
		snprintf(why, why_len, "netlink: socket(NETLINK_RDMA): %s", odpstat_errname(-ret));
		return ret;
	}
	ret = odpt_nl_dev_index(nl, dev, &index);
	if (ret) {
		if (ret == -ENODEV)
			snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_GET: no device named %s", dev);
		else
			snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_GET: %s", odpstat_errname(-ret));
		goto close_nl;
	}
	ret = odpt_nl_res_mrs(nl, index, &mrs);
	if (ret) {
		snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_RES_MR_GET on %s: %s", dev,
			 odpstat_errname(-ret));
		goto free_mrs;
	}
	for (size_t i = 0; i < mrs.n && !hit; i++) {
		const struct odpt_nl_mr *e = &mrs.v[i];

		keys |= !!(e->has & ODPT_NL_HAS_LKEY);
		if ((e->has & ODPT_NL_HAS_LKEY) && e->lkey == mr->lkey &&
		    (!(e->has & ODPT_NL_HAS_PID) || e->pid == pid))
			hit = e;
	}
	if (!hit) {
		ret = mrs.n && !keys ? -EPERM : -ENOENT;
		if (ret == -EPERM)
			snprintf(why, why_len, "netlink RES_MR dump of %s has no lkeys (the kernel sends them only with CAP_NET_ADMIN): cannot find our MRs",
				 dev);
		else
			snprintf(why, why_len, "MR lkey 0x%x of pid %u not in the RES_MR dump of %s (%zu MRs)",
				 mr->lkey, pid, dev, mrs.n);
		goto free_mrs;
	}
	if (!(hit->has & ODPT_NL_HAS_MRN)) {
		ret = -EPROTO;
		snprintf(why, why_len, "netlink RES_MR entry of lkey 0x%x on %s has no MRN (kernel too old for per-MR statistics)",
			 mr->lkey, dev);
		goto free_mrs;
	}
	/* An implicit MR covers the address space, not a buffer. */
	if (mr->addr && (hit->has & ODPT_NL_HAS_MRLEN) && hit->len_bytes != mr->len_bytes) {
		ret = -EPROTO;
		snprintf(why, why_len, "netlink RES_MR entry of lkey 0x%x on %s: length %llu, registered %zu",
			 mr->lkey, dev, (unsigned long long)hit->len_bytes, mr->len_bytes);
		goto free_mrs;
	}
	*found = true;
	*entry = *hit;
	ret = odpt_nl_stat_mr(nl, index, hit->mrn, stat);
	if (ret) {
		snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_STAT_GET (MR %u on %s): %s", hit->mrn,
			 dev, odpstat_errname(-ret));
		goto free_mrs;
	}
	if (!(stat->has & ODPT_NL_HAS_COUNTERS))
		snprintf(why, why_len, "%s (driver %s) exports no per-MR counters: nldev returned MR %u without hardware counters",
			 dev, drv, hit->mrn);
	else if (!stat->ncounters)
		snprintf(why, why_len, "%s (driver %s): MR %u has an empty hardware counter table",
			 dev, drv, hit->mrn);
free_mrs:
	odpt_nl_mrs_free(&mrs);
close_nl:
	odpt_nl_close(nl);
	return ret;
}

void tc_odp_snapshot(struct odpt_tctx *t, const struct odpt_vmr *mr)
{
	struct odpt_odp_counters *c = tc_odp_counters(t);
	struct odpt_nl_mr stat = { 0 }, entry;
	char why[sizeof(c->reason)] = "";
	struct odpt_vctx *v;
	bool found = false;
	int ret;

	/* In two-device mode the responder's MRs live on the peer device. */
	v = mr && mr->v ? mr->v : t->v;
	if (!mr || !v)
		return;
	c->mrs++;
	ret = odpstat_lookup(odpt_vctx_name(v), odpt_vctx_caps(v)->driver, mr, &stat,
			     &entry, &found, why, sizeof(why));
	c->mrs_found += found;
	if (!ret && (stat.has & ODPT_NL_HAS_COUNTERS) && stat.ncounters) {
		c->mrs_counted++;
		for (int i = 0; i < stat.ncounters; i++) {
			int k;

			for (k = 0; k < c->ncounters; k++)
				if (!strcmp(c->c[k].name, stat.counters[i].name))
					break;
			if (k == c->ncounters) {
				if (k == ODPT_ODP_MAX_COUNTERS)
					continue;
				snprintf(c->c[k].name, sizeof(c->c[k].name), "%s",
					 stat.counters[i].name);
				c->c[k].value = 0;
				c->ncounters++;
			}
			c->c[k].value += stat.counters[i].value;
		}
		return;
	}
	if (!c->reason[0])
		snprintf(c->reason, sizeof(c->reason), "%s", why);
}

int odpt_odp_counters_probe(struct odpt_vctx *v, char *why, size_t why_len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	const struct odpt_vcaps *caps = odpt_vctx_caps(v);
	struct odpt_nl_mr stat = { 0 }, entry;
	bool found = false;
	struct odpt_vmr *mr;
	void *buf;
	int ret;

	if (!caps->odp) {
		snprintf(why, why_len, "%s (driver %s) has no ODP", odpt_vctx_name(v), caps->driver);
		return 0;
	}
	buf = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -errno;
	ret = odpt_vmr_reg(v, buf, pg, ODPT_MR_ODP, &mr);
	if (ret) {
		snprintf(why, why_len, "registering a 1-page ODP MR on %s: %s", odpt_vctx_name(v),
			 odpstat_errname(-ret));
		ret = 0;
		goto unmap;
	}
	ret = odpstat_lookup(odpt_vctx_name(v), caps->driver, mr, &stat, &entry, &found, why,
			     why_len);
	if (!ret && (stat.has & ODPT_NL_HAS_COUNTERS) && stat.ncounters) {
		int off = snprintf(why, why_len, "per-MR counters over RDMA netlink:");

		for (int i = 0; i < stat.ncounters && off > 0 && (size_t)off < why_len; i++)
			off += snprintf(why + off, why_len - (size_t)off, "%s %s", i ? "," : "",
					stat.counters[i].name);
		ret = 1;
	} else {
		ret = 0;
	}
	odpt_vmr_dereg(mr);
unmap:
	munmap(buf, pg);
	return ret;
}
