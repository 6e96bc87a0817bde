#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# lava/tap2lava.sh against a fake lava-test-case that logs its arguments:
# the report writer's golden TAP (every verdict, XFAIL and XPASS included),
# the real binary's skip-all output (no RDMA device on the host), and the
# incomplete files (truncated, no plan, Bail out!) that must fail.
# usage: tap2lava_test.sh SRC_DIR ODPT_BIN
set -u
src=$1 odpt=$2
conv=$src/lava/tap2lava.sh
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "$*" >>"%s"\n' "$tmp/calls" >"$tmp/bin/lava-test-case"
chmod +x "$tmp/bin/lava-test-case"
n_fail=0

# check NAME WANT_RC TAPFILE EXPECTED_CALLS [ARGS...]
check() {
	name=$1 want_rc=$2 file=$3 want=$4
	shift 4
	: >"$tmp/calls"
	PATH=$tmp/bin:$PATH sh "$conv" "$@" "$file" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" != "$want_rc" ] || [ "$(cat "$tmp/calls")" != "$want" ]; then
		echo "not ok $name: rc $rc (want $want_rc); calls:"
		sed 's/^/    /' "$tmp/calls"
		echo "  want:"
		printf '%s\n' "$want" | sed 's/^/    /'
		sed 's/^/  stderr: /' "$tmp/out"
		n_fail=$((n_fail + 1))
	else
		echo "ok $name"
	fi
}

check golden 1 "$src/tests/unit/golden/report.tap" "suite.rc_write --result pass
suite.rc_read_page_crossing --result pass --measurement 1 --units xfail
suite.ud_send --result skip
suite.rc_atomic_cas --result fail
suite.fixed_bug_____ --result fail --measurement 1 --units xpass" -p suite

printf 'TAP version 13\n1..2\nok 1 a\n  ---\n  note: yaml\n  ...\n    ok 1 nested_ignored\nok 2 - b # TODO later\n' >"$tmp/pass.tap"
check all_pass 0 "$tmp/pass.tap" "a --result pass
b --result pass --measurement 1 --units todo"

"$odpt" suite run >"$tmp/skip.tap" 2>/dev/null
check skip_all 0 "$tmp/skip.tap" "suite.all --result skip" -p suite

printf 'TAP version 13\n1..3\nok 1 a\nok 2 b\n' >"$tmp/short.tap"
check truncated 1 "$tmp/short.tap" "a --result pass
b --result pass
plan --result fail"

printf 'TAP version 13\nok 1 a\n' >"$tmp/noplan.tap"
check no_plan 1 "$tmp/noplan.tap" "x.a --result pass
x.plan --result fail" -p x

printf 'TAP version 13\nok 1 a\nBail out! watchdog\n' >"$tmp/bail.tap"
check bail_out 1 "$tmp/bail.tap" "a --result pass
bail_out --result fail"

check missing_file 2 "$tmp/none.tap" ""
# Outside a LAVA test shell: a clear error, nothing reported.
if env PATH=/usr/bin:/bin sh "$conv" "$tmp/pass.tap" 2>"$tmp/out"; then
	echo "not ok no_lava_test_case: exit 0 without lava-test-case"
	n_fail=$((n_fail + 1))
elif grep -q 'lava-test-case is not in PATH' "$tmp/out"; then
	echo "ok no_lava_test_case"
else
	echo "not ok no_lava_test_case: $(cat "$tmp/out")"
	n_fail=$((n_fail + 1))
fi
[ $n_fail = 0 ]
