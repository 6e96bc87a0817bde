# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# odpt-lab deb: the Debian packages (debian/) built with dpkg-buildpackage in
# the lab image (trixie, debhelper, dh-dkms) and checked with lintian. The
# tree's files (tracked and untracked, not ignored ones) are copied to a
# fresh directory in the cache; the build runs in a private mount namespace
# (unshare -m), so nothing is left mounted and no lab lock is needed. The
# .debs, the build log and lintian's output go to results/<timestamp>/deb/;
# the .debs also to the build directory's deb/, where the lab part
# "package" (tests/lab/package.sh) installs them in a guest.

lab_cmd_deb() {
	local work ver src out rc=0 t0 build
	lab_results_new
	# The lock only when the image has to be built: the package build
	# touches no shared mount point.
	local mirror
	mirror=$(lab_mirror) || lab_die "no Debian archive URI in the host's apt configuration; set ODPT_LAB_MIRROR"
	if [[ $LAB_OPT_REBUILD == 1 ]] || ! lab_image_complete "$LAB_CACHE/image-$(lab_image_key "$mirror")"; then
		lab_lock
	fi
	lab_image_ensure "$LAB_OPT_REBUILD"
	[[ -x $LAB_IMG/usr/bin/dpkg-buildpackage && -x $LAB_IMG/usr/bin/lintian && -e $LAB_IMG/usr/bin/dh_dkms ]] ||
		lab_die "the image $LAB_IMG has no dpkg-buildpackage, lintian or dh_dkms (tools/lab/image.sh LAB_IMAGE_PACKAGES)"
	ver=$(dpkg-parsechangelog -l "$LAB_TREE/debian/changelog" -S Version 2>/dev/null ||
		sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$LAB_TREE/debian/changelog")
	[[ -n $ver ]] || lab_die "cannot read the version from debian/changelog"
	out=$LAB_RES/deb
	work=$LAB_CACHE/deb-$(printf '%s' "$LAB_TREE" | sha256sum | cut -c1-12)
	src=$work/odpt-${ver%-*}
	mkdir -p "$out"
	t0=$(lab_now)
	lab_stage "deb: copy the tree to $src"
	lab_safe_rmtree "$work" || lab_die "cannot clear $work"
	mkdir -p "$src" || lab_die "cannot create $src"
	(cd "$LAB_TREE" && git ls-files -co --exclude-standard -z | grep -zv '^results/' |
		tar --null -T - -cf -) | tar -xf - -C "$src" || lab_die "copying the tree to $src failed"
	lab_stage "deb: dpkg-buildpackage -us -uc -b in the image (log: ${out#"$LAB_TREE"/}/build.log)"
	lab_deb_chroot "$work" "cd /mnt/odpt-build/${src##*/} && dpkg-buildpackage -us -uc -b" \
		>"$out/build.log" 2>&1 || rc=$?
	lab_timing deb_build_s "$(lab_since "$t0")"
	if ((rc)); then
		tail -n 15 "$out/build.log" >&2
		lab_die "dpkg-buildpackage failed (exit $rc; see ${out#"$LAB_TREE"/}/build.log)"
	fi
	cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/" 2>/dev/null
	lab_stage "deb: lintian -I --pedantic"
	lab_deb_chroot "$work" "lintian -I --pedantic --tag-display-limit 0 /mnt/odpt-build/odpt_${ver}_*.changes" \
		>"$out/lintian.txt" 2>&1
	echo "rc=$?" >"$out/lintian.status"
	build=$(lab_build_dir)
	# Swapped in whole: a guest may be reading the previous set.
	rm -rf "$build/deb.new" "$build/deb.old" && mkdir -p "$build/deb.new" &&
		cp "$work"/*.deb "$build/deb.new/" && { [[ ! -d $build/deb ]] || mv "$build/deb" "$build/deb.old"; } &&
		mv "$build/deb.new" "$build/deb" && rm -rf "$build/deb.old" ||
		lab_die "cannot copy the .debs to $build/deb"
	lab_stage "deb: $(ls "$out"/*.deb | wc -l) packages in ${out#"$LAB_TREE"/} and $build/deb; lintian: $(grep -c '^[EWIP]:' "$out/lintian.txt") tags"
	sed 's/^/  /' "$out/lintian.txt"
}

# lab_deb_chroot WORK CMD: CMD in the image with WORK at /mnt/odpt-build, in
# a mount namespace of its own (/sys too: unit tests read it, as on a
# Debian build daemon).
lab_deb_chroot() {
	unshare -m -- bash -c '
		img=$1 work=$2
		mkdir -p "$img/mnt/odpt-build" &&
		mount -t proc proc "$img/proc" &&
		mount --rbind /sys "$img/sys" &&
		mount --rbind /dev "$img/dev" &&
		mount --bind "$work" "$img/mnt/odpt-build" || exit 125
		exec chroot "$img" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/mnt/odpt-build \
			LANG=C.UTF-8 DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" sh -c "$3"' bash "$LAB_IMG" "$1" "$2"
}
