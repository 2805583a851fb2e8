# Tests run with OMP_WAIT_POLICY=passive: spinning idle threads make tests that change thread
# counts often take seconds on a loaded 2-core machine, and tests never measure speed.
# Test helpers. Each test program holds named cases ({"name", case_fn} in its table); every case
# becomes its own CTest test, so a failure names the case.
set(PK_MPI_TEST_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
                    OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none)

function(pk_test_cases source out)
  file(STRINGS ${source} lines REGEX "{\"[a-z0-9_]+\", *case_")
  set(names)
  foreach(line IN LISTS lines)
    string(REGEX MATCH "{\"([a-z0-9_]+)\"" _ "${line}")
    list(APPEND names ${CMAKE_MATCH_1})
  endforeach()
  set(${out} ${names} PARENT_SCOPE)
endfunction()

# pk_add_test(NAME SOURCE LIBS libs... LABELS labels... [TIMEOUT s])
function(pk_add_test name)
  cmake_parse_arguments(T "" "SOURCE;TIMEOUT" "LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${name} ${T_SOURCE})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  pk_target_defaults(${name})
  pk_test_cases(${CMAKE_CURRENT_SOURCE_DIR}/${T_SOURCE} cases)
  foreach(c IN LISTS cases)
    add_test(NAME ${name}.${c} COMMAND ${name} ${c})
    set_tests_properties(${name}.${c} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                         SKIP_RETURN_CODE 77 ENVIRONMENT "OMP_NUM_THREADS=2;OMP_WAIT_POLICY=passive")
  endforeach()
endfunction()

# pk_add_mpi_test(NAME SOURCE LIBS ... NP 1 2 3 ...): each case at each rank count, label mpi.
function(pk_add_mpi_test name)
  cmake_parse_arguments(T "" "SOURCE" "LIBS;NP" ${ARGN})
  add_executable(${name} ${T_SOURCE})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  pk_target_defaults(${name})
  pk_test_cases(${CMAKE_CURRENT_SOURCE_DIR}/${T_SOURCE} cases)
  foreach(np IN LISTS T_NP)
    foreach(c IN LISTS cases)
      add_test(NAME ${name}.${c}.np${np}
               COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} ${MPIEXEC_PREFLAGS}
                       $<TARGET_FILE:${name}> ${MPIEXEC_POSTFLAGS} ${c})
      set_tests_properties(${name}.${c}.np${np} PROPERTIES LABELS mpi PROCESSORS 2 TIMEOUT 60
                           ENVIRONMENT "${PK_MPI_TEST_ENV};OMP_NUM_THREADS=1;OMP_WAIT_POLICY=passive")
    endforeach()
  endforeach()
endfunction()

# pk_add_cli_test(NAME RC code [STDERR re] [NOT_STDERR re] [STDOUT re] [ABSENT file] [NP n] ARGS ...):
# runs parkit (under mpiexec with NP) and checks the exit code and messages exactly.
function(pk_add_cli_test name)
  cmake_parse_arguments(T "" "RC;STDERR;NOT_STDERR;STDOUT;ABSENT;NP;TIMEOUT" "ARGS;ENV" ${ARGN})
  set(cmd $<TARGET_FILE:parkit> ${T_ARGS})
  set(labels cli)
  set(env "${T_ENV}")
  if(T_NP)
    set(cmd ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${T_NP} ${MPIEXEC_PREFLAGS} ${cmd})
    list(APPEND labels mpi)
    list(APPEND env ${PK_MPI_TEST_ENV})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_test(NAME cli.${name}
           COMMAND ${CMAKE_COMMAND} "-DCMD=${cmd}" "-DEXPECT_RC=${T_RC}"
                   "-DEXPECT_STDERR=${T_STDERR}" "-DREJECT_STDERR=${T_NOT_STDERR}" "-DEXPECT_STDOUT=${T_STDOUT}"
                   "-DABSENT=${T_ABSENT}" -P ${PROJECT_SOURCE_DIR}/cmake/expect.cmake
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(cli.${name} PROPERTIES LABELS "${labels}" TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "${env}")
  if(T_RC EQUAL 2) # a usage error: labelled at the end (pk_label_usage_tests), after any
    set_property(DIRECTORY APPEND PROPERTY PK_USAGE_TESTS cli.${name}) # LABELS set later
  endif()
  if(T_NP)
    set_tests_properties(cli.${name} PROPERTIES PROCESSORS 2)
  endif()
endfunction()

# Adds the label usage to every pk_add_cli_test of this directory expecting exit 2 (a usage
# error), once every test is declared: set_tests_properties(... LABELS ...) after the
# declaration would drop it. ASan leaves them out: they exercise the option tables, which
# test_opt covers instrumented. (tests/hostile does not call it: bad input stays under ASan.)
function(pk_label_usage_tests)
  get_property(tests DIRECTORY PROPERTY PK_USAGE_TESTS)
  if(tests)
    set_property(TEST ${tests} APPEND PROPERTY LABELS usage)
  endif()
endfunction()
