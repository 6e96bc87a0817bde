#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `cmake --install BUILD --prefix P` into a fresh temporary prefix, then:
# every file that belongs there is there (binary, libodpt.so.VERSION with
# soname libodpt.so.SOVERSION and its links, exactly the headers that
# declare ODPT_API, libodpt.pc naming P, odpt(1), the bash completion,
# README and docs, the license texts); each installed header compiles on
# its own against the installed tree; a C program built with nothing but
# `pkg-config --cflags --libs libodpt` links the installed library and
# prints the percentiles of 1..1000; the installed odpt runs.
# usage: install_test.sh BUILD SOURCE WORK VERSION LIBDIR [CC [CFLAGS]]
# (CFLAGS: e.g. the sanitizers the library was built with)
set -u
build=$1 src=$2 work=$3 version=$4 libdir=$5 cc=${6:-cc} cflags=${7:-}
prefix=$work/install-test
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install-test.log" 2>&1 ||
	{ cat "$work/install-test.log"; echo "FAIL: cmake --install"; exit 1; }

soversion=${version%%.*}
for f in bin/odpt "$libdir/libodpt.so.$version" "$libdir/pkgconfig/libodpt.pc" \
	 share/man/man1/odpt.1 share/bash-completion/completions/odpt \
	 share/doc/odpt/README.md share/doc/odpt/design.md share/doc/odpt/metrics.md \
	 share/doc/odpt/testing.md share/doc/odpt/LICENSE; do
	[ -f "$prefix/$f" ] && echo "ok: $f" || fail "$f not installed"
done
for l in "libodpt.so.$soversion:libodpt.so.$version" "libodpt.so:libodpt.so.$soversion"; do
	link=${l%%:*} target=${l#*:}
	[ "$(readlink "$prefix/$libdir/$link")" = "$target" ] && echo "ok: $link -> $target" ||
		fail "$libdir/$link is not a link to $target"
done
soname=$(objdump -p "$prefix/$libdir/libodpt.so.$version" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libodpt.so.$soversion" ] && echo "ok: soname $soname" ||
	fail "soname '$soname', want libodpt.so.$soversion"
# The license texts the SPDX lines name.
for id in $(grep -rhoE 'SPDX-License-Identifier: [A-Za-z0-9.+ -]+' "$src/src" "$src/include" \
		"$src/tools" "$src/tests" | sed 's/.*: //; s/ OR /\n/g' | tr -d ' ' | sort -u); do
	[ -f "$prefix/share/doc/odpt/LICENSES/$id.txt" ] && echo "ok: LICENSES/$id.txt" ||
		fail "no LICENSES/$id.txt for the SPDX id $id"
done

# Headers: exactly those declaring ODPT_API (api.h defines it).
want=$(grep -l 'ODPT_API' "$src"/include/odpt/*.h | xargs -n1 basename | sort | tr '\n' ' ')
got=$(ls "$prefix/include/odpt" | sort | tr '\n' ' ')
[ "$got" = "$want" ] && echo "ok: headers $got" || fail "headers '$got', want '$want'"
for h in "$prefix"/include/odpt/*.h; do
	printf '#include <odpt/%s>\nint odpt_header_check;\n' "$(basename "$h")" |
		"$cc" -std=c11 -Wall -Werror -fsyntax-only -I"$prefix/include" -x c - ||
		fail "$h does not compile on its own against the installed headers"
done

# The .pc names this prefix, and a program builds and runs with it alone.
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
[ "$(pkg-config --variable=prefix libodpt)" = "$prefix" ] && echo "ok: .pc prefix" ||
	fail "libodpt.pc prefix is '$(pkg-config --variable=prefix libodpt)', want $prefix"
[ "$(pkg-config --modversion libodpt)" = "$version" ] || fail "libodpt.pc version"
pkg-config --static --libs libodpt | grep -q -- '-ljson-c' || fail "Requires.private json-c missing"
pkg-config --static --libs libodpt | grep -q -- '-lm' || fail "Libs.private -lm missing"
# shellcheck disable=SC2046,SC2086
"$cc" $cflags -std=c11 -Wall -Werror -o "$work/install-client" "$src/tests/install/install_client.c" \
	$(pkg-config --cflags --libs libodpt) || fail "the client does not build with libodpt.pc"
out=$(LD_LIBRARY_PATH="$prefix/$libdir" "$work/install-client")
echo "$out" | head -1
# 1..1000 ns, below 2048 every value has its own counter: the 500th and
# the 990th sample exactly.
[ "$(echo "$out" | head -1)" = "count=1000 p50=500 p99=990 max=1000" ] || fail "client printed '$out'"
echo "$out" | grep -q '"command": "install client"' || fail "client's JSON"
LD_LIBRARY_PATH="$prefix/$libdir" ldd "$work/install-client" | grep -q "$prefix/$libdir/libodpt.so.$soversion" ||
	fail "the client is not linked to the installed libodpt"
[ "$("$prefix/bin/odpt" -V)" = "odpt $version" ] && echo "ok: installed odpt -V" || fail "installed odpt -V"

if [ "$fails" -ne 0 ]; then
	echo "$fails install check(s) failed"
	exit 1
fi
echo "all install checks passed"
