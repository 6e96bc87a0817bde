// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The result document (include/odpt/report.h): producers add metadata,
 * configuration, histograms, scalars, test results and structured sections;
 * this file stores copies of them, dispatches to the per-format writers and
 * hands result files to write_file.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "report_int.h"

const double odpt_report_percentiles[] = { 50, 90, 99, 99.9, 99.99 };
const int odpt_report_npercentiles =
	sizeof(odpt_report_percentiles) / sizeof(odpt_report_percentiles[0]);

/* Grow an array by one zeroed element; the new element's index or -ENOMEM. */
static int grow(void **arr, int *n, size_t elem)
{
	void *p = realloc(*arr, (size_t)(*n + 1) * elem);

	if (!p)
		return -ENOMEM;
	memset((char *)p + (size_t)*n * elem, 0, elem);
	*arr = p;
	return (*n)++;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

int odpt_report_create(const char *command, struct odpt_report **out)
{
	struct odpt_report *r;

	if (!command || !out)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->command = strdup(command);
	if (!r->command) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

/* Free a string the public structs hold as const (the report owns it). */
static void free_const(const char *p)
{
	union { const char *c; char *m; } u = { .c = p };

	free(u.m);
}

static void free_labels(struct odpt_rlabels *l)
{
	int i;

	for (i = 0; i < l->n; i++) {
		free_const(l->v[i].key);
		free_const(l->v[i].value);
	}
	free(l->v);
}

static void free_test(struct odpt_test_record *t)
{
	union { const struct odpt_odp_counters *c; void *m; } odp = { .c = t->odp };

	free_const(t->name);
	free_const(t->reason);
	free_const(t->stage);
	free_const(t->diag);
	free(odp.m);
}

void odpt_report_destroy(struct odpt_report *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->nmeta; i++) {
		free(r->meta[i].key);
		free(r->meta[i].value);
	}
	for (i = 0; i < r->ncfg; i++) {
		free(r->cfg[i].key);
		free(r->cfg[i].s);
	}
	for (i = 0; i < r->nseries; i++) {
		free(r->series[i].name);
		free_labels(&r->series[i].labels);
		odpt_hist_destroy(r->series[i].h);
	}
	for (i = 0; i < r->nscalars; i++) {
		free(r->scalars[i].name);
		free_labels(&r->scalars[i].labels);
	}
	for (i = 0; i < r->ntests; i++)
		free_test(&r->tests[i]);
	for (i = 0; i < r->nsections; i++) {
		free(r->sections[i].key);
		json_object_put(r->sections[i].obj);
	}
	free(r->meta);
	free(r->cfg);
	free(r->series);
	free(r->scalars);
	free(r->tests);
	free(r->sections);
	free(r->summary_result);
	free(r->summary_text);
	free(r->command);
	free(r);
}

void odpt_report_set_stable(struct odpt_report *r, bool stable)
{
	r->stable = stable;
}

static int add_meta(struct odpt_report *r, const char *key, const char *value,
		    bool is_volatile, bool is_number)
{
	bool failed = false;
	int i;

	if (!r || !key || !value)
		return -EINVAL;
	/* A repeated key replaces the earlier value. */
	for (i = 0; i < r->nmeta; i++) {
		if (!strcmp(r->meta[i].key, key)) {
			char *v = strdup(value);

			if (!v)
				return -ENOMEM;
			free(r->meta[i].value);
			r->meta[i].value = v;
			r->meta[i].is_volatile = is_volatile;
			r->meta[i].is_number = is_number;
			return 0;
		}
	}
	i = grow((void **)&r->meta, &r->nmeta, sizeof(r->meta[0]));
	if (i < 0)
		return i;
	r->meta[i].key = dup_or_null(key, &failed);
	r->meta[i].value = dup_or_null(value, &failed);
	r->meta[i].is_volatile = is_volatile;
	r->meta[i].is_number = is_number;
	return failed ? -ENOMEM : 0;
}

int odpt_report_meta(struct odpt_report *r, const char *key, const char *value)
{
	return add_meta(r, key, value, false, false);
}

int odpt_report_meta_volatile(struct odpt_report *r, const char *key,
			      const char *value)
{
	return add_meta(r, key, value, true, false);
}

int odpt_report_meta_int(struct odpt_report *r, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return add_meta(r, key, buf, false, true);
}

int odpt_report_meta_volatile_int(struct odpt_report *r, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return add_meta(r, key, buf, true, true);
}

int odpt_report_meta_volatile_fixed(struct odpt_report *r, const char *key,
				    double v, int decimals)
{
	char buf[64];

	/* JSON has no NaN or infinity, and the text must be a JSON number. */
	if (!isfinite(v) || decimals < 0 || decimals > 17)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return add_meta(r, key, buf, true, true);
}

bool odpt_meta_visible(const struct odpt_report *r, const struct odpt_rkv *kv)
{
	return !(r->stable && kv->is_volatile);
}

static int add_cfg(struct odpt_report *r, const char *key,
		   struct odpt_rcfg **out)
{
	bool failed = false;
	int i;

	if (!r || !key)
		return -EINVAL;
	i = grow((void **)&r->cfg, &r->ncfg, sizeof(r->cfg[0]));
	if (i < 0)
		return i;
	r->cfg[i].key = dup_or_null(key, &failed);
	*out = &r->cfg[i];
	return failed ? -ENOMEM : 0;
}

int odpt_report_config_str(struct odpt_report *r, const char *key, const char *v)
{
	struct odpt_rcfg *c;
	bool failed = false;
	int ret = add_cfg(r, key, &c);

	if (ret)
		return ret;
	c->type = ODPT_RCFG_STR;
	c->s = dup_or_null(v, &failed);
	return failed ? -ENOMEM : 0;
}

int odpt_report_config_u64(struct odpt_report *r, const char *key, uint64_t v)
{
	struct odpt_rcfg *c;
	int ret = add_cfg(r, key, &c);

	if (ret)
		return ret;
	c->type = ODPT_RCFG_U64;
	c->u = v;
	return 0;
}

int odpt_report_config_bool(struct odpt_report *r, const char *key, bool v)
{
	struct odpt_rcfg *c;
	int ret = add_cfg(r, key, &c);

	if (ret)
		return ret;
	c->type = ODPT_RCFG_BOOL;
	c->b = v;
	return 0;
}

static int copy_labels(struct odpt_rlabels *dst, const struct odpt_label *labels,
		       int nlabels)
{
	bool failed = false;
	int i;

	if (nlabels < 0 || (nlabels && !labels))
		return -EINVAL;
	if (!nlabels)
		return 0;
	dst->v = calloc((size_t)nlabels, sizeof(dst->v[0]));
	if (!dst->v)
		return -ENOMEM;
	dst->n = nlabels;
	for (i = 0; i < nlabels; i++) {
		if (!labels[i].key || !labels[i].value)
			return -EINVAL;
		dst->v[i].key = dup_or_null(labels[i].key, &failed);
		dst->v[i].value = dup_or_null(labels[i].value, &failed);
	}
	return failed ? -ENOMEM : 0;
}

int odpt_report_hist(struct odpt_report *r, const char *name,
		     const struct odpt_label *labels, int nlabels,
		     const struct odpt_hist *h)
{
	struct odpt_rseries *s;
	int i, ret;

	if (!r || !name || !h)
		return -EINVAL;
	i = grow((void **)&r->series, &r->nseries, sizeof(r->series[0]));
	if (i < 0)
		return i;
	s = &r->series[i];
	s->name = strdup(name);
	ret = s->name ? copy_labels(&s->labels, labels, nlabels) : -ENOMEM;
	if (!ret)
		ret = odpt_hist_dup(h, &s->h);
	if (ret) {
		/* Leave no half-built series for the writers. */
		free(s->name);
		free_labels(&s->labels);
		r->nseries--;
	}
	return ret;
}

int odpt_report_scalar(struct odpt_report *r, const char *name,
		       const struct odpt_label *labels, int nlabels,
		       double value)
{
	struct odpt_rscalar *s;
	int i, ret;

	if (!r || !name || !isfinite(value))
		return -EINVAL;
	i = grow((void **)&r->scalars, &r->nscalars, sizeof(r->scalars[0]));
	if (i < 0)
		return i;
	s = &r->scalars[i];
	s->value = value;
	s->name = strdup(name);
	ret = s->name ? copy_labels(&s->labels, labels, nlabels) : -ENOMEM;
	if (ret) {
		free(s->name);
		free_labels(&s->labels);
		r->nscalars--;
	}
	return ret;
}

int odpt_report_test(struct odpt_report *r, const struct odpt_test_record *t)
{
	struct odpt_test_record *d;
	bool failed = false;
	int i;

	if (!r || !t || !t->name || t->result < ODPT_PASS || t->result > ODPT_XPASS)
		return -EINVAL;
	i = grow((void **)&r->tests, &r->ntests, sizeof(r->tests[0]));
	if (i < 0)
		return i;
	d = &r->tests[i];
	*d = *t;
	d->name = dup_or_null(t->name, &failed);
	d->reason = dup_or_null(t->reason, &failed);
	d->stage = dup_or_null(t->stage, &failed);
	d->diag = dup_or_null(t->diag, &failed);
	if (t->odp) {
		struct odpt_odp_counters *o = malloc(sizeof(*o));

		if (o)
			*o = *t->odp;
		else
			failed = true;
		d->odp = o;
	}
	return failed ? -ENOMEM : 0;
}

int odpt_report_summary(struct odpt_report *r, const char *result,
			const char *text)
{
	char *a, *b;

	if (!r || !result || !*result || !text)
		return -EINVAL;
	a = strdup(result);
	b = strdup(text);
	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	free(r->summary_result);
	free(r->summary_text);
	r->summary_result = a;
	r->summary_text = b;
	return 0;
}

int odpt_report_skip_all(struct odpt_report *r, const char *reason)
{
	int ret;

	if (!r || !reason || !*reason)
		return -EINVAL;
	ret = odpt_report_summary(r, "skipped", reason);
	if (!ret)
		r->skip_all = true;
	return ret;
}

/* Keys the JSON writer uses at the top level; a section cannot take them. */
static const char *const reserved_keys[] = {
	"schema_version", "tool", "command", "meta", "config", "series",
	"scalars", "tests", "test_counts", "summary", NULL,
};

int odpt_report_section(struct odpt_report *r, const char *key, void *json_obj)
{
	int i;

	if (!r || !key || !*key || !json_obj)
		return -EINVAL;
	for (i = 0; reserved_keys[i]; i++)
		if (!strcmp(key, reserved_keys[i]))
			return -EINVAL;
	for (i = 0; i < r->nsections; i++)
		if (!strcmp(key, r->sections[i].key))
			return -EEXIST;
	i = grow((void **)&r->sections, &r->nsections, sizeof(r->sections[0]));
	if (i < 0)
		return i;
	r->sections[i].key = strdup(key);
	if (!r->sections[i].key) {
		r->nsections--;
		return -ENOMEM;
	}
	r->sections[i].obj = json_obj;
	return 0;
}

void odpt_report_test_counts(const struct odpt_report *r,
			     struct odpt_test_counts *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < r->ntests; i++) {
		switch (r->tests[i].result) {
		case ODPT_PASS: c->pass++; break;
		case ODPT_FAIL: c->fail++; break;
		case ODPT_SKIP: c->skip++; break;
		case ODPT_XFAIL: c->xfail++; break;
		case ODPT_XPASS: c->xpass++; break;
		}
	}
}

const char *odpt_test_result_name(enum odpt_test_result r)
{
	switch (r) {
	case ODPT_PASS: return "pass";
	case ODPT_FAIL: return "fail";
	case ODPT_SKIP: return "skip";
	case ODPT_XFAIL: return "xfail";
	case ODPT_XPASS: return "xpass";
	}
	return "unknown";
}

void odpt_labels_fmt(const struct odpt_rlabels *l, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < l->n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%s", i ? "," : "",
				 l->v[i].key, l->v[i].value);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void odpt_pct_fmt(double p, char *buf, size_t len)
{
	int prec;

	/* The shortest fixed-point form that reads back as the same double. */
	if (fabs(p) < 1e15) {
		for (prec = 0; prec <= 15; prec++) {
			snprintf(buf, len, "%.*f", prec, p);
			if (strtod(buf, NULL) == p)
				return;
		}
	}
	/* Very small or large (e.g. a p-value of 1e-45): shortest exponent form. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, p);
		if (strtod(buf, NULL) == p)
			return;
	}
	snprintf(buf, len, "%.17g", p);
}

static const char *const format_names[] = {
	[ODPT_FMT_TABLE] = "table", [ODPT_FMT_JSON] = "json",
	[ODPT_FMT_CSV] = "csv",     [ODPT_FMT_HGRM] = "hgrm",
	[ODPT_FMT_TAP] = "tap",     [ODPT_FMT_JUNIT] = "junit",
};

int odpt_format_parse(const char *name, enum odpt_format *out)
{
	unsigned i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (!strcmp(name, format_names[i])) {
			*out = (enum odpt_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *odpt_format_name(enum odpt_format f)
{
	if ((unsigned)f >= sizeof(format_names) / sizeof(format_names[0]))
		return "unknown";
	return format_names[f];
}

int odpt_report_write(const struct odpt_report *r, enum odpt_format f,
		      const struct odpt_write_opts *o, FILE *out)
{
	static const struct odpt_write_opts defaults;
	int ret;

	if (!r || !out)
		return -EINVAL;
	if (!o)
		o = &defaults;
	switch (f) {
	case ODPT_FMT_TABLE: ret = odpt_write_table(r, o, out); break;
	case ODPT_FMT_JSON:  ret = odpt_write_json(r, o, out); break;
	case ODPT_FMT_CSV:   ret = odpt_write_csv(r, o, out); break;
	case ODPT_FMT_HGRM:  ret = odpt_write_hgrm(r, o, out); break;
	case ODPT_FMT_TAP:   ret = odpt_write_tap(r, o, out); break;
	case ODPT_FMT_JUNIT: ret = odpt_write_junit(r, o, out); break;
	default: return -EINVAL;
	}
	if (ret)
		return ret;
	if (fflush(out) || ferror(out))
		return -EIO;
	return 0;
}

int odpt_report_nseries(const struct odpt_report *r)
{
	return r ? r->nseries : 0;
}
