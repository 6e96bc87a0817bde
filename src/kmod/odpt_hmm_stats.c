// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counters and histograms of odpt_hmm.ko. Each mirror keeps its counters
 * (struct odpt_hmm_stats, the uAPI layout) and one latency histogram per
 * ODPT_HMM_HIST_* in the log-linear layout of uapi/odpt_hmm_hist.h, under its
 * stats_lock; GET_STATS and GET_HIST copy them out. The module-wide counters
 * (odpt_cnt) are read by GLOBAL and, for the tests' leak checks, in debugfs:
 * one read-only file per counter in /sys/kernel/debug/odpt_hmm/, created at
 * load and removed at unload.
 */
#include <linux/debugfs.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "odpt_hmm_internal.h"

struct odpt_counters odpt_cnt;

static struct dentry *odpt_debugfs_dir;

void odpt_khist_record_n(struct odpt_khist *h, u64 v, u64 n)
{
	if (!n)
		return;
	if (v < ODPT_HMM_HIST_LOWEST)
		v = ODPT_HMM_HIST_LOWEST;	/* a 0 ns reading is below resolution */
	if (v > ODPT_HMM_HIST_HIGHEST) {
		h->overflow += n;
		return;
	}
	h->counts[odpt_hmm_hist_index(v)] += n;
	if (!h->total || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->total += n;
	h->sum += v * n;
}

/* Record @n samples of @v ns in histogram @id of @m. */
void odpt_record(struct odpt_mirror *m, int id, u64 v, u64 n)
{
	spin_lock(&m->stats_lock);
	odpt_khist_record_n(&m->hist[id], v, n);
	spin_unlock(&m->stats_lock);
}

void odpt_fold_acct(struct odpt_mirror *m, const struct odpt_acct *a)
{
	spin_lock(&m->stats_lock);
	m->st.fault_calls += a->fault_calls;
	m->st.fault_pages += a->fault_pages;
	m->st.retries_busy += a->retries_busy;
	m->st.retries_seq += a->retries_seq;
	m->st.timeouts += a->timeouts;
	spin_unlock(&m->stats_lock);
}

void odpt_account_bookkeeping(struct odpt_mirror *m, ssize_t delta)
{
	m->bookkeeping += delta;
	atomic64_add(delta, &odpt_cnt.bookkeeping);
}

void odpt_account_mapped(struct odpt_mirror *m, long delta)
{
	m->mapped_pages += delta;
	atomic64_add(delta, &odpt_cnt.live_mappings);
}

/* ---- ioctls ------------------------------------------------------------- */

int odpt_ioc_get_hist(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_hist_req *h = data;
	struct odpt_khist *tmp;
	int ret = 0;

	if (h->flags || h->reserved || h->id >= ODPT_HMM_HIST_NR ||
	    h->counts_len != ODPT_HMM_HIST_COUNTS_LEN)
		return -EINVAL;
	tmp = kvmalloc_obj(*tmp, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	spin_lock(&m->stats_lock);
	memcpy(tmp, &m->hist[h->id], sizeof(*tmp));
	spin_unlock(&m->stats_lock);
	if (copy_to_user(u64_to_user_ptr(h->counts_ptr), tmp->counts,
			 sizeof(tmp->counts)))
		ret = -EFAULT;
	h->total_count = tmp->total;
	h->overflow = tmp->overflow;
	h->min_ns = tmp->min;
	h->max_ns = tmp->max;
	h->sum_ns = tmp->sum;
	kvfree(tmp);
	return ret;
}

int odpt_ioc_get_stats(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_stats *s = data;
	u32 flags = s->flags;

	if (flags & ~ODPT_HMM_STATS_RESET)
		return -EINVAL;
	mutex_lock(&m->lock);
	spin_lock(&m->stats_lock);
	*s = m->st;
	s->mapped_pages = m->mapped_pages;
	s->bookkeeping_bytes = m->bookkeeping;
	if (flags & ODPT_HMM_STATS_RESET) {
		u64 setup = m->st.setup_ns;

		memset(&m->st, 0, sizeof(m->st));
		m->st.setup_ns = setup;
		memset(m->hist, 0, sizeof(*m->hist) * ODPT_HMM_HIST_NR);
	}
	spin_unlock(&m->stats_lock);
	/* REGISTER sets these under reg_lock, not this lock: read them only
	 * once it has published them (release/acquire on registered).
	 */
	if (odpt_mirror_registered(m)) {
		s->mode = m->mode;
		s->npages = m->npages;
		s->dma_use_iova = dma_use_iova(&m->map.state);
		s->bookkeeping_bytes_per_page_x1000 =
			div64_u64(m->bookkeeping * 1000ULL, m->npages);
	} else {
		s->mode = 0;
		s->npages = 0;
		s->dma_use_iova = 0;
		s->bookkeeping_bytes_per_page_x1000 = 0;
	}
	mutex_unlock(&m->lock);
	s->size = sizeof(*s);
	s->flags = flags;
	return 0;
}

/* Module-wide: @m is the caller's file, unused. */
int odpt_ioc_global(struct odpt_mirror *m, void *data)
{
	struct odpt_hmm_global *g = data;

	if (g->flags)
		return -EINVAL;
	g->mirrors = atomic64_read(&odpt_cnt.mirrors);
	g->registered = atomic64_read(&odpt_cnt.registered);
	g->live_mappings = atomic64_read(&odpt_cnt.live_mappings);
	g->mapped_bytes = g->live_mappings * PAGE_SIZE;
	g->iova_reserved_bytes = atomic64_read(&odpt_cnt.iova_reserved);
	g->sg_tables_live = atomic64_read(&odpt_cnt.sg_tables);
	g->bookkeeping_bytes = atomic64_read(&odpt_cnt.bookkeeping);
	g->edu_transfers = atomic64_read(&odpt_edu_transfers);
	return 0;
}

/* ---- debugfs: /sys/kernel/debug/odpt_hmm/<counter> ---------------------- */

static int odpt_atomic64_get(void *data, u64 *val)
{
	*val = atomic64_read(data);
	return 0;
}

/* Signed, as the module parameters these files replace printed them. */
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(odpt_atomic64_fops, odpt_atomic64_get, NULL,
				"%lld\n");

/*
 * The files, read-only. The first five mirror GLOBAL (leak checks: all 0,
 * mirrors the number of open files, once files are closed);
 * stale_mapped_entries and release_leaked_pages count module bugs and must
 * stay 0; the rest count events (informational).
 */
static const struct {
	const char *name;
	atomic64_t *counter;
} odpt_debugfs_counters[] = {
	{ "live_mappings", &odpt_cnt.live_mappings },
	{ "iova_reserved_bytes", &odpt_cnt.iova_reserved },
	{ "mirrors", &odpt_cnt.mirrors },
	{ "sg_tables_live", &odpt_cnt.sg_tables },
	{ "bookkeeping_bytes", &odpt_cnt.bookkeeping },
	{ "stale_mapped_entries", &odpt_cnt.stale_mapped },
	{ "release_leaked_pages", &odpt_cnt.release_leaked },
	{ "dma_write_upgrades", &odpt_cnt.dma_write_upgrades },
	{ "sg_readonly_tables", &odpt_cnt.sg_readonly_tables },
	{ "dirtied_pages", &odpt_cnt.dirtied_pages },
	{ "edu_dma_timeouts", &odpt_edu_timeouts },
};

/* debugfs is for debugging: its failures are not checked (a missing file
 * fails the test that reads it, not the module).
 */
void odpt_stats_debugfs_init(void)
{
	unsigned int i;

	odpt_debugfs_dir = debugfs_create_dir("odpt_hmm", NULL);
	for (i = 0; i < ARRAY_SIZE(odpt_debugfs_counters); i++)
		debugfs_create_file_unsafe(odpt_debugfs_counters[i].name, 0444,
					   odpt_debugfs_dir,
					   odpt_debugfs_counters[i].counter,
					   &odpt_atomic64_fops);
}

void odpt_stats_debugfs_exit(void)
{
	debugfs_remove_recursive(odpt_debugfs_dir);
	odpt_debugfs_dir = NULL;
}
