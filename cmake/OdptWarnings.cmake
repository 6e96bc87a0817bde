# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Probe and enable warnings; every target links odpt_warnings.
include(CheckCCompilerFlag)
add_library(odpt_warnings INTERFACE)
foreach(flag -Wall -Wextra -Wshadow -Wformat=2 -Wpointer-arith -Wstrict-prototypes
             -Wmissing-prototypes -Wvla -Wcast-qual -Wundef -Wwrite-strings
             -Wimplicit-fallthrough -Wno-unused-parameter -Wno-missing-field-initializers)
  string(MAKE_C_IDENTIFIER "have${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    target_compile_options(odpt_warnings INTERFACE ${flag})
  endif()
endforeach()
if(ODPT_WERROR)
  target_compile_options(odpt_warnings INTERFACE -Werror)
endif()
