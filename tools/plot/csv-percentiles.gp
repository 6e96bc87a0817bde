# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Latency by percentile from a CSV with a header that has a percentile
# column (number xcol) and a latency column in ns (number ycol); plot.sh
# finds the columns by name and sets infile, outfile, title, xcol, ycol.
set terminal svg size 900,500 dynamic font "sans,11"
set output outfile
set datafile separator ","
set title title noenhanced
set xlabel "percentile"
set ylabel "latency (ns)"
set logscale xy
set grid
set key off
# 100/(100-p) spreads the tail like the .hgrm plot; p = 100 is dropped.
plot infile using (column(xcol) < 100 ? 100.0 / (100.0 - column(xcol)) : 1/0):(column(ycol)) every ::1 with linespoints lw 2
