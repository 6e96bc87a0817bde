// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The case odp_counters_netlink: a rig's two ODP MRs found over RDMA
 * netlink field by field, multi-message RES_MR and STAT_GET dumps that miss
 * none of 512 extra MRs, and the responder MR's page_faults counter rising
 * over a WRITE into dropped pages. Uses the rig and the lookup in
 * odpstat.c (which sits below the rig).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "odpt/rdmanl.h"
#include "odpt/suite.h"
#include "odpt/verbs.h"
#include "cases.h"
#include "odpstat.h"
#include "rig.h"

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
	ret = odpstat_lookup(dev, odpt_vctx_caps(v)->driver, mr, stat, &e, &found, why,
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
				      NL_EXTRA_MRS, odpstat_errname(-ret));
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
		ret = tc_fail(t, "netlink RES_MR dump of %s: %s", dev, odpstat_errname(-ret));
		goto close_nl;
	}
	odpt_nl_close(nl);
	nl = NULL;
	ret = odpt_nl_open(&nl);
	if (!ret)
		ret = odpt_nl_stat_mrs(nl, index, &st);
	if (ret) {
		ret = tc_fail(t, "netlink STAT_GET (MR) dump of %s: %s", dev, odpstat_errname(-ret));
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
