#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "suite": runs the ODP regression suite (odpt suite run) on the
# lab's RDMA device inside the guest, per the lab part contract
# (tools/odpt-lab): `test` asserts (exit 0 iff nothing failed), `run` is the
# main job (the same suite, its wall time recorded for the summary). Writes
# $ODPT_OUT/suite.tap (TAP 13), suite.json and suite.junit.xml; another part
# running the suite with another build (suite-rdma-next.sh) sets
# ODPT_SUITE_NAME to name its files after itself and may pass more options
# to `odpt suite run` in ODPT_SUITE_ARGS.
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
name=${ODPT_SUITE_NAME:-suite}
mkdir -p "$ODPT_OUT"

# The hugetlb cases need free 2 MiB pages; the guest is ours to configure.
# Without them those cases SKIP with the reason, they do not fail.
if [ -w /proc/sys/vm/nr_hugepages ] &&
   [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 8 ]; then
	echo 8 > /proc/sys/vm/nr_hugepages || true
fi

t0=$(date +%s%N)
# shellcheck disable=SC2086 # ODPT_SUITE_ARGS: words on purpose
"$ODPT_BIN" suite run --dev "$dev" --port "$port" --gid "$gid" ${ODPT_SUITE_ARGS:-} \
	--json "$ODPT_OUT/$name.json" --junit "$ODPT_OUT/$name.junit.xml" \
	> "$ODPT_OUT/$name.tap"
rc=$?
t1=$(date +%s%N)
echo "suite wall time (incl. process start): $(( (t1 - t0) / 1000000 )) ms" \
	| tee "$ODPT_OUT/$name-wall.txt"
grep -E '^(not ok|ok .* # (SKIP|XFAIL))' "$ODPT_OUT/$name.tap" | sed "s/^/$name: /" | cut -c1-200
tail -n 2 "$ODPT_OUT/$name.tap"
exit $rc
