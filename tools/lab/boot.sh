# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Booting the lab guest: the image's own virtme-ng runs in a chroot of the
# image, so QEMU, the kernel and the root filesystem all come from the image.
# The tree is bind-mounted read-only at /mnt/odpt-src, the build directory
# at /mnt/odpt-build and the run's results read-write at /mnt/odpt-res.
# A watchdog (timeout) kills a guest that overruns; the guest's stage markers
# say what it was doing.

LAB_MNT_SRC=/mnt/odpt-src
LAB_MNT_BUILD=/mnt/odpt-build
LAB_MNT_RES=/mnt/odpt-res
LAB_GUEST_CPUS=${ODPT_LAB_CPUS:-2}
LAB_GUEST_MEM=${ODPT_LAB_MEM:-2G}

# lab_image_mounts RESULTS_DIR BUILD_DIR
lab_image_mounts() {
	local res=$1 build=$2
	# A run killed with SIGKILL cannot clean up; we hold the lock, so any
	# mount left in the image is stale.
	if lab_has_mounts_below "$LAB_IMG"; then
		lab_info "removing stale mounts in $LAB_IMG"
		awk -v d="$LAB_IMG/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
			sort -r | while read -r m; do umount -R -l "$m" 2>/dev/null; done
	fi
	lab_mount_api "$LAB_IMG" || lab_die "cannot mount /proc, /sys, /dev into $LAB_IMG"
	lab_mount_bind "$LAB_TREE" "$LAB_IMG$LAB_MNT_SRC" ro || lab_die "cannot bind $LAB_TREE read-only"
	lab_mount_bind "$build" "$LAB_IMG$LAB_MNT_BUILD" rw || lab_die "cannot bind $build"
	lab_mount_bind "$res" "$LAB_IMG$LAB_MNT_RES" rw || lab_die "cannot bind $res"
}

# KVM only when a guest really boots with it (nested KVM can exist and still
# fail at once); the answer is cached per host boot.
lab_accel() {
	local cache log
	case $LAB_OPT_ACCEL in
	tcg | kvm) LAB_ACCEL=$LAB_OPT_ACCEL; return 0 ;;
	esac
	if [[ ! -w /dev/kvm ]]; then
		LAB_ACCEL=tcg
		lab_info "no usable /dev/kvm: TCG"
		return 0
	fi
	cache=$LAB_CACHE/accel.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null).$LAB_KVER
	if [[ -s $cache ]]; then
		LAB_ACCEL=$(cat "$cache")
		lab_info "accelerator $LAB_ACCEL (probed earlier this host boot)"
		return 0
	fi
	lab_stage "probe KVM (short boot)"
	log=$LAB_CACHE/kvm-probe.log
	if timeout -k 5 40 chroot "$LAB_IMG" vng -r "$LAB_KVER" --cpus 1 --memory 512M \
		--exec 'echo odpt-kvm-ok' >"$log" 2>&1 </dev/null && grep -q odpt-kvm-ok "$log"; then
		LAB_ACCEL=kvm
	else
		LAB_ACCEL=tcg
		lab_info "KVM does not work here ($(grep -m1 -iE 'error|fail' "$log" | cut -c1-100)); using TCG"
	fi
	echo "$LAB_ACCEL" >"$cache"
}

# lab_numa_args: one NUMA node per guest CPU, memory split evenly, so page
# migration (move_pages/mbind) has somewhere to go. Each CPU gets its own
# socket: CPUs of one package on different nodes make the kernel WARN in
# topology_sane(), which the kernel-log check would rightly fail.
# On by default; ODPT_LAB_NUMA=0 gives one node (docs/lab.md). Appends to LAB_VNG_ARGS, sets LAB_NUMA_QO.
# lab_numa_args MEM
lab_numa_args() {
	local mib n=$LAB_GUEST_CPUS i mem=$1
	LAB_NUMA_QO=""
	[[ ${ODPT_LAB_NUMA:-1} == 1 ]] && ((n >= 2)) || return 0
	case $mem in
	*G) mib=$((${mem%G} * 1024)) ;;
	*M) mib=${mem%M} ;;
	*) return 0 ;;
	esac
	for ((i = 0; i < n; i++)); do
		LAB_VNG_ARGS+=(--numa "$((mib / n))M,cpus=$i")
	done
	LAB_NUMA_QO=" -smp $n,sockets=$n,cores=1,threads=1"
}

# lab_vng_args IOMMU(on|off|nomask|vfio) [KERNEL]: fills LAB_VNG_ARGS.
# nomask: no IOMMU and edu without dma_mask=. vfio: intel-iommu with
# interrupt remapping (iommufd refuses to bind a VFIO device without it) and
# caching mode (QEMU needs it to shadow a userspace-owned domain). KERNEL: a
# kernel tree in the image to boot instead of the run's kernel.
lab_vng_args() {
	local qo ap kernel=${2:-${LAB_BOOT_KERNEL:-$LAB_KVER}} mem=$LAB_GUEST_MEM
	# The iommufd guest maps two buffers of up to 1 GiB each for edu.
	[[ $1 == vfio && -z ${ODPT_LAB_MEM:-} ]] && mem=3G
	if [[ $1 == vfio ]]; then
		qo="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device edu,dma_mask=0xffffffffffffffff"
		ap="intel_iommu=on iommu.passthrough=0 iommu.strict=1"
	elif [[ $1 == on ]]; then
		qo="-machine q35 -device intel-iommu,intremap=off -device edu,dma_mask=0xffffffffffffffff"
		# strict: an unmapped IOVA must stop working at once (no lazy flush).
		ap="intel_iommu=on iommu.passthrough=0 iommu.strict=1"
	elif [[ $1 == nomask ]]; then
		# edu at QEMU's default dma_mask (28 bits: QEMU silently clamps
		# its DMA addresses), which odpt_hmm must refuse to bind.
		qo="-machine q35 -device edu"
		ap="intel_iommu=off"
	else
		qo="-machine q35 -device edu,dma_mask=0xffffffffffffffff"
		ap="intel_iommu=off"
	fi
	# The run's kernel arguments (the debug kernel's) are not the lab kernel's.
	[[ -n ${2:-} ]] || ap+="${LAB_KERNEL_APPEND:+ $LAB_KERNEL_APPEND}"
	LAB_VNG_ARGS=(vng -r "$kernel" --disable-microvm --cpus "$LAB_GUEST_CPUS"
		--memory "$mem" --rwdir "$LAB_MNT_RES")
	lab_numa_args "$mem"
	LAB_VNG_ARGS+=(--qemu-opts="$qo$LAB_NUMA_QO" --append="$ap")
	[[ $LAB_ACCEL == tcg ]] && LAB_VNG_ARGS+=(--disable-kvm)
	return 0
}

declare -A LAB_BOOT_PID LAB_BOOT_T0 LAB_BOOT_SEEN LAB_BOOT_IOMMU

# lab_boot_start NAME IOMMU [KERNEL]: starts guest/main.sh for results
# subdirectory NAME (guest.env must be there) in the background, under the
# watchdog; KERNEL as for lab_vng_args.
lab_boot_start() {
	local name=$1 iommu=$2 dir=$LAB_RES/$1 kname=$LAB_OPT_KERNEL
	lab_vng_args "$iommu" "${3:-}"
	[[ -z ${3:-} ]] || kname="lab ($3)"
	LAB_BOOT_T0[$name]=$(lab_now)
	LAB_BOOT_SEEN[$name]=0
	LAB_BOOT_IOMMU[$name]=$iommu
	echo "${LAB_BOOT_T0[$name]}" >"$dir/host-launch.txt"
	lab_stage "guest $name: boot (${LAB_ACCEL}, iommu $iommu, kernel $kname, watchdog ${LAB_OPT_TIMEOUT}s)"
	timeout -k 15 "$LAB_OPT_TIMEOUT" chroot "$LAB_IMG" "${LAB_VNG_ARGS[@]}" --verbose \
		--exec "bash $LAB_MNT_SRC/tools/lab/guest/main.sh $LAB_MNT_RES/$name" \
		>"$dir/console.log" 2>&1 </dev/null &
	LAB_BOOT_PID[$name]=$!
}

# Relay new stage markers of guest NAME as progress lines.
lab_boot_relay() {
	local name=$1 f=$LAB_RES/$1/stages.log n line
	[[ -f $f ]] || return 0
	n=$(wc -l <"$f")
	while ((LAB_BOOT_SEEN[$name] < n)); do
		LAB_BOOT_SEEN[$name]=$((LAB_BOOT_SEEN[$name] + 1))
		line=$(sed -n "${LAB_BOOT_SEEN[$name]}p" "$f" | cut -d' ' -f2-)
		lab_stage "guest $name: ${line%% *}"
	done
}

# lab_boot_wait NAME...: waits for the guests, relaying their stages; for
# each, records boot.status (ok|watchdog|crash) and the last stage, and
# shows the stage and the kernel log's tail when it did not finish.
lab_boot_wait() {
	local name pending=("$@") still rc
	while ((${#pending[@]})); do
		sleep 1
		still=()
		for name in "${pending[@]}"; do
			lab_boot_relay "$name"
			if kill -0 "${LAB_BOOT_PID[$name]}" 2>/dev/null; then
				still+=("$name")
				continue
			fi
			wait "${LAB_BOOT_PID[$name]}"
			rc=$?
			lab_boot_relay "$name"
			lab_boot_finish "$name" "$rc"
		done
		pending=("${still[@]}")
	done
}

lab_boot_finish() {
	local name=$1 rc=$2 dir=$LAB_RES/$1 status stage
	lab_timing "boot_${name}_wall_s" "$(lab_since "${LAB_BOOT_T0[$name]}")"
	stage=$(tail -n1 "$dir/stages.log" 2>/dev/null | awk '{ print $2 }')
	[[ -n $stage ]] || stage="boot (no stage marker yet)"
	if ((rc == 124 || rc == 137)); then
		status=watchdog
		lab_warn "guest $name killed by the watchdog after ${LAB_OPT_TIMEOUT}s while in stage '$stage'"
		lab_show_kernel_tail "$dir"
	elif [[ $stage != "done" ]]; then
		status=crash
		lab_warn "guest $name ended (status $rc) in stage '$stage' without finishing"
		lab_show_kernel_tail "$dir"
	else
		status=ok
	fi
	echo "status=$status stage=$stage rc=$rc accel=$LAB_ACCEL iommu=${LAB_BOOT_IOMMU[$name]}" >"$dir/boot.status"
}

# lab_boot NAME IOMMU [KERNEL]: one guest, waited for.
lab_boot() {
	lab_boot_start "$1" "$2" "${3:-}"
	lab_boot_wait "$1"
}

lab_show_kernel_tail() {
	local dir=$1 src=$1/dmesg.live
	[[ -s $src ]] || src=$dir/console.log
	printf 'odpt-lab: --- last kernel log lines (%s) ---\n' "${src#"$LAB_RES"/}" >&2
	tail -n 20 "$src" >&2
}

# The interactive guest: rxe0 set up, then a shell.
lab_boot_shell() {
	lab_vng_args "$LAB_OPT_IOMMU"
	lab_stage "shell: boot (${LAB_ACCEL}, iommu $LAB_OPT_IOMMU); rxe0 is set up by $LAB_MNT_SRC/tools/lab/guest/rxe.sh"
	chroot "$LAB_IMG" "${LAB_VNG_ARGS[@]}"
}
