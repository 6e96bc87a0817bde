#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The run step of lava/odpt-suite.yaml, on the device under test, from the
# root of the odpt checkout LAVA made. Reports to LAVA with lava-test-case:
#   setup.odpt, setup.rdma_device     what the run needs
#   suite.<case>                      every case of `odpt suite run`
#   shim.<case>                       the shim: tests/lab/shim.sh (source
#                                     builds: module, odpt-shim-test, verify,
#                                     splat check) or, from the packages,
#                                     odpt shim load / verify / unload
# (XFAIL and XPASS: see lava/tap2lava.sh.) Everything odpt wrote goes to
# $ODPT_LAVA_OUT (default /tmp/odpt-lava). Parameters (environment; the YAML's params):
#   ODPT_FROM    installed (odpt from the odpt and odpt-hmm-dkms packages)
#                or source (build this checkout with cmake, the module too)
#   ODPT_DEV     RDMA device for the suite; empty: the first one, and when
#                there is none, soft-RoCE rxe0 on a veth pair
#   ODPT_GID     GID index (empty: odpt picks the RoCE v2 IPv4 one)
#   ODPT_SHIM    yes, no, auto (auto: when the module can be found/built)
#   ODPT_SUITE_ARGS   more arguments for `odpt suite run`, e.g. --filter=rc_*
set -u -o pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
out=${ODPT_LAVA_OUT:-/tmp/odpt-lava}
from=${ODPT_FROM:-installed}
dev=${ODPT_DEV:-}
gid=${ODPT_GID:-}
shim=${ODPT_SHIM:-auto}
mkdir -p "$out" || exit 1

case_() { lava-test-case "$1" --result "$2"; }
die() {
	echo "odpt-lava: $*" >&2
	command -v lava-test-raise >/dev/null && lava-test-raise "$*"
	exit 1
}
case $from in installed | source) ;; *) die "ODPT_FROM must be installed or source, not '$from'" ;; esac
case $shim in yes | no | auto) ;; *) die "ODPT_SHIM must be yes, no or auto, not '$shim'" ;; esac

# ---- odpt ------------------------------------------------------------------
build=""
if [[ $from == source ]]; then
	build=$src/build-lava
	kdir=/lib/modules/$(uname -r)/build
	if cmake -S "$src" -B "$build" -DODPT_BUILD_TESTS=OFF -DODPT_KDIR="$kdir" >"$out/build.log" 2>&1 &&
		cmake --build "$build" -j"$(nproc)" >>"$out/build.log" 2>&1; then
		odpt=$build/src/cli/odpt
	else
		odpt=""
	fi
	# The module needs the running kernel's headers: without them the shim
	# part SKIPs (auto) or fails (yes).
	cmake --build "$build" --target kmod >>"$out/build.log" 2>&1 || true
else
	odpt=$(command -v odpt || true)
fi
if [[ -n $odpt && -x $odpt ]]; then
	case_ setup.odpt pass
	"$odpt" --version >"$out/version.txt" 2>&1
else
	case_ setup.odpt fail
	die "no odpt to run (ODPT_FROM=$from; see $out/build.log or install the odpt package)"
fi

# ---- RDMA device -------------------------------------------------------------
if [[ -z $dev ]] && ! ls /sys/class/infiniband/ 2>/dev/null | grep -q .; then
	# No RDMA hardware (a QEMU device): soft-RoCE, as the lab guest has it.
	if bash "$src/tools/lab/guest/rxe.sh" >"$out/rxe-setup.log" 2>&1; then
		dev=rxe0 gid=${gid:-1}
	fi
fi
if ls /sys/class/infiniband/ 2>/dev/null | grep -q .; then
	case_ setup.rdma_device pass
else
	case_ setup.rdma_device skip
fi

# ---- the suite -----------------------------------------------------------
args=()
[[ -n $dev ]] && args+=(--dev "$dev")
[[ -n $gid ]] && args+=(--gid "$gid")
# shellcheck disable=SC2206 # word splitting wanted: extra arguments
args+=(--junit "$out/suite.junit.xml" --json "$out/suite.json" ${ODPT_SUITE_ARGS:-})
"$odpt" --raw-buckets suite run "${args[@]}" >"$out/suite.tap" 2>"$out/suite.stderr"
echo "odpt suite run: exit $?" >&2
"$here/tap2lava.sh" -p suite "$out/suite.tap"

# ---- the shim --------------------------------------------------------------
if [[ $shim != no ]]; then
	ko=""
	[[ -n $build && -f $build/kmod/odpt_hmm.ko ]] && ko=$build/kmod/odpt_hmm.ko
	if [[ -n $ko ]]; then
		# The shim's full test part, as the lab runs it.
		mkdir -p "$out/shim"
		ODPT_OUT=$out/shim ODPT_BUILD=$build ODPT_KMOD=$ko ODPT_BIN=$odpt \
			bash "$src/tests/lab/shim.sh" test >"$out/shim/part.log" 2>&1
		"$here/tap2lava.sh" -p shim "$out/shim/shim.tap"
	elif [[ $from == installed ]] && ODPT_BUILD=/nonexistent "$odpt" shim load >"$out/shim-load.txt" 2>&1; then
		# The installed module (odpt-hmm-dkms): load, verify, unload.
		case_ shim.load pass
		"$odpt" --format=tap shim verify >"$out/shim-verify.tap" 2>"$out/shim-verify.stderr"
		"$here/tap2lava.sh" -p shim.verify "$out/shim-verify.tap"
		if "$odpt" shim unload >>"$out/shim-load.txt" 2>&1; then
			case_ shim.unload pass
		else
			case_ shim.unload fail
		fi
	elif [[ $shim == yes ]]; then
		case_ shim.load fail
	else
		case_ shim.load skip
	fi
	[[ -f $out/shim-load.txt ]] && cat "$out/shim-load.txt" >&2
fi
exit 0
