#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "suite": runs the ODP regression suite (odpt suite run) on the
# lab's RDMA device inside the guest, per the lab part contract
# (tools/odpt-lab): `test` asserts (exit 0 iff nothing failed), `run` is the
# main job (the same suite, its wall time recorded for the summary). Two
# passes: loopback on $ODPT_DEV, then two devices, requester on $ODPT_DEV
# and responder on $ODPT_PEER_DEV (rxe1, made by tools/lab/guest/rxe.sh in
# its own network namespace). Writes $ODPT_OUT/suite.tap (TAP 13),
# suite.json, suite.junit.xml for the first and suite.2dev.{tap,json,
# junit.xml} for the second (the lab counts it as part "suite.2dev"); a
# missing rxe1 makes the second pass one SKIP with the reason. Another part
# running the suite with another build (suite-rdma-next.sh) sets
# ODPT_SUITE_NAME to name its files after itself, may pass more options to
# `odpt suite run` in ODPT_SUITE_ARGS, and ODPT_SUITE_TWO_DEVICE=0 leaves
# out the two-device pass. ODPT_FIXED_BUGS (set by the lab when it loads
# patched modules, docs/patches.md) names the known bugs the kernel under
# test fixes: their cases must pass.
set -u
mode=${1:-}
case $mode in
test|run) ;;
*) echo "usage: $0 test|run" >&2; exit 2 ;;
esac
for v in ODPT_BIN ODPT_OUT; do
	if [ -z "${!v:-}" ]; then
		echo "suite.sh: $v is not set (see the lab part contract)" >&2
		exit 2
	fi
done
dev=${ODPT_DEV:-rxe0} port=${ODPT_PORT:-1} gid=${ODPT_GID:-1}
peer_dev=${ODPT_PEER_DEV:-rxe1} peer_port=${ODPT_PEER_PORT:-1} peer_gid=${ODPT_PEER_GID:-1}
rxe1_status=${RXE1_STATUS:-/run/odpt-rxe1.status}
name=${ODPT_SUITE_NAME:-suite} two_device=${ODPT_SUITE_TWO_DEVICE:-1}
mkdir -p "$ODPT_OUT"

# The hugetlb cases need free 2 MiB pages; the guest is ours to configure.
# Without them those cases SKIP with the reason, they do not fail.
if [ -w /proc/sys/vm/nr_hugepages ] &&
   [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 8 ]; then
	echo 8 > /proc/sys/vm/nr_hugepages || true
fi

# pass NAME FILE_BASE ARGS...: one suite run, its TAP on FILE_BASE.tap.
pass() {
	local name=$1 base=$2 t0 t1 rc
	shift 2
	t0=$(date +%s%N)
	"$ODPT_BIN" --raw-buckets suite run "$@" ${ODPT_FIXED_BUGS:+--fixed="$ODPT_FIXED_BUGS"} \
		--json "$ODPT_OUT/$base.json" --junit "$ODPT_OUT/$base.junit.xml" \
		> "$ODPT_OUT/$base.tap"
	rc=$?
	t1=$(date +%s%N)
	echo "$name wall time (incl. process start): $(( (t1 - t0) / 1000000 )) ms" \
		| tee -a "$ODPT_OUT/$name-wall.txt"
	grep -E '^(not ok|ok .* # (SKIP|XFAIL))' "$ODPT_OUT/$base.tap" | sed "s/^/$name: /" | cut -c1-200
	tail -n 2 "$ODPT_OUT/$base.tap"
	return $rc
}

# Per-MR ODP counters: the netlink client must have found, in the device's
# RES_MR dump, every ODP MR the cases registered (counters or not: rxe has
# none, and each test must say so). A test-mode check: it fails the part.
odp_counters_check() {
	python3 - "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
bad, mrs, found = [], 0, 0
for t in doc["tests"]:
    c = t.get("odp_counters")
    if c is None:
        continue
    mrs += c["mrs"]
    found += c["mrs_found"]
    if c["mrs_found"] != c["mrs"] or (not c["available"] and not c.get("reason")):
        bad.append("%s: %d of %d ODP MRs found: %s" % (t["name"], c["mrs_found"], c["mrs"],
                                                     c.get("reason")))
top = doc["odp_counters"]
print("%s: odp_counters: %d of %d ODP MRs found over RDMA netlink; device: %s" %
      (sys.argv[2], found, mrs, top.get("counters") or top.get("why")))
for b in bad:
    print(sys.argv[2] + ": odp_counters FAIL " + b)
sys.exit(1 if bad or not mrs else 0)
PY
}

# SIGINT in the middle of a run: the TAP streamed so far (a SKIP line came
# before the signal) ends in "Bail out!", the JSON (summary bail_out) and
# JUnit files hold the partial results, the exit code is not 0. Its verdict
# is the one-test TAP suite.sigint.tap (the lab counts it as part
# "suite.sigint"); the interrupted run's own output is kept as *.txt.
sigint_check() {
	local base=$ODPT_OUT/suite.sigint-run out=$ODPT_OUT/suite.sigint.tap pid rc bad=
	"$ODPT_BIN" --raw-buckets suite run --dev "$dev" --port "$port" --gid "$gid" \
		--filter 'xrc_send_recv,rc_write_mixed_sge' --iters 1000000 \
		--json "$base.json" --junit "$base.junit.xml" > "$base.tap.txt" 2> "$base.err.txt" &
	pid=$!
	for _ in $(seq 1 300); do
		grep -qE '^(ok|not ok) 1 ' "$base.tap.txt" && break
		sleep 0.1
	done
	sleep 1
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	[[ $rc != 0 ]] || bad+="exit code 0; "
	grep -qE '^ok 1 xrc_send_recv( |$)' "$base.tap.txt" || bad+="no streamed line for case 1; "
	grep -qE '^not ok 2 rc_write_mixed_sge' "$base.tap.txt" || bad+="the interrupted case is not reported; "
	[[ $(tail -n 1 "$base.tap.txt") == "Bail out! interrupted by SIGINT" ]] || bad+="TAP does not end in Bail out!; "
	python3 - "$base.json" <<'PY' || bad+="JSON without the partial results; "
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["result"] == "bail_out", d.get("summary")
assert [t["name"] for t in d["tests"]] == ["xrc_send_recv", "rc_write_mixed_sge"]
assert "interrupted" in d["tests"][1]["reason"]
PY
	grep -q 'rc_write_mixed_sge' "$base.junit.xml" 2>/dev/null || bad+="JUnit without the partial results; "
	{
		printf 'TAP version 13\n1..1\n# odpt suite run interrupted by SIGINT (exit %d)\n' "$rc"
		sed 's/^/# run: /' "$base.tap.txt" | grep -vE '^# run: # (odp_counters|libibverbs|config)' | tail -n 8
		if [[ -z $bad ]]; then
			echo "ok 1 sigint_partial_results"
		else
			echo "# sigint: ${bad%; }"
			echo "not ok 1 sigint_partial_results"
		fi
	} > "$out"
	echo "suite.sigint: exit $rc, ${bad:-partial TAP, JSON and JUnit written}"
	[[ -z $bad ]]
}

rm -f "$ODPT_OUT/$name-wall.txt"
# shellcheck disable=SC2086 # ODPT_SUITE_ARGS: words on purpose
pass "$name" "$name" --dev "$dev" --port "$port" --gid "$gid" ${ODPT_SUITE_ARGS:-}
rc=$?
if [ "$mode" = test ]; then
	odp_counters_check "$ODPT_OUT/$name.json" "$name" || rc=1
fi
if [[ $name == suite ]]; then
	sigint_check || rc=1
fi
[[ $two_device == 1 ]] || exit $rc

# The second device exists only when rxe.sh could make it; else one SKIP
# that says why, so the pass is never silently absent.
why=
if [[ -f $rxe1_status && $(cat "$rxe1_status") == skip:* ]]; then
	why=$(sed 's/^skip: //' "$rxe1_status")
elif [[ ! -e /sys/class/infiniband/$peer_dev ]]; then
	why="RDMA device $peer_dev does not exist (tools/lab/guest/rxe.sh did not create it)"
fi
if [[ -n $why ]]; then
	printf 'TAP version 13\n1..1\n# odpt suite run (two devices: %s -> %s)\nok 1 two_device_pass # SKIP %s\n' \
		"$dev" "$peer_dev" "$why" > "$ODPT_OUT/suite.2dev.tap"
	echo "suite.2dev: SKIP: $why"
else
	pass suite.2dev suite.2dev --dev "$dev" --port "$port" --gid "$gid" \
		--peer-dev "$peer_dev" --peer-port "$peer_port" --peer-gid "$peer_gid"
	rc2=$?
	if [[ $mode == test ]]; then
		odp_counters_check "$ODPT_OUT/suite.2dev.json" suite.2dev || rc2=1
	fi
	[[ $rc == 0 ]] && rc=$rc2
fi
exit $rc
