#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "shim" (see the lab part contract): loads odpt_hmm.ko, runs the
# shim's test program (odpt-shim-test: bad input, races, leak counters,
# fuzzer, unload while open), in `run` mode also `odpt shim verify` and
# `odpt shim bench`, unloads the module and fails on any kernel splat
# (WARN/BUG/Oops/lockdep/KASAN/hung task...) logged since the part began.
# Everything is reported as one flat TAP 13 file, $ODPT_OUT/shim.tap; the
# program's own TAP, stderr, the kernel log and the tools' outputs sit next
# to it. Runs in the IOMMU boot (ODPT_IOMMU=on) and the no-IOMMU boot (off).
#
# Knobs (environment, all optional): ODPT_SEED (run seed, printed either
# way), ODPT_FUZZ_S (fuzzer seconds, default 20), ODPT_RACE_S (seconds per
# race test, default 5 in test mode, 10 in run mode), ODPT_ROUNDS (round cap per race test),
# ODPT_SHIM_FILTER (test name filter), ODPT_SHIM_BENCH_ARGS (arguments
# for `odpt shim bench`, e.g. --sizes=4K,1M; default: its own full sweep),
# ODPT_SHIM_BENCH_DETAIL_SIZES (sizes of the CSV/.hgrm runs, default 1M),
# ODPT_SHIM_FAUX=0 (skip the device=faux pass of the no-IOMMU boot),
# ODPT_SHIM_EDU=nomask (set by the lab for its third guest, whose edu has no
# dma_mask=: only the checks that odpt_hmm refuses such an edu run).
set -u -o pipefail

usage() {
	echo "usage: ODPT_OUT=DIR ODPT_BUILD=DIR [ODPT_KMOD=KO] [ODPT_BIN=odpt] $0 test|run" >&2
	exit 2
}

mode=${1:-}
case "$mode" in
test | run) ;;
*) usage ;;
esac
[ $# -eq 1 ] || usage
: "${ODPT_OUT:?ODPT_OUT must name the results directory}"
: "${ODPT_BUILD:?ODPT_BUILD must name the build directory}"
ODPT_KMOD=${ODPT_KMOD:-}
ODPT_BIN=${ODPT_BIN:-$ODPT_BUILD/src/cli/odpt}
ODPT_IOMMU=${ODPT_IOMMU:-}
export ODPT_IOMMU
nomask=0
[ "${ODPT_SHIM_EDU:-}" = nomask ] && nomask=1

out=$ODPT_OUT
mkdir -p "$out" || exit 2
prog=$ODPT_BUILD/tests/lab/shim/odpt-shim-test
results=()	# finished TAP lines without their number
diags=()	# "# ..." lines emitted before the next result
n_fail=0

# add STATUS NAME [DIRECTIVE]: STATUS is ok or "not ok".
add() {
	local line="$1 $2"

	[ -n "${3:-}" ] && line="$line # $3"
	results+=("${diags[@]/#/$'\x1f'}")
	results+=("$line")
	diags=()
	[ "$1" = "not ok" ] && n_fail=$((n_fail + 1))
	return 0
}

diag() {
	diags+=("# $*")
}

module_loaded() {
	[ -d /sys/module/odpt_hmm ]
}

# The module counts its own bugs (a mapped entry found at another page, pages
# still mapped after release) in debugfs counters that must stay 0; they
# reset on reload, so check them before every rmmod. NAME is the TAP name.
bug_counters_zero() {
	local p v bad=0 dir=/sys/kernel/debug/odpt_hmm

	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	for p in stale_mapped_entries release_leaked_pages; do
		v=$(cat "$dir/$p" 2>/dev/null) || {
			diag "cannot read $dir/$p"
			bad=1
			continue
		}
		[ "$v" = 0 ] || { diag "$p = $v (module bug)"; bad=1; }
	done
	if [ $bad = 0 ]; then add ok "$1"; else add "not ok" "$1"; fi
}

# QEMU's edu ANDs its DMA addresses with its dma_mask property, 28 bits
# unless the command line sets it: a 64-bit DMA mask then sends transfers to
# other memory. odpt_hmm's probe tests edu's DMA above 2^28 and must refuse
# the device with a message: device=edu fails to load, device=auto falls
# back to faux (and works).
edu_nomask_checks() {
	local kind

	if [ -z "$ODPT_KMOD" ]; then
		add ok edu_nomask_refused "SKIP no module built"
		return
	fi
	module_loaded && rmmod odpt_hmm
	if insmod "$ODPT_KMOD" device=edu 2>"$out/shim-nomask.err"; then
		diag "insmod device=edu bound an edu whose DMA is clamped to 28 bits"
		add "not ok" edu_nomask.device_edu_refused
		rmmod odpt_hmm
	else
		diag "insmod device=edu: $(cat "$out/shim-nomask.err")"
		add ok edu_nomask.device_edu_refused
	fi
	if dmesg | grep -q "QEMU clamps edu's DMA to its dma_mask"; then
		add ok edu_nomask.dmesg_says_why
	else
		diag "no 'QEMU clamps edu's DMA to its dma_mask' line in the kernel log"
		add "not ok" edu_nomask.dmesg_says_why
	fi
	if insmod "$ODPT_KMOD" 2>"$out/shim-nomask.err"; then
		kind=$(cat /sys/module/odpt_hmm/parameters/device_kind 2>/dev/null)
		if [ "$kind" = faux ]; then
			add ok edu_nomask.auto_uses_faux
		else
			diag "device=auto chose '$kind', want faux"
			add "not ok" edu_nomask.auto_uses_faux
		fi
		if [ -x "$prog" ]; then
			run_prog -nomask edu_nomask. --race-seconds 2 --fuzz-seconds 0 \
				--filter dev_info_path,map_basic,verify_dma
		fi
		bug_counters_zero edu_nomask.module_bug_counters_zero
		rmmod odpt_hmm 2>>"$out/shim-nomask.err" || {
			diag "rmmod: $(cat "$out/shim-nomask.err")"
			add "not ok" edu_nomask.rmmod
		}
	else
		diag "insmod (device=auto): $(cat "$out/shim-nomask.err")"
		add "not ok" edu_nomask.auto_uses_faux
	fi
}

# Everything the kernel logs from here on belongs to this part.
marker="odpt-lab: shim part start $$ $(date +%s%N)"
echo "$marker" >/dev/kmsg 2>/dev/null || diag "cannot write /dev/kmsg: the splat check covers the whole log"

# ---- load ----------------------------------------------------------------
if [ $nomask = 1 ]; then
	: # edu_nomask_checks, after run_prog is defined
elif [ -z "$ODPT_KMOD" ]; then
	add ok insmod "SKIP no module built (ODPT_KMOD empty)"
else
	if module_loaded; then
		# Start from fresh counters: a module left by an earlier part goes.
		rmmod odpt_hmm 2>"$out/shim-rmmod-before.err" ||
			diag "odpt_hmm already loaded and rmmod failed: $(cat "$out/shim-rmmod-before.err")"
	fi
	if insmod "$ODPT_KMOD" 2>"$out/shim-insmod.err"; then
		add ok insmod
	else
		diag "insmod $ODPT_KMOD: $(cat "$out/shim-insmod.err")"
		add "not ok" insmod
	fi
fi

# ---- the test program ----------------------------------------------------
# run_prog TAG PREFIX ARGS...: runs odpt-shim-test, keeps its TAP as
# shim-tests$TAG.tap and folds its results in with PREFIX before each name.
run_prog() {
	local tag=$1 prefix=$2 line status rest name directive rc planned=0 reported=0 failed=0
	local tap=$out/shim-tests$tag.tap err=$out/shim-tests$tag.stderr

	shift 2
	echo "+ $prog $*" >"$err"
	timeout -k 30 3600 "$prog" "$@" >"$tap" 2>>"$err"
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"TAP version"*) ;;
		1..*) planned=${line#1..} ;;
		"ok "* | "not ok "*)
			reported=$((reported + 1))
			if [ "${line#not ok }" != "$line" ]; then
				status="not ok"
				rest=${line#not ok }
				failed=$((failed + 1))
			else
				status=ok
				rest=${line#ok }
			fi
			rest=${rest#* }	# drop the program's own number
			name=${rest%% # *}
			directive=""
			[ "$name" != "$rest" ] && directive=${rest#* # }
			add "$status" "$prefix$name" "$directive"
			;;
		"Bail out!"*) diag "odpt-shim-test: ${line}" ;;
		"#"*) diags+=("$line") ;;
		*) diags+=("# $line") ;;
		esac
	done <"$tap"
	if [ "$reported" -ne "$planned" ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; }; then
		diag "odpt-shim-test planned $planned results, reported $reported, exit status $rc"
		[ -s "$err" ] && diag "stderr: $(tail -n 3 "$err" | tr '\n' ' ')"
		add "not ok" "${prefix}odpt_shim_test_complete"
	elif [ "$rc" -eq 1 ] && [ "$failed" -eq 0 ]; then
		diag "odpt-shim-test exited 1 without a failing result"
		add "not ok" "${prefix}odpt_shim_test_complete"
	fi
}

if [ $nomask = 1 ]; then
	edu_nomask_checks
elif [ ! -x "$prog" ]; then
	diag "$prog not built (include/uapi/odpt_hmm.h missing at configure time?)"
	add "not ok" odpt_shim_test
else
	# test: a regression pass of a few minutes per boot; run: longer races.
	race_default=5
	[ "$mode" = run ] && race_default=10
	args=(--race-seconds "${ODPT_RACE_S:-$race_default}" --fuzz-seconds "${ODPT_FUZZ_S:-20}")
	[ -n "$ODPT_KMOD" ] && args+=(--kmod "$ODPT_KMOD")
	[ -n "${ODPT_SEED:-}" ] && args+=(--seed "$ODPT_SEED")
	[ -n "${ODPT_ROUNDS:-}" ] && args+=(--rounds "$ODPT_ROUNDS")
	[ -n "${ODPT_SHIM_FILTER:-}" ] && args+=(--filter "$ODPT_SHIM_FILTER")
	run_prog "" "" "${args[@]}"

	# The faux device (direct path, no DMA engine) is the module's fallback
	# when edu is missing; the lab always has edu, so the no-IOMMU boot also
	# runs the device-sensitive tests once against device=faux.
	if [ "$ODPT_IOMMU" = off ] && [ -n "$ODPT_KMOD" ] && [ "${ODPT_SHIM_FAUX:-1}" = 1 ] &&
		[ -z "${ODPT_SHIM_FILTER:-}" ]; then
		bug_counters_zero module_bug_counters_zero
		if rmmod odpt_hmm 2>"$out/shim-faux.err" &&
			insmod "$ODPT_KMOD" device=faux 2>>"$out/shim-faux.err"; then
			add ok faux.insmod
			faux_tests="dev_info,global_matches,map_basic,map_nofault,invalidate_dontneed"
			faux_tests+=",zero_page,verify_dma,write_readonly,opener_exits"
			faux_tests+=",race_fault_vs_map,race_exit_live"
			faux_args=(--race-seconds 2 --fuzz-seconds 0 --filter "$faux_tests")
			[ -n "${ODPT_SEED:-}" ] && faux_args+=(--seed "$ODPT_SEED")
			run_prog -faux faux. "${faux_args[@]}"
		else
			diag "reloading with device=faux: $(cat "$out/shim-faux.err")"
			add "not ok" faux.insmod
		fi
		# Back to the default device for the tools and the final rmmod.
		module_loaded && bug_counters_zero faux.module_bug_counters_zero
		module_loaded && rmmod odpt_hmm 2>>"$out/shim-faux.err"
		insmod "$ODPT_KMOD" 2>>"$out/shim-faux.err" || diag "reload after faux: $(cat "$out/shim-faux.err")"
	fi
fi

# ---- the tools (run mode) -------------------------------------------------
shim_verbs=""
if [ -x "$ODPT_BIN" ]; then
	shim_verbs=$("$ODPT_BIN" shim help 2>&1 | sed -n 's/^  \([a-z]*\) .*/\1/p' | tr '\n' ' ')
fi
has_verb() {
	case " $shim_verbs " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# tool STEP-NAME OUTPUT-FILE FORMAT VERB [ARGS...]
tool() {
	local name=$1 file=$2 format=$3 verb=$4

	shift 4
	if ! module_loaded; then
		add "not ok" "$name" "module not loaded"
		return
	fi
	# JSON carries the raw buckets: `odpt compare` rebuilds the histograms
	# from them, so two lab runs can be compared (docs/lab.md).
	local raw=()
	[ "$format" = json ] && raw=(--raw-buckets)
	echo "+ $ODPT_BIN --format=$format ${raw[*]} -o $file shim $verb $*" >>"$out/shim-tools.log"
	if timeout -k 30 3600 "$ODPT_BIN" --format="$format" "${raw[@]}" -o "$file" shim "$verb" "$@" \
		>>"$out/shim-tools.log" 2>&1; then
		add ok "$name"
	else
		diag "odpt shim $verb failed (exit $?): see shim-tools.log"
		add "not ok" "$name"
	fi
}

if [ "$mode" = run ] && [ $nomask = 0 ]; then
	if ! module_loaded && [ -n "$ODPT_KMOD" ]; then
		insmod "$ODPT_KMOD" 2>>"$out/shim-insmod.err" || diag "reload: $(cat "$out/shim-insmod.err")"
	fi
	if [ -z "$ODPT_KMOD" ]; then
		add ok shim_verify "SKIP no module built"
		add ok shim_bench "SKIP no module built"
	else
		if has_verb verify; then
			tool shim_verify "$out/shim-verify.json" json verify
			tool shim_verify_table "$out/shim-verify.txt" table verify --sample=1
		else
			add ok shim_verify "SKIP this odpt has no 'shim verify'"
		fi
		if has_verb bench; then
			# The full sweep goes to JSON; the CSV and .hgrm renderings come
			# from a second and third run at one size (the writers take one
			# format per run), with the caller's other bench arguments.
			read -r -a bench_args <<<"${ODPT_SHIM_BENCH_ARGS:-}"
			detail_args=(--sizes="${ODPT_SHIM_BENCH_DETAIL_SIZES:-1M}")
			for a in "${bench_args[@]}"; do
				case "$a" in
				--sizes=*) ;;
				*) detail_args+=("$a") ;;
				esac
			done
			tool shim_bench "$out/shim-bench.json" json bench "${bench_args[@]}"
			tool shim_bench_hgrm "$out/shim-bench.hgrm" hgrm bench "${detail_args[@]}"
			tool shim_bench_csv "$out/shim-bench.csv" csv bench "${detail_args[@]}"
		else
			add ok shim_bench "SKIP this odpt has no 'shim bench'"
		fi
	fi
fi

# ---- unload ---------------------------------------------------------------
if [ -n "$ODPT_KMOD" ] && [ $nomask = 0 ]; then
	if ! module_loaded; then
		diag "odpt_hmm was not loaded at the end of the part"
		add "not ok" rmmod
	elif bug_counters_zero module_bug_counters_final &&
		rmmod odpt_hmm 2>"$out/shim-rmmod.err"; then
		add ok rmmod
	else
		diag "rmmod: $(cat "$out/shim-rmmod.err")"
		add "not ok" rmmod
	fi
fi

# ---- kernel log -------------------------------------------------------------
. "$(dirname "$0")/../../tools/lab/guest/splats.sh"
if lab_kernel_splats "$marker" "$out/shim-dmesg.txt" "$out/shim-dmesg-splats.txt"; then
	while IFS= read -r l; do diag "$l"; done < <(head -n 20 "$out/shim-dmesg-splats.txt")
	add "not ok" kernel_log_clean
else
	add ok kernel_log_clean
fi

# ---- TAP --------------------------------------------------------------------
{
	echo "TAP version 13"
	echo "# shim part, mode=$mode ODPT_IOMMU=${ODPT_IOMMU:-unset} kernel=$(uname -r)"
	num=0
	for l in "${results[@]}"; do
		[ "${l#$'\x1f'}" = "$l" ] && num=$((num + 1))
	done
	echo "1..$num"
	i=0
	for l in "${results[@]}"; do
		if [ "${l#$'\x1f'}" != "$l" ]; then
			echo "${l#$'\x1f'}"
			continue
		fi
		i=$((i + 1))
		case "$l" in
		"not ok "*) echo "not ok $i ${l#not ok }" ;;
		*) echo "ok $i ${l#ok }" ;;
		esac
	done
	echo "# shim part: $n_fail failed"
} >"$out/shim.tap"
cat "$out/shim.tap"
[ "$n_fail" -eq 0 ]
