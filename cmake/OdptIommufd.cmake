# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Which iommufd uAPI odpt is built against. The system's <linux/iommufd.h>
# is used when it has everything `odpt iommufd` needs (fault queues,
# IOMMU_IOAS_MAP_FILE, HWPT fault ids); otherwise, when ODPT_IOMMUFD_TEST_H
# names a kernel source tree, that tree's uapi header (copied into the build
# directory, never into the source tree). The selftest mock's ioctls come
# from the kernel's drivers/iommu/iommufd/iommufd_test.h, which is not a uAPI
# header and is only ever included from where ODPT_IOMMUFD_TEST_H points.
# Each piece found turns on a define in odpt_config.h; a missing one makes
# the verbs that need it SKIP with the reason.
include(CheckCSourceCompiles)

set(ODPT_IOMMUFD_TEST_HEADER "")
set(_odpt_ksrc "")
if(ODPT_IOMMUFD_TEST_H)
  if(IS_DIRECTORY "${ODPT_IOMMUFD_TEST_H}")
    set(_odpt_ksrc "${ODPT_IOMMUFD_TEST_H}")
    set(ODPT_IOMMUFD_TEST_HEADER "${ODPT_IOMMUFD_TEST_H}/drivers/iommu/iommufd/iommufd_test.h")
  else()
    set(ODPT_IOMMUFD_TEST_HEADER "${ODPT_IOMMUFD_TEST_H}")
    get_filename_component(_odpt_ksrc "${ODPT_IOMMUFD_TEST_H}/../../../.." ABSOLUTE)
  endif()
  if(NOT EXISTS "${ODPT_IOMMUFD_TEST_HEADER}")
    message(FATAL_ERROR "ODPT_IOMMUFD_TEST_H=${ODPT_IOMMUFD_TEST_H}: no iommufd_test.h at ${ODPT_IOMMUFD_TEST_HEADER}")
  endif()
  get_filename_component(ODPT_IOMMUFD_TEST_HEADER "${ODPT_IOMMUFD_TEST_HEADER}" ABSOLUTE)
endif()

macro(odpt_iommufd_check var src)
  check_c_source_compiles("#include <linux/iommufd.h>\nint main(void){${src}; return 0;}" ${var})
endmacro()
set(_odpt_iommufd_full_src
  "int x = IOMMU_FAULT_QUEUE_ALLOC + IOMMU_IOAS_MAP_FILE + IOMMU_HWPT_FAULT_ID_VALID; (void)x")

odpt_iommufd_check(ODPT_SYS_IOMMUFD_FULL "${_odpt_iommufd_full_src}")
set(ODPT_IOMMUFD_UAPI_DIR "")
if(NOT ODPT_SYS_IOMMUFD_FULL AND _odpt_ksrc AND EXISTS "${_odpt_ksrc}/include/uapi/linux/iommufd.h")
  # The system header is missing or too old: the kernel tree's, alone in a
  # directory of the build tree searched first.
  set(ODPT_IOMMUFD_UAPI_DIR "${PROJECT_BINARY_DIR}/iommufd-uapi")
  configure_file("${_odpt_ksrc}/include/uapi/linux/iommufd.h"
    "${ODPT_IOMMUFD_UAPI_DIR}/linux/iommufd.h" COPYONLY)
  set(CMAKE_REQUIRED_INCLUDES "${ODPT_IOMMUFD_UAPI_DIR}")
  message(STATUS "iommufd: using ${_odpt_ksrc}/include/uapi/linux/iommufd.h (the system's lacks fault queues or MAP_FILE)")
endif()

odpt_iommufd_check(ODPT_HAVE_IOMMUFD "int x = IOMMU_IOAS_ALLOC + IOMMU_IOAS_MAP + IOMMU_IOAS_IOVA_RANGES + IOMMU_OPTION + IOMMU_GET_HW_INFO; (void)x")
odpt_iommufd_check(ODPT_HAVE_IOMMUFD_FAULT "int x = IOMMU_FAULT_QUEUE_ALLOC + IOMMU_HWPT_FAULT_ID_VALID; struct iommu_hwpt_pgfault f; struct iommu_hwpt_page_response r; (void)x; (void)f; (void)r")
odpt_iommufd_check(ODPT_HAVE_IOMMUFD_MAP_FILE "int x = IOMMU_IOAS_MAP_FILE; (void)x")
check_c_source_compiles("#include <linux/vfio.h>\nint main(void){int x = VFIO_DEVICE_BIND_IOMMUFD + VFIO_DEVICE_ATTACH_IOMMUFD_PT; (void)x; return 0;}"
  ODPT_HAVE_VFIO_CDEV)
if(ODPT_IOMMUFD_TEST_HEADER AND ODPT_HAVE_IOMMUFD)
  check_c_source_compiles("#include \"${ODPT_IOMMUFD_TEST_HEADER}\"\nint main(void){struct iommu_test_cmd c = { .op = IOMMU_TEST_OP_TRIGGER_IOPF }; (void)c; return IOMMU_TEST_CMD == 0;}"
    ODPT_HAVE_IOMMUFD_MOCK)
  if(NOT ODPT_HAVE_IOMMUFD_MOCK)
    message(FATAL_ERROR "ODPT_IOMMUFD_TEST_H: ${ODPT_IOMMUFD_TEST_HEADER} does not compile against the iommufd uAPI header in use")
  endif()
  set(ODPT_IOMMUFD_MOCK_HEADER "${ODPT_IOMMUFD_TEST_HEADER}")
endif()
unset(CMAKE_REQUIRED_INCLUDES)
