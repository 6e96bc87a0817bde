# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The lab's choice of guest kernel (--kernel=debian|debug). debian is the
# image's own trixie-backports kernel. debug is Debian's linux-source built
# with KASAN, lockdep, DMA-API debug and kmemleak by debug-kernel.sh (built
# once, then cached): its tree is bound into the image, virtme-ng boots it
# from there, the module is built against it, and the checkers' reports
# fail the run like any other kernel-log report (summarize.py).

LAB_MNT_KERNEL=/mnt/odpt-kernel

# lab_kernel_prepare: needs the image mounts. Sets LAB_BOOT_KERNEL (vng -r),
# LAB_KDIR (kbuild dir in the image), LAB_KERNEL_APPEND (extra kernel
# arguments) and, for the debug kernel, the guest memory default.
lab_kernel_prepare() {
	LAB_BOOT_KERNEL=$LAB_KVER
	LAB_KDIR=/lib/modules/$LAB_KVER/build
	LAB_KERNEL_APPEND=""
	echo "flavour=debian release=$LAB_KVER" >"$LAB_RES/kernel.txt"
	[[ $LAB_OPT_KERNEL == debug ]] || return 0
	local dk=$LAB_TOOLS/lab/debug-kernel.sh log=$LAB_RES/debug-kernel.log tree t0
	t0=$(lab_now)
	if tree=$("$dk" path "$LAB_IMG" 2>>"$log"); then
		lab_stage "kernel: debug kernel cached ($tree)"
	else
		lab_stage "kernel: building the debug kernel once (debug-kernel.sh build; 20-60 min on 2 cores; log $log and the build.log it names)"
		tree=$("$dk" build "$LAB_IMG" 2>>"$log") ||
			lab_die "building the debug kernel failed (see $log; run again to resume it)"
	fi
	lab_timing debug_kernel_s "$(lab_since "$t0")"
	[[ -f $tree/arch/x86/boot/bzImage ]] || lab_die "debug kernel tree $tree has no bzImage"
	# Read-write: virtme-ng keeps its module links (.virtme_mods) in the tree.
	lab_mount_bind "$(dirname "$tree")" "$LAB_IMG$LAB_MNT_KERNEL" rw ||
		lab_die "cannot bind $(dirname "$tree") into the image"
	LAB_BOOT_KERNEL=$LAB_MNT_KERNEL/linux
	LAB_KDIR=$LAB_MNT_KERNEL/linux
	# vng links the tree's modules into .virtme_mods on first use; done here
	# once, since the two guests start at the same time and would race on it.
	lab_run "$log" chroot "$LAB_IMG" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		sh -c "cd $LAB_KDIR && virtme-prep-kdir-mods" ||
		lab_die "virtme-prep-kdir-mods failed in the debug kernel tree (see $log)"
	# A large log buffer (KASAN and lockdep reports are long), room for every
	# DMA mapping the shim makes, and kmemleak (off by default in the config).
	LAB_KERNEL_APPEND="log_buf_len=8M dma_debug_entries=65536 kmemleak=on"
	lab_kernel_init_no_udev "$log"
	# KASAN takes an eighth of the memory for its shadow.
	[[ -n ${ODPT_LAB_MEM:-} ]] || LAB_GUEST_MEM=3G
	{
		echo "flavour=debug release=$(cat "$tree/include/config/kernel.release") tree=$tree"
		sed 's/^/build_/' "$(dirname "$tree")/build-info.txt" 2>/dev/null
	} >"$LAB_RES/kernel.txt"
	lab_info "debug kernel $(head -1 "$LAB_RES/kernel.txt")"
}

# lab_kernel_init_no_udev LOG: virtme-ng's bash init (the image has no Rust
# one) finds the --exec script's I/O through /dev/virtio-ports/virtme.*,
# links only udev makes. Under TCG with KASAN and lockdep, udev coldplug took
# 350 guest seconds and `udevadm settle` gave up, the links never appeared
# and the guest panicked before its script ran (docs/debug-kernel.md). For
# this run only, a copy of the init that links the ports itself and skips
# udev when the kernel command line says odpt_no_udev is bound over the
# image's (the image itself is not changed; the lab's lock keeps other runs
# out of the image meanwhile, and without odpt_no_udev the copy behaves as
# the original). Without the expected anchor line: a warning, no change.
lab_kernel_init_no_udev() {
	local log=$1 init=/usr/lib/python3/dist-packages/virtme/guest/virtme-init
	local copy=$LAB_RES/virtme-init.no-udev anchor='# Try to get udevd to coldplug everything.'
	if [[ ! -f $LAB_IMG$init ]] || ! grep -qxF "$anchor" "$LAB_IMG$init"; then
		lab_warn "$init not found or changed: debug guests keep udev (they may not finish booting under TCG)"
		return 0
	fi
	awk -v anchor="$anchor" '$0 == anchor {
		print "# odpt-lab (--kernel=debug): link the virtio ports without udev."
		print "if grep -qw odpt_no_udev /proc/cmdline; then"
		print "    udevd=\"\""
		print "    mkdir -p /dev/virtio-ports"
		print "    for p in /sys/class/virtio-ports/*; do"
		print "        n=$(cat \"$p/name\" 2>/dev/null)"
		print "        [[ -n $n ]] && ln -sf \"../${p##*/}\" \"/dev/virtio-ports/$n\""
		print "    done"
		print "fi"
	} { print }' "$LAB_IMG$init" >"$copy" && chmod 755 "$copy" ||
		lab_die "cannot write $copy"
	lab_mount_bind "$copy" "$LAB_IMG$init" ro || lab_die "cannot bind $copy over $init in the image"
	LAB_KERNEL_APPEND+=" odpt_no_udev"
	echo "virtme-init: $copy bound over $init (odpt_no_udev)" >>"$log"
}
