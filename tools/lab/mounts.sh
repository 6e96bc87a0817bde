# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Mounts into an image directory, remembered in a stack so that one EXIT trap
# undoes exactly what this process mounted, innermost first, also when a
# stage fails or the run is interrupted. Nothing else in the lab calls mount.

LAB_MOUNTS=()

# lab_mount_api ROOT: /proc, /sys and /dev for chroot and for vng in it.
lab_mount_api() {
	local root=$1
	mount -t proc proc "$root/proc" || return 1
	LAB_MOUNTS+=("$root/proc")
	mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" || return 1
	LAB_MOUNTS+=("$root/sys")
	mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" || return 1
	LAB_MOUNTS+=("$root/dev")
}

# lab_mount_bind SRC DST ro|rw
lab_mount_bind() {
	local src=$1 dst=$2 mode=$3
	# A file can be bound over an existing file (debug-kernel-lab.sh).
	[[ -e $dst ]] || mkdir -p "$dst" || return 1
	mount --bind "$src" "$dst" || return 1
	LAB_MOUNTS+=("$dst")
	if [[ $mode == ro ]]; then
		mount -o remount,bind,ro "$dst" || return 1
	fi
}

# Unmount everything we mounted (reverse order). Recursive for the rbinds;
# lazy only as a last resort so a busy mount cannot leave us stuck.
lab_umount_all() {
	local i m
	for ((i = ${#LAB_MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${LAB_MOUNTS[i]}
		mountpoint -q "$m" || continue
		umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null ||
			lab_warn "could not unmount $m"
	done
	LAB_MOUNTS=()
}

# True when anything is still mounted at or below DIR (guards rm -rf).
lab_has_mounts_below() {
	local dir
	dir=$(realpath -m "$1")
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' \
		/proc/self/mountinfo
}

# Remove a directory tree only when nothing is mounted inside it.
lab_safe_rmtree() {
	local dir=$1
	[[ -e $dir ]] || return 0
	if lab_has_mounts_below "$dir"; then
		lab_warn "not removing $dir: something is still mounted below it"
		return 1
	fi
	rm -rf --one-file-system "$dir"
}
