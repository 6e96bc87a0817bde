# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Latency by percentile from an HdrHistogram-style .hgrm file (columns
# Value, Percentile, TotalCount, 1/(1-Percentile)), x on the usual
# "number of nines" log scale. Called by plot.sh with infile, outfile and
# title set (gnuplot -e).
set terminal svg size 900,500 dynamic font "sans,11"
set output outfile
set title title noenhanced
set logscale xy
set xlabel "percentile"
set ylabel "latency (ns)"
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000, "99.9999%%" 1000000)
set grid
set key off
# Data lines are the ones whose first field is a number; the last row has
# 1/(1-p) = inf, which gnuplot skips.
plot infile using 4:1 every ::0 with steps lw 2
