# cmake -P run.cmake: installs calor's build tree into a fresh prefix, checks that the installed
# package carries no build-only flags, then configures, builds and runs tests/consumer against it.
# -D arguments: BUILD_DIR (calor's build), WORK_DIR (scratch, emptied first), GENERATOR,
# CXX_COMPILER, BUILD_TYPE, SAN_FLAGS (the sanitizer flags calor was built with, or empty).
cmake_minimum_required(VERSION 3.25)
foreach(var BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER BUILD_TYPE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake needs -D${var}=...")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

function(step what)
  message(STATUS "consumer: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAIL: ${what} (exit ${rc})")
  endif()
endfunction()

step("install ${BUILD_DIR} into ${prefix}"
     ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The package's usage requirements: no -march=native, warnings, sanitizers or CALOR_HAVE_*.
file(GLOB_RECURSE package_files ${prefix}/*/calorConfig.cmake ${prefix}/*/calorTargets*.cmake)
if(NOT package_files)
  message(FATAL_ERROR "FAIL: no calorConfig.cmake / calorTargets.cmake under ${prefix}")
endif()
foreach(f IN LISTS package_files)
  file(READ ${f} text)
  foreach(bad "-march=" "-W[a-z]" "-fsanitize" "-ffp-contract" "calor_flags" "CALOR_HAVE_")
    if(text MATCHES "${bad}")
      message(FATAL_ERROR "FAIL: ${f} carries a build-only flag or definition (${bad})")
    endif()
  endforeach()
endforeach()
foreach(header calor/run.hpp calor/config.hpp calor/version.hpp)
  file(GLOB_RECURSE found ${prefix}/*/${header})
  if(NOT found)
    message(FATAL_ERROR "FAIL: ${header} was not installed under ${prefix}")
  endif()
endforeach()

# A calor built with sanitizers needs their runtime at link time: the consumer is then built as
# a sanitized program too (the package itself never imposes sanitizer flags).
step("configure the consumer"
     ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR} -B ${consumer_build} -G ${GENERATOR}
     -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
     -DCMAKE_PREFIX_PATH=${prefix} "-DCMAKE_CXX_FLAGS=${SAN_FLAGS}"
     "-DCMAKE_EXE_LINKER_FLAGS=${SAN_FLAGS}")
step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build})
step("run the consumer" ${consumer_build}/calor_consumer)
