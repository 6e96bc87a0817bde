# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Host packages the lab needs, installed with apt-get only when missing: the
# image builder and the toolchain for the host unit tests. Everything that
# runs in the guest comes from the image instead. A JDK and HdrHistogram's
# Java library are here for the unit test hgrm_java_compat, which compares
# odpt's .hgrm with the library's own byte for byte and skips without them;
# mandoc for the unit test man_lint (the lint of the generated odpt(1)).

LAB_HOST_PACKAGES=(mmdebstrap cmake gcc make pkg-config libibverbs-dev
	libjson-c-dev libcmocka-dev util-linux default-jdk-headless
	libhdrhistogram-java mandoc)

# lab_host_deps [PACKAGE...]: default LAB_HOST_PACKAGES.
lab_host_deps() {
	local missing=() p want=("$@")
	((${#want[@]})) || want=("${LAB_HOST_PACKAGES[@]}")
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	command -v apt-get >/dev/null || lab_die "missing host packages (${missing[*]}) and no apt-get to install them"
	lab_stage "host: apt-get install ${missing[*]}"
	local log=$LAB_CACHE/host-apt.log
	mkdir -p "$LAB_CACHE"
	: >"$log"
	lab_run "$log" env DEBIAN_FRONTEND=noninteractive apt-get update ||
		lab_die "apt-get update failed on the host (archive unreachable?); see $log"
	lab_run "$log" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
		lab_die "apt-get install ${missing[*]} failed on the host; see $log"
}
