#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The DKMS source tree (install component dkms, cmake/OdptDkms.cmake) is
# self-contained: installed into a temporary prefix, its dkms.conf names the
# module and the project's version, every object in Kbuild has its source
# and every #include "..." resolves inside the tree (uapi/ included), so
# DKMS needs nothing else from the repository. (Building it needs kernel
# headers: the lab does that, tests/lab/package.sh.)
# usage: dkms_tree.sh CMAKE BUILD_DIR VERSION
set -u
cmake=$1 build=$2 version=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "dkms_tree: $*" >&2; exit 1; }

"$cmake" --install "$build" --component dkms --prefix "$tmp" >"$tmp/install.log" 2>&1 ||
	fail "cmake --install --component dkms failed: $(tail -n 3 "$tmp/install.log")"
tree=$tmp/src/odpt-hmm-$version
[ -f "$tree/dkms.conf" ] || fail "no $tree/dkms.conf"

# dkms sources dkms.conf with these set.
facts=$(cd "$tree" && kernel_source_dir=/k dkms_tree=/var/lib/dkms bash -c \
	'. ./dkms.conf && echo "$PACKAGE_NAME|$PACKAGE_VERSION|${BUILT_MODULE_NAME[0]}|${MAKE[0]}|$AUTOINSTALL"') ||
	fail "dkms.conf does not source: $facts"
want="odpt-hmm|$version|odpt_hmm|make -C /k M=/var/lib/dkms/odpt-hmm/$version/build modules|yes"
[ "$facts" = "$want" ] || fail "dkms.conf gives '$facts', want '$want'"

# Kbuild's objects and the module's own includes.
objs=$(sed -n 's/^odpt_hmm-y *:= *//p; s/^\t *\([a-z_ .]*\.o.*\)$/\1/p' "$tree/Kbuild" | tr -d '\\')
[ -n "$objs" ] || fail "no odpt_hmm-y objects in Kbuild"
n=0
for o in $objs; do
	[ -f "$tree/${o%.o}.c" ] || fail "Kbuild object $o has no ${o%.o}.c in the tree"
	n=$((n + 1))
done
for f in "$tree"/*.c "$tree"/*.h "$tree"/uapi/*.h; do
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		[ -f "$tree/$inc" ] || [ -f "$tree/uapi/$inc" ] || [ -f "$(dirname "$f")/$inc" ] ||
			fail "${f#"$tree"/} includes \"$inc\", which is not in the tree"
	done
done
echo "dkms_tree: $tree: dkms.conf ok, $n objects with sources, all includes inside the tree"
