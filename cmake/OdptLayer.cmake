# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The layers of libodpt as build facts. odpt_layer() makes one static
# library per layer (odpt_<name>), linked to exactly the layers it declares,
# and records the layer in the layer map that tools/check_layers.py reads
# (ctest layer_check): which directory is the layer's, which headers are its
# public ones, which layers it may include from.
#
#   odpt_layer(<name> [DEPS <layer>...] [HEADERS <include/odpt/x.h>...]
#              [OWNS_SYSTEM <prefix>...] [LIBS <target>...])
#
# Called from src/lib/CMakeLists.txt; does nothing when
# src/lib/<name>/CMakeLists.txt does not exist. A layer may depend only on
# layers declared before it, so the layers cannot form a cycle. HEADERS
# defaults to include/odpt/<name>.h when that exists. OWNS_SYSTEM names
# system header prefixes only this layer may include (verbs: infiniband/).
# LIBS are external libraries (PRIVATE: no public header includes theirs).
# The layer's own directory is a PRIVATE include directory: its internal
# headers (report_int.h, rig.h, ...) are invisible to every other target.
# The layer's CMakeLists.txt adds its sources, one line per source:
#
#   target_sources(odpt_<name> PRIVATE file.c)
#
# odpt_layer_client() records a non-library directory (the CLI, the kernel
# module, the lab's shim test) in the same map with the layers it may use;
# odpt_layer_map_write() writes the map as JSON (at generate time: it names
# each layer's archive, which the check's symbol pass reads with nm).

define_property(GLOBAL PROPERTY ODPT_LAYER_MAP
  BRIEF_DOCS "odpt layer map entries" FULL_DOCS "JSON objects, one per layer or client")

function(odpt_layer_json_list out)
  set(items "")
  foreach(v ${ARGN})
    list(APPEND items "\"${v}\"")
  endforeach()
  list(JOIN items ", " joined)
  set(${out} "[${joined}]" PARENT_SCOPE)
endfunction()

# Append one entry to the map; paths relative to the source tree. archive:
# the layer's static library (a generator expression), "" for others.
function(odpt_layer_record name kind dir headers deps include_dirs owns_system archive)
  odpt_layer_json_list(h ${headers})
  odpt_layer_json_list(d ${deps})
  odpt_layer_json_list(i ${include_dirs})
  odpt_layer_json_list(o ${owns_system})
  set_property(GLOBAL APPEND PROPERTY ODPT_LAYER_MAP
    "{\"name\": \"${name}\", \"kind\": \"${kind}\", \"dir\": \"${dir}\", \"headers\": ${h}, \"deps\": ${d}, \"include_dirs\": ${i}, \"owns_system\": ${o}, \"archive\": \"${archive}\"}")
endfunction()

function(odpt_layer name)
  cmake_parse_arguments(L "" "" "DEPS;HEADERS;OWNS_SYSTEM;LIBS" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${name})
  if(NOT EXISTS ${dir}/CMakeLists.txt)
    return()
  endif()
  set(tgt odpt_${name})
  set(deps "")
  foreach(d ${L_DEPS})
    if(d STREQUAL "uapi")
      continue()   # headers only (odpt_layer_headers), no library
    endif()
    if(NOT TARGET odpt_${d})
      message(FATAL_ERROR "odpt layer ${name}: depends on '${d}', which is not a layer declared before it")
    endif()
    list(APPEND deps odpt_${d})
  endforeach()
  if(NOT L_HEADERS AND EXISTS ${PROJECT_SOURCE_DIR}/include/odpt/${name}.h)
    set(L_HEADERS include/odpt/${name}.h)
  endif()

  add_library(${tgt} STATIC)
  # PIC so the public layers can go into libodpt.so; hidden so only
  # ODPT_API symbols are exported from it.
  set_target_properties(${tgt} PROPERTIES POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden)
  target_include_directories(${tgt} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}
    PRIVATE ${dir})
  target_link_libraries(${tgt} PUBLIC ${deps} PRIVATE ${L_LIBS} odpt_warnings)
  add_subdirectory(${name})

  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  odpt_layer_record(${name} layer ${rel} "${L_HEADERS}" "${L_DEPS}" include "${L_OWNS_SYSTEM}"
    "$<TARGET_FILE:${tgt}>")
  set_property(GLOBAL APPEND PROPERTY ODPT_LAYERS ${name})
  set_property(GLOBAL PROPERTY ODPT_LAYER_HEADERS_${name} ${L_HEADERS})
endfunction()

# The layers that exist in this tree, in declaration order (bottom first).
function(odpt_layers_get out)
  get_property(l GLOBAL PROPERTY ODPT_LAYERS)
  set(${out} ${l} PARENT_SCOPE)
endfunction()

# odpt_layer_client(<name> DIR <dir> [LAYERS <layer>...] [INCLUDE_DIRS <dir>...])
function(odpt_layer_client name)
  cmake_parse_arguments(C "" "DIR" "LAYERS;INCLUDE_DIRS" ${ARGN})
  if(NOT C_INCLUDE_DIRS)
    set(C_INCLUDE_DIRS include)
  endif()
  odpt_layer_record(${name} client ${C_DIR} "" "${C_LAYERS}" "${C_INCLUDE_DIRS}" "" "")
endfunction()

# Headers without a library (include/uapi/: the module's ioctls and
# histogram layout), includable by whoever declares <name>.
function(odpt_layer_headers name)
  cmake_parse_arguments(H "" "" "HEADERS" ${ARGN})
  odpt_layer_record(${name} headers "" "${H_HEADERS}" "" "" "" "")
endfunction()

function(odpt_layer_map_write path)
  get_property(entries GLOBAL PROPERTY ODPT_LAYER_MAP)
  list(JOIN entries ",\n  " body)
  file(GENERATE OUTPUT ${path} CONTENT "{\"layers\": [\n  ${body}\n]}\n")
endfunction()
