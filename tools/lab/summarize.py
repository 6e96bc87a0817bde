#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Turns one lab run's results directory into summary.json, report.md,
# suite.tap, suite.junit.xml, all.junit.xml, dmesg.txt and totals.txt.
# It counts from what the parts wrote (TAP 13, kselftest directives), the
# host's ctest JUnit file and the lab's own checks (build, guest finished,
# rxe set up, kernel log clean); a check only appears as a test when it
# failed, so counts are the parts' own. Runs in the image (python3 there).
#
# usage: summarize.py RESULTS_DIR

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from kpatch_report import kpatch_summary
from bench_report import bench_summary, report_bench

SCHEMA_VERSION = 1
# A kernel log line matching this fails the run (and is shown).
KERNEL_BAD = re.compile(
    r"WARNING:|BUG:|kernel BUG|Oops|general protection fault|"
    r"Kernel panic|possible circular locking|possible recursive locking|"
    # Not a bare "lockdep": a lockdep kernel says "RCU lockdep checking is
    # enabled." at every boot. Its reports carry WARNING:/BUG: and the names
    # here; "lockdep is turned off" follows a report.
    r"inconsistent lock state|lockdep is turned off|DEBUG_LOCKS_WARN_ON|KASAN|UBSAN|KFENCE: |"
    r"blocked for more than \d+ seconds|hung_task|soft lockup|hard LOCKUP|"
    r"rcu: INFO: rcu_.* detected stalls|Call Trace:|"
    # The debug kernel's checkers (docs/debug-kernel.md). DMA-API errors read
    # "DMA-API: <driver> <device>: ..." (its boot notices have no device);
    # "suspicious RCU usage" and "sleeping function called from invalid
    # context" come with WARNING:/BUG: too, listed so that a changed prefix
    # cannot hide them.
    r"DMA-API: \S+ \S+: |DMA-API: debugging out of memory|DMA-API: exceeded \d+ overlapping|"
    r"suspicious RCU usage|"
    r"sleeping function called from invalid context|"
    r"kmemleak: \d+ new suspected memory leaks|unreferenced object 0x")
TAP_LINE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*-?\s*([^#]*?)\s*(?:#\s*(.*))?$")


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def kv_file(path):
    """KEY=value lines; values may be shell-quoted (guest.env)."""
    d = {}
    for line in read(path).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                w = shlex.split(v)
                v = " ".join(w) if len(w) != 1 else w[0]
            except ValueError:
                pass
            d[k.strip()] = v.strip()
    return d


def kv_line(path):
    d = {}
    for tok in read(path).split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            d[k] = v
    return d


def fnum(s, default=None):
    try:
        return float(s)
    except (TypeError, ValueError):
        return default


def parse_tap(text):
    """Top-level TAP 13 results: list of dicts, plus the plan count."""
    tests, plan = [], None
    lines = text.splitlines()
    diag = []   # kselftest prints a test's diagnostics before its result
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^1\.\.(\d+)", line)
        if m:
            plan = int(m.group(1))
            continue
        m = TAP_LINE.match(line)
        if not m:
            if line.startswith("#"):
                diag.append(line.lstrip("#").strip())
            continue
        before, diag = [d for d in diag if d], []
        ok = m.group(1) == "ok"
        name = m.group(3).strip() or "test %s" % m.group(2)
        directive = (m.group(4) or "").strip()
        dword = directive.split(None, 1)
        dkind = dword[0].upper() if dword else ""
        reason = dword[1] if len(dword) > 1 else ""
        if dkind == "SKIP":
            result = "skip"
        elif dkind in ("XFAIL", "TODO"):
            result = "xfail" if not ok or dkind == "XFAIL" else "xpass"
        elif dkind == "XPASS":
            result = "xpass"
        else:
            result = "pass" if ok else "fail"
            reason = directive
        t = {"name": name, "result": result, "reason": reason, "duration_s": None}
        # Optional YAML block: duration_ms / message.
        if i < len(lines) and lines[i].strip() == "---":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "...":
                ym = re.match(r"\s*(duration_ms|duration_s|message):\s*(.*)", lines[j])
                if ym and ym.group(1) == "duration_ms":
                    t["duration_s"] = fnum(ym.group(2), 0) / 1000.0
                elif ym and ym.group(1) == "duration_s":
                    t["duration_s"] = fnum(ym.group(2))
                elif ym and ym.group(1) == "message" and not t["reason"]:
                    t["reason"] = ym.group(2).strip().strip("'\"")
                j += 1
            i = j + 1
        # The diagnostics printed since the previous result explain a
        # failure: prefer the lines naming this test.
        if result in ("fail", "xpass") and not t["reason"]:
            own = [d for d in before if d.startswith(name)] or before[-2:]
            t["reason"] = "; ".join(own)[:500]
        tests.append(t)
    return tests, plan


def junit_times(path):
    times = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return times
    for tc in root.iter("testcase"):
        if tc.get("time") is not None:
            times[tc.get("name", "")] = fnum(tc.get("time"))
    return times


def parse_ctest_junit(path):
    tests = []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    for tc in root.iter("testcase"):
        result, reason = "pass", ""
        sk = tc.find("skipped")
        fl = tc.find("failure")
        er = tc.find("error")
        if tc.get("status") == "notrun" or sk is not None:
            result = "skip"
            reason = (sk.get("message") if sk is not None else "") or "not run"
        elif fl is not None or er is not None or tc.get("status") == "fail":
            el = fl if fl is not None else er
            result = "fail"
            reason = (el.get("message") if el is not None else "") or "failed"
        tests.append({"name": tc.get("name", "?"), "result": result,
                      "reason": reason, "duration_s": fnum(tc.get("time"))})
    return tests


def counts_of(tests):
    c = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0, "xpass": 0}
    for t in tests:
        c[t["result"]] = c.get(t["result"], 0) + 1
    return c


def odp_caps(devinfo):
    """ODP capability names per transport from `ibv_devinfo -v`."""
    caps, cur = {}, None
    for line in devinfo.splitlines():
        m = re.match(r"\s*(\w+_odp_caps|general_odp_caps):\s*(.*)$", line)
        if m:
            cur = m.group(1)
            caps[cur] = [m.group(2).strip()] if m.group(2).strip() else []
            continue
        if cur is not None:
            s = line.strip()
            if s and re.match(r"^[A-Z_]+$", s) and ":" not in line:
                caps[cur].append(s)
            else:
                cur = None
    return caps


def main():
    R = sys.argv[1]
    image = kv_file(os.path.join(R, "image.env"))
    kinfo = kv_line(os.path.join(R, "kernel.txt"))
    timings = {}
    for line in read(os.path.join(R, "timings.txt")).splitlines():
        p = line.split()
        if len(p) == 2:
            timings[p[0]] = fnum(p[1])
    mode = read(os.path.join(R, "mode.txt")).strip()
    accel = read(os.path.join(R, "accel.txt")).strip() or None

    odpt_version = None
    for b in ("/mnt/odpt-build/src/cli/odpt",):
        if os.access(b, os.X_OK):
            try:
                out = subprocess.run([b, "--version"], capture_output=True,
                                     text=True, timeout=10).stdout.strip()
                odpt_version = out.splitlines()[0] if out else None
            except (OSError, subprocess.SubprocessError):
                pass
    if not odpt_version:
        m = re.search(r"project\(odpt VERSION ([0-9.]+)",
                      read("/mnt/odpt-src/CMakeLists.txt"))
        odpt_version = ("%s (from CMakeLists.txt; no odpt binary)" % m.group(1)) if m else None

    lab_checks = []   # failed lab checks, counted as failures
    parts = {}
    all_tests = []

    def add_part(pid, tests, info):
        for t in tests:
            t["part"] = pid
        parts[pid] = dict(info, counts=counts_of(tests), tests=tests)
        all_tests.extend(tests)

    def lab_fail(name, reason):
        lab_checks.append({"name": name, "result": "fail", "reason": reason,
                           "duration_s": None, "part": "lab"})

    # Host unit tests: the plain build and the ASan+UBSan build.
    for sub, part, label in (("host", "host-unit", "host"),
                             ("host-asan", "host-unit-asan", "host (ASan+UBSan)")):
        host_dir = os.path.join(R, sub)
        if not os.path.isdir(host_dir):
            continue
        status = read(os.path.join(host_dir, "ctest.status")).strip()
        tests = parse_ctest_junit(os.path.join(host_dir, "ctest.junit.xml"))
        if status.startswith("build failed"):
            lab_fail(label + " build", "the %s build failed (see %s/build.log)" % (label, sub))
            tests = tests or []
        elif tests is None:
            lab_fail(label + " unit tests", "ctest wrote no JUnit file (see %s/ctest.log)" % sub)
            tests = []
        elif not tests:
            lab_fail(label + " unit tests", "ctest found no tests (see %s/ctest.log)" % sub)
        add_part(part, tests, {"boot": None, "kind": "ctest",
                               "duration_s": timings.get(sub.replace("-", "_") + "_unit_s")})

    build = kv_line(os.path.join(R, "build.status"))
    if build and build.get("ok") != "1":
        lab_fail("build in the image", "building odpt or the module with gcc-14 failed (see build.log)")

    boots = []
    dmesg_all = []
    peer = None
    for name in sorted(os.listdir(R)):
        bdir = os.path.join(R, name)
        if not os.path.isfile(os.path.join(bdir, "guest.env")):
            continue
        genv = kv_file(os.path.join(bdir, "guest.env"))
        st = kv_line(os.path.join(bdir, "boot.status"))
        launch = fnum(read(os.path.join(bdir, "host-launch.txt")).strip())
        stages = []
        for line in read(os.path.join(bdir, "stages.log")).splitlines():
            p = line.split(None, 1)
            if len(p) == 2 and fnum(p[0]) is not None:
                stages.append((fnum(p[0]), p[1]))
        boot_s = first_test_s = uptime = None
        for ts, what in stages:
            if what.startswith("boot-complete"):
                if launch:
                    boot_s = round(ts - launch, 2)
                m = re.search(r"uptime=([0-9.]+)", what)
                uptime = fnum(m.group(1)) if m else None
            elif first_test_s is None and (what.startswith("part:") or what in ("peer", "devices")):
                if launch:
                    first_test_s = round(ts - launch, 2)
        stage_times = []
        for k, (ts, what) in enumerate(stages):
            end = stages[k + 1][0] if k + 1 < len(stages) else None
            stage_times.append({"stage": what.split()[0],
                                "duration_s": round(end - ts, 2) if end else None})
        status = st.get("status", "not booted")
        if status != "ok":
            lab_fail("guest %s finished" % name,
                     "guest %s: %s in stage '%s' (see %s/console.log, %s/dmesg.live)"
                     % (name, status, st.get("stage", "?"), name, name))
        rxe_rc = read(os.path.join(bdir, "rxe-setup.rc")).strip()
        if rxe_rc and rxe_rc != "0":
            lab_fail("rxe0 setup (%s)" % name, "creating rxe0 failed (see %s/rxe-setup.log)" % name)
        if (genv.get("LAB_DEVICES") == "1" and rxe_rc == "0"
                and not os.path.isfile(os.path.join(bdir, "devices.json"))):
            lab_fail("odpt devices --json (%s)" % name, "no output: %s"
                     % (read(os.path.join(bdir, "devices.err")).strip()[:200] or "did not run"))
        dm = read(os.path.join(bdir, "dmesg.txt")) or read(os.path.join(bdir, "dmesg.live"))
        bad = [l for l in dm.splitlines() if KERNEL_BAD.search(l)]
        if bad:
            lab_fail("kernel log clean (%s)" % name,
                     "%d bad line(s), first: %s" % (len(bad), bad[0].strip()[:200]))
        dmesg_all.append("==== guest %s (iommu %s) ====\n%s" % (name, genv.get("ODPT_IOMMU"), dm))
        # Debug kernel: the kmemleak scan the guest asked for at the end, and
        # DMA-API debug's error count (it prints only the first error).
        leaks = re.findall(r"^unreferenced object 0x[0-9a-f]+ \(size (\d+)\)",
                           read(os.path.join(bdir, "kmemleak.txt")), re.M)
        if leaks:
            lab_fail("kmemleak clean (%s)" % name,
                     "%d suspected leak(s) after the final scan (see %s/kmemleak.txt)" % (len(leaks), name))
        dma = kv_file(os.path.join(bdir, "dma-api.txt"))
        if dma.get("error_count", "0") not in ("0", ""):
            lab_fail("DMA-API debug clean (%s)" % name,
                     "error_count=%s (see %s/dmesg.txt for the first one)" % (dma["error_count"], name))
        if dma.get("disabled", "0") not in ("0", "N", ""):
            lab_fail("DMA-API debug active (%s)" % name, "dma-api debugging disabled itself (out of entries?)")

        requested = genv.get("LAB_PARTS", "").split()
        if genv.get("LAB_PEER", "0") == "1":
            requested.append("peer")
        for part in requested:
            pdir = os.path.join(bdir, part)
            # The shim runs in two guests; other parts once.
            pid = "%s@%s" % (part, name) if part == "shim" else part
            ps = kv_line(os.path.join(pdir, "part.status"))
            info = {"boot": name, "iommu": genv.get("ODPT_IOMMU", ""),
                    "duration_s": fnum(ps.get("duration_s")),
                    "exit_code": int(ps["rc"]) if ps.get("rc", "").lstrip("-").isdigit() else None,
                    "dir": os.path.relpath(pdir, R)}
            if not ps:
                stopped = st.get("stage", "?")
                if stopped == "part:%s" % part:
                    why = "part %s did not finish: guest %s was stopped (%s) while it ran" % (pid, name, status)
                else:
                    why = "part %s did not run: guest %s stopped in stage '%s'" % (pid, name, stopped)
                lab_fail("%s ran" % pid, why)
                add_part(pid, [], dict(info, status="not run"))
                continue
            rc = info["exit_code"]
            if rc == 98:
                lab_fail("%s present" % pid, "tests/lab/%s.sh does not exist in this tree (part not merged yet?)" % part)
                add_part(pid, [], dict(info, status="missing"))
                continue
            if rc == 97:
                lab_fail("%s ran" % pid, "not run: rxe0 could not be set up")
                add_part(pid, [], dict(info, status="not run"))
                continue
            if part == "peer":
                pj = {}
                try:
                    pj = json.loads(read(os.path.join(pdir, "peer.json")) or "{}")
                except ValueError:
                    pass
                tests = [dict(t) for t in pj.get("tests", [])]
                for t in tests:
                    if t["result"] == "error":
                        t["result"] = "fail"
                if not tests:
                    lab_fail("peer ran", "rdma-core's tests produced no results (see %s/peer/part.log)" % name)
                peer = {"suite": pj.get("suite"), "args": pj.get("args"),
                        "wall_s": pj.get("wall_s"), "boot": name,
                        "counts": counts_of(tests), "tests": tests}
                add_part("peer", tests, dict(info, status="ran", kind="rdma-core"))
                continue
            # PART.tap, plus one more TAP file per further pass of the part,
            # PART.TAG.tap, counted as part "PID.TAG" (the suite's
            # two-device pass writes suite.2dev.tap). The exit status
            # covers all of them.
            extra = sorted(f[len(part) + 1:-4] for f in os.listdir(pdir)
                           if f.startswith(part + ".") and f.endswith(".tap")
                           and len(f) > len(part) + 5) if os.path.isdir(pdir) else []
            every = []
            for tag in [None] + extra:
                base = part if tag is None else "%s.%s" % (part, tag)
                tpid = pid if tag is None else "%s.%s" % (pid, tag)
                text = read(os.path.join(pdir, "%s.tap" % base))
                tests, plan = parse_tap(text)
                jt = junit_times(os.path.join(pdir, "%s.junit.xml" % base))
                for t in tests:
                    if t["duration_s"] is None and t["name"] in jt:
                        t["duration_s"] = jt[t["name"]]
                if not text:
                    lab_fail("%s TAP" % tpid, "the part wrote no %s.tap (exit status %s; see %s/part.log)"
                             % (base, rc, info["dir"]))
                elif plan is not None and plan != len(tests):
                    lab_fail("%s complete" % tpid, "planned %d tests, reported %d (see %s/part.log)"
                             % (plan, len(tests), info["dir"]))
                every.extend(tests)
                # The iommufd part's PART.kselftest-NAME.tap are the kernel's
                # own selftests (peers), not odpt's tests.
                kind = "kselftest" if (tag or "").startswith("kselftest-") else "tap"
                add_part(tpid, tests, dict(info, status="ran", kind=kind))
            c = counts_of(every)
            if rc not in (0, None) and c["fail"] + c["xpass"] == 0:
                lab_fail("%s exit status" % pid, "exit status %s but no failed test in the TAP (see %s/part.log)"
                         % (rc, info["dir"]))
            if rc == 0 and c["fail"] + c["xpass"] > 0:
                lab_fail("%s exit status" % pid, "exit status 0 although the TAP has failures")
        boots.append({"name": name, "iommu": genv.get("ODPT_IOMMU", ""),
                      "status": status, "last_stage": st.get("stage"),
                      "cmdline": read(os.path.join(bdir, "cmdline.txt")).strip() or None,
                      "kernel": read(os.path.join(bdir, "uname.txt")).strip() or None,
                      "boot_s": boot_s, "boot_to_first_test_s": first_test_s,
                      "guest_uptime_at_start_s": uptime,
                      "wall_s": timings.get("boot_%s_wall_s" % name),
                      "stages": stage_times,
                      "kernel_log_bad_lines": bad[:50],
                      # null when the kernel has no kmemleak / DMA-API debug
                      "kmemleak_suspects": len(leaks) if os.path.isfile(os.path.join(bdir, "kmemleak.txt")) else None,
                      "dma_api_error_count": int(dma["error_count"]) if dma.get("error_count", "").isdigit() else None})


    devices = None
    devinfo = ""
    for b in boots:
        p = os.path.join(R, b["name"], "devices.json")
        if devices is None and os.path.isfile(p):
            try:
                devices = json.loads(read(p))
            except ValueError:
                devices = {"error": "odpt devices --json printed invalid JSON"}
                lab_fail("odpt devices --json", "invalid JSON (see %s)" % os.path.relpath(p, R))
            else:
                # The lab's point: odpt must see rxe0 and its ODP support.
                devs = devices.get("devices") if isinstance(devices, dict) else None
                rxe0 = [d for d in (devs or []) if isinstance(d, dict) and d.get("name") == "rxe0"]
                if not rxe0:
                    lab_fail("odpt devices sees rxe0", "rxe0 is not in odpt devices --json")
                elif not (rxe0[0].get("odp") or {}).get("supported"):
                    lab_fail("odpt devices sees rxe0", "odpt devices reports no ODP support on rxe0")
        if not devinfo:
            devinfo = read(os.path.join(R, b["name"], "ibv_devinfo.txt"))
    rxe = {"device": "rxe0", "port": 1, "gid_index": 1, "odp_caps": odp_caps(devinfo)}
    hist = None
    hdir = os.path.join(R, "hist")
    if os.path.isdir(hdir):
        hist = {"where": "native, in the image chroot"}
        for k in ("check", "bench"):
            try:
                hist[k] = json.loads(read(os.path.join(hdir, "%s.json" % k)) or "null")
            except ValueError:
                hist[k] = None
        if kv_line(os.path.join(hdir, "hist.status")).get("rc") != "0":
            lab_fail("odpt hist", "odpt hist check/bench failed (see hist/*.err)")
    # --patch: before/after of the unpatched and patched passes.
    kpatch, kpatch_md = kpatch_summary(R, kv_file, read, parse_tap, lab_fail)
    # Every lab check is known now: they form the part "lab".
    if lab_checks:
        add_part("lab", lab_checks, {"boot": None, "kind": "lab checks"})

    tot = counts_of(all_tests)
    summary = {
        "schema_version": SCHEMA_VERSION,
        "tool": "odpt-lab",
        "mode": mode,
        "started_at": read(os.path.join(R, "started_at.txt")).strip() or None,
        "finished_at": read(os.path.join(R, "finished_at.txt")).strip() or None,
        "odpt_version": odpt_version,
        "kernel": kinfo.get("release") or image.get("kernel"),
        # debian: the image's kernel; debug: tools/lab/debug-kernel.sh's build
        "kernel_flavour": kinfo.get("flavour", "debian"),
        "kernel_package": (image.get("kernel_package") if kinfo.get("flavour", "debian") == "debian"
                           else "linux-source %s (debug build)" % kinfo.get("build_source_version", "?")),
        "debug_kernel_build": ({k[6:]: v for k, v in kinfo.items() if k.startswith("build_")}
                               if kinfo.get("flavour") == "debug" else None),
        "rdma_core_version": image.get("rdma_core"),
        "libibverbs_version": image.get("libibverbs"),
        # The second rdma-core (part suite-rdma-next), or why there is none.
        "rdma_core_next_version": image.get("rdma_core_next"),
        "rdma_core_next_missing": image.get("rdma_core_next_skip"),
        "compiler": image.get("gcc"),
        "qemu_version": image.get("qemu"),
        "virtme_ng_version": image.get("virtme_ng"),
        "image_key": image.get("key"),
        "image_built_at": image.get("built_at"),
        "accelerator": accel,
        "rxe": rxe,
        "devices": devices,
        "timings_s": dict(timings, image_recorded_build_s=fnum(image.get("build_seconds"))),
        "boots": boots,
        "totals": {"passed": tot["pass"] + tot["xfail"], "failed": tot["fail"] + tot["xpass"],
                   "skipped": tot["skip"], "pass": tot["pass"], "fail": tot["fail"],
                   "skip": tot["skip"], "xfail": tot["xfail"], "xpass": tot["xpass"]},
        "parts": {k: {kk: vv for kk, vv in v.items() if kk != "tests"} | {"tests": v["tests"]}
                  for k, v in parts.items()},
        "peer": peer,
        # The kernel's selftests run beside the iommufd part (same guest, same
        # kernel source), and the iommufd part's measurements.
        "peer_kernel_selftests": kernel_peers(R, parts),
        "iommufd": iommufd_summary(R),
        "bench": bench_summary(R),
        "hist": hist,
        "kernel_patch": kpatch,
    }
    write(os.path.join(R, "summary.json"), json.dumps(summary, indent=2) + "\n")

    # suite.tap / suite.junit.xml at the top, as the issue asks.
    for b in boots:
        src = os.path.join(R, b["name"], "suite", "suite.tap")
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(R, "suite.tap"))
            sj = os.path.join(R, b["name"], "suite", "suite.junit.xml")
            if os.path.isfile(sj):
                shutil.copyfile(sj, os.path.join(R, "suite.junit.xml"))
            elif "suite" in parts:
                write(os.path.join(R, "suite.junit.xml"), junit({"suite": parts["suite"]}))
            break
    write(os.path.join(R, "all.junit.xml"), junit(parts))
    write(os.path.join(R, "dmesg.txt"), "\n".join(dmesg_all))

    with_lines = ["pass=%d" % tot["pass"], "fail=%d" % tot["fail"], "skip=%d" % tot["skip"],
                  "xfail=%d" % tot["xfail"], "xpass=%d" % tot["xpass"]]
    for g in xfail_groups(all_tests):
        with_lines.append("xfail_bug=%s -- hit %s" % (g["title"], g["hits"]))
    for t in all_tests:
        if t["result"] in ("fail", "xpass"):
            with_lines.append("fail_test=%s: %s -- %s" % (t["part"], t["name"], t["reason"] or t["result"]))
    write(os.path.join(R, "totals.txt"), "\n".join(with_lines) + "\n")
    write(os.path.join(R, "report.md"), report(R, summary, parts, boots, peer, timings, kpatch_md))
    return 0


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def junit(parts):
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>"]
    for pid, p in parts.items():
        c = p["counts"]
        out.append('  <testsuite name=%s tests="%d" failures="%d" skipped="%d">'
                   % (quoteattr(pid), len(p["tests"]), c["fail"] + c["xpass"], c["skip"]))
        for t in p["tests"]:
            attrs = "name=%s classname=%s" % (quoteattr(t["name"]), quoteattr(pid))
            if t.get("duration_s") is not None:
                attrs += ' time="%.3f"' % t["duration_s"]
            r = t["result"]
            if r == "pass":
                out.append("    <testcase %s/>" % attrs)
            elif r == "skip":
                out.append("    <testcase %s><skipped message=%s/></testcase>" % (attrs, quoteattr(t["reason"] or "")))
            elif r == "xfail":
                out.append("    <testcase %s><system-out>%s</system-out></testcase>"
                           % (attrs, escape("XFAIL: " + (t["reason"] or ""))))
            else:
                out.append("    <testcase %s><failure message=%s/></testcase>"
                           % (attrs, quoteattr((r.upper() + ": " if r == "xpass" else "") + (t["reason"] or r))))
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def fmt(v, unit=" s"):
    return "-" if v is None else ("%.1f%s" % (v, unit))



def xfail_groups(tests):
    """XFAILs grouped per known bug, in first-seen order.

    A suite XFAIL reason reads "<the bug, with driver, kernel and evidence>;
    saw: <what this case saw>": the part before "; saw:" names the bug. Each
    group: title (the bug's first clause), bug (the whole text), hits ("case
    (part, part), ...") and saw (the evidence of each case, first part only).
    """
    groups = {}
    for t in tests:
        if t["result"] != "xfail":
            continue
        reason = t["reason"] or "(no reason given)"
        bug, _, saw = reason.partition("; saw: ")
        g = groups.get(bug)
        if g is None:
            # "known rxe bug on kernel K: what goes wrong (where...): ..."
            head, sep, rest = bug.partition(": ")
            clause = rest.split(": ")[0].split(" (")[0] if sep else bug[:120]
            title = (head + ": " + clause) if sep else clause
            g = groups[bug] = {"title": title, "bug": bug, "cases": {}, "saw": []}
        parts = g["cases"].setdefault(t["name"], [])
        if not parts and saw:
            g["saw"].append((t["name"], saw))
        parts.append(t["part"])
    out = []
    for g in groups.values():
        g["hits"] = ", ".join("%s (%s)" % (n, ", ".join(p)) for n, p in g["cases"].items())
        out.append(g)
    return out

def kernel_peers(R, parts):
    out = {}
    st = {}
    for b in os.listdir(R):
        for line in read(os.path.join(R, b, "iommufd", "kselftest.status")).splitlines():
            p = line.split()
            if p:
                st[p[0]] = dict(x.split("=", 1) for x in p[1:] if "=" in x)
    for pid, p in parts.items():
        if p.get("kind") != "kselftest":
            continue
        tag = pid.split(".kselftest-", 1)[-1]
        out[tag] = {"part": pid, "boot": p.get("boot"), "counts": p["counts"],
                    "exit_code": fnum(st.get(tag, {}).get("rc")),
                    "wall_s": fnum(st.get(tag, {}).get("wall_s"))}
    return out


def series_rows(path):
    """(name, labels, count, p50, p99, p99.9) of every series of an odpt JSON report."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return []
    rows = []
    for x in d.get("series") or []:
        pc = {q["p"]: q["ns"] for q in x.get("percentiles") or []}
        rows.append({"series": x.get("name"), "labels": x.get("labels") or {},
                     "count": x.get("count"), "p50_ns": pc.get(50), "p99_ns": pc.get(99),
                     "p99_9_ns": pc.get(99.9)})
    return rows


def iommufd_summary(R):
    d = os.path.join(R, "iommufd", "iommufd")
    if not os.path.isdir(d):
        return None
    out = {"kernel": read(os.path.join(R, "iommufd", "uname.txt")).strip() or None,
           "lab_kernel": kv_line(os.path.join(R, "lab-kernel.txt")) or None}
    for name in ("bench", "bench_hugetlb", "bench_edu", "bench_edu_hugetlb", "iopf", "edu",
                 "shim-bench"):
        out[name.replace("-", "_")] = series_rows(os.path.join(d, name + ".json"))
    try:
        with open(os.path.join(d, "probe.json")) as f:
            pj = json.load(f)
        out["probe"] = [{"name": t.get("name"), "result": t.get("result"), "reason": t.get("reason")}
                        for t in pj.get("tests") or []]
    except (OSError, ValueError):
        out["probe"] = None
    return out


def us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1000.0)


def report_iommufd(L, s, parts):
    io = s.get("iommufd")
    if not io:
        return
    L.append("")
    L.append("## iommufd (guest iommufd, lab kernel %s)" % (io.get("kernel") or "?"))
    lk = io.get("lab_kernel") or {}
    if lk.get("build_build_seconds"):
        L.append("")
        L.append("Lab kernel: %s, built from %s %s in %s s (config %s s, %s jobs)." % (
            lk.get("release"), lk.get("build_source_package"), lk.get("build_source_version"),
            lk.get("build_build_seconds"), lk.get("build_config_seconds"), lk.get("build_jobs")))
    if io.get("probe"):
        L.append("")
        L.append("| capability (odpt iommufd probe) | result | reason |")
        L.append("|---|---|---|")
        for t in io["probe"]:
            L.append("| %s | %s | %s |" % (t["name"], t["result"], (t["reason"] or "").replace("|", "/")))
    for key, title in (("bench", "IOAS map/unmap (odpt iommufd bench)"),
                       ("bench_hugetlb", "IOAS map/unmap of hugetlb pages (odpt iommufd bench --backing=hugetlb)"),
                       ("bench_edu", "IOAS map/unmap through edu's intel-iommu domain (odpt iommufd bench --domain=edu)"),
                       ("bench_edu_hugetlb", "the same, hugetlb pages (--domain=edu --backing=hugetlb)"),
                       ("iopf", "IO page faults answered in userspace (odpt iommufd iopf)"),
                       ("edu", "edu DMA through VFIO + iommufd (odpt iommufd edu)"),
                       ("shim_bench", "the shim's map modes in the same guest (odpt shim bench)")):
        rows = io.get(key) or []
        if not rows:
            continue
        L.append("")
        L.append("### %s" % title)
        L.append("")
        L.append("| series | labels | n | p50 µs | p99 µs | p99.9 µs |")
        L.append("|---|---|---|---|---|---|")
        for r in rows[:80]:
            L.append("| %s | %s | %s | %s | %s | %s |" % (
                r["series"], ",".join("%s=%s" % kv for kv in sorted(r["labels"].items())),
                r["count"], us(r["p50_ns"]), us(r["p99_ns"]), us(r["p99_9_ns"])))
        if len(rows) > 80:
            L.append("| ... %d more in summary.json | | | | | |" % (len(rows) - 80))
    kp = s.get("peer_kernel_selftests") or {}
    if kp:
        L.append("")
        L.append("### Peers: the kernel's selftests, same kernel and guest")
        L.append("")
        L.append("| | pass | fail | skip | xfail | wall s |")
        L.append("|---|---|---|---|---|---|")
        oc = (parts.get("iommufd") or {}).get("counts")
        if oc:
            L.append("| odpt iommufd part | %d | %d | %d | %d | %s |" % (
                oc["pass"], oc["fail"] + oc["xpass"], oc["skip"], oc["xfail"],
                fmt((parts.get("iommufd") or {}).get("duration_s"), "")))
        for tag, k in sorted(kp.items()):
            c = k["counts"]
            L.append("| kselftest %s | %d | %d | %d | %d | %s |" % (
                tag, c["pass"], c["fail"] + c["xpass"], c["skip"], c["xfail"], fmt(k.get("wall_s"), "")))


def report(R, s, parts, boots, peer, timings, kpatch_md=()):
    # (report text only; every figure also sits in summary.json)
    L = []
    t = s["totals"]
    L.append("# odpt lab report (%s, %s)" % (s["mode"], s["started_at"]))
    L.append("")
    L.append("**%d passed, %d failed, %d skipped** (XFAIL %d counted as passed, XPASS %d as failed)"
             % (t["passed"], t["failed"], t["skipped"], t["xfail"], t["xpass"]))
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k, label in (("odpt_version", "odpt"), ("kernel", "guest kernel"),
                     ("kernel_package", "kernel package"), ("rdma_core_version", "rdma-core"),
                     ("compiler", "gcc"), ("qemu_version", "QEMU"),
                     ("virtme_ng_version", "virtme-ng"), ("accelerator", "accelerator"),
                     ("image_key", "image key"), ("image_built_at", "image built")):
        L.append("| %s | %s |" % (label, s.get(k) or "-"))
    if s.get("rdma_core_next_version") or s.get("rdma_core_next_missing"):
        L.append("| rdma-core for suite-rdma-next | %s |" % (
            s.get("rdma_core_next_version") or "none: " + s["rdma_core_next_missing"]))
    caps = s["rxe"]["odp_caps"]
    L.append("| rxe0 ODP (ibv_devinfo) | %s |" % ("; ".join("%s: %s" % (k, " ".join(v) or "none") for k, v in caps.items()) or "-"))
    devs = (s.get("devices") or {}).get("devices") if isinstance(s.get("devices"), dict) else None
    for d in devs or []:
        odp = d.get("odp") if isinstance(d, dict) else None
        if isinstance(odp, dict):
            L.append("| %s ODP (odpt devices) | supported: %s, implicit: %s; %s |" % (
                d.get("name"), odp.get("supported"), odp.get("implicit"),
                "; ".join("%s: %s" % (k, " ".join(v) or "none")
                          for k, v in odp.items() if isinstance(v, list))))
    L.append("")
    L.append("## Timings")
    L.append("")
    L.append("| what | seconds |")
    L.append("|---|---|")
    ib = timings.get("image_build_s")
    L.append("| image build (this run) | %s |" % ("cached (0)" if ib == 0 else fmt(ib, "")))
    L.append("| image build (when the cached image was made) | %s |" % fmt(s["timings_s"].get("image_recorded_build_s"), ""))
    L.append("| host build + unit tests | %s |" % fmt(timings.get("host_unit_s"), ""))
    L.append("| host ASan+UBSan build + unit tests | %s |" % fmt(timings.get("host_asan_unit_s"), ""))
    L.append("| odpt build in the image | %s |" % fmt(timings.get("build_guest_s"), ""))
    if "kpatch_build_s" in timings:
        L.append("| patched kernel modules build (--patch; recorded when built) | %s |" % fmt(timings.get("kpatch_build_s"), ""))
    if "lab_kernel_s" in timings:
        L.append("| lab kernel (iommufd guest): build or cache lookup | %s |" % fmt(timings.get("lab_kernel_s"), ""))
        L.append("| odpt, module and kernel selftests against the lab kernel | %s |" % fmt(timings.get("build_labk_s"), ""))
    if "hist_s" in timings:
        L.append("| odpt hist check + bench (native) | %s |" % fmt(timings.get("hist_s"), ""))
    for b in boots:
        L.append("| guest %s: launch to boot complete | %s |" % (b["name"], fmt(b["boot_s"], "")))
        L.append("| guest %s: boot-to-first-test | %s |" % (b["name"], fmt(b["boot_to_first_test_s"], "")))
        L.append("| guest %s: wall (launch to exit) | %s |" % (b["name"], fmt(b["wall_s"], "")))
    for pid, p in parts.items():
        if p.get("boot"):
            L.append("| part %s | %s |" % (pid, fmt(p.get("duration_s"), "")))
    L.append("| total | %s |" % fmt(timings.get("total_s"), ""))
    L.append("")
    L.append("## Parts")
    L.append("")
    L.append("| part | guest | status | pass | fail | skip | xfail | xpass |")
    L.append("|---|---|---|---|---|---|---|---|")
    for pid, p in parts.items():
        c = p["counts"]
        L.append("| %s | %s | %s | %d | %d | %d | %d | %d |" % (
            pid, p.get("boot") or "host", p.get("status", "ran"), c["pass"], c["fail"],
            c["skip"], c["xfail"], c["xpass"]))
    fails = [x for p in parts.values() for x in p["tests"] if x["result"] in ("fail", "xpass")]
    if fails:
        L.append("")
        L.append("## Failures")
        L.append("")
        for x in fails:
            L.append("- **%s** %s: %s" % (x["part"], x["name"], x["reason"] or x["result"]))
    L.extend(kpatch_md)
    xf = xfail_groups([x for p in parts.values() for x in p["tests"]])
    if xf:
        L.append("")
        L.append("## XFAIL (known kernel or driver bugs)")
        L.append("")
        for g in xf:
            L.append("- **%s**%s" % (g["title"], g["bug"][len(g["title"]):]))
            L.append("  - hit: %s" % g["hits"])
            for name, saw in g["saw"]:
                L.append("  - %s saw: %s" % (name, saw))
    if peer:
        L.append("")
        L.append("## Peer: rdma-core's ODP tests on rxe0 (wall %s)" % fmt(peer.get("wall_s")))
        L.append("")
        oc = parts.get("suite", {}).get("counts")
        pc = peer["counts"]
        L.append("| | pass | fail | skip | xfail |")
        L.append("|---|---|---|---|---|")
        if oc:
            L.append("| odpt suite | %d | %d | %d | %d |" % (oc["pass"], oc["fail"] + oc["xpass"], oc["skip"], oc["xfail"]))
        L.append("| rdma-core tests | %d | %d | %d | %d |" % (pc["pass"], pc["fail"] + pc["xpass"], pc["skip"], pc["xfail"]))
        L.append("")
        L.append("| rdma-core test | result | reason | seconds |")
        L.append("|---|---|---|---|")
        for x in peer["tests"]:
            L.append("| %s | %s | %s | %s |" % (x["name"].split(".")[-1], x["result"],
                                                (x["reason"] or "").replace("|", "/"), fmt(x["duration_s"], "")))
    report_iommufd(L, s, parts)
    report_bench(L, s, R)
    btxt = read(os.path.join(R, "hist", "bench.txt"))
    if btxt:
        L.append("")
        L.append("## Histogram and clock (odpt hist, native in the image chroot)")
        L.append("")
        L.append("```")
        keep = False
        for line in btxt.splitlines():
            if line.startswith("figures:"):
                keep = True
            if re.match(r"^\s*clock_", line) or keep:
                L.append(line)
        L.append("```")
    L.append("")
    L.append("## Kernel log")
    L.append("")
    for b in boots:
        bad = b["kernel_log_bad_lines"]
        # The kernel arguments the lab chose, without virtme's own.
        args = " ".join(a for a in (b.get("cmdline") or "").split()
                        if not re.match(r"(virtme|console=|earlyprintk|init=|nr_open|panic=|debug$)", a))
        extra = ""
        if b.get("kmemleak_suspects") is not None:
            extra += "; kmemleak: %d suspected leak(s)" % b["kmemleak_suspects"]
        if b.get("dma_api_error_count") is not None:
            extra += "; DMA-API debug: %d error(s)" % b["dma_api_error_count"]
        L.append("- guest %s (%s): %s%s" % (b["name"], args or "no extra arguments",
                                            "clean" if not bad else "%d bad line(s)" % len(bad), extra))
        for l in bad[:10]:
            L.append("    `%s`" % l.strip()[:200])
    plots = []
    pdir = os.path.join(R, "plots")
    if os.path.isdir(pdir):
        plots = sorted(f for f in os.listdir(pdir) if f.endswith(".svg"))
    if plots:
        L.append("")
        L.append("## Plots")
        L.append("")
        for f in plots:
            L.append("![%s](plots/%s)" % (f, f))
    L.append("")
    L.append("Files: summary.json, suite.tap, suite.junit.xml, all.junit.xml, dmesg.txt, "
             "and one directory per guest with each part's outputs.")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
