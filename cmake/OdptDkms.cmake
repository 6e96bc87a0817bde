# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The DKMS source tree of odpt_hmm.ko, install component `dkms` (not part of
# a plain `cmake --install`): <prefix>/src/odpt-hmm-<version>/ with the
# module's sources, Kbuild, include/uapi/ as uapi/ (where Kbuild looks) and
# src/kmod/dkms.conf with its version filled in, so the tree builds with
# nothing else from this repository:
#   cmake --install BUILD --component dkms --prefix /usr
#   dkms install odpt-hmm/<version>
# Defined even when ODPT_BUILD_KMOD is OFF: it needs no kernel headers.
set(ODPT_DKMS_NAME odpt-hmm-${PROJECT_VERSION})
set(ODPT_DKMS_SRC ${PROJECT_SOURCE_DIR}/src/kmod)
file(GLOB ODPT_DKMS_FILES CONFIGURE_DEPENDS
  ${ODPT_DKMS_SRC}/*.c ${ODPT_DKMS_SRC}/*.h ${ODPT_DKMS_SRC}/Kbuild)
file(GLOB ODPT_DKMS_UAPI CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/uapi/*.h)
file(READ ${ODPT_DKMS_SRC}/dkms.conf ODPT_DKMS_CONF)
string(REPLACE "#MODULE_VERSION#" "${PROJECT_VERSION}" ODPT_DKMS_CONF "${ODPT_DKMS_CONF}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/dkms/dkms.conf CONTENT "${ODPT_DKMS_CONF}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ODPT_DKMS_SRC}/dkms.conf)
install(FILES ${ODPT_DKMS_FILES} ${PROJECT_BINARY_DIR}/dkms/dkms.conf
  DESTINATION src/${ODPT_DKMS_NAME} COMPONENT dkms EXCLUDE_FROM_ALL)
install(FILES ${ODPT_DKMS_UAPI}
  DESTINATION src/${ODPT_DKMS_NAME}/uapi COMPONENT dkms EXCLUDE_FROM_ALL)
