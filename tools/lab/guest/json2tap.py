#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Prints the test results of an odpt JSON report as TAP result lines
without numbers ("ok NAME", "not ok NAME # SKIP why", ...), each name given
PREFIX, for a lab part that folds several odpt runs into its one TAP file.
A missing or unreadable report prints one "not ok" line saying so: a tool
that wrote nothing must not read as a pass.

usage: json2tap.py REPORT.json PREFIX
"""
import json
import sys


def line(result, name, reason):
    why = (" " + " ".join(str(reason).split())) if reason else ""
    if result == "pass":
        return "ok %s" % name
    if result == "skip":
        return "ok %s # SKIP%s" % (name, why or " (no reason given)")
    if result == "xfail":
        return "not ok %s # TODO%s" % (name, why)
    if result == "xpass":
        return "ok %s # TODO unexpected pass%s" % (name, why)
    return "not ok %s" % name


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    try:
        with open(path) as f:
            tests = json.load(f).get("tests") or []
    except (OSError, ValueError) as e:
        print("# no readable report %s: %s" % (path, e))
        print("not ok %sreport" % prefix)
        return 0
    if not tests:
        print("# the report %s has no test results" % path)
        print("not ok %sreport" % prefix)
    for t in tests:
        name = prefix + t.get("name", "?")
        res = t.get("result", "fail")
        if res not in ("pass", "skip", "xfail", "xpass"):
            if t.get("reason"):
                print("# %s: %s" % (name, " ".join(str(t["reason"]).split())))
            if t.get("stage"):
                print("# %s: stage %s" % (name, t["stage"]))
        print(line(res, name, t.get("reason")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
