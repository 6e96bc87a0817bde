# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `odpt suite run` in two-device mode (--peer-dev, --peer-port, --peer-gid):
# every bad input is one line on stderr and exit 2, before any case runs.
# The checks that need no device run everywhere; where RDMA devices exist
# (the lab guest), an unknown peer device and the requester's own port
# given as the peer are checked too. Run by ctest with -DODPT_BIN=...
cmake_minimum_required(VERSION 3.20)
set(failures 0)

include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)

run(0 out "--peer-dev=DEV2" suite run --help)
run(0 out "--peer-gid=G2" suite run --help)
run(2 err "--peer-port needs --peer-dev" suite run --peer-port 2)
run(2 err "--peer-gid needs --peer-dev" suite run --peer-gid 1)
run(2 err "--peer-gid 'x' is not a GID index" suite run --peer-dev rxe1 --peer-gid x)
run(2 err "--peer-gid '-1' is not a GID index" suite run --peer-dev rxe1 --peer-gid -1)
run(2 err "out of range 1..255" suite run --peer-dev rxe1 --peer-port 0)
run(2 err "out of range 1..255" suite run --peer-dev rxe1 --peer-port 256)
run(2 err "needs a value" suite run --peer-dev)
run(2 err "is the requester's own port: omit --peer-dev for loopback"
    suite run --dev rxe0 --peer-dev rxe0)
run(2 err "is the requester's own port" suite run --dev rxe0 --port 2 --peer-dev rxe0 --peer-port 2)
# Listing needs no device, with or without a peer.
run(0 out "rc_write" suite run --list --peer-dev rxe1)

execute_process(COMMAND ${ODPT_BIN} devices --json OUTPUT_VARIABLE json RESULT_VARIABLE rc)
set(ndev 0)
if(rc EQUAL 0)
  string(JSON ndev LENGTH "${json}" devices)
endif()
if(ndev EQUAL 0)
  # Nothing to run on: the skip-all result (cli_devices_suite), exit 4.
  run(4 out "1..0 # SKIP no RDMA devices" suite run --peer-dev rxe1)
else()
  string(JSON first GET "${json}" devices 0 name)
  run(2 err "suite: --peer-dev: unknown RDMA device 'no_such_dev0' (have: "
      suite run --dev ${first} --peer-dev no_such_dev0)
  # --dev left to the default (the first device) and named again as peer.
  run(2 err "is the requester's own port" suite run --peer-dev ${first})
  run(2 err "suite: --peer-dev: device ${first} has no port 200"
      suite run --dev ${first} --peer-dev ${first} --peer-port 200)
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} CLI check(s) failed")
endif()
message(STATUS "all two-device CLI checks passed")
