# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Before and after for odpt-lab --patch (docs/patches.md).

Each guest that swapped in patched modules (guest/kpatch.sh) ran its work
twice in one boot: unpatched into BOOT/baseline/, patched into BOOT/. The
totals count only the patched pass (the run judges the patches); this
module compares the two pass by pass, case by case, and checks that the
patched modules really were the ones loaded. Used by summarize.py.
"""
import json
import os
import re

CHANGE_ORDER = ("fixed", "regressed", "new skip", "still failing", "other change")


def classify(before, after):
    if before == after:
        return None
    if before in ("xfail", "fail") and after == "pass":
        return "fixed"
    if before in ("pass", "xfail", "skip", None) and after in ("fail", "xpass"):
        return "regressed" if before == "pass" else "still failing"
    if after == "skip":
        return "new skip"
    if after in ("fail", "xpass"):
        return "still failing"
    return "other change"


def _pass_results(pdir, part, parse_tap, read):
    """{(file tag, case): test} of one pass of one part."""
    out = {}
    if part == "peer":
        try:
            pj = json.loads(read(os.path.join(pdir, "peer.json")) or "{}")
        except ValueError:
            pj = {}
        for t in pj.get("tests", []):
            r = "fail" if t.get("result") == "error" else t.get("result")
            out[("peer", t.get("name"))] = {"result": r, "reason": t.get("reason") or ""}
        return out
    if not os.path.isdir(pdir):
        return out
    for f in sorted(os.listdir(pdir)):
        if not (f == part + ".tap" or (f.startswith(part + ".") and f.endswith(".tap"))):
            continue
        tests, _ = parse_tap(read(os.path.join(pdir, f)))
        for t in tests:
            out[(f[:-4], t["name"])] = t
    return out


def _what_was_wrong(reason):
    """The measured damage in a known-bug reason ("saw: ..."), short."""
    m = re.search(r"saw: (.*)", reason or "")
    s = (m.group(1) if m else reason or "").strip()
    return s[:200]


def kpatch_summary(R, kv_file, read, parse_tap, lab_fail):
    """summary.json's "kernel_patch" (None without --patch) and the
    report's markdown lines; writes R/before-after.md."""
    info = kv_file(os.path.join(R, "kpatch.env"))
    if not info:
        return None, []
    fixed_ids = [x for x in info.get("fixed", "").split(",") if x]
    boots = []
    rows = []
    for name in sorted(os.listdir(R)):
        bdir = os.path.join(R, name)
        genv = kv_file(os.path.join(bdir, "guest.env"))
        if not genv.get("LAB_KPATCH_MODS"):
            continue
        loaded = [kv_line_str(l) for l in read(os.path.join(bdir, "kpatch.txt")).splitlines() if l.strip()]
        swap_rc = read(os.path.join(bdir, "kpatch.rc")).strip()
        dm = read(os.path.join(bdir, "dmesg.txt")) or read(os.path.join(bdir, "dmesg.live"))
        want = genv["LAB_KPATCH_MODS"].split()
        ok_mods = [m["module"] for m in loaded if m.get("loaded") == "patched"
                   and "odpt-lab: patched module %s loaded (build-id %s)" % (m["module"], m.get("build_id")) in dm]
        verified = swap_rc == "0" and sorted(ok_mods) == sorted(want)
        if not verified:
            lab_fail("patched modules loaded (%s)" % name,
                     "guest %s: wanted %s patched, verified %s (kpatch.rc %s; see %s/kpatch.log)"
                     % (name, " ".join(want), " ".join(ok_mods) or "none", swap_rc or "missing", name))
        parts = genv.get("LAB_PARTS", "").split() + (["peer"] if genv.get("LAB_PEER") == "1" else [])
        if not os.path.isdir(os.path.join(bdir, "baseline")):
            lab_fail("unpatched baseline (%s)" % name, "guest %s ran no unpatched pass (no %s/baseline)" % (name, name))
        for part in parts:
            before = _pass_results(os.path.join(bdir, "baseline", part), part, parse_tap, read)
            after = _pass_results(os.path.join(bdir, part), part, parse_tap, read)
            for key in sorted(set(before) | set(after), key=lambda k: (k[0], str(k[1]))):
                b, a = before.get(key), after.get(key)
                br, ar = b["result"] if b else None, a["result"] if a else None
                rows.append({"boot": name, "pass": key[0], "case": key[1],
                             "before": br, "after": ar, "change": classify(br, ar),
                             "before_reason": _what_was_wrong(b["reason"]) if b and br != "pass" else "",
                             "after_reason": (a["reason"] or "")[:200] if a and ar not in ("pass",) else ""})
        boots.append({"boot": name, "modules": loaded, "swap_rc": swap_rc, "verified": verified})
    changed = [r for r in rows if r["change"]]
    counts = {c: sum(1 for r in changed if r["change"] == c) for c in CHANGE_ORDER}
    counts["unchanged"] = len(rows) - len(changed)
    summary = {
        "patches": info.get("patches", "").split(),
        "source": info.get("source"),
        "modules": info.get("modules", "").split(),
        "fixes_known_bugs": fixed_ids,
        "patch_set_hash": info.get("hash"),
        "modules_build_s": float(info["build_s"]) if info.get("build_s") else None,
        "modules_cached": info.get("cached") == "1",
        "boots": boots,
        "changes": counts,
        "cases": changed,
    }
    L = ["", "## Kernel patches: before and after", ""]
    L.append("Patches %s on %s; rebuilt modules %s (%s s%s); the suite expects these known bugs fixed: %s."
             % (", ".join(summary["patches"]), summary["source"], ", ".join(summary["modules"]),
                info.get("build_s", "?"), ", cached from an earlier run" if summary["modules_cached"] else "",
                ", ".join(fixed_ids) or "none"))
    for b in boots:
        L.append("- guest %s: patched modules %s: %s" % (
            b["boot"], "verified loaded (GNU build ID, kernel log)" if b["verified"] else "NOT verified",
            "; ".join("%s %s build-id %s" % (m.get("module"), m.get("loaded"), m.get("build_id", "-")) for m in b["modules"]) or "none"))
    L.append("")
    L.append("Same boot, unpatched pass first. %s; %d unchanged."
             % (", ".join("%d %s" % (counts[c], c) for c in CHANGE_ORDER), counts["unchanged"]))
    if changed:
        L.append("")
        L.append("| guest | pass | case | before (unpatched) | after (patched) | change | before: what was wrong | after |")
        L.append("|---|---|---|---|---|---|---|---|")
        for r in sorted(changed, key=lambda r: (CHANGE_ORDER.index(r["change"]), r["boot"], r["pass"], str(r["case"]))):
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["boot"], r["pass"], r["case"], (r["before"] or "absent").upper(),
                (r["after"] or "absent").upper(), r["change"],
                r["before_reason"].replace("|", "/"), r["after_reason"].replace("|", "/")))
    for b in boots:
        cmp = read(os.path.join(R, b["boot"], "kpatch-compare.txt")).strip()
        if cmp:
            lines = cmp.splitlines()
            L += ["", "Guest %s, `odpt compare` of each part's unpatched and patched latency series "
                  "(under TCG they are QEMU's: this informs and fails nothing):" % b["boot"], "", "```"]
            L += lines[:40] + (["... (%d more lines in %s/kpatch-compare.txt)" % (len(lines) - 40, b["boot"])]
                               if len(lines) > 40 else []) + ["```"]
    with open(os.path.join(R, "before-after.md"), "w") as f:
        f.write("# Before and after the kernel patches\n" + "\n".join(L[2:]) + "\n")
    return summary, L


def kv_line_str(line):
    d = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            d[k] = v
    return d
