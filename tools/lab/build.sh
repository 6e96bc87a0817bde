# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Building odpt for the guest, and the host unit tests. The guest build runs
# in a chroot of the image at native speed with the image's gcc-14 and
# headers (the compiler the guest kernel was built with, which kbuild
# needs for the shim), into a build directory kept in the cache so warm runs
# are incremental. The host build runs the cmocka unit tests with ctest.

# Build directory for this tree and image (path-keyed: one per worktree).
lab_build_dir() {
	local h
	h=$(printf '%s\n%s\n' "$LAB_TREE" "$(lab_image_fact "$LAB_IMG" key)" | sha256sum | cut -c1-12)
	# The debug kernel gets its own build (the module is built against its tree).
	if [[ ${LAB_OPT_KERNEL:-debian} == debug ]]; then echo "$LAB_CACHE/build-$h-debug"; else echo "$LAB_CACHE/build-$h"; fi
}

# lab_build_guest: needs lab_image_mounts. Sets ODPT_BIN_G / ODPT_KMOD_G
# (guest paths) and LAB_BUILD_OK.
lab_build_guest() {
	local log=$LAB_RES/build.log t0
	t0=$(lab_now)
	lab_stage "build: odpt in the image (gcc-14, kernel build dir ${LAB_KDIR:-/lib/modules/$LAB_KVER/build})"
	: >"$log"
	LAB_BUILD_OK=1
	local kmod=OFF
	[[ -d $LAB_TREE/src/kmod ]] && kmod=ON
	ODPT_BIN_G=""
	ODPT_KMOD_G=""
	if ! lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		cmake -S "$LAB_MNT_SRC" -B "$LAB_MNT_BUILD" -DCMAKE_C_COMPILER=gcc-14 \
		-DODPT_KMOD_CC=gcc-14 -DODPT_KDIR="${LAB_KDIR:-/lib/modules/$LAB_KVER/build}" \
		-DODPT_BUILD_TESTS=OFF -DODPT_BUILD_KMOD="$kmod"; then
		lab_warn "cmake configure failed in the image (see ${log#"$LAB_TREE"/})"
		LAB_BUILD_OK=0
	elif ! lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		cmake --build "$LAB_MNT_BUILD" -j2; then
		lab_warn "building odpt failed in the image (see ${log#"$LAB_TREE"/})"
		LAB_BUILD_OK=0
	fi
	if [[ -x $LAB_IMG$LAB_MNT_BUILD/src/cli/odpt ]]; then
		ODPT_BIN_G=$LAB_MNT_BUILD/src/cli/odpt
	else
		lab_warn "no odpt binary was built (src/cli has no sources yet?)"
	fi
	if [[ -d $LAB_TREE/src/kmod ]]; then
		lab_stage "build: kernel module (target kmod)"
		if lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			cmake --build "$LAB_MNT_BUILD" -j2 --target kmod; then
			local ko
			ko=$(cd "$LAB_IMG$LAB_MNT_BUILD" && find . -name odpt_hmm.ko -print -quit)
			[[ -n $ko ]] && ODPT_KMOD_G=$LAB_MNT_BUILD/${ko#./}
		else
			lab_warn "building the kernel module failed (see ${log#"$LAB_TREE"/})"
			LAB_BUILD_OK=0
		fi
	fi
	lab_build_guest_next "$log"
	echo "ok=$LAB_BUILD_OK kmod=$kmod" >"$LAB_RES/build.status"
	lab_timing build_guest_s "$(lab_since "$t0")"
	return 0
}

# The CLI a second time, against the newer rdma-core the image keeps under
# LAB_RDMA_NEXT (image.sh), into BUILD/rdma-next, for the suite-rdma-next
# part. Its .pc files point into that prefix, so pkg-config and the
# ODPT_HAVE_* checks see the newer headers; -rpath-link lets the linker
# resolve libibverbs' own libnl from there too. An image without it: nothing
# to build (the part SKIPs with the image's reason).
lab_build_guest_next() {
	local log=$1 pc
	pc=$(sed -n 's/^pkgconfig=//p' "$LAB_IMG$LAB_RDMA_NEXT/odpt-lab.env" 2>/dev/null)
	[[ -n $pc ]] || return 0
	lab_stage "build: odpt against rdma-core $(sed -n 's/^version=//p' "$LAB_IMG$LAB_RDMA_NEXT/odpt-lab.env") ($LAB_RDMA_NEXT)"
	if ! lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		PKG_CONFIG_PATH="$pc" cmake -S "$LAB_MNT_SRC" -B "$LAB_MNT_BUILD/rdma-next" \
		-DCMAKE_C_COMPILER=gcc-14 -DODPT_BUILD_TESTS=OFF -DODPT_BUILD_KMOD=OFF \
		-DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,${pc%/pkgconfig}" ||
		! lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			cmake --build "$LAB_MNT_BUILD/rdma-next" -j2 --target odpt; then
		lab_warn "building odpt against $LAB_RDMA_NEXT failed in the image (see ${log#"$LAB_TREE"/})"
		LAB_BUILD_OK=0
	fi
}

# Host unit tests, in two builds: plain (-Werror) into RESULTS/host/ and
# with ASan+UBSan into RESULTS/host-asan/ (issue: the tests must pass under
# the sanitizers too). Each: configure, build, ctest with JUnit output.
# Sets LAB_CTEST_RC (non-zero when either failed).
lab_host_unit_tests() {
	LAB_CTEST_RC=0
	lab_host_unit_variant host "" -DODPT_WERROR=ON
	lab_host_unit_variant host-asan "-asan" -DODPT_WERROR=ON \
		-DODPT_SANITIZE=address,undefined
}

# lab_host_unit_variant OUTDIR BUILDSUFFIX CMAKE-ARGS...
lab_host_unit_variant() {
	local name=$1 suffix=$2 b out log t0 rc
	shift 2
	out=$LAB_RES/$name
	b=$LAB_CACHE/host-build-$(printf '%s' "$LAB_TREE" | sha256sum | cut -c1-12)$suffix
	mkdir -p "$out"
	log=$out/build.log
	t0=$(lab_now)
	lab_stage "$name: build (cmake $*) in $b"
	if ! lab_run "$log" cmake -S "$LAB_TREE" -B "$b" -DODPT_BUILD_KMOD=OFF "$@" ||
		! lab_run "$log" cmake --build "$b" -j2; then
		lab_warn "the $name build failed (see ${log#"$LAB_TREE"/})"
		echo "build failed" >"$out/ctest.status"
		LAB_CTEST_RC=1
		lab_timing "${name//-/_}_unit_s" "$(lab_since "$t0")"
		return 0
	fi
	lab_stage "$name: unit tests (ctest)"
	(cd "$b" && ctest --output-on-failure --output-junit "$out/ctest.junit.xml") >"$out/ctest.log" 2>&1
	rc=$?
	((rc == 0)) || LAB_CTEST_RC=$rc
	tail -n 3 "$out/ctest.log" | sed 's/^/odpt-lab:   /' >&2
	echo "rc=$rc" >"$out/ctest.status"
	lab_timing "${name//-/_}_unit_s" "$(lab_since "$t0")"
}
