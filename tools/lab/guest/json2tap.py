#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Prints the test results of an odpt JSON report as TAP result lines
without numbers ("ok NAME", "not ok NAME # SKIP why", ...), each name given
PREFIX, for a lab part that folds several odpt runs into its one TAP file.
A missing or unreadable report prints one "not ok" line saying so: a tool
that wrote nothing must not read as a pass.

usage: json2tap.py REPORT.json PREFIX [--section NAME [--require CAP,...]]

With --section, the report's section NAME (a capability listing such as
`odpt iommufd probe`'s: {"cap": {"available": bool, "detail"|"skip_reason":
...}}) becomes the results instead: an available capability is "ok", a
missing one a SKIP with its reason, or "not ok" when --require names it
(what the lab's kernel is built to offer).
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


def section_lines(doc, prefix, name, required):
    sec = doc.get(name)
    if not isinstance(sec, dict) or not sec:
        print("# the report has no section %r" % name)
        print("not ok %sreport" % prefix)
        return
    for cap, v in sec.items():
        v = v if isinstance(v, dict) else {}
        if v.get("available"):
            print("# %s%s: %s" % (prefix, cap, " ".join(str(v.get("detail", "")).split())))
            print("ok %s%s" % (prefix, cap))
        elif cap in required:
            print("# %s%s: %s" % (prefix, cap, " ".join(str(v.get("skip_reason", "")).split())))
            print("not ok %s%s" % (prefix, cap))
        else:
            print(line("skip", prefix + cap, v.get("skip_reason")))
    for cap in sorted(required - set(sec)):
        print("# %s%s: not in the report" % (prefix, cap))
        print("not ok %s%s" % (prefix, cap))


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    section = args[args.index("--section") + 1] if "--section" in args else None
    required = set()
    if "--require" in args:
        required = set(x for x in args[args.index("--require") + 1].split(",") if x)
    try:
        with open(path) as f:
            doc = json.load(f)
        if section:
            section_lines(doc, prefix, section, required)
            return 0
        tests = doc.get("tests") or []
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
