#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Runs in the lab guest between the unpatched and the patched pass of
# --patch (tools/lab/kpatch.sh): removes the rxe devices, unloads the
# packaged modules the patches replace (and whatever holds them), loads
# the rebuilt ones from $LAB_KPATCH_DIR with their dependencies from the
# packaged set, and proves it: each loaded module's GNU build ID must be
# the rebuilt file's. Writes OUT.txt (one line per module) and a line per
# module to the kernel log.
#
# usage: kpatch.sh OUT   (LAB_KPATCH_DIR, LAB_KPATCH_MODS in the environment)
set -u
out=$1.txt
dir=${LAB_KPATCH_DIR:?} mods=${LAB_KPATCH_MODS:?}
: >"$out"

is_patched() { [[ " $mods " == *" $1 "* ]]; }
loaded() { [[ -d /sys/module/$1 ]]; }

# unload NAME: its holders first (rdma_rxe holds ib_core, ...).
unload() {
	local h
	loaded "$1" || return 0
	for h in /sys/module/"$1"/holders/*; do
		[[ -e $h ]] && unload "$(basename "$h")"
	done
	echo "rmmod $1"
	rmmod "$1"
}

# load NAME: its dependencies (from the packaged modules' depmod data),
# each the rebuilt file when the patches replaced it, else modprobe.
load() {
	local line f name
	while read -r line; do
		f=$(echo "$line" | awk '$1 == "insmod" { print $2 }')
		[[ -n $f ]] || continue
		name=$(basename "$f")
		name=${name%%.ko*}
		name=${name//-/_}
		loaded "$name" && continue
		if is_patched "$name"; then
			echo "insmod $dir/$name.ko"
			insmod "$dir/$name.ko" || return 1
		else
			echo "modprobe $name"
			modprobe "$name" || return 1
		fi
	done < <(modprobe --show-depends "$1")
	loaded "$1"
}

set -x
rdma link delete rxe0
ip netns exec odpt-rxe1 rdma link delete rxe1
ip netns delete odpt-rxe1
ip link delete va
{ set +x; } 2>/dev/null
rc=0
for m in $mods; do unload "$m" || rc=1; done
# Whatever the patched ones held that rxe setup needs is loaded again by
# rxe.sh's modprobe (packaged, or the patched copy already in place).
for m in $mods; do
	if ! load "$m"; then
		echo "module=$m loaded=no" >>"$out"
		rc=1
		continue
	fi
	# Debian's modules carry no srcversion; the GNU build ID identifies
	# the file (the sysfs note holds a 20-byte SHA-1 last).
	want=$(readelf -n "$dir/$m.ko" | awk '/Build ID:/ { print $3 }')
	got=$(od -An -tx1 -v "/sys/module/$m/notes/.note.gnu.build-id" 2>/dev/null | tr -d ' \n' | tail -c 40)
	taint=$(cat "/sys/module/$m/taint" 2>/dev/null)
	if [[ -n $want && $want == "$got" ]]; then
		echo "module=$m loaded=patched build_id=$got taint=${taint:-none}" >>"$out"
		echo "odpt-lab: patched module $m loaded (build-id $got)" >/dev/kmsg
	else
		echo "module=$m loaded=other build_id=${got:-none} want=$want" >>"$out"
		rc=1
	fi
done
cat "$out"
exit $rc
