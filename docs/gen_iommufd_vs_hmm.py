#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Render docs/dma-map-modes.md's iommufd column: pinned-and-mapped through
iommufd against faulted-and-mapped through the HMM mirror, per page, for the
same device (QEMU's edu behind intel-iommu, strict) in the same guest.

Inputs are the iommufd part's results of one lab run (tests/lab/iommufd.sh):
`odpt iommufd edu` (IOMMU_IOAS_MAP/UNMAP on the intel-iommu domain edu is
attached to through VFIO), `odpt shim bench` (the module's three map modes,
fault and map timed apart) and `odpt iommufd bench` (the selftest mock
domain: the same ioctls on a software page table, for scale).

    python3 docs/gen_iommufd_vs_hmm.py [--update DOC.md] EDU.json SHIM.json MOCK.json

With --update, the output replaces what lies between the "iommufd: begin"
and "iommufd: end" markers of DOC.md.
"""
import argparse
import json
import sys

SIZES = (4096, 65536, 1048576, 16777216)


def load(path, command):
    with open(path) as f:
        doc = json.load(f)
    if doc.get("command") != command:
        sys.exit(f"{path}: not an `odpt {command}` result (command {doc.get('command')!r})")
    return doc


def p50(doc, name, **labels):
    for s in doc["series"]:
        if s["name"] != name:
            continue
        if all(str(s["labels"].get(k)) == str(v) for k, v in labels.items()):
            for e in s["percentiles"]:
                if abs(float(e["p"]) - 50) < 1e-9:
                    return int(e["ns"])
    return None


def ns(v):
    if v is None:
        return "-"
    return f"{v / 1000:.2f} µs" if v >= 1000 else f"{v} ns"


def size(n):
    return f"{n // 1048576} MiB" if n >= 1048576 else f"{n // 1024} KiB"


def render(edu, shim, mock):
    L = []
    m = shim.get("meta", {})
    L.append(f"Kernel {edu.get('meta', {}).get('kernel', '?')} (the lab kernel), TCG guest, "
             f"intel-iommu `{m.get('shim_iommu', '?')}`/`{m.get('shim_path', '?')}`, edu; p50 per page. "
             "*iommufd map* is one `IOMMU_IOAS_MAP` of the whole buffer (pin + IOMMU page "
             "table), divided by its pages; *HMM fault* is the shim's `hmm_range_fault` per "
             "page when it allocates the pages, *hmm/page/sg map* its warm map per page in "
             "that mode (present pages); *mock map* is `IOMMU_IOAS_MAP` on the selftest's "
             "software domain (no IOTLB), warm.")
    L.append("")
    L.append("| size | iommufd map | iommufd unmap | mock map (warm) | HMM fault (cold) | hmm map | page map | sg map |")
    L.append("|---|---|---|---|---|---|---|---|")
    for sz in SIZES:
        pages = sz // 4096
        em = p50(edu, "map_ns", size_bytes=sz)
        eu = p50(edu, "unmap_ns", size_bytes=sz)
        row = [size(sz), ns(em // pages if em is not None else None),
               ns(eu // pages if eu is not None else None),
               ns(p50(mock, "map_ns_per_page", backing="anon", run="warm", size_bytes=sz)),
               ns(p50(shim, "fault_ns_per_page", mode="hmm", run="cold", size_bytes=sz))]
        for mode in ("hmm", "page", "sg"):
            row.append(ns(p50(shim, "map_ns_per_page", mode=mode, run="warm", size_bytes=sz)))
        L.append("| " + " | ".join(row) + " |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", metavar="DOC")
    ap.add_argument("edu")
    ap.add_argument("shim")
    ap.add_argument("mock")
    a = ap.parse_args()
    out = render(load(a.edu, "iommufd edu"), load(a.shim, "shim bench"), load(a.mock, "iommufd bench"))
    if not a.update:
        sys.stdout.write(out)
        return 0
    begin, end = "<!-- iommufd: begin -->\n", "<!-- iommufd: end -->"
    with open(a.update) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit(f"{a.update}: no iommufd markers")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(a.update, "w") as f:
        f.write(head + begin + out + end + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
