# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Latency by percentile from HdrHistogram-style .hgrm data (columns Value,
# Percentile, TotalCount, 1/(1-Percentile)), x on the usual "number of
# nines" log scale. Called by plot.sh with outfile, title and either infile
# (one series) or files/titles (space-separated lists: one line per series,
# with a legend).
set terminal svg size 1000,560 dynamic font "sans,11"
set output outfile
set title title noenhanced
set logscale xy
set xlabel "percentile"
set ylabel "latency (ns)"
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000, "99.9999%%" 1000000)
set grid
# Data lines are the ones whose first field is a number; the last row has
# 1/(1-p) = inf, which gnuplot skips.
if (exists("files") && strlen(files) > 0) {
	set key outside right top noenhanced font ",9"
	plot for [i=1:words(files)] word(files, i) using 4:1 with steps lw 2 title word(titles, i)
} else {
	set key off
	plot infile using 4:1 with steps lw 2
}
