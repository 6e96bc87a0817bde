#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "iommufd" (see the lab part contract in docs/lab.md). Runs in its
# own guest: the source-built lab kernel (tools/lab/lab-kernel.config, with
# CONFIG_IOMMUFD and the selftest mock) on a q35 machine whose intel-iommu
# does interrupt remapping, with QEMU's edu device.
#   - odpt iommufd probe, test (errno cases), iopf (IO page faults answered
#     from userspace), edu (edu's DMA through an iommufd mapping, byte-exact,
#     and a DMA to an unmapped IOVA), bench (IOAS map/unmap histograms);
#   - odpt shim bench in the same guest (the HMM side of the comparison in
#     docs/dma-map-modes.md), before edu is handed to vfio-pci;
#   - the kernel's own selftests from the same source, as peers: selftests/
#     iommu (iommufd; iommufd_fail_nth in run mode) and mm/hmm-tests.
# Ours go to iommufd.tap; each peer to iommufd.kselftest-NAME.tap (counted as
# part iommufd.kselftest-NAME); JSON with raw buckets next to them. A kernel
# splat logged while the part ran fails it, as in the shim part.
#
# Knobs: ODPT_IOMMUFD_BENCH_ARGS (arguments for `odpt iommufd bench`),
# ODPT_IOMMUFD_SELFTEST_S (timeout per kernel selftest program, default 600).
set -u -o pipefail

mode=${1:-}
case "$mode" in
test | run) ;;
*) echo "usage: ODPT_OUT=DIR ODPT_BUILD=DIR [ODPT_BIN=odpt] [ODPT_KMOD=KO] $0 test|run" >&2; exit 2 ;;
esac
: "${ODPT_OUT:?ODPT_OUT must name the results directory}"
: "${ODPT_BUILD:?ODPT_BUILD must name the build directory}"
ODPT_BIN=${ODPT_BIN:-$ODPT_BUILD/src/cli/odpt}
ODPT_KMOD=${ODPT_KMOD:-}
out=$ODPT_OUT
here=$(cd "$(dirname "$0")" && pwd)
json2tap=$here/../../tools/lab/guest/json2tap.py
ks=$ODPT_BUILD/kselftest
mkdir -p "$out" || exit 2
tap=$out/iommufd.lines	# our TAP lines without numbers, then numbered
: >"$tap"
n_fail=0

add() { # add "ok"|"not ok" NAME [DIRECTIVE]
	local l="$1 $2"
	[ -n "${3:-}" ] && l="$l # $3"
	echo "$l" >>"$tap"
	[ "$1" = "not ok" ] && n_fail=$((n_fail + 1))
	return 0
}
diag() { echo "# $*" >>"$tap"; }

marker="odpt-lab: iommufd part start $$ $(date +%s%N)"
echo "$marker" >/dev/kmsg 2>/dev/null || diag "cannot write /dev/kmsg: the splat check covers the whole log"

verbs=""
[ -x "$ODPT_BIN" ] && verbs=$("$ODPT_BIN" iommufd help 2>&1 | sed -n 's/^  \([a-z]*\) .*/\1/p' | tr '\n' ' ')
has_verb() { case " $verbs " in *" $1 "*) return 0 ;; esac; return 1; }

# odpt_json NAME VERB [ARGS...]: runs `odpt iommufd VERB` into NAME.json (raw
# buckets for odpt compare) and folds its test results in as NAME.* (with
# J2T_ARGS, json2tap.py's --section form: a capability listing).
# Exit 0/1 are results (1: a test failed, already a "not ok" line); 4 means
# nothing could run (its SKIPs are in the report); anything else fails NAME.
odpt_json() {
	local name=$1 verb=$2 rc
	shift 2
	if ! has_verb "$verb"; then
		add ok "$name" "SKIP this odpt has no 'iommufd $verb'"
		return
	fi
	echo "+ odpt --json --raw-buckets -o $name.json iommufd $verb $*" >>"$out/iommufd-tools.log"
	timeout -k 30 1200 "$ODPT_BIN" --json --raw-buckets -o "$out/$name.json" iommufd "$verb" "$@" \
		>>"$out/iommufd-tools.log" 2>&1
	rc=$?
	case $rc in
	0 | 1 | 4) python3 "$json2tap" "$out/$name.json" "$name." ${J2T_ARGS:-} >>"$tap" ;;
	*) diag "odpt iommufd $verb exited $rc (see iommufd-tools.log)"; add "not ok" "$name" ;;
	esac
	[ $rc = 1 ] && n_fail=$((n_fail + 1))
	return 0
}

# edu's PCI address (the first one) and the driver bound to it ("" for none).
edu_dev() {
	local x
	for x in /sys/bus/pci/devices/*; do
		[ "$(cat "$x/vendor" 2>/dev/null):$(cat "$x/device" 2>/dev/null)" = 0x1234:0x11e8 ] &&
			{ echo "${x##*/}"; return; }
	done
}
edu_driver() { [ -n "$1" ] && basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }

modprobe vfio-pci 2>"$out/modprobe.err" || diag "modprobe vfio-pci: $(cat "$out/modprobe.err")"

# ---- ours -------------------------------------------------------------------
if [ ! -x "$ODPT_BIN" ]; then
	diag "$ODPT_BIN not built"
	add "not ok" odpt_built
else
	# What tools/lab/lab-kernel.config builds in must be there; the rest
	# (a VFIO device for probe's hw_info) SKIPs with probe's reason.
	J2T_ARGS="--section iommufd --require dev_iommu,ioas_alloc,iova_ranges,fault_queue,ioas_map_file,mock_domain,hw_info_mock,iopf_hwpt_mock" \
		odpt_json probe probe
	odpt_json test test
	if [ "$mode" = run ]; then
		odpt_json iopf iopf
	else
		odpt_json iopf iopf --iters=200
	fi

	# The shim's three map modes on this kernel, before edu goes to vfio-pci.
	if [ -n "$ODPT_KMOD" ] && insmod "$ODPT_KMOD" 2>"$out/insmod.err"; then
		sizes=4K,64K,1M
		[ "$mode" = run ] && sizes=4K,64K,1M,16M,256M
		if timeout -k 30 1200 "$ODPT_BIN" --json --raw-buckets -o "$out/shim-bench.json" shim bench \
			--sizes="$sizes" >>"$out/iommufd-tools.log" 2>&1; then
			add ok shim_bench_same_guest
		else
			diag "odpt shim bench failed (see iommufd-tools.log)"
			add "not ok" shim_bench_same_guest
		fi
		# edu held by odpt's shim (bound at insmod, no sysfs unbind): the
		# edu verb must SKIP saying so and leave edu where it is.
		d=$(edu_dev)
		if [ -n "$d" ] && [ "$(edu_driver "$d")" = odpt_hmm_edu ] && has_verb edu; then
			"$ODPT_BIN" --format=tap iommufd edu --sizes=4K --iters=1 --dma-pages=1 \
				>"$out/edu-shim.tap" 2>&1
			rc=$?
			if [ $rc = 4 ] && grep -q "held by odpt's shim" "$out/edu-shim.tap" &&
				[ "$(edu_driver "$d")" = odpt_hmm_edu ]; then
				add ok edu_while_shim_holds_it
			else
				diag "odpt iommufd edu with the shim loaded: exit $rc (want 4), edu on '$(edu_driver "$d")': $(head -c 300 "$out/edu-shim.tap")"
				add "not ok" edu_while_shim_holds_it
			fi
		else
			add ok edu_while_shim_holds_it "SKIP odpt_hmm did not bind edu (driver: '$(edu_driver "$d")')"
		fi
		rmmod odpt_hmm 2>>"$out/insmod.err" || { diag "rmmod odpt_hmm: $(cat "$out/insmod.err")"; add "not ok" shim_rmmod; }
	else
		add ok shim_bench_same_guest "SKIP odpt_hmm.ko not built or not loadable for this kernel: $(cat "$out/insmod.err" 2>/dev/null)"
	fi

	if [ "$mode" = run ]; then
		# Up to 1 GiB: two buffers of each size (the vfio guest has 3 GiB).
		odpt_json edu edu --sizes=4K,64K,1M,16M,256M,1G --dma-pages=32
	else
		odpt_json edu edu --sizes=4K,64K,1M
	fi
	# The edu engine must give the device back (never left on vfio-pci).
	local_edu=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor" 2>/dev/null):$(cat "$d/device" 2>/dev/null)" = 0x1234:0x11e8 ] || continue
		local_edu=1
		drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
		if [ "$drv" = vfio-pci ]; then
			diag "edu ${d##*/} is still bound to vfio-pci after odpt iommufd edu"
			add "not ok" edu_released
		else
			add ok edu_released
		fi
	done
	[ $local_edu = 1 ] || { diag "no edu (1234:11e8) in this guest"; add "not ok" edu_present; }

	# edu bound to vfio-pci before odpt runs: probe's hw_info of a real
	# device, and edu used where it is and left on vfio-pci (its driver).
	d=$(edu_dev)
	if [ -n "$d" ] && [ -z "$(edu_driver "$d")" ] &&
		echo vfio-pci >"/sys/bus/pci/devices/$d/driver_override" &&
		echo "$d" >/sys/bus/pci/drivers/vfio-pci/bind 2>>"$out/modprobe.err"; then
		v=$(ls "/sys/bus/pci/devices/$d/vfio-dev/" 2>/dev/null | head -1)
		J2T_ARGS="--section iommufd --require hw_info_vfio" \
			odpt_json probe_vfio probe --vfio="/dev/vfio/devices/$v"
		odpt_json edu_on_vfio edu --sizes=4K --iters=2 --dma-pages=1
		if [ "$(edu_driver "$d")" = vfio-pci ]; then
			add ok edu_left_on_vfio_pci
		else
			diag "edu was on vfio-pci before odpt iommufd edu, now on '$(edu_driver "$d")'"
			add "not ok" edu_left_on_vfio_pci
		fi
		echo "$d" >/sys/bus/pci/drivers/vfio-pci/unbind 2>/dev/null
		echo >"/sys/bus/pci/devices/$d/driver_override"
	else
		diag "cannot bind edu '$d' to vfio-pci by hand (driver '$(edu_driver "$d")'): see modprobe.err"
		add "not ok" probe_vfio
	fi

	read -r -a bench_args <<<"${ODPT_IOMMUFD_BENCH_ARGS:-}"
	if [ ${#bench_args[@]} = 0 ] && [ "$mode" = test ]; then
		bench_args=(--sizes=4K,64K,2M --iters=20)
	fi
	# hugetlb needs reserved 2 MiB pages (up to 1 GiB in run mode): reserved
	# for its own run only, so that the other backings keep the memory.
	case " ${bench_args[*]} " in
	*--backing=*) odpt_json bench bench "${bench_args[@]}" ;;
	*)
		odpt_json bench bench "${bench_args[@]}" --backing=anon,thp,memfd
		hp_old=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
		want=16
		[ "$mode" = run ] && want=528
		echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null
		diag "nr_hugepages for the hugetlb bench: asked $want, got $(cat /proc/sys/vm/nr_hugepages 2>/dev/null)"
		odpt_json bench_hugetlb bench "${bench_args[@]}" --backing=hugetlb
		# The same through edu's intel-iommu domain (VFIO: a real IOMMU
		# driver's page table instead of the mock's).
		odpt_json bench_edu_hugetlb bench "${bench_args[@]}" --backing=hugetlb --domain=edu
		echo "$hp_old" >/proc/sys/vm/nr_hugepages 2>/dev/null
		odpt_json bench_edu bench "${bench_args[@]}" --backing=anon,thp,memfd --domain=edu
		;;
	esac
fi

# ---- peers: the kernel's selftests from the same source ----------------------
# kselftest TAP as it is, but for the known failures of this kernel
# (tests/lab/kselftest-known.txt: XFAIL, and XPASS when they pass); a missing
# binary or module is a SKIP with the reason.
known=$here/kselftest-known.txt
mark_known() { # mark_known PROG TAP
	awk -F'\t' -v prog="$1" '
		FNR == NR { if ($0 !~ /^#/ && $1 == prog && NF >= 3) { n++; pat[n] = $2; why[n] = $3 } next }
		function glob2re(g) { gsub(/[.+^$(){}|\[\]\\]/, "\\\\&", g); gsub(/\*/, ".*", g); gsub(/\?/, ".", g); return "^" g "$" }
		/^(ok|not ok) [0-9]+ / && $0 !~ /# (SKIP|TODO)/ {
			name = $0; sub(/^(ok|not ok) [0-9]+ /, "", name)
			for (i = 1; i <= n; i++) if (name ~ glob2re(pat[i])) {
				if ($0 ~ /^not ok/) $0 = $0 " # TODO known failure: " why[i]
				else $0 = $0 " # TODO unexpected pass (known failure: " why[i] ")"
				break
			}
		}
		{ print }' "$known" "$2" >"$2.tmp" && mv "$2.tmp" "$2"
}
kselftest() { # kselftest TAG DIR PROG [ARGS...]
	local tag=$1 dir=$2 prog=$3 f=$out/iommufd.kselftest-$1.tap rc
	shift 3
	if [ ! -x "$dir/$prog" ]; then
		printf '1..1\nok 1 %s # SKIP %s not built (see build-labk.log)\n' "$prog" "$prog" >"$f"
		return
	fi
	local t0=$SECONDS
	(cd "$dir" && timeout -k 10 "${ODPT_IOMMUFD_SELFTEST_S:-600}" "./$prog" "$@") >"$f" 2>"$out/kselftest-$tag.stderr"
	rc=$?
	echo "$tag rc=$rc wall_s=$((SECONDS - t0))" >>"$out/kselftest.status"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "not ok 999 $prog # timed out after ${ODPT_IOMMUFD_SELFTEST_S:-600} s" >>"$f"
	fi
	mark_known "$prog" "$f"
}
: >"$out/kselftest.status"
# The selftests' hugepage variants map MAP_HUGETLB buffers (up to 2 x 128 MiB
# at once): give them 2 MiB pages for the run, then the old count back.
hp=/proc/sys/vm/nr_hugepages
hp_old=$(cat $hp 2>/dev/null || echo 0)
echo 320 >$hp 2>/dev/null
echo "nr_hugepages for the kernel selftests: asked 320, got $(cat $hp 2>/dev/null)" >>"$out/kselftest.status.log"
kselftest iommufd "$ks/iommu" iommufd
[ "$mode" = run ] && kselftest iommufd_fail_nth "$ks/iommu" iommufd_fail_nth
echo "$hp_old" >$hp 2>/dev/null
if modprobe test_hmm 2>"$out/modprobe-hmm.err"; then
	kselftest hmm "$ks/mm" hmm-tests
	rmmod test_hmm 2>/dev/null
else
	printf '1..1\nok 1 hmm-tests # SKIP modprobe test_hmm: %s\n' "$(head -c 200 "$out/modprobe-hmm.err")" \
		>"$out/iommufd.kselftest-hmm.tap"
fi

# A peer's failure that is not a known one fails the part too (summarize.py
# counts it; the exit status must agree).
for f in "$out"/iommufd.kselftest-*.tap; do
	k=$(grep -E '^not ok [0-9]+ ' "$f" | grep -cv '# TODO')
	x=$(grep -E '^ok [0-9]+ .*# TODO unexpected pass' "$f" | wc -l)
	n_fail=$((n_fail + k + x))
done

# ---- the kernel log since the part began --------------------------------------
dmesg >"$out/dmesg.txt" 2>&1
splat_re='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|possible circular locking|inconsistent lock state|hung_task|blocked for more than|soft lockup|Call Trace:'
if sed -n "/$marker/,\$p" "$out/dmesg.txt" | grep -E "$splat_re" >"$out/splats.txt"; then
	diag "kernel log: $(head -1 "$out/splats.txt")"
	add "not ok" kernel_log_clean
else
	rm -f "$out/splats.txt"
	add ok kernel_log_clean
fi

# Number our lines into iommufd.tap.
{
	echo "TAP version 13"
	echo "1..$(grep -cE '^(ok|not ok) ' "$tap")"
	awk '/^(ok|not ok) / { n++; sub(/^ok /, "ok " n " "); sub(/^not ok /, "not ok " n " ") } { print }' "$tap"
} >"$out/iommufd.tap"
rm -f "$tap"
cat "$out/iommufd.tap"
[ $n_fail = 0 ]
