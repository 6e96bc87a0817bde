# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The lab part "bench" in summary.json and report.md, and its percentile
plots (HdrHistogram style: latency against 1/(1-p) on a log axis, one line
per size), drawn from the raw buckets of every `odpt bench` result.

Imported by summarize.py (bench_summary, report_bench) and run on its own by
tools/plot/plot.sh:  python3 bench_report.py --plots RESULTS_DIR
"""
import glob
import json
import os
import subprocess
import sys

# Percentiles of a plotted line: 0 .. 99.99 with more points in the tail.
PLOT_PCTS = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99]


def bench_dirs(R):
    return sorted(d for d in glob.glob(os.path.join(R, "*", "bench")) if os.path.isdir(d))


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return doc if str(doc.get("command", "")).startswith("bench ") else None


def pct(series, p):
    for e in series.get("percentiles") or []:
        if abs(float(e["p"]) - p) < 1e-9:
            return e["ns"]
    return None


def curve(series):
    """(percentile, ns) points from the raw buckets: the highest value of the
    bucket that holds each rank, as odpt's own percentiles are."""
    b = sorted(series.get("buckets") or [], key=lambda x: x["index"])
    total = sum(x["count"] for x in b)
    if not total:
        return []
    pts = []
    for p in PLOT_PCTS:
        rank = max(1, int(round(p / 100.0 * total + 0.5)) if p else 1)
        seen = 0
        for x in b:
            seen += x["count"]
            if seen >= rank:
                pts.append((p, x["highest_ns"]))
                break
    return pts


def bench_summary(R):
    """What summary.json carries: each scenario's series (p50/p99 and count)
    and the part's tables (fault - warm, perftest side by side)."""
    out = {}
    for d in bench_dirs(R):
        res = {"dir": os.path.relpath(d, R), "scenarios": {}}
        for f in sorted(glob.glob(os.path.join(d, "*.json"))):
            doc = load(f)
            if not doc:
                continue
            res["scenarios"][os.path.basename(f)[:-5]] = [
                {"series": s["name"], "labels": s.get("labels") or {}, "count": s.get("count"),
                 "p50_ns": pct(s, 50), "p99_ns": pct(s, 99)} for s in doc.get("series") or []]
        for name in ("bench-fault-warm.txt", "bench-perftest.txt"):
            try:
                with open(os.path.join(d, name)) as f:
                    res[name[:-4].replace("-", "_")] = f.read()
            except OSError:
                pass
        out[res["dir"]] = res
    return out or None


def us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1000.0)


def report_bench(L, s, R):
    b = s.get("bench") or {}
    for where, res in sorted(b.items()):
        L.append("")
        L.append("## ODP latency on rxe0 (odpt bench, %s)" % where)
        L.append("")
        L.append("Scenarios as docs/metrics.md defines them; raw buckets in %s/*.json "
                 "(`odpt compare` takes them)." % where)
        for key, title in (("bench_fault_warm", "fault - warm per op, size and faulting side"),
                           ("bench_perftest", "odpt warm p50 next to perftest --odp, same sizes and boot")):
            if res.get(key):
                L.append("")
                L.append("### %s" % title)
                L.append("")
                L.append("```")
                L.extend(res[key].rstrip("\n").splitlines())
                L.append("```")
        reg = res["scenarios"].get("reg") or []
        if reg:
            L.append("")
            L.append("### Registration cost against MR size (reg: p50 µs)")
            L.append("")
            kinds = sorted({r["labels"].get("kind") for r in reg if r["labels"].get("kind")})
            sizes = sorted({int(r["labels"]["size_bytes"]) for r in reg if "size_bytes" in r["labels"]})
            L.append("| size | " + " | ".join("%s reg | %s dereg" % (k, k) for k in kinds) + " |")
            L.append("|---|" + "---|---|" * len(kinds))
            for sz in sizes:
                cells = []
                for k in kinds:
                    for n in ("reg_ns", "dereg_ns"):
                        v = [r for r in reg if r["series"] == n and r["labels"].get("kind") == k
                             and int(r["labels"].get("size_bytes", -1)) == sz]
                        cells.append(us(v[0]["p50_ns"]) if v else "-")
                L.append("| %d | %s |" % (sz, " | ".join(cells)))
        plots = sorted(glob.glob(os.path.join(R, "plots", "bench-*.svg")))
        if plots:
            L.append("")
            L.append("Percentile plots (one line per size): " +
                     ", ".join("[%s](plots/%s)" % (os.path.basename(p)[6:-4], os.path.basename(p))
                               for p in plots))


def plot_all(R):
    """plots/bench-<scenario>-<series>-<other labels>.svg, one line per size."""
    os.makedirs(os.path.join(R, "plots"), exist_ok=True)
    n = 0
    for d in bench_dirs(R):
        for f in sorted(glob.glob(os.path.join(d, "*.json"))):
            doc = load(f)
            if not doc:
                continue
            scen = os.path.basename(f)[:-5]
            groups = {}
            for s in doc.get("series") or []:
                lab = dict(s.get("labels") or {})
                size = lab.pop("size_bytes", "")
                key = (s["name"],) + tuple("%s=%s" % kv for kv in sorted(lab.items()))
                groups.setdefault(key, []).append((int(size) if size.isdigit() else 0, s))
            for key, members in groups.items():
                lines = [(sz, curve(s)) for sz, s in sorted(members, key=lambda m: m[0])]
                lines = [(sz, c) for sz, c in lines if c]
                if not lines:
                    continue
                tag = "-".join([scen] + [k.replace("=", "_") for k in key]).replace("/", "_")
                n += plot_one(R, tag, key, lines)
    return n


def plot_one(R, tag, key, lines):
    base = os.path.join(R, "plots", "bench-" + tag)
    cmds = ["set terminal svg size 800,480 dynamic",
            "set output '%s.svg'" % base,
            "set title '%s' noenhanced" % " ".join(key),
            "set logscale x", "set logscale y",
            "set xlabel 'percentile'", "set ylabel 'latency (us)'",
            "set xtics ('0' 1, '90' 10, '99' 100, '99.9' 1000, '99.99' 10000)",
            "set key left top noenhanced", "set grid"]
    plots = []
    for i, (sz, c) in enumerate(lines):
        dat = "%s.%d.dat" % (base, i)
        with open(dat, "w") as f:
            for p, ns in c:
                f.write("%g %g\n" % (1.0 / (1.0 - min(p, 99.99) / 100.0), ns / 1000.0))
        plots.append("'%s' using 1:2 with linespoints title '%s B'" % (dat, sz or "-"))
    cmds.append("plot " + ", ".join(plots))
    try:
        r = subprocess.run(["gnuplot"], input="\n".join(cmds) + "\n", text=True,
                           capture_output=True)
    except OSError as e:
        r = subprocess.CompletedProcess([], 1, "", "gnuplot: %s" % e)
    for i in range(len(lines)):
        try:
            os.unlink("%s.%d.dat" % (base, i))
        except OSError:
            pass
    if r.returncode:
        sys.stderr.write("bench plot %s: %s\n" % (tag, r.stderr.strip()[:300]))
        return 0
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--plots":
        sys.exit("usage: bench_report.py --plots RESULTS_DIR")
    print("bench plots: %d" % plot_all(sys.argv[2]))
