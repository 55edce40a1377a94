# Runs `calor info` (CALOR) as it is and with OpenMP's thread binding on, and fails unless both
# default to the same number of threads: the runtime binds the initial thread to one place as
# the program starts, which must not read as a process allowed one CPU.
function(default_threads out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE text TIMEOUT 120)
  if(NOT status EQUAL 0 OR NOT text MATCHES "threads +([0-9]+) by default")
    message(FATAL_ERROR "calor info failed (${status}) or named no default threads:\n${text}")
  endif()
  set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()
default_threads(plain ${CALOR} info)
foreach(bind close spread true)
  default_threads(bound ${CMAKE_COMMAND} -E env OMP_PROC_BIND=${bind} ${CALOR} info)
  if(NOT bound EQUAL plain)
    message(FATAL_ERROR "OMP_PROC_BIND=${bind}: ${bound} threads by default, ${plain} without")
  endif()
endforeach()
message(STATUS "${plain} threads by default, bound or not")
