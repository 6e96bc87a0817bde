#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The lab's kernel-log verdict (tools/lab/summarize.py) on a debug kernel's
# output: its boot notices (DMA-API, kmemleak, lockdep, KASAN banners) must
# pass, and each kind of checker report (KASAN, lockdep, RCU, atomic sleep,
# DMA-API error, kmemleak scan, DMA-API error count) must fail the run.
# Exit 77 (ctest: skipped) without python3.
# usage: lab_kernel_log.sh SRC_DIR WORK_DIR
set -u
src=$1 work=$2/lab_kernel_log
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
fail=0

# A boot's notices as the debug kernel prints them (no report among them).
notices='[    0.000000] rcu: 	RCU lockdep checking is enabled.
[    0.000000] DMA-API: preallocated 65536 debug entries
[    0.000000] DMA-API: debugging enabled by kernel config
[    0.010000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15577)
[    0.010000] kmemleak: Automatic memory scanning thread started
[    0.020000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    0.020000] ... MAX_LOCKDEP_SUBCLASSES:  8
[    0.020000] ... MAX_LOCKDEP_KEYS:        8192
[    0.030000] kasan: KernelAddressSanitizer initialized (generic)
[    1.000000] odpt_hmm: loaded'

# case NAME WANT_FAIL DMESG_EXTRA [KMEMLEAK_TXT [DMA_API_TXT]]
case_() {
	name=$1 want=$2 extra=$3 leak=${4:-} dma=${5:-error_count=0}
	d=$work/$name
	rm -rf "$d" && mkdir -p "$d/iommu" || exit 1
	echo test >"$d/mode.txt"
	: >"$d/timings.txt"
	echo "flavour=debug release=7.3.4" >"$d/kernel.txt"
	printf 'ODPT_IOMMU=on\nLAB_MODE=test\nLAB_PARTS=\nLAB_PEER=0\nLAB_DEVICES=0\n' >"$d/iommu/guest.env"
	echo "status=ok stage=done rc=0" >"$d/iommu/boot.status"
	printf '%s\n%s\n' "$notices" "$extra" >"$d/iommu/dmesg.txt"
	printf '%s' "$leak" >"$d/iommu/kmemleak.txt"
	printf '%s\n' "$dma" >"$d/iommu/dma-api.txt"
	if ! python3 "$src/tools/lab/summarize.py" "$d" >"$d/summarize.log" 2>&1; then
		echo "not ok $name: summarize.py failed"; cat "$d/summarize.log"; fail=1; return
	fi
	got=$(sed -n 's/^fail=//p' "$d/totals.txt")
	if { [ "$want" = 1 ] && [ "$got" -gt 0 ]; } || { [ "$want" = 0 ] && [ "$got" = 0 ]; }; then
		echo "ok $name (fail=$got)"
	else
		echo "not ok $name: fail=$got, wanted $([ "$want" = 1 ] && echo '> 0' || echo 0)"
		grep '^fail_test=' "$d/totals.txt"
		fail=1
	fi
}

case_ clean 0 ''
case_ kasan 1 '[   50.1] BUG: KASAN: slab-use-after-free in odpt_hmm_release+0x1c/0x40 [odpt_hmm]'
case_ lockdep 1 '[   50.1] WARNING: possible circular locking dependency detected'
case_ rcu 1 '[   50.1] =============================
[   50.1] suspicious RCU usage'
case_ atomic_sleep 1 '[   50.1] BUG: sleeping function called from invalid context at mm/memory.c:6000'
case_ dma_api_error 1 '[   50.1] DMA-API: edu 0000:00:03.0: device driver tries to free DMA memory it has not allocated [device address=0x0000000012345000] [size=4096 bytes]'
case_ dma_api_overlap 1 '[  454.930587] DMA-API: exceeded 7 overlapping mappings of cacheline 0x00000000008e5640'
case_ dma_api_oom 1 '[   50.1] DMA-API: debugging out of memory - disabling'
case_ kmemleak_log 1 '[   50.1] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
case_ kmemleak_scan 1 '' 'unreferenced object 0xffff888104c3a000 (size 64):
  comm "odpt-shim-test", pid 312, jiffies 4294941234
'
case_ dma_api_count 1 '' '' 'error_count=3'
case_ dma_api_disabled 1 '' '' 'error_count=0
disabled=Y'
exit $fail
