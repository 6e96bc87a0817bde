# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Shared helpers for odpt-lab: progress and error reporting, timing, the
# cache location and the root check. Sourced by tools/odpt-lab; every other
# piece of the lab relies on these names.

LAB_T0=$(date +%s.%N)
# Detail lines only on a terminal (or with -v); stage lines always.
if [[ -t 2 ]]; then LAB_VERBOSE=${LAB_VERBOSE:-1}; else LAB_VERBOSE=${LAB_VERBOSE:-0}; fi
LAB_STAGE=""

lab_now() { date +%s.%N; }
# Seconds since $1 (a lab_now value), one decimal.
lab_since() { awk -v a="$1" -v b="$(lab_now)" 'BEGIN { printf "%.1f", b - a }'; }
lab_elapsed() { lab_since "$LAB_T0"; }

lab_stage() {
	LAB_STAGE=$1
	printf 'odpt-lab: [%6ss] %s\n' "$(lab_elapsed)" "$*" >&2
}
lab_info() {
	[[ $LAB_VERBOSE == 1 ]] || return 0
	printf 'odpt-lab: [%6ss]   %s\n' "$(lab_elapsed)" "$*" >&2
}
lab_warn() { printf 'odpt-lab: warning: %s\n' "$*" >&2; }
# Fatal error: one clear line naming the stage, then exit (status 1, or $2).
lab_die() {
	printf 'odpt-lab: error%s: %s\n' "${LAB_STAGE:+ in stage '$LAB_STAGE'}" "$1" >&2
	exit "${2:-1}"
}
lab_usage_die() {
	printf 'odpt-lab: %s\n' "$1" >&2
	printf "Try 'odpt-lab help'.\n" >&2
	exit 2
}

lab_need_root() {
	[[ $EUID -eq 0 ]] && return 0
	lab_die "must run as root: building the image (mmdebstrap, chroot), bind-mounting the tree into it and running apt-get need root (try: sudo $0 $LAB_CMD)"
}

# Run a command quietly unless verbose; keep its output in a log either way
# and show the tail when it fails.  lab_run LOG CMD...
lab_run() {
	local log=$1 rc
	shift
	if [[ $LAB_VERBOSE == 1 ]]; then
		"$@" 2>&1 | tee -a "$log" >&2
		rc=${PIPESTATUS[0]}
	else
		"$@" >>"$log" 2>&1
		rc=$?
	fi
	if ((rc != 0)); then
		printf 'odpt-lab: --- last lines of %s ---\n' "$log" >&2
		tail -n 15 "$log" >&2
	fi
	return $rc
}

LAB_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/odpt-lab

# Append "name seconds" to the run's timing record (results dir).
lab_timing() {
	[[ -n ${LAB_RES:-} ]] || return 0
	printf '%s %s\n' "$1" "$2" >>"$LAB_RES/timings.txt"
}
