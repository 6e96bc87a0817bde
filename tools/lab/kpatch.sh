# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# --patch: test kernel patches on rxe (docs/patches.md). The patches are
# applied to the Debian linux-source package of the guest's own kernel
# (same version, read from the image), the module directories they touch
# are rebuilt out of tree against the image's kernel headers (so vermagic
# and modversions match the packaged modules), and the guest swaps them
# in after a first, unpatched pass of the same parts (guest/kpatch.sh).
# Only module code is accepted: a file compiled into the kernel, or a
# header outside the rebuilt directories, would need a whole-kernel build.
# Results are cached by the patch set's hash in $LAB_CACHE/kpatch/<hash>.
# Any bad input is one line naming the patch or file and the step, exit 2;
# the image and the cached trees are never written to.

LAB_KPATCH_ARGS=()
LAB_KPATCH_FILES=()
LAB_MNT_KPATCH=/mnt/odpt-kpatch

# The --patch arguments as patch files (a directory gives its *.patch in
# name order, as git format-patch numbers them); usage errors exit 2.
lab_kpatch_collect() {
	local a f
	for a in "${LAB_KPATCH_ARGS[@]}"; do
		if [[ -d $a ]]; then
			local n=0
			for f in "$a"/*.patch; do
				[[ -f $f ]] || continue
				LAB_KPATCH_FILES+=("$(readlink -f "$f")")
				n=$((n + 1))
			done
			((n)) || lab_usage_die "--patch $a: the directory has no *.patch files"
		elif [[ -f $a && -r $a ]]; then
			LAB_KPATCH_FILES+=("$(readlink -f "$a")")
		else
			lab_usage_die "--patch $a: no such file or directory"
		fi
	done
	for f in "${LAB_KPATCH_FILES[@]}"; do
		grep -qE '^\+\+\+ (b/|/dev/null)' "$f" ||
			lab_usage_die "--patch $f: not a patch (no '+++ b/...' file header; make it with git format-patch or git diff)"
	done
}

# Files the patches touch (paths in the source tree), one per line.
lab_kpatch_touched() {
	sed -n 's|^+++ b/||p; s|^--- a/||p' "${LAB_KPATCH_FILES[@]}" | sed 's/[[:space:]].*//' | sort -u
}

lab_kpatch_fail() { lab_die "$1" 2; }

# The linux-source tarball of the guest's kernel, in the image (put there
# with the package by tools/lab/debug-kernel.sh or by hand). Sets
# LAB_KPATCH_TAR (host path) and LAB_KPATCH_VER (package version).
lab_kpatch_source() {
	local want pkg ver
	want=$(lab_image_fact "$LAB_IMG" kernel_package)
	pkg=linux-source-$(echo "$LAB_KVER" | cut -d. -f1,2)
	ver=$(chroot "$LAB_IMG" dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
	if [[ -z $ver ]]; then
		# A new image (its package list changed) lacks it even when the
		# source-built kernels are cached: install it as debug-kernel.sh does.
		lab_stage "patch: installing $pkg=$want in the image"
		lab_in_image "$LAB_RES/kpatch-source.log" sh -c "apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends -t trixie-backports $pkg=$want" ||
			lab_warn "installing $pkg in the image failed (see kpatch-source.log)"
		ver=$(chroot "$LAB_IMG" dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
	fi
	[[ -n $ver ]] || lab_kpatch_fail "$pkg is not installed in the image $LAB_IMG: the patches need the source of the guest's kernel $want (install it there: chroot IMAGE apt-get install -t trixie-backports $pkg=$want, as tools/lab/debug-kernel.sh does)"
	[[ $ver == "$want" ]] || lab_kpatch_fail "the image's $pkg is $ver but its kernel is $want: the rebuilt modules would not match the kernel's source"
	LAB_KPATCH_TAR=$(ls "$LAB_IMG/usr/src/$pkg".tar.* 2>/dev/null | head -1)
	[[ -n $LAB_KPATCH_TAR ]] || lab_kpatch_fail "$pkg $ver is installed but $LAB_IMG/usr/src/$pkg.tar.* is missing"
	LAB_KPATCH_VER=$ver
}

# lab_kpatch_extract PRISTINE DIR...: unpack the directories from the
# tarball once per source version (each kept with a .odpt-done marker).
lab_kpatch_extract() {
	local pristine=$1 d top want=()
	shift
	top=$(basename "$LAB_KPATCH_TAR")
	top=${top%.tar.*}
	for d in "$@"; do
		[[ -f $pristine/$d/.odpt-done ]] || want+=("$top/$d/")
	done
	((${#want[@]})) || return 0
	lab_info "unpacking ${want[*]} from ${LAB_KPATCH_TAR#"$LAB_IMG"}"
	mkdir -p "$pristine"
	tar xf "$LAB_KPATCH_TAR" -C "$pristine" --strip-components=1 "${want[@]}" 2>/dev/null ||
		lab_kpatch_fail "unpacking ${want[*]} from $LAB_KPATCH_TAR failed (a directory the patches touch that the source does not have?)"
	for d in "$@"; do touch "$pristine/$d/.odpt-done"; done
}

# The module directories to rebuild (LAB_KPATCH_DIRS): the directory of
# each touched file; include/, the core kernel and Kconfig are refused
# (whatever else is built in shows after the build, lab_kpatch_build).
lab_kpatch_dirs() {
	local f
	LAB_KPATCH_DIRS=()
	while read -r f; do
		case $f in
		include/* | arch/* | kernel/* | mm/* | init/* | lib/* | scripts/* | tools/* | Makefile | Kconfig | */Kconfig)
			lab_kpatch_fail "$(lab_kpatch_patch_of "$f"): touches $f, which is not module-only code: a whole-kernel build would be needed (--patch rebuilds modules only)" ;;
		esac
		[[ " ${LAB_KPATCH_DIRS[*]} " == *" $(dirname "$f") "* ]] || LAB_KPATCH_DIRS+=("$(dirname "$f")")
	done < <(lab_kpatch_touched)
}

# The first patch that touches FILE (for error messages).
lab_kpatch_patch_of() {
	grep -lE "^\+\+\+ b/$1\$|^--- a/$1\$" "${LAB_KPATCH_FILES[@]}" | head -1 | xargs -r basename
}

# lab_kpatch_prepare: after lab_prepare (image mounted). Applies, builds
# (or finds cached), bind-mounts the result at LAB_MNT_KPATCH and sets
# LAB_KPATCH_MODS and LAB_KPATCH_FIXED for lab_guest_env.
lab_kpatch_prepare() {
	((${#LAB_KPATCH_FILES[@]})) || return 0
	local hash d pristine work out t0 log cached=1
	lab_stage "patch: ${#LAB_KPATCH_FILES[@]} patch(es) for the Debian kernel $LAB_KVER"
	[[ $LAB_OPT_KERNEL == debian ]] || lab_kpatch_fail "--patch rebuilds modules of the Debian kernel; --kernel=$LAB_OPT_KERNEL is not supported with it"
	lab_kpatch_source
	hash=$(cat "${LAB_KPATCH_FILES[@]}" | { cat; echo "$LAB_KPATCH_VER"; sed -n '/^# >>> kpatch recipe/,/^# <<< kpatch recipe/p' "$LAB_TOOLS/lab/kpatch.sh"; } | sha256sum | cut -c1-16)
	out=$LAB_CACHE/kpatch/$hash
	LAB_KPATCH_FIXED=$(sed -n 's/^- odpt-known-bug: \([a-z0-9-]*\).*/\1/p; s/^odpt-known-bug: \([a-z0-9-]*\).*/\1/p' "${LAB_KPATCH_FILES[@]}" | sort -u | paste -sd, -)
	lab_kpatch_dirs
	t0=$(lab_now)
	if [[ -f $out/.done ]]; then
		lab_info "patched modules cached in $out"
	else
		cached=0
		pristine=$LAB_CACHE/kpatch/src-$LAB_KPATCH_VER
		lab_kpatch_extract "$pristine" "${LAB_KPATCH_DIRS[@]}"
		lab_safe_rmtree "$out.tmp"
		work=$out.tmp/src
		mkdir -p "$work"
		for d in "${LAB_KPATCH_DIRS[@]}"; do
			mkdir -p "$work/$(dirname "$d")"
			cp -a "$pristine/$d" "$work/$d"
		done
		log=$out.tmp/build.log
		lab_kpatch_apply "$work" "$log"
		lab_kpatch_build "$work" "$log" "${LAB_KPATCH_DIRS[@]}"
		printf '%s\n' "${LAB_KPATCH_FILES[@]}" >"$out.tmp/patches.txt"
		echo "$LAB_KPATCH_FIXED" >"$out.tmp/fixed.txt"
		echo "$(lab_since "$t0")" >"$out.tmp/build_s.txt"
		touch "$out.tmp/.done"
		lab_safe_rmtree "$out"
		mv "$out.tmp" "$out"
	fi
	LAB_KPATCH_MODS=$(cat "$out/modules.txt" | xargs)
	{
		echo "hash=$hash"
		echo "source=linux-source $LAB_KPATCH_VER"
		echo "kernel=$LAB_KVER"
		echo "patches=$(for p in "${LAB_KPATCH_FILES[@]}"; do basename "$p"; done | paste -sd' ' -)"
		echo "modules=$LAB_KPATCH_MODS"
		echo "fixed=$LAB_KPATCH_FIXED"
		echo "build_s=$(cat "$out/build_s.txt")"
		echo "cached=$cached"
	} >"$LAB_RES/kpatch.env"
	cp "$out/build.log" "$LAB_RES/kpatch-build.log" 2>/dev/null
	lab_timing kpatch_build_s "$(cat "$out/build_s.txt")"
	lab_stage "patch: modules $LAB_KPATCH_MODS built in $(cat "$out/build_s.txt") s$( ((cached)) && echo ' (an earlier run; cached)'); fixes known bugs: ${LAB_KPATCH_FIXED:-none declared}"
	lab_mount_bind "$out/ko" "$LAB_IMG$LAB_MNT_KPATCH" ro || lab_die "cannot bind $out/ko"
}

# lab_kpatch_apply WORK LOG: each patch checked, then applied, in order.
lab_kpatch_apply() {
	local work=$1 log=$2 p err
	for p in "${LAB_KPATCH_FILES[@]}"; do
		# No repository above WORK may change git apply's idea of the root.
		if ! err=$(cd "$work" && GIT_CEILING_DIRECTORIES=$(dirname "$work") git apply --check "$p" 2>&1); then
			echo "$err" >>"$log"
			lab_kpatch_fail "$(basename "$p") does not apply to linux-source $LAB_KPATCH_VER (git apply --check): $(echo "$err" | grep -m1 -E 'patch failed|does not exist|error' | sed 's/^error: //')"
		fi
		(cd "$work" && GIT_CEILING_DIRECTORIES=$(dirname "$work") git apply "$p") >>"$log" 2>&1 ||
			lab_kpatch_fail "$(basename "$p"): git apply failed after its check passed (see $log)"
	done
}

# lab_kpatch_build WORK LOG DIR...: make M=DIR in the image against the
# guest kernel's headers; then every touched source must have gone into a
# module (its object listed in a .mod file), else it is built-in code.
lab_kpatch_build() {
	local work=$1 log=$2 d f o mods=() m
	shift 2
	local mnt=/mnt/odpt-kpatch-build
	lab_mount_bind "$work" "$LAB_IMG$mnt" rw || lab_die "cannot bind $work"
# >>> kpatch recipe (edits between these markers change the cache key)
	# Trace headers include "../../drivers/..." relative to the kernel's
	# include/trace/, which the headers package lacks: an empty
	# include/trace in the work tree resolves them to its own sources.
	mkdir -p "$work/include/trace"
	for d in "$@"; do
		lab_stage "patch: make M=$d (kernel headers $LAB_KVER, gcc-14)"
		lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			make -C "/lib/modules/$LAB_KVER/build" M="$mnt/$d" KCFLAGS="-I$mnt/include/trace" -j2 modules ||
			lab_kpatch_fail "building $d with the patches failed (make M=$d; log: $log)"
	done
# <<< kpatch recipe
	umount "$LAB_IMG$mnt" 2>/dev/null
	mkdir -p "$work/../ko"
	while read -r f; do
		d=$(dirname "$f")
		case $f in
		*.c) o=$(basename "${f%.c}.o") ;;
		*) o="" ;;  # a header of the directory: every module built from it
		esac
		m=$(cd "$work/$d" && for x in *.mod; do
			[[ -f $x ]] || continue
			if [[ -z $o ]] || tr ' ' '\n' <"$x" | grep -qx "\(.*/\)\?$o"; then echo "${x%.mod}"; fi
		done)
		[[ -n $m ]] || lab_kpatch_fail "$(lab_kpatch_patch_of "$f"): $f is not part of any module in the Debian kernel's configuration (built in, or not built): a whole-kernel build would be needed (--patch rebuilds modules only)"
		for x in $m; do
			cp "$work/$d/$x.ko" "$work/../ko/" || lab_kpatch_fail "make M=$d made no $x.ko (log: $log)"
			# Without debug info: a tenth of the size to load over 9p; the
			# build ID the guest checks stays.
			strip --strip-debug "$work/../ko/$x.ko" 2>/dev/null || true
			mods+=("$x")
		done
	done < <(lab_kpatch_touched)
	printf '%s\n' "${mods[@]}" | awk '!seen[$0]++' >"$work/../modules.txt"
	cp "$work/../modules.txt" "$work/../ko/modules.txt"
}

# After the boots: odpt compare of each part's unpatched and patched
# results (latency series, written with --raw-buckets), for the report;
# parts without latency series (the suite's results have none) are left
# out. Under TCG latencies are QEMU's: this informs and never fails a run.
lab_kpatch_compare() {
	local b g p out
	[[ -n ${LAB_KPATCH_MODS:-} && -n ${ODPT_BIN_G:-} ]] || return 0
	for b in "$LAB_RES"/*/baseline/*/; do
		[[ -d $b ]] || continue
		p=$(basename "$b")
		g=$(basename "$(dirname "$(dirname "$b")")")
		[[ -d $LAB_RES/$g/$p ]] || continue
		out=$(chroot "$LAB_IMG" "$ODPT_BIN_G" compare "$LAB_MNT_RES/$g/baseline/$p" "$LAB_MNT_RES/$g/$p" 2>&1)
		[[ $out == *"no latency series"* ]] && continue
		printf '## %s: odpt compare %s/baseline/%s %s/%s\n%s\n' "$p" "$g" "$p" "$g" "$p" "$out" \
			>>"$LAB_RES/$g/kpatch-compare.txt"
	done
}
