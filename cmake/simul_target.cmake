# Per-target build settings: warnings, sanitizers, language level. Never global CMAKE_CXX_FLAGS.
option(SIMUL_BUILD_TESTS "Build the test suites" ON)
option(SIMUL_WERROR "Treat compiler warnings as errors" OFF)
set(SIMUL_SANITIZE "" CACHE STRING "Sanitizers: empty, 'address,undefined' or 'thread'")
# The libFuzzer build (make fuzz): clang, every target instrumented for coverage with ASan+UBSan,
# and only the fuzz targets of tests/fuzz built. The normal build replays their corpora instead.
option(SIMUL_FUZZ "Build the libFuzzer targets (clang only)" OFF)
if(SIMUL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SIMUL_FUZZ needs clang: configure with CC=clang CXX=clang++ (make fuzz does)")
  endif()
  if(NOT SIMUL_SANITIZE)
    set(SIMUL_SANITIZE "address,undefined" CACHE STRING "" FORCE)
  endif()
endif()

# simul_target_defaults(<target>): C++20, -Wall -Wextra (and friends), sanitizers if asked.
function(simul_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra>
    $<$<BOOL:${SIMUL_WERROR}>:-Werror>)
  simul_target_sanitizers(${target})
endfunction()

# simul_target_sanitizers(<target>): adds -fsanitize=${SIMUL_SANITIZE} to compile and link.
function(simul_target_sanitizers target)
  if(SIMUL_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=${SIMUL_SANITIZE} -fno-omit-frame-pointer
                                            -fno-sanitize-recover=undefined)
    target_link_options(${target} PUBLIC -fsanitize=${SIMUL_SANITIZE})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND SIMUL_SANITIZE MATCHES "undefined")
      # clang 14's -fsanitize=function cannot compile coroutines ("Cannot represent a difference
      # across sections"); it only checks calls through mistyped function pointers.
      target_compile_options(${target} PUBLIC -fno-sanitize=function)
    endif()
    if(SIMUL_FUZZ)
      # Coverage feedback for libFuzzer in every library it drives; the fuzz targets themselves
      # link the fuzzer's main with -fsanitize=fuzzer (tests/fuzz/CMakeLists.txt).
      target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
    endif()
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      return()
    endif()
    # GCC 12 false positives once sanitizers change inlining: Asio's coroutine frame allocator
    # looks like a new/delete mismatch, and <regex> internals look uninitialized.
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wno-mismatched-new-delete -Wno-maybe-uninitialized>)
    if(SIMUL_SANITIZE MATCHES "thread")
      # TSan does not model std::atomic_thread_fence, which Asio uses; GCC says so on every use.
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-tsan>)
    endif()
  endif()
endfunction()
