#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Builds, caches and boots odpt's debug kernel: Debian's linux-source-7.3 (trixie-backports)
# with virtme-ng's minimal config plus tools/lab/debug-kernel.config (KASAN, lockdep,
# DMA-API debug, kmemleak, rxe+ODP, HMM, intel-iommu, VFIO, iommufd). Debian's kernel has none
# of these checkers, so a locking or memory bug in odpt_hmm.ko would go unseen there.
# Everything is done inside an odpt-lab image (a trixie chroot, given as IMAGE_DIR).
#
#   debug-kernel.sh build IMAGE_DIR          build (or reuse) the kernel; prints its tree path
#   debug-kernel.sh path  IMAGE_DIR          prints the cached tree path, exit 1 if not built
#   debug-kernel.sh module IMAGE_DIR MODDIR  builds the out-of-tree module in MODDIR (its own
#                                            Kbuild/Makefile) against the tree, in the image
#   debug-kernel.sh boot  IMAGE_DIR MODE SRC RES CMD
#                                            boots it under TCG (MODE iommu|vfio|noiommu), SRC
#                                            read-only at /mnt/dbgk-src, RES read-write at
#                                            /mnt/dbgk-res, runs CMD, and fails if the kernel
#                                            log shows KASAN, lockdep, WARN, BUG, ... (copied to
#                                            RES/dmesg.txt and RES/splats.txt)
#
# The tree is cached in ${XDG_CACHE_HOME:-~/.cache}/odpt-lab/debug-kernel/<key>, the key being
# the linux-source package version plus the hashes of the fragment and of this script's build
# recipe. It is built in <key>.tmp.* and renamed when complete, so a half build is never used.
# The tree is a complete kbuild dir: build out-of-tree modules with `make -C TREE M=DIR`
# (inside the image, gcc-14). Root is needed (chroot, bind mounts).
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
fragment=${ODPT_DEBUG_KCONFIG:-$here/debug-kernel.config}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/odpt-lab/debug-kernel
jobs=${ODPT_JOBS:-2}
srcpkg=${ODPT_DEBUG_KSRC_PKG:-linux-source-7.3}
# Build dependencies of the kernel that odpt-lab's image does not already carry.
builddeps="flex bison bc libssl-dev libelf-dev xz-utils cpio python3 kmod"

die() { echo "$prog: $*" >&2; exit 2; }
log() { echo "$prog: [$(date -u +%H:%M:%S)] $*" >&2; }

[ $# -ge 2 ] || die "usage: $prog build|path IMAGE_DIR | module IMAGE_DIR MODDIR | boot IMAGE_DIR MODE SRC RES CMD"
cmd=$1 img=$(cd "$2" 2>/dev/null && pwd) || die "image dir '$2' not found"
shift 2
[ -x "$img/usr/bin/apt-get" ] || die "'$img' is not a Debian image (no usr/bin/apt-get)"
[ -r "$fragment" ] || die "config fragment '$fragment' not readable"
[ "$(id -u)" = 0 ] || die "must run as root (chroot and bind mounts into the image)"
# Run in a private mount namespace. tools/odpt-lab starts by removing every mount it finds
# in its image (leftovers of a killed run, it assumes); a build of ours in the same image
# lost /proc and its tree that way mid-compile ("objtool: read_stack_limit: fopen failed",
# "getcwd() failed"). Mounts made in our own namespace are invisible to other processes,
# unaffected by their unmounts, and go away with us.
if [ -z "${ODPT_DK_PRIVATE_NS:-}" ]; then
	export ODPT_DK_PRIVATE_NS=1
	exec unshare --mount --propagation private "$here/$prog" "$cmd" "$img" "$@"
fi

# Bind mounts made by this script, undone on exit in reverse order. /proc, /sys and /dev of
# the image are mounted only when missing (and then unmounted again): a shared dev image
# keeps its own.
mounted=()
cleanup_mounts() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -R "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
	done
	mounted=()
}
trap cleanup_mounts EXIT
mount_sys() {
	mountpoint -q "$img/proc" || { mount -t proc proc "$img/proc"; mounted+=("$img/proc"); }
	mountpoint -q "$img/sys" || { mount --rbind /sys "$img/sys"; mounted+=("$img/sys"); }
	mountpoint -q "$img/dev" || { mount --rbind /dev "$img/dev"; mounted+=("$img/dev"); }
}
bind() { # bind HOST_DIR IMAGE_PATH [ro]
	mkdir -p "$img$2"
	mount --bind "$1" "$img$2"
	mounted+=("$img$2")
	[ "${3:-}" != ro ] || mount -o remount,bind,ro "$img$2"
}
in_img() { chroot "$img" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# The cache key: package version (from the image's apt, after an update), fragment, recipe.
recipe_hash() {
	# The part of this script that shapes the build; edits elsewhere keep the cache.
	sed -n '/^# >>> recipe/,/^# <<< recipe/p' "$0" | sha256sum | cut -c1-12
}
key_for() { # key_for VERSION
	local fh
	fh=$(sha256sum "$fragment" | cut -c1-12)
	echo "${srcpkg#linux-source-}-$(echo "$1" | tr -c 'A-Za-z0-9.+\n' _)-$fh-$(recipe_hash)"
}
cached_tree() { # newest complete tree for this fragment and recipe, any source version
	local fh d best=""
	fh=$(sha256sum "$fragment" | cut -c1-12)
	for d in "$cache"/*-"$fh-$(recipe_hash)"; do
		[ -f "$d/linux/.odpt-debug-kernel-done" ] || continue
		{ [ -z "$best" ] || [ "$d/linux/.odpt-debug-kernel-done" -nt "$best/linux/.odpt-debug-kernel-done" ]; } && best=$d
	done
	[ -n "$best" ] && echo "$best/linux"
}

# Every CONFIG_ line of the fragment must be in .config with the same value, every
# "# CONFIG_X is not set" must be unset. Prints the dropped or changed ones.
check_config() { # check_config DOTCONFIG
	local line opt want got bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) opt=${line%%=*} want=${line#*=} ;;
		"# CONFIG_"*" is not set") opt=${line#\# } opt=${opt%% *} want=n ;;
		*) continue ;;
		esac
		got=$(grep -E "^$opt=|^# $opt is not set" "$1" | head -1 || true)
		case $got in
		"$opt="*) got=${got#*=} ;;
		*) got=n ;;
		esac
		if [ "$got" != "$want" ]; then
			echo "  $opt: requested $want, got $got"
			bad=1
		fi
	done <"$fragment"
	return $bad
}

do_build() {
	mkdir -p "$cache"
	mount_sys
	log "apt-get update in the image"
	in_img apt-get update -q >/dev/null || die "apt-get update failed in $img (archive unreachable?)"
	local ver
	ver=$(in_img apt-cache policy "$srcpkg" | awk '/Candidate:/{print $2}')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$srcpkg not available (is trixie-backports in the image's sources?)"
	local key out
	key=$(key_for "$ver")
	out=$cache/$key
	if [ -f "$out/linux/.odpt-debug-kernel-done" ]; then
		log "cached: $out/linux"
		echo "$out/linux"
		return 0
	fi
	log "installing $srcpkg $ver and build dependencies in the image"
	in_img apt-get install -q -y --no-install-recommends -t trixie-backports \
		"$srcpkg=$ver" $builddeps >/dev/null || die "apt-get install $srcpkg failed"
	local tarball
	tarball=$(in_img dpkg -L "$srcpkg" | grep -E '/usr/src/linux-source-.*\.tar\.(xz|bz2|gz)$' | head -1)
	[ -n "$tarball" ] || die "no source tarball in $srcpkg"

	# One builder per key; an interrupted build (its temp dir, config already checked) is
	# resumed: make is incremental, so a build cut short by a time limit is not lost.
	exec 9>"$cache/$key.lock"
	flock -n 9 || die "another build of $key is running (lock $cache/$key.lock)"
	local tmp="" resume=0 d
	for d in "$cache/$key".tmp.*; do
		[ -f "$d/config-checked" ] && [ -f "$d/linux/.config" ] && { tmp=$d resume=1; break; }
	done
	[ -n "$tmp" ] || tmp=$(mktemp -d "$cache/$key.tmp.XXXXXX")
	# Temp dirs of other keys (other sources or fragments) older than 4 h are litter.
	find "$cache" -maxdepth 1 -name '*.tmp.*' ! -name "$key.tmp.*" -mmin +240 -exec rm -rf {} + 2>/dev/null || true
	local mnt=/mnt/odpt-debug-kernel-$$
	bind "$tmp" "$mnt"
	local t0 t1 t2 t3
# >>> recipe (edits between these markers change the cache key)
	t0=$(date +%s)
	if [ $resume = 0 ]; then
		cp "$fragment" "$tmp/debug-kernel.config"
		log "unpacking $tarball"
		in_img sh -ec "cd $mnt && tar xf $tarball && mv linux-source-* linux"
		log "config: vng --kconfig + fragment, olddefconfig"
		# vng appends some of its own settings after --config snippets (e.g. debug info), so
		# the fragment is merged once more on top: it has the last word, olddefconfig resolves.
		in_img sh -ec "cd $mnt/linux && vng --kconfig --config ../debug-kernel.config >../kconfig.log 2>&1 &&
			scripts/kconfig/merge_config.sh -m .config ../debug-kernel.config >>../kconfig.log 2>&1 &&
			make -s olddefconfig >>../kconfig.log 2>&1" ||
			{ tail -20 "$tmp/kconfig.log" >&2; die "kernel config failed (log: $tmp/kconfig.log)"; }
	else
		log "resuming the interrupted build in $tmp"
	fi
	local dropped
	if ! dropped=$(check_config "$tmp/linux/.config"); then
		echo "$prog: options of $fragment dropped or changed by olddefconfig:" >&2
		echo "$dropped" >&2
		die "fix the fragment (add the missing dependencies, or remove the option deliberately); tree left in $tmp"
	fi
	touch "$tmp/config-checked"
	t1=$(date +%s)
	log "make -j$jobs bzImage modules (nice 10; log: $tmp/build.log)"
	in_img sh -ec "cd $mnt/linux && nice -n 10 make -j$jobs bzImage modules >>../build.log 2>&1" ||
		{ tail -30 "$tmp/build.log" >&2; die "kernel build failed or interrupted (log: $tmp/build.log; run again to resume)"; }
	t2=$(date +%s)
	# modules_install into a staging root next to the tree: the lab can boot the bzImage with
	# these modules; out-of-tree modules build against the tree itself (M=).
	in_img sh -ec "cd $mnt/linux && make -s INSTALL_MOD_PATH=$mnt/modroot INSTALL_MOD_STRIP=1 modules_install >>../build.log 2>&1" ||
		die "modules_install failed (log: $tmp/build.log)"
# <<< recipe
	t3=$(date +%s)
	local kver
	kver=$(cat "$tmp/linux/include/config/kernel.release")
	cat >"$tmp/build-info.txt" <<-EOF
		source_package=$srcpkg
		source_version=$ver
		kernel_release=$kver
		fragment_sha256=$(sha256sum "$fragment" | cut -d' ' -f1)
		config_seconds=$((t1 - t0))
		build_seconds=$((t2 - t1))
		resumed=$resume
		modules_install_seconds=$((t3 - t2))
		jobs=$jobs
		built_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	EOF
	touch "$tmp/linux/.odpt-debug-kernel-done"
	cleanup_mounts
	rm -rf "$out"
	mv "$tmp" "$out"
	exec 9>&-
	rm -f "$cache/$key.lock"
	log "built $kver in $((t2 - t1)) s (config $((t1 - t0)) s$([ $resume = 0 ] || echo ', resumed: earlier runs not counted')): $out/linux"
	echo "$out/linux"
}

# Kernel log patterns that fail a debug run. DMA-API errors read "DMA-API: <driver> <device>:
# ..."; its boot notices ("DMA-API: preallocated ... debug entries") do not fail.
splat_re='BUG:|WARNING:|Oops|KASAN|UBSAN|kmemleak: [1-9][0-9]* new suspected|unreferenced object|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU|lock held when returning|sleeping function called from invalid context|DMA-API: [^ ]+ [^ ]+: |DMA-API: debugging out of memory|DMA-API: exceeded [0-9]+ overlapping|hung_task|blocked for more than|soft lockup|general protection|Call Trace:'

do_boot() {
	[ $# -ge 4 ] || die "usage: $prog boot IMAGE_DIR MODE SRC RES CMD"
	local mode=$1 src=$2 res=$3
	shift 3
	local tree
	tree=$(cached_tree) || die "no debug kernel built yet: run '$prog build $img' first"
	[ -d "$src" ] || die "source dir '$src' not found"
	mkdir -p "$res"
	local qo ap
	case $mode in
	iommu)
		qo="-machine q35 -device intel-iommu,intremap=off -device edu,dma_mask=0xffffffffffffffff"
		ap="intel_iommu=on iommu.passthrough=0" ;;
	vfio)
		qo="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device edu,dma_mask=0xffffffffffffffff"
		ap="intel_iommu=on iommu.passthrough=0" ;;
	noiommu)
		qo="-machine q35 -device edu,dma_mask=0xffffffffffffffff"
		ap="" ;;
	*) die "mode must be iommu, vfio or noiommu" ;;
	esac
	# DMA-API debug keeps reporting after its first error; lockdep stays on after one splat
	# only for the first (that is the kernel's rule; the log keeps the first one).
	ap="$ap log_buf_len=8M dma_debug_entries=65536 ${ODPT_DEBUG_APPEND:-}"
	mount_sys
	local ktree=/mnt/odpt-debug-kernel-tree-$$
	bind "$(dirname "$tree")" "$ktree"
	bind "$src" /mnt/dbgk-src ro
	bind "$res" /mnt/dbgk-res
	local t0 rc=0
	t0=$(date +%s)
	# The guest writes its kernel log into RES itself (the console may be truncated).
	# --verbose puts the guest console (kernel log included) on stderr: kept in console.txt,
	# the only log there is when the guest panics or hangs before CMD ends.
	timeout "${GUEST_TIMEOUT:-1800}" chroot "$img" vng -r "$ktree/linux" --disable-kvm \
		--disable-microvm --cpus 2 --memory "${GUEST_MEM:-3G}" --rwdir /mnt/dbgk-res \
		--qemu-opts="$qo" --append="$ap" --verbose \
		--exec "$*; rc=\$?; dmesg > /mnt/dbgk-res/dmesg.txt; exit \$rc" 2>"$res/console.txt" || rc=$?
	log "guest ($mode) exited $rc after $(($(date +%s) - t0)) s"
	local klog=$res/dmesg.txt
	if [ ! -f "$klog" ]; then
		klog=$res/console.txt
		log "no dmesg from the guest (panic, hang or timeout?); last console lines:"
		tail -n 30 "$klog" >&2
		[ $rc != 0 ] || rc=4
	fi
	if grep -E "$splat_re" "$klog" >"$res/splats.txt"; then
		log "kernel log has reports (first lines; all in $res/dmesg.txt):"
		head -20 "$res/splats.txt" >&2
		[ $rc != 0 ] || rc=3
	else
		rm -f "$res/splats.txt"
	fi
	return $rc
}

do_module() {
	[ $# -eq 1 ] || die "usage: $prog module IMAGE_DIR MODDIR"
	local moddir tree
	moddir=$(cd "$1" 2>/dev/null && pwd) || die "module dir '$1' not found"
	tree=$(cached_tree) || die "no debug kernel built yet: run '$prog build $img' first"
	local ktree=/mnt/odpt-debug-kernel-tree-$$ m=/mnt/odpt-debug-kernel-mod-$$
	mount_sys # objtool reads /proc/self/limits
	bind "$(dirname "$tree")" "$ktree"
	bind "$moddir" "$m"
	in_img make -C "$ktree/linux" M="$m" -j"$jobs" modules
}

case $cmd in
build) do_build ;;
module) do_module "$@" ;;
path) cached_tree || { echo "$prog: not built" >&2; exit 1; } ;;
boot) do_boot "$@" ;;
*) die "unknown command '$cmd' (build, path, module, boot)" ;;
esac
