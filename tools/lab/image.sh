# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The lab image: a Debian trixie tree made with mmdebstrap, with the newest
# kernel and headers from trixie-backports, the compiler that kernel was built
# with, rdma-core, pyverbs, perftest, virtme-ng and QEMU. Cached under
# $LAB_CACHE keyed by a hash of everything that decides its contents; built in
# a temporary directory and renamed only when complete, so a half-built image
# is never used and a failed rebuild keeps the previous one.

LAB_IMAGE_SUITE=trixie
LAB_IMAGE_PACKAGES=(
	gcc-14 gcc make libc6-dev cmake pkg-config bc kmod libelf-dev
	libibverbs-dev rdma-core ibverbs-utils perftest python3-pyverbs
	libcmocka-dev libjson-c-dev libnuma-dev numactl
	virtme-ng qemu-system-x86 busybox-static
	iproute2 procps util-linux pciutils gnuplot-nox ca-certificates
	libcap-dev
	build-essential debhelper dh-dkms dkms fakeroot lintian
)
LAB_IMAGE_KERNEL_PACKAGES=(linux-image-amd64 linux-headers-amd64)
# A second userspace verbs stack, side by side with the system's (which the
# peer part needs as it is): libibverbs and providers from the next Debian
# suite, unpacked, not installed, under LAB_RDMA_NEXT. trixie's rdma-core has
# no advise_mr in its rxe provider and no ibv_reg_mr_ex; the suite-rdma-next
# part runs the suite with this one. The version is whatever that suite has
# at build time, at least LAB_RDMA_NEXT_MIN.
LAB_IMAGE_NEXT_SUITE=forky
LAB_RDMA_NEXT=/opt/odpt-lab/rdma-core-next
LAB_RDMA_NEXT_MIN=65
LAB_RDMA_NEXT_PACKAGES=(
	libibverbs1 ibverbs-providers libibverbs-dev ibverbs-utils
	libnl-3-200 libnl-route-3-200 libnl-3-dev libnl-route-3-dev
)
# Space a build needs (measured: ~1.5 GiB image plus download cache).
LAB_IMAGE_NEED_KIB=$((${ODPT_LAB_IMAGE_NEED_MIB:-3072} * 1024))

# The archive URI from the host's apt configuration (never hard-coded).
lab_mirror() {
	local uri=""
	if [[ -n ${ODPT_LAB_MIRROR:-} ]]; then
		echo "$ODPT_LAB_MIRROR"
		return 0
	fi
	if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
		uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [[ -z $uri ]]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } } }')
	fi
	[[ -n $uri ]] || return 1
	echo "${uri%/}"
}

lab_image_key() {
	local self=${BASH_SOURCE[0]}
	{
		echo "suite=$LAB_IMAGE_SUITE"
		echo "mirror=$1"
		echo "packages=${LAB_IMAGE_PACKAGES[*]}"
		echo "kernel=${LAB_IMAGE_KERNEL_PACKAGES[*]}"
		echo "rdma_next=$LAB_IMAGE_NEXT_SUITE ${LAB_RDMA_NEXT_PACKAGES[*]} >= $LAB_RDMA_NEXT_MIN"
		# The recipe itself is an input: editing it rebuilds.
		sed -n -e '/^lab_image_build()/,/^}/p' -e '/^lab_image_tune()/,/^}/p' \
			-e '/^lab_image_rdma_next()/,/^}/p' "$self"
	} | sha256sum | cut -c1-16
}

# Can we reach the archive at all? Names the URL on failure.
lab_archive_probe() {
	local mirror=$1 url="$1/dists/$LAB_IMAGE_SUITE-backports/Release"
	if command -v curl >/dev/null; then
		LAB_PROBE_ERR=$(curl -fsS -o /dev/null --max-time 20 "$url" 2>&1) && return 0
	elif command -v wget >/dev/null; then
		LAB_PROBE_ERR=$(wget -q -O /dev/null --timeout=20 "$url" 2>&1) && return 0
	elif [[ $url =~ ^http://([^/:]+)(:([0-9]+))?(/.*)$ ]]; then
		local host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]:-80} path=${BASH_REMATCH[4]}
		timeout 20 bash -c "exec 3<>/dev/tcp/$host/$port && printf 'HEAD $path HTTP/1.0\r\nHost: $host\r\n\r\n' >&3 && head -n1 <&3" 2>/dev/null |
			grep -q ' 200' && return 0
	else
		return 0 # cannot probe without a client; mmdebstrap will tell
	fi
	return 1
}

lab_free_kib() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }

# Read one KEY=value from an image's record.
lab_image_fact() { sed -n "s/^$2=//p" "$1/etc/odpt-lab/image.env" 2>/dev/null; }

lab_image_complete() { [[ -f $1/etc/odpt-lab/image.env && -d $1/lib/modules ]]; }

# Builds into $1 (a fresh temporary directory). The mounts it makes are
# undone before it returns, whatever happens.
lab_image_build() {
	local tmp=$1 mirror=$2 key=$3 log=$4 t0 kver rc=0
	t0=$(lab_now)
	local incl
	incl=$(IFS=,; echo "${LAB_IMAGE_PACKAGES[*]}")
	lab_stage "image: mmdebstrap $LAB_IMAGE_SUITE (base + ${#LAB_IMAGE_PACKAGES[@]} packages)"
	if ! lab_run "$log" mmdebstrap --variant=apt --include="$incl" \
		"$LAB_IMAGE_SUITE" "$tmp" \
		"deb $mirror $LAB_IMAGE_SUITE main" \
		"deb $mirror $LAB_IMAGE_SUITE-backports main"; then
		lab_image_fail_reason "$log" "mmdebstrap $LAB_IMAGE_SUITE" "$mirror"
		return 1
	fi
	lab_stage "image: newest kernel from $LAB_IMAGE_SUITE-backports"
	lab_mount_api "$tmp" || { lab_warn "mounting /proc,/sys,/dev in $tmp failed"; return 1; }
	# mmdebstrap cleans the package lists: fetch them again first. INITRD=No:
	# virtme-ng boots without the distribution's initramfs, skip making one.
	if ! lab_run "$log" chroot "$tmp" apt-get update; then
		lab_image_fail_reason "$log" "apt-get update (in the image)" "$mirror"
		rc=1
	elif ! lab_run "$log" chroot "$tmp" env DEBIAN_FRONTEND=noninteractive INITRD=No \
		apt-get install -y --no-install-recommends -t "$LAB_IMAGE_SUITE-backports" \
		"${LAB_IMAGE_KERNEL_PACKAGES[@]}"; then
		lab_image_fail_reason "$log" "apt-get install -t $LAB_IMAGE_SUITE-backports ${LAB_IMAGE_KERNEL_PACKAGES[*]}" "$mirror"
		rc=1
	fi
	if ((rc == 0)); then
		lab_stage "image: rdma-core from $LAB_IMAGE_NEXT_SUITE, unpacked under $LAB_RDMA_NEXT"
		lab_image_rdma_next "$tmp" "$mirror" "$log"
		lab_image_tune "$tmp" >>"$log" 2>&1 || rc=1
		chroot "$tmp" apt-get clean >>"$log" 2>&1
		rm -rf "$tmp"/var/lib/apt/lists/*_dists_* 2>/dev/null
	fi
	lab_umount_all
	((rc == 0)) || return 1

	kver=$(ls "$tmp/lib/modules" | sort -V | tail -n1)
	[[ -n $kver && -f $tmp/boot/vmlinuz-$kver && -d $tmp/lib/modules/$kver/build ]] || {
		lab_warn "the image has no complete kernel (vmlinuz, modules and headers) after the install"
		return 1
	}
	mkdir -p "$tmp/etc/odpt-lab"
	{
		echo "key=$key"
		echo "suite=$LAB_IMAGE_SUITE"
		echo "mirror=$mirror"
		echo "kernel=$kver"
		echo "kernel_package=$(chroot "$tmp" dpkg-query -W -f='${Version}' "linux-image-$kver")"
		echo "rdma_core=$(chroot "$tmp" dpkg-query -W -f='${Version}' rdma-core)"
		echo "libibverbs=$(chroot "$tmp" dpkg-query -W -f='${Version}' libibverbs-dev)"
		echo "$LAB_RDMA_NEXT_FACT"
		echo "gcc=$(chroot "$tmp" gcc-14 -dumpfullversion)"
		echo "kernel_cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$tmp/boot/config-$kver")"
		echo "virtme_ng=$(chroot "$tmp" dpkg-query -W -f='${Version}' virtme-ng)"
		echo "qemu=$(chroot "$tmp" dpkg-query -W -f='${Version}' qemu-system-x86)"
		echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "build_seconds=$(lab_since "$t0")"
	} >"$tmp/etc/odpt-lab/image.env.tmp" || return 1
	mv "$tmp/etc/odpt-lab/image.env.tmp" "$tmp/etc/odpt-lab/image.env"
}

# Make the guest boot and the peer suite start fast under TCG.
lab_image_tune() {
	local tmp=$1 f n t=/opt/odpt-lab/rdma-core-tests
	# virtme-init runs udev and waits for it to settle: with every rule that
	# took ~16 s under TCG. It needs only the default rules (the names of
	# its virtio-serial ports); the lab loads its modules itself.
	mkdir -p "$tmp/etc/udev/rules.d"
	for f in "$tmp"/usr/lib/udev/rules.d/*.rules; do
		n=${f##*/}
		[[ $n == 50-udev-default.rules ]] || ln -sf /dev/null "$tmp/etc/udev/rules.d/$n"
	done
	# rdma-core's tests ship partly gzipped; unpack and byte-compile them
	# once here (the guest's root is read-only, so it could not cache them).
	mkdir -p "$tmp$t" &&
		cp -r "$tmp/usr/share/doc/rdma-core/tests" "$tmp$t/" &&
		gunzip -f "$tmp$t"/tests/*.gz &&
		chroot "$tmp" python3 -m compileall -q "$t"
}

# lab_image_rdma_next ROOT MIRROR LOG: download LAB_RDMA_NEXT_PACKAGES from
# LAB_IMAGE_NEXT_SUITE with apt in ROOT (chroot, /proc etc. mounted) and
# unpack them under ROOT$LAB_RDMA_NEXT. apt keeps checking the signatures;
# only the Release file's validity date is ignored (testing's copy in the
# archive may have expired, its packages are still the signed ones). The
# system's packages are not touched: a private sources list, package lists,
# cache and an empty dpkg status. Never fails the image: when anything is
# missing it writes the reason to ROOT$LAB_RDMA_NEXT.skip and the part that
# needs it SKIPs with it. Sets LAB_RDMA_NEXT_FACT (a line for image.env).
lab_image_rdma_next() {
	local root=$1 mirror=$2 log=$3 st=/var/tmp/odpt-rdma-next why="" ver="" date="" d o lib out=""
	local pfx=$LAB_RDMA_NEXT suite=$LAB_IMAGE_NEXT_SUITE
	rm -rf "${root:?}$st" "$root$pfx" "$root$pfx.skip"
	mkdir -p "$root$st/lists/partial" "$root$st/cache/archives/partial" "$root$st/debs" \
		"$root$st/parts" "$root$pfx" || why="cannot create $st or $pfx in the image"
	: >"$root$st/status"
	echo "deb $mirror $suite main" >"$root$st/sources.list"
	o=(-o "Dir::Etc::SourceList=$st/sources.list" -o "Dir::Etc::SourceParts=$st/parts"
		-o "Dir::State::Lists=$st/lists" -o "Dir::State::status=$st/status"
		-o "Dir::Cache=$st/cache" -o Acquire::Languages=none
		-o Acquire::Check-Valid-Until=false)
	echo "== rdma-core from $suite ($mirror) into $pfx" >>"$log"
	if [[ -z $why ]] && ! out=$(chroot "$root" apt-get "${o[@]}" update 2>&1); then
		why="apt-get update of $suite failed: $(grep -m1 '^E:' <<<"$out" | cut -c4-200)"
	fi
	echo "${out:-}" >>"$log"
	if [[ -z $why ]]; then
		ver=$(chroot "$root" apt-cache "${o[@]}" policy libibverbs1 2>>"$log" |
			awk '$1 == "Candidate:" { print $2 }')
		date=$(sed -n 's/^Date: //p' "$root$st"/lists/*Release 2>/dev/null | head -n1)
		if [[ -z $ver || $ver == "(none)" ]]; then
			why="$suite has no libibverbs1"
		elif ! dpkg --compare-versions "$ver" ge "$LAB_RDMA_NEXT_MIN"; then
			why="$suite has libibverbs1 $ver, older than $LAB_RDMA_NEXT_MIN"
		fi
	fi
	# apt downloads as _apt when it can write there (no sandbox warning).
	chroot "$root" chown _apt "$st/debs" 2>/dev/null
	if [[ -z $why ]] && ! chroot "$root" sh -c 'cd "$1" && shift && exec apt-get "$@"' sh \
		"$st/debs" "${o[@]}" download "${LAB_RDMA_NEXT_PACKAGES[@]}" >>"$log" 2>&1; then
		why="apt-get download of ${LAB_RDMA_NEXT_PACKAGES[*]} from $suite failed (see the image log)"
	fi
	if [[ -z $why ]]; then
		for d in "$root$st"/debs/*.deb; do
			chroot "$root" dpkg-deb -x "$st/debs/${d##*/}" "$pfx" >>"$log" 2>&1 ||
				{ why="dpkg-deb -x ${d##*/} failed"; break; }
		done
	fi
	# The multiarch library directory, wherever the .pc landed.
	lib=$(cd "$root$pfx" 2>/dev/null && ls -d usr/lib/*/pkgconfig/libibverbs.pc 2>/dev/null | head -n1)
	lib=$pfx/${lib%/pkgconfig/libibverbs.pc}
	if [[ -z $why && ! -f $root$lib/pkgconfig/libibverbs.pc ]]; then
		why="the unpacked packages have no usr/lib/<multiarch>/pkgconfig/libibverbs.pc"
	fi
	if [[ -z $why ]]; then
		# The .pc files name /usr: point them into the prefix.
		sed -i -E "s#^(prefix|libdir|includedir)=/usr#\1=$pfx/usr#" "$root$lib"/pkgconfig/*.pc
		# Does it load (its own libnl, not the system's)? The build host
		# has no RDMA: main() failing to list devices is fine, the loader
		# refusing the libraries is not.
		out=$(chroot "$root" env LD_LIBRARY_PATH="$lib:$lib/libibverbs" \
			"$pfx/usr/bin/ibv_devices" 2>&1)
		if (($? != 0)) && ! grep -q 'Failed to get IB devices list' <<<"$out"; then
			why="ibv_devices of libibverbs $ver does not run in the image: $(head -n1 <<<"$out")"
		fi
		echo "$out" >>"$log"
	fi
	rm -rf "${root:?}$st"
	if [[ -n $why ]]; then
		rm -rf "${root:?}$pfx"
		echo "$why" >"$root$pfx.skip"
		LAB_RDMA_NEXT_FACT="rdma_core_next_skip=$why"
		lab_warn "no second rdma-core in the image (the suite-rdma-next part will SKIP): $why"
		return 0
	fi
	{
		echo "version=$ver"
		echo "suite=$suite"
		echo "release_date=$date"
		echo "libdir=$lib"
		echo "pkgconfig=$lib/pkgconfig"
		echo "ld_library_path=$lib:$lib/libibverbs"
	} >"$root$pfx/odpt-lab.env"
	LAB_RDMA_NEXT_FACT="rdma_core_next=$ver"
	lab_info "rdma-core $ver from $suite (Release of $date) under $pfx"
}

# Explain a failed build step in one line: disk, network, or other.
lab_image_fail_reason() {
	local log=$1 step=$2 mirror=$3 free
	# apt reports a full disk on its status channel, not always in the log:
	# also look at what is left (the partial image is still there now).
	free=$(lab_free_kib "$LAB_CACHE")
	if grep -qiE 'No space left on device|ENOSPC|enough free space' "$log" || ((free < 256 * 1024)); then
		LAB_IMAGE_WHY="out of disk during '$step' ($((free / 1024)) MiB left in $LAB_CACHE; see $log)"
	elif grep -qiE 'Could not resolve|Failed to fetch|Temporary failure|Connection (refused|timed out)|Unable to connect|unreachable|Cannot initiate the connection' "$log"; then
		LAB_IMAGE_WHY="archive $mirror unreachable during '$step'"
	else
		LAB_IMAGE_WHY="step '$step' failed (see $log)"
	fi
}

# Sets LAB_IMG (path) and LAB_KVER; builds the image when needed.
# $1 = 1 to force a rebuild.
lab_image_ensure() {
	local rebuild=${1:-0} mirror key final tmp log t0
	lab_stage "image: resolve inputs"
	mirror=$(lab_mirror) || lab_die "no Debian archive URI in the host's apt configuration (/etc/apt/sources.list.d/debian.sources or sources.list); set ODPT_LAB_MIRROR"
	key=$(lab_image_key "$mirror")
	mkdir -p "$LAB_CACHE" || lab_die "cannot create the cache directory $LAB_CACHE"
	final=$LAB_CACHE/image-$key
	if [[ $rebuild == 0 ]] && lab_image_complete "$final"; then
		LAB_IMG=$final
		LAB_KVER=$(lab_image_fact "$final" kernel)
		lab_stage "image: cached $final (kernel $LAB_KVER, rdma-core $(lab_image_fact "$final" rdma_core))"
		lab_timing image_build_s 0
		return 0
	fi
	command -v mmdebstrap >/dev/null || lab_die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	local free
	free=$(lab_free_kib "$LAB_CACHE")
	if ((free < LAB_IMAGE_NEED_KIB)); then
		lab_die "out of disk: building the image needs $((LAB_IMAGE_NEED_KIB / 1024)) MiB free in $LAB_CACHE, only $((free / 1024)) MiB available (set XDG_CACHE_HOME elsewhere or free space)"
	fi
	lab_stage "image: probe archive $mirror"
	lab_archive_probe "$mirror" ||
		lab_die "archive $mirror unreachable (probe of dists/$LAB_IMAGE_SUITE-backports/Release failed${LAB_PROBE_ERR:+: ${LAB_PROBE_ERR##*: }}); $(lab_image_have_other "$final")"
	tmp=$(mktemp -d "$LAB_CACHE/image-$key.tmp.XXXXXX") || lab_die "cannot create a temporary directory in $LAB_CACHE"
	log=$LAB_CACHE/image-$key.log
	: >"$log"
	LAB_IMAGE_TMP=$tmp
	t0=$(lab_now)
	LAB_IMAGE_WHY=""
	if ! lab_image_build "$tmp" "$mirror" "$key" "$log"; then
		lab_umount_all
		lab_safe_rmtree "$tmp"
		LAB_IMAGE_TMP=""
		local why=${LAB_IMAGE_WHY:-image build failed (see $log)}
		if [[ $why == out\ of\ disk* ]]; then
			lab_die "$why; the partial image was removed"
		fi
		lab_die "$why; $(lab_image_have_other "$final")"
	fi
	# Swap in atomically; a previous image with the same key goes only now.
	if [[ -e $final ]]; then
		mv "$final" "$final.old.$$" && lab_safe_rmtree "$final.old.$$"
	fi
	mv "$tmp" "$final" || lab_die "cannot rename $tmp to $final"
	LAB_IMAGE_TMP=""
	# Images for other keys are stale now; keep the disk for this one.
	# ODPT_LAB_KEEP_IMAGES=1 keeps them (and their build directories): several
	# trees with different package lists share one cache.
	local old
	[[ ${ODPT_LAB_KEEP_IMAGES:-0} == 1 ]] || for old in "$LAB_CACHE"/image-*; do
		[[ -d $old && $old != "$final" && $old != *.tmp.* ]] || continue
		lab_has_mounts_below "$old" && continue
		lab_info "removing stale image $old"
		lab_safe_rmtree "$old" && rm -f "$old.log"
	done
	# Build directories belong to an image; the new one starts afresh.
	[[ ${ODPT_LAB_KEEP_IMAGES:-0} == 1 ]] || for old in "$LAB_CACHE"/build-*; do
		[[ -d $old ]] && ! lab_has_mounts_below "$old" && rm -rf --one-file-system "$old"
	done
	LAB_IMG=$final
	LAB_KVER=$(lab_image_fact "$final" kernel)
	lab_timing image_build_s "$(lab_since "$t0")"
	lab_stage "image: built $final in $(lab_since "$t0") s (kernel $LAB_KVER, rdma-core $(lab_image_fact "$final" rdma_core))"
}

lab_image_have_other() {
	if lab_image_complete "$1"; then
		echo "the cached image $1 was kept"
	else
		local any
		local d
		for d in "$LAB_CACHE"/image-*; do
			[[ $d != *.tmp.* ]] && lab_image_complete "$d" || continue
			echo "the cached image $d (other inputs) was kept"
			return 0
		done
		echo "no cached image exists yet"
	fi
}
