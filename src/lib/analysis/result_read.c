// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reads odpt JSON results (src/lib/output/write_json.c, schema_version 1)
 * back into histograms. Only files written with --raw-buckets can be read:
 * each series' layout (lowest_ns, highest_ns, sig_figs) recreates the same
 * odpt_hist and every raw bucket lands in its own counter, so the rebuilt
 * histogram is the one that was written, counter for counter. Every
 * bucket is checked against the layout (index range, its lowest and
 * highest value) and the bucket counts against the series' count, so a
 * file from another layout or an edited file is refused, not misread.
 * A directory (a lab results directory) is read as every odpt result under
 * it, each series labelled with its file, so two runs of the lab compare
 * series by file, name and labels.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "odpt/compare.h"
#include "analysis_int.h"

#define HOWTO "write results with: odpt --format=json --raw-buckets -o FILE OBJECT ..."

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Free a string the public structs hold as const. */
static void free_const(const char *p)
{
	union { const char *c; char *m; } u = { .c = p };

	free(u.m);
}

static void series_free(struct odpt_result_series *s)
{
	int i;

	free(s->name);
	for (i = 0; i < s->nlabels; i++) {
		free_const(s->labels[i].key);
		free_const(s->labels[i].value);
	}
	free(s->labels);
	odpt_hist_destroy(s->h);
}

void odpt_result_destroy(struct odpt_result *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->nseries; i++)
		series_free(&r->series[i]);
	free(r->series);
	free(r->command);
	free(r);
}

/* A non-negative JSON integer as uint64 (json-c keeps large ones unsigned). */
static bool get_u64(struct json_object *o, const char *key, uint64_t *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) ||
	    !json_object_is_type(x, json_type_int))
		return false;
	/* json-c returns INT64 values as such; negative ones are refused */
	if (json_object_get_int64(x) < 0)
		return false;
	*v = json_object_get_uint64(x);
	return true;
}

static int label_cmp(const void *a, const void *b)
{
	const struct odpt_label *x = a, *y = b;

	return strcmp(x->key, y->key);
}

void odpt_result_series_key(const struct odpt_result_series *s, char *buf,
			    size_t len)
{
	size_t off;
	int i;

	snprintf(buf, len, "%s", s->name);
	if (!s->nlabels)
		return;
	off = strlen(buf);
	for (i = 0; i < s->nlabels && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%c%s=%s", i ? ',' : '{',
				 s->labels[i].key, s->labels[i].value);

		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (off + 1 < len) {
		buf[off] = '}';
		buf[off + 1] = '\0';
	}
}

static int read_labels(struct json_object *so, struct odpt_result_series *s,
		       int idx, char *err, size_t errlen)
{
	struct json_object *lo;
	int n, i = 0;

	if (!json_object_object_get_ex(so, "labels", &lo) || !lo)
		return 0;
	if (!json_object_is_type(lo, json_type_object))
		return fail(err, errlen, -EINVAL, "series %d: labels is not an object", idx);
	n = json_object_object_length(lo);
	if (!n)
		return 0;
	s->labels = calloc((size_t)n, sizeof(s->labels[0]));
	if (!s->labels)
		return -ENOMEM;
	json_object_object_foreach(lo, key, val) {
		if (!json_object_is_type(val, json_type_string))
			return fail(err, errlen, -EINVAL,
				    "series %d: label '%s' is not a string", idx, key);
		s->labels[i].key = strdup(key);
		s->labels[i].value = strdup(json_object_get_string(val));
		s->nlabels = ++i;
		if (!s->labels[i - 1].key || !s->labels[i - 1].value)
			return -ENOMEM;
	}
	/* Matching is by the set of labels, not their order in the file. */
	qsort(s->labels, (size_t)s->nlabels, sizeof(s->labels[0]), label_cmp);
	return 0;
}

/*
 * Rebuild one series' histogram from its layout and raw buckets. lenient:
 * a series without buckets is no error, it keeps h = NULL.
 */
static int read_hist(struct json_object *so, struct odpt_result_series *s,
		     bool lenient, char *err, size_t errlen)
{
	struct json_object *lay, *bk, *x;
	uint64_t lowest, highest, sig, counts_len, count, overflow = 0, v;
	uint64_t total = 0, min_ns, max_ns;
	int32_t first = -1, last = -1;
	size_t i, n;
	int ret;

	if (lenient && !json_object_object_get_ex(so, "buckets", &bk))
		return 0;
	if (!json_object_object_get_ex(so, "layout", &lay) ||
	    !json_object_is_type(lay, json_type_object) ||
	    !get_u64(lay, "lowest_ns", &lowest) || !get_u64(lay, "highest_ns", &highest) ||
	    !get_u64(lay, "sig_figs", &sig) || !get_u64(lay, "counts_len", &counts_len))
		return fail(err, errlen, -EINVAL,
			    "series '%s': no layout{lowest_ns,highest_ns,sig_figs,counts_len}",
			    s->name);
	if (!json_object_object_get_ex(so, "buckets", &bk))
		return fail(err, errlen, -ENODATA,
			    "series '%s' has no raw buckets (%s)", s->name, HOWTO);
	if (!json_object_is_type(bk, json_type_array))
		return fail(err, errlen, -EINVAL, "series '%s': buckets is not an array",
			    s->name);
	if (!get_u64(so, "count", &count))
		return fail(err, errlen, -EINVAL, "series '%s': no count", s->name);
	if (json_object_object_get_ex(so, "overflow", &x) && !get_u64(so, "overflow", &overflow))
		return fail(err, errlen, -EINVAL, "series '%s': bad overflow", s->name);
	if (sig < 1 || sig > 5)
		return fail(err, errlen, -EINVAL, "series '%s': sig_figs %" PRIu64
			    " outside 1..5", s->name, sig);
	ret = odpt_hist_create(lowest, highest, (int)sig, &s->h);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return fail(err, errlen, -EINVAL,
			    "series '%s': invalid layout %" PRIu64 "..%" PRIu64 " ns at %"
			    PRIu64 " significant figures", s->name, lowest, highest, sig);
	if (counts_len != (uint64_t)s->h->counts_len)
		return fail(err, errlen, -EINVAL,
			    "series '%s': counts_len %" PRIu64 " does not match the layout (%d)",
			    s->name, counts_len, (int)s->h->counts_len);

	n = json_object_array_length(bk);
	for (i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(bk, i);
		uint64_t idx, lo, hi, c;

		if (!json_object_is_type(b, json_type_object) || !get_u64(b, "index", &idx) ||
		    !get_u64(b, "lowest_ns", &lo) || !get_u64(b, "highest_ns", &hi) ||
		    !get_u64(b, "count", &c))
			return fail(err, errlen, -EINVAL,
				    "series '%s': bucket %zu lacks index/lowest_ns/highest_ns/count",
				    s->name, i);
		if (idx >= counts_len || (int32_t)idx <= last ||
		    lo != odpt_hist_lowest_at_index(s->h, (int32_t)idx) ||
		    hi != odpt_hist_highest_at_index(s->h, (int32_t)idx))
			return fail(err, errlen, -EINVAL,
				    "series '%s': bucket %zu (index %" PRIu64 ", %" PRIu64 "..%"
				    PRIu64 " ns) does not fit the layout or is out of order",
				    s->name, i, idx, lo, hi);
		if (!c)
			continue;
		if (total + c < total)
			return fail(err, errlen, -EINVAL, "series '%s': counts overflow",
				    s->name);
		total += c;
		s->h->counts[idx] = c;
		if (first < 0)
			first = (int32_t)idx;
		last = (int32_t)idx;
	}
	if (total != count)
		return fail(err, errlen, -EINVAL,
			    "series '%s': buckets hold %" PRIu64 " samples, count says %" PRIu64,
			    s->name, total, count);
	s->h->total_count = total;
	s->h->overflow = overflow;
	if (!total)
		return 0;
	/*
	 * min_ns is the exact smallest sample, in the first bucket. max_ns is
	 * the highest value of the largest sample's counter: normally the last
	 * bucket, but a merge into a finer layout re-records a counter at its
	 * lowest value and keeps the exact max, which may lie in a higher,
	 * empty counter. A file without them keeps the counters' bounds.
	 */
	min_ns = odpt_hist_lowest_at_index(s->h, first);
	max_ns = odpt_hist_highest_at_index(s->h, last);
	if (get_u64(so, "min_ns", &v)) {
		if (v < min_ns || v > odpt_hist_highest_at_index(s->h, first))
			return fail(err, errlen, -EINVAL,
				    "series '%s': min_ns %" PRIu64 " is not in the first bucket",
				    s->name, v);
		min_ns = v;
	}
	if (get_u64(so, "max_ns", &v)) {
		if (v < odpt_hist_lowest_at_index(s->h, last) || v > s->h->highest)
			return fail(err, errlen, -EINVAL,
				    "series '%s': max_ns %" PRIu64 " is below the last bucket or"
				    " above the layout", s->name, v);
		max_ns = v;
	}
	s->h->min = min_ns;
	s->h->max = max_ns;
	return 0;
}

static bool same_series(const struct odpt_result_series *a,
			const struct odpt_result_series *b)
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

/*
 * lenient (reading a directory): a result without series is empty, not an
 * error, and a series without raw buckets keeps h = NULL. *foreign is set
 * when the document is not an odpt result at all.
 */
static int parse_tree(struct json_object *root, struct odpt_result *r, bool lenient,
		      bool *foreign, char *err, size_t errlen)
{
	struct json_object *x, *arr;
	size_t i, n;
	int ret, j;

	*foreign = false;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "schema_version", &x) ||
	    !json_object_object_get_ex(root, "tool", &x) ||
	    !json_object_is_type(x, json_type_object) ||
	    !json_object_object_get_ex(x, "name", &x) ||
	    !json_object_is_type(x, json_type_string) ||
	    strcmp(json_object_get_string(x), "odpt")) {
		*foreign = true;
		return fail(err, errlen, -EINVAL, "not an odpt JSON result (%s)", HOWTO);
	}
	json_object_object_get_ex(root, "schema_version", &x);
	if (!json_object_is_type(x, json_type_int) ||
	    json_object_get_int64(x) != ODPT_SCHEMA_VERSION)
		return fail(err, errlen, -EPROTO,
			    "schema_version %s, this odpt reads %d (%s with this odpt)",
			    json_object_to_json_string(x), ODPT_SCHEMA_VERSION, HOWTO);
	if (json_object_object_get_ex(root, "command", &x) &&
	    json_object_is_type(x, json_type_string)) {
		r->command = strdup(json_object_get_string(x));
		if (!r->command)
			return -ENOMEM;
	}
	if (!json_object_object_get_ex(root, "series", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return fail(err, errlen, -EINVAL, "no series array (%s)", HOWTO);
	n = json_object_array_length(arr);
	if (!n && lenient)
		return 0;
	if (!n)
		return fail(err, errlen, -ENODATA,
			    "no latency series to compare (the command recorded no histogram)");
	r->series = calloc(n, sizeof(r->series[0]));
	if (!r->series)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct json_object *so = json_object_array_get_idx(arr, i);
		struct odpt_result_series *s = &r->series[i];

		r->nseries = (int)i + 1;
		if (!json_object_is_type(so, json_type_object) ||
		    !json_object_object_get_ex(so, "name", &x) ||
		    !json_object_is_type(x, json_type_string))
			return fail(err, errlen, -EINVAL, "series %zu has no name", i);
		s->name = strdup(json_object_get_string(x));
		if (!s->name)
			return -ENOMEM;
		ret = read_labels(so, s, (int)i, err, errlen);
		if (!ret)
			ret = read_hist(so, s, lenient, err, errlen);
		if (ret)
			return ret;
		for (j = 0; j < (int)i; j++) {
			if (same_series(&r->series[j], s)) {
				char key[512];

				odpt_result_series_key(s, key, sizeof(key));
				return fail(err, errlen, -EINVAL,
					    "series %s appears twice; it cannot be matched", key);
			}
		}
	}
	return 0;
}

static int parse_text(const char *text, bool lenient, bool *foreign,
		      struct odpt_result **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root;
	struct odpt_result *r;
	enum json_tokener_error jerr;
	int ret;

	*foreign = false;
	if (err && errlen)
		err[0] = '\0';
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	jerr = json_tokener_get_error(tok);
	/* Trailing text after the document is not a result file either. */
	if (jerr == json_tokener_success) {
		size_t end = json_tokener_get_parse_end(tok);

		if (text[end + strspn(text + end, " \t\r\n")])
			jerr = json_tokener_error_parse_unexpected;
	}
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		*foreign = true;
		return fail(err, errlen, -EINVAL, "not JSON (%s; %s)",
			    json_tokener_error_desc(jerr == json_tokener_success ?
						    json_tokener_error_parse_eof : jerr),
			    HOWTO);
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		json_object_put(root);
		return -ENOMEM;
	}
	ret = parse_tree(root, r, lenient, foreign, err, errlen);
	json_object_put(root);
	if (ret) {
		odpt_result_destroy(r);
		return ret;
	}
	*out = r;
	return 0;
}

int odpt_result_parse(const char *text, struct odpt_result **out,
		      char *err, size_t errlen)
{
	bool foreign;

	if (!text || !out)
		return -EINVAL;
	return parse_text(text, false, &foreign, out, err, errlen);
}

/* Whole file into memory, NUL-terminated (analysis_int.h). */
int odpt_analysis_slurp(const char *path, char **out)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	FILE *f;

	if (!buf)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		int ret = -errno;

		free(buf);
		return ret;
	}
	for (;;) {
		size_t got;

		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		return -EINVAL;   /* a NUL byte: not a text file */
	}
	*out = buf;
	return 0;
}

int odpt_result_read(const char *path, struct odpt_result **out,
		     char *err, size_t errlen)
{
	char *text = NULL, sub[384];
	int ret;

	if (!path || !out)
		return -EINVAL;
	ret = odpt_analysis_slurp(path, &text);
	if (ret == -EINVAL)
		return fail(err, errlen, ret, "%s: not an odpt JSON result (binary data; %s)",
			    path, HOWTO);
	if (ret)
		return fail(err, errlen, ret, "cannot read %s: %s", path, strerror(-ret));
	ret = odpt_result_parse(text, out, sub, sizeof(sub));
	free(text);
	if (ret)
		return fail(err, errlen, ret, "%s: %s", path, sub);
	return 0;
}

/* ---- A directory of results ------------------------------------------- */

/* Deeper than any lab results directory; stops a runaway walk. */
#define DIR_MAX_DEPTH 16

struct dir_walk {
	const char *top;
	struct odpt_result *all;
	int files;          /* odpt results read */
	char *err;
	size_t errlen;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Move the series of one file's result into the directory's, labelled. */
static int take_series(struct dir_walk *w, struct odpt_result *one, const char *rel)
{
	struct odpt_result_series *all;
	int i, j, n = w->all->nseries;

	/* Nothing to move; and realloc(p, 0) may free p and return NULL. */
	if (!one->nseries)
		return 0;
	all = realloc(w->all->series, (size_t)(n + one->nseries) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	w->all->series = all;
	for (i = 0; i < one->nseries; i++) {
		struct odpt_result_series *s = &one->series[i];
		struct odpt_label *l;

		for (j = 0; j < s->nlabels; j++)
			if (!strcmp(s->labels[j].key, ODPT_RESULT_FILE_LABEL))
				return fail(w->err, w->errlen, -EINVAL,
					    "%s/%s: series '%s' already has a label '%s'; "
					    "compare this file on its own", w->top, rel, s->name,
					    ODPT_RESULT_FILE_LABEL);
		l = realloc(s->labels, (size_t)(s->nlabels + 1) * sizeof(*l));
		if (!l)
			return -ENOMEM;
		s->labels = l;
		l[s->nlabels].key = strdup(ODPT_RESULT_FILE_LABEL);
		l[s->nlabels].value = strdup(rel);
		s->nlabels++;
		if (!l[s->nlabels - 1].key || !l[s->nlabels - 1].value)
			return -ENOMEM;
		qsort(l, (size_t)s->nlabels, sizeof(*l), label_cmp);
	}
	/* the series now belong to the directory's result */
	memcpy(all + n, one->series, (size_t)one->nseries * sizeof(*all));
	w->all->nseries = n + one->nseries;
	one->nseries = 0;
	return 0;
}

static int read_one(struct dir_walk *w, const char *path, const char *rel)
{
	struct odpt_result *one = NULL;
	char *text = NULL, sub[384];
	bool foreign;
	int ret;

	ret = odpt_analysis_slurp(path, &text);
	if (ret == -EINVAL)
		return 0;   /* binary data: not a result */
	if (ret)
		return fail(w->err, w->errlen, ret, "cannot read %s: %s", path,
			    strerror(-ret));
	ret = parse_text(text, true, &foreign, &one, sub, sizeof(sub));
	free(text);
	if (ret && foreign)
		return 0;   /* other JSON the lab writes (peer.json, ...) */
	if (ret)
		return fail(w->err, w->errlen, ret, "%s: %s", path, sub);
	w->files++;
	ret = take_series(w, one, rel);
	odpt_result_destroy(one);
	return ret;
}

static int walk(struct dir_walk *w, const char *rel, int depth)
{
	char path[4096], sub[4096], child[4096];
	struct dirent **ents = NULL;
	int i, n, ret = 0;

	if (snprintf(path, sizeof(path), "%s%s%s", w->top, *rel ? "/" : "", rel) >=
	    (int)sizeof(path))
		return fail(w->err, w->errlen, -ENAMETOOLONG, "%s/%s: path too long",
			    w->top, rel);
	if (depth > DIR_MAX_DEPTH)
		return fail(w->err, w->errlen, -ELOOP, "%s: deeper than %d directories",
			    path, DIR_MAX_DEPTH);
	/* name order: the report lists series the same way on every run */
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		ret = -errno;
		return fail(w->err, w->errlen, ret, "cannot read %s: %s", path,
			    strerror(-ret));
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		struct stat st;

		if (ret || name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", name) >=
		    (int)sizeof(sub)) {
			ret = fail(w->err, w->errlen, -ENAMETOOLONG, "%s/%s: path too long",
				   path, name);
			continue;
		}
		/*
		 * Symbolic links are not followed: a results directory's
		 * "latest" link would read a run twice, a loop forever.
		 */
		if (snprintf(child, sizeof(child), "%s/%s", w->top, sub) >= (int)sizeof(child) ||
		    lstat(child, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			ret = walk(w, sub, depth + 1);
		else if (S_ISREG(st.st_mode) && ends_with(name, ".json") &&
			 strcmp(name, "summary.json"))
			ret = read_one(w, child, sub);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

int odpt_result_read_dir(const char *dir, struct odpt_result **out,
			 char *err, size_t errlen)
{
	struct dir_walk w = { .top = dir, .err = err, .errlen = errlen };
	int ret;

	if (!dir || !out)
		return -EINVAL;
	if (err && errlen)
		err[0] = '\0';
	w.all = calloc(1, sizeof(*w.all));
	if (!w.all)
		return -ENOMEM;
	ret = walk(&w, "", 0);
	if (!ret && !w.all->nseries)
		ret = fail(err, errlen, -ENODATA,
			   "%s: no latency series in any odpt JSON result under it (%d read; %s)",
			   dir, w.files, HOWTO);
	if (ret) {
		odpt_result_destroy(w.all);
		return ret;
	}
	*out = w.all;
	return 0;
}
