# Runs COMMAND (a ;-list) and fails unless it exits with status EXPECT and, when MATCH is given,
# its stderr matches MATCH: the exit statuses of `calor` are a contract (README, calor --help).
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status ERROR_VARIABLE err OUTPUT_QUIET
                TIMEOUT 120)
if(NOT status STREQUAL "${EXPECT}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT}: ${COMMAND}\n${err}")
endif()
if(MATCH AND NOT err MATCHES "${MATCH}")
  message(FATAL_ERROR "stderr does not match '${MATCH}':\n${err}")
endif()
message(STATUS "exit status ${status} as expected")
