// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * odpt_merge_files() (include/odpt/merge.h): many odpt JSON results into
 * one. Each input's series come back through odpt_result_parse() as the
 * very histograms that were written; series of one name and labels are
 * added counter by counter (odpt_hist_merge() of one layout: a plain sum,
 * so percentiles of the merge are those of all samples together). The
 * rest of the document (command, meta, config, scalars, tests) is read
 * from the same JSON with json-c. Every refusal names the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "odpt/compare.h"
#include "odpt/merge.h"
#include "analysis_int.h"

struct input {
	const char *path;
	struct json_object *root;
	struct odpt_result *res;     /* its series; none for a tests-only result */
	const char *command;         /* "" when the file names none */
	const char *host;            /* meta.host, or NULL */
};

/* One series of the merge: the first input's, and the running sum. */
struct mseries {
	const struct odpt_result_series *s;
	const char *path;            /* the input s comes from */
	struct odpt_hist *sum;
	bool carried;                /* has an input label: an earlier merge's */
};

struct merge {
	struct input *in;
	int n;
	struct mseries *ser;
	int nser;
	char *err;
	size_t errlen;
};

static int fail(struct merge *m, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct merge *m, int ret, const char *fmt, ...)
{
	va_list ap;

	if (m->err && m->errlen) {
		va_start(ap, fmt);
		vsnprintf(m->err, m->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *x = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &x))
		return NULL;
	return x;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *x = get(o, key);

	return x && json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
}

static bool has_label(const struct odpt_result_series *s, const char *key)
{
	int i;

	for (i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].key, key))
			return true;
	return false;
}

static bool same_key(const struct odpt_result_series *a, const struct odpt_result_series *b)
{
	int i;

	if (strcmp(a->name, b->name) || a->nlabels != b->nlabels)
		return false;
	for (i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].key, b->labels[i].key) ||
		    strcmp(a->labels[i].value, b->labels[i].value))
			return false;
	return true;
}

/* ---- Reading ------------------------------------------------------------ */

static int read_input(struct merge *m, struct input *in)
{
	char *text = NULL, sub[512];
	struct json_object *series;
	int ret;

	ret = odpt_analysis_slurp(in->path, &text);
	if (ret == -EINVAL)
		return fail(m, ret, "%s: not an odpt JSON result (binary data)", in->path);
	if (ret)
		return fail(m, ret, "cannot read %s: %s", in->path, strerror(-ret));
	ret = odpt_result_parse(text, &in->res, sub, sizeof(sub));
	in->root = json_tokener_parse(text);
	free(text);
	series = get(in->root, "series");
	if (ret == -ENODATA && series && json_object_is_type(series, json_type_array) &&
	    !json_object_array_length(series)) {
		/* a result with tests only (suite run): nothing to rebuild */
		in->res = calloc(1, sizeof(*in->res));
		ret = in->res ? 0 : -ENOMEM;
	}
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return fail(m, ret, "%s: %s", in->path, sub);
	in->command = get_str(in->root, "command");
	if (!in->command)
		in->command = "";
	in->host = get_str(get(in->root, "meta"), "host");
	return 0;
}

/* Add in's series to the merge; a layout that differs is refused. */
static int add_series(struct merge *m, const struct input *in)
{
	const struct odpt_hist *h, *g;
	struct mseries *ms;
	int i, j, ret;

	for (i = 0; i < in->res->nseries; i++) {
		const struct odpt_result_series *s = &in->res->series[i];

		h = s->h;
		for (j = 0; j < m->nser && !same_key(m->ser[j].s, s); j++)
			;
		if (j < m->nser) {
			g = m->ser[j].sum;
			if (g->lowest != h->lowest || g->highest != h->highest ||
			    g->sig_figs != h->sig_figs) {
				char key[512];

				odpt_result_series_key(s, key, sizeof(key));
				return fail(m, -EINVAL,
					    "%s: series %s has the layout %llu..%llu ns at %d significant figures, %s %llu..%llu ns at %d; a merge needs one layout (record both with the same histogram)",
					    in->path, key, (unsigned long long)h->lowest,
					    (unsigned long long)h->highest, h->sig_figs, m->ser[j].path,
					    (unsigned long long)g->lowest,
					    (unsigned long long)g->highest, g->sig_figs);
			}
			ret = odpt_hist_merge(m->ser[j].sum, h, NULL);
			if (ret)
				return ret;
			continue;
		}
		ms = realloc(m->ser, (size_t)(m->nser + 1) * sizeof(*ms));
		if (!ms)
			return -ENOMEM;
		m->ser = ms;
		ms = &m->ser[m->nser];
		*ms = (struct mseries){ .s = s, .path = in->path,
					.carried = has_label(s, ODPT_MERGE_INPUT_LABEL) };
		ret = odpt_hist_dup(h, &ms->sum);
		if (ret)
			return ret;
		m->nser++;
	}
	return 0;
}

/* ---- Writing ------------------------------------------------------------ */

/* labels + input=PATH (+ host=HOST) in buf (room for n + 2). */
static int with_input(const struct odpt_label *labels, int n, const struct input *in,
		      struct odpt_label *buf)
{
	memmove(buf, labels, (size_t)n * sizeof(*buf));
	buf[n++] = (struct odpt_label){ ODPT_MERGE_INPUT_LABEL, in->path };
	if (in->host)
		buf[n++] = (struct odpt_label){ "host", in->host };
	return n;
}

static int put_series(struct merge *m, struct odpt_report *r)
{
	struct odpt_label *buf;
	int i, k, j, n, ret = 0;

	for (i = 0; i < m->nser && !ret; i++) {
		const struct mseries *ms = &m->ser[i];

		ret = odpt_report_hist(r, ms->s->name, ms->s->labels, ms->s->nlabels, ms->sum);
		if (ret || ms->carried)
			continue;
		buf = calloc((size_t)ms->s->nlabels + 2, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
		for (k = 0; k < m->n && !ret; k++) {
			const struct odpt_result *res = m->in[k].res;

			for (j = 0; j < res->nseries && !same_key(&res->series[j], ms->s); j++)
				;
			if (j == res->nseries)
				continue;
			n = with_input(ms->s->labels, ms->s->nlabels, &m->in[k], buf);
			ret = odpt_report_hist(r, ms->s->name, buf, n, res->series[j].h);
		}
		free(buf);
	}
	return ret;
}

/* Scalars cannot be merged: each input's, labelled with the input. */
static int put_scalars(struct merge *m, struct odpt_report *r)
{
	struct odpt_label buf[34];
	int k, ret = 0;

	for (k = 0; k < m->n && !ret; k++) {
		struct json_object *arr = get(m->in[k].root, "scalars");
		size_t i;

		if (!arr || !json_object_is_type(arr, json_type_array))
			continue;
		for (i = 0; i < json_object_array_length(arr) && !ret; i++) {
			struct json_object *so = json_object_array_get_idx(arr, i);
			struct json_object *lo = get(so, "labels"), *v = get(so, "value");
			const char *name = get_str(so, "name");
			bool carried = false;
			int n = 0;

			if (!name || !v)
				continue;
			if (lo && json_object_is_type(lo, json_type_object)) {
				json_object_object_foreach(lo, key, val) {
					if (n >= 32 || !json_object_is_type(val, json_type_string))
						continue;
					buf[n++] = (struct odpt_label){ key, json_object_get_string(val) };
					carried |= !strcmp(key, ODPT_MERGE_INPUT_LABEL);
				}
			}
			if (!carried)
				n = with_input(buf, n, &m->in[k], buf);
			ret = odpt_report_scalar(r, name, buf, n, json_object_get_double(v));
		}
	}
	return ret;
}

static const char *const result_names[] = {
	[ODPT_PASS] = "pass", [ODPT_FAIL] = "fail", [ODPT_SKIP] = "skip",
	[ODPT_XFAIL] = "xfail", [ODPT_XPASS] = "xpass",
};

/* The test named name in one input: its JSON, or NULL. */
static struct json_object *find_test(const struct input *in, const char *name)
{
	struct json_object *arr = get(in->root, "tests");
	size_t i;

	for (i = 0; arr && json_object_is_type(arr, json_type_array) &&
		    i < json_object_array_length(arr); i++) {
		const char *t = get_str(json_object_array_get_idx(arr, i), "name");

		if (t && !strcmp(t, name))
			return json_object_array_get_idx(arr, i);
	}
	return NULL;
}

static int parse_outcome(const char *s)
{
	int i;

	for (i = ODPT_PASS; s && i <= ODPT_XPASS; i++)
		if (!strcmp(s, result_names[i]))
			return i;
	return -1;
}

/* Text appended to a growing buffer; false when out of memory. */
static bool append(char **buf, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *nb;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	nb = realloc(*buf, *len + (size_t)n + 1);
	if (!nb)
		return false;
	*buf = nb;
	va_start(ap, fmt);
	vsnprintf(nb + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
	return true;
}

/* One merged test: the worst outcome; reason and diag per input. */
static int put_test(struct merge *m, struct odpt_report *r, const char *name)
{
	/* worst first: fail, xpass, xfail, pass, skip */
	static const int order[] = { ODPT_FAIL, ODPT_XPASS, ODPT_XFAIL, ODPT_PASS, ODPT_SKIP };
	struct odpt_test_record t = { .name = name };
	char *reason = NULL, *diag = NULL;
	size_t rlen = 0, dlen = 0;
	int counts[ODPT_XPASS + 1] = { 0 }, k, o, worst = -1, present = 0, ret;
	bool ok = true;

	for (k = 0; k < m->n; k++) {
		struct json_object *tj = find_test(&m->in[k], name);
		const char *why = tj ? get_str(tj, "reason") : NULL;

		o = tj ? parse_outcome(get_str(tj, "result")) : -1;
		if (o >= 0) {
			counts[o]++;
			present++;
		}
		ok &= append(&diag, &dlen, "%s%s: %s%s%s", k ? "\n" : "", m->in[k].path,
			     o >= 0 ? result_names[o] : "absent", why ? ": " : "", why ? why : "");
	}
	for (k = 0; k < 5 && worst < 0; k++)
		if (counts[order[k]])
			worst = order[k];
	if (worst < 0)
		worst = ODPT_SKIP;   /* unreachable: the name came from an input */
	if (worst != ODPT_PASS) {
		/* the first input with that outcome, and how many share it */
		for (k = 0; k < m->n; k++) {
			struct json_object *tj = find_test(&m->in[k], name);
			const char *why;

			if (!tj || parse_outcome(get_str(tj, "result")) != worst)
				continue;
			why = get_str(tj, "reason");
			ok &= append(&reason, &rlen, "%s on %d of %d inputs (%s%s%s)",
				     result_names[worst], counts[worst], present, m->in[k].path,
				     why ? ": " : "", why ? why : "");
			break;
		}
	}
	t.result = (enum odpt_test_result)worst;
	t.reason = reason;
	t.diag = diag;
	ret = ok ? odpt_report_test(r, &t) : -ENOMEM;
	free(reason);
	free(diag);
	return ret;
}

static int put_tests(struct merge *m, struct odpt_report *r, int *ntests)
{
	int k, ret = 0;

	*ntests = 0;
	for (k = 0; k < m->n && !ret; k++) {
		struct json_object *arr = get(m->in[k].root, "tests");
		size_t i;
		int j;

		for (i = 0; arr && json_object_is_type(arr, json_type_array) &&
			    i < json_object_array_length(arr) && !ret; i++) {
			const char *name = get_str(json_object_array_get_idx(arr, i), "name");

			if (!name)
				continue;
			for (j = 0; j < k && !find_test(&m->in[j], name); j++)
				;
			if (j < k)
				continue;   /* merged with an earlier input's */
			ret = put_test(m, r, name);
			++*ntests;
		}
	}
	return ret;
}

/* Whether key is one of the names in the list "a,b,c" (NULL: empty). */
static bool in_list(const char *list, const char *key)
{
	size_t len = strlen(key);
	const char *p;

	for (p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, key, len) && (p[len] == ',' || !p[len]))
			return true;
	return false;
}

/* Keys of meta or config with one value in every input are kept; the
 * names of the others go into meta varies_key as "a,b". */
static int put_common(struct merge *m, struct odpt_report *r, const char *section,
		      const char *varies_key)
{
	struct json_object *first = get(m->in[0].root, section);
	char *varies = NULL;
	size_t vlen = 0;
	bool ok = true;
	int k, ret = 0;

	if (!first || !json_object_is_type(first, json_type_object))
		return 0;
	json_object_object_foreach(first, key, val) {
		const char *s = json_object_to_json_string(val);
		bool same = true;

		for (k = 1; k < m->n && same; k++) {
			struct json_object *other = get(get(m->in[k].root, section), key);

			same = other && !strcmp(json_object_to_json_string(other), s);
		}
		if (!same) {
			ok &= append(&varies, &vlen, "%s%s", vlen ? "," : "", key);
			continue;
		}
		if (!strcmp(section, "meta"))
			ret |= json_object_is_type(val, json_type_int) ?
			       odpt_report_meta_int(r, key, json_object_get_int64(val)) :
			       odpt_report_meta(r, key, json_object_get_string(val));
		else if (json_object_is_type(val, json_type_boolean))
			ret |= odpt_report_config_bool(r, key, json_object_get_boolean(val));
		else if (json_object_is_type(val, json_type_int) && json_object_get_int64(val) >= 0)
			ret |= odpt_report_config_u64(r, key, json_object_get_uint64(val));
		else
			ret |= odpt_report_config_str(r, key, json_object_get_string(val));
	}
	/* keys the first input lacks vary too */
	for (k = 1; k < m->n; k++) {
		struct json_object *o = get(m->in[k].root, section);

		if (!o || !json_object_is_type(o, json_type_object))
			continue;
		json_object_object_foreach(o, key2, val2) {
			(void)val2;
			if (!get(first, key2) && !in_list(varies, key2))
				ok &= append(&varies, &vlen, "%s%s", vlen ? "," : "", key2);
		}
	}
	if (varies)
		ret |= odpt_report_meta(r, varies_key, varies);
	free(varies);
	return !ok || ret ? -ENOMEM : 0;
}

/* Which input is which: file, host, command, counts (a section). */
static int put_inputs(struct merge *m, struct odpt_report *r)
{
	struct json_object *arr = json_object_new_array();
	int k;

	if (!arr)
		return -ENOMEM;
	for (k = 0; k < m->n; k++) {
		struct json_object *o = json_object_new_object(), *t = get(m->in[k].root, "tests");

		if (!o) {
			json_object_put(arr);
			return -ENOMEM;
		}
		json_object_object_add(o, "file", json_object_new_string(m->in[k].path));
		if (m->in[k].host)
			json_object_object_add(o, "host", json_object_new_string(m->in[k].host));
		json_object_object_add(o, "series", json_object_new_int(m->in[k].res->nseries));
		json_object_object_add(o, "tests", json_object_new_int(
			t && json_object_is_type(t, json_type_array) ?
			(int)json_object_array_length(t) : 0));
		json_object_array_add(arr, o);
	}
	return odpt_report_section(r, "inputs", arr);
}

static int build(struct merge *m, struct odpt_report **out)
{
	struct odpt_report *r = NULL;
	char text[160];
	int ret, ntests = 0, merged = 0, i;

	ret = odpt_report_create(m->in[0].command[0] ? m->in[0].command : "merge", &r);
	if (ret)
		return ret;
	ret = odpt_report_meta_int(r, "merged_inputs", m->n);
	if (!ret)
		ret = put_common(m, r, "meta", "meta_varies");
	if (!ret)
		ret = put_common(m, r, "config", "config_varies");
	if (!ret)
		ret = put_series(m, r);
	if (!ret)
		ret = put_scalars(m, r);
	if (!ret)
		ret = put_tests(m, r, &ntests);
	if (!ret)
		ret = put_inputs(m, r);
	for (i = 0; i < m->nser; i++)
		merged += !m->ser[i].carried;
	snprintf(text, sizeof(text), "%d inputs: %d series merged bucket by bucket, %d tests by name",
		 m->n, merged, ntests);
	if (!ret)
		ret = odpt_report_summary(r, "merged", text);
	if (ret) {
		odpt_report_destroy(r);
		return ret;
	}
	*out = r;
	return 0;
}

int odpt_merge_files(const char *const *paths, int n, struct odpt_report **out,
		     char *err, size_t errlen)
{
	struct merge m = { .n = n, .err = err, .errlen = errlen };
	int k, j, ret = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!paths || !out || n < 1)
		return fail(&m, -EINVAL, "no result to merge");
	m.in = calloc((size_t)n, sizeof(*m.in));
	if (!m.in)
		return -ENOMEM;
	for (k = 0; k < n && !ret; k++) {
		m.in[k].path = paths[k];
		for (j = 0; j < k; j++)
			if (!strcmp(paths[j], paths[k]))
				ret = fail(&m, -EINVAL, "%s is given twice", paths[k]);
		if (!ret)
			ret = read_input(&m, &m.in[k]);
		if (!ret && strcmp(m.in[k].command, m.in[0].command))
			ret = fail(&m, -EINVAL,
				   "%s: a result of '%s', %s one of '%s'; only results of one command merge",
				   paths[k], m.in[k].command, paths[0], m.in[0].command);
		if (!ret)
			ret = add_series(&m, &m.in[k]);
	}
	if (!ret)
		ret = build(&m, out);
	for (k = 0; k < m.nser; k++)
		odpt_hist_destroy(m.ser[k].sum);
	free(m.ser);
	for (k = 0; k < n; k++) {
		odpt_result_destroy(m.in[k].res);
		json_object_put(m.in[k].root);
	}
	free(m.in);
	return ret;
}
