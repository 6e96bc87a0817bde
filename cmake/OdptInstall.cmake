# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# What `cmake --install BUILD [--prefix P]` puts where (GNUInstallDirs):
# the odpt binary, libodpt.so with its soname and the public headers of
# its layers (those declaring ODPT_API, and api.h), libodpt.pc, odpt(1),
# the bash completion and the documents. The .pc is written at install
# time, so that --prefix given to `cmake --install` is the prefix it
# names. ctest install_test installs into a temporary prefix and builds a
# program against the .pc (tests/install).
include(GNUInstallDirs)

install(TARGETS odpt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS odpt_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${ODPT_INSTALL_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/odpt)
install(FILES ${ODPT_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${ODPT_BASH_COMPLETION}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

file(GLOB ODPT_DOCS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE ${ODPT_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/data ${PROJECT_SOURCE_DIR}/docs/examples
        DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/LICENSES DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)

# libodpt.pc: paths under ${prefix} unless GNUInstallDirs made them absolute.
foreach(d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(ODPT_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(ODPT_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ODPT_PC_DEST "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(ODPT_PC_DEST "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
set(ODPT_PC_IN ${PROJECT_SOURCE_DIR}/cmake/libodpt.pc.in)
set(ODPT_PC_OUT ${PROJECT_BINARY_DIR}/libodpt.pc)
install(CODE "
  set(PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(PC_LIBDIR [[${ODPT_PC_LIBDIR}]])
  set(PC_INCLUDEDIR [[${ODPT_PC_INCLUDEDIR}]])
  set(PROJECT_VERSION ${PROJECT_VERSION})
  configure_file([[${ODPT_PC_IN}]] [[${ODPT_PC_OUT}]] @ONLY)
  file(INSTALL [[${ODPT_PC_OUT}]] DESTINATION \"${ODPT_PC_DEST}\")
")
