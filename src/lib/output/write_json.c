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

/* Counters summed over the test's ODP MRs, flat by the driver's names
 * ("page_faults": N), or available false and the reason. */
static struct json_object *odp_obj(const struct odpt_odp_counters *c)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "available", json_object_new_boolean(c->mrs_counted > 0));
	json_object_object_add(o, "mrs", new_u64(c->mrs));
	json_object_object_add(o, "mrs_found", new_u64(c->mrs_found));
	json_object_object_add(o, "mrs_counted", new_u64(c->mrs_counted));
	for (int i = 0; i < c->ncounters && i < ODPT_ODP_MAX_COUNTERS; i++)
		json_object_object_add(o, c->c[i].name, new_u64(c->c[i].value));
	if (!c->mrs)
		json_object_object_add(o, "reason",
				       json_object_new_string("the test registered no ODP MR"));
	else if (c->reason[0])
		json_object_object_add(o, "reason", json_object_new_string(c->reason));
	return o;
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
	if (t->odp)
		json_object_object_add(o, "odp_counters", odp_obj(t->odp));
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
	for (i = 0; i < r->nmeta; i++) {
		const struct odpt_rkv *kv = &r->meta[i];

		if (!odpt_meta_visible(r, kv))
			continue;
		/* A number keeps the exact text it was given. */
		json_object_object_add(o, kv->key, kv->is_number ?
				       json_object_new_double_s(strtod(kv->value, NULL), kv->value) :
				       json_object_new_string(kv->value));
	}

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
	if (r->summary_result) {
		o = json_object_new_object();
		CHECK(o);
		json_object_object_add(root, "summary", o);
		json_object_object_add(o, "result", json_object_new_string(r->summary_result));
		json_object_object_add(o, "text", json_object_new_string(r->summary_text));
	}
	return root;
fail:
	json_object_put(root);
	return NULL;
}

/*
 * Pretty printer over the json-c tree: two-space indent, "key": value,
 * empty containers as {} and [], small flat objects on one line. json-c's own pretty printer changed its
 * layout of empty containers between releases (0.16 vs 0.18), and our
 * output must not depend on the library version. Scalars (and string
 * escaping) still come from json-c.
 */
/* An object of at most four scalar members (percentile points, buckets). */
static bool small_flat(struct json_object *o)
{
	if (json_object_object_length(o) > 4)
		return false;
	json_object_object_foreach(o, key, val) {
		(void)key;
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			return false;
	}
	return true;
}

static void emit(struct json_object *o, int depth, FILE *f)
{
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	bool first = true;

	switch (json_object_get_type(o)) {
	case json_type_object:
		if (!json_object_object_length(o)) {
			fputs("{}", f);
			return;
		}
		if (small_flat(o)) {
			/* {"p": 99.9, "ns": 1234} on one line */
			fputc('{', f);
			json_object_object_foreach(o, skey, sval) {
				struct json_object *k = json_object_new_string(skey);

				fprintf(f, "%s%s: ", first ? "" : ", ",
					json_object_to_json_string_ext(k, flags));
				json_object_put(k);
				emit(sval, depth + 1, f);
				first = false;
			}
			fputc('}', f);
			return;
		}
		fputs("{\n", f);
		json_object_object_foreach(o, key, val) {
			struct json_object *k = json_object_new_string(key);

			fprintf(f, "%s%*s%s: ", first ? "" : ",\n", 2 * (depth + 1), "",
				json_object_to_json_string_ext(k, flags));
			json_object_put(k);
			emit(val, depth + 1, f);
			first = false;
		}
		fprintf(f, "\n%*s}", 2 * depth, "");
		return;
	case json_type_array: {
		size_t i, n = json_object_array_length(o);

		if (!n) {
			fputs("[]", f);
			return;
		}
		fputs("[\n", f);
		for (i = 0; i < n; i++) {
			fprintf(f, "%s%*s", i ? ",\n" : "", 2 * (depth + 1), "");
			emit(json_object_array_get_idx(o, i), depth + 1, f);
		}
		fprintf(f, "\n%*s]", 2 * depth, "");
		return;
	}
	case json_type_null:
		fputs("null", f);
		return;
	default:
		fputs(json_object_to_json_string_ext(o, flags), f);
		return;
	}
}

int odpt_write_json(const struct odpt_report *r, const struct odpt_write_opts *o,
		    FILE *f)
{
	struct json_object *root = build(r, o);

	if (!root)
		return -ENOMEM;
	emit(root, 0, f);
	fputc('\n', f);
	json_object_put(root);
	return 0;
}
