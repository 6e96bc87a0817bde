# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The odpt-lab commands (run, test, peer, shell, image) composed from the
# pieces in the other files.

# One lab at a time per cache: runs share the image and its mount points.
lab_lock() {
	mkdir -p "$LAB_CACHE" || lab_die "cannot create $LAB_CACHE"
	exec 9>"$LAB_CACHE/lock"
	if ! flock -n 9; then
		lab_stage "waiting for another odpt-lab using $LAB_CACHE"
		# flock killed while waiting must not count as holding the lock.
		flock 9 || lab_die "could not take the lab lock $LAB_CACHE/lock (flock: status $?)"
	fi
}

lab_image_show() {
	printf '%s\n' "$LAB_IMG"
	sed 's/^/  /' "$LAB_IMG/etc/odpt-lab/image.env"
}

# Every part the tree has (tests/lab/*.sh) but those marked opt-in (a line
# "# odpt-lab: opt-in" near their top: they run only when --parts names
# them), or --parts.
lab_parts_available() {
	local f
	for f in "$LAB_TREE"/tests/lab/*.sh; do
		[[ -f $f ]] || continue
		head -n 30 "$f" | grep -qx '# odpt-lab: opt-in' && continue
		basename "$f" .sh
	done
}

# Results directory for this run: results/<UTC timestamp>.
lab_results_new() {
	local ts
	ts=$(date -u +%Y%m%dT%H%M%SZ)
	LAB_RES=$LAB_RESULTS_ROOT/$ts
	mkdir -p "$LAB_RES" || lab_die "cannot create $LAB_RES"
	: >"$LAB_RES/timings.txt"
	echo "$LAB_CMD" >"$LAB_RES/mode.txt"
	date -u +%Y-%m-%dT%H:%M:%SZ >"$LAB_RES/started_at.txt"
	lab_info "results in $LAB_RES"
}

lab_results_link() {
	[[ -n ${LAB_RES:-} && -d $LAB_RES ]] || return 0
	ln -sfn "$(basename "$LAB_RES")" "$LAB_RESULTS_ROOT/latest.tmp" &&
		mv -T "$LAB_RESULTS_ROOT/latest.tmp" "$LAB_RESULTS_ROOT/latest"
}

# lab_guest_env NAME IOMMU MODE PEER DEVICES PART...
lab_guest_env() {
	local name=$1 iommu=$2 mode=$3 peer=$4 devices=$5
	shift 5
	mkdir -p "$LAB_RES/$name"
	{
		printf 'LAB_SRC=%q\n' "$LAB_MNT_SRC"
		printf 'ODPT_BIN=%q\n' "$ODPT_BIN_G"
		printf 'ODPT_BUILD=%q\n' "$LAB_MNT_BUILD"
		printf 'ODPT_KMOD=%q\n' "$ODPT_KMOD_G"
		printf 'ODPT_IOMMU=%q\n' "$iommu"
		printf 'LAB_MODE=%q\n' "$mode"
		printf 'LAB_PARTS=%q\n' "$*"
		printf 'LAB_PEER=%q\n' "$peer"
		printf 'LAB_DEVICES=%q\n' "$devices"
		# The parts' own knobs (tests/lab/shim.sh), exported to them.
		local v
		for v in ODPT_SEED ODPT_FUZZ_S ODPT_RACE_S ODPT_ROUNDS ${!ODPT_SHIM_@}; do
			[[ -n ${!v:-} ]] && printf 'export %s=%q\n' "$v" "${!v}"
		done
		# --patch: the guests that run rxe work (suite parts, peer) swap in
		# the patched modules after an unpatched pass (guest/kpatch.sh).
		if [[ -n ${LAB_KPATCH_MODS:-} && $iommu != vfio && ($peer == 1 || " $* " == *" suite"*) ]]; then
			printf 'LAB_KPATCH_DIR=%q\nLAB_KPATCH_MODS=%q\nLAB_KPATCH_FIXED=%q\n' \
				"$LAB_MNT_KPATCH" "$LAB_KPATCH_MODS" "${LAB_KPATCH_FIXED:-}"
		fi
	} >"$LAB_RES/$name/guest.env"
}

# A third, short guest for the shim part: no IOMMU and edu without
# dma_mask= (QEMU clamps edu's DMA addresses to 28 bits), which odpt_hmm must
# refuse to bind (tests/lab/shim.sh, ODPT_SHIM_EDU=nomask). It boots after
# the other two; ODPT_LAB_NOMASK=0 leaves it out.
# lab_guest_env_nomask MODE
lab_guest_env_nomask() {
	[[ ${ODPT_LAB_NOMASK:-1} == 1 ]] || return 0
	lab_guest_env edunomask off "$1" 0 0 shim
	echo "export ODPT_SHIM_EDU=nomask" >>"$LAB_RES/edunomask/guest.env"
}

# The short guests after the first pair: edunomask and the iommufd guest
# (when their guest.env was written), together unless --serial.
lab_boot_late() {
	local names=()
	if [[ -f $LAB_RES/edunomask/guest.env ]]; then
		lab_boot_start edunomask nomask
		names+=(edunomask)
		[[ $LAB_OPT_SERIAL == 0 ]] || { lab_boot_wait edunomask; names=(); }
	fi
	if [[ -f $LAB_RES/iommufd/guest.env ]]; then
		lab_boot_start iommufd vfio "$LAB_LABK_TREE"
		names+=(iommufd)
	fi
	((${#names[@]} == 0)) || lab_boot_wait "${names[@]}"
}

# Image, mounts, accelerator and the guest build: common to every command
# that boots a guest.
lab_prepare() {
	local build
	command -v mmdebstrap >/dev/null || lab_host_deps mmdebstrap
	lab_image_ensure "$LAB_OPT_REBUILD"
	build=$(lab_build_dir)
	mkdir -p "$build"
	lab_image_mounts "$LAB_RES" "$build"
	lab_kernel_prepare
	lab_accel
	echo "$LAB_ACCEL" >"$LAB_RES/accel.txt"
	cp "$LAB_IMG/etc/odpt-lab/image.env" "$LAB_RES/image.env"
}

# Write summary.json, report.md, the merged TAP/JUnit files and plots, in
# the image (its python3 and gnuplot), then print the totals.
lab_summarize() {
	local log=$LAB_RES/summarize.log
	lab_stage "results: summary, report, plots"
	date -u +%Y-%m-%dT%H:%M:%SZ >"$LAB_RES/finished_at.txt"
	lab_timing total_s "$(lab_elapsed)"
	if ! chroot "$LAB_IMG" python3 "$LAB_MNT_SRC/tools/lab/summarize.py" "$LAB_MNT_RES" >"$log" 2>&1; then
		lab_warn "summarizing the results failed:"
		tail -n 10 "$log" >&2
		return 1
	fi
	chroot "$LAB_IMG" bash "$LAB_MNT_SRC/tools/plot/plot.sh" "$LAB_MNT_RES" >>"$log" 2>&1 ||
		lab_warn "plotting failed (see $log)"
	# Re-render the report now that the plots exist.
	chroot "$LAB_IMG" python3 "$LAB_MNT_SRC/tools/lab/summarize.py" "$LAB_MNT_RES" >>"$log" 2>&1
	lab_results_link
	lab_stage "results: $LAB_RES (report.md, summary.json)"
}

lab_cmd_image() {
	lab_image_ensure "$LAB_OPT_REBUILD"
	lab_image_show
}

lab_cmd_run() {
	local parts p
	lab_results_new
	lab_prepare
	lab_kpatch_prepare
	if [[ -n $LAB_OPT_PARTS ]]; then parts=${LAB_OPT_PARTS//,/ }; else parts=$(lab_parts_available | xargs); fi
	for p in $parts; do
		[[ -f $LAB_TREE/tests/lab/$p.sh ]] || lab_warn "part '$p': tests/lab/$p.sh does not exist"
	done
	# iommufd has a guest of its own (the lab kernel, VFIO-ready IOMMU).
	local iommufd=0
	if [[ " $parts " == *" iommufd "* ]]; then
		iommufd=1
		parts=$(printf '%s\n' $parts | grep -vx iommufd | xargs)
		lab_labkernel_prepare
	fi
	lab_build_guest
	((iommufd == 0)) || lab_build_guest_labk
	lab_run_hist
	((iommufd == 0)) || lab_guest_env_iommufd run
	if [[ -z $parts ]]; then
		((iommufd == 0)) || lab_boot iommufd vfio "$LAB_LABK_TREE"
		lab_summarize
		lab_print_totals
		[[ $(lab_totals_failed) == 0 ]]
		return
	fi
	# The shim also runs without an IOMMU (direct DMA path). rxe is a
	# software device (no DMA through the IOMMU), so the peer suite goes to
	# that second guest: it balances the two guests' time.
	if [[ $LAB_OPT_IOMMU == on && " $parts " == *" shim "* ]]; then
		# bench (rxe; perftest) balances the second guest too.
		local nparts=shim
		if [[ " $parts " == *" bench "* ]]; then
			parts=$(printf '%s\n' $parts | grep -vx bench | xargs)
			nparts="shim bench"
		fi
		lab_guest_env iommu on run 0 1 $parts
		lab_guest_env noiommu off run 1 0 $nparts
		lab_guest_env_nomask run
		lab_boot_pair iommu on noiommu off
		lab_boot_late
	else
		lab_guest_env "$LAB_OPT_IOMMU_NAME" "$LAB_OPT_IOMMU" run 1 1 $parts
		lab_boot "$LAB_OPT_IOMMU_NAME" "$LAB_OPT_IOMMU"
		((iommufd == 0)) || lab_boot iommufd vfio "$LAB_LABK_TREE"
	fi
	lab_kpatch_compare
	lab_summarize
	lab_print_totals
	[[ $(lab_totals_failed) == 0 ]]
}

# odpt's histogram and clock self-check and microbenchmark, at native speed
# in the image chroot (a TCG guest would measure QEMU, not the code).
lab_run_hist() {
	local d=$LAB_RES/hist rc=0 t0
	[[ -n $ODPT_BIN_G ]] || return 0
	t0=$(lab_now)
	lab_stage "hist: odpt hist check and bench (native, image chroot)"
	mkdir -p "$d"
	chroot "$LAB_IMG" "$ODPT_BIN_G" --json --raw-buckets hist check >"$d/check.json" 2>"$d/check.err" || rc=1
	chroot "$LAB_IMG" "$ODPT_BIN_G" --format=hgrm hist check >"$d/timer.hgrm" 2>>"$d/check.err" || rc=1
	chroot "$LAB_IMG" "$ODPT_BIN_G" --json --raw-buckets hist bench >"$d/bench.json" 2>"$d/bench.err" || rc=1
	chroot "$LAB_IMG" "$ODPT_BIN_G" hist bench >"$d/bench.txt" 2>>"$d/bench.err" || rc=1
	echo "rc=$rc" >"$d/hist.status"
	lab_timing hist_s "$(lab_since "$t0")"
}

# Two guests: at the same time unless --serial. Much of a part's time is
# time-boxed (race and fuzz tests run for fixed seconds), so overlapping the
# guests saves nearly all of the second one even on two cores.
lab_boot_pair() {
	if [[ $LAB_OPT_SERIAL == 1 ]]; then
		lab_boot "$1" "$2"
		lab_boot "$3" "$4"
	else
		lab_boot_start "$1" "$2"
		lab_boot_start "$3" "$4"
		lab_boot_wait "$1" "$3"
	fi
}

lab_cmd_peer() {
	lab_results_new
	lab_prepare
	ODPT_BIN_G="" ODPT_KMOD_G=""
	lab_guest_env "$LAB_OPT_IOMMU_NAME" "$LAB_OPT_IOMMU" run 1 0
	lab_boot "$LAB_OPT_IOMMU_NAME" "$LAB_OPT_IOMMU"
	lab_summarize
	lab_print_totals
	[[ $(lab_totals_failed) == 0 ]]
}

lab_cmd_shell() {
	local build
	LAB_RES=$LAB_RESULTS_ROOT/shell
	mkdir -p "$LAB_RES"
	lab_prepare
	lab_boot_shell
}

# The README's test command. Every stage runs even when an earlier one
# failed, so one run shows everything that is wrong; the last stdout line
# is the totals line.
LAB_TEST_PARTS_IOMMU=(suite suite-rdma-next shim)
LAB_TEST_PARTS_NOIOMMU=(shim bench)
lab_cmd_test() {
	local p missing=()
	LAB_FINAL_LINE_DUE=1
	lab_results_new
	lab_host_deps
	lab_host_unit_tests
	for p in "${LAB_TEST_PARTS_IOMMU[@]}" iommufd; do
		[[ -f $LAB_TREE/tests/lab/$p.sh ]] || missing+=("$p")
	done
	if ((${#missing[@]})); then
		lab_warn "lab part(s) missing: ${missing[*]} (tests/lab/<part>.sh not in this tree); each counts as failed"
	fi
	lab_prepare
	lab_kpatch_prepare
	lab_labkernel_prepare
	lab_build_guest
	lab_build_guest_labk
	# peer in the second guest: see lab_cmd_run.
	lab_guest_env iommu on test 0 1 "${LAB_TEST_PARTS_IOMMU[@]}"
	lab_guest_env noiommu off test 1 0 "${LAB_TEST_PARTS_NOIOMMU[@]}"
	lab_guest_env_nomask test
	lab_guest_env_iommufd test
	lab_boot_pair iommu on noiommu off
	lab_boot_late
	lab_kpatch_compare
	lab_summarize
	lab_print_totals
	LAB_FINAL_LINE_DUE=0
	[[ $(lab_totals_failed) == 0 ]]
}
