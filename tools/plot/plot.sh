#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Plots every latency distribution a lab run produced: each .hgrm file, and
# each .csv whose header has a percentile column and a *_ns column, into
# RESULTS/plots/<path with / as ->.svg. Runs in the image (gnuplot-nox).
#
# usage: plot.sh RESULTS_DIR
set -u
R=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$R/plots"
rc=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# plot_series FILE REL: a multi-series .hgrm (blocks opened by
# "#[Series NAME{k=v,...}]", as odpt wrote them before it wrote one
# NAME.SERIES.hgrm file per series) becomes one plot per metric
# NAME and size_bytes label, one line per remaining label set, with a legend.
plot_series() {
	local f=$1 rel=$2 d g files titles t
	d=$tmp/$(printf '%s' "$rel" | tr '/' '-')
	mkdir -p "$d"
	awk -v d="$d" '
		/^#\[Series / {
			s = substr($0, 10); sub(/\]$/, "", s)
			name = s; sub(/\{.*/, "", name)
			lab = s; sub(/^[^{]*\{?/, "", lab); sub(/\}$/, "", lab)
			size = ""
			if (match(lab, /size_bytes=[0-9]+/)) size = substr(lab, RSTART + 11, RLENGTH - 11)
			gsub(/(^|,)size_bytes=[0-9]+/, "", lab); sub(/^,/, "", lab)
			if (lab == "") lab = name
			g = name (size != "" ? "_" size "B" : "")
			n[g]++
			out = d "/" g "." n[g] ".dat"
			print out "\t" lab >> (d "/" g ".list")
			next
		}
		out != "" { print > out }
	' "$f"
	for g in "$d"/*.list; do
		[[ -e $g ]] || continue
		files="" titles=""
		while IFS=$'\t' read -r df t; do
			files+="$df " titles+="${t// /_} "
		done <"$g"
		g=$(basename "$g" .list)
		gnuplot -e "files='$files'; titles='$titles'; outfile='$R/plots/${rel//\//-}-$g.svg'; title='$rel: $g'" \
			"$here/hgrm.gp" || rc=1
	done
}

while IFS= read -r -d '' f; do
	rel=${f#"$R"/}
	if grep -q '^#\[Series ' "$f"; then
		plot_series "$f" "$rel"
		continue
	fi
	out=$R/plots/${rel//\//-}.svg
	gnuplot -e "infile='$f'; outfile='$out'; title='$rel'" "$here/hgrm.gp" || rc=1
done < <(find "$R" -path "$R/plots" -prune -o -name '*.hgrm' -print0)
while IFS= read -r -d '' f; do
	rel=${f#"$R"/}
	hdr=$(head -n1 "$f")
	xcol=$(awk -F, '{ for (i = 1; i <= NF; i++) if ($i ~ /^"?(percentile|p)"?$/) { print i; exit } }' <<<"$hdr")
	ycol=$(awk -F, '{ for (i = 1; i <= NF; i++) if ($i ~ /_ns"?$/) { print i; exit } }' <<<"$hdr")
	[[ -n $xcol && -n $ycol ]] || continue
	out=$R/plots/${rel//\//-}.svg
	gnuplot -e "infile='$f'; outfile='$out'; title='$rel'; xcol=$xcol; ycol=$ycol" \
		"$here/csv-percentiles.gp" || rc=1
done < <(find "$R" -path "$R/plots" -prune -o -name '*.csv' -print0)
# odpt bench results: percentile plots from their raw buckets, one line per size.
python3 "$here/../lab/bench_report.py" --plots "$R" || rc=1
exit $rc
