#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The lab's XFAIL report (tools/lab/summarize.py xfail_groups): one group per
# known bug, named by the reason's text before "; saw:", listing every case
# with the parts it hit and each case's evidence once; other results and
# other bugs never merge into a group.
# usage: lab_xfail_groups.py SRC_DIR
import sys

sys.path.insert(0, sys.argv[1] + "/tools/lab")
import summarize  # noqa: E402

A = "known rxe bug on kernel 7.3.4: copies are wrong: f() forgets the offset (x.c; shown)"
B = "known rxe bug on kernel 7.3.4: lengths wrap (y.c)"
tests = [
    {"part": "suite", "name": "w", "result": "xfail", "reason": A + "; saw: 100 bytes wrong"},
    {"part": "suite.2dev", "name": "w", "result": "xfail", "reason": A + "; saw: 99 bytes wrong"},
    {"part": "suite", "name": "r", "result": "xfail", "reason": A + "; saw: 5 bytes wrong"},
    {"part": "suite", "name": "s", "result": "xfail", "reason": B + "; saw: EINVAL"},
    {"part": "suite", "name": "p", "result": "pass", "reason": A + "; saw: nothing"},
    {"part": "suite", "name": "f", "result": "fail", "reason": B + "; saw: EINVAL"},
    {"part": "shim", "name": "x", "result": "xfail", "reason": "lazy IOTLB flush"},
]
g = summarize.xfail_groups(tests)
want = [
    ("known rxe bug on kernel 7.3.4: copies are wrong", "w (suite, suite.2dev), r (suite)",
     [("w", "100 bytes wrong"), ("r", "5 bytes wrong")]),
    ("known rxe bug on kernel 7.3.4: lengths wrap", "s (suite)", [("s", "EINVAL")]),
    ("lazy IOTLB flush", "x (shim)", []),
]
got = [(x["title"], x["hits"], x["saw"]) for x in g]
if got != want:
    print("xfail_groups:\n got  %r\n want %r" % (got, want))
    sys.exit(1)
print("ok: %d groups" % len(g))
