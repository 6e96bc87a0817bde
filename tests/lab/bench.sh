#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "bench" (see the lab part contract in docs/lab.md): `odpt bench`
# on the lab's rxe device, and perftest's ib_write_lat/ib_read_lat --odp at
# the same sizes and iterations in the same boot.
#   - warm (which also times fault: the fault - warm table) for WRITE, READ,
#     SEND at 8 B, 64 B, 4 KiB, 64 KiB, 1 MiB, both sides; reg; refault;
#     prefetch (rxe on rdma-core 56.1 has no advise_mr: a SKIP, exit 4;
#     again with odpt built against the image's rdma-core-next, which has);
#     storm. Each result is <scenario>.json (raw buckets), its tests folded
#     into bench.tap as <scenario>.*;
#   - perftest: perftest-{write,read}-<size>.txt, and bench-perftest.txt
#     with odpt's warm p50 next to perftest's typical latency per size;
#   - checks: the recording cost is below 1% of every series' median, the
#     fault - warm table is complete, `odpt compare` of a result with itself
#     is "no change" and of two scenarios a usage error (exit 2).
# `test` runs fewer iterations (about a minute under TCG), `run` more.
set -u -o pipefail

mode=${1:-}
case "$mode" in
test | run) ;;
*) echo "usage: ODPT_OUT=DIR ODPT_BIN=odpt $0 test|run" >&2; exit 2 ;;
esac
: "${ODPT_OUT:?ODPT_OUT must name the results directory}"
: "${ODPT_BIN:?ODPT_BIN must name the odpt binary}"
ODPT_BUILD=${ODPT_BUILD:-}
dev=${ODPT_DEV:-rxe0} port=${ODPT_PORT:-1} gid=${ODPT_GID:-1}
out=$ODPT_OUT
here=$(cd "$(dirname "$0")" && pwd)
json2tap=$here/../../tools/lab/guest/json2tap.py
mkdir -p "$out" || exit 2
tap=$out/bench.lines
: >"$tap"
: >"$out/bench-tools.log"
n_fail=0

# The lab's default set: fault and warm at these sizes (1 MiB, some 80 ms an
# op under TCG, with fewer iterations in a file of its own), perftest at the
# same sizes with the same iterations.
sizes=8,64,4K,64K big=1M
if [ "$mode" = run ]; then
	lat_iters=200 big_iters=20 reg_iters=5 refault_iters=100 storm_iters=100 warmup=20
else
	lat_iters=50 big_iters=5 reg_iters=2 refault_iters=20 storm_iters=20 warmup=5
fi

add() { # add "ok"|"not ok" NAME [DIRECTIVE]
	local l="$1 $2"
	[ -n "${3:-}" ] && l="$l # $3"
	echo "$l" >>"$tap"
	[ "$1" = "not ok" ] && n_fail=$((n_fail + 1))
	return 0
}
diag() { echo "# $*" >>"$tap"; }

# [name=FILE] bench SCENARIO WANT_RC ARGS...: odpt bench SCENARIO into
# FILE.json (default SCENARIO.json), its tests folded in as FILE.*; an exit
# code other than WANT_RC (0, or 4 for a scenario that must SKIP here)
# fails FILE.exit.
bench() {
	local scen=$1 want=$2 s=${name:-$1} rc t0 t1
	shift 2
	echo "+ odpt -j -o $s.json bench $scen --dev $dev --port $port --gid $gid $*" >>"$out/bench-tools.log"
	t0=$(date +%s%N)
	timeout -k 30 900 "${bin:-$ODPT_BIN}" -j -o "$out/$s.json" bench "$scen" --dev "$dev" --port "$port" \
		--gid "$gid" "$@" >>"$out/bench-tools.log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	diag "bench $s ($scen): exit $rc in $(((t1 - t0) / 1000000)) ms"
	if [ "$rc" = 4 ]; then
		# Nothing could run: the report's summary says why.
		add ok "$s" "SKIP $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["text"])' \
			"$out/$s.json" 2>&1 | tr '\n' ' ')"
	else
		python3 "$json2tap" "$out/$s.json" "$s." >>"$tap"
	fi
	if [ "$rc" = "$want" ]; then
		add ok "$s.exit"
	else
		diag "odpt bench $s exited $rc, want $want (see bench-tools.log)"
		add "not ok" "$s.exit"
	fi
}

t_part=$(date +%s%N)
bench warm 0 --ops WRITE,READ,SEND --sizes "$sizes" --iters "$lat_iters" --warmup "$warmup"
name=warm-1m bench warm 0 --ops WRITE,READ,SEND --sizes "$big" --iters "$big_iters" --warmup 3
# Busy polling, as perftest polls: the odpt side of bench-perftest.txt.
name=warm-busy bench warm 0 --ops WRITE,READ --sizes "$sizes" --poll busy --side remote \
	--iters "$lat_iters" --warmup "$warmup"
bench reg 0 --iters "$reg_iters"
bench refault 0 --ops WRITE,READ --iters "$refault_iters" --warmup "$warmup"
bench prefetch 4 --iters "$lat_iters"
# rdma-core 56.1 has no advise_mr for rxe; the image's second rdma-core
# (tests/lab/suite-rdma-next.sh) has: prefetch again with odpt built for it.
pfx=/opt/odpt-lab/rdma-core-next
if [ -f "$pfx/odpt-lab.env" ] && [ -x "$ODPT_BUILD/rdma-next/src/cli/odpt" ]; then
	bin=$ODPT_BUILD/rdma-next/src/cli/odpt name=prefetch-rdma-next \
		LD_LIBRARY_PATH=$(sed -n 's/^ld_library_path=//p' "$pfx/odpt-lab.env") \
		bench prefetch 0 --iters "$lat_iters"
else
	add ok prefetch-rdma-next "SKIP no second rdma-core or no odpt built for it in this image"
fi
bench storm 0 --threads 4 --iters "$storm_iters" --warmup "$warmup"

# perftest at the same sizes and iterations, loopback on $dev: a server in
# the background, the client against 127.0.0.1 (both ODP, --odp). The
# client is retried only when it failed at once (the server not listening
# yet), never after a timeout.
mtu=$(ibv_devinfo -d "$dev" -i "$port" 2>/dev/null | sed -n 's/.*active_mtu:[[:space:]]*\([0-9]*\).*/\1/p')
perftest() { # perftest write|read SIZE_BYTES ITERS
	local kind=$1 size=$2 iters=$3 f=$out/perftest-$1-$2.txt spid rc=1
	timeout -k 5 40 "ib_${kind}_lat" -d "$dev" -i "$port" -x "$gid" --odp -n "$iters" -s "$size" \
		>"$f.server" 2>&1 &
	spid=$!
	for _ in 1 2 3 4 5; do
		sleep 1
		timeout -k 5 30 "ib_${kind}_lat" -d "$dev" -i "$port" -x "$gid" --odp -n "$iters" \
			-s "$size" 127.0.0.1 >"$f" 2>&1
		rc=$?
		[ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 137 ] && break
		kill -0 "$spid" 2>/dev/null || break
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	return $rc
}
if command -v ib_write_lat >/dev/null; then
	for kind in write read; do
		for s in 8 64 4096 65536 1048576; do
			iters=$lat_iters
			[ "$s" -gt 65536 ] && iters=$big_iters
			# ib_write_lat learns of the WRITE by polling the buffer's last
			# byte; see the hang note below.
			if [ $kind = write ] && [ "$mode" = test ] && [ -n "$mtu" ] && [ "$s" -gt "$mtu" ]; then
				add ok "perftest.${kind}_lat_$s" "SKIP test mode: ib_write_lat --odp hangs on rxe above the path MTU ($mtu); run mode tries it"
				continue
			fi
			perftest "$kind" "$s" "$iters"
			rc=$?
			if [ $rc = 0 ]; then
				add ok "perftest.${kind}_lat_$s"
			elif [ $kind = write ] && [ $rc = 124 ] && [ -n "$mtu" ] && [ "$s" -gt "$mtu" ]; then
				# Every byte of a message up to the MTU arrives; above it the
				# last byte, at an in-page offset other than 0 in a later
				# packet, never does: as the rxe ODP page-offset copy bug
				# predicts (docs/coverage.md), the poller waits for ever.
				add "not ok" "perftest.${kind}_lat_$s" "TODO ib_write_lat --odp hung (30 s) above the path MTU ($mtu): its last byte never arrived, as the rxe ODP page-offset copy bug predicts"
			else
				diag "ib_${kind}_lat -s $s: exit $rc: $(tail -n 2 "$out/perftest-$kind-$s.txt" | tr '\n' ' ')"
				add "not ok" "perftest.${kind}_lat_$s"
			fi
		done
	done
else
	add ok perftest "SKIP perftest (ib_write_lat) is not installed"
fi

# The checks on the results: recording cost, the fault - warm table, the
# side-by-side table with perftest (bench-perftest.txt).
python3 - "$out" "$sizes,$big" >>"$tap" 2>>"$out/bench-tools.log" <<'PY'
import glob, json, os, re, sys
out = sys.argv[1]
units = {"K": 1 << 10, "M": 1 << 20}
sizes = [int(s[:-1]) * units[s[-1]] if s[-1] in units else int(s) for s in sys.argv[2].split(",")]

loaded = {}
def load(name):
    if name not in loaded:
        try:
            loaded[name] = json.load(open(os.path.join(out, name + ".json")))
        except Exception as e:
            print("# %s.json: %s" % (name, e))
            loaded[name] = None
    return loaded[name]

def series(doc, name):
    return {tuple(sorted(s["labels"].items())): s for s in doc.get("series", []) if s["name"] == name}

def scal(doc, name):
    return [s for s in doc.get("scalars", []) if s["name"] == name]

warm = load("warm")
big = load("warm-1m")
if warm and big:
    warm = dict(warm, series=warm["series"] + big["series"],
                scalars=warm["scalars"] + big["scalars"])
worst = 0.0
for n in ("warm", "warm-1m", "warm-busy", "reg", "refault", "prefetch-rdma-next", "storm"):
    d = load(n)
    if not d:
        continue
    for s in scal(d, "record_cost_ratio_worst"):
        worst = max(worst, s["value"])
print("# recording cost: worst ratio to a series' p50 %.6f (%.4f%%)" % (worst, 100 * worst))
print(("ok" if 0 < worst < 0.01 else "not ok") + " check.record_cost_below_1pct")

# The fault - warm table: every op, size and side of the warm run.
table = {}
if warm:
    for s in scal(warm, "fault_minus_warm_p50_ns"):
        l = s["labels"]
        table[(l["op"], int(l["size_bytes"]), l["side"])] = s["value"]
    means = {(s["labels"]["op"], int(s["labels"]["size_bytes"]), s["labels"]["side"]): s["value"]
             for s in scal(warm, "fault_minus_warm_mean_ns")}
    def p50(name, op, size, side=None):
        for x in warm["series"]:
            l = x["labels"]
            if x["name"] == name and l["op"] == op and int(l["size_bytes"]) == size and \
                    l.get("side") == side:
                return next(e["ns"] for e in x["percentiles"] if float(e["p"]) == 50.0)
        return None
    missing = [(op, sz, side) for op in ("WRITE", "READ", "SEND") for sz in sizes
               for side in ("local", "remote") if (op, sz, side) not in table]
    with open(os.path.join(out, "bench-fault-warm.txt"), "w") as f:
        f.write("%-6s %9s %-7s %12s %12s %14s %14s\n" % ("op", "size_B", "side", "warm_p50_us",
                "fault_p50_us", "diff_p50_us", "diff_mean_us"))
        for (op, sz, side), v in sorted(table.items()):
            f.write("%-6s %9d %-7s %12.1f %12.1f %14.1f %14.1f\n" % (
                op, sz, side, (p50("warm_lat_ns", op, sz) or 0) / 1e3,
                (p50("fault_lat_ns", op, sz, side) or 0) / 1e3, v / 1e3, means[(op, sz, side)] / 1e3))
    for m in missing:
        print("# fault - warm missing for %s %d B %s" % m)
    print(("ok" if not missing else "not ok") + " check.fault_warm_table_complete")

# perftest's typical latency next to odpt's warm p50 (both in us).
def typical(kind, size):
    try:
        for line in open(os.path.join(out, "perftest-%s-%d.txt" % (kind, size))):
            f = line.split()
            if len(f) >= 5 and f[0] == str(size) and re.match(r"^[0-9.]+$", f[4]):
                return float(f[4])
    except OSError:
        pass
    return None
busy = load("warm-busy")
def busy_p50(op, size):
    for x in (busy or {}).get("series", []):
        l = x["labels"]
        if x["name"] == "warm_lat_ns" and l["op"] == op and int(l["size_bytes"]) == size:
            return next(e["ns"] for e in x["percentiles"] if float(e["p"]) == 50.0)
    return None
if warm:
    with open(os.path.join(out, "bench-perftest.txt"), "w") as f:
        f.write("# us; odpt: post to completion polled (event: sleeps on the CQ channel, busy: polls);\n"
                "# ib_read_lat: post to completion, busy; ib_write_lat: half a ping-pong round trip\n")
        f.write("%-6s %9s %12s %12s %12s %10s\n" % ("op", "size_B", "odpt_event", "odpt_busy",
                "perftest", "busy/perf"))
        for op, kind in (("WRITE", "write"), ("READ", "read")):
            for sz in sizes:
                o, b, p = p50("warm_lat_ns", op, sz), busy_p50(op, sz), typical(kind, sz)
                fmt = lambda v, d=1e3: "%.2f" % (v / d) if v else "-"
                f.write("%-6s %9d %12s %12s %12s %10s\n" % (op, sz, fmt(o), fmt(b), fmt(p, 1),
                        "%.2f" % (b / 1e3 / p) if b and p else "-"))
PY

# odpt compare on bench results: a result against itself is no change
# (exit 0); results of two scenarios are a usage error (exit 2).
if [ -f "$out/warm.json" ] && [ -f "$out/reg.json" ]; then
	"$ODPT_BIN" compare "$out/warm.json" "$out/warm.json" >"$out/compare-self.txt" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q 'summary: no regression' "$out/compare-self.txt"; then
		add ok check.compare_self_no_change
	else
		diag "odpt compare warm.json warm.json: exit $rc: $(tail -n 1 "$out/compare-self.txt")"
		add "not ok" check.compare_self_no_change
	fi
	"$ODPT_BIN" compare "$out/warm.json" "$out/reg.json" >"$out/compare-scenarios.txt" 2>&1
	rc=$?
	if [ $rc = 2 ]; then
		add ok check.compare_scenarios_refused
	else
		diag "odpt compare warm.json reg.json: exit $rc, want 2"
		add "not ok" check.compare_scenarios_refused
	fi
fi

# A regression injected on purpose: ODPT_TEST_POST_DELAY_US (test only)
# makes odpt's post path sleep 100 us before ibv_post_send. Five plain runs
# against five more must compare as no change, five slowed runs as a
# regression (exit 1). The runs are interleaved, so that a drift of the
# host's load falls on both sides, and compared as repeated runs (a verdict
# needs every run of one side beyond every run of the other, which five and
# five exchangeable runs do once in 252, besides the pooled test), with a
# 20 % threshold: a TCG guest on a shared host moves a single run's p50 by
# more than the default 5 % (41 % seen between two runs); the delay
# multiplies it.
rargs=(--ops WRITE --sizes 64 --side remote --iters "$lat_iters" --warmup "$warmup")
for i in 1 2 3 4 5; do
	name=regr-base$i bench warm 0 "${rargs[@]}"
	name=regr-again$i bench warm 0 "${rargs[@]}"
	ODPT_TEST_POST_DELAY_US=100 name=regr-slow$i bench warm 0 "${rargs[@]}"
done
runs() { local i l=""; for i in 1 2 3 4 5; do l+=${l:+,}$out/$1$i.json; done; echo "$l"; }
regr() { # regr NAME NEW WANT_RC
	local rc
	"$ODPT_BIN" compare --threshold-pct 20 "$(runs regr-base)" "$(runs "$2")" >"$out/compare-$1.txt" 2>&1
	rc=$?
	if [ $rc = "$3" ]; then
		add ok "check.$1"
	else
		diag "odpt compare --threshold-pct 20 regr-base{1..5} $2{1..5}: exit $rc, want $3: $(tail -n 1 "$out/compare-$1.txt")"
		add "not ok" "check.$1"
	fi
}
if ls "$out"/regr-base[1-5].json "$out"/regr-again[1-5].json "$out"/regr-slow[1-5].json >/dev/null 2>&1; then
	regr identical_runs_no_change regr-again 0
	regr injected_delay_caught regr-slow 1
else
	diag "the regression check's runs did not all write results"
	add "not ok" check.regression_runs
fi

diag "bench part wall time: $((($(date +%s%N) - t_part) / 1000000)) ms (mode $mode)"
{
	echo "TAP version 13"
	echo "# odpt bench on $dev ($mode)"
	n=0
	while IFS= read -r l; do
		case $l in
		"#"*) echo "$l" ;;
		*) n=$((n + 1)); echo "$l" | sed -E "s/^(ok|not ok) /\\1 $n /" ;;
		esac
	done <"$tap"
	echo "1..$n"
} >"$out/bench.tap"
grep -E '^(not ok|# bench|# recording|# odpt)' "$out/bench.tap"
cat "$out/bench-fault-warm.txt" "$out/bench-perftest.txt" 2>/dev/null
# A "# TODO" line is a known failure (TAP), not one of ours.
grep '^not ok' "$out/bench.tap" | grep -qv '# TODO' && exit 1
exit 0
