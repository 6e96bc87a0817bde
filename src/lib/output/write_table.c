// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The human table: metadata and configuration as key/value lines, latency
 * series as one aligned row each with auto-scaled units (ns, us, ms, s),
 * scalars, test results with a totals line, and structured sections as an
 * indented tree. Column widths come from the content.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "odpt/report.h"
#include "report_int.h"

#define CELL 256

/*
 * ns with the largest unit that keeps the number >= 1, three decimals
 * above ns (exact to the ns up to 1 ms).
 */
static void fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, ns == floor(ns) ? "%.0f ns" : "%.3f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.3f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.3f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void fmt_scalar(const char *name, double v, char *buf, size_t len)
{
	if (ends_with(name, "_ns") && v >= 0)
		fmt_ns(v, buf, len);
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.6g", v);
}

/* A grid of cells printed with aligned columns. */
struct grid {
	int ncols, nrows;
	char (*cells)[CELL];   /* nrows * ncols */
	bool *right;           /* per column: right-align */
};

static int grid_init(struct grid *g, int ncols, int nrows)
{
	g->ncols = ncols;
	g->nrows = nrows;
	g->cells = calloc((size_t)ncols * (size_t)nrows, CELL);
	g->right = calloc((size_t)ncols, sizeof(bool));
	if (!g->cells || !g->right) {
		free(g->cells);
		free(g->right);
		return -ENOMEM;
	}
	return 0;
}

static char *cell(struct grid *g, int row, int col)
{
	return g->cells[row * g->ncols + col];
}

static void grid_print(struct grid *g, FILE *f)
{
	int w[64] = { 0 };
	int r, c;

	for (r = 0; r < g->nrows; r++)
		for (c = 0; c < g->ncols && c < 64; c++) {
			int l = (int)strlen(cell(g, r, c));

			if (l > w[c])
				w[c] = l;
		}
	for (r = 0; r < g->nrows; r++) {
		char line[64 * (CELL + 2) + 4];
		size_t off = 0, n;

		off += (size_t)snprintf(line, sizeof(line), "  ");
		for (c = 0; c < g->ncols && c < 64; c++) {
			const char *s = cell(g, r, c);

			off += (size_t)snprintf(line + off, sizeof(line) - off,
						g->right[c] ? "%*s%s" : "%-*s%s", w[c], s,
						c == g->ncols - 1 ? "" : "  ");
		}
		/* no trailing blanks when the last cells are empty */
		n = strlen(line);
		while (n && line[n - 1] == ' ')
			line[--n] = '\0';
		fprintf(f, "%s\n", line);
	}
	free(g->cells);
	free(g->right);
}

static void name_with_labels(const char *name, const struct odpt_rlabels *l,
			     char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", name);
	if (!l->n)
		return;
	n = strlen(buf);
	if (n + 2 < len) {
		buf[n++] = '{';
		odpt_labels_fmt(l, buf + n, len - n - 1);
		n = strlen(buf);
		buf[n++] = '}';
		buf[n] = '\0';
	}
}

static int print_series(const struct odpt_report *r, FILE *f)
{
	struct grid g;
	int ncols = 6 + odpt_report_npercentiles, s, p, c;
	char pct[32];

	if (grid_init(&g, ncols, r->nseries + 1))
		return -ENOMEM;
	c = 0;
	snprintf(cell(&g, 0, c++), CELL, "SERIES");
	snprintf(cell(&g, 0, c++), CELL, "COUNT");
	snprintf(cell(&g, 0, c++), CELL, "MIN");
	for (p = 0; p < odpt_report_npercentiles; p++) {
		odpt_pct_fmt(odpt_report_percentiles[p], pct, sizeof(pct));
		snprintf(cell(&g, 0, c++), CELL, "P%s", pct);
	}
	snprintf(cell(&g, 0, c++), CELL, "MAX");
	snprintf(cell(&g, 0, c++), CELL, "MEAN");
	snprintf(cell(&g, 0, c++), CELL, "STDDEV");
	for (c = 1; c < ncols; c++)
		g.right[c] = true;

	for (s = 0; s < r->nseries; s++) {
		const struct odpt_hist *h = r->series[s].h;
		int row = s + 1;

		c = 0;
		name_with_labels(r->series[s].name, &r->series[s].labels,
				 cell(&g, row, c++), CELL);
		snprintf(cell(&g, row, c++), CELL, "%" PRIu64, odpt_hist_count(h));
		fmt_ns((double)odpt_hist_min(h), cell(&g, row, c++), CELL);
		for (p = 0; p < odpt_report_npercentiles; p++)
			fmt_ns((double)odpt_hist_value_at_percentile(h, odpt_report_percentiles[p]),
			       cell(&g, row, c++), CELL);
		fmt_ns((double)odpt_hist_max(h), cell(&g, row, c++), CELL);
		fmt_ns(odpt_hist_mean(h), cell(&g, row, c++), CELL);
		fmt_ns(odpt_hist_stddev(h), cell(&g, row, c++), CELL);
	}
	fputs("latency:\n", f);
	grid_print(&g, f);
	for (s = 0; s < r->nseries; s++)
		if (r->series[s].h->overflow)
			fprintf(f, "  note: %s: %" PRIu64 " samples outside the histogram's range\n",
				r->series[s].name, r->series[s].h->overflow);
	return 0;
}

static int print_scalars(const struct odpt_report *r, FILE *f)
{
	struct grid g;
	int s;

	if (grid_init(&g, 2, r->nscalars))
		return -ENOMEM;
	g.right[1] = true;
	for (s = 0; s < r->nscalars; s++) {
		name_with_labels(r->scalars[s].name, &r->scalars[s].labels,
				 cell(&g, s, 0), CELL);
		fmt_scalar(r->scalars[s].name, r->scalars[s].value, cell(&g, s, 1), CELL);
	}
	fputs("figures:\n", f);
	grid_print(&g, f);
	return 0;
}

static int print_tests(const struct odpt_report *r, FILE *f)
{
	struct odpt_test_counts tc;
	struct grid g;
	int t;

	if (grid_init(&g, 4, r->ntests))
		return -ENOMEM;
	g.right[2] = true;
	for (t = 0; t < r->ntests; t++) {
		const struct odpt_test_record *x = &r->tests[t];
		char up[8];
		int i;

		snprintf(up, sizeof(up), "%s", odpt_test_result_name(x->result));
		for (i = 0; up[i]; i++)
			up[i] = (char)(up[i] - 'a' + 'A');
		snprintf(cell(&g, t, 0), CELL, "%s", up);
		snprintf(cell(&g, t, 1), CELL, "%s", x->name);
		if (!r->stable)
			fmt_ns((double)x->duration_ns, cell(&g, t, 2), CELL);
		snprintf(cell(&g, t, 3), CELL, "%s", x->reason ? x->reason : "");
	}
	fputs("tests:\n", f);
	grid_print(&g, f);
	odpt_report_test_counts(r, &tc);
	fprintf(f, "  totals: pass %u, fail %u, xfail %u, xpass %u, skip %u\n",
		tc.pass, tc.fail, tc.xfail, tc.xpass, tc.skip);
	return 0;
}

static void print_json_tree(struct json_object *o, int depth, FILE *f);

static void print_json_value(struct json_object *v, int depth, FILE *f)
{
	switch (json_object_get_type(v)) {
	case json_type_object:
	case json_type_array:
		fputc('\n', f);
		print_json_tree(v, depth + 1, f);
		break;
	case json_type_null:
		fputs(" -\n", f);
		break;
	default:
		fprintf(f, " %s\n", json_object_get_string(v));
	}
}

static void print_json_tree(struct json_object *o, int depth, FILE *f)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			fprintf(f, "%*s%s:", 2 * depth, "", key);
			print_json_value(val, depth, f);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t i, n = json_object_array_length(o);

		if (!n)
			fprintf(f, "%*s(none)\n", 2 * depth, "");
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			fprintf(f, "%*s[%zu]", 2 * depth, "", i);
			if (json_object_is_type(e, json_type_object) ||
			    json_object_is_type(e, json_type_array)) {
				fputc('\n', f);
				print_json_tree(e, depth + 1, f);
			} else {
				print_json_value(e, depth, f);
			}
		}
	} else {
		fprintf(f, "%*s%s\n", 2 * depth, "", json_object_get_string(o));
	}
}

int odpt_write_table(const struct odpt_report *r, const struct odpt_write_opts *o,
		     FILE *f)
{
	int i, ret;

	fprintf(f, "odpt %s\n", r->command);
	for (i = 0; i < r->nmeta; i++)
		if (odpt_meta_visible(r, &r->meta[i]))
			fprintf(f, "  %s: %s\n", r->meta[i].key, r->meta[i].value);
	if (r->ncfg) {
		fputs("config:\n", f);
		for (i = 0; i < r->ncfg; i++) {
			const struct odpt_rcfg *c = &r->cfg[i];

			if (c->type == ODPT_RCFG_U64)
				fprintf(f, "  %s: %" PRIu64 "\n", c->key, c->u);
			else if (c->type == ODPT_RCFG_BOOL)
				fprintf(f, "  %s: %s\n", c->key, c->b ? "yes" : "no");
			else
				fprintf(f, "  %s: %s\n", c->key, c->s ? c->s : "-");
		}
	}
	for (i = 0; i < r->nsections; i++) {
		fprintf(f, "%s:\n", r->sections[i].key);
		print_json_tree(r->sections[i].obj, 1, f);
	}
	if (r->nseries && (ret = print_series(r, f)))
		return ret;
	if (r->nscalars && (ret = print_scalars(r, f)))
		return ret;
	if (r->ntests && (ret = print_tests(r, f)))
		return ret;
	return 0;
}
