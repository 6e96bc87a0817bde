#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "suite-rdma-next": the ODP suite once more, built against and run
# with the newer rdma-core the lab image keeps beside the system's (unpacked
# under /opt/odpt-lab/rdma-core-next by tools/lab/image.sh; the odpt binary
# is $ODPT_BUILD/rdma-next, built by tools/lab/build.sh). The system's
# rdma-core (trixie) has no advise_mr in its rxe provider and no
# ibv_reg_mr_ex, so the prefetch and reg_mr_ex cases only run here. Same
# contract as suite.sh; outputs are named suite-rdma-next.*. An image without
# the second rdma-core gives one SKIP saying why; a second rdma-core that
# does not see the device is a failure.
set -u
mode=${1:-}
case $mode in
test|run) ;;
*) echo "usage: $0 test|run" >&2; exit 2 ;;
esac
for v in ODPT_BUILD ODPT_OUT; do
	if [ -z "${!v:-}" ]; then
		echo "suite-rdma-next.sh: $v is not set (see the lab part contract)" >&2
		exit 2
	fi
done
name=suite-rdma-next
pfx=/opt/odpt-lab/rdma-core-next
dev=${ODPT_DEV:-rxe0}
mkdir -p "$ODPT_OUT"

# tap_one ok|"not ok" DESCRIPTION: a one-line result for the whole pass.
tap_one() {
	printf 'TAP version 13\n1..1\n%s 1 %s\n' "$1" "$2" | tee "$ODPT_OUT/$name.tap"
}

if [ ! -f "$pfx/odpt-lab.env" ]; then
	why=$(cat "$pfx.skip" 2>/dev/null)
	tap_one ok "$name # SKIP no second rdma-core in the lab image: ${why:-the image predates it (odpt-lab image --rebuild)}"
	exit 0
fi
ver=$(sed -n 's/^version=//p' "$pfx/odpt-lab.env")
bin=$ODPT_BUILD/rdma-next/src/cli/odpt
if [ ! -x "$bin" ]; then
	tap_one "not ok" "$name: no odpt built against rdma-core $ver ($bin; see build.log)"
	exit 1
fi
# libibverbs finds providers in its compiled-in directory first (the
# system's, where only the old ABI's providers are), then on the library
# search path: the prefix's librxe-rdmav*.so is found through this.
LD_LIBRARY_PATH=$(sed -n 's/^ld_library_path=//p' "$pfx/odpt-lab.env")
export LD_LIBRARY_PATH
if ! "$pfx/usr/bin/ibv_devinfo" -d "$dev" >"$ODPT_OUT/ibv_devinfo.txt" 2>&1 ||
   grep -q "couldn't load driver" "$ODPT_OUT/ibv_devinfo.txt"; then
	tap_one "not ok" "$name: libibverbs of rdma-core $ver does not see $dev: $(head -n1 "$ODPT_OUT/ibv_devinfo.txt")"
	exit 1
fi
echo "rdma-core $ver ($(sed -n 's/^suite=//p' "$pfx/odpt-lab.env")) from $pfx, odpt from $bin"
# Every case once more, at 20 iterations (heavy ones 2) instead of 100: the
# pass is here for what the newer library changes (its rxe provider posts
# every WR; advise_mr; ibv_reg_mr_ex), the kernel paths behind it had their
# 100 in `suite`; this keeps the lab's added time small. The two-device
# topology is covered by suite.2dev with the system's rdma-core.
ODPT_BIN=$bin ODPT_SUITE_NAME=$name ODPT_SUITE_ARGS="--iters 20" ODPT_SUITE_TWO_DEVICE=0 \
	exec bash "$(dirname "$0")/suite.sh" "$mode"
