# Finds every third-party dependency; all come from Debian packages (see
# scripts/install-deps). Nothing is downloaded at build time.
find_package(Threads REQUIRED)
# Static Boost libraries: no DYN_LINK definitions differing between targets (which would
# invalidate the shared precompiled header) and binaries that need no Boost .so files.
set(Boost_USE_STATIC_LIBS ON)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json url system)
find_package(OpenSSL 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
# libsodium (argon2id password hashing) ships no CMake config in Debian.
find_path(SODIUM_INCLUDE_DIR sodium.h REQUIRED)
find_library(SODIUM_LIBRARY sodium REQUIRED)
add_library(sodium UNKNOWN IMPORTED)
set_target_properties(sodium PROPERTIES IMPORTED_LOCATION ${SODIUM_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${SODIUM_INCLUDE_DIR})
# hiredis (only its RESP reader is used, by src/store/redis) ships a pkg-config file.
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
if(SLUICE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SLUICE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
