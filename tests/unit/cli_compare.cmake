# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `odpt compare` through the real binary: exit 0 without a regression, 1
# with one, 2 for bad usage and for every kind of file it cannot compare
# (one line on stderr that says how to produce a valid file). Run by ctest
# with -DODPT_BIN=... -DWORK_DIR=...
cmake_minimum_required(VERSION 3.20)
set(failures 0)
set(dir ${WORK_DIR}/cli_compare)
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})

include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)

# One series lat_ns{mode=hmm}: 50 samples at V1 ns and 50 at V2 ns (both
# below 2048, where counter index = value).
function(write_result path v1 v2)
  set(layout [=["layout": {"lowest_ns": 1, "highest_ns": 3600000000000, "sig_figs": 3, "counts_len": 33792}]=])
  file(WRITE ${path} "{\"schema_version\": 1, \"tool\": {\"name\": \"odpt\", \"version\": \"0\"},
 \"command\": \"handmade\", \"series\": [{\"name\": \"lat_ns\", \"labels\": {\"mode\": \"hmm\"},
 \"count\": 100, \"min_ns\": ${v1}, \"max_ns\": ${v2}, ${layout}, \"buckets\": [
 {\"index\": ${v1}, \"lowest_ns\": ${v1}, \"highest_ns\": ${v1}, \"count\": 50},
 {\"index\": ${v2}, \"lowest_ns\": ${v2}, \"highest_ns\": ${v2}, \"count\": 50}]}]}\n")
endfunction()

set(quick --samples 1000 --records 1000)
set(raw ${dir}/raw.json)
set(noraw ${dir}/noraw.json)
run(0 none "" --format=json --raw-buckets -o ${raw} hist check ${quick})
run(0 none "" --format=json -o ${noraw} hist check ${quick})
write_result(${dir}/base.json 1000 1010)
write_result(${dir}/slow.json 1200 1210)
write_result(${dir}/fast.json 900 910)
file(WRITE ${dir}/text.json "hello\n")
file(WRITE ${dir}/other.json "{\"a\": 1}\n")
file(WRITE ${dir}/v2.json "{\"schema_version\": 2, \"tool\": {\"name\": \"odpt\"}, \"series\": []}\n")

# Verdicts and exit codes.
run(0 out "summary: no regression: 0 regressed, 0 improved, 1 no change" compare ${raw} ${raw})
run(0 out "summary: no regression" compare ${dir}/base.json ${dir}/base.json)
run(1 out "summary: REGRESSION: 1 regressed" compare ${dir}/base.json ${dir}/slow.json)
run(1 out "regressed: p50 +20.00% (1000 -> 1200 ns)" compare ${dir}/base.json ${dir}/slow.json)
run(0 out "improved: p50 -10.00%" compare ${dir}/base.json ${dir}/fast.json)
run(0 out "below threshold" compare --threshold-pct 25 ${dir}/base.json ${dir}/slow.json)
run(0 out "too few samples (base 100, new 100, need 1000 each)" compare --min-samples 1000 ${dir}/base.json ${dir}/slow.json)
run(0 out "only in base" compare ${dir}/base.json ${raw})
run(0 out "only in new" compare ${dir}/base.json ${raw})
run(1 out "\"result\": \"regression\"" -j compare ${dir}/base.json ${dir}/slow.json)
run(1 out "summary,,,,,,,,,,,,,,,regression," --format=csv compare ${dir}/base.json ${dir}/slow.json)
run(1 out "not ok 1 lat_ns{mode=hmm}" --format=tap compare ${dir}/base.json ${dir}/slow.json)
# Repeated runs, comma-separated: they must agree.
run(1 out "summary: REGRESSION: 1 regressed" compare ${dir}/base.json,${dir}/base.json ${dir}/slow.json,${dir}/slow.json)
run(1 out "new_runs{series=lat_ns,mode=hmm}" compare ${dir}/base.json,${dir}/base.json ${dir}/slow.json,${dir}/slow.json)
run(0 out "no change: runs disagree (pooled p99 +19.80%" compare ${dir}/base.json,${dir}/base.json ${dir}/slow.json,${dir}/base.json)
run(0 out "compare options:" compare help)
run(0 out "--threshold-pct" compare --help)
# The help names the test that decides (the quantile test, not Mann-Whitney).
run(0 out "the quantile test's two-sided p at a --metric percentile must be below A / (number of --metric percentiles)" compare --help)

# Bad usage and bad files: exit 2 with one line saying what to do.
run(2 err "compare needs two result files or directories, BASE and NEW (got 0)" compare)
run(2 err "compare needs two result files or directories, BASE and NEW (got 3)" compare ${raw} ${raw} ${raw})
run(2 err "cannot read ${dir}/missing.json: No such file or directory" compare ${dir}/missing.json ${raw})
run(2 err "cannot read ${dir}/missing.json: No such file or directory" compare ${raw} ${raw},${dir}/missing.json)
run(2 err "compare: no file in ','" compare , ${raw})
run(2 err "text.json: not JSON" compare ${dir}/text.json ${raw})
run(2 err "other.json: not an odpt JSON result (write results with: odpt --format=json --raw-buckets" compare ${raw} ${dir}/other.json)
run(2 err "v2.json: schema_version 2, this odpt reads 1" compare ${dir}/v2.json ${raw})
run(2 err "noraw.json: series 'timer_back_to_back_ns' has no raw buckets (write results with: odpt --format=json --raw-buckets -o FILE" compare ${noraw} ${raw})
run(2 err "--threshold-pct: 'abc' is not a number" compare --threshold-pct abc ${raw} ${raw})
run(2 err "--threshold-pct: '-1' is not a number in [0..1000]" compare --threshold-pct -1 ${raw} ${raw})
run(2 err "--alpha: '0' is not a number in (0..0.5]" compare --alpha 0 ${raw} ${raw})
run(2 err "--metric: 'p95' is not a list of p50, p90, p99, p99.9" compare --metric p95 ${raw} ${raw})
run(2 err "out of range 2..1000000000000" compare --min-samples 1 ${raw} ${raw})
run(2 err "unknown option '--bogus'" compare --bogus ${raw} ${raw})

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} compare CLI check(s) failed")
endif()
message(STATUS "all compare CLI checks passed")
