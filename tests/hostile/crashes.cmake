# Crashes and memory (tests/hostile/crashes.sh): whole-request memory estimates, a budget that
# honours ulimit -v and the memory cgroup (refused with exit 2 naming the figures), and
# transform's file pipeline run again and again (under ASan in the asan stage).
set(_pk_crash_cases ulimit_array ulimit_factsum cgroup many_marks)
if(PK_HAVE_SLEEF)
  list(APPEND _pk_crash_cases pipeline_stress)
endif()
foreach(c IN LISTS _pk_crash_cases)
  add_test(NAME hostile.${c}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/crashes.sh $<TARGET_FILE:parkit> "${PK_SANITIZE}" ${c})
  set_tests_properties(hostile.${c} PROPERTIES LABELS "hostile;cli" TIMEOUT 120
                       SKIP_RETURN_CODE 77)
endforeach()
if(TEST hostile.pipeline_stress) # 13 s: started first (tests/CMakeLists.txt, end)
  set_tests_properties(hostile.pipeline_stress PROPERTIES COST 13)
endif()
if(PK_HAVE_IMAGES)
  # the outputs in flight are held to the memory budget (65535x65535 --exact reached 6.3 GB)
  pk_add_cli_test(hostile_resize_output_budget RC 2
                  STDERR "--size 65535x65535 on 2 workers needs about 206 GB \\(estimate\\), more than the [0-9.]+ GB"
                  ARGS resize x --out o --size 65535x65535 --exact --workers 2)
  set_tests_properties(cli.hostile_resize_output_budget PROPERTIES LABELS "hostile;cli")
endif()
