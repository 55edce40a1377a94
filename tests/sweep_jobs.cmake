# `calor sweep --jobs J` runs each member in a process of its own; its table must be the
# in-process one (--jobs 1) bit for bit: the CSV's 17-digit statistics, every column but the
# seconds. Run with -DCALOR=... -DSWEEP=... -DOUT=... -DJOBS=...
foreach(jobs 1 ${JOBS})
  execute_process(COMMAND ${CALOR} sweep ${SWEEP} --no-progress --jobs ${jobs}
                          --csv ${OUT}/sweep_jobs${jobs}.csv
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "calor sweep --jobs ${jobs}: exit ${status}\n${out}\n${err}")
  endif()
  file(STRINGS ${OUT}/sweep_jobs${jobs}.csv lines)
  set(table "")
  foreach(line IN LISTS lines)
    # member,settings...,heat,min,max,l2,steps,seconds,status,error: drop the seconds.
    string(REGEX REPLACE ",[^,]*,(ok|failed|status)," ",\\1," line "${line}")
    list(APPEND table "${line}")
  endforeach()
  set(table_${jobs} "${table}")
endforeach()
list(LENGTH table_1 rows)
if(rows LESS 3)
  message(FATAL_ERROR "the sweep's table has ${rows} lines:\n${table_1}")
endif()
if(NOT table_1 STREQUAL table_${JOBS})
  message(FATAL_ERROR "--jobs ${JOBS} differs from --jobs 1:\n${table_1}\n---\n${table_${JOBS}}")
endif()
message(STATUS "--jobs ${JOBS}: ${rows} lines, the same bits as --jobs 1")
