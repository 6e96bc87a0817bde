#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The README's promises about the CLI: every odpt command of its "try it"
# block (between the try:begin and try:end markers) runs from the source
# tree, as written, with the odpt this build made (build/src/cli/odpt
# stands for it; the apt-get and cmake lines that make it are not rerun),
# exits 0 and prints something; and its object table lists exactly the
# objects odpt --help lists.
# usage: readme_try.sh ODPT_BIN SOURCE_DIR
set -u
odpt=$1 src=$2
fails=0
cd "$src" || exit 1

block=$(sed -n '/<!-- try:begin/,/<!-- try:end/p' README.md)
ran=0
while read -r line; do
	[[ $line == build/src/cli/odpt* ]] || continue
	cmd="$odpt${line#build/src/cli/odpt}"
	if out=$(bash -c "$cmd" 2>&1) && [[ -n $out ]]; then
		echo "ok: $line"
	else
		echo "FAIL: $line (exit $?):"
		echo "$out" | tail -20
		fails=$((fails + 1))
	fi
	ran=$((ran + 1))
done <<<"$block"
((ran >= 3)) || { echo "FAIL: only $ran odpt commands in the README's try block"; fails=$((fails + 1)); }

readme=$(sed -n '/<!-- objects:begin/,/<!-- objects:end/p' README.md |
	sed -n 's/^| `\([a-z]*\)` |.*/\1/p' | sort | tr '\n' ' ')
listed=$("$odpt" --help | sed -n '/^objects:/,/^$/p' | sed -n 's/^  \([a-z]\+\) .*/\1/p' |
	sort | tr '\n' ' ')
if [[ $readme == "$listed" && -n $listed ]]; then
	echo "ok: README lists the objects $listed"
else
	echo "FAIL: README's object table has '$readme', odpt lists '$listed'"
	fails=$((fails + 1))
fi

((fails)) && { echo "$fails README check(s) failed"; exit 1; }
echo "all README checks passed"
