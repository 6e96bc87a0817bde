#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Runs inside the lab guest (started by tools/lab/boot.sh through vng). Sets
# up rxe0 on a veth pair, then runs the requested work: odpt devices, the lab
# parts (tests/lab/<part>.sh, see the part contract in docs/lab.md) and
# rdma-core's ODP tests. Every step writes a stage marker first, so the host's
# watchdog can say what was running; the kernel log is streamed to the
# results as it is written, so even a hang leaves it behind.
#
# usage: main.sh BOOT_DIR   (BOOT_DIR holds guest.env, written by the host)
set -u

B=$1
# shellcheck source=/dev/null
. "$B/guest.env"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

stage() { echo "$(date +%s.%N) $*" >>"$B/stages.log"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

stage "boot-complete uptime=$(cut -d' ' -f1 /proc/uptime)"
dmesg -w >"$B/dmesg.live" 2>&1 &
dmesg_pid=$!
uname -r >"$B/uname.txt"
cat /proc/cmdline >"$B/cmdline.txt"

# run_work DIR STAGE_PREFIX FIXED_BUGS: rxe0, devices, the parts and
# rdma-core's tests, results under DIR.
run_work() {
	local W=$1 SP=$2 FIXED=$3 part out t0 rc rxe_rc p
	mkdir -p "$W"
	stage "${SP}rxe-setup"
	if [[ ${KPATCH_BROKEN:-0} == 1 ]]; then
		echo "not set up: swapping in the patched modules failed (see kpatch.log)" >"$W/rxe-setup.log"
		rxe_rc=1
	else
		bash "$LAB_SRC/tools/lab/guest/rxe.sh" >"$W/rxe-setup.log" 2>&1
		rxe_rc=$?
	fi
	ibv_devinfo -v -d rxe0 >"$W/ibv_devinfo.txt" 2>&1
	rdma link show >>"$W/rxe-setup.log" 2>&1
	echo "$rxe_rc" >"$W/rxe-setup.rc"

	if [[ $rxe_rc == 0 && ${LAB_DEVICES:-0} == 1 ]]; then
		stage "${SP}devices"
		if [[ -x ${ODPT_BIN:-} ]] && "$ODPT_BIN" devices --help >/dev/null 2>&1; then
			"$ODPT_BIN" devices --json >"$W/devices.json" 2>"$W/devices.err"
			echo $? >"$W/devices.rc"
			"$ODPT_BIN" devices >"$W/devices.txt" 2>&1
		else
			echo "odpt devices is not available in this build" >"$W/devices.err"
		fi
	fi

	cd "$LAB_SRC" || exit 1
	for part in ${LAB_PARTS:-}; do
		out=$W/$part
		mkdir -p "$out"
		stage "${SP}part:$part"
		t0=$(now)
		if [[ $rxe_rc != 0 ]]; then
			echo "rxe0 could not be set up (see rxe-setup.log)" >"$out/part.log"
			rc=97
		elif [[ ! -f tests/lab/$part.sh ]]; then
			echo "tests/lab/$part.sh does not exist" >"$out/part.log"
			rc=98
		else
			env ODPT_BIN="$ODPT_BIN" ODPT_BUILD="$ODPT_BUILD" ODPT_KMOD="$ODPT_KMOD" \
				ODPT_OUT="$out" ODPT_DEV=rxe0 ODPT_PORT=1 ODPT_GID=1 \
				ODPT_IOMMU="$ODPT_IOMMU" ODPT_KVER="$(uname -r)" ODPT_FIXED_BUGS="$FIXED" \
				bash "tests/lab/$part.sh" "$LAB_MODE" >"$out/part.log" 2>&1
			rc=$?
		fi
		echo "rc=$rc duration_s=$(secs "$t0")" >"$out/part.status"
	done

	if [[ ${LAB_PEER:-0} == 1 ]]; then
		stage "${SP}peer"
		out=$W/peer
		mkdir -p "$out"
		t0=$(now)
		if [[ $rxe_rc != 0 ]]; then
			echo "rxe0 could not be set up (see rxe-setup.log)" >"$out/part.log"
			rc=97
		else
			# Unpacked and byte-compiled by the image build; else do it here.
			p=/opt/odpt-lab/rdma-core-tests
			if [[ ! -f $p/tests/test_odp.py ]]; then
				p=/tmp/rdma-core-tests
				rm -rf "$p" && mkdir -p "$p" &&
					cp -r /usr/share/doc/rdma-core/tests "$p/tests" &&
					gunzip -f "$p"/tests/*.gz
			fi
			python3 "$LAB_SRC/tools/lab/guest/peer.py" "$p" "$out" -- \
				--dev rxe0 --port 1 --gid 1 -v -k odp >"$out/part.log" 2>&1
			rc=$?
		fi
		echo "rc=$rc duration_s=$(secs "$t0")" >"$out/part.status"
	fi
}

# --patch (tools/lab/kpatch.sh): the same work first on the packaged
# modules (the "before", in baseline/), then on the patched ones, in this
# one boot; the suite expects the bugs the patches declare fixed to pass.
if [[ -n ${LAB_KPATCH_MODS:-} ]]; then
	run_work "$B/baseline" baseline: ""
	stage kpatch-swap
	LAB_KPATCH_DIR=$LAB_KPATCH_DIR LAB_KPATCH_MODS=$LAB_KPATCH_MODS \
		bash "$LAB_SRC/tools/lab/guest/kpatch.sh" "$B/kpatch" >"$B/kpatch.log" 2>&1
	echo $? >"$B/kpatch.rc"
	[[ $(cat "$B/kpatch.rc") == 0 ]] || KPATCH_BROKEN=1
	run_work "$B" "" "${LAB_KPATCH_FIXED:-}"
else
	run_work "$B" "" ""
fi

# Debug kernels (docs/debug-kernel.md): kmemleak reports only when asked to
# scan, and DMA-API debug prints only its first error (the rest are only
# counted), so both are read here for summarize.py. Kernels without them
# (Debian's) have neither file and write nothing.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [[ -w /sys/kernel/debug/kmemleak ]]; then
	stage kmemleak-scan
	echo scan >/sys/kernel/debug/kmemleak 2>"$B/kmemleak.err"
	cat /sys/kernel/debug/kmemleak >"$B/kmemleak.txt" 2>>"$B/kmemleak.err"
fi
if [[ -r /sys/kernel/debug/dma-api/error_count ]]; then
	for f in error_count num_errors disabled nr_total_entries min_free_entries driver_filter; do
		echo "$f=$(tr -d '\n' </sys/kernel/debug/dma-api/$f 2>/dev/null)"
	done >"$B/dma-api.txt"
fi

stage dmesg
sleep 0.2
kill "$dmesg_pid" 2>/dev/null
dmesg >"$B/dmesg.txt" 2>&1
stage "done"
