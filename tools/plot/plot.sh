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
while IFS= read -r -d '' f; do
	rel=${f#"$R"/}
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
exit $rc
