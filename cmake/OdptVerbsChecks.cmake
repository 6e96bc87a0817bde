# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Newer verbs symbols are detected by compiling against the installed
# headers, never guessed from a version number (rdma-core 44 lacks FLUSH and
# ibv_reg_mr_ex; 56 has them).
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_INCLUDES ${IBVERBS_INCLUDE_DIRS})
set(CMAKE_REQUIRED_LIBRARIES ${IBVERBS_LINK_LIBRARIES})
macro(odpt_verbs_check var src)
  check_c_source_compiles("#include <infiniband/verbs.h>\nint main(void){${src}; return 0;}" ${var})
endmacro()
odpt_verbs_check(ODPT_HAVE_WR_FLUSH        "int x = IBV_WR_FLUSH; (void)x")
odpt_verbs_check(ODPT_HAVE_FLUSH_CAPS      "int x = IBV_QP_EX_WITH_FLUSH | IBV_ACCESS_FLUSH_GLOBAL; (void)x")
odpt_verbs_check(ODPT_HAVE_WR_ATOMIC_WRITE "int x = IBV_WR_ATOMIC_WRITE | IBV_QP_EX_WITH_ATOMIC_WRITE; (void)x")
odpt_verbs_check(ODPT_HAVE_ATOMIC_WRITE_POST "struct ibv_qp_ex *q = 0; ibv_wr_atomic_write(q, 0, 0, 0)")
odpt_verbs_check(ODPT_HAVE_REG_MR_EX       "struct ibv_mr_init_attr a = {0}; ibv_reg_mr_ex(0, &a)")
odpt_verbs_check(ODPT_HAVE_ADVISE_MR       "enum ibv_advise_mr_advice a = IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT; (void)a")
odpt_verbs_check(ODPT_HAVE_ODP_FLUSH_CAP   "int x = IBV_ODP_SUPPORT_FLUSH | IBV_ODP_SUPPORT_ATOMIC_WRITE; (void)x")
odpt_verbs_check(ODPT_HAVE_QUERY_DEVICE_EX "struct ibv_device_attr_ex a; ibv_query_device_ex(0, 0, &a)")
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_LIBRARIES)
