#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "suite": runs the ODP regression suite (odpt suite run) on the
# lab's RDMA device inside the guest, per the lab part contract
# (tools/odpt-lab): `test` asserts (exit 0 iff nothing failed), `run` is the
# main job (the same suite, its wall time recorded for the summary). Writes
# $ODPT_OUT/suite.tap (TAP 13), suite.json and suite.junit.xml.
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
mkdir -p "$ODPT_OUT"

# The hugetlb cases need free 2 MiB pages; the guest is ours to configure.
# Without them those cases SKIP with the reason, they do not fail.
if [ -w /proc/sys/vm/nr_hugepages ] &&
   [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 8 ]; then
	echo 8 > /proc/sys/vm/nr_hugepages || true
fi

t0=$(date +%s%N)
"$ODPT_BIN" suite run --dev "$dev" --port "$port" --gid "$gid" \
	--json "$ODPT_OUT/suite.json" --junit "$ODPT_OUT/suite.junit.xml" \
	> "$ODPT_OUT/suite.tap"
rc=$?
t1=$(date +%s%N)
echo "suite wall time (incl. process start): $(( (t1 - t0) / 1000000 )) ms" \
	| tee "$ODPT_OUT/suite-wall.txt"
grep -E '^(not ok|ok .* # (SKIP|XFAIL))' "$ODPT_OUT/suite.tap" | sed 's/^/suite: /' | cut -c1-200
tail -n 2 "$ODPT_OUT/suite.tap"

# Per-MR ODP counters: the netlink client must have found, in the device's
# RES_MR dump, every ODP MR the cases registered (counters or not: rxe has
# none, and each test must say so). A test-mode check: it fails the part.
if [ "$mode" = test ]; then
	python3 - "$ODPT_OUT/suite.json" <<'PY' || rc=1
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
print("suite: odp_counters: %d of %d ODP MRs found over RDMA netlink; device: %s" %
      (found, mrs, top.get("counters") or top.get("why")))
for b in bad:
    print("suite: odp_counters FAIL " + b)
sys.exit(1 if bad or not mrs else 0)
PY
fi
exit $rc
