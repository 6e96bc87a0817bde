#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Render the tables of docs/dma-map-modes.md from `odpt shim bench` JSON.

Each argument is the JSON result of one boot (`odpt --format=json -o F
shim bench`); the boot's IOMMU domain, DMA path, kernel and device come from
the file itself. Prints Markdown on stdout: a summary at one buffer size and
per-size tables of map/unmap cost per page (p50/p99, warm runs).

    python3 docs/gen_dma_map_modes.py [--size BYTES]... [--update DOC.md] a.json b.json ...

With --update, the output replaces what lies between the "generated: begin"
and "generated: end" markers of DOC.md instead of going to stdout.
"""
import io
import argparse
import json
import sys

MODES = ("hmm", "page", "sg")


def pct(series, p):
    for e in series["percentiles"]:
        if abs(float(e["p"]) - p) < 1e-9:
            return int(e["ns"])
    return None


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("command") != "shim bench":
        sys.exit(f"{path}: not an `odpt shim bench` result (command {doc.get('command')!r})")
    hists, scalars = {}, {}
    for s in doc["series"]:
        l = s["labels"]
        hists[(s["name"], l["mode"], int(l["size_bytes"]), l["run"])] = s
    for s in doc["scalars"]:
        l = s["labels"]
        scalars[(s["name"], l["mode"], int(l["size_bytes"]), l["run"])] = float(s["value"])
    meta = doc.get("meta", {})
    sizes = sorted({k[2] for k in hists})
    return {"path": path, "meta": meta, "hists": hists, "scalars": scalars, "sizes": sizes}


def boot_name(b):
    m = b["meta"]
    return f"{m.get('shim_iommu', '?')}/{m.get('shim_path', '?')}"


def fmt_ns(v):
    if v is None:
        return "–"
    if v >= 10000:
        return f"{v / 1000:.0f} µs"
    if v >= 1000:
        return f"{v / 1000:.1f} µs"
    return f"{v} ns"


def fmt_size(n):
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def cell(b, name, mode, size, run, mean=False):
    s = b["hists"].get((name, mode, size, run))
    if not s:
        return "–"
    out = f"{fmt_ns(pct(s, 50))} / {fmt_ns(pct(s, 99))}"
    if mean:
        out += f" ({fmt_ns(int(float(s['mean_ns'])))})"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, action="append",
                    help="buffer size of a summary table (bytes, repeatable; default 16 MiB)")
    ap.add_argument("--update", metavar="DOC",
                    help="replace the generated block of DOC instead of printing")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    boots = [load(p) for p in a.files]
    out = io.StringIO()
    real_stdout, sys.stdout = sys.stdout, out
    try:
        render(a, boots)
    finally:
        sys.stdout = real_stdout
    if not a.update:
        sys.stdout.write(out.getvalue())
        return
    with open(a.update) as f:
        doc = f.read()
    begin, end = "<!-- generated: begin -->\n", "<!-- generated: end -->"
    if begin not in doc or end not in doc:
        sys.exit(f"{a.update}: no generated-block markers")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(a.update, "w") as f:
        f.write(head + begin + out.getvalue() + end + tail)


def render(a, boots):
    print("Boots:\n")
    for b in boots:
        m = b["meta"]
        print(f"- **{boot_name(b)}**: kernel {m.get('kernel', '?')}, device "
              f"{m.get('shim_device', '?')} {m.get('shim_device_name', '')}, "
              f"IOMMU domain {m.get('shim_iommu', '?')}, mode-hmm path {m.get('shim_path', '?')}, "
              f"dma_need_unmap {m.get('shim_dma_need_unmap', '?')}, "
              f"command line `{m.get('kernel_cmdline_iommu', '?')}`, "
              f"clock {m.get('clock_source', '?')}, run {m.get('time_utc', '?')}")
    print()
    for size in a.size or [16 << 20]:
        summary(boots, size)
    per_size(boots)


def summary(boots, size):
    print(f"Summary at {fmt_size(size)} (per page, p50 / p99 (mean); warm = pages present):\n")
    print("| boot | mode | map warm | unmap warm | map cold | fault cold | invalidate per page | setup (p50) | bookkeeping B/page |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b in boots:
        for mode in MODES:
            if ("map_ns_per_page", mode, size, "warm") not in b["hists"]:
                continue
            inv = b["hists"].get(("invalidate_ns", mode, size, "invalidate"))
            npages = b["scalars"].get(("invalidate_pages", mode, size, "invalidate"))
            # All callbacks of the MADV_DONTNEED, over the pages they unmapped.
            inv_pp = (fmt_ns(int(float(inv["mean_ns"]) * int(inv["count"]) / npages))
                      if inv and npages else "–")
            sh = b["hists"].get(("setup_ns", mode, size, "cold"))
            setup = (pct(sh, 50) if sh else
                     b["scalars"].get(("setup_ns", mode, size, "cold")))
            bk = b["scalars"].get(("bookkeeping_bytes_per_page", mode, size, "warm"))
            sgb = b["scalars"].get(("sg_build_ns_per_page", mode, size, "cold"))
            setup_s = fmt_ns(int(setup)) if setup is not None else "–"
            if sgb is not None:
                setup_s += f" + sg build {fmt_ns(int(sgb))}/page"
            print(f"| {boot_name(b)} | {mode} | {cell(b, 'map_ns_per_page', mode, size, 'warm', True)} "
                  f"| {cell(b, 'unmap_ns_per_page', mode, size, 'warm', True)} "
                  f"| {cell(b, 'map_ns_per_page', mode, size, 'cold')} "
                  f"| {cell(b, 'fault_ns_per_page', mode, size, 'cold')} "
                  f"| {inv_pp} | {setup_s} | {bk:.2f} |" if bk is not None else
                  f"| {boot_name(b)} | {mode} | – | – | – | – | – | {setup_s} | – |")
    print()


def per_size(boots):
    for b in boots:
        print(f"Map / unmap per page by size, **{boot_name(b)}** (warm, p50 / p99):\n")
        print("| size | " + " | ".join(f"{m} map | {m} unmap" for m in MODES) + " |")
        print("|---|" + "---|---|" * len(MODES))
        for size in b["sizes"]:
            row = [fmt_size(size)]
            for mode in MODES:
                row.append(cell(b, "map_ns_per_page", mode, size, "warm"))
                row.append(cell(b, "unmap_ns_per_page", mode, size, "warm"))
            print("| " + " | ".join(row) + " |")
        print()


if __name__ == "__main__":
    main()
