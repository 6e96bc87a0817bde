#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# tap2lava.sh [-p PREFIX] TAPFILE: report every result of a TAP 13 file (as
# odpt writes it) to LAVA, one `lava-test-case NAME --result R` per case,
# NAME = PREFIX.case with every character outside [A-Za-z0-9_.-] made "_".
#   ok N name                -> pass
#   not ok N name            -> fail
#   ok N name # SKIP why     -> skip
#   ok N name # XFAIL why    -> pass, --measurement 1 --units xfail
#   not ok N name # XPASS    -> fail, --measurement 1 --units xpass
#   ok N name # TODO ...     -> as the status says, --units todo
# (LAVA has only pass/fail/skip/unknown: an expected failure, a documented
# kernel or driver bug, passes as odpt counts it and stays findable by its
# units; the case name stays the one the suite uses, so its history in
# LAVA continues when the bug is fixed.)
#   1..0 # SKIP why          -> PREFIX.all skip
#   Bail out!                -> PREFIX.bail_out fail
#   fewer results than the plan, or no plan -> PREFIX.plan fail
# The exit status is 0 when every line was reported, 1 when a case failed
# or the file is incomplete, 2 on bad usage. lava-test-case is taken from
# PATH (the LAVA test shell puts it there; tests put a fake one there).
set -u

usage() {
	echo "usage: tap2lava.sh [-p PREFIX] TAPFILE" >&2
	exit 2
}

prefix=""
while getopts p: o; do
	case $o in
	p) prefix=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
tap=$1
[ -r "$tap" ] || { echo "tap2lava.sh: cannot read $tap" >&2; exit 2; }
command -v lava-test-case >/dev/null 2>&1 ||
	{ echo "tap2lava.sh: lava-test-case is not in PATH (not in a LAVA test shell?)" >&2; exit 2; }

name_of() {
	if [ -n "$prefix" ]; then
		printf '%s.%s' "$prefix" "$1"
	else
		printf '%s' "$1"
	fi | tr -c 'A-Za-z0-9_.\n-' '_'
}

status=0
planned=""
reported=0
bailed=0
case_() {
	lava-test-case "$(name_of "$1")" --result "$2" ${3:+--measurement 1 --units "$3"} || status=1
	[ "$2" = fail ] && status=1
	return 0
}

while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	"Bail out!"*) bailed=1 ;;
	1..0*"# SKIP"* | 1..0*"# skip"*) planned=0; case_ all skip ;;
	1..*) planned=${line#1..}; planned=${planned%% *} ;;
	"ok "* | "not ok "*)
		reported=$((reported + 1))
		if [ "${line#not ok }" != "$line" ]; then ok=0; rest=${line#not ok }; else ok=1; rest=${line#ok }; fi
		# "N name # DIRECTIVE reason": drop the number, split the directive.
		num=${rest%% *}
		case $num in '' | *[!0-9]*) ;; *) rest=${rest#"$num"}; rest=${rest# } ;; esac
		rest=${rest#- }
		name=${rest%% \# *}
		directive=""
		[ "$name" != "$rest" ] && directive=${rest#* \# }
		name=${name%"${name##*[! ]}"}
		case $directive in
		SKIP* | skip*) case_ "$name" skip ;;
		XFAIL* | xfail*) if [ $ok = 1 ]; then case_ "$name" pass xfail; else case_ "$name" fail xfail; fi ;;
		XPASS* | xpass*) case_ "$name" fail xpass ;;
		TODO* | todo*) if [ $ok = 1 ]; then case_ "$name" pass todo; else case_ "$name" fail todo; fi ;;
		*) if [ $ok = 1 ]; then case_ "$name" pass; else case_ "$name" fail; fi ;;
		esac
		;;
	esac
done <"$tap"

if [ $bailed = 1 ]; then
	case_ bail_out fail
elif [ -z "$planned" ]; then
	echo "tap2lava.sh: $tap has no plan line (1..N): the run did not finish" >&2
	case_ plan fail
elif [ "$planned" != 0 ] && [ "$reported" -lt "$planned" ]; then
	echo "tap2lava.sh: $tap planned $planned results, has $reported" >&2
	case_ plan fail
fi
exit $status
