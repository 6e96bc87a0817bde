# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Help at every level and names as iproute2 takes them: odpt OBJECT VERB
# --help (usage line, summary, options) for every verb of every object
# odpt lists, odpt help OBJECT [VERB], -V, a global option given after
# OBJECT (told where it goes, exit 2), the nearest name for an unknown
# object or verb, and unique prefixes (ambiguous ones list the candidates).
# Run by ctest with -DODPT_BIN=... -DODPT_VERSION=... -DWORK_DIR=...
cmake_minimum_required(VERSION 3.20)
set(failures 0)

include(${CMAKE_CURRENT_LIST_DIR}/odpt_cli_check.cmake)

run(0 out "odpt ${ODPT_VERSION}" -V)
run(0 out "odpt ${ODPT_VERSION}" --version)

# Every object and verb from odpt's own listings: each verb's --help and
# odpt help OBJECT VERB print its usage line and its summary on stdout.
execute_process(COMMAND ${ODPT_BIN} --help OUTPUT_VARIABLE top)
string(REGEX MATCH "objects:\n(.*)\n  \\(objects and verbs" m "${top}")
string(REPLACE ";" "," objtext "${CMAKE_MATCH_1}")
string(REPLACE "\n" ";" objlines "${objtext}")
set(nobj 0)
foreach(l ${objlines})
  if(NOT l MATCHES "^  ([a-z]+) ")
    continue()
  endif()
  set(obj ${CMAKE_MATCH_1})
  math(EXPR nobj "${nobj} + 1")
  run(0 out "usage: odpt [GLOBAL-OPTIONS] ${obj} " help ${obj})
  run(0 out "usage: odpt [GLOBAL-OPTIONS] ${obj} " ${obj} --help)
  execute_process(COMMAND ${ODPT_BIN} help ${obj} OUTPUT_VARIABLE ohelp)
  if(NOT ohelp MATCHES "\nverbs:\n")
    continue()   # an object without verbs (compare): its arguments follow it
  endif()
  string(REGEX MATCH "\nverbs:\n(.*)\n  help " m "${ohelp}")
  # summaries hold ';', CMake's list separator: carried as '<semi>'
  string(REPLACE ";" "<semi>" CMAKE_MATCH_1 "${CMAKE_MATCH_1}")
  string(REGEX MATCHALL "  ([a-z]+) +([^\n]*)" vlines "${CMAKE_MATCH_1}")
  foreach(vl ${vlines})
    string(REGEX MATCH "  ([a-z]+) +([^\n]*)" m "${vl}")
    set(verb ${CMAKE_MATCH_1})
    string(REPLACE " (default)" "" summary "${CMAKE_MATCH_2}")
    string(REPLACE "<semi>" ";" summary "${summary}")
    run(0 out "usage: odpt [GLOBAL-OPTIONS] ${obj} ${verb}" ${obj} ${verb} --help)
    run(0 out "${obj} ${verb}: ${summary}" ${obj} ${verb} --help)
    run(0 out "\noptions:\n" ${obj} ${verb} -h)
    run(0 out "${obj} ${verb}: ${summary}" help ${obj} ${verb})
    run(0 out "${obj} ${verb}: ${summary}" ${obj} help ${verb})
  endforeach()
endforeach()
if(nobj LESS 5)
  message(STATUS "FAIL: found ${nobj} objects in odpt --help")
  math(EXPR failures "${failures} + 1")
endif()

# The defects issue 15 found, each fixed.
run(0 out "usage: odpt [GLOBAL-OPTIONS] shim unload [OPTIONS]" shim unload --help)
run(0 out "suite run: run the ODP regression suite" help suite run)
run(0 out "usage: odpt [GLOBAL-OPTIONS] suite VERB" help suite)
run(0 out "--filter=GLOB" help suite)
run(0 out "usage: odpt [GLOBAL-OPTIONS] hist check [OPTIONS]" hist check --samples 5 --help)

# Global options after OBJECT: where they go, exit 2.
run(2 err "odpt: -o is a global option: odpt -o x.json hist check\n" hist check -o x.json)
run(2 err "odpt: --output=x.json is a global option: odpt --output=x.json hist\n" hist --output=x.json)
run(2 err "odpt: -j is a global option: odpt -j hist check --samples 1000\n" hist check --samples 1000 -j)
run(2 err "odpt: --raw-buckets is a global option: odpt -v --raw-buckets hist bench" -v hist bench --raw-buckets)
run(2 err "odpt: -o is a global option: odpt -o FILE hist check" hist check -o)
# ... unless the verb has an option of that name (devices list -j).
run(0 out "usage: odpt [GLOBAL-OPTIONS] devices list" devices list -j --help)
# An option's value is not an option (suite run --filter -v).
run(0 out "usage: odpt [GLOBAL-OPTIONS] suite run" suite run --filter -v --help)

# Unknown names: the nearest one; prefixes: unique ones run, others list.
run(2 err "unknown object 'hsit'; did you mean 'hist'?" hsit)
run(2 err "unknown object 'comapre'; did you mean 'compare'?" comapre)
run(2 err "unknown verb 'chek' for object 'hist'; did you mean 'check'?" hist chek)
run(2 err "unknown verb 'lod' for object 'shim'; did you mean 'load'?" shim lod)
run(2 err "unknown object 'zzzzzz'\n" zzzzzz)
run(2 err "ambiguous object 's': could be shim, suite" s)
run(2 err "ambiguous object 'h': could be hist, help" h)
run(0 out "usage: odpt [GLOBAL-OPTIONS] devices VERB" dev --help)
run(0 out "usage: odpt [GLOBAL-OPTIONS] devices list" dev l --help)
run(0 out "usage: odpt [GLOBAL-OPTIONS] hist bench" hi be --help)
run(0 out "usage: odpt [GLOBAL-OPTIONS] shim" help sh)
run(0 out "shim flags: the PFN flags" help sh fl)
run(0 out "timer_back_to_back_ns" hi ch --samples 1000 --records 1000)
run(2 err "unexpected argument 'x'" help hist check x)

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} help check(s) failed")
endif()
message(STATUS "all help checks passed")
