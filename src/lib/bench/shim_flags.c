// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The PFN flags the mirror holds for a buffer after the CPU touched it one
 * way and the mirror faulted (or mapped) it: runs of pages with equal flags
 * and order, so a THP shows as one run with its order and a read fault of
 * untouched memory as read-only zero pages.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odpt/bench.h"
#include "odpt/log.h"
#include "bench_int.h"

/* "VALID WRITE DMA_MAPPED", or "none". */
static void flag_words(uint64_t v, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s%s",
		 v & ODPT_HMM_PFN_VALID ? "VALID " : "",
		 v & ODPT_HMM_PFN_WRITE ? "WRITE " : "",
		 v & ODPT_HMM_PFN_ERROR ? "ERROR " : "",
		 v & ODPT_HMM_PFN_DMA_MAPPED ? "DMA_MAPPED " : "",
		 v & ODPT_HMM_PFN_DMA_WRITE ? "DMA_WRITE " : "",
		 v & ODPT_HMM_PFN_P2PDMA ? "P2PDMA " : "");
	if (!out[0])
		snprintf(out, len, "none");
	else
		out[strlen(out) - 1] = '\0';
}

/* The CPU's first touch of every page; the mirror then faults for the same
 * access. The access flag for the mirror's fault. */
static uint32_t touch_buf(uint8_t *buf, size_t size, size_t page, enum odpt_bench_touch touch)
{
	volatile uint8_t sink = 0;
	size_t i;

	switch (touch) {
	case ODPT_BENCH_TOUCH_WRITE:
		memset(buf, 0x5a, size);
		return ODPT_HMM_FAULT_WRITE;
	case ODPT_BENCH_TOUCH_READ:
		for (i = 0; i < size; i += page)
			sink ^= buf[i];
		(void)sink;
		return 0;
	default:
		return 0;
	}
}

/* Runs of equal flags and order keep the listing short. */
static int add_runs(struct odpt_report *r, const uint64_t *pfns, size_t n)
{
	struct json_object *runs = json_object_new_array();
	size_t first, i;

	if (!runs)
		return -ENOMEM;
	for (first = 0, i = 1; i <= n; i++) {
		uint64_t mask = ~ODPT_HMM_PFN_PFN_MASK;
		struct json_object *o;
		char words[64];

		if (i < n && (pfns[i] & mask) == (pfns[first] & mask))
			continue;
		flag_words(pfns[first], words, sizeof(words));
		o = json_object_new_object();
		json_object_object_add(o, "first_page", json_object_new_uint64(first));
		json_object_object_add(o, "pages", json_object_new_uint64(i - first));
		json_object_object_add(o, "flags", json_object_new_string(words));
		json_object_object_add(o, "order", json_object_new_int((int)ODPT_HMM_PFN_ORDER(pfns[first])));
		json_object_array_add(runs, o);
		first = i;
	}
	return odpt_report_section(r, "pfn_runs", runs);
}

int odpt_bench_shim_flags(const struct odpt_bench_flags_cfg *cfg, struct odpt_report *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = cfg->size / page;
	struct odpt_hmm_register reg;
	struct odpt_hmm_flags fl;
	struct odpt_hmm_fault fa;
	struct odpt_hmm_map mp;
	struct odpt_shim *s = NULL;
	uint64_t *pfns;
	uint32_t access;
	uint8_t *buf;
	int ret;

	buf = bench_map_buf(cfg->size, cfg->thp ? 2u << 20 : page);
	pfns = calloc(n, sizeof(*pfns));
	if (!buf || !pfns) {
		odpt_err("out of memory");
		ret = -ENOMEM;
		goto out_free;
	}
	if (cfg->thp)
		madvise(buf, cfg->size, MADV_HUGEPAGE);
	access = touch_buf(buf, cfg->size, page, cfg->touch);
	ret = odpt_bench_shim_open(&s);
	if (ret)
		goto out_free;
	ret = odpt_shim_register(s, buf, cfg->size, cfg->mode, &reg);
	if (!ret && cfg->touch != ODPT_BENCH_TOUCH_NONE) {
		if (cfg->map)
			ret = odpt_shim_map(s, buf, cfg->size, access, &mp);
		else
			ret = odpt_shim_fault(s, buf, cfg->size, access, &fa);
	} else if (!ret && cfg->map) {
		ret = odpt_shim_map(s, buf, cfg->size, ODPT_HMM_MAP_NOFAULT, &mp);
	}
	if (!ret)
		ret = odpt_shim_flags(s, buf, cfg->size, 0, pfns, n, &fl);
	if (ret) {
		odpt_err("shim flags: %s", strerror(-ret));
		goto out_close;
	}
	ret = add_runs(r, pfns, n);
	if (!ret)
		ret = odpt_report_scalar(r, "pages", NULL, 0, (double)fl.npages);
	if (!ret)
		ret = odpt_report_scalar(r, "pages_valid", NULL, 0, (double)fl.nvalid);
	if (!ret)
		ret = odpt_report_scalar(r, "pages_write", NULL, 0, (double)fl.nwrite);
	if (!ret)
		ret = odpt_report_scalar(r, "pages_dma_mapped", NULL, 0, (double)fl.nmapped);
out_close:
	odpt_shim_close(s);
out_free:
	free(pfns);
	if (buf)
		munmap(buf, cfg->size);
	return ret;
}
