# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `odpt compare` on two lab-style results directories through the real
# binary: every series matched by (file under the directory, name, labels)
# gets a verdict, a series on one side only is listed, a series written
# without raw buckets is skipped with that reason, summary.json and JSON
# that is not an odpt result are skipped, and the exit code is 1 only when
# a series regressed. The inputs are real CLI output (hist check) plus
# handmade results whose values are chosen (one side clearly slower). Run
# by ctest with -DODPT_BIN=... -DWORK_DIR=...
cmake_minimum_required(VERSION 3.20)
set(failures 0)
set(dir ${WORK_DIR}/cli_compare_dirs)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})

include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)

# Two series, lat_ns{mode=hmm} (50 samples at V1 ns, 50 at V2 ns; below
# 2048 the counter index is the value) and, when PIN, lat_ns{mode=pin} at
# 500 ns: a shim-bench-like result with chosen numbers.
function(write_result path v1 v2 pin)
  set(layout [=["layout": {"lowest_ns": 1, "highest_ns": 3600000000000, "sig_figs": 3, "counts_len": 33792}]=])
  set(pin_series "")
  if(pin)
    set(pin_series ", {\"name\": \"lat_ns\", \"labels\": {\"mode\": \"pin\"},
 \"count\": 100, \"min_ns\": 500, \"max_ns\": 500, ${layout}, \"buckets\": [
 {\"index\": 500, \"lowest_ns\": 500, \"highest_ns\": 500, \"count\": 100}]}")
  endif()
  file(WRITE ${path} "{\"schema_version\": 1, \"tool\": {\"name\": \"odpt\", \"version\": \"0\"},
 \"command\": \"handmade\", \"series\": [{\"name\": \"lat_ns\", \"labels\": {\"mode\": \"hmm\"},
 \"count\": 100, \"min_ns\": ${v1}, \"max_ns\": ${v2}, ${layout}, \"buckets\": [
 {\"index\": ${v1}, \"lowest_ns\": ${v1}, \"highest_ns\": ${v1}, \"count\": 50},
 {\"index\": ${v2}, \"lowest_ns\": ${v2}, \"highest_ns\": ${v2}, \"count\": 50}]}${pin_series}]}\n")
endfunction()

set(a ${dir}/A)
set(b ${dir}/B)
set(quick --samples 1000 --records 1000)
foreach(side ${a} ${b})
  file(MAKE_DIRECTORY ${side}/iommu/shim ${side}/iommu/hist ${side}/noiommu/hist
       ${side}/noiommu/peer ${side}/hist)
  # What the lab writes besides odpt results: skipped, not an error.
  file(WRITE ${side}/summary.json "{\"schema_version\": 1, \"tool\": \"odpt-lab\"}\n")
  file(WRITE ${side}/noiommu/peer/peer.json "{\"suite\": \"rdma-core tests\", \"tests\": []}\n")
  file(WRITE ${side}/iommu/stages.log "not JSON\n")
  # An odpt result without series (devices, shim verify): nothing to compare.
  run(0 none "" --format=json -o ${side}/iommu/devices.json devices)
endforeach()
# The same real result on both sides: a verdict, no change.
run(0 none "" --format=json --raw-buckets -o ${a}/hist/check.json hist check ${quick})
file(COPY ${a}/hist/check.json DESTINATION ${b}/hist)
# The same series names in two files: matched by file, not mixed up.
run(0 none "" --format=json --raw-buckets -o ${a}/iommu/hist/check.json hist check ${quick})
file(COPY ${a}/iommu/hist/check.json DESTINATION ${b}/iommu/hist)
# B is clearly slower at mode=hmm (+20 %); mode=pin only in A.
write_result(${a}/iommu/shim/shim-bench.json 1000 1010 TRUE)
write_result(${b}/iommu/shim/shim-bench.json 1200 1210 FALSE)
# Written without raw buckets in A (a lab run from before they were written).
run(0 none "" --format=json -o ${a}/noiommu/hist/check.json hist check ${quick})
run(0 none "" --format=json --raw-buckets -o ${b}/noiommu/hist/check.json hist check ${quick})
# A results directory's "latest" link is not followed (it would read B twice).
file(CREATE_LINK ${b} ${b}/latest SYMBOLIC RESULT link_rc)

# verdicts(<exit> BASE NEW): run `odpt -j compare BASE NEW`, check the exit
# code, and set 'verdicts' to one "NAME => RESULT: REASON" line per test
# record (string(JSON) reads the report, so the checks do not depend on
# the table's column widths).
function(verdicts want_rc base new)
  execute_process(COMMAND ${ODPT_BIN} -j compare ${base} ${new}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(lines "")
  if(NOT rc STREQUAL "${want_rc}")
    message(STATUS "FAIL: odpt -j compare ${base} ${new}: exit ${rc}, expected ${want_rc}\n${err}")
    math(EXPR failures "${failures} + 1")
  else()
    string(JSON n ERROR_VARIABLE jerr LENGTH "${out}" tests)
    if(jerr)
      set(n 0)
    endif()
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      if(n EQUAL 0)
        break()
      endif()
      string(JSON name GET "${out}" tests ${i} name)
      string(JSON result GET "${out}" tests ${i} result)
      string(JSON reason ERROR_VARIABLE jerr GET "${out}" tests ${i} reason)
      string(APPEND lines "${name} => ${result}: ${reason}\n")
    endforeach()
    message(STATUS "ok: odpt -j compare ${base} ${new} (exit ${rc}, ${n} series)")
  endif()
  set(verdicts "${lines}" PARENT_SCOPE)
  set(failures ${failures} PARENT_SCOPE)
endfunction()

# verdict(NAME RESULT REASON-PREFIX): the last verdicts() has that line.
function(verdict name result reason)
  string(FIND "${verdicts}" "${name} => ${result}: ${reason}" pos)
  if(pos EQUAL -1)
    message(STATUS "FAIL: no '${name} => ${result}: ${reason}' in:\n${verdicts}")
    math(EXPR failures "${failures} + 1")
  else()
    message(STATUS "ok: ${name} => ${result}: ${reason}")
  endif()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

# verdict_count(N): the last verdicts() has N test records.
function(verdict_count want)
  string(REGEX MATCHALL "\n" nl "${verdicts}")
  list(LENGTH nl n)
  if(NOT n EQUAL want)
    message(STATUS "FAIL: ${n} series, expected ${want}:\n${verdicts}")
    math(EXPR failures "${failures} + 1")
  endif()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

set(hmm "lat_ns{file=iommu/shim/shim-bench.json,mode=hmm}")
set(pin "lat_ns{file=iommu/shim/shim-bench.json,mode=pin}")
set(top "timer_back_to_back_ns{file=hist/check.json}")
set(inner "timer_back_to_back_ns{file=iommu/hist/check.json}")
set(noraw "timer_back_to_back_ns{file=noiommu/hist/check.json}")

# A regression: exit 1, every matched series with a verdict, each
# unmatched or bucketless series listed with its reason, nothing else.
run(1 out "summary: REGRESSION: 1 regressed, 0 improved, 2 no change; 1 only in base, 0 only in new; 1 without raw buckets" compare ${a} ${b})
verdicts(1 ${a} ${b})
verdict_count(5)
verdict(${hmm} fail "regressed: p50 +20.00% (1000 -> 1200 ns)")
verdict(${top} pass "no change")
verdict(${inner} pass "no change")
verdict(${pin} skip "only in base (missing from new): not compared")
verdict(${noraw} skip "no raw buckets in base: not compared (write results with: odpt --format=json --raw-buckets")
run(1 out "not ok 3 ${hmm}" --format=tap compare ${a} ${b})
run(1 out "ok 5 ${noraw} # SKIP no raw buckets in base" --format=tap compare ${a} ${b})
# The other way round: an improvement, exit 0.
run(0 out "summary: no regression: 0 regressed, 1 improved, 2 no change; 0 only in base, 1 only in new; 1 without raw buckets" compare ${b} ${a})
verdicts(0 ${b} ${a})
verdict_count(5)
verdict(${hmm} pass "improved: p50 -16.67% (1200 -> 1000 ns)")
verdict(${noraw} skip "no raw buckets in new")
verdict(${pin} skip "only in new (missing from base)")
# A directory against itself: nothing regressed.
run(0 out "summary: no regression: 0 regressed, 0 improved, 4 no change; 0 only in base, 0 only in new" compare ${b} ${b})
run(0 out "no raw buckets in base and new" compare ${a} ${a})
# Repeated runs: several directories a side pool like several files.
run(1 out "summary: REGRESSION: 1 regressed" compare ${a},${a} ${b},${b})
run(1 out "new_runs{series=lat_ns,file=iommu/shim/shim-bench.json,mode=hmm}" compare ${a},${a} ${b},${b})
run(0 out "no change: runs disagree" compare ${a},${a} ${b},${a})

# Only series without raw buckets in common (two lab runs from before the
# lab wrote them): nothing compared, exit 2, not a quiet "no regression".
file(MAKE_DIRECTORY ${dir}/old1/noiommu/hist ${dir}/old2/noiommu/hist)
file(COPY ${a}/noiommu/hist/check.json DESTINATION ${dir}/old1/noiommu/hist)
file(COPY ${a}/noiommu/hist/check.json DESTINATION ${dir}/old2/noiommu/hist)
run(2 out "summary: nothing compared: 0 regressed, 0 improved, 0 no change; 0 only in base, 0 only in new; 1 without raw buckets" compare ${dir}/old1 ${dir}/old2)
run(2 err "compare: nothing compared: 1 series without raw buckets (write results with: odpt --format=json --raw-buckets" -o ${dir}/old.txt compare ${dir}/old1 ${dir}/old2)

# Bad inputs: exit 2 with one line saying what is wrong.
file(MAKE_DIRECTORY ${dir}/empty)
file(WRITE ${dir}/empty/summary.json "{\"tool\": \"odpt-lab\"}\n")
run(2 err "empty: no latency series in any odpt JSON result under it (0 read" compare ${dir}/empty ${b})
run(2 err "BASE is a directory and NEW a file; compare files with files, directories with directories" compare ${a} ${a}/hist/check.json)
run(2 err "mixes files and directories" compare ${a},${a}/hist/check.json ${b},${b})
file(MAKE_DIRECTORY ${dir}/bad/x)
file(WRITE ${dir}/bad/x/r.json "{\"schema_version\": 2, \"tool\": {\"name\": \"odpt\"}, \"series\": []}\n")
run(2 err "bad/x/r.json: schema_version 2, this odpt reads 1" compare ${dir}/bad ${b})
run(2 err "cannot read ${dir}/missing: No such file or directory" compare ${a} ${dir}/missing)
run(0 out "BASE-DIR[,BASE-DIR2...] NEW-DIR[,NEW-DIR2...]" compare --help)
run(0 out "two lab results directories (odpt compare results/A results/B)" compare --help)

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} compare-directories CLI check(s) failed")
endif()
message(STATUS "all compare-directories CLI checks passed")
