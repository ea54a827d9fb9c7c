# Third-party dependencies, all from Debian 12 packages (scripts/deps.sh installs them).
find_package(Threads REQUIRED)
find_package(spdlog REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)  # TLS (libssl-dev)
# hiredis (libhiredis-dev, 0.14 on Debian 12): the cluster's Redis client. No CMake config file.
find_package(PkgConfig REQUIRED)
pkg_check_modules(hiredis REQUIRED IMPORTED_TARGET hiredis)

# Asio ships no CMake config file: find its header and wrap it in an interface target.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
if(NOT TARGET simul::asio_headers)
  add_library(simul_asio_headers INTERFACE)
  add_library(simul::asio_headers ALIAS simul_asio_headers)
  target_include_directories(simul_asio_headers SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
  # Asio is compiled once per component (asio_impl.cpp) instead of in every translation unit.
  # Asio 1.22 decides on aligned_alloc from a libstdc++ macro that is only defined if a standard
  # header came first, so translation units could disagree (an ODR violation ASan reports as
  # malloc/delete mismatch): one answer for all of them.
  target_compile_definitions(simul_asio_headers INTERFACE ASIO_STANDALONE ASIO_SEPARATE_COMPILATION
                                                           ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC)
  target_link_libraries(simul_asio_headers INTERFACE Threads::Threads)
  # Experiment (docs/BENCHMARKS.md): Asio's io_uring backend instead of epoll (liburing-dev).
  option(SIMUL_IO_URING "Build Asio with its io_uring backend instead of epoll (experiment)" OFF)
  if(SIMUL_IO_URING)
    target_compile_definitions(simul_asio_headers INTERFACE ASIO_HAS_IO_URING ASIO_DISABLE_EPOLL)
    target_link_libraries(simul_asio_headers INTERFACE uring)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Asio 1.22 enables co_await under clang only with libc++ (<experimental/coroutine>); clang
    # with Debian's libstdc++ has <coroutine>, which Asio then uses. (The fuzz build is clang.)
    target_compile_definitions(simul_asio_headers INTERFACE ASIO_HAS_CO_AWAIT=1)
  endif()
endif()

if(SIMUL_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
