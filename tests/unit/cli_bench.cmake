# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `odpt bench` through the real binary: bad input is one line on stderr and
# exit 2 before any device is opened (unknown scenario, absurd sizes and
# iteration counts, ops a scenario cannot time); on a machine without RDMA
# devices every scenario is a skip report (JSON summary "skipped") and exit 4.
include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)
set(failures 0)

run(2 err "unknown verb 'nope' for object 'bench'" bench nope)
run(2 err "needs a verb" bench)
run(2 err "size 0 is outside 1..16777216" bench fault --sizes 0)
run(2 err "size 33554432 is outside 1..16777216" bench warm --sizes 8,32M)
run(2 err "'abc' is not a size" bench fault --sizes 8,abc)
run(2 err "--iters: 0 is out of range" bench fault --iters 0)
run(2 err "--iters: 1000000001 is out of range" bench warm --iters 1000000001)
run(2 err "--warmup: 'x' is not a number" bench fault --warmup x)
run(2 err "--warmup: '1000000001' is not a number" bench fault --warmup 1000000001)
run(2 err "unknown op 'FOO'" bench fault --ops WRITE,FOO)
run(2 err "CAS moves 8 bytes" bench fault --ops CAS --sizes 64)
run(2 err "refault times WRITE and READ only, not SEND" bench refault --ops SEND)
run(2 err "size 69793218560 is outside" bench reg --sizes 65G)
run(2 err "not a multiple of 4 KiB" bench reg --sizes 5000)
run(2 err "--side: 'up' is not one of" bench fault --side up)
run(2 err "--threads: 65 is out of range" bench storm --threads 65)
run(2 err "--gid 'g' is not a GID index" bench fault --gid g)
run(0 out "bench fault options:" bench help)

if(NOT EXISTS /sys/class/infiniband)
  foreach(s fault warm reg refault prefetch storm)
    run(4 out "\"result\": \"skipped\"" -j bench ${s})
    run(4 err "skipped: no RDMA devices" -o ${WORK_DIR}/bench-${s}.txt bench ${s} --iters 5)
  endforeach()
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} odpt bench check(s) failed")
endif()
