# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Dependencies come from Debian packages through pkg-config only.
find_package(PkgConfig REQUIRED)
pkg_check_modules(IBVERBS REQUIRED IMPORTED_TARGET libibverbs)
pkg_check_modules(JSONC REQUIRED IMPORTED_TARGET json-c)
if(ODPT_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
find_package(Threads REQUIRED)
