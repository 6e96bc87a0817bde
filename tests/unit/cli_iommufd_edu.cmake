# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `odpt iommufd edu` at its edges on a machine without edu (the host): bad
# input is one line and exit 2 before any device is touched, and a machine
# without edu is a SKIP with the reason (exit 4, TAP 1..0 # SKIP), never a
# failure. The device runs are in the lab guest (docs/iommufd.md).
cmake_minimum_required(VERSION 3.20)
set(failures 0)

include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)

run(0 out "verbs:" iommufd help)
run(0 out "edu " iommufd help)
run(0 out "--dma-pages=N" iommufd edu --help)
run(0 out "--force-bind" iommufd edu --help)
run(2 err "unknown verb 'bogus' for object 'iommufd'" iommufd bogus)
run(2 err "unexpected argument 'extra'" iommufd edu extra)
run(2 err "unknown option '--bogus'" iommufd edu --bogus)
run(2 err "--sizes 'abc': want up to 16 multiples of 4K" iommufd edu --sizes=abc)
run(2 err "--sizes '3000'" iommufd edu --sizes=3000)
run(2 err "--sizes '2G'" iommufd edu --sizes=2G)
run(2 err "--sizes ''" iommufd edu --sizes=)
run(2 err "--sizes '4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K'" iommufd edu
    --sizes=4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K,4K)
run(2 err "--iova '0x1001': want auto or a multiple of 4096" iommufd edu --iova=0x1001)
run(2 err "--iova 'low'" iommufd edu --iova=low)
run(2 err "--iova '-4096'" iommufd edu --iova=-4096)
run(2 err "would end past 2^64" iommufd edu --iova=0xfffffffffffff000 --sizes=4K)
run(2 err "out of range 1..100000" iommufd edu --iters=0)
run(2 err "out of range 0..1048576" iommufd edu --dma-pages=2000000)

# No edu here: the reason, in every format, and exit 4.
run(4 out "1..0 # SKIP no edu (PCI 1234:11e8)" --format=tap iommufd edu)
run(4 out "summary: no edu (PCI 1234:11e8)" iommufd edu)
run(4 out "\"skipped\"" -j iommufd edu --sizes=4K --iters=1)
run(4 out "no edu (PCI 1234:11e8) at /sys/bus/pci/devices/0000:ff:1f.7" --format=tap
    iommufd edu --device=0000:ff:1f.7)

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} check(s) failed")
endif()
message(STATUS "all iommufd edu CLI checks passed")
