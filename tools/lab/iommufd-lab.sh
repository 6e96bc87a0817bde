# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The iommufd guest: Debian's kernel is built without CONFIG_IOMMUFD, so the
# iommufd part (tests/lab/iommufd.sh) boots the source-built lab kernel
# (tools/lab/lab-kernel.config: Debian's linux-source with IOMMUFD and its
# selftest mock, VFIO's device cdev, fault injection, test_hmm; no
# sanitizers). debug-kernel.sh builds and caches it like the debug kernel
# (its cache key hashes the fragment, so the two never mix). The suite and
# shim parts keep running on Debian's kernel.
#
# For that guest the lab also builds, in the image, against the lab kernel's
# tree: odpt with the iommufd selftest header (the mock device's commands are
# not uAPI: they come from drivers/iommu/iommufd/iommufd_test.h of the very
# kernel that runs), odpt_hmm.ko (the shim's map modes beside iommufd's
# pinned mappings in the same guest), and the kernel's own selftests
# (selftests/iommu and mm/hmm-tests: the peers of the iommufd part).

LAB_MNT_LABK=/mnt/odpt-labkernel
LAB_LABK_TREE=""

# lab_labkernel_prepare: needs the image mounts. Builds the lab kernel once
# (20-40 min on 2 cores; the time is printed and kept in timings.txt), binds
# its tree at LAB_MNT_LABK and sets LAB_LABK_TREE (the tree's path in the image).
lab_labkernel_prepare() {
	local dk=$LAB_TOOLS/lab/debug-kernel.sh log=$LAB_RES/lab-kernel.log tree t0 info
	local frag=$LAB_TOOLS/lab/lab-kernel.config
	t0=$(lab_now)
	if tree=$(ODPT_DEBUG_KCONFIG=$frag "$dk" path "$LAB_IMG" 2>>"$log"); then
		lab_stage "kernel: lab kernel (iommufd) cached ($tree)"
	else
		lab_stage "kernel: building the lab kernel for the iommufd guest once (debug-kernel.sh build with lab-kernel.config; 20-40 min on 2 cores; log $log)"
		tree=$(ODPT_DEBUG_KCONFIG=$frag "$dk" build "$LAB_IMG" 2>>"$log") ||
			lab_die "building the lab kernel failed (see $log; run again to resume it)"
		info=$(dirname "$tree")/build-info.txt
		lab_info "lab kernel built: $(sed -n 's/^build_seconds=//p' "$info") s compile, $(sed -n 's/^config_seconds=//p' "$info") s config"
	fi
	lab_timing lab_kernel_s "$(lab_since "$t0")"
	[[ -f $tree/arch/x86/boot/bzImage ]] || lab_die "lab kernel tree $tree has no bzImage"
	lab_mount_bind "$(dirname "$tree")" "$LAB_IMG$LAB_MNT_LABK" rw ||
		lab_die "cannot bind $(dirname "$tree") into the image"
	LAB_LABK_TREE=$LAB_MNT_LABK/linux
	lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		sh -c "cd $LAB_LABK_TREE && virtme-prep-kdir-mods" ||
		lab_die "virtme-prep-kdir-mods failed in the lab kernel tree (see $log)"
	{
		echo "flavour=lab release=$(cat "$tree/include/config/kernel.release") tree=$tree"
		sed 's/^/build_/' "$(dirname "$tree")/build-info.txt" 2>/dev/null
	} >"$LAB_RES/lab-kernel.txt"
}

# lab_build_guest_labk: odpt (with the mock's header), the module and the
# kernel's selftests for the iommufd guest, into BUILD/labk. Sets
# ODPT_BIN_LABK / ODPT_KMOD_LABK (guest paths); a failure marks the build
# failed (build.status) like the main build.
lab_build_guest_labk() {
	local log=$LAB_RES/build-labk.log b=$LAB_MNT_BUILD/labk t0 ko
	t0=$(lab_now)
	ODPT_BIN_LABK="" ODPT_KMOD_LABK=""
	: >"$log"
	lab_stage "build: odpt, odpt_hmm.ko and the kernel selftests against the lab kernel ($LAB_LABK_TREE)"
	if ! lab_in_image "$log" cmake -S "$LAB_MNT_SRC" -B "$b" -DCMAKE_C_COMPILER=gcc-14 \
		-DODPT_KMOD_CC=gcc-14 -DODPT_KDIR="$LAB_LABK_TREE" -DODPT_IOMMUFD_TEST_H="$LAB_LABK_TREE" \
		-DODPT_BUILD_TESTS=OFF -DODPT_BUILD_KMOD=ON ||
		! lab_in_image "$log" cmake --build "$b" -j2 ||
		! lab_in_image "$log" cmake --build "$b" -j2 --target kmod; then
		lab_warn "building odpt against the lab kernel failed (see ${log#"$LAB_TREE"/})"
		LAB_BUILD_OK=0
	fi
	[[ -x $LAB_IMG$b/src/cli/odpt ]] && ODPT_BIN_LABK=$b/src/cli/odpt
	ko=$(cd "$LAB_IMG$b" 2>/dev/null && find . -name odpt_hmm.ko -print -quit)
	[[ -n $ko ]] && ODPT_KMOD_LABK=$b/${ko#./}
	lab_build_kselftests "$log" "$b/kselftest"
	echo "ok=$LAB_BUILD_OK kmod=ON" >"$LAB_RES/build.status"
	lab_timing build_labk_s "$(lab_since "$t0")"
}

# lab_build_kselftests LOG OUT: the kernel's iommufd selftests and
# mm/hmm-tests from the lab kernel's source, into OUT (make is incremental:
# warm runs only relink nothing). Missing binaries are the part's SKIPs,
# not a failed build: the peers are measured against, not ours.
lab_build_kselftests() {
	local log=$1 out=$2 k=$LAB_LABK_TREE
	# selftests/iommu needs <sys/capability.h>: libcap-dev is in the
	# image's package list (tools/lab/image.sh).
	mkdir -p "$LAB_IMG$out/iommu" "$LAB_IMG$out/mm"
	# kselftests compile against the tree's exported uAPI headers (usr/include).
	lab_in_image "$log" sh -ec "[ -f $k/usr/include/linux/iommufd.h ] || make -s -C $k headers" ||
		{ lab_warn "make headers failed in the lab kernel tree (see ${log#"$LAB_TREE"/})"; return 0; }
	lab_in_image "$log" make -s -C "$k/tools/testing/selftests/iommu" OUTPUT="$out/iommu" \
		"$out/iommu/iommufd" "$out/iommu/iommufd_fail_nth" ||
		lab_warn "building selftests/iommu failed (see ${log#"$LAB_TREE"/}); the part will SKIP it"
	lab_in_image "$log" make -s -C "$k/tools/testing/selftests/mm" OUTPUT="$out/mm" "$out/mm/hmm-tests" ||
		lab_warn "building selftests/mm/hmm-tests failed (see ${log#"$LAB_TREE"/}); the part will SKIP it"
}

lab_in_image() { # lab_in_image LOG CMD...
	local log=$1
	shift
	lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
}

# lab_guest_env_iommufd MODE: the guest that boots the lab kernel with
# intel-iommu in the mode VFIO needs (interrupt remapping on).
lab_guest_env_iommufd() {
	lab_guest_env iommufd vfio "$1" 0 0 iommufd
	{
		printf 'ODPT_BIN=%q\n' "$ODPT_BIN_LABK"
		printf 'ODPT_KMOD=%q\n' "$ODPT_KMOD_LABK"
		printf 'ODPT_BUILD=%q\n' "$LAB_MNT_BUILD/labk"
		local v
		for v in ${!ODPT_IOMMUFD_@}; do
			[[ -n ${!v:-} ]] && printf 'export %s=%q\n' "$v" "${!v}"
		done
	} >>"$LAB_RES/iommufd/guest.env"
}
