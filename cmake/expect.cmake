# cmake -DCMD="prog;args" -DEXPECT_RC=n [-DEXPECT_STDERR=re] [-DREJECT_STDERR=re] [-DEXPECT_STDOUT=re]
#       [-DABSENT=file]
#       -P expect.cmake
# Passes only when the exit code is exactly EXPECT_RC (a crash never matches), the streams match
# their regular expressions, and ABSENT (a file the command must not leave behind) is missing.
if(ABSENT)
  file(REMOVE "${ABSENT}")
endif()
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got '${rc}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(EXPECT_STDERR AND NOT err MATCHES "${EXPECT_STDERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR}':\n${err}")
endif()
if(REJECT_STDERR AND err MATCHES "${REJECT_STDERR}")
  message(FATAL_ERROR "stderr matches '${REJECT_STDERR}', which it must not:\n${err}")
endif()
if(EXPECT_STDOUT AND NOT out MATCHES "${EXPECT_STDOUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_STDOUT}':\n${out}")
endif()
if(ABSENT AND EXISTS "${ABSENT}")
  message(FATAL_ERROR "'${ABSENT}' was left behind")
endif()
message(STATUS "ok: rc=${rc}")
