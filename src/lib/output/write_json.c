// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The JSON writer (json-c): schema_version, tool name and version, command,
 * meta, the echoed config, series with percentiles as [{"p":..,"ns":..}]
 * and, on request, the raw non-empty buckets; scalars; tests with their
 * counts; each structured section under its own top-level key.
 * Floating figures are written with a fixed, short text form so output is
 * reproducible (json-c's default "%.17g" would print 99.900000000000006).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "odpt_config.h"
#include "odpt/report.h"
#include "report_int.h"

#define CHECK(x) do { if (!(x)) goto fail; } while (0)

/* Three decimals: mean and stddev in ns. */
static struct json_object *new_fixed3(double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

/* The shortest text that reads back as the same double. */
static struct json_object *new_pct(double p)
{
	char buf[32];

	odpt_pct_fmt(p, buf, sizeof(buf));
	return json_object_new_double_s(p, buf);
}

/* uint64 counts and ns as JSON integers (json-c stores them unsigned). */
static struct json_object *new_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static struct json_object *labels_obj(const struct odpt_rlabels *l)
{
	struct json_object *o = json_object_new_object();
	int i;

	if (!o)
		return NULL;
	for (i = 0; i < l->n; i++)
		json_object_object_add(o, l->v[i].key,
				       json_object_new_string(l->v[i].value));
	return o;
}

static struct json_object *series_obj(const struct odpt_rseries *s, bool raw)
{
	const struct odpt_hist *h = s->h;
	struct json_object *o = json_object_new_object(), *pcts, *layout;
	int p;

	CHECK(o);
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "labels", labels_obj(&s->labels));
	json_object_object_add(o, "count", new_u64(odpt_hist_count(h)));
	json_object_object_add(o, "overflow", new_u64(h->overflow));
	json_object_object_add(o, "min_ns", new_u64(odpt_hist_min(h)));
	json_object_object_add(o, "max_ns", new_u64(odpt_hist_max(h)));
	json_object_object_add(o, "mean_ns", new_fixed3(odpt_hist_mean(h)));
	json_object_object_add(o, "stddev_ns", new_fixed3(odpt_hist_stddev(h)));
	pcts = json_object_new_array();
	CHECK(pcts);
	json_object_object_add(o, "percentiles", pcts);
	for (p = 0; p < odpt_report_npercentiles; p++) {
		struct json_object *e = json_object_new_object();
		double pv = odpt_report_percentiles[p];

		CHECK(e);
		json_object_object_add(e, "p", new_pct(pv));
		json_object_object_add(e, "ns", new_u64(odpt_hist_value_at_percentile(h, pv)));
		json_object_array_add(pcts, e);
	}
	layout = json_object_new_object();
	CHECK(layout);
	json_object_object_add(o, "layout", layout);
	json_object_object_add(layout, "lowest_ns", new_u64(h->lowest));
	json_object_object_add(layout, "highest_ns", new_u64(h->highest));
	json_object_object_add(layout, "sig_figs", json_object_new_int(h->sig_figs));
	json_object_object_add(layout, "counts_len", json_object_new_int(h->counts_len));
	if (raw) {
		struct json_object *bk = json_object_new_array();
		struct odpt_hist_bucket b;
		int32_t idx = -1;

		CHECK(bk);
		json_object_object_add(o, "buckets", bk);
		while (odpt_hist_next_bucket(h, &idx, &b)) {
			struct json_object *e = json_object_new_object();

			CHECK(e);
			json_object_object_add(e, "index", json_object_new_int(b.index));
			json_object_object_add(e, "lowest_ns", new_u64(b.lowest));
			json_object_object_add(e, "highest_ns", new_u64(b.highest));
			json_object_object_add(e, "count", new_u64(b.count));
			json_object_array_add(bk, e);
		}
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

static struct json_object *test_obj(const struct odpt_report *r,
				    const struct odpt_test_record *t)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "result",
			       json_object_new_string(odpt_test_result_name(t->result)));
	json_object_object_add(o, "reason",
			       t->reason ? json_object_new_string(t->reason) : NULL);
	if (!r->stable)
		json_object_object_add(o, "duration_ns", new_u64(t->duration_ns));
	json_object_object_add(o, "iterations", new_u64(t->iterations));
	json_object_object_add(o, "faults_forced", new_u64(t->faults_forced));
	json_object_object_add(o, "stage",
			       t->stage ? json_object_new_string(t->stage) : NULL);
	if (t->diag)
		json_object_object_add(o, "diag", json_object_new_string(t->diag));
	return o;
}

static struct json_object *build(const struct odpt_report *r,
				 const struct odpt_write_opts *opts)
{
	struct json_object *root = json_object_new_object(), *o, *a;
	int i;

	CHECK(root);
	json_object_object_add(root, "schema_version", json_object_new_int(ODPT_SCHEMA_VERSION));
	o = json_object_new_object();
	CHECK(o);
	json_object_object_add(root, "tool", o);
	json_object_object_add(o, "name", json_object_new_string("odpt"));
	json_object_object_add(o, "version", json_object_new_string(ODPT_VERSION));
	json_object_object_add(root, "command", json_object_new_string(r->command));

	o = json_object_new_object();
	CHECK(o);
	json_object_object_add(root, "meta", o);
	for (i = 0; i < r->nmeta; i++)
		if (odpt_meta_visible(r, &r->meta[i]))
			json_object_object_add(o, r->meta[i].key,
					       json_object_new_string(r->meta[i].value));

	o = json_object_new_object();
	CHECK(o);
	json_object_object_add(root, "config", o);
	for (i = 0; i < r->ncfg; i++) {
		const struct odpt_rcfg *c = &r->cfg[i];
		struct json_object *v;

		if (c->type == ODPT_RCFG_U64)
			v = new_u64(c->u);
		else if (c->type == ODPT_RCFG_BOOL)
			v = json_object_new_boolean(c->b);
		else
			v = c->s ? json_object_new_string(c->s) : NULL;
		json_object_object_add(o, c->key, v);
	}

	/* Sections first: a listing command's payload is what users look for. */
	for (i = 0; i < r->nsections; i++)
		json_object_object_add(root, r->sections[i].key,
				       json_object_get(r->sections[i].obj));

	a = json_object_new_array();
	CHECK(a);
	json_object_object_add(root, "series", a);
	for (i = 0; i < r->nseries; i++) {
		struct json_object *s = series_obj(&r->series[i], opts->raw_buckets);

		CHECK(s);
		json_object_array_add(a, s);
	}

	a = json_object_new_array();
	CHECK(a);
	json_object_object_add(root, "scalars", a);
	for (i = 0; i < r->nscalars; i++) {
		struct json_object *s = json_object_new_object();

		CHECK(s);
		json_object_array_add(a, s);
		json_object_object_add(s, "name", json_object_new_string(r->scalars[i].name));
		json_object_object_add(s, "labels", labels_obj(&r->scalars[i].labels));
		json_object_object_add(s, "value", new_pct(r->scalars[i].value));
	}

	if (r->ntests) {
		struct odpt_test_counts tc;

		a = json_object_new_array();
		CHECK(a);
		json_object_object_add(root, "tests", a);
		for (i = 0; i < r->ntests; i++) {
			struct json_object *t = test_obj(r, &r->tests[i]);

			CHECK(t);
			json_object_array_add(a, t);
		}
		odpt_report_test_counts(r, &tc);
		o = json_object_new_object();
		CHECK(o);
		json_object_object_add(root, "test_counts", o);
		json_object_object_add(o, "pass", json_object_new_int((int)tc.pass));
		json_object_object_add(o, "fail", json_object_new_int((int)tc.fail));
		json_object_object_add(o, "xfail", json_object_new_int((int)tc.xfail));
		json_object_object_add(o, "xpass", json_object_new_int((int)tc.xpass));
		json_object_object_add(o, "skip", json_object_new_int((int)tc.skip));
	}
	return root;
fail:
	json_object_put(root);
	return NULL;
}

int odpt_write_json(const struct odpt_report *r, const struct odpt_write_opts *o,
		    FILE *f)
{
	struct json_object *root = build(r, o);
	const char *text;

	if (!root)
		return -ENOMEM;
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text) {
		json_object_put(root);
		return -ENOMEM;
	}
	fputs(text, f);
	fputc('\n', f);
	json_object_put(root);
	return 0;
}
