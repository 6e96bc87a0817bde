# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Run by the build (src/cli/CMakeLists.txt): write odpt(1) (KIND=man) or
# the bash completion (KIND=bash) that the odpt binary generates from its
# tables into OUT, replacing OUT only when the generator succeeded.
#   cmake -DODPT=odpt -DKIND=man|bash [-DDATE=YYYY-MM-DD] -DOUT=file -P odpt_gen.cmake
if(KIND STREQUAL "man")
  set(args help --man ${DATE})
else()
  set(args help --bash-completion)
endif()
get_filename_component(dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
execute_process(COMMAND ${ODPT} ${args} OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${ODPT} ${args} failed (exit ${rc})")
endif()
file(RENAME ${OUT}.tmp ${OUT})
