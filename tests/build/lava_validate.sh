#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# lava/validate.py with LAVA's own schemas (lava-common): the test
# definition and both job templates are valid, and a job without a device
# type, one with a misspelt key and one passing an unknown parameter are
# each refused with one line naming the file. Exit 77 (ctest: skipped)
# without lava-common.
# usage: lava_validate.sh SRC_DIR PYTHON3
set -u
src=$1 py=$2
"$py" -c 'import lava_common.schemas' 2>/dev/null || {
	echo "lava-common is not installed (apt-get install lava-common): skipped"
	exit 77
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
cd "$src" || exit 1
"$py" lava/validate.py lava/odpt-suite.yaml lava/jobs/*.yaml || fail=1

job=lava/jobs/qemu-odpt.yaml
grep -v '^device_type:' "$job" >"$tmp/nodev.yaml"
sed 's/media: tmpfs/medium: tmpfs/' "$job" >"$tmp/typo.yaml"
sed 's/ODPT_FROM: installed/ODPT_FORM: installed/' "$job" >"$tmp/param.yaml"
# expect FILE PATTERN: refused, in exactly one line that names FILE
expect() {
	if out=$("$py" lava/validate.py "$1"); then
		echo "not refused: $1"; fail=1
	elif [ "$(printf '%s\n' "$out" | wc -l)" != 1 ] || ! printf '%s' "$out" | grep -q "^$1: .*$2"; then
		echo "wrong message for $1: $out"; fail=1
	else
		echo "refused: $out"
	fi
}
expect "$tmp/nodev.yaml" 'device_type'
expect "$tmp/typo.yaml" "extra keys not allowed.*medium"
expect "$tmp/param.yaml" 'parameter ODPT_FORM is not one of'
exit $fail
