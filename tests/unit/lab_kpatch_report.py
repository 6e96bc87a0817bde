#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# odpt-lab --patch's before/after (tools/lab/kpatch_report.py): a fake
# results directory with an unpatched and a patched pass of the suite;
# each kind of change is classified, the unpatched byte counts are kept,
# and a guest whose patched modules are not proven loaded is a lab failure.
# usage: lab_kpatch_report.py SRC_DIR
import os
import sys
import tempfile

sys.path.insert(0, sys.argv[1] + "/tools/lab")
import summarize  # noqa: E402
from kpatch_report import kpatch_summary  # noqa: E402

BEFORE = """TAP version 13
1..5
ok 1 rc_write_multi_packet # XFAIL known rxe bug: copies; saw: 6122 of 8192 bytes wrong
ok 2 rc_write_pinned
ok 3 rc_read_unaligned # XFAIL known rxe bug: copies; saw: 100 of 300 bytes wrong
ok 4 inval_madv_free
ok 5 rc_send_huge
"""
AFTER = """TAP version 13
1..5
ok 1 rc_write_multi_packet
ok 2 rc_write_pinned
not ok 3 rc_read_unaligned # requester after RDMA_READ: 100 of 300 bytes wrong
not ok 4 inval_madv_free # 3 bytes wrong
ok 5 rc_send_huge # SKIP no huge pages
"""


def put(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run(R, dmesg):
    put(os.path.join(R, "iommu", "dmesg.txt"), dmesg)
    fails = []
    s, md = kpatch_summary(R, summarize.kv_file, summarize.read, summarize.parse_tap,
                           lambda n, r: fails.append((n, r)))
    return s, md, fails


with tempfile.TemporaryDirectory() as R:
    put(os.path.join(R, "kpatch.env"),
        "hash=abc\nsource=linux-source 7.3.4-1\nkernel=7.3.4\npatches=0001-a.patch 0002-b.patch\n"
        "modules=rdma_rxe\nfixed=rxe-odp-copy-page-offset\nbuild_s=61.5\ncached=0\n")
    put(os.path.join(R, "iommu", "guest.env"),
        "LAB_PARTS=suite\nLAB_PEER=0\nLAB_KPATCH_DIR=/mnt/odpt-kpatch\nLAB_KPATCH_MODS=rdma_rxe\n")
    put(os.path.join(R, "iommu", "baseline", "suite", "suite.tap"), BEFORE)
    put(os.path.join(R, "iommu", "suite", "suite.tap"), AFTER)
    put(os.path.join(R, "iommu", "kpatch.txt"), "module=rdma_rxe loaded=patched build_id=abc taint=O\n")
    put(os.path.join(R, "iommu", "kpatch.rc"), "0\n")

    s, md, fails = run(R, "odpt-lab: patched module rdma_rxe loaded (build-id abc)\n")
    assert fails == [], fails
    ch = {c["case"]: c for c in s["cases"]}
    assert ch["rc_write_multi_packet"]["change"] == "fixed", ch
    assert ch["rc_write_multi_packet"]["before_reason"] == "6122 of 8192 bytes wrong", ch
    assert ch["rc_read_unaligned"]["change"] == "still failing", ch
    assert ch["inval_madv_free"]["change"] == "regressed", ch
    assert ch["rc_send_huge"]["change"] == "new skip", ch
    assert "rc_write_pinned" not in ch
    assert s["changes"] == {"fixed": 1, "regressed": 1, "new skip": 1, "still failing": 1,
                            "other change": 0, "unchanged": 1}, s["changes"]
    assert s["boots"][0]["verified"] and s["modules_build_s"] == 61.5
    text = "\n".join(md)
    assert "| iommu | suite | rc_write_multi_packet | XFAIL | PASS | fixed | 6122 of 8192 bytes wrong |" in text, text
    assert os.path.isfile(os.path.join(R, "before-after.md"))

    # The kernel log does not show the patched module: not verified.
    s, md, fails = run(R, "nothing\n")
    assert not s["boots"][0]["verified"]
    assert fails and fails[0][0] == "patched modules loaded (iommu)", fails

    # Without --patch: nothing.
    os.remove(os.path.join(R, "kpatch.env"))
    assert run(R, "")[:2] == (None, [])
print("ok")
