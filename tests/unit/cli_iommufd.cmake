# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `odpt iommufd` at its edges, on a host without /dev/iommu (a --dev that
# does not exist stands in where the host might have one): bad input is a
# one-line error and exit 2 before any device is touched; probe reports
# every capability as missing and exits 0; bench, iopf and test skip
# everything with the reason and exit 4 (TAP: 1..0 # SKIP).
cmake_minimum_required(VERSION 3.20)
set(failures 0)
include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)

set(nodev --dev=/nonexistent/odpt-cli-iommu)
run(0 out "verbs:" iommufd help)
run(0 out "--backing=LIST" iommufd --help)
run(2 err "unknown verb 'frob' for object 'iommufd'" iommufd frob)
run(2 err "--sizes '3K': want up to 16 page multiples" iommufd bench --sizes=3K ${nodev})
run(2 err "--sizes '0'" iommufd bench --sizes=0 ${nodev})
run(2 err "--sizes 'lots'" iommufd bench --sizes=lots ${nodev})
run(2 err "--backing 'shm': want a list of anon, thp, hugetlb, memfd" iommufd bench --backing=shm ${nodev})
run(2 err "out of range 1..1000000" iommufd bench --iters=0 ${nodev})
run(2 err "unknown option '--bogus'" iommufd iopf --bogus)
run(2 err "unexpected argument 'extra'" iommufd test extra)
run(2 err "--domain" iommufd bench --domain=intel ${nodev})
run(0 out "dev_iommu" iommufd probe ${nodev})
run(0 out "skip_reason" iommufd probe ${nodev})
run(4 out "1..0 # SKIP" --format=tap iommufd bench ${nodev})
run(4 out "1..0 # SKIP" --format=tap iommufd iopf ${nodev})
run(4 out "1..0 # SKIP" --format=tap iommufd test ${nodev})
run(4 out "skipped" --format=junit iommufd test ${nodev})

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} CLI check(s) failed")
endif()
message(STATUS "all CLI checks passed")
