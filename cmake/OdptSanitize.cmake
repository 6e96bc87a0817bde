# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# ODPT_SANITIZE=address,undefined adds -fsanitize to every target.
if(ODPT_SANITIZE)
  add_compile_options(-fsanitize=${ODPT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ODPT_SANITIZE})
endif()
