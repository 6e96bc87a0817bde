# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The layer check must be able to fail: run it on the fixture tree, whose
# src/lib/low/low.c includes a header of a layer it did not declare, and
# require exit 1, that violation named by file:line, and no other.
# Run by ctest with -DPYTHON=... -DCHECK=... -DFIXTURE=...
cmake_minimum_required(VERSION 3.20)
execute_process(COMMAND ${PYTHON} ${CHECK} --map ${FIXTURE}/layers.json --root ${FIXTURE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
set(want "src/lib/low/low.c:5: low includes \"odpt/high.h\", a header of layer high, which low does not declare")
string(FIND "${out}" "${want}" at)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "layer check on the fixture exited ${rc}, want 1")
elseif(at EQUAL -1)
  message(FATAL_ERROR "layer check did not report: ${want}")
elseif(NOT out MATCHES "1 violation\n")
  message(FATAL_ERROR "layer check reported other violations than the deliberate one")
endif()
