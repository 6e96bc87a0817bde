// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Per-MR ODP counters for the suite: find one of our MRs in the device's
 * RDMA netlink resource dump (by lkey and our PID), read its statistics
 * (STAT_GET for that MR), and add them to the running case's tally in
 * shared memory; or record exactly why there are none (no netlink, no
 * CAP_NET_ADMIN for the keys, MR not found, the driver exports no
 * counters). Counters live and die with the MR, so the rig calls this just
 * before deregistering. Also the probe `odpt suite` and `odpt devices` use
 * to say up front whether a device has per-MR counters, and the case that
 * checks the lookup itself (odp_counters_netlink).
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
#include "cases.h"
#include "rig.h"

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "unknown error";
}

/*
 * Look mr up on device dev (driver drv). *found: its RES_MR entry matched
 * (lkey, PID, length), copied to *entry. 0: *stat holds its STAT_GET entry
 * (ODPT_NL_HAS_COUNTERS tells whether the driver sent counters; when not,
 * why says so). < 0: not found or netlink failed, why says which step and
 * what it returned.
 */
static int odp_lookup(const char *dev, const char *drv, const struct odpt_vmr *mr,
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
		snprintf(why, why_len, "netlink: socket(NETLINK_RDMA): %s", errname(-ret));
		return ret;
	}
	ret = odpt_nl_dev_index(nl, dev, &index);
	if (ret) {
		if (ret == -ENODEV)
			snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_GET: no device named %s", dev);
		else
			snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_GET: %s", errname(-ret));
		goto close_nl;
	}
	ret = odpt_nl_res_mrs(nl, index, &mrs);
	if (ret) {
		snprintf(why, why_len, "netlink RDMA_NLDEV_CMD_RES_MR_GET on %s: %s", dev,
			 errname(-ret));
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
			 dev, errname(-ret));
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
	ret = odp_lookup(odpt_vctx_name(v), odpt_vctx_caps(v)->driver, mr, &stat,
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
			 errname(-ret));
		ret = 0;
		goto unmap;
	}
	ret = odp_lookup(odpt_vctx_name(v), caps->driver, mr, &stat, &entry, &found, why,
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

/* One rig MR looked up and checked field by field; 0, or a verdict. */
static int check_mr(struct odpt_tctx *t, const struct odpt_vmr *mr, const char *what,
		    struct odpt_nl_mr *stat)
{
	struct odpt_vctx *v = mr->v ? mr->v : t->v;   /* the peer's, for a responder MR */
	const char *dev = odpt_vctx_name(v);
	struct odpt_nl_mr e = { 0 };
	char why[320] = "";
	bool found = false;
	int ret;

	tc_stage(t, "looking up the %s MR over RDMA netlink", what);
	ret = odp_lookup(dev, odpt_vctx_caps(v)->driver, mr, stat, &e, &found, why,
			 sizeof(why));
	if (!found && (ret == -EPERM || ret == -EPROTONOSUPPORT))
		return tc_skip(t, "%s", why);
	if (!found)
		return tc_fail(t, "%s MR: %s", what, why);
	if (!(e.has & ODPT_NL_HAS_RKEY) || e.rkey != mr->rkey)
		return tc_fail(t, "%s MR: RES_MR entry MRN %u has rkey 0x%x, registered 0x%x",
			       what, e.mrn, e.rkey, mr->rkey);
	if (!(e.has & ODPT_NL_HAS_MRLEN) || !(e.has & ODPT_NL_HAS_PID))
		return tc_fail(t, "%s MR: RES_MR entry MRN %u lacks its length or PID", what, e.mrn);
	if (ret)
		return tc_fail(t, "%s MR: %s", what, why);
	if (stat->mrn != e.mrn)
		return tc_fail(t, "%s MR: STAT_GET for MRN %u answered for MRN %u", what, e.mrn,
			       stat->mrn);
	tc_diag(t, "%s MR lkey 0x%x rkey 0x%x, %llu bytes, pid %u: MRN %u on %s; %s", what,
		e.lkey, e.rkey, (unsigned long long)e.len_bytes, e.pid, e.mrn, dev,
		stat->ncounters ? "has per-MR counters" : why);
	return 0;
}

/*
 * Enough MRs that each dump needs several messages, on a fresh socket: the
 * kernel sizes a socket's first dump batch at about a page (NLMSG_GOODSIZE)
 * and later ones after the receive buffer the socket has used (up to
 * 32 KiB). 512 MRs make about 30 KiB of RES_MR entries and 6 KiB of STAT_GET
 * entries.
 */
#define NL_EXTRA_MRS 512

static int check_dumps(struct odpt_tctx *t, struct rig *g)
{
	const char *dev = odpt_vctx_name(t->v);
	struct odpt_vmr *mrs[NL_EXTRA_MRS] = { 0 };
	struct odpt_nl_mrs res = { 0 }, st = { 0 };
	uint32_t pid = (uint32_t)getpid(), index;
	struct odpt_nl *nl = NULL;
	int ret = 0;

	tc_stage(t, "registering %d more ODP MRs over the responder buffer", NL_EXTRA_MRS);
	for (int n = 0; n < NL_EXTRA_MRS && !ret; n++) {
		ret = odpt_vmr_reg(t->v, g->rbuf, g->len, ODPT_MR_ODP, &mrs[n]);
		if (ret)
			ret = tc_fail(t, "registering ODP MR %d of %d over one buffer: %s", n + 1,
				      NL_EXTRA_MRS, errname(-ret));
	}
	if (ret)
		goto dereg;
	tc_stage(t, "dumping RES_MR and STAT_GET (MR) of %s", dev);
	ret = odpt_nl_open(&nl);
	if (!ret)
		ret = odpt_nl_dev_index(nl, dev, &index);
	/* Each dump on a socket of its own, so it starts with a small batch. */
	odpt_nl_close(nl);
	nl = NULL;
	if (!ret)
		ret = odpt_nl_open(&nl);
	if (!ret)
		ret = odpt_nl_res_mrs(nl, index, &res);
	if (ret) {
		ret = tc_fail(t, "netlink RES_MR dump of %s: %s", dev, errname(-ret));
		goto close_nl;
	}
	odpt_nl_close(nl);
	nl = NULL;
	ret = odpt_nl_open(&nl);
	if (!ret)
		ret = odpt_nl_stat_mrs(nl, index, &st);
	if (ret) {
		ret = tc_fail(t, "netlink STAT_GET (MR) dump of %s: %s", dev, errname(-ret));
		goto close_nl;
	}
	for (int n = 0; n < NL_EXTRA_MRS && !ret; n++) {
		const struct odpt_nl_mr *e = NULL;
		size_t i;

		for (i = 0; i < res.n && !e; i++)
			if (res.v[i].lkey == mrs[n]->lkey && res.v[i].pid == pid)
				e = &res.v[i];
		if (!e) {
			ret = tc_fail(t, "extra MR %d (lkey 0x%x) missing from the RES_MR dump of %s (%zu MRs in %u messages)",
				      n, mrs[n]->lkey, dev, res.n, res.nmsgs);
			break;
		}
		for (i = 0; i < st.n; i++)
			if (st.v[i].mrn == e->mrn)
				break;
		if (i == st.n)
			ret = tc_fail(t, "MRN %u (lkey 0x%x) missing from the STAT_GET dump of %s (%zu MRs in %u messages)",
				      e->mrn, e->lkey, dev, st.n, st.nmsgs);
	}
	if (!ret)
		tc_diag(t, "%d extra MRs: RES_MR dump %zu MRs in %u messages, STAT_GET dump %zu MRs in %u messages; all found",
			NL_EXTRA_MRS, res.n, res.nmsgs, st.n, st.nmsgs);
close_nl:
	odpt_nl_mrs_free(&st);
	odpt_nl_mrs_free(&res);
	odpt_nl_close(nl);
dereg:
	for (int n = 0; n < NL_EXTRA_MRS; n++)
		odpt_vmr_dereg(mrs[n]);
	return ret;
}

int run_odp_counters_netlink(struct odpt_tctx *t)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct odpt_nl_mr ls = { 0 }, rs = { 0 }, rs2 = { 0 };
	uint64_t before, after;
	struct rig g;
	int ret;

	ret = rig_setup(&g, t, ODPT_QP_RC, RIG_MEM_ANON, 4 * pg, ODPT_MR_ODP, ODPT_MR_ODP);
	if (!ret)
		ret = check_mr(t, g.lmr, "requester", &ls);
	if (!ret)
		ret = check_mr(t, g.rmr, "responder", &rs);
	if (!ret)
		ret = check_dumps(t, &g);
	if (ret)
		goto teardown;
	tc_iteration_done(t);
	if (!odpt_nl_mr_counter(&rs, "page_faults", &before))
		goto teardown;
	/* The driver counts: a WRITE into dropped pages must fault them in. */
	ret = rig_force_faults(&g, false, true);
	if (!ret)
		ret = rig_xfer(&g, ODPT_OP_WRITE, 0, 0, g.len, true);
	if (!ret)
		ret = check_mr(t, g.rmr, "responder", &rs2);
	if (ret)
		goto teardown;
	if (!odpt_nl_mr_counter(&rs2, "page_faults", &after) || after <= before) {
		ret = tc_fail(t, "responder MR page_faults went from %llu to %llu over a WRITE into %zu dropped pages",
			      (unsigned long long)before, (unsigned long long)after, g.len / pg);
		goto teardown;
	}
	tc_diag(t, "responder MR page_faults %llu -> %llu over a WRITE into %zu dropped pages",
		(unsigned long long)before, (unsigned long long)after, g.len / pg);
teardown:
	rig_teardown(&g);
	return ret ? ret : ODPT_PASS;
}
