# Compiler flags shared by the addon, the core library, tests and micro-benchmarks.
# binding.gyp mirrors these (cflags_cc).
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
set(SERVAL_CXX_FLAGS -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden)
set(CMAKE_CXX_FLAGS_RELEASE "-O3 -DNDEBUG")

# SERVAL_SANITIZE = address | thread | "" (tests only).
set(SERVAL_SANITIZE "" CACHE STRING "Build tests with a sanitizer: address or thread")
if(SERVAL_SANITIZE)
  add_compile_options(-fsanitize=${SERVAL_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SERVAL_SANITIZE})
endif()
