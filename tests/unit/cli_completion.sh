#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The bash completion the build generated (odpt help --bash-completion):
# it is what the binary generates now, and sourced in bash, _odpt completes
# objects (every one odpt --help lists), verbs (every one odpt help OBJECT
# lists), options, and the values of choice options, with the word split at
# '=' as bash does or not, global options and their values skipped, and
# objects and verbs given by a unique prefix.
# usage: cli_completion.sh ODPT_BIN GENERATED_SCRIPT
set -u
odpt=$1 script=$2
fails=0

if ! diff -q <("$odpt" help --bash-completion) "$script" >/dev/null; then
	echo "FAIL: $script differs from odpt help --bash-completion (stale build?)"
	fails=$((fails + 1))
fi
# shellcheck source=/dev/null
source "$script"

# want "WORDS... CURRENT" "EXPECTED REPLIES" (replies sorted, space-joined)
want() {
	local expect=$2 got
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_odpt
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
	got=${got% }
	expect=$(tr ' ' '\n' <<<"$expect" | sed '/^$/d' | sort | tr '\n' ' ')
	expect=${expect% }
	if [[ $got == "$expect" ]]; then
		echo "ok: '$1' -> $got"
	else
		echo "FAIL: '$1' -> '$got', want '$expect'"
		fails=$((fails + 1))
	fi
}

# Objects and verbs: exactly those the binary lists in its help.
objects=$("$odpt" --help | sed -n '/^objects:/,/^$/p' | sed -n 's/^  \([a-z]\+\) .*/\1/p')
[[ $(wc -w <<<"$objects") -ge 5 ]] || { echo "FAIL: no objects in odpt --help"; fails=$((fails + 1)); }
want "odpt " "$objects help"
for obj in $objects; do
	verbs=$("$odpt" help "$obj" | sed -n '/^verbs:/,/^$/p' | sed -n 's/^  \([a-z]\+\) .*/\1/p')
	[[ -n $verbs ]] || continue
	want "odpt $obj " "$verbs"
	want "odpt help $obj " "$verbs"
	want "odpt -o x.json --format json $obj " "$verbs"
done
want "odpt h" "hist help"
want "odpt dev " "list help"
want "odpt help sh" "shim"

# Options and option values.
want "odpt --format " "table json csv hgrm tap junit"
want "odpt --format = j" "json junit"
want "odpt --format=c" "csv"
want "odpt --format = json hist " "check bench help"
want "odpt hist check --" "--samples --records --help"
want "odpt hist -" "-n --samples --records --help"
want "odpt hi ch --s" "--samples"
want "odpt shim load --device " "auto edu faux"
want "odpt shim load --device = e" "edu"
want "odpt shim load --device=f" "faux"
want "odpt shim flags --touch r" "read"
want "odpt iommufd bench --domain " "mock none"
want "odpt compare --m" "--metric --min-samples"
want "odpt -" "-j --json --format -o --output --raw-buckets --stable -v --verbose -V --version -h --help"
# A value that is not a choice: nothing from us (the shell's file names).
want "odpt -o " ""
want "odpt hist check --samples " ""

if ((fails)); then
	echo "$fails completion check(s) failed"
	exit 1
fi
echo "all completion checks passed"
