#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Runs rdma-core's own tests (shipped in /usr/share/doc/rdma-core/tests) the
# way their run_tests.py does, but with a result class that records each
# test's outcome, reason and duration, and writes them as JSON (peer.json)
# and TAP (peer.tap) so the lab can put the peer's results next to odpt's.
#
# usage: peer.py TESTS_PARENT_DIR OUT_DIR -- [run_tests.py arguments]

import json
import os
import sys
import time
import unittest
from importlib.machinery import SourceFileLoader


class TimedResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []
        self._t0 = {}

    def startTest(self, test):
        self._t0[test.id()] = time.monotonic()
        super().startTest(test)

    def _add(self, test, outcome, reason=""):
        t0 = self._t0.get(test.id(), time.monotonic())
        self.records.append({
            "name": test.id(),
            "result": outcome,
            "reason": reason,
            "duration_s": round(time.monotonic() - t0, 4),
        })

    def addSuccess(self, test):
        super().addSuccess(test)
        self._add(test, "pass")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add(test, "skip", str(reason))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add(test, "fail", self._last_line(err))

    def addError(self, test, err):
        super().addError(test, err)
        self._add(test, "error", self._last_line(err))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._add(test, "xfail", self._last_line(err))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._add(test, "xpass", "unexpected success")

    def _last_line(self, err):
        text = self._exc_info_to_string(err, None).strip().splitlines()
        return text[-1] if text else "error"


def write_tap(path, records):
    lines = ["TAP version 13", "1..%d" % len(records)]
    for i, r in enumerate(records, 1):
        name = r["name"]
        if r["result"] == "pass":
            lines.append("ok %d %s" % (i, name))
        elif r["result"] == "skip":
            lines.append("ok %d %s # SKIP %s" % (i, name, r["reason"]))
        elif r["result"] == "xfail":
            lines.append("ok %d %s # XFAIL %s" % (i, name, r["reason"]))
        elif r["result"] == "xpass":
            lines.append("not ok %d %s # XPASS %s" % (i, name, r["reason"]))
        else:
            lines.append("not ok %d %s" % (i, name))
            lines.append("# %s: %s" % (r["result"], r["reason"]))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, path)


def main():
    parent, out = sys.argv[1], sys.argv[2]
    rest = sys.argv[4:] if len(sys.argv) > 3 and sys.argv[3] == "--" else sys.argv[3:]
    tests_dir = os.path.join(parent, "tests")
    sys.path[:0] = [tests_dir, parent]
    sys.argv = [os.path.join(tests_dir, "run_tests.py")] + rest
    from args_parser import parser
    tests = SourceFileLoader("tests", os.path.join(tests_dir, "__init__.py")).load_module()
    parser.parse_args()

    holder = {}

    class Runner(unittest.TextTestRunner):
        resultclass = TimedResult

        def run(self, test):
            res = super().run(test)
            holder["result"] = res
            return res

    t0 = time.monotonic()
    unittest.main(module=tests, testRunner=Runner, argv=sys.argv, exit=False)
    wall = time.monotonic() - t0
    res = holder.get("result")
    records = res.records if res else []
    counts = {}
    for r in records:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    doc = {
        "suite": "rdma-core tests (run_tests.py)",
        "args": rest,
        "wall_s": round(wall, 3),
        "counts": counts,
        "tests": records,
    }
    tmp = os.path.join(out, "peer.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.rename(tmp, os.path.join(out, "peer.json"))
    write_tap(os.path.join(out, "peer.tap"), records)
    bad = counts.get("fail", 0) + counts.get("error", 0) + counts.get("xpass", 0)
    return 1 if bad or not records else 0


if __name__ == "__main__":
    sys.exit(main())
