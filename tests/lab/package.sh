#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lab part "package": odpt installed as a user installs it, in the guest
# (virtme-ng gives the guest overlays on /usr, /etc and /var: nothing here
# outlives the boot).
#  1. DKMS from the source tree: the CMake install component dkms into
#     /usr/src, `dkms add` and `dkms install` for the running kernel; the
#     build tree's odpt (no --ko, no build/ in the working directory) loads
#     the module from /lib/modules/<kver>/updates/dkms with modprobe, shim
#     status and verify, unload; `dkms remove`, and then `odpt shim load`
#     says the module is not built and which step is missing.
#  2. DKMS for a kernel without headers: `dkms build -k` fails and says so.
#  3. The .debs of `tools/odpt-lab deb` (in $ODPT_BUILD/deb; SKIP when there
#     are none): dpkg -i (odpt-hmm-dkms's postinst builds the module for the
#     running kernel), the files the packages promise, the installed
#     /usr/bin/odpt loads, checks and unloads the module, dpkg -r removes it.
# Then the kernel log since the part began must hold no splat. TAP 13 on
# $ODPT_OUT/package.tap; each step's output in $ODPT_OUT/<name>.log.
# Two DKMS builds and a dpkg -i take ~15 minutes under TCG, so the part is
# not in the default run: tools/odpt-lab deb, then run --parts=package.
# odpt-lab: opt-in
set -u -o pipefail

case ${1:-} in
test | run) ;;
*) echo "usage: ODPT_OUT=DIR ODPT_BUILD=DIR [ODPT_BIN=odpt] $0 test|run" >&2; exit 2 ;;
esac
: "${ODPT_OUT:?ODPT_OUT must name the results directory}"
: "${ODPT_BUILD:?ODPT_BUILD must name the build directory}"
out=$ODPT_OUT
bin=${ODPT_BIN:-$ODPT_BUILD/src/cli/odpt}
kver=$(uname -r)
kre=$(printf '%s' "$kver" | sed 's/[.+]/\\&/g')	# kver in an ERE: "7.3.4+deb13" (releases have no other ERE metacharacters)
mkdir -p "$out" || exit 2
lines=()
n=0

tap() { # tap "ok"|"not ok" NAME [DIRECTIVE]
	n=$((n + 1))
	lines+=("$1 $n $2${3:+ # $3}")
}
diag() { lines+=("# $*"); }
# check NAME CMD...: ok when CMD succeeds; its output in $out/NAME.log.
check() {
	local name=$1 rc
	shift
	"$@" >"$out/$name.log" 2>&1
	rc=$?
	if ((rc == 0)); then
		tap ok "$name"
		return 0
	fi
	diag "$name: '$*' exited $rc: $(tail -n 3 "$out/$name.log" | tr '\n' ' ')"
	tap "not ok" "$name"
	return 1
}
# expect NAME PATTERN FILE: ok when FILE has a line matching PATTERN.
expect() {
	if grep -qE "$2" "$3"; then
		tap ok "$1"
	else
		diag "$1: no line matching '$2' in ${3##*/}: $(head -n 3 "$3" | tr '\n' ' ')"
		tap "not ok" "$1"
	fi
}
loaded() { [ -d /sys/module/odpt_hmm ]; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# shim_cycle PREFIX ODPT: the installed module, found by odpt alone: no
# ODPT_KMOD, no ODPT_BUILD, no build/ where it runs.
shim_cycle() {
	local p=$1 odpt=$2
	loaded && rmmod odpt_hmm
	if (cd / && env -u ODPT_KMOD -u ODPT_BUILD "$odpt" -v shim load) >"$out/$p.load.log" 2>&1 && loaded; then
		tap ok "$p.shim_load"
		expect "$p.shim_load_via_modprobe" "updates/dkms/odpt_hmm\.ko.* with modprobe" "$out/$p.load.log"
	else
		diag "$p.shim_load: $(tail -n 3 "$out/$p.load.log" | tr '\n' ' ')"
		tap "not ok" "$p.shim_load"
		return
	fi
	check "$p.shim_status" "$odpt" shim status
	check "$p.shim_verify" "$odpt" --format=tap -o "$out/$p.verify.tap" shim verify
	check "$p.shim_unload" "$odpt" shim unload
	if loaded; then diag "odpt_hmm still loaded after unload"; tap "not ok" "$p.module_gone"; else tap ok "$p.module_gone"; fi
}

marker="odpt-lab: package part start $$ $(date +%s%N)"
echo "$marker" >/dev/kmsg 2>/dev/null
loaded && rmmod odpt_hmm

# ---- 1. DKMS from the source tree ------------------------------------------
# cmake --install writes its manifest into the build directory, which the
# guest sees read-only: an overlay on it, its upper layer on a tmpfs (the
# guest's /tmp is itself an overlay, which overlayfs refuses as an upper
# layer), all in a mount namespace of this command's own; /usr, where the
# tree goes, stays the guest's.
install_dkms_tree() {
	unshare -m sh -c 't=$(mktemp -d) && mount -t tmpfs tmpfs "$t" && mkdir "$t/u" "$t/w" &&
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$t/u,workdir=$t/w" "$1" &&
		cmake --install "$1" --component dkms --prefix /usr' sh "$ODPT_BUILD"
}
ver=""
if check dkms_source_tree install_dkms_tree; then
	tree=$(ls -d /usr/src/odpt-hmm-* 2>/dev/null | head -n 1)
	ver=${tree##*/odpt-hmm-}
fi
if [ -n "$ver" ] && check dkms_add dkms add "odpt-hmm/$ver"; then
	t0=$(date +%s.%N)
	if check dkms_install dkms install "odpt-hmm/$ver" -k "$kver"; then
		diag "dkms install odpt-hmm/$ver -k $kver: $(secs "$t0") s (TCG guest)"
		check dkms_module_in_updates sh -c "ls /lib/modules/$kver/updates/dkms/odpt_hmm.ko*"
		shim_cycle dkms "$bin"
	fi
	check dkms_remove dkms remove "odpt-hmm/$ver" --all
	# The source is there, the module is not: the message names the step.
	(cd / && env -u ODPT_KMOD -u ODPT_BUILD "$bin" shim load) >"$out/dkms.not_built.log" 2>&1
	rc=$?
	if ((rc == 2)) && [ "$(wc -l <"$out/dkms.not_built.log")" = 1 ]; then
		expect dkms_not_built_message "odpt_hmm is not built for kernel $kre: install linux-headers-$kre, then run dkms autoinstall" "$out/dkms.not_built.log"
	else
		diag "odpt shim load without a built module: exit $rc (want 2, one line): $(head -n 3 "$out/dkms.not_built.log" | tr '\n' ' ')"
		tap "not ok" dkms_not_built_message
	fi
fi

# ---- 2. a kernel without headers -------------------------------------------
if [ -n "$ver" ] && dkms add "odpt-hmm/$ver" >"$out/dkms_noheaders_add.log" 2>&1; then
	if dkms build "odpt-hmm/$ver" -k 0.0.0-noheaders >"$out/dkms_noheaders.log" 2>&1; then
		diag "dkms build for a kernel without headers succeeded"
		tap "not ok" dkms_no_headers_refused
	else
		tap ok dkms_no_headers_refused
		diag "dkms: $(grep -m1 -i 'headers' "$out/dkms_noheaders.log")"
		expect dkms_no_headers_says_headers "headers for kernel 0\.0\.0-noheaders" "$out/dkms_noheaders.log"
	fi
	dkms remove "odpt-hmm/$ver" --all >>"$out/dkms_noheaders_add.log" 2>&1
fi
[ -n "$ver" ] && rm -rf "/usr/src/odpt-hmm-$ver"

# ---- 3. the .debs ------------------------------------------------------------
debs=()
for f in "$ODPT_BUILD"/deb/*.deb; do [ -f "$f" ] && debs+=("$f"); done
if ((${#debs[@]} == 0)); then
	tap ok deb_install "SKIP no .debs in $ODPT_BUILD/deb: run tools/odpt-lab deb first"
else
	diag "packages: $(printf '%s ' "${debs[@]##*/}")"
	# man-db's trigger re-indexes every manual page: minutes under TCG, and
	# not what is tested here.
	echo "man-db man-db/auto-update boolean false" | debconf-set-selections 2>/dev/null
	t0=$(date +%s.%N)
	if check deb_install env DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}"; then
		diag "dpkg -i (odpt-hmm-dkms's postinst builds the module): $(secs "$t0") s"
		check deb_dkms_status sh -c "dkms status odpt-hmm | grep -F '$kver' | grep -q installed"
		for f in /usr/bin/odpt /usr/src/odpt-hmm-*/dkms.conf /usr/src/odpt-hmm-*/uapi/odpt_hmm.h \
			/usr/share/doc/odpt/copyright; do
			check "deb_file:${f//\//_}" test -e "$f"
		done
		for pat in /usr/share/man/man1/odpt.1* /usr/share/bash-completion/completions/odpt \
			/usr/lib/*/pkgconfig/libodpt.pc; do
			# Present when the build installs them (the man page and the
			# completion are generated at build time).
			f=$(ls -d $pat 2>/dev/null | head -n 1)
			if [ -n "$f" ]; then tap ok "deb_file:${pat//\//_}"; else tap ok "deb_file:${pat//\//_}" "SKIP not in the packages"; fi
		done
		check deb_odpt_version /usr/bin/odpt --version
		shim_cycle deb /usr/bin/odpt
		pkgs=()
		for f in "${debs[@]}"; do pkgs+=("$(dpkg-deb -f "$f" Package)"); done
		check deb_remove env DEBIAN_FRONTEND=noninteractive dpkg --purge "${pkgs[@]}"
		check deb_module_removed sh -c "! ls /lib/modules/$kver/updates/dkms/odpt_hmm.ko* 2>/dev/null"
	fi
fi

# ---- the kernel log ------------------------------------------------------------
. "$(dirname "$0")/../../tools/lab/guest/splats.sh"
if lab_kernel_splats "$marker" "$out/package-dmesg.txt" "$out/package-splats.txt"; then
	while IFS= read -r l; do diag "$l"; done < <(head -n 20 "$out/package-splats.txt")
	tap "not ok" kernel_log_clean
else
	tap ok kernel_log_clean
fi

{
	echo "TAP version 13"
	echo "1..$n"
	printf '%s\n' "${lines[@]}"
} >"$out/package.tap"
cat "$out/package.tap"
grep -q '^not ok' "$out/package.tap" && exit 1
exit 0
