# Inputs, bounds and messages (issue 18): inputs.sh scenarios, then one-line cases. Every case
# failed before its fix.
foreach(s IN ITEMS jpeg_corrupt record_bytes seed_u64 special_zero_size long_lines fifo messages values
               factsum_oom)
  add_test(NAME hostile.inputs_${s}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/inputs.sh $<TARGET_FILE:parkit> ${s} "${PK_SANITIZE}")
  set_tests_properties(hostile.inputs_${s} PROPERTIES LABELS hostile TIMEOUT 60 SKIP_RETURN_CODE 77
                       ENVIRONMENT "OMP_NUM_THREADS=2;OMP_WAIT_POLICY=passive")
endforeach()

# pk_add_cli_test labelled hostile as well
function(pk_hostile_cli name)
  pk_add_cli_test(${name} ${ARGN})
  set_property(TEST cli.${name} APPEND PROPERTY LABELS hostile)
endfunction()

# numbers that wrapped or were cut short, and a preset that dropped what was asked
if(PK_HAVE_IMAGES)
  pk_hostile_cli(hostile_resize_size_wraps RC 2 STDERR "--size expects WxH .*'4294967306x10'"
                 ARGS resize x.jpg --out hostile_rs --size 4294967306x10)
endif()
pk_hostile_cli(hostile_api_latency_tail RC 2 STDERR "--latency expects .*'fixed:2\\^64'"
               ARGS api --latency fixed:2^64)
pk_hostile_cli(hostile_api_preset_tasks RC 2 STDERR "--preset stores sets --tasks itself"
               ARGS api --preset stores --tasks 10)
pk_hostile_cli(hostile_api_preset_fail_rate RC 2 STDERR "--preset health sets --fail-rate itself"
               ARGS api --preset health --fail-rate 0.5)

# fetch's file names (io/http.c): linear de-duplication, 100,000 equal names within the timeout
if(PK_HAVE_CURL)
  pk_add_test(test_http_names SOURCE ../io/test_http_names.c LIBS parkit::io LABELS hostile io
              TIMEOUT 60)
endif()
