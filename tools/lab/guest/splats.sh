# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Sourced by lab parts (tests/lab/shim.sh, package.sh) in the guest: the
# kernel log since the part wrote its marker to /dev/kmsg, and the lines of
# it that are a kernel splat (docs/lab.md: any WARN/BUG/Oops/lockdep/KASAN
# report fails the part).

LAB_SPLAT_RE='WARNING:|BUG:|Oops|KASAN|UBSAN|kernel BUG|general protection|lockdep|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|hung task|blocked for more than|rcu_sched self-detected stall|rcu: INFO|refcount_t:|list_add corruption|list_del corruption|DMA-API:|kmemleak|Call Trace:'

# lab_kernel_splats MARKER LOG SPLATS: the log after MARKER (all of it when
# the marker is not there) into LOG, its splat lines into SPLATS. Status 0
# when there are splats, 1 (and no SPLATS file) when the log is clean.
lab_kernel_splats() {
	local marker=$1 log=$2 splats=$3

	dmesg >"$log.all" 2>/dev/null
	awk -v m="$marker" 'found { print } index($0, m) { found = 1 }' "$log.all" >"$log"
	[ -s "$log" ] || grep -q -F "$marker" "$log.all" || cp "$log.all" "$log"
	rm -f "$log.all"
	grep -E "$LAB_SPLAT_RE" "$log" >"$splats" && return 0
	rm -f "$splats"
	return 1
}
