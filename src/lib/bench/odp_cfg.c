// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `odpt bench` configuration: scenario names, the --ops/--sizes/--side
 * lists, each scenario's defaults and limits, and the fault - warm
 * arithmetic. No device needed: the unit tests hold all of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "odpt/bench.h"
#include "odpt/opts.h"

static const char *const scen_names[ODPT_OB_NSCENARIOS] = {
	[ODPT_OB_FAULT] = "fault",       [ODPT_OB_WARM] = "warm",
	[ODPT_OB_REG] = "reg",           [ODPT_OB_REFAULT] = "refault",
	[ODPT_OB_PREFETCH] = "prefetch", [ODPT_OB_STORM] = "storm",
};

const char *odpt_ob_scenario_name(enum odpt_ob_scenario s)
{
	return (unsigned)s < ODPT_OB_NSCENARIOS ? scen_names[s] : "?";
}

int odpt_ob_scenario_parse(const char *name, enum odpt_ob_scenario *out)
{
	for (int i = 0; i < ODPT_OB_NSCENARIOS; i++)
		if (name && !strcmp(name, scen_names[i])) {
			*out = (enum odpt_ob_scenario)i;
			return 0;
		}
	return -EINVAL;
}

int odpt_ob_parse_side(const char *name, unsigned *out)
{
	static const char *const n[] = { "local", "remote", "both" };

	for (unsigned i = 0; i < 3; i++)
		if (name && !strcmp(name, n[i])) {
			*out = i + 1;
			return 0;
		}
	return -EINVAL;
}

static const char *const op_names[] = {
	[ODPT_OP_SEND] = "SEND", [ODPT_OP_WRITE] = "WRITE", [ODPT_OP_READ] = "READ",
	[ODPT_OP_CAS] = "CAS", [ODPT_OP_FAA] = "FAA", [ODPT_OP_ATOMIC_WRITE] = "ATOMIC_WRITE",
	[ODPT_OP_FLUSH] = "FLUSH",
};

const char *odpt_ob_op_name(enum odpt_vop op)
{
	return (unsigned)op <= ODPT_OP_FLUSH ? op_names[op] : "?";
}

static bool op_listed(const struct odpt_ob_cfg *c, enum odpt_vop op)
{
	for (int i = 0; i < c->nops; i++)
		if (c->ops[i] == op)
			return true;
	return false;
}

int odpt_ob_parse_ops(const char *list, struct odpt_ob_cfg *c, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *w;

	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "--ops: give a comma-separated list of SEND, WRITE, READ, CAS, FAA, ATOMIC_WRITE, FLUSH or all");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	c->nops = 0;
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int found = -1;

		if (!strcasecmp(w, "all")) {
			for (int op = 0; op <= ODPT_OP_FLUSH; op++)
				if (!op_listed(c, (enum odpt_vop)op))
					c->ops[c->nops++] = (enum odpt_vop)op;
			continue;
		}
		for (int op = 0; op <= ODPT_OP_FLUSH; op++)
			if (!strcasecmp(w, op_names[op]) ||
			    !strcasecmp(w, odpt_vop_name((enum odpt_vop)op)))
				found = op;
		if (found < 0) {
			snprintf(err, errlen, "--ops: unknown op '%s' (SEND, WRITE, READ, CAS, FAA, ATOMIC_WRITE, FLUSH, all)", w);
			return -EINVAL;
		}
		if (!op_listed(c, (enum odpt_vop)found))
			c->ops[c->nops++] = (enum odpt_vop)found;
	}
	if (!c->nops) {
		snprintf(err, errlen, "--ops: no op in '%s'", list);
		return -EINVAL;
	}
	return 0;
}

int odpt_ob_parse_sizes(const char *list, struct odpt_ob_cfg *c, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *w;

	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "--sizes: give a comma-separated list of sizes (8,64,4K,1M)");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	c->nsizes = 0;
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		int ret = odpt_parse_size(w, &v);

		if (ret) {
			snprintf(err, errlen, "--sizes: '%s' is not a size (a number with an optional K, M, G or T)", w);
			return ret;
		}
		if (c->nsizes == ODPT_OB_MAX_SIZES) {
			snprintf(err, errlen, "--sizes: more than %d sizes", ODPT_OB_MAX_SIZES);
			return -EINVAL;
		}
		c->sizes[c->nsizes++] = v;
	}
	if (!c->nsizes) {
		snprintf(err, errlen, "--sizes: no size in '%s'", list);
		return -EINVAL;
	}
	return 0;
}

static bool op_is_8_bytes(enum odpt_vop op)
{
	return op == ODPT_OP_CAS || op == ODPT_OP_FAA || op == ODPT_OP_ATOMIC_WRITE;
}

/* Each scenario's defaults: what the lab's default set runs. */
static void defaults(struct odpt_ob_cfg *c)
{
	static const uint64_t op_sizes[] = { 8, 64, 4096, 65536, 1 << 20 };
	static const uint64_t reg_sizes[] = {
		4096, 65536, 1 << 20, 16 << 20, 256 << 20, 1ULL << 30, 4ULL << 30,
		16ULL << 30, 64ULL << 30,
	};
	const uint64_t *sz = op_sizes;
	int nsz = 5;
	uint64_t iters = 1000, warmup = 20;

	switch (c->scenario) {
	case ODPT_OB_REG:
		sz = reg_sizes;
		nsz = 9;
		iters = 10;
		warmup = 1;
		break;
	case ODPT_OB_REFAULT:
		sz = op_sizes + 2;   /* one page */
		nsz = 1;
		iters = 100;
		break;
	case ODPT_OB_PREFETCH:
		sz = op_sizes + 2;
		nsz = 2;
		iters = 200;
		break;
	case ODPT_OB_STORM:
		sz = op_sizes + 3;   /* 64 KiB per thread */
		nsz = 1;
		iters = 500;
		break;
	default:
		break;
	}
	if (!c->nops) {
		c->ops[c->nops++] = ODPT_OP_WRITE;
		if (c->scenario == ODPT_OB_FAULT || c->scenario == ODPT_OB_WARM) {
			c->ops[c->nops++] = ODPT_OP_READ;
			c->ops[c->nops++] = ODPT_OP_SEND;
		}
	}
	if (!c->nsizes) {
		for (int i = 0; i < nsz; i++)
			c->sizes[i] = sz[i];
		c->nsizes = nsz;
	}
	if (!c->iters)
		c->iters = iters;
	if (c->warmup == UINT64_MAX)
		c->warmup = warmup;
	if (!c->threads)
		c->threads = 4;
	if (!c->sides)
		c->sides = ODPT_OB_SIDE_BOTH;
	if (!c->stall_ns)
		c->stall_ns = 10ULL * 1000000000ULL;
}

int odpt_ob_cfg_finish(struct odpt_ob_cfg *c, char *err, size_t errlen)
{
	const char *what = odpt_ob_scenario_name(c->scenario);
	uint64_t max = c->scenario == ODPT_OB_REG ? ODPT_OB_MAX_REG_BYTES : ODPT_OB_MAX_OP_BYTES;

	if ((unsigned)c->scenario >= ODPT_OB_NSCENARIOS) {
		snprintf(err, errlen, "unknown scenario");
		return -EINVAL;
	}
	defaults(c);
	if (c->iters > ODPT_OB_MAX_ITERS || c->warmup > ODPT_OB_MAX_ITERS) {
		snprintf(err, errlen, "--%s %" PRIu64 " is absurd (1..10^9)",
			 c->iters > ODPT_OB_MAX_ITERS ? "iters" : "warmup",
			 c->iters > ODPT_OB_MAX_ITERS ? c->iters : c->warmup);
		return -EINVAL;
	}
	if (c->threads > ODPT_OB_MAX_THREADS) {
		snprintf(err, errlen, "--threads %u is above %d", c->threads,
			 ODPT_OB_MAX_THREADS);
		return -EINVAL;
	}
	for (int i = 0; i < c->nsizes; i++) {
		if (c->sizes[i] == 0 || c->sizes[i] > max) {
			snprintf(err, errlen, "size %" PRIu64 " is outside 1..%" PRIu64 " (%s)",
				 c->sizes[i], max,
				 c->scenario == ODPT_OB_REG ? "64 GiB" : "16 MiB");
			return -ERANGE;
		}
		if (c->scenario == ODPT_OB_REG && c->sizes[i] % 4096) {
			snprintf(err, errlen, "MR size %" PRIu64 " is not a multiple of 4 KiB",
				 c->sizes[i]);
			return -EINVAL;
		}
	}
	for (int i = 0; i < c->nops; i++) {
		enum odpt_vop op = c->ops[i];

		/* Atomics move 8 bytes, whatever the list says: only 8 is timed. */
		if (op_is_8_bytes(op) && c->scenario != ODPT_OB_REG) {
			bool has8 = false;

			for (int k = 0; k < c->nsizes; k++)
				has8 |= c->sizes[k] == 8;
			if (!has8) {
				snprintf(err, errlen, "%s moves 8 bytes: add 8 to --sizes or leave %s out of --ops",
					 op_names[op], op_names[op]);
				return -EINVAL;
			}
		}
		if ((c->scenario == ODPT_OB_REFAULT || c->scenario == ODPT_OB_PREFETCH ||
		     c->scenario == ODPT_OB_STORM) &&
		    op != ODPT_OP_WRITE && op != ODPT_OP_READ) {
			snprintf(err, errlen, "%s times WRITE and READ only, not %s", what,
				 op_names[op]);
			return -EINVAL;
		}
	}
	return 0;
}

bool odpt_ob_op_size_ok(enum odpt_vop op, uint64_t size)
{
	return !op_is_8_bytes(op) || size == 8;
}

int odpt_ob_diff(const struct odpt_hist *fault, const struct odpt_hist *warm,
		 struct odpt_ob_diff *out)
{
	uint64_t fp, wp;

	if (!odpt_hist_count(fault) || !odpt_hist_count(warm))
		return -ENODATA;
	fp = odpt_hist_value_at_percentile(fault, 50);
	wp = odpt_hist_value_at_percentile(warm, 50);
	out->p50_ns = (int64_t)fp - (int64_t)wp;
	out->mean_ns = odpt_hist_mean(fault) - odpt_hist_mean(warm);
	out->p50_ratio = wp ? (double)fp / (double)wp : 0;
	return 0;
}

const char *odpt_ob_side_name(unsigned side)
{
	return side == ODPT_OB_SIDE_LOCAL ? "local" : side == ODPT_OB_SIDE_REMOTE ? "remote" : "none";
}

void odpt_ob_key_init(struct odpt_ob_key *k, enum odpt_vop op, uint64_t size, unsigned side)
{
	snprintf(k->op, sizeof(k->op), "%s", odpt_ob_op_name(op));
	snprintf(k->size, sizeof(k->size), "%" PRIu64, size);
	k->l[0] = (struct odpt_label){ "op", k->op };
	k->l[1] = (struct odpt_label){ "size_bytes", k->size };
	k->l[2] = (struct odpt_label){ "side", odpt_ob_side_name(side) };
	k->nl = side ? 3 : 2;
}

int odpt_ob_report_diff(struct odpt_report *r, enum odpt_vop op, uint64_t size, unsigned side,
			const struct odpt_hist *fault, const struct odpt_hist *warm)
{
	struct odpt_ob_diff d;
	struct odpt_ob_key k;

	if (odpt_ob_diff(fault, warm, &d))
		return 0;   /* a series failed: its test says why */
	odpt_ob_key_init(&k, op, size, side);
	if (odpt_report_scalar(r, "fault_minus_warm_p50_ns", k.l, k.nl, (double)d.p50_ns) ||
	    odpt_report_scalar(r, "fault_minus_warm_mean_ns", k.l, k.nl, d.mean_ns) ||
	    odpt_report_scalar(r, "fault_over_warm_p50", k.l, k.nl, d.p50_ratio))
		return -ENOMEM;
	return 0;
}
