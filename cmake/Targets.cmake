# Helpers that give every Sluice target the same flags: C++20, warnings as errors (on our
# own targets only), sanitizers per preset, and one shared precompiled header for the
# heavy Boost/standard headers so each translation unit does not re-parse Asio.

add_library(sluice_options INTERFACE)
target_compile_options(sluice_options INTERFACE -Wall -Wextra -Wpedantic -Werror
  -Wno-missing-field-initializers)
# Asio recycles coroutine frames and handler memory through a per-thread cache of 2 blocks by
# default; a request passes through more nested coroutines than that, so every request
# paid several malloc/free pairs. 16 slots keep the steady state allocation-free.
target_compile_definitions(sluice_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE BOOST_JSON_NO_LIB BOOST_URL_NO_LIB
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=16)
target_include_directories(sluice_options INTERFACE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
# Every target sees the same Boost usage requirements, so the shared PCH stays valid; the
# PCH includes Asio's SSL support, so every target links OpenSSL.
target_link_libraries(sluice_options INTERFACE Boost::headers Boost::json Boost::url
  OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # ccache can only cache translation units built with a precompiled header when the
  # compiler records the header in its preprocessed output.
  target_compile_options(sluice_options INTERFACE -fpch-preprocess)
endif()
if(SLUICE_SANITIZE)
  target_compile_options(sluice_options INTERFACE -fsanitize=${SLUICE_SANITIZE}
    -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(sluice_options INTERFACE -fsanitize=${SLUICE_SANITIZE})
endif()
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  target_compile_options(sluice_options INTERFACE -O2 -fno-plt)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  # With optimisation GCC 12 reports Asio's recycled coroutine frames as mismatched (their
  # operator new may return aligned_alloc memory, which their operator delete std::free()s):
  # a false positive that broke optimised builds. Debug builds keep the warning.
  target_compile_options(sluice_options INTERFACE -Wno-mismatched-new-delete)
  # GCC 12's -O2 flow analysis also reports std::string concatenations in libstdc++ as
  # out-of-bounds copies (GCC bug 105651): reported as warnings, not errors, so the
  # Release build `make run` uses cannot be broken by them.
  target_compile_options(sluice_options INTERFACE -Wno-error=array-bounds
    -Wno-error=stringop-overflow -Wno-error=stringop-overread -Wno-error=restrict)
endif()

# The precompiled header is built once into this object library and reused by all targets.
add_library(sluice_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cc)
target_link_libraries(sluice_pch PUBLIC sluice_options)
target_precompile_headers(sluice_pch PUBLIC
  <algorithm> <chrono> <cstdint> <functional> <memory> <optional> <string> <string_view>
  <vector> <boost/asio.hpp> <boost/asio/ssl.hpp> <boost/json.hpp>)

# sluice_library(NAME SOURCES ... DEPS ...): one static library per component.
function(sluice_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC sluice_options ${ARG_DEPS})
  target_precompile_headers(${name} REUSE_FROM sluice_pch)
endfunction()

# sluice_executable(NAME SOURCES ... DEPS ...)
function(sluice_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE sluice_options ${ARG_DEPS})
  target_precompile_headers(${name} REUSE_FROM sluice_pch)
endfunction()

# sluice_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
function(sluice_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE sluice_options ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_precompile_headers(${name} REUSE_FROM sluice_pch)
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 120)
endfunction()
